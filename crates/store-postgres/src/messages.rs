use std::collections::HashSet;
use std::sync::LazyLock;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use parley_store::{
    AcceptOutcome, ConversationWindow, EventKind, InboundOutcome, Message, MessageStatus,
    MessageStore, OptChange, Origin, PriceList, Receipt, ReceiptPricing, StoreError, StoreResult,
    UsageRow,
};
use parley_store_sql::accept_group::{Statement, outcomes, stored_by_client_id};
use parley_store_sql::event_rows::message_events;
use parley_store_sql::pricing_rows::ops as pricing_ops;
use parley_store_sql::rows::{
    MESSAGE_COLUMNS, MESSAGE_INSERT_COLUMNS, MessageRow, OUTBOUND_INSERT_COLUMNS, StatusColumns,
    StatusRow, millis,
};
use parley_types::{AccountId, ChannelId, Umid};
use sqlx::postgres::PgArguments;
use sqlx::query::QueryScalar;
use sqlx::{PgExecutor, Postgres};

use crate::{PostgresStore, db, retrying};

/// The columns of [`StatusRow`], as stored in `messages` and `message_statuses`.
const STATUS_COLUMNS: &str =
    "state, detail, error_code, error_message, provider_error_code, status_at";

/// Inserts a message with its first status unless the unique index named by `conflict`
/// already holds it, then runs `follow_up` (a `WITH` query reading the new row from
/// `inserted`). Yields how many messages were inserted: 1, or 0 for a duplicate.
fn insert_sql(conflict: &str, follow_up: &str) -> String {
    format!(
        "WITH inserted AS ( \
            INSERT INTO messages ({MESSAGE_INSERT_COLUMNS}, status_rank) \
            VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, \
                    $17, $18, $19, $20, $21, $22, $23) \
            ON CONFLICT {conflict} DO NOTHING \
            RETURNING umid, account_id, sub_account_id, channel_id, msisdn, created_at, \
                {STATUS_COLUMNS}), \
         history AS ( \
            INSERT INTO message_statuses (umid, {STATUS_COLUMNS}) \
            SELECT umid, {STATUS_COLUMNS} FROM inserted RETURNING id, umid, status_at), \
         received AS ({}), \
         {follow_up} \
         SELECT COUNT(*) FROM inserted",
        message_events(
            EventKind::MessageReceived,
            "FROM history s JOIN inserted m ON m.umid = s.umid"
        )
    )
}

/// `WITH` clauses that queue the messages of `source` (a relation with `umid, channel_id,
/// msisdn, pos`, and `ready` for when they may go) in `pos` order, and give their lanes a
/// head if they have none, that is if none of their messages is queued already. Lanes are
/// locked in the order every transaction locks lanes in.
pub(crate) fn enqueue_sql(source: &str) -> String {
    format!(
        "queued AS ( \
            INSERT INTO dispatch_queue (umid, channel_id, msisdn, next_attempt_at) \
            SELECT umid, channel_id, msisdn, ready FROM {source} ORDER BY pos), \
         lanes AS ( \
            INSERT INTO dispatch_lanes (channel_id, msisdn, head_umid, ready_at) \
            SELECT DISTINCT ON (channel_id COLLATE \"C\", msisdn COLLATE \"C\") \
                channel_id, msisdn, umid, ready \
            FROM {source} ORDER BY channel_id COLLATE \"C\", msisdn COLLATE \"C\", pos \
            ON CONFLICT (channel_id, msisdn) DO UPDATE \
            SET head_umid = COALESCE(dispatch_lanes.head_umid, EXCLUDED.head_umid), \
                ready_at = COALESCE(dispatch_lanes.ready_at, EXCLUDED.ready_at))"
    )
}

