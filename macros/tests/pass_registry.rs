//! The registry-backed form against the default registry: the contract's
//! worked examples, and each key-rule error a producer can hit.

use ampy_bus::key::TimestampValue;
use ampy_bus::{Delivery, Env, PartitionKey, RouteError, Schema, Topic};

#[derive(Clone, PartialEq, prost::Message)]
pub struct SecurityId {
    #[prost(string, tag = "1")]
    pub symbol: String,
    #[prost(string, tag = "2")]
    pub mic: String,
}

#[derive(Clone, PartialEq, prost::Message)]
pub struct Bar {
    #[prost(message, optional, tag = "1")]
    pub security: Option<SecurityId>,
    #[prost(int64, tag = "10")]
    pub volume: i64,
    #[prost(message, optional, tag = "15")]
    pub event_time: Option<ampy_bus::prost_types::Timestamp>,
}

/// Only the fields the key paths need, as a consumer that reads a subset
/// of the message would declare them.
#[derive(Clone, PartialEq, prost::Message, ampy_bus::Payload)]
#[ampy(registry = "../registry/ampy.yaml", topic = "bars.v1")]
pub struct BarBatch {
    #[prost(message, repeated, tag = "1")]
    pub bars: Vec<Bar>,
}

#[derive(Clone, PartialEq, prost::Message, ampy_bus::Payload)]
#[ampy(registry = "../registry/ampy.yaml", topic = "fills.v1.events")]
pub struct Fill {
    #[prost(string, tag = "1")]
    pub fill_id: String,
    #[prost(string, tag = "2")]
    pub account_id: String,
    #[prost(string, tag = "3")]
    pub client_order_id: String,
    #[prost(string, tag = "12")]
    pub venue: String,
}

fn bar(mic: &str, symbol: &str) -> Bar {
    Bar {
        security: Some(SecurityId { symbol: symbol.into(), mic: mic.into() }),
        volume: 100,
        event_time: Some(ampy_bus::prost_types::Timestamp { seconds: 1_757_100_661, nanos: 0 }),
    }
}

fn fill() -> Fill {
    Fill {
        fill_id: "f-0001".into(),
        account_id: "ALPACA-LIVE-01".into(),
        client_order_id: "co_20250905_001".into(),
        venue: "XNAS".into(),
    }
}

#[test]
fn bars_follow_the_worked_example() {
    let batch = BarBatch { bars: vec![bar("XNAS", "AAPL"), bar("XNAS", "AAPL")] };
    let subject = batch.topic_for(Env::Prod).unwrap();
    assert_eq!(subject.as_str(), "ampy.prod.bars.v1.XNAS.AAPL");
    assert_eq!(subject.kafka_topic(), "ampy.prod.bars.v1");
    assert_eq!(batch.partition_key().unwrap(), "XNAS.AAPL");
    assert_eq!(batch.dedupe_key(), None);
    assert_eq!(<BarBatch as Topic>::topic_for(&batch, "dev").unwrap().as_str(), "ampy.dev.bars.v1.XNAS.AAPL");
    assert_eq!(<BarBatch as Topic>::partition_key(&batch).unwrap(), "XNAS.AAPL");
    assert_eq!(BarBatch::pattern(Env::Prod).unwrap(), "ampy.prod.bars.v1.*.*");
}

#[test]
fn bars_constants_come_from_the_registry() {
    assert_eq!(BarBatch::FQDN, "ampy.bars.v1.BarBatch");
    assert_eq!(BarBatch::SCHEMA_VERSION, "1.0.0");
    let hash = BarBatch::SCHEMA_HASH.expect("bars.v1 is locked");
    assert!(hash.starts_with("sha256:") && hash.len() == 71, "{hash}");
    assert_eq!(<BarBatch as Topic>::ID, "bars.v1.bars");
    assert_eq!(<BarBatch as Topic>::NAMESPACE, "ampy");
    assert_eq!(<BarBatch as Topic>::DOMAIN, "bars");
    assert_eq!(<BarBatch as Topic>::VERSION, "v1");
    assert_eq!(<BarBatch as Topic>::SUBTOPIC, "{mic}.{symbol}");
    let qos = <BarBatch as Topic>::QOS;
    assert_eq!((qos.tier, qos.delivery, qos.p99_ms), ("realtime", Delivery::AtLeastOnce, Some(150)));
}

