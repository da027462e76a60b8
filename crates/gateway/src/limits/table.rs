//! A sharded GCRA (generic cell rate algorithm) table keyed by (Ingress, client IP) with a
//! hard cap on its size.
//!
//! Why not `governor`'s keyed limiter: its `DashMapStateStore` grows with every distinct key
//! until `retain_recent()` is called, and offers no cap, so an address spray between two
//! clean-ups grows it without bound; it also holds one limiter configuration per store,
//! where we need one per Ingress. This table is small, keeps one entry per key (two
//! "theoretical arrival times", 40 bytes with the key), and bounds memory by construction.
//!
//! Semantics follow nginx `limit_req ... burst=B nodelay`: B + 1 requests may arrive at
//! once, then one per emission interval. An entry whose arrival times are all in the past is
//! indistinguishable from no entry, so such entries are dropped freely (idle expiry).
//! When a shard is full and no entry is idle, the eighth of the shard closest to idle is
//! evicted; those clients start again with a full burst (documented in `docs/limits.md`).

use std::collections::HashMap;
use std::collections::hash_map::RandomState;
use std::hash::BuildHasher;
use std::net::IpAddr;

use parking_lot::Mutex;

/// Number of shards (a power of two).
const SHARDS: usize = 32;
/// Nanoseconds per second.
const NANOS: u64 = 1_000_000_000;
/// How often (at most) a shard drops its idle entries when it is not full.
const SWEEP_EVERY_NS: u64 = 10 * NANOS;

/// Table key: Ingress id and the client address as IPv6 (IPv4 mapped).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) struct Key {
    hi: u64,
    lo: u64,
    ingress: u32,
}

impl Key {
    /// The key of `ip` (IPv4-mapped IPv6 folded to IPv4 first) on Ingress `ingress`.
    pub(crate) fn new(ingress: u32, ip: IpAddr) -> Self {
        let v6 = match ip.to_canonical() {
            IpAddr::V4(a) => a.to_ipv6_mapped(),
            IpAddr::V6(a) => a,
        };
        let bits = v6.to_bits();
        Self {
            hi: (bits >> 64) as u64,
            lo: bits as u64,
            ingress,
        }
    }

    /// The Ingress id.
    pub(crate) fn ingress(&self) -> u32 {
        self.ingress
    }
}

/// One rate: emission interval and tolerance, in nanoseconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Rate {
    /// Time between two requests at the steady rate.
    interval: u64,
    /// How far ahead of now the arrival time may run (burst x interval).
    tolerance: u64,
}

impl Rate {
    /// `count` requests per `period_s` seconds with a burst of `count * multiplier` (as
    /// ingress-nginx: `burst = limit x limit-burst-multiplier`, `nodelay`).
    pub(crate) fn new(count: u32, period_s: u64, multiplier: u32) -> Option<Self> {
        if count == 0 {
            return None;
        }
        let period = period_s.saturating_mul(NANOS);
        let interval = (period / u64::from(count)).max(1);
        let burst = u64::from(count).saturating_mul(u64::from(multiplier));
        Some(Self {
            interval,
            tolerance: interval.saturating_mul(burst),
        })
    }

    /// Per second.
    pub(crate) fn per_second(count: u32, multiplier: u32) -> Option<Self> {
        Self::new(count, 1, multiplier)
    }

    /// Per minute.
    pub(crate) fn per_minute(count: u32, multiplier: u32) -> Option<Self> {
        Self::new(count, 60, multiplier)
    }
}

/// The arrival times of one key (0 = unused slot).
#[derive(Debug, Clone, Copy, Default)]
struct Entry {
    /// Theoretical arrival time of the rpm limit (ns since the table epoch).
    rpm: u64,
    /// Theoretical arrival time of the rps limit.
    rps: u64,
}

impl Entry {
    fn idle_at(&self) -> u64 {
        self.rpm.max(self.rps)
    }
}

struct Shard {
    map: HashMap<Key, Entry>,
    next_sweep: u64,
}

/// Counters exposed for tests and the docs.
#[cfg(test)]
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct TableStats {
    /// Entries held.
    pub(crate) len: usize,
    /// Entries evicted while still limiting (table full).
    pub(crate) evicted: u64,
}

/// The sharded table.
pub(crate) struct RateTable {
    shards: Box<[Mutex<Shard>]>,
    per_shard: usize,
    hasher: RandomState,
    evicted: std::sync::atomic::AtomicU64,
}

impl std::fmt::Debug for RateTable {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RateTable")
            .field("cap", &self.cap())
            .finish_non_exhaustive()
    }
}

/// Outcome of one check.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum RateVerdict {
    /// Within both limits (and counted).
    Allow,
    /// Over `limit-rpm` (nothing counted).
    RpmExceeded,
    /// Over `limit-rps` (nothing counted).
    RpsExceeded,
}

