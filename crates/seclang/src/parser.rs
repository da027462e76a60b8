//! Directive parsing and the `Include` driver.

use std::io;
use std::path::{Component, Path, PathBuf};
use std::sync::Arc;

use crate::ast::{Directive, DirectiveKind, Rule, Span, Variable};
use crate::error::{ErrorKind, ParseError, physical_line};
use crate::lexer::{Arg, LogicalLine, logical_lines, split_args};
use crate::loader::FileLoader;
use crate::rule::{
    PieceError, parse_actions, parse_id, parse_ids, parse_operator, parse_variables,
};
use crate::settings::{self, Problem};

/// Parser settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Options {
    /// Whether `Include` / `IncludeOptional` are honoured. When false they are an error
    /// ("Include not allowed here"), as for per-Ingress snippets.
    pub allow_include: bool,
    /// How deep includes may nest (the top-level file is depth 0).
    pub max_include_depth: usize,
}

impl Default for Options {
    /// Includes not allowed; depth limit 16.
    fn default() -> Self {
        Self {
            allow_include: false,
            max_include_depth: 16,
        }
    }
}

impl Options {
    /// Options that honour `Include` (for trusted rule files).
    pub fn with_includes() -> Self {
        Self {
            allow_include: true,
            ..Self::default()
        }
    }
}

/// What a directive name stands for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Rule,
    Action,
    Marker,
    DefaultAction,
    RemoveById,
    RemoveByTag,
    RemoveByMsg,
    UpdateTargetById,
    UpdateTargetByTag,
    UpdateTargetByMsg,
    UpdateActionById,
    Include,
    IncludeOptional,
    Setting,
}

/// Every directive name the parser accepts, lower case, sorted.
const DIRECTIVES: &[(&str, Kind)] = &[
    ("include", Kind::Include),
    ("includeoptional", Kind::IncludeOptional),
    ("secaction", Kind::Action),
    ("secargumentseparator", Kind::Setting),
    ("secargumentslimit", Kind::Setting),
    ("secauditengine", Kind::Setting),
    ("secauditlog", Kind::Setting),
    ("secauditlog2", Kind::Setting),
    ("secauditlogdirmode", Kind::Setting),
    ("secauditlogfilemode", Kind::Setting),
    ("secauditlogformat", Kind::Setting),
    ("secauditlogparts", Kind::Setting),
    ("secauditlogrelevantstatus", Kind::Setting),
    ("secauditlogstoragedir", Kind::Setting),
    ("secauditlogtype", Kind::Setting),
    ("seccollectiontimeout", Kind::Setting),
    ("seccomponentsignature", Kind::Setting),
    ("seccookieformat", Kind::Setting),
    ("secdatadir", Kind::Setting),
    ("secdebuglog", Kind::Setting),
    ("secdebugloglevel", Kind::Setting),
    ("secdefaultaction", Kind::DefaultAction),
    ("secgeolookupdb", Kind::Setting),
    ("sechttpblkey", Kind::Setting),
    ("secmarker", Kind::Marker),
    ("secpcrematchlimit", Kind::Setting),
    ("secpcrematchlimitrecursion", Kind::Setting),
    ("secremoterulesfailaction", Kind::Setting),
    ("secrequestbodyaccess", Kind::Setting),
    ("secrequestbodyinmemorylimit", Kind::Setting),
    ("secrequestbodyjsondepthlimit", Kind::Setting),
    ("secrequestbodylimit", Kind::Setting),
    ("secrequestbodylimitaction", Kind::Setting),
    ("secrequestbodynofileslimit", Kind::Setting),
    ("secresponsebodyaccess", Kind::Setting),
    ("secresponsebodylimit", Kind::Setting),
    ("secresponsebodylimitaction", Kind::Setting),
    ("secresponsebodymimetype", Kind::Setting),
    ("secresponsebodymimetypesclear", Kind::Setting),
    ("secrule", Kind::Rule),
    ("secruleengine", Kind::Setting),
    ("secruleremovebyid", Kind::RemoveById),
    ("secruleremovebymsg", Kind::RemoveByMsg),
    ("secruleremovebytag", Kind::RemoveByTag),
    ("secruleupdateactionbyid", Kind::UpdateActionById),
    ("secruleupdatetargetbyid", Kind::UpdateTargetById),
    ("secruleupdatetargetbymsg", Kind::UpdateTargetByMsg),
    ("secruleupdatetargetbytag", Kind::UpdateTargetByTag),
    ("secserversignature", Kind::Setting),
    ("secstatusengine", Kind::Setting),
    ("sectmpdir", Kind::Setting),
    ("sectmpsaveuploadedfiles", Kind::Setting),
    ("secunicodemapfile", Kind::Setting),
    ("secuploaddir", Kind::Setting),
    ("secuploadfilelimit", Kind::Setting),
    ("secuploadfilemode", Kind::Setting),
    ("secuploadkeepfiles", Kind::Setting),
    ("secwebappid", Kind::Setting),
    ("secxmlexternalentity", Kind::Setting),
];

