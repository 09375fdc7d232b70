use parley_channels::interactive::{FlowMode, InteractiveAction, InteractiveHeader};
use proptest::prelude::*;
use serde_json::{Value, json};

use super::*;
use crate::Error;

fn parse(interactive: Value) -> Result<InteractiveMessage> {
    parse_send(json!({ "interactive": interactive }).as_object().unwrap())
}

fn failure(interactive: Value) -> (u32, String) {
    match parse(interactive.clone()) {
        Err(Error::Invalid { code, message }) => (code.code(), message),
        other => panic!("expected {interactive} to be refused, got {other:?}"),
    }
}

fn buttons(n: usize) -> Value {
    json!((0..n)
        .map(|i| json!({"type": "reply", "reply": {"id": format!("b{i}"), "title": format!("Button {i}")}}))
        .collect::<Vec<_>>())
}

fn rows(n: usize, start: usize) -> Value {
    json!(
        (start..start + n)
            .map(
                |i| json!({"id": format!("r{i}"), "title": format!("Row {i}"), "description": "d"})
            )
            .collect::<Vec<_>>()
    )
}

fn long(n: usize) -> String {
    "x".repeat(n)
}

/// Each documented rule, broken once: the payload, the 8x8 code, and the field the error
/// message must name.
#[test]
fn every_rule_has_its_code_and_names_the_field() {
    let button =
        |action: Value| json!({"type": "button", "body": {"text": "Pick"}, "action": action});
    let list = |sections: Value| json!({"type": "list", "body": {"text": "Pick"}, "action": {"button": "Open", "sections": sections}});
    let cases: Vec<(Value, u32, &str)> = vec![
        (
            json!({"type": "carousel", "body": {"text": "x"}}),
            1005,
            "content.interactive.type",
        ),
        (
            json!({"body": {"text": "x"}}),
            1005,
            "content.interactive.type",
        ),
        (
            json!({"type": "button", "body": {"text": "x"}}),
            1005,
            "content.interactive.action",
        ),
        // body
        (
            json!({"type": "button", "action": {"buttons": buttons(1)}}),
            3005,
            "content.interactive.body.text",
        ),
        (
            json!({"type": "button", "body": {"text": " "}, "action": {"buttons": buttons(1)}}),
            3005,
            "content.interactive.body.text",
        ),
        (
            json!({"type": "button", "body": {"text": long(1025)}, "action": {"buttons": buttons(1)}}),
            3006,
            "content.interactive.body.text",
        ),
        (
            json!({"type": "button", "body": {}, "action": {"buttons": buttons(1)}}),
            1005,
            "content.interactive.body.text",
        ),
        // footer and header
        (
            json!({"type": "button", "body": {"text": "x"}, "footer": {"text": long(61)}, "action": {"buttons": buttons(1)}}),
            3006,
            "content.interactive.footer.text",
        ),
        (
            json!({"type": "button", "header": {"type": "text", "text": long(61)}, "body": {"text": "x"}, "action": {"buttons": buttons(1)}}),
            3006,
            "content.interactive.header.text",
        ),
        (
            json!({"type": "button", "header": {"type": "gif"}, "body": {"text": "x"}, "action": {"buttons": buttons(1)}}),
            1005,
            "content.interactive.header.type",
        ),
        (
            json!({"type": "button", "header": {"type": "image", "image": {"link": "ftp://x.test/a.png"}}, "body": {"text": "x"}, "action": {"buttons": buttons(1)}}),
            3008,
            "content.interactive.header.image.link",
        ),
        (
            json!({"type": "button", "header": {"type": "video", "video": {}}, "body": {"text": "x"}, "action": {"buttons": buttons(1)}}),
            1005,
            "content.interactive.header.video.link",
        ),
        (
            json!({"type": "list", "header": {"type": "image", "image": {"link": "https://x.test/a.png"}}, "body": {"text": "x"}, "action": {"button": "Open", "sections": [{"rows": rows(1, 0)}]}}),
            1005,
            "content.interactive.header.type",
        ),
        (
            json!({"type": "product", "header": {"type": "text", "text": "h"}, "action": {"catalog_id": "c", "product_retailer_id": "p"}}),
            1005,
            "content.interactive.header",
        ),
        (
            json!({"type": "location_request_message", "header": {"type": "text", "text": "h"}, "body": {"text": "x"}, "action": {"name": "send_location"}}),
            1005,
            "content.interactive.header",
        ),
        (
            json!({"type": "location_request_message", "body": {"text": "x"}, "footer": {"text": "f"}, "action": {"name": "send_location"}}),
            1005,
            "content.interactive.footer",
        ),
        (
            json!({"type": "location_request_message", "body": {"text": "x"}, "action": {"name": "send_pin"}}),
            1005,
            "content.interactive.action.name",
        ),
        // reply buttons
        (
            button(json!({"buttons": buttons(4)})),
            1005,
            "content.interactive.action.buttons",
        ),
        (
            button(json!({"buttons": []})),
            1005,
            "content.interactive.action.buttons",
        ),
        (
            button(json!({})),
            1005,
            "content.interactive.action.buttons",
        ),
        (
            button(
                json!({"buttons": [{"type": "reply", "reply": {"id": "a", "title": long(21)}}]}),
            ),
            3006,
            "content.interactive.action.buttons[0].reply.title",
        ),
        (
            button(
                json!({"buttons": [{"type": "reply", "reply": {"id": long(257), "title": "t"}}]}),
            ),
            3006,
            "content.interactive.action.buttons[0].reply.id",
        ),
        (
            button(json!({"buttons": [{"type": "reply", "reply": {"id": " a", "title": "t"}}]})),
            1005,
            "content.interactive.action.buttons[0].reply.id",
        ),
        (
            button(json!({"buttons": [{"type": "reply", "reply": {"id": "a", "title": ""}}]})),
            1005,
            "content.interactive.action.buttons[0].reply.title",
        ),
        (
            button(json!({"buttons": [{"type": "reply", "reply": {"id": "a"}}]})),
            1005,
            "content.interactive.action.buttons[0].reply.title",
        ),
        (
            button(
                json!({"buttons": [{"type": "reply", "reply": {"id": "a", "title": "Same"}}, {"type": "reply", "reply": {"id": "b", "title": "Same"}}]}),
            ),
            1005,
            "content.interactive.action.buttons[1].reply.title",
        ),
        (
            button(
                json!({"buttons": [{"type": "reply", "reply": {"id": "a", "title": "A"}}, {"type": "reply", "reply": {"id": "a", "title": "B"}}]}),
            ),
            1005,
            "content.interactive.action.buttons[1].reply.id",
        ),
        (
            button(json!({"buttons": [{"type": "url", "reply": {"id": "a", "title": "A"}}]})),
            1005,
            "content.interactive.action.buttons[0].type",
        ),
        // lists
        (
            list(json!([{"rows": rows(11, 0)}])),
            1005,
            "content.interactive.action.sections[].rows",
        ),
        (
            list(json!([{"title": "A", "rows": rows(6, 0)}, {"title": "B", "rows": rows(5, 6)}])),
            1005,
            "content.interactive.action.sections[].rows",
        ),
        (
            list(json!(
                (0..11)
                    .map(|i| json!({"title": format!("S{i}"), "rows": rows(0, 0)}))
                    .collect::<Vec<_>>()
            )),
            1005,
            "content.interactive.action.sections",
        ),
        (list(json!([])), 1005, "content.interactive.action.sections"),
        (
            list(json!([{"title": "A", "rows": rows(1, 0)}, {"rows": rows(1, 1)}])),
            1005,
            "content.interactive.action.sections[1].title",
        ),
        (
            list(json!([{"title": long(25), "rows": rows(1, 0)}])),
            3006,
            "content.interactive.action.sections[0].title",
        ),
        (
            list(json!([{"title": "A", "rows": []}])),
            1005,
            "content.interactive.action.sections[0].rows",
        ),
        (
            list(json!([{"rows": [{"id": long(201), "title": "t"}]}])),
            3006,
            "content.interactive.action.sections[0].rows[0].id",
        ),
        (
            list(json!([{"rows": [{"id": "a", "title": long(25)}]}])),
            3006,
            "content.interactive.action.sections[0].rows[0].title",
        ),
        (
            list(json!([{"rows": [{"id": "a", "title": "t", "description": long(73)}]}])),
            3006,
            "content.interactive.action.sections[0].rows[0].description",
        ),
        (
            list(json!([{"title": "A", "rows": rows(2, 0)}, {"title": "B", "rows": rows(2, 1)}])),
            1005,
            "content.interactive.action.sections[1].rows[0].id",
        ),
        (
            json!({"type": "list", "body": {"text": "x"}, "action": {"button": long(21), "sections": [{"rows": rows(1, 0)}]}}),
            3006,
            "content.interactive.action.button",
        ),
        (
            json!({"type": "list", "body": {"text": "x"}, "action": {"sections": [{"rows": rows(1, 0)}]}}),
            1005,
            "content.interactive.action.button",
        ),
        // cta_url
        (
            json!({"type": "cta_url", "body": {"text": "x"}, "action": {"parameters": {"display_text": long(21), "url": "https://x.test"}}}),
            3006,
            "content.interactive.action.parameters.display_text",
        ),
        (
            json!({"type": "cta_url", "body": {"text": "x"}, "action": {"parameters": {"display_text": "Go", "url": "x.test/checkout"}}}),
            1005,
            "content.interactive.action.parameters.url",
        ),
        (
            json!({"type": "cta_url", "body": {"text": "x"}, "action": {"parameters": {"url": "https://x.test"}}}),
            1005,
            "content.interactive.action.parameters.display_text",
        ),
        // products
        (
            json!({"type": "product", "action": {"catalog_id": "c"}}),
            1005,
            "content.interactive.action.product_retailer_id",
        ),
        (
            json!({"type": "product_list", "body": {"text": "x"}, "action": {"catalog_id": "c", "sections": [{"title": "S", "product_items": [{"product_retailer_id": "p"}]}]}}),
            1005,
            "content.interactive.header",
        ),
        (
            json!({"type": "product_list", "header": {"type": "text", "text": "h"}, "body": {"text": "x"}, "action": {"catalog_id": "c", "sections": [{"title": "S", "product_items": (0..31).map(|i| json!({"product_retailer_id": format!("p{i}")})).collect::<Vec<_>>()}]}}),
            1005,
            "content.interactive.action.sections[].product_items",
        ),
        (
            json!({"type": "product_list", "header": {"type": "text", "text": "h"}, "body": {"text": "x"}, "action": {"catalog_id": "c", "sections": [{"title": "S", "product_items": []}]}}),
            1005,
            "content.interactive.action.sections[0].product_items",
        ),
        // flows
        (
            json!({"type": "flow", "body": {"text": "x"}, "action": {"parameters": {"flowCta": "Go"}}}),
            1005,
            "content.interactive.action.parameters.flowId",
        ),
        (
            json!({"type": "flow", "body": {"text": "x"}, "action": {"parameters": {"flowId": "1", "flowCta": long(31)}}}),
            3006,
            "content.interactive.action.parameters.flowCta",
        ),
        (
            json!({"type": "flow", "body": {"text": "x"}, "action": {"parameters": {"flowId": "1", "flowCta": "Go", "flowAction": "jump"}}}),
            1005,
            "content.interactive.action.parameters.flowAction",
        ),
        (
            json!({"type": "flow", "body": {"text": "x"}, "action": {"parameters": {"flowId": "1", "flowCta": "Go", "flowAction": "data_exchange", "flowActionPayload": {"screen": "S"}}}}),
            1005,
            "content.interactive.action.parameters.flowActionPayload",
        ),
        (
            json!({"type": "flow", "body": {"text": "x"}, "action": {"parameters": {"flowId": "1", "flowCta": "Go", "flowActionPayload": {"data": {}}}}}),
            1005,
            "content.interactive.action.parameters.flowActionPayload.data",
        ),
        // voice calls
        (
            json!({"type": "voice_call", "body": {"text": "x"}, "action": {"name": "voice_call", "parameters": {"ttlMinutes": 0}}}),
            1005,
            "content.interactive.action.parameters.ttlMinutes",
        ),
        (
            json!({"type": "voice_call", "body": {"text": "x"}, "action": {"parameters": {"ttlMinutes": 43201}}}),
            1005,
            "content.interactive.action.parameters.ttlMinutes",
        ),
        (
            json!({"type": "voice_call", "body": {"text": "x"}, "action": {"parameters": {"payload": long(513)}}}),
            3006,
            "content.interactive.action.parameters.payload",
        ),
        (
            json!({"type": "voice_call", "body": {"text": "x"}, "action": {"parameters": {"display_text": long(21)}}}),
            3006,
            "content.interactive.action.parameters.display_text",
        ),
    ];
    for (payload, code, field) in cases {
        let (got, message) = failure(payload.clone());
        assert_eq!(got, code, "{payload} → {message}");
        assert!(
            message.contains(&format!("'{field}'")),
            "{payload}: {message:?} should name '{field}'"
        );
    }
}

