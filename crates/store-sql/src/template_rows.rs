//! Templates as both SQL backends store them: the row, the statements (placeholders in
//! each backend's dialect through [`Statement`]) and the creation rules, so SQLite and
//! PostgreSQL cannot drift apart. Each backend only runs them inside its transaction.

use chrono::{DateTime, Utc};
use sqlx::{Database, Encode, Type};

use crate::EventKind;
use crate::accept_group::Statement;
use crate::event_rows::NewEvent;
use crate::rows::{from_millis, millis};
use crate::{
    CreateTemplateOutcome, StoreError, StoreResult, Template, TemplateHistoryEntry, TemplateLimits,
    TemplateUpdate,
};
use parley_types::{AccountId, ChannelId, OtherInfo, StatusNote};

pub const TEMPLATE_COLUMNS: &str = "id, account_id, channel_id, waba_id, name, language, \
    category, spec, status, reason, quality, provider_template_id, created_at, updated_at, \
    deleted_at";

/// A history entry's columns, as [`HistoryRow`] reads them.
pub const HISTORY_COLUMNS: &str =
    "at, status, reason, other_title, other_description, disable_date, quality, category";

#[derive(Debug, sqlx::FromRow)]
pub struct TemplateRow {
    pub id: String,
    pub account_id: String,
    pub channel_id: String,
    pub waba_id: String,
    pub name: String,
    pub language: String,
    pub category: String,
    pub spec: String,
    pub status: String,
    pub reason: Option<String>,
    pub quality: String,
    pub provider_template_id: Option<String>,
    pub created_at: i64,
    pub updated_at: i64,
    pub deleted_at: Option<i64>,
}

fn corrupt(what: &str, e: impl std::fmt::Display) -> StoreError {
    StoreError::Corrupt(format!("template {what}: {e}"))
}

impl TemplateRow {
    pub fn into_model(self) -> StoreResult<Template> {
        Ok(Template {
            id: self.id.parse().map_err(|e| corrupt("id", e))?,
            account_id: AccountId::parse(&self.account_id).map_err(|e| corrupt("account", e))?,
            channel_id: self
                .channel_id
                .parse::<ChannelId>()
                .map_err(|e| corrupt("channel", e))?,
            waba_id: self.waba_id,
            name: self.name,
            language: self.language,
            category: self.category,
            spec: serde_json::from_str(&self.spec).map_err(|e| corrupt("spec", e))?,
            status: self.status,
            reason: self.reason,
            quality: self.quality,
            provider_template_id: self.provider_template_id,
            created_at: from_millis(self.created_at)?,
            updated_at: from_millis(self.updated_at)?,
            deleted_at: self.deleted_at.map(from_millis).transpose()?,
        })
    }
}

#[derive(Debug, sqlx::FromRow)]
pub struct HistoryRow {
    pub at: i64,
    pub status: String,
    pub reason: Option<String>,
    pub other_title: Option<String>,
    pub other_description: Option<String>,
    pub disable_date: Option<i64>,
    pub quality: String,
    pub category: String,
}

impl HistoryRow {
    pub fn into_model(self) -> StoreResult<TemplateHistoryEntry> {
        Ok(TemplateHistoryEntry {
            at: from_millis(self.at)?,
            status: self.status,
            note: StatusNote {
                reason: self.reason,
                other_info: self.other_title.map(|title| OtherInfo {
                    title,
                    description: self.other_description,
                }),
                disable_date: self.disable_date.map(from_millis).transpose()?,
            },
            quality: self.quality,
            category: self.category,
        })
    }
}

/// What the creation rules look at, read in the creating transaction.
#[derive(Debug, sqlx::FromRow)]
pub struct CreationFacts {
    /// When this name was last deleted on the business account.
    pub last_deleted_at: Option<i64>,
    /// A live template with this name and language.
    pub existing_id: Option<String>,
    pub live: i64,
    /// Creations within the last hour, and the oldest of them.
    pub recent: i64,
    pub oldest_recent: Option<i64>,
}

