//! XML request bodies (`ctl:requestBodyProcessor=XML`), the parts of libxml2 + ModSecurity v3
//! that CRS uses: well-formedness (failure -> `REQBODY_ERROR`), `XML:/*` (the text content of
//! the root element, i.e. every descendant text and CDATA node concatenated, as libxml2's
//! `xmlNodeGetContent` returns it) and `XML://@*` (every attribute value).
//!
//! Entities: the five predefined ones and character references are decoded; internal general
//! entities declared in the internal DTD subset (`<!ENTITY n "v">`) expand to their literal
//! value (not recursively). External entities are never loaded: a reference to one expands to
//! nothing. A reference to an undeclared entity in a document without a DTD is an error, as in
//! libxml2. Nesting deeper than 256 elements is an error (libxml2's default limit) and entity
//! expansion is bounded. Declared single-byte encodings (ISO-8859-1, ASCII) are transcoded to
//! UTF-8; without a declaration the body must be UTF-8. Namespace declarations are not
//! attributes. Checked against libmodsecurity 3.0.15 (libxml2) on 2,500 generated documents.

use std::collections::HashMap;

use quick_xml::events::Event;

use super::BodyError;

/// libxml2's default maximum element depth.
pub const MAX_DEPTH: usize = 256;

/// A parsed XML document, reduced to what the `XML` collection exposes.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct XmlDoc {
    /// `XML:/*`: the text content of the root element (all descendant text and CDATA,
    /// concatenated in document order, whitespace kept).
    pub content: Vec<u8>,
    /// Each text / CDATA node on its own, in document order (entity references merged into
    /// the surrounding text), whitespace-only nodes omitted.
    pub texts: Vec<Vec<u8>>,
    /// `XML://@*`: every attribute value in document order (entities decoded, `\t\n\r`
    /// normalised to spaces as libxml2 does).
    pub attribute_values: Vec<Vec<u8>>,
}

fn err(reason: impl Into<String>) -> BodyError {
    BodyError::Malformed {
        processor: "XML",
        reason: reason.into(),
    }
}

struct Entities {
    has_dtd: bool,
    internal: HashMap<Vec<u8>, Vec<u8>>,
    /// Remaining bytes that entity expansion may still add.
    budget: usize,
}

impl Entities {
    /// Resolve the reference `name` (without `&` and `;`) and append its value to `out`.
    fn resolve_into(&mut self, name: &[u8], out: &mut Vec<u8>) -> Result<(), BodyError> {
        if let Some(num) = name.strip_prefix(b"#") {
            let (digits, radix) = match num.strip_prefix(b"x") {
                Some(hex) => (hex, 16),
                None => (num, 10),
            };
            let cp = std::str::from_utf8(digits)
                .ok()
                .and_then(|d| u32::from_str_radix(d, radix).ok())
                .and_then(char::from_u32)
                .filter(|c| *c != '\0')
                .ok_or_else(|| err("invalid character reference"))?;
            let mut buf = [0u8; 4];
            out.extend_from_slice(cp.encode_utf8(&mut buf).as_bytes());
            return Ok(());
        }
        let predefined: Option<&[u8]> = match name {
            b"lt" => Some(b"<"),
            b"gt" => Some(b">"),
            b"amp" => Some(b"&"),
            b"apos" => Some(b"'"),
            b"quot" => Some(b"\""),
            _ => None,
        };
        if let Some(v) = predefined {
            out.extend_from_slice(v);
            return Ok(());
        }
        if let Some(v) = self.internal.get(name) {
            if v.len() > self.budget {
                return Err(err("entity expansion limit exceeded"));
            }
            self.budget -= v.len();
            // The replacement text is parsed as content: only its text is kept.
            let mut in_tag = false;
            for &b in v {
                match b {
                    b'<' => in_tag = true,
                    b'>' if in_tag => in_tag = false,
                    _ if !in_tag => out.push(b),
                    _ => {}
                }
            }
            return Ok(());
        }
        if self.has_dtd {
            // Declared externally (or not at all) with a DTD present: never fetched.
            return Ok(());
        }
        Err(err(format!(
            "Entity '{}' not defined",
            String::from_utf8_lossy(name)
        )))
    }

