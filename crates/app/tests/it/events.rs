//! The domain event log's consumers as users see their results: the usage counters agree
//! with the message log and count every change once however often they run, and the
//! console's live stream shows the signed-in account's changes as they happen (and no one
//! else's).

use std::collections::BTreeMap;
use std::time::Duration;

use chrono::Utc;
use parley_core::events::metrics;
use parley_types::AccountId;
use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::{Backend, TestApp};
use crate::template_fixtures::{app_with_templates, deliver, send_template};

/// The account's counters for today and yesterday, summed per `(metric, dimension)`.
async fn counters(app: &TestApp) -> BTreeMap<(String, String), i64> {
    let today = Utc::now().date_naive();
    let account = AccountId::parse(&app.account).unwrap();
    let mut sums = BTreeMap::new();
    let rows = app
        .store
        .counters(
            &account,
            today - chrono::Days::new(1),
            today + chrono::Days::new(2),
        )
        .await
        .unwrap();
    for counter in rows {
        *sums
            .entry((counter.key.metric, counter.key.dimension))
            .or_insert(0) += counter.value;
    }
    sums
}

fn count(sums: &BTreeMap<(String, String), i64>, metric: &str) -> i64 {
    sums.iter()
        .filter(|((m, _), _)| m == metric)
        .map(|(_, v)| v)
        .sum()
}

async fn usage_counters_agree_with_the_log_and_count_each_change_once(backend: Backend) {
    let app = app_with_templates(backend).await;
    let writer = "+15554560001";
    app.phone_sends(writer, json!({"type": "text", "content": {"text": "hi"}}))
        .await;
    app.settle().await;
    let answer = app.send_text(writer, "hello back").await;
    let sale = send_template(&app, "+15554560002", "spring_sale").await;
    // Never wrote: a free-form message outside the window does not reach them.
    let unreached = app.send_text("+15554560003", "hello?").await;
    deliver(&app).await;

    let sums = counters(&app).await;
    assert_eq!(count(&sums, metrics::ACCEPTED), 3, "{sums:?}");
    assert_eq!(count(&sums, metrics::RECEIVED), 1, "{sums:?}");
    assert_eq!(count(&sums, metrics::DELIVERED), 2, "{sums:?}");
    assert_eq!(count(&sums, metrics::READ), 2, "{sums:?}");
    let undelivered_code = app.details(&unreached).await["status"]["errorCode"]
        .as_u64()
        .expect("an error code");
    assert_eq!(
        sums.get(&(metrics::UNDELIVERED.into(), undelivered_code.to_string())),
        Some(&1),
        "{sums:?}"
    );
    assert_eq!(app.details(&answer).await["status"]["state"], "read");
    assert_eq!(app.details(&sale).await["status"]["state"], "read");

    // Cost by category and country, as the usage report has it from the message log.
    let month = Utc::now() - chrono::Duration::days(40);
    let usage = app
        .store
        .usage(
            &AccountId::parse(&app.account).unwrap(),
            month,
            Utc::now() + chrono::Duration::days(40),
        )
        .await
        .unwrap();
    let billed: i64 = usage.iter().map(|r| r.cost_micros).sum();
    assert!(billed > 0, "the marketing template costs something");
    assert_eq!(count(&sums, metrics::COST_MICROS), billed);
    assert_eq!(
        sums.get(&(metrics::CHARGED.into(), "marketing:US".into())),
        Some(&1),
        "{sums:?}"
    );

    assert_eq!(app.events.run_once().await.unwrap(), 0, "nothing new");
    assert_eq!(
        counters(&app).await,
        sums,
        "running again counts nothing twice"
    );
}

/// A signed-in browser's cookie.
async fn console_cookie(app: &TestApp) -> String {
    let response = app
        .http
        .post(app.url("/console/api/session"))
        .json(&json!({"email": app.console_admin.email, "password": app.console_admin.password}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let cookie = response.headers()["set-cookie"].to_str().unwrap();
    cookie.split(';').next().unwrap().to_owned()
}

/// Reads the stream until `wanted` events arrived (or two seconds passed); yields each
/// event's name and data.
async fn read_events(
    stream: &mut reqwest::Response,
    wanted: usize,
) -> Vec<(String, serde_json::Value)> {
    let mut text = String::new();
    let mut events = Vec::new();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(2);
    while events.len() < wanted {
        let Ok(Ok(Some(chunk))) = tokio::time::timeout_at(deadline, stream.chunk()).await else {
            break;
        };
        text.push_str(std::str::from_utf8(&chunk).unwrap());
        while let Some(end) = text.find("\n\n") {
            let block: String = text.drain(..end + 2).collect();
            let field = |name: &str| {
                block
                    .lines()
                    .find_map(|l| l.strip_prefix(name).map(str::trim).map(str::to_owned))
            };
            if let (Some(name), Some(data)) = (field("event:"), field("data:")) {
                events.push((name, serde_json::from_str(&data).unwrap()));
            }
        }
    }
    events
}

async fn the_console_live_stream_shows_the_account_s_changes_as_they_happen(app: TestApp) {
    let cookie = console_cookie(&app).await;
    let mut stream = app
        .http
        .get(app.url("/console/api/events"))
        .header("cookie", &cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(stream.status(), StatusCode::OK);
    assert_eq!(stream.headers()["content-type"], "text/event-stream");

    let other = parley_core::bootstrap::generate(Utc::now());
    app.store.create_tenant(&other.sandbox).await.unwrap();
    let user = "+15554560009";
    let (status, body) = app
        .send_as(
            &other.api_key,
            other.sandbox.sub_account.id.as_str(),
            json!({"user": {"msisdn": user}, "type": "text", "content": {"text": "not yours"}}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let umid = app.send_text(user, "hello").await;
    assert_eq!(
        app.stored(&umid).await.origin,
        Some(parley_store::Origin::Api)
    );
    app.settle().await;

    let events = read_events(&mut stream, 2).await;
    assert!(events.len() >= 2, "{events:?}");
    assert_eq!(events[0].0, "message.accepted");
    assert_eq!(events[0].1["subject"], umid.as_str());
    assert_eq!(events[0].1["status"], "queued");
    assert_eq!(events[0].1["subAccountId"], app.sub_account.as_str());
    assert_eq!(events[1].0, "message.status");
    assert_eq!(events[1].1["subject"], umid.as_str());
    assert!(
        events
            .iter()
            .all(|(_, data)| data["subject"] == umid.as_str()),
        "{events:?}"
    );

    let anonymous = app
        .http
        .get(app.url("/console/api/events"))
        .send()
        .await
        .unwrap();
    assert_eq!(anonymous.status(), StatusCode::UNAUTHORIZED);
}

crate::on_each_backend!(usage_counters_agree_with_the_log_and_count_each_change_once);
crate::on_both_backends!(the_console_live_stream_shows_the_account_s_changes_as_they_happen);
