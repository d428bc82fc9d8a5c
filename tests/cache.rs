//! The `check` result cache (`AMPYGEN_CACHE_DIR`, src/cache.rs): a warm
//! run gives byte-identical results to a cold one on every fixture, only
//! passing runs are recorded, and a corrupt, foreign or outdated entry is
//! ignored, never trusted.

mod common;

use std::collections::BTreeSet;
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
        text.replace("ampygen-check-cache 3", "ampygen-check-cache 9").into_bytes(),
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

    // A new message that nothing else can name is proven invisible to the
    // rest of the tree, and replayed.
    std::fs::write(&bars, format!("{original}\nmessage Unused {{ int32 a = 1; }}\n")).expect("edit");
    assert!(check(dir.path(), registry, cache.path(), "human").0.contains("schemas MATCH"));
    // The proof reads the entry's second file; damaged or replaced by
    // another run's, it is not trusted, and the next addition runs in full.
    let names = cache.path().join(entry.file_name().expect("name").to_string_lossy().replace("check-", "names-"));
    let kept = std::fs::read(&names).expect("names file");
    let bumped =
        String::from_utf8(kept.clone()).expect("utf-8").replacen("ampy.bars.v1.Unused", "ampy.bars.v1.Unusee", 1);
    for damaged in [b"{}".to_vec(), kept[..kept.len() / 2].to_vec(), bumped.into_bytes()] {
        assert!(damaged != kept, "the damage changes the file");
        std::fs::write(&names, &damaged).expect("damage");
        mark(&entry);
        std::fs::write(
            &bars,
            format!("{original}\nmessage Unused {{ int32 a = 1; }}\nmessage Unused2 {{ int32 a = 1; }}\n"),
        )
        .expect("edit");
        assert_eq!(check(dir.path(), registry, cache.path(), "human"), cold);
        std::fs::write(&bars, format!("{original}\nmessage Unused {{ int32 a = 1; }}\n")).expect("edit");
        assert_eq!(check(dir.path(), registry, cache.path(), "human"), cold);
    }
    // A declaration that changes (here a file option, which the check
    // still passes) is a miss: the full run prints the real output and
    // records it in place of the marked entry.
    std::fs::write(&bars, format!("{original}\noption java_package = \"zz.bars\";\n")).expect("edit");
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

/// The package and top-level message and enum names of a proto text
/// (the fixtures declare them at the start of a line).
fn outline(text: &str) -> (String, Vec<String>) {
    let package =
        text.lines().find_map(|l| l.strip_prefix("package ")?.strip_suffix(';').map(str::to_owned)).unwrap_or_default();
    let names = text
        .lines()
        .filter_map(|l| l.strip_prefix("message ").or_else(|| l.strip_prefix("enum ")))
        .filter_map(|l| l.split(|c: char| !c.is_alphanumeric() && c != '_').next().map(str::to_owned))
        .collect();
    (package, names)
}

