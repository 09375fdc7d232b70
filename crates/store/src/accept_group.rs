//! Stores a group of accepted outbound messages with one statement per table, the same
//! on both SQL backends. The API's group commit hands over up to a few hundred messages at
//! once; a statement per message made the writer wait on one driver round trip after
//! another while every request in the group waited for the commit.
//!
//! The unique index on `(sub_account_id, client_message_id)` settles duplicates (`ON
//! CONFLICT DO NOTHING`), so two writers accepting the same message at once agree on one
//! copy; whatever was not inserted is answered with the message stored first.

use std::collections::{HashMap, HashSet};

use sqlx::{Arguments, Database, Encode, Executor, FromRow, IntoArguments, Type};

use crate::rows::{MESSAGE_COLUMNS, MessageRow, StatusColumns, db_error, millis};
use crate::{AcceptOutcome, Message, StoreError, StoreResult};

/// Stores `messages` (in this order) inside the caller's transaction: the message with its
/// first status, its history entry and its place in the dispatch queue.
pub async fn accept_group<DB>(
    conn: &mut DB::Connection,
    messages: &[Message],
) -> StoreResult<Vec<AcceptOutcome>>
where
    DB: Database,
    for<'c> &'c mut DB::Connection: Executor<'c, Database = DB>,
    for<'a> DB::Arguments<'a>: IntoArguments<'a, DB>,
    for<'q> String: Encode<'q, DB> + Type<DB>,
    for<'q> Option<String>: Encode<'q, DB> + Type<DB>,
    for<'q> i64: Encode<'q, DB> + Type<DB>,
    for<'q> Option<i64>: Encode<'q, DB> + Type<DB>,
    for<'q> i32: Encode<'q, DB> + Type<DB>,
    for<'r> MessageRow: FromRow<'r, DB::Row>,
    for<'r> (String,): FromRow<'r, DB::Row>,
{
    if messages.is_empty() {
        return Ok(Vec::new());
    }
    let Statement { sql, args } = insert_messages::<DB>(messages)?;
    let inserted: HashSet<String> = sqlx::query_as_with::<DB, (String,), _>(&sql, args)
        .fetch_all(&mut *conn)
        .await
        .map_err(db_error)?
        .into_iter()
        .map(|(umid,)| umid)
        .collect();
    let (new, repeated): (Vec<&Message>, Vec<&Message>) = messages
        .iter()
        .partition(|m| inserted.contains(&m.umid.to_string()));
    if !new.is_empty() {
        let Statement { sql, args } = insert_history::<DB>(&new)?;
        sqlx::query_with::<DB, _>(&sql, args)
            .execute(&mut *conn)
            .await
            .map_err(db_error)?;
        let Statement { sql, args } = enqueue::<DB>(&new)?;
        sqlx::query_with::<DB, _>(&sql, args)
            .execute(&mut *conn)
            .await
            .map_err(db_error)?;
        let Statement { sql, args } = open_lanes::<DB>(&new)?;
        sqlx::query_with::<DB, _>(&sql, args)
            .execute(&mut *conn)
            .await
            .map_err(db_error)?;
    }
    let mut first = HashMap::new();
    if !repeated.is_empty() {
        let Statement { sql, args } = stored_by_client_id::<DB>(&repeated)?;
        let rows = sqlx::query_as_with::<DB, MessageRow, _>(&sql, args)
            .fetch_all(&mut *conn)
            .await
            .map_err(db_error)?;
        for row in rows {
            let m = row.into_model()?;
            first.insert((m.sub_account_id.clone(), m.client_message_id.clone()), m);
        }
    }
    messages
        .iter()
        .map(|m| {
            if inserted.contains(&m.umid.to_string()) {
                return Ok(AcceptOutcome::Accepted(m.clone()));
            }
            first
                .get(&(m.sub_account_id.clone(), m.client_message_id.clone()))
                .map(|f| AcceptOutcome::Duplicate(f.clone()))
                .ok_or_else(|| {
                    StoreError::Corrupt(format!(
                        "message {} neither stored nor a duplicate",
                        m.umid
                    ))
                })
        })
        .collect()
}

/// SQL text and its arguments, with placeholders as the backend writes them. (sqlx's
/// `QueryBuilder` does not fit generic code: it must stay borrowed for as long as its
/// arguments live, which outlasts the builder itself.)
struct Statement<'q, DB: Database> {
    sql: String,
    args: DB::Arguments<'q>,
}

