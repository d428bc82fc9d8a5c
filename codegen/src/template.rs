//! Subtopic templates, key formats and key paths: the three little
//! languages inside the registry. Parsing is pure syntax; resolution against
//! the payload descriptors lives in `registry::resolve`.
//!
//! Every parse error carries a byte range *within the string value*, so
//! the registry decoder can turn it into a precise `file:line:col`.

use std::ops::Range;

/// A syntax error inside a template or path.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SyntaxError {
    pub code: &'static str,
    pub range: Range<usize>,
    pub message: String,
    pub help: String,
}

fn err(code: &'static str, range: Range<usize>, message: impl Into<String>, help: impl Into<String>) -> SyntaxError {
    SyntaxError { code, range, message: message.into(), help: help.into() }
}

/// One `.`-separated token of a subtopic template.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Token {
    Literal(String),
    /// `{name}`: filled at publish time from the key field `name`.
    Param(String),
}

/// A parsed subtopic such as `trade.{symbol}`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Subtopic {
    pub tokens: Vec<Token>,
    /// Byte range of each token within the template string.
    pub ranges: Vec<Range<usize>>,
}

impl Subtopic {
    pub fn params(&self) -> impl Iterator<Item = (&str, Range<usize>)> {
        self.tokens.iter().zip(&self.ranges).filter_map(|(t, r)| match t {
            Token::Param(p) => Some((p.as_str(), r.clone())),
            Token::Literal(_) => None,
        })
    }

    /// Two subtopics are ambiguous when some concrete subject could match
    /// both: same token count and, position by position, either equal
    /// literals or at least one parameter. Parameters are always exactly one
    /// token because builders reject `.` in values.
    pub fn overlaps(&self, other: &Subtopic) -> bool {
        self.tokens.len() == other.tokens.len()
            && self.tokens.iter().zip(&other.tokens).all(|pair| match pair {
                (Token::Literal(a), Token::Literal(b)) => a == b,
                _ => true,
            })
    }

    /// The template as written, with `{{`/`}}` escapes restored.
    pub fn to_template(&self) -> String {
        self.tokens
            .iter()
            .map(|t| match t {
                Token::Literal(l) => l.replace('{', "{{").replace('}', "}}"),
                Token::Param(p) => format!("{{{p}}}"),
            })
            .collect::<Vec<_>>()
            .join(".")
    }
}

/// What is wrong with a subject token; shared with the runtime.
pub use ampy_canonical::text::token_problem;

/// `[a-z][a-z0-9_]*`: names that become identifiers in generated code.
pub(crate) fn is_ident(s: &str) -> bool {
    let mut chars = s.chars();
    matches!(chars.next(), Some('a'..='z')) && chars.all(|c| matches!(c, 'a'..='z' | '0'..='9' | '_'))
}

/// Parses a subtopic template: tokens separated by `.`, each either a
/// literal or a whole-token `{param}`; `{{` and `}}` are literal braces.
pub fn parse_subtopic(text: &str) -> Result<Subtopic, Vec<SyntaxError>> {
    let mut tokens = Vec::new();
    let mut ranges = Vec::new();
    let mut errors = Vec::new();
    if text.is_empty() {
        return Err(vec![err(
            "registry::bad_subtopic",
            0..0,
            "the subtopic is empty",
            "give at least one token, e.g. `events` or `{symbol}`",
        )]);
    }
    let mut start = 0;
    for raw in text.split('.') {
        let range = start..start + raw.len();
        start = range.end + 1;
        if let Some(name) = raw.strip_prefix('{').and_then(|r| r.strip_suffix('}')) {
            if !raw.starts_with("{{") {
                if is_ident(name) {
                    tokens.push(Token::Param(name.to_owned()));
                } else {
                    errors.push(err(
                        "registry::bad_subtopic",
                        range.clone(),
                        format!("`{raw}` is not a valid placeholder"),
                        "placeholder names are lower_snake_case key field names, e.g. `{symbol}`",
                    ));
                }
                ranges.push(range);
                continue;
            }
        }
        match unescape_literal(raw) {
            Ok(literal) => {
                if let Some(problem) = token_problem(&literal) {
                    errors.push(err(
                        "registry::bad_subtopic",
                        range.clone(),
                        format!("subtopic token `{literal}` {problem}"),
                        "subject tokens must be non-empty and free of `.`, `*`, `>`, whitespace and control characters",
                    ));
                }
                tokens.push(Token::Literal(literal));
            }
            Err(at) => errors.push(err(
                "registry::bad_subtopic",
                range.start + at..range.start + at + 1,
                format!("stray brace in subtopic token `{raw}`"),
                "a placeholder must fill a whole token (`trade.{symbol}`, not `trade-{symbol}`); write `{{` or `}}` for a literal brace",
            )),
        }
        ranges.push(range);
    }
    if errors.is_empty() {
        Ok(Subtopic { tokens, ranges })
    } else {
        Err(errors)
    }
}

