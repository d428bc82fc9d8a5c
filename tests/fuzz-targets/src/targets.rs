//! The generator-side targets: registry, templates, key paths, canonical
//! schema form.

use std::ops::Range;
use std::sync::OnceLock;

use ampygen::diag::Source;
use ampygen::registry;
use ampygen::route;
use ampygen::template::{self, token_problem, SyntaxError};
use ampygen::Project;
use prost_reflect::{DescriptorPool, DynamicMessage};

/// Registry parser and decoder (`ampygen::registry::parse`) on arbitrary
/// text (invalid UTF-8 is replaced, as the loader would reject it first).
///
/// Asserts: no panic; no registry means at least one error; every
/// diagnostic renders (spans inside the source, on char boundaries).
pub fn registry(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let source = Source::new("fuzz.yaml", text.as_ref());
    let (parsed, diags) = registry::parse(&source);
    if parsed.is_none() {
        assert!(diags.has_errors(), "no registry and no error for {text:?}");
    }
    for d in diags.iter() {
        let _ = d.location();
    }
    let _ = diags.render_plain();
    if let Some(reg) = parsed {
        for t in reg.topics() {
            let _ = t.id();
        }
    }
}

fn check_errors(what: &str, text: &str, errors: &[SyntaxError]) {
    assert!(!errors.is_empty(), "{what}: an Err with no error for {text:?}");
    for e in errors {
        check_range(what, text, &e.range);
    }
}

fn check_range(what: &str, text: &str, r: &Range<usize>) {
    assert!(
        r.start <= r.end && r.end <= text.len() && text.is_char_boundary(r.start) && text.is_char_boundary(r.end),
        "{what}: range {r:?} is not a span of {text:?}"
    );
}

/// The three little languages of templates: subtopics, key formats and key
/// paths.
///
/// Asserts: no panic; every error and token range is a span of the input
/// on char boundaries (diagnostics slice the registry with them); what
/// parses prints back (`to_template`, `Display`) to text that parses to
/// the same value.
pub fn template(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else { return };
    match template::parse_subtopic(text) {
        Ok(s) => {
            for r in &s.ranges {
                check_range("subtopic", text, r);
            }
            let again = template::parse_subtopic(&s.to_template())
                .unwrap_or_else(|e| panic!("subtopic {text:?} printed as {:?} which fails: {e:?}", s.to_template()));
            assert_eq!(again.tokens, s.tokens, "subtopic {text:?} does not round-trip");
            assert_eq!(s.to_string(), s.to_template(), "subtopic {text:?}: Display and to_template differ");
        }
        Err(e) => check_errors("subtopic", text, &e),
    }
    match template::parse_key_format(text) {
        Ok(k) => {
            let printed = k.to_template();
            let again = template::parse_key_format(&printed)
                .unwrap_or_else(|e| panic!("key format {text:?} printed as {printed:?} which fails: {e:?}"));
            assert_eq!(again.parts, k.parts, "key format {text:?} does not round-trip");
            for (_, r) in k.fields() {
                check_range("key format", text, &r);
            }
        }
        Err(e) => check_errors("key format", text, &e),
    }
    match template::parse_path(text) {
        Ok(p) => {
            for s in &p.segments {
                check_range("path", text, &s.range);
            }
            let printed = p.to_string();
            let again = template::parse_path(&printed)
                .unwrap_or_else(|e| panic!("path {text:?} printed as {printed:?} which fails: {e:?}"));
            let strip =
                |p: &template::KeyPath| p.segments.iter().map(|s| (s.name.clone(), s.index)).collect::<Vec<_>>();
            assert_eq!(strip(&again), strip(&p), "path {text:?} does not round-trip");
        }
        Err(e) => check_errors("path", text, std::slice::from_ref(&e)),
    }
}

/// The repository's registry, loaded (and its protos compiled) once.
pub fn project() -> &'static Project {
    static PROJECT: OnceLock<Project> = OnceLock::new();
    PROJECT.get_or_init(|| {
        let path = crate::repo_root().join("registry/ampy.yaml");
        ampygen::load(&path).unwrap_or_else(|d| panic!("registry/ampy.yaml does not load:\n{}", d.render_plain()))
    })
}

