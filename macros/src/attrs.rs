//! Parsing `#[ampy(...)]` into one of the two forms.
//!
//! Every problem becomes a spanned `syn::Error` and they are all combined,
//! so a user fixing a derive sees the whole list at once instead of one
//! error per rebuild.

use proc_macro2::Span;
use syn::punctuated::Punctuated;
use syn::spanned::Spanned;
use syn::{Attribute, Expr, Lit, LitStr, Meta, Token};

use crate::errors::Errors;

/// Keys of the registry-backed form.
const REGISTRY_KEYS: &[&str] = &["registry", "topic"];
/// Keys both forms take.
const COMMON_KEYS: &[&str] = &["env"];
/// Keys of the explicit form.
const EXPLICIT_KEYS: &[&str] =
    &["namespace", "domain", "version", "subtopic", "key", "schema", "schema_version", "schema_hash", "qos", "dedupe"];
/// Keys of `#[derive(WireShape)]`: the registry and one definition.
const SHAPE_KEYS: &[&str] = &["registry", "message", "oneof", "enumeration"];
/// Keys the explicit form cannot do without.
const EXPLICIT_REQUIRED: &[&str] = &["domain", "version", "subtopic", "key", "schema", "schema_version"];

/// What the user asked for.
pub enum Form {
    Registry(RegistryForm),
    Explicit(ExplicitForm),
}

/// `#[ampy(registry = "…", topic = "…")]`, optionally `env = "path::Env"`.
pub struct RegistryForm {
    pub registry: LitStr,
    pub topic: LitStr,
    pub env: Option<LitStr>,
}

/// `#[derive(WireShape)]`'s `#[ampy(registry = "…", message = "…")]` (or
/// `oneof`, or `enumeration`).
pub struct ShapeForm {
    pub registry: LitStr,
    pub target: ShapeTarget,
}

/// The definition a `WireShape` type is checked against.
pub enum ShapeTarget {
    Message(LitStr),
    Oneof(LitStr),
    Enumeration(LitStr),
}

impl ShapeTarget {
    pub fn lit(&self) -> &LitStr {
        match self {
            ShapeTarget::Message(l) | ShapeTarget::Oneof(l) | ShapeTarget::Enumeration(l) => l,
        }
    }
}

/// `#[ampy(domain = "…", version = "…", …)]` for types outside a registry.
pub struct ExplicitForm {
    pub namespace: Option<LitStr>,
    pub domain: LitStr,
    pub version: LitStr,
    pub subtopic: LitStr,
    pub key: LitStr,
    pub schema: LitStr,
    pub schema_version: LitStr,
    pub schema_hash: Option<LitStr>,
    pub qos: Option<LitStr>,
    pub dedupe: Option<LitStr>,
    pub env: Option<LitStr>,
}

/// One `key = "value"` entry, kept with its key for spans.
struct Entry {
    key: String,
    key_span: Span,
    value: LitStr,
}

