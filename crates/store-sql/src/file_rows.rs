//! Hosted files, log exports and the account's unmasking switch in SQL, shared by both
//! backends.

use chrono::{DateTime, Utc};

use crate::rows::{account_id, from_millis, sub_account_id};
use crate::{ExportJob, ExportStatus, FileOrigin, HostedFile, StoreError, StoreResult};

const FILE_COLUMNS: &str = "file_name, account_id, sub_account_id, mime, size, origin, \
     token_hash, created_at, expires_at";

#[derive(Debug, sqlx::FromRow)]
pub struct FileRow {
    file_name: String,
    account_id: String,
    sub_account_id: String,
    mime: String,
    size: i64,
    origin: String,
    token_hash: String,
    created_at: i64,
    expires_at: i64,
}

impl FileRow {
    pub fn into_model(self) -> StoreResult<HostedFile> {
        Ok(HostedFile {
            origin: FileOrigin::parse(&self.origin)
                .ok_or_else(|| StoreError::Corrupt(format!("file origin {:?}", self.origin)))?,
            account_id: account_id(&self.account_id)?,
            sub_account_id: sub_account_id(&self.sub_account_id)?,
            file_name: self.file_name,
            mime: self.mime,
            size: u64::try_from(self.size).unwrap_or(0),
            token_hash: self.token_hash,
            created_at: from_millis(self.created_at)?,
            expires_at: from_millis(self.expires_at)?,
        })
    }
}

const EXPORT_COLUMNS: &str = "id, account_id, sub_account_id, status, request, unmasked, \
     created_at, finished_at, file_key, download_token, row_count, expires_at, error";

#[derive(Debug, sqlx::FromRow)]
pub struct ExportRow {
    id: String,
    account_id: String,
    sub_account_id: String,
    status: String,
    request: String,
    unmasked: bool,
    created_at: i64,
    finished_at: Option<i64>,
    file_key: Option<String>,
    download_token: Option<String>,
    row_count: Option<i64>,
    expires_at: Option<i64>,
    error: Option<String>,
}

impl ExportRow {
    pub fn into_model(self) -> StoreResult<ExportJob> {
        let corrupt = |what: &str| StoreError::Corrupt(what.to_owned());
        Ok(ExportJob {
            id: self.id.parse().map_err(|_| corrupt("export id"))?,
            account_id: account_id(&self.account_id)?,
            sub_account_id: sub_account_id(&self.sub_account_id)?,
            status: ExportStatus::parse(&self.status).ok_or_else(|| corrupt("export status"))?,
            request: serde_json::from_str(&self.request).map_err(|_| corrupt("export request"))?,
            unmasked: self.unmasked,
            created_at: from_millis(self.created_at)?,
            finished_at: self.finished_at.map(from_millis).transpose()?,
            file_key: self.file_key,
            download_token: self.download_token,
            rows: self.row_count.map(|n| u64::try_from(n).unwrap_or(0)),
            expires_at: self.expires_at.map(from_millis).transpose()?,
            error: self.error,
        })
    }
}

fn size_column(size: u64) -> i64 {
    i64::try_from(size).unwrap_or(i64::MAX)
}

/// The statements; `B` is the backend (`Sqlite`, `Postgres`).
pub mod ops {
    use super::*;
    use crate::accept_group::Statement;
    use crate::rows::millis;
    use crate::{ExportResult, StoreResult};
    use parley_types::AccountId;
    use sqlx::{Database, Encode, Executor, FromRow, IntoArguments, Type};

    pub async fn reserve_file<DB>(conn: &mut DB::Connection, f: &HostedFile) -> StoreResult<()>
    where
        DB: Database,
        for<'c> &'c mut DB::Connection: Executor<'c, Database = DB>,
        for<'a> DB::Arguments<'a>: IntoArguments<'a, DB>,
        for<'a> String: Encode<'a, DB> + Type<DB>,
        for<'a> i64: Encode<'a, DB> + Type<DB>,
    {
        let mut q = Statement::<DB>::new(format!(
            "INSERT INTO hosted_files ({FILE_COLUMNS}) VALUES ("
        ));
        q.bind(f.file_name.clone())?
            .push(", ")
            .bind(f.account_id.to_string())?
            .push(", ")
            .bind(f.sub_account_id.to_string())?
            .push(", ")
            .bind(f.mime.clone())?
            .push(", ")
            .bind(size_column(f.size))?
            .push(", ")
            .bind(f.origin.as_str().to_owned())?
            .push(", ")
            .bind(f.token_hash.clone())?
            .push(", ")
            .bind(millis(f.created_at))?
            .push(", ")
            .bind(millis(f.expires_at))?
            .push(")");
        execute!(conn, q);
        Ok(())
    }

