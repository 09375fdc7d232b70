//! Stores a group of accepted outbound messages in one round trip to the database. The
//! API's group commit hands over up to a few hundred messages at once, and every request
//! in the group waits for the commit: a statement per message, or even per table, made the
//! writer wait on one driver round trip after another.
//!
//! SQLite runs the whole transaction as one multi-statement command around
//! [`insert_messages`] (one multi-row `INSERT`); PostgreSQL runs one statement with
//! data-modifying `WITH` clauses whose rows arrive as one array per column, so its text
//! (and plan) is the same for every group. Both then derive the history entries, the
//! queue rows (in the group's order) and the lanes from the rows actually inserted.
//!
//! The unique index on `(sub_account_id, client_message_id)` settles duplicates (`ON
//! CONFLICT DO NOTHING`), so two writers accepting the same message at once agree on one
//! copy; whatever was not inserted is answered with the message stored first
//! ([`outcomes`], after [`stored_by_client_id`]).

use std::collections::{HashMap, HashSet};

use sqlx::{Arguments, Database, Encode, Type};

use crate::rows::{MESSAGE_COLUMNS, MessageRow, OUTBOUND_INSERT_COLUMNS, StatusColumns, millis};
use crate::{AcceptOutcome, Message, Origin, StoreError, StoreResult};

/// The outcome of each message, in order, given the umids that were inserted and the
/// stored messages that the others repeat the `clientMessageId` of.
pub fn outcomes(
    messages: &[Message],
    inserted: &HashSet<String>,
    earlier: Vec<MessageRow>,
) -> StoreResult<Vec<AcceptOutcome>> {
    let mut first = HashMap::new();
    for row in earlier {
        let m = row.into_model()?;
        first.insert((m.sub_account_id.clone(), m.client_message_id.clone()), m);
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

/// The group's umids in order, as a JSON array (SQLite reads it with `json_each`).
pub fn umid_json(messages: &[Message]) -> StoreResult<String> {
    serde_json::to_string(&umids(messages)).map_err(|e| StoreError::Corrupt(e.to_string()))
}

/// The group's umids in order.
pub fn umids(messages: &[Message]) -> Vec<String> {
    messages.iter().map(|m| m.umid.to_string()).collect()
}

/// SQL text and its arguments, with placeholders as the backend writes them. (sqlx's
/// `QueryBuilder` does not fit generic code: it must stay borrowed for as long as its
/// arguments live, which outlasts the builder itself.)
pub struct Statement<'q, DB: Database> {
    pub sql: String,
    pub args: DB::Arguments<'q>,
}

impl<'q, DB: Database> Statement<'q, DB> {
    pub fn new(sql: impl Into<String>) -> Self {
        Self {
            sql: sql.into(),
            args: Default::default(),
        }
    }

    /// The SQL text and the arguments, apart: a query borrows the text for as long as it
    /// holds the arguments.
    pub fn parts(self) -> (String, DB::Arguments<'q>) {
        (self.sql, self.args)
    }

    pub fn push(&mut self, sql: &str) -> &mut Self {
        self.sql.push_str(sql);
        self
    }

    pub fn bind<T: 'q + Encode<'q, DB> + Type<DB>>(&mut self, value: T) -> StoreResult<&mut Self> {
        let failed = |e: &dyn std::fmt::Display| StoreError::Corrupt(format!("binding: {e}"));
        self.args.add(value).map_err(|e| failed(&e))?;
        self.args
            .format_placeholder(&mut self.sql)
            .map_err(|e| failed(&e))?;
        Ok(self)
    }

    /// ` VALUES (…), (…)`, one tuple per row; `row` binds a row's values in column order.
    pub fn values<T>(
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
pub struct Tuple<'s, 'q, DB: Database> {
    statement: &'s mut Statement<'q, DB>,
    empty: bool,
}

impl<'q, DB: Database> Tuple<'_, 'q, DB> {
    pub fn bind<T: 'q + Encode<'q, DB> + Type<DB>>(&mut self, value: T) -> StoreResult<&mut Self> {
        if !std::mem::take(&mut self.empty) {
            self.statement.sql.push_str(", ");
        }
        self.statement.bind(value)?;
        Ok(self)
    }
}

/// `INSERT INTO messages … VALUES …`, skipping a `clientMessageId` already used, appended
/// to `query` (no `RETURNING`: the backend adds what it reads back).
pub fn insert_messages<'q, DB>(
    query: &mut Statement<'q, DB>,
    messages: &[Message],
) -> StoreResult<()>
where
    DB: Database,
    for<'a> String: Encode<'a, DB> + Type<DB>,
    for<'a> Option<String>: Encode<'a, DB> + Type<DB>,
    for<'a> i64: Encode<'a, DB> + Type<DB>,
    for<'a> Option<i64>: Encode<'a, DB> + Type<DB>,
    for<'a> i32: Encode<'a, DB> + Type<DB>,
{
    query.push(&format!(
        "INSERT INTO messages ({OUTBOUND_INSERT_COLUMNS}, status_rank)"
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
            .bind(m.dlr_callback_url.clone())?
            .bind(m.channel_user_id.clone())?
            .bind(m.batch.as_ref().map(|b| b.id.to_string()))?
            .bind(m.batch.as_ref().and_then(|b| b.client_batch_id.clone()))?
            .bind(m.scheduled_at.map(millis))?
            .bind(m.expires_at.map(millis))?
            .bind(m.origin.as_ref().map(|o| o.kind().to_owned()))?
            .bind(m.origin.as_ref().and_then(Origin::reference))?
            .bind(s.rank)?;
        Ok(())
    })?;
    query.push(
        " ON CONFLICT (sub_account_id, client_message_id) WHERE client_message_id IS NOT NULL \
         DO NOTHING",
    );
    Ok(())
}

/// The query for the stored messages whose `clientMessageId` the messages that were not
/// inserted repeat; `None` when every message was inserted.
pub fn stored_by_client_id<'q, DB>(
    messages: &[Message],
    inserted: &HashSet<String>,
) -> StoreResult<Option<Statement<'q, DB>>>
where
    DB: Database,
    for<'a> String: Encode<'a, DB> + Type<DB>,
    for<'a> Option<String>: Encode<'a, DB> + Type<DB>,
{
    // Per subaccount one `IN` list: a chain of `OR`s as long as a batch is deeper than
    // SQLite lets an expression be.
    let mut repeated: Vec<(&str, Vec<&str>)> = Vec::new();
    for m in messages
        .iter()
        .filter(|m| !inserted.contains(&m.umid.to_string()))
    {
        let Some(cmid) = m.client_message_id.as_deref() else {
            continue;
        };
        match repeated
            .iter_mut()
            .find(|(sub, _)| *sub == m.sub_account_id.as_str())
        {
            Some((_, cmids)) => cmids.push(cmid),
            None => repeated.push((m.sub_account_id.as_str(), vec![cmid])),
        }
    }
    if repeated.is_empty() {
        return Ok(None);
    }
    let mut query = Statement::new(format!("SELECT {MESSAGE_COLUMNS} FROM messages WHERE "));
    for (i, (sub, cmids)) in repeated.iter().enumerate() {
        query
            .push(if i == 0 { "(" } else { " OR (" })
            .push("sub_account_id = ")
            .bind(sub.to_string())?
            .push(" AND client_message_id IN (");
        for (j, cmid) in cmids.iter().enumerate() {
            if j > 0 {
                query.push(", ");
            }
            query.bind(cmid.to_string())?;
        }
        query.push("))");
    }
    Ok(Some(query))
}
