//! Meta's media endpoints (`reference/meta-cloud-api.md` §3): upload
//! (`POST /graph/{version}/{phone-number-id}/media`), the media URL
//! (`GET /graph/{version}/{media-id}`), the download behind it, and delete; plus the control
//! API's side: a phone stages a file to send (`POST /api/phones/{msisdn}/media`) and the
//! console shows any file (`GET /api/media/{id}`).

use axum::extract::multipart::{MultipartError, MultipartRejection};
use axum::extract::rejection::QueryRejection;
use axum::extract::{DefaultBodyLimit, Multipart, OriginalUri, Path, Query, State};
use axum::http::{HeaderMap, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use bytes::Bytes;
use parley_types::Clock;
use parley_types::media::{MAX_MEDIA_BYTES, MediaKind, SNIFF_BYTES, by_mime, sniff};
use serde::Deserialize;
use serde_json::{Map, Value, json};

use crate::control::{Answer, ControlError};
use crate::graph::{GraphFailure, authorise, fail, invalid, missing};
use crate::media::{
    Access, FetchError, StoredMedia, UPLOAD_LIFETIME, URL_LIFETIME, check, fetch, kind_limit,
    read_field, too_large, url_file_name, url_hash,
};
use crate::state::{Failure, State as SimState};
use crate::{Inner, Simulator};

/// The most an upload request may carry: the largest file plus room for the form.
const UPLOAD_BODY_LIMIT: usize = MAX_MEDIA_BYTES as usize + 1024 * 1024;

/// Where media URLs point, below the simulator's mount (Meta's is
/// `https://lookaside.fbsbx.com/whatsapp_business/attachments/`).
const ATTACHMENTS: &str = "/graph/whatsapp_business/attachments/";

pub fn graph_router() -> Router<Simulator> {
    Router::new()
        .route(
            "/graph/{version}/{node}/media",
            post(upload).layer(DefaultBodyLimit::max(UPLOAD_BODY_LIMIT)),
        )
        .route("/graph/{version}/{node}", get(retrieve).delete(remove))
        .route(ATTACHMENTS, get(download))
}

pub fn control_router() -> Router<Simulator> {
    Router::new()
        .route(
            "/api/phones/{msisdn}/media",
            // A phone may send more than WhatsApp passes on; the excess is counted, not kept.
            post(phone_upload).layer(DefaultBodyLimit::disable()),
        )
        .route("/api/media/{id}", get(media_bytes))
}

/// 131053, what Meta answers (or reports) for media it will not take.
pub(crate) fn upload_failure(details: impl Into<String>) -> Failure {
    Failure {
        code: 131053,
        title: "Media upload error".into(),
        details: details.into(),
    }
}

fn upload_error(details: impl Into<String>) -> GraphFailure {
    let f = upload_failure(details);
    fail(StatusCode::BAD_REQUEST, f.code, f.title, f.details)
}

fn form_error(e: MultipartError) -> GraphFailure {
    if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
        upload_error(format!(
            "the file is over {MAX_MEDIA_BYTES} bytes, more than WhatsApp takes of any type"
        ))
    } else {
        invalid(format!(
            "the multipart body could not be read: {}",
            e.body_text()
        ))
    }
}

/// What the simulator is mounted under (`/sim` in Parley, nothing in tests): the start of
/// the path the client asked for that the router did not see.
fn mount(original: &Uri, seen: &Uri) -> String {
    original
        .path()
        .strip_suffix(seen.path())
        .unwrap_or("")
        .to_owned()
}

/// `scheme://host/mount` as the client reached the simulator.
fn base_url(headers: &HeaderMap, original: &Uri, seen: &Uri) -> String {
    let host = headers
        .get(header::HOST)
        .and_then(|v| v.to_str().ok())
        .or_else(|| original.authority().map(|a| a.as_str()))
        .unwrap_or("localhost");
    let scheme = headers
        .get("x-forwarded-proto")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("http");
    format!("{scheme}://{host}{}", mount(original, seen))
}

