//! Where Parley keeps files: uploads from the files API, media users sent (re-hosted from
//! WhatsApp) and log exports. One interface over two backends, both from `object_store`:
//! a directory on the local disk (the default, under the data directory) and any
//! S3-compatible object store (the scale-out option, shared by every node).
//!
//! Files are written as a stream and never held whole in memory: the local backend writes
//! a temporary file and renames it into place, S3 uses a multipart upload. Either way a
//! write that fails or goes over its size limit leaves nothing behind.

use std::ops::Range;
use std::path::Path;
use std::sync::Arc;

use bytes::Bytes;
use futures::stream::BoxStream;
use futures::{Stream, StreamExt, TryStreamExt};
use object_store::aws::AmazonS3Builder;
use object_store::local::LocalFileSystem;
use object_store::path::Path as ObjectPath;
use object_store::{GetOptions, GetRange, ObjectStore, WriteMultipart};
use serde::Deserialize;

/// How many parts of an S3 multipart upload may be in flight at once; with 5 MiB parts
/// this bounds what one write holds in memory.
const PARTS_IN_FLIGHT: usize = 2;

#[derive(Debug, thiserror::Error)]
pub enum StorageError {
    #[error("no such file")]
    NotFound,
    #[error("the file is larger than {limit} bytes")]
    TooLarge { limit: u64 },
    /// The stream being written failed (the client went away mid-upload, …).
    #[error("reading what was being stored failed: {0}")]
    Source(String),
    #[error("storage backend: {0}")]
    Backend(#[from] object_store::Error),
}

impl StorageError {
    fn from_backend(e: object_store::Error) -> Self {
        match e {
            object_store::Error::NotFound { .. } => Self::NotFound,
            other => Self::Backend(other),
        }
    }
}

pub type StorageResult<T> = Result<T, StorageError>;

/// Which backend holds the files (`[media.storage]` in the config).
#[derive(Debug, Clone, Deserialize)]
#[serde(tag = "backend", rename_all = "lowercase")]
pub enum StorageConfig {
    /// A directory; relative paths are taken from the data directory.
    Local {
        dir: String,
    },
    S3(S3Config),
}

#[derive(Clone, Deserialize)]
pub struct S3Config {
    /// The service's URL, e.g. `https://s3.eu-west-1.amazonaws.com` or a local
    /// S3-compatible server's `http://127.0.0.1:9000`.
    pub endpoint: String,
    pub bucket: String,
    #[serde(default = "default_region")]
    pub region: String,
    pub access_key_id: String,
    pub secret_access_key: String,
    /// Path-style URLs (`endpoint/bucket/key`), which most S3-compatible servers need.
    #[serde(default = "yes")]
    pub path_style: bool,
}

impl std::fmt::Debug for S3Config {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("S3Config")
            .field("endpoint", &self.endpoint)
            .field("bucket", &self.bucket)
            .field("region", &self.region)
            .field("access_key_id", &self.access_key_id)
            .field("secret_access_key", &"***")
            .field("path_style", &self.path_style)
            .finish()
    }
}

fn default_region() -> String {
    "us-east-1".into()
}

fn yes() -> bool {
    true
}

/// A file read back: its whole size and the bytes of the range asked for.
pub struct StoredFile {
    pub size: u64,
    pub range: Range<u64>,
    pub body: BoxStream<'static, StorageResult<Bytes>>,
}

/// The file store; cheap to clone.
#[derive(Clone)]
pub struct MediaStorage {
    store: Arc<dyn ObjectStore>,
    backend: &'static str,
}

impl std::fmt::Debug for MediaStorage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MediaStorage")
            .field("backend", &self.backend)
            .finish()
    }
}

impl MediaStorage {
    /// Opens the configured backend; `data_dir` anchors a relative local directory.
    pub fn open(config: &StorageConfig, data_dir: &Path) -> StorageResult<Self> {
        match config {
            StorageConfig::Local { dir } => Self::local(&data_dir.join(dir)),
            StorageConfig::S3(s3) => Self::s3(s3),
        }
    }

