//! Pricing and conversation windows in SQL, shared by both backends: charging a delivered
//! message against the month's volume, a user's windows, free entry points opened by a
//! reply, and the usage report's groups.

use chrono::{DateTime, Datelike, Utc};
use parley_types::windows::{FREE_ENTRY_LASTS, FREE_ENTRY_REPLY_WITHIN};
use parley_types::{AccountId, ChannelId, Msisdn, SubAccountId};
use sqlx::{Database, Encode, Type};

use crate::accept_group::Statement;
use crate::rows::{from_millis, millis};
use crate::{ConversationWindow, Message, PriceList, StoreError, StoreResult, UsageRow};

/// The billing month of a delivery, `YYYY-MM` in UTC.
pub fn period(at: DateTime<Utc>) -> String {
    format!("{:04}-{:02}", at.year(), at.month())
}

/// The country calling code of a number (`"1"`, `"44"`, …); `"0"` when unknown.
pub fn calling_code(msisdn: &str) -> String {
    Msisdn::parse(msisdn, None)
        .ok()
        .and_then(|m| m.calling_code())
        .map_or_else(|| "0".to_owned(), |c| c.to_string())
}

/// Whether the message is billable, reached the user and is not charged yet.
pub fn due_for_charge(message: &Message) -> bool {
    message.status.reached_user()
        && message
            .pricing
            .as_ref()
            .is_some_and(|p| p.billable && p.cost_micros.is_none())
}

/// Counts one more charged message in its month and market; yields the count.
fn count_charge<'q, DB>(
    message: &Message,
    at: DateTime<Utc>,
    category: &str,
) -> StoreResult<Statement<'q, DB>>
where
    DB: Database,
    for<'a> String: Encode<'a, DB> + Type<DB>,
{
    let mut q = Statement::new(
        "INSERT INTO pricing_volume (account_id, period, category, calling_code, charged) VALUES (",
    );
    q.bind(message.account_id.to_string())?
        .push(", ")
        .bind(period(at))?
        .push(", ")
        .bind(category.to_owned())?
        .push(", ")
        .bind(calling_code(&message.msisdn))?
        .push(
            ", 1) ON CONFLICT (account_id, period, category, calling_code) \
             DO UPDATE SET charged = pricing_volume.charged + 1 RETURNING charged",
        );
    Ok(q)
}

fn window_query<'q, DB>(channel: ChannelId, msisdn: &str) -> StoreResult<Statement<'q, DB>>
where
    DB: Database,
    for<'a> String: Encode<'a, DB> + Type<DB>,
{
    let mut q = Statement::new(
        "SELECT last_inbound_at, referred_at, free_entry_until FROM conversation_windows \
         WHERE channel_id = ",
    );
    q.bind(channel.to_string())?
        .push(" AND msisdn = ")
        .bind(msisdn.to_owned())?;
    Ok(q)
}

#[derive(Debug, sqlx::FromRow)]
pub struct WindowRow {
    pub last_inbound_at: i64,
    pub referred_at: Option<i64>,
    pub free_entry_until: Option<i64>,
}

impl WindowRow {
    pub fn into_model(self) -> StoreResult<ConversationWindow> {
        Ok(ConversationWindow {
            last_inbound_at: from_millis(self.last_inbound_at)?,
            referred_at: self.referred_at.map(from_millis).transpose()?,
            free_entry_until: self.free_entry_until.map(from_millis).transpose()?,
        })
    }
}

#[derive(Debug, sqlx::FromRow)]
pub struct UsageSqlRow {
    pub sub_account_id: String,
    pub waba_id: String,
    pub category: String,
    pub country: Option<String>,
    pub tier: Option<i64>,
    pub delivered: i64,
    pub charged: i64,
    pub cost_micros: i64,
}

impl UsageSqlRow {
    pub fn into_model(self) -> StoreResult<UsageRow> {
        Ok(UsageRow {
            sub_account_id: SubAccountId::parse(&self.sub_account_id)
                .map_err(|e| StoreError::Corrupt(e.to_string()))?,
            waba_id: self.waba_id,
            category: self.category,
            country: self.country,
            tier: self.tier.map(|t| t as u32),
            delivered: self.delivered as u64,
            charged: self.charged as u64,
            cost_micros: self.cost_micros,
        })
    }
}

fn usage_query<'q, DB>(
    account: &AccountId,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> StoreResult<Statement<'q, DB>>
where
    DB: Database,
    for<'a> String: Encode<'a, DB> + Type<DB>,
    for<'a> i64: Encode<'a, DB> + Type<DB>,
{
    let mut q = Statement::new(
        "SELECT m.sub_account_id, c.waba_id, m.pricing_category AS category, m.country, \
            m.price_tier AS tier, COUNT(*) AS delivered, \
            COUNT(m.cost_micros) AS charged, \
            CAST(COALESCE(SUM(m.cost_micros), 0) AS BIGINT) AS cost_micros \
         FROM messages m JOIN channels c ON c.id = m.channel_id \
         WHERE m.account_id = ",
    );
    q.bind(account.to_string())?
        .push(" AND m.delivered_at >= ")
        .bind(millis(from))?
        .push(" AND m.delivered_at < ")
        .bind(millis(to))?
        .push(
            " AND m.pricing_category IS NOT NULL \
             GROUP BY m.sub_account_id, c.waba_id, m.pricing_category, m.country, m.price_tier \
             ORDER BY m.sub_account_id, c.waba_id, m.pricing_category, m.country, m.price_tier",
        );
    Ok(q)
}

