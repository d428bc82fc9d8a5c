//! Compile-fail tests: each misuse of `#[derive(Payload)]` must fail with
//! a message that points at the right span. Regenerate the expectations
//! with `TRYBUILD=overwrite cargo test -p ampygen-macros --test ui`, then
//! read every changed `.stderr` before committing.
//!
//! trybuild compiles the cases in its own crate at
//! `<target>/tests/trybuild/ampygen-macros`, so `CARGO_MANIFEST_DIR` (which
//! registry paths are relative to) is that directory, not `macros/`. The
//! test mirrors the workspace layout around it — `registry/` and `proto/`
//! one level up, `tests/fixtures/` inside — so that the cases name the
//! registry exactly as code in `macros/` does: `../registry/ampy.yaml`.

use std::path::{Path, PathBuf};

#[test]
fn ui() {
    let root = trybuild_root();
    let macros = Path::new(env!("CARGO_MANIFEST_DIR"));
    let workspace = macros.parent().expect("macros/ is inside the workspace");
    copy_dir(&workspace.join("registry"), &root.join("registry"));
    copy_dir(&workspace.join("proto"), &root.join("proto"));
    copy_dir(&macros.join("tests/fixtures"), &root.join("ampygen-macros/tests/fixtures"));

    let t = trybuild::TestCases::new();
    t.compile_fail("tests/ui/*.rs");
}

/// `<target>/tests/trybuild`, found the way trybuild finds the target
/// directory: from `cargo metadata`.
fn trybuild_root() -> PathBuf {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let out = std::process::Command::new(cargo)
        .args(["metadata", "--no-deps", "--format-version=1"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("cargo metadata runs");
    let json = String::from_utf8(out.stdout).expect("cargo metadata prints UTF-8");
    let key = "\"target_directory\":\"";
    let start = json.find(key).expect("cargo metadata names the target directory") + key.len();
    let end = start + json[start..].find('"').expect("a JSON string ends");
    PathBuf::from(&json[start..end]).join("tests").join("trybuild")
}

/// Replaces `to` with a copy of `from`, so edits to the registry and the
/// fixtures are always what the cases see.
fn copy_dir(from: &Path, to: &Path) {
    let _ = std::fs::remove_dir_all(to);
    std::fs::create_dir_all(to).expect("create the mirror directory");
    for entry in std::fs::read_dir(from).expect("read the source directory") {
        let entry = entry.expect("directory entry");
        let path = entry.path();
        if path.is_dir() {
            copy_dir(&path, &to.join(entry.file_name()));
        } else {
            std::fs::copy(&path, to.join(entry.file_name())).expect("copy a file");
        }
    }
}
