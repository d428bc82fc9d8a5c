//! `ampygen generate`: determinism, atomicity and provenance of the files
//! it writes, through the real binary.

mod common;

use std::path::Path;

use common::{ampygen, default_layout, snapshot_tree};
use predicates::str::contains;

#[test]
fn rust_output_is_byte_identical_across_runs_and_rewrites_nothing() {
    let dir = default_layout();
    ampygen(dir.path()).args(["generate", "--lang", "rust", "--out", "a"]).assert().success();
    ampygen(dir.path()).args(["generate", "--lang", "rust", "--out", "b"]).assert().success();
    let a = snapshot_tree(&dir.path().join("a"));
    assert!(a.len() >= 10, "only {} files", a.len());
    assert_eq!(a, snapshot_tree(&dir.path().join("b")));
    ampygen(dir.path())
        .args(["generate", "--lang", "rust", "--out", "a"])
        .assert()
        .success()
        .stdout(contains("(0 changed)"));
}

#[test]
fn unknown_language_is_usage_error_and_writes_nothing() {
    let dir = default_layout();
    ampygen(dir.path())
        .args(["generate", "--lang", "java", "--out", "out"])
        .assert()
        .code(2)
        .stderr(contains("unknown language `java`"));
    assert!(!dir.path().join("out").exists());
}

#[test]
fn bad_registry_writes_nothing() {
    let dir = default_layout();
    let registry = dir.path().join("registry/ampy.yaml");
    let text = std::fs::read_to_string(&registry).unwrap().replace("namespace: ampy", "namespace: Ampy");
    std::fs::write(&registry, text).unwrap();
    ampygen(dir.path())
        .args(["--diagnostics", "short", "generate", "--lang", "rust", "--out", "out"])
        .assert()
        .code(2)
        .stderr(contains("registry/ampy.yaml:"));
    assert!(!dir.path().join("out").exists());
}

/// One failing language means no language is written: `--lang all`
/// stages everything in memory first.
#[test]
fn a_failing_language_leaves_the_whole_tree_untouched() {
    let dir = default_layout();
    std::fs::create_dir_all(dir.path().join("out/rust")).unwrap();
    std::fs::write(dir.path().join("out/rust/keep.txt"), "old").unwrap();
    let before = snapshot_tree(&dir.path().join("out"));
    ampygen(dir.path())
        .env("AMPYGEN_PROTOC_GEN_GO", dir.path().join("no-such-plugin"))
        .args(["generate", "--lang", "all", "--out", "out"])
        .assert()
        .code(2)
        .stderr(contains("nothing was written"));
    assert_eq!(before, snapshot_tree(&dir.path().join("out")));
}

/// Every file, in every language, says which generator and registry made it.
#[test]
fn every_generated_file_names_generator_version_and_registry() {
    let dir = default_layout();
    ampygen(dir.path()).args(["generate", "--lang", "all", "--out", "gen"]).assert().success();
    let files = snapshot_tree(&dir.path().join("gen"));
    for lang in ["rust", "go", "python"] {
        assert!(files.keys().any(|p| p.starts_with(lang)), "no {lang} files");
    }
    let stamp = format!("ampygen {}", env!("CARGO_PKG_VERSION"));
    for (path, bytes) in &files {
        let text = String::from_utf8_lossy(bytes);
        let head: String = text.lines().take(8).collect::<Vec<_>>().join("\n");
        let typed_marker = path.file_name().is_some_and(|n| n == "py.typed");
        if typed_marker {
            continue;
        }
        assert!(
            head.contains(&stamp) && head.contains("registry/ampy.yaml"),
            "{} does not name `{stamp}` and the registry in its header:\n{head}",
            Path::new(path).display()
        );
        assert!(!text.contains(&*dir.path().to_string_lossy()), "{} contains an absolute path", path.display());
    }
}
