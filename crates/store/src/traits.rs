use std::sync::Arc;

use async_trait::async_trait;
use chrono::{DateTime, NaiveDate, Utc};
use parley_types::{AccountId, ApiKeyId, ChannelId, ConsoleUserId, SubAccountId, Umid};

use crate::console::*;

use crate::error::StoreResult;
use crate::events::*;
use crate::files::*;
use crate::jobs::*;
use crate::models::*;
use crate::status::MessageStatus;
use crate::webhooks::*;

#[async_trait]
pub trait TenantStore: Send + Sync {
    /// Creates the sandbox tenant if the database holds no account yet. Returns `false`
    /// (and creates nothing) when one exists, so later starts never bootstrap again.
    async fn bootstrap_sandbox(&self, sandbox: &Sandbox) -> StoreResult<bool>;
    /// Creates another tenant (account, subaccount, channel, key) in one transaction.
    async fn create_tenant(&self, tenant: &Sandbox) -> StoreResult<()>;
    async fn accounts(&self) -> StoreResult<Vec<Account>>;
    async fn sub_account(&self, id: &SubAccountId) -> StoreResult<Option<SubAccount>>;
    /// The WhatsApp channel a subaccount sends with (8x8's send payload has no channel id).
    async fn channel_for_sub_account(&self, id: &SubAccountId) -> StoreResult<Option<Channel>>;
    async fn channel(&self, id: ChannelId) -> StoreResult<Option<Channel>>;
    async fn channel_by_phone_number_id(
        &self,
        phone_number_id: &str,
    ) -> StoreResult<Option<Channel>>;
    async fn channels(&self) -> StoreResult<Vec<Channel>>;
}

#[async_trait]
pub trait ApiKeyStore: Send + Sync {
    async fn insert_api_key(&self, key: &NewApiKey) -> StoreResult<()>;
    /// The live (not revoked) key with this hash.
    async fn api_key_by_hash(&self, hash: &str) -> StoreResult<Option<ApiKey>>;
    async fn api_keys(&self, account: &AccountId) -> StoreResult<Vec<ApiKey>>;
    /// Returns whether a live key was revoked.
    async fn revoke_api_key(&self, id: ApiKeyId, at: DateTime<Utc>) -> StoreResult<bool>;
}

