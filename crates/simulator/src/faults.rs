//! Fault injection: `GET /api/faults` and `PUT /api/faults` with
//! `{"failurePercent", "errorCode", "extraLatencyMs"}` make the Graph API's
//! `POST /{phone-number-id}/messages` answer slowly (real time: it stands for the network)
//! and fail a share of the sends with one of Meta's errors, each the way Meta reports that
//! error and the simulator's own rules do: refused with the Graph error object, or
//! accepted and then reported by a `failed` receipt.

use axum::extract::State;
use axum::extract::rejection::JsonRejection;
use axum::http::StatusCode;
use axum::routing::get;
use axum::{Json, Router};
use rand::Rng;
use serde::Serialize;
use serde_json::Value;

use crate::control::ControlError;
use crate::state::Failure;
use crate::{Inner, Simulator};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Faults {
    /// Share of sends that fail, 0–100.
    pub failure_percent: u8,
    /// One of [`FAULT_CODES`].
    pub error_code: u32,
    /// Added to every answer of the messages endpoint.
    pub extra_latency_ms: u32,
}

impl Default for Faults {
    fn default() -> Self {
        Self {
            failure_percent: 0,
            error_code: 131000,
            extra_latency_ms: 0,
        }
    }
}

pub const MAX_LATENCY_MS: u32 = 60_000;

/// How Meta delivers an error.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Delivery {
    /// The send is refused: the Graph error object with this HTTP status.
    Refused(StatusCode),
    /// The send is accepted and a `failed` receipt follows.
    Failed,
}

#[derive(Debug)]
pub struct FaultCode {
    pub code: u32,
    pub title: &'static str,
    pub details: &'static str,
    pub delivery: Delivery,
}

const fn refused(
    code: u32,
    status: StatusCode,
    title: &'static str,
    details: &'static str,
) -> FaultCode {
    FaultCode {
        code,
        title,
        details,
        delivery: Delivery::Refused(status),
    }
}

const fn failed(code: u32, title: &'static str, details: &'static str) -> FaultCode {
    FaultCode {
        code,
        title,
        details,
        delivery: Delivery::Failed,
    }
}

/// The Meta errors a send can be made to fail with (the console offers the same list),
/// with Meta's titles. Codes the simulator's rules produce are
/// delivered as those rules deliver them: rate limits refused, undeliverable messages,
/// closed windows, spam limits, media and template failures reported by receipt.
pub const FAULT_CODES: &[FaultCode] = &[
    refused(
        131000,
        StatusCode::INTERNAL_SERVER_ERROR,
        "Something went wrong",
        "message failed to send because of an unknown error (injected fault)",
    ),
    failed(
        131026,
        "Message undeliverable",
        "unable to deliver the message (injected fault)",
    ),
    failed(
        131047,
        "Re-engagement message",
        "more than 24 hours have passed since the recipient last replied to the sender number (injected fault)",
    ),
    failed(
        131048,
        "Spam rate limit hit",
        "message failed to send because there are restrictions on how many messages can be sent from this phone number (injected fault)",
    ),
    failed(
        131049,
        "This message was not delivered to maintain healthy ecosystem engagement.",
        "in order to maintain a healthy ecosystem engagement, the message failed to be delivered (injected fault)",
    ),
    failed(
        131053,
        "Media upload error",
        "unable to upload the media used in the message (injected fault)",
    ),
    refused(
        131056,
        StatusCode::BAD_REQUEST,
        "(Business Account, Consumer Account) pair rate limit hit",
        "too many messages sent from this phone number to the same phone number in a short period of time (injected fault)",
    ),
    refused(
        130429,
        StatusCode::BAD_REQUEST,
        "Rate limit hit",
        "Cloud API message throughput has been reached (injected fault)",
    ),
    refused(
        131016,
        StatusCode::INTERNAL_SERVER_ERROR,
        "Service unavailable",
        "a service is temporarily unavailable (injected fault)",
    ),
    refused(
        131057,
        StatusCode::INTERNAL_SERVER_ERROR,
        "Business Account in maintenance mode",
        "the WhatsApp Business Account is in maintenance mode (injected fault)",
    ),
    refused(
        133004,
        StatusCode::SERVICE_UNAVAILABLE,
        "Server temporarily unavailable",
        "the server is temporarily unavailable (injected fault)",
    ),
    failed(
        132015,
        "Template is Paused",
        "the template is paused due to low quality (injected fault)",
    ),
    failed(
        132016,
        "Template is Disabled",
        "the template has been paused too many times due to low quality (injected fault)",
    ),
    refused(
        368,
        StatusCode::FORBIDDEN,
        "Temporarily blocked for policies violations",
        "the WhatsApp Business Account is restricted for violating a policy (injected fault)",
    ),
];

fn fault_code(code: u64) -> Option<&'static FaultCode> {
    FAULT_CODES.iter().find(|f| u64::from(f.code) == code)
}

impl FaultCode {
    pub fn failure(&self) -> Failure {
        Failure {
            code: self.code,
            title: self.title.into(),
            details: self.details.into(),
        }
    }
}

