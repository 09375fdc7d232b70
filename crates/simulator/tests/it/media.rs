//! Media as Meta's Cloud API takes it: uploads checked by content, type and size (131053),
//! media URLs that need the token and expire after 5 minutes, sends by id and by link, and
//! files users send (over 100 MB: `unsupported`, 131052).

use std::convert::Infallible;

use axum::Router;
use axum::body::Body;
use axum::http::{StatusCode as AxumStatus, header};
use axum::response::IntoResponse;
use axum::routing::get;
use bytes::Bytes;
use chrono::Duration;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::helpers::{Part, TestSim, WABA, serve, spawn_sim, user};

const JPEG: &[u8] = &[
    0xFF, 0xD8, 0xFF, 0xE0, 0, 0x10, b'J', b'F', b'I', b'F', 0, 1, 1, 0, 0, 1, 0, 1, 0, 0, 0xFF,
    0xD9,
];
const PNG: &[u8] = &[
    0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A, 0, 0, 0, 0x0D, b'I', b'H', b'D', b'R', 0, 0, 0,
    1, 0, 0, 0, 1, 8, 6, 0, 0, 0,
];
const MP4: &[u8] = &[
    0, 0, 0, 0x18, b'f', b't', b'y', b'p', b'i', b's', b'o', b'm', 0, 0, 2, 0, b'i', b's', b'o',
    b'm', b'i', b's', b'o', b'2', 0, 0, 0, 8, b'f', b'r', b'e', b'e',
];
const OGG: &[u8] = b"OggS\x00\x02\x00\x00\x00\x00\x00\x00\x00\x00\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x01\x13OpusHead\x01\x01\x38\x01\x80\xbb\x00\x00\x00\x00\x00";
const PDF: &[u8] =
    b"%PDF-1.7\n1 0 obj\n<< /Type /Catalog >>\nendobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n";
const TEXT: &[u8] = b"Order 42: two coffees, one croissant.\n";
const WEBP: &[u8] = b"RIFF\x24\x00\x00\x00WEBPVP8 \x18\x00\x00\x00\x30\x01\x00\x9d\x01\x2a\x01\x00\x01\x00\x00\x00\x00\x00\x00\x00";
const ELF: &[u8] = &[
    0x7F, b'E', b'L', b'F', 2, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2, 0, 0x3E, 0,
];

/// A JPEG of `size` bytes: a real header, then padding.
fn jpeg_of(size: usize) -> Vec<u8> {
    let mut body = JPEG.to_vec();
    body.resize(size, 0);
    body
}

const MB: usize = 1024 * 1024;

async fn error_of(app: &TestSim, pn: &str, mime: &str, body: &[u8]) -> Value {
    let (status, answer) = app.upload(pn, mime, body).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{answer}");
    answer["error"].clone()
}

/// `GET /{media-id}` as the business: the media URL object.
async fn media_url(app: &TestSim, id: &str) -> Value {
    let (status, answer) = app.graph_get(&format!("/graph/v21.0/{id}")).await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    answer
}

/// Downloads a media URL with the business's token: the Content-Type and the bytes.
async fn download(app: &TestSim, url: &str) -> (String, Bytes) {
    let response = app.call(Method::GET, url, true).await;
    assert_eq!(response.status(), StatusCode::OK, "{url}");
    let content_type = response.headers()[header::CONTENT_TYPE]
        .to_str()
        .unwrap()
        .to_owned();
    let length: usize = response.headers()[header::CONTENT_LENGTH]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    let body = response.bytes().await.unwrap();
    assert_eq!(length, body.len());
    (content_type, body)
}

fn sha256(body: &[u8]) -> String {
    use sha2::Digest;
    hex::encode(sha2::Sha256::digest(body))
}

