//! The optional `kafka` subpackage of the Python target (`targets.python.
//! transports: [kafka]`): a typed Kafka transport on confluent-kafka
//! (docs/kafka.md). Only `layout.py` depends on the registry; it prints the
//! transport model as Python literals computed here (the NATS layout's view
//! plus every Kafka topic with the settings provisioning gives it, and the
//! consumer-lag gauge). The
//! other modules are fixed text. Neither the core package nor the `nats`
//! subpackage imports this one, so a service without Kafka never needs
//! confluent-kafka.

use serde::Serialize;

use super::names::py_str;
use super::nats::{layout_view, LayoutView};
use crate::diag::Diagnostics;
use crate::generate::Files;
use crate::registry::Transport;
use crate::render::Engine;
use crate::transport::Model;

pub const TEMPLATES: &[(&str, &str)] = &[
    ("kafka/init", include_str!("../../templates/python/kafka/__init__.py.hbs")),
    ("kafka/layout", include_str!("../../templates/python/kafka/layout.py.hbs")),
    ("kafka/errors", include_str!("../../templates/python/kafka/errors.py.hbs")),
    ("kafka/partition", include_str!("../../templates/python/kafka/partition.py.hbs")),
    ("kafka/client", include_str!("../../templates/python/kafka/client.py.hbs")),
    ("kafka/wire", include_str!("../../templates/python/kafka/wire.py.hbs")),
    ("kafka/bus", include_str!("../../templates/python/kafka/bus.py.hbs")),
    ("kafka/publish", include_str!("../../templates/python/kafka/publish.py.hbs")),
    ("kafka/handling", include_str!("../../templates/python/kafka/handling.py.hbs")),
    ("kafka/member", include_str!("../../templates/python/kafka/member.py.hbs")),
    ("kafka/consume", include_str!("../../templates/python/kafka/consume.py.hbs")),
    ("kafka/group", include_str!("../../templates/python/kafka/group.py.hbs")),
    ("kafka/metrics", include_str!("../../templates/python/kafka/metrics.py.hbs")),
    ("kafka/provision", include_str!("../../templates/python/kafka/provision.py.hbs")),
];

/// The subpackage's files by name and template; all but `layout` are fixed.
const FILES: &[(&str, &str)] = &[
    ("__init__.py", "kafka/init"),
    ("layout.py", "kafka/layout"),
    ("errors.py", "kafka/errors"),
    ("partition.py", "kafka/partition"),
    ("client.py", "kafka/client"),
    ("wire.py", "kafka/wire"),
    ("bus.py", "kafka/bus"),
    ("publish.py", "kafka/publish"),
    ("handling.py", "kafka/handling"),
    ("member.py", "kafka/member"),
    ("consume.py", "kafka/consume"),
    ("group.py", "kafka/group"),
    ("metrics.py", "kafka/metrics"),
    ("provision.py", "kafka/provision"),
];

/// The gauge the Kafka transport adds to the NATS metrics (docs/kafka.md,
/// "Metrics"): high watermark minus the next offset to consume.
const LAG_METRIC: (&str, &str, [&str; 3]) = ("bus_consumer_lag", "gauge", ["topic", "consumer", "partition"]);

#[derive(Serialize)]
struct KafkaView<'a> {
    #[serde(flatten)]
    base: LayoutView<'a>,
    /// One per Kafka topic of the model (the streams' order).
    topics: Vec<TopicView>,
    /// The lag gauge's `METRICS` entry.
    lag_metric: String,
    /// Envelope header names in wire order: the record header names.
    header_names: Vec<String>,
}

/// Every value is Python source.
#[derive(Serialize)]
struct TopicView {
    env: String,
    domain: String,
    version: String,
    name: String,
    tier: String,
    dead_letters: &'static str,
    partitions: String,
    replication_factor: String,
    /// `KafkaTopic::configs`, one `("name", "value"),` line each, sorted.
    configs: Vec<String>,
}

/// Whether the registry asks for the Kafka transport in Python: whether
/// [`generate`] writes anything, and so whether its templates are compiled.
pub fn enabled(model: &Model) -> bool {
    model.python_transports.contains(&Transport::Kafka)
}

/// Adds `{dir}/kafka/*.py` when the registry asks for the Kafka transport.
pub fn generate(
    model: &Model,
    engine: &Engine,
    header: &str,
    package: &str,
    dir: &str,
    files: &mut Files,
) -> Result<(), Diagnostics> {
    if !enabled(model) {
        return Ok(());
    }
    let topics = model
        .kafka_topics
        .iter()
        .map(|t| TopicView {
            env: py_str(&t.env),
            domain: py_str(&t.domain),
            version: py_str(&t.version),
            name: py_str(&t.name),
            tier: py_str(&t.tier),
            dead_letters: if t.dead_letters { "True" } else { "False" },
            partitions: t.partitions.to_string(),
            replication_factor: t.replication_factor.to_string(),
            configs: t.configs().iter().map(|(k, v)| format!("({}, {}),", py_str(k), py_str(v))).collect(),
        })
        .collect();
    let (name, kind, labels) = LAG_METRIC;
    let labels: Vec<String> = labels.iter().map(|l| py_str(l)).collect();
    let lag_metric = format!("({}, {}, ({})),", py_str(name), py_str(kind), labels.join(", "));
    let header_names = model.headers.iter().map(|h| format!("{},", py_str(&h.contract))).collect();
    let view = KafkaView { base: layout_view(model, header, package), topics, lag_metric, header_names };
    let view = Engine::context(&view)?;
    for (file, template) in FILES {
        files.insert(format!("{dir}/kafka/{file}"), engine.render_context(template, &view)?);
    }
    Ok(())
}