#[async_trait]
pub trait MessageStore: Send + Sync {
    /// Durably stores outbound messages as `queued` and queues them for dispatch, all in
    /// one transaction (one commit for the whole group). A message whose
    /// `clientMessageId` the subaccount already used is not stored again: the first one
    /// comes back as [`AcceptOutcome::Duplicate`].
    async fn accept_outbound(&self, messages: &[Message]) -> StoreResult<Vec<AcceptOutcome>>;
    async fn message(&self, umid: Umid) -> StoreResult<Option<Message>>;
    async fn message_by_provider_id(
        &self,
        channel: ChannelId,
        provider_message_id: &str,
    ) -> StoreResult<Option<Message>>;
    /// The messages `filter` selects, newest first (ties by umid, descending), starting
    /// after `after`; at most `limit`.
    async fn query_messages(
        &self,
        filter: &LogFilter,
        after: Option<LogCursor>,
        limit: u32,
    ) -> StoreResult<Vec<Message>>;
    /// Every status the message went through, oldest first.
    async fn status_history(&self, umid: Umid) -> StoreResult<Vec<MessageStatus>>;
    /// The number of the user WhatsApp knows to the account by `channel_user_id` (its
    /// business-scoped id), from the newest message that paired the two.
    async fn msisdn_for_channel_user(
        &self,
        account: &AccountId,
        channel_user_id: &str,
    ) -> StoreResult<Option<String>>;
    /// Stores an inbound message once (deduplicated on the provider id) and opens or
    /// refreshes the user's customer-service window in the same transaction. A `referred`
    /// user (from an ad or page button) may get a free entry point if answered in time.
    /// A stop or start keyword (`opt`) changes the account's do-not-contact list in the
    /// same transaction, so a redelivered old STOP never undoes a later START.
    async fn record_inbound(
        &self,
        message: &Message,
        referred: bool,
        opt: Option<OptChange>,
    ) -> StoreResult<InboundOutcome>;
    /// The user's windows with the channel, if the user ever wrote.
    async fn conversation_window(
        &self,
        channel: ChannelId,
        msisdn: &str,
    ) -> StoreResult<Option<ConversationWindow>>;
    /// Applies provider receipts, in order and in one transaction; each moves its message
    /// only forward (see [`MessageStatus::rank`]) and records the provider's pricing. A
    /// billable message is charged by `prices` the first time a receipt says it reached
    /// the user. Yields, per receipt, the updated message, or `None` when the receipt was
    /// stale, duplicated or about an unknown message.
    async fn apply_receipts(
        &self,
        receipts: &[Receipt],
        prices: &dyn PriceList,
    ) -> StoreResult<Vec<Option<Message>>>;
    /// The account's outbound messages delivered in `[from, to)`, grouped by subaccount,
    /// business account, pricing category, country and volume tier.
    async fn usage(
        &self,
        account: &AccountId,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> StoreResult<Vec<UsageRow>>;
}

#[async_trait]
pub trait DispatchStore: Send + Sync {
    /// Claims up to `limit` due messages, leased until `lease_until`, leaving alone those
    /// of the channels in `skip` (numbers sending at their limit right now). Only the
    /// oldest waiting message of each (channel, recipient) is eligible, which keeps
    /// messages to one person in the order they were accepted. Claims take turns: each
    /// subaccount's oldest due message before any subaccount's second, and within a
    /// subaccount each of its channels in turn, so one tenant's backlog never stands in
    /// front of another tenant's next message.
    async fn claim_dispatch(
        &self,
        now: DateTime<Utc>,
        lease_until: DateTime<Utc>,
        limit: u32,
        skip: &[ChannelId],
    ) -> StoreResult<Vec<DispatchJob>>;
    /// Records, before the provider is called, that these messages are being handed over
    /// (one commit for all). After a crash such a message is never handed over again.
    async fn mark_handed_off(&self, umids: &[Umid], at: DateTime<Utc>) -> StoreResult<()>;
    /// Records the attempt's result and removes the message from the queue, atomically.
    /// A message sent within a day of a referred user's arrival opens their free entry
    /// point (see [`ConversationWindow`]).
    async fn complete_dispatch(&self, umid: Umid, result: &DispatchResult) -> StoreResult<Message>;
    /// [`Self::complete_dispatch`] for several messages in one transaction (one commit).
    async fn complete_dispatches(&self, results: &[(Umid, DispatchResult)]) -> StoreResult<()>;
    /// Puts a message the provider could not take right now back in the queue.
    async fn retry_dispatch(&self, umid: Umid, next_attempt_at: DateTime<Utc>) -> StoreResult<()>;
    /// Gives claimed messages back unsent, each to be claimed again from its time on, as
    /// if never claimed: pacing holds them back (for `reason`), which is not a failed
    /// attempt.
    async fn defer_dispatches(
        &self,
        deferrals: &[(Umid, DateTime<Utc>)],
        reason: &str,
    ) -> StoreResult<()>;
    /// Why and until when a queued message waits, if it is its lane's head and held back.
    async fn hold(&self, umid: Umid) -> StoreResult<Option<(DateTime<Utc>, String)>>;
    /// Records the messaging limit (tier) WhatsApp reported for a business account.
    async fn set_messaging_limit(
        &self,
        waba_id: &str,
        tier: &str,
        at: DateTime<Utc>,
    ) -> StoreResult<()>;
    /// Every business account's last reported messaging limit: `(waba_id, tier)`.
    async fn messaging_limits(&self) -> StoreResult<Vec<(String, String)>>;
    /// Makes the messages held back for `reason` due now (their hold may be over, e.g.
    /// after a tier upgrade); yields how many. Scans the lanes: for rare events only.
    async fn release_holds(&self, reason: &str, now: DateTime<Utc>) -> StoreResult<u64>;
    /// Takes over messages that were handed to the provider by a worker whose lease ran
    /// out `grace` or more before `now` (it died mid-call, so the outcome is unknown),
    /// leasing them to the caller until `lease_until`: each is taken over by one node only.
    /// A hand-off waits longer while its channel's receipts still come in (one was applied
    /// within `grace`) but have not reached `grace` past it: its own may be among them.
    async fn take_interrupted(
        &self,
        now: DateTime<Utc>,
        grace: chrono::Duration,
        lease_until: DateTime<Utc>,
    ) -> StoreResult<Vec<Umid>>;
    /// Notes that `channel`'s receipts have been applied up to `through` (the provider's
    /// time of the latest), at `seen_at`: how [`Self::take_interrupted`] tells a late
    /// receipt stream from an idle one. Never moves `through` back.
    async fn note_receipts(
        &self,
        channel: ChannelId,
        through: DateTime<Utc>,
        seen_at: DateTime<Utc>,
    ) -> StoreResult<()>;
    /// How many messages wait in the queue (for `/metrics` and tests).
    async fn dispatch_backlog(&self) -> StoreResult<u64>;
    /// Moves up to `limit` scheduled messages whose time has come (earliest first) into
    /// the queue, due at once. Each is released once, also with several workers.
    async fn release_scheduled(&self, now: DateTime<Utc>, limit: u32) -> StoreResult<u64>;
    /// Cancels the subaccount's messages that `target` names and that still wait for
    /// their time, moving each to `status` (in one transaction). Yields how many.
    async fn cancel_scheduled(
        &self,
        sub: &SubAccountId,
        target: Scheduled,
        status: &MessageStatus,
    ) -> StoreResult<u64>;
}

/// Scheduled messages to cancel: one, or a whole batch's.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scheduled {
    Message(Umid),
    Batch(uuid::Uuid),
}

