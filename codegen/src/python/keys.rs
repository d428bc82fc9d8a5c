//! Python code that evaluates key paths on protobuf messages, per
//! docs/registry.md ("Key values").
//!
//! Each key field becomes one function of plain loops and presence checks
//! that feeds every visited leaf into the runtime's `Agree`, the single
//! Python implementation of the emptiness, agreement and error-order rules.
//! Paths are resolved at generation time, so nothing reflects at run time.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use prost_reflect::{FieldDescriptor, Kind};

use super::names::{docstring, is_attr, py_str};
use crate::registry::resolve::{Leaf, ResolvedPath};
use crate::template::Index;

/// One enum's name table: its identifier, its writer function's
/// identifier, and (number, name) entries.
pub type EnumTable = (String, String, Vec<(i32, String)>);

/// Enum name tables shared by every function of the module, by enum full
/// name.
#[derive(Default)]
pub struct EnumTables {
    pub tables: BTreeMap<String, EnumTable>,
}

impl EnumTables {
    /// The writer function of `leaf` (registering its table).
    pub fn writer(&mut self, leaf: &Leaf) -> String {
        match leaf {
            Leaf::String => "_k.write_str".into(),
            Leaf::Int | Leaf::Uint => "_k.write_int".into(),
            Leaf::Bool => "_k.write_bool".into(),
            Leaf::Timestamp => "_k.write_timestamp".into(),
            Leaf::Enum(e) => {
                let n = self.tables.len();
                let entry = self.tables.entry(e.full_name().to_owned()).or_insert_with(|| {
                    // One name per number: the one the descriptor lookup
                    // gives (the reference evaluator's `get_value`), so an
                    // alias writes as in every other runtime.
                    let numbers: std::collections::BTreeSet<i32> = e.values().map(|v| v.number()).collect();
                    let values =
                        numbers.into_iter().filter_map(|n| e.get_value(n).map(|v| (n, v.name().to_owned()))).collect();
                    (format!("_ENUM_NAMES_{n}"), format!("_write_enum_{n}"), values)
                });
                entry.1.clone()
            }
        }
    }
}

/// The Python type of a leaf value as `Agree` holds it.
pub fn value_type(leaf: &Leaf) -> &'static str {
    match leaf {
        Leaf::String => "str",
        Leaf::Int | Leaf::Uint | Leaf::Enum(_) => "int",
        Leaf::Bool => "bool",
        Leaf::Timestamp => "_k.Timestamp",
    }
}

/// `var.name`, or `getattr(var, "name")` for names Python cannot spell as
/// attributes (`class`, `None`).
fn attr(var: &str, name: &str) -> String {
    if is_attr(name) {
        format!("{var}.{name}")
    } else {
        format!("getattr({var}, {})", py_str(name))
    }
}

fn is_message(f: &FieldDescriptor) -> bool {
    matches!(f.kind(), Kind::Message(_))
}

/// A function `def {fn_name}(p: {payload}) -> str` returning the written
/// value of one key field.
pub fn field_function(
    fn_name: &str,
    payload: &str,
    field: &str,
    path: &ResolvedPath,
    enums: &mut EnumTables,
) -> String {
    let mut out = String::new();
    let writer = enums.writer(&path.leaf);
    let _ = writeln!(out, "def {fn_name}(p: {payload}) -> str:");
    let what = if field == "dedupe" { "The dedupe value".to_owned() } else { format!("Key field `{field}`") };
    let doc = docstring(&format!("{what}: `{}`, written.", path.path));
    let _ = writeln!(out, "    \"\"\"{}\"\"\"", doc.concat());
    let _ = writeln!(out, "    acc: _k.Agree[{}] = _k.Agree(", value_type(&path.leaf));
    let _ = writeln!(out, "        {},", py_str(field));
    let _ = writeln!(out, "        {},", py_str(&path.path.to_string()));
    let _ = writeln!(out, "        {},", if path.fans_out() { "True" } else { "False" });
    let _ = writeln!(out, "        {writer},");
    let _ = writeln!(out, "    )");
    step(&mut out, path, 0, "p", 1);
    let _ = writeln!(out, "    return acc.write(acc.finish())");
    out
}

fn line(out: &mut String, level: usize, text: &str) {
    let _ = writeln!(out, "{}{text}", "    ".repeat(level));
}

/// The visit of a leaf reached as expression `expr`.
fn visit(path: &ResolvedPath, expr: &str, out: &mut String, level: usize, var: &str) {
    match path.leaf {
        Leaf::Timestamp => {
            line(out, level, &format!("{var} = {expr}"));
            line(out, level, &format!("acc.visit(({var}.seconds, {var}.nanos))"));
        }
        _ => line(out, level, &format!("acc.visit({expr})")),
    }
}

/// Statements visiting the leaves below step `i` of `path` on `var`.
fn step(out: &mut String, path: &ResolvedPath, i: usize, var: &str, level: usize) {
    let s = &path.steps[i];
    let last = i + 1 == path.steps.len();
    let access = attr(var, s.field.name());
    let elem = format!("x{i}");
    let on_elem = |out: &mut String, level: usize, elem: &str| {
        if last {
            if path.leaf == Leaf::Timestamp {
                line(out, level, &format!("acc.visit(({elem}.seconds, {elem}.nanos))"));
            } else {
                line(out, level, &format!("acc.visit({elem})"));
            }
        } else {
            step(out, path, i + 1, elem, level);
        }
    };
    match s.index {
        Index::All => {
            line(out, level, &format!("if not {access}:"));
            line(out, level + 1, "raise acc.empty_batch()");
            line(out, level, &format!("for {elem} in {access}:"));
            on_elem(out, level + 1, &elem);
        }
        Index::First => {
            line(out, level, &format!("if not {access}:"));
            line(out, level + 1, "raise acc.empty_batch()");
            line(out, level, &format!("{elem} = {access}[0]"));
            on_elem(out, level, &elem);
        }
        Index::None if is_message(&s.field) || s.field.supports_presence() => {
            // Unset explicit-presence fields (messages, proto3 `optional`,
            // oneof members other than the one set) are empty.
            line(out, level, &format!("if {var}.HasField({}):", py_str(s.field.name())));
            if last {
                visit(path, &access, out, level + 1, &elem);
            } else {
                line(out, level + 1, &format!("{elem} = {access}"));
                step(out, path, i + 1, &elem, level + 1);
            }
            line(out, level, "else:");
            line(out, level + 1, "acc.visit(None)");
        }
        Index::None => visit(path, &access, out, level, &elem),
    }
}
