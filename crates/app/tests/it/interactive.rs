//! Interactive messages end to end: sent through the 8x8 API inside the customer-service
//! window, shown on the simulated phone, and answered there (reply buttons, list rows,
//! location and call-permission requests, Flows), each answer arriving as 8x8 delivers it.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{TestApp, seed_files};

const USER: &str = "+15552340002";

/// The user writes first, so the business may answer with free-form messages.
async fn open_window(app: &TestApp, msisdn: &str) {
    app.phone_sends(msisdn, json!({"type": "text", "content": {"text": "Hi"}}))
        .await;
    app.settle().await;
}

fn interactive(interactive: Value) -> Value {
    json!({"user": {"msisdn": USER}, "type": "interactive", "content": {"interactive": interactive}})
}

/// Sends, delivers, and returns the umid and the phone's bubble for it.
async fn send_delivered(app: &TestApp, body: Value) -> (String, Value) {
    let (status, answer) = app.send(body.clone()).await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    let umid = answer["umid"].as_str().unwrap().to_owned();
    app.settle().await;
    let details = app.details(&umid).await;
    assert_eq!(details["status"]["state"], "delivered", "{details:#}");
    let wamid = app.stored(&umid).await.provider_message_id.expect("wamid");
    let msisdn = body["user"]["msisdn"].as_str().unwrap();
    let bubble = app
        .phone(msisdn)
        .await
        .into_iter()
        .find(|m| m["id"] == wamid)
        .expect("the phone shows the message");
    (umid, bubble)
}

/// The user answers `bubble` on the phone; the answer as Parley stored it, if the answer
/// was a message to the business.
async fn answer(
    app: &TestApp,
    bubble: &Value,
    answer: Value,
) -> (Value, Option<parley_store::Message>) {
    let mut body = answer;
    body["messageId"] = bubble["id"].clone();
    let reply = app
        .control(&format!("/sim/api/phones/{USER}/tap"), body)
        .await;
    app.settle().await;
    let Some(wamid) = reply["id"].as_str() else {
        return (reply, None);
    };
    for message in app.conversation(USER).await {
        let stored = app.stored(message["umid"].as_str().unwrap()).await;
        if stored.provider_message_id.as_deref() == Some(wamid) {
            return (reply, Some(stored));
        }
    }
    panic!("the answer {wamid} did not arrive");
}

/// The stored answer of [`answer`], which must be a message to the business.
async fn answered(app: &TestApp, bubble: &Value, body: Value) -> parley_store::Message {
    answer(app, bubble, body)
        .await
        .1
        .expect("a message to the business")
}

async fn every_seed_interactive_send_is_delivered_and_shown_on_the_phone(app: TestApp) {
    let sends: Vec<(String, Value)> = seed_files("sends")
        .into_iter()
        .filter(|(_, body)| body["type"] == "interactive")
        .collect();
    assert_eq!(sends.len(), 6, "the seeds hold six interactive sends");
    for (_, body) in &sends {
        open_window(&app, body["user"]["msisdn"].as_str().unwrap()).await;
    }
    for (file, body) in sends {
        let (umid, bubble) = send_delivered(&app, body.clone()).await;
        let sent = &body["content"]["interactive"];
        assert_eq!(bubble["type"], "interactive", "{file}");
        assert_eq!(bubble["message"]["type"], sent["type"], "{file}");
        assert_eq!(
            bubble["message"]["body"]["text"], sent["body"]["text"],
            "{file}"
        );
        let details = app.details(&umid).await;
        assert_eq!(details["contentType"], "Interactive", "{file}");
        let shown = details["content"].as_str().unwrap();
        assert!(
            shown.contains(sent["body"]["text"].as_str().unwrap()),
            "{file}: the log shows the body: {shown}"
        );
    }
    // The seed's Markdown-wrapped checkout link reaches the phone as a plain URL.
    let chat = app.phone("+15551234567").await;
    let cta = chat
        .iter()
        .find(|m| m["message"]["type"] == "cta_url")
        .expect("the cta_url message");
    assert_eq!(
        cta["message"]["action"]["parameters"]["url"],
        "https://your-store.com/checkout/cart/a1b2c3d4e5"
    );
}

