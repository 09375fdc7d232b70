//! The suite every backend must pass. A backend's test binary invokes
//! [`conformance_suite!`](crate::conformance_suite) with an async factory returning a fresh,
//! empty store (and a guard that removes it when dropped).

use chrono::{DateTime, Duration, TimeZone, Utc};
use parley_types::{
    AccountId, ApiKeyId, ChannelId, ChannelKind, OtherInfo, StatusNote, SubAccountId, Umid,
};
use serde_json::json;

use crate::*;

pub use crate::conformance_console::*;
pub use crate::conformance_events::*;
pub use crate::conformance_files::*;
pub use crate::conformance_jobs::*;

#[macro_export]
macro_rules! conformance_suite {
    ($factory:path) => {
        $crate::conformance_suite!(@tests $factory;
            bootstrap_happens_once,
            api_keys_are_found_by_hash_until_revoked,
            accept_is_idempotent_on_client_message_id,
            dispatch_keeps_per_recipient_order,
            a_group_larger_than_one_statement_is_accepted_whole,
            scheduled_messages_wait_outside_their_lane_and_are_released_once,
            waiting_messages_are_cancelled_by_umid_or_batch,
            opt_outs_are_per_account_and_reversible,
            messaging_limits_keep_the_latest_report,
            an_emptied_lane_reopens_and_a_repeated_completion_changes_nothing,
            claimed_work_is_leased,
            claims_take_turns_across_subaccounts,
            handed_off_work_is_reported_interrupted_after_its_lease,
            a_take_over_waits_for_receipts_that_come_in_behind_the_hand_off,
            retried_work_waits_for_its_time,
            paced_channels_are_skipped_and_deferred_work_is_no_attempt,
            completing_records_the_provider_id_and_status_history,
            batched_dispatch_records_every_result,
            statuses_only_move_forward,
            receipts_in_one_batch_apply_in_order,
            a_receipt_dated_to_the_second_keeps_its_place_in_the_history,
            interrupted_dispatch_is_reconciled_by_umid,
            inbound_is_stored_once_and_opens_the_window,
            a_business_scoped_user_id_finds_the_user_s_number_within_its_account,
            billable_messages_are_charged_once_on_reaching_the_user,
            a_timely_reply_to_a_referred_user_opens_a_free_entry_point,
            the_message_log_filters_and_pages_stably,
            hosted_files_are_served_once_written_and_cleaned_when_expired_or_stale,
            exports_are_begun_by_their_job_finished_or_cancelled_and_expire,
            log_unmasking_is_per_account,
            tenants_are_created_apart,
            template_creation_keeps_to_the_limits,
            deleted_template_names_are_blocked_then_free,
            provider_changes_update_templates_and_their_history,
            changes_reach_the_outbox_only_with_a_webhook_to_take_them,
            webhook_events_of_a_recipient_leave_in_order_and_retry_in_place,
            dead_events_are_redriven,
            webhooks_are_replaced_and_deleted_by_key,
            endpoint_health_is_replaced_per_account_and_url,
            console_users_are_unique_by_email_and_kept_whole,
            console_sessions_end_on_expiry_sign_out_disable_and_delete,
            every_change_appends_its_event_in_the_same_write,
            a_consumer_is_worked_by_one_owner_and_counts_once,
            events_are_kept_until_every_live_consumer_passed_them,
            timers_fire_once_as_events_in_due_order,
            work_jobs_are_leased_retried_dead_lettered_and_redriven,
            the_origin_is_kept_with_the_message
        );
    };
    (@tests $factory:path; $($name:ident),*) => {
        $(
            #[tokio::test]
            async fn $name() {
                let (store, _guard) = $factory().await;
                $crate::conformance::$name(&store).await;
            }
        )*
    };
}

/// Fixture shared by the backends' own tests.
pub fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 6, 1, 12, 0, 0).unwrap()
}

/// Fixture shared by the backends' own tests.
pub fn sandbox() -> Sandbox {
    let account = AccountId::parse("acct-1").unwrap();
    let sub = SubAccountId::parse("sub-1").unwrap();
    Sandbox {
        account: Account {
            id: account.clone(),
            name: "Sandbox".into(),
            created_at: t0(),
        },
        sub_account: SubAccount {
            id: sub.clone(),
            account_id: account.clone(),
            created_at: t0(),
        },
        channel: Channel {
            id: ChannelId::new(),
            kind: ChannelKind::WhatsApp,
            account_id: account.clone(),
            sub_account_id: sub,
            business_number: "+15550001111".into(),
            waba_id: "1000".into(),
            phone_number_id: "2000".into(),
            created_at: t0(),
        },
        api_key: key(&account, "hash-1"),
    }
}

/// Fixture shared by the backends' own tests.
pub fn key(account: &AccountId, hash: &str) -> NewApiKey {
    NewApiKey {
        id: ApiKeyId::new(),
        account_id: account.clone(),
        name: "test".into(),
        prefix: "pk_test".into(),
        hash: hash.into(),
        created_at: t0(),
    }
}

pub(crate) async fn seeded<S: Store>(store: &S) -> Sandbox {
    let sandbox = sandbox();
    assert!(store.bootstrap_sandbox(&sandbox).await.unwrap());
    sandbox
}

/// Fixture shared by the backends' own tests.
pub fn outbound(sandbox: &Sandbox, to: &str, cmid: Option<&str>, at: DateTime<Utc>) -> Message {
    Message {
        umid: Umid::new(),
        account_id: sandbox.account.id.clone(),
        sub_account_id: sandbox.sub_account.id.clone(),
        channel_id: sandbox.channel.id,
        direction: Direction::Outbound,
        msisdn: to.into(),
        country: Some("US".into()),
        content_type: "Text".into(),
        content: json!({"text": "hello"}),
        client_message_id: cmid.map(str::to_owned),
        reply_to: None,
        provider_message_id: None,
        user_name: None,
        status: MessageStatus::new(MessageState::Queued, at),
        created_at: at,
        dlr_callback_url: None,
        channel_user_id: None,
        pricing: None,
        batch: None,
        scheduled_at: None,
        expires_at: None,
        origin: Some(Origin::Api),
    }
}

pub(crate) async fn accept_one<S: Store>(store: &S, m: Message) -> Message {
    store
        .accept_outbound(&[m])
        .await
        .unwrap()
        .remove(0)
        .message()
        .clone()
}

pub(crate) async fn claim<S: Store>(store: &S, now: DateTime<Utc>) -> Vec<Umid> {
    store
        .claim_dispatch(now, now + Duration::seconds(30), 100, &[])
        .await
        .unwrap()
        .into_iter()
        .map(|j| j.message.umid)
        .collect()
}

pub(crate) fn sent(wamid: &str, at: DateTime<Utc>) -> DispatchResult {
    DispatchResult::Sent {
        provider_message_id: wamid.into(),
        status: MessageStatus::new(MessageState::Sent, at),
    }
}

