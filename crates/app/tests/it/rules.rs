//! WhatsApp's rules as a sender lives them, on the injected clock: the customer-service
//! window, the free entry point, what each message costs (message details and the usage
//! report), and WhatsApp's own "too fast" answers retried until delivered.

use chrono::{DateTime, Duration, Utc};
use parley_app::config::Config;
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{Backend, Setup, TestApp, spawn_app_with};
use crate::template_fixtures::{deliver, send_template, with_templates};

async fn app_on(backend: Backend, configure: Option<fn(&mut Config)>) -> TestApp {
    spawn_app_with(
        backend,
        Setup {
            stopped_clock: true,
            configure,
            ..Setup::default()
        },
    )
    .await
}

fn time(value: &Value) -> DateTime<Utc> {
    value
        .as_str()
        .and_then(|t| DateTime::parse_from_rfc3339(t).ok())
        .unwrap_or_else(|| panic!("{value} is a time"))
        .with_timezone(&Utc)
}

async fn now(app: &TestApp) -> DateTime<Utc> {
    time(&app.get_json("/sim/api/clock").await["now"])
}

/// Parley's window API for a user.
async fn window(app: &TestApp, user: &str) -> Value {
    let (status, body) = app
        .api_get(&format!(
            "/api/v1/subaccounts/{}/users/{user}/window",
            app.sub_account
        ))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body
}

/// The simulator's view of the same user (what WhatsApp enforces).
async fn whatsapp_window(app: &TestApp, user: &str) -> Value {
    app.get_json(&format!("/sim/api/phones/{user}/window"))
        .await
}

fn assert_close(a: DateTime<Utc>, b: DateTime<Utc>, what: &str) {
    // WhatsApp's webhook timestamps are whole seconds.
    assert!((a - b).abs() <= Duration::seconds(1), "{what}: {a} vs {b}");
}

async fn user_writes(app: &TestApp, user: &str, referral: Option<Value>) {
    let mut body = json!({"type": "text", "content": {"text": "hi"}});
    if let Some(referral) = referral {
        body["referral"] = referral;
    }
    app.phone_sends(user, body).await;
    app.settle().await;
}

fn ad() -> Option<Value> {
    Some(json!({"sourceType": "ad", "sourceId": "120000001", "headline": "Spring sale"}))
}

async fn the_service_window_opens_resets_and_closes(backend: Backend) {
    let app = app_on(backend, None).await;
    let user = "+15553450001";
    let closed = window(&app, user).await;
    assert_eq!(
        closed["customerServiceWindow"],
        json!({"open": false, "expiresAt": null})
    );
    assert_eq!(closed["msisdn"], user);

    let wrote = now(&app).await;
    user_writes(&app, user, None).await;
    let open = window(&app, user).await;
    assert_eq!(open["customerServiceWindow"]["open"], true, "{open}");
    let until = time(&open["customerServiceWindow"]["expiresAt"]);
    assert_close(until, wrote + Duration::hours(24), "opened for 24 h");
    let enforced = whatsapp_window(&app, user).await;
    assert_close(
        until,
        time(&enforced["serviceWindow"]["expiresAt"]),
        "as WhatsApp has it",
    );

    app.advance(20 * 3600).await;
    let again = now(&app).await;
    user_writes(&app, user, None).await;
    let reset = window(&app, user).await;
    assert_close(
        time(&reset["customerServiceWindow"]["expiresAt"]),
        again + Duration::hours(24),
        "reset by the next message",
    );

    app.advance(24 * 3600).await;
    let expired = window(&app, user).await;
    assert_eq!(
        expired["customerServiceWindow"],
        json!({"open": false, "expiresAt": null})
    );
    assert_eq!(
        whatsapp_window(&app, user).await["serviceWindow"]["open"],
        false
    );
    let umid = app.send_text(user, "are you still there?").await;
    app.settle().await;
    let details = app.details(&umid).await;
    assert_eq!(details["status"]["state"], "undelivered", "{details:#}");
    assert_eq!(details["status"]["errorCode"], 1022, "outside the window");
    assert_eq!(
        details["conversationWindow"]["customerServiceWindow"]["open"],
        false
    );
}

