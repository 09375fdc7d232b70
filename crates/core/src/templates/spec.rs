//! The template-creation body (`reference/chatapps-api.md` §4.2) read into a
//! [`TemplateSpec`], checking every rule of 8x8's Template Components Reference. Input is
//! read leniently (any casing of types and formats, `example` or `examples`, Meta's
//! `example: {body_text: [[…]]}` too); each broken rule answers with its 8x8 code and a
//! message naming the component and field.

use parley_channels::template::{
    AuthenticationOptions, CarouselCard, OtpType, PlaceholderError, TemplateBody, TemplateButton,
    TemplateCategory, TemplateHeader, TemplateSpec, parse_placeholders,
};
use parley_types::codes::SyncCode;
use serde_json::Value;

use crate::input::{
    Object, array, bad_field, boolean, char_count, integer, invalid, is_web_url, join, objects,
    string, text_or_number, unescape_html, unwrap_markdown_link,
};
use crate::{Error, Result};

pub const MAX_NAME_CHARS: usize = 512;
pub const MAX_HEADER_CHARS: usize = 60;
pub const MAX_BODY_CHARS: usize = 1024;
pub const MAX_CARD_BODY_CHARS: usize = 160;
pub const MAX_FOOTER_CHARS: usize = 60;
pub const MAX_BUTTONS: usize = 10;
pub const MAX_BUTTON_LABEL_CHARS: usize = 25;
pub const MAX_URL_CHARS: usize = 2000;
pub const MAX_URL_BUTTONS: usize = 2;
pub const MAX_PHONE_CHARS: usize = 20;
pub const MAX_CARDS: usize = 10;
pub const MAX_CARD_BUTTONS: usize = 2;
pub const COPY_CODE_CHARS: std::ops::RangeInclusive<usize> = 1..=15;
pub const CODE_EXPIRATION_MINUTES: std::ops::RangeInclusive<i64> = 1..=90;
pub const VOICE_CALL_TTL_MINUTES: std::ops::RangeInclusive<i64> = 1440..=43200;

/// Reads and checks a template-creation body.
pub fn parse_template(body: &Value) -> Result<TemplateSpec> {
    let body = body.as_object().ok_or_else(|| {
        invalid(
            SyncCode::InvalidParameter,
            "Invalid parameter(s): the request body must be a JSON object",
        )
    })?;
    let name = template_name(body)?;
    let language = language(body)?;
    let category = match string(body, &["category"], "")? {
        Some(raw) => TemplateCategory::parse(raw).ok_or_else(|| {
            bad_field(
                "category",
                format!("{raw:?} is not a category: use AUTHENTICATION, MARKETING or UTILITY"),
            )
        })?,
        None => return Err(bad_field("category", "is required")),
    };
    let allow_category_change =
        boolean(body, &["allow_category_change", "allowCategoryChange"], "")?.unwrap_or(true);
    let ttl = integer(
        body,
        &["message_send_ttl_seconds", "messageSendTtlSeconds"],
        "",
    )?;
    check_ttl(category, ttl)?;
    let components = array(body, &["components"], "")?.unwrap_or_default();
    if components.is_empty() {
        return Err(invalid(
            SyncCode::EmptyTemplate,
            "Empty template: 'components' must contain at least a BODY",
        ));
    }
    let mut builder = Builder::new(name, language, category, allow_category_change, ttl);
    for (path, component) in objects(components, "components")? {
        builder.add(&path, component)?;
    }
    builder.finish()
}

fn template_name(body: &Object) -> Result<String> {
    let name = string(body, &["name"], "")?.unwrap_or("").trim();
    if name.is_empty() {
        return Err(invalid(
            SyncCode::InvalidTemplateName,
            "Invalid template name: 'name' is required",
        ));
    }
    if char_count(name) > MAX_NAME_CHARS {
        return Err(invalid(
            SyncCode::InvalidTemplateNameLength,
            format!("Invalid template name length: 'name' exceeds {MAX_NAME_CHARS} characters"),
        ));
    }
    if !name
        .chars()
        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
    {
        return Err(invalid(
            SyncCode::InvalidTemplateName,
            format!(
                "Invalid template name: 'name' {name:?} may contain only lowercase letters, digits and underscores"
            ),
        ));
    }
    Ok(name.to_owned())
}

/// `en`, `en_US`, `es_MX`, also written `en-us`: normalised to `ll` or `ll_CC`.
pub fn normalise_language(raw: &str) -> Option<String> {
    let raw = raw.trim();
    let (lang, region) = match raw.split_once(['_', '-']) {
        Some((lang, region)) => (lang, Some(region)),
        None => (raw, None),
    };
    let lang_ok = (2..=3).contains(&lang.len()) && lang.chars().all(|c| c.is_ascii_alphabetic());
    let region_ok = region
        .is_none_or(|r| (2..=4).contains(&r.len()) && r.chars().all(|c| c.is_ascii_alphanumeric()));
    if !lang_ok || !region_ok {
        return None;
    }
    Some(match region {
        None => lang.to_ascii_lowercase(),
        // Script subtags (zh_Hant) keep their title case; regions are upper case.
        Some(r) if r.len() == 4 => {
            let mut chars = r.chars();
            let first = chars.next().map(|c| c.to_ascii_uppercase());
            format!(
                "{}_{}{}",
                lang.to_ascii_lowercase(),
                first.unwrap_or_default(),
                chars.as_str().to_ascii_lowercase()
            )
        }
        Some(r) => format!("{}_{}", lang.to_ascii_lowercase(), r.to_ascii_uppercase()),
    })
}

fn language(body: &Object) -> Result<String> {
    let raw = string(body, &["language"], "")?.unwrap_or("").trim();
    if raw.is_empty() {
        return Err(invalid(
            SyncCode::EmptyTemplateLanguage,
            "Empty template language: 'language' is required",
        ));
    }
    normalise_language(raw).ok_or_else(|| {
        invalid(
            SyncCode::InvalidTemplateLanguage,
            format!(
                "Invalid template language: 'language' {raw:?} is not a language code such as en or en_US"
            ),
        )
    })
}

fn check_ttl(category: TemplateCategory, ttl: Option<i64>) -> Result<()> {
    let Some(ttl) = ttl else { return Ok(()) };
    let (range, forever_allowed) = match category {
        TemplateCategory::Authentication => (30..=900, true),
        TemplateCategory::Utility => (30..=43_200, true),
        TemplateCategory::Marketing => (43_200..=2_592_000, false),
    };
    if range.contains(&ttl) || (forever_allowed && ttl == -1) {
        return Ok(());
    }
    let forever = if forever_allowed { " or -1" } else { "" };
    Err(invalid(
        SyncCode::ParameterOutOfRange,
        format!(
            "Parameter out of range: 'message_send_ttl_seconds' of a {} template must be {}..{}{forever}",
            category.as_str(),
            range.start(),
            range.end()
        ),
    ))
}

/// `components[i] (BODY)`, the way messages name a component.
fn label(path: &str, kind: &str) -> String {
    format!("{path} ({kind})")
}

fn combination(message: impl Into<String>) -> Error {
    invalid(
        SyncCode::InvalidTemplateComponentCombination,
        format!("Invalid template component combination: {}", message.into()),
    )
}

