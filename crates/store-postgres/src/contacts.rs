//! The do-not-contact list.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use parley_store::rows::millis;
use parley_store::{ContactStore, OptOutSource, StoreResult};
use parley_types::AccountId;

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
        let added = sqlx::query(
            "INSERT INTO opt_outs (account_id, msisdn, source, created_at) \
             VALUES ($1, $2, $3, $4) ON CONFLICT (account_id, msisdn) DO NOTHING",
        )
        .bind(account.as_str())
        .bind(msisdn)
        .bind(source.as_str())
        .bind(millis(at))
        .execute(&self.pool)
        .await
        .map_err(db)?
        .rows_affected();
        Ok(added == 1)
    }

    async fn opt_in(&self, account: &AccountId, msisdn: &str) -> StoreResult<bool> {
        let removed = sqlx::query("DELETE FROM opt_outs WHERE account_id = $1 AND msisdn = $2")
            .bind(account.as_str())
            .bind(msisdn)
            .execute(&self.pool)
            .await
            .map_err(db)?
            .rows_affected();
        Ok(removed == 1)
    }

    async fn opted_out(&self, account: &AccountId, msisdns: &[String]) -> StoreResult<Vec<String>> {
        sqlx::query_scalar("SELECT msisdn FROM opt_outs WHERE account_id = $1 AND msisdn = ANY($2)")
            .bind(account.as_str())
            .bind(msisdns)
            .fetch_all(&self.pool)
            .await
            .map_err(db)
    }
}
