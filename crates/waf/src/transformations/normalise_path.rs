//! `t:normalisePath` / `t:normalizePath` and the `Win` variants: removes `.` and `..`
//! segments and repeated slashes, as ModSecurity's `normalize_path_inplace` does (including
//! its treatment of relative paths, of `..` above the root and of trailing slashes). The
//! Windows variants first treat `\` as `/`.

use std::borrow::Cow;

/// Normalises a `/`-separated path.
pub fn normalise_path(input: &[u8]) -> Cow<'_, [u8]> {
    normalise(input, false)
}

/// Normalises a path where both `/` and `\` separate segments (output uses `/`).
pub fn normalise_path_win(input: &[u8]) -> Cow<'_, [u8]> {
    normalise(input, true)
}

/// Whether ModSecurity's algorithm could rewrite `input`: a backslash (Windows form), a
/// repeated slash, a trailing slash, or a dot that ends the input or comes before a slash
/// (a dot inside a name, as in `json.user.name` or `example.com`, is never a `.`/`..`
/// segment: the algorithm only looks at a dot when a separator or the end follows it).
/// `fast_path_is_exact` checks every short input over `a . / \`.
fn needs(input: &[u8], win: bool) -> bool {
    (win && input.contains(&b'\\'))
        || input.windows(2).any(|w| w == b"//" || w == b"./")
        || input.ends_with(b"/")
        || input.ends_with(b".")
}

fn normalise(input: &[u8], win: bool) -> Cow<'_, [u8]> {
    if input.is_empty() || !needs(input, win) {
        return Cow::Borrowed(input);
    }
    normalise_always(input, win)
}

/// The algorithm itself (ModSecurity's `normalize_path_inplace`).
fn normalise_always(input: &[u8], win: bool) -> Cow<'_, [u8]> {
    if input.is_empty() {
        return Cow::Borrowed(input);
    }
    let mut buf = input.to_vec();
    let len = buf.len() as isize;
    let end = len - 1;
    let is_sep = |b: u8| b == b'/' || (win && b == b'\\');
    let relative = !is_sep(buf[0]);
    let trailing = is_sep(buf[end as usize]);
    let mut src: isize = 0;
    let mut dst: isize = 0;
    let mut hitroot = false;
    let mut done = false;

    // Reads/writes the working buffer; indexes are always within 0..len here (dst <= src,
    // and negative dst is clamped before any access), `get` keeps it panic-free anyway.
    let rd = |buf: &Vec<u8>, k: isize| -> u8 {
        usize::try_from(k)
            .ok()
            .and_then(|k| buf.get(k).copied())
            .unwrap_or(0)
    };
    fn wr(buf: &mut [u8], k: isize, v: u8) {
        if let Some(slot) = usize::try_from(k).ok().and_then(|k| buf.get_mut(k)) {
            *slot = v;
        }
    }

    while !done && src <= end && dst <= end {
        if win {
            if rd(&buf, src) == b'\\' {
                wr(&mut buf, src, b'/');
            }
            if src < end && rd(&buf, src + 1) == b'\\' {
                wr(&mut buf, src + 1, b'/');
            }
        }
        let mut skip_normalise = false;
        if src == end {
            done = true;
        } else if rd(&buf, src + 1) != b'/' {
            skip_normalise = true;
        }
        let mut skip_copy = false;
        if !skip_normalise {
            let cur = rd(&buf, src);
            if src != end && cur == b'/' {
                // Empty segment: the copy below collapses the slashes.
            } else if cur == b'.' {
                if dst > 0 && rd(&buf, dst - 1) == b'.' {
                    // Back-reference.
                    if relative && (hitroot || dst - 2 <= 0) {
                        hitroot = true;
                    } else {
                        dst -= 3;
                        while dst > 0 && rd(&buf, dst) != b'/' {
                            dst -= 1;
                        }
                        if dst <= 0 {
                            hitroot = true;
                            dst = 0;
                            if !relative && src == end {
                                dst += 1;
                            }
                        }
                        if done {
                            skip_copy = true;
                        } else {
                            src += 1;
                        }
                    }
                } else if dst == 0 {
                    // Relative self-reference.
                    if done {
                        skip_copy = true;
                    } else {
                        src += 1;
                    }
                } else if rd(&buf, dst - 1) == b'/' {
                    // Self-reference.
                    if done {
                        skip_copy = true;
                    } else {
                        dst -= 1;
                        src += 1;
                    }
                }
            } else if dst > 0 {
                hitroot = false;
            }
        }
        if skip_copy {
            continue;
        }
        // Copy the byte, collapsing repeated slashes.
        if rd(&buf, src) == b'/' {
            while src < end && is_sep(rd(&buf, src + 1)) {
                src += 1;
            }
            if relative && dst == 0 {
                src += 1;
                continue;
            }
        }
        let v = rd(&buf, src);
        wr(&mut buf, dst, v);
        dst += 1;
        src += 1;
    }
    if !trailing && dst > 0 && rd(&buf, dst - 1) == b'/' {
        dst -= 1;
    }
    buf.truncate(usize::try_from(dst).unwrap_or(0));
    super::common::changed_or_borrowed(input, buf)
}

#[cfg(test)]
mod tests {
    use super::super::common::assert_table;

    /// Inputs the fast path passes through unchanged are unchanged by the algorithm too:
    /// every string of up to 8 bytes over `a . / \\`, in both forms.
    #[test]
    fn fast_path_is_exact() {
        let alphabet = [b'a', b'.', b'/', b'\\'];
        let mut inputs: Vec<Vec<u8>> = vec![Vec::new()];
        let mut level: Vec<Vec<u8>> = vec![Vec::new()];
        for _ in 0..8 {
            let next: Vec<Vec<u8>> = level
                .iter()
                .flat_map(|p| {
                    alphabet.iter().map(move |c| {
                        let mut v = p.clone();
                        v.push(*c);
                        v
                    })
                })
                .collect();
            inputs.extend(next.iter().cloned());
            level = next;
        }
        for win in [false, true] {
            for v in &inputs {
                if !super::needs(v, win) {
                    assert_eq!(&*super::normalise_always(v, win), &v[..], "{v:?} win={win}");
                }
            }
        }
    }

    #[test]
    fn table() {
        assert_table(
            super::normalise_path,
            &[
                (b"", b""),
                (b"/a/b/c", b"/a/b/c"),
                (b"/a/./b", b"/a/b"),
                (b"/a/../b", b"/b"),
                (b"/a//b///c", b"/a/b/c"),
                (b"/../../x", b"/x"),
                (b"/..", b""),
                (b"a/../../b", b"../b"),
                (b"./a", b"a"),
                (b"/a/b/", b"/a/b/"),
                (b"/a/b/..", b"/a"),
                (b"a\\..\\b", b"a\\..\\b"),
            ],
        );
        assert_table(
            super::normalise_path_win,
            &[
                (b"", b""),
                (b"a\\..\\b", b"b"),
                (b"\\a\\.\\b", b"/a/b"),
                (b"c:\\x\\..\\y", b"c:/y"),
            ],
        );
    }
}