    /// Files under `dir`, which is created if missing.
    pub fn local(dir: &Path) -> StorageResult<Self> {
        std::fs::create_dir_all(dir).map_err(|e| {
            StorageError::Backend(object_store::Error::Generic {
                store: "LocalFileSystem",
                source: Box::new(e),
            })
        })?;
        let store = LocalFileSystem::new_with_prefix(dir)?.with_automatic_cleanup(true);
        Ok(Self {
            store: Arc::new(store),
            backend: "local",
        })
    }

    pub fn s3(config: &S3Config) -> StorageResult<Self> {
        let store = AmazonS3Builder::new()
            .with_endpoint(&config.endpoint)
            .with_bucket_name(&config.bucket)
            .with_region(&config.region)
            .with_access_key_id(&config.access_key_id)
            .with_secret_access_key(&config.secret_access_key)
            .with_virtual_hosted_style_request(!config.path_style)
            .with_allow_http(config.endpoint.starts_with("http://"))
            .build()?;
        Ok(Self {
            store: Arc::new(store),
            backend: "s3",
        })
    }

    pub fn backend(&self) -> &'static str {
        self.backend
    }

    /// Stores `body` under `key`, refusing it once it passes `limit` bytes. Nothing is
    /// visible under `key` until the whole file is written; on any error nothing stays.
    pub async fn put<S, E>(&self, key: &str, body: S, limit: u64) -> StorageResult<u64>
    where
        S: Stream<Item = Result<Bytes, E>> + Send,
        E: std::fmt::Display,
    {
        let path = ObjectPath::from(key);
        let upload = self.store.put_multipart(&path).await?;
        let mut writer = WriteMultipart::new(upload);
        let written = copy_within_limit(&mut writer, body, limit).await;
        match written {
            Ok(size) => {
                writer.finish().await?;
                Ok(size)
            }
            Err(e) => {
                if let Err(abort) = writer.abort().await {
                    tracing::warn!(key, error = %abort, "aborting a failed write");
                }
                Err(e)
            }
        }
    }

    /// The file under `key`, or the bytes in `range` of it.
    pub async fn get(&self, key: &str, range: Option<Range<u64>>) -> StorageResult<StoredFile> {
        let options = GetOptions {
            range: range.map(GetRange::Bounded),
            ..GetOptions::default()
        };
        let result = self
            .store
            .get_opts(&ObjectPath::from(key), options)
            .await
            .map_err(StorageError::from_backend)?;
        let size = result.meta.size;
        let range = result.range.clone();
        let body = result
            .into_stream()
            .map_err(StorageError::from_backend)
            .boxed();
        Ok(StoredFile { size, range, body })
    }

    /// The whole file in memory; for small files only.
    pub async fn read(&self, key: &str) -> StorageResult<Bytes> {
        let file = self.get(key, None).await?;
        let chunks: Vec<Bytes> = file.body.try_collect().await?;
        Ok(chunks.concat().into())
    }

    pub async fn size(&self, key: &str) -> StorageResult<u64> {
        let meta = self
            .store
            .head(&ObjectPath::from(key))
            .await
            .map_err(StorageError::from_backend)?;
        Ok(meta.size)
    }

    /// Removes the file; one already gone is not an error.
    pub async fn delete(&self, key: &str) -> StorageResult<()> {
        match self.store.delete(&ObjectPath::from(key)).await {
            Ok(()) | Err(object_store::Error::NotFound { .. }) => Ok(()),
            Err(e) => Err(e.into()),
        }
    }
}

async fn copy_within_limit<S, E>(
    writer: &mut WriteMultipart,
    body: S,
    limit: u64,
) -> StorageResult<u64>
where
    S: Stream<Item = Result<Bytes, E>> + Send,
    E: std::fmt::Display,
{
    let mut body = std::pin::pin!(body);
    let mut size = 0u64;
    while let Some(chunk) = body.next().await {
        let chunk = chunk.map_err(|e| StorageError::Source(e.to_string()))?;
        size += chunk.len() as u64;
        if size > limit {
            return Err(StorageError::TooLarge { limit });
        }
        writer.wait_for_capacity(PARTS_IN_FLIGHT).await?;
        writer.write(&chunk);
    }
    Ok(size)
}
