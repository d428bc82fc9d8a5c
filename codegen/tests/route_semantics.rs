//! The key-value rules of docs/registry.md, case by case, against the
//! reference evaluator that generated code in every language must match.

use std::path::Path;

use ampygen::route::{self, RouteError, Routed};

fn project() -> ampygen::Project {
    ampygen::load(Path::new("tests/fixtures/route/registry.yaml")).unwrap_or_else(|d| panic!("{}", d.render_plain()))
}

fn run(topic: &str, env: &str, json: &str) -> Result<Routed, RouteError> {
    let p = project();
    let t = p.registry.find_topic(topic).expect("topic");
    let r = &p.resolved[&t.id()];
    let msg = route::decode_json(&r.message, json).expect("valid JSON");
    route::route(&p.registry, t, r, env, &msg)
}

fn key(topic: &str, json: &str) -> String {
    run(topic, "dev", json).unwrap_or_else(|e| panic!("{e}")).partition_key
}

fn err(topic: &str, json: &str) -> RouteError {
    run(topic, "dev", json).expect_err("must fail")
}

#[test]
fn first_element_only_with_index_zero() {
    let r = run("rt.v1.first", "dev", r#"{"items":[{"name":"A"},{"name":"B"}]}"#).unwrap();
    assert_eq!(r.subject, "ampy.dev.rt.v1.x.A");
    assert_eq!(r.partition_key, "A");
    assert_eq!(r.kafka_topic, "ampy.dev.rt.v1");
    assert_eq!(err("rt.v1.first", r#"{"items":[]}"#).kind(), "empty_batch");
    assert_eq!(err("rt.v1.first", r#"{}"#).kind(), "empty_batch");
}

#[test]
fn integers_bools_enums_and_timestamps_are_written_one_way() {
    let item = r#"{"n":"-5","u":"18446744073709551615","flag":true,"kind":"KIND_A","at":"2025-01-02T03:04:05.120Z"}"#;
    let json = format!(r#"{{"items":[{item},{item}]}}"#);
    assert_eq!(key("rt.v1.all", &json), "-5|18446744073709551615|true|KIND_A|2025-01-02T03:04:05.120Z");
    // Implicit-presence zero values are values, not empty.
    assert_eq!(
        key("rt.v1.all", r#"{"items":[{"at":"1970-01-01T00:00:00.000000001Z"}]}"#),
        "0|0|false|KIND_UNSPECIFIED|1970-01-01T00:00:00.000000001Z"
    );
    // An enum number without a declared name is written in base 10.
    assert_eq!(
        key("rt.v1.all", r#"{"items":[{"kind":7,"at":"2025-01-02T03:04:05.000123Z"}]}"#),
        "0|0|false|7|2025-01-02T03:04:05.000123Z"
    );
}

#[test]
fn an_unset_timestamp_is_empty_and_names_its_element() {
    let json = r#"{"items":[{"at":"2025-01-02T03:04:05Z"},{"n":"1"}]}"#;
    // `n` is declared first and disagrees at element 1 before `at` is read.
    assert!(matches!(err("rt.v1.all", json), RouteError::MixedKeys { ref field, index: 1, .. } if field == "n"));
    let json = r#"{"items":[{"at":"2025-01-02T03:04:05Z"},{}]}"#;
    assert_eq!(
        err("rt.v1.all", json),
        RouteError::EmptyKeyField { field: "at".into(), path: "items[*].at".into(), index: Some(1) }
    );
}

#[test]
fn nested_fan_out_flattens_in_visiting_order() {
    let ok = r#"{"items":[{"subs":[{"tag":"t"},{"tag":"t"}]},{"subs":[{"tag":"t"}]}]}"#;
    let r = run("rt.v1.nested", "dev", ok).unwrap();
    assert_eq!((r.subject.as_str(), r.partition_key.as_str()), ("ampy.dev.rt.v1.n.t", "t"));
    let mixed = r#"{"items":[{"subs":[{"tag":"t"},{"tag":"t"}]},{"subs":[{"tag":"u"}]}]}"#;
    assert_eq!(
        err("rt.v1.nested", mixed),
        RouteError::MixedKeys {
            field: "tag".into(),
            path: "items[*].subs[*].tag".into(),
            first: "t".into(),
            other: "u".into(),
            index: 2
        }
    );
    let inner_empty = r#"{"items":[{"subs":[{"tag":"t"}]},{"subs":[]}]}"#;
    assert_eq!(err("rt.v1.nested", inner_empty).kind(), "empty_batch");
}

#[test]
fn explicit_presence_and_empty_strings() {
    assert_eq!(err("rt.v1.opt", r#"{"items":[{}]}"#).kind(), "empty_key_field");
    assert_eq!(
        err("rt.v1.opt", r#"{"items":[{"opt":""}]}"#),
        RouteError::EmptyKeyField { field: "opt".into(), path: "items[0].opt".into(), index: None }
    );
    // `{{{opt}}}` is a literal brace around the value.
    assert_eq!(key("rt.v1.opt", r#"{"items":[{"opt":"x"}]}"#), "{x}");
}

#[test]
fn subject_tokens_are_checked_after_the_key_fields() {
    for bad in ["a b", "a.b", "a*", ">", "a\u{7}"] {
        let json = serde_json::json!({ "items": [{ "name": bad }] }).to_string();
        assert!(
            matches!(err("rt.v1.first", &json), RouteError::IllegalToken { ref value, .. } if value == bad),
            "{bad:?}"
        );
    }
    // Non-ASCII is a legal token.
    assert_eq!(
        run("rt.v1.first", "dev", r#"{"items":[{"name":"Zürich"}]}"#).unwrap().subject,
        "ampy.dev.rt.v1.x.Zürich"
    );
}

#[test]
fn envs_must_be_registered() {
    let e = run("rt.v1.first", "prod", r#"{"items":[{"name":"A"}]}"#).unwrap_err();
    assert_eq!(e, RouteError::UnknownEnv { env: "prod".into(), known: vec!["dev".into()] });
    assert!(e.is_usage());
}
