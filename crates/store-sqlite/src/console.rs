//! Console users and sessions (SQL shared with PostgreSQL in `parley_store_sql::console_rows`).

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use parley_store::{ConsoleSession, ConsoleStore, ConsoleUser, StoreResult};
use parley_store_sql::console_rows::ops;
use parley_types::{AccountId, ConsoleUserId};
use sqlx::Sqlite;

use crate::{SqliteStore, db};

#[async_trait]
impl ConsoleStore for SqliteStore {
    async fn insert_console_user(&self, user: &ConsoleUser) -> StoreResult<()> {
        let mut conn = self.writer.acquire().await.map_err(db)?;
        ops::insert_user::<Sqlite>(&mut conn, user).await
    }

    async fn console_user(&self, id: ConsoleUserId) -> StoreResult<Option<ConsoleUser>> {
        let mut conn = self.reader.acquire().await.map_err(db)?;
        ops::user_by_id::<Sqlite>(&mut conn, id).await
    }

    async fn console_user_by_email(&self, email: &str) -> StoreResult<Option<ConsoleUser>> {
        let mut conn = self.reader.acquire().await.map_err(db)?;
        Ok(
            ops::users_where::<Sqlite>(&mut conn, "email", email.to_owned())
                .await?
                .pop(),
        )
    }

    async fn console_users(&self, account: &AccountId) -> StoreResult<Vec<ConsoleUser>> {
        let mut conn = self.reader.acquire().await.map_err(db)?;
        ops::users_of::<Sqlite>(&mut conn, account).await
    }

    async fn update_console_user(
        &self,
        user: &ConsoleUser,
        end_sessions: bool,
    ) -> StoreResult<bool> {
        let mut tx = self.writer.begin().await.map_err(db)?;
        let updated = ops::update_user::<Sqlite>(&mut tx, user, end_sessions).await?;
        tx.commit().await.map_err(db)?;
        Ok(updated)
    }

    async fn delete_console_user(&self, id: ConsoleUserId) -> StoreResult<bool> {
        let mut tx = self.writer.begin().await.map_err(db)?;
        let deleted = ops::delete_user::<Sqlite>(&mut tx, id).await?;
        tx.commit().await.map_err(db)?;
        Ok(deleted)
    }

    async fn insert_console_session(&self, session: &ConsoleSession) -> StoreResult<()> {
        let mut conn = self.writer.acquire().await.map_err(db)?;
        ops::insert_session::<Sqlite>(&mut conn, session).await
    }

    async fn console_session(
        &self,
        token_hash: &str,
        now: DateTime<Utc>,
    ) -> StoreResult<Option<(ConsoleSession, ConsoleUser)>> {
        let mut conn = self.reader.acquire().await.map_err(db)?;
        ops::live_session::<Sqlite>(&mut conn, token_hash, now).await
    }

    async fn delete_console_session(&self, token_hash: &str) -> StoreResult<()> {
        let mut conn = self.writer.acquire().await.map_err(db)?;
        ops::delete_session::<Sqlite>(&mut conn, token_hash).await
    }

    async fn delete_expired_console_sessions(&self, now: DateTime<Utc>) -> StoreResult<u64> {
        let mut conn = self.writer.acquire().await.map_err(db)?;
        ops::delete_expired_sessions::<Sqlite>(&mut conn, now).await
    }
}
