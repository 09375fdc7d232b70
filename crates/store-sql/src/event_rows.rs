//! The event log in SQL, shared by both backends: appending events (inside the writer's
//! transaction), reading them back with what each kind needs, consumer checkpoints under
//! a lease, the counters consumers keep, and pruning. What differs — PostgreSQL's commit
//! order, which makes a reader wait at a gap — lives in the backend's `events.rs`.

use std::collections::BTreeMap;

use chrono::{DateTime, NaiveDate, Utc};
use parley_types::{ChannelId, SubAccountId};
use sqlx::{Database, Encode, Executor, FromRow, IntoArguments, Type};

use crate::accept_group::Statement;
use crate::rows::{StatusRow, account_id, from_millis, millis, sub_account_id};
use crate::{
    ConsumerState, Counter, CounterKey, Direction, EventCharge, EventKind, EventMessage,
    EventTimer, StoreError, StoreResult, StoredEvent,
};

/// The columns an appended event fills.
const EVENT_COLUMNS: &str =
    "kind, account_id, sub_account_id, channel_id, conversation, subject, source_id, payload, at";

/// `INSERT INTO events … SELECT` appending one message event of `kind` per history row.
/// `from` names the rows: `s` with the history entry (`id`, `umid`, `status_at`) and `m`
/// with the message (`account_id`, `sub_account_id`, `channel_id`, `msisdn`, `umid`), and
/// orders them as the history was written.
pub fn message_events(kind: EventKind, from: &str) -> String {
    format!(
        "INSERT INTO events ({EVENT_COLUMNS}) \
         SELECT '{}', m.account_id, m.sub_account_id, m.channel_id, \
             'm:' || m.channel_id || ':' || m.msisdn, m.umid, s.id, NULL, s.status_at {from}",
        kind.as_str()
    )
}

/// One event whose every value is known to the writer.
pub struct NewEvent<'a> {
    pub kind: EventKind,
    pub account_id: &'a str,
    pub sub_account_id: Option<&'a str>,
    pub channel_id: Option<String>,
    pub conversation: String,
    pub subject: String,
    pub source_id: Option<i64>,
    pub payload: Option<serde_json::Value>,
    pub at: DateTime<Utc>,
}

pub fn append<'q, DB>(event: &NewEvent<'_>) -> StoreResult<Statement<'q, DB>>
where
    DB: Database,
    for<'a> String: Encode<'a, DB> + Type<DB>,
    for<'a> Option<String>: Encode<'a, DB> + Type<DB>,
    for<'a> i64: Encode<'a, DB> + Type<DB>,
    for<'a> Option<i64>: Encode<'a, DB> + Type<DB>,
{
    let mut q = Statement::new(format!("INSERT INTO events ({EVENT_COLUMNS}) VALUES ("));
    q.bind(event.kind.as_str().to_owned())?
        .push(", ")
        .bind(event.account_id.to_owned())?
        .push(", ")
        .bind(event.sub_account_id.map(str::to_owned))?
        .push(", ")
        .bind(event.channel_id.clone())?
        .push(", ")
        .bind(event.conversation.clone())?
        .push(", ")
        .bind(event.subject.clone())?
        .push(", ")
        .bind(event.source_id)?
        .push(", ")
        .bind(event.payload.as_ref().map(|p| p.to_string()))?
        .push(", ")
        .bind(millis(event.at))?
        .push(")");
    Ok(q)
}

/// The message kinds whose `source_id` is a history row.
const WITH_HISTORY: &str = "('message.accepted', 'message.received', 'message.status')";

/// A history row `f` that says the message reached the user's phone (as
/// `MessageStatus::reached_user` decides).
const REACHED: &str =
    "(f.state = 'read' OR (f.state = 'delivered' AND f.detail = 'delivered_to_recipient'))";

