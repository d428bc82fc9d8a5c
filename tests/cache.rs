//! The `check` result cache (`AMPYGEN_CACHE_DIR`, src/cache.rs): a warm
//! run gives byte-identical results to a cold one on every fixture, only
//! passing runs are recorded, and a corrupt, foreign or outdated entry is
//! ignored, never trusted.

mod common;

use std::path::{Path, PathBuf};

use common::{ampygen, default_layout, scratch};

/// stdout, stderr and exit code of `check` on `registry` (relative to `dir`).
fn check(dir: &Path, registry: &Path, cache: &Path, format: &str) -> (String, String, i32) {
    let out = ampygen(dir)
        .env("AMPYGEN_CACHE_DIR", cache)
        .arg("--registry")
        .arg(registry)
        .args(["check", "--format", format])
        .output()
        .expect("runs");
    let text = |b: Vec<u8>| String::from_utf8(b).expect("utf-8");
    (text(out.stdout), text(out.stderr), out.status.code().expect("exit code"))
}

fn entries(cache: &Path) -> Vec<PathBuf> {
    let Ok(dir) = std::fs::read_dir(cache) else { return Vec::new() };
    let mut out: Vec<PathBuf> = dir
        .map(|e| e.expect("entry").path())
        .filter(|p| p.file_name().is_some_and(|n| n.to_string_lossy().starts_with("check-")))
        .collect();
    out.sort();
    out
}

/// Rewrites the recorded output of `entry` (with a valid checksum), so
/// that a run which prints "schemas MATCH" provably replayed it. Returns
/// the new inner entry.
fn mark(entry: &Path) -> String {
    let text = std::fs::read_to_string(entry).expect("entry");
    let outer: serde_json::Value = serde_json::from_str(&text).expect("json");
    let inner = outer["entry"].as_str().expect("inner").replace("payload schemas match", "payload schemas MATCH");
    let sum = ampygen::ownership::file_hash(inner.as_bytes());
    std::fs::write(entry, serde_json::json!({ "sum": sum, "entry": &inner }).to_string()).expect("write");
    inner
}

#[test]
fn cold_and_warm_results_are_identical_on_every_fixture() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut registries = vec![PathBuf::from("registry/ampy.yaml"), PathBuf::from("tests/hostile/hostile.yaml")];
    let mut bad: Vec<PathBuf> = std::fs::read_dir(root.join("tests/registries/bad"))
        .expect("fixtures")
        .map(|e| e.expect("entry").path().strip_prefix(root).expect("inside").to_path_buf())
        .filter(|p| p.extension().is_some_and(|e| e == "yaml"))
        .collect();
    bad.sort();
    assert!(bad.len() > 40, "the bad registries are fixtures too");
    registries.extend(bad);
    for format in ["human", "json", "github"] {
        let cache = scratch();
        let mut passing = 0;
        for registry in &registries {
            let cold = check(root, registry, cache.path(), format);
            let warm = check(root, registry, cache.path(), format);
            assert_eq!(cold, warm, "{} --format {format}: cold and warm differ", registry.display());
            passing += usize::from(cold.2 == 0);
        }
        assert_eq!(passing, 2, "the default and the hostile registry pass");
        // Only the passing runs are recorded.
        assert_eq!(entries(cache.path()).len(), passing, "--format {format}");
    }
}

