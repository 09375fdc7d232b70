//! The message log: Parley's log query (`GET /api/v1/accounts/{id}/messages`, for the
//! console and support) and 8x8's log export jobs with their download links.

use axum::Json;
use axum::Router;
use axum::body::Body;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::http::header::{CACHE_CONTROL, CONTENT_DISPOSITION, CONTENT_LENGTH, CONTENT_TYPE};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use parley_core::logs::LogParams;
use parley_types::codes::SyncCode;
use serde_json::{Value, json};

use crate::auth::Caller;
use crate::extract::{JsonBody, MessagePath};
use crate::webhooks::account;
use crate::{ApiError, AppState, dto};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/accounts/{accountId}/messages", get(query))
        .route(
            "/api/v1/accounts/{accountId}/settings",
            get(settings).patch(update_settings),
        )
        .route(
            "/api/v1/subaccounts/{subAccountId}/messages/exports",
            post(start_export),
        )
        .route(
            "/api/v1/subaccounts/{subAccountId}/messages/exports/{jobId}",
            get(export_status).delete(cancel_export),
        )
        .route(
            "/api/v1/subaccounts/{subAccountId}/messages/download/{token}",
            get(download),
        )
}

/// The message log, newest first, filtered; `nextCursor` continues it. Not an 8x8
/// endpoint (8x8 has the log only in its portal).
#[utoipa::path(get, path = "/api/v1/accounts/{accountId}/messages", tag = "Logs",
    params(("accountId" = String, Path), ("subAccountId" = Option<String>, Query), ("channel" = Option<String>, Query),
           ("direction" = Option<String>, Query), ("status" = Option<String>, Query), ("country" = Option<String>, Query),
           ("umid" = Option<String>, Query), ("clientMessageId" = Option<String>, Query), ("recipient" = Option<String>, Query),
           ("from" = Option<String>, Query), ("to" = Option<String>, Query), ("pageSize" = Option<u32>, Query),
           ("cursor" = Option<String>, Query)),
    responses((status = 200, description = "`{data: [message-details records], nextCursor?}`")))]
pub async fn query(
    State(state): State<AppState>,
    Caller(caller): Caller,
    Path(path): Path<String>,
    params: Result<Query<LogParams>, QueryRejection>,
) -> Result<Json<Value>, ApiError> {
    let account = account(&path, &caller.account_id)?;
    let Query(params) = params.map_err(|e| {
        ApiError::new(
            SyncCode::InvalidParameter,
            format!("Invalid parameter(s): {}", e.body_text()),
        )
    })?;
    let page = state.logs.page(&account, &params).await?;
    let mut body = dto::records(&page.messages);
    if let Some(cursor) = page.next_cursor {
        body["nextCursor"] = json!(cursor);
    }
    Ok(Json(body))
}

/// The account's settings: whether log exports show numbers and content in the clear.
#[utoipa::path(get, path = "/api/v1/accounts/{accountId}/settings", tag = "Logs",
    params(("accountId" = String, Path)), responses((status = 200, description = "`{logExportsUnmasked}`")))]
pub async fn settings(
    State(state): State<AppState>,
    Caller(caller): Caller,
    Path(path): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let account = account(&path, &caller.account_id)?;
    let unmasked = state
        .store
        .logs_unmasked(&account)
        .await
        .map_err(parley_core::Error::from)?;
    Ok(Json(json!({ "logExportsUnmasked": unmasked })))
}

#[utoipa::path(patch, path = "/api/v1/accounts/{accountId}/settings", tag = "Logs",
    params(("accountId" = String, Path)), request_body(content = Object, content_type = "application/json"),
    responses((status = 200, description = "`{logExportsUnmasked}`")))]
pub async fn update_settings(
    State(state): State<AppState>,
    Caller(caller): Caller,
    Path(path): Path<String>,
    JsonBody(body): JsonBody,
) -> Result<Json<Value>, ApiError> {
    let account = account(&path, &caller.account_id)?;
    let unmasked = body
        .get("logExportsUnmasked")
        .and_then(Value::as_bool)
        .ok_or_else(|| {
            ApiError::new(
                SyncCode::InvalidParameter,
                "Invalid parameter(s): 'logExportsUnmasked' must be true or false",
            )
        })?;
    state
        .store
        .set_logs_unmasked(&account, unmasked)
        .await
        .map_err(parley_core::Error::from)?;
    Ok(Json(json!({ "logExportsUnmasked": unmasked })))
}

