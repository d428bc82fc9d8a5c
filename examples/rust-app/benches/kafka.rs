//! The typed Kafka layer against raw rdkafka, side by side on one loopback
//! broker (AMPY_KAFKA_BOOTSTRAP, as the tests): 1 KiB payloads, produce
//! throughput (all records handed to the producer, then every delivery
//! report awaited; the raw side encodes each payload and writes its
//! headers, as a service would), consume throughput (a consumer group
//! storing each record's offset after it is handled; the raw side reads the
//! message id and schema headers, checks the schema name and decodes each
//! payload), and produce → first delivery
//! latency at a steady 2,000 msg/s against the contract's SLOs. Prints
//! numbers; asserts nothing about speed.
//!
//!     source scripts/lib/kafka.sh; kafka_install; kafka_start
//!     [AMPY_BENCH_METRICS=1] cargo bench -p ampy-example --bench kafka [-- N]

#[path = "support/cpu.rs"]
mod cpu;
#[path = "../tests/support/kafka_broker.rs"]
mod kafka_broker;
#[path = "support/latency.rs"]
mod latency;

use std::sync::Arc;
use std::time::{Duration, Instant};

use ampy_bus::kafka::rdkafka::consumer::{CommitMode, Consumer as _, StreamConsumer};
use ampy_bus::kafka::rdkafka::message::Headers as _;
use ampy_bus::kafka::rdkafka::producer::{FutureProducer, FutureRecord};
use ampy_bus::kafka::rdkafka::{ClientConfig, Message as _, Offset, TopicPartitionList};
use ampy_bus::kafka::{headers, Bus, Publisher};
use ampy_bus::{Envelope, Topic};
use ampy_example::contract::{ampy::news::v1::NewsItem, topics::news::v1::Raw, transport, Env};
use cpu::cpu_seconds;

const TOPIC: &str = "ampy.dev.news.v1";
const FQDN: &str = "ampy.news.v1.NewsItem";

/// A news item whose encoding is 1 KiB.
fn payload(i: usize) -> NewsItem {
    let mut item = NewsItem { id: format!("bench:{i:08}"), headline: "x".repeat(1000), ..Default::default() };
    let len = ampy_bus::prost::Message::encoded_len(&item);
    item.headline.truncate(1000 - (len - 1024).min(1000));
    while ampy_bus::prost::Message::encoded_len(&item) < 1024 {
        item.headline.push('x');
    }
    item
}

fn envelope(i: usize) -> Envelope<NewsItem> {
    Envelope::builder(payload(i)).producer("bench@1").source("bench").run_id("r").build().unwrap()
}