#[tokio::test]
async fn every_accepted_kind_uploads_and_downloads_byte_for_byte() {
    let app = spawn_sim(1).await;
    let files: [(&str, &[u8]); 7] = [
        ("image/jpeg", JPEG),
        ("image/png", PNG),
        ("video/mp4", MP4),
        ("audio/ogg", OGG),
        ("application/pdf", PDF),
        ("text/plain", TEXT),
        ("image/webp", WEBP),
    ];
    for (mime, body) in files {
        let id = app.uploaded("pn-1", mime, body).await;
        assert!(id.chars().all(|c| c.is_ascii_digit()), "{id}: numeric");
        let media = media_url(&app, &id).await;
        assert_eq!(media["messaging_product"], "whatsapp");
        assert_eq!(media["id"], id.as_str());
        assert_eq!(media["mime_type"], mime);
        assert_eq!(media["sha256"], sha256(body).as_str(), "{mime}");
        assert_eq!(media["file_size"], body.len().to_string(), "{mime}");
        let url = media["url"].as_str().unwrap();
        assert!(
            url.starts_with(&app.url("/graph/whatsapp_business/attachments/?mid=")),
            "{url}"
        );
        let (content_type, bytes) = download(&app, url).await;
        assert_eq!(content_type, mime);
        assert_eq!(bytes.as_ref(), body, "{mime}");
    }
}

