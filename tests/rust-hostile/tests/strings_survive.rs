//! A registry of keywords and quoting hazards: the generated Rust compiled
//! (this crate builds under `deny(warnings)`), and every string it carries
//! is exactly the registry's, and routes exactly as `ampygen route` does.

use std::path::Path;

use ampy_bus::prost::Message;
use ampy_bus::{Schema, Topic};
use ampy_rust_hostile::hostile::ampy::r#type::v1::{r#type, Kind, Struct, Type};
use ampy_rust_hostile::hostile::{topics, Env};

fn payload() -> Type {
    Type {
        r#struct: Some(Struct { r#fn: "F\"n\\".into(), self_: 3 }),
        r#in: "ïn".into(),
        r#loop: vec![Struct { r#fn: String::new(), self_: -7 }, Struct { r#fn: "x".into(), self_: -7 }],
        r#enum: Some(r#type::Enum::Async(Struct { r#fn: "a$b{c}".into(), self_: 0 })),
        kind: Kind::Self_ as i32,
    }
}

#[test]
fn keyword_names_are_usable() {
    assert_eq!(Env::ALL, [Env::Dev, Env::Self_, Env::Match]);
    assert_eq!(Env::Self_.as_str(), "self");
    assert_eq!("match".parse::<Env>(), Ok(Env::Match));
    assert_eq!(topics::r#type::v1::Self_::ID, "type.v1.self");
    assert_eq!(topics::r#type::v1::Match::ID, "type.v1.match");
    assert_eq!(topics::r#type::v1::Crate::ID, "type.v1.crate");
    assert_eq!(Type::FQDN, "ampy.type.v1.Type");
    assert_eq!(topics::r#type::v1::Self_::QOS.tier, "fn");
    assert_eq!(topics::r#type::v1::Self_::QOS.p99_ms, Some(5));
}

#[test]
fn hostile_strings_are_kept_exactly() {
    assert_eq!(topics::r#type::v1::self_::SUBTOPIC, "lit\"q\\b.{match}.x{{y}}ü");
    assert_eq!(topics::r#type::v1::self_::KEY_FORMAT, "{match}|\"{crate}\"\\");
    assert_eq!(topics::r#type::v1::r#match::KEY_FORMAT, "{{{async}}}{loop}");
    let s = topics::r#type::v1::self_::subject(Env::Self_, "V").unwrap();
    assert_eq!(s.as_str(), "ampy.self.type.v1.lit\"q\\b.V.x{y}ü");
    let p = payload();
    assert_eq!(topics::r#type::v1::self_::partition_key(&p).unwrap(), "F\"n\\|\"ïn\"\\");
    assert_eq!(topics::r#type::v1::r#match::partition_key(&p).unwrap(), "{a$b{c}}-7");
    let sub = topics::r#type::v1::Match::topic_for(&p, Env::Match).unwrap();
    assert_eq!(sub.as_str(), "ampy.match.type.v1.m.a$b{c}.KIND_SELF");
}

#[test]
fn routes_like_the_reference_evaluator() {
    let project = ampygen::load(Path::new("registry/hostile.yaml")).unwrap_or_else(|d| panic!("{}", d.render_plain()));
    let mut payloads = vec![payload(), Type::default()];
    let mut q = payload();
    q.r#enum = Some(r#type::Enum::Box("b>x".into()));
    payloads.push(q);
    for p in &payloads {
        let bytes = p.encode_to_vec();
        for (id, got) in [
            ("type.v1.self", topics::r#type::v1::Self_::topic_for(p, Env::Dev).map(|s| s.into_string())),
            ("type.v1.match", topics::r#type::v1::Match::topic_for(p, Env::Dev).map(|s| s.into_string())),
            ("type.v1.crate", topics::r#type::v1::Crate::topic_for(p, Env::Dev).map(|s| s.into_string())),
        ] {
            let t = project.registry.find_topic(id).unwrap();
            let resolved = &project.resolved[&t.id()];
            let msg = prost_reflect::DynamicMessage::decode(resolved.message.clone(), bytes.as_slice()).unwrap();
            let want = ampygen::route::route(&project.registry, t, resolved, "dev", &msg)
                .map(|r| r.subject)
                .map_err(|e| e.to_string());
            assert_eq!(got.map_err(|e| e.to_string()), want, "{id} on {p:?}");
        }
    }
}
