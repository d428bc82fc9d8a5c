//! Reading the `#[prost(...)]` attribute of a field or oneof variant: what
//! prost's own derive will put on the wire for it.
//!
//! The grammar is prost-derive 0.14's: a type word (`int64`, `string`,
//! `bytes = "vec"`, `enumeration = "Side"`, `message`, `group`), a `map`
//! or `oneof` setting, a label (`optional`, `required`, `repeated`),
//! `packed`, `boxed`, `default` and `tag`. A field without `tag` gets the
//! previous field's highest tag plus one, exactly as prost infers it, so
//! the tag checked is the tag prost writes.
//!
//! Spans are kept for each part, so a wrong tag is reported on the tag
//! and a wrong type on the type word.

use proc_macro2::Span;
use syn::punctuated::Punctuated;
use syn::spanned::Spanned;
use syn::{Attribute, Expr, ExprLit, Lit, LitStr, Meta, Token};

/// A scalar type word.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Scalar {
    Double,
    Float,
    Int32,
    Int64,
    Uint32,
    Uint64,
    Sint32,
    Sint64,
    Fixed32,
    Fixed64,
    Sfixed32,
    Sfixed64,
    Bool,
    String,
    /// `bytes` or `bytes = "vec"` (`Vec<u8>`), `bytes = "bytes"` (`Bytes`).
    Bytes {
        vec: bool,
    },
    /// `enumeration = "path::Enum"`: an `i32` on the wire.
    Enumeration(syn::Path),
}

impl Scalar {
    /// The word as written in the attribute and in `.proto` files.
    pub fn word(&self) -> &'static str {
        match self {
            Scalar::Double => "double",
            Scalar::Float => "float",
            Scalar::Int32 => "int32",
            Scalar::Int64 => "int64",
            Scalar::Uint32 => "uint32",
            Scalar::Uint64 => "uint64",
            Scalar::Sint32 => "sint32",
            Scalar::Sint64 => "sint64",
            Scalar::Fixed32 => "fixed32",
            Scalar::Fixed64 => "fixed64",
            Scalar::Sfixed32 => "sfixed32",
            Scalar::Sfixed64 => "sfixed64",
            Scalar::Bool => "bool",
            Scalar::String => "string",
            Scalar::Bytes { .. } => "bytes",
            Scalar::Enumeration(_) => "enumeration",
        }
    }

    fn from_word(word: &str) -> Option<Scalar> {
        Some(match word {
            "double" => Scalar::Double,
            "float" => Scalar::Float,
            "int32" => Scalar::Int32,
            "int64" => Scalar::Int64,
            "uint32" => Scalar::Uint32,
            "uint64" => Scalar::Uint64,
            "sint32" => Scalar::Sint32,
            "sint64" => Scalar::Sint64,
            "fixed32" => Scalar::Fixed32,
            "fixed64" => Scalar::Fixed64,
            "sfixed32" => Scalar::Sfixed32,
            "sfixed64" => Scalar::Sfixed64,
            "bool" => Scalar::Bool,
            "string" => Scalar::String,
            "bytes" => Scalar::Bytes { vec: true },
            _ => return None,
        })
    }

    /// A map key or value as prost writes it in `map = "string, int64"`:
    /// a word, or `enumeration(Side)`.
    fn from_map_part(s: &str, span: Span) -> Option<Scalar> {
        let s = s.trim();
        if let Some(rest) = s.strip_prefix("enumeration") {
            let inner = rest.trim().strip_prefix(['(', '<'])?.strip_suffix([')', '>'])?;
            let path = LitStr::new(inner.trim(), span).parse::<syn::Path>().ok()?;
            return Some(Scalar::Enumeration(path));
        }
        Scalar::from_word(s)
    }

    /// Whether prost packs it when repeated (numeric types).
    pub fn is_numeric(&self) -> bool {
        !matches!(self, Scalar::String | Scalar::Bytes { .. })
    }
}

/// A map's value type.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum MapValue {
    Scalar(Scalar),
    Message,
}

/// What the attribute says the field is.
#[derive(Clone, Debug)]
pub enum Kind {
    Scalar(Scalar),
    Message,
    Group,
    /// `map`/`hash_map` (`btree: false`) or `btree_map`.
    Map {
        btree: bool,
        key: Scalar,
        value: MapValue,
    },
    /// `oneof = "path::Kind", tags = "3, 4"`.
    Oneof {
        path: syn::Path,
        tags: Vec<u32>,
    },
}

