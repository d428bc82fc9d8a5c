//! The test broker: `AMPY_KAFKA_BOOTSTRAP` from scripts/lib/kafka.sh
//! (`kafka_start`). Without it a test skips with one line, unless
//! `AMPY_TEST_REQUIRE_KAFKA=1` (set by scripts/test), where it fails.
//!
//! The typed API names its Kafka topics from the registry
//! (`ampy.dev.bars.v1`), so tests cannot pick unique topic names; each
//! test holds [`Broker::lock`] and starts from freshly re-created topics,
//! made with rdkafka's own admin client (auto topic creation is off).

#![allow(dead_code)]

use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant};

use ampy_bus::kafka::rdkafka::admin::{AdminClient, AdminOptions, NewPartitions, NewTopic, TopicReplication};
use ampy_bus::kafka::rdkafka::client::DefaultClientContext;
use ampy_bus::kafka::rdkafka::consumer::{BaseConsumer, Consumer};
use ampy_bus::kafka::rdkafka::message::OwnedMessage;
use ampy_bus::kafka::rdkafka::{ClientConfig, Message, Offset, TopicPartitionList};

static LOCK: Mutex<()> = Mutex::new(());

pub struct Broker {
    pub bootstrap: String,
    _guard: MutexGuard<'static, ()>,
}

impl Broker {
    /// The broker, or `None` (and one line on stderr) to skip.
    pub fn get(test: &str) -> Option<Broker> {
        let Ok(bootstrap) = std::env::var("AMPY_KAFKA_BOOTSTRAP") else {
            if std::env::var("AMPY_TEST_REQUIRE_KAFKA").as_deref() == Ok("1") {
                panic!("{test}: a Kafka broker is required (AMPY_TEST_REQUIRE_KAFKA=1) but AMPY_KAFKA_BOOTSTRAP is unset; scripts/test starts one");
            }
            // Past the test harness's capture: the skip shows in a plain `cargo test`.
            let _ = std::io::Write::write_all(&mut std::io::stderr(), format!("skipping {test}: AMPY_KAFKA_BOOTSTRAP is unset (source scripts/lib/kafka.sh; kafka_start, or run scripts/test)\n").as_bytes());
            return None;
        };
        let guard = LOCK.lock().unwrap_or_else(|p| p.into_inner());
        Some(Broker { bootstrap, _guard: guard })
    }

    fn config(&self) -> ClientConfig {
        let mut c = ClientConfig::new();
        c.set("bootstrap.servers", &self.bootstrap);
        c
    }

