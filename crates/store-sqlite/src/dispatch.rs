use std::sync::LazyLock;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use parley_store::{
    DispatchJob, DispatchResult, DispatchStore, Message, MessageStatus, Scheduled, StoreError,
    StoreResult,
};
use parley_store_sql::pacing_rows::ops as pacing_ops;
use parley_store_sql::pricing_rows::ops as pricing_ops;
use parley_store_sql::rows::{MESSAGE_COLUMNS, MessageRow, millis};
use parley_types::{ChannelId, SubAccountId, Umid};
use sqlx::{Sqlite, Transaction};

use crate::messages::{advance_status, message_on};
use crate::{SqliteStore, db};
use parley_store_sql::rows::advance_lanes_sql;

fn umid_list(umids: &[Umid]) -> StoreResult<String> {
    serde_json::to_string(&umids.iter().map(Umid::to_string).collect::<Vec<_>>())
        .map_err(|e| StoreError::Corrupt(e.to_string()))
}

/// A message's dispatch result, on the message, inside the caller's transaction.
async fn record_result(
    tx: &mut Transaction<'_, Sqlite>,
    umid: Umid,
    result: &DispatchResult,
) -> StoreResult<()> {
    let key = umid.to_string();
    let (provider_id, status) = match result {
        DispatchResult::Sent {
            provider_message_id,
            status,
        } => (Some(provider_message_id.as_str()), status),
        DispatchResult::Failed { status } => (None, status),
    };
    if let Some(wamid) = provider_id {
        // A fast receipt may already have matched the message by umid and moved it past
        // `sent`; the id is attached either way and the status only moves forward.
        sqlx::query("UPDATE messages SET provider_message_id = ? WHERE umid = ?")
            .bind(wamid)
            .bind(&key)
            .execute(&mut **tx)
            .await
            .map_err(db)?;
        pricing_ops::replied::<Sqlite>(&mut **tx, &key, status.at).await?;
    }
    advance_status(tx, &key, provider_id, status).await?;
    Ok(())
}

static ADVANCE_LANES: LazyLock<String> =
    LazyLock::new(|| advance_lanes_sql("IN (SELECT value FROM json_each($1))"));

/// Takes finished messages out of the queue and moves their lanes on.
async fn release(tx: &mut Transaction<'_, Sqlite>, umids: &[Umid]) -> StoreResult<()> {
    let list = umid_list(umids)?;
    sqlx::query("DELETE FROM dispatch_queue WHERE umid IN (SELECT value FROM json_each(?))")
        .bind(&list)
        .execute(&mut **tx)
        .await
        .map_err(db)?;
    sqlx::query(&ADVANCE_LANES)
        .bind(&list)
        .execute(&mut **tx)
        .await
        .map_err(db)?;
    Ok(())
}

impl SqliteStore {
    /// Gives claimed messages back to their lanes, due again at the given times, held for
    /// `reason`; the claim counts as an attempt only if `attempted`.
    async fn requeue(
        &self,
        items: &[(Umid, DateTime<Utc>)],
        attempted: bool,
        reason: &str,
    ) -> StoreResult<()> {
        let items = serde_json::to_string(
            &items
                .iter()
                .map(|(umid, at)| (umid.to_string(), millis(*at)))
                .collect::<Vec<_>>(),
        )
        .map_err(|e| StoreError::Corrupt(e.to_string()))?;
        sqlx::query(
            "UPDATE dispatch_lanes SET handed_off_at = NULL, lease_until = NULL, \
                ready_at = json_extract(d.value, '$[1]'), \
                attempts = MAX(attempts - ?2, 0), hold_reason = ?3 \
             FROM json_each(?1) d WHERE head_umid = json_extract(d.value, '$[0]')",
        )
        .bind(items)
        .bind(i64::from(!attempted))
        .bind(reason)
        .execute(&self.writer)
        .await
        .map_err(db)?;
        Ok(())
    }
}