/// An account's do-not-contact list (opt-outs).
#[async_trait]
pub trait ContactStore: Send + Sync {
    /// Puts the number on the list; `false` if it already was (the first entry stays).
    async fn opt_out(
        &self,
        account: &AccountId,
        msisdn: &str,
        source: OptOutSource,
        at: DateTime<Utc>,
    ) -> StoreResult<bool>;
    /// Takes the number off the list; `false` if it was not on it.
    async fn opt_in(&self, account: &AccountId, msisdn: &str) -> StoreResult<bool>;
    /// Which of `msisdns` are on the account's list.
    async fn opted_out(&self, account: &AccountId, msisdns: &[String]) -> StoreResult<Vec<String>>;
}

#[async_trait]
pub trait TemplateStore: Send + Sync {
    /// Stores a new template (with its first history entry) unless a limit forbids it:
    /// the checks and the insert are one transaction per business account, so two
    /// concurrent creations cannot both squeeze under a limit.
    async fn create_template(
        &self,
        template: &Template,
        limits: &TemplateLimits,
        now: DateTime<Utc>,
    ) -> StoreResult<CreateTemplateOutcome>;
    /// Removes a template that never reached the provider (its submission failed).
    async fn discard_template(&self, id: uuid::Uuid) -> StoreResult<()>;
    /// The channel's templates, live and recently deleted, by name then language.
    async fn templates(&self, channel: ChannelId) -> StoreResult<Vec<Template>>;
    /// The live template with this name and language on the channel.
    async fn template(
        &self,
        channel: ChannelId,
        name: &str,
        language: &str,
    ) -> StoreResult<Option<Template>>;
    /// The most recently deleted template of this name on the channel, if any.
    async fn deleted_template(
        &self,
        channel: ChannelId,
        name: &str,
    ) -> StoreResult<Option<Template>>;
    /// Marks every live language of `name` deleted (`PENDING_DELETION`) and returns them.
    async fn delete_templates(
        &self,
        channel: ChannelId,
        name: &str,
        at: DateTime<Utc>,
    ) -> StoreResult<Vec<Template>>;
    /// Applies a provider's change to the live template (business account, name,
    /// language) and records it in the history; `None` when no such template exists.
    async fn update_template(
        &self,
        waba_id: &str,
        name: &str,
        language: &str,
        update: &TemplateUpdate,
        at: DateTime<Utc>,
    ) -> StoreResult<Option<Template>>;
    /// Records the provider's id for a template once it accepted the submission.
    async fn set_provider_template_id(&self, id: uuid::Uuid, provider_id: &str) -> StoreResult<()>;
    async fn template_history(&self, id: uuid::Uuid) -> StoreResult<Vec<TemplateHistoryEntry>>;
}

