//! Per-transaction collections (TX, IP, SESSION, USER, GLOBAL, RESOURCE, ENV): a hash map
//! from the lower-cased key to (key as first set, value).
//!
//! CRS reads and writes TX hundreds of times per request (`%{tx.x}` expansions, `setvar`,
//! paranoia-level checks), so lookups are one hash of the key with a small multiplicative
//! hasher instead of an ordered tree walk. Iteration (`TX:/regex/`, `&TX`) is rare and
//! yields elements in key order, as before.
//!
//! The hasher is not keyed: some keys come from request data (CRS stores header names as
//! `tx.header_name_<name>`), but their number is bounded by the request's header and
//! argument limits, so collisions cannot cost more than a few comparisons per element.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

/// Buffers of removed elements kept for reuse: (lower-cased key, key, value).
type Spare = (String, String, Vec<u8>);

/// At most this many spare buffers are kept (TX holds ~100 elements under CRS).
const MAX_SPARE: usize = 256;

/// A case-insensitive collection.
#[derive(Debug, Default)]
pub(crate) struct Collection {
    map: HashMap<String, (String, Vec<u8>), BuildHasherDefault<FastHasher>>,
    /// The buffers of removed elements, reused by [`Collection::insert_copy`]: a TX
    /// collection recycled from transaction to transaction sets its ~100 variables without
    /// allocating.
    spare: Vec<Spare>,
}

impl Clone for Collection {
    /// The elements only (spare buffers stay behind).
    fn clone(&self) -> Collection {
        Collection {
            map: self.map.clone(),
            spare: Vec::new(),
        }
    }
}

impl Collection {
    /// An empty collection with room for `n` elements (TX holds ~100 under CRS: growing to
    /// that one doubling at a time cost more than the lookups).
    pub(crate) fn with_capacity(n: usize) -> Collection {
        Collection {
            map: HashMap::with_capacity_and_hasher(n, BuildHasherDefault::default()),
            spare: Vec::new(),
        }
    }

    /// The element stored under `lower` (a lower-cased key).
    pub(crate) fn get(&self, lower: &str) -> Option<&(String, Vec<u8>)> {
        self.map.get(lower)
    }

    /// The element stored under `lower`, for update in place.
    pub(crate) fn get_mut(&mut self, lower: &str) -> Option<&mut (String, Vec<u8>)> {
        self.map.get_mut(lower)
    }

    /// Stores `value` under `lower`.
    pub(crate) fn insert(&mut self, lower: String, value: (String, Vec<u8>)) {
        self.map.insert(lower, value);
    }

    /// Stores a copy of `key` and `value` under `lower`, in spare buffers when there are.
    pub(crate) fn insert_copy(&mut self, lower: &str, key: &str, value: &[u8]) {
        let (mut l, mut k, mut v) = self.spare.pop().unwrap_or_default();
        l.clear();
        l.push_str(lower);
        k.clear();
        k.push_str(key);
        v.clear();
        v.extend_from_slice(value);
        // Callers look the key up first, so it is normally absent; when present, the map
        // keeps its old key and the new one (with the old value's buffers) goes spare.
        if let Some((old_k, old_v)) = self.map.insert(l, (k, v)) {
            self.keep(String::new(), old_k, old_v);
        }
    }

    /// Removes the element under `lower`.
    pub(crate) fn remove(&mut self, lower: &str) {
        if let Some((l, (k, v))) = self.map.remove_entry(lower) {
            self.keep(l, k, v);
        }
    }

    /// Removes every element, keeping the buffers for reuse (a recycled TX collection).
    pub(crate) fn clear(&mut self) {
        let spare = &mut self.spare;
        for (l, (k, v)) in self.map.drain() {
            if spare.len() < MAX_SPARE {
                spare.push((l, k, v));
            }
        }
    }

    fn keep(&mut self, l: String, k: String, v: Vec<u8>) {
        if self.spare.len() < MAX_SPARE {
            self.spare.push((l, k, v));
        }
    }

