//! Typed `.pyi` stubs of the payload modules, in the style of
//! mypy-protobuf.
//!
//! A stub declares every message, enum, field and enum value of its file
//! in the same scopes as the names it imports (`builtins`, `typing`,
//! `google`, …), and a proto may legally call a field `typing`. So the
//! imports are named by a [`Prelude`] that steps around every name the
//! file declares, and names Python cannot declare at all (a message
//! called `None`) are refused by [`keyword_names`] with their proto span.

use std::cell::{Cell, RefCell};
use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;

use prost_reflect::prost_types::SourceCodeInfo;
use prost_reflect::{Cardinality, EnumDescriptor, FieldDescriptor, FileDescriptor, Kind, MessageDescriptor};

use super::names::{docstring, is_attr, py_str};

/// The modules every stub may import, each with the private alias it
/// takes when the file declares the module's root name itself.
const MODULES: [(&str, &str); 7] = [
    ("builtins", "_builtins"),
    ("collections.abc", "_collections_abc"),
    ("typing", "_typing"),
    ("google.protobuf.descriptor", "_pb_descriptor"),
    ("google.protobuf.internal.containers", "_pb_containers"),
    ("google.protobuf.internal.enum_type_wrapper", "_pb_enum_type_wrapper"),
    ("google.protobuf.message", "_pb_message"),
];

#[derive(Clone, Copy)]
enum Module {
    Builtins,
    Abc,
    Typing,
    Descriptor,
    Containers,
    EnumTypeWrapper,
    Message,
}

/// How one stub spells the modules it imports, and which it used.
pub struct Prelude {
    spelled: [String; 7],
    used: Cell<u8>,
}

impl Prelude {
    /// The usual names (`typing.Literal`), except where `declared` (see
    /// [`declared`]) holds a module's root: that module is imported under
    /// its alias, with `_` prepended until no declared name is hit.
    pub fn new(declared: &BTreeSet<String>) -> Prelude {
        let spelled = MODULES.map(|(module, alias)| {
            let root = module.split('.').next().unwrap_or(module);
            if !declared.contains(root) {
                return module.to_owned();
            }
            let mut alias = alias.to_owned();
            while declared.contains(&alias) {
                alias.insert(0, '_');
            }
            alias
        });
        // builtins, typing and descriptor are imported by every stub.
        let always = 1 << Module::Builtins as u8 | 1 << Module::Typing as u8 | 1 << Module::Descriptor as u8;
        Prelude { spelled, used: Cell::new(always) }
    }

    fn get(&self, m: Module) -> &str {
        self.used.set(self.used.get() | 1 << m as u8);
        &self.spelled[m as usize]
    }

    /// The names the imports bind in the stub's module scope, which the
    /// aliases of dependency modules must avoid.
    pub fn bound(&self) -> impl Iterator<Item = &str> {
        self.spelled.iter().map(|s| s.split('.').next().unwrap_or(s))
    }

    /// The import lines: the standard library, a blank line, protobuf.
    fn write_imports(&self, out: &mut String) {
        for (i, (module, _)) in MODULES.iter().enumerate() {
            if self.used.get() & 1 << i == 0 {
                continue;
            }
            if i == Module::Descriptor as usize {
                out.push('\n');
            }
            match self.spelled[i].as_str() {
                s if s == *module => {
                    let _ = writeln!(out, "import {module}");
                }
                alias => {
                    let _ = writeln!(out, "import {module} as {alias}");
                }
            }
        }
    }
}

/// The names a stub declares.
pub struct Declared {
    /// Every one, anywhere: messages, enums and their helper classes,
    /// fields, oneofs and enum values. Module aliases avoid them all, since
    /// a field called `typing` hides the module inside its class.
    pub all: BTreeSet<String>,
    /// Those declared inside a message class. A type of the file whose
    /// name is among them may be hidden where it is used, so it is
    /// written through a module-level alias (`global___Side`), as
    /// mypy-protobuf does.
    inner: BTreeSet<String>,
    /// The prefix of those aliases: `global___`, with more `_` while the
    /// file declares a name that starts with it.
    alias_prefix: String,
}

