//! ampygen: one source of truth for the AmpyFin bus contract.
//!
//! As a library, ampygen is the build-dependency of a Rust service: its
//! `build.rs` calls [`configure`], which loads the registry, compiles its
//! protos with protox (no `protoc`), renders the prost payload types and
//! the bus bindings (subjects, keys, schema constants and checks) and
//! writes them to `OUT_DIR`, where `ampy_bus::include_generated!()` picks
//! them up:
//!
//! ```no_run
//! // build.rs
//! fn main() -> Result<(), Box<dyn std::error::Error>> {
//!     ampygen::configure()
//!         .registry("registry/ampy.yaml")
//!         // prost-build's options pass through, e.g. serde on payload types:
//!         .type_attribute(".ampy.bars.v1", "#[derive(serde::Serialize)]")
//!         .compile()?;
//!     Ok(())
//! }
//! ```
//!
//! # Public API
//!
//! - [`configure`] and [`Config`]: the build.rs builder, with ampygen's own
//!   options (registry, domains, `extern_path`, linked descriptors) and
//!   prost-build's common ones passed through (`type_attribute`,
//!   `field_attribute`, `message_attribute`, `enum_attribute`, `bytes`,
//!   `btree_map`). [`Config::generate`] renders in memory, [`Config::compile`]
//!   writes; both fail with an [`Error`].
//! - [`load`]: reads, validates and compiles a registry into a [`Project`]
//!   (for example to check it from a test); [`load_to_check`] does the same
//!   for a caller that generates nothing, parsing proto positions again only
//!   when a diagnostic needs one; [`rerun_if_changed`] lists the files a
//!   [`Project`] was read from.
//! - [`Diagnostic`], [`Diagnostics`], [`Severity`], [`Label`], [`Location`]
//!   and [`Source`]: what went wrong, with `file:line:col` and a hint;
//!   [`Diagnostics::render_plain`] prints one finding per line.
//! - [`Files`], the generated files by name, and [`VERSION`].
//!
//! Everything else is implementation detail and not part of the API.
//!
//! # Features
//!
//! The default build is deliberately light, because every service compiles
//! it: the registry, protox, prost-build, the canonical schema hash and the
//! Rust backend, and nothing else.
//!
//! - `fancy`: errors rendered by miette's graphical handler, with source
//!   snippets, instead of one line per finding.
//! - `go`, `python`: the Go and Python backends (handlebars templates).
//! - `gate`: the CI gate (`check` against the lock, `lock`, compatibility
//!   classification, the stale-code check); implies `go` and `python`.
//! - `cli`: everything the `ampygen` command line needs (`gate`, `fancy`,
//!   JSON payloads for `route`), plus `internals`.
//! - `internals`: ampygen's implementation modules, public but hidden from
//!   these docs, for the command line and `ampygen-macros` only. They carry
//!   no stability promise; do not use them.

// Without `internals` the modules below are private, and a few helpers
// that only the command line or the derive macros call are unused there.
#![cfg_attr(not(feature = "internals"), allow(dead_code, unused_imports))]

/// Declares implementation modules: crate-private, or public and hidden
/// from the docs with the `internals` feature (the command line and the
/// derive macros reach them by their paths, `ampygen::registry::…`).
macro_rules! internal {
    ($($(#[$attr:meta])* mod $name:ident;)*) => {$(
        #[cfg(feature = "internals")]
        #[doc(hidden)]
        $(#[$attr])*
        pub mod $name;
        #[cfg(not(feature = "internals"))]
        $(#[$attr])*
        mod $name;
    )*};
}

// The build.rs path: always compiled.
internal! {
    mod canonical;
    mod commit;
    mod diag;
    mod limits;
    mod output;
    mod protos;
    mod registry;
    mod render;
    mod rust;
    mod template;
    mod transport;
    mod yaml;
}

// The backends and the command line's machinery, behind features.
internal! {
    #[cfg(feature = "gate")]
    mod check;
    #[cfg(feature = "gate")]
    mod compat;
    #[cfg(any(feature = "go", feature = "python"))]
    mod generate;
    #[cfg(feature = "go")]
    mod go;
    #[cfg(feature = "gate")]
    mod lock;
    #[cfg(feature = "gate")]
    mod ownership;
    #[cfg(feature = "python")]
    mod python;
    #[cfg(feature = "cli")]
    mod route;
}

/// The registry checks Go package names against Go's keywords with or
/// without the Go backend (one registry is valid for every caller).
#[cfg(not(feature = "go"))]
mod go {
    #[allow(dead_code)] // only `KEYWORDS` is used without the backend
    pub(crate) mod names;
}

/// Python's keywords, for the registry's checks, without the backend.
#[cfg(not(feature = "python"))]
mod python {
    #[allow(dead_code)] // only `KEYWORDS` is used without the backend
    pub(crate) mod names;
}

mod config;
mod project;

pub use config::{configure, rerun_if_changed, Config, Error};
pub use diag::{Diagnostic, DiagnosticData, Diagnostics, Label, Location, Severity, Source};
pub use project::{load, load_to_check, Project};
#[doc(hidden)]
pub use project::{load_for, load_source, Caller};
pub use rust::Files;

/// The generator version, stamped into every file ampygen writes.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");
