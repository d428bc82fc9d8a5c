//! The Rust driver of the cross-language Kafka matrix
//! (tests/kafka-matrix/run.sh, docs/kafka.md), on the typed API only: the
//! publisher derives the Kafka topic and key from the payload, chooses the
//! partition by Java's murmur2 rule and writes the headers by the one
//! mapping; the consumer decodes with the envelope rules.
//!
//! ```text
//! kafka_driver publish --bootstrap HOST:PORT --env dev --vectors tests/vectors/positive \
//!     [--names a,b] [--repeat N]
//! kafka_driver consume --bootstrap HOST:PORT --env dev --topic news.v1.raw --group G \
//!     --count N --timeout-ms T
//! kafka_driver partition --keys FILE
//! kafka_driver produce-keys --bootstrap HOST:PORT --topic TOPIC --keys FILE
//! ```
//!
//! `publish` rebuilds each selected vector's envelope (every header the
//! vector's) and prints `published <name> <topic> <partition> <offset>`
//! per record, then `published N`; with `--repeat N` each vector goes N
//! times in order, copy i with `run_id` `seq-` + i in 6 digits, handed to
//! the producer together and then awaited. `consume` prints one JSON line
//! per record (sorted keys, as the NATS driver) and exits 0 after N
//! records, 1 on a timeout or failure, 2 on bad arguments. `partition`
//! prints each key's murmur2 and its partition for 1, 3, 6, 12 and 100
//! partitions; `produce-keys` produces each key (value = key, no headers)
//! through the same partition-choosing path the typed publisher uses.

#[path = "support/matrix.rs"]
#[macro_use]
mod matrix;

use std::path::Path;
use std::process::ExitCode;
use std::time::Duration;

use ampy_bus::kafka::{murmur2, partition_for, Bus, Delivery, HandlerError};
use ampy_bus::Topic;
use ampy_example::contract::{topics, transport, Env};
use matrix::{b64, b64e, load_vectors, parse_flags, print_record, vector_envelope, CountDown, Vector, TOPICS};

async fn publish<T: Topic>(bus: &Bus, v: &Vector, producer: &str, repeat: usize) -> Result<Vec<String>, String>
where
    T::Payload: ampy_bus::Schema + ampy_bus::PartitionKey + ampy_bus::prost::Message + Default + Clone,
{
    let publisher = bus.publisher::<T>().producer(producer).build().map_err(|e| e.to_string())?;
    let name = v["name"].as_str().unwrap_or_default();
    let line = |p: &ampy_bus::kafka::Published| format!("published {name} {} {} {}", p.topic, p.partition, p.offset);
    let (envelope, blob) = vector_envelope::<T>(v)?;
    if repeat == 0 {
        let done = match blob {
            Some(blob) => publisher.publish_pointer(&envelope, &blob).await,
            None => publisher.publish_envelope(&envelope).await,
        }
        .map_err(|e| e.to_string())?;
        return Ok(vec![line(&done)]);
    }
    if blob.is_some() {
        return Err(format!("{name}: --repeat takes a vector with a body, not a blob pointer"));
    }
    let copies: Vec<_> = (0..repeat)
        .map(|i| {
            let mut e = envelope.clone();
            e.headers.run_id = format!("seq-{i:06}");
            e
        })
        .collect();
    let done = publisher.publish_envelopes(&copies).await.map_err(|e| e.to_string())?;
    Ok(done.iter().map(line).collect())
}

async fn consume<T: Topic>(bus: &Bus, group: &str, count: usize, timeout: Duration) -> Result<usize, String>
where
    T::Payload: ampy_bus::Schema + ampy_bus::prost::Message + Default,
{
    let mut consumer = bus.consumer::<T>(group).build().await.map_err(|e| e.to_string())?;
    let (mut counter, done) = CountDown::new(count);
    let deadline = tokio::time::sleep(timeout);
    let stop = async move {
        tokio::select! {
            () = done => {}
            () = deadline => {}
        }
    };
    consumer
        .run_until(
            async |d: Delivery<T::Payload>| {
                print_record(T::ID, &d.info.subject, &d.headers, d.raw_payload(), &d.body);
                counter.tick();
                Ok::<(), HandlerError>(())
            },
            stop,
        )
        .await
        .map_err(|e| e.to_string())?;
    Ok(counter.seen)
}

/// The keys of a `k:`+base64 file, one per line.
fn read_keys(path: &str) -> Result<Vec<Vec<u8>>, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{path}: {e}"))?;
    text.lines()
        .filter(|l| !l.is_empty())
        .map(|l| l.strip_prefix("k:").ok_or_else(|| format!("{path}: `{l}` is not k:<base64>")).and_then(b64))
        .collect()
}

fn usage(msg: &str) -> ExitCode {
    eprintln!("kafka_driver: {msg}");
    eprintln!(
        "usage: kafka_driver publish --bootstrap HOST:PORT --env ENV --vectors DIR [--names a,b] [--repeat N] | \
         consume --bootstrap HOST:PORT --env ENV --topic ID --group G --count N --timeout-ms MS | \
         partition --keys FILE | produce-keys --bootstrap HOST:PORT --topic TOPIC --keys FILE"
    );
    ExitCode::from(2)
}

