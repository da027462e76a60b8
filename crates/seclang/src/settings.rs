//! Argument checks for configuration directives kept as [`crate::ast::DirectiveKind::Setting`],
//! following the values libmodsecurity v3's grammar accepts.

use crate::error::ErrorKind;

/// What a setting's arguments must look like.
#[derive(Debug, Clone, Copy)]
enum Shape {
    /// Exactly one argument, one of these words (any case).
    OneOf(&'static [&'static str]),
    /// Exactly one argument of decimal digits.
    Number,
    /// Exactly one argument of octal digits (a file mode).
    Mode,
    /// Exactly one argument of audit log part letters.
    Parts,
    /// Between `min` and `max` arguments of any text.
    Text { min: usize, max: usize },
}

const ON_OFF: &[&str] = &["On", "Off"];

/// Settings by lower-case name (sorted) with their shape.
const SHAPES: &[(&str, Shape)] = &[
    ("secargumentseparator", Shape::Text { min: 1, max: 1 }),
    ("secargumentslimit", Shape::Number),
    (
        "secauditengine",
        Shape::OneOf(&["On", "Off", "RelevantOnly"]),
    ),
    ("secauditlog", Shape::Text { min: 1, max: 1 }),
    ("secauditlog2", Shape::Text { min: 1, max: 1 }),
    ("secauditlogdirmode", Shape::Mode),
    ("secauditlogfilemode", Shape::Mode),
    ("secauditlogformat", Shape::OneOf(&["JSON", "Native"])),
    ("secauditlogparts", Shape::Parts),
    ("secauditlogrelevantstatus", Shape::Text { min: 1, max: 1 }),
    ("secauditlogstoragedir", Shape::Text { min: 1, max: 1 }),
    (
        "secauditlogtype",
        Shape::OneOf(&["Serial", "Concurrent", "Parallel", "HTTPS"]),
    ),
    ("seccollectiontimeout", Shape::Number),
    ("seccomponentsignature", Shape::Text { min: 1, max: 1 }),
    ("seccookieformat", Shape::Number),
    ("secdatadir", Shape::Text { min: 1, max: 1 }),
    ("secdebuglog", Shape::Text { min: 1, max: 1 }),
    ("secdebugloglevel", Shape::Number),
    ("secgeolookupdb", Shape::Text { min: 1, max: 1 }),
    ("sechttpblkey", Shape::Text { min: 1, max: 1 }),
    ("secpcrematchlimit", Shape::Number),
    ("secpcrematchlimitrecursion", Shape::Number),
    ("secremoterulesfailaction", Shape::OneOf(&["Abort", "Warn"])),
    ("secrequestbodyaccess", Shape::OneOf(ON_OFF)),
    ("secrequestbodyinmemorylimit", Shape::Number),
    ("secrequestbodyjsondepthlimit", Shape::Number),
    ("secrequestbodylimit", Shape::Number),
    (
        "secrequestbodylimitaction",
        Shape::OneOf(&["Reject", "ProcessPartial"]),
    ),
    ("secrequestbodynofileslimit", Shape::Number),
    ("secresponsebodyaccess", Shape::OneOf(ON_OFF)),
    ("secresponsebodylimit", Shape::Number),
    (
        "secresponsebodylimitaction",
        Shape::OneOf(&["Reject", "ProcessPartial"]),
    ),
    (
        "secresponsebodymimetype",
        Shape::Text {
            min: 1,
            max: usize::MAX,
        },
    ),
    (
        "secresponsebodymimetypesclear",
        Shape::Text { min: 0, max: 0 },
    ),
    (
        "secruleengine",
        Shape::OneOf(&["On", "Off", "DetectionOnly"]),
    ),
    ("secserversignature", Shape::Text { min: 1, max: 1 }),
    ("secstatusengine", Shape::OneOf(ON_OFF)),
    ("sectmpdir", Shape::Text { min: 1, max: 1 }),
    ("sectmpsaveuploadedfiles", Shape::OneOf(ON_OFF)),
    ("secunicodemapfile", Shape::Text { min: 2, max: 2 }),
    ("secuploaddir", Shape::Text { min: 1, max: 1 }),
    ("secuploadfilelimit", Shape::Number),
    ("secuploadfilemode", Shape::Mode),
    (
        "secuploadkeepfiles",
        Shape::OneOf(&["On", "Off", "RelevantOnly"]),
    ),
    ("secwebappid", Shape::Text { min: 1, max: 1 }),
    ("secxmlexternalentity", Shape::OneOf(ON_OFF)),
];

