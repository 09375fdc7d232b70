//! The background work besides dispatch and webhooks: building queued log exports,
//! removing expired hosted files, export files and console sessions, and keeping the database's planner
//! statistics fresh.

use std::sync::Arc;
use std::time::Duration as StdDuration;

use parley_store::SharedStore;
use tokio::sync::{Notify, watch};

use crate::Result;
use crate::console::ConsoleService;
use crate::logs::ExportRunner;
use crate::media::FileHosting;

/// How many files one cleaning round removes at most.
const CLEAN_BATCH: u32 = 500;

pub struct Housekeeper {
    store: SharedStore,
    files: FileHosting,
    exports: ExportRunner,
    console: ConsoleService,
    /// Rung when an export is queued.
    pub wake: Arc<Notify>,
}

/// What one round did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct HousekeepingReport {
    pub exports_built: usize,
    pub files_removed: usize,
    pub export_files_removed: usize,
    pub sessions_removed: u64,
}

impl Housekeeper {
    pub fn new(
        store: SharedStore,
        files: FileHosting,
        exports: ExportRunner,
        console: ConsoleService,
    ) -> Self {
        Self {
            store,
            files,
            exports,
            console,
            wake: Arc::new(Notify::new()),
        }
    }

    /// Builds every queued export and cleans what expired; what a test calls instead of
    /// waiting for the loop.
    pub async fn run_once(&self) -> Result<HousekeepingReport> {
        let mut report = HousekeepingReport::default();
        while self.exports.run_once().await? {
            report.exports_built += 1;
        }
        report.files_removed = self.files.clean_once(CLEAN_BATCH).await?;
        report.export_files_removed = self.exports.clean_once(CLEAN_BATCH).await?;
        report.sessions_removed = self.console.remove_expired_sessions().await?;
        self.store.refresh_statistics().await?;
        Ok(report)
    }

    /// Runs rounds when woken, and at least every 30 seconds, until `shutdown`.
    pub async fn run(self: Arc<Self>, mut shutdown: watch::Receiver<bool>) {
        while !*shutdown.borrow() {
            if let Err(e) = self.run_once().await {
                tracing::error!(error = %e, "housekeeping round failed");
            }
            tokio::select! {
                _ = shutdown.changed() => {}
                _ = self.wake.notified() => {}
                _ = tokio::time::sleep(StdDuration::from_secs(30)) => {}
            }
        }
    }
}