impl RateTable {
    /// A table holding at most about `cap` keys (rounded to a multiple of the shard count,
    /// at least one per shard).
    pub(crate) fn new(cap: usize) -> Self {
        let per_shard = (cap / SHARDS).max(1);
        let shards = (0..SHARDS)
            .map(|_| {
                Mutex::new(Shard {
                    map: HashMap::new(),
                    next_sweep: 0,
                })
            })
            .collect();
        Self {
            shards,
            per_shard,
            hasher: RandomState::new(),
            evicted: std::sync::atomic::AtomicU64::new(0),
        }
    }

    /// The most keys held at once.
    pub(crate) fn cap(&self) -> usize {
        self.per_shard.saturating_mul(SHARDS)
    }

    fn shard(&self, key: &Key) -> &Mutex<Shard> {
        let h = self.hasher.hash_one(key);
        // Invariant: SHARDS is a power of two and `shards` has SHARDS elements.
        &self.shards[(h as usize) & (SHARDS - 1)]
    }

    /// Checks `key` against `rpm` then `rps` at `now` (ns, monotonic); counts the request
    /// only when both allow it, as nginx does across `limit_req` zones.
    pub(crate) fn check(
        &self,
        key: Key,
        rpm: Option<Rate>,
        rps: Option<Rate>,
        now: u64,
    ) -> RateVerdict {
        if rpm.is_none() && rps.is_none() {
            return RateVerdict::Allow;
        }
        let mut shard = self.shard(&key).lock();
        let current = shard.map.get(&key).copied().unwrap_or_default();
        let step = |tat: u64, rate: Option<Rate>| -> Result<u64, ()> {
            let Some(r) = rate else {
                return Ok(tat);
            };
            let base = tat.max(now);
            if base - now > r.tolerance {
                return Err(());
            }
            Ok(base.saturating_add(r.interval))
        };
        let Ok(rpm_tat) = step(current.rpm, rpm) else {
            return RateVerdict::RpmExceeded;
        };
        let Ok(rps_tat) = step(current.rps, rps) else {
            return RateVerdict::RpsExceeded;
        };
        let next = Entry {
            rpm: rpm_tat,
            rps: rps_tat,
        };
        if let Some(e) = shard.map.get_mut(&key) {
            *e = next;
        } else {
            self.make_room(&mut shard, now);
            shard.map.insert(key, next);
        }
        RateVerdict::Allow
    }

    /// Before inserting a new key: drops idle entries now and then; when the shard is full,
    /// rebuilds it without idle entries and, if still above the low-water mark, without the
    /// entries closest to idle (rebuilding, not erasing in place, keeps the hash table free of
    /// tombstones so its capacity stays at the cap).
    fn make_room(&self, shard: &mut Shard, now: u64) {
        let full = shard.map.len() >= self.per_shard;
        if !full {
            if now >= shard.next_sweep {
                shard.next_sweep = now.saturating_add(SWEEP_EVERY_NS);
                shard.map.retain(|_, e| e.idle_at() > now);
            }
            return;
        }
        shard.next_sweep = now.saturating_add(SWEEP_EVERY_NS);
        let mut live: Vec<(Key, Entry)> = shard
            .map
            .drain()
            .filter(|(_, e)| e.idle_at() > now)
            .collect();
        let low_water = self.per_shard - (self.per_shard / 8).max(1);
        if live.len() > low_water {
            let excess = live.len() - low_water;
            live.select_nth_unstable_by_key(excess - 1, |(_, e)| e.idle_at());
            live.drain(..excess);
            self.evicted.fetch_add(
                u64::try_from(excess).unwrap_or(u64::MAX),
                std::sync::atomic::Ordering::Relaxed,
            );
        }
        let mut map = HashMap::with_capacity(self.per_shard);
        map.extend(live);
        shard.map = map;
    }

    /// Drops every entry whose Ingress is not kept (an Ingress went away).
    pub(crate) fn retain_ingresses(&self, keep: impl Fn(u32) -> bool) {
        for s in &self.shards {
            s.lock().map.retain(|k, _| keep(k.ingress()));
        }
    }

    /// Entries held and evictions so far.
    #[cfg(test)]
    pub(crate) fn stats(&self) -> TableStats {
        TableStats {
            len: self.shards.iter().map(|s| s.lock().map.len()).sum(),
            evicted: self.evicted.load(std::sync::atomic::Ordering::Relaxed),
        }
    }

