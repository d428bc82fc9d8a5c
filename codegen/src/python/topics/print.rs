//! The views of `topics.rs` printed as Python: each topic's key functions,
//! heads constant, class and instance, which make up nearly all of a large
//! registry's `topics.py`; the module around them is `topics.py.hbs`.
//!
//! Printed here rather than by templates because handlebars renders from a
//! JSON copy of each view, walking it per expression: on 1,000 topics that
//! was a fifth of `generate --lang python`'s CPU time (benches/scale). The
//! printers still only print: every name, literal and expression arrives
//! computed and escaped in the view, as a template would get it.

use std::fmt::Write as _;

use super::{ClassHead, DlqTopic, PayloadTopic, SubjectBody};

/// Bytes reserved per topic up front: about 4 to 4.5 KB are printed (the
/// default registry, the synthetic one), and capacity never written costs
/// no memory, while growing past it copies the whole module.
const TOPIC_BYTES: usize = 6144;

/// Appends the code of every topic, in the module's order: key functions,
/// heads constants, payload topic classes, dlq topic classes. Each block
/// ends with the two blank lines that separate top-level definitions.
pub fn topics_code(topics: &[PayloadTopic], dlq: &[DlqTopic], out: &mut String) {
    out.reserve((topics.len() + dlq.len()) * TOPIC_BYTES);
    for f in topics.iter().flat_map(|t| &t.functions) {
        f.print(out);
        out.push_str("\n\n");
    }
    for t in topics {
        let _ = writeln!(out, "{} = _r.heads(NAMESPACE, {}, {})", t.heads, t.head.domain, t.head.version);
    }
    if !topics.is_empty() {
        out.push_str("\n\n");
    }
    for t in topics {
        payload_class(t, out);
        instance(&t.head, out);
    }
    for t in dlq {
        dlq_class(t, out);
        instance(&t.head, out);
    }
}

/// `CONST = Class()` between blank-line pairs, after a class.
fn instance(h: &ClassHead, out: &mut String) {
    let _ = write!(out, "\n\n{} = {}()\n\n\n", h.const_name, h.class_name);
}

/// The docstring and constants every class starts with.
fn class_head(h: &ClassHead, out: &mut String) {
    let _ = writeln!(out, "    \"\"\"{}", h.doc_first);
    for line in &h.doc_rest {
        if !line.is_empty() {
            out.push_str("    ");
            out.push_str(line);
        }
        out.push('\n');
    }
    out.push_str("    \"\"\"\n\n");
    for c in &h.constants {
        let _ = writeln!(out, "    {} = {}", c.name, c.value);
    }
}

/// A method's signature: `def name(self, env: _r.EnvLike, ARGS) -> RET:`,
/// on one line without arguments, else one argument per line.
fn signature(out: &mut String, name: &str, args: &[String], ret: &str) {
    if args.is_empty() {
        let _ = writeln!(out, "    def {name}(self, env: _r.EnvLike) -> {ret}:");
    } else {
        signature_lines(out, name, args, &[], ret);
    }
}

/// `_r.subject_of(NAMESPACE, e, domain, version, [tokens])`, indented as
/// the body of a method that has bound `e` and returns it.
fn subject_of(h: &ClassHead, tokens: &[String], out: &mut String) {
    let _ = writeln!(
        out,
        "        e = _r.env_name(env)\n        return _r.subject_of(\n            NAMESPACE,\n            e,\n            {},\n            {},\n            [",
        h.domain, h.version
    );
    for t in tokens {
        let _ = writeln!(out, "                {t},");
    }
    out.push_str("            ],\n");
}

/// The inline subject builder of `subject` and `route`.
fn subject_body(b: &SubjectBody, out: &mut String) {
    let SubjectBody { checks, head, heads, text, text_wrapped, var } = b;
    for c in checks {
        if let Some(setup) = &c.setup {
            let _ = writeln!(out, "        {} = {setup}", c.value);
        }
        let _ = writeln!(out, "        if not {0}.isalnum():\n            _r.param({1}, {0})", c.value, c.field);
    }
    let _ = writeln!(
        out,
        "        {head} = None\n        if type(env) is Env or type(env) is str:\n            {head} = {heads}.get(env)\n        \
         if {head} is None:\n            {head} = {heads}[_r.env_name(env)]\n        {var} = _new_subject(Subject)"
    );
    if *text_wrapped {
        let _ = writeln!(out, "        {var}.text = (\n            {text}\n        )");
    } else {
        let _ = writeln!(out, "        {var}.text = {text}");
    }
    let _ = writeln!(out, "        {var}.kafka_topic = {head}");
}

