//! Jobs and timers (SQL shared with SQLite in `parley_store_sql::job_rows`). Nodes pick due
//! rows with `FOR UPDATE SKIP LOCKED`, so two nodes never pick the same job, and a timer
//! is marked fired and reported as an event in one statement.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use parley_store::{Job, JobState, JobStore, NewJob, StoreResult};
use parley_store_sql::job_rows::{JOB_COLUMNS, JobRow, fired_events, ops};
use parley_store_sql::rows::millis;
use sqlx::Postgres;
use std::sync::LazyLock;

use crate::{PostgresStore, db, retrying};

/// Fires up to `$2` timers due at `$1`; yields how many.
static FIRE: LazyLock<String> = LazyLock::new(|| {
    format!(
        "WITH due AS ( \
            SELECT id FROM jobs WHERE state = 'pending' AND kind = 'timer' AND due_at <= $1 \
            ORDER BY due_at, id LIMIT $2 FOR UPDATE SKIP LOCKED), \
         fired AS ( \
            UPDATE jobs SET state = 'fired', finished_at = $1 FROM due \
            WHERE jobs.id = due.id RETURNING jobs.*), \
         reported AS ({}) \
         SELECT COUNT(*) FROM fired",
        fired_events("fired j", "$1")
    )
});

static CLAIM: LazyLock<String> = LazyLock::new(|| {
    let columns = JOB_COLUMNS
        .split(", ")
        .map(|c| format!("jobs.{c}"))
        .collect::<Vec<_>>()
        .join(", ");
    format!(
        "WITH picked AS ( \
            SELECT id FROM jobs WHERE kind = 'work' AND queue = ANY($3) \
            AND ((state = 'pending' AND due_at <= $4) \
                OR (state = 'running' AND lease_until < $4)) \
            ORDER BY due_at, id LIMIT $5 FOR UPDATE SKIP LOCKED) \
         UPDATE jobs SET state = 'running', attempts = jobs.attempts + 1, owner = $1, \
            lease_until = $2 \
         FROM picked WHERE jobs.id = picked.id RETURNING {columns}"
    )
});

#[async_trait]
impl JobStore for PostgresStore {
    async fn schedule_jobs(&self, jobs: &[NewJob], now: DateTime<Utc>) -> StoreResult<u64> {
        let mut tx = self.pool.begin().await.map_err(db)?;
        let scheduled = ops::schedule::<Postgres>(&mut tx, jobs, now).await?;
        tx.commit().await.map_err(db)?;
        Ok(scheduled)
    }

    async fn cancel_job(&self, queue: &str, key: &str, now: DateTime<Utc>) -> StoreResult<bool> {
        let mut conn = self.pool.acquire().await.map_err(db)?;
        ops::cancel::<Postgres>(&mut conn, queue, key, now).await
    }

    async fn job(&self, queue: &str, key: &str) -> StoreResult<Option<Job>> {
        let mut conn = self.pool.acquire().await.map_err(db)?;
        ops::by_key::<Postgres>(&mut conn, queue, key).await
    }

    async fn jobs_in_state(
        &self,
        queue: Option<&str>,
        state: JobState,
        limit: u32,
    ) -> StoreResult<Vec<Job>> {
        let mut conn = self.pool.acquire().await.map_err(db)?;
        ops::in_state::<Postgres>(&mut conn, queue, state, limit).await
    }

    async fn fire_due_timers(&self, now: DateTime<Utc>, limit: u32) -> StoreResult<u64> {
        let fired: i64 = retrying(|| async {
            sqlx::query_scalar(&FIRE)
                .bind(millis(now))
                .bind(i64::from(limit))
                .fetch_one(&self.pool)
                .await
                .map_err(db)
        })
        .await?;
        Ok(fired as u64)
    }

    async fn claim_jobs(
        &self,
        queues: &[String],
        owner: &str,
        now: DateTime<Utc>,
        lease_until: DateTime<Utc>,
        limit: u32,
    ) -> StoreResult<Vec<Job>> {
        retrying(|| async {
            sqlx::query_as::<_, JobRow>(&CLAIM)
                .bind(owner)
                .bind(millis(lease_until))
                .bind(queues)
                .bind(millis(now))
                .bind(i64::from(limit))
                .fetch_all(&self.pool)
                .await
                .map_err(db)
        })
        .await?
        .into_iter()
        .map(JobRow::into_model)
        .collect()
    }

    async fn complete_job(&self, id: i64, owner: &str, now: DateTime<Utc>) -> StoreResult<bool> {
        let mut conn = self.pool.acquire().await.map_err(db)?;
        ops::complete::<Postgres>(&mut conn, id, owner, now).await
    }

    async fn fail_job(
        &self,
        id: i64,
        owner: &str,
        error: &str,
        retry_at: Option<DateTime<Utc>>,
        now: DateTime<Utc>,
    ) -> StoreResult<bool> {
        let mut conn = self.pool.acquire().await.map_err(db)?;
        ops::fail::<Postgres>(&mut conn, id, owner, error, retry_at, now).await
    }

    async fn redrive_job(&self, id: i64, now: DateTime<Utc>) -> StoreResult<bool> {
        let mut conn = self.pool.acquire().await.map_err(db)?;
        ops::redrive::<Postgres>(&mut conn, id, now).await
    }

    async fn prune_jobs(&self, before: DateTime<Utc>, limit: u32) -> StoreResult<u64> {
        let mut conn = self.pool.acquire().await.map_err(db)?;
        ops::prune::<Postgres>(&mut conn, before, limit).await
    }
}