    pub async fn file_written<DB>(
        conn: &mut DB::Connection,
        file_name: &str,
        size: u64,
    ) -> StoreResult<()>
    where
        DB: Database,
        for<'c> &'c mut DB::Connection: Executor<'c, Database = DB>,
        for<'a> DB::Arguments<'a>: IntoArguments<'a, DB>,
        for<'a> String: Encode<'a, DB> + Type<DB>,
        for<'a> i64: Encode<'a, DB> + Type<DB>,
        for<'a> bool: Encode<'a, DB> + Type<DB>,
    {
        let mut q = Statement::<DB>::new("UPDATE hosted_files SET written = ");
        q.bind(true)?
            .push(", size = ")
            .bind(size_column(size))?
            .push(" WHERE file_name = ")
            .bind(file_name.to_owned())?;
        execute!(conn, q);
        Ok(())
    }

    pub async fn hosted_file<DB>(
        conn: &mut DB::Connection,
        file_name: &str,
    ) -> StoreResult<Option<HostedFile>>
    where
        DB: Database,
        for<'c> &'c mut DB::Connection: Executor<'c, Database = DB>,
        for<'a> DB::Arguments<'a>: IntoArguments<'a, DB>,
        for<'a> String: Encode<'a, DB> + Type<DB>,
        for<'a> bool: Encode<'a, DB> + Type<DB>,
        FileRow: for<'r> FromRow<'r, DB::Row>,
    {
        let mut q = Statement::<DB>::new(format!(
            "SELECT {FILE_COLUMNS} FROM hosted_files WHERE file_name = "
        ));
        q.bind(file_name.to_owned())?
            .push(" AND written = ")
            .bind(true)?;
        Ok(fetch!(FileRow, conn, q).into_iter().next())
    }

    pub async fn forget_file<DB>(conn: &mut DB::Connection, file_name: &str) -> StoreResult<()>
    where
        DB: Database,
        for<'c> &'c mut DB::Connection: Executor<'c, Database = DB>,
        for<'a> DB::Arguments<'a>: IntoArguments<'a, DB>,
        for<'a> String: Encode<'a, DB> + Type<DB>,
    {
        let mut q = Statement::<DB>::new("DELETE FROM hosted_files WHERE file_name = ");
        q.bind(file_name.to_owned())?;
        execute!(conn, q);
        Ok(())
    }

    pub async fn files_to_clean<DB>(
        conn: &mut DB::Connection,
        now: DateTime<Utc>,
        stale_before: DateTime<Utc>,
        limit: u32,
    ) -> StoreResult<Vec<String>>
    where
        DB: Database,
        for<'c> &'c mut DB::Connection: Executor<'c, Database = DB>,
        for<'a> DB::Arguments<'a>: IntoArguments<'a, DB>,
        for<'a> i64: Encode<'a, DB> + Type<DB>,
        for<'a> bool: Encode<'a, DB> + Type<DB>,
        (String,): for<'r> FromRow<'r, DB::Row>,
    {
        let mut q = Statement::<DB>::new("SELECT file_name FROM hosted_files WHERE expires_at <= ");
        q.bind(millis(now))?
            .push(" OR (written = ")
            .bind(false)?
            .push(" AND created_at < ")
            .bind(millis(stale_before))?
            .push(") ORDER BY expires_at LIMIT ")
            .bind(i64::from(limit))?;
        Ok(fetch_as!((String,), conn, q)
            .into_iter()
            .map(|(name,)| name)
            .collect())
    }