#[test]
fn the_documented_shapes_are_accepted() {
    let accepted = [
        json!({"type": "Button", "header": {"type": "text", "text": "8x8"}, "body": {"text": "Pick one"}, "footer": {"text": "footer"}, "action": {"buttons": buttons(3)}}),
        json!({"type": "list", "header": {"type": "TEXT", "text": {"text": "Slots"}}, "body": {"text": "x"}, "action": {"button": "Open", "sections": [{"title": "A", "rows": rows(5, 0)}, {"title": "B", "rows": rows(5, 5)}]}}),
        json!({"type": "cta_url", "header": {"type": "image", "image": {"link": "https://x.test/a.png"}}, "body": {"text": "x"}, "action": {"parameters": {"display_text": "Go", "url": "https://x.test"}}}),
        json!({"type": "product", "action": {"catalog_id": "c", "product_retailer_id": "p"}}),
        json!({"type": "product_list", "header": {"type": "text", "text": "h"}, "body": {"text": "x"}, "action": {"catalog_id": "c", "sections": [{"title": "S", "product_items": (0..30).map(|i| json!({"product_retailer_id": format!("p{i}")})).collect::<Vec<_>>()}]}}),
        json!({"type": "flow", "body": {"text": "x"}, "action": {"parameters": {"flowId": "859504979861628", "flowCta": "Get Recommendations", "flowAction": "navigate", "flowActionPayload": {"screen": "RECOMMEND", "data": {"product_id": "12345"}}}}}),
        json!({"type": "location_request_message", "body": {"text": "Where are you?"}, "action": {"name": "send_location"}}),
        json!({"type": "voice_call", "body": {"text": "Talk to us"}, "action": {"name": "voice_call", "parameters": {"ttlMinutes": 10}}}),
        json!({"type": "call_permission_request"}),
        json!({"type": "request_contact_info", "body": {"text": "Share your number?"}}),
    ];
    for payload in accepted {
        let message = parse(payload.clone()).unwrap_or_else(|e| panic!("{payload}: {e}"));
        // What is stored reads back as the same message.
        let stored = to_json(&message);
        assert_eq!(
            parse_send(stored.as_object().unwrap()).unwrap(),
            message,
            "{stored}"
        );
    }
}

