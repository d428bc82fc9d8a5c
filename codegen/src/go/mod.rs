//! The go backend (in progress).

use crate::diag::{Diagnostic, Diagnostics};
use crate::generate::Files;
use crate::Project;

/// Renders the go package for `project`, in memory.
pub fn generate(_project: &Project) -> Result<Files, Diagnostics> {
    Err(Diagnostic::error("generate::unsupported", "generator for go not available in this build".to_string()).into())
}
