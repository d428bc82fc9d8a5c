//! `check --against GIT_REF` in repositories built by the test: history
//! read through git without a checkout, a shallow clone that lacks the
//! revision, and an accepted break that passes until the change differs.

mod common;

use std::path::Path;
use std::process::Command;

use common::{ampygen, default_layout};
use serde_json::Value;

const B: &str = "proto/ampy/bars/v1/bars.proto";
const R: &str = "registry/ampy.yaml";

fn git(dir: &Path, args: &[&str]) -> String {
    let out = Command::new("git")
        .args([
            "-c",
            "user.name=ampygen-test",
            "-c",
            "user.email=test@example.invalid",
            "-c",
            "init.defaultBranch=main",
        ])
        .args(["-c", "commit.gpgsign=false", "-c", "protocol.file.allow=always"])
        .args(args)
        .current_dir(dir)
        .output()
        .expect("git runs");
    assert!(out.status.success(), "git {args:?}: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn edit(dir: &Path, file: &str, from: &str, to: &str) {
    let path = dir.join(file);
    let text = std::fs::read_to_string(&path).expect("read");
    assert!(text.contains(from), "`{from}` not in {file}");
    std::fs::write(path, text.replacen(from, to, 1)).expect("write");
}

fn commit(dir: &Path, message: &str) {
    git(dir, &["add", "-A"]);
    git(dir, &["commit", "-q", "-m", message]);
}

/// A repository with the default layout committed.
fn repo() -> tempfile::TempDir {
    let dir = default_layout();
    git(dir.path(), &["init", "-q"]);
    commit(dir.path(), "base");
    dir
}

fn json(dir: &Path, args: &[&str]) -> (i32, Value) {
    let out = ampygen(dir).args(args).args(["--format", "json"]).output().expect("run");
    let doc = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(&out.stderr)));
    (out.status.code().unwrap_or(-1), doc)
}

fn codes(doc: &Value) -> Vec<String> {
    doc["findings"].as_array().expect("findings").iter().map(|f| f["code"].as_str().unwrap_or("").to_owned()).collect()
}

#[test]
fn against_head_1_classifies_history_without_a_checkout() {
    let dir = repo();
    let root = dir.path();
    // A compatible, properly versioned and locked change.
    edit(root, B, "  bool is_final = 17;\n", "  bool is_final = 17;\n  string venue = 18;\n");
    edit(
        root,
        R,
        "payload: ampy.bars.v1.BarBatch\n            schema_version: 1.0.0",
        "payload: ampy.bars.v1.BarBatch\n            schema_version: 1.1.0",
    );
    ampygen(root).arg("lock").assert().success();
    commit(root, "add venue");
    let out = ampygen(root).args(["check", "--against", "HEAD~1"]).output().expect("run");
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(String::from_utf8_lossy(&out.stdout).contains("no breaking change against `HEAD~1`"));
    let (code, doc) = json(root, &["check", "--against", "HEAD~1"]);
    assert_eq!(code, 0);
    assert_eq!(doc["baseline"]["revision"], "HEAD~1");
    assert!(codes(&doc).contains(&"compat::compatible".to_owned()), "{doc}");

    // A break that bypassed the lock gate (the lock was deleted and
    // rewritten): the lock alone no longer sees it, the history does.
    edit(root, B, "int64 volume = 10;", "double volume = 10;");
    std::fs::remove_file(root.join("registry/ampy.lock.json")).expect("rm");
    ampygen(root).arg("lock").assert().success();
    commit(root, "sneak a break in");
    ampygen(root).arg("check").assert().success();
    let (code, doc) = json(root, &["check", "--against", "HEAD~1"]);
    assert_eq!(code, 1, "{doc}");
    let finding = doc["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .find(|f| f["code"] == "compat::breaking_wire")
        .unwrap_or_else(|| panic!("{doc}"));
    let text = std::fs::read_to_string(root.join(B)).expect("read");
    let line = text.lines().position(|l| l.contains("double volume = 10;")).expect("line") + 1;
    assert_eq!((finding["file"].as_str(), finding["line"].as_u64()), (Some(B), Some(line as u64)));
    assert_eq!(finding["class"], "breaking-wire");
    assert_eq!(finding["topics"], serde_json::json!(["bars.v1.bars"]));
    // The same gate against the first commit sees both changes.
    let (code, doc) = json(root, &["check", "--against", "HEAD~2"]);
    assert_eq!(code, 1);
    assert!(codes(&doc).contains(&"compat::compatible".to_owned()), "{doc}");
}

#[test]
fn shallow_clone_names_the_missing_revision_and_the_fix() {
    let origin = repo();
    edit(origin.path(), B, "// Traded quantity in shares (or contracts) over the window.", "// Shares traded.");
    commit(origin.path(), "comment");
    let work = common::scratch();
    let url = format!("file://{}", origin.path().display());
    git(work.path(), &["clone", "-q", "--depth", "1", &url, "clone"]);
    let clone = work.path().join("clone");
    assert_eq!(git(&clone, &["rev-parse", "--is-shallow-repository"]).trim(), "true");
    let out = ampygen(&clone).args(["check", "--against", "HEAD~1"]).output().expect("run");
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("revision `HEAD~1` is not in this repository"), "{stderr}");
    assert!(stderr.contains("shallow"), "{stderr}");
    assert!(stderr.contains("git fetch --deepen=1") && stderr.contains("fetch-depth: 0"), "{stderr}");
    // JSON output carries the same error.
    let (code, doc) = json(&clone, &["check", "--against", "HEAD~1"]);
    assert_eq!(code, 2);
    assert_eq!(codes(&doc), ["git::missing_revision"]);
    // Deepening by one commit is exactly the documented fix.
    git(&clone, &["fetch", "-q", "--deepen=1"]);
    ampygen(&clone).args(["check", "--against", "HEAD~1"]).assert().success();
    // A revision that does not exist anywhere is not blamed on the clone.
    let out = ampygen(origin.path()).args(["check", "--against", "no-such-branch"]).output().expect("run");
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("revision `no-such-branch` is not in this repository") && !stderr.contains("shallow"));
}

