//! `POST /api/v1/subaccounts/{subAccountId}/messages` and friends.

use axum::extract::rejection::QueryRejection;
use axum::extract::{DefaultBodyLimit, Query, State};
use axum::http::StatusCode;
use axum::routing::{delete, get, post};
use axum::{Json, Router};
use parley_types::codes::SyncCode;
use serde_json::{Value, json};

use crate::auth::Caller;
use crate::dto;
use crate::extract::{JsonBody, MessagePath};
use crate::{ApiError, AppState};

pub fn router() -> Router<AppState> {
    Router::new()
        .route(
            "/api/v1/subaccounts/{subAccountId}/messages",
            post(send).get(recent),
        )
        .route(
            "/api/v1/subaccounts/{subAccountId}/messages/{umid}",
            get(details).delete(cancel),
        )
        .route(
            "/api/v1/subaccounts/{subAccountId}/messages/batch",
            // The innermost limit wins over the 8x8 routes' 1 MB.
            post(send_batch).layer(DefaultBodyLimit::max(crate::MAX_BATCH_BODY)),
        )
        .route(
            "/api/v1/subaccounts/{subAccountId}/messages/batch/{batchId}",
            delete(cancel_batch),
        )
        .route(
            "/api/v1/subaccounts/{subAccountId}/messages/{umid}/read",
            post(mark_read),
        )
        .route("/api/v1/subaccounts/{subAccountId}/events", post(events))
        .route(
            "/api/v1/subaccounts/{subAccountId}/users/{msisdn}/window",
            get(window),
        )
}

/// Whether the user's 24-hour customer-service window with the subaccount's number is
/// open and until when, and whether a free entry point is active. Not an 8x8 endpoint.
#[utoipa::path(get, path = "/api/v1/subaccounts/{subAccountId}/users/{msisdn}/window", tag = "Chat Apps",
    params(("subAccountId" = String, Path), ("msisdn" = String, Path, description = "E.164")),
    responses((status = 200, description = "`{msisdn, channelId, customerServiceWindow{open, expiresAt}, freeEntryPoint{active, expiresAt, replyBy?}}`"),
              (status = 400, description = "code 1002")))]
pub async fn window(
    State(state): State<AppState>,
    Caller(caller): Caller,
    path: MessagePath,
) -> Result<Json<Value>, ApiError> {
    let msisdn = path.msisdn.expect("route has {msisdn}");
    let (channel, user, window) = state
        .messages
        .window(&caller.account_id, &path.sub_account_id, &msisdn)
        .await?;
    let mut body = window.to_json();
    body["msisdn"] = user.as_str().into();
    body["channelId"] = channel.to_string().into();
    Ok(Json(body))
}

/// Send a message (`Send-Message`): 200 once the message is durably queued.
#[utoipa::path(post, path = "/api/v1/subaccounts/{subAccountId}/messages", tag = "Chat Apps",
    params(("subAccountId" = String, Path)), request_body(content = Object, content_type = "application/json"),
    responses((status = 200, description = "queued"), (status = 400, description = "invalid request"),
              (status = 401, description = "code 1200")))]
pub async fn send(
    State(state): State<AppState>,
    Caller(caller): Caller,
    path: MessagePath,
    JsonBody(body): JsonBody,
) -> Result<Json<Value>, ApiError> {
    let message = state
        .messages
        .send_8x8(&caller.account_id, &path.sub_account_id, &body)
        .await?;
    Ok(Json(dto::send_response(&message)))
}

/// Send up to 10,000 messages at once (`send-message-many`): 200 with the batch's id and
/// counts; each invalid message is rejected with its code while the others are queued.
#[utoipa::path(post, path = "/api/v1/subaccounts/{subAccountId}/messages/batch", tag = "Chat Apps",
    params(("subAccountId" = String, Path)), request_body(content = Object, content_type = "application/json"),
    responses((status = 200, description = "`{batchId, clientBatchId?, acceptedCount, rejectedCount, messages?}`"),
              (status = 400, description = "codes 3012 (no messages), 3013 (more than 10,000), 3014 (clientBatchId too long)")))]
pub async fn send_batch(
    State(state): State<AppState>,
    Caller(caller): Caller,
    path: MessagePath,
    JsonBody(body): JsonBody,
) -> Result<Json<Value>, ApiError> {
    let outcome = state
        .messages
        .send_batch(&caller.account_id, &path.sub_account_id, &body)
        .await?;
    Ok(Json(dto::batch_response(&outcome)))
}

/// Cancel a scheduled message (`DELETE …/messages/{umid}`): `{cancelledCount: 1}`, or 0
/// when it already left for WhatsApp. Its receipt says `undelivered`, error 25.
#[utoipa::path(delete, path = "/api/v1/subaccounts/{subAccountId}/messages/{umid}", tag = "Chat Apps",
    params(("subAccountId" = String, Path), ("umid" = String, Path)),
    responses((status = 200, description = "`{cancelledCount}`"), (status = 400, description = "code 1000 Invalid umid."),
              (status = 404, description = "code 1300 Message not found.")))]
