//! Every documented error, answered with its 8x8 code in the 8x8 envelope, and tenants
//! that cannot see each other.

use parley_channel_meta::signature;
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::TestApp;

const USER: &str = "+15551234567";

fn assert_envelope(status: StatusCode, body: &Value, expected_status: u16, code: u32) {
    assert_eq!(status.as_u16(), expected_status, "{body}");
    assert_eq!(body["code"], code, "{body}");
    assert!(
        body["message"].as_str().is_some_and(|m| !m.is_empty()),
        "{body}"
    );
    assert!(
        body["errorId"].as_str().is_some_and(|id| id.len() == 36),
        "{body}"
    );
    let timestamp = body["timestamp"].as_str().unwrap();
    assert!(
        timestamp.ends_with('Z') && timestamp.len() == 23,
        "{timestamp}"
    );
}

/// Sends `request` and checks the answer is the 8x8 envelope with `status` and `code`.
async fn expect_error(request: reqwest::RequestBuilder, status: u16, code: u32) {
    let response = request.send().await.unwrap();
    let actual = response.status();
    assert_envelope(actual, &response.json().await.unwrap(), status, code);
}

async fn every_documented_validation_error_has_its_code(app: TestApp) {
    let text = json!({"text": "hi"});
    let user = json!({"msisdn": USER});
    let cases = [
        (json!({"type": "text", "content": text}), 3001),
        (json!({"user": {}, "type": "text", "content": text}), 3002),
        (
            json!({"user": {"msisdn": "+12"}, "type": "text", "content": text}),
            1002,
        ),
        (
            json!({"user": {"msisdn": "555-1234", "country": "XX"}, "type": "text", "content": text}),
            3018,
        ),
        (json!({"user": user, "content": text}), 3010),
        (
            json!({"user": user, "type": "carrier-pigeon", "content": text}),
            3010,
        ),
        (json!({"user": user, "type": "text"}), 3004),
        (json!({"user": user, "type": "text", "content": {}}), 3005),
        (
            json!({"user": user, "type": "text", "content": {"text": "x".repeat(4097)}}),
            3006,
        ),
        (json!({"user": user, "type": "image", "content": {}}), 3007),
        (
            json!({"user": user, "type": "video", "content": {"url": "not a url"}}),
            3008,
        ),
        (
            json!({"user": user, "type": "audio", "content": {"url": "https://x.test/a.ogg", "text": "caption"}}),
            1005,
        ),
        (
            json!({"user": user, "type": "file", "content": {"url": "https://x.test/a.pdf", "text": "c".repeat(1025)}}),
            3006,
        ),
        (
            json!({"user": user, "type": "location", "content": {"location": {"latitude": 100, "longitude": 0}}}),
            3021,
        ),
        (
            json!({"user": user, "type": "text", "content": text, "clientMessageId": "c".repeat(51)}),
            3009,
        ),
        (
            json!({"user": user, "type": "text", "content": text, "clientMessageId": 42}),
            1005,
        ),
        (
            json!({"user": user, "type": "text", "content": text, "context": {}}),
            3029,
        ),
        (
            json!({"user": user, "type": "text", "content": text, "context": {"umid": "0190a0b2-7c3e-7000-8000-000000000000"}}),
            1005,
        ),
        (
            json!({"user": user, "type": "text", "content": text, "dlrCallbackUrl": "mailto:x"}),
            3020,
        ),
        (
            // seeds/002: "a required field is missing (like content.template)" is 1005.
            json!({"user": user, "type": "template", "content": {}}),
            1005,
        ),
        (
            json!({"user": user, "type": "template", "content": {"template": {"name": "nope", "language": "en"}}}),
            3038,
        ),
        (
            json!({"user": user, "type": "interactive", "content": {}}),
            3004,
        ),
    ];
    for (body, code) in cases {
        let (status, answer) = app.send(body.clone()).await;
        assert_envelope(status, &answer, 400, code);
    }
}

async fn malformed_requests_get_a_clear_400_never_a_500(app: TestApp) {
    let post = |body: &'static str, content_type: &'static str| {
        app.http
            .post(app.messages_url())
            .bearer_auth(&app.key)
            .header("content-type", content_type)
            .body(body)
            .send()
    };
    for (body, content_type) in [
        ("{\"user\":", "application/json"),
        ("[]", "application/json"),
        ("user=x", "application/x-www-form-urlencoded"),
        ("", "application/json"),
    ] {
        let response = post(body, content_type).await.unwrap();
        let status = response.status();
        let answer: Value = response.json().await.unwrap();
        assert_envelope(status, &answer, 400, 1000);
    }
    let huge = format!("{{\"pad\":\"{}\"}}", "x".repeat(2 * 1024 * 1024));
    expect_error(
        app.http
            .post(app.messages_url())
            .bearer_auth(&app.key)
            .header("content-type", "application/json")
            .body(huge),
        413,
        7001,
    )
    .await;
}

async fn requests_without_a_valid_key_are_refused_with_1200(app: TestApp) {
    let body = json!({"user": {"msisdn": USER}, "type": "text", "content": {"text": "hi"}});
    for key in [None, Some("pk_0000"), Some("not-a-key")] {
        let mut request = app.http.post(app.messages_url()).json(&body);
        if let Some(key) = key {
            request = request.bearer_auth(key);
        }
        expect_error(request, 401, 1200).await;
    }
}

