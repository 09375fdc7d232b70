//! 8x8's log export jobs: `POST …/messages/exports` queues a job with a work job of
//! `crates/jobs` to build it, and the [`ExportRunner`] builds the gzip CSV in the background (paging through the log, never holding it whole) into the
//! media storage, and `GET …/exports/{jobId}` shows the status and, once it succeeded, a
//! download link that works until `expires`.

use std::io::Write;

use async_trait::async_trait;
use bytes::Bytes;
use chrono::Duration;
use flate2::Compression;
use flate2::write::GzEncoder;
use futures::StreamExt;
use parley_jobs::{JobHandler, RetrySchedule, Work};
use parley_media::{MediaStorage, StorageError, StoredFile};
use parley_store::{
    ExportJob, ExportResult, ExportStatus, Job, LogCursor, LogFilter, Message, SharedStore,
};
use parley_types::codes::SyncCode;
use parley_types::time::format_8x8;
use parley_types::{AccountId, SharedClock, SubAccountId};
use serde_json::{Value, json};
use tokio::sync::mpsc;

use super::filter::{parse_countries, parse_msisdn, parse_time};
use super::mask::{mask_content, mask_msisdn};
use crate::media::hosting::new_token;
use crate::messages::content_summary;
use crate::{Error, Result};

#[derive(Debug, Clone)]
pub struct ExportConfig {
    /// How long a finished export's link works.
    pub link_ttl: Duration,
    /// How far back logs reach.
    pub retention: Duration,
    /// The start of the download links.
    pub public_url: String,
    /// Messages read per query while building a file.
    pub page: u32,
}

const CSV_HEADER: [&str; 17] = [
    "umid",
    "subAccountId",
    "channel",
    "channelId",
    "direction",
    "country",
    "msisdn",
    "status",
    "statusDetail",
    "errorCode",
    "errorMessage",
    "contentType",
    "content",
    "clientMessageId",
    "batchId",
    "clientBatchId",
    "createdAt",
];

fn no_such_job() -> Error {
    Error::invalid(SyncCode::NoSuchObject, "Invalid jobId")
}

fn storage_failure(e: StorageError) -> Error {
    Error::Store(parley_store::StoreError::Unavailable(format!(
        "file storage: {e}"
    )))
}

fn export_key(job: &ExportJob) -> String {
    format!("exports/{}.csv.gz", job.id)
}

/// The API side: start, look at, cancel and download exports.
#[derive(Clone)]
pub struct LogExports {
    store: SharedStore,
    storage: MediaStorage,
    clock: SharedClock,
    config: ExportConfig,
}

impl LogExports {
    pub fn new(
        store: SharedStore,
        storage: MediaStorage,
        clock: SharedClock,
        config: ExportConfig,
    ) -> Self {
        Self {
            store,
            storage,
            clock,
            config,
        }
    }

    /// Queues an export of the subaccount's messages (`LogExportRequest`).
    pub async fn start(
        &self,
        account: &AccountId,
        sub: &SubAccountId,
        body: &Value,
    ) -> Result<ExportJob> {
        let now = self.clock.now();
        let body = self.with_channel_user_number(account, body).await?;
        let request = normalise(&body, now, self.config.retention)?;
        let job = ExportJob {
            id: uuid::Uuid::now_v7(),
            account_id: account.clone(),
            sub_account_id: sub.clone(),
            status: ExportStatus::Queued,
            request,
            unmasked: self.store.logs_unmasked(account).await?,
            created_at: now,
            finished_at: None,
            file_key: None,
            download_token: None,
            rows: None,
            expires_at: None,
            error: None,
        };
        let build = Work {
            queue: EXPORT_QUEUE.into(),
            key: job.id.to_string(),
            account: account.clone(),
            due_at: now,
            payload: json!({}),
            retry: RetrySchedule(EXPORT_RETRY.to_vec()),
        };
        self.store.create_export(&job, &build.into()).await?;
        Ok(job)
    }