impl<'q, DB: Database> Statement<'q, DB> {
    fn new(sql: impl Into<String>) -> Self {
        Self {
            sql: sql.into(),
            args: Default::default(),
        }
    }

    fn push(&mut self, sql: &str) -> &mut Self {
        self.sql.push_str(sql);
        self
    }

    fn bind<T: 'q + Encode<'q, DB> + Type<DB>>(&mut self, value: T) -> StoreResult<&mut Self> {
        let failed = |e: &dyn std::fmt::Display| StoreError::Corrupt(format!("binding: {e}"));
        self.args.add(value).map_err(|e| failed(&e))?;
        self.args
            .format_placeholder(&mut self.sql)
            .map_err(|e| failed(&e))?;
        Ok(self)
    }

    /// ` VALUES (…), (…)`, one tuple per row; `row` binds a row's values in column order.
    fn values<T>(
        &mut self,
        rows: &[T],
        mut row: impl FnMut(&mut Tuple<'_, 'q, DB>, &T) -> StoreResult<()>,
    ) -> StoreResult<()> {
        self.sql.push_str(" VALUES ");
        for (i, value) in rows.iter().enumerate() {
            self.sql.push_str(if i == 0 { "(" } else { ", (" });
            row(
                &mut Tuple {
                    statement: self,
                    empty: true,
                },
                value,
            )?;
            self.sql.push(')');
        }
        Ok(())
    }
}

/// One parenthesised row of a `VALUES` list.
struct Tuple<'s, 'q, DB: Database> {
    statement: &'s mut Statement<'q, DB>,
    empty: bool,
}

impl<'q, DB: Database> Tuple<'_, 'q, DB> {
    fn bind<T: 'q + Encode<'q, DB> + Type<DB>>(&mut self, value: T) -> StoreResult<&mut Self> {
        if !std::mem::take(&mut self.empty) {
            self.statement.sql.push_str(", ");
        }
        self.statement.bind(value)?;
        Ok(self)
    }
}

/// `INSERT INTO messages … RETURNING umid`, skipping a `clientMessageId` already used.
fn insert_messages<'q, DB>(messages: &[Message]) -> StoreResult<Statement<'q, DB>>
where
    DB: Database,
    for<'a> String: Encode<'a, DB> + Type<DB>,
    for<'a> Option<String>: Encode<'a, DB> + Type<DB>,
    for<'a> i64: Encode<'a, DB> + Type<DB>,
    for<'a> Option<i64>: Encode<'a, DB> + Type<DB>,
    for<'a> i32: Encode<'a, DB> + Type<DB>,
{
    let mut query = Statement::new(format!(
        "INSERT INTO messages ({MESSAGE_COLUMNS}, status_rank)"
    ));
    query.values(messages, |row, m| {
        let s = StatusColumns::from(&m.status);
        row.bind(m.umid.to_string())?
            .bind(m.account_id.to_string())?
            .bind(m.sub_account_id.to_string())?
            .bind(m.channel_id.to_string())?
            .bind(m.direction.as_str().to_owned())?
            .bind(m.msisdn.clone())?
            .bind(m.country.clone())?
            .bind(m.content_type.clone())?
            .bind(m.content.to_string())?
            .bind(m.client_message_id.clone())?
            .bind(m.reply_to.map(|u| u.to_string()))?
            .bind(m.provider_message_id.clone())?
            .bind(m.user_name.clone())?
            .bind(s.state.to_owned())?
            .bind(s.detail.map(str::to_owned))?
            .bind(s.error_code)?
            .bind(s.error_message)?
            .bind(s.provider_error_code)?
            .bind(s.at)?
            .bind(millis(m.created_at))?
            .bind(s.rank)?;
        Ok(())
    })?;
    query.push(
        " ON CONFLICT (sub_account_id, client_message_id) WHERE client_message_id IS NOT NULL \
         DO NOTHING RETURNING umid",
    );
    Ok(query)
}

