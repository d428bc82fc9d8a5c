//! Lock format 5 (docs/registry.md, "The lock file"): what it leaves out
//! comes back exactly, format-4 locks are read and migrated by one
//! `ampygen lock`, the gate classifies the same changes against either
//! format, and the lock got smaller.
//!
//! `tests/lock-format/v4/` holds the committed locks as the format-4
//! writer left them (the last commit before format 5), for the trees they
//! were written for: the default registry, `tests/hostile` and
//! `tests/package-check`. No build writes format 4 any more, so they
//! cannot be regenerated: when one of those trees changes, the tests below
//! that pair it with its format-4 lock say so, and the pairing has to move
//! to a frozen copy of the tree.

mod common;

use std::path::{Path, PathBuf};

use ampygen::lock::{lock_path, Lockfile, LOCK_FORMAT};
use common::{ampygen, copy_dir, default_layout, scratch};

/// Each committed registry with its lock, and its format-4 lock.
const COMMITTED: &[(&str, &str)] = &[
    ("registry/ampy.yaml", "tests/lock-format/v4/ampy.lock.json"),
    ("tests/hostile/hostile.yaml", "tests/lock-format/v4/hostile.lock.json"),
    ("tests/package-check/registry/acme.yaml", "tests/lock-format/v4/acme.lock.json"),
];

fn read(path: &Path) -> Lockfile {
    Lockfile::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display())).expect("lock exists")
}

/// Every registry of the repository that loads (the bad-registry corpus
/// aside), plus a synthetic one from benches/scale/synth.py.
fn fixtures(synth: &Path) -> Vec<PathBuf> {
    fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
        for entry in std::fs::read_dir(dir).expect("read dir") {
            let path = entry.expect("entry").path();
            let name = path.file_name().and_then(|n| n.to_str()).unwrap_or_default();
            if path.is_dir() && !matches!(name, "target" | "bad" | "gen" | ".git" | "node_modules") {
                walk(&path, out);
            } else if name.ends_with(".yaml")
                && std::fs::read_to_string(&path).is_ok_and(|t| t.lines().any(|l| l == "domains:"))
            {
                out.push(path);
            }
        }
    }
    let mut out = Vec::new();
    for dir in ["registry", "tests", "codegen/tests", "macros/tests", "examples"] {
        if Path::new(dir).is_dir() {
            walk(Path::new(dir), &mut out);
        }
    }
    let status = std::process::Command::new("python3")
        .args(["benches/scale/synth.py", "40"])
        .arg(synth)
        .status()
        .expect("python3 runs benches/scale/synth.py");
    assert!(status.success(), "synth.py failed");
    // Its include root `../proto` must lie in the tree's repository.
    std::fs::create_dir_all(synth.join(".git")).expect("mkdir");
    out.push(synth.join("registry/synth.yaml"));
    out.sort();
    out
}

#[test]
fn every_fixture_round_trips() {
    let dir = scratch();
    let mut loaded = Vec::new();
    for registry in fixtures(&dir.path().join("synth")) {
        let Ok(project) = ampygen::load(&registry) else { continue };
        let lock = Lockfile::compute(&project);
        let text = lock.render();
        let path = dir.path().join("round.lock.json");
        std::fs::write(&path, &text).expect("write");
        let back = read(&path);
        assert_eq!(back, lock, "{}: read(render(lock)) differs\n{text}", registry.display());
        // Rendering what was read gives the same bytes: the file is stable.
        assert_eq!(back.render(), text, "{}", registry.display());
        // Nothing derivable had to be spelled out for real registries.
        let doc: serde_json::Value = serde_json::from_str(&text).expect("json");
        for (name, entry) in doc["schemas"].as_object().expect("schemas") {
            assert!(entry.get("canonical").is_none(), "{}: `{name}` written inline", registry.display());
        }
        for line in doc["blocks"].as_array().expect("blocks").iter().filter_map(|l| l.as_str()) {
            assert!(!line.starts_with(' '), "{}: block line {line:?} written verbatim", registry.display());
        }
        loaded.push((registry, lock.schemas.len()));
    }
    let schemas: usize = loaded.iter().map(|(_, n)| n).sum();
    assert!(loaded.len() >= 8 && schemas >= 60, "too few fixtures load: {loaded:?}");
}

