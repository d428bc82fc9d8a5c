//! Prints the bindings' token trees as formatted Rust.
//!
//! Build scripts run unoptimised, and there `syn` + prettyplease cost more
//! than everything else ampygen does (about 50 ms for the default registry,
//! against 60 ms for protox and prost-build together). The bindings use a
//! small, known subset of Rust, so a printer that knows that subset gives
//! rustfmt-like output in well under a millisecond. Tokens still come from
//! `quote`, so escaping and identifiers stay correct by construction; only
//! whitespace is decided here. The golden tests compile what it prints.

use std::fmt::Write as _;

use proc_macro2::{Delimiter, Spacing, TokenStream, TokenTree};

/// Formats a sequence of items.
pub fn print_file(tokens: TokenStream) -> String {
    let mut p = Printer { out: String::new(), indent: 0, prev: Prev::LineStart, angle: 0, arrow: false };
    p.items(tokens);
    let mut out = p.out;
    while out.ends_with("\n\n") {
        out.pop();
    }
    if !out.ends_with('\n') {
        out.push('\n');
    }
    out
}

/// What was printed last, which decides the whitespace before a token.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Prev {
    LineStart,
    /// An identifier, keyword or literal.
    Word,
    /// A keyword after which `::` and `&` start a new path or expression.
    Keyword,
    /// An operator after which a space follows (`=`, `=>`, `->`, `:`, `+`).
    Operator,
    /// A token after which nothing is spaced (`::`, `.`, `&`, `#`, `(`, `'`, `<`, `!`).
    Tight,
    /// A closing `)`, `]` or generic `>`.
    Close,
    /// `,` inside parentheses.
    Comma,
    /// An opening closure `|`.
    PipeOpen,
}

const KEYWORDS: &[&str] = &[
    "as", "const", "else", "enum", "fn", "for", "if", "impl", "in", "let", "match", "mod", "mut", "pub", "return",
    "static", "struct", "type", "use", "where", "dyn", "move", "ref",
];

struct Printer {
    out: String,
    indent: usize,
    prev: Prev,
    /// Open generic `<` brackets, inside which `,` stays on the line.
    angle: usize,
    /// The first half of `->` or `=>` was just printed.
    arrow: bool,
}

impl Printer {
    fn newline(&mut self) {
        while self.out.ends_with(' ') {
            self.out.pop();
        }
        self.out.push('\n');
        self.prev = Prev::LineStart;
    }

    fn start(&mut self) {
        if self.prev == Prev::LineStart {
            for _ in 0..self.indent {
                self.out.push_str("    ");
            }
        }
    }

    fn space(&mut self) {
        if !matches!(self.prev, Prev::LineStart) && !self.out.ends_with(' ') {
            self.out.push(' ');
        }
    }

    /// Items or statements inside a block, or at file level: newlines after
    /// `;`, after attributes, after closing braces, and (in a list-like
    /// block such as a `match` or a struct literal) after `,`.
    fn items(&mut self, tokens: TokenStream) {
        let tokens: Vec<TokenTree> = tokens.into_iter().collect();
        let mut pipes = 0usize;
        let mut i = 0;
        while i < tokens.len() {
            let t = &tokens[i];
            let next = tokens.get(i + 1);
            match t {
                TokenTree::Punct(p) if p.as_char() == '#' && p.spacing() == Spacing::Alone => {
                    if let Some(TokenTree::Group(g)) = next.filter(|n| is_group(n, Delimiter::Bracket)) {
                        // An attribute on its own line, blank line before
                        // items at file or module level.
                        if self.prev != Prev::LineStart {
                            self.newline();
                        }
                        self.start();
                        if let Some(text) = doc_line(g) {
                            self.out.push_str("///");
                            self.out.push_str(&text);
                            self.newline();
                            i += 2;
                            continue;
                        }
                        self.out.push('#');
                        self.prev = Prev::Tight;
                        self.group(g, false);
                        self.newline();
                        i += 2;
                        continue;
                    }
                    self.token(t, next, &mut pipes);
                }
                TokenTree::Punct(p) if p.as_char() == ';' => {
                    self.out.push(';');
                    self.newline();
                }
                TokenTree::Punct(p) if p.as_char() == ',' && self.angle > 0 => {
                    self.out.push(',');
                    self.prev = Prev::Comma;
                }
                TokenTree::Punct(p) if p.as_char() == ',' => {
                    self.out.push(',');
                    self.newline();
                }
                TokenTree::Group(g) if g.delimiter() == Delimiter::Brace => {
                    self.group(g, true);
                    match next {
                        Some(TokenTree::Punct(p)) if matches!(p.as_char(), ',' | ';' | '.' | '?' | ')') => {
                            self.prev = Prev::Close;
                        }
                        None => self.newline(),
                        _ => self.newline(),
                    }
                }
                _ => self.token(t, next, &mut pipes),
            }
            i += 1;
        }
    }

