//! Binding the registry to the compiled descriptors: payload names, package
//! versions and key paths. The result is the typed form every backend and
//! the reference evaluator (`route`) work from.

use std::collections::BTreeMap;
use std::ops::Range;
use std::sync::Arc;

use prost_reflect::{Cardinality, DescriptorPool, EnumDescriptor, FieldDescriptor, Kind, MessageDescriptor};

use super::{inner_span, DomainKind, Registry, Spanned, TopicRef};
use crate::diag::{suggest, Diagnostic, Diagnostics, Label, Source};
use crate::template::{Index, KeyPath};

pub const TIMESTAMP: &str = "google.protobuf.Timestamp";

/// The scalar a key path ends at, which decides how it is formatted.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Leaf {
    String,
    /// Signed integers (int32, sint32, sfixed32 and their 64-bit forms).
    Int,
    /// Unsigned integers (uint32, fixed32 and their 64-bit forms).
    Uint,
    Bool,
    Enum(EnumDescriptor),
    /// `google.protobuf.Timestamp`, written as RFC 3339 UTC.
    Timestamp,
}

impl Leaf {
    pub fn describe(&self) -> String {
        match self {
            Leaf::String => "string".into(),
            Leaf::Int => "signed integer".into(),
            Leaf::Uint => "unsigned integer".into(),
            Leaf::Bool => "bool".into(),
            Leaf::Enum(e) => format!("enum {}", e.full_name()),
            Leaf::Timestamp => TIMESTAMP.into(),
        }
    }
}

/// One step of a resolved path.
#[derive(Clone, Debug)]
pub struct Step {
    pub field: FieldDescriptor,
    pub index: Index,
}

#[derive(Clone, Debug)]
pub struct ResolvedPath {
    pub path: KeyPath,
    pub steps: Vec<Step>,
    pub leaf: Leaf,
}

impl ResolvedPath {
    /// Whether evaluating the path may visit several elements.
    pub fn fans_out(&self) -> bool {
        self.steps.iter().any(|s| s.index == Index::All)
    }
}

#[derive(Clone, Debug)]
pub struct ResolvedField {
    pub name: String,
    pub path: ResolvedPath,
}

/// A payload topic bound to its descriptor.
#[derive(Clone, Debug)]
pub struct ResolvedTopic {
    pub message: MessageDescriptor,
    pub fields: Vec<ResolvedField>,
    pub ordering: Option<ResolvedPath>,
    pub dedupe: Option<ResolvedPath>,
}

/// Resolved payload topics by topic id (`domain.version.topic`).
pub type Resolved = BTreeMap<String, ResolvedTopic>;

/// Checks every payload topic against the descriptors.
pub fn resolve(registry: &Registry, pool: &DescriptorPool) -> Result<Resolved, Diagnostics> {
    let mut diags = Diagnostics::new();
    let mut out = Resolved::new();
    let source = &registry.source;
    for t in registry.topics() {
        if t.domain.kind == DomainKind::Dlq {
            continue;
        }
        let (Some(payload), Some(key)) = (&t.topic.payload, &t.topic.key) else { continue };
        let Some(message) = pool.get_message_by_name(&payload.value) else {
            diags.push(unknown_payload(source, payload, pool));
            continue;
        };
        check_package_version(source, &t, payload, &message, &mut diags);
        let mut fields = Vec::new();
        for f in &key.fields {
            let Some(path) = resolve_path(source, &f.path, &message, Use::Key, &mut diags) else { continue };
            let in_subtopic = t.topic.subtopic.value.params().any(|(p, _)| p == f.name.value);
            if in_subtopic && path.leaf == Leaf::Timestamp {
                diags.push(
                    Diagnostic::error(
                        "registry::subtopic_field_type",
                        format!("key field `{}` is a Timestamp and cannot fill a subtopic token", f.name.value),
                    )
                    .at(source, f.path.span.clone())
                    .help("RFC 3339 times contain `.` in fractional seconds, which would split the subject; use it in `key.format` only"),
                );
            }
            fields.push(ResolvedField { name: f.name.value.clone(), path });
        }
        let ordering =
            t.topic.ordering.as_ref().and_then(|p| resolve_path(source, p, &message, Use::Ordering, &mut diags));
        let dedupe = t.topic.dedupe.as_ref().and_then(|p| resolve_path(source, p, &message, Use::Key, &mut diags));
        out.insert(t.id(), ResolvedTopic { message, fields, ordering, dedupe });
    }
    if diags.has_errors() {
        diags.sort();
        Err(diags)
    } else {
        Ok(out)
    }
}

