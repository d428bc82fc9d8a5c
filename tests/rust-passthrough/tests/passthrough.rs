//! Each prost-build option passed through build.rs, observed in the
//! generated types: the type annotations fail to compile and the JSON
//! assertions fail at run time if an option is dropped or misapplied.

use std::collections::BTreeMap;

use ampy_bus::prost::bytes::Bytes;
use ampy_bus::{Envelope, PartitionKey};
use ampy_rust_passthrough::contract::acme::pass::v1::{Leg, Side, Trade};
use ampy_rust_passthrough::contract::Env;
use serde_json::json;

fn trade() -> Trade {
    Trade {
        symbol: "AAPL".into(),
        venue: "XNAS".into(),
        side: Side::Sell as i32,
        // `bytes`: the field is `bytes::Bytes`, not `Vec<u8>`.
        payload: Bytes::from_static(b"\x00raw\xff"),
        // `btree_map`: the map is a `BTreeMap`, not a `HashMap`.
        labels: BTreeMap::from([("z".to_owned(), "last".to_owned()), ("a".to_owned(), "first".to_owned())]),
        legs: vec![Leg { venue: "XNAS".into(), fill_qty: 60 }, Leg { venue: "BATS".into(), fill_qty: 40 }],
        order_qty: 100,
    }
}

#[test]
fn type_message_and_field_attributes_shape_the_json() {
    let value = serde_json::to_value(trade()).unwrap();
    // type_attribute: Serialize on messages (Trade, Leg) and enums (Side).
    // message_attribute: camelCase field names (`order_qty`, `fill_qty`).
    // field_attribute: `symbol` renamed, `payload` skipped.
    // btree_map: serialised in key order.
    assert_eq!(
        value,
        json!({
            "ticker": "AAPL",
            "venue": "XNAS",
            "side": 2,
            "labels": {"a": "first", "z": "last"},
            "legs": [{"venue": "XNAS", "fillQty": 60}, {"venue": "BATS", "fillQty": 40}],
            "orderQty": 100,
        })
    );
    let text = serde_json::to_string(&trade()).unwrap();
    assert!(text.contains(r#""labels":{"a":"first","z":"last"}"#), "{text}");
}

#[test]
fn enum_attribute_reaches_enums_and_message_attribute_does_not() {
    // type_attribute gave Side Serialize; enum_attribute renamed its
    // variants. Had message_attribute reached it, they would be camelCase
    // (or the two `rename_all`s would not compile).
    assert_eq!(serde_json::to_value(Side::Sell).unwrap(), json!("SELL"));
    assert_eq!(serde_json::to_value(Side::Unspecified).unwrap(), json!("UNSPECIFIED"));
}

#[test]
fn bytes_and_btree_map_change_the_field_types() {
    let t = trade();
    let payload: &Bytes = &t.payload;
    let labels: &BTreeMap<String, String> = &t.labels;
    assert_eq!(payload.as_ref(), b"\x00raw\xff");
    assert_eq!(labels.keys().map(String::as_str).collect::<Vec<_>>(), ["a", "z"]);
}

#[test]
fn the_bindings_route_and_carry_the_changed_types() {
    let t = trade();
    assert_eq!(t.topic_for(Env::Prod).unwrap().as_str(), "acme.prod.trades.v1.XNAS.AAPL");
    assert_eq!(t.partition_key().unwrap(), "XNAS.AAPL");
    let record = Envelope::builder(t.clone())
        .producer("passthrough@1")
        .source("test")
        .run_id("r-1")
        .build()
        .unwrap()
        .encode()
        .unwrap();
    let back = Envelope::<Trade>::decode_record(&record).unwrap();
    assert!(back.payload == t, "the Bytes payload and the BTreeMap labels survive the wire");
}