    fn group(&mut self, g: &proc_macro2::Group, block: bool) {
        let (open, close) = match g.delimiter() {
            Delimiter::Brace => ('{', '}'),
            Delimiter::Parenthesis => ('(', ')'),
            Delimiter::Bracket => ('[', ']'),
            Delimiter::None => {
                self.inline(g.stream());
                return;
            }
        };
        if g.delimiter() == Delimiter::Brace && block {
            self.space();
            self.start();
            if g.stream().is_empty() {
                self.out.push_str("{}");
                self.prev = Prev::Close;
                return;
            }
            self.out.push('{');
            self.indent += 1;
            self.newline();
            self.items(g.stream());
            if self.prev != Prev::LineStart {
                self.newline();
            }
            self.indent -= 1;
            self.start();
            self.out.push('}');
            self.prev = Prev::Close;
            return;
        }
        self.start();
        self.out.push(open);
        self.prev = Prev::Tight;
        self.inline(g.stream());
        // `(a, b,)` keeps its trailing comma (one-element tuples need it)
        // but not the space after it.
        while self.out.ends_with(' ') {
            self.out.pop();
        }
        self.out.push(close);
        self.prev = Prev::Close;
    }

    /// Tokens within parentheses or brackets: one line.
    fn inline(&mut self, tokens: TokenStream) {
        let tokens: Vec<TokenTree> = tokens.into_iter().collect();
        let mut pipes = 0usize;
        for (i, t) in tokens.iter().enumerate() {
            let next = tokens.get(i + 1);
            match t {
                TokenTree::Punct(p) if p.as_char() == ',' => {
                    self.out.push(',');
                    self.prev = Prev::Comma;
                }
                TokenTree::Group(g) if g.delimiter() == Delimiter::Brace => {
                    self.group(g, true);
                }
                _ => self.token(t, next, &mut pipes),
            }
        }
    }

    fn token(&mut self, t: &TokenTree, next: Option<&TokenTree>, pipes: &mut usize) {
        match t {
            TokenTree::Ident(id) => {
                if !matches!(self.prev, Prev::Tight | Prev::LineStart | Prev::PipeOpen) {
                    self.space();
                }
                self.start();
                let _ = write!(self.out, "{id}");
                self.prev = if KEYWORDS.iter().any(|k| id == k) { Prev::Keyword } else { Prev::Word };
            }
            TokenTree::Literal(l) => {
                if !matches!(self.prev, Prev::Tight | Prev::LineStart | Prev::PipeOpen) {
                    self.space();
                }
                self.start();
                let _ = write!(self.out, "{l}");
                self.prev = Prev::Word;
            }
            TokenTree::Group(g) => {
                // A call or index binds to what precedes it; a tuple or
                // parenthesised type after an operator is spaced.
                if matches!(self.prev, Prev::Operator | Prev::Keyword | Prev::Comma) {
                    self.space();
                }
                self.group(g, false);
            }
            TokenTree::Punct(p) => self.punct(p, next, pipes),
        }
    }

    fn punct(&mut self, p: &proc_macro2::Punct, next: Option<&TokenTree>, pipes: &mut usize) {
        let c = p.as_char();
        let joint = p.spacing() == Spacing::Joint;
        // Multi-character operators arrive as a joint punct then its tail.
        if c == '>' && std::mem::take(&mut self.arrow) {
            // Second half of `->` / `=>`.
            self.out.push('>');
            self.prev = Prev::Operator;
            return;
        }
        if joint && c == ':' && matches!(next, Some(TokenTree::Punct(n)) if n.as_char() == ':') {
            // `::`: spaced only when it starts a path after a keyword or an
            // operator.
            if matches!(self.prev, Prev::Keyword | Prev::Operator | Prev::Comma) {
                self.space();
            }
            self.start();
            self.out.push(':');
            self.prev = Prev::Tight;
            return;
        }
        if c == ':' && self.out.ends_with(':') && self.prev == Prev::Tight {
            self.out.push(':');
            self.prev = Prev::Tight;
            return;
        }
        match c {
            '-' | '=' if joint && matches!(next, Some(TokenTree::Punct(n)) if n.as_char() == '>') => {
                self.space();
                self.start();
                self.out.push(c);
                self.arrow = true;
                self.prev = Prev::Tight;
            }
            ';' => {
                // Only inside brackets (`[T; N]`); statements end elsewhere.
                self.out.push(';');
                self.prev = Prev::Comma;
            }
            ':' => {
                self.out.push(':');
                self.prev = Prev::Operator;
            }
            '=' | '+' => {
                self.space();
                self.start();
                self.out.push(c);
                self.prev = Prev::Operator;
            }
            '.' | '?' => {
                self.out.push(c);
                self.prev = if c == '.' { Prev::Tight } else { Prev::Close };
            }
            '!' => {
                // A macro call (`include!`, `format!`) or a negation.
                if self.prev != Prev::Word {
                    self.space();
                    self.start();
                }
                self.out.push('!');
                self.prev = Prev::Tight;
            }
            '&' => {
                if matches!(self.prev, Prev::Word | Prev::Close | Prev::Keyword | Prev::Operator | Prev::Comma) {
                    self.space();
                }
                self.start();
                self.out.push('&');
                self.prev = Prev::Tight;
            }
            '\'' => {
                if matches!(self.prev, Prev::Keyword | Prev::Operator | Prev::Comma | Prev::Word) {
                    self.space();
                }
                self.start();
                self.out.push('\'');
                self.prev = Prev::Tight;
            }
            '<' => {
                self.out.push('<');
                self.angle += 1;
                self.prev = Prev::Tight;
            }
            '>' => {
                self.out.push('>');
                self.angle = self.angle.saturating_sub(1);
                self.prev = Prev::Close;
            }
            '|' => {
                if pipes.is_multiple_of(2) {
                    self.space();
                    self.start();
                    self.out.push('|');
                    self.prev = Prev::PipeOpen;
                } else {
                    self.out.push('|');
                    self.prev = Prev::Close;
                }
                *pipes += 1;
            }
            _ => {
                self.space();
                self.start();
                self.out.push(c);
                self.prev = Prev::Operator;
            }
        }
    }
}

