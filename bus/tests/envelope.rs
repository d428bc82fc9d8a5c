//! Building, encoding and decoding envelopes: gzip, limits, schema checks.

mod common;

use std::io::Write;

use ampy_bus::envelope::{GZIP_THRESHOLD, MAX_PAYLOAD};
use ampy_bus::headers::names;
use ampy_bus::{Envelope, EnvelopeError, HeaderError, Record, RouteError, Schema, SchemaError, TraceParent};
use common::{bar, envelope, Bar, Quote, StaleBar, BAR_HASH};
use prost::Message;

#[test]
fn build_fills_every_required_header() {
    let before = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_millis() as u64;
    let mut payload = bar(10, false);
    payload.news_id = "marketbeat:2025-09-05:amzn".into();
    let env = envelope(payload);
    let h = &env.headers;
    h.validate().unwrap();
    assert_eq!(h.schema_fqdn, Bar::FQDN);
    assert_eq!(h.schema_version, "1.2.0");
    assert_eq!(h.schema_hash.as_deref(), Some(BAR_HASH));
    assert_eq!(h.content_type, "application/x-protobuf");
    assert_eq!((h.producer.as_str(), h.source.as_str()), ("yfinance-go@ingest-1", "yfinance-go"));
    assert_eq!(h.run_id, "run-2026-11-23");
    assert_eq!(h.partition_key, "AAPL.XNAS");
    assert_eq!(h.dedupe_key.as_deref(), Some("marketbeat:2025-09-05:amzn"));
    assert_eq!((h.retry_count, h.content_encoding, h.dlq_reason.as_ref(), h.blob.as_ref()), (None, None, None, None));
    assert!(h.traceparent.sampled() && h.traceparent.problem().is_none());
    assert!(h.produced_at.ends_with('Z'), "{}", h.produced_at);
    // produced_at is the id's own timestamp.
    let (secs, nanos) = h.produced_at_unix().unwrap();
    assert_eq!(secs as u64 * 1000 + u64::from(nanos) / 1_000_000, h.message_id.timestamp_ms());
    assert!(h.message_id.timestamp_ms() >= before);

    let record = env.encode().unwrap();
    for name in names::REQUIRED {
        assert!(record.header(name).is_some_and(|v| !v.is_empty()), "{name}");
    }
    assert_eq!(record.header("schema_hash"), Some(BAR_HASH));
}

#[test]
fn builder_options_and_errors() {
    let tp: TraceParent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00".parse().unwrap();
    let env = Envelope::builder(bar(1, false))
        .producer("p")
        .source("s")
        .run_id("r")
        .traceparent(tp)
        .dedupe_key("co_20250905_001")
        .retry_count(3)
        .build()
        .unwrap();
    assert_eq!(env.headers.traceparent, tp);
    assert_eq!(env.headers.dedupe_key.as_deref(), Some("co_20250905_001"));
    assert_eq!(env.headers.retry_count, Some(3));
    assert_eq!(env.encode().unwrap().header("retry_count"), Some("3"));

    let missing = |b: ampy_bus::EnvelopeBuilder<Bar>| match b.build() {
        Err(EnvelopeError::Header(HeaderError::Missing { name })) => name,
        other => panic!("{other:?}"),
    };
    assert_eq!(missing(Envelope::builder(bar(1, false)).source("s").run_id("r")), "producer");
    assert_eq!(missing(Envelope::builder(bar(1, false)).producer("p").run_id("r")), "source");
    assert_eq!(missing(Envelope::builder(bar(1, false)).producer("p").source("s")), "run_id");
    assert_eq!(missing(Envelope::builder(bar(1, false)).producer("").source("s").run_id("r")), "producer");
    let err = Envelope::builder(bar(1, false)).producer("p\n").source("s").run_id("r").build().unwrap_err();
    assert_eq!(err.kind(), "malformed_header");

    let mut no_key = bar(1, false);
    no_key.symbol.clear();
    let err = Envelope::builder(no_key).producer("p").source("s").run_id("r").build().unwrap_err();
    assert!(matches!(err, EnvelopeError::Route(RouteError::EmptyKeyField { field: "symbol", .. })), "{err:?}");
    assert_eq!(err.kind(), "empty_key_field");
}

#[test]
fn small_payloads_round_trip_without_gzip() {
    let env = envelope(bar(1024, true));
    let record = env.encode().unwrap();
    assert_eq!(record.header("content_encoding"), None);
    assert_eq!(record.payload, env.payload.encode_to_vec());
    let back = Envelope::<Bar>::decode_record(&record).unwrap();
    assert_eq!(back, env);
    // Through plain string pairs, as a transport would hand them over.
    let owned: Vec<(String, String)> = record.headers.iter().map(|(k, v)| (k.to_string(), v.clone())).collect();
    assert_eq!(Envelope::<Bar>::decode(owned, &record.payload).unwrap(), env);
}

