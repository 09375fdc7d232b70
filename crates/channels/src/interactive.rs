//! Interactive messages (reply buttons, lists, call-to-action URLs, products, Flows,
//! location and call-permission requests) as a provider-neutral model, with WhatsApp's
//! limits (`reference/chatapps-api.md` §2.4, `reference/meta-cloud-api.md` §1.3).
//!
//! The limits live here, once, because both sides of the wire enforce them: Parley refuses
//! a send that breaks one before it is queued, and the simulator refuses it the way Meta
//! would if a client bypassed Parley.

use std::collections::HashSet;
use std::fmt;

use serde_json::{Map, Value};

use crate::{MediaKind, is_web_url};

pub const MAX_BODY_CHARS: usize = 1024;
pub const MAX_FOOTER_CHARS: usize = 60;
pub const MAX_HEADER_TEXT_CHARS: usize = 60;
pub const MAX_REPLY_BUTTONS: usize = 3;
pub const MAX_BUTTON_ID_CHARS: usize = 256;
pub const MAX_BUTTON_TITLE_CHARS: usize = 20;
pub const MAX_LIST_BUTTON_CHARS: usize = 20;
pub const MAX_SECTIONS: usize = 10;
pub const MAX_LIST_ROWS: usize = 10;
pub const MAX_ROW_ID_CHARS: usize = 200;
pub const MAX_ROW_TITLE_CHARS: usize = 24;
pub const MAX_ROW_DESCRIPTION_CHARS: usize = 72;
pub const MAX_SECTION_TITLE_CHARS: usize = 24;
pub const MAX_PRODUCTS: usize = 30;
pub const MAX_CTA_TEXT_CHARS: usize = 20;
/// 8x8's OpenAPI allows 30; its limits table says 20 (see docs/decisions.md).
pub const MAX_FLOW_CTA_CHARS: usize = 30;
pub const MAX_VOICE_CALL_PAYLOAD_CHARS: usize = 512;
pub const VOICE_CALL_TTL_MINUTES: std::ops::RangeInclusive<u32> = 1..=43_200;
pub const DEFAULT_VOICE_CALL_TTL_MINUTES: u32 = 10_080;
pub const DEFAULT_VOICE_CALL_TEXT: &str = "Call Now";
pub const DEFAULT_FLOW_SCREEN: &str = "FIRST_ENTRY_SCREEN";

#[derive(Debug, Clone, PartialEq)]
pub struct InteractiveMessage {
    pub header: Option<InteractiveHeader>,
    pub body: Option<String>,
    pub footer: Option<String>,
    pub action: InteractiveAction,
}

