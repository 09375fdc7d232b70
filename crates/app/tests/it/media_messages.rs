//! Media in conversations: what users send is re-hosted by Parley and expires after 24
//! hours; what the business sends goes by a Parley URL or the customer's own, through the
//! simulator, which really fetches it.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::files::{jpeg, upload};
use crate::helpers::{Backend, Setup, TestApp, spawn_app_with};
use crate::media_host::MediaHost;

const USER: &str = "+6591234567";

async fn stopped(backend: Backend) -> TestApp {
    spawn_app_with(
        backend,
        Setup {
            stopped_clock: true,
            ..Setup::default()
        },
    )
    .await
}

/// The phone uploads a file to the simulator (as WhatsApp holds what a user sends).
async fn phone_upload(app: &TestApp, name: &str, bytes: Vec<u8>) -> String {
    let part = reqwest::multipart::Part::bytes(bytes).file_name(name.to_owned());
    let form = reqwest::multipart::Form::new().part("file", part);
    let response = app
        .http
        .post(app.url(&format!("/sim/api/phones/{USER}/media")))
        .multipart(form)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let body: Value = response.json().await.unwrap();
    body["id"].as_str().unwrap().to_owned()
}

async fn inbound_media_is_rehosted_and_expires_after_24_hours(backend: Backend) {
    let app = stopped(backend).await;
    let photo = jpeg(20_000);
    let media_id = phone_upload(&app, "holiday.jpg", photo.clone()).await;
    app.phone_sends(
        USER,
        json!({"type": "image", "content": {"mediaId": media_id, "text": "look"}}),
    )
    .await;
    app.settle().await;
    let received = app.conversation(USER).await;
    let umid = received[0]["umid"].as_str().unwrap();
    let stored = app.stored(umid).await;
    let url = stored.content["url"].as_str().unwrap().to_owned();
    assert!(url.starts_with(&format!("{}/files/", app.base)), "{url}");
    assert_eq!(stored.content["text"], "look");

    let served = app.http.get(&url).send().await.unwrap();
    assert_eq!(served.status(), StatusCode::OK);
    assert_eq!(served.headers()["content-type"], "image/jpeg");
    assert_eq!(served.bytes().await.unwrap().as_ref(), photo.as_slice());

    app.advance(23 * 3600).await;
    assert_eq!(
        app.http.get(&url).send().await.unwrap().status(),
        StatusCode::OK
    );
    app.advance(3600 + 1).await;
    assert_eq!(
        app.http.get(&url).send().await.unwrap().status(),
        StatusCode::NOT_FOUND
    );
}

async fn media_goes_out_by_a_parley_url_or_the_customers_own(backend: Backend) {
    let app = stopped(backend).await;
    let host = MediaHost::start().await;
    app.phone_sends(USER, json!({"type": "text", "content": {"text": "hi"}}))
        .await;
    app.settle().await;

    let hosted = format!(
        "{}{}",
        app.base,
        upload(&app, "menu.jpg", &jpeg(30_000)).await
    );
    let sends = [
        ("Image", json!({"url": hosted, "text": "our menu"})),
        ("Image", json!({"url": hosted, "text": "the menu again"})),
        ("Video", json!({"url": host.url("tour.mp4")})),
        (
            "File",
            json!({"url": host.url("invoice.pdf"), "fileName": "invoice.pdf"}),
        ),
        ("Image", json!({"url": host.url("not-an-image")})),
        ("Image", json!({"url": host.url("missing/cat.jpg")})),
    ];
    let mut umids = Vec::new();
    for (kind, content) in sends {
        let (status, body) = app
            .send(json!({"user": {"msisdn": USER}, "type": kind, "content": content}))
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        umids.push(body["umid"].as_str().unwrap().to_owned());
    }
    app.settle().await;
    app.advance(10).await;
    app.settle().await;

    for umid in &umids[..4] {
        assert_eq!(app.details(umid).await["status"]["state"], "read", "{umid}");
    }
    for umid in &umids[4..] {
        let status = app.details(umid).await["status"].clone();
        assert_eq!(status["state"], "undelivered", "{status}");
        assert_eq!(
            status["errorCode"], 1027,
            "Meta's 131053, media upload error"
        );
    }
    let shown: Vec<_> = app
        .phone(USER)
        .await
        .into_iter()
        .filter(|m| m["direction"] == "from_business")
        .collect();
    assert_eq!(shown.len(), 4, "only the good files reach the phone");
    for bubble in &shown {
        let media_url = bubble["mediaUrl"]
            .as_str()
            .expect("the phone keeps the file");
        let bytes = app.http.get(app.url(media_url)).send().await.unwrap();
        assert_eq!(bytes.status(), StatusCode::OK, "{bubble}");
    }
}

/// What the simulator's Graph API was asked to send for `umid`.
async fn graph_send(app: &TestApp, umid: &str) -> Value {
    let sends: Value = app
        .http
        .get(app.url("/sim/api/sends"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    sends["sends"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["callbackData"] == umid)
        .cloned()
        .unwrap_or_else(|| panic!("no Graph send for {umid}: {sends}"))
}

/// A Parley file goes to WhatsApp by id, uploaded once per number; the customer's own
/// URL goes as a link.
async fn parley_files_are_uploaded_once_and_sent_by_id(backend: Backend) {
    let app = stopped(backend).await;
    let host = MediaHost::start().await;
    app.phone_sends(USER, json!({"type": "text", "content": {"text": "hi"}}))
        .await;
    app.settle().await;
    let hosted = format!(
        "{}{}",
        app.base,
        upload(&app, "menu.jpg", &jpeg(30_000)).await
    );
    let mut umids = Vec::new();
    for content in [
        json!({"url": hosted}),
        json!({"url": hosted, "text": "again"}),
        json!({"url": host.url("cat.jpg")}),
    ] {
        let (status, body) = app
            .send(json!({"user": {"msisdn": USER}, "type": "Image", "content": content}))
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        umids.push(body["umid"].as_str().unwrap().to_owned());
        // One at a time: the second send must find the first one's upload.
        app.settle().await;
    }

    let first = graph_send(&app, &umids[0]).await;
    let second = graph_send(&app, &umids[1]).await;
    let external = graph_send(&app, &umids[2]).await;
    let media_id = first["mediaId"].as_str().expect("sent by id");
    assert!(first.get("mediaLink").is_none(), "{first}");
    assert_eq!(second["mediaId"], media_id, "uploaded once, the id reused");
    assert!(external.get("mediaId").is_none(), "{external}");
    assert_eq!(external["mediaLink"], host.url("cat.jpg"));

    let uploaded = app
        .http
        .get(app.url(&format!("/sim/api/media/{media_id}")))
        .send()
        .await
        .unwrap();
    assert_eq!(uploaded.status(), StatusCode::OK);
    assert_eq!(
        uploaded.bytes().await.unwrap().to_vec(),
        jpeg(30_000),
        "WhatsApp has the file byte for byte"
    );
    app.advance(10).await;
    app.settle().await;
    for umid in &umids {
        assert_eq!(app.details(umid).await["status"]["state"], "read", "{umid}");
    }
}

crate::on_each_backend!(
    inbound_media_is_rehosted_and_expires_after_24_hours,
    media_goes_out_by_a_parley_url_or_the_customers_own,
    parley_files_are_uploaded_once_and_sent_by_id,
);
