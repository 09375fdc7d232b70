//! The PostgreSQL backend, for deployments where several Parley nodes share one database.
//! Dispatch work is claimed with `FOR UPDATE SKIP LOCKED` under leases, and duplicates are
//! settled by unique indexes (`ON CONFLICT`) instead of a read before the write, so nodes
//! racing on the same message agree on one outcome. Multi-step changes that SQLite makes
//! in a transaction are single statements here where the dialect allows (data-modifying
//! `WITH`), which are atomic and cost one round trip.
//!
//! Depends on `store` (traits and rows) and `types` only; no SQL leaves this crate.

mod console;
mod contacts;
mod dispatch;
mod events;
mod files;
mod jobs;
mod messages;
mod notify;
mod scheduled;
mod templates;
mod tenants;
mod webhooks;

use std::time::Duration;

pub use notify::DISPATCH_CHANNEL;

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
    /// Connects with a pool of at most `max_connections`. The schema is not touched: see
    /// [`Self::migrate`] and [`Self::pending_migrations`].
    pub async fn connect(url: &str, max_connections: u32) -> StoreResult<Self> {
        let pool = PgPoolOptions::new()
            .max_connections(max_connections)
            .acquire_timeout(ACQUIRE_TIMEOUT)
            .connect(url)
            .await
            .map_err(unavailable)?;
        Ok(Self { pool })
    }

    /// Applies the migrations this build embeds that the database lacks; yields how many.
    /// Several nodes migrating at once are serialised by the migrator's advisory lock.
    pub async fn migrate(&self) -> StoreResult<usize> {
        let before = self.pending_migrations().await?.len();
        MIGRATOR
            .run(&self.pool)
            .await
            .map_err(|e| StoreError::Unavailable(e.to_string()))?;
        Ok(before)
    }

    /// The versions of the migrations this build embeds that the database has not applied.
    pub async fn pending_migrations(&self) -> StoreResult<Vec<i64>> {
        let exists: bool = sqlx::query_scalar("SELECT to_regclass('_sqlx_migrations') IS NOT NULL")
            .fetch_one(&self.pool)
            .await
            .map_err(db)?;
        let applied: Vec<i64> = if exists {
            sqlx::query_scalar("SELECT version FROM _sqlx_migrations WHERE success")
                .fetch_all(&self.pool)
                .await
                .map_err(db)?
        } else {
            Vec::new()
        };
        Ok(MIGRATOR
            .iter()
            .map(|m| m.version)
            .filter(|v| !applied.contains(v))
            .collect())
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

/// Tries of a write transaction that keeps losing races before its error stands.
const CONTENTION_TRIES: usize = 4;

/// Runs a write transaction again when PostgreSQL rolled it back for losing a race (one
/// side of a deadlock). Transactions lock lanes in one order to make that rare; rows
/// locked by receipts and by dispatch results cannot always be, and this covers the rest.
pub(crate) async fn retrying<T, Fut>(mut attempt: impl FnMut() -> Fut) -> StoreResult<T>
where
    Fut: Future<Output = StoreResult<T>>,
{
    let mut tries = 1;
    loop {
        match attempt().await {
            Err(StoreError::Contention(_)) if tries < CONTENTION_TRIES => tries += 1,
            outcome => return outcome,
        }
    }
}

fn unavailable(e: sqlx::Error) -> StoreError {
    StoreError::Unavailable(e.to_string())
}

pub(crate) use parley_store_sql::rows::db_error as db;

#[cfg(test)]
mod tests {
    use std::cell::Cell;

    use super::*;

    #[tokio::test]
    async fn lost_races_are_run_again_a_few_times_and_other_errors_at_once() {
        let tries = Cell::new(0);
        let won = retrying(|| async {
            tries.set(tries.get() + 1);
            if tries.get() < 3 {
                Err(StoreError::Contention("deadlock detected".into()))
            } else {
                Ok(tries.get())
            }
        })
        .await;
        assert_eq!(won.unwrap(), 3);

        tries.set(0);
        let lost: StoreResult<()> = retrying(|| async {
            tries.set(tries.get() + 1);
            Err(StoreError::Contention("deadlock detected".into()))
        })
        .await;
        assert!(matches!(lost, Err(StoreError::Contention(_))));
        assert_eq!(tries.get(), CONTENTION_TRIES);

        tries.set(0);
        let refused: StoreResult<()> = retrying(|| async {
            tries.set(tries.get() + 1);
            Err(StoreError::Unavailable("connection refused".into()))
        })
        .await;
        assert!(matches!(refused, Err(StoreError::Unavailable(_))));
        assert_eq!(tries.get(), 1);
    }
}
