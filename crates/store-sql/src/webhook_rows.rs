//! Webhooks and their outbox as both SQL backends store them: rows, and the statements
//! both run (placeholders in each backend's dialect through [`Statement`]). Only claiming
//! differs (SQLite's single writer, PostgreSQL's `FOR UPDATE SKIP LOCKED`) and lives in
//! the backends. The outbox rows themselves are written by triggers (see the migrations).

use chrono::{DateTime, Utc};
use parley_types::{AccountId, SubAccountId};
use sqlx::{Database, Encode, Type};

use crate::accept_group::Statement;
use crate::rows::{MESSAGE_COLUMNS, from_millis, millis};
use crate::template_rows::TEMPLATE_COLUMNS;
use crate::{
    BusinessEvent, EndpointHealth, EventFilter, EventSource, EventState, Redrive, StoreError,
    StoreResult, Webhook, WebhookAttempt, WebhookEvent, WebhookKind, WebhookOutcome,
};

fn corrupt(what: &str, e: impl std::fmt::Display) -> StoreError {
    StoreError::Corrupt(format!("webhook {what}: {e}"))
}

fn account(raw: &str) -> StoreResult<AccountId> {
    AccountId::parse(raw).map_err(|e| corrupt("account", e))
}

pub const WEBHOOK_COLUMNS: &str = "account_id, sub_account_id, kind, url, enabled, \
    http_authorization, oauth, signing_secret, created_at, updated_at";

#[derive(Debug, sqlx::FromRow)]
pub struct WebhookRow {
    pub account_id: String,
    pub sub_account_id: String,
    pub kind: String,
    pub url: String,
    pub enabled: bool,
    pub http_authorization: Option<String>,
    pub oauth: Option<String>,
    pub signing_secret: Option<String>,
    pub created_at: i64,
    pub updated_at: i64,
}

impl WebhookRow {
    pub fn into_model(self) -> StoreResult<Webhook> {
        Ok(Webhook {
            account_id: account(&self.account_id)?,
            sub_account_id: self.sub_account_id,
            kind: WebhookKind::parse(&self.kind).ok_or_else(|| corrupt("kind", &self.kind))?,
            url: self.url,
            enabled: self.enabled,
            http_authorization: self.http_authorization,
            oauth: self
                .oauth
                .map(|o| serde_json::from_str(&o).map_err(|e| corrupt("oauth", e)))
                .transpose()?,
            signing_secret: self.signing_secret,
            created_at: from_millis(self.created_at)?,
            updated_at: from_millis(self.updated_at)?,
        })
    }
}

pub const EVENT_COLUMNS: &str = "id, account_id, sub_account_id, kind, source, source_id, \
    lane, created_at, state, attempts, url, last_error, finished_at";

#[derive(Debug, sqlx::FromRow)]
pub struct EventRow {
    pub id: i64,
    pub account_id: String,
    pub sub_account_id: Option<String>,
    pub kind: String,
    pub source: String,
    pub source_id: i64,
    pub lane: String,
    pub created_at: i64,
    pub state: String,
    pub attempts: i64,
    pub url: Option<String>,
    pub last_error: Option<String>,
    pub finished_at: Option<i64>,
}

impl EventRow {
    pub fn into_model(self) -> StoreResult<WebhookEvent> {
        Ok(WebhookEvent {
            id: self.id,
            account_id: account(&self.account_id)?,
            sub_account_id: self
                .sub_account_id
                .map(|s| SubAccountId::parse(&s).map_err(|e| corrupt("subaccount", e)))
                .transpose()?,
            kind: WebhookKind::parse(&self.kind).ok_or_else(|| corrupt("kind", &self.kind))?,
            source: EventSource::parse(&self.source)
                .ok_or_else(|| corrupt("source", &self.source))?,
            source_id: self.source_id,
            lane: self.lane,
            created_at: from_millis(self.created_at)?,
            state: EventState::parse(&self.state).ok_or_else(|| corrupt("state", &self.state))?,
            attempts: u32::try_from(self.attempts).unwrap_or(u32::MAX),
            url: self.url,
            last_error: self.last_error,
            finished_at: self.finished_at.map(from_millis).transpose()?,
        })
    }
}

#[derive(Debug, sqlx::FromRow)]
pub struct AttemptRow {
    pub at: i64,
    pub url: String,
    pub status_code: Option<i64>,
    pub latency_ms: i64,
    pub error: Option<String>,
}

impl AttemptRow {
    pub fn into_model(self) -> StoreResult<WebhookAttempt> {
        Ok(WebhookAttempt {
            at: from_millis(self.at)?,
            url: self.url,
            status_code: self.status_code.and_then(|c| u16::try_from(c).ok()),
            latency_ms: u64::try_from(self.latency_ms).unwrap_or(0),
            error: self.error,
        })
    }
}

#[derive(Debug, sqlx::FromRow)]
pub struct BusinessRow {
    pub account_id: String,
    pub waba_id: String,
    pub event_type: String,
    pub details: String,
    pub at: i64,
}

