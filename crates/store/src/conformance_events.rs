//! Conformance checks for the domain event log: every write appends its events in the
//! same transaction, consumers work under a lease and count exactly once, and pruning
//! keeps what a live consumer has not read.

use chrono::{Duration, NaiveDate};
use parley_types::StatusNote;

use crate::conformance::{
    CountingPrices, LIMITS, accept_one, claim, created, inbound_from, outbound, receipt, scheduled,
    seeded, sent, t0, template,
};
use crate::*;

/// The whole log. A read may stop at a gap (PostgreSQL: a number drawn but not yet
/// committed, or pruned); with nothing in flight the next read passes it.
async fn all_events<S: Store>(store: &S) -> Vec<StoredEvent> {
    let mut events: Vec<StoredEvent> = Vec::new();
    let mut watch = None;
    for _ in 0..3 {
        let after = events.last().map_or(0, |e| e.seq);
        let read = store.read_events(after, watch, 1000).await.unwrap();
        events.extend(read.events);
        watch = read.watch;
        if watch.is_none() {
            return events;
        }
    }
    panic!("a gap stayed open with nothing in flight: {watch:?}");
}

fn kinds(events: &[StoredEvent]) -> Vec<(&str, &str)> {
    events
        .iter()
        .map(|e| {
            let state = e.message.as_ref().map_or("", |m| m.status.state.as_str());
            (e.kind.as_str(), state)
        })
        .collect()
}

pub async fn every_change_appends_its_event_in_the_same_write<S: Store>(store: &S) {
    let sb = seeded(store).await;
    let user = "+15551230001";
    let first = accept_one(store, outbound(&sb, user, Some("c-1"), t0())).await;
    // A repeated clientMessageId stores nothing, so it reports nothing.
    store
        .accept_outbound(&[outbound(&sb, user, Some("c-1"), t0())])
        .await
        .unwrap();
    let waiting = accept_one(
        store,
        scheduled(&sb, "+15551230002", t0() + Duration::hours(1), None),
    )
    .await;
    claim(store, t0()).await;
    store
        .complete_dispatches(&[(first.umid, sent("wamid.e1", t0()))])
        .await
        .unwrap();
    let delivered = MessageStatus::new(MessageState::Delivered, t0() + Duration::seconds(2))
        .with_detail(StatusDetail::DeliveredToRecipient);
    let billable = Receipt {
        pricing: Some(ReceiptPricing {
            category: "marketing".into(),
            kind: "regular".into(),
            billable: true,
        }),
        ..receipt(&sb, "wamid.e1", None, &delivered)
    };
    let read = MessageStatus::new(MessageState::Read, t0() + Duration::seconds(3));
    let stale = receipt(&sb, "wamid.e1", None, &delivered);
    store
        .apply_receipts(
            &[billable, receipt(&sb, "wamid.e1", None, &read), stale],
            &CountingPrices,
        )
        .await
        .unwrap();
    let cancelled = MessageStatus::new(MessageState::Undelivered, t0() + Duration::seconds(4));
    store
        .cancel_scheduled(
            &sb.sub_account.id,
            Scheduled::Message(waiting.umid),
            &cancelled,
        )
        .await
        .unwrap();
    let inbound = inbound_from(&sb, user, "wamid.in.e1", t0() + Duration::seconds(5));
    store.record_inbound(&inbound, false, None).await.unwrap();
    // Seen again: stored once, reported once.
    store.record_inbound(&inbound, false, None).await.unwrap();
    let tpl = created(
        store
            .create_template(&template(&sb, "notice", "en_US", t0()), &LIMITS, t0())
            .await
            .unwrap(),
    );
    let approve = TemplateUpdate::Status {
        status: "APPROVED".into(),
        note: StatusNote::with_reason("NONE"),
    };
    store
        .update_template(&sb.channel.waba_id, "notice", "en_US", &approve, t0())
        .await
        .unwrap();
    store
        .record_business_event(&BusinessEvent {
            account_id: sb.account.id.clone(),
            waba_id: sb.channel.waba_id.clone(),
            event_type: "phone_number_quality_update".into(),
            details: serde_json::json!({"event": "FLAGGED"}),
            at: t0(),
        })
        .await
        .unwrap();

    let events = all_events(store).await;
    assert_eq!(
        kinds(&events),
        [
            ("message.accepted", "queued"),
            ("message.accepted", "queued"),
            ("message.status", "sent"),
            ("message.status", "delivered"),
            ("message.charged", "read"),
            ("message.status", "read"),
            ("message.status", "undelivered"),
            ("message.received", "received"),
            ("template.changed", ""),
            ("template.changed", ""),
            ("business.updated", ""),
        ]
    );
    let seqs: Vec<i64> = events.iter().map(|e| e.seq).collect();
    assert!(
        seqs.windows(2).all(|w| w[0] < w[1]),
        "in log order: {seqs:?}"
    );
    assert_eq!(store.event_head().await.unwrap(), *seqs.last().unwrap());

    let sent_event = &events[2];
    assert_eq!(sent_event.subject, first.umid.to_string());
    assert_eq!(sent_event.sub_account_id.as_ref(), Some(&sb.sub_account.id));
    assert_eq!(sent_event.channel_id, Some(sb.channel.id));
    assert_eq!(
        sent_event.conversation,
        format!("m:{}:{user}", sb.channel.id)
    );
    let message = sent_event.message.as_ref().unwrap();
    assert_eq!(message.direction, Direction::Outbound);
    assert_eq!(message.msisdn, user);
    assert!(!message.first_reach);
    assert!(
        events[3].message.as_ref().unwrap().first_reach,
        "delivered reached the user"
    );
    assert!(
        !events[5].message.as_ref().unwrap().first_reach,
        "read came after delivered"
    );
    assert_eq!(
        events[4].charge,
        Some(EventCharge {
            category: "marketing".into(),
            cost_micros: 1,
        })
    );
    assert_eq!(events[6].subject, waiting.umid.to_string());
    assert_eq!(
        events[7].message.as_ref().unwrap().direction,
        Direction::Inbound
    );
    assert_eq!(events[8].subject, tpl.id.to_string());
    assert_eq!(events[8].conversation, format!("t:{}", tpl.id));
    assert_eq!(events[10].conversation, format!("b:{}", sb.channel.waba_id));

    let after_third = store.read_events(seqs[2], None, 2).await.unwrap();
    assert_eq!(
        after_third.events.iter().map(|e| e.seq).collect::<Vec<_>>(),
        seqs[3..5],
        "read after a position, at most the limit"
    );
}

