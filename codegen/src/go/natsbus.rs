//! The `natsbus` package: the bus on NATS JetStream for the Go target,
//! generated only when the registry lists `nats` in
//! `targets.go.transports` (docs/go.md, "Running on NATS").
//!
//! The runtime files are fixed text; `layout.go` and `topics.go` print the
//! transport model (`crate::transport::Model`) and the typed topic values,
//! with every literal, import alias and identifier computed here. The
//! package imports the core package as `core`, so nothing generated may
//! take that name or any other package-level name of the runtime.

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;

use super::keys::Types;
use super::names::{exported, lit};
use super::Settings;
use crate::diag::{Diagnostic, Diagnostics};
use crate::registry::{DomainKind, Storage};
use crate::transport::Model;
use crate::Project;

/// The package's directory and name inside the module.
pub const PACKAGE: &str = "natsbus";

/// nats.go, pinned: the release the runtime is written and tested against.
pub const NATS_GO_VERSION: &str = "v1.56.0";

/// The go directive of a module that includes natsbus: nats.go v1.56.0
/// (and its golang.org/x dependencies) declare `go 1.26.0`, and `go mod
/// tidy` raises the module to it.
pub const GO_VERSION: &str = "1.26.0";

/// The `// indirect` requirements `go mod tidy` records for nats.go at
/// [`NATS_GO_VERSION`], in go.mod order.
pub const INDIRECT: &[(&str, &str)] = &[
    ("github.com/klauspost/compress", "v1.20.0"),
    ("github.com/nats-io/nkeys", "v0.4.16"),
    ("github.com/nats-io/nuid", "v1.0.1"),
    ("golang.org/x/crypto", "v0.57.0"),
    ("golang.org/x/sys", "v0.48.0"),
];

/// The go.sum lines nats.go and its dependencies add to the core module's
/// (exactly what `go mod tidy` writes; tests/go/run.sh checks it with
/// `go mod tidy -diff` under GOPROXY=off).
pub const GO_SUM: &str = "\
github.com/klauspost/compress v1.20.0 h1:a3C1ke2ohxFymNlb2HWAHjDeKCI90scRskErZkR0ezA=
github.com/klauspost/compress v1.20.0/go.mod h1:LUdAzn7YLVvxLpc7y3V1m40wESHTgc1422pwwBSKYuI=
github.com/nats-io/nats.go v1.56.0 h1:z1p2yNGsIEoz1j6QhRMmZi4WEiaPBXBeg6qMIM27wzY=
github.com/nats-io/nats.go v1.56.0/go.mod h1:y+DZoD1oBOYfZTU681eTUiUjI0vbqYGixNVFHcjHJ0k=
github.com/nats-io/nkeys v0.4.16 h1:rd5oAuLOb8mnAycB0xleuEBNS1pVVnN0fv/FF34Eypg=
github.com/nats-io/nkeys v0.4.16/go.mod h1:llLgWoI0o4z/Q57q2R1kHfmocyhGV6VG/U18Glg1Afs=
github.com/nats-io/nuid v1.0.1 h1:5iA8DT8V7q8WK2EScv2padNa/rTESc1KdnPw4TC2paw=
github.com/nats-io/nuid v1.0.1/go.mod h1:19wcPz3Ph3q0Jbyiqsd0kePYG7A95tJPxeL+1OSON2c=
golang.org/x/crypto v0.57.0 h1:3ZVCjf8Ggz7zneR/EHRVx68Ctf+2pmIMP2UFhh9cC6M=
golang.org/x/crypto v0.57.0/go.mod h1:Fdz0i5U6CoizGwLda9DttjSk6qlZo25zYNtR+ycvuZA=
golang.org/x/sys v0.48.0 h1:bbX/i/6MgT9BVLM9RT1thmxL04yeTAhbEz4SyadbXoo=
golang.org/x/sys v0.48.0/go.mod h1:hNLxWAXmnKAxqDtdwIYC4bM9oQPEecfsnNMuSxOs3og=
";

/// The runtime files, printed with the header and the core import path
/// only; `layout.go` and `topics.go` carry the registry.
pub const TEMPLATES: &[(&str, &str)] = &[
    ("natsbus/doc.go", include_str!("../../templates/go/natsbus/doc.go.hbs")),
    ("natsbus/errors.go", include_str!("../../templates/go/natsbus/errors.go.hbs")),
    ("natsbus/bus.go", include_str!("../../templates/go/natsbus/bus.go.hbs")),
    ("natsbus/headers.go", include_str!("../../templates/go/natsbus/headers.go.hbs")),
    ("natsbus/publish.go", include_str!("../../templates/go/natsbus/publish.go.hbs")),
    ("natsbus/consume.go", include_str!("../../templates/go/natsbus/consume.go.hbs")),
    ("natsbus/provision.go", include_str!("../../templates/go/natsbus/provision.go.hbs")),
    ("natsbus/metrics.go", include_str!("../../templates/go/natsbus/metrics.go.hbs")),
    ("natsbus/layout.go", include_str!("../../templates/go/natsbus/layout.go.hbs")),
    ("natsbus/topics.go", include_str!("../../templates/go/natsbus/topics.go.hbs")),
];

