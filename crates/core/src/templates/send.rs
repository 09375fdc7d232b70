//! The `template` content of a send (`reference/chatapps-api.md` §5): read from 8x8 JSON
//! leniently (any casing of `type` and `subType`, `index` as string or number), written
//! back in 8x8's shape for storage, and checked against the approved template it names.

use parley_channels::Location;
use parley_channels::template::{
    ButtonParameter, ButtonSubType, ButtonValue, CardParameters, HeaderParameter, TemplateButton,
    TemplateCategory, TemplateHeader, TemplateMessage, TemplateSpec, placeholders, render,
};
use parley_types::codes::SyncCode;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};

use crate::input::{
    Object, array, char_count, integer, invalid, is_web_url, join, lookup, object, objects, string,
    text_or_number,
};
use crate::{Error, Result};

use super::spec::normalise_language;

pub const MAX_HEADER_PARAMETER_CHARS: usize = 60;
pub const MAX_BODY_PARAMETER_CHARS: usize = 1024;
pub const MAX_BUTTON_PARAMETER_CHARS: usize = 2000;
pub const TTL_MINUTES: std::ops::RangeInclusive<i64> = 1..=43_200;

fn coded(code: SyncCode, what: &str, message: impl std::fmt::Display) -> Error {
    invalid(code, format!("{what}: {message}"))
}

fn parameter_type_error(path: &str, found: &str) -> Error {
    coded(
        SyncCode::InvalidTemplateParameterType,
        "Invalid template parameter type",
        format!("'{path}.type' {found:?} is not a template parameter type"),
    )
}

fn url_parameter(p: &Object, path: &str) -> Result<String> {
    let url = string(p, &["url", "link"], path)?
        .map(str::trim)
        .unwrap_or("");
    if !is_web_url(url) {
        return Err(coded(
            SyncCode::TemplateParameterUrlInvalid,
            "Template parameter URL invalid",
            format!("'{}' must be an absolute http(s) URL", join(path, "url")),
        ));
    }
    Ok(url.to_owned())
}

fn text_parameter(p: &Object, path: &str, max: usize) -> Result<String> {
    let text = string(p, &["text"], path)?.unwrap_or("");
    if text.trim().is_empty() {
        return Err(coded(
            SyncCode::EmptyTemplateParameters,
            "Empty template parameters",
            format!("'{}' is required", join(path, "text")),
        ));
    }
    if char_count(text) > max {
        return Err(coded(
            SyncCode::TemplateTextParameterTooLong,
            "Template text parameter too long",
            format!("'{}' exceeds {max} characters", join(path, "text")),
        ));
    }
    Ok(text.to_owned())
}

fn location_parameter(p: &Object, path: &str) -> Result<Location> {
    let empty = || {
        coded(
            SyncCode::TemplateLocationParameterEmpty,
            "Template location parameter empty",
            format!(
                "'{}' needs a latitude (-90..90) and a longitude (-180..180)",
                join(path, "location")
            ),
        )
    };
    let location = object(p, &["location"], path)?.ok_or_else(empty)?;
    let coordinate = |key: &'static str, bound: f64| -> Option<f64> {
        let value = match lookup(location, &[key])?.1 {
            Value::Number(n) => n.as_f64()?,
            Value::String(s) => s.trim().parse().ok()?,
            _ => return None,
        };
        (value.is_finite() && value.abs() <= bound).then_some(value)
    };
    let loc_path = join(path, "location");
    Ok(Location {
        latitude: coordinate("latitude", 90.0).ok_or_else(empty)?,
        longitude: coordinate("longitude", 180.0).ok_or_else(empty)?,
        name: string(location, &["name"], &loc_path)?.map(str::to_owned),
        address: string(location, &["address"], &loc_path)?.map(str::to_owned),
    })
}