/// Which rule, if any, stops the creation. `existing` is the live template of the same
/// name and language when [`CreationFacts::existing_id`] named one.
pub fn refusal(
    facts: &CreationFacts,
    existing: Option<Template>,
    limits: &TemplateLimits,
    now: DateTime<Utc>,
) -> StoreResult<Option<CreateTemplateOutcome>> {
    if let Some(deleted) = facts.last_deleted_at {
        let until = from_millis(deleted)? + limits.name_blocked_for;
        if until > now {
            return Ok(Some(CreateTemplateOutcome::NameBlocked { until }));
        }
    }
    if let Some(existing) = existing {
        return Ok(Some(CreateTemplateOutcome::Exists(existing)));
    }
    if facts.live >= i64::from(limits.max_templates) {
        return Ok(Some(CreateTemplateOutcome::TooManyTemplates {
            limit: limits.max_templates,
        }));
    }
    if facts.recent >= i64::from(limits.max_created_per_hour) {
        let oldest = facts
            .oldest_recent
            .map(from_millis)
            .transpose()?
            .unwrap_or(now);
        return Ok(Some(CreateTemplateOutcome::RateLimited {
            retry_at: oldest + chrono::Duration::hours(1),
        }));
    }
    Ok(None)
}

pub fn creation_facts<'q, DB>(
    template: &Template,
    now: DateTime<Utc>,
) -> StoreResult<Statement<'q, DB>>
where
    DB: Database,
    for<'a> String: Encode<'a, DB> + Type<DB>,
    for<'a> i64: Encode<'a, DB> + Type<DB>,
{
    let mut q = Statement::new("SELECT (SELECT MAX(deleted_at) FROM templates WHERE waba_id = ");
    q.bind(template.waba_id.clone())?
        .push(" AND name = ")
        .bind(template.name.clone())?
        .push(") AS last_deleted_at, (SELECT id FROM templates WHERE deleted_at IS NULL AND waba_id = ")
        .bind(template.waba_id.clone())?
        .push(" AND name = ")
        .bind(template.name.clone())?
        .push(" AND language = ")
        .bind(template.language.clone())?
        .push(") AS existing_id, (SELECT COUNT(*) FROM templates WHERE deleted_at IS NULL AND waba_id = ")
        .bind(template.waba_id.clone())?
        .push(") AS live, (SELECT COUNT(*) FROM templates WHERE waba_id = ")
        .bind(template.waba_id.clone())?
        .push(" AND created_at > ")
        .bind(millis(now - chrono::Duration::hours(1)))?
        .push(") AS recent, (SELECT MIN(created_at) FROM templates WHERE waba_id = ")
        .bind(template.waba_id.clone())?
        .push(" AND created_at > ")
        .bind(millis(now - chrono::Duration::hours(1)))?
        .push(") AS oldest_recent");
    Ok(q)
}

pub fn insert_template<'q, DB>(template: &Template) -> StoreResult<Statement<'q, DB>>
where
    DB: Database,
    for<'a> String: Encode<'a, DB> + Type<DB>,
    for<'a> Option<String>: Encode<'a, DB> + Type<DB>,
    for<'a> i64: Encode<'a, DB> + Type<DB>,
    for<'a> Option<i64>: Encode<'a, DB> + Type<DB>,
{
    let t = template;
    let mut q = Statement::new(format!(
        "INSERT INTO templates ({TEMPLATE_COLUMNS}) VALUES ("
    ));
    q.bind(t.id.to_string())?
        .push(", ")
        .bind(t.account_id.to_string())?
        .push(", ")
        .bind(t.channel_id.to_string())?
        .push(", ")
        .bind(t.waba_id.clone())?
        .push(", ")
        .bind(t.name.clone())?
        .push(", ")
        .bind(t.language.clone())?
        .push(", ")
        .bind(t.category.clone())?
        .push(", ")
        .bind(t.spec.to_string())?
        .push(", ")
        .bind(t.status.clone())?
        .push(", ")
        .bind(t.reason.clone())?
        .push(", ")
        .bind(t.quality.clone())?
        .push(", ")
        .bind(t.provider_template_id.clone())?
        .push(", ")
        .bind(millis(t.created_at))?
        .push(", ")
        .bind(millis(t.updated_at))?
        .push(", ")
        .bind(t.deleted_at.map(millis))?
        .push(")");
    Ok(q)
}

