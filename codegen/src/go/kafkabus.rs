//! The `kafkabus` package: the bus on Apache Kafka for the Go target, on
//! franz-go, generated only when the registry lists `kafka` in
//! `targets.go.transports` (docs/go.md, "Running on Kafka"; docs/kafka.md).
//!
//! Like `natsbus`, the runtime files are fixed text; `layout.go` and
//! `topics.go` print the transport model and the typed topic values, with
//! every literal and identifier computed here (Kafka topic names included).

use std::collections::BTreeMap;

use serde::Serialize;

use super::names::{lit, one_line};
use super::natsbus::{duration, float, topic_ident, typed_topics, Import, TopicView};
use super::Settings;
use crate::diag::{Diagnostic, Diagnostics};
use crate::transport::Model;
use crate::Project;

/// The package's directory and name inside the module.
pub const PACKAGE: &str = "kafkabus";

/// The go directive of a module that includes kafkabus: franz-go v1.22.3
/// declares `go 1.26.0`.
pub const GO_VERSION: &str = "1.26.0";

/// The modules the package imports, pinned: franz-go's client (`pkg/kgo`)
/// and its admin client (`pkg/kadm`, for partition counts, offsets by
/// time, end offsets and provisioning).
pub const DIRECT: &[(&str, &str)] =
    &[("github.com/twmb/franz-go", "v1.22.3"), ("github.com/twmb/franz-go/pkg/kadm", "v1.20.0")];

/// The `// indirect` requirements `go mod tidy` records for them.
pub const INDIRECT: &[(&str, &str)] = &[
    ("github.com/klauspost/compress", "v1.20.3"),
    ("github.com/pierrec/lz4/v4", "v4.1.33"),
    ("github.com/twmb/franz-go/pkg/kmsg", "v1.15.1"),
];

/// The go.sum lines franz-go and its dependencies add (exactly what `go mod
/// tidy` writes; tests/go/run.sh checks it with `go mod tidy -diff` under
/// GOPROXY=off).
pub const GO_SUM: &str = "\
github.com/klauspost/compress v1.20.3 h1:zWNoFqq/lSuYQRim3dUXlXeA0IqwuZGicdG5ZTfY5j4=
github.com/klauspost/compress v1.20.3/go.mod h1:LUdAzn7YLVvxLpc7y3V1m40wESHTgc1422pwwBSKYuI=
github.com/pierrec/lz4/v4 v4.1.33 h1:GjG1TJ1V4IzKP8L96muuuDNpTwd7D+l2ccXrjAbe014=
github.com/pierrec/lz4/v4 v4.1.33/go.mod h1:7SE9MC2STkNtL4PIwGhjmyVwvILaGI9/COYQNBhKM/c=
github.com/twmb/franz-go v1.22.3 h1:RHe35s34pKefMLyL+ZYJ6mQVtfFZz4zHDHVkTyACur0=
github.com/twmb/franz-go v1.22.3/go.mod h1:OhbFLkvp6GLcN5daC7I4Q2z0W/rFP16HG+gTbe9CDC4=
github.com/twmb/franz-go/pkg/kadm v1.20.0 h1:Gx9q6UwA1QP0SXHutlT3iNpGC3dfm5DY5XDdUYrC9M8=
github.com/twmb/franz-go/pkg/kadm v1.20.0/go.mod h1:84WtODAAftpVi1KQIr+rrIaYMjk3TXBmZKv1w1pnD8Y=
github.com/twmb/franz-go/pkg/kmsg v1.15.1 h1:3sj7ekbH33t73nsBcHS0wtp/PyMIViHLNItZrE8V9zM=
github.com/twmb/franz-go/pkg/kmsg v1.15.1/go.mod h1:sGkGxKexpRLBThFHJLjjywcyfkK09qB/g+X+wFWZQ/A=
";

/// The consumer lag gauge the Kafka transport adds to the shared metrics
/// (docs/kafka.md, "Metrics").
pub const LAG_METRIC: (&str, &str, &[&str]) = ("bus_consumer_lag", "gauge", &["topic", "consumer", "partition"]);

/// The runtime files, printed with the header and the core import path
/// only; `layout.go` and `topics.go` carry the registry (`provision.go`
/// reads the topics' settings from `layout.go`).
pub const TEMPLATES: &[(&str, &str)] = &[
    ("kafkabus/doc.go", include_str!("../../templates/go/kafkabus/doc.go.hbs")),
    ("kafkabus/errors.go", include_str!("../../templates/go/kafkabus/errors.go.hbs")),
    ("kafkabus/bus.go", include_str!("../../templates/go/kafkabus/bus.go.hbs")),
    ("kafkabus/partition.go", include_str!("../../templates/go/kafkabus/partition.go.hbs")),
    ("kafkabus/publish.go", include_str!("../../templates/go/kafkabus/publish.go.hbs")),
    ("kafkabus/consume.go", include_str!("../../templates/go/kafkabus/consume.go.hbs")),
    ("kafkabus/group.go", include_str!("../../templates/go/kafkabus/group.go.hbs")),
    ("kafkabus/replay.go", include_str!("../../templates/go/kafkabus/replay.go.hbs")),
    ("kafkabus/metrics.go", include_str!("../../templates/go/kafkabus/metrics.go.hbs")),
    ("kafkabus/provision.go", include_str!("../../templates/go/kafkabus/provision.go.hbs")),
    ("kafkabus/layout.go", include_str!("../../templates/go/kafkabus/layout.go.hbs")),
    ("kafkabus/topics.go", include_str!("../../templates/go/kafkabus/topics.go.hbs")),
];