    /// The request with a business-scoped `channelUserId` (`US.1349…`) replaced by the
    /// digits of the number it names in this account, which the log is filtered by.
    async fn with_channel_user_number(&self, account: &AccountId, body: &Value) -> Result<Value> {
        let mut body = body.clone();
        let Some(id) = body
            .get("channelUserId")
            .and_then(Value::as_str)
            .map(str::trim)
            .filter(|id| crate::messages::request::is_channel_user_id(id))
            .map(str::to_owned)
        else {
            return Ok(body);
        };
        let msisdn = self
            .store
            .msisdn_for_channel_user(account, &id)
            .await?
            .ok_or_else(|| {
                Error::invalid(
                    SyncCode::InvalidParameter,
                    format!(
                        "Invalid parameter(s): 'channelUserId' {id} is not a WhatsApp user this account has heard from"
                    ),
                )
            })?;
        body["channelUserId"] = Value::from(msisdn.trim_start_matches('+'));
        Ok(body)
    }

    /// The job, if it is the subaccount's.
    pub async fn job(&self, sub: &SubAccountId, raw_id: &str) -> Result<ExportJob> {
        let id = raw_id.parse::<uuid::Uuid>().map_err(|_| no_such_job())?;
        self.store
            .export(id)
            .await?
            .filter(|job| &job.sub_account_id == sub)
            .ok_or_else(no_such_job)
    }

    /// `GET …/exports/{jobId}`: the status, and the link while it works.
    pub fn status_body(&self, job: &ExportJob) -> Value {
        let mut body = json!({ "status": job.status.as_str() });
        let link_valid = job.expires_at.is_some_and(|at| at > self.clock.now());
        if let (ExportStatus::Succeeded, Some(token), true) =
            (job.status, &job.download_token, link_valid)
        {
            body["data"] = json!([format!(
                "{}/api/v1/subaccounts/{}/messages/download/{token}",
                self.config.public_url.trim_end_matches('/'),
                job.sub_account_id
            )]);
            body["expires"] = json!(job.expires_at.map(format_8x8));
        }
        body
    }

    /// Cancels the job (an ended one stays as it ended), and its build if it has not
    /// started; removes a file it had.
    pub async fn cancel(&self, sub: &SubAccountId, raw_id: &str) -> Result<()> {
        let job = self.job(sub, raw_id).await?;
        let now = self.clock.now();
        self.store
            .cancel_job(EXPORT_QUEUE, &job.id.to_string(), now)
            .await?;
        if let Some(job) = self.store.cancel_export(job.id, now).await?
            && job.status == ExportStatus::Cancelled
            && let Some(key) = &job.file_key
        {
            self.storage.delete(key).await.map_err(storage_failure)?;
        }
        Ok(())
    }

    /// The file behind a download link, while the link works.
    pub async fn download(&self, sub: &SubAccountId, token: &str) -> Result<StoredFile> {
        let job = self
            .store
            .export_by_token(token)
            .await?
            .filter(|job| &job.sub_account_id == sub)
            .filter(|job| job.expires_at.is_some_and(|at| at > self.clock.now()))
            .ok_or_else(|| Error::invalid(SyncCode::NoSuchObject, "Invalid download link"))?;
        let key = job.file_key.as_deref().ok_or_else(no_such_job)?;
        match self.storage.get(key, None).await {
            Ok(file) => Ok(file),
            Err(StorageError::NotFound) => Err(no_such_job()),
            Err(e) => Err(storage_failure(e)),
        }
    }
}

