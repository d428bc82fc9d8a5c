//! YAML tree → [`Registry`], collecting every structural error.
//!
//! Checks that need the compiled protos (payload names, key paths) live in
//! `resolve`; everything here is decidable from the YAML alone.

use std::collections::{HashMap, HashSet};
use std::ops::Range;
use std::sync::Arc;

use super::*;
use crate::diag::{suggest, Diagnostic, Diagnostics, Label, Source};
use crate::template::{self, is_ident, SyntaxError, Token};
use crate::yaml::{Kind, Node};

mod gate;
mod protos;
mod qos;
mod subtopics;
mod targets;
mod transports;

use subtopics::SubtopicIndex;

pub use targets::{
    go_import_path_problem, go_package_option_problem, go_package_problem, python_distribution_problem,
    python_package_problem, python_version_problem,
};

const TOP_KEYS: &[&str] = &["format", "namespace", "envs", "protos", "qos", "domains", "targets"];
const TOP_REQUIRED: &[&str] = &["format", "namespace", "envs", "protos", "qos", "domains"];
const QOS_KEYS: &[&str] = &[
    "delivery",
    "p99_ms",
    "description",
    // Broker settings, decoded in `decode/qos.rs`.
    "max_deliveries",
    "ack_wait_ms",
    "nak_backoff_ms",
    "duplicate_window_ms",
    "max_age_hours",
    "max_bytes",
    "storage",
    "replicas",
    // Kafka topic settings, also decoded in `decode/qos.rs`.
    "partitions",
    "max_message_bytes",
    "min_insync_replicas",
];
const DOMAIN_KEYS: &[&str] = &["kind", "description", "qos", "versions", "compat", "partitions"];
const VERSION_KEYS: &[&str] = &["topics", "deprecated"];
const TOPIC_KEYS: &[&str] = &[
    "description",
    "subtopic",
    "payload",
    "schema_version",
    "schema_hash",
    "key",
    "ordering",
    "dedupe",
    "deprecated",
    "accept_breaking",
];
const KEY_KEYS: &[&str] = &["fields", "format"];
/// Keys a dlq topic must not have: it carries another topic's record.
const NOT_FOR_DLQ: &[&str] =
    &["payload", "schema_version", "schema_hash", "key", "ordering", "dedupe", "accept_breaking"];
/// The one placeholder a dlq subtopic takes.
pub const DLQ_PARAM: &str = "source_domain";

/// Decodes a parsed registry document. Returns what could be decoded (a
/// topic with errors is left out) together with every finding, so later
/// passes can report their own errors in the same run.
pub fn decode(source: &Arc<Source>, root: &Node) -> (Option<Registry>, Diagnostics) {
    let mut d = Decoder { source, diags: Diagnostics::new() };
    let registry = d.registry(root);
    (registry, d.diags)
}

/// A decoded `key:` plus every declared field name, valid path or not.
struct DecodedKey {
    key: Key,
    declared: Vec<Spanned<String>>,
    complete: bool,
}

/// A mapping's entries, looked up by key.
struct Obj<'n> {
    span: Range<usize>,
    entries: Vec<(Spanned<String>, &'n Node)>,
}

impl<'n> Obj<'n> {
    fn get(&self, key: &str) -> Option<&'n Node> {
        self.entries.iter().find(|(k, _)| k.value == key).map(|(_, v)| *v)
    }
}

struct Decoder<'s> {
    source: &'s Arc<Source>,
    diags: Diagnostics,
}

