//! The bus on Kafka (feature `kafka`): typed idempotent producers that
//! choose every record's partition by Java's murmur2 rule, consumer
//! groups over one topic or several with in-process retries and dead
//! letters, time-window replay, and the NATS transport's metrics plus
//! consumer lag. The normative
//! behaviour, shared with the Go and Python runtimes, is docs/kafka.md.
//!
//! ```no_run
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! # mod contract { pub mod transport { pub const LAYOUT: ampy_bus::transport::Layout =
//! #   ampy_bus::transport::Layout { namespace: "ampy", tiers: &[], streams: &[], kafka_topics: &[], dlq: None }; } }
//! use ampy_bus::{kafka::Bus, Env};
//! let bus = Bus::connect("127.0.0.1:9092", &contract::transport::LAYOUT, Env::Prod).await?;
//! # Ok(()) }
//! ```

mod consume;
mod group;
pub mod headers;
mod member;
mod metrics;
mod partition;
mod provision;
mod publish;
mod replay;

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

pub use crate::handler::{Body, HandlerError};
pub use crate::metrics::{Metrics, NoObserver, Observer};
pub use crate::runtime::{Error, ErrorKind};
pub use consume::{Consumer, ConsumerBuilder, Delivery, DeliveryInfo, RunStats, Start, JOIN_WAIT};
pub use group::{Group, GroupBuilder, Route, RouteOptions};
pub use member::Routes;
pub use partition::{key_subtopic, murmur2, partition_for, to_positive};
pub use provision::{
    provision, topic_plans, Change, Effect, Outcome, ProvisionError, ProvisionOptions, ProvisionReport, TopicAction,
    TopicPlan,
};
pub use publish::{Published, Publisher, PublisherBuilder, DEFAULT_MAX_MESSAGE_BYTES};
pub use rdkafka;

use rdkafka::message::OwnedHeaders;
use rdkafka::producer::{DeliveryFuture, FutureProducer, FutureRecord, Producer as _};
use rdkafka::types::RDKafkaErrorCode;
use rdkafka::ClientConfig;

use crate::topic::{EnvName, Topic};
use crate::transport::{Layout, Stream, Tier};

/// How long a metadata request (partition counts, reachability) may take.
const METADATA_TIMEOUT: Duration = Duration::from_secs(10);

/// How long a topic's partition count is used before it is read again,
/// unless the client config's `topic.metadata.refresh.interval.ms` says
/// otherwise: librdkafka's default, and Java's `metadata.max.age.ms`, so a
/// grown topic is followed within the window a Java producer follows it in.
pub const DEFAULT_METADATA_MAX_AGE: Duration = Duration::from_secs(300);

/// The age after which a cached partition count is read again: the
/// client's own metadata refresh interval. librdkafka's -1 (never
/// refresh) keeps a count until a refusal.
fn metadata_max_age(config: &ClientConfig) -> Result<Duration, Error> {
    const KEY: &str = "topic.metadata.refresh.interval.ms";
    let Some(text) = config.get(KEY) else { return Ok(DEFAULT_METADATA_MAX_AGE) };
    match text.trim().parse::<i64>() {
        Ok(ms) if ms < 0 => Ok(Duration::MAX),
        Ok(ms) => Ok(Duration::from_millis(ms.unsigned_abs())),
        Err(_) => Err(Error::new(
            ErrorKind::Config,
            format!("`{KEY}` is `{text}`: give a number of milliseconds (-1: never refresh)"),
        )),
    }
}

/// One env of the bus on a Kafka cluster: an idempotent producer, the
/// client settings consumers start from, the registry's layout and where
/// measurements go. Cheap to clone; clones share the producer.
#[derive(Clone)]
pub struct Bus {
    config: Arc<ClientConfig>,
    producer: FutureProducer,
    /// Partition counts by Kafka topic, from cluster metadata, with when
    /// they were read.
    partitions: Arc<Mutex<BTreeMap<String, (i32, Instant)>>>,
    metadata_max_age: Duration,
    layout: &'static Layout,
    env: &'static str,
    env_value: crate::runtime::TypedEnv,
    observer: Arc<dyn Observer>,
}

/// The producer settings the bus relies on, applied over the caller's.
/// Idempotence (with `acks=all` and at most 5 requests in flight) keeps
/// the client's internal retries exactly-once and in order per partition.
const PRODUCER_FORCED: [(&str, &str); 3] =
    [("enable.idempotence", "true"), ("acks", "all"), ("compression.type", "none")];

