//! Actions: the `"id:1,phase:2,deny,..."` part of a rule, parsed into [`Actions`].
//!
//! One file per SecLang action under `actions/`, each with a doc comment and its own table
//! test. Actions are registered in the static, sorted [`ACTIONS`] table (lower-cased names;
//! lookups are case-insensitive); a unit test checks the table is sorted, unique and covers
//! every action name the `seclang` parser accepts. The British `sanitise*` spellings have
//! American `sanitize*` aliases that share the same handler.

mod accuracy;
mod allow;
mod append;
mod auditlog;
mod block;
mod capture;
mod chain;
mod ctl;
mod deny;
mod deprecatevar;
mod drop;
mod exec;
mod expirevar;
mod id;
mod initcol;
mod log;
mod logdata;
mod maturity;
mod msg;
mod multi_match;
mod noauditlog;
mod nolog;
mod pass;
mod pause;
mod phase;
mod prepend;
mod proxy;
mod redirect;
mod rev;
mod sanitise_arg;
mod sanitise_matched;
mod sanitise_matched_bytes;
mod sanitise_request_header;
mod sanitise_response_header;
mod setenv;
mod setrsc;
mod setsid;
mod setuid;
mod setvar;
mod severity;
mod skip;
mod skip_after;
mod status;
mod t;
mod tag;
mod ver;
mod xmlns;

pub use ctl::{BodyProcessor, Ctl};
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

/// What `allow` lets through.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AllowScope {
    /// `allow`: skip all remaining rules of every phase except logging.
    All,
    /// `allow:phase`: skip the rest of the current phase.
    Phase,
    /// `allow:request`: skip the rest of the request phases (1-2).
    Request,
}

/// A disruptive action.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Disruptive {
    /// Continue.
    Pass,
    /// Stop with `status` (default 403).
    Deny,
    /// Close the connection.
    Drop,
    /// Stop evaluating (see [`AllowScope`]).
    Allow(AllowScope),
    /// Redirect to the rule's `redirect:` URL.
    Redirect,
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

/// Applies one action (its value, if any) to the parsed action list; the error is the reason
/// without the action name (the caller adds it with the source location).
pub type Handler = fn(a: &mut Actions, value: Option<&str>) -> Result<(), String>;

/// All actions, sorted by lower-cased name.
pub static ACTIONS: &[(&str, Handler)] = &[
    ("accuracy", accuracy::apply),
    ("allow", allow::apply),
    ("append", append::apply),
    ("auditlog", auditlog::apply),
    ("block", block::apply),
    ("capture", capture::apply),
    ("chain", chain::apply),
    ("ctl", ctl::apply),
    ("deny", deny::apply),
    ("deprecatevar", deprecatevar::apply),
    ("drop", drop::apply),
    ("exec", exec::apply),
    ("expirevar", expirevar::apply),
    ("id", id::apply),
    ("initcol", initcol::apply),
    ("log", log::apply),
    ("logdata", logdata::apply),
    ("maturity", maturity::apply),
    ("msg", msg::apply),
    ("multimatch", multi_match::apply),
    ("noauditlog", noauditlog::apply),
    ("nolog", nolog::apply),
    ("pass", pass::apply),
    ("pause", pause::apply),
    ("phase", phase::apply),
    ("prepend", prepend::apply),
    ("proxy", proxy::apply),
    ("redirect", redirect::apply),
    ("rev", rev::apply),
    ("sanitisearg", sanitise_arg::apply),
    ("sanitisematched", sanitise_matched::apply),
    ("sanitisematchedbytes", sanitise_matched_bytes::apply),
    ("sanitiserequestheader", sanitise_request_header::apply),
    ("sanitiseresponseheader", sanitise_response_header::apply),
    ("sanitizearg", sanitise_arg::apply),
    ("sanitizematched", sanitise_matched::apply),
    ("sanitizematchedbytes", sanitise_matched_bytes::apply),
    ("sanitizerequestheader", sanitise_request_header::apply),
    ("sanitizeresponseheader", sanitise_response_header::apply),
    ("setenv", setenv::apply),
    ("setrsc", setrsc::apply),
    ("setsid", setsid::apply),
    ("setuid", setuid::apply),
    ("setvar", setvar::apply),
    ("severity", severity::apply),
    ("skip", skip::apply),
    ("skipafter", skip_after::apply),
    ("status", status::apply),
    ("t", t::apply),
    ("tag", tag::apply),
    ("ver", ver::apply),
    ("xmlns", xmlns::apply),
];

/// The handler for action `name` (any case), `None` when no action has this name.
pub fn lookup(name: &str) -> Option<Handler> {
    let lower = name.to_ascii_lowercase();
    ACTIONS
        .binary_search_by(|(n, _)| n.cmp(&lower.as_str()))
        .ok()
        .and_then(|i| ACTIONS.get(i))
        .map(|(_, h)| *h)
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
        let Some(handler) = lookup(&action.name) else {
            return Err(CompileError::new(
                &action.span,
                format!("unknown action {}", action.name),
            ));
        };
        handler(self, action.value.as_deref()).map_err(|reason| {
            CompileError::new(&action.span, format!("action {}: {reason}", action.name))
        })
    }
}

/// Requires a value for an action.
pub(crate) fn need(value: Option<&str>) -> Result<&str, String> {
    value.ok_or_else(|| "missing value".to_owned())
}

/// Sets the rule's explicit disruptive action (the last one written wins).
pub(crate) fn set_disruptive(a: &mut Actions, d: Disruptive) -> Result<(), String> {
    a.disruptive = Some(d);
    Ok(())
}

