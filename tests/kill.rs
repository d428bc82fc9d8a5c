//! SIGKILL at every file-system step of `lock` and `generate`, on a
//! deterministic schedule: `AMPYGEN_TEST_KILL_AT_STEP=K` makes the binary
//! kill itself at its K-th step (before each create, half-write, sync,
//! rename and remove), for K = 1, 2, … until a run completes. After each
//! kill, readers see the old or the new registry/lock pair (never a mix)
//! and every generated file is old or new; after a clean rerun, the tree
//! is exactly the new one, with no temporary or journal left.

#![cfg(unix)]

mod common;

use std::collections::BTreeMap;
use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};

use ampygen::output::KILL_AT_STEP_ENV;
use common::{ampygen, default_layout};

/// Every file under `root` by relative path.
fn tree(root: &Path) -> BTreeMap<PathBuf, Vec<u8>> {
    fn walk(dir: &Path, root: &Path, out: &mut BTreeMap<PathBuf, Vec<u8>>) {
        for entry in std::fs::read_dir(dir).expect("read dir") {
            let entry = entry.expect("entry");
            let path = entry.path();
            if entry.file_type().expect("type").is_dir() {
                walk(&path, root, out);
            } else {
                out.insert(path.strip_prefix(root).expect("under").to_path_buf(), std::fs::read(&path).expect("read"));
            }
        }
    }
    let mut out = BTreeMap::new();
    walk(root, root, &mut out);
    out
}

enum Outcome {
    Killed,
    Finished,
}

/// Runs `args` in `dir`, killed at step `k` (none when `None`).
fn run(dir: &Path, args: &[&str], k: Option<u64>) -> Outcome {
    let mut cmd = ampygen(dir);
    cmd.args(args);
    if let Some(k) = k {
        cmd.env(KILL_AT_STEP_ENV, k.to_string());
    }
    let out = cmd.output().expect("run ampygen");
    match (out.status.code(), out.status.signal()) {
        (Some(0), _) => Outcome::Finished,
        (None, Some(9)) => Outcome::Killed,
        other => panic!("{args:?} at step {k:?}: {other:?}\n{}", String::from_utf8_lossy(&out.stderr)),
    }
}

/// What `check`, `hash` and the gate see: the registry and lock file as
/// ampygen's readers read them (through a committed journal).
fn visible_pair(dir: &Path) -> (Vec<u8>, Option<Vec<u8>>) {
    let reg = dir.join("registry/ampy.yaml");
    let lock = dir.join("registry/ampy.lock.json");
    (ampygen::commit::read(&reg).expect("registry readable"), ampygen::commit::read(&lock).ok())
}

/// A layout whose `lock` changes both files: fx.v1 gains a field and its
/// schema_version is bumped in both its topics, so the registry's hash and the lock move.
/// With `crlf` the registry uses CRLF line endings throughout.
fn lock_layout(crlf: bool, fresh_lock: bool) -> tempfile::TempDir {
    let dir = default_layout();
    let proto = dir.path().join("proto/ampy/fx/v1/fx.proto");
    let text = std::fs::read_to_string(&proto).unwrap();
    let text =
        text.replace("  ampy.common.v1.Meta meta = 9;\n", "  ampy.common.v1.Meta meta = 9;\n  string venue = 10;\n");
    std::fs::write(&proto, text).unwrap();
    let reg = dir.path().join("registry/ampy.yaml");
    let mut text = std::fs::read_to_string(&reg).unwrap();
    // Both topics carrying FxRate.
    let topic = "payload: ampy.fx.v1.FxRate\n            schema_version: 1.0.0";
    assert_eq!(text.matches(topic).count(), 2);
    text = text.replace(topic, "payload: ampy.fx.v1.FxRate\n            schema_version: 1.1.0");
    if fresh_lock {
        // No lock yet and no hashes: lock inserts every schema_hash line.
        text = text.lines().filter(|l| !l.trim_start().starts_with("schema_hash:")).collect::<Vec<_>>().join("\n");
        text.push('\n');
        std::fs::remove_file(dir.path().join("registry/ampy.lock.json")).unwrap();
    }
    if crlf {
        text = text.replace('\n', "\r\n");
    }
    std::fs::write(&reg, text).unwrap();
    dir
}

/// The pair a clean `lock` produces from `layout`.
fn expected_pair(layout: &dyn Fn() -> tempfile::TempDir) -> (Vec<u8>, Option<Vec<u8>>) {
    let dir = layout();
    assert!(matches!(run(dir.path(), &["lock"], None), Outcome::Finished));
    visible_pair(dir.path())
}

