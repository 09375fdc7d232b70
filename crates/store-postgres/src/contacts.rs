//! The do-not-contact list (SQL shared with SQLite in `parley_store_sql::contact_rows`).

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use parley_store::{ContactStore, OptOutSource, StoreResult};
use parley_store_sql::contact_rows::ops;
use parley_types::AccountId;
use sqlx::Postgres;

use crate::{PostgresStore, db};

#[async_trait]
impl ContactStore for PostgresStore {
    async fn opt_out(
        &self,
        account: &AccountId,
        msisdn: &str,
        source: OptOutSource,
        at: DateTime<Utc>,
    ) -> StoreResult<bool> {
        let mut conn = self.pool.acquire().await.map_err(db)?;
        ops::opt_out::<Postgres>(&mut conn, account, msisdn, source, at).await
    }

    async fn opt_in(&self, account: &AccountId, msisdn: &str) -> StoreResult<bool> {
        let mut conn = self.pool.acquire().await.map_err(db)?;
        ops::opt_in::<Postgres>(&mut conn, account, msisdn).await
    }

    async fn opted_out(&self, account: &AccountId, msisdns: &[String]) -> StoreResult<Vec<String>> {
        let mut conn = self.pool.acquire().await.map_err(db)?;
        ops::opted_out::<Postgres>(&mut conn, account, msisdns).await
    }
}
