use std::sync::Arc;

use chrono::{DateTime, Duration, Utc};
use parley_channels::{ChannelAdapter, ChannelRoute};
use parley_store::{
    AcceptOutcome, BatchRef, Channel, Direction, Message, MessageState, MessageStatus, Origin,
    Scheduled, SharedStore, StoreError,
};
use parley_types::codes::{DR_CANCELLED, SyncCode};
use parley_types::{AccountId, ChannelId, SharedClock, SubAccountId, Umid};
use serde_json::Value;
use tokio::sync::Notify;

use super::accept::AcceptQueue;
use super::batch::{BatchItem, BatchOutcome, BatchRequest, Rejection};
use super::command::SendCommand;
use super::content::Content;
use super::idempotency::Intent;
use super::request::{Recipient, SendRequest, TypingRequest};
use crate::cache::TtlCache;
use crate::pricing::{WindowState, window_state};
use crate::templates::TemplateService;
use crate::{Error, Result};

/// Typing indicators may only answer inbound messages this recent (8x8: 2 hours).
pub const TYPING_WINDOW: Duration = Duration::hours(2);

/// Most messages one listing returns.
pub const MAX_RECENT: u32 = 100;

/// `MessageService::send` (and `send_many`, `send_batch`) is the one entry to the send
/// pipeline: the API, batches, and later campaigns, automations and agents, all go through
/// it with a typed [`SendCommand`] that says who is sending.
#[derive(Clone)]
pub struct MessageService {
    store: SharedStore,
    adapter: Arc<dyn ChannelAdapter>,
    clock: SharedClock,
    accept: AcceptQueue,
    dispatch_wake: Arc<Notify>,
    /// Each subaccount's channel, as `channel_for_sub_account` last said.
    channels: Arc<TtlCache<SubAccountId, Channel>>,
    templates: TemplateService,
}

/// Why a queued message waits: `throughput`, `pair_rate`, `messaging_limit` or `retry`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hold {
    pub reason: String,
    pub until: DateTime<Utc>,
}

/// How far ahead a message may be scheduled.
pub const MAX_SCHEDULE_AHEAD: Duration = Duration::days(365);

/// When a message goes (`None`: now) and until when it may.
type Timing = (Option<DateTime<Utc>>, Option<DateTime<Utc>>);

/// When to send (a time already past means now) and until when, checked.
fn timing(
    scheduled: Option<DateTime<Utc>>,
    expiry: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
) -> Result<Timing> {
    if scheduled.is_some_and(|at| at > now + MAX_SCHEDULE_AHEAD) {
        return Err(Error::invalid(
            SyncCode::InvalidScheduleTime,
            "Invalid schedule time: 'scheduled' is more than a year ahead",
        ));
    }
    if expiry.is_some_and(|at| at <= now) {
        return Err(Error::invalid(
            SyncCode::InvalidExpiry,
            "Invalid expiry: 'expiry' has already passed",
        ));
    }
    Ok((scheduled.filter(|at| *at > now), expiry))
}

/// A user's number from a path or query parameter.
fn user_msisdn(raw: &str) -> Result<parley_types::Msisdn> {
    parley_types::Msisdn::parse(raw, None).map_err(|_| {
        Error::invalid(
            SyncCode::InvalidMsisdn,
            "Invalid MSISDN format (not E.164 international number): 'msisdn'",
        )
    })
}

pub fn route(channel: &Channel) -> ChannelRoute {
    ChannelRoute {
        kind: channel.kind,
        phone_number_id: channel.phone_number_id.clone(),
        business_number: channel.business_number.clone(),
        waba_id: channel.waba_id.clone(),
    }
}

impl MessageService {
    pub fn new(
        store: SharedStore,
        adapter: Arc<dyn ChannelAdapter>,
        clock: SharedClock,
        dispatch_wake: Arc<Notify>,
        lookup_ttl: Duration,
        templates: TemplateService,
    ) -> Self {
        let accept = AcceptQueue::start(store.clone());
        Self {
            templates,
            channels: Arc::new(TtlCache::new(lookup_ttl, clock.clone())),
            store,
            adapter,
            clock,
            accept,
            dispatch_wake,
        }
    }

