//! The `template` object of a send as Meta reads it (`reference/meta-cloud-api.md` §1):
//! which template, and the values its header, body, buttons and carousel cards get.
//! Meta takes the component types and button sub-types in any casing (`"BODY"` as well
//! as `"body"`), and a button's `index` as a number or a string; so does the simulator.
//! The shapes serialise as the phone view (`GET /api/phones/{msisdn}/messages`) shows them.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::wire::Location;

/// What a send fills into a media, text or location header. A media `url` is the link
/// the send gave, or the id of an uploaded file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "lowercase")]
pub enum HeaderParameter {
    Text { text: String },
    Image { url: String },
    Video { url: String },
    Gif { url: String },
    Document { url: String },
    Location { location: Location },
}

impl HeaderParameter {
    pub fn kind(&self) -> &'static str {
        match self {
            Self::Text { .. } => "text",
            Self::Image { .. } => "image",
            Self::Video { .. } => "video",
            Self::Gif { .. } => "gif",
            Self::Document { .. } => "document",
            Self::Location { .. } => "location",
        }
    }

    /// The link or uploaded-media id of a media header.
    pub fn media(&self) -> Option<&str> {
        match self {
            Self::Image { url }
            | Self::Video { url }
            | Self::Gif { url }
            | Self::Document { url } => Some(url),
            Self::Text { .. } | Self::Location { .. } => None,
        }
    }
}

/// The value a send gives one button.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ButtonValue {
    Text {
        text: String,
    },
    Payload {
        payload: String,
    },
    CouponCode {
        coupon_code: String,
    },
    Action {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        flow_token: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        flow_action_data: Option<Value>,
    },
    TtlMinutes {
        ttl_minutes: u32,
    },
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ButtonParameter {
    pub index: u8,
    /// Lower-case: `quick_reply`, `url`, `copy_code`, `flow`, `voice_call`, …
    pub sub_type: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<ButtonValue>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CardParameters {
    pub card_index: u8,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub header: Option<HeaderParameter>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub body: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub buttons: Vec<ButtonParameter>,
}

/// A template send: which template, and the values for its placeholders.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TemplateSend {
    pub name: String,
    pub language: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub header: Option<HeaderParameter>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub body: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub buttons: Vec<ButtonParameter>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub cards: Vec<CardParameters>,
}

/// Graph's `details` for a template object it cannot read.
pub type ReadError = String;

const SUB_TYPES: &[&str] = &[
    "quick_reply",
    "url",
    "copy_code",
    "flow",
    "voice_call",
    "catalog",
    "mpm",
    "order_details",
];

fn text<'a>(object: &'a Value, key: &str, path: &str) -> Result<&'a str, ReadError> {
    object
        .get(key)
        .and_then(Value::as_str)
        .ok_or_else(|| format!("{path}.{key} is required"))
}

/// A `type` (or `sub_type`) in Meta's lower case, whatever case it came in.
fn kind_of(object: &Value, key: &str, path: &str) -> Result<String, ReadError> {
    text(object, key, path).map(str::to_ascii_lowercase)
}

fn header(parameter: &Value) -> Result<HeaderParameter, ReadError> {
    let kind = kind_of(parameter, "type", "header parameter")?;
    let media = |kind: &str| -> Result<String, ReadError> {
        let object = parameter.get(kind);
        object
            .and_then(|m| m.get("link").or_else(|| m.get("id")))
            .and_then(Value::as_str)
            .map(str::to_owned)
            .ok_or_else(|| format!("header parameter {kind} needs a link or an id"))
    };
    Ok(match kind.as_str() {
        "text" => HeaderParameter::Text {
            text: text(parameter, "text", "header parameter")?.to_owned(),
        },
        "image" => HeaderParameter::Image {
            url: media("image")?,
        },
        "video" => HeaderParameter::Video {
            url: media("video")?,
        },
        "gif" => HeaderParameter::Gif { url: media("gif")? },
        "document" => HeaderParameter::Document {
            url: media("document")?,
        },
        "location" => HeaderParameter::Location {
            location: serde_json::from_value(
                parameter.get("location").cloned().unwrap_or_default(),
            )
            .map_err(|e| format!("header parameter location: {e}"))?,
        },
        other => return Err(format!("header parameter type {other} is not supported")),
    })
}

fn button_value(parameter: &Value) -> Result<ButtonValue, ReadError> {
    let path = "button parameter";
    Ok(match kind_of(parameter, "type", path)?.as_str() {
        "text" => ButtonValue::Text {
            text: text(parameter, "text", path)?.to_owned(),
        },
        "payload" => ButtonValue::Payload {
            payload: text(parameter, "payload", path)?.to_owned(),
        },
        "coupon_code" => ButtonValue::CouponCode {
            coupon_code: text(parameter, "coupon_code", path)?.to_owned(),
        },
        "action" => ButtonValue::Action {
            flow_token: parameter
                .pointer("/action/flow_token")
                .and_then(Value::as_str)
                .map(str::to_owned),
            flow_action_data: parameter.pointer("/action/flow_action_data").cloned(),
        },
        "ttl_minutes" => ButtonValue::TtlMinutes {
            ttl_minutes: parameter
                .get("ttl_minutes")
                .and_then(Value::as_u64)
                .and_then(|t| u32::try_from(t).ok())
                .ok_or("button parameter ttl_minutes must be a number")?,
        },
        other => return Err(format!("button parameter type {other} is not supported")),
    })
}

