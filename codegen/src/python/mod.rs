//! The Python backend: one package (`targets.python.package`, default the
//! namespace plus `bus`, i.e. `ampybus`) with the payload modules under
//! `pb/`, the bus runtime, and the registry's topics.
//!
//! The runtime modules are fixed text (templates with only the header);
//! `topics.py`, `schema.py` and the payload modules are computed from the
//! project. Everything that ends up in Python source is named and escaped
//! here (`names`), so templates only print; the per-topic code of
//! `topics.py`, most of a large registry's output, is printed by
//! `topics::print` instead of a template, for speed.

mod dist;
mod kafka;
mod keys;
pub(crate) mod names;
mod nats;
mod pb;
pub(crate) mod stub;
mod topics;

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;

use crate::diag::{Diagnostic, Diagnostics};
use crate::generate::Files;
use crate::registry::DomainKind;
use crate::render::{self, Engine};
use crate::Project;

use names::{docstring, py_str, Names};

const TEMPLATES: &[(&str, &str)] = &[
    ("init", include_str!("../../templates/python/__init__.py.hbs")),
    ("canonical", include_str!("../../templates/python/canonical.py.hbs")),
    ("envelope", include_str!("../../templates/python/envelope.py.hbs")),
    ("errors", include_str!("../../templates/python/errors.py.hbs")),
    ("headers", include_str!("../../templates/python/headers.py.hbs")),
    ("keys", include_str!("../../templates/python/keys.py.hbs")),
    ("routing", include_str!("../../templates/python/routing.py.hbs")),
    ("schema", include_str!("../../templates/python/schema.py.hbs")),
    ("text", include_str!("../../templates/python/text.py.hbs")),
    ("topics", include_str!("../../templates/python/topics.py.hbs")),
    ("topics_index", include_str!("../../templates/python/topics_index.py.hbs")),
    ("wire", include_str!("../../templates/python/wire.py.hbs")),
];

/// The fixed runtime modules, by file name and template.
const RUNTIME: &[(&str, &str)] = &[
    ("canonical.py", "canonical"),
    ("envelope.py", "envelope"),
    ("errors.py", "errors"),
    ("headers.py", "headers"),
    ("keys.py", "keys"),
    ("text.py", "text"),
    ("wire.py", "wire"),
];

#[derive(Serialize)]
struct Common<'a> {
    header: &'a str,
    package: &'a str,
}

/// `routing.py`: the runtime plus the registry's `Env`, which every
/// subject builder checks envs against.
#[derive(Serialize)]
struct RoutingView<'a> {
    header: &'a str,
    package: &'a str,
    envs: &'a [EnvView],
}

#[derive(Serialize)]
struct EnvView {
    member: String,
    value: String,
}

/// One enum's name table and its writer, for enum-valued key fields.
#[derive(Serialize)]
struct EnumTableView {
    table: String,
    writer: String,
    entries: Vec<EnumEntry>,
}

#[derive(Serialize)]
struct EnumEntry {
    number: i32,
    /// The value's name, as a literal.
    name: String,
}

/// A topic's entry in `TOPICS` or `DLQ_TOPICS`: its id as a literal and
/// its instance.
#[derive(Serialize)]
struct TopicEntry {
    id: String,
    const_name: String,
}

impl TopicEntry {
    fn of(h: &topics::ClassHead) -> TopicEntry {
        TopicEntry { id: h.id.clone(), const_name: h.const_name.clone() }
    }
}

#[derive(Serialize)]
struct PayloadView {
    fqdn: String,
    hash: String,
    message_type: String,
    /// The ids of the topics carrying it, comma-separated, as a literal
    /// (filled in once every topic is seen).
    topics: String,
    #[serde(skip)]
    topic_ids: Vec<String>,
}