/// Events after `$after` in `seq` order, at most `$limit`, with their message and history
/// entry. `extra` adds columns (PostgreSQL's snapshot bounds).
pub fn read_sql(extra: &str, after: &str, limit: &str) -> String {
    format!(
        "SELECT e.seq, e.kind, e.account_id, e.source_id, e.sub_account_id, e.channel_id, e.conversation, \
            e.subject, e.payload, e.at, m.direction, m.msisdn, m.country, m.content_type, \
            CASE WHEN m.dlr_callback_url IS NULL THEN 0 ELSE 1 END AS own_receipt_url, \
            COALESCE(s.state, m.state) AS state, \
            CASE WHEN s.id IS NULL THEN m.detail ELSE s.detail END AS detail, \
            CASE WHEN s.id IS NULL THEN m.error_code ELSE s.error_code END AS error_code, \
            CASE WHEN s.id IS NULL THEN m.error_message ELSE s.error_message END \
                AS error_message, \
            CASE WHEN s.id IS NULL THEN m.provider_error_code ELSE s.provider_error_code END \
                AS provider_error_code, \
            COALESCE(s.status_at, m.status_at) AS status_at, \
            j.queue AS timer_queue, j.payload AS timer_payload, \
            CASE WHEN s.state IN ('delivered', 'read') AND s.id = ( \
                SELECT MIN(f.id) FROM message_statuses f WHERE f.umid = s.umid AND {REACHED}) \
                THEN 1 ELSE 0 END AS first_reach {extra} \
         FROM events e \
         LEFT JOIN message_statuses s ON e.kind IN {WITH_HISTORY} AND s.id = e.source_id \
         LEFT JOIN messages m ON e.kind LIKE 'message.%' AND m.umid = e.subject \
         LEFT JOIN jobs j ON e.kind = 'timer.fired' AND j.id = e.source_id \
         WHERE e.seq > {after} ORDER BY e.seq LIMIT {limit}"
    )
}

#[derive(Debug, FromRow)]
pub struct EventRow {
    pub seq: i64,
    pub kind: String,
    pub account_id: String,
    pub sub_account_id: Option<String>,
    pub channel_id: Option<String>,
    pub conversation: String,
    pub subject: String,
    pub payload: Option<String>,
    pub at: i64,
    pub direction: Option<String>,
    pub msisdn: Option<String>,
    pub country: Option<String>,
    pub content_type: Option<String>,
    pub own_receipt_url: i32,
    pub state: Option<String>,
    pub detail: Option<String>,
    pub error_code: Option<i64>,
    pub error_message: Option<String>,
    pub provider_error_code: Option<String>,
    pub status_at: Option<i64>,
    pub first_reach: i32,
    pub timer_queue: Option<String>,
    pub timer_payload: Option<String>,
    pub source_id: Option<i64>,
}

impl EventRow {
    pub fn into_model(self) -> StoreResult<StoredEvent> {
        let corrupt = |what: &str| StoreError::Corrupt(format!("event {}: {what}", self.seq));
        let kind = EventKind::parse(&self.kind).ok_or_else(|| corrupt("kind"))?;
        let message = match (self.direction.as_deref(), self.state, self.status_at) {
            (Some(direction), Some(state), Some(status_at)) if kind.is_message() => {
                let status = StatusRow {
                    state,
                    detail: self.detail,
                    error_code: self.error_code,
                    error_message: self.error_message,
                    provider_error_code: self.provider_error_code,
                    status_at,
                }
                .into_model()?;
                Some(EventMessage {
                    direction: Direction::parse(direction).ok_or_else(|| corrupt("direction"))?,
                    msisdn: self.msisdn.unwrap_or_default(),
                    country: self.country,
                    content_type: self.content_type.unwrap_or_default(),
                    status,
                    first_reach: self.first_reach != 0,
                    own_receipt_url: self.own_receipt_url != 0,
                })
            }
            _ => None,
        };
        let charge = match (kind, self.payload.as_deref()) {
            (EventKind::MessageCharged, Some(raw)) => {
                let payload: serde_json::Value =
                    serde_json::from_str(raw).map_err(|_| corrupt("payload"))?;
                Some(EventCharge {
                    category: payload["category"].as_str().unwrap_or_default().to_owned(),
                    cost_micros: payload["costMicros"].as_i64().unwrap_or_default(),
                })
            }
            _ => None,
        };
        let timer = match (kind, self.timer_queue, self.source_id) {
            (EventKind::TimerFired, Some(queue), Some(job_id)) => Some(EventTimer {
                job_id,
                queue,
                key: self.subject.clone(),
                payload: serde_json::from_str(self.timer_payload.as_deref().unwrap_or("null"))
                    .map_err(|_| corrupt("timer payload"))?,
            }),
            _ => None,
        };
        Ok(StoredEvent {
            seq: self.seq,
            kind,
            account_id: account_id(&self.account_id)?,
            sub_account_id: self
                .sub_account_id
                .as_deref()
                .map(sub_account_id)
                .transpose()?,
            channel_id: self
                .channel_id
                .as_deref()
                .map(|raw| raw.parse::<ChannelId>().map_err(|_| corrupt("channel")))
                .transpose()?,
            conversation: self.conversation,
            subject: self.subject,
            at: from_millis(self.at)?,
            message,
            charge,
            timer,
        })
    }
}

