//! Loading a registry and everything it refers to, in one pure step that
//! either yields a [`Project`] or every diagnostic it found.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::diag::{Diagnostic, Diagnostics, Source};
use crate::protos::{self, Compiled, SourceInfo};
use crate::registry::resolve::{self, Resolved};
use crate::registry::{self, Registry};

/// A validated registry bound to its compiled protos.
///
/// Its registry, protos and layout are ampygen's internal model (hidden
/// from these docs, no stability promise); what a user reads is where it
/// came from ([`crate::rerun_if_changed`]) and its warnings.
#[derive(Clone, Debug)]
pub struct Project {
    /// The registry path as the user gave it (used for display and to find
    /// the lock file next to it).
    pub registry_path: PathBuf,
    #[doc(hidden)]
    pub registry: Registry,
    #[doc(hidden)]
    pub compiled: Compiled,
    #[doc(hidden)]
    pub resolved: Resolved,
    /// The broker layout the registry implies (streams, tiers, headers).
    #[doc(hidden)]
    pub transport: crate::transport::Model,
    /// Non-fatal findings.
    pub warnings: Diagnostics,
}

/// Who loads the registry: it decides how a hint tells the user to name
/// another one (a build script has no `--registry` flag).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Caller {
    /// The `ampygen` command line.
    Cli,
    /// `ampygen::configure()` in a build script.
    BuildScript,
}

impl Caller {
    /// How to point at the registry, for an unreadable one.
    fn registry_hint(self) -> &'static str {
        match self {
            Caller::Cli => {
                "pass the registry with `--registry PATH` (default `registry/ampy.yaml`, relative to the working directory)"
            }
            Caller::BuildScript => {
                "name the registry with `ampygen::configure().registry(\"path/to/ampy.yaml\")` in build.rs (default \
                 `registry/ampy.yaml`, relative to the directory of the crate's Cargo.toml)"
            }
        }
    }
}

/// Reads, parses, validates and compiles the registry at `path`, for the
/// command line; see [`load_for`].
pub fn load(path: &Path) -> Result<Project, Diagnostics> {
    load_for(path, Caller::Cli)
}

/// [`load`], with hints phrased for `caller`. The registry is read through
/// a pending `lock` journal (see the `commit` module), so a reader never sees half
/// of an interrupted `lock`.
pub fn load_for(path: &Path, caller: Caller) -> Result<Project, Diagnostics> {
    load_with(path, caller, SourceInfo::Kept)
}

/// [`load`] for a command that generates no code (`check`, `lock`,
/// `hash`, `route`): proto positions and comments are parsed again only
/// when a diagnostic needs one ([`SourceInfo::OnDemand`]). The project is
/// the same; generating from it re-parses every file.
pub fn load_to_check(path: &Path) -> Result<Project, Diagnostics> {
    load_with(path, Caller::Cli, SourceInfo::OnDemand)
}

fn load_with(path: &Path, caller: Caller, info: SourceInfo) -> Result<Project, Diagnostics> {
    let bytes = crate::commit::read(path).map_err(|e| {
        Diagnostic::error("io::read", format!("cannot read registry `{}`: {e}", path.display()))
            .help(caller.registry_hint())
    })?;
    load_source_with(path, utf8_source(path.display().to_string(), bytes, "registry")?, info)
}

/// The text of a file that must be UTF-8; otherwise a diagnostic at the
/// line and column of the first invalid byte.
pub(crate) fn utf8_source(name: String, bytes: Vec<u8>, what: &str) -> Result<Arc<Source>, Diagnostic> {
    match String::from_utf8(bytes) {
        Ok(text) => Ok(Source::new(name, text)),
        Err(e) => {
            let at = e.utf8_error().valid_up_to();
            let byte = e.as_bytes()[at];
            let source = Source::new(name, String::from_utf8_lossy(e.as_bytes()).into_owned());
            Err(Diagnostic::error(
                "io::not_utf8",
                format!("the {what} is not valid UTF-8 (byte 0x{byte:02x} at offset {at})"),
            )
            .at(&source, at..at + 1)
            .label("first invalid byte")
            .help("re-save the file as UTF-8 (without a byte-order mark is fine); ampygen reads every input as UTF-8"))
        }
    }
}

/// Like [`load`] with the registry text already in memory; `path` still
/// decides where include roots are resolved from.
pub fn load_source(path: &Path, source: Arc<Source>) -> Result<Project, Diagnostics> {
    load_source_with(path, source, SourceInfo::Kept)
}

fn load_source_with(path: &Path, source: Arc<Source>, info: SourceInfo) -> Result<Project, Diagnostics> {
    let (registry, mut diags) = registry::parse(&source);
    let Some(mut registry) = registry else {
        diags.sort();
        return Err(diags);
    };
    // Computed once per load: streams are envs × domains, and every backend
    // and command reads the same model.
    let transport = crate::transport::model(&registry).map_err(|d| diags.extend(d)).ok();
    let base = path.parent().unwrap_or(Path::new(""));
    let compiled = match protos::compile(&mut registry, base, info) {
        Ok(c) => c,
        Err(d) => {
            diags.extend(d);
            diags.sort();
            return Err(diags);
        }
    };
    let resolved = resolve::resolve(&registry, &compiled.pool).unwrap_or_else(|d| {
        diags.extend(d);
        Resolved::new()
    });
    let (Some(transport), false) = (transport, diags.has_errors()) else {
        diags.sort();
        return Err(diags);
    };
    Ok(Project { registry_path: path.to_path_buf(), registry, compiled, resolved, transport, warnings: diags })
}