#[test]
fn lenient_input_is_read_as_meant() {
    let message = parse(json!({"type": "CTA_URL", "body": "Check out", "action": {"parameters": {"displayText": "Go", "url": "[https://x.test/cart](https://x.test/cart)"}}})).unwrap();
    assert_eq!(message.body.as_deref(), Some("Check out"));
    assert_eq!(
        message.action,
        InteractiveAction::CtaUrl {
            display_text: "Go".into(),
            url: "https://x.test/cart".into()
        }
    );
    let message = parse(json!({"type": "button", "body": {"text": "x"}, "action": {"buttons": [{"reply": {"id": 7, "title": "Seven"}}]}})).unwrap();
    assert!(
        matches!(&message.action, InteractiveAction::ReplyButtons(b) if b[0].id == "7"),
        "{message:?}"
    );
    let message = parse(json!({"type": "voice_call", "body": {"text": "x"}})).unwrap();
    assert_eq!(
        message.action,
        InteractiveAction::VoiceCall {
            display_text: "Call Now".into(),
            ttl_minutes: 10_080,
            payload: None
        }
    );
    let message = parse(json!({"type": "flow", "body": {"text": "x"}, "action": {"parameters": {"flow_id": "1", "flow_cta": "Go", "flow_action": "DATA_EXCHANGE"}}})).unwrap();
    assert!(
        matches!(&message.action, InteractiveAction::Flow(f) if f.mode == FlowMode::DataExchange)
    );
    let message = parse(json!({"type": "button", "header": {"type": "document", "document": {"link": "https://x.test/a.pdf", "filename": "a.pdf", "caption": "dropped"}}, "body": {"text": "x"}, "action": {"buttons": buttons(1)}})).unwrap();
    assert_eq!(
        message.header,
        Some(InteractiveHeader::Media {
            kind: parley_channels::MediaKind::Document,
            link: Some("https://x.test/a.pdf".into()),
            id: None,
            filename: Some("a.pdf".into())
        })
    );
}

