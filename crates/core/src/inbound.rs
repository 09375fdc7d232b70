//! The mirror path: traffic from the provider (user messages and delivery receipts),
//! normalised by the adapter, is stored once and moves outbound messages forward.

use parley_channels::{
    BusinessUpdate, BusinessUpdateKind, ChannelAdapter, ChannelEvent, InboundContent,
    InboundMessage, InteractiveReply, MediaKind, ProviderStatus, StatusReport,
};
use std::collections::HashMap;
use std::sync::Arc;

use chrono::{DateTime, Duration, Utc};
use parley_store::{
    BusinessEvent, Channel, Direction, InboundOutcome, Message, MessageState, MessageStatus,
    PriceList, Receipt, ReceiptPricing, SharedStore, StatusDetail,
};
use parley_types::{ChannelId, Msisdn, SharedClock, Umid};
use serde_json::{Value, json};

use crate::Result;
use crate::cache::TtlCache;
use crate::contacts::OptOutKeywords;
use crate::dispatch::{Hold, provider_failure};
use crate::media::FileHosting;
use crate::templates::TemplateService;

#[derive(Clone)]
pub struct InboundService {
    store: SharedStore,
    clock: SharedClock,
    /// What delivered messages are charged.
    prices: Arc<dyn PriceList>,
    /// Channels by the provider's phone-number id, which every webhook event names.
    channels: Arc<TtlCache<String, Channel>>,
    templates: TemplateService,
    /// The stop and start words of the do-not-contact list.
    keywords: OptOutKeywords,
    /// Where media users send is fetched from and kept; without it the message keeps
    /// only the provider's media id.
    media: Option<InboundMedia>,
}

/// Fetches media a user sent from the provider once and re-hosts it.
#[derive(Clone)]
pub struct InboundMedia {
    pub adapter: Arc<dyn ChannelAdapter>,
    pub files: FileHosting,
}

/// What handling a webhook did, for tests and logs.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct InboundReport {
    pub stored: usize,
    pub duplicates: usize,
    pub statuses_applied: usize,
    pub templates_updated: usize,
    pub business_events: usize,
    pub ignored: usize,
}

/// 8x8's inbound `type` and `content` for a user message.
fn content_of(content: &InboundContent) -> (&'static str, Value) {
    match content {
        InboundContent::Text { body } => ("Text", json!({ "text": body })),
        InboundContent::Media {
            kind,
            url,
            caption,
            filename,
            ..
        } => {
            let label = match kind {
                MediaKind::Image | MediaKind::Sticker => "Image",
                MediaKind::Video => "Video",
                MediaKind::Audio => "Audio",
                MediaKind::Document => "File",
            };
            let mut obj = json!({ "url": url });
            if let Some(caption) = caption {
                obj["text"] = json!(caption);
            }
            if let Some(filename) = filename {
                obj["fileName"] = json!(filename);
            }
            (label, obj)
        }
        InboundContent::Location(location) => ("Location", json!({ "location": location })),
        // A template quick-reply tap reads like the label typed by the user, with the
        // button's payload beside it (see docs/decisions.md, "Template button taps").
        InboundContent::Button { text, payload } => {
            ("Text", json!({ "text": text, "payload": payload }))
        }
        InboundContent::Interactive(reply) => ("Interactive", interactive_reply(reply)),
        InboundContent::Unsupported { kind } => ("None", json!({ "unsupportedType": kind })),
    }
}

/// 8x8's `content.interactive` for an answer (`reference/chatapps-api.md` §6.3): Meta's
/// snake_case for button and list replies, camelCase for Flow and call-permission replies.
fn interactive_reply(reply: &InteractiveReply) -> Value {
    let interactive = match reply {
        InteractiveReply::Button { id, title } => json!({
            "type": "button_reply",
            "button_reply": { "id": id, "title": title },
        }),
        InteractiveReply::ListRow {
            id,
            title,
            description,
        } => {
            let mut row = json!({ "id": id, "title": title });
            if let Some(description) = description {
                row["description"] = json!(description);
            }
            json!({ "type": "list_reply", "list_reply": row })
        }
        InteractiveReply::Flow { response_json, .. } => json!({
            "type": "nfmReply",
            "nfmReply": { "responseJson": response_json },
        }),
        InteractiveReply::CallPermission {
            response,
            is_permanent,
            expiration_timestamp,
            response_source,
        } => {
            let mut answer = json!({ "response": response, "isPermanent": is_permanent });
            if let Some(expiry) = expiration_timestamp {
                answer["expirationTimestamp"] = json!(expiry.to_string());
            }
            if let Some(source) = response_source {
                answer["responseSource"] = json!(source);
            }
            json!({ "type": "callPermissionReply", "callPermissionReply": answer })
        }
    };
    json!({ "interactive": interactive })
}

