//! The `interactive` object of a send, read and checked as Meta does
//! (`reference/meta-cloud-api.md` §1, "interactive – common skeleton" and its limits
//! table): what the phone lets the user answer (buttons, list rows, a link, a location, a
//! call permission, a Flow), and Meta's refusals (131009) for what breaks a limit.

use std::collections::HashSet;

use serde_json::Value;

/// A reply button or a list row: what comes back when the user picks it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Choice {
    pub id: String,
    pub title: String,
    pub description: Option<String>,
}

/// What the user can do with an interactive message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Answerable {
    ReplyButtons(Vec<Choice>),
    List(Vec<Choice>),
    CtaUrl(String),
    LocationRequest,
    CallPermissionRequest,
    Flow,
    /// Product messages and the like: shown, with nothing to tap in the simulator.
    Nothing,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InteractiveSend {
    /// `button`, `list`, `cta_url`, … in Meta's lower case.
    pub kind: String,
    pub answerable: Answerable,
}

/// Why Meta refuses an interactive object: code 100 when it cannot be read, 131009 when a
/// value breaks a limit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    Unreadable(String),
    Invalid(String),
}

const KINDS: &[&str] = &[
    "button",
    "list",
    "cta_url",
    "product",
    "product_list",
    "catalog_message",
    "flow",
    "location_request_message",
    "call_permission_request",
];

fn invalid(message: impl Into<String>) -> Refusal {
    Refusal::Invalid(message.into())
}

fn text_at<'a>(object: &'a Value, pointer: &str) -> Option<&'a str> {
    object.pointer(pointer).and_then(Value::as_str)
}

/// A text of `1..=max` characters at `pointer`, required or not.
fn limited(
    object: &Value,
    pointer: &str,
    max: usize,
    required: bool,
) -> Result<Option<String>, Refusal> {
    let field = pointer.trim_start_matches('/').replace('/', ".");
    match object.pointer(pointer) {
        None | Some(Value::Null) if required => Err(invalid(format!("{field} is required"))),
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) if s.trim().is_empty() && required => {
            Err(invalid(format!("{field} must not be empty")))
        }
        Some(Value::String(s)) if s.chars().count() > max => {
            Err(invalid(format!("{field} is longer than {max} characters")))
        }
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(_) => Err(Refusal::Unreadable(format!("{field} must be a string"))),
    }
}

fn reply_buttons(action: &Value) -> Result<Answerable, Refusal> {
    let buttons = action
        .get("buttons")
        .and_then(Value::as_array)
        .ok_or_else(|| invalid("action.buttons is required"))?;
    if buttons.is_empty() || buttons.len() > 3 {
        return Err(invalid("action.buttons must hold 1 to 3 buttons"));
    }
    let mut choices = Vec::with_capacity(buttons.len());
    for button in buttons {
        let id = limited(button, "/reply/id", 256, true)?.unwrap_or_default();
        if id.trim() != id {
            return Err(invalid("a button id cannot start or end with spaces"));
        }
        let title = limited(button, "/reply/title", 20, true)?.unwrap_or_default();
        choices.push(Choice {
            id,
            title,
            description: None,
        });
    }
    let unique = |f: fn(&Choice) -> &str| {
        choices.iter().map(f).collect::<HashSet<_>>().len() == choices.len()
    };
    if !unique(|c| &c.id) || !unique(|c| &c.title) {
        return Err(invalid("button ids and titles must be unique"));
    }
    Ok(Answerable::ReplyButtons(choices))
}

fn list(action: &Value) -> Result<Answerable, Refusal> {
    limited(action, "/button", 20, true)?;
    let sections = action
        .get("sections")
        .and_then(Value::as_array)
        .ok_or_else(|| invalid("action.sections is required"))?;
    if sections.is_empty() || sections.len() > 10 {
        return Err(invalid("action.sections must hold 1 to 10 sections"));
    }
    let mut rows = Vec::new();
    for section in sections {
        limited(section, "/title", 24, sections.len() > 1)?;
        for row in section
            .get("rows")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            rows.push(Choice {
                id: limited(row, "/id", 200, true)?.unwrap_or_default(),
                title: limited(row, "/title", 24, true)?.unwrap_or_default(),
                description: limited(row, "/description", 72, false)?,
            });
        }
    }
    if rows.is_empty() || rows.len() > 10 {
        return Err(invalid("a list holds 1 to 10 rows in all"));
    }
    if rows.iter().map(|r| &r.id).collect::<HashSet<_>>().len() != rows.len() {
        return Err(invalid("row ids must be unique"));
    }
    Ok(Answerable::List(rows))
}