#[async_trait]
pub trait WebhookStore: Send + Sync {
    /// Creates or replaces each webhook (keyed by account, subaccount and kind).
    async fn save_webhooks(&self, webhooks: &[Webhook]) -> StoreResult<()>;
    async fn webhooks(&self, account: &AccountId) -> StoreResult<Vec<Webhook>>;
    /// Deletes the webhooks of these subaccounts (`*` included) and kinds (all kinds when
    /// `None`); returns how many went.
    async fn delete_webhooks(
        &self,
        account: &AccountId,
        keys: &[(String, Option<WebhookKind>)],
    ) -> StoreResult<u64>;
    /// Records a business-management change; its event is written with it.
    async fn record_business_event(&self, event: &BusinessEvent) -> StoreResult<()>;
    /// Puts into the outbox every event of the log in `(after, upto]` that a webhook (or
    /// an outbound message's own receipt URL) can take now, in log order; yields how many.
    /// An event already in the outbox is not added again, so a range may be handed over
    /// twice. Every event in the range must be committed (as the log's reader ensures).
    async fn enqueue_webhook_events(&self, after: i64, upto: i64) -> StoreResult<u64>;
    /// Leases the head event of up to `limit` due lanes, oldest due first, skipping the
    /// accounts in `skip` (their endpoints are busy).
    async fn claim_webhook_events(
        &self,
        now: DateTime<Utc>,
        lease_until: DateTime<Utc>,
        limit: u32,
        skip: &[AccountId],
    ) -> StoreResult<Vec<WebhookEvent>>;
    /// The change an event reports; `None` when its row is gone.
    async fn event_subject(&self, event: &WebhookEvent) -> StoreResult<Option<EventSubject>>;
    /// Records each event's attempt (if one was made) and outcome, and moves its lane on,
    /// all in one transaction (deliveries that end together share a commit).
    async fn finish_webhook_events(
        &self,
        finished: &[FinishedEvent],
        now: DateTime<Utc>,
    ) -> StoreResult<()>;
    /// [`Self::finish_webhook_events`] for one event.
    async fn finish_webhook_event(
        &self,
        id: i64,
        outcome: &WebhookOutcome,
        attempt: Option<&WebhookAttempt>,
        now: DateTime<Utc>,
    ) -> StoreResult<()> {
        let finished = FinishedEvent {
            id,
            outcome: outcome.clone(),
            attempt: attempt.cloned(),
        };
        self.finish_webhook_events(std::slice::from_ref(&finished), now)
            .await
    }
    async fn webhook_events(
        &self,
        account: &AccountId,
        filter: &EventFilter,
    ) -> StoreResult<Vec<WebhookEvent>>;
    async fn webhook_event(
        &self,
        account: &AccountId,
        id: i64,
    ) -> StoreResult<Option<WebhookEvent>>;
    async fn webhook_attempts(&self, event_id: i64) -> StoreResult<Vec<WebhookAttempt>>;
    /// Makes finished events pending again (attempts reset); returns how many.
    async fn redrive_webhook_events(
        &self,
        account: &AccountId,
        which: &Redrive,
        now: DateTime<Utc>,
    ) -> StoreResult<u64>;
    /// Events not yet delivered, dead-lettered or dropped (for `/metrics` and tests).
    async fn webhook_backlog(&self) -> StoreResult<u64>;
    /// Makes the account's lanes whose head waits to go to `url` (or has not been tried
    /// yet) due now, once `url` answers again; answers how many.
    async fn release_webhook_lanes(
        &self,
        account: &AccountId,
        url: &str,
        now: DateTime<Utc>,
    ) -> StoreResult<u64>;
    /// Records how an endpoint answers now (replacing what was recorded).
    async fn save_endpoint_health(&self, health: &EndpointHealth) -> StoreResult<()>;
    /// The account's endpoints that have failed at some point, by URL.
    async fn endpoint_health(&self, account: &AccountId) -> StoreResult<Vec<EndpointHealth>>;
}

/// Hosted files and log exports (see `files.rs`).
#[async_trait]
pub trait FileStore: Send + Sync {
    /// Records a file about to be written (pending until [`FileStore::file_written`]).
    async fn reserve_file(&self, file: &HostedFile) -> StoreResult<()>;
    /// The file's bytes are in storage: it may be served from now on.
    async fn file_written(&self, file_name: &str, size: u64) -> StoreResult<()>;
    /// A written file, expired or not.
    async fn hosted_file(&self, file_name: &str) -> StoreResult<Option<HostedFile>>;
    async fn forget_file(&self, file_name: &str) -> StoreResult<()>;
    /// Files to remove: written ones past their expiry, and pending ones reserved before
    /// `stale_before` (their write never finished).
    async fn files_to_clean(
        &self,
        now: DateTime<Utc>,
        stale_before: DateTime<Utc>,
        limit: u32,
    ) -> StoreResult<Vec<String>>;