impl Inner {
    /// How long the messages endpoint waits before it answers.
    pub(crate) fn extra_latency(&self) -> std::time::Duration {
        let ms = self.state().faults.extra_latency_ms;
        std::time::Duration::from_millis(u64::from(ms))
    }

    /// The injected failure of this send, if it is one of the share that fails. The
    /// seeded random source decides, so a run is reproducible; it is not drawn from when
    /// no send or every send fails, which leaves runs without faults as they were.
    pub(crate) fn injected_fault(&self) -> Option<&'static FaultCode> {
        let faults = self.state().faults;
        let fails = match faults.failure_percent {
            0 => false,
            100.. => true,
            percent => {
                let mut rng = self.rng.lock().unwrap_or_else(|p| p.into_inner());
                rng.random_range(0..100u8) < percent
            }
        };
        fails
            .then(|| fault_code(u64::from(faults.error_code)))
            .flatten()
    }
}

pub fn router() -> Router<Simulator> {
    Router::new().route("/api/faults", get(faults).put(set_faults))
}

fn bad(message: impl Into<String>) -> ControlError {
    ControlError(StatusCode::BAD_REQUEST, message.into())
}

/// `{"failurePercent", "errorCode", "extraLatencyMs"}`, each required and checked.
fn parse(body: &Value) -> Result<Faults, ControlError> {
    let whole = |key: &str, max: u32| {
        body.get(key)
            .and_then(Value::as_u64)
            .filter(|v| *v <= u64::from(max))
            .map(|v| v as u32)
            .ok_or_else(|| bad(format!("{key} must be a whole number from 0 to {max}")))
    };
    let failure_percent = whole("failurePercent", 100)? as u8;
    let error_code = body
        .get("errorCode")
        .and_then(Value::as_u64)
        .and_then(fault_code)
        .ok_or_else(|| {
            let codes: Vec<String> = FAULT_CODES.iter().map(|f| f.code.to_string()).collect();
            bad(format!(
                "errorCode must be one of Meta's error codes {}",
                codes.join(", ")
            ))
        })?
        .code;
    let extra_latency_ms = whole("extraLatencyMs", MAX_LATENCY_MS)?;
    Ok(Faults {
        failure_percent,
        error_code,
        extra_latency_ms,
    })
}

#[utoipa::path(get, path = "/sim/api/faults", tag = "Simulator: control",
    responses((status = 200, description = "`{failurePercent, errorCode, extraLatencyMs}`")))]
pub(crate) async fn faults(State(sim): State<Simulator>) -> Json<Faults> {
    Json(sim.inner.state().faults)
}

/// Sets the faults of `POST /graph/{version}/{phone-number-id}/messages`: every answer
/// waits `extraLatencyMs` (0–60000), and `failurePercent` (0–100) of the sends fail with
/// `errorCode`, one of 131000, 131026, 131047, 131048, 131049, 131053, 131056, 130429,
/// 131016, 131057, 133004, 132015, 132016, 368.
#[utoipa::path(put, path = "/sim/api/faults", tag = "Simulator: control",
    request_body(content = Object, content_type = "application/json", description = "`{failurePercent, errorCode, extraLatencyMs}`"),
    responses((status = 200, description = "the faults now set"), (status = 400, description = "`{error}`: a value out of range or an unknown code")))]
pub(crate) async fn set_faults(
    State(sim): State<Simulator>,
    body: Result<Json<Value>, JsonRejection>,
) -> Result<Json<Faults>, ControlError> {
    let Json(body) = body.map_err(|e| bad(format!("the body must be a JSON object: {e}")))?;
    let faults = parse(&body)?;
    sim.inner.state().faults = faults;
    Ok(Json(faults))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn every_code_the_console_offers_is_known_once() {
        let mut codes: Vec<u32> = FAULT_CODES.iter().map(|f| f.code).collect();
        codes.sort_unstable();
        codes.dedup();
        assert_eq!(codes.len(), FAULT_CODES.len());
        assert_eq!(
            codes,
            [
                368, 130429, 131000, 131016, 131026, 131047, 131048, 131049, 131053, 131056,
                131057, 132015, 132016, 133004
            ]
        );
    }

    #[test]
    fn values_are_whole_and_in_range() {
        let ok = json!({"failurePercent": 100, "errorCode": 368, "extraLatencyMs": 60000});
        assert_eq!(
            parse(&ok).ok(),
            Some(Faults {
                failure_percent: 100,
                error_code: 368,
                extra_latency_ms: 60000
            })
        );
        for bad in [
            json!({"failurePercent": 101, "errorCode": 131000, "extraLatencyMs": 0}),
            json!({"failurePercent": 2.5, "errorCode": 131000, "extraLatencyMs": 0}),
            json!({"failurePercent": -1, "errorCode": 131000, "extraLatencyMs": 0}),
            json!({"failurePercent": 1, "errorCode": 999, "extraLatencyMs": 0}),
            json!({"failurePercent": 1, "errorCode": 131000, "extraLatencyMs": 60001}),
            json!({"failurePercent": 1, "errorCode": 131000}),
        ] {
            assert!(parse(&bad).is_err(), "{bad}");
        }
    }
}