#[async_trait]
impl DispatchStore for SqliteStore {
    async fn claim_dispatch(
        &self,
        now: DateTime<Utc>,
        lease_until: DateTime<Utc>,
        limit: u32,
        skip: &[ChannelId],
    ) -> StoreResult<Vec<DispatchJob>> {
        let skip =
            serde_json::to_string(&skip.iter().map(ChannelId::to_string).collect::<Vec<_>>())
                .map_err(|e| StoreError::Corrupt(e.to_string()))?;
        let mut tx = self.writer.begin().await.map_err(db)?;
        // Due lanes taken in turns, each with its head: each channel's oldest first (at
        // most `limit` per channel, from the `(channel_id, ready_at)` index), interleaved
        // per subaccount, and the subaccounts' turns interleaved.
        let mut claimed: Vec<(i64, String, i64)> = sqlx::query_as(
            "WITH per_channel AS ( \
                SELECT l.rowid AS lane, c.sub_account_id AS sub, l.ready_at AS ready_at, \
                       row_number() OVER (PARTITION BY l.channel_id ORDER BY l.ready_at) AS rank \
                FROM channels c JOIN dispatch_lanes l ON l.rowid IN ( \
                    SELECT rowid FROM dispatch_lanes \
                    WHERE channel_id = c.id AND ready_at <= ?1 AND handed_off_at IS NULL \
                      AND (lease_until IS NULL OR lease_until <= ?1) \
                    ORDER BY ready_at LIMIT ?3) \
                WHERE c.id NOT IN (SELECT value FROM json_each(?4))), \
             turns AS ( \
                SELECT lane, ready_at, \
                       row_number() OVER (PARTITION BY sub ORDER BY rank, ready_at) AS turn \
                FROM per_channel) \
             UPDATE dispatch_lanes SET lease_until = ?2, attempts = attempts + 1 \
             WHERE rowid IN (SELECT lane FROM turns ORDER BY turn, ready_at LIMIT ?3) \
             RETURNING ready_at, head_umid, attempts",
        )
        .bind(millis(now))
        .bind(millis(lease_until))
        .bind(i64::from(limit))
        .bind(skip)
        .fetch_all(&mut *tx)
        .await
        .map_err(db)?;
        claimed.sort_unstable_by(|a, b| (a.0, &a.1).cmp(&(b.0, &b.1)));
        let umids = serde_json::to_string(&claimed.iter().map(|c| &c.1).collect::<Vec<_>>())
            .map_err(|e| StoreError::Corrupt(e.to_string()))?;
        let rows = sqlx::query_as::<_, MessageRow>(&format!(
            "SELECT {MESSAGE_COLUMNS} FROM messages WHERE umid IN (SELECT value FROM json_each(?))"
        ))
        .bind(umids)
        .fetch_all(&mut *tx)
        .await
        .map_err(db)?;
        tx.commit().await.map_err(db)?;
        let mut messages: Vec<Message> = rows
            .into_iter()
            .map(MessageRow::into_model)
            .collect::<StoreResult<_>>()?;
        claimed
            .into_iter()
            .map(|(_, umid, attempts)| {
                let at = messages
                    .iter()
                    .position(|m| m.umid.to_string() == umid)
                    .ok_or_else(|| StoreError::Corrupt(format!("queued message {umid} missing")))?;
                Ok(DispatchJob {
                    message: messages.swap_remove(at),
                    attempts: attempts as u32,
                })
            })
            .collect()
    }

    async fn mark_handed_off(&self, umids: &[Umid], at: DateTime<Utc>) -> StoreResult<()> {
        sqlx::query(
            "UPDATE dispatch_lanes SET handed_off_at = ? \
             WHERE head_umid IN (SELECT value FROM json_each(?))",
        )
        .bind(millis(at))
        .bind(umid_list(umids)?)
        .execute(&self.writer)
        .await
        .map_err(db)?;
        Ok(())
    }

    async fn complete_dispatch(&self, umid: Umid, result: &DispatchResult) -> StoreResult<Message> {
        let mut tx = self.writer.begin().await.map_err(db)?;
        record_result(&mut tx, umid, result).await?;
        release(&mut tx, &[umid]).await?;
        let message = message_on(&mut tx, &umid.to_string()).await?;
        tx.commit().await.map_err(db)?;
        Ok(message)
    }

