//! The registry-backed form: `#[ampy(registry = "…", topic = "…")]`.
//!
//! The registry is loaded with the same `ampygen::load_source` the CLI and
//! build.rs use, and the impls come from `ampygen::rust::derive_impls`, the
//! renderer behind the build.rs output, so a derived struct and a generated
//! type route and key payloads identically. What is left here is what only
//! a derive can know: whether the user's struct has the fields the topic's
//! key paths start from, with the types prost gives them.

use std::cell::RefCell;
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::rc::Rc;

use ampygen::diag::Source;
use ampygen::Project;
use proc_macro2::TokenStream;
use prost_reflect::{FieldDescriptor, Kind};
use quote::quote;
use syn::{Field, Ident, LitStr};

use crate::attrs::RegistryForm;
use crate::errors::Errors;
use crate::types;

const TIMESTAMP: &str = "google.protobuf.Timestamp";

/// Expands the derive for `ident`, whose named fields are `fields`.
pub fn expand(form: &RegistryForm, ident: &Ident, fields: &[&Field]) -> Result<TokenStream, syn::Error> {
    let (project, registry_file) = load(&form.registry)?;
    let topic_id = form.topic.value();
    let topic = project.registry.find_topic(&topic_id).map_err(|e| unknown_topic(&project, form, e))?;
    let id = topic.id();
    let mut errors = Errors::default();
    if let Some(resolved) = project.resolved.get(&id) {
        let paths = resolved
            .fields
            .iter()
            .map(|f| (format!("key field `{}`", f.name), &f.path))
            .chain(resolved.dedupe.iter().map(|p| ("dedupe key".to_owned(), p)));
        let mut seen = BTreeSet::new();
        for (what, path) in paths {
            let Some(step) = path.steps.first() else { continue };
            let proto = &step.field;
            let name = rust_field_name(proto.name());
            if !seen.insert(name.clone()) {
                continue;
            }
            if is_oneof_member(proto) {
                // derive_impls explains why such a path cannot be derived.
                continue;
            }
            match fields.iter().find(|f| f.ident.as_ref().is_some_and(|i| unraw(i) == name)) {
                None => errors.push(syn::Error::new(
                    form.topic.span(),
                    format!(
                        "`{id}` reads its {what} from `{}`, but `{ident}` has no field `{name}`; add the field \
                         prost generates for `{}`: `{}`",
                        path.path,
                        proto.full_name(),
                        prost_field(proto, &name)
                    ),
                )),
                Some(f) => {
                    if let Err((represents, expected)) = check_type(&f.ty, proto) {
                        let path = path.path.to_string();
                        let context = if path == name {
                            format!("it is the {what} of `{id}`")
                        } else {
                            format!("`{id}` reads its {what} from `{path}`")
                        };
                        errors.push(syn::Error::new_spanned(
                            &f.ty,
                            format!(
                                "`{name}` is `{}`, but prost represents {represents}; declare it as `{expected}` \
                                 ({context})",
                                types::show(&f.ty),
                            ),
                        ));
                    }
                }
            }
        }
    }
    let impls =
        ampygen::rust::derive_impls(&project, &id, &ident.to_string()).and_then(|code| crate::parse_generated(&code));
    let impls = match impls {
        Ok(tokens) => Some(tokens),
        Err(e) => {
            errors.push(syn::Error::new(form.topic.span(), e));
            None
        }
    };
    errors.finish()?;
    let tracked = tracked_files(&project, &registry_file);
    Ok(quote! {
        #(const _: &[u8] = include_bytes!(#tracked);)*
        #impls
    })
}

/// The error for a `topic` the registry does not have. Short ids
/// (`bars.v1`) are candidates for "did you mean" too, since that is how
/// most topics are named.
fn unknown_topic(project: &Project, form: &RegistryForm, message: String) -> syn::Error {
    let id = form.topic.value();
    let mut ids = Vec::new();
    for t in project.registry.topics() {
        if t.version.topics.len() == 1 {
            ids.push(format!("{}.{}", t.domain.name.value, t.version.name.value));
        }
        ids.push(t.id());
    }
    let message = match ampygen::diag::suggest(&id, ids.iter().map(String::as_str)) {
        Some(s) if message.starts_with("no topic") => {
            format!("no topic `{id}` in the registry `{}`; did you mean `{s}`?", form.registry.value())
        }
        _ => message,
    };
    syn::Error::new(form.topic.span(), message)
}

