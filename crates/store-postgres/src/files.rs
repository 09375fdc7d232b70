//! Hosted files, log exports and the unmasking switch (SQL shared with SQLite in
//! `parley_store_sql::file_rows`).

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use parley_store::{ExportJob, ExportResult, FileStore, HostedFile, NewJob, StoreResult};
use parley_store_sql::file_rows::ops;
use parley_store_sql::job_rows::ops as job_ops;
use parley_types::AccountId;
use sqlx::Postgres;

use crate::{PostgresStore, db};

#[async_trait]
impl FileStore for PostgresStore {
    async fn reserve_file(&self, file: &HostedFile) -> StoreResult<()> {
        let mut conn = self.pool.acquire().await.map_err(db)?;
        ops::reserve_file::<Postgres>(&mut conn, file).await
    }

    async fn file_written(&self, file_name: &str, size: u64) -> StoreResult<()> {
        let mut conn = self.pool.acquire().await.map_err(db)?;
        ops::file_written::<Postgres>(&mut conn, file_name, size).await
    }

    async fn hosted_file(&self, file_name: &str) -> StoreResult<Option<HostedFile>> {
        let mut conn = self.pool.acquire().await.map_err(db)?;
        ops::hosted_file::<Postgres>(&mut conn, file_name).await
    }

    async fn forget_file(&self, file_name: &str) -> StoreResult<()> {
        let mut conn = self.pool.acquire().await.map_err(db)?;
        ops::forget_file::<Postgres>(&mut conn, file_name).await
    }

    async fn files_to_clean(
        &self,
        now: DateTime<Utc>,
        stale_before: DateTime<Utc>,
        limit: u32,
    ) -> StoreResult<Vec<String>> {
        let mut conn = self.pool.acquire().await.map_err(db)?;
        ops::files_to_clean::<Postgres>(&mut conn, now, stale_before, limit).await
    }

    async fn create_export(&self, job: &ExportJob, build: &NewJob) -> StoreResult<()> {
        let mut tx = self.pool.begin().await.map_err(db)?;
        ops::create_export::<Postgres>(&mut tx, job).await?;
        job_ops::schedule::<Postgres>(&mut tx, std::slice::from_ref(build), job.created_at).await?;
        tx.commit().await.map_err(db)
    }

    async fn export(&self, id: uuid::Uuid) -> StoreResult<Option<ExportJob>> {
        let mut conn = self.pool.acquire().await.map_err(db)?;
        ops::export_where::<Postgres>(&mut conn, "id", &id.to_string()).await
    }

    async fn export_by_token(&self, token: &str) -> StoreResult<Option<ExportJob>> {
        let mut conn = self.pool.acquire().await.map_err(db)?;
        ops::export_where::<Postgres>(&mut conn, "download_token", token).await
    }

    async fn begin_export(&self, id: uuid::Uuid) -> StoreResult<Option<ExportJob>> {
        let mut conn = self.pool.acquire().await.map_err(db)?;
        ops::begin_export::<Postgres>(&mut conn, id).await
    }

    async fn finish_export(
        &self,
        id: uuid::Uuid,
        result: &ExportResult,
        at: DateTime<Utc>,
    ) -> StoreResult<bool> {
        let mut conn = self.pool.acquire().await.map_err(db)?;
        ops::finish_export::<Postgres>(&mut conn, id, result, at).await
    }

    async fn cancel_export(
        &self,
        id: uuid::Uuid,
        at: DateTime<Utc>,
    ) -> StoreResult<Option<ExportJob>> {
        let mut conn = self.pool.acquire().await.map_err(db)?;
        ops::cancel_export::<Postgres>(&mut conn, id, at).await
    }

    async fn expired_exports(&self, now: DateTime<Utc>, limit: u32) -> StoreResult<Vec<ExportJob>> {
        let mut conn = self.pool.acquire().await.map_err(db)?;
        ops::expired_exports::<Postgres>(&mut conn, now, limit).await
    }

    async fn drop_export_file(&self, id: uuid::Uuid) -> StoreResult<()> {
        let mut conn = self.pool.acquire().await.map_err(db)?;
        ops::drop_export_file::<Postgres>(&mut conn, id).await
    }

    async fn logs_unmasked(&self, account: &AccountId) -> StoreResult<bool> {
        let mut conn = self.pool.acquire().await.map_err(db)?;
        ops::logs_unmasked::<Postgres>(&mut conn, account).await
    }

    async fn set_logs_unmasked(&self, account: &AccountId, unmasked: bool) -> StoreResult<()> {
        let mut conn = self.pool.acquire().await.map_err(db)?;
        ops::set_logs_unmasked::<Postgres>(&mut conn, account, unmasked).await
    }
}
