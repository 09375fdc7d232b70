//! [`InteractiveMessage`] → 8x8's `content` object, the shape stored and shown back in
//! message details; [`super::parse_send`] reads it again unchanged.

use parley_channels::InteractiveMessage;
use parley_channels::interactive::{InteractiveAction, InteractiveHeader, media_field};
use serde_json::{Map, Value, json};

/// `{"interactive": {...}}` in 8x8's field names.
pub fn to_json(message: &InteractiveMessage) -> Value {
    let mut interactive = Map::new();
    interactive.insert("type".into(), json!(message.kind()));
    if let Some(header) = &message.header {
        interactive.insert("header".into(), header_json(header));
    }
    if let Some(body) = &message.body {
        interactive.insert("body".into(), json!({ "text": body }));
    }
    if let Some(footer) = &message.footer {
        interactive.insert("footer".into(), json!({ "text": footer }));
    }
    if let Some(action) = action_json(&message.action) {
        interactive.insert("action".into(), action);
    }
    json!({ "interactive": interactive })
}

fn header_json(header: &InteractiveHeader) -> Value {
    match header {
        InteractiveHeader::Text(text) => json!({ "type": "text", "text": text }),
        InteractiveHeader::Media {
            kind,
            link,
            id,
            filename,
        } => {
            let field = media_field(*kind);
            let mut media = Map::new();
            for (key, value) in [("link", link), ("id", id), ("filename", filename)] {
                if let Some(value) = value {
                    media.insert(key.into(), json!(value));
                }
            }
            json!({ "type": field, field: media })
        }
    }
}

fn titled(title: &Option<String>, mut section: Map<String, Value>) -> Value {
    if let Some(title) = title {
        section.insert("title".into(), json!(title));
    }
    Value::Object(section)
}

fn action_json(action: &InteractiveAction) -> Option<Value> {
    Some(match action {
        InteractiveAction::ReplyButtons(buttons) => json!({
            "buttons": buttons.iter().map(|b| json!({
                "type": "reply",
                "reply": { "id": b.id, "title": b.title },
            })).collect::<Vec<_>>(),
        }),
        InteractiveAction::List { button, sections } => json!({
            "button": button,
            "sections": sections.iter().map(|s| {
                let rows: Vec<Value> = s.rows.iter().map(|r| {
                    let mut row = json!({ "id": r.id, "title": r.title });
                    if let Some(description) = &r.description {
                        row["description"] = json!(description);
                    }
                    row
                }).collect();
                titled(&s.title, Map::from_iter([("rows".to_owned(), json!(rows))]))
            }).collect::<Vec<_>>(),
        }),
        InteractiveAction::CtaUrl { display_text, url } => json!({
            "parameters": { "display_text": display_text, "url": url },
        }),
        InteractiveAction::Product {
            catalog_id,
            product_retailer_id,
        } => json!({ "catalog_id": catalog_id, "product_retailer_id": product_retailer_id }),
        InteractiveAction::ProductList {
            catalog_id,
            sections,
        } => json!({
            "catalog_id": catalog_id,
            "sections": sections.iter().map(|s| {
                let items: Vec<Value> = s.product_retailer_ids.iter()
                    .map(|id| json!({ "product_retailer_id": id }))
                    .collect();
                titled(&s.title, Map::from_iter([("product_items".to_owned(), json!(items))]))
            }).collect::<Vec<_>>(),
        }),
        InteractiveAction::Flow(flow) => {
            let mut parameters = json!({
                "flowId": flow.flow_id,
                "flowCta": flow.cta,
                "flowAction": flow.mode.as_str(),
            });
            let mut payload = Map::new();
            if let Some(screen) = &flow.screen {
                payload.insert("screen".into(), json!(screen));
            }
            if let Some(data) = &flow.data {
                payload.insert("data".into(), Value::Object(data.clone()));
            }
            if !payload.is_empty() {
                parameters["flowActionPayload"] = Value::Object(payload);
            }
            json!({ "parameters": parameters })
        }
        InteractiveAction::LocationRequest => json!({ "name": "send_location" }),
        InteractiveAction::VoiceCall {
            display_text,
            ttl_minutes,
            payload,
        } => {
            let mut parameters = json!({ "display_text": display_text, "ttlMinutes": ttl_minutes });
            if let Some(payload) = payload {
                parameters["payload"] = json!(payload);
            }
            json!({ "name": "voice_call", "parameters": parameters })
        }
        InteractiveAction::CallPermissionRequest | InteractiveAction::RequestContactInfo => {
            return None;
        }
    })
}
