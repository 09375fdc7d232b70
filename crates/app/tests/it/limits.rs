//! WhatsApp's messaging limits and quality rating as a sender lives them: templates to
//! more new users than the portfolio's tier allows wait (and say so) instead of failing,
//! a tier upgrade reported by WhatsApp lets them go; users blocking and reporting the
//! business drop its quality, which pauses the templates involved (3 h, 6 h), then
//! disables them, with the template and number webhooks.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::helpers::{Backend, TestApp};
use crate::template_fixtures::{app_with_templates, deliver};
use crate::webhooks::Receiver;

fn user(i: usize) -> String {
    format!("+1555{:07}", 3_000_000 + i)
}

/// One template to each of `count` users (from `first`), as a batch; their umids.
async fn send_to_many(app: &TestApp, name: &str, first: usize, count: usize) -> Vec<String> {
    let messages: Vec<Value> = (first..first + count)
        .map(|i| json!({"user": {"msisdn": user(i)}}))
        .collect();
    let body = json!({
        "template": {"type": "template", "content": {"template": {"name": name, "language": "en",
            "components": [{"type": "body", "parameters": [{"type": "text", "text": "A-1"}]}]}}},
        "messages": messages,
        "includeMessagesInResponse": true,
    });
    let path = format!("/api/v1/subaccounts/{}/messages/batch", app.sub_account);
    let (status, answer) = app.api_call(Method::POST, &path, Some(body)).await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    assert_eq!(answer["acceptedCount"], count);
    answer["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["umid"].as_str().unwrap().to_owned())
        .collect()
}

/// Lets the number's throughput (80/s) take everything due: a few seconds of clock.
async fn drain(app: &TestApp) {
    for _ in 0..6 {
        app.advance(1).await;
        deliver(app).await;
    }
}

async fn states(app: &TestApp, umids: &[String]) -> Vec<String> {
    let mut states = Vec::new();
    for umid in umids {
        let details = app.details(umid).await;
        states.push(details["status"]["state"].as_str().unwrap().to_owned());
    }
    states
}

async fn limits(app: &TestApp) -> Value {
    app.get_json(&format!("/sim/api/businesses/{}/limits", app.channel))
        .await
}

async fn templates_beyond_the_messaging_limit_wait_for_an_upgrade(backend: Backend) {
    let app = app_with_templates(backend).await;
    let (receiver, url) = Receiver::start().await;
    let (status, _) = app
        .api_call(
            Method::POST,
            &format!("/api/v1/accounts/{}/webhooks", app.account),
            Some(json!([{"subAccountId": "*", "url": url, "type": "CABM"}])),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(limits(&app).await["messagingLimit"], "TIER_250");

    // A new portfolio reaches 250 users a day; the 251st and 252nd wait.
    let umids = send_to_many(&app, "order_note", 0, 252).await;
    drain(&app).await;
    let states = states(&app, &umids).await;
    let delivered = states.iter().filter(|s| *s != "queued").count();
    assert_eq!(delivered, 250, "{states:?}");
    assert!(
        states.iter().all(|s| s == "queued" || s == "read"),
        "none failed: {states:?}"
    );
    let waiting: Vec<&String> = umids
        .iter()
        .zip(&states)
        .filter(|(_, s)| *s == "queued")
        .map(|(u, _)| u)
        .collect();
    let held = app.details(waiting[0]).await;
    assert_eq!(held["hold"]["reason"], "messaging_limit", "{held}");
    assert!(held["hold"]["until"].is_string());
    assert_eq!(limits(&app).await["reach"]["last24h"], 250);
    let failures = app.get_json("/sim/api/sends").await["sends"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| s["error"].is_object() || s["status"] == "failed")
        .count();
    assert_eq!(failures, 0, "WhatsApp never had to refuse one");

    // WhatsApp upgrades the portfolio: Parley learns the tier from the webhook and the
    // held templates go at once, not a day later.
    app.control(
        &format!("/sim/api/businesses/{}/limits", app.channel),
        json!({"messagingLimit": "TIER_2K"}),
    )
    .await;
    app.settle().await;
    drain(&app).await;
    for umid in waiting {
        assert_eq!(app.details(umid).await["status"]["state"], "read");
    }
    let upgrade = receiver
        .events()
        .into_iter()
        .find(|e| e["eventType"] == "phone_number_quality_update")
        .expect("the number's upgrade reached the CABM webhook");
    assert_eq!(
        upgrade["eventDetails"]["meta"],
        json!({"event": "UPGRADE", "currentLimit": "TIER_2K", "oldLimit": "TIER_250"})
    );
}

/// The template's status in Parley's list.
async fn template_status(app: &TestApp, name: &str) -> String {
    app.templates()
        .await
        .iter()
        .find(|t| t["templateName"] == name)
        .and_then(|t| t["status"].as_str().map(str::to_owned))
        .expect("listed")
}

/// A user who got the sale blocks (or reports) the business.
async fn complains(app: &TestApp, i: usize, how: &str) -> Value {
    let answer = app
        .control(
            &format!("/sim/api/phones/{}/{how}", user(i)),
            json!({"channelId": app.channel}),
        )
        .await;
    app.settle().await;
    answer
}

async fn complaints_pause_templates_then_disable_them(backend: Backend) {
    let app = app_with_templates(backend).await;
    let (receiver, url) = Receiver::start().await;
    app.api_call(
        Method::POST,
        &format!("/api/v1/accounts/{}/webhooks", app.account),
        Some(json!([{"subAccountId": "*", "url": url, "type": "CABM"}])),
    )
    .await;
    send_to_many(&app, "spring_sale", 0, 20).await;
    drain(&app).await;
    assert_eq!(limits(&app).await["quality"], "GREEN");

    // One block in twenty users is 5 %: quality drops to low, the sale is paused.
    let answer = complains(&app, 0, "block").await;
    assert_eq!(answer["quality"], "RED", "{answer}");
    assert_eq!(template_status(&app, "spring_sale").await, "PAUSED");
    assert_eq!(
        template_status(&app, "order_note").await,
        "APPROVED",
        "not involved"
    );
    let paused = send_to_many(&app, "spring_sale", 100, 1).await;
    drain(&app).await;
    assert_eq!(app.details(&paused[0]).await["status"]["errorCode"], 1035);

    // The first pause lasts 3 hours.
    app.advance(3 * 3600).await;
    app.settle().await;
    assert_eq!(template_status(&app, "spring_sale").await, "APPROVED");
    complains(&app, 1, "report").await;
    assert_eq!(template_status(&app, "spring_sale").await, "PAUSED");
    app.advance(3 * 3600).await;
    app.settle().await;
    assert_eq!(
        template_status(&app, "spring_sale").await,
        "PAUSED",
        "the second lasts 6 h"
    );
    app.advance(3 * 3600).await;
    app.settle().await;
    assert_eq!(template_status(&app, "spring_sale").await, "APPROVED");

    // The third time it is disabled for good.
    complains(&app, 2, "block").await;
    assert_eq!(template_status(&app, "spring_sale").await, "DISABLED");
    app.advance(24 * 3600).await;
    app.settle().await;
    assert_eq!(template_status(&app, "spring_sale").await, "DISABLED");

    let events = receiver.events();
    // 8x8's shape: the pause's title and Meta's explanation under `otherInfo`, apart
    // from the rejection `reason` (NONE for a pause).
    let statuses: Vec<&Value> = events
        .iter()
        .filter(|e| e["eventType"] == "template_status_update")
        .map(|e| &e["eventDetails"]["meta"])
        .collect();
    assert!(
        statuses.iter().all(|meta| meta["reason"] == "NONE"
            && meta["otherInfo"]["description"]
                .as_str()
                .is_some_and(|d| !d.is_empty())),
        "{statuses:#?}"
    );
    let titles: Vec<Value> = statuses
        .iter()
        .map(|meta| meta["otherInfo"]["title"].clone())
        .collect();
    assert_eq!(
        titles,
        [
            json!("FIRST_PAUSE"),
            json!("UNPAUSE"),
            json!("SECOND_PAUSE"),
            json!("UNPAUSE"),
            json!("DISABLED")
        ],
        "{events:#?}"
    );
    assert!(
        events
            .iter()
            .any(|e| e["eventType"] == "phone_number_quality_update"
                && e["eventDetails"]["meta"]["event"] == "FLAGGED"),
        "the number's drop to low quality was reported"
    );
}

crate::on_each_backend!(
    templates_beyond_the_messaging_limit_wait_for_an_upgrade,
    complaints_pause_templates_then_disable_them,
);
