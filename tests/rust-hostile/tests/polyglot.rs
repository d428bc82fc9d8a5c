//! tests/hostile/hostile.yaml, the registry every backend must survive:
//! the Rust output compiles under `deny(warnings)` (this crate), keeps every
//! registry string exactly, and routes as `ampygen route` does.

use std::path::Path;

use ampy_bus::prost::Message;
use ampy_bus::Topic;
use ampy_rust_hostile::polyglot::ampy::func::v1::{func, Class, Func, Type};
use ampy_rust_hostile::polyglot::{topics, Env};

fn project() -> ampygen::Project {
    ampygen::load(Path::new("../hostile/hostile.yaml")).unwrap_or_else(|d| panic!("{}", d.render_plain()))
}

#[test]
fn registry_strings_are_kept_exactly() {
    let project = project();
    for (id, subtopic, format) in [
        ("func.v1.import", topics::func::v1::import::SUBTOPIC, topics::func::v1::import::KEY_FORMAT),
        ("func.v1.class", topics::func::v1::class::SUBTOPIC, topics::func::v1::class::KEY_FORMAT),
        ("func.v1.match", topics::func::v1::r#match::SUBTOPIC, topics::func::v1::r#match::KEY_FORMAT),
        ("func.v1.type", topics::func::v1::r#type::SUBTOPIC, topics::func::v1::r#type::KEY_FORMAT),
    ] {
        let t = project.registry.find_topic(id).unwrap();
        assert_eq!(subtopic, t.topic.subtopic.value.to_template(), "{id}");
        assert_eq!(format, t.topic.key.as_ref().unwrap().format.value.to_template(), "{id}");
    }
    // Decoded by hand from the YAML escapes, not from the parser.
    assert_eq!(topics::func::v1::import::SUBTOPIC, "lit\"q\\b'.{match}.x{{y}}ü.$${{a}}");
    assert_eq!(Env::ALL.map(|e| e.as_str()), ["dev", "type", "import"]);
}

fn payloads() -> Vec<Func> {
    let class = |f: &str| Class { func: f.into(), import: -1, none: "None".into() };
    let full = Func {
        class: Some(class("f\"u\\nc'")),
        r#type: "t y".into(),
        r#match: vec![class("m"), class("m")],
        kind: Type::Class as i32,
        len: "ü".into(),
        string: "${x}".into(),
        select: Some(func::Select::Def(class("d{{e}}f"))),
    };
    let mut go = full.clone();
    go.select = Some(func::Select::Go("g*o".into()));
    let mut mixed = full.clone();
    mixed.r#match[1].func = "other".into();
    vec![full, go, mixed, Func::default()]
}

#[test]
fn routes_like_the_reference_evaluator() {
    let project = project();
    let mut outcomes = std::collections::BTreeSet::new();
    for p in payloads() {
        let bytes = p.encode_to_vec();
        for (id, got) in [
            ("func.v1.import", topics::func::v1::Import::topic_for(&p, Env::Type).map(|s| s.into_string())),
            ("func.v1.class", topics::func::v1::Class::topic_for(&p, Env::Type).map(|s| s.into_string())),
            ("func.v1.match", topics::func::v1::Match::topic_for(&p, Env::Type).map(|s| s.into_string())),
            ("func.v1.type", topics::func::v1::Type::topic_for(&p, Env::Type).map(|s| s.into_string())),
        ] {
            let t = project.registry.find_topic(id).unwrap();
            let resolved = &project.resolved[&t.id()];
            let msg = prost_reflect::DynamicMessage::decode(resolved.message.clone(), bytes.as_slice()).unwrap();
            let want = ampygen::route::route(&project.registry, t, resolved, "type", &msg)
                .map(|r| r.subject)
                .map_err(|e| e.to_string());
            outcomes.insert(got.is_ok());
            assert_eq!(got.map_err(|e| e.to_string()), want, "{id} on {p:?}");
        }
    }
    assert_eq!(outcomes.len(), 2, "both successes and errors are exercised");
}