/// What `file`'s stub declares.
pub fn declared(file: &FileDescriptor) -> Declared {
    fn enum_names(e: &EnumDescriptor, out: &mut BTreeSet<String>) {
        let name = e.name();
        out.extend([name.to_owned(), format!("_{name}"), format!("_{name}EnumTypeWrapper")]);
        out.extend(e.values().map(|v| v.name().to_owned()));
    }
    fn members(m: &MessageDescriptor, out: &mut BTreeSet<String>) {
        out.extend(m.fields().map(|f| f.name().to_owned()));
        out.extend(m.oneofs().map(|o| o.name().to_owned()));
        m.child_enums().for_each(|e| enum_names(&e, out));
        for n in m.child_messages() {
            out.insert(n.name().to_owned());
            members(&n, out);
        }
    }
    let mut inner = BTreeSet::new();
    file.messages().for_each(|m| members(&m, &mut inner));
    let mut all = inner.clone();
    all.insert("DESCRIPTOR".to_owned());
    file.enums().for_each(|e| enum_names(&e, &mut all));
    all.extend(file.messages().map(|m| m.name().to_owned()));
    let mut alias_prefix = "global___".to_owned();
    while all.iter().any(|d| d.starts_with(&alias_prefix)) {
        alias_prefix.push('_');
    }
    Declared { all, inner, alias_prefix }
}

/// Messages and enums named after a Python keyword (`None`, `class`): no
/// stub can declare them, and no import can reach them but `getattr`.
/// Each comes with its descriptor path, for the caller's proto span.
pub fn keyword_names(file: &FileDescriptor) -> Vec<(Vec<i32>, String)> {
    type Found = Vec<(Vec<i32>, String)>;
    fn enums(list: impl Iterator<Item = EnumDescriptor>, out: &mut Found) {
        for e in list.filter(|e| !is_attr(e.name())) {
            out.push((e.path().to_vec(), format!("enum `{}`", e.full_name())));
        }
    }
    fn walk(m: &MessageDescriptor, out: &mut Found) {
        if !is_attr(m.name()) {
            out.push((m.path().to_vec(), format!("message `{}`", m.full_name())));
        }
        enums(m.child_enums(), out);
        m.child_messages().for_each(|n| walk(&n, out));
    }
    let mut out = Vec::new();
    enums(file.enums(), &mut out);
    file.messages().for_each(|m| walk(&m, &mut out));
    out
}

/// Python type expressions for proto types, relative to one stub module.
pub struct TypeNames<'a> {
    /// Proto file name → (module, alias used in this stub).
    pub imports: &'a BTreeMap<String, (String, String)>,
    /// The file the stub is for.
    pub this_file: &'a str,
    /// The stub's spelling of the modules it imports.
    pub prelude: &'a Prelude,
    /// What the stub declares.
    pub declared: &'a Declared,
    /// Top-level names written through their `global___` alias so far.
    pub aliased: RefCell<BTreeSet<String>>,
}

impl TypeNames<'_> {
    /// `Bar`, `Bar.Side`, or `_alias.Bar` for another file.
    fn qualified(&self, file: &str, package: &str, full_name: &str) -> String {
        let rel = full_name.strip_prefix(package).map(|r| r.trim_start_matches('.')).unwrap_or(full_name);
        if file == self.this_file {
            let root = rel.split('.').next().unwrap_or(rel);
            if self.declared.inner.contains(root) {
                self.aliased.borrow_mut().insert(root.to_owned());
                format!("{}{rel}", self.declared.alias_prefix)
            } else {
                rel.to_owned()
            }
        } else {
            match self.imports.get(file) {
                Some((_, alias)) => format!("{alias}.{rel}"),
                None => format!("{}.Any", self.prelude.get(Module::Typing)),
            }
        }
    }

    fn message(&self, m: &MessageDescriptor) -> String {
        self.qualified(m.parent_file().name(), m.package_name(), m.full_name())
    }

    fn enum_value(&self, e: &EnumDescriptor) -> String {
        format!("{}.ValueType", self.qualified(e.parent_file().name(), e.package_name(), e.full_name()))
    }

    /// The element type of a field (scalar, message or enum).
    fn element(&self, kind: &Kind) -> String {
        let scalar = match kind {
            Kind::Message(m) => return self.message(m),
            Kind::Enum(e) => return self.enum_value(e),
            Kind::Double | Kind::Float => "float",
            Kind::Bool => "bool",
            Kind::String => "str",
            Kind::Bytes => "bytes",
            _ => "int",
        };
        format!("{}.{scalar}", self.prelude.get(Module::Builtins))
    }
}

/// The proto comments of a file by descriptor path, so stubs carry the
/// schema's documentation into editors.
struct Docs(BTreeMap<Vec<i32>, String>);

