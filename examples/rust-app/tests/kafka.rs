//! The Kafka transport on a real broker (nothing mocked): Kafka 4.4 from
//! scripts/lib/kafka.sh, topics re-created per test with rdkafka's admin
//! client (tests/support/kafka_broker.rs), the typed API on top.

#[path = "support/kafka_broker.rs"]
mod kafka_broker;
#[path = "support/transport.rs"]
#[macro_use]
mod transport_support;

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use ampy_bus::kafka::rdkafka::Message as _;
use ampy_bus::kafka::{murmur2, partition_for, Body, Bus, ErrorKind, HandlerError, Metrics, Publisher};
use ampy_bus::{Record, Topic};
use ampy_example::contract::{topics, transport, Env};
use kafka_broker::{headers_of, Broker};
use transport_support::{
    b64, bars, bars_subject, corrupt_gzip, header, pairs, pick, rebuild, tampered, vectors, wrong_hash, Pairs, Rebuilt,
};

const IDLE: Duration = Duration::from_millis(2500);
const BARS: &str = "ampy.dev.bars.v1";
const DLQ: &str = "ampy.dev.dlq.v1";

fn rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap()
}

/// A group name no earlier run used.
fn group(name: &str) -> String {
    format!("{name}-{}", ampy_bus::MessageId::new_v7())
}

async fn bus(broker: &Broker, metrics: Option<Arc<Metrics>>) -> Bus {
    let bus = Bus::connect(&broker.bootstrap, &transport::LAYOUT, Env::Dev).await.unwrap();
    match metrics {
        Some(m) => bus.with_observer(m),
        None => bus,
    }
}

/// Fresh bars and DLQ topics of 6 partitions, a bus, and a bars publisher.
async fn bars_setup(broker: &Broker, metrics: Option<Arc<Metrics>>) -> (Bus, Publisher<topics::bars::v1::Bars>) {
    broker.fresh_topics(&[BARS, DLQ], 6).await;
    let bus = bus(broker, metrics).await;
    let publisher = bus.publisher::<topics::bars::v1::Bars>().producer("test@1").build().unwrap();
    (bus, publisher)
}

/// A consumer of bars in group `g` retrying after 20 ms.
async fn bars_consumer(bus: &Bus, g: &str) -> ampy_bus::kafka::Consumer<topics::bars::v1::Bars> {
    bus.consumer::<topics::bars::v1::Bars>(g).nak_backoff(vec![Duration::from_millis(20)]).build().await.unwrap()
}

/// The message ids a consumer drains, in handling order.
async fn drain_ids(
    consumer: &mut ampy_bus::kafka::Consumer<topics::bars::v1::Bars>,
    idle: Duration,
) -> Vec<ampy_bus::MessageId> {
    let mut got = Vec::new();
    consumer
        .drain(
            async |d| {
                got.push(d.headers.message_id);
                Ok(())
            },
            idle,
        )
        .await
        .unwrap();
    got
}

// ---------------------------------------------------------------------------
// Partitioning: Java's own answers (tests/vectors/kafka, written by Java).

#[test]
fn partition_for_gives_javas_partition_for_every_vector_key() {
    let tsv =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../tests/vectors/kafka/partition-keys.tsv"))
            .unwrap();
    let mut n = 0;
    for line in tsv.lines().filter(|l| !l.is_empty() && !l.starts_with('#')) {
        let f: Vec<&str> = line.split('\t').collect();
        let key = b64(f[0].strip_prefix("k:").unwrap());
        assert_eq!(murmur2(&key).to_string(), f[1], "murmur2 of {}", f[0]);
        for (i, parts) in [1, 3, 6, 12, 100].into_iter().enumerate() {
            assert_eq!(partition_for(&key, parts).to_string(), f[2 + i], "{} over {parts}", f[0]);
        }
        n += 1;
    }
    assert!(n >= 200, "the corpus has {n} keys");
}

#[test]
fn key_subtopic_follows_the_shared_vectors() {
    let tsv =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../tests/vectors/kafka/key-subtopics.tsv"))
            .unwrap();
    let mut n = 0;
    for line in tsv.lines().filter(|l| !l.is_empty()) {
        let (key, want) = line.split_once('\t').unwrap();
        let key = key.strip_prefix("k:").map(b64);
        let want = want.strip_prefix("s:").map(|s| String::from_utf8(b64(s)).unwrap());
        assert_eq!(ampy_bus::kafka::key_subtopic(key.as_deref()), want.as_deref(), "{line}");
        n += 1;
    }
    assert!(n >= 15, "the vectors have {n} keys");
}

