//! `ampygen lock`: write the computed schema hashes into the registry in
//! place, and record in the lock file next to it everything a later
//! `check` needs to classify a change without git history: each locked
//! schema's canonical form plus its reserved numbers and names; each
//! topic's routing (subtopic, key paths, key format, key field types),
//! schema version and deprecation; what its consumers rely on beyond
//! routing (ordering and dedupe paths, the QoS tier and every one of its
//! settings, the domain's `compat.json`); and the namespace and envs, which
//! every subject starts with.
//!
//! The registry rewrite touches only the bytes of `schema_hash` values
//! (or inserts a missing `schema_hash:` line); comments, order and quoting
//! elsewhere stay exactly as they were.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;


use crate::canonical;
use crate::diag::{Diagnostic, Diagnostics, Source};
use crate::output::FileWrite;
use crate::project::Project;
use crate::registry::DomainKind;

mod codec;

/// Lock-file format this build writes. Format 2 added `reserved` and
/// `topics`; format 3 added `namespace`, `envs` and each topic's delivery
/// settings (`ordering`, `dedupe`, `qos`, `qos_settings`, `json_breaking`);
/// format 4 stored each message's and enum's canonical block once, under
/// `blocks`, and each schema as its head lines and the blocks it reaches;
/// format 5 leaves out what can be derived (each schema's head and block
/// list, default JSON names, indentation, each QoS tier's settings per
/// topic), see [`codec`]. The canonical forms, hence the hashes, are
/// unchanged. Formats 1 to 4 are still read, and what they did not record
/// is not compared, so upgrading ampygen reports the lock as out of date
/// (one `ampygen lock` migrates it) instead of failing or inventing changes.
pub const LOCK_FORMAT: u64 = 5;

/// One locked payload schema.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LockedSchema {
    pub hash: String,
    pub canonical: String,
    /// Reserved numbers and names of every message and enum the schema
    /// reaches, one sorted line each (see `compat::model::reserved_lines`).
    /// The canonical form leaves them out because they do not change the
    /// wire format, but they decide whether a removal is safe.
    pub reserved: Vec<String>,
}

/// One topic's routing as locked: what existing subscriptions and per-key
/// ordering depend on.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct LockedTopic {
    /// Payload full name; `None` for dlq topics.
    pub payload: Option<String>,
    pub schema_version: Option<String>,
    /// The subtopic template as written.
    pub subtopic: String,
    /// The key format as written; `None` for dlq topics.
    pub key_format: Option<String>,
    /// `name=path`, in declaration order (the order keys are evaluated in).
    pub key_fields: Vec<String>,
    /// `name=type`: how each key value is formatted (docs/registry.md).
    pub key_types: Vec<String>,
    /// `since: reason`, when the topic or its version is deprecated.
    pub deprecated: Option<String>,
    /// What consumers rely on beyond routing; `None` in a lock written
    /// before format 3.
    pub delivery: Option<LockedDelivery>,
}

/// The registry settings that change what a topic's consumers do.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct LockedDelivery {
    /// The `ordering` path.
    pub ordering: Option<String>,
    /// The `dedupe` path (the `dedupe_key` header).
    pub dedupe: Option<String>,
    /// The domain's QoS tier.
    pub qos: String,
    /// Every setting of that tier but its `description`, as sorted
    /// `key=value` lines read from the registry text, so settings that later
    /// ampygen versions add are recorded (and compared) without code here.
    pub qos_settings: Vec<String>,
    /// The domain's `compat.json`: whether JSON-level changes break.
    pub json_breaking: bool,
    /// Every other setting of the topic, its version, its domain and the
    /// registry that the gate does not classify elsewhere
    /// (`topic.KEY=VALUE`, `version.…`, `domain.…`, `registry.…`), read
    /// from the registry text: keys the registry format gains later are
    /// locked and compared (as delivery changes) from the day they exist.
    pub settings: Vec<String>,
}

/// The lock file's content: schemas by payload full name, topics by id.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Lockfile {
    /// The format the file was read in (or [`LOCK_FORMAT`] when computed).
    pub format: u64,
    /// The subject namespace; `None` before format 3.
    pub namespace: Option<String>,
    /// The envs, in registry order; `None` before format 3.
    pub envs: Option<Vec<String>>,
    pub schemas: BTreeMap<String, LockedSchema>,
    pub topics: BTreeMap<String, LockedTopic>,
}