#[test]
fn committed_locks_are_format_5_and_hold_what_format_4_held() {
    for (registry, v4) in COMMITTED {
        let registry = Path::new(registry);
        let (old, new) = (read(Path::new(v4)), read(&lock_path(registry)));
        assert_eq!((old.format, new.format), (4, LOCK_FORMAT), "{}", registry.display());
        assert_eq!(
            (&old.namespace, &old.envs, &old.schemas, &old.topics),
            (&new.namespace, &new.envs, &new.schemas, &new.topics),
            "{}: the format-4 lock no longer describes this tree (see this file's header)",
            registry.display()
        );
        // And the committed format-5 lock is what this build writes.
        let project = ampygen::load(registry).expect("loads");
        let text = std::fs::read_to_string(lock_path(registry)).expect("read");
        assert_eq!(Lockfile::compute(&project).render(), text, "{}: run `ampygen lock`", registry.display());
    }
}

/// A copy of the tree of `registry` with its format-4 lock in place of the
/// committed one: the default layout, or the registry's directory (which
/// holds its protos).
fn tree_with_v4(registry: &str, v4: &str) -> (tempfile::TempDir, PathBuf) {
    let (dir, reg) = if *registry == *COMMITTED[0].0 {
        let dir = default_layout();
        let reg = dir.path().join(registry);
        (dir, reg)
    } else {
        let dir = scratch();
        let path = Path::new(registry);
        copy_dir(path.parent().expect("dir"), &dir.path().join("tree"));
        let reg = dir.path().join("tree").join(path.file_name().expect("file"));
        (dir, reg)
    };
    std::fs::copy(v4, lock_path(&reg)).expect("copy v4 lock");
    (dir, reg)
}

#[test]
fn a_format_4_lock_is_stale_and_one_lock_migrates_it() {
    for (registry, v4) in COMMITTED {
        let (dir, reg) = tree_with_v4(registry, v4);
        let root = dir.path();
        let yaml_before = std::fs::read(&reg).expect("read");
        let out = ampygen(root).arg("--registry").arg(&reg).arg("check").output().expect("run");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{registry}: {stderr}");
        assert!(stderr.contains("error[check::lock_stale]") || stderr.contains("check::lock_stale"), "{stderr}");
        assert!(stderr.contains("is out of date"), "{stderr}");
        assert!(stderr.contains("differs: lock format 4 (this ampygen writes format 5)"), "{stderr}");
        assert!(stderr.contains("run `ampygen lock`"), "{stderr}");
        // Nothing else is reported: the schemas read from format 4 match.
        assert!(!stderr.contains("hash_mismatch") && !stderr.contains("compat::"), "{registry}: {stderr}");

        let out = ampygen(root).arg("--registry").arg(&reg).arg("lock").output().expect("run");
        assert_eq!(out.status.code(), Some(0), "{registry}: {}", String::from_utf8_lossy(&out.stderr));
        assert_eq!(std::fs::read(&reg).expect("read"), yaml_before, "{registry}: lock touched the registry");
        let migrated = std::fs::read_to_string(lock_path(&reg)).expect("read");
        let committed = std::fs::read_to_string(lock_path(Path::new(registry))).expect("read");
        assert_eq!(migrated, committed, "{registry}: migration differs from the committed lock");
        let out = ampygen(root).arg("--registry").arg(&reg).arg("check").output().expect("run");
        assert_eq!(out.status.code(), Some(0), "{registry}: {}", String::from_utf8_lossy(&out.stderr));
    }
}