/// The text of `[doc = "..."]` when it can be a `///` line as is: a
/// string without escapes or line breaks (anything else stays an
/// attribute, which is exact for every string).
fn doc_line(g: &proc_macro2::Group) -> Option<String> {
    let tokens: Vec<TokenTree> = g.stream().into_iter().collect();
    let [TokenTree::Ident(doc), TokenTree::Punct(eq), TokenTree::Literal(lit)] = tokens.as_slice() else {
        return None;
    };
    if doc != "doc" || eq.as_char() != '=' {
        return None;
    }
    let lit = lit.to_string();
    let text = lit.strip_prefix("r\"").or_else(|| lit.strip_prefix('"'))?.strip_suffix('"')?;
    (!lit.starts_with('"') || !text.contains('\\')).then_some(())?;
    (!text.contains(['\n', '\r'])).then(|| text.to_owned())
}

fn is_group(t: &TokenTree, d: Delimiter) -> bool {
    matches!(t, TokenTree::Group(g) if g.delimiter() == d)
}

#[cfg(test)]
mod tests {
    use super::print_file;
    use quote::quote;

    #[test]
    fn prints_the_subset_like_rustfmt() {
        let t = quote! {
            #[doc = " A topic."]
            pub mod bars {
                pub const QOS: ::ampy_bus::Qos = ::ampy_bus::Qos { tier: "realtime", p99_ms: Some(150) };
                fn key_fields(p: &super::BarBatch) -> Result<(&str,), ::ampy_bus::RouteError> {
                    let f_mic = {
                        let mut acc = ::ampy_bus::key::Agree::<&str>::new("mic", "bars[*].mic", true);
                        if p.bars.is_empty() { return Err(acc.empty_batch()); }
                        for x0 in &p.bars {
                            match x0.security.as_ref() { None => acc.visit(None)?, Some(x1) => { acc.visit(Some(x1.mic.as_str()))?; } }
                        }
                        acc.finish()
                    }?;
                    Ok((f_mic,))
                }
                pub fn topic_for<E: ::ampy_bus::EnvName>(p: &P, env: E) -> Option<&'static str> {
                    let name = |n: i32| -> Option<&'static str> { match n { 0 => Some("A"), _ => None } };
                    include!("x.rs");
                }
            }
            impl ::ampy_bus::Schema for self::ampy::X {}
        };
        let expected = r#"/// A topic.
pub mod bars {
    pub const QOS: ::ampy_bus::Qos = ::ampy_bus::Qos {
        tier: "realtime",
        p99_ms: Some(150)
    };
    fn key_fields(p: &super::BarBatch) -> Result<(&str,), ::ampy_bus::RouteError> {
        let f_mic = {
            let mut acc = ::ampy_bus::key::Agree::<&str>::new("mic", "bars[*].mic", true);
            if p.bars.is_empty() {
                return Err(acc.empty_batch());
            }
            for x0 in &p.bars {
                match x0.security.as_ref() {
                    None => acc.visit(None)?,
                    Some(x1) => {
                        acc.visit(Some(x1.mic.as_str()))?;
                    }
                }
            }
            acc.finish()
        }?;
        Ok((f_mic,))
    }
    pub fn topic_for<E: ::ampy_bus::EnvName>(p: &P, env: E) -> Option<&'static str> {
        let name = |n: i32| -> Option<&'static str> {
            match n {
                0 => Some("A"),
                _ => None
            }
        };
        include!("x.rs");
    }
}
impl ::ampy_bus::Schema for self::ampy::X {}
"#;
        assert_eq!(print_file(t), expected);
    }
}
