//! The files API end to end: uploads judged by their content, downloads by token with
//! ranges, expiry and the cleaner.

use reqwest::StatusCode;
use reqwest::header::{CONTENT_RANGE, CONTENT_TYPE, LOCATION, RANGE};
use serde_json::Value;

use crate::helpers::{Backend, Setup, TestApp, spawn_app_with};

/// Small but real file heads of each type WhatsApp takes, with the name they are sent as.
pub fn samples() -> Vec<(&'static str, &'static str, Vec<u8>)> {
    let iso = |brand: &[u8; 4]| {
        let mut v = vec![0, 0, 0, 0x18];
        v.extend_from_slice(b"ftyp");
        v.extend_from_slice(brand);
        v.extend_from_slice(&[0; 200]);
        v
    };
    let mut webp = b"RIFF\x24\0\0\0WEBPVP8 ".to_vec();
    webp.extend_from_slice(&[0; 200]);
    let mut docx = b"PK\x03\x04\x14\0\x06\0\x08\0\0\0!\0".to_vec();
    docx.extend_from_slice(&[0; 200]);
    vec![
        ("photo.jpg", "image/jpeg", jpeg(2048)),
        (
            "logo.png",
            "image/png",
            [b"\x89PNG\r\n\x1a\n".as_slice(), &[0; 300]].concat(),
        ),
        ("clip.mp4", "video/mp4", iso(b"isom")),
        ("clip.3gp", "video/3gpp", iso(b"3gp4")),
        (
            "voice.ogg",
            "audio/ogg",
            [b"OggS\0\x02".as_slice(), &[0; 300]].concat(),
        ),
        (
            "song.mp3",
            "audio/mpeg",
            [b"ID3\x04\0\0".as_slice(), &[0; 300]].concat(),
        ),
        ("sticker.webp", "image/webp", webp),
        (
            "invoice.pdf",
            "application/pdf",
            b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n".to_vec(),
        ),
        (
            "notes.txt",
            "text/plain",
            "Grüße aus Parley\n".repeat(20).into_bytes(),
        ),
        (
            "report.docx",
            "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
            docx,
        ),
    ]
}

/// A JPEG start and `size` bytes in all.
pub fn jpeg(size: usize) -> Vec<u8> {
    let mut v = vec![0xFF, 0xD8, 0xFF, 0xE0, 0, 0x10, b'J', b'F', b'I', b'F', 0];
    v.extend((v.len()..size).map(|i| (i % 251) as u8));
    v
}

/// `multipart/form-data` with one part named `part`.
fn multipart(part: &str, file_name: &str, bytes: &[u8]) -> (String, Vec<u8>) {
    let boundary = "parley-test-boundary-7d1f";
    let mut body = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"{part}\"; filename=\"{file_name}\"\r\n\
         Content-Type: application/octet-stream\r\n\r\n"
    )
    .into_bytes();
    body.extend_from_slice(bytes);
    body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    (format!("multipart/form-data; boundary={boundary}"), body)
}

pub async fn upload_as(
    app: &TestApp,
    part: &str,
    file_name: &str,
    bytes: &[u8],
) -> (StatusCode, Option<String>, Value) {
    let (content_type, body) = multipart(part, file_name, bytes);
    let response = app
        .http
        .post(app.url(&format!("/api/v1/subaccounts/{}/files", app.sub_account)))
        .bearer_auth(&app.key)
        .header(CONTENT_TYPE, content_type)
        .body(body)
        .send()
        .await
        .expect("request");
    let status = response.status();
    let location = response
        .headers()
        .get(LOCATION)
        .map(|v| v.to_str().unwrap().to_owned());
    (
        status,
        location,
        response.json().await.unwrap_or(Value::Null),
    )
}

pub async fn upload(app: &TestApp, file_name: &str, bytes: &[u8]) -> String {
    let (status, location, body) = upload_as(app, "file", file_name, bytes).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    location.expect("Location")
}

async fn get(app: &TestApp, path: &str, range: Option<&str>) -> reqwest::Response {
    let mut request = app.http.get(app.url(path));
    if let Some(range) = range {
        request = request.header(RANGE, range);
    }
    request.send().await.expect("request")
}

async fn every_supported_type_is_stored_and_served_as_what_it_is(backend: Backend) {
    let app = spawn_app_with(backend, Setup::default()).await;
    for (name, mime, bytes) in samples() {
        let (status, location, body) = upload_as(&app, "file", name, &bytes).await;
        assert_eq!(status, StatusCode::CREATED, "{name}: {body}");
        let file_name = body["fileName"].as_str().unwrap();
        let token = body["token"].as_str().unwrap();
        let extension = name.rsplit_once('.').unwrap().1;
        assert!(
            file_name.len() == 33 + extension.len() && file_name.ends_with(extension),
            "{name} → {file_name}: 32 hex digits and the original extension"
        );
        assert_eq!(
            location.unwrap(),
            format!("/files/{file_name}?token={token}")
        );
        let served = get(&app, &format!("/files/{file_name}?token={token}"), None).await;
        assert_eq!(served.status(), StatusCode::OK, "{name}");
        assert_eq!(served.headers()[CONTENT_TYPE], mime, "{name}");
        assert_eq!(
            served.bytes().await.unwrap().as_ref(),
            bytes.as_slice(),
            "{name}"
        );
    }
}

