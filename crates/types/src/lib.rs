//! Parley's vocabulary: typed identifiers, domain newtypes parsed at the edge
//! (`Msisdn`, `SubAccountId`), the injected [`Clock`], the 8x8 timestamp format
//! and the error-code tables shared by every surface.
//!
//! This crate depends on nothing else in the workspace and holds no I/O.

pub mod bucket;
pub mod channel_kind;
pub mod clock;
pub mod codes;
pub mod ids;
pub mod media;
pub mod msisdn;
pub mod template_status;
pub mod time;
pub mod windows;

pub use bucket::TokenBucket;
pub use channel_kind::ChannelKind;
pub use clock::{AdjustableClock, Clock, SharedClock, SystemClock};
pub use ids::{AccountId, ApiKeyId, ChannelId, ConsoleUserId, SubAccountId, Umid};
pub use msisdn::{Msisdn, MsisdnError};
pub use template_status::{OtherInfo, StatusNote};
