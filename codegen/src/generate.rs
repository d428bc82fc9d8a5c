//! Generation for every target language, behind one entry point that the
//! CLI (`ampygen generate`) and the stale-code check share.

use std::fmt;
use std::str::FromStr;

use crate::diag::Diagnostics;
use crate::Project;

/// A target language.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Lang {
    Rust,
    Go,
    Python,
}

impl Lang {
    pub const ALL: [Lang; 3] = [Lang::Rust, Lang::Go, Lang::Python];

    pub fn as_str(self) -> &'static str {
        match self {
            Lang::Rust => "rust",
            Lang::Go => "go",
            Lang::Python => "python",
        }
    }
}

impl fmt::Display for Lang {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Lang {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        Lang::ALL
            .into_iter()
            .find(|l| l.as_str() == s)
            .ok_or_else(|| format!("unknown language `{s}`; expected one of rust, go, python"))
    }
}

/// Generated files by relative path (`/` separators), in path order.
pub type Files = std::collections::BTreeMap<String, String>;

/// Renders every file of one language for `project`, in memory.
pub fn generate(project: &Project, lang: Lang) -> Result<Files, Diagnostics> {
    match lang {
        Lang::Rust => crate::rust::generate(project, &crate::rust::Options::default()),
        #[cfg(feature = "go")]
        Lang::Go => crate::go::generate(project),
        #[cfg(feature = "python")]
        Lang::Python => crate::python::generate(project),
        #[cfg(not(all(feature = "go", feature = "python")))]
        other => Err(not_built(other).into()),
    }
}

/// Every problem with the registry that generating `lang` would refuse,
/// without writing or running anything external (see each backend's
/// `validate`).
pub fn validate(project: &Project, lang: Lang) -> Diagnostics {
    match lang {
        Lang::Rust => crate::rust::validate(project),
        #[cfg(feature = "go")]
        Lang::Go => crate::go::validate(project),
        #[cfg(feature = "python")]
        Lang::Python => crate::python::validate(project),
        #[cfg(not(all(feature = "go", feature = "python")))]
        other => not_built(other).into(),
    }
}

/// A language whose backend this build of ampygen leaves out (the `go` and
/// `python` features; the command line has both).
#[cfg(not(all(feature = "go", feature = "python")))]
fn not_built(lang: Lang) -> crate::Diagnostic {
    crate::Diagnostic::error("generate::not_built", format!("this ampygen was built without the {lang} backend"))
        .help(format!("enable the `{lang}` feature of the ampygen crate, or use the `ampygen` command line"))
}
