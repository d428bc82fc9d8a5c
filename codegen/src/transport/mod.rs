//! The transport model: what the registry implies for a broker, computed
//! once here and printed by every backend. Streams (one per env, domain and
//! major version, the dlq domain's included), each QoS tier's stream and
//! consumer settings with their defaults applied, where dead letters go,
//! the NATS header mapping and the metric names.
//!
//! [`Model`] is a serde view, so the Go and Python templates print exactly
//! what the Rust renderer ([`rust`]) prints and what `ampygen provision`
//! creates. Normative text: docs/nats.md.

pub mod rust;

use serde::Serialize;

use crate::diag::{Diagnostic, Diagnostics, Label};
use crate::registry::{DomainKind, Registry, Storage, Transport};
use crate::template::Token;
use ampy_canonical::transport as canon;

/// The defaults of a QoS tier's broker settings (docs/registry.md).
pub mod defaults {
    use crate::registry::Storage;

    /// Handler deliveries before the DLQ: the first try and four retries.
    pub const MAX_DELIVERIES: u64 = 5;
    /// How long the server waits for an ack before redelivering.
    pub const ACK_WAIT_MS: u64 = 30_000;
    /// Nak delays by retry; the last one repeats.
    pub const NAK_BACKOFF_MS: [u64; 3] = [1_000, 5_000, 30_000];
    /// JetStream's own default.
    pub const DUPLICATE_WINDOW_MS: u64 = 120_000;
    /// Seven days: a week of replay.
    pub const MAX_AGE_HOURS: u64 = 168;
    pub const STORAGE: Storage = Storage::File;
    pub const REPLICAS: u64 = 1;
}

