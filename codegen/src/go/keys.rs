//! Go code that evaluates key paths on protoc-gen-go types, per
//! docs/registry.md.
//!
//! Each key field becomes plain loops and nil checks over the generated
//! getters (which are nil-safe), feeding every visited leaf into the
//! runtime's `agree`, the one implementation of the emptiness, agreement
//! and ordering rules. Paths are resolved at generation time, so the
//! generated code never reflects.

use std::collections::{BTreeMap, BTreeSet};

use prost_reflect::{Cardinality, FieldDescriptor, Kind, MessageDescriptor};

use super::names::{self, lit, MessageNames};
use crate::registry::resolve::{Leaf, ResolvedPath};
use crate::template::Index;

/// Go names of proto items, and which import aliases generated code used.
pub struct Types<'a> {
    /// Import alias by proto package.
    pub aliases: &'a BTreeMap<String, String>,
    pub used: BTreeSet<String>,
    cache: BTreeMap<String, MessageNames>,
}

impl<'a> Types<'a> {
    pub fn new(aliases: &'a BTreeMap<String, String>) -> Self {
        Types { aliases, used: BTreeSet::new(), cache: BTreeMap::new() }
    }

    /// `barsv1.BarBatch`, recording the import.
    pub fn qualified(&mut self, full_name: &str, package: &str) -> Result<String, String> {
        let alias = self.aliases.get(package).ok_or_else(|| format!("no Go package for proto package `{package}`"))?;
        self.used.insert(alias.clone());
        Ok(format!("{alias}.{}", names::go_type_name(full_name, package)))
    }

    pub fn message(&mut self, m: &MessageDescriptor) -> Result<String, String> {
        self.qualified(m.full_name(), m.package_name())
    }

    fn names(&mut self, m: &MessageDescriptor) -> &MessageNames {
        self.cache.entry(m.full_name().to_owned()).or_insert_with(|| names::message_names(m))
    }

    fn field_name(&mut self, f: &FieldDescriptor) -> String {
        let m = f.parent_message();
        self.names(m).fields.get(&f.number()).cloned().unwrap_or_default()
    }

    fn oneof_wrapper(&mut self, f: &FieldDescriptor) -> Result<String, String> {
        let m = f.parent_message();
        let w = self.names(m).wrappers.get(&f.number()).cloned().unwrap_or_default();
        let alias = self.aliases.get(m.package_name()).cloned().unwrap_or_default();
        self.used.insert(alias.clone());
        Ok(format!("{alias}.{w}"))
    }

    fn oneof_getter(&mut self, f: &FieldDescriptor) -> String {
        let m = f.parent_message();
        let o = names::real_oneof(f).map(|o| o.name().to_owned()).unwrap_or_default();
        self.names(m).oneofs.get(&o).cloned().unwrap_or_default()
    }

    /// The runtime value type a leaf is compared and written as.
    pub fn value_type(&mut self, path: &ResolvedPath) -> Result<String, String> {
        Ok(match &path.leaf {
            Leaf::String => "strValue".into(),
            Leaf::Int => "intValue".into(),
            Leaf::Uint => "uintValue".into(),
            Leaf::Bool => "boolValue".into(),
            Leaf::Enum(e) => format!("enumValue[{}]", self.qualified(e.full_name(), e.package_name())?),
            Leaf::Timestamp => "timeValue".into(),
        })
    }

    /// The parameter type of a typed subject builder for this leaf.
    pub fn param_type(&mut self, path: &ResolvedPath) -> Result<String, String> {
        let last = path.steps.last().map(|s| s.field.kind());
        Ok(match &path.leaf {
            Leaf::String => "string".into(),
            Leaf::Int => {
                if matches!(last, Some(Kind::Int64 | Kind::Sint64 | Kind::Sfixed64)) { "int64" } else { "int32" }.into()
            }
            Leaf::Uint => if matches!(last, Some(Kind::Uint64 | Kind::Fixed64)) { "uint64" } else { "uint32" }.into(),
            Leaf::Bool => "bool".into(),
            Leaf::Enum(e) => self.qualified(e.full_name(), e.package_name())?,
            Leaf::Timestamp => "time.Time".into(),
        })
    }

    /// Converts a builder parameter into its runtime value.
    pub fn param_value(&mut self, path: &ResolvedPath, var: &str) -> Result<String, String> {
        Ok(match &path.leaf {
            Leaf::Enum(_) => format!("{}{{{var}}}", self.value_type(path)?),
            _ => format!("{}({var})", self.value_type(path)?),
        })
    }
}

/// Lines of Go that evaluate `path` on `p` into `out` inside a function
/// with named results `err error` (and whatever `out` names), returning
/// early on the first key error. `acc` names the agree variable.
pub fn field_code(
    t: &mut Types<'_>,
    field: &str,
    path: &ResolvedPath,
    acc: &str,
    out: &str,
) -> Result<Vec<String>, String> {
    let mut c = Vec::new();
    c.push(format!(
        "{acc} := agree[{}]{{field: {}, path: {}, fansOut: {}}}",
        t.value_type(path)?,
        lit(field),
        lit(&path.path.to_string()),
        path.fans_out()
    ));
    step(t, &mut c, path, 0, "p", acc, 0)?;
    c.push(format!("if {out}, err = {acc}.finish(); err != nil {{"));
    c.push("\treturn".into());
    c.push("}".into());
    Ok(c)
}

