//! The webhook configuration API (`reference/chatapps-api.md` §6.7):
//! `GET|POST|DELETE /api/v1/accounts/{accountId}/webhooks`; and Parley's deliveries API
//! beside it: `…/webhooks/deliveries` (list, one with its attempts, redrive).

use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::routing::{get, post};
use axum::{Json, Router};
use parley_core::webhooks::deliveries::DeliveryQuery;
use parley_types::AccountId;
use parley_types::codes::SyncCode;
use serde_json::Value;

use crate::auth::Caller;
use crate::extract::JsonBody;
use crate::{ApiError, AppState};

pub fn router() -> Router<AppState> {
    Router::new()
        .route(
            "/api/v1/accounts/{accountId}/webhooks",
            get(list).post(save).delete(remove),
        )
        .route(
            "/api/v1/accounts/{accountId}/webhooks/deliveries",
            get(deliveries),
        )
        .route(
            "/api/v1/accounts/{accountId}/webhooks/deliveries/redrive",
            post(redrive),
        )
        .route(
            "/api/v1/accounts/{accountId}/webhooks/deliveries/{id}",
            get(delivery),
        )
        .route(
            "/api/v1/accounts/{accountId}/webhooks/endpoints",
            get(endpoints),
        )
}

/// The account in the path, which must be the caller's: anything else is the same 404
/// as an account that does not exist.
pub(crate) fn account(path: &str, caller: &AccountId) -> Result<AccountId, ApiError> {
    match AccountId::parse(path) {
        Ok(account) if &account == caller => Ok(account),
        _ => Err(ApiError::from(parley_core::Error::NotFound(
            "Account not found.".into(),
        ))),
    }
}

/// The account's webhooks, secrets masked as `***`.
#[utoipa::path(get, path = "/api/v1/accounts/{accountId}/webhooks", tag = "Configuration: webhooks",
    params(("accountId" = String, Path)),
    responses((status = 200, description = "array of webhook objects"), (status = 404, description = "code 1300")))]
pub async fn list(
    State(state): State<AppState>,
    Caller(caller): Caller,
    Path(path): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let account = account(&path, &caller.account_id)?;
    Ok(Json(state.webhooks.list(&account).await?))
}

/// Creates or replaces webhooks (by subaccount and type); answers the account's webhooks.
#[utoipa::path(post, path = "/api/v1/accounts/{accountId}/webhooks", tag = "Configuration: webhooks",
    params(("accountId" = String, Path)),
    request_body(content = Object, content_type = "application/json"),
    responses((status = 200, description = "saved"), (status = 400, description = "a broken rule, with its code")))]
pub async fn save(
    State(state): State<AppState>,
    Caller(caller): Caller,
    Path(path): Path<String>,
    JsonBody(body): JsonBody,
) -> Result<Json<Value>, ApiError> {
    let account = account(&path, &caller.account_id)?;
    Ok(Json(state.webhooks.save(&account, &body).await?))
}

/// Deletes the webhooks named by subaccount (`*` is the account-wide one) and type.
#[utoipa::path(delete, path = "/api/v1/accounts/{accountId}/webhooks", tag = "Configuration: webhooks",
    params(("accountId" = String, Path)),
    request_body(content = Object, content_type = "application/json"),
    responses((status = 200, description = "deleted; the remaining webhooks")))]
pub async fn remove(
    State(state): State<AppState>,
    Caller(caller): Caller,
    Path(path): Path<String>,
    JsonBody(body): JsonBody,
) -> Result<Json<Value>, ApiError> {
    let account = account(&path, &caller.account_id)?;
    Ok(Json(state.webhooks.delete(&account, &body).await?))
}