fn parameter_kind(p: &Object, path: &str) -> Result<String> {
    string(p, &["type"], path)?
        .map(|t| t.trim().to_ascii_lowercase().replace('_', ""))
        .ok_or_else(|| parameter_type_error(path, ""))
}

fn header_parameter(p: &Object, path: &str) -> Result<HeaderParameter> {
    Ok(match parameter_kind(p, path)?.as_str() {
        "text" => HeaderParameter::Text {
            text: text_parameter(p, path, MAX_HEADER_PARAMETER_CHARS)?,
        },
        "image" => HeaderParameter::Image {
            url: url_parameter(p, path)?,
        },
        "video" => HeaderParameter::Video {
            url: url_parameter(p, path)?,
        },
        "gif" => HeaderParameter::Gif {
            url: url_parameter(p, path)?,
        },
        "document" | "file" => HeaderParameter::Document {
            url: url_parameter(p, path)?,
        },
        "location" => HeaderParameter::Location {
            location: location_parameter(p, path)?,
        },
        other => return Err(parameter_type_error(path, other)),
    })
}

fn sub_type(component: &Object, path: &str) -> Result<ButtonSubType> {
    let raw = text_or_number(component, &["subType", "sub_type"], path)?.unwrap_or_default();
    let normalised = raw.trim().to_ascii_lowercase().replace(['_', '-', ' '], "");
    Ok(match normalised.as_str() {
        "quickreply" => ButtonSubType::QuickReply,
        "url" => ButtonSubType::Url,
        "copycode" => ButtonSubType::CopyCode,
        "flow" => ButtonSubType::Flow,
        "voicecall" => ButtonSubType::VoiceCall,
        _ => {
            return Err(coded(
                SyncCode::InvalidTemplateComponentSubType,
                "Invalid template component subType",
                format!(
                    "'{}' {raw:?} is not one of QuickReply, Url, CopyCode, Flow, VoiceCall",
                    join(path, "subType")
                ),
            ));
        }
    })
}

fn index(component: &Object, path: &str, max: u8, key: &'static str) -> Result<u8> {
    let bad = || {
        coded(
            SyncCode::InvalidIndex,
            "Invalid index",
            format!("'{}' must be a number from 0 to {max}", join(path, key)),
        )
    };
    let raw = text_or_number(component, &[key], path)?.ok_or_else(bad)?;
    raw.trim()
        .parse::<u8>()
        .ok()
        .filter(|i| *i <= max)
        .ok_or_else(bad)
}

fn button_value(p: &Object, path: &str, sub: ButtonSubType) -> Result<ButtonValue> {
    let kind = parameter_kind(p, path)?;
    if kind == "ttlminutes" && sub != ButtonSubType::VoiceCall {
        return Err(coded(
            SyncCode::TemplateParameterNotAllowed,
            "Template parameter not allowed",
            format!("'{path}' ttlMinutes is only for VoiceCall buttons"),
        ));
    }
    Ok(match kind.as_str() {
        "text" => ButtonValue::Text {
            text: text_parameter(p, path, MAX_BUTTON_PARAMETER_CHARS)?,
        },
        "payload" => ButtonValue::Payload {
            payload: text_or_number(p, &["payload"], path)?.unwrap_or_default(),
        },
        "couponcode" => ButtonValue::CouponCode {
            coupon_code: string(p, &["couponCode", "coupon_code"], path)?
                .filter(|c| !c.trim().is_empty())
                .ok_or_else(|| button_error(path, "needs 'couponCode'"))?
                .to_owned(),
        },
        "action" => {
            let data = object(p, &["flowActionData", "flow_action_data"], path)?;
            ButtonValue::Action {
                flow_token: string(p, &["flowToken", "flow_token"], path)?.map(str::to_owned),
                flow_action_data: data.map(|d| Value::Object(d.clone())),
            }
        }
        "ttlminutes" => {
            let ttl = integer(p, &["ttlMinutes", "ttl_minutes"], path)?
                .filter(|t| TTL_MINUTES.contains(t))
                .ok_or_else(|| button_error(path, "needs 'ttlMinutes' from 1 to 43200"))?;
            ButtonValue::TtlMinutes {
                ttl_minutes: ttl as u32,
            }
        }
        other => return Err(parameter_type_error(path, other)),
    })
}

