//! A phrase matcher that reproduces ModSecurity's `acmp` Aho-Corasick automaton exactly,
//! quirks included, because `@pm` verdicts and the captured phrase depend on them:
//!
//! - matching is ASCII case-insensitive (C `tolower`);
//! - a node's failure link is the same-letter child of its parent's failure node, or the
//!   root; the failure chain is not searched further, so some occurrences are missed (for
//!   phrases `abde bq dz`, input `abdz` does not match in ModSecurity either);
//! - the first phrase end reached while scanning wins, and when it is found through a
//!   shorter phrase that is a suffix of the current node, the reported text is the current
//!   node's text (for phrases `abcd bc`, input `abcx` reports `abc`);
//! - node texts keep the case of the phrase that created the node.
//!
//! Every match it reports is a real case-insensitive occurrence of some phrase, so a fast
//! standard automaton (`aho-corasick` crate) screens inputs first: no occurrence, no match.

use std::sync::OnceLock;

use aho_corasick::{AhoCorasick, AhoCorasickBuilder, MatchKind};

const NONE: u32 = u32::MAX;

#[derive(Debug, Clone)]
struct Node {
    /// Children sorted by (lower-cased) byte.
    children: Vec<(u8, u32)>,
    fail: u32,
    /// A phrase ends here.
    is_last: bool,
    /// A phrase ends at some node of the failure chain (ModSecurity `o_match`).
    other_match: bool,
    /// Index of the phrase whose prefix is this node's text, and the prefix length.
    text_from: u32,
    depth: u32,
}

/// A compiled phrase set.
#[derive(Debug)]
pub(crate) struct Acmp {
    phrases: Vec<Vec<u8>>,
    nodes: Vec<Node>,
    root_next: Box<[u32; 256]>,
    /// Built on first use: most CRS phrase sets are never evaluated at paranoia level 1,
    /// and building the screens dominated `@pm`/`@pmFromFile` compile time. `None` inside
    /// (the build failed) means "no screen": the exact automaton alone decides.
    screen: OnceLock<Option<AhoCorasick>>,
}

impl Node {
    fn new(text_from: u32, depth: u32) -> Self {
        Self {
            children: Vec::new(),
            fail: 0,
            is_last: false,
            other_match: false,
            text_from,
            depth,
        }
    }

    fn child(&self, letter: u8) -> Option<u32> {
        self.children
            .binary_search_by_key(&letter, |&(l, _)| l)
            .ok()
            .and_then(|i| self.children.get(i))
            .map(|&(_, n)| n)
    }
}

impl Acmp {
    /// Builds the automaton from phrases (empty phrases are ignored, as in ModSecurity).
    pub(crate) fn new(phrases: Vec<Vec<u8>>) -> Result<Self, String> {
        let mut phrases = phrases;
        phrases.retain(|p| !p.is_empty());
        let mut nodes = vec![Node::new(0, 0)];
        for (pi, phrase) in phrases.iter().enumerate() {
            let pi = u32::try_from(pi).map_err(|_| "too many phrases".to_owned())?;
            let mut cur = 0usize;
            for (depth, &b) in phrase.iter().enumerate() {
                let letter = b.to_ascii_lowercase();
                let next = match nodes.get(cur).and_then(|n| n.child(letter)) {
                    Some(n) => n as usize,
                    None => {
                        let id = nodes.len();
                        let idu =
                            u32::try_from(id).map_err(|_| "phrase set too large".to_owned())?;
                        let depth =
                            u32::try_from(depth + 1).map_err(|_| "phrase too long".to_owned())?;
                        nodes.push(Node::new(pi, depth));
                        if let Some(n) = nodes.get_mut(cur) {
                            let pos = n.children.partition_point(|&(l, _)| l < letter);
                            n.children.insert(pos, (letter, idu));
                        }
                        id
                    }
                };
                cur = next;
            }
            if let Some(n) = nodes.get_mut(cur) {
                n.is_last = true;
            }
        }
        // Failure links, level by level.
        let mut level: Vec<(u32, u32, u8)> = Vec::new(); // (node, parent, letter)
        if let Some(root) = nodes.first() {
            level.extend(root.children.iter().map(|&(l, c)| (c, 0, l)));
        }
        while !level.is_empty() {
            let mut next_level = Vec::new();
            for &(node, parent, letter) in &level {
                let fail = if parent == 0 {
                    0
                } else {
                    let pf = nodes.get(parent as usize).map_or(0, |p| p.fail);
                    nodes
                        .get(pf as usize)
                        .and_then(|f| f.child(letter))
                        .unwrap_or(0)
                };
                if let Some(n) = nodes.get_mut(node as usize) {
                    n.fail = fail;
                    next_level.extend(n.children.iter().map(|&(l, c)| (c, node, l)));
                }
            }
            level = next_level;
        }
        // Other-match flags: a phrase end on the failure chain, root excluded.
        for i in 1..nodes.len() {
            let mut om = nodes.get(i).map_or(0, |n| n.fail);
            let mut found = false;
            let mut guard = 0usize;
            while om != 0 && guard <= nodes.len() {
                let Some(n) = nodes.get(om as usize) else {
                    break;
                };
                if n.is_last {
                    found = true;
                    break;
                }
                om = n.fail;
                guard += 1;
            }
            if let Some(n) = nodes.get_mut(i) {
                n.other_match = found;
            }
        }
        let mut root_next = Box::new([NONE; 256]);
        if let Some(root) = nodes.first() {
            for &(l, c) in &root.children {
                root_next[usize::from(l)] = c;
            }
        }
        Ok(Self {
            phrases,
            nodes,
            root_next,
            screen: OnceLock::new(),
        })
    }

