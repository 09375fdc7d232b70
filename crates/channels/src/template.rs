//! WhatsApp message templates once validated: what a business submits for review
//! ([`TemplateSpec`]), what a send fills in ([`TemplateMessage`]), and the placeholder
//! rules both sides share (`{{1}}`, `{{2}}`, … in order).
//!
//! Provider-neutral: the Meta adapter turns these into Graph JSON, the core builds them
//! from 8x8 JSON, and the simulator renders them on a phone with the same functions.

use serde::{Deserialize, Serialize};

use crate::Location;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum TemplateCategory {
    Authentication,
    Marketing,
    Utility,
}

impl TemplateCategory {
    /// Any casing of `AUTHENTICATION`, `MARKETING`, `UTILITY`.
    pub fn parse(raw: &str) -> Option<Self> {
        match raw.trim().to_ascii_uppercase().as_str() {
            "AUTHENTICATION" => Some(Self::Authentication),
            "MARKETING" => Some(Self::Marketing),
            "UTILITY" => Some(Self::Utility),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Authentication => "AUTHENTICATION",
            Self::Marketing => "MARKETING",
            Self::Utility => "UTILITY",
        }
    }

    /// 8x8's `categoryName`.
    pub fn display_name(self) -> &'static str {
        match self {
            Self::Authentication => "Authentication",
            Self::Marketing => "Marketing",
            Self::Utility => "Utility",
        }
    }
}

/// A header as submitted. Media headers carry the sample URL reviewers look at; the real
/// media is given at send time.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "format", rename_all = "SCREAMING_SNAKE_CASE")]
pub enum TemplateHeader {
    Text {
        text: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        example: Option<String>,
    },
    Image {
        example: String,
    },
    Video {
        example: String,
    },
    Gif {
        example: String,
    },
    Document {
        example: String,
    },
    Location,
}

impl TemplateHeader {
    /// `TEXT`, `IMAGE`, … as Meta and 8x8 name the format.
    pub fn format(&self) -> &'static str {
        match self {
            Self::Text { .. } => "TEXT",
            Self::Image { .. } => "IMAGE",
            Self::Video { .. } => "VIDEO",
            Self::Gif { .. } => "GIF",
            Self::Document { .. } => "DOCUMENT",
            Self::Location => "LOCATION",
        }
    }

    /// How many parameters a send must give for this header.
    pub fn parameter_count(&self) -> usize {
        match self {
            Self::Text { text, .. } => placeholders(text).len(),
            Self::Location
            | Self::Image { .. }
            | Self::Video { .. }
            | Self::Gif { .. }
            | Self::Document { .. } => 1,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TemplateBody {
    pub text: String,
    /// One sample per placeholder, in order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub examples: Vec<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum OtpType {
    CopyCode,
    OneTap,
    ZeroTap,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "SCREAMING_SNAKE_CASE")]
pub enum TemplateButton {
    QuickReply {
        text: String,
    },
    Url {
        text: String,
        url: String,
        /// The sample value of the URL's trailing `{{1}}`, when it has one.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        example: Option<String>,
    },
    PhoneNumber {
        text: String,
        phone_number: String,
    },
    Otp {
        text: String,
        otp_type: OtpType,
    },
    /// A copy-offer-code button; the label is fixed by WhatsApp.
    CopyCode {
        example: String,
    },
    Flow {
        text: String,
        flow_id: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        flow_action: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        navigate_screen: Option<String>,
    },
    VoiceCall {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        text: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        ttl_minutes: Option<u32>,
    },
    RequestContactInfo,
}

/// The fixed label WhatsApp shows on a copy-offer-code button.
pub const COPY_CODE_LABEL: &str = "Copy offer code";

impl TemplateButton {
    /// `QUICK_REPLY`, `URL`, … as Meta and 8x8 name the kind.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::QuickReply { .. } => "QUICK_REPLY",
            Self::Url { .. } => "URL",
            Self::PhoneNumber { .. } => "PHONE_NUMBER",
            Self::Otp { .. } => "OTP",
            Self::CopyCode { .. } => "COPY_CODE",
            Self::Flow { .. } => "FLOW",
            Self::VoiceCall { .. } => "VOICE_CALL",
            Self::RequestContactInfo => "REQUEST_CONTACT_INFO",
        }
    }

    /// What the phone shows on the button.
    pub fn label(&self) -> &str {
        match self {
            Self::QuickReply { text }
            | Self::Url { text, .. }
            | Self::PhoneNumber { text, .. }
            | Self::Otp { text, .. }
            | Self::Flow { text, .. } => text,
            Self::CopyCode { .. } => COPY_CODE_LABEL,
            Self::VoiceCall { text, .. } => text.as_deref().unwrap_or("Call now"),
            Self::RequestContactInfo => "Share contact info",
        }
    }

    /// Whether a send must give this button a parameter: a URL with a trailing variable,
    /// the code of a copy-code button, the code of an authentication template's button.
    pub fn needs_parameter(&self) -> bool {
        match self {
            Self::Url { url, .. } => !placeholders(url).is_empty(),
            Self::CopyCode { .. } | Self::Otp { .. } => true,
            _ => false,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CarouselCard {
    pub header: TemplateHeader,
    pub body: TemplateBody,
    pub buttons: Vec<TemplateButton>,
}

/// Options of an authentication template, whose body text WhatsApp writes itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuthenticationOptions {
    pub add_security_recommendation: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code_expiration_minutes: Option<u32>,
}

/// A template as submitted for review, every documented rule already checked.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TemplateSpec {
    pub name: String,
    pub language: String,
    pub category: TemplateCategory,
    pub allow_category_change: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message_send_ttl_seconds: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub header: Option<TemplateHeader>,
    /// Absent only for authentication templates (see [`Self::body_text`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub body: Option<TemplateBody>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub footer: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub buttons: Vec<TemplateButton>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub cards: Vec<CarouselCard>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub authentication: Option<AuthenticationOptions>,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub call_permission_request: bool,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub request_contact_info: bool,
}

