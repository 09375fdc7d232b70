use std::collections::HashSet;
use std::sync::LazyLock;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use parley_store::{
    AcceptOutcome, ConversationWindow, EventKind, InboundOutcome, Message, MessageStatus,
    MessageStore, OptChange, PriceList, Receipt, StoreError, StoreResult, UsageRow,
};
use parley_store_sql::accept_group::{
    Statement, insert_messages, outcomes, stored_by_client_id, umid_json,
};
use parley_store_sql::event_rows::message_events;
use parley_store_sql::pricing_rows::ops as pricing_ops;
use parley_store_sql::rows::{
    MESSAGE_COLUMNS, MESSAGE_INSERT_COLUMNS, MessageRow, StatusColumns, StatusRow, millis,
};
use parley_types::{AccountId, ChannelId, Umid};
use sqlx::{Sqlite, SqliteConnection, Transaction};

use crate::{SqliteStore, db};

pub(crate) async fn message_on(conn: &mut SqliteConnection, umid: &str) -> StoreResult<Message> {
    sqlx::query_as::<_, MessageRow>(&format!(
        "SELECT {MESSAGE_COLUMNS} FROM messages WHERE umid = ?"
    ))
    .bind(umid)
    .fetch_optional(&mut *conn)
    .await
    .map_err(db)?
    .ok_or_else(|| StoreError::Corrupt(format!("message {umid} vanished")))?
    .into_model()
}

/// The rest of an accept, after the multi-row `INSERT INTO messages … RETURNING umid`:
/// history, queue rows in the group's order (a scheduled message waits in
/// `scheduled_messages` instead) and lanes, each derived from the rows that were inserted
/// (a duplicate's umid is not in `messages`). Every `?` is the group's umids as a JSON
/// array.
static ACCEPT_FOLLOW_UP: LazyLock<String> = LazyLock::new(|| {
    format!(
        "INSERT INTO message_statuses \
        (umid, state, detail, error_code, error_message, provider_error_code, status_at) \
    SELECT m.umid, m.state, m.detail, m.error_code, m.error_message, m.provider_error_code, \
        m.status_at \
    FROM json_each(?) g JOIN messages m ON m.umid = g.value ORDER BY g.key; \
    INSERT INTO dispatch_queue (umid, channel_id, msisdn, next_attempt_at) \
    SELECT m.umid, m.channel_id, m.msisdn, m.created_at \
    FROM json_each(?) g JOIN messages m ON m.umid = g.value \
    WHERE m.scheduled_at IS NULL ORDER BY g.key; \
    INSERT INTO scheduled_messages (umid, due_at) \
    SELECT m.umid, m.scheduled_at \
    FROM json_each(?) g JOIN messages m ON m.umid = g.value WHERE m.scheduled_at IS NOT NULL; \
    {}; ",
        message_events(
            EventKind::MessageAccepted,
            "FROM json_each(?) g JOIN messages m ON m.umid = g.value \
             JOIN message_statuses s ON s.umid = g.value ORDER BY g.key"
        )
    )
});

/// Gives the lanes of newly queued messages (the `?`: their umids as a JSON array) a head
/// if they have none, that is if none of their messages was queued before.
pub(crate) const ENQUEUE_LANES: &str = "\
    INSERT INTO dispatch_lanes (channel_id, msisdn, head_umid, ready_at) \
    SELECT q.channel_id, q.msisdn, q.umid, q.next_attempt_at \
    FROM json_each(?) g JOIN dispatch_queue q ON q.umid = g.value \
    WHERE NOT EXISTS (SELECT 1 FROM dispatch_queue p \
        WHERE p.channel_id = q.channel_id AND p.msisdn = q.msisdn AND p.seq < q.seq) \
    ON CONFLICT (channel_id, msisdn) DO UPDATE \
    SET head_umid = COALESCE(dispatch_lanes.head_umid, excluded.head_umid), \
        ready_at = COALESCE(dispatch_lanes.ready_at, excluded.ready_at); ";

