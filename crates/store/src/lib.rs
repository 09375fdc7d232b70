//! Storage as use cases: the traits every backend implements (tenants, keys, messages,
//! dispatch, contacts, templates, webhooks, files and exports, the console; `Store` is
//! all of them),
//! the row models they speak in, the closed [`StoreError`] set, and (feature
//! `conformance`) the one suite that every backend must pass.
//!
//! Trait methods name what the domain needs ("accept these outbound messages", "claim
//! due dispatch work"), never tables. The traits and models carry no SQL and this crate
//! has no database dependency: the SQL both dialects share is `parley-store-sql`'s.

mod console;
mod error;
mod events;
mod files;
mod jobs;
mod models;
mod status;
mod traits;
mod webhooks;

#[cfg(feature = "conformance")]
pub mod conformance;
#[cfg(feature = "conformance")]
mod conformance_console;
#[cfg(feature = "conformance")]
mod conformance_events;
#[cfg(feature = "conformance")]
mod conformance_files;
#[cfg(feature = "conformance")]
mod conformance_jobs;

pub use console::*;
pub use error::{StoreError, StoreResult};
pub use events::*;
pub use files::*;
pub use jobs::*;
pub use models::*;
pub use status::{MessageState, MessageStatus, StatusDetail};
pub use traits::*;
pub use webhooks::*;
