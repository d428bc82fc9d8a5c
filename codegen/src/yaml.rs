//! A small YAML document tree that keeps byte spans on every node.
//!
//! Why not serde: serde deserialisation stops at the first error and forgets
//! where values came from. The registry needs every error at once, each with
//! `file:line:col`, and `ampygen lock` must rewrite a single scalar in place
//! without disturbing comments or quoting. So we build a tree from
//! saphyr-parser's event stream (a maintained YAML 1.2 parser that reports
//! start and end markers for every event) and decode it by hand.

use std::ops::Range;
use std::sync::Arc;

use saphyr_parser::{Event, Marker, Parser, ScalarStyle};

use crate::diag::{Diagnostic, Source};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Style {
    Plain,
    SingleQuoted,
    DoubleQuoted,
    Literal,
    Folded,
}

#[derive(Clone, Debug)]
pub enum Kind {
    Scalar { value: String, style: Style },
    Seq(Vec<Node>),
    Map(Vec<(Node, Node)>),
}

#[derive(Clone, Debug)]
pub struct Node {
    pub kind: Kind,
    /// Byte range in the source. For quoted scalars it covers the quotes.
    pub span: Range<usize>,
}

impl Node {
    /// A YAML 1.2 core-schema null: `~`, `null`, or nothing at all.
    pub fn is_null(&self) -> bool {
        matches!(&self.kind, Kind::Scalar { value, style: Style::Plain }
            if matches!(value.as_str(), "" | "~" | "null" | "Null" | "NULL"))
    }

    pub fn as_scalar(&self) -> Option<&str> {
        match &self.kind {
            Kind::Scalar { value, .. } if !self.is_null() => Some(value),
            _ => None,
        }
    }

    pub fn style(&self) -> Option<Style> {
        match &self.kind {
            Kind::Scalar { style, .. } => Some(*style),
            _ => None,
        }
    }

    pub fn kind_name(&self) -> &'static str {
        match &self.kind {
            _ if self.is_null() => "null",
            Kind::Scalar { .. } => "a scalar",
            Kind::Seq(_) => "a list",
            Kind::Map(_) => "a mapping",
        }
    }
}

/// Parses a single-document YAML source into a [`Node`] tree.
pub fn parse(source: &Arc<Source>) -> Result<Node, Diagnostic> {
    let text = source.text();
    let mut builder = Builder { source, stack: Vec::new(), root: None };
    let mut offsets = Offsets::new(text);
    let mut offset = |m: &Marker| offsets.of(m);
    let mut parser = Parser::new_from_str(text);
    let mut documents = 0usize;
    // The parser keeps yielding the same error forever once it fails, so
    // the first error ends the loop.
    while let Some(next) = parser.next_event() {
        let (event, span) = match next {
            Ok(ok) => ok,
            Err(err) => {
                let at = offset(err.marker());
                return Err(Diagnostic::error("yaml::syntax", format!("invalid YAML: {}", err.info()))
                    .at(source, at..at)
                    .help("fix the YAML syntax at this position; the registry must be a single YAML document"));
            }
        };
        let start = offset(&span.start);
        let end = offset(&span.end).max(start);
        match event {
            Event::StreamStart | Event::StreamEnd | Event::Nothing | Event::DocumentEnd => {}
            Event::DocumentStart(_) => {
                documents += 1;
                if documents > 1 {
                    return Err(Diagnostic::error(
                        "yaml::multiple_documents",
                        "the registry must be a single YAML document",
                    )
                    .at(source, start..end.max(start + 3).min(text.len()))
                    .help("remove the second `---` document or move it to its own file"));
                }
            }
            Event::Alias(_) => {
                return Err(unsupported(source, start..end, "aliases (`*name`)"));
            }
            Event::Scalar(value, style, anchor, tag) => {
                builder.check_extras(anchor, tag.is_some(), start..end)?;
                let style = match style {
                    ScalarStyle::Plain => Style::Plain,
                    ScalarStyle::SingleQuoted => Style::SingleQuoted,
                    ScalarStyle::DoubleQuoted => Style::DoubleQuoted,
                    ScalarStyle::Literal => Style::Literal,
                    ScalarStyle::Folded => Style::Folded,
                };
                let span = scalar_span(text, start, end, style);
                builder.add(Node { kind: Kind::Scalar { value: value.into_owned(), style }, span })?;
            }
            Event::SequenceStart(anchor, tag) => {
                builder.check_extras(anchor, tag.is_some(), start..end)?;
                builder.stack.push(Open { kind: Kind::Seq(Vec::new()), start, pending_key: None });
            }
            Event::MappingStart(anchor, tag) => {
                builder.check_extras(anchor, tag.is_some(), start..end)?;
                builder.stack.push(Open { kind: Kind::Map(Vec::new()), start, pending_key: None });
            }
            Event::SequenceEnd | Event::MappingEnd => {
                let Some(open) = builder.stack.pop() else { continue };
                let node_end = last_end(&open.kind).unwrap_or(end).max(open.start);
                builder.add(Node { kind: open.kind, span: open.start..node_end })?;
            }
        }
    }
    builder.root.ok_or_else(|| {
        Diagnostic::error("yaml::empty", "the registry file is empty")
            .at(source, 0..0)
            .help("start from the bundled registry/ampy.yaml")
    })
}

struct Open {
    kind: Kind,
    start: usize,
    pending_key: Option<Node>,
}

struct Builder<'a> {
    source: &'a Arc<Source>,
    stack: Vec<Open>,
    root: Option<Node>,
}