pub async fn bootstrap_happens_once<S: Store>(store: &S) {
    let first = seeded(store).await;
    assert!(!store.bootstrap_sandbox(&sandbox()).await.unwrap());
    assert_eq!(store.accounts().await.unwrap().len(), 1);
    let channel = store
        .channel_for_sub_account(&first.sub_account.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(channel, first.channel);
    assert_eq!(
        store.channel_by_phone_number_id("2000").await.unwrap(),
        Some(first.channel.clone())
    );
    assert_eq!(
        store.channel(first.channel.id).await.unwrap(),
        Some(first.channel)
    );
    assert!(
        store
            .sub_account(&SubAccountId::parse("nope").unwrap())
            .await
            .unwrap()
            .is_none()
    );
}

pub async fn api_keys_are_found_by_hash_until_revoked<S: Store>(store: &S) {
    let sandbox = seeded(store).await;
    let second = key(&sandbox.account.id, "hash-2");
    store.insert_api_key(&second).await.unwrap();
    let found = store.api_key_by_hash("hash-2").await.unwrap().unwrap();
    assert_eq!(found.id, second.id);
    assert_eq!(store.api_keys(&sandbox.account.id).await.unwrap().len(), 2);
    assert!(store.revoke_api_key(second.id, t0()).await.unwrap());
    assert!(!store.revoke_api_key(second.id, t0()).await.unwrap());
    assert!(store.api_key_by_hash("hash-2").await.unwrap().is_none());
    assert!(store.api_key_by_hash("hash-1").await.unwrap().is_some());
}

pub async fn accept_is_idempotent_on_client_message_id<S: Store>(store: &S) {
    let sandbox = seeded(store).await;
    let first = outbound(&sandbox, "+15551230001", Some("order-1"), t0());
    let again = outbound(&sandbox, "+15551230001", Some("order-1"), t0());
    let other = outbound(&sandbox, "+15551230001", Some("order-2"), t0());
    let outcomes = store
        .accept_outbound(&[first.clone(), again.clone(), other.clone()])
        .await
        .unwrap();
    assert!(matches!(&outcomes[0], AcceptOutcome::Accepted(m) if m.umid == first.umid));
    assert!(matches!(&outcomes[1], AcceptOutcome::Duplicate(m) if m.umid == first.umid));
    assert!(matches!(&outcomes[2], AcceptOutcome::Accepted(m) if m.umid == other.umid));
    let later = store.accept_outbound(&[again]).await.unwrap();
    assert!(matches!(&later[0], AcceptOutcome::Duplicate(m) if m.umid == first.umid));
    assert_eq!(store.dispatch_backlog().await.unwrap(), 2);
    assert_eq!(store.message(first.umid).await.unwrap().unwrap(), first);
}

pub async fn dispatch_keeps_per_recipient_order<S: Store>(store: &S) {
    let sandbox = seeded(store).await;
    let a1 = accept_one(store, outbound(&sandbox, "+15551230001", None, t0())).await;
    let a2 = accept_one(store, outbound(&sandbox, "+15551230001", None, t0())).await;
    let b1 = accept_one(store, outbound(&sandbox, "+15551230002", None, t0())).await;
    let now = t0() + Duration::seconds(1);
    assert_eq!(claim(store, now).await, vec![a1.umid, b1.umid]);
    store
        .complete_dispatch(a1.umid, &sent("wamid.a1", now))
        .await
        .unwrap();
    let later = now + Duration::seconds(31);
    assert_eq!(claim(store, later).await, vec![a2.umid, b1.umid]);
}

pub async fn a_group_larger_than_one_statement_is_accepted_whole<S: Store>(store: &S) {
    let sandbox = seeded(store).await;
    let group: Vec<Message> = (0..2500)
        .map(|i| {
            let cmid = format!("c-{i}");
            outbound(&sandbox, &format!("+1555{i:07}"), Some(&cmid), t0())
        })
        .collect();
    let outcomes = store.accept_outbound(&group).await.unwrap();
    assert_eq!(outcomes.len(), 2500);
    assert!(
        outcomes
            .iter()
            .all(|o| matches!(o, AcceptOutcome::Accepted(_)))
    );
    assert_eq!(store.dispatch_backlog().await.unwrap(), 2500);
    // Repeating it stores nothing new and answers with the first copies.
    let mut again = group.clone();
    for m in &mut again {
        m.umid = Umid::new();
    }
    let outcomes = store.accept_outbound(&again).await.unwrap();
    assert!(
        outcomes
            .iter()
            .zip(&group)
            .all(|(o, first)| matches!(o, AcceptOutcome::Duplicate(m) if m.umid == first.umid))
    );
    assert_eq!(store.dispatch_backlog().await.unwrap(), 2500);
}

pub(crate) fn scheduled(
    sandbox: &Sandbox,
    to: &str,
    due: DateTime<Utc>,
    batch: Option<uuid::Uuid>,
) -> Message {
    let mut m = outbound(sandbox, to, None, t0());
    m.scheduled_at = Some(due);
    m.expires_at = Some(due + Duration::hours(1));
    m.batch = batch.map(|id| BatchRef {
        id,
        client_batch_id: Some("mine".into()),
    });
    m
}

pub async fn scheduled_messages_wait_outside_their_lane_and_are_released_once<S: Store>(store: &S) {
    let sandbox = seeded(store).await;
    let due = t0() + Duration::hours(1);
    let batch = uuid::Uuid::now_v7();
    let later = accept_one(store, scheduled(&sandbox, "+15551230001", due, Some(batch))).await;
    let stored = store.message(later.umid).await.unwrap().unwrap();
    assert_eq!(stored, later, "batch and timing are stored as given");
    let now = accept_one(store, outbound(&sandbox, "+15551230001", None, t0())).await;
    assert_eq!(
        claim(store, t0()).await,
        vec![now.umid],
        "a message for later does not hold back the user's other messages"
    );
    store
        .complete_dispatch(now.umid, &sent("wamid.now", t0()))
        .await
        .unwrap();
    let early = due - Duration::seconds(1);
    assert_eq!(store.release_scheduled(early, 100).await.unwrap(), 0);
    assert!(claim(store, early).await.is_empty());
    assert_eq!(store.release_scheduled(due, 100).await.unwrap(), 1);
    assert_eq!(store.release_scheduled(due, 100).await.unwrap(), 0, "once");
    assert_eq!(claim(store, due).await, vec![later.umid]);
}

pub async fn waiting_messages_are_cancelled_by_umid_or_batch<S: Store>(store: &S) {
    let sandbox = seeded(store).await;
    let due = t0() + Duration::hours(1);
    let batch = uuid::Uuid::now_v7();
    let mut in_batch = Vec::new();
    for user in ["+15551230001", "+15551230002", "+15551230003"] {
        in_batch.push(accept_one(store, scheduled(&sandbox, user, due, Some(batch))).await);
    }
    let alone = accept_one(store, scheduled(&sandbox, "+15551230004", due, None)).await;
    let cancelled = MessageStatus {
        state: MessageState::Undelivered,
        detail: Some(StatusDetail::RejectedByOperator),
        error_code: Some(25),
        error_message: Some("cancelled".into()),
        provider_error_code: None,
        at: t0() + Duration::minutes(1),
    };
    let other_sub = SubAccountId::parse("sub-2").unwrap();
    let cancel = |sub, target| store.cancel_scheduled(sub, target, &cancelled);
    assert_eq!(
        cancel(&other_sub, Scheduled::Batch(batch)).await.unwrap(),
        0
    );
    assert_eq!(
        cancel(&sandbox.sub_account.id, Scheduled::Batch(batch))
            .await
            .unwrap(),
        3
    );
    assert_eq!(
        cancel(&sandbox.sub_account.id, Scheduled::Batch(batch))
            .await
            .unwrap(),
        0,
        "already cancelled"
    );
    for m in &in_batch {
        let stored = store.message(m.umid).await.unwrap().unwrap();
        assert_eq!(stored.status, cancelled);
        let history = store.status_history(m.umid).await.unwrap();
        assert_eq!(history.len(), 2);
        assert_eq!(history[1], cancelled);
    }
    assert_eq!(
        cancel(&sandbox.sub_account.id, Scheduled::Message(alone.umid))
            .await
            .unwrap(),
        1
    );
    assert_eq!(store.release_scheduled(due, 100).await.unwrap(), 0);
    assert_eq!(store.dispatch_backlog().await.unwrap(), 0);
}

pub async fn messaging_limits_keep_the_latest_report<S: Store>(store: &S) {
    seeded(store).await;
    assert!(store.messaging_limits().await.unwrap().is_empty());
    let later = t0() + Duration::minutes(1);
    store
        .set_messaging_limit("1000", "TIER_10K", later)
        .await
        .unwrap();
    store
        .set_messaging_limit("1000", "TIER_2K", t0())
        .await
        .unwrap();
    store
        .set_messaging_limit("2000", "TIER_250", t0())
        .await
        .unwrap();
    let mut limits = store.messaging_limits().await.unwrap();
    limits.sort();
    assert_eq!(
        limits,
        vec![
            ("1000".to_owned(), "TIER_10K".to_owned()),
            ("2000".to_owned(), "TIER_250".to_owned())
        ],
        "an older report arriving late changes nothing"
    );
}

pub async fn opt_outs_are_per_account_and_reversible<S: Store>(store: &S) {
    let sandbox = seeded(store).await;
    let account = &sandbox.account.id;
    let other = AccountId::parse("acct-2").unwrap();
    let user = "+15551230001";
    let both = [user.to_owned(), "+15551230002".to_owned()];
    let asked = |a| store.opted_out(a, &both);
    assert!(asked(account).await.unwrap().is_empty());
    assert!(
        store
            .opt_out(account, user, OptOutSource::Keyword, t0())
            .await
            .unwrap()
    );
    assert!(
        !store
            .opt_out(account, user, OptOutSource::Api, t0())
            .await
            .unwrap(),
        "already on the list"
    );
    assert_eq!(asked(account).await.unwrap(), vec![user.to_owned()]);
    assert!(asked(&other).await.unwrap().is_empty(), "per account");
    assert!(store.opt_in(account, user).await.unwrap());
    assert!(!store.opt_in(account, user).await.unwrap());
    assert!(asked(account).await.unwrap().is_empty());

    // Keywords change the list with the message that carries them, once.
    let stop = inbound_from(&sandbox, user, "wamid.stop", t0());
    let record = |m, opt| store.record_inbound(m, false, Some(opt));
    record(&stop, OptChange::Out).await.unwrap();
    assert_eq!(asked(account).await.unwrap(), vec![user.to_owned()]);
    let start = inbound_from(&sandbox, user, "wamid.start", t0() + Duration::seconds(5));
    record(&start, OptChange::In).await.unwrap();
    assert!(asked(account).await.unwrap().is_empty());
    assert!(matches!(
        record(&stop, OptChange::Out).await.unwrap(),
        InboundOutcome::AlreadyStored
    ));
    assert!(
        asked(account).await.unwrap().is_empty(),
        "a redelivered STOP does not undo the later START"
    );
}

pub async fn an_emptied_lane_reopens_and_a_repeated_completion_changes_nothing<S: Store>(
    store: &S,
) {
    let sandbox = seeded(store).await;
    let first = accept_one(store, outbound(&sandbox, "+15551230001", None, t0())).await;
    assert_eq!(claim(store, t0()).await, vec![first.umid]);
    for _ in 0..2 {
        store
            .complete_dispatch(first.umid, &sent("wamid.1", t0()))
            .await
            .unwrap();
    }
    assert!(claim(store, t0()).await.is_empty(), "nothing left to send");
    assert_eq!(store.dispatch_backlog().await.unwrap(), 0);

    let next = accept_one(store, outbound(&sandbox, "+15551230001", None, t0())).await;
    let behind = accept_one(store, outbound(&sandbox, "+15551230001", None, t0())).await;
    assert_eq!(claim(store, t0()).await, vec![next.umid]);
    // Completing the first message again must not move the lane past `next`.
    store
        .complete_dispatch(first.umid, &sent("wamid.1", t0()))
        .await
        .unwrap();
    assert!(
        claim(store, t0()).await.is_empty(),
        "`next` is still in flight"
    );
    store
        .complete_dispatch(next.umid, &sent("wamid.2", t0()))
        .await
        .unwrap();
    assert_eq!(claim(store, t0()).await, vec![behind.umid]);
}

pub async fn claimed_work_is_leased<S: Store>(store: &S) {
    let sandbox = seeded(store).await;
    let m = accept_one(store, outbound(&sandbox, "+15551230001", None, t0())).await;
    assert_eq!(claim(store, t0()).await, vec![m.umid]);
    assert!(claim(store, t0() + Duration::seconds(29)).await.is_empty());
    let retaken = store
        .claim_dispatch(
            t0() + Duration::seconds(30),
            t0() + Duration::seconds(60),
            10,
            &[],
        )
        .await
        .unwrap();
    assert_eq!(retaken.len(), 1);
    assert_eq!(retaken[0].attempts, 2);
}

pub async fn handed_off_work_is_reported_interrupted_after_its_lease<S: Store>(store: &S) {
    let sandbox = seeded(store).await;
    let m = accept_one(store, outbound(&sandbox, "+15551230001", None, t0())).await;
    claim(store, t0()).await;
    store.mark_handed_off(&[m.umid], t0()).await.unwrap();
    let take = |now| store.take_interrupted(now, Duration::zero(), now + Duration::seconds(30));
    assert!(take(t0() + Duration::seconds(10)).await.unwrap().is_empty());
    let later = t0() + Duration::seconds(31);
    assert!(
        claim(store, later).await.is_empty(),
        "handed-off work is never claimed again"
    );
    assert_eq!(take(later).await.unwrap(), vec![m.umid]);
    assert!(
        take(later).await.unwrap().is_empty(),
        "one node takes it over; the others find it leased"
    );
    let after_that_lease = later + Duration::seconds(31);
    assert_eq!(
        take(after_that_lease).await.unwrap(),
        vec![m.umid],
        "a node that died taking over is taken over in turn"
    );
}

/// A crash leaves a message handed off with no outcome. While its number's receipts keep
/// coming in but are still older than the hand-off plus the grace, its own receipt may be
/// among those yet to come: it is not taken over (and perhaps sent twice) until they catch
/// up, or stop coming for the grace period.
pub async fn a_take_over_waits_for_receipts_that_come_in_behind_the_hand_off<S: Store>(store: &S) {
    let sandbox = seeded(store).await;
    let channel = sandbox.channel.id;
    let grace = Duration::seconds(60);
    let at = |s: i64| t0() + Duration::seconds(s);
    let take = |now| store.take_interrupted(now, grace, now + Duration::seconds(30));
    let first = accept_one(store, outbound(&sandbox, "+15551230001", None, t0())).await;
    claim(store, t0()).await;
    store.mark_handed_off(&[first.umid], t0()).await.unwrap();

    // Receipts stamped 20 s after the hand-off, applied at 90 s: 70 s behind.
    store.note_receipts(channel, at(20), at(90)).await.unwrap();
    assert!(
        take(at(100)).await.unwrap().is_empty(),
        "the lease and grace are over, but the number's receipts are behind the hand-off"
    );
    // Now past the hand-off and the grace: its own would have come by now.
    store.note_receipts(channel, at(61), at(95)).await.unwrap();
    assert_eq!(take(at(100)).await.unwrap(), vec![first.umid]);
    // An older receipt applied late never moves the mark back: when the taking node's
    // lease runs out in turn, the hand-off is still known to be behind the receipts.
    store.note_receipts(channel, at(5), at(180)).await.unwrap();
    assert_eq!(take(at(191)).await.unwrap(), vec![first.umid]);
    store
        .complete_dispatch(first.umid, &sent("wamid.1", t0()))
        .await
        .unwrap();

    // Behind again for a second message, then no receipt at all for the grace: nothing
    // more is coming for the number, and the hand-off is taken over.
    let second = accept_one(store, outbound(&sandbox, "+15551230002", None, at(200))).await;
    claim(store, at(200)).await;
    store
        .mark_handed_off(&[second.umid], at(200))
        .await
        .unwrap();
    store
        .note_receipts(channel, at(210), at(240))
        .await
        .unwrap();
    assert!(take(at(295)).await.unwrap().is_empty(), "still coming in");
    assert_eq!(take(at(301)).await.unwrap(), vec![second.umid]);
}

/// Three tenants: the first with a long backlog, the others with one message each,
/// accepted after the whole backlog. A claim of a few takes each tenant's oldest first.
pub async fn claims_take_turns_across_subaccounts<S: Store>(store: &S) {
    let busy = seeded(store).await;
    let quiet = second_tenant();
    store.create_tenant(&quiet).await.unwrap();
    let mut third = second_tenant();
    third.account.id = AccountId::parse("acct-3").unwrap();
    third.sub_account.id = SubAccountId::parse("sub-3").unwrap();
    third.sub_account.account_id = third.account.id.clone();
    third.channel.id = ChannelId::new();
    third.channel.account_id = third.account.id.clone();
    third.channel.sub_account_id = third.sub_account.id.clone();
    third.channel.phone_number_id = "2002".into();
    third.api_key = key(&third.account.id, "hash-3");
    store.create_tenant(&third).await.unwrap();
    let mut backlog = Vec::new();
    for n in 0..20 {
        let at = t0() + Duration::milliseconds(n);
        let to = format!("+1555123{n:04}");
        backlog.push(accept_one(store, outbound(&busy, &to, None, at)).await.umid);
    }
    let later = t0() + Duration::seconds(1);
    let otp = accept_one(store, outbound(&quiet, "+15559990001", None, later)).await;
    let other = accept_one(store, outbound(&third, "+15559990002", None, later)).await;

    let now = t0() + Duration::seconds(2);
    let first: Vec<Umid> = store
        .claim_dispatch(now, now + Duration::seconds(30), 3, &[])
        .await
        .unwrap()
        .into_iter()
        .map(|job| job.message.umid)
        .collect();
    assert_eq!(first.len(), 3);
    assert!(
        first.contains(&otp.umid) && first.contains(&other.umid),
        "the quiet tenants wait for no backlog: {first:?}"
    );
    assert!(
        first.contains(&backlog[0]),
        "the busy tenant's oldest goes too"
    );
    let rest = claim(store, now).await;
    assert_eq!(
        rest,
        backlog[1..].to_vec(),
        "then the backlog, oldest first"
    );
}

pub async fn retried_work_waits_for_its_time<S: Store>(store: &S) {
    let sandbox = seeded(store).await;
    let m = accept_one(store, outbound(&sandbox, "+15551230001", None, t0())).await;
    claim(store, t0()).await;
    store.mark_handed_off(&[m.umid], t0()).await.unwrap();
    store
        .retry_dispatch(m.umid, t0() + Duration::seconds(5))
        .await
        .unwrap();
    assert!(claim(store, t0() + Duration::seconds(4)).await.is_empty());
    assert_eq!(
        claim(store, t0() + Duration::seconds(5)).await,
        vec![m.umid]
    );
}

pub async fn paced_channels_are_skipped_and_deferred_work_is_no_attempt<S: Store>(store: &S) {
    let sandbox = seeded(store).await;
    let other = second_tenant();
    store.create_tenant(&other).await.unwrap();
    let paced = accept_one(store, outbound(&sandbox, "+15551230001", None, t0())).await;
    let free = accept_one(store, outbound(&other, "+15551230001", None, t0())).await;
    let lease = t0() + Duration::seconds(30);
    let jobs = store
        .claim_dispatch(t0(), lease, 10, &[sandbox.channel.id])
        .await
        .unwrap();
    let claimed: Vec<Umid> = jobs.iter().map(|j| j.message.umid).collect();
    assert_eq!(
        claimed,
        vec![free.umid],
        "the paced channel's work stays queued"
    );
    assert_eq!(claim(store, t0()).await, vec![paced.umid]);

    let due = t0() + Duration::seconds(3);
    store
        .defer_dispatches(&[(paced.umid, due)], "throughput")
        .await
        .unwrap();
    assert_eq!(
        store.hold(paced.umid).await.unwrap(),
        Some((due, "throughput".to_owned())),
        "details can say why it waits"
    );
    assert_eq!(store.release_holds("pair_rate", t0()).await.unwrap(), 0);
    assert_eq!(store.release_holds("throughput", t0()).await.unwrap(), 1);
    assert_eq!(
        claim(store, t0()).await,
        vec![paced.umid],
        "due again at once"
    );
    store
        .defer_dispatches(&[(paced.umid, due)], "throughput")
        .await
        .unwrap();
    assert!(
        claim(store, due - Duration::milliseconds(1))
            .await
            .is_empty()
    );
    let again = store.claim_dispatch(due, lease, 10, &[]).await.unwrap();
    assert_eq!(again.len(), 1);
    assert_eq!(again[0].message.umid, paced.umid);
    assert_eq!(again[0].attempts, 1, "being held back is not an attempt");
}

pub async fn completing_records_the_provider_id_and_status_history<S: Store>(store: &S) {
    let sandbox = seeded(store).await;
    let ok = accept_one(store, outbound(&sandbox, "+15551230001", None, t0())).await;
    let bad = accept_one(store, outbound(&sandbox, "+15551230002", None, t0())).await;
    claim(store, t0()).await;
    let done = store
        .complete_dispatch(ok.umid, &sent("wamid.ok", t0()))
        .await
        .unwrap();
    assert_eq!(done.status.state, MessageState::Sent);
    assert_eq!(done.provider_message_id.as_deref(), Some("wamid.ok"));
    let mut failure = MessageStatus::new(MessageState::Undelivered, t0())
        .with_detail(StatusDetail::RejectedByOperator);
    failure.error_code = Some(1022);
    failure.error_message = Some("outside the window".into());
    failure.provider_error_code = Some("131047".into());
    let failed = store
        .complete_dispatch(
            bad.umid,
            &DispatchResult::Failed {
                status: failure.clone(),
            },
        )
        .await
        .unwrap();
    assert_eq!(failed.status, failure);
    assert_eq!(store.dispatch_backlog().await.unwrap(), 0);
    let found = store
        .message_by_provider_id(sandbox.channel.id, "wamid.ok")
        .await
        .unwrap();
    assert_eq!(found.map(|m| m.umid), Some(ok.umid));
    let history = store.status_history(bad.umid).await.unwrap();
    assert_eq!(
        history.iter().map(|s| s.state).collect::<Vec<_>>(),
        [MessageState::Queued, MessageState::Undelivered]
    );
    assert_eq!(history[1], failure);
}

pub async fn batched_dispatch_records_every_result<S: Store>(store: &S) {
    let sandbox = seeded(store).await;
    let a = accept_one(store, outbound(&sandbox, "+15551230001", None, t0())).await;
    let b = accept_one(store, outbound(&sandbox, "+15551230002", None, t0())).await;
    claim(store, t0()).await;
    store
        .mark_handed_off(&[a.umid, b.umid], t0())
        .await
        .unwrap();
    let later = t0() + Duration::seconds(31);
    assert_eq!(
        store
            .take_interrupted(later, Duration::zero(), later + Duration::seconds(30))
            .await
            .unwrap()
            .len(),
        2,
        "both handed off"
    );
    let failed = MessageStatus::new(MessageState::Undelivered, t0());
    store
        .complete_dispatches(&[
            (a.umid, sent("wamid.a", t0())),
            (b.umid, DispatchResult::Failed { status: failed }),
        ])
        .await
        .unwrap();
    assert_eq!(store.dispatch_backlog().await.unwrap(), 0);
    assert_eq!(
        store
            .message(a.umid)
            .await
            .unwrap()
            .unwrap()
            .provider_message_id
            .as_deref(),
        Some("wamid.a")
    );
    assert_eq!(
        store.message(b.umid).await.unwrap().unwrap().status.state,
        MessageState::Undelivered
    );
}

pub(crate) fn receipt(
    sandbox: &Sandbox,
    wamid: &str,
    umid: Option<Umid>,
    status: &MessageStatus,
) -> Receipt {
    Receipt {
        channel: sandbox.channel.id,
        provider_message_id: wamid.into(),
        umid,
        status: status.clone(),
        pricing: None,
        channel_user_id: None,
    }
}

/// Prices that show what the store asked: the `nth` message of the month costs `nth`
/// millionths, in tier `nth / 2`.
pub(crate) struct CountingPrices;

impl PriceList for CountingPrices {
    fn price(&self, _category: &str, _calling_code: &str, nth: u64) -> Price {
        Price {
            micros: nth as i64,
            tier: (nth / 2) as u32,
        }
    }
}

async fn apply_one<S: Store>(store: &S, receipt: Receipt) -> Option<Message> {
    let mut applied = store
        .apply_receipts(&[receipt], &CountingPrices)
        .await
        .unwrap();
    assert_eq!(applied.len(), 1, "one answer per receipt");
    applied.pop().unwrap()
}

pub async fn statuses_only_move_forward<S: Store>(store: &S) {
    let sandbox = seeded(store).await;
    let m = accept_one(store, outbound(&sandbox, "+15551230001", None, t0())).await;
    claim(store, t0()).await;
    store
        .complete_dispatch(m.umid, &sent("wamid.1", t0()))
        .await
        .unwrap();
    let read = MessageStatus::new(MessageState::Read, t0() + Duration::seconds(3));
    let delivered = MessageStatus::new(MessageState::Delivered, t0() + Duration::seconds(2))
        .with_detail(StatusDetail::DeliveredToRecipient);
    let updated = apply_one(store, receipt(&sandbox, "wamid.1", None, &read)).await;
    assert_eq!(updated.unwrap().status, read);
    let late = apply_one(store, receipt(&sandbox, "wamid.1", None, &delivered)).await;
    assert!(late.is_none(), "a late delivered does not undo read");
    let again = apply_one(store, receipt(&sandbox, "wamid.1", None, &read)).await;
    assert!(again.is_none(), "duplicate");
    let unknown = apply_one(store, receipt(&sandbox, "wamid.unknown", None, &read)).await;
    assert!(unknown.is_none());
    assert_eq!(store.message(m.umid).await.unwrap().unwrap().status, read);
    assert_eq!(store.status_history(m.umid).await.unwrap().len(), 3);
}

/// WhatsApp dates receipts to the whole second: a `delivered` in the very second the
/// message was `sent` (at …37.680) says …37, which must not list it before `sent`.
pub async fn a_receipt_dated_to_the_second_keeps_its_place_in_the_history<S: Store>(store: &S) {
    let sandbox = seeded(store).await;
    let m = accept_one(store, outbound(&sandbox, "+15551230001", None, t0())).await;
    claim(store, t0()).await;
    let sent_at = t0() + Duration::milliseconds(37_680);
    store
        .complete_dispatches(&[(m.umid, sent("wamid.a", sent_at))])
        .await
        .unwrap();
    let whole_second = t0() + Duration::seconds(37);
    let delivered = MessageStatus::new(MessageState::Delivered, whole_second)
        .with_detail(StatusDetail::DeliveredToRecipient);
    let read = MessageStatus::new(MessageState::Read, t0() + Duration::seconds(39));
    store
        .apply_receipts(
            &[
                receipt(&sandbox, "wamid.a", None, &delivered),
                receipt(&sandbox, "wamid.a", None, &read),
            ],
            &CountingPrices,
        )
        .await
        .unwrap();
    let history = store.status_history(m.umid).await.unwrap();
    let steps: Vec<_> = history.iter().map(|s| (s.state, s.at)).collect();
    assert_eq!(
        steps,
        [
            (MessageState::Queued, t0()),
            (MessageState::Sent, sent_at),
            (MessageState::Delivered, sent_at),
            (MessageState::Read, t0() + Duration::seconds(39)),
        ],
        "in the order things happened, never earlier than the step before"
    );
    let details = store.message(m.umid).await.unwrap().unwrap();
    assert_eq!(details.status.at, t0() + Duration::seconds(39));
}

pub async fn receipts_in_one_batch_apply_in_order<S: Store>(store: &S) {
    let sandbox = seeded(store).await;
    let a = accept_one(store, outbound(&sandbox, "+15551230001", None, t0())).await;
    let b = accept_one(store, outbound(&sandbox, "+15551230002", None, t0())).await;
    claim(store, t0()).await;
    store
        .complete_dispatches(&[
            (a.umid, sent("wamid.a", t0())),
            (b.umid, sent("wamid.b", t0())),
        ])
        .await
        .unwrap();
    let at = |s| t0() + Duration::seconds(s);
    let delivered = MessageStatus::new(MessageState::Delivered, at(1))
        .with_detail(StatusDetail::DeliveredToRecipient);
    let read = MessageStatus::new(MessageState::Read, at(2));
    let applied = store
        .apply_receipts(
            &[
                receipt(&sandbox, "wamid.a", None, &delivered),
                receipt(&sandbox, "wamid.unknown", None, &delivered),
                receipt(&sandbox, "wamid.a", None, &read),
                receipt(&sandbox, "wamid.b", None, &read),
                receipt(&sandbox, "wamid.b", None, &delivered),
            ],
            &CountingPrices,
        )
        .await
        .unwrap();
    let states: Vec<_> = applied
        .iter()
        .map(|m| m.as_ref().map(|m| (m.umid, m.status.state)))
        .collect();
    assert_eq!(
        states,
        [
            Some((a.umid, MessageState::Delivered)),
            None,
            Some((a.umid, MessageState::Read)),
            Some((b.umid, MessageState::Read)),
            None,
        ]
    );
    let history: Vec<_> = store
        .status_history(a.umid)
        .await
        .unwrap()
        .into_iter()
        .map(|s| s.state)
        .collect();
    assert_eq!(
        history,
        [
            MessageState::Queued,
            MessageState::Sent,
            MessageState::Delivered,
            MessageState::Read
        ]
    );
}

pub async fn interrupted_dispatch_is_reconciled_by_umid<S: Store>(store: &S) {
    let sandbox = seeded(store).await;
    let m = accept_one(store, outbound(&sandbox, "+15551230001", None, t0())).await;
    claim(store, t0()).await;
    store.mark_handed_off(&[m.umid], t0()).await.unwrap();
    let mut unknown = MessageStatus::new(MessageState::Undelivered, t0());
    unknown.error_code = Some(57);
    store
        .complete_dispatch(m.umid, &DispatchResult::Failed { status: unknown })
        .await
        .unwrap();
    let delivered = MessageStatus::new(MessageState::Delivered, t0() + Duration::seconds(1))
        .with_detail(StatusDetail::DeliveredToRecipient);
    let by_wamid_only = apply_one(store, receipt(&sandbox, "wamid.late", None, &delivered)).await;
    assert!(by_wamid_only.is_none(), "Parley never learnt this wamid");
    let foreign = Receipt {
        channel: ChannelId::new(),
        ..receipt(&sandbox, "wamid.late", Some(m.umid), &delivered)
    };
    assert!(
        apply_one(store, foreign).await.is_none(),
        "another channel's umid"
    );
    let updated = apply_one(
        store,
        receipt(&sandbox, "wamid.late", Some(m.umid), &delivered),
    )
    .await
    .unwrap();
    assert_eq!(updated.status, delivered);
    assert_eq!(updated.provider_message_id.as_deref(), Some("wamid.late"));
    let read = MessageStatus::new(MessageState::Read, t0() + Duration::seconds(2));
    let later = apply_one(store, receipt(&sandbox, "wamid.late", None, &read)).await;
    assert_eq!(
        later.unwrap().status,
        read,
        "found by the attached wamid from now on"
    );
}

/// WhatsApp's business-scoped ids come with inbound messages and receipts and with sends
/// that name the user by one; a send by id finds the number through them, in the account
/// that heard them only, the latest pairing first.
pub async fn a_business_scoped_user_id_finds_the_user_s_number_within_its_account<S: Store>(
    store: &S,
) {
    let sandbox = seeded(store).await;
    let account = &sandbox.account.id;
    let find =
        |id: &'static str| async move { store.msisdn_for_channel_user(account, id).await.unwrap() };
    assert_eq!(find("US.1").await, None);
    let mut inbound = outbound(&sandbox, "+15551230001", None, t0());
    inbound.direction = Direction::Inbound;
    inbound.provider_message_id = Some("wamid.in1".into());
    inbound.channel_user_id = Some("US.1".into());
    inbound.status = MessageStatus::new(MessageState::Received, t0());
    store.record_inbound(&inbound, false, None).await.unwrap();
    assert_eq!(find("US.1").await.as_deref(), Some("+15551230001"));
    let stored = store.message(inbound.umid).await.unwrap().unwrap();
    assert_eq!(stored.channel_user_id.as_deref(), Some("US.1"));

    // A receipt names the recipient of an outbound message; a later one does not undo it.
    let outgoing = accept_one(store, outbound(&sandbox, "+15551230002", None, t0())).await;
    claim(store, t0()).await;
    store
        .complete_dispatches(&[(outgoing.umid, sent("wamid.out", t0()))])
        .await
        .unwrap();
    let mut delivered = receipt(
        &sandbox,
        "wamid.out",
        None,
        &MessageStatus::new(MessageState::Delivered, t0() + Duration::seconds(1))
            .with_detail(StatusDetail::DeliveredToRecipient),
    );
    delivered.channel_user_id = Some("US.2".into());
    let read = receipt(
        &sandbox,
        "wamid.out",
        None,
        &MessageStatus::new(MessageState::Read, t0() + Duration::seconds(2)),
    );
    store
        .apply_receipts(&[delivered, read], &CountingPrices)
        .await
        .unwrap();
    let stored = store.message(outgoing.umid).await.unwrap().unwrap();
    assert_eq!(stored.channel_user_id.as_deref(), Some("US.2"));
    assert_eq!(find("US.2").await.as_deref(), Some("+15551230002"));

    // A send that named the user by id keeps it; the newest pairing wins (a user who
    // changed number gets a new id from WhatsApp, but a stale pairing must not win).
    let mut by_id = outbound(&sandbox, "+15551230003", None, t0() + Duration::seconds(5));
    by_id.channel_user_id = Some("US.1".into());
    accept_one(store, by_id).await;
    assert_eq!(find("US.1").await.as_deref(), Some("+15551230003"));
    let stranger = AccountId::parse("acct-2").unwrap();
    assert_eq!(
        store
            .msisdn_for_channel_user(&stranger, "US.1")
            .await
            .unwrap(),
        None,
        "another account never heard of it"
    );
}

pub async fn inbound_is_stored_once_and_opens_the_window<S: Store>(store: &S) {
    let sandbox = seeded(store).await;
    let user = "+15551230009";
    let last_inbound = || async {
        store
            .conversation_window(sandbox.channel.id, user)
            .await
            .unwrap()
            .map(|w| w.last_inbound_at)
    };
    assert!(last_inbound().await.is_none());
    let mut inbound = outbound(&sandbox, user, None, t0());
    inbound.direction = Direction::Inbound;
    inbound.origin = None;
    inbound.provider_message_id = Some("wamid.in1".into());
    inbound.user_name = Some("Jane".into());
    inbound.status = MessageStatus::new(MessageState::Received, t0());
    assert!(matches!(
        store.record_inbound(&inbound, false, None).await.unwrap(),
        InboundOutcome::Stored
    ));
    let mut replayed = inbound.clone();
    replayed.umid = Umid::new();
    assert!(matches!(
        store.record_inbound(&replayed, false, None).await.unwrap(),
        InboundOutcome::AlreadyStored
    ));
    assert_eq!(last_inbound().await, Some(t0()));
    assert!(store.message(replayed.umid).await.unwrap().is_none());

    let mut later = inbound.clone();
    later.umid = Umid::new();
    later.provider_message_id = Some("wamid.in2".into());
    later.created_at = t0() + Duration::hours(2);
    store.record_inbound(&later, false, None).await.unwrap();
    let mut older = inbound.clone();
    older.umid = Umid::new();
    older.provider_message_id = Some("wamid.in0".into());
    older.created_at = t0() - Duration::hours(1);
    store.record_inbound(&older, false, None).await.unwrap();
    assert_eq!(
        last_inbound().await,
        Some(t0() + Duration::hours(2)),
        "a late-arriving older message does not shorten the window"
    );
    assert_eq!(store.message(inbound.umid).await.unwrap().unwrap(), inbound);
}

pub(crate) fn inbound_from(
    sandbox: &Sandbox,
    user: &str,
    wamid: &str,
    at: DateTime<Utc>,
) -> Message {
    let mut inbound = outbound(sandbox, user, None, at);
    inbound.direction = Direction::Inbound;
    inbound.origin = None;
    inbound.provider_message_id = Some(wamid.into());
    inbound.status = MessageStatus::new(MessageState::Received, at);
    inbound
}

pub async fn billable_messages_are_charged_once_on_reaching_the_user<S: Store>(store: &S) {
    let sandbox = seeded(store).await;
    let users = ["+15551230001", "+15551230002", "+15551230003"];
    let mut umids = Vec::new();
    for user in users {
        umids.push(
            accept_one(store, outbound(&sandbox, user, None, t0()))
                .await
                .umid,
        );
    }
    claim(store, t0()).await;
    let results: Vec<_> = umids
        .iter()
        .enumerate()
        .map(|(i, umid)| (*umid, sent(&format!("wamid.{i}"), t0())))
        .collect();
    store.complete_dispatches(&results).await.unwrap();
    let at = |s| t0() + Duration::seconds(s);
    let priced = |wamid: &str, status: &MessageStatus, billable: bool| Receipt {
        pricing: Some(ReceiptPricing {
            category: if billable { "marketing" } else { "service" }.into(),
            kind: if billable {
                "regular"
            } else {
                "free_customer_service"
            }
            .into(),
            billable,
        }),
        ..receipt(&sandbox, wamid, None, status)
    };
    let on_operator = MessageStatus::new(MessageState::Delivered, at(1))
        .with_detail(StatusDetail::DeliveredToOperator);
    let delivered = MessageStatus::new(MessageState::Delivered, at(2))
        .with_detail(StatusDetail::DeliveredToRecipient);
    let read = MessageStatus::new(MessageState::Read, at(3));
    let applied = store
        .apply_receipts(
            &[
                priced("wamid.0", &on_operator, true),
                receipt(&sandbox, "wamid.0", None, &delivered),
                priced("wamid.0", &read, true),
                // Read before delivered: reaching the user either way.
                priced("wamid.1", &read, true),
                priced("wamid.2", &delivered, false),
            ],
            &CountingPrices,
        )
        .await
        .unwrap();
    let costs: Vec<_> = applied
        .iter()
        .map(|m| {
            m.as_ref()
                .and_then(|m| m.pricing.as_ref())
                .map(|p| p.cost_micros)
        })
        .collect();
    assert_eq!(
        costs,
        [
            Some(None),
            Some(Some(1)),
            Some(Some(1)),
            Some(Some(2)),
            Some(None)
        ],
        "priced from the first receipt, charged once on reaching the user, counted per month"
    );
    let free = store.message(umids[2]).await.unwrap().unwrap();
    assert_eq!(
        free.pricing,
        Some(MessagePricing {
            category: "service".into(),
            kind: "free_customer_service".into(),
            billable: false,
            cost_micros: None,
        })
    );
    let month = Utc.with_ymd_and_hms(2026, 6, 1, 0, 0, 0).unwrap();
    let mut usage = store
        .usage(&sandbox.account.id, month, month + Duration::days(30))
        .await
        .unwrap();
    usage.sort_by_key(|r| (r.category.clone(), r.tier));
    let summary: Vec<_> = usage
        .iter()
        .map(|r| {
            (
                r.category.as_str(),
                r.tier,
                r.delivered,
                r.charged,
                r.cost_micros,
            )
        })
        .collect();
    assert_eq!(
        summary,
        [
            ("marketing", Some(0), 1, 1, 1),
            ("marketing", Some(1), 1, 1, 2),
            ("service", None, 1, 0, 0),
        ]
    );
    assert_eq!(usage[0].waba_id, sandbox.channel.waba_id);
    assert_eq!(usage[0].country.as_deref(), Some("US"));
    let next_month = store
        .usage(
            &sandbox.account.id,
            month + Duration::days(30),
            month + Duration::days(61),
        )
        .await
        .unwrap();
    assert!(next_month.is_empty());
}

pub async fn a_timely_reply_to_a_referred_user_opens_a_free_entry_point<S: Store>(store: &S) {
    let sandbox = seeded(store).await;
    let (answered, late) = ("+15551230001", "+15551230002");
    let window = |user| async move {
        store
            .conversation_window(sandbox.channel.id, user)
            .await
            .unwrap()
            .unwrap()
    };
    for (i, user) in [answered, late].into_iter().enumerate() {
        let inbound = inbound_from(&sandbox, user, &format!("wamid.in{i}"), t0());
        store.record_inbound(&inbound, true, None).await.unwrap();
    }
    assert_eq!(window(answered).await.referred_at, Some(t0()));
    let reply = |user, at| {
        let m = outbound(&sandbox, user, None, at);
        async move {
            let m = accept_one(store, m).await;
            claim(store, at).await;
            store
                .complete_dispatch(m.umid, &sent(&format!("wamid.{}", m.umid), at))
                .await
                .unwrap();
        }
    };
    let replied = t0() + Duration::hours(23);
    reply(answered, replied).await;
    reply(late, t0() + Duration::hours(25)).await;
    let opened = window(answered).await;
    assert_eq!(opened.free_entry_until, Some(replied + Duration::hours(72)));
    assert_eq!(opened.referred_at, None);
    let missed = window(late).await;
    assert_eq!((missed.free_entry_until, missed.referred_at), (None, None));

    let again = inbound_from(
        &sandbox,
        answered,
        "wamid.in9",
        replied + Duration::hours(30),
    );
    store.record_inbound(&again, true, None).await.unwrap();
    let still = window(answered).await;
    assert_eq!(
        (still.free_entry_until, still.referred_at),
        (opened.free_entry_until, None),
        "an active free entry point neither resets nor queues another"
    );
    assert_eq!(still.last_inbound_at, replied + Duration::hours(30));
}

/// Another account with its own subaccount, channel and key (hash `hash-2`).
pub(crate) fn second_tenant() -> Sandbox {
    let mut second = sandbox();
    second.account.id = AccountId::parse("acct-2").unwrap();
    second.sub_account = SubAccount {
        id: SubAccountId::parse("sub-2").unwrap(),
        account_id: second.account.id.clone(),
        created_at: t0(),
    };
    second.channel.id = ChannelId::new();
    second.channel.account_id = second.account.id.clone();
    second.channel.sub_account_id = second.sub_account.id.clone();
    second.channel.phone_number_id = "2001".into();
    second.api_key = key(&second.account.id, "hash-2");
    second
}

pub async fn tenants_are_created_apart<S: Store>(store: &S) {
    let first = seeded(store).await;
    let second = second_tenant();
    store.create_tenant(&second).await.unwrap();
    assert_eq!(store.accounts().await.unwrap().len(), 2);
    let key = store.api_key_by_hash("hash-2").await.unwrap().unwrap();
    assert_eq!(key.account_id, second.account.id);
    let channel = store
        .channel_for_sub_account(&second.sub_account.id)
        .await
        .unwrap()
        .unwrap();
    assert_ne!(channel.id, first.channel.id);
    assert!(
        store.create_tenant(&second).await.is_err(),
        "ids are unique"
    );
    assert_eq!(
        store.accounts().await.unwrap().len(),
        2,
        "a failed creation leaves nothing behind"
    );
}

pub(crate) fn template(
    sandbox: &Sandbox,
    name: &str,
    language: &str,
    at: DateTime<Utc>,
) -> Template {
    Template {
        id: uuid::Uuid::new_v4(),
        account_id: sandbox.account.id.clone(),
        channel_id: sandbox.channel.id,
        waba_id: sandbox.channel.waba_id.clone(),
        name: name.into(),
        language: language.into(),
        category: "UTILITY".into(),
        spec: json!({"name": name, "body": {"text": "Hi {{1}}!"}}),
        status: "PENDING".into(),
        reason: None,
        quality: "UNKNOWN".into(),
        provider_template_id: None,
        created_at: at,
        updated_at: at,
        deleted_at: None,
    }
}

pub(crate) const LIMITS: TemplateLimits = TemplateLimits {
    max_templates: 3,
    max_created_per_hour: 4,
    name_blocked_for: Duration::days(30),
};

pub(crate) fn created(outcome: CreateTemplateOutcome) -> Template {
    match outcome {
        CreateTemplateOutcome::Created(t) => t,
        other => panic!("expected the template to be created, got {other:?}"),
    }
}

pub async fn template_creation_keeps_to_the_limits<S: Store>(store: &S) {
    let sb = seeded(store).await;
    let now = t0();
    let first = created(
        store
            .create_template(&template(&sb, "welcome", "en", now), &LIMITS, now)
            .await
            .unwrap(),
    );
    // Same name and language again: the live one comes back, nothing new is stored.
    match store
        .create_template(&template(&sb, "welcome", "en", now), &LIMITS, now)
        .await
        .unwrap()
    {
        CreateTemplateOutcome::Exists(t) => assert_eq!(t.id, first.id),
        other => panic!("expected Exists, got {other:?}"),
    }
    // Another language of the same name is another template.
    created(
        store
            .create_template(&template(&sb, "welcome", "es", now), &LIMITS, now)
            .await
            .unwrap(),
    );
    created(
        store
            .create_template(&template(&sb, "other", "en", now), &LIMITS, now)
            .await
            .unwrap(),
    );
    assert_eq!(
        store
            .create_template(&template(&sb, "fourth", "en", now), &LIMITS, now)
            .await
            .unwrap(),
        CreateTemplateOutcome::TooManyTemplates { limit: 3 }
    );
    // Deleting frees room, but the hour's creations still count.
    store
        .delete_templates(sb.channel.id, "other", now)
        .await
        .unwrap();
    created(
        store
            .create_template(&template(&sb, "fourth", "en", now), &LIMITS, now)
            .await
            .unwrap(),
    );
    store
        .delete_templates(sb.channel.id, "fourth", now)
        .await
        .unwrap();
    assert_eq!(
        store
            .create_template(&template(&sb, "fifth", "en", now), &LIMITS, now)
            .await
            .unwrap(),
        CreateTemplateOutcome::RateLimited {
            retry_at: now + Duration::hours(1)
        }
    );
    let later = now + Duration::minutes(61);
    created(
        store
            .create_template(&template(&sb, "fifth", "en", later), &LIMITS, later)
            .await
            .unwrap(),
    );
    let names: Vec<(String, String)> = store
        .templates(sb.channel.id)
        .await
        .unwrap()
        .into_iter()
        .map(|t| (t.name, t.status))
        .collect();
    assert_eq!(
        names,
        [
            ("fifth", "PENDING"),
            ("fourth", "PENDING_DELETION"),
            ("other", "PENDING_DELETION"),
            ("welcome", "PENDING"),
            ("welcome", "PENDING"),
        ]
        .map(|(n, s)| (n.to_owned(), s.to_owned()))
    );
}

pub async fn deleted_template_names_are_blocked_then_free<S: Store>(store: &S) {
    let sb = seeded(store).await;
    let now = t0();
    let original = created(
        store
            .create_template(&template(&sb, "promo", "en", now), &LIMITS, now)
            .await
            .unwrap(),
    );
    created(
        store
            .create_template(&template(&sb, "promo", "fr", now), &LIMITS, now)
            .await
            .unwrap(),
    );
    let deleted = store
        .delete_templates(sb.channel.id, "promo", now + Duration::hours(2))
        .await
        .unwrap();
    assert_eq!(deleted.len(), 2, "every language of the name is deleted");
    assert!(
        store
            .template(sb.channel.id, "promo", "en")
            .await
            .unwrap()
            .is_none()
    );
    let gone = store
        .deleted_template(sb.channel.id, "promo")
        .await
        .unwrap()
        .expect("the deleted template is still known");
    assert_eq!(gone.status, "PENDING_DELETION");
    let until = now + Duration::hours(2) + Duration::days(30);
    let blocked_at = now + Duration::days(29);
    assert_eq!(
        store
            .create_template(
                &template(&sb, "promo", "de", blocked_at),
                &LIMITS,
                blocked_at
            )
            .await
            .unwrap(),
        CreateTemplateOutcome::NameBlocked { until }
    );
    let free_at = until + Duration::seconds(1);
    created(
        store
            .create_template(&template(&sb, "promo", "en", free_at), &LIMITS, free_at)
            .await
            .unwrap(),
    );
    let history = store.template_history(original.id).await.unwrap();
    let statuses: Vec<&str> = history.iter().map(|h| h.status.as_str()).collect();
    assert_eq!(statuses, ["PENDING", "PENDING_DELETION"]);
}

pub async fn provider_changes_update_templates_and_their_history<S: Store>(store: &S) {
    let sb = seeded(store).await;
    let now = t0();
    let t = created(
        store
            .create_template(&template(&sb, "notice", "en_US", now), &LIMITS, now)
            .await
            .unwrap(),
    );
    store.set_provider_template_id(t.id, "9001").await.unwrap();
    let waba = sb.channel.waba_id.as_str();
    let approve = TemplateUpdate::Status {
        status: "APPROVED".into(),
        note: StatusNote::with_reason("NONE"),
    };
    let at = now + Duration::minutes(1);
    let approved = store
        .update_template(waba, "notice", "en_US", &approve, at)
        .await
        .unwrap()
        .expect("found by business account, name and language");
    assert_eq!(approved.status, "APPROVED");
    assert_eq!(approved.provider_template_id.as_deref(), Some("9001"));
    assert_eq!(approved.updated_at, at);
    // The same webhook again changes nothing and adds no history.
    store
        .update_template(waba, "notice", "en_US", &approve, at + Duration::minutes(1))
        .await
        .unwrap();
    store
        .update_template(
            waba,
            "notice",
            "en_US",
            &TemplateUpdate::Quality {
                score: "RED".into(),
            },
            at + Duration::minutes(2),
        )
        .await
        .unwrap();
    let changed = store
        .update_template(
            waba,
            "notice",
            "en_US",
            &TemplateUpdate::Category {
                category: "MARKETING".into(),
            },
            at + Duration::minutes(3),
        )
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (changed.quality.as_str(), changed.category.as_str()),
        ("RED", "MARKETING")
    );
    assert!(
        store
            .update_template("other-waba", "notice", "en_US", &approve, at)
            .await
            .unwrap()
            .is_none(),
        "another business account's template of the same name is not this one"
    );
    let pause = StatusNote {
        reason: Some("NONE".into()),
        other_info: Some(OtherInfo {
            title: "FIRST_PAUSE".into(),
            description: Some("Paused for 3 hours".into()),
        }),
        disable_date: Some(at + Duration::days(7)),
    };
    let paused = store
        .update_template(
            waba,
            "notice",
            "en_US",
            &TemplateUpdate::Status {
                status: "PAUSED".into(),
                note: pause.clone(),
            },
            at + Duration::minutes(4),
        )
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        paused.reason.as_deref(),
        Some("FIRST_PAUSE"),
        "the list shows the pause's title, not Meta's NONE"
    );
    let history = store.template_history(t.id).await.unwrap();
    assert_eq!(
        history.last().map(|h| &h.note),
        Some(&pause),
        "the history keeps all Meta said about the pause"
    );
    assert_eq!(history[1].note, StatusNote::with_reason("NONE"));
    let steps: Vec<(&str, &str, &str)> = history
        .iter()
        .map(|h| (h.status.as_str(), h.quality.as_str(), h.category.as_str()))
        .collect();
    assert_eq!(
        steps,
        [
            ("PENDING", "UNKNOWN", "UTILITY"),
            ("APPROVED", "UNKNOWN", "UTILITY"),
            ("APPROVED", "RED", "UTILITY"),
            ("APPROVED", "RED", "MARKETING"),
            ("PAUSED", "RED", "MARKETING"),
        ]
    );
}