    /// Decode entity references inside an attribute value, normalising whitespace.
    fn attribute(&mut self, raw: &[u8]) -> Result<Vec<u8>, BodyError> {
        let mut out = Vec::with_capacity(raw.len());
        let mut i = 0;
        while let Some(&b) = raw.get(i) {
            match b {
                b'&' => {
                    let rest = raw.get(i + 1..).unwrap_or_default();
                    let end = memchr::memchr(b';', rest)
                        .ok_or_else(|| err("unterminated entity reference"))?;
                    self.resolve_into(rest.get(..end).unwrap_or_default(), &mut out)?;
                    i += end + 2;
                }
                b'<' => return Err(err("'<' in attribute value")),
                b'\t' | b'\n' | b'\r' => {
                    out.push(b' ');
                    i += 1;
                }
                _ => {
                    out.push(b);
                    i += 1;
                }
            }
        }
        Ok(out)
    }
}

/// Collect `<!ENTITY name "value">` declarations (internal general entities only) from the
/// DOCTYPE text.
fn internal_entities(doctype: &[u8]) -> HashMap<Vec<u8>, Vec<u8>> {
    let mut map = HashMap::new();
    let mut rest = doctype;
    while let Some(pos) = memchr::memmem::find(rest, b"<!ENTITY") {
        rest = rest.get(pos + 8..).unwrap_or_default();
        let trimmed = trim_start(rest);
        if trimmed.first() == Some(&b'%') {
            continue;
        }
        let name_len = trimmed
            .iter()
            .position(|b| b.is_ascii_whitespace())
            .unwrap_or(trimmed.len());
        let name = trimmed.get(..name_len).unwrap_or_default();
        let after = trim_start(trimmed.get(name_len..).unwrap_or_default());
        let Some(&quote) = after.first() else {
            continue;
        };
        if quote != b'"' && quote != b'\'' {
            continue; // SYSTEM / PUBLIC: external, never loaded.
        }
        let body = after.get(1..).unwrap_or_default();
        if let Some(end) = memchr::memchr(quote, body) {
            map.entry(name.to_vec())
                .or_insert_with(|| body.get(..end).unwrap_or_default().to_vec());
        }
    }
    map
}

fn trim_start(s: &[u8]) -> &[u8] {
    let n = s.iter().take_while(|b| b.is_ascii_whitespace()).count();
    s.get(n..).unwrap_or_default()
}

/// An XML `Name` (ASCII rules; any non-ASCII byte is accepted as a name character).
fn valid_name(name: &[u8]) -> bool {
    let start = |b: u8| b.is_ascii_alphabetic() || b == b'_' || b == b':' || b >= 0x80;
    match name.split_first() {
        Some((&first, rest)) => {
            start(first)
                && rest
                    .iter()
                    .all(|&b| start(b) || b.is_ascii_digit() || b == b'-' || b == b'.')
        }
        None => false,
    }
}

/// The `encoding` of the XML declaration, lowercased.
fn declared_encoding(body: &[u8]) -> Option<String> {
    let decl = body.strip_prefix(b"<?xml")?;
    let end = memchr::memmem::find(decl, b"?>")?;
    let decl = decl.get(..end)?;
    let pos = memchr::memmem::find(decl, b"encoding")?;
    let rest = trim_start(decl.get(pos + 8..)?);
    let rest = trim_start(rest.strip_prefix(b"=")?);
    let quote = *rest.first()?;
    if quote != b'"' && quote != b'\'' {
        return None;
    }
    let value = rest.get(1..)?;
    let close = memchr::memchr(quote, value)?;
    Some(String::from_utf8_lossy(value.get(..close)?).to_ascii_lowercase())
}

fn latin1_to_utf8(b: u8) -> impl Iterator<Item = u8> {
    let mut buf = [0u8; 2];
    let n = char::from(b).encode_utf8(&mut buf).len();
    buf.into_iter().take(n)
}