fn push(c: &mut Vec<String>, depth: usize, line: impl AsRef<str>) {
    c.push(format!("{}{}", "\t".repeat(depth), line.as_ref()));
}

fn visit(c: &mut Vec<String>, depth: usize, acc: &str, value: &str) {
    push(c, depth, format!("if err = {acc}.visit({value}, true); err != nil {{"));
    push(c, depth + 1, "return");
    push(c, depth, "}");
}

fn unset(c: &mut Vec<String>, depth: usize, acc: &str) {
    push(c, depth, format!("if err = {acc}.unset(); err != nil {{"));
    push(c, depth + 1, "return");
    push(c, depth, "}");
}

/// Visits the leaves below step `i` of `path` on the message `var`.
fn step(
    t: &mut Types<'_>,
    c: &mut Vec<String>,
    path: &ResolvedPath,
    i: usize,
    var: &str,
    acc: &str,
    depth: usize,
) -> Result<(), String> {
    let Some(s) = path.steps.get(i) else { return Err(format!("key path `{}` has no step {i}", path.path)) };
    let last = i + 1 == path.steps.len();
    let getter = format!("{var}.Get{}()", t.field_name(&s.field));
    let elem = format!("x{i}");
    let is_message = matches!(s.field.kind(), Kind::Message(_));
    match s.index {
        Index::All | Index::First => {
            push(c, depth, format!("if len({getter}) == 0 {{"));
            push(c, depth + 1, format!("err = {acc}.emptyBatch()"));
            push(c, depth + 1, "return");
            push(c, depth, "}");
            if s.index == Index::All {
                push(c, depth, format!("for _, {elem} := range {getter} {{"));
            } else {
                push(c, depth, "{");
                push(c, depth + 1, format!("{elem} := {getter}[0]"));
            }
            element(t, c, path, i, &elem, acc, depth + 1, is_message, last)?;
            push(c, depth, "}");
        }
        Index::None if is_message => {
            push(c, depth, format!("if {elem} := {getter}; {elem} == nil {{"));
            unset(c, depth + 1, acc);
            push(c, depth, "} else {");
            if last {
                visit(c, depth + 1, acc, &leaf(t, path, &elem)?);
            } else {
                step(t, c, path, i + 1, &elem, acc, depth + 1)?;
            }
            push(c, depth, "}");
        }
        Index::None if names::real_oneof(&s.field).is_some() => {
            let wrapper = t.oneof_wrapper(&s.field)?;
            let oneof = t.oneof_getter(&s.field);
            let name = t.field_name(&s.field);
            push(c, depth, format!("if w, ok := {var}.Get{oneof}().(*{wrapper}); ok {{"));
            visit(c, depth + 1, acc, &leaf(t, path, &format!("w.{name}"))?);
            push(c, depth, "} else {");
            unset(c, depth + 1, acc);
            push(c, depth, "}");
        }
        Index::None if s.field.supports_presence() && s.field.cardinality() != Cardinality::Repeated => {
            let name = t.field_name(&s.field);
            push(c, depth, format!("if {var} != nil && {var}.{name} != nil {{"));
            visit(c, depth + 1, acc, &leaf(t, path, &format!("*{var}.{name}"))?);
            push(c, depth, "} else {");
            unset(c, depth + 1, acc);
            push(c, depth, "}");
        }
        Index::None => visit(c, depth, acc, &leaf(t, path, &getter)?),
    }
    Ok(())
}

/// Visits one element of a repeated step.
#[allow(clippy::too_many_arguments)]
fn element(
    t: &mut Types<'_>,
    c: &mut Vec<String>,
    path: &ResolvedPath,
    i: usize,
    elem: &str,
    acc: &str,
    depth: usize,
    is_message: bool,
    last: bool,
) -> Result<(), String> {
    match (last, is_message) {
        (false, _) => step(t, c, path, i + 1, elem, acc, depth),
        (true, false) => {
            visit(c, depth, acc, &leaf(t, path, elem)?);
            Ok(())
        }
        (true, true) => {
            // A Timestamp element; a nil element of a hand-built slice is unset.
            push(c, depth, format!("if {elem} == nil {{"));
            unset(c, depth + 1, acc);
            push(c, depth, "} else {");
            visit(c, depth + 1, acc, &leaf(t, path, elem)?);
            push(c, depth, "}");
            Ok(())
        }
    }
}

/// The runtime value of a leaf expression.
fn leaf(t: &mut Types<'_>, path: &ResolvedPath, e: &str) -> Result<String, String> {
    Ok(match &path.leaf {
        Leaf::Timestamp => format!("timeValue{{{e}.GetSeconds(), {e}.GetNanos()}}"),
        Leaf::Enum(_) => format!("{}{{{e}}}", t.value_type(path)?),
        _ => format!("{}({e})", t.value_type(path)?),
    })
}
