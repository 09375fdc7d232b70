//! Templates in Graph terms (`reference/meta-cloud-api.md` §1.3 "template", §2.2): the
//! creation payload for `POST /{waba-id}/message_templates` and the `template` object of a
//! send. The simulator reads both back with [`parse_send`].

use parley_channels::Location;
use parley_channels::template::{
    ButtonParameter, ButtonSubType, ButtonValue, CardParameters, HeaderParameter, TemplateBody,
    TemplateButton, TemplateHeader, TemplateMessage, TemplateSpec,
};
use serde_json::{Map, Value, json};

fn header_component(header: &TemplateHeader) -> Value {
    match header {
        TemplateHeader::Text { text, example } => {
            let mut c = json!({"type": "HEADER", "format": "TEXT", "text": text});
            if let Some(example) = example {
                c["example"] = json!({ "header_text": [example] });
            }
            c
        }
        TemplateHeader::Image { example }
        | TemplateHeader::Video { example }
        | TemplateHeader::Gif { example }
        | TemplateHeader::Document { example } => json!({
            "type": "HEADER",
            "format": header.format(),
            "example": { "header_handle": [example] },
        }),
        TemplateHeader::Location => json!({"type": "HEADER", "format": "LOCATION"}),
    }
}

fn body_component(body: &TemplateBody) -> Value {
    let mut c = json!({"type": "BODY", "text": body.text});
    if !body.examples.is_empty() {
        c["example"] = json!({ "body_text": [body.examples] });
    }
    c
}

fn button(button: &TemplateButton) -> Value {
    match button {
        TemplateButton::QuickReply { text } => json!({"type": "QUICK_REPLY", "text": text}),
        TemplateButton::Url { text, url, example } => {
            let mut b = json!({"type": "URL", "text": text, "url": url});
            if let Some(example) = example {
                b["example"] = json!([example]);
            }
            b
        }
        TemplateButton::PhoneNumber { text, phone_number } => json!({
            "type": "PHONE_NUMBER", "text": text,
            "phone_number": phone_number.trim_start_matches('+'),
        }),
        TemplateButton::Otp { text, otp_type } => json!({
            "type": "OTP", "text": text, "otp_type": otp_type,
        }),
        TemplateButton::CopyCode { example } => json!({"type": "COPY_CODE", "example": example}),
        TemplateButton::Flow {
            text,
            flow_id,
            flow_action,
            navigate_screen,
        } => {
            let mut b = json!({"type": "FLOW", "text": text, "flow_id": flow_id});
            if let Some(action) = flow_action {
                b["flow_action"] = json!(action);
            }
            if let Some(screen) = navigate_screen {
                b["navigate_screen"] = json!(screen);
            }
            b
        }
        TemplateButton::VoiceCall { text, ttl_minutes } => {
            let mut b = json!({"type": "VOICE_CALL"});
            if let Some(text) = text {
                b["text"] = json!(text);
            }
            if let Some(ttl) = ttl_minutes {
                b["ttl_minutes"] = json!(ttl);
            }
            b
        }
        TemplateButton::RequestContactInfo => json!({"type": "REQUEST_CONTACT_INFO"}),
    }
}

fn buttons_component(buttons: &[TemplateButton]) -> Value {
    json!({"type": "BUTTONS", "buttons": buttons.iter().map(button).collect::<Vec<_>>()})
}

/// The body of `POST /{waba-id}/message_templates`.
pub fn create_payload(spec: &TemplateSpec) -> Value {
    let mut components = Vec::new();
    if let Some(header) = &spec.header {
        components.push(header_component(header));
    }
    match (spec.authentication, &spec.body) {
        (Some(auth), _) => components.push(json!({
            "type": "BODY",
            "add_security_recommendation": auth.add_security_recommendation,
        })),
        (None, Some(body)) => components.push(body_component(body)),
        (None, None) => {}
    }
    match (spec.authentication, &spec.footer) {
        (Some(auth), _) => {
            if let Some(minutes) = auth.code_expiration_minutes {
                components.push(json!({"type": "FOOTER", "code_expiration_minutes": minutes}));
            }
        }
        (None, Some(footer)) => components.push(json!({"type": "FOOTER", "text": footer})),
        (None, None) => {}
    }
    if !spec.buttons.is_empty() {
        components.push(buttons_component(&spec.buttons));
    }
    if !spec.cards.is_empty() {
        let cards: Vec<Value> = spec
            .cards
            .iter()
            .map(|card| {
                json!({"components": [
                    header_component(&card.header),
                    body_component(&card.body),
                    buttons_component(&card.buttons),
                ]})
            })
            .collect();
        components.push(json!({"type": "CAROUSEL", "cards": cards}));
    }
    if spec.call_permission_request {
        components.push(json!({"type": "CALL_PERMISSION_REQUEST"}));
    }
    if spec.request_contact_info {
        components.push(json!({"type": "REQUEST_CONTACT_INFO"}));
    }
    let mut payload = json!({
        "name": spec.name,
        "language": spec.language,
        "category": spec.category,
        "allow_category_change": spec.allow_category_change,
        "parameter_format": "positional",
        "components": components,
    });
    if let Some(ttl) = spec.message_send_ttl_seconds {
        payload["message_send_ttl_seconds"] = json!(ttl);
    }
    payload
}