/// Defaults the caller's config may override (docs/kafka.md "Producing").
const PRODUCER_DEFAULTS: [(&str, &str); 3] = [
    ("linger.ms", "5"),
    ("delivery.timeout.ms", "30000"),
    // At or above any max.message.bytes a topic may set: the bus checks
    // each record against the topic's bound itself, before sending.
    ("message.max.bytes", "67108864"),
];

impl Bus {
    /// Connects to the cluster at `bootstrap` (`HOST:PORT[,HOST:PORT…]`)
    /// and checks it answers a metadata request.
    pub async fn connect<E: EnvName + Clone + Send + Sync + 'static>(
        bootstrap: &str,
        layout: &'static Layout,
        env: E,
    ) -> Result<Bus, Error> {
        let mut config = ClientConfig::new();
        config.set("bootstrap.servers", bootstrap);
        Bus::with_config(config, layout, env).await
    }

    /// Connects with client settings the service chose (TLS, SASL,
    /// `linger.ms`, `delivery.timeout.ms`, …); consumers start from the
    /// same settings. The bus's producer settings are applied on top.
    pub async fn with_config<E: EnvName + Clone + Send + Sync + 'static>(
        config: ClientConfig,
        layout: &'static Layout,
        env_value: E,
    ) -> Result<Bus, Error> {
        let env = crate::topic::checked_name(&env_value).map_err(|e| Error::new(ErrorKind::Config, e.to_string()))?;
        let metadata_max_age = metadata_max_age(&config)?;
        if layout.streams_for(env).next().is_none() {
            return Err(Error::new(
                ErrorKind::Config,
                format!("the registry layout has no topics for env `{env}`: use one of the registry's envs"),
            ));
        }
        let mut pc = config.clone();
        for (k, v) in PRODUCER_DEFAULTS {
            if pc.get(k).is_none() {
                pc.set(k, v);
            }
        }
        for (k, v) in PRODUCER_FORCED {
            pc.set(k, v);
        }
        let producer: FutureProducer =
            pc.create().map_err(|e| Error::with_source(ErrorKind::Config, "cannot create the Kafka producer", e))?;
        let bootstrap = config.get("bootstrap.servers").unwrap_or("").to_owned();
        let probe = producer.clone();
        blocking(move || probe.client().fetch_metadata(None, METADATA_TIMEOUT)).await?.map_err(|e| {
            Error::with_source(ErrorKind::Connect, format!("no answer from the Kafka cluster at `{bootstrap}`"), e)
        })?;
        Ok(Bus {
            config: Arc::new(config),
            producer,
            partitions: Arc::default(),
            metadata_max_age,
            layout,
            env,
            env_value: crate::runtime::TypedEnv::new(env_value),
            observer: Arc::new(NoObserver),
        })
    }

    /// Sends measurements to `observer` (e.g. a shared [`Metrics`]).
    pub fn with_observer(mut self, observer: Arc<dyn Observer>) -> Bus {
        self.observer = observer;
        self
    }

    pub fn producer(&self) -> &FutureProducer {
        &self.producer
    }

    /// The client settings consumers start from.
    pub fn client_config(&self) -> &ClientConfig {
        &self.config
    }

    pub fn layout(&self) -> &'static Layout {
        self.layout
    }

    pub fn env(&self) -> &'static str {
        self.env
    }

    /// A publisher for topic `T`; see [`PublisherBuilder`].
    pub fn publisher<T: Topic>(&self) -> PublisherBuilder<T> {
        PublisherBuilder::new(self.clone())
    }

    /// A consumer of topic `T` in consumer group `group`; see
    /// [`ConsumerBuilder`].
    pub fn consumer<T: Topic>(&self, group: &str) -> ConsumerBuilder<T> {
        ConsumerBuilder::new(self.clone(), Some(group.to_owned()))
    }

    /// One member of consumer group `group` over several topics, each
    /// routed to its own typed handler; see [`GroupBuilder`].
    pub fn group(&self, group: &str) -> GroupBuilder<()> {
        GroupBuilder::new(self.clone(), group)
    }

    /// A replay of topic `T`'s records produced in `[start, end)`: no
    /// group and no commits; see [`ConsumerBuilder`] and docs/kafka.md.
    pub fn replay<T: Topic>(&self, start: std::time::SystemTime, end: std::time::SystemTime) -> ConsumerBuilder<T> {
        ConsumerBuilder::new(self.clone(), None).window(start, end)
    }

    /// The Kafka topic of topic `T` in this env, `ampy.dev.bars.v1`.
    pub fn kafka_topic<T: Topic>(&self) -> String {
        format!("{}.{}.{}.{}", T::NAMESPACE, self.env, T::DOMAIN, T::VERSION)
    }

    /// The bus's env as topic `T`'s env type.
    pub(crate) fn env_of<T: Topic>(&self) -> Result<T::Env, Error> {
        self.env_value.of::<T>()
    }

    /// The registry's topic and tier of `T` in this env.
    fn route<T: Topic>(&self) -> Result<(&'static Stream, &'static Tier), Error> {
        let topic = self.layout.stream(self.env, T::DOMAIN, T::VERSION).ok_or_else(|| {
            Error::new(
                ErrorKind::Config,
                format!(
                    "topic `{}` is not in the registry layout for env `{}`: is it a registry topic?",
                    T::ID,
                    self.env
                ),
            )
        })?;
        let tier = self
            .layout
            .tier(topic.tier)
            .ok_or_else(|| Error::new(ErrorKind::Config, format!("the layout has no qos tier `{}`", topic.tier)))?;
        Ok((topic, tier))
    }

    /// The DLQ's Kafka topic and the subtopic of dead letters from
    /// `domain`: `ampy.dev.dlq.v1` and `bars`.
    fn dlq_route(&self, domain: &str) -> Result<(String, String), Error> {
        let route = self.layout.dlq.ok_or_else(|| {
            Error::new(
                ErrorKind::Config,
                "the registry has no dlq domain, so consumers cannot dead-letter: add a `kind: dlq` domain",
            )
        })?;
        let topic = format!("{}.{}.{}.{}", self.layout.namespace, self.env, route.domain, route.version);
        let sub: Vec<&str> = route
            .subtopic
            .iter()
            .map(|t| if *t == crate::transport::DlqRoute::PLACEHOLDER { domain } else { t })
            .collect();
        Ok((topic, sub.join(".")))
    }

    /// The partition count of `topic`, from cluster metadata, cached as
    /// long as the client keeps its metadata
    /// (`topic.metadata.refresh.interval.ms`, [`DEFAULT_METADATA_MAX_AGE`]):
    /// a grown topic is followed within that time, as by a Java producer;
    /// `refresh` asks the cluster again (after an
    /// unknown-partition answer). A topic the cluster does not have is
    /// `no_topic`.
    pub async fn partition_count(&self, topic: &str, refresh: bool) -> Result<i32, Error> {
        if !refresh {
            let cached = self.partitions.lock().ok().and_then(|m| m.get(topic).copied());
            if let Some((n, read)) = cached {
                if read.elapsed() < self.metadata_max_age {
                    return Ok(n);
                }
            }
        }
        let read = Instant::now();
        let producer = self.producer.clone();
        let name = topic.to_owned();
        let metadata = blocking(move || producer.client().fetch_metadata(Some(&name), METADATA_TIMEOUT))
            .await?
            .map_err(|e| Error::with_source(ErrorKind::Connect, format!("no metadata for topic `{topic}`"), e))?;
        let n = metadata
            .topics()
            .iter()
            .find(|t| t.name() == topic && t.error().is_none())
            .map_or(0, |t| t.partitions().len() as i32);
        if n == 0 {
            return Err(Error::new(
                ErrorKind::NoTopic,
                format!("the cluster has no topic `{topic}`: provision the env (`ampygen provision kafka`)"),
            ));
        }
        if let Ok(mut m) = self.partitions.lock() {
            m.insert(topic.to_owned(), (n, read));
        }
        Ok(n)
    }

    /// Produces one record with the bus's partitioning, the path every
    /// publisher and dead letter takes: the partition is
    /// [`partition_for`] of the key over the topic's partition count, set
    /// explicitly; the delivery report is awaited. For relays and tests
    /// that need exact bytes; services use a typed [`Publisher`].
    pub async fn produce(
        &self,
        topic: &str,
        key: &[u8],
        value: &[u8],
        headers: Option<OwnedHeaders>,
        timestamp_ms: Option<i64>,
    ) -> Result<(i32, i64), Error> {
        let mut refreshed = false;
        loop {
            let n = self.partition_count(topic, refreshed).await?;
            let out = Outgoing {
                topic,
                key,
                value,
                headers: headers.clone(),
                timestamp_ms,
                partition: partition_for(key, n),
            };
            match settle(topic, self.enqueue(out).await).await {
                Err(e) if !refreshed && e.1 => refreshed = true,
                r => return r.map_err(|e| e.0),
            }
        }
    }

    /// Hands a record to the producer's queue (waiting while it is full).
    /// The error's flag is [`settle`]'s: librdkafka refuses a partition
    /// its own metadata no longer has before queueing the record.
    async fn enqueue(&self, out: Outgoing<'_>) -> Result<DeliveryFuture, (Error, bool)> {
        let mut record = FutureRecord::to(out.topic).key(out.key).payload(out.value).partition(out.partition);
        record.headers = out.headers;
        record.timestamp = out.timestamp_ms;
        loop {
            match self.producer.send_result(record) {
                Ok(f) => return Ok(f),
                Err((e, r)) if e.rdkafka_error_code() == Some(RDKafkaErrorCode::QueueFull) => {
                    record = r;
                    tokio::time::sleep(Duration::from_millis(5)).await;
                }
                Err((e, _)) => return Err(produce_error(out.topic, e)),
            }
        }
    }
}

