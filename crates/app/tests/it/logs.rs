//! The message log query and 8x8's log export jobs, end to end.

use std::io::Read;

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::helpers::{Backend, Setup, TestApp, spawn_app_with};

const SG: &str = "+6591234567";
const US: &str = "+15551230001";

async fn app_with_traffic(backend: Backend) -> (TestApp, Vec<String>) {
    let app = spawn_app_with(
        backend,
        Setup {
            stopped_clock: true,
            ..Setup::default()
        },
    )
    .await;
    let mut umids = Vec::new();
    for user in [SG, US] {
        app.phone_sends(user, json!({"type": "text", "content": {"text": "hello"}}))
            .await;
    }
    app.settle().await;
    for i in 0..6 {
        let user = if i % 2 == 0 { SG } else { US };
        let (status, body) = app
            .send(json!({"user": {"msisdn": user}, "type": "text",
                         "content": {"text": format!("secret {i}")}, "clientMessageId": format!("c{i}")}))
            .await;
        assert_eq!(status, StatusCode::OK);
        umids.push(body["umid"].as_str().unwrap().to_owned());
        app.advance(1).await;
    }
    app.settle().await;
    // The phones read everything.
    app.advance(10).await;
    app.settle().await;
    (app, umids)
}

async fn log(app: &TestApp, query: &str) -> Value {
    let (status, body) = app
        .api_get(&format!(
            "/api/v1/accounts/{}/messages?{query}",
            app.account
        ))
        .await;
    assert_eq!(status, StatusCode::OK, "{query}: {body}");
    body
}

