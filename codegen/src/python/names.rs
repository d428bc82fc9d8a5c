//! Python names and literals, computed in Rust so templates only print.
//!
//! Registry names are `[a-z][a-z0-9_]*`, which still admits Python keywords
//! (`class`, `def`, `import`) and builtins (`type`, `len`, `id`) that a
//! generated body would shadow; proto names admit `None` and `True`. Every
//! identifier goes through [`Names::ident`], and every string that reaches
//! Python source goes through [`py_str`], [`py_bytes_lines`] or
//! [`docstring`], so no registry or proto text can break out of a literal.

use std::collections::BTreeSet;
use std::fmt::Write as _;

/// Hard keywords: never usable as identifiers (soft keywords such as
/// `match`, `case` and `type` are, and stay as they are unless builtins).
pub const KEYWORDS: &[&str] = &[
    "False", "None", "True", "and", "as", "assert", "async", "await", "break", "class", "continue", "def", "del",
    "elif", "else", "except", "finally", "for", "from", "global", "if", "import", "in", "is", "lambda", "nonlocal",
    "not", "or", "pass", "raise", "return", "try", "while", "with", "yield",
];

/// Lower-case builtins (the only ones a registry name can spell): a
/// parameter or local with one of these names would shadow it in the body.
const BUILTINS: &[&str] = &[
    "abs",
    "aiter",
    "all",
    "anext",
    "any",
    "ascii",
    "bin",
    "bool",
    "breakpoint",
    "bytearray",
    "bytes",
    "callable",
    "chr",
    "classmethod",
    "compile",
    "complex",
    "copyright",
    "credits",
    "delattr",
    "dict",
    "dir",
    "divmod",
    "enumerate",
    "eval",
    "exec",
    "exit",
    "filter",
    "float",
    "format",
    "frozenset",
    "getattr",
    "globals",
    "hasattr",
    "hash",
    "help",
    "hex",
    "id",
    "input",
    "int",
    "isinstance",
    "issubclass",
    "iter",
    "len",
    "license",
    "list",
    "locals",
    "map",
    "max",
    "memoryview",
    "min",
    "next",
    "object",
    "oct",
    "open",
    "ord",
    "pow",
    "print",
    "property",
    "quit",
    "range",
    "repr",
    "reversed",
    "round",
    "set",
    "setattr",
    "slice",
    "sorted",
    "staticmethod",
    "str",
    "sum",
    "super",
    "tuple",
    "type",
    "vars",
    "zip",
];

/// Whether `name` is a hard keyword.
pub fn is_keyword(name: &str) -> bool {
    KEYWORDS.contains(&name)
}

/// Whether `name` can be written as a Python attribute (`x.name`): an
/// ASCII identifier that is not a hard keyword.
pub fn is_attr(name: &str) -> bool {
    let mut chars = name.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
        && !is_keyword(name)
}

/// A set of identifiers in one scope; [`Names::ident`] hands out unique,
/// safe ones.
#[derive(Clone, Default)]
pub struct Names {
    taken: BTreeSet<String>,
}

impl Names {
    /// A scope where `reserved` are already in use.
    pub fn with(reserved: &[&str]) -> Names {
        Names { taken: reserved.iter().map(|s| (*s).to_owned()).collect() }
    }

    /// `name` made a safe identifier: non-identifier characters become `_`,
    /// a leading digit gets a `_` prefix, keywords and builtins get a `_`
    /// suffix, and collisions in this scope get more `_`.
    pub fn ident(&mut self, name: &str) -> String {
        let mut out: String =
            name.chars().map(|c| if c.is_ascii_alphanumeric() || c == '_' { c } else { '_' }).collect();
        if out.is_empty() || out.starts_with(|c: char| c.is_ascii_digit()) {
            out.insert(0, '_');
        }
        if is_keyword(&out) || BUILTINS.contains(&out.as_str()) {
            out.push('_');
        }
        while self.taken.contains(&out) {
            out.push('_');
        }
        self.taken.insert(out.clone());
        out
    }
}