    /// Approximate heap bytes held by the entries (hash table slots and control bytes).
    #[cfg(test)]
    pub(crate) fn memory_bytes(&self) -> usize {
        let slot = size_of::<(Key, Entry)>() + 1;
        self.shards
            .iter()
            .map(|s| s.lock().map.capacity().saturating_mul(slot))
            .sum()
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    const S: u64 = NANOS;

    #[test]
    fn burst_then_steady_rate_like_nginx() {
        let t = RateTable::new(1024);
        // limit-rps 2, multiplier 5: burst 10, so 11 at once.
        let rps = Rate::per_second(2, 5);
        let k = Key::new(1, ip("192.0.2.1"));
        let now = 100 * S;
        for i in 0..11 {
            assert_eq!(
                t.check(k, None, rps, now),
                RateVerdict::Allow,
                "request {i}"
            );
        }
        assert_eq!(t.check(k, None, rps, now), RateVerdict::RpsExceeded);
        // Half a second later one more is allowed, then refused again.
        assert_eq!(t.check(k, None, rps, now + S / 2), RateVerdict::Allow);
        assert_eq!(t.check(k, None, rps, now + S / 2), RateVerdict::RpsExceeded);
        // Another client is independent, and so is another Ingress.
        assert_eq!(
            t.check(Key::new(1, ip("192.0.2.2")), None, rps, now),
            RateVerdict::Allow
        );
        assert_eq!(
            t.check(Key::new(2, ip("192.0.2.1")), None, rps, now),
            RateVerdict::Allow
        );
    }

    #[test]
    fn rpm_checked_first_and_rejections_not_counted() {
        let t = RateTable::new(1024);
        let rpm = Rate::per_minute(2, 1); // burst 2: 3 at once
        let rps = Rate::per_second(100, 1);
        let k = Key::new(1, ip("2001:db8::1"));
        let now = 5 * S;
        for _ in 0..3 {
            assert_eq!(t.check(k, rpm, rps, now), RateVerdict::Allow);
        }
        assert_eq!(t.check(k, rpm, rps, now), RateVerdict::RpmExceeded);
        // 30 s later: one more per minute-rate interval.
        assert_eq!(t.check(k, rpm, rps, now + 30 * S), RateVerdict::Allow);
        // rps alone: burst 1 (multiplier 1, 1 rps) -> 2 at once; rpm refusals did not count.
        let rps1 = Rate::per_second(1, 1);
        let k2 = Key::new(1, ip("2001:db8::2"));
        assert_eq!(t.check(k2, None, rps1, now), RateVerdict::Allow);
        assert_eq!(t.check(k2, None, rps1, now), RateVerdict::Allow);
        assert_eq!(t.check(k2, None, rps1, now), RateVerdict::RpsExceeded);
    }

    #[test]
    fn mapped_v4_is_v4() {
        assert_eq!(
            Key::new(3, ip("::ffff:198.51.100.7")),
            Key::new(3, ip("198.51.100.7"))
        );
        assert_ne!(Key::new(3, ip("::1")), Key::new(3, ip("127.0.0.1")));
    }

    #[test]
    fn spray_of_200k_addresses_stays_at_cap() {
        let cap = 8192;
        let t = RateTable::new(cap);
        let rps = Rate::per_second(10, 5);
        let now = 1000 * S;
        // A heavy client that is being limited.
        let heavy = Key::new(1, ip("203.0.113.9"));
        for _ in 0..51 {
            assert_eq!(t.check(heavy, None, rps, now), RateVerdict::Allow);
        }
        assert_eq!(t.check(heavy, None, rps, now), RateVerdict::RpsExceeded);
        for i in 0..200_000u32 {
            let a = std::net::Ipv4Addr::from(0x0a00_0000 + i);
            // Spread over 2 ms of time: nobody becomes idle (interval is 100 ms).
            let at = now + u64::from(i) * 10;
            assert_eq!(
                t.check(Key::new(1, a.into()), None, rps, at),
                RateVerdict::Allow
            );
            let len = t.stats().len;
            if i % 10_000 == 0 {
                assert!(len <= t.cap(), "len {len} > cap {}", t.cap());
            }
        }
        let st = t.stats();
        assert!(st.len <= t.cap(), "{st:?}");
        assert!(st.evicted > 0);
        // Memory stays proportional to the cap (slots are 40 bytes + 1 control byte).
        let mem = t.memory_bytes();
        assert!(mem <= cap * 41 * 2, "{mem} bytes for cap {cap}");
        eprintln!("cap {cap}: {} entries, {mem} bytes", st.len);
        // The heavy client had the latest arrival time, so it is still tracked and limited.
        assert_eq!(
            t.check(heavy, None, rps, now + 3_000_000),
            RateVerdict::RpsExceeded
        );
    }

    #[test]
    fn idle_entries_expire() {
        let t = RateTable::new(64 * SHARDS);
        let rps = Rate::per_second(1, 1);
        for i in 0..1000u32 {
            let a = std::net::Ipv4Addr::from(0x0a00_0000 + i);
            t.check(Key::new(1, a.into()), None, rps, S);
        }
        assert!(t.stats().len > 0);
        // Long after: every entry is idle; the first new insert in a shard sweeps it.
        for i in 0..500u32 {
            let a = std::net::Ipv4Addr::from(0x0b00_0000 + i);
            t.check(Key::new(1, a.into()), None, rps, 100 * S + u64::from(i));
        }
        assert_eq!(t.stats().len, 500);
        assert_eq!(
            t.stats().evicted,
            0,
            "idle entries are dropped, not evicted"
        );
        t.retain_ingresses(|id| id != 1);
        assert_eq!(t.stats().len, 0);
    }

    #[test]
    fn zero_rate_is_no_limit() {
        assert!(Rate::per_second(0, 5).is_none());
        let t = RateTable::new(1);
        assert_eq!(t.cap(), SHARDS);
        let k = Key::new(0, ip("::"));
        assert_eq!(t.check(k, None, None, 0), RateVerdict::Allow);
        assert_eq!(t.stats().len, 0);
    }
}
