//! Message content as 8x8 models it, stored as the 8x8 `content` object and turned into
//! the channel's outbound content at dispatch time. Parsing goes through one function for
//! both the API (validation) and the dispatcher (reading back what was stored).

use parley_channels::{InteractiveMessage, Location, MediaKind, OutboundContent, TemplateMessage};
use parley_types::codes::SyncCode;
use serde_json::{Map, Value, json};

use crate::input::is_web_url;
use crate::interactive;
use crate::templates::{Rendered, send as template_send};
use crate::{Error, Result};

/// WhatsApp's limits (`reference/chatapps-api.md` §8).
pub const MAX_TEXT_CHARS: usize = 4096;
pub const MAX_CAPTION_CHARS: usize = 1024;

/// The WhatsApp content types 8x8 sends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ContentKind {
    Text,
    Image,
    Video,
    Audio,
    File,
    Location,
    Template,
    Interactive,
}

impl ContentKind {
    /// 8x8's `type`, in any casing.
    pub fn parse(raw: &str) -> Result<Self> {
        Ok(match raw.to_ascii_lowercase().as_str() {
            "text" => Self::Text,
            "image" => Self::Image,
            "video" => Self::Video,
            "audio" => Self::Audio,
            "file" | "document" => Self::File,
            "location" => Self::Location,
            "template" => Self::Template,
            "interactive" => Self::Interactive,
            _ => {
                return Err(Error::invalid(
                    SyncCode::InvalidContentType,
                    format!("Invalid content type: 'type' {raw:?} is not a WhatsApp message type"),
                ));
            }
        })
    }

    /// 8x8's `contentType` name in message details and webhooks.
    pub fn label(self) -> &'static str {
        match self {
            Self::Text => "Text",
            Self::Image => "Image",
            Self::Video => "Video",
            Self::Audio => "Audio",
            Self::File => "File",
            Self::Location => "Location",
            Self::Template => "Template",
            Self::Interactive => "Interactive",
        }
    }

    fn media_kind(self) -> Option<MediaKind> {
        match self {
            Self::Image => Some(MediaKind::Image),
            Self::Video => Some(MediaKind::Video),
            Self::Audio => Some(MediaKind::Audio),
            Self::File => Some(MediaKind::Document),
            Self::Text | Self::Location | Self::Template | Self::Interactive => None,
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum Content {
    Text(String),
    Media {
        kind: ContentKind,
        url: String,
        caption: Option<String>,
    },
    Location(Location),
    /// A template send; `rendered` (what the user sees) is filled in once the approved
    /// template it names has been checked.
    Template {
        message: Box<TemplateMessage>,
        rendered: Option<Rendered>,
    },
    Interactive(Box<InteractiveMessage>),
}

fn invalid(code: SyncCode, message: impl Into<String>) -> Error {
    Error::invalid(code, message)
}

fn optional_string<'a>(
    obj: &'a Map<String, Value>,
    key: &str,
    path: &str,
) -> Result<Option<&'a str>> {
    match obj.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(_) => Err(invalid(
            SyncCode::InvalidParameters,
            format!("Invalid parameter(s): '{path}' must be a string"),
        )),
    }
}

fn coordinate(obj: &Map<String, Value>, key: &str, bound: f64) -> Option<f64> {
    let value = match obj.get(key)? {
        Value::Number(n) => n.as_f64()?,
        // 8x8's own examples send coordinates as strings.
        Value::String(s) => s.trim().parse().ok()?,
        _ => return None,
    };
    (value.is_finite() && value.abs() <= bound).then_some(value)
}

