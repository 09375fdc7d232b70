//! The event log (SQL shared with PostgreSQL in `parley_store_sql::event_rows`). One writer
//! commits in `seq` order, so a reader never meets a gap that could still fill.

use async_trait::async_trait;
use chrono::{DateTime, NaiveDate, Utc};
use parley_store::{
    ConsumerStart, ConsumerState, Counter, EventRead, EventStore, GapWatch, StoreResult,
};
use parley_store_sql::event_rows::{EventRow, ops, read_sql};
use parley_types::AccountId;
use sqlx::Sqlite;

use crate::{SqliteStore, db};

#[async_trait]
impl EventStore for SqliteStore {
    async fn read_events(
        &self,
        after: i64,
        _watch: Option<GapWatch>,
        limit: u32,
    ) -> StoreResult<EventRead> {
        let events = sqlx::query_as::<_, EventRow>(&read_sql("", "?", "?"))
            .bind(after)
            .bind(i64::from(limit))
            .fetch_all(&self.reader)
            .await
            .map_err(db)?
            .into_iter()
            .map(EventRow::into_model)
            .collect::<StoreResult<_>>()?;
        Ok(EventRead {
            events,
            watch: None,
        })
    }

    async fn event_head(&self) -> StoreResult<i64> {
        let mut conn = self.reader.acquire().await.map_err(db)?;
        ops::head::<Sqlite>(&mut conn).await
    }

    async fn claim_consumer(
        &self,
        name: &str,
        owner: &str,
        start: ConsumerStart,
        now: DateTime<Utc>,
        lease_until: DateTime<Utc>,
    ) -> StoreResult<Option<i64>> {
        let mut tx = self.writer.begin().await.map_err(db)?;
        let start = match start {
            ConsumerStart::Beginning => 0,
            ConsumerStart::Head => ops::head::<Sqlite>(&mut tx).await?,
        };
        let position = ops::claim::<Sqlite>(&mut tx, name, owner, start, now, lease_until).await?;
        tx.commit().await.map_err(db)?;
        Ok(position)
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
        let mut tx = self.writer.begin().await.map_err(db)?;
        let moved =
            ops::advance::<Sqlite>(&mut tx, name, owner, position, counters, now, lease_until)
                .await?;
        if moved {
            tx.commit().await.map_err(db)?;
        }
        Ok(moved)
    }

    async fn release_consumer(&self, name: &str, owner: &str) -> StoreResult<()> {
        let mut conn = self.writer.acquire().await.map_err(db)?;
        ops::release::<Sqlite>(&mut conn, name, owner).await
    }

    async fn consumers(&self) -> StoreResult<Vec<ConsumerState>> {
        let mut conn = self.reader.acquire().await.map_err(db)?;
        ops::consumers::<Sqlite>(&mut conn).await
    }

    async fn prune_events(
        &self,
        before: DateTime<Utc>,
        live_since: DateTime<Utc>,
        limit: u32,
    ) -> StoreResult<u64> {
        let mut conn = self.writer.acquire().await.map_err(db)?;
        ops::prune::<Sqlite>(&mut conn, before, live_since, limit).await
    }

    async fn counters(
        &self,
        account: &AccountId,
        from: NaiveDate,
        to: NaiveDate,
    ) -> StoreResult<Vec<Counter>> {
        let mut conn = self.reader.acquire().await.map_err(db)?;
        ops::counters::<Sqlite>(&mut conn, account.as_str(), from, to).await
    }
}