impl Kind {
    /// How the kind is written, for messages: `int64`, `message`, `map`.
    pub fn describe(&self) -> String {
        match self {
            Kind::Scalar(s) => s.word().to_owned(),
            Kind::Message => "message".to_owned(),
            Kind::Group => "group".to_owned(),
            Kind::Map { .. } => "map".to_owned(),
            Kind::Oneof { .. } => "oneof".to_owned(),
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Label {
    Optional,
    Required,
    Repeated,
}

impl Label {
    pub fn word(self) -> &'static str {
        match self {
            Label::Optional => "optional",
            Label::Required => "required",
            Label::Repeated => "repeated",
        }
    }
}

/// A parsed `#[prost(...)]`.
#[derive(Clone, Debug)]
pub struct ProstAttr {
    pub kind: Kind,
    /// The type word, or the `map`/`oneof` setting.
    pub kind_span: Span,
    pub label: Option<(Label, Span)>,
    /// The tag prost uses: written, or inferred from the previous field.
    pub tag: u32,
    /// The `tag` value's span when written.
    pub tag_span: Option<Span>,
    pub packed: Option<(bool, Span)>,
    pub boxed: bool,
    /// The whole attribute.
    pub span: Span,
}

impl ProstAttr {
    /// The tags the field occupies (several for a oneof).
    pub fn tags(&self) -> Vec<u32> {
        match &self.kind {
            Kind::Oneof { tags, .. } => tags.clone(),
            _ => vec![self.tag],
        }
    }

    /// Where a tag problem is reported: the tag, else the attribute.
    pub fn tag_or_attr_span(&self) -> Span {
        self.tag_span.unwrap_or(self.span)
    }
}

/// Reads the `#[prost]` attributes of one field. `Ok(None)` when there is
/// none; `inferred` is the tag prost gives a field without `tag`.
pub fn parse(attrs: &[Attribute], inferred: Option<u32>) -> Result<Option<ProstAttr>, syn::Error> {
    let prost: Vec<&Attribute> = attrs.iter().filter(|a| a.path().is_ident("prost")).collect();
    let Some(first) = prost.first() else { return Ok(None) };
    let span = first.span();
    let mut metas = Vec::new();
    for attr in &prost {
        match &attr.meta {
            Meta::List(list) => metas.extend(list.parse_args_with(Punctuated::<Meta, Token![,]>::parse_terminated)?),
            other => return Err(syn::Error::new(other.span(), "expected `#[prost(...)]`")),
        }
    }
    let mut kind: Option<(Kind, Span)> = None;
    let mut label = None;
    let mut tag = None;
    let mut tags: Option<(Vec<u32>, Span)> = None;
    let mut packed = None;
    let mut boxed = false;
    let mut set_kind = |k: Kind, s: Span| -> Result<(), syn::Error> {
        if kind.is_some() {
            return Err(syn::Error::new(s, "a `#[prost]` attribute takes one type"));
        }
        kind = Some((k, s));
        Ok(())
    };
    for meta in &metas {
        let path = meta.path();
        let Some(word) = path.get_ident().map(ToString::to_string) else {
            return Err(syn::Error::new(path.span(), "unknown `#[prost]` setting"));
        };
        match (word.as_str(), meta) {
            ("optional", Meta::Path(_)) => label = Some((Label::Optional, path.span())),
            ("required", Meta::Path(_)) => label = Some((Label::Required, path.span())),
            ("repeated", Meta::Path(_)) => label = Some((Label::Repeated, path.span())),
            ("boxed", Meta::Path(_)) => boxed = true,
            ("message", Meta::Path(_)) => set_kind(Kind::Message, path.span())?,
            ("group", Meta::Path(_)) => set_kind(Kind::Group, path.span())?,
            ("tag", _) => {
                let (n, s) = number(meta)?;
                tag = Some((n, s));
            }
            ("tags", _) => {
                let lit = string(meta)?;
                let parsed: Result<Vec<u32>, _> = lit.value().split(',').map(|t| t.trim().parse::<u32>()).collect();
                let parsed =
                    parsed.map_err(|_| syn::Error::new(lit.span(), "`tags` is a list of numbers: \"3, 4\""))?;
                tags = Some((parsed, lit.span()));
            }
            ("packed", _) => {
                let value = match meta {
                    Meta::Path(_) => true,
                    _ => match value_lit(meta)? {
                        Lit::Str(s) => s.value() == "true",
                        Lit::Bool(b) => b.value,
                        other => return Err(syn::Error::new(other.span(), "`packed` is \"true\" or \"false\"")),
                    },
                };
                packed = Some((value, meta.span()));
            }
            ("default", _) => {}
            ("bytes", Meta::NameValue(_)) => {
                let lit = string(meta)?;
                let vec = match lit.value().as_str() {
                    "vec" => true,
                    "bytes" => false,
                    _ => return Err(syn::Error::new(lit.span(), "`bytes` is \"vec\" or \"bytes\"")),
                };
                set_kind(Kind::Scalar(Scalar::Bytes { vec }), path.span())?;
            }
            ("enumeration", Meta::NameValue(_)) => {
                let lit = string(meta)?;
                let p = lit.parse::<syn::Path>()?;
                set_kind(Kind::Scalar(Scalar::Enumeration(p)), lit.span())?;
            }
            ("enumeration", Meta::List(list)) => {
                let p = list.parse_args::<syn::Path>()?;
                set_kind(Kind::Scalar(Scalar::Enumeration(p)), list.span())?;
            }
            ("oneof", _) => {
                let lit = string(meta)?;
                let p = lit.parse::<syn::Path>()?;
                set_kind(Kind::Oneof { path: p, tags: Vec::new() }, lit.span())?;
            }
            ("map" | "hash_map" | "btree_map", Meta::NameValue(_)) => {
                let lit = string(meta)?;
                let text = lit.value();
                let parts: Vec<&str> = text.splitn(2, ',').collect();
                let bad = || syn::Error::new(lit.span(), "a map attribute is `map = \"key type, value type\"`");
                let (Some(k), Some(v)) = (parts.first(), parts.get(1)) else { return Err(bad()) };
                let key = Scalar::from_map_part(k, lit.span()).ok_or_else(bad)?;
                let value = if v.trim() == "message" {
                    MapValue::Message
                } else {
                    MapValue::Scalar(Scalar::from_map_part(v, lit.span()).ok_or_else(bad)?)
                };
                set_kind(Kind::Map { btree: word == "btree_map", key, value }, lit.span())?;
            }
            (w, Meta::Path(_)) if Scalar::from_word(w).is_some() => {
                if let Some(s) = Scalar::from_word(w) {
                    set_kind(Kind::Scalar(s), path.span())?;
                }
            }
            _ => return Err(syn::Error::new(meta.span(), format!("unknown `#[prost]` setting `{word}`"))),
        }
    }
    let Some((mut kind, kind_span)) = kind else {
        return Err(syn::Error::new(span, "this `#[prost]` attribute names no type (`int64`, `string`, `message`, …)"));
    };
    if let Kind::Oneof { tags: t, .. } = &mut kind {
        let Some((written, _)) = tags else {
            return Err(syn::Error::new(span, "a oneof field needs `tags = \"…\"`, the numbers of its members"));
        };
        *t = written;
    }
    let (tag, tag_span) = match (tag, &kind) {
        (Some((n, s)), _) => (n, Some(s)),
        (None, Kind::Oneof { tags, .. }) => (tags.iter().copied().max().unwrap_or(0), None),
        (None, _) => match inferred {
            Some(n) => (n, None),
            None => return Err(syn::Error::new(span, "a oneof variant needs `tag = \"…\"`")),
        },
    };
    Ok(Some(ProstAttr { kind, kind_span, label, tag, tag_span, packed, boxed, span }))
}

fn value_lit(meta: &Meta) -> Result<&Lit, syn::Error> {
    match meta {
        Meta::NameValue(nv) => match &nv.value {
            Expr::Lit(ExprLit { lit, .. }) => Ok(lit),
            other => Err(syn::Error::new(other.span(), "expected a literal")),
        },
        Meta::List(list) => Err(syn::Error::new(list.span(), "expected `name = \"value\"`")),
        Meta::Path(p) => Err(syn::Error::new(p.span(), "expected `name = \"value\"`")),
    }
}

fn string(meta: &Meta) -> Result<LitStr, syn::Error> {
    match value_lit(meta)? {
        Lit::Str(s) => Ok(s.clone()),
        other => Err(syn::Error::new(other.span(), "expected a string literal")),
    }
}

/// `tag = "3"`, `tag = 3` or `tag(3)`.
fn number(meta: &Meta) -> Result<(u32, Span), syn::Error> {
    let bad = |s: Span| syn::Error::new(s, "a tag is a field number: `tag = \"3\"`");
    if let Meta::List(list) = meta {
        let lit = list.parse_args::<syn::LitInt>()?;
        return Ok((lit.base10_parse()?, lit.span()));
    }
    match value_lit(meta)? {
        Lit::Str(s) => s.value().trim().parse::<u32>().map(|n| (n, s.span())).map_err(|_| bad(s.span())),
        Lit::Int(i) => Ok((i.base10_parse()?, i.span())),
        other => Err(bad(other.span())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn field(src: &str) -> syn::Field {
        let s: syn::ItemStruct = syn::parse_str(&format!("struct S {{ {src} }}")).expect("struct");
        s.fields.into_iter().next().expect("a field")
    }

    fn attr(src: &str, inferred: u32) -> ProstAttr {
        parse(&field(src).attrs, Some(inferred)).expect("parses").expect("has #[prost]")
    }

    #[test]
    fn reads_what_prost_writes() {
        let a = attr(r#"#[prost(int64, tag = "10")] pub volume: i64"#, 1);
        assert!(matches!(a.kind, Kind::Scalar(Scalar::Int64)));
        assert_eq!((a.tag, a.label.map(|l| l.0)), (10, None));
        let a = attr(r#"#[prost(message, repeated, tag = "1")] pub bars: Vec<Bar>"#, 1);
        assert!(matches!(a.kind, Kind::Message) && a.label.map(|l| l.0) == Some(Label::Repeated));
        let a = attr(r#"#[prost(bytes = "bytes", optional, tag = 4)] pub b: Option<Bytes>"#, 1);
        assert!(matches!(a.kind, Kind::Scalar(Scalar::Bytes { vec: false })) && a.tag == 4);
        let a = attr(r#"#[prost(enumeration = "super::Side", tag = "2")] pub side: i32"#, 1);
        assert!(matches!(&a.kind, Kind::Scalar(Scalar::Enumeration(p)) if p.segments.len() == 2));
        let a = attr(r#"#[prost(btree_map = "string, enumeration(Side)", tag = "5")] pub m: M"#, 1);
        assert!(matches!(
            &a.kind,
            Kind::Map { btree: true, key: Scalar::String, value: MapValue::Scalar(Scalar::Enumeration(_)) }
        ));
        let a = attr(r#"#[prost(map = "sint32, message", tag = "5")] pub m: M"#, 1);
        assert!(matches!(&a.kind, Kind::Map { btree: false, key: Scalar::Sint32, value: MapValue::Message }));
        let a = attr(r#"#[prost(oneof = "bar::Kind", tags = "3, 4")] pub kind: Option<bar::Kind>"#, 1);
        assert_eq!(a.tags(), vec![3, 4]);
        let a = attr(r#"#[prost(uint32, repeated, packed = "false", tag = "7")] pub v: Vec<u32>"#, 1);
        assert_eq!(a.packed.map(|p| p.0), Some(false));
    }

    #[test]
    fn tags_are_inferred_as_prost_infers_them() {
        let a = attr("#[prost(string)] pub s: String", 8);
        assert_eq!((a.tag, a.tag_span.is_none()), (8, true));
    }

    #[test]
    fn nonsense_is_an_error_not_a_panic() {
        for src in [
            "#[prost(tag = \"1\")] pub s: String",
            "#[prost(string, tag = \"x\")] pub s: String",
            "#[prost(map = \"string\", tag = \"1\")] pub s: String",
            "#[prost(wat, tag = \"1\")] pub s: String",
            "#[prost(string, string)] pub s: String",
            "#[prost(oneof = \"K\")] pub s: Option<K>",
            "#[prost = 1] pub s: String",
        ] {
            assert!(parse(&field(src).attrs, Some(1)).is_err(), "{src}");
        }
        assert!(parse(&field("pub s: String").attrs, Some(1)).expect("no attribute is fine").is_none());
    }
}
