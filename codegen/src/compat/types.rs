//! What a field's type change does to data, per direction: old bytes read
//! with the new type (new readers of retained or in-flight data) and new
//! bytes read with the old type (consumers not yet upgraded). Both happen
//! on a bus whose producers and consumers upgrade independently, so a type
//! change is compatible only when every value survives both ways.
//!
//! That leaves very little: an enum and `int32` (the number survives both
//! ways when the enum is open; only the JSON form differs) and a message or
//! enum replaced by another of exactly the same shape (a rename or package
//! move: nothing on the wire or in JSON moves). Everything protobuf calls
//! "compatible" beyond that parses but truncates, flips signs or drops
//! values in at least one direction, and is a wire break.

use super::model::{Enum, Message, Schema};
use super::Class;

/// Both schemas, for the types a token names.
pub(super) struct Types<'a> {
    pub old: &'a Schema,
    pub new: &'a Schema,
}

/// A classified type change and what it does, for the summary.
pub(super) struct TypeChange {
    pub class: Class,
    pub what: String,
    /// Wire and JSON unchanged, only generated names move.
    pub renamed: bool,
}

fn name_in<'t>(token: &'t str, kind: &str) -> Option<&'t str> {
    token.strip_prefix(kind)?.strip_prefix('(')?.strip_suffix(')')
}

/// `map(K,V)` → `(K, V)`. Type tokens contain no commas except a map's.
pub(super) fn map_parts(token: &str) -> Option<(&str, &str)> {
    name_in(token, "map")?.split_once(',')
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Wire {
    Varint,
    Fixed32,
    Fixed64,
    Len,
    Group,
}

fn wire(token: &str) -> Wire {
    match token {
        "fixed32" | "sfixed32" | "float" => Wire::Fixed32,
        "fixed64" | "sfixed64" | "double" => Wire::Fixed64,
        "string" | "bytes" => Wire::Len,
        t if t.starts_with("message(") || t.starts_with("map(") => Wire::Len,
        t if t.starts_with("group(") => Wire::Group,
        _ => Wire::Varint,
    }
}

impl Types<'_> {
    fn closed(&self, schema: &Schema, token: &str) -> bool {
        name_in(token, "enum").and_then(|n| schema.enums.get(n)).is_some_and(|e| e.header.starts_with("proto2"))
    }

    /// How values written as `from` read as `to` by a reader with schema
    /// `reader`; `None` when every value reads back unchanged.
    fn reads(&self, from: &str, to: &str, reader: &Schema) -> Option<String> {
        match (wire(from), wire(to)) {
            (Wire::Len, Wire::Len) => return len_reads(from, to).map(str::to_owned),
            (a, b) if a != b => {
                return Some(format!(
                    "`{from}` has another wire type than `{to}`: the field fails to parse or is dropped"
                ))
            }
            _ => {}
        }
        fn base(t: &str) -> &str {
            if t.starts_with("enum(") {
                "enum"
            } else {
                t
            }
        }
        let (f, t) = (base(from), base(to));
        let zigzag = |t: &str| t.starts_with("sint");
        let text = |s: &str| Some(s.to_owned());
        match (f, t) {
            _ if zigzag(f) != zigzag(t) => text("zigzag and plain varints read each other's values as other numbers"),
            ("int32", "int64") | ("uint32", "int64" | "uint64") | ("sint32", "sint64") => None,
            ("bool", "int32" | "int64" | "uint32" | "uint64") | ("enum", "int32" | "int64") => None,
            ("int32", "enum") if !self.closed(reader, to) => None,
            ("int32" | "enum", "enum") => text("a closed (proto2) enum drops the numbers it does not declare"),
            (_, "enum") | ("int64", "int32") | ("uint64", "uint32") | ("sint64", "sint32") => {
                text("values beyond 32 bits are truncated")
            }
            (_, "bool") => text("every non-zero value becomes `true`"),
            ("int32" | "int64" | "enum", "uint32" | "uint64") => text("negative values become large positive ones"),
            ("uint32" | "uint64", "int32") | ("uint64", "int64") => text("large values become negative"),
            ("fixed32", "sfixed32") | ("fixed64", "sfixed64") => {
                text("values above the signed maximum become negative")
            }
            ("sfixed32", "fixed32") | ("sfixed64", "fixed64") => text("negative values become large positive ones"),
            (_, "float" | "double") | ("float" | "double", _) => {
                text("the same bits are read as another number (integer against IEEE 754)")
            }
            _ => text("values change"),
        }
    }
}

/// The length-delimited family: `string`, `bytes`, messages and maps.
fn len_reads(from: &str, to: &str) -> Option<&'static str> {
    let kind = |t: &str| match t {
        "string" => "string",
        "bytes" => "bytes",
        t if t.starts_with("map(") => "map",
        _ => "message",
    };
    Some(match (kind(from), kind(to)) {
        ("string", "bytes") | ("message", "bytes") => return None,
        ("bytes", "string") => "bytes that are not UTF-8 fail to parse as a string",
        ("string", "message") => "text is parsed as a message encoding: it fails or reads as garbage",
        ("message", "string") => "a message encoding is read as text: it fails UTF-8 validation or reads as garbage",
        ("bytes", "message") => "bytes fail to parse unless they happen to be a message encoding",
        ("map", _) | (_, "map") => {
            "a map and repeated entry messages share the encoding, but a map keeps one entry per key"
        }
        _ => "values change",
    })
}

fn is_64(token: &str) -> bool {
    matches!(token, "int64" | "uint64" | "sint64" | "fixed64" | "sfixed64")
}