async fn another_accounts_key_sees_nothing_of_this_account(app: TestApp) {
    let umid = app.send_text(USER, "private").await;
    let stranger = app.second_tenant_key().await;
    let body = json!({"user": {"msisdn": USER}, "type": "text", "content": {"text": "hijack"}});
    let (status, foreign) = app.send_as(&stranger, &app.sub_account, body.clone()).await;
    let (_, missing) = app.send_as(&stranger, "no-such-subaccount", body).await;
    assert_envelope(status, &foreign, 400, 1001);
    assert_eq!(
        foreign["message"], missing["message"],
        "the same answer as for a subaccount that does not exist"
    );
    expect_error(
        app.http
            .get(format!("{}/{umid}", app.messages_url()))
            .bearer_auth(&stranger),
        400,
        1001,
    )
    .await;
}

async fn unknown_messages_and_routes_are_1300(app: TestApp) {
    expect_error(
        app.http
            .get(format!(
                "{}/0190a0b2-7c3e-7000-8000-000000000000",
                app.messages_url()
            ))
            .bearer_auth(&app.key),
        404,
        1300,
    )
    .await;
    expect_error(
        app.http.get(app.url("/chatapps/api/v1/nothing-here")),
        404,
        1300,
    )
    .await;
}

async fn the_chatapps_prefix_serves_the_same_api(app: TestApp) {
    let response = app
        .http
        .post(app.url(&format!(
            "/chatapps/api/v1/subaccounts/{}/messages",
            app.sub_account
        )))
        .bearer_auth(&app.key)
        .json(&json!({"user": {"msisdn": USER}, "type": "TEXT", "content": {"text": "via prefix"}}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
}

async fn a_replayed_or_forged_meta_webhook_changes_nothing(app: TestApp) {
    let businesses = app.get_json("/sim/api/businesses").await;
    let business = &businesses["businesses"][0];
    let envelope = json!({"object": "whatsapp_business_account", "entry": [{"id": business["wabaId"], "changes": [{
        "field": "messages", "value": {"messaging_product": "whatsapp",
            "metadata": {"display_phone_number": "15550100001", "phone_number_id": business["phoneNumberId"]},
            "contacts": [{"profile": {"name": "Jane"}, "wa_id": "15551234567"}],
            "messages": [{"from": "15551234567", "id": "wamid.replayed", "timestamp": "1780000000", "type": "text", "text": {"body": "once"}}]}}]}]});
    let body = signature::to_ascii_json(&envelope);
    let post = |sig: String| {
        app.http
            .post(app.url("/meta/webhook"))
            .header("content-type", "application/json")
            .header(signature::HEADER, sig)
            .body(body.clone())
            .send()
    };
    let forged = post(signature::sign("not-the-app-secret", body.as_bytes()))
        .await
        .unwrap();
    assert_eq!(forged.status(), StatusCode::UNAUTHORIZED);
    assert!(app.conversation(USER).await.is_empty());
    for _ in 0..2 {
        let delivered = post(signature::sign(
            "parley-sandbox-app-secret",
            body.as_bytes(),
        ))
        .await
        .unwrap();
        assert_eq!(delivered.status(), StatusCode::OK);
    }
    let stored = app.conversation(USER).await;
    assert_eq!(stored.len(), 1, "stored once");
    assert_eq!(stored[0]["content"], "once");

    let handshake = app
        .http
        .get(app.url("/meta/webhook"))
        .query(&[
            ("hub.mode", "subscribe"),
            ("hub.challenge", "12345"),
            ("hub.verify_token", "wrong"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(handshake.status(), StatusCode::FORBIDDEN);
}

async fn operations_endpoints_answer(app: TestApp) {
    assert_eq!(
        app.http
            .get(app.url("/healthz"))
            .send()
            .await
            .unwrap()
            .status(),
        StatusCode::OK
    );
    let ready = app.get_json("/readyz").await;
    assert_eq!(ready["status"], "ready");
    app.send_text(USER, "count me").await;
    let metrics = app.metrics().await;
    assert!(metrics.contains("parley_http_requests_total"), "{metrics}");
    let doc = app.get_json("/openapi.json").await;
    for path in [
        "/api/v1/subaccounts/{subAccountId}/messages",
        "/chatapps/api/v1/subaccounts/{subAccountId}/messages/{umid}",
        "/api/v1/subaccounts/{subAccountId}/events",
        "/meta/webhook",
        "/sim/api/phones/{msisdn}/messages",
        "/sim/api/clock/advance",
        "/sim/graph/{version}/{phone_number_id}/messages",
        "/openapi.json",
    ] {
        assert!(
            doc["paths"].get(path).is_some(),
            "{path} missing from /openapi.json"
        );
    }
}

crate::on_both_backends!(
    every_documented_validation_error_has_its_code,
    malformed_requests_get_a_clear_400_never_a_500,
    requests_without_a_valid_key_are_refused_with_1200,
    another_accounts_key_sees_nothing_of_this_account,
    unknown_messages_and_routes_are_1300,
    the_chatapps_prefix_serves_the_same_api,
    a_replayed_or_forged_meta_webhook_changes_nothing,
    operations_endpoints_answer,
);