/// Appends the template's current state to its history, with what the provider said
/// about the change (`note`).
pub fn insert_history<'q, DB>(
    template: &Template,
    note: &StatusNote,
    at: DateTime<Utc>,
) -> StoreResult<Statement<'q, DB>>
where
    DB: Database,
    for<'a> String: Encode<'a, DB> + Type<DB>,
    for<'a> Option<String>: Encode<'a, DB> + Type<DB>,
    for<'a> i64: Encode<'a, DB> + Type<DB>,
    for<'a> Option<i64>: Encode<'a, DB> + Type<DB>,
{
    let mut q = Statement::new(format!(
        "INSERT INTO template_events (template_id, {HISTORY_COLUMNS}) VALUES ("
    ));
    let other = note.other_info.as_ref();
    q.bind(template.id.to_string())?
        .push(", ")
        .bind(millis(at))?
        .push(", ")
        .bind(template.status.clone())?
        .push(", ")
        .bind(note.reason.clone())?
        .push(", ")
        .bind(other.map(|info| info.title.clone()))?
        .push(", ")
        .bind(other.and_then(|info| info.description.clone()))?
        .push(", ")
        .bind(note.disable_date.map(millis))?
        .push(", ")
        .bind(template.quality.clone())?
        .push(", ")
        .bind(template.category.clone())?
        .push(") RETURNING id");
    Ok(q)
}

/// Writes back every column a provider's change can touch.
pub fn save_state<'q, DB>(template: &Template) -> StoreResult<Statement<'q, DB>>
where
    DB: Database,
    for<'a> String: Encode<'a, DB> + Type<DB>,
    for<'a> Option<String>: Encode<'a, DB> + Type<DB>,
    for<'a> i64: Encode<'a, DB> + Type<DB>,
    for<'a> Option<i64>: Encode<'a, DB> + Type<DB>,
{
    let t = template;
    let mut q = Statement::new("UPDATE templates SET status = ");
    q.bind(t.status.clone())?
        .push(", reason = ")
        .bind(t.reason.clone())?
        .push(", quality = ")
        .bind(t.quality.clone())?
        .push(", category = ")
        .bind(t.category.clone())?
        .push(", provider_template_id = ")
        .bind(t.provider_template_id.clone())?
        .push(", updated_at = ")
        .bind(millis(t.updated_at))?
        .push(", deleted_at = ")
        .bind(t.deleted_at.map(millis))?
        .push(" WHERE id = ")
        .bind(t.id.to_string())?;
    Ok(q)
}

/// `SELECT … FROM templates WHERE <column> = <value> [AND …]`, by equality on each pair.
pub fn select_where<'q, DB>(
    conditions: &[(&str, String)],
    extra: &str,
) -> StoreResult<Statement<'q, DB>>
where
    DB: Database,
    for<'a> String: Encode<'a, DB> + Type<DB>,
{
    let mut q = Statement::new(format!("SELECT {TEMPLATE_COLUMNS} FROM templates WHERE "));
    for (i, (column, value)) in conditions.iter().enumerate() {
        if i > 0 {
            q.push(" AND ");
        }
        q.push(column).push(" = ").bind(value.clone())?;
    }
    q.push(" ").push(extra);
    Ok(q)
}

/// A provider's change applied to the template in memory; `false` if it changes nothing
/// (a repeated webhook), which then leaves no history entry.
pub fn apply(template: &mut Template, update: &TemplateUpdate, at: DateTime<Utc>) -> bool {
    let before = template.clone();
    match update {
        TemplateUpdate::Status { status, note } => {
            template.status = status.clone();
            template.reason = note.headline().map(str::to_owned);
        }
        TemplateUpdate::Quality { score } => template.quality = score.clone(),
        TemplateUpdate::Category { category } => template.category = category.clone(),
    }
    if *template == before {
        return false;
    }
    template.updated_at = at;
    true
}