/// How a Meta receipt reads in 8x8's status model.
fn status_of(report: &StatusReport) -> MessageStatus {
    let at = report.timestamp;
    match report.status {
        ProviderStatus::Sent => MessageStatus::new(MessageState::Delivered, at)
            .with_detail(StatusDetail::DeliveredToOperator),
        ProviderStatus::Delivered => MessageStatus::new(MessageState::Delivered, at)
            .with_detail(StatusDetail::DeliveredToRecipient),
        ProviderStatus::Read => MessageStatus::new(MessageState::Read, at),
        ProviderStatus::Failed => {
            let error = report
                .error
                .clone()
                .unwrap_or(parley_channels::ProviderError {
                    code: 131000,
                    title: "failed without a reason".into(),
                    details: None,
                });
            provider_failure(&error, at)
        }
    }
}

/// The messaging limit a number-quality update reports (`currentLimit`, or its successor
/// `maxDailyConversationsPerBusiness`), if it is a tier Parley knows.
fn reported_tier(update: &BusinessUpdate) -> Option<&str> {
    if update.kind != BusinessUpdateKind::NumberQuality {
        return None;
    }
    ["currentLimit", "maxDailyConversationsPerBusiness"]
        .iter()
        .filter_map(|key| update.fields.get(*key).and_then(Value::as_str))
        .find(|tier| crate::dispatch::reach::tier_limit(tier).is_some())
}

impl InboundService {
    pub fn new(
        store: SharedStore,
        clock: SharedClock,
        lookup_ttl: Duration,
        templates: TemplateService,
        prices: Arc<dyn PriceList>,
        keywords: OptOutKeywords,
    ) -> Self {
        Self {
            keywords,
            prices,
            templates,
            channels: Arc::new(TtlCache::new(lookup_ttl, clock.clone())),
            store,
            clock,
            media: None,
        }
    }

    /// Re-hosts the media users send (see [`InboundMedia`]).
    pub fn with_media(mut self, media: InboundMedia) -> Self {
        self.media = Some(media);
        self
    }

    /// The provider's media fetched and stored: the URL Parley serves it at for the
    /// inbound retention. A redelivered message was re-hosted the first time, so this
    /// runs only for new ones. A failure leaves the message without a URL rather than
    /// losing it (logged).
    async fn rehost(&self, channel: &Channel, content: &mut InboundContent) {
        let (
            Some(media),
            InboundContent::Media {
                provider_media_id,
                url,
                filename,
                ..
            },
        ) = (&self.media, content)
        else {
            return;
        };
        let route = crate::messages::route(channel);
        let rehosted = async {
            let download = media
                .adapter
                .download_media(&route, provider_media_id)
                .await
                .map_err(|e| format!("{} ({})", e.title, e.code))?;
            media
                .files
                .rehost(
                    &channel.account_id,
                    &channel.sub_account_id,
                    filename.as_deref(),
                    download.body,
                )
                .await
                .map_err(|e| e.to_string())
        };
        match rehosted.await {
            Ok(Some(hosted)) => *url = Some(hosted),
            Ok(None) => {
                tracing::warn!(media = %provider_media_id, "media of a type whatsapp does not deliver; not re-hosted")
            }
            Err(e) => {
                tracing::warn!(media = %provider_media_id, error = %e, "re-hosting inbound media failed")
            }
        }
    }

    async fn channel(&self, phone_number_id: &str) -> Result<Option<Channel>> {
        let key = phone_number_id.to_owned();
        Ok(self
            .channels
            .get_or_load(&key, || {
                self.store.channel_by_phone_number_id(phone_number_id)
            })
            .await?)
    }

    /// Handles one webhook's events: user messages one by one, then every receipt in one
    /// transaction. An error means the webhook was not fully handled; the provider retries
    /// it, and what was already stored is deduplicated.
    pub async fn handle(&self, events: Vec<ChannelEvent>) -> Result<InboundReport> {
        let mut report = InboundReport::default();
        let mut receipts = Vec::new();
        for event in events {
            match event {
                ChannelEvent::Message(message) => match self.message(message).await? {
                    Some(true) => report.stored += 1,
                    Some(false) => report.duplicates += 1,
                    None => report.ignored += 1,
                },
                ChannelEvent::Status(status) => match self.receipt(status).await? {
                    Some(receipt) => receipts.push(receipt),
                    None => report.ignored += 1,
                },
                ChannelEvent::Template(event) => match self.templates.apply(event).await? {
                    true => report.templates_updated += 1,
                    false => report.ignored += 1,
                },
                ChannelEvent::Business(update) => match self.business(update).await? {
                    true => report.business_events += 1,
                    false => report.ignored += 1,
                },
            }
        }
        if !receipts.is_empty() {
            for applied in self
                .store
                .apply_receipts(&receipts, self.prices.as_ref())
                .await?
            {
                match applied {
                    Some(_) => report.statuses_applied += 1,
                    None => report.ignored += 1,
                }
            }
            self.note_progress(&receipts).await?;
        }
        Ok(report)
    }

    /// Records how far each channel's receipts have come, once they are stored: the
    /// dispatcher does not resend an interrupted hand-off while they are behind it.
    async fn note_progress(&self, receipts: &[Receipt]) -> Result<()> {
        let mut latest: HashMap<ChannelId, DateTime<Utc>> = HashMap::new();
        for receipt in receipts {
            let at = latest.entry(receipt.channel).or_insert(receipt.status.at);
            *at = (*at).max(receipt.status.at);
        }
        let now = self.clock.now();
        for (channel, through) in latest {
            self.store.note_receipts(channel, through, now).await?;
        }
        Ok(())
    }

