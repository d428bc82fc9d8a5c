//! The broker layout a registry implies, as constants generated code
//! fills in (`contract::transport::LAYOUT`): streams, QoS tier settings
//! and the DLQ route. Plain data with no client library behind it, so a
//! service without a transport feature pays nothing; the `nats` and `kafka`
//! features provision and configure from it. Normative text: docs/nats.md
//! and docs/kafka.md.

pub use ampy_canonical::transport::{
    contract_header, nats_header, stream_name, LATENCY_BUCKETS_MS, METRICS, NATS_HEADERS,
};

/// Where a stream keeps its records.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Storage {
    File,
    Memory,
}

impl Storage {
    pub const fn as_str(self) -> &'static str {
        match self {
            Storage::File => "file",
            Storage::Memory => "memory",
        }
    }
}

/// A QoS tier's broker settings, registry defaults applied.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Tier {
    pub name: &'static str,
    /// Handler deliveries before a record goes to the DLQ.
    pub max_deliveries: u32,
    pub ack_wait_ms: u64,
    /// Nak delay of the n-th retry (the last entry repeats).
    pub nak_backoff_ms: &'static [u64],
    pub duplicate_window_ms: u64,
    /// 0: no age limit.
    pub max_age_ms: u64,
    pub max_bytes: Option<u64>,
    pub storage: Storage,
    pub replicas: u32,
}

impl Tier {
    /// The nak delay before delivery `retry_count + 1`.
    pub fn nak_delay_ms(&self, retry_count: u32) -> u64 {
        let i = (retry_count as usize).min(self.nak_backoff_ms.len().saturating_sub(1));
        self.nak_backoff_ms.get(i).copied().unwrap_or(0)
    }
}

/// One JetStream stream: every subject of one domain version in one env.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Stream {
    pub env: &'static str,
    pub domain: &'static str,
    pub version: &'static str,
    /// `AMPY_PROD_BARS_V1`.
    pub name: &'static str,
    /// `["ampy.prod.bars.v1.>"]`.
    pub subjects: &'static [&'static str],
    /// The tier whose settings apply (the domain's `qos`).
    pub tier: &'static str,
    /// Whether this is a dead-letter stream.
    pub dead_letters: bool,
}

/// One Kafka topic, `{namespace}.{env}.{domain}.{version}`, with the
/// settings `ampygen provision kafka` gives it, registry defaults applied
/// (docs/kafka.md §4).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct KafkaTopic {
    pub env: &'static str,
    pub domain: &'static str,
    pub version: &'static str,
    /// `ampy.prod.bars.v1`.
    pub name: &'static str,
    /// The tier whose settings apply (the domain's `qos`).
    pub tier: &'static str,
    /// Whether this topic holds dead letters.
    pub dead_letters: bool,
    /// Partition count: the domain's `partitions`, else the tier's. Keys
    /// are placed by `murmur2(key) % partitions`, so changing it moves keys.
    pub partitions: u32,
    /// The tier's `replicas`.
    pub replication_factor: u16,
    /// `retention.ms`; -1 keeps records forever.
    pub retention_ms: i64,
    /// `retention.bytes`, per partition as Kafka counts it; -1 no limit.
    pub retention_bytes: i64,
    /// `max.message.bytes`: the publisher's size bound too.
    pub max_message_bytes: u64,
    /// `min.insync.replicas`.
    pub min_insync_replicas: u32,
    /// `cleanup.policy`: `delete`.
    pub cleanup_policy: &'static str,
}

impl KafkaTopic {
    /// The topic-level configs, by their Kafka names, sorted by name.
    pub fn configs(&self) -> [(&'static str, String); 5] {
        [
            ("cleanup.policy", self.cleanup_policy.to_owned()),
            ("max.message.bytes", self.max_message_bytes.to_string()),
            ("min.insync.replicas", self.min_insync_replicas.to_string()),
            ("retention.bytes", self.retention_bytes.to_string()),
            ("retention.ms", self.retention_ms.to_string()),
        ]
    }
}

/// The registry's dlq domain: a dead letter of domain `d` in env `e` goes to
/// `{namespace}.{e}.{domain}.{version}.{subtopic}`, the token
/// `{source_domain}` of the subtopic replaced by `d`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct DlqRoute {
    pub domain: &'static str,
    pub version: &'static str,
    pub subtopic: &'static [&'static str],
}

impl DlqRoute {
    pub const PLACEHOLDER: &'static str = "{source_domain}";

    /// The subject parts after the namespace and env, `dlq.v1.bars`.
    pub fn suffix(&self, source_domain: &str) -> String {
        let mut s = format!("{}.{}", self.domain, self.version);
        for t in self.subtopic {
            s.push('.');
            s.push_str(if *t == Self::PLACEHOLDER { source_domain } else { t });
        }
        s
    }
}

/// Everything the registry says about the broker.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Layout {
    pub namespace: &'static str,
    pub tiers: &'static [Tier],
    /// Every env's streams.
    pub streams: &'static [Stream],
    /// Every env's Kafka topics, in the streams' order.
    pub kafka_topics: &'static [KafkaTopic],
    pub dlq: Option<DlqRoute>,
}

impl Layout {
    pub fn tier(&self, name: &str) -> Option<&'static Tier> {
        self.tiers.iter().find(|t| t.name == name)
    }

    /// The streams of one env, in registry order.
    pub fn streams_for<'a>(&self, env: &'a str) -> impl Iterator<Item = &'static Stream> + 'a {
        self.streams.iter().filter(move |s| s.env == env)
    }

    /// The Kafka topics of one env, in registry order.
    pub fn kafka_topics_for<'a>(&self, env: &'a str) -> impl Iterator<Item = &'static KafkaTopic> + 'a {
        self.kafka_topics.iter().filter(move |t| t.env == env)
    }

    /// The Kafka topic `{namespace}.{env}.{domain}.{version}`.
    pub fn kafka_topic(&self, env: &str, domain: &str, version: &str) -> Option<&'static KafkaTopic> {
        self.kafka_topics.iter().find(|t| t.env == env && t.domain == domain && t.version == version)
    }

    /// The stream holding `{namespace}.{env}.{domain}.{version}.>`.
    pub fn stream(&self, env: &str, domain: &str, version: &str) -> Option<&'static Stream> {
        self.streams.iter().find(|s| s.env == env && s.domain == domain && s.version == version)
    }
}