impl Content {
    /// Parses the 8x8 `content` object for `kind`.
    pub fn parse(kind: ContentKind, content: &Map<String, Value>) -> Result<Self> {
        match kind {
            ContentKind::Text => {
                let text = optional_string(content, "text", "content.text")?
                    .filter(|t| !t.trim().is_empty())
                    .ok_or_else(|| {
                        invalid(
                            SyncCode::MissedText,
                            "Missed text: 'content.text' is required",
                        )
                    })?;
                if text.chars().count() > MAX_TEXT_CHARS {
                    return Err(invalid(
                        SyncCode::TextTooLong,
                        format!(
                            "Text too long: 'content.text' exceeds {MAX_TEXT_CHARS} characters"
                        ),
                    ));
                }
                Ok(Self::Text(text.to_owned()))
            }
            ContentKind::Template => Ok(Self::Template {
                message: Box::new(template_send::parse_send(content)?),
                rendered: content
                    .get("rendered")
                    .and_then(|r| serde_json::from_value(r.clone()).ok()),
            }),
            ContentKind::Interactive => Ok(Self::Interactive(Box::new(interactive::parse_send(
                content,
            )?))),
            ContentKind::Location => {
                let bad = || {
                    invalid(
                        SyncCode::InvalidLocation,
                        "Empty or invalid location: 'content.location' needs a latitude (-90..90) and a longitude (-180..180)",
                    )
                };
                let loc = content
                    .get("location")
                    .and_then(Value::as_object)
                    .ok_or_else(bad)?;
                let latitude = coordinate(loc, "latitude", 90.0).ok_or_else(bad)?;
                let longitude = coordinate(loc, "longitude", 180.0).ok_or_else(bad)?;
                Ok(Self::Location(Location {
                    latitude,
                    longitude,
                    name: optional_string(loc, "name", "content.location.name")?.map(str::to_owned),
                    address: optional_string(loc, "address", "content.location.address")?
                        .map(str::to_owned),
                }))
            }
            media => {
                let url = optional_string(content, "url", "content.url")?
                    .filter(|u| !u.trim().is_empty())
                    .ok_or_else(|| {
                        invalid(
                            SyncCode::MissedMediaUrl,
                            "Missed media URL: 'content.url' is required",
                        )
                    })?;
                if !is_web_url(url.trim()) {
                    return Err(invalid(
                        SyncCode::InvalidMediaUrl,
                        "Invalid media URL: 'content.url' must be an absolute http(s) URL",
                    ));
                }
                let caption = optional_string(content, "text", "content.text")?
                    .filter(|c| !c.is_empty())
                    .map(str::to_owned);
                if media == ContentKind::Audio && caption.is_some() {
                    return Err(invalid(
                        SyncCode::InvalidParameters,
                        "Invalid parameter(s): 'content.text': WhatsApp audio messages cannot have a caption",
                    ));
                }
                if caption
                    .as_ref()
                    .is_some_and(|c| c.chars().count() > MAX_CAPTION_CHARS)
                {
                    return Err(invalid(
                        SyncCode::TextTooLong,
                        format!(
                            "Text too long: the caption 'content.text' exceeds {MAX_CAPTION_CHARS} characters"
                        ),
                    ));
                }
                Ok(Self::Media {
                    kind: media,
                    url: url.trim().to_owned(),
                    caption,
                })
            }
        }
    }

    /// Reads back content this module stored.
    pub fn from_stored(content_type: &str, content: &Value) -> Result<Self> {
        let kind = ContentKind::parse(content_type)?;
        let empty = Map::new();
        Self::parse(kind, content.as_object().unwrap_or(&empty))
    }

    pub fn kind(&self) -> ContentKind {
        match self {
            Self::Text(_) => ContentKind::Text,
            Self::Media { kind, .. } => *kind,
            Self::Location(_) => ContentKind::Location,
            Self::Template { .. } => ContentKind::Template,
            Self::Interactive(_) => ContentKind::Interactive,
        }
    }

    /// The 8x8 `content` object.
    pub fn to_json(&self) -> Value {
        match self {
            Self::Text(text) => json!({ "text": text }),
            Self::Media { url, caption, .. } => {
                let mut obj = json!({ "url": url });
                if let Some(caption) = caption {
                    obj["text"] = json!(caption);
                }
                obj
            }
            Self::Location(location) => json!({ "location": location }),
            Self::Template { message, rendered } => {
                let mut obj = json!({ "template": template_send::to_json(message) });
                if let Some(rendered) = rendered {
                    obj["rendered"] = json!(rendered);
                }
                obj
            }
            Self::Interactive(message) => interactive::to_json(message),
        }
    }