fn button_error(path: &str, problem: &str) -> Error {
    coded(
        SyncCode::InvalidButtonParameter,
        "Invalid button parameter",
        format!("'{path}' {problem}"),
    )
}

fn button(component: &Object, path: &str, max_index: u8) -> Result<ButtonParameter> {
    let sub = sub_type(component, path)?;
    let index = index(component, path, max_index, "index")?;
    let params = array(component, &["parameters"], path)?.unwrap_or_default();
    let value = match objects(params, &join(path, "parameters"))?.first() {
        Some((p_path, p)) => Some(button_value(p, p_path, sub)?),
        None if sub == ButtonSubType::VoiceCall => None,
        None => return Err(button_error(path, "needs a parameter")),
    };
    Ok(ButtonParameter {
        index,
        sub_type: sub,
        value,
    })
}

/// Header, body and buttons read from a component list.
#[derive(Default)]
struct Parts {
    header: Option<HeaderParameter>,
    body: Vec<String>,
    buttons: Vec<ButtonParameter>,
    cards: Vec<CardParameters>,
}

fn components(list: &[Value], path: &str, in_card: bool) -> Result<Parts> {
    let mut parts = Parts::default();
    for (c_path, component) in objects(list, path)? {
        let kind = string(component, &["type"], &c_path)?
            .map(|k| k.trim().to_ascii_lowercase())
            .unwrap_or_else(|| "body".into());
        let params = array(component, &["parameters"], &c_path)?.unwrap_or_default();
        let params_path = join(&c_path, "parameters");
        match kind.as_str() {
            "header" => {
                parts.header = match objects(params, &params_path)?.first() {
                    Some((p_path, p)) => Some(header_parameter(p, p_path)?),
                    None => None,
                };
            }
            "body" => {
                for (p_path, p) in objects(params, &params_path)? {
                    match parameter_kind(p, &p_path)?.as_str() {
                        "text" => {
                            parts
                                .body
                                .push(text_parameter(p, &p_path, MAX_BODY_PARAMETER_CHARS)?)
                        }
                        other => return Err(parameter_type_error(&p_path, other)),
                    }
                }
            }
            "button" | "buttons" => {
                let max = if in_card { 1 } else { 9 };
                parts.buttons.push(button(component, &c_path, max)?);
            }
            "carousel" if !in_card => {
                let cards = array(component, &["cards"], &c_path)?.unwrap_or_default();
                for (card_path, card) in objects(cards, &join(&c_path, "cards"))? {
                    let card_index = index(card, &card_path, 9, "cardIndex")?;
                    let list = array(card, &["components"], &card_path)?.unwrap_or_default();
                    let inner = components(list, &join(&card_path, "components"), true)?;
                    parts.cards.push(CardParameters {
                        card_index,
                        header: inner.header,
                        body: inner.body,
                        buttons: inner.buttons,
                    });
                }
            }
            // Static components: nothing to fill in.
            "footer" | "call_permission_request" | "request_contact_info" => {}
            other => {
                return Err(invalid(
                    SyncCode::InvalidTemplateComponentType,
                    format!(
                        "Invalid template component type: '{}' {other:?} is not one of header, body, button, carousel",
                        join(&c_path, "type")
                    ),
                ));
            }
        }
    }
    Ok(parts)
}

