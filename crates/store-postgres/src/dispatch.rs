use std::collections::HashMap;
use std::sync::LazyLock;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use parley_store::{
    DispatchJob, DispatchResult, DispatchStore, Message, MessageStatus, Scheduled, StoreError,
    StoreResult,
};
use parley_store_sql::pacing_rows::ops as pacing_ops;
use parley_store_sql::rows::{MESSAGE_COLUMNS, MessageRow, millis};
use parley_types::{ChannelId, SubAccountId, Umid};
use sqlx::{PgConnection, Postgres};

use crate::messages::{Target, advance_status, message_on};
use crate::{PostgresStore, db, retrying};
use parley_store_sql::rows::advance_lanes_sql;

/// Leases up to `$3` due lanes, except those of the channels in `$4`, until `$2` and
/// returns their heads. The lanes are taken in turns (see `DispatchStore::claim_dispatch`):
/// each channel's due lanes oldest first (`rank`, read from the `(channel_id, ready_at)`
/// index, at most `$3` per channel), interleaved per subaccount, and the turns of all
/// subaccounts interleaved. Lanes another node is claiming right now are skipped, not
/// waited for; a lane that changed since the statement began is rechecked in its latest
/// version, head included, so two nodes never lease the same lane and a lane has one
/// message in flight at a time.
///
/// The picked lanes are found again by their unique head, never by joining the lanes to
/// themselves: right after a burst of accepts, before autovacuum has analysed the table,
/// the planner guesses a handful of due lanes and joined tens of thousands of rows to
/// hundreds in a nested loop, seconds per claim.
const CLAIM: &str = "WITH picked AS ( \
        SELECT f.head_umid FROM channels c \
        CROSS JOIN LATERAL ( \
            SELECT head_umid, ready_at, row_number() OVER (ORDER BY ready_at) AS rank \
            FROM dispatch_lanes \
            WHERE channel_id = c.id AND ready_at <= $1 AND handed_off_at IS NULL \
              AND (lease_until IS NULL OR lease_until <= $1) \
            ORDER BY ready_at LIMIT $3) f \
        WHERE c.id <> ALL($4) \
        ORDER BY row_number() OVER (PARTITION BY c.sub_account_id ORDER BY f.rank, f.ready_at), \
                 f.ready_at \
        LIMIT $3) \
    UPDATE dispatch_lanes l SET lease_until = $2, attempts = l.attempts + 1 \
    FROM (SELECT head_umid FROM dispatch_lanes \
          WHERE head_umid = ANY(ARRAY(SELECT head_umid FROM picked)) \
            AND ready_at <= $1 AND handed_off_at IS NULL \
            AND (lease_until IS NULL OR lease_until <= $1) \
          FOR UPDATE SKIP LOCKED) due \
    WHERE l.head_umid = due.head_umid \
    RETURNING l.ready_at, l.head_umid, l.attempts";

static ADVANCE_LANES: LazyLock<String> = LazyLock::new(|| advance_lanes_sql("= ANY($1)"));

/// Takes finished messages out of the queue and moves their lanes on. The lanes are locked
/// first, in one order shared by every transaction that locks several lanes (accepts lock
/// theirs in the same order), in a statement of its own: an accept adding to such a lane
/// right now holds the lock until it commits, so the next statement, which reads the
/// lanes' next messages, sees what it added.
async fn release(conn: &mut PgConnection, heads: &[String]) -> StoreResult<()> {
    sqlx::query(
        "SELECT 1 FROM dispatch_lanes WHERE head_umid = ANY($1) \
         ORDER BY channel_id COLLATE \"C\", msisdn COLLATE \"C\" FOR UPDATE",
    )
    .bind(heads)
    .execute(&mut *conn)
    .await
    .map_err(db)?;
    sqlx::query("DELETE FROM dispatch_queue WHERE umid = ANY($1)")
        .bind(heads)
        .execute(&mut *conn)
        .await
        .map_err(db)?;
    sqlx::query(&ADVANCE_LANES)
        .bind(heads)
        .execute(&mut *conn)
        .await
        .map_err(db)?;
    Ok(())
}