/// Each new message's first status, as the start of its history.
fn insert_history<'q, DB>(messages: &[&Message]) -> StoreResult<Statement<'q, DB>>
where
    DB: Database,
    for<'a> String: Encode<'a, DB> + Type<DB>,
    for<'a> Option<String>: Encode<'a, DB> + Type<DB>,
    for<'a> i64: Encode<'a, DB> + Type<DB>,
    for<'a> Option<i64>: Encode<'a, DB> + Type<DB>,
{
    let mut query = Statement::new(
        "INSERT INTO message_statuses \
         (umid, state, detail, error_code, error_message, provider_error_code, status_at)",
    );
    query.values(messages, |row, m| {
        let s = StatusColumns::from(&m.status);
        row.bind(m.umid.to_string())?
            .bind(s.state.to_owned())?
            .bind(s.detail.map(str::to_owned))?
            .bind(s.error_code)?
            .bind(s.error_message)?
            .bind(s.provider_error_code)?
            .bind(s.at)?;
        Ok(())
    })?;
    Ok(query)
}

/// The dispatch queue's sequence follows the order of the rows here, which is the order
/// of acceptance: messages to one recipient leave in that order.
fn enqueue<'q, DB>(messages: &[&Message]) -> StoreResult<Statement<'q, DB>>
where
    DB: Database,
    for<'a> String: Encode<'a, DB> + Type<DB>,
    for<'a> i64: Encode<'a, DB> + Type<DB>,
{
    let mut query =
        Statement::new("INSERT INTO dispatch_queue (umid, channel_id, msisdn, next_attempt_at)");
    query.values(messages, |row, m| {
        row.bind(m.umid.to_string())?
            .bind(m.channel_id.to_string())?
            .bind(m.msisdn.clone())?
            .bind(millis(m.created_at))?;
        Ok(())
    })?;
    Ok(query)
}

/// Makes each message's lane (channel and recipient) ready, unless it already waits for an
/// earlier message. On PostgreSQL the upsert locks the lane row, so a worker finishing the
/// lane's last message at the same moment (it locks the lane first too) either sees this
/// message or runs after this transaction and leaves the lane ready for it.
fn open_lanes<'q, DB>(messages: &[&Message]) -> StoreResult<Statement<'q, DB>>
where
    DB: Database,
    for<'a> String: Encode<'a, DB> + Type<DB>,
    for<'a> i64: Encode<'a, DB> + Type<DB>,
{
    // One row per lane (an upsert may not touch a row twice in one statement), the first
    // message of each, in the order every transaction locks lanes in: (channel, recipient),
    // compared bytewise (PostgreSQL sorts them `COLLATE "C"` to match).
    let mut seen = HashSet::new();
    let mut lanes: Vec<&&Message> = messages
        .iter()
        .filter(|m| seen.insert((m.channel_id, m.msisdn.as_str())))
        .collect();
    lanes.sort_by_cached_key(|m| (m.channel_id.to_string(), m.msisdn.clone()));
    let mut query =
        Statement::new("INSERT INTO dispatch_lanes (channel_id, msisdn, head_umid, ready_at)");
    query.values(&lanes, |row, m| {
        row.bind(m.channel_id.to_string())?
            .bind(m.msisdn.clone())?
            .bind(m.umid.to_string())?
            .bind(millis(m.created_at))?;
        Ok(())
    })?;
    query.push(
        " ON CONFLICT (channel_id, msisdn) DO UPDATE \
         SET head_umid = COALESCE(dispatch_lanes.head_umid, excluded.head_umid), \
             ready_at = COALESCE(dispatch_lanes.ready_at, excluded.ready_at)",
    );
    Ok(query)
}

/// The stored messages whose `clientMessageId` the given messages repeat.
fn stored_by_client_id<'q, DB>(messages: &[&Message]) -> StoreResult<Statement<'q, DB>>
where
    DB: Database,
    for<'a> String: Encode<'a, DB> + Type<DB>,
    for<'a> Option<String>: Encode<'a, DB> + Type<DB>,
{
    let mut query = Statement::new(format!("SELECT {MESSAGE_COLUMNS} FROM messages WHERE "));
    for (i, m) in messages.iter().enumerate() {
        query
            .push(if i == 0 { "(" } else { " OR (" })
            .push("sub_account_id = ")
            .bind(m.sub_account_id.to_string())?
            .push(" AND client_message_id = ")
            .bind(m.client_message_id.clone())?
            .push(")");
    }
    Ok(query)
}
