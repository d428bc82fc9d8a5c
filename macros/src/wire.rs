//! The wire check: a struct (or enum) that claims a registry definition
//! must encode exactly as that definition does.
//!
//! Every field of the message must be declared, and every declared field
//! must be one of the message's, matched by the name prost-build gives it;
//! then its `#[prost]` attribute (what prost writes on the wire: tag, type,
//! label, packing) and its Rust type are compared with the descriptor.
//! Fields holding another message, a oneof or an enum cannot be checked
//! here, since a derive sees only its own item: each becomes a [`Nested`]
//! requirement that the held type was itself derived (`WireShape`) from
//! the same definition, asserted at compile time on the field's span.
//!
//! The rules are the strict ones: a struct missing a field decodes records
//! without it and republishes them without it, so it does not compile.

use prost_reflect::{EnumDescriptor, FieldDescriptor, Kind, MessageDescriptor, OneofDescriptor};
use syn::spanned::Spanned;
use syn::{Field, Fields, Ident, Type, Variant};

use crate::errors::Errors;
use crate::prost_attr::{self, Label, MapValue, ProstAttr, Scalar};
use crate::proto::{self, Storage};
use crate::types;

/// A held type that must implement `WireShape` for `proto` with `shape`.
pub struct Nested {
    /// The type, spanned where it is written (the field's type).
    pub ty: Type,
    pub proto: String,
    pub shape: String,
    /// `ampy.bars.v1.BarBatch.bars`, for messages.
    pub holder: String,
    /// `message`, `oneof` or `enum`.
    pub what: &'static str,
}

/// One struct field with its parsed attribute.
struct Declared<'a> {
    field: &'a Field,
    name: String,
    attr: Option<ProstAttr>,
}

/// What a struct field must match: a field outside real oneofs, or a
/// whole oneof.
enum Slot {
    Field(FieldDescriptor),
    Oneof(OneofDescriptor),
}

impl Slot {
    fn rust_name(&self) -> String {
        match self {
            Slot::Field(f) => proto::rust_field_name(f.name()),
            Slot::Oneof(o) => proto::rust_field_name(o.name()),
        }
    }
}

/// Checks a struct's fields against message `m`; returns the nested
/// requirements of the fields that passed.
pub fn check_struct(m: &MessageDescriptor, ident: &Ident, fields: &[&Field], errors: &mut Errors) -> Vec<Nested> {
    let declared = read_fields(fields, errors);
    let slots: Vec<Slot> = m
        .fields()
        .filter(|f| !is_oneof_member(f))
        .map(Slot::Field)
        .chain(m.oneofs().filter(|o| !o.is_synthetic()).map(Slot::Oneof))
        .collect();
    let mut nested = Vec::new();
    let mut used = vec![false; slots.len()];
    for d in &declared {
        match slots.iter().position(|s| s.rust_name() == d.name) {
            Some(i) => {
                used[i] = true;
                match &slots[i] {
                    Slot::Field(f) => check_field(f, d, errors, &mut nested),
                    Slot::Oneof(o) => check_oneof_field(o, d, errors, &mut nested),
                }
            }
            None => {
                // A field misnamed but on another field's tag is that
                // field, wrongly named: one error, not a missing field too.
                let by_tag = d
                    .attr
                    .as_ref()
                    .and_then(|a| slots.iter().position(|s| matches!(s, Slot::Field(f) if f.number() == a.tag)));
                if let Some(i) =
                    by_tag.filter(|i| !used[*i] && !declared.iter().any(|x| x.name == slots[*i].rust_name()))
                {
                    used[i] = true;
                }
                errors.push(unknown_field(m, d, &slots));
            }
        }
    }
    for (slot, used) in slots.iter().zip(used) {
        if used {
            continue;
        }
        let (what, decl) = match slot {
            Slot::Field(f) => {
                (format!("field {} `{}` ({})", f.number(), f.name(), proto::proto_type(f)), proto::declaration(f))
            }
            Slot::Oneof(o) => {
                let tags: Vec<String> = o.fields().map(|f| f.number().to_string()).collect();
                (format!("oneof `{}` (fields {})", o.name(), tags.join(", ")), proto::oneof_declaration(o))
            }
        };
        errors.push(syn::Error::new(
            ident.span(),
            format!(
                "`{ident}` has no field for {what} of `{}`: a struct without it drops the field when it decodes a \
                 record and can never send it; add `{decl}`",
                m.full_name()
            ),
        ));
    }
    nested
}