/// A record on its way out, its partition chosen.
pub(crate) struct Outgoing<'a> {
    pub topic: &'a str,
    pub key: &'a [u8],
    pub value: &'a [u8],
    pub headers: Option<OwnedHeaders>,
    pub timestamp_ms: Option<i64>,
    pub partition: i32,
}

/// Awaits a delivery report. The error's flag says the partition count
/// may be stale (worth one metadata refresh and a resend).
async fn settle(topic: &str, queued: Result<DeliveryFuture, (Error, bool)>) -> Result<(i32, i64), (Error, bool)> {
    let report = queued?.await.map_err(|_| {
        (Error::new(ErrorKind::Timeout, format!("the producer closed before reporting a record to `{topic}`")), false)
    })?;
    match report {
        Ok(d) => Ok((d.partition, d.offset)),
        Err((e, _)) => Err(produce_error(topic, e)),
    }
}

fn produce_error(topic: &str, e: rdkafka::error::KafkaError) -> (Error, bool) {
    use RDKafkaErrorCode as C;
    match e.rdkafka_error_code() {
        Some(C::MessageTimedOut) => (
            Error::with_source(
                ErrorKind::Timeout,
                format!(
                    "no delivery report from `{topic}` within the delivery timeout; the record may or may not be \
                     stored, and republishing the same envelope is safe (consumers are idempotent on message_id)"
                ),
                e,
            ),
            false,
        ),
        Some(C::UnknownPartition | C::UnknownTopicOrPartition | C::UnknownTopic) => (
            Error::with_source(
                ErrorKind::NoTopic,
                format!("the cluster has no such topic or partition for `{topic}`: provision the env"),
                e,
            ),
            true,
        ),
        Some(C::MessageSizeTooLarge) => (
            Error::with_source(
                ErrorKind::TooLarge,
                format!(
                    "`{topic}` refused the record as too large: store the payload in object storage and publish a \
                     blob pointer (Envelope::to_blob, Publisher::publish_pointer)"
                ),
                e,
            ),
            false,
        ),
        _ => (Error::with_source(ErrorKind::Publish, format!("the broker refused the record for `{topic}`"), e), false),
    }
}

/// Runs a blocking librdkafka call (metadata, offsets) off the async
/// threads.
async fn blocking<R: Send + 'static>(f: impl FnOnce() -> R + Send + 'static) -> Result<R, Error> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| Error::with_source(ErrorKind::Consume, "a Kafka client call did not finish", e))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn age(value: Option<&str>) -> Result<Duration, Error> {
        let mut config = ClientConfig::new();
        if let Some(v) = value {
            config.set("topic.metadata.refresh.interval.ms", v);
        }
        metadata_max_age(&config)
    }

    #[test]
    fn the_partition_count_ages_with_the_clients_metadata_refresh_interval() {
        assert_eq!(age(None).unwrap(), DEFAULT_METADATA_MAX_AGE);
        assert_eq!(age(Some("250")).unwrap(), Duration::from_millis(250));
        assert_eq!(age(Some("-1")).unwrap(), Duration::MAX);
        let e = age(Some("soon")).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Config);
        assert!(e.to_string().contains("milliseconds"), "{e}");
    }
}