/// The text WhatsApp writes for an authentication template's body.
pub const AUTHENTICATION_BODY: &str = "{{1}} is your verification code.";
const SECURITY_RECOMMENDATION: &str = " For your security, do not share this code.";

impl TemplateSpec {
    /// The body as the phone shows it before parameters are filled in. WhatsApp writes
    /// the text of authentication templates itself, whatever text was submitted.
    pub fn body_text(&self) -> String {
        match (self.authentication, &self.body) {
            (Some(auth), _) if auth.add_security_recommendation => {
                format!("{AUTHENTICATION_BODY}{SECURITY_RECOMMENDATION}")
            }
            (Some(_), _) => AUTHENTICATION_BODY.to_owned(),
            (None, Some(body)) => body.text.clone(),
            (None, None) => String::new(),
        }
    }

    /// The footer as the phone shows it (for authentication templates, WhatsApp's line
    /// about the code's expiry).
    pub fn footer_text(&self) -> Option<String> {
        match self.authentication {
            Some(auth) => auth
                .code_expiration_minutes
                .map(|minutes| format!("This code expires in {minutes} minutes.")),
            None => self.footer.clone(),
        }
    }

    /// How many body parameters a send must give.
    pub fn body_parameter_count(&self) -> usize {
        placeholders(&self.body_text()).len()
    }
}

/// What a send fills into a media, text or location header.
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
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ButtonSubType {
    QuickReply,
    Url,
    CopyCode,
    Flow,
    VoiceCall,
}

impl ButtonSubType {
    /// The template button kinds a parameter of this sub-type may fill.
    pub fn fits(self, button: &TemplateButton) -> bool {
        matches!(
            (self, button),
            (Self::QuickReply, TemplateButton::QuickReply { .. })
                | (Self::Url, TemplateButton::Url { .. })
                // Authentication codes travel on a URL-backed button (Meta's design).
                | (Self::Url, TemplateButton::Otp { .. })
                | (Self::CopyCode, TemplateButton::CopyCode { .. })
                | (Self::CopyCode, TemplateButton::Otp { .. })
                | (Self::Flow, TemplateButton::Flow { .. })
                | (Self::VoiceCall, TemplateButton::VoiceCall { .. })
        )
    }
}

/// The value a send gives one button.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ButtonValue {
    /// The URL's trailing variable, or an authentication code.
    Text {
        text: String,
    },
    /// What comes back when the user taps a quick reply.
    Payload {
        payload: String,
    },
    CouponCode {
        coupon_code: String,
    },
    /// A flow button's token and first-screen data.
    Action {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        flow_token: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        flow_action_data: Option<serde_json::Value>,
    },
    TtlMinutes {
        ttl_minutes: u32,
    },
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ButtonParameter {
    pub index: u8,
    pub sub_type: ButtonSubType,
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
pub struct TemplateMessage {
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

/// A placeholder problem, in words a person can act on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PlaceholderError {
    /// `{{first_name}}` and the like: only positional `{{1}}`, `{{2}}` are supported.
    NotPositional(String),
    /// Numbers must run 1, 2, 3… in order of first appearance, without gaps.
    NotSequential { expected: u32, found: u32 },
    /// `{{` without a matching `}}`, or `}}` alone.
    Unbalanced,
}

impl std::fmt::Display for PlaceholderError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::NotPositional(name) => write!(
                f,
                "placeholder {{{{{name}}}}} is not positional; use {{{{1}}}}, {{{{2}}}}, … in order"
            ),
            Self::NotSequential { expected, found } => write!(
                f,
                "placeholders must be numbered in order without gaps: expected {{{{{expected}}}}}, found {{{{{found}}}}}"
            ),
            Self::Unbalanced => f.write_str("a placeholder is not closed: write {{1}}"),
        }
    }
}

