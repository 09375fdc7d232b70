//! Webhooks on PostgreSQL: the shared operations of `parley_store_sql::webhook_rows`; lanes are
//! claimed with `FOR UPDATE SKIP LOCKED`, so several nodes share the work.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use parley_store::{
    BusinessEvent, EndpointHealth, EventFilter, EventSubject, FinishedEvent, Redrive, StoreResult,
    Webhook, WebhookAttempt, WebhookEvent, WebhookKind, WebhookStore,
};
use parley_store_sql::rows::millis;
use parley_store_sql::webhook_rows::ops;
use parley_types::AccountId;
use sqlx::Postgres;

use crate::{PostgresStore, db, retrying};

#[async_trait]
impl WebhookStore for PostgresStore {
    async fn save_webhooks(&self, webhooks: &[Webhook]) -> StoreResult<()> {
        let mut tx = self.pool.begin().await.map_err(db)?;
        ops::save::<Postgres>(&mut tx, webhooks).await?;
        tx.commit().await.map_err(db)
    }

    async fn webhooks(&self, account: &AccountId) -> StoreResult<Vec<Webhook>> {
        let mut conn = self.pool.acquire().await.map_err(db)?;
        ops::list::<Postgres>(&mut conn, account).await
    }

    async fn delete_webhooks(
        &self,
        account: &AccountId,
        keys: &[(String, Option<WebhookKind>)],
    ) -> StoreResult<u64> {
        let mut tx = self.pool.begin().await.map_err(db)?;
        let deleted = ops::delete::<Postgres>(&mut tx, account, keys).await?;
        tx.commit().await.map_err(db)?;
        Ok(deleted)
    }

    async fn record_business_event(&self, event: &BusinessEvent) -> StoreResult<()> {
        let mut tx = self.pool.begin().await.map_err(db)?;
        ops::record_business::<Postgres>(&mut tx, event).await?;
        tx.commit().await.map_err(db)
    }

    async fn enqueue_webhook_events(&self, after: i64, upto: i64) -> StoreResult<u64> {
        let mut conn = self.pool.acquire().await.map_err(db)?;
        ops::enqueue_from_events::<Postgres>(&mut conn, after, upto).await
    }

    async fn claim_webhook_events(
        &self,
        now: DateTime<Utc>,
        lease_until: DateTime<Utc>,
        limit: u32,
        skip: &[AccountId],
    ) -> StoreResult<Vec<WebhookEvent>> {
        let skip: Vec<String> = skip.iter().map(AccountId::to_string).collect();
        let mut tx = self.pool.begin().await.map_err(db)?;
        let heads: Vec<i64> = sqlx::query_scalar(
            "UPDATE webhook_lanes SET lease_until = $2 \
             WHERE lane IN ( \
                SELECT lane FROM webhook_lanes \
                WHERE ready_at <= $1 AND (lease_until IS NULL OR lease_until <= $1) \
                  AND NOT (account_id = ANY($4)) \
                ORDER BY ready_at LIMIT $3 \
                FOR UPDATE SKIP LOCKED) \
             RETURNING head_id",
        )
        .bind(millis(now))
        .bind(millis(lease_until))
        .bind(i64::from(limit))
        .bind(skip)
        .fetch_all(&mut *tx)
        .await
        .map_err(db)?;
        let events = ops::by_id::<Postgres>(&mut tx, &heads).await?;
        tx.commit().await.map_err(db)?;
        Ok(events)
    }

    async fn event_subject(&self, event: &WebhookEvent) -> StoreResult<Option<EventSubject>> {
        let mut conn = self.pool.acquire().await.map_err(db)?;
        ops::subject::<Postgres>(&mut conn, event).await
    }

    async fn finish_webhook_events(
        &self,
        finished: &[FinishedEvent],
        now: DateTime<Utc>,
    ) -> StoreResult<()> {
        // A lost race would leave the events leased, and delivered again once the
        // lease ran out.
        retrying(|| self.finish_webhook_events_once(finished, now)).await
    }

    async fn webhook_events(
        &self,
        account: &AccountId,
        filter: &EventFilter,
    ) -> StoreResult<Vec<WebhookEvent>> {
        let mut conn = self.pool.acquire().await.map_err(db)?;
        ops::events::<Postgres>(&mut conn, account, filter, None).await
    }

    async fn webhook_event(
        &self,
        account: &AccountId,
        id: i64,
    ) -> StoreResult<Option<WebhookEvent>> {
        let mut conn = self.pool.acquire().await.map_err(db)?;
        let filter = EventFilter {
            limit: 1,
            ..EventFilter::default()
        };
        Ok(
            ops::events::<Postgres>(&mut conn, account, &filter, Some(id))
                .await?
                .pop(),
        )
    }

    async fn webhook_attempts(&self, event_id: i64) -> StoreResult<Vec<WebhookAttempt>> {
        let mut conn = self.pool.acquire().await.map_err(db)?;
        ops::attempts_of::<Postgres>(&mut conn, event_id).await
    }

    async fn redrive_webhook_events(
        &self,
        account: &AccountId,
        which: &Redrive,
        now: DateTime<Utc>,
    ) -> StoreResult<u64> {
        let mut tx = self.pool.begin().await.map_err(db)?;
        let redriven = ops::redrive_events::<Postgres>(&mut tx, account, which, now).await?;
        tx.commit().await.map_err(db)?;
        Ok(redriven)
    }

    async fn webhook_backlog(&self) -> StoreResult<u64> {
        let pending: i64 =
            sqlx::query_scalar("SELECT COUNT(*) FROM webhook_events WHERE state = 'pending'")
                .fetch_one(&self.pool)
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
        let mut tx = self.pool.begin().await.map_err(db)?;
        let released = ops::release::<Postgres>(&mut tx, account, url, now).await?;
        tx.commit().await.map_err(db)?;
        Ok(released)
    }

    async fn save_endpoint_health(&self, health: &EndpointHealth) -> StoreResult<()> {
        let mut tx = self.pool.begin().await.map_err(db)?;
        ops::save_endpoint::<Postgres>(&mut tx, health).await?;
        tx.commit().await.map_err(db)
    }

    async fn endpoint_health(&self, account: &AccountId) -> StoreResult<Vec<EndpointHealth>> {
        let mut conn = self.pool.acquire().await.map_err(db)?;
        ops::endpoints::<Postgres>(&mut conn, account).await
    }
}

impl PostgresStore {
    async fn finish_webhook_events_once(
        &self,
        finished: &[FinishedEvent],
        now: DateTime<Utc>,
    ) -> StoreResult<()> {
        let mut tx = self.pool.begin().await.map_err(db)?;
        // Lock the events' lanes first, in a statement of their own and in one order: an
        // event being added to such a lane right now holds its lane until it commits, so
        // the statements below, which pick each lane's next event, see it. Picked in the
        // same statement that waited, it would be missed (that statement's snapshot
        // predates it) and the lane emptied with the new event left pending forever.
        let ids: Vec<i64> = finished.iter().map(|event| event.id).collect();
        sqlx::query(
            "SELECT 1 FROM webhook_lanes WHERE lane IN \
                (SELECT lane FROM webhook_events WHERE id = ANY($1)) \
             ORDER BY lane COLLATE \"C\" FOR UPDATE",
        )
        .bind(&ids)
        .execute(&mut *tx)
        .await
        .map_err(db)?;
        ops::finish::<Postgres>(&mut tx, finished, now).await?;
        tx.commit().await.map_err(db)
    }
}