fn button(component: &Value) -> Result<ButtonParameter, ReadError> {
    let sub_type = kind_of(component, "sub_type", "button")?;
    if !SUB_TYPES.contains(&sub_type.as_str()) {
        return Err(format!("button sub_type {sub_type} is not supported"));
    }
    let index = match component.get("index") {
        Some(Value::String(s)) => s.trim().parse::<u8>().ok(),
        Some(Value::Number(n)) => n.as_u64().and_then(|n| u8::try_from(n).ok()),
        _ => None,
    }
    .filter(|i| *i <= 9)
    .ok_or("button index must be 0 to 9")?;
    let value = component
        .get("parameters")
        .and_then(Value::as_array)
        .and_then(|p| p.first())
        .map(button_value)
        .transpose()?;
    Ok(ButtonParameter {
        index,
        sub_type,
        value,
    })
}

/// Header, body and buttons of a component list (a template's or a card's).
type Parts = (Option<HeaderParameter>, Vec<String>, Vec<ButtonParameter>);

fn components(list: &[Value], cards: Option<&mut Vec<CardParameters>>) -> Result<Parts, ReadError> {
    let (mut head, mut body, mut buttons) = (None, Vec::new(), Vec::new());
    let mut cards = cards;
    for component in list {
        let parameters = component
            .get("parameters")
            .and_then(Value::as_array)
            .map(Vec::as_slice)
            .unwrap_or_default();
        match kind_of(component, "type", "component")?.as_str() {
            "header" => head = parameters.first().map(header).transpose()?,
            "body" => {
                body = parameters
                    .iter()
                    .map(|p| text(p, "text", "body parameter").map(str::to_owned))
                    .collect::<Result<_, _>>()?;
            }
            "button" => buttons.push(button(component)?),
            "carousel" => {
                let Some(cards) = cards.as_deref_mut() else {
                    return Err("a carousel card cannot hold a carousel".into());
                };
                for card in component
                    .get("cards")
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                {
                    let card_index = match card.get("card_index") {
                        Some(Value::String(s)) => s.trim().parse::<u8>().ok(),
                        Some(Value::Number(n)) => n.as_u64().and_then(|n| u8::try_from(n).ok()),
                        _ => None,
                    }
                    .ok_or("card_index is required")?;
                    let list = card
                        .get("components")
                        .and_then(Value::as_array)
                        .map(Vec::as_slice)
                        .unwrap_or_default();
                    let (header, body, buttons) = components(list, None)?;
                    cards.push(CardParameters {
                        card_index,
                        header,
                        body,
                        buttons,
                    });
                }
            }
            other => return Err(format!("component type {other} is not supported")),
        }
    }
    Ok((head, body, buttons))
}

/// Reads the `template` object of a send.
pub fn read(template: &Value) -> Result<TemplateSend, ReadError> {
    let name = text(template, "name", "template")?.to_owned();
    let language = match template.get("language") {
        Some(Value::Object(l)) => l.get("code").and_then(Value::as_str),
        _ => None,
    }
    .ok_or("template.language.code is required")?
    .to_owned();
    let list = template
        .get("components")
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or_default();
    let mut cards = Vec::new();
    let (header, body, buttons) = components(list, Some(&mut cards))?;
    Ok(TemplateSend {
        name,
        language,
        header,
        body,
        buttons,
        cards,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// Meta's own example of a template send with media header, body and buttons
    /// ("Send template messages"), in the casing current clients use.
    #[test]
    fn reads_meta_s_example_in_any_casing() {
        let send = read(&json!({
            "name": "order_update",
            "language": {"code": "en_US", "policy": "deterministic"},
            "components": [
                {"type": "HEADER", "parameters": [{"type": "IMAGE", "image": {"link": "https://x.test/a.jpg"}}]},
                {"type": "BODY", "parameters": [{"type": "text", "text": "Ana"}, {"type": "TEXT", "text": "42"}]},
                {"type": "BUTTON", "sub_type": "URL", "index": "0", "parameters": [{"type": "text", "text": "42"}]},
                {"type": "button", "sub_type": "quick_reply", "index": 1, "parameters": [{"type": "payload", "payload": "stop"}]}
            ]
        }))
        .unwrap();
        assert_eq!(send.language, "en_US");
        assert_eq!(
            send.header,
            Some(HeaderParameter::Image {
                url: "https://x.test/a.jpg".into()
            })
        );
        assert_eq!(send.body, ["Ana", "42"]);
        assert_eq!(send.buttons[0].sub_type, "url");
        assert_eq!(send.buttons[0].index, 0);
        assert_eq!(
            send.buttons[1].value,
            Some(ButtonValue::Payload {
                payload: "stop".into()
            })
        );
    }

    #[test]
    fn reads_carousel_cards_and_refuses_what_meta_refuses() {
        let send = read(&json!({
            "name": "tour", "language": {"code": "en"},
            "components": [{"type": "CAROUSEL", "cards": [
                {"card_index": 0, "components": [
                    {"type": "HEADER", "parameters": [{"type": "video", "video": {"id": "123"}}]},
                    {"type": "BUTTON", "sub_type": "QUICK_REPLY", "index": 0, "parameters": [{"type": "payload", "payload": "a"}]}
                ]}
            ]}]
        }))
        .unwrap();
        assert_eq!(send.cards.len(), 1);
        assert_eq!(
            send.cards[0]
                .header
                .as_ref()
                .and_then(HeaderParameter::media),
            Some("123")
        );
        for (template, why) in [
            (
                json!({"language": {"code": "en"}}),
                "template.name is required",
            ),
            (
                json!({"name": "x", "language": "en"}),
                "template.language.code is required",
            ),
            (
                json!({"name": "x", "language": {"code": "en"}, "components": [{"type": "footer"}]}),
                "component type footer is not supported",
            ),
            (
                json!({"name": "x", "language": {"code": "en"}, "components": [{"type": "button", "sub_type": "url", "index": 12}]}),
                "button index must be 0 to 9",
            ),
        ] {
            assert_eq!(read(&template).unwrap_err(), why);
        }
    }
}
