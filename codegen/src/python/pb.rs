//! The payload modules: protoc's `_pb2.py` form without protoc, plus typed
//! `.pyi` stubs in the style of mypy-protobuf.
//!
//! Each `_pb2.py` adds its serialized `FileDescriptorProto` (from protox,
//! source info stripped, as protoc does) to the default descriptor pool and
//! lets the protobuf runtime's builder make the classes, which is the form
//! protoc has emitted since protobuf 3.20; it works unchanged on 4.x to
//! 7.x. The runtime-version guard of newer protoc output is left out on
//! purpose: it would pin the package to one protobuf major for no gain, as
//! nothing here depends on gencode/runtime coupling. Well-known types
//! (`google/protobuf/*.proto`) come from the runtime's own modules.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use prost_reflect::prost::Message as _;
use prost_reflect::{Cardinality, EnumDescriptor, FieldDescriptor, FileDescriptor, Kind, MessageDescriptor};

use super::names::{docstring, is_attr, py_bytes_lines, py_str};

/// Where the Python module of a proto file lives.
#[derive(Clone, Debug)]
pub struct PyModule {
    /// Dotted module name, `ampybus.pb.ampy.bars.v1.bars_pb2` or
    /// `google.protobuf.timestamp_pb2`.
    pub module: String,
    /// Whether this package generates it (false for well-known types).
    pub ours: bool,
}

/// Whether the protobuf runtime ships this file's module.
pub fn is_runtime_file(name: &str) -> bool {
    name.starts_with("google/protobuf/")
}

/// The module of a proto file, or why it has none (a path component that
/// is not a Python identifier).
pub fn module_for(package: &str, file: &str) -> Result<PyModule, String> {
    let stem = file.strip_suffix(".proto").unwrap_or(file).replace('-', "_");
    for part in stem.split('/') {
        if !is_attr(part) {
            return Err(format!(
                "proto file `{file}` cannot be a Python module: `{part}` is not a Python identifier (or is a keyword)"
            ));
        }
    }
    let dotted = stem.replace('/', ".");
    if is_runtime_file(file) {
        return Ok(PyModule { module: format!("{dotted}_pb2"), ours: false });
    }
    Ok(PyModule { module: format!("{package}.pb.{dotted}_pb2"), ours: true })
}

/// The `_pb2.py` text of `file`.
pub fn pb2_py(header: &str, package: &str, file: &FileDescriptor, module: &str, deps: &[(String, String)]) -> String {
    let mut proto = file.file_descriptor_proto().clone();
    proto.source_code_info = None;
    let bytes = proto.encode_to_vec();
    let mut out = String::new();
    let _ = writeln!(out, "# {header}");
    let _ = writeln!(out, "# source: {}", file.name().escape_debug());
    let _ = writeln!(out, "\"\"\"Protocol buffer module of `{}`.\"\"\"", file.name().escape_debug());
    out.push('\n');
    out.push_str("from google.protobuf import descriptor_pool as _descriptor_pool\n");
    out.push_str("from google.protobuf import symbol_database as _symbol_database\n");
    out.push_str("from google.protobuf.internal import builder as _builder\n\n");
    let _ = writeln!(out, "from {package}.canonical import register_file as _register_file");
    if !deps.is_empty() {
        out.push('\n');
        // Imported for their side effect: registering the dependency files
        // in the pool before this one.
        for (m, alias) in deps {
            let _ = writeln!(out, "import {m} as {alias}  # noqa: F401");
        }
    }
    out.push('\n');
    out.push_str("_sym_db = _symbol_database.Default()\n\n");
    out.push_str("_SERIALIZED = (\n");
    for line in py_bytes_lines(&bytes, 84) {
        let _ = writeln!(out, "    {line}");
    }
    out.push_str(")\n");
    out.push_str("DESCRIPTOR = _descriptor_pool.Default().AddSerializedFile(_SERIALIZED)\n");
    out.push_str("_register_file(DESCRIPTOR.name, _SERIALIZED)\n\n");
    out.push_str("_globals = globals()\n");
    out.push_str("_builder.BuildMessageAndEnumDescriptors(DESCRIPTOR, _globals)\n");
    let _ = writeln!(
        out,
        "_builder.BuildTopDescriptorsAndMessages(\n    DESCRIPTOR,\n    {},\n    _globals,\n)",
        py_str(module)
    );
    out
}

/// Python type expressions for proto types, relative to one stub module.
pub struct TypeNames<'a> {
    /// Proto file name → (module, alias used in this stub).
    pub imports: &'a BTreeMap<String, (String, String)>,
    /// The file the stub is for.
    pub this_file: &'a str,
}