fn webhook(sb: &Sandbox, sub: &str, kind: WebhookKind, url: &str) -> Webhook {
    Webhook {
        account_id: sb.account.id.clone(),
        sub_account_id: sub.into(),
        kind,
        url: url.into(),
        enabled: true,
        http_authorization: Some("Basic c2VjcmV0".into()),
        oauth: None,
        signing_secret: None,
        created_at: t0(),
        updated_at: t0(),
    }
}

/// What the `webhooks` consumer does with the events since its checkpoint: those a
/// webhook can take now join the outbox; yields how many.
async fn outbox<S: Store>(store: &S) -> u64 {
    let (name, owner, lease) = ("webhooks", "conformance", t0() + Duration::seconds(30));
    let head = store.event_head().await.unwrap();
    let from = store
        .claim_consumer(name, owner, ConsumerStart::Beginning, t0(), lease)
        .await
        .unwrap()
        .expect("nobody else works the consumer");
    let added = store.enqueue_webhook_events(from, head).await.unwrap();
    store
        .advance_consumer(name, owner, head, &[], t0(), lease)
        .await
        .unwrap();
    added
}

async fn claim_events<S: Store>(store: &S, now: DateTime<Utc>) -> Vec<WebhookEvent> {
    outbox(store).await;
    store
        .claim_webhook_events(now, now + Duration::seconds(30), 100, &[])
        .await
        .unwrap()
}

