//! Templates on SQLite: the shared operations of `parley_store_sql::template_rows`, writes on
//! the single writer connection (which also serialises creations, so limits hold).

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use parley_store::{
    CreateTemplateOutcome, StoreResult, Template, TemplateHistoryEntry, TemplateLimits,
    TemplateStore, TemplateUpdate,
};
use parley_store_sql::template_rows::ops;
use parley_types::ChannelId;
use sqlx::Sqlite;

use crate::{SqliteStore, db};

#[async_trait]
impl TemplateStore for SqliteStore {
    async fn create_template(
        &self,
        template: &Template,
        limits: &TemplateLimits,
        now: DateTime<Utc>,
    ) -> StoreResult<CreateTemplateOutcome> {
        let mut tx = self.writer.begin().await.map_err(db)?;
        let outcome = ops::create::<Sqlite>(&mut tx, template, limits, now).await?;
        if matches!(outcome, CreateTemplateOutcome::Created(_)) {
            tx.commit().await.map_err(db)?;
        }
        Ok(outcome)
    }

    async fn discard_template(&self, id: uuid::Uuid) -> StoreResult<()> {
        let mut tx = self.writer.begin().await.map_err(db)?;
        ops::discard::<Sqlite>(&mut tx, id).await?;
        tx.commit().await.map_err(db)
    }

    async fn templates(&self, channel: ChannelId) -> StoreResult<Vec<Template>> {
        let mut conn = self.reader.acquire().await.map_err(db)?;
        ops::of_channel::<Sqlite>(&mut conn, channel).await
    }

    async fn template(
        &self,
        channel: ChannelId,
        name: &str,
        language: &str,
    ) -> StoreResult<Option<Template>> {
        let mut conn = self.reader.acquire().await.map_err(db)?;
        ops::find::<Sqlite>(&mut conn, channel, name, Some(language)).await
    }

    async fn deleted_template(
        &self,
        channel: ChannelId,
        name: &str,
    ) -> StoreResult<Option<Template>> {
        let mut conn = self.reader.acquire().await.map_err(db)?;
        ops::find::<Sqlite>(&mut conn, channel, name, None).await
    }

    async fn delete_templates(
        &self,
        channel: ChannelId,
        name: &str,
        at: DateTime<Utc>,
    ) -> StoreResult<Vec<Template>> {
        let mut tx = self.writer.begin().await.map_err(db)?;
        let deleted = ops::delete::<Sqlite>(&mut tx, channel, name, at).await?;
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
        let mut tx = self.writer.begin().await.map_err(db)?;
        let updated = ops::update::<Sqlite>(&mut tx, (waba_id, name, language), update, at).await?;
        tx.commit().await.map_err(db)?;
        Ok(updated.map(|(template, _)| template))
    }

    async fn set_provider_template_id(&self, id: uuid::Uuid, provider_id: &str) -> StoreResult<()> {
        let mut conn = self.writer.acquire().await.map_err(db)?;
        ops::set_provider_id::<Sqlite>(&mut conn, id, provider_id).await
    }

    async fn template_history(&self, id: uuid::Uuid) -> StoreResult<Vec<TemplateHistoryEntry>> {
        let mut conn = self.reader.acquire().await.map_err(db)?;
        ops::fetch_history::<Sqlite>(&mut conn, id).await
    }
}