/// The class of a payload topic.
fn payload_class(t: &PayloadTopic, out: &mut String) {
    let h = &t.head;
    let payload = &t.payload;
    let _ = writeln!(out, "class {}(_r.Topic[{payload}]):", h.class_name);
    class_head(h, out);
    let _ = writeln!(out, "    _heads = {}\n", t.heads);

    let args: Vec<String> = h.params.iter().map(|p| format!("{}: {}", p.arg, p.ty)).collect();
    signature(out, "subject", &args, "_r.Subject");
    out.push_str("        \"\"\"The subject for explicit subtopic values, each checked as a token.\"\"\"\n");
    subject_body(&t.subject_body, out);
    let _ = writeln!(out, "        return {}\n", t.subject_body.var);

    let args: Vec<String> = h.params.iter().map(|p| format!("{}: Optional[str] = None", p.arg)).collect();
    signature(out, "pattern", &args, "str");
    out.push_str(if args.is_empty() {
        "        \"\"\"Every subject of this topic in `env`.\"\"\"\n"
    } else {
        "        \"\"\"A subscription pattern: each placeholder not given is `*`.\"\"\"\n"
    });
    subject_of(h, &h.pattern_tokens, out);
    out.push_str("        ).text\n\n");

    let _ = writeln!(
        out,
        "    def route(self, payload: {payload}, env: _r.EnvLike) -> _r.Routed:\n        \
         \"\"\"Subject, partition key and dedupe key of a payload in `env`.\"\"\""
    );
    for r in &t.reads {
        let _ = writeln!(out, "        {} = {}(payload)", r.var, r.func);
    }
    subject_body(&t.route_body, out);
    let _ = writeln!(
        out,
        "        return _r.Routed(\n            {},\n            {},\n            self.dedupe_key(payload),\n        )\n",
        t.route_body.var, t.key_expr
    );

    let _ = writeln!(
        out,
        "    def partition_key(self, payload: {payload}) -> str:\n        \"\"\"The `partition_key` header for a payload.\"\"\""
    );
    for r in &t.reads {
        if r.in_key {
            let _ = writeln!(out, "        {} = {}(payload)", r.var, r.func);
        } else {
            let _ = writeln!(out, "        {}(payload)", r.func);
        }
    }
    if t.key_wrapped {
        let _ = writeln!(out, "        return (\n            {}\n        )", t.key_expr);
    } else {
        let _ = writeln!(out, "        return {}", t.key_expr);
    }
    if t.has_dedupe {
        let _ = writeln!(
            out,
            "\n    def dedupe_key(self, payload: {payload}) -> Optional[str]:\n        \
             \"\"\"The `dedupe_key` header; `None` when unset or empty.\"\"\"\n        try:\n            \
             return {}(payload)\n        except RouteError:\n            return None",
            t.dedupe
        );
    }
}

/// The class of a dlq topic: subjects by source domain, and dead letters.
fn dlq_class(t: &DlqTopic, out: &mut String) {
    let h = &t.head;
    let _ = writeln!(out, "class {}:", h.class_name);
    class_head(h, out);
    out.push('\n');
    let args: Vec<String> = h.params.iter().map(|p| format!("{}: {}", p.arg, p.ty)).collect();
    // A dlq subtopic always has `{source_domain}`: never the one-line form.
    signature_lines(out, "subject", &args, &[], "_r.Subject");
    out.push_str("        \"\"\"Where dead letters from `source_domain` go in `env`.\"\"\"\n");
    subject_of(h, &h.subject_tokens, out);
    out.push_str("        )\n\n");
    out.push_str("    def pattern(self, env: _r.EnvLike) -> str:\n        \"\"\"Every dead-letter subject in `env`.\"\"\"\n");
    subject_of(h, &h.pattern_tokens, out);
    out.push_str("        ).text\n\n");
    let extra = ["headers: Iterable[Tuple[str, str]]", "payload: bytes", "reason: str"].map(String::from);
    signature_lines(out, "dead_letter", &args, &extra, "_e.DeadLetter");
    let _ = writeln!(
        out,
        "        \"\"\"A received record, bytes and headers untouched, plus `dlq_reason`.\"\"\"\n        \
         subject = self.subject(env{})\n        \
         return _e.DeadLetter(subject, _e.dead_letter_headers(headers, reason), payload)",
        t.call_args
    );
}

/// A signature with one argument per line, whatever their number.
fn signature_lines(out: &mut String, name: &str, args: &[String], extra: &[String], ret: &str) {
    let _ = writeln!(out, "    def {name}(\n        self,\n        env: _r.EnvLike,");
    for a in args.iter().chain(extra) {
        let _ = writeln!(out, "        {a},");
    }
    let _ = writeln!(out, "    ) -> {ret}:");
}
