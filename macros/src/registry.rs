//! The registry-backed form: `#[ampy(registry = "…", topic = "…")]`.
//!
//! The registry is loaded with the same `ampygen::load_source` the CLI and
//! build.rs use, and the impls come from `ampygen::rust::derive_impls`, the
//! renderer behind the build.rs output, so a derived struct and a generated
//! type route and key payloads identically. What is left here is what only
//! a derive can know: whether the user's struct is the payload message on
//! the wire (`wire`: every field, and through `WireShape` assertions every
//! nested type), and which env type forms its subjects.

use std::cell::RefCell;
use std::path::{Path, PathBuf};
use std::rc::Rc;

use ampygen::diag::Source;
use ampygen::Project;
use proc_macro2::TokenStream;
use quote::quote;
use syn::{Field, Ident, LitStr};

use crate::attrs::RegistryForm;
use crate::errors::Errors;
use crate::{proto, shape, wire};

/// The env type a derive uses when the attribute names none.
const DEFAULT_ENV: &str = "::ampy_bus::Env";
/// Its envs, the contract's, for the message when a registry differs.
const DEFAULT_ENVS: &str = "dev, paper, prod";

/// Expands the derive for `ident`, whose named fields are `fields`.
pub fn expand(form: &RegistryForm, ident: &Ident, fields: &[&Field]) -> Result<TokenStream, syn::Error> {
    let (project, registry_file) = load(&form.registry)?;
    let topic_id = form.topic.value();
    let topic = project.registry.find_topic(&topic_id).map_err(|e| unknown_topic(&project, form, e))?;
    let id = topic.id();
    let mut errors = Errors::default();
    let (env, env_check) = env_type(form, &project, &mut errors);
    let Some(resolved) = project.resolved.get(&id) else {
        // A dead-letter topic; derive_impls says why it has no payload.
        let e = ampygen::rust::derive_impls(&project, &id, &ident.to_string(), DEFAULT_ENV).err();
        return Err(syn::Error::new(form.topic.span(), e.unwrap_or_else(|| format!("`{id}` has no payload type"))));
    };
    let message = resolved.message.clone();
    let nested = wire::check_struct(&message, ident, fields, &mut errors);
    let tracked = tracked_files(&project, &registry_file);
    let shape_impl = shape::shape_impl(ident, message.full_name(), &proto::message_shape(&message));
    if errors.count() > 0 {
        // The routing code reads the fields just reported; rendering it
        // would only repeat the errors as type errors.
        let compile_errors = errors.to_compile_errors();
        return Ok(quote! {
            #compile_errors
            #(const _: &[u8] = include_bytes!(#tracked);)*
            #shape_impl
        });
    }
    let env_text = quote!(#env).to_string();
    let impls = ampygen::rust::derive_impls(&project, &id, &ident.to_string(), &env_text)
        .and_then(|code| crate::parse_generated(&code))
        .map_err(|e| syn::Error::new(form.topic.span(), e))?;
    let asserts = shape::assertions(&nested);
    Ok(quote! {
        #(const _: &[u8] = include_bytes!(#tracked);)*
        #impls
        #shape_impl
        #asserts
        #env_check
    })
}

/// The env type subjects are formed from, and the assertion that it has
/// exactly the registry's envs: a registry without `paper` must not let
/// `Env::Paper` form a subject.
fn env_type(form: &RegistryForm, project: &Project, errors: &mut Errors) -> (syn::Type, TokenStream) {
    let names: Vec<String> = project.registry.envs.iter().map(|e| e.value.clone()).collect();
    let registry = form.registry.value();
    match &form.env {
        Some(lit) => match lit.parse::<syn::Type>() {
            Ok(ty) => {
                let message = format!(
                    "`{}` must have exactly the envs of `{registry}` ({}): its `ampy_bus::EnvName::NAMES` differ",
                    lit.value(),
                    names.join(", ")
                );
                let check = shape::env_assertion(&ty, &names, lit.span(), &message);
                (ty, check)
            }
            Err(_) => {
                errors.push(syn::Error::new(
                    lit.span(),
                    format!("`{}` is not a type path: write `env = \"crate::contract::Env\"`", lit.value()),
                ));
                (syn::parse_quote!(::ampy_bus::Env), TokenStream::new())
            }
        },
        None => {
            let ty: syn::Type = syn::parse_quote!(::ampy_bus::Env);
            let message = format!(
                "the envs of `{registry}` ({}) are not the contract's ({DEFAULT_ENVS}) that `ampy_bus::Env` holds: name an \
                 env type with exactly the registry's envs, `env = \"crate::contract::Env\"` (the `Env` ampygen's build.rs \
                 output generates, or an enum implementing `ampy_bus::EnvName`)",
                names.join(", ")
            );
            let check = shape::env_assertion(&ty, &names, form.registry.span(), &message);
            (ty, check)
        }
    }
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
pub fn load(lit: &LitStr) -> Result<(Rc<Project>, PathBuf), syn::Error> {
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
pub fn tracked_files(project: &Project, registry: &Path) -> Vec<String> {
    let registry = absolute(registry);
    let protos = project.compiled.files.values().filter_map(|f| f.path.as_deref()).map(absolute);
    std::iter::once(registry).chain(protos).filter_map(|p| p.to_str().map(str::to_owned)).collect()
}

fn absolute(p: &Path) -> PathBuf {
    std::path::absolute(p).unwrap_or_else(|_| p.to_path_buf())
}
