//! `@rxGlobal`: regular expression match over all occurrences.
//!
//! Description: same compilation and verdict as [`super::rx`], but with the `capture`
//! action every match is visited (ModSecurity `RxGlobal`, `searchGlobal`) and the values
//! are numbered on across matches: the first match fills slots 0..=k with its whole match
//! and groups, the next match continues at the number of values recorded so far, and so
//! on up to slot 9 (`(\d)(x)?` on `1x 2 3` gives `1x`, `1`, `x`, `2`, `2`, `3`, `3`).
//!
//! Arguments: the regular expression.
//!
//! Example: `SecRule ARGS "@rxGlobal (\d+)" "id:1,capture,..."`

use regex::bytes::Regex;

use super::rx::{MAX_SLOTS, compile, has_caret};
use super::{BuildContext, OpContext, Operator, OperatorError, has_macro, invalid};

/// Compiled `@rxGlobal`.
#[derive(Debug)]
struct RxGlobal {
    re: Option<Regex>,
    caret: bool,
    dynamic: Option<String>,
}

/// Factory for `@rxGlobal`.
pub(crate) fn build(
    argument: &str,
    _ctx: &BuildContext<'_>,
) -> Result<Box<dyn Operator>, OperatorError> {
    if has_macro(argument) {
        return Ok(Box::new(RxGlobal {
            re: None,
            caret: false,
            dynamic: Some(argument.to_owned()),
        }));
    }
    let re = compile(argument).map_err(|e| invalid("rxGlobal", e.to_string()))?;
    Ok(Box::new(RxGlobal {
        re: Some(re),
        caret: has_caret(argument),
        dynamic: None,
    }))
}

fn run(re: &Regex, caret: bool, ctx: &mut OpContext<'_>, input: &[u8]) -> bool {
    // PCRE's `^` does not match after a final newline (see `rx`).
    let rejected = |start: usize| caret && start == input.len() && input.last() == Some(&b'\n');
    let Some(caps) = ctx.captures.as_deref_mut() else {
        if caret && input.last() == Some(&b'\n') {
            return re.find(input).is_some_and(|m| !rejected(m.start()));
        }
        return re.is_match(input);
    };
    let mut slots: Vec<Vec<u8>> = Vec::new();
    let mut pushed = 0usize;
    let mut any = false;
    for m in re.captures_iter(input) {
        if m.get(0).is_some_and(|w| rejected(w.start())) {
            break;
        }
        any = true;
        // Groups are numbered on from the count of values recorded so far.
        let base = pushed;
        for g in 0..m.len() {
            let Some(v) = m.get(g) else { continue };
            pushed += 1;
            let slot = base + g;
            if slot < MAX_SLOTS {
                if slots.len() <= slot {
                    slots.resize(slot + 1, Vec::new());
                }
                if let Some(s) = slots.get_mut(slot) {
                    *s = v.as_bytes().to_vec();
                }
            }
        }
        if pushed >= MAX_SLOTS {
            break;
        }
    }
    if any {
        *caps = slots;
    }
    any
}

impl Operator for RxGlobal {
    fn evaluate(&self, ctx: &mut OpContext<'_>, input: &[u8]) -> bool {
        if let Some(re) = &self.re {
            return run(re, self.caret, ctx, input);
        }
        let pattern = match (ctx.expanded, &self.dynamic) {
            (Some(e), _) => String::from_utf8_lossy(e).into_owned(),
            (None, Some(d)) => d.clone(),
            (None, None) => return false,
        };
        compile(&pattern).is_ok_and(|re| run(&re, has_caret(&pattern), ctx, input))
    }
}

#[cfg(test)]
mod tests {
    use crate::operators::test_util::{build_op, eval, eval_capture, eval_expanded};

    #[test]
    fn table() {
        let cases: &[(&str, &[u8], bool)] = &[
            ("\\d+", b"a1b22", true),
            ("\\d+", b"ab", false),
            ("", b"", true),
        ];
        for (arg, input, want) in cases {
            assert_eq!(
                eval(build_op("rxGlobal", arg).as_ref(), input),
                *want,
                "{arg:?} {input:?}"
            );
        }
        let (hit, caps) = eval_capture(build_op("rxGlobal", "(\\d)(x)?").as_ref(), b"1x 2 3");
        assert!(hit);
        // Checked against libmodsecurity 3.0.15.
        let want: Vec<Vec<u8>> = ["1x", "1", "x", "2", "2", "3", "3"]
            .iter()
            .map(|s| s.as_bytes().to_vec())
            .collect();
        assert_eq!(caps, want);
        let (_, caps) = eval_capture(build_op("rxGlobal", "\\d+").as_ref(), b"a1b22");
        assert_eq!(caps, vec![b"1".to_vec(), b"22".to_vec()]);
        assert!(eval_expanded(
            build_op("rxglobal", "%{tx.p}").as_ref(),
            b"b+",
            b"abb"
        ));
    }
}
