//! The Rust driver of the cross-language NATS matrix
//! (tests/nats-matrix/run.sh, docs/nats.md), on the typed API only: the
//! publisher derives the subject from the payload and writes the headers
//! by the one mapping; the consumer decodes with the envelope rules.
//!
//! ```text
//! nats_driver publish --url nats://127.0.0.1:4222 --env dev \
//!     --vectors tests/vectors/positive [--names bars.typical,...]
//! nats_driver consume --url nats://127.0.0.1:4222 --env dev \
//!     --topic news.v1.raw --durable matrix-rs --count 3 --timeout-ms 10000
//! ```
//!
//! `publish` rebuilds each selected positive vector's envelope with the
//! envelope decoding (headers + `body_base64`; a blob pointer from its
//! headers, with the payload bytes as the blob), publishes that envelope
//! (so message_id, produced_at and every other header are the vector's),
//! awaits the acks and prints `published <name> <stream> <seq>` per record,
//! then `published N`. `consume` reads N records of one topic with a
//! durable typed consumer (acking each) and prints one JSON line per record
//! with sorted keys, byte for byte as the Python and Go drivers print it.
//! Exit 0 after N records, 1 on a timeout or a failure, 2 on bad arguments.
//!
//! Payloads with a map of more than one entry have no fixed encoding in
//! prost (its maps are `HashMap`s), so `payload_canonical_base64` is only
//! comparable across languages for the others; the matrix picks those.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::ExitCode;
use std::time::Duration;

use ampy_bus::nats::{Body, Bus, Delivery, HandlerError};
use ampy_bus::{Envelope, Topic};
use ampy_example::contract::{topics, transport, Env};
use base64::Engine as _;

type Vector = serde_json::Value;

fn b64(s: &str) -> Result<Vec<u8>, String> {
    base64::engine::general_purpose::STANDARD.decode(s).map_err(|e| e.to_string())
}

fn b64e(b: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(b)
}

