//! The reference evaluator of subjects and partition keys.
//!
//! Generated Rust, Go and Python must produce exactly what this module
//! produces, errors included; docs/registry.md ("Key values") is the
//! normative text and this is its executable form.

use std::fmt;

use prost_reflect::{DynamicMessage, ReflectMessage, Value};

use crate::registry::resolve::{Leaf, ResolvedPath, ResolvedTopic};
use crate::registry::{DomainKind, Registry, TopicRef};
use crate::template::{token_problem, Index, Part, Token};

/// Why a payload cannot be routed. `kind()` names are shared with the
/// other languages and the conformance vectors.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RouteError {
    /// A `[*]` or `[0]` step met an empty list.
    EmptyBatch { field: String, path: String },
    /// A key field is unset or an empty string (`index` is the element, in
    /// visiting order, when the path fans out).
    EmptyKeyField { field: String, path: String, index: Option<usize> },
    /// Elements of a `[*]` path disagree.
    MixedKeys { field: String, path: String, first: String, other: String, index: usize },
    /// A value would change the subject if used as a token.
    IllegalToken { field: String, value: String, problem: &'static str },
    /// A Timestamp outside 0001-01-01..=9999-12-31 or with bad nanos.
    InvalidTimestamp { field: String, path: String, seconds: i64, nanos: i32 },
    /// The env is not one of the registry's envs.
    UnknownEnv { env: String, known: Vec<String> },
    /// The payload's type is not the topic's payload type.
    WrongPayload { expected: String, got: String },
    /// The registry has no dlq domain to route a dead letter to.
    NoDlq,
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
            RouteError::WrongPayload { .. } => "wrong_payload",
            RouteError::NoDlq => "no_dlq",
        }
    }

    /// Errors about the caller's arguments rather than the payload.
    pub fn is_usage(&self) -> bool {
        matches!(self, RouteError::UnknownEnv { .. } | RouteError::WrongPayload { .. } | RouteError::NoDlq)
    }
}

impl fmt::Display for RouteError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RouteError::EmptyBatch { field, path } => write!(f, "key field `{field}` ({path}): the batch is empty"),
            RouteError::EmptyKeyField { field, path, index: None } => write!(f, "key field `{field}` ({path}) is empty or unset"),
            RouteError::EmptyKeyField { field, path, index: Some(i) } => {
                write!(f, "key field `{field}` ({path}) is empty or unset in element {i}")
            }
            RouteError::MixedKeys { field, path, first, other, index } => write!(
                f,
                "key field `{field}` ({path}) differs across the batch: element 0 has `{first}`, element {index} has `{other}`"
            ),
            RouteError::IllegalToken { field, value, problem } => {
                write!(f, "key field `{field}` value `{}` cannot be a subject token: it {problem}", value.escape_debug())
            }
            RouteError::InvalidTimestamp { field, path, seconds, nanos } => {
                write!(f, "key field `{field}` ({path}) is not a valid Timestamp (seconds={seconds}, nanos={nanos})")
            }
            RouteError::UnknownEnv { env, known } => write!(f, "unknown env `{env}`; the registry has: {}", known.join(", ")),
            RouteError::WrongPayload { expected, got } => write!(f, "expected a `{expected}` payload, got `{got}`"),
            RouteError::NoDlq => f.write_str("the registry has no domain with `kind: dlq`"),
        }
    }
}

impl std::error::Error for RouteError {}

/// Where a payload goes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Routed {
    /// NATS subject, `ns.env.domain.version.subtopic`.
    pub subject: String,
    /// The sharding and ordering key (`partition_key` header).
    pub partition_key: String,
    /// Kafka topic: the subject without its subtopic.
    pub kafka_topic: String,
}

pub use ampy_canonical::text::format_timestamp;

/// A visited element: its formatted value, or `None` when empty/unset.
type Visit = Result<Option<String>, RouteError>;

