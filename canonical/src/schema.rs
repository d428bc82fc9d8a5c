//! Canonical schema form and hash (normative spec: `docs/schema-hash.md`).
//!
//! Every producer and consumer on the bus stamps messages with a hash of the
//! schema it was built against. The hash must only move when the *wire or JSON
//! contract* of a message moves, and it must be recomputable byte for byte by
//! the Go and Python runtimes from the descriptors they already link. Hashing
//! serialized `FileDescriptorProto`s fails both goals (comments, file layout
//! and options leak in, and serializers differ), so instead we render a small,
//! line-oriented text form from the resolved descriptor and hash that.
//!
//! The text form is also what lock files store, which lets [`diff`] explain a
//! hash mismatch in terms of messages, fields and enum values.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;

use prost_reflect::{Cardinality, EnumDescriptor, FieldDescriptor, Kind, MessageDescriptor, Syntax, Value};
use sha2::{Digest, Sha256};

mod diff;

pub use diff::{diff, Change, ChangeKind, Item};

/// First line of a canonical form that reaches no aliased enum value.
///
/// It is part of the hashed bytes so that forms of different versions can
/// never collide, and so a lock file says which rules produced it.
pub const VERSION_LINE: &str = "ampy-canonical-schema v1";

/// First line of a canonical form that reaches an enum with aliases (two
/// names for one number). v2 is v1 plus one token: ` alias` on every value
/// that is not the first declared name of its number. The first declared
/// name is what JSON writers print and keys format, so a new one is a
/// contract change that v1 could not see. A form without aliases is the same
/// text under either rule set and keeps its v1 line, so the hashes of such
/// schemas did not move when v2 was introduced.
pub const VERSION_LINE_V2: &str = "ampy-canonical-schema v2";

/// Renders the canonical form of `root` and everything it reaches: v1, or
/// v2 when a reached enum has aliases (see [`VERSION_LINE_V2`]).
///
/// This is the single definition of "what counts as the schema"; hashing,
/// lock files and `ampygen check` diffs all derive from this text so they can
/// never disagree with each other.
pub fn canonical_form(root: &MessageDescriptor) -> String {
    render(root, None)
}

/// The rendered blocks of the definitions [`canonical_form_with`] has met,
/// by full name, so that a message many payloads reach (a shared
/// `SecurityId`, a common header) is rendered once for all of them. Valid
/// for one descriptor pool only, where a full name names one definition.
#[derive(Debug, Default)]
pub struct Blocks {
    rendered: BTreeMap<String, String>,
}

/// [`canonical_form`] of one of several roots of the same pool, reusing
/// the blocks earlier calls rendered; the text is the same.
pub fn canonical_form_with(root: &MessageDescriptor, blocks: &mut Blocks) -> String {
    render(root, Some(blocks))
}

fn render(root: &MessageDescriptor, mut blocks: Option<&mut Blocks>) -> String {
    let defs = reachable(root);
    let aliased = defs.values().any(|d| matches!(d, Def::Enum(e) if !primaries(e).is_empty()));
    let mut out = String::new();
    out.push_str(if aliased { VERSION_LINE_V2 } else { VERSION_LINE });
    out.push('\n');
    out.push_str("root ");
    out.push_str(root.full_name());
    out.push('\n');
    for (name, def) in &defs {
        if let Some(text) = blocks.as_deref().and_then(|b| b.rendered.get(name)) {
            out.push_str(text);
            continue;
        }
        let start = out.len();
        match def {
            Def::Message(m) => write_message(&mut out, m),
            Def::Enum(e) => write_enum(&mut out, e),
        }
        if let Some(b) = blocks.as_deref_mut() {
            b.rendered.insert(name.clone(), out[start..].to_owned());
        }
    }
    out
}

/// Canonical schema hash of `root`: `"sha256:"` + 64 lowercase hex digits.
///
/// The algorithm prefix keeps the door open for changing the digest without
/// ambiguity in headers and lock files.
pub fn schema_hash(root: &MessageDescriptor) -> String {
    hash_canonical(&canonical_form(root))
}

/// Hashes an already rendered canonical form.
///
/// Exposed separately so lock files can be re-verified (and diffed) from the
/// stored text alone, without compiling any `.proto` file.
pub fn hash_canonical(canonical: &str) -> String {
    let digest = Sha256::digest(canonical.as_bytes());
    let mut out = String::with_capacity(7 + 64);
    out.push_str("sha256:");
    for b in digest.iter() {
        // Writing to a String cannot fail.
        let _ = write!(out, "{b:02x}");
    }
    out
}

