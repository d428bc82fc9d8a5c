//! Header parsing, printing and every validation rule.

mod common;

use ampy_bus::headers::names;
use ampy_bus::{BlobPointer, ContentEncoding, HeaderError, Headers, MessageId, TraceParent};
use common::{valid_pairs, with};

fn parse(pairs: &[(String, String)]) -> Result<Headers, HeaderError> {
    Headers::from_pairs(pairs.iter().map(|(k, v)| (k.as_str(), v.as_str())))
}

#[test]
fn pairs_round_trip_in_the_documented_order() {
    let mut h = parse(&valid_pairs()).unwrap();
    assert_eq!(h.message_id.to_string(), "0190f5a4-7b1c-7d2e-8f00-0123456789ab");
    assert_eq!(h.traceparent.trace_id_hex(), "4bf92f3577b34da6a3ce929d0e0e4736");
    assert_eq!(h.traceparent.span_id_hex(), "00f067aa0ba902b7");
    assert!(h.traceparent.sampled());
    assert_eq!(h.content_encoding, Some(ContentEncoding::Gzip));
    assert_eq!(h.retry_count, Some(2));
    assert_eq!(h.produced_at_unix(), Some((1_757_100_661, 5_000_000)));
    h.blob = Some(BlobPointer::for_bytes("s3://bucket/key?versionId=3", b"hello"));

    let pairs = h.to_pairs();
    let order: Vec<&str> = pairs.iter().map(|(k, _)| *k).collect();
    assert_eq!(order, names::ALL);
    let back = Headers::from_pairs(pairs.iter().map(|(k, v)| (*k, v.as_str()))).unwrap();
    assert_eq!(back, h);
    // Every value is printed exactly as it was received.
    for (k, v) in valid_pairs() {
        assert_eq!(pairs.iter().find(|(n, _)| *n == k).map(|(_, v)| v.as_str()), Some(v.as_str()), "{k}");
    }
    assert_eq!(pairs.iter().find(|(k, _)| *k == "blob_size").unwrap().1, "5");
}

#[test]
fn only_required_headers_in_required_order() {
    let mut pairs = valid_pairs();
    pairs.retain(|(k, _)| names::REQUIRED.contains(&k.as_str()));
    pairs.reverse();
    let h = parse(&pairs).unwrap();
    assert_eq!(h.content_encoding, None);
    assert_eq!(h.schema_hash, None);
    let order: Vec<&str> = h.to_pairs().iter().map(|(k, _)| *k).collect();
    assert_eq!(order, names::REQUIRED);
}

#[test]
fn unknown_headers_are_ignored_and_not_kept() {
    let mut pairs = valid_pairs();
    pairs.insert(3, ("x-future-header".into(), "whatever\n".into()));
    pairs.push(("Message_ID".into(), "not checked".into()));
    let h = parse(&pairs).unwrap();
    assert_eq!(h, parse(&valid_pairs()).unwrap());
    assert!(h.to_pairs().iter().all(|(k, _)| names::ALL.contains(k)));
}

#[test]
fn every_missing_required_header_is_named() {
    for name in names::REQUIRED {
        let err = parse(&with(name, None)).unwrap_err();
        assert_eq!(err, HeaderError::Missing { name }, "{name}");
        assert_eq!(err.kind(), "missing_header");
        assert!(err.to_string().contains(&format!("`{name}`")), "{err}");
        // Present but empty counts as missing.
        let err = parse(&with(name, Some(""))).unwrap_err();
        assert_eq!(
            err.kind(),
            if name == "message_id" {
                "malformed_message_id"
            } else if name == "traceparent" {
                "malformed_traceparent"
            } else if name == "content_type" {
                "malformed_header"
            } else {
                "missing_header"
            },
            "{name}"
        );
        assert_eq!(err.name(), name);
    }
}

#[test]
fn duplicate_known_headers_are_rejected() {
    for name in ["message_id", "partition_key", "schema_hash", "retry_count"] {
        let mut pairs = valid_pairs();
        let v = pairs.iter().find(|(k, _)| k == name).unwrap().1.clone();
        pairs.push((name.to_owned(), v));
        let err = parse(&pairs).unwrap_err();
        assert_eq!(err, HeaderError::Duplicate { name });
        assert_eq!(err.kind(), "duplicate_header");
    }
}

