//! What the registry's descriptors say a field is, phrased the way a
//! user fixes it: the proto type, the `#[prost]` attribute and the Rust
//! type prost-build writes for it, and the digests `WireShape` compares.

use ampygen::canonical::{canonical_form, hash_canonical, schema_hash};
use ampygen::rust::names;
use prost_reflect::{Cardinality, EnumDescriptor, FieldDescriptor, Kind, MessageDescriptor, OneofDescriptor};

use crate::prost_attr::Scalar;

/// The package of the well-known types, which prost maps to its own
/// types (`prost_types::Timestamp`, `String` for `StringValue`, …).
const WKT_PACKAGE: &str = "google.protobuf.";

/// The Rust name prost-build gives a field (or a oneof), without `r#`.
pub fn rust_field_name(proto: &str) -> String {
    unraw(&names::snake(proto).to_string())
}

/// The Rust name prost-build gives a message or a oneof variant.
pub fn rust_type_name(proto: &str) -> String {
    unraw(&names::camel(proto).to_string())
}

pub fn unraw(s: &str) -> String {
    s.strip_prefix("r#").unwrap_or(s).to_owned()
}

/// The Rust variant prost-build writes for each number of an enum: the
/// first declared name of each number (aliases are skipped), in upper
/// camel case with the enum's name stripped from its front.
pub fn enum_variants(e: &EnumDescriptor) -> Vec<(i32, String)> {
    let prefix = rust_type_name(e.name());
    let mut seen = std::collections::BTreeSet::new();
    e.enum_descriptor_proto()
        .value
        .iter()
        .filter(|v| seen.insert(v.number()))
        .map(|v| (v.number(), strip_enum_prefix(&prefix, &rust_type_name(v.name()))))
        .collect()
}

/// prost-build's `strip_enum_prefix`.
fn strip_enum_prefix(prefix: &str, name: &str) -> String {
    let stripped = name.strip_prefix(prefix).unwrap_or(name);
    let stripped = if stripped.chars().next().is_some_and(char::is_uppercase) { stripped } else { name };
    unraw(&names::ident(stripped).to_string())
}

/// The scalar attribute word of a non-message field kind.
pub fn scalar_of(kind: &Kind) -> Option<&'static str> {
    Some(match kind {
        Kind::Double => "double",
        Kind::Float => "float",
        Kind::Int32 => "int32",
        Kind::Int64 => "int64",
        Kind::Uint32 => "uint32",
        Kind::Uint64 => "uint64",
        Kind::Sint32 => "sint32",
        Kind::Sint64 => "sint64",
        Kind::Fixed32 => "fixed32",
        Kind::Fixed64 => "fixed64",
        Kind::Sfixed32 => "sfixed32",
        Kind::Sfixed64 => "sfixed64",
        Kind::Bool => "bool",
        Kind::String => "string",
        Kind::Bytes => "bytes",
        Kind::Enum(_) => "enumeration",
        Kind::Message(_) => return None,
    })
}

/// Whether an attribute scalar is the descriptor's kind. Enums compare by
/// kind here; the enum itself is checked through `WireShape`.
pub fn scalar_matches(s: &Scalar, kind: &Kind) -> bool {
    scalar_of(kind) == Some(s.word())
}

/// The type as a `.proto` file spells it: `int64`, `ampy.common.v1.Decimal`,
/// `map<string, int64>`.
pub fn proto_type(field: &FieldDescriptor) -> String {
    if let Some((k, v)) = map_entry(field) {
        return format!("map<{}, {}>", proto_type(&k), proto_type(&v));
    }
    match field.kind() {
        Kind::Message(m) => m.full_name().to_owned(),
        Kind::Enum(e) => e.full_name().to_owned(),
        k => scalar_of(&k).unwrap_or("?").to_owned(),
    }
}

/// The key and value fields of a map field.
pub fn map_entry(field: &FieldDescriptor) -> Option<(FieldDescriptor, FieldDescriptor)> {
    if !field.is_map() {
        return None;
    }
    match field.kind() {
        Kind::Message(entry) => Some((entry.map_entry_key_field(), entry.map_entry_value_field())),
        _ => None,
    }
}

/// The label prost expects, by how the field is stored.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Storage {
    /// Implicit presence: no label, the bare type.
    Plain,
    /// `optional`: `Option<T>` (messages may omit the word).
    Optional,
    /// `required` (proto2): the bare type.
    Required,
    /// `repeated`: `Vec<T>`.
    Repeated,
    /// `map = "k, v"`: no label.
    Map,
}

impl Storage {
    pub fn of(field: &FieldDescriptor) -> Storage {
        if field.is_map() {
            Storage::Map
        } else if field.is_list() {
            Storage::Repeated
        } else if field.cardinality() == Cardinality::Required {
            Storage::Required
        } else if matches!(field.kind(), Kind::Message(_)) || field.supports_presence() {
            Storage::Optional
        } else {
            Storage::Plain
        }
    }

    /// How a user reads it: "a repeated field", "a singular field".
    pub fn describe(self) -> &'static str {
        match self {
            Storage::Plain => "a singular field without presence (no label)",
            Storage::Optional => "an `optional` field (with presence)",
            Storage::Required => "a proto2 `required` field",
            Storage::Repeated => "a `repeated` field",
            Storage::Map => "a map field",
        }
    }
}