fn too_many_parameters(message: impl Into<String>) -> Error {
    invalid(
        SyncCode::TooManyTemplateParameters,
        format!("Too many template parameters: {}", message.into()),
    )
}

/// The sample values of a component or button: `examples: [..]`, `example: [..]`,
/// `example: "x"`, or Meta's `example: {header_text|body_text|header_handle: ..}`.
fn examples(obj: &Object, path: &str) -> Result<Vec<String>> {
    let Some((key, value)) = crate::input::lookup(obj, &["examples", "example"]) else {
        return Ok(Vec::new());
    };
    let path = join(path, key);
    let strings = |items: &[Value]| -> Result<Vec<String>> {
        items
            .iter()
            .flat_map(|item| match item {
                // Meta nests body samples one level deeper: [["a", "b"]].
                Value::Array(inner) => inner.iter().collect::<Vec<_>>(),
                other => vec![other],
            })
            .map(|item| match item {
                Value::String(s) => Ok(unescape_html(s)),
                Value::Number(n) => Ok(n.to_string()),
                _ => Err(bad_field(&path, "must hold strings")),
            })
            .collect()
    };
    match value {
        Value::String(s) => Ok(vec![unescape_html(s)]),
        Value::Array(items) => strings(items),
        Value::Object(meta) => {
            for key in [
                "header_text",
                "body_text",
                "header_handle",
                "headerText",
                "bodyText",
                "headerHandle",
            ] {
                if let Some(Value::Array(items)) = meta.get(key) {
                    return strings(items);
                }
            }
            Err(bad_field(
                &path,
                "must be a list of sample values (or Meta's header_text/body_text/header_handle)",
            ))
        }
        _ => Err(bad_field(&path, "must be a list of sample values")),
    }
}

fn placeholder_error(path: &str, e: PlaceholderError) -> Error {
    bad_field(path, e)
}

/// A text with placeholders: checked, and its samples matched to its variables.
struct VariableText {
    text: String,
    variables: usize,
}

fn variable_text(obj: &Object, path: &str, what: &str, max_chars: usize) -> Result<VariableText> {
    let text_path = join(path, "text");
    let text = string(obj, &["text"], path)?
        .map(unescape_html)
        .filter(|t| !t.trim().is_empty())
        .ok_or_else(|| bad_field(&text_path, format!("is required for a {what}")))?;
    if char_count(&text) > max_chars {
        return Err(bad_field(
            &text_path,
            format!(
                "is {} characters; a {what} allows at most {max_chars}",
                char_count(&text)
            ),
        ));
    }
    let found = parse_placeholders(&text).map_err(|e| placeholder_error(&text_path, e))?;
    let variables = found.iter().map(|p| p.number).max().unwrap_or(0) as usize;
    Ok(VariableText { text, variables })
}

fn require_samples(path: &str, variables: usize, samples: &[String]) -> Result<()> {
    if samples.len() < variables {
        return Err(bad_field(
            &join(path, "examples"),
            format!(
                "has {} sample value(s) but the text has {variables} variable(s): give one sample per variable, in order",
                samples.len()
            ),
        ));
    }
    if let Some(i) = samples
        .iter()
        .take(variables)
        .position(|s| s.trim().is_empty())
    {
        return Err(bad_field(
            &format!("{}[{i}]", join(path, "examples")),
            "must not be empty",
        ));
    }
    Ok(())
}

fn body(obj: &Object, path: &str, max_chars: usize) -> Result<TemplateBody> {
    let what = label(path, "BODY");
    let VariableText { text, variables } = variable_text(obj, path, "BODY", max_chars)?;
    let found = parse_placeholders(&text).expect("checked by variable_text");
    let trimmed_start = text.len() - text.trim_start().len();
    let trimmed_end = text.trim_end().len();
    if found.first().is_some_and(|p| p.start == trimmed_start)
        || found.last().is_some_and(|p| p.end == trimmed_end)
    {
        return Err(bad_field(
            &join(path, "text"),
            format!("of {what} must not start or end with a variable; put words around it"),
        ));
    }
    if found
        .windows(2)
        .any(|w| text[w[0].end..w[1].start].trim().is_empty())
    {
        return Err(bad_field(
            &join(path, "text"),
            format!("of {what} has two variables side by side; put words between them"),
        ));
    }
    let samples = examples(obj, path)?;
    require_samples(path, variables, &samples)?;
    Ok(TemplateBody {
        text,
        examples: samples.into_iter().take(variables).collect(),
    })
}

fn header(obj: &Object, path: &str, category: TemplateCategory) -> Result<TemplateHeader> {
    let format = string(obj, &["format"], path)?
        .map(|f| f.trim().to_ascii_uppercase())
        // A header with text and no format is a text header.
        .or_else(|| obj.get("text").map(|_| "TEXT".to_owned()))
        .ok_or_else(|| {
            bad_field(
                &join(path, "format"),
                "is required: TEXT, IMAGE, VIDEO, DOCUMENT or LOCATION",
            )
        })?;
    let media_example = |kind: &str| -> Result<String> {
        let samples = examples(obj, path)?;
        let url = samples.into_iter().next().ok_or_else(|| {
            bad_field(
                &join(path, "examples"),
                format!("is required: a {kind} header needs a sample URL for review"),
            )
        })?;
        if !is_web_url(url.trim()) {
            return Err(bad_field(
                &join(path, "examples"),
                format!("must hold an absolute http(s) URL of a sample {kind}"),
            ));
        }
        Ok(url.trim().to_owned())
    };
    Ok(match format.as_str() {
        "TEXT" => {
            let VariableText { text, variables } =
                variable_text(obj, path, "HEADER", MAX_HEADER_CHARS)?;
            if variables > 1 {
                return Err(too_many_parameters(format!(
                    "{} may have at most one variable, it has {variables}",
                    label(path, "HEADER")
                )));
            }
            let samples = examples(obj, path)?;
            require_samples(path, variables, &samples)?;
            TemplateHeader::Text {
                text,
                example: samples.into_iter().next().filter(|_| variables == 1),
            }
        }
        "IMAGE" => TemplateHeader::Image {
            example: media_example("image")?,
        },
        "VIDEO" => TemplateHeader::Video {
            example: media_example("video")?,
        },
        "DOCUMENT" => TemplateHeader::Document {
            example: media_example("document")?,
        },
        "GIF" => {
            if category != TemplateCategory::Marketing {
                return Err(combination(format!(
                    "{} with format GIF is only allowed in MARKETING templates",
                    label(path, "HEADER")
                )));
            }
            TemplateHeader::Gif {
                example: media_example("GIF (video)")?,
            }
        }
        "LOCATION" => {
            if category == TemplateCategory::Authentication {
                return Err(combination(format!(
                    "{} with format LOCATION is only allowed in UTILITY and MARKETING templates",
                    label(path, "HEADER")
                )));
            }
            TemplateHeader::Location
        }
        other => {
            return Err(bad_field(
                &join(path, "format"),
                format!(
                    "{other:?} is not a header format: use TEXT, IMAGE, VIDEO, DOCUMENT or LOCATION"
                ),
            ));
        }
    })
}

fn footer(obj: &Object, path: &str) -> Result<String> {
    let VariableText { text, variables } = variable_text(obj, path, "FOOTER", MAX_FOOTER_CHARS)?;
    if variables > 0 {
        return Err(too_many_parameters(format!(
            "{} is static and cannot have variables",
            label(path, "FOOTER")
        )));
    }
    Ok(text)
}

