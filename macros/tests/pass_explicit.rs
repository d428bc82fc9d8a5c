//! The explicit form: a payload type outside any registry, described by
//! its attribute.

use ampy_bus::prost_types::Timestamp;
use ampy_bus::{Delivery, Env, PartitionKey, RouteError, Schema, Topic};

const HASH: &str = "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

#[derive(Clone, PartialEq, prost::Message, ampy_bus::Payload)]
#[ampy(
    domain = "quotes",
    version = "v1",
    subtopic = "top.{venue}.{symbol}",
    key = "{symbol}|{venue}",
    schema = "acme.quotes.v1.Quote",
    schema_version = "1.2.0",
    schema_hash = "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
    qos = "realtime",
    dedupe = "quote_id"
)]
pub struct Quote {
    #[prost(string, tag = "1")]
    pub symbol: String,
    #[prost(string, tag = "2")]
    pub venue: String,
    #[prost(string, optional, tag = "3")]
    pub quote_id: Option<String>,
    #[prost(double, tag = "4")]
    pub bid: f64,
}

/// Every leaf kind the explicit form reads, in a namespace of its own and
/// with the default QoS and no hash.
#[derive(Clone, PartialEq, prost::Message, ampy_bus::Payload)]
#[ampy(
    namespace = "acme",
    domain = "ledger",
    version = "v2",
    subtopic = "{book}.{seq}.{live}",
    key = "{{{book}}}:{seq}:{live}:{at}:{shard}:{region}",
    schema = "acme.ledger.v2.Entry",
    schema_version = "2.0.0-rc.1"
)]
pub struct Entry {
    #[prost(string, tag = "1")]
    pub book: String,
    #[prost(uint64, tag = "2")]
    pub seq: u64,
    #[prost(bool, tag = "3")]
    pub live: bool,
    #[prost(message, optional, tag = "4")]
    pub at: Option<Timestamp>,
    #[prost(int32, optional, tag = "5")]
    pub shard: Option<i32>,
    #[prost(string, optional, tag = "6")]
    pub region: Option<String>,
}

fn quote() -> Quote {
    Quote { symbol: "AAPL".into(), venue: "XNAS".into(), quote_id: Some("q-1".into()), bid: 1.5 }
}

fn entry() -> Entry {
    Entry {
        book: "main".into(),
        seq: 42,
        live: true,
        at: Some(Timestamp { seconds: 1_757_100_661, nanos: 5_000_000 }),
        shard: Some(-3),
        region: Some("eu".into()),
    }
}

#[test]
fn subject_key_and_dedupe() {
    let q = quote();
    let subject = q.topic_for(Env::Prod).unwrap();
    assert_eq!(subject.as_str(), "ampy.prod.quotes.v1.top.XNAS.AAPL");
    assert_eq!(subject.kafka_topic(), "ampy.prod.quotes.v1");
    assert_eq!(q.partition_key().unwrap(), "AAPL|XNAS");
    assert_eq!(q.dedupe_key().as_deref(), Some("q-1"));
    assert_eq!(Quote { quote_id: None, ..quote() }.dedupe_key(), None);
    assert_eq!(Quote::pattern(Env::Paper).unwrap(), "ampy.paper.quotes.v1.top.*.*");
}

#[test]
fn constants() {
    assert_eq!(Quote::FQDN, "acme.quotes.v1.Quote");
    assert_eq!(Quote::SCHEMA_VERSION, "1.2.0");
    assert_eq!(Quote::SCHEMA_HASH, Some(HASH));
    assert_eq!(<Quote as Topic>::ID, "quotes.v1");
    assert_eq!(<Quote as Topic>::NAMESPACE, "ampy");
    assert_eq!(<Quote as Topic>::DOMAIN, "quotes");
    assert_eq!(<Quote as Topic>::VERSION, "v1");
    assert_eq!(<Quote as Topic>::SUBTOPIC, "top.{venue}.{symbol}");
    let qos = <Quote as Topic>::QOS;
    assert_eq!((qos.tier, qos.delivery, qos.p99_ms), ("realtime", Delivery::AtLeastOnce, Some(150)));

    assert_eq!(Entry::SCHEMA_HASH, None);
    assert_eq!(<Entry as Topic>::NAMESPACE, "acme");
    let qos = <Entry as Topic>::QOS;
    assert_eq!((qos.tier, qos.delivery, qos.p99_ms), ("standard", Delivery::AtLeastOnce, None));
}

#[test]
fn key_rules() {
    let err = Quote { symbol: String::new(), ..quote() }.partition_key().unwrap_err();
    assert_eq!(err, RouteError::EmptyKeyField { field: "symbol", path: "symbol", index: None });
    let err = Quote { venue: "X NAS".into(), ..quote() }.topic_for(Env::Prod).unwrap_err();
    assert!(matches!(&err, RouteError::IllegalToken { field: "venue", value, .. } if value == "X NAS"), "{err:?}");
    // Key fields are evaluated before subtopic tokens.
    let err = Quote { venue: "A.B".into(), symbol: String::new(), ..quote() }.topic_for(Env::Prod).unwrap_err();
    assert_eq!(err.kind(), "empty_key_field");
}

#[test]
fn every_leaf_kind() {
    let e = entry();
    assert_eq!(e.topic_for(Env::Dev).unwrap().as_str(), "acme.dev.ledger.v2.main.42.true");
    assert_eq!(e.partition_key().unwrap(), "{main}:42:true:2025-09-05T19:31:01.005Z:-3:eu");
    assert_eq!(e.dedupe_key(), None);
    let err = Entry { at: None, ..entry() }.partition_key().unwrap_err();
    assert_eq!(err, RouteError::EmptyKeyField { field: "at", path: "at", index: None });
    let err = Entry { at: Some(Timestamp { seconds: 0, nanos: -1 }), ..entry() }.partition_key().unwrap_err();
    assert_eq!(err.kind(), "invalid_timestamp");
    assert_eq!(Entry { shard: None, ..entry() }.partition_key().unwrap_err().kind(), "empty_key_field");
    assert_eq!(Entry { region: Some(String::new()), ..entry() }.partition_key().unwrap_err().kind(), "empty_key_field");
    // Implicit-presence scalars are never empty.
    let zero = Entry { seq: 0, live: false, ..entry() };
    assert_eq!(zero.topic_for(Env::Dev).unwrap().as_str(), "acme.dev.ledger.v2.main.0.false");
}

/// An env set of its own: the explicit form takes `env = "…"`, and only
/// that type's values form a subject.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DeskEnv {
    Sim,
    Live,
}

impl ampy_bus::EnvName for DeskEnv {
    const NAMES: &'static [&'static str] = &["sim", "live"];
    fn env_name(&self) -> &'static str {
        match self {
            DeskEnv::Sim => "sim",
            DeskEnv::Live => "live",
        }
    }
}

#[derive(Clone, PartialEq, prost::Message, ampy_bus::Payload)]
#[ampy(
    domain = "desk",
    version = "v1",
    subtopic = "{book}",
    key = "{book}",
    schema = "acme.desk.v1.Order",
    schema_version = "1.0.0",
    env = "DeskEnv"
)]
pub struct DeskOrder {
    #[prost(string, tag = "1")]
    pub book: String,
}

#[test]
fn a_named_env_type_forms_the_subjects() {
    let o = DeskOrder { book: "main".into() };
    assert_eq!(o.topic_for(DeskEnv::Live).unwrap().as_str(), "ampy.live.desk.v1.main");
    assert_eq!(<DeskOrder as Topic>::pattern(DeskEnv::Sim).unwrap(), "ampy.sim.desk.v1.*");
}