fn umids(page: &Value) -> Vec<String> {
    page["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["umid"].as_str().unwrap().to_owned())
        .collect()
}

async fn the_log_filters_and_pages_newest_first(backend: Backend) {
    let (app, sent) = app_with_traffic(backend).await;
    let mut walked = Vec::new();
    let mut query = "pageSize=3".to_owned();
    loop {
        let page = log(&app, &query).await;
        walked.extend(umids(&page));
        match page["nextCursor"].as_str() {
            Some(cursor) => query = format!("pageSize=3&cursor={cursor}"),
            None => break,
        }
    }
    assert_eq!(walked.len(), 8, "six sent and two received, each once");
    let newest_first: Vec<_> = sent.iter().rev().cloned().collect();
    assert_eq!(walked[..6], newest_first[..]);

    let inbound = log(&app, "direction=inbound").await;
    assert_eq!(inbound["data"].as_array().unwrap().len(), 2);
    let singapore = log(&app, "country=SG&direction=outbound").await;
    assert_eq!(
        umids(&singapore),
        [sent[4].clone(), sent[2].clone(), sent[0].clone()]
    );
    let one = log(
        &app,
        &format!(
            "recipient={}&clientMessageId=c3",
            US.trim_start_matches('+')
        ),
    )
    .await;
    assert_eq!(umids(&one), [sent[3].clone()]);
    let read = log(
        &app,
        &format!(
            "status=read&subAccountId={}&channel=WhatsApp",
            app.sub_account
        ),
    )
    .await;
    assert_eq!(read["data"].as_array().unwrap().len(), 6);
    let by_umid = log(&app, &format!("umid={}", sent[1])).await;
    assert_eq!(umids(&by_umid), [sent[1].clone()]);

    let (status, body) = app
        .api_get(&format!(
            "/api/v1/accounts/{}/messages?status=lost",
            app.account
        ))
        .await;
    assert_eq!(
        (status, body["code"].clone()),
        (StatusCode::BAD_REQUEST, json!(1000))
    );
    let (status, _) = app.api_get("/api/v1/accounts/someone-else/messages").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

async fn request_export(app: &TestApp, body: Value) -> (StatusCode, Value) {
    app.api_call(
        Method::POST,
        &format!("/api/v1/subaccounts/{}/messages/exports", app.sub_account),
        Some(body),
    )
    .await
}

async fn start_export(app: &TestApp, body: Value) -> String {
    let (status, answer) = request_export(app, body).await;
    assert_eq!(status, StatusCode::ACCEPTED, "{answer}");
    answer["jobId"].as_str().unwrap().to_owned()
}

/// Starts an export, lets the job worker build it: the job and its download link.
async fn built_export(app: &TestApp, body: Value) -> (String, String) {
    let job = start_export(app, body).await;
    app.run_jobs().await;
    let (_, status) = export_status(app, &job).await;
    let link = status["data"][0].as_str().expect("a link").to_owned();
    (job, link)
}

async fn export_status(app: &TestApp, job: &str) -> (StatusCode, Value) {
    app.api_get(&format!(
        "/api/v1/subaccounts/{}/messages/exports/{job}",
        app.sub_account
    ))
    .await
}

/// The export's CSV rows (header first), downloaded through its link.
async fn download(app: &TestApp, link: &str) -> Vec<Vec<String>> {
    let response = app.http.get(link).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.headers()["content-type"], "application/gzip");
    let gz = response.bytes().await.unwrap();
    let mut text = String::new();
    flate2::read::GzDecoder::new(gz.as_ref())
        .read_to_string(&mut text)
        .unwrap();
    csv::ReaderBuilder::new()
        .has_headers(false)
        .from_reader(text.as_bytes())
        .records()
        .map(|r| r.unwrap().iter().map(str::to_owned).collect())
        .collect()
}

async fn exports_are_built_in_the_background_masked_unless_the_account_allows(backend: Backend) {
    let (app, _) = app_with_traffic(backend).await;
    let job = start_export(&app, json!({"countries": ["SG"]})).await;
    assert_eq!(
        export_status(&app, &job).await.1,
        json!({"status": "queued"})
    );
    let report = app.run_jobs().await;
    assert_eq!((report.jobs_done, report.jobs_failed), (1, 0));
    let (_, status) = export_status(&app, &job).await;
    assert_eq!(status["status"], "succeeded", "{status}");
    assert!(status["expires"].is_string());
    let link = status["data"][0].as_str().unwrap();
    let rows = download(&app, link).await;
    assert_eq!(rows[0][0], "umid");
    assert_eq!(
        rows.len(),
        1 + 4,
        "three sent to and one received from Singapore"
    );
    let (msisdn, content) = (6, 12);
    assert!(
        rows[1..]
            .iter()
            .all(|r| r[msisdn] == "+659*****67" && r[content] == "**MASKED**")
    );

    let (status, _) = app
        .api_call(
            Method::PATCH,
            &format!("/api/v1/accounts/{}/settings", app.account),
            Some(json!({"logExportsUnmasked": true})),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let (clear, link) = built_export(&app, json!({"phoneNumber": "6591234567", "limit": 2})).await;
    let rows = download(&app, &link).await;
    assert_eq!(rows.len(), 1 + 2, "the limit holds");
    assert_eq!(rows[1][msisdn], SG);
    assert_eq!(rows[1][content], "secret 4");

    // The link works for 24 hours, then the file is removed.
    app.advance(24 * 3600 + 1).await;
    assert_eq!(
        app.http.get(&link).send().await.unwrap().status(),
        StatusCode::NOT_FOUND
    );
    assert!(export_status(&app, &clear).await.1.get("data").is_none());
    assert_eq!(app.housekeeping().await.export_files_removed, 2);

    // `channelUserId` is the number's digits, as 8x8's v2 webhooks gave it, or WhatsApp's
    // business-scoped id for a user the account heard of (see `conversation`).
    let (_, link) = built_export(&app, json!({"channelUserId": "6591234567", "limit": 1})).await;
    assert_eq!(download(&app, &link).await[1][msisdn], SG);
    for (refused, why) in [
        (
            json!({"channelUserId": "US.13491208655302741918"}),
            "a business-scoped id this account never heard of",
        ),
        (
            json!({"channelUserId": "6591234567", "phoneNumber": "+6599999999"}),
            "two users",
        ),
    ] {
        let (status, body) = request_export(&app, refused).await;
        assert_eq!(
            (status, body["code"].clone()),
            (StatusCode::BAD_REQUEST, json!(1000)),
            "{why}: {body}"
        );
    }

    let nothing = start_export(&app, json!({"countries": ["DE"]})).await;
    app.run_jobs().await;
    assert_eq!(export_status(&app, &nothing).await.1["status"], "empty");
}

async fn exports_are_cancelled_and_unknown_jobs_are_4018(backend: Backend) {
    let (app, _) = app_with_traffic(backend).await;
    let job = start_export(&app, json!({})).await;
    let path = format!(
        "/api/v1/subaccounts/{}/messages/exports/{job}",
        app.sub_account
    );
    let (status, _) = app.api_call(Method::DELETE, &path, None).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    assert_eq!(
        app.run_jobs().await.jobs_done,
        0,
        "the build of a cancelled export is cancelled with it"
    );
    assert_eq!(export_status(&app, &job).await.1["status"], "cancelled");

    for unknown in ["0190a4c2-0000-7000-8000-000000000000", "not-a-job"] {
        let (status, body) = export_status(&app, unknown).await;
        assert_eq!(
            (status, body["code"].clone()),
            (StatusCode::NOT_FOUND, json!(4018))
        );
    }
    let (status, body) = app
        .api_call(
            Method::POST,
            &format!("/api/v1/subaccounts/{}/messages/exports", app.sub_account),
            Some(json!({"from": "2026-13-45"})),
        )
        .await;
    assert_eq!(
        (status, body["code"].clone()),
        (StatusCode::BAD_REQUEST, json!(1000))
    );
}

crate::on_each_backend!(
    the_log_filters_and_pages_newest_first,
    exports_are_built_in_the_background_masked_unless_the_account_allows,
    exports_are_cancelled_and_unknown_jobs_are_4018,
);
