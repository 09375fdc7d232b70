//! Conformance: the message log, hosted files and log exports.

use chrono::Duration;
use parley_types::{SubAccountId, Umid};

use crate::conformance::{accept_one, inbound_from, outbound, second_tenant, seeded, t0};
use crate::*;

async fn page<S: Store>(
    store: &S,
    filter: &LogFilter,
    after: Option<LogCursor>,
    limit: u32,
) -> Vec<Message> {
    store.query_messages(filter, after, limit).await.unwrap()
}

fn umids(messages: &[Message]) -> Vec<Umid> {
    messages.iter().map(|m| m.umid).collect()
}

pub async fn the_message_log_filters_and_pages_stably<S: Store>(store: &S) {
    let sandbox = seeded(store).await;
    let second = second_tenant();
    store.create_tenant(&second).await.unwrap();
    // 12 messages, four per instant, so pages must break ties by umid.
    let mut all = Vec::new();
    for i in 0..12 {
        let at = t0() + Duration::seconds(i / 4);
        let user = if i % 3 == 0 {
            "+15551230001"
        } else {
            "+6591234567"
        };
        let mut m = outbound(&sandbox, user, Some(&format!("c{i}")), at);
        if user.starts_with("+65") {
            m.country = Some("SG".into());
        }
        all.push(accept_one(store, m).await);
    }
    let reply = inbound_from(
        &sandbox,
        "+15551230001",
        "wamid.in",
        t0() + Duration::seconds(5),
    );
    store.record_inbound(&reply, false, None).await.unwrap();
    let foreign = outbound(&second, "+15551230001", None, t0());
    accept_one(store, foreign).await;

    let account = LogFilter {
        account_id: Some(sandbox.account.id.clone()),
        ..LogFilter::default()
    };
    let mut expected: Vec<Message> = all.iter().cloned().chain([reply.clone()]).collect();
    expected.sort_by(|a, b| {
        (b.created_at, b.umid.to_string()).cmp(&(a.created_at, a.umid.to_string()))
    });

    // Pages of 5 walk every message once, in order, and end with a short page.
    let mut walked = Vec::new();
    let mut after = None;
    loop {
        let got = page(store, &account, after, 5).await;
        walked.extend(umids(&got));
        match got.last() {
            Some(last) if got.len() == 5 => {
                after = Some(LogCursor {
                    created_at: last.created_at,
                    umid: last.umid,
                })
            }
            _ => break,
        }
    }
    assert_eq!(walked, umids(&expected), "every message once, newest first");

    let with = |f: LogFilter| LogFilter {
        account_id: Some(sandbox.account.id.clone()),
        ..f
    };
    let inbound = page(
        store,
        &with(LogFilter {
            direction: Some(Direction::Inbound),
            ..LogFilter::default()
        }),
        None,
        50,
    )
    .await;
    assert_eq!(umids(&inbound), [reply.umid]);
    let received = page(
        store,
        &with(LogFilter {
            state: Some(MessageState::Received),
            ..LogFilter::default()
        }),
        None,
        50,
    )
    .await;
    assert_eq!(umids(&received), [reply.umid]);
    let singapore = page(
        store,
        &with(LogFilter {
            countries: vec!["SG".into()],
            ..LogFilter::default()
        }),
        None,
        50,
    )
    .await;
    assert_eq!(singapore.len(), 8);
    assert!(singapore.iter().all(|m| m.msisdn == "+6591234567"));
    let user = page(
        store,
        &with(LogFilter {
            msisdn: Some("+15551230001".into()),
            ..LogFilter::default()
        }),
        None,
        50,
    )
    .await;
    assert_eq!(user.len(), 5, "four sent and one received");
    let by_client_id = page(
        store,
        &with(LogFilter {
            client_message_id: Some("c7".into()),
            ..LogFilter::default()
        }),
        None,
        50,
    )
    .await;
    assert_eq!(umids(&by_client_id), [all[7].umid]);
    let by_umid = page(
        store,
        &with(LogFilter {
            umid: Some(all[2].umid),
            ..LogFilter::default()
        }),
        None,
        50,
    )
    .await;
    assert_eq!(umids(&by_umid), [all[2].umid]);
    let window = page(
        store,
        &with(LogFilter {
            from: Some(t0() + Duration::seconds(1)),
            to: Some(t0() + Duration::seconds(2)),
            ..LogFilter::default()
        }),
        None,
        50,
    )
    .await;
    assert_eq!(window.len(), 4, "from is inclusive, to exclusive");
    // Paging through a window: the cursor takes over from `to` as the upper bound, and a
    // cursor past `to` (as a client may send) does not widen the window.
    let two_seconds = with(LogFilter {
        from: Some(t0() + Duration::seconds(1)),
        to: Some(t0() + Duration::seconds(3)),
        ..LogFilter::default()
    });
    let mut walked = Vec::new();
    let mut after = Some(LogCursor {
        created_at: t0() + Duration::seconds(9),
        umid: all[0].umid,
    });
    loop {
        let got = page(store, &two_seconds, after, 3).await;
        walked.extend(umids(&got));
        match got.last() {
            Some(last) if got.len() == 3 => {
                after = Some(LogCursor {
                    created_at: last.created_at,
                    umid: last.umid,
                })
            }
            _ => break,
        }
    }
    let in_window: Vec<_> = expected
        .iter()
        .filter(|m| {
            m.created_at >= t0() + Duration::seconds(1)
                && m.created_at < t0() + Duration::seconds(3)
        })
        .map(|m| m.umid)
        .collect();
    assert_eq!(walked, in_window, "the window's 8 messages, each once");
    let other_sub = page(
        store,
        &with(LogFilter {
            sub_account_id: Some(SubAccountId::parse("sub-elsewhere").unwrap()),
            ..LogFilter::default()
        }),
        None,
        50,
    )
    .await;
    assert!(other_sub.is_empty());
    let channel = page(
        store,
        &with(LogFilter {
            channel_id: Some(sandbox.channel.id),
            ..LogFilter::default()
        }),
        None,
        50,
    )
    .await;
    assert_eq!(channel.len(), 13);
}

