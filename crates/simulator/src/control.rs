//! The control API under `/api`: act as the end user, read what phones see, move the clock.
//! Scripts depend on `POST /api/phones/{msisdn}/messages`, `GET /api/phones/{msisdn}/messages`
//! and `POST /api/clock/advance`: keep them stable.

use crate::wire::Location;
use crate::wire::{
    ErrorData, InboundContext, InboundMedia, InboundWire, ReferralWire, Text, UnsupportedWire,
    WebhookError,
};
use axum::extract::{OriginalUri, Path, State};
use axum::http::{StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use chrono::Duration;
use parley_types::Clock;
use parley_types::media::{MAX_MEDIA_BYTES, MediaKind};
use serde::Deserialize;
use serde_json::{Map, Value, json};

use crate::media::{Access, INBOUND_LIFETIME};
use crate::media_api::{PhoneMedia, media_link, phone_kind, phone_media};
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

/// Every phone with a chat: `{phones: [{msisdn, name, messageCount, lastMessageAt,
/// blocked, blockedBusinesses}]}`; `blocked` when the user blocked any business number,
/// `blockedBusinesses` the phone-number ids of those numbers.
#[utoipa::path(get, path = "/sim/api/phones", tag = "Simulator: control", responses((status = 200, description = "simulated phones")))]
pub(crate) async fn list_phones(State(sim): State<Simulator>) -> Json<Value> {
    let state = sim.inner.state();
    let phones: Vec<Value> = state
        .phones
        .iter()
        .map(|(wa_id, p)| {
            let blocked = state.quality.blocked_by(wa_id);
            json!({
                "msisdn": p.msisdn,
                "name": p.name,
                "messageCount": p.messages.len(),
                "lastMessageAt": p.messages.last().map(|m| m.timestamp),
                "blocked": !blocked.is_empty(),
                "blockedBusinesses": blocked,
            })
        })
        .collect();
    Json(json!({ "phones": phones }))
}

#[utoipa::path(get, path = "/sim/api/phones/{msisdn}/messages", tag = "Simulator: control", params(("msisdn" = String, Path)), responses((status = 200, description = "the chat as the phone sees it")))]
pub(crate) async fn phone_messages(
    State(sim): State<Simulator>,
    Path(msisdn): Path<String>,
    OriginalUri(original): OriginalUri,
    seen: Uri,
) -> Answer {
    let wa_id = wa_id(&msisdn)?;
    let state = sim.inner.state();
    let (name, messages) = match state.phones.get(&wa_id) {
        Some(phone) => (phone.name.clone(), phone.messages.clone()),
        None => (display_name(&wa_id), Vec::new()),
    };
    drop(state);
    let messages = with_media_links(
        serde_json::to_value(messages).expect("serialises"),
        &original,
        &seen,
    );
    Ok(Json(
        json!({ "msisdn": format!("+{wa_id}"), "name": name, "messages": messages }),
    ))
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct PhoneSend {
    #[serde(rename = "type")]
    kind: String,
    /// `text` for text (and captions); `location`; for image, video, audio, sticker and
    /// file: the file itself, as `url` (the simulator downloads it) or `mediaId` (from
    /// `POST /api/phones/{msisdn}/media`), and `fileName` for a file.
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
            "phones can send text, image, video, audio, sticker, file or location, not {other:?}"
        ))),
    }
}

#[utoipa::path(post, path = "/sim/api/phones/{msisdn}/messages", tag = "Simulator: control", params(("msisdn" = String, Path)), request_body(content = Object, content_type = "application/json"), responses((status = 200, description = "the phone sent it")))]
pub(crate) async fn phone_sends(
    State(sim): State<Simulator>,
    Path(msisdn): Path<String>,
    OriginalUri(original): OriginalUri,
    seen: Uri,
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
    let kind = phone_kind(&send.kind.to_ascii_lowercase());
    let (message, media) = match kind {
        None => (user_message(&send, &mut wire)?, None),
        // Downloaded before the lock is taken.
        Some(kind) => (
            Value::Null,
            Some((kind, phone_media(&sim, &wa_id, kind, &send.content).await?)),
        ),
    };
    let mut state = inner.state();
    let business = state
        .business_for(send.channel_id.as_deref())
        .cloned()
        .ok_or_else(|| ControlError(StatusCode::NOT_FOUND, "no such business number".into()))?;
    if let Some(name) = &send.name {
        state.phone(&wa_id).name = name.clone();
    }
    let (message, shown) = match media {
        None => (message, None),
        Some((kind, media)) => user_media(
            &mut state,
            &business,
            &send.content,
            &mut wire,
            kind,
            media,
            now,
        ),
    };
    let mut bubble = state.user_sends(&business, &wa_id, wire, message, now);
    if let Some((kind, media_id)) = shown {
        // The phone shows what the user sent, even when the business got `unsupported`.
        bubble.kind = kind.as_str().into();
        bubble.media_id = media_id;
        if let Some((_, kept)) = state.bubble_mut(&bubble.id) {
            kept.kind = bubble.kind.clone();
            kept.media_id = bubble.media_id.clone();
        }
    }
    drop(state);
    inner.wake.notify_one();
    Ok(Json(with_media_links(
        serde_json::to_value(bubble).expect("serialises"),
        &original,
        &seen,
    )))
}

