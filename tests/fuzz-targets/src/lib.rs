//! The fuzz targets of ampygen and ampy-bus, as ordinary functions.
//!
//! `fuzz/` wraps each [`Target::run`] in a libFuzzer entry point (nightly,
//! cargo-fuzz); `tests/seeds.rs` runs every target over every seed of
//! [`seeds::all`] on stable, so CI exercises the same bodies without
//! nightly and a crash once found stays fixed. Each body checks more than
//! "no panic": the properties it asserts are listed on its function.
//!
//! See docs/fuzzing.md.

pub mod envelope;
pub mod seeds;
pub mod targets;

/// One fuzz target.
#[derive(Clone, Copy, Debug)]
pub struct Target {
    /// The libFuzzer target name (`cargo fuzz run NAME`) and corpus folder.
    pub name: &'static str,
    pub run: fn(&[u8]),
}

/// Every target, in the order docs/fuzzing.md lists them.
pub const TARGETS: &[Target] = &[
    Target { name: "registry", run: targets::registry },
    Target { name: "template", run: targets::template },
    Target { name: "key_path", run: targets::key_path },
    Target { name: "canonical", run: targets::canonical },
    Target { name: "envelope", run: envelope::envelope },
];

/// The target called `name`.
pub fn target(name: &str) -> Option<Target> {
    TARGETS.iter().copied().find(|t| t.name == name)
}

/// The repository root (this crate lives at tests/fuzz-targets).
pub fn repo_root() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}
