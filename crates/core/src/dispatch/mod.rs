//! The dispatcher: claims queued messages, hands each to the channel adapter exactly once,
//! and records how it ended.
//!
//! "Never lost, never twice": the hand-off is recorded *before* the provider is called,
//! and a message is never handed over again while its outcome may still be learnt. When a
//! worker dies after the hand-off, another node takes the message over once the lease and
//! a grace period have passed. If WhatsApp took it, its receipts (which echo the umid)
//! have moved it on by then and it is settled as it stands; if no receipt came, it most
//! likely never reached WhatsApp and is sent again ([`AfterCrash::Resend`], the default)
//! or reported undelivered with the outcome unknown ([`AfterCrash::Undelivered`], for
//! those who would rather lose a message than risk sending one twice). See
//! `docs/decisions.md` for why resending is the default.

mod pacing;
pub mod reach;
mod turns;

use std::collections::hash_map::Entry;
use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::Duration as StdDuration;

use chrono::Duration;
use parley_channels::{ChannelAdapter, ChannelRoute, OutboundMessage, ProviderError, SendOutcome};
use parley_store::{
    Channel, DispatchJob, DispatchResult, Message, MessageState, MessageStatus, SharedStore,
};
use parley_types::codes::{
    DR_EXPIRED, DR_INTERNAL_ERROR, DR_OPTED_OUT, DR_UNKNOWN_ERROR, DeliveryError,
};
use parley_types::{AccountId, ChannelId, SharedClock, Umid};
use tokio::sync::{Notify, watch};

use pacing::Pacer;
pub use pacing::{Hold, PAIR_BURST, PAIR_INTERVAL, PacingConfig, Verdict};
use reach::MessagingLimits;

use crate::media::MediaUploads;
use crate::messages::Content;
use crate::messages::content::ContentKind;
use crate::messages::route;
use crate::{Error, Result};

/// Waits before re-trying a message the provider could not take right now (outages),
/// indexed by the number of attempts so far. After the last, it is undelivered. Rate
/// limits are not failures: [`THROTTLE_CODES`] wait for the pacer instead, uncounted.
pub const RETRY_SCHEDULE: &[StdDuration] = &[
    StdDuration::from_secs(1),
    StdDuration::from_secs(5),
    StdDuration::from_secs(15),
    StdDuration::from_secs(60),
    StdDuration::from_secs(300),
    StdDuration::from_secs(900),
];

/// Most scheduled messages one round moves to the queue once due.
pub const SCHEDULED_RELEASE: u32 = 1000;

/// Meta's "too fast" answers: the number's throughput (130429) and the pair rate (131056).
pub const THROTTLE_CODES: [u32; 2] = [130429, 131056];

/// What becomes of a message handed to WhatsApp by a worker that died before learning the
/// outcome, when no receipt has come for it by the end of the grace period.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AfterCrash {
    /// Send it again: without a receipt it most likely never reached WhatsApp. Errs
    /// towards at-least-once (twice only if WhatsApp's receipt for it comes more than the
    /// grace period after later receipts of its number, or after its number's receipts
    /// have paused for the grace period).
    Resend,
    /// Report it `undelivered` (code 57, outcome unknown): errs towards at-most-once.
    Undelivered,
}

#[derive(Debug, Clone)]
pub struct DispatchConfig {
    /// Messages claimed per round.
    pub batch: u32,
    /// How long a claim is held; longer than any provider call can take.
    pub lease: Duration,
    /// After a handed-off message's lease ran out, how much longer its receipts are waited
    /// for before [`AfterCrash`] applies; longer while its number's receipts come in late
    /// (they have not yet reached this far past the hand-off).
    pub unconfirmed_grace: Duration,
    pub after_crash: AfterCrash,
    /// Provider calls in flight at once.
    pub concurrency: usize,
    /// How long an idle dispatcher sleeps when nobody wakes it (retries come due this way).
    pub idle_poll: StdDuration,
    /// How fast WhatsApp lets each number send.
    pub pacing: PacingConfig,
    /// Unique users a portfolio's templates may reach in 24 hours until WhatsApp reports
    /// its tier (`None`: unlimited).
    pub default_messaging_limit: Option<u64>,
}

impl Default for DispatchConfig {
    fn default() -> Self {
        Self {
            batch: 128,
            lease: Duration::seconds(60),
            unconfirmed_grace: Duration::seconds(60),
            after_crash: AfterCrash::Resend,
            concurrency: 32,
            idle_poll: StdDuration::from_millis(500),
            pacing: PacingConfig::default(),
            default_messaging_limit: Some(250),
        }
    }
}

