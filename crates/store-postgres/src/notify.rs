//! Waking idle nodes: a transaction that queues messages notifies `parley_dispatch` on
//! commit (a trigger, migration 0012), and every node's dispatcher listens, so a message
//! accepted by one node is claimed at once by whichever node is idle, not at its next
//! poll. A lost notification costs only that poll's delay: polling stays the safety net.

use std::sync::Arc;
use std::time::Duration;

use sqlx::postgres::PgListener;
use tokio::sync::{Notify, watch};

use crate::{PostgresStore, unavailable};
use parley_store::StoreResult;

/// The channel the queueing trigger notifies.
pub const DISPATCH_CHANNEL: &str = "parley_dispatch";

impl PostgresStore {
    /// Wakes `wake` on every notification on `channel` until `stopped` turns true. The
    /// listener keeps one connection of the pool and reconnects by itself when it drops.
    pub async fn relay_notifications(
        &self,
        channel: &str,
        wake: Arc<Notify>,
        mut stopped: watch::Receiver<bool>,
    ) -> StoreResult<()> {
        let mut listener = PgListener::connect_with(&self.pool)
            .await
            .map_err(unavailable)?;
        listener.listen(channel).await.map_err(unavailable)?;
        while !*stopped.borrow() {
            tokio::select! {
                received = listener.recv() => match received {
                    Ok(_) => wake.notify_one(),
                    Err(e) => {
                        tracing::warn!(error = %e, channel, "lost the notification listener; reconnecting");
                        tokio::time::sleep(Duration::from_secs(1)).await;
                    }
                },
                _ = stopped.changed() => {}
            }
        }
        Ok(())
    }
}