/// The template marked deleted at `at`.
pub fn deleted(mut template: Template, at: DateTime<Utc>) -> Template {
    template.status = "PENDING_DELETION".into();
    template.reason = None;
    template.deleted_at = Some(at);
    template.updated_at = at;
    template
}

/// Statements that read templates: a channel's, one live one, the last deleted one.
pub fn by_channel<'q, DB>(channel: ChannelId) -> StoreResult<Statement<'q, DB>>
where
    DB: Database,
    for<'a> String: Encode<'a, DB> + Type<DB>,
{
    select_where(
        &[("channel_id", channel.to_string())],
        "ORDER BY name, language, created_at",
    )
}

pub fn live<'q, DB>(
    channel: ChannelId,
    name: &str,
    language: &str,
) -> StoreResult<Statement<'q, DB>>
where
    DB: Database,
    for<'a> String: Encode<'a, DB> + Type<DB>,
{
    select_where(
        &[
            ("channel_id", channel.to_string()),
            ("name", name.to_owned()),
            ("language", language.to_owned()),
        ],
        "AND deleted_at IS NULL",
    )
}

pub fn last_deleted<'q, DB>(channel: ChannelId, name: &str) -> StoreResult<Statement<'q, DB>>
where
    DB: Database,
    for<'a> String: Encode<'a, DB> + Type<DB>,
{
    select_where(
        &[
            ("channel_id", channel.to_string()),
            ("name", name.to_owned()),
        ],
        "AND deleted_at IS NOT NULL ORDER BY deleted_at DESC LIMIT 1",
    )
}

pub fn history<'q, DB>(id: uuid::Uuid) -> StoreResult<Statement<'q, DB>>
where
    DB: Database,
    for<'a> String: Encode<'a, DB> + Type<DB>,
{
    let mut q = Statement::new(format!(
        "SELECT {HISTORY_COLUMNS} FROM template_events WHERE template_id = "
    ));
    q.bind(id.to_string())?.push(" ORDER BY id");
    Ok(q)
}

/// The operations, generic over the backend: each runs on one connection, inside the
/// caller's transaction where it writes.
pub mod ops {
    use super::*;
    use sqlx::{Executor, FromRow, IntoArguments};

    /// The channel's templates, live and deleted.
    pub async fn of_channel<DB>(
        conn: &mut DB::Connection,
        channel: ChannelId,
    ) -> StoreResult<Vec<Template>>
    where
        DB: Database,
        for<'c> &'c mut DB::Connection: Executor<'c, Database = DB>,
        for<'a> DB::Arguments<'a>: IntoArguments<'a, DB>,
        TemplateRow: for<'r> FromRow<'r, DB::Row>,
        for<'a> String: Encode<'a, DB> + Type<DB>,
    {
        Ok(fetch!(TemplateRow, conn, by_channel::<DB>(channel)?))
    }

    /// The live template of that name and language, or else (`deleted`) the most
    /// recently deleted one of that name.
    pub async fn find<DB>(
        conn: &mut DB::Connection,
        channel: ChannelId,
        name: &str,
        language: Option<&str>,
    ) -> StoreResult<Option<Template>>
    where
        DB: Database,
        for<'c> &'c mut DB::Connection: Executor<'c, Database = DB>,
        for<'a> DB::Arguments<'a>: IntoArguments<'a, DB>,
        TemplateRow: for<'r> FromRow<'r, DB::Row>,
        for<'a> String: Encode<'a, DB> + Type<DB>,
    {
        let mut found = match language {
            Some(language) => fetch!(TemplateRow, conn, live::<DB>(channel, name, language)?),
            None => fetch!(TemplateRow, conn, last_deleted::<DB>(channel, name)?),
        };
        Ok(found.pop())
    }