/// Most messages one statement inserts: each binds 29 values, and SQLite takes at most
/// 32,766 per statement. Larger groups (batches) are inserted chunk by chunk, in one
/// transaction.
const ACCEPT_CHUNK: usize = 1000;

/// The command that accepts one chunk of a group: the chunk's insert and follow-up,
/// opening the transaction on the first chunk and committing it on the last.
fn accept_command<'q>(
    chunk: &[Message],
    first: bool,
    last: bool,
) -> StoreResult<Statement<'q, Sqlite>> {
    let mut query = Statement::<Sqlite>::new(if first { "BEGIN IMMEDIATE; " } else { "" });
    insert_messages(&mut query, chunk)?;
    query.push(" RETURNING umid; ");
    let group = umid_json(chunk)?;
    for (i, part) in [ACCEPT_FOLLOW_UP.as_str(), ENQUEUE_LANES]
        .concat()
        .split('?')
        .enumerate()
    {
        if i > 0 {
            query.bind(group.clone())?;
        }
        query.push(part);
    }
    if last {
        query.push("COMMIT;");
    }
    Ok(query)
}

async fn insert_message(tx: &mut Transaction<'_, Sqlite>, m: &Message) -> StoreResult<()> {
    let s = StatusColumns::from(&m.status);
    sqlx::query(&format!(
        "INSERT INTO messages ({MESSAGE_INSERT_COLUMNS}, status_rank) \
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
    ))
    .bind(m.umid.to_string())
    .bind(m.account_id.as_str())
    .bind(m.sub_account_id.as_str())
    .bind(m.channel_id.to_string())
    .bind(m.direction.as_str())
    .bind(&m.msisdn)
    .bind(&m.country)
    .bind(&m.content_type)
    .bind(m.content.to_string())
    .bind(&m.client_message_id)
    .bind(m.reply_to.map(|u| u.to_string()))
    .bind(&m.provider_message_id)
    .bind(&m.user_name)
    .bind(s.state)
    .bind(s.detail)
    .bind(s.error_code)
    .bind(&s.error_message)
    .bind(&s.provider_error_code)
    .bind(s.at)
    .bind(millis(m.created_at))
    .bind(&m.dlr_callback_url)
    .bind(&m.channel_user_id)
    .bind(s.rank)
    .execute(&mut **tx)
    .await
    .map_err(db)?;
    insert_history(tx, &m.umid.to_string(), &s, EventKind::MessageReceived).await
}

/// A history row (`?1`–`?7`) and the message event of its kind for it, in one call: the
/// history insert, then the event read from the row just inserted.
static HISTORY_WITH_EVENT: LazyLock<[String; 2]> = LazyLock::new(|| {
    [EventKind::MessageReceived, EventKind::MessageStatus].map(|kind| {
        format!(
            "INSERT INTO message_statuses \
                (umid, state, detail, error_code, error_message, provider_error_code, status_at) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7); {}",
            message_events(
                kind,
                "FROM message_statuses s JOIN messages m ON m.umid = s.umid \
                 WHERE s.id = last_insert_rowid()",
            )
        )
    })
});

/// Records the step in the message's history and appends its event (`kind`:
/// `MessageReceived` or `MessageStatus`).
pub(crate) async fn insert_history(
    tx: &mut Transaction<'_, Sqlite>,
    umid: &str,
    s: &StatusColumns,
    kind: EventKind,
) -> StoreResult<()> {
    let sql = &HISTORY_WITH_EVENT[usize::from(kind == EventKind::MessageStatus)];
    sqlx::query(sql)
        .bind(umid)
        .bind(s.state)
        .bind(s.detail)
        .bind(s.error_code)
        .bind(&s.error_message)
        .bind(&s.provider_error_code)
        .bind(s.at)
        .execute(&mut **tx)
        .await
        .map_err(db)?;
    Ok(())
}

