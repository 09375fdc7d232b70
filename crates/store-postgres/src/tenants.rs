use async_trait::async_trait;
use chrono::{DateTime, Utc};
use parley_store::{
    Account, ApiKey, ApiKeyStore, Channel, NewApiKey, Sandbox, StoreResult, SubAccount, TenantStore,
};
use parley_store_sql::rows::{AccountRow, ApiKeyRow, ChannelRow, SubAccountRow, millis};
use parley_types::{AccountId, ApiKeyId, ChannelId, SubAccountId};

use crate::{PostgresStore, db};

const CHANNEL_COLUMNS: &str =
    "id, kind, account_id, sub_account_id, business_number, waba_id, phone_number_id, created_at";

const KEY_COLUMNS: &str = "id, account_id, name, prefix, created_at, revoked_at";

async fn insert_key<'e, E: sqlx::PgExecutor<'e>>(exec: E, key: &NewApiKey) -> StoreResult<()> {
    sqlx::query(
        "INSERT INTO api_keys (id, account_id, name, prefix, hash, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(key.id.to_string())
    .bind(key.account_id.as_str())
    .bind(&key.name)
    .bind(&key.prefix)
    .bind(&key.hash)
    .bind(millis(key.created_at))
    .execute(exec)
    .await
    .map_err(db)?;
    Ok(())
}

async fn insert_tenant(
    tx: &mut sqlx::Transaction<'_, sqlx::Postgres>,
    tenant: &Sandbox,
) -> StoreResult<()> {
    let Sandbox {
        account,
        sub_account,
        channel,
        api_key,
    } = tenant;
    sqlx::query("INSERT INTO accounts (id, name, created_at) VALUES ($1, $2, $3)")
        .bind(account.id.as_str())
        .bind(&account.name)
        .bind(millis(account.created_at))
        .execute(&mut **tx)
        .await
        .map_err(db)?;
    sqlx::query("INSERT INTO sub_accounts (id, account_id, created_at) VALUES ($1, $2, $3)")
        .bind(sub_account.id.as_str())
        .bind(sub_account.account_id.as_str())
        .bind(millis(sub_account.created_at))
        .execute(&mut **tx)
        .await
        .map_err(db)?;
    sqlx::query(&format!(
        "INSERT INTO channels ({CHANNEL_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)"
    ))
    .bind(channel.id.to_string())
    .bind(channel.kind.as_str())
    .bind(channel.account_id.as_str())
    .bind(channel.sub_account_id.as_str())
    .bind(&channel.business_number)
    .bind(&channel.waba_id)
    .bind(&channel.phone_number_id)
    .bind(millis(channel.created_at))
    .execute(&mut **tx)
    .await
    .map_err(db)?;
    insert_key(&mut **tx, api_key).await?;
    Ok(())
}

#[async_trait]
impl TenantStore for PostgresStore {
    async fn bootstrap_sandbox(&self, sandbox: &Sandbox) -> StoreResult<bool> {
        let mut tx = self.pool.begin().await.map_err(db)?;
        // Nodes of a fresh deployment start together; the lock makes all but the first
        // wait and then see its account, instead of failing on its primary key.
        sqlx::query("LOCK TABLE accounts IN SHARE ROW EXCLUSIVE MODE")
            .execute(&mut *tx)
            .await
            .map_err(db)?;
        let existing: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM accounts")
            .fetch_one(&mut *tx)
            .await
            .map_err(db)?;
        if existing > 0 {
            return Ok(false);
        }
        insert_tenant(&mut tx, sandbox).await?;
        tx.commit().await.map_err(db)?;
        Ok(true)
    }

    async fn create_tenant(&self, tenant: &Sandbox) -> StoreResult<()> {
        let mut tx = self.pool.begin().await.map_err(db)?;
        insert_tenant(&mut tx, tenant).await?;
        tx.commit().await.map_err(db)
    }

    async fn accounts(&self) -> StoreResult<Vec<Account>> {
        sqlx::query_as::<_, AccountRow>(
            "SELECT id, name, created_at FROM accounts ORDER BY created_at",
        )
        .fetch_all(&self.pool)
        .await
        .map_err(db)?
        .into_iter()
        .map(AccountRow::into_model)
        .collect()
    }

    async fn sub_account(&self, id: &SubAccountId) -> StoreResult<Option<SubAccount>> {
        sqlx::query_as::<_, SubAccountRow>(
            "SELECT id, account_id, created_at FROM sub_accounts WHERE id = $1",
        )
        .bind(id.as_str())
        .fetch_optional(&self.pool)
        .await
        .map_err(db)?
        .map(SubAccountRow::into_model)
        .transpose()
    }

    async fn channel_for_sub_account(&self, id: &SubAccountId) -> StoreResult<Option<Channel>> {
        sqlx::query_as::<_, ChannelRow>(&format!(
            "SELECT {CHANNEL_COLUMNS} FROM channels WHERE sub_account_id = $1 \
             ORDER BY created_at LIMIT 1"
        ))
        .bind(id.as_str())
        .fetch_optional(&self.pool)
        .await
        .map_err(db)?
        .map(ChannelRow::into_model)
        .transpose()
    }

    async fn channel(&self, id: ChannelId) -> StoreResult<Option<Channel>> {
        sqlx::query_as::<_, ChannelRow>(&format!(
            "SELECT {CHANNEL_COLUMNS} FROM channels WHERE id = $1"
        ))
        .bind(id.to_string())
        .fetch_optional(&self.pool)
        .await
        .map_err(db)?
        .map(ChannelRow::into_model)
        .transpose()
    }

    async fn channel_by_phone_number_id(
        &self,
        phone_number_id: &str,
    ) -> StoreResult<Option<Channel>> {
        sqlx::query_as::<_, ChannelRow>(&format!(
            "SELECT {CHANNEL_COLUMNS} FROM channels WHERE phone_number_id = $1"
        ))
        .bind(phone_number_id)
        .fetch_optional(&self.pool)
        .await
        .map_err(db)?
        .map(ChannelRow::into_model)
        .transpose()
    }

    async fn channels(&self) -> StoreResult<Vec<Channel>> {
        sqlx::query_as::<_, ChannelRow>(&format!(
            "SELECT {CHANNEL_COLUMNS} FROM channels ORDER BY created_at"
        ))
        .fetch_all(&self.pool)
        .await
        .map_err(db)?
        .into_iter()
        .map(ChannelRow::into_model)
        .collect()
    }
}

#[async_trait]
impl ApiKeyStore for PostgresStore {
    async fn insert_api_key(&self, key: &NewApiKey) -> StoreResult<()> {
        insert_key(&self.pool, key).await
    }

    async fn api_key_by_hash(&self, hash: &str) -> StoreResult<Option<ApiKey>> {
        sqlx::query_as::<_, ApiKeyRow>(&format!(
            "SELECT {KEY_COLUMNS} FROM api_keys WHERE hash = $1 AND revoked_at IS NULL"
        ))
        .bind(hash)
        .fetch_optional(&self.pool)
        .await
        .map_err(db)?
        .map(ApiKeyRow::into_model)
        .transpose()
    }

    async fn api_keys(&self, account: &AccountId) -> StoreResult<Vec<ApiKey>> {
        sqlx::query_as::<_, ApiKeyRow>(&format!(
            "SELECT {KEY_COLUMNS} FROM api_keys WHERE account_id = $1 ORDER BY created_at"
        ))
        .bind(account.as_str())
        .fetch_all(&self.pool)
        .await
        .map_err(db)?
        .into_iter()
        .map(ApiKeyRow::into_model)
        .collect()
    }

    async fn revoke_api_key(&self, id: ApiKeyId, at: DateTime<Utc>) -> StoreResult<bool> {
        let done =
            sqlx::query("UPDATE api_keys SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL")
                .bind(millis(at))
                .bind(id.to_string())
                .execute(&self.pool)
                .await
                .map_err(db)?;
        Ok(done.rows_affected() == 1)
    }
}
