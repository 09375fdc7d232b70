//! Message templates: creation (validated, stored, submitted for review), listing,
//! deletion, the provider's review and quality changes, and what a send needs from them
//! (the approved template it names, or the one a plain text matches).

mod matching;
pub mod send;
pub mod spec;

use std::sync::Arc;

use chrono::Duration;
use parley_channels::template::{TemplateMessage, TemplateSpec};
use parley_channels::{ChannelAdapter, TemplateChange, TemplateEvent};
use parley_store::{
    Channel, CreateTemplateOutcome, SharedStore, Template, TemplateHistoryEntry, TemplateLimits,
    TemplateUpdate,
};
use parley_types::codes::SyncCode;
use parley_types::{AccountId, ChannelId, SharedClock};
use serde_json::Value;

use crate::cache::TtlCache;
use crate::messages::route;
use crate::{Error, Result};

pub use send::Rendered;

/// Meta's limits per business account (`reference/chatapps-api.md` §4.2 "Limits"): an
/// unverified business may keep 250 templates and create 100 an hour; a deleted name is
/// blocked for 30 days.
pub const LIMITS: TemplateLimits = TemplateLimits {
    max_templates: 250,
    max_created_per_hour: 100,
    name_blocked_for: Duration::days(30),
};

/// Statuses in which a template may be sent. Paused and disabled templates are accepted
/// here and refused by WhatsApp with its delivery codes (1035/1036), as 8x8 documents.
const SENDABLE: &[&str] = &["APPROVED", "FLAGGED", "PAUSED", "DISABLED", "REINSTATED"];

#[derive(Clone)]
pub struct TemplateService {
    store: SharedStore,
    adapter: Arc<dyn ChannelAdapter>,
    clock: SharedClock,
    /// Each channel's templates with their definitions read once, for sends and text
    /// matching (every text send looks here).
    by_channel: Arc<TtlCache<ChannelId, Arc<Vec<Known>>>>,
}

/// A stored template and its definition.
struct Known {
    template: Template,
    spec: TemplateSpec,
}

fn spec_of(template: &Template) -> Result<TemplateSpec> {
    serde_json::from_value(template.spec.clone()).map_err(|e| {
        Error::Store(parley_store::StoreError::Corrupt(format!(
            "template {} definition: {e}",
            template.id
        )))
    })
}

fn channel_not_found() -> Error {
    Error::NotFound("Channel not found.".into())
}

impl TemplateService {
    pub fn new(
        store: SharedStore,
        adapter: Arc<dyn ChannelAdapter>,
        clock: SharedClock,
        lookup_ttl: Duration,
    ) -> Self {
        Self {
            by_channel: Arc::new(TtlCache::new(lookup_ttl, clock.clone())),
            store,
            adapter,
            clock,
        }
    }

    /// The caller's channel; another account's channel is "not found" like a missing one.
    async fn channel(&self, account: &AccountId, channel: ChannelId) -> Result<Channel> {
        match self.store.channel(channel).await? {
            Some(c) if &c.account_id == account => Ok(c),
            _ => Err(channel_not_found()),
        }
    }

    /// Validates a creation body, stores the template and submits it for review.
    pub async fn create(
        &self,
        account: &AccountId,
        channel_id: ChannelId,
        body: &Value,
    ) -> Result<Template> {
        let spec = spec::parse_template(body)?;
        let channel = self.channel(account, channel_id).await?;
        let now = self.clock.now();
        let template = Template {
            id: uuid::Uuid::new_v4(),
            account_id: account.clone(),
            channel_id,
            waba_id: channel.waba_id.clone(),
            name: spec.name.clone(),
            language: spec.language.clone(),
            category: spec.category.as_str().to_owned(),
            spec: serde_json::to_value(&spec).expect("a template spec serialises"),
            status: "PENDING".into(),
            reason: None,
            quality: "UNKNOWN".into(),
            provider_template_id: None,
            created_at: now,
            updated_at: now,
            deleted_at: None,
        };
        let template = match self.store.create_template(&template, &LIMITS, now).await? {
            CreateTemplateOutcome::Created(t) => t,
            CreateTemplateOutcome::NameBlocked { until } => {
                return Err(Error::invalid(
                    SyncCode::TemplateBeingDeleted,
                    format!(
                        "Template is being deleted: the name '{}' was deleted recently and can be used again from {}",
                        spec.name,
                        until.format("%Y-%m-%dT%H:%M:%SZ")
                    ),
                ));
            }
            CreateTemplateOutcome::Exists(_) => {
                return Err(Error::invalid(
                    SyncCode::InvalidParameters,
                    format!(
                        "Invalid parameter(s): 'name' a template '{}' in language '{}' already exists on this channel",
                        spec.name, spec.language
                    ),
                ));
            }
            CreateTemplateOutcome::TooManyTemplates { limit } => {
                return Err(Error::invalid(
                    SyncCode::BulkLimitReached,
                    format!(
                        "Bulk limit reached: the business account already has {limit} templates (every language counts); delete some first"
                    ),
                ));
            }
            CreateTemplateOutcome::RateLimited { retry_at } => {
                return Err(Error::RateLimited {
                    message: format!(
                        "Too many template creations: at most {} per business account per hour",
                        LIMITS.max_created_per_hour
                    ),
                    retry_after: (retry_at - now).num_seconds().max(1) as u64,
                });
            }
        };
        self.forget(channel_id);
        match self.adapter.submit_template(&route(&channel), &spec).await {
            Ok(submitted) => {
                self.store
                    .set_provider_template_id(template.id, &submitted.provider_template_id)
                    .await?;
                Ok(Template {
                    provider_template_id: Some(submitted.provider_template_id),
                    ..template
                })
            }
            Err(refused) => {
                // Nothing half-made stays behind: WhatsApp does not have it, neither do we.
                self.store.discard_template(template.id).await?;
                Err(Error::invalid(
                    SyncCode::InvalidParameters,
                    format!(
                        "Invalid parameter(s): WhatsApp refused the template ({}): {}",
                        refused.code,
                        refused.details.unwrap_or(refused.title)
                    ),
                ))
            }
        }
    }