    /// The elements whose key (as first set) passes `keep`, ordered by lower-cased key.
    pub(crate) fn select(&self, mut keep: impl FnMut(&str) -> bool) -> Vec<&(String, Vec<u8>)> {
        let mut all: Vec<(&String, &(String, Vec<u8>))> =
            self.map.iter().filter(|(_, v)| keep(&v.0)).collect();
        all.sort_unstable_by(|a, b| a.0.cmp(b.0));
        all.into_iter().map(|(_, v)| v).collect()
    }
}

/// A small multiplicative hasher (word at a time) with a finaliser that spreads entropy
/// over all bits (hashbrown uses both ends of the hash).
#[derive(Default)]
pub(crate) struct FastHasher(u64);

impl FastHasher {
    fn mix(&mut self, n: u64) {
        self.0 = (self.0.rotate_left(5) ^ n).wrapping_mul(0x51_7c_c1_b7_27_22_0a_95);
    }
}

impl Hasher for FastHasher {
    fn finish(&self) -> u64 {
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
    fn write(&mut self, bytes: &[u8]) {
        // The length first: zero padding of the last word must not make "a" and "a\0" equal.
        self.mix(bytes.len() as u64);
        let mut chunks = bytes.chunks_exact(8);
        for c in chunks.by_ref() {
            let mut w = [0u8; 8];
            w.copy_from_slice(c);
            self.mix(u64::from_le_bytes(w));
        }
        let rest = chunks.remainder();
        if !rest.is_empty() {
            let mut w = [0u8; 8];
            w[..rest.len()].copy_from_slice(rest);
            self.mix(u64::from_le_bytes(w));
        }
    }
    fn write_u8(&mut self, n: u8) {
        self.mix(u64::from(n));
    }
    fn write_u32(&mut self, n: u32) {
        self.mix(u64::from(n));
    }
    fn write_u64(&mut self, n: u64) {
        self.mix(n);
    }
    fn write_usize(&mut self, n: usize) {
        self.mix(n as u64);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn get_insert_remove_sorted() {
        let mut c = Collection::default();
        c.insert("b".into(), ("B".into(), b"2".to_vec()));
        c.insert("a".into(), ("A".into(), b"1".to_vec()));
        c.insert("c".into(), ("c".into(), b"3".to_vec()));
        assert_eq!(c.get("a").map(|v| v.1.as_slice()), Some(&b"1"[..]));
        if let Some(v) = c.get_mut("b") {
            v.1 = b"22".to_vec();
        }
        c.remove("c");
        let keys: Vec<&str> = c.select(|_| true).iter().map(|(k, _)| k.as_str()).collect();
        assert_eq!(keys, ["A", "B"]);
        assert_eq!(c.get("b").map(|v| v.1.as_slice()), Some(&b"22"[..]));
        assert!(c.get("c").is_none());
    }

    /// Copies reuse the buffers of removed or cleared elements and never show old data.
    #[test]
    fn insert_copy_reuses_buffers() {
        let mut c = Collection::default();
        c.insert_copy("a", "A", b"a long first value");
        c.insert_copy("a", "A", b"1");
        assert_eq!(c.get("a").map(|v| v.1.as_slice()), Some(&b"1"[..]));
        c.insert_copy("b", "B", b"2");
        c.remove("b");
        assert!(c.get("b").is_none());
        c.clear();
        assert!(c.get("a").is_none() && c.select(|_| true).is_empty());
        assert_eq!(c.spare.len(), 2);
        c.insert_copy("x", "X", b"");
        assert_eq!(c.get("x"), Some(&("X".to_owned(), Vec::new())));
        assert_eq!(c.spare.len(), 1);
        let d = c.clone();
        assert!(d.spare.is_empty() && d.get("x").is_some());
    }

    #[test]
    fn hasher_separates_lengths_and_words() {
        use std::hash::BuildHasher;
        let b = BuildHasherDefault::<FastHasher>::default();
        let h = |s: &str| b.hash_one(s);
        assert_ne!(h("a"), h("a\0"));
        assert_ne!(
            h("inbound_anomaly_score_pl1"),
            h("inbound_anomaly_score_pl2")
        );
        assert_ne!(h("abcdefgh"), h("abcdefgi"));
    }
}