fn button_label(obj: &Object, path: &str, kind: &str, default: Option<&str>) -> Result<String> {
    let text = string(obj, &["text"], path)?
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .or(default)
        .ok_or_else(|| {
            bad_field(
                &join(path, "text"),
                format!("is required for a {kind} button"),
            )
        })?;
    if char_count(text) > MAX_BUTTON_LABEL_CHARS {
        return Err(bad_field(
            &join(path, "text"),
            format!(
                "is {} characters; a button label allows at most {MAX_BUTTON_LABEL_CHARS}",
                char_count(text)
            ),
        ));
    }
    Ok(unescape_html(text))
}

fn url_button(obj: &Object, path: &str) -> Result<TemplateButton> {
    let text = button_label(obj, path, "URL", None)?;
    let url_path = join(path, "url");
    let url = string(obj, &["url"], path)?
        .map(unwrap_markdown_link)
        .filter(|u| !u.is_empty())
        .ok_or_else(|| bad_field(&url_path, "is required for a URL button"))?;
    let url = url.as_str();
    if char_count(url) > MAX_URL_CHARS || !is_web_url(url.replace("{{1}}", "x").as_str()) {
        return Err(bad_field(
            &url_path,
            format!("must be an absolute http(s) URL of at most {MAX_URL_CHARS} characters"),
        ));
    }
    let found = parse_placeholders(url).map_err(|e| placeholder_error(&url_path, e))?;
    if found.len() > 1 {
        return Err(too_many_parameters(format!(
            "{url_path} may have one variable, at its end"
        )));
    }
    if found.first().is_some_and(|p| p.end != url.len()) {
        return Err(bad_field(
            &url_path,
            "may have its one variable {{1}} only at the very end",
        ));
    }
    let example = if found.is_empty() {
        None
    } else {
        let samples = examples(obj, path)?;
        require_samples(path, 1, &samples)?;
        samples.into_iter().next()
    };
    Ok(TemplateButton::Url {
        text,
        url: url.to_owned(),
        example,
    })
}

fn phone_button(obj: &Object, path: &str) -> Result<TemplateButton> {
    let text = button_label(obj, path, "PHONE_NUMBER", None)?;
    let number_path = join(path, "phoneNumber");
    let number = text_or_number(obj, &["phoneNumber", "phone_number"], path)?
        .map(|n| n.trim().to_owned())
        .filter(|n| !n.is_empty())
        .ok_or_else(|| bad_field(&number_path, "is required for a PHONE_NUMBER button"))?;
    let digits = number.trim_start_matches('+');
    if char_count(&number) > MAX_PHONE_CHARS
        || digits.len() < 4
        || !digits.chars().all(|c| c.is_ascii_digit())
    {
        return Err(bad_field(
            &number_path,
            format!(
                "must be a phone number of at most {MAX_PHONE_CHARS} characters (digits, optional +)"
            ),
        ));
    }
    let country = string(obj, &["country"], path)?;
    let phone_number = if number.starts_with('+') {
        number.clone()
    } else if let Some(country) = country {
        parley_types::Msisdn::parse(&number, Some(country))
            .map_err(|_| bad_field(&number_path, format!("is not a valid number in {country}")))?
            .as_str()
            .to_owned()
    } else {
        // Meta takes international numbers without the plus.
        format!("+{number}")
    };
    Ok(TemplateButton::PhoneNumber { text, phone_number })
}

fn button(obj: &Object, path: &str, category: TemplateCategory) -> Result<TemplateButton> {
    let kind = string(obj, &["type"], path)?
        .map(|k| k.trim().to_ascii_uppercase().replace([' ', '-'], "_"))
        .ok_or_else(|| bad_field(&join(path, "type"), "is required"))?;
    let only_in = |allowed: &[TemplateCategory]| -> Result<()> {
        if allowed.contains(&category) {
            return Ok(());
        }
        let names: Vec<&str> = allowed.iter().map(|c| c.as_str()).collect();
        Err(combination(format!(
            "{path} ({kind}) is only allowed in {} templates, not {}",
            names.join(" or "),
            category.as_str()
        )))
    };
    Ok(match kind.as_str() {
        "QUICK_REPLY" | "QUICKREPLY" => TemplateButton::QuickReply {
            text: button_label(obj, path, "QUICK_REPLY", None)?,
        },
        "URL" => url_button(obj, path)?,
        "PHONE_NUMBER" | "PHONENUMBER" => phone_button(obj, path)?,
        "OTP" => {
            only_in(&[TemplateCategory::Authentication])?;
            let otp_type = match string(obj, &["otp_type", "otpType"], path)?
                .map(|t| t.trim().to_ascii_uppercase())
                .as_deref()
            {
                None | Some("COPY_CODE") => OtpType::CopyCode,
                Some("ONE_TAP") => OtpType::OneTap,
                Some("ZERO_TAP") => OtpType::ZeroTap,
                Some(other) => {
                    return Err(bad_field(
                        &join(path, "otp_type"),
                        format!("{other:?} is not an OTP type: use COPY_CODE, ONE_TAP or ZERO_TAP"),
                    ));
                }
            };
            TemplateButton::Otp {
                text: button_label(obj, path, "OTP", Some("Copy code"))?,
                otp_type,
            }
        }
        // 8x8's own authentication example uses COPY_CODE for the code button: in an
        // AUTHENTICATION template it can only mean the OTP copy-code button.
        "COPY_CODE" | "COPYCODE" if category == TemplateCategory::Authentication => {
            TemplateButton::Otp {
                text: button_label(obj, path, "OTP", Some("Copy code"))?,
                otp_type: OtpType::CopyCode,
            }
        }
        "COPY_CODE" | "COPYCODE" => {
            only_in(&[TemplateCategory::Marketing])?;
            let example = examples(obj, path)?.into_iter().next().ok_or_else(|| {
                bad_field(
                    &join(path, "examples"),
                    "is required: a COPY_CODE button needs a sample code",
                )
            })?;
            if !COPY_CODE_CHARS.contains(&char_count(&example)) {
                return Err(bad_field(
                    &join(path, "examples"),
                    format!(
                        "holds a code of {} characters; at most 15",
                        char_count(&example)
                    ),
                ));
            }
            TemplateButton::CopyCode { example }
        }
        "FLOW" => {
            let flow_id = text_or_number(obj, &["flowId", "flow_id"], path)?
                .filter(|f| !f.trim().is_empty())
                .ok_or_else(|| bad_field(&join(path, "flowId"), "is required for a FLOW button"))?;
            let flow_action = match string(obj, &["flowAction", "flow_action"], path)?
                .map(|a| a.trim().to_ascii_lowercase())
            {
                None => None,
                Some(a) if a == "navigate" || a == "data_exchange" => Some(a),
                Some(a) => {
                    return Err(bad_field(
                        &join(path, "flowAction"),
                        format!("{a:?} is not a flow action: use navigate or data_exchange"),
                    ));
                }
            };
            TemplateButton::Flow {
                text: button_label(obj, path, "FLOW", None)?,
                flow_id,
                flow_action,
                navigate_screen: string(obj, &["navigateScreen", "navigate_screen"], path)?
                    .map(str::to_owned),
            }
        }
        "VOICE_CALL" | "VOICECALL" => {
            only_in(&[TemplateCategory::Marketing, TemplateCategory::Utility])?;
            let ttl = integer(obj, &["ttlMinutes", "ttl_minutes"], path)?;
            if let Some(ttl) = ttl
                && !VOICE_CALL_TTL_MINUTES.contains(&ttl)
            {
                return Err(invalid(
                    SyncCode::ParameterOutOfRange,
                    format!(
                        "Parameter out of range: '{}' must be 1440..43200 minutes",
                        join(path, "ttlMinutes")
                    ),
                ));
            }
            let text = match string(obj, &["text"], path)? {
                Some(t) if !t.trim().is_empty() => {
                    Some(button_label(obj, path, "VOICE_CALL", None)?)
                }
                _ => None,
            };
            TemplateButton::VoiceCall {
                text,
                ttl_minutes: ttl.map(|t| t as u32),
            }
        }
        "REQUEST_CONTACT_INFO" => TemplateButton::RequestContactInfo,
        other => {
            return Err(bad_field(
                &join(path, "type"),
                format!(
                    "{other:?} is not a button type: use QUICK_REPLY, URL, PHONE_NUMBER, OTP, COPY_CODE, FLOW, VOICE_CALL or REQUEST_CONTACT_INFO"
                ),
            ));
        }
    })
}