async fn a_free_entry_point_opens_only_on_a_timely_reply_and_lasts_72_hours(backend: Backend) {
    let app = app_on(backend, None).await;
    with_templates(&app).await;
    let (answered, late) = ("+15553450011", "+15553450012");
    user_writes(&app, answered, ad()).await;
    user_writes(&app, late, ad()).await;
    let waiting = window(&app, answered).await;
    assert_eq!(
        waiting["freeEntryPoint"]["active"], false,
        "not before a reply"
    );
    assert!(
        waiting["freeEntryPoint"]["replyBy"].is_string(),
        "{waiting}"
    );

    app.advance(23 * 3600).await;
    let replied = now(&app).await;
    app.send_text(answered, "thanks for your interest!").await;
    deliver(&app).await;
    let opened = window(&app, answered).await;
    assert_eq!(opened["freeEntryPoint"]["active"], true, "{opened}");
    let free_until = time(&opened["freeEntryPoint"]["expiresAt"]);
    assert_close(
        free_until,
        replied + Duration::hours(72),
        "72 h from the reply",
    );
    assert_close(
        free_until,
        time(&whatsapp_window(&app, answered).await["freeEntryPoint"]["expiresAt"]),
        "as WhatsApp has it",
    );

    app.advance(2 * 3600).await;
    let missed = send_template(&app, late, "spring_sale").await;
    deliver(&app).await;
    assert_eq!(
        window(&app, late).await["freeEntryPoint"]["active"],
        false,
        "answered after 24 h"
    );
    assert_eq!(app.details(&missed).await["pricing"]["billable"], true);

    app.advance(5 * 3600).await;
    user_writes(&app, answered, None).await;
    assert_eq!(
        window(&app, answered).await["freeEntryPoint"]["expiresAt"],
        opened["freeEntryPoint"]["expiresAt"],
        "the user writing again does not reset it"
    );

    // The service window has closed; the free entry point still makes templates free.
    app.advance(30 * 3600).await;
    assert_eq!(
        window(&app, answered).await["customerServiceWindow"]["open"],
        false
    );
    let free = send_template(&app, answered, "spring_sale").await;
    deliver(&app).await;
    assert_eq!(
        app.details(&free).await["pricing"],
        json!({"pricingCategory": "referral_conversion", "type": "free_entry_point", "billable": false, "cost": null})
    );

    let left = (free_until - now(&app).await).num_seconds();
    app.advance(left as u64 + 1).await;
    assert_eq!(
        window(&app, answered).await["freeEntryPoint"]["active"],
        false,
        "over after 72 h"
    );
    let paid = send_template(&app, answered, "spring_sale").await;
    deliver(&app).await;
    assert_eq!(app.details(&paid).await["pricing"]["cost"], 0.025);
}