impl BusinessRow {
    pub fn into_model(self) -> StoreResult<BusinessEvent> {
        Ok(BusinessEvent {
            account_id: account(&self.account_id)?,
            waba_id: self.waba_id,
            event_type: self.event_type,
            details: serde_json::from_str(&self.details).map_err(|e| corrupt("details", e))?,
            at: from_millis(self.at)?,
        })
    }
}

#[derive(Debug, sqlx::FromRow)]
pub struct EndpointRow {
    pub account_id: String,
    pub url: String,
    pub failing_since: Option<i64>,
    pub failing: bool,
    pub last_error: Option<String>,
    pub updated_at: i64,
}

impl EndpointRow {
    pub fn into_model(self) -> StoreResult<EndpointHealth> {
        Ok(EndpointHealth {
            account_id: account(&self.account_id)?,
            url: self.url,
            failing_since: self.failing_since.map(from_millis).transpose()?,
            failing: self.failing,
            last_error: self.last_error,
            updated_at: from_millis(self.updated_at)?,
        })
    }
}

/// The status row of a `status` event: its message and the status as recorded.
#[derive(Debug, sqlx::FromRow)]
pub struct StatusSourceRow {
    pub umid: String,
    #[sqlx(flatten)]
    pub status: crate::rows::StatusRow,
}

/// The history row of a `template` event.
#[derive(Debug, sqlx::FromRow)]
pub struct TemplateSourceRow {
    pub template_id: String,
    #[sqlx(flatten)]
    pub entry: crate::template_rows::HistoryRow,
}

/// The statements both backends run, each built fresh with its arguments.
pub mod statements {
    use super::*;

    pub fn upsert_webhook<'q, DB>(w: &Webhook) -> StoreResult<Statement<'q, DB>>
    where
        DB: Database,
        for<'a> String: Encode<'a, DB> + Type<DB>,
        for<'a> Option<String>: Encode<'a, DB> + Type<DB>,
        for<'a> i64: Encode<'a, DB> + Type<DB>,
        for<'a> bool: Encode<'a, DB> + Type<DB>,
    {
        let mut q = Statement::new(format!("INSERT INTO webhooks ({WEBHOOK_COLUMNS}) VALUES ("));
        q.bind(w.account_id.to_string())?
            .push(", ")
            .bind(w.sub_account_id.clone())?
            .push(", ")
            .bind(w.kind.as_str().to_owned())?
            .push(", ")
            .bind(w.url.clone())?
            .push(", ")
            .bind(w.enabled)?
            .push(", ")
            .bind(w.http_authorization.clone())?
            .push(", ")
            .bind(w.oauth.as_ref().map(ToString::to_string))?
            .push(", ")
            .bind(w.signing_secret.clone())?
            .push(", ")
            .bind(millis(w.created_at))?
            .push(", ")
            .bind(millis(w.updated_at))?
            .push(
                ") ON CONFLICT (account_id, sub_account_id, kind) DO UPDATE SET \
                 url = excluded.url, enabled = excluded.enabled, \
                 http_authorization = excluded.http_authorization, oauth = excluded.oauth, \
                 signing_secret = excluded.signing_secret, updated_at = excluded.updated_at",
            );
        Ok(q)
    }

    pub fn webhooks_of<'q, DB>(account: &AccountId) -> StoreResult<Statement<'q, DB>>
    where
        DB: Database,
        for<'a> String: Encode<'a, DB> + Type<DB>,
    {
        let mut q = Statement::new(format!(
            "SELECT {WEBHOOK_COLUMNS} FROM webhooks WHERE account_id = "
        ));
        q.bind(account.to_string())?
            .push(" ORDER BY sub_account_id, kind");
        Ok(q)
    }

