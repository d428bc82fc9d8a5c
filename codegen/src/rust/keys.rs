//! Code that evaluates key paths on prost types, per docs/registry.md.
//!
//! Each key field becomes a block of plain loops and matches that feeds
//! every visited leaf into `ampy_bus::key::Agree`, the runtime's single
//! implementation of the emptiness, agreement and ordering rules. Paths
//! are resolved against descriptors at generation time, so the generated
//! code never reflects and allocates nothing until the key is written.

use prost_reflect::{FieldDescriptor, Kind};

use super::code::{lit, Code};
use super::names::{camel, snake, Paths};
use crate::registry::resolve::{Leaf, ResolvedField, ResolvedPath};
use crate::template::Index;

/// Where generated code can name prost types from.
pub struct Scope<'a> {
    pub paths: &'a Paths,
    /// The path that reaches the root of the generated tree from the code
    /// being emitted (`super::super`), or `None` when types cannot be named
    /// (a derive on a user struct), which rules out paths through oneofs.
    pub root: Option<String>,
}

/// The Rust type a leaf is compared and written as.
pub fn value_type(path: &ResolvedPath) -> String {
    let field = &path.steps[path.steps.len() - 1].field;
    match &path.leaf {
        Leaf::String => "&str",
        Leaf::Bool => "bool",
        Leaf::Int | Leaf::Uint => integer_type(&field.kind()),
        Leaf::Enum(_) => "::ampy_bus::key::EnumValue",
        Leaf::Timestamp => "::ampy_bus::key::TimestampValue",
    }
    .to_owned()
}

/// The argument type of a typed subject builder for this leaf.
pub fn param_type(path: &ResolvedPath) -> String {
    match &path.leaf {
        Leaf::Enum(_) => "i32".to_owned(),
        _ => value_type(path),
    }
}

fn integer_type(kind: &Kind) -> &'static str {
    match kind {
        Kind::Int32 | Kind::Sint32 | Kind::Sfixed32 => "i32",
        Kind::Uint32 | Kind::Fixed32 => "u32",
        Kind::Uint64 | Kind::Fixed64 => "u64",
        _ => "i64",
    }
}

/// A non-capturing closure from enum number to declared name; the first
/// declared name wins for aliases, as in descriptor lookups everywhere.
pub fn enum_name_fn(leaf: &Leaf) -> String {
    let Leaf::Enum(e) = leaf else { return "|_| None".to_owned() };
    // Declaration order from the descriptor proto: prost-reflect's
    // `values()` does not keep it for aliases, and the first declared
    // name is the one `route`, Go and Python write.
    let mut seen = std::collections::BTreeSet::new();
    let arms: String = e
        .enum_descriptor_proto()
        .value
        .iter()
        .filter(|v| seen.insert(v.number()))
        .map(|v| format!("{} => Some({}), ", v.number(), lit(v.name())))
        .collect();
    format!("|n: i32| -> Option<&'static str> {{ match n {{ {arms}_ => None }} }}")
}

/// A block expression of type `Result<V, RouteError>` (used with `?`) that
/// evaluates one key field on `var`.
pub fn field_value(scope: &Scope<'_>, field: &ResolvedField, var: &str) -> Result<String, String> {
    let mut c = Code::new();
    c.open("");
    c.line(format!(
        "let mut acc = ::ampy_bus::key::Agree::<{}>::new({}, {}, {});",
        value_type(&field.path),
        lit(&field.name),
        lit(&field.path.path.to_string()),
        field.path.fans_out()
    ));
    step(&mut c, scope, &field.path, 0, var)?;
    c.line("acc.finish()");
    c.close("");
    // `open("")` wrote ` {`; a block starts at its brace.
    Ok(c.finish().trim_start().to_owned())
}

