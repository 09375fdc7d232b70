//! Bulk and timed sending as a sender lives it: a 10,000-message batch with a few broken
//! messages, messages scheduled for later, cancelled before their time, or dropped
//! because they could not go before their expiry; receipts say which batch they are of.

use chrono::{DateTime, Duration, SecondsFormat, Utc};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::helpers::{Backend, Setup, TestApp, spawn_app_with};
use crate::template_fixtures::with_templates;
use crate::webhooks::Receiver;

async fn app_on(backend: Backend) -> TestApp {
    spawn_app_with(
        backend,
        Setup {
            stopped_clock: true,
            ..Setup::default()
        },
    )
    .await
}

async fn now(app: &TestApp) -> DateTime<Utc> {
    let now = app.get_json("/sim/api/clock").await["now"].clone();
    DateTime::parse_from_rfc3339(now.as_str().expect("clock"))
        .expect("time")
        .with_timezone(&Utc)
}

fn at(time: DateTime<Utc>) -> String {
    time.to_rfc3339_opts(SecondsFormat::Secs, true)
}

fn order_note(reference: &str) -> Value {
    json!({"template": {"name": "order_note", "language": "en",
        "components": [{"type": "body", "parameters": [{"type": "text", "text": reference}]}]}})
}

fn user(i: usize) -> String {
    format!("+1555{:07}", 2_000_000 + i)
}

async fn batch(app: &TestApp, body: Value) -> (StatusCode, Value) {
    let path = format!("/api/v1/subaccounts/{}/messages/batch", app.sub_account);
    app.api_call(Method::POST, &path, Some(body)).await
}

async fn cancel(app: &TestApp, what: &str) -> (StatusCode, Value) {
    let path = format!("/api/v1/subaccounts/{}/messages/{what}", app.sub_account);
    app.api_call(Method::DELETE, &path, None).await
}

/// The templates a phone got, as the user reads them.
async fn texts_on(app: &TestApp, phone: &str) -> Vec<String> {
    app.phone(phone)
        .await
        .iter()
        .filter_map(|m| m["message"]["body"].as_str().map(str::to_owned))
        .collect()
}

async fn a_batch_of_ten_thousand_with_a_few_broken_messages(backend: Backend) {
    let app = app_on(backend).await;
    with_templates(&app).await;
    let broken = [17, 4242, 9999];
    let messages: Vec<Value> = (0..10_000)
        .map(|i| match i {
            17 => json!({"user": {"msisdn": "12"}, "content": order_note("A-17")}),
            4242 => json!({"user": {"msisdn": user(i)}, "clientMessageId": "x".repeat(51)}),
            9999 => json!({"user": {"msisdn": user(i)},
                           "content": {"template": {"name": "no_such_template"}}}),
            _ => json!({"user": {"msisdn": user(i)}, "clientMessageId": format!("m-{i}"),
                        "content": order_note(&format!("A-{i}"))}),
        })
        .collect();
    let body = json!({
        "clientBatchId": "spring-2026",
        "template": {"type": "template", "content": {"template": {"name": "order_note", "language": "en"}}},
        "messages": messages,
        "includeMessagesInResponse": true,
    });
    let (status, answer) = batch(&app, body.clone()).await;
    assert_eq!(status, StatusCode::OK, "{}", answer["message"]);
    assert_eq!(answer["clientBatchId"], "spring-2026");
    assert_eq!(answer["acceptedCount"], 9997);
    assert_eq!(answer["rejectedCount"], 3);
    let results = answer["messages"]
        .as_array()
        .expect("messages in the response");
    assert_eq!(results.len(), 10_000, "one result per message, in order");
    let codes: Vec<(usize, u64)> = results
        .iter()
        .enumerate()
        .filter(|(_, r)| r["status"]["state"] == "rejected")
        .map(|(i, r)| (i, r["status"]["errorCode"].as_u64().unwrap()))
        .collect();
    assert_eq!(codes, vec![(17, 1002), (4242, 3009), (9999, 3038)]);
    assert_eq!(results[17]["user"], json!({"msisdn": "12"}));
    for (i, result) in results.iter().enumerate() {
        assert!(result["umid"].is_string(), "every result has a umid");
        if !broken.contains(&i) {
            assert_eq!(result["status"]["state"], "queued");
            assert_eq!(result["user"]["msisdn"], user(i));
        }
    }
    assert_eq!(app.store.dispatch_backlog().await.unwrap(), 9997);

    // The stored messages carry the batch and the shared template.
    let first = results[0]["umid"].as_str().unwrap();
    let details = app.details(first).await;
    assert_eq!(details["batchId"], answer["batchId"]);
    assert_eq!(details["clientBatchId"], "spring-2026");
    assert_eq!(details["content"], "Your order A-0 shipped.");
    assert_eq!(
        app.stored(first).await.origin,
        Some(parley_store::Origin::Batch),
        "who sent it is kept with it"
    );

    // Sending the same batch again (a client retry) queues nothing twice: each message with
    // a clientMessageId answers with the first copy.
    let (status, again) = batch(&app, body).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(again["messages"][0]["umid"], results[0]["umid"]);
    assert_eq!(app.store.dispatch_backlog().await.unwrap(), 9997);
}