/// One `{{n}}` in a text: its number and its byte range.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Placeholder {
    pub number: u32,
    pub start: usize,
    pub end: usize,
}

/// Every placeholder in `text`, checked: positional, numbered 1, 2, 3… by first
/// appearance. A number may repeat (`{{1}} … {{1}}`).
pub fn parse_placeholders(text: &str) -> Result<Vec<Placeholder>, PlaceholderError> {
    let mut found = Vec::new();
    let mut highest = 0;
    let mut rest = 0;
    while let Some(open) = text[rest..].find("{{").map(|i| rest + i) {
        let close = text[open..]
            .find("}}")
            .map(|i| open + i)
            .ok_or(PlaceholderError::Unbalanced)?;
        let inner = text[open + 2..close].trim();
        let number: u32 = match inner.parse() {
            Ok(n) if inner.chars().all(|c| c.is_ascii_digit()) => n,
            _ => return Err(PlaceholderError::NotPositional(inner.to_owned())),
        };
        if number > highest + 1 || number == 0 {
            return Err(PlaceholderError::NotSequential {
                expected: highest + 1,
                found: number,
            });
        }
        highest = highest.max(number);
        found.push(Placeholder {
            number,
            start: open,
            end: close + 2,
        });
        rest = close + 2;
    }
    if text[rest..].contains("}}") {
        return Err(PlaceholderError::Unbalanced);
    }
    Ok(found)
}

/// The distinct placeholder numbers in `text` (1..=n); empty when the text has none or
/// its placeholders are malformed.
pub fn placeholders(text: &str) -> Vec<u32> {
    let mut numbers: Vec<u32> = parse_placeholders(text)
        .unwrap_or_default()
        .into_iter()
        .map(|p| p.number)
        .collect();
    numbers.sort_unstable();
    numbers.dedup();
    numbers
}

/// `text` with `{{n}}` replaced by `values[n-1]`; a placeholder without a value stays.
pub fn render(text: &str, values: &[String]) -> String {
    let Ok(found) = parse_placeholders(text) else {
        return text.to_owned();
    };
    let mut out = String::with_capacity(text.len());
    let mut last = 0;
    for p in found {
        out.push_str(&text[last..p.start]);
        match values.get(p.number as usize - 1) {
            Some(value) => out.push_str(value),
            None => out.push_str(&text[p.start..p.end]),
        }
        last = p.end;
    }
    out.push_str(&text[last..]);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_are_positional_and_in_order() {
        assert_eq!(placeholders("Hi {{1}}, your {{2}} and {{1}}"), vec![1, 2]);
        assert_eq!(placeholders("no variables"), Vec::<u32>::new());
        assert_eq!(
            parse_placeholders("{{2}} first"),
            Err(PlaceholderError::NotSequential {
                expected: 1,
                found: 2
            })
        );
        assert_eq!(
            parse_placeholders("Hi {{1}} {{3}}"),
            Err(PlaceholderError::NotSequential {
                expected: 2,
                found: 3
            })
        );
        assert_eq!(
            parse_placeholders("Hi {{name}}"),
            Err(PlaceholderError::NotPositional("name".into()))
        );
        assert_eq!(
            parse_placeholders("Hi {{1"),
            Err(PlaceholderError::Unbalanced)
        );
        assert_eq!(
            parse_placeholders("Hi 1}}"),
            Err(PlaceholderError::Unbalanced)
        );
    }

    #[test]
    fn render_fills_every_occurrence() {
        let values = vec!["Ana".to_owned(), "42".to_owned()];
        assert_eq!(
            render("Hi {{1}}, order {{2}} is ready, {{1}}!", &values),
            "Hi Ana, order 42 is ready, Ana!"
        );
        assert_eq!(render("Hi {{1}} {{2}}", &values[..1]), "Hi Ana {{2}}");
    }

    #[test]
    fn authentication_templates_get_whatsapps_own_text() {
        let spec = TemplateSpec {
            name: "otp".into(),
            language: "en_US".into(),
            category: TemplateCategory::Authentication,
            allow_category_change: false,
            message_send_ttl_seconds: None,
            header: None,
            body: None,
            footer: None,
            buttons: vec![],
            cards: vec![],
            authentication: Some(AuthenticationOptions {
                add_security_recommendation: true,
                code_expiration_minutes: Some(5),
            }),
            call_permission_request: false,
            request_contact_info: false,
        };
        assert_eq!(
            spec.body_text(),
            "{{1}} is your verification code. For your security, do not share this code."
        );
        assert_eq!(spec.body_parameter_count(), 1);
        assert_eq!(
            spec.footer_text().as_deref(),
            Some("This code expires in 5 minutes.")
        );
    }
}
