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
        if one_token(input) {
            return false;
        }
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

/// Whether libinjection reads `input` as a single word (a letter, then letters, digits and
/// `_`) or a single number (digits only), or nothing at all. Such an input is never SQL
/// injection: its fingerprint has one token, libinjection flags no one-token fingerprint
/// but `X` (an evil token, which neither a word nor a number gives), and with no quote or
/// comment no other context is tried. Most parameter names and many values are such
/// words, and tokenizing them is the bulk of `@detectSQLi`'s cost on benign traffic.
/// `one_token_inputs_are_never_sqli` checks it against the library.
pub(crate) fn one_token(input: &[u8]) -> bool {
    match input.split_first() {
        None => true,
        Some((first, rest)) if first.is_ascii_alphabetic() => {
            rest.iter().all(|b| b.is_ascii_alphanumeric() || *b == b'_')
        }
        Some(_) => input.iter().all(u8::is_ascii_digit),
    }
}

#[cfg(test)]
mod tests {
    use super::one_token;
    use crate::operators::test_util::{build_op, eval, eval_capture};

    /// Every input [`one_token`] accepts is clean for libinjection (SQLi and XSS): every
    /// SQL keyword libinjection knows that fits the pattern, in three cases, alone and
    /// followed by digits, and pseudo-random words and numbers.
    #[test]
    fn one_token_inputs_are_never_sqli() {
        let mut inputs: Vec<Vec<u8>> = Vec::new();
        for k in libinjectionrs::sqli::sqli_data::SQL_KEYWORDS {
            let w = k.word.as_bytes();
            for v in [w.to_vec(), w.to_ascii_lowercase(), [w, b"1"].concat()] {
                if one_token(&v) {
                    inputs.push(v);
                }
            }
        }
        for w in [
            "onerror",
            "onload",
            "ONMOUSEOVER",
            "javascript",
            "vbscript",
            "script",
            "style",
            "iframe",
            "svg",
            "xmlns",
            "formaction",
            "href",
            "src",
            "data",
            "expression",
        ] {
            inputs.push(w.as_bytes().to_vec());
        }
        assert!(inputs.len() > 1000, "{}", inputs.len());
        let mut next = crate::util::xorshift(0x9e37_79b9_7f4a_7c15);
        let letters = b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";
        let word = b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_";
        for _ in 0..20_000 {
            let len = (next() % 40) as usize;
            let mut v = vec![letters[(next() % 52) as usize]];
            v.extend((0..len).map(|_| word[(next() % 63) as usize]));
            inputs.push(v);
            let digits: Vec<u8> = (0..=len).map(|_| b'0' + (next() % 10) as u8).collect();
            inputs.push(digits);
        }
        for v in &inputs {
            assert!(one_token(v));
            assert!(
                !libinjectionrs::detect_sqli(v).is_injection(),
                "{}",
                String::from_utf8_lossy(v)
            );
            assert!(
                !libinjectionrs::detect_xss(v).is_injection(),
                "{}",
                String::from_utf8_lossy(v)
            );
        }
        for v in [
            &b"1a"[..],
            b"a b",
            b"a'",
            b"a-1",
            b"a.b",
            b"_a",
            b"1.5",
            b"$a",
            b"@a",
        ] {
            assert!(!one_token(v), "{v:?}");
        }
    }

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
