//! The files the simulated WhatsApp holds: media a business uploaded (reachable through
//! the Graph API for 30 days), media a user sent (reachable by the business that got it for
//! 7 days), media downloaded for sends by link, and files a phone staged through the
//! control API. A file shown in a chat keeps its bytes after Graph access ends, as a
//! phone keeps the pictures it received.
//!
//! Whether a file is what it claims is judged from its content (`parley_types::media`),
//! as Meta does: a MIME mismatch is the common cause of 131053.

use std::collections::HashMap;
use std::time::Duration as StdDuration;

use axum::extract::multipart::{Field, MultipartError};
use bytes::{Bytes, BytesMut};
use chrono::{DateTime, Duration, Utc};
use parley_types::media::{MEDIA_TYPES, MediaKind, MediaType, SNIFF_BYTES, by_mime, sniff};
use rand::Rng;
use sha2::{Digest, Sha256};

/// How long an uploaded media id stays valid.
pub const UPLOAD_LIFETIME: Duration = Duration::days(30);
/// How long the business can download media a user sent it.
pub const INBOUND_LIFETIME: Duration = Duration::days(7);
/// How long a URL from `GET /{media-id}` can be downloaded.
pub const URL_LIFETIME: Duration = Duration::minutes(5);
/// How long the simulator waits for a link's server, body included.
pub const FETCH_TIMEOUT: StdDuration = StdDuration::from_secs(20);

/// Who may reach a file through the Graph API, until when.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct Access {
    pub phone_number_id: String,
    pub until: DateTime<Utc>,
    /// Sent by a user. Meta refuses any `phone_number_id` for such media: the uploader
    /// was the user's phone, not a business number.
    pub from_user: bool,
}

/// A file and what is known of it. Saved state keeps the bytes apart (`persist` writes
/// each file once), so they are not in its JSON.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct StoredMedia {
    /// Empty when the file was too large to keep ([`StoredMedia::too_large`]).
    #[serde(skip)]
    pub bytes: Bytes,
    pub mime: String,
    /// Hex SHA-256 of the bytes.
    pub sha256: String,
    pub size: u64,
    pub filename: Option<String>,
    pub access: Option<Access>,
    /// A phone's chat shows it, so its bytes stay.
    pub shown: bool,
    /// Kept at least until then, even when nothing reaches or shows it.
    pub keep_until: DateTime<Utc>,
    /// wa_id of the phone that staged it through the control API.
    pub staged_by: Option<String>,
    /// A phone's file over [`parley_types::media::MAX_MEDIA_BYTES`]: only its size is kept.
    pub too_large: bool,
}

impl StoredMedia {
    pub fn new(bytes: Bytes, mime: &str, filename: Option<String>, now: DateTime<Utc>) -> Self {
        let sha256 = hex::encode(Sha256::digest(&bytes));
        Self {
            size: bytes.len() as u64,
            bytes,
            mime: mime.to_owned(),
            sha256,
            filename,
            access: None,
            shown: false,
            keep_until: now,
            staged_by: None,
            too_large: false,
        }
    }

    /// Reachable through the Graph API at `now`.
    pub fn reachable(&self, now: DateTime<Utc>) -> Option<&Access> {
        self.access.as_ref().filter(|a| now < a.until)
    }
}

/// How often, in simulator time, files nothing needs any more are dropped.
const SWEEP_EVERY: Duration = Duration::hours(1);

#[derive(Debug, Default, serde::Serialize, serde::Deserialize)]
#[serde(default)]
pub struct MediaStore {
    items: HashMap<String, StoredMedia>,
    /// (sha256, mime) → id of a file downloaded for a send by link: a campaign that sends
    /// one link to many users keeps the file once.
    #[serde(with = "crate::saved::entries")]
    downloaded: HashMap<(String, String), String>,
    last_sweep: Option<DateTime<Utc>>,
}

