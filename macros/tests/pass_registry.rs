//! The registry-backed form against the default registry: the contract's
//! worked examples, and each key-rule error a producer can hit. Every
//! struct is the whole message, as the derive requires; the nested types
//! are checked by `#[derive(WireShape)]` (tests/common).

mod common;

use ampy_bus::key::TimestampValue;
use ampy_bus::prost_types::Timestamp;
use ampy_bus::{Delivery, Env, PartitionKey, RouteError, Schema, Topic, WireShape};
use common::{Decimal, Meta, Money, SecurityId};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, prost::Enumeration, ampy_bus::WireShape)]
#[repr(i32)]
#[ampy(registry = "../registry/ampy.yaml", enumeration = "ampy.bars.v1.IntervalUnit")]
pub enum IntervalUnit {
    Unspecified = 0,
    Second = 1,
    Minute = 2,
    Hour = 3,
    Day = 4,
    Week = 5,
    Month = 6,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, prost::Enumeration, ampy_bus::WireShape)]
#[repr(i32)]
#[ampy(registry = "../registry/ampy.yaml", enumeration = "ampy.bars.v1.AdjustmentPolicy")]
pub enum AdjustmentPolicy {
    Unspecified = 0,
    Raw = 1,
    SplitOnly = 2,
    SplitAndDividend = 3,
}

#[derive(Clone, Copy, PartialEq, prost::Message, ampy_bus::WireShape)]
#[ampy(registry = "../registry/ampy.yaml", message = "ampy.bars.v1.BarInterval")]
pub struct BarInterval {
    #[prost(enumeration = "IntervalUnit", tag = "1")]
    pub unit: i32,
    #[prost(int32, tag = "2")]
    pub count: i32,
}

#[derive(Clone, PartialEq, prost::Message, ampy_bus::WireShape)]
#[ampy(registry = "../registry/ampy.yaml", message = "ampy.bars.v1.Bar")]
pub struct Bar {
    #[prost(message, optional, tag = "1")]
    pub security: Option<SecurityId>,
    #[prost(message, optional, tag = "2")]
    pub start: Option<Timestamp>,
    #[prost(message, optional, tag = "3")]
    pub end: Option<Timestamp>,
    #[prost(message, optional, tag = "4")]
    pub interval: Option<BarInterval>,
    #[prost(message, optional, tag = "5")]
    pub open: Option<Decimal>,
    #[prost(message, optional, tag = "6")]
    pub high: Option<Decimal>,
    #[prost(message, optional, tag = "7")]
    pub low: Option<Decimal>,
    #[prost(message, optional, tag = "8")]
    pub close: Option<Decimal>,
    #[prost(message, optional, tag = "9")]
    pub vwap: Option<Decimal>,
    #[prost(int64, tag = "10")]
    pub volume: i64,
    #[prost(int32, tag = "11")]
    pub trade_count: i32,
    #[prost(bool, tag = "12")]
    pub adjusted: bool,
    #[prost(enumeration = "AdjustmentPolicy", tag = "13")]
    pub adjustment_policy: i32,
    #[prost(string, tag = "14")]
    pub currency: String,
    #[prost(message, optional, tag = "15")]
    pub event_time: Option<Timestamp>,
    #[prost(message, optional, tag = "16")]
    pub ingest_time: Option<Timestamp>,
    #[prost(bool, tag = "17")]
    pub is_final: bool,
}

/// Tags left out: prost infers each as the previous one plus one, and the
/// derive checks the inferred tags.
#[derive(Clone, PartialEq, prost::Message, ampy_bus::Payload)]
#[ampy(registry = "../registry/ampy.yaml", topic = "bars.v1")]
pub struct BarBatch {
    #[prost(message, repeated)]
    pub bars: Vec<Bar>,
    #[prost(message, optional)]
    pub meta: Option<Meta>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, prost::Enumeration, ampy_bus::WireShape)]
#[repr(i32)]
#[ampy(registry = "../registry/ampy.yaml", enumeration = "ampy.orders.v1.Side")]
pub enum Side {
    Unspecified = 0,
    Buy = 1,
    Sell = 2,
    SellShort = 3,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, prost::Enumeration, ampy_bus::WireShape)]
#[repr(i32)]
#[ampy(registry = "../registry/ampy.yaml", enumeration = "ampy.fills.v1.Liquidity")]
pub enum Liquidity {
    Unspecified = 0,
    Maker = 1,
    Taker = 2,
    Auction = 3,
}