pub async fn changes_reach_the_outbox_only_with_a_webhook_to_take_them<S: Store>(store: &S) {
    let sb = seeded(store).await;
    accept_one(store, outbound(&sb, "+15551110001", None, t0())).await;
    assert_eq!(outbox(store).await, 0);
    assert_eq!(store.webhook_backlog().await.unwrap(), 0, "nobody listens");

    store
        .save_webhooks(&[webhook(&sb, "*", WebhookKind::Cadr, "https://x.test/dr")])
        .await
        .unwrap();
    let sent = accept_one(store, outbound(&sb, "+15551110002", None, t0())).await;
    let mut inbound = outbound(&sb, "+15551110003", None, t0());
    inbound.direction = Direction::Inbound;
    inbound.provider_message_id = Some("wamid.in".into());
    inbound.status = MessageStatus::new(MessageState::Received, t0());
    store.record_inbound(&inbound, false, None).await.unwrap();
    // The receipt webhook takes the outbound message's status, not the inbound message.
    let events = claim_events(store, t0()).await;
    assert_eq!(events.len(), 1, "{events:?}");
    let event = &events[0];
    assert_eq!(
        (event.kind, event.source),
        (WebhookKind::Cadr, EventSource::Status)
    );
    assert_eq!(event.state, EventState::Pending);
    match store.event_subject(event).await.unwrap() {
        Some(EventSubject::Status { message, status }) => {
            assert_eq!(message.umid, sent.umid);
            assert_eq!(status.state, MessageState::Queued);
        }
        other => panic!("{other:?}"),
    }

    // A per-message receipt URL is enough on its own.
    store
        .delete_webhooks(&sb.account.id, &[("*".into(), None)])
        .await
        .unwrap();
    let mut own = outbound(&sb, "+15551110004", None, t0());
    own.dlr_callback_url = Some("https://x.test/mine".into());
    let own = accept_one(store, own).await;
    assert_eq!(
        store
            .message(own.umid)
            .await
            .unwrap()
            .unwrap()
            .dlr_callback_url
            .as_deref(),
        Some("https://x.test/mine")
    );
    assert_eq!(outbox(store).await, 1);
    assert_eq!(store.webhook_backlog().await.unwrap(), 2);
    let head = store.event_head().await.unwrap();
    assert_eq!(
        store.enqueue_webhook_events(0, head).await.unwrap(),
        0,
        "events handed over again add nothing, though a webhook would now take the first"
    );
    assert_eq!(store.webhook_backlog().await.unwrap(), 2);

    // Inbound messages, once MSG is configured; template changes after creation, for CABM.
    store
        .save_webhooks(&[
            webhook(&sb, "sub-1", WebhookKind::Msg, "https://x.test/mo"),
            webhook(&sb, "*", WebhookKind::Cabm, "https://x.test/bm"),
        ])
        .await
        .unwrap();
    let mut second = inbound.clone();
    second.umid = Umid::new();
    second.provider_message_id = Some("wamid.in2".into());
    store.record_inbound(&second, false, None).await.unwrap();
    let t = created(
        store
            .create_template(&template(&sb, "notice", "en_US", t0()), &LIMITS, t0())
            .await
            .unwrap(),
    );
    let waba = sb.channel.waba_id.as_str();
    let approve = TemplateUpdate::Status {
        status: "APPROVED".into(),
        note: StatusNote::with_reason("NONE"),
    };
    store
        .update_template(waba, "notice", "en_US", &approve, t0())
        .await
        .unwrap();
    store
        .record_business_event(&BusinessEvent {
            account_id: sb.account.id.clone(),
            waba_id: waba.into(),
            event_type: "phone_number_quality_update".into(),
            details: json!({"displayPhoneNumber": "+15550001111"}),
            at: t0(),
        })
        .await
        .unwrap();
    outbox(store).await;
    let page = store
        .webhook_events(
            &sb.account.id,
            &EventFilter {
                limit: 10,
                ..EventFilter::default()
            },
        )
        .await
        .unwrap();
    let kinds: Vec<_> = page.iter().map(|e| (e.kind, e.source)).collect();
    assert_eq!(
        kinds[..3],
        [
            (WebhookKind::Cabm, EventSource::Business),
            (WebhookKind::Cabm, EventSource::Template),
            (WebhookKind::Msg, EventSource::Status),
        ],
        "newest first"
    );
    match store.event_subject(&page[1]).await.unwrap() {
        Some(EventSubject::Template {
            template,
            change,
            previous,
        }) => {
            assert_eq!(template.id, t.id);
            assert_eq!(change.status, "APPROVED");
            assert_eq!(previous.map(|p| p.status).as_deref(), Some("PENDING"));
        }
        other => panic!("{other:?}"),
    }
    assert!(matches!(
        store.event_subject(&page[0]).await.unwrap(),
        Some(EventSubject::Business(b)) if b.event_type == "phone_number_quality_update"
    ));
}

