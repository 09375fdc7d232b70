//! Templates on the simulated WhatsApp Business Account: the Graph endpoints
//! (`/{waba-id}/message_templates`: create, list, delete), review by simple rules after a
//! configurable delay, lifecycle changes through the control API, the template webhooks
//! every change sends, and what a template send looks like on the phone.

use chrono::{DateTime, Duration, Utc};
use parley_channels::template::{parse_placeholders, placeholders, render};

use crate::template_send::{
    ButtonParameter, ButtonValue, CardParameters, HeaderParameter, TemplateSend,
};
use serde::Serialize;
use serde_json::{Value, json};

/// Words that make a UTILITY template promotional (→ `INCORRECT_CATEGORY`, or
/// re-categorised as MARKETING when the business allowed it).
const PROMOTIONAL: &[&str] = &[
    "sale",
    "discount",
    "% off",
    "offer",
    "promo",
    "coupon",
    "deal",
    "buy now",
    "shop now",
    "limited time",
    "free shipping",
];

/// How many templates a business account may hold (Meta: 250 for an unverified
/// business), as Graph reports it in a list's `summary.message_template_limit`.
pub const LIVE_TEMPLATE_LIMIT: usize = 250;

#[derive(Debug, Clone, Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub struct SimTemplate {
    pub id: String,
    pub waba_id: String,
    pub name: String,
    pub language: String,
    pub category: String,
    pub status: String,
    pub quality_score: String,
    /// When the quality score was last rated (Graph lists it as `quality_score.date`).
    pub quality_at: DateTime<Utc>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rejected_reason: Option<String>,
    pub allow_category_change: bool,
    /// `POSITIONAL` (`{{1}}`) or `NAMED` (`{{first_name}}`), as Graph lists it.
    pub parameter_format: String,
    /// Meta's create-payload components.
    pub components: Vec<Value>,
    pub created_at: DateTime<Utc>,
    /// How often it has been paused (the third pause disables it).
    #[serde(default)]
    pub pauses: u32,
}

/// Meta's pause ladder for low-quality templates: each pause's `other_info.title` and how
/// long it lasts before the template is unpaused by itself. The pause after the last one
/// disables the template (Meta: 3 h, then 6 h, then disabled; durations unconfirmed).
pub const PAUSES: &[(&str, Duration)] = &[
    ("FIRST_PAUSE", Duration::hours(3)),
    ("SECOND_PAUSE", Duration::hours(6)),
];

/// A template webhook waiting to be sent: `field` and `value` of the change.
pub type TemplateWebhook = (&'static str, Value);

/// The component of type `kind` in a template's (or a carousel card's) components.
fn component_in<'a>(components: &'a [Value], kind: &str) -> Option<&'a Value> {
    components.iter().find(|c| {
        c.get("type")
            .and_then(Value::as_str)
            .is_some_and(|t| t.eq_ignore_ascii_case(kind))
    })
}

fn buttons_in(components: &[Value]) -> Vec<Value> {
    component_in(components, "BUTTONS")
        .and_then(|b| b.get("buttons"))
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default()
}

fn text_in(components: &[Value], kind: &str) -> String {
    component_in(components, kind)
        .and_then(|c| c.get("text"))
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_owned()
}

/// The buttons as the phone shows them: `{index, type, text, parameter?}`.
fn shown_buttons(buttons: &[Value], parameters: &[ButtonParameter]) -> Vec<Value> {
    buttons
        .iter()
        .enumerate()
        .map(|(i, b)| {
            let kind = b.get("type").and_then(Value::as_str).unwrap_or("");
            let label = b.get("text").and_then(Value::as_str).unwrap_or(match kind {
                "COPY_CODE" => "Copy offer code",
                _ => "",
            });
            let mut button = json!({"index": i, "type": kind, "text": label});
            if let Some(param) = parameters.iter().find(|p| p.index as usize == i) {
                button["parameter"] = serde_json::to_value(&param.value).unwrap_or(Value::Null);
            }
            button
        })
        .collect()
}