/// Declarations to add to a file: some only a full run can judge
/// (duplicates, shadowing, keywords, options, a type chain too long, a
/// type that is not imported, a new import or extension), some that must
/// replay (`true`). `own` are the file's top-level names, `elsewhere`
/// (package, name) of other files' top-level declarations.
fn additions(package: &str, own: &[String], elsewhere: &[(String, String)]) -> Vec<(String, bool)> {
    let mut out: Vec<(String, bool)> = [
        ("message ZzFresh { int32 a = 1; }", true),
        ("enum ZzColor { ZZ_COLOR_UNSPECIFIED = 0; ZZ_COLOR_RED = 1; }", true),
        (
            "message ZzNested { message Inner { int32 x = 1; } Inner i = 1; map<string, ZzNested> m = 2; \
             oneof o { int32 p = 3; string q = 4; } repeated ZzColor2 c = 5; }\nenum ZzColor2 { ZZ_COLOR2_ZERO = 0; }",
            true,
        ),
        ("message ZzTime { google.protobuf.Timestamp at = 1; }", false),
        ("message ZzTime { google.protobuf.Timestamp at = 1; }\nimport \"google/protobuf/timestamp.proto\";", false),
        ("message def { int32 a = 1; }", false),
        ("enum None { NONE_ZERO = 0; }", false),
        ("message ZzOpt { option deprecated = true; int32 a = 1; }", false),
        ("message ZzField { int32 a = 1 [deprecated = true]; }", false),
        ("message ZzBad { int32 a = 1; int32 b = 1; }", false),
        ("message ZzUnknown { NoSuchType a = 1; }", false),
        ("message ZzFresh { int32 a = 1; }\nmessage ZzFresh { int32 a = 1; }", false),
        (
            "extend google.protobuf.MessageOptions { int32 zz_ext = 50001; }\nimport \"google/protobuf/descriptor.proto\";",
            false,
        ),
    ]
    .into_iter()
    .map(|(d, r)| (d.to_owned(), r))
    .collect();
    // Past the Rust backend's type-chain bound (100 singular fields).
    let chain: String = (0..105).map(|i| format!("message ZzChain{i} {{ ZzChain{} next = 1; }}\n", i + 1)).collect();
    out.push((format!("{chain}message ZzChain105 {{ int32 end = 1; }}"), false));
    for name in own.iter().take(3) {
        out.push((format!("message {name} {{ int32 a = 1; }}"), false));
        out.push((format!("message ZzUses{name} {{ {name} a = 1; }}"), false));
        out.push((format!("enum ZzE{name} {{ {name} = 0; }}"), false));
    }
    for (other_package, name) in elsewhere.iter().take(3) {
        // The same name in this package (shadowing what may refer to it),
        // and references to the other file, which this one may not import.
        out.push((format!("message {name} {{ int32 a = 1; }}"), false));
        out.push((format!("message ZzRef{name} {{ .{other_package}.{name} a = 1; }}"), false));
        out.push((format!("message ZzRel{name} {{ {name} a = 1; }}"), false));
    }
    if let Some(first) = package.split('.').next().filter(|f| !f.is_empty()) {
        // A name that is a package prefix of the tree.
        out.push((format!("message {first} {{ int32 a = 1; }}"), false));
    }
    out
}

/// The byte range of top-level declaration `message NAME` (or `enum`) in
/// `text`, through its closing brace; the fixtures put `{` on its line.
fn declaration(text: &str, kind: &str, name: &str) -> Option<std::ops::Range<usize>> {
    let head = format!("{kind} {name} {{");
    let start = if text.starts_with(&head) { 0 } else { text.find(&format!("\n{head}"))? + 1 };
    let mut depth = 0;
    for (i, c) in text[start..].char_indices() {
        match c {
            '{' => depth += 1,
            '}' => {
                depth -= 1;
                if depth == 0 {
                    return Some(start..start + i + 1);
                }
            }
            _ => {}
        }
    }
    None
}

/// `text` with a field added to top-level message `name` (or a value to
/// enum `name`), or without the declaration.
fn changed(text: &str, name: &str, remove: bool) -> Option<String> {
    let (range, added) = match declaration(text, "message", name) {
        Some(r) => (r, "int32 zz_added = 9999;"),
        None => (declaration(text, "enum", name)?, "ZZ_ADDED_VALUE = 9999;"),
    };
    let replacement = if remove {
        String::new()
    } else {
        let decl = &text[range.clone()];
        let open = decl.find('{')? + 1;
        format!("{} {added} {}", &decl[..open], &decl[open..])
    };
    Some(format!("{}{replacement}{}", &text[..range.start], &text[range.end..]))
}

