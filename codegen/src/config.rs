//! The build.rs API, in the style of prost-build and tonic-build.
//!
//! ```no_run
//! // build.rs
//! fn main() -> Result<(), Box<dyn std::error::Error>> {
//!     ampygen::configure().registry("registry/ampy.yaml").compile()?;
//!     Ok(())
//! }
//! ```
//!
//! and in the crate, once:
//!
//! ```ignore
//! mod contract {
//!     ampy_bus::include_generated!();
//! }
//! ```
//!
//! prost-build's common options pass through unchanged, with its path
//! syntax and semantics: [`Config::type_attribute`],
//! [`Config::message_attribute`], [`Config::enum_attribute`],
//! [`Config::field_attribute`], [`Config::bytes`] and [`Config::btree_map`].
//!
//! Generation is pure ([`Config::generate`] returns the files in memory);
//! [`Config::compile`] then writes only files whose content changed, so an
//! unchanged registry does not touch mtimes or trigger rebuilds.

use std::fmt;
use std::path::{Path, PathBuf};

use crate::diag::Diagnostics;
use crate::output::{write_changed, FileWrite};
use crate::rust::{self, Files, Options};
use crate::Project;

/// Starts a build configuration with the defaults: registry
/// `registry/ampy.yaml`, output to `OUT_DIR`, every domain.
pub fn configure() -> Config {
    Config {
        registry: PathBuf::from("registry/ampy.yaml"),
        out_dir: None,
        options: Options::default(),
        emit_rerun_if_changed: true,
    }
}

/// A build.rs configuration; see [`configure`].
#[derive(Clone, Debug)]
#[must_use = "call .compile() to generate"]
pub struct Config {
    registry: PathBuf,
    out_dir: Option<PathBuf>,
    options: Options,
    emit_rerun_if_changed: bool,
}

impl Config {
    /// The registry file, relative to the crate's manifest directory (the
    /// working directory of build scripts).
    pub fn registry(mut self, path: impl AsRef<Path>) -> Self {
        self.registry = path.as_ref().to_path_buf();
        self
    }

    /// Where to write; defaults to `OUT_DIR`.
    pub fn out_dir(mut self, dir: impl AsRef<Path>) -> Self {
        self.out_dir = Some(dir.as_ref().to_path_buf());
        self
    }

    /// Generates only these domains' topics, and only the proto files their
    /// payloads need. Call again to add more; by default every domain.
    pub fn domains<I, S>(mut self, domains: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.options.domains.extend(domains.into_iter().map(Into::into));
        self
    }

    /// Uses an existing Rust type for a proto package or message instead of
    /// generating it, as `prost_build::Config::extern_path` does; bindings
    /// follow the same mapping.
    pub fn extern_path(mut self, proto_path: impl Into<String>, rust_path: impl Into<String>) -> Self {
        self.options.extern_paths.push((proto_path.into(), rust_path.into()));
        self
    }

    /// Adds an attribute to the matched messages, enums and oneofs, as
    /// `prost_build::Config::type_attribute` does (`path` is a proto path:
    /// `.` for all, `.pkg` for a package, `.pkg.Message` for one type, or a
    /// bare name matching any type of that name). For example
    /// `.type_attribute(".ampy.bars.v1", "#[derive(serde::Serialize)]")`.
    pub fn type_attribute(mut self, path: impl AsRef<str>, attribute: impl AsRef<str>) -> Self {
        self.options.prost.type_attributes.push((path.as_ref().to_owned(), attribute.as_ref().to_owned()));
        self
    }

    /// Adds an attribute to the matched messages only, as
    /// `prost_build::Config::message_attribute` does.
    pub fn message_attribute(mut self, path: impl AsRef<str>, attribute: impl AsRef<str>) -> Self {
        self.options.prost.message_attributes.push((path.as_ref().to_owned(), attribute.as_ref().to_owned()));
        self
    }

    /// Adds an attribute to the matched enums and oneofs only, as
    /// `prost_build::Config::enum_attribute` does.
    pub fn enum_attribute(mut self, path: impl AsRef<str>, attribute: impl AsRef<str>) -> Self {
        self.options.prost.enum_attributes.push((path.as_ref().to_owned(), attribute.as_ref().to_owned()));
        self
    }

    /// Adds an attribute to the matched fields, as
    /// `prost_build::Config::field_attribute` does (`.pkg.Message.field`).
    pub fn field_attribute(mut self, path: impl AsRef<str>, attribute: impl AsRef<str>) -> Self {
        self.options.prost.field_attributes.push((path.as_ref().to_owned(), attribute.as_ref().to_owned()));
        self
    }

    /// Generates `bytes` fields matching these paths as `bytes::Bytes`
    /// (reached through prost, `::ampy_bus::prost::bytes::Bytes` by default)
    /// instead of `Vec<u8>`, as `prost_build::Config::bytes` does (`.` for
    /// every field, `.pkg.Message.field` for one). Like prost-build's, a
    /// later call replaces the list.
    pub fn bytes<I, S>(mut self, paths: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        self.options.prost.bytes = paths.into_iter().map(|p| p.as_ref().to_owned()).collect();
        self
    }

