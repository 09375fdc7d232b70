//! The files API: `POST /api/v1/subaccounts/{id}/files` (multipart, part `file`) stores a
//! file for use in messages; `GET /files/{fileName}?token=…` serves it, with ranges. The
//! token is the only credential of a download, so every failure there answers the same
//! 404 (code 4018).

use axum::Router;
use axum::body::Body;
use axum::extract::{DefaultBodyLimit, Multipart, Path, Query, State};
use axum::http::header::{
    ACCEPT_RANGES, CACHE_CONTROL, CONTENT_LENGTH, CONTENT_RANGE, CONTENT_TYPE, LOCATION, RANGE,
};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use futures::TryStreamExt;
use parley_types::codes::SyncCode;
use serde::Deserialize;
use serde_json::json;

use crate::auth::Caller;
use crate::extract::MessagePath;
use crate::{ApiError, AppState};

/// Uploads are limited by type while they stream (100 MB at most, a document); this only
/// stops a body that is far past any of them.
const MAX_UPLOAD_BODY: usize = 101 * 1024 * 1024;

pub fn api_router() -> Router<AppState> {
    Router::new().route(
        "/api/v1/subaccounts/{subAccountId}/files",
        post(upload).layer(DefaultBodyLimit::max(MAX_UPLOAD_BODY)),
    )
}

/// `/files/…` sits at the root, outside the API's JSON body limits and key checks.
pub fn download_router() -> Router<AppState> {
    Router::new().route("/files/{fileName}", get(download))
}

fn missing_file() -> ApiError {
    ApiError::new(
        SyncCode::InvalidParameter,
        "Invalid parameter(s): a multipart/form-data body with a part named 'file' is required",
    )
}

/// Upload file (`Upload-File`).
#[utoipa::path(post, path = "/api/v1/subaccounts/{subAccountId}/files", tag = "File Upload API",
    params(("subAccountId" = String, Path)),
    request_body(content = Object, content_type = "multipart/form-data"),
    responses((status = 201, description = "`{fileName, token}`, `Location: /files/{fileName}?token=…`"),
              (status = 400, description = "no part named file"),
              (status = 413, description = "code 7001: over WhatsApp's limit for the type"),
              (status = 415, description = "a type WhatsApp does not take")))]
pub async fn upload(
    State(state): State<AppState>,
    Caller(caller): Caller,
    path: MessagePath,
    multipart: Result<Multipart, axum::extract::multipart::MultipartRejection>,
) -> Result<Response, ApiError> {
    let sub = path.sub_account_id;
    state.messages.channel_of(&caller.account_id, &sub).await?;
    let mut multipart = multipart.map_err(|_| missing_file())?;
    loop {
        let field = multipart
            .next_field()
            .await
            .map_err(|e| {
                ApiError::new(
                    SyncCode::InvalidParameter,
                    format!("Invalid parameter(s): {e}"),
                )
            })?
            .ok_or_else(missing_file)?;
        if field.name() != Some("file") {
            continue;
        }
        let original = field.file_name().map(str::to_owned);
        let body = field.map_err(|e| e.body_text());
        let uploaded = state
            .files
            .upload(
                &caller.account_id,
                &sub,
                original.as_deref(),
                Box::pin(body),
            )
            .await?;
        let body = json!({ "fileName": uploaded.file_name, "token": uploaded.token });
        return Ok((
            StatusCode::CREATED,
            [
                (LOCATION, uploaded.path()),
                (CACHE_CONTROL, "no-store,no-cache".to_owned()),
            ],
            axum::Json(body),
        )
            .into_response());
    }
}

#[derive(Deserialize)]
pub struct TokenQuery {
    token: Option<String>,
}

/// Download file (`Download-File`). Parley serves the bytes itself (8x8 redirects to its
/// storage); see `docs/decisions.md`.
#[utoipa::path(get, path = "/files/{fileName}", tag = "File Upload API",
    params(("fileName" = String, Path), ("token" = String, Query)),
    responses((status = 200, description = "the file"), (status = 206, description = "the range asked for"),
              (status = 404, description = "code 4018: no such file, a wrong token or expired"),
              (status = 416, description = "a range outside the file")))]
pub async fn download(
    State(state): State<AppState>,
    Path(file_name): Path<String>,
    Query(query): Query<TokenQuery>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let file = state.files.find(&file_name, query.token.as_deref()).await?;
    let range = match requested_range(&headers, file.size) {
        Ok(range) => range,
        Err(()) => {
            return Ok((
                StatusCode::RANGE_NOT_SATISFIABLE,
                [(CONTENT_RANGE, format!("bytes */{}", file.size))],
            )
                .into_response());
        }
    };
    let content = state.files.read(&file, range.clone()).await?;
    let length = content.range.end - content.range.start;
    let mut response = Response::builder()
        .header(CONTENT_TYPE, &file.mime)
        .header(CONTENT_LENGTH, length)
        .header(ACCEPT_RANGES, "bytes")
        .header(CACHE_CONTROL, "private, max-age=3600");
    response = match range {
        Some(r) => response.status(StatusCode::PARTIAL_CONTENT).header(
            CONTENT_RANGE,
            format!("bytes {}-{}/{}", r.start, r.end - 1, content.size),
        ),
        None => response.status(StatusCode::OK),
    };
    let body = Body::from_stream(content.body);
    response
        .body(body)
        .map_err(|e| ApiError::internal_failure("building a file download response", e))
}

/// The one range of `Range: bytes=…` as a half-open interval; `Ok(None)` for no header or
/// several ranges (answered with the whole file, which HTTP allows); `Err` when it lies
/// outside the file.
fn requested_range(headers: &HeaderMap, size: u64) -> Result<Option<std::ops::Range<u64>>, ()> {
    let Some(raw) = headers.get(RANGE).and_then(|v| v.to_str().ok()) else {
        return Ok(None);
    };
    let parsed = http_range_header::parse_range_header(raw).map_err(|_| ())?;
    let ranges = parsed.validate(size).map_err(|_| ())?;
    match ranges.as_slice() {
        [one] => Ok(Some(*one.start()..*one.end() + 1)),
        _ => Ok(None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn range(raw: &str, size: u64) -> Result<Option<std::ops::Range<u64>>, ()> {
        let mut headers = HeaderMap::new();
        headers.insert(RANGE, HeaderValue::from_str(raw).unwrap());
        requested_range(&headers, size)
    }

    #[test]
    fn ranges_are_read_as_http_defines_them() {
        assert_eq!(range("bytes=0-9", 100), Ok(Some(0..10)));
        assert_eq!(range("bytes=90-", 100), Ok(Some(90..100)));
        assert_eq!(range("bytes=-5", 100), Ok(Some(95..100)));
        assert_eq!(range("bytes=0-1,5-6", 100), Ok(None));
        assert_eq!(range("bytes=100-", 100), Err(()));
        assert_eq!(range("lines=1-2", 100), Err(()));
        assert_eq!(requested_range(&HeaderMap::new(), 100), Ok(None));
    }
}
