//! Decoding `targets:`, the per-language settings of generated code (Go
//! import paths, package names). Values that no sanitiser could turn into a
//! legal name are rejected here, at their spot in the registry, so a
//! backend never has to emit broken output.

use super::*;

const TARGET_KEYS: &[&str] = &["go", "python"];
const GO_KEYS: &[&str] =
    &["module", "package", "types", "transports", "types_module", "types_replace", "types_packages"];
const PYTHON_KEYS: &[&str] = &["package", "distribution", "version", "types", "transports"];

impl Decoder<'_> {
    pub(super) fn targets(&mut self, node: &Node) -> Targets {
        let Some(obj) = self.object(node, "`targets`", TARGET_KEYS, &[]) else { return Targets::default() };
        let go = obj.get("go").and_then(|n| self.go_target(n));
        let python = obj.get("python").and_then(|n| self.python_target(n));
        Targets { go, python }
    }

    fn go_target(&mut self, node: &Node) -> Option<GoTarget> {
        let obj = self.object(node, "`targets.go`", GO_KEYS, &[])?;
        let module = obj.get("module").and_then(|n| self.string(n, "`targets.go.module`"));
        let package = obj.get("package").and_then(|n| self.string(n, "`targets.go.package`"));
        let types = obj.get("types").and_then(|n| self.string(n, "`targets.go.types`"));
        for (value, what) in [(&module, "targets.go.module"), (&types, "targets.go.types")] {
            if let Some(v) = value {
                if let Some(problem) = go_import_path_problem(&v.value) {
                    self.error(
                        "registry::bad_target",
                        v.span.clone(),
                        format!("`{what}` `{}` is not a Go import path: {problem}", v.value.escape_debug()),
                        "write a path such as `example.com/ampy/bus`: `/`-separated elements of ASCII letters, digits and `-._~`",
                    );
                }
            }
        }
        if let Some(p) = &package {
            if let Some(problem) = go_package_problem(&p.value) {
                self.error(
                    "registry::bad_target",
                    p.span.clone(),
                    format!(
                        "`targets.go.package` `{}` is not a usable Go package name: {problem}",
                        p.value.escape_debug()
                    ),
                    "write a short lowercase name such as `ampybus`",
                );
            }
        }
        let transports = obj.get("transports").map(|n| self.transports(n, "targets.go.transports")).unwrap_or_default();
        let types_module = obj.get("types_module").and_then(|n| self.go_types_module(n));
        let types_replace = obj.get("types_replace").and_then(|n| self.string(n, "`targets.go.types_replace`"));
        if let Some(r) = &types_replace {
            if let Some(problem) = go_replace_problem(&r.value) {
                self.error(
                    "registry::bad_target",
                    r.span.clone(),
                    format!("`targets.go.types_replace` `{}` is not a usable replacement directory: {problem}", r.value.escape_debug()),
                    "write a directory relative to the generated go.mod, starting with `./` or `../`, such as `../acmeprotos`",
                );
            }
        }
        let types_packages = obj.get("types_packages").map(|n| self.go_types_packages(n)).unwrap_or_default();
        // The user's-types settings mean nothing without the module that
        // holds the types (a bad `types_module` is reported on its own).
        if obj.get("types_module").is_none() {
            let key_span = |key: &str| obj.entries.iter().find(|(k, _)| k.value == key).map(|(k, _)| k.span.clone());
            for key in ["types_replace", "types_packages"] {
                if let Some(span) = key_span(key) {
                    self.error(
                        "registry::bad_target",
                        span,
                        format!("`targets.go.{key}` is set but `targets.go.types_module` is not"),
                        "add `types_module: PATH VERSION`, the Go module that holds your payload types (docs/go.md, \
                         \"Adopting ampygen on an existing proto repository\"), or remove the key",
                    );
                }
            }
        }
        if let (Some(m), Some(tm)) = (&module, &types_module) {
            if m.value == tm.path {
                self.error(
                    "registry::bad_target",
                    tm.span.clone(),
                    format!("`targets.go.types_module` `{}` is the generated module itself", tm.path),
                    "name the module that holds your protoc-gen-go output, or drop `types_module` to have ampygen generate the payload types",
                );
            }
        }
        Some(GoTarget {
            module,
            package,
            types,
            transports,
            types_module,
            types_replace,
            types_packages,
            span: obj.span,
        })
    }

    /// `types_module: PATH VERSION`, a go.mod `require` line.
    fn go_types_module(&mut self, node: &Node) -> Option<GoTypesModule> {
        let value = self.string(node, "`targets.go.types_module`")?;
        let parts: Vec<&str> = value.value.split([' ', '\t']).filter(|p| !p.is_empty()).collect();
        let problem = match parts.as_slice() {
            [path, version] => go_import_path_problem(path)
                .map(|p| format!("`{}` is not a Go module path: {p}", path.escape_debug()))
                .or_else(|| {
                    go_version_problem(version)
                        .map(|p| format!("`{}` is not a Go module version: {p}", version.escape_debug()))
                }),
            _ => Some("it is not a module path and a version separated by a space".to_owned()),
        };
        if let Some(problem) = problem {
            self.error(
                "registry::bad_target",
                value.span.clone(),
                format!("`targets.go.types_module` `{}` is not a module requirement: {problem}", value.value.escape_debug()),
                "write the module path and its version as in a go.mod `require`, such as `example.com/acme/protos v1.2.3` \
                 (`v0.0.0` with `types_replace` for a local checkout)",
            );
            return None;
        }
        Some(GoTypesModule { path: parts[0].to_owned(), version: parts[1].to_owned(), span: value.span })
    }

    /// `types_packages: {FILE: IMPORT_PATH[;NAME]}`, protoc-gen-go's `M` flags.
    fn go_types_packages(&mut self, node: &Node) -> Vec<GoPackageMapping> {
        let Some(obj) = self.mapping(node, "`targets.go.types_packages`", "registry::duplicate_key") else {
            return Vec::new();
        };
        let mut out = Vec::new();
        for (file, value) in obj.entries {
            let Some(path) = self.string(value, &format!("`targets.go.types_packages.{}`", file.value)) else {
                continue;
            };
            if let Some(problem) = go_package_option_problem(&path.value) {
                self.error(
                    "registry::bad_target",
                    path.span.clone(),
                    format!(
                        "`targets.go.types_packages` entry `{}` is not a Go package: {problem}",
                        path.value.escape_debug()
                    ),
                    "write the Go package as for protoc-gen-go's `M` flag or `go_package`: an import path, optionally \
                     `;name`, such as `example.com/acme/protos/bars;barsv1`",
                );
                continue;
            }
            out.push(GoPackageMapping { file, path });
        }
        out
    }

    fn python_target(&mut self, node: &Node) -> Option<PythonTarget> {
        let obj = self.object(node, "`targets.python`", PYTHON_KEYS, &[])?;
        let package = obj.get("package").and_then(|n| self.string(n, "`targets.python.package`"));
        if let Some(p) = &package {
            if let Some(problem) = python_package_problem(&p.value) {
                self.error(
                    "registry::bad_target",
                    p.span.clone(),
                    format!(
                        "`targets.python.package` `{}` is not a usable Python package: {problem}",
                        p.value.escape_debug()
                    ),
                    "write a dotted import name such as `ampy_bus` or `acme.ampy_bus`",
                );
            }
        }
        let types = obj.get("types").and_then(|n| self.string(n, "`targets.python.types`"));
        if let Some(t) = types.as_ref().filter(|t| !t.value.is_empty()) {
            if let Some(problem) = python_package_problem(&t.value) {
                self.error(
                    "registry::bad_target",
                    t.span.clone(),
                    format!(
                        "`targets.python.types` `{}` is not a usable Python package: {problem}",
                        t.value.escape_debug()
                    ),
                    "write the dotted package that holds your `_pb2` modules, such as `acme_protos`, or `\"\"` when \
                     they are top-level modules as `protoc --python_out` writes them",
                );
            }
        }
        let distribution = obj.get("distribution").and_then(|n| self.string(n, "`targets.python.distribution`"));
        if let Some(d) = &distribution {
            if let Some(problem) = python_distribution_problem(&d.value) {
                self.error(
                    "registry::bad_target",
                    d.span.clone(),
                    format!(
                        "`targets.python.distribution` `{}` is not a Python distribution name: {problem}",
                        d.value.escape_debug()
                    ),
                    "write a name such as `ampy-bus`: ASCII letters, digits, `-`, `_` and `.`, starting and ending with a letter or digit",
                );
            }
        }
        let version = obj.get("version").and_then(|n| self.string(n, "`targets.python.version`"));
        if let Some(v) = &version {
            if let Some(problem) = python_version_problem(&v.value) {
                self.error(
                    "registry::bad_target",
                    v.span.clone(),
                    format!("`targets.python.version` `{}` is not a Python version: {problem}", v.value.escape_debug()),
                    "write a PEP 440 version such as `1.4.0`, `2.0.0rc1` or `1.0.post1`",
                );
            }
        }
        let transports =
            obj.get("transports").map(|n| self.transports(n, "targets.python.transports")).unwrap_or_default();
        Some(PythonTarget { package, types, distribution, version, transports, span: obj.span })
    }
}

