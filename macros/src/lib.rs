//! `#[derive(Payload)]` and `#[derive(WireShape)]` for AmpyFin bus payload
//! structs. Use them through `ampy_bus::Payload` and `ampy_bus::WireShape`
//! (the `derive` feature of `ampy-bus`); the generated code names
//! everything through `::ampy_bus::…`.
//!
//! `Payload` implements `ampy_bus::Schema`, `ampy_bus::PartitionKey` and
//! `ampy_bus::Topic` (with `type Payload = Self`) for a prost-shaped struct,
//! plus an inherent `topic_for(&self, env)`. It has two forms:
//!
//! ```ignore
//! // A topic of a registry, read at compile time (relative to the crate's
//! // Cargo.toml directory). Constants, subject and key rules all come from
//! // the registry, rendered by the same code as the build.rs output. The
//! // struct must be the payload message on the wire, field for field, and
//! // every type it holds must be derived with `WireShape`.
//! #[derive(Clone, PartialEq, ::prost::Message, ampy_bus::Payload)]
//! #[ampy(registry = "registry/ampy.yaml", topic = "bars.v1")]
//! pub struct BarBatch {
//!     #[prost(message, repeated, tag = "1")]
//!     pub bars: Vec<Bar>,
//!     #[prost(message, optional, tag = "2")]
//!     pub meta: Option<Meta>,
//! }
//!
//! #[derive(Clone, PartialEq, ::prost::Message, ampy_bus::WireShape)]
//! #[ampy(registry = "registry/ampy.yaml", message = "ampy.bars.v1.Bar")]
//! pub struct Bar { /* every field of ampy.bars.v1.Bar */ }
//!
//! // A type outside any registry: the attribute is the registry entry.
//! // Placeholders name the struct's own fields.
//! #[derive(Clone, PartialEq, ::prost::Message, ampy_bus::Payload)]
//! #[ampy(domain = "quotes", version = "v1", subtopic = "{venue}.{symbol}",
//!        key = "{symbol}|{venue}", schema = "acme.quotes.v1.Quote",
//!        schema_version = "1.0.0")]
//! pub struct Quote {
//!     #[prost(string, tag = "1")]
//!     pub symbol: String,
//!     #[prost(string, tag = "2")]
//!     pub venue: String,
//! }
//! ```
//!
//! Both forms take `env = "path::Env"`, the type subjects are formed from
//! (default `ampy_bus::Env`; the registry form asserts that its names are
//! exactly the registry's `envs`). docs/rust.md has the full rules.
//!
//! Misuse is a compile error at the offending span (the field, the
//! attribute value, or for a held type the field that holds it), with
//! every problem of a derive reported at once and never a panic. The
//! registry and every proto file it compiles are tracked with
//! `include_bytes!`, so editing them rebuilds the crate.

mod attrs;
mod errors;
mod explicit;
mod prost_attr;
mod proto;
mod registry;
mod shape;
mod types;
mod wire;

use proc_macro::TokenStream;
use syn::{Data, DeriveInput, Fields};

/// Implements the `ampy_bus` payload traits; see the crate docs.
#[proc_macro_derive(Payload, attributes(ampy))]
pub fn derive_payload(input: TokenStream) -> TokenStream {
    let input = syn::parse_macro_input!(input as DeriveInput);
    expand(&input).unwrap_or_else(syn::Error::into_compile_error).into()
}

/// Implements `ampy_bus::WireShape` for a struct, oneof enum or enum
/// nested in a registry payload, after checking it against the registry's
/// definition; see the crate docs.
#[proc_macro_derive(WireShape, attributes(ampy))]
pub fn derive_wire_shape(input: TokenStream) -> TokenStream {
    let input = syn::parse_macro_input!(input as DeriveInput);
    shape::expand(&input).unwrap_or_else(syn::Error::into_compile_error).into()
}

fn expand(input: &DeriveInput) -> Result<proc_macro2::TokenStream, syn::Error> {
    let ident = &input.ident;
    let fields =
        match &input.data {
            Data::Struct(s) => match &s.fields {
                Fields::Named(named) => named.named.iter().collect::<Vec<_>>(),
                Fields::Unit => Vec::new(),
                Fields::Unnamed(_) => return Err(syn::Error::new(
                    ident.span(),
                    "`Payload` needs named fields, as prost generates them; a tuple struct has none to read keys from",
                )),
            },
            Data::Enum(_) | Data::Union(_) => {
                return Err(syn::Error::new(
                    ident.span(),
                    "`Payload` can only be derived for a struct: a payload is a protobuf message",
                ))
            }
        };
    if let Some(param) = input.generics.params.first() {
        return Err(syn::Error::new_spanned(
            param,
            "`Payload` cannot be derived for a generic struct: a payload is one concrete protobuf message",
        ));
    }
    match attrs::parse(&input.attrs, ident.span())? {
        attrs::Form::Registry(form) => registry::expand(&form, ident, &fields),
        attrs::Form::Explicit(form) => explicit::expand(&form, ident, &fields),
    }
}

/// The generator writes Rust as text (the same text build.rs writes);
/// parse it back into tokens. A failure is a bug in ampygen, reported as a
/// compile error rather than a panic.
pub(crate) fn parse_generated(code: &str) -> Result<proc_macro2::TokenStream, String> {
    code.parse().map_err(|e| {
        format!(
            "ampygen generated code that does not parse ({e}); please report this with the attribute that triggered it"
        )
    })
}