/// (header, bad value, expected kind, words the message must contain)
const REJECTED: &[(&str, &str, &str, &str)] = &[
    // traceparent
    ("traceparent", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-1", "malformed_traceparent", "55"),
    ("traceparent", "00-4bf92f3577b34da6a3ce929d0e0e473-00f067aa0ba902b7-01", "malformed_traceparent", "55"),
    ("traceparent", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-", "malformed_traceparent", "55"),
    ("traceparent", "00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01", "malformed_traceparent", "lowercase"),
    ("traceparent", "00-4bf92f3577b34da6a3ce929d0e0e4736-00F067AA0BA902B7-01", "malformed_traceparent", "lowercase"),
    ("traceparent", "00-00000000000000000000000000000000-00f067aa0ba902b7-01", "malformed_traceparent", "all-zero"),
    ("traceparent", "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01", "malformed_traceparent", "all-zero"),
    ("traceparent", "ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01", "malformed_traceparent", "ff"),
    ("traceparent", "01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01", "malformed_traceparent", "version"),
    ("traceparent", "00_4bf92f3577b34da6a3ce929d0e0e4736_00f067aa0ba902b7_01", "malformed_traceparent", "00-"),
    ("traceparent", "00-4bf92f3577b34da6a3ce929d0e0e473g-00f067aa0ba902b7-01", "malformed_traceparent", "hex"),
    // message_id
    ("message_id", "0190f5a4-7b1c-4d2e-8f00-0123456789ab", "malformed_message_id", "version 7"),
    ("message_id", "0190f5a4-7b1c-7d2e-cf00-0123456789ab", "malformed_message_id", "variant"),
    ("message_id", "0190F5A4-7B1C-7D2E-8F00-0123456789AB", "malformed_message_id", "lowercase"),
    ("message_id", "0190f5a47b1c7d2e8f000123456789ab", "malformed_message_id", "36"),
    ("message_id", "0190f5a4-7b1c7-d2e-8f00-0123456789ab", "malformed_message_id", "hyphenated"),
    ("message_id", "{0190f5a4-7b1c-7d2e-8f00-0123456789}", "malformed_message_id", "hex"),
    // produced_at
    ("produced_at", "2025-09-05T19:31:01", "malformed_header", "`Z`"),
    ("produced_at", "2025-09-05T19:31:01+00:00", "malformed_header", "`Z`"),
    ("produced_at", "2025-09-05T19:31:01.000+00:00Z", "malformed_header", "fraction"),
    ("produced_at", "2025-02-30T19:31:01Z", "malformed_header", "day"),
    ("produced_at", "2025-09-05T25:31:01Z", "malformed_header", "time of day"),
    ("produced_at", "2025-09-05T19:31:01.1234567891Z", "malformed_header", "fraction"),
    ("produced_at", "2025-09-05t19:31:01z", "malformed_header", "`Z`"),
    // fixed values and formats
    ("content_type", "application/json", "malformed_header", "application/x-protobuf"),
    ("content_encoding", "br", "malformed_header", "gzip"),
    ("content_encoding", "GZIP", "malformed_header", "gzip"),
    (
        "schema_hash",
        "sha256:ABABABABABABABABABABABABABABABABABABABABABABABABABABABABABABABAB",
        "malformed_header",
        "lowercase",
    ),
    ("schema_hash", "abababababababababababababababababababababababababababababababab", "malformed_header", "sha256:"),
    ("schema_hash", "sha256:abab", "malformed_header", "64"),
    ("schema_version", "1.0", "malformed_header", "semantic version"),
    ("schema_version", "v1.0.0", "malformed_header", "semantic version"),
    ("schema_fqdn", "test..Bar", "malformed_header", "protobuf message name"),
    ("retry_count", "-1", "malformed_header", "decimal"),
    ("retry_count", "01", "malformed_header", "decimal"),
    ("retry_count", "99999999999", "malformed_header", "too large"),
    ("blob_size", "12kb", "malformed_header", "decimal"),
    ("producer", "ingest-1\r\nschema_hash: x", "malformed_header", "control character"),
    ("partition_key", "AAPL\u{0}", "malformed_header", "control character"),
    ("dedupe_key", "", "malformed_header", "empty"),
    ("dlq_reason", "a\nb", "malformed_header", "control character"),
];

#[test]
fn every_rule_rejects_with_its_typed_error() {
    for &(name, value, kind, words) in REJECTED {
        let err = parse(&with(name, Some(value))).expect_err(value);
        assert_eq!(err.kind(), kind, "{name}={value:?}: {err}");
        assert!(matches!(&err, HeaderError::Invalid { name: n, value: v, .. } if *n == name && v == value), "{err:?}");
        let msg = err.to_string();
        assert!(msg.contains(&format!("header `{name}`")), "{msg}");
        assert!(msg.contains(words), "{name}={value:?}: `{msg}` lacks `{words}`");
    }
}

#[test]
fn valid_variants_are_accepted() {
    for (name, value) in [
        ("traceparent", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00"),
        ("traceparent", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-ff"),
        ("produced_at", "2024-02-29T23:59:59.123456789Z"),
        ("produced_at", "2025-09-05T19:31:01Z"),
        ("schema_version", "2.0.0-rc.1+build.7"),
        ("retry_count", "0"),
        ("message_id", "0190f5a4-7b1c-7fff-bfff-ffffffffffff"),
    ] {
        parse(&with(name, Some(value))).unwrap_or_else(|e| panic!("{name}={value}: {e}"));
    }
}

#[test]
fn blob_headers_come_together() {
    let hash = format!("sha256:{}", "0".repeat(64));
    let ok = [("blob_ref", "s3://b/k"), ("blob_hash", hash.as_str()), ("blob_size", "10")];
    let mut pairs = valid_pairs();
    pairs.extend(ok.iter().map(|(k, v)| (k.to_string(), v.to_string())));
    let h = parse(&pairs).unwrap();
    assert_eq!(h.blob, Some(BlobPointer { blob_ref: "s3://b/k".into(), blob_hash: hash.clone(), blob_size: 10 }));
    for skip in 0..3 {
        let mut pairs = valid_pairs();
        for (i, (k, v)) in ok.iter().enumerate() {
            if i != skip {
                pairs.push((k.to_string(), v.to_string()));
            }
        }
        let err = parse(&pairs).unwrap_err();
        assert_eq!(err, HeaderError::Missing { name: ok[skip].0 });
        assert!(err.to_string().contains("together"), "{err}");
    }
    let err = parse(
        &with("blob_hash", Some("md5:abc"))
            .into_iter()
            .chain([("blob_ref".to_owned(), "s3://b/k".to_owned()), ("blob_size".to_owned(), "1".to_owned())])
            .collect::<Vec<_>>(),
    )
    .unwrap_err();
    assert_eq!(err.name(), "blob_hash");
    assert_eq!(err.kind(), "malformed_header");
}

#[test]
fn validate_catches_hand_edited_fields() {
    let good = parse(&valid_pairs()).unwrap();
    let mut h = good.clone();
    h.traceparent.trace_id = [0; 16];
    assert_eq!(h.validate().unwrap_err().kind(), "malformed_traceparent");
    let mut h = good.clone();
    h.producer.clear();
    assert_eq!(h.validate(), Err(HeaderError::Missing { name: "producer" }));
    let mut h = good.clone();
    h.content_type = "text/plain".into();
    assert_eq!(h.validate().unwrap_err().name(), "content_type");
    let mut h = good;
    h.schema_hash = Some("sha256:".into());
    assert_eq!(h.validate().unwrap_err().name(), "schema_hash");
}

#[test]
fn ids_parse_and_print_canonically() {
    let tp: TraceParent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01".parse().unwrap();
    assert_eq!(tp.to_string(), "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01");
    let child = tp.child();
    assert_eq!(child.trace_id, tp.trace_id);
    assert_ne!(child.span_id, tp.span_id);
    assert_eq!(child.flags, tp.flags);
    let r = TraceParent::random();
    assert!(r.sampled() && r.problem().is_none());
    assert_eq!(r.to_string().parse::<TraceParent>(), Ok(r));

    let id = MessageId::new_v7();
    let s = id.to_string();
    assert_eq!(s.len(), 36);
    assert_eq!(&s[14..15], "7");
    assert!(matches!(&s[19..20], "8" | "9" | "a" | "b"), "{s}");
    assert_eq!(s.parse::<MessageId>(), Ok(id));
    assert_eq!(s, s.to_lowercase());
}