/// Start log export job (`start-log-export-job-1`).
#[utoipa::path(post, path = "/api/v1/subaccounts/{subAccountId}/messages/exports", tag = "Reporting API",
    params(("subAccountId" = String, Path)), request_body(content = Object, content_type = "application/json"),
    responses((status = 202, description = "`{jobId}`")))]
pub async fn start_export(
    State(state): State<AppState>,
    Caller(caller): Caller,
    path: MessagePath,
    body: axum::body::Bytes,
) -> Result<Response, ApiError> {
    state
        .messages
        .channel_of(&caller.account_id, &path.sub_account_id)
        .await?;
    // The body is optional: no body means the defaults (the last 7 days, no limit).
    let body: Value = if body.iter().all(u8::is_ascii_whitespace) {
        Value::Null
    } else {
        serde_json::from_slice(&body).map_err(|e| {
            ApiError::new(
                SyncCode::InvalidParameter,
                format!("Invalid parameter(s): the request body is not valid JSON ({e})"),
            )
        })?
    };
    let job = state
        .exports
        .start(&caller.account_id, &path.sub_account_id, &body)
        .await?;
    state.export_wake.notify_one();
    Ok((StatusCode::ACCEPTED, Json(json!({ "jobId": job.id }))).into_response())
}

/// Get log export job result (`get-log-export-job-result-1`).
#[utoipa::path(get, path = "/api/v1/subaccounts/{subAccountId}/messages/exports/{jobId}", tag = "Reporting API",
    params(("subAccountId" = String, Path), ("jobId" = String, Path)),
    responses((status = 200, description = "`{status, data?, expires?}`"), (status = 404, description = "code 4018")))]
pub async fn export_status(
    State(state): State<AppState>,
    Caller(caller): Caller,
    path: MessagePath,
) -> Result<Json<Value>, ApiError> {
    state
        .messages
        .channel_of(&caller.account_id, &path.sub_account_id)
        .await?;
    let job = state
        .exports
        .job(&path.sub_account_id, path.job_id.as_deref().unwrap_or(""))
        .await?;
    Ok(Json(state.exports.status_body(&job)))
}

/// Cancel the log export job (`cancel-log-export-job-1`).
#[utoipa::path(delete, path = "/api/v1/subaccounts/{subAccountId}/messages/exports/{jobId}", tag = "Reporting API",
    params(("subAccountId" = String, Path), ("jobId" = String, Path)),
    responses((status = 204, description = "cancelled"), (status = 404, description = "code 4018")))]
pub async fn cancel_export(
    State(state): State<AppState>,
    Caller(caller): Caller,
    path: MessagePath,
) -> Result<StatusCode, ApiError> {
    state
        .messages
        .channel_of(&caller.account_id, &path.sub_account_id)
        .await?;
    state
        .exports
        .cancel(&path.sub_account_id, path.job_id.as_deref().unwrap_or(""))
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// A finished export's file (the link in its status). The token is the credential.
#[utoipa::path(get, path = "/api/v1/subaccounts/{subAccountId}/messages/download/{token}", tag = "Reporting API",
    params(("subAccountId" = String, Path), ("token" = String, Path)),
    responses((status = 200, description = "the gzip CSV"), (status = 404, description = "code 4018")))]
pub async fn download(
    State(state): State<AppState>,
    path: MessagePath,
) -> Result<Response, ApiError> {
    let file = state
        .exports
        .download(&path.sub_account_id, path.token.as_deref().unwrap_or(""))
        .await?;
    Response::builder()
        .header(CONTENT_TYPE, "application/gzip")
        .header(CONTENT_LENGTH, file.size)
        .header(
            CONTENT_DISPOSITION,
            format!(
                "attachment; filename=\"messages-{}.csv.gz\"",
                path.sub_account_id
            ),
        )
        .header(CACHE_CONTROL, "no-store")
        .body(Body::from_stream(file.body))
        .map_err(|e| ApiError::internal_failure("building a log export download response", e))
}
