//! `xmlns`: accepted; XPath namespaces are not used.
//!
//! Description: ModSecurity registers an XML namespace prefix for XPath expressions in `XML:`
//! targets. This engine does not evaluate XPath, so the value is required but not used.
//!
//! Arguments: `prefix=URI`.
//!
//! Example: `xmlns:soap=http://schemas.xmlsoap.org/soap/envelope/`

use super::{Actions, need};

/// Handler for `xmlns`: checks a value is present, records nothing.
pub(super) fn apply(_a: &mut Actions, value: Option<&str>) -> Result<(), String> {
    need(value).map(|_| ())
}

#[cfg(test)]
mod tests {
    use crate::actions::test_util::{check_cases, run};

    #[test]
    fn table() {
        check_cases(
            "xmlns",
            &[
                (Some("soap=http://x"), true),
                (Some(""), true),
                (None, false),
            ],
        );
        let (a, _) = run("xmlns", Some("soap=http://x"));
        assert!(a.setvars.is_empty() && a.setenvs.is_empty() && a.ctls.is_empty());
    }
}