fn gzip_record() -> (Envelope<Bar>, Record) {
    let env = envelope(bar(256 * 1024, true));
    let record = env.encode().unwrap();
    (env, record)
}

#[test]
fn large_payloads_are_gzipped_deterministically() {
    let (env, record) = gzip_record();
    assert_eq!(record.header("content_encoding"), Some("gzip"));
    assert!(record.payload.len() < 256 * 1024 / 2, "{}", record.payload.len());
    // ID1 ID2 CM=deflate FLG=0 (no FNAME/FCOMMENT/FEXTRA) MTIME=0 XFL OS=255.
    assert_eq!(&record.payload[..8], &[0x1f, 0x8b, 8, 0, 0, 0, 0, 0]);
    assert_eq!(record.payload[9], 255);
    assert_eq!(record.payload[3] & 0x08, 0, "FNAME must not be set");
    let mut back = Envelope::<Bar>::decode_record(&record).unwrap();
    // The decoded headers say how the bytes travelled.
    assert_eq!(back.headers.content_encoding, Some(ampy_bus::ContentEncoding::Gzip));
    back.headers.content_encoding = None;
    assert_eq!(back.headers, env.headers);
    assert!(back.payload == env.payload, "payload differs after gunzip");

    // Same payload, same bytes: twice from one envelope, and from another
    // envelope (other id and time) of the same payload.
    assert!(env.encode().unwrap() == record, "encoding twice differs");
    let other = envelope(env.payload.clone()).encode().unwrap();
    assert!(other.payload == record.payload, "gzip output differs between envelopes");
    assert_ne!(other.header("message_id"), record.header("message_id"));
}

/// A Bar whose encoding is exactly `len` bytes.
fn bar_of_encoded_len(len: usize) -> Bar {
    let mut b = bar(len, false);
    while b.encoded_len() > len {
        b.data.pop();
    }
    assert_eq!(b.encoded_len(), len);
    b
}

#[test]
fn the_gzip_threshold_is_strictly_greater_than_128_kib() {
    let at = envelope(bar_of_encoded_len(GZIP_THRESHOLD)).encode().unwrap();
    assert_eq!(at.header("content_encoding"), None);
    assert_eq!(at.payload.len(), GZIP_THRESHOLD);
    let over = envelope(bar_of_encoded_len(GZIP_THRESHOLD + 1)).encode().unwrap();
    assert_eq!(over.header("content_encoding"), Some("gzip"));
}

#[test]
fn payloads_over_one_mib_after_gzip_are_too_large() {
    let env = envelope(bar(MAX_PAYLOAD + 10, false));
    let err = env.encode().unwrap_err();
    assert_eq!(err.kind(), "too_large");
    let EnvelopeError::TooLarge { size, limit } = err else { panic!("{err:?}") };
    assert!(size > MAX_PAYLOAD && limit == MAX_PAYLOAD, "{size}");
    assert!(err_text(&env).contains("blob pointer"), "{}", err_text(&env));
    // Compressible payloads well over 1 MiB raw are fine once gzipped.
    let record = envelope(bar(3 * MAX_PAYLOAD, true)).encode().unwrap();
    assert!(record.payload.len() <= MAX_PAYLOAD);
}

fn err_text(env: &Envelope<Bar>) -> String {
    env.encode().unwrap_err().to_string()
}

fn decode_with_payload(record: &Record, payload: &[u8]) -> Result<Envelope<Bar>, EnvelopeError> {
    Envelope::<Bar>::decode(record.headers.iter().map(|(k, v)| (*k, v.as_str())), payload)
}

#[test]
fn truncated_gzip_is_corrupt() {
    let (_, record) = gzip_record();
    let n = record.payload.len();
    for cut in [0, 1, 5, 10, 11, n / 2, n - 9, n - 8, n - 4, n - 1] {
        let err = decode_with_payload(&record, &record.payload[..cut]).unwrap_err();
        assert_eq!(err.kind(), "corrupt_gzip", "cut at {cut}: {err}");
        assert!(err.dlq_reason().starts_with("decode_error: "), "{}", err.dlq_reason());
    }
}

#[test]
fn corrupted_gzip_is_corrupt() {
    let (_, record) = gzip_record();
    let n = record.payload.len();
    // Header magic, deflate body at several places, CRC-32 and ISIZE trailer.
    for at in [0, 2, 12, n / 3, n / 2, n - 20, n - 8, n - 5, n - 2] {
        let mut bad = record.payload.clone();
        bad[at] ^= 0x55;
        let err = decode_with_payload(&record, &bad).unwrap_err();
        assert_eq!(err.kind(), "corrupt_gzip", "flip at {at}: {err}");
    }
    let mut trailing = record.payload.clone();
    trailing.push(0);
    assert_eq!(decode_with_payload(&record, &trailing).unwrap_err().kind(), "corrupt_gzip");
    let mut two_members = record.payload.clone();
    two_members.extend_from_slice(&record.payload);
    assert_eq!(decode_with_payload(&record, &two_members).unwrap_err().kind(), "corrupt_gzip");
    // Marked gzip, but plain protobuf.
    let plain = bar(10, false).encode_to_vec();
    assert_eq!(decode_with_payload(&record, &plain).unwrap_err().kind(), "corrupt_gzip");
}