async fn disguised_oversized_and_missing_files_are_refused(backend: Backend) {
    let app = spawn_app_with(backend, Setup::default()).await;
    let elf = [b"\x7FELF\x02\x01\x01\0".as_slice(), &[0; 400]].concat();
    let (status, _, body) = upload_as(&app, "file", "cat.jpg", &elf).await;
    assert_eq!(status, StatusCode::UNSUPPORTED_MEDIA_TYPE, "{body}");
    assert!(
        body["message"]
            .as_str()
            .unwrap()
            .contains("Unsupported media type")
    );

    let html = b"<!DOCTYPE html><html><body>hi</body></html>";
    let (status, _, _) = upload_as(&app, "file", "page.pdf", html).await;
    assert_eq!(status, StatusCode::UNSUPPORTED_MEDIA_TYPE);

    let big = jpeg(5 * 1024 * 1024 + 1);
    let (status, _, body) = upload_as(&app, "file", "big.jpg", &big).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(body["code"], 7001);
    assert_eq!(
        body["message"],
        "Request size must not exceed 5 MB for image/jpeg files"
    );
    let just_fits = jpeg(5 * 1024 * 1024);
    upload(&app, "fits.jpg", &just_fits).await;

    let (status, _, body) = upload_as(&app, "attachment", "cat.jpg", &jpeg(100)).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["code"], 1000);
    let (status, _) = app
        .api_call(
            reqwest::Method::POST,
            &format!("/api/v1/subaccounts/{}/files", app.sub_account),
            Some(serde_json::json!({"file": "not multipart"})),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);

    // Nothing of the refused uploads stays behind.
    let media = app.data_dir().join("media/files");
    let kept: Vec<_> = std::fs::read_dir(&media).unwrap().collect();
    assert_eq!(kept.len(), 1, "only the file that fit");
}

async fn downloads_need_the_token_and_serve_ranges(backend: Backend) {
    let app = spawn_app_with(backend, Setup::default()).await;
    let bytes = jpeg(10_000);
    let location = upload(&app, "photo.jpg", &bytes).await;
    let (path, token) = location.split_once("?token=").unwrap();

    let not_found = |response: reqwest::Response| async move {
        assert_eq!(response.status(), StatusCode::NOT_FOUND);
        let body: Value = response.json().await.unwrap();
        assert_eq!(body["code"], 4018);
        body["message"].as_str().unwrap().to_owned()
    };
    let wrong = not_found(get(&app, &format!("{path}?token=x{token}"), None).await).await;
    let missing = not_found(get(&app, path, None).await).await;
    let unknown = not_found(
        get(
            &app,
            &format!("/files/0123456789abcdef0123456789abcdef.jpg?token={token}"),
            None,
        )
        .await,
    )
    .await;
    assert!(
        wrong == missing && missing == unknown,
        "no hint that the file exists"
    );

    let part = get(&app, &location, Some("bytes=100-199")).await;
    assert_eq!(part.status(), StatusCode::PARTIAL_CONTENT);
    assert_eq!(part.headers()[CONTENT_RANGE], "bytes 100-199/10000");
    assert_eq!(part.bytes().await.unwrap().as_ref(), &bytes[100..200]);
    let tail = get(&app, &location, Some("bytes=-10")).await;
    assert_eq!(tail.headers()[CONTENT_RANGE], "bytes 9990-9999/10000");
    assert_eq!(tail.bytes().await.unwrap().as_ref(), &bytes[9990..]);
    let outside = get(&app, &location, Some("bytes=10000-")).await;
    assert_eq!(outside.status(), StatusCode::RANGE_NOT_SATISFIABLE);
    assert_eq!(outside.headers()[CONTENT_RANGE], "bytes */10000");
}

async fn files_expire_after_the_retention_and_are_cleaned(backend: Backend) {
    let app = spawn_app_with(
        backend,
        Setup {
            stopped_clock: true,
            ..Setup::default()
        },
    )
    .await;
    let location = upload(&app, "photo.jpg", &jpeg(1000)).await;
    app.advance(29 * 86_400).await;
    assert_eq!(app.files.clean_once(100).await.unwrap(), 0);
    assert_eq!(get(&app, &location, None).await.status(), StatusCode::OK);
    app.advance(2 * 86_400).await;
    assert_eq!(
        get(&app, &location, None).await.status(),
        StatusCode::NOT_FOUND
    );
    assert_eq!(app.files.clean_once(100).await.unwrap(), 1);
    let media = app.data_dir().join("media/files");
    assert_eq!(std::fs::read_dir(&media).map(|d| d.count()).unwrap_or(0), 0);
}

crate::on_each_backend!(
    every_supported_type_is_stored_and_served_as_what_it_is,
    disguised_oversized_and_missing_files_are_refused,
    downloads_need_the_token_and_serve_ranges,
    files_expire_after_the_retention_and_are_cleaned,
);
