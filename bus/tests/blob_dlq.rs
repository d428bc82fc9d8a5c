//! The blob pointer pattern and dead letters.

mod common;

use ampy_bus::envelope::{sanitize_reason, MAX_REASON_LEN};
use ampy_bus::{BlobPointer, Dlq, Env, Envelope, EnvelopeError};
use common::{bar, envelope, Bar, StaleBar};

#[test]
fn blob_pointer_round_trip() {
    let env = envelope(bar(3 << 20, false));
    let (pointer, blob) = env.to_blob("s3://ampy-blobs/bars/run-1?versionId=7");
    assert_eq!(pointer.blob_size, blob.len() as u64);
    assert!(pointer.blob_hash.starts_with("sha256:") && pointer.blob_hash.len() == 71);
    let record = env.encode_pointer(&pointer).unwrap();
    assert!(record.payload.is_empty());
    assert_eq!(record.header("blob_ref"), Some("s3://ampy-blobs/bars/run-1?versionId=7"));
    assert_eq!(record.header("blob_hash"), Some(pointer.blob_hash.as_str()));
    assert_eq!(record.header("blob_size"), Some(blob.len().to_string().as_str()));
    assert_eq!(record.header("content_encoding"), None);

    // A plain decode says what to do instead of failing obscurely.
    let err = Envelope::<Bar>::decode_record(&record).unwrap_err();
    assert_eq!(err.kind(), "blob_pointer");
    assert!(err.to_string().contains("decode_blob"), "{err}");

    let headers = Envelope::<Bar>::decode_headers(record.headers.iter().map(|(k, v)| (*k, v.as_str()))).unwrap();
    assert_eq!(headers.blob.as_ref(), Some(&pointer));
    let back = Envelope::<Bar>::decode_blob(headers.clone(), &blob).unwrap();
    assert!(back.payload == env.payload);

    let mut tampered = blob.clone();
    tampered[1000] ^= 1;
    let err = Envelope::<Bar>::decode_blob(headers.clone(), &tampered).unwrap_err();
    assert!(matches!(&err, EnvelopeError::BlobHashMismatch { expected, .. } if *expected == pointer.blob_hash));
    assert_eq!(err.kind(), "blob_hash_mismatch");
    let err = Envelope::<Bar>::decode_blob(headers, &blob[..blob.len() - 1]).unwrap_err();
    assert_eq!(err.kind(), "blob_size_mismatch");

    // Pointer headers still carry the schema check.
    assert_eq!(Envelope::<StaleBar>::decode_record(&record).unwrap_err().kind(), "hash_mismatch");
    // And a record without a pointer cannot be decoded as a blob.
    assert_eq!(Envelope::<Bar>::decode_blob(env.headers.clone(), &blob).unwrap_err().kind(), "missing_header");
}

#[test]
fn blob_pointer_verify() {
    let p = BlobPointer::for_bytes("s3://b/k", b"hello");
    assert_eq!(p.blob_hash, "sha256:2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824");
    assert_eq!(p.verify(b"hello"), Ok(()));
    assert_eq!(p.verify(b"hellO").unwrap_err().kind(), "blob_hash_mismatch");
    assert_eq!(p.verify(b"hello!").unwrap_err().kind(), "blob_size_mismatch");
    let mut bad = p.clone();
    bad.blob_hash = "sha256:nothex".into();
    let env = envelope(bar(10, false));
    assert_eq!(env.encode_pointer(&bad).unwrap_err().kind(), "malformed_header");
}

#[test]
fn dead_letters_keep_the_record_and_add_a_reason() {
    let env = envelope(bar(200 * 1024, true));
    let record = env.encode().unwrap();
    // What a consumer received: the record plus a header from a newer producer.
    let mut received: Vec<(String, String)> = record.headers.iter().map(|(k, v)| (k.to_string(), v.clone())).collect();
    received.insert(2, ("x-new-header".into(), "kept".into()));
    received.push(("retry_count".into(), "4".into()));
    let err = Envelope::<StaleBar>::decode(received.clone(), &record.payload).unwrap_err();

    let dlq = Dlq::new(Env::Prod).unwrap();
    let letter = dlq.dead_letter("bars", received.clone(), record.payload.as_slice(), &err.dlq_reason()).unwrap();
    assert_eq!(letter.subject.as_str(), "ampy.prod.dlq.v1.bars");
    assert_eq!(letter.subject.kafka_topic(), "ampy.prod.dlq.v1");
    assert!(letter.payload == record.payload);
    assert_eq!(&letter.headers[..received.len()], &received[..]);
    assert_eq!(letter.headers.last().unwrap(), &("dlq_reason".to_owned(), "schema_hash_mismatch".to_owned()));
    assert_eq!(letter.headers.len(), received.len() + 1);
    // Still a valid record for the original type, gzip and all.
    let again = Envelope::<Bar>::decode(letter.headers.clone(), &letter.payload).unwrap();
    assert_eq!(again.headers.dlq_reason.as_deref(), Some("schema_hash_mismatch"));
    assert_eq!(again.headers.retry_count, Some(4));
    assert!(again.payload == env.payload);

    // A second trip replaces the reason in place.
    let second = dlq.dead_letter("bars", letter.headers.clone(), letter.payload, "decode_error: x\ny").unwrap();
    assert_eq!(second.headers.len(), letter.headers.len());
    let reason = second.headers.iter().find(|(k, _)| k == "dlq_reason").unwrap();
    assert_eq!(reason.1, "decode_error: x y");
    assert_eq!(second.headers.iter().position(|(k, _)| k == "dlq_reason"), Some(letter.headers.len() - 1));
}

#[test]
fn undecodable_records_reach_the_dlq_unchanged() {
    let received = vec![("traceparent", "garbage\u{7f}"), ("x", "y")];
    let payload = [0xde, 0xad, 0xbe, 0xef];
    let err = Envelope::<Bar>::decode(received.clone(), &payload).unwrap_err();
    let letter = Dlq::with_namespace("acme", Env::Paper)
        .unwrap()
        .dead_letter("orders", received.clone(), &payload[..], &err.dlq_reason())
        .unwrap();
    assert_eq!(letter.subject.as_str(), "acme.paper.dlq.v1.orders");
    assert_eq!(letter.payload, payload);
    assert_eq!(letter.headers[0], ("traceparent".to_owned(), "garbage\u{7f}".to_owned()));
    assert!(letter.headers[2].1.starts_with("malformed_traceparent: "), "{:?}", letter.headers[2]);

    assert_eq!(Dlq::new(Env::Dev).unwrap().subject("bars.v1").unwrap_err().kind(), "illegal_token");
    // An env is an `EnvName` value, never text: `Dlq::new("pr od")` does
    // not compile (macros/tests/ui/env_from_str.rs shows the same for
    // subjects).
    assert_eq!(Dlq::with_namespace("a*", Env::Prod).unwrap_err().kind(), "illegal_token");
}

#[test]
fn reasons_are_single_line_and_bounded() {
    assert_eq!(sanitize_reason("  a\r\nb\t"), "a  b");
    assert_eq!(sanitize_reason(""), "unspecified");
    let long = "é".repeat(MAX_REASON_LEN);
    let s = sanitize_reason(&long);
    assert!(s.len() <= MAX_REASON_LEN && s.len() > MAX_REASON_LEN - 2);
}