async fn the_seed_reply_button_answer_arrives_as_8x8_documents_it(app: TestApp) {
    let (_, send) = seed_files("sends")
        .into_iter()
        .find(|(file, _)| file.starts_with("21_"))
        .unwrap();
    let (_, documented) = seed_files("inbound")
        .into_iter()
        .find(|(file, _)| file.starts_with("05_"))
        .unwrap();
    let msisdn = send["user"]["msisdn"].as_str().unwrap();
    open_window(&app, msisdn).await;
    let (umid, bubble) = send_delivered(&app, send.clone()).await;
    app.control(
        &format!("/sim/api/phones/{msisdn}/tap"),
        json!({"messageId": bubble["id"], "index": 0}),
    )
    .await;
    app.settle().await;
    let conversation = app.conversation(msisdn).await;
    let reply = conversation
        .iter()
        .filter(|m| m["direction"] == "inbound")
        .find(|m| m["contentType"] == "Interactive")
        .expect("the answer arrived");
    let stored = app.stored(reply["umid"].as_str().unwrap()).await;
    assert_eq!(stored.content_type, documented["payload"]["type"]);
    assert_eq!(stored.content, documented["payload"]["content"]);
    assert_eq!(stored.reply_to.map(|u| u.to_string()), Some(umid));
}

async fn a_tapped_button_and_a_picked_row_arrive_with_reply_to_umid(app: TestApp) {
    open_window(&app, USER).await;
    let (buttons_umid, buttons) = send_delivered(
        &app,
        interactive(
            json!({"type": "button", "body": {"text": "Which?"}, "action": {"buttons": [
            {"type": "reply", "reply": {"id": "opt-1", "title": "FAQ"}},
            {"type": "reply", "reply": {"id": "opt-2", "title": "Agent"}}]}}),
        ),
    )
    .await;
    let reply = answered(&app, &buttons, json!({"index": 1})).await;
    assert_eq!(reply.content_type, "Interactive");
    assert_eq!(
        reply.content,
        json!({"interactive": {"type": "button_reply", "button_reply": {"id": "opt-2", "title": "Agent"}}})
    );
    assert_eq!(
        reply.reply_to.map(|u| u.to_string()),
        Some(buttons_umid.clone())
    );
    let logged = app.details(&reply.umid.to_string()).await;
    assert_eq!(logged["contentType"], "Interactive");
    assert_eq!(logged["content"], "Agent", "the log shows the label tapped");
    assert_eq!(logged["replyToUmid"], buttons_umid.as_str(), "{logged}");
    assert_eq!(logged["contentObject"], reply.content);
    let sent = app.details(&buttons_umid).await;
    let states: Vec<&str> = sent["statusHistory"]
        .as_array()
        .expect("statusHistory")
        .iter()
        .map(|s| s["state"].as_str().unwrap())
        .collect();
    assert_eq!(
        states,
        ["queued", "sent", "delivered"],
        "oldest first: {sent}"
    );
    assert!(sent.get("replyToUmid").is_none());

    let (list_umid, list) = send_delivered(
        &app,
        interactive(json!({"type": "list", "header": {"type": "text", "text": "Slots"},
            "body": {"text": "Pick a slot"}, "action": {"button": "Choose", "sections": [
            {"title": "Today", "rows": [{"id": "t-1", "title": "10:00", "description": "Morning"}]},
            {"title": "Tomorrow", "rows": [{"id": "m-1", "title": "14:00", "description": "Afternoon"}]}]}})),
    )
    .await;
    let reply = answered(&app, &list, json!({"rowId": "m-1"})).await;
    assert_eq!(
        reply.content,
        json!({"interactive": {"type": "list_reply", "list_reply": {"id": "m-1", "title": "14:00", "description": "Afternoon"}}})
    );
    assert_eq!(reply.reply_to.map(|u| u.to_string()), Some(list_umid));
}