impl MediaStore {
    /// Keeps `media` under a fresh numeric id (Meta's ids are numbers), now and then
    /// dropping the files nothing reaches, shows or keeps any more.
    pub fn insert(&mut self, media: StoredMedia, now: DateTime<Utc>) -> String {
        if self.last_sweep.is_none_or(|last| now - last >= SWEEP_EVERY) {
            self.last_sweep = Some(now);
            self.items.retain(|_, m| {
                m.shown || m.keep_until > now || m.access.as_ref().is_some_and(|a| a.until > now)
            });
        }
        let mut rng = rand::rng();
        let id = loop {
            let id = rng.random_range(1_000_000_000_000_000u64..10_000_000_000_000_000);
            let id = id.to_string();
            if !self.items.contains_key(&id) {
                break id;
            }
        };
        self.items.insert(id.clone(), media);
        id
    }

    /// Keeps a file downloaded for a send by link (shown, never reachable through the
    /// Graph API), or finds the same file kept before.
    pub fn insert_downloaded(&mut self, media: StoredMedia, now: DateTime<Utc>) -> String {
        let key = (media.sha256.clone(), media.mime.clone());
        if let Some(id) = self.downloaded.get(&key) {
            return id.clone();
        }
        let id = self.insert(media, now);
        self.downloaded.insert(key, id.clone());
        id
    }

    /// Every file's id and bytes (for saving).
    pub fn files(&self) -> impl Iterator<Item = (&String, &Bytes)> {
        self.items.iter().map(|(id, m)| (id, &m.bytes))
    }

    /// Gives a restored file its bytes back; `false` if no file has that id.
    pub fn restore_bytes(&mut self, id: &str, bytes: Bytes) -> bool {
        match self.items.get_mut(id) {
            Some(media) => {
                media.bytes = bytes;
                true
            }
            None => false,
        }
    }

    pub fn get(&self, id: &str) -> Option<&StoredMedia> {
        self.items.get(id)
    }

    pub fn get_mut(&mut self, id: &str) -> Option<&mut StoredMedia> {
        self.items.get_mut(id)
    }

    /// Media `phone_number_id` uploaded, still alive, of a type `kind` messages take:
    /// what a send by id may use; otherwise why not (131053's details).
    pub fn sendable(
        &self,
        id: &str,
        phone_number_id: &str,
        kind: MediaKind,
        now: DateTime<Utc>,
    ) -> Result<(), String> {
        let media = self
            .get(id)
            .filter(|m| m.reachable(now).is_some())
            .ok_or_else(|| format!("media id {id} does not exist, was deleted or expired"))?;
        let access = media.access.as_ref().expect("reachable");
        if access.from_user || access.phone_number_id != phone_number_id {
            return Err(format!(
                "media id {id} was not uploaded by this business phone number"
            ));
        }
        match by_mime(&media.mime) {
            Some(t) if fits(t, kind) => Ok(()),
            _ => Err(format!(
                "media id {id} is {}, which {} messages do not take",
                media.mime,
                kind.as_str()
            )),
        }
    }
}

/// `kind` messages take files of type `t`.
fn fits(t: &MediaType, kind: MediaKind) -> bool {
    t.kind == kind
}

/// The largest file of any type `kind` messages take.
pub fn kind_limit(kind: MediaKind) -> u64 {
    MEDIA_TYPES
        .iter()
        .filter(|t| t.kind == kind)
        .map(|t| t.max_bytes)
        .max()
        .unwrap_or(0)
}

pub fn kind_of(name: &str) -> Option<MediaKind> {
    Some(match name {
        "image" => MediaKind::Image,
        "video" => MediaKind::Video,
        "audio" => MediaKind::Audio,
        "document" => MediaKind::Document,
        "sticker" => MediaKind::Sticker,
        _ => return None,
    })
}

