//! `check` refuses every registry that `generate` refuses, with the same
//! diagnostics at the same places, and as bad input (exit 2), so a CI that
//! runs only `check` cannot pass a registry that cannot be generated. The
//! cases cover each backend's own refusals: Go identifiers and `targets.go`
//! (found without protoc-gen-go), Python names and keywords, Rust name
//! collisions and shared payload versions.

mod common;

use std::collections::BTreeSet;
use std::path::Path;

use common::{ampygen, default_layout, scratch, snapshot_tree};

/// `file:line:col: error[code]` of every error in `--diagnostics short` output.
fn errors(stderr: &[u8]) -> BTreeSet<String> {
    String::from_utf8_lossy(stderr)
        .lines()
        .filter_map(|l| {
            let end = l.find("]: ")?;
            let head = &l[..=end];
            head.contains(": error[").then(|| head.to_owned())
        })
        .collect()
}

fn run(dir: &Path, registry: &str, args: &[&str]) -> (Option<i32>, BTreeSet<String>) {
    let out = ampygen(dir).args(["--diagnostics", "short", "--registry", registry]).args(args).output().expect("run");
    (out.status.code(), errors(&out.stderr))
}

/// `check` exits 2 and reports every error `generate --lang LANG` reports
/// (for the languages that need no external tool), plus `expect`.
/// `watch` is the tree that must not change.
fn assert_check_refuses(dir: &Path, watch: &Path, registry: &str, expect: &[(&str, &str)]) {
    let before = snapshot_tree(watch);
    let (code, check) = run(dir, registry, &["check"]);
    assert_eq!(code, Some(2), "{registry}: check exit; reported {check:#?}");
    for (code, at) in expect {
        assert!(
            check.iter().any(|e| e.starts_with(at) && e.contains(code)),
            "{registry}: no {code} at {at} in {check:#?}"
        );
    }
    for lang in ["rust", "python"] {
        let out = scratch();
        let (code, generate) =
            run(dir, registry, &["generate", "--lang", lang, "--out", &out.path().display().to_string()]);
        if code == Some(2) {
            let missing: Vec<_> = generate.difference(&check).collect();
            assert!(missing.is_empty(), "{registry}: generate --lang {lang} refuses with {missing:#?}, check does not");
        }
    }
    // The JSON report says the same.
    let out = ampygen(dir).args(["--registry", registry, "check", "--format", "json"]).output().expect("run");
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!((out.status.code(), doc["ok"].as_bool()), (Some(2), Some(false)), "{registry}");
    assert_eq!(snapshot_tree(watch), before, "{registry}: check writes nothing");
}

#[test]
fn names_go_cannot_spell_fail_check() {
    let here = Path::new(".");
    // Two envs that become the same Go identifier (and Rust variant).
    assert_check_refuses(
        here,
        Path::new("tests/hostile"),
        "tests/hostile/go/collide.yaml",
        &[
            ("generate::go_name", "tests/hostile/go/collide.yaml:6:17"),
            ("generate::name_collision", "tests/hostile/go/collide.yaml:6:17"),
        ],
    );
}

#[test]
fn names_python_cannot_spell_fail_check() {
    let here = Path::new(".");
    let hostile = Path::new("tests/hostile");
    assert_check_refuses(
        here,
        hostile,
        "tests/hostile/python/keyword-path.yaml",
        &[("generate::python_name", "tests/hostile/python/keyword-path.yaml:9:7")],
    );
    assert_check_refuses(
        here,
        hostile,
        "tests/hostile/python/keyword-message.yaml",
        &[
            ("generate::python_name", "tests/hostile/python/keyword-message.yaml:22:22"),
            ("generate::python_name", "tests/hostile/python/proto/ampy/kwmsg/v1/kw.proto:7:9"),
        ],
    );
}

#[test]
fn go_types_outside_the_module_fail_check() {
    let dir = default_layout();
    let path = dir.path().join("registry/ampy.yaml");
    let text = std::fs::read_to_string(&path).expect("read");
    let from = "    types: ampyfin.dev/ampybus/pb";
    assert!(text.contains(from));
    std::fs::write(&path, text.replacen(from, "    types: ampyfin.dev/other/pb", 1)).expect("write");
    let line = text[..text.find(from).expect("types")].matches('\n').count() + 1;
    let at = format!("registry/ampy.yaml:{line}:12");
    assert_check_refuses(dir.path(), dir.path(), "registry/ampy.yaml", &[("generate::go_types", &at)]);
}

#[test]
fn shared_payload_versions_fail_check() {
    let dir = default_layout();
    let path = dir.path().join("registry/ampy.yaml");
    let text = std::fs::read_to_string(&path).expect("read");
    // fx.v1.rates and fx.v1.pair carry the same payload: one Rust `Schema`
    // impl, so one schema_version.
    let from = "payload: ampy.fx.v1.FxRate\n            schema_version: 1.0.0";
    let at = text.match_indices(from).nth(1).expect("two fx topics").0;
    let to = from.replacen("1.0.0", "1.0.1", 1);
    std::fs::write(&path, format!("{}{to}{}", &text[..at], &text[at + from.len()..])).expect("write");
    let line = text[..at].matches('\n').count() + 2;
    let at = format!("registry/ampy.yaml:{line}:29");
    assert_check_refuses(dir.path(), dir.path(), "registry/ampy.yaml", &[("generate::shared_payload_version", &at)]);
}
