//! The views the Go templates print: every identifier, literal, comment
//! and line of key code is decided here.

use std::collections::BTreeMap;
use std::ops::Range;

use serde::Serialize;

use super::keys::{self, Types};
use super::names::{comment_lines, doc_block, exported, lit, local};
use super::Settings;
use crate::diag::{Diagnostic, Diagnostics};
use crate::registry::{Delivery, DomainKind, TopicRef};
use crate::template::{Part, Token};
use crate::Project;

#[derive(Serialize)]
pub struct Common {
    pub header: String,
    pub package: String,
}

#[derive(Serialize)]
pub struct GoMod {
    pub header: String,
    pub module: String,
    pub protobuf: String,
    /// Set when the module includes a transport package or requires the
    /// user's payload types.
    pub deps: Option<GoModDeps>,
    /// `MODULE => DIR`: the user's types module replaced by a directory.
    pub replace: Option<String>,
}

/// What the transport packages add to go.mod: the go directive their
/// client libraries need, the direct requirements (protobuf included) and
/// the indirect ones `go mod tidy` records, each sorted by module path.
#[derive(Serialize)]
pub struct GoModDeps {
    pub go: String,
    pub direct: Vec<String>,
    pub indirect: Vec<String>,
}

#[derive(Serialize)]
pub struct Doc {
    header: String,
    package: String,
    lines: Vec<String>,
}

pub fn doc(project: &Project, settings: &Settings, header: &str) -> Doc {
    let reg = &project.registry;
    let types = match &settings.external {
        None => format!("The payload types are in the packages under {}.", settings.types),
        Some(e) => format!(
            "The payload types are not generated here: they are the ones in the module {} \
             (targets.go.types_module).",
            e.path
        ),
    };
    let text = format!(
        "Package {} is the bus contract of the `{}` registry: envs, subjects and subscription patterns, \
         partition and dedupe keys, schema constants and checks, headers and envelopes. {types}\n\nSee \
         docs/go.md in ampygen for the API and its defaults.",
        settings.package, reg.namespace.value
    );
    Doc { header: header.to_owned(), package: settings.package.clone(), lines: wrap(&text) }
}

/// Comment lines of at most ~76 columns, from text with `\n\n` paragraphs.
fn wrap(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    for (i, para) in text.split("\n\n").enumerate() {
        if i > 0 {
            out.push("//".to_owned());
        }
        let mut line = String::from("//");
        for word in para.split_whitespace() {
            if line.len() + 1 + word.len() > 76 && line.len() > 2 {
                out.push(std::mem::replace(&mut line, String::from("//")));
            }
            line.push(' ');
            line.push_str(word);
        }
        out.push(line);
    }
    comment_lines(&out.iter().map(|l| l.trim_start_matches("//").trim_start()).collect::<Vec<_>>().join("\n"), "")
}

#[derive(Serialize)]
pub struct Registry {
    header: String,
    package: String,
    namespace: String,
    imports: Vec<Import>,
    envs: Vec<EnvView>,
    domains: Vec<DomainView>,
    topics: Vec<TopicView>,
    payloads: Vec<PayloadView>,
    /// `p := ` when some case of the dispatching switch uses the payload.
    topic_for_binding: String,
    key_binding: String,
    dedupe_binding: String,
}

#[derive(Serialize)]
struct Import {
    alias: String,
    path: String,
}

#[derive(Serialize)]
struct EnvView {
    ident: String,
    pad: String,
    value: String,
}

#[derive(Serialize)]
struct DomainView {
    ident: String,
    domain: String,
    doc: Vec<String>,
    versions: Vec<VersionView>,
}

#[derive(Serialize)]
struct VersionView {
    ident: String,
    domain: String,
    version: String,
    domain_doc: String,
    version_doc: String,
}

#[derive(Serialize, Default)]
struct TopicView {
    ident: String,
    lower: String,
    doc: Vec<String>,
    id: String,
    id_doc: String,
    domain: String,
    version: String,
    subtopic: String,
    key_format: String,
    fqdn: String,
    schema_version: String,
    schema_hash: String,
    qos_tier: String,
    qos_delivery: String,
    qos_p99: u64,
    dlq: bool,
    payload: String,
    params_decl: String,
    /// The parameter names of `params_decl`, to forward them.
    params_args: String,
    pattern_decl: String,
    extra: usize,
    subject_lines: Vec<String>,
    pattern_lines: Vec<String>,
    wildcard_lines: Vec<String>,
    key_binding: String,
    key_fields: Vec<KeyFieldView>,
    key_lines: Vec<String>,
    key_parts: Vec<String>,
    dedupe_type: String,
    dedupe_lines: Vec<String>,
    topic_lines: Vec<String>,
    /// The unexported function fields of the topic's `Topic` value.
    dynamic: Vec<String>,
    strings_lines: Vec<String>,
}

