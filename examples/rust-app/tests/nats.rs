//! The NATS transport on a real JetStream server (nothing mocked): each
//! test starts its own nats-server (tests/support/nats_server.rs) and
//! provisions the registry's streams through the generated LAYOUT.

#[path = "support/nats_server.rs"]
mod nats_server;
#[path = "support/transport.rs"]
#[macro_use]
mod transport_support;

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use ampy_bus::nats::{headers, Body, Bus, ErrorKind, HandlerError, Metrics, RetryPolicy, Start};
use ampy_bus::{Envelope, Topic};
use ampy_example::contract::{topics, transport, Env};
use nats_server::Server;
use transport_support::{
    bars, bars_subject, corrupt_gzip, header, pairs, pick, rebuild, tampered, vectors, wrong_hash, Pairs, Rebuilt,
};

const IDLE: Duration = Duration::from_millis(1500);

fn rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap()
}

async fn bus(server: &Server, metrics: Option<Arc<Metrics>>) -> Bus {
    let bus = Bus::connect(&server.url(), &transport::LAYOUT, Env::Dev).await.unwrap();
    let bus = match metrics {
        Some(m) => bus.with_observer(m),
        None => bus,
    };
    let report = bus.provision(Default::default()).await.unwrap();
    assert!(!report.refused());
    bus
}

fn sorted(p: &[(String, String)]) -> Pairs {
    let mut p = p.to_vec();
    p.sort();
    p
}

/// The last dead letter stored for `domain` in env dev: (headers by NATS name, body).
async fn last_dead_letter(bus: &Bus, domain: &str) -> (Pairs, Vec<u8>) {
    let stream = bus.jetstream().get_stream("AMPY_DEV_DLQ_V1").await.unwrap();
    let m = stream.get_last_raw_message_by_subject(&format!("ampy.dev.dlq.v1.{domain}")).await.unwrap();
    let mut h: Pairs = m
        .headers
        .iter()
        .flat_map(|(k, vs)| vs.iter().map(move |v| (AsRef::<str>::as_ref(k).to_owned(), v.as_str().to_owned())))
        .collect();
    h.sort();
    (h, m.payload.to_vec())
}

// ---------------------------------------------------------------------------
// One positive vector per domain, the gzipped one and the blob pointer:
// published with the typed publisher, consumed with the typed consumer,
// byte-identical payloads and identical headers.

async fn roundtrip<T: Topic>(bus: &Bus, vectors: &[&serde_json::Value]) -> usize
where
    T::Payload: ampy_bus::Schema
        + ampy_bus::PartitionKey
        + ampy_bus::prost::Message
        + Default
        + PartialEq
        + Clone
        + std::fmt::Debug,
{
    let publisher = bus.publisher::<T>().producer("roundtrip@1").build().unwrap();
    let mut sent: Vec<(Pairs, Vec<u8>, T::Payload)> = Vec::new();
    for v in vectors {
        let Rebuilt { envelope, blob, record } = rebuild::<T::Payload>(v);
        let published = match &blob {
            Some(b) => publisher.publish_pointer(&envelope, b).await.unwrap(),
            None => publisher.publish_envelope(&envelope).await.unwrap(),
        };
        assert!(!published.duplicate);
        let payload = envelope.payload;
        sent.push((sorted(&pairs(&record)), record.payload.clone(), payload));
    }
    let mut got: Vec<(Pairs, Vec<u8>, Option<T::Payload>)> = Vec::new();
    let mut consumer = bus.consumer::<T>(&format!("rt-{}", T::ID.replace('.', "-"))).build().await.unwrap();
    let stats = consumer
        .drain(
            async |d: ampy_bus::nats::Delivery<T::Payload>| {
                let payload: Option<T::Payload> = match &d.body {
                    Body::Payload(p) => Some(p.clone()),
                    Body::Pointer(_) => None,
                };
                got.push((sorted(d.raw_headers()), d.raw_payload().to_vec(), payload));
                Ok(())
            },
            IDLE,
        )
        .await
        .unwrap();
    assert_eq!(stats.acked as usize, sent.len(), "{}: every record once", T::ID);
    for ((sh, sb, sp), (gh, gb, gp)) in sent.iter().zip(&got) {
        assert_eq!(sh, gh, "{}: headers", T::ID);
        assert_eq!(sb, gb, "{}: payload bytes", T::ID);
        if let Some(gp) = gp {
            assert_eq!(sp, gp, "{}: decoded payload", T::ID);
        } else {
            assert!(sb.is_empty() && sh.iter().any(|(k, _)| k == "blob_ref"), "only pointers have no payload");
        }
    }
    got.len()
}

