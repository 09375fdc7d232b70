//! The HTTP edge holds against clients that stall: a stalled header, a stalled body and an
//! idle kept-alive connection are closed after their limits, one address holds only so
//! many connections, and a long event stream is not mistaken for a stalled client. The
//! edge is the same on every backend, so these run on SQLite only. Sockets are real, so
//! these tests wait on real time, each wait bounded by a deadline.

use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::helpers::{Backend, Setup, TestApp, spawn_app_with};

/// Short limits, so a stalled connection is closed within seconds.
fn short_limits(config: &mut parley_app::Config) {
    config.http.header_read_timeout_seconds = 1;
    config.http.body_read_timeout_seconds = 1;
    config.http.idle_timeout_seconds = 2;
    config.http.max_connections_per_client = 4;
}

async fn app() -> TestApp {
    spawn_app_with(
        Backend::Sqlite,
        Setup {
            configure: Some(short_limits),
            ..Setup::default()
        },
    )
    .await
}

async fn connect(app: &TestApp) -> TcpStream {
    TcpStream::connect(app.base.trim_start_matches("http://"))
        .await
        .expect("connect")
}

/// Reads until the server closes the connection; what it said before, and how long that
/// took. Panics if it is still open after `within`.
async fn closed_within(stream: &mut TcpStream, within: Duration) -> (String, Duration) {
    let started = Instant::now();
    let mut said = Vec::new();
    let read = tokio::time::timeout(within, async {
        let mut buf = [0u8; 4096];
        loop {
            match stream.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(n) => said.extend_from_slice(&buf[..n]),
            }
        }
    })
    .await;
    assert!(
        read.is_ok(),
        "the connection was still open after {within:?}"
    );
    (
        String::from_utf8_lossy(&said).into_owned(),
        started.elapsed(),
    )
}

#[tokio::test]
async fn a_stalled_header_is_closed_after_its_limit() {
    let app = app().await;
    let mut stream = connect(&app).await;
    stream
        .write_all(b"POST /api/v1/subaccounts/x/messages HTTP/1.1\r\nHost: parley\r\n")
        .await
        .unwrap();
    let (said, after) = closed_within(&mut stream, Duration::from_secs(10)).await;
    assert!(said.is_empty(), "no answer to half a request: {said}");
    assert!(
        after >= Duration::from_millis(900),
        "not before the limit: {after:?}"
    );
}

#[tokio::test]
async fn a_stalled_body_is_closed_after_its_limit() {
    let app = app().await;
    let mut stream = connect(&app).await;
    let head = format!(
        "POST /api/v1/subaccounts/{}/messages HTTP/1.1\r\nHost: parley\r\nAuthorization: Bearer {}\r\nContent-Type: application/json\r\nContent-Length: 200\r\n\r\n{{\"user\":",
        app.sub_account, app.key
    );
    stream.write_all(head.as_bytes()).await.unwrap();
    let (said, _) = closed_within(&mut stream, Duration::from_secs(10)).await;
    // Answered with 8x8's envelope, then closed; the request was not taken.
    assert!(said.starts_with("HTTP/1.1 400"), "{said}");
    assert!(said.contains("\"code\":1000"), "{said}");
    assert!(said.contains("not received within"), "{said}");
    assert_eq!(app.store.dispatch_backlog().await.unwrap(), 0);
}

#[tokio::test]
async fn an_idle_kept_alive_connection_is_closed_and_a_busy_one_is_not() {
    let app = app().await;
    let mut stream = connect(&app).await;
    stream
        .write_all(b"GET /healthz HTTP/1.1\r\nHost: parley\r\n\r\n")
        .await
        .unwrap();
    let mut buf = [0u8; 1024];
    let n = stream.read(&mut buf).await.unwrap();
    assert!(String::from_utf8_lossy(&buf[..n]).starts_with("HTTP/1.1 200"));
    // A kept-alive connection that keeps asking stays open past the idle limit.
    for _ in 0..3 {
        tokio::time::sleep(Duration::from_millis(900)).await;
        stream
            .write_all(b"GET /healthz HTTP/1.1\r\nHost: parley\r\n\r\n")
            .await
            .unwrap();
        let n = stream.read(&mut buf).await.unwrap();
        assert!(
            String::from_utf8_lossy(&buf[..n]).starts_with("HTTP/1.1 200"),
            "still served"
        );
    }
    // Then silence: closed once the idle limit (2 s) has passed.
    let (_, after) = closed_within(&mut stream, Duration::from_secs(10)).await;
    assert!(
        after >= Duration::from_millis(1900),
        "not before the limit: {after:?}"
    );
}

#[tokio::test]
async fn an_open_event_stream_outlives_the_idle_limit() {
    let app = app().await;
    let mut events = app
        .http
        .get(format!("{}/sim/api/events", app.base))
        .send()
        .await
        .expect("event stream");
    assert!(events.status().is_success());
    tokio::time::sleep(Duration::from_secs(3)).await;
    app.phone_sends(
        "+15551234567",
        serde_json::json!({"type": "text", "content": {"text": "still there?"}}),
    )
    .await;
    let chunk = tokio::time::timeout(Duration::from_secs(10), events.chunk())
        .await
        .expect("an event within the deadline")
        .expect("the stream is still open");
    assert!(chunk.is_some(), "the stream was closed");
}

#[tokio::test]
async fn one_client_address_holds_only_its_share_of_connections() {
    let app = app().await;
    let mut held = Vec::new();
    for _ in 0..4 {
        let mut stream = connect(&app).await;
        stream
            .write_all(b"GET /healthz HTTP/1.1\r\n")
            .await
            .unwrap();
        held.push(stream);
    }
    // The fifth is closed at once, without an answer.
    let mut fifth = connect(&app).await;
    let _ = fifth
        .write_all(b"GET /healthz HTTP/1.1\r\nHost: parley\r\n\r\n")
        .await;
    let (said, after) = closed_within(&mut fifth, Duration::from_secs(5)).await;
    assert!(said.is_empty(), "{said}");
    assert!(
        after < Duration::from_millis(900),
        "refused at once: {after:?}"
    );
    // Once the held ones are closed (their headers stalled), the address may connect again.
    for mut stream in held {
        closed_within(&mut stream, Duration::from_secs(10)).await;
    }
    let health = app
        .http
        .get(app.url("/healthz"))
        .send()
        .await
        .expect("served again");
    assert!(health.status().is_success());
}