/// Moves the message to `status` if that is a step forward (or the message's earlier
/// dispatch was interrupted and its outcome unknown). Returns whether it moved.
pub(crate) async fn advance_status(
    tx: &mut Transaction<'_, Sqlite>,
    umid: &str,
    provider_message_id: Option<&str>,
    status: &MessageStatus,
) -> StoreResult<bool> {
    let mut s = StatusColumns::from(status);
    // A step is never dated before the one it follows (see `parley_store::status`).
    let moved_at: Option<i64> = sqlx::query_scalar(
        "UPDATE messages SET provider_message_id = COALESCE(provider_message_id, ?), \
         state = ?, detail = ?, error_code = ?, error_message = ?, provider_error_code = ?, \
         status_at = MAX(status_at, ?), status_rank = ? \
         WHERE umid = ? AND (status_rank < ? \
            OR (state = 'undelivered' AND provider_message_id IS NULL AND ? IS NOT NULL)) \
         RETURNING status_at",
    )
    .bind(provider_message_id)
    .bind(s.state)
    .bind(s.detail)
    .bind(s.error_code)
    .bind(&s.error_message)
    .bind(&s.provider_error_code)
    .bind(s.at)
    .bind(s.rank)
    .bind(umid)
    .bind(s.rank)
    .bind(provider_message_id)
    .fetch_optional(&mut **tx)
    .await
    .map_err(db)?;
    let Some(at) = moved_at else {
        return Ok(false);
    };
    s.at = at;
    insert_history(tx, umid, &s, EventKind::MessageStatus).await?;
    Ok(true)
}

/// Moves the message the receipt names (by provider id, else by the echoed umid, which
/// then gets the provider id) to the receipt's status if that is a step forward, or if its
/// dispatch was interrupted and the outcome unknown; records the provider's pricing (once)
/// and when the message first reached the user, and charges it then. Yields the moved
/// message.
async fn apply_receipt(
    tx: &mut Transaction<'_, Sqlite>,
    receipt: &Receipt,
    prices: &dyn PriceList,
) -> StoreResult<Option<Message>> {
    let mut s = StatusColumns::from(&receipt.status);
    let pricing = receipt.pricing.as_ref();
    let moved = sqlx::query_as::<_, MessageRow>(&format!(
        "UPDATE messages SET provider_message_id = COALESCE(provider_message_id, ?1), \
         state = ?2, detail = ?3, error_code = ?4, error_message = ?5, provider_error_code = ?6, \
         status_at = MAX(status_at, ?7), status_rank = ?8, \
         pricing_category = COALESCE(pricing_category, ?11), \
         pricing_type = COALESCE(pricing_type, ?12), billable = COALESCE(billable, ?13), \
         delivered_at = CASE WHEN ?14 THEN COALESCE(delivered_at, ?7) ELSE delivered_at END, \
         channel_user_id = COALESCE(channel_user_id, ?15) \
         WHERE umid = COALESCE( \
             (SELECT umid FROM messages WHERE channel_id = ?9 AND provider_message_id = ?1), \
             (SELECT umid FROM messages WHERE channel_id = ?9 AND umid = ?10)) \
           AND (status_rank < ?8 OR (state = 'undelivered' AND provider_message_id IS NULL)) \
         RETURNING {MESSAGE_COLUMNS}"
    ))
    .bind(&receipt.provider_message_id)
    .bind(s.state)
    .bind(s.detail)
    .bind(s.error_code)
    .bind(&s.error_message)
    .bind(&s.provider_error_code)
    .bind(s.at)
    .bind(s.rank)
    .bind(receipt.channel.to_string())
    .bind(receipt.umid.map(|u| u.to_string()))
    .bind(pricing.map(|p| p.category.as_str()))
    .bind(pricing.map(|p| p.kind.as_str()))
    .bind(pricing.map(|p| p.billable))
    .bind(receipt.status.reached_user())
    .bind(&receipt.channel_user_id)
    .fetch_optional(&mut **tx)
    .await
    .map_err(db)?;
    let Some(moved) = moved else { return Ok(None) };
    // WhatsApp dates a receipt to the second; the step keeps its place after the last one.
    s.at = moved.status.status_at;
    insert_history(tx, &moved.umid, &s, EventKind::MessageStatus).await?;
    let moved = moved.into_model()?;
    pricing_ops::charge::<Sqlite>(&mut **tx, moved, prices)
        .await
        .map(Some)
}

