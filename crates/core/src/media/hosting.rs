use std::ops::Range;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use bytes::{Bytes, BytesMut};
use chrono::Duration;
use futures::{Stream, StreamExt, stream};
use parley_media::{MediaStorage, StorageError, StoredFile};
use parley_store::{FileOrigin, HostedFile, SharedStore};
use parley_types::codes::SyncCode;
use parley_types::media::{self, MediaType};
use parley_types::{AccountId, SharedClock, SubAccountId};
use rand::RngCore;
use sha2::{Digest, Sha256};

use crate::{Error, Result};

/// How long files live.
#[derive(Debug, Clone)]
pub struct HostingConfig {
    /// Uploads through the files API.
    pub upload_retention: Duration,
    /// Media users sent: 8x8's inbound media URLs work for 24 hours.
    pub inbound_retention: Duration,
    /// `https://parley.example.com`: the start of every file URL Parley hands out.
    pub public_url: String,
}

/// A stored upload: the name and the token that together make its URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Uploaded {
    pub file_name: String,
    pub token: String,
    pub media_type: &'static MediaType,
}

impl Uploaded {
    /// `/files/{name}?token={token}`, as 8x8's `Location` header has it.
    pub fn path(&self) -> String {
        format!("/files/{}?token={}", self.file_name, self.token)
    }
}

#[derive(Clone)]
pub struct FileHosting {
    store: SharedStore,
    storage: MediaStorage,
    clock: SharedClock,
    config: HostingConfig,
}

/// Writes that never finished are removed this long after they began.
const STALE_WRITE: Duration = Duration::hours(1);

fn storage_key(file_name: &str) -> String {
    format!("files/{file_name}")
}

/// A new random token and the hash the database keeps of it.
pub(crate) fn new_token() -> (String, String) {
    let mut raw = [0u8; 32];
    rand::rng().fill_bytes(&mut raw);
    let token = URL_SAFE_NO_PAD.encode(raw);
    let hash = token_hash(&token);
    (token, hash)
}

pub(crate) fn token_hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

fn new_file_name(media_type: &MediaType, original: Option<&str>) -> String {
    let mut raw = [0u8; 16];
    rand::rng().fill_bytes(&mut raw);
    format!(
        "{}.{}",
        hex::encode(raw),
        media_type.extension_for(original)
    )
}

fn storage_failure(e: StorageError) -> Error {
    Error::Store(parley_store::StoreError::Unavailable(format!(
        "file storage: {e}"
    )))
}

/// Reads from `body` until `SNIFF_BYTES` are in hand or it ends; yields those bytes and
/// the rest of the stream.
async fn head_of<S, E>(mut body: S) -> Result<(Bytes, S)>
where
    S: Stream<Item = std::result::Result<Bytes, E>> + Unpin,
    E: std::fmt::Display,
{
    let mut head = BytesMut::new();
    while head.len() < media::SNIFF_BYTES {
        match body.next().await {
            Some(Ok(chunk)) => head.extend_from_slice(&chunk),
            Some(Err(e)) => {
                return Err(Error::invalid(
                    SyncCode::InvalidParameter,
                    format!("Reading the upload failed: {e}"),
                ));
            }
            None => break,
        }
    }
    Ok((head.freeze(), body))
}

impl FileHosting {
    pub fn new(
        store: SharedStore,
        storage: MediaStorage,
        clock: SharedClock,
        config: HostingConfig,
    ) -> Self {
        Self {
            store,
            storage,
            clock,
            config,
        }
    }

    pub fn storage(&self) -> &MediaStorage {
        &self.storage
    }

    /// Stores an upload (`POST …/files`). Its type is judged from its first bytes; the
    /// name only settles Office formats and keeps its extension when it fits.
    pub async fn upload<S, E>(
        &self,
        account: &AccountId,
        sub: &SubAccountId,
        original_name: Option<&str>,
        body: S,
    ) -> Result<Uploaded>
    where
        S: Stream<Item = std::result::Result<Bytes, E>> + Send + Unpin,
        E: std::fmt::Display + Send,
    {
        let (head, rest) = head_of(body).await?;
        let media_type = media::sniff(&head, original_name).ok_or_else(|| {
            Error::invalid(
                SyncCode::UnsupportedMediaType,
                "Unsupported media type: WhatsApp takes JPEG and PNG images, MP4 and 3GPP \
                 video, AAC, AMR, MP3, M4A and OGG audio, WebP stickers, and PDF, Word, Excel, \
                 PowerPoint and plain-text documents",
            )
        })?;
        let file_name = new_file_name(media_type, original_name);
        let (token, hash) = new_token();
        let whole = stream::iter([Ok::<_, E>(head)]).chain(rest);
        self.store_file(
            account,
            sub,
            &file_name,
            media_type,
            FileOrigin::Upload,
            hash,
            whole,
        )
        .await?;
        Ok(Uploaded {
            file_name,
            token,
            media_type,
        })
    }