/// The payload of a `message.charged` event.
pub fn charge_payload(category: &str, cost_micros: i64) -> serde_json::Value {
    serde_json::json!({ "category": category, "costMicros": cost_micros })
}

#[derive(Debug, FromRow)]
pub struct ConsumerRow {
    pub name: String,
    pub position: i64,
    pub owner: Option<String>,
    pub lease_until: Option<i64>,
    pub updated_at: i64,
}

impl ConsumerRow {
    pub fn into_model(self) -> StoreResult<ConsumerState> {
        Ok(ConsumerState {
            name: self.name,
            position: self.position,
            owner: self.owner,
            lease_until: self.lease_until.map(from_millis).transpose()?,
            updated_at: from_millis(self.updated_at)?,
        })
    }
}

#[derive(Debug, FromRow)]
pub struct CounterRow {
    pub account_id: String,
    pub sub_account_id: String,
    pub channel_id: String,
    pub day: String,
    pub metric: String,
    pub dimension: String,
    pub value: i64,
}

impl CounterRow {
    pub fn into_model(self) -> StoreResult<Counter> {
        let corrupt = |what: &str| StoreError::Corrupt(format!("counter {what}"));
        Ok(Counter {
            key: CounterKey {
                account_id: account_id(&self.account_id)?,
                sub_account_id: SubAccountId::parse(&self.sub_account_id)
                    .map_err(|_| corrupt("subaccount"))?,
                channel_id: self.channel_id.parse().map_err(|_| corrupt("channel"))?,
                day: NaiveDate::parse_from_str(&self.day, "%Y-%m-%d")
                    .map_err(|_| corrupt("day"))?,
                metric: self.metric,
                dimension: self.dimension,
            },
            value: self.value,
        })
    }
}

/// Counters per key, each key once (one upsert may not touch a row twice).
fn summed(counters: &[Counter]) -> BTreeMap<&CounterKey, i64> {
    let mut sums = BTreeMap::new();
    for counter in counters {
        *sums.entry(&counter.key).or_insert(0) += counter.value;
    }
    sums
}

/// Rows per counter upsert: 7 values each, well inside both databases' limits.
const COUNTER_CHUNK: usize = 500;

/// The operations, generic over the backend, each on the caller's connection (inside its
/// transaction where it writes).
pub mod ops {
    use super::*;

