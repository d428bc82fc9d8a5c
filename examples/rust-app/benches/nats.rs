//! The typed NATS layer against raw async-nats, side by side on one
//! loopback server (its own nats-server, like the tests): 1 KiB payloads,
//! publish throughput with every ack awaited, consume throughput with an
//! explicit ack per record, and publish → first delivery latency at a
//! steady 2,000 msg/s against the contract's SLOs. Prints numbers; asserts
//! nothing about speed.
//!
//! Per record, publish: typed `publish_envelope` (subject and headers from
//! the bindings, header mapping, size pre-check, encode, ack awaited); raw:
//! the payload encoded, the same header values written to a `HeaderMap`,
//! `publish_with_headers`, ack awaited. Consume: typed `drain` (header
//! contract, schema hash and gzip checks, decode, handler, ack); raw: pull
//! batches of 500, read the message id and schema headers (checked), decode
//! the payload into `NewsItem`, ack.
//!
//!     [AMPY_BENCH_METRICS=1] cargo bench -p ampy-example --bench nats [-- N]

#[path = "support/cpu.rs"]
mod cpu;
#[path = "support/latency.rs"]
mod latency;
#[path = "../tests/support/nats_server.rs"]
mod nats_server;

use std::time::{Duration, Instant};

use ampy_bus::nats::async_nats::jetstream::{self, consumer::pull, AckKind};
use ampy_bus::nats::async_nats::HeaderMap;
use ampy_bus::nats::{headers, Bus};
use ampy_bus::prost::bytes::Bytes;
use ampy_bus::{Envelope, Topic};
use ampy_example::contract::{ampy::news::v1::NewsItem, topics::news::v1::Raw, transport, Env};
use cpu::cpu_seconds;
use futures_util::StreamExt;

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

fn main() {
    let n: usize = std::env::args().skip(1).find_map(|a| a.parse().ok()).unwrap_or(5000);
    let Some(server) = nats_server::Server::start("bench nats") else { return };
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    rt.block_on(run(&server.url(), n));
}