/// Records dispatch results in one transaction: the messages in umid order (as receipts
/// lock them), then their lanes. Yields each message that moved, in umid order.
async fn complete_all(
    store: &PostgresStore,
    results: &[(Umid, &DispatchResult)],
) -> StoreResult<Vec<Option<Message>>> {
    let mut ordered: Vec<&(Umid, &DispatchResult)> = results.iter().collect();
    ordered.sort_unstable_by_key(|(umid, _)| *umid);
    let mut tx = store.pool.begin().await.map_err(db)?;
    let mut moved = Vec::with_capacity(ordered.len());
    for (umid, result) in &ordered {
        moved.push(record_result(&mut tx, *umid, result).await?);
    }
    let heads: Vec<String> = ordered.iter().map(|(umid, _)| umid.to_string()).collect();
    release(&mut tx, &heads).await?;
    tx.commit().await.map_err(db)?;
    Ok(moved)
}

/// A message's dispatch result, on the message, inside the caller's transaction; yields
/// the message if its status moved.
async fn record_result(
    conn: &mut PgConnection,
    umid: Umid,
    result: &DispatchResult,
) -> StoreResult<Option<Message>> {
    let key = umid.to_string();
    let (provider_id, status) = match result {
        DispatchResult::Sent {
            provider_message_id,
            status,
        } => (Some(provider_message_id.as_str()), status),
        DispatchResult::Failed { status } => (None, status),
    };
    if let Some(wamid) = provider_id {
        // A fast receipt may already have matched the message by umid and moved it
        // past `sent`; the id is attached either way and the status only moves forward.
        sqlx::query("UPDATE messages SET provider_message_id = $1 WHERE umid = $2")
            .bind(wamid)
            .bind(&key)
            .execute(&mut *conn)
            .await
            .map_err(db)?;
        parley_store_sql::pricing_rows::ops::replied::<sqlx::Postgres>(&mut *conn, &key, status.at)
            .await?;
    }
    advance_status(&mut *conn, Target::Umid(&key), provider_id, status).await
}

impl PostgresStore {
    /// Gives claimed messages back to their lanes, due again at the given times, held for
    /// `reason`; the claim counts as an attempt only if `attempted`. Lanes are locked in
    /// the shared order.
    async fn requeue(
        &self,
        items: &[(Umid, DateTime<Utc>)],
        attempted: bool,
        reason: &str,
    ) -> StoreResult<()> {
        let (heads, due): (Vec<String>, Vec<i64>) = items
            .iter()
            .map(|(umid, at)| (umid.to_string(), millis(*at)))
            .unzip();
        retrying(|| async {
            sqlx::query(
                "UPDATE dispatch_lanes l SET handed_off_at = NULL, lease_until = NULL, \
                    ready_at = d.due, attempts = GREATEST(l.attempts - $3, 0), \
                    hold_reason = $4 \
                 FROM (SELECT channel_id, msisdn FROM dispatch_lanes WHERE head_umid = ANY($1) \
                       ORDER BY channel_id COLLATE \"C\", msisdn COLLATE \"C\" FOR UPDATE) locked, \
                      unnest($1::text[], $2::bigint[]) d(head, due) \
                 WHERE l.channel_id = locked.channel_id AND l.msisdn = locked.msisdn \
                   AND l.head_umid = d.head",
            )
            .bind(&heads)
            .bind(&due)
            .bind(i32::from(!attempted))
            .bind(reason)
            .execute(&self.pool)
            .await
            .map_err(db)
        })
        .await?;
        Ok(())
    }
}

#[async_trait]
impl DispatchStore for PostgresStore {
    async fn claim_dispatch(
        &self,
        now: DateTime<Utc>,
        lease_until: DateTime<Utc>,
        limit: u32,
        skip: &[ChannelId],
    ) -> StoreResult<Vec<DispatchJob>> {
        let skip: Vec<String> = skip.iter().map(ChannelId::to_string).collect();
        let mut claimed: Vec<(i64, String, i32)> = sqlx::query_as(CLAIM)
            .bind(millis(now))
            .bind(millis(lease_until))
            .bind(i64::from(limit))
            .bind(&skip)
            .fetch_all(&self.pool)
            .await
            .map_err(db)?;
        claimed.sort_unstable_by(|a, b| (a.0, &a.1).cmp(&(b.0, &b.1)));
        // Read after the leases committed, so a head accepted a moment ago is visible.
        let heads: Vec<&str> = claimed.iter().map(|c| c.1.as_str()).collect();
        let mut messages: HashMap<String, Message> = sqlx::query_as::<_, MessageRow>(&format!(
            "SELECT {MESSAGE_COLUMNS} FROM messages WHERE umid = ANY($1)"
        ))
        .bind(&heads)
        .fetch_all(&self.pool)
        .await
        .map_err(db)?
        .into_iter()
        .map(|row| row.into_model().map(|m| (m.umid.to_string(), m)))
        .collect::<StoreResult<_>>()?;
        claimed
            .into_iter()
            .map(|(_, umid, attempts)| {
                Ok(DispatchJob {
                    message: messages.remove(&umid).ok_or_else(|| {
                        StoreError::Corrupt(format!("queued message {umid} missing"))
                    })?,
                    attempts: u32::try_from(attempts)
                        .map_err(|_| StoreError::Corrupt(format!("attempts {attempts}")))?,
                })
            })
            .collect()
    }

