//! `pause`: accepted for compatibility; this engine never delays a transaction.
//!
//! Description: ModSecurity sleeps for the given number of milliseconds; the engine does no
//! I/O and does not sleep, so the value is only required, not used.
//!
//! Arguments: milliseconds (not checked).
//!
//! Example: `id:1,phase:1,pause:5000,deny`

use super::{Actions, need};

/// Handler for `pause`.
pub(super) fn apply(_a: &mut Actions, value: Option<&str>) -> Result<(), String> {
    need(value).map(|_| ())
}

#[cfg(test)]
mod tests {
    use crate::actions::test_util::{check_cases, run};

    #[test]
    fn table() {
        check_cases(
            "pause",
            &[(Some("5000"), true), (Some("x"), true), (None, false)],
        );
        assert_eq!(run("pause", Some("1")).0.disruptive, None);
    }
}
