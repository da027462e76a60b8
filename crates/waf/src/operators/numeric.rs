//! Shared machinery of the numeric comparison operators (`@eq`, `@ge`, `@gt`, `@le`, `@lt`).
//!
//! ModSecurity converts both the input and the (macro-expanded) argument with C library
//! routines: `@eq` uses `std::stoi` (an unparsable or out-of-`int`-range value becomes 0),
//! the ordering operators use `atoll` (leading white space, optional sign, decimal digits,
//! stop at the first other byte, saturate on overflow, 0 when nothing parses).

use super::{BuildContext, OpContext, Operator, OperatorError, effective_arg, has_macro};

/// How a side of the comparison is converted to a number.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Conversion {
    /// `std::stoi`: 0 when nothing parses or the value does not fit an `i32`.
    Stoi,
    /// `atoll`: saturating 64-bit conversion.
    Atoll,
}

/// The comparison applied as `input <op> argument`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Cmp {
    /// `==`
    Eq,
    /// `>=`
    Ge,
    /// `>`
    Gt,
    /// `<=`
    Le,
    /// `<`
    Lt,
}

/// C `isspace` in the "C" locale.
fn is_c_space(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | 0x0b | 0x0c | b'\r')
}

/// `strtoll` core: `(value, parsed_any_digit, overflowed)`; saturates on overflow.
fn strtoll(s: &[u8]) -> (i64, bool, bool) {
    let mut i = 0;
    while i < s.len() && is_c_space(s[i]) {
        i += 1;
    }
    let mut neg = false;
    if let Some(&c) = s.get(i)
        && (c == b'+' || c == b'-')
    {
        neg = c == b'-';
        i += 1;
    }
    // Accumulate as a negative number so that i64::MIN is representable.
    let mut acc: i64 = 0;
    let mut any = false;
    let mut overflow = false;
    while let Some(&c) = s.get(i) {
        if !c.is_ascii_digit() {
            break;
        }
        any = true;
        let d = i64::from(c - b'0');
        match acc.checked_mul(10).and_then(|v| v.checked_sub(d)) {
            Some(v) if !overflow => acc = v,
            _ => overflow = true,
        }
        i += 1;
    }
    let value = if overflow {
        if neg { i64::MIN } else { i64::MAX }
    } else if neg {
        acc
    } else {
        acc.checked_neg().unwrap_or(i64::MAX)
    };
    (value, any, overflow)
}

/// C `atoll`.
pub(crate) fn atoll(s: &[u8]) -> i64 {
    strtoll(s).0
}

/// `std::stoi` with ModSecurity's `catch (...) { 0 }`.
pub(crate) fn stoi(s: &[u8]) -> i64 {
    let (v, any, overflow) = strtoll(s);
    if !any || overflow || i32::try_from(v).is_err() {
        0
    } else {
        v
    }
}

impl Conversion {
    fn apply(self, s: &[u8]) -> i64 {
        match self {
            Self::Stoi => stoi(s),
            Self::Atoll => atoll(s),
        }
    }
}

/// `std::stoi` without ModSecurity's fallback: `None` when it would throw.
pub(crate) fn stoi_checked(s: &[u8]) -> Option<i64> {
    let (v, any, overflow) = strtoll(s);
    (any && !overflow && i32::try_from(v).is_ok()).then_some(v)
}

/// A compiled numeric comparison.
#[derive(Debug)]
pub(crate) struct Numeric {
    cmp: Cmp,
    conv: Conversion,
    /// The argument as converted at build time (unused when it holds a macro).
    value: i64,
    raw: Vec<u8>,
}

impl Numeric {
    /// Builds a comparison; arguments are never rejected (ModSecurity converts anything).
    pub(crate) fn boxed(
        cmp: Cmp,
        conv: Conversion,
        argument: &str,
        _ctx: &BuildContext<'_>,
    ) -> Result<Box<dyn Operator>, OperatorError> {
        let value = if has_macro(argument) {
            0
        } else {
            conv.apply(argument.as_bytes())
        };
        Ok(Box::new(Self {
            cmp,
            conv,
            value,
            raw: argument.as_bytes().to_vec(),
        }))
    }
}

impl Operator for Numeric {
    fn evaluate(&self, ctx: &mut OpContext<'_>, input: &[u8]) -> bool {
        let arg = if ctx.expanded.is_some() {
            self.conv.apply(effective_arg(ctx, &self.raw))
        } else {
            self.value
        };
        let v = self.conv.apply(input);
        match self.cmp {
            Cmp::Eq => v == arg,
            Cmp::Ge => v >= arg,
            Cmp::Gt => v > arg,
            Cmp::Le => v <= arg,
            Cmp::Lt => v < arg,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn conversions() {
        let cases: &[(&str, i64, i64)] = &[
            ("", 0, 0),
            ("12", 12, 12),
            ("  \t-7x", -7, -7),
            ("+3", 3, 3),
            ("abc", 0, 0),
            ("4294967296", 0, 4_294_967_296),
            ("99999999999999999999", 0, i64::MAX),
            ("-99999999999999999999", 0, i64::MIN),
            ("-9223372036854775808", 0, i64::MIN),
            ("- 1", 0, 0),
            ("2147483647", 2_147_483_647, 2_147_483_647),
            ("-2147483648", -2_147_483_648, -2_147_483_648),
            ("2147483648", 0, 2_147_483_648),
        ];
        for (s, want_stoi, want_atoll) in cases {
            assert_eq!(stoi(s.as_bytes()), *want_stoi, "stoi {s:?}");
            assert_eq!(atoll(s.as_bytes()), *want_atoll, "atoll {s:?}");
        }
    }
}
