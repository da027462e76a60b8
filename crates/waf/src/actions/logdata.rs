//! `logdata`: extra data logged when the rule matches.
//!
//! Description: a text template, expanded when the rule matches (typically the matched
//! variable and value). A later `logdata` replaces an earlier one.
//!
//! Arguments: the text, usually single-quoted, with macros.
//!
//! Example: `logdata:'Matched Data: %{TX.0} found within %{MATCHED_VAR_NAME}'`

use super::{Actions, need};
use crate::macros::Template;

/// Handler for `logdata`.
pub(super) fn apply(a: &mut Actions, value: Option<&str>) -> Result<(), String> {
    a.logdata = Some(Template::parse(need(value)?));
    Ok(())
}

#[cfg(test)]
mod tests {
    use crate::actions::test_util::run;

    #[test]
    fn table() {
        // (value, has macros, ok)
        let cases: &[(Option<&str>, bool, bool)] = &[
            (Some("x"), false, true),
            (Some("Matched %{MATCHED_VAR}"), true, true),
            (None, false, false),
        ];
        for (value, macros, ok) in cases {
            let (a, r) = run("logdata", *value);
            assert_eq!(r.is_ok(), *ok, "{value:?}");
            assert_eq!(a.logdata.is_some(), *ok, "{value:?}");
            assert_eq!(
                a.logdata.is_some_and(|t| t.has_macros()),
                *macros,
                "{value:?}"
            );
        }
    }
}