async fn each_message_costs_what_its_category_country_and_window_say(backend: Backend) {
    let app = app_on(backend, None).await;
    with_templates(&app).await;
    let (customer, cold, singapore) = ("+15553450021", "+15553450022", "+6591234567");
    user_writes(&app, customer, None).await;
    let cases = [
        (
            app.send_text(customer, "here is your answer").await,
            json!({"pricingCategory": "service", "type": "free_customer_service", "billable": false, "cost": null}),
        ),
        (
            send_template(&app, customer, "order_note").await,
            json!({"pricingCategory": "utility", "type": "free_customer_service", "billable": false, "cost": null}),
        ),
        (
            send_template(&app, customer, "spring_sale").await,
            json!({"pricingCategory": "marketing", "type": "regular", "billable": true, "cost": 0.025}),
        ),
        (
            send_template(&app, cold, "order_note").await,
            json!({"pricingCategory": "utility", "type": "regular", "billable": true, "cost": 0.004}),
        ),
        (
            send_template(&app, cold, "login_code").await,
            json!({"pricingCategory": "authentication", "type": "regular", "billable": true, "cost": 0.0135}),
        ),
        (
            send_template(&app, singapore, "spring_sale").await,
            json!({"pricingCategory": "marketing", "type": "regular", "billable": true, "cost": 0.0732}),
        ),
    ];
    let undeliverable = send_template(&app, "+99955501234", "spring_sale").await;

    app.settle().await;
    let sent_only = app.details(&cases[2].0).await;
    assert_eq!(sent_only["status"]["detail"], "delivered_to_operator");
    assert_eq!(
        sent_only["pricing"]["cost"],
        Value::Null,
        "nothing is charged before delivery"
    );

    app.advance(5).await;
    app.settle().await;
    for (umid, expected) in &cases {
        let details = app.details(umid).await;
        assert_eq!(&details["pricing"], expected, "{details:#}");
    }
    let failed = app.details(&undeliverable).await;
    assert_eq!(failed["status"]["state"], "undelivered");
    assert!(failed.get("pricing").is_none(), "{failed:#}");

    let period = now(&app).await.format("%Y-%m").to_string();
    let (status, usage) = app
        .api_get(&format!(
            "/api/v1/accounts/{}/usage/messages?billingPeriod={period}&groupBy=pricingCategory,country",
            app.account
        ))
        .await;
    assert_eq!(status, StatusCode::OK, "{usage}");
    let rows: Vec<(String, String, u64, u64, u64, f64)> = usage["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["pricingCategory"].as_str().unwrap().to_owned(),
                r["country"].as_str().unwrap().to_owned(),
                r["volume"]["delivered"].as_u64().unwrap(),
                r["volume"]["charged"].as_u64().unwrap(),
                r["volume"]["free"].as_u64().unwrap(),
                r["cost"].as_f64().unwrap(),
            )
        })
        .collect();
    let row = |c: &str, n: &str, d, ch, f, cost| (c.to_owned(), n.to_owned(), d, ch, f, cost);
    assert_eq!(
        rows,
        [
            row("authentication", "US", 1, 1, 0, 0.0135),
            row("marketing", "SG", 1, 1, 0, 0.0732),
            row("marketing", "US", 1, 1, 0, 0.025),
            row("service", "US", 1, 0, 1, 0.0),
            row("utility", "US", 2, 1, 1, 0.004),
        ]
    );
    assert_eq!(
        usage["meta"]["groupBy"],
        json!(["pricingCategory", "country"])
    );
    assert_eq!(usage["meta"]["currency"], "USD");
    assert_eq!(usage["meta"]["billingPeriod"]["status"], "open");

    let (status, total) = app
        .api_get(&format!(
            "/api/v1/accounts/{}/usage/messages?billingPeriod={period}",
            app.account
        ))
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        total["data"],
        json!([{"volume": {"delivered": 6, "charged": 4, "free": 2}, "cost": 0.1157}])
    );
    let (status, error) = app
        .api_get(&format!(
            "/api/v1/accounts/{}/usage/messages?billingPeriod=2026-13",
            app.account
        ))
        .await;
    assert_eq!(
        (status, error["code"].as_u64()),
        (StatusCode::BAD_REQUEST, Some(1000))
    );
}

fn two_volume_tiers(config: &mut Config) {
    config.pricing.volume_tiers = vec![
        parley_app::config::VolumeTierSection {
            from: 0,
            to: Some(1),
            discount_percent: 0.0,
        },
        parley_app::config::VolumeTierSection {
            from: 2,
            to: None,
            discount_percent: 50.0,
        },
    ];
}