/// Resolves `{{`/`}}`; returns the offset of a lone brace on failure.
fn unescape_literal(raw: &str) -> Result<String, usize> {
    let mut out = String::new();
    let mut chars = raw.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        if c == '{' || c == '}' {
            if chars.peek().map(|&(_, n)| n) == Some(c) {
                chars.next();
            } else {
                return Err(i);
            }
        }
        out.push(c);
    }
    Ok(out)
}

/// A piece of a key format such as `{account_id}|{symbol}.{mic}`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Part {
    Literal(String),
    Field(String),
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KeyFormat {
    pub parts: Vec<Part>,
    /// Byte range of each part within the format string.
    pub ranges: Vec<Range<usize>>,
}

impl KeyFormat {
    /// The format as written, with `{{`/`}}` escapes restored.
    pub fn to_template(&self) -> String {
        self.parts
            .iter()
            .map(|p| match p {
                Part::Literal(l) => l.replace('{', "{{").replace('}', "}}"),
                Part::Field(f) => format!("{{{f}}}"),
            })
            .collect()
    }

    pub fn fields(&self) -> impl Iterator<Item = (&str, Range<usize>)> {
        self.parts.iter().zip(&self.ranges).filter_map(|(p, r)| match p {
            Part::Field(f) => Some((f.as_str(), r.clone())),
            Part::Literal(_) => None,
        })
    }
}

/// Parses a key format: literal text with `{field}` placeholders and
/// `{{`/`}}` for literal braces.
pub fn parse_key_format(text: &str) -> Result<KeyFormat, Vec<SyntaxError>> {
    let mut parts = Vec::new();
    let mut ranges = Vec::new();
    let mut errors = Vec::new();
    if text.is_empty() {
        return Err(vec![err(
            "registry::bad_key_format",
            0..0,
            "the key format is empty",
            "name at least one key field, e.g. `{client_order_id}`",
        )]);
    }
    let bytes = text.as_bytes();
    let mut literal = String::new();
    let mut literal_start = 0;
    let mut i = 0;
    while i < bytes.len() {
        let c = bytes[i];
        if c == b'{' && bytes.get(i + 1) == Some(&b'{') || c == b'}' && bytes.get(i + 1) == Some(&b'}') {
            literal.push(c as char);
            i += 2;
        } else if c == b'{' {
            let Some(close) = text[i..].find('}') else {
                errors.push(err(
                    "registry::bad_key_format",
                    i..i + 1,
                    "unclosed `{` in key format",
                    "close the placeholder (`{field}`) or write `{{` for a literal brace",
                ));
                break;
            };
            let name = &text[i + 1..i + close];
            if !literal.is_empty() {
                parts.push(Part::Literal(std::mem::take(&mut literal)));
                ranges.push(literal_start..i);
            }
            if is_ident(name) {
                parts.push(Part::Field(name.to_owned()));
            } else {
                errors.push(err(
                    "registry::bad_key_format",
                    i..i + close + 1,
                    format!("`{{{name}}}` is not a valid placeholder"),
                    "placeholder names are lower_snake_case key field names",
                ));
            }
            ranges.push(i..i + close + 1);
            i += close + 1;
            literal_start = i;
        } else if c == b'}' {
            errors.push(err(
                "registry::bad_key_format",
                i..i + 1,
                "stray `}` in key format",
                "write `}}` for a literal brace",
            ));
            i += 1;
        } else {
            let ch = text[i..].chars().next().unwrap_or('\u{fffd}');
            literal.push(ch);
            i += ch.len_utf8();
        }
    }
    if !literal.is_empty() {
        parts.push(Part::Literal(literal));
        ranges.push(literal_start..text.len());
    }
    if errors.is_empty() {
        Ok(KeyFormat { parts, ranges })
    } else {
        Err(errors)
    }
}

/// How a path segment walks a repeated field.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Index {
    /// Singular field.
    None,
    /// `[*]`: every element; all must agree.
    All,
    /// `[0]`: the first element.
    First,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Segment {
    pub name: String,
    pub index: Index,
    /// Byte range of the segment (name and index) within the path string.
    pub range: Range<usize>,
}

/// A path from the payload root to a field, e.g. `bars[*].security.mic`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KeyPath {
    pub segments: Vec<Segment>,
}

impl std::fmt::Display for KeyPath {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        for (i, s) in self.segments.iter().enumerate() {
            if i > 0 {
                f.write_str(".")?;
            }
            f.write_str(&s.name)?;
            match s.index {
                Index::None => {}
                Index::All => f.write_str("[*]")?,
                Index::First => f.write_str("[0]")?,
            }
        }
        Ok(())
    }
}

