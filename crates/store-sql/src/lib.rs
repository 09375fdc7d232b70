//! The SQL both storage backends run, written once: generic over sqlx's `Database`, with
//! a dialect-aware statement builder ([`accept_group::Statement`]) where placeholders or
//! syntax differ. Each `*_rows` module holds the row structs a table decodes into (and
//! their conversion to `parley_store` models) and, in `ops`, the operations behind the
//! store traits. The backend crates keep only what truly differs: connections, claiming
//! with `SKIP LOCKED`, notifications and the migrations.

// The models and traits, at this crate's root as they are at `parley_store`'s, so the
// modules name them as `crate::Message` whichever crate they live in.
use parley_store::*;

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

pub mod accept_group;
pub mod console_rows;
pub mod contact_rows;
pub mod event_rows;
pub mod file_rows;
pub mod job_rows;
pub mod log_rows;
pub mod pacing_rows;
pub mod pricing_rows;
pub mod rows;
pub mod template_rows;
pub mod webhook_rows;