/// Reads every `#[ampy]` attribute of the item. `item_span` is where an
/// error goes when there is no attribute at all.
pub fn parse(attrs: &[Attribute], item_span: Span) -> Result<Form, syn::Error> {
    let ampy: Vec<&Attribute> = attrs.iter().filter(|a| a.path().is_ident("ampy")).collect();
    if ampy.is_empty() {
        return Err(syn::Error::new(
            item_span,
            "`#[derive(Payload)]` needs an `#[ampy(...)]` attribute: either \
             `#[ampy(registry = \"registry/ampy.yaml\", topic = \"bars.v1\")]` for a registered topic, or the \
             explicit form `#[ampy(domain = \"…\", version = \"v1\", subtopic = \"…\", key = \"…\", schema = \"…\", \
             schema_version = \"1.0.0\")]`",
        ));
    }
    let all: Vec<&str> = REGISTRY_KEYS.iter().chain(COMMON_KEYS).chain(EXPLICIT_KEYS).copied().collect();
    let mut errors = Errors::default();
    let entries = entries(&ampy, &all, &mut errors);
    errors.finish()?;
    let attr_span = ampy[0];
    let take = |key: &str| entries.iter().find(|e| e.key == key).map(|e| e.value.clone());
    let registry_keys: Vec<&Entry> = entries.iter().filter(|e| REGISTRY_KEYS.contains(&e.key.as_str())).collect();
    if !registry_keys.is_empty() {
        for e in entries.iter().filter(|e| EXPLICIT_KEYS.contains(&e.key.as_str())) {
            errors.push(syn::Error::new(
                e.key_span,
                format!(
                    "`{}` belongs to the explicit form, but this derive reads the topic from a registry \
                     (`registry`/`topic`), which already defines it; remove `{}`, or drop `registry` and `topic` to \
                     describe the topic explicitly",
                    e.key, e.key
                ),
            ));
        }
        let missing: Vec<&str> = REGISTRY_KEYS.iter().copied().filter(|k| take(k).is_none()).collect();
        if !missing.is_empty() {
            let (given, span) = (&registry_keys[0].key, registry_keys[0].key_span);
            let hint = match missing[0] {
                "topic" => "add `topic = \"domain.version.topic\"`, e.g. `topic = \"bars.v1\"`",
                _ => "add `registry = \"path/to/ampy.yaml\"`, relative to the crate's Cargo.toml directory",
            };
            errors.push(syn::Error::new(span, format!("`{given}` needs `{}` too: {hint}", missing[0])));
        }
        errors.finish()?;
        let (Some(registry), Some(topic)) = (take("registry"), take("topic")) else {
            return Err(syn::Error::new_spanned(attr_span, "`registry` and `topic` are both required"));
        };
        return Ok(Form::Registry(RegistryForm { registry, topic, env: take("env") }));
    }
    let missing: Vec<&str> = EXPLICIT_REQUIRED.iter().copied().filter(|k| take(k).is_none()).collect();
    if !missing.is_empty() {
        let list = missing.iter().map(|k| format!("`{k}`")).collect::<Vec<_>>().join(", ");
        let msg = if entries.is_empty() {
            format!(
                "`#[ampy]` is empty: give `registry` and `topic` for a registered topic, or the explicit form's {list}"
            )
        } else {
            format!(
                "the explicit form is missing {list} (or use `registry = \"…\", topic = \"…\"` for a registered topic)"
            )
        };
        return Err(syn::Error::new_spanned(attr_span, msg));
    }
    let req = |k: &str| take(k).ok_or_else(|| syn::Error::new_spanned(attr_span, format!("`{k}` is required")));
    Ok(Form::Explicit(ExplicitForm {
        namespace: take("namespace"),
        domain: req("domain")?,
        version: req("version")?,
        subtopic: req("subtopic")?,
        key: req("key")?,
        schema: req("schema")?,
        schema_version: req("schema_version")?,
        schema_hash: take("schema_hash"),
        qos: take("qos"),
        dedupe: take("dedupe"),
        env: take("env"),
    }))
}

/// Reads `#[derive(WireShape)]`'s attribute: `registry` and exactly one of
/// `message`, `oneof`, `enumeration`.
pub fn parse_shape(attrs: &[Attribute], item_span: Span) -> Result<ShapeForm, syn::Error> {
    let help = "`#[derive(WireShape)]` needs `#[ampy(registry = \"registry/ampy.yaml\", message = \"pkg.Message\")]` \
                (or `oneof = \"pkg.Message.oneof_name\"` on a `prost::Oneof` enum, `enumeration = \"pkg.Enum\"` on a \
                `prost::Enumeration` enum)";
    let ampy: Vec<&Attribute> = attrs.iter().filter(|a| a.path().is_ident("ampy")).collect();
    if ampy.is_empty() {
        return Err(syn::Error::new(item_span, help));
    }
    let mut errors = Errors::default();
    let entries = entries(&ampy, SHAPE_KEYS, &mut errors);
    errors.finish()?;
    let targets: Vec<&Entry> = entries.iter().filter(|e| e.key != "registry").collect();
    let Some(registry) = entries.iter().find(|e| e.key == "registry").map(|e| e.value.clone()) else {
        return Err(syn::Error::new_spanned(ampy[0], format!("`registry` is missing: {help}")));
    };
    match targets.as_slice() {
        [one] => {
            let target = match one.key.as_str() {
                "message" => ShapeTarget::Message(one.value.clone()),
                "oneof" => ShapeTarget::Oneof(one.value.clone()),
                _ => ShapeTarget::Enumeration(one.value.clone()),
            };
            Ok(ShapeForm { registry, target })
        }
        [] => Err(syn::Error::new_spanned(ampy[0], format!("name the definition: {help}"))),
        [_, second, ..] => Err(syn::Error::new(
            second.key_span,
            "a type is checked against one definition: keep one of `message`, `oneof` and `enumeration`",
        )),
    }
}

