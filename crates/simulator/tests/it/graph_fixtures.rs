//! The simulator against Meta's documented payloads (`reference/meta-cloud-api.md` §1,
//! `reference/usernames-bsuid.md`): every send as Meta's pages write it is accepted and
//! answered as Meta answers, and the webhooks name the user by number and business-scoped
//! id as Graph does since 2026. The payloads are Meta's, not the adapter's, so a mistake
//! in either shows up as a disagreement, not a mirror.

use chrono::Duration;
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{spawn_sim, user};

/// `CC.<digits>`: a business-scoped user id's shape.
fn is_bsuid(value: &Value) -> bool {
    value.as_str().is_some_and(|id| {
        id.split_once('.').is_some_and(|(country, rest)| {
            country.len() == 2
                && country.chars().all(|c| c.is_ascii_uppercase())
                && !rest.is_empty()
                && rest.chars().all(|c| c.is_ascii_alphanumeric())
        })
    })
}

#[tokio::test]
async fn meta_s_documented_sends_are_accepted_and_answered_as_meta_answers() {
    let app = spawn_sim(1).await;
    let who = user(1);
    let wa_id = who.trim_start_matches('+').to_owned();
    app.user_writes(&who, "pn-1").await;
    let inbound = app.user_messages().await[0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    app.approved_template("seasonal_promotion").await;
    let interactive_buttons = json!({
        "type": "button",
        "header": {"type": "text", "text": "Workshop"},
        "body": {"text": "Hi Pablo! Your gardening workshop is scheduled for 9am tomorrow. Use the buttons if you need to reschedule. Thank you!"},
        "footer": {"text": "Lucky Shrub: Your gateway to succulents!"},
        "action": {"buttons": [
            {"type": "reply", "reply": {"id": "change-button", "title": "Change"}},
            {"type": "reply", "reply": {"id": "cancel-button", "title": "Cancel"}}]}
    });
    let interactive_list = json!({
        "type": "list",
        "header": {"type": "text", "text": "Choose Shipping Option"},
        "body": {"text": "Which shipping option do you prefer?"},
        "footer": {"text": "Lucky Shrub: Your gateway to succulents"},
        "action": {"button": "Shipping Options", "sections": [
            {"title": "I want it ASAP!", "rows": [
                {"id": "priority_express", "title": "Priority Mail Express", "description": "Next Day to 2 Days"},
                {"id": "priority_mail", "title": "Priority Mail", "description": "1–3 Days"}]},
            {"title": "I can wait a bit", "rows": [
                {"id": "usps_ground_advantage", "title": "USPS Ground Advantage", "description": "2–5 Days"}]}]}
    });
    let sends = [
        json!({"recipient_type": "individual", "type": "text",
               "text": {"preview_url": true, "body": "As requested, here's the link to our latest product: https://www.meta.com/quest/quest-3/"}}),
        json!({"type": "location", "location": {"latitude": "37.44216251868683", "longitude": "-122.16153582049394",
               "name": "Philz Coffee", "address": "101 Forest Ave, Palo Alto, CA 94301"}}),
        json!({"type": "reaction", "reaction": {"message_id": inbound, "emoji": "\u{1F600}"}}),
        json!({"type": "interactive", "interactive": interactive_buttons}),
        json!({"type": "interactive", "interactive": interactive_list}),
        json!({"type": "interactive", "interactive": {"type": "cta_url",
               "body": {"text": "Tap the button below to see available dates."},
               "action": {"name": "cta_url", "parameters": {"display_text": "See Dates", "url": "https://www.luckyshrub.com?clickID=kqDGWd24Q5TRwoEQTICY7W1JKoXvaZOXWAS7h1P76s0R7Paec4"}}}}),
        // Current clients write component types in upper case, as Meta's examples also do.
        json!({"type": "template", "template": {"name": "seasonal_promotion", "language": {"code": "en_US"},
               "components": [{"type": "BODY", "parameters": []}]}}),
    ];
    for body in sends {
        let (status, answer) = app.send("pn-1", &who, body.clone()).await;
        assert_eq!(status, StatusCode::OK, "{body} → {answer}");
        assert_eq!(answer["messaging_product"], "whatsapp");
        assert_eq!(answer["contacts"][0]["input"], who);
        assert_eq!(answer["contacts"][0]["wa_id"], wa_id.as_str());
        assert!(
            answer["messages"][0]["id"]
                .as_str()
                .unwrap()
                .starts_with("wamid.")
        );
    }
    let (status, read) = app
        .post(
            "/graph/v21.0/pn-1/messages",
            json!({"messaging_product": "whatsapp", "status": "read", "message_id": inbound,
                   "typing_indicator": {"type": "text"}}),
        )
        .await;
    assert_eq!((status, read), (StatusCode::OK, json!({"success": true})));
    // A field Graph does not know is refused with code 100, naming it.
    let (status, refused) = app
        .send(
            "pn-1",
            &who,
            json!({"type": "text", "text": {"body": "x"}, "colour": "red"}),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(refused["error"]["code"], 100);
    assert!(
        refused["error"]["error_data"]["details"]
            .as_str()
            .unwrap()
            .contains("colour")
    );
}

#[tokio::test]
async fn webhooks_name_the_user_by_number_and_business_scoped_id_and_sends_may_use_the_id() {
    let app = spawn_sim(1).await;
    let who = user(1);
    let wa_id = who.trim_start_matches('+').to_owned();
    app.user_writes(&who, "pn-1").await;
    let values = app.message_values().await;
    let contact = &values[0]["contacts"][0];
    assert_eq!(contact["wa_id"], wa_id.as_str());
    assert_eq!(contact["profile"]["name"], "User 0001");
    assert!(is_bsuid(&contact["user_id"]), "{contact}");
    assert!(contact["user_id"].as_str().unwrap().starts_with("US."));
    let bsuid = contact["user_id"].clone();

    // Sent to the id: answered with the id, not the number the sender did not give.
    let (status, answer) = app
        .post(
            "/graph/v21.0/pn-1/messages",
            json!({"messaging_product": "whatsapp", "recipient_type": "individual",
                   "recipient": bsuid, "type": "text", "text": {"body": "by id"}}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    assert_eq!(
        answer["contacts"][0],
        json!({"input": bsuid, "user_id": bsuid})
    );
    let wamid = answer["messages"][0]["id"].as_str().unwrap().to_owned();
    assert!(
        app.chat(&who)
            .await
            .iter()
            .any(|m| m["id"] == wamid.as_str()),
        "it reached the user the id names"
    );
    app.advance(Duration::seconds(5));
    let statuses: Vec<Value> = app
        .message_values()
        .await
        .into_iter()
        .filter(|v| v["statuses"].is_array())
        .collect();
    assert!(!statuses.is_empty());
    for value in &statuses {
        let listed = value["statuses"].as_array().unwrap();
        let contacts = value["contacts"]
            .as_array()
            .expect("status webhooks carry contacts");
        assert_eq!(
            contacts.len(),
            listed.len(),
            "one contact per status: {value}"
        );
        for (status, contact) in listed.iter().zip(contacts) {
            assert_eq!(status["recipient_id"], wa_id.as_str());
            assert_eq!(status["recipient_user_id"], bsuid);
            assert_eq!(contact, &json!({"wa_id": wa_id, "user_id": bsuid}));
        }
    }

    // An id this business never heard of is refused; a number not on WhatsApp has none.
    let (status, refused) = app
        .post(
            "/graph/v21.0/pn-1/messages",
            json!({"messaging_product": "whatsapp", "recipient": "US.12345678901234567890",
                   "type": "text", "text": {"body": "who?"}}),
        )
        .await;
    assert_eq!(
        (status, refused["error"]["code"].clone()),
        (StatusCode::BAD_REQUEST, json!(100))
    );
    let nobody = app.send_template("pn-1", "+99955501234", "x").await;
    let failed = app.failed_receipt(&nobody).await;
    assert!(failed.get("recipient_user_id").is_none(), "{failed}");
}
