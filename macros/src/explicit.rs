//! The explicit form, for payload types that are not in a registry:
//! `#[ampy(domain = "acme", version = "v1", subtopic = "{venue}.{symbol}",
//! key = "{symbol}|{venue}", schema = "acme.quotes.v1.Quote",
//! schema_version = "1.0.0")]`.
//!
//! The attribute stands in for a registry entry, so it is held to the
//! registry's rules, checked with the same `ampygen::template` parsers:
//! a derive must not accept a subtopic or key that `ampygen check` would
//! reject. Placeholders name the struct's own fields (top level only) and
//! each field's key kind is read from its Rust type.
//!
//! Evaluation follows docs/registry.md with the key fields taken in order
//! of first appearance in `key`, then in `subtopic`: that order decides
//! which error a payload with several bad fields reports.

use ampygen::registry::Semver;
use ampygen::rust::{FieldValue, Routing};
use ampygen::template::{self, Part, SyntaxError, Token};
use proc_macro2::{Ident, Literal, TokenStream};
use quote::{format_ident, quote};
use syn::{Field, LitStr, Type};

use crate::attrs::ExplicitForm;
use crate::errors::Errors;
use crate::types;

/// How a field's value enters a key.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Leaf {
    /// `String`: `Some(p.f.as_str())`.
    Str,
    /// `Option<String>`: `p.f.as_deref()`; unset is empty.
    OptStr,
    /// `i32`, `i64`, `u32`, `u64`, `bool`: never empty.
    Scalar,
    /// `Option<` scalar `>` (proto3 `optional`): unset is empty.
    OptScalar,
    /// `Option<Timestamp>`: unset is empty; written as RFC 3339.
    Timestamp,
}

/// One key field: a struct field named by a placeholder.
struct KeyField<'a> {
    name: String,
    field: &'a Field,
    leaf: Leaf,
    /// The Rust type compared and written (`&str`, `i64`, …).
    value_ty: TokenStream,
}