/// `registry/ampy.yaml` → `registry/ampy.lock.json`.
pub fn lock_path(registry_path: &Path) -> PathBuf {
    let stem = registry_path.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_else(|| "registry".into());
    registry_path.with_file_name(format!("{stem}.lock.json"))
}

impl Lockfile {
    /// The lock that the current protos produce.
    pub fn compute(project: &Project) -> Lockfile {
        // Read from the registry's YAML when it was parsed (not again here).
        let tiers = &project.registry.raw_settings.tiers;
        let extra = &project.registry.raw_settings.extra;
        let mut schemas = BTreeMap::new();
        let mut blocks = canonical::Blocks::default();
        for resolved in project.resolved.values() {
            // Topics sharing a payload share its schema: render it once.
            if schemas.contains_key(resolved.message.full_name()) {
                continue;
            }
            let canonical = canonical::canonical_form_with(&resolved.message, &mut blocks);
            let hash = canonical::hash_canonical(&canonical);
            let reserved = crate::compat::model::reserved_lines(&resolved.message, &canonical);
            schemas.insert(resolved.message.full_name().to_owned(), LockedSchema { hash, canonical, reserved });
        }
        let mut topics = BTreeMap::new();
        for t in project.registry.topics() {
            let resolved = project.resolved.get(&t.id());
            let key = t.topic.key.as_ref();
            let topic = LockedTopic {
                payload: resolved.map(|r| r.message.full_name().to_owned()),
                schema_version: t.topic.schema_version.as_ref().map(|v| v.value.to_string()),
                subtopic: t.topic.subtopic.value.to_template(),
                key_format: key.map(|k| k.format.value.to_template()),
                key_fields: key
                    .map(|k| k.fields.iter().map(|f| format!("{}={}", f.name.value, f.path.value)).collect())
                    .unwrap_or_default(),
                key_types: resolved
                    .map(|r| r.fields.iter().map(|f| format!("{}={}", f.name, f.path.leaf.describe())).collect())
                    .unwrap_or_default(),
                deprecated: t.deprecation().map(|d| format!("{}: {}", d.since.value, d.reason.value)),
                delivery: Some(LockedDelivery {
                    ordering: t.topic.ordering.as_ref().map(|p| p.value.to_string()),
                    dedupe: t.topic.dedupe.as_ref().map(|p| p.value.to_string()),
                    qos: t.domain.qos.value.clone(),
                    qos_settings: tiers.get(&t.domain.qos.value).cloned().unwrap_or_default(),
                    json_breaking: t.domain.json_breaking(),
                    settings: extra.get(&t.id()).cloned().unwrap_or_default(),
                }),
            };
            topics.insert(t.id(), topic);
        }
        Lockfile {
            format: LOCK_FORMAT,
            namespace: Some(project.registry.namespace.value.clone()),
            envs: Some(project.registry.envs.iter().map(|e| e.value.clone()).collect()),
            schemas,
            topics,
        }
    }

    /// Equal as a contract: the same schemas, namespace, envs and topics,
    /// where a topic's templates are compared with each placeholder replaced
    /// by its key path. Renaming a key field everywhere changes no subject,
    /// key or schema, so a lock that differs only in those names is not out
    /// of date (`ampygen lock` still refreshes the names).
    pub fn same_contract(&self, other: &Lockfile) -> bool {
        self.differences(other).is_empty()
    }

    /// What differs between two locks as a contract, one line each, for
    /// people (see [`Lockfile::same_contract`]).
    pub fn differences(&self, other: &Lockfile) -> Vec<String> {
        let mut out = Vec::new();
        if self.format != other.format {
            // Every entry gained or lost fields: listing them says nothing.
            return vec![format!("lock format {} (this ampygen writes format {})", self.format, other.format)];
        }
        if self.namespace != other.namespace {
            out.push("the namespace".to_owned());
        }
        if self.envs != other.envs {
            out.push("the envs".to_owned());
        }
        let names: std::collections::BTreeSet<&String> = self.schemas.keys().chain(other.schemas.keys()).collect();
        for name in names {
            if self.schemas.get(name) != other.schemas.get(name) {
                out.push(format!("the schema of `{name}`"));
            }
        }
        let ids: std::collections::BTreeSet<&String> = self.topics.keys().chain(other.topics.keys()).collect();
        for id in ids {
            if self.topics.get(id).map(LockedTopic::contract) != other.topics.get(id).map(LockedTopic::contract) {
                out.push(format!("topic `{id}`"));
            }
        }
        out
    }

