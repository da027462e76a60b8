//! Rule screening: deciding, before a rule runs, that it cannot match this request.
//!
//! Most CRS rules are a `@rx` with required literals ([`crate::operators::required`]) or a
//! `@pm` phrase list, over request collections (ARGS, ARGS_NAMES, REQUEST_HEADERS, cookies,
//! the URI ...). Evaluating such a rule value by value costs a target walk, exclusion checks
//! and a screen per value even when no value holds any of its literals, which is the usual
//! case for benign traffic. Here, one automaton ([`LiteralDfa`]) holds the literals of every
//! screenable rule; each request value is scanned once per phase and the rules whose literals
//! it holds are noted in a bit set. A rule none of whose target collections holds one of its
//! literals (after its transformations) is skipped without being evaluated.
//!
//! Operators without literals may name a set of bytes one of which every match holds
//! ([`crate::operators::Operator::required_bytes`]): a command separator for CRS's
//! command-injection patterns, which allow quotes inside every command name; a byte outside
//! the allowed range for `@validateByteRange`. The summary of a collection also keeps the
//! union of its values' bytes, and a rule whose set misses it is skipped as well.
//!
//! A target with one key (`REQUEST_HEADERS:User-Agent`) is summarised on its own, so a
//! header the rule does not read (a browser's `Accept: ...xhtml...`) does not wake it.
//! The verdict is per target: a rule whose literal shows up in one header runs on the
//! headers only, not on every argument ([`Verdict::Run`] carries the targets to leave out).
//! Within a target the evaluation then skips the values whose own scan rules the operator
//! out ([`ValueScreen`]): a rule woken by one long text field does not run on the twenty
//! short ones beside it.
//!
//! Soundness rests on three facts, each tested:
//! - the operator matches no input without one of its literals (ASCII case-insensitively)
//!   or without one of its bytes (both cases of letters are added), and no input shorter
//!   than its minimum length ([`crate::operators::Operator::required_literals`]);
//! - a value whose bytes no transformation of the rule's chain changes, except ASCII case
//!   by `lowercase`, and which every "surely unchanged" test of the chain's other steps
//!   accepts (`t:base64Decode` leaves a value that is not Base64 alone:
//!   [`crate::transformations::surely_unchanged`]), is scanned as it is (case does not
//!   matter to the literals); any other value is transformed first, as the rule would, and
//!   the result scanned. When no value of a collection is changed, the summary is the
//!   union of the raw scans, kept per collection, with no pass over the values;
//! - the collections screened hold request or response data only, which no rule changes
//!   while a phase runs (the summaries are forgotten at every phase start). Selectors and
//!   exclusions only narrow what a rule reads, so a summary over the whole collection is a
//!   superset of the rule's view.
//!
//! A rule that does not match has no effect in SecLang, so skipping one that cannot match
//! changes nothing; negated operators, `&` counts, macro arguments and other collections
//! (TX, MATCHED_VARS ...) make a rule unscreenable and it always runs.

use std::borrow::Cow;
use std::collections::HashMap;
use std::sync::OnceLock;

mod literal_dfa;

use literal_dfa::LiteralDfa;

use crate::operators::required::{add_all, byte_set_of, case_closed, intersects};
use crate::resolve::{self, Item, each};
use crate::rule::Rule;
use crate::transaction::TxData;
use crate::transformations::{Transform, identity_bytes, surely_unchanged};
use crate::variables::{Sel, Target, Var};

/// Literals are cut to this many bytes. CRS's 9,189 literals (from 268 rules) become 1,737
/// prefixes (a 1.8 MB aho-corasick DFA, copied into a 0.5 MB table: [`LiteralDfa`]),
/// screening as well as 8 bytes (2,966 prefixes, 4 MB) or whole literals (6,012, 7 MB)
/// did; 3 bytes screens worse (measured with `eval_loop`).
const MAX_LITERAL: usize = 4;

use crate::operators::required::ByteSet;