/// What one round did, for tests and logs.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct DispatchReport {
    pub claimed: usize,
    pub sent: usize,
    pub failed: usize,
    pub retried: usize,
    /// Held back by pacing (or a throttle from WhatsApp), to go out later.
    pub held: usize,
    /// Handed-off messages of a dead worker taken over this round (settled by their
    /// receipts, resent or given up on).
    pub interrupted: usize,
    /// Scheduled messages whose time came, moved to the queue.
    pub released: u64,
}

impl DispatchReport {
    pub fn is_idle(&self) -> bool {
        self.claimed == 0 && self.interrupted == 0 && self.released == 0
    }
}

/// `undelivered` for a message whose `expiry` passed before WhatsApp took it.
fn expired(message: &Message, at: chrono::DateTime<chrono::Utc>) -> MessageStatus {
    let expiry = message
        .expires_at
        .map(parley_types::time::format_8x8)
        .unwrap_or_default();
    MessageStatus::undelivered(
        DR_EXPIRED,
        format!("not sent before its expiry ({expiry}); dropped"),
        None,
        at,
    )
}

pub struct Dispatcher {
    store: SharedStore,
    adapter: Arc<dyn ChannelAdapter>,
    clock: SharedClock,
    wake: Arc<Notify>,
    config: DispatchConfig,
    pacer: Mutex<Pacer>,
    limits: Mutex<MessagingLimits>,
    /// Sends Parley-hosted media by the provider's id (see `media::uploads`); without it
    /// media goes by link.
    uploads: Option<MediaUploads>,
}

/// `undelivered` for a provider refusal, with 8x8's code for Meta's.
pub fn provider_failure(error: &ProviderError, at: chrono::DateTime<chrono::Utc>) -> MessageStatus {
    let mapped = DeliveryError::from_meta(error.code);
    let message = match &error.details {
        Some(details) => format!("{}: {details}", mapped.message),
        None => mapped.message.to_owned(),
    };
    MessageStatus::undelivered(mapped, message, Some(error.code), at)
}

impl Dispatcher {
    pub fn new(
        store: SharedStore,
        adapter: Arc<dyn ChannelAdapter>,
        clock: SharedClock,
        wake: Arc<Notify>,
        config: DispatchConfig,
    ) -> Self {
        let pacer = Mutex::new(Pacer::new(config.pacing));
        let limits = Mutex::new(MessagingLimits::new(config.default_messaging_limit));
        Self {
            limits,
            store,
            adapter,
            clock,
            wake,
            config,
            pacer,
            uploads: None,
        }
    }

    pub fn with_media_uploads(mut self, uploads: MediaUploads) -> Self {
        self.uploads = Some(uploads);
        self
    }

    fn pacer(&self) -> std::sync::MutexGuard<'_, Pacer> {
        // The pacer's state stays consistent at every await-free step, so a panic
        // elsewhere leaves nothing to repair.
        self.pacer
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// One round: settle interrupted hand-offs, then claim and send what is due.
    pub async fn run_once(&self) -> Result<DispatchReport> {
        let mut report = DispatchReport::default();
        let now = self.clock.now();
        report.interrupted = self.take_over_interrupted(now).await?;
        report.released = self.store.release_scheduled(now, SCHEDULED_RELEASE).await?;
        let (saturated, room) = self.pacer().start_round(now);
        let limit = self.config.batch.min(room);
        if limit == 0 {
            return Ok(report);
        }
        let claimed = self
            .store
            .claim_dispatch(now, now + self.config.lease, limit, &saturated)
            .await?;
        report.claimed = claimed.len();
        let claimed = turns::in_turns(claimed, |job| job.message.sub_account_id.as_str());
        let mut channels = HashMap::new();
        let jobs = self.pace(claimed, now, &mut channels, &mut report).await?;
        // Claims hold at most one message per recipient, so sending a chunk side by side
        // never reorders one person's messages. Each chunk costs two commits: the
        // hand-off of all its messages, then all their results.
        for chunk in jobs.chunks(self.config.concurrency) {
            self.dispatch_chunk(chunk, &mut channels, &mut report)
                .await?;
        }
        Ok(report)
    }