    /// The subaccount's WhatsApp channel, if the subaccount is the caller's.
    pub async fn channel_of(&self, account: &AccountId, sub: &SubAccountId) -> Result<Channel> {
        let channel = self
            .channels
            .get_or_load(sub, || self.store.channel_for_sub_account(sub))
            .await?;
        match channel {
            Some(channel) if &channel.account_id == account => Ok(channel),
            _ => Err(Error::IllegalSubAccount),
        }
    }

    /// Validates and durably accepts a message; it is `queued` once this returns.
    /// Re-sending a `clientMessageId` the subaccount already used returns the first message
    /// when the request is the same, and is refused (1005) when it asks for another.
    pub async fn send(&self, account: &AccountId, command: SendCommand) -> Result<Message> {
        let channel = self.channel_for(account, &command).await?;
        let message = self
            .prepare(&channel, command.message, None, command.origin)
            .await?;
        let intent = Intent::of(&message);
        match self.accept.accept(message).await? {
            AcceptOutcome::Accepted(m) => {
                metrics::counter!("parley_messages_accepted_total").increment(1);
                self.dispatch_wake.notify_one();
                Ok(m)
            }
            AcceptOutcome::Duplicate(m) => {
                if let Some(intent) = intent {
                    intent.check(&m, self.clock.now())?;
                }
                Ok(m)
            }
        }
    }

    /// [`Self::send`] of 8x8's JSON from the API: the subaccount is checked before the body
    /// is read, so a stranger's subaccount is refused whatever the body says.
    pub async fn send_8x8(
        &self,
        account: &AccountId,
        sub: &SubAccountId,
        body: &Value,
    ) -> Result<Message> {
        self.channel_of(account, sub).await?;
        self.send(
            account,
            SendCommand::from_8x8(sub.clone(), body, Origin::Api)?,
        )
        .await
    }

    /// Accepts many messages in one transaction (a campaign's next recipients): each is
    /// checked on its own, and comes back accepted (or as the message first accepted under
    /// its `clientMessageId`) or with the error that refused it.
    pub async fn send_many(
        &self,
        account: &AccountId,
        commands: Vec<SendCommand>,
    ) -> Result<Vec<Result<Message>>> {
        let mut prepared = Vec::with_capacity(commands.len());
        for command in commands {
            let channel = self.channel_for(account, &command).await?;
            prepared.push(
                self.prepare(&channel, command.message, None, command.origin)
                    .await,
            );
        }
        self.accept_many(prepared).await
    }