/// Whether `var`'s values come from request or response data only (stable while a phase
/// runs, and the same for every selector up to filtering).
fn screenable_var(var: Var) -> bool {
    matches!(
        var,
        Var::Args
            | Var::ArgsGet
            | Var::ArgsPost
            | Var::ArgsNames
            | Var::ArgsGetNames
            | Var::ArgsPostNames
            | Var::RequestHeaders
            | Var::RequestHeadersNames
            | Var::RequestCookies
            | Var::RequestCookiesNames
            | Var::ResponseHeaders
            | Var::ResponseHeadersNames
            | Var::RequestUri
            | Var::RequestUriRaw
            | Var::RequestFilename
            | Var::PathInfo
            | Var::RequestBasename
            | Var::RequestLine
            | Var::RequestMethod
            | Var::RequestProtocol
            | Var::QueryString
            | Var::RequestBody
            | Var::Files
            | Var::FilesNames
            | Var::MultipartFilename
            | Var::MultipartName
            | Var::MultipartPartHeaders
            | Var::ResponseBody
            | Var::ResponseProtocol
            | Var::ResponseContentType
    )
}

/// One collection seen through one transformation chain: the unit a summary is kept for.
#[derive(Debug)]
struct Source {
    /// Index in [`ScreenIndex::targets`]: the collection, whole or one key of it.
    target: u32,
    /// The chain (empty: values as they are).
    transforms: Vec<(String, Transform)>,
    /// With `multiMatch`, every intermediate value is scanned too.
    multi: bool,
    /// Bytes that may make the chain change a value other than by ASCII case (all bytes
    /// when some step has neither an identity table nor a predicate).
    touch: ByteSet,
    /// Steps without identity table but with a "surely unchanged" predicate: bit `i` is
    /// [`ScreenIndex::predicates`]`[i]`. A value is left alone by the chain when it holds
    /// no byte of `touch` and every such predicate accepts it.
    opaque: u8,
}

/// What is known statically about one screenable rule (a chain starter).
#[derive(Debug)]
struct RuleScreen {
    /// Bit index in the hit sets, when the operator has required literals.
    slot: Option<u32>,
    /// Bytes one of which every match holds (both ASCII cases), when the operator says.
    bytes: Option<ByteSet>,
    /// No input shorter than this matches.
    min_len: usize,
    /// Per target of the rule (in order): the source it reads, or `None` for `XML:` (which
    /// yields nothing while no XML body was parsed, and is never screened otherwise).
    target_sources: Box<[Option<u32>]>,
    /// Bit `i`: target `i` reads exactly the values its source summarises (no regex
    /// selector), in the same order, so they can be screened one by one.
    exact: u64,
}

/// Per-value screening of one target of a screened rule for the current phase: the raw
/// scan of each of its values, in the order the evaluation resolves them.
pub(crate) struct ValueScreen<'a> {
    st: &'a ScreenState,
    rule: &'a RuleScreen,
    src: &'a Source,
    first: usize,
    n: usize,
    words: usize,
}

impl ValueScreen<'_> {
    /// Whether the target's `k`-th value (`value`) may make the rule match: false only when
    /// the chain leaves it alone (up to ASCII case) and its raw scan rules the operator out,
    /// by length, bytes or literals, exactly as the target's summary would for a
    /// collection of that one value.
    pub(crate) fn may_match(&self, k: usize, value: &[u8]) -> bool {
        if k >= self.n {
            return true;
        }
        let Some(rv) = self.st.raw_values.get(self.first + k) else {
            return true;
        };
        // The evaluation resolves the same values in the same order as the raw scan.
        debug_assert!(rv.len == value.len() && rv.set == byte_set_of(value));
        if rv.touched_by(self.src) {
            return true;
        }
        if rv.len < self.rule.min_len {
            return false;
        }
        if let Some(need) = &self.rule.bytes
            && !intersects(&rv.set, need)
        {
            return false;
        }
        match self.rule.slot {
            None => true,
            Some(slot) => self
                .st
                .raw_hits
                .get((self.first + k) * self.words + (slot / 64) as usize)
                .is_none_or(|w| w & (1u64 << (slot % 64)) != 0),
        }
    }
}

