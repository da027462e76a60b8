//! `t`: a transformation applied to each variable value before the operator.
//!
//! Description: transformations run in the order written, after those inherited from
//! `SecDefaultAction`; `t:none` clears everything before it (including inherited ones). Names
//! are case-insensitive and looked up in [`crate::transformations`].
//!
//! Arguments: a transformation name or `none`.
//!
//! Example: `t:none,t:urlDecodeUni,t:lowercase`

use super::{Actions, TransformStep, need};
use crate::transformations;

/// Handler for `t`.
pub(super) fn apply(a: &mut Actions, value: Option<&str>) -> Result<(), String> {
    let v = need(value)?;
    let name = v.trim().to_ascii_lowercase();
    if name == "none" {
        a.transforms.push(TransformStep { name, func: None });
        return Ok(());
    }
    match transformations::lookup(&name) {
        Some(f) => {
            a.transforms.push(TransformStep {
                name,
                func: Some(f),
            });
            Ok(())
        }
        None => Err(format!("unknown transformation {v}")),
    }
}

#[cfg(test)]
mod tests {
    use crate::actions::test_util::run;

    #[test]
    fn table() {
        // (value, expected step name, has a function, ok)
        let cases: &[(Option<&str>, Option<&str>, bool, bool)] = &[
            (Some("none"), Some("none"), false, true),
            (Some("NONE"), Some("none"), false, true),
            (Some("lowercase"), Some("lowercase"), true, true),
            (Some(" urlDecodeUni "), Some("urldecodeuni"), true, true),
            (Some("doesNotExist"), None, false, false),
            (None, None, false, false),
        ];
        for (value, name, func, ok) in cases {
            let (a, r) = run("t", *value);
            assert_eq!(r.is_ok(), *ok, "{value:?}");
            let step = a.transforms.first();
            assert_eq!(step.map(|s| s.name.as_str()), *name, "{value:?}");
            assert_eq!(step.is_some_and(|s| s.func.is_some()), *func, "{value:?}");
        }
    }
}