fn read_fields<'a>(fields: &[&'a Field], errors: &mut Errors) -> Vec<Declared<'a>> {
    let mut next_tag = 1u32;
    let mut out = Vec::new();
    for field in fields {
        let name = field.ident.as_ref().map(|i| proto::unraw(&i.to_string())).unwrap_or_default();
        let attr = match prost_attr::parse(&field.attrs, Some(next_tag)) {
            Ok(a) => a,
            Err(e) => {
                errors.push(e);
                continue;
            }
        };
        if let Some(a) = &attr {
            next_tag = a.tags().iter().max().map_or(next_tag, |t| t.saturating_add(1));
        }
        out.push(Declared { field, name, attr });
    }
    out
}

fn is_oneof_member(f: &FieldDescriptor) -> bool {
    f.containing_oneof().is_some_and(|o| !o.is_synthetic())
}

/// A declared field that is not one of the message's.
fn unknown_field(m: &MessageDescriptor, d: &Declared<'_>, slots: &[Slot]) -> syn::Error {
    let span = d.field.ident.as_ref().map_or_else(|| d.field.span(), Ident::span);
    let by_tag = d.attr.as_ref().and_then(|a| {
        slots.iter().find_map(|s| match s {
            Slot::Field(f) if f.number() == a.tag => Some(f.clone()),
            _ => None,
        })
    });
    let message = match by_tag {
        Some(f) => format!(
            "`{}` has tag {}, which is `{}` in `{}`: name the field `{}`, as prost-build does, so that key paths \
             and readers find it",
            d.name,
            f.number(),
            f.name(),
            m.full_name(),
            proto::rust_field_name(f.name())
        ),
        None => {
            let names: Vec<String> = slots.iter().map(|s| format!("`{}`", s.rust_name())).collect();
            let hint = match ampygen::diag::suggest(
                &d.name,
                slots.iter().map(Slot::rust_name).collect::<Vec<_>>().iter().map(String::as_str),
            ) {
                Some(s) => format!("did you mean `{s}`?"),
                None => format!("its fields are {}", names.join(", ")),
            };
            format!(
                "`{}` is not a field of `{}`, so prost would write a field the schema does not have; remove it ({hint})",
                d.name,
                m.full_name()
            )
        }
    };
    syn::Error::new(span, message)
}

/// The common tail of every message about field `f`: what to write.
fn write_instead(f: &FieldDescriptor) -> String {
    format!("declare it `{}`", proto::declaration(f))
}

fn check_field(f: &FieldDescriptor, d: &Declared<'_>, errors: &mut Errors, nested: &mut Vec<Nested>) {
    let full = f.full_name();
    let Some(attr) = &d.attr else {
        errors.push(syn::Error::new(
            d.field.span(),
            format!(
                "`{}` has no `#[prost(...)]` attribute, so nothing says how it is encoded; it is field {} of `{}` \
                 ({}): {}",
                d.name,
                f.number(),
                f.parent_message().full_name(),
                proto::proto_type(f),
                write_instead(f)
            ),
        ));
        return;
    };
    let before = errors.count();
    check_kind(f, attr, &d.name, errors);
    if attr.tag != f.number() {
        let how = if attr.tag_span.is_some() {
            format!("has tag {}", attr.tag)
        } else {
            format!("has no `tag`, so prost gives it {} (one past the field before it)", attr.tag)
        };
        errors.push(syn::Error::new(
            attr.tag_or_attr_span(),
            format!(
                "`{}` {how}, but `{full}` is field {} on the wire: write `tag = \"{}\"`",
                d.name,
                f.number(),
                f.number()
            ),
        ));
    }
    check_label(f, attr, &d.name, errors);
    if errors.count() > before {
        return;
    }
    check_rust_type(f, attr, d, errors, nested);
}

