//! The compiled, immutable rule set shared by all transactions.

use std::sync::Arc;

use seclang::ast::Directive;
use seclang::loader::FileLoader;

use crate::config::{Config, EngineMode};
use crate::error::CompileError;
use crate::rule::Rule;
use crate::transaction::Transaction;

/// One entry of a phase's evaluation list.
#[derive(Debug, Clone)]
pub(crate) enum Entry {
    /// Index into [`RuleSet::rules`].
    Rule(usize),
    /// A `SecMarker` (present in every phase, as in ModSecurity v3).
    Marker(Arc<str>),
}

/// A compiled rule set: immutable, `Send + Sync`, shared as `Arc<RuleSet>`.
#[derive(Debug)]
pub struct RuleSet {
    pub(crate) rules: Vec<Rule>,
    /// Per phase (index 1..=5) evaluation lists, in source order.
    pub(crate) phases: [Vec<Entry>; 6],
    pub(crate) config: Config,
    /// Rule screening tables ([`crate::screen`]).
    pub(crate) screen: crate::screen::ScreenIndex,
}

impl RuleSet {
    pub(crate) fn new(rules: Vec<Rule>, order: Vec<Entry>, config: Config) -> RuleSet {
        let mut phases: [Vec<Entry>; 6] = Default::default();
        for e in order {
            match &e {
                Entry::Rule(i) => {
                    let phase = rules.get(*i).map_or(2, |r| usize::from(r.phase));
                    if let Some(list) = phases.get_mut(phase) {
                        list.push(e);
                    }
                }
                Entry::Marker(_) => {
                    for list in phases.iter_mut().skip(1) {
                        list.push(e.clone());
                    }
                }
            }
        }
        let screen = crate::screen::ScreenIndex::build(&rules);
        RuleSet {
            rules,
            phases,
            config,
            screen,
        }
    }

    /// Compiles parsed directives (`seclang::parse_file` / `parse_str` output). Data files
    /// for `@pmFromFile` etc. are read through `loader`, relative to each rule's file.
    pub fn compile(
        directives: &[Directive],
        loader: &dyn FileLoader,
    ) -> Result<RuleSet, CompileError> {
        crate::compiler::compile(directives, loader)
    }

    /// Starts a transaction.
    pub fn transaction(self: &Arc<Self>) -> Transaction {
        Transaction::new(Arc::clone(self))
    }

    /// Overrides `SecRuleEngine` (e.g. DetectionOnly for the regression suite).
    pub fn set_engine_mode(&mut self, mode: EngineMode) {
        self.config.engine = mode;
    }

    /// The engine mode in force.
    pub fn engine_mode(&self) -> EngineMode {
        self.config.engine
    }

    /// The configuration directives' effect.
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// Compiles now everything deferred to first use (`@rx` regexes, `@pm` automata), for
    /// callers that prefer paying at load time over a slower first request (compilation is
    /// lazy by default: at paranoia level 1 most CRS regexes are never needed). Idempotent.
    pub fn precompile(&self) {
        self.screen.precompile();
        for rule in &self.rules {
            let mut link = Some(rule);
            while let Some(l) = link {
                if let Some(op) = &l.operator {
                    op.op.precompile();
                }
                link = l.chain.as_deref();
            }
        }
    }

    /// Number of rules screened before evaluation (see `screen.rs`).
    pub fn screened_rule_count(&self) -> usize {
        self.screen.screened_rules()
    }

    /// Number of compiled rules (chain starters).
    pub fn rule_count(&self) -> usize {
        self.rules.len()
    }

    /// Ids of the compiled rules in source order.
    pub fn rule_ids(&self) -> impl Iterator<Item = u64> + '_ {
        self.rules.iter().map(|r| r.id)
    }
}
