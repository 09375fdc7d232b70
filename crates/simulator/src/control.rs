//! The control API under `/api`: act as the end user, read what phones see, move the clock.
//! Scripts depend on `POST /api/phones/{msisdn}/messages`, `GET /api/phones/{msisdn}/messages`
//! and `POST /api/clock/advance`: keep them stable.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use chrono::Duration;
use parley_channel_meta::wire::{InboundContext, InboundMedia, InboundWire, ReferralWire, Text};
use parley_channels::Location;
use parley_types::Clock;
use rand::Rng;
use serde::Deserialize;
use serde_json::{Map, Value, json};

use crate::state::{Scheduled, display_name};
use crate::{NOT_ON_WHATSAPP_PREFIX, Simulator};

pub fn router() -> Router<Simulator> {
    Router::new()
        .route("/api/phones", get(list_phones))
        .route(
            "/api/phones/{msisdn}/messages",
            get(phone_messages).post(phone_sends),
        )
        .route("/api/phones/{msisdn}/read", post(phone_reads))
        .route("/api/clock", get(clock))
        .route("/api/clock/advance", post(advance_clock))
        .route("/api/sends", get(sends))
        .route("/api/businesses", get(businesses))
}

pub(crate) struct ControlError(pub(crate) StatusCode, pub(crate) String);

impl IntoResponse for ControlError {
    fn into_response(self) -> Response {
        (self.0, Json(json!({ "error": self.1 }))).into_response()
    }
}

fn bad(message: impl Into<String>) -> ControlError {
    ControlError(StatusCode::BAD_REQUEST, message.into())
}

pub(crate) type Answer = Result<Json<Value>, ControlError>;

/// A phone's wa_id from a path segment (`+15551234567` or its digits).
pub(crate) fn wa_id(raw: &str) -> Result<String, ControlError> {
    let digits = raw.trim().trim_start_matches('+');
    if (8..=15).contains(&digits.len())
        && digits.chars().all(|c| c.is_ascii_digit())
        && !digits.starts_with('0')
    {
        Ok(digits.to_owned())
    } else {
        Err(bad(format!("{raw:?} is not an E.164 phone number")))
    }
}

#[utoipa::path(get, path = "/sim/api/phones", tag = "Simulator: control", responses((status = 200, description = "simulated phones")))]
pub(crate) async fn list_phones(State(sim): State<Simulator>) -> Json<Value> {
    let state = sim.inner.state();
    let phones: Vec<Value> = state
        .phones
        .values()
        .map(|p| {
            json!({
                "msisdn": p.msisdn,
                "name": p.name,
                "messageCount": p.messages.len(),
                "lastMessageAt": p.messages.last().map(|m| m.timestamp),
            })
        })
        .collect();
    Json(json!({ "phones": phones }))
}