/// The request as stored: the filter (times resolved) and the row limit.
fn normalise(
    body: &Value,
    now: chrono::DateTime<chrono::Utc>,
    retention: Duration,
) -> Result<Value> {
    let body = match body {
        Value::Null => &json!({}),
        Value::Object(_) => body,
        _ => {
            return Err(Error::invalid(
                SyncCode::InvalidParameter,
                "Invalid parameter(s): the body must be a JSON object",
            ));
        }
    };
    let text = |key: &str| {
        body.get(key)
            .and_then(Value::as_str)
            .filter(|s| !s.trim().is_empty())
    };
    let to = text("to")
        .map(|raw| parse_time("to", raw))
        .transpose()?
        .unwrap_or(now);
    let from = text("from")
        .map(|raw| parse_time("from", raw))
        .transpose()?
        .unwrap_or(to - Duration::days(7))
        .max(now - retention);
    if from >= to {
        return Err(Error::invalid(
            SyncCode::InvalidParameter,
            "Invalid parameter(s): 'from' must be before 'to'",
        ));
    }
    let countries = match body.get("countries") {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Array(items)) => {
            parse_countries("countries", items.iter().map(|v| v.as_str().unwrap_or("?")))?
        }
        Some(_) => {
            return Err(Error::invalid(
                SyncCode::InvalidParameter,
                "Invalid parameter(s): 'countries' must be an array of country codes",
            ));
        }
    };
    let msisdn = text("phoneNumber")
        .map(|raw| parse_msisdn("phoneNumber", raw))
        .transpose()?;
    let msisdn = match (msisdn, channel_user(text("channelUserId"))?) {
        (Some(number), Some(user)) if number != user => {
            return Err(Error::invalid(
                SyncCode::InvalidParameter,
                "Invalid parameter(s): 'phoneNumber' and 'channelUserId' name different users",
            ));
        }
        (number, user) => number.or(user),
    };
    let limit = match body.get("limit") {
        None | Some(Value::Null) => 0,
        Some(v) => v.as_u64().ok_or_else(|| {
            Error::invalid(
                SyncCode::InvalidParameter,
                "Invalid parameter(s): 'limit' must be a whole number (0: no limit)",
            )
        })?,
    };
    Ok(json!({
        "from": from.timestamp_millis(),
        "to": to.timestamp_millis(),
        "countries": countries,
        "msisdn": msisdn,
        "limit": limit,
    }))
}

/// The number behind a `channelUserId`: the number's digits (as 8x8's v2 gave them), a
/// business-scoped id having been replaced by them already. Anything else is refused
/// rather than ignored, which would export every user's messages.
fn channel_user(raw: Option<&str>) -> Result<Option<String>> {
    let Some(raw) = raw else { return Ok(None) };
    if !raw.trim().chars().all(|c| c.is_ascii_digit()) {
        return Err(Error::invalid(
            SyncCode::InvalidParameter,
            "Invalid parameter(s): 'channelUserId' must be a WhatsApp business-scoped user id \
             (US.1349…) or the digits of the user's number",
        ));
    }
    parse_msisdn("channelUserId", raw).map(Some)
}

/// The job's stored request as a log filter and a row limit (0: none).
fn filter_of(job: &ExportJob) -> (LogFilter, u64) {
    let r = &job.request;
    let time = |key: &str| {
        r.get(key)
            .and_then(Value::as_i64)
            .and_then(chrono::DateTime::from_timestamp_millis)
    };
    let filter = LogFilter {
        sub_account_id: Some(job.sub_account_id.clone()),
        countries: r
            .get("countries")
            .and_then(Value::as_array)
            .map(|cs| {
                cs.iter()
                    .filter_map(Value::as_str)
                    .map(str::to_owned)
                    .collect()
            })
            .unwrap_or_default(),
        msisdn: r.get("msisdn").and_then(Value::as_str).map(str::to_owned),
        from: time("from"),
        to: time("to"),
        ..LogFilter::default()
    };
    (filter, r.get("limit").and_then(Value::as_u64).unwrap_or(0))
}