/// The message `umid`, just sent to a user who came from an ad within the last day, opens
/// their free entry point; a later one only ends the chance.
fn open_free_entry<'q, DB>(umid: &str, at: DateTime<Utc>) -> StoreResult<Statement<'q, DB>>
where
    DB: Database,
    for<'a> String: Encode<'a, DB> + Type<DB>,
    for<'a> i64: Encode<'a, DB> + Type<DB>,
{
    let mut q = Statement::new(
        "UPDATE conversation_windows SET free_entry_until = CASE WHEN referred_at > ",
    );
    q.bind(millis(at - FREE_ENTRY_REPLY_WITHIN))?
        .push(" THEN ")
        .bind(millis(at + FREE_ENTRY_LASTS))?
        .push(
            " ELSE free_entry_until END, referred_at = NULL \
             WHERE channel_id = (SELECT channel_id FROM messages WHERE umid = ",
        )
        .bind(umid.to_owned())?
        .push(") AND msisdn = (SELECT msisdn FROM messages WHERE umid = ")
        .bind(umid.to_owned())?
        .push(") AND referred_at IS NOT NULL");
    Ok(q)
}

/// The operations, generic over the backend, each on the caller's connection (inside its
/// transaction where it writes).
pub mod ops {
    use super::*;
    use sqlx::{Executor, FromRow, IntoArguments};

    /// Charges `message` if it is due (see [`due_for_charge`]): counts it in the month's
    /// volume and records its price. Yields the message as charged.
    pub async fn charge<DB>(
        conn: &mut DB::Connection,
        mut message: Message,
        prices: &dyn PriceList,
    ) -> StoreResult<Message>
    where
        DB: Database,
        for<'c> &'c mut DB::Connection: Executor<'c, Database = DB>,
        for<'a> DB::Arguments<'a>: IntoArguments<'a, DB>,
        for<'a> String: Encode<'a, DB> + Type<DB>,
        for<'a> i64: Encode<'a, DB> + Type<DB>,
        for<'a> Option<String>: Encode<'a, DB> + Type<DB>,
        for<'a> Option<i64>: Encode<'a, DB> + Type<DB>,
        i64: for<'r> sqlx::Decode<'r, DB>,
        (i64,): for<'r> FromRow<'r, DB::Row>,
    {
        if !due_for_charge(&message) {
            return Ok(message);
        }
        let at = message.status.at;
        let category = message
            .pricing
            .as_ref()
            .map(|p| p.category.clone())
            .unwrap_or_default();
        let (sql, args) = count_charge::<DB>(&message, at, &category)?.parts();
        let (nth,): (i64,) = sqlx::query_as_with(&sql, args)
            .fetch_one(&mut *conn)
            .await
            .map_err(crate::rows::db_error)?;
        let price = prices.price(&category, &calling_code(&message.msisdn), nth as u64);
        let mut q = Statement::<DB>::new("UPDATE messages SET cost_micros = ");
        q.bind(price.micros)?
            .push(", price_tier = ")
            .bind(i64::from(price.tier))?
            .push(" WHERE umid = ")
            .bind(message.umid.to_string())?;
        execute!(conn, q);
        let event = crate::event_rows::NewEvent {
            kind: crate::EventKind::MessageCharged,
            account_id: message.account_id.as_str(),
            sub_account_id: Some(message.sub_account_id.as_str()),
            channel_id: Some(message.channel_id.to_string()),
            conversation: format!("m:{}:{}", message.channel_id, message.msisdn),
            subject: message.umid.to_string(),
            source_id: None,
            payload: Some(crate::event_rows::charge_payload(&category, price.micros)),
            at,
        };
        execute!(conn, crate::event_rows::append::<DB>(&event)?);
        if let Some(pricing) = message.pricing.as_mut() {
            pricing.cost_micros = Some(price.micros);
        }
        Ok(message)
    }

    pub async fn window<DB>(
        conn: &mut DB::Connection,
        channel: ChannelId,
        msisdn: &str,
    ) -> StoreResult<Option<ConversationWindow>>
    where
        DB: Database,
        for<'c> &'c mut DB::Connection: Executor<'c, Database = DB>,
        for<'a> DB::Arguments<'a>: IntoArguments<'a, DB>,
        WindowRow: for<'r> FromRow<'r, DB::Row>,
        for<'a> String: Encode<'a, DB> + Type<DB>,
    {
        Ok(fetch!(WindowRow, conn, window_query::<DB>(channel, msisdn)?).pop())
    }

    pub async fn usage<DB>(
        conn: &mut DB::Connection,
        account: &AccountId,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> StoreResult<Vec<UsageRow>>
    where
        DB: Database,
        for<'c> &'c mut DB::Connection: Executor<'c, Database = DB>,
        for<'a> DB::Arguments<'a>: IntoArguments<'a, DB>,
        UsageSqlRow: for<'r> FromRow<'r, DB::Row>,
        for<'a> String: Encode<'a, DB> + Type<DB>,
        for<'a> i64: Encode<'a, DB> + Type<DB>,
    {
        Ok(fetch!(
            UsageSqlRow,
            conn,
            usage_query::<DB>(account, from, to)?
        ))
    }

    /// After the provider took the message `umid` at `at`: see [`open_free_entry`].
    pub async fn replied<DB>(
        conn: &mut DB::Connection,
        umid: &str,
        at: DateTime<Utc>,
    ) -> StoreResult<()>
    where
        DB: Database,
        for<'c> &'c mut DB::Connection: Executor<'c, Database = DB>,
        for<'a> DB::Arguments<'a>: IntoArguments<'a, DB>,
        for<'a> String: Encode<'a, DB> + Type<DB>,
        for<'a> i64: Encode<'a, DB> + Type<DB>,
    {
        execute!(conn, open_free_entry::<DB>(umid, at)?);
        Ok(())
    }
}
