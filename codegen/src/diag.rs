//! Diagnostics that are collected, never fail-fast, and render the same way
//! everywhere: miette in the CLI and build.rs, plain text in logs and tests,
//! and (later) `syn::Error` in the derive macros.
//!
//! Every diagnostic that can point at input does so through a [`Label`] that
//! owns a handle to its [`Source`], so a list of diagnostics spanning the
//! registry and several proto files can be rendered without a side table.

use std::fmt;
use std::ops::Range;
use std::sync::Arc;

use miette::{MietteError, MietteSpanContents, SourceCode, SourceSpan, SpanContents};

/// How bad a finding is. Errors fail the command; warnings are printed only.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Severity {
    Error,
    Warning,
    Advice,
}

/// A file that diagnostics point into, with its display name.
///
/// The display name is what users see in `file:line:col`; it is a path
/// relative to where the tool was invoked (or a proto import name for
/// bundled well-known types), never a machine-specific absolute path.
pub struct Source {
    name: String,
    text: Arc<str>,
    line_starts: Vec<usize>,
    /// Offsets of `\r` not followed by `\n`, which miette counts as line
    /// breaks too (see `read_span`).
    lone_cr: Vec<usize>,
}

impl fmt::Debug for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Source").field("name", &self.name).finish_non_exhaustive()
    }
}

impl Source {
    pub fn new(name: impl Into<String>, text: impl Into<Arc<str>>) -> Arc<Self> {
        let text = text.into();
        let mut line_starts = vec![0];
        line_starts.extend(text.match_indices('\n').map(|(i, _)| i + 1));
        let bytes = text.as_bytes();
        let lone_cr = text.match_indices('\r').map(|(i, _)| i).filter(|i| bytes.get(i + 1) != Some(&b'\n')).collect();
        Arc::new(Self { name: name.into(), text, line_starts, lone_cr })
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    pub fn text(&self) -> &str {
        &self.text
    }

    /// 1-based line and column of a byte offset. Columns count characters,
    /// which is what editors show and what `file:line:col` jumps to.
    pub fn line_col(&self, offset: usize) -> (u32, u32) {
        let offset = offset.min(self.text.len());
        let line = match self.line_starts.binary_search(&offset) {
            Ok(i) => i,
            Err(i) => i - 1,
        };
        let start = self.line_starts[line];
        let col = self.text.get(start..offset).map_or(0, |s| s.chars().count());
        (line as u32 + 1, col as u32 + 1)
    }

    /// Byte offset of a 1-based line and 0-based character column.
    pub fn offset_of(&self, line: usize, char_col: usize) -> usize {
        let Some(&start) = self.line_starts.get(line.saturating_sub(1)) else {
            return self.text.len();
        };
        let rest = &self.text[start..];
        rest.char_indices().nth(char_col).map_or(self.text.len(), |(i, _)| start + i)
    }
}

impl SourceCode for Source {
    fn read_span<'a>(
        &'a self,
        span: &SourceSpan,
        context_lines_before: usize,
        context_lines_after: usize,
    ) -> Result<Box<dyn SpanContents<'a> + 'a>, MietteError> {
        // miette's own implementation scans from the start of the text for
        // every span, which makes rendering many diagnostics of a large
        // file quadratic. Start the scan one line before the first context
        // line instead (so the span never starts the window, where miette's
        // arithmetic saturates) and shift the result by the line breaks
        // before it, counted the way miette counts them: the same contents.
        if span.offset() > self.text.len() {
            return Err(MietteError::OutOfBounds);
        }
        let line = match self.line_starts.binary_search(&span.offset()) {
            Ok(i) => i,
            Err(i) => i - 1,
        };
        let first = line.saturating_sub(context_lines_before + 1);
        let start = self.line_starts[first];
        let window = &self.text.as_bytes()[start..];
        let shifted = SourceSpan::new((span.offset() - start).into(), span.len());
        let inner = window.read_span(&shifted, context_lines_before, context_lines_after)?;
        let lines_before = first + self.lone_cr.partition_point(|&c| c < start);
        Ok(Box::new(MietteSpanContents::new_named(
            self.name.clone(),
            inner.data(),
            SourceSpan::new((inner.span().offset() + start).into(), inner.span().len()),
            inner.line() + lines_before,
            inner.column(),
            inner.line_count() + lines_before,
        )))
    }
}