pub async fn cancel(
    State(state): State<AppState>,
    Caller(caller): Caller,
    path: MessagePath,
) -> Result<Json<Value>, ApiError> {
    let umid = path.umid.expect("route has {umid}");
    let cancelled = state
        .messages
        .cancel(&caller.account_id, &path.sub_account_id, umid)
        .await?;
    Ok(Json(json!({ "cancelledCount": cancelled })))
}

/// Cancel what is still scheduled of a batch (`cancel-many-chat-apps-messages`).
#[utoipa::path(delete, path = "/api/v1/subaccounts/{subAccountId}/messages/batch/{batchId}", tag = "Chat Apps",
    params(("subAccountId" = String, Path), ("batchId" = String, Path)),
    responses((status = 200, description = "`{cancelledCount}`"), (status = 400, description = "code 1000 Invalid batchId.")))]
pub async fn cancel_batch(
    State(state): State<AppState>,
    Caller(caller): Caller,
    path: MessagePath,
) -> Result<Json<Value>, ApiError> {
    let batch = path.batch_id.expect("route has {batchId}");
    let cancelled = state
        .messages
        .cancel_batch(&caller.account_id, &path.sub_account_id, batch)
        .await?;
    Ok(Json(json!({ "cancelledCount": cancelled })))
}

#[derive(Debug, serde::Deserialize, utoipa::IntoParams)]
pub struct RecentQuery {
    /// Only the conversation with this user (E.164).
    msisdn: Option<String>,
    /// At most this many (1–100, default 20).
    limit: Option<u32>,
}

/// Latest messages of the subaccount, newest first, in the message-details record shape.
/// Not an 8x8 endpoint: Parley's way to find inbound messages without a webhook.
#[utoipa::path(get, path = "/api/v1/subaccounts/{subAccountId}/messages", tag = "Chat Apps",
    params(("subAccountId" = String, Path), RecentQuery),
    responses((status = 200, description = "`{data: [...]}`, newest first")))]
pub async fn recent(
    State(state): State<AppState>,
    Caller(caller): Caller,
    path: MessagePath,
    query: Result<Query<RecentQuery>, QueryRejection>,
) -> Result<Json<Value>, ApiError> {
    let Query(query) = query.map_err(|e| {
        ApiError::new(
            SyncCode::InvalidParameters,
            format!("Invalid parameter(s): {}", e.body_text()),
        )
    })?;
    let messages = state
        .messages
        .recent(
            &caller.account_id,
            &path.sub_account_id,
            query.msisdn.as_deref(),
            query.limit.unwrap_or(20),
        )
        .await?;
    Ok(Json(dto::records(&messages)))
}

/// Message details (`get-chatapps-message-details`).
#[utoipa::path(get, path = "/api/v1/subaccounts/{subAccountId}/messages/{umid}", tag = "Chat Apps",
    params(("subAccountId" = String, Path), ("umid" = String, Path)),
    responses((status = 200, description = "the message"), (status = 404, description = "code 1300")))]
pub async fn details(
    State(state): State<AppState>,
    Caller(caller): Caller,
    path: MessagePath,
) -> Result<Json<Value>, ApiError> {
    let umid = path.umid.expect("route has {umid}");
    let message = state
        .messages
        .get(&caller.account_id, &path.sub_account_id, umid)
        .await?;
    let (_, _, window) = state
        .messages
        .window(&caller.account_id, &path.sub_account_id, &message.msisdn)
        .await?;
    let hold = state.messages.hold(&message).await?;
    let history = state.messages.history(umid).await?;
    Ok(Json(dto::details(
        &message,
        &window,
        hold.as_ref(),
        &history,
    )))
}

/// Mark an inbound message as read (`mark-message-read`).
#[utoipa::path(post, path = "/api/v1/subaccounts/{subAccountId}/messages/{umid}/read", tag = "Chat Apps",
    params(("subAccountId" = String, Path), ("umid" = String, Path)),
    responses((status = 200, description = "marked read"), (status = 404, description = "code 1300")))]
pub async fn mark_read(
    State(state): State<AppState>,
    Caller(caller): Caller,
    path: MessagePath,
) -> Result<StatusCode, ApiError> {
    let umid = path.umid.expect("route has {umid}");
    state
        .messages
        .mark_read(&caller.account_id, &path.sub_account_id, umid)
        .await?;
    Ok(StatusCode::OK)
}

/// Typing indicator (`send-typing-indicator`).
#[utoipa::path(post, path = "/api/v1/subaccounts/{subAccountId}/events", tag = "Chat Apps",
    params(("subAccountId" = String, Path)), request_body(content = Object, content_type = "application/json"),
    responses((status = 200, description = "shown"), (status = 400, description = "invalid request")))]
pub async fn events(
    State(state): State<AppState>,
    Caller(caller): Caller,
    path: MessagePath,
    JsonBody(body): JsonBody,
) -> Result<StatusCode, ApiError> {
    state
        .messages
        .typing(&caller.account_id, &path.sub_account_id, &body)
        .await?;
    Ok(StatusCode::OK)
}