/// Reads `content.template` of a send.
pub fn parse_send(content: &Object) -> Result<TemplateMessage> {
    // `seeds/002`'s error table names this very case for 1005 ("a required field is
    // missing (like content.template)"); 3030 is the empty template of a creation.
    let template = object(content, &["template"], "content")?.ok_or_else(|| {
        invalid(
            SyncCode::InvalidParameters,
            "Invalid parameter(s): 'content.template' is required",
        )
    })?;
    let path = "content.template";
    let name = string(template, &["name"], path)?
        .map(str::trim)
        .filter(|n| !n.is_empty())
        .ok_or_else(|| {
            invalid(
                SyncCode::InvalidTemplateName,
                "Invalid template name: 'content.template.name' is required",
            )
        })?;
    let raw_language = match lookup(template, &["language"]) {
        // Meta's shape, `{"code": "en_US"}`, is accepted too.
        Some((_, Value::Object(l))) => string(l, &["code"], &join(path, "language"))?,
        _ => string(template, &["language"], path)?,
    }
    .map(str::trim)
    .filter(|l| !l.is_empty())
    .ok_or_else(|| {
        invalid(
            SyncCode::EmptyTemplateLanguage,
            "Empty template language: 'content.template.language' is required",
        )
    })?;
    let language = normalise_language(raw_language).ok_or_else(|| {
        invalid(
            SyncCode::InvalidTemplateLanguage,
            format!("Invalid template language: 'content.template.language' {raw_language:?}"),
        )
    })?;
    let list = array(template, &["components"], path)?.unwrap_or_default();
    let parts = components(list, &join(path, "components"), false)?;
    Ok(TemplateMessage {
        name: name.to_owned(),
        language,
        header: parts.header,
        body: parts.body,
        buttons: parts.buttons,
        cards: parts.cards,
    })
}

fn header_json(header: &HeaderParameter) -> Value {
    match header {
        HeaderParameter::Text { text } => json!({"type": "text", "text": text}),
        HeaderParameter::Location { location } => json!({"type": "location", "location": location}),
        HeaderParameter::Image { url }
        | HeaderParameter::Video { url }
        | HeaderParameter::Gif { url }
        | HeaderParameter::Document { url } => json!({"type": header.kind(), "url": url}),
    }
}

fn button_json(button: &ButtonParameter) -> Value {
    let sub = match button.sub_type {
        ButtonSubType::QuickReply => "QuickReply",
        ButtonSubType::Url => "Url",
        ButtonSubType::CopyCode => "CopyCode",
        ButtonSubType::Flow => "Flow",
        ButtonSubType::VoiceCall => "VoiceCall",
    };
    let mut c = json!({"type": "button", "index": button.index, "subType": sub});
    if let Some(value) = &button.value {
        let p = match value {
            ButtonValue::Text { text } => json!({"type": "text", "text": text}),
            ButtonValue::Payload { payload } => json!({"type": "payload", "payload": payload}),
            ButtonValue::CouponCode { coupon_code } => {
                json!({"type": "couponCode", "couponCode": coupon_code})
            }
            ButtonValue::Action {
                flow_token,
                flow_action_data,
            } => {
                let mut p = Map::new();
                p.insert("type".into(), json!("action"));
                if let Some(token) = flow_token {
                    p.insert("flowToken".into(), json!(token));
                }
                if let Some(data) = flow_action_data {
                    p.insert("flowActionData".into(), data.clone());
                }
                Value::Object(p)
            }
            ButtonValue::TtlMinutes { ttl_minutes } => {
                json!({"type": "ttlMinutes", "ttlMinutes": ttl_minutes})
            }
        };
        c["parameters"] = json!([p]);
    }
    c
}

fn components_json(
    header: Option<&HeaderParameter>,
    body: &[String],
    buttons: &[ButtonParameter],
) -> Vec<Value> {
    let mut out = Vec::new();
    if let Some(header) = header {
        out.push(json!({"type": "header", "parameters": [header_json(header)]}));
    }
    if !body.is_empty() {
        let params: Vec<Value> = body
            .iter()
            .map(|t| json!({"type": "text", "text": t}))
            .collect();
        out.push(json!({"type": "body", "parameters": params}));
    }
    out.extend(buttons.iter().map(button_json));
    out
}