async fn location_call_permission_and_flow_answers_arrive_as_8x8_documents_them(app: TestApp) {
    open_window(&app, USER).await;
    let (umid, request) = send_delivered(
        &app,
        interactive(json!({"type": "location_request_message", "body": {"text": "Where should we deliver?"}, "action": {"name": "send_location"}})),
    )
    .await;
    let reply = answered(
        &app,
        &request,
        json!({"location": {"latitude": 1.2834, "longitude": 103.8607, "name": "Marina Bay"}}),
    )
    .await;
    assert_eq!(reply.content_type, "Location");
    assert_eq!(reply.content["location"]["latitude"], 1.2834);
    assert_eq!(reply.reply_to.map(|u| u.to_string()), Some(umid));

    let (_, request) = send_delivered(
        &app,
        interactive(
            json!({"type": "call_permission_request", "body": {"text": "May we call you?"}}),
        ),
    )
    .await;
    let reply = answered(&app, &request, json!({"callPermission": "accept"})).await;
    let permission = &reply.content["interactive"];
    assert_eq!(permission["type"], "callPermissionReply");
    assert_eq!(permission["callPermissionReply"]["response"], "accept");
    assert_eq!(permission["callPermissionReply"]["isPermanent"], false);
    assert_eq!(
        permission["callPermissionReply"]["responseSource"],
        "user_action"
    );
    assert!(
        permission["callPermissionReply"]["expirationTimestamp"].is_string(),
        "a temporary permission ends: {permission}"
    );

    let (flow_umid, flow) = send_delivered(
        &app,
        interactive(json!({"type": "flow", "body": {"text": "Book a table"}, "action": {"parameters": {
            "flowId": "859504979861628", "flowCta": "Book", "flowActionPayload": {"screen": "BOOKING", "data": {"party": 2}}}}})),
    )
    .await;
    assert_eq!(
        flow["message"]["action"]["parameters"]["flow_action_payload"]["screen"], "BOOKING",
        "the adapter writes Graph's snake_case"
    );
    let reply = answered(
        &app,
        &flow,
        json!({"flowResponse": {"guests": "2", "time": "19:00"}}),
    )
    .await;
    let nfm = &reply.content["interactive"];
    assert_eq!(nfm["type"], "nfmReply");
    let response: Value =
        serde_json::from_str(nfm["nfmReply"]["responseJson"].as_str().expect("a string"))
            .expect("JSON inside");
    assert_eq!(response["time"], "19:00");
    assert_eq!(reply.reply_to.map(|u| u.to_string()), Some(flow_umid));
}

async fn pressing_a_call_to_action_opens_the_page_without_writing_to_the_business(app: TestApp) {
    open_window(&app, USER).await;
    let (_, cta) = send_delivered(
        &app,
        interactive(json!({"type": "cta_url", "body": {"text": "Your cart"}, "action": {"parameters": {"display_text": "Check out", "url": "https://shop.test/cart"}}})),
    )
    .await;
    let before = app.conversation(USER).await.len();
    let (opened, message) = answer(&app, &cta, json!({"index": 0})).await;
    assert!(message.is_none());
    assert_eq!(opened["opened"], "https://shop.test/cart");
    assert_eq!(app.conversation(USER).await.len(), before);
}

async fn interactive_outside_the_window_is_undelivered_with_1022(app: TestApp) {
    let (status, answer) = app
        .send(interactive(json!({"type": "button", "body": {"text": "Still there?"}, "action": {"buttons": [{"type": "reply", "reply": {"id": "y", "title": "Yes"}}]}})))
        .await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    let umid = answer["umid"].as_str().unwrap();
    app.settle().await;
    let details = app.details(umid).await;
    assert_eq!(details["status"]["state"], "undelivered", "{details:#}");
    assert_eq!(details["status"]["errorCode"], 1022);
    assert!(
        app.phone(USER).await.is_empty(),
        "nothing reached the phone"
    );
}

async fn a_broken_limit_is_refused_naming_the_field(app: TestApp) {
    let (status, answer) = app
        .send(interactive(json!({"type": "list", "body": {"text": "Pick"}, "action": {"button": "Open", "sections": [
            {"title": "A", "rows": [{"id": "a", "title": "This row title is far too long"}]}]}})))
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(answer["code"], 3006, "{answer}");
    assert!(
        answer["message"]
            .as_str()
            .unwrap()
            .contains("'content.interactive.action.sections[0].rows[0].title'"),
        "{answer}"
    );
}

crate::on_both_backends!(
    every_seed_interactive_send_is_delivered_and_shown_on_the_phone,
    the_seed_reply_button_answer_arrives_as_8x8_documents_it,
    a_tapped_button_and_a_picked_row_arrive_with_reply_to_umid,
    location_call_permission_and_flow_answers_arrive_as_8x8_documents_them,
    pressing_a_call_to_action_opens_the_page_without_writing_to_the_business,
    interactive_outside_the_window_is_undelivered_with_1022,
    a_broken_limit_is_refused_naming_the_field,
);