    /// Takes (or renews) the lease on consumer `name` for `owner`, registering it at
    /// `start` if it is new. Yields its position, or `None` while another owner's lease
    /// runs.
    pub async fn claim<DB>(
        conn: &mut DB::Connection,
        name: &str,
        owner: &str,
        start: i64,
        now: DateTime<Utc>,
        lease_until: DateTime<Utc>,
    ) -> StoreResult<Option<i64>>
    where
        DB: Database,
        for<'c> &'c mut DB::Connection: Executor<'c, Database = DB>,
        for<'a> DB::Arguments<'a>: IntoArguments<'a, DB>,
        for<'a> String: Encode<'a, DB> + Type<DB>,
        for<'a> i64: Encode<'a, DB> + Type<DB>,
        for<'r> (i64,): FromRow<'r, DB::Row>,
    {
        let mut q = Statement::<DB>::new(
            "INSERT INTO event_consumers (name, position, owner, lease_until, updated_at) \
             VALUES (",
        );
        q.bind(name.to_owned())?
            .push(", ")
            .bind(start)?
            .push(", ")
            .bind(owner.to_owned())?
            .push(", ")
            .bind(millis(lease_until))?
            .push(", ")
            .bind(millis(now))?
            .push(
                ") ON CONFLICT (name) DO UPDATE SET owner = excluded.owner, \
                 lease_until = excluded.lease_until, updated_at = excluded.updated_at \
                 WHERE event_consumers.owner IS NULL OR event_consumers.owner = excluded.owner \
                    OR event_consumers.lease_until < ",
            )
            .bind(millis(now))?
            .push(" RETURNING position");
        Ok(fetch_as!((i64,), conn, q).pop().map(|(position,)| position))
    }

    /// Moves consumer `name` to `position` if `owner` still holds it (renewing the lease)
    /// and adds `counters`. Yields whether it moved; if not, nothing was written and the
    /// caller rolls back.
    #[allow(clippy::too_many_arguments)]
    pub async fn advance<DB>(
        conn: &mut DB::Connection,
        name: &str,
        owner: &str,
        position: i64,
        counters: &[Counter],
        now: DateTime<Utc>,
        lease_until: DateTime<Utc>,
    ) -> StoreResult<bool>
    where
        DB: Database,
        for<'c> &'c mut DB::Connection: Executor<'c, Database = DB>,
        for<'a> DB::Arguments<'a>: IntoArguments<'a, DB>,
        for<'a> String: Encode<'a, DB> + Type<DB>,
        for<'a> i64: Encode<'a, DB> + Type<DB>,
        for<'r> (String,): FromRow<'r, DB::Row>,
    {
        let mut q = Statement::<DB>::new("UPDATE event_consumers SET position = ");
        q.bind(position)?
            .push(", lease_until = ")
            .bind(millis(lease_until))?
            .push(", updated_at = ")
            .bind(millis(now))?
            .push(" WHERE name = ")
            .bind(name.to_owned())?
            .push(" AND owner = ")
            .bind(owner.to_owned())?
            .push(" AND position <= ")
            .bind(position)?
            .push(" RETURNING name");
        if fetch_as!((String,), conn, q).is_empty() {
            return Ok(false);
        }
        let sums: Vec<_> = summed(counters).into_iter().collect();
        for chunk in sums.chunks(COUNTER_CHUNK) {
            let mut q = Statement::<DB>::new(
                "INSERT INTO event_counters \
                 (account_id, sub_account_id, channel_id, day, metric, dimension, value)",
            );
            q.values(chunk, |row, (key, value)| {
                row.bind(key.account_id.to_string())?
                    .bind(key.sub_account_id.to_string())?
                    .bind(key.channel_id.to_string())?
                    .bind(key.day.format("%Y-%m-%d").to_string())?
                    .bind(key.metric.clone())?
                    .bind(key.dimension.clone())?
                    .bind(*value)?;
                Ok(())
            })?;
            q.push(
                " ON CONFLICT (sub_account_id, channel_id, day, metric, dimension) \
                 DO UPDATE SET value = event_counters.value + excluded.value",
            );
            execute!(conn, q);
        }
        Ok(true)
    }

    /// Gives up `owner`'s lease on `name`, so another node may take it at once.
    pub async fn release<DB>(conn: &mut DB::Connection, name: &str, owner: &str) -> StoreResult<()>
    where
        DB: Database,
        for<'c> &'c mut DB::Connection: Executor<'c, Database = DB>,
        for<'a> DB::Arguments<'a>: IntoArguments<'a, DB>,
        for<'a> String: Encode<'a, DB> + Type<DB>,
    {
        let mut q = Statement::<DB>::new(
            "UPDATE event_consumers SET owner = NULL, lease_until = NULL WHERE name = ",
        );
        q.bind(name.to_owned())?
            .push(" AND owner = ")
            .bind(owner.to_owned())?;
        execute!(conn, q);
        Ok(())
    }

