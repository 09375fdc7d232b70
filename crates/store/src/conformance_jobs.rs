//! Conformance checks for jobs and timers: scheduling is idempotent on the key, a timer
//! fires once and becomes an event in the same write, and work jobs are leased, retried,
//! dead-lettered and redriven.

use chrono::Duration;
use serde_json::json;

use crate::conformance::{seeded, t0};
use crate::*;

fn job(sb: &Sandbox, kind: JobKind, queue: &str, key: &str, due_in: i64) -> NewJob {
    NewJob {
        kind,
        queue: queue.into(),
        key: key.into(),
        account_id: sb.account.id.clone(),
        conversation: None,
        payload: json!({"step": key}),
        due_at: t0() + Duration::seconds(due_in),
        retry: vec![10, 30],
    }
}

pub async fn timers_fire_once_as_events_in_due_order<S: Store>(store: &S) {
    let sb = seeded(store).await;
    let wait = |key, due_in| job(&sb, JobKind::Timer, "automation.wait", key, due_in);
    let mut named = wait("i-1", 2);
    named.conversation = Some("m:chan:+1555".into());
    let scheduled = store
        .schedule_jobs(
            &[named, wait("i-2", 1), wait("i-3", 3600), wait("i-1", 9)],
            t0(),
        )
        .await
        .unwrap();
    assert_eq!(scheduled, 3, "a key already scheduled changes nothing");
    assert!(
        store
            .cancel_job("automation.wait", "i-3", t0())
            .await
            .unwrap()
    );
    assert!(
        !store
            .cancel_job("automation.wait", "i-3", t0())
            .await
            .unwrap()
    );
    assert_eq!(
        store.fire_due_timers(t0(), 100).await.unwrap(),
        0,
        "none due yet"
    );

    let later = t0() + Duration::seconds(5);
    assert_eq!(
        store.fire_due_timers(later, 1).await.unwrap(),
        1,
        "at most the limit"
    );
    assert_eq!(store.fire_due_timers(later, 100).await.unwrap(), 1);
    assert_eq!(
        store.fire_due_timers(later, 100).await.unwrap(),
        0,
        "fired once"
    );
    assert_eq!(
        store
            .fire_due_timers(later + Duration::hours(2), 100)
            .await
            .unwrap(),
        0,
        "a cancelled timer never fires"
    );

    let events = store.read_events(0, None, 100).await.unwrap().events;
    let timers: Vec<_> = events
        .iter()
        .filter(|e| e.kind == EventKind::TimerFired)
        .collect();
    let keys: Vec<_> = timers.iter().map(|e| e.subject.as_str()).collect();
    assert_eq!(keys, ["i-2", "i-1"], "in due order");
    let fired = timers[1].timer.as_ref().expect("the timer");
    assert_eq!(fired.queue, "automation.wait");
    assert_eq!(fired.key, "i-1");
    assert_eq!(
        fired.payload,
        json!({"step": "i-1"}),
        "the first scheduling's payload"
    );
    assert_eq!(timers[1].conversation, "m:chan:+1555");
    assert_eq!(timers[0].conversation, "j:automation.wait:i-2");
    assert_eq!(timers[0].at, later);

    let stored = store.job("automation.wait", "i-1").await.unwrap().unwrap();
    assert_eq!(
        (stored.state, stored.finished_at),
        (JobState::Fired, Some(later))
    );
    let cancelled = store.job("automation.wait", "i-3").await.unwrap().unwrap();
    assert_eq!(cancelled.state, JobState::Cancelled);
}

pub async fn work_jobs_are_leased_retried_dead_lettered_and_redriven<S: Store>(store: &S) {
    let sb = seeded(store).await;
    let queues = ["logs.export".to_owned()];
    store
        .schedule_jobs(
            &[
                job(&sb, JobKind::Work, "logs.export", "e-1", 0),
                job(&sb, JobKind::Work, "other", "o-1", 0),
                job(&sb, JobKind::Timer, "logs.export", "t-1", 0),
            ],
            t0(),
        )
        .await
        .unwrap();
    let at = |s| t0() + Duration::seconds(s);
    let claim = |owner: &'static str, now| {
        store.claim_jobs(&queues, owner, now, now + Duration::seconds(60), 10)
    };

    let first = claim("a", at(0)).await.unwrap();
    assert_eq!(first.len(), 1, "its queue, work only: {first:?}");
    let id = first[0].id;
    assert_eq!((first[0].key.as_str(), first[0].attempts), ("e-1", 1));
    assert_eq!(first[0].state, JobState::Running);
    assert!(claim("b", at(1)).await.unwrap().is_empty(), "leased to a");
    assert!(
        !store.fail_job(id, "b", "boom", None, at(1)).await.unwrap(),
        "b does not hold it"
    );

    assert!(
        store
            .fail_job(id, "a", "timeout", Some(at(10)), at(1))
            .await
            .unwrap()
    );
    assert!(
        claim("b", at(5)).await.unwrap().is_empty(),
        "waits for its retry"
    );
    let second = claim("b", at(10)).await.unwrap();
    assert_eq!(second[0].attempts, 2);
    assert_eq!(second[0].last_error.as_deref(), Some("timeout"));

    // b dies: after its lease, a takes the job over.
    assert!(claim("a", at(69)).await.unwrap().is_empty());
    let third = claim("a", at(71)).await.unwrap();
    assert_eq!(
        (third[0].attempts, third[0].owner.as_deref()),
        (3, Some("a"))
    );
    assert!(
        !store.complete_job(id, "b", at(72)).await.unwrap(),
        "b lost it"
    );
    assert!(
        store
            .fail_job(id, "a", "still failing", None, at(72))
            .await
            .unwrap()
    );

    let dead = store
        .jobs_in_state(Some("logs.export"), JobState::Dead, 10)
        .await
        .unwrap();
    assert_eq!(dead.len(), 1);
    assert_eq!(dead[0].last_error.as_deref(), Some("still failing"));
    assert!(store.redrive_job(id, at(100)).await.unwrap());
    assert!(
        !store.redrive_job(id, at(100)).await.unwrap(),
        "no longer dead"
    );
    let again = claim("a", at(100)).await.unwrap();
    assert_eq!(
        again[0].attempts, 1,
        "a redriven job has its whole schedule again"
    );
    assert!(store.complete_job(id, "a", at(101)).await.unwrap());
    let done = store.job("logs.export", "e-1").await.unwrap().unwrap();
    assert_eq!(
        (done.state, done.finished_at),
        (JobState::Done, Some(at(101)))
    );

    assert_eq!(
        store.prune_jobs(at(101), 100).await.unwrap(),
        0,
        "finished at 101"
    );
    assert_eq!(store.prune_jobs(at(102), 100).await.unwrap(), 1);
    assert!(store.job("logs.export", "e-1").await.unwrap().is_none());
}
