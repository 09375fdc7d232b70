//! The embedded SQLite backend (WAL, durable commits). All writes go through one
//! connection, so transactions never fight over SQLite's single write lock and a group of
//! accepted messages shares one commit; reads use a separate pool and run alongside.
//!
//! Depends on `store` (traits and rows) and `types` only.

mod contacts;
mod dispatch;
mod files;
mod messages;
mod scheduled;
mod templates;
mod tenants;
mod webhooks;

use std::path::Path;
use std::str::FromStr;
use std::time::Duration;

use async_trait::async_trait;
use parley_store::{Store, StoreError, StoreResult};
use sqlx::SqlitePool;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");

#[derive(Debug, Clone)]
pub struct SqliteStore {
    writer: SqlitePool,
    reader: SqlitePool,
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
        Ok(Self { writer, reader })
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

    /// SQLite has no autovacuum to do it: `PRAGMA optimize` re-analyzes the tables that
    /// grew or shrank enough to matter (all of them with 0x10000, not only those this
    /// connection read), each under a temporary analysis limit, so it stays cheap; usually
    /// it does nothing.
    async fn refresh_statistics(&self) -> StoreResult<()> {
        sqlx::query("PRAGMA optimize = 0x10002")
            .execute(&self.writer)
            .await
            .map_err(db)?;
        Ok(())
    }
}

fn unavailable(e: sqlx::Error) -> StoreError {
    StoreError::Unavailable(e.to_string())
}

pub(crate) use parley_store::rows::db_error as db;