#[derive(Clone, PartialEq, prost::Message, ampy_bus::Payload)]
#[ampy(registry = "../registry/ampy.yaml", topic = "fills.v1.events", env = "ampy_bus::Env")]
pub struct Fill {
    #[prost(string, tag = "1")]
    pub fill_id: String,
    #[prost(string, tag = "2")]
    pub account_id: String,
    #[prost(string, tag = "3")]
    pub client_order_id: String,
    #[prost(string, tag = "4")]
    pub broker_order_id: String,
    #[prost(message, optional, tag = "5")]
    pub security: Option<SecurityId>,
    #[prost(enumeration = "Side", tag = "6")]
    pub side: i32,
    #[prost(message, optional, tag = "7")]
    pub quantity: Option<Decimal>,
    #[prost(message, optional, tag = "8")]
    pub price: Option<Decimal>,
    #[prost(string, tag = "9")]
    pub currency: String,
    #[prost(message, optional, tag = "10")]
    pub fee: Option<Money>,
    #[prost(enumeration = "Liquidity", tag = "11")]
    pub liquidity: i32,
    #[prost(string, tag = "12")]
    pub venue: String,
    #[prost(message, optional, tag = "13")]
    pub event_time: Option<Timestamp>,
    #[prost(message, optional, tag = "14")]
    pub ingest_time: Option<Timestamp>,
    #[prost(message, optional, tag = "15")]
    pub meta: Option<Meta>,
}

/// A oneof whose members are a message and an enum.
pub mod signal {
    #[derive(Clone, PartialEq, prost::Oneof, ampy_bus::WireShape)]
    #[ampy(registry = "../registry/ampy.yaml", oneof = "ampy.signals.v1.Signal.value")]
    pub enum Value {
        #[prost(message, tag = "5")]
        Score(super::Decimal),
        #[prost(enumeration = "super::Action", tag = "6")]
        Action(i32),
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, prost::Enumeration, ampy_bus::WireShape)]
#[repr(i32)]
#[ampy(registry = "../registry/ampy.yaml", enumeration = "ampy.signals.v1.SignalType")]
pub enum SignalType {
    Unspecified = 0,
    Alpha = 1,
    Action = 2,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, prost::Enumeration, ampy_bus::WireShape)]
#[repr(i32)]
#[ampy(registry = "../registry/ampy.yaml", enumeration = "ampy.signals.v1.Action")]
pub enum Action {
    Unspecified = 0,
    Buy = 1,
    Sell = 2,
    Hold = 3,
    SellShort = 4,
    BuyToCover = 5,
}

#[derive(Clone, PartialEq, prost::Message, ampy_bus::Payload)]
#[ampy(registry = "../registry/ampy.yaml", topic = "signals.v1")]
pub struct Signal {
    #[prost(string, tag = "1")]
    pub model_id: String,
    #[prost(message, optional, tag = "2")]
    pub security: Option<SecurityId>,
    #[prost(string, tag = "3")]
    pub horizon: String,
    #[prost(enumeration = "SignalType", tag = "4")]
    pub r#type: i32,
    #[prost(oneof = "signal::Value", tags = "5, 6")]
    pub value: Option<signal::Value>,
    #[prost(message, optional, tag = "7")]
    pub confidence: Option<Decimal>,
    #[prost(string, tag = "8")]
    pub signal_id: String,
    #[prost(message, optional, tag = "9")]
    pub as_of: Option<Timestamp>,
    #[prost(message, optional, tag = "10")]
    pub expires_at: Option<Timestamp>,
    #[prost(message, optional, tag = "11")]
    pub meta: Option<Meta>,
}

fn bar(mic: &str, symbol: &str) -> Bar {
    Bar {
        security: Some(common::security(mic, symbol)),
        volume: 100,
        event_time: Some(Timestamp { seconds: 1_757_100_661, nanos: 0 }),
        ..Default::default()
    }
}

fn batch(bars: Vec<Bar>) -> BarBatch {
    BarBatch { bars, meta: None }
}

fn fill() -> Fill {
    Fill {
        fill_id: "f-0001".into(),
        account_id: "ALPACA-LIVE-01".into(),
        client_order_id: "co_20250905_001".into(),
        venue: "XNAS".into(),
        side: Side::Buy as i32,
        ..Default::default()
    }
}