#[derive(Serialize)]
struct KeyFieldView {
    name: String,
    pad: String,
    #[serde(rename = "type")]
    ty: String,
}

#[derive(Serialize)]
struct PayloadView {
    #[serde(rename = "type")]
    ty: String,
    fqdn: String,
    schema_version: String,
    schema_hash: String,
    topic_for: Option<String>,
    key: Option<String>,
    dedupe: Option<String>,
    topics_doc: String,
    /// The topic ids carrying the payload, as a Go string literal.
    topics: String,
}

/// Exported names of the hand-written runtime, which registry-derived names
/// must not collide with.
const RUNTIME_NAMES: &[&str] = &[
    "Namespace",
    "Env",
    "Envs",
    "ParseEnv",
    "QoS",
    "Topic",
    "Topics",
    "TopicByID",
    "RouteError",
    "TokenProblem",
    "Subject",
    "PatternAll",
    "ContentType",
    "ContentEncodingGzip",
    "RequiredHeaders",
    "OptionalHeaders",
    "HeaderPair",
    "BlobPointer",
    "Headers",
    "HeaderError",
    "HeadersFromMap",
    "HeadersFromPairs",
    "NewMessageID",
    "NewTraceParent",
    "GzipThreshold",
    "MaxPayload",
    "MaxInflated",
    "MaxReasonLen",
    "KindOf",
    "EnvelopeError",
    "DLQReason",
    "Record",
    "Envelope",
    "EnvelopeOptions",
    "NewEnvelope",
    "DecodeEnvelope",
    "DecodeHeaders",
    "DecodeBlob",
    "BlobPointerFor",
    "SanitizeReason",
    "DeadLetter",
    "CanonicalSchemaHash",
    "CanonicalForm",
    "SchemaError",
    "VerifyHeaders",
    "VerifyLinked",
    "TopicFor",
    "PartitionKey",
    "DedupeKey",
    "ErrUnknownPayload",
    "ErrAmbiguousTopic",
    "MarshalCanonical",
];

/// Registry-derived identifiers with the span that produced each, so a
/// collision can point at the registry.
struct Idents<'a> {
    project: &'a Project,
    seen: BTreeMap<String, String>,
    diags: Diagnostics,
}

impl Idents<'_> {
    fn claim(&mut self, ident: &str, what: &str, span: &Range<usize>) {
        let clash = if RUNTIME_NAMES.contains(&ident) || ident.starts_with("Header") {
            Some("a name of the runtime".to_owned())
        } else {
            self.seen.get(ident).cloned()
        };
        match clash {
            Some(other) => self.diags.push(
                Diagnostic::error(
                    "generate::go_name",
                    format!("{what} becomes the Go identifier `{ident}`, which is already {other}"),
                )
                .at(&self.project.registry.source, span.clone())
                .help("rename one of them in the registry; Go names are the camel-cased registry names"),
            ),
            None => {
                self.seen.insert(ident.to_owned(), what.to_owned());
            }
        }
    }
}

/// What [`build`] is for. `check` only needs the diagnostics: the names
/// every topic claims. The code lines of each topic (its key extraction
/// above all) are most of the cost and can only fail on an ampygen bug.
#[derive(Clone, Copy)]
pub enum Mode<'a> {
    Validate,
    /// Render, with this header line.
    Render(&'a str),
}

