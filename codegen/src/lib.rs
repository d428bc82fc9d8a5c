//! ampygen: one source of truth for the AmpyFin bus contract.
//!
//! The crate is a pure core plus a thin writing layer:
//! [`load`] reads and validates a registry and compiles its protos with
//! protox into a [`Project`]; [`check::check`], [`lock::plan`] and
//! [`route::route`] work on that in memory and return values or
//! [`Diagnostics`]; only [`output`] and the two write protocols built on it
//! ([`commit`] for `lock`, [`ownership`] for `generate`) touch the disk.
//! [`compat::evaluate`] is the CI gate: it classifies every difference
//! against a [`compat::Baseline`] (the lock file, or a git revision read
//! by [`compat::git::load_at`]) as breaking or compatible.
//!
//! ```no_run
//! let project = ampygen::load(std::path::Path::new("registry/ampy.yaml"))
//!     .map_err(|d| d.render_plain())?;
//! let findings = ampygen::check::check(&project);
//! assert!(!findings.has_errors(), "{}", findings.render_plain());
//! # Ok::<(), String>(())
//! ```

pub mod canonical;
pub mod check;
pub mod commit;
pub mod compat;
mod config;
pub mod diag;
pub mod generate;
pub mod go;
pub mod limits;
pub mod lock;
pub mod output;
pub mod ownership;
mod project;
pub mod protos;
pub mod python;
pub mod registry;
pub mod render;
pub mod route;
pub mod rust;
pub mod template;
pub mod transport;
pub mod yaml;

pub use config::{configure, rerun_if_changed, Config, Error};
pub use diag::{Diagnostic, Diagnostics, Severity};
pub use project::{load, load_for, load_source, Caller, Project};

/// The generator version, stamped into every file ampygen writes.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");
