//! The per-topic classes of `topics.py`: constants, typed subject builders
//! and routing methods, written as text from the resolved registry.

use std::fmt::Write as _;

use super::keys::{field_function, EnumTables};
use super::names::{camel, docstring, py_str, upper_snake, Names};
use crate::registry::resolve::{Leaf, ResolvedTopic};
use crate::registry::{Delivery, Registry, TopicRef};
use crate::template::{Part, Token};

/// One topic rendered: module-level helper functions and its class.
pub struct TopicCode {
    pub class_name: String,
    pub const_name: String,
    pub id: String,
    pub functions: Vec<String>,
    pub class: String,
}

/// Names Python code inside a generated method may not take as parameters.
const RESERVED: &[&str] = &["self", "env", "payload"];

fn qos(registry: &Registry, name: &str) -> String {
    let tier = registry.qos.iter().find(|q| q.name.value == name);
    let delivery = match tier.map(|t| t.delivery.value) {
        Some(Delivery::AtMostOnce) => "at_most_once",
        _ => "at_least_once",
    };
    let p99 = tier.and_then(|t| t.p99_ms.as_ref()).map_or_else(|| "None".to_owned(), |p| p.value.to_string());
    format!("_r.Qos({}, {}, {p99})", py_str(name), py_str(delivery))
}

/// The docstring of a topic class: its id, description, subject and key.
fn class_doc(t: &TopicRef<'_>, namespace: &str, key_format: &str) -> String {
    let mut text = format!("Topic `{}`.", t.id());
    if let Some(d) = &t.topic.description {
        text.push_str("\n\n");
        text.push_str(&d.value);
    }
    let _ = write!(
        text,
        "\n\nSubject `{namespace}.{{env}}.{}.{}.{}`",
        t.domain.name.value,
        t.version.name.value,
        t.topic.subtopic.value.to_template()
    );
    if !key_format.is_empty() {
        let _ = write!(text, ", partition key `{key_format}`");
    }
    text.push('.');
    if let Some(o) = &t.topic.ordering {
        let _ = write!(text, "\nOrdered per key by `{}`.", o.value);
    }
    if let Some(d) = &t.topic.dedupe {
        let _ = write!(text, "\nDeduplicated by `{}` (the `dedupe_key` header).", d.value);
    }
    let lines = docstring(&text);
    let mut out = format!("    \"\"\"{}\n", lines[0]);
    for l in &lines[1..] {
        if l.is_empty() {
            out.push('\n');
        } else {
            let _ = writeln!(out, "    {l}");
        }
    }
    out.push_str("    \"\"\"\n");
    out
}

/// The Python writer of a subject parameter value of this leaf.
fn param_write(leaf: &Leaf, enums: &mut EnumTables, arg: &str) -> String {
    match leaf {
        Leaf::String => arg.to_owned(),
        _ => format!("{}({arg})", enums.writer(leaf)),
    }
}

fn param_type(leaf: &Leaf) -> &'static str {
    match leaf {
        Leaf::String => "str",
        Leaf::Bool => "bool",
        _ => "int",
    }
}

fn constants(c: &mut String, t: &TopicRef<'_>, registry: &Registry, key_format: &str) {
    let _ = writeln!(c, "    id = {}", py_str(&t.id()));
    let _ = writeln!(c, "    namespace = NAMESPACE");
    let _ = writeln!(c, "    domain = {}", py_str(&t.domain.name.value));
    let _ = writeln!(c, "    version = {}", py_str(&t.version.name.value));
    let _ = writeln!(c, "    subtopic = {}", py_str(&t.topic.subtopic.value.to_template()));
    let _ = writeln!(c, "    key_format = {}", py_str(key_format));
    let _ = writeln!(c, "    qos = {}", qos(registry, &t.domain.qos.value));
}

/// The tokens of a subject as Python expressions: literals, and `param`
/// checks of the values `value(name)` gives.
fn tokens(t: &TopicRef<'_>, mut value: impl FnMut(&str) -> String) -> Vec<String> {
    t.topic
        .subtopic
        .value
        .tokens
        .iter()
        .map(|tok| match tok {
            Token::Literal(l) => py_str(l),
            Token::Param(p) => value(p),
        })
        .collect()
}