/// Checks the documented limits of a button set: how many of each kind, and same kinds
/// next to each other.
fn check_button_set(buttons: &[TemplateButton], path: &str) -> Result<()> {
    if buttons.len() > MAX_BUTTONS {
        return Err(combination(format!(
            "{path} has {} buttons; a template allows at most {MAX_BUTTONS}",
            buttons.len()
        )));
    }
    let count = |kind: &str| buttons.iter().filter(|b| b.kind() == kind).count();
    for (kind, max) in [
        ("URL", MAX_URL_BUTTONS),
        ("PHONE_NUMBER", 1),
        ("COPY_CODE", 1),
        ("FLOW", 1),
        ("VOICE_CALL", 1),
        ("OTP", 1),
    ] {
        if count(kind) > max {
            return Err(combination(format!(
                "{path} has {} {kind} buttons; at most {max} allowed",
                count(kind)
            )));
        }
    }
    if count("OTP") == 1 && buttons.len() > 1 {
        return Err(combination(format!(
            "{path}: an OTP button cannot be combined with other buttons"
        )));
    }
    // Same kinds must be grouped: once a kind's run ends, it may not appear again.
    let mut finished: Vec<&str> = Vec::new();
    for pair in buttons.windows(2) {
        let (a, b) = (pair[0].kind(), pair[1].kind());
        if a != b {
            finished.push(a);
            if finished.contains(&b) {
                return Err(combination(format!(
                    "{path}: buttons of the same type must be next to each other ({b} buttons are split by other buttons)"
                )));
            }
        }
    }
    Ok(())
}

fn buttons(obj: &Object, path: &str, category: TemplateCategory) -> Result<Vec<TemplateButton>> {
    let items = array(obj, &["buttons"], path)?.unwrap_or_default();
    if items.is_empty() {
        return Err(bad_field(
            &join(path, "buttons"),
            "must hold at least one button",
        ));
    }
    let buttons_path = join(path, "buttons");
    let parsed = objects(items, &buttons_path)?
        .into_iter()
        .map(|(p, b)| button(b, &p, category))
        .collect::<Result<Vec<_>>>()?;
    check_button_set(&parsed, &label(path, "BUTTONS"))?;
    Ok(parsed)
}

fn component_type(obj: &Object, path: &str) -> Result<String> {
    string(obj, &["type"], path)?
        .map(|t| t.trim().to_ascii_uppercase())
        .ok_or_else(|| {
            invalid(
                SyncCode::InvalidTemplateComponentType,
                format!(
                    "Invalid template component type: '{}' is required",
                    join(path, "type")
                ),
            )
        })
}

fn card(obj: &Object, path: &str) -> Result<CarouselCard> {
    let components = array(obj, &["components"], path)?.unwrap_or_default();
    let (mut header_part, mut body_part, mut buttons_part) = (None, None, None);
    for (p, component) in objects(components, &join(path, "components"))? {
        match component_type(component, &p)?.as_str() {
            "HEADER" if header_part.is_none() => {
                let h = header(component, &p, TemplateCategory::Marketing)?;
                if !matches!(
                    h,
                    TemplateHeader::Image { .. } | TemplateHeader::Video { .. }
                ) {
                    return Err(combination(format!(
                        "{} of a carousel card must have format IMAGE or VIDEO",
                        label(&p, "HEADER")
                    )));
                }
                header_part = Some(h);
            }
            "BODY" if body_part.is_none() => {
                body_part = Some(body(component, &p, MAX_CARD_BODY_CHARS)?)
            }
            "BUTTONS" if buttons_part.is_none() => {
                let b = buttons(component, &p, TemplateCategory::Marketing)?;
                if b.len() > MAX_CARD_BUTTONS
                    || b.iter().any(|b| {
                        !matches!(
                            b,
                            TemplateButton::QuickReply { .. }
                                | TemplateButton::Url { .. }
                                | TemplateButton::PhoneNumber { .. }
                        )
                    })
                {
                    return Err(combination(format!(
                        "{} of a carousel card holds 1 or 2 QUICK_REPLY, URL or PHONE_NUMBER buttons",
                        label(&p, "BUTTONS")
                    )));
                }
                buttons_part = Some(b);
            }
            kind @ ("HEADER" | "BODY" | "BUTTONS") => {
                return Err(combination(format!("{path} has more than one {kind}")));
            }
            other => {
                return Err(combination(format!(
                    "{p} ({other}) is not allowed in a carousel card: cards hold HEADER, BODY and BUTTONS"
                )));
            }
        }
    }
    let missing = |what: &str| combination(format!("{path} needs a {what}"));
    Ok(CarouselCard {
        header: header_part.ok_or_else(|| missing("HEADER (IMAGE or VIDEO)"))?,
        body: body_part.ok_or_else(|| missing("BODY"))?,
        buttons: buttons_part.ok_or_else(|| missing("BUTTONS component"))?,
    })
}

fn carousel(obj: &Object, path: &str, category: TemplateCategory) -> Result<Vec<CarouselCard>> {
    if category != TemplateCategory::Marketing {
        return Err(combination(format!(
            "{} is only allowed in MARKETING templates",
            label(path, "CAROUSEL")
        )));
    }
    let items = array(obj, &["cards"], path)?.unwrap_or_default();
    if items.is_empty() || items.len() > MAX_CARDS {
        return Err(bad_field(
            &join(path, "cards"),
            format!("must hold 1 to {MAX_CARDS} cards, it holds {}", items.len()),
        ));
    }
    let cards = objects(items, &join(path, "cards"))?
        .into_iter()
        .map(|(p, c)| card(c, &p))
        .collect::<Result<Vec<_>>>()?;
    let layout = |c: &CarouselCard| -> Vec<&'static str> {
        let mut kinds = vec![c.header.format()];
        kinds.extend(c.buttons.iter().map(TemplateButton::kind));
        kinds
    };
    if let Some(i) = cards.iter().position(|c| layout(c) != layout(&cards[0])) {
        return Err(combination(format!(
            "{}.cards[{i}] differs from cards[0]: every card needs the same header format and the same buttons",
            path
        )));
    }
    Ok(cards)
}

