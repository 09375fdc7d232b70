//! Messaging limits: unique users reached by templates outside their service windows in a
//! rolling 24 hours, per portfolio (WABA), with Meta's upgrades.

use chrono::Duration;
use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::{number, number_update, spawn_sim, user};

#[tokio::test]
async fn the_251st_new_user_in_a_day_fails_with_131048() {
    let app = spawn_sim(1).await;
    app.approved_template("news").await;
    let sent = app.send_templates("pn-1", 0..250, "news").await;
    let codes = app.send_codes().await;
    assert!(sent.iter().all(|w| codes[w] == 0), "250 users fit TIER_250");

    let refused = app.send_template("pn-1", &user(250), "news").await;
    let receipt = app.failed_receipt(&refused).await;
    assert_eq!(receipt["errors"][0]["code"], 131048);
    assert_eq!(receipt["errors"][0]["title"], "Spam rate limit hit");
    assert_eq!(
        receipt["errors"][0]["error_data"]["details"],
        "the business portfolio's messaging limit of 250 unique users in 24 hours was reached"
    );

    let again = app.send_template("pn-1", &user(0), "news").await;
    assert_eq!(
        app.code_of(&again).await,
        0,
        "a user already counted costs nothing"
    );
    app.user_writes(&user(300), "pn-1").await;
    let in_window = app.send_template("pn-1", &user(300), "news").await;
    assert_eq!(app.code_of(&in_window).await, 0, "inside the window");
    let limits = app.limits("pn-1").await;
    assert_eq!(limits["messagingLimit"], "TIER_250");
    assert_eq!(
        limits["reach"],
        json!({"last24h": 250, "last7d": 250, "last30d": 250}),
        "neither the refusal nor the user inside the window counted"
    );

    app.advance(Duration::hours(24));
    let next_day = app.send_template("pn-1", &user(250), "news").await;
    assert_eq!(app.code_of(&next_day).await, 0, "room again after 24 hours");
    assert_eq!(
        app.limits("pn-1").await["reach"],
        json!({"last24h": 1, "last7d": 251, "last30d": 251})
    );
}

#[tokio::test]
async fn the_first_upgrade_comes_at_2000_users_in_30_days_on_every_number() {
    let app = spawn_sim(2).await;
    app.approved_template("news").await;
    for day in 0..8 {
        // The two numbers share the portfolio's 250 a day.
        let first = day * 250;
        app.send_templates("pn-1", first..first + 125, "news").await;
        app.send_templates("pn-2", first + 125..first + 250, "news")
            .await;
        if day < 7 {
            assert_eq!(
                app.changes("phone_number_quality_update").await,
                [] as [serde_json::Value; 0],
                "day {day}"
            );
            app.advance(Duration::days(1));
        }
    }
    let codes = app.send_codes().await;
    assert!(codes.values().all(|c| *c == 0), "every send fit the limit");
    let upgrades = app.changes("phone_number_quality_update").await;
    assert_eq!(
        upgrades,
        [
            number_update(&number(1).1, "UPGRADE", "TIER_2K", "TIER_250"),
            number_update(&number(2).1, "UPGRADE", "TIER_2K", "TIER_250"),
        ]
    );
    let limits = app.limits("pn-2").await;
    assert_eq!(limits["messagingLimit"], "TIER_2K");
    assert_eq!(limits["reach"]["last30d"], 2000);
}

#[tokio::test]
async fn the_2k_tier_grows_at_1000_users_in_7_days_with_green_quality() {
    let app = spawn_sim(1).await;
    app.post(
        "/api/businesses/pn-1/limits",
        json!({"messagingLimit": "TIER_2K"}),
    )
    .await;
    app.changes("phone_number_quality_update").await;
    app.approved_template("news").await;
    app.send_templates("pn-1", 0..999, "news").await;
    assert_eq!(app.limits("pn-1").await["messagingLimit"], "TIER_2K");
    app.send_templates("pn-1", 999..1000, "news").await;
    assert_eq!(
        app.changes("phone_number_quality_update").await,
        [number_update(
            &number(1).1,
            "UPGRADE",
            "TIER_10K",
            "TIER_2K"
        )]
    );
    assert_eq!(app.limits("pn-1").await["messagingLimit"], "TIER_10K");
}

