//! The payload modules: protoc's `_pb2.py` form without protoc (their
//! typed `.pyi` stubs are in `stub.rs`).
//!
//! Each `_pb2.py` adds its serialized `FileDescriptorProto` (from protox,
//! source info stripped, as protoc does) to the default descriptor pool and
//! lets the protobuf runtime's builder make the classes, which is the form
//! protoc has emitted since protobuf 3.20; it works unchanged on 4.x to
//! 7.x. The runtime-version guard of newer protoc output is left out on
//! purpose: it would pin the package to one protobuf major for no gain, as
//! nothing here depends on gencode/runtime coupling. Well-known types
//! (`google/protobuf/*.proto`) come from the runtime's own modules.

use std::fmt::Write as _;

use prost_reflect::prost::Message as _;
use prost_reflect::FileDescriptor;

use super::names::{is_attr, py_bytes_lines, py_str};

/// Where the Python module of a proto file lives.
#[derive(Clone, Debug)]
pub struct PyModule {
    /// Dotted module name, `ampybus.pb.ampy.bars.v1.bars_pb2` or
    /// `google.protobuf.timestamp_pb2`.
    pub module: String,
    /// Whether this package generates it (false for well-known types and
    /// the user's own payload modules).
    pub ours: bool,
}

/// Whether the protobuf runtime ships this file's module.
pub fn is_runtime_file(name: &str) -> bool {
    name.starts_with("google/protobuf/")
}

/// The module of a proto file, or why it has none (a path component that
/// is not a Python identifier). With `external` (`targets.python.types`)
/// the module is the user's, `{external}.{path}_pb2` as `protoc
/// --python_out` names it (at the top level when `external` is empty).
pub fn module_for(package: &str, external: Option<&str>, file: &str) -> Result<PyModule, String> {
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
    match external {
        Some("") => Ok(PyModule { module: format!("{dotted}_pb2"), ours: false }),
        Some(prefix) => Ok(PyModule { module: format!("{prefix}.{dotted}_pb2"), ours: false }),
        None => Ok(PyModule { module: format!("{package}.pb.{dotted}_pb2"), ours: true }),
    }
}

/// The docstring of `{package}/pb/__init__.py`, the one regular package
/// of the payload tree: it says how the namespace packages below it are
/// imported and type-checked, which is all that differs from protoc's tree.
/// `module` and `file` are one payload module and its proto file, as the
/// example.
pub fn root_doc(package: &str, module: &str, file: &str) -> String {
    format!(
        "\"\"\"Payload modules: a `_pb2` module and its stub for each proto file, at the\n\
         file's path under `{package}.pb` (`{module}` for\n\
         `{file}`).\n\
         \n\
         The directories below this package are namespace packages (PEP 420), as in\n\
         protoc's output: import the modules by name. mypy and pyright resolve them from\n\
         the package directory; mypy given one stub by path needs `explicit_package_bases`.\n\
         \"\"\"\n",
        file = file.escape_debug()
    )
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