/// Reads and checks the `interactive` object of a send.
pub fn read(interactive: &Value) -> Result<InteractiveSend, Refusal> {
    let kind = text_at(interactive, "/type")
        .ok_or_else(|| Refusal::Unreadable("interactive.type is required".into()))?
        .to_ascii_lowercase();
    if !KINDS.contains(&kind.as_str()) {
        return Err(Refusal::Unreadable(format!(
            "interactive.type {kind} is not supported"
        )));
    }
    let action = interactive
        .get("action")
        .ok_or_else(|| Refusal::Unreadable("interactive.action is required".into()))?;
    let body_max = if kind == "list" { 4096 } else { 1024 };
    limited(interactive, "/body/text", body_max, kind != "product")?;
    limited(interactive, "/footer/text", 60, false)?;
    if let Some(header) = interactive.get("header") {
        if matches!(kind.as_str(), "product" | "location_request_message") {
            return Err(invalid(format!("a {kind} message has no header")));
        }
        let header_kind = text_at(header, "/type")
            .unwrap_or("text")
            .to_ascii_lowercase();
        if header_kind == "text" {
            limited(header, "/text", 60, true)?;
        } else if kind == "list" || kind == "product_list" {
            return Err(invalid("the header of a list is text"));
        }
    } else if kind == "product_list" {
        return Err(invalid("a product_list message needs a header"));
    }
    let answerable = match kind.as_str() {
        "button" => reply_buttons(action)?,
        "list" => list(action)?,
        "cta_url" => {
            limited(action, "/parameters/display_text", 20, true)?;
            let url = limited(action, "/parameters/url", 2000, true)?.unwrap_or_default();
            if !(url.starts_with("https://") || url.starts_with("http://")) {
                return Err(invalid("action.parameters.url must be an http(s) URL"));
            }
            Answerable::CtaUrl(url)
        }
        "location_request_message" => Answerable::LocationRequest,
        "call_permission_request" => Answerable::CallPermissionRequest,
        "flow" => Answerable::Flow,
        _ => Answerable::Nothing,
    };
    Ok(InteractiveSend { kind, answerable })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// Meta's reply-buttons example ("Interactive reply buttons messages").
    #[test]
    fn reads_meta_s_reply_buttons_example() {
        let read = read(&json!({
            "type": "button",
            "header": {"type": "image", "image": {"id": "2762702990552401"}},
            "body": {"text": "Hi Pablo! Your gardening workshop is scheduled for 9am tomorrow. Use the buttons if you need to reschedule. Thank you!"},
            "footer": {"text": "Lucky Shrub: Your gateway to succulents!™"},
            "action": {"buttons": [
                {"type": "reply", "reply": {"id": "change-button", "title": "Change"}},
                {"type": "reply", "reply": {"id": "cancel-button", "title": "Cancel"}}
            ]}
        }))
        .unwrap();
        assert_eq!(read.kind, "button");
        let Answerable::ReplyButtons(buttons) = read.answerable else {
            panic!("reply buttons")
        };
        assert_eq!(buttons[1].id, "cancel-button");
    }

    #[test]
    fn refuses_what_breaks_meta_s_limits() {
        let button = |title: &str| json!({"type": "reply", "reply": {"id": title, "title": title}});
        let buttons = |list: Vec<Value>| json!({"type": "button", "body": {"text": "b"}, "action": {"buttons": list}});
        for (interactive, expected) in [
            (buttons(vec![]), "action.buttons must hold 1 to 3 buttons"),
            (
                buttons(vec![button("a"), button("b"), button("c"), button("d")]),
                "action.buttons must hold 1 to 3 buttons",
            ),
            (
                buttons(vec![button("a"), button("a")]),
                "button ids and titles must be unique",
            ),
            (
                buttons(vec![button(&"x".repeat(21))]),
                "reply.title is longer than 20 characters",
            ),
            (
                json!({"type": "button", "action": {"buttons": [button("a")]}}),
                "body.text is required",
            ),
            (
                json!({"type": "list", "body": {"text": "b"}, "header": {"type": "image", "image": {"id": "1"}}, "action": {"button": "Pick", "sections": [{"rows": [{"id": "1", "title": "t"}]}]}}),
                "the header of a list is text",
            ),
        ] {
            assert_eq!(
                read(&interactive),
                Err(Refusal::Invalid(expected.into())),
                "{interactive}"
            );
        }
        assert!(matches!(
            read(&json!({"type": "poll", "action": {}})),
            Err(Refusal::Unreadable(_))
        ));
    }
}