/// A definition reached from the root. Keyed by full name in a `BTreeMap` so
/// block order is bytewise by name and independent of declaration order.
enum Def {
    Message(MessageDescriptor),
    Enum(EnumDescriptor),
}

/// Collects every message/enum transitively referenced by fields of `root`
/// (map entries are inlined, extensions are not followed).
fn reachable(root: &MessageDescriptor) -> BTreeMap<String, Def> {
    let mut defs = BTreeMap::new();
    defs.insert(root.full_name().to_owned(), Def::Message(root.clone()));
    let mut work = vec![root.clone()];
    while let Some(msg) = work.pop() {
        for field in msg.fields() {
            let mut kinds = vec![field.kind()];
            if field.is_map() {
                if let Kind::Message(entry) = field.kind() {
                    kinds = vec![entry.map_entry_key_field().kind(), entry.map_entry_value_field().kind()];
                }
            }
            for kind in kinds {
                match kind {
                    Kind::Message(m) if !defs.contains_key(m.full_name()) => {
                        defs.insert(m.full_name().to_owned(), Def::Message(m.clone()));
                        work.push(m);
                    }
                    Kind::Enum(e) if !defs.contains_key(e.full_name()) => {
                        defs.insert(e.full_name().to_owned(), Def::Enum(e));
                    }
                    _ => {}
                }
            }
        }
    }
    defs
}

fn syntax_token(syntax: Syntax) -> &'static str {
    match syntax {
        Syntax::Proto2 => "proto2",
        Syntax::Proto3 => "proto3",
    }
}

fn write_message(out: &mut String, msg: &MessageDescriptor) {
    out.push_str("message ");
    out.push_str(msg.full_name());
    out.push(' ');
    out.push_str(syntax_token(msg.parent_file().syntax()));
    let message_set = msg.descriptor_proto().options.as_ref().is_some_and(|o| o.message_set_wire_format());
    if message_set {
        out.push_str(" message_set_wire_format");
    }
    out.push('\n');

    let mut fields: Vec<FieldDescriptor> = msg.fields().collect();
    fields.sort_by_key(|f| f.number());
    for field in &fields {
        write_field(out, field);
    }
}

fn write_field(out: &mut String, field: &FieldDescriptor) {
    let label = match field.cardinality() {
        Cardinality::Optional => "optional",
        Cardinality::Required => "required",
        Cardinality::Repeated => "repeated",
    };
    let presence = if field.supports_presence() { "explicit" } else { "implicit" };
    let _ = write!(
        out,
        "  field {} {} {} {} {} json={}",
        field.number(),
        field.name(),
        label,
        presence,
        field_type_token(field),
        quote(field.json_name().as_bytes()),
    );
    if let Some(oneof) = field.containing_oneof().filter(|o| !o.is_synthetic()) {
        out.push_str(" oneof=");
        out.push_str(oneof.name());
    }
    if effectively_packed(field) {
        out.push_str(" packed");
    }
    if let Some(raw) = field.field_descriptor_proto().default_value.as_deref() {
        out.push_str(" default=");
        out.push_str(&default_token(field, raw));
    }
    out.push('\n');
}

/// Whether the field is packed on the wire, by the protobuf rule (Go's
/// `IsPacked()`): repeated, a packable kind, and `[packed]` if set, else
/// "is proto3".
///
/// We deliberately do not call prost-reflect 0.16's `is_packed()`: it is
/// computed before options are interpreted, so for pools compiled from
/// source (protox) it ignores an explicit `[packed = ...]` and would make
/// the hash depend on which compiler produced the descriptors. The
/// `FieldDescriptorProto` we read here has its options interpreted.
fn effectively_packed(field: &FieldDescriptor) -> bool {
    let packable = !matches!(field.kind(), Kind::String | Kind::Bytes | Kind::Message(_));
    field.cardinality() == Cardinality::Repeated
        && packable
        && field
            .field_descriptor_proto()
            .options
            .as_ref()
            .and_then(|o| o.packed)
            .unwrap_or(field.parent_file().syntax() == Syntax::Proto3)
}

/// Type token of a field, with map fields rendered as `map(key,value)`.
fn field_type_token(field: &FieldDescriptor) -> String {
    if field.is_map() {
        if let Kind::Message(entry) = field.kind() {
            return format!(
                "map({},{})",
                type_token(&entry.map_entry_key_field()),
                type_token(&entry.map_entry_value_field())
            );
        }
    }
    type_token(field)
}

