//! Partition keys: the evaluation rules of docs/registry.md ("Key values"),
//! as small building blocks that generated code and derives call.
//!
//! The rules are the same in every language and in `ampygen route`, the
//! reference evaluator: key fields in declaration order, elements of a
//! path in visiting order, and the first empty, invalid or disagreeing
//! element decides the error. Values are compared raw (no formatting) and
//! written once into the output, so a key costs one allocation.

use std::fmt;
use std::fmt::Write as _;

/// A payload whose partition key can be derived from its fields.
pub trait PartitionKey {
    /// The `partition_key` header: the registry's `key.format` with each
    /// field's value, per the key rules.
    fn partition_key(&self) -> Result<String, RouteError>;

    /// The `dedupe_key` header, from the registry's `dedupe` path when the
    /// topic has one. Unset or empty values give `None`.
    fn dedupe_key(&self) -> Option<String> {
        None
    }
}

/// Why a payload cannot be routed. [`RouteError::kind`] names are shared
/// with `ampygen route`, the Go and Python runtimes and the vectors.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RouteError {
    /// A `[*]` or `[0]` step met an empty list.
    EmptyBatch { field: &'static str, path: &'static str },
    /// A key field is unset or an empty string; `index` is the element in
    /// visiting order when the path fans out with `[*]`.
    EmptyKeyField { field: &'static str, path: &'static str, index: Option<usize> },
    /// Elements of a `[*]` path disagree.
    MixedKeys { field: &'static str, path: &'static str, first: String, other: String, index: usize },
    /// A value would change the subject if used as a token.
    IllegalToken { field: &'static str, value: String, problem: &'static str },
    /// A Timestamp outside 0001-01-01..=9999-12-31 or with bad nanos.
    InvalidTimestamp { field: &'static str, path: &'static str, seconds: i64, nanos: i32 },
    /// An env outside the registry's `envs` (case-sensitive): parsing text
    /// into an `Env`, or a hand-written [`crate::EnvName`] that strays
    /// outside its own set. `known` is the set, in registry order.
    UnknownEnv { env: String, known: &'static [&'static str] },
}

impl RouteError {
    pub fn kind(&self) -> &'static str {
        match self {
            RouteError::EmptyBatch { .. } => "empty_batch",
            RouteError::EmptyKeyField { .. } => "empty_key_field",
            RouteError::MixedKeys { .. } => "mixed_keys",
            RouteError::IllegalToken { .. } => "illegal_token",
            RouteError::InvalidTimestamp { .. } => "invalid_timestamp",
            RouteError::UnknownEnv { .. } => "unknown_env",
        }
    }
}

impl fmt::Display for RouteError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RouteError::EmptyBatch { field, path } => write!(f, "key field `{field}` ({path}): the batch is empty"),
            RouteError::EmptyKeyField { field, path, index: None } => {
                write!(f, "key field `{field}` ({path}) is empty or unset")
            }
            RouteError::EmptyKeyField { field, path, index: Some(i) } => {
                write!(f, "key field `{field}` ({path}) is empty or unset in element {i}")
            }
            RouteError::MixedKeys { field, path, first, other, index } => write!(
                f,
                "key field `{field}` ({path}) differs across the batch: element 0 has `{first}`, element {index} has `{other}`"
            ),
            RouteError::IllegalToken { field: "env", value, problem } => {
                write!(f, "env `{}` cannot be a subject token: it {problem}", value.escape_debug())
            }
            RouteError::IllegalToken { field, value, problem } => {
                write!(f, "key field `{field}` value `{}` cannot be a subject token: it {problem}", value.escape_debug())
            }
            RouteError::InvalidTimestamp { field, path, seconds, nanos } => {
                write!(f, "key field `{field}` ({path}) is not a valid Timestamp (seconds={seconds}, nanos={nanos})")
            }
            RouteError::UnknownEnv { env, known } => {
                write!(f, "unknown env `{}`; the registry has: {}", env.escape_debug(), known.join(", "))
            }
        }
    }
}

impl std::error::Error for RouteError {}

/// A value a key path can end at.
///
/// Equality of raw values is equality of their written form (integers,
/// bools, enum numbers and valid timestamps each have one spelling), which
/// is what lets [`Agree`] compare without formatting.
pub trait KeyValue: PartialEq {
    /// An empty string is an empty key field; other kinds are never empty.
    fn is_empty_value(&self) -> bool {
        false
    }
    /// `Some((seconds, nanos))` when this is a Timestamp out of range.
    fn invalid_timestamp(&self) -> Option<(i64, i32)> {
        None
    }
    /// Appends the value as docs/registry.md writes it.
    fn write_to(&self, out: &mut String);
    /// Upper bound hint of the written length, to size the key once.
    fn len_hint(&self) -> usize;
}

impl KeyValue for &str {
    fn is_empty_value(&self) -> bool {
        self.is_empty()
    }
    fn write_to(&self, out: &mut String) {
        out.push_str(self);
    }
    fn len_hint(&self) -> usize {
        self.len()
    }
}