/// Package-level names of the runtime files (and their imports), which a
/// payload import alias or a topic value must not take. A unit test keeps
/// this list in step with the templates.
pub const RUNTIME_NAMES: &[&str] = &[
    // imports
    "core",
    "context",
    "rand",
    "binary",
    "errors",
    "fmt",
    "http",
    "nats",
    "jetstream",
    "proto",
    "slices",
    "sort",
    "strconv",
    "strings",
    "sync",
    "time",
    // exported
    "ActionCreate",
    "ActionRecreate",
    "ActionUnchanged",
    "ActionUpdate",
    "Bus",
    "Change",
    "Connect",
    "Consumer",
    "ConsumerOptions",
    "ContractHeader",
    "DefaultRetryPolicy",
    "Delivery",
    "DeliveryInfo",
    "Error",
    "ErrorKind",
    "Handler",
    "HandlerError",
    "IsPublishDirective",
    "KindConfig",
    "KindConnect",
    "KindConsume",
    "KindDLQ",
    "KindEnvelope",
    "KindHeadersTooLarge",
    "KindNoStream",
    "KindOf",
    "KindProvision",
    "KindPublish",
    "KindTimeout",
    "KindTooLarge",
    "MaxHeaderBytes",
    "Metrics",
    "NATSHeader",
    "New",
    "NewConsumer",
    "NewMetrics",
    "NewPublisher",
    "NewReplay",
    "NewStreamPlan",
    "NoObserver",
    "Observer",
    "Outcome",
    "OutcomeApplied",
    "OutcomeNothingToDo",
    "OutcomePlanned",
    "OutcomeRefused",
    "Permanent",
    "Plans",
    "Provision",
    "ProvisionOptions",
    "ProvisionReport",
    "Published",
    "Publisher",
    "PublisherOptions",
    "Retry",
    "RetryPolicy",
    "RunStats",
    "Start",
    "StartAll",
    "StartNew",
    "StartSequence",
    "StartTime",
    "Stream",
    "StreamAction",
    "StreamPlan",
    "StreamReport",
    "Streams",
    "Tier",
    "Tiers",
    "Topic",
    "WireLen",
    // unexported
    "ackFields",
    "ackMetadata",
    "appendFromNATS",
    "bytesText",
    "counterKey",
    "deadLetterFunc",
    "diff",
    "discardName",
    "dlqSubjectFunc",
    "durationText",
    "envelopeError",
    "escapeLabel",
    "forDeadLetter",
    "formatFloat",
    "fromNATS",
    "headerProblem",
    "histogram",
    "idleWait",
    "isNoResponders",
    "isTimeout",
    "latencyBucketsMs",
    "layoutStreams",
    "layoutTiers",
    "merge",
    "metricDefs",
    "natsHeaders",
    "natsIndex",
    "newConsumer",
    "newError",
    "newIdleWait",
    "publishError",
    "retentionName",
    "sortedKeys",
    "sortedValues",
    "storageName",
    "tierNamed",
    "toNATS",
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
    tiers: Vec<TierView>,
    streams: Vec<String>,
    headers: Vec<String>,
    metrics: Vec<String>,
    buckets: String,
    dlq: Option<DlqView>,
}