    pub async fn create_export<DB>(conn: &mut DB::Connection, job: &ExportJob) -> StoreResult<()>
    where
        DB: Database,
        for<'c> &'c mut DB::Connection: Executor<'c, Database = DB>,
        for<'a> DB::Arguments<'a>: IntoArguments<'a, DB>,
        for<'a> String: Encode<'a, DB> + Type<DB>,
        for<'a> i64: Encode<'a, DB> + Type<DB>,
        for<'a> bool: Encode<'a, DB> + Type<DB>,
    {
        let mut q = Statement::<DB>::new(
            "INSERT INTO log_exports (id, account_id, sub_account_id, status, request, \
             unmasked, created_at) VALUES (",
        );
        q.bind(job.id.to_string())?
            .push(", ")
            .bind(job.account_id.to_string())?
            .push(", ")
            .bind(job.sub_account_id.to_string())?
            .push(", ")
            .bind(job.status.as_str().to_owned())?
            .push(", ")
            .bind(job.request.to_string())?
            .push(", ")
            .bind(job.unmasked)?
            .push(", ")
            .bind(millis(job.created_at))?
            .push(")");
        execute!(conn, q);
        Ok(())
    }

    /// The job whose `column` equals `value`.
    pub async fn export_where<DB>(
        conn: &mut DB::Connection,
        column: &str,
        value: &str,
    ) -> StoreResult<Option<ExportJob>>
    where
        DB: Database,
        for<'c> &'c mut DB::Connection: Executor<'c, Database = DB>,
        for<'a> DB::Arguments<'a>: IntoArguments<'a, DB>,
        for<'a> String: Encode<'a, DB> + Type<DB>,
        ExportRow: for<'r> FromRow<'r, DB::Row>,
    {
        let mut q = Statement::<DB>::new(format!(
            "SELECT {EXPORT_COLUMNS} FROM log_exports WHERE {column} = "
        ));
        q.bind(value.to_owned())?;
        Ok(fetch!(ExportRow, conn, q).into_iter().next())
    }

    /// See [`crate::FileStore::begin_export`].
    pub async fn begin_export<DB>(
        conn: &mut DB::Connection,
        id: uuid::Uuid,
    ) -> StoreResult<Option<ExportJob>>
    where
        DB: Database,
        for<'c> &'c mut DB::Connection: Executor<'c, Database = DB>,
        for<'a> DB::Arguments<'a>: IntoArguments<'a, DB>,
        for<'a> String: Encode<'a, DB> + Type<DB>,
        ExportRow: for<'r> FromRow<'r, DB::Row>,
    {
        let mut q = Statement::<DB>::new(
            "UPDATE log_exports SET status = 'running', lease_until = NULL WHERE id = ",
        );
        q.bind(id.to_string())?.push(&format!(
            " AND status IN ('queued', 'running') RETURNING {EXPORT_COLUMNS}"
        ));
        Ok(fetch!(ExportRow, conn, q).into_iter().next())
    }

    pub async fn finish_export<DB>(
        conn: &mut DB::Connection,
        id: uuid::Uuid,
        result: &ExportResult,
        at: DateTime<Utc>,
    ) -> StoreResult<bool>
    where
        DB: Database,
        for<'c> &'c mut DB::Connection: Executor<'c, Database = DB>,
        for<'a> DB::Arguments<'a>: IntoArguments<'a, DB>,
        for<'a> String: Encode<'a, DB> + Type<DB>,
        for<'a> Option<String>: Encode<'a, DB> + Type<DB>,
        for<'a> i64: Encode<'a, DB> + Type<DB>,
        for<'a> Option<i64>: Encode<'a, DB> + Type<DB>,
        (String,): for<'r> FromRow<'r, DB::Row>,
    {
        let (status, file_key, download_token, rows, expires_at, error) = match result {
            ExportResult::Succeeded {
                file_key,
                download_token,
                rows,
                expires_at,
            } => (
                ExportStatus::Succeeded,
                Some(file_key.clone()),
                Some(download_token.clone()),
                Some(size_column(*rows)),
                Some(millis(*expires_at)),
                None,
            ),
            ExportResult::Empty => (ExportStatus::Empty, None, None, Some(0), None, None),
            ExportResult::Failed(e) => (
                ExportStatus::Failed,
                None,
                None,
                None,
                None,
                Some(e.clone()),
            ),
        };
        let mut q = Statement::<DB>::new("UPDATE log_exports SET status = ");
        q.bind(status.as_str().to_owned())?
            .push(", lease_until = NULL, finished_at = ")
            .bind(millis(at))?
            .push(", file_key = ")
            .bind(file_key)?
            .push(", download_token = ")
            .bind(download_token)?
            .push(", row_count = ")
            .bind(rows)?
            .push(", expires_at = ")
            .bind(expires_at)?
            .push(", error = ")
            .bind(error)?
            .push(" WHERE id = ")
            .bind(id.to_string())?
            .push(" AND status = 'running' RETURNING id");
        Ok(!fetch_as!((String,), conn, q).is_empty())
    }

