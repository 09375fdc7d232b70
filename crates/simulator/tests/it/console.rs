//! What the web console relies on: live events for every change of a chat or a template,
//! fault injection into the business's sends, the phones' block state, and carousel
//! cards drawn and tapped on the phone.

use std::time::Instant;

use chrono::Duration;
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{WABA, number, phone_event, spawn_sim, templates_event, user};

#[tokio::test]
async fn the_console_hears_of_every_change_to_a_chat_and_to_the_templates() {
    let app = spawn_sim(1).await;
    let mut events = app.events().await;

    app.approved_template("news").await;
    assert_eq!(
        events.take(2).await,
        [templates_event(), templates_event()],
        "submitted, then approved"
    );

    let who = user(1);
    let wamid = app.send_template("pn-1", &who, "news").await;
    assert_eq!(
        events.next().await,
        phone_event(&who),
        "the message arrived"
    );
    app.advance(Duration::seconds(2));
    app.sim.run_once().await;
    assert_eq!(
        events.next().await,
        phone_event(&who),
        "delivered: two ticks"
    );
    let (status, _) = app
        .post(&format!("/api/phones/{who}/read"), json!({}))
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(events.next().await, phone_event(&who), "the user read it");
    app.sim.run_once().await;
    assert_eq!(events.next().await, phone_event(&who), "blue ticks");
    assert_eq!(app.chat(&who).await[0]["status"], "read", "{wamid}");

    app.user_writes(&who, "pn-1").await;
    assert_eq!(events.next().await, phone_event(&who), "the user wrote");
    let (status, _) = app
        .post(&format!("/api/phones/{who}/block"), json!({}))
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        events.take(2).await,
        [phone_event(&who), templates_event()],
        "the user blocked; the number, now RED, paused the template they got"
    );
    assert_eq!(app.template_status("news").await, "PAUSED");
    let (_, unblocked) = app.delete(&format!("/api/phones/{who}/block")).await;
    assert_eq!(unblocked["unblocked"], true);
    assert_eq!(events.next().await, phone_event(&who), "and unblocked");

    // Review when the clock passes review_after, with no request.
    let (status, created) = app
        .post(
            &format!("/graph/v21.0/{WABA}/message_templates"),
            json!({"name": "later", "language": "en_US", "category": "UTILITY",
                   "components": [{"type": "BODY", "text": "Your order shipped"}]}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{created}");
    assert_eq!(events.next().await, templates_event(), "submitted");
    app.advance(Duration::seconds(5));
    app.sim.run_once().await;
    assert_eq!(events.next().await, templates_event(), "reviewed");
    assert_eq!(app.template_status("later").await, "APPROVED");
    let (status, _) = app
        .graph_delete(&format!("/graph/v21.0/{WABA}/message_templates?name=later"))
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(events.next().await, templates_event(), "deleted");
}

#[tokio::test]
async fn closing_the_events_ends_every_stream_so_a_server_can_stop() {
    let app = spawn_sim(1).await;
    let mut open = app.events().await;
    app.sim.close_events();
    assert!(open.ended().await, "an open stream ends");
    let mut later = app.events().await;
    assert!(later.ended().await, "and a new one at once");
}

/// Puts `faults`, checking the answer is what was set.
async fn set_faults(app: &crate::helpers::TestSim, faults: Value) {
    let (status, answer) = app.put("/api/faults", faults.clone()).await;
    assert_eq!((status, answer), (StatusCode::OK, faults.clone()));
    assert_eq!(app.get("/api/faults").await, faults);
}

fn text(body: &str) -> Value {
    json!({"type": "text", "text": {"body": body}})
}

#[tokio::test]
async fn faults_fail_every_send_or_none_with_the_chosen_meta_error() {
    let app = spawn_sim(1).await;
    assert_eq!(
        app.get("/api/faults").await,
        json!({"failurePercent": 0, "errorCode": 131000, "extraLatencyMs": 0})
    );
    for n in 0..10 {
        app.user_writes(&user(n), "pn-1").await;
    }

    // Meta refuses the request for a transient error: Graph's error object, nothing sent.
    set_faults(
        &app,
        json!({"failurePercent": 100, "errorCode": 131000, "extraLatencyMs": 0}),
    )
    .await;
    for n in 0..10 {
        let (status, answer) = app.send("pn-1", &user(n), text("hi")).await;
        assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR, "{answer}");
        assert_eq!(answer["error"]["code"], 131000);
        assert_eq!(answer["error"]["message"], "(#131000) Something went wrong");
        assert_eq!(answer["error"]["type"], "OAuthException");
        assert_eq!(
            answer["error"]["error_data"]["messaging_product"],
            "whatsapp"
        );
    }
    assert!(app.send_codes().await.is_empty(), "none was accepted");

    // A policy failure Meta reports by receipt: accepted, then `failed`.
    set_faults(
        &app,
        json!({"failurePercent": 100, "errorCode": 131049, "extraLatencyMs": 0}),
    )
    .await;
    for n in 0..10 {
        let (status, sent) = app.send("pn-1", &user(n), text("hi")).await;
        assert_eq!(status, StatusCode::OK, "{sent}");
        let wamid = sent["messages"][0]["id"].as_str().unwrap();
        assert_eq!(app.code_of(wamid).await, 131049);
        let receipt = app.failed_receipt(wamid).await;
        assert_eq!(receipt["errors"][0]["code"], 131049);
        assert_eq!(app.chat(&user(n)).await.len(), 1, "only the user's message");
    }

    set_faults(
        &app,
        json!({"failurePercent": 0, "errorCode": 131049, "extraLatencyMs": 0}),
    )
    .await;
    for n in 0..10 {
        let wamid = app.send_text("pn-1", &user(n), "hi").await;
        assert_eq!(app.code_of(&wamid).await, 0, "went through");
    }
}

