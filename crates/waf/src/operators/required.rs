//! Required literals of a regular expression: a set of byte strings such that every match
//! contains at least one of them. An input holding none of them cannot match, so `@rx`
//! answers it without running the regex (most CRS patterns look for quotes, keywords or
//! brackets that ordinary parameter values do not hold).
//!
//! The analysis walks the pattern's syntax tree (the same tree the regex is compiled from)
//! and is conservative: wherever it cannot prove a literal is required it gives up, and the
//! caller then always runs the regex. Literals are lower-cased and looked up ASCII-case-
//! insensitively, so case-insensitive patterns (`(?i)`) are covered and case-sensitive
//! ones only lose a little selectivity. Sets that would not filter ordinary input (a lone
//! letter or digit, say) are not used.

use aho_corasick::{AhoCorasick, AhoCorasickBuilder, AhoCorasickKind, MatchKind};
use regex_syntax::hir::{Class, Hir, HirKind};

/// More alternatives than this and the analysis gives up (the automaton would grow large
/// for little gain).
const MAX_SET: usize = 4096;
/// A class with more members than this is not a useful requirement.
const MAX_CLASS: usize = 16;

/// What the analysis knows about one node.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Need {
    /// Nothing: the node can match without any particular literal (or we cannot tell).
    Any,
    /// Every match of the node contains one of these (lower-cased, non-empty) strings.
    Set(Vec<Vec<u8>>),
}

/// A compiled requirement: `matches` is false only when the input cannot match.
#[derive(Debug)]
pub(crate) enum Required {
    /// Every literal is one byte: a table lookup per input byte.
    Bytes(Box<[bool; 256]>),
    /// Longer literals: one automaton pass.
    Automaton(AhoCorasick),
}

impl Required {
    /// Builds the screen for `literals` (as [`literals`] returns them).
    pub(crate) fn build(literals: &[Vec<u8>]) -> Option<Required> {
        if literals.iter().all(|l| l.len() == 1) {
            let mut table = Box::new([false; 256]);
            for l in literals {
                for b in l {
                    table[usize::from(b.to_ascii_lowercase())] = true;
                    table[usize::from(b.to_ascii_uppercase())] = true;
                }
            }
            return Some(Required::Bytes(table));
        }
        AhoCorasickBuilder::new()
            .ascii_case_insensitive(true)
            .match_kind(MatchKind::Standard)
            .kind(Some(AhoCorasickKind::DFA))
            .prefilter(false)
            .build(literals)
            .ok()
            .map(Required::Automaton)
    }

    /// The screen for a byte set ([`bytes`]), both ASCII cases of its letters included.
    pub(crate) fn from_bytes(set: &ByteSet) -> Required {
        let set = case_closed(set);
        let mut table = Box::new([false; 256]);
        for b in 0u8..=255 {
            table[usize::from(b)] = has_byte(&set, b);
        }
        Required::Bytes(table)
    }

    /// Whether `input` holds one of the required literals.
    pub(crate) fn matches(&self, input: &[u8]) -> bool {
        match self {
            Required::Bytes(table) => input.iter().any(|b| table[usize::from(*b)]),
            Required::Automaton(a) => a.is_match(input),
        }
    }
}

/// The required literals of `hir`, or `None` when there is no useful set.
pub(crate) fn literals(hir: &Hir) -> Option<Vec<Vec<u8>>> {
    match need(hir) {
        Need::Set(set) if !set.is_empty() && set.iter().all(|l| weight(l) > 0) => Some(set),
        _ => None,
    }
}

/// How selective a literal is on ordinary input: its length, except that a single letter,
/// digit or white space character filters nothing.
fn weight(lit: &[u8]) -> usize {
    match lit {
        [] => 0,
        [b] if b.is_ascii_alphanumeric() || b.is_ascii_whitespace() => 0,
        _ => lit.len(),
    }
}

/// The weakest member decides how well a set filters.
fn score(set: &[Vec<u8>]) -> (usize, std::cmp::Reverse<usize>) {
    let w = set.iter().map(|l| weight(l)).min().unwrap_or(0);
    (w, std::cmp::Reverse(set.len()))
}

