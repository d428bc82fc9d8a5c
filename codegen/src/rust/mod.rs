//! The Rust backend: prost payload types plus the bus bindings, as files in
//! memory.
//!
//! prost-build renders the payload types from protox's descriptors (no
//! protoc), in memory through `prost_build::Config::generate`. The bindings
//! are written as text by `code::Code`: literals through Rust's own
//! escaping, identifiers through prost's naming rules, so hostile registry
//! strings stay inert and output is identical on every machine.

mod bindings;
pub(crate) mod code;
mod keys;
pub mod names;
mod passthrough;

use std::collections::BTreeMap;

use crate::diag::{Diagnostic, Diagnostics};
use crate::registry::DomainKind;
use crate::Project;
use bindings::{module, TopicModel};
pub use bindings::{FieldValue, Routing};
pub use passthrough::ProstOptions;
use code::{lit, Code};
use keys::Scope;
use names::{camel, Paths};

/// The file that holds the module tree; `ampy_bus::include_generated!()`
/// includes it.
pub const TREE_FILE: &str = "ampygen.rs";

/// What to generate.
#[derive(Clone, Debug, Default)]
pub struct Options {
    /// Only these domains (all when empty).
    pub domains: Vec<String>,
    /// `(".proto.path", "::rust::path")`, as in prost-build.
    pub extern_paths: Vec<(String, String)>,
    /// Where `prost` is reached from generated code.
    pub prost_path: Option<String>,
    /// Embed the payloads' descriptors and implement
    /// `ampy_bus::linked::Linked`, so a service can check at startup that
    /// the types it links hash to the locked schemas (needs ampy-bus's
    /// `reflect` feature).
    pub linked: bool,
    /// prost-build's options, passed through.
    pub prost: ProstOptions,
}


/// The file that holds the embedded descriptor set when
/// [`Options::linked`] is on.
pub const DESCRIPTORS_FILE: &str = "ampygen.descriptors.rs";

/// Generated files by name, in name order.
pub type Files = BTreeMap<String, String>;

/// Renders the prost types and bindings for `project`.
pub fn generate(project: &Project, options: &Options) -> Result<Files, Diagnostics> {
    let models = models(project, options)?;
    let paths = Paths { externs: options.extern_paths.clone() };
    // prost-build and the bindings are independent; build scripts run
    // unoptimised, so rendering them side by side is a real saving.
    let (prost, tree) = std::thread::scope(|scope| {
        let bindings = scope.spawn(|| tree(project, &paths, &models, Mode::Render { linked: options.linked }));
        let prost = prost_files(project, options, &models);
        let tree = bindings.join().unwrap_or_else(|_| {
            Err(Diagnostic::error("generate::internal", "the bindings renderer panicked")
                .help("this is a bug in ampygen; please report it with the registry that triggers it")
                .into())
        });
        (prost, tree)
    });
    let (mut files, tree) = match (prost, tree) {
        (Ok(files), Ok(tree)) => (files, tree),
        (prost, tree) => {
            let mut diags = Diagnostics::new();
            diags.extend(prost.err().into_iter().flatten());
            diags.extend(tree.err().into_iter().flatten());
            return Err(diags);
        }
    };
    // The package modules include prost's files, which are known only now.
    let mut tree_mods = ModTree::default();
    for file in files.keys() {
        // prost names files after its already-sanitised module path
        // (`ampy.r#type.v1.rs`).
        let parts: Vec<String> = file.trim_end_matches(".rs").split('.').map(str::to_owned).collect();
        tree_mods.insert(&parts, file.clone());
    }
    let mut mods = Code::new();
    tree_mods.render(&mut mods);
    let tree = format!("{}{}{}", header(project), mods.finish(), tree);
    files.insert(TREE_FILE.to_owned(), tree);
    if options.linked {
        files.insert(DESCRIPTORS_FILE.to_owned(), descriptors(project, options, &models));
    }
    Ok(files)
}

