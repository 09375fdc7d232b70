//! The Contacts API's do-not-contact list: `POST /api/v1/accounts/{accountId}/contacts/
//! blacklist/{msisdn}` (`blacklist-msisdn`), and Parley's `DELETE` on the same path to
//! take a number off it again.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::post;
use axum::{Json, Router};
use serde_json::{Value, json};

use crate::auth::Caller;
use crate::webhooks::account;
use crate::{ApiError, AppState};

pub fn router() -> Router<AppState> {
    Router::new().route(
        "/api/v1/accounts/{accountId}/contacts/blacklist/{msisdn}",
        post(blacklist).delete(unblacklist),
    )
}

/// Puts the number on the account's do-not-contact list: marketing messages to it are
/// not sent (their receipt says `undelivered`, error 1051). The optional body (a JSON
/// string) is not used.
#[utoipa::path(post, path = "/api/v1/accounts/{accountId}/contacts/blacklist/{msisdn}", tag = "Contacts",
    params(("accountId" = String, Path), ("msisdn" = String, Path, description = "E.164, with or without '+'")),
    responses((status = 200, description = "on the list"), (status = 400, description = "code 1002"),
              (status = 404, description = "code 1300, not the caller's account")))]
pub async fn blacklist(
    State(state): State<AppState>,
    Caller(caller): Caller,
    Path((path_account, msisdn)): Path<(String, String)>,
) -> Result<StatusCode, ApiError> {
    let account = account(&path_account, &caller.account_id)?;
    state.contacts.blacklist(&account, &msisdn).await?;
    Ok(StatusCode::OK)
}

/// Takes the number off the list (as the user's START keyword does). Not an 8x8 endpoint.
#[utoipa::path(delete, path = "/api/v1/accounts/{accountId}/contacts/blacklist/{msisdn}", tag = "Contacts",
    params(("accountId" = String, Path), ("msisdn" = String, Path)),
    responses((status = 200, description = "`{removed: bool}`: whether it was on the list")))]
pub async fn unblacklist(
    State(state): State<AppState>,
    Caller(caller): Caller,
    Path((path_account, msisdn)): Path<(String, String)>,
) -> Result<Json<Value>, ApiError> {
    let account = account(&path_account, &caller.account_id)?;
    let removed = state.contacts.unblacklist(&account, &msisdn).await?;
    Ok(Json(json!({ "removed": removed })))
}