/// The rest of an accept, after `inserted` (the rows the multi-row insert stored) and the
/// group's umids with their positions: history, then queue rows and lanes for what is to
/// go at once; a scheduled message waits in `scheduled_messages` instead.
static ACCEPT_FOLLOW_UP: LazyLock<String> = LazyLock::new(|| {
    format!(
        "::text[]) WITH ORDINALITY AS g(umid, pos) ON g.umid = inserted.umid), \
         history AS ( \
            INSERT INTO message_statuses (umid, {STATUS_COLUMNS}) \
            SELECT umid, {STATUS_COLUMNS} FROM ordered ORDER BY pos \
            RETURNING id, umid, status_at), \
         accepted AS ({} ORDER BY s.id), \
         now_due AS (SELECT *, created_at AS ready FROM ordered WHERE scheduled_at IS NULL), \
         {}, \
         later AS ( \
            INSERT INTO scheduled_messages (umid, due_at) \
            SELECT umid, scheduled_at FROM ordered WHERE scheduled_at IS NOT NULL) \
         SELECT umid FROM inserted",
        message_events(
            EventKind::MessageAccepted,
            "FROM history s JOIN ordered m ON m.umid = s.umid"
        ),
        enqueue_sql("now_due")
    )
});

/// Accepts a group: the rows arrive as one array per column of `messages` (in
/// [`MESSAGE_COLUMNS`] order, then `status_rank`); `$1`, the umids, also gives the group's
/// order. Yields the umids inserted (not those whose `clientMessageId` was used before).
static ACCEPT: LazyLock<String> = LazyLock::new(|| {
    format!(
        "WITH inserted AS ( \
            INSERT INTO messages ({OUTBOUND_INSERT_COLUMNS}, status_rank) \
            SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], \
                $6::text[], $7::text[], $8::text[], $9::text[], $10::text[], $11::text[], \
                $12::text[], $13::text[], $14::text[], $15::text[], $16::bigint[], \
                $17::text[], $18::text[], $19::bigint[], $20::bigint[], $21::text[], \
                $22::text[], $23::text[], $24::text[], $25::bigint[], $26::bigint[], \
                $27::text[], $28::text[], $29::int[]) \
            ON CONFLICT (sub_account_id, client_message_id) \
                WHERE client_message_id IS NOT NULL DO NOTHING \
            RETURNING umid, account_id, sub_account_id, channel_id, msisdn, created_at, \
                scheduled_at, {STATUS_COLUMNS}), \
         ordered AS (SELECT inserted.*, g.pos FROM inserted \
            JOIN unnest($1{}",
        ACCEPT_FOLLOW_UP.as_str()
    )
});

/// A group of messages as one array per stored column, for [`ACCEPT`].
#[derive(Default)]
struct AcceptColumns {
    umid: Vec<String>,
    account_id: Vec<String>,
    sub_account_id: Vec<String>,
    channel_id: Vec<String>,
    direction: Vec<&'static str>,
    msisdn: Vec<String>,
    country: Vec<Option<String>>,
    content_type: Vec<String>,
    content: Vec<String>,
    client_message_id: Vec<Option<String>>,
    reply_to: Vec<Option<String>>,
    provider_message_id: Vec<Option<String>>,
    user_name: Vec<Option<String>>,
    state: Vec<&'static str>,
    detail: Vec<Option<&'static str>>,
    error_code: Vec<Option<i64>>,
    error_message: Vec<Option<String>>,
    provider_error_code: Vec<Option<String>>,
    status_at: Vec<i64>,
    created_at: Vec<i64>,
    dlr_callback_url: Vec<Option<String>>,
    channel_user_id: Vec<Option<String>>,
    batch_id: Vec<Option<String>>,
    client_batch_id: Vec<Option<String>>,
    scheduled_at: Vec<Option<i64>>,
    expires_at: Vec<Option<i64>>,
    origin: Vec<Option<&'static str>>,
    origin_ref: Vec<Option<String>>,
    status_rank: Vec<i32>,
}