/// Why `path` is not a Go import path (cmd/go's `CheckImportPath`, minus
/// the Windows-reserved names, which we reject too by being stricter).
pub fn go_import_path_problem(path: &str) -> Option<String> {
    if path.is_empty() {
        return Some("it is empty".into());
    }
    for elem in path.split('/') {
        if elem.is_empty() {
            return Some("it has an empty element (a leading, trailing or doubled `/`)".into());
        }
        if elem.starts_with('.') || elem.ends_with('.') {
            return Some(format!("element `{elem}` starts or ends with `.`"));
        }
        if let Some(c) = elem.chars().find(|c| !(c.is_ascii_alphanumeric() || "-._~".contains(*c))) {
            return Some(format!("it contains `{}`", c.escape_debug()));
        }
    }
    None
}

/// Why `version` is not a Go module version (`v` and a semantic version;
/// pseudo-versions and `+incompatible` are semver too).
pub fn go_version_problem(version: &str) -> Option<String> {
    match version.strip_prefix('v') {
        None => Some("it does not start with `v`".into()),
        Some(rest) if crate::registry::Semver::parse(rest).is_none() => {
            Some("it is not `v` followed by a semantic version such as `v1.2.3`".into())
        }
        Some(_) => None,
    }
}

/// Why `dir` cannot be the target of a go.mod `replace`: it must be a
/// relative directory (Go's rule: starting with `./` or `../`; absolute
/// paths would make the output depend on the machine) of plain characters,
/// so it needs no quoting in go.mod.
pub fn go_replace_problem(dir: &str) -> Option<String> {
    if !(dir.starts_with("./") || dir.starts_with("../")) {
        return Some("it does not start with `./` or `../`".into());
    }
    if let Some(c) = dir.chars().find(|c| !(c.is_ascii_alphanumeric() || "-._~/".contains(*c))) {
        return Some(format!("it contains `{}`", c.escape_debug()));
    }
    if dir.trim_end_matches('/').split('/').any(str::is_empty) {
        return Some("it has an empty element (a doubled `/`)".into());
    }
    None
}

