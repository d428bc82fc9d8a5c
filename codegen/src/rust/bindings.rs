//! The bus bindings for one topic or payload: constants, subject builders,
//! subscription patterns and the `ampy_bus` trait impls.
//!
//! One [`Routing`] value renders them all, for build.rs output (one module
//! per topic, marker types) and for both forms of `#[derive(Payload)]` (a
//! `const _` block on the user's struct), so every path routes and keys
//! payloads identically.

use super::code::{lit, Code};
use super::keys::{self, Scope};
use super::names::snake;
use crate::registry::resolve::{Leaf, ResolvedField, ResolvedTopic};
use crate::registry::{Delivery, Registry, TopicRef};
use crate::template::{KeyFormat, Part, Subtopic, Token};

/// One payload topic with everything needed to render it.
pub struct TopicModel<'a> {
    pub registry: &'a Registry,
    pub topic: TopicRef<'a>,
    pub resolved: &'a ResolvedTopic,
}

/// One key field: its name, the Rust type its value is compared and
/// written as, and a block expression of type `Result<that type,
/// RouteError>` that evaluates it on `p`.
pub struct FieldValue {
    pub name: String,
    pub ty: String,
    pub value: String,
}

/// Everything the routing functions and trait impls are rendered from.
///
/// The registry (build.rs and the registry-backed derive) and the explicit
/// derive attributes both produce one, so every path renders the same
/// code from the same function.
pub struct Routing {
    pub id: String,
    pub namespace: String,
    pub domain: String,
    pub version: String,
    pub subtopic: Subtopic,
    pub key_format: KeyFormat,
    pub fqdn: String,
    pub schema_version: String,
    pub schema_hash: Option<String>,
    /// An `::ampy_bus::Qos` expression.
    pub qos: String,
    /// In evaluation order.
    pub fields: Vec<FieldValue>,
    pub dedupe: Option<FieldValue>,
}

impl TopicModel<'_> {
    pub fn id(&self) -> String {
        self.topic.id()
    }

    /// The routing of this topic, with key paths walked on `p`.
    pub fn routing(&self, scope: &Scope<'_>) -> Result<Routing, String> {
        let value = |f: &ResolvedField| -> Result<FieldValue, String> {
            Ok(FieldValue {
                name: f.name.clone(),
                ty: keys::value_type(&f.path),
                value: keys::field_value(scope, f, "p")?,
            })
        };
        let fields = self.resolved.fields.iter().map(value).collect::<Result<Vec<_>, _>>()?;
        let dedupe = match &self.resolved.dedupe {
            Some(path) => Some(value(&ResolvedField { name: "dedupe".into(), path: path.clone() })?),
            None => None,
        };
        let t = self.topic.topic;
        Ok(Routing {
            id: self.id(),
            namespace: self.registry.namespace.value.clone(),
            domain: self.topic.domain.name.value.clone(),
            version: self.topic.version.name.value.clone(),
            subtopic: t.subtopic.value.clone(),
            key_format: t
                .key
                .as_ref()
                .map(|k| k.format.value.clone())
                .unwrap_or(KeyFormat { parts: Vec::new(), ranges: Vec::new() }),
            fqdn: self.resolved.message.full_name().to_owned(),
            schema_version: t.schema_version.as_ref().map(|v| v.value.to_string()).unwrap_or_default(),
            schema_hash: t.schema_hash.as_ref().map(|h| h.value.clone()),
            qos: self.qos(),
            fields,
            dedupe,
        })
    }

    fn qos(&self) -> String {
        let name = &self.topic.domain.qos.value;
        let tier = self.registry.qos.iter().find(|q| q.name.value == *name);
        let delivery = match tier.map(|t| t.delivery.value) {
            Some(Delivery::AtMostOnce) => "AtMostOnce",
            _ => "AtLeastOnce",
        };
        let p99 = match tier.and_then(|t| t.p99_ms.as_ref()).map(|p| u32::try_from(p.value).unwrap_or(u32::MAX)) {
            Some(ms) => format!("Some({ms})"),
            None => "None".to_owned(),
        };
        format!("::ampy_bus::Qos {{ tier: {}, delivery: ::ampy_bus::Delivery::{delivery}, p99_ms: {p99} }}", lit(name))
    }

    /// Typed builders from explicit values, for the build.rs output:
    /// `subject(env, mic, symbol)` and `pattern_with(env, Some(mic), None)`.
    pub fn typed_builders(&self, c: &mut Code, env_ty: &str) {
        let subtopic = &self.topic.topic.subtopic.value;
        let params: Vec<(&str, &crate::registry::resolve::ResolvedPath)> = subtopic
            .params()
            .filter_map(|(n, _)| self.resolved.fields.iter().find(|f| f.name == n).map(|f| (n, &f.path)))
            .collect();
        let args: String = params.iter().map(|(n, path)| format!(", {}: {}", arg(n), keys::param_type(path))).collect();
        let opt_args: String = params.iter().map(|(n, _)| format!(", {}: Option<&str>", arg(n))).collect();
        c.doc(" The subject for explicit subtopic values. Each value is checked");
        c.doc(" as a subject token.");
        c.open(format!("pub fn subject(env: {env_ty}{args}) -> Result<::ampy_bus::Subject, ::ampy_bus::RouteError>"));
        for (n, path) in &params {
            if let Leaf::Enum(_) = &path.leaf {
                let v = arg(n);
                c.line(format!(
                    "let {v} = ::ampy_bus::key::EnumValue {{ number: {v}, name: {} }};",
                    keys::enum_name_fn(&path.leaf)
                ));
            }
        }
        let extra = subject_extra(&subtopic.tokens);
        c.line(format!(
            "let mut s = ::ampy_bus::topic::SubjectBuf::for_env(NAMESPACE, &env, DOMAIN, VERSION, {extra})?;"
        ));
        push_tokens(c, &subtopic.tokens, |p| format!("s.param({}, &{})?;", lit(p), arg(p)));
        c.line("Ok(s.finish())");
        c.close("");
        c.doc(" A subscription pattern: each `None` becomes `*`.");
        c.open(format!("pub fn pattern_with(env: {env_ty}{opt_args}) -> Result<String, ::ampy_bus::RouteError>"));
        c.line("let mut s = ::ampy_bus::topic::SubjectBuf::for_env(NAMESPACE, &env, DOMAIN, VERSION, 0)?;");
        push_tokens(c, &subtopic.tokens, |p| format!("s.wildcard_or({}, {})?;", lit(p), arg(p)));
        c.line("Ok(s.finish().into_string())");
        c.close("");
    }
}