/// Parses `field(.field)*` where each field may carry `[*]` or `[0]`.
pub fn parse_path(text: &str) -> Result<KeyPath, SyntaxError> {
    let mut segments = Vec::new();
    let mut start = 0;
    if text.is_empty() {
        return Err(err(
            "registry::bad_path",
            0..0,
            "the path is empty",
            "write a field path such as `security.symbol`",
        ));
    }
    for raw in text.split('.') {
        let range = start..start + raw.len();
        start = range.end + 1;
        let (name, index) = match raw.find('[') {
            None => (raw, Index::None),
            Some(open) => {
                let index = match &raw[open..] {
                    "[*]" => Index::All,
                    "[0]" => Index::First,
                    other => {
                        return Err(err(
                            "registry::bad_path",
                            range.start + open..range.end,
                            format!("unsupported index `{other}`"),
                            "use `[*]` (every element must agree) or `[0]` (the first element)",
                        ))
                    }
                };
                (&raw[..open], index)
            }
        };
        if name.is_empty()
            || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
            || name.starts_with(|c: char| c.is_ascii_digit())
        {
            return Err(err(
                "registry::bad_path",
                range,
                format!("`{raw}` is not a field name"),
                "paths are proto field names joined by `.`, e.g. `bars[*].security.mic`",
            ));
        }
        segments.push(Segment { name: name.to_owned(), index, range });
    }
    Ok(KeyPath { segments })
}

fn escape_braces(s: &str) -> String {
    s.replace('{', "{{").replace('}', "}}")
}

/// Writes the template back in registry syntax (`trade.{symbol}`), which is
/// what generated code exposes as the topic's `SUBTOPIC`.
impl std::fmt::Display for Subtopic {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        for (i, t) in self.tokens.iter().enumerate() {
            if i > 0 {
                f.write_str(".")?;
            }
            match t {
                Token::Literal(l) => f.write_str(&escape_braces(l))?,
                Token::Param(p) => write!(f, "{{{p}}}")?,
            }
        }
        Ok(())
    }
}

/// Writes the format back in registry syntax (`{symbol}.{mic}`).
impl std::fmt::Display for KeyFormat {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        for p in &self.parts {
            match p {
                Part::Literal(l) => f.write_str(&escape_braces(l))?,
                Part::Field(name) => write!(f, "{{{name}}}")?,
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn subtopics_parse_params_and_literals() {
        let s = parse_subtopic("trade.{symbol}").unwrap();
        assert_eq!(s.tokens, [Token::Literal("trade".into()), Token::Param("symbol".into())]);
        assert_eq!(s.ranges, [0..5, 6..14]);
        let s = parse_subtopic("{{x}}").unwrap();
        assert_eq!(s.tokens, [Token::Literal("{x}".into())]);
        assert_eq!(s.to_template(), "{{x}}");
    }

    #[test]
    fn subtopic_errors_point_inside_the_string() {
        let e = parse_subtopic("trade.a*b").unwrap_err();
        assert_eq!(e[0].range, 6..9);
        let e = parse_subtopic("trade..x").unwrap_err();
        assert!(e[0].message.contains("is empty"));
        let e = parse_subtopic("trade-{symbol}").unwrap_err();
        assert_eq!(e[0].range, 6..7);
        let e = parse_subtopic("{Symbol}").unwrap_err();
        assert!(e[0].message.contains("not a valid placeholder"));
    }

    #[test]
    fn overlap_is_positional() {
        let a = parse_subtopic("trade.{symbol}").unwrap();
        let b = parse_subtopic("quote.{symbol}").unwrap();
        let c = parse_subtopic("{kind}.MSFT").unwrap();
        assert!(!a.overlaps(&b));
        assert!(a.overlaps(&c));
        assert!(!a.overlaps(&parse_subtopic("rates").unwrap()));
    }

    #[test]
    fn key_formats() {
        let f = parse_key_format("{account_id}|{symbol}.{mic}").unwrap();
        assert_eq!(
            f.parts,
            [
                Part::Field("account_id".into()),
                Part::Literal("|".into()),
                Part::Field("symbol".into()),
                Part::Literal(".".into()),
                Part::Field("mic".into()),
            ]
        );
        assert_eq!(f.ranges[2], 13..21);
        assert_eq!(parse_key_format("{{{a}}}").unwrap().parts.len(), 3);
        assert_eq!(parse_key_format("x{a").unwrap_err()[0].range, 1..2);
        assert_eq!(parse_key_format("a}").unwrap_err()[0].range, 1..2);
    }

    #[test]
    fn paths() {
        let p = parse_path("bars[*].security.mic").unwrap();
        assert_eq!(p.segments[0].index, Index::All);
        assert_eq!(p.segments[2].range, 17..20);
        assert_eq!(p.to_string(), "bars[*].security.mic");
        assert_eq!(parse_path("bars[1].x").unwrap_err().range, 4..7);
        assert_eq!(parse_path("a..b").unwrap_err().range, 2..2);
    }

    #[test]
    fn tokens() {
        assert_eq!(token_problem("hyper@2025-09-05"), None);
        assert!(token_problem("a.b").is_some());
        assert!(token_problem("a b").is_some());
        assert!(token_problem("a\u{7}").is_some());
        assert!(token_problem("").is_some());
        assert!(token_problem(">").is_some());
    }
}