pub fn build(
    project: &Project,
    settings: &Settings,
    aliases: &BTreeMap<String, String>,
    packages: &BTreeMap<String, (String, String)>,
    mode: Mode<'_>,
) -> Result<Registry, Diagnostics> {
    let validate = matches!(mode, Mode::Validate);
    let header = match mode {
        Mode::Validate => "",
        Mode::Render(h) => h,
    };
    let reg = &project.registry;
    let mut ids = Idents { project, seen: BTreeMap::new(), diags: Diagnostics::new() };
    let mut types = Types::new(aliases);
    let envs = reg
        .envs
        .iter()
        .map(|e| {
            let ident = format!("Env{}", exported(&e.value));
            ids.claim(&ident, &format!("env `{}`", e.value), &e.span);
            EnvView { ident, pad: String::new(), value: lit(&e.value) }
        })
        .collect::<Vec<_>>();
    let mut envs = envs;
    align(envs.iter_mut().map(|e| (e.ident.len(), &mut e.pad)));
    let mut domains = Vec::new();
    for d in &reg.domains {
        let ident = format!("Pattern{}", exported(&d.name.value));
        ids.claim(&ident, &format!("domain `{}`", d.name.value), &d.name.span);
        let mut doc =
            vec![format!("// {ident} is every subject of the `{}` domain in env, all versions.", d.name.value)];
        doc.extend(doc_block(&d.description.value));
        let versions = d
            .versions
            .iter()
            .map(|v| {
                let ident = format!("Pattern{}{}", exported(&d.name.value), exported(&v.name.value));
                ids.claim(&ident, &format!("version `{}.{}`", d.name.value, v.name.value), &v.name.span);
                VersionView {
                    ident,
                    domain: lit(&d.name.value),
                    version: lit(&v.name.value),
                    domain_doc: format!("`{}`", d.name.value),
                    version_doc: format!("`{}`", v.name.value),
                }
            })
            .collect();
        domains.push(DomainView { ident, domain: lit(&d.name.value), doc, versions });
    }
    let mut topics = Vec::new();
    // Payload FQDN → topics, in registry order of first use.
    let mut by_payload: Vec<(String, Vec<usize>)> = Vec::new();
    // FQDN → index into `by_payload`: a scan per topic was quadratic.
    let mut payload_index: BTreeMap<&str, usize> = BTreeMap::new();
    for t in reg.topics() {
        let view = topic(project, &t, &mut types, &mut ids, validate).map_err(|m| {
            Diagnostics::from(
                Diagnostic::error("generate::go_internal", format!("topic `{}`: {m}", t.id()))
                    .at(&reg.source, t.topic.name.span.clone()),
            )
        })?;
        if let Some(p) = &t.topic.payload {
            match payload_index.get(p.value.as_str()) {
                Some(&i) => by_payload[i].1.push(topics.len()),
                None => {
                    payload_index.insert(&p.value, by_payload.len());
                    by_payload.push((p.value.clone(), vec![topics.len()]));
                }
            }
        }
        topics.push((t, view));
    }
    if ids.diags.has_errors() {
        return Err(ids.diags);
    }
    let payloads = by_payload
        .iter()
        .map(|(fqdn, list)| {
            let first = &topics[list[0]];
            let same = |f: &dyn Fn(&TopicRef<'_>) -> String| list.iter().all(|&i| f(&topics[i].0) == f(&first.0));
            let key_text = |t: &TopicRef<'_>| {
                let k = t.topic.key.as_ref();
                let fields: Vec<String> = k
                    .map(|k| k.fields.iter().map(|f| format!("{}={}", f.name.value, f.path.value)).collect())
                    .unwrap_or_default();
                format!("{:?}{}", fields, k.map(|k| k.format.value.to_template()).unwrap_or_default())
            };
            let dedupe_text =
                |t: &TopicRef<'_>| t.topic.dedupe.as_ref().map(|d| d.value.to_string()).unwrap_or_default();
            let ids_doc: Vec<String> = list.iter().map(|&i| format!("`{}`", topics[i].0.id())).collect();
            PayloadView {
                ty: first.1.payload.clone(),
                fqdn: lit(fqdn),
                schema_version: first.1.schema_version.clone(),
                schema_hash: first.1.schema_hash.clone(),
                topic_for: (list.len() == 1).then(|| first.1.ident.clone()),
                key: same(&key_text).then(|| first.1.ident.clone()),
                dedupe: (same(&dedupe_text) && first.0.topic.dedupe.is_some()).then(|| first.1.ident.clone()),
                topics_doc: ids_doc.join(", "),
                topics: lit(&list.iter().map(|&i| topics[i].0.id()).collect::<Vec<_>>().join(", ")),
            }
        })
        .collect::<Vec<PayloadView>>();
    let binding = |used: bool| if used { "p := " } else { "" }.to_owned();
    let topic_for_binding = binding(payloads.iter().any(|p| p.topic_for.is_some()));
    let key_binding = binding(payloads.iter().any(|p| p.key.is_some()));
    let dedupe_binding = binding(payloads.iter().any(|p| p.dedupe.is_some()));
    let package_of: BTreeMap<&str, &str> = aliases.iter().map(|(p, a)| (a.as_str(), p.as_str())).collect();
    let imports = types
        .used
        .iter()
        .filter_map(|alias| {
            let package = *package_of.get(alias.as_str())?;
            Some(Import { alias: alias.clone(), path: packages.get(package)?.0.clone() })
        })
        .collect::<Vec<_>>();
    let mut imports = imports;
    imports.sort_by(|a, b| a.path.cmp(&b.path));
    Ok(Registry {
        header: header.to_owned(),
        package: settings.package.clone(),
        namespace: lit(&reg.namespace.value),
        imports,
        envs,
        domains,
        topics: topics.into_iter().map(|(_, v)| v).collect(),
        payloads,
        topic_for_binding,
        key_binding,
        dedupe_binding,
    })
}

