//! The screen's literal automaton as a dense table.
//!
//! The screen needs, for every position of a value, every literal that ends there (the
//! rules requiring it get their bit set). aho-corasick builds the automaton; walking its
//! DFA through the generic `Automaton` interface costs ~40 instructions per byte on
//! request data (special-state checks, then a pattern list and a slot list per match).
//! Here the reachable states are copied into one transition table over byte classes, and
//! each match state carries the hit-set words to OR in, merged across its patterns: a
//! plain byte costs a class lookup and a table load.

use std::collections::{BTreeMap, HashMap};

use aho_corasick::automaton::{Automaton, StateID};
use aho_corasick::{Anchored, MatchKind};

/// At most this many states are copied (state ids are `u16`; CRS's 1,737 literal prefixes
/// need 3,339); a larger automaton is not built and the screen then skips nothing.
const MAX_STATES: usize = 1 << 16;

/// A dense DFA marking, at each position, the rule slots whose literals end there.
#[derive(Debug)]
pub(crate) struct LiteralDfa {
    /// Byte -> class (bytes no state tells apart share one).
    classes: [u8; 256],
    /// Number of classes.
    stride: usize,
    /// `next[state * stride + class]`: the next state. State 0 is the start. (CRS: 3,339
    /// states, 75 classes, 0.5 MB.)
    next: Vec<u16>,
    /// Per state: the range of `marks` to apply on entering it (empty for most).
    mark_range: Vec<(u32, u32)>,
    /// (hit-set word, bits to set) pairs.
    marks: Vec<(u32, u64)>,
}

impl LiteralDfa {
    /// Builds the table for `literals` (matched ASCII-case-insensitively), where entering a
    /// position at which literal `i` ends sets the bits `slots[i]`.
    pub(crate) fn build(literals: &[Vec<u8>], slots: &[Box<[u32]>]) -> Option<LiteralDfa> {
        let ac = aho_corasick::dfa::Builder::new()
            .ascii_case_insensitive(true)
            .match_kind(MatchKind::Standard)
            .prefilter(false)
            .build(literals)
            .ok()?;
        let start = ac.start_state(Anchored::No).ok()?;
        // Breadth-first copy of the reachable states: rows of 256 next-state indices.
        let mut index: HashMap<StateID, u16> = HashMap::new();
        let mut order: Vec<StateID> = vec![start];
        index.insert(start, 0);
        let mut rows: Vec<[u16; 256]> = Vec::new();
        let mut at = 0;
        while let Some(&sid) = order.get(at) {
            at += 1;
            let mut row = [0u16; 256];
            for (b, cell) in (0u8..=255).zip(row.iter_mut()) {
                let t = ac.next_state(Anchored::No, sid, b);
                let id = match index.get(&t) {
                    Some(&id) => id,
                    None => {
                        if order.len() >= MAX_STATES {
                            return None;
                        }
                        let id = u16::try_from(order.len()).ok()?;
                        order.push(t);
                        index.insert(t, id);
                        id
                    }
                };
                *cell = id;
            }
            rows.push(row);
        }
        // Byte classes: bytes whose columns are equal everywhere.
        let mut classes = [0u8; 256];
        let mut reps: Vec<u8> = Vec::new();
        let mut seen: HashMap<Vec<u16>, u8> = HashMap::new();
        for b in 0u8..=255 {
            let col: Vec<u16> = rows.iter().map(|r| r[usize::from(b)]).collect();
            let class = match seen.get(&col) {
                Some(&c) => c,
                None => {
                    let c = u8::try_from(reps.len()).ok()?;
                    reps.push(b);
                    seen.insert(col, c);
                    c
                }
            };
            classes[usize::from(b)] = class;
        }
        let stride = reps.len();
        let mut next = Vec::with_capacity(rows.len() * stride);
        for row in &rows {
            next.extend(reps.iter().map(|&b| row[usize::from(b)]));
        }
        // Marks: per match state, its patterns' slots merged by hit-set word.
        let mut mark_range = Vec::with_capacity(order.len());
        let mut marks: Vec<(u32, u64)> = Vec::new();
        for &sid in &order {
            let first = u32::try_from(marks.len()).ok()?;
            if ac.is_match(sid) {
                let mut words: BTreeMap<u32, u64> = BTreeMap::new();
                for i in 0..ac.match_len(sid) {
                    let p = ac.match_pattern(sid, i);
                    for &slot in slots.get(p.as_usize()).into_iter().flatten() {
                        *words.entry(slot / 64).or_default() |= 1u64 << (slot % 64);
                    }
                }
                marks.extend(words);
            }
            mark_range.push((first, u32::try_from(marks.len()).ok()?));
        }
        Some(LiteralDfa {
            classes,
            stride,
            next,
            mark_range,
            marks,
        })
    }

    /// Sets in `hits` the slots of every literal occurring in `v`.
    pub(crate) fn scan(&self, v: &[u8], hits: &mut [u64]) {
        let mut state = 0usize;
        for &b in v {
            let class = usize::from(self.classes[usize::from(b)]);
            state = match self.next.get(state * self.stride + class) {
                Some(&t) => usize::from(t),
                None => return,
            };
            if let Some(&(from, to)) = self.mark_range.get(state)
                && from != to
            {
                for &(word, bits) in self.marks.get(from as usize..to as usize).unwrap_or(&[]) {
                    if let Some(h) = hits.get_mut(word as usize) {
                        *h |= bits;
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The table marks exactly what a plain search for every literal occurrence finds.
    #[test]
    fn marks_every_occurrence() {
        let lits: Vec<Vec<u8>> = ["union", "sel", "on", ";", "'", "abcd", "bc"]
            .iter()
            .map(|s| s.as_bytes().to_vec())
            .collect();
        // Literal i sets slot i (and literal 6 also slot 70, in the second word).
        let slots: Vec<Box<[u32]>> = (0..lits.len() as u32)
            .map(|i| {
                if i == 6 {
                    vec![i, 70].into_boxed_slice()
                } else {
                    vec![i].into_boxed_slice()
                }
            })
            .collect();
        let dfa = LiteralDfa::build(&lits, &slots).unwrap();
        let mut next = crate::util::xorshift(0xd1fa_5eed);
        let alphabet = b"unioNSELabcd;' x";
        for _ in 0..20_000 {
            let len = (next() % 24) as usize;
            let v: Vec<u8> = (0..len)
                .map(|_| alphabet[(next() as usize) % alphabet.len()])
                .collect();
            let mut got = [0u64; 2];
            dfa.scan(&v, &mut got);
            let mut want = [0u64; 2];
            let lower = v.to_ascii_lowercase();
            for (i, l) in lits.iter().enumerate() {
                if lower.windows(l.len()).any(|w| w == l.as_slice()) {
                    for &s in slots[i].iter() {
                        want[(s / 64) as usize] |= 1u64 << (s % 64);
                    }
                }
            }
            assert_eq!(got, want, "{:?}", String::from_utf8_lossy(&v));
        }
    }
}
