//! The differential corpus: schema edits whose class the gate decides and
//! whose effect the test observes by doing the real thing. For every edit,
//! payloads written with the old schema are read with the new one and
//! payloads written with the new schema are read with the old one, through
//! the binary encoding and through proto3 JSON (prost-reflect
//! `DynamicMessage` over both schema versions, compiled by protox via
//! `ampygen::load`). What happened decides the class the gate must give:
//!
//! - a binary trip failed or changed a value: `breaking-wire`;
//! - only a JSON trip did: `breaking-json` (compatible in a domain with
//!   `compat: {json: false}`, which must still fail every wire break);
//! - nothing changed: compatible (or no change).
//!
//! A gate class weaker than what happened is a failure. A stricter one
//! must carry a note saying why (a number left free for reuse, a renamed
//! payload that consumers check by name, …); the test prints those, and
//! the agreement figure, with `--nocapture`.

mod cases;
mod observe;
mod payloads;

use std::path::Path;

use ampygen::compat::{self, Baseline, Class};
use prost_reflect::{DynamicMessage, MessageDescriptor};

#[derive(Clone, Copy)]
pub struct Case {
    pub name: &'static str,
    /// The proto files (see [`files`]) before the edit.
    pub old: &'static str,
    /// `(from, to)` replacements, each of the first occurrence.
    pub edits: &'static [(&'static str, &'static str)],
    /// The payload after the edit, when the root message moves.
    pub payload: Option<&'static str>,
    /// Why the gate is stricter than every round trip, when it is.
    pub note: Option<&'static str>,
}

pub const fn case(name: &'static str, old: &'static str, edits: &'static [(&'static str, &'static str)]) -> Case {
    Case { name, old, edits, payload: None, note: None }
}

impl Case {
    pub const fn moves_root(mut self, payload: &'static str) -> Case {
        self.payload = Some(payload);
        self
    }
    pub const fn stricter(mut self, why: &'static str) -> Case {
        self.note = Some(why);
        self
    }
}

const ROOT: &str = "ampy.t.v1.M";
const DEFAULT_FILE: &str = "ampy/t/v1/t.proto";

/// Splits a bundle into files: a line `//// PATH` starts a new file (the
/// first one is `ampy/t/v1/t.proto`). A file without a `syntax` line gets
/// `syntax = "proto3"; package ampy.t.v1;`. Every `message M {` gains the
/// key field the registry needs, `optional string corpus_key = 9999;`.
fn files(bundle: &str) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = vec![(DEFAULT_FILE.to_owned(), String::new())];
    for line in bundle.lines() {
        if let Some(path) = line.strip_prefix("//// ") {
            out.push((path.trim().to_owned(), String::new()));
            continue;
        }
        let text = &mut out.last_mut().expect("a file").1;
        text.push_str(line);
        text.push('\n');
    }
    out.retain(|(_, t)| !t.trim().is_empty());
    for (_, text) in &mut out {
        if !text.contains("syntax =") {
            *text = format!("syntax = \"proto3\";\npackage ampy.t.v1;\n{text}");
        }
        *text = text.replace("message M {", "message M {\n  optional string corpus_key = 9999;");
    }
    out
}

fn registry(files: &[(String, String)], payload: &str, json: bool) -> String {
    let list: Vec<String> = files.iter().map(|(p, _)| format!("\"{p}\"")).collect();
    let compat = if json { "" } else { "    compat: {json: false}\n" };
    format!(
        "format: 1\nnamespace: ampy\nenvs: [dev]\nprotos:\n  include: [../proto]\n  files: [{}]\nqos:\n  standard: {{delivery: at_least_once}}\ndomains:\n  t:\n    description: Differential corpus.\n    qos: standard\n{compat}    versions:\n      v1:\n        topics:\n          m:\n            subtopic: m\n            payload: {payload}\n            schema_version: 1.0.0\n            key:\n              fields:\n                k: corpus_key\n              format: \"{{k}}\"\n",
        list.join(", ")
    )
}

fn load(dir: &Path, files: &[(String, String)], payload: &str, json: bool) -> ampygen::Project {
    let _ = std::fs::remove_dir_all(dir);
    for (path, text) in files {
        let p = dir.join("proto").join(path);
        std::fs::create_dir_all(p.parent().expect("parent")).expect("mkdir");
        std::fs::write(p, text).expect("write proto");
    }
    std::fs::create_dir_all(dir.join("registry")).expect("mkdir");
    // A repository root, so that `../proto` is inside it (docs/registry.md, include roots).
    std::fs::create_dir_all(dir.join(".git")).expect("mkdir");
    let reg = dir.join("registry/ampy.yaml");
    std::fs::write(&reg, registry(files, payload, json)).expect("write registry");
    ampygen::load(&reg).unwrap_or_else(|d| panic!("{}: {}", dir.display(), d.render_plain()))
}