    pub async fn fetch_history<DB>(
        conn: &mut DB::Connection,
        id: uuid::Uuid,
    ) -> StoreResult<Vec<TemplateHistoryEntry>>
    where
        DB: Database,
        for<'c> &'c mut DB::Connection: Executor<'c, Database = DB>,
        for<'q> DB::Arguments<'q>: IntoArguments<'q, DB>,
        HistoryRow: for<'r> FromRow<'r, DB::Row>,
        for<'a> String: Encode<'a, DB> + Type<DB>,
    {
        Ok(fetch!(HistoryRow, conn, history::<DB>(id)?))
    }

    /// Checks the limits and inserts; the caller commits only on `Created`.
    pub async fn create<DB>(
        conn: &mut DB::Connection,
        template: &Template,
        limits: &TemplateLimits,
        now: DateTime<Utc>,
    ) -> StoreResult<CreateTemplateOutcome>
    where
        DB: Database,
        for<'c> &'c mut DB::Connection: Executor<'c, Database = DB>,
        for<'q> DB::Arguments<'q>: IntoArguments<'q, DB>,
        TemplateRow: for<'r> FromRow<'r, DB::Row>,
        CreationFacts: for<'r> FromRow<'r, DB::Row>,
        for<'a> String: Encode<'a, DB> + Type<DB>,
        for<'a> Option<String>: Encode<'a, DB> + Type<DB>,
        for<'a> i64: Encode<'a, DB> + Type<DB>,
        for<'a> Option<i64>: Encode<'a, DB> + Type<DB>,
        for<'r> (i64,): FromRow<'r, DB::Row>,
    {
        let (sql, args) = creation_facts::<DB>(template, now)?.parts();
        let facts: CreationFacts = sqlx::query_as_with(&sql, args)
            .fetch_one(&mut *conn)
            .await
            .map_err(crate::rows::db_error)?;
        let existing = match &facts.existing_id {
            Some(id) => {
                let mut found = fetch!(
                    TemplateRow,
                    conn,
                    select_where::<DB>(&[("id", id.clone())], "")?
                );
                found.pop()
            }
            None => None,
        };
        if let Some(refusal) = refusal(&facts, existing, limits, now)? {
            return Ok(refusal);
        }
        execute!(conn, insert_template::<DB>(template)?);
        record_history::<DB>(conn, template, &StatusNote::default(), now).await?;
        Ok(CreateTemplateOutcome::Created(template.clone()))
    }

    /// Appends the template's state to its history and reports the change as a
    /// `template.changed` event.
    async fn record_history<DB>(
        conn: &mut DB::Connection,
        template: &Template,
        note: &StatusNote,
        at: DateTime<Utc>,
    ) -> StoreResult<()>
    where
        DB: Database,
        for<'c> &'c mut DB::Connection: Executor<'c, Database = DB>,
        for<'q> DB::Arguments<'q>: IntoArguments<'q, DB>,
        for<'a> String: Encode<'a, DB> + Type<DB>,
        for<'a> Option<String>: Encode<'a, DB> + Type<DB>,
        for<'a> i64: Encode<'a, DB> + Type<DB>,
        for<'a> Option<i64>: Encode<'a, DB> + Type<DB>,
        for<'r> (i64,): FromRow<'r, DB::Row>,
    {
        let (id,) = fetch_as!((i64,), conn, insert_history::<DB>(template, note, at)?)
            .pop()
            .ok_or_else(|| StoreError::Corrupt("template history insert".into()))?;
        let event = NewEvent {
            kind: EventKind::TemplateChanged,
            account_id: template.account_id.as_str(),
            sub_account_id: None,
            channel_id: Some(template.channel_id.to_string()),
            conversation: format!("t:{}", template.id),
            subject: template.id.to_string(),
            source_id: Some(id),
            payload: None,
            at,
        };
        execute!(conn, crate::event_rows::append::<DB>(&event)?);
        Ok(())
    }

    pub async fn discard<DB>(conn: &mut DB::Connection, id: uuid::Uuid) -> StoreResult<()>
    where
        DB: Database,
        for<'c> &'c mut DB::Connection: Executor<'c, Database = DB>,
        for<'q> DB::Arguments<'q>: IntoArguments<'q, DB>,
        for<'a> String: Encode<'a, DB> + Type<DB>,
    {
        for (table, column) in [("template_events", "template_id"), ("templates", "id")] {
            let mut q = Statement::<DB>::new(format!("DELETE FROM {table} WHERE {column} = "));
            q.bind(id.to_string())?;
            execute!(conn, q);
        }
        Ok(())
    }

