//! Jobs and timers in SQL, shared by both backends: scheduling (idempotent on the key),
//! cancelling, completing, failing and redriving work jobs, reading them back, and the
//! event a timer fires. Claiming and firing pick rows that other nodes may be picking at
//! the same moment, so each backend writes those itself (`jobs.rs`).

use chrono::{DateTime, Utc};
use sqlx::{Database, Encode, Executor, FromRow, IntoArguments, Type};

use crate::accept_group::Statement;
use crate::rows::{account_id, from_millis, millis};
use crate::{Job, JobKind, JobState, NewJob, StoreError, StoreResult};

/// The columns a stored job is read with.
pub const JOB_COLUMNS: &str = "id, kind, queue, key, account_id, conversation, payload, due_at, \
    state, attempts, retry, owner, lease_until, last_error, created_at, finished_at";

/// `INSERT INTO events … SELECT` of one `timer.fired` event per job in `from` (a relation
/// `j` with the jobs' columns), at `at` (a parameter or literal), in due order.
pub fn fired_events(from: &str, at: &str) -> String {
    format!(
        "INSERT INTO events (kind, account_id, sub_account_id, channel_id, conversation, \
            subject, source_id, payload, at) \
         SELECT 'timer.fired', j.account_id, NULL, NULL, j.conversation, j.key, j.id, NULL, \
            {at} FROM {from} ORDER BY j.due_at, j.id"
    )
}

/// Rows per scheduling insert: 11 values each.
pub const SCHEDULE_CHUNK: usize = 2_000;

#[derive(Debug, FromRow)]
pub struct JobRow {
    pub id: i64,
    pub kind: String,
    pub queue: String,
    pub key: String,
    pub account_id: String,
    pub conversation: String,
    pub payload: String,
    pub due_at: i64,
    pub state: String,
    pub attempts: i64,
    pub retry: String,
    pub owner: Option<String>,
    pub lease_until: Option<i64>,
    pub last_error: Option<String>,
    pub created_at: i64,
    pub finished_at: Option<i64>,
}

impl JobRow {
    pub fn into_model(self) -> StoreResult<Job> {
        let corrupt = |what: &str| StoreError::Corrupt(format!("job {}: {what}", self.id));
        Ok(Job {
            id: self.id,
            kind: JobKind::parse(&self.kind).ok_or_else(|| corrupt("kind"))?,
            state: JobState::parse(&self.state).ok_or_else(|| corrupt("state"))?,
            payload: serde_json::from_str(&self.payload).map_err(|_| corrupt("payload"))?,
            retry: serde_json::from_str(&self.retry).map_err(|_| corrupt("retry"))?,
            account_id: account_id(&self.account_id)?,
            due_at: from_millis(self.due_at)?,
            attempts: u32::try_from(self.attempts).map_err(|_| corrupt("attempts"))?,
            lease_until: self.lease_until.map(from_millis).transpose()?,
            created_at: from_millis(self.created_at)?,
            finished_at: self.finished_at.map(from_millis).transpose()?,
            queue: self.queue,
            key: self.key,
            conversation: self.conversation,
            owner: self.owner,
            last_error: self.last_error,
        })
    }
}

/// The order key of a job's event when it names none.
pub fn default_conversation(job: &NewJob) -> String {
    job.conversation
        .clone()
        .unwrap_or_else(|| format!("j:{}:{}", job.queue, job.key))
}

/// The operations, generic over the backend, each on the caller's connection.
pub mod ops {
    use super::*;

