//! A read-through memory for lookups that every request makes and that almost never change
//! (which account an API key belongs to, which channel a subaccount sends on). Reading them
//! from the database on every request cost more than storing the message itself.
//!
//! Entries expire after a fixed time on the injected clock, so a change made by another
//! process (a key revoked with `parley keys revoke` while a server runs) takes effect within
//! that time; changes made through this process invalidate entries at once.

use std::collections::HashMap;
use std::hash::Hash;
use std::sync::RwLock;

use chrono::{DateTime, Duration, Utc};
use parley_types::SharedClock;

/// Entries kept at most; beyond it expired entries are dropped, and if that is not enough,
/// all of them (a cache miss only costs one lookup).
const CAPACITY: usize = 10_000;

#[derive(Debug)]
pub struct TtlCache<K, V> {
    ttl: Duration,
    clock: SharedClock,
    entries: RwLock<HashMap<K, (V, DateTime<Utc>)>>,
}

impl<K: Eq + Hash, V: Clone> TtlCache<K, V> {
    /// A zero `ttl` turns the cache off: every lookup goes to the source.
    pub fn new(ttl: Duration, clock: SharedClock) -> Self {
        Self {
            ttl,
            clock,
            entries: RwLock::new(HashMap::new()),
        }
    }

    pub fn get(&self, key: &K) -> Option<V> {
        let entries = self.entries.read().unwrap_or_else(|e| e.into_inner());
        let (value, expires) = entries.get(key)?;
        (*expires > self.clock.now()).then(|| value.clone())
    }

    pub fn insert(&self, key: K, value: V) {
        if self.ttl <= Duration::zero() {
            return;
        }
        let now = self.clock.now();
        let mut entries = self.entries.write().unwrap_or_else(|e| e.into_inner());
        if entries.len() >= CAPACITY {
            entries.retain(|_, (_, expires)| *expires > now);
            if entries.len() >= CAPACITY {
                entries.clear();
            }
        }
        entries.insert(key, (value, now + self.ttl));
    }

    /// The remembered value, else what `load` finds (remembered if it found something).
    pub async fn get_or_load<E, Fut>(
        &self,
        key: &K,
        load: impl FnOnce() -> Fut,
    ) -> Result<Option<V>, E>
    where
        K: Clone,
        Fut: Future<Output = Result<Option<V>, E>>,
    {
        if let Some(value) = self.get(key) {
            return Ok(Some(value));
        }
        let found = load().await?;
        if let Some(value) = &found {
            self.insert(key.clone(), value.clone());
        }
        Ok(found)
    }

    /// Forgets every entry whose value matches.
    pub fn forget(&self, key: &K) {
        self.entries
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .remove(key);
    }

    pub fn forget_where(&self, matches: impl Fn(&V) -> bool) {
        let mut entries = self.entries.write().unwrap_or_else(|e| e.into_inner());
        entries.retain(|_, (value, _)| !matches(value));
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use parley_types::AdjustableClock;

    use super::*;

    fn cache(ttl_seconds: i64) -> (TtlCache<&'static str, u32>, Arc<AdjustableClock>) {
        let clock = Arc::new(AdjustableClock::new());
        (
            TtlCache::new(Duration::seconds(ttl_seconds), clock.clone()),
            clock,
        )
    }

    #[test]
    fn entries_live_for_the_ttl_on_the_injected_clock() {
        let (cache, clock) = cache(5);
        cache.insert("key", 1);
        clock.advance(Duration::seconds(4));
        assert_eq!(cache.get(&"key"), Some(1));
        clock.advance(Duration::seconds(1));
        assert_eq!(cache.get(&"key"), None);
    }

    #[test]
    fn forgotten_entries_are_gone_and_a_zero_ttl_keeps_nothing() {
        let (cache, _) = cache(5);
        cache.insert("a", 1);
        cache.insert("b", 2);
        cache.forget_where(|v| *v == 1);
        assert_eq!((cache.get(&"a"), cache.get(&"b")), (None, Some(2)));

        let (off, _) = self::cache(0);
        off.insert("a", 1);
        assert_eq!(off.get(&"a"), None);
    }

    #[test]
    fn a_full_cache_makes_room() {
        let (cache, clock) = cache(5);
        for i in 0..CAPACITY {
            cache.insert(Box::leak(i.to_string().into_boxed_str()), 0);
        }
        clock.advance(Duration::seconds(6));
        cache.insert("new", 7);
        assert_eq!(cache.get(&"new"), Some(7));
        assert_eq!(cache.entries.read().unwrap().len(), 1);
    }
}