pub async fn webhook_events_of_a_recipient_leave_in_order_and_retry_in_place<S: Store>(store: &S) {
    let sb = seeded(store).await;
    store
        .save_webhooks(&[webhook(&sb, "*", WebhookKind::Cadr, "https://x.test/dr")])
        .await
        .unwrap();
    let user = "+15551110010";
    let first = accept_one(store, outbound(&sb, user, None, t0())).await;
    accept_one(store, outbound(&sb, user, None, t0())).await;
    accept_one(store, outbound(&sb, "+15551110011", None, t0())).await;
    let claimed = claim_events(store, t0()).await;
    assert_eq!(claimed.len(), 2, "one head per recipient: {claimed:?}");
    assert!(claim_events(store, t0()).await.is_empty(), "leased");
    let head = claimed
        .iter()
        .find(|e| e.lane.ends_with(user))
        .unwrap()
        .clone();
    match store.event_subject(&head).await.unwrap() {
        Some(EventSubject::Status { message, .. }) => assert_eq!(message.umid, first.umid),
        other => panic!("{other:?}"),
    }
    let attempt = WebhookAttempt {
        at: t0(),
        url: "https://x.test/dr".into(),
        status_code: Some(500),
        latency_ms: 12,
        error: Some("HTTP 500".into()),
    };
    let later = t0() + Duration::seconds(10);
    store
        .finish_webhook_event(head.id, &WebhookOutcome::Retry(later), Some(&attempt), t0())
        .await
        .unwrap();
    let other = claimed.iter().find(|e| e.id != head.id).unwrap();
    store
        .finish_webhook_event(other.id, &WebhookOutcome::Delivered, None, t0())
        .await
        .unwrap();
    // The failed head keeps its place: nothing of that recipient leaves before it.
    assert!(
        claim_events(store, t0() + Duration::seconds(9))
            .await
            .is_empty()
    );
    let again = claim_events(store, later).await;
    assert_eq!(again.iter().map(|e| e.id).collect::<Vec<_>>(), [head.id]);
    assert_eq!(again[0].attempts, 1);
    assert_eq!(again[0].last_error.as_deref(), Some("HTTP 500"));
    store
        .finish_webhook_event(head.id, &WebhookOutcome::Delivered, None, later)
        .await
        .unwrap();
    let next = claim_events(store, later).await;
    assert_eq!(next.len(), 1);
    assert!(next[0].id > head.id && next[0].lane == head.lane);
    assert_eq!(
        store.webhook_attempts(head.id).await.unwrap(),
        vec![attempt]
    );
}