impl AcceptColumns {
    fn of(messages: &[Message]) -> Self {
        let mut c = Self::default();
        for m in messages {
            let s = StatusColumns::from(&m.status);
            c.umid.push(m.umid.to_string());
            c.account_id.push(m.account_id.to_string());
            c.sub_account_id.push(m.sub_account_id.to_string());
            c.channel_id.push(m.channel_id.to_string());
            c.direction.push(m.direction.as_str());
            c.msisdn.push(m.msisdn.clone());
            c.country.push(m.country.clone());
            c.content_type.push(m.content_type.clone());
            c.content.push(m.content.to_string());
            c.client_message_id.push(m.client_message_id.clone());
            c.reply_to.push(m.reply_to.map(|u| u.to_string()));
            c.provider_message_id.push(m.provider_message_id.clone());
            c.user_name.push(m.user_name.clone());
            c.state.push(s.state);
            c.detail.push(s.detail);
            c.error_code.push(s.error_code);
            c.error_message.push(s.error_message);
            c.provider_error_code.push(s.provider_error_code);
            c.status_at.push(s.at);
            c.created_at.push(millis(m.created_at));
            c.dlr_callback_url.push(m.dlr_callback_url.clone());
            c.channel_user_id.push(m.channel_user_id.clone());
            c.batch_id.push(m.batch.as_ref().map(|b| b.id.to_string()));
            c.client_batch_id
                .push(m.batch.as_ref().and_then(|b| b.client_batch_id.clone()));
            c.scheduled_at.push(m.scheduled_at.map(millis));
            c.expires_at.push(m.expires_at.map(millis));
            c.origin.push(m.origin.as_ref().map(Origin::kind));
            c.origin_ref
                .push(m.origin.as_ref().and_then(Origin::reference));
            c.status_rank.push(s.rank);
        }
        c
    }
}

/// An inbound message opens (or extends, never shortens) the user's window; an arrival
/// from an ad (`$24`) counts while no free entry point runs (it does not reset). A stop
/// or start keyword (`$25`: `out`, `in`) changes the do-not-contact list.
static INSERT_INBOUND: LazyLock<String> = LazyLock::new(|| {
    insert_sql(
        "(channel_id, provider_message_id) WHERE provider_message_id IS NOT NULL",
        "opened AS ( \
            INSERT INTO conversation_windows (channel_id, msisdn, last_inbound_at, referred_at) \
            SELECT channel_id, msisdn, created_at, CASE WHEN $24::boolean THEN created_at END \
            FROM inserted \
            ON CONFLICT (channel_id, msisdn) DO UPDATE SET last_inbound_at = \
                GREATEST(conversation_windows.last_inbound_at, EXCLUDED.last_inbound_at), \
                referred_at = CASE WHEN EXCLUDED.referred_at IS NOT NULL \
                    AND COALESCE(conversation_windows.free_entry_until, 0) \
                        <= EXCLUDED.referred_at \
                    THEN GREATEST(COALESCE(conversation_windows.referred_at, 0), \
                        EXCLUDED.referred_at) \
                    ELSE conversation_windows.referred_at END), \
         opted_out AS ( \
            INSERT INTO opt_outs (account_id, msisdn, source, created_at) \
            SELECT $2, msisdn, 'keyword', created_at FROM inserted WHERE $25::text = 'out' \
            ON CONFLICT (account_id, msisdn) DO NOTHING), \
         opted_in AS ( \
            DELETE FROM opt_outs WHERE $25::text = 'in' AND account_id = $2 AND msisdn = $6 \
                AND EXISTS (SELECT 1 FROM inserted))",
    )
});

fn insert_message<'q>(sql: &'q str, m: &'q Message) -> QueryScalar<'q, Postgres, i64, PgArguments> {
    let s = StatusColumns::from(&m.status);
    sqlx::query_scalar(sql)
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
        .bind(s.error_message)
        .bind(s.provider_error_code)
        .bind(s.at)
        .bind(millis(m.created_at))
        .bind(&m.dlr_callback_url)
        .bind(&m.channel_user_id)
        .bind(s.rank)
}