#[utoipa::path(post, path = "/sim/graph/{version}/{phone_number_id}/media", tag = "Simulator: Graph API",
    params(("version" = String, Path), ("phone_number_id" = String, Path)),
    request_body(content = Object, content_type = "multipart/form-data", description = "messaging_product=whatsapp, file (its part's Content-Type is the declared type), optional type"),
    responses((status = 200, description = "{\"id\": media id}"), (status = 400, description = "Graph error object: 131053 for a file WhatsApp does not take")))]
pub(crate) async fn upload(
    State(sim): State<Simulator>,
    Path((_version, phone_number_id)): Path<(String, String)>,
    headers: HeaderMap,
    form: Result<Multipart, MultipartRejection>,
) -> Result<Json<Value>, GraphFailure> {
    authorise(&sim, &headers)?;
    if sim.inner.state().business(&phone_number_id).is_none() {
        return Err(invalid(format!(
            "Unsupported post request. Object with ID '{phone_number_id}' does not exist"
        )));
    }
    let mut form =
        form.map_err(|e| invalid(format!("the body must be multipart/form-data: {e}")))?;
    let (mut product, mut declared, mut file) = (None, None, None);
    while let Some(mut field) = form.next_field().await.map_err(form_error)? {
        match field.name().unwrap_or("") {
            "messaging_product" => product = Some(field.text().await.map_err(form_error)?),
            "type" => declared = Some(field.text().await.map_err(form_error)?),
            "file" => {
                let part_type = field.content_type().map(str::to_owned);
                let name = field.file_name().map(str::to_owned);
                let received = read_field(&mut field, MAX_MEDIA_BYTES)
                    .await
                    .map_err(form_error)?;
                file = Some((part_type, name, received));
            }
            // `ttl_minutes` and anything else: not used by the simulator.
            _ => {}
        }
    }
    if product.as_deref().map(str::trim) != Some("whatsapp") {
        return Err(invalid("messaging_product must be \"whatsapp\""));
    }
    let required = |what: &str| {
        fail(
            StatusCode::BAD_REQUEST,
            131008,
            "Required parameter is missing",
            format!("{what} is required"),
        )
    };
    let Some((part_type, name, received)) = file else {
        return Err(required("file"));
    };
    let declared = declared
        .or(part_type)
        .map(|t| t.trim().to_owned())
        .filter(|t| !t.is_empty() && !t.eq_ignore_ascii_case("application/octet-stream"))
        .ok_or_else(|| required("type (or the file part's Content-Type)"))?;
    if received.over {
        return Err(upload_error(match by_mime(&declared) {
            Some(t) => too_large(received.size, t),
            None => format!("the file is over {MAX_MEDIA_BYTES} bytes"),
        }));
    }
    let actual = check(&declared, &received.bytes, name.as_deref(), None).map_err(upload_error)?;
    let now = sim.inner.clock.now();
    let mut media = StoredMedia::new(received.bytes, actual.mime, name, now);
    media.access = Some(Access {
        phone_number_id,
        until: now + UPLOAD_LIFETIME,
        from_user: false,
    });
    media.keep_until = now + UPLOAD_LIFETIME;
    let id = sim.inner.state().media.insert(media, now);
    Ok(Json(json!({ "id": id })))
}

#[derive(Debug, Deserialize)]
pub(crate) struct Owner {
    phone_number_id: Option<String>,
}

/// Media the Graph API still serves, checked against the optional `phone_number_id`.
fn reachable<'s>(
    state: &'s SimState,
    id: &str,
    owner: &Owner,
    verb: &str,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<&'s StoredMedia, GraphFailure> {
    let media = state
        .media
        .get(id)
        .filter(|m| m.reachable(now).is_some())
        .ok_or_else(|| missing(verb, id))?;
    let access = media.access.as_ref().expect("reachable");
    match owner.phone_number_id.as_deref() {
        // A user's phone uploaded what users send, so no business number matches it.
        Some(_) if access.from_user => Err(invalid(
            "Param phone_number_id is not a valid whatsapp business phone number id ID",
        )),
        Some(given) if given != access.phone_number_id => Err(invalid(format!(
            "Param phone_number_id {given} is not the business phone number that uploaded media {id}"
        ))),
        _ => Ok(media),
    }
}

