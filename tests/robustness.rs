//! Damaged registries must produce diagnostics, never a panic: every
//! truncation point, every deleted line, and hostile bytes spliced into
//! every line of the default registry go through the full loader (parse,
//! validate, compile, resolve) and, when they load, `check`, `lock` and
//! the gate's classification against the default registry. Damaged lock
//! files go through the gate too.

use std::path::Path;
use std::sync::OnceLock;

use ampygen::compat::{self, Baseline};
use ampygen::diag::Source;

const REGISTRY: &str = "registry/ampy.yaml";

/// Loads `text` as if it were the default registry. Returns whether it
/// loaded; asserts every error diagnostic can be located and has a hint.
fn exercise(text: &str, what: &str) -> bool {
    let source = Source::new(REGISTRY, text);
    match ampygen::load_source(Path::new(REGISTRY), source) {
        Ok(project) => {
            let _ = ampygen::check::check(&project);
            let _ = ampygen::lock::plan(&project);
            let _ = compat::evaluate(baseline(), &project);
            true
        }
        Err(diags) => {
            assert!(diags.has_errors(), "{what}: failed without an error");
            for d in diags.errors() {
                assert!(d.location().is_some(), "{what}: no location: {}", d.render_plain());
                assert!(d.help.is_some(), "{what}: no hint: {}", d.render_plain());
                // Rendering must not panic either (miette walks the spans).
                let mut out = String::new();
                miette::GraphicalReportHandler::new_themed(miette::GraphicalTheme::unicode_nocolor())
                    .render_report(&mut out, d)
                    .expect("render");
            }
            false
        }
    }
}

/// The default registry as a baseline, computed once.
fn baseline() -> &'static Baseline {
    static BASELINE: OnceLock<Baseline> = OnceLock::new();
    BASELINE.get_or_init(|| Baseline::from_project(&ampygen::load(Path::new(REGISTRY)).expect("default registry")))
}

fn original() -> String {
    std::fs::read_to_string(REGISTRY).expect("default registry")
}

#[test]
fn every_truncation_point_is_handled() {
    let text = original();
    let mut loaded = 0;
    for (i, _) in text.char_indices().step_by(7) {
        loaded += usize::from(exercise(&text[..i], &format!("truncated at byte {i}")));
    }
    // Only cuts inside the trailing comment-free tail can still load; most
    // must fail, which shows the cuts really reach the validator.
    assert!(loaded < text.len() / 70, "{loaded} truncations loaded");
}

#[test]
fn every_deleted_line_is_handled() {
    let text = original();
    let lines: Vec<&str> = text.lines().collect();
    let mut failed = 0;
    for i in 0..lines.len() {
        let mut edited: Vec<&str> = lines.clone();
        edited.remove(i);
        failed += usize::from(!exercise(&(edited.join("\n") + "\n"), &format!("line {} deleted", i + 1)));
    }
    assert!(failed > 50, "deleting lines should break the registry often, broke it {failed} times");
}

#[test]
fn hostile_text_in_every_value_is_handled() {
    let text = original();
    // Quotes and escapes, template braces, NATS wildcards, control and
    // multi-byte characters, and YAML structure (mapping, anchor, tag).
    let hostile = ["\"", "\\", "{", "}}", "[*]", "*", ">", "\u{0}", "é😀", ": x", "&a", "!!str"];
    let lines: Vec<&str> = text.lines().collect();
    for (i, line) in lines.iter().enumerate() {
        for h in hostile {
            let mut edited = lines.clone();
            let spliced = format!("{line}{h}");
            edited[i] = &spliced;
            exercise(&(edited.join("\n") + "\n"), &format!("line {} + {h:?}", i + 1));
        }
    }
}

#[test]
fn damaged_lock_files_are_handled_by_the_gate() {
    let project = ampygen::load(Path::new(REGISTRY)).expect("default registry");
    let lock = std::fs::read_to_string("registry/ampy.lock.json").expect("lock");
    let dir = tempfile::tempdir().expect("temp dir");
    let mut moved = project.clone();
    moved.registry_path = dir.path().join("ampy.yaml");
    let lock_path = dir.path().join("ampy.lock.json");
    let lines: Vec<&str> = lock.lines().collect();
    let mut variants: Vec<String> = lock.char_indices().step_by(97).map(|(i, _)| lock[..i].to_owned()).collect();
    variants.extend((0..lines.len()).step_by(3).map(|i| {
        let mut edited = lines.clone();
        edited.remove(i);
        edited.join("\n")
    }));
    // Hand edits of format 5's compact items (docs/registry.md, "The lock").
    for (from, to) in [
        ("\"keys\": [", "\"keys\": 7, \"x\": ["),
        ("\"field ", "\"field x"),
        ("\"value ", "\"  value\\"),
        ("\"message ampy.common.v1.Decimal proto3\",", ""),
        ("\"qos_tiers\": {", "\"qos_tierz\": {"),
        ("\"subtopic\": \"{mic}.{symbol}\"", "\"subtopic\": 7"),
    ] {
        let edited = lock.replace(from, to);
        assert_ne!(edited, lock, "`{from}` is not in the lock");
        variants.push(edited);
    }
    for (i, text) in variants.iter().enumerate() {
        std::fs::write(&lock_path, text).expect("write");
        let _ = ampygen::check::check(&moved);
        match Baseline::from_lock_file(&moved) {
            Ok(Some(b)) => {
                let _ = compat::evaluate(&b, &moved);
            }
            Ok(None) => panic!("variant {i}: the lock file exists"),
            Err(d) => assert!(d.location().is_some() && d.help.is_some(), "variant {i}: {}", d.render_plain()),
        }
    }
}
