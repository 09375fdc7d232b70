//! The JSON bodies 8x8 posts to webhooks (`reference/chatapps-api.md` §6.2–6.5), built from
//! the change an outbox event points at: `inbound_message_received` (v3),
//! `outbound_message_status_changed` (v9) and the business-management envelope.

use parley_channels::{BusinessUpdate, BusinessUpdateKind};
use parley_store::{
    BusinessEvent, Direction, EventSubject, Message, MessageState, MessageStatus, StatusDetail,
    Template, TemplateHistoryEntry, WebhookEvent,
};
use parley_types::time::format_8x8;
use serde_json::{Map, Value, json};

use crate::interactive;

/// A stable id for the event, the same on every attempt, so receivers can drop
/// duplicates: the outbox id in UUID form (`eventId` of business-management events, and
/// the Standard Webhooks `webhook-id`).
pub fn event_uuid(event: &WebhookEvent) -> uuid::Uuid {
    // "parley-webhook" in the high bits keeps these apart from random (v4/v7) UUIDs.
    uuid::Uuid::from_u64_pair(0x7061_726c_6579_7768, event.id as u64)
}

/// The body posted for `event`, whose change is `subject`.
pub fn body(event: &WebhookEvent, subject: &EventSubject) -> Value {
    match subject {
        EventSubject::Status { message, status } => match message.direction {
            Direction::Inbound => inbound(message),
            Direction::Outbound => receipt(message, status),
        },
        EventSubject::Template {
            template,
            change,
            previous,
        } => template_event(event, template, change, previous.as_deref()),
        EventSubject::Business(business) => business_event(event, business),
    }
}

/// 8x8's v3 `channelUserId`: WhatsApp's business-scoped id for the user when WhatsApp
/// gave one, else the number's digits, as v2 did.
fn channel_user_id(message: &Message) -> String {
    message
        .channel_user_id
        .clone()
        .unwrap_or_else(|| message.msisdn.trim_start_matches('+').to_owned())
}

fn inbound(message: &Message) -> Value {
    let mut user = Map::new();
    user.insert("msisdn".into(), json!(message.msisdn));
    user.insert("channelUserId".into(), json!(channel_user_id(message)));
    if let Some(name) = &message.user_name {
        user.insert("name".into(), json!(name));
    }
    let mut payload = json!({
        "umid": message.umid,
        "subAccountId": message.sub_account_id,
        "timestamp": format_8x8(message.created_at),
        "user": user,
        "recipient": { "channel": "whatsapp", "channelId": message.channel_id },
        "type": message.content_type,
        "content": message.content,
    });
    if let Some(reply_to) = message.reply_to {
        payload["replyToUmid"] = json!(reply_to);
    }
    json!({
        "version": 3,
        "namespace": "ChatApps",
        "eventType": "inbound_message_received",
        "description": "ChatApps inbound message",
        "payload": payload,
    })
}

fn receipt(message: &Message, status: &MessageStatus) -> Value {
    let mut user = json!({ "msisdn": message.msisdn });
    let on_phone = status.detail == Some(StatusDetail::DeliveredToRecipient);
    // Only receipts from the user's phone carry the user's WhatsApp id.
    if on_phone || status.state == MessageState::Read {
        user["channelUserId"] = json!(channel_user_id(message));
    }
    let mut payload = json!({
        "umid": message.umid,
        "subAccountId": message.sub_account_id,
        "channel": "whatsapp",
        "user": user,
        "status": status.to_8x8(),
    });
    if let Some(cmid) = &message.client_message_id {
        payload["clientMessageId"] = json!(cmid);
    }
    if let Some(batch) = &message.batch {
        batch.write_ids(&mut payload);
    }
    let mut whatsapp = Map::new();
    if let Some(code) = &status.provider_error_code {
        whatsapp.insert("providerErrorCode".into(), json!(code));
    }
    // WhatsApp prices a message once it has it: the receipts from then on say how.
    if let Some(pricing) = &message.pricing
        && matches!(status.state, MessageState::Delivered | MessageState::Read)
    {
        whatsapp.insert("pricingCategory".into(), json!(pricing.category));
    }
    if !whatsapp.is_empty() {
        payload["whatsapp"] = Value::Object(whatsapp);
    }
    if on_phone {
        payload["outboundContent"] = outbound_content(message);
    }
    json!({
        "version": 9,
        "namespace": "ChatApps",
        "eventType": "outbound_message_status_changed",
        "description": "ChatApps outbound message delivery receipt",
        "payload": payload,
    })
}

/// Every run of 4 to 8 digits masked, as 8x8 masks one-time codes.
fn mask_codes(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut digits = String::new();
    let flush = |digits: &mut String, out: &mut String| {
        if (4..=8).contains(&digits.len()) {
            out.push_str("******");
        } else {
            out.push_str(digits);
        }
        digits.clear();
    };
    for c in text.chars() {
        if c.is_ascii_digit() {
            digits.push(c);
        } else {
            flush(&mut digits, &mut out);
            out.push(c);
        }
    }
    flush(&mut digits, &mut out);
    out
}

