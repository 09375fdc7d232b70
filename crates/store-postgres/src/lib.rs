//! The PostgreSQL backend, for deployments where several Parley nodes share one database.
//! Dispatch work is claimed with `FOR UPDATE SKIP LOCKED` under leases, and duplicates are
//! settled by unique indexes (`ON CONFLICT`) instead of a read before the write, so nodes
//! racing on the same message agree on one outcome. Multi-step changes that SQLite makes
//! in a transaction are single statements here where the dialect allows (data-modifying
//! `WITH`), which are atomic and cost one round trip.
//!
//! Depends on `store` (traits and rows) and `types` only; no SQL leaves this crate.

mod dispatch;
mod messages;
mod tenants;

use std::time::Duration;

use async_trait::async_trait;
use parley_store::{Store, StoreError, StoreResult};
use sqlx::PgPool;
use sqlx::postgres::PgPoolOptions;

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");

/// How long a caller waits for a free connection before the store reports itself
/// unavailable.
const ACQUIRE_TIMEOUT: Duration = Duration::from_secs(10);

#[derive(Debug, Clone)]
pub struct PostgresStore {
    pool: PgPool,
}

impl PostgresStore {
    /// Connects with a pool of at most `max_connections` and applies migrations (several
    /// nodes starting at once are serialised by the migrator's advisory lock).
    pub async fn connect(url: &str, max_connections: u32) -> StoreResult<Self> {
        let pool = PgPoolOptions::new()
            .max_connections(max_connections)
            .acquire_timeout(ACQUIRE_TIMEOUT)
            .connect(url)
            .await
            .map_err(unavailable)?;
        let store = Self { pool };
        store.migrate().await?;
        Ok(store)
    }

    /// Applies the migrations this build embeds that the database lacks.
    pub async fn migrate(&self) -> StoreResult<()> {
        MIGRATOR
            .run(&self.pool)
            .await
            .map_err(|e| StoreError::Unavailable(e.to_string()))
    }

    /// Waits for checked-out connections to come back, then closes them all.
    pub async fn close(&self) {
        self.pool.close().await;
    }
}

#[async_trait]
impl Store for PostgresStore {
    fn backend_name(&self) -> &'static str {
        "postgres"
    }

    async fn ping(&self) -> StoreResult<()> {
        sqlx::query("SELECT 1")
            .execute(&self.pool)
            .await
            .map_err(db)?;
        Ok(())
    }
}

fn unavailable(e: sqlx::Error) -> StoreError {
    StoreError::Unavailable(e.to_string())
}

pub(crate) use parley_store::rows::db_error as db;
