//! Graph webhooks in: `messages` changes (user messages and receipts), template changes
//! (`message_template_status_update`, `message_template_quality_update`,
//! `template_category_update`) and business updates (`phone_number_quality_update`,
//! `account_update`) turned into [`ChannelEvent`]s. Other fields are skipped.

use chrono::{DateTime, TimeZone, Utc};
use parley_channels::{
    BusinessUpdate, BusinessUpdateKind, ChannelEvent, InboundContent, InboundMessage,
    InteractiveReply, MediaKind, Pricing, ProviderError, ProviderStatus, Referral, StatusReport,
    TemplateChange, TemplateEvent,
};
use parley_types::{OtherInfo, StatusNote};
use serde_json::Value;

use crate::wire::{
    Envelope, InboundInteractive, InboundMedia, InboundWire, MessagesValue, PricingWire, StatusWire,
};

#[derive(Debug, thiserror::Error)]
#[error("malformed webhook: {0}")]
pub struct MalformedWebhook(String);

pub fn parse(body: &[u8]) -> Result<Vec<ChannelEvent>, MalformedWebhook> {
    let envelope: Envelope =
        serde_json::from_slice(body).map_err(|e| MalformedWebhook(e.to_string()))?;
    let mut events = Vec::new();
    for entry in envelope.entry {
        let time = entry.time.and_then(|t| Utc.timestamp_opt(t, 0).single());
        for change in entry.changes {
            if let Some(event) = template_event(&entry.id, time, &change.field, &change.value)? {
                events.push(ChannelEvent::Template(event));
                continue;
            }
            if change.field == "messages" {
                messages(change.value, &mut events)?;
                continue;
            }
            if let Some(kind) = business_kind(&change.field) {
                events.push(ChannelEvent::Business(BusinessUpdate {
                    waba_id: entry.id.clone(),
                    kind,
                    fields: camel_case_keys(change.value),
                    timestamp: time,
                }));
            }
        }
    }
    Ok(events)
}

fn business_kind(field: &str) -> Option<BusinessUpdateKind> {
    match field {
        "phone_number_quality_update" => Some(BusinessUpdateKind::NumberQuality),
        "account_update" => Some(BusinessUpdateKind::Account),
        _ => None,
    }
}

/// Graph's snake_case keys in camelCase, at every depth (values untouched).
fn camel_case_keys(value: Value) -> Value {
    match value {
        Value::Object(map) => Value::Object(
            map.into_iter()
                .map(|(key, value)| (camel_case(&key), camel_case_keys(value)))
                .collect(),
        ),
        Value::Array(items) => Value::Array(items.into_iter().map(camel_case_keys).collect()),
        other => other,
    }
}

fn camel_case(key: &str) -> String {
    let mut out = String::with_capacity(key.len());
    let mut upper = false;
    for c in key.chars() {
        match c {
            '_' if !out.is_empty() => upper = true,
            c if upper => {
                out.extend(c.to_uppercase());
                upper = false;
            }
            c => out.push(c),
        }
    }
    out
}