// ---------------------------------------------------------------------------
// One positive vector per domain, the gzipped one and the blob pointer.

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
    // (headers, bytes, payload, partition) per record, sent and received.
    type Seen<P> = (Pairs, Vec<u8>, P, i32);
    let mut sent: Vec<Seen<T::Payload>> = Vec::new();
    for v in vectors {
        let Rebuilt { envelope, blob, record } = rebuild::<T::Payload>(v);
        let published = match &blob {
            Some(b) => publisher.publish_pointer(&envelope, b).await.unwrap(),
            None => publisher.publish_envelope(&envelope).await.unwrap(),
        };
        // The partition is Java's rule over the record key.
        let key = published.subject.kafka_key(record.header("partition_key").unwrap());
        assert_eq!(published.partition, partition_for(key.as_bytes(), 6), "{}", T::ID);
        let payload = envelope.payload;
        sent.push((pairs(&record), record.payload.clone(), payload, published.partition));
    }
    let mut got: Vec<Seen<Option<T::Payload>>> = Vec::new();
    let mut consumer = bus.consumer::<T>(&group(&format!("rt-{}", T::ID))).build().await.unwrap();
    let stats = consumer
        .drain(
            async |d: ampy_bus::kafka::Delivery<T::Payload>| {
                let payload = match &d.body {
                    Body::Payload(p) => Some(p.clone()),
                    Body::Pointer(_) => None,
                };
                let h: Pairs = d
                    .raw_headers()
                    .iter()
                    .map(|(k, v)| (k.to_owned(), String::from_utf8(v.unwrap().to_vec()).unwrap()))
                    .collect();
                got.push((h, d.raw_payload().to_vec(), payload, d.info.partition));
                Ok(())
            },
            IDLE,
        )
        .await
        .unwrap();
    assert_eq!(stats.consumed as usize, sent.len(), "{}: every record once", T::ID);
    // Records of one partition come in order; across partitions any order.
    let mut got = got;
    got.sort_by_key(|g| sent.iter().position(|s| s.0 == g.0).unwrap_or(usize::MAX));
    for ((sh, sb, sp, spart), (gh, gb, gp, gpart)) in sent.iter().zip(&got) {
        assert_eq!(sh, gh, "{}: headers, names and order", T::ID);
        assert_eq!(sb, gb, "{}: payload bytes", T::ID);
        assert_eq!(spart, gpart, "{}: partition", T::ID);
        match gp {
            Some(gp) => assert_eq!(sp, gp, "{}: decoded payload", T::ID),
            None => assert!(sb.is_empty() && sh.iter().any(|(k, _)| k == "blob_ref"), "only pointers have no payload"),
        }
    }
    got.len()
}

#[test]
fn one_vector_per_domain_round_trips_byte_identical() {
    let Some(broker) = Broker::get("one_vector_per_domain_round_trips_byte_identical") else { return };
    rt().block_on(async {
        let names: Vec<String> = transport::LAYOUT
            .streams_for("dev")
            .map(|s| format!("{}.dev.{}.{}", transport::LAYOUT.namespace, s.domain, s.version))
            .collect();
        broker.fresh_topics(&names.iter().map(String::as_str).collect::<Vec<_>>(), 6).await;
        let bus = bus(&broker, None).await;
        let n = round_trip_every_topic!(roundtrip, &vectors(), &bus);
        assert_eq!(n, 17, "15 topics, plus the gzip and blob pointer records");
    });
}

// ---------------------------------------------------------------------------
// Failure paths.

#[test]
fn poison_pills_go_to_the_dlq_with_their_reason() {
    let Some(broker) = Broker::get("poison_pills_go_to_the_dlq_with_their_reason") else { return };
    rt().block_on(async {
        let metrics = Metrics::new();
        let (bus, publisher) = bars_setup(&broker, Some(metrics.clone())).await;
        let wrong_hash = wrong_hash("AAPL");
        let a = publisher.publish_record(bars_subject("AAPL"), &wrong_hash).await.unwrap();
        let corrupt = corrupt_gzip("MSFT");
        let b = publisher.publish_record(bars_subject("MSFT"), &corrupt).await.unwrap();

        let g = group("poison");
        let mut consumer = bus.consumer::<topics::bars::v1::Bars>(&g).build().await.unwrap();
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
        assert_eq!((handled, stats.dead_lettered, stats.consumed, stats.decode_failures), (0, 2, 0, 2));

        let letters = broker.read_all(DLQ, 2);
        assert_eq!(letters.len(), 2);
        for (record, published, reason) in
            [(&wrong_hash, &a, "schema_hash_mismatch"), (&corrupt, &b, "decode_error: corrupt gzip")]
        {
            let m = letters
                .iter()
                .find(|m| {
                    headers_of(m).iter().any(|(k, v)| k == "message_id" && *v == published.message_id.to_string())
                })
                .unwrap();
            let h = headers_of(m);
            assert!(header(&h, "dlq_reason").unwrap().starts_with(reason), "{h:?}");
            // The original headers in order, then the reason; the bytes as sent.
            let mut want = pairs(record);
            want.push(("dlq_reason".into(), header(&h, "dlq_reason").unwrap().to_owned()));
            assert_eq!(h, want);
            assert_eq!(m.payload().unwrap_or_default(), record.payload);
            let key = format!("bars {}", record.header("partition_key").unwrap());
            assert_eq!(m.key(), Some(key.as_bytes()), "the DLQ key: the dlq subtopic and the partition key");
            assert_eq!(m.partition(), partition_for(key.as_bytes(), 6));
            assert_eq!(m.timestamp().to_millis(), Some(published.message_id.timestamp_ms() as i64), "original time");
        }
        let t = [("topic", "bars.v1.bars")];
        let with = |k: &'static str, v: &'static str| [t[0], (k, v)];
        assert_eq!(metrics.counter("bus_dlq_total", &with("reason", "schema_hash_mismatch")), 1);
        assert_eq!(metrics.counter("bus_dlq_total", &with("reason", "decode_error")), 1);
        assert_eq!(metrics.counter("bus_decode_fail_total", &with("reason", "hash_mismatch")), 1);
        assert_eq!(metrics.counter("bus_decode_fail_total", &with("reason", "corrupt_gzip")), 1);
        // Finished: a new member of the group gets nothing.
        drop(consumer);
        let mut again = bus.consumer::<topics::bars::v1::Bars>(&g).build().await.unwrap();
        assert_eq!(again.drain(async |_d| Ok(()), IDLE).await.unwrap().received, 0);
    });
}