    pub async fn consumers<DB>(conn: &mut DB::Connection) -> StoreResult<Vec<ConsumerState>>
    where
        DB: Database,
        for<'c> &'c mut DB::Connection: Executor<'c, Database = DB>,
        for<'a> DB::Arguments<'a>: IntoArguments<'a, DB>,
        ConsumerRow: for<'r> FromRow<'r, DB::Row>,
    {
        let q = Statement::<DB>::new(
            "SELECT name, position, owner, lease_until, updated_at FROM event_consumers \
             ORDER BY name",
        );
        Ok(fetch!(ConsumerRow, conn, q))
    }

    /// The last event's `seq` (0 for an empty log).
    pub async fn head<DB>(conn: &mut DB::Connection) -> StoreResult<i64>
    where
        DB: Database,
        for<'c> &'c mut DB::Connection: Executor<'c, Database = DB>,
        for<'a> DB::Arguments<'a>: IntoArguments<'a, DB>,
        for<'r> (i64,): FromRow<'r, DB::Row>,
    {
        let q = Statement::<DB>::new("SELECT CAST(COALESCE(MAX(seq), 0) AS BIGINT) FROM events");
        Ok(fetch_as!((i64,), conn, q).pop().map_or(0, |(seq,)| seq))
    }

    /// Deletes up to `limit` events appended before `before` that every consumer seen since
    /// `live_since` has passed (a consumer gone quiet for longer holds nothing back).
    /// Yields how many.
    pub async fn prune<DB>(
        conn: &mut DB::Connection,
        before: DateTime<Utc>,
        live_since: DateTime<Utc>,
        limit: u32,
    ) -> StoreResult<u64>
    where
        DB: Database,
        for<'c> &'c mut DB::Connection: Executor<'c, Database = DB>,
        for<'a> DB::Arguments<'a>: IntoArguments<'a, DB>,
        for<'a> i64: Encode<'a, DB> + Type<DB>,
        for<'r> (i64,): FromRow<'r, DB::Row>,
    {
        // The oldest `limit` events every live consumer has passed, in `seq` order (the
        // primary key, no scan), of which those older than `before` go: events are
        // appended in time order, so an old one is never long behind a young one.
        let mut q = Statement::<DB>::new(
            "DELETE FROM events WHERE seq IN (SELECT seq FROM events \
             WHERE seq <= COALESCE((SELECT MIN(position) FROM event_consumers \
                WHERE updated_at >= ",
        );
        q.bind(millis(live_since))?
            .push("), (SELECT MAX(seq) FROM events)) ORDER BY seq LIMIT ")
            .bind(i64::from(limit))?
            .push(") AND at < ")
            .bind(millis(before))?
            .push(" RETURNING seq");
        Ok(fetch_as!((i64,), conn, q).len() as u64)
    }

    /// The counters of `account` for the days in `[from, to)`.
    pub async fn counters<DB>(
        conn: &mut DB::Connection,
        account: &str,
        from: NaiveDate,
        to: NaiveDate,
    ) -> StoreResult<Vec<Counter>>
    where
        DB: Database,
        for<'c> &'c mut DB::Connection: Executor<'c, Database = DB>,
        for<'a> DB::Arguments<'a>: IntoArguments<'a, DB>,
        for<'a> String: Encode<'a, DB> + Type<DB>,
        CounterRow: for<'r> FromRow<'r, DB::Row>,
    {
        let mut q = Statement::<DB>::new(
            "SELECT account_id, sub_account_id, channel_id, day, metric, dimension, value \
             FROM event_counters WHERE account_id = ",
        );
        q.bind(account.to_owned())?
            .push(" AND day >= ")
            .bind(from.format("%Y-%m-%d").to_string())?
            .push(" AND day < ")
            .bind(to.format("%Y-%m-%d").to_string())?
            .push(" ORDER BY day, sub_account_id, channel_id, metric, dimension");
        Ok(fetch!(CounterRow, conn, q))
    }
}