/// The single byte (lower-cased) a node always matches, if it is one: a one-byte literal,
/// or a class holding one byte or one ASCII letter in both cases.
fn single(hir: &Hir) -> Option<u8> {
    match hir.kind() {
        HirKind::Literal(l) => match &*l.0 {
            [b] => Some(b.to_ascii_lowercase()),
            _ => None,
        },
        HirKind::Class(c) => {
            let bytes = class_bytes(c)?;
            match bytes.as_slice() {
                [b] => Some(*b),
                _ => None,
            }
        }
        _ => None,
    }
}

/// The distinct lower-cased bytes of a class, when there are at most [`MAX_CLASS`].
fn class_bytes(c: &Class) -> Option<Vec<u8>> {
    let mut out: Vec<u8> = Vec::new();
    match c {
        Class::Bytes(b) => {
            for r in b.iter() {
                let (lo, hi) = (r.start(), r.end());
                if usize::from(hi - lo) >= MAX_CLASS * 2 {
                    return None;
                }
                for x in lo..=hi {
                    let l = x.to_ascii_lowercase();
                    if !out.contains(&l) {
                        out.push(l);
                    }
                }
                if out.len() > MAX_CLASS {
                    return None;
                }
            }
        }
        Class::Unicode(u) => {
            for r in u.iter() {
                let (lo, hi) = (u32::from(r.start()), u32::from(r.end()));
                // Only ASCII is handled (Unicode classes only appear for `(?u)` patterns).
                if hi > 0x7f || hi - lo >= (MAX_CLASS * 2) as u32 {
                    return None;
                }
                for x in lo..=hi {
                    let l = u8::try_from(x).ok()?.to_ascii_lowercase();
                    if !out.contains(&l) {
                        out.push(l);
                    }
                }
                if out.len() > MAX_CLASS {
                    return None;
                }
            }
        }
    }
    Some(out)
}

fn need(hir: &Hir) -> Need {
    match hir.kind() {
        HirKind::Empty | HirKind::Look(_) => Need::Any,
        HirKind::Literal(l) => {
            if l.0.is_empty() {
                Need::Any
            } else {
                Need::Set(vec![l.0.to_ascii_lowercase()])
            }
        }
        HirKind::Class(c) => match class_bytes(c) {
            Some(bytes) if !bytes.is_empty() => {
                Need::Set(bytes.into_iter().map(|b| vec![b]).collect())
            }
            _ => Need::Any,
        },
        HirKind::Repetition(r) => {
            if r.min == 0 {
                Need::Any
            } else {
                need(&r.sub)
            }
        }
        HirKind::Capture(c) => need(&c.sub),
        HirKind::Concat(children) => concat(children),
        HirKind::Alternation(children) => {
            let mut set: Vec<Vec<u8>> = Vec::new();
            for c in children {
                match need(c) {
                    Need::Any => return Need::Any,
                    Need::Set(s) => {
                        for l in s {
                            if !set.contains(&l) {
                                set.push(l);
                            }
                        }
                    }
                }
                if set.len() > MAX_SET {
                    return Need::Any;
                }
            }
            Need::Set(set)
        }
    }
}

/// A concatenation requires what its most selective part requires. Runs of single
/// characters (`u`, `[Nn]`, ...) are first joined into one literal, so `(?i)union` is the
/// literal `union` rather than five one-letter classes.
fn concat(children: &[Hir]) -> Need {
    let mut best: Option<Vec<Vec<u8>>> = None;
    let offer = |set: Vec<Vec<u8>>, best: &mut Option<Vec<Vec<u8>>>| {
        if best.as_ref().is_none_or(|b| score(&set) > score(b)) {
            *best = Some(set);
        }
    };
    let mut run: Vec<u8> = Vec::new();
    for c in children {
        if let Some(b) = single(c) {
            run.push(b);
            continue;
        }
        if let HirKind::Literal(l) = c.kind() {
            run.extend(l.0.iter().map(u8::to_ascii_lowercase));
            continue;
        }
        if !run.is_empty() {
            offer(vec![std::mem::take(&mut run)], &mut best);
        }
        if let Need::Set(s) = need(c) {
            offer(s, &mut best);
        }
    }
    if !run.is_empty() {
        offer(vec![run], &mut best);
    }
    best.map_or(Need::Any, Need::Set)
}