#[test]
fn bars_follow_the_worked_example() {
    let batch = batch(vec![bar("XNAS", "AAPL"), bar("XNAS", "AAPL")]);
    let subject = batch.topic_for(Env::Prod).unwrap();
    assert_eq!(subject.as_str(), "ampy.prod.bars.v1.XNAS.AAPL");
    assert_eq!(subject.kafka_topic(), "ampy.prod.bars.v1");
    assert_eq!(batch.partition_key().unwrap(), "XNAS.AAPL");
    assert_eq!(batch.dedupe_key(), None);
    assert_eq!(<BarBatch as Topic>::topic_for(&batch, Env::Dev).unwrap().as_str(), "ampy.dev.bars.v1.XNAS.AAPL");
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
    let batch = batch(vec![bar("XNAS", "AAPL"), bar("XNAS", "AAPL"), bar("XNAS", "MSFT")]);
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
    let err = batch(vec![]).topic_for(Env::Prod).unwrap_err();
    assert_eq!(err, RouteError::EmptyBatch { field: "mic", path: "bars[*].security.mic" });
    assert_eq!(err.kind(), "empty_batch");
}

#[test]
fn unset_and_empty_key_fields_are_rejected_with_their_index() {
    let mut batch = batch(vec![bar("XNAS", "AAPL"), bar("XNAS", "AAPL")]);
    batch.bars[1].security = None;
    let err = batch.partition_key().unwrap_err();
    assert_eq!(err, RouteError::EmptyKeyField { field: "mic", path: "bars[*].security.mic", index: Some(1) });
    let batch = self::batch(vec![bar("XNAS", "")]);
    assert_eq!(batch.partition_key().unwrap_err().kind(), "empty_key_field");
}