impl Docs {
    fn of(info: Option<&SourceCodeInfo>) -> Docs {
        let mut map = BTreeMap::new();
        if let Some(info) = info {
            for loc in &info.location {
                let text = loc.leading_comments.as_deref().or(loc.trailing_comments.as_deref()).unwrap_or_default();
                if !text.trim().is_empty() {
                    map.insert(loc.path.clone(), text.to_owned());
                }
            }
        }
        Docs(map)
    }

    /// Writes the docstring of the element at `path`, if it has comments.
    fn write(&self, out: &mut String, indent: &str, path: &[i32]) -> bool {
        let Some(text) = self.0.get(path) else { return false };
        let mut lines = docstring(text);
        let Some(last) = lines.last_mut() else { return false };
        // A closing quote right before `"""` would need the space the
        // formatter inserts.
        if last.ends_with('"') {
            last.push(' ');
        }
        if lines.len() == 1 {
            let _ = writeln!(out, "{indent}\"\"\"{}\"\"\"", lines[0]);
        } else {
            let _ = writeln!(out, "{indent}\"\"\"{}", lines[0]);
            for l in &lines[1..] {
                if l.is_empty() {
                    out.push('\n');
                } else {
                    let _ = writeln!(out, "{indent}{l}");
                }
            }
            let _ = writeln!(out, "{indent}\"\"\"");
        }
        true
    }
}

/// The `.pyi` stub of `file`.
pub fn pb2_pyi(header: &str, file: &FileDescriptor, info: Option<&SourceCodeInfo>, names: &TypeNames<'_>) -> String {
    let docs = Docs::of(info);
    let mut body = String::new();
    for e in file.enums() {
        write_enum(&mut body, &e, names.prelude, 0, &docs);
    }
    for m in file.messages() {
        write_message(&mut body, &m, names, 0, &docs);
    }
    let mut out = String::new();
    let _ = writeln!(out, "# {header}");
    let _ = writeln!(out, "\"\"\"Typed stubs of `{}`.\"\"\"", file.name().escape_debug());
    out.push('\n');
    names.prelude.write_imports(&mut out);
    for (module, alias) in names.imports.values() {
        let _ = writeln!(out, "import {module} as {alias}");
    }
    out.push('\n');
    let _ = writeln!(out, "DESCRIPTOR: {}.FileDescriptor", names.prelude.get(Module::Descriptor));
    out.push_str(&body);
    let aliased = names.aliased.borrow();
    if !aliased.is_empty() {
        out.push('\n');
        let prefix = &names.declared.alias_prefix;
        for root in aliased.iter() {
            let _ = writeln!(out, "{prefix}{root} = {root}");
        }
    }
    out
}

fn pad(level: usize) -> String {
    "    ".repeat(level)
}

fn write_enum(out: &mut String, e: &EnumDescriptor, pre: &Prelude, level: usize, docs: &Docs) {
    let p = pad(level);
    let (builtins, typing) = (pre.get(Module::Builtins), pre.get(Module::Typing));
    let (descriptor, wrapper) = (pre.get(Module::Descriptor), pre.get(Module::EnumTypeWrapper));
    let name = e.name();
    let values: Vec<_> = e.values().filter(|v| is_attr(v.name())).collect();
    // Inside the wrapper's body the enclosing class scope is not visible:
    // a nested enum's helper class is named through its message.
    let rel = e.full_name().strip_prefix(e.package_name()).unwrap_or(e.full_name()).trim_start_matches('.');
    let scope = rel.rsplit_once('.').map(|(outer, _)| format!("{outer}.")).unwrap_or_default();
    out.push('\n');
    let _ = writeln!(out, "{p}class _{name}:");
    let _ = writeln!(out, "{p}    ValueType = {typing}.NewType(\"ValueType\", {builtins}.int)");
    out.push('\n');
    let _ = writeln!(
        out,
        "{p}class _{name}EnumTypeWrapper(\n{p}    {wrapper}._EnumTypeWrapper[_{name}.ValueType],\n{p}    {builtins}.type,\n{p}):"
    );
    let _ = writeln!(out, "{p}    DESCRIPTOR: {descriptor}.EnumDescriptor");
    for v in &values {
        let _ = writeln!(out, "{p}    {}: {scope}_{name}.ValueType  # {}", v.name(), v.number());
        docs.write(out, &format!("{p}    "), v.path());
    }
    out.push('\n');
    let mut class = String::new();
    if docs.write(&mut class, &format!("{p}    "), e.path()) {
        let _ = writeln!(out, "{p}class {name}(_{name}, metaclass=_{name}EnumTypeWrapper):");
        out.push_str(&class);
    } else {
        let _ = writeln!(out, "{p}class {name}(_{name}, metaclass=_{name}EnumTypeWrapper): ...");
    }
    out.push('\n');
    for v in &values {
        let _ = writeln!(out, "{p}{}: {name}.ValueType  # {}", v.name(), v.number());
        docs.write(out, &p, v.path());
    }
}