/// Checks the attribute against the registry's rules and `fields`, then
/// renders the impls.
pub fn expand(form: &ExplicitForm, ident: &Ident, fields: &[&Field]) -> Result<TokenStream, syn::Error> {
    let mut errors = Errors::default();
    let namespace = form.namespace.as_ref().map_or_else(|| "ampy".to_owned(), LitStr::value);
    if let Some(lit) = &form.namespace {
        if !is_word(&namespace, true) {
            errors.push(syn::Error::new(
                lit.span(),
                format!(
                    "`{namespace}` cannot be a namespace: use lower-case letters, digits, `_` and `-`, starting with \
                     a letter (it is a subject token and part of Kafka topic names)"
                ),
            ));
        }
    }
    let domain = form.domain.value();
    if !is_word(&domain, false) {
        errors.push(syn::Error::new(
            form.domain.span(),
            format!("`{domain}` cannot be a domain: use lower_snake_case (`[a-z][a-z0-9_]*`), e.g. `quotes`"),
        ));
    }
    let version = form.version.value();
    let major = parse_version(&version);
    if major.is_none() {
        errors.push(syn::Error::new(
            form.version.span(),
            format!("`{version}` is not a topic version: write `v1`, `v2`, … (no leading zeros)"),
        ));
    }
    check_schema_version(form, major, &mut errors);
    check_schema(form, &version, major, &mut errors);
    if let Some(lit) = &form.schema_hash {
        let hash = lit.value();
        let ok = hash
            .strip_prefix("sha256:")
            .is_some_and(|h| h.len() == 64 && h.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')));
        if !ok {
            errors.push(syn::Error::new(
                lit.span(),
                format!("`{hash}` is not a schema hash: write `sha256:` plus 64 lower-case hex digits (`ampygen hash` computes it)"),
            ));
        }
    }
    let qos = qos(form.qos.as_ref(), &mut errors);

    // Templates, with every problem reported on the literal it is in.
    let subtopic = template::parse_subtopic(&form.subtopic.value())
        .map_err(|e| syntax_errors(&form.subtopic, "subtopic", e, &mut errors))
        .ok();
    let key =
        template::parse_key_format(&form.key.value()).map_err(|e| syntax_errors(&form.key, "key", e, &mut errors)).ok();
    let mut names: Vec<(String, &LitStr)> = Vec::new();
    for part in key.iter().flat_map(|k| &k.parts) {
        if let Part::Field(f) = part {
            names.push((f.clone(), &form.key));
        }
    }
    for token in subtopic.iter().flat_map(|s| &s.tokens) {
        if let Token::Param(p) = token {
            names.push((p.clone(), &form.subtopic));
        }
    }
    let mut key_fields: Vec<KeyField<'_>> = Vec::new();
    let mut unknown: Vec<String> = Vec::new();
    for (name, lit) in &names {
        if key_fields.iter().any(|k| &k.name == name) || unknown.contains(name) {
            continue;
        }
        match key_field(name, lit, fields, ident) {
            Ok(k) => key_fields.push(k),
            Err(e) => {
                unknown.push(name.clone());
                errors.push(e);
            }
        }
    }
    for token in subtopic.iter().flat_map(|s| &s.tokens) {
        if let Token::Param(p) = token {
            if key_fields.iter().any(|k| &k.name == p && k.leaf == Leaf::Timestamp) {
                errors.push(syn::Error::new(
                    form.subtopic.span(),
                    format!(
                        "`{{{p}}}` is a Timestamp and cannot fill a subtopic token: RFC 3339 fractional seconds \
                         contain `.`, which would split the subject; use it in `key` only"
                    ),
                ));
            }
        }
    }
    let dedupe = match &form.dedupe {
        Some(lit) => match key_field(&lit.value(), lit, fields, ident) {
            Ok(d) => Some(d),
            Err(e) => {
                errors.push(e);
                None
            }
        },
        None => None,
    };
    errors.finish()?;
    let (Some(subtopic), Some(key)) = (subtopic, key) else {
        return Err(syn::Error::new(form.key.span(), "the key or subtopic template is invalid"));
    };
    let value =
        |k: &KeyField<'_>| FieldValue { name: k.name.clone(), ty: k.value_ty.to_string(), value: agree(k).to_string() };
    let routing = Routing {
        id: format!("{domain}.{version}"),
        namespace,
        domain,
        version,
        subtopic,
        key_format: key,
        fqdn: form.schema.value(),
        schema_version: form.schema_version.value(),
        schema_hash: form.schema_hash.as_ref().map(LitStr::value),
        qos: qos.to_string(),
        fields: key_fields.iter().map(value).collect(),
        dedupe: dedupe.as_ref().map(value),
    };
    let env = match &form.env {
        Some(lit) => {
            let ty = lit.parse::<syn::Type>().map_err(|_| {
                syn::Error::new(
                    lit.span(),
                    format!("`{}` is not a type path: write `env = \"crate::contract::Env\"`", lit.value()),
                )
            })?;
            quote!(#ty).to_string()
        }
        None => "::ampy_bus::Env".to_owned(),
    };
    // The same renderer as build.rs output and the registry-backed form.
    crate::parse_generated(&routing.derive_block(&ident.to_string(), &env))
        .map_err(|e| syn::Error::new(ident.span(), e))
}

/// Resolves a placeholder to a struct field and its key kind; an unknown
/// name is an error on `lit`, an unusable type one on the field's type.
fn key_field<'a>(name: &str, lit: &LitStr, fields: &[&'a Field], ident: &Ident) -> Result<KeyField<'a>, syn::Error> {
    let field = fields.iter().find(|f| f.ident.as_ref().is_some_and(|i| unraw(i) == name));
    let Some(field) = field else {
        let names: Vec<String> = fields.iter().filter_map(|f| f.ident.as_ref()).map(unraw).collect();
        let hint = match ampygen::diag::suggest(name, names.iter().map(String::as_str)) {
            Some(s) => format!("did you mean `{s}`?"),
            None if names.is_empty() => "it has no fields".to_owned(),
            None => format!("its fields are {}", names.iter().map(|n| format!("`{n}`")).collect::<Vec<_>>().join(", ")),
        };
        let what = if lit.value() == name { format!("`{name}`") } else { format!("`{{{name}}}`") };
        return Err(syn::Error::new(
            lit.span(),
            format!(
                "{what} names no field of `{ident}`: placeholders name the struct's own fields (top level only); {hint}"
            ),
        ));
    };
    let Some((leaf, value_ty)) = leaf(&field.ty) else {
        return Err(syn::Error::new_spanned(
            &field.ty,
            format!(
                "`{name}` is used in the key, but a `{}` cannot be a key value; key fields are `String`, `i32`, \
                 `i64`, `u32`, `u64`, `bool`, an `Option` of one of those, or `Option<prost_types::Timestamp>`",
                types::show(&field.ty)
            ),
        ));
    };
    Ok(KeyField { name: name.to_owned(), field, leaf, value_ty })
}