impl Routing {
    /// The routing functions over payload type `payload`: `key_fields`,
    /// `partition_key`, `dedupe_key`, `topic_for` and `pattern`, each
    /// prefixed with `vis` (`pub ` or nothing). `env` is the env type, the
    /// only thing a subject's env can come from.
    pub fn functions(&self, c: &mut Code, payload: &str, vis: &str, env: &str) {
        let fields = &self.fields;
        let tuple = |items: Vec<String>| match items.len() {
            1 => format!("({},)", items[0]),
            _ => format!("({})", items.join(", ")),
        };
        c.doc(" Every key field's value, checked in declaration order.");
        let tys = tuple(fields.iter().map(|f| f.ty.clone()).collect());
        c.open(format!("fn key_fields(p: &{payload}) -> Result<{tys}, ::ampy_bus::RouteError>"));
        for f in fields {
            // `let f_x = { … }?;`, the block re-indented.
            let lines: Vec<&str> = f.value.trim().lines().collect();
            let last = lines.len().saturating_sub(1);
            for (i, l) in lines.iter().enumerate() {
                let head = if i == 0 { format!("let {} = ", var(&f.name)) } else { String::new() };
                let tail = if i == last { "?;" } else { "" };
                c.append(&format!("{head}{l}{tail}"));
            }
        }
        c.line(format!("Ok({})", tuple(fields.iter().map(|f| var(&f.name)).collect())));
        c.close("");
        if let Some(d) = &self.dedupe {
            c.open(format!("fn dedupe_value(p: &{payload}) -> Result<{}, ::ampy_bus::RouteError>", d.ty));
            c.append(&d.value);
            c.close("");
        }
        let pattern = |names: &[&str]| {
            tuple(
                fields
                    .iter()
                    .map(|f| if names.contains(&f.name.as_str()) { var(&f.name) } else { "_".into() })
                    .collect(),
            )
        };

        let format = &self.key_format.parts;
        let key_names: Vec<&str> =
            format.iter().filter_map(|p| if let Part::Field(f) = p { Some(f.as_str()) } else { None }).collect();
        let literal_len: usize = format.iter().map(|p| if let Part::Literal(l) = p { l.len() } else { 0 }).sum();
        let mut capacity: Vec<String> =
            key_names.iter().map(|n| format!("::ampy_bus::key::KeyValue::len_hint(&{})", var(n))).collect();
        if literal_len > 0 || capacity.is_empty() {
            capacity.insert(0, literal_len.to_string());
        }
        c.doc(" The `partition_key` header for a payload.");
        c.open(format!("{vis}fn partition_key(p: &{payload}) -> Result<String, ::ampy_bus::RouteError>"));
        c.line(format!("let {} = key_fields(p)?;", pattern(&key_names)));
        c.line(format!("let mut out = String::with_capacity({});", capacity.join(" + ")));
        for part in format {
            match part {
                Part::Literal(l) if l.chars().count() == 1 => {
                    c.line(format!("out.push({:?});", l.chars().next().unwrap_or_default()));
                }
                Part::Literal(l) => c.line(format!("out.push_str({});", lit(l))),
                Part::Field(f) => c.line(format!("::ampy_bus::key::KeyValue::write_to(&{}, &mut out);", var(f))),
            }
        }
        c.line("Ok(out)");
        c.close("");

        c.doc(" The `dedupe_key` header, from the registry's `dedupe` path.");
        c.open(format!("{vis}fn dedupe_key(p: &{payload}) -> Option<String>"));
        if self.dedupe.is_some() {
            c.line("let value = dedupe_value(p).ok()?;");
            c.line("let mut out = String::new();");
            c.line("::ampy_bus::key::KeyValue::write_to(&value, &mut out);");
            c.line("Some(out)");
        } else {
            c.line("let _ = p;");
            c.line("None");
        }
        c.close("");

        let tokens = &self.subtopic.tokens;
        let sub_names: Vec<&str> = self.subtopic.params().map(|(n, _)| n).collect();
        c.doc(" The subject a payload is published on in `env`.");
        c.open(format!(
            "{vis}fn topic_for(p: &{payload}, env: {env}) -> Result<::ampy_bus::Subject, ::ampy_bus::RouteError>"
        ));
        c.line(format!("let {} = key_fields(p)?;", pattern(&sub_names)));
        c.line(format!(
            "let mut s = ::ampy_bus::topic::SubjectBuf::for_env(NAMESPACE, &env, DOMAIN, VERSION, {})?;",
            subject_extra(tokens)
        ));
        push_tokens(c, tokens, |p| format!("s.param({}, &{})?;", lit(p), var(p)));
        c.line("Ok(s.finish())");
        c.close("");

        c.doc(" Every subject of this topic in `env`, placeholders as `*`.");
        c.open(format!("{vis}fn pattern(env: {env}) -> Result<String, ::ampy_bus::RouteError>"));
        c.line("let mut s = ::ampy_bus::topic::SubjectBuf::for_env(NAMESPACE, &env, DOMAIN, VERSION, 0)?;");
        push_tokens(c, tokens, |_| "s.literal(\"*\");".to_owned());
        c.line("Ok(s.finish().into_string())");
        c.close("");
    }