/// Where a diagnostic points, as users type it: `file:line:col`.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Location {
    pub file: String,
    pub line: u32,
    pub col: u32,
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}:{}", self.file, self.line, self.col)
    }
}

/// A span in a source, optionally with a short message shown under it.
#[derive(Clone, Debug)]
pub struct Label {
    pub source: Arc<Source>,
    pub span: Range<usize>,
    pub message: Option<String>,
}

impl Label {
    pub fn new(source: &Arc<Source>, span: Range<usize>) -> Self {
        Self { source: Arc::clone(source), span, message: None }
    }

    pub fn with_message(mut self, message: impl Into<String>) -> Self {
        self.message = Some(message.into());
        self
    }

    pub fn location(&self) -> Location {
        let (line, col) = self.source.line_col(self.span.start);
        Location { file: self.source.name.clone(), line, col }
    }
}

/// One finding: a stable code, a message, where it is, and how to fix it.
///
/// A single boxed pointer, so `Result<T, Diagnostic>` stays small on the
/// happy path; fields are read through `Deref`.
#[derive(Clone, Debug)]
pub struct Diagnostic {
    data: Box<DiagnosticData>,
}

/// The contents of a [`Diagnostic`].
#[derive(Clone, Debug)]
pub struct DiagnosticData {
    /// Stable, documented identifier such as `registry::unknown_key`. Tests
    /// and CI tooling match on it, so it never changes once published.
    pub code: &'static str,
    pub severity: Severity,
    pub message: String,
    pub primary: Option<Label>,
    /// Extra labels; those in another source than the primary are rendered
    /// as related diagnostics because a miette snippet shows one source.
    pub secondary: Vec<Label>,
    pub help: Option<String>,
    /// Extra lines of detail printed after the message (e.g. hash diffs).
    pub notes: Vec<String>,
}

impl std::ops::Deref for Diagnostic {
    type Target = DiagnosticData;
    fn deref(&self) -> &DiagnosticData {
        &self.data
    }
}

impl Diagnostic {
    pub fn error(code: &'static str, message: impl Into<String>) -> Self {
        Self {
            data: Box::new(DiagnosticData {
                code,
                severity: Severity::Error,
                message: message.into(),
                primary: None,
                secondary: Vec::new(),
                help: None,
                notes: Vec::new(),
            }),
        }
    }

    pub fn warning(code: &'static str, message: impl Into<String>) -> Self {
        let mut d = Self::error(code, message);
        d.data.severity = Severity::Warning;
        d
    }

    pub fn with_severity(mut self, severity: Severity) -> Self {
        self.data.severity = severity;
        self
    }

    pub fn at(mut self, source: &Arc<Source>, span: Range<usize>) -> Self {
        self.data.primary = Some(Label::new(source, span));
        self
    }

    pub fn with_label(mut self, label: Label) -> Self {
        if self.data.primary.is_none() {
            self.data.primary = Some(label);
        } else {
            self.data.secondary.push(label);
        }
        self
    }

    /// Sets the message shown under the primary span.
    pub fn label(mut self, message: impl Into<String>) -> Self {
        if let Some(primary) = &mut self.data.primary {
            primary.message = Some(message.into());
        }
        self
    }

    pub fn help(mut self, help: impl Into<String>) -> Self {
        self.data.help = Some(help.into());
        self
    }

