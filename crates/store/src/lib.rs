//! Storage as use cases: the traits every backend implements (`TenantStore`,
//! `ApiKeyStore`, `MessageStore`, `DispatchStore`), the row models they speak in, the
//! closed [`StoreError`] set, and (feature `conformance`) the one suite that every backend
//! must pass.
//!
//! Trait methods name what the domain needs ("accept these outbound messages", "claim
//! due dispatch work"), never tables. No SQL dialect, driver or HTTP type appears here.

mod error;
mod models;
mod status;
mod traits;

#[cfg(feature = "conformance")]
pub mod conformance;

pub use error::{StoreError, StoreResult};
pub use models::*;
pub use status::{MessageState, MessageStatus, StatusDetail};
pub use traits::*;

#[cfg(feature = "sql-rows")]
pub mod accept_group;
#[cfg(feature = "sql-rows")]
pub mod rows;
#[cfg(feature = "sql-rows")]
pub mod template_rows;
