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
    /// Kafka partitions per topic: enough for six consumers of a group to
    /// share the load, few enough for a small cluster. A topic's partition
    /// count decides which partition each key lands on, so it is chosen
    /// once per topic (raising it later moves keys; see docs/kafka.md).
    pub const PARTITIONS: u64 = 6;
    /// Kafka's own broker default for `message.max.bytes` (1 MiB + 12).
    pub const MAX_MESSAGE_BYTES: u64 = 1_048_588;
    /// Kafka's `min.insync.replicas` when the tier does not set it: one
    /// fewer than the replicas (2 of 3), at least 1, so one broker may be
    /// down without stopping acks=all writes.
    pub const fn min_insync_replicas(replicas: u64) -> u64 {
        if replicas > 1 {
            replicas - 1
        } else {
            1
        }
    }
}

/// Everything a runtime needs to provision streams and configure
/// publishers and consumers for one registry.
#[derive(Clone, Debug, PartialEq)]
#[cfg_attr(any(feature = "go", feature = "python"), derive(serde::Serialize))]
pub struct Model {
    pub namespace: String,
    pub envs: Vec<String>,
    /// QoS tiers in registry order, defaults applied.
    pub tiers: Vec<Tier>,
    /// Every stream of every env: env order, then domain, then version.
    pub streams: Vec<Stream>,
    /// Every Kafka topic of every env, the dlq domain's included: env order,
    /// then domain, then version (the same order as `streams`).
    pub kafka_topics: Vec<KafkaTopic>,
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

#[derive(Clone, Debug, PartialEq)]
#[cfg_attr(any(feature = "go", feature = "python"), derive(serde::Serialize))]
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
    /// Kafka partitions of the tier's topics (a domain may override it).
    pub partitions: u64,
    /// Kafka's `max.message.bytes` of the tier's topics.
    pub max_message_bytes: u64,
    /// Kafka's `min.insync.replicas` of the tier's topics.
    pub min_insync_replicas: u64,
}

/// One Kafka topic, `{namespace}.{env}.{domain}.{version}`, with every
/// setting `ampygen provision kafka` manages, defaults applied.
#[derive(Clone, Debug, PartialEq)]
#[cfg_attr(any(feature = "go", feature = "python"), derive(serde::Serialize))]
pub struct KafkaTopic {
    pub env: String,
    pub domain: String,
    pub version: String,
    /// `ampy.prod.bars.v1`.
    pub name: String,
    /// The tier whose settings apply (the domain's `qos`).
    pub tier: String,
    /// Whether this topic holds dead letters (the dlq domain).
    pub dead_letters: bool,
    /// The domain's `partitions`, else the tier's.
    pub partitions: u64,
    /// The tier's `replicas`: the replication factor.
    pub replication_factor: u64,
    /// `retention.ms`: the tier's `max_age_hours`; -1 (keep) when 0.
    pub retention_ms: i64,
    /// `retention.bytes`, **per partition** as Kafka counts it: the tier's
    /// `max_bytes` (a per-topic bound) divided by the partitions, rounded
    /// down; -1 (no limit) when the tier sets none.
    pub retention_bytes: i64,
    /// `max.message.bytes`.
    pub max_message_bytes: u64,
    /// `min.insync.replicas`.
    pub min_insync_replicas: u64,
    /// `cleanup.policy`: always `delete` (records age out; compaction
    /// would keep one record per key and break replay).
    pub cleanup_policy: String,
}

impl KafkaTopic {
    /// The topic-level configs Kafka takes, by their Kafka names, sorted.
    pub fn configs(&self) -> Vec<(&'static str, String)> {
        vec![
            ("cleanup.policy", self.cleanup_policy.clone()),
            ("max.message.bytes", self.max_message_bytes.to_string()),
            ("min.insync.replicas", self.min_insync_replicas.to_string()),
            ("retention.bytes", self.retention_bytes.to_string()),
            ("retention.ms", self.retention_ms.to_string()),
        ]
    }
}