#[derive(Debug, Clone, PartialEq)]
pub enum InteractiveHeader {
    Text(String),
    /// An image, video or document, by URL (`link`) or provider media id.
    Media {
        kind: MediaKind,
        link: Option<String>,
        id: Option<String>,
        filename: Option<String>,
    },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReplyButton {
    pub id: String,
    pub title: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListRow {
    pub id: String,
    pub title: String,
    pub description: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListSection {
    pub title: Option<String>,
    pub rows: Vec<ListRow>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProductSection {
    pub title: Option<String>,
    pub product_retailer_ids: Vec<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FlowMode {
    Navigate,
    DataExchange,
}

impl FlowMode {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Navigate => "navigate",
            Self::DataExchange => "data_exchange",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        match raw.to_ascii_lowercase().as_str() {
            "navigate" => Some(Self::Navigate),
            "data_exchange" | "dataexchange" => Some(Self::DataExchange),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct FlowAction {
    pub flow_id: String,
    pub cta: String,
    pub mode: FlowMode,
    /// The first screen, for `navigate` (WhatsApp's default is the Flow's entry screen).
    pub screen: Option<String>,
    /// Input for the first screen, for `navigate`.
    pub data: Option<Map<String, Value>>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum InteractiveAction {
    ReplyButtons(Vec<ReplyButton>),
    List {
        button: String,
        sections: Vec<ListSection>,
    },
    CtaUrl {
        display_text: String,
        url: String,
    },
    Product {
        catalog_id: String,
        product_retailer_id: String,
    },
    ProductList {
        catalog_id: String,
        sections: Vec<ProductSection>,
    },
    Flow(FlowAction),
    LocationRequest,
    VoiceCall {
        display_text: String,
        ttl_minutes: u32,
        payload: Option<String>,
    },
    CallPermissionRequest,
    RequestContactInfo,
}

impl InteractiveAction {
    /// The interactive `type`, as both 8x8 and Meta name it.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::ReplyButtons(_) => "button",
            Self::List { .. } => "list",
            Self::CtaUrl { .. } => "cta_url",
            Self::Product { .. } => "product",
            Self::ProductList { .. } => "product_list",
            Self::Flow(_) => "flow",
            Self::LocationRequest => "location_request_message",
            Self::VoiceCall { .. } => "voice_call",
            Self::CallPermissionRequest => "call_permission_request",
            Self::RequestContactInfo => "request_contact_info",
        }
    }

    fn body_optional(&self) -> bool {
        matches!(
            self,
            Self::Product { .. } | Self::CallPermissionRequest | Self::RequestContactInfo
        )
    }
}

/// Every interactive `type`, for error messages.
pub const INTERACTIVE_TYPES: &[&str] = &[
    "button",
    "list",
    "product",
    "product_list",
    "cta_url",
    "flow",
    "call_permission_request",
    "request_contact_info",
    "voice_call",
    "location_request_message",
];

/// A broken limit: the field (its path inside the interactive object, e.g.
/// `action.buttons[1].reply.title`) and what is wrong with it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Violation {
    pub field: String,
    pub problem: Problem,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Problem {
    Missing,
    Empty,
    TooLong { max: usize },
    TooMany { max: usize },
    TooFew { min: usize },
    Duplicate,
    NotAllowed { kind: &'static str },
    Invalid(&'static str),
}

impl fmt::Display for Violation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let field = &self.field;
        match &self.problem {
            Problem::Missing => write!(f, "'{field}' is required"),
            Problem::Empty => write!(f, "'{field}' must not be empty"),
            Problem::TooLong { max } => write!(f, "'{field}' must be at most {max} characters"),
            Problem::TooMany { max } => write!(f, "'{field}' may hold at most {max} items"),
            Problem::TooFew { min } => write!(f, "'{field}' must hold at least {min} item(s)"),
            Problem::Duplicate => write!(f, "'{field}' must be unique within the message"),
            Problem::NotAllowed { kind } => {
                write!(f, "'{field}' is not allowed in a {kind} message")
            }
            Problem::Invalid(why) => write!(f, "'{field}' {why}"),
        }
    }
}

fn violation(field: impl Into<String>, problem: Problem) -> Violation {
    Violation {
        field: field.into(),
        problem,
    }
}

fn chars(text: &str) -> usize {
    text.chars().count()
}

/// A label the user sees: present, not blank, within `max`.
fn label(field: &str, text: &str, max: usize) -> Result<(), Violation> {
    if text.trim().is_empty() {
        Err(violation(field, Problem::Empty))
    } else if chars(text) > max {
        Err(violation(field, Problem::TooLong { max }))
    } else {
        Ok(())
    }
}

fn optional_text(field: &str, text: Option<&str>, max: usize) -> Result<(), Violation> {
    match text {
        Some(text) if chars(text) > max => Err(violation(field, Problem::TooLong { max })),
        _ => Ok(()),
    }
}

fn unique<'a>(
    seen: &mut HashSet<&'a str>,
    field: impl FnOnce() -> String,
    value: &'a str,
) -> Result<(), Violation> {
    if seen.insert(value) {
        Ok(())
    } else {
        Err(violation(field(), Problem::Duplicate))
    }
}

fn count(field: &str, n: usize, min: usize, max: usize) -> Result<(), Violation> {
    if n < min {
        Err(violation(field, Problem::TooFew { min }))
    } else if n > max {
        Err(violation(field, Problem::TooMany { max }))
    } else {
        Ok(())
    }
}

impl InteractiveMessage {
    pub fn kind(&self) -> &'static str {
        self.action.kind()
    }

    /// The first WhatsApp limit the message breaks, if any.
    pub fn check(&self) -> Result<(), Violation> {
        let kind = self.kind();
        self.check_header(kind)?;
        match self.body.as_deref() {
            None if !self.action.body_optional() => {
                return Err(violation("body.text", Problem::Missing));
            }
            Some(body) if body.trim().is_empty() && !self.action.body_optional() => {
                return Err(violation("body.text", Problem::Empty));
            }
            body => optional_text("body.text", body, MAX_BODY_CHARS)?,
        }
        if self.footer.is_some() && matches!(self.action, InteractiveAction::LocationRequest) {
            return Err(violation("footer", Problem::NotAllowed { kind }));
        }
        optional_text("footer.text", self.footer.as_deref(), MAX_FOOTER_CHARS)?;
        self.check_action()
    }

    fn check_header(&self, kind: &'static str) -> Result<(), Violation> {
        let Some(header) = &self.header else {
            return match self.action {
                InteractiveAction::ProductList { .. } => Err(violation("header", Problem::Missing)),
                _ => Ok(()),
            };
        };
        if matches!(
            self.action,
            InteractiveAction::Product { .. } | InteractiveAction::LocationRequest
        ) {
            return Err(violation("header", Problem::NotAllowed { kind }));
        }
        match header {
            InteractiveHeader::Text(text) => label("header.text", text, MAX_HEADER_TEXT_CHARS),
            InteractiveHeader::Media { .. }
                if matches!(
                    self.action,
                    InteractiveAction::List { .. } | InteractiveAction::ProductList { .. }
                ) =>
            {
                Err(violation(
                    "header.type",
                    Problem::Invalid("must be text in list and product_list messages"),
                ))
            }
            InteractiveHeader::Media {
                kind: media,
                link,
                id,
                ..
            } => {
                let field = media_field(*media);
                match (link, id) {
                    (None, None) => {
                        Err(violation(format!("header.{field}.link"), Problem::Missing))
                    }
                    (Some(link), _) if !is_web_url(link) => Err(violation(
                        format!("header.{field}.link"),
                        Problem::Invalid("must be an absolute http(s) URL"),
                    )),
                    _ => Ok(()),
                }
            }
        }
    }

    fn check_action(&self) -> Result<(), Violation> {
        match &self.action {
            InteractiveAction::ReplyButtons(buttons) => {
                count("action.buttons", buttons.len(), 1, MAX_REPLY_BUTTONS)?;
                let (mut ids, mut titles) = (HashSet::new(), HashSet::new());
                for (i, button) in buttons.iter().enumerate() {
                    let path = format!("action.buttons[{i}].reply");
                    label(&format!("{path}.id"), &button.id, MAX_BUTTON_ID_CHARS)?;
                    if button.id.trim() != button.id {
                        return Err(violation(
                            format!("{path}.id"),
                            Problem::Invalid("must not start or end with spaces"),
                        ));
                    }
                    label(
                        &format!("{path}.title"),
                        &button.title,
                        MAX_BUTTON_TITLE_CHARS,
                    )?;
                    unique(&mut ids, || format!("{path}.id"), &button.id)?;
                    unique(&mut titles, || format!("{path}.title"), &button.title)?;
                }
                Ok(())
            }
            InteractiveAction::List { button, sections } => {
                label("action.button", button, MAX_LIST_BUTTON_CHARS)?;
                count("action.sections", sections.len(), 1, MAX_SECTIONS)?;
                let total: usize = sections.iter().map(|s| s.rows.len()).sum();
                if total > MAX_LIST_ROWS {
                    return Err(violation(
                        "action.sections[].rows",
                        Problem::TooMany { max: MAX_LIST_ROWS },
                    ));
                }
                let mut ids = HashSet::new();
                for (s, section) in sections.iter().enumerate() {
                    let path = format!("action.sections[{s}]");
                    section_title(&path, section.title.as_deref(), sections.len())?;
                    count(
                        &format!("{path}.rows"),
                        section.rows.len(),
                        1,
                        MAX_LIST_ROWS,
                    )?;
                    for (r, row) in section.rows.iter().enumerate() {
                        let path = format!("{path}.rows[{r}]");
                        label(&format!("{path}.id"), &row.id, MAX_ROW_ID_CHARS)?;
                        label(&format!("{path}.title"), &row.title, MAX_ROW_TITLE_CHARS)?;
                        optional_text(
                            &format!("{path}.description"),
                            row.description.as_deref(),
                            MAX_ROW_DESCRIPTION_CHARS,
                        )?;
                        unique(&mut ids, || format!("{path}.id"), &row.id)?;
                    }
                }
                Ok(())
            }
            InteractiveAction::CtaUrl { display_text, url } => {
                label(
                    "action.parameters.display_text",
                    display_text,
                    MAX_CTA_TEXT_CHARS,
                )?;
                if is_web_url(url) {
                    Ok(())
                } else {
                    Err(violation(
                        "action.parameters.url",
                        Problem::Invalid("must be an absolute http(s) URL"),
                    ))
                }
            }
            InteractiveAction::Product {
                catalog_id,
                product_retailer_id,
            } => {
                label("action.catalog_id", catalog_id, usize::MAX)?;
                label(
                    "action.product_retailer_id",
                    product_retailer_id,
                    usize::MAX,
                )
            }
            InteractiveAction::ProductList {
                catalog_id,
                sections,
            } => {
                label("action.catalog_id", catalog_id, usize::MAX)?;
                count("action.sections", sections.len(), 1, MAX_SECTIONS)?;
                let total: usize = sections.iter().map(|s| s.product_retailer_ids.len()).sum();
                if total > MAX_PRODUCTS {
                    return Err(violation(
                        "action.sections[].product_items",
                        Problem::TooMany { max: MAX_PRODUCTS },
                    ));
                }
                for (s, section) in sections.iter().enumerate() {
                    let path = format!("action.sections[{s}]");
                    section_title(&path, section.title.as_deref(), sections.len())?;
                    let items = format!("{path}.product_items");
                    count(&items, section.product_retailer_ids.len(), 1, MAX_PRODUCTS)?;
                    for (i, id) in section.product_retailer_ids.iter().enumerate() {
                        label(&format!("{items}[{i}].product_retailer_id"), id, usize::MAX)?;
                    }
                }
                Ok(())
            }
            InteractiveAction::Flow(flow) => {
                label("action.parameters.flowId", &flow.flow_id, usize::MAX)?;
                label("action.parameters.flowCta", &flow.cta, MAX_FLOW_CTA_CHARS)?;
                let has_payload = flow.screen.is_some() || flow.data.is_some();
                if flow.mode == FlowMode::DataExchange && has_payload {
                    return Err(violation(
                        "action.parameters.flowActionPayload",
                        Problem::Invalid("is only allowed when flowAction is navigate"),
                    ));
                }
                if let Some(screen) = &flow.screen {
                    label(
                        "action.parameters.flowActionPayload.screen",
                        screen,
                        usize::MAX,
                    )?;
                }
                if flow.data.as_ref().is_some_and(Map::is_empty) {
                    return Err(violation(
                        "action.parameters.flowActionPayload.data",
                        Problem::Empty,
                    ));
                }
                Ok(())
            }
            InteractiveAction::VoiceCall {
                display_text,
                ttl_minutes,
                payload,
            } => {
                label(
                    "action.parameters.display_text",
                    display_text,
                    MAX_CTA_TEXT_CHARS,
                )?;
                if !VOICE_CALL_TTL_MINUTES.contains(ttl_minutes) {
                    return Err(violation(
                        "action.parameters.ttlMinutes",
                        Problem::Invalid("must be between 1 and 43200 minutes"),
                    ));
                }
                optional_text(
                    "action.parameters.payload",
                    payload.as_deref(),
                    MAX_VOICE_CALL_PAYLOAD_CHARS,
                )
            }
            InteractiveAction::LocationRequest
            | InteractiveAction::CallPermissionRequest
            | InteractiveAction::RequestContactInfo => Ok(()),
        }
    }
}

fn section_title(path: &str, title: Option<&str>, sections: usize) -> Result<(), Violation> {
    let field = format!("{path}.title");
    match title {
        None if sections > 1 => Err(violation(field, Problem::Missing)),
        None => Ok(()),
        Some(title) => label(&field, title, MAX_SECTION_TITLE_CHARS),
    }
}

/// The header's media field name (`image`, `video`, `document`).
pub fn media_field(kind: MediaKind) -> &'static str {
    match kind {
        MediaKind::Image => "image",
        MediaKind::Video => "video",
        MediaKind::Audio => "audio",
        MediaKind::Document => "document",
        MediaKind::Sticker => "sticker",
    }
}

/// What a user sends back by answering an interactive message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum InteractiveReply {
    Button {
        id: String,
        title: String,
    },
    ListRow {
        id: String,
        title: String,
        description: Option<String>,
    },
    /// A completed Flow (or address form): WhatsApp's `nfm_reply`.
    Flow {
        name: Option<String>,
        body: Option<String>,
        /// The Flow's answers, as the JSON string WhatsApp sends.
        response_json: String,
    },
    CallPermission {
        /// `accept` or `reject`.
        response: String,
        is_permanent: bool,
        /// Unix seconds, when a temporary permission ends.
        expiration_timestamp: Option<i64>,
        response_source: Option<String>,
    },
}

#[cfg(test)]
mod tests {
    use super::*;

    fn buttons(titles: &[&str]) -> InteractiveMessage {
        InteractiveMessage {
            header: None,
            body: Some("Pick one".into()),
            footer: None,
            action: InteractiveAction::ReplyButtons(
                titles
                    .iter()
                    .enumerate()
                    .map(|(i, t)| ReplyButton {
                        id: format!("id-{i}"),
                        title: (*t).into(),
                    })
                    .collect(),
            ),
        }
    }

    #[test]
    fn reply_buttons_keep_to_three_unique_short_titles() {
        assert_eq!(buttons(&["a", "b", "c"]).check(), Ok(()));
        assert_eq!(
            buttons(&["a", "b", "c", "d"]).check().unwrap_err().problem,
            Problem::TooMany { max: 3 }
        );
        assert_eq!(
            buttons(&["same", "same"]).check().unwrap_err(),
            violation("action.buttons[1].reply.title", Problem::Duplicate)
        );
        assert_eq!(
            buttons(&["x".repeat(21).as_str()]).check().unwrap_err(),
            violation(
                "action.buttons[0].reply.title",
                Problem::TooLong { max: 20 }
            )
        );
        assert_eq!(
            buttons(&[]).check().unwrap_err().problem,
            Problem::TooFew { min: 1 }
        );
    }

    #[test]
    fn a_list_holds_ten_rows_in_total_and_titles_sections_when_there_are_several() {
        let section = |title: Option<&str>, rows: usize, start: usize| ListSection {
            title: title.map(str::to_owned),
            rows: (start..start + rows)
                .map(|i| ListRow {
                    id: format!("row-{i}"),
                    title: format!("Row {i}"),
                    description: None,
                })
                .collect(),
        };
        let list = |sections| InteractiveMessage {
            header: Some(InteractiveHeader::Text("Slots".into())),
            body: Some("Choose".into()),
            footer: None,
            action: InteractiveAction::List {
                button: "Pick".into(),
                sections,
            },
        };
        assert_eq!(list(vec![section(None, 10, 0)]).check(), Ok(()));
        assert_eq!(
            list(vec![section(Some("A"), 6, 0), section(Some("B"), 5, 6)])
                .check()
                .unwrap_err()
                .problem,
            Problem::TooMany { max: 10 }
        );
        assert_eq!(
            list(vec![section(Some("A"), 2, 0), section(None, 2, 2)])
                .check()
                .unwrap_err(),
            violation("action.sections[1].title", Problem::Missing)
        );
        assert_eq!(
            list(vec![section(Some("A"), 2, 0), section(Some("B"), 2, 1)])
                .check()
                .unwrap_err(),
            violation("action.sections[1].rows[0].id", Problem::Duplicate)
        );
    }

    #[test]
    fn product_and_location_requests_take_no_header() {
        let mut message = InteractiveMessage {
            header: Some(InteractiveHeader::Text("Hi".into())),
            body: Some("Where are you?".into()),
            footer: None,
            action: InteractiveAction::LocationRequest,
        };
        assert_eq!(
            message.check().unwrap_err().problem,
            Problem::NotAllowed {
                kind: "location_request_message"
            }
        );
        message.header = None;
        assert_eq!(message.check(), Ok(()));
        message.body = None;
        assert_eq!(message.check().unwrap_err().problem, Problem::Missing);
    }
}