    pub fn delete_webhook<'q, DB>(
        account: &AccountId,
        sub_account: &str,
        kind: Option<WebhookKind>,
    ) -> StoreResult<Statement<'q, DB>>
    where
        DB: Database,
        for<'a> String: Encode<'a, DB> + Type<DB>,
    {
        let mut q = Statement::new("DELETE FROM webhooks WHERE account_id = ");
        q.bind(account.to_string())?
            .push(" AND sub_account_id = ")
            .bind(sub_account.to_owned())?;
        if let Some(kind) = kind {
            q.push(" AND kind = ").bind(kind.as_str().to_owned())?;
        }
        q.push(" RETURNING kind");
        Ok(q)
    }

    pub fn insert_business_event<'q, DB>(event: &BusinessEvent) -> StoreResult<Statement<'q, DB>>
    where
        DB: Database,
        for<'a> String: Encode<'a, DB> + Type<DB>,
        for<'a> i64: Encode<'a, DB> + Type<DB>,
    {
        let mut q = Statement::new(
            "INSERT INTO business_events (account_id, waba_id, event_type, details, at) VALUES (",
        );
        q.bind(event.account_id.to_string())?
            .push(", ")
            .bind(event.waba_id.clone())?
            .push(", ")
            .bind(event.event_type.clone())?
            .push(", ")
            .bind(event.details.to_string())?
            .push(", ")
            .bind(millis(event.at))?
            .push(") RETURNING id");
        Ok(q)
    }

    pub fn upsert_endpoint<'q, DB>(health: &EndpointHealth) -> StoreResult<Statement<'q, DB>>
    where
        DB: Database,
        for<'a> String: Encode<'a, DB> + Type<DB>,
        for<'a> Option<String>: Encode<'a, DB> + Type<DB>,
        for<'a> i64: Encode<'a, DB> + Type<DB>,
        for<'a> Option<i64>: Encode<'a, DB> + Type<DB>,
        for<'a> bool: Encode<'a, DB> + Type<DB>,
    {
        let mut q = Statement::new(
            "INSERT INTO webhook_endpoints \
             (account_id, url, failing_since, failing, last_error, updated_at) VALUES (",
        );
        q.bind(health.account_id.to_string())?
            .push(", ")
            .bind(health.url.clone())?
            .push(", ")
            .bind(health.failing_since.map(millis))?
            .push(", ")
            .bind(health.failing)?
            .push(", ")
            .bind(health.last_error.clone())?
            .push(", ")
            .bind(millis(health.updated_at))?
            .push(
                ") ON CONFLICT (account_id, url) DO UPDATE SET \
                 failing_since = excluded.failing_since, failing = excluded.failing, \
                 last_error = excluded.last_error, updated_at = excluded.updated_at",
            );
        Ok(q)
    }

    pub fn release_lanes<'q, DB>(
        account: &AccountId,
        url: &str,
        now: DateTime<Utc>,
    ) -> StoreResult<Statement<'q, DB>>
    where
        DB: Database,
        for<'a> String: Encode<'a, DB> + Type<DB>,
        for<'a> i64: Encode<'a, DB> + Type<DB>,
    {
        let mut q = Statement::new("UPDATE webhook_lanes SET ready_at = ");
        q.bind(millis(now))?
            .push(" WHERE account_id = ")
            .bind(account.to_string())?
            .push(" AND ready_at > ")
            .bind(millis(now))?
            .push(" AND (lease_until IS NULL OR lease_until <= ")
            .bind(millis(now))?
            .push(
                ") AND head_id IN (SELECT e.id FROM webhook_events e \
                 WHERE e.state = 'pending' AND (e.url IS NULL OR e.url = ",
            )
            .bind(url.to_owned())?
            .push(")) RETURNING lane");
        Ok(q)
    }

    pub fn endpoints_of<'q, DB>(account: &AccountId) -> StoreResult<Statement<'q, DB>>
    where
        DB: Database,
        for<'a> String: Encode<'a, DB> + Type<DB>,
    {
        let mut q = Statement::new(
            "SELECT account_id, url, failing_since, failing, last_error, updated_at \
             FROM webhook_endpoints WHERE account_id = ",
        );
        q.bind(account.to_string())?.push(" ORDER BY url");
        Ok(q)
    }

    /// Events by id (the heads a claim leased).
    pub fn events_by_id<'q, DB>(ids: &[i64]) -> StoreResult<Statement<'q, DB>>
    where
        DB: Database,
        for<'a> i64: Encode<'a, DB> + Type<DB>,
    {
        let mut q = Statement::new(format!(
            "SELECT {EVENT_COLUMNS} FROM webhook_events WHERE id IN ("
        ));
        for (i, id) in ids.iter().enumerate() {
            if i > 0 {
                q.push(", ");
            }
            q.bind(*id)?;
        }
        q.push(") ORDER BY id");
        Ok(q)
    }

    pub fn status_source<'q, DB>(id: i64) -> StoreResult<Statement<'q, DB>>
    where
        DB: Database,
        for<'a> i64: Encode<'a, DB> + Type<DB>,
    {
        let mut q = Statement::new(
            "SELECT umid, state, detail, error_code, error_message, provider_error_code, \
             status_at FROM message_statuses WHERE id = ",
        );
        q.bind(id)?;
        Ok(q)
    }

    pub fn message<'q, DB>(umid: &str) -> StoreResult<Statement<'q, DB>>
    where
        DB: Database,
        for<'a> String: Encode<'a, DB> + Type<DB>,
    {
        let mut q = Statement::new(format!(
            "SELECT {MESSAGE_COLUMNS} FROM messages WHERE umid = "
        ));
        q.bind(umid.to_owned())?;
        Ok(q)
    }

    /// The template change `id` (or, `previous`, the change before it).
    pub fn template_source<'q, DB>(id: i64, previous: bool) -> StoreResult<Statement<'q, DB>>
    where
        DB: Database,
        for<'a> i64: Encode<'a, DB> + Type<DB>,
    {
        let columns = format!("template_id, {}", crate::template_rows::HISTORY_COLUMNS);
        let mut q = Statement::new("");
        if previous {
            q.push(&format!(
                "SELECT {columns} FROM template_events WHERE template_id = \
                 (SELECT template_id FROM template_events WHERE id = "
            ))
            .bind(id)?
            .push(") AND id < ")
            .bind(id)?
            .push(" ORDER BY id DESC LIMIT 1");
        } else {
            q.push(&format!(
                "SELECT {columns} FROM template_events WHERE id = "
            ))
            .bind(id)?;
        }
        Ok(q)
    }

    pub fn template<'q, DB>(id: &str) -> StoreResult<Statement<'q, DB>>
    where
        DB: Database,
        for<'a> String: Encode<'a, DB> + Type<DB>,
    {
        let mut q = Statement::new(format!(
            "SELECT {TEMPLATE_COLUMNS} FROM templates WHERE id = "
        ));
        q.bind(id.to_owned())?;
        Ok(q)
    }

    pub fn business_source<'q, DB>(id: i64) -> StoreResult<Statement<'q, DB>>
    where
        DB: Database,
        for<'a> i64: Encode<'a, DB> + Type<DB>,
    {
        let mut q = Statement::new(
            "SELECT account_id, waba_id, event_type, details, at FROM business_events WHERE id = ",
        );
        q.bind(id)?;
        Ok(q)
    }

    pub fn insert_attempt<'q, DB>(event: i64, a: &WebhookAttempt) -> StoreResult<Statement<'q, DB>>
    where
        DB: Database,
        for<'a> String: Encode<'a, DB> + Type<DB>,
        for<'a> Option<String>: Encode<'a, DB> + Type<DB>,
        for<'a> i64: Encode<'a, DB> + Type<DB>,
        for<'a> Option<i64>: Encode<'a, DB> + Type<DB>,
    {
        let mut q = Statement::new(
            "INSERT INTO webhook_attempts (event_id, at, url, status_code, latency_ms, error) \
             VALUES (",
        );
        q.bind(event)?
            .push(", ")
            .bind(millis(a.at))?
            .push(", ")
            .bind(a.url.clone())?
            .push(", ")
            .bind(a.status_code.map(i64::from))?
            .push(", ")
            .bind(i64::try_from(a.latency_ms).unwrap_or(i64::MAX))?
            .push(", ")
            .bind(a.error.clone())?
            .push(")");
        Ok(q)
    }

    /// The event's new state after an attempt (or none) with this outcome.
    pub fn settle_event<'q, DB>(
        id: i64,
        outcome: &WebhookOutcome,
        attempt: Option<&WebhookAttempt>,
        now: DateTime<Utc>,
    ) -> StoreResult<Statement<'q, DB>>
    where
        DB: Database,
        for<'a> String: Encode<'a, DB> + Type<DB>,
        for<'a> Option<String>: Encode<'a, DB> + Type<DB>,
        for<'a> i64: Encode<'a, DB> + Type<DB>,
        for<'a> Option<i64>: Encode<'a, DB> + Type<DB>,
    {
        let state = match outcome {
            WebhookOutcome::Delivered => EventState::Delivered,
            WebhookOutcome::Retry(_) => EventState::Pending,
            WebhookOutcome::Dead => EventState::Dead,
            WebhookOutcome::Dropped => EventState::Dropped,
        };
        let finished = (state != EventState::Pending).then(|| millis(now));
        let mut q = Statement::new("UPDATE webhook_events SET state = ");
        q.bind(state.as_str().to_owned())?
            .push(", finished_at = ")
            .bind(finished)?
            .push(", attempts = attempts + ")
            .bind(i64::from(attempt.is_some()))?;
        if let Some(attempt) = attempt {
            q.push(", url = ")
                .bind(attempt.url.clone())?
                .push(", last_error = ")
                .bind(attempt.error.clone())?;
        }
        q.push(" WHERE id = ").bind(id)?;
        Ok(q)
    }

    /// After the event `id` ended: the lane's next pending event becomes its head, due
    /// now; after a retry: the same head, due then.
    pub fn move_lane<'q, DB>(
        id: i64,
        outcome: &WebhookOutcome,
        now: DateTime<Utc>,
    ) -> StoreResult<Statement<'q, DB>>
    where
        DB: Database,
        for<'a> i64: Encode<'a, DB> + Type<DB>,
    {
        let mut q = Statement::new("UPDATE webhook_lanes SET lease_until = NULL, ");
        match outcome {
            WebhookOutcome::Retry(at) => {
                q.push("ready_at = ").bind(millis(*at))?;
            }
            _ => {
                q.push("head_id = (")
                    .push(NEXT_ID)
                    .push("), ready_at = CASE WHEN (")
                    .push(NEXT_ID)
                    .push(") IS NULL THEN NULL ELSE ");
                q.bind(millis(now))?.push(" END");
            }
        }
        q.push(" WHERE lane = (SELECT lane FROM webhook_events WHERE id = ")
            .bind(id)?
            .push(")");
        Ok(q)
    }

    /// The oldest pending event of the lane being updated.
    const NEXT_ID: &str = "SELECT MIN(e.id) FROM webhook_events e \
        WHERE e.lane = webhook_lanes.lane AND e.state = 'pending'";

    pub fn list_events<'q, DB>(
        account: &AccountId,
        filter: &EventFilter,
        id: Option<i64>,
    ) -> StoreResult<Statement<'q, DB>>
    where
        DB: Database,
        for<'a> String: Encode<'a, DB> + Type<DB>,
        for<'a> i64: Encode<'a, DB> + Type<DB>,
    {
        let mut q = Statement::new(format!(
            "SELECT {EVENT_COLUMNS} FROM webhook_events WHERE account_id = "
        ));
        q.bind(account.to_string())?;
        if let Some(id) = id {
            q.push(" AND id = ").bind(id)?;
        }
        if let Some(state) = filter.state {
            q.push(" AND state = ").bind(state.as_str().to_owned())?;
        }
        if let Some(kind) = filter.kind {
            q.push(" AND kind = ").bind(kind.as_str().to_owned())?;
        }
        if let Some(sub) = &filter.sub_account_id {
            q.push(" AND sub_account_id = ").bind(sub.to_string())?;
        }
        if let Some(from) = filter.from {
            q.push(" AND created_at >= ").bind(millis(from))?;
        }
        if let Some(to) = filter.to {
            q.push(" AND created_at < ").bind(millis(to))?;
        }
        if let Some(before) = filter.before_id {
            q.push(" AND id < ").bind(before)?;
        }
        q.push(" ORDER BY id DESC LIMIT ")
            .bind(i64::from(filter.limit.max(1)))?;
        Ok(q)
    }

    pub fn attempts<'q, DB>(event: i64) -> StoreResult<Statement<'q, DB>>
    where
        DB: Database,
        for<'a> i64: Encode<'a, DB> + Type<DB>,
    {
        let mut q = Statement::new(
            "SELECT at, url, status_code, latency_ms, error FROM webhook_attempts \
             WHERE event_id = ",
        );
        q.bind(event)?.push(" ORDER BY id");
        Ok(q)
    }

    /// Makes the chosen finished events pending again; yields each one's lane.
    pub fn redrive<'q, DB>(account: &AccountId, which: &Redrive) -> StoreResult<Statement<'q, DB>>
    where
        DB: Database,
        for<'a> String: Encode<'a, DB> + Type<DB>,
        for<'a> i64: Encode<'a, DB> + Type<DB>,
    {
        let mut q = Statement::new(
            "UPDATE webhook_events SET state = 'pending', attempts = 0, finished_at = NULL, \
             last_error = NULL WHERE account_id = ",
        );
        q.bind(account.to_string())?;
        match which {
            Redrive::Event(id) => {
                q.push(" AND state <> 'pending' AND id = ").bind(*id)?;
            }
            Redrive::Dead {
                kind,
                sub_account_id,
            } => {
                q.push(" AND state = 'dead'");
                if let Some(kind) = kind {
                    q.push(" AND kind = ").bind(kind.as_str().to_owned())?;
                }
                if let Some(sub) = sub_account_id {
                    q.push(" AND sub_account_id = ").bind(sub.to_string())?;
                }
            }
            Redrive::Range { from, to } => {
                q.push(" AND state = 'dead' AND created_at >= ")
                    .bind(millis(*from))?
                    .push(" AND created_at < ")
                    .bind(millis(*to))?;
            }
        }
        q.push(" RETURNING lane");
        Ok(q)
    }

    /// Lanes that received redriven events and are not leased take their oldest pending
    /// event as head, due now.
    pub fn restart_lane<'q, DB>(lane: &str, now: DateTime<Utc>) -> StoreResult<Statement<'q, DB>>
    where
        DB: Database,
        for<'a> String: Encode<'a, DB> + Type<DB>,
        for<'a> i64: Encode<'a, DB> + Type<DB>,
    {
        let mut q = Statement::new("UPDATE webhook_lanes SET ");
        q.push("head_id = (")
            .push(NEXT_ID)
            .push("), ready_at = ")
            .bind(millis(now))?
            .push(" WHERE lane = ")
            .bind(lane.to_owned())?
            .push(" AND (lease_until IS NULL OR lease_until <= ")
            .bind(millis(now))?
            .push(")");
        Ok(q)
    }
}

