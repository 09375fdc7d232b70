//! The event log (SQL shared with SQLite in `parley_store_sql::event_rows`), and what only
//! PostgreSQL needs: sequence numbers are drawn when a row is inserted but become visible
//! when its transaction commits, so a reader may see `seq` 61 while 60 is still in flight.
//! Passing 60 then would lose it. A reader therefore stops at a gap, notes the newest
//! transaction id that could be filling it (the snapshot's `xmax`), and passes the gap only
//! once every transaction before that has ended (the snapshot's `xmin` has moved past it):
//! by then the gap is either filled or was a rollback. Writers take no lock for this.

use async_trait::async_trait;
use chrono::{DateTime, NaiveDate, Utc};
use parley_store::{
    ConsumerStart, ConsumerState, Counter, EventRead, EventStore, GapWatch, StoreResult,
    StoredEvent,
};
use parley_store_sql::event_rows::{EventRow, ops, read_sql};
use parley_types::AccountId;
use sqlx::Postgres;
use std::sync::LazyLock;

use crate::{PostgresStore, db, retrying};

/// The read, with the bounds of the snapshot it ran in.
static READ: LazyLock<String> = LazyLock::new(|| {
    read_sql(
        ", pg_snapshot_xmin(pg_current_snapshot())::text::bigint AS snapshot_xmin, \
         pg_snapshot_xmax(pg_current_snapshot())::text::bigint AS snapshot_xmax",
        "$1",
        "$2",
    )
});

#[derive(sqlx::FromRow)]
struct SnapshotEventRow {
    #[sqlx(flatten)]
    event: EventRow,
    snapshot_xmin: i64,
    snapshot_xmax: i64,
}

/// The snapshot a read ran in: every transaction before `xmin` had ended; none from
/// `xmax` on had started.
#[derive(Debug, Clone, Copy)]
struct Snapshot {
    xmin: i64,
    xmax: i64,
}

/// The events of a read that may be handed out: those up to the first gap that could
/// still fill. `rows` are in `seq` order after `after`.
fn passable(
    after: i64,
    rows: Vec<StoredEvent>,
    snapshot: Snapshot,
    watch: Option<GapWatch>,
) -> EventRead {
    let newest = rows.last().map_or(after, |e| e.seq);
    let mut expected = after + 1;
    let mut events = Vec::with_capacity(rows.len());
    let mut watch = watch.filter(|w| w.upto >= expected);
    for event in rows {
        if event.seq != expected {
            let settled =
                watch.is_some_and(|w| event.seq - 1 <= w.upto && snapshot.xmin >= w.horizon);
            if !settled {
                if watch.is_none_or(|w| w.upto < event.seq - 1) {
                    watch = Some(GapWatch {
                        upto: newest,
                        horizon: snapshot.xmax,
                    });
                }
                return EventRead { events, watch };
            }
        }
        expected = event.seq + 1;
        events.push(event);
    }
    EventRead {
        events,
        watch: watch.filter(|w| w.upto >= expected),
    }
}

#[async_trait]
impl EventStore for PostgresStore {
    async fn read_events(
        &self,
        after: i64,
        watch: Option<GapWatch>,
        limit: u32,
    ) -> StoreResult<EventRead> {
        let rows: Vec<SnapshotEventRow> = retrying(|| async {
            sqlx::query_as(&READ)
                .bind(after)
                .bind(i64::from(limit))
                .fetch_all(&self.pool)
                .await
                .map_err(db)
        })
        .await?;
        let Some(first) = rows.first() else {
            return Ok(EventRead {
                events: Vec::new(),
                watch,
            });
        };
        let snapshot = Snapshot {
            xmin: first.snapshot_xmin,
            xmax: first.snapshot_xmax,
        };
        let events = rows
            .into_iter()
            .map(|row| row.event.into_model())
            .collect::<StoreResult<_>>()?;
        Ok(passable(after, events, snapshot, watch))
    }

    async fn event_head(&self) -> StoreResult<i64> {
        let mut conn = self.pool.acquire().await.map_err(db)?;
        ops::head::<Postgres>(&mut conn).await
    }

    async fn claim_consumer(
        &self,
        name: &str,
        owner: &str,
        start: ConsumerStart,
        now: DateTime<Utc>,
        lease_until: DateTime<Utc>,
    ) -> StoreResult<Option<i64>> {
        let mut conn = self.pool.acquire().await.map_err(db)?;
        let start = match start {
            ConsumerStart::Beginning => 0,
            ConsumerStart::Head => ops::head::<Postgres>(&mut conn).await?,
        };
        ops::claim::<Postgres>(&mut conn, name, owner, start, now, lease_until).await
    }