/// The Rust type prost-build writes for one value of a non-map field:
/// messages by their short name (the user's type of that name), the
/// well-known types as prost maps them.
pub fn element_type(field: &FieldDescriptor) -> String {
    match field.kind() {
        Kind::Message(m) => message_type(&m),
        Kind::Enum(_) | Kind::Int32 | Kind::Sint32 | Kind::Sfixed32 => "i32".to_owned(),
        Kind::Int64 | Kind::Sint64 | Kind::Sfixed64 => "i64".to_owned(),
        Kind::Uint32 | Kind::Fixed32 => "u32".to_owned(),
        Kind::Uint64 | Kind::Fixed64 => "u64".to_owned(),
        Kind::Bool => "bool".to_owned(),
        Kind::Float => "f32".to_owned(),
        Kind::Double => "f64".to_owned(),
        Kind::String => "String".to_owned(),
        Kind::Bytes => "Vec<u8>".to_owned(),
    }
}

fn message_type(m: &MessageDescriptor) -> String {
    match wkt_rust(m) {
        Some(t) => t.to_owned(),
        None => rust_type_name(m.name()),
    }
}

/// The Rust type prost maps a well-known message to, or `None` for a
/// message of the registry's own protos.
pub fn wkt_rust(m: &MessageDescriptor) -> Option<&'static str> {
    let name = m.full_name().strip_prefix(WKT_PACKAGE)?;
    Some(match name {
        "Empty" => "()",
        "BoolValue" => "bool",
        "BytesValue" => "Vec<u8>",
        "DoubleValue" => "f64",
        "FloatValue" => "f32",
        "Int32Value" => "i32",
        "Int64Value" => "i64",
        "UInt32Value" => "u32",
        "UInt64Value" => "u64",
        "StringValue" => "String",
        "Timestamp" => "::ampy_bus::prost_types::Timestamp",
        "Duration" => "::ampy_bus::prost_types::Duration",
        "Any" => "::ampy_bus::prost_types::Any",
        "Struct" => "::ampy_bus::prost_types::Struct",
        "Value" => "::ampy_bus::prost_types::Value",
        "ListValue" => "::ampy_bus::prost_types::ListValue",
        "FieldMask" => "::ampy_bus::prost_types::FieldMask",
        _ => return None,
    })
}

/// The full Rust type of the field as prost-build writes it.
pub fn rust_type(field: &FieldDescriptor) -> String {
    if let Some((k, v)) = map_entry(field) {
        return format!("::std::collections::HashMap<{}, {}>", element_type(&k), element_type(&v));
    }
    let elem = element_type(field);
    match Storage::of(field) {
        Storage::Repeated => format!("Vec<{elem}>"),
        Storage::Optional => format!("Option<{elem}>"),
        _ => elem,
    }
}

/// The attribute's type part for one value: `int64`, `message`,
/// `enumeration = "Side"`.
fn kind_attr(field: &FieldDescriptor) -> String {
    match field.kind() {
        Kind::Message(_) if field.is_group() => "group".to_owned(),
        Kind::Message(_) => "message".to_owned(),
        Kind::Enum(e) => format!("enumeration = \"{}\"", rust_type_name(e.name())),
        Kind::Bytes => "bytes = \"vec\"".to_owned(),
        k => scalar_of(&k).unwrap_or("?").to_owned(),
    }
}

/// A map part as in `map = "string, enumeration(Side)"`.
fn map_part(field: &FieldDescriptor) -> String {
    match field.kind() {
        Kind::Message(_) => "message".to_owned(),
        Kind::Enum(e) => format!("enumeration({})", rust_type_name(e.name())),
        k => scalar_of(&k).unwrap_or("?").to_owned(),
    }
}

/// The `#[prost(...)]` attribute prost-build writes for the field.
pub fn prost_attr(field: &FieldDescriptor) -> String {
    let tag = format!("tag = \"{}\"", field.number());
    if let Some((k, v)) = map_entry(field) {
        return format!("#[prost(map = \"{}, {}\", {tag})]", map_part(&k), map_part(&v));
    }
    let label = match Storage::of(field) {
        Storage::Repeated if scalar_of(&field.kind()).is_some_and(|w| w != "string" && w != "bytes") => {
            if field.is_packed() {
                ", repeated"
            } else {
                ", repeated, packed = \"false\""
            }
        }
        Storage::Repeated => ", repeated",
        Storage::Optional => ", optional",
        Storage::Required => ", required",
        Storage::Plain | Storage::Map => "",
    };
    format!("#[prost({}{label}, {tag})]", kind_attr(field))
}

/// The whole declaration to write: attribute, name and type.
pub fn declaration(field: &FieldDescriptor) -> String {
    format!("{} pub {}: {}", prost_attr(field), rust_field_name(field.name()), rust_type(field))
}

/// The declaration of a oneof field.
pub fn oneof_declaration(oneof: &OneofDescriptor) -> String {
    let tags: Vec<String> = oneof.fields().map(|f| f.number().to_string()).collect();
    let module = rust_field_name(oneof.parent_message().name());
    let ty = rust_type_name(oneof.name());
    format!(
        "#[prost(oneof = \"{module}::{ty}\", tags = \"{}\")] pub {}: Option<{module}::{ty}>",
        tags.join(", "),
        rust_field_name(oneof.name())
    )
}

/// The `WireShape::SHAPE` of a message: its canonical schema hash, which
/// covers every message and enum it reaches.
pub fn message_shape(m: &MessageDescriptor) -> String {
    schema_hash(m)
}

/// The `WireShape::SHAPE` of a oneof: its message's form and its name.
pub fn oneof_shape(o: &OneofDescriptor) -> String {
    hash_canonical(&format!("{}oneof {}\n", canonical_form(o.parent_message()), o.name()))
}

/// The `WireShape::SHAPE` of an enum: its values in declaration order.
pub fn enum_shape(e: &EnumDescriptor) -> String {
    let mut text = format!("ampy-wire-shape enum {}\n", e.full_name());
    for v in &e.enum_descriptor_proto().value {
        text.push_str(&format!("{} {}\n", v.number(), v.name()));
    }
    hash_canonical(&text)
}