macro_rules! int_key_value {
    ($($t:ty),*) => {$(
        impl KeyValue for $t {
            fn write_to(&self, out: &mut String) {
                let _ = write!(out, "{self}");
            }
            fn len_hint(&self) -> usize {
                20
            }
        }
    )*};
}
int_key_value!(i32, i64, u32, u64, bool);

/// An enum field: its number plus the generated lookup of its name, which
/// runs only when the key is written (unknown numbers are written in
/// base 10).
#[derive(Clone, Copy, Debug)]
pub struct EnumValue {
    pub number: i32,
    pub name: fn(i32) -> Option<&'static str>,
}

impl PartialEq for EnumValue {
    fn eq(&self, other: &Self) -> bool {
        self.number == other.number
    }
}

impl KeyValue for EnumValue {
    fn write_to(&self, out: &mut String) {
        match (self.name)(self.number) {
            Some(name) => out.push_str(name),
            None => {
                let _ = write!(out, "{}", self.number);
            }
        }
    }
    fn len_hint(&self) -> usize {
        32
    }
}

/// A `google.protobuf.Timestamp` key value.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TimestampValue {
    pub seconds: i64,
    pub nanos: i32,
}

impl From<&prost_types::Timestamp> for TimestampValue {
    fn from(t: &prost_types::Timestamp) -> Self {
        TimestampValue { seconds: t.seconds, nanos: t.nanos }
    }
}

impl KeyValue for TimestampValue {
    fn invalid_timestamp(&self) -> Option<(i64, i32)> {
        (!timestamp_in_range(self.seconds, self.nanos)).then_some((self.seconds, self.nanos))
    }
    fn write_to(&self, out: &mut String) {
        write_timestamp(out, self.seconds, self.nanos);
    }
    fn len_hint(&self) -> usize {
        30
    }
}

pub use ampy_canonical::text::{format_timestamp, timestamp_in_range, write_timestamp};

/// Collects the elements one key field's path visits and enforces the key
/// rules in visiting order. Generated code walks the path with plain loops
/// and feeds every leaf (or `None` for an unset explicit-presence field)
/// into [`Agree::visit`].
pub struct Agree<V> {
    field: &'static str,
    path: &'static str,
    fans_out: bool,
    seen: usize,
    first: Option<V>,
}

impl<V: KeyValue> Agree<V> {
    /// `fans_out` is whether the path has a `[*]` step, which decides
    /// whether errors carry an element index.
    #[inline]
    pub fn new(field: &'static str, path: &'static str, fans_out: bool) -> Self {
        Agree { field, path, fans_out, seen: 0, first: None }
    }

    /// The error for a `[*]` or `[0]` step over an empty list.
    #[cold]
    pub fn empty_batch(&self) -> RouteError {
        RouteError::EmptyBatch { field: self.field, path: self.path }
    }

    /// Takes the next visited element.
    #[inline]
    pub fn visit(&mut self, value: Option<V>) -> Result<(), RouteError> {
        let index = self.seen;
        self.seen += 1;
        let value = match value {
            Some(v) if !v.is_empty_value() => v,
            _ => {
                return Err(RouteError::EmptyKeyField {
                    field: self.field,
                    path: self.path,
                    index: self.fans_out.then_some(index),
                })
            }
        };
        if let Some((seconds, nanos)) = value.invalid_timestamp() {
            return Err(RouteError::InvalidTimestamp { field: self.field, path: self.path, seconds, nanos });
        }
        match &self.first {
            None => self.first = Some(value),
            Some(first) if *first != value => {
                return Err(RouteError::MixedKeys {
                    field: self.field,
                    path: self.path,
                    first: written(first),
                    other: written(&value),
                    index,
                })
            }
            Some(_) => {}
        }
        Ok(())
    }

    /// The agreed value.
    #[inline]
    pub fn finish(self) -> Result<V, RouteError> {
        let (field, path) = (self.field, self.path);
        self.first.ok_or(RouteError::EmptyKeyField { field, path, index: None })
    }
}

fn written<V: KeyValue>(v: &V) -> String {
    let mut s = String::new();
    v.write_to(&mut s);
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn agree_reports_the_first_problem_in_visiting_order() {
        let mut a = Agree::<&str>::new("mic", "bars[*].security.mic", true);
        a.visit(Some("XNAS")).unwrap();
        a.visit(Some("XNAS")).unwrap();
        let err = a.visit(Some("ARCX")).unwrap_err();
        assert_eq!(err.kind(), "mixed_keys");
        assert!(err.to_string().contains("element 2 has `ARCX`"), "{err}");

        let mut a = Agree::<&str>::new("id", "id", false);
        assert_eq!(a.visit(Some("")), Err(RouteError::EmptyKeyField { field: "id", path: "id", index: None }));

        let mut a = Agree::<TimestampValue>::new("t", "t", false);
        let bad = TimestampValue { seconds: 0, nanos: 1_000_000_000 };
        assert_eq!(a.visit(Some(bad)).unwrap_err().kind(), "invalid_timestamp");
        assert_eq!(Agree::<&str>::new("x", "x", false).finish().unwrap_err().kind(), "empty_key_field");
    }
}