    pub fn note(mut self, note: impl Into<String>) -> Self {
        self.data.notes.push(note.into());
        self
    }

    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }

    pub fn location(&self) -> Option<Location> {
        self.primary.as_ref().map(Label::location)
    }

    /// Compact, greppable form used for logs, cargo warnings and tests:
    /// `file:line:col: error[code]: message` plus indented notes and help.
    pub fn render_plain(&self) -> String {
        let severity = match self.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
            Severity::Advice => "note",
        };
        let mut out = String::new();
        if let Some(loc) = self.location() {
            out.push_str(&format!("{loc}: "));
        }
        out.push_str(&format!("{severity}[{}]: {}", self.code, self.message));
        for note in &self.notes {
            out.push_str("\n  ");
            out.push_str(note);
        }
        for label in &self.secondary {
            out.push_str(&format!("\n  --> {}", label.location()));
            if let Some(m) = &label.message {
                out.push_str(&format!(": {m}"));
            }
        }
        if let Some(help) = &self.help {
            out.push_str(&format!("\n  help: {help}"));
        }
        out
    }

    /// Labels that share the primary label's source; miette shows them in
    /// one snippet. Others become related diagnostics.
    fn same_source_labels(&self) -> impl Iterator<Item = &Label> {
        let primary = self.primary.as_ref();
        primary
            .into_iter()
            .chain(self.secondary.iter().filter(move |l| primary.is_some_and(|p| Arc::ptr_eq(&p.source, &l.source))))
    }
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)?;
        for note in &self.notes {
            write!(f, "\n{note}")?;
        }
        Ok(())
    }
}

impl std::error::Error for Diagnostic {}

// A label in another file than the primary one is rendered by miette as a
// related diagnostic, because one snippet shows one source.
impl fmt::Display for Label {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.message.as_deref().unwrap_or("related location"))
    }
}

impl std::error::Error for Label {}

impl miette::Diagnostic for Label {
    fn severity(&self) -> Option<miette::Severity> {
        Some(miette::Severity::Advice)
    }

    fn source_code(&self) -> Option<&dyn SourceCode> {
        Some(&*self.source)
    }

    fn labels(&self) -> Option<Box<dyn Iterator<Item = miette::LabeledSpan> + '_>> {
        Some(Box::new(std::iter::once(miette::LabeledSpan::new_with_span(None, self.span.clone()))))
    }
}

impl miette::Diagnostic for Diagnostic {
    fn code<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        Some(Box::new(self.code))
    }

    fn severity(&self) -> Option<miette::Severity> {
        Some(match self.severity {
            Severity::Error => miette::Severity::Error,
            Severity::Warning => miette::Severity::Warning,
            Severity::Advice => miette::Severity::Advice,
        })
    }

    fn help<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        self.help.as_ref().map(|h| Box::new(h) as Box<dyn fmt::Display>)
    }

    fn source_code(&self) -> Option<&dyn SourceCode> {
        self.primary.as_ref().map(|p| &*p.source as &dyn SourceCode)
    }

    fn labels(&self) -> Option<Box<dyn Iterator<Item = miette::LabeledSpan> + '_>> {
        self.primary.as_ref()?;
        Some(Box::new(
            self.same_source_labels().map(|l| miette::LabeledSpan::new_with_span(l.message.clone(), l.span.clone())),
        ))
    }

    fn related<'a>(&'a self) -> Option<Box<dyn Iterator<Item = &'a dyn miette::Diagnostic> + 'a>> {
        let primary = self.primary.as_ref()?;
        let mut others = self.secondary.iter().filter(move |l| !Arc::ptr_eq(&l.source, &primary.source)).peekable();
        others.peek()?;
        Some(Box::new(others.map(|l| l as &dyn miette::Diagnostic)))
    }
}

/// An ordered collection of findings.
#[derive(Clone, Debug, Default)]
pub struct Diagnostics {
    items: Vec<Diagnostic>,
}

impl Diagnostics {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn push(&mut self, diagnostic: Diagnostic) {
        self.items.push(diagnostic);
    }

    pub fn extend(&mut self, other: impl IntoIterator<Item = Diagnostic>) {
        self.items.extend(other);
    }

    pub fn has_errors(&self) -> bool {
        self.items.iter().any(Diagnostic::is_error)
    }

    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    pub fn len(&self) -> usize {
        self.items.len()
    }