/// Classifies the change of a field's type token from `old` to `new`.
pub(super) fn classify(types: &Types<'_>, old: &str, new: &str) -> TypeChange {
    if let (Some((ok, ov)), Some((nk, nv))) = (map_parts(old), map_parts(new)) {
        let mut parts = Vec::new();
        let mut class = Class::Compatible;
        let mut renamed = true;
        for (what, o, n) in [("key", ok, nk), ("value", ov, nv)] {
            if o != n {
                let c = classify(types, o, n);
                class = class.max(c.class);
                renamed &= c.renamed;
                parts.push(format!("map {what}: {}", c.what));
            }
        }
        return TypeChange { class, what: parts.join("; "), renamed };
    }
    let kind = |t: &str, k: &str| name_in(t, k).is_some();
    for k in ["message", "enum", "group"] {
        if let (Some(a), Some(b)) = (name_in(old, k), name_in(new, k)) {
            return if same_shape(types.old, a, types.new, b, &mut Vec::new()) {
                TypeChange {
                    class: Class::Compatible,
                    what: format!(
                        "type `{a}` replaced by `{b}`, which has exactly the same shape (wire and JSON unchanged)"
                    ),
                    renamed: true,
                }
            } else {
                TypeChange {
                    class: Class::BreakingWire,
                    what: format!("type `{a}` replaced by `{b}`, which has another shape"),
                    renamed: false,
                }
            };
        }
    }
    let forward = types.reads(old, new, types.new);
    let backward = types.reads(new, old, types.old);
    // No scalar change keeps the JSON form: numbers become names, text
    // becomes base64, objects become strings.
    let class = if forward.is_none() && backward.is_none() { Class::BreakingJson } else { Class::BreakingWire };
    let json = match (old, new) {
        _ if kind(old, "enum") || kind(new, "enum") => "JSON changes between names and numbers",
        ("string", "bytes") | ("bytes", "string") => "JSON changes between text and base64",
        _ if kind(old, "message") || kind(new, "message") => "JSON changes its shape",
        // Proto3 JSON writes 64-bit integers as strings.
        _ if is_64(old) != is_64(new) => "JSON changes between numbers and strings",
        _ => "",
    };
    let mut what = format!("type changed `{old}` -> `{new}`");
    match (&forward, &backward) {
        (None, None) => what.push_str(": every value survives both ways on the wire"),
        _ => {
            what.push_str(&format!(
                ": old data read as `{new}`: {}; new data read by old readers as `{old}`: {}",
                forward.as_deref().unwrap_or("unchanged"),
                backward.as_deref().unwrap_or("unchanged")
            ));
        }
    }
    if !json.is_empty() {
        what.push_str(&format!("; {json}"));
    }
    TypeChange { class, what, renamed: false }
}

/// Whether message (or enum) `a` of `old` and `b` of `new` have the same
/// shape: the same fields (number, name, label, presence, JSON name,
/// oneof, packing, default) of the same types, recursively, where types may
/// differ only by name. `seen` holds the pairs assumed equal so far, which
/// is what makes recursive messages terminate.
pub(super) fn same_shape(old: &Schema, a: &str, new: &Schema, b: &str, seen: &mut Vec<(String, String)>) -> bool {
    if seen.iter().any(|(x, y)| x == a && y == b) {
        return true;
    }
    seen.push((a.to_owned(), b.to_owned()));
    if let (Some(x), Some(y)) = (old.enums.get(a), new.enums.get(b)) {
        return same_enum(x, y);
    }
    let (Some(x), Some(y)) = (old.messages.get(a), new.messages.get(b)) else { return false };
    same_message(old, x, new, y, seen)
}

fn same_enum(x: &Enum, y: &Enum) -> bool {
    x.header == y.header
        && x.values == y.values
        && x.values.iter().all(|(n, _)| x.primary(*n).is_some() && x.primary(*n) == y.primary(*n))
}

fn same_message(old: &Schema, x: &Message, new: &Schema, y: &Message, seen: &mut Vec<(String, String)>) -> bool {
    x.header == y.header
        && x.fields.len() == y.fields.len()
        && x.fields.iter().all(|(n, f)| {
            let Some(g) = y.fields.get(n) else { return false };
            (&f.name, &f.label, &f.presence, &f.json, &f.oneof, f.packed, &f.default)
                == (&g.name, &g.label, &g.presence, &g.json, &g.oneof, g.packed, &g.default)
                && same_type(old, &f.ty, new, &g.ty, seen)
        })
}

fn same_type(old: &Schema, a: &str, new: &Schema, b: &str, seen: &mut Vec<(String, String)>) -> bool {
    if let (Some((ak, av)), Some((bk, bv))) = (map_parts(a), map_parts(b)) {
        return same_type(old, ak, new, bk, seen) && same_type(old, av, new, bv, seen);
    }
    for k in ["message", "enum", "group"] {
        if let (Some(x), Some(y)) = (name_in(a, k), name_in(b, k)) {
            return same_shape(old, x, new, y, seen);
        }
    }
    a == b
}

/// The `(old name, new name)` pairs of definitions a type change from
/// `old` to `new` merely renames; empty unless every one has the same shape.
pub(super) fn renamed_pairs(types: &Types<'_>, old: &str, new: &str) -> Vec<(String, String)> {
    let mut seen = Vec::new();
    if same_type(types.old, old, types.new, new, &mut seen) {
        seen
    } else {
        Vec::new()
    }
}
