//! WhatsApp's rules for a user, as Parley records them: the rate card delivered messages
//! are charged by, the conversation windows, and the monthly usage report.

mod rate_card;
mod usage;
mod windows;

pub use rate_card::{CategoryRates, RateCard, VolumeTier, micros};
pub use usage::{UsageDimension, UsageQuery, UsageReport, UsageService};
pub use windows::{WindowState, window_state};