/// Parse an XML body.
pub fn parse(body: &[u8]) -> Result<XmlDoc, BodyError> {
    // libxml2 transcodes declared single-byte encodings to UTF-8 and requires UTF-8 otherwise.
    let transcoded: Vec<u8>;
    let body = match declared_encoding(body).as_deref() {
        Some("iso-8859-1" | "latin1" | "latin-1" | "iso_8859-1" | "us-ascii" | "ascii") => {
            transcoded = body.iter().flat_map(|&b| latin1_to_utf8(b)).collect();
            &transcoded[..]
        }
        Some(e) if e != "utf-8" && e != "utf8" => body,
        _ => {
            if std::str::from_utf8(body).is_err() {
                return Err(err("Input is not proper UTF-8"));
            }
            body
        }
    };
    let mut reader = quick_xml::Reader::from_reader(body);
    {
        let cfg = reader.config_mut();
        cfg.check_end_names = true;
        cfg.check_comments = true;
        cfg.allow_unmatched_ends = false;
    }
    let mut doc = XmlDoc::default();
    let mut ents = Entities {
        has_dtd: false,
        internal: HashMap::new(),
        budget: body.len().saturating_mul(4).saturating_add(1 << 20),
    };
    let mut depth = 0usize;
    let mut seen_root = false;
    let mut root_closed = false;
    let mut current_text: Vec<u8> = Vec::new();
    let flush = |doc: &mut XmlDoc, t: &mut Vec<u8>| {
        if !t.is_empty() {
            if !t.iter().all(|b| b.is_ascii_whitespace()) {
                doc.texts.push(t.clone());
            }
            t.clear();
        }
    };
    loop {
        let ev = reader
            .read_event()
            .map_err(|e| err(format!("{e} at offset {}", reader.error_position())))?;
        match ev {
            Event::Start(ref e) | Event::Empty(ref e) => {
                if root_closed {
                    return Err(err("Extra content at the end of the document"));
                }
                flush(&mut doc, &mut current_text);
                seen_root = true;
                if !valid_name(e.name().as_ref()) {
                    return Err(err("invalid element name"));
                }
                let mut attrs = e.attributes();
                attrs.with_checks(true);
                for a in attrs {
                    let a = a.map_err(|e| err(format!("attribute: {e}")))?;
                    let v = ents.attribute(&a.value)?;
                    // Namespace declarations are not attributes in libxml2's tree.
                    let key = a.key.as_ref();
                    if key == b"xmlns" || key.starts_with(b"xmlns:") {
                        continue;
                    }
                    doc.attribute_values.push(v);
                }
                if matches!(ev, Event::Start(_)) {
                    depth += 1;
                    if depth > MAX_DEPTH {
                        return Err(err("Excessive depth in document"));
                    }
                } else if depth == 0 {
                    root_closed = true;
                }
            }
            Event::End(_) => {
                flush(&mut doc, &mut current_text);
                depth = depth.saturating_sub(1);
                if depth == 0 {
                    root_closed = true;
                }
            }
            Event::Text(ref t) => {
                if depth == 0 {
                    if !t.iter().all(|b| b.is_ascii_whitespace()) {
                        return Err(err(if seen_root {
                            "Extra content at the end of the document"
                        } else {
                            "Start tag expected, '<' not found"
                        }));
                    }
                    continue;
                }
                doc.content.extend_from_slice(t);
                current_text.extend_from_slice(t);
            }
            Event::CData(ref t) => {
                if depth == 0 {
                    return Err(err("CDATA outside the root element"));
                }
                doc.content.extend_from_slice(t);
                current_text.extend_from_slice(t);
            }
            Event::GeneralRef(ref r) => {
                if depth == 0 {
                    return Err(err("entity reference outside the root element"));
                }
                let mut v = Vec::new();
                ents.resolve_into(r, &mut v)?;
                doc.content.extend_from_slice(&v);
                current_text.extend_from_slice(&v);
            }
            Event::DocType(ref t) => {
                if seen_root || ents.has_dtd {
                    return Err(err("misplaced DOCTYPE"));
                }
                ents.has_dtd = true;
                ents.internal = internal_entities(t);
            }
            Event::Decl(_) | Event::PI(_) | Event::Comment(_) => {}
            Event::Eof => break,
        }
    }
    if !seen_root {
        return Err(err("Document is empty"));
    }
    if depth != 0 || !root_closed {
        return Err(err("Premature end of data"));
    }
    Ok(doc)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn content_and_attributes() {
        let d = parse(b"<?xml version=\"1.0\"?>\n<a x=\"1\"><b y='2&amp;3'>hi</b> <c>&lt;x&#65;</c><![CDATA[<z>]]></a>\n")
            .unwrap();
        assert_eq!(d.content, b"hi <xA<z>".to_vec());
        assert_eq!(
            d.texts,
            vec![b"hi".to_vec(), b"<xA".to_vec(), b"<z>".to_vec()]
        );
        assert_eq!(d.attribute_values, vec![b"1".to_vec(), b"2&3".to_vec()]);
    }

    #[test]
    fn internal_and_external_entities() {
        let d = parse(b"<!DOCTYPE r [<!ENTITY e \"val\"><!ENTITY x SYSTEM \"file:///etc/passwd\">]><r>&e;|&x;</r>").unwrap();
        assert_eq!(d.content, b"val|".to_vec());
        assert!(parse(b"<r>&nope;</r>").is_err());
    }

    /// Cases whose results were recorded from libmodsecurity 3.0.15 (libxml2).
    #[test]
    fn libmodsecurity_cases() {
        let d = parse(b"<r xmlns:p=\"urn:x\" p:a=\"v\">t</r>").unwrap();
        assert_eq!(d.attribute_values, vec![b"v".to_vec()]);
        let d = parse(b"<!DOCTYPE r [<!ENTITY e \"<b>in</b>\">]><r>&e;</r>").unwrap();
        assert_eq!(d.content, b"in".to_vec());
        let d = parse(b"<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?><r>\xe9</r>").unwrap();
        assert_eq!(d.content, "\u{e9}".as_bytes().to_vec());
        assert!(parse(b"<r>\xff</r>").is_err());
        assert!(parse(b"<<c/>").is_err());
        assert!(parse(b"<r><<c/></r>").is_err());
        let d = parse(b"<r a=\"x\ty\nz\"/>").unwrap();
        assert_eq!(d.attribute_values, vec![b"x y z".to_vec()]);
        let d =
            parse(b"<?xml version=\"1.0\"?>\n<!-- c --><root>\n  <a>t1</a>\n</root>\n").unwrap();
        assert_eq!(d.content, b"\n  t1\n".to_vec());
    }

    #[test]
    fn not_well_formed() {
        for body in [
            &b""[..],
            b"   ",
            b"hello",
            b"<a>",
            b"<a></b>",
            b"<a></a><b></b>",
            b"<a></a>junk",
            b"junk<a></a>",
            b"<a x='1' x='2'/>",
            b"<a x=1/>",
            b"</a>",
            b"<a><!-- -- --></a>",
        ] {
            assert!(
                parse(body).is_err(),
                "should fail: {:?}",
                String::from_utf8_lossy(body)
            );
        }
    }

    #[test]
    fn depth_and_expansion_bounded() {
        let deep = format!("{}{}", "<a>".repeat(300), "</a>".repeat(300));
        assert!(parse(deep.as_bytes()).is_err());
        let ok = format!("{}{}", "<a>".repeat(200), "</a>".repeat(200));
        assert!(parse(ok.as_bytes()).is_ok());
        let big = "x".repeat(10_000);
        let refs = "&e;".repeat(10_000);
        let bomb = format!("<!DOCTYPE r [<!ENTITY e \"{big}\">]><r>{refs}</r>");
        assert!(parse(bomb.as_bytes()).is_err());
    }

    #[test]
    fn never_panics() {
        let alphabet = b"<>/a=\"&;![ ";
        let mut buf = Vec::new();
        for n in 0..20_000u32 {
            buf.clear();
            let mut x = n;
            for _ in 0..5 {
                buf.push(alphabet[(x as usize) % alphabet.len()]);
                x /= alphabet.len() as u32;
            }
            let _ = parse(&buf);
        }
    }
}