fn subject_call(c: &mut String, indent: &str, t: &TopicRef<'_>, toks: &[String]) {
    let _ = writeln!(c, "{indent}return _r.subject_of(");
    let _ = writeln!(c, "{indent}    NAMESPACE,");
    let _ = writeln!(c, "{indent}    e,");
    let _ = writeln!(c, "{indent}    {},", py_str(&t.domain.name.value));
    let _ = writeln!(c, "{indent}    {},", py_str(&t.version.name.value));
    let _ = writeln!(c, "{indent}    [");
    for tok in toks {
        let _ = writeln!(c, "{indent}        {tok},");
    }
    let _ = writeln!(c, "{indent}    ],");
    let _ = writeln!(c, "{indent})");
}

/// Renders a payload topic.
pub fn payload_topic(
    registry: &Registry,
    t: &TopicRef<'_>,
    resolved: &ResolvedTopic,
    payload: &str,
    message_type: &str,
    enums: &mut EnumTables,
    globals: &mut Names,
) -> TopicCode {
    let id = t.id();
    let class_name = globals.ident(&camel(&id));
    let const_name = globals.ident(&upper_snake(&id));
    let fn_prefix = format!("_{}", id.replace('.', "_"));
    let key_format = t.topic.key.as_ref().map(|k| k.format.value.to_string()).unwrap_or_default();
    let mut functions = Vec::new();
    let mut fn_names = Vec::new();
    for f in &resolved.fields {
        let name = globals.ident(&format!("{fn_prefix}_key_{}", f.name));
        functions.push(field_function(&name, payload, &f.name, &f.path, enums));
        fn_names.push((f.name.clone(), name));
    }
    let dedupe_fn = resolved.dedupe.as_ref().map(|d| {
        let name = globals.ident(&format!("{fn_prefix}_dedupe"));
        functions.push(field_function(&name, payload, "dedupe", d, enums));
        name
    });

    // Locals of `route`/`partition_key`: `v_<field>`, safe by the prefix.
    let mut locals = Names::with(RESERVED);
    let vars: Vec<(String, String)> =
        resolved.fields.iter().map(|f| (f.name.clone(), locals.ident(&format!("v_{}", f.name)))).collect();
    let var = |name: &str| vars.iter().find(|(n, _)| n == name).map(|(_, v)| v.clone()).unwrap_or_default();
    let key_expr: Vec<String> = t
        .topic
        .key
        .as_ref()
        .map(|k| {
            k.format
                .value
                .parts
                .iter()
                .map(|p| match p {
                    Part::Literal(l) => py_str(l),
                    Part::Field(f) => var(f),
                })
                .collect()
        })
        .unwrap_or_default();
    let key_expr = if key_expr.is_empty() { "\"\"".to_owned() } else { key_expr.join(" + ") };

    let mut c = String::new();
    let _ = writeln!(c, "class {class_name}(_r.Topic[{payload}]):");
    c.push_str(&class_doc(t, &registry.namespace.value, &key_format));
    c.push('\n');
    constants(&mut c, t, registry, &key_format);
    let _ = writeln!(c, "    fqdn = {}", py_str(resolved.message.full_name()));
    let version = t.topic.schema_version.as_ref().map(|v| v.value.to_string()).unwrap_or_default();
    let _ = writeln!(c, "    schema_version = {}", py_str(&version));
    let hash = t.topic.schema_hash.as_ref().map_or_else(|| "None".to_owned(), |h| py_str(&h.value));
    let _ = writeln!(c, "    schema_hash = {hash}");
    let _ = writeln!(c, "    message_type = {message_type}");

    // Typed subject builder from explicit values.
    let mut args = Names::with(RESERVED);
    let params: Vec<(String, String, Leaf)> = t
        .topic
        .subtopic
        .value
        .params()
        .filter_map(|(p, _)| {
            resolved.fields.iter().find(|f| f.name == p).map(|f| (p.to_owned(), args.ident(p), f.path.leaf.clone()))
        })
        .collect();
    c.push('\n');
    if params.is_empty() {
        let _ = writeln!(c, "    def subject(self, env: _r.EnvLike) -> _r.Subject:");
    } else {
        let _ = writeln!(c, "    def subject(\n        self,\n        env: _r.EnvLike,");
        for (_, a, leaf) in &params {
            let _ = writeln!(c, "        {a}: {},", param_type(leaf));
        }
        let _ = writeln!(c, "    ) -> _r.Subject:");
    }
    let _ = writeln!(c, "        \"\"\"The subject for explicit subtopic values, each checked as a token.\"\"\"");
    let _ = writeln!(c, "        e = _r.env_name(env)");
    let toks = tokens(t, |p| {
        let (_, a, leaf) = params.iter().find(|(n, _, _)| n == p).cloned().unwrap_or_default_leaf();
        format!("_r.param({}, {})", py_str(p), param_write(&leaf, enums, &a))
    });
    subject_call(&mut c, "        ", t, &toks);

    // Subscription pattern with optional values.
    c.push('\n');
    if params.is_empty() {
        let _ = writeln!(c, "    def pattern(self, env: _r.EnvLike) -> str:");
        let _ = writeln!(c, "        \"\"\"Every subject of this topic in `env`.\"\"\"");
    } else {
        let _ = writeln!(c, "    def pattern(\n        self,\n        env: _r.EnvLike,");
        for (_, a, _) in &params {
            let _ = writeln!(c, "        {a}: Optional[str] = None,");
        }
        let _ = writeln!(c, "    ) -> str:");
        let _ = writeln!(c, "        \"\"\"A subscription pattern: each placeholder not given is `*`.\"\"\"");
    }
    let _ = writeln!(c, "        e = _r.env_name(env)");
    let toks = tokens(t, |p| {
        let a = params.iter().find(|(n, _, _)| n == p).map(|(_, a, _)| a.clone()).unwrap_or_default();
        format!("_r.wildcard_or({}, {a})", py_str(p))
    });
    let _ = writeln!(c, "        return _r.subject_of(");
    let _ = writeln!(c, "            NAMESPACE,");
    let _ = writeln!(c, "            e,");
    let _ = writeln!(c, "            {},", py_str(&t.domain.name.value));
    let _ = writeln!(c, "            {},", py_str(&t.version.name.value));
    let _ = writeln!(c, "            [");
    for tok in &toks {
        let _ = writeln!(c, "                {tok},");
    }
    let _ = writeln!(c, "            ],");
    let _ = writeln!(c, "        ).text");

    // Routing.
    c.push('\n');
    let _ = writeln!(c, "    def route(self, payload: {payload}, env: _r.EnvLike) -> _r.Routed:");
    let _ = writeln!(c, "        \"\"\"Subject, partition key and dedupe key of a payload in `env`.\"\"\"");
    for ((_, f), (_, v)) in fn_names.iter().zip(&vars) {
        let _ = writeln!(c, "        {v} = {f}(payload)");
    }
    let _ = writeln!(c, "        e = _r.env_name(env)");
    let toks = tokens(t, |p| format!("_r.param({}, {})", py_str(p), var(p)));
    let _ = writeln!(c, "        subject = _r.subject_of(");
    let _ = writeln!(c, "            NAMESPACE,");
    let _ = writeln!(c, "            e,");
    let _ = writeln!(c, "            {},", py_str(&t.domain.name.value));
    let _ = writeln!(c, "            {},", py_str(&t.version.name.value));
    let _ = writeln!(c, "            [");
    for tok in &toks {
        let _ = writeln!(c, "                {tok},");
    }
    let _ = writeln!(c, "            ],");
    let _ = writeln!(c, "        )");
    let _ = writeln!(c, "        return _r.Routed(\n            subject,\n            {key_expr},\n            self.dedupe_key(payload),\n        )");

    c.push('\n');
    let _ = writeln!(c, "    def partition_key(self, payload: {payload}) -> str:");
    let _ = writeln!(c, "        \"\"\"The `partition_key` header for a payload.\"\"\"");
    let in_key = |name: &str| {
        t.topic
            .key
            .as_ref()
            .is_some_and(|k| k.format.value.parts.iter().any(|p| matches!(p, Part::Field(f) if f == name)))
    };
    for ((n, f), (_, v)) in fn_names.iter().zip(&vars) {
        // Every field is evaluated, in order, so errors match `route`;
        // subtopic-only fields are not part of the key text.
        if in_key(n) {
            let _ = writeln!(c, "        {v} = {f}(payload)");
        } else {
            let _ = writeln!(c, "        {f}(payload)");
        }
    }
    let ret = format!("        return {key_expr}");
    if ret.chars().count() <= 100 {
        let _ = writeln!(c, "{ret}");
    } else {
        let _ = writeln!(c, "        return (\n            {key_expr}\n        )");
    }

    if let Some(d) = &dedupe_fn {
        c.push('\n');
        let _ = writeln!(c, "    def dedupe_key(self, payload: {payload}) -> Optional[str]:");
        let _ = writeln!(c, "        \"\"\"The `dedupe_key` header; `None` when unset or empty.\"\"\"");
        let _ = writeln!(c, "        try:");
        let _ = writeln!(c, "            return {d}(payload)");
        let _ = writeln!(c, "        except RouteError:");
        let _ = writeln!(c, "            return None");
    }
    TopicCode { class_name, const_name, id, functions, class: c }
}

