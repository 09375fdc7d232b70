//! The message log query in SQL, shared by both backends: every filter is a plain
//! equality (or `IN`) on an indexed column where it matters, pages continue after the
//! previous page's last `(created_at, umid)` with a row-value comparison, which both
//! databases answer from the `(…, created_at, umid)` indexes without an offset scan.

use sqlx::{Database, Encode, Executor, FromRow, IntoArguments, Type};

use crate::accept_group::Statement;
use crate::rows::{MESSAGE_COLUMNS, MessageRow, millis};
use crate::{LogCursor, LogFilter, Message, StoreResult};
use parley_types::AccountId;

/// The number of the newest message of `account` with this business-scoped user id
/// (`messages_channel_user` answers it).
pub async fn msisdn_for_channel_user<DB>(
    conn: &mut DB::Connection,
    account: &AccountId,
    channel_user_id: &str,
) -> StoreResult<Option<String>>
where
    DB: Database,
    for<'c> &'c mut DB::Connection: Executor<'c, Database = DB>,
    for<'a> DB::Arguments<'a>: IntoArguments<'a, DB>,
    for<'a> String: Encode<'a, DB> + Type<DB>,
    for<'r> (String,): FromRow<'r, DB::Row>,
{
    let mut q = Statement::<DB>::new(
        "SELECT msisdn FROM messages WHERE channel_user_id IS NOT NULL AND account_id = "
            .to_owned(),
    );
    q.bind(account.to_string())?
        .push(" AND channel_user_id = ")
        .bind(channel_user_id.to_owned())?
        .push(" ORDER BY created_at DESC LIMIT 1");
    let rows = fetch_as!((String,), conn, q);
    Ok(rows.into_iter().next().map(|(msisdn,)| msisdn))
}

pub async fn query_messages<DB>(
    conn: &mut DB::Connection,
    filter: &LogFilter,
    after: Option<LogCursor>,
    limit: u32,
) -> StoreResult<Vec<Message>>
where
    DB: Database,
    for<'c> &'c mut DB::Connection: Executor<'c, Database = DB>,
    for<'a> DB::Arguments<'a>: IntoArguments<'a, DB>,
    for<'a> String: Encode<'a, DB> + Type<DB>,
    for<'a> i64: Encode<'a, DB> + Type<DB>,
    MessageRow: for<'r> FromRow<'r, DB::Row>,
{
    let mut q = Statement::<DB>::new(format!(
        "SELECT {MESSAGE_COLUMNS} FROM messages WHERE 1 = 1"
    ));
    let text = |v: &dyn ToString| v.to_string();
    let equalities = [
        ("account_id", filter.account_id.as_ref().map(|v| text(v))),
        (
            "sub_account_id",
            filter.sub_account_id.as_ref().map(|v| text(v)),
        ),
        ("channel_id", filter.channel_id.as_ref().map(|v| text(v))),
        ("umid", filter.umid.as_ref().map(|v| text(v))),
        ("client_message_id", filter.client_message_id.clone()),
        ("msisdn", filter.msisdn.clone()),
    ];
    for (column, value) in equalities {
        if let Some(value) = value {
            q.push(&format!(" AND {column} = ")).bind(value)?;
        }
    }
    // Literals, not parameters: a partial index (`messages_undelivered`, `…_inbound`) is
    // only used when the query itself implies its condition, and a generic prepared plan
    // cannot. Both values are this crate's own enum names, never user text.
    if let Some(direction) = filter.direction {
        q.push(&format!(" AND direction = '{}'", direction.as_str()));
    }
    if let Some(state) = filter.state {
        q.push(&format!(" AND state = '{}'", state.as_str()));
    }
    // A client message id is unique per subaccount, and indexed that way: naming the
    // account's subaccounts lets both databases look it up instead of scanning the account.
    if let (Some(account), Some(_), None) = (
        &filter.account_id,
        &filter.client_message_id,
        &filter.sub_account_id,
    ) {
        q.push(" AND sub_account_id IN (SELECT id FROM sub_accounts WHERE account_id = ")
            .bind(account.to_string())?
            .push(")");
    }
    if !filter.countries.is_empty() {
        q.push(" AND country IN (");
        for (i, country) in filter.countries.iter().enumerate() {
            if i > 0 {
                q.push(", ");
            }
            q.bind(country.clone())?;
        }
        q.push(")");
    }
    if let Some(from) = filter.from {
        q.push(" AND created_at >= ").bind(millis(from))?;
    }
    // A cursor from inside the range already bounds the page from above; naming `to` as
    // well makes SQLite take `created_at < to` as the index's upper bound and filter the
    // cursor row by row, so each page of an export rescanned every row before it.
    let cursor_within_range = match (after, filter.to) {
        (Some(cursor), Some(to)) => cursor.created_at < to,
        _ => false,
    };
    if let Some(to) = filter.to.filter(|_| !cursor_within_range) {
        q.push(" AND created_at < ").bind(millis(to))?;
    }
    if let Some(cursor) = after {
        q.push(" AND (created_at, umid) < (")
            .bind(millis(cursor.created_at))?
            .push(", ")
            .bind(cursor.umid.to_string())?
            .push(")");
    }
    q.push(" ORDER BY created_at DESC, umid DESC LIMIT ")
        .bind(i64::from(limit))?;
    Ok(fetch!(MessageRow, conn, q))
}
