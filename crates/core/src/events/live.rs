//! The console's live view: each node turns message events into small notices and
//! broadcasts them to the browsers connected to it (server-sent events), which refetch
//! what changed. A browser that falls behind is told to reload instead.

use async_trait::async_trait;
use parley_store::{Counter, StoredEvent};
use parley_types::AccountId;
use serde::Serialize;
use tokio::sync::{broadcast, watch};

use super::{Checkpoint, Consumer};
use crate::Result;

/// Notices kept for a slow browser before it is told it missed some.
const BACKLOG: usize = 1024;

/// What a browser is told: enough to update a list row or decide to refetch.
#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct LiveEvent {
    /// The event's place in the log (the stream's event id).
    pub seq: i64,
    /// `message.accepted`, `message.status`, `message.received`, `template.changed`, …
    pub kind: &'static str,
    #[serde(skip)]
    pub account_id: AccountId,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sub_account_id: Option<String>,
    /// The umid, template id or WABA id.
    pub subject: String,
    /// The message's status after the change (8x8's lowercase state).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub direction: Option<&'static str>,
    pub at: chrono::DateTime<chrono::Utc>,
}

impl LiveEvent {
    fn from_stored(event: &StoredEvent) -> Self {
        Self {
            seq: event.seq,
            kind: event.kind.as_str(),
            account_id: event.account_id.clone(),
            sub_account_id: event.sub_account_id.as_ref().map(|s| s.to_string()),
            subject: event.subject.clone(),
            status: event.message.as_ref().map(|m| m.status.state.as_str()),
            direction: event.message.as_ref().map(|m| m.direction.as_str()),
            at: event.at,
        }
    }
}

pub struct LiveUpdates {
    sender: broadcast::Sender<LiveEvent>,
    /// Set when the node shuts down: every open stream ends, or the graceful shutdown
    /// would wait for them forever.
    closed: watch::Sender<bool>,
}

impl Default for LiveUpdates {
    fn default() -> Self {
        Self {
            sender: broadcast::channel(BACKLOG).0,
            closed: watch::Sender::new(false),
        }
    }
}

impl LiveUpdates {
    pub const NAME: &'static str = "console-live";

    /// The notices from now on (every account's: the caller filters by its own), and the
    /// switch that says when to stop.
    pub fn subscribe(&self) -> (broadcast::Receiver<LiveEvent>, watch::Receiver<bool>) {
        (self.sender.subscribe(), self.closed.subscribe())
    }

    /// Ends every stream.
    pub fn close(&self) {
        self.closed.send_replace(true);
    }
}

#[async_trait]
impl Consumer for LiveUpdates {
    fn name(&self) -> &str {
        Self::NAME
    }

    fn checkpoint(&self) -> Checkpoint {
        Checkpoint::Local
    }

    fn wants_events(&self) -> bool {
        self.sender.receiver_count() > 0
    }

    async fn handle(&self, events: &[StoredEvent]) -> Result<Vec<Counter>> {
        for event in events {
            // No browser connected is not an error: the notice is simply not needed.
            let _ = self.sender.send(LiveEvent::from_stored(event));
        }
        Ok(Vec::new())
    }
}
