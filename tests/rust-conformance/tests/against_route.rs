//! The generated Rust key and subject functions must give exactly what
//! `ampygen route`, the reference evaluator, gives: same subjects, same
//! keys, same error kinds and messages, on thousands of generated payloads
//! that hit every rule (empty batches, unset messages, mixed values, bad
//! timestamps, unknown enum numbers, hostile tokens, oneof members).

use std::path::Path;

use ampy_bus::prost::Message;
use ampy_bus::prost_types::Timestamp;
use ampy_rust_conformance::rt::ampy::rt::v1::{choice, Batch, Choice, Item, Sub};
use ampy_rust_conformance::rt::{topics, Env};
use prost_reflect::DynamicMessage;

/// xorshift64*: deterministic, so a failure reproduces from its seed.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
    fn pick<T: Clone>(&mut self, items: &[T]) -> T {
        items[self.below(items.len() as u64) as usize].clone()
    }
}

const STRINGS: &[&str] = &["A", "B", "", "XNAS", "a.b", "x y", "*", "ü", "hyper@2025"];

fn item(r: &mut Rng) -> Item {
    Item {
        name: r.pick(STRINGS).to_owned(),
        n: r.pick(&[0, -5, 7, i64::MIN]),
        u: r.pick(&[0, 1, u64::MAX]),
        flag: r.below(2) == 1,
        kind: r.pick(&[0, 1, 7]),
        at: match r.below(5) {
            0 => None,
            1 => Some(Timestamp { seconds: 0, nanos: 1_000_000_000 }),
            2 => Some(Timestamp { seconds: 1_757_100_661, nanos: 5_000_000 }),
            _ => Some(Timestamp { seconds: 1_757_100_661, nanos: 0 }),
        },
        opt: r.pick(&[None, Some(String::new()), Some("o".to_owned())]),
        subs: (0..r.below(3)).map(|_| Sub { tag: r.pick(STRINGS).to_owned() }).collect(),
    }
}

fn batch(r: &mut Rng) -> Batch {
    // Mostly agreeing elements, so that success paths are common too.
    let base = item(r);
    let items = (0..r.below(4)).map(|_| if r.below(3) == 0 { item(r) } else { base.clone() }).collect();
    Batch { items }
}

fn choice(r: &mut Rng) -> Choice {
    Choice {
        pick: match r.below(3) {
            0 => None,
            1 => Some(choice::Pick::Sub(Sub { tag: r.pick(STRINGS).to_owned() })),
            _ => Some(choice::Pick::Name(r.pick(STRINGS).to_owned())),
        },
        small: r.pick(&[0, -3, i32::MAX]),
        count: r.pick(&[0, 4, u32::MAX]),
    }
}

type Generated = Result<(String, String), ampy_bus::RouteError>;

fn reference(project: &ampygen::Project, topic: &str, bytes: &[u8]) -> Result<(String, String), String> {
    let t = project.registry.find_topic(topic).expect("topic");
    let resolved = &project.resolved[&t.id()];
    let msg = DynamicMessage::decode(resolved.message.clone(), bytes).expect("decodes");
    ampygen::route::route(&project.registry, t, resolved, "dev", &msg)
        .map(|r| (r.subject, r.partition_key))
        .map_err(|e| format!("{}: {e}", e.kind()))
}

fn generated(result: Generated) -> Result<(String, String), String> {
    result.map_err(|e| format!("{}: {e}", e.kind()))
}

fn both<T>(
    p: &T,
    topic_for: impl Fn(&T) -> Result<ampy_bus::Subject, ampy_bus::RouteError>,
    key: impl Fn(&T) -> Result<String, ampy_bus::RouteError>,
) -> Generated {
    // The route reports key errors before token errors, and so must the
    // pair of generated functions.
    let key = key(p)?;
    let subject = topic_for(p)?;
    Ok((subject.into_string(), key))
}