    pub fn iter(&self) -> std::slice::Iter<'_, Diagnostic> {
        self.items.iter()
    }

    pub fn errors(&self) -> impl Iterator<Item = &Diagnostic> {
        self.items.iter().filter(|d| d.is_error())
    }

    /// Orders findings by file, position and code so output is stable no
    /// matter which validation pass found them first.
    pub fn sort(&mut self) {
        // Each key once: locating walks the line, so a comparison sort that
        // recomputed keys would be quadratic on long lines.
        self.items.sort_by_cached_key(|d| (d.location(), d.code, d.message.clone()));
    }

    pub fn into_vec(self) -> Vec<Diagnostic> {
        self.items
    }

    pub fn render_plain(&self) -> String {
        self.items.iter().map(Diagnostic::render_plain).collect::<Vec<_>>().join("\n")
    }
}

impl IntoIterator for Diagnostics {
    type Item = Diagnostic;
    type IntoIter = std::vec::IntoIter<Diagnostic>;

    fn into_iter(self) -> Self::IntoIter {
        self.items.into_iter()
    }
}

impl<'a> IntoIterator for &'a Diagnostics {
    type Item = &'a Diagnostic;
    type IntoIter = std::slice::Iter<'a, Diagnostic>;

    fn into_iter(self) -> Self::IntoIter {
        self.items.iter()
    }
}

impl From<Diagnostic> for Diagnostics {
    fn from(d: Diagnostic) -> Self {
        Self { items: vec![d] }
    }
}

impl fmt::Display for Diagnostics {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.render_plain())
    }
}

impl std::error::Error for Diagnostics {}

/// Closest candidate by edit distance, for "did you mean" hints.
pub fn suggest<'a>(input: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    let limit = (input.chars().count() / 3).max(1);
    candidates.into_iter().map(|c| (levenshtein(input, c), c)).filter(|(d, _)| *d <= limit).min().map(|(_, c)| c)
}

fn levenshtein(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1];
        for (j, cb) in b.iter().enumerate() {
            let cost = usize::from(ca != *cb);
            cur.push((prev[j] + cost).min(prev[j + 1] + 1).min(cur[j] + 1));
        }
        prev = cur;
    }
    prev[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_col_counts_characters_from_one() {
        let s = Source::new("f.yaml", "ab\nhé: x\n");
        assert_eq!(s.line_col(0), (1, 1));
        assert_eq!(s.line_col(3), (2, 1));
        // 'x' is after "hé: " = 4 chars but 5 bytes.
        assert_eq!(s.line_col(8), (2, 5));
        assert_eq!(s.offset_of(2, 4), 8);
    }

    #[test]
    fn windowed_span_reading_matches_miettes_full_scan() {
        let text = "a: 1\r\nb: hé\rc: 3\n\nd:\n  - x\n  - yy\r\n  - z\nlast";
        let source = Source::new("t.yaml", text);
        for offset in 0..=text.len() {
            for len in [0, 1, 5] {
                for (before, after) in [(0, 0), (1, 1), (2, 3), (9, 9)] {
                    let span = SourceSpan::new(offset.into(), len);
                    let ours = source.read_span(&span, before, after);
                    let theirs = text.read_span(&span, before, after);
                    match (ours, theirs) {
                        (Ok(a), Ok(b)) => {
                            let got = (a.data(), *a.span(), a.line(), a.column(), a.line_count());
                            let want = (b.data(), *b.span(), b.line(), b.column(), b.line_count());
                            assert_eq!(got, want, "offset {offset} len {len} context {before}/{after}");
                        }
                        (a, b) => assert_eq!(a.is_err(), b.is_err(), "offset {offset} len {len}"),
                    }
                }
            }
        }
    }

    #[test]
    fn suggestions_are_close_matches_only() {
        assert_eq!(suggest("schema_hsh", ["schema_hash", "payload"]), Some("schema_hash"));
        assert_eq!(suggest("zzz", ["schema_hash", "payload"]), None);
    }
}