    /// Generates `map` fields matching these paths as `BTreeMap` instead of
    /// `HashMap`, as `prost_build::Config::btree_map` does. Like
    /// prost-build's, a later call replaces the list.
    pub fn btree_map<I, S>(mut self, paths: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        self.options.prost.btree_map = paths.into_iter().map(|p| p.as_ref().to_owned()).collect();
        self
    }

    /// The path generated code reaches prost through (default
    /// `::ampy_bus::prost`, so the crate needs no direct prost dependency).
    pub fn prost_path(mut self, path: impl Into<String>) -> Self {
        self.options.prost_path = Some(path.into());
        self
    }

    /// Embeds the payloads' descriptors and implements
    /// `ampy_bus::linked::Linked` for every payload, plus a root
    /// `verify_linked()` that checks them all against the locked hashes.
    /// Needs ampy-bus's `reflect` feature. Off by default.
    pub fn linked_descriptors(mut self, yes: bool) -> Self {
        self.options.linked = yes;
        self
    }

    /// Whether to print `cargo:rerun-if-changed` lines (default true).
    pub fn emit_rerun_if_changed(mut self, yes: bool) -> Self {
        self.emit_rerun_if_changed = yes;
        self
    }

    /// Loads the registry and renders every file, touching nothing.
    pub fn generate(&self) -> Result<(Project, Files), Error> {
        let project = crate::load_for(&self.registry, crate::Caller::BuildScript).map_err(Error)?;
        let files = rust::generate(&project, &self.options).map_err(Error)?;
        Ok((project, files))
    }

    /// Generates and writes the files whose content changed, and tells
    /// cargo to rerun when the registry or a proto file it read changes.
    pub fn compile(&self) -> Result<(), Error> {
        if self.emit_rerun_if_changed {
            // Printed first, so that a broken registry is also watched and
            // fixing it reruns the build script.
            println!("cargo:rerun-if-changed={}", self.registry.display());
        }
        let (project, files) = self.generate()?;
        if self.emit_rerun_if_changed {
            for path in rerun_if_changed(&project).iter().skip(1) {
                println!("cargo:rerun-if-changed={}", path.display());
            }
        }
        let out_dir = match &self.out_dir {
            Some(d) => d.clone(),
            None => std::env::var_os("OUT_DIR").map(PathBuf::from).ok_or_else(|| {
                Error(
                    crate::Diagnostic::error("io::out_dir", "OUT_DIR is not set")
                        .help("run from a build script, or set a directory with `.out_dir(..)`")
                        .into(),
                )
            })?,
        };
        let writes: Vec<FileWrite> = files
            .into_iter()
            .map(|(name, contents)| FileWrite { path: out_dir.join(name), contents: contents.into_bytes() })
            .collect();
        write_changed(&writes).map_err(|e| {
            Error(
                crate::Diagnostic::error("io::write", format!("cannot write to `{}`: {e}", out_dir.display()))
                    .help("check that the output directory is writable")
                    .into(),
            )
        })?;
        Ok(())
    }
}

/// The files a build depends on: the registry, then every proto file that
/// was read from disk (the well-known types are built in), then, only when
/// `protos.files` has a pattern, the include roots it searched, since a new
/// file there can change the list (cargo scans a listed directory as a
/// whole). Without patterns no directory is listed, so unrelated edits do
/// not rerun the build.
pub fn rerun_if_changed(project: &Project) -> Vec<PathBuf> {
    let mut paths = vec![project.registry_path.clone()];
    paths.extend(project.compiled.files.values().filter_map(|f| f.path.clone()));
    paths.extend(project.compiled.watched.iter().cloned());
    paths
}

/// Everything that went wrong, rendered like the CLI renders it.
///
/// `Debug` renders too, because a build script returning
/// `Result<(), Box<dyn Error>>` prints its error with `Debug`.
pub struct Error(pub Diagnostics);

impl Error {
    pub fn diagnostics(&self) -> &Diagnostics {
        &self.0
    }
}

/// With the `fancy` feature: miette's graphical report, source snippets
/// included, without colour (cargo shows build script output as is).
#[cfg(feature = "fancy")]
impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let handler =
            miette::GraphicalReportHandler::new_themed(miette::GraphicalTheme::unicode_nocolor()).with_width(110);
        for d in &self.0 {
            let mut out = String::new();
            if handler.render_report(&mut out, d).is_err() {
                out = d.render_plain();
            }
            writeln!(f, "{out}")?;
        }
        Ok(())
    }
}

/// Without `fancy`: one `file:line:col: error[code]: message` line per
/// finding, with its notes and help below it.
#[cfg(not(feature = "fancy"))]
impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for d in &self.0 {
            writeln!(f, "{}", d.render_plain())?;
        }
        Ok(())
    }
}

impl fmt::Debug for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

impl std::error::Error for Error {}
