//! Runs the registered consumers: each round, for every consumer, read the events after
//! its checkpoint, hand them over, move the checkpoint. A durable consumer is worked under
//! a lease, so on PostgreSQL one node at a time works it; a local one runs on every node.

use std::sync::Arc;
use std::time::Duration as StdDuration;

use chrono::Duration;
use parley_store::{GapWatch, SharedStore};
use parley_types::SharedClock;
use tokio::sync::{Mutex, Notify, watch};

use super::{Checkpoint, Consumer};
use crate::Result;

#[derive(Debug, Clone)]
pub struct RunnerConfig {
    /// This node, as the owner of the leases it takes.
    pub owner: String,
    /// Events handed to a consumer at once.
    pub batch: u32,
    /// How long a durable consumer stays with this node after its last progress.
    pub lease: Duration,
    /// How often an idle runner looks for new events.
    pub poll: StdDuration,
}

impl RunnerConfig {
    pub fn new(owner: impl Into<String>) -> Self {
        Self {
            owner: owner.into(),
            batch: 500,
            lease: Duration::seconds(30),
            poll: StdDuration::from_millis(200),
        }
    }
}

/// A consumer and what this process remembers of its place.
struct Registered {
    consumer: Arc<dyn Consumer>,
    /// A local consumer's position (`None` until the first round reads the head); for a
    /// durable one, where it stood when this node last looked (to skip idle rounds).
    local: Mutex<Option<i64>>,
    /// A gap the last read stopped at (see `parley_store::GapWatch`).
    watch: Mutex<Option<GapWatch>>,
}

pub struct EventRunner {
    store: SharedStore,
    clock: SharedClock,
    config: RunnerConfig,
    consumers: Vec<Registered>,
    /// Rung to look for events at once.
    pub wake: Arc<Notify>,
}

impl EventRunner {
    pub fn new(store: SharedStore, clock: SharedClock, config: RunnerConfig) -> Self {
        Self {
            store,
            clock,
            config,
            consumers: Vec::new(),
            wake: Arc::new(Notify::new()),
        }
    }

    pub fn with(mut self, consumer: Arc<dyn Consumer>) -> Self {
        self.consumers.push(Registered {
            consumer,
            local: Mutex::new(None),
            watch: Mutex::new(None),
        });
        self
    }

    /// Hands every consumer every event appended so far (stopping at a gap still in
    /// flight); what a test calls instead of waiting for the loop. Yields how many events
    /// were handed over in all.
    /// A consumer that fails does not hold the others back; the first failure is returned
    /// after every consumer had its turn.
    pub async fn run_once(&self) -> Result<usize> {
        let mut handed = 0;
        let mut failed = None;
        for registered in &self.consumers {
            match self.drain(registered).await {
                Ok(count) => handed += count,
                Err(e) => {
                    tracing::error!(consumer = registered.consumer.name(), error = %e,
                        "event consumer failed; its events come again");
                    failed.get_or_insert(e);
                }
            }
        }
        failed.map_or(Ok(handed), Err)
    }

    async fn drain(&self, registered: &Registered) -> Result<usize> {
        let handed = match registered.consumer.checkpoint() {
            Checkpoint::Durable(start) => self.drain_durable(registered, start).await?,
            Checkpoint::Local => {
                let mut handed = 0;
                loop {
                    let moved = self.local_round(registered).await?;
                    if moved == 0 {
                        break handed;
                    }
                    handed += moved;
                }
            }
        };
        if handed > 0 {
            let consumer = registered.consumer.name().to_owned();
            metrics::counter!("parley_events_consumed_total", "consumer" => consumer)
                .increment(handed as u64);
        }
        Ok(handed)
    }

    /// Every batch there is for a durable consumer, if this node holds (or can take) its
    /// lease. The lease is taken once and renewed by each step forward; nothing is written
    /// while the log has nothing past the consumer's last known place.
    async fn drain_durable(
        &self,
        registered: &Registered,
        start: parley_store::ConsumerStart,
    ) -> Result<usize> {
        let mut known = registered.local.lock().await;
        if let Some(position) = *known
            && position >= self.store.event_head().await?
        {
            return Ok(0);
        }
        let name = registered.consumer.name();
        let owner = &self.config.owner;
        let now = self.clock.now();
        let claimed = self
            .store
            .claim_consumer(name, owner, start, now, now + self.config.lease)
            .await?;
        let Some(mut position) = claimed else {
            // Another node works it (or a dead one's lease has not run out): try again next
            // round, whatever the log holds.
            *known = None;
            return Ok(0);
        };
        let mut handed = 0;
        while let Some((events, last)) = self.read(registered, position).await? {
            let counters = registered.consumer.handle(&events).await?;
            let now = self.clock.now();
            let moved = self
                .store
                .advance_consumer(name, owner, last, &counters, now, now + self.config.lease)
                .await?;
            if !moved {
                // Another node took over meanwhile; it will hand these events over again.
                tracing::warn!(consumer = name, "lost the lease while handling events");
                break;
            }
            position = last;
            handed += events.len();
        }
        *known = Some(position);
        Ok(handed)
    }

    async fn local_round(&self, registered: &Registered) -> Result<usize> {
        let mut local = registered.local.lock().await;
        if !registered.consumer.wants_events() {
            *local = Some(self.store.event_head().await?);
            return Ok(0);
        }
        let position = match *local {
            Some(position) => position,
            None => *local.insert(self.store.event_head().await?),
        };
        let Some((events, last)) = self.read(registered, position).await? else {
            return Ok(0);
        };
        registered.consumer.handle(&events).await?;
        *local = Some(last);
        Ok(events.len())
    }

    /// The next batch after `position` and its last `seq`, or `None` when there is none.
    async fn read(
        &self,
        registered: &Registered,
        position: i64,
    ) -> Result<Option<(Vec<parley_store::StoredEvent>, i64)>> {
        let mut watch = registered.watch.lock().await;
        let read = self
            .store
            .read_events(position, *watch, self.config.batch)
            .await?;
        *watch = read.watch;
        let Some(last) = read.events.last().map(|e| e.seq) else {
            return Ok(None);
        };
        Ok(Some((read.events, last)))
    }

    /// Gives up this node's leases, so another node carries on at once.
    pub async fn release(&self) {
        for registered in &self.consumers {
            if let Checkpoint::Durable(_) = registered.consumer.checkpoint() {
                let name = registered.consumer.name();
                if let Err(e) = self.store.release_consumer(name, &self.config.owner).await {
                    tracing::warn!(consumer = name, error = %e, "could not release the lease");
                }
            }
        }
    }

    /// Runs rounds until `shutdown`: at once when woken, else every `poll`.
    pub async fn run(self: Arc<Self>, mut shutdown: watch::Receiver<bool>) {
        while !*shutdown.borrow() {
            // Failures are logged per consumer by `run_once`.
            let _ = self.run_once().await;
            tokio::select! {
                _ = shutdown.changed() => {}
                _ = self.wake.notified() => {}
                _ = tokio::time::sleep(self.config.poll) => {}
            }
        }
        self.release().await;
    }
}
