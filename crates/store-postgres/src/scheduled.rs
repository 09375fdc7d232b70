//! Scheduled messages: releasing them into the dispatch queue when due, and cancelling
//! them while they wait. Each is one statement, so it needs no transaction of its own.

use std::sync::LazyLock;

use chrono::{DateTime, Utc};
use parley_store::{EventKind, MessageStatus, Scheduled, StoreResult};
use parley_store_sql::event_rows::message_events;
use parley_store_sql::rows::{StatusColumns, millis};
use parley_types::SubAccountId;

use crate::messages::enqueue_sql;
use crate::{PostgresStore, db, retrying};

/// Takes up to `$2` messages due by `$1` off the schedule (rows another node is releasing
/// right now are skipped, so each is released once) and queues them, ready at `$1`, in the
/// order they were due. Yields how many.
static RELEASE: LazyLock<String> = LazyLock::new(|| {
    format!(
        "WITH due AS ( \
            DELETE FROM scheduled_messages WHERE umid IN ( \
                SELECT umid FROM scheduled_messages WHERE due_at <= $1 \
                ORDER BY due_at LIMIT $2 FOR UPDATE SKIP LOCKED) \
            RETURNING umid), \
         released AS ( \
            SELECT m.umid, m.channel_id, m.msisdn, $1::bigint AS ready, \
                row_number() OVER (ORDER BY m.scheduled_at, m.created_at, m.umid) AS pos \
            FROM due JOIN messages m ON m.umid = due.umid), \
         {} \
         SELECT COUNT(*) FROM released",
        enqueue_sql("released")
    )
});

/// Cancels the waiting messages of subaccount `$1` that `column = $2` selects, moving each
/// to the status `$3..$9` with its history entry. Yields how many.
fn cancel_sql(column: &str) -> String {
    format!(
        "WITH cancelled AS ( \
            DELETE FROM scheduled_messages WHERE umid IN ( \
                SELECT umid FROM messages WHERE sub_account_id = $1 AND {column} = $2) \
            RETURNING umid), \
         moved AS ( \
            UPDATE messages m SET state = $3, detail = $4, error_code = $5, \
                error_message = $6, provider_error_code = $7, status_at = $8, \
                status_rank = $9 \
            FROM cancelled WHERE m.umid = cancelled.umid \
            RETURNING m.umid, m.account_id, m.sub_account_id, m.channel_id, m.msisdn), \
         history AS ( \
            INSERT INTO message_statuses (umid, state, detail, error_code, error_message, \
                provider_error_code, status_at) \
            SELECT umid, $3, $4, $5, $6, $7, $8 FROM moved ORDER BY umid \
            RETURNING id, umid, status_at), \
         moved_event AS ({} ORDER BY s.id) \
         SELECT COUNT(*) FROM moved",
        message_events(
            EventKind::MessageStatus,
            "FROM history s JOIN moved m ON m.umid = s.umid"
        )
    )
}

static CANCEL_MESSAGE: LazyLock<String> = LazyLock::new(|| cancel_sql("umid"));
static CANCEL_BATCH: LazyLock<String> = LazyLock::new(|| cancel_sql("batch_id"));

impl PostgresStore {
    pub(crate) async fn release_due(&self, now: DateTime<Utc>, limit: u32) -> StoreResult<u64> {
        let released: i64 = retrying(|| async {
            sqlx::query_scalar(&RELEASE)
                .bind(millis(now))
                .bind(i64::from(limit))
                .fetch_one(&self.pool)
                .await
                .map_err(db)
        })
        .await?;
        Ok(released as u64)
    }

    pub(crate) async fn cancel_waiting(
        &self,
        sub: &SubAccountId,
        target: Scheduled,
        status: &MessageStatus,
    ) -> StoreResult<u64> {
        let (sql, key) = match target {
            Scheduled::Message(umid) => (&*CANCEL_MESSAGE, umid.to_string()),
            Scheduled::Batch(batch) => (&*CANCEL_BATCH, batch.to_string()),
        };
        let s = StatusColumns::from(status);
        let cancelled: i64 = sqlx::query_scalar(sql)
            .bind(sub.as_str())
            .bind(key)
            .bind(s.state)
            .bind(s.detail)
            .bind(s.error_code)
            .bind(&s.error_message)
            .bind(&s.provider_error_code)
            .bind(s.at)
            .bind(s.rank)
            .fetch_one(&self.pool)
            .await
            .map_err(db)?;
        Ok(cancelled as u64)
    }
}
