//! The user answers a business message on the phone: taps a template's quick-reply button
//! or an interactive reply button, picks a list row, presses a call-to-action URL, shares a
//! location after a location request, answers a call-permission request, or completes a
//! Flow. Each answer reaches the business as the webhook WhatsApp would send, quoting the
//! message answered (`context.id`).
//!
//! `POST /api/phones/{msisdn}/tap` with `messageId` and one of: `index` (a button, with
//! `cardIndex` for a button on a carousel card), `rowId` (a list row), `location`,
//! `callPermission`, `flowResponse`.

use crate::wire::Location;
use crate::wire::{
    ButtonReply, CallPermissionReply, InboundContext, InboundInteractive, InboundWire, NfmReply,
    ReplyWire,
};
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::post;
use axum::{Json, Router};
use chrono::{DateTime, Duration, Utc};
use parley_types::Clock;
use serde::Deserialize;
use serde_json::{Map, Value, json};

use crate::Simulator;
use crate::control::{Answer, ControlError};
use crate::interactive_send::{Answerable, InteractiveSend, Refusal};
use crate::state::{Business, PhoneMessage, State as SimState};

/// How long a temporary call permission lasts (WhatsApp: 7 days).
const CALL_PERMISSION_DAYS: i64 = 7;

pub fn router() -> Router<Simulator> {
    Router::new().route("/api/phones/{msisdn}/tap", post(tap))
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Tap {
    /// wamid of the business message the user answers.
    message_id: String,
    /// A button's position (0-based): a template quick reply, a reply button, or the one
    /// button of a call-to-action message.
    index: Option<usize>,
    /// The carousel card (0-based) whose button `index` is.
    card_index: Option<usize>,
    /// The id of the list row picked.
    row_id: Option<String>,
    /// The location shared in answer to a location request.
    location: Option<Location>,
    /// `accept` or `reject`, answering a call-permission request.
    call_permission: Option<String>,
    /// With `callPermission: accept`: always allow, rather than for 7 days.
    #[serde(default)]
    permanent: bool,
    /// The answers of a completed Flow.
    flow_response: Option<Map<String, Value>>,
}

fn bad(message: impl Into<String>) -> ControlError {
    ControlError(StatusCode::BAD_REQUEST, message.into())
}

/// What the user's answer sends to the business, or the page the phone opens.
enum Reply {
    Send {
        kind: &'static str,
        fill: Box<dyn FnOnce(&mut InboundWire) -> Value>,
    },
    Open(String),
}

fn interactive(kind: &str, fill: impl FnOnce(&mut InboundInteractive)) -> Reply {
    let mut answer = InboundInteractive {
        kind: kind.into(),
        ..InboundInteractive::default()
    };
    fill(&mut answer);
    Reply::Send {
        kind: "interactive",
        fill: Box::new(move |wire| {
            let value = serde_json::to_value(&answer).expect("serialises");
            wire.interactive = Some(answer);
            value
        }),
    }
}

/// The answer `tap` gives to a template message.
fn template_reply(state: &SimState, business: &Business, tap: &Tap) -> Result<Reply, ControlError> {
    let message = &state.template_sends[&tap.message_id];
    let index = tap
        .index
        .ok_or_else(|| bad("a template answer is a button tap: give its index"))?;
    let template = state
        .templates
        .iter()
        .find(|t| {
            t.waba_id == business.waba_id
                && t.name == message.name
                && t.language == message.language
        })
        .ok_or_else(|| bad("the template was deleted"))?;
    let (text, payload) = match tap.card_index {
        // A carousel card's quick reply comes back like any template's: a `button`
        // message with the payload the send gave that card's button.
        Some(card) => template
            .card_quick_reply(message, card, index)
            .ok_or_else(|| {
                bad(format!(
                    "button {index} of card {card} is not a quick reply"
                ))
            })?,
        None if template.is_carousel() => {
            return Err(bad(
                "a carousel's buttons are on its cards: give cardIndex with the index",
            ));
        }
        None => template
            .quick_reply(message, index)
            .ok_or_else(|| bad(format!("button {index} is not a quick reply")))?,
    };
    Ok(Reply::Send {
        kind: "button",
        fill: Box::new(move |wire| {
            let value = json!({ "text": text, "payload": payload });
            wire.button = Some(ButtonReply { payload, text });
            value
        }),
    })
}

/// The answer `tap` gives to an interactive message.
fn interactive_reply(
    message: &InteractiveSend,
    tap: Tap,
    now: DateTime<Utc>,
) -> Result<Reply, ControlError> {
    let wrong = || {
        bad(format!(
            "a {} message cannot be answered that way",
            message.kind
        ))
    };
    Ok(match &message.answerable {
        Answerable::ReplyButtons(buttons) => {
            let index = tap.index.ok_or_else(wrong)?;
            let button = buttons
                .get(index)
                .ok_or_else(|| bad(format!("there is no button {index}")))?
                .clone();
            interactive("button_reply", |a| {
                a.button_reply = Some(ReplyWire {
                    id: button.id,
                    title: button.title,
                    description: None,
                });
            })
        }
        Answerable::List(rows) => {
            let row_id = tap.row_id.ok_or_else(wrong)?;
            let row = rows
                .iter()
                .find(|r| r.id == row_id)
                .ok_or_else(|| bad(format!("there is no row {row_id:?}")))?
                .clone();
            interactive("list_reply", |a| {
                a.list_reply = Some(ReplyWire {
                    id: row.id,
                    title: row.title,
                    description: row.description,
                });
            })
        }
        Answerable::CtaUrl(url) if tap.index == Some(0) => Reply::Open(url.clone()),
        Answerable::LocationRequest => {
            let location = tap
                .location
                .filter(|l| l.latitude.abs() <= 90.0 && l.longitude.abs() <= 180.0)
                .ok_or_else(|| bad("share a location with numeric latitude and longitude"))?;
            Reply::Send {
                kind: "location",
                fill: Box::new(move |wire| {
                    let value = serde_json::to_value(&location).expect("serialises");
                    wire.location = Some(location);
                    value
                }),
            }
        }
        Answerable::CallPermissionRequest => {
            let response = tap.call_permission.ok_or_else(wrong)?.to_ascii_lowercase();
            if response != "accept" && response != "reject" {
                return Err(bad("callPermission must be accept or reject"));
            }
            let temporary = response == "accept" && !tap.permanent;
            let expiry =
                temporary.then(|| (now + Duration::days(CALL_PERMISSION_DAYS)).timestamp());
            interactive("call_permission_reply", |a| {
                a.call_permission_reply = Some(CallPermissionReply {
                    is_permanent: response == "accept" && tap.permanent,
                    response,
                    expiration_timestamp: expiry,
                    response_source: Some("user_action".into()),
                });
            })
        }
        Answerable::Flow => {
            let mut answers = tap.flow_response.ok_or_else(wrong)?;
            // Without a flow_token on the send, WhatsApp reports the default one.
            answers
                .entry("flow_token")
                .or_insert_with(|| Value::from("unused"));
            let response_json = Value::Object(answers).to_string();
            interactive("nfm_reply", |a| {
                a.nfm_reply = Some(NfmReply {
                    name: Some("flow".into()),
                    body: Some("Sent".into()),
                    response_json,
                });
            })
        }
        Answerable::CtaUrl(_) | Answerable::Nothing => return Err(wrong()),
    })
}

#[utoipa::path(post, path = "/sim/api/phones/{msisdn}/tap", tag = "Simulator: control", params(("msisdn" = String, Path)), request_body(content = Object, content_type = "application/json"), responses((status = 200, description = "the user's answer (a message to the business, or the page opened)")))]
pub(crate) async fn tap(
    State(sim): State<Simulator>,
    Path(msisdn): Path<String>,
    Json(tap): Json<Tap>,
) -> Answer {
    let wa_id = crate::control::wa_id(&msisdn)?;
    let now = sim.clock().now();
    let mut state = sim.inner.state();
    let (owner, answered) = state
        .bubble(&tap.message_id)
        .map(|(owner, b)| (owner.to_owned(), b.clone()))
        .ok_or_else(|| bad(format!("no message {}", tap.message_id)))?;
    if owner != wa_id || answered.direction != "from_business" {
        return Err(bad(format!(
            "{} is not a business message on this phone",
            tap.message_id
        )));
    }
    let business = state
        .business(&answered.phone_number_id)
        .cloned()
        .ok_or_else(|| bad("the business number is gone"))?;
    let message_id = tap.message_id.clone();
    let reply = if state.template_sends.contains_key(&tap.message_id) {
        template_reply(&state, &business, &tap)?
    } else if tap.card_index.is_some() {
        return Err(bad("cardIndex is for a carousel template's cards"));
    } else if answered.kind == "interactive" {
        let message = crate::interactive_send::read(&answered.message).map_err(|r| match r {
            Refusal::Unreadable(why) | Refusal::Invalid(why) => bad(why),
        })?;
        interactive_reply(&message, tap, now)?
    } else {
        return Err(bad(format!(
            "a {} message has nothing to tap",
            answered.kind
        )));
    };
    let bubble: PhoneMessage = match reply {
        Reply::Open(url) => return Ok(Json(json!({ "opened": url }))),
        Reply::Send { kind, fill } => {
            let mut wire = InboundWire {
                from: wa_id.clone(),
                id: crate::graph::new_wamid(),
                timestamp: now.timestamp().to_string(),
                kind: kind.into(),
                context: Some(InboundContext {
                    from: None,
                    id: Some(message_id),
                }),
                ..InboundWire::default()
            };
            let message = fill(&mut wire);
            state.user_sends(&business, &wa_id, wire, message, now)
        }
    };
    drop(state);
    sim.inner.wake.notify_one();
    Ok(Json(serde_json::to_value(bubble).expect("serialises")))
}
