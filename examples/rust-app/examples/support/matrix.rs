//! What the NATS and Kafka matrix drivers share: the positive vectors,
//! rebuilding a vector's envelope, the topics, and the JSON line a
//! consumer prints (byte for byte what the Go and Python drivers print).

#![allow(dead_code)]

use std::collections::BTreeMap;
use std::path::Path;

use ampy_bus::{BlobPointer, Envelope, Topic};
use base64::Engine as _;

pub type Vector = serde_json::Value;

pub fn b64(s: &str) -> Result<Vec<u8>, String> {
    base64::engine::general_purpose::STANDARD.decode(s).map_err(|e| e.to_string())
}

pub fn b64e(b: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(b)
}

/// `s` quoted as Python's json module does with `ensure_ascii=False`.
pub fn py_string(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// One consumed record as `json.dumps(..., sort_keys=True, ensure_ascii=False)`.
pub fn record_line(
    topic: &str,
    subject: &str,
    headers: &[(&'static str, String)],
    raw: &[u8],
    canonical: &[u8],
) -> String {
    let sorted: BTreeMap<&str, &str> = headers.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let headers: Vec<String> = sorted.iter().map(|(k, v)| format!("{}: {}", py_string(k), py_string(v))).collect();
    format!(
        "{{\"headers\": {{{}}}, \"payload_base64\": {}, \"payload_canonical_base64\": {}, \"subject\": {}, \"topic\": {}}}",
        headers.join(", "),
        py_string(&b64e(raw)),
        py_string(&b64e(canonical)),
        py_string(subject),
        py_string(topic)
    )
}

/// A vector's envelope, every header the vector's: from its headers and
/// body, or for a blob pointer from its headers with the payload bytes as
/// the blob (and the pointer).
pub fn vector_envelope<T: Topic>(v: &Vector) -> Result<(Envelope<T::Payload>, Option<BlobPointer>), String>
where
    T::Payload: ampy_bus::Schema + ampy_bus::prost::Message + Default,
{
    let headers: Vec<(String, String)> = v["envelope"]["headers"]
        .as_object()
        .ok_or("a vector without envelope.headers")?
        .iter()
        .map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_owned()))
        .collect();
    let pairs = || headers.iter().map(|(k, v)| (k.as_str(), v.as_str()));
    let parsed = Envelope::<T::Payload>::decode_headers(pairs()).map_err(|e| e.to_string())?;
    if let Some(blob) = parsed.blob.clone() {
        let bytes = b64(v["payload_base64"].as_str().unwrap_or_default())?;
        let envelope = Envelope::<T::Payload>::decode_blob(parsed, &bytes).map_err(|e| e.to_string())?;
        Ok((envelope, Some(blob)))
    } else {
        let body = b64(v["envelope"]["body_base64"].as_str().unwrap_or_default())?;
        let envelope = Envelope::<T::Payload>::decode(pairs(), &body).map_err(|e| e.to_string())?;
        Ok((envelope, None))
    }
}

/// Calls `$f::<Topic>($args)` for the topic id `$id`.
macro_rules! by_topic {
    ($id:expr, $f:ident, $($arg:expr),*) => {
        match $id {
            "bars.v1.bars" => Some($f::<topics::bars::v1::Bars>($($arg),*).await),
            "ticks.v1.trade" => Some($f::<topics::ticks::v1::Trade>($($arg),*).await),
            "ticks.v1.quote" => Some($f::<topics::ticks::v1::Quote>($($arg),*).await),
            "news.v1.raw" => Some($f::<topics::news::v1::Raw>($($arg),*).await),
            "news.v1.nlp" => Some($f::<topics::news::v1::Nlp>($($arg),*).await),
            "fx.v1.rates" => Some($f::<topics::fx::v1::Rates>($($arg),*).await),
            "fx.v1.pair" => Some($f::<topics::fx::v1::Pair>($($arg),*).await),
            "fundamentals.v1.snapshots" => Some($f::<topics::fundamentals::v1::Snapshots>($($arg),*).await),
            "corporate_actions.v1.events" => Some($f::<topics::corporate_actions::v1::Events>($($arg),*).await),
            "universe.v1.snapshots" => Some($f::<topics::universe::v1::Snapshots>($($arg),*).await),
            "signals.v1.signals" => Some($f::<topics::signals::v1::Signals>($($arg),*).await),
            "orders.v1.requests" => Some($f::<topics::orders::v1::Requests>($($arg),*).await),
            "fills.v1.events" => Some($f::<topics::fills::v1::Events>($($arg),*).await),
            "positions.v1.snapshots" => Some($f::<topics::positions::v1::Snapshots>($($arg),*).await),
            "metrics.v1.metrics" => Some($f::<topics::metrics::v1::Metrics>($($arg),*).await),
            "control.v1.replay_requests" => Some($f::<topics::control::v1::ReplayRequests>($($arg),*).await),
            _ => None,
        }
    };
}

pub const TOPICS: [&str; 16] = [
    "bars.v1.bars",
    "ticks.v1.trade",
    "ticks.v1.quote",
    "news.v1.raw",
    "news.v1.nlp",
    "fx.v1.rates",
    "fx.v1.pair",
    "fundamentals.v1.snapshots",
    "corporate_actions.v1.events",
    "universe.v1.snapshots",
    "signals.v1.signals",
    "orders.v1.requests",
    "fills.v1.events",
    "positions.v1.snapshots",
    "metrics.v1.metrics",
    "control.v1.replay_requests",
];

/// The positive vectors of payload topics in `dir`, all or the named ones
/// in the order named.
pub fn load_vectors(dir: &Path, names: Option<Vec<String>>) -> Result<Vec<Vector>, String> {
    let mut files: Vec<_> = std::fs::read_dir(dir)
        .map_err(|e| format!("{}: {e}", dir.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    files.sort();
    let mut found = Vec::new();
    for f in files {
        let text = std::fs::read(&f).map_err(|e| format!("{}: {e}", f.display()))?;
        let file: serde_json::Value = serde_json::from_slice(&text).map_err(|e| format!("{}: {e}", f.display()))?;
        for v in file["vectors"].as_array().cloned().unwrap_or_default() {
            if v["topic"].as_str().is_some_and(|t| TOPICS.contains(&t)) {
                found.push(v);
            }
        }
    }
    let Some(names) = names else { return Ok(found) };
    let mut out = Vec::new();
    let mut missing = Vec::new();
    for n in &names {
        match found.iter().find(|v| v["name"] == n.as_str()) {
            Some(v) => out.push(v.clone()),
            None => missing.push(n.clone()),
        }
    }
    if !missing.is_empty() {
        return Err(format!("no positive vector named {}", missing.join(", ")));
    }
    Ok(out)
}

/// `--flag value` pairs after the command, only `known` flags.
pub fn parse_flags(args: &[String], known: &[&str]) -> Result<BTreeMap<String, String>, String> {
    let mut opts = BTreeMap::new();
    let mut rest = args.iter();
    while let Some(flag) = rest.next() {
        let Some(name) = flag.strip_prefix("--") else { return Err(format!("unexpected `{flag}`")) };
        if !known.contains(&name) {
            return Err(format!("unknown flag `{flag}`"));
        }
        let Some(value) = rest.next() else { return Err(format!("`{flag}` needs a value")) };
        opts.insert(name.to_owned(), value.clone());
    }
    Ok(opts)
}

/// Prints a consumed record's JSON line.
pub fn print_record<P: ampy_bus::prost::Message>(
    topic: &str,
    subject: &str,
    headers: &ampy_bus::Headers,
    raw: &[u8],
    body: &ampy_bus::nats::Body<P>,
) {
    let canonical = match body {
        ampy_bus::nats::Body::Payload(p) => p.encode_to_vec(),
        ampy_bus::nats::Body::Pointer(_) => Vec::new(),
    };
    println!("{}", record_line(topic, subject, &headers.to_pairs(), raw, &canonical));
}

/// Counts consumed records; the paired future completes once `count` came.
pub struct CountDown {
    pub seen: usize,
    count: usize,
    tx: Option<tokio::sync::oneshot::Sender<()>>,
}

impl CountDown {
    pub fn new(count: usize) -> (CountDown, impl std::future::Future<Output = ()>) {
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        (CountDown { seen: 0, count, tx: Some(tx) }, async move {
            let _ = rx.await;
        })
    }

    pub fn tick(&mut self) {
        self.seen += 1;
        if self.seen >= self.count {
            if let Some(tx) = self.tx.take() {
                let _ = tx.send(());
            }
        }
    }
}