/// The attribute's type against the descriptor's.
fn check_kind(f: &FieldDescriptor, attr: &ProstAttr, name: &str, errors: &mut Errors) {
    let full = f.full_name();
    let wrong = |errors: &mut Errors, what: String| {
        errors.push(syn::Error::new(
            attr.kind_span,
            format!(
                "`{name}` is `{what}` here, but `{full}` is `{}` on the wire: {}",
                proto::proto_type(f),
                write_instead(f)
            ),
        ));
    };
    if let Some((k, v)) = proto::map_entry(f) {
        match &attr.kind {
            prost_attr::Kind::Map { key, value, .. } => {
                let value_ok = match (value, v.kind()) {
                    (MapValue::Message, Kind::Message(_)) => true,
                    (MapValue::Scalar(s), kind) => proto::scalar_matches(s, &kind),
                    _ => false,
                };
                if !proto::scalar_matches(key, &k.kind()) || !value_ok {
                    let value = match value {
                        MapValue::Message => "message".to_owned(),
                        MapValue::Scalar(s) => s.word().to_owned(),
                    };
                    wrong(errors, format!("map<{}, {value}>", key.word()));
                }
            }
            other => wrong(errors, other.describe()),
        }
        return;
    }
    let ok = match (&attr.kind, f.kind()) {
        (prost_attr::Kind::Message, Kind::Message(_)) => !f.is_group(),
        (prost_attr::Kind::Group, Kind::Message(_)) => f.is_group(),
        (prost_attr::Kind::Scalar(s), kind) => proto::scalar_matches(s, &kind),
        _ => false,
    };
    if !ok {
        wrong(errors, attr.kind.describe());
    }
}

/// The attribute's label (and packing) against the descriptor's.
fn check_label(f: &FieldDescriptor, attr: &ProstAttr, name: &str, errors: &mut Errors) {
    let full = f.full_name();
    let storage = Storage::of(f);
    let written = attr.label.map(|(l, _)| l);
    let is_message = matches!(f.kind(), Kind::Message(_));
    let ok = match storage {
        Storage::Map => written.is_none(),
        Storage::Repeated => written == Some(Label::Repeated),
        Storage::Required => written == Some(Label::Required),
        Storage::Optional => written == Some(Label::Optional) || (is_message && written.is_none()),
        Storage::Plain => written.is_none(),
    };
    if !ok {
        let span = attr.label.map_or(attr.kind_span, |(_, s)| s);
        let have = written.map_or_else(|| "has no label".to_owned(), |l| format!("is `{}`", l.word()));
        errors.push(syn::Error::new(
            span,
            format!("`{name}` {have}, but `{full}` is {}: {}", storage.describe(), write_instead(f)),
        ));
        return;
    }
    if let (Storage::Repeated, prost_attr::Kind::Scalar(s)) = (storage, &attr.kind) {
        let packed = attr.packed.map_or(s.is_numeric(), |(p, _)| p);
        if s.is_numeric() && packed != f.is_packed() {
            let span = attr.packed.map_or(attr.kind_span, |(_, s)| s);
            let (have, want) = if packed { ("packed", "unpacked") } else { ("unpacked", "packed") };
            errors.push(syn::Error::new(
                span,
                format!("`{name}` is written {have}, but `{full}` is {want} on the wire: {}", write_instead(f)),
            ));
        }
    }
}