/// Reads and validates the registry named by the `registry` literal,
/// resolved against `CARGO_MANIFEST_DIR` like `include_str!` paths are
/// against the source file. Returns the project and the registry's path.
fn load(lit: &LitStr) -> Result<(Rc<Project>, PathBuf), syn::Error> {
    let rel = lit.value();
    let Some(manifest) = std::env::var_os("CARGO_MANIFEST_DIR") else {
        return Err(syn::Error::new(
            lit.span(),
            "`CARGO_MANIFEST_DIR` is not set, so the registry path cannot be resolved; build with cargo",
        ));
    };
    let path = Path::new(&manifest).join(&rel);
    let text = std::fs::read_to_string(&path).map_err(|e| {
        syn::Error::new(
            lit.span(),
            format!(
                "cannot read the registry `{rel}`: {e}\n\
                 help: the path is relative to the directory of the Cargo.toml of the crate being compiled"
            ),
        )
    })?;
    if let Some(project) = cached(&path, &rel, &text) {
        return Ok((project, path));
    }
    // Diagnostics name the registry as the user wrote it, so messages do
    // not depend on where the checkout lives.
    let project = ampygen::load_source(&path, Source::new(rel.clone(), text.clone())).map_err(|d| {
        syn::Error::new(lit.span(), format!("the registry `{rel}` is invalid:\n{}", d.render_plain().trim()))
    })?;
    let project = Rc::new(project);
    remember(&path, &rel, text, &project);
    Ok((project, path))
}

/// A project loaded by an earlier derive in this process, with the exact
/// inputs it was loaded from.
struct Cached {
    path: PathBuf,
    rel: String,
    text: String,
    /// Each proto file on disk and the text that was compiled.
    protos: Vec<(PathBuf, String)>,
    project: Rc<Project>,
}

thread_local! {
    /// Compiling the protos takes far longer than a derive should, and a
    /// crate may derive dozens of payloads from one registry; the compiler
    /// keeps the proc-macro process alive across them. Entries are reused
    /// only when the registry text and every proto file read are unchanged,
    /// so a long-lived process (an IDE's) never sees stale schemas.
    static CACHE: RefCell<Vec<Cached>> = const { RefCell::new(Vec::new()) };
}

fn cached(path: &Path, rel: &str, text: &str) -> Option<Rc<Project>> {
    CACHE.with(|cache| {
        let cache = cache.borrow();
        let hit = cache.iter().find(|c| c.path == path && c.rel == rel && c.text == text)?;
        let fresh = hit.protos.iter().all(|(p, content)| std::fs::read_to_string(p).is_ok_and(|t| t == *content));
        fresh.then(|| Rc::clone(&hit.project))
    })
}

fn remember(path: &Path, rel: &str, text: String, project: &Rc<Project>) {
    let protos = project
        .compiled
        .files
        .values()
        .filter_map(|f| f.path.clone().map(|p| (p, f.source.text().to_owned())))
        .collect();
    CACHE.with(|cache| {
        let mut cache = cache.borrow_mut();
        cache.retain(|c| c.path != path || c.rel != rel);
        cache.push(Cached { path: path.to_path_buf(), rel: rel.to_owned(), text, protos, project: Rc::clone(project) });
    });
}

/// Every file the expansion depends on, for `include_bytes!`: the stable
/// way for a proc macro to make cargo rebuild when one of them changes.
fn tracked_files(project: &Project, registry: &Path) -> Vec<String> {
    let registry = absolute(registry);
    let protos = project.compiled.files.values().filter_map(|f| f.path.as_deref()).map(absolute);
    std::iter::once(registry).chain(protos).filter_map(|p| p.to_str().map(str::to_owned)).collect()
}

fn absolute(p: &Path) -> PathBuf {
    std::path::absolute(p).unwrap_or_else(|_| p.to_path_buf())
}

/// The Rust name prost-build gives a proto field, without `r#`.
fn rust_field_name(proto: &str) -> String {
    let ident = ampygen::rust::names::snake(proto);
    unraw(&ident)
}

