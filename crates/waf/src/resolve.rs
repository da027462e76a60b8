//! Variable resolution: a [`Target`] to the list of (name, value) items it yields for one
//! transaction, and macro expansion on top of it.
//!
//! Values are borrowed from the transaction where possible. Scalars always yield one item
//! (empty when unset, as ModSecurity v3 does); collections yield one item per selected
//! element. Collections TX, IP, SESSION, USER, GLOBAL, RESOURCE live only for the
//! transaction (nothing persists); ENV holds only what `setenv` wrote (no process
//! environment is read).

use std::borrow::Cow;

use crate::macros::{Part, Template};
use crate::rule::Rule;
use crate::transaction::{Collection, TxData};
use crate::util;
use crate::variables::{Sel, Target, Var};

/// Where resolved items go: a vector, or a callback that evaluates them in place (no
/// per-rule allocation).
pub(crate) trait Sink<'a> {
    fn push(&mut self, item: Item<'a>);
}

impl<'a> Sink<'a> for Vec<Item<'a>> {
    fn push(&mut self, item: Item<'a>) {
        Vec::push(self, item);
    }
}

/// A [`Sink`] calling a closure.
pub(crate) struct EachItem<F>(F);

/// Wraps a closure as a [`Sink`] (ties the closure's item lifetime to the data's).
pub(crate) fn each<'a, F: FnMut(Item<'a>)>(f: F) -> EachItem<F> {
    EachItem(f)
}

impl<'a, F: FnMut(Item<'a>)> Sink<'a> for EachItem<F> {
    fn push(&mut self, item: Item<'a>) {
        (self.0)(item);
    }
}

/// One resolved element.
#[derive(Debug, Clone)]
pub(crate) struct Item<'a> {
    pub var: Var,
    pub key: Option<Cow<'a, [u8]>>,
    pub value: Cow<'a, [u8]>,
}

impl Item<'_> {
    /// Writes `VAR` or `VAR:key`, as MATCHED_VAR_NAME shows it, into `out`.
    pub fn write_name(&self, out: &mut String) {
        out.push_str(self.var.name());
        if let Some(k) = &self.key {
            out.push(':');
            // `from_utf8` first: much faster than the lossy path on the usual ASCII keys.
            match std::str::from_utf8(k) {
                Ok(s) => out.push_str(s),
                Err(_) => out.push_str(&String::from_utf8_lossy(k)),
            }
        }
    }
}

fn pairs<'a>(
    var: Var,
    list: &'a [(Vec<u8>, Vec<u8>)],
    sel: &Sel,
    names: bool,
    out: &mut impl Sink<'a>,
) {
    for (k, v) in list {
        if sel.matches(k) {
            let value = if names {
                Cow::Borrowed(k.as_slice())
            } else {
                Cow::Borrowed(v.as_slice())
            };
            out.push(Item {
                var,
                key: Some(Cow::Borrowed(k.as_slice())),
                value,
            });
        }
    }
}

fn collection<'a>(var: Var, col: &'a Collection, sel: &Sel, out: &mut impl Sink<'a>) {
    match sel {
        Sel::Key { lower, .. } => {
            if let Some((k, v)) = col.get(lower) {
                out.push(Item {
                    var,
                    key: Some(Cow::Borrowed(k.as_bytes())),
                    value: Cow::Borrowed(v),
                });
            }
        }
        _ => {
            for (k, v) in col.select(|k| sel.matches(k.as_bytes())) {
                out.push(Item {
                    var,
                    key: Some(Cow::Borrowed(k.as_bytes())),
                    value: Cow::Borrowed(v),
                });
            }
        }
    }
}

fn scalar<'a>(var: Var, value: Cow<'a, [u8]>, out: &mut impl Sink<'a>) {
    out.push(Item {
        var,
        key: None,
        value,
    });
}

fn owned<'a>(var: Var, s: String, out: &mut impl Sink<'a>) {
    out.push(Item {
        var,
        key: None,
        value: Cow::Owned(s.into_bytes()),
    });
}

