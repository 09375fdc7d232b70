//! Webhooks to the customer (`reference/chatapps-api.md` §6): the configuration API, the
//! event bodies, signing, the outbox filled from the event log by [`WebhookOutbox`], and
//! its delivery.

pub mod config;
pub mod deliveries;
pub mod delivery;
pub mod health;
mod outbox;
pub mod payload;
pub mod signing;
pub mod targets;

use parley_store::{ALL_SUB_ACCOUNTS, SharedStore, Webhook};
use parley_types::{AccountId, SharedClock, SubAccountId};
use serde_json::Value;

pub use delivery::{
    Answer, DeliveryConfig, DeliveryReport, RetryPolicy, WebhookDeliverer, WebhookRequest,
    WebhookTransport,
};
pub use outbox::WebhookOutbox;

use crate::Result;
use targets::TargetPolicy;

/// The configuration API's operations.
pub struct WebhookService {
    store: SharedStore,
    clock: SharedClock,
    targets: TargetPolicy,
}

impl WebhookService {
    pub fn new(store: SharedStore, clock: SharedClock, targets: TargetPolicy) -> Self {
        Self {
            store,
            clock,
            targets,
        }
    }

    /// Every subaccount named must be the account's.
    async fn check_sub_accounts<'a>(
        &self,
        account: &AccountId,
        subs: impl Iterator<Item = &'a str>,
    ) -> Result<()> {
        for sub in subs.filter(|s| *s != ALL_SUB_ACCOUNTS) {
            let owned = match SubAccountId::parse(sub) {
                Ok(id) => self
                    .store
                    .sub_account(&id)
                    .await?
                    .is_some_and(|s| &s.account_id == account),
                Err(_) => false,
            };
            if !owned {
                return Err(config::foreign_sub_account(sub));
            }
        }
        Ok(())
    }

    /// `POST`: creates or replaces; answers the account's webhooks as `GET` shows them.
    pub async fn save(&self, account: &AccountId, body: &Value) -> Result<Value> {
        let webhooks = config::parse_save(account, body, self.clock.now(), &self.targets)?;
        self.check_sub_accounts(account, webhooks.iter().map(|w| w.sub_account_id.as_str()))
            .await?;
        self.store.save_webhooks(&webhooks).await?;
        self.list(account).await
    }

    /// `GET`: the account's webhooks, secrets masked.
    pub async fn list(&self, account: &AccountId) -> Result<Value> {
        let webhooks: Vec<Webhook> = self.store.webhooks(account).await?;
        Ok(Value::Array(webhooks.iter().map(config::render).collect()))
    }

    /// A page of deliveries, newest first.
    pub async fn deliveries(
        &self,
        account: &AccountId,
        query: &deliveries::DeliveryQuery,
    ) -> Result<Value> {
        let filter = deliveries::parse_query(query)?;
        let events = self.store.webhook_events(account, &filter).await?;
        Ok(deliveries::render_page(&events, filter.limit))
    }

    /// One delivery with every attempt and the body it posts.
    pub async fn delivery(&self, account: &AccountId, id: &str) -> Result<Value> {
        let not_found = || crate::Error::NotFound("Delivery not found.".into());
        let id: i64 = id.parse().map_err(|_| not_found())?;
        let event = self
            .store
            .webhook_event(account, id)
            .await?
            .ok_or_else(not_found)?;
        let attempts = self.store.webhook_attempts(event.id).await?;
        let subject = self.store.event_subject(&event).await?;
        let mut rendered = deliveries::render(&event);
        rendered["attemptLog"] = attempts.iter().map(deliveries::render_attempt).collect();
        rendered["payload"] = subject
            .map(|s| payload::body(&event, &s))
            .unwrap_or(Value::Null);
        Ok(rendered)
    }

    /// Makes finished deliveries pending again, due now; answers how many.
    pub async fn redrive(&self, account: &AccountId, body: &Value) -> Result<Value> {
        let which = deliveries::parse_redrive(body)?;
        if let parley_store::Redrive::Dead {
            sub_account_id: Some(sub),
            ..
        } = &which
        {
            self.check_sub_accounts(account, std::iter::once(sub.as_str()))
                .await?;
        }
        let redriven = self
            .store
            .redrive_webhook_events(account, &which, self.clock.now())
            .await?;
        Ok(serde_json::json!({ "redriven": redriven }))
    }

    /// Endpoints that have been marked failing at some point, with their standing now:
    /// `failing` (probed at a slow pace) or `healthy` (answered since).
    pub async fn endpoints(&self, account: &AccountId) -> Result<Value> {
        let endpoints = self.store.endpoint_health(account).await?;
        let rendered: Vec<Value> = endpoints
            .iter()
            .map(|e| {
                let state = if e.failing { "failing" } else { "healthy" };
                serde_json::json!({
                    "url": e.url,
                    "state": state,
                    "failingSince": e.failing_since.map(parley_types::time::format_8x8),
                    "lastError": e.last_error,
                    "updatedAt": parley_types::time::format_8x8(e.updated_at),
                })
            })
            .collect();
        Ok(serde_json::json!({ "endpoints": rendered }))
    }

    /// `DELETE`: removes the named webhooks; answers what is left.
    pub async fn delete(&self, account: &AccountId, body: &Value) -> Result<Value> {
        let keys = config::parse_delete(body)?;
        self.check_sub_accounts(account, keys.iter().map(|(s, _)| s.as_str()))
            .await?;
        self.store.delete_webhooks(account, &keys).await?;
        self.list(account).await
    }
}
