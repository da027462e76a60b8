//! Actions: the `"id:1,phase:2,deny,..."` part of a rule, parsed into [`Actions`].
//!
//! Each group of related actions lives in its own file with its table test:
//! - `meta.rs`: id, phase, msg, logdata, tag, severity, ver, rev, maturity, accuracy;
//! - `flow.rs`: chain, skip, skipAfter, capture, multiMatch, log, nolog, auditlog, noauditlog, t;
//! - `disruptive.rs`: pass, block, deny, drop, allow, redirect, status, pause;
//! - `setvar.rs`: setvar (and its macro templates);
//! - `ctl.rs`: ctl (run-time configuration changes);
//! - `misc.rs`: setenv, expirevar, initcol, setuid, setsid, sanitise*, xmlns (accepted), exec,
//!   append, prepend (rejected: unsupported).

mod ctl;
mod disruptive;
mod flow;
mod meta;
mod misc;
mod setvar;

pub use ctl::{BodyProcessor, Ctl};
pub use disruptive::{AllowScope, Disruptive};
pub use setvar::{SetOp, SetVar};

use seclang::ast::Action;

use crate::error::CompileError;
use crate::macros::Template;
use crate::transformations::Transform;

/// One `t:` entry; `None` is `t:none` (clears what came before).
#[derive(Debug, Clone)]
pub struct TransformStep {
    /// Lower-cased transformation name (`none` for the reset).
    pub name: String,
    /// The function, `None` for `t:none`.
    pub func: Option<Transform>,
}

/// Everything a rule's action list says, parsed.
#[derive(Debug, Clone, Default)]
pub struct Actions {
    /// `id:`.
    pub id: Option<u64>,
    /// `phase:` (1-5).
    pub phase: Option<u8>,
    /// `msg:` template.
    pub msg: Option<Template>,
    /// `logdata:` template.
    pub logdata: Option<Template>,
    /// `tag:` values (macros are not expanded in tags).
    pub tags: Vec<String>,
    /// `severity:` as a number 0-7.
    pub severity: Option<u8>,
    /// `ver:`.
    pub ver: Option<String>,
    /// `rev:`.
    pub rev: Option<String>,
    /// `maturity:`.
    pub maturity: Option<u8>,
    /// `accuracy:`.
    pub accuracy: Option<u8>,
    /// `chain`.
    pub chain: bool,
    /// `skip:N`.
    pub skip: u32,
    /// `skipAfter:MARKER`.
    pub skip_after: Option<String>,
    /// `capture`.
    pub capture: bool,
    /// `multiMatch`.
    pub multi_match: bool,
    /// `log` / `nolog`.
    pub log: Option<bool>,
    /// `auditlog` / `noauditlog`.
    pub auditlog: Option<bool>,
    /// `t:` steps in order.
    pub transforms: Vec<TransformStep>,
    /// Explicit disruptive action.
    pub disruptive: Option<Disruptive>,
    /// `block`: use SecDefaultAction's disruptive action.
    pub block: bool,
    /// `status:`.
    pub status: Option<u16>,
    /// `redirect:` target template (also sets `disruptive`).
    pub redirect: Option<Template>,
    /// `setvar:` in order.
    pub setvars: Vec<SetVar>,
    /// `setenv:` name and value templates.
    pub setenvs: Vec<(String, Template)>,
    /// `ctl:` in order.
    pub ctls: Vec<Ctl>,
}

impl Actions {
    /// Parses a list of AST actions.
    pub fn parse(list: &[Action]) -> Result<Actions, CompileError> {
        let mut a = Actions::default();
        for action in list {
            a.apply(action)?;
        }
        Ok(a)
    }

    /// Applies one action to `self`.
    pub fn apply(&mut self, action: &Action) -> Result<(), CompileError> {
        let name = action.name.to_ascii_lowercase();
        let value = action.value.as_deref();
        let handled = meta::apply(self, &name, value)
            .or_else(|| flow::apply(self, &name, value))
            .or_else(|| disruptive::apply(self, &name, value))
            .or_else(|| setvar::apply(self, &name, value))
            .or_else(|| ctl::apply(self, &name, value))
            .or_else(|| misc::apply(self, &name, value));
        match handled {
            Some(Ok(())) => Ok(()),
            Some(Err(reason)) => Err(CompileError::new(
                &action.span,
                format!("action {}: {reason}", action.name),
            )),
            None => Err(CompileError::new(
                &action.span,
                format!("unknown action {}", action.name),
            )),
        }
    }
}

/// Requires a value for an action.
pub(crate) fn need(value: Option<&str>) -> Result<&str, String> {
    value.ok_or_else(|| "missing value".to_owned())
}
