//! The consumers of the domain event log. The store appends an event in the transaction
//! of every change (see `parley_store::EventKind`); a consumer is one module implementing
//! [`Consumer`], registered with the [`EventRunner`], which hands it every event at least
//! once, in log order (so in order per conversation), and moves its checkpoint after it.
//!
//! - [`UsageCounters`]: per subaccount, channel and day, what was accepted, delivered,
//!   undelivered (by code), read, received and charged, for dashboards and reports;
//! - [`LiveUpdates`]: the console's live view (server-sent events), per node.
//!
//! A consumer needs no SQL of its own: counters it returns are added in the transaction
//! that moves its checkpoint, so each event counts exactly once.

mod counters;
mod live;
mod runner;

pub use counters::{UsageCounters, metrics};
pub use live::{LiveEvent, LiveUpdates};
pub use runner::{EventRunner, RunnerConfig};

use async_trait::async_trait;
use parley_store::{ConsumerStart, Counter, StoredEvent};

use crate::Result;

/// Where a consumer keeps its place in the log.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Checkpoint {
    /// In the database, under a lease: one node at a time works it, and a restarted or
    /// another node carries on where it stopped. Registered at `ConsumerStart` first.
    Durable(ConsumerStart),
    /// In this process, from the log's head at start: every node runs its own (live views
    /// that only care about what happens while they watch).
    Local,
}

#[async_trait]
pub trait Consumer: Send + Sync {
    /// Stable and unique: a durable checkpoint is kept under it.
    fn name(&self) -> &str;
    fn checkpoint(&self) -> Checkpoint;
    /// Whether events are wanted right now. A local consumer that wants none (a live view
    /// nobody watches) skips ahead to the head without reading what it would drop.
    fn wants_events(&self) -> bool {
        true
    }
    /// Handles the next events, in log order. An error leaves the checkpoint where it was
    /// and the same events come again (at least once). Returned counters are added with
    /// the checkpoint (exactly once); only durable consumers may return any.
    async fn handle(&self, events: &[StoredEvent]) -> Result<Vec<Counter>>;
}