    async fn complete_dispatches(&self, results: &[(Umid, DispatchResult)]) -> StoreResult<()> {
        let mut tx = self.writer.begin().await.map_err(db)?;
        for (umid, result) in results {
            record_result(&mut tx, *umid, result).await?;
        }
        let umids: Vec<Umid> = results.iter().map(|(umid, _)| *umid).collect();
        release(&mut tx, &umids).await?;
        tx.commit().await.map_err(db)
    }

    async fn retry_dispatch(&self, umid: Umid, next_attempt_at: DateTime<Utc>) -> StoreResult<()> {
        self.requeue(&[(umid, next_attempt_at)], true, "retry")
            .await
    }

    async fn defer_dispatches(
        &self,
        deferrals: &[(Umid, DateTime<Utc>)],
        reason: &str,
    ) -> StoreResult<()> {
        self.requeue(deferrals, false, reason).await
    }

    async fn hold(&self, umid: Umid) -> StoreResult<Option<(DateTime<Utc>, String)>> {
        let mut conn = self.reader.acquire().await.map_err(db)?;
        pacing_ops::hold::<Sqlite>(&mut conn, umid).await
    }

    async fn set_messaging_limit(
        &self,
        waba_id: &str,
        tier: &str,
        at: DateTime<Utc>,
    ) -> StoreResult<()> {
        let mut conn = self.writer.acquire().await.map_err(db)?;
        pacing_ops::set_messaging_limit::<Sqlite>(&mut conn, waba_id, tier, at).await
    }

    async fn release_holds(&self, reason: &str, now: DateTime<Utc>) -> StoreResult<u64> {
        let mut conn = self.writer.acquire().await.map_err(db)?;
        pacing_ops::release_holds::<Sqlite>(&mut conn, reason, now).await
    }

    async fn messaging_limits(&self) -> StoreResult<Vec<(String, String)>> {
        let mut conn = self.reader.acquire().await.map_err(db)?;
        pacing_ops::messaging_limits::<Sqlite>(&mut conn).await
    }

    async fn take_interrupted(
        &self,
        now: DateTime<Utc>,
        grace: chrono::Duration,
        lease_until: DateTime<Utc>,
    ) -> StoreResult<Vec<Umid>> {
        let cutoff = now - grace;
        let umids: Vec<String> = sqlx::query_scalar(&format!(
            "UPDATE dispatch_lanes SET lease_until = ?2 \
             WHERE rowid IN (SELECT lane.rowid FROM dispatch_lanes lane \
                             WHERE lane.handed_off_at IS NOT NULL AND lane.lease_until <= ?1 \
                               AND {} \
                             ORDER BY lane.ready_at LIMIT 1000) \
             RETURNING head_umid",
            pacing_ops::receipts_not_behind(grace, cutoff)
        ))
        .bind(millis(cutoff))
        .bind(millis(lease_until))
        .fetch_all(&self.writer)
        .await
        .map_err(db)?;
        parley_store_sql::rows::umids(&umids)
    }

    async fn note_receipts(
        &self,
        channel: ChannelId,
        through: DateTime<Utc>,
        seen_at: DateTime<Utc>,
    ) -> StoreResult<()> {
        let mut conn = self.writer.acquire().await.map_err(db)?;
        pacing_ops::note_receipts::<Sqlite>(&mut conn, &channel.to_string(), through, seen_at).await
    }

    async fn release_scheduled(&self, now: DateTime<Utc>, limit: u32) -> StoreResult<u64> {
        self.release_due(now, limit).await
    }

    async fn cancel_scheduled(
        &self,
        sub: &SubAccountId,
        target: Scheduled,
        status: &MessageStatus,
    ) -> StoreResult<u64> {
        self.cancel_waiting(sub, target, status).await
    }

    async fn dispatch_backlog(&self) -> StoreResult<u64> {
        let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM dispatch_queue")
            .fetch_one(&self.reader)
            .await
            .map_err(db)?;
        Ok(n as u64)
    }
}
