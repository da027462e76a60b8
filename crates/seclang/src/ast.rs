//! The SecLang abstract syntax tree.
//!
//! The AST keeps the source faithfully: every directive, variable, operator and action carries
//! the [`Span`] it came from, and values are kept as written (quotes removed, escapes kept).
//! Meaning (operator lookup, action semantics, macro expansion, chains) is resolved later by
//! the `waf` crate's compiler. `Include` directives are expanded by the parser, so the list of
//! directives is flat and each span names the file it was read from.

use std::fmt;
use std::sync::Arc;

/// A position in a source file: 1-based line and column.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Span {
    /// The file the text was read from (as given to the loader), or a pseudo name such as
    /// `<annotation default/shop>` for text that did not come from a file.
    pub file: Arc<str>,
    /// 1-based line number.
    pub line: u32,
    /// 1-based column number (in bytes).
    pub col: u32,
}

impl fmt::Display for Span {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}:{}", self.file, self.line, self.col)
    }
}

/// One directive with the span of its first character.
#[derive(Debug, Clone, PartialEq)]
pub struct Directive {
    /// Where the directive starts.
    pub span: Span,
    /// What the directive says.
    pub kind: DirectiveKind,
}

/// Every directive the parser understands. Configuration directives that take plain
/// arguments (`SecRuleEngine On`, `SecRequestBodyLimit 13107200`, ...) are kept as
/// [`DirectiveKind::Setting`] with their name as written; the parser only accepts names it
/// knows, so an unknown directive is a parse error.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum DirectiveKind {
    /// `SecRule VARIABLES "OPERATOR" "ACTIONS"`.
    Rule(Rule),
    /// `SecAction "ACTIONS"`.
    Action(Vec<Action>),
    /// `SecMarker NAME`.
    Marker(String),
    /// `SecDefaultAction "ACTIONS"`.
    DefaultAction(Vec<Action>),
    /// `SecRuleRemoveById 1 2 100-200`.
    RemoveById(Vec<IdRange>),
    /// `SecRuleRemoveByTag TAG` (the argument is a regular expression in ModSecurity).
    RemoveByTag(String),
    /// `SecRuleRemoveByMsg MSG` (the argument is a regular expression in ModSecurity).
    RemoveByMsg(String),
    /// `SecRuleUpdateTargetById 942100 "!ARGS:foo|!REQUEST_COOKIES:/^bar/"`.
    UpdateTargetById {
        /// The rules (single ids or ranges) to update.
        ids: Vec<IdRange>,
        /// Targets to add (or, when negated, to exclude).
        targets: Vec<Variable>,
        /// Optional third argument: the target being replaced.
        replaced: Option<Variable>,
    },
    /// `SecRuleUpdateTargetByTag TAG "TARGETS"`.
    UpdateTargetByTag {
        /// Tag (regular expression) of the rules to update.
        tag: String,
        /// Targets to add or exclude.
        targets: Vec<Variable>,
        /// Optional third argument: the target being replaced.
        replaced: Option<Variable>,
    },
    /// `SecRuleUpdateTargetByMsg MSG "TARGETS"`.
    UpdateTargetByMsg {
        /// Message (regular expression) of the rules to update.
        msg: String,
        /// Targets to add or exclude.
        targets: Vec<Variable>,
        /// Optional third argument: the target being replaced.
        replaced: Option<Variable>,
    },
    /// `SecRuleUpdateActionById 942100 "ACTIONS"`.
    UpdateActionById {
        /// The rule to update.
        id: u64,
        /// Actions that replace or add to the rule's actions.
        actions: Vec<Action>,
    },
    /// Any other known configuration directive with its arguments, quotes removed.
    Setting {
        /// Directive name as written, e.g. `SecRuleEngine`.
        name: String,
        /// Arguments, quotes removed.
        args: Vec<String>,
    },
}

/// An inclusive range of rule ids; a single id has `start == end`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IdRange {
    /// First id.
    pub start: u64,
    /// Last id (inclusive).
    pub end: u64,
}

/// `SecRule` body: variables, operator and actions. Chained rules are separate `Rule`
/// directives following the one with the `chain` action; the compiler links them.
#[derive(Debug, Clone, PartialEq)]
pub struct Rule {
    /// Targets, e.g. `ARGS|!ARGS:foo|&TX:x`.
    pub variables: Vec<Variable>,
    /// The operator, e.g. `@rx ^a` (an operator without `@` is `@rx`).
    pub operator: Operator,
    /// The actions, possibly empty.
    pub actions: Vec<Action>,
}

/// One target in a rule's variable list.
#[derive(Debug, Clone, PartialEq)]
pub struct Variable {
    /// Where the variable is written.
    pub span: Span,
    /// `!VAR:key`: exclude from the list.
    pub negated: bool,
    /// `&VAR`: count the matching elements.
    pub count: bool,
    /// Collection or variable name as written, e.g. `ARGS`, `REQUEST_HEADERS`, `TX`, `XML`.
    pub name: String,
    /// Optional selector after the colon.
    pub selector: Option<Selector>,
}

/// The part of a variable after `:`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Selector {
    /// A literal key, e.g. `ARGS:id`, `TX:blocking_paranoia_level`, `XML:/*`; for a quoted
    /// key (`ARGS:'a b'`) the quotes are removed.
    Key(String),
    /// A regular expression between slashes, e.g. `ARGS:/^id_/` (slashes removed).
    Regex(String),
}

/// A rule's operator.
#[derive(Debug, Clone, PartialEq)]
pub struct Operator {
    /// Where the operator string starts.
    pub span: Span,
    /// `!@rx ...`.
    pub negated: bool,
    /// Operator name without `@`, as written (`rx`, `pmFromFile`, ...). `rx` when omitted.
    pub name: String,
    /// The argument text after the name and one separating space, may contain macros.
    pub argument: String,
}

/// One action, e.g. `id:942100`, `msg:'SQL Injection'`, `t:lowercase`, `chain`.
#[derive(Debug, Clone, PartialEq)]
pub struct Action {
    /// Where the action is written.
    pub span: Span,
    /// Action name as written.
    pub name: String,
    /// Value after the colon with surrounding single quotes removed; escapes such as `\'`
    /// are kept as written (as libmodsecurity does).
    pub value: Option<String>,
}
