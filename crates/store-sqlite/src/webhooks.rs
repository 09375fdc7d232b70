//! Webhooks on SQLite: the shared operations of `parley_store_sql::webhook_rows`; writes on the
//! single writer connection, which also makes claiming race-free.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use parley_store::{
    BusinessEvent, EndpointHealth, EventFilter, EventSubject, FinishedEvent, Redrive, StoreError,
    StoreResult, Webhook, WebhookAttempt, WebhookEvent, WebhookKind, WebhookStore,
};
use parley_store_sql::rows::millis;
use parley_store_sql::webhook_rows::ops;
use parley_types::AccountId;
use sqlx::Sqlite;

use crate::{SqliteStore, db};

#[async_trait]
impl WebhookStore for SqliteStore {
    async fn save_webhooks(&self, webhooks: &[Webhook]) -> StoreResult<()> {
        let mut tx = self.writer.begin().await.map_err(db)?;
        ops::save::<Sqlite>(&mut tx, webhooks).await?;
        tx.commit().await.map_err(db)
    }

    async fn webhooks(&self, account: &AccountId) -> StoreResult<Vec<Webhook>> {
        let mut conn = self.reader.acquire().await.map_err(db)?;
        ops::list::<Sqlite>(&mut conn, account).await
    }

    async fn delete_webhooks(
        &self,
        account: &AccountId,
        keys: &[(String, Option<WebhookKind>)],
    ) -> StoreResult<u64> {
        let mut tx = self.writer.begin().await.map_err(db)?;
        let deleted = ops::delete::<Sqlite>(&mut tx, account, keys).await?;
        tx.commit().await.map_err(db)?;
        Ok(deleted)
    }

    async fn record_business_event(&self, event: &BusinessEvent) -> StoreResult<()> {
        let mut tx = self.writer.begin().await.map_err(db)?;
        ops::record_business::<Sqlite>(&mut tx, event).await?;
        tx.commit().await.map_err(db)
    }

    async fn enqueue_webhook_events(&self, after: i64, upto: i64) -> StoreResult<u64> {
        let mut conn = self.writer.acquire().await.map_err(db)?;
        ops::enqueue_from_events::<Sqlite>(&mut conn, after, upto).await
    }

    async fn claim_webhook_events(
        &self,
        now: DateTime<Utc>,
        lease_until: DateTime<Utc>,
        limit: u32,
        skip: &[AccountId],
    ) -> StoreResult<Vec<WebhookEvent>> {
        let skip =
            serde_json::to_string(&skip.iter().map(AccountId::to_string).collect::<Vec<_>>())
                .map_err(|e| StoreError::Corrupt(e.to_string()))?;
        let mut tx = self.writer.begin().await.map_err(db)?;
        let heads: Vec<i64> = sqlx::query_scalar(
            "UPDATE webhook_lanes SET lease_until = ?2 \
             WHERE rowid IN ( \
                SELECT rowid FROM webhook_lanes \
                WHERE ready_at <= ?1 AND (lease_until IS NULL OR lease_until <= ?1) \
                  AND account_id NOT IN (SELECT value FROM json_each(?4)) \
                ORDER BY ready_at LIMIT ?3) \
             RETURNING head_id",
        )
        .bind(millis(now))
        .bind(millis(lease_until))
        .bind(i64::from(limit))
        .bind(skip)
        .fetch_all(&mut *tx)
        .await
        .map_err(db)?;
        let events = ops::by_id::<Sqlite>(&mut tx, &heads).await?;
        tx.commit().await.map_err(db)?;
        Ok(events)
    }

    async fn event_subject(&self, event: &WebhookEvent) -> StoreResult<Option<EventSubject>> {
        let mut conn = self.reader.acquire().await.map_err(db)?;
        ops::subject::<Sqlite>(&mut conn, event).await
    }

    async fn finish_webhook_events(
        &self,
        finished: &[FinishedEvent],
        now: DateTime<Utc>,
    ) -> StoreResult<()> {
        let mut tx = self.writer.begin().await.map_err(db)?;
        ops::finish::<Sqlite>(&mut tx, finished, now).await?;
        tx.commit().await.map_err(db)
    }

    async fn webhook_events(
        &self,
        account: &AccountId,
        filter: &EventFilter,
    ) -> StoreResult<Vec<WebhookEvent>> {
        let mut conn = self.reader.acquire().await.map_err(db)?;
        ops::events::<Sqlite>(&mut conn, account, filter, None).await
    }

    async fn webhook_event(
        &self,
        account: &AccountId,
        id: i64,
    ) -> StoreResult<Option<WebhookEvent>> {
        let mut conn = self.reader.acquire().await.map_err(db)?;
        let filter = EventFilter {
            limit: 1,
            ..EventFilter::default()
        };
        Ok(ops::events::<Sqlite>(&mut conn, account, &filter, Some(id))
            .await?
            .pop())
    }

    async fn webhook_attempts(&self, event_id: i64) -> StoreResult<Vec<WebhookAttempt>> {
        let mut conn = self.reader.acquire().await.map_err(db)?;
        ops::attempts_of::<Sqlite>(&mut conn, event_id).await
    }

    async fn redrive_webhook_events(
        &self,
        account: &AccountId,
        which: &Redrive,
        now: DateTime<Utc>,
    ) -> StoreResult<u64> {
        let mut tx = self.writer.begin().await.map_err(db)?;
        let redriven = ops::redrive_events::<Sqlite>(&mut tx, account, which, now).await?;
        tx.commit().await.map_err(db)?;
        Ok(redriven)
    }

    async fn webhook_backlog(&self) -> StoreResult<u64> {
        let pending: i64 =
            sqlx::query_scalar("SELECT COUNT(*) FROM webhook_events WHERE state = 'pending'")
                .fetch_one(&self.reader)
                .await
                .map_err(db)?;
        Ok(u64::try_from(pending).unwrap_or(0))
    }

    async fn release_webhook_lanes(
        &self,
        account: &AccountId,
        url: &str,
        now: DateTime<Utc>,
    ) -> StoreResult<u64> {
        let mut tx = self.writer.begin().await.map_err(db)?;
        let released = ops::release::<Sqlite>(&mut tx, account, url, now).await?;
        tx.commit().await.map_err(db)?;
        Ok(released)
    }

    async fn save_endpoint_health(&self, health: &EndpointHealth) -> StoreResult<()> {
        let mut tx = self.writer.begin().await.map_err(db)?;
        ops::save_endpoint::<Sqlite>(&mut tx, health).await?;
        tx.commit().await.map_err(db)
    }

    async fn endpoint_health(&self, account: &AccountId) -> StoreResult<Vec<EndpointHealth>> {
        let mut conn = self.reader.acquire().await.map_err(db)?;
        ops::endpoints::<Sqlite>(&mut conn, account).await
    }
}