    /// Deterministic JSON in [`LOCK_FORMAT`]: sorted keys, one item per
    /// line, so review diffs show exactly what changed (see [`codec`]).
    pub fn render(&self) -> String {
        codec::render(self)
    }

    /// Reads a lock file; `Ok(None)` when there is none yet.
    pub fn read(path: &Path) -> Result<Option<Lockfile>, Diagnostic> {
        Ok(Self::read_with_source(path)?.map(|(lock, _)| lock))
    }

    /// [`Lockfile::read`], also returning the text it was parsed from, so
    /// that one run reads and parses the lock once (the gate points into
    /// the text at removed topics).
    pub fn read_with_source(path: &Path) -> Result<Option<(Lockfile, Arc<Source>)>, Diagnostic> {
        // Through a pending journal: see `crate::commit`.
        let bytes = match crate::commit::read(path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => {
                return Err(Diagnostic::error("lock::unreadable", format!("cannot read `{}`: {e}", path.display())))
            }
        };
        let source = crate::project::utf8_source(path.display().to_string(), bytes, "lock file")?;
        Ok(Some((Self::parse(&source)?, source)))
    }

    fn parse(source: &Arc<Source>) -> Result<Lockfile, Diagnostic> {
        codec::parse(source)
    }
}

/// Head lines, and each block's definition name and text.
type Split<'a> = (Vec<&'a str>, Vec<(&'a str, String)>);

/// A canonical form as its head (the lines before the first definition)
/// and its definition blocks (a line starting a `message` or `enum`, then
/// its indented lines), each block with its definition's name and text
/// (lines ending in a newline). Head and blocks joined give the form back.
fn split_blocks(canonical: &str) -> Split<'_> {
    let mut head = Vec::new();
    let mut blocks: Vec<(&str, String)> = Vec::new();
    for line in canonical.lines() {
        let starts =
            !line.starts_with(' ') && (!blocks.is_empty() || line.starts_with("message ") || line.starts_with("enum "));
        if starts {
            let name = line.split(' ').nth(1).unwrap_or(line);
            blocks.push((name, String::new()));
        }
        match blocks.last_mut() {
            Some((_, text)) => {
                text.push_str(line);
                text.push('\n');
            }
            None => head.push(line),
        }
    }
    (head, blocks)
}

impl LockedTopic {
    /// The topic with every placeholder replaced by its key path and the
    /// key field names dropped: what subjects and keys depend on.
    fn contract(&self) -> LockedTopic {
        let pairs: Vec<(&str, &str)> = self.key_fields.iter().filter_map(|l| l.split_once('=')).collect();
        let normalize = |template: &str| {
            let mut out = template.to_owned();
            for (name, path) in &pairs {
                out = out.replace(&format!("{{{name}}}"), &format!("{{{path}}}"));
            }
            out
        };
        let values = |lines: &[String]| {
            lines.iter().map(|l| l.split_once('=').map_or(l.as_str(), |(_, v)| v).to_owned()).collect()
        };
        LockedTopic {
            subtopic: normalize(&self.subtopic),
            key_format: self.key_format.as_deref().map(normalize),
            key_fields: values(&self.key_fields),
            key_types: values(&self.key_types),
            ..self.clone()
        }
    }
}

/// What `lock` would change, computed in memory.
#[derive(Clone, Debug, Default)]
pub struct Plan {
    /// Files to write (only those whose content changes).
    pub writes: Vec<FileWrite>,
    /// `(topic id, old hash, new hash)` for every hash that changes.
    pub updated: Vec<(String, Option<String>, String)>,
}

/// Computes the new registry text and lock file.
pub fn plan(project: &Project) -> Result<Plan, Diagnostics> {
    let current = Lockfile::read(&lock_path(&project.registry_path)).ok().flatten();
    plan_with(project, &Lockfile::compute(project), current.as_ref())
}