/// The quick-reply button at `index` of `buttons` and what tapping it sends back: its
/// label and the payload the business attached (the label when it attached none).
fn quick_reply_in(
    buttons: &[Value],
    parameters: &[ButtonParameter],
    index: usize,
) -> Option<(String, String)> {
    let button = buttons.get(index)?;
    if button.get("type").and_then(Value::as_str) != Some("QUICK_REPLY") {
        return None;
    }
    let label = button.get("text").and_then(Value::as_str)?.to_owned();
    let payload = parameters
        .iter()
        .find(|p| p.index as usize == index)
        .and_then(|p| match &p.value {
            Some(ButtonValue::Payload { payload }) => Some(payload.clone()),
            _ => None,
        })
        .unwrap_or_else(|| label.clone());
    Some((label, payload))
}

/// A card's media header as the phone shows it: the link the send gave, or the uploaded
/// file it named (`mediaId`, which the control API turns into a `url`).
fn shown_media_header(parameter: &HeaderParameter) -> Value {
    let url = match parameter {
        HeaderParameter::Image { url }
        | HeaderParameter::Video { url }
        | HeaderParameter::Gif { url }
        | HeaderParameter::Document { url } => url,
        other => return serde_json::to_value(other).unwrap_or(Value::Null),
    };
    if url.contains("://") {
        json!({"type": parameter.kind(), "url": url})
    } else {
        json!({"type": parameter.kind(), "mediaId": url})
    }
}

/// One card of a carousel on the phone: the send's parameters for it (`card_index`,
/// `header`, `body`, `buttons`, as sent) and `rendered`, the card as drawn: `header`
/// (`{type, url}`), `body` (the text, filled in) and `buttons` (as the bubble's own).
fn card_bubble(index: usize, components: &[Value], parameters: Option<&CardParameters>) -> Value {
    let mut card = parameters
        .and_then(|p| serde_json::to_value(p).ok())
        .unwrap_or_else(|| json!({ "card_index": index }));
    let header = component_in(components, "HEADER").map(|h| {
        match parameters.and_then(|p| p.header.as_ref()) {
            Some(parameter) => shown_media_header(parameter),
            None => {
                let format = h.get("format").and_then(Value::as_str).unwrap_or("IMAGE");
                json!({ "type": format.to_ascii_lowercase() })
            }
        }
    });
    let values = parameters.map_or(&[][..], |p| &p.body[..]);
    let button_values = parameters.map_or(&[][..], |p| &p.buttons[..]);
    card["rendered"] = json!({
        "header": header,
        "body": render(&text_in(components, "BODY"), values),
        "buttons": shown_buttons(&buttons_in(components), button_values),
    });
    card
}

impl SimTemplate {
    fn component(&self, kind: &str) -> Option<&Value> {
        component_in(&self.components, kind)
    }

    /// Each carousel card's components, in order.
    fn cards(&self) -> Vec<Vec<Value>> {
        self.component("CAROUSEL")
            .and_then(|c| c.get("cards"))
            .and_then(Value::as_array)
            .map(|cards| {
                cards
                    .iter()
                    .map(|card| {
                        card.get("components")
                            .and_then(Value::as_array)
                            .cloned()
                            .unwrap_or_default()
                    })
                    .collect()
            })
            .unwrap_or_default()
    }

    pub fn is_carousel(&self) -> bool {
        self.component("CAROUSEL").is_some()
    }

    /// The body as the phone shows it before parameters are filled in.
    pub fn body_text(&self) -> String {
        let Some(body) = self.component("BODY") else {
            return String::new();
        };
        if self.category == "AUTHENTICATION" {
            let security = body
                .get("add_security_recommendation")
                .and_then(Value::as_bool)
                .unwrap_or(false);
            let mut text = "{{1}} is your verification code.".to_owned();
            if security {
                text.push_str(" For your security, do not share this code.");
            }
            return text;
        }
        body.get("text")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_owned()
    }

    fn footer_text(&self) -> Option<String> {
        let footer = self.component("FOOTER")?;
        if let Some(minutes) = footer
            .get("code_expiration_minutes")
            .and_then(Value::as_u64)
        {
            return Some(format!("This code expires in {minutes} minutes."));
        }
        footer
            .get("text")
            .and_then(Value::as_str)
            .map(str::to_owned)
    }