/// Pads names to a common width, as gofmt aligns consecutive specs.
fn align<'a>(items: impl Iterator<Item = (usize, &'a mut String)>) {
    let items: Vec<_> = items.collect();
    let width = items.iter().map(|(w, _)| *w).max().unwrap_or(0);
    for (w, pad) in items {
        *pad = " ".repeat(width - w);
    }
}

/// One line per element, for code blocks the template indents once.
fn block(lines: &mut Vec<String>, code: &[&str]) {
    lines.extend(code.iter().map(|l| (*l).to_owned()));
}

fn topic(
    project: &Project,
    t: &TopicRef<'_>,
    types: &mut Types<'_>,
    ids: &mut Idents<'_>,
    validate: bool,
) -> Result<TopicView, String> {
    let reg = &project.registry;
    let (d, v, tp) = (&t.domain, &t.version, &t.topic);
    let ident = format!("{}{}{}", exported(&d.name.value), exported(&v.name.value), exported(&tp.name.value));
    let span = &tp.name.span;
    for suffix in ["", "Subject", "PatternWith", "Pattern", "DeadLetter", "PartitionKey", "DedupeKey", "TopicFor"] {
        ids.claim(&format!("{ident}{suffix}"), &format!("topic `{}`", t.id()), span);
    }
    if validate {
        return Ok(TopicView::default());
    }
    let lower = {
        let mut cs = ident.chars();
        cs.next().map(|c| c.to_ascii_lowercase().to_string() + cs.as_str()).unwrap_or_default()
    };
    let qos = reg.qos.iter().find(|q| q.name.value == d.qos.value);
    let mut view = TopicView {
        ident: ident.clone(),
        lower: lower.clone(),
        id: lit(&t.id()),
        id_doc: t.id(),
        domain: lit(&d.name.value),
        version: lit(&v.name.value),
        subtopic: lit(&tp.subtopic.value.to_template()),
        key_format: lit(&tp.key.as_ref().map(|k| k.format.value.to_template()).unwrap_or_default()),
        fqdn: lit(&tp.payload.as_ref().map(|p| p.value.clone()).unwrap_or_default()),
        schema_version: lit(&tp.schema_version.as_ref().map(|s| s.value.to_string()).unwrap_or_default()),
        schema_hash: lit(&tp.schema_hash.as_ref().map(|s| s.value.clone()).unwrap_or_default()),
        qos_tier: lit(&d.qos.value),
        qos_delivery: lit(qos.map_or(Delivery::AtLeastOnce, |q| q.delivery.value).as_str()),
        qos_p99: qos.and_then(|q| q.p99_ms.as_ref()).map_or(0, |p| p.value),
        dlq: d.kind == DomainKind::Dlq,
        ..TopicView::default()
    };
    view.doc.push(format!("// {ident} is the `{}` topic.", t.id()));
    if let Some(desc) = &tp.description {
        view.doc.extend(doc_block(&desc.value));
    }
    let resolved = project.resolved.get(&t.id());
    // Parameters of the typed builders, in subtopic order.
    let mut decl = vec!["env Env".to_owned()];
    let mut pattern_decl = vec!["env Env".to_owned()];
    let mut used_names = vec!["env".to_owned()];
    let mut params: Vec<String> = Vec::new();
    let mut all_strings = true;
    for (i, token) in tp.subtopic.value.tokens.iter().enumerate() {
        match token {
            Token::Literal(l) => {
                view.extra += l.len() + 1;
                let line = format!("s.literal({})", lit(l));
                view.subject_lines.push(line.clone());
                view.pattern_lines.push(line.clone());
                view.wildcard_lines.push(line.clone());
                view.topic_lines.push(line);
            }
            Token::Param(p) => {
                view.extra += 17;
                let mut name = local(p);
                if used_names.contains(&name) {
                    name = format!("{name}{i}");
                }
                used_names.push(name.clone());
                let field = resolved.and_then(|r| r.fields.iter().position(|f| f.name == *p));
                let (ty, value) = match (resolved, field) {
                    (Some(r), Some(f)) => {
                        (types.param_type(&r.fields[f].path)?, types.param_value(&r.fields[f].path, &name)?)
                    }
                    _ => ("string".to_owned(), format!("strValue({name})")),
                };
                all_strings &= ty == "string";
                params.push(p.clone());
                decl.push(format!("{name} {ty}"));
                pattern_decl.push(format!("{name} string"));
                block(
                    &mut view.subject_lines,
                    &[
                        &format!("if err := appendParam(&s, {}, {value}); err != nil {{", lit(p)),
                        "\treturn Subject{}, err",
                        "}",
                    ],
                );
                block(
                    &mut view.pattern_lines,
                    &[&format!("if err := s.wildcardOr({}, {name}); err != nil {{", lit(p)), "\treturn \"\", err", "}"],
                );
                view.wildcard_lines.push("s.literal(\"*\")".to_owned());
                if let Some(f) = field {
                    block(
                        &mut view.topic_lines,
                        &[
                            &format!("if err := appendParam(&s, {}, k.f{f}); err != nil {{", lit(p)),
                            "\treturn Subject{}, err",
                            "}",
                        ],
                    );
                }
            }
        }
    }
    if all_strings {
        let args: Vec<String> = params.iter().map(|p| format!("values[{}]", lit(p))).collect();
        view.strings_lines
            .push(format!("return {lower}Subject(env{})", args.iter().map(|a| format!(", {a}")).collect::<String>()));
        view.dynamic.push(format!("subject:       {lower}SubjectFromStrings,"));
    }
    view.params_decl = decl.join(", ");
    view.params_args = decl.iter().map(|d| d.split(' ').next().unwrap_or_default()).collect::<Vec<_>>().join(", ");
    view.pattern_decl = pattern_decl.join(", ");
    view.key_binding = if view.topic_lines.iter().any(|l| l.contains("k.f")) { "k" } else { "_" }.to_owned();
    let Some(r) = resolved else {
        return Ok(view);
    };
    view.payload = types.message(&r.message)?;
    view.dynamic.extend([
        format!("newPayload:    func() proto.Message {{ return new({}) }},", view.payload),
        format!("topicFor:      adaptEnv({ident}TopicFor),"),
        format!("partitionKey:  adapt({ident}PartitionKey),"),
        format!("dedupeKey:     adaptOK({ident}DedupeKey),"),
    ]);
    for (i, f) in r.fields.iter().enumerate() {
        view.key_fields.push(KeyFieldView {
            name: format!("f{i}"),
            pad: String::new(),
            ty: types.value_type(&f.path)?,
        });
        view.key_lines.extend(keys::field_code(types, &f.name, &f.path, &format!("acc{i}"), &format!("k.f{i}"))?);
    }
    align(view.key_fields.iter_mut().map(|f| (f.name.len(), &mut f.pad)));
    if let Some(key) = &tp.key {
        for part in &key.format.value.parts {
            match part {
                Part::Literal(l) => view.key_parts.push(format!("b = append(b, {}...)", lit(l))),
                Part::Field(f) => {
                    let i = r.fields.iter().position(|x| x.name == *f).ok_or_else(|| format!("no key field `{f}`"))?;
                    view.key_parts.push(format!("b = k.f{i}.appendTo(b)"));
                }
            }
        }
    }
    if let Some(dedupe) = &r.dedupe {
        view.dedupe_type = types.value_type(dedupe)?;
        view.dedupe_lines = keys::field_code(types, "dedupe", dedupe, "acc", "v")?;
    }
    Ok(view)
}