    /// Builds the screen now (it is otherwise built on first use).
    /// The phrases, as given.
    pub(crate) fn phrases(&self) -> &[Vec<u8>] {
        &self.phrases
    }

    pub(crate) fn precompile(&self) {
        if !self.phrases.is_empty() {
            let _ = self.screen();
        }
    }

    fn screen(&self) -> Option<&AhoCorasick> {
        self.screen
            .get_or_init(|| {
                AhoCorasickBuilder::new()
                    .ascii_case_insensitive(true)
                    .match_kind(MatchKind::Standard)
                    .build(&self.phrases)
                    .ok()
            })
            .as_ref()
    }

    fn goto(&self, node: u32, letter: u8) -> Option<u32> {
        if node == 0 {
            let n = self.root_next[usize::from(letter)];
            return (n != NONE).then_some(n);
        }
        self.nodes.get(node as usize).and_then(|n| n.child(letter))
    }

    fn text(&self, node: u32) -> &[u8] {
        let Some(n) = self.nodes.get(node as usize) else {
            return &[];
        };
        self.phrases
            .get(n.text_from as usize)
            .and_then(|p| p.get(..n.depth as usize))
            .unwrap_or_default()
    }

    /// ModSecurity's `acmp_process_quick`: the text reported for the first match, if any.
    pub(crate) fn find(&self, input: &[u8]) -> Option<&[u8]> {
        if self.phrases.is_empty() {
            return None;
        }
        if let Some(screen) = self.screen()
            && !screen.is_match(input)
        {
            return None;
        }
        let mut node: u32 = 0;
        for &b in input {
            let letter = b.to_ascii_lowercase();
            let mut go_to;
            loop {
                go_to = self.goto(node, letter);
                if let Some(g) = go_to
                    && self.nodes.get(g as usize).is_some_and(|n| n.is_last)
                {
                    return Some(self.text(g));
                }
                if node == 0 || go_to.is_some() {
                    break;
                }
                node = self.nodes.get(node as usize).map_or(0, |n| n.fail);
            }
            if let Some(g) = go_to {
                node = g;
            }
            if self.nodes.get(node as usize).is_some_and(|n| n.other_match) {
                return Some(self.text(node));
            }
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn set(phrases: &[&str]) -> Acmp {
        Acmp::new(phrases.iter().map(|p| p.as_bytes().to_vec()).collect()).unwrap()
    }

    #[test]
    fn modsecurity_quirks() {
        // (phrases, input, reported text) -- checked against libmodsecurity 3.0.15.
        let cases: &[(&[&str], &str, Option<&str>)] = &[
            (&["a", "bc"], "abc", Some("a")),
            (&["a", "bc"], "xa", Some("a")),
            (&["abde", "bq", "dz"], "abdz", None),
            (&["abcd", "bc"], "abcx", Some("abc")),
            (&["Foo"], "xxFOOxx", Some("Foo")),
            (&["foo"], "fo", None),
            (&[], "anything", None),
            (&["ab", "b"], "ab", Some("ab")),
        ];
        for (phrases, input, want) in cases {
            let acmp = set(phrases);
            let got = acmp.find(input.as_bytes());
            assert_eq!(got, want.map(str::as_bytes), "{phrases:?} {input:?}");
        }
    }
}
