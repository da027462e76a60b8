//! `@detectSQLi`: SQL injection detection with libinjection.
//!
//! Description: runs libinjection's SQLi tokenizer and fingerprint check (the
//! `libinjectionrs` port) over the input, as ModSecurity's `DetectSQLi` does with
//! `libinjection_sqli`. With the `capture` action, slot 0 receives the fingerprint
//! (e.g. `s&sos`).
//!
//! Arguments: none.
//!
//! Example: `SecRule ARGS "@detectSQLi" "id:942100,capture,..."`

use libinjectionrs::{SqliFlags, SqliState};

use super::{BuildContext, OpContext, Operator, OperatorError, set_captures};

/// Compiled `@detectSQLi`.
#[derive(Debug)]
struct DetectSqli;

/// Factory for `@detectSQLi`.
pub(crate) fn build(
    _argument: &str,
    _ctx: &BuildContext<'_>,
) -> Result<Box<dyn Operator>, OperatorError> {
    Ok(Box::new(DetectSqli))
}

impl Operator for DetectSqli {
    fn evaluate(&self, ctx: &mut OpContext<'_>, input: &[u8]) -> bool {
        // What `libinjectionrs::detect_sqli` does, except that the fingerprint is computed
        // again (a second tokenization) only for a match, where the capture needs it.
        let mut state = SqliState::new(input, SqliFlags::FLAG_NONE);
        if !state.detect() {
            return false;
        }
        if ctx.captures.is_some() {
            let fp = state.get_fingerprint();
            set_captures(ctx, [fp.as_str().as_bytes()]);
        }
        true
    }
}

#[cfg(test)]
mod tests {
    use crate::operators::test_util::{build_op, eval, eval_capture};

    #[test]
    fn table() {
        // (input, is SQLi, fingerprint) -- expectations confirmed against libinjection's
        // C implementation (libmodsecurity 3.0.15's @detectSQLi with capture).
        let cases: &[(&[u8], bool, &str)] = &[
            (b"1' OR '1'='1", true, "s&sos"),
            (b"1 UNION SELECT password FROM users", true, "1UEnk"),
            (b"' or 1=1--", true, "s&1c"),
            (b"admin'--", true, "sc"),
            (b"1;DROP TABLE users", true, "1;Tnn"),
            (b"-1' union select 1,2,3--", true, "sUE1c"),
            (b"x' AND SLEEP(5)#", true, "s&f(1"),
            (b"1)) or ((1", true, "1)&(1"),
            (b"1 and \"a\" < \"b\"", true, "1&sos"),
            (b"1 /* /* */ */ 2", true, "X"),
            (b"1'; waitfor delay '0:0:5'--", true, "s;Esc"),
            (b"' or 1==1;--", false, ""),
            (b"SELECT * FROM t", false, ""),
            (b"foo' + 1", false, ""),
            (b"hello world", false, ""),
            (b"O'Reilly", false, ""),
            (b"", false, ""),
            (b"1 and 2", false, ""),
        ];
        let op = build_op("detectSQLi", "");
        for (input, want, fp) in cases {
            assert_eq!(eval(op.as_ref(), input), *want, "{input:?}");
            let (hit, caps) = eval_capture(op.as_ref(), input);
            assert_eq!(hit, *want);
            if *want {
                assert_eq!(caps, vec![fp.as_bytes().to_vec()], "{input:?}");
            }
        }
    }
}
