//! Compiling the registry's protos with protox (no protoc anywhere).
//!
//! The resolver records every file it reads, which gives diagnostics their
//! source text and gives build scripts an exact `rerun-if-changed` list.

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::path::{Component, Path, PathBuf};
use std::rc::Rc;
use std::sync::Arc;

use prost_reflect::DescriptorPool;
use protox::file::{ChainFileResolver, File, FileResolver, GoogleFileResolver, IncludeFileResolver};

use crate::diag::{Diagnostic, Diagnostics, Label, Source};
use crate::registry::Registry;

/// A proto file that was read during compilation.
#[derive(Clone, Debug)]
pub struct ProtoFile {
    pub source: Arc<Source>,
    /// Path on disk as the user would type it; `None` for the well-known
    /// types bundled with protox.
    pub path: Option<PathBuf>,
}

/// The compiled descriptors plus every file that went into them.
#[derive(Clone, Debug)]
pub struct Compiled {
    pub pool: DescriptorPool,
    /// By import name (`ampy/bars/v1/bars.proto`), in name order.
    pub files: BTreeMap<String, ProtoFile>,
}

impl Compiled {
    pub fn source(&self, import_name: &str) -> Option<&Arc<Source>> {
        self.files.get(import_name).map(|f| &f.source)
    }
}

type Seen = Rc<RefCell<BTreeMap<String, ProtoFile>>>;

struct Recording {
    inner: ChainFileResolver,
    roots: Vec<PathBuf>,
    seen: Seen,
}

impl FileResolver for Recording {
    fn resolve_path(&self, path: &Path) -> Option<String> {
        self.inner.resolve_path(path)
    }

    fn open_file(&self, name: &str) -> Result<File, protox::Error> {
        let result = self.inner.open_file(name);
        let text = match &result {
            Ok(file) => file.source().map(str::to_owned),
            // A parse error happens inside `open_file`, before we see the
            // text; read it ourselves so the error can show a snippet.
            Err(err) if err.is_parse() => self.find(name).and_then(|p| std::fs::read_to_string(p).ok()),
            Err(_) => None,
        };
        if let Some(text) = text {
            let path = match &result {
                Ok(file) => file.path().map(Path::to_path_buf),
                Err(_) => self.find(name),
            };
            let display = path.as_deref().map_or_else(|| name.to_owned(), |p| p.display().to_string());
            self.seen.borrow_mut().insert(name.to_owned(), ProtoFile { source: Source::new(display, text), path });
        }
        result
    }
}

impl Recording {
    fn find(&self, name: &str) -> Option<PathBuf> {
        self.roots.iter().map(|r| r.join(name)).find(|p| p.is_file())
    }
}

/// Lexically normalises `a/b/../c` to `a/c` so display paths stay short
/// and never depend on the machine (no canonicalisation, no symlinks).
pub fn normalize(path: &Path) -> PathBuf {
    let mut out: Vec<Component<'_>> = Vec::new();
    for c in path.components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir if matches!(out.last(), Some(Component::Normal(_))) => {
                out.pop();
            }
            other => out.push(other),
        }
    }
    if out.is_empty() {
        PathBuf::from(".")
    } else {
        out.iter().collect()
    }
}

/// Compiles the registry's proto files. `base` is the registry file's
/// directory, which include roots are relative to.
pub fn compile(registry: &Registry, base: &Path) -> Result<Compiled, Diagnostics> {
    let source = &registry.source;
    let mut diags = Diagnostics::new();
    let mut roots = Vec::new();
    for include in &registry.protos.include {
        let root = normalize(&base.join(&include.value));
        if root.is_dir() {
            roots.push(root);
        } else {
            diags.push(
                Diagnostic::error(
                    "proto::include_not_found",
                    format!("include root `{}` does not exist", include.value),
                )
                .at(source, include.span.clone())
                .label(format!("resolved to `{}`", root.display()))
                .help("include roots are relative to the registry file's directory"),
            );
        }
    }
    for file in &registry.protos.files {
        if Path::new(&file.value).is_absolute() || file.value.contains('\\') {
            diags.push(
                Diagnostic::error("proto::file_not_found", format!("`{}` is not an import name", file.value))
                    .at(source, file.span.clone())
                    .help("list files relative to an include root, as `import` would name them, e.g. `ampy/bars/v1/bars.proto`"),
            );
        } else if !roots.is_empty() && !roots.iter().any(|r| r.join(&file.value).is_file()) {
            diags.push(
                Diagnostic::error(
                    "proto::file_not_found",
                    format!("proto file `{}` is not under any include root", file.value),
                )
                .at(source, file.span.clone())
                .help(format!(
                    "searched: {}",
                    roots.iter().map(|r| format!("`{}`", r.display())).collect::<Vec<_>>().join(", ")
                )),
            );
        }
    }
    if diags.has_errors() {
        return Err(diags);
    }

    let seen: Seen = Rc::default();
    let mut chain = ChainFileResolver::new();
    for root in &roots {
        chain.add(IncludeFileResolver::new(root.clone()));
    }
    chain.add(GoogleFileResolver::new());
    let resolver = Recording { inner: chain, roots, seen: Rc::clone(&seen) };
    let mut compiler = protox::Compiler::with_file_resolver(resolver);
    compiler.include_source_info(true).include_imports(true);
    let result = registry.protos.files.iter().try_for_each(|f| compiler.open_file(&f.value).map(|_| ()));
    let files = seen.borrow().clone();
    if let Err(err) = result {
        return Err(convert_error(&err, &files, registry).into());
    }
    Ok(Compiled { pool: compiler.descriptor_pool(), files })
}

/// Turns a protox error into our diagnostic, keeping its span.
fn convert_error(err: &protox::Error, files: &BTreeMap<String, ProtoFile>, registry: &Registry) -> Diagnostic {
    use miette::Diagnostic as _;
    let mut diag = Diagnostic::error("proto::compile", err.to_string());
    if let Some(help) = err.help() {
        diag = diag.help(help.to_string());
    } else {
        diag = diag.help("fix the proto file; ampygen compiles it exactly as protoc would");
    }
    let file = err.file().and_then(|name| files.get(name));
    if let (Some(file), Some(labels)) = (file, err.labels()) {
        for l in labels {
            let span = l.offset()..l.offset() + l.len();
            let mut label = Label::new(&file.source, span);
            if let Some(m) = l.label() {
                label = label.with_message(m);
            }
            diag = diag.with_label(label);
        }
    }
    if diag.primary.is_none() {
        // No span inside a proto: point at the registry entry that asked
        // for the file, when there is one.
        let entry = err.file().and_then(|name| registry.protos.files.iter().find(|f| f.value == name));
        if let Some(entry) = entry.or_else(|| registry.protos.files.first()) {
            diag = diag.at(&registry.source, entry.span.clone());
        }
    }
    diag
}

#[cfg(test)]
mod tests {
    use super::normalize;
    use std::path::Path;

    #[test]
    fn normalize_is_lexical() {
        assert_eq!(normalize(Path::new("registry/../proto")), Path::new("proto"));
        assert_eq!(normalize(Path::new("./a/./b/../c")), Path::new("a/c"));
        assert_eq!(normalize(Path::new("../proto")), Path::new("../proto"));
        assert_eq!(normalize(Path::new("")), Path::new("."));
    }
}