/// The Rust type against what prost needs for the (already matching)
/// attribute; records the nested requirements.
fn check_rust_type(
    f: &FieldDescriptor,
    attr: &ProstAttr,
    d: &Declared<'_>,
    errors: &mut Errors,
    nested: &mut Vec<Nested>,
) {
    let ty = &d.field.ty;
    let mismatch = |errors: &mut Errors| {
        errors.push(syn::Error::new_spanned(
            ty,
            format!(
                "`{}` is `{}`, but prost represents `{}` ({}) as `{}`: {}",
                d.name,
                types::show(ty),
                f.full_name(),
                proto::proto_type(f),
                proto::rust_type(f),
                write_instead(f)
            ),
        ));
    };
    if let Some((k, v)) = proto::map_entry(f) {
        let btree = matches!(attr.kind, prost_attr::Kind::Map { btree: true, .. });
        let want = if btree { "BTreeMap" } else { "HashMap" };
        match types::two_args(ty) {
            Some((head, key, value)) if head == want => {
                if !element_ok(&k, key, attr, nested, f) || !element_ok(&v, value, attr, nested, f) {
                    mismatch(errors);
                }
            }
            _ => mismatch(errors),
        }
        return;
    }
    let elem = match Storage::of(f) {
        Storage::Repeated => types::vec_inner(ty),
        Storage::Optional => types::option_inner(ty),
        Storage::Plain | Storage::Required | Storage::Map => Some(ty),
    };
    let elem = match (elem, attr.boxed) {
        (Some(e), true) => types::box_inner(e),
        (e, _) => e,
    };
    match elem {
        Some(e) if element_ok(f, e, attr, nested, f) => {}
        _ => mismatch(errors),
    }
}

/// Whether `ty` is prost's type for one value of `f` (a map's key or
/// value, or the field itself); messages and enums become requirements.
fn element_ok(
    f: &FieldDescriptor,
    ty: &Type,
    attr: &ProstAttr,
    nested: &mut Vec<Nested>,
    holder: &FieldDescriptor,
) -> bool {
    match f.kind() {
        Kind::Message(m) => match proto::wkt_rust(&m) {
            Some(rust) => wkt_ok(ty, rust),
            None => {
                nested.push(Nested {
                    ty: ty.clone(),
                    proto: m.full_name().to_owned(),
                    shape: proto::message_shape(&m),
                    holder: holder.full_name().to_owned(),
                    what: "message",
                });
                true
            }
        },
        Kind::Enum(e) => {
            if !types::is(ty, "i32") {
                return false;
            }
            if let Some(path) = enum_path(attr) {
                nested.push(enum_requirement(&e, path, holder));
            }
            true
        }
        Kind::Bytes => match &attr.kind {
            prost_attr::Kind::Scalar(Scalar::Bytes { vec: false }) => types::is(ty, "Bytes"),
            _ => types::vec_inner(ty).is_some_and(|t| types::is(t, "u8")),
        },
        _ => types::is(ty, &proto::element_type(f)),
    }
}

/// The Rust enum an `enumeration` attribute names (of the field, or of
/// a map's values: keys cannot be enums).
fn enum_path(attr: &ProstAttr) -> Option<&syn::Path> {
    match &attr.kind {
        prost_attr::Kind::Scalar(Scalar::Enumeration(p)) => Some(p),
        prost_attr::Kind::Map { value: MapValue::Scalar(Scalar::Enumeration(p)), .. } => Some(p),
        _ => None,
    }
}

/// The requirement on the Rust enum an `enumeration` attribute names; its
/// path carries the attribute literal's span, where errors go.
fn enum_requirement(e: &EnumDescriptor, path: &syn::Path, holder: &FieldDescriptor) -> Nested {
    let ty = Type::Path(syn::TypePath { qself: None, path: path.clone() });
    Nested {
        ty,
        proto: e.full_name().to_owned(),
        shape: proto::enum_shape(e),
        holder: holder.full_name().to_owned(),
        what: "enum",
    }
}

/// A well-known type's Rust spelling: by last path segment (`()` for
/// `Empty`, `Vec<u8>` for `BytesValue`).
fn wkt_ok(ty: &Type, rust: &str) -> bool {
    match rust {
        "()" => matches!(ty, Type::Tuple(t) if t.elems.is_empty()),
        "Vec<u8>" => types::vec_inner(ty).is_some_and(|t| types::is(t, "u8")),
        _ => types::is(ty, rust.rsplit("::").next().unwrap_or(rust)),
    }
}

