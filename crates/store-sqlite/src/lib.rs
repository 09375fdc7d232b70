//! The embedded SQLite backend (WAL, durable commits). All writes go through one
//! connection, so transactions never fight over SQLite's single write lock and a group of
//! accepted messages shares one commit; reads use a separate pool and run alongside.
//!
//! Depends on `store` (traits and rows) and `types` only.

mod console;
mod contacts;
mod dispatch;
mod events;
mod files;
mod jobs;
mod messages;
mod scheduled;
mod templates;
mod tenants;
mod webhooks;

use std::path::Path;
use std::str::FromStr;
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::Duration;

use async_trait::async_trait;
use parley_store::{Store, StoreError, StoreResult};
use sqlx::SqlitePool;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");

/// Below this many messages the planner's defaults choose well enough.
const ANALYZE_FROM_ROWS: i64 = 1_000;

#[derive(Debug, Clone)]
pub struct SqliteStore {
    writer: SqlitePool,
    reader: SqlitePool,
    /// The message count at the last `ANALYZE` (see `refresh_statistics`).
    analyzed_rows: Arc<AtomicI64>,
}

impl SqliteStore {
    /// Opens (creating if needed) the database file at `path` and applies migrations.
    pub async fn open(path: &Path) -> StoreResult<Self> {
        let options = SqliteConnectOptions::from_str("sqlite://")
            .map_err(unavailable)?
            .filename(path)
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            // FULL: a commit that returned is on disk, so an accepted message survives a
            // power cut, not only a process crash.
            .synchronous(SqliteSynchronous::Full)
            .foreign_keys(true)
            .busy_timeout(Duration::from_secs(10));
        let writer = SqlitePoolOptions::new()
            .max_connections(1)
            .connect_with(options.clone())
            .await
            .map_err(unavailable)?;
        MIGRATOR
            .run(&writer)
            .await
            .map_err(|e| StoreError::Unavailable(e.to_string()))?;
        let reader = SqlitePoolOptions::new()
            .max_connections(4)
            .connect_with(options.read_only(true))
            .await
            .map_err(unavailable)?;
        Ok(Self {
            writer,
            reader,
            analyzed_rows: Arc::default(),
        })
    }

    pub async fn close(&self) {
        self.reader.close().await;
        self.writer.close().await;
    }
}

#[async_trait]
impl Store for SqliteStore {
    fn backend_name(&self) -> &'static str {
        "sqlite"
    }

    async fn ping(&self) -> StoreResult<()> {
        sqlx::query("SELECT 1")
            .execute(&self.reader)
            .await
            .map_err(db)?;
        Ok(())
    }

    /// SQLite has no autovacuum to do it, and `PRAGMA optimize` leaves a table that was
    /// never analyzed alone: whenever the message log has doubled since the last time,
    /// `ANALYZE` under an analysis limit (a bounded sample per index: milliseconds, even
    /// at millions of rows). The row count is estimated by the largest rowid, one index
    /// probe.
    async fn refresh_statistics(&self) -> StoreResult<()> {
        let rows: i64 = sqlx::query_scalar("SELECT COALESCE(MAX(rowid), 0) FROM messages")
            .fetch_one(&self.reader)
            .await
            .map_err(db)?;
        let analyzed = self.analyzed_rows.load(Ordering::Relaxed);
        if rows < ANALYZE_FROM_ROWS || rows < analyzed.saturating_mul(2) {
            return Ok(());
        }
        sqlx::raw_sql("PRAGMA analysis_limit = 1000; ANALYZE;")
            .execute(&self.writer)
            .await
            .map_err(db)?;
        self.analyzed_rows.store(rows, Ordering::Relaxed);
        Ok(())
    }
}

fn unavailable(e: sqlx::Error) -> StoreError {
    StoreError::Unavailable(e.to_string())
}

pub(crate) use parley_store_sql::rows::db_error as db;
