//! A line writer for generated Rust.
//!
//! Build scripts run unoptimised, and there building token trees with
//! `quote` and printing them cost more than protox and prost-build
//! together. The bindings are a small, fixed set of shapes, so they are
//! written as text: every literal goes through [`lit`] (Rust's own string
//! escaping) and every identifier through `names`, which is what keeps
//! hostile registry strings inert. The golden tests compile the result.

/// Generated code, with indentation tracked for nested blocks.
#[derive(Default)]
pub struct Code {
    out: String,
    indent: usize,
}

impl Code {
    pub fn new() -> Self {
        Self::default()
    }

    /// One line at the current indentation. `text` has no line breaks.
    pub fn line(&mut self, text: impl AsRef<str>) {
        for _ in 0..self.indent {
            self.out.push_str("    ");
        }
        self.out.push_str(text.as_ref());
        self.out.push('\n');
    }

    /// `head {`, then everything up to [`Code::close`] one level deeper.
    pub fn open(&mut self, head: impl AsRef<str>) {
        self.line(format!("{} {{", head.as_ref()));
        self.indent += 1;
    }

    /// `}` followed by `tail` (`;`, `?;`, `,` or nothing).
    pub fn close(&mut self, tail: &str) {
        self.indent = self.indent.saturating_sub(1);
        self.line(format!("}}{tail}"));
    }

    /// `head { body }` with a one-line body: the delegating functions
    /// of trait impls.
    pub fn block(&mut self, head: impl AsRef<str>, body: impl AsRef<str>) {
        self.open(head);
        self.line(body);
        self.close("");
    }

    /// A doc comment: `///` lines when the text needs no escaping, else
    /// one `#[doc = "..."]` attribute, which is exact for any string.
    pub fn doc(&mut self, text: &str) {
        let escaped = lit(text);
        if escaped.contains('\\') {
            self.line(format!("#[doc = {escaped}]"));
        } else {
            self.line(format!("///{text}"));
        }
    }

    /// Another piece of code, re-indented to the current level.
    pub fn append(&mut self, code: &str) {
        for l in code.lines() {
            if l.is_empty() {
                self.out.push('\n');
            } else {
                self.line(l);
            }
        }
    }

    pub fn finish(self) -> String {
        self.out
    }
}

/// A Rust string literal for `s`, escaped as Rust's `Debug` escapes it.
pub fn lit(s: &str) -> String {
    format!("{s:?}")
}

/// A Rust byte string literal for `bytes`.
pub fn byte_lit(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len() * 2 + 3);
    out.push_str("b\"");
    for &b in bytes {
        match b {
            b'"' => out.push_str("\\\""),
            b'\\' => out.push_str("\\\\"),
            0x20..=0x7e => out.push(b as char),
            _ => out.push_str(&format!("\\x{b:02x}")),
        }
    }
    out.push('"');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn literals_and_docs_are_escaped() {
        assert_eq!(lit("a\"b\\c\nd"), r#""a\"b\\c\nd""#);
        assert_eq!(byte_lit(b"a\"\\\x00\xff"), r#"b"a\"\\\x00\xff""#);
        let mut c = Code::new();
        c.doc(" plain `code`");
        c.doc(" */ \" \\ \n");
        c.open("mod m");
        c.append("fn f() {\n    x();\n}\n");
        c.close("");
        assert_eq!(
            c.finish(),
            "/// plain `code`\n#[doc = \" */ \\\" \\\\ \\n\"]\nmod m {\n    fn f() {\n        x();\n    }\n}\n"
        );
    }
}
