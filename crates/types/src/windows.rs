//! WhatsApp's conversation windows (`reference/meta-cloud-api.md` §6.5): the durations
//! Parley records and the simulator enforces.

use chrono::Duration;

/// A user's message opens (or re-opens) the customer-service window for this long.
pub const SERVICE_WINDOW: Duration = Duration::hours(24);
/// A user who came from a click-to-WhatsApp ad or a page button must be answered this
/// soon…
pub const FREE_ENTRY_REPLY_WITHIN: Duration = Duration::hours(24);
/// …for everything sent to them to be free for this long from that reply (the free entry
/// point). It does not reset.
pub const FREE_ENTRY_LASTS: Duration = Duration::hours(72);
