//! The control API over WhatsApp's rules: a user's windows as WhatsApp sees them, and the
//! limits of a business number (throughput, pair rate, its portfolio's messaging limit),
//! which a test or a benchmark may raise or lower, with the reach and quality they depend
//! on.

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::routing::get;
use axum::{Json, Router};
use parley_types::Clock;
use serde::Deserialize;
use serde_json::{Value, json};

use chrono::{DateTime, Utc};

use crate::Simulator;
use crate::control::{Answer, ControlError, wa_id};
use crate::limits::Tier;
use crate::state::{Business, State as SimState};
use crate::throughput::{MAX_THROUGHPUT, PairRate};

pub fn router() -> Router<Simulator> {
    Router::new()
        .route("/api/phones/{msisdn}/window", get(window))
        .route("/api/businesses/{key}/limits", get(limits).post(set_limits))
}

fn bad(message: impl Into<String>) -> ControlError {
    ControlError(StatusCode::BAD_REQUEST, message.into())
}

fn business(state: &SimState, key: Option<&str>) -> Result<Business, ControlError> {
    state.business_for(key).cloned().ok_or_else(|| {
        ControlError(
            StatusCode::NOT_FOUND,
            format!("no business {}", key.unwrap_or("registered")),
        )
    })
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct WindowQuery {
    channel_id: Option<String>,
}

/// Whether the user's customer-service window is open and a free entry point active,
/// with the business number (`channelId`, the first one by default).
#[utoipa::path(get, path = "/sim/api/phones/{msisdn}/window", tag = "Simulator: control",
    params(("msisdn" = String, Path), ("channelId" = Option<String>, Query)),
    responses((status = 200, description = "`{serviceWindow{open, expiresAt}, freeEntryPoint{active, expiresAt, replyBy}}`")))]
pub(crate) async fn window(
    State(sim): State<Simulator>,
    Path(msisdn): Path<String>,
    Query(query): Query<WindowQuery>,
) -> Answer {
    let wa_id = wa_id(&msisdn)?;
    let now = sim.clock().now();
    let state = sim.inner.state();
    let business = business(&state, query.channel_id.as_deref())?;
    let mut answer = state
        .windows
        .describe(&business.phone_number_id, &wa_id, now);
    answer["msisdn"] = json!(format!("+{wa_id}"));
    answer["phoneNumberId"] = json!(business.phone_number_id);
    Ok(Json(answer))
}

/// The limits as the control API shows them. Reading brings the quality rating up to
/// date, which may report a change.
fn limits_json(state: &mut SimState, business: &Business, now: DateTime<Utc>) -> Value {
    json!({
        "phoneNumberId": business.phone_number_id,
        "throughput": state.throughput.rate(&business.phone_number_id),
        "pairRate": state.throughput.pair_rate(),
        "messagingLimit": state.limits.tier(&business.waba_id).as_str(),
        "reach": state.limits.reach(&business.waba_id, now),
        "quality": state.rate(business, now),
    })
}

#[utoipa::path(get, path = "/sim/api/businesses/{key}/limits", tag = "Simulator: control",
    params(("key" = String, Path, description = "Parley channel id, phone-number id or display number")),
    responses((status = 200, description = "`{phoneNumberId, throughput, pairRate{burst, intervalSeconds}, messagingLimit, reach{last24h, last7d, last30d}, quality}`: `messagingLimit` and `reach` are the portfolio's (the WABA's), `quality` the number's")))]
pub(crate) async fn limits(State(sim): State<Simulator>, Path(key): Path<String>) -> Answer {
    let now = sim.clock().now();
    let mut state = sim.inner.state();
    let business = business(&state, Some(&key))?;
    let answer = limits_json(&mut state, &business, now);
    drop(state);
    sim.inner.wake.notify_one();
    Ok(Json(answer))
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub(crate) struct SetLimits {
    /// Messages per second the number may send (1 to 1,000).
    throughput: Option<u32>,
    /// The pair rate, for every number.
    pair_rate: Option<PairRateInput>,
    /// The portfolio's messaging limit (`TIER_250` … `TIER_UNLIMITED`), for every number
    /// of the WABA.
    messaging_limit: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub(crate) struct PairRateInput {
    burst: u32,
    interval_seconds: f64,
}

/// Changes a number's limits; what is left out stays as it is. A new `messagingLimit`
/// is reported by every number of the portfolio (`phone_number_quality_update`,
/// `UPGRADE` or `DOWNGRADE`).
#[utoipa::path(post, path = "/sim/api/businesses/{key}/limits", tag = "Simulator: control",
    params(("key" = String, Path, description = "Parley channel id, phone-number id or display number")),
    request_body(content = Object, content_type = "application/json"),
    responses((status = 200, description = "the limits now"), (status = 400, description = "out of range")))]
pub(crate) async fn set_limits(
    State(sim): State<Simulator>,
    Path(key): Path<String>,
    Json(set): Json<SetLimits>,
) -> Answer {
    if let Some(rate) = set.throughput
        && !(1..=MAX_THROUGHPUT).contains(&rate)
    {
        return Err(bad(format!(
            "throughput must be 1 to {MAX_THROUGHPUT} messages per second"
        )));
    }
    if let Some(pair) = &set.pair_rate
        && (pair.burst == 0 || !(pair.interval_seconds > 0.0 && pair.interval_seconds <= 86_400.0))
    {
        return Err(bad(
            "pairRate needs a burst of at least 1 and intervalSeconds in (0, 86400]",
        ));
    }
    let tier = match &set.messaging_limit {
        None => None,
        Some(name) => Some(Tier::parse(name).ok_or_else(|| {
            let names: Vec<&str> = Tier::ALL.iter().map(|t| t.as_str()).collect();
            bad(format!(
                "messagingLimit must be one of {}",
                names.join(", ")
            ))
        })?),
    };
    let now = sim.clock().now();
    let mut state = sim.inner.state();
    let business = business(&state, Some(&key))?;
    if let Some(tier) = tier {
        state.set_messaging_limit(&business.waba_id, tier, now);
    }
    if let Some(rate) = set.throughput {
        state
            .throughput
            .set_rate(&business.phone_number_id, rate, now);
    }
    if let Some(pair) = set.pair_rate {
        state.throughput.set_pair_rate(PairRate {
            burst: pair.burst,
            interval_seconds: pair.interval_seconds,
        });
    }
    let answer = limits_json(&mut state, &business, now);
    drop(state);
    sim.inner.wake.notify_one();
    Ok(Json(answer))
}