#[test]
fn a_warm_check_replays_and_any_change_or_damage_is_a_miss() {
    let dir = default_layout();
    let cache = scratch();
    let registry = Path::new("registry/ampy.yaml");
    let cold = check(dir.path(), registry, cache.path(), "human");
    assert_eq!(cold.2, 0, "{cold:?}");
    let [entry] = entries(cache.path()).try_into().expect("one entry");

    // A hit prints the recorded output: an entry whose checksum matches is
    // replayed without compiling (shown by rewriting its output).
    let text = std::fs::read_to_string(&entry).expect("entry");
    let inner = mark(&entry);
    assert!(check(dir.path(), registry, cache.path(), "human").0.contains("schemas MATCH"));

    // A corrupt, truncated or foreign entry is ignored and rewritten.
    let damaged = [
        b"not json".to_vec(),
        text.as_bytes()[..text.len() / 2].to_vec(),
        text.replace("ampygen-check-cache 2", "ampygen-check-cache 9").into_bytes(),
        serde_json::json!({ "sum": "sha256:00", "entry": inner }).to_string().into_bytes(),
    ];
    for bytes in damaged {
        std::fs::write(&entry, bytes).expect("write");
        assert_eq!(check(dir.path(), registry, cache.path(), "human"), cold);
        assert_eq!(std::fs::read_to_string(&entry).expect("rewritten"), text);
    }

    // An edited proto is recompiled: the hash mismatch is reported, and the
    // failing run is not recorded (the passing entry stays as it was).
    let bars = dir.path().join("proto/ampy/bars/v1/bars.proto");
    let original = std::fs::read_to_string(&bars).expect("proto");
    std::fs::write(&bars, original.replace("int32 count = 2;", "int64 count = 2;")).expect("edit");
    let edited = check(dir.path(), registry, cache.path(), "human");
    assert_eq!(edited.2, 1, "{edited:?}");
    assert!(edited.1.contains("check::hash_mismatch"), "{}", edited.1);
    assert_eq!(std::fs::read_to_string(&entry).expect("entry"), text);

    // A comment or layout edit declares the same thing: the file is parsed
    // alone and the recorded output replayed (the marker shows it), and
    // the entry now holds the new bytes.
    mark(&entry);
    let marked = std::fs::read_to_string(&entry).expect("entry");
    let relaid = format!("// note\n{}\n", original.replace("int32 count = 2;", "int32   count=2 ; // still int32"));
    std::fs::write(&bars, &relaid).expect("edit");
    assert!(check(dir.path(), registry, cache.path(), "human").0.contains("schemas MATCH"));
    let updated = std::fs::read_to_string(&entry).expect("entry");
    assert_ne!(updated, marked, "the entry records the new bytes");
    assert!(updated.contains(&ampygen::ownership::file_hash(relaid.as_bytes())));
    assert!(check(dir.path(), registry, cache.path(), "human").0.contains("schemas MATCH"));

    // A declaration that changes (here an unused message, which the check
    // still passes) is a miss: the full run prints the real output and
    // records it in place of the marked entry.
    std::fs::write(&bars, format!("{original}\nmessage Unused {{ int32 a = 1; }}\n")).expect("edit");
    assert_eq!(check(dir.path(), registry, cache.path(), "human"), cold);
    assert!(!std::fs::read_to_string(&entry).expect("entry").contains("MATCH"));
    std::fs::write(&bars, &original).expect("restore");
    assert_eq!(check(dir.path(), registry, cache.path(), "human"), cold);

    // An edit that only a full run can judge is a miss: a comment-only
    // file that no longer parses, or brackets past the nesting limit.
    mark(&entry);
    for broken in [format!("{original}\n/* unclosed"), format!("{original}\noption (x) = {};", "{a:".repeat(120))] {
        std::fs::write(&bars, &broken).expect("edit");
        let out = check(dir.path(), registry, cache.path(), "human");
        assert_eq!(out.2, 2, "{out:?}");
        assert!(!out.0.contains("MATCH"), "{out:?}");
    }
    std::fs::write(&bars, &original).expect("restore");
    assert!(check(dir.path(), registry, cache.path(), "human").0.contains("schemas MATCH"));

    // A stale lock is never replayed as passing.
    let lock = dir.path().join("registry/ampy.lock.json");
    let lock_text = std::fs::read_to_string(&lock).expect("lock");
    let stale = lock_text.replace("\"namespace\": \"ampy\"", "\"namespace\": \"ampz\"");
    assert_ne!(stale, lock_text);
    std::fs::write(&lock, stale).expect("edit");
    let out = check(dir.path(), registry, cache.path(), "human");
    assert_eq!(out.2, 1, "{out:?}");
    assert!(out.1.contains("check::lock_stale"), "{}", out.1);

    std::fs::write(&lock, &lock_text).expect("restore");
    assert!(check(dir.path(), registry, cache.path(), "human").0.contains("schemas MATCH"));
}