#[async_trait]
impl MessageStore for SqliteStore {
    async fn accept_outbound(&self, messages: &[Message]) -> StoreResult<Vec<AcceptOutcome>> {
        if messages.is_empty() {
            return Ok(Vec::new());
        }
        let mut conn = self.writer.acquire().await.map_err(db)?;
        let chunks = messages.len().div_ceil(ACCEPT_CHUNK);
        let mut inserted = HashSet::with_capacity(messages.len());
        for (i, chunk) in messages.chunks(ACCEPT_CHUNK).enumerate() {
            let Statement { sql, args } = accept_command(chunk, i == 0, i + 1 == chunks)?;
            match sqlx::query_scalar_with::<_, String, _>(&sql, args)
                .fetch_all(&mut *conn)
                .await
            {
                Ok(umids) => inserted.extend(umids),
                Err(e) => {
                    // The command stopped at the failing statement, inside the transaction.
                    let _ = sqlx::query("ROLLBACK").execute(&mut *conn).await;
                    return Err(db(e));
                }
            }
        }
        let earlier = match stored_by_client_id::<Sqlite>(messages, &inserted)? {
            Some(Statement { sql, args }) => sqlx::query_as_with::<_, MessageRow, _>(&sql, args)
                .fetch_all(&mut *conn)
                .await
                .map_err(db)?,
            None => Vec::new(),
        };
        outcomes(messages, &inserted, earlier)
    }

    async fn message(&self, umid: Umid) -> StoreResult<Option<Message>> {
        sqlx::query_as::<_, MessageRow>(&format!(
            "SELECT {MESSAGE_COLUMNS} FROM messages WHERE umid = ?"
        ))
        .bind(umid.to_string())
        .fetch_optional(&self.reader)
        .await
        .map_err(db)?
        .map(MessageRow::into_model)
        .transpose()
    }

    async fn message_by_provider_id(
        &self,
        channel: ChannelId,
        provider_message_id: &str,
    ) -> StoreResult<Option<Message>> {
        sqlx::query_as::<_, MessageRow>(&format!(
            "SELECT {MESSAGE_COLUMNS} FROM messages WHERE channel_id = ? AND provider_message_id = ?"
        ))
        .bind(channel.to_string())
        .bind(provider_message_id)
        .fetch_optional(&self.reader)
        .await
        .map_err(db)?
        .map(MessageRow::into_model)
        .transpose()
    }

    async fn query_messages(
        &self,
        filter: &parley_store::LogFilter,
        after: Option<parley_store::LogCursor>,
        limit: u32,
    ) -> StoreResult<Vec<Message>> {
        let mut conn = self.reader.acquire().await.map_err(db)?;
        parley_store_sql::log_rows::query_messages::<Sqlite>(&mut conn, filter, after, limit).await
    }

    async fn msisdn_for_channel_user(
        &self,
        account: &AccountId,
        channel_user_id: &str,
    ) -> StoreResult<Option<String>> {
        let mut conn = self.reader.acquire().await.map_err(db)?;
        parley_store_sql::log_rows::msisdn_for_channel_user::<Sqlite>(
            &mut conn,
            account,
            channel_user_id,
        )
        .await
    }