/// What the screen says about a rule for the current data.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Verdict {
    /// Evaluate the rule, skipping the targets whose bits are set (target `i` is bit `i`;
    /// a rule with more than 64 targets is evaluated whole). Those targets hold no value
    /// that can match, so leaving them out changes nothing.
    Run(u64),
    /// No target holds a value that can match: skip the rule.
    Skip,
}

/// The screening tables of a rule set, built once with it.
#[derive(Debug)]
pub(crate) struct ScreenIndex {
    /// Per rule index ([`crate::ruleset::RuleSet::rules`]).
    rules: Vec<Option<RuleScreen>>,
    sources: Vec<Source>,
    /// The collections sources read: whole (`Sel::All`) or one key (`REQUEST_HEADERS:Referer`),
    /// so a header a rule does not read (an `Accept` holding `xhtml`) does not wake it.
    targets: Vec<Target>,
    /// "Surely unchanged" predicates of opaque transformation steps (`t:base64Decode`),
    /// evaluated once per value in the raw scan.
    predicates: Vec<Predicate>,
    /// Distinct literals (lower-cased), in automaton pattern order.
    literals: Vec<Vec<u8>>,
    /// Per literal: the slots of the rules that require it.
    lit_slots: Vec<Box<[u32]>>,
    /// u64 words per hit set.
    words: usize,
    /// Built on first use (most rule sets never need it before traffic arrives).
    automaton: OnceLock<Option<LiteralDfa>>,
}

/// A "surely unchanged" test of a transformation ([`surely_unchanged`]).
type Predicate = fn(&[u8]) -> bool;

/// Predicates kept per rule set at most (bits of [`Source::opaque`]).
const MAX_PREDICATES: usize = 8;

/// The touch set of a chain and its opaque steps (see [`Source`]); new predicates are
/// added to `predicates`.
fn chain_touch(
    transforms: &[(String, Transform)],
    predicates: &mut Vec<(String, Predicate)>,
) -> (ByteSet, u8) {
    let mut opaque = 0u8;
    let mut rest: Vec<(String, Transform)> = Vec::new();
    for (name, f) in transforms {
        let lower = name.to_ascii_lowercase();
        if identity_bytes([lower.as_str()]).is_none()
            && let Some(keeps) = surely_unchanged(&lower)
        {
            let at = match predicates.iter().position(|(n, _)| *n == lower) {
                Some(at) => Some(at),
                None if predicates.len() < MAX_PREDICATES => {
                    predicates.push((lower, keeps));
                    Some(predicates.len() - 1)
                }
                None => None,
            };
            if let Some(at) = at {
                opaque |= 1u8 << at;
                continue;
            }
        }
        rest.push((name.clone(), *f));
    }
    (touch_set(&rest), opaque)
}

/// `lowercase` only changes ASCII case, which the literals ignore: bytes it changes are
/// safe for the screen when the chain's other steps leave both cases alone (predicates
/// of opaque steps do not depend on case either).
fn touch_set(transforms: &[(String, Transform)]) -> ByteSet {
    let mut touch = [u64::MAX; 4];
    let others: Vec<&str> = transforms
        .iter()
        .map(|(n, _)| n.as_str())
        .filter(|n| !n.eq_ignore_ascii_case("lowercase"))
        .collect();
    let has_lower = others.len() != transforms.len();
    let Some(safe) = identity_bytes(others.iter().copied()) else {
        return touch;
    };
    let lower_safe = if has_lower {
        identity_bytes(["lowercase"])
    } else {
        None
    };
    for b in 0u8..=255 {
        let i = usize::from(b);
        let ok = match &lower_safe {
            // Changed by `lowercase`: only ASCII case folds are harmless.
            Some(l) if !l[i] => {
                b.is_ascii_uppercase() && safe[i] && safe[usize::from(b.to_ascii_lowercase())]
            }
            _ => safe[i],
        };
        if ok {
            touch[i / 64] &= !(1u64 << (i % 64));
        }
    }
    touch
}