/// The operations both backends run inside their own connection or transaction.
pub mod ops {
    use super::statements::*;
    use super::*;
    use crate::EventSubject;
    use crate::rows::MessageRow;
    use crate::template_rows::TemplateRow;
    use sqlx::{Executor, FromRow, IntoArguments, Row};

    /// Runs a statement built in the same expression and counts the rows it returned.
    macro_rules! count {
        ($conn:expr, $statement:expr) => {{
            let (sql, args) = $statement.parts();
            sqlx::query_with(&sql, args)
                .fetch_all(&mut *$conn)
                .await
                .map_err(crate::rows::db_error)?
                .len() as u64
        }};
    }

    pub async fn save<DB>(conn: &mut DB::Connection, webhooks: &[Webhook]) -> StoreResult<()>
    where
        DB: Database,
        for<'c> &'c mut DB::Connection: Executor<'c, Database = DB>,
        for<'q> DB::Arguments<'q>: IntoArguments<'q, DB>,
        for<'a> String: Encode<'a, DB> + Type<DB>,
        for<'a> Option<String>: Encode<'a, DB> + Type<DB>,
        for<'a> i64: Encode<'a, DB> + Type<DB>,
        for<'a> bool: Encode<'a, DB> + Type<DB>,
    {
        for webhook in webhooks {
            execute!(conn, upsert_webhook::<DB>(webhook)?);
        }
        Ok(())
    }

