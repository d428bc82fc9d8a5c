//! The malformed-registry corpus: every file under tests/registries/bad is a
//! registry with known mistakes. Its `# expect: CODE FILE:LINE:COL` header
//! lines are the complete set of errors it must produce. For each case we
//! run the real binary (`check`, then `lock`) in a scratch copy of the repo
//! layout and assert exit code 2, exactly those errors, and that not a byte
//! on disk changed.

mod common;

use std::collections::BTreeSet;
use std::path::Path;

use common::{ampygen, copy_dir, scratch, snapshot_tree};

const CORPUS: &str = "tests/registries/bad";

fn expectations(text: &str) -> BTreeSet<String> {
    text.lines()
        .take_while(|l| l.starts_with('#'))
        .filter_map(|l| l.strip_prefix("# expect: "))
        .map(|e| {
            let (code, at) = e.split_once(' ').expect("`# expect: CODE FILE:LINE:COL`");
            format!("{at}: error[{code}]")
        })
        .collect()
}

/// `file:line:col: error[code]` of every error line in `--diagnostics short` output.
fn reported(stderr: &str) -> BTreeSet<String> {
    stderr
        .lines()
        .filter_map(|l| {
            let end = l.find("]: ")?;
            let head = &l[..=end];
            head.contains(": error[").then(|| head.to_owned())
        })
        .collect()
}

fn cases() -> Vec<std::path::PathBuf> {
    let mut cases: Vec<_> = std::fs::read_dir(CORPUS)
        .expect("corpus directory")
        .map(|e| e.expect("dir entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "yaml"))
        .collect();
    cases.sort();
    cases
}

#[test]
fn corpus_has_at_least_25_cases() {
    assert!(cases().len() >= 25, "only {} malformed registries", cases().len());
}

#[test]
fn every_malformed_registry_reports_exactly_its_errors_and_writes_nothing() {
    let mut failures = Vec::new();
    for case in cases() {
        let text = std::fs::read_to_string(&case).expect("read case");
        let expected = expectations(&text);
        assert!(!expected.is_empty(), "{}: no `# expect:` lines", case.display());

        let dir = scratch();
        copy_dir(Path::new("proto"), &dir.path().join("proto"));
        copy_dir(&Path::new(CORPUS).join("proto"), &dir.path().join("proto"));
        std::fs::create_dir_all(dir.path().join("registry")).expect("mkdir");
        std::fs::write(dir.path().join("registry/ampy.yaml"), &text).expect("write case");
        let before = snapshot_tree(dir.path());

        for command in ["check", "lock"] {
            let out = ampygen(dir.path()).args(["--diagnostics", "short", command]).output().expect("run ampygen");
            let stderr = String::from_utf8_lossy(&out.stderr);
            let got = reported(&stderr);
            let name = case.file_name().unwrap_or_default().to_string_lossy();
            if out.status.code() != Some(2) {
                failures.push(format!("{name} ({command}): exit {:?}, want 2\n{stderr}", out.status.code()));
            }
            if got != expected {
                failures.push(format!("{name} ({command}):\n  want {expected:?}\n  got  {got:?}\n{stderr}"));
            }
            if stderr.contains("panicked") {
                failures.push(format!("{name} ({command}): panicked\n{stderr}"));
            }
            if !stderr.lines().any(|l| l.trim_start().starts_with("help: ")) {
                failures.push(format!("{name} ({command}): no hint\n{stderr}"));
            }
            if snapshot_tree(dir.path()) != before {
                failures.push(format!("{name} ({command}): files were written or changed"));
            }
        }
    }
    assert!(failures.is_empty(), "{} failure(s):\n\n{}", failures.len(), failures.join("\n\n"));
}

#[test]
fn the_corpus_base_is_valid_so_each_case_tests_only_its_own_mistake() {
    // Case 01 adds one unknown key and nothing else; removing that line
    // must give a registry that loads (lock --dry-run exits 0).
    let text = std::fs::read_to_string(Path::new(CORPUS).join("01-unknown-top-level-key.yaml")).expect("read");
    let fixed: String = text.lines().filter(|l| !l.starts_with("colour:")).map(|l| format!("{l}\n")).collect();
    let dir = scratch();
    copy_dir(Path::new("proto"), &dir.path().join("proto"));
    std::fs::create_dir_all(dir.path().join("registry")).expect("mkdir");
    std::fs::write(dir.path().join("registry/ampy.yaml"), fixed).expect("write");
    let out = ampygen(dir.path()).args(["lock", "--dry-run"]).output().expect("run");
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
}

#[test]
fn human_diagnostics_show_the_snippet_and_the_fix() {
    let dir = scratch();
    copy_dir(Path::new("proto"), &dir.path().join("proto"));
    std::fs::create_dir_all(dir.path().join("registry")).expect("mkdir");
    let text = std::fs::read_to_string(Path::new(CORPUS).join("02-misspelt-topic-key.yaml")).expect("read");
    std::fs::write(dir.path().join("registry/ampy.yaml"), text).expect("write");
    let out = ampygen(dir.path()).env("NO_COLOR", "1").arg("check").output().expect("run");
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    insta::assert_snapshot!("misspelt_topic_key_human", stderr);
}