fn hosted(name: &str, sandbox: &Sandbox, expires_in: Duration) -> HostedFile {
    HostedFile {
        file_name: name.into(),
        account_id: sandbox.account.id.clone(),
        sub_account_id: sandbox.sub_account.id.clone(),
        mime: "image/jpeg".into(),
        size: 0,
        origin: FileOrigin::Upload,
        token_hash: format!("hash-{name}"),
        created_at: t0(),
        expires_at: t0() + expires_in,
    }
}

pub async fn hosted_files_are_served_once_written_and_cleaned_when_expired_or_stale<S: Store>(
    store: &S,
) {
    let sandbox = seeded(store).await;
    let kept = hosted("a.jpeg", &sandbox, Duration::days(30));
    let expiring = hosted("b.jpeg", &sandbox, Duration::hours(24));
    let abandoned = hosted("c.jpeg", &sandbox, Duration::days(30));
    for f in [&kept, &expiring, &abandoned] {
        store.reserve_file(f).await.unwrap();
    }
    assert_eq!(
        store.hosted_file("a.jpeg").await.unwrap(),
        None,
        "not before it is written"
    );
    store.file_written("a.jpeg", 1234).await.unwrap();
    store.file_written("b.jpeg", 10).await.unwrap();
    let served = store.hosted_file("a.jpeg").await.unwrap().unwrap();
    assert_eq!(
        served,
        HostedFile {
            size: 1234,
            ..kept.clone()
        }
    );
    assert!(store.reserve_file(&kept).await.is_err(), "names are unique");

    let an_hour_in = t0() + Duration::hours(1);
    let nothing: Vec<String> = store.files_to_clean(an_hour_in, t0(), 10).await.unwrap();
    assert!(nothing.is_empty());
    let mut stale = store
        .files_to_clean(an_hour_in, an_hour_in, 10)
        .await
        .unwrap();
    stale.sort();
    assert_eq!(stale, ["c.jpeg"], "a write that never finished");
    let mut next_day = store
        .files_to_clean(t0() + Duration::hours(25), t0(), 10)
        .await
        .unwrap();
    next_day.sort();
    assert_eq!(next_day, ["b.jpeg"]);
    store.forget_file("b.jpeg").await.unwrap();
    assert_eq!(store.hosted_file("b.jpeg").await.unwrap(), None);
}

fn export_job(sandbox: &Sandbox, at: chrono::DateTime<chrono::Utc>) -> ExportJob {
    ExportJob {
        id: uuid::Uuid::now_v7(),
        account_id: sandbox.account.id.clone(),
        sub_account_id: sandbox.sub_account.id.clone(),
        status: ExportStatus::Queued,
        request: serde_json::json!({"limit": 0}),
        unmasked: false,
        created_at: at,
        finished_at: None,
        file_key: None,
        download_token: None,
        rows: None,
        expires_at: None,
        error: None,
    }
}

