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
    let outer: serde_json::Value = serde_json::from_str(&text).expect("json");
    let inner = outer["entry"].as_str().expect("inner").replace("payload schemas match", "payload schemas MATCH");
    let sum = ampygen::ownership::file_hash(inner.as_bytes());
    std::fs::write(&entry, serde_json::json!({ "sum": sum, "entry": inner }).to_string()).expect("write");
    assert!(check(dir.path(), registry, cache.path(), "human").0.contains("schemas MATCH"));

    // A corrupt, truncated or foreign entry is ignored and rewritten.
    let damaged = [
        b"not json".to_vec(),
        text.as_bytes()[..text.len() / 2].to_vec(),
        text.replace("ampygen-check-cache 1", "ampygen-check-cache 9").into_bytes(),
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

    // A comment-only edit is a miss too (the file's bytes changed), then a
    // hit again once recorded; restoring the file hits the first entry.
    std::fs::write(&bars, format!("{original}// note\n")).expect("edit");
    assert_eq!(check(dir.path(), registry, cache.path(), "human"), cold);
    std::fs::write(&bars, &original).expect("restore");
    assert_eq!(check(dir.path(), registry, cache.path(), "human"), cold);

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
    assert_eq!(check(dir.path(), registry, cache.path(), "human"), cold);
}
