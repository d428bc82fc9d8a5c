//! The user's own Go payload types (`targets.go.types_module`): where each
//! proto package's Go package is, decided the way the user's protoc-gen-go
//! run decided it, so the bus package imports exactly their types.
//!
//! protoc-gen-go takes a file's Go package from an `M` flag, else from its
//! `go_package` option; buf's managed mode derives it from a prefix and the
//! file's directory. The registry says the same in that order:
//! `types_packages` (the `M` flags), the file's `go_package`, then `types`
//! as the prefix. A file that none of them places is an error rather than a
//! guess, and every import path must lie inside `types_module`, so a typo
//! fails here instead of at `go build`.

use std::collections::BTreeMap;

use prost_reflect::FileDescriptor;

use super::{plugin, proto_go_package, External, Settings};
use crate::diag::{Diagnostic, Diagnostics};
use crate::registry::go_package_option_problem;
use crate::Project;

/// Path of `go_package` in a `FileDescriptorProto` (options = 8,
/// `FileOptions.go_package` = 11), for pointing at the option.
const GO_PACKAGE_PATH: [i32; 2] = [8, 11];

/// Proto package → (import path of the user's Go package, the alias name
/// the bus package imports it under, buf-style like ampygen's own).
pub(super) fn packages(
    project: &Project,
    settings: &Settings,
    external: &External,
) -> Result<BTreeMap<String, (String, String)>, Diagnostics> {
    let reg = &project.registry;
    let go = reg.targets.go.as_ref();
    let overrides = go.map(|g| g.types_packages.as_slice()).unwrap_or_default();
    let module_span = go.and_then(|g| g.types_module.as_ref()).map(|m| m.span.clone());
    let mut diags = Diagnostics::new();
    let pool = &project.compiled.pool;
    for o in overrides {
        if pool.get_file_by_name(&o.file.value).is_none() {
            let names: Vec<String> = pool.files().map(|f| f.name().to_owned()).collect();
            let hint = crate::diag::suggest(&o.file.value, names.iter().map(String::as_str))
                .map(|s| format!("did you mean `{s}`?"))
                .unwrap_or_else(|| {
                    "keys are proto files as the registry imports them, e.g. `ampy/bars/v1/bars.proto`".into()
                });
            diags.push(
                Diagnostic::error(
                    "registry::bad_target",
                    format!(
                        "`targets.go.types_packages` names `{}`, which is not a proto file of the registry",
                        o.file.value.escape_debug()
                    ),
                )
                .at(&reg.source, o.file.span.clone())
                .help(hint),
            );
        }
    }
    // Proto package → (import path, the file that decided it).
    let mut found: BTreeMap<String, (String, String)> = BTreeMap::new();
    for f in pool.files() {
        if plugin::is_builtin(f.name()) {
            continue;
        }
        let path = match import_path(project, settings, &f) {
            Ok(Some(path)) => path,
            Ok(None) => {
                let mut d = Diagnostic::error(
                    "generate::go_types",
                    format!(
                        "proto file `{}` has no `go_package` option, and neither `targets.go.types` nor \
                         `targets.go.types_packages` says where its Go package is",
                        f.name().escape_debug()
                    ),
                )
                .help(format!(
                    "set `types: PREFIX` (buf managed mode's `go_package_prefix`: the package is PREFIX/{}), or add \
                     `{}: IMPORT/PATH` under `types_packages` (protoc-gen-go's `M` flag)",
                    dir_of(f.name()).unwrap_or("…"),
                    f.name()
                ));
                if let Some(span) = &module_span {
                    d = d.at(&reg.source, span.clone());
                }
                diags.push(d);
                continue;
            }
            Err(d) => {
                diags.push(d);
                continue;
            }
        };
        if path != external.path && !path.starts_with(&format!("{}/", external.path)) {
            let mut d = Diagnostic::error(
                "generate::go_types",
                format!(
                    "the Go package of `{}` is `{path}`, which is not inside `targets.go.types_module` `{}`",
                    f.name().escape_debug(),
                    external.path
                ),
            )
            .help("the generated go.mod requires only that module; fix the file's Go package or `types_module`");
            if let Some(span) = &module_span {
                d = d.at(&reg.source, span.clone());
            }
            diags.push(d);
            continue;
        }
        match found.get(f.package_name()) {
            Some((other, by)) if *other != path => diags.push(Diagnostic::error(
                "generate::go_types",
                format!(
                    "proto package `{}` is in two Go packages: `{other}` (from `{by}`) and `{path}` (from `{}`)",
                    f.package_name(),
                    f.name()
                ),
            )
            .help("ampygen imports one Go package per proto package; give the files of a proto package one Go package")),
            Some(_) => {}
            None => {
                found.insert(f.package_name().to_owned(), (path, f.name().to_owned()));
            }
        }
    }
    if diags.has_errors() {
        diags.sort();
        return Err(diags);
    }
    Ok(found
        .into_iter()
        .map(|(package, (path, _))| {
            let name = proto_go_package("", &package).1;
            (package, (path, name))
        })
        .collect())
}