    /// Keeps a file a user sent (its type as WhatsApp reported it, checked against its
    /// content like an upload) and answers the absolute URL that serves it for the
    /// inbound retention. `None` for a type WhatsApp should not have delivered.
    pub async fn rehost<S, E>(
        &self,
        account: &AccountId,
        sub: &SubAccountId,
        original_name: Option<&str>,
        body: S,
    ) -> Result<Option<String>>
    where
        S: Stream<Item = std::result::Result<Bytes, E>> + Send + Unpin,
        E: std::fmt::Display + Send,
    {
        let (head, rest) = head_of(body).await?;
        let Some(media_type) = media::sniff(&head, original_name) else {
            return Ok(None);
        };
        let file_name = new_file_name(media_type, original_name);
        let (token, hash) = new_token();
        let whole = stream::iter([Ok::<_, E>(head)]).chain(rest);
        self.store_file(
            account,
            sub,
            &file_name,
            media_type,
            FileOrigin::Inbound,
            hash,
            whole,
        )
        .await?;
        Ok(Some(format!(
            "{}/files/{file_name}?token={token}",
            self.config.public_url.trim_end_matches('/')
        )))
    }

    #[allow(clippy::too_many_arguments)]
    async fn store_file<S, E>(
        &self,
        account: &AccountId,
        sub: &SubAccountId,
        file_name: &str,
        media_type: &MediaType,
        origin: FileOrigin,
        token_hash: String,
        body: S,
    ) -> Result<()>
    where
        S: Stream<Item = std::result::Result<Bytes, E>> + Send,
        E: std::fmt::Display + Send,
    {
        let now = self.clock.now();
        let retention = match origin {
            FileOrigin::Upload => self.config.upload_retention,
            FileOrigin::Inbound => self.config.inbound_retention,
        };
        let file = HostedFile {
            file_name: file_name.to_owned(),
            account_id: account.clone(),
            sub_account_id: sub.clone(),
            mime: media_type.mime.to_owned(),
            size: 0,
            origin,
            token_hash,
            created_at: now,
            expires_at: now + retention,
        };
        self.store.reserve_file(&file).await?;
        let key = storage_key(file_name);
        let written = self.storage.put(&key, body, media_type.max_bytes).await;
        let size = match written {
            Ok(size) => size,
            Err(e) => {
                // The reserved row would only wait for the cleaner; drop it now.
                self.store.forget_file(file_name).await?;
                return Err(match e {
                    StorageError::TooLarge { limit } => Error::invalid(
                        SyncCode::PayloadTooLarge,
                        format!(
                            "Request size must not exceed {} for {} files",
                            human_size(limit),
                            media_type.mime
                        ),
                    ),
                    StorageError::Source(e) => Error::invalid(
                        SyncCode::InvalidParameter,
                        format!("Reading the upload failed: {e}"),
                    ),
                    other => storage_failure(other),
                });
            }
        };
        self.store.file_written(file_name, size).await?;
        Ok(())
    }

    /// The file if `token` is its token and it has not expired; otherwise the one answer
    /// for every failure, so a caller learns nothing about which files exist.
    pub async fn find(&self, file_name: &str, token: Option<&str>) -> Result<HostedFile> {
        let token = token.ok_or_else(file_not_found)?;
        self.valid(file_name, token)
            .await?
            .ok_or_else(file_not_found)
    }

    async fn valid(&self, file_name: &str, token: &str) -> Result<Option<HostedFile>> {
        Ok(self
            .store
            .hosted_file(file_name)
            .await?
            .filter(|f| constant_time_eq(&f.token_hash, &token_hash(token)))
            .filter(|f| f.expires_at > self.clock.now()))
    }

    /// The bytes of a file [`FileHosting::find`] answered, or of `range` of them.
    pub async fn read(&self, file: &HostedFile, range: Option<Range<u64>>) -> Result<StoredFile> {
        match self.storage.get(&storage_key(&file.file_name), range).await {
            Ok(content) => Ok(content),
            Err(StorageError::NotFound) => Err(file_not_found()),
            Err(e) => Err(storage_failure(e)),
        }
    }

    /// The hosted file a URL Parley handed out points at, if it is one and still valid.
    pub async fn resolve(&self, url: &str) -> Result<Option<HostedFile>> {
        let Some((file_name, token)) = self.parse_url(url) else {
            return Ok(None);
        };
        self.valid(&file_name, &token).await
    }

    /// `(file name, token)` from `{public_url}/files/{name}?token={token}`.
    fn parse_url(&self, url: &str) -> Option<(String, String)> {
        let rest = url.strip_prefix(self.config.public_url.trim_end_matches('/'))?;
        let parsed = url::Url::parse(&format!("http://parley.invalid{rest}")).ok()?;
        let file_name = parsed.path().strip_prefix("/files/")?;
        let token = parsed
            .query_pairs()
            .find(|(k, _)| k == "token")
            .map(|(_, v)| v.into_owned())?;
        (!file_name.contains('/')).then(|| (file_name.to_owned(), token))
    }

    /// Removes up to `limit` expired files (and writes a crash cut short); yields how many.
    pub async fn clean_once(&self, limit: u32) -> Result<usize> {
        let now = self.clock.now();
        let names = self
            .store
            .files_to_clean(now, now - STALE_WRITE, limit)
            .await?;
        for name in &names {
            self.storage
                .delete(&storage_key(name))
                .await
                .map_err(storage_failure)?;
            self.store.forget_file(name).await?;
        }
        Ok(names.len())
    }
}

fn file_not_found() -> Error {
    Error::invalid(SyncCode::NoSuchObject, "File not found")
}

fn human_size(bytes: u64) -> String {
    if bytes >= 1024 * 1024 {
        format!("{} MB", bytes / (1024 * 1024))
    } else {
        format!("{} KB", bytes / 1024)
    }
}

/// Compares two hashes without stopping at the first difference.
pub(crate) fn constant_time_eq(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}