/// `bars.v1.bars` → `BarsV1Bars`.
pub fn camel(s: &str) -> String {
    let mut out = String::new();
    for part in s.split(['.', '_', '-']).filter(|p| !p.is_empty()) {
        let mut chars = part.chars();
        if let Some(c) = chars.next() {
            out.push(c.to_ascii_uppercase());
            out.extend(chars);
        }
    }
    out
}

/// `bars.v1.bars` → `BARS_V1_BARS`.
pub fn upper_snake(s: &str) -> String {
    s.chars().map(|c| if c.is_ascii_alphanumeric() { c.to_ascii_uppercase() } else { '_' }).collect()
}

/// Characters written as escapes: controls, whitespace other than the
/// space, and invisible format characters (bidi overrides, zero-width
/// characters, BOM) that would make source lie about its contents.
fn needs_escape(c: char) -> bool {
    c.is_control()
        || (c.is_whitespace() && c != ' ')
        || matches!(c, '\u{ad}' | '\u{200b}'..='\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2060}'..='\u{2064}' | '\u{2066}'..='\u{2069}' | '\u{feff}')
}

fn escape_char(out: &mut String, c: char) {
    match c {
        '\n' => out.push_str("\\n"),
        '\r' => out.push_str("\\r"),
        '\t' => out.push_str("\\t"),
        c if (c as u32) < 0x100 => {
            let _ = write!(out, "\\x{:02x}", c as u32);
        }
        c if (c as u32) < 0x10000 => {
            let _ = write!(out, "\\u{:04x}", c as u32);
        }
        c => {
            let _ = write!(out, "\\U{:08x}", c as u32);
        }
    }
}

/// A Python string literal equal to `s`.
///
/// Double quotes unless single quotes need strictly fewer escapes, which is
/// the choice `ruff format` makes, so the output is already formatted.
/// Printable non-ASCII stays readable; see [`needs_escape`] for the rest.
pub fn py_str(s: &str) -> String {
    let quote = quote_for(s.matches('"').count(), s.matches('\'').count());
    let mut out = String::with_capacity(s.len() + 2);
    out.push(quote);
    push_escaped(&mut out, s, quote, false);
    out.push(quote);
    out
}

/// A part of [`py_fstring`]: text, or a Python expression printed in braces.
pub enum FPart<'a> {
    Text(&'a str),
    Expr(&'a str),
}

/// A Python f-string literal joining `parts`: the text escaped as in
/// [`py_str`] with braces doubled, each expression in braces. The callers'
/// expressions are generated names, never registry text.
pub fn py_fstring(parts: &[FPart<'_>]) -> String {
    let texts = || parts.iter().filter_map(|p| if let FPart::Text(t) = p { Some(*t) } else { None });
    let quote =
        quote_for(texts().map(|t| t.matches('"').count()).sum(), texts().map(|t| t.matches('\'').count()).sum());
    let mut out = String::from("f");
    out.push(quote);
    for p in parts {
        match p {
            FPart::Text(t) => push_escaped(&mut out, t, quote, true),
            FPart::Expr(e) => {
                out.push('{');
                out.push_str(e);
                out.push('}');
            }
        }
    }
    out.push(quote);
    out
}

/// Double quotes unless single quotes need strictly fewer escapes.
fn quote_for(doubles: usize, singles: usize) -> char {
    if singles < doubles {
        '\''
    } else {
        '"'
    }
}

fn push_escaped(out: &mut String, s: &str, quote: char, fstring: bool) {
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '{' | '}' if fstring => {
                out.push(c);
                out.push(c);
            }
            c if c == quote => {
                out.push('\\');
                out.push(c);
            }
            c if needs_escape(c) => escape_char(out, c),
            c => out.push(c),
        }
    }
}