/// The work job that builds `job`, as the log exports schedule it.
fn build_job(job: &ExportJob) -> NewJob {
    NewJob {
        kind: JobKind::Work,
        queue: "logs.export".into(),
        key: job.id.to_string(),
        account_id: job.account_id.clone(),
        conversation: None,
        payload: serde_json::json!({}),
        due_at: job.created_at,
        retry: vec![10],
    }
}

pub async fn exports_are_begun_by_their_job_finished_or_cancelled_and_expire<S: Store>(store: &S) {
    let sandbox = seeded(store).await;
    let first = export_job(&sandbox, t0());
    let second = export_job(&sandbox, t0() + Duration::seconds(1));
    store
        .create_export(&first, &build_job(&first))
        .await
        .unwrap();
    store
        .create_export(&second, &build_job(&second))
        .await
        .unwrap();
    assert_eq!(store.export(first.id).await.unwrap().unwrap(), first);
    let job = store
        .job("logs.export", &first.id.to_string())
        .await
        .unwrap();
    assert_eq!(
        job.map(|j| (j.kind, j.state)),
        Some((JobKind::Work, JobState::Pending)),
        "queued with the job that builds it"
    );

    let begun = store.begin_export(first.id).await.unwrap().unwrap();
    assert_eq!((begun.id, begun.status), (first.id, ExportStatus::Running));
    // Its builder died: the job runs again and finds it running.
    let again = store.begin_export(first.id).await.unwrap().unwrap();
    assert_eq!(again.status, ExportStatus::Running);
    assert_eq!(
        store.begin_export(uuid::Uuid::now_v7()).await.unwrap(),
        None
    );
    let later = t0() + Duration::minutes(5);

    let done = ExportResult::Succeeded {
        file_key: "exports/a.csv.gz".into(),
        download_token: "tok".into(),
        rows: 42,
        expires_at: later + Duration::hours(24),
    };
    assert!(store.finish_export(first.id, &done, later).await.unwrap());
    assert_eq!(
        store.begin_export(first.id).await.unwrap(),
        None,
        "an ended export is not built again"
    );
    let finished = store.export_by_token("tok").await.unwrap().unwrap();
    assert_eq!(
        (
            finished.id,
            finished.status,
            finished.rows,
            finished.finished_at
        ),
        (first.id, ExportStatus::Succeeded, Some(42), Some(later))
    );
    assert_eq!(
        store
            .cancel_export(first.id, later)
            .await
            .unwrap()
            .unwrap()
            .status,
        ExportStatus::Succeeded,
        "an ended job stays as it ended"
    );

    let cancelled = store
        .cancel_export(second.id, later)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(cancelled.status, ExportStatus::Cancelled);
    assert_eq!(
        store.begin_export(second.id).await.unwrap(),
        None,
        "a cancelled export is not built"
    );
    assert!(
        !store
            .finish_export(second.id, &ExportResult::Empty, later)
            .await
            .unwrap(),
        "a cancelled job stays cancelled"
    );
    assert_eq!(
        store
            .cancel_export(uuid::Uuid::now_v7(), later)
            .await
            .unwrap(),
        None
    );

    assert!(store.expired_exports(later, 10).await.unwrap().is_empty());
    let expired = store
        .expired_exports(later + Duration::hours(24), 10)
        .await
        .unwrap();
    assert_eq!(job_ids(&expired), [first.id]);
    store.drop_export_file(first.id).await.unwrap();
    assert!(
        store
            .expired_exports(later + Duration::hours(24), 10)
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(
        store.export_by_token("tok").await.unwrap(),
        None,
        "the link is gone"
    );
}

fn job_ids(jobs: &[ExportJob]) -> Vec<uuid::Uuid> {
    jobs.iter().map(|j| j.id).collect()
}

pub async fn log_unmasking_is_per_account<S: Store>(store: &S) {
    let sandbox = seeded(store).await;
    let second = second_tenant();
    store.create_tenant(&second).await.unwrap();
    assert!(
        !store.logs_unmasked(&sandbox.account.id).await.unwrap(),
        "masked by default"
    );
    store
        .set_logs_unmasked(&sandbox.account.id, true)
        .await
        .unwrap();
    assert!(store.logs_unmasked(&sandbox.account.id).await.unwrap());
    assert!(!store.logs_unmasked(&second.account.id).await.unwrap());
    store
        .set_logs_unmasked(&sandbox.account.id, false)
        .await
        .unwrap();
    assert!(!store.logs_unmasked(&sandbox.account.id).await.unwrap());
}