/// The key kind of a Rust field type, and the value type it is read as.
fn leaf(ty: &Type) -> Option<(Leaf, TokenStream)> {
    if types::is(ty, "String") {
        return Some((Leaf::Str, quote!(&str)));
    }
    if let Some(s) = types::KEY_SCALARS.iter().find(|s| types::is(ty, s)) {
        let s = format_ident!("{}", s);
        return Some((Leaf::Scalar, quote!(#s)));
    }
    let inner = types::option_inner(ty)?;
    if types::is(inner, "String") {
        return Some((Leaf::OptStr, quote!(&str)));
    }
    if types::is(inner, "Timestamp") {
        return Some((Leaf::Timestamp, quote!(::ampy_bus::key::TimestampValue)));
    }
    let s = types::KEY_SCALARS.iter().find(|s| types::is(inner, s))?;
    let s = format_ident!("{}", s);
    Some((Leaf::OptScalar, quote!(#s)))
}

fn syntax_errors(lit: &LitStr, what: &str, errs: Vec<SyntaxError>, errors: &mut Errors) {
    for e in errs {
        errors.push(syn::Error::new(lit.span(), format!("invalid `{what}`: {}; {}", e.message, e.help)));
    }
}

fn check_schema_version(form: &ExplicitForm, major: Option<u64>, errors: &mut Errors) {
    let lit = &form.schema_version;
    let text = lit.value();
    match Semver::parse(&text) {
        None => errors.push(syn::Error::new(
            lit.span(),
            format!("`{text}` is not a semantic version: write MAJOR.MINOR.PATCH without a `v`, e.g. `1.0.0`"),
        )),
        Some(v) => {
            if let Some(major) = major.filter(|m| *m != v.major) {
                let breaking = if v.major > major {
                    format!(", or publish the breaking change as a new `v{}` topic", v.major)
                } else {
                    String::new()
                };
                errors.push(syn::Error::new(
                    lit.span(),
                    format!(
                        "schema_version {text} has major {} but the topic version is `v{major}`: the topic version \
                         is the payload's major version, so use `{major}.x.y`{breaking}",
                        v.major
                    ),
                ));
            }
        }
    }
}

/// The schema is a fully qualified message name whose package ends in the
/// topic version, as the registry requires of payloads.
fn check_schema(form: &ExplicitForm, version: &str, major: Option<u64>, errors: &mut Errors) {
    let lit = &form.schema;
    let fqdn = lit.value();
    let parts: Vec<&str> = fqdn.split('.').collect();
    let ident = |s: &str| {
        let mut c = s.chars();
        c.next().is_some_and(|f| f.is_ascii_alphabetic() || f == '_')
            && c.all(|c| c.is_ascii_alphanumeric() || c == '_')
    };
    if parts.len() < 2 || !parts.iter().all(|p| ident(p)) {
        errors.push(syn::Error::new(
            lit.span(),
            format!(
                "`{fqdn}` is not a fully qualified message name: write `package.Message`, e.g. `acme.quotes.v1.Quote`"
            ),
        ));
        return;
    }
    let package_version = parts[parts.len() - 2];
    if major.is_some() && package_version != version {
        errors.push(syn::Error::new(
            lit.span(),
            format!(
                "`{fqdn}` is in package `{}`, but a `{version}` topic carries payloads from a package ending in \
                 `.{version}` (the topic version is the payload's major version)",
                parts[..parts.len() - 1].join(".")
            ),
        ));
    }
}

/// The contract's QoS tiers (those of the default registry).
fn qos(lit: Option<&LitStr>, errors: &mut Errors) -> TokenStream {
    let tier = lit.map_or_else(|| "standard".to_owned(), LitStr::value);
    let p99 = match tier.as_str() {
        "critical" => Some(50u32),
        "realtime" => Some(150),
        "standard" => None,
        other => {
            if let Some(lit) = lit {
                let hint = ampygen::diag::suggest(other, ["critical", "realtime", "standard"])
                    .map(|s| format!("did you mean `{s}`? "))
                    .unwrap_or_default();
                errors.push(syn::Error::new(
                    lit.span(),
                    format!(
                        "unknown QoS tier `{other}`; {hint}the tiers are `critical` (p99 50 ms), `realtime` \
                         (p99 150 ms) and `standard`, all at-least-once"
                    ),
                ));
            }
            None
        }
    };
    let p99 = match p99 {
        Some(ms) => {
            let ms = Literal::u32_unsuffixed(ms);
            quote!(::core::option::Option::Some(#ms))
        }
        None => quote!(::core::option::Option::None),
    };
    quote!(::ampy_bus::Qos { tier: #tier, delivery: ::ampy_bus::Delivery::AtLeastOnce, p99_ms: #p99 })
}

/// `v1`, `v2`, … → the major version.
fn parse_version(v: &str) -> Option<u64> {
    let digits = v.strip_prefix('v')?;
    if digits.is_empty() || digits.starts_with('0') || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    digits.parse().ok()
}

/// `[a-z][a-z0-9_]*`, plus `-` when `dash` (namespaces).
fn is_word(s: &str, dash: bool) -> bool {
    let mut c = s.chars();
    c.next().is_some_and(|f| f.is_ascii_lowercase())
        && c.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || (dash && c == '-'))
}

fn unraw(ident: &Ident) -> String {
    let s = ident.to_string();
    s.strip_prefix("r#").map(str::to_owned).unwrap_or(s)
}

/// An expression of type `Result<V, RouteError>` evaluating one key field
/// of `p` through `Agree`, the runtime's single implementation of the
/// emptiness and timestamp rules.
fn agree(k: &KeyField<'_>) -> TokenStream {
    let f = k.field.ident.as_ref();
    let name = k.name.as_str();
    let ty = &k.value_ty;
    let value = match k.leaf {
        Leaf::Str => quote!(::core::option::Option::Some(p.#f.as_str())),
        Leaf::OptStr => quote!(p.#f.as_deref()),
        Leaf::Scalar => quote!(::core::option::Option::Some(p.#f)),
        Leaf::OptScalar => quote!(p.#f),
        Leaf::Timestamp => quote!(p.#f.as_ref().map(::ampy_bus::key::TimestampValue::from)),
    };
    quote! {{
        let mut acc = ::ampy_bus::key::Agree::<#ty>::new(#name, #name, false);
        acc.visit(#value)?;
        acc.finish()
    }}
}