async fn batch_rules_are_answered_with_their_codes(backend: Backend) {
    let app = app_on(backend).await;
    let one =
        json!([{"user": {"msisdn": "+15550000001"}, "type": "text", "content": {"text": "x"}}]);
    let cases = [
        (json!({}), 3012),
        (json!({"messages": []}), 3012),
        (json!({"messages": vec![json!({}); 10_001]}), 3013),
        (
            json!({"messages": one, "clientBatchId": "b".repeat(101)}),
            3014,
        ),
    ];
    for (body, code) in cases {
        let (status, answer) = batch(&app, body).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{answer}");
        assert_eq!(answer["code"], code, "{answer}");
        assert!(answer["errorId"].is_string());
    }
    // A rejected item's `user` still fits 8x8's schema, whatever the item held; an item
    // reusing a clientMessageId for another message is rejected, a true retry is not.
    let text = json!({"type": "text", "content": {"text": "x"}});
    let mut reused = text.clone();
    reused["user"] = json!({"msisdn": "+15550000001"});
    reused["clientMessageId"] = json!("reused-1");
    let (status, first) = batch(
        &app,
        json!({"includeMessagesInResponse": true, "messages": [reused.clone()]}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{first}");
    let mut conflicting = reused.clone();
    conflicting["content"]["text"] = json!("something else");
    let (status, answer) = batch(
        &app,
        json!({"includeMessagesInResponse": true, "messages": [
            [null, null],
            {"user": null},
            {"user": {"msisdn": {}}, "type": "text", "content": {"text": "x"}},
            {"user": {"msisdn": "12345", "country": "000"}, "type": "text", "content": {"text": "x"}},
            conflicting,
            reused,
        ]}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    let results = answer["messages"].as_array().unwrap();
    let users: Vec<_> = results.iter().map(|r| r["user"].clone()).collect();
    assert_eq!(
        users,
        [
            json!({}),
            json!({}),
            json!({}),
            json!({"msisdn": "12345"}),
            json!({"msisdn": "+15550000001"}),
            json!({"msisdn": "+15550000001", "country": "US"}),
        ],
        "{answer}"
    );
    assert_eq!(results[4]["status"]["state"], "rejected");
    assert_eq!(results[4]["status"]["errorCode"], 1005);
    assert_eq!(results[5]["status"]["state"], "queued", "a retry");
    assert_eq!(results[5]["umid"], first["messages"][0]["umid"]);
    assert_eq!(answer["acceptedCount"], 1);
    assert_eq!(answer["rejectedCount"], 5);

    // Without includeMessagesInResponse only the counts come back.
    let (status, answer) = batch(&app, json!({"messages": one})).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(answer["acceptedCount"], 1);
    assert!(answer.get("messages").is_none(), "{answer}");
    assert!(answer.get("clientBatchId").is_none(), "{answer}");
}

async fn scheduled_messages_go_at_their_time_unless_cancelled_or_expired(backend: Backend) {
    let app = app_on(backend).await;
    with_templates(&app).await;
    let (receiver, dr_url) = Receiver::start().await;
    let t0 = now(&app).await;
    let send = |to: &str, reference: &str, extra: Value| {
        let mut body = json!({"user": {"msisdn": to}, "type": "template",
                              "content": order_note(reference), "dlrCallbackUrl": dr_url});
        for (key, value) in extra.as_object().unwrap() {
            body[key] = value.clone();
        }
        let app = &app;
        async move {
            let (status, answer) = app.send(body).await;
            assert_eq!(status, StatusCode::OK, "{answer}");
            assert_eq!(answer["status"]["state"], "queued");
            answer["umid"].as_str().unwrap().to_owned()
        }
    };
    let in_an_hour = at(t0 + Duration::hours(1));
    let later = send("+15553000001", "later", json!({"scheduled": in_an_hour})).await;
    let called_off = send(
        "+15553000002",
        "called-off",
        json!({"scheduled": at(t0 + Duration::hours(2))}),
    )
    .await;
    let too_late = send(
        "+15553000003",
        "too-late",
        json!({"expiry": at(t0 + Duration::seconds(30))}),
    )
    .await;
    let in_time = send(
        "+15553000004",
        "in-time",
        json!({"expiry": at(t0 + Duration::hours(1))}),
    )
    .await;
    let (status, scheduled_batch) = batch(
        &app,
        json!({"clientBatchId": "weekend",
               "template": {"type": "template", "content": order_note("weekend"),
                            "scheduled": in_an_hour, "dlrCallbackUrl": dr_url},
               "messages": [{"user": {"msisdn": "+15553000005"}},
                            {"user": {"msisdn": "+15553000006"}}]}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{scheduled_batch}");
    let batch_id = scheduled_batch["batchId"].as_str().unwrap().to_owned();

    // Nothing ran for a minute: the message with a 30-second expiry is dropped, the other
    // goes; the scheduled ones wait.
    app.advance(60).await;
    app.settle().await;
    assert_eq!(app.details(&too_late).await["status"]["errorCode"], 36);
    assert!(texts_on(&app, "+15553000003").await.is_empty());
    assert_eq!(
        texts_on(&app, "+15553000004").await,
        ["Your order in-time shipped."]
    );
    assert_eq!(app.details(&in_time).await["status"]["state"], "delivered");
    assert_eq!(app.details(&later).await["status"]["state"], "queued");
    let shown = app.details(&later).await["scheduled"].clone();
    assert_eq!(
        DateTime::parse_from_rfc3339(shown.as_str().unwrap()).unwrap(),
        DateTime::parse_from_rfc3339(&in_an_hour).unwrap(),
        "details show when it will go"
    );

    // Cancelling: the batch once (both messages), then nothing left; one message by umid.
    let (status, answer) = cancel(&app, &format!("batch/{batch_id}")).await;
    assert_eq!(
        (status, answer),
        (StatusCode::OK, json!({"cancelledCount": 2}))
    );
    let (_, answer) = cancel(&app, &format!("batch/{batch_id}")).await;
    assert_eq!(answer, json!({"cancelledCount": 0}));
    let (status, answer) = cancel(&app, &called_off).await;
    assert_eq!(
        (status, answer),
        (StatusCode::OK, json!({"cancelledCount": 1}))
    );
    let (status, answer) = cancel(&app, "not-a-umid").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(
        (answer["code"].clone(), answer["message"].clone()),
        (json!(1000), json!("Invalid umid."))
    );
    let (status, answer) = cancel(&app, &parley_types::Umid::new().to_string()).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(answer["code"], 1300);
    let (status, answer) = cancel(&app, "batch/nope").await;
    assert_eq!(
        (status, answer["code"].clone()),
        (StatusCode::BAD_REQUEST, json!(1000))
    );

    // An hour on, the scheduled message goes; the cancelled ones never do.
    app.advance(3600).await;
    app.settle().await;
    assert_eq!(
        texts_on(&app, "+15553000001").await,
        ["Your order later shipped."]
    );
    assert_eq!(app.details(&later).await["status"]["state"], "delivered");
    let (_, answer) = cancel(&app, &later).await;
    assert_eq!(answer, json!({"cancelledCount": 0}), "it already went");
    app.advance(3600).await;
    app.settle().await;
    for phone in ["+15553000002", "+15553000005", "+15553000006"] {
        assert!(
            texts_on(&app, phone).await.is_empty(),
            "{phone} got nothing"
        );
    }
    assert_eq!(app.details(&called_off).await["status"]["errorCode"], 25);

    // The receipts say so, with the batch's ids where there is one.
    let receipts = receiver.events();
    let last_state = |umid: &str| {
        receipts
            .iter()
            .rev()
            .find(|e| e["payload"]["umid"] == umid)
            .map(|e| e["payload"]["status"].clone())
            .unwrap_or_else(|| panic!("receipts for {umid}"))
    };
    assert_eq!(last_state(&too_late)["state"], "undelivered");
    assert_eq!(last_state(&too_late)["errorCode"], 36);
    assert_eq!(last_state(&called_off)["errorCode"], 25);
    let cancelled_in_batch: Vec<&Value> = receipts
        .iter()
        .filter(|e| e["payload"]["batchId"] == batch_id.as_str())
        .filter(|e| e["payload"]["status"]["state"] == "undelivered")
        .collect();
    assert_eq!(cancelled_in_batch.len(), 2);
    for receipt in cancelled_in_batch {
        assert_eq!(receipt["payload"]["clientBatchId"], "weekend");
        assert_eq!(receipt["payload"]["status"]["errorCode"], 25);
    }
}

async fn times_are_checked_when_sent(backend: Backend) {
    let app = app_on(backend).await;
    let t0 = now(&app).await;
    let text = |extra: Value| {
        let mut body = json!({"user": {"msisdn": "+15553000010"}, "type": "text",
                              "content": {"text": "hi"}});
        for (key, value) in extra.as_object().unwrap() {
            body[key] = value.clone();
        }
        body
    };
    let cases = [
        (json!({"expiry": at(t0 - Duration::seconds(1))}), 1006),
        (json!({"scheduled": at(t0 + Duration::days(400))}), 1011),
        (json!({"scheduled": "next tuesday"}), 1011),
        (
            json!({"scheduled": at(t0 + Duration::hours(2)), "expiry": at(t0 + Duration::hours(1))}),
            1006,
        ),
    ];
    for (extra, code) in cases {
        let (status, answer) = app.send(text(extra.clone())).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{extra}: {answer}");
        assert_eq!(answer["code"], code, "{extra}: {answer}");
    }
    // A time already past means now.
    let (status, answer) = app
        .send(text(json!({"scheduled": at(t0 - Duration::minutes(5))})))
        .await;
    assert_eq!(status, StatusCode::OK);
    let umid = answer["umid"].as_str().unwrap();
    assert!(app.stored(umid).await.scheduled_at.is_none());
    assert_eq!(app.store.dispatch_backlog().await.unwrap(), 1);
}

crate::on_each_backend!(
    a_batch_of_ten_thousand_with_a_few_broken_messages,
    batch_rules_are_answered_with_their_codes,
    scheduled_messages_go_at_their_time_unless_cancelled_or_expired,
    times_are_checked_when_sent,
);