/// A `oneof` struct field against the message's oneof.
fn check_oneof_field(o: &OneofDescriptor, d: &Declared<'_>, errors: &mut Errors, nested: &mut Vec<Nested>) {
    let decl = proto::oneof_declaration(o);
    let mut want: Vec<u32> = o.fields().map(|f| f.number()).collect();
    want.sort_unstable();
    let Some(attr) = &d.attr else {
        errors.push(syn::Error::new(
            d.field.span(),
            format!(
                "`{}` has no `#[prost(...)]` attribute; it is the oneof `{}`: write `{decl}`",
                d.name,
                o.full_name()
            ),
        ));
        return;
    };
    let prost_attr::Kind::Oneof { path, tags } = &attr.kind else {
        errors.push(syn::Error::new(
            attr.kind_span,
            format!(
                "`{}` is `{}` here, but `{}` is a oneof: write `{decl}`",
                d.name,
                attr.kind.describe(),
                o.full_name()
            ),
        ));
        return;
    };
    let mut have = tags.clone();
    have.sort_unstable();
    if have != want {
        let list = |v: &[u32]| v.iter().map(u32::to_string).collect::<Vec<_>>().join(", ");
        errors.push(syn::Error::new(
            attr.span,
            format!(
                "`{}` has tags {}, but the members of `{}` are fields {}: write `tags = \"{}\"`",
                d.name,
                list(&have),
                o.full_name(),
                list(&want),
                list(&want)
            ),
        ));
        return;
    }
    match types::option_inner(&d.field.ty) {
        Some(inner) => nested.push(Nested {
            ty: inner.clone(),
            proto: o.full_name().to_owned(),
            shape: proto::oneof_shape(o),
            holder: o.full_name().to_owned(),
            what: "oneof",
        }),
        None => errors.push(syn::Error::new_spanned(
            &d.field.ty,
            format!(
                "`{}` is `{}`, but prost represents a oneof as an `Option` of its enum: declare it `Option<{}>`",
                d.name,
                types::show(&d.field.ty),
                quote::quote!(#path).to_string().replace(' ', "")
            ),
        )),
    }
}

/// Checks the variants of a `prost::Oneof` enum against oneof `o`.
pub fn check_oneof_enum(o: &OneofDescriptor, ident: &Ident, variants: &[&Variant], errors: &mut Errors) -> Vec<Nested> {
    let mut nested = Vec::new();
    let members: Vec<FieldDescriptor> = o.fields().collect();
    let mut used = vec![false; members.len()];
    for v in variants {
        let name = proto::unraw(&v.ident.to_string());
        let Some(i) = members.iter().position(|m| proto::rust_type_name(m.name()) == name) else {
            let names: Vec<String> = members.iter().map(|m| format!("`{}`", proto::rust_type_name(m.name()))).collect();
            errors.push(syn::Error::new(
                v.ident.span(),
                format!(
                    "`{name}` is not a member of the oneof `{}`; its variants are {}",
                    o.full_name(),
                    names.join(", ")
                ),
            ));
            continue;
        };
        used[i] = true;
        let f = &members[i];
        let ty = match &v.fields {
            Fields::Unnamed(u) if u.unnamed.len() == 1 => u.unnamed.first().map(|x| &x.ty),
            _ => None,
        };
        let Some(ty) = ty else {
            errors.push(syn::Error::new(
                v.span(),
                format!("a oneof variant holds one value: write `{}({})`", name, proto::element_type(f)),
            ));
            continue;
        };
        let attr = match prost_attr::parse(&v.attrs, None) {
            Ok(Some(a)) => a,
            Ok(None) => {
                errors.push(syn::Error::new(
                    v.span(),
                    format!("`{name}` has no `#[prost(...)]` attribute: write `{}`", variant_decl(f)),
                ));
                continue;
            }
            Err(e) => {
                errors.push(e);
                continue;
            }
        };
        let before = errors.count();
        check_kind(f, &attr, &name, errors);
        if attr.tag != f.number() {
            errors.push(syn::Error::new(
                attr.tag_or_attr_span(),
                format!(
                    "`{name}` has tag {}, but `{}` is field {}: write `tag = \"{}\"`",
                    attr.tag,
                    f.full_name(),
                    f.number(),
                    f.number()
                ),
            ));
        }
        if let Some((label, span)) = attr.label {
            errors.push(syn::Error::new(span, format!("a oneof member has no label: remove `{}`", label.word())));
        }
        if errors.count() > before {
            continue;
        }
        let elem = if attr.boxed { types::box_inner(ty) } else { Some(ty) };
        let ok = elem.is_some_and(|e| element_ok(f, e, &attr, &mut nested, f));
        if !ok {
            errors.push(syn::Error::new_spanned(
                ty,
                format!(
                    "`{name}` holds `{}`, but prost represents `{}` as `{}`",
                    types::show(ty),
                    f.full_name(),
                    proto::element_type(f)
                ),
            ));
        }
    }
    for (m, used) in members.iter().zip(used) {
        if !used {
            errors.push(syn::Error::new(
                ident.span(),
                format!(
                    "`{ident}` has no variant for `{}` (field {}): add `{}`",
                    m.full_name(),
                    m.number(),
                    variant_decl(m)
                ),
            ));
        }
    }
    nested
}

fn variant_decl(f: &FieldDescriptor) -> String {
    let attr = proto::prost_attr(f).replace(", optional", "");
    format!("{attr} {}({})", proto::rust_type_name(f.name()), proto::element_type(f))
}

/// Checks the variants of a `prost::Enumeration` enum against enum `e`:
/// one variant per number, named as prost-build names it.
pub fn check_enumeration(e: &EnumDescriptor, ident: &Ident, variants: &[&Variant], errors: &mut Errors) {
    let want = proto::enum_variants(e);
    let mut next = 0i64;
    let mut seen = Vec::new();
    for v in variants {
        let number = match &v.discriminant {
            Some((_, expr)) => match discriminant(expr) {
                Some(n) => n,
                None => {
                    errors.push(syn::Error::new_spanned(
                        expr,
                        "write the enum value's number as an integer literal, as prost-build does",
                    ));
                    continue;
                }
            },
            None => next,
        };
        next = number.saturating_add(1);
        let name = proto::unraw(&v.ident.to_string());
        seen.push(number);
        match want.iter().find(|(n, _)| i64::from(*n) == number) {
            None => errors.push(syn::Error::new(
                v.span(),
                format!("`{name}` is {number}, which `{}` does not have: remove it, or fix its number", e.full_name()),
            )),
            Some((_, expected)) if *expected != name => errors.push(syn::Error::new(
                v.ident.span(),
                format!(
                    "{number} is `{expected}` in `{}` (prost-build's name for it): rename `{name}` to `{expected}`",
                    e.full_name()
                ),
            )),
            Some(_) => {}
        }
    }
    for (n, name) in &want {
        if !seen.contains(&i64::from(*n)) {
            errors.push(syn::Error::new(
                ident.span(),
                format!("`{ident}` has no variant for {n} of `{}`: add `{name} = {n},`", e.full_name()),
            ));
        }
    }
}

fn discriminant(expr: &syn::Expr) -> Option<i64> {
    match expr {
        syn::Expr::Lit(syn::ExprLit { lit: syn::Lit::Int(i), .. }) => i.base10_parse().ok(),
        syn::Expr::Unary(syn::ExprUnary { op: syn::UnOp::Neg(_), expr, .. }) => discriminant(expr).map(|n| -n),
        syn::Expr::Group(g) => discriminant(&g.expr),
        syn::Expr::Paren(p) => discriminant(&p.expr),
        _ => None,
    }
}