#[utoipa::path(get, path = "/sim/graph/{version}/{media_id}", tag = "Simulator: Graph API",
    params(("version" = String, Path), ("media_id" = String, Path), ("phone_number_id" = Option<String>, Query)),
    responses((status = 200, description = "{messaging_product, url, mime_type, sha256, file_size, id}; the url expires after 5 minutes"), (status = 400, description = "Graph error object, code 100")))]
pub(crate) async fn retrieve(
    State(sim): State<Simulator>,
    Path((_version, id)): Path<(String, String)>,
    Query(owner): Query<Owner>,
    OriginalUri(original): OriginalUri,
    seen: Uri,
    headers: HeaderMap,
) -> Result<Json<Value>, GraphFailure> {
    authorise(&sim, &headers)?;
    let now = sim.inner.clock.now();
    let state = sim.inner.state();
    let media = reachable(&state, &id, &owner, "get", now)?;
    let ext = (now + URL_LIFETIME).timestamp();
    let hash = url_hash(&sim.inner.media_key, &id, ext);
    let url = format!(
        "{}{ATTACHMENTS}?mid={id}&ext={ext}&hash={hash}",
        base_url(&headers, &original, &seen)
    );
    Ok(Json(json!({
        "messaging_product": "whatsapp",
        "url": url,
        "mime_type": media.mime,
        "sha256": media.sha256,
        "file_size": media.size.to_string(),
        "id": id,
    })))
}

#[utoipa::path(delete, path = "/sim/graph/{version}/{media_id}", tag = "Simulator: Graph API",
    params(("version" = String, Path), ("media_id" = String, Path), ("phone_number_id" = Option<String>, Query)),
    responses((status = 200, description = "{\"success\": true}"), (status = 400, description = "Graph error object, code 100")))]
pub(crate) async fn remove(
    State(sim): State<Simulator>,
    Path((_version, id)): Path<(String, String)>,
    Query(owner): Query<Owner>,
    headers: HeaderMap,
) -> Result<Json<Value>, GraphFailure> {
    authorise(&sim, &headers)?;
    let now = sim.inner.clock.now();
    let mut state = sim.inner.state();
    reachable(&state, &id, &owner, "delete", now)?;
    let media = state.media.get_mut(&id).expect("reachable");
    // Chats that show it keep their copy, as phones keep what they received.
    media.access = None;
    media.keep_until = now;
    Ok(Json(json!({ "success": true })))
}

#[derive(Debug, Deserialize)]
pub(crate) struct Attachment {
    mid: String,
    ext: i64,
    hash: String,
}

#[utoipa::path(get, path = "/sim/graph/whatsapp_business/attachments/", tag = "Simulator: Graph API",
    params(("mid" = String, Query), ("ext" = i64, Query), ("hash" = String, Query)),
    responses((status = 200, description = "the file, with its Content-Type"), (status = 401, description = "no or a wrong bearer token"), (status = 404, description = "the URL expired or the media is gone")))]
pub(crate) async fn download(
    State(sim): State<Simulator>,
    headers: HeaderMap,
    query: Result<Query<Attachment>, QueryRejection>,
) -> Result<Response, GraphFailure> {
    authorise(&sim, &headers)?;
    let gone = || StatusCode::NOT_FOUND.into_response();
    let Ok(Query(attachment)) = query else {
        return Ok(gone());
    };
    let now = sim.inner.clock.now();
    if attachment.hash != url_hash(&sim.inner.media_key, &attachment.mid, attachment.ext)
        || now.timestamp() >= attachment.ext
    {
        return Ok(gone());
    }
    let state = sim.inner.state();
    let Some(media) = state
        .media
        .get(&attachment.mid)
        .filter(|m| m.reachable(now).is_some())
    else {
        return Ok(gone());
    };
    Ok(file_response(media))
}

