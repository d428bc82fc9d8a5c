//! Go names and literals: identifiers for registry items, the names
//! protoc-gen-go gives proto items (so generated code can call its
//! getters), string literals and doc comments.
//!
//! Registry names are `[a-z][a-z0-9_]*`, which still lets through Go
//! keywords (`type`, `func`, `go`) and predeclared identifiers (`len`,
//! `string`); exported names are safe by construction (they start with an
//! upper-case letter), unexported ones go through [`local`].

use std::collections::BTreeMap;

use prost_reflect::{FieldDescriptor, MessageDescriptor, OneofDescriptor};

/// Go keywords (also what `targets.go.package` may not be).
pub const KEYWORDS: &[&str] = &[
    "break",
    "case",
    "chan",
    "const",
    "continue",
    "default",
    "defer",
    "else",
    "fallthrough",
    "for",
    "func",
    "go",
    "goto",
    "if",
    "import",
    "interface",
    "map",
    "package",
    "range",
    "return",
    "select",
    "struct",
    "switch",
    "type",
    "var",
];

/// Predeclared identifiers: legal to shadow, but a parameter named `len`
/// or `string` would break any use of the builtin in the same function.
const PREDECLARED: &[&str] = &[
    "any",
    "append",
    "bool",
    "byte",
    "cap",
    "clear",
    "close",
    "comparable",
    "complex",
    "complex128",
    "complex64",
    "copy",
    "delete",
    "error",
    "false",
    "float32",
    "float64",
    "imag",
    "int",
    "int16",
    "int32",
    "int64",
    "int8",
    "iota",
    "len",
    "make",
    "max",
    "min",
    "new",
    "nil",
    "panic",
    "print",
    "println",
    "real",
    "recover",
    "rune",
    "string",
    "true",
    "uint",
    "uint16",
    "uint32",
    "uint64",
    "uint8",
    "uintptr",
];

/// Names the generated bus package uses at package level or as locals in
/// generated functions; parameters and import aliases must avoid them.
pub const RESERVED: &[&str] = &[
    "p",
    "k",
    "s",
    "b",
    "w",
    "err",
    "env",
    "acc",
    "ok",
    "x",
    "fmt",
    "errors",
    "proto",
    "protoreflect",
    "strings",
    "strconv",
    "unicode",
    "utf8",
    "sort",
    "time",
    "bytes",
    "gzip",
    "hex",
    "sha256",
    "rand",
    "atomic",
    "io",
    "math",
    "descriptorpb",
    "agree",
    "strValue",
    "intValue",
    "uintValue",
    "boolValue",
    "enumValue",
    "timeValue",
    "subjectBuf",
    "newSubject",
    "appendParam",
    "schemaOf",
    "schema",
    "marshal",
    "written",
    "keyValue",
];

/// Whether `name` cannot be used as a local identifier as is.
pub fn is_reserved(name: &str) -> bool {
    KEYWORDS.contains(&name) || PREDECLARED.contains(&name) || RESERVED.contains(&name)
}

/// `client_order_id` → `ClientOrderId`, `paper-1` → `Paper1`: words split
/// at `_` and `-`, each capitalised. ASCII only: registry names are.
pub fn exported(name: &str) -> String {
    let mut out = String::new();
    for word in name.split(['_', '-']).filter(|w| !w.is_empty()) {
        let mut cs = word.chars();
        if let Some(c) = cs.next() {
            out.push(c.to_ascii_uppercase());
            out.extend(cs.filter(|c| c.is_ascii_alphanumeric()));
        }
    }
    out
}

/// A parameter name for a registry name: lowerCamelCase, with `Arg`
/// appended when that is a keyword, a predeclared identifier or a name the
/// generated code uses itself.
pub fn local(name: &str) -> String {
    let e = exported(name);
    let mut cs = e.chars();
    let mut out: String = match cs.next() {
        Some(c) => c.to_ascii_lowercase().to_string() + cs.as_str(),
        None => "v".to_owned(),
    };
    if out.starts_with(|c: char| c.is_ascii_digit()) {
        out.insert(0, 'v');
    }
    if is_reserved(&out) {
        out.push_str("Arg");
    }
    out
}