fn unraw(ident: &Ident) -> String {
    let s = ident.to_string();
    s.strip_prefix("r#").map(str::to_owned).unwrap_or(s)
}

fn is_oneof_member(field: &FieldDescriptor) -> bool {
    field.containing_oneof().is_some_and(|o| !o.is_synthetic())
}

/// Whether `ty` is the type prost-build generates for `field`; on a
/// mismatch, `(what the proto field is, the Rust type to write)`.
fn check_type(ty: &syn::Type, field: &FieldDescriptor) -> Result<(), (String, String)> {
    if field.is_list() {
        return match types::vec_inner(ty) {
            Some(_) => Ok(()),
            None => Err((format!("repeated `{}` as a `Vec`", field.name()), format!("Vec<{}>", element_type(field)))),
        };
    }
    if let Kind::Message(m) = field.kind() {
        return match (types::option_inner(ty), m.full_name() == TIMESTAMP) {
            (Some(inner), true) if types::is(inner, "Timestamp") => Ok(()),
            (Some(_), false) => Ok(()),
            (_, true) => Err((
                "a `google.protobuf.Timestamp` field as `Option<Timestamp>`".to_owned(),
                "Option<::ampy_bus::prost_types::Timestamp>".to_owned(),
            )),
            (None, false) => Err((
                format!("the message field `{}` as an `Option`", m.full_name()),
                format!("Option<{}>", element_type(field)),
            )),
        };
    }
    let scalar = element_type(field);
    let (ok, expected) = if field.supports_presence() {
        (types::option_inner(ty).is_some_and(|t| types::is(t, &scalar)), format!("Option<{scalar}>"))
    } else {
        (types::is(ty, &scalar), scalar.clone())
    };
    if ok {
        return Ok(());
    }
    let what = match field.kind() {
        Kind::Enum(e) => format!("the enum `{}` as its number, an `i32`", e.full_name()),
        _ if field.supports_presence() => format!("`optional {}` as `{expected}`", kind_name(field)),
        _ => format!("`{}` as `{expected}`", kind_name(field)),
    };
    Err((what, expected))
}

/// The Rust type of one value of `field` as prost-build writes it, with
/// messages by their short name (the user's struct of that name).
fn element_type(field: &FieldDescriptor) -> String {
    match field.kind() {
        Kind::Message(m) if m.full_name() == TIMESTAMP => "::ampy_bus::prost_types::Timestamp".to_owned(),
        Kind::Message(m) => m.name().to_owned(),
        Kind::Enum(_) | Kind::Int32 | Kind::Sint32 | Kind::Sfixed32 => "i32".to_owned(),
        Kind::Int64 | Kind::Sint64 | Kind::Sfixed64 => "i64".to_owned(),
        Kind::Uint32 | Kind::Fixed32 => "u32".to_owned(),
        Kind::Uint64 | Kind::Fixed64 => "u64".to_owned(),
        Kind::Bool => "bool".to_owned(),
        Kind::Float => "f32".to_owned(),
        Kind::Double => "f64".to_owned(),
        Kind::String => "String".to_owned(),
        Kind::Bytes => "Vec<u8>".to_owned(),
    }
}

/// The proto type name, as in `#[prost(int64, …)]`.
fn kind_name(field: &FieldDescriptor) -> String {
    match field.kind() {
        Kind::Message(_) => "message".to_owned(),
        Kind::Enum(e) => format!("enumeration = \"{}\"", e.name()),
        Kind::Bytes => "bytes = \"vec\"".to_owned(),
        k => format!("{k:?}").to_lowercase(),
    }
}

/// The field declaration prost-build would write, for "add this field".
fn prost_field(field: &FieldDescriptor, name: &str) -> String {
    let label = if field.is_list() {
        ", repeated"
    } else if matches!(field.kind(), Kind::Message(_)) || field.supports_presence() {
        ", optional"
    } else {
        ""
    };
    let elem = element_type(field);
    let ty = if field.is_list() {
        format!("Vec<{elem}>")
    } else if matches!(field.kind(), Kind::Message(_)) || field.supports_presence() {
        format!("Option<{elem}>")
    } else {
        elem
    };
    format!("#[prost({}{label}, tag = \"{}\")] pub {name}: {ty}", kind_name(field), field.number())
}
