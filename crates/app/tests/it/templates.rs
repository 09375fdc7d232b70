//! Templates end to end: created through the 8x8 API, reviewed by the simulator, sent,
//! and answered from the phone; every seed payload of 8x8's documentation included.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{TestApp, seed_files};
use crate::media_host::MediaHost;

const USER: &str = "+15552340001";

/// Runs review (due after the configured delay) and delivers its webhooks.
async fn review(app: &TestApp) {
    app.advance(6).await;
    app.settle().await;
}

fn find<'a>(templates: &'a [Value], name: &str) -> &'a Value {
    templates
        .iter()
        .find(|t| t["templateName"] == name)
        .unwrap_or_else(|| panic!("{name} is listed"))
}

async fn every_seed_template_is_accepted_reviewed_sent_and_shown_on_the_phone(app: TestApp) {
    for (file, body) in seed_files("templates") {
        let (status, answer) = app.create_template(&body).await;
        assert_eq!(status, StatusCode::OK, "{file}: {answer}");
        assert_eq!(answer, json!({}));
    }
    let pending = app.templates().await;
    assert!(
        pending.iter().all(|t| t["status"] == "PENDING"),
        "{pending:#?}"
    );
    review(&app).await;
    let reviewed = app.templates().await;
    for t in &reviewed {
        assert_eq!(t["status"], "APPROVED", "{t:#}");
    }
    let sends: Vec<(String, Value)> = seed_files("sends")
        .into_iter()
        .filter(|(_, body)| {
            body["type"]
                .as_str()
                .is_some_and(|t| t.eq_ignore_ascii_case("template"))
        })
        .collect();
    assert_eq!(sends.len(), 9, "the seeds hold nine template sends");
    let mut sent = Vec::new();
    // The seeds' header media live on example hosts; the customer's server here serves them.
    let host = MediaHost::start().await;
    for (file, mut body) in sends {
        host.localise_all(&mut body);
        let (status, answer) = app.send(body.clone()).await;
        assert_eq!(status, StatusCode::OK, "{file}: {answer}");
        sent.push((file, body, answer["umid"].as_str().unwrap().to_owned()));
    }
    app.settle().await;
    for (file, body, umid) in sent {
        let details = app.details(&umid).await;
        assert_eq!(
            details["status"]["state"], "delivered",
            "{file}: {details:#}"
        );
        let msisdn = body["user"]["msisdn"].as_str().unwrap();
        let chat = app.phone(msisdn).await;
        let name = &body["content"]["template"]["name"];
        let bubble = chat
            .iter()
            .find(|m| m["type"] == "template" && &m["message"]["name"] == name)
            .unwrap_or_else(|| panic!("{file}: the phone shows {name}: {chat:#?}"));
        let shown = bubble["message"]["body"].as_str().unwrap();
        assert!(
            !shown.contains("{{"),
            "{file}: placeholders filled in: {shown}"
        );
        // What the user saw is kept with the message.
        assert_eq!(details["content"], shown, "{file}");
    }
}

fn order_template() -> Value {
    json!({
        "name": "order_update", "language": "en_US", "category": "utility",
        "components": [
            {"type": "header", "format": "text", "text": "Order {{1}}", "examples": ["A-1"]},
            {"type": "body", "text": "Hi {{1}}, your order is {{2}} today.", "examples": ["Ana", "arriving"]},
            {"type": "footer", "text": "Reply STOP to opt out"},
            {"type": "buttons", "buttons": [
                {"type": "quick_reply", "text": "Thanks"},
                {"type": "quick_reply", "text": "Call me"},
                {"type": "url", "text": "Track", "url": "https://shop.test/track/{{1}}", "example": ["A-1"]}
            ]}
        ]
    })
}

fn order_send() -> Value {
    json!({"user": {"msisdn": USER}, "type": "Template", "content": {"template": {
    "name": "order_update", "language": "en_US", "components": [
        {"type": "header", "parameters": [{"type": "text", "text": "B-7"}]},
        {"type": "body", "parameters": [{"type": "text", "text": "Jo"}, {"type": "text", "text": "out for delivery"}]},
        {"type": "Button", "index": "1", "subType": "quickReply", "parameters": [{"type": "payload", "payload": "CALL-B-7"}]},
        {"type": "button", "index": 2, "subType": "url", "parameters": [{"type": "text", "text": "B-7"}]}
    ]}}})
}

