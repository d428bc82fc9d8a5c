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

/// A module-level function `def {name}(p: {payload}) -> str` returning the
/// written value of one key field. The function's shape lives in
/// [`KeyFunction::print`]; the path walk is computed here, as lines.
pub struct KeyFunction {
    name: String,
    payload: String,
    /// The one-line docstring, escaped.
    doc: String,
    value_type: &'static str,
    /// Field name and path as literals, for `Agree`'s errors.
    field: String,
    path: String,
    /// `True` when the path has a `[*]` (agreement across elements).
    fans_out: &'static str,
    writer: String,
    /// Statements that return a string key early when no check can refuse
    /// it (see [`fast_path`]); empty when the key has no such path.
    fast: Vec<String>,
    /// The walk of the path, as indented statements.
    body: Vec<String>,
}

impl KeyFunction {
    /// The function's Python source, ending with its line break.
    pub fn print(&self, out: &mut String) {
        let KeyFunction { name, payload, doc, value_type, field, path, fans_out, writer, fast, body } = self;
        let _ = writeln!(out, "def {name}(p: {payload}) -> str:\n    \"\"\"{doc}\"\"\"");
        for l in fast {
            out.push_str(l);
            out.push('\n');
        }
        let _ = writeln!(
            out,
            "    acc: _k.Agree[{value_type}] = _k.Agree(\n        {field},\n        {path},\n        {fans_out},\n        {writer},\n    )"
        );
        for l in body {
            out.push_str(l);
            out.push('\n');
        }
        out.push_str("    return acc.write(acc.finish())\n");
    }
}

/// Statements returning a string key's value before the accumulator is
/// built, for the case no check can refuse: every `[*]` list holds exactly
/// one element (nothing to disagree with), every `[0]` list is non-empty,
/// and the value read through the chain is not empty. An unset message or
/// field reads as its default, so only the empty default (proto3, or proto2
/// without `default =`) qualifies. Anything else falls through to the full
/// walk, which reports the first problem in the documented order. A
/// one-element batch, the common case, then costs one attribute chain.
fn fast_path(path: &ResolvedPath) -> Vec<String> {
    if path.leaf != Leaf::String {
        return Vec::new();
    }
    let mut lines = Vec::new();
    let mut expr = "p".to_owned();
    let mut level = 1;
    for (i, s) in path.steps.iter().enumerate() {
        if s.field.is_map() || s.field.field_descriptor_proto().default_value.is_some() {
            return Vec::new();
        }
        let access = attr(&expr, s.field.name());
        match s.index {
            Index::None if !s.field.is_list() => expr = access,
            Index::All | Index::First if s.field.is_list() => {
                let seq = format!("f{i}");
                line(&mut lines, level, &format!("{seq} = {access}"));
                let one = if matches!(s.index, Index::All) { format!("len({seq}) == 1") } else { seq.clone() };
                line(&mut lines, level, &format!("if {one}:"));
                level += 1;
                expr = format!("{seq}[0]");
            }
            _ => return Vec::new(),
        }
    }
    line(&mut lines, level, &format!("v: str = {expr}"));
    line(&mut lines, level, "if v:");
    line(&mut lines, level + 1, "return v");
    lines
}

/// The function evaluating key `field` (or `dedupe`) at `path`.
pub fn field_function(
    fn_name: &str,
    payload: &str,
    field: &str,
    path: &ResolvedPath,
    enums: &mut EnumTables,
) -> KeyFunction {
    let writer = enums.writer(&path.leaf);
    let what = if field == "dedupe" { "The dedupe value".to_owned() } else { format!("Key field `{field}`") };
    let mut body = Vec::new();
    step(&mut body, path, 0, "p", 1);
    KeyFunction {
        name: fn_name.to_owned(),
        payload: payload.to_owned(),
        doc: docstring(&format!("{what}: `{}`, written.", path.path)).concat(),
        value_type: value_type(&path.leaf),
        field: py_str(field),
        path: py_str(&path.path.to_string()),
        fans_out: if path.fans_out() { "True" } else { "False" },
        writer,
        fast: fast_path(path),
        body,
    }
}

fn line(out: &mut Vec<String>, level: usize, text: &str) {
    out.push(format!("{}{text}", "    ".repeat(level)));
}

/// The visit of a leaf reached as expression `expr`.
fn visit(path: &ResolvedPath, expr: &str, out: &mut Vec<String>, level: usize, var: &str) {
    match path.leaf {
        Leaf::Timestamp => {
            line(out, level, &format!("{var} = {expr}"));
            line(out, level, &format!("acc.visit(({var}.seconds, {var}.nanos))"));
        }
        _ => line(out, level, &format!("acc.visit({expr})")),
    }
}

/// Statements visiting the leaves below step `i` of `path` on `var`.
fn step(out: &mut Vec<String>, path: &ResolvedPath, i: usize, var: &str, level: usize) {
    let s = &path.steps[i];
    let last = i + 1 == path.steps.len();
    let access = attr(var, s.field.name());
    let elem = format!("x{i}");
    let on_elem = |out: &mut Vec<String>, level: usize, elem: &str| {
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
    // A repeated field is read once: each attribute read of a protobuf
    // message builds a new container view, the main cost of a key.
    let seq = format!("s{i}");
    match s.index {
        Index::All => {
            line(out, level, &format!("{seq} = {access}"));
            line(out, level, &format!("if not {seq}:"));
            line(out, level + 1, "raise acc.empty_batch()");
            line(out, level, &format!("for {elem} in {seq}:"));
            on_elem(out, level + 1, &elem);
        }
        Index::First => {
            line(out, level, &format!("{seq} = {access}"));
            line(out, level, &format!("if not {seq}:"));
            line(out, level + 1, "raise acc.empty_batch()");
            line(out, level, &format!("{elem} = {seq}[0]"));
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