#[test]
fn a_hostile_token_is_rejected() {
    let batch = batch(vec![bar("XNAS", "A.B")]);
    let err = batch.topic_for(Env::Prod).unwrap_err();
    assert_eq!(err.kind(), "illegal_token");
    assert!(matches!(&err, RouteError::IllegalToken { field: "symbol", value, .. } if value == "A.B"), "{err:?}");
    // The key is not a subject token, so the same value is fine there.
    assert_eq!(batch.partition_key().unwrap(), "XNAS.A.B");
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

/// Every field set, so that a wrong tag, type or label anywhere would
/// show in the round trip below.
fn full_bar() -> Bar {
    let d = |scaled| Some(Decimal { scaled, scale: 2 });
    let t = |seconds| Some(Timestamp { seconds, nanos: 5_000_000 });
    Bar {
        security: Some(SecurityId {
            symbol: "AAPL".into(),
            mic: "XNAS".into(),
            figi: "BBG000B9XRY4".into(),
            isin: "US0378331005".into(),
        }),
        start: t(1_757_100_600),
        end: t(1_757_100_660),
        interval: Some(BarInterval { unit: IntervalUnit::Minute as i32, count: 1 }),
        open: d(19_001),
        high: d(19_050),
        low: d(18_990),
        close: d(19_020),
        vwap: d(19_010),
        volume: 12_345_678_901,
        trade_count: -7,
        adjusted: true,
        adjustment_policy: AdjustmentPolicy::SplitAndDividend as i32,
        currency: "USD".into(),
        event_time: t(1_757_100_661),
        ingest_time: t(1_757_100_662),
        is_final: true,
    }
}

/// The derived structs and the registry's descriptors agree on the wire:
/// bytes prost writes from the structs decode through the descriptors
/// (prost-reflect) to the same values, and back.
#[test]
fn derived_structs_match_the_registry_on_the_wire() {
    use prost::Message as _;
    use prost_reflect::{DynamicMessage, Value};

    let project = ampygen::load(std::path::Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../registry/ampy.yaml")))
        .expect("the default registry loads");
    let pool = &project.compiled.pool;
    let meta = Meta {
        run_id: "r-1".into(),
        source: "test".into(),
        producer: "macros@1".into(),
        schema_version: "1.0.0".into(),
        produced_at: Some(Timestamp { seconds: 1, nanos: 2 }),
        upstream_ids: vec!["a".into(), "b".into()],
        code_version: "abc".into(),
    };
    let batch = BarBatch { bars: vec![full_bar(), Bar { volume: 1, ..full_bar() }], meta: Some(meta) };
    let desc = pool.get_message_by_name(BarBatch::FQDN).expect("BarBatch");
    let dynamic = DynamicMessage::decode(desc, batch.encode_to_vec().as_slice()).expect("decodes");
    let bars = dynamic.get_field_by_name("bars").expect("bars");
    let Value::List(bars) = bars.as_ref() else { panic!("bars is a list: {bars:?}") };
    let first = bars[0].as_message().expect("a Bar");
    assert_eq!(first.get_field_by_name("volume").and_then(|v| v.as_i64()), Some(12_345_678_901));
    assert_eq!(first.get_field_by_name("trade_count").and_then(|v| v.as_i32()), Some(-7));
    assert_eq!(first.get_field_by_name("adjustment_policy").and_then(|v| v.as_enum_number()), Some(3));
    let security = first.get_field_by_name("security").expect("security");
    let isin = security.as_message().and_then(|m| m.get_field_by_name("isin")).map(|v| v.as_str().map(str::to_owned));
    assert_eq!(isin, Some(Some("US0378331005".to_owned())));
    assert!(dynamic.unknown_fields().next().is_none(), "every field is known to the descriptor");
    assert_eq!(BarBatch::decode(dynamic.encode_to_vec().as_slice()).unwrap(), batch);

    let signal = Signal {
        model_id: "m1".into(),
        security: Some(common::security("XNAS", "AAPL")),
        r#type: SignalType::Action as i32,
        value: Some(signal::Value::Action(Action::BuyToCover as i32)),
        signal_id: "s-1".into(),
        ..Default::default()
    };
    let desc = pool.get_message_by_name(Signal::FQDN).expect("Signal");
    let dynamic = DynamicMessage::decode(desc, signal.encode_to_vec().as_slice()).expect("decodes");
    assert_eq!(dynamic.get_field_by_name("action").and_then(|v| v.as_enum_number()), Some(5));
    assert_eq!(Signal::decode(dynamic.encode_to_vec().as_slice()).unwrap(), signal);
}

#[test]
fn signals_route_through_a_oneof_holder() {
    let s = Signal {
        model_id: "alpha-7".into(),
        security: Some(common::security("XNAS", "AAPL")),
        value: Some(signal::Value::Score(Decimal { scaled: 5, scale: 1 })),
        signal_id: "sig-1".into(),
        ..Default::default()
    };
    assert_eq!(s.topic_for(Env::Prod).unwrap().as_str(), "ampy.prod.signals.v1.alpha-7");
    assert_eq!(s.partition_key().unwrap(), "alpha-7|AAPL.XNAS");
    assert_eq!(s.dedupe_key().as_deref(), Some("sig-1"));
}

/// `WireShape` is implemented for every derived type: the payload's shape
/// is its canonical schema hash, the one the registry locks.
#[test]
fn wire_shapes_name_their_definitions() {
    assert_eq!(<BarBatch as WireShape>::PROTO, "ampy.bars.v1.BarBatch");
    assert_eq!(Some(<BarBatch as WireShape>::SHAPE), BarBatch::SCHEMA_HASH);
    assert_eq!(Some(<Fill as WireShape>::SHAPE), Fill::SCHEMA_HASH);
    assert_eq!(<Bar as WireShape>::PROTO, "ampy.bars.v1.Bar");
    assert_eq!(<signal::Value as WireShape>::PROTO, "ampy.signals.v1.Signal.value");
    assert_eq!(<Side as WireShape>::PROTO, "ampy.orders.v1.Side");
    for shape in [<Bar as WireShape>::SHAPE, <signal::Value as WireShape>::SHAPE, <Side as WireShape>::SHAPE] {
        assert!(shape.starts_with("sha256:") && shape.len() == 71, "{shape}");
    }
    assert_ne!(<Side as WireShape>::SHAPE, <Liquidity as WireShape>::SHAPE);
}

/// The derive expands in the user's scope: shadowing prelude names there
/// must not break it. Also a oneof of messages, and nested enums.
mod shadowed_prelude {
    use super::common::{Decimal, Meta, SecurityId};
    use super::Side;
    use ampy_bus::prost_types::Timestamp;

    #[allow(dead_code)]
    type Result<T> = core::result::Result<T, ()>;
    #[allow(dead_code)]
    struct String;
    #[allow(dead_code)]
    struct Option;

    #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, prost::Enumeration, ampy_bus::WireShape)]
    #[repr(i32)]
    #[ampy(registry = "../registry/ampy.yaml", enumeration = "ampy.orders.v1.OrderType")]
    pub enum OrderType {
        Unspecified = 0,
        Market = 1,
        Limit = 2,
        Stop = 3,
        StopLimit = 4,
    }

    #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, prost::Enumeration, ampy_bus::WireShape)]
    #[repr(i32)]
    #[ampy(registry = "../registry/ampy.yaml", enumeration = "ampy.orders.v1.TimeInForce")]
    pub enum TimeInForce {
        Unspecified = 0,
        Day = 1,
        Gtc = 2,
        Ioc = 3,
        Fok = 4,
        Opg = 5,
        Cls = 6,
        Gtd = 7,
    }

    #[derive(Clone, PartialEq, prost::Message, ampy_bus::WireShape)]
    #[ampy(registry = "../registry/ampy.yaml", message = "ampy.orders.v1.NewOrder")]
    pub struct NewOrder {
        #[prost(enumeration = "Side", tag = "1")]
        pub side: i32,
        #[prost(enumeration = "OrderType", tag = "2")]
        pub order_type: i32,
        #[prost(message, optional, tag = "3")]
        pub quantity: ::core::option::Option<Decimal>,
        #[prost(message, optional, tag = "4")]
        pub limit_price: ::core::option::Option<Decimal>,
        #[prost(message, optional, tag = "5")]
        pub stop_price: ::core::option::Option<Decimal>,
        #[prost(enumeration = "TimeInForce", tag = "6")]
        pub time_in_force: i32,
        #[prost(message, optional, tag = "7")]
        pub expire_at: ::core::option::Option<Timestamp>,
        #[prost(bool, tag = "8")]
        pub extended_hours: bool,
        #[prost(string, tag = "9")]
        pub currency: ::std::string::String,
    }

    #[derive(Clone, PartialEq, prost::Message, ampy_bus::WireShape)]
    #[ampy(registry = "../registry/ampy.yaml", message = "ampy.orders.v1.AmendOrder")]
    pub struct AmendOrder {
        #[prost(message, optional, tag = "1")]
        pub quantity: ::core::option::Option<Decimal>,
        #[prost(message, optional, tag = "2")]
        pub limit_price: ::core::option::Option<Decimal>,
        #[prost(message, optional, tag = "3")]
        pub stop_price: ::core::option::Option<Decimal>,
        #[prost(enumeration = "TimeInForce", tag = "4")]
        pub time_in_force: i32,
    }

    #[derive(Clone, PartialEq, prost::Message, ampy_bus::WireShape)]
    #[ampy(registry = "../registry/ampy.yaml", message = "ampy.orders.v1.CancelOrder")]
    pub struct CancelOrder {
        #[prost(string, tag = "1")]
        pub reason: ::std::string::String,
    }

    pub mod order_request {
        #[derive(Clone, PartialEq, prost::Oneof, ampy_bus::WireShape)]
        #[ampy(registry = "../registry/ampy.yaml", oneof = "ampy.orders.v1.OrderRequest.request")]
        pub enum Request {
            #[prost(message, tag = "4")]
            Submit(super::NewOrder),
            #[prost(message, tag = "5")]
            Amend(super::AmendOrder),
            #[prost(message, tag = "6")]
            Cancel(super::CancelOrder),
        }
    }

    #[derive(Clone, PartialEq, prost::Message, ampy_bus::Payload)]
    #[ampy(registry = "../registry/ampy.yaml", topic = "orders.v1")]
    pub struct OrderRequest {
        #[prost(string, tag = "1")]
        pub client_order_id: ::std::string::String,
        #[prost(string, tag = "2")]
        pub account_id: ::std::string::String,
        #[prost(message, optional, tag = "3")]
        pub security: ::core::option::Option<SecurityId>,
        #[prost(oneof = "order_request::Request", tags = "4, 5, 6")]
        pub request: ::core::option::Option<order_request::Request>,
        #[prost(message, optional, tag = "7")]
        pub submitted_at: ::core::option::Option<Timestamp>,
        #[prost(string, tag = "8")]
        pub strategy_id: ::std::string::String,
        #[prost(string, tag = "9")]
        pub signal_id: ::std::string::String,
        #[prost(message, optional, tag = "10")]
        pub meta: ::core::option::Option<Meta>,
    }

    #[test]
    fn still_routes() {
        use ampy_bus::PartitionKey;
        let o = OrderRequest {
            client_order_id: "co_20250905_001".into(),
            request: Some(order_request::Request::Cancel(CancelOrder { reason: "done".into() })),
            ..Default::default()
        };
        assert_eq!(o.partition_key().unwrap(), "co_20250905_001");
        assert_eq!(o.topic_for(ampy_bus::Env::Paper).unwrap().as_str(), "ampy.paper.orders.v1.requests");
    }
}