    /// Schedules the jobs whose keys are new to their queue; yields how many.
    pub async fn schedule<DB>(
        conn: &mut DB::Connection,
        jobs: &[NewJob],
        now: DateTime<Utc>,
    ) -> StoreResult<u64>
    where
        DB: Database,
        for<'c> &'c mut DB::Connection: Executor<'c, Database = DB>,
        for<'a> DB::Arguments<'a>: IntoArguments<'a, DB>,
        for<'a> String: Encode<'a, DB> + Type<DB>,
        for<'a> i64: Encode<'a, DB> + Type<DB>,
        for<'r> (i64,): FromRow<'r, DB::Row>,
    {
        let mut scheduled = 0;
        for chunk in jobs.chunks(SCHEDULE_CHUNK) {
            let mut q = Statement::<DB>::new(
                "INSERT INTO jobs (kind, queue, key, account_id, conversation, payload, due_at, \
                 state, attempts, retry, created_at)",
            );
            q.values(chunk, |row, job| {
                let retry = serde_json::to_string(&job.retry)
                    .map_err(|e| StoreError::Corrupt(e.to_string()))?;
                row.bind(job.kind.as_str().to_owned())?
                    .bind(job.queue.clone())?
                    .bind(job.key.clone())?
                    .bind(job.account_id.to_string())?
                    .bind(default_conversation(job))?
                    .bind(job.payload.to_string())?
                    .bind(millis(job.due_at))?
                    .bind(JobState::Pending.as_str().to_owned())?
                    .bind(0_i64)?
                    .bind(retry)?
                    .bind(millis(now))?;
                Ok(())
            })?;
            q.push(" ON CONFLICT (queue, key) DO NOTHING RETURNING id");
            scheduled += fetch_as!((i64,), conn, q).len() as u64;
        }
        Ok(scheduled)
    }