    async fn mark_handed_off(&self, umids: &[Umid], at: DateTime<Utc>) -> StoreResult<()> {
        let keys: Vec<String> = umids.iter().map(Umid::to_string).collect();
        // The lanes are locked in the shared order (see `lock_lanes`).
        sqlx::query(
            "UPDATE dispatch_lanes l SET handed_off_at = $1 \
             FROM (SELECT channel_id, msisdn FROM dispatch_lanes WHERE head_umid = ANY($2) \
                   ORDER BY channel_id COLLATE \"C\", msisdn COLLATE \"C\" FOR UPDATE) locked \
             WHERE l.channel_id = locked.channel_id AND l.msisdn = locked.msisdn",
        )
        .bind(millis(at))
        .bind(&keys)
        .execute(&self.pool)
        .await
        .map_err(db)?;
        Ok(())
    }

    async fn complete_dispatch(&self, umid: Umid, result: &DispatchResult) -> StoreResult<Message> {
        let one = [(umid, result)];
        match retrying(|| complete_all(self, &one)).await?.pop().flatten() {
            Some(moved) => Ok(moved),
            None => message_on(&self.pool, &umid.to_string()).await,
        }
    }

    async fn complete_dispatches(&self, results: &[(Umid, DispatchResult)]) -> StoreResult<()> {
        let results: Vec<(Umid, &DispatchResult)> = results.iter().map(|(u, r)| (*u, r)).collect();
        retrying(|| complete_all(self, &results)).await?;
        Ok(())
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
        let mut conn = self.pool.acquire().await.map_err(db)?;
        pacing_ops::hold::<Postgres>(&mut conn, umid).await
    }

    async fn set_messaging_limit(
        &self,
        waba_id: &str,
        tier: &str,
        at: DateTime<Utc>,
    ) -> StoreResult<()> {
        let mut conn = self.pool.acquire().await.map_err(db)?;
        pacing_ops::set_messaging_limit::<Postgres>(&mut conn, waba_id, tier, at).await
    }

    async fn release_holds(&self, reason: &str, now: DateTime<Utc>) -> StoreResult<u64> {
        let mut conn = self.pool.acquire().await.map_err(db)?;
        pacing_ops::release_holds::<Postgres>(&mut conn, reason, now).await
    }

    async fn messaging_limits(&self) -> StoreResult<Vec<(String, String)>> {
        let mut conn = self.pool.acquire().await.map_err(db)?;
        pacing_ops::messaging_limits::<Postgres>(&mut conn).await
    }

    async fn take_interrupted(
        &self,
        now: DateTime<Utc>,
        grace: chrono::Duration,
        lease_until: DateTime<Utc>,
    ) -> StoreResult<Vec<Umid>> {
        let cutoff = now - grace;
        let umids: Vec<String> = sqlx::query_scalar(&format!(
            "UPDATE dispatch_lanes l SET lease_until = $2 \
             FROM (SELECT lane.channel_id, lane.msisdn FROM dispatch_lanes lane \
                   WHERE lane.handed_off_at IS NOT NULL AND lane.lease_until <= $1 \
                     AND {} \
                   ORDER BY lane.ready_at LIMIT 1000 FOR UPDATE OF lane SKIP LOCKED) lost \
             WHERE l.channel_id = lost.channel_id AND l.msisdn = lost.msisdn \
             RETURNING l.head_umid",
            pacing_ops::receipts_not_behind(grace, cutoff)
        ))
        .bind(millis(cutoff))
        .bind(millis(lease_until))
        .fetch_all(&self.pool)
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
        let mut conn = self.pool.acquire().await.map_err(db)?;
        pacing_ops::note_receipts::<Postgres>(&mut conn, &channel.to_string(), through, seen_at)
            .await
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
            .fetch_one(&self.pool)
            .await
            .map_err(db)?;
        Ok(n as u64)
    }
}