    async fn advance_consumer(
        &self,
        name: &str,
        owner: &str,
        position: i64,
        counters: &[Counter],
        now: DateTime<Utc>,
        lease_until: DateTime<Utc>,
    ) -> StoreResult<bool> {
        retrying(|| async {
            let mut tx = self.pool.begin().await.map_err(db)?;
            let moved = ops::advance::<Postgres>(
                &mut tx,
                name,
                owner,
                position,
                counters,
                now,
                lease_until,
            )
            .await?;
            if moved {
                tx.commit().await.map_err(db)?;
            }
            Ok(moved)
        })
        .await
    }

    async fn release_consumer(&self, name: &str, owner: &str) -> StoreResult<()> {
        let mut conn = self.pool.acquire().await.map_err(db)?;
        ops::release::<Postgres>(&mut conn, name, owner).await
    }

    async fn consumers(&self) -> StoreResult<Vec<ConsumerState>> {
        let mut conn = self.pool.acquire().await.map_err(db)?;
        ops::consumers::<Postgres>(&mut conn).await
    }

    async fn prune_events(
        &self,
        before: DateTime<Utc>,
        live_since: DateTime<Utc>,
        limit: u32,
    ) -> StoreResult<u64> {
        let mut conn = self.pool.acquire().await.map_err(db)?;
        ops::prune::<Postgres>(&mut conn, before, live_since, limit).await
    }

    async fn counters(
        &self,
        account: &AccountId,
        from: NaiveDate,
        to: NaiveDate,
    ) -> StoreResult<Vec<Counter>> {
        let mut conn = self.pool.acquire().await.map_err(db)?;
        ops::counters::<Postgres>(&mut conn, account.as_str(), from, to).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;
    use parley_store::EventKind;
    use parley_types::AccountId;

    fn event(seq: i64) -> StoredEvent {
        StoredEvent {
            seq,
            kind: EventKind::BusinessUpdated,
            account_id: AccountId::parse("acme").unwrap(),
            sub_account_id: None,
            channel_id: None,
            conversation: "b:1".into(),
            subject: "1".into(),
            at: Utc.timestamp_millis_opt(0).unwrap(),
            message: None,
            charge: None,
            timer: None,
        }
    }

    fn seqs(read: &EventRead) -> Vec<i64> {
        read.events.iter().map(|e| e.seq).collect()
    }

    const NOW: Snapshot = Snapshot {
        xmin: 100,
        xmax: 105,
    };

    #[test]
    fn a_gap_stops_the_read_and_is_watched() {
        let read = passable(0, [1, 2, 4, 5].map(event).to_vec(), NOW, None);
        assert_eq!(seqs(&read), [1, 2]);
        assert_eq!(
            read.watch,
            Some(GapWatch {
                upto: 5,
                horizon: 105
            })
        );
    }

    #[test]
    fn a_gap_is_passed_once_every_transaction_that_could_fill_it_ended() {
        let watch = Some(GapWatch {
            upto: 5,
            horizon: 105,
        });
        let still_running = passable(2, [4, 5].map(event).to_vec(), NOW, watch);
        assert!(still_running.events.is_empty());
        assert_eq!(still_running.watch, watch);
        let ended = Snapshot {
            xmin: 105,
            xmax: 110,
        };
        let passed = passable(2, [4, 5, 6].map(event).to_vec(), ended, watch);
        assert_eq!(seqs(&passed), [4, 5, 6]);
        assert_eq!(passed.watch, None);
    }

    #[test]
    fn a_gap_after_the_watched_range_needs_its_own_wait() {
        let watch = Some(GapWatch {
            upto: 5,
            horizon: 105,
        });
        let ended = Snapshot {
            xmin: 105,
            xmax: 110,
        };
        let read = passable(2, [4, 5, 8].map(event).to_vec(), ended, watch);
        assert_eq!(seqs(&read), [4, 5]);
        assert_eq!(
            read.watch,
            Some(GapWatch {
                upto: 8,
                horizon: 110
            })
        );
    }

    #[test]
    fn a_filled_gap_reads_through() {
        let watch = Some(GapWatch {
            upto: 5,
            horizon: 105,
        });
        let read = passable(2, [3, 4, 5].map(event).to_vec(), NOW, watch);
        assert_eq!(seqs(&read), [3, 4, 5]);
        assert_eq!(read.watch, None);
    }
}