    async fn status_history(&self, umid: Umid) -> StoreResult<Vec<MessageStatus>> {
        sqlx::query_as::<_, StatusRow>(
            "SELECT state, detail, error_code, error_message, provider_error_code, status_at \
             FROM message_statuses WHERE umid = ? ORDER BY id",
        )
        .bind(umid.to_string())
        .fetch_all(&self.reader)
        .await
        .map_err(db)?
        .into_iter()
        .map(StatusRow::into_model)
        .collect()
    }

    async fn record_inbound(
        &self,
        message: &Message,
        referred: bool,
        opt: Option<OptChange>,
    ) -> StoreResult<InboundOutcome> {
        let mut tx = self.writer.begin().await.map_err(db)?;
        let seen: Option<String> = sqlx::query_scalar(
            "SELECT umid FROM messages WHERE channel_id = ? AND provider_message_id = ?",
        )
        .bind(message.channel_id.to_string())
        .bind(&message.provider_message_id)
        .fetch_optional(&mut *tx)
        .await
        .map_err(db)?;
        if seen.is_some() {
            return Ok(InboundOutcome::AlreadyStored);
        }
        insert_message(&mut tx, message).await?;
        // An arrival from an ad counts while no free entry point runs (it does not reset).
        sqlx::query(
            "INSERT INTO conversation_windows (channel_id, msisdn, last_inbound_at, referred_at) \
             VALUES (?1, ?2, ?3, CASE WHEN ?4 THEN ?3 END) \
             ON CONFLICT (channel_id, msisdn) DO UPDATE SET \
                 last_inbound_at = max(last_inbound_at, excluded.last_inbound_at), \
                 referred_at = CASE WHEN excluded.referred_at IS NOT NULL \
                     AND COALESCE(free_entry_until, 0) <= excluded.referred_at \
                     THEN max(COALESCE(referred_at, 0), excluded.referred_at) \
                     ELSE referred_at END",
        )
        .bind(message.channel_id.to_string())
        .bind(&message.msisdn)
        .bind(millis(message.created_at))
        .bind(referred)
        .execute(&mut *tx)
        .await
        .map_err(db)?;
        if let Some(opt) = opt {
            let sql = match opt {
                OptChange::Out => {
                    "INSERT INTO opt_outs (account_id, msisdn, source, created_at) \
                     VALUES (?1, ?2, 'keyword', ?3) ON CONFLICT (account_id, msisdn) DO NOTHING"
                }
                OptChange::In => "DELETE FROM opt_outs WHERE account_id = ?1 AND msisdn = ?2",
            };
            sqlx::query(sql)
                .bind(message.account_id.as_str())
                .bind(&message.msisdn)
                .bind(millis(message.created_at))
                .execute(&mut *tx)
                .await
                .map_err(db)?;
        }
        tx.commit().await.map_err(db)?;
        Ok(InboundOutcome::Stored)
    }

    async fn conversation_window(
        &self,
        channel: ChannelId,
        msisdn: &str,
    ) -> StoreResult<Option<ConversationWindow>> {
        let mut conn = self.reader.acquire().await.map_err(db)?;
        pricing_ops::window::<Sqlite>(&mut conn, channel, msisdn).await
    }

    async fn usage(
        &self,
        account: &AccountId,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> StoreResult<Vec<UsageRow>> {
        let mut conn = self.reader.acquire().await.map_err(db)?;
        pricing_ops::usage::<Sqlite>(&mut conn, account, from, to).await
    }

    async fn apply_receipts(
        &self,
        receipts: &[Receipt],
        prices: &dyn PriceList,
    ) -> StoreResult<Vec<Option<Message>>> {
        let mut tx = self.writer.begin().await.map_err(db)?;
        let mut applied = Vec::with_capacity(receipts.len());
        for receipt in receipts {
            applied.push(apply_receipt(&mut tx, receipt, prices).await?);
        }
        tx.commit().await.map_err(db)?;
        Ok(applied)
    }
}