fn header_parameter(header: &HeaderParameter) -> Value {
    match header {
        HeaderParameter::Text { text } => json!({"type": "text", "text": text}),
        HeaderParameter::Image { url } => json!({"type": "image", "image": {"link": url}}),
        HeaderParameter::Video { url } => json!({"type": "video", "video": {"link": url}}),
        // Meta sends GIF headers as videos (an mp4 at the URL).
        HeaderParameter::Gif { url } => json!({"type": "video", "video": {"link": url}}),
        HeaderParameter::Document { url } => {
            json!({"type": "document", "document": {"link": url}})
        }
        HeaderParameter::Location { location } => json!({"type": "location", "location": location}),
    }
}

fn text_parameters(values: &[String]) -> Vec<Value> {
    values
        .iter()
        .map(|v| json!({"type": "text", "text": v}))
        .collect()
}

fn button_value(value: &ButtonValue) -> Value {
    match value {
        ButtonValue::Text { text } => json!({"type": "text", "text": text}),
        ButtonValue::Payload { payload } => json!({"type": "payload", "payload": payload}),
        ButtonValue::CouponCode { coupon_code } => {
            json!({"type": "coupon_code", "coupon_code": coupon_code})
        }
        ButtonValue::Action {
            flow_token,
            flow_action_data,
        } => {
            let mut action = Map::new();
            if let Some(token) = flow_token {
                action.insert("flow_token".into(), json!(token));
            }
            if let Some(data) = flow_action_data {
                action.insert("flow_action_data".into(), data.clone());
            }
            json!({"type": "action", "action": action})
        }
        ButtonValue::TtlMinutes { ttl_minutes } => {
            json!({"type": "ttl_minutes", "ttl_minutes": ttl_minutes})
        }
    }
}

fn button_component(button: &ButtonParameter) -> Value {
    let mut c = json!({
        "type": "button",
        "sub_type": button.sub_type,
        "index": button.index.to_string(),
    });
    if let Some(value) = &button.value {
        c["parameters"] = json!([button_value(value)]);
    }
    c
}

fn components(
    header: Option<&HeaderParameter>,
    body: &[String],
    buttons: &[ButtonParameter],
) -> Vec<Value> {
    let mut out = Vec::new();
    if let Some(header) = header {
        out.push(json!({"type": "header", "parameters": [header_parameter(header)]}));
    }
    if !body.is_empty() {
        out.push(json!({"type": "body", "parameters": text_parameters(body)}));
    }
    out.extend(buttons.iter().map(button_component));
    out
}

/// The `template` object of a send.
pub fn send_object(message: &TemplateMessage) -> Value {
    let mut parts = components(message.header.as_ref(), &message.body, &message.buttons);
    if !message.cards.is_empty() {
        let cards: Vec<Value> = message
            .cards
            .iter()
            .map(|card| {
                json!({
                    "card_index": card.card_index,
                    "components": components(card.header.as_ref(), &card.body, &card.buttons),
                })
            })
            .collect();
        parts.push(json!({"type": "carousel", "cards": cards}));
    }
    json!({
        "name": message.name,
        "language": { "code": message.language },
        "components": parts,
    })
}

/// Why a `template` object could not be read.
pub type ParseError = String;

fn str_field<'a>(obj: &'a Value, key: &str, path: &str) -> Result<&'a str, ParseError> {
    obj.get(key)
        .and_then(Value::as_str)
        .ok_or_else(|| format!("{path}.{key} is required"))
}

fn parse_header(parameter: &Value) -> Result<HeaderParameter, ParseError> {
    let kind = str_field(parameter, "type", "header parameter")?;
    let link = |kind: &str| -> Result<String, ParseError> {
        parameter
            .get(kind)
            .and_then(|m| m.get("link").or_else(|| m.get("id")))
            .and_then(Value::as_str)
            .map(str::to_owned)
            .ok_or_else(|| format!("header {kind} needs a link or id"))
    };
    Ok(match kind {
        "text" => HeaderParameter::Text {
            text: str_field(parameter, "text", "header parameter")?.to_owned(),
        },
        "image" => HeaderParameter::Image {
            url: link("image")?,
        },
        "video" => HeaderParameter::Video {
            url: link("video")?,
        },
        "document" => HeaderParameter::Document {
            url: link("document")?,
        },
        "location" => HeaderParameter::Location {
            location: serde_json::from_value::<Location>(
                parameter.get("location").cloned().unwrap_or(Value::Null),
            )
            .map_err(|e| format!("header location: {e}"))?,
        },
        other => return Err(format!("header parameter type {other} is not supported")),
    })
}

