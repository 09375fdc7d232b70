//! The `interactive` content of a send (`reference/chatapps-api.md` §2.4): read from 8x8
//! JSON leniently, checked against WhatsApp's limits with an error that names the field,
//! and written back in 8x8's shape for storage and message details.
//!
//! The limits themselves live in [`parley_channels::interactive`] (the simulator checks
//! Meta's limits with its own code); this module maps a broken one to 8x8's codes.

mod json;
mod parse;
#[cfg(test)]
mod tests;

use parley_channels::InteractiveMessage;
use parley_channels::interactive::{Problem, Violation};
use parley_types::codes::SyncCode;
use serde_json::Value;

use crate::Result;
use crate::input::{Object, invalid};

pub use json::to_json;

/// Parses and checks the 8x8 `content` object of an `interactive` send.
pub fn parse_send(content: &Object) -> Result<InteractiveMessage> {
    let message = parse::interactive(content)?;
    message.check().map_err(|v| violation_error(&v))?;
    Ok(message)
}

/// The text a log line shows for an interactive message (its header, body and footer) or
/// for a user's answer to one (the label picked, the Flow's answers, the permission given).
pub fn summary(content: &Value) -> Option<String> {
    let interactive = content.get("interactive")?;
    let text = |pointer: &str| interactive.pointer(pointer).and_then(Value::as_str);
    let answer = [
        "/button_reply/title",
        "/list_reply/title",
        "/nfmReply/responseJson",
        "/callPermissionReply/response",
    ]
    .into_iter()
    .find_map(text);
    if let Some(answer) = answer {
        return Some(answer.to_owned());
    }
    let parts: Vec<&str> = [
        text("/header/text"),
        text("/body/text"),
        text("/footer/text"),
    ]
    .into_iter()
    .flatten()
    .collect();
    (!parts.is_empty()).then(|| parts.join("\n"))
}

/// 8x8 has no interactive-specific codes: text over its limit is 3006 (as for `text`
/// messages), a missing body is 3005, a bad header media URL is 3008, anything else is
/// 1005 "Invalid parameter(s)". The message always names the field.
fn violation_error(v: &Violation) -> crate::Error {
    let field = format!("content.interactive.{}", v.field);
    let named = Violation {
        field,
        problem: v.problem.clone(),
    };
    let (code, what) = match &v.problem {
        Problem::TooLong { .. } => (SyncCode::TextTooLong, "Text too long"),
        Problem::Missing | Problem::Empty if v.field == "body.text" => {
            (SyncCode::MissedText, "Missed text")
        }
        Problem::Invalid(_) if v.field.starts_with("header.") && v.field.ends_with(".link") => {
            (SyncCode::InvalidMediaUrl, "Invalid media URL")
        }
        _ => (SyncCode::InvalidParameters, "Invalid parameter(s)"),
    };
    invalid(code, format!("{what}: {named}"))
}

/// v9's `outboundContent.actions` for a stored interactive message: what the user could
/// tap (`reference/chatapps-api.md` §6.4).
pub fn actions(content: &Value) -> Option<Value> {
    let action = content.pointer("/interactive/action")?;
    let text = |v: &Value, key: &str| v.get(key).and_then(Value::as_str).map(str::to_owned);
    if let Some(buttons) = action.get("buttons").and_then(Value::as_array) {
        let buttons: Vec<Value> = buttons
            .iter()
            .map(|b| {
                serde_json::json!({
                    "type": "quick_reply",
                    "label": b.pointer("/reply/title"),
                    "value": b.pointer("/reply/id"),
                })
            })
            .collect();
        return Some(serde_json::json!({ "buttons": buttons }));
    }
    if let Some(sections) = action.get("sections").and_then(Value::as_array) {
        return Some(serde_json::json!({ "list": {
            "buttonLabel": text(action, "button"),
            "sections": sections,
        }}));
    }
    let parameters = action.get("parameters")?;
    if let Some(flow_id) = text(parameters, "flowId") {
        return Some(serde_json::json!({ "flow": {
            "flowId": flow_id,
            "cta": text(parameters, "flowCta"),
            "action": text(parameters, "flowAction"),
            "screen": parameters.pointer("/flowActionPayload/screen"),
        }}));
    }
    let url = text(parameters, "url")?;
    Some(serde_json::json!({ "cta": {
        "displayText": text(parameters, "display_text"),
        "url": url,
    }}))
}