    /// Whether this is a marketing template (by its category when it was accepted).
    pub fn is_marketing(&self) -> bool {
        matches!(self, Self::Template { rendered: Some(r), .. }
            if r.category == Some(parley_channels::template::TemplateCategory::Marketing))
    }

    pub fn to_outbound(&self) -> OutboundContent {
        match self {
            Self::Text(body) => OutboundContent::Text { body: body.clone() },
            Self::Media { kind, url, caption } => OutboundContent::Media {
                kind: kind.media_kind().expect("media content has a media kind"),
                url: url.clone(),
                media_id: None,
                caption: caption.clone(),
                filename: None,
            },
            Self::Location(location) => OutboundContent::Location(location.clone()),
            Self::Template { message, .. } => OutboundContent::Template(message.as_ref().clone()),
            Self::Interactive(message) => OutboundContent::Interactive(message.as_ref().clone()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn obj(v: Value) -> Map<String, Value> {
        v.as_object().unwrap().clone()
    }

    fn code(r: Result<Content>) -> u32 {
        match r {
            Err(Error::Invalid { code, .. }) => code.code(),
            other => panic!("expected a validation error, got {other:?}"),
        }
    }

    #[test]
    fn type_names_are_accepted_in_any_casing() {
        assert_eq!(ContentKind::parse("Image").unwrap(), ContentKind::Image);
        assert_eq!(ContentKind::parse("FILE").unwrap(), ContentKind::File);
        assert_eq!(
            ContentKind::parse("Template").unwrap(),
            ContentKind::Template
        );
        assert_eq!(
            ContentKind::parse("Interactive").unwrap(),
            ContentKind::Interactive
        );
        assert!(matches!(
            ContentKind::parse("fax"),
            Err(Error::Invalid { .. })
        ));
    }

    #[test]
    fn content_round_trips_through_storage() {
        for (kind, raw) in [
            (ContentKind::Text, json!({"text": "hi *there*"})),
            (
                ContentKind::Image,
                json!({"url": "https://x.test/a.jpg", "text": "cap"}),
            ),
            (ContentKind::File, json!({"url": "https://x.test/a.pdf"})),
            (
                ContentKind::Location,
                json!({"location": {"latitude": "1.28", "longitude": 103.8, "name": "SG"}}),
            ),
        ] {
            let parsed = Content::parse(kind, &obj(raw)).unwrap();
            assert_eq!(
                Content::from_stored(kind.label(), &parsed.to_json()).unwrap(),
                parsed
            );
        }
    }

    #[test]
    fn each_broken_rule_has_its_8x8_code() {
        assert_eq!(
            code(Content::parse(ContentKind::Text, &obj(json!({})))),
            3005
        );
        assert_eq!(
            code(Content::parse(
                ContentKind::Text,
                &obj(json!({"text": "x".repeat(4097)}))
            )),
            3006
        );
        assert_eq!(
            code(Content::parse(ContentKind::Text, &obj(json!({"text": 5})))),
            1005
        );
        assert_eq!(
            code(Content::parse(ContentKind::Image, &obj(json!({})))),
            3007
        );
        assert_eq!(
            code(Content::parse(
                ContentKind::Image,
                &obj(json!({"url": "ftp://x/a.jpg"}))
            )),
            3008
        );
        assert_eq!(
            code(Content::parse(
                ContentKind::Video,
                &obj(json!({"url": "https:// x"}))
            )),
            3008
        );
        assert_eq!(
            code(Content::parse(
                ContentKind::Audio,
                &obj(json!({"url": "https://x/a.ogg", "text": "no"}))
            )),
            1005
        );
        assert_eq!(
            code(Content::parse(
                ContentKind::Location,
                &obj(json!({"location": {"latitude": 91, "longitude": 0}}))
            )),
            3021
        );
        assert_eq!(
            code(Content::parse(ContentKind::Location, &obj(json!({})))),
            3021
        );
    }
}