/// Package-level names of the runtime files (and their imports), which a
/// payload import alias or a topic value must not take. A unit test keeps
/// this list in step with the templates.
pub const RUNTIME_NAMES: &[&str] = &[
    // imports
    "core",
    "context",
    "errors",
    "fmt",
    "http",
    "kadm",
    "kerr",
    "kgo",
    "proto",
    "sort",
    "strconv",
    "strings",
    "sync",
    "atomic",
    "time",
    // exported
    "Bus",
    "Connect",
    "Consumer",
    "ConsumerOptions",
    "DefaultMaxMessageBytes",
    "Delivery",
    "DeliveryInfo",
    "Error",
    "ErrorKind",
    "Failure",
    "Group",
    "GroupOptions",
    "GroupRoute",
    "Handler",
    "HandlerError",
    "JoinWait",
    "KafkaTopic",
    "KafkaTopics",
    "KeySubtopic",
    "KindConfig",
    "KindConnect",
    "KindConsume",
    "KindDLQ",
    "KindEnvelope",
    "KindNoTopic",
    "KindOf",
    "KindProvision",
    "KindPublish",
    "KindTimeout",
    "KindTooLarge",
    "Metrics",
    "Murmur2",
    "NewConsumer",
    "NewGroup",
    "NewMetrics",
    "NewPublisher",
    "NewReplay",
    "NoObserver",
    "Observer",
    "PartitionFor",
    "Permanent",
    "Published",
    "Publisher",
    "PublisherOptions",
    "RecordSize",
    "Replay",
    "Retry",
    "Route",
    "RouteOptions",
    "RouteWith",
    "RunStats",
    "Tier",
    "Tiers",
    "ToPositive",
    "Topic",
    // exported by provision.go
    "ActionCreate",
    "ActionUnchanged",
    "ActionUpdate",
    "Change",
    "Effect",
    "EffectImpossible",
    "EffectLosesData",
    "EffectMovesKeys",
    "EffectNone",
    "NewTopicPlan",
    "Outcome",
    "OutcomeApplied",
    "OutcomeNothingToDo",
    "OutcomePlanned",
    "OutcomeRefused",
    "Plans",
    "Provision",
    "ProvisionOptions",
    "ProvisionReport",
    "TopicAction",
    "TopicPlan",
    "TopicReport",
    // unexported
    "counterKey",
    "deadLetterFunc",
    "dispatch",
    "dlqSubjectFunc",
    "envelopeError",
    "escapeLabel",
    "formatFloat",
    "fromKafka",
    "histogram",
    "javaPartitioner",
    "lagKey",
    "member",
    "newMember",
    "latencyBucketsMs",
    "layoutTiers",
    "layoutTopics",
    "metricDefs",
    "newError",
    "newProcessor",
    "outRecord",
    "partitionCount",
    "placement",
    "processor",
    "produceError",
    "route",
    "sortedKeys",
    "subjectOf",
    "indexDot",
    "subtopicMatches",
    "topicPartition",
    "toKafka",
    // unexported, provision.go
    "createTopic",
    "diffTopic",
    "existingTopic",
    "existingTopics",
    "fresh",
    "hint",
    "retentionShrinks",
    "settle",
    "sortedConfigKeys",
    "updateTopic",
];

#[derive(Serialize)]
struct Common {
    header: String,
    core_path: String,
}

#[derive(Serialize)]
struct Layout {
    header: String,
    core_path: String,
    tiers: Vec<String>,
    kafka_topics: Vec<String>,
    metrics: Vec<String>,
    buckets: String,
    dlq: Option<DlqView>,
}

#[derive(Serialize)]
struct DlqView {
    ident: String,
    topic_doc: String,
}

#[derive(Serialize)]
struct Topics {
    header: String,
    core_path: String,
    imports: Vec<Import>,
    topics: Vec<TopicView>,
}

/// Whether the registry asks for the Go Kafka package.
pub fn wanted(model: &Model) -> bool {
    model.go_transports.contains(&crate::registry::Transport::Kafka)
}

