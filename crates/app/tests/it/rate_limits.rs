//! 8x8's request rate limits: a subaccount (or a client address) over its rate is told
//! at once to come back later, and nobody else notices.

use parley_app::config::Config;
use reqwest::StatusCode;
use serde_json::Value;

use crate::helpers::{Backend, Setup, TestApp, spawn_app_with};

async fn limited_app(configure: fn(&mut Config)) -> TestApp {
    spawn_app_with(
        Backend::Sqlite,
        Setup {
            stopped_clock: true,
            configure: Some(configure),
            ..Setup::default()
        },
    )
    .await
}

/// `GET …/messages?limit=1` of `sub_account` with `key`: status, `Retry-After`, body.
async fn list(app: &TestApp, key: &str, sub_account: &str) -> (StatusCode, Option<String>, Value) {
    let response = app
        .http
        .get(app.url(&format!(
            "/api/v1/subaccounts/{sub_account}/messages?limit=1"
        )))
        .bearer_auth(key)
        .send()
        .await
        .expect("request");
    let status = response.status();
    let retry_after = response
        .headers()
        .get("retry-after")
        .map(|v| v.to_str().unwrap().to_owned());
    (
        status,
        retry_after,
        response.json().await.unwrap_or(Value::Null),
    )
}

fn five_per_subaccount(config: &mut Config) {
    config.api.rate_limit_per_subaccount = 5;
}

#[tokio::test]
async fn a_subaccount_over_its_rate_gets_429_while_another_is_unaffected() {
    let app = limited_app(five_per_subaccount).await;
    let other = parley_core::bootstrap::generate(chrono::Utc::now());
    app.store.create_tenant(&other.sandbox).await.unwrap();
    let other_sub = other.sandbox.sub_account.id.to_string();

    for _ in 0..10 {
        let (status, ..) = list(&app, "not-a-key", &app.sub_account).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
    }
    for i in 0..5 {
        let (status, ..) = list(&app, &app.key, &app.sub_account).await;
        assert_eq!(
            status,
            StatusCode::OK,
            "request {i}: strangers used none of the budget"
        );
    }
    let (status, retry_after, body) = list(&app, &app.key, &app.sub_account).await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS, "{body}");
    assert_eq!(retry_after.as_deref(), Some("1"));
    assert_eq!(body["code"], 429);
    assert!(
        body["errorId"].is_string() && body["timestamp"].is_string(),
        "{body}"
    );
    assert!(
        body["message"].as_str().unwrap().contains("subaccount"),
        "{body}"
    );

    let (status, ..) = list(&app, &other.api_key, &other_sub).await;
    assert_eq!(status, StatusCode::OK, "another subaccount is unaffected");

    app.advance(1).await;
    let (status, ..) = list(&app, &app.key, &app.sub_account).await;
    assert_eq!(status, StatusCode::OK, "a second later there is room again");
}

fn three_per_ip(config: &mut Config) {
    config.api.rate_limit_per_ip = 3;
}

#[tokio::test]
async fn a_client_address_over_its_rate_gets_429_before_anything_else() {
    let app = limited_app(three_per_ip).await;
    let (status, ..) = list(&app, "not-a-key", &app.sub_account).await;
    assert_eq!(
        status,
        StatusCode::UNAUTHORIZED,
        "counted even unauthenticated"
    );
    for _ in 0..2 {
        assert_eq!(
            list(&app, &app.key, &app.sub_account).await.0,
            StatusCode::OK
        );
    }
    let (status, retry_after, body) = list(&app, &app.key, &app.sub_account).await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS, "{body}");
    assert_eq!(retry_after.as_deref(), Some("1"));
    assert!(
        body["message"].as_str().unwrap().contains("client IP"),
        "{body}"
    );
    let health = app.http.get(app.url("/healthz")).send().await.unwrap();
    assert_eq!(
        health.status(),
        StatusCode::OK,
        "operations endpoints are not limited"
    );
    app.advance(1).await;
    assert_eq!(
        list(&app, &app.key, &app.sub_account).await.0,
        StatusCode::OK
    );
}
