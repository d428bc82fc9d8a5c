//! A hand-written payload type, as `#[derive(Payload)]` or generated code
//! would implement the traits, and helpers shared by the tests.
#![allow(dead_code)]

use ampy_bus::{PartitionKey, RouteError, Schema};

pub const BAR_HASH: &str = "sha256:abababababababababababababababababababababababababababababababab";

#[derive(Clone, PartialEq, prost::Message)]
pub struct Bar {
    #[prost(string, tag = "1")]
    pub symbol: String,
    #[prost(string, tag = "2")]
    pub mic: String,
    #[prost(bytes = "vec", tag = "3")]
    pub data: Vec<u8>,
    #[prost(string, tag = "4")]
    pub news_id: String,
}

impl Schema for Bar {
    const FQDN: &'static str = "test.bars.v1.Bar";
    const SCHEMA_VERSION: &'static str = "1.2.0";
    const SCHEMA_HASH: Option<&'static str> = Some(BAR_HASH);
}

impl PartitionKey for Bar {
    fn partition_key(&self) -> Result<String, RouteError> {
        for (field, v) in [("symbol", &self.symbol), ("mic", &self.mic)] {
            if v.is_empty() {
                return Err(RouteError::EmptyKeyField { field, path: field, index: None });
            }
        }
        Ok(format!("{}.{}", self.symbol, self.mic))
    }

    fn dedupe_key(&self) -> Option<String> {
        (!self.news_id.is_empty()).then(|| self.news_id.clone())
    }
}

/// Same message name, built against other protos.
#[derive(Clone, PartialEq, prost::Message)]
pub struct StaleBar {
    #[prost(string, tag = "1")]
    pub symbol: String,
}

impl Schema for StaleBar {
    const FQDN: &'static str = "test.bars.v1.Bar";
    const SCHEMA_VERSION: &'static str = "1.0.0";
    const SCHEMA_HASH: Option<&'static str> =
        Some("sha256:cdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcd");
}

/// Another message type altogether.
#[derive(Clone, PartialEq, prost::Message)]
pub struct Quote {
    #[prost(string, tag = "1")]
    pub symbol: String,
}

impl Schema for Quote {
    const FQDN: &'static str = "test.quotes.v1.Quote";
    const SCHEMA_VERSION: &'static str = "1.0.0";
    const SCHEMA_HASH: Option<&'static str> = None;
}

/// Deterministic bytes: `compressible` repeats short runs like a batch of
/// similar bars, otherwise xorshift noise that gzip cannot shrink.
pub fn bytes(len: usize, seed: u64, compressible: bool) -> Vec<u8> {
    let mut x = seed | 1;
    let mut next = move || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x
    };
    if compressible {
        let mut out = Vec::with_capacity(len);
        while out.len() < len {
            let r = next();
            let run = format!("AAPL,XNAS,{},{},{};", 190 + r % 7, r % 1000, r % 3);
            out.extend_from_slice(run.as_bytes());
        }
        out.truncate(len);
        out
    } else {
        (0..len).map(|_| next() as u8).collect()
    }
}

pub fn bar(data_len: usize, compressible: bool) -> Bar {
    Bar { symbol: "AAPL".into(), mic: "XNAS".into(), data: bytes(data_len, 42, compressible), news_id: String::new() }
}

pub fn envelope(payload: Bar) -> ampy_bus::Envelope<Bar> {
    ampy_bus::Envelope::builder(payload)
        .producer("yfinance-go@ingest-1")
        .source("yfinance-go")
        .run_id("run-2026-11-23")
        .build()
        .expect("a complete builder builds")
}

/// A valid set of header pairs, every optional header except the blob ones.
pub fn valid_pairs() -> Vec<(String, String)> {
    [
        ("message_id", "0190f5a4-7b1c-7d2e-8f00-0123456789ab"),
        ("schema_fqdn", "test.bars.v1.Bar"),
        ("schema_version", "1.2.0"),
        ("content_type", "application/x-protobuf"),
        ("produced_at", "2025-09-05T19:31:01.005Z"),
        ("producer", "yfinance-go@ingest-1"),
        ("source", "yfinance-go"),
        ("run_id", "run-1"),
        ("traceparent", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"),
        ("partition_key", "AAPL.XNAS"),
        ("content_encoding", "gzip"),
        ("dedupe_key", "marketbeat:2025-09-05:amzn-headline-8b12c6"),
        ("retry_count", "2"),
        ("dlq_reason", "decode_error: truncated"),
        ("schema_hash", BAR_HASH),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v.to_owned()))
    .collect()
}

/// `valid_pairs` with one header's value replaced (or removed with `None`).
pub fn with(name: &str, value: Option<&str>) -> Vec<(String, String)> {
    let mut pairs = valid_pairs();
    match value {
        Some(v) => match pairs.iter_mut().find(|(k, _)| k == name) {
            Some(p) => p.1 = v.to_owned(),
            None => pairs.push((name.to_owned(), v.to_owned())),
        },
        None => pairs.retain(|(k, _)| k != name),
    }
    pairs
}
