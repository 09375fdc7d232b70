//! 8x8 `content.interactive` JSON → [`InteractiveMessage`]. Structure only (types, required
//! fields); WhatsApp's limits are checked afterwards on the model. Lenient where 8x8's own
//! material is inconsistent: any casing of `type`, `header.text` as a string or an object,
//! snake_case beside camelCase, ids as numbers, Markdown-wrapped URLs.

use parley_channels::interactive::{
    DEFAULT_FLOW_SCREEN, DEFAULT_VOICE_CALL_TEXT, DEFAULT_VOICE_CALL_TTL_MINUTES, FlowAction,
    FlowMode, INTERACTIVE_TYPES, InteractiveAction, InteractiveHeader, ListRow, ListSection,
    ProductSection, ReplyButton,
};
use parley_channels::{InteractiveMessage, MediaKind};
use parley_types::codes::SyncCode;
use serde_json::Value;

use crate::Result;
use crate::input::{
    Object, array, bad_field, integer, invalid, join, lookup, object, objects, string,
    text_or_number, unwrap_markdown_link,
};

const ROOT: &str = "content.interactive";

/// A field that must be present: a string, or a number written as one.
fn required(obj: &Object, keys: &[&'static str], parent: &str) -> Result<String> {
    text_or_number(obj, keys, parent)?
        .ok_or_else(|| bad_field(&join(parent, keys[0]), "is required"))
}

fn required_object<'a>(obj: &'a Object, keys: &[&'static str], parent: &str) -> Result<&'a Object> {
    object(obj, keys, parent)?.ok_or_else(|| bad_field(&join(parent, keys[0]), "is required"))
}

fn required_array<'a>(obj: &'a Object, keys: &[&'static str], parent: &str) -> Result<&'a [Value]> {
    array(obj, keys, parent)?.ok_or_else(|| bad_field(&join(parent, keys[0]), "is required"))
}

/// `{"text": "..."}`, or the bare string some clients send.
fn text_block(obj: &Object, key: &'static str) -> Result<Option<String>> {
    let path = join(ROOT, key);
    match lookup(obj, &[key]) {
        None => Ok(None),
        Some((_, Value::String(s))) => Ok(Some(s.clone())),
        Some((_, Value::Object(o))) => match string(o, &["text"], &path)? {
            Some(text) => Ok(Some(text.to_owned())),
            None => Err(bad_field(&join(&path, "text"), "is required")),
        },
        Some(_) => Err(bad_field(&path, "must be an object with a 'text'")),
    }
}

pub(super) fn interactive(content: &Object) -> Result<InteractiveMessage> {
    let interactive = object(content, &["interactive"], "content")?.ok_or_else(|| {
        invalid(
            SyncCode::MissedContent,
            "Missed content: 'content.interactive' is required for interactive messages",
        )
    })?;
    let kind = string(interactive, &["type"], ROOT)?
        .ok_or_else(|| bad_field(&join(ROOT, "type"), "is required"))?
        .to_ascii_lowercase();
    let action_path = join(ROOT, "action");
    let action_object = object(interactive, &["action"], ROOT)?;
    let action = || action_object.ok_or_else(|| bad_field(&action_path, "is required"));
    let action = match kind.as_str() {
        "button" | "buttons" => reply_buttons(action()?, &action_path)?,
        "list" => list(action()?, &action_path)?,
        "cta_url" | "ctaurl" => cta_url(action()?, &action_path)?,
        "product" => InteractiveAction::Product {
            catalog_id: required(action()?, &["catalog_id", "catalogId"], &action_path)?,
            product_retailer_id: required(
                action()?,
                &["product_retailer_id", "productRetailerId"],
                &action_path,
            )?,
        },
        "product_list" | "productlist" => product_list(action()?, &action_path)?,
        "flow" => flow(action()?, &action_path)?,
        "location_request_message" => {
            if let Some(action) = action_object {
                let name = string(action, &["name"], &action_path)?;
                if name.is_some_and(|n| !n.eq_ignore_ascii_case("send_location")) {
                    return Err(bad_field(
                        &join(&action_path, "name"),
                        "must be \"send_location\" for a location request",
                    ));
                }
            }
            InteractiveAction::LocationRequest
        }
        "voice_call" | "voicecall" => voice_call(action_object, &action_path)?,
        "call_permission_request" => InteractiveAction::CallPermissionRequest,
        "request_contact_info" => InteractiveAction::RequestContactInfo,
        _ => {
            return Err(bad_field(
                &join(ROOT, "type"),
                format!("must be one of {}", INTERACTIVE_TYPES.join(", ")),
            ));
        }
    };
    Ok(InteractiveMessage {
        header: header(interactive)?,
        body: text_block(interactive, "body")?,
        footer: text_block(interactive, "footer")?,
        action,
    })
}

fn header(interactive: &Object) -> Result<Option<InteractiveHeader>> {
    let path = join(ROOT, "header");
    let Some(header) = object(interactive, &["header"], ROOT)? else {
        return Ok(None);
    };
    let kind = string(header, &["type"], &path)?
        .ok_or_else(|| bad_field(&join(&path, "type"), "is required"))?
        .to_ascii_lowercase();
    let media_kind = match kind.as_str() {
        "text" => {
            // The OpenAPI file models `text` as an object; every 8x8 example uses a string.
            let text = match lookup(header, &["text"]) {
                Some((_, Value::String(s))) => s.clone(),
                Some((_, Value::Object(o))) => {
                    required(o, &["text", "body"], &join(&path, "text"))?
                }
                Some(_) => return Err(bad_field(&join(&path, "text"), "must be a string")),
                None => return Err(bad_field(&join(&path, "text"), "is required")),
            };
            return Ok(Some(InteractiveHeader::Text(text)));
        }
        "image" => MediaKind::Image,
        "video" => MediaKind::Video,
        "document" | "file" => MediaKind::Document,
        _ => {
            return Err(bad_field(
                &join(&path, "type"),
                "must be text, image, video or document",
            ));
        }
    };
    let field = parley_channels::interactive::media_field(media_kind);
    let media_path = join(&path, field);
    let media = object(header, &[field, "media"], &path)?
        .ok_or_else(|| bad_field(&media_path, "is required"))?;
    Ok(Some(InteractiveHeader::Media {
        kind: media_kind,
        link: string(media, &["link", "url"], &media_path)?.map(|l| l.trim().to_owned()),
        id: text_or_number(media, &["id"], &media_path)?,
        filename: string(media, &["filename", "fileName"], &media_path)?
            .filter(|_| media_kind == MediaKind::Document)
            .map(str::to_owned),
    }))
}

fn reply_buttons(action: &Object, path: &str) -> Result<InteractiveAction> {
    let buttons_path = join(path, "buttons");
    let items = required_array(action, &["buttons"], path)?;
    let buttons = objects(items, &buttons_path)?
        .into_iter()
        .map(|(item_path, button)| {
            let kind = string(button, &["type"], &item_path)?;
            if kind.is_some_and(|k| !k.eq_ignore_ascii_case("reply")) {
                return Err(bad_field(&join(&item_path, "type"), "must be \"reply\""));
            }
            let reply_path = join(&item_path, "reply");
            let reply = required_object(button, &["reply"], &item_path)?;
            Ok(ReplyButton {
                id: required(reply, &["id"], &reply_path)?,
                title: required(reply, &["title"], &reply_path)?,
            })
        })
        .collect::<Result<_>>()?;
    Ok(InteractiveAction::ReplyButtons(buttons))
}

fn list(action: &Object, path: &str) -> Result<InteractiveAction> {
    let sections_path = join(path, "sections");
    let items = required_array(action, &["sections"], path)?;
    let sections = objects(items, &sections_path)?
        .into_iter()
        .map(|(section_path, section)| {
            let rows_path = join(&section_path, "rows");
            let rows = required_array(section, &["rows"], &section_path)?;
            let rows = objects(rows, &rows_path)?
                .into_iter()
                .map(|(row_path, row)| {
                    Ok(ListRow {
                        id: required(row, &["id"], &row_path)?,
                        title: required(row, &["title"], &row_path)?,
                        description: string(row, &["description"], &row_path)?.map(str::to_owned),
                    })
                })
                .collect::<Result<_>>()?;
            Ok(ListSection {
                title: string(section, &["title"], &section_path)?.map(str::to_owned),
                rows,
            })
        })
        .collect::<Result<_>>()?;
    Ok(InteractiveAction::List {
        button: required(action, &["button"], path)?,
        sections,
    })
}

fn cta_url(action: &Object, path: &str) -> Result<InteractiveAction> {
    let params_path = join(path, "parameters");
    let params = required_object(action, &["parameters"], path)?;
    Ok(InteractiveAction::CtaUrl {
        display_text: required(params, &["display_text", "displayText"], &params_path)?,
        url: unwrap_markdown_link(&required(params, &["url"], &params_path)?),
    })
}

fn product_list(action: &Object, path: &str) -> Result<InteractiveAction> {
    let sections_path = join(path, "sections");
    let items = required_array(action, &["sections"], path)?;
    let sections = objects(items, &sections_path)?
        .into_iter()
        .map(|(section_path, section)| {
            let products_path = join(&section_path, "product_items");
            let products =
                required_array(section, &["product_items", "productItems"], &section_path)?;
            let product_retailer_ids = objects(products, &products_path)?
                .into_iter()
                .map(|(item_path, item)| {
                    required(
                        item,
                        &["product_retailer_id", "productRetailerId"],
                        &item_path,
                    )
                })
                .collect::<Result<_>>()?;
            Ok(ProductSection {
                title: string(section, &["title"], &section_path)?.map(str::to_owned),
                product_retailer_ids,
            })
        })
        .collect::<Result<_>>()?;
    Ok(InteractiveAction::ProductList {
        catalog_id: required(action, &["catalog_id", "catalogId"], path)?,
        sections,
    })
}

fn flow(action: &Object, path: &str) -> Result<InteractiveAction> {
    let params_path = join(path, "parameters");
    let params = required_object(action, &["parameters"], path)?;
    let mode = match string(params, &["flowAction", "flow_action"], &params_path)? {
        None => FlowMode::Navigate,
        Some(raw) => FlowMode::parse(raw).ok_or_else(|| {
            bad_field(
                &join(&params_path, "flowAction"),
                "must be navigate or data_exchange",
            )
        })?,
    };
    let payload_path = join(&params_path, "flowActionPayload");
    let payload = object(
        params,
        &["flowActionPayload", "flow_action_payload"],
        &params_path,
    )?;
    let (screen, data) = match payload {
        None => (None, None),
        Some(payload) => (
            string(payload, &["screen"], &payload_path)?.map(str::to_owned),
            object(payload, &["data"], &payload_path)?.cloned(),
        ),
    };
    Ok(InteractiveAction::Flow(FlowAction {
        flow_id: required(params, &["flowId", "flow_id"], &params_path)?,
        cta: required(params, &["flowCta", "flow_cta"], &params_path)?,
        mode,
        // WhatsApp opens the entry screen by default; naming it adds nothing.
        screen: screen.filter(|s| s != DEFAULT_FLOW_SCREEN),
        data,
    }))
}

fn voice_call(action: Option<&Object>, path: &str) -> Result<InteractiveAction> {
    let params_path = join(path, "parameters");
    let empty = Object::new();
    let params = match action {
        Some(action) => object(action, &["parameters"], path)?.unwrap_or(&empty),
        None => &empty,
    };
    let ttl = integer(params, &["ttlMinutes", "ttl_minutes"], &params_path)?
        .map(|t| u32::try_from(t).unwrap_or(0))
        .unwrap_or(DEFAULT_VOICE_CALL_TTL_MINUTES);
    Ok(InteractiveAction::VoiceCall {
        display_text: string(params, &["display_text", "displayText"], &params_path)?
            .unwrap_or(DEFAULT_VOICE_CALL_TEXT)
            .to_owned(),
        ttl_minutes: ttl,
        payload: string(params, &["payload"], &params_path)?.map(str::to_owned),
    })
}