fn counter(sb: &Sandbox, day: NaiveDate, metric: &str, value: i64) -> Counter {
    Counter {
        key: CounterKey {
            account_id: sb.account.id.clone(),
            sub_account_id: sb.sub_account.id.clone(),
            channel_id: sb.channel.id,
            day,
            metric: metric.into(),
            dimension: String::new(),
        },
        value,
    }
}

pub async fn a_consumer_is_worked_by_one_owner_and_counts_once<S: Store>(store: &S) {
    let sb = seeded(store).await;
    accept_one(store, outbound(&sb, "+15551230001", None, t0())).await;
    let lease = |s| t0() + Duration::seconds(s);
    let start = ConsumerStart::Beginning;
    assert_eq!(
        store
            .claim_consumer("usage", "node-a", start, t0(), lease(30))
            .await
            .unwrap(),
        Some(0)
    );
    assert_eq!(
        store
            .claim_consumer("usage", "node-b", start, t0(), lease(30))
            .await
            .unwrap(),
        None,
        "leased to node-a"
    );
    let day = t0().date_naive();
    let counts = [
        counter(&sb, day, "accepted", 1),
        counter(&sb, day, "accepted", 2),
    ];
    assert!(
        store
            .advance_consumer("usage", "node-a", 1, &counts, t0(), lease(30))
            .await
            .unwrap()
    );
    assert!(
        !store
            .advance_consumer("usage", "node-b", 1, &counts, t0(), lease(30))
            .await
            .unwrap(),
        "not the owner: nothing moves and nothing is counted"
    );
    // After node-a's lease ran out, node-b takes over where node-a left off.
    assert_eq!(
        store
            .claim_consumer("usage", "node-b", start, lease(31), lease(61))
            .await
            .unwrap(),
        Some(1)
    );
    assert!(
        !store
            .advance_consumer("usage", "node-a", 2, &counts, lease(31), lease(61))
            .await
            .unwrap(),
        "node-a lost its lease"
    );
    store.release_consumer("usage", "node-b").await.unwrap();
    assert_eq!(
        store
            .claim_consumer("usage", "node-a", start, lease(32), lease(62))
            .await
            .unwrap(),
        Some(1),
        "released: free at once"
    );
    let next_day = day + Duration::days(1);
    let counters = store.counters(&sb.account.id, day, next_day).await.unwrap();
    assert_eq!(counters, [counter(&sb, day, "accepted", 3)]);
    assert!(
        store
            .counters(&sb.account.id, next_day, next_day + Duration::days(1))
            .await
            .unwrap()
            .is_empty()
    );

    let head = store.event_head().await.unwrap();
    assert_eq!(
        store
            .claim_consumer("live", "node-a", ConsumerStart::Head, t0(), lease(30))
            .await
            .unwrap(),
        Some(head),
        "a consumer of live changes starts after what happened so far"
    );
    let names: Vec<_> = store
        .consumers()
        .await
        .unwrap()
        .into_iter()
        .map(|c| c.name)
        .collect();
    assert_eq!(
        names,
        ["live", "usage", "webhooks"],
        "with the customer webhooks' own"
    );
}

pub async fn events_are_kept_until_every_live_consumer_passed_them<S: Store>(store: &S) {
    let sb = seeded(store).await;
    for user in ["+15551230001", "+15551230002", "+15551230003"] {
        accept_one(store, outbound(&sb, user, None, t0())).await;
    }
    let seqs: Vec<i64> = all_events(store).await.iter().map(|e| e.seq).collect();
    let lease = t0() + Duration::seconds(30);
    let start = ConsumerStart::Beginning;
    store
        .claim_consumer("slow", "n", start, t0(), lease)
        .await
        .unwrap();
    store
        .claim_consumer("fast", "n", start, t0(), lease)
        .await
        .unwrap();
    store
        .advance_consumer("slow", "n", seqs[0], &[], t0(), lease)
        .await
        .unwrap();
    store
        .advance_consumer("fast", "n", seqs[2], &[], t0(), lease)
        .await
        .unwrap();
    let later = t0() + Duration::days(8);
    let live_since = t0() - Duration::days(1);
    assert_eq!(
        store.prune_events(t0(), live_since, 100).await.unwrap(),
        0,
        "none is old enough"
    );
    assert_eq!(store.prune_events(later, live_since, 100).await.unwrap(), 1);
    assert_eq!(
        all_events(store).await.len(),
        2,
        "the slow consumer still needs two"
    );
    // A consumer not seen since before `live_since` holds nothing back.
    assert_eq!(store.prune_events(later, lease, 100).await.unwrap(), 2);
    assert!(all_events(store).await.is_empty());
}