/// Checks a file declared as `declared` like Meta checks an upload: an accepted type (one
/// `kind` messages take, when given), content that is that type, within its size. The
/// type the content turned out to be (for WebP, static or animated), or why not.
pub fn check(
    declared: &str,
    bytes: &[u8],
    name: Option<&str>,
    kind: Option<MediaKind>,
) -> Result<&'static MediaType, String> {
    let declared_type = by_mime(declared)
        .ok_or_else(|| format!("media type {declared} is not supported by WhatsApp"))?;
    if let Some(kind) = kind
        && !fits(declared_type, kind)
    {
        return Err(format!(
            "media type {declared} is not supported for {} messages",
            kind.as_str()
        ));
    }
    if bytes.is_empty() {
        return Err("the file is empty".into());
    }
    let head = &bytes[..bytes.len().min(SNIFF_BYTES)];
    let actual = sniff(head, name).ok_or_else(|| {
        format!("the file's content is not {declared}, nor any type WhatsApp accepts")
    })?;
    if actual.mime != declared_type.mime {
        return Err(format!(
            "the file's content is {}, not the declared {declared}",
            actual.mime
        ));
    }
    let size = bytes.len() as u64;
    if size > actual.max_bytes {
        return Err(too_large(size, actual));
    }
    Ok(actual)
}

pub fn too_large(size: u64, t: &MediaType) -> String {
    format!(
        "the file is {size} bytes; {} files may be at most {} bytes",
        t.mime, t.max_bytes
    )
}

/// The last path segment of a URL, which may name the file.
pub fn url_file_name(url: &str) -> Option<&str> {
    let path = url.split(['?', '#']).next()?;
    let path = path.split_once("://").map_or(path, |(_, rest)| rest);
    path.split_once('/')
        .and_then(|(_, p)| p.rsplit('/').next())
        .filter(|n| !n.is_empty())
}

/// A body read up to a limit.
#[derive(Debug)]
pub struct Received {
    /// All of it, or only its first [`SNIFF_BYTES`] when it was over the limit.
    pub bytes: Bytes,
    pub size: u64,
    pub over: bool,
}

/// Reads a multipart part, keeping at most `limit` bytes; past the limit the rest is read
/// and counted, not kept, so the client gets its answer instead of a reset connection.
pub async fn read_field(field: &mut Field<'_>, limit: u64) -> Result<Received, MultipartError> {
    let mut buffer = BytesMut::new();
    let mut size = 0u64;
    while let Some(chunk) = field.chunk().await? {
        size += chunk.len() as u64;
        if size <= limit {
            buffer.extend_from_slice(&chunk);
        } else if buffer.len() > SNIFF_BYTES {
            buffer.truncate(SNIFF_BYTES);
        } else if buffer.len() < SNIFF_BYTES {
            let room = SNIFF_BYTES - buffer.len();
            buffer.extend_from_slice(&chunk[..chunk.len().min(room)]);
        }
    }
    Ok(Received {
        bytes: buffer.freeze(),
        size,
        over: size > limit,
    })
}

/// A file downloaded from a link.
#[derive(Debug)]
pub struct Fetched {
    pub bytes: Bytes,
    pub content_type: Option<String>,
}

#[derive(Debug)]
pub enum FetchError {
    /// Not downloaded; the details say why, in Meta's words where known.
    Failed(String),
    /// Larger than the limit; the size known so far (the declared length, or what was
    /// read before reading stopped).
    TooLarge(u64),
}

