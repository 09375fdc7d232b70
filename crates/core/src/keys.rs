//! API keys: random, shown once, stored only as a SHA-256 hash.

use std::sync::Arc;

use chrono::{DateTime, Duration, Utc};
use parley_store::{ApiKey, NewApiKey, SharedStore};
use parley_types::{AccountId, ApiKeyId, SharedClock};
use rand::RngCore;
use sha2::{Digest, Sha256};

use crate::cache::TtlCache;
use crate::{Error, Result};

const KEY_PREFIX: &str = "pk_";
/// Characters of the key kept in clear so listings can tell keys apart.
const SHOWN_CHARS: usize = 11;

/// Who is calling: resolved from a bearer key, or from a console session (no key).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    pub account_id: AccountId,
    pub key_id: Option<ApiKeyId>,
}

/// A freshly made key. `secret` exists only here, never in storage.
#[derive(Debug, Clone)]
pub struct IssuedKey {
    pub secret: String,
    pub record: NewApiKey,
}

pub fn hash(secret: &str) -> String {
    hex::encode(Sha256::digest(secret.as_bytes()))
}

/// Makes a new key for `account` (not yet stored).
pub fn issue(account: &AccountId, name: &str, now: DateTime<Utc>) -> IssuedKey {
    let mut bytes = [0u8; 24];
    rand::rng().fill_bytes(&mut bytes);
    let secret = format!("{KEY_PREFIX}{}", hex::encode(bytes));
    let record = NewApiKey {
        id: ApiKeyId::new(),
        account_id: account.clone(),
        name: name.to_owned(),
        prefix: secret[..SHOWN_CHARS].to_owned(),
        hash: hash(&secret),
        created_at: now,
    };
    IssuedKey { secret, record }
}

#[derive(Clone)]
pub struct KeyService {
    store: SharedStore,
    /// Valid keys by hash. Unknown keys are never remembered, so guessing cannot fill it.
    known: Arc<TtlCache<String, Principal>>,
}

impl KeyService {
    /// A key revoked by another process stops working within `cache_ttl`; one revoked
    /// through this service stops at once. A zero `cache_ttl` asks the store every time.
    pub fn new(store: SharedStore, clock: SharedClock, cache_ttl: Duration) -> Self {
        Self {
            store,
            known: Arc::new(TtlCache::new(cache_ttl, clock)),
        }
    }

    pub async fn authenticate(&self, bearer: &str) -> Result<Principal> {
        if !bearer.starts_with(KEY_PREFIX) {
            return Err(Error::Unauthorized);
        }
        let hash = hash(bearer);
        self.known
            .get_or_load(&hash, || async {
                let key = self.store.api_key_by_hash(&hash).await?;
                Ok::<_, Error>(key.map(|k| Principal {
                    account_id: k.account_id,
                    key_id: Some(k.id),
                }))
            })
            .await?
            .ok_or(Error::Unauthorized)
    }

    pub async fn create(
        &self,
        account: &AccountId,
        name: &str,
        now: DateTime<Utc>,
    ) -> Result<IssuedKey> {
        let issued = issue(account, name, now);
        self.store.insert_api_key(&issued.record).await?;
        Ok(issued)
    }

    pub async fn list(&self, account: &AccountId) -> Result<Vec<ApiKey>> {
        Ok(self.store.api_keys(account).await?)
    }

    pub async fn revoke(&self, id: ApiKeyId, now: DateTime<Utc>) -> Result<bool> {
        let revoked = self.store.revoke_api_key(id, now).await?;
        self.known.forget_where(|p| p.key_id == Some(id));
        Ok(revoked)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn issued_keys_are_unique_and_only_their_hash_is_kept() {
        let account = AccountId::parse("acct").unwrap();
        let a = issue(&account, "a", Utc::now());
        let b = issue(&account, "b", Utc::now());
        assert_ne!(a.secret, b.secret);
        assert_eq!(a.record.hash, hash(&a.secret));
        assert!(!a.record.hash.contains(&a.secret[3..]));
        assert!(a.secret.starts_with(&a.record.prefix));
    }
}
