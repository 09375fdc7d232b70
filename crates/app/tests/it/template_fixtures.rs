//! Approved templates of each category, and sending them, for the tests of WhatsApp's
//! rules and of bulk sending.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{Backend, Setup, TestApp, spawn_app_with};

/// An app on the stopped clock with [`with_templates`]' three templates approved.
pub async fn app_with_templates(backend: Backend) -> TestApp {
    let app = spawn_app_with(
        backend,
        Setup {
            stopped_clock: true,
            ..Setup::default()
        },
    )
    .await;
    with_templates(&app).await;
    app
}

pub async fn approved_template(app: &TestApp, body: Value) {
    let name = body["name"].as_str().unwrap().to_owned();
    let (status, answer) = app.create_template(&body).await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    let id = app.simulator_template_id(&name, "en").await;
    app.control(
        &format!("/sim/api/templates/{id}/actions"),
        json!({"action": "approve"}),
    )
    .await;
    app.settle().await;
}

pub async fn with_templates(app: &TestApp) {
    let body = |name: &str, category: &str, text: &str| {
        json!({"name": name, "language": "en", "category": category,
               "components": [{"type": "BODY", "text": text, "examples": ["A-1"]}]})
    };
    approved_template(
        app,
        body("spring_sale", "MARKETING", "Spring sale: {{1}} off today"),
    )
    .await;
    approved_template(
        app,
        body("order_note", "UTILITY", "Your order {{1}} shipped."),
    )
    .await;
    approved_template(
        app,
        json!({"name": "login_code", "language": "en", "category": "AUTHENTICATION",
               "components": [{"type": "BODY"},
                              {"type": "BUTTONS", "buttons": [{"type": "OTP", "otp_type": "COPY_CODE"}]}]}),
    )
    .await;
}

/// Sends a template (`spring_sale`, `order_note` or `login_code`); yields the umid.
pub async fn send_template(app: &TestApp, to: &str, name: &str) -> String {
    let body_text = json!({"type": "body", "parameters": [{"type": "text", "text": "A-7"}]});
    let mut components = vec![body_text];
    if name == "login_code" {
        components.push(json!({"type": "button", "subType": "url", "index": 0,
                               "parameters": [{"type": "text", "text": "A-7"}]}));
    }
    let (status, body) = app
        .send(json!({"user": {"msisdn": to}, "type": "template",
                     "content": {"template": {"name": name, "language": "en", "components": components}}}))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body["umid"].as_str().unwrap().to_owned()
}

/// Lets every sent message be delivered (and read).
pub async fn deliver(app: &TestApp) {
    app.settle().await;
    app.advance(5).await;
    app.settle().await;
}