/// Bytes ordinary text seldom holds: everything but ASCII letters, digits, white space and
/// `.`, `,`, `-`, `_`, `/`, `:`, `@`, `+`. See [`bytes`].
fn rare_bytes() -> ByteSet {
    let mut set = [0u64; 4];
    for b in 0u8..=255 {
        let common = b.is_ascii_alphanumeric()
            || b.is_ascii_whitespace()
            || matches!(b, b'.' | b',' | b'-' | b'_' | b'/' | b':' | b'@' | b'+');
        if !common {
            add_byte(&mut set, b);
        }
    }
    set
}

/// A set of bytes, bit `b` of word `b / 64` for byte `b`.
pub(crate) type ByteSet = [u64; 4];

/// Adds `b` to `set`.
pub(crate) fn add_byte(set: &mut ByteSet, b: u8) {
    set[usize::from(b >> 6)] |= 1u64 << (b & 63);
}

/// Adds every byte of `other` to `set`.
pub(crate) fn add_all(set: &mut ByteSet, other: &ByteSet) {
    for (w, x) in set.iter_mut().zip(other) {
        *w |= x;
    }
}

/// Whether `a` and `b` share a byte.
pub(crate) fn intersects(a: &ByteSet, b: &ByteSet) -> bool {
    a.iter().zip(b).any(|(x, y)| x & y != 0)
}

/// The bytes `v` holds.
pub(crate) fn byte_set_of(v: &[u8]) -> ByteSet {
    let mut set = [0u64; 4];
    for &b in v {
        add_byte(&mut set, b);
    }
    set
}

/// Whether `set` holds `b`.
pub(crate) fn has_byte(set: &ByteSet, b: u8) -> bool {
    set[usize::from(b >> 6)] & (1u64 << (b & 63)) != 0
}

/// `set` with both ASCII cases of every letter it holds.
pub(crate) fn case_closed(set: &ByteSet) -> ByteSet {
    let mut out = *set;
    for b in b'a'..=b'z' {
        if has_byte(set, b) || has_byte(set, b.to_ascii_uppercase()) {
            add_byte(&mut out, b);
            add_byte(&mut out, b.to_ascii_uppercase());
        }
    }
    out
}

/// How often ordinary parameter values and headers hold `b` (a rough weight: letters and
/// digits everywhere, white space often, punctuation seldom).
fn byte_cost(b: u8) -> u32 {
    if b.is_ascii_alphanumeric() {
        1000
    } else if b == b' ' {
        200
    } else if matches!(b, b'.' | b'-' | b'_' | b',' | b'/' | b':' | b'@' | b'+') {
        40
    } else {
        4
    }
}

/// The bytes of one [`byte_cost`] class: 0 letters and digits, 1 space, 2 common
/// punctuation, 3 the rest.
const fn cost_class(kind: u8) -> ByteSet {
    let mut m = [0u64; 4];
    let mut b = 0usize;
    while b < 256 {
        let c = b as u8;
        let k = if c.is_ascii_alphanumeric() {
            0
        } else if c == b' ' {
            1
        } else if matches!(c, b'.' | b'-' | b'_' | b',' | b'/' | b':' | b'@' | b'+') {
            2
        } else {
            3
        };
        if k == kind {
            m[b / 64] |= 1u64 << (b % 64);
        }
        b += 1;
    }
    m
}

/// [`byte_cost`] by class, for [`set_cost`].
const COST_CLASSES: [(ByteSet, u32); 4] = [
    (cost_class(0), 1000),
    (cost_class(1), 200),
    (cost_class(2), 40),
    (cost_class(3), 4),
];

/// The sum of [`byte_cost`] over `set` (four masked population counts).
fn set_cost(set: &ByteSet) -> u32 {
    COST_CLASSES
        .iter()
        .map(|(mask, w)| {
            let n: u32 = set
                .iter()
                .zip(mask)
                .map(|(a, b)| (a & b).count_ones())
                .sum();
            n * w
        })
        .sum()
}

/// Byte sets costing this much or more ([`byte_cost`]: about ten letters) are not used.
const MAX_BYTE_SET_COST: u32 = 10_000;