    fn buttons(&self) -> Vec<Value> {
        buttons_in(&self.components)
    }

    fn text_of(&self, kind: &str) -> String {
        text_in(&self.components, kind)
    }

    /// Meta's review: malformed placeholders → `INVALID_FORMAT`; promotional wording in
    /// a UTILITY template → re-categorised or `INCORRECT_CATEGORY`; otherwise approved.
    pub fn review(&mut self) -> Vec<TemplateWebhook> {
        if self.status != "PENDING" {
            return Vec::new();
        }
        let texts = [
            self.text_of("HEADER"),
            self.body_text(),
            self.text_of("FOOTER"),
        ];
        if texts.iter().any(|t| parse_placeholders(t).is_err()) {
            return self.set_status("REJECTED", Some("INVALID_FORMAT"), None);
        }
        let lower = texts.join(" ").to_lowercase();
        let promotional = PROMOTIONAL.iter().any(|w| lower.contains(w));
        let mut webhooks = Vec::new();
        if self.category == "UTILITY" && promotional {
            if !self.allow_category_change {
                return self.set_status("REJECTED", Some("INCORRECT_CATEGORY"), None);
            }
            webhooks.extend(self.set_category("MARKETING"));
        }
        webhooks.extend(self.set_status("APPROVED", Some("NONE"), None));
        webhooks
    }

    fn identity(&self) -> Value {
        json!({
            "message_template_id": self.id.parse::<u64>().unwrap_or_default(),
            "message_template_name": self.name,
            "message_template_language": self.language,
        })
    }

    /// Moves to `status`, with the webhook Meta sends for it.
    pub fn set_status(
        &mut self,
        status: &str,
        reason: Option<&str>,
        title: Option<&str>,
    ) -> Vec<TemplateWebhook> {
        self.status = status.to_owned();
        self.rejected_reason = (status == "REJECTED").then(|| reason.unwrap_or("NONE").to_owned());
        let mut value = self.identity();
        value["event"] = json!(status);
        value["reason"] = json!(reason.unwrap_or("NONE"));
        value["message_template_category"] = json!(self.category);
        if let Some(title) = title {
            value["other_info"] = json!({ "title": title, "description": format!("{} {}", self.name, title.to_lowercase().replace('_', " ")) });
        }
        vec![("message_template_status_update", value)]
    }

    /// Pauses for the next step of [`PAUSES`], with how long this pause lasts; after the
    /// last step the template is disabled for good (`None`).
    pub fn pause(&mut self) -> (Vec<TemplateWebhook>, Option<Duration>) {
        self.pauses += 1;
        match PAUSES.get(self.pauses as usize - 1) {
            Some((title, lasts)) => (self.set_status("PAUSED", None, Some(title)), Some(*lasts)),
            None => (self.set_status("DISABLED", None, Some("DISABLED")), None),
        }
    }

    /// The pause numbered `pause` is over: the template can be sent again. `None` when
    /// it was lifted, deepened or superseded meanwhile.
    pub fn pause_over(&mut self, pause: u32) -> Option<Vec<TemplateWebhook>> {
        (self.status == "PAUSED" && self.pauses == pause)
            .then(|| self.set_status("APPROVED", None, Some("UNPAUSE")))
    }

    pub fn set_quality(&mut self, score: &str, now: DateTime<Utc>) -> Vec<TemplateWebhook> {
        let mut value = self.identity();
        value["previous_quality_score"] = json!(self.quality_score);
        value["new_quality_score"] = json!(score);
        self.quality_score = score.to_owned();
        self.quality_at = now;
        vec![("message_template_quality_update", value)]
    }

    pub fn set_category(&mut self, category: &str) -> Vec<TemplateWebhook> {
        let mut value = self.identity();
        value["previous_category"] = json!(self.category);
        value["new_category"] = json!(category);
        self.category = category.to_owned();
        vec![("template_category_update", value)]
    }