/// The import path of `f`'s Go package: its `types_packages` entry, else
/// its `go_package` option, else `types` joined with its directory.
fn import_path(project: &Project, settings: &Settings, f: &FileDescriptor) -> Result<Option<String>, Diagnostic> {
    let go = project.registry.targets.go.as_ref();
    if let Some(o) = go.and_then(|g| g.types_packages.iter().find(|o| o.file.value == f.name())) {
        return Ok(Some(strip_name(&o.path.value).to_owned()));
    }
    let option = f.file_descriptor_proto().options.as_ref().and_then(|o| o.go_package.clone());
    if let Some(value) = option.filter(|v| !v.is_empty()) {
        if let Some(problem) = go_package_option_problem(&value) {
            let mut d = Diagnostic::error(
                "generate::go_types",
                format!(
                    "`option go_package = \"{}\"` in `{}`: {problem}",
                    value.escape_debug(),
                    f.name().escape_debug()
                ),
            )
            .help(format!(
                "fix the option, or give the file's Go package under `targets.go.types_packages` (`{}: IMPORT/PATH`)",
                f.name()
            ));
            if let Some((source, span)) = project.compiled.span_of(f, &GO_PACKAGE_PATH) {
                d = d.at(source, span);
            }
            return Err(d);
        }
        return Ok(Some(strip_name(&value).to_owned()));
    }
    if settings.types.is_empty() {
        return Ok(None);
    }
    let path = match dir_of(f.name()) {
        Some(dir) => format!("{}/{dir}", settings.types),
        None => settings.types.clone(),
    };
    if let Some(problem) = crate::registry::go_import_path_problem(&path) {
        let mut d = Diagnostic::error(
            "generate::go_types",
            format!(
                "`{}` under `targets.go.types` makes `{}`, not a Go import path: {problem}",
                f.name().escape_debug(),
                path.escape_debug()
            ),
        )
        .help(format!("give the file's Go package under `targets.go.types_packages` (`{}: IMPORT/PATH`)", f.name()));
        if let Some(t) = go.and_then(|g| g.types.as_ref()) {
            d = d.at(&project.registry.source, t.span.clone());
        }
        return Err(d);
    }
    Ok(Some(path))
}

/// `example.com/x/bars;barsv1` → `example.com/x/bars`.
fn strip_name(value: &str) -> &str {
    value.split_once(';').map_or(value, |(path, _)| path)
}

/// The directory of a proto import name, `None` at the root.
fn dir_of(file: &str) -> Option<&str> {
    file.rsplit_once('/').map(|(dir, _)| dir)
}

#[cfg(test)]
mod tests {
    use super::{dir_of, strip_name};

    #[test]
    fn names_and_directories() {
        assert_eq!(strip_name("example.com/x/bars;barsv1"), "example.com/x/bars");
        assert_eq!(strip_name("example.com/x/bars"), "example.com/x/bars");
        assert_eq!(dir_of("ampy/bars/v1/bars.proto"), Some("ampy/bars/v1"));
        assert_eq!(dir_of("root.proto"), None);
    }
}
