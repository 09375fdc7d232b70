//! `/meta/webhook`: where Meta (real or simulated) posts WhatsApp webhooks. `GET` answers
//! the `hub.challenge` verification; `POST` checks `X-Hub-Signature-256` over the raw body
//! before anything is parsed.

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use parley_types::ChannelKind;
use serde::Deserialize;

use crate::AppState;

pub fn router() -> Router<AppState> {
    Router::new().route("/meta/webhook", get(verify).post(receive))
}

#[derive(Deserialize)]
pub struct Handshake {
    #[serde(rename = "hub.mode")]
    mode: Option<String>,
    #[serde(rename = "hub.verify_token")]
    verify_token: Option<String>,
    #[serde(rename = "hub.challenge")]
    challenge: Option<String>,
}

/// Meta's subscription handshake.
#[utoipa::path(get, path = "/meta/webhook", tag = "Meta webhooks",
    responses((status = 200, description = "the challenge, echoed"), (status = 403, description = "wrong token")))]
pub async fn verify(State(state): State<AppState>, Query(hs): Query<Handshake>) -> Response {
    let Some(intake) = state.intakes.get(ChannelKind::WhatsApp) else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let answer = intake.handshake(hs.mode.as_deref(), hs.verify_token.as_deref(), hs.challenge);
    match answer {
        Some(challenge) => (StatusCode::OK, challenge).into_response(),
        None => StatusCode::FORBIDDEN.into_response(),
    }
}

/// WhatsApp traffic. 200 only once everything in it is stored; otherwise Meta retries.
#[utoipa::path(post, path = "/meta/webhook", tag = "Meta webhooks",
    responses((status = 200, description = "stored"), (status = 401, description = "bad signature"),
              (status = 500, description = "not stored; retry")))]
pub async fn receive(State(state): State<AppState>, headers: HeaderMap, body: Bytes) -> StatusCode {
    let Some(intake) = state.intakes.get(ChannelKind::WhatsApp) else {
        return StatusCode::NOT_FOUND;
    };
    let signature = headers
        .get(intake.signature_header())
        .and_then(|v| v.to_str().ok());
    if !intake.authentic(&body, signature) {
        tracing::warn!("meta webhook with a missing or wrong signature rejected");
        return StatusCode::UNAUTHORIZED;
    }
    let events = match intake.read(&body) {
        Ok(events) => events,
        Err(e) => {
            // Retrying cannot fix a body we cannot read: acknowledge and log it.
            tracing::error!(error = %e, "unreadable meta webhook dropped");
            return StatusCode::OK;
        }
    };
    match state.inbound.handle(events).await {
        Ok(report) => {
            tracing::debug!(?report, "meta webhook handled");
            StatusCode::OK
        }
        Err(e) => {
            tracing::error!(error = %e, "meta webhook not stored; meta will retry");
            StatusCode::INTERNAL_SERVER_ERROR
        }
    }
}