impl ScreenIndex {
    /// Builds the tables for `rules`.
    pub(crate) fn build(rules: &[Rule]) -> ScreenIndex {
        let mut source_ids: HashMap<(u32, u32, bool), u32> = HashMap::new();
        let mut predicates: Vec<(String, Predicate)> = Vec::new();
        let mut sources: Vec<Source> = Vec::new();
        let mut targets: Vec<Target> = Vec::new();
        let mut lit_ids: HashMap<Vec<u8>, u32> = HashMap::new();
        let mut literals: Vec<Vec<u8>> = Vec::new();
        let mut lit_slots: Vec<Vec<u32>> = Vec::new();
        let mut screens = Vec::with_capacity(rules.len());
        let mut next_slot: u32 = 0;
        for rule in rules {
            let screen = (|| {
                let op = rule.operator.as_ref()?;
                if op.negated || op.macro_arg.is_some() || rule.targets.is_empty() {
                    return None;
                }
                let lits = op
                    .op
                    .required_literals()
                    .filter(|(l, _)| !l.is_empty() && l.iter().all(|l| !l.is_empty()));
                let bytes = op.op.required_bytes();
                let min_len = match (&lits, &bytes) {
                    (None, None) => return None,
                    (Some((_, a)), Some((_, b))) => (*a).max(*b),
                    (Some((_, n)), None) | (None, Some((_, n))) => *n,
                };
                let mut reads: Vec<Option<Target>> = Vec::new();
                let mut exact = 0u64;
                for (i, t) in rule.targets.iter().enumerate() {
                    if i < 64 && matches!(t.sel, Sel::All | Sel::Key { .. }) {
                        exact |= 1u64 << i;
                    }
                    if t.count {
                        return None;
                    }
                    if t.var == Var::Xml {
                        reads.push(None);
                    } else if screenable_var(t.var) {
                        // One key is read alone; a regex selector reads (a subset of) the
                        // whole collection.
                        let sel = match &t.sel {
                            Sel::Key { .. } => t.sel.clone(),
                            Sel::All | Sel::Regex(_) => Sel::All,
                        };
                        let read = Target {
                            var: t.var,
                            sel,
                            count: false,
                        };
                        reads.push(Some(read));
                    } else {
                        return None;
                    }
                }
                let multi = rule.actions.multi_match;
                let mut srcs = Vec::with_capacity(reads.len());
                for read in reads {
                    let Some(read) = read else {
                        srcs.push(None);
                        continue;
                    };
                    let target = match targets.iter().position(|t| same_target(t, &read)) {
                        Some(p) => p,
                        None => {
                            targets.push(read);
                            targets.len() - 1
                        }
                    };
                    // Invariant: a few hundred targets at most.
                    let target = u32::try_from(target).unwrap_or(u32::MAX);
                    let key = (target, rule.transform_chain_id, multi);
                    let id = *source_ids.entry(key).or_insert_with(|| {
                        let (touch, opaque) = chain_touch(&rule.transforms, &mut predicates);
                        sources.push(Source {
                            target,
                            transforms: rule.transforms.clone(),
                            multi,
                            touch,
                            opaque,
                        });
                        // Invariant: at most one source per (target, chain, multi), far
                        // fewer than u32::MAX.
                        u32::try_from(sources.len() - 1).unwrap_or(u32::MAX)
                    });
                    srcs.push(Some(id));
                }
                let Some((lits, _)) = lits else {
                    return Some(RuleScreen {
                        slot: None,
                        bytes: bytes.map(|(set, _)| case_closed(&set)),
                        min_len,
                        target_sources: srcs.into_boxed_slice(),
                        exact,
                    });
                };
                let slot = next_slot;
                next_slot += 1;
                for l in lits {
                    // A prefix of a required literal is required too: prefixes keep the
                    // automaton small at little cost in selectivity.
                    let lower = l.get(..MAX_LITERAL).unwrap_or(l).to_ascii_lowercase();
                    let id = *lit_ids.entry(lower.clone()).or_insert_with(|| {
                        literals.push(lower);
                        lit_slots.push(Vec::new());
                        u32::try_from(literals.len() - 1).unwrap_or(u32::MAX)
                    });
                    if let Some(s) = lit_slots.get_mut(id as usize)
                        && s.last() != Some(&slot)
                    {
                        s.push(slot);
                    }
                }
                Some(RuleScreen {
                    slot: Some(slot),
                    bytes: bytes.map(|(set, _)| case_closed(&set)),
                    min_len,
                    target_sources: srcs.into_boxed_slice(),
                    exact,
                })
            })();
            screens.push(screen);
        }
        ScreenIndex {
            rules: screens,
            sources,
            targets,
            predicates: predicates.into_iter().map(|(_, f)| f).collect(),
            literals,
            lit_slots: lit_slots.into_iter().map(Vec::into_boxed_slice).collect(),
            words: (next_slot as usize).div_ceil(64),
            automaton: OnceLock::new(),
        }
    }