/// [`plan`] from the lock the protos give (`lock`) and the lock file as
/// read (`current`), both computed once by the caller.
pub fn plan_with(project: &Project, lock: &Lockfile, current: Option<&Lockfile>) -> Result<Plan, Diagnostics> {
    let source = &project.registry.source;
    let text = source.text();
    let mut edits: Vec<(std::ops::Range<usize>, String)> = Vec::new();
    let mut updated = Vec::new();
    let mut diags = Diagnostics::new();
    for t in project.registry.topics() {
        if t.domain.kind == DomainKind::Dlq {
            continue;
        }
        let Some(resolved) = project.resolved.get(&t.id()) else { continue };
        let Some(hash) = lock.schemas.get(resolved.message.full_name()).map(|s| s.hash.clone()) else { continue };
        match &t.topic.schema_hash {
            Some(old) if old.value == hash => {}
            Some(old) => {
                let raw = &text[old.span.clone()];
                let replacement = match raw.chars().next() {
                    Some('"') => format!("\"{hash}\""),
                    Some('\'') => format!("'{hash}'"),
                    _ => hash.clone(),
                };
                edits.push((old.span.clone(), replacement));
                updated.push((t.id(), Some(old.value.clone()), hash));
            }
            None => match insertion(text, t.topic.schema_version.as_ref().map(|v| v.span.clone())) {
                Some((at, indent, eol)) => {
                    edits.push((at..at, format!("{indent}schema_hash: \"{hash}\"{eol}")));
                    updated.push((t.id(), None, hash));
                }
                None => diags.push(
                    Diagnostic::error("lock::cannot_insert", format!("cannot add `schema_hash` to topic `{}` automatically", t.id()))
                        .at(source, t.topic.span.clone())
                        .help("the topic is not a block mapping with `schema_version:` on its own line; add `schema_hash:` by hand, then rerun `ampygen lock`"),
                ),
            },
        }
    }
    if diags.has_errors() {
        return Err(diags);
    }
    edits.sort_by_key(|(r, _)| std::cmp::Reverse(r.start));
    let mut new_text = text.to_owned();
    for (range, replacement) in edits {
        new_text.replace_range(range, &replacement);
    }
    let lock_path = lock_path(&project.registry_path);
    let mut writes = Vec::new();
    if new_text != text {
        writes.push(FileWrite { path: project.registry_path.clone(), contents: new_text.into_bytes() });
    }
    // Rewrite the lock only when its schemas differ, so upgrading ampygen
    // alone does not churn the file.
    if current != Some(lock) {
        writes.push(FileWrite { path: lock_path, contents: lock.render().into_bytes() });
    }
    Ok(Plan { writes, updated })
}

