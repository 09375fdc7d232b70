//! The do-not-contact list as users and senders live it: a user writes STOP (any case) and
//! marketing stops reaching them while other messages still do; START undoes it; the
//! Contacts API's blacklist does the same from the sender's side.

use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::helpers::{Backend, TestApp};
use crate::template_fixtures::{app_with_templates, deliver, send_template};

async fn user_writes(app: &TestApp, user: &str, text: &str) {
    app.phone_sends(user, json!({"type": "text", "content": {"text": text}}))
        .await;
    app.settle().await;
}

/// How the message ended: its state and error code.
async fn outcome(app: &TestApp, umid: &str) -> (String, Option<u64>) {
    let status = app.details(umid).await["status"].clone();
    (
        status["state"].as_str().unwrap().to_owned(),
        status["errorCode"].as_u64(),
    )
}

/// How many messages from the business the phone holds.
async fn received(app: &TestApp, user: &str) -> usize {
    app.phone(user)
        .await
        .iter()
        .filter(|m| m["direction"] == "from_business")
        .count()
}

async fn stop_ends_marketing_and_start_brings_it_back(backend: Backend) {
    let app = app_with_templates(backend).await;
    let user = "+15554560001";
    user_writes(&app, user, " Stop. ").await;

    let sale = send_template(&app, user, "spring_sale").await;
    let note = send_template(&app, user, "order_note").await;
    deliver(&app).await;
    let refused = outcome(&app, &sale).await;
    assert_eq!(refused, ("undelivered".into(), Some(1051)));
    assert_eq!(
        app.details(&sale).await["status"]["errorMessage"],
        "the user asked not to receive marketing messages (opted out); not sent"
    );
    assert_eq!(outcome(&app, &note).await.0, "read", "utility still goes");
    assert_eq!(received(&app, user).await, 1, "only the order note arrived");

    // Words that merely contain a keyword change nothing; START does.
    user_writes(&app, user, "please stop the noise").await;
    user_writes(&app, user, "start").await;
    let sale = send_template(&app, user, "spring_sale").await;
    deliver(&app).await;
    assert_eq!(outcome(&app, &sale).await.0, "read");
    assert_eq!(received(&app, user).await, 2);

    // The keyword message itself is an ordinary inbound message for the sender.
    let texts: Vec<String> = app
        .conversation(user)
        .await
        .iter()
        .filter(|m| m["direction"] == "inbound")
        .map(|m| m["content"].as_str().unwrap_or_default().to_owned())
        .collect();
    assert!(texts.contains(&" Stop. ".to_owned()), "{texts:?}");
}

async fn the_blacklist_endpoint_keeps_marketing_away(backend: Backend) {
    let app = app_with_templates(backend).await;
    let user = "+15554560002";
    let path = |account: &str, number: &str| {
        format!("/api/v1/accounts/{account}/contacts/blacklist/{number}")
    };
    // 8x8's example writes the number without '+'.
    let (status, _) = app
        .api_call(
            Method::POST,
            &path(&app.account, "15554560002"),
            Some(json!("customer asked by phone")),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let sale = send_template(&app, user, "spring_sale").await;
    deliver(&app).await;
    assert_eq!(
        outcome(&app, &sale).await,
        ("undelivered".into(), Some(1051))
    );
    assert_eq!(received(&app, user).await, 0);

    let (status, body) = app
        .api_call(Method::POST, &path("someone-else", user), None)
        .await;
    assert_eq!(
        (status, body["code"].clone()),
        (StatusCode::NOT_FOUND, json!(1300))
    );
    let (status, body) = app
        .api_call(Method::POST, &path(&app.account, "12"), None)
        .await;
    assert_eq!(
        (status, body["code"].clone()),
        (StatusCode::BAD_REQUEST, json!(1002))
    );

    let (status, body) = app
        .api_call(Method::DELETE, &path(&app.account, user), None)
        .await;
    assert_eq!((status, body), (StatusCode::OK, json!({"removed": true})));
    let sale = send_template(&app, user, "spring_sale").await;
    deliver(&app).await;
    assert_ne!(outcome(&app, &sale).await.0, "undelivered");
    assert_eq!(received(&app, user).await, 1);
}

crate::on_each_backend!(
    stop_ends_marketing_and_start_brings_it_back,
    the_blacklist_endpoint_keeps_marketing_away,
);