    pub async fn list<DB>(
        conn: &mut DB::Connection,
        account: &AccountId,
    ) -> StoreResult<Vec<Webhook>>
    where
        DB: Database,
        for<'c> &'c mut DB::Connection: Executor<'c, Database = DB>,
        for<'q> DB::Arguments<'q>: IntoArguments<'q, DB>,
        WebhookRow: for<'r> FromRow<'r, DB::Row>,
        for<'a> String: Encode<'a, DB> + Type<DB>,
    {
        Ok(fetch!(WebhookRow, conn, webhooks_of::<DB>(account)?))
    }

    pub async fn delete<DB>(
        conn: &mut DB::Connection,
        account: &AccountId,
        keys: &[(String, Option<WebhookKind>)],
    ) -> StoreResult<u64>
    where
        DB: Database,
        for<'c> &'c mut DB::Connection: Executor<'c, Database = DB>,
        for<'q> DB::Arguments<'q>: IntoArguments<'q, DB>,
        for<'a> String: Encode<'a, DB> + Type<DB>,
    {
        let mut deleted = 0;
        for (sub_account, kind) in keys {
            deleted += count!(conn, delete_webhook::<DB>(account, sub_account, *kind)?);
        }
        Ok(deleted)
    }

    /// See [`crate::WebhookStore::enqueue_webhook_events`]. A message's statuses are
    /// receipts (CADR) when it is outbound, its arrival (MSG) when inbound; a template's
    /// changes after its creation and every business update are CABM. A row is written
    /// only when an enabled webhook of its kind (the subaccount's or `*`; any for CABM),
    /// or the message's own receipt URL, can take it now.
    pub async fn enqueue_from_events<DB>(
        conn: &mut DB::Connection,
        after: i64,
        upto: i64,
    ) -> StoreResult<u64>
    where
        DB: Database,
        for<'c> &'c mut DB::Connection: Executor<'c, Database = DB>,
        for<'q> DB::Arguments<'q>: IntoArguments<'q, DB>,
        for<'a> i64: Encode<'a, DB> + Type<DB>,
        for<'r> (i64,): FromRow<'r, DB::Row>,
    {
        let mut q = Statement::<DB>::new(
            "INSERT INTO webhook_events \
                 (account_id, sub_account_id, kind, source, source_id, lane, created_at, event_seq) \
             SELECT c.account_id, c.sub_account_id, c.hook, c.source, c.source_id, \
                    c.conversation, c.at, c.seq \
             FROM (SELECT e.seq, e.account_id, e.source_id, e.conversation, e.at, \
                          CASE WHEN e.kind LIKE 'message.%' THEN e.sub_account_id END \
                              AS sub_account_id, \
                          CASE WHEN e.kind IN ('template.changed', 'business.updated') THEN 'CABM' \
                               WHEN m.direction = 'outbound' THEN 'CADR' \
                               WHEN e.kind = 'message.received' THEN 'MSG' END AS hook, \
                          CASE e.kind WHEN 'template.changed' THEN 'template' \
                                      WHEN 'business.updated' THEN 'business' \
                                      ELSE 'status' END AS source, \
                          CASE WHEN m.direction = 'outbound' THEN m.dlr_callback_url END \
                              AS own_url \
                   FROM events e \
                   LEFT JOIN messages m ON e.kind IN \
                       ('message.accepted', 'message.received', 'message.status') \
                       AND m.umid = e.subject \
                   WHERE e.seq > ",
        );
        q.bind(after)?.push(" AND e.seq <= ").bind(upto)?.push(
            " AND e.kind IN ('message.accepted', 'message.received', 'message.status', \
                               'template.changed', 'business.updated') \
                     AND (e.kind <> 'template.changed' OR EXISTS ( \
                          SELECT 1 FROM template_events t \
                          JOIN template_events p ON p.template_id = t.template_id AND p.id < t.id \
                          WHERE t.id = e.source_id))) c \
             WHERE c.hook IS NOT NULL \
               AND (c.own_url IS NOT NULL OR EXISTS ( \
                    SELECT 1 FROM webhooks w \
                    WHERE w.account_id = c.account_id AND w.kind = c.hook AND w.enabled \
                      AND (c.hook = 'CABM' OR w.sub_account_id IN (c.sub_account_id, '*')))) \
             ORDER BY c.seq \
             ON CONFLICT (event_seq) DO NOTHING \
             RETURNING id",
        );
        Ok(fetch_as!((i64,), conn, q).len() as u64)
    }