async fn utility_gets_cheaper_with_the_months_volume(backend: Backend) {
    let app = app_on(backend, Some(two_volume_tiers)).await;
    with_templates(&app).await;
    let mut umids = Vec::new();
    for user in ["+15553450031", "+15553450032", "+15553450033"] {
        umids.push(send_template(&app, user, "order_note").await);
        umids.push(send_template(&app, user, "spring_sale").await);
    }
    deliver(&app).await;
    // Whichever utility message was delivered first is the month's first.
    let mut utility = Vec::new();
    let mut marketing = Vec::new();
    for (i, umid) in umids.iter().enumerate() {
        let cost = app.details(umid).await["pricing"]["cost"].as_f64().unwrap();
        if i % 2 == 0 {
            utility.push(cost)
        } else {
            marketing.push(cost)
        }
    }
    utility.sort_by(f64::total_cmp);
    assert_eq!(utility, [0.002, 0.002, 0.004], "half price from the second");
    assert_eq!(
        marketing,
        [0.025, 0.025, 0.025],
        "marketing is never tiered"
    );
    let period = now(&app).await.format("%Y-%m").to_string();
    let (_, usage) = app
        .api_get(&format!(
            "/api/v1/accounts/{}/usage/messages?billingPeriod={period}&groupBy=channel,businessAccountId,pricingCategory,country",
            app.account
        ))
        .await;
    let pricing: Vec<&Value> = usage["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| &r["pricing"])
        .collect();
    assert_eq!(
        pricing,
        [
            &json!({"rateModel": "flat"}),
            &json!({"rateModel": "tiered", "tiers": [
                {"from": 0, "to": 1, "quantity": 1, "status": "completed"},
                {"from": 2, "to": null, "quantity": 2, "status": "completed"}]}),
        ]
    );
}

/// Users who wrote, so that free-form replies to them are delivered.
async fn users_who_wrote(app: &TestApp, count: usize) -> Vec<String> {
    let users: Vec<String> = (0..count).map(|i| format!("+1555346{i:04}")).collect();
    for user in &users {
        user_writes(app, user, None).await;
    }
    users
}

/// How many of `umids` reached the user and were read (the simulated phones read at once).
async fn read_by_user(app: &TestApp, umids: &[String]) -> usize {
    let mut n = 0;
    for umid in umids {
        if app.details(umid).await["status"]["state"] == "read" {
            n += 1;
        }
    }
    n
}

async fn throughput_refusals_are_retried_until_delivered(backend: Backend) {
    let app = app_on(backend, None).await;
    let limits = app
        .control(
            &format!("/sim/api/businesses/{}/limits", app.channel),
            json!({"throughput": 2}),
        )
        .await;
    assert_eq!(limits["throughput"], 2);
    let users = users_who_wrote(&app, 6).await;
    let mut umids = Vec::new();
    for user in &users {
        umids.push(app.send_text(user, "your parcel is on its way").await);
    }
    let first = app.dispatch().await;
    assert_eq!(
        (first.sent, first.held, first.failed),
        (2, 4, 0),
        "{first:?}"
    );
    for _ in 0..10 {
        app.advance(1).await;
        deliver(&app).await;
        if read_by_user(&app, &umids).await == umids.len() {
            break;
        }
    }
    assert_eq!(
        read_by_user(&app, &umids).await,
        6,
        "every message got through"
    );
    let sends = app.get_json("/sim/api/sends").await;
    assert_eq!(
        sends["sends"].as_array().unwrap().len(),
        6,
        "each accepted once"
    );
    let metrics = app.metrics().await;
    assert!(
        metrics.contains("parley_dispatch_throttled_total{reason=\"throughput\"}"),
        "{metrics}"
    );
}

async fn pair_rate_refusals_wait_and_keep_the_order(backend: Backend) {
    let app = app_on(backend, None).await;
    app.control(
        &format!("/sim/api/businesses/{}/limits", app.channel),
        json!({"pairRate": {"burst": 2, "intervalSeconds": 6}}),
    )
    .await;
    let user = &users_who_wrote(&app, 1).await[0];
    let mut umids = Vec::new();
    for i in 1..=4 {
        umids.push(app.send_text(user, &format!("update {i}")).await);
    }
    deliver(&app).await;
    assert_eq!(
        read_by_user(&app, &umids).await,
        2,
        "a burst of two, then WhatsApp says wait"
    );
    app.advance(6).await;
    deliver(&app).await;
    assert_eq!(read_by_user(&app, &umids).await, 3);
    app.advance(6).await;
    deliver(&app).await;
    assert_eq!(read_by_user(&app, &umids).await, 4);
    let chat: Vec<String> = app
        .phone(user)
        .await
        .iter()
        .filter(|m| m["direction"] == "from_business")
        .map(|m| m["message"]["body"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(chat, ["update 1", "update 2", "update 3", "update 4"]);
    let metrics = app.metrics().await;
    assert!(
        metrics.contains("parley_dispatch_throttled_total{reason=\"pair_rate\"}"),
        "{metrics}"
    );
}

crate::on_each_backend!(
    the_service_window_opens_resets_and_closes,
    a_free_entry_point_opens_only_on_a_timely_reply_and_lasts_72_hours,
    each_message_costs_what_its_category_country_and_window_say,
    utility_gets_cheaper_with_the_months_volume,
    throughput_refusals_are_retried_until_delivered,
    pair_rate_refusals_wait_and_keep_the_order,
);
