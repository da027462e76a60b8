//! `auditlog`: records the transaction in the audit log when the rule matches.
//!
//! Description: the opposite of `noauditlog`; the last one written wins. This engine keeps
//! no audit log of its own: the flag is kept for the match report.
//!
//! Arguments: none.
//!
//! Example: `id:1,phase:2,nolog,auditlog,pass`

use super::Actions;

/// Handler for `auditlog`.
pub(super) fn apply(a: &mut Actions, _value: Option<&str>) -> Result<(), String> {
    a.auditlog = Some(true);
    Ok(())
}

#[cfg(test)]
mod tests {
    use crate::actions::test_util::run;

    #[test]
    fn table() {
        let (a, r) = run("auditlog", None);
        assert!(r.is_ok());
        assert_eq!((a.log, a.auditlog), (None, Some(true)));
        let (a, r) = run("AuditLog", Some("x"));
        assert!(r.is_ok());
        assert_eq!(a.auditlog, Some(true));
    }
}