async fn run(url: &str, n: usize) {
    let bus = Bus::connect(url, &transport::LAYOUT, Env::Dev).await.unwrap();
    // AMPY_BENCH_METRICS=1: the typed side reports to the built-in
    // Prometheus metrics instead of the no-op observer, so their cost shows.
    let metrics_on = std::env::var_os("AMPY_BENCH_METRICS").is_some_and(|v| v == "1");
    let bus = if metrics_on { bus.with_observer(ampy_bus::nats::Metrics::new()) } else { bus };
    println!("typed side's observer: {}", if metrics_on { "Metrics (Prometheus)" } else { "none" });
    bus.provision(Default::default()).await.unwrap();
    let js = bus.jetstream().clone();
    let publisher = bus.publisher::<Raw>().producer("bench@1").build().unwrap();
    assert_eq!(ampy_bus::prost::Message::encoded_len(&payload(0)), 1024);

    // The same records for both: the raw side sends the typed side's bytes
    // and headers (so only the layer differs), with its own message ids.
    // Like a hand-written service, it encodes each payload and writes its
    // NATS headers (the typed side's values) per record.
    let envelopes: Vec<Envelope<NewsItem>> = (0..n)
        .map(|i| Envelope::builder(payload(i)).producer("bench@1").source("bench").run_id("r").build().unwrap())
        .collect();
    type RawRecord = (String, Vec<(&'static str, String)>, NewsItem);
    let raw: Vec<RawRecord> = (0..n)
        .map(|i| {
            let e = Envelope::builder(payload(i)).producer("bench@1").source("bench").run_id("r").build().unwrap();
            let rec = e.encode().unwrap();
            let subject = <Raw as Topic>::topic_for(&e.payload, Env::Dev).unwrap().into_string();
            (subject, rec.headers, e.payload)
        })
        .collect();

    println!(
        "NATS JetStream on loopback (nats-server {}), 1 KiB payloads, {n} records each",
        bus.client().server_info().version
    );
    // Alternate the two, twice, and keep each side's best round.
    let (mut typed_pub, mut raw_pub) = (f64::MAX, f64::MAX);
    for round in 0..2 {
        let slice = &envelopes[round * n / 2..(round + 1) * n / 2];
        let t = Instant::now();
        for e in slice {
            publisher.publish_envelope(e).await.unwrap();
        }
        typed_pub = typed_pub.min(t.elapsed().as_secs_f64() / slice.len() as f64);
        let slice = &raw[round * n / 2..(round + 1) * n / 2];
        let t = Instant::now();
        for (subject, h, item) in slice {
            let body = Bytes::from(ampy_bus::prost::Message::encode_to_vec(item));
            let h: HeaderMap = headers::to_nats(h.iter().map(|(k, v)| (*k, v.as_str()))).unwrap();
            js.publish_with_headers(subject.clone(), h, body).await.unwrap().await.unwrap();
        }
        raw_pub = raw_pub.min(t.elapsed().as_secs_f64() / slice.len() as f64);
    }
    report("publish, ack awaited", typed_pub, raw_pub);

    // Consume all 2n records: typed consumer vs a raw pull consumer, each
    // acking every record, in two rounds with fresh durables, the other
    // side first in the second (the first reader also pays for the server
    // loading the stream); each side's best round counts. Wall time, and
    // this process's CPU time (the steadier figure on a loaded machine).
    let total = 2 * n as u64;
    let stream = js.get_stream("AMPY_DEV_NEWS_V1").await.unwrap();
    let (mut typed_con, mut raw_con, mut typed_cpu, mut raw_cpu) = (f64::MAX, f64::MAX, f64::MAX, f64::MAX);
    for round in 0..2 {
        for side in [round, 1 - round] {
            let (t, cpu) = (Instant::now(), cpu_seconds());
            if side == 0 {
                let mut consumer =
                    bus.consumer::<Raw>(&format!("bench-typed-{round}")).batch(500).build().await.unwrap();
                let stats = consumer.drain(async |_d| Ok(()), Duration::from_millis(500)).await.unwrap();
                assert_eq!(stats.acked, total, "the typed consumer acked {} of {total}", stats.acked);
                typed_con = typed_con.min((t.elapsed().as_secs_f64() - 0.5) / total as f64);
                typed_cpu = typed_cpu.min((cpu_seconds() - cpu) / total as f64);
            } else {
                let c: jetstream::consumer::PullConsumer = stream
                    .create_consumer(pull::Config {
                        durable_name: Some(format!("bench-raw-{round}")),
                        ack_policy: jetstream::consumer::AckPolicy::Explicit,
                        filter_subject: "ampy.dev.news.v1.raw".into(),
                        ..Default::default()
                    })
                    .await
                    .unwrap();
                let mut msgs = c.stream().max_messages_per_batch(500).messages().await.unwrap();
                for _ in 0..total {
                    let m = msgs.next().await.unwrap().unwrap();
                    // What a hand-written service reads: the message id and
                    // schema headers (checked), and the payload decoded.
                    let h = m.headers.as_ref().unwrap();
                    assert!(h.get("Nats-Msg-Id").is_some());
                    assert_eq!(h.get("Ampy-Schema-Fqdn").map(|v| v.as_str()), Some(FQDN));
                    let item: NewsItem = ampy_bus::prost::Message::decode(m.payload.clone()).unwrap();
                    std::hint::black_box(item);
                    m.ack_with(AckKind::Ack).await.unwrap();
                }
                raw_con = raw_con.min(t.elapsed().as_secs_f64() / total as f64);
                raw_cpu = raw_cpu.min((cpu_seconds() - cpu) / total as f64);
            }
        }
    }
    report("consume, decode + ack", typed_con, raw_con);
    report("consume CPU", typed_cpu, raw_cpu);

    // Latency at a steady 2,000 msg/s for 3 s: send times by message id,
    // first deliveries timed by a running consumer.
    let clock = latency::Clock::default();
    let rate = 2000.0;
    let secs = 3.0;
    let total = (rate * secs) as usize;
    let mut consumer =
        bus.consumer::<Raw>("bench-latency").start(ampy_bus::nats::Start::New).batch(100).build().await.unwrap();
    let clock2 = clock.clone();
    // One task, two futures: the consumer's handler borrows, so it is not
    // spawned.
    let consume = async {
        let mut lat = Vec::with_capacity(total);
        consumer
            .drain(
                async |d| {
                    lat.extend(clock2.since_sent(&d.headers.message_id));
                    Ok(())
                },
                Duration::from_secs(2),
            )
            .await
            .unwrap();
        lat
    };
    let produce = async {
        tokio::time::sleep(Duration::from_millis(200)).await;
        let start = Instant::now();
        let mut inflight = Vec::new();
        for i in 0..total {
            let due = start + Duration::from_secs_f64(i as f64 / rate);
            tokio::time::sleep_until(due.into()).await;
            let e = Envelope::builder(payload(i)).producer("bench@1").source("bench").run_id("r").build().unwrap();
            clock.sent(&e.headers.message_id);
            // Steady rate: do not wait for each ack before the next send.
            let p = publisher_clone(&bus);
            inflight.push(tokio::spawn(async move { p.publish_envelope(&e).await.map(|_| ()) }));
        }
        for f in inflight {
            f.await.unwrap().unwrap();
        }
    };
    let (lat, ()) = tokio::join!(consume, produce);
    latency::report("publish", rate, secs, lat);
}

fn publisher_clone(bus: &Bus) -> ampy_bus::nats::Publisher<Raw> {
    bus.publisher::<Raw>().producer("bench@1").source("bench").build().unwrap()
}

fn report(what: &str, typed: f64, raw: f64) {
    println!(
        "{what:24} typed {:8.1} µs/record ({:7.0}/s)   raw async-nats {:8.1} µs/record ({:7.0}/s)   typed/raw {:.2}x",
        typed * 1e6,
        1.0 / typed,
        raw * 1e6,
        1.0 / raw,
        typed / raw
    );
}