    pub async fn delete<DB>(
        conn: &mut DB::Connection,
        channel: ChannelId,
        name: &str,
        at: DateTime<Utc>,
    ) -> StoreResult<Vec<Template>>
    where
        DB: Database,
        for<'c> &'c mut DB::Connection: Executor<'c, Database = DB>,
        for<'q> DB::Arguments<'q>: IntoArguments<'q, DB>,
        TemplateRow: for<'r> FromRow<'r, DB::Row>,
        for<'a> String: Encode<'a, DB> + Type<DB>,
        for<'a> Option<String>: Encode<'a, DB> + Type<DB>,
        for<'a> i64: Encode<'a, DB> + Type<DB>,
        for<'a> Option<i64>: Encode<'a, DB> + Type<DB>,
        for<'r> (i64,): FromRow<'r, DB::Row>,
    {
        let live = fetch!(
            TemplateRow,
            conn,
            select_where::<DB>(
                &[
                    ("channel_id", channel.to_string()),
                    ("name", name.to_owned())
                ],
                "AND deleted_at IS NULL",
            )?
        );
        let mut gone = Vec::with_capacity(live.len());
        for template in live {
            let template = deleted(template, at);
            execute!(conn, save_state::<DB>(&template)?);
            record_history::<DB>(conn, &template, &StatusNote::default(), at).await?;
            gone.push(template);
        }
        Ok(gone)
    }

    /// Applies the change; the returned flag says whether anything was written.
    pub async fn update<DB>(
        conn: &mut DB::Connection,
        key: (&str, &str, &str),
        update: &TemplateUpdate,
        at: DateTime<Utc>,
    ) -> StoreResult<Option<(Template, bool)>>
    where
        DB: Database,
        for<'c> &'c mut DB::Connection: Executor<'c, Database = DB>,
        for<'q> DB::Arguments<'q>: IntoArguments<'q, DB>,
        TemplateRow: for<'r> FromRow<'r, DB::Row>,
        for<'a> String: Encode<'a, DB> + Type<DB>,
        for<'a> Option<String>: Encode<'a, DB> + Type<DB>,
        for<'a> i64: Encode<'a, DB> + Type<DB>,
        for<'a> Option<i64>: Encode<'a, DB> + Type<DB>,
        for<'r> (i64,): FromRow<'r, DB::Row>,
    {
        let (waba_id, name, language) = key;
        let found = fetch!(
            TemplateRow,
            conn,
            select_where::<DB>(
                &[
                    ("waba_id", waba_id.to_owned()),
                    ("name", name.to_owned()),
                    ("language", language.to_owned()),
                ],
                "AND deleted_at IS NULL",
            )?
        )
        .pop();
        let Some(mut template) = found else {
            return Ok(None);
        };
        let changed = apply(&mut template, update, at);
        if changed {
            execute!(conn, save_state::<DB>(&template)?);
            let note = match update {
                TemplateUpdate::Status { note, .. } => note.clone(),
                _ => StatusNote::default(),
            };
            record_history::<DB>(conn, &template, &note, at).await?;
        }
        Ok(Some((template, changed)))
    }

    pub async fn set_provider_id<DB>(
        conn: &mut DB::Connection,
        id: uuid::Uuid,
        provider_id: &str,
    ) -> StoreResult<()>
    where
        DB: Database,
        for<'c> &'c mut DB::Connection: Executor<'c, Database = DB>,
        for<'q> DB::Arguments<'q>: IntoArguments<'q, DB>,
        for<'a> String: Encode<'a, DB> + Type<DB>,
    {
        let mut q = Statement::<DB>::new("UPDATE templates SET provider_template_id = ");
        q.bind(provider_id.to_owned())?
            .push(" WHERE id = ")
            .bind(id.to_string())?;
        execute!(conn, q);
        Ok(())
    }
}