/// (key, header pairs, payload) per record: what a hand-written producer
/// holds.
type RawRecord = (String, Vec<(&'static str, String)>, NewsItem);

/// The raw side's produce: encodes each payload and its header values,
/// hands every record to rdkafka, then awaits every delivery report.
async fn raw_produce(raw: &FutureProducer, records: &[RawRecord]) {
    let mut futures = Vec::with_capacity(records.len());
    for (key, h, item) in records {
        let body = ampy_bus::prost::Message::encode_to_vec(item);
        let h = headers::to_kafka(h.iter().map(|(k, v)| (*k, v.as_str())));
        let rec = FutureRecord::to(TOPIC).key(key.as_bytes()).payload(&body).headers(h);
        futures.push(raw.send_result(rec).map_err(|(e, _)| e).unwrap());
    }
    for f in futures {
        f.await.unwrap().unwrap();
    }
}

fn main() {
    let n: usize = std::env::args().skip(1).find_map(|a| a.parse().ok()).unwrap_or(20000);
    let Some(broker) = kafka_broker::Broker::get("bench kafka") else { return };
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    rt.block_on(async {
        broker.fresh_topics(&[TOPIC, "ampy.dev.dlq.v1"], 6).await;
        run(&broker.bootstrap, n).await;
    });
}

async fn run(bootstrap: &str, n: usize) {
    let bus = Bus::connect(bootstrap, &transport::LAYOUT, Env::Dev).await.unwrap();
    // AMPY_BENCH_METRICS=1: the typed side reports to the built-in
    // Prometheus metrics instead of the no-op observer, so their cost shows.
    let metrics_on = std::env::var_os("AMPY_BENCH_METRICS").is_some_and(|v| v == "1");
    let bus = if metrics_on { bus.with_observer(ampy_bus::kafka::Metrics::new()) } else { bus };
    println!("typed side's observer: {}", if metrics_on { "Metrics (Prometheus)" } else { "none" });
    let publisher = bus.publisher::<Raw>().producer("bench@1").build().unwrap();
    assert_eq!(ampy_bus::prost::Message::encoded_len(&payload(0)), 1024);
    // What a service would otherwise write: rdkafka with the same producer
    // settings and its own (default) partitioner, encoding each payload and
    // writing the typed side's key and header values per record.
    let raw: FutureProducer = ClientConfig::new()
        .set("bootstrap.servers", bootstrap)
        .set("enable.idempotence", "true")
        .set("acks", "all")
        .set("linger.ms", "5")
        .set("compression.type", "none")
        .create()
        .unwrap();
    let envelopes: Vec<Envelope<NewsItem>> = (0..n).map(envelope).collect();
    let records: Vec<RawRecord> = (0..n)
        .map(|i| {
            let e = envelope(i);
            let rec = e.encode().unwrap();
            let subject = <Raw as Topic>::topic_for(&e.payload, Env::Dev).unwrap();
            (subject.kafka_key(&e.headers.partition_key), rec.headers, e.payload)
        })
        .collect();

    println!("Kafka 4.4 on loopback ({bootstrap}), 1 KiB payloads, {n} records each side, 6 partitions");
    // One unmeasured burst per side first: a broker started moments ago is
    // still compiling its hot paths, and the side measured first would pay
    // for it (the Go bench measured 1.6x in such a run, 0.9x in the next).
    let warm = n.min(1000);
    publisher.publish_envelopes(&envelopes[..warm]).await.unwrap();
    raw_produce(&raw, &records[..warm]).await;
    let (mut typed_pub, mut raw_pub) = (f64::MAX, f64::MAX);
    let (mut typed_pub_cpu, mut raw_pub_cpu) = (f64::MAX, f64::MAX);
    for round in 0..2 {
        let half = round * n / 2..(round + 1) * n / 2;
        let (t, cpu) = (Instant::now(), cpu_seconds());
        let done = publisher.publish_envelopes(&envelopes[half.clone()]).await.unwrap();
        typed_pub = typed_pub.min(t.elapsed().as_secs_f64() / done.len() as f64);
        typed_pub_cpu = typed_pub_cpu.min((cpu_seconds() - cpu) / done.len() as f64);
        let (t, cpu) = (Instant::now(), cpu_seconds());
        raw_produce(&raw, &records[half.clone()]).await;
        raw_pub = raw_pub.min(t.elapsed().as_secs_f64() / half.len() as f64);
        raw_pub_cpu = raw_pub_cpu.min((cpu_seconds() - cpu) / half.len() as f64);
    }
    report("produce, reports awaited", typed_pub, raw_pub);
    report("produce CPU", typed_pub_cpu, raw_pub_cpu);

    // Consume all 2n records (and the warm-up's) with fresh groups, the
    // other side first in the second round; each side's best round counts.
    let total = 2 * (n + warm) as u64;
    let (mut typed_con, mut raw_con) = (f64::MAX, f64::MAX);
    let (mut typed_con_cpu, mut raw_con_cpu) = (f64::MAX, f64::MAX);
    for round in 0..2 {
        for side in [round, 1 - round] {
            let (t, cpu) = (Instant::now(), cpu_seconds());
            if side == 0 {
                let mut consumer =
                    bus.consumer::<Raw>(&format!("bench-typed-{round}-{}", std::process::id())).build().await.unwrap();
                // Timed up to the last record handled, as the raw side is:
                // drain then idles 3 s to be sure nothing more comes, and
                // neither that wait's wall time nor the CPU the client's
                // threads spend in it is the layer's cost per record.
                let (mut seen, mut last) = (0u64, None);
                let on_record = async |_d| {
                    seen += 1;
                    if seen == total {
                        last = Some((t.elapsed().as_secs_f64(), cpu_seconds()));
                    }
                    Ok(())
                };
                let stats = consumer.drain(on_record, Duration::from_secs(3)).await.unwrap();
                assert_eq!(stats.consumed, total, "the typed consumer handled {} of {total}", stats.consumed);
                let (wall, cpu_end) = last.expect("the last record was handled");
                typed_con = typed_con.min(wall / total as f64);
                typed_con_cpu = typed_con_cpu.min((cpu_end - cpu) / total as f64);
            } else {
                let c: StreamConsumer = ClientConfig::new()
                    .set("bootstrap.servers", bootstrap)
                    .set("group.id", format!("bench-raw-{round}-{}", std::process::id()))
                    .set("enable.auto.offset.store", "false")
                    .set("auto.offset.reset", "earliest")
                    .create()
                    .unwrap();
                c.subscribe(&[TOPIC]).unwrap();
                for _ in 0..total {
                    let m = c.recv().await.unwrap();
                    // As a hand-written service: the message id and schema
                    // headers (checked), and the payload decoded.
                    let (mut id, mut schema) = (None, None);
                    for h in m.headers().map(|h| h.iter()).into_iter().flatten() {
                        match h.key {
                            "message_id" => id = h.value,
                            "schema_fqdn" => schema = h.value,
                            _ => {}
                        }
                    }
                    assert!(id.is_some_and(|v| !v.is_empty()));
                    assert_eq!(schema, Some(FQDN.as_bytes()));
                    let item: NewsItem = ampy_bus::prost::Message::decode(m.payload().unwrap_or_default()).unwrap();
                    std::hint::black_box(item);
                    let mut tpl = TopicPartitionList::new();
                    tpl.add_partition_offset(m.topic(), m.partition(), Offset::Offset(m.offset() + 1)).unwrap();
                    c.store_offsets(&tpl).unwrap();
                }
                // The final commit the typed drain makes too.
                c.commit_consumer_state(CommitMode::Sync).unwrap();
                raw_con = raw_con.min(t.elapsed().as_secs_f64() / total as f64);
                raw_con_cpu = raw_con_cpu.min((cpu_seconds() - cpu) / total as f64);
            }
        }
    }
    report("consume, offset stored", typed_con, raw_con);
    report("consume CPU", typed_con_cpu, raw_con_cpu);

    // Latency at a steady 2,000 msg/s for 5 s: send times by message id,
    // first deliveries timed by a running group member.
    let clock = latency::Clock::default();
    let rate = 2000.0;
    let secs = 5.0;
    let count = (rate * secs) as usize;
    let mut consumer = bus
        .consumer::<Raw>(&format!("bench-latency-{}", std::process::id()))
        .start(ampy_bus::kafka::Start::Latest)
        .build()
        .await
        .unwrap();
    let receiver = clock.clone();
    let consume = async {
        let mut lat = Vec::with_capacity(count);
        let on_record = async |d: ampy_bus::kafka::Delivery<NewsItem>| {
            lat.extend(receiver.since_sent(&d.headers.message_id));
            Ok(())
        };
        consumer.drain(on_record, Duration::from_secs(3)).await.unwrap();
        lat
    };
    let publisher = Arc::new(publisher);
    let produce = async {
        // Let the group settle before the clock starts.
        tokio::time::sleep(Duration::from_secs(2)).await;
        let start = Instant::now();
        let mut inflight = Vec::with_capacity(count);
        for i in 0..count {
            tokio::time::sleep_until((start + Duration::from_secs_f64(i as f64 / rate)).into()).await;
            let e = envelope(i);
            clock.sent(&e.headers.message_id);
            let p: Arc<Publisher<Raw>> = Arc::clone(&publisher);
            inflight.push(tokio::spawn(async move { p.publish_envelope(&e).await.map(|_| ()) }));
        }
        for f in inflight {
            f.await.unwrap().unwrap();
        }
    };
    let (lat, ()) = tokio::join!(consume, produce);
    latency::report("produce", rate, secs, lat);
}

fn report(what: &str, typed: f64, raw: f64) {
    println!(
        "{what:26} typed {:7.1} µs/record ({:7.0}/s)   raw rdkafka {:7.1} µs/record ({:7.0}/s)   typed/raw {:.2}x",
        typed * 1e6,
        1.0 / typed,
        raw * 1e6,
        1.0 / raw,
        typed / raw
    );
}