/// Resolves `t` (ignoring `count`) into `out`.
pub(crate) fn resolve_into<'a>(
    d: &'a TxData,
    rule: Option<&Rule>,
    t: &Target,
    out: &mut impl Sink<'a>,
) {
    let sel = &t.sel;
    let b = |v: &'a [u8]| Cow::Borrowed(v);
    match t.var {
        Var::Args => {
            pairs(Var::Args, &d.args_get, sel, false, out);
            pairs(Var::Args, &d.args_post, sel, false, out);
        }
        Var::ArgsGet => pairs(Var::ArgsGet, &d.args_get, sel, false, out),
        Var::ArgsPost => pairs(Var::ArgsPost, &d.args_post, sel, false, out),
        Var::ArgsNames => {
            pairs(Var::ArgsNames, &d.args_get, sel, true, out);
            pairs(Var::ArgsNames, &d.args_post, sel, true, out);
        }
        Var::ArgsGetNames => pairs(Var::ArgsGetNames, &d.args_get, sel, true, out),
        Var::ArgsPostNames => pairs(Var::ArgsPostNames, &d.args_post, sel, true, out),
        Var::ArgsCombinedSize => {
            let n: usize = d
                .args_get
                .iter()
                .chain(&d.args_post)
                .map(|(k, v)| k.len().saturating_add(v.len()))
                .sum();
            owned(t.var, n.to_string(), out);
        }
        Var::RequestHeaders => pairs(t.var, &d.req_headers, sel, false, out),
        Var::RequestHeadersNames => pairs(t.var, &d.req_headers, sel, true, out),
        Var::RequestCookies => pairs(t.var, &d.cookies, sel, false, out),
        Var::RequestCookiesNames => pairs(t.var, &d.cookies, sel, true, out),
        Var::ResponseHeaders => pairs(t.var, &d.resp_headers, sel, false, out),
        Var::ResponseHeadersNames => pairs(t.var, &d.resp_headers, sel, true, out),
        Var::RequestUri => scalar(t.var, b(&d.uri), out),
        Var::RequestUriRaw => scalar(t.var, b(&d.uri_raw), out),
        Var::RequestFilename | Var::PathInfo => scalar(t.var, b(&d.filename), out),
        Var::RequestBasename => scalar(t.var, b(&d.basename), out),
        Var::RequestLine => scalar(t.var, b(&d.request_line), out),
        Var::RequestMethod => scalar(t.var, b(&d.method), out),
        Var::RequestProtocol => scalar(t.var, b(&d.protocol), out),
        Var::QueryString => scalar(t.var, b(&d.query), out),
        Var::RequestBody => {
            if d.req_body_var {
                scalar(t.var, b(&d.req_body), out);
            }
        }
        Var::RequestBodyLength => owned(t.var, d.req_body.len().to_string(), out),
        Var::FullRequest => scalar(t.var, b(&d.full_request), out),
        Var::FullRequestLength => owned(t.var, d.full_request.len().to_string(), out),
        Var::Files
        | Var::FilesNames
        | Var::FilesSizes
        | Var::FilesTmpNames
        | Var::FilesTmpContent => {
            for f in &d.files {
                if !sel.matches(&f.field) {
                    continue;
                }
                let value = match t.var {
                    Var::Files => b(&f.filename),
                    Var::FilesNames => b(&f.field),
                    Var::FilesSizes => Cow::Owned(f.size.to_string().into_bytes()),
                    Var::FilesTmpContent => b(&f.content),
                    _ => Cow::Borrowed(&b""[..]),
                };
                out.push(Item {
                    var: t.var,
                    key: Some(b(&f.field)),
                    value,
                });
            }
        }
        Var::FilesCombinedSize => owned(t.var, d.files_combined_size.to_string(), out),
        Var::MultipartFilename | Var::MultipartName => {
            let list = if t.var == Var::MultipartName {
                &d.multipart_names
            } else {
                &d.multipart_filenames
            };
            for v in list {
                out.push(Item {
                    var: t.var,
                    key: None,
                    value: b(v),
                });
            }
        }
        Var::MultipartPartHeaders => pairs(t.var, &d.multipart_part_headers, sel, false, out),
        Var::MultipartFlag(flag) => {
            let v = d
                .multipart_flags
                .iter()
                .find(|(f, _)| *f == flag)
                .map_or(0, |(_, v)| *v);
            owned(t.var, v.to_string(), out);
        }
        Var::ReqbodyError | Var::ReqbodyProcessorError => {
            owned(
                t.var,
                if d.reqbody_error == Some(true) {
                    "1"
                } else {
                    "0"
                }
                .to_owned(),
                out,
            );
        }
        Var::ReqbodyErrorMsg | Var::ReqbodyProcessorErrorMsg => {
            scalar(t.var, b(&d.reqbody_error_msg), out)
        }
        Var::ReqbodyProcessor => {
            let v = d.reqbody_processor.map_or("", |p| p.name());
            scalar(t.var, Cow::Borrowed(v.as_bytes()), out);
        }
        Var::UrlencodedError => owned(
            t.var,
            if d.urlencoded_error { "1" } else { "0" }.to_owned(),
            out,
        ),
        Var::Xml => {
            if let Some(doc) = &d.xml {
                let wants_attrs = matches!(sel, Sel::Key { raw, .. } if raw.contains('@'));
                if wants_attrs {
                    for v in &doc.attribute_values {
                        out.push(Item {
                            var: t.var,
                            key: None,
                            value: b(v),
                        });
                    }
                } else {
                    out.push(Item {
                        var: t.var,
                        key: None,
                        value: b(&doc.content),
                    });
                }
            }
        }
        Var::Tx => collection(t.var, &d.cols[0], sel, out),
        Var::Ip => collection(t.var, &d.cols[1], sel, out),
        Var::Session => collection(t.var, &d.cols[2], sel, out),
        Var::User => collection(t.var, &d.cols[3], sel, out),
        Var::Global => collection(t.var, &d.cols[4], sel, out),
        Var::Resource => collection(t.var, &d.cols[5], sel, out),
        Var::Env => collection(t.var, &d.cols[6], sel, out),
        Var::Geo | Var::WebserverErrorLog => {}
        Var::RemoteAddr => scalar(t.var, b(d.remote_addr.as_bytes()), out),
        Var::RemotePort => scalar(t.var, b(d.remote_port.as_bytes()), out),
        Var::RemoteHost => scalar(t.var, b(d.remote_addr.as_bytes()), out),
        Var::RemoteUser | Var::Userid | Var::Sessionid => {
            scalar(t.var, Cow::Borrowed(&b""[..]), out)
        }
        Var::ServerAddr => scalar(t.var, b(d.server_addr.as_bytes()), out),
        Var::ServerPort => scalar(t.var, b(d.server_port.as_bytes()), out),
        Var::ServerName => scalar(t.var, b(&d.server_name), out),
        Var::UniqueId => scalar(t.var, b(d.unique_id.as_bytes()), out),
        Var::Time
        | Var::TimeDay
        | Var::TimeEpoch
        | Var::TimeHour
        | Var::TimeMin
        | Var::TimeMon
        | Var::TimeSec
        | Var::TimeWday
        | Var::TimeYear => {
            let (y, mo, da, h, mi, s, wd) = util::civil(d.epoch);
            let v = match t.var {
                Var::Time => format!("{h:02}:{mi:02}:{s:02}"),
                Var::TimeDay => da.to_string(),
                Var::TimeEpoch => d.epoch.to_string(),
                Var::TimeHour => h.to_string(),
                Var::TimeMin => mi.to_string(),
                Var::TimeMon => mo.to_string(),
                Var::TimeSec => s.to_string(),
                Var::TimeWday => wd.to_string(),
                _ => y.to_string(),
            };
            owned(t.var, v, out);
        }
        Var::Duration => {
            let ms = d.started.map_or(0, |s| s.elapsed().as_millis());
            owned(t.var, ms.to_string(), out);
        }
        Var::ResponseStatus => owned(
            t.var,
            d.status.map_or(String::new(), |s| s.to_string()),
            out,
        ),
        Var::ResponseProtocol => scalar(t.var, b(&d.resp_protocol), out),
        Var::ResponseBody => {
            if d.resp_body_var {
                scalar(t.var, b(&d.resp_body), out);
            }
        }
        Var::ResponseContentType => scalar(t.var, b(&d.resp_content_type), out),
        Var::ResponseContentLength => owned(t.var, d.resp_body.len().to_string(), out),
        Var::StatusLine => {
            let line = format!(
                "{} {}",
                String::from_utf8_lossy(&d.resp_protocol),
                d.status.map_or(String::new(), |s| s.to_string())
            );
            owned(t.var, line, out);
        }
        Var::AuthType => scalar(t.var, b(&d.auth_type), out),
        Var::MatchedVar => scalar(t.var, b(&d.matched_var), out),
        Var::MatchedVarName => scalar(t.var, b(d.matched_var_name.as_bytes()), out),
        Var::MatchedVars | Var::MatchedVarsNames => {
            for (name, value) in d.matched_vars.get(..d.matched_vars_len).unwrap_or_default() {
                if !sel.matches(name.as_bytes()) {
                    continue;
                }
                let v = if t.var == Var::MatchedVars {
                    b(value)
                } else {
                    b(name.as_bytes())
                };
                out.push(Item {
                    var: t.var,
                    key: Some(b(name.as_bytes())),
                    value: v,
                });
            }
        }
        Var::Rule => {
            if let Some(r) = rule {
                let fields: [(&str, Option<String>); 8] = [
                    ("id", Some(r.id.to_string())),
                    ("phase", Some(r.phase.to_string())),
                    ("msg", r.msg_text()),
                    ("rev", r.actions.rev.clone()),
                    ("ver", r.actions.ver.clone()),
                    ("severity", r.actions.severity.map(|s| s.to_string())),
                    ("maturity", r.actions.maturity.map(|s| s.to_string())),
                    ("accuracy", r.actions.accuracy.map(|s| s.to_string())),
                ];
                for (k, v) in fields {
                    if let Some(v) = v
                        && sel.matches(k.as_bytes())
                    {
                        out.push(Item {
                            var: t.var,
                            key: Some(b(k.as_bytes())),
                            value: Cow::Owned(v.into_bytes()),
                        });
                    }
                }
            }
        }
        Var::HighestSeverity => owned(
            t.var,
            d.highest_severity.map_or(255, u16::from).to_string(),
            out,
        ),
        Var::InboundDataError => owned(
            t.var,
            if d.inbound_data_error { "1" } else { "0" }.to_owned(),
            out,
        ),
        Var::OutboundDataError => owned(
            t.var,
            if d.outbound_data_error { "1" } else { "0" }.to_owned(),
            out,
        ),
        Var::MscPcreLimitsExceeded => owned(
            t.var,
            if d.regex_limit_exceeded { "1" } else { "0" }.to_owned(),
            out,
        ),
    }
}

