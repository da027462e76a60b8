//! `t:cmdLine`: normalises command lines against evasion, as ModSecurity does:
//!
//! - deletes `"`, `'`, `\` and `^`;
//! - turns each run of space, `,`, `;`, `\t`, `\r`, `\n` into one space;
//! - deletes a space right before `/` or `(`;
//! - lower-cases everything else (ASCII).

use std::borrow::Cow;

/// Normalises a command line.
pub fn cmd_line(input: &[u8]) -> Cow<'_, [u8]> {
    if !needs_change(input) {
        return Cow::Borrowed(input);
    }
    let mut out = Vec::with_capacity(input.len());
    let mut space = false;
    for &b in input {
        match b {
            b'"' | b'\'' | b'\\' | b'^' => {}
            b' ' | b',' | b';' | b'\t' | b'\r' | b'\n' => {
                if !space {
                    out.push(b' ');
                    space = true;
                }
            }
            b'/' | b'(' => {
                if space {
                    out.pop();
                }
                space = false;
                out.push(b);
            }
            _ => {
                out.push(b.to_ascii_lowercase());
                space = false;
            }
        }
    }
    super::common::changed_or_borrowed(input, out)
}

/// Whether [`cmd_line`] would change anything: a deleted byte, a separator other than a
/// lone space, a space before `/` or `(`, or an upper-case letter.
fn needs_change(input: &[u8]) -> bool {
    input.iter().enumerate().any(|(k, &b)| match b {
        b'"' | b'\'' | b'\\' | b'^' | b',' | b';' | b'\t' | b'\r' | b'\n' => true,
        b' ' => matches!(
            input.get(k + 1),
            Some(b' ' | b',' | b';' | b'\t' | b'\r' | b'\n' | b'/' | b'(')
        ),
        _ => b.is_ascii_uppercase(),
    })
}

#[cfg(test)]
mod tests {
    use super::super::common::assert_table;

    #[test]
    fn table() {
        assert_table(
            super::cmd_line,
            &[
                (b"", b""),
                (b"ls -la", b"ls -la"),
                (b"C^A\"T /E'T\\C/P", b"cat/etc/p"),
                (b"a,;\t b", b"a b"),
                (b"echo (x)", b"echo(x)"),
                (b" /", b"/"),
                (b"  a", b" a"),
                (b"a ", b"a "),
                (b"\xc3\x84", b"\xc3\x84"),
            ],
        );
    }
}
