//! The customer webhooks as a consumer of the event log: every event a webhook (or an
//! outbound message's own receipt URL) can take joins the outbox, which the
//! [`super::WebhookDeliverer`] delivers lane by lane. Which events a webhook takes, and
//! the row each becomes, is the store's (`enqueue_webhook_events`); a batch handed over
//! twice adds nothing twice.

use std::collections::BTreeSet;
use std::sync::Arc;

use async_trait::async_trait;
use parley_store::{ConsumerStart, Counter, Direction, SharedStore, StoredEvent};
use parley_types::AccountId;
use tokio::sync::Notify;

use crate::Result;
use crate::events::{Checkpoint, Consumer};

pub struct WebhookOutbox {
    store: SharedStore,
    /// The deliverer's: rung when events were added.
    deliverer: Arc<Notify>,
}

impl WebhookOutbox {
    /// The consumer's name; its checkpoint is registered by the migration that made
    /// webhooks a consumer (after every change the old triggers had already queued).
    pub const NAME: &str = "webhooks";

    pub fn new(store: SharedStore, deliverer: Arc<Notify>) -> Self {
        Self { store, deliverer }
    }
}

impl WebhookOutbox {
    /// Whether any of these events may be taken: an outbound message with a receipt URL of
    /// its own, or an account with an enabled webhook. (The store decides which exactly.)
    async fn anyone_listens(&self, events: &[StoredEvent]) -> Result<bool> {
        let own_url = events.iter().any(|e| {
            e.message
                .as_ref()
                .is_some_and(|m| m.direction == Direction::Outbound && m.own_receipt_url)
        });
        if own_url {
            return Ok(true);
        }
        let accounts: BTreeSet<&AccountId> = events.iter().map(|e| &e.account_id).collect();
        for account in accounts {
            if self
                .store
                .webhooks(account)
                .await?
                .iter()
                .any(|w| w.enabled)
            {
                return Ok(true);
            }
        }
        Ok(false)
    }
}

#[async_trait]
impl Consumer for WebhookOutbox {
    fn name(&self) -> &str {
        Self::NAME
    }

    fn checkpoint(&self) -> Checkpoint {
        Checkpoint::Durable(ConsumerStart::Beginning)
    }

    async fn handle(&self, events: &[StoredEvent]) -> Result<Vec<Counter>> {
        let (Some(first), Some(last)) = (events.first(), events.last()) else {
            return Ok(Vec::new());
        };
        if !self.anyone_listens(events).await? {
            // Most batches of an account without webhooks: no write at all (on SQLite the
            // statement would queue behind every other write for nothing).
            return Ok(Vec::new());
        }
        // The log's reader hands over a stretch with nothing still in flight inside it, so
        // the range holds exactly these events (and numbers lost to rollbacks).
        let added = self
            .store
            .enqueue_webhook_events(first.seq - 1, last.seq)
            .await?;
        if added > 0 {
            self.deliverer.notify_one();
        }
        Ok(Vec::new())
    }
}
