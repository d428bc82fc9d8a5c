//! Code that evaluates key paths on prost types, per docs/registry.md.
//!
//! Each key field becomes a block of plain loops and matches that feeds
//! every visited leaf into `ampy_bus::key::Agree`, the runtime's single
//! implementation of the emptiness, agreement and ordering rules. Paths
//! are resolved against descriptors at generation time, so the generated
//! code never reflects and allocates nothing until the key is written.

use proc_macro2::TokenStream;
use prost_reflect::{FieldDescriptor, Kind};
use quote::{format_ident, quote};

use super::names::{camel, snake, Paths};
use super::{braced, concat};
use crate::registry::resolve::{Leaf, ResolvedField, ResolvedPath};
use crate::template::Index;

/// Where generated code can name prost types from.
pub struct Scope<'a> {
    pub paths: &'a Paths,
    /// Tokens that reach the root of the generated tree from the code being
    /// emitted (`super::super`), or `None` when types cannot be named (a
    /// derive on a user struct), which rules out paths through oneofs.
    pub root: Option<TokenStream>,
}

/// The Rust type a leaf is compared and written as.
pub fn value_type(path: &ResolvedPath) -> TokenStream {
    let field = &path.steps[path.steps.len() - 1].field;
    match &path.leaf {
        Leaf::String => quote!(&str),
        Leaf::Bool => quote!(bool),
        Leaf::Int | Leaf::Uint => integer_type(&field.kind()),
        Leaf::Enum(_) => quote!(::ampy_bus::key::EnumValue),
        Leaf::Timestamp => quote!(::ampy_bus::key::TimestampValue),
    }
}

/// The argument type of a typed subject builder for this leaf.
pub fn param_type(path: &ResolvedPath) -> TokenStream {
    match &path.leaf {
        Leaf::Enum(_) => quote!(i32),
        _ => value_type(path),
    }
}

fn integer_type(kind: &Kind) -> TokenStream {
    match kind {
        Kind::Int32 | Kind::Sint32 | Kind::Sfixed32 => quote!(i32),
        Kind::Uint32 | Kind::Fixed32 => quote!(u32),
        Kind::Uint64 | Kind::Fixed64 => quote!(u64),
        _ => quote!(i64),
    }
}

/// A non-capturing closure from enum number to declared name; the first
/// declared name wins for aliases, as in descriptor lookups everywhere.
pub fn enum_name_fn(leaf: &Leaf) -> TokenStream {
    let Leaf::Enum(e) = leaf else { return quote!(|_| None) };
    let mut seen = std::collections::BTreeSet::new();
    let arms = e.values().filter(|v| seen.insert(v.number())).map(|v| {
        let (n, name) = (proc_macro2::Literal::i32_unsuffixed(v.number()), v.name());
        quote!(#n => Some(#name),)
    });
    quote!(|n: i32| -> Option<&'static str> { match n { #(#arms)* _ => None } })
}

/// An expression of type `Result<V, RouteError>` (used with `?`) that
/// evaluates one key field on `var`.
pub fn field_value(scope: &Scope<'_>, field: &ResolvedField, var: &TokenStream) -> Result<TokenStream, String> {
    let ty = value_type(&field.path);
    let name = field.name.as_str();
    let path = field.path.path.to_string();
    let fans_out = field.path.fans_out();
    let walk = step(scope, &field.path, 0, var)?;
    let body = concat([
        quote!(let mut acc = ::ampy_bus::key::Agree::<#ty>::new(#name, #path, #fans_out);),
        walk,
        quote!(acc.finish()),
    ]);
    Ok(braced(TokenStream::new(), body))
}

/// Statements that visit the leaves below step `i` of `path` on message
/// reference `var`.
fn step(scope: &Scope<'_>, path: &ResolvedPath, i: usize, var: &TokenStream) -> Result<TokenStream, String> {
    let s = &path.steps[i];
    let last = i + 1 == path.steps.len();
    let f = snake(s.field.name());
    let elem = format_ident!("x{}", i);
    let elem_ts = quote!(#elem);
    let on_elem = |scope: &Scope<'_>| -> Result<TokenStream, String> {
        if last {
            let leaf = leaf(path, &elem_ts, true);
            Ok(quote!(acc.visit(Some(#leaf))?;))
        } else {
            step(scope, path, i + 1, &elem_ts)
        }
    };
    match s.index {
        Index::All => {
            let inner = on_elem(scope)?;
            Ok(braced(
                quote! {
                    if #var.#f.is_empty() {
                        return Err(acc.empty_batch());
                    }
                    for #elem in &#var.#f
                },
                inner,
            ))
        }
        Index::First => {
            let inner = on_elem(scope)?;
            Ok(quote! {
                match #var.#f.first() {
                    None => return Err(acc.empty_batch()),
                    Some(#elem) => { #inner }
                }
            })
        }
        Index::None => {
            if let Some(oneof) = s.field.containing_oneof().filter(|o| !o.is_synthetic()) {
                let Some(root) = &scope.root else {
                    return Err(format!(
                        "the key path `{}` crosses the oneof member `{}`, which a derive cannot name; \
                         generate the type with build.rs instead",
                        path.path,
                        s.field.full_name()
                    ));
                };
                let module = scope.paths.nested_module(root, &oneof.parent_message().clone());
                let (o, variant) = (snake(oneof.name()), camel(oneof.name()));
                let member = camel(s.field.name());
                let inner = on_elem(scope)?;
                return Ok(quote! {
                    match &#var.#o {
                        Some(#module::#variant::#member(#elem)) => { #inner }
                        _ => acc.visit(None)?,
                    }
                });
            }
            if is_message(&s.field) || s.field.supports_presence() {
                // Option<T>: unset explicit-presence fields are empty.
                let inner = on_elem(scope)?;
                let arms =
                    concat([quote!(None => acc.visit(None)?, Some(#elem) =>), braced(TokenStream::new(), inner)]);
                Ok(braced(quote!(match #var.#f.as_ref()), arms))
            } else {
                let leaf = leaf(path, &quote!(#var.#f), false);
                Ok(quote!(acc.visit(Some(#leaf))?;))
            }
        }
    }
}

fn is_message(f: &FieldDescriptor) -> bool {
    matches!(f.kind(), Kind::Message(_))
}

/// The key value of a leaf, from the field's place (`p.id`) or, when
/// `by_ref`, from a reference to it (a list element or an `Option`'s
/// content).
fn leaf(path: &ResolvedPath, r: &TokenStream, by_ref: bool) -> TokenStream {
    let copy = if by_ref { quote!(*#r) } else { quote!(#r) };
    match &path.leaf {
        Leaf::String => quote!(#r.as_str()),
        Leaf::Int | Leaf::Uint | Leaf::Bool => copy,
        Leaf::Enum(_) => {
            let name = enum_name_fn(&path.leaf);
            quote!(::ampy_bus::key::EnumValue { number: #copy, name: #name })
        }
        Leaf::Timestamp => quote!(::ampy_bus::key::TimestampValue::from(#r)),
    }
}