/// protoc-gen-go's `strs.GoCamelCase`, which names messages, enums and
/// fields. `_` followed by a lower-case letter starts a word, `.` becomes
/// `_` unless a lower-case letter follows, a leading `_` becomes `X`.
pub fn go_camel_case(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        let next_lower = b.get(i + 1).is_some_and(u8::is_ascii_lowercase);
        if c == b'.' && next_lower {
        } else if c == b'.' {
            out.push(b'_');
        } else if c == b'_' && (i == 0 || b[i - 1] == b'.') {
            out.push(b'X');
        } else if c == b'_' && next_lower {
        } else if c.is_ascii_digit() {
            out.push(c);
        } else {
            out.push(c.to_ascii_uppercase());
            while b.get(i + 1).is_some_and(u8::is_ascii_lowercase) {
                i += 1;
                out.push(b[i]);
            }
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The Go type name protoc-gen-go gives a message or enum: its full name
/// relative to the package, camel-cased (`Outer_Inner` when nested).
pub fn go_type_name(full_name: &str, package: &str) -> String {
    let rel = full_name.strip_prefix(package).and_then(|r| r.strip_prefix('.')).unwrap_or(full_name);
    go_camel_case(rel)
}

/// The Go names protoc-gen-go gives a message's fields (by number) and
/// oneofs (by name), after its conflict resolution: names of the
/// generated methods are taken, and a name whose getter would clash gets
/// `_` appended, in field order.
pub struct MessageNames {
    pub fields: BTreeMap<u32, String>,
    pub oneofs: BTreeMap<String, String>,
    /// Oneof wrapper types (`Func_Go`) by field number.
    pub wrappers: BTreeMap<u32, String>,
}

pub fn message_names(m: &MessageDescriptor) -> MessageNames {
    let mut used: BTreeMap<String, bool> = [
        "Reset",
        "String",
        "ProtoMessage",
        "Marshal",
        "Unmarshal",
        "ExtensionRangeArray",
        "ExtensionMap",
        "Descriptor",
    ]
    .into_iter()
    .map(|n| (n.to_owned(), true))
    .collect();
    let mut unique = |name: String, has_getter: bool| {
        let mut name = name;
        while used.get(&name).copied().unwrap_or(false)
            || (has_getter && used.get(&format!("Get{name}")).copied().unwrap_or(false))
        {
            name.push('_');
        }
        used.insert(name.clone(), true);
        used.insert(format!("Get{name}"), has_getter);
        name
    };
    let mut fields = BTreeMap::new();
    let mut oneofs = BTreeMap::new();
    for f in m.fields() {
        let name = unique(go_camel_case(f.name()), true);
        fields.insert(f.number(), name);
        if let Some(o) = real_oneof(&f) {
            let first = o.fields().next().map(|x| x.number());
            if first == Some(f.number()) {
                oneofs.insert(o.name().to_owned(), unique(go_camel_case(o.name()), false));
            }
        }
    }
    let type_name = go_type_name(m.full_name(), m.package_name());
    let nested: Vec<String> = m
        .child_messages()
        .map(|c| go_type_name(c.full_name(), c.package_name()))
        .chain(m.child_enums().map(|e| go_type_name(e.full_name(), e.package_name())))
        .collect();
    let mut wrappers = BTreeMap::new();
    for f in m.fields() {
        if real_oneof(&f).is_none() {
            continue;
        }
        let mut w = format!("{type_name}_{}", fields.get(&f.number()).map_or("", String::as_str));
        while nested.contains(&w) {
            w.push('_');
        }
        wrappers.insert(f.number(), w);
    }
    MessageNames { fields, oneofs, wrappers }
}

/// The field's oneof unless it is the synthetic one of proto3 `optional`.
pub fn real_oneof(f: &FieldDescriptor) -> Option<OneofDescriptor> {
    f.containing_oneof().filter(|o| !o.is_synthetic())
}

/// A Go interpreted string literal holding exactly `s`. Printable ASCII
/// and non-ASCII letters and digits are kept; everything else (controls,
/// format characters such as a BOM or bidi overrides, line separators,
/// symbols) is escaped, so the literal is always valid, single-line source.
pub fn lit(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            ' '..='~' => out.push(c),
            c if !c.is_ascii() && c.is_alphanumeric() => out.push(c),
            c if (c as u32) < 0x80 => out.push_str(&format!("\\x{:02x}", c as u32)),
            c if (c as u32) <= 0xFFFF => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push_str(&format!("\\U{:08x}", c as u32)),
        }
    }
    out.push('"');
    out
}

/// Free text as `//` comment lines: one per input line, control and
/// format characters replaced by spaces (a NUL or a BOM is not allowed in
/// Go source, even in a comment), trailing blanks trimmed.
pub fn comment_lines(text: &str, indent: &str) -> Vec<String> {
    text.split('\n')
        .map(|line| {
            let clean = one_line(line);
            let clean = clean.trim_end();
            if clean.is_empty() {
                format!("{indent}//")
            } else {
                format!("{indent}// {clean}")
            }
        })
        .collect()
}

/// Registry free text for a doc comment, as a preformatted block: gofmt
/// rewrites doc comment paragraphs (`''` becomes a typographic quote,
/// `- x` a list, indented lines code), but keeps a code block verbatim.
/// Starts with the blank `//` line a block needs; empty for empty text.
pub fn doc_block(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut blank = true;
    for line in text.split('\n') {
        let line = one_line(line);
        let line = line.trim();
        if line.is_empty() {
            blank = true;
            continue;
        }
        if blank {
            out.push("//".to_owned());
            blank = false;
        }
        out.push(format!("//\t{line}"));
    }
    out
}

/// Free text for the inside of one comment line.
pub fn one_line(text: &str) -> String {
    text.chars()
        .map(|c| if c.is_control() || matches!(c, '\u{feff}' | '\u{2028}' | '\u{2029}') { ' ' } else { c })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn camel_case_matches_protoc_gen_go() {
        assert_eq!(go_camel_case("client_order_id"), "ClientOrderId");
        assert_eq!(go_camel_case("trade_count_24h"), "TradeCount_24H");
        assert_eq!(go_camel_case("_x"), "XX");
        assert_eq!(go_camel_case("Outer.Inner"), "Outer_Inner");
        assert_eq!(go_camel_case("None"), "None");
        assert_eq!(go_camel_case("string"), "String");
    }

    #[test]
    fn names_and_literals() {
        assert_eq!(exported("corporate_actions"), "CorporateActions");
        assert_eq!(exported("paper-1"), "Paper1");
        assert_eq!(local("client_order_id"), "clientOrderId");
        assert_eq!(local("type"), "typeArg");
        assert_eq!(local("len"), "lenArg");
        assert_eq!(local("match"), "match");
        assert_eq!(lit("a\"b\\c\n\u{7}é—\u{feff}"), "\"a\\\"b\\\\c\\n\\x07é\\u2014\\ufeff\"");
        assert_eq!(comment_lines("a */\n\r\nb\u{0}", ""), ["// a */", "//", "// b"]);
        assert_eq!(doc_block(" a ''\n\n\n\tb */\n"), ["//", "//\ta ''", "//", "//\tb */"]);
    }
}