impl Decoder<'_> {
    fn error(&mut self, code: &'static str, span: Range<usize>, message: impl Into<String>, help: impl Into<String>) {
        self.diags.push(Diagnostic::error(code, message).at(self.source, span).help(help));
    }

    /// The entries of a mapping node; reports a non-mapping and duplicate
    /// keys (the first occurrence wins, the others are reported).
    fn mapping<'n>(&mut self, node: &'n Node, what: &str, dup_code: &'static str) -> Option<Obj<'n>> {
        let Kind::Map(raw) = &node.kind else {
            self.error(
                "registry::wrong_type",
                node.span.clone(),
                format!("{what} must be a mapping, found {}", node.kind_name()),
                "write it as `key: value` lines indented under its parent",
            );
            return None;
        };
        let mut entries: Vec<(Spanned<String>, &'n Node)> = Vec::new();
        let mut seen: HashMap<&str, usize> = HashMap::with_capacity(raw.len());
        for (k, v) in raw {
            let key = k.as_scalar().unwrap_or_default().to_owned();
            if let Some(first) = seen.get(key.as_str()).map(|&i| &entries[i].0) {
                let (line, _) = self.source.line_col(first.span.start);
                let diag = Diagnostic::error(dup_code, format!("duplicate {} `{key}` in {what}", dup_noun(dup_code)))
                    .at(self.source, k.span.clone())
                    .label("duplicate")
                    .with_label(Label::new(self.source, first.span.clone()).with_message("first defined here"))
                    .help(format!("remove one of the two, or rename it; the first is on line {line}"));
                self.diags.push(diag);
                continue;
            }
            seen.insert(k.as_scalar().unwrap_or_default(), entries.len());
            entries.push((Spanned::new(key, k.span.clone()), v));
        }
        Some(Obj { span: node.span.clone(), entries })
    }

    /// A mapping with a fixed set of keys: reports unknown and missing ones.
    fn object<'n>(&mut self, node: &'n Node, what: &str, allowed: &[&str], required: &[&str]) -> Option<Obj<'n>> {
        let obj = self.mapping(node, what, "registry::duplicate_key")?;
        for (key, _) in &obj.entries {
            if !allowed.contains(&key.value.as_str()) {
                let hint = match suggest(&key.value, allowed.iter().copied()) {
                    Some(s) => format!("did you mean `{s}`? {what} takes: {}", allowed.join(", ")),
                    None => format!("{what} takes: {}", allowed.join(", ")),
                };
                self.error(
                    "registry::unknown_key",
                    key.span.clone(),
                    format!("unknown key `{}` in {what}", key.value),
                    hint,
                );
            }
        }
        for req in required {
            if obj.get(req).is_none() {
                let at = obj.entries.first().map_or(obj.span.clone(), |(k, _)| k.span.clone());
                self.error(
                    "registry::missing_key",
                    at,
                    format!("{what} is missing `{req}`"),
                    format!("add `{req}:`; see docs/registry.md for what it holds"),
                );
            }
        }
        Some(obj)
    }

    fn string(&mut self, node: &Node, what: &str) -> Option<Spanned<String>> {
        match node.as_scalar() {
            Some(s) => Some(Spanned::new(s.to_owned(), node.span.clone())),
            None => {
                self.error(
                    "registry::wrong_type",
                    node.span.clone(),
                    format!("{what} must be a string, found {}", node.kind_name()),
                    "write a single value on the same line, quoted if it contains `:`, `#` or `{`",
                );
                None
            }
        }
    }

    fn uint(&mut self, node: &Node, what: &str) -> Option<Spanned<u64>> {
        let parsed =
            node.as_scalar().filter(|_| node.style() == Some(crate::yaml::Style::Plain)).and_then(|s| s.parse().ok());
        if parsed.is_none() {
            self.error(
                "registry::wrong_type",
                node.span.clone(),
                format!("{what} must be a non-negative integer, found {}", describe(node)),
                "write a plain number such as `1`",
            );
        }
        parsed.map(|v| Spanned::new(v, node.span.clone()))
    }

    fn strings(&mut self, node: &Node, what: &str) -> Vec<Spanned<String>> {
        let Kind::Seq(items) = &node.kind else {
            self.error(
                "registry::wrong_type",
                node.span.clone(),
                format!("{what} must be a list, found {}", node.kind_name()),
                "write `[a, b]` or one `- item` per line",
            );
            return Vec::new();
        };
        items.iter().filter_map(|i| self.string(i, &format!("each entry of {what}"))).collect()
    }

    fn inner_span(&self, value: &Spanned<String>, range: Range<usize>) -> Range<usize> {
        inner_span(self.source, &value.span, &value.value, range)
    }

    fn syntax_errors(&mut self, value: &Spanned<String>, errors: Vec<SyntaxError>) {
        for e in errors {
            let span = self.inner_span(value, e.range.clone());
            self.error(e.code, span, e.message, e.help);
        }
    }

    fn name(&mut self, name: &Spanned<String>, what: &str) {
        if !is_ident(&name.value) {
            self.error(
                "registry::bad_name",
                name.span.clone(),
                format!("{what} `{}` is not a valid name", name.value),
                "names are lower_snake_case: a letter a-z, then a-z, 0-9 or `_`",
            );
        }
    }

    fn registry(&mut self, root: &Node) -> Option<Registry> {
        let top = self.object(root, "the registry", TOP_KEYS, TOP_REQUIRED)?;
        let format = top.get("format").and_then(|n| self.uint(n, "`format`"));
        if let Some(f) = &format {
            if f.value != FORMAT_VERSION {
                self.error(
                    "registry::format_version",
                    f.span.clone(),
                    format!("registry format {} is not supported by ampygen {}", f.value, env!("CARGO_PKG_VERSION")),
                    format!("this ampygen reads `format: {FORMAT_VERSION}`; upgrade ampygen or migrate the file"),
                );
            }
        }
        let namespace = top.get("namespace").and_then(|n| self.string(n, "`namespace`"));
        if let Some(ns) = &namespace {
            self.subject_word(ns, "namespace");
        }
        let envs = top.get("envs").map(|n| self.strings(n, "`envs`")).unwrap_or_default();
        self.envs(top.get("envs"), &envs);
        let protos = top.get("protos").and_then(|n| self.protos(n));
        let qos = top.get("qos").map(|n| self.qos(n)).unwrap_or_default();
        let domains = top.get("domains").map(|n| self.domains(n, &qos)).unwrap_or_default();
        let targets = top.get("targets").map(|n| self.targets(n)).unwrap_or_default();
        Some(Registry {
            source: Arc::clone(self.source),
            format: format?,
            namespace: namespace?,
            envs,
            protos: protos?,
            qos,
            domains,
            targets,
            raw_settings: super::RawSettings::of(root),
        })
    }

    /// Namespace and env names appear as subject tokens and in Kafka topic
    /// names, whose alphabet is `[a-zA-Z0-9._-]`; we also forbid `.`.
    fn subject_word(&mut self, word: &Spanned<String>, what: &str) {
        let ok = word.value.starts_with(|c: char| c.is_ascii_lowercase())
            && word.value.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '-');
        if !ok {
            self.error(
                "registry::bad_name",
                word.span.clone(),
                format!("{what} `{}` cannot be used in subjects and Kafka topic names", word.value),
                "use lower-case letters, digits, `_` and `-`, starting with a letter",
            );
        }
    }

    fn envs(&mut self, node: Option<&Node>, envs: &[Spanned<String>]) {
        if let (Some(node), true) = (node, envs.is_empty()) {
            if matches!(node.kind, Kind::Seq(_)) {
                self.error(
                    "registry::missing_key",
                    node.span.clone(),
                    "`envs` is empty",
                    "list the environments, e.g. `[dev, paper, prod]`",
                );
            }
        }
        let mut seen: HashSet<&str> = HashSet::with_capacity(envs.len());
        for env in envs {
            self.subject_word(env, "env");
            if !seen.insert(env.value.as_str()) {
                self.error(
                    "registry::duplicate_key",
                    env.span.clone(),
                    format!("env `{}` is listed twice", env.value),
                    "remove the repeated entry",
                );
            }
        }
    }

    fn qos(&mut self, node: &Node) -> Vec<QosTier> {
        let Some(map) = self.mapping(node, "`qos`", "registry::duplicate_key") else { return Vec::new() };
        let mut tiers = Vec::new();
        for (name, value) in &map.entries {
            self.name(name, "qos tier");
            let what = format!("qos tier `{}`", name.value);
            let Some(obj) = self.object(value, &what, QOS_KEYS, &["delivery"]) else { continue };
            let delivery = obj.get("delivery").and_then(|n| self.string(n, "`delivery`")).and_then(|s| {
                let d = match s.value.as_str() {
                    "at_least_once" => Delivery::AtLeastOnce,
                    "at_most_once" => Delivery::AtMostOnce,
                    _ => {
                        self.error(
                            "registry::wrong_type",
                            s.span.clone(),
                            format!("unknown delivery `{}`", s.value),
                            format!("use one of: {}", Delivery::NAMES.join(", ")),
                        );
                        return None;
                    }
                };
                Some(Spanned::new(d, s.span))
            });
            let p99_ms = obj.get("p99_ms").and_then(|n| self.uint(n, "`p99_ms`"));
            let description = obj.get("description").and_then(|n| self.string(n, "`description`"));
            let transport = self.tier_transport(&obj, &what);
            if let Some(delivery) = delivery {
                tiers.push(QosTier { name: name.clone(), delivery, p99_ms, description, transport });
            }
        }
        tiers
    }

    fn domains(&mut self, node: &Node, qos: &[QosTier]) -> Vec<Domain> {
        let Some(map) = self.mapping(node, "`domains`", "registry::duplicate_domain") else { return Vec::new() };
        let tiers: HashSet<&str> = qos.iter().map(|q| q.name.value.as_str()).collect();
        let mut domains = Vec::new();
        for (name, value) in &map.entries {
            self.name(name, "domain");
            if let Some(d) = self.domain(name, value, qos, &tiers) {
                domains.push(d);
            }
        }
        let has_dlq = domains.iter().filter(|d| d.kind == DomainKind::Dlq).count();
        if has_dlq > 1 {
            let second = domains.iter().filter(|d| d.kind == DomainKind::Dlq).nth(1).map(|d| d.name.span.clone());
            if let Some(span) = second {
                self.error(
                    "registry::dlq",
                    span,
                    "only one domain may have `kind: dlq`",
                    "route every dead letter through the single dlq domain",
                );
            }
        }
        domains
    }

    fn domain(
        &mut self,
        name: &Spanned<String>,
        node: &Node,
        qos: &[QosTier],
        tiers: &HashSet<&str>,
    ) -> Option<Domain> {
        let what = format!("domain `{}`", name.value);
        let obj = self.object(node, &what, DOMAIN_KEYS, &["description", "qos", "versions"])?;
        let kind = match obj.get("kind").and_then(|n| self.string(n, "`kind`")) {
            None => DomainKind::Payload,
            Some(k) if k.value == "payload" => DomainKind::Payload,
            Some(k) if k.value == "dlq" => DomainKind::Dlq,
            Some(k) => {
                self.error(
                    "registry::wrong_type",
                    k.span.clone(),
                    format!("unknown domain kind `{}`", k.value),
                    "use `payload` (the default) or `dlq`",
                );
                DomainKind::Payload
            }
        };
        let description = obj.get("description").and_then(|n| self.string(n, "`description`"));
        let tier = obj.get("qos").and_then(|n| self.string(n, "`qos`"));
        if let Some(t) = &tier {
            if !tiers.contains(t.value.as_str()) {
                let names: Vec<&str> = qos.iter().map(|q| q.name.value.as_str()).collect();
                let hint = match suggest(&t.value, names.iter().copied()) {
                    Some(s) => format!("did you mean `{s}`?"),
                    None => format!("define it under `qos:` or use one of: {}", names.join(", ")),
                };
                self.error("registry::unknown_qos", t.span.clone(), format!("unknown qos tier `{}`", t.value), hint);
            }
        }
        let versions = obj.get("versions").map(|n| self.versions(name, kind, n)).unwrap_or_default();
        let compat_json = obj.get("compat").and_then(|n| self.compat(n, &what));
        let partitions = obj.get("partitions").and_then(|n| self.partitions(n, &what));
        Some(Domain {
            name: name.clone(),
            kind,
            description: description?,
            qos: tier?,
            versions,
            compat_json,
            partitions,
        })
    }

    fn versions(&mut self, domain: &Spanned<String>, kind: DomainKind, node: &Node) -> Vec<Version> {
        let what = format!("the versions of `{}`", domain.value);
        let Some(map) = self.mapping(node, &what, "registry::duplicate_version") else { return Vec::new() };
        if map.entries.is_empty() {
            self.error(
                "registry::missing_key",
                map.span.clone(),
                format!("domain `{}` has no versions", domain.value),
                "add `v1:` with its topics",
            );
        }
        let mut versions = Vec::new();
        for (name, value) in &map.entries {
            let major = parse_major(&name.value);
            if major.is_none() {
                self.error(
                    "registry::bad_version",
                    name.span.clone(),
                    format!("`{}` is not a topic version", name.value),
                    "versions are `v` followed by the major number without leading zeros: `v1`, `v2`, …",
                );
            }
            let what = format!("version `{}.{}`", domain.value, name.value);
            let Some(obj) = self.object(value, &what, VERSION_KEYS, &["topics"]) else { continue };
            let topics = obj.get("topics").map(|n| self.topics(domain, name, kind, n)).unwrap_or_default();
            let deprecated = obj.get("deprecated").and_then(|n| self.deprecation(n, &what));
            if let Some(major) = major {
                versions.push(Version { name: name.clone(), major, topics, deprecated });
            }
        }
        versions
    }

    fn topics(
        &mut self,
        domain: &Spanned<String>,
        version: &Spanned<String>,
        kind: DomainKind,
        node: &Node,
    ) -> Vec<Topic> {
        let what = format!("the topics of `{}.{}`", domain.value, version.value);
        let Some(map) = self.mapping(node, &what, "registry::duplicate_topic") else { return Vec::new() };
        if map.entries.is_empty() {
            self.error(
                "registry::missing_key",
                map.span.clone(),
                format!("`{}.{}` has no topics", domain.value, version.value),
                "add a topic with its subtopic and payload",
            );
        }
        let mut topics: Vec<Topic> = Vec::new();
        let mut subtopics = SubtopicIndex::default();
        for (name, value) in &map.entries {
            self.name(name, "topic");
            let Some(topic) = self.topic(domain, version, kind, name, value) else { continue };
            if let Some(other) = subtopics.first_overlap(&topic.subtopic.value).map(|i| &topics[i]) {
                let same = other.subtopic.value == topic.subtopic.value;
                let message = if same {
                    format!(
                        "topics `{}` and `{}` have the same subtopic `{}`",
                        other.name.value,
                        topic.name.value,
                        topic.subtopic.value.to_template()
                    )
                } else {
                    format!(
                        "subtopic `{}` of `{}` overlaps `{}` of `{}`: one subject could match both",
                        topic.subtopic.value.to_template(),
                        topic.name.value,
                        other.subtopic.value.to_template(),
                        other.name.value
                    )
                };
                let diag = Diagnostic::error("registry::duplicate_subtopic", message)
                    .at(self.source, topic.subtopic.span.clone())
                    .with_label(Label::new(self.source, other.subtopic.span.clone()).with_message("the other subtopic"))
                    .help("give each topic a distinct literal token, e.g. `trade.{symbol}` and `quote.{symbol}`");
                self.diags.push(diag);
            }
            subtopics.insert(&topic.subtopic.value, topics.len());
            topics.push(topic);
        }
        topics
    }

    fn topic(
        &mut self,
        domain: &Spanned<String>,
        version: &Spanned<String>,
        kind: DomainKind,
        name: &Spanned<String>,
        node: &Node,
    ) -> Option<Topic> {
        let what = format!("topic `{}.{}.{}`", domain.value, version.value, name.value);
        let required: &[&str] = match kind {
            DomainKind::Payload => &["subtopic", "payload", "schema_version", "key"],
            DomainKind::Dlq => &["subtopic"],
        };
        let obj = self.object(node, &what, TOPIC_KEYS, required)?;
        if kind == DomainKind::Dlq {
            for (key, _) in &obj.entries {
                if NOT_FOR_DLQ.contains(&key.value.as_str()) {
                    self.error(
                        "registry::dlq",
                        key.span.clone(),
                        format!("a dlq topic has no `{}`", key.value),
                        "dead letters keep the original payload, schema headers and partition key; remove this key",
                    );
                }
            }
        }
        let description = obj.get("description").and_then(|n| self.string(n, "`description`"));
        let subtopic_text = obj.get("subtopic").and_then(|n| self.string(n, "`subtopic`"));
        let subtopic = subtopic_text.as_ref().and_then(|s| match template::parse_subtopic(&s.value) {
            Ok(t) => Some(Spanned::new(t, s.span.clone())),
            Err(errors) => {
                self.syntax_errors(s, errors);
                None
            }
        });
        let payload = match kind {
            DomainKind::Payload => obj.get("payload").and_then(|n| self.string(n, "`payload`")),
            DomainKind::Dlq => None,
        };
        let schema_version = match kind {
            DomainKind::Payload => obj.get("schema_version").and_then(|n| self.semver(n, version)),
            DomainKind::Dlq => None,
        };
        let schema_hash = match kind {
            DomainKind::Payload => obj.get("schema_hash").and_then(|n| self.hash(n)),
            DomainKind::Dlq => None,
        };
        let key = match kind {
            DomainKind::Payload => obj.get("key").and_then(|n| self.key(n, &what)),
            DomainKind::Dlq => None,
        };
        let ordering =
            obj.get("ordering").filter(|_| kind == DomainKind::Payload).and_then(|n| self.path(n, "`ordering`"));
        let dedupe = obj.get("dedupe").filter(|_| kind == DomainKind::Payload).and_then(|n| self.path(n, "`dedupe`"));
        let deprecated = obj.get("deprecated").and_then(|n| self.deprecation(n, &what));
        let accept_breaking = match (kind, obj.get("accept_breaking")) {
            (DomainKind::Payload, Some(n)) => self.acceptances(n, &what),
            _ => Vec::new(),
        };
        let (subtopic, subtopic_text) = (subtopic?, subtopic_text?);
        match kind {
            DomainKind::Payload => self.placeholders(&subtopic, &subtopic_text, key.as_ref()),
            DomainKind::Dlq => self.dlq_subtopic(&subtopic, &subtopic_text),
        }
        let key = match key {
            Some(k) if k.complete => Some(k.key),
            _ => None,
        };
        if kind == DomainKind::Payload && (payload.is_none() || schema_version.is_none() || key.is_none()) {
            return None;
        }
        Some(Topic {
            name: name.clone(),
            description,
            subtopic,
            payload,
            schema_version,
            schema_hash,
            key,
            ordering,
            dedupe,
            deprecated,
            accept_breaking,
            span: obj.span,
        })
    }

    fn semver(&mut self, node: &Node, version: &Spanned<String>) -> Option<Spanned<Semver>> {
        let s = self.string(node, "`schema_version`")?;
        let Some(v) = Semver::parse(&s.value) else {
            self.error(
                "registry::bad_semver",
                s.span.clone(),
                format!("`{}` is not a semantic version", s.value),
                "write MAJOR.MINOR.PATCH without a `v`, e.g. `1.0.0` (quote it if YAML reads it as a number)",
            );
            return None;
        };
        if let Some(major) = parse_major(&version.value) {
            if v.major != major {
                let diag = Diagnostic::error(
                    "registry::version_mismatch",
                    format!("schema_version {} has major {} but the topic version is `{}`", v, v.major, version.value),
                )
                .at(self.source, s.span.clone())
                .with_label(Label::new(self.source, version.span.clone()).with_message("topic version"))
                .help(format!(
                    "the major version lives in the topic: use `{major}.x.y` here, or publish a breaking change as a new `v{}` topic",
                    v.major
                ));
                self.diags.push(diag);
            }
        }
        Some(Spanned::new(v, s.span))
    }

    fn hash(&mut self, node: &Node) -> Option<Spanned<String>> {
        let s = self.string(node, "`schema_hash`")?;
        let ok = s
            .value
            .strip_prefix("sha256:")
            .is_some_and(|h| h.len() == 64 && h.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')));
        if !ok {
            self.error(
                "registry::bad_hash",
                s.span.clone(),
                format!("`{}` is not a schema hash", s.value),
                "hashes are `sha256:` plus 64 lower-case hex digits; run `ampygen lock` to write them",
            );
            return None;
        }
        Some(s)
    }

    fn path(&mut self, node: &Node, what: &str) -> Option<Spanned<KeyPath>> {
        let s = self.string(node, what)?;
        match template::parse_path(&s.value) {
            Ok(p) => Some(Spanned::new(p, s.span)),
            Err(e) => {
                self.syntax_errors(&s, vec![e]);
                None
            }
        }
    }

    /// Decodes `key:`. Placeholder checks use every *declared* field name,
    /// even one whose path is broken, so one bad path is one error rather
    /// than a cascade of "unknown placeholder" errors.
    fn key(&mut self, node: &Node, topic: &str) -> Option<DecodedKey> {
        let obj = self.object(node, &format!("the key of {topic}"), KEY_KEYS, KEY_KEYS)?;
        let mut fields = Vec::new();
        let mut declared = Vec::new();
        if let Some(fnode) = obj.get("fields") {
            if let Some(map) = self.mapping(fnode, "`key.fields`", "registry::duplicate_key") {
                if map.entries.is_empty() {
                    self.error(
                        "registry::missing_key",
                        map.span.clone(),
                        "`key.fields` is empty",
                        "name at least one field, e.g. `symbol: security.symbol`",
                    );
                }
                for (name, value) in &map.entries {
                    self.name(name, "key field");
                    if name.value == "env" {
                        self.error(
                            "registry::reserved_name",
                            name.span.clone(),
                            "key field `env` is reserved: the env is the subject's second token, and the runtimes report a bad env as `env`",
                            "name the key field after what it holds, e.g. `environment` (only the registry uses the name; the payload path stays)",
                        );
                    }
                    declared.push(name.clone());
                    if let Some(path) = self.path(value, &format!("key field `{}`", name.value)) {
                        fields.push(KeyField { name: name.clone(), path });
                    }
                }
            }
        }
        let complete = fields.len() == declared.len();
        let format_text = obj.get("format").and_then(|n| self.string(n, "`key.format`"))?;
        let format = match template::parse_key_format(&format_text.value) {
            Ok(f) => f,
            Err(errors) => {
                self.syntax_errors(&format_text, errors);
                return None;
            }
        };
        let names: HashSet<&str> = declared.iter().map(|f| f.value.as_str()).collect();
        for (name, range) in format.fields() {
            if !names.contains(name) {
                let span = self.inner_span(&format_text, range);
                self.unknown_placeholder(span, name, &declared, "key format");
            }
        }
        Some(DecodedKey { key: Key { fields, format: Spanned::new(format, format_text.span) }, declared, complete })
    }

    fn unknown_placeholder(&mut self, span: Range<usize>, name: &str, declared: &[Spanned<String>], what: &str) {
        let names: Vec<&str> = declared.iter().map(|f| f.value.as_str()).collect();
        let hint = match suggest(name, names.iter().copied()) {
            Some(s) => format!("did you mean `{{{s}}}`?"),
            None if names.is_empty() => "declare it under `key.fields`".to_owned(),
            None => format!("declare it under `key.fields` (declared: {})", names.join(", ")),
        };
        self.error("registry::unknown_placeholder", span, format!("unknown placeholder `{{{name}}}` in {what}"), hint);
    }

    /// Subtopic placeholders are key fields; every key field is used.
    fn placeholders(
        &mut self,
        subtopic: &Spanned<template::Subtopic>,
        text: &Spanned<String>,
        key: Option<&DecodedKey>,
    ) {
        let Some(key) = key else { return };
        let declared: HashSet<&str> = key.declared.iter().map(|f| f.value.as_str()).collect();
        for (name, range) in subtopic.value.params() {
            if !declared.contains(name) {
                let span = self.inner_span(text, range);
                self.unknown_placeholder(span, name, &key.declared, "subtopic");
            }
        }
        let used: HashSet<&str> =
            key.key.format.value.fields().map(|(n, _)| n).chain(subtopic.value.params().map(|(n, _)| n)).collect();
        for field in &key.declared {
            if !used.contains(field.value.as_str()) {
                self.error(
                    "registry::unused_key_field",
                    field.span.clone(),
                    format!("key field `{}` is used neither in `key.format` nor in `subtopic`", field.value),
                    "use it as `{name}` in the key format or subtopic, or remove it",
                );
            }
        }
    }

    fn dlq_subtopic(&mut self, subtopic: &Spanned<template::Subtopic>, text: &Spanned<String>) {
        let params: Vec<(&str, Range<usize>)> = subtopic.value.params().collect();
        for (name, range) in &params {
            if *name != DLQ_PARAM {
                let span = self.inner_span(text, range.clone());
                self.error(
                    "registry::unknown_placeholder",
                    span,
                    format!("unknown placeholder `{{{name}}}` in a dlq subtopic"),
                    format!("a dlq subtopic takes only `{{{DLQ_PARAM}}}`, the domain the record came from"),
                );
            }
        }
        if !params.iter().any(|(n, _)| *n == DLQ_PARAM) {
            self.error(
                "registry::dlq",
                text.span.clone(),
                format!("a dlq subtopic must contain `{{{DLQ_PARAM}}}`"),
                format!("write `subtopic: \"{{{DLQ_PARAM}}}\"` so dead letters land on `…dlq.v1.<domain>`"),
            );
        }
        if subtopic.value.tokens.iter().filter(|t| matches!(t, Token::Param(_))).count() > 1 {
            self.error(
                "registry::dlq",
                text.span.clone(),
                "a dlq subtopic takes the placeholder once",
                "remove the repeated placeholder",
            );
        }
    }
}

fn dup_noun(code: &str) -> &'static str {
    match code {
        "registry::duplicate_domain" => "domain",
        "registry::duplicate_topic" => "topic",
        "registry::duplicate_version" => "version",
        _ => "key",
    }
}

fn describe(node: &Node) -> String {
    match node.as_scalar() {
        Some(s) => format!("`{s}`"),
        None => node.kind_name().to_owned(),
    }
}

/// `v1` → 1. Rejects `v0`, `v01`, `V1`, `1`.
pub(crate) fn parse_major(s: &str) -> Option<u64> {
    let digits = s.strip_prefix('v')?;
    if digits.is_empty() || digits.starts_with('0') || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    digits.parse().ok()
}
