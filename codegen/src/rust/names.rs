//! Rust names for proto and registry items, computed the way prost-build
//! computes them, so that bindings can name prost's types and fields.
//!
//! Registry names are validated as `[a-z][a-z0-9_]*`, but that still lets
//! through Rust keywords (`type`, `match`, `self`), so every identifier goes
//! through [`ident`], which makes raw identifiers or appends `_` exactly as
//! prost-build does for its own output.

use heck::{ToSnakeCase, ToUpperCamelCase};
use proc_macro2::{Ident, Span};
use prost_reflect::MessageDescriptor;

/// prost-build's `sanitize_identifier`, as an [`Ident`].
pub fn ident(name: &str) -> Ident {
    match name {
        "as" | "break" | "const" | "continue" | "else" | "enum" | "false" | "fn" | "for" | "if" | "impl" | "in"
        | "let" | "loop" | "match" | "mod" | "move" | "mut" | "pub" | "ref" | "return" | "static" | "struct"
        | "trait" | "true" | "type" | "unsafe" | "use" | "where" | "while" | "dyn" | "abstract" | "become" | "box"
        | "do" | "final" | "macro" | "override" | "priv" | "typeof" | "unsized" | "virtual" | "yield" | "async"
        | "await" | "try" | "gen" => Ident::new_raw(name, Span::call_site()),
        "_" | "super" | "self" | "Self" | "extern" | "crate" => Ident::new(&format!("{name}_"), Span::call_site()),
        _ => Ident::new(&valid(name), Span::call_site()),
    }
}

/// `Ident::new` panics on anything that is not an identifier; names reach
/// here from validated registries and proto identifiers, but a generator
/// must not panic on any input, so anything else is mapped onto `_`s.
fn valid(name: &str) -> String {
    let mut out: String = name.chars().map(|c| if c.is_ascii_alphanumeric() || c == '_' { c } else { '_' }).collect();
    if out.is_empty() || out.starts_with(|c: char| c.is_ascii_digit()) || out == "_" {
        out.insert(0, '_');
        out.push('_');
    }
    out
}

/// An identifier prost already sanitised (`r#type`, `self_`).
pub fn sanitized(name: &str) -> Ident {
    match name.strip_prefix("r#") {
        Some(raw) if valid(raw) == raw && !matches!(raw, "self" | "super" | "crate" | "Self" | "extern") => {
            Ident::new_raw(raw, Span::call_site())
        }
        _ => Ident::new(&valid(name), Span::call_site()),
    }
}

/// A module or field name (prost's `to_snake`).
pub fn snake(name: &str) -> Ident {
    ident(&name.to_snake_case())
}

/// A type or variant name (prost's `to_upper_camel`).
pub fn camel(name: &str) -> Ident {
    ident(&name.to_upper_camel_case())
}

/// Maps proto names to Rust paths relative to the root of the generated
/// tree, honouring `extern_path` overrides.
#[derive(Clone, Debug, Default)]
pub struct Paths {
    /// `(".pkg.Name", "::crate::path")`, longest match wins.
    pub externs: Vec<(String, String)>,
}

impl Paths {
    /// The path of a message type from `root` (`super::super`, `self`),
    /// e.g. `self::ampy::orders::v1::OrderRequest`, or an extern crate's
    /// path.
    pub fn message(&self, root: &str, m: &MessageDescriptor) -> String {
        self.type_path(root, m.full_name(), m.package_name(), m.parent_message().as_ref())
    }

    /// The module prost puts a message's nested types and oneofs in.
    pub fn nested_module(&self, root: &str, m: &MessageDescriptor) -> String {
        let name = snake(m.name());
        match m.parent_message() {
            Some(p) => format!("{}::{name}", self.nested_module(root, &p)),
            None => format!("{}::{name}", self.package(root, m.package_name())),
        }
    }

    fn type_path(&self, root: &str, full_name: &str, package: &str, parent: Option<&MessageDescriptor>) -> String {
        if let Some(path) = self.extern_for(full_name) {
            return path;
        }
        let name = camel(full_name.rsplit('.').next().unwrap_or(full_name));
        match parent {
            Some(p) => format!("{}::{name}", self.nested_module(root, p)),
            None => format!("{}::{name}", self.package(root, package)),
        }
    }

    fn package(&self, root: &str, package: &str) -> String {
        let mut out = root.to_owned();
        for part in package.split('.').filter(|p| !p.is_empty()) {
            out.push_str("::");
            out.push_str(&snake(part).to_string());
        }
        out
    }

    fn extern_for(&self, full_name: &str) -> Option<String> {
        let dotted = format!(".{full_name}");
        let (proto, rust) = self
            .externs
            .iter()
            .filter(|(p, _)| dotted == *p || dotted.starts_with(&format!("{p}.")))
            .max_by_key(|(p, _)| p.len())?;
        let segments: Vec<&str> = dotted[proto.len()..].split('.').filter(|s| !s.is_empty()).collect();
        let mut path = rust.clone();
        for (i, s) in segments.iter().enumerate() {
            path.push_str("::");
            path.push_str(&if i + 1 == segments.len() { camel(s) } else { snake(s) }.to_string());
        }
        Some(path)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keywords_become_raw_or_suffixed_like_prost() {
        assert_eq!(snake("type").to_string(), "r#type");
        assert_eq!(snake("self").to_string(), "self_");
        assert_eq!(camel("self").to_string(), "Self_");
        assert_eq!(camel("bar_batch").to_string(), "BarBatch");
        assert_eq!(snake("BarBatch").to_string(), "bar_batch");
        // Never a panic, whatever comes in.
        for odd in ["", "_", "9x", "a-b", "ü", "r#"] {
            let _ = ident(odd);
            let _ = camel(odd);
            let _ = snake(odd);
            let _ = sanitized(odd);
        }
    }
}