async fn a_template_is_approved_sent_with_parameters_and_its_quick_reply_comes_back(app: TestApp) {
    let (status, answer) = app.create_template(&order_template()).await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    let (status, early) = app.send(order_send()).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "not approved yet");
    assert_eq!(early["code"], 3038);
    let id = app.simulator_template_id("order_update", "en_US").await;
    app.control(
        &format!("/sim/api/templates/{id}/actions"),
        json!({"action": "approve"}),
    )
    .await;
    app.settle().await;
    assert_eq!(
        find(&app.templates().await, "order_update")["status"],
        "APPROVED"
    );

    let (status, sent) = app.send(order_send()).await;
    assert_eq!(status, StatusCode::OK, "{sent}");
    let umid = sent["umid"].as_str().unwrap().to_owned();
    app.settle().await;
    let details = app.details(&umid).await;
    assert_eq!(details["status"]["state"], "delivered", "{details:#}");
    assert_eq!(
        details["content"],
        "Hi Jo, your order is out for delivery today."
    );
    assert_eq!(details["contentType"], "Template");
    let chat = app.phone(USER).await;
    let bubble = &chat[0];
    assert_eq!(bubble["message"]["header"]["text"], "Order B-7");
    assert_eq!(bubble["message"]["footer"], "Reply STOP to opt out");
    let labels: Vec<&str> = bubble["message"]["buttons"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b["text"].as_str().unwrap())
        .collect();
    assert_eq!(labels, ["Thanks", "Call me", "Track"]);

    // The user taps "Call me": it arrives with the payload and points at the template.
    let wamid = bubble["id"].as_str().unwrap();
    app.control(
        &format!("/sim/api/phones/{USER}/tap"),
        json!({"messageId": wamid, "index": 1}),
    )
    .await;
    app.settle().await;
    let conversation = app.conversation(USER).await;
    // Meta's timestamps have whole seconds: find the reply by direction, not position.
    let inbound = conversation
        .iter()
        .find(|m| m["direction"] == "inbound")
        .expect("the tap arrived");
    assert_eq!(inbound["content"], "Call me");
    assert_eq!(inbound["contentType"], "Text");
    let stored = app.stored(inbound["umid"].as_str().unwrap()).await;
    assert_eq!(stored.content["payload"], "CALL-B-7", "{stored:#?}");
    assert_eq!(stored.reply_to.map(|u| u.to_string()), Some(umid.clone()));
}

async fn a_rejected_template_keeps_its_reason_and_cannot_be_sent(app: TestApp) {
    app.create_template(&order_template()).await;
    let id = app.simulator_template_id("order_update", "en_US").await;
    app.control(
        &format!("/sim/api/templates/{id}/actions"),
        json!({"action": "reject", "reason": "INVALID_FORMAT"}),
    )
    .await;
    app.settle().await;
    let listed = find(&app.templates().await, "order_update").clone();
    assert_eq!(listed["status"], "REJECTED");
    assert_eq!(listed["reason"], "INVALID_FORMAT");
    let (status, refused) = app.send(order_send()).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(refused["code"], 3038, "{refused}");
}

async fn a_paused_template_is_undelivered_with_1035(app: TestApp) {
    app.create_template(&order_template()).await;
    review(&app).await;
    let id = app.simulator_template_id("order_update", "en_US").await;
    app.control(
        &format!("/sim/api/templates/{id}/actions"),
        json!({"action": "pause"}),
    )
    .await;
    app.settle().await;
    assert_eq!(
        find(&app.templates().await, "order_update")["status"],
        "PAUSED"
    );
    let (status, sent) = app.send(order_send()).await;
    assert_eq!(
        status,
        StatusCode::OK,
        "WhatsApp decides about paused templates: {sent}"
    );
    app.settle().await;
    let details = app.details(sent["umid"].as_str().unwrap()).await;
    assert_eq!(details["status"]["state"], "undelivered", "{details:#}");
    assert_eq!(details["status"]["errorCode"], 1035);
}

