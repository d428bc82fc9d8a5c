//! The optional `nats` subpackage of the Python target (`targets.python.
//! transports: [nats]`): a typed JetStream transport on nats-py. Only
//! `layout.py` depends on the registry; it prints the transport model
//! (`crate::transport::Model`) as Python literals computed here. The other
//! modules are fixed text. The core package never imports this one, so a
//! service without NATS never needs nats-py.

use serde::Serialize;

use super::names::py_str;
use crate::diag::Diagnostics;
use crate::generate::Files;
use crate::registry::Transport;
use crate::render::Engine;
use crate::transport::Model;

pub const TEMPLATES: &[(&str, &str)] = &[
    ("nats/init", include_str!("../../templates/python/nats/__init__.py.hbs")),
    ("nats/layout", include_str!("../../templates/python/nats/layout.py.hbs")),
    ("nats/errors", include_str!("../../templates/python/nats/errors.py.hbs")),
    ("nats/wire", include_str!("../../templates/python/nats/wire.py.hbs")),
    ("nats/retry", include_str!("../../templates/python/nats/retry.py.hbs")),
    ("nats/bus", include_str!("../../templates/python/nats/bus.py.hbs")),
    ("nats/publish", include_str!("../../templates/python/nats/publish.py.hbs")),
    ("nats/consume", include_str!("../../templates/python/nats/consume.py.hbs")),
    ("nats/provision", include_str!("../../templates/python/nats/provision.py.hbs")),
    ("nats/metrics", include_str!("../../templates/python/nats/metrics.py.hbs")),
];

/// The subpackage's files by name and template; all but `layout` are fixed.
const FILES: &[(&str, &str)] = &[
    ("__init__.py", "nats/init"),
    ("layout.py", "nats/layout"),
    ("errors.py", "nats/errors"),
    ("wire.py", "nats/wire"),
    ("retry.py", "nats/retry"),
    ("bus.py", "nats/bus"),
    ("publish.py", "nats/publish"),
    ("consume.py", "nats/consume"),
    ("provision.py", "nats/provision"),
    ("metrics.py", "nats/metrics"),
];

/// ruff's line length (tests/python/pyproject.toml): literals that would
/// not fit are written one item per line, as `ruff format` would.
const LINE: usize = 100;

#[derive(Serialize)]
pub(super) struct LayoutView<'a> {
    header: &'a str,
    package: &'a str,
    namespace: String,
    tiers: Vec<TierView>,
    streams: Vec<StreamView>,
    /// `None` or a `DlqRoute(...)` expression.
    dlq: Vec<String>,
    has_dlq: bool,
    headers: Vec<String>,
    metrics: Vec<String>,
    buckets: Vec<String>,
}

/// Every value is Python source.
#[derive(Serialize)]
struct TierView {
    name: String,
    p99_ms: String,
    max_deliveries: u64,
    ack_wait_ms: u64,
    nak_backoff_ms: Vec<String>,
    duplicate_window_ms: u64,
    max_age_ms: u64,
    max_bytes: String,
    storage: String,
    replicas: u64,
}

#[derive(Serialize)]
struct StreamView {
    env: String,
    domain: String,
    version: String,
    name: String,
    subjects: Vec<String>,
    tier: String,
    dead_letters: &'static str,
}

/// Whether the registry asks for the NATS transport in Python: whether
/// [`generate`] writes anything, and so whether its templates are compiled.
pub fn enabled(model: &Model) -> bool {
    model.python_transports.contains(&Transport::Nats)
}

/// Adds `{dir}/nats/*.py` when the registry asks for the NATS transport.
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
    let view = layout_view(model, header, package);
    let view = Engine::context(&view)?;
    for (file, template) in FILES {
        files.insert(format!("{dir}/nats/{file}"), engine.render_context(template, &view)?);
    }
    Ok(())
}

pub(super) fn layout_view<'a>(model: &Model, header: &'a str, package: &'a str) -> LayoutView<'a> {
    // Items of a tuple at `indent` (its own line is `{indent}{key}=(…),`).
    let tuple = |key: &str, items: Vec<String>, indent: usize| -> Vec<String> {
        let one = if items.len() == 1 { format!("({},)", items[0]) } else { format!("({})", items.join(", ")) };
        let pad = " ".repeat(indent);
        // `{key}=` + the tuple + `,` within the line.
        let width = indent + key.len() + 1 + one.len() + 1;
        if width <= LINE {
            return vec![format!("{pad}{key}={one},")];
        }
        let mut out = vec![format!("{pad}{key}=(")];
        out.extend(items.iter().map(|i| format!("{pad}    {i},")));
        out.push(format!("{pad}),"));
        out
    };
    let tiers = model
        .tiers
        .iter()
        .map(|t| TierView {
            name: py_str(&t.name),
            p99_ms: t.p99_ms.map_or_else(|| "None".to_owned(), |p| p.to_string()),
            max_deliveries: t.max_deliveries,
            ack_wait_ms: t.ack_wait_ms,
            nak_backoff_ms: tuple("nak_backoff_ms", t.nak_backoff_ms.iter().map(u64::to_string).collect(), 12),
            duplicate_window_ms: t.duplicate_window_ms,
            max_age_ms: t.max_age_ms,
            max_bytes: t.max_bytes.map_or_else(|| "None".to_owned(), |b| b.to_string()),
            storage: py_str(t.storage.as_str()),
            replicas: t.replicas,
        })
        .collect();
    let streams = model
        .streams
        .iter()
        .map(|s| StreamView {
            env: py_str(&s.env),
            domain: py_str(&s.domain),
            version: py_str(&s.version),
            name: py_str(&s.name),
            subjects: tuple("subjects", s.subjects.iter().map(|x| py_str(x)).collect(), 12),
            tier: py_str(&s.tier),
            dead_letters: if s.dead_letters { "True" } else { "False" },
        })
        .collect();
    let dlq = match &model.dlq {
        Some(d) => {
            let mut out = vec![
                "DlqRoute(".to_owned(),
                format!("        domain={},", py_str(&d.domain)),
                format!("        version={},", py_str(&d.version)),
            ];
            out.extend(tuple("subtopic", d.subtopic.iter().map(|x| py_str(x)).collect(), 8));
            out.push("    )".to_owned());
            out
        }
        None => vec!["None".to_owned()],
    };
    let headers = model.headers.iter().map(|h| format!("({}, {}),", py_str(&h.contract), py_str(&h.nats))).collect();
    let metrics = model
        .metrics
        .iter()
        .map(|m| {
            let labels: Vec<String> = m.labels.iter().map(|l| py_str(l)).collect();
            let labels =
                if labels.len() == 1 { format!("({},)", labels[0]) } else { format!("({})", labels.join(", ")) };
            format!("({}, {}, {labels}),", py_str(&m.name), py_str(&m.kind))
        })
        .collect();
    // The `le` label is printed as Rust prints the f64 (`1`, `2500`), so the
    // three runtimes expose identical series.
    let buckets = model.latency_buckets_ms.iter().map(|b| format!("({b:?}, {}),", py_str(&format!("{b}")))).collect();
    LayoutView {
        header,
        package,
        namespace: py_str(&model.namespace),
        tiers,
        streams,
        has_dlq: model.dlq.is_some(),
        dlq,
        headers,
        metrics,
        buckets,
    }
}