#[tokio::test]
async fn the_2k_tier_waits_while_quality_is_not_green() {
    let app = spawn_sim(1).await;
    app.post(
        "/api/businesses/pn-1/limits",
        json!({"messagingLimit": "TIER_2K"}),
    )
    .await;
    // 30 users who wrote get an answer; 25 of them report the number.
    for n in 0..30 {
        app.user_writes(&user(10_000 + n), "pn-1").await;
        app.send_text("pn-1", &user(10_000 + n), "thanks").await;
    }
    for n in 0..25 {
        let (status, _) = app
            .post(
                &format!("/api/phones/{}/report", user(10_000 + n)),
                json!({}),
            )
            .await;
        assert_eq!(status, StatusCode::OK);
    }
    assert_eq!(app.limits("pn-1").await["quality"], "RED");
    app.approved_template("news").await;
    app.send_templates("pn-1", 0..1000, "news").await;
    let limits = app.limits("pn-1").await;
    assert_eq!(limits["reach"]["last7d"], 1000, "half the limit reached");
    assert_eq!(
        (&limits["quality"], &limits["messagingLimit"]),
        (&json!("YELLOW"), &json!("TIER_2K")),
        "25 reports from 1,030 users"
    );
    let events: Vec<_> = app
        .changes("phone_number_quality_update")
        .await
        .into_iter()
        .map(|v| v["event"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(
        events,
        ["UPGRADE", "FLAGGED", "UNFLAGGED"],
        "no second upgrade"
    );

    // 25 reports from more than 1,250 users is under 2 %: GREEN, and the upgrade follows.
    app.send_templates("pn-1", 1000..1222, "news").await;
    let limits = app.limits("pn-1").await;
    assert_eq!(
        (&limits["quality"], &limits["messagingLimit"]),
        (&json!("GREEN"), &json!("TIER_10K"))
    );
}

#[tokio::test]
async fn setting_the_messaging_limit_is_reported_by_every_number() {
    let app = spawn_sim(2).await;
    let limits = app.limits("pn-1").await;
    assert_eq!(
        limits,
        json!({"phoneNumberId": "pn-1", "throughput": 1000,
               "pairRate": {"burst": 45, "intervalSeconds": 6.0},
               "messagingLimit": "TIER_250",
               "reach": {"last24h": 0, "last7d": 0, "last30d": 0},
               "quality": "GREEN"})
    );
    let (status, set) = app
        .post(
            "/api/businesses/pn-1/limits",
            json!({"messagingLimit": "TIER_10K"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(set["messagingLimit"], "TIER_10K");
    assert_eq!(
        app.limits("pn-2").await["messagingLimit"],
        "TIER_10K",
        "the portfolio's limit"
    );
    app.post(
        &format!("/api/businesses/{}/limits", number(2).1),
        json!({"messagingLimit": "TIER_2K", "throughput": 500}),
    )
    .await;
    app.post(
        "/api/businesses/pn-1/limits",
        json!({"messagingLimit": "TIER_2K"}),
    )
    .await;
    assert_eq!(
        app.changes("phone_number_quality_update").await,
        [
            number_update(&number(1).1, "UPGRADE", "TIER_10K", "TIER_250"),
            number_update(&number(2).1, "UPGRADE", "TIER_10K", "TIER_250"),
            number_update(&number(1).1, "DOWNGRADE", "TIER_2K", "TIER_10K"),
            number_update(&number(2).1, "DOWNGRADE", "TIER_2K", "TIER_10K"),
        ],
        "setting the same tier again reports nothing"
    );
    assert_eq!(app.limits("pn-2").await["throughput"], 500);
    let (status, refused) = app
        .post(
            "/api/businesses/pn-1/limits",
            json!({"messagingLimit": "TIER_1K"}),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(
        refused["error"],
        "messagingLimit must be one of TIER_250, TIER_2K, TIER_10K, TIER_100K, TIER_UNLIMITED"
    );
}