/// A set of bytes one of which every match of `hir` contains, chosen to be as rare in
/// ordinary input as the pattern allows, or `None` when there is no useful one (ten
/// letters or more, or the analysis cannot tell). Weaker than [`literals`] but it applies
/// where that finds nothing: CRS's command-injection patterns allow quotes between any
/// two letters of a command name, but every match still holds a separator such as `;`,
/// `|` or white space. Two candidates: the pattern's own, and the set of the pattern
/// restricted to inputs without [`rare_bytes`] ([`restricted_need`]) plus those bytes: every
/// match either holds a rare byte or is a match of the restricted pattern. CRS's
/// command-injection patterns allow quotes, backslashes and `$VAR` expansions between any
/// two letters of a command name; without those bytes they reduce to plain command names
/// and their terminators, whose bytes screen well.
pub(crate) fn bytes(hir: &Hir) -> Option<ByteSet> {
    let plain = byte_need(hir);
    if plain.is_some_and(|p| set_cost(&p) < byte_cost(b'a')) {
        // No letter or digit: the restricted candidate, which holds every rare byte, cannot
        // be cheaper.
        return plain;
    }
    let rare = rare_bytes();
    let restricted = match restricted_need(hir, &rare) {
        Restricted::Impossible => Some(rare),
        Restricted::Need(n) => n.map(|s| {
            let mut u = rare;
            add_all(&mut u, &s);
            u
        }),
    };
    [plain, restricted]
        .into_iter()
        .flatten()
        .min_by_key(set_cost)
        .filter(|s| set_cost(s) < MAX_BYTE_SET_COST)
}

/// What [`byte_need`] says of a pattern restricted to inputs holding no `excluded` byte.
enum Restricted {
    /// No match of the node avoids the excluded bytes.
    Impossible,
    /// The restricted node's required byte set (`None`: none).
    Need(Option<ByteSet>),
}

/// [`byte_need`] of `hir` restricted to inputs without `excluded` bytes, computed on the
/// original tree: classes lose the excluded bytes, a literal holding one cannot match, and
/// an alternative or repetition that cannot match without them drops out.
fn restricted_need(hir: &Hir, excluded: &ByteSet) -> Restricted {
    match hir.kind() {
        HirKind::Empty | HirKind::Look(_) => Restricted::Need(None),
        HirKind::Literal(l) => {
            if l.0.iter().any(|b| has_byte(excluded, *b)) {
                Restricted::Impossible
            } else {
                Restricted::Need(byte_need(hir))
            }
        }
        HirKind::Class(c) => {
            let mut set = class_set(c);
            if matches!(c, Class::Unicode(_)) {
                // Non-ASCII members stay (their UTF-8 bytes are not tracked one by one).
                return Restricted::Need(Some(set));
            }
            for (w, x) in set.iter_mut().zip(excluded) {
                *w &= !x;
            }
            if set == [0u64; 4] {
                Restricted::Impossible
            } else {
                Restricted::Need(Some(set))
            }
        }
        HirKind::Repetition(r) => match restricted_need(&r.sub, excluded) {
            Restricted::Impossible if r.min == 0 => Restricted::Need(None),
            Restricted::Impossible => Restricted::Impossible,
            Restricted::Need(_) if r.min == 0 => Restricted::Need(None),
            need => need,
        },
        HirKind::Capture(c) => restricted_need(&c.sub, excluded),
        HirKind::Concat(children) => {
            let mut best: Option<ByteSet> = None;
            for c in children {
                match restricted_need(c, excluded) {
                    Restricted::Impossible => return Restricted::Impossible,
                    Restricted::Need(Some(s)) => {
                        if best.is_none_or(|b| set_cost(&s) < set_cost(&b)) {
                            best = Some(s);
                        }
                    }
                    Restricted::Need(None) => {}
                }
            }
            Restricted::Need(best)
        }
        HirKind::Alternation(children) => {
            let mut union = [0u64; 4];
            let mut any = false;
            let mut unknown = false;
            for c in children {
                match restricted_need(c, excluded) {
                    Restricted::Impossible => {}
                    Restricted::Need(Some(s)) => {
                        any = true;
                        add_all(&mut union, &s);
                    }
                    Restricted::Need(None) => {
                        any = true;
                        unknown = true;
                    }
                }
            }
            match (any, unknown) {
                (false, _) => Restricted::Impossible,
                (true, true) => Restricted::Need(None),
                (true, false) => Restricted::Need(Some(union)),
            }
        }
    }
}