/// The message in 8x8's `template` shape (what [`parse_send`] reads).
pub fn to_json(message: &TemplateMessage) -> Value {
    let mut list = components_json(message.header.as_ref(), &message.body, &message.buttons);
    if !message.cards.is_empty() {
        let cards: Vec<Value> = message
            .cards
            .iter()
            .map(|c| {
                json!({
                    "cardIndex": c.card_index,
                    "components": components_json(c.header.as_ref(), &c.body, &c.buttons),
                })
            })
            .collect();
        list.push(json!({"type": "carousel", "cards": cards}));
    }
    json!({"name": message.name, "language": message.language, "components": list})
}

/// What the user sees, placeholders filled in: kept with the message for logs and the
/// console.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Rendered {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub header: Option<String>,
    pub body: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub footer: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub buttons: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub cards: Vec<RenderedCard>,
    /// The approved template's category when the message was accepted: marketing
    /// messages are not sent to users who opted out. (Absent on messages stored before.)
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub category: Option<TemplateCategory>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RenderedCard {
    pub body: String,
    pub buttons: Vec<String>,
}

fn count_error(what: &str, expected: usize, given: usize) -> Error {
    if given == 0 {
        coded(
            SyncCode::EmptyTemplateParameters,
            "Empty template parameters",
            format!("the template's {what} needs {expected} parameter(s), none were given"),
        )
    } else {
        coded(
            SyncCode::InvalidTemplateParameter,
            "Invalid template parameter",
            format!("the template's {what} needs {expected} parameter(s), {given} were given"),
        )
    }
}

fn not_allowed(message: impl std::fmt::Display) -> Error {
    coded(
        SyncCode::TemplateParameterNotAllowed,
        "Template parameter not allowed",
        message,
    )
}

fn check_header(
    template: Option<&TemplateHeader>,
    given: Option<&HeaderParameter>,
    what: &str,
) -> Result<Option<String>> {
    match (template, given) {
        (None, None) => Ok(None),
        (None, Some(_)) => Err(not_allowed(format!("the template has no {what} header"))),
        (Some(TemplateHeader::Text { text, .. }), given) => {
            let values = match given {
                None => Vec::new(),
                Some(HeaderParameter::Text { text }) => vec![text.clone()],
                Some(other) => {
                    return Err(coded(
                        SyncCode::InvalidTemplateParameterType,
                        "Invalid template parameter type",
                        format!("the template's {what} header is TEXT, not {}", other.kind()),
                    ));
                }
            };
            let needed = placeholders(text).len();
            if values.len() != needed {
                if needed == 0 {
                    return Err(not_allowed(format!(
                        "the template's {what} header is static"
                    )));
                }
                return Err(count_error(&format!("{what} header"), needed, values.len()));
            }
            Ok(Some(render(text, &values)))
        }
        (Some(expected), None) => Err(count_error(
            &format!("{what} {} header", expected.format()),
            1,
            0,
        )),
        (Some(expected), Some(given)) => {
            let fits = matches!(
                (expected, given),
                (TemplateHeader::Image { .. }, HeaderParameter::Image { .. })
                    | (TemplateHeader::Video { .. }, HeaderParameter::Video { .. })
                    | (TemplateHeader::Gif { .. }, HeaderParameter::Gif { .. })
                    | (TemplateHeader::Gif { .. }, HeaderParameter::Video { .. })
                    | (
                        TemplateHeader::Document { .. },
                        HeaderParameter::Document { .. }
                    )
                    | (TemplateHeader::Location, HeaderParameter::Location { .. })
            );
            if !fits {
                return Err(coded(
                    SyncCode::InvalidTemplateParameterType,
                    "Invalid template parameter type",
                    format!(
                        "the template's {what} header is {}, not {}",
                        expected.format(),
                        given.kind()
                    ),
                ));
            }
            Ok(None)
        }
    }
}