    /// Deletes `topics` if they exist and creates them with `partitions`.
    pub async fn fresh_topics(&self, topics: &[&str], partitions: i32) {
        let admin: AdminClient<DefaultClientContext> = self.config().create().unwrap();
        let opts = AdminOptions::new().operation_timeout(Some(Duration::from_secs(10)));
        let _ = admin.delete_topics(topics, &opts).await.unwrap();
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let new: Vec<NewTopic> =
                topics.iter().map(|t| NewTopic::new(t, partitions, TopicReplication::Fixed(1))).collect();
            let results = admin.create_topics(&new, &opts).await.unwrap();
            // Deletion finishes in the background: retry while a name is
            // still taken.
            let failed: Vec<String> =
                results.iter().filter_map(|r| r.as_ref().err()).map(|(t, e)| format!("{t}: {e}")).collect();
            if failed.is_empty() {
                break;
            }
            assert!(Instant::now() < deadline, "cannot re-create topics: {failed:?}");
            let _ = admin.delete_topics(topics, &opts).await;
            tokio::time::sleep(Duration::from_millis(300)).await;
        }
        for t in topics {
            self.wait_for_leaders(t, partitions).await;
        }
    }

    /// Waits until `topic` has `partitions` partitions, each with a leader.
    async fn wait_for_leaders(&self, t: &str, partitions: i32) {
        let consumer: BaseConsumer = self.config().create().unwrap();
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let ready = consumer
                .fetch_metadata(Some(t), Duration::from_secs(5))
                .ok()
                .and_then(|m| {
                    m.topics().first().map(|x| {
                        x.error().is_none()
                            && x.partitions().len() == partitions as usize
                            && x.partitions().iter().all(|p| p.leader() >= 0)
                    })
                })
                .unwrap_or(false);
            if ready {
                break;
            }
            assert!(Instant::now() < deadline, "topic {t} has no leaders");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Grows `topic` to `partitions` and waits until every new partition
    /// has a leader.
    #[allow(dead_code)]
    pub async fn grow(&self, topic: &str, partitions: i32) {
        let admin: AdminClient<DefaultClientContext> = self.config().create().unwrap();
        let opts = AdminOptions::new().operation_timeout(Some(Duration::from_secs(10)));
        let results = admin.create_partitions(&[NewPartitions::new(topic, partitions as usize)], &opts).await.unwrap();
        assert!(results.iter().all(|r| r.is_ok()), "cannot grow {topic}: {results:?}");
        self.wait_for_leaders(topic, partitions).await;
    }

    /// Every record of `topic` (all partitions, from the start), waiting
    /// until at least `count` arrived; ordered by partition, then offset.
    pub fn read_all(&self, topic: &str, count: usize) -> Vec<OwnedMessage> {
        let consumer: BaseConsumer =
            self.config().set("group.id", "ampy-test-reader").set("enable.auto.commit", "false").create().unwrap();
        let md = consumer.fetch_metadata(Some(topic), Duration::from_secs(5)).unwrap();
        let n = md.topics()[0].partitions().len() as i32;
        let mut tpl = TopicPartitionList::new();
        for p in 0..n {
            tpl.add_partition_offset(topic, p, Offset::Beginning).unwrap();
        }
        consumer.assign(&tpl).unwrap();
        let mut out = Vec::new();
        let deadline = Instant::now() + Duration::from_secs(20);
        while out.len() < count && Instant::now() < deadline {
            if let Some(Ok(m)) = consumer.poll(Duration::from_millis(200)) {
                out.push(m.detach());
            }
        }
        // Anything beyond `count` that is already there.
        while let Some(Ok(m)) = consumer.poll(Duration::from_millis(500)) {
            out.push(m.detach());
        }
        out.sort_by_key(|m| (m.partition(), m.offset()));
        out
    }

    /// The high watermark of each partition.
    pub fn end_offsets(&self, topic: &str) -> Vec<i64> {
        let consumer: BaseConsumer = self.config().create().unwrap();
        let md = consumer.fetch_metadata(Some(topic), Duration::from_secs(5)).unwrap();
        let n = md.topics()[0].partitions().len() as i32;
        (0..n).map(|p| consumer.fetch_watermarks(topic, p, Duration::from_secs(5)).unwrap().1).collect()
    }

    /// The offset group `group` committed for a partition.
    pub fn committed(&self, group: &str, topic: &str, partition: i32) -> Option<i64> {
        let consumer: BaseConsumer = self.config().set("group.id", group).create().unwrap();
        let mut tpl = TopicPartitionList::new();
        tpl.add_partition(topic, partition);
        let got = consumer.committed_offsets(tpl, Duration::from_secs(5)).unwrap();
        match got.find_partition(topic, partition)?.offset() {
            Offset::Offset(o) => Some(o),
            _ => None,
        }
    }
}

/// The record headers of a stored message as (name, value) text pairs, in
/// stored order.
pub fn headers_of(m: &OwnedMessage) -> Vec<(String, String)> {
    use ampy_bus::kafka::rdkafka::message::Headers;
    m.headers()
        .map(|h| {
            h.iter()
                .map(|h| (h.key.to_owned(), String::from_utf8_lossy(h.value.unwrap_or_default()).into_owned()))
                .collect()
        })
        .unwrap_or_default()
}