/// Directives of the ModSecurity reference manual this parser does not support (lower case,
/// sorted); they get a clearer error than an unknown name.
const UNSUPPORTED: &[&str] = &[
    "seccachetransformations",
    "secchrootdir",
    "secconnengine",
    "secconnreadstatelimit",
    "secconnwritestatelimit",
    "seccontentinjection",
    "seccookiev0separator",
    "secdisablebackendcompression",
    "secgsblookupdb",
    "secguardianlog",
    "sechashengine",
    "sechashkey",
    "sechashmethodpm",
    "sechashmethodrx",
    "sechashparam",
    "secinterceptonerror",
    "secreadstatelimit",
    "secremoterules",
    "secruleinheritance",
    "secruleperftime",
    "secrulescript",
    "secsensorid",
    "secstreaminbodyinspection",
    "secstreamoutbodyinspection",
    "secunicodecodepage",
    "secwritestatelimit",
];

fn is_unsupported(name: &str) -> bool {
    UNSUPPORTED
        .binary_search(&name.to_ascii_lowercase().as_str())
        .is_ok()
}

fn lookup(name: &str) -> Option<Kind> {
    let lower = name.to_ascii_lowercase();
    DIRECTIVES
        .binary_search_by(|(n, _)| (*n).cmp(lower.as_str()))
        .ok()
        .and_then(|i| DIRECTIVES.get(i))
        .map(|(_, k)| *k)
}

/// Whether `name` (any case) is a directive the parser accepts.
pub fn is_known_directive(name: &str) -> bool {
    lookup(name).is_some()
}

/// A failure while parsing one file: either located in this file, or an error already
/// rendered by a nested (included) file.
enum Fail {
    Here(Span, ErrorKind),
    Nested(ParseError),
}

/// Parses text and included files, collecting directives in order.
pub(crate) struct Driver<'a> {
    options: &'a Options,
    loader: &'a dyn FileLoader,
    /// Files currently being parsed (normalised), for cycle detection.
    stack: Vec<PathBuf>,
    pub(crate) out: Vec<Directive>,
    /// When set, a bad directive is recorded in `errors` and skipped instead of stopping.
    pub(crate) recover: bool,
    pub(crate) errors: Vec<ParseError>,
    /// Spans of the `Include` directives being followed, outermost first.
    chain: Vec<Span>,
}

impl<'a> Driver<'a> {
    pub(crate) fn new(options: &'a Options, loader: &'a dyn FileLoader) -> Self {
        Self {
            options,
            loader,
            stack: Vec::new(),
            out: Vec::new(),
            recover: false,
            errors: Vec::new(),
            chain: Vec::new(),
        }
    }

    /// Parses a whole file through the loader (the top-level entry of `parse_file`).
    pub(crate) fn parse_path(&mut self, path: &Path) -> Result<(), ParseError> {
        let name: Arc<str> = Arc::from(path.display().to_string());
        let span = Span {
            file: name.clone(),
            line: 1,
            col: 1,
        };
        let bytes = self.loader.read(path).map_err(|e| {
            ParseError::new(
                span.clone(),
                ErrorKind::Io {
                    path: path.display().to_string(),
                    message: e.to_string(),
                },
                None,
            )
        })?;
        let text = decode(&bytes, &name)?;
        self.stack.push(normalize(path));
        let res = self.parse_source(text, name);
        self.stack.pop();
        res
    }