    /// Validates every message of a batch on its own and accepts the valid ones together,
    /// in one transaction; the invalid ones come back rejected with their code.
    pub async fn send_batch(
        &self,
        account: &AccountId,
        sub: &SubAccountId,
        body: &Value,
    ) -> Result<BatchOutcome> {
        let request = BatchRequest::parse(body)?;
        let channel = self.channel_of(account, sub).await?;
        let batch = BatchRef {
            id: uuid::Uuid::now_v7(),
            client_batch_id: request.client_batch_id,
        };
        let mut prepared = Vec::with_capacity(request.messages.len());
        for item in &request.messages {
            prepared.push(match SendRequest::parse(item) {
                Ok(message) => {
                    self.prepare(&channel, message, Some(&batch), Origin::Batch)
                        .await
                }
                Err(e) => Err(e),
            });
        }
        let now = self.clock.now();
        let items = self
            .accept_many(prepared)
            .await?
            .into_iter()
            .zip(&request.messages)
            .map(|(outcome, item)| match outcome {
                Ok(message) => Ok(BatchItem::Accepted(Box::new(message))),
                Err(Error::Invalid { code, message }) => {
                    Ok(BatchItem::Rejected(Rejection::of(item, code, message, now)))
                }
                Err(Error::NotImplemented(message)) => Ok(BatchItem::Rejected(Rejection::of(
                    item,
                    SyncCode::NotImplemented,
                    message,
                    now,
                ))),
                Err(other) => Err(other),
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(BatchOutcome {
            batch,
            items,
            include_messages: request.include_messages_in_response,
        })
    }

    /// Accepts the messages that were valid, in one transaction, and gives each item its
    /// outcome in order. A refusal of the request itself (not of one message) ends it.
    async fn accept_many(&self, prepared: Vec<Result<Message>>) -> Result<Vec<Result<Message>>> {
        let mut valid = Vec::with_capacity(prepared.len());
        let mut outcomes: Vec<Option<Result<Message>>> = Vec::with_capacity(prepared.len());
        let mut intents = Vec::new();
        for item in prepared {
            match item {
                Ok(message) => {
                    intents.push((outcomes.len(), Intent::of(&message)));
                    outcomes.push(None);
                    valid.push(message);
                }
                Err(e @ (Error::Invalid { .. } | Error::NotImplemented(_))) => {
                    outcomes.push(Some(Err(e)));
                }
                Err(other) => return Err(other),
            }
        }
        let stored = self.store.accept_outbound(&valid).await?;
        if stored.len() != valid.len() {
            return Err(Error::Store(StoreError::Corrupt(
                "a stored message went missing".into(),
            )));
        }
        let now = self.clock.now();
        let mut fresh = 0;
        for ((index, intent), outcome) in intents.into_iter().zip(stored) {
            outcomes[index] = Some(match (outcome, intent) {
                (AcceptOutcome::Accepted(m), _) => {
                    fresh += 1;
                    Ok(m)
                }
                (AcceptOutcome::Duplicate(m), Some(intent)) => intent.check(&m, now).map(|()| m),
                (AcceptOutcome::Duplicate(m), None) => Ok(m),
            });
        }
        if fresh > 0 {
            metrics::counter!("parley_messages_accepted_total").increment(fresh as u64);
            self.dispatch_wake.notify_one();
        }
        outcomes
            .into_iter()
            .map(|outcome| {
                outcome.ok_or_else(|| {
                    Error::Store(StoreError::Corrupt("a stored message went missing".into()))
                })
            })
            .collect()
    }

    /// The channel a command goes out on: the subaccount's, if the subaccount is the
    /// caller's (and the command names no other).
    async fn channel_for(&self, account: &AccountId, command: &SendCommand) -> Result<Channel> {
        let channel = self.channel_of(account, &command.sub_account).await?;
        match command.channel {
            Some(id) if id != channel.id => Err(Error::invalid(
                SyncCode::InvalidParameters,
                "Invalid parameter(s): the channel is not the subaccount's",
            )),
            _ => Ok(channel),
        }
    }

    /// A send request as the message to store, checked against everything known before
    /// accepting it (the quoted message, the template, the times).
    async fn prepare(
        &self,
        channel: &Channel,
        request: SendRequest,
        batch: Option<&BatchRef>,
        origin: Origin,
    ) -> Result<Message> {
        let sub = &channel.sub_account_id;
        if let Some(quoted) = request.reply_to {
            let found = self.store.message(quoted).await?;
            if !found.is_some_and(|m| &m.sub_account_id == sub && m.provider_message_id.is_some()) {
                return Err(Error::invalid(
                    SyncCode::InvalidParameters,
                    "Invalid parameter(s): 'context.umid' is not a message of this subaccount that WhatsApp knows",
                ));
            }
        }
        let (msisdn, channel_user_id) = self.recipient(channel, request.recipient).await?;
        let content = self.with_template(channel.id, request.content).await?;
        let now = self.clock.now();
        let (scheduled_at, expires_at) = timing(request.scheduled, request.expiry, now)?;
        Ok(Message {
            umid: Umid::new(),
            account_id: channel.account_id.clone(),
            sub_account_id: sub.clone(),
            channel_id: channel.id,
            direction: Direction::Outbound,
            country: msisdn.country(),
            msisdn: msisdn.as_str().to_owned(),
            content_type: content.kind().label().to_owned(),
            content: content.to_json(),
            client_message_id: request.client_message_id,
            reply_to: request.reply_to,
            provider_message_id: None,
            user_name: None,
            status: MessageStatus::new(MessageState::Queued, now),
            created_at: now,
            dlr_callback_url: request.dlr_callback_url,
            channel_user_id,
            pricing: None,
            batch: batch.cloned(),
            scheduled_at,
            expires_at,
            origin: Some(origin),
        })
    }

    /// The number a send goes to, and the business-scoped id it named the user by: an id
    /// is WhatsApp's name for a user towards this account, learnt from its webhooks, so
    /// it is found among the account's messages (the newest pairing).
    async fn recipient(
        &self,
        channel: &Channel,
        recipient: Recipient,
    ) -> Result<(parley_types::Msisdn, Option<String>)> {
        match recipient {
            Recipient::Number(msisdn) => Ok((msisdn, None)),
            Recipient::ChannelUser(id) => {
                let found = self
                    .store
                    .msisdn_for_channel_user(&channel.account_id, &id)
                    .await?
                    .and_then(|raw| parley_types::Msisdn::parse(&raw, None).ok());
                match found {
                    Some(msisdn) => Ok((msisdn, Some(id))),
                    None => Err(Error::invalid(
                        SyncCode::InvalidParameters,
                        format!(
                            "Invalid parameter(s): 'user.channelUserId' {id} is not a WhatsApp user this account has heard from; send to 'user.msisdn' instead"
                        ),
                    )),
                }
            }
        }
    }

    /// Cancels a message still waiting for its scheduled time; yields how many were
    /// cancelled (0 once it has gone to the queue).
    pub async fn cancel(&self, account: &AccountId, sub: &SubAccountId, umid: Umid) -> Result<u64> {
        self.get(account, sub, umid).await?;
        self.cancel_waiting(sub, Scheduled::Message(umid)).await
    }

    /// Cancels the messages of a batch that still wait for their scheduled time.
    pub async fn cancel_batch(
        &self,
        account: &AccountId,
        sub: &SubAccountId,
        batch: uuid::Uuid,
    ) -> Result<u64> {
        self.channel_of(account, sub).await?;
        self.cancel_waiting(sub, Scheduled::Batch(batch)).await
    }

    async fn cancel_waiting(&self, sub: &SubAccountId, target: Scheduled) -> Result<u64> {
        let status = MessageStatus::undelivered(
            DR_CANCELLED,
            "cancelled by the sender before its scheduled time".into(),
            None,
            self.clock.now(),
        );
        Ok(self.store.cancel_scheduled(sub, target, &status).await?)
    }

    /// A template send checked against its approved template; a text that reads like an
    /// approved template becomes that template (8x8's auto-matching).
    async fn with_template(&self, channel: ChannelId, content: Content) -> Result<Content> {
        Ok(match content {
            Content::Template { message, .. } => {
                let (message, rendered) = self.templates.resolve(channel, *message).await?;
                Content::Template {
                    message: Box::new(message),
                    rendered: Some(rendered),
                }
            }
            Content::Text(text) => match self.templates.match_text(channel, &text).await? {
                Some((message, rendered)) => Content::Template {
                    message: Box::new(message),
                    rendered: Some(rendered),
                },
                None => Content::Text(text),
            },
            other => other,
        })
    }

    /// A message of the caller's subaccount, or `NotFound`.
    pub async fn get(
        &self,
        account: &AccountId,
        sub: &SubAccountId,
        umid: Umid,
    ) -> Result<Message> {
        self.channel_of(account, sub).await?;
        match self.store.message(umid).await? {
            Some(m) if &m.sub_account_id == sub => Ok(m),
            _ => Err(Error::NotFound("Message not found.".into())),
        }
    }

    /// The subaccount's latest messages, optionally with one user, newest first.
    pub async fn recent(
        &self,
        account: &AccountId,
        sub: &SubAccountId,
        msisdn: Option<&str>,
        limit: u32,
    ) -> Result<Vec<Message>> {
        self.channel_of(account, sub).await?;
        let msisdn = msisdn.map(user_msisdn).transpose()?;
        let limit = limit.clamp(1, MAX_RECENT);
        let filter = parley_store::LogFilter {
            sub_account_id: Some(sub.clone()),
            msisdn: msisdn.map(|m| m.as_str().to_owned()),
            ..parley_store::LogFilter::default()
        };
        Ok(self.store.query_messages(&filter, None, limit).await?)
    }

    /// The user's windows with the subaccount's number, now; with the channel and the
    /// user's number as read.
    pub async fn window(
        &self,
        account: &AccountId,
        sub: &SubAccountId,
        msisdn: &str,
    ) -> Result<(ChannelId, parley_types::Msisdn, WindowState)> {
        let channel = self.channel_of(account, sub).await?;
        let msisdn = user_msisdn(msisdn)?;
        let window = self
            .store
            .conversation_window(channel.id, msisdn.as_str())
            .await?;
        let state = window_state(window.as_ref(), self.clock.now());
        Ok((channel.id, msisdn, state))
    }

    /// Why and until when a queued message is held back (pacing), if it is.
    pub async fn hold(&self, message: &Message) -> Result<Option<Hold>> {
        if message.status.state != MessageState::Queued {
            return Ok(None);
        }
        Ok(self
            .store
            .hold(message.umid)
            .await?
            .map(|(until, reason)| Hold { reason, until }))
    }

    pub async fn history(&self, umid: Umid) -> Result<Vec<MessageStatus>> {
        Ok(self.store.status_history(umid).await?)
    }

    async fn inbound(
        &self,
        account: &AccountId,
        sub: &SubAccountId,
        umid: Umid,
    ) -> Result<(Message, Channel)> {
        let channel = self.channel_of(account, sub).await?;
        let message = self.get(account, sub, umid).await?;
        if message.direction != Direction::Inbound {
            return Err(Error::invalid(
                SyncCode::InvalidParameters,
                "Invalid parameter(s): 'umid' must be an inbound message",
            ));
        }
        Ok((message, channel))
    }

    /// Blue ticks on the user's message.
    pub async fn mark_read(
        &self,
        account: &AccountId,
        sub: &SubAccountId,
        umid: Umid,
    ) -> Result<()> {
        let (message, channel) = self.inbound(account, sub, umid).await?;
        self.notify_provider(&channel, &message, false).await
    }

    /// Marks the inbound message read and shows "typing…" to the user.
    pub async fn typing(
        &self,
        account: &AccountId,
        sub: &SubAccountId,
        body: &Value,
    ) -> Result<()> {
        let request = TypingRequest::parse(body)?;
        let (message, channel) = self.inbound(account, sub, request.umid).await?;
        if self.clock.now() - message.created_at > TYPING_WINDOW {
            return Err(Error::invalid(
                SyncCode::InvalidParameters,
                "Invalid parameter(s): 'umid': typing indicators can only answer inbound messages of the last 2 hours",
            ));
        }
        self.notify_provider(&channel, &message, true).await
    }

    async fn notify_provider(
        &self,
        channel: &Channel,
        message: &Message,
        typing: bool,
    ) -> Result<()> {
        let wamid = message
            .provider_message_id
            .as_deref()
            .ok_or_else(|| Error::NotFound("Message not found.".into()))?;
        self.adapter
            .mark_read(&route(channel), wamid, typing)
            .await
            .map_err(Error::Provider)
    }
}