fn class_set(c: &Class) -> ByteSet {
    let mut set = [0u64; 4];
    match c {
        Class::Bytes(b) => {
            for r in b.iter() {
                for x in r.start()..=r.end() {
                    add_byte(&mut set, x);
                }
            }
        }
        Class::Unicode(u) => {
            for r in u.iter() {
                let (lo, hi) = (u32::from(r.start()), u32::from(r.end()));
                for x in lo..=hi.min(0x7f) {
                    if let Ok(b) = u8::try_from(x) {
                        add_byte(&mut set, b);
                    }
                }
                if hi > 0x7f {
                    // A non-ASCII character is encoded with bytes 0x80 and above only.
                    for b in 0x80..=0xffu8 {
                        add_byte(&mut set, b);
                    }
                }
            }
        }
    }
    set
}

fn byte_need(hir: &Hir) -> Option<ByteSet> {
    match hir.kind() {
        HirKind::Empty | HirKind::Look(_) => None,
        HirKind::Literal(l) => {
            // Every byte of the literal is required: the rarest one is the best choice.
            let b = l.0.iter().copied().min_by_key(|b| byte_cost(*b))?;
            let mut set = [0u64; 4];
            add_byte(&mut set, b);
            Some(set)
        }
        HirKind::Class(c) => {
            let set = class_set(c);
            (set != [0u64; 4]).then_some(set)
        }
        HirKind::Repetition(r) => {
            if r.min == 0 {
                None
            } else {
                byte_need(&r.sub)
            }
        }
        HirKind::Capture(c) => byte_need(&c.sub),
        HirKind::Concat(children) => children.iter().filter_map(byte_need).min_by_key(set_cost),
        HirKind::Alternation(children) => {
            let mut set = [0u64; 4];
            for c in children {
                let s = byte_need(c)?;
                add_all(&mut set, &s);
            }
            Some(set)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lits(pattern: &str) -> Option<Vec<String>> {
        let hir = regex_syntax::ParserBuilder::new()
            .unicode(false)
            .utf8(false)
            .dot_matches_new_line(true)
            .multi_line(true)
            .build()
            .parse(pattern)
            .unwrap();
        literals(&hir).map(|v| {
            let mut v: Vec<String> = v
                .into_iter()
                .map(|l| String::from_utf8(l).unwrap())
                .collect();
            v.sort();
            v
        })
    }

    fn set(items: &[&str]) -> Option<Vec<String>> {
        let mut v: Vec<String> = items.iter().map(|s| (*s).to_owned()).collect();
        v.sort();
        Some(v)
    }

    #[test]
    fn table() {
        let cases: &[(&str, Option<Vec<String>>)] = &[
            ("union", set(&["union"])),
            ("(?i)union\\s+select", set(&["select"])),
            ("(?i)\\b(?:union|select)\\b", set(&["select", "union"])),
            ("a(?:bc|de)", set(&["abc", "ade"]).or(set(&["bc", "de"]))),
            ("['\"]", set(&["\"", "'"])),
            ("[a-z]+", None),
            ("x*", None),
            ("foo|.*", None),
            ("^$", None),
            ("a", None),
            ("<script", set(&["<script"])),
            ("(?:x|y)=", set(&["="])),
            ("(ab)+c", set(&["ab"])),
        ];
        for (p, want) in cases {
            let got = lits(p);
            if *p == "a(?:bc|de)" {
                assert!(
                    got == set(&["abc", "ade"]) || got == set(&["bc", "de"]),
                    "{p}: {got:?}"
                );
            } else {
                assert_eq!(&got, want, "{p}");
            }
        }
    }

    /// The ASCII members of the pattern's byte set, followed by `+rare` when it includes
    /// every byte of [`rare_bytes`] (the restricted candidate; CRS's command-injection
    /// patterns take it, checked by `byte_sets_never_hide_a_crs_match`).
    fn byte_set(pattern: &str) -> Option<String> {
        let hir = regex_syntax::ParserBuilder::new()
            .unicode(false)
            .utf8(false)
            .dot_matches_new_line(true)
            .build()
            .parse(pattern)
            .unwrap();
        bytes(&hir).map(|set| {
            let rare = rare_bytes();
            let with_rare = (0u8..=255).all(|b| !has_byte(&rare, b) || has_byte(&set, b));
            let mut shown: String = (0u8..=127)
                .filter(|b| has_byte(&set, *b) && !(with_rare && has_byte(&rare, *b)))
                .map(char::from)
                .collect();
            if with_rare {
                shown.push_str("+rare");
            }
            shown
        })
    }

    #[test]
    fn byte_table() {
        let cases: &[(&str, Option<&str>)] = &[
            // The rarest byte of a literal.
            ("union select", Some(" ")),
            ("a;b", Some(";")),
            // Alternation: the union of its branches.
            ("(?:[;|]|&&)ls", Some("&;|")),
            // Concatenation: its rarest part.
            ("[a-z]+[<>]", Some("<>")),
            ("(?i)cat[\\s;]", Some("\t\n\x0b\x0c\r ;")),
            // Letters are used when there is nothing rarer (up to about ten).
            ("(?i)select", Some("Ss")),
            ("x|;", Some(";x")),
            // Nothing useful to require.
            ("[a-z]+", None),
            ("(?:;|$)", None),
            ("[;<]?", None),
            (".", None),
        ];
        for (p, want) in cases {
            assert_eq!(byte_set(p).as_deref(), *want, "{p}");
        }
        let closed = case_closed(&[0, 1u64 << (b'a' - 64), 0, 0]);
        assert!(has_byte(&closed, b'a') && has_byte(&closed, b'A'));
    }

    #[test]
    fn never_rejects_a_match() {
        let patterns = [
            "(?i)union\\s+select",
            "(?i)\\b(?:union|select)\\b",
            "['\"]\\s*(?:or|and)",
            "<script",
            "(?i)on(?:load|error)\\s*=",
        ];
        let inputs = [
            "1 UNION  SELECT x",
            "Select",
            "' or 1=1",
            "\" AND",
            "<SCRIPT>",
            "<script>",
            "img onError =x",
            "benign value",
        ];
        for p in patterns {
            let hir = regex_syntax::ParserBuilder::new()
                .unicode(false)
                .utf8(false)
                .build()
                .parse(p)
                .unwrap();
            let re = regex::bytes::RegexBuilder::new(p)
                .unicode(false)
                .build()
                .unwrap();
            let req = literals(&hir).and_then(|l| Required::build(&l)).unwrap();
            for i in inputs {
                if re.is_match(i.as_bytes()) {
                    assert!(req.matches(i.as_bytes()), "{p} on {i}");
                }
            }
            assert!(!req.matches(b"benign value"), "{p}");
        }
    }
}

/// The screen against every `@rx` pattern of the CRS (`../shared/crs`) and every payload of
/// its regression tests, raw and decoded: wherever the regex matches, the screen must let
/// the input through.
#[cfg(test)]
mod crs_soundness {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use std::path::Path;

    use seclang::ast::DirectiveKind;
    use seclang::loader::FsLoader;

    use super::super::pcre::translate;
    use super::super::rx::compile;
    use super::*;
    use crate::transformations;

    fn crs() -> Option<std::path::PathBuf> {
        let dir = Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/crs"));
        dir.join("rules").is_dir().then(|| dir.to_path_buf())
    }

    /// A CRS pattern's syntax tree, parsed as `@rx` parses it (`None`: it needs the
    /// backtracking fallback).
    fn parse(pattern: &str) -> Option<Hir> {
        regex_syntax::ParserBuilder::new()
            .unicode(false)
            .utf8(false)
            .dot_matches_new_line(true)
            .multi_line(true)
            .build()
            .parse(&translate(pattern))
            .ok()
    }

    fn patterns(dir: &Path) -> Vec<String> {
        let mut out = Vec::new();
        let mut files: Vec<_> = std::fs::read_dir(dir.join("rules"))
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|e| e == "conf"))
            .collect();
        files.sort();
        let opts = seclang::Options::default();
        for f in files {
            for d in seclang::parse_file_with(&f, &opts, &FsLoader).unwrap() {
                if let DirectiveKind::Rule(r) = d.kind
                    && r.operator.name.eq_ignore_ascii_case("rx")
                    && !r.operator.argument.contains("%{")
                {
                    out.push(r.operator.argument.clone());
                }
            }
        }
        out
    }

    fn payloads(dir: &Path) -> Vec<Vec<u8>> {
        let mut raw: Vec<Vec<u8>> = Vec::new();
        let mut stack = vec![dir.join("tests/regression/tests")];
        while let Some(d) = stack.pop() {
            for e in std::fs::read_dir(&d).unwrap() {
                let p = e.unwrap().path();
                if p.is_dir() {
                    stack.push(p);
                } else if p.extension().is_some_and(|e| e == "yaml") {
                    for line in std::fs::read_to_string(&p).unwrap().lines() {
                        let t = line.trim_start();
                        for key in ["uri:", "data:", "value:", "- "] {
                            if let Some(v) = t.strip_prefix(key) {
                                let v = v.trim().trim_matches(|c| c == '"' || c == '\'');
                                if !v.is_empty() {
                                    raw.push(v.as_bytes().to_vec());
                                }
                            }
                        }
                    }
                }
            }
        }
        raw.sort();
        raw.dedup();
        let mut all = Vec::with_capacity(raw.len() * 3);
        for r in raw {
            let once = transformations::url_decode_uni(&r).into_owned();
            let twice = transformations::url_decode_uni(&once).into_owned();
            all.push(r);
            all.push(once);
            all.push(twice);
        }
        all.sort();
        all.dedup();
        all
    }

    /// Every CRS pattern's required byte set holds a byte of every input it matches (the
    /// regression suite's payloads, raw and URL-decoded once and twice, and each of them
    /// with its bytes shuffled into random CRS-like noise).
    #[test]
    fn byte_sets_never_hide_a_crs_match() {
        let Some(dir) = crs() else {
            eprintln!("CRS not found beside the repository: skipped");
            return;
        };
        let inputs = payloads(&dir);
        let (mut with_set, mut bytes_only, mut checked) = (0usize, 0usize, 0usize);
        for p in patterns(&dir) {
            let Some(hir) = parse(&p) else {
                continue;
            };
            let Some(set) = bytes(&hir) else {
                continue;
            };
            with_set += 1;
            if literals(&hir).is_none() {
                bytes_only += 1;
                if std::env::var_os("SHOW_BYTE_SETS").is_some() {
                    let shown: String = (0u8..=255)
                        .filter(|b| has_byte(&set, *b))
                        .map(|b| std::ascii::escape_default(b).to_string())
                        .collect();
                    eprintln!(
                        "bytes {shown} for {}",
                        p.chars().take(80).collect::<String>()
                    );
                }
            }
            let set = case_closed(&set);
            let re = compile(&p).expect("CRS pattern compiles");
            for i in &inputs {
                if !i.iter().any(|b| has_byte(&set, *b)) {
                    checked += 1;
                    assert!(
                        !re.is_match(i),
                        "byte set rejects a match: /{p}/ on {:?}",
                        String::from_utf8_lossy(i)
                    );
                }
            }
        }
        eprintln!(
            "{with_set} CRS patterns with a byte set ({bytes_only} without literals), \
             {checked} rejections verified"
        );
        assert!(
            bytes_only > 5,
            "only {bytes_only} patterns gained a byte set"
        );
    }

    #[test]
    fn screen_never_hides_a_crs_match() {
        let Some(dir) = crs() else {
            eprintln!("CRS not found beside the repository: skipped");
            return;
        };
        let inputs = payloads(&dir);
        let mut screened = 0usize;
        let mut checked = 0usize;
        for p in patterns(&dir) {
            let Some(hir) = parse(&p) else {
                continue;
            };
            let Some(lits) = literals(&hir) else {
                if std::env::var_os("SHOW_UNSCREENED").is_some() {
                    eprintln!("unscreened: {}", p.chars().take(150).collect::<String>());
                }
                continue;
            };
            screened += 1;
            let req = Required::build(&lits).expect("screen builds");
            let re = compile(&p).expect("CRS pattern compiles");
            for i in &inputs {
                if !req.matches(i) {
                    checked += 1;
                    assert!(
                        !re.is_match(i),
                        "screen rejects a match: /{p}/ on {:?}",
                        String::from_utf8_lossy(i)
                    );
                }
            }
        }
        eprintln!(
            "{screened} CRS patterns screened, {} inputs, {checked} rejections verified",
            inputs.len()
        );
        assert!(screened > 100, "only {screened} patterns got a screen");
    }
}
