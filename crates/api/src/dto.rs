//! 8x8 response bodies, written exactly as the OpenAPI file documents them.

use parley_core::messages::{BatchItem, BatchOutcome, Hold};
use parley_core::pricing::WindowState;
use parley_store::{Direction, Message, MessageStatus};
use parley_types::time::format_8x8;
use serde_json::{Value, json};

pub fn status(status: &MessageStatus) -> Value {
    status.to_8x8()
}

/// The send response (`reference/chatapps-api.md` §2.5).
pub fn send_response(message: &Message) -> Value {
    let mut user = json!({ "msisdn": message.msisdn });
    if let Some(country) = &message.country {
        user["country"] = json!(country);
    }
    if let Some(id) = &message.channel_user_id {
        user["channelUserId"] = json!(id);
    }
    let mut body = json!({ "umid": message.umid, "user": user, "status": status(&message.status) });
    if let Some(cmid) = &message.client_message_id {
        body["clientMessageId"] = json!(cmid);
    }
    body
}

/// `GET …/messages/{umid}`: `{"data": [record]}`. Parley adds what the message costs
/// (`pricing`, once WhatsApp priced it), the user's windows now (`conversationWindow`),
/// while it waits in the queue held back by pacing, why and until when (`hold`), every
/// status it went through (`statusHistory`, oldest first) and its content as stored
/// (`contentObject`, the 8x8 object `content` summarises), so the console can draw it.
pub fn details(
    message: &Message,
    window: &WindowState,
    hold: Option<&Hold>,
    history: &[MessageStatus],
) -> Value {
    let mut record = record(message);
    record["statusHistory"] = json!(history.iter().map(status).collect::<Vec<_>>());
    record["contentObject"] = message.content.clone();
    if let Some(hold) = hold {
        record["hold"] = json!({ "reason": hold.reason, "until": format_8x8(hold.until) });
    }
    if let Some(pricing) = &message.pricing {
        record["pricing"] = json!({
            "pricingCategory": pricing.category,
            "type": pricing.kind,
            "billable": pricing.billable,
            "cost": pricing.cost_micros.map(|c| c as f64 / 1e6),
        });
    }
    record["conversationWindow"] = window.to_json();
    json!({ "data": [record] })
}

/// Several messages as `{"data": [records]}`.
pub fn records(messages: &[Message]) -> Value {
    json!({ "data": messages.iter().map(record).collect::<Vec<_>>() })
}

/// One message-details record.
fn record(message: &Message) -> Value {
    let mut record = json!({
        "umid": message.umid,
        "subAccountId": message.sub_account_id,
        "channel": "WhatsApp",
        "channelId": message.channel_id,
        "direction": match message.direction {
            Direction::Outbound => "outbound",
            Direction::Inbound => "inbound",
        },
        "status": status(&message.status),
        "user": { "msisdn": message.msisdn },
        "contentType": message.content_type,
        "content": parley_core::messages::content_summary(message),
        "createdAt": format_8x8(message.created_at),
        "step": 1,
    });
    if let Some(country) = &message.country {
        record["country"] = json!(country);
    }
    if let Some(id) = &message.channel_user_id {
        record["user"]["channelUserId"] = json!(id);
    }
    if let Some(cmid) = &message.client_message_id {
        record["clientMessageId"] = json!(cmid);
    }
    // The inbound webhook's name for the message a user answered (a quoted reply, a tapped
    // button); Parley's log shows it too.
    if let (Direction::Inbound, Some(reply_to)) = (message.direction, message.reply_to) {
        record["replyToUmid"] = json!(reply_to);
    }
    if let Some(batch) = &message.batch {
        batch.write_ids(&mut record);
    }
    if let Some(at) = message.scheduled_at {
        record["scheduled"] = json!(format_8x8(at));
    }
    if let Some(at) = message.expires_at {
        record["expiry"] = json!(format_8x8(at));
    }
    record
}

/// The batch response (`send-message-many`): counts, and each message's result if asked.
pub fn batch_response(outcome: &BatchOutcome) -> Value {
    let mut body = json!({
        "batchId": outcome.batch.id,
        "acceptedCount": outcome.accepted(),
        "rejectedCount": outcome.rejected(),
    });
    if let Some(id) = &outcome.batch.client_batch_id {
        body["clientBatchId"] = json!(id);
    }
    if outcome.include_messages {
        let messages: Vec<Value> = outcome
            .items
            .iter()
            .map(|item| match item {
                BatchItem::Accepted(message) => send_response(message),
                BatchItem::Rejected(r) => {
                    let mut entry = json!({
                        "umid": r.umid,
                        "user": r.user,
                        "status": {
                            "state": "rejected",
                            "timestamp": format_8x8(r.at),
                            "errorCode": r.code.code(),
                            "errorMessage": r.message,
                        },
                    });
                    if let Some(cmid) = &r.client_message_id {
                        entry["clientMessageId"] = json!(cmid);
                    }
                    entry
                }
            })
            .collect();
        body["messages"] = json!(messages);
    }
    body
}