/// Renders the package into `kafkabus/…` files.
pub fn render(
    project: &Project,
    settings: &Settings,
    model: &Model,
    aliases: &BTreeMap<String, String>,
    packages: &BTreeMap<String, (String, String)>,
    header: &str,
) -> Result<crate::generate::Files, Diagnostics> {
    let reg = &project.registry;
    let own_path = format!("{}/{PACKAGE}", settings.module);
    if settings.types == own_path || settings.types.starts_with(&format!("{own_path}/")) {
        let mut d = Diagnostic::error(
            "generate::go_types",
            format!("`targets.go.types` (`{}`) is inside `{own_path}`, the Kafka package's directory", settings.types),
        )
        .help(format!(
            "with `transports: [kafka]` the module holds `{PACKAGE}/`; put the payload types elsewhere, e.g. `{}/pb`",
            settings.module
        ));
        if let Some(t) = reg.targets.go.as_ref().and_then(|g| g.types.as_ref()) {
            d = d.at(&reg.source, t.span.clone());
        }
        return Err(d.into());
    }
    let (imports, topics) = typed_topics(project, aliases, packages, RUNTIME_NAMES, "Kafka")?;
    let mut diags = Diagnostics::new();
    let core_path = lit(&settings.module);
    let tiers = model
        .tiers
        .iter()
        .map(|t| {
            format!(
                "{{Name: {}, MaxDeliveries: {}, Backoff: []time.Duration{{{}}}}},",
                lit(&t.name),
                t.max_deliveries,
                t.nak_backoff_ms.iter().map(|ms| duration(*ms)).collect::<Vec<_>>().join(", ")
            )
        })
        .collect();
    // One Kafka topic per env, domain and major version, with the settings
    // provisioning gives it (the same values as the Rust layout's
    // `KafkaTopic`, configs by their Kafka names in `configs()` order).
    let kafka_topics = model
        .kafka_topics
        .iter()
        .map(|t| {
            let configs: Vec<String> = t.configs().iter().map(|(k, v)| format!("{}: {}", lit(k), lit(v))).collect();
            format!(
                "{{Env: {}, Domain: {}, Version: {}, Name: {}, Tier: {}, DeadLetters: {}, Partitions: {}, \
                 ReplicationFactor: {}, Configs: map[string]string{{{}}}}},",
                lit(&t.env),
                lit(&t.domain),
                lit(&t.version),
                lit(&t.name),
                lit(&t.tier),
                t.dead_letters,
                i32::try_from(t.partitions).unwrap_or(i32::MAX),
                i16::try_from(t.replication_factor).unwrap_or(i16::MAX),
                configs.join(", ")
            )
        })
        .collect();
    let mut metrics: Vec<String> = model
        .metrics
        .iter()
        .map(|m| (m.name.as_str(), m.kind.as_str(), m.labels.iter().map(String::as_str).collect::<Vec<_>>()))
        .chain(std::iter::once((LAG_METRIC.0, LAG_METRIC.1, LAG_METRIC.2.to_vec())))
        .map(|(name, kind, labels)| {
            format!(
                "{{{}, {}, []string{{{}}}}},",
                lit(name),
                lit(kind),
                labels.iter().map(|l| lit(l)).collect::<Vec<_>>().join(", ")
            )
        })
        .collect();
    metrics.dedup();
    let dlq = model.dlq.as_ref().and_then(|route| {
        let domain = reg.domains.iter().find(|d| d.name.value == route.domain)?;
        let version = domain.versions.iter().find(|v| v.name.value == route.version)?;
        let topic = version.topics.first()?;
        Some(DlqView {
            ident: topic_ident(&domain.name.value, &version.name.value, &topic.name.value),
            topic_doc: format!("`{}.{}.{}`", domain.name.value, version.name.value, one_line(&topic.name.value)),
        })
    });
    let layout = Layout {
        header: header.to_owned(),
        core_path: core_path.clone(),
        tiers,
        kafka_topics,
        metrics,
        buckets: format!(
            "[...]float64{{{}}}",
            model.latency_buckets_ms.iter().map(|b| float(*b)).collect::<Vec<_>>().join(", ")
        ),
        dlq,
    };
    let topics = Topics { header: header.to_owned(), core_path: core_path.clone(), imports, topics };
    let common = Common { header: header.to_owned(), core_path };

    let engine = crate::render::Engine::new(TEMPLATES)?;
    let mut files = crate::generate::Files::new();
    for (name, _) in TEMPLATES {
        let text = match *name {
            "kafkabus/layout.go" => engine.render(name, &layout),
            "kafkabus/topics.go" => engine.render(name, &topics),
            _ => engine.render(name, &common),
        };
        match text {
            Ok(t) => {
                files.insert((*name).to_owned(), t);
            }
            Err(d) => diags.push(d),
        }
    }
    if diags.has_errors() {
        return Err(diags);
    }
    Ok(files)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every package-level name the runtime templates declare is in
    /// RUNTIME_NAMES, so a payload alias or topic value cannot shadow one.
    #[test]
    fn runtime_names_cover_the_templates() {
        let missing = super::super::natsbus::undeclared_names(TEMPLATES, RUNTIME_NAMES);
        assert!(missing.is_empty(), "add to kafkabus::RUNTIME_NAMES: {missing:?}");
    }
}