    /// Builds the automaton now (see [`crate::RuleSet::precompile`]).
    pub(crate) fn precompile(&self) {
        let _ = self.automaton();
    }

    fn automaton(&self) -> Option<&LiteralDfa> {
        self.automaton
            .get_or_init(|| {
                if self.literals.is_empty() {
                    return None;
                }
                LiteralDfa::build(&self.literals, &self.lit_slots)
            })
            .as_ref()
    }

    /// Per-value screening of target `i` of rule `idx` (`None` when the rule or target is not
    /// screened, or the target was not summarised this phase).
    pub(crate) fn values<'a>(
        &'a self,
        idx: usize,
        i: usize,
        st: &'a ScreenState,
    ) -> Option<ValueScreen<'a>> {
        let rule = self.rules.get(idx)?.as_ref()?;
        if i >= 64 || rule.exact & (1u64 << i) == 0 {
            return None;
        }
        let src = self.sources.get((*rule.target_sources.get(i)?)? as usize)?;
        let raw = st.raw_target(src.target)?;
        if raw.n < 2 {
            // One value: the summary already is its scan.
            return None;
        }
        Some(ValueScreen {
            st,
            rule,
            src,
            first: raw.first,
            n: raw.n,
            words: self.words,
        })
    }

    /// Number of screenable rules (for reports and tests).
    pub(crate) fn screened_rules(&self) -> usize {
        self.rules.iter().filter(|r| r.is_some()).count()
    }

    /// Which of rule `idx`'s targets can match the transaction's current data
    /// (`Run(0)`, everything, whenever it cannot tell).
    pub(crate) fn verdict(&self, idx: usize, d: &TxData, st: &mut ScreenState) -> Verdict {
        let Some(Some(rs)) = self.rules.get(idx) else {
            return Verdict::Run(0);
        };
        let ac = self.automaton();
        let mut skip = 0u64;
        let mut all = true;
        for (i, src) in rs.target_sources.iter().enumerate() {
            let clear = match src {
                None => d.xml.is_none(),
                Some(src) => !st.may_match(self, ac, *src, d, rs),
            };
            if clear {
                if i < 64 {
                    skip |= 1u64 << i;
                }
            } else {
                all = false;
            }
        }
        if all {
            Verdict::Skip
        } else if rs.target_sources.len() > 64 {
            Verdict::Run(0)
        } else {
            Verdict::Run(skip)
        }
    }

    /// Sets the bits of the rules whose literals occur in `v`.
    fn scan(&self, ac: Option<&LiteralDfa>, v: &[u8], hits: &mut [u64]) {
        if let Some(ac) = ac {
            ac.scan(v, hits);
        }
    }
}

/// Per-transaction screening state: the current phase's summaries, in flat buffers reused
/// from phase to phase.
#[derive(Debug, Default)]
pub(crate) struct ScreenState {
    /// The current phase's stamp (a summary is valid when its stamp equals it).
    phase: u32,
    /// Per source: the stamp of the phase its summary was computed in (0: never).
    stamps: Vec<u32>,
    /// Per source: hit sets of `words` words each (slots of the rules one of whose literals
    /// some value holds).
    hits: Vec<u64>,
    /// Per source: the longest (transformed) value.
    max_len: Vec<usize>,
    /// Per source: every byte some (transformed) value holds.
    present: Vec<ByteSet>,
    /// Targets scanned as they are this phase.
    raw_vars: Vec<RawTarget>,
    /// Per target index: (phase stamp, position in `raw_vars`) of its scan this phase.
    raw_at: Vec<(u32, u32)>,
    /// Per scanned value; its hits are at `index * words` in `raw_hits`.
    raw_values: Vec<RawValue>,
    raw_hits: Vec<u64>,
    /// Per scanned target: the union of its values' hits (`RawTarget::agg` * words).
    raw_agg_hits: Vec<u64>,
}