/// Where to insert a `schema_hash:` line: the start of the line after
/// `schema_version:`, with the same indentation and line ending (CRLF
/// stays CRLF). `None` unless that line is a block-mapping entry.
fn insertion(text: &str, version_span: Option<std::ops::Range<usize>>) -> Option<(usize, String, &'static str)> {
    let span = version_span?;
    let line_start = text[..span.start].rfind('\n').map_or(0, |i| i + 1);
    let line = &text[line_start..];
    let indent: String = line.chars().take_while(|c| *c == ' ').collect();
    if !line[indent.len()..].starts_with("schema_version:") {
        return None;
    }
    let line_end = text[span.end..].find('\n').map_or(text.len(), |i| span.end + i + 1);
    let crlf =
        if text[..line_end].ends_with('\n') { text[..line_end].ends_with("\r\n") } else { text.contains("\r\n") };
    let eol = if crlf { "\r\n" } else { "\n" };
    let prefix = if line_end == text.len() && !text.ends_with('\n') { eol } else { "" };
    Some((line_end, format!("{prefix}{indent}"), eol))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lock_path_sits_next_to_the_registry() {
        assert_eq!(lock_path(Path::new("registry/ampy.yaml")), Path::new("registry/ampy.lock.json"));
    }

    #[test]
    fn insertion_keeps_indentation() {
        let text = "t:\n    schema_version: 1.0.0 # c\n    key: x\n";
        let start = text.find("1.0.0").unwrap();
        let (at, indent, eol) = insertion(text, Some(start..start + 5)).unwrap();
        assert_eq!(&text[at..], "    key: x\n");
        assert_eq!((indent.as_str(), eol), ("    ", "\n"));
        let crlf = text.replace('\n', "\r\n");
        let (at, indent, eol) = insertion(&crlf, Some(start + 1..start + 6)).unwrap();
        assert_eq!((&crlf[at..], indent.as_str(), eol), ("    key: x\r\n", "    ", "\r\n"));
        let last = "t:\r\n  schema_version: 1.0.0";
        let start = last.find("1.0.0").unwrap();
        assert_eq!(insertion(last, Some(start..start + 5)), Some((last.len(), "\r\n  ".to_owned(), "\r\n")));
        let flow = "t: {schema_version: 1.0.0}\n";
        let start = flow.find("1.0.0").unwrap();
        assert!(insertion(flow, Some(start..start + 5)).is_none());
    }

    #[test]
    fn settings_the_gate_does_not_know_are_recorded_per_topic() {
        let text = "format: 1\nretention_default: 7d\nqos:\n  rt: {delivery: at_least_once, p99_ms: 50, description: x, max_deliveries: 5}\ndomains:\n  d:\n    qos: rt\n    replicas: 3\n    versions:\n      v1:\n        topics:\n          t:\n            subtopic: t\n            duplicate_window: 2m\n            tags: [a, b]\n";
        let root = crate::yaml::parse(&Source::new("r.yaml", text)).unwrap();
        let raw = crate::registry::RawSettings::of(&root);
        assert_eq!(raw.tiers["rt"], vec!["delivery=at_least_once", "max_deliveries=5", "p99_ms=50"]);
        assert_eq!(
            raw.extra["d.v1.t"],
            vec![
                "domain.replicas=3",
                "registry.retention_default=7d",
                "topic.duplicate_window=2m",
                "topic.tags=[a, b]"
            ]
        );
    }

    #[test]
    fn lockfile_round_trips() {
        let mut lock = Lockfile {
            format: LOCK_FORMAT,
            namespace: Some("ampy".into()),
            envs: Some(vec!["dev".into(), "prod".into()]),
            ..Lockfile::default()
        };
        lock.schemas.insert(
            "a.v1.M".into(),
            LockedSchema {
                hash: "sha256:00".into(),
                canonical: "x\ny\n".into(),
                reserved: vec!["message a.v1.M reserved 3".into()],
            },
        );
        lock.topics.insert(
            "a.v1.t".into(),
            LockedTopic {
                payload: Some("a.v1.M".into()),
                schema_version: Some("1.0.0".into()),
                subtopic: "{k}".into(),
                key_format: Some("{k}".into()),
                key_fields: vec!["k=k".into()],
                key_types: vec!["k=string".into()],
                deprecated: None,
                delivery: Some(LockedDelivery {
                    ordering: Some("t".into()),
                    dedupe: None,
                    qos: "standard".into(),
                    qos_settings: vec!["delivery=at_least_once".into()],
                    json_breaking: false,
                    settings: vec!["topic.retention=7d".into()],
                }),
            },
        );
        let source = Source::new("l.json", lock.render());
        assert_eq!(Lockfile::parse(&source).unwrap(), lock);
        // A format-2 lock reads without what format 3 added.
        let v2 = lock.render().replace("\"format\": 5", "\"format\": 2");
        let old = Lockfile::parse(&Source::new("l.json", v2)).unwrap();
        assert_eq!((old.format, old.namespace.as_deref(), old.topics["a.v1.t"].delivery.as_ref()), (2, None, None));
        assert_eq!(old.differences(&lock), vec!["lock format 2 (this ampygen writes format 5)"]);
        let mut other = lock.clone();
        other.envs = Some(vec!["dev".into()]);
        other.topics.get_mut("a.v1.t").unwrap().delivery.as_mut().unwrap().dedupe = Some("k".into());
        assert_eq!(other.differences(&lock), vec!["the envs", "topic `a.v1.t`"]);
        // Renaming a key field everywhere is the same contract.
        let mut renamed = lock.clone();
        let t = renamed.topics.get_mut("a.v1.t").unwrap();
        (t.subtopic, t.key_format, t.key_fields, t.key_types) =
            ("{q}".into(), Some("{q}".into()), vec!["q=k".into()], vec!["q=string".into()]);
        assert!(renamed.same_contract(&lock) && renamed != lock);
        let broken = Source::new("l.json", "{\n  \"format\": 2,\n  oops\n}");
        let err = Lockfile::parse(&broken).unwrap_err();
        assert_eq!(err.location().map(|l| l.line), Some(3));
    }
}