/// Key-path evaluation (`ampygen::route`, the reference evaluator) on
/// arbitrary payload bytes. The first byte picks the topic (index into the
/// resolved topics in id order), the rest is the protobuf payload.
///
/// Asserts: no panic; a routed subject is the Kafka topic plus the
/// subtopic's tokens, each of which is a legal subject token; the
/// partition key is what the key format makes of the key fields.
pub fn key_path(data: &[u8]) {
    let Some((&pick, payload)) = data.split_first() else { return };
    let project = project();
    let topics: Vec<_> = project.resolved.iter().collect();
    let (id, resolved) = topics[usize::from(pick) % topics.len()];
    let Ok(msg) = DynamicMessage::decode(resolved.message.clone(), payload) else { return };
    let topic = project.registry.find_topic(id).expect("a resolved topic is in the registry");
    for f in &resolved.fields {
        if let Ok(v) = route::field_value(&f.name, &f.path, &msg) {
            assert!(!v.is_empty(), "{id}: key field {} evaluated to an empty value", f.name);
        }
    }
    for p in resolved.ordering.iter().chain(&resolved.dedupe) {
        let _ = route::field_value("fuzz", p, &msg);
    }
    let env = project.registry.envs[0].value.clone();
    match route::route(&project.registry, topic, resolved, &env, &msg) {
        Ok(r) => {
            let rest = r
                .subject
                .strip_prefix(&format!("{}.", r.kafka_topic))
                .unwrap_or_else(|| panic!("{id}: subject {} is not under {}", r.subject, r.kafka_topic));
            let tokens: Vec<&str> = rest.split('.').collect();
            assert_eq!(
                tokens.len(),
                topic.topic.subtopic.value.tokens.len(),
                "{id}: subject {} has extra tokens",
                r.subject
            );
            for t in tokens {
                assert_eq!(token_problem(t), None, "{id}: subject {} has the illegal token {t:?}", r.subject);
            }
        }
        Err(e) => {
            assert!(!e.is_usage(), "{id}: a payload error reported as a usage error: {e}");
            let _ = e.to_string();
        }
    }
}

/// Canonical schema form and hash (`ampy-canonical`) of every message in
/// an arbitrary encoded `FileDescriptorSet`, and the form differ on
/// arbitrary text.
///
/// Asserts: no panic; the form starts with a version line and names its
/// root; the hash is the hash of the form, and stable; a form differs from
/// itself in nothing, also when the text is not a form at all.
pub fn canonical(data: &[u8]) {
    use ampy_canonical::{canonical_form, diff, hash_canonical, schema_hash, VERSION_LINE, VERSION_LINE_V2};
    if let Some(pool) = pool_of(data) {
        // Bounded so that one input stays fast.
        for m in pool.all_messages().take(64) {
            let form = canonical_form(&m);
            let first = form.lines().next().unwrap_or_default();
            assert!(first == VERSION_LINE || first == VERSION_LINE_V2, "{}: form starts with {first:?}", m.full_name());
            assert!(
                form.contains(&format!("\nroot {}\n", m.full_name())),
                "{}: form does not name its root",
                m.full_name()
            );
            let hash = schema_hash(&m);
            assert_eq!(hash, hash_canonical(&form), "{}: hash is not the hash of the form", m.full_name());
            assert_eq!(hash, schema_hash(&m), "{}: hash is not stable", m.full_name());
            assert!(diff(&form, &form).is_empty(), "{}: a form differs from itself", m.full_name());
        }
    }
    let text = String::from_utf8_lossy(data);
    let (a, b) = text.split_once("\n\n\n").unwrap_or((&text, ""));
    assert!(diff(a, a).is_empty(), "a text differs from itself: {a:?}");
    let _ = diff(a, b);
}

/// The pool of an encoded `FileDescriptorSet`, or `None` when it is not
/// one or when prost-reflect would panic on it.
///
/// prost-reflect 0.16.5 panics (index out of bounds in `Label::new`,
/// descriptor/build/names.rs:60) while reporting a file whose `syntax` is
/// neither proto2 nor proto3: it looks the file up before adding it. Found
/// by this target; ampygen never hands it such a set (its pools come from
/// protox, which writes only those two, and the runtime decodes only the
/// sets ampygen generated), so the target steps around it rather than
/// stopping on it at every run.
pub fn pool_of(data: &[u8]) -> Option<DescriptorPool> {
    use ampy_bus::prost::Message as _;
    let set = ampy_bus::prost_types::FileDescriptorSet::decode(data).ok()?;
    if set.file.iter().any(|f| !matches!(f.syntax.as_deref(), None | Some("proto2") | Some("proto3"))) {
        return None;
    }
    DescriptorPool::from_file_descriptor_set(set).ok()
}