/// Why `value` is not a protoc-gen-go Go package (`go_package` option or
/// `M` flag): an import path, optionally `;name` with a Go identifier.
pub fn go_package_option_problem(value: &str) -> Option<String> {
    let (path, name) = value.split_once(';').map_or((value, None), |(p, n)| (p, Some(n)));
    if let Some(problem) = go_import_path_problem(path) {
        return Some(problem);
    }
    let name = name?;
    let mut chars = name.chars();
    if !chars.next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        || !chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
        || crate::go::names::KEYWORDS.contains(&name)
    {
        return Some(format!("package name `{}` is not a Go identifier", name.escape_debug()));
    }
    None
}

pub fn go_package_problem(name: &str) -> Option<String> {
    let mut chars = name.chars();
    match chars.next() {
        None => return Some("it is empty".into()),
        Some(c) if !(c.is_ascii_lowercase() || c == '_') => {
            return Some(format!("it starts with `{}`", c.escape_debug()));
        }
        _ => {}
    }
    if let Some(c) = name.chars().find(|c| !(c.is_ascii_lowercase() || c.is_ascii_digit() || *c == '_')) {
        return Some(format!("it contains `{}`", c.escape_debug()));
    }
    // `main` is legal but names a command, not an importable package.
    if name == "_" || name == "main" || crate::go::names::KEYWORDS.contains(&name) {
        return Some(format!("`{name}` is reserved in Go"));
    }
    None
}

pub fn python_package_problem(name: &str) -> Option<String> {
    if name.is_empty() {
        return Some("it is empty".into());
    }
    for part in name.split('.') {
        let mut chars = part.chars();
        match chars.next() {
            None => return Some("it has an empty component".into()),
            Some(c) if !(c.is_ascii_alphabetic() || c == '_') => {
                return Some(format!("component `{}` starts with `{}`", part.escape_debug(), c.escape_debug()));
            }
            _ => {}
        }
        if let Some(c) = part.chars().find(|c| !(c.is_ascii_alphanumeric() || *c == '_')) {
            return Some(format!("it contains `{}`", c.escape_debug()));
        }
        if crate::python::names::KEYWORDS.contains(&part) {
            return Some(format!("`{part}` is a Python keyword"));
        }
    }
    None
}

/// Why `name` is not a distribution name (PEP 508's `NAME`: ASCII letters
/// and digits, with `-`, `_` and `.` inside). It is written into
/// `pyproject.toml`, where pip and every index read it.
pub fn python_distribution_problem(name: &str) -> Option<String> {
    let (Some(first), Some(last)) = (name.chars().next(), name.chars().last()) else {
        return Some("it is empty".into());
    };
    if let Some(c) = name.chars().find(|c| !(c.is_ascii_alphanumeric() || "-_.".contains(*c))) {
        return Some(format!("it contains `{}`", c.escape_debug()));
    }
    if !first.is_ascii_alphanumeric() || !last.is_ascii_alphanumeric() {
        return Some("it must start and end with a letter or digit".into());
    }
    None
}

