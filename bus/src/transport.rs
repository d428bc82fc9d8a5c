//! The broker layout a registry implies, as constants generated code
//! fills in (`contract::transport::LAYOUT`): streams, QoS tier settings
//! and the DLQ route. Plain data with no client library behind it, so a
//! service without a transport feature pays nothing; the `nats` feature
//! provisions and configures from it. Normative text: docs/nats.md.

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

    /// The stream holding `{namespace}.{env}.{domain}.{version}.>`.
    pub fn stream(&self, env: &str, domain: &str, version: &str) -> Option<&'static Stream> {
        self.streams.iter().find(|s| s.env == env && s.domain == domain && s.version == version)
    }
}
