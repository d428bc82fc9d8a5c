//! What the NATS and Kafka transport tests share: the positive vectors,
//! records as another producer would send them, and the one call per
//! payload topic a round trip makes.

#![allow(dead_code)]

use ampy_bus::Record;
use ampy_example::contract::{ampy, topics, Env};
use base64::Engine as _;

pub type Pairs = Vec<(String, String)>;

pub fn b64(s: &str) -> Vec<u8> {
    base64::engine::general_purpose::STANDARD.decode(s).unwrap()
}

/// Every positive vector, file by file.
pub fn vectors() -> Vec<serde_json::Value> {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../../tests/vectors/positive");
    let mut files: Vec<_> = std::fs::read_dir(dir).unwrap().map(|e| e.unwrap().path()).collect();
    files.sort();
    let mut out = Vec::new();
    for f in files {
        let v: serde_json::Value = serde_json::from_slice(&std::fs::read(f).unwrap()).unwrap();
        out.extend(v["vectors"].as_array().unwrap().iter().cloned());
    }
    out
}

/// The first positive vector of `topic`, plus the gzipped one over 128 KiB
/// and the blob pointer for news.v1.raw.
pub fn pick<'a>(all: &'a [serde_json::Value], topic: &str) -> Vec<&'a serde_json::Value> {
    let mut v: Vec<&serde_json::Value> = all.iter().filter(|v| v["topic"] == topic).take(1).collect();
    if topic == "news.v1.raw" {
        v.extend(
            all.iter().filter(|v| v["name"] == "news.raw.gzip_over_128kib" || v["name"] == "news.raw.blob_pointer"),
        );
    }
    v
}

/// `$roundtrip::<Topic>($args.., &pick(vectors, id))` summed over every
/// payload topic of the registry.
#[macro_export]
macro_rules! round_trip_every_topic {
    ($roundtrip:ident, $all:expr, $($arg:expr),*) => {{
        let all = $all;
        let mut n = 0;
        n += $roundtrip::<topics::bars::v1::Bars>($($arg,)* &pick(all, "bars.v1.bars")).await;
        n += $roundtrip::<topics::ticks::v1::Trade>($($arg,)* &pick(all, "ticks.v1.trade")).await;
        n += $roundtrip::<topics::ticks::v1::Quote>($($arg,)* &pick(all, "ticks.v1.quote")).await;
        n += $roundtrip::<topics::news::v1::Raw>($($arg,)* &pick(all, "news.v1.raw")).await;
        n += $roundtrip::<topics::news::v1::Nlp>($($arg,)* &pick(all, "news.v1.nlp")).await;
        n += $roundtrip::<topics::fx::v1::Rates>($($arg,)* &pick(all, "fx.v1.rates")).await;
        n += $roundtrip::<topics::fundamentals::v1::Snapshots>($($arg,)* &pick(all, "fundamentals.v1.snapshots")).await;
        n += $roundtrip::<topics::corporate_actions::v1::Events>($($arg,)* &pick(all, "corporate_actions.v1.events")).await;
        n += $roundtrip::<topics::universe::v1::Snapshots>($($arg,)* &pick(all, "universe.v1.snapshots")).await;
        n += $roundtrip::<topics::signals::v1::Signals>($($arg,)* &pick(all, "signals.v1.signals")).await;
        n += $roundtrip::<topics::orders::v1::Requests>($($arg,)* &pick(all, "orders.v1.requests")).await;
        n += $roundtrip::<topics::fills::v1::Events>($($arg,)* &pick(all, "fills.v1.events")).await;
        n += $roundtrip::<topics::positions::v1::Snapshots>($($arg,)* &pick(all, "positions.v1.snapshots")).await;
        n += $roundtrip::<topics::metrics::v1::Metrics>($($arg,)* &pick(all, "metrics.v1.metrics")).await;
        n += $roundtrip::<topics::control::v1::ReplayRequests>($($arg,)* &pick(all, "control.v1.replay_requests")).await;
        n
    }};
}

pub fn bars(symbol: &str) -> ampy::bars::v1::BarBatch {
    ampy_example::sample_bars(symbol)
}

/// A valid bars record with one edit, as another producer would send it.
pub fn tampered(symbol: &str, edit: impl Fn(&mut Record)) -> Record {
    let env =
        ampy_bus::Envelope::builder(bars(symbol)).producer("other@1").source("other").run_id("r").build().unwrap();
    let mut record = env.encode().unwrap();
    edit(&mut record);
    record
}

/// A record whose schema_hash is another build's (same name, other hash).
pub fn wrong_hash(symbol: &str) -> Record {
    tampered(symbol, |r| {
        for (k, v) in &mut r.headers {
            if *k == "schema_hash" {
                *v = format!("sha256:{}", "0".repeat(64));
            }
        }
    })
}

/// A record whose body claims gzip but is not.
pub fn corrupt_gzip(symbol: &str) -> Record {
    tampered(symbol, |r| {
        r.headers.push(("content_encoding", "gzip".into()));
        r.payload = b"\x1f\x8b\x08\x00 not really gzip".to_vec();
    })
}

pub fn bars_subject(symbol: &str) -> ampy_bus::Subject {
    topics::bars::v1::bars::subject(Env::Dev, "XNAS", symbol).unwrap()
}

pub fn header<'a>(p: &'a Pairs, name: &str) -> Option<&'a str> {
    p.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
}

/// A positive vector rebuilt: its envelope (every header the vector's),
/// its blob pointer if it is one, the record the envelope encodes to, and
/// the plain payload.
pub struct Rebuilt<P> {
    pub envelope: ampy_bus::Envelope<P>,
    pub blob: Option<ampy_bus::BlobPointer>,
    pub record: Record,
}

pub fn rebuild<P>(v: &serde_json::Value) -> Rebuilt<P>
where
    P: ampy_bus::Schema + ampy_bus::prost::Message + Default,
{
    let h: Pairs = v["envelope"]["headers"]
        .as_object()
        .unwrap()
        .iter()
        .map(|(k, v)| (k.clone(), v.as_str().unwrap().to_owned()))
        .collect();
    let payload_bytes = b64(v["payload_base64"].as_str().unwrap());
    let payload = P::decode(payload_bytes.as_slice()).unwrap();
    let headers = ampy_bus::Headers::from_pairs(h.iter().map(|(k, v)| (k.as_str(), v.as_str()))).unwrap();
    let blob = headers.blob.clone();
    let envelope = ampy_bus::Envelope { headers, payload };
    let record = match &blob {
        Some(b) => envelope.encode_pointer(b).unwrap(),
        None => envelope.encode().unwrap(),
    };
    if v["name"] == "news.raw.gzip_over_128kib" {
        let gzip: bool = record.header("content_encoding").is_some_and(|e| e == "gzip");
        let smaller: bool = usize::lt(&record.payload.len(), &payload_bytes.len());
        assert!(gzip && smaller, "the >128 KiB vector is gzipped on the wire");
    }
    Rebuilt { envelope, blob, record }
}

/// A record's headers as owned pairs, in record order.
pub fn pairs(record: &Record) -> Pairs {
    record.headers.iter().map(|(k, v)| ((*k).to_owned(), v.clone())).collect()
}