fn csv_record(m: &Message, unmasked: bool) -> [String; 17] {
    let status = &m.status;
    let content = content_summary(m);
    [
        m.umid.to_string(),
        m.sub_account_id.to_string(),
        "WhatsApp".into(),
        m.channel_id.to_string(),
        m.direction.as_str().into(),
        m.country.clone().unwrap_or_default(),
        if unmasked {
            m.msisdn.clone()
        } else {
            mask_msisdn(&m.msisdn)
        },
        status.state.as_str().into(),
        status
            .detail
            .map(|d| d.as_str().to_owned())
            .unwrap_or_default(),
        status.error_code.map(|c| c.to_string()).unwrap_or_default(),
        status.error_message.clone().unwrap_or_default(),
        m.content_type.clone(),
        if unmasked {
            content
        } else {
            mask_content(&content).to_owned()
        },
        m.client_message_id.clone().unwrap_or_default(),
        m.batch
            .as_ref()
            .map(|b| b.id.to_string())
            .unwrap_or_default(),
        m.batch
            .as_ref()
            .and_then(|b| b.client_batch_id.clone())
            .unwrap_or_default(),
        format_8x8(m.created_at),
    ]
}

/// CSV lines (quoted where needed) for `records`.
fn csv_lines<const N: usize>(records: &[[String; N]]) -> Result<Vec<u8>> {
    let failed = |e: &dyn std::fmt::Display| {
        Error::Store(parley_store::StoreError::Unavailable(format!(
            "writing the export: {e}"
        )))
    };
    let mut writer = csv::WriterBuilder::new()
        .has_headers(false)
        .from_writer(Vec::new());
    for record in records {
        writer.write_record(record).map_err(|e| failed(&e))?;
    }
    writer.into_inner().map_err(|e| failed(&e.error()))
}

/// Builds exports as the work jobs of [`EXPORT_QUEUE`] (`crates/jobs` leases each to one
/// node, runs it again after a crash and retries it on [`EXPORT_RETRY`]), and removes
/// expired export files.
#[derive(Clone)]
pub struct ExportRunner {
    exports: LogExports,
}

/// The job queue exports are built on: one work job per export, keyed by its id.
pub const EXPORT_QUEUE: &str = "logs.export";
/// Seconds before each new attempt when building failed for want of the store or the
/// file storage (an export that fails on its own merits ends `failed` at once).
const EXPORT_RETRY: [u32; 3] = [10, 60, 300];

/// Compressed bytes handed to storage at a time.
const CHUNK: usize = 256 * 1024;

impl ExportRunner {
    pub fn new(exports: LogExports) -> Self {
        Self { exports }
    }

    /// Builds the export `id` unless it was cancelled or has ended meanwhile.
    async fn build_export(&self, id: uuid::Uuid) -> Result<()> {
        let e = &self.exports;
        let Some(job) = e.store.begin_export(id).await? else {
            return Ok(());
        };
        let result = match self.build(&job).await {
            Ok(0) => {
                e.storage
                    .delete(&export_key(&job))
                    .await
                    .map_err(storage_failure)?;
                ExportResult::Empty
            }
            Ok(rows) => ExportResult::Succeeded {
                file_key: export_key(&job),
                download_token: new_token().0,
                rows,
                expires_at: e.clock.now() + e.config.link_ttl,
            },
            Err(err) => {
                tracing::error!(job = %job.id, error = %err, "log export failed");
                ExportResult::Failed(err.to_string())
            }
        };
        let finished = e
            .store
            .finish_export(job.id, &result, e.clock.now())
            .await?;
        if !finished {
            // Cancelled while it ran: its file goes too.
            e.storage
                .delete(&export_key(&job))
                .await
                .map_err(storage_failure)?;
        }
        Ok(())
    }

