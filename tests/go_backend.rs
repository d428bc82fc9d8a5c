//! The Go backend through the real binary: committed output is fresh,
//! output is byte-identical across runs and free of machine paths, and
//! every failure of the protoc-gen-go subprocess (missing, wrong release,
//! rejecting the request) and every Go name collision is a diagnostic with
//! exit code 2, never broken output.
//!
//! Tests that need the real protoc-gen-go skip with a notice when it is not
//! installed, except under scripts/test (`AMPYGEN_TEST_REQUIRE_GO`), which
//! installs it first.

mod common;

use std::path::{Path, PathBuf};

use common::{ampygen, go_plugin, scratch, snapshot_tree};
use predicates::prelude::*;

/// What ampygen's help tells a user without the plugin to run.
const INSTALL: &str = "go install google.golang.org/protobuf/cmd/protoc-gen-go@v1.36.12";

fn cli() -> assert_cmd::Command {
    ampygen(Path::new("."))
}

/// `ampygen generate --lang go --out OUT` with the given plugin.
fn generate_go(plugin: impl AsRef<std::ffi::OsStr>, out: impl AsRef<std::ffi::OsStr>) -> assert_cmd::Command {
    let mut cmd = cli();
    cmd.env("AMPYGEN_PROTOC_GEN_GO", plugin).args(["generate", "--lang", "go", "--out"]).arg(out);
    cmd
}

#[test]
fn committed_gen_go_is_fresh() {
    let Some(plugin) = go_plugin(module_path!()) else { return };
    cli().env("AMPYGEN_PROTOC_GEN_GO", plugin).args(["check", "--generated", "go=gen/go"]).assert().success();
}

#[test]
fn output_is_deterministic_and_machine_independent() {
    let Some(plugin) = go_plugin(module_path!()) else { return };
    let (a, b) = (scratch(), scratch());
    for dir in [&a, &b] {
        generate_go(&plugin, dir.path()).assert().success();
    }
    let (ta, tb) = (snapshot_tree(a.path()), snapshot_tree(b.path()));
    assert_eq!(ta, tb, "two runs differ");
    assert!(ta.len() > 15, "only {} files", ta.len());
    let home = std::env::var("HOME").unwrap_or_else(|_| "/nonexistent-home".into());
    for (path, bytes) in &ta {
        let text = String::from_utf8_lossy(bytes);
        for needle in [a.path().to_string_lossy().as_ref(), home.as_str(), "/work/", "protoc        v"] {
            assert!(!text.contains(needle), "{} contains `{needle}`", path.display());
        }
        if path.extension().is_some_and(|e| e == "go") {
            let first = text.lines().next().unwrap_or_default();
            assert!(
                first.starts_with("// Code generated") && first.ends_with("DO NOT EDIT."),
                "{}: {first}",
                path.display()
            );
            assert!(text.contains("ampygen "), "{} does not name ampygen", path.display());
        }
    }
}

#[test]
fn a_missing_plugin_is_a_diagnostic_with_the_install_command() {
    let dir = scratch();
    generate_go(dir.path().join("nope"), dir.path().join("out"))
        .assert()
        .code(2)
        .stderr(predicate::str::contains("generate::go_plugin").and(predicate::str::contains(INSTALL)));
    // Nothing on PATH, no Go toolchain, an empty home, and run outside the
    // repository, whose target/tools may hold the pinned plugin.
    let registry = std::fs::canonicalize("registry/ampy.yaml").unwrap();
    cli()
        .current_dir(dir.path())
        .arg("--registry")
        .arg(&registry)
        .env_remove("AMPYGEN_PROTOC_GEN_GO")
        .env("PATH", "")
        .env("HOME", dir.path())
        .env("GOPATH", dir.path())
        .args(["generate", "--lang", "go", "--out"])
        .arg(dir.path().join("out"))
        .assert()
        .code(2)
        .stderr(predicate::str::contains("protoc-gen-go was not found").and(predicate::str::contains(INSTALL)));
    assert!(!dir.path().join("out").exists());
}

