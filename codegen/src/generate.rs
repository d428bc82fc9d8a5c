//! Code generation entry point. Placeholder in this branch: the Rust, Go
//! and Python generators are developed on main, and this file is replaced
//! by the real one on merge. The CI gate (`check --generated`) only needs
//! these signatures; see `compat::generated`.

use std::collections::BTreeMap;

use crate::diag::{Diagnostic, Diagnostics};
use crate::project::Project;

/// A target language.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Lang {
    Rust,
    Go,
    Python,
}

impl std::str::FromStr for Lang {
    type Err = String;

    fn from_str(s: &str) -> Result<Lang, String> {
        match s {
            "rust" => Ok(Lang::Rust),
            "go" => Ok(Lang::Go),
            "python" => Ok(Lang::Python),
            other => Err(format!("unknown language `{other}`; use rust, go or python")),
        }
    }
}

impl std::fmt::Display for Lang {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Lang::Rust => "rust",
            Lang::Go => "go",
            Lang::Python => "python",
        })
    }
}

/// Generated files: relative path (`/` separators) → content.
pub type Files = BTreeMap<String, String>;

/// Generates the code for `lang` in memory.
pub fn generate(_project: &Project, lang: Lang) -> Result<Files, Diagnostics> {
    Err(Diagnostic::error("generate::unavailable", format!("generator for {lang} not available in this build"))
        .help("build ampygen from a revision that includes the generators")
        .into())
}
