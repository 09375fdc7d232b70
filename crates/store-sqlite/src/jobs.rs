//! Jobs and timers (SQL shared with PostgreSQL in `parley_store_sql::job_rows`). The one
//! writer connection makes picking due rows and changing them one step; no two callers
//! can pick the same row.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use parley_store::{Job, JobState, JobStore, NewJob, StoreError, StoreResult};
use parley_store_sql::job_rows::{JOB_COLUMNS, JobRow, fired_events, ops};
use parley_store_sql::rows::millis;
use sqlx::Sqlite;
use std::sync::LazyLock;

use crate::{SqliteStore, db};

/// Marks up to `?2` timers due at `?1` fired and yields their ids.
const FIRE: &str = "UPDATE jobs SET state = 'fired', finished_at = ?1 \
    WHERE id IN (SELECT id FROM jobs WHERE state = 'pending' AND kind = 'timer' \
        AND due_at <= ?1 ORDER BY due_at, id LIMIT ?2) \
    RETURNING id";

/// The events of the timers `?2` (a JSON array of ids), fired at `?1`.
static FIRED_EVENTS: LazyLock<String> = LazyLock::new(|| {
    fired_events(
        "jobs j WHERE j.id IN (SELECT value FROM json_each(?2))",
        "?1",
    )
});

static CLAIM: LazyLock<String> = LazyLock::new(|| {
    format!(
        "UPDATE jobs SET state = 'running', attempts = attempts + 1, owner = ?1, \
            lease_until = ?2 \
         WHERE id IN (SELECT id FROM jobs WHERE kind = 'work' \
            AND queue IN (SELECT value FROM json_each(?3)) \
            AND ((state = 'pending' AND due_at <= ?4) \
                OR (state = 'running' AND lease_until < ?4)) \
            ORDER BY due_at, id LIMIT ?5) \
         RETURNING {JOB_COLUMNS}"
    )
});

/// A list as a JSON array, for `json_each`.
fn json<T>(values: &[T]) -> StoreResult<String>
where
    T: Clone + Into<serde_json::Value>,
{
    serde_json::to_string(&serde_json::Value::from(values.to_vec()))
        .map_err(|e| StoreError::Corrupt(e.to_string()))
}

#[async_trait]
impl JobStore for SqliteStore {
    async fn schedule_jobs(&self, jobs: &[NewJob], now: DateTime<Utc>) -> StoreResult<u64> {
        let mut tx = self.writer.begin().await.map_err(db)?;
        let scheduled = ops::schedule::<Sqlite>(&mut tx, jobs, now).await?;
        tx.commit().await.map_err(db)?;
        Ok(scheduled)
    }

    async fn cancel_job(&self, queue: &str, key: &str, now: DateTime<Utc>) -> StoreResult<bool> {
        let mut conn = self.writer.acquire().await.map_err(db)?;
        ops::cancel::<Sqlite>(&mut conn, queue, key, now).await
    }

    async fn job(&self, queue: &str, key: &str) -> StoreResult<Option<Job>> {
        let mut conn = self.reader.acquire().await.map_err(db)?;
        ops::by_key::<Sqlite>(&mut conn, queue, key).await
    }

    async fn jobs_in_state(
        &self,
        queue: Option<&str>,
        state: JobState,
        limit: u32,
    ) -> StoreResult<Vec<Job>> {
        let mut conn = self.reader.acquire().await.map_err(db)?;
        ops::in_state::<Sqlite>(&mut conn, queue, state, limit).await
    }

    async fn fire_due_timers(&self, now: DateTime<Utc>, limit: u32) -> StoreResult<u64> {
        let mut tx = self.writer.begin().await.map_err(db)?;
        let fired: Vec<i64> = sqlx::query_scalar(FIRE)
            .bind(millis(now))
            .bind(i64::from(limit))
            .fetch_all(&mut *tx)
            .await
            .map_err(db)?;
        if fired.is_empty() {
            return Ok(0);
        }
        sqlx::query(&FIRED_EVENTS)
            .bind(millis(now))
            .bind(json(&fired)?)
            .execute(&mut *tx)
            .await
            .map_err(db)?;
        tx.commit().await.map_err(db)?;
        Ok(fired.len() as u64)
    }

    async fn claim_jobs(
        &self,
        queues: &[String],
        owner: &str,
        now: DateTime<Utc>,
        lease_until: DateTime<Utc>,
        limit: u32,
    ) -> StoreResult<Vec<Job>> {
        sqlx::query_as::<_, JobRow>(&CLAIM)
            .bind(owner)
            .bind(millis(lease_until))
            .bind(json(queues)?)
            .bind(millis(now))
            .bind(i64::from(limit))
            .fetch_all(&self.writer)
            .await
            .map_err(db)?
            .into_iter()
            .map(JobRow::into_model)
            .collect()
    }

    async fn complete_job(&self, id: i64, owner: &str, now: DateTime<Utc>) -> StoreResult<bool> {
        let mut conn = self.writer.acquire().await.map_err(db)?;
        ops::complete::<Sqlite>(&mut conn, id, owner, now).await
    }

    async fn fail_job(
        &self,
        id: i64,
        owner: &str,
        error: &str,
        retry_at: Option<DateTime<Utc>>,
        now: DateTime<Utc>,
    ) -> StoreResult<bool> {
        let mut conn = self.writer.acquire().await.map_err(db)?;
        ops::fail::<Sqlite>(&mut conn, id, owner, error, retry_at, now).await
    }

    async fn redrive_job(&self, id: i64, now: DateTime<Utc>) -> StoreResult<bool> {
        let mut conn = self.writer.acquire().await.map_err(db)?;
        ops::redrive::<Sqlite>(&mut conn, id, now).await
    }

    async fn prune_jobs(&self, before: DateTime<Utc>, limit: u32) -> StoreResult<u64> {
        let mut conn = self.writer.acquire().await.map_err(db)?;
        ops::prune::<Sqlite>(&mut conn, before, limit).await
    }
}