#[derive(Clone, Debug, PartialEq)]
#[cfg_attr(any(feature = "go", feature = "python"), derive(serde::Serialize))]
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

#[derive(Clone, Debug, PartialEq)]
#[cfg_attr(any(feature = "go", feature = "python"), derive(serde::Serialize))]
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
#[derive(Clone, Debug, PartialEq)]
#[cfg_attr(any(feature = "go", feature = "python"), derive(serde::Serialize))]
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

#[derive(Clone, Debug, PartialEq)]
#[cfg_attr(any(feature = "go", feature = "python"), derive(serde::Serialize))]
pub struct HeaderName {
    pub contract: String,
    pub nats: String,
}

#[derive(Clone, Debug, PartialEq)]
#[cfg_attr(any(feature = "go", feature = "python"), derive(serde::Serialize))]
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

    /// The Kafka topics of one env.
    pub fn kafka_topics_for<'a>(&'a self, env: &'a str) -> impl Iterator<Item = &'a KafkaTopic> + 'a {
        self.kafka_topics.iter().filter(move |t| t.env == env)
    }
}

/// The Kafka topic of one stream, the tier's settings and the domain's
/// partition override applied.
fn kafka_topic(namespace: &str, stream: &Stream, tier: Option<&Tier>, partitions: Option<u64>) -> KafkaTopic {
    let t = tier.cloned().unwrap_or_else(|| Tier {
        name: stream.tier.clone(),
        p99_ms: None,
        max_deliveries: defaults::MAX_DELIVERIES,
        ack_wait_ms: defaults::ACK_WAIT_MS,
        nak_backoff_ms: defaults::NAK_BACKOFF_MS.to_vec(),
        duplicate_window_ms: defaults::DUPLICATE_WINDOW_MS,
        max_age_ms: defaults::MAX_AGE_HOURS * 3_600_000,
        max_bytes: None,
        storage: defaults::STORAGE,
        replicas: defaults::REPLICAS,
        partitions: defaults::PARTITIONS,
        max_message_bytes: defaults::MAX_MESSAGE_BYTES,
        min_insync_replicas: defaults::min_insync_replicas(defaults::REPLICAS),
    });
    let partitions = partitions.unwrap_or(t.partitions).max(1);
    let signed = |v: u64| i64::try_from(v).unwrap_or(i64::MAX);
    KafkaTopic {
        env: stream.env.clone(),
        domain: stream.domain.clone(),
        version: stream.version.clone(),
        name: format!("{namespace}.{}.{}.{}", stream.env, stream.domain, stream.version),
        tier: stream.tier.clone(),
        dead_letters: stream.dead_letters,
        partitions,
        replication_factor: t.replicas,
        retention_ms: if t.max_age_ms == 0 { -1 } else { signed(t.max_age_ms) },
        retention_bytes: t.max_bytes.map_or(-1, |b| signed((b / partitions).max(1))),
        max_message_bytes: t.max_message_bytes,
        min_insync_replicas: t.min_insync_replicas,
        cleanup_policy: "delete".to_owned(),
    }
}

/// The longest Kafka topic name a broker accepts.
pub const MAX_KAFKA_TOPIC_LEN: usize = 249;