/// Which message a status change is for.
#[derive(Clone, Copy)]
pub(crate) enum Target<'a> {
    Umid(&'a str),
    /// A provider receipt on a channel: the message with the provider id (`$1`), else the
    /// message with this umid on the channel (it then gets the provider id).
    Receipt {
        channel: &'a str,
        umid: Option<&'a str>,
        pricing: Option<&'a ReceiptPricing>,
        /// The recipient's business-scoped id (`$15`), kept if the message has none.
        channel_user_id: Option<&'a str>,
    },
}

/// Moves the message to the status bound as `$2..$8` (rank `$8`) if that is a step forward,
/// or if the message's earlier dispatch was interrupted and its outcome unknown (it is
/// `undelivered` without a provider id and this status brings one, `$1`), recording the
/// step in its history; yields the updated message, or no row when it did not move.
/// `extra` sets more columns on the way. A step is never dated before the one it follows
/// (see [`parley_store::status`]: WhatsApp dates its receipts to the second).
fn advance_sql(target: &str, extra: &str) -> String {
    format!(
        "WITH moved AS ( \
            UPDATE messages SET provider_message_id = COALESCE(provider_message_id, $1), \
                state = $2, detail = $3, error_code = $4, error_message = $5, \
                provider_error_code = $6, status_at = GREATEST(status_at, $7), \
                status_rank = $8 {extra} \
            WHERE {target} AND (status_rank < $8 \
                OR (state = 'undelivered' AND provider_message_id IS NULL \
                    AND $1::text IS NOT NULL)) \
            RETURNING {MESSAGE_COLUMNS}), \
         history AS ( \
            INSERT INTO message_statuses (umid, {STATUS_COLUMNS}) \
            SELECT umid, {STATUS_COLUMNS} FROM moved RETURNING id, umid, status_at), \
         moved_event AS ({}) \
         SELECT {MESSAGE_COLUMNS} FROM moved",
        message_events(
            EventKind::MessageStatus,
            "FROM history s JOIN moved m ON m.umid = s.umid"
        )
    )
}

static ADVANCE_BY_UMID: LazyLock<String> = LazyLock::new(|| advance_sql("umid = $9", ""));
/// A receipt also records the provider's pricing (`$11..$13`, once) and when the message
/// first reached the user (`$14`).
static ADVANCE_BY_RECEIPT: LazyLock<String> = LazyLock::new(|| {
    advance_sql(
        "umid = COALESCE( \
            (SELECT umid FROM messages WHERE channel_id = $9 AND provider_message_id = $1), \
            (SELECT umid FROM messages WHERE channel_id = $9 AND umid = $10::text))",
        ", pricing_category = COALESCE(pricing_category, $11), \
         pricing_type = COALESCE(pricing_type, $12), billable = COALESCE(billable, $13), \
         delivered_at = CASE WHEN $14 THEN COALESCE(delivered_at, $7) ELSE delivered_at END, \
         channel_user_id = COALESCE(channel_user_id, $15)",
    )
});

