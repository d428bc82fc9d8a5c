//! Damaged registries must produce diagnostics, never a panic: every
//! truncation point, every deleted line, and hostile bytes spliced into
//! every line of the default registry go through the full loader (parse,
//! validate, compile, resolve) and, when they load, `check` and `lock`.

use std::path::Path;

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