/// An authentication body written by the business: the code is its one variable.
fn authentication_body(obj: &Object, path: &str) -> Result<TemplateBody> {
    let parsed = body(obj, path, MAX_BODY_CHARS)?;
    match parley_channels::template::placeholders(&parsed.text).len() {
        1 => Ok(parsed),
        0 => Err(bad_field(
            &join(path, "text"),
            "of an AUTHENTICATION template needs the variable {{1}} for the code",
        )),
        n => Err(too_many_parameters(format!(
            "{} of an AUTHENTICATION template has {n} variables; the code is its only one",
            label(path, "BODY")
        ))),
    }
}

/// Collects components in any order, then checks how they combine.
struct Builder {
    spec: TemplateSpec,
    seen_body: bool,
    seen_footer: bool,
    seen_buttons: bool,
    seen_carousel: bool,
}

impl Builder {
    fn new(
        name: String,
        language: String,
        category: TemplateCategory,
        allow_category_change: bool,
        ttl: Option<i64>,
    ) -> Self {
        Self {
            spec: TemplateSpec {
                name,
                language,
                category,
                allow_category_change,
                message_send_ttl_seconds: ttl,
                header: None,
                body: None,
                footer: None,
                buttons: Vec::new(),
                cards: Vec::new(),
                authentication: None,
                call_permission_request: false,
                request_contact_info: false,
            },
            seen_body: false,
            seen_footer: false,
            seen_buttons: false,
            seen_carousel: false,
        }
    }

    fn is_authentication(&self) -> bool {
        self.spec.category == TemplateCategory::Authentication
    }

    fn once(seen: &mut bool, kind: &str) -> Result<()> {
        if std::mem::replace(seen, true) {
            return Err(combination(format!(
                "a template has at most one {kind} component"
            )));
        }
        Ok(())
    }

    fn add(&mut self, path: &str, component: &Object) -> Result<()> {
        let kind = component_type(component, path)?;
        let category = self.spec.category;
        match kind.as_str() {
            "HEADER" => {
                if self.spec.header.is_some() {
                    return Err(combination("a template has at most one HEADER component"));
                }
                if self.is_authentication() {
                    return Err(combination(format!(
                        "{} is not allowed in AUTHENTICATION templates",
                        label(path, "HEADER")
                    )));
                }
                self.spec.header = Some(header(component, path, category)?);
            }
            "BODY" => {
                Self::once(&mut self.seen_body, "BODY")?;
                if self.is_authentication() {
                    let add = boolean(
                        component,
                        &["add_security_recommendation", "addSecurityRecommendation"],
                        path,
                    )?
                    .unwrap_or(false);
                    self.authentication_mut().add_security_recommendation = add;
                    // WhatsApp writes the body of an authentication template itself, but
                    // 8x8's own examples give one with the code as its only variable.
                    if component.get("text").is_some_and(|t| !t.is_null()) {
                        self.spec.body = Some(authentication_body(component, path)?);
                    }
                } else {
                    self.spec.body = Some(body(component, path, MAX_BODY_CHARS)?);
                }
            }
            "FOOTER" => {
                Self::once(&mut self.seen_footer, "FOOTER")?;
                if self.is_authentication() {
                    let minutes = integer(
                        component,
                        &["code_expiration_minutes", "codeExpirationMinutes"],
                        path,
                    )?;
                    if let Some(m) = minutes
                        && !CODE_EXPIRATION_MINUTES.contains(&m)
                    {
                        return Err(invalid(
                            SyncCode::ParameterOutOfRange,
                            format!(
                                "Parameter out of range: '{}' must be 1..90",
                                join(path, "code_expiration_minutes")
                            ),
                        ));
                    }
                    self.authentication_mut().code_expiration_minutes = minutes.map(|m| m as u32);
                    if component.get("text").is_some_and(|t| !t.is_null()) {
                        self.spec.footer = Some(footer(component, path)?);
                    }
                } else {
                    self.spec.footer = Some(footer(component, path)?);
                }
            }
            "BUTTONS" => {
                Self::once(&mut self.seen_buttons, "BUTTONS")?;
                self.spec.buttons = buttons(component, path, category)?;
            }
            "CAROUSEL" => {
                Self::once(&mut self.seen_carousel, "CAROUSEL")?;
                self.spec.cards = carousel(component, path, category)?;
            }
            "CALL_PERMISSION_REQUEST" => self.spec.call_permission_request = true,
            "REQUEST_CONTACT_INFO" => self.spec.request_contact_info = true,
            other => {
                return Err(invalid(
                    SyncCode::InvalidTemplateComponentType,
                    format!(
                        "Invalid template component type: '{}' {other:?} is not one of HEADER, BODY, FOOTER, BUTTONS, CAROUSEL, CALL_PERMISSION_REQUEST, REQUEST_CONTACT_INFO",
                        join(path, "type")
                    ),
                ));
            }
        }
        Ok(())
    }

    fn authentication_mut(&mut self) -> &mut AuthenticationOptions {
        self.spec
            .authentication
            .get_or_insert(AuthenticationOptions {
                add_security_recommendation: false,
                code_expiration_minutes: None,
            })
    }

    fn finish(mut self) -> Result<TemplateSpec> {
        if !self.seen_body {
            return Err(combination("a template must contain exactly one BODY"));
        }
        if self.is_authentication() {
            let otp = matches!(self.spec.buttons.as_slice(), [TemplateButton::Otp { .. }]);
            if !otp {
                return Err(combination(
                    "an AUTHENTICATION template needs a BUTTONS component with exactly one OTP button",
                ));
            }
            self.authentication_mut();
        }
        if self.seen_carousel
            && (self.spec.header.is_some() || self.seen_footer || self.seen_buttons)
        {
            return Err(combination(
                "a CAROUSEL template holds a BODY and the CAROUSEL only (headers, footers and buttons go on the cards)",
            ));
        }
        Ok(self.spec)
    }
}

fn title_case(upper: &str) -> String {
    let lower = upper.to_ascii_lowercase();
    let mut chars = lower.chars();
    chars
        .next()
        .map(|c| c.to_ascii_uppercase().to_string() + chars.as_str())
        .unwrap_or_default()
}

fn header_json(header: &TemplateHeader) -> Value {
    let mut c = serde_json::json!({"type": "HEADER", "format": title_case(header.format())});
    match header {
        TemplateHeader::Text { text, example } => {
            c["text"] = serde_json::json!(text);
            if let Some(example) = example {
                c["example"] = serde_json::json!({ "headerText": [example] });
            }
        }
        TemplateHeader::Image { example }
        | TemplateHeader::Video { example }
        | TemplateHeader::Gif { example }
        | TemplateHeader::Document { example } => {
            c["example"] = serde_json::json!({ "headerHandle": [example] });
        }
        TemplateHeader::Location => {}
    }
    c
}

fn body_json(body: &TemplateBody) -> Value {
    let mut c = serde_json::json!({"type": "BODY", "text": body.text});
    if !body.examples.is_empty() {
        c["example"] = serde_json::json!({ "bodyText": body.examples });
    }
    c
}

