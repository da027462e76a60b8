//! `limit-connections`: concurrent in-flight requests per (Ingress, client IP), as nginx
//! `limit_conn` counts them. A [`ConnGuard`] holds one slot until the response body is done.
//!
//! Entries exist only while a request is in flight (removed at zero), so the table is bounded
//! by the number of concurrent requests the gateway serves.

use std::collections::HashMap;
use std::collections::hash_map::RandomState;
use std::hash::BuildHasher;
use std::sync::Arc;

use parking_lot::Mutex;

use super::table::Key;

const SHARDS: usize = 16;

/// In-flight counts.
#[derive(Debug)]
pub(crate) struct ConnTable {
    shards: Box<[Mutex<HashMap<Key, u32>>]>,
    hasher: RandomState,
}

impl Default for ConnTable {
    fn default() -> Self {
        Self {
            shards: (0..SHARDS).map(|_| Mutex::new(HashMap::new())).collect(),
            hasher: RandomState::new(),
        }
    }
}

impl ConnTable {
    fn shard(&self, key: &Key) -> &Mutex<HashMap<Key, u32>> {
        let h = self.hasher.hash_one(key);
        // Invariant: SHARDS is a power of two and `shards` has SHARDS elements.
        &self.shards[(h as usize) & (SHARDS - 1)]
    }

    /// Takes one slot for `key` when fewer than `limit` are in use.
    pub(crate) fn acquire(self: &Arc<Self>, key: Key, limit: u32) -> Option<ConnGuard> {
        let mut shard = self.shard(&key).lock();
        let n = shard.entry(key).or_insert(0);
        if *n >= limit {
            if *n == 0 {
                shard.remove(&key);
            }
            return None;
        }
        *n += 1;
        Some(ConnGuard {
            table: Arc::clone(self),
            key,
        })
    }

    fn release(&self, key: &Key) {
        let mut shard = self.shard(key).lock();
        if let Some(n) = shard.get_mut(key) {
            *n = n.saturating_sub(1);
            if *n == 0 {
                shard.remove(key);
            }
        }
    }

    /// Requests in flight for `key`.
    #[cfg(test)]
    pub(crate) fn in_flight(&self, key: &Key) -> u32 {
        self.shard(key).lock().get(key).copied().unwrap_or(0)
    }

    /// Keys with requests in flight.
    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.shards.iter().map(|s| s.lock().len()).sum()
    }
}

/// One in-flight request counted against `limit-connections`; released when dropped.
#[derive(Debug)]
pub(crate) struct ConnGuard {
    table: Arc<ConnTable>,
    key: Key,
}

impl Drop for ConnGuard {
    fn drop(&mut self) {
        self.table.release(&self.key);
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::*;

    #[test]
    fn counts_and_releases() {
        let t = Arc::new(ConnTable::default());
        let k = Key::new(1, "192.0.2.1".parse().unwrap());
        let a = t.acquire(k, 2).unwrap();
        let b = t.acquire(k, 2).unwrap();
        assert!(t.acquire(k, 2).is_none());
        assert_eq!(t.in_flight(&k), 2);
        drop(a);
        let c = t.acquire(k, 2).unwrap();
        drop(b);
        drop(c);
        assert_eq!(t.in_flight(&k), 0);
        assert_eq!(t.len(), 0, "no entry left behind");
        assert!(t.acquire(k, 0).is_none());
        assert_eq!(t.len(), 0);
    }
}