/// One statement, so the status and its history entry change together without a
/// transaction of their own.
pub(crate) async fn advance_status<'e, E: PgExecutor<'e>>(
    exec: E,
    target: Target<'_>,
    provider_message_id: Option<&str>,
    status: &MessageStatus,
) -> StoreResult<Option<Message>> {
    let s = StatusColumns::from(status);
    let sql = match target {
        Target::Umid(_) => &*ADVANCE_BY_UMID,
        Target::Receipt { .. } => &*ADVANCE_BY_RECEIPT,
    };
    let mut query = sqlx::query_as::<_, MessageRow>(sql)
        .bind(provider_message_id)
        .bind(s.state)
        .bind(s.detail)
        .bind(s.error_code)
        .bind(s.error_message)
        .bind(s.provider_error_code)
        .bind(s.at)
        .bind(s.rank);
    query = match target {
        Target::Umid(umid) => query.bind(umid),
        Target::Receipt {
            channel,
            umid,
            pricing,
            channel_user_id,
        } => query
            .bind(channel)
            .bind(umid)
            .bind(pricing.map(|p| p.category.clone()))
            .bind(pricing.map(|p| p.kind.clone()))
            .bind(pricing.map(|p| p.billable))
            .bind(status.reached_user())
            .bind(channel_user_id),
    };
    query
        .fetch_optional(exec)
        .await
        .map_err(db)?
        .map(MessageRow::into_model)
        .transpose()
}

pub(crate) async fn message_on<'e, E: PgExecutor<'e>>(exec: E, umid: &str) -> StoreResult<Message> {
    sqlx::query_as::<_, MessageRow>(&format!(
        "SELECT {MESSAGE_COLUMNS} FROM messages WHERE umid = $1"
    ))
    .bind(umid)
    .fetch_optional(exec)
    .await
    .map_err(db)?
    .ok_or_else(|| StoreError::Corrupt(format!("message {umid} vanished")))?
    .into_model()
}

#[async_trait]
impl MessageStore for PostgresStore {
    async fn accept_outbound(&self, messages: &[Message]) -> StoreResult<Vec<AcceptOutcome>> {
        if messages.is_empty() {
            return Ok(Vec::new());
        }
        retrying(|| self.accept_once(messages)).await
    }

    async fn message(&self, umid: Umid) -> StoreResult<Option<Message>> {
        sqlx::query_as::<_, MessageRow>(&format!(
            "SELECT {MESSAGE_COLUMNS} FROM messages WHERE umid = $1"
        ))
        .bind(umid.to_string())
        .fetch_optional(&self.pool)
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
            "SELECT {MESSAGE_COLUMNS} FROM messages \
             WHERE channel_id = $1 AND provider_message_id = $2"
        ))
        .bind(channel.to_string())
        .bind(provider_message_id)
        .fetch_optional(&self.pool)
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
        let mut conn = self.pool.acquire().await.map_err(db)?;
        parley_store_sql::log_rows::query_messages::<Postgres>(&mut conn, filter, after, limit)
            .await
    }

    async fn msisdn_for_channel_user(
        &self,
        account: &AccountId,
        channel_user_id: &str,
    ) -> StoreResult<Option<String>> {
        let mut conn = self.pool.acquire().await.map_err(db)?;
        parley_store_sql::log_rows::msisdn_for_channel_user::<Postgres>(
            &mut conn,
            account,
            channel_user_id,
        )
        .await
    }

    async fn status_history(&self, umid: Umid) -> StoreResult<Vec<MessageStatus>> {
        sqlx::query_as::<_, StatusRow>(&format!(
            "SELECT {STATUS_COLUMNS} FROM message_statuses WHERE umid = $1 ORDER BY id"
        ))
        .bind(umid.to_string())
        .fetch_all(&self.pool)
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
        let inserted = insert_message(&INSERT_INBOUND, message)
            .bind(referred)
            .bind(opt.map(|o| match o {
                OptChange::Out => "out",
                OptChange::In => "in",
            }))
            .fetch_one(&self.pool)
            .await
            .map_err(db)?;
        Ok(if inserted == 1 {
            InboundOutcome::Stored
        } else {
            InboundOutcome::AlreadyStored
        })
    }

    async fn conversation_window(
        &self,
        channel: ChannelId,
        msisdn: &str,
    ) -> StoreResult<Option<ConversationWindow>> {
        let mut conn = self.pool.acquire().await.map_err(db)?;
        pricing_ops::window::<Postgres>(&mut conn, channel, msisdn).await
    }

    async fn usage(
        &self,
        account: &AccountId,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> StoreResult<Vec<UsageRow>> {
        let mut conn = self.pool.acquire().await.map_err(db)?;
        pricing_ops::usage::<Postgres>(&mut conn, account, from, to).await
    }

    async fn apply_receipts(
        &self,
        receipts: &[Receipt],
        prices: &dyn PriceList,
    ) -> StoreResult<Vec<Option<Message>>> {
        retrying(|| self.apply_receipts_once(receipts, prices)).await
    }
}