impl TypeNames<'_> {
    /// `Bar`, `Bar.Side`, or `_alias.Bar` for another file.
    fn qualified(&self, file: &str, package: &str, full_name: &str) -> String {
        let rel = full_name.strip_prefix(package).map(|r| r.trim_start_matches('.')).unwrap_or(full_name);
        if file == self.this_file {
            rel.to_owned()
        } else {
            match self.imports.get(file) {
                Some((_, alias)) => format!("{alias}.{rel}"),
                None => "typing.Any".to_owned(),
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
        match kind {
            Kind::Double | Kind::Float => "builtins.float".into(),
            Kind::Bool => "builtins.bool".into(),
            Kind::String => "builtins.str".into(),
            Kind::Bytes => "builtins.bytes".into(),
            Kind::Message(m) => self.message(m),
            Kind::Enum(e) => self.enum_value(e),
            _ => "builtins.int".into(),
        }
    }
}

/// The proto comments of a file by descriptor path, so stubs carry the
/// schema's documentation into editors.
struct Docs(BTreeMap<Vec<i32>, String>);

impl Docs {
    fn of(file: &FileDescriptor) -> Docs {
        let mut map = BTreeMap::new();
        if let Some(info) = &file.file_descriptor_proto().source_code_info {
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
pub fn pb2_pyi(header: &str, file: &FileDescriptor, names: &TypeNames<'_>) -> String {
    let docs = Docs::of(file);
    let mut body = String::new();
    for e in file.enums() {
        write_enum(&mut body, &e, 0, &docs);
    }
    for m in file.messages() {
        write_message(&mut body, &m, names, 0, &docs);
    }
    let mut out = String::new();
    let _ = writeln!(out, "# {header}");
    let _ = writeln!(out, "\"\"\"Typed stubs of `{}`.\"\"\"", file.name().escape_debug());
    out.push('\n');
    out.push_str("import builtins\n");
    if body.contains("collections.abc.") {
        out.push_str("import collections.abc\n");
    }
    out.push_str("import typing\n\n");
    for m in [
        "google.protobuf.descriptor",
        "google.protobuf.internal.containers",
        "google.protobuf.internal.enum_type_wrapper",
        "google.protobuf.message",
    ] {
        if m == "google.protobuf.descriptor" || body.contains(&format!("{m}.")) {
            let _ = writeln!(out, "import {m}");
        }
    }
    for (module, alias) in names.imports.values() {
        let _ = writeln!(out, "import {module} as {alias}");
    }
    out.push('\n');
    out.push_str("DESCRIPTOR: google.protobuf.descriptor.FileDescriptor\n");
    out.push_str(&body);
    out
}

fn pad(level: usize) -> String {
    "    ".repeat(level)
}

fn write_enum(out: &mut String, e: &EnumDescriptor, level: usize, docs: &Docs) {
    let p = pad(level);
    let name = e.name();
    let values: Vec<_> = e.values().filter(|v| is_attr(v.name())).collect();
    // Inside the wrapper's body the enclosing class scope is not visible:
    // a nested enum's helper class is named through its message.
    let rel = e.full_name().strip_prefix(e.package_name()).unwrap_or(e.full_name()).trim_start_matches('.');
    let scope = rel.rsplit_once('.').map(|(outer, _)| format!("{outer}.")).unwrap_or_default();
    out.push('\n');
    let _ = writeln!(out, "{p}class _{name}:");
    let _ = writeln!(out, "{p}    ValueType = typing.NewType(\"ValueType\", builtins.int)");
    out.push('\n');
    let _ = writeln!(
        out,
        "{p}class _{name}EnumTypeWrapper(\n{p}    google.protobuf.internal.enum_type_wrapper._EnumTypeWrapper[_{name}.ValueType],\n{p}    builtins.type,\n{p}):"
    );
    let _ = writeln!(out, "{p}    DESCRIPTOR: google.protobuf.descriptor.EnumDescriptor");
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
    out.push('\n');
    let _ = writeln!(out, "{p}@typing.final");
    let _ = writeln!(out, "{p}class {}(google.protobuf.message.Message):", m.name());
    let q = pad(level + 1);
    if docs.write(out, &q, m.path()) {
        out.push('\n');
    }
    let _ = writeln!(out, "{q}DESCRIPTOR: google.protobuf.descriptor.Descriptor");
    for e in m.child_enums() {
        write_enum(out, &e, level + 1, docs);
    }
    for n in m.child_messages().filter(|n| !n.is_map_entry()) {
        write_message(out, &n, names, level + 1, docs);
    }
    out.push('\n');
    let fields: Vec<FieldDescriptor> = m.fields().collect();
    for f in &fields {
        let _ = writeln!(out, "{q}{}_FIELD_NUMBER: builtins.int", f.name().to_ascii_uppercase());
    }
    let mut inits = Vec::new();
    for f in fields.iter().filter(|f| is_attr(f.name())) {
        let name = f.name();
        let mut doc = String::new();
        docs.write(&mut doc, &pad(level + 2), f.path());
        if let Some((k, v)) = map_kinds(f) {
            let (kt, vt) = (names.element(&k), names.element(&v));
            let container = if matches!(v, Kind::Message(_)) { "MessageMap" } else { "ScalarMap" };
            property(out, &q, name, &format!("google.protobuf.internal.containers.{container}[{kt}, {vt}]"), &doc);
            inits.push(format!("{name}: collections.abc.Mapping[{kt}, {vt}] | None = ..."));
        } else if f.cardinality() == Cardinality::Repeated {
            let t = names.element(&f.kind());
            let container = if matches!(f.kind(), Kind::Message(_)) {
                "RepeatedCompositeFieldContainer"
            } else {
                "RepeatedScalarFieldContainer"
            };
            property(out, &q, name, &format!("google.protobuf.internal.containers.{container}[{t}]"), &doc);
            inits.push(format!("{name}: collections.abc.Iterable[{t}] | None = ..."));
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
        let mut s = String::from("typing.Literal[\n");
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
            "{q}def HasField(\n{q}    self,\n{q}    field_name: {},\n{q}) -> builtins.bool: ...",
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
            let _ = writeln!(out, "{q}@typing.overload");
        }
        let _ = writeln!(
            out,
            "{q}def WhichOneof(\n{q}    self,\n{q}    oneof_group: typing.Literal[{}, b{}],\n{q}) -> typing.Literal[{}] | None: ...",
            py_str(o.name()),
            py_str(o.name()),
            members.join(", ")
        );
    }
}