/// Resolves `t` including `&` counting.
pub(crate) fn resolve<'a>(d: &'a TxData, rule: Option<&Rule>, t: &Target, out: &mut impl Sink<'a>) {
    if t.count {
        let mut n = 0usize;
        resolve_into(d, rule, t, &mut each(|_| n += 1));
        // Counts are nearly always one digit (CRS's `&TX:x "@eq 0"` setup checks): those
        // borrow a static text instead of allocating one.
        const DIGITS: [&[u8]; 10] = [b"0", b"1", b"2", b"3", b"4", b"5", b"6", b"7", b"8", b"9"];
        let value = match DIGITS.get(n) {
            Some(d) => Cow::Borrowed(*d),
            None => Cow::Owned(n.to_string().into_bytes()),
        };
        out.push(Item {
            var: t.var,
            key: None,
            value,
        });
    } else {
        resolve_into(d, rule, t, out);
    }
}

/// The index in `TxData::cols` of a collection variable.
pub(crate) fn collection_slot(var: Var) -> Option<usize> {
    Some(match var {
        Var::Tx => 0,
        Var::Ip => 1,
        Var::Session => 2,
        Var::User => 3,
        Var::Global => 4,
        Var::Resource => 5,
        Var::Env => 6,
        _ => return None,
    })
}