    /// The channel's templates, live and recently deleted.
    pub async fn list(
        &self,
        account: &AccountId,
        channel_id: ChannelId,
    ) -> Result<(Channel, Vec<Template>)> {
        let channel = self.channel(account, channel_id).await?;
        let templates = self.store.templates(channel_id).await?;
        Ok((channel, templates))
    }

    /// Deletes every language of `name` at the provider, then here.
    pub async fn delete(
        &self,
        account: &AccountId,
        channel_id: ChannelId,
        name: &str,
    ) -> Result<()> {
        let channel = self.channel(account, channel_id).await?;
        let live = self
            .store
            .templates(channel_id)
            .await?
            .into_iter()
            .any(|t| t.name == name && t.deleted_at.is_none());
        if !live {
            return Err(Error::NotFound(format!("Template '{name}' not found.")));
        }
        self.adapter
            .delete_template(&route(&channel), name)
            .await
            .map_err(Error::Provider)?;
        self.store
            .delete_templates(channel_id, name, self.clock.now())
            .await?;
        self.forget(channel_id);
        Ok(())
    }

    pub async fn history(&self, template: &Template) -> Result<Vec<TemplateHistoryEntry>> {
        Ok(self.store.template_history(template.id).await?)
    }

    /// Applies a template webhook; `false` when Parley does not know the template.
    pub async fn apply(&self, event: TemplateEvent) -> Result<bool> {
        let update = match event.change {
            TemplateChange::Status { status, note } => TemplateUpdate::Status { status, note },
            TemplateChange::Quality { score, .. } => TemplateUpdate::Quality { score },
            TemplateChange::Category { category, .. } => TemplateUpdate::Category { category },
        };
        let at = event.timestamp.unwrap_or_else(|| self.clock.now());
        let updated = self
            .store
            .update_template(&event.waba_id, &event.name, &event.language, &update, at)
            .await?;
        if let Some(template) = &updated {
            self.forget(template.channel_id);
        }
        Ok(updated.is_some())
    }

    fn forget(&self, channel: ChannelId) {
        self.by_channel.forget(&channel);
    }

    async fn templates_of(&self, channel: ChannelId) -> Result<Arc<Vec<Known>>> {
        if let Some(known) = self.by_channel.get(&channel) {
            return Ok(known);
        }
        let known = self
            .store
            .templates(channel)
            .await?
            .into_iter()
            .map(|template| {
                Ok(Known {
                    spec: spec_of(&template)?,
                    template,
                })
            })
            .collect::<Result<Vec<_>>>()?;
        let known = Arc::new(known);
        self.by_channel.insert(channel, known.clone());
        Ok(known)
    }

    /// The send checked against the template it names on the channel, with the text the
    /// user will see.
    pub async fn resolve(
        &self,
        channel: ChannelId,
        message: TemplateMessage,
    ) -> Result<(TemplateMessage, Rendered)> {
        let known = self.templates_of(channel).await?;
        let named = |k: &&Known| k.template.name == message.name;
        let Some(Known { template, spec }) = known
            .iter()
            .filter(named)
            .find(|k| k.template.language == message.language && k.template.deleted_at.is_none())
        else {
            if known
                .iter()
                .filter(named)
                .any(|k| k.template.deleted_at.is_some())
            {
                return Err(Error::invalid(
                    SyncCode::TemplateBeingDeleted,
                    format!("Template is being deleted: '{}' was deleted", message.name),
                ));
            }
            return Err(not_found(&message));
        };
        if !SENDABLE.contains(&template.status.as_str()) {
            return Err(Error::invalid(
                SyncCode::TemplateNotFound,
                format!(
                    "Template not found: '{}' ({}) is {}, not approved",
                    message.name, message.language, template.status
                ),
            ));
        }
        send::resolve(spec, message)
    }

    /// The approved template a plain text matches, as a template send (8x8's text
    /// auto-matching, `reference/chatapps-api.md` §2.2).
    pub async fn match_text(
        &self,
        channel: ChannelId,
        text: &str,
    ) -> Result<Option<(TemplateMessage, Rendered)>> {
        let known = self.templates_of(channel).await?;
        let approved = known
            .iter()
            .filter(|k| k.template.status == "APPROVED" && k.template.deleted_at.is_none());
        for Known { spec, .. } in approved {
            if let Some(values) = matching::body_values(spec, text) {
                let message = TemplateMessage {
                    name: spec.name.clone(),
                    language: spec.language.clone(),
                    header: None,
                    body: values,
                    buttons: Vec::new(),
                    cards: Vec::new(),
                };
                return send::resolve(spec, message).map(Some);
            }
        }
        Ok(None)
    }
}

fn not_found(message: &TemplateMessage) -> Error {
    Error::invalid(
        SyncCode::TemplateNotFound,
        format!(
            "Template not found for provided name and language: '{}' ({})",
            message.name, message.language
        ),
    )
}