/// One value as scanned (before any transformation).
#[derive(Debug, Clone, Copy)]
struct RawValue {
    /// The bytes it holds.
    set: ByteSet,
    len: usize,
    /// Bit `i`: [`ScreenIndex::predicates`]`[i]` accepts it.
    keeps: u8,
}

/// One target's values as scanned this phase, with their union.
#[derive(Debug, Clone, Copy)]
struct RawTarget {
    /// First value in `raw_values`, and the count.
    first: usize,
    n: usize,
    /// Union of the values' byte sets, longest length, predicates accepting every value.
    set: ByteSet,
    max_len: usize,
    keeps: u8,
    /// Index of the union of hits in `raw_agg_hits` (in words units of `words`).
    agg: usize,
}

impl RawValue {
    /// Whether `src`'s chain may change this value (other than by ASCII case).
    fn touched_by(&self, src: &Source) -> bool {
        intersects(&self.set, &src.touch) || self.keeps & src.opaque != src.opaque
    }
}

impl ScreenState {
    /// Forgets everything (a new phase: data may have changed).
    pub(crate) fn new_phase(&mut self) {
        self.phase = self.phase.wrapping_add(1);
        if self.phase == 0 {
            // Wrapped (a scratch reused for 4 billion phases): old stamps must not match.
            self.stamps.fill(0);
            self.raw_at.fill((0, 0));
            self.phase = 1;
        }
        self.raw_vars.clear();
        self.raw_values.clear();
        self.raw_hits.clear();
        self.raw_agg_hits.clear();
    }

    /// Whether rule `rs` may match through source `src`: false only when no value of the
    /// source is long enough, or none holds one of the rule's literals, or none holds one
    /// of its bytes.
    fn may_match(
        &mut self,
        ix: &ScreenIndex,
        ac: Option<&LiteralDfa>,
        src: u32,
        d: &TxData,
        rs: &RuleScreen,
    ) -> bool {
        let i = src as usize;
        let Some(source) = ix.sources.get(i) else {
            return true;
        };
        let words = ix.words;
        if self.stamps.len() != ix.sources.len() {
            self.stamps = vec![0; ix.sources.len()];
            self.hits = vec![0; ix.sources.len() * words];
            self.max_len = vec![0; ix.sources.len()];
            self.present = vec![[0; 4]; ix.sources.len()];
        }
        if self.phase == 0 {
            self.phase = 1;
        }
        if self.stamps.get(i) != Some(&self.phase) {
            self.compute(ix, ac, i, source, d);
            if let Some(s) = self.stamps.get_mut(i) {
                *s = self.phase;
            }
        }
        if self.max_len.get(i).is_none_or(|&m| m < rs.min_len) {
            return false;
        }
        if let Some(need) = &rs.bytes
            && !self.present.get(i).is_some_and(|p| intersects(p, need))
        {
            return false;
        }
        let Some(slot) = rs.slot else {
            return true;
        };
        let word = i * words + (slot / 64) as usize;
        self.hits
            .get(word)
            .is_some_and(|w| w & (1u64 << (slot % 64)) != 0)
    }

    /// Target `t`'s raw scan, if computed this phase.
    fn raw_target(&self, t: u32) -> Option<RawTarget> {
        match self.raw_at.get(t as usize) {
            Some(&(stamp, pos)) if stamp == self.phase && stamp != 0 => {
                self.raw_vars.get(pos as usize).copied()
            }
            _ => None,
        }
    }

