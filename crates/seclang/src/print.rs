//! Printer: AST back to SecLang text that parses to the same AST (spans aside).

use std::fmt::Write as _;

use crate::ast::{Action, Directive, DirectiveKind, IdRange, Operator, Selector, Variable};

/// Prints directives, one per line. Rules are printed on one line each; their chained
/// successors follow on the next line, indented.
pub fn print(directives: &[Directive]) -> String {
    let mut out = String::new();
    let mut in_chain = false;
    for d in directives {
        if in_chain {
            out.push_str("    ");
        }
        in_chain = false;
        match &d.kind {
            DirectiveKind::Rule(rule) => {
                out.push_str("SecRule ");
                out.push_str(&quote_arg(&variables(&rule.variables)));
                out.push(' ');
                out.push_str(&operator(&rule.operator));
                if !rule.actions.is_empty() {
                    out.push(' ');
                    out.push_str(&quote_always(&actions(&rule.actions)));
                }
                in_chain = rule
                    .actions
                    .iter()
                    .any(|a| a.name.eq_ignore_ascii_case("chain"));
            }
            DirectiveKind::Action(a) => {
                out.push_str("SecAction ");
                out.push_str(&quote_always(&actions(a)));
            }
            DirectiveKind::DefaultAction(a) => {
                out.push_str("SecDefaultAction ");
                out.push_str(&quote_always(&actions(a)));
            }
            DirectiveKind::Marker(m) => {
                out.push_str("SecMarker ");
                out.push_str(&quote_arg(m));
            }
            DirectiveKind::RemoveById(ids) => {
                out.push_str("SecRuleRemoveById ");
                out.push_str(&id_list(ids));
            }
            DirectiveKind::RemoveByTag(t) => {
                out.push_str("SecRuleRemoveByTag ");
                out.push_str(&quote_always(t));
            }
            DirectiveKind::RemoveByMsg(m) => {
                out.push_str("SecRuleRemoveByMsg ");
                out.push_str(&quote_always(m));
            }
            DirectiveKind::UpdateTargetById {
                ids,
                targets,
                replaced,
            } => {
                out.push_str("SecRuleUpdateTargetById ");
                out.push_str(&quote_arg(&id_list(ids)));
                update_targets(&mut out, targets, replaced.as_ref());
            }
            DirectiveKind::UpdateTargetByTag {
                tag,
                targets,
                replaced,
            } => {
                out.push_str("SecRuleUpdateTargetByTag ");
                out.push_str(&quote_always(tag));
                update_targets(&mut out, targets, replaced.as_ref());
            }
            DirectiveKind::UpdateTargetByMsg {
                msg,
                targets,
                replaced,
            } => {
                out.push_str("SecRuleUpdateTargetByMsg ");
                out.push_str(&quote_always(msg));
                update_targets(&mut out, targets, replaced.as_ref());
            }
            DirectiveKind::UpdateActionById { id, actions: a } => {
                let _ = write!(out, "SecRuleUpdateActionById {id} ");
                out.push_str(&quote_always(&actions(a)));
            }
            DirectiveKind::Setting { name, args } => {
                out.push_str(name);
                for a in args {
                    out.push(' ');
                    out.push_str(&quote_arg(a));
                }
            }
        }
        if out.ends_with('\\') {
            // Keep a final backslash from reading as a line continuation.
            out.push(' ');
        }
        out.push('\n');
    }
    out
}

fn update_targets(out: &mut String, targets: &[Variable], replaced: Option<&Variable>) {
    out.push(' ');
    out.push_str(&quote_always(&variables(targets)));
    if let Some(r) = replaced {
        out.push(' ');
        out.push_str(&quote_always(&variables(std::slice::from_ref(r))));
    }
}

fn id_list(ids: &[IdRange]) -> String {
    let mut s = String::new();
    for (i, r) in ids.iter().enumerate() {
        if i > 0 {
            s.push(' ');
        }
        if r.start == r.end {
            let _ = write!(s, "{}", r.start);
        } else {
            let _ = write!(s, "{}-{}", r.start, r.end);
        }
    }
    s
}