/// Every problem with the registry that [`generate`] would refuse, found
/// without prost-build (the slow part, which only renders payload types the
/// compiled protos already describe): shared payload versions, key paths,
/// name collisions of topics and envs, reserved module names. The bindings
/// are rendered in memory and dropped.
pub fn validate(project: &Project) -> Diagnostics {
    let options = Options::default();
    let models = match models(project, &options) {
        Ok(m) => m,
        Err(d) => return d,
    };
    let paths = Paths { externs: Vec::new() };
    tree(project, &paths, &models, Mode::Validate).err().unwrap_or_default()
}

/// What [`tree`] is for: `check` only needs its diagnostics, and skipping
/// the code text (most of its cost) keeps `check` cheap on big registries.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Mode {
    Validate,
    Render { linked: bool },
}

/// The file descriptor set of every file the payloads need, without
/// source info (comments would only grow the binary), in dependency order.
fn descriptors(project: &Project, options: &Options, models: &[TopicModel<'_>]) -> String {
    use prost_reflect::prost::Message as _;
    use prost_reflect::prost_types;
    let needed = needed_files(project, options, models);
    let set = prost_types::FileDescriptorSet {
        file: project
            .compiled
            .pool
            .files()
            .filter(|f| needed.contains(f.name()))
            .map(|f| prost_types::FileDescriptorProto { source_code_info: None, ..f.file_descriptor_proto().clone() })
            .collect(),
    };
    let mut c = Code::new();
    c.doc(" The payloads' file descriptor set, for `ampy_bus::linked`.");
    c.line(format!("pub const FILE_DESCRIPTOR_SET: &[u8] = {};", code::byte_lit(&set.encode_to_vec())));
    format!("{}{}", header(project), c.finish())
}

/// The first line of every file ampygen writes for Rust.
pub fn header(project: &Project) -> String {
    format!(
        "// @generated by ampygen {} from {}. Do not edit; change the registry or the protos and rebuild.\n",
        crate::VERSION,
        crate::render::display_registry(project)
    )
}

fn models<'a>(project: &'a Project, options: &Options) -> Result<Vec<TopicModel<'a>>, Diagnostics> {
    let mut diags = Diagnostics::new();
    let known: Vec<&str> = project.registry.domains.iter().map(|d| d.name.value.as_str()).collect();
    for d in &options.domains {
        if !known.contains(&d.as_str()) {
            diags.push(
                Diagnostic::error("generate::unknown_domain", format!("no domain `{d}` in the registry"))
                    .help(format!("known domains: {}", known.join(", "))),
            );
        }
    }
    let mut out = Vec::new();
    for t in project.registry.topics() {
        if t.domain.kind == DomainKind::Dlq {
            continue;
        }
        if !options.domains.is_empty() && !options.domains.contains(&t.domain.name.value) {
            continue;
        }
        if let Some(resolved) = project.resolved.get(&t.id()) {
            out.push(TopicModel { registry: &project.registry, topic: t, resolved });
        }
    }
    check_shared_payloads(project, &out, &mut diags);
    if diags.has_errors() {
        return Err(diags);
    }
    Ok(out)
}