/// Expands a macro template, borrowing instead of allocating in the common cases (one
/// literal, or one collection element such as `%{tx.critical_anomaly_score}`). Same result
/// as [`expand`].
pub(crate) fn expand_cow<'d>(
    tpl: &'d Template,
    d: &'d TxData,
    rule: Option<&Rule>,
) -> Cow<'d, [u8]> {
    match tpl.parts.as_slice() {
        [] => Cow::Borrowed(&b""[..]),
        [Part::Lit(s)] => Cow::Borrowed(s.as_bytes()),
        [Part::Var { var, key: Some(k) }] if collection_slot(*var).is_some() => {
            let v = collection_slot(*var)
                .and_then(|i| d.cols.get(i))
                .and_then(|c| c.get(k.as_str()))
                .map_or(&b""[..], |(_, v)| v.as_slice());
            Cow::Borrowed(v)
        }
        _ => Cow::Owned(expand(tpl, d, rule)),
    }
}

/// Expands a macro template.
pub(crate) fn expand(tpl: &Template, d: &TxData, rule: Option<&Rule>) -> Vec<u8> {
    let mut out = Vec::new();
    for p in &tpl.parts {
        match p {
            Part::Lit(s) => out.extend_from_slice(s.as_bytes()),
            Part::Var { var, key } => {
                // Collection element (`%{tx.foo}`, the common case): a direct lookup, with
                // no selector or target built (same result as `collection` with a key).
                if let (Some(i), Some(k)) = (collection_slot(*var), key) {
                    if let Some((_, v)) = d.cols.get(i).and_then(|c| c.get(k.as_str())) {
                        out.extend_from_slice(v);
                    }
                    continue;
                }
                let sel = match key {
                    Some(k) => Sel::Key {
                        lower: k.clone(),
                        raw: k.clone(),
                    },
                    None => Sel::All,
                };
                let mut first: Option<Cow<'_, [u8]>> = None;
                let target = Target {
                    var: *var,
                    sel,
                    count: false,
                };
                resolve_into(
                    d,
                    rule,
                    &target,
                    &mut each(|it| {
                        if first.is_none() {
                            first = Some(it.value);
                        }
                    }),
                );
                if let Some(v) = first {
                    out.extend_from_slice(&v);
                }
            }
        }
    }
    out
}
