//! Scheduled messages: releasing them into the dispatch queue when due, and cancelling
//! them while they wait.

use chrono::{DateTime, Utc};
use parley_store::rows::{StatusColumns, millis};
use parley_store::{MessageStatus, Scheduled, StoreError, StoreResult};
use parley_types::SubAccountId;

use crate::messages::ENQUEUE_LANES;
use crate::{SqliteStore, db};

fn json_list(umids: &[String]) -> StoreResult<String> {
    serde_json::to_string(umids).map_err(|e| StoreError::Corrupt(e.to_string()))
}

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
        sqlx::query(
            "UPDATE messages SET state = ?2, detail = ?3, error_code = ?4, error_message = ?5, \
                provider_error_code = ?6, status_at = ?7, status_rank = ?8 \
             WHERE umid IN (SELECT value FROM json_each(?1)); \
             INSERT INTO message_statuses \
                (umid, state, detail, error_code, error_message, provider_error_code, status_at) \
             SELECT value, ?2, ?3, ?4, ?5, ?6, ?7 FROM json_each(?1) ORDER BY key",
        )
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