#[test]
fn a_declaration_edit_replays_exactly_what_a_cold_run_prints_on_every_passing_fixture() {
    let hostile = scratch();
    common::copy_dir(Path::new("tests/hostile"), hostile.path());
    let default = default_layout();
    let fixtures = [(default.path(), "registry/ampy.yaml", true), (hostile.path(), "hostile.yaml", false)];
    let (mut replayed, mut compared) = (0, 0);
    for (dir, registry, fresh_must_replay) in fixtures {
        let registry = Path::new(registry);
        let files = protos(dir);
        let texts: Vec<String> = files.iter().map(|f| std::fs::read_to_string(f).expect("proto")).collect();
        let declared: Vec<(String, String)> = texts
            .iter()
            .flat_map(|t| {
                let (package, names) = outline(t);
                names.into_iter().map(move |n| (package.clone(), n))
            })
            .collect();
        // A passing, marked entry for the tree as it is, saved to be put
        // back before each edit.
        let cache = scratch();
        let base = check(dir, registry, cache.path(), "human");
        assert_eq!(base.2, 0, "{base:?}");
        let [entry] = entries(cache.path()).try_into().expect("one entry");
        mark(&entry);
        let saved: Vec<(PathBuf, Vec<u8>)> = std::fs::read_dir(cache.path())
            .expect("cache")
            .map(|e| e.expect("entry").path())
            .map(|p| (p.clone(), std::fs::read(&p).expect("read")))
            .collect();
        // Files at the start, the middle and the end of the tree.
        let n = files.len();
        let picked: BTreeSet<usize> = [0, n / 3, 2 * n / 3, n - 1].into_iter().collect();
        for i in picked {
            let (file, text) = (&files[i], &texts[i]);
            let (package, own) = outline(text);
            let elsewhere: Vec<(String, String)> = declared.iter().filter(|(p, _)| *p != package).cloned().collect();
            let mut edits: Vec<(String, String, bool)> = Vec::new();
            for (k, (decl, must_replay)) in additions(&package, &own, &elsewhere).into_iter().enumerate() {
                // Appended, or inserted before the first declaration.
                let edited = if k % 2 == 0 {
                    format!("{text}\n{decl}\n")
                } else {
                    let at = text.find("\nmessage ").or_else(|| text.find("\nenum ")).map_or(text.len(), |i| i + 1);
                    format!("{}{decl}\n{}", &text[..at], &text[at..])
                };
                edits.push((format!("adding {decl:?}"), edited, must_replay));
            }
            // Each top-level declaration of the file with a field or value
            // more, and without it: a full run judges what refers to it.
            for name in &own {
                for remove in [false, true] {
                    if let Some(edited) = changed(text, name, remove) {
                        let what = if remove { "removing" } else { "adding a field or value to" };
                        edits.push((format!("{what} `{name}`"), edited, false));
                    }
                }
            }
            for (decl, edited, must_replay) in edits {
                std::fs::write(file, &edited).expect("edit");
                let warm = check(dir, registry, cache.path(), "human");
                let cold = check(dir, registry, scratch().path(), "human");
                let hit = warm.0.contains("schemas MATCH");
                let shown = (warm.0.replace("schemas MATCH", "schemas match"), warm.1.clone(), warm.2);
                let what = format!("{}: {decl} in {}", registry.display(), file.display());
                assert_eq!(shown, cold, "{what}");
                assert!(!(must_replay && fresh_must_replay) || hit, "{what} was not replayed: {warm:?}");
                replayed += usize::from(hit);
                compared += 1;
                std::fs::write(file, text).expect("restore");
                for entry in entries(cache.path()) {
                    std::fs::remove_file(entry).expect("remove");
                }
                for (path, bytes) in &saved {
                    std::fs::write(path, bytes).expect("put back");
                }
            }
        }
    }
    eprintln!("{compared} edits compared with a cold run, {replayed} replayed");
    assert!(replayed >= 6 && replayed < compared, "{replayed} of {compared} replayed");
}