/// Downloads `url`, giving up past `limit` bytes without reading the rest.
pub async fn fetch(http: &reqwest::Client, url: &str, limit: u64) -> Result<Fetched, FetchError> {
    let parsed = reqwest::Url::parse(url)
        .ok()
        .filter(|u| matches!(u.scheme(), "http" | "https"))
        .ok_or_else(|| FetchError::Failed(format!("{url:?} is not an http(s) URL")))?;
    let failed = |e: reqwest::Error| {
        FetchError::Failed(format!(
            "Downloading media from weblink failed: {}",
            without_url(e)
        ))
    };
    let mut response = http
        .get(parsed)
        .timeout(FETCH_TIMEOUT)
        .send()
        .await
        .map_err(failed)?;
    let status = response.status();
    if !status.is_success() {
        return Err(FetchError::Failed(format!(
            "Downloading media from weblink failed with http code {}, status message {}",
            status.as_u16(),
            status.canonical_reason().unwrap_or("")
        )));
    }
    if let Some(length) = response.content_length()
        && length > limit
    {
        return Err(FetchError::TooLarge(length));
    }
    let content_type = response
        .headers()
        .get(reqwest::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let mut buffer = BytesMut::new();
    while let Some(chunk) = response.chunk().await.map_err(failed)? {
        buffer.extend_from_slice(&chunk);
        if buffer.len() as u64 > limit {
            return Err(FetchError::TooLarge(buffer.len() as u64));
        }
    }
    Ok(Fetched {
        bytes: buffer.freeze(),
        content_type,
    })
}

/// reqwest's message repeats the URL, which the caller already knows.
fn without_url(e: reqwest::Error) -> String {
    let kind = if e.is_timeout() {
        "timed out"
    } else if e.is_connect() {
        "could not connect"
    } else {
        "request failed"
    };
    let mut source = std::error::Error::source(&e);
    let mut last = None;
    while let Some(s) = source {
        last = Some(s.to_string());
        source = s.source();
    }
    match last {
        Some(cause) => format!("{kind} ({cause})"),
        None => kind.to_owned(),
    }
}

/// The `hash` of a media URL: it binds the media id to the expiry, so neither can be
/// changed, and only the simulator that issued it can make one.
pub fn url_hash(key: &[u8], mid: &str, ext: i64) -> String {
    let mut hasher = Sha256::new();
    hasher.update(key);
    hasher.update(mid.as_bytes());
    hasher.update(b":");
    hasher.update(ext.to_string().as_bytes());
    hex::encode(&hasher.finalize()[..20])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_file_must_be_what_it_is_declared_and_fit_the_kind() {
        let jpeg = [0xFF, 0xD8, 0xFF, 0xE0, 0, 0x10, b'J', b'F', b'I', b'F', 0];
        assert_eq!(
            check("image/jpeg", &jpeg, None, None).unwrap().mime,
            "image/jpeg"
        );
        assert!(
            check("image/png", &jpeg, None, None)
                .unwrap_err()
                .contains("image/jpeg")
        );
        assert!(check("image/jpeg", &jpeg, None, Some(MediaKind::Video)).is_err());
        assert!(check("text/html", b"<html></html>", None, None).is_err());
        assert!(check("text/plain", b"", None, None).is_err());
    }

    #[test]
    fn files_nothing_needs_are_dropped_at_the_next_sweep_and_shown_ones_stay() {
        let t0 = DateTime::<Utc>::UNIX_EPOCH;
        let mut store = MediaStore::default();
        let file = |shown| StoredMedia {
            shown,
            ..StoredMedia::new(Bytes::from_static(b"x"), "text/plain", None, t0)
        };
        let dropped = store.insert(file(false), t0);
        let kept = store.insert(file(true), t0);
        store.insert(file(false), t0 + SWEEP_EVERY);
        assert!(store.get(&dropped).is_none());
        assert!(store.get(&kept).is_some());
        let again = store.insert_downloaded(file(true), t0);
        assert_eq!(store.insert_downloaded(file(true), t0), again, "kept once");
    }

    #[test]
    fn kinds_take_up_to_their_largest_type() {
        assert_eq!(kind_limit(MediaKind::Image), 5 * 1024 * 1024);
        assert_eq!(kind_limit(MediaKind::Sticker), 500 * 1024);
        assert_eq!(kind_limit(MediaKind::Document), 100 * 1024 * 1024);
    }

    #[test]
    fn a_url_names_its_file_by_its_last_segment() {
        assert_eq!(
            url_file_name("http://h/a/b/report.xlsx?x=1"),
            Some("report.xlsx")
        );
        assert_eq!(url_file_name("http://h/"), None);
        assert_eq!(url_file_name("http://h"), None);
    }

    #[test]
    fn a_url_hash_binds_the_media_and_the_expiry() {
        let hash = url_hash(b"k", "1", 10);
        assert_eq!(hash, url_hash(b"k", "1", 10));
        assert_ne!(hash, url_hash(b"k", "1", 11));
        assert_ne!(hash, url_hash(b"k", "2", 10));
        assert_ne!(hash, url_hash(b"j", "1", 10));
    }
}