fn button_json(button: &TemplateButton) -> Value {
    use serde_json::json;
    match button {
        TemplateButton::QuickReply { text } => json!({"type": "QUICK_REPLY", "text": text}),
        TemplateButton::Url { text, url, example } => {
            let mut b = json!({"type": "URL", "text": text, "url": url});
            if let Some(example) = example {
                b["example"] = json!([example]);
            }
            b
        }
        TemplateButton::PhoneNumber { text, phone_number } => {
            json!({"type": "PHONE_NUMBER", "text": text, "phoneNumber": phone_number})
        }
        TemplateButton::Otp { text, otp_type } => {
            json!({"type": "OTP", "text": text, "otp_type": otp_type})
        }
        TemplateButton::CopyCode { example } => json!({
            "type": "COPY_CODE",
            "text": parley_channels::template::COPY_CODE_LABEL,
            "example": [example],
        }),
        TemplateButton::Flow {
            text,
            flow_id,
            flow_action,
            navigate_screen,
        } => {
            let mut b = json!({"type": "FLOW", "text": text, "flowId": flow_id});
            if let Some(action) = flow_action {
                b["flowAction"] = json!(action);
            }
            if let Some(screen) = navigate_screen {
                b["navigateScreen"] = json!(screen);
            }
            b
        }
        TemplateButton::VoiceCall { text, ttl_minutes } => {
            let mut b = json!({"type": "VOICE_CALL"});
            if let Some(text) = text {
                b["text"] = json!(text);
            }
            if let Some(ttl) = ttl_minutes {
                b["ttlMinutes"] = json!(ttl);
            }
            b
        }
        TemplateButton::RequestContactInfo => json!({"type": "REQUEST_CONTACT_INFO"}),
    }
}

fn buttons_json(buttons: &[TemplateButton]) -> Value {
    serde_json::json!({"type": "BUTTONS", "buttons": buttons.iter().map(button_json).collect::<Vec<_>>()})
}