#[test]
fn a_declaration_another_file_could_see_is_checked_in_full() {
    // Two more files in the bars package, compiled before `bars.proto`:
    // `extra.proto`, which the edits change, and `shadow.proto`, which
    // `extra.proto` does not import and which declares a message named
    // like the `common` package.
    let dir = default_layout();
    let registry_path = dir.path().join("registry/ampy.yaml");
    let text = std::fs::read_to_string(&registry_path).expect("registry");
    let listed = text.replace(
        "    - ampy/bars/v1/bars.proto\n",
        "    - ampy/bars/v1/shadow.proto\n    - ampy/bars/v1/extra.proto\n    - ampy/bars/v1/bars.proto\n",
    );
    assert_ne!(listed, text);
    std::fs::write(&registry_path, listed).expect("registry");
    let bars = dir.path().join("proto/ampy/bars/v1");
    let extra = "syntax = \"proto3\";\npackage ampy.bars.v1;\nimport \"ampy/common/v1/common.proto\";\n\
                 message BarExtra { .ampy.common.v1.Decimal x = 1; }\nmessage BarUser { BarExtra e = 1; }\n";
    std::fs::write(bars.join("extra.proto"), extra).expect("extra");
    std::fs::write(
        bars.join("shadow.proto"),
        "syntax = \"proto3\";\npackage ampy.bars.v1;\nmessage common { int32 a = 1; }\n",
    )
    .expect("shadow");
    let registry = Path::new("registry/ampy.yaml");
    let cache = scratch();
    let base = check(dir.path(), registry, cache.path(), "human");
    assert_eq!(base.2, 0, "{base:?}");
    let add = |decl: &str| format!("{extra}{decl}\n");
    let cases = [
        // bars.proto, compiled later, names `ampy.common.v1.Meta`: a
        // message `ampy` in its package would be found first.
        ("a message named like a package", add("message ampy { int32 a = 1; }"), false, false),
        // `common` is the package to `extra.proto` alone, and the message
        // of `shadow.proto` in the whole tree.
        ("a name another file hides", add("message ZzUses { common.v1.Decimal d = 1; }"), false, false),
        ("a fully qualified name", add("message ZzQualified { .ampy.common.v1.Decimal d = 1; }"), true, true),
        ("a name of the file", add("message ZzOwn { BarExtra e = 1; }"), true, true),
        // BarUser is named by nothing, BarExtra by BarUser.
        ("a field more in BarUser", extra.replace("BarExtra e = 1;", "BarExtra e = 1; string note = 2;"), true, true),
        ("BarUser removed", extra.replace("message BarUser { BarExtra e = 1; }\n", ""), true, true),
        ("a field more in BarExtra", extra.replace("x = 1; }", "x = 1; int32 y = 2; }"), false, true),
        ("BarExtra removed", extra.replace("message BarExtra { .ampy.common.v1.Decimal x = 1; }\n", ""), false, false),
        ("a field renamed in BarUser", extra.replace("BarExtra e = 1;", "BarExtra f = 1;"), true, true),
    ];
    for (what, edited, replays, passes) in cases {
        let [entry] = entries(cache.path()).try_into().expect("one entry");
        mark(&entry);
        assert_ne!(edited, extra, "{what}");
        std::fs::write(bars.join("extra.proto"), &edited).expect("edit");
        let warm = check(dir.path(), registry, cache.path(), "human");
        let cold = check(dir.path(), registry, scratch().path(), "human");
        assert_eq!(warm.0.contains("schemas MATCH"), replays, "{what}: {warm:?}");
        assert_eq!((warm.0.replace("schemas MATCH", "schemas match"), warm.1, warm.2), cold, "{what}");
        assert_eq!(cold.2 == 0, passes, "{what}: {cold:?}");
        std::fs::write(bars.join("extra.proto"), extra).expect("restore");
        assert_eq!(check(dir.path(), registry, cache.path(), "human").2, 0);
    }
    // A payload of the registry removed from its file: the registry
    // names it, so the edit is checked in full (and fails).
    let bars_proto = std::fs::read_to_string(bars.join("bars.proto")).expect("bars");
    let payload = changed(&bars_proto, "BarBatch", true).expect("bars.proto declares BarBatch");
    let [entry] = entries(cache.path()).try_into().expect("one entry");
    mark(&entry);
    std::fs::write(bars.join("bars.proto"), payload).expect("edit");
    let warm = check(dir.path(), registry, cache.path(), "human");
    assert_eq!(warm, check(dir.path(), registry, scratch().path(), "human"));
    assert_ne!(warm.2, 0, "{warm:?}");
}