/// Builds the model; errors are stream names two parts of the registry
/// would share, with both spans.
pub fn model(registry: &Registry) -> Result<Model, Diagnostics> {
    let tiers: Vec<Tier> = registry
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
                partitions: get(&t.partitions, defaults::PARTITIONS),
                max_message_bytes: get(&t.max_message_bytes, defaults::MAX_MESSAGE_BYTES),
                min_insync_replicas: get(
                    &t.min_insync_replicas,
                    defaults::min_insync_replicas(get(&t.replicas, defaults::REPLICAS)),
                ),
            }
        })
        .collect();
    let ns = &registry.namespace.value;
    let mut streams = Vec::new();
    // Built with the streams, in their order, from the domain at hand (a
    // lookup by name per stream would be quadratic in the domains).
    let mut kafka_topics = Vec::new();
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
                // Kafka's limit; the stream-name check above already
                // rejects names that would collide as Kafka topics (Kafka
                // treats `.` and `_` alike when it names metrics).
                let kafka_len = name.len();
                if kafka_len > MAX_KAFKA_TOPIC_LEN {
                    diags.push(
                        Diagnostic::error(
                            "transport::kafka_topic_name",
                            format!(
                                "the Kafka topic of {who} would be {kafka_len} bytes long; Kafka allows {MAX_KAFKA_TOPIC_LEN}"
                            ),
                        )
                        .at(&registry.source, domain.name.span.clone())
                        .help("shorten the namespace, env or domain name"),
                    );
                    continue;
                }
                owners.insert(name.clone(), (who, domain.name.span.clone()));
                let stream = Stream {
                    env: env.value.clone(),
                    domain: d.clone(),
                    version: v.clone(),
                    name,
                    subjects: vec![format!("{ns}.{}.{d}.{v}.>", env.value)],
                    tier: domain.qos.value.clone(),
                    dead_letters: domain.kind == DomainKind::Dlq,
                };
                let partitions = domain.partitions.as_ref().map(|p| p.value);
                kafka_topics.push(kafka_topic(ns, &stream, tiers.iter().find(|t| t.name == stream.tier), partitions));
                streams.push(stream);
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
        kafka_topics,
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

#[cfg(test)]
mod tests {
    use super::*;

    fn stream(domain: &str, tier: &str) -> Stream {
        Stream {
            env: "prod".into(),
            domain: domain.into(),
            version: "v1".into(),
            name: canon::stream_name("ampy", "prod", domain, "v1"),
            subjects: vec![format!("ampy.prod.{domain}.v1.>")],
            tier: tier.into(),
            dead_letters: false,
        }
    }

    fn tier(max_age_ms: u64, max_bytes: Option<u64>, replicas: u64) -> Tier {
        Tier {
            name: "t".into(),
            p99_ms: None,
            max_deliveries: 5,
            ack_wait_ms: 1,
            nak_backoff_ms: vec![1],
            duplicate_window_ms: 1,
            max_age_ms,
            max_bytes,
            storage: Storage::File,
            replicas,
            partitions: 6,
            max_message_bytes: 2048,
            min_insync_replicas: defaults::min_insync_replicas(replicas),
        }
    }

    #[test]
    fn kafka_topics_take_the_tier_and_the_domain_override() {
        let t = tier(3_600_000, Some(12_000), 3);
        let k = kafka_topic("ampy", &stream("orders", "t"), Some(&t), None);
        assert_eq!(k.name, "ampy.prod.orders.v1");
        assert_eq!((k.partitions, k.replication_factor, k.min_insync_replicas), (6, 3, 2));
        // max_bytes bounds the topic; Kafka's retention.bytes is per partition.
        assert_eq!((k.retention_ms, k.retention_bytes, k.max_message_bytes), (3_600_000, 2_000, 2048));
        let k = kafka_topic("ampy", &stream("orders", "t"), Some(&t), Some(12));
        assert_eq!((k.partitions, k.retention_bytes), (12, 1_000));
        // No age and no size limit: Kafka's -1 for both.
        let k = kafka_topic("ampy", &stream("orders", "t"), Some(&tier(0, None, 1)), None);
        assert_eq!((k.retention_ms, k.retention_bytes, k.min_insync_replicas), (-1, -1, 1));
        assert_eq!(
            k.configs().iter().map(|(n, _)| *n).collect::<Vec<_>>(),
            ["cleanup.policy", "max.message.bytes", "min.insync.replicas", "retention.bytes", "retention.ms"]
        );
    }

    #[test]
    fn the_default_min_insync_replicas_leaves_one_replica_to_fail() {
        let got: Vec<u64> = (1..=5).map(defaults::min_insync_replicas).collect();
        assert_eq!(got, [1, 1, 2, 3, 4]);
    }
}
