//! Storage as use cases: the traits every backend implements (tenants, keys, messages,
//! dispatch, contacts, templates, webhooks, files and exports, the console; `Store` is
//! all of them),
//! the row models they speak in, the closed [`StoreError`] set, and (feature
//! `conformance`) the one suite that every backend must pass.
//!
//! Trait methods name what the domain needs ("accept these outbound messages", "claim
//! due dispatch work"), never tables. The traits and models carry no SQL; the SQL both
//! dialects share sits behind the `sql-rows` feature (`*_rows.rs`, generic over sqlx's
//! `Database`), used by the backend crates only (issue 23 moves it out of this crate).

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

#[cfg(feature = "sql-rows")]
/// Runs a statement built in the same expression. (A statement cannot be handed to a
/// generic function: its arguments would have to outlive the text they are run with.)
macro_rules! execute {
    ($conn:expr, $statement:expr) => {{
        let (sql, args) = $statement.parts();
        sqlx::query_with(&sql, args)
            .execute(&mut *$conn)
            .await
            .map_err(crate::rows::db_error)?;
    }};
}

#[cfg(feature = "sql-rows")]
/// Fetches the rows of a statement built in the same expression, as models.
macro_rules! fetch {
    ($row:ty, $conn:expr, $statement:expr) => {{
        let (sql, args) = $statement.parts();
        sqlx::query_as_with::<_, $row, _>(&sql, args)
            .fetch_all(&mut *$conn)
            .await
            .map_err(crate::rows::db_error)?
            .into_iter()
            .map(<$row>::into_model)
            .collect::<StoreResult<Vec<_>>>()?
    }};
}

#[cfg(feature = "sql-rows")]
/// Fetches the rows of a statement built in the same function, as tuples or `FromRow`s.
macro_rules! fetch_as {
    ($row:ty, $conn:expr, $statement:expr) => {{
        let (sql, args) = $statement.parts();
        sqlx::query_as_with::<_, $row, _>(&sql, args)
            .fetch_all(&mut *$conn)
            .await
            .map_err(crate::rows::db_error)?
    }};
}

#[cfg(feature = "sql-rows")]
pub mod accept_group;
#[cfg(feature = "sql-rows")]
pub mod console_rows;
#[cfg(feature = "sql-rows")]
pub mod contact_rows;
#[cfg(feature = "sql-rows")]
pub mod event_rows;
#[cfg(feature = "sql-rows")]
pub mod file_rows;
#[cfg(feature = "sql-rows")]
pub mod job_rows;
#[cfg(feature = "sql-rows")]
pub mod log_rows;
#[cfg(feature = "sql-rows")]
pub mod pacing_rows;
#[cfg(feature = "sql-rows")]
pub mod pricing_rows;
#[cfg(feature = "sql-rows")]
pub mod rows;
#[cfg(feature = "sql-rows")]
pub mod template_rows;
#[cfg(feature = "sql-rows")]
pub mod webhook_rows;