    /// Parses top-level text that claims to come from `file` (which then counts as being
    /// included, so a file including it back is a cycle).
    pub(crate) fn parse_root(&mut self, src: &str, file: Arc<str>) -> Result<(), ParseError> {
        self.stack.push(normalize(Path::new(&*file)));
        let res = self.parse_source(src, file);
        self.stack.pop();
        res
    }

    /// Parses text that claims to come from `file`.
    pub(crate) fn parse_source(&mut self, src: &str, file: Arc<str>) -> Result<(), ParseError> {
        for line in logical_lines(src) {
            let err = match self.directive(&line, &file) {
                Ok(()) => continue,
                Err(Fail::Here(span, kind)) => {
                    let text = physical_line(src, span.line);
                    ParseError::new(span, kind, text).with_chain(&self.chain)
                }
                Err(Fail::Nested(e)) => e,
            };
            if !self.recover {
                return Err(err);
            }
            self.errors.push(err);
        }
        Ok(())
    }

    fn directive(&mut self, line: &LogicalLine<'_>, file: &Arc<str>) -> Result<(), Fail> {
        let at = |off: usize| {
            let (l, c) = line.position(off);
            Span {
                file: file.clone(),
                line: l,
                col: c,
            }
        };
        let args = split_args(&line.text).map_err(|(off, kind)| Fail::Here(at(off), kind))?;
        let Some((first, rest)) = args.split_first() else {
            return Ok(());
        };
        let span = at(first.token_start);
        let name = first.value.as_str();
        let kind = match lookup(name).filter(|_| !first.quoted) {
            Some(kind) => kind,
            None if !first.quoted && is_unsupported(name) => {
                return Err(Fail::Here(
                    span,
                    ErrorKind::UnsupportedDirective(name.to_owned()),
                ));
            }
            None => {
                return Err(Fail::Here(
                    span,
                    ErrorKind::UnknownDirective(name.to_owned()),
                ));
            }
        };
        let end_span = || at(line.text.trim_end().len());
        let missing = |expected: &'static str| {
            Fail::Here(
                end_span(),
                ErrorKind::MissingArgument {
                    directive: name.to_owned(),
                    expected,
                },
            )
        };
        let too_many = |max: usize| match rest.get(max) {
            Some(extra) => Err(Fail::Here(
                at(extra.token_start),
                ErrorKind::TooManyArguments {
                    directive: name.to_owned(),
                    max,
                },
            )),
            None => Ok(()),
        };
        // Maps an error at an offset of an argument's value to a span.
        let piece = |arg: &Arg| {
            let at = &at;
            let base = arg.source_offset(0);
            move |(off, kind): PieceError| Fail::Here(at(base.saturating_add(off)), kind)
        };
        let arg_at = |arg: &Arg| {
            let at = &at;
            let base = arg.source_offset(0);
            move |off: usize| at(base.saturating_add(off))
        };
        let kind = match kind {
            Kind::Rule => {
                let vars = rest.first().ok_or_else(|| missing("variables"))?;
                let Some(op) = rest.get(1) else {
                    return Err(Fail::Here(end_span(), ErrorKind::MissingOperator));
                };
                too_many(3)?;
                let variables = parse_variables(&vars.value, &arg_at(vars)).map_err(piece(vars))?;
                let operator =
                    parse_operator(&op.value, at(op.source_offset(0))).map_err(piece(op))?;
                let actions = match rest.get(2) {
                    Some(a) => parse_actions(&a.value, &arg_at(a)).map_err(piece(a))?,
                    None => Vec::new(),
                };
                DirectiveKind::Rule(Rule {
                    variables,
                    operator,
                    actions,
                })
            }
            Kind::Action | Kind::DefaultAction => {
                let a = rest.first().ok_or_else(|| missing("actions"))?;
                too_many(1)?;
                let actions = parse_actions(&a.value, &arg_at(a)).map_err(piece(a))?;
                if kind == Kind::Action {
                    DirectiveKind::Action(actions)
                } else {
                    DirectiveKind::DefaultAction(actions)
                }
            }
            Kind::Marker => {
                let m = rest.first().ok_or_else(|| missing("marker name"))?;
                too_many(1)?;
                DirectiveKind::Marker(m.value.clone())
            }
            Kind::RemoveById => {
                if rest.is_empty() {
                    return Err(missing("rule ids"));
                }
                let mut ids = Vec::new();
                for a in rest {
                    ids.extend(parse_ids(&a.value).map_err(piece(a))?);
                }
                DirectiveKind::RemoveById(ids)
            }
            Kind::RemoveByTag | Kind::RemoveByMsg => {
                let a = rest.first().ok_or_else(|| missing("regular expression"))?;
                too_many(1)?;
                if kind == Kind::RemoveByTag {
                    DirectiveKind::RemoveByTag(a.value.clone())
                } else {
                    DirectiveKind::RemoveByMsg(a.value.clone())
                }
            }
            Kind::UpdateTargetById | Kind::UpdateTargetByTag | Kind::UpdateTargetByMsg => {
                let sel = rest.first().ok_or_else(|| missing("rule selector"))?;
                let t = rest.get(1).ok_or_else(|| missing("targets"))?;
                too_many(3)?;
                let targets = parse_variables(&t.value, &arg_at(t)).map_err(piece(t))?;
                let replaced = match rest.get(2) {
                    Some(r) => Some(single_variable(r, &at)?),
                    None => None,
                };
                match kind {
                    Kind::UpdateTargetById => DirectiveKind::UpdateTargetById {
                        ids: parse_ids(&sel.value).map_err(piece(sel))?,
                        targets,
                        replaced,
                    },
                    Kind::UpdateTargetByTag => DirectiveKind::UpdateTargetByTag {
                        tag: sel.value.clone(),
                        targets,
                        replaced,
                    },
                    _ => DirectiveKind::UpdateTargetByMsg {
                        msg: sel.value.clone(),
                        targets,
                        replaced,
                    },
                }
            }
            Kind::UpdateActionById => {
                let id_arg = rest.first().ok_or_else(|| missing("rule id"))?;
                let a = rest.get(1).ok_or_else(|| missing("actions"))?;
                too_many(2)?;
                let id = parse_id(&id_arg.value).ok_or_else(|| {
                    Fail::Here(
                        at(id_arg.source_offset(0)),
                        ErrorKind::BadId(id_arg.value.clone()),
                    )
                })?;
                let actions = parse_actions(&a.value, &arg_at(a)).map_err(piece(a))?;
                DirectiveKind::UpdateActionById { id, actions }
            }
            Kind::Include | Kind::IncludeOptional => {
                if !self.options.allow_include {
                    return Err(Fail::Here(span, ErrorKind::IncludeNotAllowed));
                }
                let p = rest.first().ok_or_else(|| missing("file path"))?;
                too_many(1)?;
                return self.include(&p.value, file, span, kind == Kind::IncludeOptional);
            }
            Kind::Setting => {
                let args: Vec<String> = rest.iter().map(|a| a.value.clone()).collect();
                match settings::check(name, &args) {
                    Ok(()) => {}
                    Err(Problem::Missing(expected)) => return Err(missing(expected)),
                    Err(Problem::TooMany(max)) => too_many(max)?,
                    Err(Problem::Bad(i, kind)) => {
                        let off = rest.get(i).map_or(0, |a| a.token_start);
                        return Err(Fail::Here(at(off), kind));
                    }
                }
                DirectiveKind::Setting {
                    name: name.to_owned(),
                    args,
                }
            }
        };
        self.out.push(Directive { span, kind });
        Ok(())
    }

    fn include(
        &mut self,
        pattern: &str,
        file: &Arc<str>,
        span: Span,
        optional: bool,
    ) -> Result<(), Fail> {
        let here = |kind: ErrorKind| Fail::Here(span.clone(), kind);
        let p = Path::new(pattern);
        let full = normalize(&if p.is_absolute() {
            p.to_path_buf()
        } else {
            Path::new(&**file)
                .parent()
                .map_or_else(|| p.to_path_buf(), |d| d.join(p))
        });
        let has_wildcard = full.to_string_lossy().contains(['*', '?']);
        let globbed = if has_wildcard {
            self.loader.glob(&full)
        } else {
            Ok(vec![full.clone()])
        };
        let files = match globbed {
            Ok(f) => f,
            Err(_) if optional => return Ok(()),
            Err(e) => {
                return Err(here(ErrorKind::Io {
                    path: full.display().to_string(),
                    message: e.to_string(),
                }));
            }
        };
        if files.is_empty() && !optional {
            return Err(here(ErrorKind::IncludeNoMatch(full.display().to_string())));
        }
        for f in files {
            let norm = normalize(&f);
            if self.stack.contains(&norm) {
                return Err(here(ErrorKind::IncludeCycle(f.display().to_string())));
            }
            if self.stack.len() > self.options.max_include_depth {
                return Err(here(ErrorKind::IncludeTooDeep(
                    self.options.max_include_depth,
                )));
            }
            let bytes = match self.loader.read(&f) {
                Ok(b) => b,
                Err(e) if optional && e.kind() == io::ErrorKind::NotFound => continue,
                Err(e) => {
                    return Err(here(ErrorKind::Io {
                        path: f.display().to_string(),
                        message: e.to_string(),
                    }));
                }
            };
            let name: Arc<str> = Arc::from(f.display().to_string());
            self.chain.push(span.clone());
            let res = match decode(&bytes, &name) {
                Ok(text) => {
                    self.stack.push(norm);
                    let res = self.parse_source(text, name);
                    self.stack.pop();
                    res
                }
                Err(e) => Err(e.with_chain(&self.chain)),
            };
            self.chain.pop();
            res.map_err(Fail::Nested)?;
        }
        Ok(())
    }
}

