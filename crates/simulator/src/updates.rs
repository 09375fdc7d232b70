//! Business updates on demand: `POST /api/businesses/{key}/updates` makes Meta report a
//! change of a number's quality or messaging limit (`phone_number_quality_update`) or of
//! the business account (`account_update`) on the business's webhook, as Meta does when
//! its own rules decide one.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::post;
use axum::{Json, Router};
use parley_types::Clock;
use serde_json::{Map, Value, json};

use crate::Simulator;
use crate::control::{Answer, ControlError};

pub fn router() -> Router<Simulator> {
    Router::new().route("/api/businesses/{key}/updates", post(update))
}

const FIELDS: [&str; 2] = ["phone_number_quality_update", "account_update"];

fn bad(message: impl Into<String>) -> ControlError {
    ControlError(StatusCode::BAD_REQUEST, message.into())
}

/// Reports one update. The body is `{"field": …, "value": {…}}` with `value` in Meta's
/// snake_case; `value.event` is required. A number's update names its display number
/// unless the value already does.
#[utoipa::path(post, path = "/sim/api/businesses/{key}/updates", tag = "Simulator: control",
    params(("key" = String, Path, description = "Parley channel id, phone-number id or display number")),
    request_body(content = Object, content_type = "application/json"),
    responses((status = 200, description = "the webhook value queued"), (status = 400, description = "an unknown field or no event"), (status = 404, description = "no such business")))]
pub(crate) async fn update(
    State(sim): State<Simulator>,
    Path(key): Path<String>,
    Json(body): Json<Value>,
) -> Answer {
    let field = body
        .get("field")
        .and_then(Value::as_str)
        .filter(|f| FIELDS.contains(f))
        .ok_or_else(|| bad(format!("field must be one of {}", FIELDS.join(", "))))?
        .to_owned();
    let mut value: Map<String, Value> = match body.get("value") {
        Some(Value::Object(value)) => value.clone(),
        _ => return Err(bad("value must be an object")),
    };
    if !value.get("event").is_some_and(Value::is_string) {
        return Err(bad("value.event is required"));
    }
    let now = sim.clock().now();
    let mut state = sim.inner.state();
    let business = state
        .business_for(Some(&key))
        .ok_or_else(|| ControlError(StatusCode::NOT_FOUND, format!("no business {key}")))?
        .clone();
    if field == "phone_number_quality_update" {
        value
            .entry("display_phone_number")
            .or_insert_with(|| json!(business.display_number.trim_start_matches('+')));
    }
    let value = Value::Object(value);
    state.report(&business.waba_id, now, vec![(field.clone(), value.clone())]);
    drop(state);
    sim.inner.wake.notify_one();
    Ok(Json(json!({ "field": field, "value": value })))
}