fn walk(field: &str, path: &ResolvedPath, step: usize, msg: &DynamicMessage, out: &mut Vec<Visit>) {
    let s = &path.steps[step];
    let last = step + 1 == path.steps.len();
    let empty_batch = || RouteError::EmptyBatch { field: field.to_owned(), path: path.path.to_string() };
    match s.index {
        Index::None => {
            // Unset explicit-presence fields (messages, proto3 `optional`,
            // oneof members) are empty; implicit scalars read as their value.
            if s.field.supports_presence() && !msg.has_field(&s.field) {
                out.push(Ok(None));
                return;
            }
            let value = msg.get_field(&s.field);
            visit(field, path, step, last, &value, out);
        }
        Index::All | Index::First => {
            let value = msg.get_field(&s.field);
            let items = value.as_list().unwrap_or_default();
            if items.is_empty() {
                out.push(Err(empty_batch()));
                return;
            }
            let take = if s.index == Index::First { 1 } else { items.len() };
            for item in &items[..take] {
                visit(field, path, step, last, item, out);
            }
        }
    }
}

fn visit(field: &str, path: &ResolvedPath, step: usize, last: bool, value: &Value, out: &mut Vec<Visit>) {
    if !last {
        if let Some(m) = value.as_message() {
            walk(field, path, step + 1, m, out);
        }
        return;
    }
    out.push(format_leaf(field, path, value));
}

fn format_leaf(field: &str, path: &ResolvedPath, value: &Value) -> Visit {
    Ok(Some(match (&path.leaf, value) {
        (Leaf::String, Value::String(s)) if s.is_empty() => return Ok(None),
        (Leaf::String, Value::String(s)) => s.clone(),
        (Leaf::Bool, Value::Bool(b)) => b.to_string(),
        (Leaf::Int | Leaf::Uint, Value::I32(n)) => n.to_string(),
        (Leaf::Int | Leaf::Uint, Value::I64(n)) => n.to_string(),
        (Leaf::Int | Leaf::Uint, Value::U32(n)) => n.to_string(),
        (Leaf::Int | Leaf::Uint, Value::U64(n)) => n.to_string(),
        (Leaf::Enum(e), Value::EnumNumber(n)) => e.get_value(*n).map_or_else(|| n.to_string(), |v| v.name().to_owned()),
        (Leaf::Timestamp, Value::Message(m)) => {
            let seconds = m.get_field_by_number(1).and_then(|v| v.as_i64()).unwrap_or(0);
            let nanos = m.get_field_by_number(2).and_then(|v| v.as_i32()).unwrap_or(0);
            match format_timestamp(seconds, nanos) {
                Some(s) => s,
                None => {
                    return Err(RouteError::InvalidTimestamp {
                        field: field.to_owned(),
                        path: path.path.to_string(),
                        seconds,
                        nanos,
                    })
                }
            }
        }
        // The descriptor decided the leaf, so the value always matches.
        _ => return Ok(None),
    }))
}

/// Evaluates one key field: every visited element must be present and,
/// for `[*]`, agree. The first failing element (in visiting order) decides
/// the error.
pub fn field_value(field: &str, path: &ResolvedPath, msg: &DynamicMessage) -> Result<String, RouteError> {
    let mut visits = Vec::new();
    walk(field, path, 0, msg, &mut visits);
    let fans_out = path.fans_out();
    let mut first: Option<String> = None;
    for (i, v) in visits.into_iter().enumerate() {
        let Some(v) = v? else {
            return Err(RouteError::EmptyKeyField {
                field: field.to_owned(),
                path: path.path.to_string(),
                index: fans_out.then_some(i),
            });
        };
        match &first {
            None => first = Some(v),
            Some(f) if *f != v => {
                return Err(RouteError::MixedKeys {
                    field: field.to_owned(),
                    path: path.path.to_string(),
                    first: f.clone(),
                    other: v,
                    index: i,
                })
            }
            Some(_) => {}
        }
    }
    first.ok_or_else(|| RouteError::EmptyKeyField { field: field.to_owned(), path: path.path.to_string(), index: None })
}

