//! Payloads that exercise edge values, built from a message descriptor:
//! negative and extreme integers, large 64-bit values, invalid UTF-8 and
//! message-shaped bytes, unknown numbers of open enums, nested messages,
//! empty, one- and three-element lists, lists with a duplicated element
//! (which a map collapses), each member of every oneof, and the empty
//! message (every default). Required fields are always set, so every
//! payload is valid for the schema that writes it.

use prost_reflect::bytes::Bytes;
use prost_reflect::{DynamicMessage, FieldDescriptor, Kind, MapKey, MessageDescriptor, Syntax, Value};

/// Payloads per schema: the empty message plus one per value index.
pub const VARIANTS: usize = 9;
/// Nesting depth beyond which optional message fields stay unset (so
/// recursive messages terminate).
const MAX_DEPTH: usize = 3;

const I32: [i32; 8] = [0, 1, -1, i32::MIN, i32::MAX, 300, -300, 70_000];
const I64: [i64; 8] = [0, 1, -1, i64::MIN, i64::MAX, 1 << 40, -(1 << 40), 300];
const U32: [u32; 8] = [0, 1, u32::MAX, 1 << 31, 300, 70_000, 7, 2];
const U64: [u64; 8] = [0, 1, u64::MAX, 1 << 63, 1 << 40, 300, 7, 2];
const F32: [f32; 8] = [0.0, 1.5, -2.25, f32::MAX, 3.0e-5, 1.0e10, -1.0, 0.5];
const F64: [f64; 8] = [0.0, 1.5, -2.5, 1.0e300, -1.0e-300, 123_456.789, 9_007_199_254_740_993.0, 0.1];
const STRINGS: [&str; 8] = ["", "abc", "é€𝄞", "a\"b\\c\n", "0", "AAPL", "x y", "long long long long long long text"];
const BYTES: [&[u8]; 8] = [b"", b"\xff\xfe", b"abc", b"\xc3\xa9", b"\x08\x96\x01", b"\x0a\x03abc", b"\x00", b"\x80"];

/// Every payload of `desc`.
pub fn payloads(desc: &MessageDescriptor) -> Vec<DynamicMessage> {
    let mut out = vec![required_only(desc)];
    out.extend((1..VARIANTS).map(|v| build(desc, v - 1, 0)));
    out
}

/// The empty message, plus what its required fields need.
fn required_only(desc: &MessageDescriptor) -> DynamicMessage {
    let mut m = DynamicMessage::new(desc.clone());
    for f in desc.fields().filter(FieldDescriptor::is_required) {
        let value = match f.kind() {
            Kind::Message(inner) => Value::Message(required_only(&inner)),
            kind => scalar(&kind, 0),
        };
        m.set_field(&f, value);
    }
    m
}

fn build(desc: &MessageDescriptor, v: usize, depth: usize) -> DynamicMessage {
    let mut m = DynamicMessage::new(desc.clone());
    for f in desc.fields() {
        if let Some(o) = f.containing_oneof().filter(|o| !o.is_synthetic()) {
            let members: Vec<FieldDescriptor> = o.fields().collect();
            if members[(v + depth) % members.len()].number() != f.number() {
                continue;
            }
        }
        if let Some(value) = field_value(&f, v + depth, depth) {
            m.set_field(&f, value);
        }
    }
    m
}

fn field_value(f: &FieldDescriptor, i: usize, depth: usize) -> Option<Value> {
    if f.is_map() {
        let Kind::Message(entry) = f.kind() else { return None };
        let (k, val) = (entry.map_entry_key_field(), entry.map_entry_value_field());
        let mut map = std::collections::HashMap::new();
        for j in 0..i % 3 {
            let key = map_key(scalar(&k.kind(), i + j))?;
            let value = single(&val.kind(), i + j, depth, val.is_required())?;
            map.insert(key, value);
        }
        return Some(Value::Map(map));
    }
    if f.is_list() {
        let kind = f.kind();
        let items: Vec<Value> = match i % 4 {
            0 => Vec::new(),
            1 => vec![single(&kind, i, depth, true)?],
            2 => (0..3).map(|j| single(&kind, i + j, depth, true)).collect::<Option<_>>()?,
            // The same element twice: a map keeps one of them.
            _ => {
                let x = single(&kind, i, depth, true)?;
                vec![x.clone(), x]
            }
        };
        return Some(Value::List(items));
    }
    single(&f.kind(), i, depth, f.is_required())
}

fn single(kind: &Kind, i: usize, depth: usize, needed: bool) -> Option<Value> {
    match kind {
        Kind::Message(m) if depth + 1 >= MAX_DEPTH => needed.then(|| Value::Message(required_only(m))),
        Kind::Message(m) => Some(Value::Message(build(m, i, depth + 1))),
        kind => Some(scalar(kind, i)),
    }
}

pub fn scalar(kind: &Kind, i: usize) -> Value {
    let i8 = i % 8;
    match kind {
        Kind::Int32 | Kind::Sint32 | Kind::Sfixed32 => Value::I32(I32[i8]),
        Kind::Int64 | Kind::Sint64 | Kind::Sfixed64 => Value::I64(I64[i8]),
        Kind::Uint32 | Kind::Fixed32 => Value::U32(U32[i8]),
        Kind::Uint64 | Kind::Fixed64 => Value::U64(U64[i8]),
        Kind::Bool => Value::Bool(i % 2 == 1),
        Kind::Float => Value::F32(F32[i8]),
        Kind::Double => Value::F64(F64[i8]),
        Kind::String => Value::String(STRINGS[i8].to_owned()),
        Kind::Bytes => Value::Bytes(Bytes::from_static(BYTES[i8])),
        Kind::Enum(e) => {
            let mut numbers: Vec<i32> = e.values().map(|v| v.number()).collect();
            numbers.sort_unstable();
            numbers.dedup();
            // Open enums carry numbers they do not declare.
            if e.parent_file().syntax() == Syntax::Proto3 && !numbers.contains(&99) {
                numbers.push(99);
            }
            Value::EnumNumber(numbers[i % numbers.len()])
        }
        Kind::Message(m) => Value::Message(DynamicMessage::new(m.clone())),
    }
}

fn map_key(v: Value) -> Option<MapKey> {
    Some(match v {
        Value::Bool(b) => MapKey::Bool(b),
        Value::I32(x) => MapKey::I32(x),
        Value::I64(x) => MapKey::I64(x),
        Value::U32(x) => MapKey::U32(x),
        Value::U64(x) => MapKey::U64(x),
        Value::String(s) => MapKey::String(s),
        _ => return None,
    })
}