/// A payload type has one `Schema` impl, so topics sharing a payload must
/// agree on its schema version.
fn check_shared_payloads(project: &Project, models: &[TopicModel<'_>], diags: &mut Diagnostics) {
    let mut first: BTreeMap<&str, &TopicModel<'_>> = BTreeMap::new();
    let source = &project.registry.source;
    for m in models {
        let fqdn = m.resolved.message.full_name();
        let Some(prev) = first.get(fqdn) else {
            first.insert(fqdn, m);
            continue;
        };
        let (a, b) = (&prev.topic.topic, &m.topic.topic);
        let version = |t: &crate::registry::Topic| t.schema_version.as_ref().map(|v| v.value.to_string());
        if version(a) != version(b) {
            let span = b.schema_version.as_ref().map_or(b.span.clone(), |v| v.span.clone());
            diags.push(
                Diagnostic::error(
                    "generate::shared_payload_version",
                    format!("`{}` and `{}` carry `{fqdn}` with different schema versions", prev.id(), m.id()),
                )
                .at(source, span)
                .help("one message has one schema version: make the two `schema_version`s equal"),
            );
        }
    }
}

/// A topic's key, as written: equal specs give equal keys.
fn key_spec(m: &TopicModel<'_>) -> Option<(Vec<(String, String)>, String)> {
    m.topic.topic.key.as_ref().map(|k| {
        let fields = k.fields.iter().map(|f| (f.name.value.clone(), f.path.value.to_string())).collect();
        (fields, k.format.value.to_string())
    })
}

/// The proto files the chosen payloads need, dependencies included.
fn needed_files(project: &Project, options: &Options, models: &[TopicModel<'_>]) -> std::collections::BTreeSet<String> {
    let pool = &project.compiled.pool;
    let mut needed = std::collections::BTreeSet::new();
    let mut stack: Vec<String> = models.iter().map(|m| m.resolved.message.parent_file().name().to_owned()).collect();
    if options.domains.is_empty() {
        stack.extend(project.registry.protos.files.iter().map(|f| f.value.clone()));
    }
    while let Some(name) = stack.pop() {
        if !needed.insert(name.clone()) {
            continue;
        }
        if let Some(file) = pool.get_file_by_name(&name) {
            stack.extend(file.dependencies().map(|d| d.name().to_owned()));
        }
    }
    needed
}

/// A located diagnostic for a chain of message fields deeper than the
/// Rust backend follows.
fn type_chain_too_long(project: &Project, chain: &[prost_reflect::FieldDescriptor]) -> Diagnostic {
    let limit = crate::limits::MAX_TYPE_DEPTH;
    let mut d = Diagnostic::error(
        "generate::types_too_deep",
        format!(
            "a chain of {} nested message types is longer than the {limit} the Rust backend accepts",
            chain.len() + 1
        ),
    );
    if let Some(first) = chain.first() {
        let file = first.parent_message().parent_file();
        if let Some(span) = project.compiled.span_of(&file, first.path()) {
            d = d.at(span.0, span.1).label("the chain starts here");
        }
    }
    let shown: Vec<&str> = chain.iter().take(3).map(|f| f.full_name()).collect();
    d.note(format!("chain: {} …", shown.join(" → "))).help(format!(
        "prost-build follows singular message fields recursively; keep such chains at most {limit} messages deep (a repeated field or a cycle ends a chain)"
    ))
}

fn prost_files(project: &Project, options: &Options, models: &[TopicModel<'_>]) -> Result<Files, Diagnostics> {
    let pool = &project.compiled.pool;
    let needed = needed_files(project, options, models);
    // The needed files include their dependencies (the well-known types
    // too), which prost-build needs to decide derives; extern types, like
    // google.protobuf's, produce no module.
    let requests: Vec<_> = pool
        .files()
        .filter(|f| needed.contains(f.name()))
        .map(|f| {
            // With its source info: prost-build turns comments into docs.
            let proto = project.compiled.file_descriptor_proto(&f);
            (prost_build::Module::from_protobuf_package_name(proto.package()), proto)
        })
        .collect();
    // prost-build recurses along singular message fields; bound the chain
    // before it does (see `crate::limits`).
    if let Some(chain) = crate::limits::type_chain(pool, &needed, crate::limits::MAX_TYPE_DEPTH) {
        return Err(type_chain_too_long(project, &chain).into());
    }
    // prost-build pastes attributes in as text and panics on code that does
    // not parse; check them first.
    options.prost.check()?;
    let mut config = prost_build::Config::new();
    let prost = options.prost_path.clone().unwrap_or_else(|| "::ampy_bus::prost".to_owned());
    config.prost_path(&prost);
    config.prost_types_path(format!("{}::prost_types", prost.trim_end_matches("::prost")));
    for (proto, rust) in &options.extern_paths {
        config.extern_path(proto, rust);
    }
    options.prost.apply(&mut config);
    let names: BTreeMap<prost_build::Module, String> =
        requests.iter().map(|(m, _)| (m.clone(), m.to_file_name_or("_"))).collect();
    let generated = config.generate(requests).map_err(|e| {
        Diagnostics::from(
            Diagnostic::error("generate::prost", format!("prost-build failed: {e}"))
                .help("check the `extern_path` options passed to ampygen::configure()"),
        )
    })?;
    let header = header(project);
    Ok(generated
        .into_iter()
        .filter_map(|(module, code)| {
            let name = names.get(&module)?.clone();
            let code = code.strip_prefix("// This file is @generated by prost-build.\n").unwrap_or(&code);
            Some((name, format!("{header}{code}")))
        })
        .collect())
}

/// `ampygen.rs` after the package modules: the `Env` enum, one module per
/// topic under `topics`, and the trait impls.
fn tree(project: &Project, paths: &Paths, models: &[TopicModel<'_>], mode: Mode) -> Result<String, Diagnostics> {
    let linked = mode == Mode::Render { linked: true };
    let mut diags = Diagnostics::new();
    let source = &project.registry.source;
    for package in project.compiled.pool.files().map(|f| f.package_name().to_owned()) {
        if package.split('.').next().map(|p| names::snake(p).to_string()).as_deref() == Some("topics") {
            diags.push(
                Diagnostic::error(
                    "generate::reserved_package",
                    format!("proto package `{package}` would collide with ampygen's `topics` module"),
                )
                .help("rename the package; ampygen reserves the top-level module `topics`"),
            );
        }
    }
    let root_from_topic = "super::super::super::super";
    let scope = Scope { paths, root: Some(root_from_topic.to_owned()) };
    // Domain → version → rendered items, in name order.
    let mut domains: BTreeMap<String, BTreeMap<String, Code>> = BTreeMap::new();
    let mut by_payload: BTreeMap<&str, Vec<(&TopicModel<'_>, String, Routing)>> = BTreeMap::new();
    let mut markers: BTreeMap<(String, String, String), String> = BTreeMap::new();
    for m in models {
        let (d, v, t) = (&m.topic.domain.name.value, &m.topic.version.name.value, &m.topic.topic.name.value);
        let routing = match m.routing(&scope) {
            Ok(r) => r,
            Err(e) => {
                diags.push(Diagnostic::error("generate::key_path", e).at(source, m.topic.topic.span.clone()));
                continue;
            }
        };
        let (dm, vm, tm) = (module(d), module(v), module(t));
        let marker = camel(t).to_string();
        if let Some(other) = markers.insert((d.clone(), v.clone(), marker.clone()), t.clone()) {
            diags.push(
                Diagnostic::error(
                    "generate::name_collision",
                    format!("topics `{other}` and `{t}` of {d}.{v} both become the Rust type `{marker}`"),
                )
                .at(source, m.topic.topic.name.span.clone())
                .help("rename one of the topics"),
            );
        }
        if mode == Mode::Validate {
            continue;
        }
        let c = domains.entry(d.clone()).or_default().entry(v.clone()).or_default();
        let doc =
            m.topic.topic.description.as_ref().map_or_else(|| format!("The `{}` topic.", m.id()), |d| d.value.clone());
        c.doc(&format!(" {doc}"));
        c.open(format!("pub mod {tm}"));
        routing.consts(c, "pub ");
        m.typed_builders(c, &format!("{root_from_topic}::Env"));
        routing.functions(
            c,
            &paths.message(root_from_topic, &m.resolved.message),
            "pub ",
            &format!("{root_from_topic}::Env"),
        );
        c.close("");
        c.doc(&format!(" The `{}` topic, as a type.", m.id()));
        c.line("#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]");
        c.line(format!("pub struct {marker};"));
        routing.topic_impl(
            c,
            &marker,
            &paths.message("super::super::super", &m.resolved.message),
            &format!("{tm}::"),
            "super::super::super::Env",
        );
        let fns = format!("topics::{dm}::{vm}::{tm}::");
        by_payload.entry(m.resolved.message.full_name()).or_default().push((m, fns, routing));
    }
    // One Schema impl per payload; PartitionKey where its topics agree on
    // the key; an inherent `topic_for` where it has a single topic.
    let mut impls = Code::new();
    let mut verify_all = Vec::new();
    for topics in by_payload.values() {
        let (first, fns, routing) = &topics[0];
        let payload = paths.message("self", &first.resolved.message);
        routing.schema_impl(&mut impls, &payload, fns);
        if topics.iter().all(|(m, _, _)| key_spec(m) == key_spec(first)) {
            routing.key_impl(&mut impls, &payload, fns);
        }
        if linked {
            impls.open(format!("impl ::ampy_bus::linked::Linked for {payload}"));
            impls.block("fn descriptor() -> Result<::ampy_bus::linked::prost_reflect::MessageDescriptor, ::ampy_bus::linked::LinkError>", "::ampy_bus::linked::message(&DESCRIPTOR_POOL, FILE_DESCRIPTOR_SET, <Self as ::ampy_bus::Schema>::FQDN)");
            impls.close("");
            verify_all.push((first.resolved.message.full_name().to_owned(), payload.clone()));
        }
        if topics.len() == 1 {
            bindings::inherent_topic_for(&mut impls, &payload, fns, "self::Env");
        }
    }
    if diags.has_errors() {
        return Err(diags);
    }
    if mode == Mode::Validate {
        env_enum(project, &mut Code::new(), &mut diags);
        return if diags.has_errors() { Err(diags) } else { Ok(String::new()) };
    }

    let mut c = Code::new();
    c.doc(" The first subject token.");
    c.line(format!("pub const NAMESPACE: &str = {};", lit(&project.registry.namespace.value)));
    env_enum(project, &mut c, &mut diags);
    c.doc(" One module per topic (`topics::bars::v1::bars`) with its constants,");
    c.doc(" subject builders, patterns and key functions, and one marker type");
    c.doc(" per topic implementing `ampy_bus::Topic`.");
    c.open("pub mod topics");
    c.doc(" Every subject of `env`.");
    c.block(
        "pub fn pattern(env: super::Env) -> Result<String, ::ampy_bus::RouteError>",
        "::ampy_bus::topic::pattern::env(super::NAMESPACE, &env)",
    );
    for (d, versions) in domains {
        if let Some(domain) = project.registry.domains.iter().find(|x| x.name.value == d) {
            c.doc(&format!(" {}", domain.description.value));
        }
        c.open(format!("pub mod {}", module(&d)));
        c.doc(" Every subject of this domain in `env`, all versions.");
        c.block(
            "pub fn pattern(env: super::super::Env) -> Result<String, ::ampy_bus::RouteError>",
            format!("::ampy_bus::topic::pattern::domain(super::super::NAMESPACE, &env, {})", lit(&d)),
        );
        for (v, items) in versions {
            c.open(format!("pub mod {}", module(&v)));
            c.doc(" Every subject of this domain version in `env`.");
            c.open("pub fn pattern(env: super::super::super::Env) -> Result<String, ::ampy_bus::RouteError>");
            c.line(format!(
                "::ampy_bus::topic::pattern::version(super::super::super::NAMESPACE, &env, {}, {})",
                lit(&d),
                lit(&v)
            ));
            c.close("");
            c.append(&items.finish());
            c.close("");
        }
        c.close("");
    }
    c.close("");
    c.append(&impls.finish());
    c.append(&crate::transport::rust::render(&project.transport));
    if linked {
        c.line(format!("include!({});", lit(DESCRIPTORS_FILE)));
        c.line("static DESCRIPTOR_POOL: ::std::sync::OnceLock<::ampy_bus::linked::prost_reflect::DescriptorPool> = ::std::sync::OnceLock::new();");
        c.doc(" Recomputes the canonical hash of every payload type this binary");
        c.doc(" links and compares it with the hash locked in the registry. Call");
        c.doc(" it at startup to refuse to run with types the registry did not");
        c.doc(" lock; the error lists every payload that differs.");
        c.open("pub fn verify_linked() -> Result<(), Vec<(&'static str, ::ampy_bus::linked::LinkError)>>");
        c.line("let mut failed = Vec::new();");
        for (fqdn, payload) in &verify_all {
            c.block(
                format!("if let Err(e) = <{payload} as ::ampy_bus::linked::Linked>::verify_linked()"),
                format!("failed.push(({}, e));", lit(fqdn)),
            );
        }
        c.line("if failed.is_empty() { Ok(()) } else { Err(failed) }");
        c.close("");
    }
    if diags.has_errors() {
        return Err(diags);
    }
    Ok(c.finish())
}

fn env_enum(project: &Project, c: &mut Code, diags: &mut Diagnostics) {
    let mut seen: BTreeMap<String, &str> = BTreeMap::new();
    let mut variants = Vec::new();
    for e in &project.registry.envs {
        let v = camel(&e.value).to_string();
        if let Some(other) = seen.insert(v.clone(), &e.value) {
            diags.push(
                Diagnostic::error(
                    "generate::name_collision",
                    format!("envs `{other}` and `{}` both become the Rust variant `Env::{v}`", e.value),
                )
                .at(&project.registry.source, e.span.clone())
                .help("rename one of the envs"),
            );
        }
        variants.push((v, e.value.as_str()));
    }
    c.doc(" The registry's environments, the second subject token.");
    c.line("#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]");
    c.open("pub enum Env");
    for (v, name) in &variants {
        c.doc(&format!(" `{name}`"));
        c.line(format!("{v},"));
    }
    c.close("");
    c.open("impl Env");
    let all: Vec<String> = variants.iter().map(|(v, _)| format!("Env::{v}")).collect();
    c.line(format!("pub const ALL: [Env; {}] = [{}];", all.len(), all.join(", ")));
    c.open("pub const fn as_str(self) -> &'static str");
    c.open("match self");
    for (v, name) in &variants {
        c.line(format!("Env::{v} => {},", lit(name)));
    }
    c.close("");
    c.close("");
    c.close("");
    c.open("impl ::ampy_bus::EnvName for Env");
    let names: Vec<String> = variants.iter().map(|(_, name)| lit(name)).collect();
    c.line(format!("const NAMES: &'static [&'static str] = &[{}];", names.join(", ")));
    c.block("fn env_name(&self) -> &'static str", "self.as_str()");
    c.close("");
    c.open("impl ::core::fmt::Display for Env");
    c.block("fn fmt(&self, f: &mut ::core::fmt::Formatter<'_>) -> ::core::fmt::Result", "f.write_str(self.as_str())");
    c.close("");
    c.doc(" Exactly the registry's env names (case-sensitive); anything else is");
    c.doc(" `RouteError::UnknownEnv`, the `unknown_env` of every runtime.");
    c.open("impl ::core::str::FromStr for Env");
    c.line("type Err = ::ampy_bus::RouteError;");
    c.open("fn from_str(s: &str) -> Result<Self, ::ampy_bus::RouteError>");
    c.open("match s");
    for (v, name) in &variants {
        c.line(format!("{} => Ok(Env::{v}),", lit(name)));
    }
    c.line("_ => Err(::ampy_bus::RouteError::UnknownEnv { env: s.to_owned(), known: <Env as ::ampy_bus::EnvName>::NAMES }),");
    c.close("");
    c.close("");
    c.close("");
}

/// Package modules, each including its prost file.
#[derive(Default)]
struct ModTree {
    file: Option<String>,
    children: BTreeMap<String, ModTree>,
}

impl ModTree {
    fn insert(&mut self, parts: &[String], file: String) {
        match parts.split_first() {
            None => self.file = Some(file),
            Some((first, rest)) => self.children.entry(first.clone()).or_default().insert(rest, file),
        }
    }

    fn render(&self, c: &mut Code) {
        if let Some(f) = &self.file {
            c.line(format!("include!({});", lit(f)));
        }
        for (name, child) in &self.children {
            c.open(format!("pub mod {}", names::sanitized(name)));
            child.render(c);
            c.close("");
        }
    }
}

/// The bindings a `#[derive(Payload)]` emits for `self_ty` on `topic_id`
/// with env type `env`: the same routing functions and trait impls as the
/// build.rs output, inside a `const _` block.
pub fn derive_impls(project: &Project, topic_id: &str, self_ty: &str, env: &str) -> Result<String, String> {
    let topic = project.registry.find_topic(topic_id)?;
    if topic.domain.kind == DomainKind::Dlq {
        return Err(format!("`{}` is a dead-letter topic and carries no payload type of its own", topic.id()));
    }
    let resolved =
        project.resolved.get(&topic.id()).ok_or_else(|| format!("topic `{}` has no resolved payload", topic.id()))?;
    let model = TopicModel { registry: &project.registry, topic, resolved };
    let paths = Paths::default();
    let scope = Scope { paths: &paths, root: None };
    Ok(model.routing(&scope)?.derive_block(self_ty, env))
}
