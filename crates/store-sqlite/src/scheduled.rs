//! Scheduled messages: releasing them into the dispatch queue when due, and cancelling
//! them while they wait.

use std::sync::LazyLock;

use chrono::{DateTime, Utc};
use parley_store::{EventKind, MessageStatus, Scheduled, StoreError, StoreResult};
use parley_store_sql::event_rows::message_events;
use parley_store_sql::rows::{StatusColumns, millis};
use parley_types::SubAccountId;

use crate::messages::ENQUEUE_LANES;
use crate::{SqliteStore, db};

fn json_list(umids: &[String]) -> StoreResult<String> {
    serde_json::to_string(umids).map_err(|e| StoreError::Corrupt(e.to_string()))
}

/// Moves the messages `?1` (a JSON array of umids) to the status `?2..?8`, with their
/// history entries and events.
static CANCEL: LazyLock<String> = LazyLock::new(|| {
    format!(
        "UPDATE messages SET state = ?2, detail = ?3, error_code = ?4, error_message = ?5, \
            provider_error_code = ?6, status_at = ?7, status_rank = ?8 \
         WHERE umid IN (SELECT value FROM json_each(?1)); \
         INSERT INTO message_statuses \
            (umid, state, detail, error_code, error_message, provider_error_code, status_at) \
         SELECT value, ?2, ?3, ?4, ?5, ?6, ?7 FROM json_each(?1) ORDER BY key; {}",
        message_events(
            EventKind::MessageStatus,
            "FROM json_each(?1) g JOIN messages m ON m.umid = g.value \
             JOIN message_statuses s ON s.id = \
                (SELECT MAX(id) FROM message_statuses WHERE umid = g.value) \
             ORDER BY g.key"
        )
    )
});

impl SqliteStore {
    pub(crate) async fn release_due(&self, now: DateTime<Utc>, limit: u32) -> StoreResult<u64> {
        let mut tx = self.writer.begin().await.map_err(db)?;
        let due: Vec<String> = sqlx::query_scalar(
            "DELETE FROM scheduled_messages WHERE umid IN ( \
                SELECT umid FROM scheduled_messages WHERE due_at <= ?1 \
                ORDER BY due_at LIMIT ?2) \
             RETURNING umid",
        )
        .bind(millis(now))
        .bind(i64::from(limit))
        .fetch_all(&mut *tx)
        .await
        .map_err(db)?;
        if due.is_empty() {
            return Ok(0);
        }
        let list = json_list(&due)?;
        // In the order they were due: two messages to one user keep their order.
        sqlx::query(
            "INSERT INTO dispatch_queue (umid, channel_id, msisdn, next_attempt_at) \
             SELECT m.umid, m.channel_id, m.msisdn, ?2 \
             FROM json_each(?1) g JOIN messages m ON m.umid = g.value \
             ORDER BY m.scheduled_at, m.created_at, m.umid",
        )
        .bind(&list)
        .bind(millis(now))
        .execute(&mut *tx)
        .await
        .map_err(db)?;
        sqlx::query(ENQUEUE_LANES)
            .bind(&list)
            .execute(&mut *tx)
            .await
            .map_err(db)?;
        tx.commit().await.map_err(db)?;
        Ok(due.len() as u64)
    }

    pub(crate) async fn cancel_waiting(
        &self,
        sub: &SubAccountId,
        target: Scheduled,
        status: &MessageStatus,
    ) -> StoreResult<u64> {
        let (column, key) = match target {
            Scheduled::Message(umid) => ("umid", umid.to_string()),
            Scheduled::Batch(batch) => ("batch_id", batch.to_string()),
        };
        let mut tx = self.writer.begin().await.map_err(db)?;
        let cancelled: Vec<String> = sqlx::query_scalar(&format!(
            "DELETE FROM scheduled_messages WHERE umid IN ( \
                SELECT umid FROM messages WHERE sub_account_id = ? AND {column} = ?) \
             RETURNING umid"
        ))
        .bind(sub.as_str())
        .bind(key)
        .fetch_all(&mut *tx)
        .await
        .map_err(db)?;
        if cancelled.is_empty() {
            return Ok(0);
        }
        let list = json_list(&cancelled)?;
        let s = StatusColumns::from(status);
        sqlx::query(&CANCEL)
            .bind(&list)
            .bind(s.state)
            .bind(s.detail)
            .bind(s.error_code)
            .bind(&s.error_message)
            .bind(&s.provider_error_code)
            .bind(s.at)
            .bind(s.rank)
            .execute(&mut *tx)
            .await
            .map_err(db)?;
        tx.commit().await.map_err(db)?;
        Ok(cancelled.len() as u64)
    }
}