#[tokio::test]
async fn a_share_of_sends_fails_and_the_rest_go_through() {
    let app = spawn_sim(1).await;
    for n in 0..40 {
        app.user_writes(&user(n), "pn-1").await;
    }
    set_faults(
        &app,
        json!({"failurePercent": 50, "errorCode": 131026, "extraLatencyMs": 0}),
    )
    .await;
    let mut codes = Vec::new();
    for n in 0..40 {
        let wamid = app.send_text("pn-1", &user(n), "hi").await;
        codes.push(app.code_of(&wamid).await);
    }
    let failed = codes.iter().filter(|c| **c == 131026).count();
    assert_eq!(failed + codes.iter().filter(|c| **c == 0).count(), 40);
    assert!((5..=35).contains(&failed), "{failed} of 40 failed");
}

#[tokio::test]
async fn extra_latency_slows_every_answer_of_the_messages_endpoint() {
    let app = spawn_sim(1).await;
    app.user_writes(&user(1), "pn-1").await;
    set_faults(
        &app,
        json!({"failurePercent": 0, "errorCode": 131000, "extraLatencyMs": 50}),
    )
    .await;
    let started = Instant::now();
    app.send_text("pn-1", &user(1), "hi").await;
    assert!(started.elapsed() >= std::time::Duration::from_millis(50));
}

