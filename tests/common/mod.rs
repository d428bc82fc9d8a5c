//! Shared helpers for the end-to-end tests.
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// The `ampygen` binary under test, run in `dir`, without colour.
pub fn ampygen(dir: &Path) -> assert_cmd::Command {
    let mut cmd = assert_cmd::Command::new(env!("CARGO_BIN_EXE_ampygen"));
    cmd.current_dir(dir).env("NO_COLOR", "1");
    cmd
}

pub fn scratch() -> tempfile::TempDir {
    tempfile::tempdir().expect("temp dir")
}

pub fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("mkdir");
    for entry in std::fs::read_dir(from).expect("read dir") {
        let entry = entry.expect("entry");
        let target = to.join(entry.file_name());
        if entry.file_type().expect("type").is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).expect("copy");
        }
    }
}

/// A scratch copy of the default layout: `registry/` and `proto/`.
pub fn default_layout() -> tempfile::TempDir {
    let dir = scratch();
    copy_dir(Path::new("registry"), &dir.path().join("registry"));
    copy_dir(Path::new("proto"), &dir.path().join("proto"));
    dir
}

/// Every file under `root` with its bytes, to prove nothing was written.
pub fn snapshot_tree(root: &Path) -> BTreeMap<PathBuf, Vec<u8>> {
    fn walk(dir: &Path, root: &Path, out: &mut BTreeMap<PathBuf, Vec<u8>>) {
        for entry in std::fs::read_dir(dir).expect("read dir") {
            let path = entry.expect("entry").path();
            if path.is_dir() {
                walk(&path, root, out);
            } else {
                let rel = path.strip_prefix(root).expect("under root").to_path_buf();
                out.insert(rel, std::fs::read(&path).expect("read"));
            }
        }
    }
    let mut out = BTreeMap::new();
    walk(root, root, &mut out);
    out
}

/// How to get the pinned protoc-gen-go (what `scripts/install-protoc-gen-go`
/// installs).
pub const GO_PLUGIN_INSTALL: &str =
    "go install google.golang.org/protobuf/cmd/protoc-gen-go@v1.36.12, or scripts/install-protoc-gen-go";

/// protoc-gen-go, found the way ampygen finds it (`AMPYGEN_PROTOC_GEN_GO`,
/// `PATH`, `$GOPATH/bin`, `~/go/bin`, the repository's `target/tools`), as
/// an absolute path; `None` after one line on stderr when it is missing.
/// Under scripts/test (`AMPYGEN_TEST_REQUIRE_GO`), which installs it, a
/// missing plugin fails the test instead: a first `cargo test` on a machine
/// without Go passes, CI never skips.
pub fn go_plugin(test: &str) -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("AMPYGEN_PROTOC_GEN_GO") {
        return Some(PathBuf::from(p));
    }
    let mut dirs: Vec<PathBuf> =
        std::env::var_os("PATH").map(|p| std::env::split_paths(&p).collect()).unwrap_or_default();
    dirs.extend(std::env::var_os("GOPATH").map(|p| PathBuf::from(p).join("bin")));
    dirs.extend(std::env::var_os("HOME").map(|h| PathBuf::from(h).join("go/bin")));
    dirs.push(PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/tools"));
    let found = dirs.into_iter().map(|d| d.join("protoc-gen-go")).find(|p| p.is_file());
    if found.is_none() {
        assert!(
            std::env::var_os("AMPYGEN_TEST_REQUIRE_GO").is_none(),
            "{test}: protoc-gen-go is not installed ({GO_PLUGIN_INSTALL})"
        );
        // Past the test harness's capture: the skip shows in a plain `cargo test`.
        let _ = std::io::Write::write_all(
            &mut std::io::stderr(),
            format!("skipping the Go part of {test}: protoc-gen-go is not installed ({GO_PLUGIN_INSTALL})\n")
                .as_bytes(),
        );
    }
    found
}
