//! 8x8's API rate limits: requests per second per subaccount (1,800 by default) and per
//! client IP (3,000), each a token bucket holding one second's worth. Beyond them the
//! answer is HTTP 429 with `Retry-After` and the 8x8 envelope, at once: a caller over its
//! limit is turned away, never queued, so nobody else slows down.
//!
//! The subaccount's bucket is keyed by the authenticated account as well, so requests with
//! somebody else's subaccount in the path (or no valid key) cannot use up its budget.

use std::collections::HashMap;
use std::hash::Hash;
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex};

use axum::extract::{ConnectInfo, Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use parley_types::{AccountId, SharedClock, TokenBucket};

use crate::ApiError;

/// Buckets kept before the full (forgettable) ones are dropped.
const BUCKETS_BEFORE_PRUNING: usize = 10_000;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateLimitConfig {
    pub per_sub_account: u32,
    pub per_ip: u32,
}

impl Default for RateLimitConfig {
    fn default() -> Self {
        Self {
            per_sub_account: 1800,
            per_ip: 3000,
        }
    }
}

/// One bucket per key, all with the same rate.
struct Keyed<K> {
    per_second: f64,
    buckets: Mutex<HashMap<K, TokenBucket>>,
}

impl<K: Hash + Eq> Keyed<K> {
    fn new(per_second: u32) -> Self {
        Self {
            per_second: f64::from(per_second.max(1)),
            buckets: Mutex::new(HashMap::new()),
        }
    }

    /// Takes a token for `key`, or answers in how many whole seconds one comes.
    fn take(&self, key: K, now: chrono::DateTime<chrono::Utc>) -> Result<(), u64> {
        let mut buckets = self.buckets.lock().unwrap_or_else(|p| p.into_inner());
        if buckets.len() >= BUCKETS_BEFORE_PRUNING {
            buckets.retain(|_, b| !b.is_full(now));
        }
        let rate = self.per_second;
        buckets
            .entry(key)
            .or_insert_with(|| TokenBucket::full(rate, rate, now))
            .take(now)
            .map_err(|next| {
                let wait = (next - now).num_milliseconds().max(1) as u64;
                wait.div_ceil(1000)
            })
    }
}

pub struct RateLimits {
    clock: SharedClock,
    sub_accounts: Keyed<(AccountId, String)>,
    ips: Keyed<IpAddr>,
}

fn too_many(what: &str, retry_after: u64) -> ApiError {
    ApiError::from(parley_core::Error::RateLimited {
        message: format!(
            "Too many requests: the {what} rate limit is reached; retry after {retry_after} s"
        ),
        retry_after,
    })
}

impl RateLimits {
    pub fn new(config: RateLimitConfig, clock: SharedClock) -> Self {
        Self {
            clock,
            sub_accounts: Keyed::new(config.per_sub_account),
            ips: Keyed::new(config.per_ip),
        }
    }

    /// Counts an authenticated request of `account` to the subaccount its path names.
    pub fn sub_account(&self, account: &AccountId, path: &str) -> Result<(), ApiError> {
        let Some(sub) = sub_account_in(path) else {
            return Ok(());
        };
        self.sub_accounts
            .take((account.clone(), sub.to_owned()), self.clock.now())
            .map_err(|wait| too_many("subaccount", wait))
    }

    fn ip(&self, ip: IpAddr) -> Result<(), ApiError> {
        self.ips
            .take(ip, self.clock.now())
            .map_err(|wait| too_many("client IP", wait))
    }
}

/// The `{subAccountId}` of an 8x8 path (`/api/v1/subaccounts/{id}/…`, also under
/// `/chatapps` and `/api/v1/whatsapp/…`).
fn sub_account_in(path: &str) -> Option<&str> {
    let mut segments = path.split('/').filter(|s| !s.is_empty());
    while let Some(segment) = segments.next() {
        if segment == "subaccounts" {
            return segments.next();
        }
    }
    None
}

/// Middleware: the per-IP limit, before anything else is done for the request.
pub async fn per_ip(
    State(limits): State<Arc<RateLimits>>,
    request: Request,
    next: Next,
) -> Response {
    let ip = request
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|ConnectInfo(addr)| addr.ip());
    if let Some(ip) = ip
        && let Err(refused) = limits.ip(ip)
    {
        return refused.into_response();
    }
    next.run(request).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_subaccount_is_read_from_every_8x8_path_shape() {
        assert_eq!(
            sub_account_in("/api/v1/subaccounts/s-1/messages"),
            Some("s-1")
        );
        assert_eq!(
            sub_account_in("/chatapps/api/v1/subaccounts/s-2/messages/batch"),
            Some("s-2")
        );
        assert_eq!(
            sub_account_in("/api/v1/whatsapp/subaccounts/s-3/channels/c/callPermissions"),
            Some("s-3")
        );
        assert_eq!(sub_account_in("/api/v1/accounts/a-1/webhooks"), None);
    }
}