fn check_body(text: &str, values: &[String], what: &str) -> Result<String> {
    let needed = placeholders(text).len();
    if values.len() != needed {
        if needed == 0 {
            return Err(not_allowed(format!(
                "the template's {what} has no variables"
            )));
        }
        return Err(count_error(what, needed, values.len()));
    }
    Ok(render(text, values))
}

/// Checks the button parameters against the template's buttons; returns them in
/// provider terms (an authentication code always travels on the URL-backed button).
fn check_buttons(
    template: &[TemplateButton],
    given: &[ButtonParameter],
    what: &str,
) -> Result<Vec<ButtonParameter>> {
    let mut out = Vec::with_capacity(given.len());
    for parameter in given {
        let button = template.get(parameter.index as usize).ok_or_else(|| {
            coded(
                SyncCode::InvalidIndex,
                "Invalid index",
                format!(
                    "{what} button index {} does not exist (the template has {} button(s))",
                    parameter.index,
                    template.len()
                ),
            )
        })?;
        if !parameter.sub_type.fits(button) {
            return Err(coded(
                SyncCode::InvalidTemplateComponentSubType,
                "Invalid template component subType",
                format!(
                    "{what} button {} is {}, which a {:?} parameter cannot fill",
                    parameter.index,
                    button.kind(),
                    parameter.sub_type
                ),
            ));
        }
        let normalised = match (button, &parameter.value) {
            (
                TemplateButton::Otp { .. },
                Some(ButtonValue::Text { text } | ButtonValue::CouponCode { coupon_code: text }),
            ) => ButtonParameter {
                index: parameter.index,
                sub_type: ButtonSubType::Url,
                value: Some(ButtonValue::Text { text: text.clone() }),
            },
            (TemplateButton::Url { .. }, Some(ButtonValue::Text { .. }))
            | (TemplateButton::CopyCode { .. }, Some(ButtonValue::CouponCode { .. }))
            | (TemplateButton::QuickReply { .. }, Some(ButtonValue::Payload { .. }))
            | (TemplateButton::Flow { .. }, Some(ButtonValue::Action { .. }))
            | (TemplateButton::VoiceCall { .. }, None | Some(ButtonValue::TtlMinutes { .. })) => {
                parameter.clone()
            }
            (_, value) => {
                return Err(button_error(
                    &format!("{what} button {}", parameter.index),
                    &format!(
                        "({}) cannot take a {} parameter",
                        button.kind(),
                        value
                            .as_ref()
                            .map_or("missing", |_| "parameter of this type")
                    ),
                ));
            }
        };
        if matches!(button, TemplateButton::Url { .. }) && !button.needs_parameter() {
            return Err(not_allowed(format!(
                "{what} button {} has a static URL",
                parameter.index
            )));
        }
        out.push(normalised);
    }
    for (i, button) in template.iter().enumerate() {
        if button.needs_parameter() && !given.iter().any(|p| p.index as usize == i) {
            return Err(button_error(
                &format!("{what} button {i}"),
                &format!("({}) needs a parameter", button.kind()),
            ));
        }
    }
    Ok(out)
}

fn labels(buttons: &[TemplateButton]) -> Vec<String> {
    buttons.iter().map(|b| b.label().to_owned()).collect()
}