/// Parses a small unsigned number (`maturity:`, `accuracy:`), white space trimmed.
pub(crate) fn parse_u8(what: &str, v: &str) -> Result<u8, String> {
    v.trim()
        .parse::<u8>()
        .map_err(|_| format!("invalid {what} {v:?}"))
}

#[cfg(test)]
pub(crate) mod test_util {
    //! Helpers shared by the action table tests.
    use super::*;

    /// Applies `name` (any case) with `value` through the [`ACTIONS`] table to a fresh
    /// [`Actions`]; panics when the table has no such action.
    pub(crate) fn run(name: &str, value: Option<&str>) -> (Actions, Result<(), String>) {
        let mut a = Actions::default();
        let r = run_on(&mut a, name, value);
        (a, r)
    }

    /// Applies `name` with `value` through the [`ACTIONS`] table to `a`.
    pub(crate) fn run_on(a: &mut Actions, name: &str, value: Option<&str>) -> Result<(), String> {
        match lookup(name) {
            Some(h) => h(a, value),
            None => panic!("action {name} is not registered"),
        }
    }

    /// Runs `(value, ok)` cases for `name` and checks each verdict.
    pub(crate) fn check_cases(name: &str, cases: &[(Option<&str>, bool)]) {
        for (value, ok) in cases {
            let (_, r) = run(name, *value);
            assert_eq!(r.is_ok(), *ok, "{name} {value:?}: {r:?}");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every action name the `seclang` parser accepts (its private `ACTIONS` table in
    /// `crates/seclang/src/rule.rs`), lower-cased. The test below also checks with the parser
    /// itself that each one is accepted.
    const PARSER_ACTIONS: &[(&str, Option<&str>)] = &[
        ("accuracy", Some("1")),
        ("allow", None),
        ("append", Some("x")),
        ("auditlog", None),
        ("block", None),
        ("capture", None),
        ("chain", None),
        ("ctl", Some("ruleEngine=On")),
        ("deny", None),
        ("deprecatevar", Some("tx.a=60")),
        ("drop", None),
        ("exec", Some("/bin/x")),
        ("expirevar", Some("tx.a=60")),
        ("id", Some("1")),
        ("initcol", Some("ip=x")),
        ("log", None),
        ("logdata", Some("x")),
        ("maturity", Some("1")),
        ("msg", Some("x")),
        ("multimatch", None),
        ("noauditlog", None),
        ("nolog", None),
        ("pass", None),
        ("pause", Some("10")),
        ("phase", Some("1")),
        ("prepend", Some("x")),
        ("proxy", Some("http://x/")),
        ("redirect", Some("http://x/")),
        ("rev", Some("1")),
        ("sanitisearg", Some("x")),
        ("sanitisematched", None),
        ("sanitisematchedbytes", None),
        ("sanitiserequestheader", Some("x")),
        ("sanitiseresponseheader", Some("x")),
        ("setenv", Some("x=1")),
        ("setrsc", Some("x")),
        ("setsid", Some("x")),
        ("setuid", Some("x")),
        ("setvar", Some("tx.a=1")),
        ("severity", Some("2")),
        ("skip", Some("1")),
        ("skipafter", Some("END")),
        ("status", Some("403")),
        ("t", Some("none")),
        ("tag", Some("x")),
        ("ver", Some("x")),
        ("xmlns", Some("x=http://x/")),
    ];

    #[test]
    fn table_sorted_unique_lowercase_and_complete() {
        for w in ACTIONS.windows(2) {
            assert!(
                w[0].0 < w[1].0,
                "not sorted/unique: {} >= {}",
                w[0].0,
                w[1].0
            );
        }
        for (n, _) in ACTIONS {
            assert_eq!(*n, n.to_ascii_lowercase());
        }
        for (name, value) in PARSER_ACTIONS {
            assert!(ACTIONS.iter().any(|(n, _)| n == name), "missing {name}");
            let text = match value {
                Some(v) => format!("SecAction \"{name}:'{v}'\"\n"),
                None => format!("SecAction \"{name}\"\n"),
            };
            assert!(
                seclang::parse_str(&text, "t.conf").is_ok(),
                "the parser rejects {text:?}: the list above is stale"
            );
        }
    }

    #[test]
    fn lookup_is_case_insensitive_and_rejects_unknown() {
        assert!(lookup("skipAfter").is_some());
        assert!(lookup("MULTIMATCH").is_some());
        assert!(lookup("SanitizeArg").is_some());
        assert!(lookup("nope").is_none());
        assert!(lookup("").is_none());
    }

    #[test]
    fn parse_reports_unknown_and_invalid_actions() {
        let parse = |text: &str| {
            let dirs = seclang::parse_str(text, "t.conf").expect("parses");
            match &dirs.first().expect("one directive").kind {
                seclang::ast::DirectiveKind::Action(list) => Actions::parse(list),
                other => panic!("{other:?}"),
            }
        };
        let a =
            parse("SecAction \"id:5,phase:2,pass,nolog,t:none,setvar:tx.a=1\"\n").expect("valid");
        assert_eq!(a.id, Some(5));
        assert_eq!(a.phase, Some(2));
        assert_eq!(a.disruptive, Some(Disruptive::Pass));
        assert_eq!(a.log, Some(false));
        assert_eq!(a.transforms.len(), 1);
        assert_eq!(a.setvars.len(), 1);
        let e = parse("SecAction \"id:x\"\n").expect_err("invalid id");
        assert!(e.to_string().contains("action id"), "{e}");
        let e = parse("SecAction \"id:1,exec:/bin/x\"\n").expect_err("unsupported");
        assert!(e.to_string().contains("exec"), "{e}");
    }
}