/// A read-only property stub, on one line when it fits the formatter's
/// line length (100), else split the way `ruff format` splits it.
/// With a docstring the body is the docstring instead of `...`.
fn property(out: &mut String, q: &str, name: &str, ty: &str, doc: &str) {
    let _ = writeln!(out, "{q}@property");
    let (tail, end) = if doc.is_empty() { (" ...", "") } else { ("", doc) };
    let one = format!("{q}def {name}(self) -> {ty}:{tail}");
    let split = format!("{q}) -> {ty}:{tail}");
    if one.chars().count() <= 100 {
        let _ = writeln!(out, "{one}");
    } else if split.chars().count() <= 100 {
        let _ = writeln!(out, "{q}def {name}(\n{q}    self,\n{split}");
    } else if let Some((outer, inner)) = ty.split_once('[') {
        let inner = inner.strip_suffix(']').unwrap_or(inner);
        let _ = writeln!(out, "{q}def {name}(\n{q}    self,\n{q}) -> {outer}[\n{q}    {inner}\n{q}]:{tail}");
    } else {
        let _ = writeln!(out, "{q}def {name}(\n{q}    self,\n{split}");
    }
    out.push_str(end);
}

/// Whether a field is a map, and its entry's key and value kinds.
fn map_kinds(f: &FieldDescriptor) -> Option<(Kind, Kind)> {
    if !f.is_map() {
        return None;
    }
    match f.kind() {
        Kind::Message(entry) => Some((entry.map_entry_key_field().kind(), entry.map_entry_value_field().kind())),
        _ => None,
    }
}