    pub async fn record_business<DB>(
        conn: &mut DB::Connection,
        event: &BusinessEvent,
    ) -> StoreResult<()>
    where
        DB: Database,
        for<'c> &'c mut DB::Connection: Executor<'c, Database = DB>,
        for<'q> DB::Arguments<'q>: IntoArguments<'q, DB>,
        for<'a> String: Encode<'a, DB> + Type<DB>,
        for<'a> i64: Encode<'a, DB> + Type<DB>,
        for<'a> Option<String>: Encode<'a, DB> + Type<DB>,
        for<'a> Option<i64>: Encode<'a, DB> + Type<DB>,
        for<'r> (i64,): FromRow<'r, DB::Row>,
    {
        let (id,) = fetch_as!((i64,), conn, insert_business_event::<DB>(event)?)
            .pop()
            .ok_or_else(|| StoreError::Corrupt("business event insert".into()))?;
        let event = crate::event_rows::NewEvent {
            kind: crate::EventKind::BusinessUpdated,
            account_id: event.account_id.as_str(),
            sub_account_id: None,
            channel_id: None,
            conversation: format!("b:{}", event.waba_id),
            subject: event.waba_id.clone(),
            source_id: Some(id),
            payload: None,
            at: event.at,
        };
        execute!(conn, crate::event_rows::append::<DB>(&event)?);
        Ok(())
    }