fn parse_button(component: &Value) -> Result<ButtonParameter, ParseError> {
    let sub_type: ButtonSubType = serde_json::from_value(
        component.get("sub_type").cloned().unwrap_or(Value::Null),
    )
    .map_err(|_| {
        "button sub_type must be quick_reply, url, copy_code, flow or voice_call".to_owned()
    })?;
    let index = match component.get("index") {
        Some(Value::String(s)) => s.parse::<u8>().ok(),
        Some(Value::Number(n)) => n.as_u64().and_then(|n| u8::try_from(n).ok()),
        _ => None,
    }
    .filter(|i| *i <= 9)
    .ok_or("button index must be 0 to 9")?;
    let value = match component
        .get("parameters")
        .and_then(Value::as_array)
        .and_then(|p| p.first())
    {
        None => None,
        Some(p) => Some(match str_field(p, "type", "button parameter")? {
            "text" => ButtonValue::Text {
                text: str_field(p, "text", "button parameter")?.to_owned(),
            },
            "payload" => ButtonValue::Payload {
                payload: str_field(p, "payload", "button parameter")?.to_owned(),
            },
            "coupon_code" => ButtonValue::CouponCode {
                coupon_code: str_field(p, "coupon_code", "button parameter")?.to_owned(),
            },
            "action" => ButtonValue::Action {
                flow_token: p
                    .pointer("/action/flow_token")
                    .and_then(Value::as_str)
                    .map(str::to_owned),
                flow_action_data: p.pointer("/action/flow_action_data").cloned(),
            },
            "ttl_minutes" => ButtonValue::TtlMinutes {
                ttl_minutes: p
                    .get("ttl_minutes")
                    .and_then(Value::as_u64)
                    .and_then(|t| u32::try_from(t).ok())
                    .ok_or("ttl_minutes must be a number")?,
            },
            other => return Err(format!("button parameter type {other} is not supported")),
        }),
    };
    Ok(ButtonParameter {
        index,
        sub_type,
        value,
    })
}

/// Header, body and buttons of a component list (a template's or a card's).
type Parts = (Option<HeaderParameter>, Vec<String>, Vec<ButtonParameter>);

fn parse_components(list: &[Value], cards: &mut Vec<CardParameters>) -> Result<Parts, ParseError> {
    let (mut header, mut body, mut buttons) = (None, Vec::new(), Vec::new());
    for component in list {
        let parameters = || {
            component
                .get("parameters")
                .and_then(Value::as_array)
                .cloned()
                .unwrap_or_default()
        };
        match str_field(component, "type", "component")? {
            "header" => {
                header = parameters().first().map(parse_header).transpose()?;
            }
            "body" => {
                body = parameters()
                    .iter()
                    .map(|p| str_field(p, "text", "body parameter").map(str::to_owned))
                    .collect::<Result<_, _>>()?;
            }
            "button" => buttons.push(parse_button(component)?),
            "carousel" => {
                for card in component
                    .get("cards")
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                {
                    let card_index = card
                        .get("card_index")
                        .and_then(Value::as_u64)
                        .and_then(|i| u8::try_from(i).ok())
                        .ok_or("card_index is required")?;
                    let list = card
                        .get("components")
                        .and_then(Value::as_array)
                        .cloned()
                        .unwrap_or_default();
                    let (header, body, buttons) = parse_components(&list, &mut Vec::new())?;
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
    Ok((header, body, buttons))
}

/// Reads the `template` object of a send back (what the simulator does).
pub fn parse_send(template: &Value) -> Result<TemplateMessage, ParseError> {
    let name = str_field(template, "name", "template")?.to_owned();
    let language = template
        .pointer("/language/code")
        .and_then(Value::as_str)
        .ok_or("template.language.code is required")?
        .to_owned();
    let list = template
        .get("components")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    let mut cards = Vec::new();
    let (header, body, buttons) = parse_components(&list, &mut cards)?;
    Ok(TemplateMessage {
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

    #[test]
    fn a_send_object_reads_back_as_the_same_message() {
        let message = TemplateMessage {
            name: "order_update".into(),
            language: "en_US".into(),
            header: Some(HeaderParameter::Image {
                url: "https://x.test/a.jpg".into(),
            }),
            body: vec!["Ana".into(), "42".into()],
            buttons: vec![
                ButtonParameter {
                    index: 0,
                    sub_type: ButtonSubType::Url,
                    value: Some(ButtonValue::Text { text: "42".into() }),
                },
                ButtonParameter {
                    index: 1,
                    sub_type: ButtonSubType::QuickReply,
                    value: Some(ButtonValue::Payload {
                        payload: "stop".into(),
                    }),
                },
            ],
            cards: vec![CardParameters {
                card_index: 0,
                header: Some(HeaderParameter::Video {
                    url: "https://x.test/v.mp4".into(),
                }),
                body: vec!["card".into()],
                buttons: vec![],
            }],
        };
        let wire = send_object(&message);
        assert_eq!(wire["language"]["code"], "en_US");
        assert_eq!(wire["components"][2]["sub_type"], "url");
        assert_eq!(wire["components"][2]["index"], "0");
        assert_eq!(parse_send(&wire).unwrap(), message);
    }
}