fn text(value: &Value, key: &str) -> Option<String> {
    match value.get(key)? {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// Rejections say why in `reason`; pauses, unpauses and locks in `other_info`; a
/// flagged template when it will be disabled in `disable_info` (Unix seconds).
fn status_note(value: &Value) -> StatusNote {
    StatusNote {
        reason: text(value, "reason"),
        other_info: value.get("other_info").and_then(|info| {
            Some(OtherInfo {
                title: text(info, "title")?,
                description: text(info, "description"),
            })
        }),
        disable_date: value
            .pointer("/disable_info/disable_date")
            .and_then(Value::as_i64)
            .and_then(|secs| Utc.timestamp_opt(secs, 0).single()),
    }
}

/// A template change, when `field` is one of the template webhooks.
fn template_event(
    waba_id: &str,
    timestamp: Option<DateTime<Utc>>,
    field: &str,
    value: &Value,
) -> Result<Option<TemplateEvent>, MalformedWebhook> {
    let change = match field {
        "message_template_status_update" => TemplateChange::Status {
            status: text(value, "event")
                .ok_or_else(|| MalformedWebhook("template status update without event".into()))?,
            note: status_note(value),
        },
        "message_template_quality_update" => TemplateChange::Quality {
            previous: text(value, "previous_quality_score"),
            score: text(value, "new_quality_score").ok_or_else(|| {
                MalformedWebhook("template quality update without new_quality_score".into())
            })?,
        },
        "template_category_update" => TemplateChange::Category {
            previous: text(value, "previous_category"),
            category: text(value, "new_category").ok_or_else(|| {
                MalformedWebhook("template category update without new_category".into())
            })?,
        },
        _ => return Ok(None),
    };
    let required = |key: &str| {
        text(value, key).ok_or_else(|| MalformedWebhook(format!("{field} without {key}")))
    };
    Ok(Some(TemplateEvent {
        waba_id: waba_id.to_owned(),
        provider_template_id: text(value, "message_template_id"),
        name: required("message_template_name")?,
        language: required("message_template_language")?,
        change,
        timestamp,
    }))
}

fn messages(value: Value, events: &mut Vec<ChannelEvent>) -> Result<(), MalformedWebhook> {
    let value: MessagesValue =
        serde_json::from_value(value).map_err(|e| MalformedWebhook(e.to_string()))?;
    let pnid = value.metadata.phone_number_id.clone();
    for message in value.messages {
        let contact = value.contacts.iter().find(|c| c.wa_id == message.from);
        let name = contact
            .and_then(|c| c.profile.as_ref())
            .map(|p| p.name.clone());
        let user_id = contact.and_then(|c| c.user_id.clone());
        events.push(ChannelEvent::Message(inbound(
            &pnid, message, name, user_id,
        )?));
    }
    for (i, status) in value.statuses.into_iter().enumerate() {
        let mut report = status_report(&pnid, status)?;
        // Older payloads name the recipient's id only in `contacts` (one per status).
        if report.user_id.is_none() {
            report.user_id = value.contacts.get(i).and_then(|c| c.user_id.clone());
        }
        events.push(ChannelEvent::Status(report));
    }
    Ok(())
}

fn timestamp(raw: &str) -> Result<DateTime<Utc>, MalformedWebhook> {
    raw.parse::<i64>()
        .ok()
        .and_then(|s| Utc.timestamp_opt(s, 0).single())
        .ok_or_else(|| MalformedWebhook(format!("timestamp {raw:?}")))
}

fn media(kind: MediaKind, m: InboundMedia) -> InboundContent {
    InboundContent::Media {
        kind,
        provider_media_id: m.id,
        url: m.url,
        mime_type: m.mime_type,
        caption: m.caption,
        filename: m.filename,
    }
}

/// An answer to an interactive message; kinds Parley does not know yet are kept as
/// unsupported rather than refused, so the message is not lost.
fn interactive_reply(interactive: InboundInteractive) -> InboundContent {
    let reply = match interactive.kind.as_str() {
        "button_reply" => interactive.button_reply.map(|r| InteractiveReply::Button {
            id: r.id,
            title: r.title,
        }),
        "list_reply" => interactive.list_reply.map(|r| InteractiveReply::ListRow {
            id: r.id,
            title: r.title,
            description: r.description,
        }),
        "nfm_reply" => interactive.nfm_reply.map(|r| InteractiveReply::Flow {
            name: r.name,
            body: r.body,
            response_json: r.response_json,
        }),
        "call_permission_reply" => {
            interactive
                .call_permission_reply
                .map(|r| InteractiveReply::CallPermission {
                    response: r.response,
                    is_permanent: r.is_permanent,
                    expiration_timestamp: r.expiration_timestamp.as_ref().and_then(|t| match t {
                        serde_json::Value::Number(n) => n.as_i64(),
                        serde_json::Value::String(s) => s.parse().ok(),
                        _ => None,
                    }),
                    response_source: r.response_source,
                })
        }
        _ => None,
    };
    match reply {
        Some(reply) => InboundContent::Interactive(reply),
        None => InboundContent::Unsupported {
            kind: format!("interactive.{}", interactive.kind),
        },
    }
}

fn inbound(
    pnid: &str,
    m: InboundWire,
    profile_name: Option<String>,
    user_id: Option<String>,
) -> Result<InboundMessage, MalformedWebhook> {
    let missing =
        |what: &str| MalformedWebhook(format!("{} message without its {what} object", m.kind));
    let content = match m.kind.as_str() {
        "text" => InboundContent::Text {
            body: m.text.clone().ok_or_else(|| missing("text"))?.body,
        },
        "image" => media(
            MediaKind::Image,
            m.image.clone().ok_or_else(|| missing("image"))?,
        ),
        "video" => media(
            MediaKind::Video,
            m.video.clone().ok_or_else(|| missing("video"))?,
        ),
        "audio" => media(
            MediaKind::Audio,
            m.audio.clone().ok_or_else(|| missing("audio"))?,
        ),
        "document" => media(
            MediaKind::Document,
            m.document.clone().ok_or_else(|| missing("document"))?,
        ),
        "sticker" => media(
            MediaKind::Sticker,
            m.sticker.clone().ok_or_else(|| missing("sticker"))?,
        ),
        "location" => {
            InboundContent::Location(m.location.clone().ok_or_else(|| missing("location"))?)
        }
        "button" => {
            let button = m.button.clone().ok_or_else(|| missing("button"))?;
            InboundContent::Button {
                text: button.text,
                payload: button.payload,
            }
        }
        "interactive" => {
            let interactive = m
                .interactive
                .clone()
                .ok_or_else(|| missing("interactive"))?;
            interactive_reply(interactive)
        }
        other => InboundContent::Unsupported {
            kind: other.to_owned(),
        },
    };
    Ok(InboundMessage {
        phone_number_id: pnid.to_owned(),
        provider_message_id: m.id,
        from: format!("+{}", m.from.trim_start_matches('+')),
        profile_name,
        user_id,
        timestamp: timestamp(&m.timestamp)?,
        content,
        reply_to: m.context.and_then(|c| c.id),
        referral: m.referral.map(|r| Referral {
            source_type: r.source_type,
            source_id: r.source_id,
            source_url: r.source_url,
            headline: r.headline,
        }),
    })
}

fn status_report(pnid: &str, s: StatusWire) -> Result<StatusReport, MalformedWebhook> {
    let status = match s.status.as_str() {
        "sent" => ProviderStatus::Sent,
        "delivered" => ProviderStatus::Delivered,
        "read" | "played" => ProviderStatus::Read,
        "failed" => ProviderStatus::Failed,
        other => return Err(MalformedWebhook(format!("status {other:?}"))),
    };
    Ok(StatusReport {
        phone_number_id: pnid.to_owned(),
        provider_message_id: s.id,
        status,
        timestamp: timestamp(&s.timestamp)?,
        error: s.errors.into_iter().next().map(|e| ProviderError {
            code: e.code,
            title: e.title,
            details: e.error_data.map(|d| d.details).or(e.message),
        }),
        callback_data: s.biz_opaque_callback_data,
        pricing: s.pricing.and_then(pricing),
        user_id: s.recipient_user_id,
    })
}

/// Meta's pricing object; `type` says whether it is charged (`regular`), the older
/// `billable` flag when `type` is missing.
fn pricing(wire: PricingWire) -> Option<Pricing> {
    let category = wire.category?.to_ascii_lowercase();
    let kind = wire
        .kind
        .map(|k| k.to_ascii_lowercase())
        .unwrap_or_else(|| {
            if wire.billable == Some(true) {
                "regular"
            } else {
                "free_customer_service"
            }
            .to_owned()
        });
    Some(Pricing {
        billable: kind == "regular",
        category,
        kind,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_business_updates_with_camel_case_fields() {
        let body = br#"{"object":"whatsapp_business_account","entry":[{"id":"WABA","time":1749416383,"changes":[
            {"field":"phone_number_quality_update","value":{"display_phone_number":"15550001111","event":"UPGRADE","current_limit":"TIER_10K","old_limit":"TIER_2K"}},
            {"field":"account_update","value":{"event":"ACCOUNT_RESTRICTION","restriction_info":[{"restriction_type":"RESTRICTED_ADD_PHONE_NUMBER_ACTION","expiration":1}]}},
            {"field":"security","value":{"event":"PIN_CHANGED"}}]}]}"#;
        let events = parse(body).unwrap();
        let [
            ChannelEvent::Business(quality),
            ChannelEvent::Business(account),
        ] = &events[..]
        else {
            panic!("{events:?}")
        };
        assert_eq!(quality.kind, BusinessUpdateKind::NumberQuality);
        assert_eq!(quality.waba_id, "WABA");
        assert_eq!(
            quality.fields,
            serde_json::json!({"displayPhoneNumber":"15550001111","event":"UPGRADE","currentLimit":"TIER_10K","oldLimit":"TIER_2K"})
        );
        assert_eq!(account.kind, BusinessUpdateKind::Account);
        assert_eq!(
            account.fields["restrictionInfo"][0]["restrictionType"],
            "RESTRICTED_ADD_PHONE_NUMBER_ACTION"
        );
        assert_eq!(quality.timestamp.unwrap().timestamp(), 1749416383);
    }

    #[test]
    fn reads_an_inbound_text_with_its_sender_name_and_quote() {
        let body = br#"{"object":"whatsapp_business_account","entry":[{"id":"WABA","changes":[{"field":"messages","value":{
            "messaging_product":"whatsapp","metadata":{"display_phone_number":"15550001111","phone_number_id":"PN"},
            "contacts":[{"profile":{"name":"Sheena"},"wa_id":"16505551234"}],
            "messages":[{"from":"16505551234","id":"wamid.in","timestamp":"1749416383","type":"text",
              "context":{"from":"15550001111","id":"wamid.out"},"text":{"body":"hi"}}]}}]}]}"#;
        let events = parse(body).unwrap();
        let [ChannelEvent::Message(m)] = events.as_slice() else {
            panic!("{events:?}")
        };
        assert_eq!(m.from, "+16505551234");
        assert_eq!(m.profile_name.as_deref(), Some("Sheena"));
        assert_eq!(m.reply_to.as_deref(), Some("wamid.out"));
        assert_eq!(m.content, InboundContent::Text { body: "hi".into() });
        assert_eq!(m.timestamp.timestamp(), 1749416383);
    }

    #[test]
    fn reads_a_failed_status_with_its_error() {
        let body = br#"{"object":"whatsapp_business_account","entry":[{"id":"WABA","changes":[{"field":"messages","value":{
            "messaging_product":"whatsapp","metadata":{"display_phone_number":"1","phone_number_id":"PN"},
            "statuses":[{"id":"wamid.out","status":"failed","timestamp":"1749416383","recipient_id":"1",
              "biz_opaque_callback_data":"u","errors":[{"code":131047,"title":"Re-engagement message",
              "error_data":{"details":"more than 24 hours"}}]}]}}]}]}"#;
        let events = parse(body).unwrap();
        let [ChannelEvent::Status(s)] = events.as_slice() else {
            panic!("{events:?}")
        };
        assert_eq!(s.status, ProviderStatus::Failed);
        assert_eq!(s.error.as_ref().unwrap().code, 131047);
        assert_eq!(s.callback_data.as_deref(), Some("u"));
    }

    #[test]
    fn reads_a_pause_s_title_and_a_flag_s_disable_date_apart_from_the_reason() {
        let body = br#"{"object":"whatsapp_business_account","entry":[{"id":"WABA","changes":[
            {"field":"message_template_status_update","value":{"event":"PAUSED","message_template_id":1,
              "message_template_name":"promo","message_template_language":"en","reason":"NONE",
              "other_info":{"title":"FIRST_PAUSE","description":"Paused for 3 hours"}}},
            {"field":"message_template_status_update","value":{"event":"FLAGGED","message_template_id":1,
              "message_template_name":"promo","message_template_language":"en","reason":"NONE",
              "disable_info":{"disable_date":1751234563}}}]}]}"#;
        let notes: Vec<(String, StatusNote)> = parse(body)
            .unwrap()
            .into_iter()
            .map(|event| match event {
                ChannelEvent::Template(TemplateEvent {
                    change: TemplateChange::Status { status, note },
                    ..
                }) => (status, note),
                other => panic!("{other:?}"),
            })
            .collect();
        let [(paused, pause), (flagged, flag)] = &notes[..] else {
            panic!("{notes:?}")
        };
        assert_eq!((paused.as_str(), flagged.as_str()), ("PAUSED", "FLAGGED"));
        assert_eq!(pause.reason.as_deref(), Some("NONE"));
        assert_eq!(
            pause.other_info,
            Some(OtherInfo {
                title: "FIRST_PAUSE".into(),
                description: Some("Paused for 3 hours".into())
            })
        );
        assert_eq!(flag.disable_date.unwrap().timestamp(), 1751234563);
        assert_eq!(flag.other_info, None);
    }

    #[test]
    fn garbage_is_an_error_not_a_panic() {
        assert!(parse(b"{").is_err());
        assert!(parse(br#"{"object":"x","entry":[{"id":"1","changes":[{"field":"messages","value":{"metadata":1}}]}]}"#).is_err());
    }
}
