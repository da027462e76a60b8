//! `setvar`: sets, adds to, subtracts from or unsets a collection variable.
//!
//! Description: runs when the rule matches, in the order written. The collection must be a
//! writable one (TX, IP, SESSION, USER, GLOBAL, RESOURCE). Both the key and the value may
//! contain macros, expanded at run time; keys without macros are pre-computed.
//!
//! Arguments: `col.key=value` (set), `col.key=+value` (add), `col.key=-value` (subtract),
//! `!col.key` (unset), `col.key` (set to 1).
//!
//! Example: `setvar:'tx.inbound_anomaly_score_pl1=+%{tx.critical_anomaly_score}'`

use super::{Actions, need};
use crate::macros::Template;
use crate::variables::Var;

/// What a setvar does.
#[derive(Debug, Clone, PartialEq)]
pub enum SetOp {
    /// `=value`.
    Set(Template),
    /// `=+value`.
    Add(Template),
    /// `=-value`.
    Sub(Template),
    /// `!col.key`.
    Unset,
}

/// One parsed setvar.
#[derive(Debug, Clone, PartialEq)]
pub struct SetVar {
    /// The collection (TX, IP, SESSION, USER, GLOBAL, RESOURCE).
    pub collection: Var,
    /// The key template.
    pub key: Template,
    /// The key and its lower-cased form when it has no macros (the common case).
    pub literal_key: Option<(String, String)>,
    /// The operation.
    pub op: SetOp,
}

/// Parses a setvar value.
pub fn parse(v: &str) -> Result<SetVar, String> {
    let v = v.trim();
    let (unset, body) = match v.strip_prefix('!') {
        Some(rest) => (true, rest),
        None => (false, v),
    };
    let (target, value) = match body.split_once('=') {
        Some((t, val)) => (t, Some(val)),
        None => (body, None),
    };
    let (col, key) = target
        .split_once('.')
        .ok_or_else(|| format!("setvar needs collection.key: {v:?}"))?;
    let collection = match Var::lookup(col.trim()) {
        Some((var, _)) if var.is_writable_collection() => var,
        _ => return Err(format!("setvar on unsupported collection {col:?}")),
    };
    if key.is_empty() {
        return Err(format!("setvar with empty key: {v:?}"));
    }
    let op = match (unset, value) {
        (true, _) => SetOp::Unset,
        (false, None) => SetOp::Set(Template::parse("1")),
        (false, Some(val)) => {
            if let Some(rest) = val.strip_prefix('+') {
                SetOp::Add(Template::parse(rest))
            } else if let Some(rest) = val.strip_prefix('-') {
                SetOp::Sub(Template::parse(rest))
            } else {
                SetOp::Set(Template::parse(val))
            }
        }
    };
    let key = Template::parse(key);
    let literal_key = key.literal().map(|k| {
        let lower = k.to_ascii_lowercase();
        (k, lower)
    });
    Ok(SetVar {
        collection,
        key,
        literal_key,
        op,
    })
}

/// Handler for `setvar`.
pub(super) fn apply(a: &mut Actions, value: Option<&str>) -> Result<(), String> {
    let s = parse(need(value)?)?;
    a.setvars.push(s);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::actions::test_util::run;

    #[test]
    fn table() {
        let s = parse("tx.a=1").unwrap();
        assert_eq!(s.collection, Var::Tx);
        assert_eq!(s.op, SetOp::Set(Template::parse("1")));
        let s = parse("TX.score=+%{tx.critical_anomaly_score}").unwrap();
        assert!(matches!(s.op, SetOp::Add(ref t) if t.has_macros()));
        assert!(matches!(parse("tx.a=-5").unwrap().op, SetOp::Sub(_)));
        assert_eq!(parse("!tx.a").unwrap().op, SetOp::Unset);
        assert_eq!(
            parse("ip.blocked").unwrap().op,
            SetOp::Set(Template::parse("1"))
        );
        assert!(parse("args.x=1").is_err());
        assert!(parse("tx").is_err());
        assert!(parse("tx.=1").is_err());
        let s = parse("tx.%{rule.id}-x=%{MATCHED_VAR}").unwrap();
        assert!(s.key.has_macros());
        let (a, r) = run("setvar", Some("tx.x=y"));
        assert!(r.is_ok());
        assert_eq!(a.setvars.len(), 1);
        let (a, r) = run("setVar", Some("args.x=1"));
        assert!(r.is_err());
        assert!(a.setvars.is_empty());
        assert!(run("setvar", None).1.is_err());
    }
}