#[test]
fn one_vector_per_domain_round_trips_byte_identical() {
    let Some(server) = Server::start("one_vector_per_domain_round_trips_byte_identical") else { return };
    rt().block_on(async {
        let bus = bus(&server, None).await;
        let n = round_trip_every_topic!(roundtrip, &vectors(), &bus);
        assert_eq!(n, 17, "15 topics, plus the gzip and blob pointer records");
    });
}

// ---------------------------------------------------------------------------
// Failure paths.

#[test]
fn poison_pills_go_to_the_dlq_with_their_reason() {
    let Some(server) = Server::start("poison_pills_go_to_the_dlq_with_their_reason") else { return };
    rt().block_on(async {
        let metrics = Metrics::new();
        let bus = bus(&server, Some(metrics.clone())).await;
        let publisher = bus.publisher::<topics::bars::v1::Bars>().producer("test@1").build().unwrap();
        // A producer built against other protos: same name, other hash.
        let wrong_hash = wrong_hash("AAPL");
        publisher.publish_record(bars_subject("AAPL"), &wrong_hash).await.unwrap();
        // A corrupt gzip body.
        let corrupt = corrupt_gzip("MSFT");
        publisher.publish_record(bars_subject("MSFT"), &corrupt).await.unwrap();

        let mut consumer = bus.consumer::<topics::bars::v1::Bars>("poison").build().await.unwrap();
        let mut handled = 0;
        let stats = consumer
            .drain(
                async |_d| {
                    handled += 1;
                    Ok(())
                },
                IDLE,
            )
            .await
            .unwrap();
        assert_eq!((handled, stats.dead_lettered, stats.acked, stats.decode_failures), (0, 2, 0, 2));

        let (h, body) = last_dead_letter(&bus, "bars").await;
        // The corrupt one was second: its original headers and bytes, plus the reason.
        assert!(header(&h, "Ampy-Dlq-Reason").unwrap().starts_with("decode_error: corrupt gzip"), "{h:?}");
        assert_eq!(body, corrupt.payload);
        for (k, v) in &corrupt.headers {
            let nats = ampy_bus::transport::nats_header(k).unwrap();
            assert_eq!(header(&h, nats), Some(v.as_str()), "{k} preserved");
        }
        let stream = bus.jetstream().get_stream("AMPY_DEV_DLQ_V1").await.unwrap();
        let first = stream.get_raw_message(1).await.unwrap();
        let reason = first.headers.get("Ampy-Dlq-Reason").unwrap().as_str().to_owned();
        assert_eq!(reason, "schema_hash_mismatch");
        assert_eq!(first.payload.to_vec(), wrong_hash.payload);

        let t = [("topic", "bars.v1.bars")];
        let with = |k: &'static str, v: &'static str| [t[0], (k, v)];
        assert_eq!(metrics.counter("bus_dlq_total", &with("reason", "schema_hash_mismatch")), 1);
        assert_eq!(metrics.counter("bus_dlq_total", &with("reason", "decode_error")), 1);
        assert_eq!(metrics.counter("bus_decode_fail_total", &with("reason", "hash_mismatch")), 1);
        assert_eq!(metrics.counter("bus_decode_fail_total", &with("reason", "corrupt_gzip")), 1);
        // Terminated: nothing comes back.
        let again = consumer.drain(async |_d| Ok(()), Duration::from_millis(500)).await.unwrap();
        assert_eq!(again.received, 0);
    });
}