/// Everything a runtime needs to provision streams and configure
/// publishers and consumers for one registry.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Model {
    pub namespace: String,
    pub envs: Vec<String>,
    /// QoS tiers in registry order, defaults applied.
    pub tiers: Vec<Tier>,
    /// Every stream of every env: env order, then domain, then version.
    pub streams: Vec<Stream>,
    /// Every payload topic with the tier that governs it.
    pub topics: Vec<TopicRoute>,
    /// Where dead letters go; `None` when the registry has no dlq domain.
    pub dlq: Option<DlqRoute>,
    /// Envelope header → NATS header, in wire order.
    pub headers: Vec<HeaderName>,
    pub metrics: Vec<Metric>,
    /// Upper bounds of `bus_delivery_latency_ms`'s buckets; `+Inf` follows.
    pub latency_buckets_ms: Vec<f64>,
    /// `targets.go.transports` and `targets.python.transports`.
    pub go_transports: Vec<Transport>,
    pub python_transports: Vec<Transport>,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Tier {
    pub name: String,
    pub p99_ms: Option<u64>,
    pub max_deliveries: u64,
    pub ack_wait_ms: u64,
    pub nak_backoff_ms: Vec<u64>,
    pub duplicate_window_ms: u64,
    /// Retention in milliseconds; 0 keeps records until `max_bytes`.
    pub max_age_ms: u64,
    pub max_bytes: Option<u64>,
    pub storage: Storage,
    pub replicas: u64,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Stream {
    pub env: String,
    pub domain: String,
    pub version: String,
    /// `AMPY_PROD_BARS_V1`.
    pub name: String,
    /// `["ampy.prod.bars.v1.>"]`.
    pub subjects: Vec<String>,
    /// The tier whose settings the stream takes (its domain's `qos`).
    pub tier: String,
    /// Whether it stores dead letters (the dlq domain).
    pub dead_letters: bool,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct TopicRoute {
    /// `bars.v1.bars`.
    pub id: String,
    pub domain: String,
    pub version: String,
    pub tier: String,
}

/// The dlq domain's newest version: a dead letter from domain `d` in env
/// `e` goes to `{namespace}.{e}.{domain}.{version}.{subtopic}` with the
/// `{source_domain}` token replaced by `d`.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct DlqRoute {
    pub domain: String,
    pub version: String,
    /// Subtopic tokens; the token `{source_domain}` is the placeholder.
    pub subtopic: Vec<String>,
}

impl DlqRoute {
    pub const PLACEHOLDER: &'static str = "{source_domain}";

    /// The DLQ subject of `source_domain`'s records in `env`.
    pub fn subject(&self, namespace: &str, env: &str, source_domain: &str) -> String {
        let mut s = format!("{namespace}.{env}.{}.{}", self.domain, self.version);
        for t in &self.subtopic {
            s.push('.');
            s.push_str(if t == Self::PLACEHOLDER { source_domain } else { t });
        }
        s
    }
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct HeaderName {
    pub contract: String,
    pub nats: String,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Metric {
    pub name: String,
    /// `counter`, `histogram` or `gauge`.
    pub kind: String,
    pub labels: Vec<String>,
}

impl Model {
    pub fn tier(&self, name: &str) -> Option<&Tier> {
        self.tiers.iter().find(|t| t.name == name)
    }

    /// The streams of one env.
    pub fn streams_for<'a>(&'a self, env: &'a str) -> impl Iterator<Item = &'a Stream> + 'a {
        self.streams.iter().filter(move |s| s.env == env)
    }
}

/// Builds the model; errors are stream names two parts of the registry
/// would share, with both spans.
pub fn model(registry: &Registry) -> Result<Model, Diagnostics> {
    let tiers = registry
        .qos
        .iter()
        .map(|q| {
            let t = &q.transport;
            let get = |v: &Option<crate::registry::Spanned<u64>>, d: u64| v.as_ref().map_or(d, |s| s.value);
            Tier {
                name: q.name.value.clone(),
                p99_ms: q.p99_ms.as_ref().map(|p| p.value),
                max_deliveries: get(&t.max_deliveries, defaults::MAX_DELIVERIES),
                ack_wait_ms: get(&t.ack_wait_ms, defaults::ACK_WAIT_MS),
                nak_backoff_ms: t
                    .nak_backoff_ms
                    .as_ref()
                    .map_or(defaults::NAK_BACKOFF_MS.to_vec(), |s| s.value.clone()),
                duplicate_window_ms: get(&t.duplicate_window_ms, defaults::DUPLICATE_WINDOW_MS),
                max_age_ms: get(&t.max_age_hours, defaults::MAX_AGE_HOURS) * 3_600_000,
                max_bytes: t.max_bytes.as_ref().map(|s| s.value),
                storage: t.storage.as_ref().map_or(defaults::STORAGE, |s| s.value),
                replicas: get(&t.replicas, defaults::REPLICAS),
            }
        })
        .collect();
    let ns = &registry.namespace.value;
    let mut streams = Vec::new();
    let mut diags = Diagnostics::new();
    // Stream name → (env span, domain span) of its first owner.
    let mut owners: std::collections::BTreeMap<String, (String, std::ops::Range<usize>)> = Default::default();
    for env in &registry.envs {
        for domain in &registry.domains {
            for version in &domain.versions {
                let (d, v) = (&domain.name.value, &version.name.value);
                let name = canon::stream_name(ns, &env.value, d, v);
                let who = format!("env `{}`, {d}.{v}", env.value);
                if let Some((first, span)) = owners.get(&name) {
                    diags.push(
                        Diagnostic::error(
                            "transport::stream_collision",
                            format!("{who} and {first} would share the JetStream stream `{name}`"),
                        )
                        .at(&registry.source, domain.name.span.clone())
                        .with_label(Label::new(&registry.source, span.clone()).with_message("the other owner"))
                        .help("stream names join the names with `_` and upper-case them: rename the env or domain so the two differ"),
                    );
                    continue;
                }
                if let Some(problem) = canon::stream_name_problem(&name) {
                    diags.push(
                        Diagnostic::error(
                            "transport::stream_name",
                            format!("the stream name `{name}` of {who} {problem}"),
                        )
                        .at(&registry.source, domain.name.span.clone())
                        .help("shorten the namespace, env or domain name"),
                    );
                    continue;
                }
                owners.insert(name.clone(), (who, domain.name.span.clone()));
                streams.push(Stream {
                    env: env.value.clone(),
                    domain: d.clone(),
                    version: v.clone(),
                    name,
                    subjects: vec![format!("{ns}.{}.{d}.{v}.>", env.value)],
                    tier: domain.qos.value.clone(),
                    dead_letters: domain.kind == DomainKind::Dlq,
                });
            }
        }
    }
    if diags.has_errors() {
        return Err(diags);
    }
    let topics = registry
        .topics()
        .filter(|t| t.domain.kind == DomainKind::Payload)
        .map(|t| TopicRoute {
            id: t.id(),
            domain: t.domain.name.value.clone(),
            version: t.version.name.value.clone(),
            tier: t.domain.qos.value.clone(),
        })
        .collect();
    let dlq = registry.domains.iter().find(|d| d.kind == DomainKind::Dlq).and_then(|d| {
        let version = d.versions.iter().max_by_key(|v| v.major)?;
        let topic = version.topics.first()?;
        let subtopic = topic
            .subtopic
            .value
            .tokens
            .iter()
            .map(|t| match t {
                Token::Literal(l) => l.clone(),
                Token::Param(_) => DlqRoute::PLACEHOLDER.to_owned(),
            })
            .collect();
        Some(DlqRoute { domain: d.name.value.clone(), version: version.name.value.clone(), subtopic })
    });
    let transports = |t: Option<&Vec<crate::registry::Spanned<Transport>>>| {
        t.map(|v| v.iter().map(|s| s.value).collect()).unwrap_or_default()
    };
    Ok(Model {
        namespace: ns.clone(),
        envs: registry.envs.iter().map(|e| e.value.clone()).collect(),
        tiers,
        streams,
        topics,
        dlq,
        headers: canon::NATS_HEADERS
            .iter()
            .map(|(c, n)| HeaderName { contract: (*c).to_owned(), nats: (*n).to_owned() })
            .collect(),
        metrics: canon::METRICS
            .iter()
            .map(|(n, k, l)| Metric {
                name: (*n).to_owned(),
                kind: (*k).to_owned(),
                labels: l.iter().map(|s| (*s).to_owned()).collect(),
            })
            .collect(),
        latency_buckets_ms: canon::LATENCY_BUCKETS_MS.to_vec(),
        go_transports: transports(registry.targets.go.as_ref().map(|g| &g.transports)),
        python_transports: transports(registry.targets.python.as_ref().map(|p| &p.transports)),
    })
}