    /// Records a queued export and schedules `build`, the work job that builds it, in one
    /// transaction: an export is never queued without its job.
    async fn create_export(&self, job: &ExportJob, build: &NewJob) -> StoreResult<()>;
    async fn export(&self, id: uuid::Uuid) -> StoreResult<Option<ExportJob>>;
    async fn export_by_token(&self, token: &str) -> StoreResult<Option<ExportJob>>;
    /// Marks a queued export running and yields it, or yields it if it is running already
    /// (its builder died and its job runs again); `None` once it was cancelled or ended.
    async fn begin_export(&self, id: uuid::Uuid) -> StoreResult<Option<ExportJob>>;
    /// Ends a running job; `false` if it was cancelled meanwhile (nothing changes then).
    async fn finish_export(
        &self,
        id: uuid::Uuid,
        result: &ExportResult,
        at: DateTime<Utc>,
    ) -> StoreResult<bool>;
    /// Cancels a queued or running job; its file, if any, is for the caller to delete.
    /// `None` if there is no such job.
    async fn cancel_export(
        &self,
        id: uuid::Uuid,
        at: DateTime<Utc>,
    ) -> StoreResult<Option<ExportJob>>;
    /// Succeeded jobs whose link expired and still have a file.
    async fn expired_exports(&self, now: DateTime<Utc>, limit: u32) -> StoreResult<Vec<ExportJob>>;
    /// Forgets an expired export's file (the job stays, without a link).
    async fn drop_export_file(&self, id: uuid::Uuid) -> StoreResult<()>;

    /// Whether the account's log exports show numbers and content in the clear.
    async fn logs_unmasked(&self, account: &AccountId) -> StoreResult<bool>;
    async fn set_logs_unmasked(&self, account: &AccountId, unmasked: bool) -> StoreResult<()>;
}

#[async_trait]
pub trait ConsoleStore: Send + Sync {
    /// Fails with `Conflict` when the email is taken.
    async fn insert_console_user(&self, user: &ConsoleUser) -> StoreResult<()>;
    async fn console_user(&self, id: ConsoleUserId) -> StoreResult<Option<ConsoleUser>>;
    /// `email` lower-cased.
    async fn console_user_by_email(&self, email: &str) -> StoreResult<Option<ConsoleUser>>;
    /// Oldest first.
    async fn console_users(&self, account: &AccountId) -> StoreResult<Vec<ConsoleUser>>;
    /// Replaces name, role, password hash and disabled flag. With `end_sessions` the
    /// user's sessions end in the same transaction (a new password or a disabled user
    /// must not leave a signed-in browser behind). `false` when there is no such user.
    async fn update_console_user(
        &self,
        user: &ConsoleUser,
        end_sessions: bool,
    ) -> StoreResult<bool>;
    /// Deletes the user and their sessions; `false` when there was no such user.
    async fn delete_console_user(&self, id: ConsoleUserId) -> StoreResult<bool>;
    async fn insert_console_session(&self, session: &ConsoleSession) -> StoreResult<()>;
    /// The session with this hash if it has not expired at `now`, with its (enabled) user.
    async fn console_session(
        &self,
        token_hash: &str,
        now: DateTime<Utc>,
    ) -> StoreResult<Option<(ConsoleSession, ConsoleUser)>>;
    async fn delete_console_session(&self, token_hash: &str) -> StoreResult<()>;
    /// Removes sessions that expired before `now`; returns how many.
    async fn delete_expired_console_sessions(&self, now: DateTime<Utc>) -> StoreResult<u64>;
}