#[test]
fn a_handler_failing_twice_then_succeeding_is_delivered_three_times_and_acked_once() {
    let Some(server) = Server::start("fail_twice") else { return };
    rt().block_on(async {
        let metrics = Metrics::new();
        let bus = bus(&server, Some(metrics.clone())).await;
        let publisher = bus.publisher::<topics::bars::v1::Bars>().producer("test@1").build().unwrap();
        publisher.publish(bars("AAPL")).await.unwrap();
        let mut consumer = bus
            .consumer::<topics::bars::v1::Bars>("flaky")
            .nak_backoff(vec![Duration::from_millis(20)])
            .build()
            .await
            .unwrap();
        let mut seen = Vec::new();
        let stats = consumer
            .drain(
                async |d| {
                    seen.push((d.retry_count(), d.info.delivered));
                    if d.retry_count() < 2 {
                        Err(HandlerError::retry("flaky", "not yet"))
                    } else {
                        Ok(())
                    }
                },
                IDLE,
            )
            .await
            .unwrap();
        assert_eq!(seen, [(0, 1), (1, 2), (2, 3)]);
        assert_eq!((stats.acked, stats.naked, stats.dead_lettered), (1, 2, 0));
        let t = [("topic", "bars.v1.bars"), ("reason", "flaky")];
        assert_eq!(metrics.counter("bus_retry_total", &t), 2);
        assert_eq!(metrics.counter("bus_consumed_total", &[("topic", "bars.v1.bars"), ("consumer", "flaky")]), 1);
        let again = consumer.drain(async |_d| Ok(()), Duration::from_millis(500)).await.unwrap();
        assert_eq!(again.received, 0, "acked once, never redelivered");
    });
}

#[test]
fn a_handler_that_always_fails_ends_in_the_dlq_after_the_bound() {
    let Some(server) = Server::start("always_fails") else { return };
    rt().block_on(async {
        let metrics = Metrics::new();
        let bus = bus(&server, Some(metrics.clone())).await;
        let publisher = bus.publisher::<topics::bars::v1::Bars>().producer("test@1").build().unwrap();
        let sent = publisher.publish(bars("AAPL")).await.unwrap();
        // The realtime tier's bound from the registry, with short delays.
        assert_eq!(transport::LAYOUT.tier("realtime").unwrap().max_deliveries, 3);
        let mut consumer = bus
            .consumer::<topics::bars::v1::Bars>("doomed")
            .nak_backoff(vec![Duration::from_millis(20)])
            .build()
            .await
            .unwrap();
        let mut calls = 0;
        let stats = consumer
            .drain(
                async |_d| {
                    calls += 1;
                    Err(HandlerError::retry("db_down", "database unavailable"))
                },
                IDLE,
            )
            .await
            .unwrap();
        assert_eq!((calls, stats.naked, stats.dead_lettered, stats.acked), (3, 2, 1, 0));
        let (h, _) = last_dead_letter(&bus, "bars").await;
        assert_eq!(header(&h, "Ampy-Dlq-Reason"), Some("max_deliveries: db_down: database unavailable"));
        assert_eq!(header(&h, "Nats-Msg-Id"), Some(sent.message_id.to_string().as_str()));
        let t = [("topic", "bars.v1.bars"), ("reason", "max_deliveries")];
        assert_eq!(metrics.counter("bus_dlq_total", &t), 1);
        let again = consumer.drain(async |_d| Ok(()), Duration::from_millis(500)).await.unwrap();
        assert_eq!(again.received, 0, "terminated after the DLQ publish");
    });
}

#[test]
fn a_duplicate_message_id_is_stored_once() {
    let Some(server) = Server::start("duplicate") else { return };
    rt().block_on(async {
        let bus = bus(&server, None).await;
        let publisher = bus.publisher::<topics::bars::v1::Bars>().producer("test@1").build().unwrap();
        let env = Envelope::builder(bars("AAPL")).producer("test@1").source("t").run_id("r").build().unwrap();
        let a = publisher.publish_envelope(&env).await.unwrap();
        let b = publisher.publish_envelope(&env).await.unwrap();
        assert!(!a.duplicate && b.duplicate);
        assert_eq!(a.sequence, b.sequence);
        let mut stream = bus.jetstream().get_stream("AMPY_DEV_BARS_V1").await.unwrap();
        assert_eq!(stream.info().await.unwrap().state.messages, 1);
    });
}

