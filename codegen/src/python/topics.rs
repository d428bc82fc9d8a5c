//! The per-topic views of `topics.py`: every identifier, literal, parameter
//! list and token expression of a topic class, computed from the resolved
//! registry. The Python shape of the classes lives in [`print`], which only
//! prints these views.

mod print;

use std::fmt::Write as _;

pub use print::topics_code;

use super::keys::{field_function, EnumTables, KeyFunction};
use super::names::{camel, docstring, py_fstring, py_str, upper_snake, FPart, Names};
use crate::registry::resolve::{Leaf, ResolvedTopic};
use crate::registry::{Delivery, Registry, TopicRef};
use crate::template::{Part, Token};

/// What every topic class starts with: names, docstring and constants.
pub struct ClassHead {
    pub class_name: String,
    pub const_name: String,
    /// The topic id as a Python literal (its key in `TOPICS`).
    pub id: String,
    /// The docstring's first line, printed after the opening quotes.
    doc_first: String,
    /// The docstring's other lines, escaped; empty ones print blank.
    doc_rest: Vec<String>,
    /// Class constants, in order, with their values as Python expressions.
    constants: Vec<Constant>,
    /// Domain and version as literals, the third and fourth subject tokens.
    domain: String,
    version: String,
    /// Subject builder parameters, in subtopic order.
    pub params: Vec<Param>,
    /// Subject tokens of `subject(...)`, as Python expressions.
    subject_tokens: Vec<String>,
    /// Subject tokens of `pattern(...)`, as Python expressions.
    pattern_tokens: Vec<String>,
}

struct Constant {
    name: &'static str,
    value: String,
}

pub struct Param {
    arg: String,
    ty: &'static str,
}

/// A key field read in `route`/`partition_key`: local, key function and
/// whether the key text uses it (subtopic-only fields are still evaluated,
/// in order, so errors match `route`).
struct Read {
    var: String,
    func: String,
    in_key: bool,
}

/// How `subject` and `route` build a subject inline ([`print`]):
/// each placeholder's text, checked as a token, then the head looked up by
/// env, then the object made without `Subject.__init__`. No call but the
/// checks' slow path: this is the hot path a publisher takes per record.
struct SubjectBody {
    /// Each placeholder's field name (a literal) and its text's local, in
    /// subtopic order: `isalnum()` accepts a token outright, anything else
    /// goes through `_r.param`, which raises the error or accepts it. A
    /// non-string parameter's text is assigned to its local just before
    /// its check, so errors keep the subtopic's order.
    checks: Vec<Check>,
    /// The local holding the head and the module constant of this topic's
    /// heads by env.
    head: String,
    heads: String,
    /// The subject text, an f-string of the head and the tokens, and
    /// whether it goes on its own line in parentheses, as the formatter
    /// would put it (only when that makes it fit).
    text: String,
    text_wrapped: bool,
    /// The local holding the subject.
    var: String,
}

struct Check {
    field: String,
    value: String,
    /// The expression assigned to `value` first, if it is not a parameter.
    setup: Option<String>,
}

/// A payload topic: its class and the key functions it calls.
pub struct PayloadTopic {
    pub head: ClassHead,
    /// The module constant of the heads by env (`_bars_v1_bars_heads`).
    heads: String,
    subject_body: SubjectBody,
    route_body: SubjectBody,
    /// The payload class expression (`_bars_pb2.BarBatch`).
    payload: String,
    /// Module-level key functions, printed before the classes.
    pub functions: Vec<KeyFunction>,
    reads: Vec<Read>,
    /// The partition key text as one Python expression.
    key_expr: String,
    /// Whether `return {key_expr}` is too long for one line.
    key_wrapped: bool,
    /// Whether the topic has a dedupe path, and its function.
    pub has_dedupe: bool,
    dedupe: String,
}

/// A dlq topic: subjects by source domain and dead letters.
pub struct DlqTopic {
    pub head: ClassHead,
    /// The subject parameters passed on by `dead_letter` (`, source_domain`).
    call_args: String,
}

/// Names Python code inside a generated method may not take as parameters.
/// The module names a method's body refers to (`Env`, `Subject`, `_r`,
/// `_new_subject`, the heads constants) need no entry: placeholders are
/// lower_snake_case starting with a letter (`registry::bad_name`), so none
/// can be spelled like them.
const RESERVED: &[&str] = &["self", "env", "payload"];

/// Past this many characters `partition_key`'s return is wrapped in
/// parentheses, as the formatter would.
const LINE_WIDTH: usize = 100;