#[tokio::test]
async fn the_file_part_content_type_declares_the_type_when_no_type_field_does() {
    let app = spawn_sim(1).await;
    let (status, answer) = app
        .post_form(
            "/graph/v21.0/pn-1/media",
            &[
                Part::file("cat.png", Some("image/png"), PNG),
                Part::text("messaging_product", "whatsapp"),
            ],
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    let id = answer["id"].as_str().unwrap();
    assert_eq!(media_url(&app, id).await["mime_type"], "image/png");

    let (status, answer) = app
        .post_form(
            "/graph/v21.0/pn-1/media",
            &[Part::file("cat.png", Some("image/png"), PNG)],
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(
        answer["error"]["code"], 100,
        "messaging_product is required"
    );
}

#[tokio::test]
async fn a_disguised_or_unaccepted_file_is_refused_with_131053() {
    let app = spawn_sim(1).await;
    let error = error_of(&app, "pn-1", "image/jpeg", ELF).await;
    assert_eq!(error["code"], 131053);
    assert_eq!(error["message"], "(#131053) Media upload error");
    assert_eq!(
        error["error_data"]["details"],
        "the file's content is not image/jpeg, nor any type WhatsApp accepts"
    );

    let error = error_of(&app, "pn-1", "image/png", JPEG).await;
    assert_eq!(error["code"], 131053);
    assert_eq!(
        error["error_data"]["details"],
        "the file's content is image/jpeg, not the declared image/png"
    );

    let error = error_of(&app, "pn-1", "image/gif", b"GIF89a\x01\x00\x01\x00").await;
    assert_eq!(error["code"], 131053);
    assert_eq!(
        error["error_data"]["details"],
        "media type image/gif is not supported by WhatsApp"
    );

    let error = error_of(&app, "pn-1", "text/plain", b"<html><body>hi</body></html>").await;
    assert_eq!(error["code"], 131053, "HTML is not plain text");
}

#[tokio::test]
async fn an_image_over_5_mb_or_a_static_sticker_over_100_kb_is_refused_with_131053() {
    let app = spawn_sim(1).await;
    let at_limit = jpeg_of(5 * MB);
    app.uploaded("pn-1", "image/jpeg", &at_limit).await;
    let error = error_of(&app, "pn-1", "image/jpeg", &jpeg_of(5 * MB + 1)).await;
    assert_eq!(error["code"], 131053);
    assert_eq!(
        error["error_data"]["details"],
        "the file is 5242881 bytes; image/jpeg files may be at most 5242880 bytes"
    );

    let mut sticker = WEBP.to_vec();
    sticker.resize(100 * 1024 + 1, 0);
    let error = error_of(&app, "pn-1", "image/webp", &sticker).await;
    assert_eq!(error["code"], 131053);
}

#[tokio::test]
async fn uploads_need_the_token_and_a_known_number() {
    let app = spawn_sim(1).await;
    let (content_type, body) = crate::helpers::form(&[
        Part::text("messaging_product", "whatsapp"),
        Part::file("a.jpg", Some("image/jpeg"), JPEG),
    ]);
    let response = reqwest::Client::new()
        .post(app.url("/graph/v21.0/pn-1/media"))
        .header("content-type", content_type)
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);

    let error = error_of(&app, "pn-9", "image/jpeg", JPEG).await;
    assert_eq!(error["code"], 100);
    assert_eq!(
        error["error_data"]["details"],
        "Unsupported post request. Object with ID 'pn-9' does not exist"
    );
}

#[tokio::test]
async fn a_media_url_needs_the_token_and_expires_after_5_minutes_of_simulator_time() {
    let app = spawn_sim(1).await;
    let id = app.uploaded("pn-1", "image/png", PNG).await;
    let url = media_url(&app, &id).await["url"]
        .as_str()
        .unwrap()
        .to_owned();

    let anonymous = app.call(Method::GET, &url, false).await;
    assert_eq!(anonymous.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(download(&app, &url).await.1.as_ref(), PNG);

    let forged = url.replace("&ext=", "&ext=9").to_owned();
    assert_eq!(
        app.call(Method::GET, &forged, true).await.status(),
        StatusCode::NOT_FOUND,
        "a changed expiry breaks the hash"
    );

    app.advance(Duration::seconds(299));
    assert_eq!(download(&app, &url).await.1.as_ref(), PNG);
    app.advance(Duration::seconds(1));
    let expired = app.call(Method::GET, &url, true).await;
    assert_eq!(expired.status(), StatusCode::NOT_FOUND);

    let fresh = media_url(&app, &id).await["url"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_ne!(fresh, url);
    assert_eq!(download(&app, &fresh).await.1.as_ref(), PNG);
}

#[tokio::test]
async fn the_media_url_points_below_where_the_simulator_is_mounted() {
    let app = spawn_sim(1).await;
    let id = app.uploaded("pn-1", "image/png", PNG).await;
    let mounted = serve(Router::new().nest("/sim", app.sim.router())).await;
    let (status, media) = app
        .graph_get(&format!("{mounted}/sim/graph/v21.0/{id}"))
        .await;
    assert_eq!(status, StatusCode::OK, "{media}");
    let url = media["url"].as_str().unwrap();
    assert!(
        url.starts_with(&format!(
            "{mounted}/sim/graph/whatsapp_business/attachments/?mid={id}&ext="
        )),
        "{url}"
    );
    assert_eq!(download(&app, url).await.1.as_ref(), PNG);
}

#[tokio::test]
async fn phone_number_id_must_name_the_number_that_uploaded_the_media() {
    let app = spawn_sim(2).await;
    let id = app.uploaded("pn-1", "image/jpeg", JPEG).await;
    let (status, answer) = app
        .graph_get(&format!("/graph/v21.0/{id}?phone_number_id=pn-1"))
        .await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    let (status, answer) = app
        .graph_get(&format!("/graph/v21.0/{id}?phone_number_id=pn-2"))
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(answer["error"]["code"], 100);
    let (status, answer) = app
        .graph_delete(&format!("/graph/v21.0/{id}?phone_number_id=pn-2"))
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(answer["error"]["code"], 100);
    assert_eq!(media_url(&app, &id).await["id"], id.as_str(), "not deleted");
}

#[tokio::test]
async fn deleted_media_is_gone_and_its_url_with_it() {
    let app = spawn_sim(1).await;
    let id = app.uploaded("pn-1", "application/pdf", PDF).await;
    let url = media_url(&app, &id).await["url"]
        .as_str()
        .unwrap()
        .to_owned();
    let (status, answer) = app.graph_delete(&format!("/graph/v21.0/{id}")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(answer, json!({"success": true}));

    let (status, answer) = app.graph_get(&format!("/graph/v21.0/{id}")).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(answer["error"]["code"], 100);
    assert_eq!(answer["error"]["type"], "GraphMethodException");
    assert!(
        answer["error"]["message"]
            .as_str()
            .unwrap()
            .starts_with(&format!(
                "Unsupported get request. Object with ID '{id}' does not exist"
            )),
        "{answer}"
    );
    assert_eq!(
        app.call(Method::GET, &url, true).await.status(),
        StatusCode::NOT_FOUND
    );
    let (status, _) = app.graph_delete(&format!("/graph/v21.0/{id}")).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "already gone");
    let (status, _) = app.graph_get("/graph/v21.0/1234567890123456").await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "never existed");
}

#[tokio::test]
async fn uploaded_media_lives_30_days() {
    let app = spawn_sim(1).await;
    let id = app.uploaded("pn-1", "text/plain", TEXT).await;
    app.advance(Duration::days(30) - Duration::seconds(1));
    media_url(&app, &id).await;
    app.advance(Duration::seconds(1));
    let (status, answer) = app.graph_get(&format!("/graph/v21.0/{id}")).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(answer["error"]["code"], 100);
}

/// The wamid of a send the simulator accepted.
fn wamid((status, answer): (StatusCode, Value)) -> String {
    assert_eq!(status, StatusCode::OK, "{answer}");
    answer["messages"][0]["id"].as_str().unwrap().to_owned()
}

/// The statuses `wamid` went through, by webhook.
async fn statuses(app: &TestSim, wamid: &str) -> Vec<String> {
    app.receipts(wamid)
        .await
        .iter()
        .map(|r| r["status"].as_str().unwrap().to_owned())
        .collect()
}

/// The `failed` receipt's error of `wamid`.
async fn failure(app: &TestSim, wamid: &str) -> Value {
    app.failed_receipt(wamid).await["errors"][0].clone()
}

/// The bubble `wamid` on `who`'s phone.
async fn bubble(app: &TestSim, who: &str, wamid: &str) -> Option<Value> {
    app.chat(who).await.into_iter().find(|m| m["id"] == wamid)
}

/// What the control API serves for a bubble's `mediaUrl`.
async fn shown(app: &TestSim, bubble: &Value) -> (String, Bytes) {
    let url = bubble["mediaUrl"].as_str().expect("a media url");
    assert_eq!(
        url,
        format!("/api/media/{}", bubble["mediaId"].as_str().unwrap())
    );
    let response = app.call(Method::GET, url, false).await;
    assert_eq!(response.status(), StatusCode::OK);
    let content_type = response.headers()[header::CONTENT_TYPE]
        .to_str()
        .unwrap()
        .to_owned();
    (content_type, response.bytes().await.unwrap())
}

#[tokio::test]
async fn a_send_by_id_takes_only_live_media_this_number_uploaded() {
    let app = spawn_sim(2).await;
    let who = user(1);
    app.user_writes(&who, "pn-1").await;
    app.user_writes(&who, "pn-2").await;
    let id = app.uploaded("pn-1", "image/jpeg", JPEG).await;

    let own = wamid(
        app.send(
            "pn-1",
            &who,
            json!({"type": "image", "image": {"id": id, "caption": "cat"}}),
        )
        .await,
    );
    app.advance(Duration::seconds(2));
    assert_eq!(statuses(&app, &own).await, ["sent", "delivered"]);
    let on_phone = bubble(&app, &who, &own).await.expect("on the phone");
    assert_eq!(on_phone["mediaId"], id.as_str());
    assert_eq!(on_phone["message"]["caption"], "cat");
    assert_eq!(
        shown(&app, &on_phone).await,
        ("image/jpeg".into(), Bytes::from_static(JPEG))
    );

    let other = wamid(
        app.send("pn-2", &who, json!({"type": "image", "image": {"id": id}}))
            .await,
    );
    let error = failure(&app, &other).await;
    assert_eq!(error["code"], 131053);
    assert_eq!(error["title"], "Media upload error");
    assert_eq!(
        error["error_data"]["details"],
        format!("media id {id} was not uploaded by this business phone number")
    );
    assert_eq!(statuses(&app, &other).await, ["failed"]);
    assert!(bubble(&app, &who, &other).await.is_none());

    let pdf = app.uploaded("pn-1", "application/pdf", PDF).await;
    let as_image = wamid(
        app.send("pn-1", &who, json!({"type": "image", "image": {"id": pdf}}))
            .await,
    );
    assert_eq!(failure(&app, &as_image).await["code"], 131053);
    let as_document = wamid(
        app.send(
            "pn-1",
            &who,
            json!({"type": "document", "document": {"id": pdf, "filename": "menu.pdf"}}),
        )
        .await,
    );
    assert_eq!(statuses(&app, &as_document).await, ["sent"]);

    let (status, _) = app.graph_delete(&format!("/graph/v21.0/{id}")).await;
    assert_eq!(status, StatusCode::OK);
    let deleted = wamid(
        app.send("pn-1", &who, json!({"type": "image", "image": {"id": id}}))
            .await,
    );
    assert_eq!(
        failure(&app, &deleted).await["error_data"]["details"],
        format!("media id {id} does not exist, was deleted or expired")
    );
    let kept = bubble(&app, &who, &own).await.unwrap();
    assert_eq!(
        shown(&app, &kept).await.1.as_ref(),
        JPEG,
        "the phone keeps what it received"
    );
}

/// Serves files the way web servers do, for sends by link.
async fn file_server() -> String {
    fn file(content_type: &'static str, body: Vec<u8>) -> impl IntoResponse {
        ([(header::CONTENT_TYPE, content_type)], body)
    }
    let router = Router::new()
        .route(
            "/cat.jpg",
            get(|| async { file("image/jpeg", JPEG.to_vec()) }),
        )
        .route(
            "/menu.pdf",
            get(|| async { file("application/pdf", PDF.to_vec()) }),
        )
        .route(
            "/page",
            get(|| async { file("text/html; charset=utf-8", b"<html>hi</html>".to_vec()) }),
        )
        .route("/gone.jpg", get(|| async { AxumStatus::NOT_FOUND }))
        .route(
            "/elf.jpg",
            get(|| async { file("image/jpeg", ELF.to_vec()) }),
        )
        .route(
            "/huge.jpg",
            get(|| async { file("image/jpeg", jpeg_of(5 * MB + 1)) }),
        )
        .route("/untyped.jpg", get(|| async { Body::from(JPEG.to_vec()) }))
        .route("/video-101mb.mp4", get(|| async { over_100_mb(true) }))
        .route("/video-chunked.mp4", get(|| async { over_100_mb(false) }));
    serve(router).await
}

/// An MP4 just over 100 MB, produced as it is read so that the test never holds it. With
/// its length declared the simulator stops at the header; without, it counts as it reads.
fn over_100_mb(declared: bool) -> axum::response::Response {
    let total = parley_types::media::MAX_MEDIA_BYTES as usize + 1;
    let zeros = Bytes::from(vec![0u8; MB]);
    let mut chunks = vec![Bytes::from_static(MP4)];
    let mut left = total - MP4.len();
    while left > 0 {
        let n = left.min(MB);
        chunks.push(zeros.slice(..n));
        left -= n;
    }
    let stream = futures::stream::iter(chunks.into_iter().map(Ok::<_, Infallible>));
    let body = Body::from_stream(stream);
    if declared {
        ([(header::CONTENT_LENGTH, total.to_string())], body).into_response()
    } else {
        body.into_response()
    }
}

#[tokio::test]
async fn a_send_by_link_downloads_the_file_and_the_phone_keeps_it() {
    let app = spawn_sim(1).await;
    let files = file_server().await;
    let who = user(1);
    app.user_writes(&who, "pn-1").await;
    let link = format!("{files}/cat.jpg");
    let sent = wamid(
        app.send(
            "pn-1",
            &who,
            json!({"type": "image", "image": {"link": link}}),
        )
        .await,
    );
    app.advance(Duration::seconds(2));
    assert_eq!(statuses(&app, &sent).await, ["sent", "delivered"]);
    let on_phone = bubble(&app, &who, &sent).await.expect("on the phone");
    assert_eq!(on_phone["message"]["link"], link.as_str());
    assert_eq!(
        shown(&app, &on_phone).await,
        ("image/jpeg".into(), Bytes::from_static(JPEG))
    );
    let (status, _) = app
        .graph_get(&format!(
            "/graph/v21.0/{}",
            on_phone["mediaId"].as_str().unwrap()
        ))
        .await;
    assert_eq!(
        status,
        StatusCode::BAD_REQUEST,
        "a link is not uploaded media"
    );
    let again = wamid(
        app.send(
            "pn-1",
            &who,
            json!({"type": "image", "image": {"link": link}}),
        )
        .await,
    );
    assert_eq!(
        bubble(&app, &who, &again).await.unwrap()["mediaId"],
        on_phone["mediaId"],
        "the same file is kept once"
    );

    let document = wamid(
        app.send("pn-1", &who, json!({"type": "document", "document": {"link": format!("{files}/menu.pdf"), "filename": "menu.pdf"}}))
            .await,
    );
    assert_eq!(statuses(&app, &document).await, ["sent"]);
}

#[tokio::test]
async fn a_link_that_is_not_a_good_file_of_the_kind_fails_the_send_with_131053() {
    let app = spawn_sim(1).await;
    let files = file_server().await;
    let who = user(1);
    app.user_writes(&who, "pn-1").await;
    let cases = [
        (
            "image",
            "/page",
            "media type text/html; charset=utf-8 is not supported by WhatsApp",
        ),
        (
            "image",
            "/gone.jpg",
            "Downloading media from weblink failed with http code 404, status message Not Found",
        ),
        (
            "image",
            "/elf.jpg",
            "the file's content is not image/jpeg, nor any type WhatsApp accepts",
        ),
        (
            "image",
            "/huge.jpg",
            "the file is 5242881 bytes or more; image messages take at most 5242880 bytes",
        ),
        (
            "image",
            "/untyped.jpg",
            "the link was served without a Content-Type",
        ),
        (
            "video",
            "/cat.jpg",
            "media type image/jpeg is not supported for video messages",
        ),
        (
            "document",
            "/cat.jpg",
            "media type image/jpeg is not supported for document messages",
        ),
    ];
    for (kind, path, details) in cases {
        let sent = wamid(
            app.send(
                "pn-1",
                &who,
                json!({"type": kind, kind: {"link": format!("{files}{path}")}}),
            )
            .await,
        );
        let error = failure(&app, &sent).await;
        assert_eq!(error["code"], 131053, "{path}");
        assert_eq!(error["title"], "Media upload error");
        assert_eq!(error["error_data"]["details"], details, "{kind} {path}");
        assert_eq!(statuses(&app, &sent).await, ["failed"], "{path}");
        assert!(bubble(&app, &who, &sent).await.is_none(), "{path}");
    }
    let unreachable = wamid(
        app.send(
            "pn-1",
            &who,
            json!({"type": "image", "image": {"link": "http://127.0.0.1:1/a.jpg"}}),
        )
        .await,
    );
    let details = failure(&app, &unreachable).await["error_data"]["details"].clone();
    assert!(
        details
            .as_str()
            .unwrap()
            .starts_with("Downloading media from weblink failed: could not connect"),
        "{details}"
    );
}

#[tokio::test]
async fn template_header_media_follows_the_same_rules() {
    let app = spawn_sim(1).await;
    let files = file_server().await;
    let (status, created) = app
        .post(
            &format!("/graph/v21.0/{WABA}/message_templates"),
            json!({"name": "menu", "language": "en_US", "category": "MARKETING",
                   "components": [
                       {"type": "HEADER", "format": "IMAGE", "example": {"header_handle": ["https://x.test/a.png"]}},
                       {"type": "BODY", "text": "Today's menu"}]}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{created}");
    app.template_action(
        created["id"].as_str().unwrap(),
        json!({"action": "approve"}),
    )
    .await;
    let header = |image: Value| {
        json!({"type": "template", "template": {"name": "menu", "language": {"code": "en_US"},
               "components": [{"type": "header", "parameters": [{"type": "image", "image": image}]}]}})
    };
    let who = user(1);

    let by_link = wamid(
        app.send(
            "pn-1",
            &who,
            header(json!({"link": format!("{files}/cat.jpg")})),
        )
        .await,
    );
    assert_eq!(statuses(&app, &by_link).await, ["sent"]);
    let on_phone = bubble(&app, &who, &by_link).await.unwrap();
    assert_eq!(shown(&app, &on_phone).await.1.as_ref(), JPEG);

    let id = app.uploaded("pn-1", "image/png", PNG).await;
    let by_id = wamid(app.send("pn-1", &who, header(json!({"id": id}))).await);
    assert_eq!(statuses(&app, &by_id).await, ["sent"]);
    assert_eq!(
        bubble(&app, &who, &by_id).await.unwrap()["mediaId"],
        id.as_str()
    );

    let bad = wamid(
        app.send(
            "pn-1",
            &who,
            header(json!({"link": format!("{files}/page")})),
        )
        .await,
    );
    assert_eq!(failure(&app, &bad).await["code"], 131053);
    assert_eq!(
        app.code_of(&bad).await,
        131053,
        "the send is recorded as failed, not counted against the messaging limit"
    );
}

/// Stages a file on `who`'s phone; its id.
async fn phone_upload(app: &TestSim, who: &str, name: &str, body: &[u8]) -> Value {
    let (status, answer) = app
        .post_form(
            &format!("/api/phones/{who}/media"),
            &[Part::file(name, None, body)],
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    answer
}

#[tokio::test]
async fn a_phone_sends_an_uploaded_image_and_the_business_downloads_it_for_7_days() {
    let app = spawn_sim(1).await;
    let who = user(1);
    let staged = phone_upload(&app, &who, "IMG_0001.png", PNG).await;
    assert_eq!(staged["mimeType"], "image/png", "sniffed");
    let (status, sent) = app
        .phone_sends(
            &who,
            json!({"type": "image", "content": {"mediaId": staged["id"], "text": "my receipt"}}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{sent}");

    let messages = app.user_messages().await;
    let image = &messages[0]["image"];
    assert_eq!(messages[0]["type"], "image");
    let id = image["id"].as_str().unwrap();
    assert_eq!(
        image,
        &json!({"id": id, "mime_type": "image/png", "sha256": sha256(PNG), "caption": "my receipt"}),
        "Meta's shape, without a made-up url"
    );
    assert_eq!(sent["mediaId"], id);
    assert_eq!(
        app.chat(&who).await[0]["mediaUrl"],
        format!("/api/media/{id}")
    );

    let media = media_url(&app, id).await;
    assert_eq!(media["mime_type"], "image/png");
    assert_eq!(
        download(&app, media["url"].as_str().unwrap())
            .await
            .1
            .as_ref(),
        PNG
    );
    let (status, answer) = app
        .graph_get(&format!("/graph/v21.0/{id}?phone_number_id=pn-1"))
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{answer}");
    assert_eq!(
        answer["error"]["error_data"]["details"],
        "Param phone_number_id is not a valid whatsapp business phone number id ID",
        "a user's phone uploaded it, not a business number"
    );

    app.advance(Duration::days(7));
    let (status, _) = app.graph_get(&format!("/graph/v21.0/{id}")).await;
    assert_eq!(
        status,
        StatusCode::BAD_REQUEST,
        "gone for the business after 7 days"
    );
    let (_, bytes) = shown(&app, &app.chat(&who).await[0]).await;
    assert_eq!(bytes.as_ref(), PNG, "still on the phone");
}

#[tokio::test]
async fn a_phone_sends_a_document_by_url() {
    let app = spawn_sim(1).await;
    let files = file_server().await;
    let who = user(1);
    let (status, sent) = app
        .phone_sends(
            &who,
            json!({"type": "file", "content": {"url": format!("{files}/menu.pdf"), "fileName": "menu.pdf"}}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{sent}");
    let messages = app.user_messages().await;
    let document = &messages[0]["document"];
    assert_eq!(messages[0]["type"], "document");
    assert_eq!(document["mime_type"], "application/pdf");
    assert_eq!(document["filename"], "menu.pdf");
    assert_eq!(document["sha256"], sha256(PDF).as_str());
    let url = media_url(&app, document["id"].as_str().unwrap()).await["url"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(download(&app, &url).await.1.as_ref(), PDF);

    let (status, answer) = app
        .phone_sends(
            &who,
            json!({"type": "image", "content": {"url": format!("{files}/menu.pdf")}}),
        )
        .await;
    assert_eq!(
        status,
        StatusCode::BAD_REQUEST,
        "a PDF is no image: {answer}"
    );
    let (status, _) = app
        .phone_sends(
            &who,
            json!({"type": "image", "content": {"url": format!("{files}/gone.jpg")}}),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(app.user_messages().await.len(), 1, "neither was sent");
}

#[tokio::test]
async fn a_phone_file_over_100_mb_reaches_the_business_as_unsupported_with_131052() {
    let app = spawn_sim(1).await;
    let files = file_server().await;
    let who = user(1);
    let (status, sent) = app
        .phone_sends(
            &who,
            json!({"type": "video", "content": {"url": format!("{files}/video-101mb.mp4"), "text": "the party"}}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{sent}");
    let messages = app.user_messages().await;
    let message = &messages[0];
    assert_eq!(message["type"], "unsupported");
    assert_eq!(message["unsupported"], json!({"type": "video"}));
    assert!(message.get("video").is_none());
    assert_eq!(message["errors"][0]["code"], 131052);
    assert_eq!(message["errors"][0]["title"], "Media download error");
    assert_eq!(
        message["errors"][0]["error_data"]["details"],
        "the user's file is over the 104857600 bytes WhatsApp passes on to businesses"
    );
    let on_phone = &app.chat(&who).await[0];
    assert_eq!(on_phone["type"], "video", "the user sees what they sent");
    assert!(on_phone.get("mediaId").is_none(), "nothing kept");
}

#[tokio::test]
async fn a_phone_file_of_undeclared_length_is_cut_off_past_100_mb() {
    let app = spawn_sim(1).await;
    let files = file_server().await;
    let (status, sent) = app
        .phone_sends(
            &user(1),
            json!({"type": "video", "content": {"url": format!("{files}/video-chunked.mp4")}}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{sent}");
    let messages = app.user_messages().await;
    assert_eq!(messages[0]["type"], "unsupported");
    assert_eq!(messages[0]["errors"][0]["code"], 131052);
}

#[test]
fn the_media_routes_are_documented() {
    let doc = parley_simulator::openapi();
    for path in [
        "/sim/graph/{version}/{phone_number_id}/media",
        "/sim/graph/{version}/{media_id}",
        "/sim/graph/whatsapp_business/attachments/",
        "/sim/api/phones/{msisdn}/media",
        "/sim/api/media/{id}",
    ] {
        assert!(doc.paths.paths.contains_key(path), "{path}");
    }
}