impl Builder<'_> {
    fn check_extras(&self, anchor: usize, tagged: bool, span: Range<usize>) -> Result<(), Diagnostic> {
        if anchor != 0 {
            return Err(unsupported(self.source, span, "anchors (`&name`)"));
        }
        if tagged {
            return Err(unsupported(self.source, span, "tags (`!tag`)"));
        }
        Ok(())
    }

    fn add(&mut self, node: Node) -> Result<(), Diagnostic> {
        let Some(top) = self.stack.last_mut() else {
            self.root = Some(node);
            return Ok(());
        };
        match &mut top.kind {
            Kind::Seq(items) => items.push(node),
            Kind::Map(entries) => match top.pending_key.take() {
                None => {
                    if !matches!(node.kind, Kind::Scalar { .. }) {
                        return Err(Diagnostic::error("yaml::complex_key", "mapping keys must be plain strings")
                            .at(self.source, node.span)
                            .help("use a plain scalar such as `name:` as the key"));
                    }
                    top.pending_key = Some(node);
                }
                Some(key) => entries.push((key, node)),
            },
            Kind::Scalar { .. } => {}
        }
        Ok(())
    }
}

fn unsupported(source: &Arc<Source>, span: Range<usize>, what: &str) -> Diagnostic {
    Diagnostic::error("yaml::unsupported", format!("YAML {what} are not supported in a registry"))
        .at(source, span)
        .help("write the value out in full; the registry is meant to be read by people and diffed in review")
}

fn last_end(kind: &Kind) -> Option<usize> {
    match kind {
        Kind::Seq(items) => items.last().map(|n| n.span.end),
        Kind::Map(entries) => entries.last().map(|(_, v)| v.span.end),
        Kind::Scalar { .. } => None,
    }
}

/// Byte offsets of parser markers, which count characters. In ASCII text
/// they are the same; otherwise a cursor walks from the previous marker,
/// which keeps the whole parse linear (events arrive in text order, so
/// the walks add up to one pass plus short steps back).
struct Offsets<'t> {
    text: &'t str,
    ascii: bool,
    chars: usize,
    bytes: usize,
}

impl<'t> Offsets<'t> {
    fn new(text: &'t str) -> Self {
        Self { text, ascii: text.is_ascii(), chars: 0, bytes: 0 }
    }

    fn of(&mut self, marker: &Marker) -> usize {
        let target = marker.index();
        if self.ascii {
            return target.min(self.text.len());
        }
        while self.chars > target {
            let Some(c) = self.text[..self.bytes].chars().next_back() else { break };
            self.bytes -= c.len_utf8();
            self.chars -= 1;
        }
        let mut rest = self.text[self.bytes..].chars();
        while self.chars < target {
            let Some(c) = rest.next() else { break };
            self.bytes += c.len_utf8();
            self.chars += 1;
        }
        self.bytes
    }
}

/// The exact extent of a scalar. The parser's end marker for quoted
/// scalars can run on over a trailing comment, so quoted extents are
/// re-scanned from the opening quote; plain ones drop trailing blanks.
fn scalar_span(text: &str, start: usize, end: usize, style: Style) -> Range<usize> {
    let bytes = text.as_bytes();
    match style {
        Style::DoubleQuoted | Style::SingleQuoted => {
            let quote = if style == Style::DoubleQuoted { b'"' } else { b'\'' };
            let mut i = start + 1;
            while i < bytes.len() {
                let b = bytes[i];
                if style == Style::DoubleQuoted && b == b'\\' {
                    i += 2;
                    continue;
                }
                if b == quote {
                    if style == Style::SingleQuoted && bytes.get(i + 1) == Some(&b'\'') {
                        i += 2;
                        continue;
                    }
                    return start..i + 1;
                }
                i += 1;
            }
            start..end
        }
        Style::Plain => {
            let mut e = end.min(text.len());
            while e > start && matches!(bytes[e - 1], b' ' | b'\t' | b'\r' | b'\n') {
                e -= 1;
            }
            start..e
        }
        Style::Literal | Style::Folded => start..end,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_str(s: &str) -> Result<Node, Diagnostic> {
        parse(&Source::new("t.yaml", s))
    }

    #[test]
    fn spans_cover_exact_scalars() {
        let src = "a: 1\nb: \"hé\\\"x\" # c\nc: 'it''s'  # d\nd:\n";
        let root = parse_str(src).unwrap();
        let Kind::Map(entries) = &root.kind else { panic!("map") };
        let spans: Vec<&str> = entries.iter().map(|(_, v)| &src[v.span.clone()]).collect();
        assert_eq!(spans, ["1", "\"hé\\\"x\"", "'it''s'", ""]);
        assert!(entries[3].1.is_null());
    }

    #[test]
    fn rejects_aliases_and_reports_syntax_errors_with_position() {
        let err = parse_str("a: &x 1\nb: *x\n").unwrap_err();
        assert_eq!(err.code, "yaml::unsupported");
        let err = parse_str("a: [1, 2\nb: 3\n").unwrap_err();
        assert_eq!(err.code, "yaml::syntax");
        assert!(err.location().is_some());
    }

    #[test]
    fn duplicate_keys_are_kept_for_the_decoder_to_report() {
        let root = parse_str("a: 1\na: 2\n").unwrap();
        let Kind::Map(entries) = &root.kind else { panic!("map") };
        assert_eq!(entries.len(), 2);
    }
}