/// Renders a dlq topic: subjects by source domain and dead letters.
pub fn dlq_topic(registry: &Registry, t: &TopicRef<'_>, globals: &mut Names) -> TopicCode {
    let id = t.id();
    let class_name = globals.ident(&camel(&id));
    let const_name = globals.ident(&upper_snake(&id));
    let mut c = String::new();
    let _ = writeln!(c, "class {class_name}:");
    c.push_str(&class_doc(t, &registry.namespace.value, ""));
    c.push('\n');
    constants(&mut c, t, registry, "");
    let mut args = Names::with(RESERVED);
    let params: Vec<(String, String)> =
        t.topic.subtopic.value.params().map(|(p, _)| (p.to_owned(), args.ident(p))).collect();
    let arg = |p: &str| params.iter().find(|(n, _)| n == p).map(|(_, a)| a.clone()).unwrap_or_default();
    let sig: String = params.iter().map(|(_, a)| format!("        {a}: str,\n")).collect();
    c.push('\n');
    let _ = writeln!(c, "    def subject(\n        self,\n        env: _r.EnvLike,\n{sig}    ) -> _r.Subject:");
    let _ = writeln!(c, "        \"\"\"Where dead letters from `source_domain` go in `env`.\"\"\"");
    let _ = writeln!(c, "        e = _r.env_name(env)");
    let toks = tokens(t, |p| format!("_r.param({}, {})", py_str(p), arg(p)));
    subject_call(&mut c, "        ", t, &toks);
    c.push('\n');
    let _ = writeln!(c, "    def pattern(self, env: _r.EnvLike) -> str:");
    let _ = writeln!(c, "        \"\"\"Every dead-letter subject in `env`.\"\"\"");
    let _ = writeln!(c, "        e = _r.env_name(env)");
    let toks = tokens(t, |_| "\"*\"".to_owned());
    let _ = writeln!(c, "        return _r.subject_of(");
    let _ = writeln!(c, "            NAMESPACE,");
    let _ = writeln!(c, "            e,");
    let _ = writeln!(c, "            {},", py_str(&t.domain.name.value));
    let _ = writeln!(c, "            {},", py_str(&t.version.name.value));
    let _ = writeln!(c, "            [");
    for tok in &toks {
        let _ = writeln!(c, "                {tok},");
    }
    let _ = writeln!(c, "            ],");
    let _ = writeln!(c, "        ).text");
    c.push('\n');
    let _ = writeln!(c, "    def dead_letter(\n        self,\n        env: _r.EnvLike,\n{sig}        headers: Iterable[Tuple[str, str]],\n        payload: bytes,\n        reason: str,\n    ) -> _e.DeadLetter:");
    let _ = writeln!(c, "        \"\"\"A received record, bytes and headers untouched, plus `dlq_reason`.\"\"\"");
    let call: String = params.iter().map(|(_, a)| format!(", {a}")).collect();
    let _ = writeln!(c, "        subject = self.subject(env{call})");
    let _ = writeln!(c, "        return _e.DeadLetter(subject, _e.dead_letter_headers(headers, reason), payload)");
    TopicCode { class_name, const_name, id, functions: Vec::new(), class: c }
}

trait DefaultLeaf {
    fn unwrap_or_default_leaf(self) -> (String, String, Leaf);
}

impl DefaultLeaf for Option<(String, String, Leaf)> {
    fn unwrap_or_default_leaf(self) -> (String, String, Leaf) {
        self.unwrap_or_else(|| (String::new(), String::new(), Leaf::String))
    }
}