    /// `const`s describing the topic and its schema, each prefixed with
    /// `vis` (`pub ` or an attribute).
    pub fn consts(&self, c: &mut Code, vis: &str) {
        let hash = match &self.schema_hash {
            Some(h) => format!("Some({})", lit(h)),
            None => "None".to_owned(),
        };
        c.doc(" Topic id, `domain.version.topic`.");
        c.line(format!("{vis}const ID: &str = {};", lit(&self.id)));
        c.line(format!("{vis}const NAMESPACE: &str = {};", lit(&self.namespace)));
        c.line(format!("{vis}const DOMAIN: &str = {};", lit(&self.domain)));
        c.doc(" Topic version: the payload's major version.");
        c.line(format!("{vis}const VERSION: &str = {};", lit(&self.version)));
        c.doc(" Subtopic template, as written in the registry.");
        c.line(format!("{vis}const SUBTOPIC: &str = {};", lit(&self.subtopic.to_string())));
        c.doc(" Partition key format, as written in the registry.");
        c.line(format!("{vis}const KEY_FORMAT: &str = {};", lit(&self.key_format.to_string())));
        c.doc(" The payload's fully qualified message name.");
        c.line(format!("{vis}const FQDN: &str = {};", lit(&self.fqdn)));
        c.line(format!("{vis}const SCHEMA_VERSION: &str = {};", lit(&self.schema_version)));
        c.doc(" Canonical schema hash locked in the registry.");
        c.line(format!("{vis}const SCHEMA_HASH: Option<&str> = {hash};"));
        c.line(format!("{vis}const QOS: ::ampy_bus::Qos = {};", self.qos));
    }

