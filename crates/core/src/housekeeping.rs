//! The background cleaning besides dispatch, webhooks and jobs: removing expired hosted
//! files, export files, console sessions and consumed events, and keeping the database's
//! planner statistics fresh. (Log exports are built as jobs: `logs::ExportRunner`.)

use std::sync::Arc;
use std::time::Duration as StdDuration;

use chrono::Duration;
use parley_store::SharedStore;
use parley_types::SharedClock;
use tokio::sync::watch;

use crate::Result;
use crate::console::ConsoleService;
use crate::logs::ExportRunner;
use crate::media::FileHosting;

/// How many files one cleaning round removes at most.
const CLEAN_BATCH: u32 = 500;
/// How many events one pruning statement removes at most.
const PRUNE_BATCH: u32 = 10_000;

pub struct Housekeeper {
    store: SharedStore,
    clock: SharedClock,
    files: FileHosting,
    exports: ExportRunner,
    console: ConsoleService,
    /// How long events are kept after every consumer read them.
    event_retention: Duration,
}

/// What one round did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct HousekeepingReport {
    pub files_removed: usize,
    pub export_files_removed: usize,
    pub sessions_removed: u64,
    pub events_pruned: u64,
}

impl Housekeeper {
    pub fn new(
        store: SharedStore,
        clock: SharedClock,
        files: FileHosting,
        exports: ExportRunner,
        console: ConsoleService,
        event_retention: Duration,
    ) -> Self {
        Self {
            store,
            clock,
            files,
            exports,
            console,
            event_retention,
        }
    }

    /// Cleans what expired; what a test calls instead of waiting for the loop.
    pub async fn run_once(&self) -> Result<HousekeepingReport> {
        let report = HousekeepingReport {
            files_removed: self.files.clean_once(CLEAN_BATCH).await?,
            export_files_removed: self.exports.clean_once(CLEAN_BATCH).await?,
            sessions_removed: self.console.remove_expired_sessions().await?,
            events_pruned: self.prune_events().await?,
        };
        self.store.refresh_statistics().await?;
        Ok(report)
    }

    /// Deletes events older than the retention that every consumer seen within it has read,
    /// and jobs that finished before it (a timer's event finds its job until then).
    async fn prune_events(&self) -> Result<u64> {
        let cutoff = self.clock.now() - self.event_retention;
        let mut pruned = 0;
        loop {
            let batch = self.store.prune_events(cutoff, cutoff, PRUNE_BATCH).await?;
            pruned += batch;
            if batch < u64::from(PRUNE_BATCH) {
                break;
            }
        }
        while self.store.prune_jobs(cutoff, PRUNE_BATCH).await? == u64::from(PRUNE_BATCH) {}
        Ok(pruned)
    }

    /// Runs a round every 30 seconds until `shutdown`.
    pub async fn run(self: Arc<Self>, mut shutdown: watch::Receiver<bool>) {
        while !*shutdown.borrow() {
            if let Err(e) = self.run_once().await {
                tracing::error!(error = %e, "housekeeping round failed");
            }
            tokio::select! {
                _ = shutdown.changed() => {}
                _ = tokio::time::sleep(StdDuration::from_secs(30)) => {}
            }
        }
    }
}