/// Kills `lock` at every step; for the first `nested` kill points also
/// kills the recovering rerun at every one of its steps. Returns kills.
fn kill_lock(layout: &dyn Fn() -> tempfile::TempDir, nested: u64) -> usize {
    let old = {
        let d = layout();
        visible_pair(d.path())
    };
    let new = expected_pair(layout);
    assert_ne!(old, new, "the scenario must change the pair");
    let new_files = [PathBuf::from("ampy.lock.json"), PathBuf::from("ampy.yaml")];
    let mut kills = 0;
    for k1 in 1.. {
        let dir = layout();
        let d = dir.path();
        if let Outcome::Finished = run(d, &["lock"], Some(k1)) {
            assert!(k1 > 5, "lock finished after only {k1} steps: the hook is not reached");
            break;
        }
        kills += 1;
        let seen = visible_pair(d);
        assert!(seen == old || seen == new, "kill at step {k1}: a mixed registry/lock pair is visible");
        // The rerun that recovers may itself be killed at any step.
        if k1 <= nested {
            for k2 in 1.. {
                if let Outcome::Finished = run(d, &["lock"], Some(k2)) {
                    break;
                }
                kills += 1;
                let seen = visible_pair(d);
                assert!(seen == old || seen == new, "kill at {k1} then {k2}: a mixed pair is visible");
            }
        }
        assert!(matches!(run(d, &["lock"], None), Outcome::Finished));
        let files = tree(&d.join("registry"));
        let names: Vec<_> = files.keys().cloned().collect();
        assert_eq!(names, new_files, "kill at {k1}: leftovers after the rerun");
        assert_eq!(files[Path::new("ampy.yaml")], new.0, "kill at {k1}");
        assert_eq!(Some(&files[Path::new("ampy.lock.json")]), new.1.as_ref(), "kill at {k1}");
    }
    kills
}

#[test]
fn lock_survives_a_kill_at_every_step() {
    let mut total = 0;
    for crlf in [false, true] {
        let layout = move || lock_layout(crlf, false);
        let kills = kill_lock(&layout, if crlf { 0 } else { u64::MAX });
        eprintln!("lock (bump, crlf={crlf}): {kills} kills");
        total += kills;
    }
    let layout = || lock_layout(false, true);
    let kills = kill_lock(&layout, 0);
    eprintln!("lock (first lock): {kills} kills");
    total += kills;
    eprintln!("lock: {total} kills in total");
    assert!(total >= 100, "only {total} kills");
}

#[test]
fn lock_keeps_crlf() {
    let dir = lock_layout(true, true);
    assert!(matches!(run(dir.path(), &["lock"], None), Outcome::Finished));
    let text = std::fs::read(dir.path().join("registry/ampy.yaml")).unwrap();
    let bare = text.iter().enumerate().filter(|(i, b)| **b == b'\n' && (*i == 0 || text[i - 1] != b'\r')).count();
    assert_eq!(bare, 0, "lock inserted bare LF line endings into a CRLF registry");
    assert!(String::from_utf8_lossy(&text).contains("schema_hash: \"sha256:"));
    assert!(matches!(run(dir.path(), &["check"], None), Outcome::Finished));
}

/// `out` holds an older generation (every generated file one line longer,
/// as an older ampygen might have written it, listed in its manifest), a
/// stale generated file and a hand-written one.
fn generate_layout(lang: &str) -> (tempfile::TempDir, BTreeMap<PathBuf, Vec<u8>>) {
    let dir = default_layout();
    assert!(matches!(run(dir.path(), &["generate", "--lang", lang, "--out", "out"], None), Outcome::Finished));
    let out = dir.path().join("out");
    let new = tree(&out);
    let mut old = ampygen::generate::Files::new();
    for (rel, bytes) in &new {
        let rel = rel.to_string_lossy().into_owned();
        if rel == ".ampygen-manifest" {
            continue;
        }
        let mut text = String::from_utf8(bytes.clone()).unwrap();
        if !text.is_empty() && rel != "py.typed" {
            text.push_str(if rel.ends_with(".rs") { "// older\n" } else { "# older\n" });
        }
        old.insert(rel, text);
    }
    let header = if lang == "rust" {
        "// @generated by ampygen 0.0.9 from registry/ampy.yaml. Do not edit; change the registry or the protos and rebuild.\n"
    } else {
        "# Code generated by ampygen 0.0.9 from registry/ampy.yaml. DO NOT EDIT.\n"
    };
    old.insert("gone/removed.txt".into(), header.to_owned());
    for (rel, text) in &old {
        let path = out.join(rel);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }
    std::fs::write(out.join(".ampygen-manifest"), ampygen::ownership::Manifest::of(&old).render()).unwrap();
    std::fs::write(out.join("MINE.md"), "hand-written\n").unwrap();
    let mut want = new;
    want.insert("MINE.md".into(), b"hand-written\n".to_vec());
    (dir, want)
}