/// Every proto file under `dir`, recursively.
fn protos(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).expect("read dir") {
        let path = entry.expect("entry").path();
        if path.is_dir() {
            out.extend(protos(&path));
        } else if path.extension().is_some_and(|e| e == "proto") {
            out.push(path);
        }
    }
    out.sort();
    out
}

#[test]
fn a_comment_edit_replays_exactly_what_a_cold_run_prints_on_every_passing_fixture() {
    let hostile = scratch();
    common::copy_dir(Path::new("tests/hostile"), hostile.path());
    let default = default_layout();
    let fixtures = [(default.path(), "registry/ampy.yaml"), (hostile.path(), "hostile.yaml")];
    for (dir, registry) in fixtures {
        let registry = Path::new(registry);
        for format in ["human", "json", "github"] {
            let (warm, marked) = (scratch(), scratch());
            let before = check(dir, registry, warm.path(), format);
            assert_eq!(before.2, 0, "{before:?}");
            check(dir, registry, marked.path(), format);
            let [entry] = entries(marked.path()).try_into().expect("one entry");
            mark(&entry);
            // Every proto file gains a comment and loses its indentation:
            // new bytes, the same declarations.
            let files = protos(dir);
            assert!(!files.is_empty());
            let originals: Vec<String> = files.iter().map(|f| std::fs::read_to_string(f).expect("proto")).collect();
            for (file, text) in files.iter().zip(&originals) {
                let relaid: String = text.lines().map(|l| format!("{}\n", l.trim_start())).collect();
                std::fs::write(file, format!("// relaid\n{relaid}// end\n")).expect("edit");
            }
            let replayed = check(dir, registry, warm.path(), format);
            let cold = check(dir, registry, scratch().path(), format);
            assert_eq!(replayed, cold, "{} --format {format}: replayed and cold differ", registry.display());
            // The replay came from the entry (the marked one shows it).
            let hit = check(dir, registry, marked.path(), format);
            assert!(format != "human" || hit.0.contains("schemas MATCH"), "{hit:?}");
            if format != "human" {
                assert_eq!(hit, cold, "a passing json or github report has no success line");
            }
            for (file, text) in files.iter().zip(&originals) {
                std::fs::write(file, text).expect("restore");
            }
        }
    }
}

#[test]
fn a_pattern_registry_misses_when_a_proto_file_appears_under_its_roots() {
    let dir = default_layout();
    let registry_path = dir.path().join("registry/ampy.yaml");
    let text = std::fs::read_to_string(&registry_path).expect("registry");
    let listed = text.replace("    - ampy/bars/v1/bars.proto\n", "    - ampy/bars/v1/*.proto\n");
    assert_ne!(listed, text);
    std::fs::write(&registry_path, listed).expect("edit");
    let cache = scratch();
    let registry = Path::new("registry/ampy.yaml");
    let cold = check(dir.path(), registry, cache.path(), "human");
    assert_eq!(cold.2, 0, "{cold:?}");
    let [entry] = entries(cache.path()).try_into().expect("one entry");
    mark(&entry);
    assert!(check(dir.path(), registry, cache.path(), "human").0.contains("schemas MATCH"));
    // The pattern now matches a file that does not compile: a cold run
    // fails, and so must this one.
    std::fs::write(dir.path().join("proto/ampy/bars/v1/broken.proto"), "syntax = \"proto3\";\nmessage {").expect("add");
    let out = check(dir.path(), registry, cache.path(), "human");
    assert_eq!(out.2, 2, "{out:?}");
    assert!(!out.0.contains("MATCH"), "{out:?}");
}