fn write_message(out: &mut String, m: &MessageDescriptor, names: &TypeNames<'_>, level: usize, docs: &Docs) {
    let p = pad(level);
    let pre = names.prelude;
    let (builtins, typing) = (pre.get(Module::Builtins), pre.get(Module::Typing));
    out.push('\n');
    let _ = writeln!(out, "{p}@{typing}.final");
    let _ = writeln!(out, "{p}class {}({}.Message):", m.name(), pre.get(Module::Message));
    let q = pad(level + 1);
    if docs.write(out, &q, m.path()) {
        out.push('\n');
    }
    let _ = writeln!(out, "{q}DESCRIPTOR: {}.Descriptor", pre.get(Module::Descriptor));
    for e in m.child_enums() {
        write_enum(out, &e, pre, level + 1, docs);
    }
    for n in m.child_messages().filter(|n| !n.is_map_entry()) {
        write_message(out, &n, names, level + 1, docs);
    }
    out.push('\n');
    let fields: Vec<FieldDescriptor> = m.fields().collect();
    for f in &fields {
        let _ = writeln!(out, "{q}{}_FIELD_NUMBER: {builtins}.int", f.name().to_ascii_uppercase());
    }
    let mut inits = Vec::new();
    for f in fields.iter().filter(|f| is_attr(f.name())) {
        let name = f.name();
        let mut doc = String::new();
        docs.write(&mut doc, &pad(level + 2), f.path());
        if let Some((k, v)) = map_kinds(f) {
            let (kt, vt) = (names.element(&k), names.element(&v));
            let container = if matches!(v, Kind::Message(_)) { "MessageMap" } else { "ScalarMap" };
            let (containers, abc) = (pre.get(Module::Containers), pre.get(Module::Abc));
            property(out, &q, name, &format!("{containers}.{container}[{kt}, {vt}]"), &doc);
            inits.push(format!("{name}: {abc}.Mapping[{kt}, {vt}] | None = ..."));
        } else if f.cardinality() == Cardinality::Repeated {
            let t = names.element(&f.kind());
            let container = if matches!(f.kind(), Kind::Message(_)) {
                "RepeatedCompositeFieldContainer"
            } else {
                "RepeatedScalarFieldContainer"
            };
            let (containers, abc) = (pre.get(Module::Containers), pre.get(Module::Abc));
            property(out, &q, name, &format!("{containers}.{container}[{t}]"), &doc);
            inits.push(format!("{name}: {abc}.Iterable[{t}] | None = ..."));
        } else if let Kind::Message(_) = f.kind() {
            let t = names.element(&f.kind());
            property(out, &q, name, &t, &doc);
            inits.push(format!("{name}: {t} | None = ..."));
        } else {
            let t = names.element(&f.kind());
            let _ = writeln!(out, "{q}{name}: {t}");
            docs.write(out, &q, f.path());
            inits.push(format!("{name}: {t} | None = ..."));
        }
    }
    if inits.is_empty() {
        let _ = writeln!(out, "{q}def __init__(self) -> None: ...");
    } else {
        let _ = writeln!(out, "{q}def __init__(\n{q}    self,\n{q}    *,");
        for i in &inits {
            let line = format!("{q}    {i},");
            match i.rsplit_once(" | None = ...") {
                // Split where `ruff format` splits an over-long parameter.
                Some((head, _)) if line.chars().count() > 100 => {
                    let _ = writeln!(out, "{q}    {head}\n{q}    | None = ...,");
                }
                _ => {
                    let _ = writeln!(out, "{line}");
                }
            }
        }
        let _ = writeln!(out, "{q}) -> None: ...");
    }
    // HasField accepts fields with presence and oneof names.
    let mut has: Vec<String> = fields
        .iter()
        .filter(|f| f.supports_presence() && f.cardinality() != Cardinality::Repeated)
        .map(|f| f.name().to_owned())
        .collect();
    let oneofs: Vec<_> = m.oneofs().collect();
    has.extend(oneofs.iter().map(|o| o.name().to_owned()));
    has.sort();
    has.dedup();
    let mut clear: Vec<String> = fields.iter().map(|f| f.name().to_owned()).collect();
    clear.extend(oneofs.iter().map(|o| o.name().to_owned()));
    clear.sort();
    clear.dedup();
    let literal = |names: &[String]| -> String {
        let mut s = format!("{typing}.Literal[\n");
        for n in names {
            let _ = writeln!(s, "{q}        {},", py_str(n));
            let _ = writeln!(s, "{q}        b{},", py_str(n));
        }
        let _ = write!(s, "{q}    ]");
        s
    };
    if !has.is_empty() {
        let _ = writeln!(
            out,
            "{q}def HasField(\n{q}    self,\n{q}    field_name: {},\n{q}) -> {builtins}.bool: ...",
            literal(&has)
        );
    }
    if !clear.is_empty() {
        let _ = writeln!(
            out,
            "{q}def ClearField(\n{q}    self,\n{q}    field_name: {},\n{q}) -> None: ...",
            literal(&clear)
        );
    }
    let overload = oneofs.len() > 1;
    for o in &oneofs {
        let members: Vec<String> = o.fields().map(|f| py_str(f.name())).collect();
        if overload {
            let _ = writeln!(out, "{q}@{typing}.overload");
        }
        let _ = writeln!(
            out,
            "{q}def WhichOneof(\n{q}    self,\n{q}    oneof_group: {typing}.Literal[{}, b{}],\n{q}) -> {typing}.Literal[{}] | None: ...",
            py_str(o.name()),
            py_str(o.name()),
            members.join(", ")
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prelude_keeps_usual_names_unless_the_file_declares_them() {
        let set = |names: &[&str]| names.iter().map(|s| (*s).to_owned()).collect::<BTreeSet<_>>();
        let plain = Prelude::new(&set(&["Bar", "symbol"]));
        assert_eq!(plain.spelled, MODULES.map(|(m, _)| m.to_owned()));
        let hidden = Prelude::new(&set(&["typing", "_typing", "__typing", "google", "collections"]));
        assert_eq!(hidden.get(Module::Typing), "___typing");
        assert_eq!(hidden.get(Module::Builtins), "builtins");
        assert_eq!(hidden.get(Module::Abc), "_collections_abc");
        assert_eq!(hidden.get(Module::Message), "_pb_message");
        assert_eq!(hidden.bound().collect::<Vec<_>>()[..3], ["builtins", "_collections_abc", "___typing"]);
        let mut imports = String::new();
        hidden.write_imports(&mut imports);
        assert_eq!(
            imports,
            "import builtins\nimport collections.abc as _collections_abc\nimport typing as ___typing\n\n\
             import google.protobuf.descriptor as _pb_descriptor\nimport google.protobuf.message as _pb_message\n"
        );
    }
}