async fn a_promotional_utility_template_is_recategorised_or_rejected(app: TestApp) {
    let promo = |name: &str, allow: bool| {
        json!({"name": name, "language": "en", "category": "UTILITY", "allow_category_change": allow,
               "components": [{"type": "BODY", "text": "Big sale: 20% off for {{1}} today only!", "examples": ["you"]}]})
    };
    assert_eq!(
        app.create_template(&promo("promo_a", true)).await.0,
        StatusCode::OK
    );
    assert_eq!(
        app.create_template(&promo("promo_b", false)).await.0,
        StatusCode::OK
    );
    review(&app).await;
    let listed = app.templates().await;
    let a = find(&listed, "promo_a");
    assert_eq!(
        (a["status"].as_str(), a["category"].as_str()),
        (Some("APPROVED"), Some("MARKETING"))
    );
    let b = find(&listed, "promo_b");
    assert_eq!(
        (b["status"].as_str(), b["reason"].as_str()),
        (Some("REJECTED"), Some("INCORRECT_CATEGORY"))
    );
}

async fn a_deleted_name_is_blocked_and_its_sends_fail_clearly(app: TestApp) {
    app.create_template(&order_template()).await;
    review(&app).await;
    let response = app
        .http
        .delete(format!("{}/order_update", app.templates_url()))
        .bearer_auth(&app.key)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let (status, again) = app.create_template(&order_template()).await;
    assert_eq!(
        (status, again["code"].as_u64()),
        (StatusCode::CONFLICT, Some(3060)),
        "{again}"
    );
    let (status, refused) = app.send(order_send()).await;
    assert_eq!(
        (status, refused["code"].as_u64()),
        (StatusCode::CONFLICT, Some(3060)),
        "{refused}"
    );
    assert_eq!(
        find(&app.templates().await, "order_update")["status"],
        "PENDING_DELETION"
    );
}

async fn a_text_matching_an_approved_template_is_sent_as_that_template(app: TestApp) {
    let template = json!({"name": "shipping_notice", "language": "en", "category": "UTILITY",
        "components": [{"type": "BODY", "text": "Your parcel {{1}} is on its way.", "examples": ["X1"]}]});
    app.create_template(&template).await;
    review(&app).await;
    // The user never wrote: free text would break the 24-hour rule, the template may go.
    let umid = app.send_text(USER, "Your parcel ZX-9 is on its way.").await;
    app.settle().await;
    let details = app.details(&umid).await;
    assert_eq!(details["status"]["state"], "delivered", "{details:#}");
    let chat = app.phone(USER).await;
    assert_eq!(chat[0]["type"], "template");
    assert_eq!(
        chat[0]["message"]["body"],
        "Your parcel ZX-9 is on its way."
    );
    let other = app.send_text(USER, "Your parcel is late.").await;
    app.settle().await;
    assert_eq!(
        app.details(&other).await["status"]["errorCode"],
        1022,
        "free text stays free text"
    );
}

async fn foreign_accounts_cannot_see_or_create_templates(app: TestApp) {
    let other = app.second_tenant_key().await;
    let response = app
        .http
        .post(app.templates_url())
        .bearer_auth(&other)
        .json(&order_template())
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["code"], 1300);
    assert!(app.templates().await.is_empty());
}

crate::on_both_backends!(
    every_seed_template_is_accepted_reviewed_sent_and_shown_on_the_phone,
    a_template_is_approved_sent_with_parameters_and_its_quick_reply_comes_back,
    a_rejected_template_keeps_its_reason_and_cannot_be_sent,
    a_paused_template_is_undelivered_with_1035,
    a_promotional_utility_template_is_recategorised_or_rejected,
    a_deleted_name_is_blocked_and_its_sends_fail_clearly,
    a_text_matching_an_approved_template_is_sent_as_that_template,
    foreign_accounts_cannot_see_or_create_templates,
);