#[test]
fn a_record_over_max_payload_is_refused_before_sending_and_the_connection_stays_up() {
    let Some(server) = Server::start("max_payload") else { return };
    rt().block_on(async {
        let bus = bus(&server, None).await;
        let publisher = bus.publisher::<topics::bars::v1::Bars>().producer("test@1").build().unwrap();
        let limit = bus.client().server_info().max_payload;
        assert_eq!(limit, 1 << 20, "the server's default");
        let mut record = tampered("AAPL", |_| {});
        let header_len =
            headers::wire_len(&headers::to_nats(record.headers.iter().map(|(k, v)| (*k, v.as_str()))).unwrap());
        // One byte over, counting the headers: refused locally.
        record.payload = vec![7; limit - header_len + 1];
        let err = publisher.publish_record(bars_subject("AAPL"), &record).await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::TooLarge);
        assert!(err.to_string().contains("blob pointer"), "{err}");
        // Exactly at the limit: the server takes it, so the count is the server's.
        record.payload.pop();
        let ok = publisher.publish_record(bars_subject("AAPL"), &record).await.unwrap();
        assert_eq!(ok.sequence, 1);
        // Still connected, and publishing.
        assert_eq!(bus.client().connection_state(), ampy_bus::nats::async_nats::connection::State::Connected);
        assert_eq!(publisher.publish(bars("MSFT")).await.unwrap().sequence, 2);
    });
}

#[test]
fn a_server_restart_mid_run_loses_no_acknowledged_record() {
    let Some(mut server) = Server::start("restart") else { return };
    let rt = rt();
    let bus = rt.block_on(bus(&server, None));
    let publisher = bus
        .publisher::<topics::bars::v1::Bars>()
        .producer("test@1")
        .retry(RetryPolicy {
            attempts: 20,
            ack_timeout: Duration::from_secs(1),
            base_delay: Duration::from_millis(50),
            max_delay: Duration::from_millis(500),
        })
        .build()
        .unwrap();
    const N: usize = 400;
    let (tx, rx) = std::sync::mpsc::channel::<usize>();
    let run = rt.spawn(async move {
        let mut acked = Vec::new();
        let mut failed = 0;
        for i in 0..N {
            match publisher.publish(bars(&format!("S{i}"))).await {
                Ok(p) => acked.push(p.message_id.to_string()),
                Err(_) => failed += 1,
            }
            let _ = tx.send(i);
        }
        (acked, failed)
    });
    // Restart once a quarter of the run is acknowledged.
    while rx.recv().unwrap() < N / 4 {}
    server.restart();
    let (acked, failed) = rt.block_on(run).unwrap();
    rt.block_on(async {
        let mut stream = bus.jetstream().get_stream("AMPY_DEV_BARS_V1").await.unwrap();
        let stored = stream.info().await.unwrap().state.messages as usize;
        let mut ids = std::collections::BTreeSet::new();
        for seq in 1..=stored as u64 {
            let m = stream.get_raw_message(seq).await.unwrap();
            ids.insert(m.headers.get("Nats-Msg-Id").unwrap().as_str().to_owned());
        }
        let lost: Vec<_> = acked.iter().filter(|id| !ids.contains(*id)).collect();
        eprintln!(
            "restart: {N} publishes, {} acknowledged, {failed} failed, {stored} stored, {} lost",
            acked.len(),
            lost.len()
        );
        assert!(lost.is_empty(), "acknowledged but not stored: {lost:?}");
        assert!(acked.len() >= N * 3 / 4, "the publisher rode out the restart");
        assert_eq!(stored, ids.len(), "each message id stored once");
    });
}

// ---------------------------------------------------------------------------
// Replay and metrics.