#[derive(Serialize)]
struct ModuleView<'a> {
    header: &'a str,
    package: &'a str,
    registry_doc: Vec<String>,
    namespace: String,
    imports: Vec<String>,
    enum_tables: Vec<EnumTableView>,
    topics: Vec<TopicEntry>,
    dlq_topics: Vec<TopicEntry>,
    payloads: Vec<PayloadView>,
    /// `__all__` entries of `topics.py`, as literals.
    exports: Vec<String>,
    /// The same names, as identifiers (for `__init__.py`).
    export_names: Vec<String>,
    /// `typing` names `topics.py` uses, comma-separated.
    uses_typing: String,
    uses_keys: bool,
    uses_route_error: bool,
}

/// The package name: `targets.python.package`, else the namespace made an
/// identifier plus `bus` (`ampy` → `ampybus`).
pub fn package_name(project: &Project) -> String {
    if let Some(p) = project.registry.targets.python.as_ref().and_then(|t| t.package.as_ref()) {
        return p.value.clone();
    }
    let ns: String =
        project.registry.namespace.value.chars().map(|c| if c.is_ascii_alphanumeric() { c } else { '_' }).collect();
    format!("{ns}bus")
}

/// `targets.python.types`: the package prefix of the user's own payload
/// modules, when the registry names one (docs/python.md, "Adopting ampygen
/// on an existing proto repository").
fn external_types(project: &Project) -> Option<&str> {
    project.registry.targets.python.as_ref().and_then(|t| t.types.as_ref()).map(|t| t.value.as_str())
}

/// Every problem with the registry that [`generate`] would refuse, without
/// rendering: module paths and names Python cannot spell. `generate` runs
/// the same functions, so `check` and `generate` cannot disagree.
pub fn validate(project: &Project) -> Diagnostics {
    let package = package_name(project);
    let (modules, mut diags) = modules(project, &package);
    diags.extend(dist::validate(project, &package));
    for t in project.registry.topics() {
        let Some(resolved) = project.resolved.get(&t.id()).filter(|_| t.domain.kind != DomainKind::Dlq) else {
            continue;
        };
        if modules.contains_key(resolved.message.parent_file().name()) {
            diags.extend(payload_name_problem(&project.registry.source, &t, &resolved.message));
        }
    }
    diags.sort();
    diags
}

/// The payload module of every file of the pool, and the files, messages
/// and enums whose names Python cannot spell.
fn modules(project: &Project, package: &str) -> (BTreeMap<String, pb::PyModule>, Diagnostics) {
    let mut diags = Diagnostics::new();
    // Payload modules, for every file of the pool that is not a WKT.
    let pool = &project.compiled.pool;
    let mut modules: BTreeMap<String, pb::PyModule> = BTreeMap::new();
    let external = external_types(project);
    let top = |m: &str| m.split('.').next().unwrap_or_default().to_owned();
    for f in pool.files() {
        match pb::module_for(package, external, f.name()) {
            // The user's modules under the generated package's top-level
            // name: one of the two would hide the other on import.
            Ok(m) if external.is_some() && !pb::is_runtime_file(f.name()) && top(&m.module) == top(package) => {
                let mut d = Diagnostic::error(
                    "generate::python_name",
                    format!(
                        "your payload module `{}` and the generated package `{package}` share the top-level name `{}`, \
                         so one would hide the other",
                        m.module,
                        top(package)
                    ),
                )
                .help("choose another `targets.python.package` (or `targets.python.types`)");
                if let Some(t) = project.registry.targets.python.as_ref().and_then(|t| t.types.as_ref()) {
                    d = d.at(&project.registry.source, t.span.clone());
                }
                diags.push(d);
            }
            Ok(m) => {
                modules.insert(f.name().to_owned(), m);
            }
            Err(e) => {
                let mut d = Diagnostic::error("generate::python_name", e).help(
                    "rename the file or directory to a Python identifier; protobuf's Python modules are named after proto paths",
                );
                // Point at the registry's `protos.files` entry when the file
                // is listed there (a dependency is reached through one).
                if let Some(entry) = project.registry.protos.files.iter().find(|e| e.value == f.name()) {
                    d = d.at(&project.registry.source, entry.span.clone());
                }
                diags.push(d);
            }
        }
    }
    for f in pool.files().filter(|f| modules.get(f.name()).is_some_and(|m| m.ours)) {
        for (path, what) in stub::keyword_names(&f) {
            let mut d = Diagnostic::error(
                "generate::python_name",
                format!("{what} is named after a Python keyword, so no Python class can carry its name"),
            )
            .help("rename it in the proto (protobuf's Python classes are named after messages and enums)");
            let name_path = [path.as_slice(), &[1]].concat();
            if let Some((source, span)) = project.compiled.span_of(&f, &name_path) {
                d = d.at(source, span);
            }
            diags.push(d);
        }
    }
    (modules, diags)
}