fn file_response(media: &StoredMedia) -> Response {
    (
        [(header::CONTENT_TYPE, media.mime.clone())],
        media.bytes.clone(),
    )
        .into_response()
}

/// Downloads the link of a business's send and checks it like an upload: a `Content-Type`
/// `kind` messages take, content of that type, within its size. The file to show, or the
/// 131053 the send fails with.
pub(crate) async fn fetch_for_send(
    inner: &Inner,
    link: &str,
    kind: MediaKind,
) -> Result<StoredMedia, Failure> {
    let limit = kind_limit(kind);
    let fetched = fetch(&inner.http, link, limit).await.map_err(|e| {
        upload_failure(match e {
            FetchError::Failed(details) => details,
            FetchError::TooLarge(size) => format!(
                "the file is {size} bytes or more; {} messages take at most {limit} bytes",
                kind.as_str()
            ),
        })
    })?;
    let declared = fetched
        .content_type
        .ok_or_else(|| upload_failure("the link was served without a Content-Type"))?;
    let name = url_file_name(link);
    let actual = check(&declared, &fetched.bytes, name, Some(kind)).map_err(upload_failure)?;
    let mut media = StoredMedia::new(
        fetched.bytes,
        actual.mime,
        name.map(str::to_owned),
        inner.clock.now(),
    );
    media.shown = true;
    Ok(media)
}

/// A phone's file, ready to send.
pub(crate) enum PhoneMedia {
    Ready(StoredMedia),
    /// Over what WhatsApp passes on: reaches the business as `unsupported` (131052).
    TooLarge {
        size: u64,
    },
}

/// The kind of file a phone's message of `kind` carries (`file` is a document).
pub(crate) fn phone_kind(kind: &str) -> Option<MediaKind> {
    match kind {
        "file" => Some(MediaKind::Document),
        other => crate::media::kind_of(other),
    }
}

fn text(content: &Map<String, Value>, key: &str) -> Option<String> {
    content.get(key).and_then(Value::as_str).map(str::to_owned)
}

fn bad(message: impl Into<String>) -> ControlError {
    ControlError(StatusCode::BAD_REQUEST, message.into())
}

/// The file a phone sends: `content.mediaId` from `POST /api/phones/{msisdn}/media`, or
/// `content.url`, downloaded here (outside any lock).
pub(crate) async fn phone_media(
    sim: &Simulator,
    wa_id: &str,
    kind: MediaKind,
    content: &Map<String, Value>,
) -> Result<PhoneMedia, ControlError> {
    let media = if let Some(id) = text(content, "mediaId") {
        let state = sim.inner.state();
        let media = state
            .media
            .get(&id)
            .filter(|m| m.staged_by.as_deref() == Some(wa_id))
            .ok_or_else(|| {
                ControlError(
                    StatusCode::NOT_FOUND,
                    format!("+{wa_id} has not uploaded media {id}"),
                )
            })?;
        if media.too_large {
            return Ok(PhoneMedia::TooLarge { size: media.size });
        }
        media.clone()
    } else if let Some(url) = text(content, "url") {
        let fetched = match fetch(&sim.inner.http, &url, MAX_MEDIA_BYTES).await {
            Ok(fetched) => fetched,
            Err(FetchError::TooLarge(size)) => return Ok(PhoneMedia::TooLarge { size }),
            Err(FetchError::Failed(details)) => {
                return Err(bad(format!(
                    "content.url could not be downloaded: {details}"
                )));
            }
        };
        let name = url_file_name(&url);
        let mime = mime_of(&fetched.bytes, name, fetched.content_type.as_deref());
        StoredMedia::new(
            fetched.bytes,
            &mime,
            name.map(str::to_owned),
            sim.inner.clock.now(),
        )
    } else {
        return Err(bad("content.url or content.mediaId is required"));
    };
    let sniffed = by_mime(&media.mime).map(|t| t.kind);
    if kind != MediaKind::Document && sniffed != Some(kind) {
        return Err(bad(format!(
            "the file is {}, not something a phone sends as {}",
            media.mime,
            kind.as_str()
        )));
    }
    Ok(PhoneMedia::Ready(media))
}