#[test]
fn mixed_keys_in_a_batch_are_rejected() {
    let batch = BarBatch { bars: vec![bar("XNAS", "AAPL"), bar("XNAS", "AAPL"), bar("XNAS", "MSFT")] };
    let err = batch.partition_key().unwrap_err();
    assert_eq!(
        err,
        RouteError::MixedKeys {
            field: "symbol",
            path: "bars[*].security.symbol",
            first: "AAPL".into(),
            other: "MSFT".into(),
            index: 2
        }
    );
    assert_eq!(batch.topic_for(Env::Prod).unwrap_err(), err);
}

#[test]
fn an_empty_batch_is_rejected() {
    let err = BarBatch { bars: vec![] }.topic_for(Env::Prod).unwrap_err();
    assert_eq!(err, RouteError::EmptyBatch { field: "mic", path: "bars[*].security.mic" });
    assert_eq!(err.kind(), "empty_batch");
}

#[test]
fn unset_and_empty_key_fields_are_rejected_with_their_index() {
    let mut batch = BarBatch { bars: vec![bar("XNAS", "AAPL"), bar("XNAS", "AAPL")] };
    batch.bars[1].security = None;
    let err = batch.partition_key().unwrap_err();
    assert_eq!(err, RouteError::EmptyKeyField { field: "mic", path: "bars[*].security.mic", index: Some(1) });
    let batch = BarBatch { bars: vec![bar("XNAS", "")] };
    assert_eq!(batch.partition_key().unwrap_err().kind(), "empty_key_field");
}

#[test]
fn a_hostile_token_is_rejected() {
    let batch = BarBatch { bars: vec![bar("XNAS", "A.B")] };
    let err = batch.topic_for(Env::Prod).unwrap_err();
    assert_eq!(err.kind(), "illegal_token");
    assert!(matches!(&err, RouteError::IllegalToken { field: "symbol", value, .. } if value == "A.B"), "{err:?}");
    // The key is not a subject token, so the same value is fine there.
    assert_eq!(batch.partition_key().unwrap(), "XNAS.A.B");
    assert_eq!(BarBatch { bars: vec![bar("XNAS", "AAPL")] }.topic_for("pr od").unwrap_err().kind(), "illegal_token");
}

#[test]
fn fills_follow_the_worked_example() {
    let f = fill();
    assert_eq!(f.partition_key().unwrap(), "ALPACA-LIVE-01|co_20250905_001");
    assert_eq!(f.topic_for(Env::Prod).unwrap().as_str(), "ampy.prod.fills.v1.events");
    assert_eq!(f.dedupe_key().as_deref(), Some("f-0001"));
    assert_eq!(Fill::FQDN, "ampy.fills.v1.Fill");
    assert_eq!(<Fill as Topic>::ID, "fills.v1.events");
    assert_eq!(<Fill as Topic>::QOS.p99_ms, Some(50));
    assert_eq!(<Fill as Topic>::QOS.tier, "critical");
}

#[test]
fn fills_report_the_first_empty_key_field() {
    let f = Fill { account_id: String::new(), client_order_id: String::new(), ..fill() };
    assert_eq!(
        f.partition_key().unwrap_err(),
        RouteError::EmptyKeyField { field: "account_id", path: "account_id", index: None }
    );
    let f = Fill { fill_id: String::new(), ..fill() };
    assert_eq!(f.dedupe_key(), None);
}

#[test]
fn prost_still_encodes_the_struct() {
    use prost::Message as _;
    let f = fill();
    assert_eq!(Fill::decode(f.encode_to_vec().as_slice()).unwrap(), f);
    let _ = TimestampValue { seconds: 0, nanos: 0 };
}

/// The derive expands in the user's scope: shadowing prelude names there
/// must not break it.
mod shadowed_prelude {
    #[allow(dead_code)]
    type Result<T> = core::result::Result<T, ()>;
    #[allow(dead_code)]
    struct String;
    #[allow(dead_code)]
    struct Option;

    #[derive(Clone, PartialEq, prost::Message, ampy_bus::Payload)]
    #[ampy(registry = "../registry/ampy.yaml", topic = "orders.v1")]
    pub struct OrderRequest {
        #[prost(string, tag = "1")]
        pub client_order_id: ::std::string::String,
    }

    #[test]
    fn still_routes() {
        use ampy_bus::PartitionKey;
        let o = OrderRequest { client_order_id: "co_20250905_001".into() };
        assert_eq!(o.partition_key().unwrap(), "co_20250905_001");
        assert_eq!(o.topic_for(ampy_bus::Env::Paper).unwrap().as_str(), "ampy.paper.orders.v1.requests");
    }
}
