//! The seed corpus, extracted from the repository's own fixtures and
//! vectors every time (nothing large is committed): registries under
//! registry/ and tests/, the templates and paths they contain, the
//! payloads and envelopes of the conformance vectors, and the descriptors
//! and canonical forms of the default registry's protos.

use std::collections::BTreeSet;
use std::fs;
use std::path::{Path, PathBuf};

use base64::Engine as _;
use serde_json::Value;

use crate::envelope::encode_input;
use crate::targets::project;

/// One seed input of one target.
#[derive(Clone, Debug)]
pub struct Seed {
    pub target: &'static str,
    /// Where it came from, also its file name in a corpus folder.
    pub name: String,
    pub data: Vec<u8>,
}

fn files(dir: &Path, ext: &str, out: &mut Vec<PathBuf>) {
    let Ok(entries) = fs::read_dir(dir) else { return };
    let mut entries: Vec<_> = entries.filter_map(Result::ok).map(|e| e.path()).collect();
    entries.sort();
    for p in entries {
        if p.is_dir() {
            files(&p, ext, out);
        } else if p.extension().is_some_and(|e| e == ext) {
            out.push(p);
        }
    }
}

fn rel(root: &Path, p: &Path) -> String {
    p.strip_prefix(root).unwrap_or(p).to_string_lossy().replace(['/', '\\'], "_")
}

fn read(p: &Path) -> Vec<u8> {
    fs::read(p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

fn json(p: &Path) -> Value {
    serde_json::from_slice(&read(p)).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

fn b64(s: &str) -> Vec<u8> {
    base64::engine::general_purpose::STANDARD.decode(s).unwrap_or_else(|e| panic!("bad base64 in a vector: {e}"))
}

/// Every seed of every target, in a stable order.
pub fn all() -> Vec<Seed> {
    let root = crate::repo_root();
    let mut out = Vec::new();

    // Registries: the real one and every fixture, good and bad.
    let mut yamls = Vec::new();
    files(&root.join("registry"), "yaml", &mut yamls);
    files(&root.join("tests"), "yaml", &mut yamls);
    let mut snippets = BTreeSet::new();
    for p in &yamls {
        let data = read(p);
        for line in String::from_utf8_lossy(&data).lines() {
            let line = line.trim_start().trim_start_matches("- ");
            for key in ["subtopic:", "format:", "path:", "ordering:", "dedupe:"] {
                if let Some(v) = line.strip_prefix(key) {
                    snippets.insert(v.trim().trim_matches(['"', '\'']).to_owned());
                }
            }
        }
        out.push(Seed { target: "registry", name: rel(&root, p), data });
    }
    for (i, s) in snippets.into_iter().enumerate() {
        out.push(Seed { target: "template", name: format!("snippet-{i:03}"), data: s.into_bytes() });
    }

    // Payloads and envelopes of the conformance vectors.
    let topics: Vec<&String> = project().resolved.keys().collect();
    let mut vectors = vec![root.join("tests/vectors/accept.json"), root.join("tests/vectors/negative.json")];
    files(&root.join("tests/vectors/positive"), "json", &mut vectors);
    for p in &vectors {
        let doc = json(p);
        for v in doc["vectors"].as_array().into_iter().flatten() {
            let name = v["name"].as_str().unwrap_or("unnamed").to_owned();
            let Some(topic) = v["topic"].as_str() else { continue };
            if let (Some(payload), Some(i)) = (v["payload_base64"].as_str(), topics.iter().position(|t| *t == topic)) {
                let mut data = vec![u8::try_from(i).expect("fewer than 256 topics")];
                data.extend(b64(payload));
                out.push(Seed { target: "key_path", name: name.clone(), data });
            }
            let (headers, body) = match (&v["envelope"], &v["headers"]) {
                (Value::Object(e), _) => (&e["headers"], e["body_base64"].as_str()),
                (_, h @ Value::Object(_)) => (h, v["body_base64"].as_str()),
                _ => continue,
            };
            let (Some(headers), Some(body)) = (headers.as_object(), body) else { continue };
            let headers: Vec<(String, String)> =
                headers.iter().filter_map(|(k, v)| Some((k.clone(), v.as_str()?.to_owned()))).collect();
            out.push(Seed { target: "envelope", name, data: encode_input(topic, &headers, &b64(body)) });
        }
    }

    // Descriptors: the whole pool, and each file with its imports.
    let pool = &project().compiled.pool;
    out.push(Seed { target: "canonical", name: "pool".into(), data: pool.encode_to_vec() });
    for file in pool.files() {
        let mut set = Vec::new();
        let mut seen = BTreeSet::new();
        add_file(&file, &mut seen, &mut set);
        out.push(Seed { target: "canonical", name: file.name().replace('/', "_"), data: set });
    }
    // Canonical forms, each with the next as the form it is diffed against.
    let mut forms = Vec::new();
    files(&root.join("tests/vectors/canonical"), "txt", &mut forms);
    for (i, p) in forms.iter().enumerate() {
        let mut data = read(p);
        data.extend_from_slice(b"\n\n\n");
        data.extend(read(&forms[(i + 1) % forms.len()]));
        out.push(Seed { target: "canonical", name: rel(&root, p), data });
    }
    out
}

/// Appends `file` after its imports as `FileDescriptorSet.file` entries.
fn add_file(file: &prost_reflect::FileDescriptor, seen: &mut BTreeSet<String>, set: &mut Vec<u8>) {
    if !seen.insert(file.name().to_owned()) {
        return;
    }
    for dep in file.dependencies() {
        add_file(&dep, seen, set);
    }
    let bytes = file.encode_to_vec();
    set.push(0x0a);
    let mut n = bytes.len() as u64;
    while n >= 0x80 {
        set.push((n as u8) | 0x80);
        n >>= 7;
    }
    set.push(n as u8);
    set.extend(bytes);
}

/// The seeds of one target.
pub fn of(target: &str) -> Vec<Seed> {
    all().into_iter().filter(|s| s.target == target).collect()
}