#[test]
fn an_accepted_break_passes_and_fails_again_once_the_change_differs() {
    let dir = repo();
    let root = dir.path();
    edit(root, B, "int64 volume = 10;", "double volume = 10;");
    let (code, doc) = json(root, &["check", "--against", "HEAD"]);
    assert_eq!(code, 1);
    let fp = doc["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .find(|f| f["code"] == "compat::breaking_wire")
        .and_then(|f| f["fingerprint"].as_str())
        .expect("fingerprint")
        .to_owned();
    // The gate refuses to lock the break...
    ampygen(root).arg("lock").assert().code(1);
    // ...until the registry records who accepted exactly this change, and why.
    edit(
        root,
        R,
        "            ordering: bars[*].event_time\n",
        &format!("            ordering: bars[*].event_time\n            accept_breaking:\n              - fingerprint: \"{fp}\"\n                by: ana@ampyfin\n                reason: fractional volume for crypto; consumers upgraded\n"),
    );
    edit(
        root,
        R,
        "payload: ampy.bars.v1.BarBatch\n            schema_version: 1.0.0",
        "payload: ampy.bars.v1.BarBatch\n            schema_version: 1.1.0",
    );
    ampygen(root).arg("lock").assert().success();
    let (code, doc) = json(root, &["check", "--against", "HEAD"]);
    assert_eq!(code, 0, "{doc}");
    let accepted = doc["findings"].as_array().expect("findings").iter().find(|f| f["code"] == "compat::accepted");
    let accepted = accepted.unwrap_or_else(|| panic!("{doc}"));
    assert_eq!((accepted["severity"].as_str(), accepted["fingerprint"].as_str()), (Some("note"), Some(fp.as_str())));
    assert!(accepted["notes"].to_string().contains("accepted by ana@ampyfin"), "{accepted}");

    // A different change under the same acceptance: the break fails again
    // and the acceptance is reported stale.
    edit(root, B, "double volume = 10;", "float volume = 10;");
    let (code, doc) = json(root, &["check", "--against", "HEAD"]);
    assert_eq!(code, 1);
    let found = codes(&doc);
    assert!(found.contains(&"compat::breaking_wire".to_owned()), "{doc}");
    assert!(found.contains(&"compat::stale_acceptance".to_owned()), "{doc}");
    let stale = doc["findings"].as_array().expect("findings").iter().find(|f| f["code"] == "compat::stale_acceptance");
    let registry = std::fs::read_to_string(root.join(R)).expect("read");
    let line = registry.lines().position(|l| l.contains(&fp)).expect("line") + 1;
    assert_eq!(stale.and_then(|s| s["line"].as_u64()), Some(line as u64));
    ampygen(root).arg("lock").assert().code(1);
}

#[test]
fn github_format_annotates_the_proto_line() {
    let dir = default_layout();
    let root = dir.path();
    edit(root, B, "int64 volume = 10;", "double volume = 10;");
    let out = ampygen(root).args(["check", "--format", "github"]).output().expect("run");
    assert_eq!(out.status.code(), Some(1));
    let stdout = String::from_utf8_lossy(&out.stdout);
    let text = std::fs::read_to_string(root.join(B)).expect("read");
    let line = text.lines().position(|l| l.contains("double volume = 10;")).expect("line") + 1;
    let want = format!(
        "::error file={B},line={line},col=3,title=compat%3A%3Abreaking_wire::breaking change (wire): field `volume`"
    );
    assert!(stdout.lines().any(|l| l.starts_with(&want)), "{stdout}");
    assert!(stdout.lines().all(|l| l.starts_with("::")), "one command per line: {stdout}");
    assert!(stdout.contains("::error file=registry/ampy.yaml,line="), "{stdout}");
}