/// Runs `generate` (`args`) on fresh copies of `template`, killed at steps
/// 1, 1 + stride, 1 + 2 stride, … until a run completes, which must leave
/// `want` in `out`. After each kill, `seen(k, out)` checks what a reader
/// finds; then a clean rerun must leave exactly `want`. Returns the kills.
fn kill_each_step(
    template: &Path,
    args: &[&str],
    stride: u64,
    want: &BTreeMap<PathBuf, Vec<u8>>,
    mut seen: impl FnMut(u64, &Path),
) -> usize {
    let mut kills = 0;
    for k in (1..).step_by(stride as usize) {
        let dir = common::scratch();
        common::copy_dir(template, dir.path());
        let out = dir.path().join("out");
        if let Outcome::Finished = run(dir.path(), args, Some(k)) {
            assert!(k > 10, "generate finished after only {k} steps");
            assert_eq!(&tree(&out), want);
            break;
        }
        kills += 1;
        seen(k, &out);
        assert!(matches!(run(dir.path(), args, None), Outcome::Finished));
        assert_eq!(&tree(&out), want, "kill at {k}: the rerun must leave exactly the new tree, no temporaries");
    }
    kills
}

/// Kills `generate` at every `stride`-th step over an older generation.
/// Returns the kills.
fn kill_generate(lang: &str, stride: u64) -> usize {
    let args = ["generate", "--lang", lang, "--out", "out"];
    let (template, want) = generate_layout(lang);
    let old = tree(&template.path().join("out"));
    kill_each_step(template.path(), &args, stride, &want, |k, out| {
        for (rel, bytes) in tree(out) {
            let name = rel.file_name().unwrap().to_string_lossy().into_owned();
            if ampygen::output::is_temp_name(&name, None) {
                continue;
            }
            if name == ".ampygen-manifest" {
                // Old, new, or the interim one listing both.
                let text = String::from_utf8(bytes).expect("manifest is UTF-8");
                assert!(ampygen::ownership::Manifest::parse(&text).is_ok(), "kill at {k}: damaged manifest");
                continue;
            }
            assert!(
                old.get(&rel) == Some(&bytes) || want.get(&rel) == Some(&bytes),
                "kill at {k}: {} is neither old nor new",
                rel.display()
            );
        }
        assert_eq!(tree(out).get(Path::new("MINE.md")).map(Vec::as_slice), Some(&b"hand-written\n"[..]));
    })
}

/// Kills `generate --lang python` at every `stride`-th step while it fills
/// new directories: into an empty `out`, and into an `out` whose payload
/// modules (`ampybus/pb`) were deleted, so that run also replaces files
/// in existing directories. A new directory is built under a temporary
/// name and renamed whole, so after any kill every generated path holds
/// nothing or its complete new content: no directory is half filled.
/// Returns the kills.
fn kill_generate_new_dirs(stride: u64) -> usize {
    let args = ["generate", "--lang", "python", "--out", "out"];
    let done = default_layout();
    assert!(matches!(run(done.path(), &args, None), Outcome::Finished));
    let want = tree(&done.path().join("out"));
    let mut kills = 0;
    for partial in [false, true] {
        let template = default_layout();
        if partial {
            common::copy_dir(&done.path().join("out"), &template.path().join("out"));
            std::fs::remove_dir_all(template.path().join("out/ampybus/pb")).expect("remove pb");
        }
        let before = if partial { tree(&template.path().join("out")) } else { BTreeMap::new() };
        kills += kill_each_step(template.path(), &args, stride, &want, |k, out| {
            let seen = if out.exists() { tree(out) } else { BTreeMap::new() };
            let mut new_dirs = std::collections::BTreeSet::new();
            for (rel, bytes) in seen {
                // Temporaries, and files inside a temporary directory, are
                // not visible yet.
                if rel.iter().any(|p| ampygen::output::is_temp_name(&p.to_string_lossy(), None))
                    || rel == Path::new(".ampygen-manifest")
                {
                    continue;
                }
                assert!(
                    want.get(&rel) == Some(&bytes) || before.get(&rel) == Some(&bytes),
                    "kill at {k}: {} is neither old nor new",
                    rel.display()
                );
                // The topmost directory of its path that did not exist.
                let existed = |d: &Path| d.as_os_str().is_empty() || before.keys().any(|r| r.starts_with(d));
                if let Some(d) = rel.ancestors().skip(1).filter(|d| !existed(d)).last() {
                    new_dirs.insert(d.to_path_buf());
                }
            }
            // A directory that appeared holds every file it will hold.
            for d in new_dirs {
                let now = tree(&out.join(&d)).len();
                let total = want.keys().filter(|r| r.starts_with(&d)).count();
                assert_eq!(now, total, "kill at {k}: {} is only partly filled", d.display());
            }
        });
    }
    kills
}

#[test]
fn generate_into_new_directories_survives_a_kill_at_every_step() {
    let kills = kill_generate_new_dirs(3);
    eprintln!("generate into new directories: {kills} kills");
    assert!(kills >= 50, "only {kills} kills");
}

#[test]
fn generate_survives_a_kill_at_every_step() {
    // Every step for Rust (16 files); every 5th for Python (70 files),
    // whose steps are the same per file.
    let rust = kill_generate("rust", 1);
    let python = kill_generate("python", 5);
    eprintln!("generate: {rust} kills (rust), {python} kills (python)");
    assert!(rust + python >= 100, "only {} kills", rust + python);
}
