//! The simulated user's verdict on a business: `POST /api/phones/{msisdn}/block` and
//! `POST /api/phones/{msisdn}/report` are negative feedback on a business number, which
//! moves its quality rating (and, when that is RED, pauses the templates the user got);
//! a blocked number's messages to the user fail with 131026 until
//! `DELETE /api/phones/{msisdn}/block`.
//!
//! The body `{"channelId": key}` (or `{"business": key}`) names the number; without it,
//! the one that last wrote to the phone.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::post;
use axum::{Json, Router};
use parley_types::Clock;
use serde::Deserialize;
use serde_json::json;

use crate::Simulator;
use crate::control::{Answer, ControlError, wa_id};
use crate::state::{Business, State as SimState};

pub fn router() -> Router<Simulator> {
    Router::new()
        .route("/api/phones/{msisdn}/block", post(block).delete(unblock))
        .route("/api/phones/{msisdn}/report", post(report))
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub(crate) struct Target {
    /// Parley channel id, phone-number id or display number.
    channel_id: Option<String>,
    /// The same, under another name.
    business: Option<String>,
}

/// The business number the feedback is about.
fn target(
    state: &SimState,
    wa_id: &str,
    body: Option<Json<Target>>,
) -> Result<Business, ControlError> {
    let Target {
        channel_id,
        business,
    } = body.map(|Json(t)| t).unwrap_or_default();
    let found = match channel_id.or(business) {
        Some(key) => state
            .business_for(Some(&key))
            .ok_or_else(|| format!("no business {key}")),
        None => state
            .phones
            .get(wa_id)
            .and_then(|p| {
                p.messages
                    .iter()
                    .rev()
                    .find(|m| m.direction == "from_business")
            })
            .and_then(|m| state.business(&m.phone_number_id))
            .ok_or_else(|| format!("no business has messaged +{wa_id}; name one with channelId")),
    };
    found
        .cloned()
        .map_err(|message| ControlError(StatusCode::NOT_FOUND, message))
}

async fn feedback(
    sim: Simulator,
    msisdn: String,
    body: Option<Json<Target>>,
    block: bool,
) -> Answer {
    let wa_id = wa_id(&msisdn)?;
    let now = sim.clock().now();
    let mut state = sim.inner.state();
    let business = target(&state, &wa_id, body)?;
    let outcome = state.negative_feedback(&business, &wa_id, block, now);
    drop(state);
    sim.inner.wake.notify_one();
    let mut answer = serde_json::to_value(outcome).expect("serialises");
    answer["msisdn"] = json!(format!("+{wa_id}"));
    answer["phoneNumberId"] = json!(business.phone_number_id);
    Ok(Json(answer))
}

/// The user blocks the business number: negative feedback, and its messages to the user
/// fail with 131026 from now on. Blocking again changes nothing (`counted: false`).
#[utoipa::path(post, path = "/sim/api/phones/{msisdn}/block", tag = "Simulator: control",
    params(("msisdn" = String, Path)), request_body(content = Object, content_type = "application/json", description = "optional: `{channelId}` or `{business}`"),
    responses((status = 200, description = "`{msisdn, phoneNumberId, counted, quality, paused[{id, name, language, status}]}`"),
        (status = 404, description = "no such business, or none has messaged the phone")))]
pub(crate) async fn block(
    State(sim): State<Simulator>,
    Path(msisdn): Path<String>,
    body: Option<Json<Target>>,
) -> Answer {
    feedback(sim, msisdn, body, true).await
}

/// The user reports the business number: negative feedback; the chat stays open.
#[utoipa::path(post, path = "/sim/api/phones/{msisdn}/report", tag = "Simulator: control",
    params(("msisdn" = String, Path)), request_body(content = Object, content_type = "application/json", description = "optional: `{channelId}` or `{business}`"),
    responses((status = 200, description = "`{msisdn, phoneNumberId, counted, quality, paused[{id, name, language, status}]}`"),
        (status = 404, description = "no such business, or none has messaged the phone")))]
pub(crate) async fn report(
    State(sim): State<Simulator>,
    Path(msisdn): Path<String>,
    body: Option<Json<Target>>,
) -> Answer {
    feedback(sim, msisdn, body, false).await
}

/// The user unblocks the business number: its messages get through again. The feedback
/// the block gave stays counted.
#[utoipa::path(delete, path = "/sim/api/phones/{msisdn}/block", tag = "Simulator: control",
    params(("msisdn" = String, Path)), request_body(content = Object, content_type = "application/json", description = "optional: `{channelId}` or `{business}`"),
    responses((status = 200, description = "`{msisdn, phoneNumberId, unblocked}`"),
        (status = 404, description = "no such business, or none has messaged the phone")))]
pub(crate) async fn unblock(
    State(sim): State<Simulator>,
    Path(msisdn): Path<String>,
    body: Option<Json<Target>>,
) -> Answer {
    let wa_id = wa_id(&msisdn)?;
    let mut state = sim.inner.state();
    let business = target(&state, &wa_id, body)?;
    let unblocked = state.unblock(&business, &wa_id);
    Ok(Json(json!({
        "msisdn": format!("+{wa_id}"),
        "phoneNumberId": business.phone_number_id,
        "unblocked": unblocked,
    })))
}
