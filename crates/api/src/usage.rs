//! `GET /api/v1/accounts/{accountId}/usage/messages` (`get-message-usage`).

use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::routing::get;
use axum::{Json, Router};
use parley_core::pricing::UsageQuery;
use parley_types::codes::SyncCode;
use serde_json::Value;

use crate::auth::Caller;
use crate::webhooks::account;
use crate::{ApiError, AppState};

pub fn router() -> Router<AppState> {
    Router::new().route("/api/v1/accounts/{accountId}/usage/messages", get(usage))
}

/// Monthly WhatsApp usage: delivered, charged and free messages, grouped by `groupBy`.
#[utoipa::path(get, path = "/api/v1/accounts/{accountId}/usage/messages", tag = "Reporting",
    params(("accountId" = String, Path), ("billingPeriod" = String, Query, description = "YYYY-MM"),
           ("channel" = Option<String>, Query), ("groupBy" = Option<String>, Query)),
    responses((status = 200, description = "`{data: [...], meta: {...}}`"), (status = 400, description = "code 1000")))]
pub async fn usage(
    State(state): State<AppState>,
    Caller(caller): Caller,
    Path(path): Path<String>,
    query: Result<Query<UsageQuery>, QueryRejection>,
) -> Result<Json<Value>, ApiError> {
    let account = account(&path, &caller.account_id)?;
    let Query(query) = query.map_err(|e| {
        ApiError::new(
            SyncCode::InvalidParameter,
            format!("Invalid parameter(s): {}", e.body_text()),
        )
    })?;
    Ok(Json(state.usage.report(&account, &query).await?.0))
}