/// A payload whose class name contains a Python keyword.
fn payload_name_problem(
    source: &std::sync::Arc<crate::diag::Source>,
    t: &crate::registry::TopicRef<'_>,
    msg: &prost_reflect::MessageDescriptor,
) -> Option<Diagnostic> {
    let rel_name = msg.full_name().strip_prefix(msg.package_name()).unwrap_or(msg.full_name()).trim_start_matches('.');
    if !rel_name.split('.').any(names::is_keyword) {
        return None;
    }
    let mut d = Diagnostic::error(
        "generate::python_name",
        format!("payload `{}` cannot be named in Python: a name in it is a Python keyword", msg.full_name()),
    )
    .help("protobuf's Python classes take the message names as they are; rename the message");
    if let Some(p) = &t.topic.payload {
        d = d.at(source, p.span.clone());
    }
    Some(d)
}

/// Renders the python package for `project`, in memory.
pub fn generate(project: &Project) -> Result<Files, Diagnostics> {
    // Only the templates this run renders are compiled: compiling the
    // transports' was a fifth of a small registry's generation.
    let nats_templates = if nats::enabled(&project.transport) { nats::TEMPLATES } else { &[] };
    let kafka_templates = if kafka::enabled(&project.transport) { kafka::TEMPLATES } else { &[] };
    let templates: Vec<(&str, &str)> =
        TEMPLATES.iter().chain(nats_templates).chain(kafka_templates).chain(dist::TEMPLATES).copied().collect();
    let engine = Engine::new(&templates)?;
    let package = package_name(project);
    let header = format!("Code generated by {}. DO NOT EDIT.", render::provenance(project));
    let dir = package.replace('.', "/");
    let mut files = Files::new();
    let mut diags = Diagnostics::new();
    let common = Common { header: &header, package: &package };
    let common_context = Engine::context(&common)?;
    for (file, template) in RUNTIME {
        files.insert(format!("{dir}/{file}"), engine.render_context(template, &common_context)?);
    }
    files.insert(format!("{dir}/py.typed"), String::new());
    // The distribution, at the root of the output: `pip install OUT`.
    files.insert("pyproject.toml".to_owned(), dist::pyproject(&engine, project, &header, &package)?);
    // The opt-in transports, from the model the load computed.
    nats::generate(&project.transport, &engine, &header, &package, &dir, &mut files)?;
    kafka::generate(&project.transport, &engine, &header, &package, &dir, &mut files)?;

    // Payload modules, for every file of the pool that is not a WKT.
    let pool = &project.compiled.pool;
    let (modules, problems) = modules(project, &package);
    diags.extend(problems);
    let mut root_doc = None;
    for f in pool.files() {
        let Some(m) = modules.get(f.name()).filter(|m| m.ours) else { continue };
        let rel = m.module.replace('.', "/");
        if root_doc.is_none() {
            root_doc = Some(pb::root_doc(&package, &m.module, f.name()));
        }
        let mut deps = Vec::new();
        let mut stub_imports = BTreeMap::new();
        let declared = stub::declared(&f);
        let prelude = stub::Prelude::new(&declared.all);
        let taken: Vec<&str> = declared.all.iter().map(String::as_str).chain(prelude.bound()).collect();
        let mut aliases = Names::with(&taken);
        for d in f.dependencies() {
            if let Some(dm) = modules.get(d.name()) {
                let alias = aliases.ident(&short_alias(&dm.module));
                deps.push((dm.module.clone(), alias.clone()));
                stub_imports.insert(d.name().to_owned(), (dm.module.clone(), alias));
            }
        }
        files.insert(format!("{rel}.py"), pb::pb2_py(&header, &package, &f, &m.module, &deps));
        let names = stub::TypeNames {
            imports: &stub_imports,
            this_file: f.name(),
            prelude: &prelude,
            declared: &declared,
            aliased: Default::default(),
        };
        files.insert(format!("{rel}.pyi"), stub::pb2_pyi(&header, &f, project.compiled.source_info(&f).as_ref(), &names));
    }
    // `pb` is a regular package; the directories below it mirror the proto
    // paths and are namespace packages (PEP 420), as protoc leaves them:
    // an `__init__.py` in each would double the files a run creates, and
    // creating files is most of what generation costs on a real disk
    // (docs/python.md, "Payload modules").
    if let Some(doc) = root_doc {
        files.insert(format!("{dir}/pb/__init__.py"), format!("# {header}\n{doc}"));
    }

    // Topics and schemas.
    let registry = &project.registry;
    let mut globals =
        Names::with(&[
        "NAMESPACE",
        "Env",
        "Subject",
        "_new_subject",
        "TOPICS",
        "DLQ_TOPICS",
        "RouteError",
        "Optional",
        "Iterable",
        "Tuple",
    ]);
    let mut enums = keys::EnumTables::default();
    let mut imports = BTreeSet::new();
    let mut topic_views = Vec::new();
    let mut dlq_views = Vec::new();
    let mut payloads: BTreeMap<String, PayloadView> = BTreeMap::new();
    let mut module_aliases: BTreeMap<String, String> = BTreeMap::new();
    for t in registry.topics() {
        if t.domain.kind == DomainKind::Dlq {
            dlq_views.push(topics::dlq_topic(registry, &t, &mut globals));
            continue;
        }
        let Some(resolved) = project.resolved.get(&t.id()) else { continue };
        let msg = &resolved.message;
        let Some(m) = modules.get(msg.parent_file().name()) else { continue };
        let alias =
            module_aliases.entry(m.module.clone()).or_insert_with(|| globals.ident(&short_alias(&m.module))).clone();
        imports.insert(if m.ours {
            let rel_module = m.module.strip_prefix(&format!("{package}.")).unwrap_or(&m.module);
            let (from, leaf) = rel_module.rsplit_once('.').unwrap_or(("", rel_module));
            format!("from .{from} import {leaf} as {alias}")
        } else {
            match m.module.rsplit_once('.') {
                Some((from, leaf)) => format!("from {from} import {leaf} as {alias}"),
                // A top-level module of the user's (a proto file at the root).
                None => format!("import {} as {alias}", m.module),
            }
        });
        let rel_name =
            msg.full_name().strip_prefix(msg.package_name()).unwrap_or(msg.full_name()).trim_start_matches('.');
        if let Some(d) = payload_name_problem(&registry.source, &t, msg) {
            diags.push(d);
            continue;
        }
        let payload = format!("{alias}.{rel_name}");
        let code = topics::payload_topic(registry, &t, resolved, &payload, &mut enums, &mut globals);
        let view = payloads.entry(msg.full_name().to_owned()).or_insert_with(|| PayloadView {
            fqdn: py_str(msg.full_name()),
            hash: t.topic.schema_hash.as_ref().map_or_else(|| "None".to_owned(), |h| py_str(&h.value)),
            message_type: payload.clone(),
            topics: String::new(),
            topic_ids: Vec::new(),
        });
        view.topic_ids.push(t.id());
        topic_views.push(code);
    }
    if diags.has_errors() {
        diags.sort();
        return Err(diags);
    }
    let mut env_names = Names::default();
    let envs: Vec<EnvView> = registry
        .envs
        .iter()
        .map(|e| EnvView { member: env_names.ident(&names::upper_snake(&e.value)), value: py_str(&e.value) })
        .collect();
    let routing = RoutingView { header: &header, package: &package, envs: &envs };
    files.insert(format!("{dir}/routing.py"), engine.render("routing", &routing)?);
    let heads = || topic_views.iter().map(|t| &t.head).chain(dlq_views.iter().map(|t| &t.head));
    let mut exports: Vec<String> = heads().flat_map(|h| [h.class_name.clone(), h.const_name.clone()]).collect();
    exports.extend(["DLQ_TOPICS", "NAMESPACE", "TOPICS", "Env"].map(String::from));
    exports.sort();
    // Imports follow what the classes print: `Optional` for pattern
    // arguments and `dedupe_key`, `Iterable`/`Tuple` for `dead_letter`,
    // `_k` for key functions, `RouteError` for `dedupe_key`.
    let uses_dedupe = topic_views.iter().any(|t| t.has_dedupe);
    let mut typing = vec!["Any"];
    if !dlq_views.is_empty() {
        typing.push("Iterable");
    }
    if uses_dedupe || topic_views.iter().any(|t| !t.head.params.is_empty()) {
        typing.push("Optional");
    }
    if !dlq_views.is_empty() {
        typing.push("Tuple");
    }
    let enum_tables = enums
        .tables
        .into_values()
        .map(|(table, writer, values)| EnumTableView {
            table,
            writer,
            entries: values.into_iter().map(|(number, name)| EnumEntry { number, name: py_str(&name) }).collect(),
        })
        .collect();
    let registry_doc = docstring(&format!("Topics of the registry `{}`.", render::display_registry(project)));
    let module = ModuleView {
        header: &header,
        package: &package,
        registry_doc,
        namespace: py_str(&registry.namespace.value),
        imports: imports.into_iter().collect(),
        uses_keys: topic_views.iter().any(|t| !t.functions.is_empty()),
        uses_route_error: uses_dedupe,
        enum_tables,
        topics: topic_views.iter().map(|t| TopicEntry::of(&t.head)).collect(),
        dlq_topics: dlq_views.iter().map(|t| TopicEntry::of(&t.head)).collect(),
        payloads: payloads
            .into_values()
            .map(|p| PayloadView { topics: py_str(&p.topic_ids.join(", ")), ..p })
            .collect(),
        exports: exports.iter().map(|e| py_str(e)).collect(),
        export_names: exports,
        uses_typing: typing.join(", "),
    };
    let module = Engine::context(&module)?;
    // The module's head, the topics' code, the `TOPICS` tables: the code,
    // most of the file, is printed in place ([`topics::print`]).
    let mut topics_py = engine.render_context("topics", &module)?;
    topics::topics_code(&topic_views, &dlq_views, &mut topics_py);
    topics_py.push_str(&engine.render_context("topics_index", &module)?);
    files.insert(format!("{dir}/topics.py"), topics_py);
    files.insert(format!("{dir}/schema.py"), engine.render_context("schema", &module)?);
    files.insert(format!("{dir}/__init__.py"), engine.render_context("init", &module)?);
    Ok(files)
}

/// `_bars_pb2` for `ampybus.pb.ampy.bars.v1.bars_pb2`: the module's own
/// name with a leading `_` (private to the importing module); scopes add
/// `_`s on collisions.
fn short_alias(module: &str) -> String {
    format!("_{}", module.rsplit('.').next().unwrap_or(module))
}
