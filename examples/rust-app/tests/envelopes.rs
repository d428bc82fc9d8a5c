//! Envelopes for several domains built from the generated types, through
//! encode and decode, including a gzipped payload over 128 KiB and the
//! typed errors a consumer must tell apart.

use ampy_bus::prost::Message;
use ampy_bus::prost_types::Timestamp;
use ampy_bus::{Envelope, EnvelopeError, PartitionKey, Record, Schema};
use ampy_example::contract::ampy::common::v1::{Decimal, SecurityId};
use ampy_example::contract::ampy::{bars, fills, news, orders};

fn sec(symbol: &str, mic: &str) -> Option<SecurityId> {
    Some(SecurityId { symbol: symbol.into(), mic: mic.into(), ..Default::default() })
}

fn envelope<T: Schema + PartitionKey + Message>(payload: T) -> Envelope<T> {
    Envelope::builder(payload)
        .producer("ampy-example@test-1")
        .source("ampy-example")
        .run_id("run-2025-09-05")
        .build()
        .unwrap_or_else(|e| panic!("{e}"))
}

fn round_trip<T: Schema + PartitionKey + Message + Default + PartialEq + std::fmt::Debug>(payload: T) -> Record {
    let env = envelope(payload);
    let record = env.encode().unwrap_or_else(|e| panic!("{e}"));
    let back = Envelope::<T>::decode_record(&record).unwrap_or_else(|e| panic!("{e}"));
    assert!(back == env, "decode(encode(x)) == x");
    record
}

fn bar(symbol: &str, i: i64) -> bars::v1::Bar {
    bars::v1::Bar {
        security: sec(symbol, "XNAS"),
        open: Some(Decimal { scaled: 1_912_300 + i, scale: 4 }),
        volume: 1_000 + i,
        event_time: Some(Timestamp { seconds: 1_757_100_600 + i * 60, nanos: 0 }),
        ..Default::default()
    }
}

#[test]
fn envelopes_for_several_domains_round_trip() {
    let batch = bars::v1::BarBatch { bars: vec![bar("AAPL", 0), bar("AAPL", 1)], ..Default::default() };
    let record = round_trip(batch);
    assert_eq!(record.header("schema_fqdn"), Some("ampy.bars.v1.BarBatch"));
    assert_eq!(record.header("partition_key"), Some("XNAS.AAPL"));
    assert_eq!(record.header("content_type"), Some("application/x-protobuf"));
    assert_eq!(record.header("schema_hash"), bars::v1::BarBatch::SCHEMA_HASH);
    assert_eq!(record.header("content_encoding"), None, "small payloads are not gzipped");
    let produced_at = record.header("produced_at").unwrap();
    assert!(produced_at.ends_with('Z') && produced_at.len() >= 20, "{produced_at}");
    let traceparent = record.header("traceparent").unwrap();
    assert_eq!(traceparent.len(), 55, "{traceparent}");
    let id = record.header("message_id").unwrap();
    assert_eq!(&id[14..15], "7", "UUIDv7: {id}");

    let order = orders::v1::OrderRequest {
        client_order_id: "co_20250905_001".into(),
        account_id: "ALPACA-LIVE-01".into(),
        security: sec("AAPL", "XNAS"),
        request: Some(orders::v1::order_request::Request::Submit(orders::v1::NewOrder {
            side: orders::v1::Side::Buy as i32,
            quantity: Some(Decimal { scaled: 100, scale: 0 }),
            ..Default::default()
        })),
        ..Default::default()
    };
    let record = round_trip(order);
    assert_eq!(record.header("partition_key"), Some("co_20250905_001"));
    assert_eq!(record.header("dedupe_key"), Some("co_20250905_001"));

    let fill = fills::v1::Fill {
        fill_id: "f-1".into(),
        account_id: "ALPACA-LIVE-01".into(),
        client_order_id: "co_20250905_001".into(),
        ..Default::default()
    };
    assert_eq!(round_trip(fill).header("partition_key"), Some("ALPACA-LIVE-01|co_20250905_001"));

    // Unicode in free text survives byte for byte.
    let item = news::v1::NewsItem {
        id: "marketbeat:2025-09-05:amzn-headline-8b12c6".into(),
        headline: "Amazon übertrifft Erwartungen — 株価上昇 📈".into(),
        ..Default::default()
    };
    round_trip(item);
}