#[test]
fn a_handler_failing_twice_then_succeeding_is_called_three_times_and_committed_once() {
    let Some(broker) = Broker::get("fail_twice") else { return };
    rt().block_on(async {
        let metrics = Metrics::new();
        let (bus, publisher) = bars_setup(&broker, Some(metrics.clone())).await;
        let sent = publisher.publish(bars("AAPL")).await.unwrap();
        let g = group("flaky");
        let mut consumer = bars_consumer(&bus, &g).await;
        let mut seen = Vec::new();
        let stats = consumer
            .drain(
                async |d| {
                    seen.push((d.retry_count(), d.info.attempt, d.info.offset));
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
        assert_eq!(seen, [(0, 1, sent.offset), (1, 2, sent.offset), (2, 3, sent.offset)]);
        assert_eq!((stats.consumed, stats.retried, stats.dead_lettered), (1, 2, 0));
        assert_eq!(broker.committed(&g, BARS, sent.partition), Some(sent.offset + 1), "committed: offset + 1");
        assert_eq!(metrics.counter("bus_retry_total", &[("topic", "bars.v1.bars"), ("reason", "flaky")]), 2);
        assert_eq!(metrics.counter("bus_consumed_total", &[("topic", "bars.v1.bars"), ("consumer", g.as_str())]), 1);
        assert_eq!(broker.end_offsets(DLQ).iter().sum::<i64>(), 0, "nothing dead-lettered");
        drop(consumer);
        let mut again = bus.consumer::<topics::bars::v1::Bars>(&g).build().await.unwrap();
        assert_eq!(again.drain(async |_d| Ok(()), IDLE).await.unwrap().received, 0, "committed once, not again");
    });
}

#[test]
fn drain_gets_a_record_produced_before_its_group_join() {
    let Some(broker) = Broker::get("short_idle") else { return };
    rt().block_on(async {
        let (bus, publisher) = bars_setup(&broker, None).await;
        let sent = publisher.publish(bars("AAPL")).await.unwrap();
        let mut consumer = bars_consumer(&bus, &group("short-idle")).await;
        // Idle counts only once the member holds its partitions: a join
        // that takes longer (seconds on a fresh or busy broker) does not
        // end the drain before the record produced earlier arrives.
        let began = std::time::Instant::now();
        let got = drain_ids(&mut consumer, Duration::from_millis(1000)).await;
        eprintln!("short_idle: drained in {:?}", began.elapsed());
        assert_eq!(got, [sent.message_id]);
    });
}

#[test]
fn a_handler_that_always_fails_ends_in_the_dlq_after_the_bound() {
    let Some(broker) = Broker::get("always_fails") else { return };
    rt().block_on(async {
        let metrics = Metrics::new();
        let (bus, publisher) = bars_setup(&broker, Some(metrics.clone())).await;
        let sent = publisher.publish(bars("AAPL")).await.unwrap();
        assert_eq!(transport::LAYOUT.tier("realtime").unwrap().max_deliveries, 3);
        let g = group("doomed");
        let mut consumer = bars_consumer(&bus, &g).await;
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
        assert_eq!((calls, stats.retried, stats.dead_lettered, stats.consumed), (3, 2, 1, 0));
        let letters = broker.read_all(DLQ, 1);
        assert_eq!(letters.len(), 1);
        let h = headers_of(&letters[0]);
        assert_eq!(header(&h, "dlq_reason"), Some("max_deliveries: db_down: database unavailable"));
        assert_eq!(header(&h, "message_id"), Some(sent.message_id.to_string().as_str()));
        assert_eq!(header(&h, "retry_count"), None, "the retry_count header is left as received");
        assert_eq!(metrics.counter("bus_dlq_total", &[("topic", "bars.v1.bars"), ("reason", "max_deliveries")]), 1);
        assert_eq!(broker.committed(&g, BARS, sent.partition), Some(sent.offset + 1), "finished once dead-lettered");
    });
}

#[test]
fn a_record_over_max_message_bytes_is_refused_before_sending() {
    let Some(broker) = Broker::get("too_large") else { return };
    rt().block_on(async {
        let (_bus, publisher) = bars_setup(&broker, None).await;
        let mut record = tampered("AAPL", |_| {});
        let key = bars_subject("AAPL").kafka_key(record.header("partition_key").unwrap());
        let size = |r: &Record| {
            ampy_bus::kafka::headers::record_size(
                key.as_bytes(),
                &r.payload,
                r.headers.iter().map(|(k, v)| (*k, v.len())),
            )
        };
        let limit = ampy_bus::kafka::DEFAULT_MAX_MESSAGE_BYTES;
        // Everything but the value, as Kafka counts it.
        let overhead = size(&record) - record.payload.len();
        record.payload = vec![7; limit - overhead + 1];
        assert_eq!(size(&record), limit + 1);
        let before = broker.end_offsets(BARS);
        let err = publisher.publish_record(bars_subject("AAPL"), &record).await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::TooLarge);
        assert!(err.to_string().contains("blob pointer"), "{err}");
        assert_eq!(broker.end_offsets(BARS), before, "nothing was sent");
        // At the limit: the broker (default max.message.bytes) takes it.
        record.payload.pop();
        let ok = publisher.publish_record(bars_subject("AAPL"), &record).await.unwrap();
        assert_eq!(broker.end_offsets(BARS)[ok.partition as usize], ok.offset + 1);
        // And the producer keeps working.
        publisher.publish(bars("MSFT")).await.unwrap();
    });
}

/// A bars symbol whose Kafka key lands on different partitions over `a`
/// and over `b` partitions, one of them past the first two, with that key.
fn moving_symbol(a: i32, b: i32) -> (&'static str, String) {
    ["AAPL", "MSFT", "NVDA", "AMZN", "GOOG", "META", "TSLA", "IBM", "ORCL", "INTC"]
        .into_iter()
        .map(|s| (s, bars_subject(s).kafka_key(&format!("XNAS.{s}"))))
        .find(|(_, k)| {
            let (a, b) = (partition_for(k.as_bytes(), a), partition_for(k.as_bytes(), b));
            a != b && a.max(b) >= 2
        })
        .unwrap()
}

/// A bus whose client re-reads metadata every `ms` milliseconds.
async fn metadata_every(broker: &Broker, ms: u32) -> Bus {
    let mut config = ampy_bus::kafka::rdkafka::ClientConfig::new();
    config.set("bootstrap.servers", &broker.bootstrap).set("topic.metadata.refresh.interval.ms", ms.to_string());
    Bus::with_config(config, &transport::LAYOUT, Env::Dev).await.unwrap()
}

#[test]
fn a_topic_that_grows_is_followed_once_the_metadata_is_older_than_its_refresh_interval() {
    let Some(broker) = Broker::get("grows") else { return };
    rt().block_on(async {
        broker.fresh_topics(&[BARS, DLQ], 3).await;
        let (symbol, key) = moving_symbol(3, 6);
        let quick = metadata_every(&broker, 500).await;
        // The default age (5 minutes, Java's metadata.max.age.ms).
        let slow = bus(&broker, None).await;
        let quick = quick.publisher::<topics::bars::v1::Bars>().producer("grows@1").build().unwrap();
        let slow = slow.publisher::<topics::bars::v1::Bars>().producer("grows@1").build().unwrap();
        let three = partition_for(key.as_bytes(), 3);
        let six = partition_for(key.as_bytes(), 6);
        assert_eq!(quick.publish(bars(symbol)).await.unwrap().partition, three);
        assert_eq!(slow.publish(bars(symbol)).await.unwrap().partition, three);
        broker.grow(BARS, 6).await;
        tokio::time::sleep(Duration::from_millis(700)).await;
        let after = quick.publish_all([bars(symbol), bars(symbol)]).await.unwrap();
        assert_eq!(after.iter().map(|p| p.partition).collect::<Vec<_>>(), [six, six]);
        assert_eq!(quick.publish(bars(symbol)).await.unwrap().partition, six);
        // Within its age the count is kept, as a Java producer keeps it.
        assert_eq!(slow.publish(bars(symbol)).await.unwrap().partition, three);
        let held = broker.read_all(BARS, 6);
        let on = |p: i32| held.iter().filter(|m| m.partition() == p).count();
        assert_eq!((on(three), on(six), held.len()), (3, 3, 6));
    });
}

#[test]
fn a_topic_made_again_with_fewer_partitions_is_followed_on_the_first_refusal() {
    let Some(broker) = Broker::get("shrinks") else { return };
    rt().block_on(async {
        let (symbol, key) = moving_symbol(6, 2);
        let (bus, reported) = bars_setup(&broker, None).await;
        // A client that re-reads metadata on its own every 100 ms: it
        // refuses the stale partition before queueing the record.
        let own = metadata_every(&broker, 100).await;
        let refused = own.publisher::<topics::bars::v1::Bars>().producer("shrinks@1").build().unwrap();
        for p in [&reported, &refused] {
            assert_eq!(p.publish(bars(symbol)).await.unwrap().partition, partition_for(key.as_bytes(), 6));
        }
        assert_eq!(bus.partition_count(BARS, false).await.unwrap(), 6);
        broker.fresh_topics(&[BARS], 2).await;
        let two = partition_for(key.as_bytes(), 2);
        // The broker's refusal comes in the delivery report.
        assert_eq!(reported.publish(bars(symbol)).await.unwrap().partition, two);
        tokio::time::sleep(Duration::from_millis(1000)).await;
        let batch = refused.publish_all([bars(symbol), bars(symbol)]).await.unwrap();
        assert_eq!(batch.iter().map(|p| p.partition).collect::<Vec<_>>(), [two, two]);
        assert_eq!(refused.publish(bars(symbol)).await.unwrap().partition, two);
        let held = broker.read_all(BARS, 4);
        assert_eq!(held.iter().map(|m| m.partition()).collect::<Vec<_>>(), [two; 4]);
    });
}

#[test]
fn a_consumer_stopped_before_finishing_a_record_gets_it_again_after_restart() {
    let Some(broker) = Broker::get("redelivery") else { return };
    rt().block_on(async {
        let (bus, publisher) = bars_setup(&broker, None).await;
        let first = publisher.publish(bars("AAPL")).await.unwrap();
        let g = group("crash");
        {
            let mut consumer = bus.consumer::<topics::bars::v1::Bars>(&g).build().await.unwrap();
            let (tx, rx) = tokio::sync::oneshot::channel::<()>();
            let mut tx = Some(tx);
            // The handler takes the record, then the process "dies": the
            // run is dropped mid-handler, before the record is finished.
            let run = consumer.run(async |_d| {
                if let Some(tx) = tx.take() {
                    let _ = tx.send(());
                }
                std::future::pending::<()>().await;
                Ok(())
            });
            tokio::select! {
                _ = run => panic!("the run cannot end"),
                _ = rx => {}
            }
        }
        assert_eq!(broker.committed(&g, BARS, first.partition), None, "nothing committed");
        let mut consumer = bus.consumer::<topics::bars::v1::Bars>(&g).build().await.unwrap();
        let got = drain_ids(&mut consumer, IDLE).await;
        assert_eq!(got, [first.message_id], "redelivered to the next member, nothing lost");
        assert_eq!(broker.committed(&g, BARS, first.partition), Some(first.offset + 1));
    });
}

#[test]
fn a_thousand_records_of_one_key_are_consumed_in_produced_order() {
    let Some(broker) = Broker::get("order") else { return };
    rt().block_on(async {
        let metrics = Metrics::new();
        let (bus, publisher) = bars_setup(&broker, Some(metrics.clone())).await;
        let published = publisher.publish_all((0..1000).map(|_| bars("AAPL"))).await.unwrap();
        let partition = published[0].partition;
        assert!(published.iter().all(|p| p.partition == partition), "one key, one partition");
        assert!(published.windows(2).all(|w| w[1].offset == w[0].offset + 1), "stored in order");
        let g = group("order");
        let mut consumer = bus.consumer::<topics::bars::v1::Bars>(&g).build().await.unwrap();
        let got = drain_ids(&mut consumer, IDLE).await;
        let want: Vec<_> = published.iter().map(|p| p.message_id).collect();
        assert_eq!(got, want);
        // Lag is reported per partition of the group, 0 once drained.
        assert_eq!(metrics.lag("bars.v1.bars", &g, partition), Some(0));
        let text = metrics.render();
        let line = format!("bus_consumer_lag{{topic=\"bars.v1.bars\",consumer=\"{g}\",partition=\"{partition}\"}} 0");
        assert!(text.lines().any(|l| l == line), "{text}");
        assert!(text.contains("bus_produced_total{topic=\"bars.v1.bars\",producer=\"test@1\"} 1000"));
    });
}

#[test]
fn replay_of_a_time_window_returns_exactly_the_records_inside_it() {
    let Some(broker) = Broker::get("replay") else { return };
    rt().block_on(async {
        let (bus, publisher) = bars_setup(&broker, None).await;
        let mut marks = Vec::new();
        let mut ids = Vec::new();
        for batch in 0..3 {
            tokio::time::sleep(Duration::from_millis(20)).await;
            marks.push(SystemTime::now());
            tokio::time::sleep(Duration::from_millis(5)).await;
            for i in 0..4 {
                ids.push(publisher.publish(bars(&format!("B{batch}N{i}"))).await.unwrap().message_id);
            }
        }
        let mut replay = bus.replay::<topics::bars::v1::Bars>(marks[1], marks[2]).build().await.unwrap();
        let mut got = Vec::new();
        let stats = replay
            .run(async |d| {
                got.push(d.headers.message_id);
                Ok(())
            })
            .await
            .unwrap();
        got.sort();
        let mut want = ids[4..8].to_vec();
        want.sort();
        assert_eq!(got, want, "batch 1, nothing else");
        assert_eq!(stats.consumed, 4);
        // From the start of batch 2 to now: batch 2.
        let mut tail = bus.replay::<topics::bars::v1::Bars>(marks[2], SystemTime::now()).build().await.unwrap();
        let mut n = 0;
        tail.run(async |_d| {
            n += 1;
            Ok(())
        })
        .await
        .unwrap();
        assert_eq!(n, 4);
    });
}

// ---------------------------------------------------------------------------
// A group: one member over several topics, each with its own typed handler.

const TICKS: &str = "ampy.dev.ticks.v1";

use ampy_example::{sample_quotes as quotes, sample_trades as trades};

/// Fresh ticks, bars and DLQ topics of 6 partitions, a bus, and a
/// publisher of each of the three payload topics.
async fn group_setup(
    broker: &Broker,
    metrics: Option<Arc<Metrics>>,
) -> (Bus, Publisher<topics::ticks::v1::Trade>, Publisher<topics::ticks::v1::Quote>, Publisher<topics::bars::v1::Bars>)
{
    broker.fresh_topics(&[TICKS, BARS, DLQ], 6).await;
    let bus = bus(broker, metrics).await;
    let trade = bus.publisher::<topics::ticks::v1::Trade>().producer("test@1").build().unwrap();
    let quote = bus.publisher::<topics::ticks::v1::Quote>().producer("test@1").build().unwrap();
    let bars = bus.publisher::<topics::bars::v1::Bars>().producer("test@1").build().unwrap();
    (bus, trade, quote, bars)
}

/// The payload of a delivery that carries one (not a blob pointer).
fn payload<P: Clone>(d: &ampy_bus::kafka::Delivery<P>) -> P {
    match &d.body {
        Body::Payload(p) => p.clone(),
        Body::Pointer(_) => panic!("a pointer"),
    }
}

#[test]
fn a_group_over_two_siblings_and_another_domain_hands_each_record_once_to_its_typed_handler() {
    let Some(broker) = Broker::get("group_three_routes") else { return };
    rt().block_on(async {
        let metrics = Metrics::new();
        let (bus, trade, quote, bars_pub) = group_setup(&broker, Some(metrics.clone())).await;
        let mut sent_trades = Vec::new();
        for s in ["AAPL", "MSFT", "NVDA"] {
            sent_trades.push((trade.publish(trades(s)).await.unwrap(), trades(s)));
        }
        let mut sent_quotes = Vec::new();
        for s in ["AAPL", "TSLA"] {
            sent_quotes.push((quote.publish(quotes(s)).await.unwrap(), quotes(s)));
        }
        let mut sent_bars = Vec::new();
        for s in ["AAPL", "AMZN"] {
            sent_bars.push((bars_pub.publish(bars(s)).await.unwrap(), bars(s)));
        }
        assert!(sent_trades.iter().all(|(p, _)| p.topic == TICKS) && sent_quotes.iter().all(|(p, _)| p.topic == TICKS));

        let g = group("three-routes");
        // Handlers owning their state ('static), so the run can be spawned.
        type Got<P> = Arc<std::sync::Mutex<Vec<(ampy_bus::MessageId, P, String)>>>;
        let (got_trades, got_quotes, got_bars): (Got<_>, Got<_>, Got<_>) = Default::default();
        let (gt, gq, gb) = (got_trades.clone(), got_quotes.clone(), got_bars.clone());
        let mut group = bus
            .group(&g)
            .route::<topics::ticks::v1::Trade, _>(async move |d| {
                gt.lock().unwrap().push((d.headers.message_id, payload(&d), d.info.subject.clone()));
                Ok(())
            })
            .route::<topics::ticks::v1::Quote, _>(async move |d| {
                gq.lock().unwrap().push((d.headers.message_id, payload(&d), d.info.subject.clone()));
                Ok(())
            })
            .route::<topics::bars::v1::Bars, _>(async move |d| {
                gb.lock().unwrap().push((d.headers.message_id, payload(&d), d.info.subject.clone()));
                Ok(())
            })
            .build()
            .await
            .unwrap();
        assert_eq!(group.kafka_topics(), [TICKS, BARS], "one subscription, each Kafka topic once");
        let stats = tokio::spawn(async move { group.drain(IDLE).await }).await.unwrap().unwrap();
        assert_eq!(
            (stats.received, stats.consumed, stats.skipped, stats.dead_lettered, stats.retried),
            (7, 7, 0, 0, 0),
            "{stats:?}"
        );
        let (got_trades, got_quotes, got_bars) =
            (got_trades.lock().unwrap().clone(), got_quotes.lock().unwrap().clone(), got_bars.lock().unwrap().clone());

        // Each record once, to the handler of its topic, with its payload.
        fn check<P: PartialEq + std::fmt::Debug>(
            what: &str,
            sent: &[(ampy_bus::kafka::Published, P)],
            got: &[(ampy_bus::MessageId, P, String)],
        ) {
            assert_eq!(got.len(), sent.len(), "{what}: {got:?}");
            for (p, payload) in sent {
                let mine: Vec<_> = got.iter().filter(|g| g.0 == p.message_id).collect();
                assert_eq!(mine.len(), 1, "{what}: {} once", p.message_id);
                assert_eq!(&mine[0].1, payload, "{what}: the payload");
                assert_eq!(mine[0].2, p.subject.as_str(), "{what}: the subject");
            }
        }
        check("trades", &sent_trades, &got_trades);
        check("quotes", &sent_quotes, &got_quotes);
        check("bars", &sent_bars, &got_bars);

        // Metrics per route topic, as a consumer of each would report them.
        for (id, n) in [("ticks.v1.trade", 3), ("ticks.v1.quote", 2), ("bars.v1.bars", 2)] {
            assert_eq!(metrics.counter("bus_consumed_total", &[("topic", id), ("consumer", g.as_str())]), n, "{id}");
        }
        let (t, b) = (&sent_trades[0].0, &sent_bars[0].0);
        assert_eq!(metrics.lag("ticks.v1.trade", &g, t.partition), Some(0), "lag of the ticks Kafka topic");
        assert_eq!(metrics.lag("ticks.v1.quote", &g, t.partition), Some(0), "a sibling reports the same partitions");
        assert_eq!(metrics.lag("bars.v1.bars", &g, b.partition), Some(0), "lag of the bars Kafka topic");
        let published = sent_trades.iter().map(|s| &s.0).chain(sent_quotes.iter().map(|s| &s.0));
        for p in published.chain(sent_bars.iter().map(|s| &s.0)) {
            let committed = broker.committed(&g, &p.topic, p.partition).unwrap_or(-1);
            assert!(committed > p.offset, "{} {}: committed {committed}", p.topic, p.partition);
        }

        // All committed: a new member of the group gets nothing.
        let mut again = bus
            .group(&g)
            .route::<topics::ticks::v1::Trade, _>(async |_d| Ok(()))
            .route::<topics::ticks::v1::Quote, _>(async |_d| Ok(()))
            .route::<topics::bars::v1::Bars, _>(async |_d| Ok(()))
            .build()
            .await
            .unwrap();
        let stats = again.drain(IDLE).await.unwrap();
        assert_eq!((stats.received, stats.skipped), (0, 0));
    });
}

#[test]
fn a_group_skips_and_commits_a_record_no_route_takes_without_dead_lettering_it() {
    let Some(broker) = Broker::get("group_skip") else { return };
    rt().block_on(async {
        let (bus, trade, quote, _) = group_setup(&broker, None).await;
        let t = trade.publish(trades("AAPL")).await.unwrap();
        let q = quote.publish(quotes("AAPL")).await.unwrap();
        let g = group("trades-only");
        let mut got = Vec::new();
        let mut group = bus
            .group(&g)
            .route::<topics::ticks::v1::Trade, _>(async |d| {
                got.push(d.headers.message_id);
                Ok(())
            })
            .build()
            .await
            .unwrap();
        let stats = group.drain(IDLE).await.unwrap();
        drop(group);
        assert_eq!(got, [t.message_id]);
        assert_eq!(
            (stats.received, stats.consumed, stats.skipped, stats.dead_lettered, stats.decode_failures),
            (1, 1, 1, 0, 0)
        );
        assert_eq!(broker.end_offsets(DLQ).iter().sum::<i64>(), 0, "nothing dead-lettered");
        // The quote's offset is finished: committed, so never seen again.
        assert_eq!(broker.committed(&g, TICKS, q.partition), Some(q.offset + 1));
        let mut again = bus.group(&g).route::<topics::ticks::v1::Trade, _>(async |_d| Ok(())).build().await.unwrap();
        let stats = again.drain(IDLE).await.unwrap();
        assert_eq!((stats.received, stats.skipped), (0, 0));
    });
}

#[test]
fn a_group_routes_permanent_failure_goes_to_its_domains_dead_letters_and_the_other_routes_carry_on() {
    let Some(broker) = Broker::get("group_permanent") else { return };
    rt().block_on(async {
        let metrics = Metrics::new();
        let (bus, trade, _, bars_pub) = group_setup(&broker, Some(metrics.clone())).await;
        let t = trade.publish(trades("AAPL")).await.unwrap();
        let b = bars_pub.publish(bars("MSFT")).await.unwrap();
        let g = group("permanent");
        let (mut trade_calls, mut got_bars) = (0, Vec::new());
        let mut group = bus
            .group(&g)
            .route_with::<topics::ticks::v1::Trade, _>(
                ampy_bus::kafka::RouteOptions::default().nak_backoff(vec![Duration::from_millis(20)]),
                async |_d| {
                    trade_calls += 1;
                    Err(HandlerError::permanent("bad_trade", "no venue"))
                },
            )
            .route::<topics::bars::v1::Bars, _>(async |d| {
                got_bars.push(payload(&d));
                Ok(())
            })
            .build()
            .await
            .unwrap();
        let stats = group.drain(IDLE).await.unwrap();
        drop(group);
        assert_eq!(trade_calls, 1, "a permanent error is not retried");
        assert_eq!(got_bars, [bars("MSFT")]);
        assert_eq!((stats.consumed, stats.dead_lettered, stats.retried, stats.skipped), (1, 1, 0, 0));

        let letters = broker.read_all(DLQ, 1);
        assert_eq!(letters.len(), 1);
        let h = headers_of(&letters[0]);
        assert_eq!(header(&h, "dlq_reason"), Some("bad_trade: no venue"));
        assert_eq!(header(&h, "message_id"), Some(t.message_id.to_string().as_str()));
        let key = format!("ticks {}", header(&h, "partition_key").unwrap());
        assert_eq!(letters[0].key(), Some(key.as_bytes()), "dead letters of the ticks domain");
        assert_eq!(metrics.counter("bus_dlq_total", &[("topic", "ticks.v1.trade"), ("reason", "bad_trade")]), 1);
        assert_eq!(metrics.counter("bus_consumed_total", &[("topic", "bars.v1.bars"), ("consumer", g.as_str())]), 1);
        assert_eq!(broker.committed(&g, TICKS, t.partition), Some(t.offset + 1), "finished once dead-lettered");
        assert_eq!(broker.committed(&g, BARS, b.partition), Some(b.offset + 1));
    });
}

#[test]
fn a_poison_pill_on_one_route_of_a_group_goes_to_that_routes_dead_letters() {
    let Some(broker) = Broker::get("group_poison") else { return };
    rt().block_on(async {
        let metrics = Metrics::new();
        let (bus, trade, quote, bars_pub) = group_setup(&broker, Some(metrics.clone())).await;
        // A quote whose schema_hash is another build's.
        let envelope = ampy_bus::Envelope::builder(quotes("AAPL"))
            .producer("other@1")
            .source("other")
            .run_id("r")
            .build()
            .unwrap();
        let mut pill = envelope.encode().unwrap();
        for (k, v) in &mut pill.headers {
            if *k == "schema_hash" {
                *v = format!("sha256:{}", "0".repeat(64));
            }
        }
        let subject = topics::ticks::v1::quote::subject(Env::Dev, "AAPL").unwrap();
        let q = quote.publish_record(subject, &pill).await.unwrap();
        let t = trade.publish(trades("AAPL")).await.unwrap();
        let b = bars_pub.publish(bars("AAPL")).await.unwrap();

        let g = group("poison-route");
        let (mut got, mut quote_calls) = (Vec::new(), 0);
        let mut group = bus
            .group(&g)
            .route::<topics::ticks::v1::Trade, _>(async |d| {
                got.push(d.headers.message_id);
                Ok(())
            })
            .route::<topics::ticks::v1::Quote, _>(async |_d| {
                quote_calls += 1;
                Ok(())
            })
            .route::<topics::bars::v1::Bars, _>(async |_d| Ok(()))
            .build()
            .await
            .unwrap();
        let stats = group.drain(IDLE).await.unwrap();
        drop(group);
        assert_eq!((got, quote_calls), (vec![t.message_id], 0), "the pill reaches no handler");
        assert_eq!((stats.received, stats.consumed, stats.decode_failures, stats.dead_lettered), (3, 2, 1, 1));

        let letters = broker.read_all(DLQ, 1);
        assert_eq!(letters.len(), 1);
        let h = headers_of(&letters[0]);
        assert_eq!(header(&h, "message_id"), Some(q.message_id.to_string().as_str()));
        assert!(header(&h, "dlq_reason").unwrap().starts_with("schema_hash_mismatch"), "{h:?}");
        let key = format!("ticks {}", pill.header("partition_key").unwrap());
        assert_eq!(letters[0].key(), Some(key.as_bytes()), "dead letters of the quote's domain");
        let with = |r: &'static str| [("topic", "ticks.v1.quote"), ("reason", r)];
        assert_eq!(metrics.counter("bus_dlq_total", &with("schema_hash_mismatch")), 1);
        assert_eq!(metrics.counter("bus_decode_fail_total", &with("hash_mismatch")), 1);
        assert_eq!(broker.committed(&g, BARS, b.partition), Some(b.offset + 1));
    });
}

#[test]
fn a_group_without_routes_or_routing_a_topic_twice_is_a_config_error() {
    let Some(broker) = Broker::get("group_config") else { return };
    rt().block_on(async {
        let bus = bus(&broker, None).await;
        let err = bus.group("empty").build().await.err().unwrap();
        assert_eq!(err.kind(), ErrorKind::Config, "{err}");
        assert!(err.to_string().contains("no routes"), "{err}");
        let err = bus
            .group("twice")
            .route::<topics::bars::v1::Bars, _>(async |_d| Ok(()))
            .route::<topics::ticks::v1::Trade, _>(async |_d| Ok(()))
            .route::<topics::bars::v1::Bars, _>(async |_d| Ok(()))
            .build()
            .await
            .err()
            .unwrap();
        assert_eq!(err.kind(), ErrorKind::Config, "{err}");
        assert!(err.to_string().contains("`bars.v1.bars` twice"), "{err}");
    });
}