pub async fn dead_events_are_redriven<S: Store>(store: &S) {
    let sb = seeded(store).await;
    store
        .save_webhooks(&[webhook(&sb, "*", WebhookKind::Cadr, "https://x.test/dr")])
        .await
        .unwrap();
    accept_one(store, outbound(&sb, "+15551110020", None, t0())).await;
    let event = claim_events(store, t0()).await.remove(0);
    store
        .finish_webhook_event(event.id, &WebhookOutcome::Dead, None, t0())
        .await
        .unwrap();
    assert!(claim_events(store, t0()).await.is_empty());
    let dead = store
        .webhook_event(&sb.account.id, event.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(dead.state, EventState::Dead);
    let other = AccountId::parse("acct-other").unwrap();
    assert_eq!(
        store
            .redrive_webhook_events(&other, &Redrive::ALL_DEAD, t0())
            .await
            .unwrap(),
        0,
        "another account's redrive touches nothing"
    );
    let later = t0() + Duration::minutes(5);
    assert_eq!(
        store
            .redrive_webhook_events(&sb.account.id, &Redrive::ALL_DEAD, later)
            .await
            .unwrap(),
        1
    );
    let again = claim_events(store, later).await;
    assert_eq!(
        again.iter().map(|e| (e.id, e.attempts)).collect::<Vec<_>>(),
        [(event.id, 0)]
    );
}

pub async fn webhooks_are_replaced_and_deleted_by_key<S: Store>(store: &S) {
    let sb = seeded(store).await;
    let mut dr = webhook(&sb, "*", WebhookKind::Cadr, "https://x.test/one");
    store.save_webhooks(&[dr.clone()]).await.unwrap();
    dr.url = "https://x.test/two".into();
    dr.enabled = false;
    dr.oauth = Some(json!({"url": "https://auth.test/token", "clientId": "c"}));
    store
        .save_webhooks(&[
            dr.clone(),
            webhook(&sb, "sub-1", WebhookKind::Msg, "https://x.test/mo"),
        ])
        .await
        .unwrap();
    let saved = store.webhooks(&sb.account.id).await.unwrap();
    assert_eq!(saved.len(), 2);
    assert_eq!(saved[0], dr, "replaced in place");
    assert_eq!(
        store
            .delete_webhooks(&sb.account.id, &[("sub-1".into(), Some(WebhookKind::Cadr))])
            .await
            .unwrap(),
        0
    );
    assert_eq!(
        store
            .delete_webhooks(&sb.account.id, &[("sub-1".into(), None)])
            .await
            .unwrap(),
        1
    );
    assert_eq!(store.webhooks(&sb.account.id).await.unwrap(), vec![dr]);
}

pub async fn endpoint_health_is_replaced_per_account_and_url<S: Store>(store: &S) {
    let sb = seeded(store).await;
    let mut health = EndpointHealth {
        account_id: sb.account.id.clone(),
        url: "https://x.test/hook".into(),
        failing_since: Some(t0()),
        failing: false,
        last_error: Some("HTTP 500".into()),
        updated_at: t0(),
    };
    store.save_endpoint_health(&health).await.unwrap();
    health.failing = true;
    health.updated_at = t0() + Duration::minutes(15);
    store.save_endpoint_health(&health).await.unwrap();
    assert_eq!(
        store.endpoint_health(&sb.account.id).await.unwrap(),
        vec![health.clone()]
    );
    let other = AccountId::parse("someone-else").unwrap();
    assert!(store.endpoint_health(&other).await.unwrap().is_empty());
    health.failing_since = None;
    health.failing = false;
    health.last_error = None;
    store.save_endpoint_health(&health).await.unwrap();
    assert_eq!(
        store.endpoint_health(&sb.account.id).await.unwrap(),
        vec![health]
    );
}

pub async fn the_origin_is_kept_with_the_message<S: Store>(store: &S) {
    let sandbox = seeded(store).await;
    let origins = [
        Origin::Campaign {
            campaign: "spring".into(),
        },
        Origin::Automation {
            instance: "i-7".into(),
            step: "ask".into(),
        },
        Origin::Agent {
            agent: "ana".into(),
            ticket: "t-9".into(),
        },
        Origin::Batch,
    ];
    for (i, origin) in origins.into_iter().enumerate() {
        let mut message = outbound(&sandbox, &format!("+1555123000{i}"), None, t0());
        message.origin = Some(origin.clone());
        let umid = accept_one(store, message).await.umid;
        let stored = store.message(umid).await.unwrap().unwrap();
        assert_eq!(stored.origin, Some(origin));
    }
}