    /// `impl Topic for ty` delegating to the routing functions at `fns`
    /// (a path prefix such as `bars::`, or nothing), with env type `env`.
    pub fn topic_impl(&self, c: &mut Code, ty: &str, payload: &str, fns: &str, env: &str) {
        c.open(format!("impl ::ampy_bus::Topic for {ty}"));
        c.line(format!("type Payload = {payload};"));
        c.line(format!("type Env = {env};"));
        for name in ["ID", "NAMESPACE", "DOMAIN", "VERSION", "SUBTOPIC"] {
            c.line(format!("const {name}: &'static str = {fns}{name};"));
        }
        c.line(format!("const QOS: ::ampy_bus::Qos = {fns}QOS;"));
        c.block(
            "fn topic_for(payload: &Self::Payload, env: Self::Env) -> Result<::ampy_bus::Subject, ::ampy_bus::RouteError>",
            format!("{fns}topic_for(payload, env)"),
        );
        c.block(
            "fn partition_key(payload: &Self::Payload) -> Result<String, ::ampy_bus::RouteError>",
            format!("{fns}partition_key(payload)"),
        );
        c.block("fn pattern(env: Self::Env) -> Result<String, ::ampy_bus::RouteError>", format!("{fns}pattern(env)"));
        c.close("");
    }

    /// `Schema` for the payload, delegating to `fns`.
    pub fn schema_impl(&self, c: &mut Code, payload: &str, fns: &str) {
        c.open(format!("impl ::ampy_bus::Schema for {payload}"));
        c.line(format!("const FQDN: &'static str = {fns}FQDN;"));
        c.line(format!("const SCHEMA_VERSION: &'static str = {fns}SCHEMA_VERSION;"));
        c.line(format!("const SCHEMA_HASH: Option<&'static str> = {fns}SCHEMA_HASH;"));
        c.close("");
    }

    /// `PartitionKey` for the payload, delegating to `fns`.
    pub fn key_impl(&self, c: &mut Code, payload: &str, fns: &str) {
        c.open(format!("impl ::ampy_bus::PartitionKey for {payload}"));
        c.block(
            "fn partition_key(&self) -> Result<String, ::ampy_bus::RouteError>",
            format!("{fns}partition_key(self)"),
        );
        c.block("fn dedupe_key(&self) -> Option<String>", format!("{fns}dedupe_key(self)"));
        c.close("");
    }

    /// What `#[derive(Payload)]` expands to on `self_ty` with env type
    /// `env`: the routing functions and every trait impl, inside a
    /// `const _` block.
    pub fn derive_block(&self, self_ty: &str, env: &str) -> String {
        let mut c = Code::new();
        c.open("const _: () =");
        // The derive expands in the user's scope, where `Result` or `String`
        // may be their own; these names win inside the block.
        c.line("#[allow(unused_imports)]");
        c.line("use ::core::option::Option::{self, None, Some};");
        c.line("#[allow(unused_imports)]");
        c.line("use ::core::result::Result::{self, Err, Ok};");
        c.line("#[allow(unused_imports)]");
        c.line("use ::std::string::String;");
        self.consts(&mut c, "#[allow(dead_code)] ");
        self.functions(&mut c, self_ty, "", env);
        self.topic_impl(&mut c, self_ty, self_ty, "", env);
        self.schema_impl(&mut c, self_ty, "");
        self.key_impl(&mut c, self_ty, "");
        inherent_topic_for(&mut c, self_ty, "", env);
        c.close(";");
        c.finish()
    }
}

/// `impl payload { pub fn topic_for(&self, env) }`, delegating to `fns`.
pub fn inherent_topic_for(c: &mut Code, payload: &str, fns: &str, env: &str) {
    c.open(format!("impl {payload}"));
    c.doc(" The subject this payload is published on in `env`.");
    c.block(
        format!("pub fn topic_for(&self, env: {env}) -> Result<::ampy_bus::Subject, ::ampy_bus::RouteError>"),
        format!("{fns}topic_for(self, env)"),
    );
    c.close("");
}

/// The bytes to reserve for the subtopic beyond the topic prefix.
fn subject_extra(tokens: &[Token]) -> usize {
    tokens.iter().map(|t| if let Token::Literal(l) = t { l.len() + 1 } else { 17 }).sum()
}

/// `s.literal(..)` per literal token and `param(p)` per placeholder.
fn push_tokens(c: &mut Code, tokens: &[Token], param: impl Fn(&str) -> String) {
    for t in tokens {
        match t {
            Token::Literal(l) => c.line(format!("s.literal({});", lit(l))),
            Token::Param(p) => c.line(param(p)),
        }
    }
}

/// Local variable for a key field (`f_symbol`), clear of keywords and of
/// the generated code's own names.
pub fn var(name: &str) -> String {
    format!("f_{name}")
}

/// A typed builder's argument: the key field's own name, clear of the
/// builder's `env` and `s`.
fn arg(name: &str) -> String {
    match name {
        "env" | "s" => format!("{name}_"),
        _ => snake(name).to_string(),
    }
}

/// The module name for a registry name (domain, version, topic).
pub fn module(name: &str) -> String {
    snake(name).to_string()
}
