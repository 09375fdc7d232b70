//! WhatsApp's speed limits, as a sender lives them: a burst is accepted at once and
//! leaves at the number's pace; one user gets a burst, then a message every 6 seconds.

use serde_json::json;

use crate::helpers::{Backend, Setup, TestApp, spawn_app_with};

async fn paced_app(throughput_per_number: u32) -> TestApp {
    spawn_app_with(
        Backend::Sqlite,
        Setup {
            stopped_clock: true,
            throughput_per_number: Some(throughput_per_number),
            ..Setup::default()
        },
    )
    .await
}

/// Users who wrote to the business, so that its replies are delivered.
async fn users_who_wrote(app: &TestApp, count: usize) -> Vec<String> {
    let users: Vec<String> = (0..count).map(|i| format!("+1555987{i:04}")).collect();
    for user in &users {
        app.phone_sends(user, json!({"type": "text", "content": {"text": "hi"}}))
            .await;
    }
    app.settle().await;
    users
}

async fn still_queued(app: &TestApp, umids: &[String]) -> usize {
    let mut queued = 0;
    for umid in umids {
        if app.details(umid).await["status"]["state"] == "queued" {
            queued += 1;
        }
    }
    queued
}

#[tokio::test]
async fn a_burst_is_accepted_at_once_and_leaves_at_the_numbers_pace() {
    let app = paced_app(2).await;
    let users = users_who_wrote(&app, 5).await;
    let mut umids = Vec::new();
    for user in &users {
        umids.push(app.send_text(user, "your order shipped").await);
    }

    let first = app.dispatch().await;
    assert_eq!((first.sent, first.held), (2, 3), "{first:?}");
    assert_eq!(
        app.dispatch().await.claimed,
        0,
        "no more within this second"
    );
    assert_eq!(still_queued(&app, &umids).await, 3);

    app.advance(1).await;
    assert_eq!(app.dispatch().await.sent, 2);
    app.advance(1).await;
    assert_eq!(app.dispatch().await.sent, 1);
    assert_eq!(still_queued(&app, &umids).await, 0);
    app.settle().await;
    for (user, umid) in users.iter().zip(&umids) {
        let state = app.details(umid).await["status"]["state"].clone();
        assert_eq!(state, "delivered", "{user}: held, then sent, never failed");
    }
    let metrics = app.metrics().await;
    assert!(
        metrics.contains("parley_dispatch_held_total{reason=\"throughput\"} 3"),
        "{metrics}"
    );
}

#[tokio::test]
async fn one_user_gets_a_burst_then_a_message_every_six_seconds() {
    const BURST: usize = parley_core::dispatch::PAIR_BURST as usize;
    let app = paced_app(1000).await;
    let user = users_who_wrote(&app, 1).await.remove(0);
    let mut umids = Vec::new();
    for n in 0..BURST + 2 {
        umids.push(app.send_text(&user, &format!("update {n}")).await);
    }

    let (mut sent, mut held) = (0, 0);
    for _ in 0..2 * BURST {
        let round = app.dispatch().await;
        if round.claimed == 0 {
            break;
        }
        sent += round.sent;
        held += round.held;
    }
    assert_eq!(sent, BURST, "the burst WhatsApp tolerates");
    assert_eq!(
        held, 1,
        "the next waits in its place, the one after it behind"
    );
    assert_eq!(still_queued(&app, &umids).await, 2);

    app.advance(6).await;
    assert_eq!(app.dispatch().await.sent, 1);
    assert_eq!(app.dispatch().await.sent, 0, "one every 6 seconds");
    app.advance(6).await;
    assert_eq!(app.dispatch().await.sent, 1);

    let chat = app.phone(&user).await;
    let texts: Vec<&str> = chat
        .iter()
        .filter_map(|m| m["message"]["body"].as_str())
        .filter(|t| t.starts_with("update"))
        .collect();
    let expected: Vec<String> = (0..BURST + 2).map(|n| format!("update {n}")).collect();
    assert_eq!(texts, expected, "in the order they were accepted");
}
