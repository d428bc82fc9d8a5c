//! The bus bindings for one topic or payload: constants, subject builders,
//! subscription patterns and the `ampy_bus` trait impls.
//!
//! The same functions serve build.rs output (one module per topic, marker
//! types) and `#[derive(Payload)]` (a `const _` block on the user's struct),
//! so both paths route and key payloads identically.

use proc_macro2::TokenStream;
use quote::{format_ident, quote};

use super::keys::{self, Scope};
use super::names::snake;
use super::{braced, concat};
use crate::registry::resolve::{Leaf, ResolvedTopic};
use crate::registry::{Delivery, Registry, TopicRef};
use crate::template::{KeyFormat, Part, Subtopic, Token};

/// One payload topic with everything needed to render it.
pub struct TopicModel<'a> {
    pub registry: &'a Registry,
    pub topic: TopicRef<'a>,
    pub resolved: &'a ResolvedTopic,
}

/// One key field: its name, the Rust type its value is compared and
/// written as, and an expression of type `Result<that type, RouteError>`
/// that evaluates it on `p`.
pub struct FieldValue {
    pub name: String,
    pub ty: TokenStream,
    pub value: TokenStream,
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
    pub qos: TokenStream,
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
        let p = quote!(p);
        let value = |f: &crate::registry::resolve::ResolvedField| -> Result<FieldValue, String> {
            Ok(FieldValue {
                name: f.name.clone(),
                ty: keys::value_type(&f.path),
                value: keys::field_value(scope, f, &p)?,
            })
        };
        let fields = self.resolved.fields.iter().map(value).collect::<Result<Vec<_>, _>>()?;
        let dedupe = match &self.resolved.dedupe {
            Some(path) => {
                Some(value(&crate::registry::resolve::ResolvedField { name: "dedupe".into(), path: path.clone() })?)
            }
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

    fn qos(&self) -> TokenStream {
        let name = &self.topic.domain.qos.value;
        let tier = self.registry.qos.iter().find(|q| q.name.value == *name);
        let delivery = match tier.map(|t| t.delivery.value) {
            Some(Delivery::AtMostOnce) => quote!(::ampy_bus::Delivery::AtMostOnce),
            _ => quote!(::ampy_bus::Delivery::AtLeastOnce),
        };
        let p99 = match tier.and_then(|t| t.p99_ms.as_ref()).map(|p| u32::try_from(p.value).unwrap_or(u32::MAX)) {
            Some(ms) => {
                let ms = proc_macro2::Literal::u32_unsuffixed(ms);
                quote!(Some(#ms))
            }
            None => quote!(None),
        };
        quote!(::ampy_bus::Qos { tier: #name, delivery: #delivery, p99_ms: #p99 })
    }
    /// Typed builders from explicit values, for the build.rs output:
    /// `subject(env, mic, symbol)` and `pattern_with(env, Some(mic), None)`.
    pub fn typed_builders(&self, env_ty: &TokenStream) -> TokenStream {
        let tokens = &self.topic.topic.subtopic.value.tokens;
        let params: Vec<(&str, &crate::registry::resolve::ResolvedPath)> = self
            .topic
            .topic
            .subtopic
            .value
            .params()
            .filter_map(|(n, _)| self.resolved.fields.iter().find(|f| f.name == n).map(|f| (n, &f.path)))
            .collect();
        let args = params.iter().map(|(n, path)| {
            let v = arg(n);
            let ty = keys::param_type(path);
            quote!(#v: #ty)
        });
        let opt_args = params.iter().map(|(n, _)| {
            let v = arg(n);
            quote!(#v: Option<&str>)
        });
        let converts = params.iter().filter_map(|(n, path)| match &path.leaf {
            Leaf::Enum(_) => {
                let v = arg(n);
                let name = keys::enum_name_fn(&path.leaf);
                Some(quote!(let #v = ::ampy_bus::key::EnumValue { number: #v, name: #name };))
            }
            _ => None,
        });
        let (pushes, extra) = subject_pushes(tokens, |name| {
            let v = arg(name);
            quote!(&#v)
        });
        let wild = tokens.iter().map(|t| match t {
            Token::Literal(l) => quote!(s.literal(#l);),
            Token::Param(p) => {
                let v = arg(p);
                quote!(s.wildcard_or(#p, #v)?;)
            }
        });
        quote! {
            /// The subject for explicit subtopic values. Each value is checked
            /// as a subject token.
            pub fn subject(env: #env_ty, #(#args),*) -> Result<::ampy_bus::Subject, ::ampy_bus::RouteError> {
                #(#converts)*
                let mut s = ::ampy_bus::topic::SubjectBuf::new(NAMESPACE, env.as_str(), DOMAIN, VERSION, #extra)?;
                #(#pushes)*
                Ok(s.finish())
            }

            /// A subscription pattern: each `None` becomes `*`.
            pub fn pattern_with(env: #env_ty, #(#opt_args),*) -> Result<String, ::ampy_bus::RouteError> {
                let mut s = ::ampy_bus::topic::SubjectBuf::new(NAMESPACE, env.as_str(), DOMAIN, VERSION, 0)?;
                #(#wild)*
                Ok(s.finish().into_string())
            }
        }
    }
}

impl Routing {
    /// The routing functions over payload type `payload`: `key_fields`,
    /// `partition_key`, `dedupe_key`, `topic_for` and `pattern`.
    pub fn functions(&self, payload: &TokenStream, vis: &TokenStream) -> TokenStream {
        let fields = &self.fields;
        let values = fields.iter().map(|f| {
            let v = var(&f.name);
            concat([quote!(let #v =), f.value.clone(), quote!(?;)])
        });
        let tys = fields.iter().map(|f| &f.ty);
        let vars: Vec<_> = fields.iter().map(|f| var(&f.name)).collect();
        let key_fields_fn = braced(
            quote! {
                /// Every key field's value, checked in declaration order.
                fn key_fields(p: &#payload) -> Result<(#(#tys,)*), ::ampy_bus::RouteError>
            },
            concat(values.chain([quote!(Ok((#(#vars,)*)))])),
        );
        let format = &self.key_format.parts;
        let used = |names: &[&str]| -> TokenStream {
            let pats = fields.iter().map(|f| {
                if names.contains(&f.name.as_str()) {
                    let v = var(&f.name);
                    quote!(#v)
                } else {
                    quote!(_)
                }
            });
            quote!((#(#pats,)*))
        };
        let key_names: Vec<&str> =
            format.iter().filter_map(|p| if let Part::Field(f) = p { Some(f.as_str()) } else { None }).collect();
        let key_pat = used(&key_names);
        let literal_len: usize = format.iter().map(|p| if let Part::Literal(l) = p { l.len() } else { 0 }).sum();
        let mut capacity: Vec<TokenStream> = key_names
            .iter()
            .map(|n| {
                let v = var(n);
                quote!(::ampy_bus::key::KeyValue::len_hint(&#v))
            })
            .collect();
        if literal_len > 0 || capacity.is_empty() {
            let n = proc_macro2::Literal::usize_unsuffixed(literal_len);
            capacity.insert(0, quote!(#n));
        }
        let writes = format.iter().map(|p| match p {
            Part::Literal(l) if l.chars().count() == 1 => {
                let c = l.chars().next().unwrap_or_default();
                quote!(out.push(#c);)
            }
            Part::Literal(l) => quote!(out.push_str(#l);),
            Part::Field(f) => {
                let v = var(f);
                quote!(::ampy_bus::key::KeyValue::write_to(&#v, &mut out);)
            }
        });
        let tokens = &self.subtopic.tokens;
        let sub_names: Vec<&str> = self.subtopic.params().map(|(n, _)| n).collect();
        let sub_pat = used(&sub_names);
        let (pushes, extra) = subject_pushes(tokens, |name| {
            let v = var(name);
            quote!(&#v)
        });
        let wild = tokens.iter().map(|t| match t {
            Token::Literal(l) => quote!(s.literal(#l);),
            Token::Param(_) => quote!(s.literal("*");),
        });
        let (dedupe_value_fn, dedupe) = match &self.dedupe {
            Some(f) => {
                let (ty, value) = (&f.ty, &f.value);
                let func = quote! {
                    fn dedupe_value(p: &#payload) -> Result<#ty, ::ampy_bus::RouteError> {
                        #value
                    }
                };
                let body = quote! {
                    let value = dedupe_value(p).ok()?;
                    let mut out = String::new();
                    ::ampy_bus::key::KeyValue::write_to(&value, &mut out);
                    Some(out)
                };
                (func, body)
            }
            None => (TokenStream::new(), quote!(let _ = p; None)),
        };
        let rest = quote! {
            /// The `partition_key` header for a payload.
            #vis fn partition_key(p: &#payload) -> Result<String, ::ampy_bus::RouteError> {
                let #key_pat = key_fields(p)?;
                let mut out = String::with_capacity(#(#capacity)+*);
                #(#writes)*
                Ok(out)
            }

            /// The `dedupe_key` header, from the registry's `dedupe` path.
            #vis fn dedupe_key(p: &#payload) -> Option<String> {
                #dedupe
            }

            /// The subject a payload is published on in `env`.
            #vis fn topic_for<E: ::ampy_bus::EnvName>(p: &#payload, env: E) -> Result<::ampy_bus::Subject, ::ampy_bus::RouteError> {
                let #sub_pat = key_fields(p)?;
                let mut s = ::ampy_bus::topic::SubjectBuf::new(NAMESPACE, env.env_name(), DOMAIN, VERSION, #extra)?;
                #(#pushes)*
                Ok(s.finish())
            }

            /// Every subject of this topic in `env`, placeholders as `*`.
            #vis fn pattern<E: ::ampy_bus::EnvName>(env: E) -> Result<String, ::ampy_bus::RouteError> {
                let mut s = ::ampy_bus::topic::SubjectBuf::new(NAMESPACE, env.env_name(), DOMAIN, VERSION, 0)?;
                #(#wild)*
                Ok(s.finish().into_string())
            }
        };
        concat([key_fields_fn, dedupe_value_fn, rest])
    }

    /// `const`s describing the topic and its schema.
    pub fn consts(&self, vis: &TokenStream) -> TokenStream {
        let Routing { id, namespace, domain, version, fqdn, schema_version, qos, .. } = self;
        let subtopic = self.subtopic.to_string();
        let format = self.key_format.to_string();
        let hash = opt_str(self.schema_hash.as_deref());
        quote! {
            /// Topic id, `domain.version.topic`.
            #vis const ID: &str = #id;
            #vis const NAMESPACE: &str = #namespace;
            #vis const DOMAIN: &str = #domain;
            /// Topic version: the payload's major version.
            #vis const VERSION: &str = #version;
            /// Subtopic template, as written in the registry.
            #vis const SUBTOPIC: &str = #subtopic;
            /// Partition key format, as written in the registry.
            #vis const KEY_FORMAT: &str = #format;
            /// The payload's fully qualified message name.
            #vis const FQDN: &str = #fqdn;
            #vis const SCHEMA_VERSION: &str = #schema_version;
            /// Canonical schema hash locked in the registry.
            #vis const SCHEMA_HASH: Option<&str> = #hash;
            #vis const QOS: ::ampy_bus::Qos = #qos;
        }
    }

    /// `impl Topic for #ty` delegating to the routing functions at `fns`.
    pub fn topic_impl(&self, ty: &TokenStream, payload: &TokenStream, fns: &TokenStream) -> TokenStream {
        quote! {
            impl ::ampy_bus::Topic for #ty {
                type Payload = #payload;
                const ID: &'static str = #fns ID;
                const NAMESPACE: &'static str = #fns NAMESPACE;
                const DOMAIN: &'static str = #fns DOMAIN;
                const VERSION: &'static str = #fns VERSION;
                const SUBTOPIC: &'static str = #fns SUBTOPIC;
                const QOS: ::ampy_bus::Qos = #fns QOS;
                fn topic_for<E: ::ampy_bus::EnvName>(payload: &Self::Payload, env: E) -> Result<::ampy_bus::Subject, ::ampy_bus::RouteError> {
                    #fns topic_for(payload, env)
                }
                fn partition_key(payload: &Self::Payload) -> Result<String, ::ampy_bus::RouteError> {
                    #fns partition_key(payload)
                }
                fn pattern<E: ::ampy_bus::EnvName>(env: E) -> Result<String, ::ampy_bus::RouteError> {
                    #fns pattern(env)
                }
            }
        }
    }

    /// `Schema` for the payload, delegating to `fns`.
    pub fn schema_impl(&self, payload: &TokenStream, fns: &TokenStream) -> TokenStream {
        quote! {
            impl ::ampy_bus::Schema for #payload {
                const FQDN: &'static str = #fns FQDN;
                const SCHEMA_VERSION: &'static str = #fns SCHEMA_VERSION;
                const SCHEMA_HASH: Option<&'static str> = #fns SCHEMA_HASH;
            }
        }
    }

    /// `PartitionKey` for the payload, delegating to `fns`.
    pub fn key_impl(&self, payload: &TokenStream, fns: &TokenStream) -> TokenStream {
        quote! {
            impl ::ampy_bus::PartitionKey for #payload {
                fn partition_key(&self) -> Result<String, ::ampy_bus::RouteError> {
                    #fns partition_key(self)
                }
                fn dedupe_key(&self) -> Option<String> {
                    #fns dedupe_key(self)
                }
            }
        }
    }

    /// What `#[derive(Payload)]` expands to on `self_ty`: the routing
    /// functions and every trait impl, inside a `const _` block.
    pub fn derive_block(&self, self_ty: &TokenStream) -> TokenStream {
        let consts = self.consts(&quote!(#[allow(dead_code)]));
        let functions = self.functions(self_ty, &TokenStream::new());
        let none = TokenStream::new();
        let topic_impl = self.topic_impl(self_ty, self_ty, &none);
        let schema_impl = self.schema_impl(self_ty, &none);
        let key_impl = self.key_impl(self_ty, &none);
        quote! {
            const _: () = {
                // The derive expands in the user's scope, where `Result` or
                // `String` may be their own; these names win inside the block.
                #[allow(unused_imports)]
                use ::core::option::Option::{self, None, Some};
                #[allow(unused_imports)]
                use ::core::result::Result::{self, Err, Ok};
                #[allow(unused_imports)]
                use ::std::string::String;
                #consts
                #functions
                #topic_impl
                #schema_impl
                #key_impl
                impl #self_ty {
                    /// The subject this payload is published on in `env`.
                    pub fn topic_for<E: ::ampy_bus::EnvName>(&self, env: E) -> Result<::ampy_bus::Subject, ::ampy_bus::RouteError> {
                        topic_for(self, env)
                    }
                }
            };
        }
    }
}

/// `s.literal(..)` / `s.param(..)?` per subtopic token, and the byte count
/// to reserve beyond the topic prefix.
fn subject_pushes(tokens: &[Token], value: impl Fn(&str) -> TokenStream) -> (Vec<TokenStream>, proc_macro2::Literal) {
    let mut extra = 0;
    let pushes = tokens
        .iter()
        .map(|t| match t {
            Token::Literal(l) => {
                extra += l.len() + 1;
                quote!(s.literal(#l);)
            }
            Token::Param(p) => {
                extra += 17;
                let v = value(p);
                quote!(s.param(#p, #v)?;)
            }
        })
        .collect();
    (pushes, proc_macro2::Literal::usize_unsuffixed(extra))
}

/// Local variable for a key field (`f_symbol`), clear of keywords and of
/// the generated code's own names.
pub fn var(name: &str) -> proc_macro2::Ident {
    format_ident!("f_{}", name)
}

/// A typed builder's argument: the key field's own name, clear of the
/// builder's `env` and `s`.
fn arg(name: &str) -> proc_macro2::Ident {
    match name {
        "env" | "s" => format_ident!("{}_", name),
        _ => snake(name),
    }
}

fn opt_str(s: Option<&str>) -> TokenStream {
    match s {
        Some(s) => quote!(Some(#s)),
        None => quote!(None),
    }
}

/// The module name for a registry name (domain, version, topic).
pub fn module(name: &str) -> proc_macro2::Ident {
    snake(name)
}
