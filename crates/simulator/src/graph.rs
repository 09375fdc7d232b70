//! The Graph API emulator: `POST /graph/{version}/{phone-number-id}/messages` for sends and
//! mark-as-read, with Meta's response and error shapes (`reference/meta-cloud-api.md` §1, §5).

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use bytes::Bytes;
use parley_types::Clock;
use parley_types::media::MediaKind;
use rand::Rng;
use serde_json::{Value, json};

use crate::faults::Delivery;
use crate::interactive_send::{self, Refusal};
use crate::persist::SendRecord;
use crate::state::{AcceptedSend, Failure, PhoneMessage, Scheduled};
use crate::template_send::{self, TemplateSend};
use crate::wire::{
    ContactRef, ErrorBody, ErrorData, GraphError, MessageRef, SendRequest, SendResponse,
};
use crate::{NOT_ON_WHATSAPP_PREFIX, Simulator};

pub fn router() -> Router<Simulator> {
    Router::new().route("/graph/{version}/{node}/messages", post(messages))
}

/// A Graph error response.
pub(crate) struct GraphFailure {
    status: StatusCode,
    code: u32,
    title: String,
    details: String,
    /// Graph's own wording and exception type where it is not `(#code) title`.
    message: Option<(String, &'static str)>,
}

pub(crate) fn fail(
    status: StatusCode,
    code: u32,
    title: impl Into<String>,
    details: impl Into<String>,
) -> GraphFailure {
    GraphFailure {
        status,
        code,
        title: title.into(),
        details: details.into(),
        message: None,
    }
}

/// What Graph answers for an object that does not exist (or is gone, or is not the
/// caller's): HTTP 400, code 100 (subcode 33), in its `GraphMethodException` wording.
pub(crate) fn missing(verb: &str, id: &str) -> GraphFailure {
    let message = format!(
        "Unsupported {verb} request. Object with ID '{id}' does not exist, cannot be loaded due to missing permissions, or does not support this operation. Please read the Graph API documentation at https://developers.facebook.com/docs/graph-api"
    );
    GraphFailure {
        message: Some((message.clone(), "GraphMethodException")),
        ..invalid(message)
    }
}

pub(crate) fn invalid(details: impl Into<String>) -> GraphFailure {
    fail(StatusCode::BAD_REQUEST, 100, "Invalid parameter", details)
}

impl IntoResponse for GraphFailure {
    fn into_response(self) -> Response {
        let trace: String = {
            let mut rng = rand::rng();
            (0..23)
                .map(|_| char::from(rng.random_range(b'A'..=b'Z')))
                .collect()
        };
        let (message, kind) = self
            .message
            .unwrap_or_else(|| (format!("(#{}) {}", self.code, self.title), "OAuthException"));
        let body = ErrorBody {
            error: GraphError {
                message,
                kind: kind.into(),
                code: self.code,
                error_data: Some(ErrorData {
                    messaging_product: Some("whatsapp".into()),
                    details: self.details,
                }),
                fbtrace_id: Some(trace),
            },
        };
        (self.status, Json(body)).into_response()
    }
}

pub fn new_wamid() -> String {
    let mut rng = rand::rng();
    let id: String = (0..40)
        .map(|_| {
            let c = rng.random_range(0..62u8);
            char::from(match c {
                0..=9 => b'0' + c,
                10..=35 => b'A' + c - 10,
                _ => b'a' + c - 36,
            })
        })
        .collect();
    format!("wamid.{id}")
}

/// Graph requests must carry the configured access token.
pub(crate) fn authorise(sim: &Simulator, headers: &HeaderMap) -> Result<(), GraphFailure> {
    let valid = headers
        .get(axum::http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .is_some_and(|token| token == sim.inner.config.access_token);
    if valid {
        return Ok(());
    }
    Err(fail(
        StatusCode::UNAUTHORIZED,
        190,
        "Access token has expired or is invalid",
        "Error validating access token",
    ))
}

#[utoipa::path(post, path = "/sim/graph/{version}/{phone_number_id}/messages", tag = "Simulator: Graph API", params(("version" = String, Path), ("phone_number_id" = String, Path)), responses((status = 200, description = "accepted"), (status = 400, description = "Graph error object")))]
pub(crate) async fn messages(
    State(sim): State<Simulator>,
    Path((_version, phone_number_id)): Path<(String, String)>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, GraphFailure> {
    let latency = sim.inner.extra_latency();
    if !latency.is_zero() {
        tokio::time::sleep(latency).await;
    }
    authorise(&sim, &headers)?;
    if sim.inner.state().business(&phone_number_id).is_none() {
        return Err(invalid(format!(
            "Unsupported post request. Object with ID '{phone_number_id}' does not exist"
        )));
    }
    let request: SendRequest = serde_json::from_slice(&body).map_err(|e| invalid(e.to_string()))?;
    if request.messaging_product != "whatsapp" {
        return Err(invalid("messaging_product must be \"whatsapp\""));
    }
    if request.status.is_some() {
        return mark_read(&sim, &phone_number_id, &request)
            .map(|()| Json(json!({"success": true})).into_response());
    }
    send(&sim, &phone_number_id, request)
        .await
        .map(|r| Json(r).into_response())
}

fn mark_read(
    sim: &Simulator,
    phone_number_id: &str,
    request: &SendRequest,
) -> Result<(), GraphFailure> {
    if request.status.as_deref() != Some("read") {
        return Err(invalid("status must be \"read\""));
    }
    let wamid = request.message_id.as_deref().ok_or_else(|| {
        fail(
            StatusCode::BAD_REQUEST,
            131008,
            "Required parameter is missing",
            "message_id is required",
        )
    })?;
    let mut state = sim.inner.state();
    let Some((_, bubble)) = state.bubble_mut(wamid) else {
        return Err(invalid(format!("Invalid message_id {wamid}")));
    };
    if bubble.direction != "from_user" || bubble.phone_number_id != phone_number_id {
        return Err(invalid(format!(
            "message {wamid} was not sent to this business number"
        )));
    }
    bubble.status = "read".into();
    bubble.typing = request.typing_indicator.is_some();
    Ok(())
}

/// The content object of a send, checked like Meta checks it.
fn content(request: &SendRequest) -> Result<(String, Value), GraphFailure> {
    let kind = request
        .kind
        .as_deref()
        .unwrap_or("text")
        .to_ascii_lowercase();
    let missing = || {
        fail(
            StatusCode::BAD_REQUEST,
            131008,
            "Required parameter is missing",
            format!("the {kind} object is required for type {kind}"),
        )
    };
    let value = match kind.as_str() {
        "text" => {
            let text = request.text.as_ref().ok_or_else(missing)?;
            if text.body.is_empty() || text.body.chars().count() > 4096 {
                return Err(invalid("text.body must be 1 to 4096 characters"));
            }
            serde_json::to_value(text)
        }
        "image" | "video" | "audio" | "document" | "sticker" => {
            let media = match kind.as_str() {
                "image" => &request.image,
                "video" => &request.video,
                "audio" => &request.audio,
                "document" => &request.document,
                _ => &request.sticker,
            }
            .as_ref()
            .ok_or_else(missing)?;
            if media.id.is_some() == media.link.is_some() {
                return Err(invalid(format!("{kind} needs exactly one of id or link")));
            }
            if media.caption.is_some() && matches!(kind.as_str(), "audio" | "sticker") {
                return Err(invalid(format!("{kind} messages cannot have a caption")));
            }
            serde_json::to_value(media)
        }
        "location" => serde_json::to_value(request.location.as_ref().ok_or_else(missing)?),
        "template" => {
            let template = request.template.as_ref().ok_or_else(missing)?;
            template_send::read(template).map_err(|e| {
                fail(
                    StatusCode::BAD_REQUEST,
                    131008,
                    "Required parameter is missing",
                    e,
                )
            })?;
            Ok(template.clone())
        }
        "interactive" => {
            let interactive = request.interactive.as_ref().ok_or_else(missing)?;
            interactive_send::read(interactive).map_err(|refusal| match refusal {
                Refusal::Unreadable(details) => invalid(details),
                Refusal::Invalid(details) => fail(
                    StatusCode::BAD_REQUEST,
                    131009,
                    "Parameter value is not valid",
                    details,
                ),
            })?;
            Ok(interactive.clone())
        }
        "reaction" => {
            let reaction = request.reaction.as_ref().ok_or_else(missing)?;
            if reaction.emoji.chars().count() > 10 {
                return Err(fail(
                    StatusCode::BAD_REQUEST,
                    131009,
                    "Parameter value is not valid",
                    "reaction.emoji must be one emoji",
                ));
            }
            serde_json::to_value(reaction)
        }
        other => {
            return Err(fail(
                StatusCode::BAD_REQUEST,
                131051,
                "Unsupported message type",
                format!("type {other} is not supported by the simulator yet"),
            ));
        }
    };
    Ok((kind, value.map_err(|e| invalid(e.to_string()))?))
}

/// Where a send's media comes from.
enum Source {
    /// Media the business uploaded.
    Id(String),
    /// A URL the simulator downloads.
    Link(String),
}

/// The media a send carries: its own (image, video, …) or its template's header.
struct Wanted {
    kind: MediaKind,
    source: Source,
}

/// Media a send will show, once it is known to go through.
enum Ready {
    Uploaded(String),
    Fetched(Box<crate::media::StoredMedia>),
}

fn source(object: &Value) -> Option<Source> {
    let field = |key| object.get(key).and_then(Value::as_str).map(str::to_owned);
    // A link first, as the template parser reads it.
    field("link")
        .map(Source::Link)
        .or_else(|| field("id").map(Source::Id))
}

/// The media of a send; `None` for the text path, at no cost.
fn wanted_media(request: &SendRequest, kind: &str, message: &Value) -> Option<Wanted> {
    match kind {
        "image" | "video" | "audio" | "document" | "sticker" => Some(Wanted {
            kind: crate::media::kind_of(kind)?,
            source: source(message)?,
        }),
        "template" => {
            let components = request.template.as_ref()?.get("components")?.as_array()?;
            let header = components.iter().find(|c| {
                c.get("type")
                    .and_then(Value::as_str)
                    .is_some_and(|t| t.eq_ignore_ascii_case("header"))
            })?;
            let parameter = header.get("parameters")?.as_array()?.first()?;
            let name = parameter.get("type")?.as_str()?.to_ascii_lowercase();
            Some(Wanted {
                kind: crate::media::kind_of(&name)?,
                source: source(parameter.get(&name)?)?,
            })
        }
        _ => None,
    }
}

/// Uploaded files that carousel cards show by id stay as long as the chat does.
fn show_card_media(state: &mut crate::state::State, message: &TemplateSend) {
    for card in &message.cards {
        let id = match card.header.as_ref().and_then(|h| h.media()) {
            Some(id) if !id.contains("://") => id,
            _ => continue,
        };
        if let Some(media) = state.media.get_mut(id) {
            media.shown = true;
        }
    }
}

async fn send(
    sim: &Simulator,
    phone_number_id: &str,
    request: SendRequest,
) -> Result<SendResponse, GraphFailure> {
    let (to, wa_id) = recipient(sim, phone_number_id, &request)?;
    let (kind, mut message) = content(&request)?;
    let template_message = match &request.template {
        Some(t) if kind == "template" => Some(template_send::read(t).map_err(invalid)?),
        _ => None,
    };
    let wanted = wanted_media(&request, &kind, &message);
    let inner = &sim.inner;
    // An injected fault comes first: a refused send takes nothing, a failed one is
    // accepted and fails without its media being fetched.
    let injected = match inner.injected_fault() {
        Some(fault) => match fault.delivery {
            Delivery::Refused(status) => {
                return Err(fail(status, fault.code, fault.title, fault.details));
            }
            Delivery::Failed => Some(fault.failure()),
        },
        None => None,
    };
    let admit = |state: &mut crate::state::State, now| {
        state
            .throughput
            .admit(phone_number_id, &wa_id, now)
            .map_err(|f| fail(StatusCode::BAD_REQUEST, f.code, f.title, f.details))
    };
    // Like Meta, a send by link is accepted and the link downloaded afterwards; the
    // download happens outside the lock, between admission and delivery.
    let fetched = match &wanted {
        Some(Wanted {
            kind: media_kind,
            source: Source::Link(link),
        }) if injected.is_none() => {
            admit(&mut inner.state(), inner.clock.now())?;
            Some(crate::media_api::fetch_for_send(inner, link, *media_kind).await)
        }
        _ => None,
    };
    let now = inner.clock.now();
    let wamid = new_wamid();
    // The state guard is scoped, not dropped: a guard merely dropped before an await
    // still makes the future not `Send`.
    let (seq, journaled) = {
        let mut state = inner.state();
        let business = state
            .business(phone_number_id)
            .cloned()
            .expect("checked by the handler");
        if fetched.is_none() {
            admit(&mut state, now)?;
        }
        let mut template_category = None;
        let failure = if injected.is_some() {
            injected
        } else if wa_id.starts_with(NOT_ON_WHATSAPP_PREFIX) {
            Some(Failure {
                code: 131026,
                title: "Message undeliverable".into(),
                details: "the recipient is not a WhatsApp user".into(),
            })
        } else if state.quality.blocked(phone_number_id, &wa_id) {
            Some(Failure {
                code: 131026,
                title: "Message undeliverable".into(),
                details: "the recipient blocked this business number".into(),
            })
        } else if let Some(template_message) = &template_message {
            // Templates may start a conversation: no window needed, only a sendable template.
            let template = state.templates.iter().find(|t| {
                t.waba_id == business.waba_id
                    && t.name == template_message.name
                    && t.language == template_message.language
            });
            match template {
                None => Some(Failure {
                    code: 132001,
                    title: "Template name does not exist in the translation".into(),
                    details: format!(
                        "template {} ({}) does not exist",
                        template_message.name, template_message.language
                    ),
                }),
                Some(template) => match template.send_failure(template_message) {
                    Some((code, title, details)) => Some(Failure {
                        code,
                        title: title.into(),
                        details,
                    }),
                    None => {
                        message = template.bubble(template_message);
                        template_category = Some(template.category.clone());
                        None
                    }
                },
            }
        } else if !state.windows.service_open(phone_number_id, &wa_id, now) {
            Some(Failure {
            code: 131047,
            title: "Re-engagement message".into(),
            details: "more than 24 hours have passed since the recipient last replied to the sender number".into(),
        })
        } else {
            None
        };
        // The media last: a message that fails for its media was never going to be sent.
        let mut ready = None;
        let (media_id, media_link) = match &wanted {
            Some(Wanted {
                source: Source::Id(id),
                ..
            }) => (Some(id.clone()), None),
            Some(Wanted {
                source: Source::Link(link),
                ..
            }) => (None, Some(link.clone())),
            None => (None, None),
        };
        let failure = match (failure, wanted, fetched) {
            (Some(failure), _, _) | (None, _, Some(Err(failure))) => Some(failure),
            (None, _, Some(Ok(media))) => {
                ready = Some(Ready::Fetched(Box::new(media)));
                None
            }
            (
                None,
                Some(Wanted {
                    kind: media_kind,
                    source: Source::Id(id),
                }),
                None,
            ) => match state.media.sendable(&id, phone_number_id, media_kind, now) {
                Ok(()) => {
                    ready = Some(Ready::Uploaded(id));
                    None
                }
                Err(details) => Some(crate::media_api::upload_failure(details)),
            },
            (None, _, None) => None,
        };
        // A template that starts a conversation counts against the messaging limit.
        let failure = match failure {
            None if template_category.is_some() => {
                state.template_reaches(&business, &wa_id, now).err()
            }
            failure => failure,
        };
        if failure.is_none() {
            state.messaged(&business, &wa_id, now);
        }
        // The business answering may open a free entry point, which the price reflects.
        let pricing = failure.is_none().then(|| {
            state.windows.business_replied(phone_number_id, &wa_id, now);
            state
                .windows
                .price(phone_number_id, &wa_id, template_category.as_deref(), now)
        });
        let mut record = SendRecord {
            to: wa_id.clone(),
            accepted: AcceptedSend {
                id: wamid.clone(),
                phone_number_id: phone_number_id.to_owned(),
                to: wa_id.clone(),
                kind: kind.clone(),
                callback_data: request.biz_opaque_callback_data.clone(),
                media_id,
                media_link,
                at: now,
                error_code: failure.as_ref().map(|f| f.code),
                pricing: pricing.clone(),
            },
            bubble: None,
            template: None,
            receipts: Vec::new(),
            replied: failure.is_none().then_some(now),
        };
        let status = |status: &str, failure: Option<Failure>| Scheduled::Status {
            wamid: wamid.clone(),
            phone_number_id: phone_number_id.to_owned(),
            recipient: wa_id.clone(),
            callback_data: request.biz_opaque_callback_data.clone(),
            status: status.to_owned(),
            pricing: failure.is_none().then(|| pricing.clone()).flatten(),
            failure,
        };
        match failure {
            // Like Meta, policy failures are accepted first and reported by a `failed` receipt.
            Some(failure) => record.receipts.push((now, status("failed", Some(failure)))),
            None => {
                if let Some(template_message) = template_message {
                    show_card_media(&mut state, &template_message);
                    record.template = Some(template_message);
                }
                let media_id = ready.map(|ready| match ready {
                    Ready::Uploaded(id) => {
                        if let Some(media) = state.media.get_mut(&id) {
                            media.shown = true;
                        }
                        id
                    }
                    Ready::Fetched(media) => state.media.insert_downloaded(*media, now),
                });
                record.bubble = Some(PhoneMessage {
                    id: wamid.clone(),
                    direction: "from_business".into(),
                    business_number: business.display_number.clone(),
                    phone_number_id: phone_number_id.to_owned(),
                    kind,
                    message,
                    status: "sent".into(),
                    timestamp: now,
                    context_id: request.context.as_ref().map(|c| c.message_id.clone()),
                    typing: false,
                    media_id,
                });
                let schedule = &inner.config.schedule;
                let delivered_at = now + inner.jitter(schedule.delivered_after);
                record.receipts.push((now, status("sent", None)));
                record
                    .receipts
                    .push((delivered_at, status("delivered", None)));
                if schedule.auto_read {
                    let read_at = delivered_at.max(now + inner.jitter(schedule.read_after));
                    record.receipts.push((read_at, status("read", None)));
                }
            }
        }
        // Answered only once on disk: WhatsApp never forgets a send it acknowledged.
        let journaled = inner.state_file.is_some().then(|| record.clone());
        state.journal_seq += 1;
        let seq = state.journal_seq;
        state.apply_send(record);
        (seq, journaled)
    };
    inner.wake.notify_one();
    if let (Some(file), Some(record)) = (&inner.state_file, journaled) {
        file.journal(seq, &record).await;
    }
    Ok(SendResponse {
        messaging_product: "whatsapp".into(),
        contacts: vec![if request.to.is_some() {
            ContactRef {
                input: to,
                wa_id: Some(wa_id),
                user_id: None,
            }
        } else {
            ContactRef {
                user_id: Some(to.clone()),
                input: to,
                wa_id: None,
            }
        }],
        messages: vec![MessageRef { id: wamid }],
    })
}

/// Who a send goes to: `to` (a phone number, any formatting) or `recipient` (the user's
/// business-scoped id, which WhatsApp resolves to the user it gave it to). Yields what
/// the sender wrote and the user's number.
fn recipient(
    sim: &Simulator,
    phone_number_id: &str,
    request: &SendRequest,
) -> Result<(String, String), GraphFailure> {
    if let Some(to) = &request.to {
        let wa_id: String = to.chars().filter(char::is_ascii_digit).collect();
        if wa_id.len() < 8 || wa_id.len() > 15 {
            return Err(invalid(format!("to {to:?} is not a phone number")));
        }
        return Ok((to.clone(), wa_id));
    }
    let Some(id) = &request.recipient else {
        return Err(fail(
            StatusCode::BAD_REQUEST,
            131008,
            "Required parameter is missing",
            "to or recipient is required",
        ));
    };
    if !crate::users::looks_like_bsuid(id) {
        return Err(invalid(format!(
            "recipient {id:?} is not a business-scoped user id"
        )));
    }
    let state = sim.inner.state();
    let waba_id = &state
        .business(phone_number_id)
        .ok_or_else(|| invalid("the business number is gone"))?
        .waba_id;
    state
        .known_users()
        .find(|wa_id| crate::users::bsuid(waba_id, wa_id).as_deref() == Some(id.as_str()))
        .map(|wa_id| (id.clone(), wa_id.to_owned()))
        .ok_or_else(|| {
            invalid(format!(
                "recipient {id} is not a user of this business account"
            ))
        })
}
