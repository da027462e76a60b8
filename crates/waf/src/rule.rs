//! Compiled rules: targets, operator, transformations and actions, linked into chains.

use std::sync::Arc;

use seclang::ast::Span;

use crate::actions::{Actions, Disruptive, TransformStep};
use crate::macros::Template;
use crate::operators::Operator;
use crate::transformations::Transform;
use crate::variables::{Exclusion, Target};

/// A compiled operator with its negation and (optional) macro argument.
#[derive(Debug)]
pub struct RuleOperator {
    /// The operator (shared between rules with the same operator and argument).
    pub op: Arc<dyn Operator>,
    /// `!@op`.
    pub negated: bool,
    /// Lower-cased operator name.
    #[allow(dead_code)]
    pub name: String,
    /// The argument template, when it contains macros (expanded per evaluation).
    pub macro_arg: Option<Template>,
}

/// One compiled rule (or one link of a chain).
#[derive(Debug)]
pub struct Rule {
    /// The chain starter's id (chain links share it).
    pub id: u64,
    /// Phase 1-5.
    pub phase: u8,
    /// Where the rule is written.
    pub span: Span,
    /// Targets, in order.
    pub targets: Vec<Target>,
    /// `!VAR` exclusions (including those from SecRuleUpdateTargetBy*).
    pub exclusions: Vec<Exclusion>,
    /// The operator; `None` for `SecAction` (always matches once).
    pub operator: Option<RuleOperator>,
    /// Effective transformations (defaults merged, `t:none` applied).
    pub transforms: Vec<(String, Transform)>,
    /// Interned id of the transformation chain, for the transformation cache.
    pub transform_chain_id: u32,
    /// Bytes the transformation chain never changes ([`crate::transformations::identity_bytes`]):
    /// a value made only of them is evaluated as it is, with no transformation or cache
    /// lookup. `None` when the chain may change any value.
    pub transform_identity: Option<Box<crate::transformations::IdentityBytes>>,
    /// The rule's own parsed actions.
    pub actions: Actions,
    /// Effective `log` (rule, else SecDefaultAction, else true).
    pub log: bool,
    /// Effective disruptive action after `block` and SecDefaultAction resolution.
    pub disruptive: Option<Disruptive>,
    /// Effective `status` for deny/redirect.
    pub status: Option<u16>,
    /// The next link of the chain.
    pub chain: Option<Box<Rule>>,
    /// The SecDefaultAction in force for this rule's phase when it was defined.
    pub defaults: Option<Arc<Actions>>,
}

impl Rule {
    /// Whether any link carries tag `tag` (exact, case-sensitive).
    pub fn has_tag(&self, tag: &str) -> bool {
        self.actions.tags.iter().any(|t| t == tag)
    }

    /// The message template text, if literal (used by *ByMsg matching).
    pub fn msg_text(&self) -> Option<String> {
        self.actions.msg.as_ref().map(|m| {
            m.parts
                .iter()
                .map(|p| match p {
                    crate::macros::Part::Lit(s) => s.clone(),
                    crate::macros::Part::Var { .. } => String::new(),
                })
                .collect()
        })
    }

    /// Computes effective transformations, log flag and disruptive action from the rule's
    /// own actions and its SecDefaultAction.
    pub fn finalize(&mut self) {
        let defaults = self.defaults.clone();
        let mut steps: Vec<&TransformStep> = Vec::new();
        if let Some(d) = &defaults {
            steps.extend(d.transforms.iter());
        }
        steps.extend(self.actions.transforms.iter());
        let start = steps
            .iter()
            .rposition(|s| s.func.is_none())
            .map_or(0, |p| p + 1);
        self.transforms = steps
            .get(start..)
            .unwrap_or_default()
            .iter()
            .filter_map(|s| s.func.map(|f| (s.name.clone(), f)))
            .collect();
        // libmodsecurity v3 writes no error-log line for `nolog` nor for `noauditlog` rules.
        self.log = self
            .actions
            .log
            .or(defaults.as_ref().and_then(|d| d.log))
            .unwrap_or(true)
            && self.actions.auditlog != Some(false);
        let default_disruptive = defaults.as_ref().and_then(|d| d.disruptive);
        self.disruptive = match self.actions.disruptive {
            Some(d) => Some(d),
            None if self.actions.block || defaults.as_ref().is_some_and(|d| d.block) => {
                default_disruptive
            }
            None => None,
        };
        self.status = self
            .actions
            .status
            .or(defaults.as_ref().and_then(|d| d.status));
        if let Some(c) = self.chain.as_mut() {
            c.finalize();
        }
    }
}