    /// The raw scan of target `t`'s values (computed on first use this phase).
    fn raw(&mut self, ix: &ScreenIndex, ac: Option<&LiteralDfa>, t: u32, d: &TxData) -> RawTarget {
        if let Some(r) = self.raw_target(t) {
            return r;
        }
        let words = ix.words;
        let first = self.raw_values.len();
        let agg = self.raw_agg_hits.len() / words.max(1);
        self.raw_agg_hits.resize(self.raw_agg_hits.len() + words, 0);
        let mut r = RawTarget {
            first,
            n: 0,
            set: [0; 4],
            max_len: 0,
            keeps: u8::MAX,
            agg,
        };
        if let Some(target) = ix.targets.get(t as usize) {
            let (values, hits) = (&mut self.raw_values, &mut self.raw_hits);
            for_each_value(d, target, |v| {
                let mut keeps = 0u8;
                for (i, p) in ix.predicates.iter().enumerate() {
                    if p(v) {
                        keeps |= 1u8 << i;
                    }
                }
                let set = byte_set_of(v);
                values.push(RawValue {
                    set,
                    len: v.len(),
                    keeps,
                });
                r.max_len = r.max_len.max(v.len());
                r.keeps &= keeps;
                add_all(&mut r.set, &set);
                let start = hits.len();
                hits.resize(start + words, 0);
                if let Some(h) = hits.get_mut(start..) {
                    ix.scan(ac, v, h);
                }
            });
        }
        r.n = self.raw_values.len() - first;
        let (hits, agg_hits) = (&self.raw_hits, &mut self.raw_agg_hits);
        if let Some(sum) = agg_hits.get_mut(agg * words..(agg + 1) * words) {
            for k in first..first + r.n {
                for (w, h) in sum.iter_mut().zip(hits.iter().skip(k * words)) {
                    *w |= h;
                }
            }
        }
        if self.raw_at.len() < ix.targets.len() {
            self.raw_at.resize(ix.targets.len(), (0, 0));
        }
        if let (Some(slot), Ok(pos)) = (
            self.raw_at.get_mut(t as usize),
            u32::try_from(self.raw_vars.len()),
        ) {
            *slot = (self.phase, pos);
        }
        self.raw_vars.push(r);
        r
    }

    /// Computes source `i`'s summary for this phase.
    fn compute(
        &mut self,
        ix: &ScreenIndex,
        ac: Option<&LiteralDfa>,
        i: usize,
        src: &Source,
        d: &TxData,
    ) {
        let words = ix.words;
        let raw = self.raw(ix, ac, src.target, d);
        let Some(target) = ix.targets.get(src.target as usize) else {
            return;
        };
        let Self {
            hits,
            max_len,
            present,
            raw_values,
            raw_hits,
            raw_agg_hits,
            ..
        } = self;
        let Some(sum) = hits.get_mut(i * words..(i + 1) * words) else {
            return;
        };
        let union = RawValue {
            set: raw.set,
            len: raw.max_len,
            keeps: raw.keeps,
        };
        if !union.touched_by(src) {
            // No value is changed by the chain: the summary is the raw union.
            for (w, h) in sum
                .iter_mut()
                .zip(raw_agg_hits.iter().skip(raw.agg * words))
            {
                *w = *h;
            }
            if let Some(m) = max_len.get_mut(i) {
                *m = raw.max_len;
            }
            if let Some(p) = present.get_mut(i) {
                *p = raw.set;
            }
            return;
        }
        let (first, n) = (raw.first, raw.n);
        sum.fill(0);
        let mut longest = 0usize;
        let mut bytes: ByteSet = [0; 4];
        let or_raw = |sum: &mut [u64], k: usize| {
            for (w, h) in sum.iter_mut().zip(raw_hits.iter().skip(k * words)) {
                *w |= h;
            }
        };
        let mut changed = false;
        for k in first..first + n {
            match raw_values.get(k) {
                Some(rv) if rv.touched_by(src) => changed = true,
                Some(rv) => {
                    longest = longest.max(rv.len);
                    add_all(&mut bytes, &rv.set);
                    or_raw(sum, k);
                }
                None => {}
            }
        }
        if changed {
            // Transform the values the chain may change (same order as the raw scan) and
            // scan what the rule would see, unless that is the value itself.
            let mut k = first;
            for_each_value(d, target, |v| {
                let at = k;
                k += 1;
                if !raw_values.get(at).is_some_and(|rv| rv.touched_by(src)) {
                    return;
                }
                // What the rule's operator sees, computed by the evaluation's own functions:
                // the chain's result, or with multiMatch the original and every changed
                // intermediate. A value equal to the original keeps its raw scan.
                let mut note = |t: &[u8], sum: &mut [u64]| {
                    if t == v {
                        longest = longest.max(v.len());
                        if let Some(rv) = raw_values.get(at) {
                            add_all(&mut bytes, &rv.set);
                        }
                        or_raw(sum, at);
                    } else {
                        longest = longest.max(t.len());
                        add_all(&mut bytes, &byte_set_of(t));
                        ix.scan(ac, t, sum);
                    }
                };
                if src.multi {
                    let mut seen = Vec::new();
                    crate::eval::transform_values(
                        Cow::Borrowed(v),
                        &src.transforms,
                        true,
                        &mut seen,
                    );
                    for t in &seen {
                        note(t, sum);
                    }
                } else {
                    note(&crate::eval::transform_one(v, &src.transforms), sum);
                }
            });
        }
        if let Some(m) = max_len.get_mut(i) {
            *m = longest;
        }
        if let Some(p) = present.get_mut(i) {
            *p = bytes;
        }
    }
}