fn qos(registry: &Registry, name: &str) -> String {
    let tier = registry.qos.iter().find(|q| q.name.value == name);
    let delivery = match tier.map(|t| t.delivery.value) {
        Some(Delivery::AtMostOnce) => "at_most_once",
        _ => "at_least_once",
    };
    let p99 = tier.and_then(|t| t.p99_ms.as_ref()).map_or_else(|| "None".to_owned(), |p| p.value.to_string());
    format!("_r.Qos({}, {}, {p99})", py_str(name), py_str(delivery))
}

/// The docstring lines of a topic class: its id, description, subject and
/// key.
fn class_doc(t: &TopicRef<'_>, namespace: &str, key_format: &str) -> Vec<String> {
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
    docstring(&text)
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

/// The tokens of a subject as Python expressions: literals, and `value(name)`
/// for each placeholder.
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

/// The inline subject builder of a topic: `value(name)` gives a
/// placeholder's text as a local name, or as an expression that is first
/// assigned to a new local. `locals` holds every name already taken in
/// the method.
fn build_subject_body(
    t: &TopicRef<'_>,
    heads: &str,
    locals: &mut Names,
    mut value: impl FnMut(&str) -> (String, bool),
) -> SubjectBody {
    let mut checks = Vec::new();
    let mut tokens = Vec::new();
    for tok in &t.topic.subtopic.value.tokens {
        match tok {
            Token::Literal(l) => tokens.push((l.clone(), false)),
            Token::Param(p) => {
                let (expr, is_local) = value(p);
                let (var, setup) = if is_local { (expr, None) } else { (locals.ident(&format!("t_{p}")), Some(expr)) };
                checks.push(Check { field: py_str(p), value: var.clone(), setup });
                tokens.push((var, true));
            }
        }
    }
    let head = locals.ident("head");
    let mut parts = vec![FPart::Expr(&head), FPart::Text(".")];
    for (i, (text, is_expr)) in tokens.iter().enumerate() {
        if i > 0 {
            parts.push(FPart::Text("."));
        }
        parts.push(if *is_expr { FPart::Expr(text) } else { FPart::Text(text) });
    }
    let text = py_fstring(&parts);
    let var = locals.ident("subject");
    let width = |s: &str| s.chars().count();
    let text_wrapped = 8 + width(&var) + 8 + width(&text) > LINE_WIDTH && 12 + width(&text) <= LINE_WIDTH;
    SubjectBody { checks, heads: heads.to_owned(), text, text_wrapped, var, head }
}

/// The head of a topic class; `params`, tokens and payload constants are
/// filled in by the caller.
fn head(registry: &Registry, t: &TopicRef<'_>, key_format: &str, globals: &mut Names) -> ClassHead {
    let id = t.id();
    let class_name = globals.ident(&camel(&id));
    let const_name = globals.ident(&upper_snake(&id));
    let mut doc = class_doc(t, &registry.namespace.value, key_format).into_iter();
    let doc_first = doc.next().unwrap_or_default();
    let constants = vec![
        Constant { name: "id", value: py_str(&id) },
        Constant { name: "namespace", value: "NAMESPACE".to_owned() },
        Constant { name: "domain", value: py_str(&t.domain.name.value) },
        Constant { name: "version", value: py_str(&t.version.name.value) },
        Constant { name: "subtopic", value: py_str(&t.topic.subtopic.value.to_template()) },
        Constant { name: "key_format", value: py_str(key_format) },
        Constant { name: "qos", value: qos(registry, &t.domain.qos.value) },
    ];
    ClassHead {
        class_name,
        const_name,
        id: py_str(&id),
        doc_first,
        doc_rest: doc.collect(),
        constants,
        domain: py_str(&t.domain.name.value),
        version: py_str(&t.version.name.value),
        params: Vec::new(),
        subject_tokens: Vec::new(),
        pattern_tokens: Vec::new(),
    }
}

/// The view of a payload topic.
pub fn payload_topic(
    registry: &Registry,
    t: &TopicRef<'_>,
    resolved: &ResolvedTopic,
    payload: &str,
    enums: &mut EnumTables,
    globals: &mut Names,
) -> PayloadTopic {
    let id = t.id();
    let key_format = t.topic.key.as_ref().map(|k| k.format.value.to_string()).unwrap_or_default();
    let mut head = head(registry, t, &key_format, globals);
    let fn_prefix = format!("_{}", id.replace('.', "_"));
    let mut functions = Vec::new();
    let mut fn_names = Vec::new();
    for f in &resolved.fields {
        let name = globals.ident(&format!("{fn_prefix}_key_{}", f.name));
        functions.push(field_function(&name, payload, &f.name, &f.path, enums));
        fn_names.push(name);
    }
    let dedupe = resolved.dedupe.as_ref().map(|d| {
        let name = globals.ident(&format!("{fn_prefix}_dedupe"));
        functions.push(field_function(&name, payload, "dedupe", d, enums));
        name
    });

    let version = t.topic.schema_version.as_ref().map(|v| v.value.to_string()).unwrap_or_default();
    let hash = t.topic.schema_hash.as_ref().map_or_else(|| "None".to_owned(), |h| py_str(&h.value));
    head.constants.extend([
        Constant { name: "fqdn", value: py_str(resolved.message.full_name()) },
        Constant { name: "schema_version", value: py_str(&version) },
        Constant { name: "schema_hash", value: hash },
        Constant { name: "message_type", value: payload.to_owned() },
    ]);

    // Subject builder arguments: the placeholders that are key fields.
    let heads = globals.ident(&format!("{fn_prefix}_heads"));
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
    let param = |p: &str| params.iter().find(|(n, _, _)| n == p);
    let subject_body = build_subject_body(t, &heads, &mut args, |p| {
        let (a, leaf) = param(p).map_or((String::new(), Leaf::String), |(_, a, l)| (a.clone(), l.clone()));
        (param_write(&leaf, enums, &a), leaf == Leaf::String)
    });
    head.pattern_tokens = tokens(t, |p| {
        let a = param(p).map(|(_, a, _)| a.as_str()).unwrap_or_default();
        format!("_r.wildcard_or({}, {a})", py_str(p))
    });
    head.params = params.iter().map(|(_, arg, leaf)| Param { arg: arg.clone(), ty: param_type(leaf) }).collect();

    // Locals of `route`/`partition_key`: `v_<field>`, safe by the prefix.
    let mut locals = Names::with(RESERVED);
    let vars: Vec<(String, String)> =
        resolved.fields.iter().map(|f| (f.name.clone(), locals.ident(&format!("v_{}", f.name)))).collect();
    let var = |name: &str| vars.iter().find(|(n, _)| n == name).map(|(_, v)| v.clone()).unwrap_or_default();
    let parts = t.topic.key.as_ref().map_or(&[][..], |k| &k.format.value.parts[..]);
    let key_expr: Vec<String> = parts
        .iter()
        .map(|p| match p {
            Part::Literal(l) => py_str(l),
            Part::Field(f) => var(f),
        })
        .collect();
    let key_expr = if key_expr.is_empty() { "\"\"".to_owned() } else { key_expr.join(" + ") };
    let in_key = |name: &str| parts.iter().any(|p| matches!(p, Part::Field(f) if f == name));
    let reads = fn_names
        .into_iter()
        .zip(&vars)
        .map(|(func, (name, v))| Read { var: v.clone(), func, in_key: in_key(name) })
        .collect();
    let route_body = build_subject_body(t, &heads, &mut locals, |p| (var(p), true));

    PayloadTopic {
        head,
        heads,
        subject_body,
        route_body,
        payload: payload.to_owned(),
        functions,
        reads,
        key_wrapped: format!("        return {key_expr}").chars().count() > LINE_WIDTH,
        key_expr,
        has_dedupe: dedupe.is_some(),
        dedupe: dedupe.unwrap_or_default(),
    }
}

/// The view of a dlq topic.
pub fn dlq_topic(registry: &Registry, t: &TopicRef<'_>, globals: &mut Names) -> DlqTopic {
    let mut head = head(registry, t, "", globals);
    let mut args = Names::with(RESERVED);
    let params: Vec<(String, String)> =
        t.topic.subtopic.value.params().map(|(p, _)| (p.to_owned(), args.ident(p))).collect();
    let arg = |p: &str| params.iter().find(|(n, _)| n == p).map(|(_, a)| a.clone()).unwrap_or_default();
    head.subject_tokens = tokens(t, |p| format!("_r.param({}, {})", py_str(p), arg(p)));
    head.pattern_tokens = tokens(t, |_| "\"*\"".to_owned());
    let call_args = params.iter().map(|(_, a)| format!(", {a}")).collect();
    head.params = params.into_iter().map(|(_, arg)| Param { arg, ty: "str" }).collect();
    DlqTopic { head, call_args }
}