    /// Cancels a job that has not ended; answers the job as it is afterwards.
    pub async fn cancel_export<DB>(
        conn: &mut DB::Connection,
        id: uuid::Uuid,
        at: DateTime<Utc>,
    ) -> StoreResult<Option<ExportJob>>
    where
        DB: Database,
        for<'c> &'c mut DB::Connection: Executor<'c, Database = DB>,
        for<'a> DB::Arguments<'a>: IntoArguments<'a, DB>,
        for<'a> String: Encode<'a, DB> + Type<DB>,
        for<'a> i64: Encode<'a, DB> + Type<DB>,
        ExportRow: for<'r> FromRow<'r, DB::Row>,
    {
        let mut q = Statement::<DB>::new(
            "UPDATE log_exports SET status = 'cancelled', lease_until = NULL, finished_at = ",
        );
        q.bind(millis(at))?
            .push(" WHERE id = ")
            .bind(id.to_string())?
            .push(" AND status IN ('queued', 'running')");
        execute!(conn, q);
        export_where::<DB>(conn, "id", &id.to_string()).await
    }

    pub async fn expired_exports<DB>(
        conn: &mut DB::Connection,
        now: DateTime<Utc>,
        limit: u32,
    ) -> StoreResult<Vec<ExportJob>>
    where
        DB: Database,
        for<'c> &'c mut DB::Connection: Executor<'c, Database = DB>,
        for<'a> DB::Arguments<'a>: IntoArguments<'a, DB>,
        for<'a> i64: Encode<'a, DB> + Type<DB>,
        ExportRow: for<'r> FromRow<'r, DB::Row>,
    {
        let mut q = Statement::<DB>::new(format!(
            "SELECT {EXPORT_COLUMNS} FROM log_exports WHERE file_key IS NOT NULL \
             AND expires_at <= "
        ));
        q.bind(millis(now))?
            .push(" ORDER BY expires_at LIMIT ")
            .bind(i64::from(limit))?;
        Ok(fetch!(ExportRow, conn, q))
    }

    pub async fn drop_export_file<DB>(conn: &mut DB::Connection, id: uuid::Uuid) -> StoreResult<()>
    where
        DB: Database,
        for<'c> &'c mut DB::Connection: Executor<'c, Database = DB>,
        for<'a> DB::Arguments<'a>: IntoArguments<'a, DB>,
        for<'a> String: Encode<'a, DB> + Type<DB>,
    {
        let mut q = Statement::<DB>::new(
            "UPDATE log_exports SET file_key = NULL, download_token = NULL WHERE id = ",
        );
        q.bind(id.to_string())?;
        execute!(conn, q);
        Ok(())
    }

    pub async fn logs_unmasked<DB>(
        conn: &mut DB::Connection,
        account: &AccountId,
    ) -> StoreResult<bool>
    where
        DB: Database,
        for<'c> &'c mut DB::Connection: Executor<'c, Database = DB>,
        for<'a> DB::Arguments<'a>: IntoArguments<'a, DB>,
        for<'a> String: Encode<'a, DB> + Type<DB>,
        (bool,): for<'r> FromRow<'r, DB::Row>,
    {
        let mut q = Statement::<DB>::new("SELECT logs_unmasked FROM accounts WHERE id = ");
        q.bind(account.to_string())?;
        Ok(fetch_as!((bool,), conn, q)
            .first()
            .is_some_and(|(unmasked,)| *unmasked))
    }

    pub async fn set_logs_unmasked<DB>(
        conn: &mut DB::Connection,
        account: &AccountId,
        unmasked: bool,
    ) -> StoreResult<()>
    where
        DB: Database,
        for<'c> &'c mut DB::Connection: Executor<'c, Database = DB>,
        for<'a> DB::Arguments<'a>: IntoArguments<'a, DB>,
        for<'a> String: Encode<'a, DB> + Type<DB>,
        for<'a> bool: Encode<'a, DB> + Type<DB>,
    {
        let mut q = Statement::<DB>::new("UPDATE accounts SET logs_unmasked = ");
        q.bind(unmasked)?
            .push(" WHERE id = ")
            .bind(account.to_string())?;
        execute!(conn, q);
        Ok(())
    }
}