/// Statements that visit the leaves below step `i` of `path` on message
/// reference `var`.
fn step(c: &mut Code, scope: &Scope<'_>, path: &ResolvedPath, i: usize, var: &str) -> Result<(), String> {
    let s = &path.steps[i];
    let last = i + 1 == path.steps.len();
    let f = snake(s.field.name());
    let elem = format!("x{i}");
    let on_elem = |c: &mut Code| -> Result<(), String> {
        if last {
            c.line(format!("acc.visit(Some({}))?;", leaf(path, &elem, true)));
            Ok(())
        } else {
            step(c, scope, path, i + 1, &elem)
        }
    };
    match s.index {
        Index::All => {
            c.open(format!("if {var}.{f}.is_empty()"));
            c.line("return Err(acc.empty_batch());");
            c.close("");
            c.open(format!("for {elem} in &{var}.{f}"));
            on_elem(c)?;
            c.close("");
        }
        Index::First => {
            c.open(format!("match {var}.{f}.first()"));
            c.line("None => return Err(acc.empty_batch()),");
            c.open(format!("Some({elem}) =>"));
            on_elem(c)?;
            c.close("");
            c.close("");
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
                let (o, variant, member) = (snake(oneof.name()), camel(oneof.name()), camel(s.field.name()));
                c.open(format!("match &{var}.{o}"));
                c.open(format!("Some({module}::{variant}::{member}({elem})) =>"));
                on_elem(c)?;
                c.close("");
                c.line("_ => acc.visit(None)?,");
                c.close("");
            } else if is_message(&s.field) || s.field.supports_presence() {
                // Option<T>: unset explicit-presence fields are empty.
                c.open(format!("match {var}.{f}.as_ref()"));
                c.line("None => acc.visit(None)?,");
                c.open(format!("Some({elem}) =>"));
                on_elem(c)?;
                c.close("");
                c.close("");
            } else {
                c.line(format!("acc.visit(Some({}))?;", leaf(path, &format!("{var}.{f}"), false)));
            }
        }
    }
    Ok(())
}

fn is_message(f: &FieldDescriptor) -> bool {
    matches!(f.kind(), Kind::Message(_))
}

/// The key value of a leaf, from the field's place (`p.id`) or, when
/// `by_ref`, from a reference to it (a list element or an `Option`'s
/// content).
fn leaf(path: &ResolvedPath, r: &str, by_ref: bool) -> String {
    let copy = if by_ref { format!("*{r}") } else { r.to_owned() };
    match &path.leaf {
        Leaf::String => format!("{r}.as_str()"),
        Leaf::Int | Leaf::Uint | Leaf::Bool => copy,
        Leaf::Enum(_) => format!("::ampy_bus::key::EnumValue {{ number: {copy}, name: {} }}", enum_name_fn(&path.leaf)),
        Leaf::Timestamp => format!("::ampy_bus::key::TimestampValue::from({r})"),
    }
}

#[cfg(test)]
mod tests {
    use prost_reflect::prost_types::{
        EnumDescriptorProto, EnumOptions, EnumValueDescriptorProto, FileDescriptorProto, FileDescriptorSet,
    };
    use prost_reflect::DescriptorPool;

    use super::*;

    #[test]
    fn enum_aliases_write_the_first_declared_name() {
        let value = |name: &str, number| EnumValueDescriptorProto {
            name: Some(name.into()),
            number: Some(number),
            options: None,
        };
        let file = FileDescriptorProto {
            name: Some("a.proto".into()),
            package: Some("a".into()),
            syntax: Some("proto3".into()),
            enum_type: vec![EnumDescriptorProto {
                name: Some("Side".into()),
                value: vec![value("SIDE_UNSPECIFIED", 0), value("BID", 1), value("BUY", 1), value("ASK", 2)],
                options: Some(EnumOptions { allow_alias: Some(true), ..Default::default() }),
                ..Default::default()
            }],
            ..Default::default()
        };
        let pool = DescriptorPool::from_file_descriptor_set(FileDescriptorSet { file: vec![file] }).unwrap();
        let side = pool.get_enum_by_name("a.Side").unwrap();
        let f = enum_name_fn(&Leaf::Enum(side));
        assert!(f.contains(r#"1 => Some("BID")"#) && !f.contains("BUY"), "{f}");
    }
}