#[utoipa::path(get, path = "/sim/api/phones/{msisdn}/messages", tag = "Simulator: control", params(("msisdn" = String, Path)), responses((status = 200, description = "the chat as the phone sees it")))]
pub(crate) async fn phone_messages(
    State(sim): State<Simulator>,
    Path(msisdn): Path<String>,
) -> Answer {
    let wa_id = wa_id(&msisdn)?;
    let state = sim.inner.state();
    let (name, messages) = match state.phones.get(&wa_id) {
        Some(phone) => (phone.name.clone(), phone.messages.clone()),
        None => (display_name(&wa_id), Vec::new()),
    };
    Ok(Json(
        json!({ "msisdn": format!("+{wa_id}"), "name": name, "messages": messages }),
    ))
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct PhoneSend {
    #[serde(rename = "type")]
    kind: String,
    #[serde(default)]
    content: Map<String, Value>,
    channel_id: Option<String>,
    /// The profile name the business sees.
    name: Option<String>,
    /// wamid of the message the user replies to.
    reply_to: Option<String>,
    /// The click-to-WhatsApp ad or page button the user came from:
    /// `{sourceType: "ad"|"post", sourceId, sourceUrl, headline, body, ctwaClid}`.
    referral: Option<Map<String, Value>>,
}

/// Meta's `referral` object from the control API's camelCase (snake_case is read too).
fn referral(fields: &Map<String, Value>) -> ReferralWire {
    let field = |camel: &str, snake: &str| {
        fields
            .get(camel)
            .or_else(|| fields.get(snake))
            .and_then(Value::as_str)
            .map(str::to_owned)
    };
    ReferralWire {
        source_url: field("sourceUrl", "source_url"),
        source_id: field("sourceId", "source_id"),
        source_type: field("sourceType", "source_type").or_else(|| Some("ad".into())),
        headline: field("headline", "headline"),
        body: field("body", "body"),
        ctwa_clid: field("ctwaClid", "ctwa_clid"),
    }
}

fn mime_for(url: &str, kind: &str) -> String {
    let ext = url
        .split(['?', '#'])
        .next()
        .unwrap_or(url)
        .rsplit('.')
        .next()
        .unwrap_or("")
        .to_ascii_lowercase();
    match (kind, ext.as_str()) {
        (_, "png") => "image/png",
        (_, "jpg" | "jpeg") => "image/jpeg",
        (_, "webp") => "image/webp",
        (_, "mp4") => "video/mp4",
        (_, "3gp") => "video/3gpp",
        (_, "mp3") => "audio/mpeg",
        (_, "ogg" | "opus") => "audio/ogg; codecs=opus",
        (_, "aac") => "audio/aac",
        (_, "pdf") => "application/pdf",
        (_, "txt") => "text/plain",
        ("image", _) => "image/jpeg",
        ("video", _) => "video/mp4",
        ("audio", _) => "audio/ogg; codecs=opus",
        _ => "application/octet-stream",
    }
    .to_owned()
}

fn text_field(content: &Map<String, Value>, key: &str) -> Option<String> {
    content.get(key).and_then(Value::as_str).map(str::to_owned)
}

/// The Meta message object for what the phone sends.
fn user_message(send: &PhoneSend, wire: &mut InboundWire) -> Result<Value, ControlError> {
    let kind = send.kind.to_ascii_lowercase();
    match kind.as_str() {
        "text" => {
            let body = text_field(&send.content, "text")
                .filter(|t| !t.is_empty())
                .ok_or_else(|| bad("content.text is required"))?;
            let text = Text {
                body,
                preview_url: false,
            };
            wire.kind = "text".into();
            wire.text = Some(text.clone());
            Ok(serde_json::to_value(text).expect("serialises"))
        }
        "image" | "video" | "audio" | "file" | "document" => {
            let url =
                text_field(&send.content, "url").ok_or_else(|| bad("content.url is required"))?;
            let meta_kind = if kind == "file" {
                "document"
            } else {
                kind.as_str()
            };
            let media_id: String = {
                let mut rng = rand::rng();
                (0..16)
                    .map(|_| char::from(b'0' + rng.random_range(0..10u8)))
                    .collect()
            };
            let media = InboundMedia {
                id: media_id,
                mime_type: Some(mime_for(&url, meta_kind)),
                sha256: None,
                caption: text_field(&send.content, "text").filter(|_| meta_kind != "audio"),
                filename: text_field(&send.content, "fileName").filter(|_| meta_kind == "document"),
                url: Some(url),
            };
            wire.kind = meta_kind.into();
            let value = serde_json::to_value(&media).expect("serialises");
            match meta_kind {
                "image" => wire.image = Some(media),
                "video" => wire.video = Some(media),
                "audio" => wire.audio = Some(media),
                _ => wire.document = Some(media),
            }
            Ok(value)
        }
        "location" => {
            let location: Location = send
                .content
                .get("location")
                .cloned()
                .and_then(|l| serde_json::from_value(l).ok())
                .filter(|l: &Location| l.latitude.abs() <= 90.0 && l.longitude.abs() <= 180.0)
                .ok_or_else(|| bad("content.location needs numeric latitude and longitude"))?;
            wire.kind = "location".into();
            wire.location = Some(location.clone());
            Ok(serde_json::to_value(location).expect("serialises"))
        }
        other => Err(bad(format!(
            "phones can send text, image, video, audio, file or location, not {other:?}"
        ))),
    }
}

#[utoipa::path(post, path = "/sim/api/phones/{msisdn}/messages", tag = "Simulator: control", params(("msisdn" = String, Path)), request_body(content = Object, content_type = "application/json"), responses((status = 200, description = "the phone sent it")))]
pub(crate) async fn phone_sends(
    State(sim): State<Simulator>,
    Path(msisdn): Path<String>,
    Json(send): Json<PhoneSend>,
) -> Answer {
    let wa_id = wa_id(&msisdn)?;
    if wa_id.starts_with(NOT_ON_WHATSAPP_PREFIX) {
        return Err(bad(format!(
            "+{wa_id} is in the range of numbers that are not on WhatsApp"
        )));
    }
    let inner = &sim.inner;
    let now = inner.clock.now();
    let wamid = crate::graph::new_wamid();
    let mut wire = InboundWire {
        from: wa_id.clone(),
        id: wamid.clone(),
        timestamp: now.timestamp().to_string(),
        context: send.reply_to.clone().map(|id| InboundContext {
            from: None,
            id: Some(id),
        }),
        referral: send.referral.as_ref().map(referral),
        ..InboundWire::default()
    };
    let message = user_message(&send, &mut wire)?;
    let mut state = inner.state();
    let business = state
        .business_for(send.channel_id.as_deref())
        .cloned()
        .ok_or_else(|| ControlError(StatusCode::NOT_FOUND, "no such business number".into()))?;
    if let Some(name) = &send.name {
        state.phone(&wa_id).name = name.clone();
    }
    let bubble = state.user_sends(&business, &wa_id, wire, message, now);
    drop(state);
    inner.wake.notify_one();
    Ok(Json(serde_json::to_value(bubble).expect("serialises")))
}

#[derive(Debug, Default, Deserialize)]
pub(crate) struct ReadRequest {
    /// wamids to read; all unread business messages when absent.
    ids: Option<Vec<String>>,
}

#[utoipa::path(post, path = "/sim/api/phones/{msisdn}/read", tag = "Simulator: control", params(("msisdn" = String, Path)), responses((status = 200, description = "read receipts scheduled")))]
pub(crate) async fn phone_reads(
    State(sim): State<Simulator>,
    Path(msisdn): Path<String>,
    body: Option<Json<ReadRequest>>,
) -> Answer {
    let wa_id = wa_id(&msisdn)?;
    let ids = body.and_then(|Json(r)| r.ids);
    let inner = &sim.inner;
    let now = inner.clock.now();
    let mut state = inner.state();
    let unread: Vec<(String, String)> = state
        .phones
        .get(&wa_id)
        .map(|p| {
            p.messages
                .iter()
                .filter(|m| m.direction == "from_business" && m.status != "read")
                .filter(|m| ids.as_ref().is_none_or(|ids| ids.contains(&m.id)))
                .map(|m| (m.id.clone(), m.phone_number_id.clone()))
                .collect()
        })
        .unwrap_or_default();
    for (wamid, phone_number_id) in &unread {
        let send = state.sends.iter().rev().find(|s| &s.id == wamid);
        let callback_data = send.and_then(|s| s.callback_data.clone());
        let pricing = send.and_then(|s| s.pricing.clone());
        state.schedule(
            now,
            Scheduled::Status {
                wamid: wamid.clone(),
                phone_number_id: phone_number_id.clone(),
                recipient: wa_id.clone(),
                callback_data,
                status: "read",
                failure: None,
                pricing,
            },
        );
    }
    drop(state);
    inner.wake.notify_one();
    Ok(Json(json!({ "read": unread.len() })))
}

fn clock_json(sim: &Simulator) -> Value {
    let clock = sim.clock();
    json!({ "now": clock.now(), "offsetSeconds": clock.offset().num_seconds() })
}

#[utoipa::path(get, path = "/sim/api/clock", tag = "Simulator: control", responses((status = 200, description = "the clock")))]
pub(crate) async fn clock(State(sim): State<Simulator>) -> Json<Value> {
    Json(clock_json(&sim))
}

#[derive(Debug, Deserialize)]
pub(crate) struct Advance {
    seconds: f64,
}

#[utoipa::path(post, path = "/sim/api/clock/advance", tag = "Simulator: control", request_body(content = Object, content_type = "application/json"), responses((status = 200, description = "moved")))]
pub(crate) async fn advance_clock(
    State(sim): State<Simulator>,
    Json(advance): Json<Advance>,
) -> Answer {
    if !advance.seconds.is_finite() || advance.seconds < 0.0 || advance.seconds > 3.2e9 {
        return Err(bad("seconds must be a non-negative number of seconds"));
    }
    sim.clock()
        .advance(Duration::milliseconds((advance.seconds * 1000.0) as i64));
    sim.inner.wake.notify_one();
    Ok(Json(clock_json(&sim)))
}

#[utoipa::path(get, path = "/sim/api/sends", tag = "Simulator: control", responses((status = 200, description = "every send the Graph API accepted")))]
pub(crate) async fn sends(State(sim): State<Simulator>) -> Json<Value> {
    let state = sim.inner.state();
    Json(json!({ "sends": state.sends }))
}

#[utoipa::path(get, path = "/sim/api/businesses", tag = "Simulator: control", responses((status = 200, description = "registered business numbers")))]
pub(crate) async fn businesses(State(sim): State<Simulator>) -> Json<Value> {
    let state = sim.inner.state();
    Json(json!({ "businesses": state.businesses }))
}