#[derive(Debug, serde::Deserialize, utoipa::IntoParams)]
#[serde(rename_all = "camelCase")]
#[allow(
    dead_code,
    reason = "documents the query string; parsing is the core's"
)]
pub struct DeliveriesParams {
    /// `pending`, `delivered`, `dead` or `dropped`.
    state: Option<String>,
    /// `CADR`, `MSG` or `CABM`.
    #[serde(rename = "type")]
    kind: Option<String>,
    sub_account_id: Option<String>,
    /// Created at or after (ISO 8601).
    from: Option<String>,
    /// Created before (ISO 8601).
    to: Option<String>,
    /// 1–100, default 50.
    limit: Option<u32>,
    /// `nextCursor` of the previous page.
    cursor: Option<String>,
}

/// Webhook deliveries, newest first (Parley's, not 8x8's).
#[utoipa::path(get, path = "/api/v1/accounts/{accountId}/webhooks/deliveries", tag = "Configuration: webhooks",
    params(("accountId" = String, Path), DeliveriesParams),
    responses((status = 200, description = "`{deliveries: [...], nextCursor}`"), (status = 400, description = "a bad filter, code 1005")))]
pub async fn deliveries(
    State(state): State<AppState>,
    Caller(caller): Caller,
    Path(path): Path<String>,
    query: Result<Query<DeliveryQuery>, QueryRejection>,
) -> Result<Json<Value>, ApiError> {
    let account = account(&path, &caller.account_id)?;
    let Query(query) = query.map_err(|e| {
        ApiError::new(
            SyncCode::InvalidParameters,
            format!("Invalid parameter(s): {}", e.body_text()),
        )
    })?;
    Ok(Json(state.webhooks.deliveries(&account, &query).await?))
}

/// One delivery: its state, every attempt (time, URL, status code, latency, error) and
/// the body it posts.
#[utoipa::path(get, path = "/api/v1/accounts/{accountId}/webhooks/deliveries/{id}", tag = "Configuration: webhooks",
    params(("accountId" = String, Path), ("id" = String, Path)),
    responses((status = 200, description = "the delivery with `attemptLog` and `payload`"), (status = 404, description = "no such delivery")))]
pub async fn delivery(
    State(state): State<AppState>,
    Caller(caller): Caller,
    Path((path, id)): Path<(String, String)>,
) -> Result<Json<Value>, ApiError> {
    let account = account(&path, &caller.account_id)?;
    Ok(Json(state.webhooks.delivery(&account, &id).await?))
}

/// Delivers again: one event (`{"id"}`), the dead letters of a time range
/// (`{"from", "to"}`) or of a webhook (`{"type", "subAccountId"}`; `{}` is all of them).
#[utoipa::path(post, path = "/api/v1/accounts/{accountId}/webhooks/deliveries/redrive", tag = "Configuration: webhooks",
    params(("accountId" = String, Path)),
    request_body(content = Object, content_type = "application/json"),
    responses((status = 200, description = "`{redriven: n}`"), (status = 400, description = "a bad body, code 1005")))]
pub async fn redrive(
    State(state): State<AppState>,
    Caller(caller): Caller,
    Path(path): Path<String>,
    JsonBody(body): JsonBody,
) -> Result<Json<Value>, ApiError> {
    let account = account(&path, &caller.account_id)?;
    Ok(Json(state.webhooks.redrive(&account, &body).await?))
}

/// The account's endpoints that have been marked failing at some point: `failing`
/// (failing for longer than `webhooks.failing_after_seconds`, probed at a slow pace) or
/// `healthy` (answered since).
#[utoipa::path(get, path = "/api/v1/accounts/{accountId}/webhooks/endpoints", tag = "Configuration: webhooks",
    params(("accountId" = String, Path)),
    responses((status = 200, description = "`{endpoints: [{url, state, failingSince, lastError, updatedAt}]}`")))]
pub async fn endpoints(
    State(state): State<AppState>,
    Caller(caller): Caller,
    Path(path): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let account = account(&path, &caller.account_id)?;
    Ok(Json(state.webhooks.endpoints(&account).await?))
}