/// v9's `outboundContent`: what the user received, on the `delivered` receipt.
fn outbound_content(message: &Message) -> Value {
    let c = &message.content;
    let text = |pointer: &str| c.pointer(pointer).and_then(Value::as_str);
    let mut content = json!({ "channel": "whatsapp" });
    match message.content_type.as_str() {
        "Text" => {
            content["contentType"] = json!("text");
            content["body"] = json!({ "text": text("/text") });
        }
        "Location" => {
            content["contentType"] = json!("location");
            content["header"] = json!({ "type": "location", "location": c["location"] });
        }
        "Template" => {
            let name = text("/template/name");
            let authentication = c
                .pointer("/template/components")
                .and_then(Value::as_array)
                .is_some_and(|components| {
                    components.iter().any(|component| {
                        component
                            .get("subType")
                            .and_then(Value::as_str)
                            .is_some_and(|s| s.eq_ignore_ascii_case("copyCode"))
                    })
                });
            let carousel = c.pointer("/rendered/cards").is_some();
            content["contentType"] = json!(if authentication {
                "template_auth"
            } else if carousel {
                "carousel"
            } else {
                "template"
            });
            content["template"] = json!({ "name": name, "language": text("/template/language") });
            if let Some(body) = text("/rendered/body") {
                let body = if authentication {
                    mask_codes(body)
                } else {
                    body.to_owned()
                };
                content["body"] = json!({ "text": body });
            }
            if let Some(header) = text("/rendered/header") {
                content["header"] = json!({ "type": "text", "text": header });
            }
            if let Some(footer) = text("/rendered/footer") {
                content["footer"] = json!({ "text": footer });
            }
            content["meta"] = json!({ "redacted": authentication });
            if authentication {
                content["meta"]["redactionReason"] = json!("otp");
            }
        }
        "Interactive" => {
            content["contentType"] = json!("interactive");
            let kind = text("/interactive/type");
            if let Some(header) = text("/interactive/header/text") {
                content["header"] = json!({ "type": "text", "text": header });
            }
            if let Some(body) = text("/interactive/body/text") {
                content["body"] = json!({ "text": body });
            }
            if let Some(footer) = text("/interactive/footer/text") {
                content["footer"] = json!({ "text": footer });
            }
            if let Some(actions) = interactive::actions(c) {
                content["actions"] = actions;
            }
            content["meta"] = json!({ "redacted": false, "interactiveType": kind });
        }
        _ => {
            content["contentType"] = json!("media");
            content["header"] = json!({
                "type": message.content_type.to_ascii_lowercase(),
                "media": { "url": text("/url") },
            });
            if let Some(caption) = text("/text") {
                content["body"] = json!({ "text": caption });
            }
        }
    }
    content
}

fn cabm(event: &WebhookEvent, waba_id: &str, event_type: &str, details: Value) -> Value {
    json!({
        "eventId": event_uuid(event),
        "timestamp": format_8x8(event.created_at),
        "provider": "WhatsApp",
        "businessAccountId": waba_id,
        "accountId": event.account_id,
        "eventType": event_type,
        "eventDetails": details,
    })
}

fn template_event(
    event: &WebhookEvent,
    template: &Template,
    change: &TemplateHistoryEntry,
    previous: Option<&TemplateHistoryEntry>,
) -> Value {
    let (event_type, meta) = match previous {
        Some(p) if p.quality != change.quality && p.status == change.status => (
            "template_quality_update",
            json!({ "previousQualityScore": p.quality, "newQualityScore": change.quality }),
        ),
        Some(p) if p.category != change.category && p.status == change.status => (
            "template_category_update",
            json!({ "previousCategory": p.category, "newCategory": change.category }),
        ),
        _ => ("template_status_update", status_meta(change)),
    };
    // 8x8 documents `templateId` as a number (Meta's ids are numeric).
    let template_id = template
        .provider_template_id
        .as_deref()
        .map(|id| id.parse::<u64>().map_or_else(|_| json!(id), |n| json!(n)));
    cabm(
        event,
        &template.waba_id,
        event_type,
        json!({
            "templateId": template_id,
            "templateName": template.name,
            "templateLanguage": template.language,
            "meta": meta,
        }),
    )
}

/// 8x8's `meta` of a `template_status_update`: the status, the rejection reason, and a
/// pause's `otherInfo` or a flagged template's `disableInfo` when Meta gave them.
fn status_meta(change: &TemplateHistoryEntry) -> Value {
    let note = &change.note;
    let mut meta = json!({ "status": change.status });
    if let Some(reason) = &note.reason {
        meta["reason"] = json!(reason);
    }
    if let Some(info) = &note.other_info {
        meta["otherInfo"] = json!({ "title": info.title, "description": info.description });
    }
    if let Some(date) = note.disable_date {
        meta["disableInfo"] = json!({ "disableDate": format_8x8(date) });
    }
    meta
}

fn business_event(event: &WebhookEvent, business: &BusinessEvent) -> Value {
    cabm(
        event,
        &business.waba_id,
        &business.event_type,
        business.details.clone(),
    )
}

/// 8x8's `eventType` and `eventDetails` for a provider's business update: a number's
/// quality event keeps its display number on top and the rest under `meta`; an account
/// update passes its fields through (`event`, `phoneNumber`, `violationInfo`, …).
pub fn business_details(update: &BusinessUpdate) -> (&'static str, Value) {
    match update.kind {
        BusinessUpdateKind::NumberQuality => {
            let mut meta = match &update.fields {
                Value::Object(fields) => fields.clone(),
                _ => Map::new(),
            };
            let display = meta.remove("displayPhoneNumber").unwrap_or(Value::Null);
            (
                "phone_number_quality_update",
                json!({ "displayPhoneNumber": display, "meta": meta }),
            )
        }
        BusinessUpdateKind::Account => ("account_update", update.fields.clone()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_time_codes_are_masked_and_other_numbers_kept() {
        assert_eq!(
            mask_codes("852913 is your verification code. Valid 10 minutes."),
            "****** is your verification code. Valid 10 minutes."
        );
        assert_eq!(mask_codes("Order 12 of 123456789"), "Order 12 of 123456789");
    }
}