#[test]
fn a_missing_interactive_object_is_missed_content() {
    let err = parse_send(json!({"text": "x"}).as_object().unwrap()).unwrap_err();
    assert!(
        matches!(err, Error::Invalid { code, .. } if code.code() == 3004),
        "{err:?}"
    );
}

#[test]
fn log_summaries_join_header_body_and_footer() {
    let message = parse(json!({"type": "button", "header": {"type": "text", "text": "Hi"}, "body": {"text": "Pick"}, "footer": {"text": "Thanks"}, "action": {"buttons": buttons(1)}})).unwrap();
    assert_eq!(
        summary(&to_json(&message)).as_deref(),
        Some("Hi\nPick\nThanks")
    );
}

const INTERACTIVE_KEYS: &[&str] = &[
    "type",
    "header",
    "body",
    "footer",
    "action",
    "text",
    "buttons",
    "reply",
    "id",
    "title",
    "button",
    "sections",
    "rows",
    "description",
    "parameters",
    "display_text",
    "url",
    "flowId",
    "flowCta",
    "flowAction",
    "flowActionPayload",
    "data",
    "screen",
    "catalog_id",
    "product_items",
    "product_retailer_id",
    "ttlMinutes",
    "image",
    "link",
];

fn interactive_type() -> impl Strategy<Value = &'static str> {
    proptest::sample::select(parley_channels::interactive::INTERACTIVE_TYPES)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn the_validator_never_panics(content in crate::input::fuzz::arbitrary_json(INTERACTIVE_KEYS, 5)) {
        if let Some(content) = content.as_object() {
            let _ = parse_send(content);
        }
    }

    /// Interactive-shaped input with random pieces, so fuzzing reaches the limit checks;
    /// whatever is accepted must survive storage unchanged.
    #[test]
    fn interactive_shaped_input_never_panics_and_round_trips(
        kind in interactive_type(),
        text in "[a-z {}0-9 ]{0,30}",
        count in 0usize..13,
        action in crate::input::fuzz::arbitrary_json(INTERACTIVE_KEYS, 2),
    ) {
        let items: Vec<Value> = (0..count).map(|i| json!({"type": "reply", "reply": {"id": format!("{text}{i}"), "title": text}, "id": i, "title": text, "product_retailer_id": text})).collect();
        let payload = json!({"interactive": {
            "type": kind,
            "header": {"type": "text", "text": text},
            "body": {"text": text},
            "action": {"buttons": items, "button": text, "sections": [{"title": text, "rows": items, "product_items": items}], "parameters": action, "catalog_id": text, "product_retailer_id": text, "name": "send_location"},
        }});
        if let Ok(message) = parse_send(payload.as_object().unwrap()) {
            let stored = to_json(&message);
            prop_assert_eq!(parse_send(stored.as_object().unwrap()).unwrap(), message);
        }
    }
}