    /// Meta's error for a send of this template with these parameters, if any.
    pub fn send_failure(&self, message: &TemplateSend) -> Option<(u32, &'static str, String)> {
        match self.status.as_str() {
            "APPROVED" | "FLAGGED" | "REINSTATED" => {}
            "PAUSED" => {
                return Some((
                    132015,
                    "Template is Paused",
                    format!("template {} is paused", self.name),
                ));
            }
            "DISABLED" => {
                return Some((
                    132016,
                    "Template is Disabled",
                    format!("template {} is disabled", self.name),
                ));
            }
            other => {
                return Some((
                    132001,
                    "Template name does not exist in the translation",
                    format!("template {} is {other}", self.name),
                ));
            }
        }
        let mismatch = |component: String, expected: usize, received: usize| {
            (expected != received).then(|| {
                (
                    132000,
                    "Number of parameters does not match the expected number of params",
                    format!("{component}: expected {expected}, received {received}"),
                )
            })
        };
        if let Some(header) = self.component("HEADER") {
            let format = header
                .get("format")
                .and_then(Value::as_str)
                .unwrap_or("TEXT");
            // A media or location header takes its one parameter at send time.
            let expected = if format.eq_ignore_ascii_case("TEXT") {
                placeholders(&self.text_of("HEADER")).len()
            } else {
                1
            };
            let received = usize::from(message.header.is_some());
            if let Some(failure) = mismatch("header".into(), expected, received) {
                return Some(failure);
            }
        }
        let body_needed = placeholders(&self.body_text()).len();
        if let Some(failure) = mismatch("body".into(), body_needed, message.body.len()) {
            return Some(failure);
        }
        for (index, button) in self.buttons().iter().enumerate() {
            let dynamic_url = button.get("type").and_then(Value::as_str) == Some("URL")
                && button
                    .get("url")
                    .and_then(Value::as_str)
                    .is_some_and(|url| url.contains("{{1}}"));
            let received = message
                .buttons
                .iter()
                .filter(|p| p.index as usize == index && p.value.is_some())
                .count();
            let failure = dynamic_url
                .then(|| mismatch(format!("button {index}"), 1, received))
                .flatten();
            if failure.is_some() {
                return failure;
            }
        }
        None
    }

    /// What the phone shows for a send of this template.
    pub fn bubble(&self, message: &TemplateSend) -> Value {
        let header = self.component("HEADER").map(|h| {
            let format = h.get("format").and_then(Value::as_str).unwrap_or("TEXT");
            match (format, &message.header) {
                ("TEXT", param) => {
                    let values: Vec<String> = match param {
                        Some(HeaderParameter::Text { text }) => vec![text.clone()],
                        _ => Vec::new(),
                    };
                    json!({"type": "text", "text": render(h.get("text").and_then(Value::as_str).unwrap_or(""), &values)})
                }
                (_, Some(param)) => serde_json::to_value(param).unwrap_or(Value::Null),
                (format, None) => json!({ "type": format.to_ascii_lowercase() }),
            }
        });
        let buttons = shown_buttons(&self.buttons(), &message.buttons);
        let definitions = self.cards();
        let cards: Vec<Value> = if definitions.is_empty() {
            message
                .cards
                .iter()
                .filter_map(|c| serde_json::to_value(c).ok())
                .collect()
        } else {
            definitions
                .iter()
                .enumerate()
                .map(|(i, components)| {
                    let parameters = message.cards.iter().find(|c| c.card_index as usize == i);
                    card_bubble(i, components, parameters)
                })
                .collect()
        };
        json!({
            "name": self.name,
            "language": self.language,
            "category": self.category,
            "header": header,
            "body": render(&self.body_text(), &message.body),
            "footer": self.footer_text(),
            "buttons": buttons,
            "cards": cards,
        })
    }

    /// The quick-reply button at `index` and what tapping it sends back: its label and
    /// the payload the business attached (the label when it attached none).
    pub fn quick_reply(&self, message: &TemplateSend, index: usize) -> Option<(String, String)> {
        quick_reply_in(&self.buttons(), &message.buttons, index)
    }