/// Routes a payload on a topic: key fields in declaration order, then the
/// subtopic tokens, then the key format.
pub fn route(
    registry: &Registry,
    topic: TopicRef<'_>,
    resolved: &ResolvedTopic,
    env: &str,
    msg: &DynamicMessage,
) -> Result<Routed, RouteError> {
    check_env(registry, env)?;
    let expected = resolved.message.full_name();
    let got = msg.descriptor();
    if got.full_name() != expected {
        return Err(RouteError::WrongPayload { expected: expected.to_owned(), got: got.full_name().to_owned() });
    }
    let mut values = Vec::with_capacity(resolved.fields.len());
    for f in &resolved.fields {
        values.push((f.name.as_str(), field_value(&f.name, &f.path, msg)?));
    }
    let lookup = |name: &str| values.iter().find(|(n, _)| *n == name).map(|(_, v)| v.as_str()).unwrap_or_default();
    let mut tokens = Vec::new();
    for t in &topic.topic.subtopic.value.tokens {
        match t {
            Token::Literal(l) => tokens.push(l.clone()),
            Token::Param(p) => {
                let value = lookup(p);
                if let Some(problem) = token_problem(value) {
                    return Err(RouteError::IllegalToken { field: p.clone(), value: value.to_owned(), problem });
                }
                tokens.push(value.to_owned());
            }
        }
    }
    let key = topic
        .topic
        .key
        .as_ref()
        .map(|k| {
            k.format
                .value
                .parts
                .iter()
                .map(|p| match p {
                    Part::Literal(l) => l.as_str(),
                    Part::Field(f) => lookup(f),
                })
                .collect::<String>()
        })
        .unwrap_or_default();
    let kafka_topic =
        format!("{}.{env}.{}.{}", registry.namespace.value, topic.domain.name.value, topic.version.name.value);
    Ok(Routed { subject: format!("{kafka_topic}.{}", tokens.join(".")), partition_key: key, kafka_topic })
}

fn check_env(registry: &Registry, env: &str) -> Result<(), RouteError> {
    if registry.envs.iter().any(|e| e.value == env) {
        Ok(())
    } else {
        Err(RouteError::UnknownEnv {
            env: env.to_owned(),
            known: registry.envs.iter().map(|e| e.value.clone()).collect(),
        })
    }
}

/// Where a record from `source_domain` goes when it is dead-lettered: the
/// registry's dlq domain (its newest version), keeping the partition key.
pub fn dlq_subject(registry: &Registry, env: &str, source_domain: &str) -> Result<String, RouteError> {
    check_env(registry, env)?;
    let dlq = registry.domains.iter().find(|d| d.kind == DomainKind::Dlq).ok_or(RouteError::NoDlq)?;
    let version = dlq.versions.iter().max_by_key(|v| v.major).ok_or(RouteError::NoDlq)?;
    let topic = version.topics.first().ok_or(RouteError::NoDlq)?;
    let tokens: Vec<&str> = topic
        .subtopic
        .value
        .tokens
        .iter()
        .map(|t| match t {
            Token::Literal(l) => l.as_str(),
            Token::Param(_) => source_domain,
        })
        .collect();
    Ok(format!("{}.{env}.{}.{}.{}", registry.namespace.value, dlq.name.value, version.name.value, tokens.join(".")))
}

/// A payload that is not valid proto3 JSON for its message type.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct JsonError {
    pub message: String,
    /// 1-based line and column of the problem in the JSON text.
    pub line: usize,
    pub column: usize,
}

/// Decodes proto3 JSON (unknown fields rejected) into a dynamic message.
pub fn decode_json(message: &prost_reflect::MessageDescriptor, text: &str) -> Result<DynamicMessage, JsonError> {
    let to_err = |e: serde_json::Error| JsonError { message: e.to_string(), line: e.line(), column: e.column() };
    let mut de = serde_json::Deserializer::from_str(text);
    let msg = DynamicMessage::deserialize(message.clone(), &mut de).map_err(to_err)?;
    de.end().map_err(to_err)?;
    Ok(msg)
}