/// Calls `f` with every value `target` selects.
fn for_each_value(d: &TxData, target: &Target, mut f: impl FnMut(&[u8])) {
    resolve::resolve_into(d, None, target, &mut each(|item: Item<'_>| f(&item.value)));
}

/// Whether two screened targets read the same values (`Sel::All` or one key).
fn same_target(a: &Target, b: &Target) -> bool {
    a.var == b.var
        && match (&a.sel, &b.sel) {
            (Sel::All, Sel::All) => true,
            (Sel::Key { lower: x, .. }, Sel::Key { lower: y, .. }) => x == y,
            _ => false,
        }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::operators::required::has_byte;
    use crate::transformations::lookup;

    fn chain(names: &[&str]) -> Vec<(String, Transform)> {
        names
            .iter()
            .map(|n| ((*n).to_owned(), lookup(n).unwrap()))
            .collect()
    }

    /// Values made of bytes outside the touch set come out of the chain equal up to ASCII
    /// case (pseudo-random values over the safe bytes, for every chain CRS uses).
    #[test]
    fn touch_sets_hold_up_to_case() {
        let chains: &[&[&str]] = &[
            &["lowercase"],
            &["urlDecodeUni", "lowercase"],
            &["lowercase", "urlDecodeUni"],
            &[
                "utf8toUnicode",
                "urlDecodeUni",
                "htmlEntityDecode",
                "jsDecode",
                "cssDecode",
                "removeNulls",
            ],
            &["urlDecodeUni", "htmlEntityDecode", "lowercase"],
            &["lowercase", "jsDecode"],
            &["cmdLine"],
            &["removeWhitespace", "lowercase"],
            &["compressWhitespace"],
            &["normalizePath", "lowercase"],
        ];
        let mut next = crate::util::xorshift(0x2545_f491_4f6c_dd1d);
        for names in chains {
            let c = chain(names);
            let touch = touch_set(&c);
            let safe: Vec<u8> = (0u8..=255).filter(|b| !has_byte(&touch, *b)).collect();
            if safe.is_empty() {
                continue;
            }
            for _ in 0..3000 {
                let len = (next() % 40) as usize;
                let v: Vec<u8> = (0..len)
                    .map(|_| safe[(next() as usize) % safe.len()])
                    .collect();
                let out = crate::eval::transform_one(&v, &c);
                assert!(
                    out.eq_ignore_ascii_case(&v),
                    "{names:?} changes {v:?} into {out:?}"
                );
            }
        }
        // `lowercase` then `jsDecode`: `\N` decodes to `N` but `\n` to a newline, so
        // backslash stays unsafe and so do letters whose lower case another step touches.
        let t = touch_set(&chain(&["lowercase", "jsDecode"]));
        assert!(has_byte(&t, b'\\'));
        assert!(!has_byte(&t, b'A'));
    }
}
