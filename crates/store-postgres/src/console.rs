//! Console users and sessions (SQL shared with SQLite in `parley_store_sql::console_rows`).

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use parley_store::{ConsoleSession, ConsoleStore, ConsoleUser, StoreResult};
use parley_store_sql::console_rows::ops;
use parley_types::{AccountId, ConsoleUserId};
use sqlx::Postgres;

use crate::{PostgresStore, db};

#[async_trait]
impl ConsoleStore for PostgresStore {
    async fn insert_console_user(&self, user: &ConsoleUser) -> StoreResult<()> {
        let mut conn = self.pool.acquire().await.map_err(db)?;
        ops::insert_user::<Postgres>(&mut conn, user).await
    }

    async fn console_user(&self, id: ConsoleUserId) -> StoreResult<Option<ConsoleUser>> {
        let mut conn = self.pool.acquire().await.map_err(db)?;
        ops::user_by_id::<Postgres>(&mut conn, id).await
    }

    async fn console_user_by_email(&self, email: &str) -> StoreResult<Option<ConsoleUser>> {
        let mut conn = self.pool.acquire().await.map_err(db)?;
        Ok(
            ops::users_where::<Postgres>(&mut conn, "email", email.to_owned())
                .await?
                .pop(),
        )
    }

    async fn console_users(&self, account: &AccountId) -> StoreResult<Vec<ConsoleUser>> {
        let mut conn = self.pool.acquire().await.map_err(db)?;
        ops::users_of::<Postgres>(&mut conn, account).await
    }

    async fn update_console_user(
        &self,
        user: &ConsoleUser,
        end_sessions: bool,
    ) -> StoreResult<bool> {
        let mut tx = self.pool.begin().await.map_err(db)?;
        let updated = ops::update_user::<Postgres>(&mut tx, user, end_sessions).await?;
        tx.commit().await.map_err(db)?;
        Ok(updated)
    }

    async fn delete_console_user(&self, id: ConsoleUserId) -> StoreResult<bool> {
        let mut tx = self.pool.begin().await.map_err(db)?;
        let deleted = ops::delete_user::<Postgres>(&mut tx, id).await?;
        tx.commit().await.map_err(db)?;
        Ok(deleted)
    }

    async fn insert_console_session(&self, session: &ConsoleSession) -> StoreResult<()> {
        let mut conn = self.pool.acquire().await.map_err(db)?;
        ops::insert_session::<Postgres>(&mut conn, session).await
    }

    async fn console_session(
        &self,
        token_hash: &str,
        now: DateTime<Utc>,
    ) -> StoreResult<Option<(ConsoleSession, ConsoleUser)>> {
        let mut conn = self.pool.acquire().await.map_err(db)?;
        ops::live_session::<Postgres>(&mut conn, token_hash, now).await
    }

    async fn delete_console_session(&self, token_hash: &str) -> StoreResult<()> {
        let mut conn = self.pool.acquire().await.map_err(db)?;
        ops::delete_session::<Postgres>(&mut conn, token_hash).await
    }

    async fn delete_expired_console_sessions(&self, now: DateTime<Utc>) -> StoreResult<u64> {
        let mut conn = self.pool.acquire().await.map_err(db)?;
        ops::delete_expired_sessions::<Postgres>(&mut conn, now).await
    }
}