/// Edits of the default tree: (name, file, from, to).
const EDITS: &[(&str, &str, &str, &str)] = &[
    ("field removed", "proto/ampy/bars/v1/bars.proto", "  bool is_final = 17;\n", ""),
    (
        "field added",
        "proto/ampy/bars/v1/bars.proto",
        "  bool is_final = 17;\n",
        "  bool is_final = 17;\n  string venue_note = 18;\n",
    ),
    ("enum value removed", "proto/ampy/bars/v1/bars.proto", "  INTERVAL_UNIT_MONTH = 6;\n", ""),
    ("shared message changed", "proto/ampy/common/v1/common.proto", "  int64 scaled = 1;", "  sint64 scaled = 1;"),
    ("tier setting changed", "registry/ampy.yaml", "    max_deliveries: 3\n", "    max_deliveries: 4\n"),
    (
        "subtopic reordered",
        "registry/ampy.yaml",
        "            subtopic: \"{mic}.{symbol}\"\n            payload: ampy.bars.v1.BarBatch",
        "            subtopic: \"{symbol}.{mic}\"\n            payload: ampy.bars.v1.BarBatch",
    ),
    (
        "key format changed",
        "registry/ampy.yaml",
        "              format: \"{mic}.{symbol}\"\n            ordering: bars",
        "              format: \"{symbol}.{mic}\"\n            ordering: bars",
    ),
];

#[test]
fn the_gate_classifies_the_same_changes_against_either_format() {
    let v4 = std::fs::read("tests/lock-format/v4/ampy.lock.json").expect("read");
    for (name, file, from, to) in EDITS {
        let mut reports = Vec::new();
        for lock in [None, Some(&v4)] {
            let dir = default_layout();
            let root = dir.path();
            if let Some(lock) = lock {
                std::fs::write(root.join("registry/ampy.lock.json"), lock).expect("write");
            }
            let path = root.join(file);
            let text = std::fs::read_to_string(&path).expect("read");
            assert!(text.contains(from), "{name}: `{from}` not in {file}");
            std::fs::write(&path, text.replacen(from, to, 1)).expect("write");
            let out = ampygen(root).args(["check", "--format", "json"]).output().expect("run");
            let mut report: serde_json::Value = serde_json::from_slice(&out.stdout)
                .unwrap_or_else(|e| panic!("{name}: not JSON ({e}): {}", String::from_utf8_lossy(&out.stderr)));
            // A stale lock lists what differs from it; against a format-4
            // lock that is the format alone. Everything else must match.
            for f in report["findings"].as_array_mut().expect("findings") {
                if f["code"] == "check::lock_stale" {
                    let notes = f["notes"].as_array_mut().expect("notes");
                    notes.retain(|n| !n.as_str().is_some_and(|n| n.starts_with("differs: ")));
                }
            }
            reports.push((out.status.code(), report));
        }
        let (v5, v4) = (&reports[0], &reports[1]);
        let findings = v5.1["findings"].as_array().expect("findings");
        // Each edit is a change the gate sees (not only a stale lock).
        assert!(
            findings.iter().any(|f| !f["class"].is_null() || f["code"] == "check::hash_mismatch"),
            "{name}: nothing classified: {:#}",
            v5.1
        );
        assert_eq!(v5, v4, "{name}: format 4 and format 5 baselines disagree");
    }
}

#[test]
fn the_lock_got_smaller() {
    let v4 = std::fs::metadata("tests/lock-format/v4/ampy.lock.json").expect("v4").len();
    let v5 = std::fs::metadata("registry/ampy.lock.json").expect("v5").len();
    assert!(v5 * 10 < v4 * 7, "default lock: {v5} bytes in format 5, {v4} in format 4");
    // Issue 15's goal on the synthetic corpus: at most 2 KB per schema.
    let dir = scratch();
    let status = std::process::Command::new("python3")
        .args(["benches/scale/synth.py", "100"])
        .arg(dir.path())
        .status()
        .expect("python3 runs benches/scale/synth.py");
    assert!(status.success());
    let out = ampygen(dir.path()).args(["--registry", "registry/synth.yaml", "lock"]).output().expect("run");
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    let size = std::fs::metadata(dir.path().join("registry/synth.lock.json")).expect("lock").len();
    assert!(size / 100 <= 2048, "synthetic lock: {} bytes per schema", size / 100);
}