/// Parses an argument that must hold exactly one variable.
fn single_variable(arg: &Arg, at: &dyn Fn(usize) -> Span) -> Result<Variable, Fail> {
    let map = |off: usize| at(arg.source_offset(off));
    let mut vars =
        parse_variables(&arg.value, &map).map_err(|(off, kind)| Fail::Here(map(off), kind))?;
    if vars.len() != 1 {
        return Err(Fail::Here(
            map(0),
            ErrorKind::BadVariable("expected exactly one variable".to_owned()),
        ));
    }
    vars.pop().ok_or_else(|| {
        Fail::Here(
            map(0),
            ErrorKind::BadVariable("expected a variable".to_owned()),
        )
    })
}

/// UTF-8 text of a file, or an error pointing at the first invalid byte.
fn decode<'b>(bytes: &'b [u8], name: &Arc<str>) -> Result<&'b str, ParseError> {
    std::str::from_utf8(bytes).map_err(|e| {
        let valid = bytes.get(..e.valid_up_to()).unwrap_or_default();
        let line = valid.iter().filter(|&&b| b == b'\n').count();
        let line_start = valid.iter().rposition(|&b| b == b'\n').map_or(0, |p| p + 1);
        let col = valid.len().saturating_sub(line_start);
        let span = Span {
            file: name.clone(),
            line: u32::try_from(line.saturating_add(1)).unwrap_or(u32::MAX),
            col: u32::try_from(col.saturating_add(1)).unwrap_or(u32::MAX),
        };
        ParseError::new(span, ErrorKind::InvalidUtf8, None)
    })
}

/// Lexical normalisation (`.` dropped, `..` popped) used to recognise include cycles.
fn normalize(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for c in path.components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir => {
                if !out.pop() {
                    out.push("..");
                }
            }
            other => out.push(other.as_os_str()),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn directive_table_is_sorted_lowercase_and_unique() {
        assert!(DIRECTIVES.windows(2).all(|w| w[0].0 < w[1].0));
        assert!(DIRECTIVES.iter().all(|(n, _)| *n == n.to_ascii_lowercase()));
        assert!(UNSUPPORTED.windows(2).all(|w| w[0] < w[1]));
        assert!(UNSUPPORTED.iter().all(|n| lookup(n).is_none()));
        assert!(is_unsupported("SecRuleScript"));
        assert!(is_known_directive("SECRULE"));
        assert!(is_known_directive("SecRequestBodyJsonDepthLimit"));
        assert!(!is_known_directive("SecFoo"));
    }

    #[test]
    fn normalisation() {
        assert_eq!(normalize(Path::new("/a/./b/../c")), PathBuf::from("/a/c"));
        assert_eq!(normalize(Path::new("../x")), PathBuf::from("../x"));
    }
}