    /// Records a number or account update for the account that owns the business account
    /// (the CABM webhook reports it); `false` for a business account Parley does not know.
    async fn business(&self, update: BusinessUpdate) -> Result<bool> {
        let channels = self.store.channels().await?;
        let Some(channel) = channels.iter().find(|c| c.waba_id == update.waba_id) else {
            tracing::warn!(waba_id = %update.waba_id, "update for an unknown business account");
            return Ok(false);
        };
        let at = update.timestamp.unwrap_or_else(|| self.clock.now());
        if let Some(tier) = reported_tier(&update) {
            // The dispatcher paces templates to new users against it.
            self.store
                .set_messaging_limit(&update.waba_id, tier, at)
                .await?;
            // Held templates try again: a higher tier may have room for them now.
            let released = self
                .store
                .release_holds(Hold::MessagingLimit.label(), self.clock.now())
                .await?;
            tracing::info!(waba_id = %update.waba_id, tier, released, "messaging limit reported");
        }
        let (event_type, details) = crate::webhooks::payload::business_details(&update);
        let event = BusinessEvent {
            account_id: channel.account_id.clone(),
            waba_id: update.waba_id,
            event_type: event_type.to_owned(),
            details,
            at,
        };
        self.store.record_business_event(&event).await?;
        Ok(true)
    }

    /// `Some(true)` stored, `Some(false)` duplicate, `None` for an unknown business number.
    async fn message(&self, inbound: InboundMessage) -> Result<Option<bool>> {
        let Some(channel) = self.channel(&inbound.phone_number_id).await? else {
            tracing::warn!(phone_number_id = %inbound.phone_number_id, "message for an unknown business number");
            return Ok(None);
        };
        let reply_to = match &inbound.reply_to {
            Some(wamid) => self
                .store
                .message_by_provider_id(channel.id, wamid)
                .await?
                .map(|m| m.umid),
            None => None,
        };
        let mut inbound = inbound;
        if matches!(inbound.content, InboundContent::Media { .. }) {
            let seen = self
                .store
                .message_by_provider_id(channel.id, &inbound.provider_message_id)
                .await?;
            if seen.is_some() {
                return Ok(Some(false));
            }
            self.rehost(&channel, &mut inbound.content).await;
        }
        let (content_type, content) = content_of(&inbound.content);
        let message = Message {
            umid: Umid::new(),
            account_id: channel.account_id.clone(),
            sub_account_id: channel.sub_account_id.clone(),
            channel_id: channel.id,
            direction: Direction::Inbound,
            country: Msisdn::parse(&inbound.from, None)
                .ok()
                .and_then(|m| m.country()),
            msisdn: inbound.from,
            content_type: content_type.into(),
            content,
            client_message_id: None,
            reply_to,
            provider_message_id: Some(inbound.provider_message_id),
            user_name: inbound.profile_name,
            channel_user_id: inbound.user_id,
            status: MessageStatus::new(MessageState::Received, inbound.timestamp),
            // The window runs from when the user wrote, not from when the webhook arrived;
            // a future timestamp (clock skew) is capped at now.
            created_at: inbound.timestamp.min(self.clock.now()),
            dlr_callback_url: None,
            pricing: None,
            batch: None,
            scheduled_at: None,
            expires_at: None,
            origin: None,
        };
        let referred = inbound.referral.is_some();
        // Only what the user typed: a button's label is not the user saying STOP.
        let opt = match &inbound.content {
            InboundContent::Text { body } => self.keywords.change(body),
            _ => None,
        };
        match self.store.record_inbound(&message, referred, opt).await? {
            InboundOutcome::Stored => {
                metrics::counter!("parley_inbound_messages_total").increment(1);
                if let Some(change) = opt {
                    tracing::info!(channel = %channel.id, ?change, "do-not-contact list changed by keyword");
                }
                Ok(Some(true))
            }
            InboundOutcome::AlreadyStored => Ok(Some(false)),
        }
    }

    /// The receipt in the store's terms, or `None` for an unknown business number.
    async fn receipt(&self, report: StatusReport) -> Result<Option<Receipt>> {
        let Some(channel) = self.channel(&report.phone_number_id).await? else {
            return Ok(None);
        };
        Ok(Some(Receipt {
            channel: channel.id,
            pricing: report.pricing.clone().map(|p| ReceiptPricing {
                category: p.category,
                kind: p.kind,
                billable: p.billable,
            }),
            status: status_of(&report),
            // The umid Parley attached to the send comes back with every receipt; it finds
            // a message whose provider id Parley has not recorded yet.
            umid: report
                .callback_data
                .as_deref()
                .and_then(|d| d.parse::<Umid>().ok()),
            provider_message_id: report.provider_message_id,
            channel_user_id: report.user_id,
        }))
    }
}