/// Checks a send against the template it names: every parameter where the template has
/// a variable, of the right kind, and nothing where it has none.
pub fn resolve(
    spec: &TemplateSpec,
    message: TemplateMessage,
) -> Result<(TemplateMessage, Rendered)> {
    let header = check_header(spec.header.as_ref(), message.header.as_ref(), "")?;
    let body = check_body(&spec.body_text(), &message.body, "body")?;
    let buttons = check_buttons(&spec.buttons, &message.buttons, "template")?;
    let mut cards = Vec::with_capacity(message.cards.len());
    let mut rendered_cards = Vec::with_capacity(spec.cards.len());
    if spec.cards.is_empty() && !message.cards.is_empty() {
        return Err(not_allowed("the template has no carousel"));
    }
    for (i, card) in spec.cards.iter().enumerate() {
        let given = message
            .cards
            .iter()
            .find(|c| c.card_index as usize == i)
            .cloned()
            .unwrap_or(CardParameters {
                card_index: i as u8,
                header: None,
                body: Vec::new(),
                buttons: Vec::new(),
            });
        let what = format!("card {i}");
        check_header(Some(&card.header), given.header.as_ref(), &what)?;
        let card_body = check_body(&card.body.text, &given.body, &format!("{what} body"))?;
        let card_buttons = check_buttons(&card.buttons, &given.buttons, &what)?;
        rendered_cards.push(RenderedCard {
            body: card_body,
            buttons: labels(&card.buttons),
        });
        cards.push(CardParameters {
            buttons: card_buttons,
            ..given
        });
    }
    if let Some(extra) = message
        .cards
        .iter()
        .find(|c| c.card_index as usize >= spec.cards.len())
    {
        return Err(coded(
            SyncCode::InvalidIndex,
            "Invalid index",
            format!(
                "cardIndex {} does not exist (the template has {} card(s))",
                extra.card_index,
                spec.cards.len()
            ),
        ));
    }
    let rendered = Rendered {
        header,
        body,
        footer: spec.footer_text(),
        buttons: labels(&spec.buttons),
        cards: rendered_cards,
        category: Some(spec.category),
    };
    Ok((
        TemplateMessage {
            buttons,
            cards,
            ..message
        },
        rendered,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::templates::spec::{parse_template, tests::arbitrary_json};

    fn spec() -> TemplateSpec {
        parse_template(&json!({
            "name": "order", "language": "en", "category": "MARKETING",
            "components": [
                {"type": "HEADER", "format": "IMAGE", "examples": ["https://x.test/a.jpg"]},
                {"type": "BODY", "text": "Hi {{1}}, order {{2}} ships.", "examples": ["a", "b"]},
                {"type": "BUTTONS", "buttons": [
                    {"type": "QUICK_REPLY", "text": "Stop"},
                    {"type": "URL", "text": "Track", "url": "https://x.test/{{1}}", "example": ["a"]}
                ]}
            ]
        }))
        .unwrap()
    }

    fn send(components: Value) -> Result<(TemplateMessage, Rendered)> {
        let content =
            json!({"template": {"name": "order", "language": "en", "components": components}});
        resolve(&spec(), parse_send(content.as_object().unwrap())?)
    }

    fn code(result: Result<(TemplateMessage, Rendered)>) -> u32 {
        match result {
            Err(Error::Invalid { code, .. }) => code.code(),
            other => panic!("expected a refusal, got {other:?}"),
        }
    }

    const HEADER: &str =
        r#"{"type": "header", "parameters": [{"type": "image", "url": "https://x.test/b.jpg"}]}"#;
    const URL: &str = r#"{"type": "button", "index": "1", "subType": "url", "parameters": [{"type": "text", "text": "42"}]}"#;

    fn with(parts: &[&str]) -> Value {
        serde_json::from_str(&format!("[{}]", parts.join(","))).unwrap()
    }

    #[test]
    fn each_send_rule_answers_with_its_code() {
        let body2 = r#"{"type": "body", "parameters": [{"type": "text", "text": "Ana"}, {"type": "text", "text": "7"}]}"#;
        let ok = send(with(&[HEADER, body2, URL])).unwrap();
        assert_eq!(ok.1.body, "Hi Ana, order 7 ships.");
        assert_eq!(ok.1.buttons, ["Stop", "Track"]);
        let body1 = r#"{"type": "body", "parameters": [{"type": "text", "text": "Ana"}]}"#;
        let cases = [
            ("no body parameters", with(&[HEADER, URL]), 3040),
            ("too few body parameters", with(&[HEADER, body1, URL]), 3041),
            ("media header missing", with(&[body2, URL]), 3040),
            (
                "header of the wrong kind",
                with(&[
                    r#"{"type": "header", "parameters": [{"type": "video", "url": "https://x.test/v.mp4"}]}"#,
                    body2,
                    URL,
                ]),
                3042,
            ),
            (
                "unknown parameter type",
                with(&[
                    HEADER,
                    r#"{"type": "body", "parameters": [{"type": "currency", "text": "1"}]}"#,
                    URL,
                ]),
                3042,
            ),
            (
                "text parameter too long",
                with(&[
                    HEADER,
                    &format!(
                        r#"{{"type": "body", "parameters": [{{"type": "text", "text": "{}"}}, {{"type": "text", "text": "x"}}]}}"#,
                        "x".repeat(1025)
                    ),
                    URL,
                ]),
                3043,
            ),
            (
                "empty location",
                with(&[
                    r#"{"type": "header", "parameters": [{"type": "location", "location": {}}]}"#,
                    body2,
                    URL,
                ]),
                3044,
            ),
            (
                "parameter on a static button",
                with(&[
                    HEADER,
                    body2,
                    URL,
                    r#"{"type": "button", "index": 0, "subType": "quickReply", "parameters": [{"type": "text", "text": "x"}]}"#,
                ]),
                3049,
            ),
            (
                "ttlMinutes on a URL button",
                with(&[
                    HEADER,
                    body2,
                    r#"{"type": "button", "index": 1, "subType": "url", "parameters": [{"type": "ttlMinutes", "ttlMinutes": 5}]}"#,
                ]),
                3045,
            ),
            (
                "media URL invalid",
                with(&[
                    r#"{"type": "header", "parameters": [{"type": "image", "url": "file:///etc/passwd"}]}"#,
                    body2,
                    URL,
                ]),
                3046,
            ),
            (
                "dynamic URL without its value",
                with(&[HEADER, body2]),
                3049,
            ),
            (
                "unknown subType",
                with(&[
                    HEADER,
                    body2,
                    r#"{"type": "button", "index": 1, "subType": "teleport", "parameters": [{"type": "text", "text": "x"}]}"#,
                ]),
                3052,
            ),
            (
                "subType that does not fit the button",
                with(&[
                    HEADER,
                    body2,
                    URL,
                    r#"{"type": "button", "index": 0, "subType": "url", "parameters": [{"type": "text", "text": "x"}]}"#,
                ]),
                3052,
            ),
            (
                "index out of range",
                with(&[
                    HEADER,
                    body2,
                    URL,
                    r#"{"type": "button", "index": 12, "subType": "quickReply", "parameters": [{"type": "payload", "payload": "x"}]}"#,
                ]),
                3053,
            ),
            (
                "index beyond the template's buttons",
                with(&[
                    HEADER,
                    body2,
                    URL,
                    r#"{"type": "button", "index": 5, "subType": "quickReply", "parameters": [{"type": "payload", "payload": "x"}]}"#,
                ]),
                3053,
            ),
            (
                "unknown component",
                with(&[HEADER, body2, URL, r#"{"type": "sidebar"}"#]),
                3039,
            ),
        ];
        for (rule, components, expected) in cases {
            assert_eq!(code(send(components)), expected, "{rule}");
        }
    }

    proptest::proptest! {
        /// Whatever a send carries, reading and checking it answers; it never panics.
        #[test]
        fn the_send_validator_never_panics(template in arbitrary_json(4), components in arbitrary_json(3)) {
            let content = json!({"template": template});
            if let Ok(message) = parse_send(content.as_object().unwrap()) {
                let _ = resolve(&spec(), message);
            }
            let _ = send(components);
        }
    }
}