/// Whether `lower` names a setting in the table.
#[cfg(test)]
pub(crate) fn is_setting(lower: &str) -> bool {
    SHAPES.binary_search_by(|(n, _)| (*n).cmp(lower)).is_ok()
}

/// A problem with a setting's arguments.
pub(crate) enum Problem {
    /// Fewer arguments than required.
    Missing(&'static str),
    /// More arguments than the maximum given.
    TooMany(usize),
    /// The argument at this index has a bad value.
    Bad(usize, ErrorKind),
}

/// Checks a setting's arguments (`name` as written, `args` unquoted).
pub(crate) fn check(name: &str, args: &[String]) -> Result<(), Problem> {
    let lower = name.to_ascii_lowercase();
    let shape = SHAPES
        .binary_search_by(|(n, _)| (*n).cmp(lower.as_str()))
        .ok()
        .and_then(|i| SHAPES.get(i))
        .map_or(
            Shape::Text {
                min: 1,
                max: usize::MAX,
            },
            |(_, s)| *s,
        );
    let (min, max) = match shape {
        Shape::Text { min, max } => (min, max),
        _ => (1, 1),
    };
    if args.len() < min {
        return Err(Problem::Missing(expected(shape)));
    }
    if args.len() > max {
        return Err(Problem::TooMany(max));
    }
    let Some(value) = args.first() else {
        return Ok(());
    };
    let ok = match shape {
        Shape::OneOf(words) => words.iter().any(|w| w.eq_ignore_ascii_case(value)),
        Shape::Number => !value.is_empty() && value.bytes().all(|b| b.is_ascii_digit()),
        Shape::Mode => !value.is_empty() && value.bytes().all(|b| (b'0'..=b'7').contains(&b)),
        Shape::Parts => !value.is_empty() && value.bytes().all(|b| b"ABCDEFGHIJKZ".contains(&b)),
        Shape::Text { .. } => true,
    };
    if ok {
        Ok(())
    } else {
        Err(Problem::Bad(
            0,
            ErrorKind::BadValue {
                directive: name.to_owned(),
                value: value.clone(),
                expected: expected(shape),
            },
        ))
    }
}

fn expected(shape: Shape) -> &'static str {
    match shape {
        Shape::OneOf(w) if w == ON_OFF => "On or Off",
        Shape::OneOf(w) => match w.first() {
            Some(&"Abort") => "Abort or Warn",
            Some(&"JSON") => "JSON or Native",
            Some(&"Reject") => "Reject or ProcessPartial",
            Some(&"Serial") => "Serial, Concurrent, Parallel or HTTPS",
            _ if w.contains(&"RelevantOnly") => "On, Off or RelevantOnly",
            _ => "On, Off or DetectionOnly",
        },
        Shape::Number => "a number",
        Shape::Mode => "an octal file mode",
        Shape::Parts => "audit log parts (letters A-K, Z)",
        Shape::Text { .. } => "value",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(v: &[&str]) -> Vec<String> {
        v.iter().map(|x| (*x).to_owned()).collect()
    }

    #[test]
    fn table_is_sorted() {
        assert!(SHAPES.windows(2).all(|w| w[0].0 < w[1].0));
        assert!(is_setting("secruleengine"));
    }

    #[test]
    fn checks() {
        let good: &[(&str, &[&str])] = &[
            ("SecRuleEngine", &["detectiononly"]),
            ("SecRequestBodyLimit", &["13107200"]),
            ("SecAuditLogParts", &["ABIJDEFHZ"]),
            ("SecUploadFileMode", &["0600"]),
            ("SecResponseBodyMimeType", &["text/plain", "text/html"]),
            ("SecUnicodeMapFile", &["unicode.mapping", "20127"]),
            ("SecCookieFormat", &["0"]),
            ("SecResponseBodyMimeTypesClear", &[]),
            ("SecAuditLogType", &["Concurrent"]),
        ];
        for (n, a) in good {
            assert!(check(n, &s(a)).is_ok(), "{n}");
        }
        let bad: &[(&str, &[&str])] = &[
            ("SecRuleEngine", &["Yes"]),
            ("SecRuleEngine", &[]),
            ("SecRuleEngine", &["On", "Off"]),
            ("SecRequestBodyLimit", &["13M"]),
            ("SecAuditLogParts", &["ABX"]),
            ("SecUploadFileMode", &["0800"]),
            ("SecResponseBodyMimeTypesClear", &["x"]),
            ("SecUnicodeMapFile", &["unicode.mapping"]),
        ];
        for (n, a) in bad {
            assert!(check(n, &s(a)).is_err(), "{n} {a:?}");
        }
    }
}
