//! Interactive messages in Graph terms (`reference/meta-cloud-api.md` §1.3 "interactive"):
//! the `interactive` object of a send, written by the adapter and read back by the
//! simulator with [`parse_send`]. One set of wire structs serves both directions.

use parley_channels::interactive::{
    DEFAULT_FLOW_SCREEN, FlowAction, FlowMode, InteractiveAction, InteractiveHeader, ListRow,
    ListSection, ProductSection, ReplyButton, media_field,
};
use parley_channels::{InteractiveMessage, MediaKind};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::wire::MediaRef;

/// The Flows version Parley's Flow messages are written for.
pub const FLOW_MESSAGE_VERSION: &str = "3";

#[derive(Debug, Clone, Serialize, Deserialize)]
struct Interactive {
    #[serde(rename = "type")]
    kind: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    header: Option<Header>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    body: Option<TextObject>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    footer: Option<TextObject>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    action: Option<Action>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct TextObject {
    text: String,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
struct Header {
    #[serde(rename = "type")]
    kind: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    text: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    image: Option<MediaRef>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    video: Option<MediaRef>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    document: Option<MediaRef>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
struct Action {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    button: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    buttons: Vec<Button>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    sections: Vec<Section>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    catalog_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    product_retailer_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    parameters: Option<Parameters>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct Button {
    #[serde(rename = "type")]
    kind: String,
    reply: Reply,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct Reply {
    id: String,
    title: String,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
struct Section {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    title: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    rows: Vec<Row>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    product_items: Vec<ProductItem>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct Row {
    id: String,
    title: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    description: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct ProductItem {
    product_retailer_id: String,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
struct Parameters {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    display_text: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    url: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    ttl_minutes: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    payload: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    flow_message_version: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    flow_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    flow_cta: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    flow_token: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    flow_action: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    flow_action_payload: Option<FlowPayload>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct FlowPayload {
    screen: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    data: Option<Map<String, Value>>,
}

fn named(name: &str) -> Action {
    Action {
        name: Some(name.into()),
        ..Action::default()
    }
}

fn header_wire(header: &InteractiveHeader) -> Header {
    match header {
        InteractiveHeader::Text(text) => Header {
            kind: "text".into(),
            text: Some(text.clone()),
            ..Header::default()
        },
        InteractiveHeader::Media {
            kind,
            link,
            id,
            filename,
        } => {
            let media = Some(MediaRef {
                id: id.clone(),
                link: link.clone(),
                caption: None,
                filename: filename.clone(),
            });
            let mut header = Header {
                kind: media_field(*kind).into(),
                ..Header::default()
            };
            match kind {
                MediaKind::Video => header.video = media,
                MediaKind::Document => header.document = media,
                _ => header.image = media,
            }
            header
        }
    }
}

fn action_wire(action: &InteractiveAction) -> Option<Action> {
    Some(match action {
        InteractiveAction::ReplyButtons(buttons) => Action {
            buttons: buttons
                .iter()
                .map(|b| Button {
                    kind: "reply".into(),
                    reply: Reply {
                        id: b.id.clone(),
                        title: b.title.clone(),
                    },
                })
                .collect(),
            ..Action::default()
        },
        InteractiveAction::List { button, sections } => Action {
            button: Some(button.clone()),
            sections: sections
                .iter()
                .map(|s| Section {
                    title: s.title.clone(),
                    rows: s
                        .rows
                        .iter()
                        .map(|r| Row {
                            id: r.id.clone(),
                            title: r.title.clone(),
                            description: r.description.clone(),
                        })
                        .collect(),
                    product_items: Vec::new(),
                })
                .collect(),
            ..Action::default()
        },
        InteractiveAction::CtaUrl { display_text, url } => Action {
            parameters: Some(Parameters {
                display_text: Some(display_text.clone()),
                url: Some(url.clone()),
                ..Parameters::default()
            }),
            ..named("cta_url")
        },
        InteractiveAction::Product {
            catalog_id,
            product_retailer_id,
        } => Action {
            catalog_id: Some(catalog_id.clone()),
            product_retailer_id: Some(product_retailer_id.clone()),
            ..Action::default()
        },
        InteractiveAction::ProductList {
            catalog_id,
            sections,
        } => Action {
            catalog_id: Some(catalog_id.clone()),
            sections: sections
                .iter()
                .map(|s| Section {
                    title: s.title.clone(),
                    rows: Vec::new(),
                    product_items: s
                        .product_retailer_ids
                        .iter()
                        .map(|id| ProductItem {
                            product_retailer_id: id.clone(),
                        })
                        .collect(),
                })
                .collect(),
            ..Action::default()
        },
        InteractiveAction::Flow(flow) => Action {
            parameters: Some(Parameters {
                flow_message_version: Some(FLOW_MESSAGE_VERSION.into()),
                flow_id: Some(flow.flow_id.clone()),
                flow_cta: Some(flow.cta.clone()),
                flow_action: Some(flow.mode.as_str().into()),
                // Graph requires the payload, with a screen, when the Flow navigates.
                flow_action_payload: (flow.mode == FlowMode::Navigate).then(|| FlowPayload {
                    screen: flow
                        .screen
                        .clone()
                        .unwrap_or_else(|| DEFAULT_FLOW_SCREEN.into()),
                    data: flow.data.clone(),
                }),
                ..Parameters::default()
            }),
            ..named("flow")
        },
        InteractiveAction::LocationRequest => named("send_location"),
        InteractiveAction::VoiceCall {
            display_text,
            ttl_minutes,
            payload,
        } => Action {
            parameters: Some(Parameters {
                display_text: Some(display_text.clone()),
                ttl_minutes: Some(*ttl_minutes),
                payload: payload.clone(),
                ..Parameters::default()
            }),
            ..named("voice_call")
        },
        InteractiveAction::CallPermissionRequest => named("call_permission_request"),
        InteractiveAction::RequestContactInfo => return None,
    })
}

/// Graph's `interactive` object for a send.
pub fn send_object(message: &InteractiveMessage) -> Value {
    let wire = Interactive {
        kind: message.kind().into(),
        header: message.header.as_ref().map(header_wire),
        body: message.body.clone().map(|text| TextObject { text }),
        footer: message.footer.clone().map(|text| TextObject { text }),
        action: action_wire(&message.action),
    };
    serde_json::to_value(wire).expect("interactive wire types serialise")
}

fn required<T>(value: Option<T>, field: &str) -> Result<T, String> {
    value.ok_or_else(|| format!("{field} is required"))
}

fn header_model(header: Header) -> Result<InteractiveHeader, String> {
    let (kind, media) = match header.kind.as_str() {
        "text" => {
            return Ok(InteractiveHeader::Text(required(
                header.text,
                "header.text",
            )?));
        }
        "image" => (MediaKind::Image, header.image),
        "video" => (MediaKind::Video, header.video),
        "document" => (MediaKind::Document, header.document),
        other => return Err(format!("header type {other:?} is not supported")),
    };
    let media = required(media, &format!("header.{}", header.kind))?;
    Ok(InteractiveHeader::Media {
        kind,
        link: media.link,
        id: media.id,
        filename: media.filename,
    })
}

fn action_model(kind: &str, action: Option<Action>) -> Result<InteractiveAction, String> {
    let action = action.unwrap_or_default();
    let parameters = || required(action.parameters.clone(), "action.parameters");
    Ok(match kind {
        "button" => InteractiveAction::ReplyButtons(
            action
                .buttons
                .into_iter()
                .map(|b| ReplyButton {
                    id: b.reply.id,
                    title: b.reply.title,
                })
                .collect(),
        ),
        "list" => InteractiveAction::List {
            button: required(action.button, "action.button")?,
            sections: action
                .sections
                .into_iter()
                .map(|s| ListSection {
                    title: s.title,
                    rows: s
                        .rows
                        .into_iter()
                        .map(|r| ListRow {
                            id: r.id,
                            title: r.title,
                            description: r.description,
                        })
                        .collect(),
                })
                .collect(),
        },
        "cta_url" => {
            let parameters = parameters()?;
            InteractiveAction::CtaUrl {
                display_text: required(parameters.display_text, "action.parameters.display_text")?,
                url: required(parameters.url, "action.parameters.url")?,
            }
        }
        "product" => InteractiveAction::Product {
            catalog_id: required(action.catalog_id, "action.catalog_id")?,
            product_retailer_id: required(
                action.product_retailer_id,
                "action.product_retailer_id",
            )?,
        },
        "product_list" => InteractiveAction::ProductList {
            catalog_id: required(action.catalog_id, "action.catalog_id")?,
            sections: action
                .sections
                .into_iter()
                .map(|s| ProductSection {
                    title: s.title,
                    product_retailer_ids: s
                        .product_items
                        .into_iter()
                        .map(|p| p.product_retailer_id)
                        .collect(),
                })
                .collect(),
        },
        "flow" => {
            let parameters = parameters()?;
            let mode = match parameters.flow_action.as_deref() {
                None => FlowMode::Navigate,
                Some(raw) => FlowMode::parse(raw).ok_or_else(|| {
                    format!("flow_action {raw:?} is not navigate or data_exchange")
                })?,
            };
            let payload = parameters.flow_action_payload;
            InteractiveAction::Flow(FlowAction {
                flow_id: required(parameters.flow_id, "action.parameters.flow_id")?,
                cta: required(parameters.flow_cta, "action.parameters.flow_cta")?,
                mode,
                screen: payload
                    .as_ref()
                    .map(|p| p.screen.clone())
                    .filter(|s| s != DEFAULT_FLOW_SCREEN),
                data: payload.and_then(|p| p.data),
            })
        }
        "location_request_message" => InteractiveAction::LocationRequest,
        "voice_call" => {
            let parameters = parameters()?;
            InteractiveAction::VoiceCall {
                display_text: required(parameters.display_text, "action.parameters.display_text")?,
                ttl_minutes: parameters
                    .ttl_minutes
                    .unwrap_or(parley_channels::interactive::DEFAULT_VOICE_CALL_TTL_MINUTES),
                payload: parameters.payload,
            }
        }
        "call_permission_request" => InteractiveAction::CallPermissionRequest,
        "request_contact_info" => InteractiveAction::RequestContactInfo,
        other => return Err(format!("interactive type {other:?} is not supported")),
    })
}

/// Reads a Graph `interactive` object back into the model (the simulator's side). Checks
/// structure only; WhatsApp's limits are [`InteractiveMessage::check`].
pub fn parse_send(interactive: &Value) -> Result<InteractiveMessage, String> {
    let wire: Interactive =
        serde_json::from_value(interactive.clone()).map_err(|e| format!("interactive: {e}"))?;
    Ok(InteractiveMessage {
        header: wire.header.map(header_model).transpose()?,
        body: wire.body.map(|b| b.text),
        footer: wire.footer.map(|f| f.text),
        action: action_model(&wire.kind, wire.action)?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn message(action: InteractiveAction) -> InteractiveMessage {
        InteractiveMessage {
            header: Some(InteractiveHeader::Text("Hello".into())),
            body: Some("Body".into()),
            footer: Some("Footer".into()),
            action,
        }
    }

    #[test]
    fn flows_are_written_in_graph_snake_case_with_a_screen() {
        let flow = message(InteractiveAction::Flow(FlowAction {
            flow_id: "859504979861628".into(),
            cta: "Book".into(),
            mode: FlowMode::Navigate,
            screen: None,
            data: Some(Map::from_iter([("a".to_owned(), json!(1))])),
        }));
        let wire = send_object(&flow);
        assert_eq!(
            wire["action"],
            json!({"name": "flow", "parameters": {
                "flow_message_version": "3", "flow_id": "859504979861628", "flow_cta": "Book",
                "flow_action": "navigate",
                "flow_action_payload": {"screen": "FIRST_ENTRY_SCREEN", "data": {"a": 1}},
            }})
        );
        assert_eq!(parse_send(&wire).unwrap(), flow);
    }

    #[test]
    fn every_kind_reads_back_as_written() {
        let actions = [
            InteractiveAction::ReplyButtons(vec![ReplyButton {
                id: "a".into(),
                title: "A".into(),
            }]),
            InteractiveAction::List {
                button: "Open".into(),
                sections: vec![ListSection {
                    title: Some("S".into()),
                    rows: vec![ListRow {
                        id: "r".into(),
                        title: "R".into(),
                        description: Some("d".into()),
                    }],
                }],
            },
            InteractiveAction::CtaUrl {
                display_text: "Go".into(),
                url: "https://x.test".into(),
            },
            InteractiveAction::ProductList {
                catalog_id: "c".into(),
                sections: vec![ProductSection {
                    title: Some("S".into()),
                    product_retailer_ids: vec!["p".into()],
                }],
            },
            InteractiveAction::LocationRequest,
            InteractiveAction::VoiceCall {
                display_text: "Call".into(),
                ttl_minutes: 60,
                payload: Some("p".into()),
            },
            InteractiveAction::CallPermissionRequest,
            InteractiveAction::RequestContactInfo,
        ];
        for action in actions {
            let original = message(action);
            let wire = send_object(&original);
            assert_eq!(wire["type"], json!(original.kind()));
            assert_eq!(parse_send(&wire).unwrap(), original, "{wire}");
        }
        assert_eq!(
            send_object(&message(InteractiveAction::CtaUrl {
                display_text: "Go".into(),
                url: "https://x.test".into()
            }))["action"],
            json!({"name": "cta_url", "parameters": {"display_text": "Go", "url": "https://x.test"}})
        );
    }
}
