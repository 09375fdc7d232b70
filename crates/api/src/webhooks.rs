//! The webhook configuration API (`reference/chatapps-api.md` §6.7):
//! `GET|POST|DELETE /api/v1/accounts/{accountId}/webhooks`.

use axum::extract::{Path, State};
use axum::routing::get;
use axum::{Json, Router};
use parley_types::AccountId;
use serde_json::Value;

use crate::auth::Caller;
use crate::extract::JsonBody;
use crate::{ApiError, AppState};

pub fn router() -> Router<AppState> {
    Router::new().route(
        "/api/v1/accounts/{accountId}/webhooks",
        get(list).post(save).delete(remove),
    )
}

/// The account in the path, which must be the caller's: anything else is the same 404
/// as an account that does not exist.
fn account(path: &str, caller: &AccountId) -> Result<AccountId, ApiError> {
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