fn type_token(field: &FieldDescriptor) -> String {
    match field.kind() {
        Kind::Message(m) if field.is_group() => format!("group({})", m.full_name()),
        Kind::Message(m) => format!("message({})", m.full_name()),
        Kind::Enum(e) => format!("enum({})", e.full_name()),
        kind => scalar_name(&kind).unwrap_or_default().to_owned(),
    }
}

/// The `.proto` spelling of a scalar kind; `None` for messages and enums.
/// Shared with registry diagnostics so a kind is named one way everywhere.
pub fn scalar_name(kind: &Kind) -> Option<&'static str> {
    Some(match kind {
        Kind::Double => "double",
        Kind::Float => "float",
        Kind::Int64 => "int64",
        Kind::Uint64 => "uint64",
        Kind::Int32 => "int32",
        Kind::Fixed64 => "fixed64",
        Kind::Fixed32 => "fixed32",
        Kind::Bool => "bool",
        Kind::String => "string",
        Kind::Bytes => "bytes",
        Kind::Uint32 => "uint32",
        Kind::Sfixed32 => "sfixed32",
        Kind::Sfixed64 => "sfixed64",
        Kind::Sint32 => "sint32",
        Kind::Sint64 => "sint64",
        Kind::Message(_) | Kind::Enum(_) => return None,
    })
}

/// Renders an explicit default from the *parsed* value rather than the raw
/// descriptor string: compilers disagree on how they spell `1e3`, `inf` or
/// escaped bytes, but they agree on the value.
fn default_token(field: &FieldDescriptor, raw: &str) -> String {
    if let Kind::Enum(_) = field.kind() {
        // The descriptor stores the value *name*; using it (not the number)
        // keeps aliases distinguishable and matches Go's DefaultEnumValue().
        return raw.to_owned();
    }
    match field.default_value() {
        Value::Bool(b) => b.to_string(),
        Value::I32(v) => v.to_string(),
        Value::I64(v) => v.to_string(),
        Value::U32(v) => v.to_string(),
        Value::U64(v) => v.to_string(),
        Value::F32(v) => float_bits(f64::from(v)),
        Value::F64(v) => float_bits(v),
        Value::String(s) => quote(s.as_bytes()),
        Value::Bytes(b) => quote(&b),
        // Unreachable for a descriptor that passed validation; fall back to
        // the raw text so the form stays total.
        _ => quote(raw.as_bytes()),
    }
}

/// IEEE-754 binary64 bits, so infinities, NaN and -0.0 have one spelling.
/// Every NaN is normalized because runtimes differ in the payload they use
/// (Go's `math.NaN()` is not Rust's `f64::NAN`).
fn float_bits(v: f64) -> String {
    let bits = if v.is_nan() { 0x7ff8_0000_0000_0000 } else { v.to_bits() };
    format!("0x{bits:016x}")
}

fn write_enum(out: &mut String, e: &EnumDescriptor) {
    out.push_str("enum ");
    out.push_str(e.full_name());
    out.push(' ');
    out.push_str(syntax_token(e.parent_file().syntax()));
    out.push('\n');
    let values: BTreeSet<(i32, String)> = e.values().map(|v| (v.number(), v.name().to_owned())).collect();
    let primaries = primaries(e);
    for (number, name) in values {
        let alias = primaries.get(&number).is_some_and(|p| *p != name);
        let _ = writeln!(out, "  value {number} {name}{}", if alias { " alias" } else { "" });
    }
}

/// The first declared name of every number that has several names; empty
/// for an enum without aliases. Read from the descriptor proto, whose value
/// list is in declaration order.
fn primaries(e: &EnumDescriptor) -> BTreeMap<i32, String> {
    let mut first: BTreeMap<i32, (String, usize)> = BTreeMap::new();
    for v in &e.enum_descriptor_proto().value {
        first.entry(v.number()).or_insert_with(|| (v.name().to_owned(), 0)).1 += 1;
    }
    first.into_iter().filter(|(_, (_, count))| *count > 1).map(|(n, (name, _))| (n, name)).collect()
}

/// Quotes bytes so the form stays pure ASCII and unambiguous whatever a
/// json_name or default contains; byte-wise (not char-wise) so every runtime
/// gets the same result from the UTF-8 encoding.
fn quote(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len() + 2);
    out.push('"');
    for &b in bytes {
        match b {
            b'"' => out.push_str("\\\""),
            b'\\' => out.push_str("\\\\"),
            0x20..=0x7e => out.push(char::from(b)),
            _ => {
                let _ = write!(out, "\\x{b:02x}");
            }
        }
    }
    out.push('"');
    out
}
