//! The customer webhooks as a consumer of the event log: every event a webhook (or an
//! outbound message's own receipt URL) can take joins the outbox, which the
//! [`super::WebhookDeliverer`] delivers lane by lane. Which events a webhook takes, and
//! the row each becomes, is the store's (`enqueue_webhook_events`); a batch handed over
//! twice adds nothing twice.

use std::sync::Arc;

use async_trait::async_trait;
use parley_store::{ConsumerStart, Counter, SharedStore, StoredEvent};
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