#[test]
fn generated_functions_agree_with_the_reference_evaluator() {
    let project = ampygen::load(Path::new("../../codegen/tests/fixtures/route/registry.yaml"))
        .unwrap_or_else(|d| panic!("{}", d.render_plain()));
    let mut r = Rng(0x9e37_79b9_7f4a_7c15);
    let mut kinds = std::collections::BTreeMap::<String, usize>::new();
    for case in 0..4000 {
        let b = batch(&mut r);
        let bytes = b.encode_to_vec();
        let checks: [(&str, Generated); 4] = [
            (
                "rt.v1.first",
                both(&b, |p| topics::rt::v1::first::topic_for(p, Env::Dev), topics::rt::v1::first::partition_key),
            ),
            (
                "rt.v1.all",
                both(&b, |p| topics::rt::v1::all::topic_for(p, Env::Dev), topics::rt::v1::all::partition_key),
            ),
            (
                "rt.v1.nested",
                both(&b, |p| topics::rt::v1::nested::topic_for(p, Env::Dev), topics::rt::v1::nested::partition_key),
            ),
            (
                "rt.v1.opt",
                both(&b, |p| topics::rt::v1::opt::topic_for(p, Env::Dev), topics::rt::v1::opt::partition_key),
            ),
        ];
        for (topic, got) in checks {
            let want = reference(&project, topic, &bytes);
            let got = generated(got);
            assert_eq!(got, want, "case {case} on {topic}: {b:?}");
            *kinds
                .entry(want.map_or_else(|e| e.split(':').next().unwrap_or("").to_owned(), |_| "ok".into()))
                .or_default() += 1;
        }
        let c = choice(&mut r);
        let bytes = c.encode_to_vec();
        let checks: [(&str, Generated); 2] = [
            (
                "rt.v1.choice_sub",
                both(
                    &c,
                    |p| topics::rt::v1::choice_sub::topic_for(p, Env::Dev),
                    topics::rt::v1::choice_sub::partition_key,
                ),
            ),
            (
                "rt.v1.choice_name",
                both(
                    &c,
                    |p| topics::rt::v1::choice_name::topic_for(p, Env::Dev),
                    topics::rt::v1::choice_name::partition_key,
                ),
            ),
        ];
        for (topic, got) in checks {
            let want = reference(&project, topic, &bytes);
            assert_eq!(generated(got), want, "case {case} on {topic}: {c:?}");
        }
    }
    // The generator must have exercised every outcome, or the test proves
    // little.
    for kind in ["ok", "empty_batch", "empty_key_field", "mixed_keys", "illegal_token", "invalid_timestamp"] {
        assert!(kinds.get(kind).copied().unwrap_or(0) > 20, "too few `{kind}` cases: {kinds:?}");
    }
}

#[test]
fn typed_builders_check_every_token() {
    assert_eq!(topics::rt::v1::first::subject(Env::Dev, "A").unwrap().as_str(), "ampy.dev.rt.v1.x.A");
    for bad in ["", "a.b", "*", ">", "a b", "a\tb", "a\u{85}b"] {
        let err = topics::rt::v1::first::subject(Env::Dev, bad).unwrap_err();
        assert_eq!(err.kind(), "illegal_token", "{bad:?}");
    }
    assert_eq!(topics::rt::v1::choice_name::subject(Env::Dev, -3).unwrap().as_str(), "ampy.dev.rt.v1.cn.-3");
    assert_eq!(topics::rt::v1::first::pattern_with(Env::Dev, None).unwrap(), "ampy.dev.rt.v1.x.*");
    assert_eq!(topics::rt::v1::first::pattern_with(Env::Dev, Some("A")).unwrap(), "ampy.dev.rt.v1.x.A");
    assert!(topics::rt::v1::first::pattern_with(Env::Dev, Some("A.B")).is_err());
    assert_eq!(topics::rt::v1::pattern(Env::Dev).unwrap(), "ampy.dev.rt.v1.>");
    assert_eq!(topics::rt::pattern(Env::Dev).unwrap(), "ampy.dev.rt.>");
    assert_eq!(topics::pattern(Env::Dev).unwrap(), "ampy.dev.>");
}