#[test]
fn replay_of_a_time_window_and_from_a_sequence() {
    let Some(server) = Server::start("replay") else { return };
    rt().block_on(async {
        let bus = bus(&server, None).await;
        let publisher = bus.publisher::<topics::bars::v1::Bars>().producer("test@1").build().unwrap();
        let mut marks = Vec::new();
        let mut ids = Vec::new();
        for batch in 0..3 {
            marks.push(SystemTime::now());
            for i in 0..3 {
                ids.push(publisher.publish(bars(&format!("B{batch}N{i}"))).await.unwrap().message_id);
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let collect = async |mut c: ampy_bus::nats::Consumer<topics::bars::v1::Bars>| {
            let mut got = Vec::new();
            c.drain(
                async |d| {
                    got.push(d.headers.message_id);
                    Ok(())
                },
                IDLE,
            )
            .await
            .unwrap();
            got
        };
        // [start of batch 1, start of batch 2): exactly batch 1.
        let window = bus.replay::<topics::bars::v1::Bars>(Start::Time(marks[1])).until(marks[2]).build().await.unwrap();
        assert_eq!(collect(window).await, ids[3..6]);
        // From sequence 7: batch 2.
        let from_seq = bus.replay::<topics::bars::v1::Bars>(Start::Sequence(7)).build().await.unwrap();
        assert_eq!(collect(from_seq).await, ids[6..9]);
    });
}

#[test]
fn prometheus_scrape_shows_the_counters() {
    let Some(server) = Server::start("prometheus") else { return };
    rt().block_on(async {
        let metrics = Metrics::new();
        let bus = bus(&server, Some(metrics.clone())).await;
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(metrics.clone().serve(listener));
        let publisher = bus.publisher::<topics::bars::v1::Bars>().producer("test@1").build().unwrap();
        publisher.publish(bars("AAPL")).await.unwrap();
        publisher.publish(bars("MSFT")).await.unwrap();
        let bad = tampered("X", |r| r.headers.retain(|(k, _)| *k != "producer"));
        publisher.publish_record(bars_subject("X"), &bad).await.unwrap();
        let mut consumer = bus.consumer::<topics::bars::v1::Bars>("scraped").build().await.unwrap();
        consumer.drain(async |_d| Ok(()), IDLE).await.unwrap();

        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let mut sock = tokio::net::TcpStream::connect(addr).await.unwrap();
        sock.write_all(b"GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n").await.unwrap();
        let mut text = String::new();
        sock.read_to_string(&mut text).await.unwrap();
        assert!(text.starts_with("HTTP/1.1 200 OK"), "{text}");
        for line in [
            "bus_produced_total{topic=\"bars.v1.bars\",producer=\"test@1\"} 3",
            "bus_consumed_total{topic=\"bars.v1.bars\",consumer=\"scraped\"} 2",
            "bus_dlq_total{topic=\"bars.v1.bars\",reason=\"missing_header\"} 1",
            "bus_decode_fail_total{topic=\"bars.v1.bars\",reason=\"missing_header\"} 1",
            "bus_delivery_latency_ms_count{topic=\"bars.v1.bars\"} 2",
            "bus_delivery_latency_ms_bucket{topic=\"bars.v1.bars\",le=\"+Inf\"} 2",
            "bus_schema_info{topic=\"bars.v1.bars\",schema_fqdn=\"ampy.bars.v1.BarBatch\",schema_hash=\"sha256:1f3a8d335be3bdf003a5b66b0e3271363f2ef498d5f0de6f0edf9bb8ae654feb\"} 1",
            "# TYPE bus_delivery_latency_ms histogram",
        ] {
            assert!(text.lines().any(|l| l == line), "missing `{line}` in:\n{text}");
        }
        // No payload bytes or free text in labels: every label is a name or a kind.
        assert!(!text.contains("AAPL") && !text.contains("XNAS"));
    });
}

#[test]
fn a_durable_name_serves_one_topic_of_a_stream() {
    // Trades and quotes share a stream: binding the trades durable for
    // quotes would silently read nothing, so it is an error (as in Go and
    // Python).
    let Some(server) = Server::start("one-filter") else { return };
    rt().block_on(async {
        let bus = bus(&server, None).await;
        drop(bus.consumer::<topics::ticks::v1::Trade>("ticks-reader").build().await.unwrap());
        let err = match bus.consumer::<topics::ticks::v1::Quote>("ticks-reader").build().await {
            Err(e) => e,
            Ok(_) => panic!("the trades durable was bound for quotes"),
        };
        assert_eq!(err.kind(), ErrorKind::Config);
        assert!(err.to_string().contains("already exists with filter `ampy.dev.ticks.v1.trade.*`"), "{err}");
        // The same topic binds again and resumes.
        drop(bus.consumer::<topics::ticks::v1::Trade>("ticks-reader").build().await.unwrap());
    });
}
