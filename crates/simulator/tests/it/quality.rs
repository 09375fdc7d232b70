//! Quality: users block and report a number, its rating falls and recovers, a blocked
//! user gets nothing, and complaints about a RED number walk its templates down the pause
//! ladder.

use chrono::Duration;
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{number, number_update, spawn_sim, user};

#[tokio::test]
async fn blocks_turn_the_number_red_and_stop_its_messages_to_the_blocker() {
    let app = spawn_sim(1).await;
    for n in 0..40 {
        app.user_writes(&user(n), "pn-1").await;
        app.send_text("pn-1", &user(n), "your order shipped").await;
    }
    let (status, first) = app
        .post(&format!("/api/phones/{}/block", user(0)), json!({}))
        .await;
    assert_eq!(status, StatusCode::OK, "{first}");
    assert_eq!(
        first,
        json!({"msisdn": user(0), "phoneNumberId": "pn-1", "counted": true,
               "quality": "YELLOW", "paused": []}),
        "1 block from 40 users is 2.5 %"
    );
    let (_, again) = app
        .post(&format!("/api/phones/{}/block", user(0)), json!({}))
        .await;
    assert_eq!(again["counted"], false, "a block is once");
    assert_eq!(
        app.changes("phone_number_quality_update").await,
        [] as [Value; 0],
        "Meta reports nothing for YELLOW"
    );
    let (_, second) = app
        .post(
            &format!("/api/phones/{}/block", user(1)),
            json!({"channelId": number(1).1}),
        )
        .await;
    assert_eq!(second["quality"], "RED", "5 %");
    assert_eq!(
        app.changes("phone_number_quality_update").await,
        [number_update(
            &number(1).1,
            "FLAGGED",
            "TIER_250",
            "TIER_250"
        )]
    );
    assert_eq!(app.limits("pn-1").await["quality"], "RED");

    let to_blocker = app.send_text("pn-1", &user(0), "are you there?").await;
    let receipt = app.failed_receipt(&to_blocker).await;
    assert_eq!(receipt["errors"][0]["code"], 131026);
    let to_other = app.send_text("pn-1", &user(2), "still open").await;
    assert_eq!(app.code_of(&to_other).await, 0);

    // A week after the blocks they no longer count (nor do the users messaged then).
    app.advance(Duration::days(7));
    assert_eq!(
        app.changes("phone_number_quality_update").await,
        [number_update(
            &number(1).1,
            "UNFLAGGED",
            "TIER_250",
            "TIER_250"
        )],
        "reported when the clock passes, without a request"
    );
    assert_eq!(app.limits("pn-1").await["quality"], "GREEN");
    let still = app.send_text("pn-1", &user(0), "hello again").await;
    assert_eq!(app.code_of(&still).await, 131026, "still blocked");
    let (_, unblocked) = app.delete(&format!("/api/phones/{}/block", user(0))).await;
    assert_eq!(unblocked["unblocked"], true);
    let after = app.send_text("pn-1", &user(0), "hello again").await;
    assert_eq!(
        app.code_of(&after).await,
        131047,
        "through, to the window rule"
    );
}

#[tokio::test]
async fn a_complaint_must_name_a_business_no_one_has_messaged_the_user_from() {
    let app = spawn_sim(1).await;
    let (status, refused) = app
        .post(&format!("/api/phones/{}/report", user(0)), json!({}))
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{refused}");
    let (status, _) = app
        .post(
            &format!("/api/phones/{}/report", user(0)),
            json!({"business": "pn-9"}),
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, named) = app
        .post(
            &format!("/api/phones/{}/report", user(0)),
            json!({"business": "pn-1"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(named["quality"], "RED", "1 report against at least 1 user");
}

/// The template's `message_template_status_update` events and pause titles so far.
async fn template_events(app: &crate::helpers::TestSim) -> Vec<(String, Option<String>)> {
    app.changes("message_template_status_update")
        .await
        .into_iter()
        .map(|v| {
            (
                v["event"].as_str().unwrap().to_owned(),
                v["other_info"]["title"].as_str().map(str::to_owned),
            )
        })
        .collect()
}

fn event(status: &str, title: Option<&str>) -> (String, Option<String>) {
    (status.to_owned(), title.map(str::to_owned))
}

#[tokio::test]
async fn complaints_about_a_red_number_pause_its_templates_3h_then_6h_then_for_good() {
    let app = spawn_sim(1).await;
    let id = app.approved_template("promo").await;
    app.approved_template("other").await;
    app.send_templates("pn-1", 0..10, "promo").await;
    app.send_template("pn-1", &user(20), "other").await;
    template_events(&app).await;

    let (_, first) = app
        .post(&format!("/api/phones/{}/report", user(0)), json!({}))
        .await;
    assert_eq!(first["quality"], "RED", "1 report from 11 users");
    assert_eq!(
        first["paused"],
        json!([{"id": id, "name": "promo", "language": "en_US", "status": "PAUSED"}]),
        "only what the user received"
    );
    assert_eq!(
        app.changes("message_template_quality_update").await,
        [json!({"message_template_id": id.parse::<u64>().unwrap(),
                "message_template_name": "promo", "message_template_language": "en_US",
                "previous_quality_score": "UNKNOWN", "new_quality_score": "RED"})]
    );
    assert_eq!(
        template_events(&app).await,
        [event("PAUSED", Some("FIRST_PAUSE"))]
    );
    let paused = app.send_template("pn-1", &user(30), "promo").await;
    assert_eq!(app.code_of(&paused).await, 132015);

    app.advance(Duration::hours(3) - Duration::seconds(1));
    assert_eq!(template_events(&app).await, []);
    app.advance(Duration::seconds(1));
    assert_eq!(
        template_events(&app).await,
        [event("APPROVED", Some("UNPAUSE"))],
        "the first pause lasts 3 hours"
    );
    let sent = app.send_template("pn-1", &user(30), "promo").await;
    assert_eq!(app.code_of(&sent).await, 0);

    app.post(&format!("/api/phones/{}/report", user(1)), json!({}))
        .await;
    assert_eq!(
        template_events(&app).await,
        [event("PAUSED", Some("SECOND_PAUSE"))]
    );
    assert_eq!(
        app.changes("message_template_quality_update").await,
        [] as [Value; 0],
        "already RED"
    );
    app.advance(Duration::hours(3));
    assert_eq!(template_events(&app).await, [], "the second lasts 6");
    assert_eq!(app.template_status("promo").await, "PAUSED");
    app.advance(Duration::hours(3));
    assert_eq!(
        template_events(&app).await,
        [event("APPROVED", Some("UNPAUSE"))]
    );

    app.post(&format!("/api/phones/{}/report", user(2)), json!({}))
        .await;
    assert_eq!(
        template_events(&app).await,
        [event("DISABLED", Some("DISABLED"))]
    );
    app.advance(Duration::days(8));
    assert_eq!(template_events(&app).await, []);
    let disabled = app.send_template("pn-1", &user(31), "promo").await;
    assert_eq!(app.code_of(&disabled).await, 132016);
    assert_eq!(app.template_status("other").await, "APPROVED");
}