/// The most severe class the gate gives, and its findings for messages.
fn gate(old: &ampygen::Project, new: &ampygen::Project) -> (Option<Class>, Vec<String>) {
    let findings = compat::evaluate(&Baseline::from_project(old), new);
    let class = findings.iter().filter_map(|f| f.class).max();
    let shown = findings.iter().filter(|f| f.class.is_some()).map(|f| f.diagnostic.message.clone()).collect();
    (class, shown)
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Seen {
    Nothing,
    Json,
    Wire,
}

/// Every trip between the two schemas; the first failure of each kind.
fn observe_trips(old: &MessageDescriptor, new: &MessageDescriptor) -> (Seen, Vec<String>) {
    let mut wire = Vec::new();
    let mut json = Vec::new();
    for (dir, writer, reader) in [("old->new", old, new), ("new->old", new, old)] {
        for (i, p) in payloads::payloads(writer).iter().enumerate() {
            let what = |e: String| format!("{dir} payload {i}: {e}");
            let trip = |r: Result<DynamicMessage, String>| {
                r.and_then(|m| observe::compare(&observe::observe(p), &observe::observe(&m), "M"))
            };
            if let Err(e) = trip(observe::binary_trip(p, reader)) {
                if wire.len() < 2 {
                    wire.push(what(format!("binary: {e}")));
                }
            }
            if let Err(e) = trip(observe::json_trip(p, reader).map(|(_, m)| m)) {
                if json.len() < 2 {
                    json.push(what(format!("JSON: {e}")));
                }
            }
        }
    }
    let seen = if !wire.is_empty() {
        Seen::Wire
    } else if !json.is_empty() {
        Seen::Json
    } else {
        Seen::Nothing
    };
    wire.extend(json);
    (seen, wire)
}

fn expected(seen: Seen, json_breaking: bool) -> Class {
    match seen {
        Seen::Wire => Class::BreakingWire,
        Seen::Json if json_breaking => Class::BreakingJson,
        _ => Class::Compatible,
    }
}

#[test]
fn differential_corpus() {
    let cases = cases::all();
    assert!(cases.len() >= 60, "{} cases", cases.len());
    let mut names: Vec<&str> = cases.iter().map(|c| c.name).collect();
    names.sort_unstable();
    names.dedup();
    assert_eq!(names.len(), cases.len(), "case names are unique");
    let tmp = tempfile::tempdir().expect("temp dir");
    let mut failures = Vec::new();
    let (mut agree, mut stricter) = (0, Vec::new());
    let mut table = Vec::new();
    let mut rows = vec![format!("{:<44} {:<8} {:<17} {}", "case", "observed", "gate", "gate, json: false")];
    for case in &cases {
        let mut new_bundle = case.old.to_owned();
        for (from, to) in case.edits {
            assert!(new_bundle.contains(from), "{}: `{from}` not in the schema", case.name);
            new_bundle = new_bundle.replacen(from, to, 1);
        }
        let (old_files, new_files) = (files(case.old), files(&new_bundle));
        let new_root = case.payload.unwrap_or(ROOT);
        let old = load(&tmp.path().join("old"), &old_files, ROOT, true);
        let old_desc = old.compiled.pool.get_message_by_name(ROOT).expect("old root");
        let mut classes = Vec::new();
        let mut shown = Vec::new();
        for json in [true, false] {
            let new = load(&tmp.path().join("new"), &new_files, new_root, json);
            let (class, messages) = gate(&old, &new);
            classes.push(class.unwrap_or(Class::Compatible));
            if json {
                shown = messages;
                let new_desc = new.compiled.pool.get_message_by_name(new_root).expect("new root");
                let (seen, evidence) = observe_trips(&old_desc, &new_desc);
                classes.push(expected(seen, true));
                classes.push(expected(seen, false));
                table.push((case.name, seen, evidence));
            }
        }
        let (gate_json, want_json, want_relaxed, gate_relaxed) = (classes[0], classes[1], classes[2], classes[3]);
        let (_, seen, evidence) = table.last().expect("row");
        let detail = format!(
            "{}: observed {seen:?}; gate {} (json: false: {}); expected {} ({})\n  gate: {shown:?}\n  trips: {evidence:#?}",
            case.name,
            gate_json.as_str(),
            gate_relaxed.as_str(),
            want_json.as_str(),
            want_relaxed.as_str()
        );
        if gate_json < want_json || gate_relaxed < want_relaxed {
            failures.push(format!("weaker than what happened: {detail}"));
        } else if gate_json > want_json || gate_relaxed > want_relaxed {
            match case.note {
                Some(why) => {
                    stricter.push(format!("{}: gate {}, observed {seen:?}: {why}", case.name, gate_json.as_str()))
                }
                None => failures.push(format!("stricter than every trip, with no note: {detail}")),
            }
        } else if case.note.is_some() {
            failures.push(format!("agrees, but carries a note for a stricter class: {detail}"));
        } else {
            agree += 1;
        }
        rows.push(format!(
            "{:<44} {:<8} {:<17} {}",
            case.name,
            format!("{seen:?}"),
            gate_json.as_str(),
            gate_relaxed.as_str()
        ));
    }
    println!(
        "differential corpus: {} cases, {agree} agree exactly, {} stricter with a note",
        cases.len(),
        stricter.len()
    );
    for row in &rows {
        println!("  {row}");
    }
    for s in &stricter {
        println!("  stricter: {s}");
    }
    assert!(failures.is_empty(), "{} disagreements:\n{}", failures.len(), failures.join("\n\n"));
}
