//! Reading the Rust types of a payload struct's fields.
//!
//! A derive sees tokens, not resolved types, so the checks here are by
//! name: the last path segment (`String`, `::prost::alloc::string::String`
//! and `std::string::String` are all `String`) and its first generic
//! argument. That is exactly how prost-generated and prost-shaped structs
//! spell their fields; a type alias is not seen through and is reported as
//! a mismatch, which names the expected spelling.

use quote::ToTokens;
use syn::{GenericArgument, PathArguments, Type};

/// The last segment of a type path and its first type argument:
/// `Option<Timestamp>` → `("Option", Some(Timestamp))`.
pub fn head(ty: &Type) -> Option<(String, Option<&Type>)> {
    match ty {
        Type::Group(g) => head(&g.elem),
        Type::Paren(p) => head(&p.elem),
        Type::Path(p) if p.qself.is_none() => {
            let seg = p.path.segments.last()?;
            let arg = match &seg.arguments {
                PathArguments::AngleBracketed(args) => args.args.iter().find_map(|a| match a {
                    GenericArgument::Type(t) => Some(t),
                    _ => None,
                }),
                _ => None,
            };
            Some((seg.ident.to_string(), arg))
        }
        _ => None,
    }
}

/// Whether `ty` is spelled `name` (any path prefix) with no arguments.
pub fn is(ty: &Type, name: &str) -> bool {
    matches!(head(ty), Some((n, None)) if n == name)
}

/// `Option<T>` → `T`.
pub fn option_inner(ty: &Type) -> Option<&Type> {
    match head(ty) {
        Some((n, inner)) if n == "Option" => inner,
        _ => None,
    }
}

/// `Vec<T>` → `T`.
pub fn vec_inner(ty: &Type) -> Option<&Type> {
    match head(ty) {
        Some((n, inner)) if n == "Vec" => inner,
        _ => None,
    }
}

/// `Box<T>` → `T`.
pub fn box_inner(ty: &Type) -> Option<&Type> {
    match head(ty) {
        Some((n, inner)) if n == "Box" => inner,
        _ => None,
    }
}

/// `HashMap<K, V>` → `("HashMap", K, V)`.
pub fn two_args(ty: &Type) -> Option<(String, &Type, &Type)> {
    let Type::Path(p) = ty else {
        return match ty {
            Type::Group(g) => two_args(&g.elem),
            Type::Paren(p) => two_args(&p.elem),
            _ => None,
        };
    };
    let seg = p.path.segments.last()?;
    let PathArguments::AngleBracketed(args) = &seg.arguments else { return None };
    let mut tys = args.args.iter().filter_map(|a| match a {
        GenericArgument::Type(t) => Some(t),
        _ => None,
    });
    let (k, v) = (tys.next()?, tys.next()?);
    Some((seg.ident.to_string(), k, v))
}

/// The type as the user wrote it, compacted for messages
/// (`Option<prost_types::Timestamp>` rather than token soup).
pub fn show(ty: &Type) -> String {
    let raw = ty.to_token_stream().to_string();
    let mut out = String::with_capacity(raw.len());
    let chars: Vec<char> = raw.chars().collect();
    for (i, &c) in chars.iter().enumerate() {
        if c == ' ' {
            let prev = i.checked_sub(1).and_then(|j| chars.get(j)).copied().unwrap_or(' ');
            let next = chars.get(i + 1).copied().unwrap_or(' ');
            // Keep the space after `,` and between words (`dyn Trait`).
            let keep = prev == ',' || (prev.is_alphanumeric() && next.is_alphanumeric());
            if !keep {
                continue;
            }
        }
        out.push(c);
    }
    out
}

/// The integer and bool types prost uses for scalar fields, which are also
/// the ones `ampy_bus::key::KeyValue` is implemented for.
pub const KEY_SCALARS: &[&str] = &["i32", "i64", "u32", "u64", "bool"];

#[cfg(test)]
mod tests {
    use super::*;

    fn ty(s: &str) -> Type {
        syn::parse_str(s).expect("type")
    }

    #[test]
    fn heads_ignore_the_path_prefix() {
        assert!(is(&ty("::prost::alloc::string::String"), "String"));
        assert!(is(&ty("i64"), "i64"));
        assert!(!is(&ty("Option<i64>"), "i64"));
        let inner = option_inner(&ty("Option<::prost_types::Timestamp>")).map(|t| is(t, "Timestamp"));
        assert_eq!(inner, Some(true));
        assert!(vec_inner(&ty("::prost::alloc::vec::Vec<Bar>")).is_some());
        assert_eq!(show(&ty("Option < ::prost_types::Timestamp >")), "Option<::prost_types::Timestamp>");
        assert_eq!(show(&ty("HashMap<String, u32>")), "HashMap<String, u32>");
        let map = ty("::std::collections::BTreeMap<String, Bar>");
        assert!(matches!(two_args(&map), Some((h, k, v)) if h == "BTreeMap" && is(k, "String") && is(v, "Bar")));
        assert!(two_args(&ty("Vec<u8>")).is_none());
        assert!(box_inner(&ty("::prost::alloc::boxed::Box<Bar>")).is_some_and(|t| is(t, "Bar")));
    }
}
