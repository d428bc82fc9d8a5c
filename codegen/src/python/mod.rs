//! The python backend (in progress).

use crate::diag::{Diagnostic, Diagnostics};
use crate::generate::Files;
use crate::Project;

/// Renders the python package for `project`, in memory.
pub fn generate(_project: &Project) -> Result<Files, Diagnostics> {
    Err(Diagnostic::error("generate::unsupported", "generator for python not available in this build".to_string())
        .into())
}