/// `s` quoted as Python's json module does with `ensure_ascii=False`.
fn py_string(s: &str) -> String {
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
fn record_line(topic: &str, subject: &str, headers: &[(&'static str, String)], raw: &[u8], canonical: &[u8]) -> String {
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

async fn publish<T: Topic>(bus: &Bus, v: &Vector, producer: &str) -> Result<(String, u64), String>
where
    T::Payload: ampy_bus::Schema + ampy_bus::PartitionKey + ampy_bus::prost::Message + Default,
{
    let publisher = bus.publisher::<T>().producer(producer).build().map_err(|e| e.to_string())?;
    let headers: Vec<(String, String)> = v["envelope"]["headers"]
        .as_object()
        .ok_or("a vector without envelope.headers")?
        .iter()
        .map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_owned()))
        .collect();
    let pairs = || headers.iter().map(|(k, v)| (k.as_str(), v.as_str()));
    let parsed = Envelope::<T::Payload>::decode_headers(pairs()).map_err(|e| e.to_string())?;
    let done = if let Some(blob) = parsed.blob.clone() {
        let bytes = b64(v["payload_base64"].as_str().unwrap_or_default())?;
        let envelope = Envelope::<T::Payload>::decode_blob(parsed, &bytes).map_err(|e| e.to_string())?;
        publisher.publish_pointer(&envelope, &blob).await
    } else {
        let body = b64(v["envelope"]["body_base64"].as_str().unwrap_or_default())?;
        let envelope = Envelope::<T::Payload>::decode(pairs(), &body).map_err(|e| e.to_string())?;
        publisher.publish_envelope(&envelope).await
    }
    .map_err(|e| e.to_string())?;
    Ok((done.stream, done.sequence))
}

async fn consume<T: Topic>(bus: &Bus, durable: &str, count: usize, timeout: Duration) -> Result<usize, String>
where
    T::Payload: ampy_bus::Schema + ampy_bus::prost::Message + Default,
{
    let mut consumer =
        bus.consumer::<T>(durable).batch(count.clamp(1, 256)).build().await.map_err(|e| e.to_string())?;
    let mut seen = 0usize;
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let mut tx = Some(tx);
    let stop = async move {
        let _ = rx.await;
    };
    let run = consumer.run_until(
        async |d: Delivery<T::Payload>| {
            let canonical = match &d.body {
                Body::Payload(p) => ampy_bus::prost::Message::encode_to_vec(p),
                Body::Pointer(_) => Vec::new(),
            };
            println!("{}", record_line(T::ID, &d.info.subject, &d.headers.to_pairs(), d.raw_payload(), &canonical));
            seen += 1;
            if seen >= count {
                if let Some(tx) = tx.take() {
                    let _ = tx.send(());
                }
            }
            Ok::<(), HandlerError>(())
        },
        stop,
    );
    match tokio::time::timeout(timeout, run).await {
        Ok(Ok(_)) | Err(_) => {}
        Ok(Err(e)) => return Err(e.to_string()),
    }
    Ok(seen)
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

const TOPICS: [&str; 16] = [
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

fn load_vectors(dir: &Path, names: Option<Vec<String>>) -> Result<Vec<Vector>, String> {
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

fn usage(msg: &str) -> ExitCode {
    eprintln!("nats_driver: {msg}");
    eprintln!(
        "usage: nats_driver publish --url URL --env ENV --vectors DIR [--names a,b] | \
         consume --url URL --env ENV --topic ID --durable NAME --count N --timeout-ms MS"
    );
    ExitCode::from(2)
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Some(command) = args.first().filter(|c| *c == "publish" || *c == "consume") else {
        return usage("the first argument is publish or consume");
    };
    let mut opts: BTreeMap<String, String> = BTreeMap::new();
    let mut rest = args[1..].iter();
    while let Some(flag) = rest.next() {
        let Some(name) = flag.strip_prefix("--") else { return usage(&format!("unexpected `{flag}`")) };
        let known = ["url", "env", "vectors", "names", "producer", "topic", "durable", "count", "timeout-ms"];
        if !known.contains(&name) {
            return usage(&format!("unknown flag `{flag}`"));
        }
        let Some(value) = rest.next() else { return usage(&format!("`{flag}` needs a value")) };
        opts.insert(name.to_owned(), value.clone());
    }
    let (Some(url), Some(env)) = (opts.get("url"), opts.get("env")) else {
        return usage("--url and --env are required");
    };
    let env: Env = match env.parse() {
        Ok(e) => e,
        Err(e) => return usage(&e.to_string()),
    };
    let rt = match tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("nats_driver: {e}");
            return ExitCode::FAILURE;
        }
    };
    if command == "publish" {
        let Some(dir) = opts.get("vectors") else { return usage("publish needs --vectors") };
        let names = opts.get("names").map(|n| n.split(',').map(str::to_owned).collect());
        let vectors = match load_vectors(Path::new(dir), names) {
            Ok(v) => v,
            Err(e) => return usage(&e.to_string()),
        };
        let producer = opts.get("producer").cloned().unwrap_or_else(|| "matrix-rs@1".to_owned());
        return rt.block_on(async {
            let bus = match Bus::connect(url, &transport::LAYOUT, env).await {
                Ok(b) => b,
                Err(e) => {
                    eprintln!("nats_driver: {e}");
                    return ExitCode::FAILURE;
                }
            };
            for v in &vectors {
                let name = v["name"].as_str().unwrap_or_default();
                let topic = v["topic"].as_str().unwrap_or_default();
                match by_topic!(topic, publish, &bus, v, &producer) {
                    Some(Ok((stream, seq))) => println!("published {name} {stream} {seq}"),
                    Some(Err(e)) => {
                        eprintln!("nats_driver: {name}: {e}");
                        return ExitCode::FAILURE;
                    }
                    None => unreachable!("load_vectors keeps payload topics only"),
                }
            }
            println!("published {}", vectors.len());
            ExitCode::SUCCESS
        });
    }
    let Some(topic) = opts.get("topic").filter(|t| TOPICS.contains(&t.as_str())) else {
        return usage(&format!("unknown topic; one of {}", TOPICS.join(", ")));
    };
    let (Some(durable), Some(count), Some(timeout)) = (
        opts.get("durable"),
        opts.get("count").and_then(|c| c.parse::<usize>().ok()),
        opts.get("timeout-ms").and_then(|c| c.parse::<u64>().ok()),
    ) else {
        return usage("consume needs --durable, --count and --timeout-ms");
    };
    rt.block_on(async {
        let bus = match Bus::connect(url, &transport::LAYOUT, env).await {
            Ok(b) => b,
            Err(e) => {
                eprintln!("nats_driver: {e}");
                return ExitCode::FAILURE;
            }
        };
        let timeout = Duration::from_millis(timeout);
        match by_topic!(topic.as_str(), consume, &bus, durable, count, timeout) {
            Some(Ok(seen)) if seen == count => ExitCode::SUCCESS,
            Some(Ok(seen)) => {
                eprintln!("nats_driver: {seen} of {count} records within {} ms", timeout.as_millis());
                ExitCode::FAILURE
            }
            Some(Err(e)) => {
                eprintln!("nats_driver: {e}");
                ExitCode::FAILURE
            }
            None => unreachable!("the topic was checked"),
        }
    })
}