/// The domain event log (see [`crate::EventKind`]). Events are appended by the other
/// traits' writes, in the same transaction; this trait reads them back and keeps the
/// consumers' checkpoints and counters.
#[async_trait]
pub trait EventStore: Send + Sync {
    /// Events after `after`, in order, at most `limit`, stopping before any number that may
    /// still be committed (pass back the previous read's `watch`).
    async fn read_events(
        &self,
        after: i64,
        watch: Option<GapWatch>,
        limit: u32,
    ) -> StoreResult<EventRead>;
    /// The last event's `seq` (0 for an empty log).
    async fn event_head(&self) -> StoreResult<i64>;
    /// Takes or renews the lease on consumer `name` for `owner` until `lease_until`,
    /// registering it at `start` if new. Yields its checkpoint, or `None` while another
    /// owner's lease runs.
    async fn claim_consumer(
        &self,
        name: &str,
        owner: &str,
        start: ConsumerStart,
        now: DateTime<Utc>,
        lease_until: DateTime<Utc>,
    ) -> StoreResult<Option<i64>>;
    /// Moves the checkpoint of `name` to `position` and adds `counters`, in one
    /// transaction, if `owner` still holds the lease (which is renewed). Yields whether it
    /// did; if not, nothing changed.
    async fn advance_consumer(
        &self,
        name: &str,
        owner: &str,
        position: i64,
        counters: &[Counter],
        now: DateTime<Utc>,
        lease_until: DateTime<Utc>,
    ) -> StoreResult<bool>;
    async fn release_consumer(&self, name: &str, owner: &str) -> StoreResult<()>;
    async fn consumers(&self) -> StoreResult<Vec<ConsumerState>>;
    /// Deletes up to `limit` events older than `before` that every consumer active since
    /// `live_since` has passed. Yields how many.
    async fn prune_events(
        &self,
        before: DateTime<Utc>,
        live_since: DateTime<Utc>,
        limit: u32,
    ) -> StoreResult<u64>;
    /// The account's counters for the UTC days in `[from, to)`.
    async fn counters(
        &self,
        account: &AccountId,
        from: NaiveDate,
        to: NaiveDate,
    ) -> StoreResult<Vec<Counter>>;
}

/// Durable jobs and timers (`crates/jobs`).
#[async_trait]
pub trait JobStore: Send + Sync {
    /// Schedules the jobs whose key is new to their queue (the rest change nothing);
    /// yields how many were new.
    async fn schedule_jobs(&self, jobs: &[NewJob], now: DateTime<Utc>) -> StoreResult<u64>;
    /// Cancels the pending job of `queue` with `key`; yields whether one was pending.
    async fn cancel_job(&self, queue: &str, key: &str, now: DateTime<Utc>) -> StoreResult<bool>;
    async fn job(&self, queue: &str, key: &str) -> StoreResult<Option<Job>>;
    /// Jobs in `state` (of `queue`, if given), oldest due first.
    async fn jobs_in_state(
        &self,
        queue: Option<&str>,
        state: JobState,
        limit: u32,
    ) -> StoreResult<Vec<Job>>;
    /// Fires up to `limit` timers due at `now`, oldest first: each is marked fired and
    /// reported as a `timer.fired` event in one transaction, so across nodes and crashes
    /// every timer fires exactly once. Yields how many fired.
    async fn fire_due_timers(&self, now: DateTime<Utc>, limit: u32) -> StoreResult<u64>;
    /// Claims up to `limit` work jobs of `queues` that are due, or whose lease ran out,
    /// for `owner` until `lease_until` (counting an attempt each).
    async fn claim_jobs(
        &self,
        queues: &[String],
        owner: &str,
        now: DateTime<Utc>,
        lease_until: DateTime<Utc>,
        limit: u32,
    ) -> StoreResult<Vec<Job>>;
    /// Yields whether `owner` still held the job.
    async fn complete_job(&self, id: i64, owner: &str, now: DateTime<Utc>) -> StoreResult<bool>;
    /// Records a failed attempt: pending again at `retry_at`, or dead without one. Yields
    /// whether `owner` still held the job.
    async fn fail_job(
        &self,
        id: i64,
        owner: &str,
        error: &str,
        retry_at: Option<DateTime<Utc>>,
        now: DateTime<Utc>,
    ) -> StoreResult<bool>;
    /// A dead job is tried again from `now`; yields whether it was dead.
    async fn redrive_job(&self, id: i64, now: DateTime<Utc>) -> StoreResult<bool>;
    /// Deletes up to `limit` jobs that finished before `before`; yields how many.
    async fn prune_jobs(&self, before: DateTime<Utc>, limit: u32) -> StoreResult<u64>;
}

/// A whole backend.
#[async_trait]
pub trait Store:
    EventStore
    + JobStore
    + TenantStore
    + ApiKeyStore
    + MessageStore
    + DispatchStore
    + TemplateStore
    + WebhookStore
    + ContactStore
    + FileStore
    + ConsoleStore
{
    fn backend_name(&self) -> &'static str;
    /// Succeeds when the database answers (for `/readyz`).
    async fn ping(&self) -> StoreResult<()>;
    /// Lets the query planner see how the tables grew, so that a filtered log page picks
    /// the right index. PostgreSQL's autovacuum does this by itself.
    async fn refresh_statistics(&self) -> StoreResult<()> {
        Ok(())
    }
}

pub type SharedStore = Arc<dyn Store>;
