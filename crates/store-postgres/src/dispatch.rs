use std::sync::LazyLock;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use parley_store::rows::{MESSAGE_COLUMNS, MessageRow, millis};
use parley_store::{DispatchJob, DispatchResult, DispatchStore, Message, StoreError, StoreResult};
use parley_types::Umid;
use sqlx::PgConnection;

use crate::messages::{Target, advance_status, message_on};
use crate::{PostgresStore, db};

/// Leases up to `$3` due queue heads until `$2` and returns their messages, oldest first.
/// A head is the oldest queued message of its (channel, recipient); rows another node is
/// claiming right now are skipped, not waited for, and rechecked once their lock is free,
/// so two nodes never lease the same message and never a message behind an unfinished one.
/// The messages are `LEFT JOIN`ed so a queued row without its message fails loudly
/// instead of staying leased unseen.
static CLAIM: LazyLock<String> = LazyLock::new(|| {
    format!(
        "WITH due AS ( \
            SELECT q.seq FROM dispatch_queue q \
            WHERE q.handed_off_at IS NULL AND q.next_attempt_at <= $1 \
              AND (q.lease_until IS NULL OR q.lease_until <= $1) \
              AND NOT EXISTS (SELECT 1 FROM dispatch_queue p \
                  WHERE p.channel_id = q.channel_id AND p.msisdn = q.msisdn AND p.seq < q.seq) \
            ORDER BY q.seq LIMIT $3 \
            FOR UPDATE OF q SKIP LOCKED), \
         claimed AS ( \
            UPDATE dispatch_queue d SET lease_until = $2, attempts = d.attempts + 1 \
            FROM due WHERE d.seq = due.seq \
            RETURNING d.seq AS claim_seq, d.umid AS claim_umid, d.attempts AS claim_attempts) \
         SELECT claim_attempts, {MESSAGE_COLUMNS} \
         FROM claimed LEFT JOIN messages ON messages.umid = claimed.claim_umid \
         ORDER BY claim_seq"
    )
});

#[derive(sqlx::FromRow)]
struct ClaimRow {
    claim_attempts: i32,
    #[sqlx(flatten)]
    message: MessageRow,
}

/// One message's dispatch result, inside the caller's transaction.
async fn complete_in(
    conn: &mut PgConnection,
    umid: Umid,
    result: &DispatchResult,
) -> StoreResult<Message> {
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
    }
    let moved = advance_status(&mut *conn, Target::Umid(&key), provider_id, status).await?;
    sqlx::query("DELETE FROM dispatch_queue WHERE umid = $1")
        .bind(&key)
        .execute(&mut *conn)
        .await
        .map_err(db)?;
    let message = match moved {
        Some(message) => message,
        None => message_on(&mut *conn, &key).await?,
    };
    Ok(message)
}

#[async_trait]
impl DispatchStore for PostgresStore {
    async fn claim_dispatch(
        &self,
        now: DateTime<Utc>,
        lease_until: DateTime<Utc>,
        limit: u32,
    ) -> StoreResult<Vec<DispatchJob>> {
        // One statement: the leases commit with it, and the row locks are held for no
        // round trip longer than the statement itself.
        sqlx::query_as::<_, ClaimRow>(&CLAIM)
            .bind(millis(now))
            .bind(millis(lease_until))
            .bind(i64::from(limit))
            .fetch_all(&self.pool)
            .await
            .map_err(db)?
            .into_iter()
            .map(|row| {
                Ok(DispatchJob {
                    message: row.message.into_model()?,
                    attempts: u32::try_from(row.claim_attempts).map_err(|_| {
                        StoreError::Corrupt(format!("attempts {}", row.claim_attempts))
                    })?,
                })
            })
            .collect()
    }

    async fn mark_handed_off(&self, umids: &[Umid], at: DateTime<Utc>) -> StoreResult<()> {
        let keys: Vec<String> = umids.iter().map(Umid::to_string).collect();
        sqlx::query("UPDATE dispatch_queue SET handed_off_at = $1 WHERE umid = ANY($2)")
            .bind(millis(at))
            .bind(&keys)
            .execute(&self.pool)
            .await
            .map_err(db)?;
        Ok(())
    }

    async fn complete_dispatch(&self, umid: Umid, result: &DispatchResult) -> StoreResult<Message> {
        let mut tx = self.pool.begin().await.map_err(db)?;
        let message = complete_in(&mut tx, umid, result).await?;
        tx.commit().await.map_err(db)?;
        Ok(message)
    }

    async fn complete_dispatches(&self, results: &[(Umid, DispatchResult)]) -> StoreResult<()> {
        let mut tx = self.pool.begin().await.map_err(db)?;
        for (umid, result) in results {
            complete_in(&mut tx, *umid, result).await?;
        }
        tx.commit().await.map_err(db)
    }

    async fn retry_dispatch(&self, umid: Umid, next_attempt_at: DateTime<Utc>) -> StoreResult<()> {
        sqlx::query(
            "UPDATE dispatch_queue \
             SET handed_off_at = NULL, lease_until = NULL, next_attempt_at = $1 \
             WHERE umid = $2",
        )
        .bind(millis(next_attempt_at))
        .bind(umid.to_string())
        .execute(&self.pool)
        .await
        .map_err(db)?;
        Ok(())
    }

    async fn interrupted_dispatches(&self, now: DateTime<Utc>) -> StoreResult<Vec<Umid>> {
        let umids: Vec<String> = sqlx::query_scalar(
            "SELECT umid FROM dispatch_queue \
             WHERE handed_off_at IS NOT NULL AND lease_until <= $1 ORDER BY seq",
        )
        .bind(millis(now))
        .fetch_all(&self.pool)
        .await
        .map_err(db)?;
        umids
            .iter()
            .map(|u| {
                u.parse()
                    .map_err(|_| StoreError::Corrupt(format!("umid {u:?}")))
            })
            .collect()
    }

    async fn dispatch_backlog(&self) -> StoreResult<u64> {
        let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM dispatch_queue")
            .fetch_one(&self.pool)
            .await
            .map_err(db)?;
        Ok(n as u64)
    }
}