    /// Ends an update of a job held by `owner`: it leaves `running` and the lease is
    /// dropped; yields the job's id if it was held.
    fn held<'q, DB>(q: &mut Statement<'q, DB>, id: i64, owner: &str) -> StoreResult<()>
    where
        DB: Database,
        for<'a> String: Encode<'a, DB> + Type<DB>,
        for<'a> i64: Encode<'a, DB> + Type<DB>,
    {
        q.push(", owner = NULL, lease_until = NULL WHERE state = 'running' AND id = ")
            .bind(id)?
            .push(" AND owner = ")
            .bind(owner.to_owned())?
            .push(" RETURNING id");
        Ok(())
    }

    pub async fn complete<DB>(
        conn: &mut DB::Connection,
        id: i64,
        owner: &str,
        now: DateTime<Utc>,
    ) -> StoreResult<bool>
    where
        DB: Database,
        for<'c> &'c mut DB::Connection: Executor<'c, Database = DB>,
        for<'a> DB::Arguments<'a>: IntoArguments<'a, DB>,
        for<'a> String: Encode<'a, DB> + Type<DB>,
        for<'a> i64: Encode<'a, DB> + Type<DB>,
        for<'r> (i64,): FromRow<'r, DB::Row>,
    {
        let mut q = Statement::<DB>::new("UPDATE jobs SET state = 'done', finished_at = ");
        q.bind(millis(now))?;
        held(&mut q, id, owner)?;
        Ok(!fetch_as!((i64,), conn, q).is_empty())
    }

    /// Records a failed attempt: pending again at `retry_at`, or dead without one.
    pub async fn fail<DB>(
        conn: &mut DB::Connection,
        id: i64,
        owner: &str,
        error: &str,
        retry_at: Option<DateTime<Utc>>,
        now: DateTime<Utc>,
    ) -> StoreResult<bool>
    where
        DB: Database,
        for<'c> &'c mut DB::Connection: Executor<'c, Database = DB>,
        for<'a> DB::Arguments<'a>: IntoArguments<'a, DB>,
        for<'a> String: Encode<'a, DB> + Type<DB>,
        for<'a> i64: Encode<'a, DB> + Type<DB>,
        for<'r> (i64,): FromRow<'r, DB::Row>,
    {
        let mut q = Statement::<DB>::new("UPDATE jobs SET last_error = ");
        q.bind(error.to_owned())?;
        match retry_at {
            Some(at) => q.push(", state = 'pending', due_at = ").bind(millis(at))?,
            None => q
                .push(", state = 'dead', finished_at = ")
                .bind(millis(now))?,
        };
        held(&mut q, id, owner)?;
        Ok(!fetch_as!((i64,), conn, q).is_empty())
    }

    /// A pending job of `queue` with `key` no longer fires or runs; yields whether one did
    /// wait.
    pub async fn cancel<DB>(
        conn: &mut DB::Connection,
        queue: &str,
        key: &str,
        now: DateTime<Utc>,
    ) -> StoreResult<bool>
    where
        DB: Database,
        for<'c> &'c mut DB::Connection: Executor<'c, Database = DB>,
        for<'a> DB::Arguments<'a>: IntoArguments<'a, DB>,
        for<'a> String: Encode<'a, DB> + Type<DB>,
        for<'a> i64: Encode<'a, DB> + Type<DB>,
        for<'r> (i64,): FromRow<'r, DB::Row>,
    {
        let mut q = Statement::<DB>::new("UPDATE jobs SET state = 'cancelled', finished_at = ");
        q.bind(millis(now))?
            .push(" WHERE state = 'pending' AND queue = ")
            .bind(queue.to_owned())?
            .push(" AND key = ")
            .bind(key.to_owned())?
            .push(" RETURNING id");
        Ok(!fetch_as!((i64,), conn, q).is_empty())
    }

    /// A dead job is tried again from `now`, with its whole schedule; yields whether it
    /// was dead.
    pub async fn redrive<DB>(
        conn: &mut DB::Connection,
        id: i64,
        now: DateTime<Utc>,
    ) -> StoreResult<bool>
    where
        DB: Database,
        for<'c> &'c mut DB::Connection: Executor<'c, Database = DB>,
        for<'a> DB::Arguments<'a>: IntoArguments<'a, DB>,
        for<'a> i64: Encode<'a, DB> + Type<DB>,
        for<'r> (i64,): FromRow<'r, DB::Row>,
    {
        let mut q = Statement::<DB>::new(
            "UPDATE jobs SET state = 'pending', attempts = 0, finished_at = NULL, due_at = ",
        );
        q.bind(millis(now))?
            .push(" WHERE state = 'dead' AND id = ")
            .bind(id)?
            .push(" RETURNING id");
        Ok(!fetch_as!((i64,), conn, q).is_empty())
    }

    pub async fn by_key<DB>(
        conn: &mut DB::Connection,
        queue: &str,
        key: &str,
    ) -> StoreResult<Option<Job>>
    where
        DB: Database,
        for<'c> &'c mut DB::Connection: Executor<'c, Database = DB>,
        for<'a> DB::Arguments<'a>: IntoArguments<'a, DB>,
        for<'a> String: Encode<'a, DB> + Type<DB>,
        JobRow: for<'r> FromRow<'r, DB::Row>,
    {
        let mut q = Statement::<DB>::new(format!("SELECT {JOB_COLUMNS} FROM jobs WHERE queue = "));
        q.bind(queue.to_owned())?
            .push(" AND key = ")
            .bind(key.to_owned())?;
        Ok(fetch!(JobRow, conn, q).pop())
    }

    /// Jobs in `state` (of `queue`, if given), oldest due first, at most `limit`.
    pub async fn in_state<DB>(
        conn: &mut DB::Connection,
        queue: Option<&str>,
        state: JobState,
        limit: u32,
    ) -> StoreResult<Vec<Job>>
    where
        DB: Database,
        for<'c> &'c mut DB::Connection: Executor<'c, Database = DB>,
        for<'a> DB::Arguments<'a>: IntoArguments<'a, DB>,
        for<'a> String: Encode<'a, DB> + Type<DB>,
        for<'a> i64: Encode<'a, DB> + Type<DB>,
        JobRow: for<'r> FromRow<'r, DB::Row>,
    {
        let mut q = Statement::<DB>::new(format!("SELECT {JOB_COLUMNS} FROM jobs WHERE state = "));
        q.bind(state.as_str().to_owned())?;
        if let Some(queue) = queue {
            q.push(" AND queue = ").bind(queue.to_owned())?;
        }
        q.push(" ORDER BY due_at, id LIMIT ")
            .bind(i64::from(limit))?;
        Ok(fetch!(JobRow, conn, q))
    }

    /// Deletes up to `limit` jobs that finished before `before`; yields how many.
    pub async fn prune<DB>(
        conn: &mut DB::Connection,
        before: DateTime<Utc>,
        limit: u32,
    ) -> StoreResult<u64>
    where
        DB: Database,
        for<'c> &'c mut DB::Connection: Executor<'c, Database = DB>,
        for<'a> DB::Arguments<'a>: IntoArguments<'a, DB>,
        for<'a> i64: Encode<'a, DB> + Type<DB>,
        for<'r> (i64,): FromRow<'r, DB::Row>,
    {
        let mut q = Statement::<DB>::new(
            "DELETE FROM jobs WHERE id IN (SELECT id FROM jobs WHERE finished_at < ",
        );
        q.bind(millis(before))?
            .push(" ORDER BY finished_at LIMIT ")
            .bind(i64::from(limit))?
            .push(") RETURNING id");
        Ok(fetch_as!((i64,), conn, q).len() as u64)
    }
}