/// The components of a template in 8x8's registered-template shape (GET), which
/// [`parse_template`] also reads back.
pub fn components_json(spec: &TemplateSpec) -> Vec<Value> {
    use serde_json::json;
    let mut out = Vec::new();
    if let Some(header) = &spec.header {
        out.push(header_json(header));
    }
    match (spec.authentication, &spec.body) {
        (Some(auth), _) => out.push(json!({
            "type": "BODY",
            "text": spec.body_text(),
            "add_security_recommendation": auth.add_security_recommendation,
        })),
        (None, Some(body)) => out.push(body_json(body)),
        (None, None) => {}
    }
    match (spec.authentication, spec.footer_text()) {
        (Some(auth), footer) => {
            let mut c = json!({"type": "FOOTER"});
            if let Some(text) = footer {
                c["text"] = json!(text);
            }
            if let Some(minutes) = auth.code_expiration_minutes {
                c["code_expiration_minutes"] = json!(minutes);
            }
            if c.as_object().is_some_and(|o| o.len() > 1) {
                out.push(c);
            }
        }
        (None, Some(text)) => out.push(json!({"type": "FOOTER", "text": text})),
        (None, None) => {}
    }
    if !spec.buttons.is_empty() {
        out.push(buttons_json(&spec.buttons));
    }
    if !spec.cards.is_empty() {
        let cards: Vec<Value> = spec
            .cards
            .iter()
            .map(|c| json!({"components": [header_json(&c.header), body_json(&c.body), buttons_json(&c.buttons)]}))
            .collect();
        out.push(json!({"type": "CAROUSEL", "cards": cards}));
    }
    if spec.call_permission_request {
        out.push(json!({"type": "CALL_PERMISSION_REQUEST"}));
    }
    if spec.request_contact_info {
        out.push(json!({"type": "REQUEST_CONTACT_INFO"}));
    }
    out
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use serde_json::json;

    fn code_of(body: Value) -> u32 {
        match parse_template(&body) {
            Err(Error::Invalid { code, message }) => {
                assert!(!message.is_empty());
                code.code()
            }
            other => panic!("expected a refusal of {body}, got {other:?}"),
        }
    }

    /// A valid template of `category` with `components`.
    fn with(category: &str, components: Value) -> Value {
        json!({"name": "t1", "language": "en_US", "category": category, "components": components})
    }

    fn body(text: &str, examples: Value) -> Value {
        json!({"type": "BODY", "text": text, "examples": examples})
    }

    fn ok_body() -> Value {
        body("Hi {{1}}, thanks!", json!(["Ana"]))
    }

    fn buttons(list: Value) -> Value {
        json!({"type": "BUTTONS", "buttons": list})
    }

    fn qr(text: &str) -> Value {
        json!({"type": "QUICK_REPLY", "text": text})
    }

    fn url(u: &str) -> Value {
        json!({"type": "URL", "text": "Open", "url": u, "example": ["x"]})
    }

    fn card(header_format: &str, buttons_list: Value) -> Value {
        json!({"components": [
            {"type": "HEADER", "format": header_format, "examples": ["https://x.test/a.jpg"]},
            {"type": "BODY", "text": "Card {{1}} here", "examples": ["one"]},
            {"type": "BUTTONS", "buttons": buttons_list}
        ]})
    }

    #[test]
    fn every_documented_rule_answers_with_its_code() {
        let long = "x".repeat(1025);
        let cases: Vec<(&str, Value, u32)> = vec![
            (
                "name missing",
                json!({"language": "en", "category": "UTILITY", "components": [ok_body()]}),
                3032,
            ),
            (
                "name too long",
                json!({"name": "a".repeat(513), "language": "en", "category": "UTILITY", "components": [ok_body()]}),
                3031,
            ),
            (
                "name with capitals",
                json!({"name": "Hello", "language": "en", "category": "UTILITY", "components": [ok_body()]}),
                3032,
            ),
            (
                "name with a dash",
                json!({"name": "a-b", "language": "en", "category": "UTILITY", "components": [ok_body()]}),
                3032,
            ),
            (
                "language missing",
                json!({"name": "a", "category": "UTILITY", "components": [ok_body()]}),
                3036,
            ),
            (
                "language malformed",
                json!({"name": "a", "language": "english!", "category": "UTILITY", "components": [ok_body()]}),
                3037,
            ),
            (
                "category missing",
                json!({"name": "a", "language": "en", "components": [ok_body()]}),
                1005,
            ),
            ("category unknown", with("PROMO", json!([ok_body()])), 1005),
            ("no components", with("UTILITY", json!([])), 3030),
            (
                "component type unknown",
                with("UTILITY", json!([ok_body(), {"type": "SIDEBAR"}])),
                3039,
            ),
            (
                "no body",
                with("UTILITY", json!([{"type": "FOOTER", "text": "f"}])),
                3034,
            ),
            (
                "two bodies",
                with("UTILITY", json!([ok_body(), ok_body()])),
                3034,
            ),
            (
                "body too long",
                with("UTILITY", json!([body(&long, json!([]))])),
                1005,
            ),
            (
                "body variables out of order",
                with("UTILITY", json!([body("Hi {{2}} there", json!(["a"]))])),
                1005,
            ),
            (
                "body named variable",
                with("UTILITY", json!([body("Hi {{name}} there", json!(["a"]))])),
                1005,
            ),
            (
                "body starts with a variable",
                with("UTILITY", json!([body("{{1}} is here", json!(["a"]))])),
                1005,
            ),
            (
                "body ends with a variable",
                with("UTILITY", json!([body("Here is {{1}}", json!(["a"]))])),
                1005,
            ),
            (
                "body variables side by side",
                with(
                    "UTILITY",
                    json!([body("Hi {{1}}{{2}} there", json!(["a", "b"]))]),
                ),
                1005,
            ),
            (
                "body sample missing",
                with(
                    "UTILITY",
                    json!([body("Hi {{1}} and {{2}} there", json!(["a"]))]),
                ),
                1005,
            ),
            (
                "two headers",
                with(
                    "UTILITY",
                    json!([{"type": "HEADER", "format": "TEXT", "text": "a"}, {"type": "HEADER", "format": "TEXT", "text": "b"}, ok_body()]),
                ),
                3034,
            ),
            (
                "header text too long",
                with(
                    "UTILITY",
                    json!([{"type": "HEADER", "format": "TEXT", "text": "h".repeat(61)}, ok_body()]),
                ),
                1005,
            ),
            (
                "header with two variables",
                with(
                    "UTILITY",
                    json!([{"type": "HEADER", "format": "TEXT", "text": "{{1}} {{2}}", "examples": ["a", "b"]}, ok_body()]),
                ),
                3033,
            ),
            (
                "header variable without sample",
                with(
                    "UTILITY",
                    json!([{"type": "HEADER", "format": "TEXT", "text": "Hi {{1}}"}, ok_body()]),
                ),
                1005,
            ),
            (
                "image header without sample",
                with(
                    "MARKETING",
                    json!([{"type": "HEADER", "format": "IMAGE"}, ok_body()]),
                ),
                1005,
            ),
            (
                "document header with a bad URL",
                with(
                    "UTILITY",
                    json!([{"type": "HEADER", "format": "DOCUMENT", "examples": ["not a url"]}, ok_body()]),
                ),
                1005,
            ),
            (
                "unknown header format",
                with(
                    "UTILITY",
                    json!([{"type": "HEADER", "format": "HOLOGRAM"}, ok_body()]),
                ),
                1005,
            ),
            (
                "location header in authentication",
                with(
                    "AUTHENTICATION",
                    json!([{"type": "HEADER", "format": "LOCATION"}, {"type": "BODY"}, buttons(json!([{"type": "OTP"}]))]),
                ),
                3034,
            ),
            (
                "footer too long",
                with(
                    "UTILITY",
                    json!([ok_body(), {"type": "FOOTER", "text": "f".repeat(61)}]),
                ),
                1005,
            ),
            (
                "footer with a variable",
                with(
                    "UTILITY",
                    json!([ok_body(), {"type": "FOOTER", "text": "f {{1}} g"}]),
                ),
                3033,
            ),
            (
                "eleven buttons",
                with(
                    "MARKETING",
                    json!([
                        ok_body(),
                        buttons(json!(
                            (0..11).map(|i| qr(&format!("b{i}"))).collect::<Vec<_>>()
                        ))
                    ]),
                ),
                3034,
            ),
            (
                "button label too long",
                with(
                    "UTILITY",
                    json!([ok_body(), buttons(json!([qr(&"l".repeat(26))]))]),
                ),
                1005,
            ),
            (
                "unknown button type",
                with(
                    "UTILITY",
                    json!([
                        ok_body(),
                        buttons(json!([{"type": "TELEPORT", "text": "x"}]))
                    ]),
                ),
                1005,
            ),
            (
                "three URL buttons",
                with(
                    "UTILITY",
                    json!([
                        ok_body(),
                        buttons(json!([
                            url("https://a.test/{{1}}"),
                            url("https://b.test/{{1}}"),
                            url("https://c.test/{{1}}")
                        ]))
                    ]),
                ),
                3034,
            ),
            (
                "URL variable not at the end",
                with(
                    "UTILITY",
                    json!([ok_body(), buttons(json!([url("https://a.test/{{1}}/x")]))]),
                ),
                1005,
            ),
            (
                "URL with two variables",
                with(
                    "UTILITY",
                    json!([
                        ok_body(),
                        buttons(json!([url("https://a.test/{{1}}/{{2}}")]))
                    ]),
                ),
                3033,
            ),
            (
                "URL not a URL",
                with(
                    "UTILITY",
                    json!([ok_body(), buttons(json!([url("ftp://a.test/x")]))]),
                ),
                1005,
            ),
            (
                "two phone buttons",
                with(
                    "UTILITY",
                    json!([
                        ok_body(),
                        buttons(
                            json!([{"type": "PHONE_NUMBER", "text": "a", "phone_number": "+15550001"}, {"type": "PHONE_NUMBER", "text": "b", "phone_number": "+15550002"}])
                        )
                    ]),
                ),
                3034,
            ),
            (
                "phone number too long",
                with(
                    "UTILITY",
                    json!([
                        ok_body(),
                        buttons(
                            json!([{"type": "PHONE_NUMBER", "text": "a", "phone_number": "+1234567890123456789012"}])
                        )
                    ]),
                ),
                1005,
            ),
            (
                "buttons of a kind split",
                with(
                    "MARKETING",
                    json!([
                        ok_body(),
                        buttons(json!([qr("a"), url("https://a.test/{{1}}"), qr("b")]))
                    ]),
                ),
                3034,
            ),
            (
                "OTP outside authentication",
                with(
                    "UTILITY",
                    json!([ok_body(), buttons(json!([{"type": "OTP"}]))]),
                ),
                3034,
            ),
            (
                "copy code outside marketing",
                with(
                    "UTILITY",
                    json!([
                        ok_body(),
                        buttons(json!([{"type": "COPY_CODE", "example": "SAVE10"}]))
                    ]),
                ),
                3034,
            ),
            (
                "copy code too long",
                with(
                    "MARKETING",
                    json!([
                        ok_body(),
                        buttons(json!([{"type": "COPY_CODE", "example": "C".repeat(16)}]))
                    ]),
                ),
                1005,
            ),
            (
                "flow without id",
                with(
                    "UTILITY",
                    json!([ok_body(), buttons(json!([{"type": "FLOW", "text": "Go"}]))]),
                ),
                1005,
            ),
            (
                "voice call in authentication",
                with(
                    "AUTHENTICATION",
                    json!([{"type": "BODY"}, buttons(json!([{"type": "VOICE_CALL"}]))]),
                ),
                3034,
            ),
            (
                "voice call TTL out of range",
                with(
                    "MARKETING",
                    json!([
                        ok_body(),
                        buttons(json!([{"type": "VOICE_CALL", "ttlMinutes": 60}]))
                    ]),
                ),
                1010,
            ),
            (
                "authentication without OTP button",
                with(
                    "AUTHENTICATION",
                    json!([{"type": "BODY", "add_security_recommendation": true}]),
                ),
                3034,
            ),
            (
                "OTP combined with another button",
                with(
                    "AUTHENTICATION",
                    json!([{"type": "BODY"}, buttons(json!([{"type": "OTP"}, qr("x")]))]),
                ),
                3034,
            ),
            (
                "code expiry out of range",
                with(
                    "AUTHENTICATION",
                    json!([{"type": "BODY"}, {"type": "FOOTER", "code_expiration_minutes": 91}, buttons(json!([{"type": "OTP"}]))]),
                ),
                1010,
            ),
            (
                "carousel outside marketing",
                with(
                    "UTILITY",
                    json!([ok_body(), {"type": "CAROUSEL", "cards": [card("IMAGE", json!([qr("a")]))]}]),
                ),
                3034,
            ),
            (
                "carousel without cards",
                with(
                    "MARKETING",
                    json!([ok_body(), {"type": "CAROUSEL", "cards": []}]),
                ),
                1005,
            ),
            (
                "carousel with eleven cards",
                with(
                    "MARKETING",
                    json!([ok_body(), {"type": "CAROUSEL", "cards": (0..11).map(|_| card("IMAGE", json!([qr("a")]))).collect::<Vec<_>>()}]),
                ),
                1005,
            ),
            (
                "carousel cards differ",
                with(
                    "MARKETING",
                    json!([ok_body(), {"type": "CAROUSEL", "cards": [card("IMAGE", json!([qr("a")])), card("VIDEO", json!([qr("a")]))]}]),
                ),
                3034,
            ),
            (
                "carousel card with a text header",
                with(
                    "MARKETING",
                    json!([ok_body(), {"type": "CAROUSEL", "cards": [card("TEXT", json!([qr("a")]))]}]),
                ),
                1005,
            ),
            (
                "carousel card with three buttons",
                with(
                    "MARKETING",
                    json!([ok_body(), {"type": "CAROUSEL", "cards": [card("IMAGE", json!([qr("a"), qr("b"), qr("c")]))]}]),
                ),
                3034,
            ),
            (
                "carousel beside a footer",
                with(
                    "MARKETING",
                    json!([ok_body(), {"type": "FOOTER", "text": "f"}, {"type": "CAROUSEL", "cards": [card("IMAGE", json!([qr("a")]))]}]),
                ),
                3034,
            ),
            (
                "marketing TTL too short",
                json!({"name": "a", "language": "en", "category": "MARKETING", "message_send_ttl_seconds": 60, "components": [ok_body()]}),
                1010,
            ),
            (
                "authentication TTL too long",
                json!({"name": "a", "language": "en", "category": "AUTHENTICATION", "message_send_ttl_seconds": 901, "components": [{"type": "BODY"}, buttons(json!([{"type": "OTP"}]))]}),
                1010,
            ),
        ];
        for (rule, body, expected) in cases {
            assert_eq!(code_of(body), expected, "{rule}");
        }
    }

    #[test]
    fn lenient_input_is_read_as_meant() {
        let spec = parse_template(&json!({
            "name": "promo_1", "language": "en-us", "category": "marketing",
            "allow_category_change": "false", "message_send_ttl_seconds": "-1",
            "components": [
                {"type": "header", "format": "image", "example": {"header_handle": ["https://x.test/a.jpg"]}},
                {"type": "body", "text": "Hi {{1}} &amp; welcome", "example": {"body_text": [["Ana"]]}},
                {"type": "buttons", "buttons": [
                    {"type": "quick_reply", "text": "Stop"},
                    {"type": "url", "text": "Shop", "url": "[https://x.test/](https://x.test/){{1}}", "examples": ["a"]}
                ]}
            ]
        }));
        // Marketing allows no -1 TTL: leniency is about spelling, not rules.
        assert!(spec.is_err());
        let spec = parse_template(&json!({
            "name": "promo_1", "language": "en-us", "category": "marketing",
            "allow_category_change": "false",
            "components": [
                {"type": "header", "format": "image", "example": {"header_handle": ["https://x.test/a.jpg"]}},
                {"type": "body", "text": "Hi {{1}} &amp; welcome", "example": {"body_text": [["Ana"]]}},
                {"type": "buttons", "buttons": [
                    {"type": "quick_reply", "text": "Stop"},
                    {"type": "url", "text": "Shop", "url": "[https://x.test/](https://x.test/){{1}}", "examples": ["a"]}
                ]}
            ]
        }))
        .unwrap();
        assert_eq!(spec.language, "en_US");
        assert_eq!(spec.category, TemplateCategory::Marketing);
        assert!(!spec.allow_category_change);
        assert_eq!(spec.body.as_ref().unwrap().text, "Hi {{1}} & welcome");
        assert_eq!(spec.body.as_ref().unwrap().examples, ["Ana"]);
        assert!(
            matches!(&spec.buttons[1], TemplateButton::Url { url, .. } if url == "https://x.test/{{1}}")
        );
    }

    #[test]
    fn listed_components_read_back_as_the_same_template() {
        let spec = parse_template(&json!({
            "name": "round_trip", "language": "en", "category": "MARKETING",
            "components": [
                {"type": "HEADER", "format": "TEXT", "text": "Hello {{1}}", "examples": ["Ana"]},
                {"type": "BODY", "text": "Use {{1}} at checkout, {{2}}.", "examples": ["CODE", "friend"]},
                {"type": "FOOTER", "text": "Terms apply"},
                {"type": "BUTTONS", "buttons": [
                    {"type": "COPY_CODE", "example": "SAVE10"},
                    {"type": "URL", "text": "Shop", "url": "https://x.test/{{1}}", "example": ["a"]},
                    {"type": "PHONE_NUMBER", "text": "Call", "phone_number": "+15550001234"}
                ]}
            ]
        }))
        .unwrap();
        let listed = json!({"name": spec.name, "language": spec.language, "category": spec.category,
                            "components": components_json(&spec)});
        assert_eq!(parse_template(&listed).unwrap(), spec);
    }

    proptest::proptest! {
        /// Whatever arrives, the validator answers; it never panics.
        #[test]
        fn the_validator_never_panics(body in arbitrary_json(4)) {
            let _ = parse_template(&body);
        }

        /// Template-shaped input with random pieces, so the fuzzing reaches deep rules.
        #[test]
        fn template_shaped_input_never_panics(
            category in proptest::sample::select(vec!["UTILITY", "marketing", "AUTHENTICATION", "x"]),
            text in "[a-z {}0-9&;]{0,80}",
            kinds in proptest::collection::vec(proptest::sample::select(vec!["QUICK_REPLY", "URL", "OTP", "COPY_CODE", "FLOW", "VOICE_CALL", "PHONE_NUMBER"]), 0..12),
            format in proptest::sample::select(vec!["TEXT", "IMAGE", "LOCATION", "GIF", "??"]),
            extra in arbitrary_json(2),
        ) {
            let buttons: Vec<Value> = kinds.iter().map(|k| json!({"type": k, "text": text, "url": format!("https://x.test/{text}"), "example": [text], "phone_number": text, "flowId": text})).collect();
            let body = json!({"name": "t", "language": "en", "category": category, "components": [
                {"type": "HEADER", "format": format, "text": text, "examples": [text]},
                {"type": "BODY", "text": text, "examples": [text, extra]},
                {"type": "BUTTONS", "buttons": buttons},
                {"type": "CAROUSEL", "cards": [{"components": [{"type": "BODY", "text": text}]}]},
            ]});
            let _ = parse_template(&body);
        }
    }

    pub(crate) const TEMPLATE_KEYS: &[&str] = &[
        "name",
        "language",
        "category",
        "components",
        "type",
        "text",
        "format",
        "buttons",
        "cards",
        "examples",
        "url",
    ];

    /// Any JSON value with template-like keys, nested up to `depth`.
    pub(crate) fn arbitrary_json(depth: u32) -> impl proptest::strategy::Strategy<Value = Value> {
        crate::input::fuzz::arbitrary_json(TEMPLATE_KEYS, depth)
    }
}