    /// Writes the CSV to storage while reading the log page by page; yields the rows.
    async fn build(&self, job: &ExportJob) -> Result<u64> {
        let (filter, limit) = filter_of(job);
        let (chunks, received) = mpsc::channel::<std::result::Result<Bytes, String>>(4);
        let body = futures::stream::unfold(received, |mut rx| async move {
            rx.recv().await.map(|chunk| (chunk, rx))
        });
        let key = export_key(job);
        let writing = self.exports.storage.put(&key, body.boxed(), u64::MAX);
        let producing = self.produce(job, filter, limit, chunks);
        let (written, produced) = tokio::join!(writing, producing);
        let rows = produced?;
        written.map_err(storage_failure)?;
        Ok(rows)
    }

    async fn produce(
        &self,
        job: &ExportJob,
        filter: LogFilter,
        limit: u64,
        chunks: mpsc::Sender<std::result::Result<Bytes, String>>,
    ) -> Result<u64> {
        let outcome = self.write_csv(job, &filter, limit, &chunks).await;
        if let Err(e) = &outcome {
            // Make the storage write fail, so nothing half-written is kept.
            let _ = chunks.send(Err(e.to_string())).await;
        }
        outcome
    }

    async fn write_csv(
        &self,
        job: &ExportJob,
        filter: &LogFilter,
        limit: u64,
        chunks: &mpsc::Sender<std::result::Result<Bytes, String>>,
    ) -> Result<u64> {
        let csv_failed = |e: &dyn std::fmt::Display| {
            Error::Store(parley_store::StoreError::Unavailable(format!(
                "writing the export: {e}"
            )))
        };
        let mut gz = GzEncoder::new(Vec::new(), Compression::fast());
        gz.write_all(&csv_lines(&[CSV_HEADER.map(str::to_owned)])?)
            .map_err(|e| csv_failed(&e))?;
        let mut rows = 0u64;
        let mut after: Option<LogCursor> = None;
        loop {
            let want = match limit {
                0 => self.exports.config.page,
                n => self
                    .exports
                    .config
                    .page
                    .min(u32::try_from(n - rows).unwrap_or(u32::MAX)),
            };
            if want == 0 {
                break;
            }
            let page = self
                .exports
                .store
                .query_messages(filter, after, want)
                .await?;
            let records: Vec<_> = page.iter().map(|m| csv_record(m, job.unmasked)).collect();
            gz.write_all(&csv_lines(&records)?)
                .map_err(|e| csv_failed(&e))?;
            rows += page.len() as u64;
            if gz.get_ref().len() >= CHUNK {
                let chunk = Bytes::from(std::mem::take(gz.get_mut()));
                chunks.send(Ok(chunk)).await.map_err(|e| csv_failed(&e))?;
            }
            match page.last() {
                Some(last) if page.len() == want as usize => {
                    after = Some(LogCursor {
                        created_at: last.created_at,
                        umid: last.umid,
                    });
                }
                _ => break,
            }
        }
        let rest = gz.finish().map_err(|e| csv_failed(&e))?;
        chunks
            .send(Ok(Bytes::from(rest)))
            .await
            .map_err(|e| csv_failed(&e))?;
        Ok(rows)
    }

    /// Removes the files of exports whose links expired; yields how many.
    pub async fn clean_once(&self, limit: u32) -> Result<usize> {
        let e = &self.exports;
        let expired = e.store.expired_exports(e.clock.now(), limit).await?;
        for job in &expired {
            if let Some(key) = &job.file_key {
                e.storage.delete(key).await.map_err(storage_failure)?;
            }
            e.store.drop_export_file(job.id).await?;
        }
        Ok(expired.len())
    }
}

#[async_trait]
impl JobHandler for ExportRunner {
    fn queue(&self) -> &str {
        EXPORT_QUEUE
    }

    async fn run(&self, job: &Job) -> std::result::Result<(), String> {
        let id = job
            .key
            .parse::<uuid::Uuid>()
            .map_err(|e| format!("export job key {}: {e}", job.key))?;
        self.build_export(id).await.map_err(|e| e.to_string())
    }
}
