//! Decoding `targets:`, the per-language settings of generated code (Go
//! import paths, package names). Values that no sanitiser could turn into a
//! legal name are rejected here, at their spot in the registry, so a
//! backend never has to emit broken output.

use super::*;

const TARGET_KEYS: &[&str] = &["go", "python"];
const GO_KEYS: &[&str] = &["module", "package", "types", "transports"];
const PYTHON_KEYS: &[&str] = &["package", "distribution", "version", "transports"];

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
        Some(GoTarget { module, package, types, transports, span: obj.span })
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
        Some(PythonTarget { package, distribution, version, transports, span: obj.span })
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
    use super::{python_distribution_problem, python_version_problem};

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