    /// Takes over the messages a dead worker handed to WhatsApp (see the module's notes);
    /// yields how many.
    async fn take_over_interrupted(&self, now: chrono::DateTime<chrono::Utc>) -> Result<usize> {
        let lost = self
            .store
            .take_interrupted(now, self.config.unconfirmed_grace, now + self.config.lease)
            .await?;
        for &umid in &lost {
            let message = self.store.message(umid).await?;
            match message {
                // A receipt reached it: WhatsApp has it. Settle it as it stands (the same
                // status again changes nothing but takes it off its lane).
                Some(message) if message.status.state != MessageState::Queued => {
                    let status = message.status;
                    self.store
                        .complete_dispatch(umid, &DispatchResult::Failed { status })
                        .await?;
                    tracing::info!(%umid, "dispatch interrupted; WhatsApp's receipt settled it");
                    metrics::counter!("parley_dispatch_interrupted_total", "outcome" => "receipt")
                        .increment(1);
                }
                _ if self.config.after_crash == AfterCrash::Resend => {
                    self.store.retry_dispatch(umid, now).await?;
                    tracing::warn!(%umid, "dispatch interrupted and no receipt came; sending again");
                    metrics::counter!("parley_dispatch_interrupted_total", "outcome" => "resent")
                        .increment(1);
                }
                _ => {
                    let status = MessageStatus::undelivered(
                        DR_UNKNOWN_ERROR,
                        "dispatch was interrupted after the message was handed to WhatsApp; \
                         it was not sent again and its outcome is unknown"
                            .into(),
                        None,
                        now,
                    );
                    self.store
                        .complete_dispatch(umid, &DispatchResult::Failed { status })
                        .await?;
                    tracing::warn!(%umid, "dispatch interrupted; marked undelivered, not resent");
                    metrics::counter!("parley_dispatch_interrupted_total", "outcome" => "undelivered")
                        .increment(1);
                }
            }
        }
        Ok(lost.len())
    }

    /// The claimed jobs that may go now; the others go back to the queue until there is
    /// room for them (in one commit per reason), which is not counted as an attempt. A
    /// template must also fit in its portfolio's messaging limit.
    async fn pace(
        &self,
        claimed: Vec<DispatchJob>,
        now: chrono::DateTime<chrono::Utc>,
        channels: &mut HashMap<ChannelId, Option<Channel>>,
        report: &mut DispatchReport,
    ) -> Result<Vec<DispatchJob>> {
        let templates: Vec<&DispatchJob> = claimed
            .iter()
            .filter(|job| job.message.content_type == ContentKind::Template.label())
            .collect();
        if !templates.is_empty() {
            for job in &templates {
                self.load_channel(job.message.channel_id, channels).await?;
            }
            let reported = self.store.messaging_limits().await?;
            self.limits().set_reported(reported);
        }
        let mut go = Vec::with_capacity(claimed.len());
        let mut held: HashMap<Hold, Vec<(Umid, chrono::DateTime<chrono::Utc>)>> = HashMap::new();
        {
            let mut limits = self.limits();
            let mut pacer = self.pacer();
            for job in claimed {
                let m = &job.message;
                let waba = channels
                    .get(&m.channel_id)
                    .and_then(Option::as_ref)
                    .filter(|_| m.content_type == ContentKind::Template.label())
                    .map(|c| c.waba_id.as_str());
                let verdict = match waba.map(|waba| limits.admit(waba, &m.msisdn, now)) {
                    Some(Err(room_at)) => Verdict::Wait(room_at, Hold::MessagingLimit),
                    _ => pacer.admit(m.channel_id, &m.msisdn, now),
                };
                match verdict {
                    Verdict::Send => go.push(job),
                    Verdict::Wait(at, hold) => {
                        metrics::counter!("parley_dispatch_held_total", "reason" => hold.label())
                            .increment(1);
                        held.entry(hold).or_default().push((m.umid, at));
                    }
                }
            }
        }
        for (hold, deferrals) in held {
            self.store
                .defer_dispatches(&deferrals, hold.label())
                .await?;
            report.held += deferrals.len();
        }
        Ok(go)
    }

    fn limits(&self) -> std::sync::MutexGuard<'_, MessagingLimits> {
        // As the pacer: consistent at every await-free step.
        self.limits
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    async fn load_channel(
        &self,
        id: ChannelId,
        channels: &mut HashMap<ChannelId, Option<Channel>>,
    ) -> Result<()> {
        if let Entry::Vacant(slot) = channels.entry(id) {
            slot.insert(self.store.channel(id).await?);
        }
        Ok(())
    }