    pub async fn save_endpoint<DB>(
        conn: &mut DB::Connection,
        health: &EndpointHealth,
    ) -> StoreResult<()>
    where
        DB: Database,
        for<'c> &'c mut DB::Connection: Executor<'c, Database = DB>,
        for<'q> DB::Arguments<'q>: IntoArguments<'q, DB>,
        for<'a> String: Encode<'a, DB> + Type<DB>,
        for<'a> Option<String>: Encode<'a, DB> + Type<DB>,
        for<'a> i64: Encode<'a, DB> + Type<DB>,
        for<'a> Option<i64>: Encode<'a, DB> + Type<DB>,
        for<'a> bool: Encode<'a, DB> + Type<DB>,
    {
        execute!(conn, upsert_endpoint::<DB>(health)?);
        Ok(())
    }

    pub async fn release<DB>(
        conn: &mut DB::Connection,
        account: &AccountId,
        url: &str,
        now: DateTime<Utc>,
    ) -> StoreResult<u64>
    where
        DB: Database,
        for<'c> &'c mut DB::Connection: Executor<'c, Database = DB>,
        for<'q> DB::Arguments<'q>: IntoArguments<'q, DB>,
        for<'a> String: Encode<'a, DB> + Type<DB>,
        for<'a> i64: Encode<'a, DB> + Type<DB>,
    {
        Ok(count!(conn, release_lanes::<DB>(account, url, now)?))
    }

    pub async fn endpoints<DB>(
        conn: &mut DB::Connection,
        account: &AccountId,
    ) -> StoreResult<Vec<EndpointHealth>>
    where
        DB: Database,
        for<'c> &'c mut DB::Connection: Executor<'c, Database = DB>,
        for<'q> DB::Arguments<'q>: IntoArguments<'q, DB>,
        EndpointRow: for<'r> FromRow<'r, DB::Row>,
        for<'a> String: Encode<'a, DB> + Type<DB>,
    {
        Ok(fetch!(EndpointRow, conn, endpoints_of::<DB>(account)?))
    }

    pub async fn by_id<DB>(conn: &mut DB::Connection, ids: &[i64]) -> StoreResult<Vec<WebhookEvent>>
    where
        DB: Database,
        for<'c> &'c mut DB::Connection: Executor<'c, Database = DB>,
        for<'q> DB::Arguments<'q>: IntoArguments<'q, DB>,
        EventRow: for<'r> FromRow<'r, DB::Row>,
        for<'a> i64: Encode<'a, DB> + Type<DB>,
    {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        Ok(fetch!(EventRow, conn, events_by_id::<DB>(ids)?))
    }

    pub async fn subject<DB>(
        conn: &mut DB::Connection,
        event: &WebhookEvent,
    ) -> StoreResult<Option<EventSubject>>
    where
        DB: Database,
        for<'c> &'c mut DB::Connection: Executor<'c, Database = DB>,
        for<'q> DB::Arguments<'q>: IntoArguments<'q, DB>,
        MessageRow: for<'r> FromRow<'r, DB::Row>,
        TemplateRow: for<'r> FromRow<'r, DB::Row>,
        BusinessRow: for<'r> FromRow<'r, DB::Row>,
        for<'r> StatusSourceRow: FromRow<'r, DB::Row>,
        for<'r> TemplateSourceRow: FromRow<'r, DB::Row>,
        for<'a> String: Encode<'a, DB> + Type<DB>,
        for<'a> i64: Encode<'a, DB> + Type<DB>,
    {
        Ok(match event.source {
            EventSource::Status => {
                let (sql, args) = status_source::<DB>(event.source_id)?.parts();
                let row: Option<StatusSourceRow> = sqlx::query_as_with(&sql, args)
                    .fetch_optional(&mut *conn)
                    .await
                    .map_err(crate::rows::db_error)?;
                let Some(row) = row else { return Ok(None) };
                let message = fetch!(MessageRow, conn, message::<DB>(&row.umid)?).pop();
                message
                    .map(|m| -> StoreResult<_> {
                        Ok(EventSubject::Status {
                            message: Box::new(m),
                            status: row.status.into_model()?,
                        })
                    })
                    .transpose()?
            }
            EventSource::Template => {
                let entry = |previous| template_source::<DB>(event.source_id, previous);
                let (sql, args) = entry(false)?.parts();
                let change: Option<TemplateSourceRow> = sqlx::query_as_with(&sql, args)
                    .fetch_optional(&mut *conn)
                    .await
                    .map_err(crate::rows::db_error)?;
                let Some(change) = change else {
                    return Ok(None);
                };
                let (sql, args) = entry(true)?.parts();
                let previous: Option<TemplateSourceRow> = sqlx::query_as_with(&sql, args)
                    .fetch_optional(&mut *conn)
                    .await
                    .map_err(crate::rows::db_error)?;
                let template =
                    fetch!(TemplateRow, conn, template::<DB>(&change.template_id)?).pop();
                match template {
                    None => None,
                    Some(template) => Some(EventSubject::Template {
                        template: Box::new(template),
                        change: Box::new(change.entry.into_model()?),
                        previous: previous
                            .map(|p| p.entry.into_model().map(Box::new))
                            .transpose()?,
                    }),
                }
            }
            EventSource::Business => {
                fetch!(BusinessRow, conn, business_source::<DB>(event.source_id)?)
                    .pop()
                    .map(EventSubject::Business)
            }
        })
    }

