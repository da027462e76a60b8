//! `deprecatevar`: accepted; persistent values are not decayed.
//!
//! Description: ModSecurity decreases a persistent numeric variable over time. Collections here
//! live for one transaction only, so the value is required but not used.
//!
//! Arguments: `collection.key=amount/seconds`.
//!
//! Example: `deprecatevar:ip.score=20/60`

use super::{Actions, need};

/// Handler for `deprecatevar`: checks a value is present, records nothing.
pub(super) fn apply(_a: &mut Actions, value: Option<&str>) -> Result<(), String> {
    need(value).map(|_| ())
}

#[cfg(test)]
mod tests {
    use crate::actions::test_util::{check_cases, run};

    #[test]
    fn table() {
        check_cases(
            "deprecatevar",
            &[
                (Some("ip.score=20/60"), true),
                (Some(""), true),
                (None, false),
            ],
        );
        let (a, _) = run("deprecatevar", Some("ip.score=20/60"));
        assert!(a.setvars.is_empty() && a.setenvs.is_empty() && a.ctls.is_empty());
    }
}