#[derive(Serialize)]
struct TierView {
    name: String,
    max_deliveries: u64,
    ack_wait: String,
    nak_backoff: String,
    duplicate_window: String,
    max_age: String,
    max_bytes: String,
    storage: &'static str,
    replicas: u64,
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

#[derive(Serialize)]
pub(super) struct Import {
    alias: String,
    path: String,
}

#[derive(Serialize)]
pub(super) struct TopicView {
    ident: String,
    payload: String,
    doc: Vec<String>,
}

/// Whether the registry asks for the Go NATS package.
pub fn wanted(model: &Model) -> bool {
    model.go_transports.contains(&crate::registry::Transport::Nats)
}

/// A duration in milliseconds as a Go `time.Duration` expression in its
/// largest exact unit: `30 * time.Second`, `time.Hour`, `0`.
pub(super) fn duration(ms: u64) -> String {
    if ms == 0 {
        return "0".to_owned();
    }
    for (unit, size) in [("time.Hour", 3_600_000), ("time.Minute", 60_000), ("time.Second", 1_000)] {
        if ms.is_multiple_of(size) {
            return match ms / size {
                1 => unit.to_owned(),
                n => format!("{n} * {unit}"),
            };
        }
    }
    format!("{ms} * time.Millisecond")
}

/// Go-readable text for a float literal in a `[...]float64`: `1`, `2.5`.
pub(super) fn float(f: f64) -> String {
    format!("{f}")
}

/// The Go identifier of a topic, as the core package names it.
pub fn topic_ident(domain: &str, version: &str, topic: &str) -> String {
    format!("{}{}{}", exported(domain), exported(version), exported(topic))
}

/// The payload import aliases and typed topic values of a transport
/// package: the core package's aliases made unique against the runtime's
/// package-level names `runtime_names`, one value per payload topic.
pub(super) fn typed_topics(
    project: &Project,
    aliases: &BTreeMap<String, String>,
    packages: &BTreeMap<String, (String, String)>,
    runtime_names: &[&str],
    transport: &str,
) -> Result<(Vec<Import>, Vec<TopicView>), Diagnostics> {
    let reg = &project.registry;
    // Payload import aliases: the core package's, made unique against the
    // runtime's package-level names.
    let mut own: BTreeMap<String, String> = BTreeMap::new();
    let mut taken: BTreeSet<String> = runtime_names.iter().map(|s| (*s).to_owned()).collect();
    for (package, alias) in aliases {
        let mut a = alias.clone();
        let mut n = 2;
        while taken.contains(&a) {
            a = format!("{alias}{n}");
            n += 1;
        }
        taken.insert(a.clone());
        own.insert(package.clone(), a);
    }
    let mut types = Types::new(&own);
    let mut topics = Vec::new();
    let mut diags = Diagnostics::new();
    for t in reg.topics() {
        if t.domain.kind != DomainKind::Payload {
            continue;
        }
        let Some(resolved) = project.resolved.get(&t.id()) else { continue };
        let ident = topic_ident(&t.domain.name.value, &t.version.name.value, &t.topic.name.value);
        if runtime_names.contains(&ident.as_str()) {
            diags.push(
                Diagnostic::error(
                    "generate::go_name",
                    format!(
                        "topic `{}` becomes the Go identifier `{ident}`, which is already a name of the {transport} package",
                        t.id()
                    ),
                )
                .at(&reg.source, t.topic.name.span.clone())
                .help("rename the topic, its domain or version"),
            );
            continue;
        }
        let payload = types.message(&resolved.message).map_err(|m| {
            Diagnostics::from(
                Diagnostic::error("generate::go_internal", format!("topic `{}`: {m}", t.id()))
                    .at(&reg.source, t.topic.name.span.clone()),
            )
        })?;
        topics.push(TopicView {
            doc: vec![format!("// {ident} is the `{}` topic with its payload type.", t.id())],
            ident,
            payload,
        });
    }
    if diags.has_errors() {
        return Err(diags);
    }
    let package_of: BTreeMap<&str, &str> = own.iter().map(|(p, a)| (a.as_str(), p.as_str())).collect();
    let mut imports: Vec<Import> = types
        .used
        .iter()
        .filter_map(|alias| {
            let package = *package_of.get(alias.as_str())?;
            Some(Import { alias: alias.clone(), path: lit(&packages.get(package)?.0) })
        })
        .collect();
    imports.sort_by(|a, b| a.path.cmp(&b.path));
    Ok((imports, topics))
}

/// Renders the package into `natsbus/…` files.
pub fn render(
    project: &Project,
    settings: &Settings,
    model: &Model,
    aliases: &BTreeMap<String, String>,
    packages: &BTreeMap<String, (String, String)>,
    header: &str,
) -> Result<crate::generate::Files, Diagnostics> {
    let reg = &project.registry;
    let nats_path = format!("{}/{PACKAGE}", settings.module);
    if settings.types == nats_path || settings.types.starts_with(&format!("{nats_path}/")) {
        let mut d = Diagnostic::error(
            "generate::go_types",
            format!("`targets.go.types` (`{}`) is inside `{nats_path}`, the NATS package's directory", settings.types),
        )
        .help(format!(
            "with `transports: [nats]` the module holds `{PACKAGE}/`; put the payload types elsewhere, e.g. `{}/pb`",
            settings.module
        ));
        if let Some(t) = reg.targets.go.as_ref().and_then(|g| g.types.as_ref()) {
            d = d.at(&reg.source, t.span.clone());
        }
        return Err(d.into());
    }
    let (imports, topics) = typed_topics(project, aliases, packages, RUNTIME_NAMES, "NATS")?;
    let mut diags = Diagnostics::new();

    let core_path = lit(&settings.module);
    let tiers = model
        .tiers
        .iter()
        .map(|t| TierView {
            name: lit(&t.name),
            max_deliveries: t.max_deliveries,
            ack_wait: duration(t.ack_wait_ms),
            nak_backoff: format!(
                "[]time.Duration{{{}}}",
                t.nak_backoff_ms.iter().map(|ms| duration(*ms)).collect::<Vec<_>>().join(", ")
            ),
            duplicate_window: duration(t.duplicate_window_ms),
            max_age: duration(t.max_age_ms),
            max_bytes: t.max_bytes.map_or_else(|| "-1".to_owned(), |b| b.to_string()),
            storage: match t.storage {
                Storage::File => "FileStorage",
                Storage::Memory => "MemoryStorage",
            },
            replicas: t.replicas,
        })
        .collect();
    let streams = model
        .streams
        .iter()
        .map(|s| {
            format!(
                "{{Env: {}, Domain: {}, Version: {}, Name: {}, Subjects: []string{{{}}}, Tier: {}, DeadLetters: {}}},",
                lit(&s.env),
                lit(&s.domain),
                lit(&s.version),
                lit(&s.name),
                s.subjects.iter().map(|x| lit(x)).collect::<Vec<_>>().join(", "),
                lit(&s.tier),
                s.dead_letters
            )
        })
        .collect();
    let dlq = model.dlq.as_ref().and_then(|route| {
        let domain = reg.domains.iter().find(|d| d.name.value == route.domain)?;
        let version = domain.versions.iter().find(|v| v.name.value == route.version)?;
        let topic = version.topics.first()?;
        Some(DlqView {
            ident: topic_ident(&domain.name.value, &version.name.value, &topic.name.value),
            topic_doc: format!(
                "`{}.{}.{}`",
                domain.name.value,
                version.name.value,
                crate::go::names::one_line(&topic.name.value)
            ),
        })
    });
    let layout = Layout {
        header: header.to_owned(),
        core_path: core_path.clone(),
        tiers,
        streams,
        headers: model.headers.iter().map(|h| format!("{{{}, {}}},", lit(&h.contract), lit(&h.nats))).collect(),
        metrics: model
            .metrics
            .iter()
            .map(|m| {
                format!(
                    "{{{}, {}, []string{{{}}}}},",
                    lit(&m.name),
                    lit(&m.kind),
                    m.labels.iter().map(|l| lit(l)).collect::<Vec<_>>().join(", ")
                )
            })
            .collect(),
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
            "natsbus/layout.go" => engine.render(name, &layout),
            "natsbus/topics.go" => engine.render(name, &topics),
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

/// The package-level names declared in `templates` that `names` lacks
/// (`file: name`), for the unit tests that keep each transport's
/// RUNTIME_NAMES in step with its templates.
#[cfg(test)]
pub(super) fn undeclared_names(templates: &[(&str, &str)], names: &[&str]) -> Vec<String> {
    let mut missing = Vec::new();
    for (name, text) in templates {
        let mut in_block = false;
        for line in text.lines() {
            let decl = if in_block {
                if line == ")" {
                    in_block = false;
                    continue;
                }
                line.strip_prefix('\t').filter(|l| !l.starts_with(['\t', '/']))
            } else if let Some(rest) = ["func ", "type ", "var ", "const "].iter().find_map(|k| line.strip_prefix(k)) {
                if rest == "(" {
                    in_block = true;
                    continue;
                }
                // Methods (`func (r T) Name(`) are not package-level.
                (!rest.starts_with('(')).then_some(rest)
            } else {
                None
            };
            let Some(decl) = decl else { continue };
            let ident: String = decl.chars().take_while(|c| c.is_alphanumeric() || *c == '_').collect();
            if !ident.is_empty() && !ident.starts_with("{{") && !names.contains(&ident.as_str()) {
                missing.push(format!("{name}: {ident}"));
            }
        }
    }
    missing
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_take_their_largest_exact_unit() {
        assert_eq!(duration(0), "0");
        assert_eq!(duration(250), "250 * time.Millisecond");
        assert_eq!(duration(1_000), "time.Second");
        assert_eq!(duration(30_000), "30 * time.Second");
        assert_eq!(duration(120_000), "2 * time.Minute");
        assert_eq!(duration(720 * 3_600_000), "720 * time.Hour");
        assert_eq!(duration(1_500), "1500 * time.Millisecond");
    }

    /// Every package-level name the runtime templates declare is in
    /// RUNTIME_NAMES, so a payload alias or topic value cannot shadow one.
    #[test]
    fn runtime_names_cover_the_templates() {
        let missing = undeclared_names(TEMPLATES, RUNTIME_NAMES);
        assert!(missing.is_empty(), "add to natsbus::RUNTIME_NAMES: {missing:?}");
    }
}