    /// Records each event's attempt and outcome and moves its lane on.
    pub async fn finish<DB>(
        conn: &mut DB::Connection,
        finished: &[crate::FinishedEvent],
        now: DateTime<Utc>,
    ) -> StoreResult<()>
    where
        DB: Database,
        for<'c> &'c mut DB::Connection: Executor<'c, Database = DB>,
        for<'q> DB::Arguments<'q>: IntoArguments<'q, DB>,
        for<'a> String: Encode<'a, DB> + Type<DB>,
        for<'a> Option<String>: Encode<'a, DB> + Type<DB>,
        for<'a> i64: Encode<'a, DB> + Type<DB>,
        for<'a> Option<i64>: Encode<'a, DB> + Type<DB>,
    {
        for event in finished {
            let (id, outcome, attempt) = (event.id, &event.outcome, event.attempt.as_ref());
            if let Some(attempt) = attempt {
                execute!(conn, insert_attempt::<DB>(id, attempt)?);
            }
            execute!(conn, settle_event::<DB>(id, outcome, attempt, now)?);
            execute!(conn, move_lane::<DB>(id, outcome, now)?);
        }
        Ok(())
    }

    pub async fn events<DB>(
        conn: &mut DB::Connection,
        account: &AccountId,
        filter: &EventFilter,
        id: Option<i64>,
    ) -> StoreResult<Vec<WebhookEvent>>
    where
        DB: Database,
        for<'c> &'c mut DB::Connection: Executor<'c, Database = DB>,
        for<'q> DB::Arguments<'q>: IntoArguments<'q, DB>,
        EventRow: for<'r> FromRow<'r, DB::Row>,
        for<'a> String: Encode<'a, DB> + Type<DB>,
        for<'a> i64: Encode<'a, DB> + Type<DB>,
    {
        Ok(fetch!(
            EventRow,
            conn,
            list_events::<DB>(account, filter, id)?
        ))
    }

    pub async fn attempts_of<DB>(
        conn: &mut DB::Connection,
        event: i64,
    ) -> StoreResult<Vec<WebhookAttempt>>
    where
        DB: Database,
        for<'c> &'c mut DB::Connection: Executor<'c, Database = DB>,
        for<'q> DB::Arguments<'q>: IntoArguments<'q, DB>,
        AttemptRow: for<'r> FromRow<'r, DB::Row>,
        for<'a> i64: Encode<'a, DB> + Type<DB>,
    {
        Ok(fetch!(AttemptRow, conn, attempts::<DB>(event)?))
    }

    pub async fn redrive_events<DB>(
        conn: &mut DB::Connection,
        account: &AccountId,
        which: &Redrive,
        now: DateTime<Utc>,
    ) -> StoreResult<u64>
    where
        DB: Database,
        for<'c> &'c mut DB::Connection: Executor<'c, Database = DB>,
        for<'q> DB::Arguments<'q>: IntoArguments<'q, DB>,
        for<'a> String: Encode<'a, DB> + Type<DB>,
        for<'a> i64: Encode<'a, DB> + Type<DB>,
        for<'r> String: sqlx::Decode<'r, DB>,
        usize: sqlx::ColumnIndex<DB::Row>,
    {
        let (sql, args) = redrive::<DB>(account, which)?.parts();
        let rows = sqlx::query_with(&sql, args)
            .fetch_all(&mut *conn)
            .await
            .map_err(crate::rows::db_error)?;
        let mut lanes: Vec<String> = rows
            .iter()
            .map(|r| r.try_get::<String, _>(0usize))
            .collect::<Result<_, _>>()
            .map_err(crate::rows::db_error)?;
        let redriven = lanes.len() as u64;
        lanes.sort();
        lanes.dedup();
        for lane in &lanes {
            execute!(conn, restart_lane::<DB>(lane, now)?);
        }
        Ok(redriven)
    }
}
