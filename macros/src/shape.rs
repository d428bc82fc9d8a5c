//! `#[derive(WireShape)]`, and the compile-time assertions that tie the
//! types a derived struct holds to the definitions the registry expects.
//!
//! ```ignore
//! #[derive(Clone, PartialEq, prost::Message, ampy_bus::WireShape)]
//! #[ampy(registry = "registry/ampy.yaml", message = "ampy.common.v1.SecurityId")]
//! pub struct SecurityId { … }
//! ```
//!
//! The derive checks the item against the registry's definition (every
//! field, or every oneof member, or every enum value; errors on the
//! offending field) and implements `ampy_bus::WireShape` with the
//! definition's name and digest. The impl is emitted even when the check
//! fails, so that one mistake is reported once, where it is.

use proc_macro2::{Span, TokenStream};
use quote::{quote, quote_spanned};
use syn::spanned::Spanned;
use syn::{Data, DeriveInput, Fields, Ident, LitStr};

use crate::attrs::{self, ShapeTarget};
use crate::errors::Errors;
use crate::proto;
use crate::registry;
use crate::wire::{self, Nested};

/// Expands `#[derive(WireShape)]`.
pub fn expand(input: &DeriveInput) -> Result<TokenStream, syn::Error> {
    let ident = &input.ident;
    if let Some(param) = input.generics.params.first() {
        return Err(syn::Error::new_spanned(
            param,
            "`WireShape` cannot be derived for a generic type: it stands for one protobuf definition",
        ));
    }
    let form = attrs::parse_shape(&input.attrs, ident.span())?;
    let (project, registry_file) = registry::load(&form.registry)?;
    let mut errors = Errors::default();
    let lit = form.target.lit();
    let name = lit.value();
    let pool = &project.compiled.pool;
    let (proto, shape, nested) = match (&form.target, &input.data) {
        (ShapeTarget::Message(_), Data::Struct(s)) => {
            let Some(m) = pool.get_message_by_name(&name) else {
                return Err(unknown(lit, "message", pool.all_messages().map(|m| m.full_name().to_owned())));
            };
            let fields: Vec<&syn::Field> = match &s.fields {
                Fields::Named(n) => n.named.iter().collect(),
                Fields::Unit => Vec::new(),
                Fields::Unnamed(_) => {
                    return Err(syn::Error::new(ident.span(), "a message struct has named fields, as prost generates them"))
                }
            };
            let nested = wire::check_struct(&m, ident, &fields, &mut errors);
            (m.full_name().to_owned(), proto::message_shape(&m), nested)
        }
        (ShapeTarget::Oneof(_), Data::Enum(e)) => {
            let oneof = name.rsplit_once('.').and_then(|(parent, o)| {
                pool.get_message_by_name(parent).and_then(|m| m.oneofs().find(|x| x.name() == o && !x.is_synthetic()))
            });
            let Some(o) = oneof else {
                let all = pool
                    .all_messages()
                    .flat_map(|m| m.oneofs().filter(|o| !o.is_synthetic()).map(|o| o.full_name().to_owned()).collect::<Vec<_>>());
                return Err(unknown(lit, "oneof", all));
            };
            let variants: Vec<&syn::Variant> = e.variants.iter().collect();
            let nested = wire::check_oneof_enum(&o, ident, &variants, &mut errors);
            (o.full_name().to_owned(), proto::oneof_shape(&o), nested)
        }
        (ShapeTarget::Enumeration(_), Data::Enum(e)) => {
            let Some(en) = pool.get_enum_by_name(&name) else {
                return Err(unknown(lit, "enum", pool.all_enums().map(|e| e.full_name().to_owned())));
            };
            let variants: Vec<&syn::Variant> = e.variants.iter().collect();
            wire::check_enumeration(&en, ident, &variants, &mut errors);
            (en.full_name().to_owned(), proto::enum_shape(&en), Vec::new())
        }
        (ShapeTarget::Message(_), _) => {
            return Err(syn::Error::new(lit.span(), "`message` is for a struct; an enum takes `oneof` or `enumeration`"))
        }
        (_, _) => {
            return Err(syn::Error::new(
                lit.span(),
                "`oneof` and `enumeration` are for an enum (deriving `prost::Oneof` or `prost::Enumeration`); a struct takes `message`",
            ))
        }
    };
    let compile_errors = errors.to_compile_errors();
    let imp = shape_impl(ident, &proto, &shape);
    let asserts = assertions(&nested);
    let tracked = registry::tracked_files(&project, &registry_file);
    Ok(quote! {
        #compile_errors
        #(const _: &[u8] = include_bytes!(#tracked);)*
        #imp
        #asserts
    })
}

/// The error for a name the registry's protos do not define.
fn unknown(lit: &LitStr, what: &str, all: impl Iterator<Item = String>) -> syn::Error {
    let all: Vec<String> = all.filter(|n| !n.starts_with("google.protobuf.")).collect();
    let name = lit.value();
    let hint = match ampygen::diag::suggest(&name, all.iter().map(String::as_str)) {
        Some(s) => format!("; did you mean `{s}`?"),
        None => format!("; write its full name, `package.Name`{}", if what == "oneof" { ".oneof_name" } else { "" }),
    };
    syn::Error::new(lit.span(), format!("no {what} `{name}` in the registry's protos{hint}"))
}

/// `impl WireShape for ident`.
pub fn shape_impl(ident: &Ident, proto: &str, shape: &str) -> TokenStream {
    quote! {
        impl ::ampy_bus::WireShape for #ident {
            const PROTO: &'static str = #proto;
            const SHAPE: &'static str = #shape;
        }
    }
}

/// One `const` assertion per held type, spanned at the field, that it is
/// the type derived for the definition the registry expects there.
pub fn assertions(nested: &[Nested]) -> TokenStream {
    let mut out = TokenStream::new();
    for n in nested {
        let ty = &n.ty;
        let span = ty.span();
        let shown = crate::types::show(ty);
        let key = match n.what {
            "message" => "message",
            "oneof" => "oneof",
            _ => "enumeration",
        };
        let proto = &n.proto;
        let shape = &n.shape;
        let wrong_name = format!(
            "`{shown}` is derived for another definition, but `{}` holds the {} `{proto}`: use the type derived with \
             `#[ampy(registry = \"…\", {key} = \"{proto}\")]`",
            n.holder, n.what
        );
        let wrong_shape = format!(
            "`{shown}` was checked against a different `{proto}` than this registry's (another registry file, or \
             other protos): derive it from the registry this type names"
        );
        out.extend(quote_spanned! {span=>
            const _: () = {
                if !::ampy_bus::wire::__derive::str_eq(<#ty as ::ampy_bus::WireShape>::PROTO, #proto) {
                    ::core::panic!(#wrong_name);
                }
                if !::ampy_bus::wire::__derive::str_eq(<#ty as ::ampy_bus::WireShape>::SHAPE, #shape) {
                    ::core::panic!(#wrong_shape);
                }
            };
        });
    }
    out
}

/// The assertion that the env type `env` has exactly the registry's envs,
/// at `span` (the `env` setting, or the `registry` one for the default).
pub fn env_assertion(env: &syn::Type, names: &[String], span: Span, message: &str) -> TokenStream {
    quote_spanned! {span=>
        const _: () = {
            if !::ampy_bus::wire::__derive::same_names(<#env as ::ampy_bus::EnvName>::NAMES, &[#(#names),*]) {
                ::core::panic!(#message);
            }
        };
    }
}