    /// Runs rounds until `shutdown` turns true. A round in progress always finishes, so
    /// no message is left between hand-off and its recorded result by a clean shutdown.
    pub async fn run(self: Arc<Self>, mut shutdown: watch::Receiver<bool>) {
        while !*shutdown.borrow() {
            match self.run_once().await {
                Ok(report) if !report.is_idle() => continue,
                Ok(_) => {}
                Err(e) => tracing::error!(error = %e, "dispatch round failed"),
            }
            // Every number at its limit: new work could not go out any sooner, so wait
            // for room for a chunk rather than for the next wake-up.
            let paced = self
                .pacer()
                .next_room_in(self.clock.now(), self.config.concurrency as u32)
                .and_then(|wait| wait.to_std().ok())
                .map(|wait| wait.min(self.config.idle_poll));
            match paced {
                Some(wait) => tokio::select! {
                    _ = shutdown.changed() => {}
                    _ = tokio::time::sleep(wait) => {}
                },
                None => tokio::select! {
                    _ = shutdown.changed() => {}
                    _ = self.wake.notified() => {}
                    _ = tokio::time::sleep(self.config.idle_poll) => {}
                },
            }
        }
    }

    async fn outbound(&self, message: &Message) -> Result<OutboundMessage> {
        let content = Content::from_stored(&message.content_type, &message.content)?;
        let reply_to = match message.reply_to {
            Some(quoted) => self
                .store
                .message(quoted)
                .await?
                .and_then(|m| m.provider_message_id),
            None => None,
        };
        Ok(OutboundMessage {
            umid: message.umid,
            to: message.msisdn.clone(),
            content: content.to_outbound(),
            reply_to,
        })
    }

    /// What to hand over for `job`, or why it cannot be (a corrupt row or a vanished
    /// channel: undelivered, never retried).
    async fn prepare(
        &self,
        job: &DispatchJob,
        channels: &mut HashMap<ChannelId, Option<Channel>>,
        opted_out: &HashSet<(AccountId, String)>,
    ) -> Result<Result<(ChannelRoute, OutboundMessage), MessageStatus>> {
        let message = &job.message;
        let now = self.clock.now();
        if message.expires_at.is_some_and(|at| at <= now) {
            return Ok(Err(expired(message, now)));
        }
        if opted_out.contains(&(message.account_id.clone(), message.msisdn.clone())) {
            return Ok(Err(MessageStatus::undelivered(
                DR_OPTED_OUT,
                "the user asked not to receive marketing messages (opted out); not sent".into(),
                None,
                now,
            )));
        }
        if let Entry::Vacant(slot) = channels.entry(message.channel_id) {
            slot.insert(self.store.channel(message.channel_id).await?);
        }
        let unreadable = || {
            MessageStatus::undelivered(
                DR_INTERNAL_ERROR,
                "the stored message or its channel could not be read".into(),
                None,
                self.clock.now(),
            )
        };
        let Some(channel) = channels.get(&message.channel_id).cloned().flatten() else {
            return Ok(Err(unreadable()));
        };
        match self.outbound(message).await {
            Ok(outbound) => Ok(Ok((route(&channel), outbound))),
            Err(Error::Invalid { .. } | Error::NotImplemented(_)) => Ok(Err(unreadable())),
            Err(e) => Err(e),
        }
    }

    /// The recipients of the chunk's marketing messages who are on their account's
    /// do-not-contact list (one query per account, none without marketing).
    async fn opted_out(&self, chunk: &[DispatchJob]) -> Result<HashSet<(AccountId, String)>> {
        let mut marketing: HashMap<&AccountId, Vec<String>> = HashMap::new();
        for job in chunk {
            let m = &job.message;
            let is_marketing = Content::from_stored(&m.content_type, &m.content)
                .is_ok_and(|content| content.is_marketing());
            if is_marketing {
                marketing
                    .entry(&m.account_id)
                    .or_default()
                    .push(m.msisdn.clone());
            }
        }
        let mut opted_out = HashSet::new();
        for (account, msisdns) in marketing {
            for msisdn in self.store.opted_out(account, &msisdns).await? {
                opted_out.insert((account.clone(), msisdn));
            }
        }
        Ok(opted_out)
    }

