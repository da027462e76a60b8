//! Macro templates: `%{TX.foo}`, `%{MATCHED_VAR}`, `%{rule.id}`, `%{REQUEST_HEADERS.host}`.
//!
//! Text is parsed once at compile time into literal and variable parts; the transaction
//! expands it at run time. A `%{` without a closing `}` or with an unknown variable name is
//! kept as literal text, as ModSecurity does.

use crate::variables::Var;

/// One piece of a template.
#[derive(Debug, Clone, PartialEq)]
pub enum Part {
    /// Literal bytes.
    Lit(String),
    /// A variable reference; `key` is lower-cased.
    Var {
        /// The variable.
        var: Var,
        /// The key after the dot, lower-cased, if any.
        key: Option<String>,
    },
}

/// A parsed macro template.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Template {
    /// The parts, in order.
    pub parts: Vec<Part>,
}

impl Template {
    /// Parses `text`.
    pub fn parse(text: &str) -> Template {
        let mut parts = Vec::new();
        let mut lit = String::new();
        let mut rest = text;
        while let Some(start) = rest.find("%{") {
            let after = &rest[start + 2..];
            let Some(end) = after.find('}') else { break };
            let inner = &after[..end];
            let (name, key) = match inner.split_once(['.', ':']) {
                Some((n, k)) => (n, Some(k.to_ascii_lowercase())),
                None => (inner, None),
            };
            match Var::lookup(name.trim()) {
                Some((var, _)) => {
                    lit.push_str(&rest[..start]);
                    if !lit.is_empty() {
                        parts.push(Part::Lit(std::mem::take(&mut lit)));
                    }
                    parts.push(Part::Var { var, key });
                }
                None => {
                    lit.push_str(&rest[..start + 2 + end + 1]);
                }
            }
            rest = &after[end + 1..];
        }
        lit.push_str(rest);
        if !lit.is_empty() {
            parts.push(Part::Lit(lit));
        }
        Template { parts }
    }

    /// Whether the template contains any variable reference.
    pub fn has_macros(&self) -> bool {
        self.parts.iter().any(|p| matches!(p, Part::Var { .. }))
    }

    /// The literal text when there are no macros.
    pub fn literal(&self) -> Option<String> {
        if self.has_macros() {
            return None;
        }
        Some(
            self.parts
                .iter()
                .map(|p| match p {
                    Part::Lit(s) => s.as_str(),
                    Part::Var { .. } => "",
                })
                .collect(),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_table() {
        let t = Template::parse("Matched %{TX.0} in %{MATCHED_VAR_NAME}!");
        assert_eq!(
            t.parts,
            vec![
                Part::Lit("Matched ".into()),
                Part::Var {
                    var: Var::Tx,
                    key: Some("0".into())
                },
                Part::Lit(" in ".into()),
                Part::Var {
                    var: Var::MatchedVarName,
                    key: None
                },
                Part::Lit("!".into()),
            ]
        );
        let t = Template::parse("%{rule.id}");
        assert_eq!(
            t.parts,
            vec![Part::Var {
                var: Var::Rule,
                key: Some("id".into())
            }]
        );
        let t = Template::parse("plain");
        assert_eq!(t.literal().as_deref(), Some("plain"));
        let t = Template::parse("%{nope.x} and %{");
        assert_eq!(t.literal().as_deref(), Some("%{nope.x} and %{"));
        let t = Template::parse("%{request_headers.User-Agent}");
        assert_eq!(
            t.parts,
            vec![Part::Var {
                var: Var::RequestHeaders,
                key: Some("user-agent".into())
            }]
        );
    }
}