impl PostgresStore {
    /// One statement, so the group is atomic without a transaction of its own. Its text
    /// is the same for every group (the rows travel as one array per column), so the
    /// server plans it once per connection instead of once per group size.
    async fn accept_once(&self, messages: &[Message]) -> StoreResult<Vec<AcceptOutcome>> {
        let columns = AcceptColumns::of(messages);
        let inserted: HashSet<String> = sqlx::query_scalar::<_, String>(&ACCEPT)
            .bind(columns.umid)
            .bind(columns.account_id)
            .bind(columns.sub_account_id)
            .bind(columns.channel_id)
            .bind(columns.direction)
            .bind(columns.msisdn)
            .bind(columns.country)
            .bind(columns.content_type)
            .bind(columns.content)
            .bind(columns.client_message_id)
            .bind(columns.reply_to)
            .bind(columns.provider_message_id)
            .bind(columns.user_name)
            .bind(columns.state)
            .bind(columns.detail)
            .bind(columns.error_code)
            .bind(columns.error_message)
            .bind(columns.provider_error_code)
            .bind(columns.status_at)
            .bind(columns.created_at)
            .bind(columns.dlr_callback_url)
            .bind(columns.channel_user_id)
            .bind(columns.batch_id)
            .bind(columns.client_batch_id)
            .bind(columns.scheduled_at)
            .bind(columns.expires_at)
            .bind(columns.origin)
            .bind(columns.origin_ref)
            .bind(columns.status_rank)
            .fetch_all(&self.pool)
            .await
            .map_err(db)?
            .into_iter()
            .collect();
        let earlier = match stored_by_client_id::<Postgres>(messages, &inserted)? {
            Some(Statement { sql, args }) => sqlx::query_as_with::<_, MessageRow, _>(&sql, args)
                .fetch_all(&self.pool)
                .await
                .map_err(db)?,
            None => Vec::new(),
        };
        outcomes(messages, &inserted, earlier)
    }

    async fn apply_receipts_once(
        &self,
        receipts: &[Receipt],
        prices: &dyn PriceList,
    ) -> StoreResult<Vec<Option<Message>>> {
        // Messages are locked in umid order, as dispatch results lock them, so a receipt
        // racing its message's own result cannot deadlock with it. A stable sort keeps the
        // receipts of one message in the order they came; those without the echoed umid
        // (none that Parley sent) go last.
        let mut order: Vec<usize> = (0..receipts.len()).collect();
        order.sort_by_key(|&i| (receipts[i].umid.is_none(), receipts[i].umid));
        let mut tx = self.pool.begin().await.map_err(db)?;
        let mut applied = vec![None; receipts.len()];
        for i in order {
            let receipt = &receipts[i];
            let channel = receipt.channel.to_string();
            let umid = receipt.umid.map(|u| u.to_string());
            let target = Target::Receipt {
                channel: &channel,
                umid: umid.as_deref(),
                pricing: receipt.pricing.as_ref(),
                channel_user_id: receipt.channel_user_id.as_deref(),
            };
            let provider_id = Some(receipt.provider_message_id.as_str());
            applied[i] = match advance_status(&mut *tx, target, provider_id, &receipt.status)
                .await?
            {
                Some(moved) => Some(pricing_ops::charge::<Postgres>(&mut tx, moved, prices).await?),
                None => None,
            };
        }
        tx.commit().await.map_err(db)?;
        Ok(applied)
    }
}