/// Why `version` is not a PEP 440 version in its normalized form:
/// `[N!]N(.N)*[{a|b|rc}N][.postN][.devN][+local]`. Only the normalized
/// spelling is accepted so that the version in `pyproject.toml` is the one
/// pip reports.
pub fn python_version_problem(version: &str) -> Option<String> {
    fn digits(s: &str) -> usize {
        s.bytes().take_while(u8::is_ascii_digit).count()
    }
    if version.is_empty() {
        return Some("it is empty".into());
    }
    let (public, local) = match version.split_once('+') {
        Some((p, l)) => (p, Some(l)),
        None => (version, None),
    };
    let mut rest = public;
    // Epoch.
    let n = digits(rest);
    if n > 0 && rest[n..].starts_with('!') {
        rest = &rest[n + 1..];
    }
    // Release: N(.N)*.
    let n = digits(rest);
    if n == 0 {
        return Some("it does not start with a release number such as `1.0`".into());
    }
    rest = &rest[n..];
    while let Some(after) = rest.strip_prefix('.') {
        let n = digits(after);
        if n == 0 {
            break;
        }
        rest = &after[n..];
    }
    // Pre-release, post-release, dev-release, in that order.
    for (prefixes, what) in [(&["a", "b", "rc"][..], "pre-release"), (&[".post"][..], "post"), (&[".dev"][..], "dev")] {
        if let Some(after) = prefixes.iter().find_map(|p| rest.strip_prefix(p)) {
            let n = digits(after);
            if n == 0 {
                return Some(format!("its {what} part has no number"));
            }
            rest = &after[n..];
        }
    }
    if !rest.is_empty() {
        return Some(format!("`{}` is not part of a normalized PEP 440 version", rest.escape_debug()));
    }
    if let Some(local) = local {
        if local
            .split('.')
            .any(|part| part.is_empty() || !part.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit()))
        {
            return Some("its local part (after `+`) must be `.`-separated lower-case letters and digits".into());
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::{
        go_package_option_problem, go_replace_problem, go_version_problem, python_distribution_problem,
        python_version_problem,
    };

    /// What reaches go.mod and import blocks verbatim is held to plain
    /// characters: no quote, space, newline or `=>` can get through.
    #[test]
    fn own_types_values_are_plain() {
        for ok in ["v1.2.3", "v0.0.0", "v0.0.0-20240101000000-abcdef123456", "v2.0.0+incompatible"] {
            assert_eq!(go_version_problem(ok), None, "{ok}");
        }
        for bad in ["1.2.3", "v1.2", "v01.2.3", "v1.2.3\nreplace x => y", "latest", ""] {
            assert!(go_version_problem(bad).is_some(), "{bad}");
        }
        for ok in ["../protos", "./vendor/acme-protos", "../../a/b~c"] {
            assert_eq!(go_replace_problem(ok), None, "{ok}");
        }
        for bad in ["/abs/path", "protos", "../a b", "../a\"b", "../a\n", "..//a", "../a=>b", "C:\\x"] {
            assert!(go_replace_problem(bad).is_some(), "{bad}");
        }
        for ok in ["example.com/p/bars", "example.com/p/bars;barspb", "example.com/p/v1;Bars_1"] {
            assert_eq!(go_package_option_problem(ok), None, "{ok}");
        }
        for bad in
            ["example.com/p/bars;1x", "example.com/p/bars;type", "example.com/p bars", "example.com/\"p", ";x", ""]
        {
            assert!(go_package_option_problem(bad).is_some(), "{bad}");
        }
    }

    #[test]
    fn pep_440_versions_in_normalized_form_only() {
        for ok in ["0.1.0", "1", "2.0.0rc1", "1.0a2", "1.0b3.post1.dev4", "1!2.0", "1.0+local.7", "1.0.post1"] {
            assert_eq!(python_version_problem(ok), None, "{ok}");
        }
        for bad in ["", "v1.0", "1.0-beta", "1.0.", "1.0rc", "1.0.post", "1.0+", "1.0+Local", "1..0", "1.0 ", "١.0"] {
            assert!(python_version_problem(bad).is_some(), "{bad}");
        }
    }

    #[test]
    fn pep_508_distribution_names() {
        for ok in ["ampybus", "acme-bus", "acme.bus_2", "A1"] {
            assert_eq!(python_distribution_problem(ok), None, "{ok}");
        }
        for bad in ["", "-acme", "acme-", "_acme", "acme bus", "acme\"bus", "ämpy", "a/b"] {
            assert!(python_distribution_problem(bad).is_some(), "{bad}");
        }
    }
}