    /// The same for the quick-reply button at `index` of carousel card `card`, with the
    /// payload the send gave that card's button.
    pub fn card_quick_reply(
        &self,
        message: &TemplateSend,
        card: usize,
        index: usize,
    ) -> Option<(String, String)> {
        let components = self.cards().into_iter().nth(card)?;
        let parameters = message
            .cards
            .iter()
            .find(|c| c.card_index as usize == card)
            .map_or(&[][..], |c| &c.buttons[..]);
        quick_reply_in(&buttons_in(&components), parameters, index)
    }
}

/// Reads Meta's creation payload; `Err` is the Graph error's details.
pub fn from_create_payload(
    id: String,
    waba_id: &str,
    body: &Value,
    now: DateTime<Utc>,
) -> Result<SimTemplate, String> {
    let field = |key: &str| {
        body.get(key)
            .and_then(Value::as_str)
            .filter(|v| !v.is_empty())
            .map(str::to_owned)
            .ok_or_else(|| format!("Param {key} is required"))
    };
    let category = field("category")?.to_ascii_uppercase();
    if !["AUTHENTICATION", "MARKETING", "UTILITY"].contains(&category.as_str()) {
        return Err("Param category must be one of AUTHENTICATION, MARKETING, UTILITY".to_owned());
    }
    let components = body
        .get("components")
        .and_then(Value::as_array)
        .cloned()
        .ok_or("Param components is required")?;
    let parameter_format = match body.get("parameter_format").and_then(Value::as_str) {
        None => "POSITIONAL".to_owned(),
        Some(f) if ["positional", "named"].contains(&f.to_ascii_lowercase().as_str()) => {
            f.to_ascii_uppercase()
        }
        Some(_) => return Err("Param parameter_format must be one of POSITIONAL, NAMED".into()),
    };
    Ok(SimTemplate {
        id,
        waba_id: waba_id.to_owned(),
        name: field("name")?,
        language: field("language")?,
        category,
        status: "PENDING".into(),
        quality_score: "UNKNOWN".into(),
        quality_at: now,
        rejected_reason: None,
        allow_category_change: body
            .get("allow_category_change")
            .and_then(Value::as_bool)
            .unwrap_or(true),
        parameter_format,
        components,
        created_at: now,
        pauses: 0,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn approved() -> SimTemplate {
        let payload = json!({"name": "welcome", "language": "en_US", "category": "UTILITY", "components": [
            {"type": "HEADER", "format": "IMAGE", "example": {"header_handle": ["https://x.test/a.png"]}},
            {"type": "BODY", "text": "Hi {{1}}", "example": {"body_text": [["Ana"]]}},
            {"type": "BUTTONS", "buttons": [
                {"type": "QUICK_REPLY", "text": "Thanks"},
                {"type": "URL", "text": "Open", "url": "https://x.test/{{1}}", "example": ["a"]}]}
        ]});
        let mut template = from_create_payload("1".into(), "waba", &payload, Utc::now()).unwrap();
        template.status = "APPROVED".into();
        template
    }

    fn send(header: bool, url_suffix: bool) -> TemplateSend {
        TemplateSend {
            name: "welcome".into(),
            language: "en_US".into(),
            header: header.then(|| HeaderParameter::Image {
                url: "https://x.test/b.png".into(),
            }),
            body: vec!["Jo".into()],
            buttons: url_suffix
                .then(|| ButtonParameter {
                    index: 1,
                    sub_type: "url".into(),
                    value: Some(ButtonValue::Text { text: "b".into() }),
                })
                .into_iter()
                .collect(),
            cards: Vec::new(),
        }
    }

    #[test]
    fn a_send_must_fill_the_media_header_and_the_dynamic_url_like_meta_requires() {
        let template = approved();
        assert_eq!(template.send_failure(&send(true, true)), None);
        let (code, _, details) = template.send_failure(&send(false, true)).unwrap();
        assert_eq!(
            (code, details.as_str()),
            (132000, "header: expected 1, received 0")
        );
        let (code, _, details) = template.send_failure(&send(true, false)).unwrap();
        assert_eq!(
            (code, details.as_str()),
            (132000, "button 1: expected 1, received 0")
        );
    }
}