/// `bytes` as Python bytes literals of at most `width` source characters
/// each (implicitly concatenated by the caller's parentheses). Printable
/// ASCII stays readable, as in protoc's output; `"` and `\` are escaped and
/// everything else is `\xNN`, so the literal is pure ASCII.
pub fn py_bytes_lines(bytes: &[u8], width: usize) -> Vec<String> {
    // Chunks are cut by their longest rendering, then each takes the quote
    // `ruff format` would pick (double unless single needs fewer escapes).
    let piece_len = |b: u8| match b {
        b'"' | b'\'' | b'\\' => 2,
        0x20..=0x7e => 1,
        _ => 4,
    };
    let mut chunks: Vec<&[u8]> = Vec::new();
    let (mut start, mut len) = (0, 3);
    for (i, &b) in bytes.iter().enumerate() {
        if len + piece_len(b) > width && i > start {
            chunks.push(&bytes[start..i]);
            start = i;
            len = 3;
        }
        len += piece_len(b);
    }
    chunks.push(&bytes[start..]);
    chunks
        .into_iter()
        .map(|chunk| {
            let doubles = chunk.iter().filter(|&&b| b == b'"').count();
            let singles = chunk.iter().filter(|&&b| b == b'\'').count();
            let quote = if singles < doubles { b'\'' } else { b'"' };
            let mut out = String::from("b");
            out.push(char::from(quote));
            for &b in chunk {
                match b {
                    b'\\' => out.push_str("\\\\"),
                    b if b == quote => {
                        out.push('\\');
                        out.push(char::from(b));
                    }
                    0x20..=0x7e => out.push(char::from(b)),
                    _ => {
                        let _ = write!(out, "\\x{b:02x}");
                    }
                }
            }
            out.push(char::from(quote));
            out
        })
        .collect()
}

/// The body of a `"""` docstring for free text (registry descriptions),
/// one entry per line. Backslashes and quotes are escaped so nothing closes
/// the string early, controls become escapes, and lines are trimmed so the
/// formatter has nothing to change.
pub fn docstring(text: &str) -> Vec<String> {
    let mut lines = Vec::new();
    for raw in text.lines() {
        let mut line = String::new();
        for c in raw.trim().chars() {
            match c {
                '\\' => line.push_str("\\\\"),
                '"' => line.push_str("\\\""),
                c if needs_escape(c) => escape_char(&mut line, c),
                c => line.push(c),
            }
        }
        lines.push(line);
    }
    while lines.last().is_some_and(String::is_empty) {
        lines.pop();
    }
    while lines.first().is_some_and(String::is_empty) {
        lines.remove(0);
    }
    lines
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strings_pick_the_quote_with_fewer_escapes() {
        assert_eq!(py_str("a\"b"), "'a\"b'");
        assert_eq!(py_str("it's"), "\"it's\"");
        assert_eq!(py_str("a\\b\n\u{7}é\u{202e}"), "\"a\\\\b\\n\\x07é\\u202e\"");
        assert_eq!(py_str("\"\"\"'"), "'\"\"\"\\''");
    }

    #[test]
    fn identifiers_avoid_keywords_builtins_and_each_other() {
        let mut n = Names::with(&["self"]);
        assert_eq!(n.ident("class"), "class_");
        assert_eq!(n.ident("type"), "type_");
        assert_eq!(n.ident("type_"), "type__");
        assert_eq!(n.ident("match"), "match");
        assert_eq!(n.ident("self"), "self_");
        assert_eq!(n.ident("9a-b"), "_9a_b");
    }

    #[test]
    fn bytes_are_ascii_and_bounded() {
        let lines = py_bytes_lines(b"ab\"\\\x00\xff", 8);
        assert!(lines.iter().all(|l| l.len() <= 8 && l.is_ascii()), "{lines:?}");
        assert_eq!(lines, ["b'ab\"'", "b\"\\\\\"", "b\"\\x00\"", "b\"\\xff\""]);
    }

    #[test]
    fn docstrings_cannot_close_early() {
        assert_eq!(docstring(" a\"\"\"b \\ \n\n"), vec!["a\\\"\\\"\\\"b \\\\"]);
    }
}