/// The text of a variable list, e.g. `ARGS|!ARGS:'a b'|&TX:/^x/`.
pub(crate) fn variables(vars: &[Variable]) -> String {
    let mut s = String::new();
    for (i, v) in vars.iter().enumerate() {
        if i > 0 {
            s.push('|');
        }
        if v.negated {
            s.push('!');
        }
        if v.count {
            s.push('&');
        }
        s.push_str(&v.name);
        match &v.selector {
            None => {}
            Some(Selector::Regex(r)) => {
                let _ = write!(s, ":/{r}/");
            }
            Some(Selector::Key(k)) => {
                s.push(':');
                let xml = v.name.eq_ignore_ascii_case("XML");
                let plain = !k.is_empty()
                    && !k.starts_with('\'')
                    && (xml || crate::rule::regex_close(k.as_bytes(), 0).is_none())
                    && !k.bytes().any(|b| b == b'|' || is_blank(b) || b == b'"');
                if plain || !quotable(k, b'\'') {
                    s.push_str(k);
                } else {
                    s.push_str(&single_quote(k));
                }
            }
        }
    }
    s
}

/// The operator argument, quoted; a bare `@rx` argument that cannot be quoted faithfully
/// (it ends in an odd run of backslashes) is printed as a bare word without `@rx`.
fn operator(op: &Operator) -> String {
    let bare_rx = op.name == "rx"
        && !quotable(&op.argument, b'"')
        && !op.argument.is_empty()
        && !op.argument.starts_with(['@', '!', '#'])
        && !op.argument.bytes().any(|b| is_blank(b) || b == b'"');
    if bare_rx {
        let neg = if op.negated { "!" } else { "" };
        return format!("{neg}{}", op.argument);
    }
    quote_always(&operator_text(op))
}

fn operator_text(op: &Operator) -> String {
    let mut s = String::new();
    if op.negated {
        s.push('!');
    }
    s.push('@');
    s.push_str(&op.name);
    if !op.argument.is_empty() {
        s.push(' ');
        s.push_str(&op.argument);
    }
    s
}

/// The text of an action list, e.g. `id:1,msg:'a, b',chain`.
pub(crate) fn actions(actions: &[Action]) -> String {
    let mut s = String::new();
    for (i, a) in actions.iter().enumerate() {
        if i > 0 {
            s.push(',');
        }
        s.push_str(&a.name);
        if let Some(v) = &a.value {
            s.push(':');
            let prefer_quotes = ["msg", "logdata", "tag", "ver"]
                .iter()
                .any(|n| a.name.eq_ignore_ascii_case(n));
            let needs = v.is_empty()
                || v.starts_with('\'')
                || v.contains(',')
                || v.starts_with(|c: char| u8::try_from(c).is_ok_and(is_blank))
                || v.ends_with(|c: char| u8::try_from(c).is_ok_and(is_blank));
            if needs || (prefer_quotes && quotable(v, b'\'')) {
                s.push_str(&single_quote(v));
            } else {
                s.push_str(v);
            }
        }
    }
    s
}

/// Whether `v` reads back unchanged when wrapped in `q` quotes: every backslash pairs with
/// the byte after it, and no `q` stands outside such a pair.
fn quotable(v: &str, q: u8) -> bool {
    let bytes = v.as_bytes();
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        if b == b'\\' {
            if i + 1 >= bytes.len() {
                return false;
            }
            i += 2;
        } else if b == q {
            return false;
        } else {
            i += 1;
        }
    }
    true
}

fn single_quote(v: &str) -> String {
    format!("'{v}'")
}

/// Double-quotes `v` (unless it cannot be quoted faithfully: then bare).
fn quote_always(v: &str) -> String {
    if quotable(v, b'"') {
        format!("\"{v}\"")
    } else {
        v.to_owned()
    }
}

/// Leaves a simple argument bare; quotes anything with blanks, quotes or a leading `#`.
fn quote_arg(v: &str) -> String {
    let bare = !v.is_empty() && !v.starts_with('#') && !v.bytes().any(|b| is_blank(b) || b == b'"');
    if bare || !quotable(v, b'"') {
        v.to_owned()
    } else {
        quote_always(v)
    }
}

/// Whitespace as the lexer splits on it (C `isspace`, which unlike
/// [`u8::is_ascii_whitespace`] includes the vertical tab).
fn is_blank(b: u8) -> bool {
    b.is_ascii_whitespace() || b == b'\x0b'
}