    async fn dispatch_chunk(
        &self,
        chunk: &[DispatchJob],
        channels: &mut HashMap<ChannelId, Option<Channel>>,
        report: &mut DispatchReport,
    ) -> Result<()> {
        let mut results: Vec<(Umid, DispatchResult)> = Vec::with_capacity(chunk.len());
        let mut throttled = HashMap::new();
        let mut ready = Vec::with_capacity(chunk.len());
        let opted_out = self.opted_out(chunk).await?;
        for job in chunk {
            match self.prepare(job, channels, &opted_out).await? {
                Ok(call) => ready.push((job, call)),
                Err(status) => {
                    results.push((job.message.umid, DispatchResult::Failed { status }));
                    report.failed += 1;
                }
            }
        }
        if let Some(uploads) = &self.uploads {
            futures::future::join_all(
                ready
                    .iter_mut()
                    .map(|(_, (route, outbound))| uploads.attach_id(route, &mut outbound.content)),
            )
            .await;
        }
        let umids: Vec<Umid> = ready.iter().map(|(job, _)| job.message.umid).collect();
        self.store.mark_handed_off(&umids, self.clock.now()).await?;
        let outcomes = futures::future::join_all(
            ready
                .iter()
                .map(|(_, (route, outbound))| self.adapter.send(route, outbound)),
        )
        .await;
        let now = self.clock.now();
        for ((job, _), outcome) in ready.iter().zip(outcomes) {
            let umid = job.message.umid;
            let result = match outcome {
                SendOutcome::Accepted {
                    provider_message_id,
                } => {
                    metrics::counter!("parley_dispatch_sent_total").increment(1);
                    report.sent += 1;
                    let status = MessageStatus::new(MessageState::Sent, now);
                    DispatchResult::Sent {
                        provider_message_id,
                        status,
                    }
                }
                SendOutcome::Rejected(error) => {
                    metrics::counter!("parley_dispatch_failed_total").increment(1);
                    report.failed += 1;
                    DispatchResult::Failed {
                        status: provider_failure(&error, now),
                    }
                }
                SendOutcome::Retryable(error) if THROTTLE_CODES.contains(&error.code) => {
                    let message = &job.message;
                    let (due, hold) = {
                        let mut pacer = self.pacer();
                        if error.code == THROTTLE_CODES[0] {
                            (pacer.throttled(message.channel_id, now), Hold::Throughput)
                        } else {
                            let due =
                                pacer.pair_throttled(message.channel_id, &message.msisdn, now);
                            (due, Hold::PairRate)
                        }
                    };
                    throttled
                        .entry(hold)
                        .or_insert_with(Vec::new)
                        .push((umid, due));
                    tracing::info!(%umid, code = error.code, "WhatsApp asked to slow down; held");
                    metrics::counter!("parley_dispatch_throttled_total", "reason" => hold.label())
                        .increment(1);
                    report.held += 1;
                    continue;
                }
                SendOutcome::Retryable(error) => {
                    let attempt = job.attempts as usize;
                    let due = RETRY_SCHEDULE.get(attempt.saturating_sub(1)).map(|wait| {
                        now + Duration::from_std(*wait).unwrap_or(Duration::seconds(1))
                    });
                    if let Some(due) = due
                        && job.message.expires_at.is_some_and(|at| at <= due)
                    {
                        // The next try would come too late: say so now, not then.
                        report.failed += 1;
                        results.push((
                            umid,
                            DispatchResult::Failed {
                                status: expired(&job.message, now),
                            },
                        ));
                        continue;
                    }
                    if let Some(due) = due {
                        self.store.retry_dispatch(umid, due).await?;
                        tracing::info!(%umid, code = error.code, attempt, "provider busy; will retry");
                        metrics::counter!("parley_dispatch_retried_total").increment(1);
                        report.retried += 1;
                        continue;
                    }
                    report.failed += 1;
                    DispatchResult::Failed {
                        status: provider_failure(&error, now),
                    }
                }
                SendOutcome::Unknown(reason) => {
                    tracing::warn!(%umid, %reason, "provider outcome unknown");
                    report.failed += 1;
                    let status = MessageStatus::undelivered(
                        DR_UNKNOWN_ERROR,
                        format!(
                            "the WhatsApp call did not complete ({reason}); the message was not sent again"
                        ),
                        None,
                        now,
                    );
                    DispatchResult::Failed { status }
                }
            };
            results.push((umid, result));
        }
        for (hold, deferrals) in throttled {
            self.store
                .defer_dispatches(&deferrals, hold.label())
                .await?;
        }
        self.store.complete_dispatches(&results).await?;
        Ok(())
    }
}