#[test]
fn a_gzip_bomb_stops_at_the_cap() {
    let (_, record) = gzip_record();
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    let zeros = vec![0u8; 1 << 20];
    for _ in 0..65 {
        enc.write_all(&zeros).unwrap();
    }
    let bomb = enc.finish().unwrap();
    assert!(bomb.len() < 1 << 20);
    let err = decode_with_payload(&record, &bomb).unwrap_err();
    assert!(matches!(err, EnvelopeError::InflatedTooLarge { .. }), "{err:?}");
    assert_eq!(err.kind(), "too_large");
}

#[test]
fn schema_hash_mismatch_is_typed() {
    let record = envelope(bar(10, false)).encode().unwrap();
    let err = Envelope::<StaleBar>::decode_record(&record).unwrap_err();
    assert_eq!(
        err,
        EnvelopeError::Schema(SchemaError::SchemaHashMismatch {
            expected: StaleBar::SCHEMA_HASH.unwrap(),
            got: BAR_HASH.to_owned(),
        })
    );
    assert_eq!(err.kind(), "hash_mismatch");
    assert_eq!(err.dlq_reason(), "schema_hash_mismatch");
}

#[test]
fn a_wrong_fqdn_is_unknown_fqdn() {
    let record = envelope(bar(10, false)).encode().unwrap();
    let err = Envelope::<Quote>::decode_record(&record).unwrap_err();
    assert!(
        matches!(&err, EnvelopeError::Schema(SchemaError::WrongSchema { expected: "test.quotes.v1.Quote", got }) if got == "test.bars.v1.Bar")
    );
    assert_eq!(err.kind(), "unknown_fqdn");
    assert_eq!(err.dlq_reason(), "unknown_fqdn: test.bars.v1.Bar");
}

#[test]
fn header_and_payload_failures_have_stable_kinds() {
    let record = envelope(bar(10, false)).encode().unwrap();
    let mut headers = record.headers.clone();
    headers.iter_mut().find(|(k, _)| *k == "traceparent").unwrap().1 =
        "00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01".into();
    let err = Envelope::<Bar>::decode(headers, &record.payload).unwrap_err();
    assert_eq!(err.kind(), "malformed_traceparent");
    assert!(err.dlq_reason().starts_with("malformed_traceparent: header `traceparent`"), "{}", err.dlq_reason());

    let err = decode_with_payload(&record, &[0xff; 12]).unwrap_err();
    assert_eq!(err.kind(), "decode_error");
    assert!(err.dlq_reason().starts_with("decode_error: "));

    let headers: Vec<_> = record.headers.iter().filter(|(k, _)| *k != "run_id").cloned().collect();
    let err = Envelope::<Bar>::decode(headers, &record.payload).unwrap_err();
    assert_eq!(err, EnvelopeError::Header(HeaderError::Missing { name: "run_id" }));
}

#[test]
fn encode_rechecks_hand_edited_headers() {
    let mut env = envelope(bar(10, false));
    env.headers.schema_hash = Some(StaleBar::SCHEMA_HASH.unwrap().into());
    assert_eq!(env.encode().unwrap_err().kind(), "hash_mismatch");
    let mut env = envelope(bar(10, false));
    env.headers.produced_at = "yesterday".into();
    assert_eq!(env.encode().unwrap_err().kind(), "malformed_header");
}

#[test]
fn no_input_makes_decode_panic() {
    let (_, big) = gzip_record();
    let small = envelope(bar(300, true)).encode().unwrap();
    let mut x = 0x9E37_79B9_7F4A_7C15u64;
    let mut rnd = move |n: usize| {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        (x % n as u64) as usize
    };
    for i in 0..3000 {
        let record = if i % 2 == 0 { &small } else { &big };
        let mut payload = record.payload.clone();
        let mut headers: Vec<(String, String)> =
            record.headers.iter().map(|(k, v)| (k.to_string(), v.clone())).collect();
        match rnd(4) {
            0 => payload.truncate(rnd(payload.len() + 1)),
            1 => {
                for _ in 0..=rnd(4) {
                    let at = rnd(payload.len());
                    payload[at] = rnd(256) as u8;
                }
            }
            2 => {
                let h = rnd(headers.len());
                let v = &mut headers[h].1;
                if !v.is_empty() {
                    let mut bytes = v.clone().into_bytes();
                    let at = rnd(bytes.len());
                    bytes[at] = rnd(128) as u8;
                    *v = String::from_utf8(bytes).unwrap();
                }
            }
            _ => {
                let h = rnd(headers.len());
                headers.remove(h);
            }
        }
        let _ = Envelope::<Bar>::decode(headers, &payload).map_err(|e| (e.kind(), e.to_string(), e.dlq_reason()));
    }
}