fn fail(msg: impl std::fmt::Display) -> ExitCode {
    eprintln!("kafka_driver: {msg}");
    ExitCode::FAILURE
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let commands = ["publish", "consume", "partition", "produce-keys"];
    let Some(command) = args.first().filter(|c| commands.contains(&c.as_str())) else {
        return usage("the first argument is publish, consume, partition or produce-keys");
    };
    let known =
        ["bootstrap", "env", "vectors", "names", "repeat", "producer", "topic", "group", "count", "timeout-ms", "keys"];
    let opts = match parse_flags(&args[1..], &known) {
        Ok(o) => o,
        Err(e) => return usage(&e),
    };
    if command == "partition" {
        let Some(keys) = opts.get("keys") else { return usage("partition needs --keys") };
        let keys = match read_keys(keys) {
            Ok(k) => k,
            Err(e) => return usage(&e),
        };
        for k in keys {
            let p: Vec<String> = [1, 3, 6, 12, 100].iter().map(|n| partition_for(&k, *n).to_string()).collect();
            println!("k:{}\t{}\t{}", b64e(&k), murmur2(&k), p.join("\t"));
        }
        return ExitCode::SUCCESS;
    }
    let Some(bootstrap) = opts.get("bootstrap") else { return usage("--bootstrap is required") };
    let env: Env = match opts.get("env").map_or(Ok(Env::Dev), |e| e.parse()) {
        Ok(e) => e,
        Err(e) => return usage(&e.to_string()),
    };
    let rt = match tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build() {
        Ok(rt) => rt,
        Err(e) => return fail(e),
    };
    match command.as_str() {
        "produce-keys" => {
            let (Some(topic), Some(keys)) = (opts.get("topic"), opts.get("keys")) else {
                return usage("produce-keys needs --topic and --keys");
            };
            let keys = match read_keys(keys) {
                Ok(k) => k,
                Err(e) => return usage(&e),
            };
            rt.block_on(async {
                let bus = match Bus::connect(bootstrap, &transport::LAYOUT, env).await {
                    Ok(b) => b,
                    Err(e) => return fail(e),
                };
                for k in &keys {
                    if let Err(e) = bus.produce(topic, k, k, None, None).await {
                        return fail(e);
                    }
                }
                println!("produced {}", keys.len());
                ExitCode::SUCCESS
            })
        }
        "publish" => {
            if !opts.contains_key("env") {
                return usage("publish needs --env");
            }
            let Some(dir) = opts.get("vectors") else { return usage("publish needs --vectors") };
            let names = opts.get("names").map(|n| n.split(',').map(str::to_owned).collect());
            let vectors = match load_vectors(Path::new(dir), names) {
                Ok(v) => v,
                Err(e) => return usage(&e),
            };
            let repeat = match opts.get("repeat").map(|r| r.parse::<usize>()) {
                None => 0,
                Some(Ok(n)) if n > 0 => n,
                Some(_) => return usage("--repeat takes a positive count"),
            };
            let producer = opts.get("producer").cloned().unwrap_or_else(|| "matrix-rs@1".to_owned());
            rt.block_on(async {
                let bus = match Bus::connect(bootstrap, &transport::LAYOUT, env).await {
                    Ok(b) => b,
                    Err(e) => return fail(e),
                };
                let mut n = 0;
                for v in &vectors {
                    let name = v["name"].as_str().unwrap_or_default();
                    let topic = v["topic"].as_str().unwrap_or_default();
                    match by_topic!(topic, publish, &bus, v, &producer, repeat) {
                        Some(Ok(lines)) => {
                            n += lines.len();
                            for l in lines {
                                println!("{l}");
                            }
                        }
                        Some(Err(e)) => return fail(format!("{name}: {e}")),
                        None => unreachable!("load_vectors keeps payload topics only"),
                    }
                }
                println!("published {n}");
                ExitCode::SUCCESS
            })
        }
        _ => {
            if !opts.contains_key("env") {
                return usage("consume needs --env");
            }
            let Some(topic) = opts.get("topic").filter(|t| TOPICS.contains(&t.as_str())) else {
                return usage(&format!("unknown topic; one of {}", TOPICS.join(", ")));
            };
            let (Some(group), Some(count), Some(timeout)) = (
                opts.get("group"),
                opts.get("count").and_then(|c| c.parse::<usize>().ok()),
                opts.get("timeout-ms").and_then(|c| c.parse::<u64>().ok()),
            ) else {
                return usage("consume needs --group, --count and --timeout-ms");
            };
            rt.block_on(async {
                let bus = match Bus::connect(bootstrap, &transport::LAYOUT, env).await {
                    Ok(b) => b,
                    Err(e) => return fail(e),
                };
                let timeout = Duration::from_millis(timeout);
                match by_topic!(topic.as_str(), consume, &bus, group, count, timeout) {
                    Some(Ok(seen)) if seen == count => ExitCode::SUCCESS,
                    Some(Ok(seen)) => fail(format!("{seen} of {count} records within {} ms", timeout.as_millis())),
                    Some(Err(e)) => fail(e),
                    None => unreachable!("the topic was checked"),
                }
            })
        }
    }
}
