//! Templates on PostgreSQL: the shared operations of `parley_store_sql::template_rows`. A
//! creation first takes a transaction-scoped advisory lock on its business account, so
//! concurrent creations on several nodes take turns and the limits hold.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use parley_store::{
    CreateTemplateOutcome, StoreResult, Template, TemplateHistoryEntry, TemplateLimits,
    TemplateStore, TemplateUpdate,
};
use parley_store_sql::template_rows::ops;
use parley_types::ChannelId;
use sqlx::{PgConnection, Postgres};

use crate::{PostgresStore, db};

async fn lock_business_account(conn: &mut PgConnection, waba_id: &str) -> StoreResult<()> {
    sqlx::query("SELECT pg_advisory_xact_lock(hashtext('templates:' || $1))")
        .bind(waba_id)
        .execute(conn)
        .await
        .map_err(db)?;
    Ok(())
}

#[async_trait]
impl TemplateStore for PostgresStore {
    async fn create_template(
        &self,
        template: &Template,
        limits: &TemplateLimits,
        now: DateTime<Utc>,
    ) -> StoreResult<CreateTemplateOutcome> {
        let mut tx = self.pool.begin().await.map_err(db)?;
        lock_business_account(&mut tx, &template.waba_id).await?;
        let outcome = ops::create::<Postgres>(&mut tx, template, limits, now).await?;
        if matches!(outcome, CreateTemplateOutcome::Created(_)) {
            tx.commit().await.map_err(db)?;
        }
        Ok(outcome)
    }

    async fn discard_template(&self, id: uuid::Uuid) -> StoreResult<()> {
        let mut tx = self.pool.begin().await.map_err(db)?;
        ops::discard::<Postgres>(&mut tx, id).await?;
        tx.commit().await.map_err(db)
    }

    async fn templates(&self, channel: ChannelId) -> StoreResult<Vec<Template>> {
        let mut conn = self.pool.acquire().await.map_err(db)?;
        ops::of_channel::<Postgres>(&mut conn, channel).await
    }

    async fn template(
        &self,
        channel: ChannelId,
        name: &str,
        language: &str,
    ) -> StoreResult<Option<Template>> {
        let mut conn = self.pool.acquire().await.map_err(db)?;
        ops::find::<Postgres>(&mut conn, channel, name, Some(language)).await
    }

    async fn deleted_template(
        &self,
        channel: ChannelId,
        name: &str,
    ) -> StoreResult<Option<Template>> {
        let mut conn = self.pool.acquire().await.map_err(db)?;
        ops::find::<Postgres>(&mut conn, channel, name, None).await
    }

    async fn delete_templates(
        &self,
        channel: ChannelId,
        name: &str,
        at: DateTime<Utc>,
    ) -> StoreResult<Vec<Template>> {
        let mut tx = self.pool.begin().await.map_err(db)?;
        let deleted = ops::delete::<Postgres>(&mut tx, channel, name, at).await?;
        tx.commit().await.map_err(db)?;
        Ok(deleted)
    }

    async fn update_template(
        &self,
        waba_id: &str,
        name: &str,
        language: &str,
        update: &TemplateUpdate,
        at: DateTime<Utc>,
    ) -> StoreResult<Option<Template>> {
        let mut tx = self.pool.begin().await.map_err(db)?;
        let updated =
            ops::update::<Postgres>(&mut tx, (waba_id, name, language), update, at).await?;
        tx.commit().await.map_err(db)?;
        Ok(updated.map(|(template, _)| template))
    }

    async fn set_provider_template_id(&self, id: uuid::Uuid, provider_id: &str) -> StoreResult<()> {
        let mut conn = self.pool.acquire().await.map_err(db)?;
        ops::set_provider_id::<Postgres>(&mut conn, id, provider_id).await
    }

    async fn template_history(&self, id: uuid::Uuid) -> StoreResult<Vec<TemplateHistoryEntry>> {
        let mut conn = self.pool.acquire().await.map_err(db)?;
        ops::fetch_history::<Postgres>(&mut conn, id).await
    }
}
