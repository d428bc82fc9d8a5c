//! The transport model as Rust constants: `contract::transport::LAYOUT`
//! (an `ampy_bus::transport::Layout`), the header mapping and the metric
//! names, appended to the generated module tree.

use super::Model;
use crate::registry::Storage;
use crate::rust::code::{lit, Code};

/// The `transport` module, rooted next to `Env`.
pub fn render(model: &Model) -> String {
    let mut c = Code::new();
    c.doc(" The broker layout of the registry (docs/nats.md, docs/kafka.md): streams,");
    c.doc(" Kafka topics, QoS tier settings, the DLQ route, header names and metric");
    c.doc(" names. The `nats` and `kafka` features of `ampy-bus` provision and");
    c.doc(" configure from `LAYOUT`.");
    c.open("pub mod transport");
    // Import only what the constants below name: a registry without a DLQ
    // (or without tiers) must not leave an unused import behind.
    let mut names = Vec::new();
    if model.dlq.is_some() {
        names.push("DlqRoute");
    }
    names.push("KafkaTopic");
    names.push("Layout");
    let tiers = !model.tiers.is_empty();
    if tiers {
        names.push("Storage");
    }
    names.push("Stream");
    if tiers {
        names.push("Tier");
    }
    c.line(format!("use ::ampy_bus::transport::{{{}}};", names.join(", ")));
    c.open("pub const LAYOUT: Layout = Layout");
    c.line(format!("namespace: {},", lit(&model.namespace)));
    c.line("tiers: &[");
    for t in &model.tiers {
        let backoff: Vec<String> = t.nak_backoff_ms.iter().map(u64::to_string).collect();
        let storage = match t.storage {
            Storage::File => "File",
            Storage::Memory => "Memory",
        };
        let max_bytes = t.max_bytes.map_or_else(|| "None".to_owned(), |b| format!("Some({b})"));
        c.line(format!(
            "    Tier {{ name: {}, max_deliveries: {}, ack_wait_ms: {}, nak_backoff_ms: &[{}], duplicate_window_ms: {}, \
             max_age_ms: {}, max_bytes: {max_bytes}, storage: Storage::{storage}, replicas: {} }},",
            lit(&t.name),
            t.max_deliveries,
            t.ack_wait_ms,
            backoff.join(", "),
            t.duplicate_window_ms,
            t.max_age_ms,
            t.replicas
        ));
    }
    c.line("],");
    c.line("streams: &[");
    for s in &model.streams {
        let subjects: Vec<String> = s.subjects.iter().map(|x| lit(x)).collect();
        c.line(format!(
            "    Stream {{ env: {}, domain: {}, version: {}, name: {}, subjects: &[{}], tier: {}, dead_letters: {} }},",
            lit(&s.env),
            lit(&s.domain),
            lit(&s.version),
            lit(&s.name),
            subjects.join(", "),
            lit(&s.tier),
            s.dead_letters
        ));
    }
    c.line("],");
    c.line("kafka_topics: &[");
    for t in &model.kafka_topics {
        c.line(format!(
            "    KafkaTopic {{ env: {}, domain: {}, version: {}, name: {}, tier: {}, dead_letters: {}, partitions: {}, \
             replication_factor: {}, retention_ms: {}, retention_bytes: {}, max_message_bytes: {}, min_insync_replicas: {}, \
             cleanup_policy: {} }},",
            lit(&t.env),
            lit(&t.domain),
            lit(&t.version),
            lit(&t.name),
            lit(&t.tier),
            t.dead_letters,
            t.partitions,
            t.replication_factor,
            t.retention_ms,
            t.retention_bytes,
            t.max_message_bytes,
            t.min_insync_replicas,
            lit(&t.cleanup_policy)
        ));
    }
    c.line("],");
    match &model.dlq {
        Some(d) => {
            let sub: Vec<String> = d.subtopic.iter().map(|x| lit(x)).collect();
            c.line(format!(
                "dlq: Some(DlqRoute {{ domain: {}, version: {}, subtopic: &[{}] }}),",
                lit(&d.domain),
                lit(&d.version),
                sub.join(", ")
            ));
        }
        None => c.line("dlq: None,"),
    }
    c.close(";");
    c.doc(" The streams of `env`.");
    c.block(
        "pub fn streams(env: super::Env) -> impl Iterator<Item = &'static Stream>",
        "LAYOUT.streams_for(env.as_str())",
    );
    c.doc(" The Kafka topics of `env`.");
    c.block(
        "pub fn kafka_topics(env: super::Env) -> impl Iterator<Item = &'static KafkaTopic>",
        "LAYOUT.kafka_topics_for(env.as_str())",
    );
    c.doc(" Envelope header → NATS header, in wire order.");
    let pairs: Vec<String> =
        model.headers.iter().map(|h| format!("({}, {})", lit(&h.contract), lit(&h.nats))).collect();
    c.line(format!("pub const NATS_HEADERS: [(&str, &str); {}] = [{}];", pairs.len(), pairs.join(", ")));
    c.doc(" Metric names exposed by the runtimes (Prometheus form).");
    let names: Vec<String> = model.metrics.iter().map(|m| lit(&m.name)).collect();
    c.line(format!("pub const METRICS: [&str; {}] = [{}];", names.len(), names.join(", ")));
    c.close("");
    c.finish()
}