fn unknown_payload(source: &Arc<Source>, payload: &Spanned<String>, pool: &DescriptorPool) -> Diagnostic {
    let help = match suggest_message(pool, &payload.value) {
        Some(g) => format!("did you mean `{g}`? payloads are fully qualified message names"),
        None => {
            "payloads are fully qualified message names (`package.Message`) from the files under `protos.files`".into()
        }
    };
    Diagnostic::error("registry::unknown_payload", format!("message `{}` is not in the compiled protos", payload.value))
        .at(source, payload.span.clone())
        .help(help)
}

/// The message a mistyped full name most likely meant: the closest full
/// name by edit distance, else one with the same short name (a wrong or
/// missing package).
pub fn suggest_message(pool: &DescriptorPool, name: &str) -> Option<String> {
    let names: Vec<String> = pool.all_messages().map(|m| m.full_name().to_owned()).collect();
    let simple = name.rsplit('.').next().unwrap_or_default();
    suggest(name, names.iter().map(String::as_str))
        .map(str::to_owned)
        .or_else(|| names.iter().find(|n| n.rsplit('.').next() == Some(simple)).cloned())
}

fn check_package_version(
    source: &Arc<Source>,
    t: &TopicRef<'_>,
    payload: &Spanned<String>,
    message: &MessageDescriptor,
    diags: &mut Diagnostics,
) {
    let package = message.package_name();
    let last = package.rsplit('.').next().unwrap_or_default();
    match super::decode::parse_major(last) {
        Some(major) if major == t.version.major => {}
        Some(major) => diags.push(
            Diagnostic::error(
                "registry::payload_version",
                format!("payload package `{package}` is major version {major} but the topic version is `{}`", t.version.name.value),
            )
            .at(source, payload.span.clone())
            .with_label(Label::new(source, t.version.name.span.clone()).with_message("topic version"))
            .help(format!("a `{last}` payload belongs on a `{last}` topic; breaking changes get a new package and topic version together")),
        ),
        None => diags.push(
            Diagnostic::error("registry::payload_version", format!("payload package `{package}` has no major version suffix"))
                .at(source, payload.span.clone())
                .help(format!("name the package `{package}.{}` so the topic version and schema version agree", t.version.name.value)),
        ),
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Use {
    Key,
    Ordering,
}

/// Walks a path through the message, reporting the first problem on it.
fn resolve_path(
    source: &Arc<Source>,
    path: &Spanned<KeyPath>,
    root: &MessageDescriptor,
    usage: Use,
    diags: &mut Diagnostics,
) -> Option<ResolvedPath> {
    let text = path.value.to_string();
    let seg_span = |r: Range<usize>| inner_span(source, &path.span, &text, r);
    let mut message = root.clone();
    let mut steps = Vec::new();
    let count = path.value.segments.len();
    for (i, seg) in path.value.segments.iter().enumerate() {
        let span = seg_span(seg.range.clone());
        let Some(field) = message.get_field_by_name(&seg.name) else {
            let names: Vec<String> = message.fields().map(|f| f.name().to_owned()).collect();
            let by_json = message.get_field_by_json_name(&seg.name).map(|f| f.name().to_owned());
            let help = match (by_json, suggest(&seg.name, names.iter().map(String::as_str))) {
                (Some(j), _) => format!("paths use proto field names, not JSON names: write `{j}`"),
                (None, Some(s)) => format!("did you mean `{s}`?"),
                (None, None) => format!("`{}` has: {}", message.full_name(), names.join(", ")),
            };
            diags.push(
                Diagnostic::error(
                    "registry::path_unresolved",
                    format!("no field `{}` in `{}`", seg.name, message.full_name()),
                )
                .at(source, span)
                .help(help),
            );
            return None;
        };
        if field.is_map() {
            diags.push(
                Diagnostic::error(
                    "registry::path_map",
                    format!("`{}` is a map; key paths cannot go through maps", seg.name),
                )
                .at(source, span)
                .help("map iteration order differs between languages; key on a singular or repeated field instead"),
            );
            return None;
        }
        let repeated = field.cardinality() == Cardinality::Repeated;
        match (repeated, seg.index) {
            (true, Index::None) => {
                diags.push(
                    Diagnostic::error(
                        "registry::path_repeated",
                        format!("`{}` is repeated but the path does not say which elements", seg.name),
                    )
                    .at(source, span)
                    .help(format!(
                        "write `{0}[*]` (every element must agree) or `{0}[0]` (the first element)",
                        seg.name
                    )),
                );
                return None;
            }
            (false, Index::All | Index::First) => {
                diags.push(
                    Diagnostic::error(
                        "registry::path_not_repeated",
                        format!("`{}` is not repeated; it cannot be indexed", seg.name),
                    )
                    .at(source, span)
                    .help(format!("write `{}` without the index", seg.name)),
                );
                return None;
            }
            _ => {}
        }
        steps.push(Step { field: field.clone(), index: seg.index });
        let last = i + 1 == count;
        match field.kind() {
            Kind::Message(m) if m.full_name() == TIMESTAMP && last => {
                return Some(ResolvedPath { path: path.value.clone(), steps, leaf: Leaf::Timestamp });
            }
            Kind::Message(m) if !last => message = m,
            Kind::Message(m) => {
                let first_scalar = m.fields().find(|f| matches!(f.kind(), Kind::String)).map(|f| f.name().to_owned());
                let help = match first_scalar {
                    Some(f) => format!("continue the path to a scalar field, e.g. `{text}.{f}`"),
                    None => "continue the path to a scalar field".to_owned(),
                };
                diags.push(
                    Diagnostic::error(
                        "registry::path_not_scalar",
                        format!("`{text}` ends at message `{}`, not a scalar", m.full_name()),
                    )
                    .at(source, span)
                    .help(help),
                );
                return None;
            }
            kind if !last => {
                diags.push(
                    Diagnostic::error(
                        "registry::path_unresolved",
                        format!("`{}` is a {} and has no fields", seg.name, kind_name(&kind)),
                    )
                    .at(source, seg_span(path.value.segments[i + 1].range.clone()))
                    .help(format!("end the path at `{}`", seg.name)),
                );
                return None;
            }
            kind => {
                let leaf = match (&kind, usage) {
                    (Kind::String, Use::Key) => Leaf::String,
                    (Kind::Bool, Use::Key) => Leaf::Bool,
                    (Kind::Enum(e), Use::Key) => Leaf::Enum(e.clone()),
                    (Kind::Int32 | Kind::Int64 | Kind::Sint32 | Kind::Sint64 | Kind::Sfixed32 | Kind::Sfixed64, _) => {
                        Leaf::Int
                    }
                    (Kind::Uint32 | Kind::Uint64 | Kind::Fixed32 | Kind::Fixed64, _) => Leaf::Uint,
                    (_, Use::Key) => {
                        diags.push(
                            Diagnostic::error("registry::key_field_type", format!("`{text}` is a {}, which cannot be a key field", kind_name(&kind)))
                                .at(source, span)
                                .help("keys must format identically in every language: use a string, integer, bool, enum or Timestamp field"),
                        );
                        return None;
                    }
                    (_, Use::Ordering) => {
                        diags.push(
                            Diagnostic::error(
                                "registry::ordering_type",
                                format!("`{text}` is a {}, which cannot order records", kind_name(&kind)),
                            )
                            .at(source, span)
                            .help("order by a google.protobuf.Timestamp or an integer sequence number"),
                        );
                        return None;
                    }
                };
                return Some(ResolvedPath { path: path.value.clone(), steps, leaf });
            }
        }
    }
    None
}

fn kind_name(kind: &Kind) -> String {
    match kind {
        Kind::Message(m) => format!("message {}", m.full_name()),
        Kind::Enum(e) => format!("enum {}", e.full_name()),
        scalar => crate::canonical::scalar_name(scalar).unwrap_or_default().to_owned(),
    }
}