/// A phone's file's type: from its content; a document WhatsApp cannot tell keeps what
/// it was said to be.
fn mime_of(bytes: &[u8], name: Option<&str>, said: Option<&str>) -> String {
    match sniff(&bytes[..bytes.len().min(SNIFF_BYTES)], name) {
        Some(t) => t.mime.to_owned(),
        None => said
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .unwrap_or("application/octet-stream")
            .to_owned(),
    }
}

#[utoipa::path(post, path = "/sim/api/phones/{msisdn}/media", tag = "Simulator: control",
    params(("msisdn" = String, Path)),
    request_body(content = Object, content_type = "multipart/form-data", description = "part `file`"),
    responses((status = 200, description = "{id, mimeType, fileSize}: send it with content.mediaId"), (status = 400, description = "no file part")))]
pub(crate) async fn phone_upload(
    State(sim): State<Simulator>,
    Path(msisdn): Path<String>,
    form: Result<Multipart, MultipartRejection>,
) -> Answer {
    let wa_id = crate::control::wa_id(&msisdn)?;
    let mut form = form.map_err(|e| bad(format!("the body must be multipart/form-data: {e}")))?;
    let unreadable = |e: MultipartError| bad(format!("the multipart body could not be read: {e}"));
    let mut file = None;
    while let Some(mut field) = form.next_field().await.map_err(unreadable)? {
        if field.name() == Some("file") {
            let part_type = field.content_type().map(str::to_owned);
            let name = field.file_name().map(str::to_owned);
            let received = read_field(&mut field, MAX_MEDIA_BYTES)
                .await
                .map_err(unreadable)?;
            file = Some((part_type, name, received));
        }
    }
    let (part_type, name, received) = file.ok_or_else(|| bad("a part named file is required"))?;
    let mime = mime_of(&received.bytes, name.as_deref(), part_type.as_deref());
    let now = sim.inner.clock.now();
    let mut media = if received.over {
        // Only its size matters: WhatsApp will not pass it on.
        let mut media = StoredMedia::new(Bytes::new(), &mime, name, now);
        media.size = received.size;
        media.sha256.clear();
        media.too_large = true;
        media
    } else {
        StoredMedia::new(received.bytes, &mime, name, now)
    };
    media.staged_by = Some(wa_id);
    media.keep_until = now + UPLOAD_LIFETIME;
    let size = media.size;
    let id = sim.inner.state().media.insert(media, now);
    Ok(Json(
        json!({ "id": id, "mimeType": mime, "fileSize": size }),
    ))
}

#[utoipa::path(get, path = "/sim/api/media/{id}", tag = "Simulator: control",
    params(("id" = String, Path)),
    responses((status = 200, description = "the file, with its Content-Type"), (status = 404, description = "no such file")))]
pub(crate) async fn media_bytes(
    State(sim): State<Simulator>,
    Path(id): Path<String>,
) -> Result<Response, ControlError> {
    let state = sim.inner.state();
    state
        .media
        .get(&id)
        .filter(|m| !m.too_large)
        .map(file_response)
        .ok_or_else(|| ControlError(StatusCode::NOT_FOUND, format!("no media {id}")))
}

/// The control API's link to a bubble's file, below the simulator's mount.
pub(crate) fn media_link(original: &Uri, seen: &Uri, id: &str) -> String {
    format!("{}/api/media/{id}", mount(original, seen))
}