#[test]
fn payloads_over_128_kib_are_gzipped_deterministically() {
    let batch = bars::v1::BarBatch { bars: (0..4000).map(|i| bar("AAPL", i)).collect(), ..Default::default() };
    let raw = batch.encode_to_vec().len();
    assert!(raw > 128 * 1024, "the test needs a payload over 128 KiB, got {raw}");
    let env = envelope(batch);
    let record = env.encode().unwrap();
    assert_eq!(record.header("content_encoding"), Some("gzip"));
    assert!(record.payload.len() < raw / 2, "{} vs {raw}", record.payload.len());
    // gzip magic, deflate, no FNAME flag, mtime 0.
    assert_eq!(&record.payload[..4], &[0x1f, 0x8b, 8, 0]);
    assert_eq!(&record.payload[4..8], &[0, 0, 0, 0]);
    assert_eq!(env.encode().unwrap().payload, record.payload, "encoding twice gives the same bytes");
    let back = Envelope::<bars::v1::BarBatch>::decode_record(&record).unwrap();
    assert_eq!(back.payload.bars.len(), 4000);
    assert!(back.payload == env.payload, "the payload survives gzip");
    // The received headers describe the record, which was gzipped.
    assert_eq!(back.headers.content_encoding, Some(ampy_bus::ContentEncoding::Gzip));
    let mut sent = env.headers.clone();
    sent.content_encoding = Some(ampy_bus::ContentEncoding::Gzip);
    assert!(back.headers == sent, "every other header round-trips");
}

#[test]
fn consumers_get_typed_errors() {
    let batch = bars::v1::BarBatch { bars: (0..4000).map(|i| bar("AAPL", i)).collect(), ..Default::default() };
    let record = envelope(batch).encode().unwrap();

    // A wrong hash in the headers.
    let mut wrong = record.clone();
    let fake = format!("sha256:{}", "0".repeat(64));
    for (k, v) in &mut wrong.headers {
        if *k == "schema_hash" {
            v.clone_from(&fake);
        }
    }
    match Envelope::<bars::v1::BarBatch>::decode_record(&wrong) {
        Err(EnvelopeError::Schema(ampy_bus::SchemaError::SchemaHashMismatch { expected, got })) => {
            assert_eq!(Some(expected), bars::v1::BarBatch::SCHEMA_HASH);
            assert_eq!(got, fake);
        }
        other => panic!("expected SchemaHashMismatch, got {other:?}"),
    }
    // Decoding as another type is refused before any byte is read.
    let err = Envelope::<fills::v1::Fill>::decode_record(&record).unwrap_err();
    assert_eq!(err.kind(), "unknown_fqdn", "{err}");

    // A bad traceparent.
    let mut bad = record.clone();
    for (k, v) in &mut bad.headers {
        if *k == "traceparent" {
            *v = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331".into();
        }
    }
    let err = Envelope::<bars::v1::BarBatch>::decode_record(&bad).unwrap_err();
    assert_eq!(err.kind(), "malformed_traceparent", "{err}");

    // Truncated and corrupted gzip.
    let mut truncated = record.clone();
    truncated.payload.truncate(record.payload.len() / 2);
    let err = Envelope::<bars::v1::BarBatch>::decode_record(&truncated).unwrap_err();
    assert_eq!(err.kind(), "corrupt_gzip", "{err}");
    let mut corrupt = record.clone();
    let mid = corrupt.payload.len() / 2;
    corrupt.payload[mid] ^= 0x55;
    let err = Envelope::<bars::v1::BarBatch>::decode_record(&corrupt).unwrap_err();
    assert_eq!(err.kind(), "corrupt_gzip", "{err}");
    assert!(err.dlq_reason().starts_with("decode_error"), "{}", err.dlq_reason());
}