/// A stand-in plugin: prints `version` for `--version` and writes
/// `response` (raw CodeGeneratorResponse bytes, as printf escapes) to
/// stdout.
#[cfg(unix)]
fn fake_plugin(dir: &Path, version: &str, response: &str) -> PathBuf {
    use std::os::unix::fs::PermissionsExt;
    let path = dir.join("protoc-gen-go");
    let script = format!(
        "#!/bin/sh\nif [ \"$1\" = --version ]; then echo 'protoc-gen-go {version}'; exit 0; fi\ncat >/dev/null\nprintf '{response}'\n"
    );
    std::fs::write(&path, script).expect("write plugin");
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    path
}

#[cfg(unix)]
#[test]
fn another_plugin_release_is_refused() {
    let dir = scratch();
    let plugin = fake_plugin(dir.path(), "v1.30.0", "");
    generate_go(plugin, dir.path().join("out"))
        .assert()
        .code(2)
        .stderr(predicate::str::contains("protoc-gen-go v1.30.0").and(predicate::str::contains("pins v1.36.12")));
}

#[cfg(unix)]
#[test]
fn a_plugin_error_is_a_diagnostic() {
    let dir = scratch();
    // Field 1 (error), 4 bytes: "boom".
    let plugin = fake_plugin(dir.path(), "v1.36.12", "\\012\\004boom");
    generate_go(plugin, dir.path().join("out"))
        .assert()
        .code(2)
        .stderr(predicate::str::contains("protoc-gen-go rejected the protos: boom"));
    // A response that is not protobuf at all.
    let plugin = fake_plugin(dir.path(), "v1.36.12", "\\377\\377\\377");
    generate_go(plugin, dir.path().join("out"))
        .assert()
        .code(2)
        .stderr(predicate::str::contains("generate::go_plugin").and(predicate::str::contains("does not decode")));
}

#[cfg(unix)]
#[test]
fn a_crashing_plugin_is_a_diagnostic_with_its_stderr() {
    use std::os::unix::fs::PermissionsExt;
    let dir = scratch();
    let plugin = dir.path().join("protoc-gen-go");
    let script = "#!/bin/sh\nif [ \"$1\" = --version ]; then echo 'protoc-gen-go v1.36.12'; exit 0; fi\necho 'panic: out of cheese' >&2\nexit 3\n";
    std::fs::write(&plugin, script).expect("write plugin");
    std::fs::set_permissions(&plugin, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    generate_go(plugin, dir.path().join("out"))
        .assert()
        .code(2)
        .stderr(predicate::str::contains("generate::go_plugin").and(predicate::str::contains("out of cheese")));
    assert!(!dir.path().join("out").exists());
}

#[test]
fn go_name_collisions_point_at_the_registry() {
    let Some(plugin) = go_plugin(module_path!()) else { return };
    let dir = scratch();
    cli()
        .env("AMPYGEN_PROTOC_GEN_GO", plugin)
        .args([
            "--diagnostics",
            "short",
            "--registry",
            "tests/hostile/go/collide.yaml",
            "generate",
            "--lang",
            "go",
            "--out",
        ])
        .arg(dir.path().join("out"))
        .assert()
        .code(2)
        .stderr(
            predicate::str::contains("tests/hostile/go/collide.yaml:6:17")
                .and(predicate::str::contains("generate::go_name"))
                .and(predicate::str::contains("EnvPaperA")),
        );
}

#[test]
fn the_hostile_registry_generates() {
    let Some(plugin) = go_plugin(module_path!()) else { return };
    let dir = scratch();
    cli()
        .env("AMPYGEN_PROTOC_GEN_GO", plugin)
        .args(["--registry", "tests/hostile/hostile.yaml", "generate", "--lang", "go", "--out"])
        .arg(dir.path())
        .assert()
        .success();
    let registry = std::fs::read_to_string(dir.path().join("registry.go")).expect("registry.go");
    // Literals are Go-escaped, never raw: the subtopic with quotes,
    // backslashes, braces and a non-ASCII letter.
    assert!(registry.contains(r#"Subtopic:      "lit\"q\\b'.{match}.x{{y}}ü.$${{a}}","#), "{registry}");
    assert!(registry.contains(r#"func FuncV1TypeSubject(env Env, lenArg string, stringArg string)"#));
}