/// Fills `wire` with what the phone sends: Meta's media object for a file the business
/// can now reach for 7 days, or `unsupported` with 131052 for one over 100 MB. The bubble's
/// content, and its kind and file.
fn user_media(
    state: &mut crate::state::State,
    business: &crate::state::Business,
    content: &Map<String, Value>,
    wire: &mut InboundWire,
    kind: MediaKind,
    media: PhoneMedia,
    now: chrono::DateTime<chrono::Utc>,
) -> (Value, Option<(MediaKind, Option<String>)>) {
    let caption = text_field(content, "text").filter(|_| {
        matches!(
            kind,
            MediaKind::Image | MediaKind::Video | MediaKind::Document
        )
    });
    let filename = |media_name: Option<&String>| {
        text_field(content, "fileName")
            .or_else(|| media_name.cloned())
            .filter(|_| kind == MediaKind::Document)
    };
    let mut media = match media {
        PhoneMedia::Ready(media) => media,
        PhoneMedia::TooLarge { size } => {
            wire.kind = "unsupported".into();
            wire.unsupported = Some(UnsupportedWire {
                kind: Some(kind.as_str().into()),
            });
            wire.errors = vec![WebhookError {
                code: 131052,
                title: "Media download error".into(),
                message: Some("Media download error".into()),
                error_data: Some(ErrorData {
                    messaging_product: None,
                    details: format!(
                        "the user's file is over the {MAX_MEDIA_BYTES} bytes WhatsApp passes on to businesses"
                    ),
                }),
            }];
            let shown = json!({"file_size": size, "caption": caption, "filename": filename(None)});
            return (shown, Some((kind, None)));
        }
    };
    if kind == MediaKind::Audio && media.mime == "audio/ogg" {
        // What WhatsApp reports for a voice note.
        media.mime = "audio/ogg; codecs=opus".into();
    }
    media.access = Some(Access {
        phone_number_id: business.phone_number_id.clone(),
        until: now + INBOUND_LIFETIME,
        from_user: true,
    });
    media.shown = true;
    media.staged_by = None;
    let inbound = InboundMedia {
        id: String::new(),
        mime_type: Some(media.mime.clone()),
        sha256: Some(media.sha256.clone()),
        caption,
        filename: filename(media.filename.as_ref()),
    };
    let id = state.media.insert(media, now);
    let inbound = InboundMedia {
        id: id.clone(),
        ..inbound
    };
    wire.kind = kind.as_str().into();
    let value = serde_json::to_value(&inbound).expect("serialises");
    match kind {
        MediaKind::Image => wire.image = Some(inbound),
        MediaKind::Video => wire.video = Some(inbound),
        MediaKind::Audio => wire.audio = Some(inbound),
        MediaKind::Sticker => wire.sticker = Some(inbound),
        MediaKind::Document => wire.document = Some(inbound),
    }
    (value, Some((kind, Some(id))))
}

/// Bubbles with a file get `mediaUrl`, where the control API serves it, and so do the
/// uploaded files of carousel cards' headers (`url`).
fn with_media_links(mut bubbles: Value, original: &Uri, seen: &Uri) -> Value {
    let link = |bubble: &mut Value| {
        if let Some(id) = bubble.get("mediaId").and_then(Value::as_str) {
            let url = media_link(original, seen, id);
            bubble["mediaUrl"] = Value::String(url);
        }
        let cards = bubble
            .pointer_mut("/message/cards")
            .and_then(Value::as_array_mut);
        for header in cards
            .into_iter()
            .flatten()
            .filter_map(|card| card.pointer_mut("/rendered/header"))
        {
            if let Some(id) = header.get("mediaId").and_then(Value::as_str) {
                header["url"] = Value::String(media_link(original, seen, id));
            }
        }
    };
    match &mut bubbles {
        Value::Array(list) => list.iter_mut().for_each(link),
        bubble => link(bubble),
    }
    bubbles
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
    if !unread.is_empty() {
        // Blue ticks on their way; the receipts move them as they are delivered.
        state.changes.phone(&wa_id);
    }
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
                status: "read".into(),
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
