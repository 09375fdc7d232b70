//! The first conversation, as a user of the sandbox lives it.

use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::{TestApp, seed_files};
use crate::media_host::MediaHost;

const USER: &str = "+15551234567";

async fn a_message_to_a_user_who_never_wrote_is_undelivered_by_the_24_hour_rule(app: TestApp) {
    let umid = app.send_text(USER, "cold outreach").await;
    app.settle().await;
    let message = app.details(&umid).await;
    assert_eq!(message["status"]["state"], "undelivered");
    assert_eq!(message["status"]["detail"], "rejected_by_operator");
    assert_eq!(message["status"]["errorCode"], 1022);
    assert!(
        app.phone(USER).await.is_empty(),
        "nothing reached the phone"
    );
}

async fn a_user_writes_and_the_business_replies_with_text_image_and_location(app: TestApp) {
    let said = app
        .phone_sends(
            USER,
            json!({"type": "text", "content": {"text": "hi there"}}),
        )
        .await;
    app.settle().await;
    let inbound = app.conversation(USER).await;
    assert_eq!(inbound.len(), 1);
    assert_eq!(inbound[0]["direction"], "inbound");
    assert_eq!(inbound[0]["content"], "hi there");
    let inbound_umid = inbound[0]["umid"].as_str().unwrap().to_owned();

    let text = app.send_text(USER, "Hello *Jane*").await;
    let host = MediaHost::start().await;
    let (status, image) = app
        .send(json!({"user": {"msisdn": USER}, "type": "Image",
                     "content": {"url": host.url("cat.jpg"), "text": "a cat"},
                     "context": {"umid": inbound_umid}}))
        .await;
    assert_eq!(status, StatusCode::OK, "{image}");
    let (status, location) = app
        .send(json!({"user": {"msisdn": USER}, "type": "location",
                     "content": {"location": {"latitude": "1.2834", "longitude": 103.8607, "name": "Marina Bay"}}}))
        .await;
    assert_eq!(status, StatusCode::OK, "{location}");
    app.settle().await;
    for umid in [
        &text,
        image["umid"].as_str().unwrap(),
        location["umid"].as_str().unwrap(),
    ] {
        let status = app.details(umid).await["status"].clone();
        assert_eq!(status["state"], "delivered", "{umid}: WhatsApp took it");
        assert_eq!(
            status["detail"], "delivered_to_operator",
            "{umid}: the phone has not acknowledged it yet"
        );
    }

    app.advance(2).await;
    app.settle().await;
    assert_eq!(
        app.details(&text).await["status"]["detail"],
        "delivered_to_recipient"
    );
    app.advance(5).await;
    app.settle().await;
    assert_eq!(app.details(&text).await["status"]["state"], "read");

    let chat = app.phone(USER).await;
    let kinds: Vec<_> = chat
        .iter()
        .map(|m| {
            (
                m["direction"].as_str().unwrap(),
                m["type"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        kinds,
        [
            ("from_user", "text"),
            ("from_business", "text"),
            ("from_business", "image"),
            ("from_business", "location")
        ]
    );
    assert!(chat[1..].iter().all(|m| m["status"] == "read"), "{chat:?}");
    assert_eq!(chat[2]["message"]["caption"], "a cat");
    assert_eq!(
        chat[2]["contextId"], said["id"],
        "the image quotes the user's message"
    );
    assert_eq!(chat[3]["message"]["latitude"], 1.2834);

    let both = app.conversation(USER).await;
    assert_eq!(both.len(), 4);
    assert_eq!(
        both.iter().filter(|m| m["direction"] == "outbound").count(),
        3
    );
}

async fn the_window_closes_25_hours_after_the_user_last_wrote(app: TestApp) {
    app.phone_sends(USER, json!({"type": "text", "content": {"text": "hello"}}))
        .await;
    app.settle().await;
    let inside = app.send_text(USER, "inside the window").await;
    app.settle().await;
    assert_eq!(
        app.details(&inside).await["status"]["detail"],
        "delivered_to_operator"
    );

    app.advance(25 * 3600).await;
    let outside = app.send_text(USER, "too late").await;
    app.settle().await;
    let message = app.details(&outside).await;
    assert_eq!(message["status"]["state"], "undelivered");
    assert_eq!(message["status"]["errorCode"], 1022);

    app.phone_sends(
        USER,
        json!({"type": "location", "content": {"location": {"latitude": 1.3, "longitude": 103.8}}}),
    )
    .await;
    app.settle().await;
    let reopened = app.send_text(USER, "welcome back").await;
    app.settle().await;
    assert_ne!(
        app.details(&reopened).await["status"]["state"],
        "undelivered"
    );
}

async fn a_number_not_on_whatsapp_is_undelivered_with_the_mapped_code(app: TestApp) {
    let umid = app.send_text("+99955501234", "anyone?").await;
    app.settle().await;
    let message = app.details(&umid).await;
    assert_eq!(message["status"]["state"], "undelivered");
    assert_eq!(message["status"]["errorCode"], 1018);
}

async fn a_reused_client_message_id_repeats_a_retry_and_refuses_another_message(app: TestApp) {
    app.phone_sends(USER, json!({"type": "text", "content": {"text": "hi"}}))
        .await;
    app.phone_sends(
        "+15557654321",
        json!({"type": "text", "content": {"text": "hi"}}),
    )
    .await;
    app.settle().await;
    let body = json!({"user": {"msisdn": USER}, "type": "text", "content": {"text": "once"}, "clientMessageId": "order-42"});
    let (first_status, first) = app.send(body.clone()).await;
    let (second_status, second) = app.send(body).await;
    assert_eq!(
        (first_status, second_status),
        (StatusCode::OK, StatusCode::OK)
    );
    assert_eq!(first["umid"], second["umid"]);
    assert_eq!(second["clientMessageId"], "order-42");
    // Another message under the same id is refused, naming the id and the first message,
    // instead of being answered with the first message and never sent.
    for other in [
        json!({"user": {"msisdn": "+15557654321"}, "type": "text", "content": {"text": "once"}, "clientMessageId": "order-42"}),
        json!({"user": {"msisdn": USER}, "type": "text", "content": {"text": "twice"}, "clientMessageId": "order-42"}),
    ] {
        let (status, answer) = app.send(other).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{answer}");
        assert_eq!(answer["code"], 1005, "{answer}");
        let message = answer["message"].as_str().unwrap();
        assert!(message.contains("'clientMessageId'"), "{message}");
        assert!(
            message.contains(first["umid"].as_str().unwrap()),
            "{message}"
        );
    }
    app.settle().await;
    assert!(
        app.phone("+15557654321")
            .await
            .iter()
            .all(|m| m["direction"] != "from_business"),
        "the refused message went nowhere"
    );
    let sent: Vec<_> = app
        .phone(USER)
        .await
        .into_iter()
        .filter(|m| m["direction"] == "from_business")
        .collect();
    assert_eq!(sent.len(), 1, "sent once");
}

/// WhatsApp names each user to a business by a business-scoped id (BSUID) as well as the
/// number: Parley passes it on in webhooks and message details, and takes it instead of
/// the number, as 8x8's `user.channelUserId`.
async fn a_user_is_known_by_whatsapp_s_business_scoped_id(app: TestApp) {
    app.phone_sends(USER, json!({"type": "text", "content": {"text": "hi"}}))
        .await;
    app.settle().await;
    let inbound = &app.conversation(USER).await[0];
    let bsuid = inbound["user"]["channelUserId"]
        .as_str()
        .expect("the inbound message carries the user's id")
        .to_owned();
    assert!(bsuid.starts_with("US.") && bsuid.len() > 3, "{bsuid}");

    let (status, sent) = app
        .send(
            json!({"user": {"channelUserId": bsuid}, "type": "text", "content": {"text": "by id"}}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{sent}");
    assert_eq!(sent["user"]["msisdn"], USER, "the number behind the id");
    assert_eq!(sent["user"]["channelUserId"], bsuid.as_str());
    app.settle().await;
    let umid = sent["umid"].as_str().unwrap();
    let details = app.details(umid).await;
    assert_eq!(details["status"]["state"], "delivered");
    assert_eq!(details["user"]["channelUserId"], bsuid.as_str());
    let wamid = app.stored(umid).await.provider_message_id.unwrap();
    assert!(
        app.phone(USER)
            .await
            .iter()
            .any(|m| m["id"] == wamid.as_str()),
        "it reached the user"
    );

    // An id this account never heard from WhatsApp, or not an id at all: refused.
    for (user, code) in [
        (json!({"channelUserId": "US.13491208655302741918"}), 1005),
        (json!({"channelUserId": "15551234567"}), 1005),
        (json!({}), 3002),
    ] {
        let (status, answer) = app
            .send(json!({"user": user, "type": "text", "content": {"text": "x"}}))
            .await;
        assert_eq!(
            (status, answer["code"].clone()),
            (StatusCode::BAD_REQUEST, json!(code)),
            "{user}: {answer}"
        );
    }
}

async fn inbound_media_keeps_its_type_url_and_caption(app: TestApp) {
    let host = MediaHost::start().await;
    app.phone_sends(
        USER,
        json!({"type": "image", "content": {"url": host.url("receipt.png"), "text": "my receipt"}}),
    )
    .await;
    app.phone_sends(USER, json!({"type": "file", "content": {"url": host.url("invoice.pdf"), "fileName": "invoice.pdf"}})).await;
    app.settle().await;
    let messages = app.conversation(USER).await;
    let types: Vec<_> = messages
        .iter()
        .map(|m| m["contentType"].as_str().unwrap())
        .collect();
    assert_eq!(types, ["File", "Image"]);
    // Re-hosted by Parley: its own URL, with the caption beside it.
    let content = messages[1]["content"].as_str().unwrap();
    assert!(
        content.starts_with(&format!("{}/files/", app.base))
            && content.contains(".png?token=")
            && content.ends_with(" my receipt"),
        "{content}"
    );
}

async fn typing(app: &TestApp, umid: &str) -> StatusCode {
    app.http
        .post(app.url(&format!("/api/v1/subaccounts/{}/events", app.sub_account)))
        .bearer_auth(&app.key)
        .json(&json!({"channel": "whatsapp", "type": "typing", "umid": umid}))
        .send()
        .await
        .unwrap()
        .status()
}

async fn mark_read_and_typing_reach_the_phone(app: TestApp) {
    app.phone_sends(
        USER,
        json!({"type": "text", "content": {"text": "are you there?"}}),
    )
    .await;
    app.settle().await;
    let umid = app.conversation(USER).await[0]["umid"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(typing(&app, &umid).await, StatusCode::OK);
    let chat = app.phone(USER).await;
    assert_eq!(chat[0]["status"], "read", "blue ticks");
    assert_eq!(chat[0]["typing"], true);
    let read = app
        .http
        .post(format!("{}/{umid}/read", app.messages_url()))
        .bearer_auth(&app.key)
        .send()
        .await
        .unwrap();
    assert_eq!(read.status(), StatusCode::OK);

    app.advance(3 * 3600).await;
    assert_eq!(
        typing(&app, &umid).await,
        StatusCode::BAD_REQUEST,
        "too late to type"
    );
}

/// The seeds' text and image sends (the template and interactive ones have their own
/// tests): each is delivered and shown on the phone; the fragment without a user is refused.
async fn every_seed_text_and_image_send_is_delivered_or_refused_as_documented(app: TestApp) {
    let sends: Vec<_> = seed_files("sends")
        .into_iter()
        .filter(|(_, body)| {
            let kind = body["type"].as_str().unwrap_or("").to_ascii_lowercase();
            kind == "text" || kind == "image"
        })
        .collect();
    assert_eq!(sends.len(), 8, "six text and two image sends");
    let host = MediaHost::start().await;
    for (file, mut body) in sends {
        // The seeds' media live on example hosts; the customer's server here serves them.
        if let Some(url) = body.pointer("/content/url").and_then(|u| u.as_str()) {
            body["content"]["url"] = json!(host.localise(url));
        }
        let Some(msisdn) = body["user"]["msisdn"].as_str() else {
            let (status, answer) = app.send(body).await;
            assert_eq!(status, StatusCode::BAD_REQUEST, "{file}");
            assert_eq!(answer["code"], 3001, "{file}: missed user");
            continue;
        };
        app.phone_sends(msisdn, json!({"type": "text", "content": {"text": "Hi"}}))
            .await;
        let (status, answer) = app.send(body.clone()).await;
        assert_eq!(status, StatusCode::OK, "{file}: {answer}");
        let umid = answer["umid"].as_str().unwrap();
        app.settle().await;
        let details = app.details(umid).await;
        assert_eq!(
            details["status"]["state"], "delivered",
            "{file}: {details:#}"
        );
        let wamid = app.stored(umid).await.provider_message_id.unwrap();
        let chat = app.phone(msisdn).await;
        let bubble = chat
            .iter()
            .find(|m| m["id"] == wamid)
            .expect("on the phone");
        match bubble["type"].as_str().unwrap() {
            "text" => assert_eq!(bubble["message"]["body"], body["content"]["text"], "{file}"),
            "image" => {
                assert_eq!(bubble["message"]["link"], body["content"]["url"], "{file}");
                assert_eq!(
                    bubble["message"]["caption"], body["content"]["text"],
                    "{file}"
                );
            }
            other => panic!("{file}: shown as {other}"),
        }
    }
}

crate::on_both_backends!(
    every_seed_text_and_image_send_is_delivered_or_refused_as_documented,
    a_message_to_a_user_who_never_wrote_is_undelivered_by_the_24_hour_rule,
    a_user_writes_and_the_business_replies_with_text_image_and_location,
    the_window_closes_25_hours_after_the_user_last_wrote,
    a_number_not_on_whatsapp_is_undelivered_with_the_mapped_code,
    a_reused_client_message_id_repeats_a_retry_and_refuses_another_message,
    inbound_media_keeps_its_type_url_and_caption,
    a_user_is_known_by_whatsapp_s_business_scoped_id,
    mark_read_and_typing_reach_the_phone,
);