/// Every `key = "value"` of the `#[ampy]` attributes, each key at most
/// once and one of `allowed`; problems go to `errors`.
fn entries(ampy: &[&Attribute], allowed: &[&str], errors: &mut Errors) -> Vec<Entry> {
    let mut entries: Vec<Entry> = Vec::new();
    for attr in ampy {
        let metas = match &attr.meta {
            Meta::List(list) => list.parse_args_with(Punctuated::<Meta, Token![,]>::parse_terminated),
            other => Err(syn::Error::new(
                other.span(),
                "write the settings in parentheses: `#[ampy(registry = \"…\", topic = \"…\")]`",
            )),
        };
        let metas = match metas {
            Ok(m) => m,
            Err(e) => {
                errors.push(e);
                continue;
            }
        };
        for meta in metas {
            if let Some(entry) = entry(&meta, allowed, errors) {
                if let Some(first) = entries.iter().find(|e| e.key == entry.key) {
                    let mut e = syn::Error::new(
                        entry.key_span,
                        format!("`{}` is set twice; keep one (the first is `{}`)", entry.key, first.value.value()),
                    );
                    e.combine(syn::Error::new(first.key_span, format!("`{}` first set here", entry.key)));
                    errors.push(e);
                } else {
                    entries.push(entry);
                }
            }
        }
    }
    entries
}

/// Checks one `key = "value"` and reports what is wrong with it.
fn entry(meta: &Meta, allowed: &[&str], errors: &mut Errors) -> Option<Entry> {
    let all_keys = || allowed.iter().copied();
    let path = meta.path();
    let Some(ident) = path.get_ident() else {
        errors.push(syn::Error::new(path.span(), "expected a setting name such as `topic`"));
        return None;
    };
    let key = ident.to_string();
    if !all_keys().any(|k| k == key) {
        let list = |keys: &[&str]| keys.iter().map(|k| format!("`{k}`")).collect::<Vec<_>>().join(", ");
        let hint = match ampygen::diag::suggest(&key, all_keys()) {
            Some(s) => format!("did you mean `{s}`?"),
            None if allowed == SHAPE_KEYS => format!("`#[derive(WireShape)]` takes {}", list(SHAPE_KEYS)),
            None => format!(
                "the registry form takes `registry`, `topic` and `env`; the explicit form takes {}",
                list(&EXPLICIT_KEYS.iter().chain(COMMON_KEYS).copied().collect::<Vec<_>>())
            ),
        };
        errors.push(syn::Error::new(ident.span(), format!("unknown setting `{key}` in `#[ampy]`; {hint}")));
        return None;
    }
    let example = example(&key);
    let value = match meta {
        Meta::NameValue(nv) => &nv.value,
        _ => {
            errors.push(syn::Error::new(meta.span(), format!("`{key}` takes a value: write `{key} = {example}`")));
            return None;
        }
    };
    match value {
        Expr::Lit(syn::ExprLit { lit: Lit::Str(s), .. }) => {
            Some(Entry { key, key_span: ident.span(), value: s.clone() })
        }
        other => {
            errors.push(syn::Error::new(
                other.span(),
                format!("`{key}` takes a string literal: write `{key} = {example}`"),
            ));
            None
        }
    }
}

/// A sample value for each setting, used in error messages.
fn example(key: &str) -> &'static str {
    match key {
        "registry" => "\"registry/ampy.yaml\"",
        "topic" => "\"bars.v1\"",
        "namespace" => "\"ampy\"",
        "domain" => "\"quotes\"",
        "version" => "\"v1\"",
        "subtopic" => "\"{venue}.{symbol}\"",
        "key" => "\"{symbol}|{venue}\"",
        "schema" => "\"acme.quotes.v1.Quote\"",
        "schema_version" => "\"1.0.0\"",
        "schema_hash" => "\"sha256:…\"",
        "qos" => "\"standard\"",
        "dedupe" => "\"quote_id\"",
        "env" => "\"crate::contract::Env\"",
        "message" => "\"ampy.bars.v1.Bar\"",
        "oneof" => "\"ampy.orders.v1.OrderRequest.request\"",
        "enumeration" => "\"ampy.bars.v1.IntervalUnit\"",
        _ => "\"…\"",
    }
}
