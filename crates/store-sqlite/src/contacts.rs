//! The do-not-contact list.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use parley_store::rows::millis;
use parley_store::{ContactStore, OptOutSource, StoreError, StoreResult};
use parley_types::AccountId;

use crate::{SqliteStore, db};

#[async_trait]
impl ContactStore for SqliteStore {
    async fn opt_out(
        &self,
        account: &AccountId,
        msisdn: &str,
        source: OptOutSource,
        at: DateTime<Utc>,
    ) -> StoreResult<bool> {
        let added = sqlx::query(
            "INSERT INTO opt_outs (account_id, msisdn, source, created_at) VALUES (?, ?, ?, ?) \
             ON CONFLICT (account_id, msisdn) DO NOTHING",
        )
        .bind(account.as_str())
        .bind(msisdn)
        .bind(source.as_str())
        .bind(millis(at))
        .execute(&self.writer)
        .await
        .map_err(db)?
        .rows_affected();
        Ok(added == 1)
    }

    async fn opt_in(&self, account: &AccountId, msisdn: &str) -> StoreResult<bool> {
        let removed = sqlx::query("DELETE FROM opt_outs WHERE account_id = ? AND msisdn = ?")
            .bind(account.as_str())
            .bind(msisdn)
            .execute(&self.writer)
            .await
            .map_err(db)?
            .rows_affected();
        Ok(removed == 1)
    }

    async fn opted_out(&self, account: &AccountId, msisdns: &[String]) -> StoreResult<Vec<String>> {
        let list =
            serde_json::to_string(msisdns).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        sqlx::query_scalar(
            "SELECT msisdn FROM opt_outs \
             WHERE account_id = ? AND msisdn IN (SELECT value FROM json_each(?))",
        )
        .bind(account.as_str())
        .bind(list)
        .fetch_all(&self.reader)
        .await
        .map_err(db)
    }
}