#[tokio::test]
async fn fault_settings_out_of_range_or_unknown_are_refused_and_change_nothing() {
    let app = spawn_sim(1).await;
    let ok = json!({"failurePercent": 10, "errorCode": 368, "extraLatencyMs": 60000});
    set_faults(&app, ok.clone()).await;
    let bad = [
        json!({"failurePercent": 101, "errorCode": 131000, "extraLatencyMs": 0}),
        json!({"failurePercent": -1, "errorCode": 131000, "extraLatencyMs": 0}),
        json!({"failurePercent": 12.5, "errorCode": 131000, "extraLatencyMs": 0}),
        json!({"failurePercent": "50", "errorCode": 131000, "extraLatencyMs": 0}),
        json!({"failurePercent": 50, "errorCode": 12345, "extraLatencyMs": 0}),
        json!({"failurePercent": 50, "errorCode": 131000, "extraLatencyMs": 60001}),
        json!({"failurePercent": 50, "errorCode": 131000}),
        json!([]),
    ];
    for body in bad {
        let (status, answer) = app.put("/api/faults", body.clone()).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
        assert!(
            answer["error"].as_str().is_some_and(|e| !e.is_empty()),
            "{answer}"
        );
    }
    let (status, answer) = app.put("/api/faults", json!({"errorCode": 1})).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(
        answer["error"],
        "failurePercent must be a whole number from 0 to 100"
    );
    let (status, answer) = app
        .put(
            "/api/faults",
            json!({"failurePercent": 0, "errorCode": 1, "extraLatencyMs": 0}),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(
        answer["error"]
            .as_str()
            .unwrap()
            .starts_with("errorCode must be one of Meta's error codes 131000, 131026"),
        "{answer}"
    );
    let (status, answer) = app.put_raw("/api/faults", "not json").await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{answer}");
    assert_eq!(app.get("/api/faults").await, ok, "unchanged");
}

#[tokio::test]
async fn the_phone_list_shows_which_businesses_a_user_blocked() {
    let app = spawn_sim(2).await;
    for n in 1..=2 {
        app.user_writes(&user(n), "pn-1").await;
        app.send_text("pn-1", &user(n), "hello").await;
    }
    let blocked = |phones: &Value, who: &str| {
        let phone = phones["phones"]
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["msisdn"] == who)
            .cloned()
            .unwrap();
        (phone["blocked"].clone(), phone["blockedBusinesses"].clone())
    };
    let phones = app.get("/api/phones").await;
    assert_eq!(blocked(&phones, &user(1)), (json!(false), json!([])));

    let (status, _) = app
        .post(
            &format!("/api/phones/{}/block", user(1)),
            json!({"channelId": number(1).1}),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let phones = app.get("/api/phones").await;
    assert_eq!(blocked(&phones, &user(1)), (json!(true), json!(["pn-1"])));
    assert_eq!(
        blocked(&phones, &user(2)),
        (json!(false), json!([])),
        "only the blocker"
    );

    let (status, _) = app.delete(&format!("/api/phones/{}/block", user(1))).await;
    assert_eq!(status, StatusCode::OK);
    let phones = app.get("/api/phones").await;
    assert_eq!(blocked(&phones, &user(1)), (json!(false), json!([])));
}

/// A card of the `shoes` carousel: an image, a body with one value, a quick reply and a
/// URL button.
fn card(body: &str, quick_reply: &str) -> Value {
    json!({"components": [
        {"type": "HEADER", "format": "IMAGE", "example": {"header_handle": ["https://x.test/a.png"]}},
        {"type": "BODY", "text": body, "example": {"body_text": [["A"]]}},
        {"type": "BUTTONS", "buttons": [
            {"type": "QUICK_REPLY", "text": quick_reply},
            {"type": "URL", "text": "Buy", "url": "https://shop.test/{{1}}", "example": ["a"]}]}
    ]})
}

/// The send's parameters for card `index`.
fn card_send(index: u8, image: &str, value: &str, payload: &str) -> Value {
    json!({"card_index": index, "components": [
        {"type": "header", "parameters": [{"type": "image", "image": {"link": image}}]},
        {"type": "body", "parameters": [{"type": "text", "text": value}]},
        {"type": "button", "sub_type": "quick_reply", "index": "0",
         "parameters": [{"type": "payload", "payload": payload}]},
        {"type": "button", "sub_type": "url", "index": "1",
         "parameters": [{"type": "text", "text": value}]}
    ]})
}

#[tokio::test]
async fn a_carousel_shows_its_cards_and_a_card_quick_reply_answers_with_its_payload() {
    let app = spawn_sim(1).await;
    let (status, created) = app
        .post(
            &format!("/graph/v21.0/{WABA}/message_templates"),
            json!({"name": "shoes", "language": "en_US", "category": "MARKETING", "components": [
                {"type": "BODY", "text": "Our picks for you"},
                {"type": "CAROUSEL", "cards": [card("Runner {{1}}", "More like this"),
                                               card("Walker {{1}}", "Not for me")]}]}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{created}");
    app.template_action(
        created["id"].as_str().unwrap(),
        json!({"action": "approve"}),
    )
    .await;
    let who = user(1);
    let (status, sent) = app
        .send(
            "pn-1",
            &who,
            json!({"type": "template", "template": {"name": "shoes", "language": {"code": "en_US"},
                "components": [{"type": "carousel", "cards": [
                    card_send(0, "https://cdn.test/runner.png", "X1", "more-runner"),
                    card_send(1, "https://cdn.test/walker.png", "W2", "not-walker")]}]}}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{sent}");
    let wamid = sent["messages"][0]["id"].as_str().unwrap().to_owned();

    let chat = app.chat(&who).await;
    let cards = &chat[0]["message"]["cards"];
    assert_eq!(cards[0]["card_index"], 0);
    assert_eq!(
        cards[1]["rendered"],
        json!({
            "header": {"type": "image", "url": "https://cdn.test/walker.png"},
            "body": "Walker W2",
            "buttons": [
                {"index": 0, "type": "QUICK_REPLY", "text": "Not for me",
                 "parameter": {"type": "payload", "payload": "not-walker"}},
                {"index": 1, "type": "URL", "text": "Buy",
                 "parameter": {"type": "text", "text": "W2"}}]
        })
    );
    assert_eq!(cards[0]["rendered"]["body"], "Runner X1");
    assert_eq!(
        cards[0]["header"]["url"], "https://cdn.test/runner.png",
        "the send's parameters stay as they were"
    );

    let tap_path = format!("/api/phones/{who}/tap");
    let tap = |body: Value| app.post(&tap_path, body);
    let (status, answer) = tap(json!({"messageId": wamid, "index": 0})).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "which card? {answer}");
    let (status, answer) = tap(json!({"messageId": wamid, "cardIndex": 1, "index": 1})).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "a URL button: {answer}");
    let (status, answer) = tap(json!({"messageId": wamid, "cardIndex": 1, "index": 0})).await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    assert_eq!(answer["type"], "button");

    let received = app.user_messages().await;
    let reply = received.last().unwrap();
    assert_eq!(reply["type"], "button");
    assert_eq!(
        reply["button"],
        json!({"payload": "not-walker", "text": "Not for me"})
    );
    assert_eq!(
        reply["context"],
        json!({"from": number(1).1.trim_start_matches('+'), "id": wamid})
    );
    assert_eq!(reply["from"], who.trim_start_matches('+'));
}

#[test]
fn the_console_routes_are_documented() {
    let doc = parley_simulator::openapi();
    for path in ["/sim/api/events", "/sim/api/faults"] {
        assert!(doc.paths.paths.contains_key(path), "{path}");
    }
    let faults = &doc.paths.paths["/sim/api/faults"];
    assert!(faults.get.is_some() && faults.put.is_some());
}
