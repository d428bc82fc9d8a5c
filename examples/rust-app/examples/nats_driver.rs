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

#[path = "support/matrix.rs"]
#[macro_use]
mod matrix;

use std::path::Path;
use std::process::ExitCode;
use std::time::Duration;

use ampy_bus::nats::{Bus, Delivery, HandlerError};
use ampy_bus::Topic;
use ampy_example::contract::{topics, transport, Env};
use matrix::{load_vectors, parse_flags, print_record, vector_envelope, CountDown, Vector, TOPICS};

async fn publish<T: Topic>(bus: &Bus, v: &Vector, producer: &str) -> Result<(String, u64), String>
where
    T::Payload: ampy_bus::Schema + ampy_bus::PartitionKey + ampy_bus::prost::Message + Default,
{
    let publisher = bus.publisher::<T>().producer(producer).build().map_err(|e| e.to_string())?;
    let done = match vector_envelope::<T>(v)? {
        (envelope, Some(blob)) => publisher.publish_pointer(&envelope, &blob).await,
        (envelope, None) => publisher.publish_envelope(&envelope).await,
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
    let (mut counter, stop) = CountDown::new(count);
    let run = consumer.run_until(
        async |d: Delivery<T::Payload>| {
            print_record(T::ID, &d.info.subject, &d.headers, d.raw_payload(), &d.body);
            counter.tick();
            Ok::<(), HandlerError>(())
        },
        stop,
    );
    match tokio::time::timeout(timeout, run).await {
        Ok(Ok(_)) | Err(_) => {}
        Ok(Err(e)) => return Err(e.to_string()),
    }
    Ok(counter.seen)
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
    let known = ["url", "env", "vectors", "names", "producer", "topic", "durable", "count", "timeout-ms"];
    let opts = match parse_flags(&args[1..], &known) {
        Ok(o) => o,
        Err(e) => return usage(&e),
    };
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
