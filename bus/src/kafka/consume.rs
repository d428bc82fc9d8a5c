//! Typed consumer groups: decode with the envelope rules, retry in
//! process (Kafka has no nak), dead-letter after the bound or at once for
//! poison pills, and store a record's offset only once it is finished,
//! so a consumer killed before its commit redelivers (at-least-once).

use std::future::Future;
use std::marker::PhantomData;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use rdkafka::consumer::{CommitMode, Consumer as _, StreamConsumer};
use rdkafka::error::KafkaError;
use rdkafka::message::BorrowedMessage;
use rdkafka::{Message as _, Offset, TopicPartitionList};

use super::headers::{dead_letter, envelope_pairs, received, RawHeaders};
use super::metrics::{LagContext, STATS_INTERVAL_MS};
use super::replay::{self, Admit, Window};
use super::{blocking, Bus, Error, ErrorKind};

/// How long [`Consumer::drain`] waits for the group to hand the consumer
/// its partitions before its `idle` starts counting anyway.
pub const JOIN_WAIT: Duration = Duration::from_secs(30);

const FETCH_WAIT_MAX_MS: &str = "100";
use crate::envelope::EnvelopeError;
use crate::handler::{decode, latency_ms, reason_label, Body, HandlerError};
use crate::headers::{names, Headers};
use crate::schema::Schema;
use crate::topic::Topic;

/// Where a new group starts (`auto.offset.reset`); an existing group
/// resumes from its committed offsets.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Start {
    /// From the oldest record the topic holds (the default).
    #[default]
    Earliest,
    /// Only records produced after the group first joins.
    Latest,
}

/// Where a record sits and which attempt this is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DeliveryInfo {
    /// The Kafka topic, `ampy.dev.bars.v1`.
    pub topic: String,
    /// The subject the record was published on: the Kafka topic and the
    /// subtopic of its key, `ampy.dev.bars.v1.XNAS.AAPL`.
    pub subject: String,
    pub partition: i32,
    pub offset: i64,
    /// The record timestamp (CreateTime = `produced_at`), in Unix ms.
    pub timestamp_ms: Option<i64>,
    /// Handler calls for this record in this process, this one included.
    pub attempt: u32,
    /// `attempt - 1`.
    pub retry_count: u32,
}

/// One record handed to a handler.
#[derive(Clone, Debug)]
pub struct Delivery<P> {
    /// The validated envelope headers.
    pub headers: Headers,
    pub body: Body<P>,
    pub info: DeliveryInfo,
    raw: Arc<Received>,
}

impl<P> Delivery<P> {
    /// The received record headers, in received order (null values as
    /// `None`).
    pub fn raw_headers(&self) -> &RawHeaders {
        &self.raw.headers
    }

    /// The received value bytes, untouched (still gzipped if they were).
    pub fn raw_payload(&self) -> &[u8] {
        &self.raw.value
    }

    /// The record key bytes.
    pub fn key(&self) -> Option<&[u8]> {
        self.raw.key.as_deref()
    }

    /// Shorthand for `info.retry_count`.
    pub fn retry_count(&self) -> u32 {
        self.info.retry_count
    }
}

/// A record copied out of the client, so that no librdkafka handle is
/// held across the handler's awaits.
#[derive(Debug)]
struct Received {
    topic: String,
    partition: i32,
    offset: i64,
    key: Option<Vec<u8>>,
    value: Vec<u8>,
    headers: RawHeaders,
    timestamp_ms: Option<i64>,
}

impl Received {
    fn from(m: &BorrowedMessage<'_>) -> Received {
        Received {
            topic: m.topic().to_owned(),
            partition: m.partition(),
            offset: m.offset(),
            key: m.key().map(<[u8]>::to_vec),
            value: m.payload().map(<[u8]>::to_vec).unwrap_or_default(),
            headers: received(m),
            timestamp_ms: m.timestamp().to_millis(),
        }
    }

    /// The subtopic part of the key (`{subtopic} {partition_key}`).
    fn subtopic(&self) -> Option<&str> {
        let key = std::str::from_utf8(self.key.as_deref()?).ok()?;
        key.split_once(' ').map(|(s, _)| s)
    }

    fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name)
    }
}

/// What a run did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct RunStats {
    /// Records of this topic received (each once, however often handled).
    pub received: u64,
    /// Records the handler finished with Ok.
    pub consumed: u64,
    /// Handler failures that were retried.
    pub retried: u64,
    pub dead_lettered: u64,
    pub decode_failures: u64,
    /// Records of sibling topics sharing the Kafka topic (another
    /// subtopic pattern): finished without handling, they are theirs.
    pub skipped: u64,
    /// Replay only: records that failed (poison pills, handler errors);
    /// reported here, never dead-lettered.
    pub failed: u64,
}

/// Configures a [`Consumer`]; from [`Bus::consumer`] or [`Bus::replay`].
/// Defaults come from the topic's QoS tier in the registry.
#[must_use]
pub struct ConsumerBuilder<T> {
    bus: Bus,
    group: Option<String>,
    start: Start,
    window: Option<(SystemTime, SystemTime)>,
    max_deliveries: Option<u32>,
    nak_backoff: Option<Vec<Duration>>,
    _topic: PhantomData<fn() -> T>,
}

impl<T: Topic> ConsumerBuilder<T> {
    pub(super) fn new(bus: Bus, group: Option<String>) -> Self {
        ConsumerBuilder {
            bus,
            group,
            start: Start::Earliest,
            window: None,
            max_deliveries: None,
            nak_backoff: None,
            _topic: PhantomData,
        }
    }

    /// Where a new group starts (default [`Start::Earliest`]).
    pub fn start(mut self, start: Start) -> Self {
        self.start = start;
        self
    }

    pub(super) fn window(mut self, start: SystemTime, end: SystemTime) -> Self {
        self.window = Some((start, end));
        self
    }

    /// Handler attempts before the DLQ (default: the tier's).
    pub fn max_deliveries(mut self, n: u32) -> Self {
        self.max_deliveries = Some(n.max(1));
        self
    }

    /// Delays between attempts, the last repeating (default: the tier's
    /// nak backoff).
    pub fn nak_backoff(mut self, delays: Vec<Duration>) -> Self {
        self.nak_backoff = Some(delays);
        self
    }

    /// Creates the client and subscribes (a group) or assigns the window's
    /// partitions (a replay). The topic must exist: `no_topic` otherwise.
    pub async fn build(self) -> Result<Consumer<T>, Error> {
        let (_, tier) = self.bus.route::<T>()?;
        let env = self.bus.env_of::<T>()?;
        let topic = self.bus.kafka_topic::<T>();
        let pattern = T::pattern(env)?;
        let filter = pattern.strip_prefix(&format!("{topic}.")).unwrap_or(">").to_owned();
        let (dlq_topic, dlq_subtopic) = match self.window {
            Some(_) => (String::new(), String::new()),
            None => self.bus.dlq_route(T::DOMAIN)?,
        };
        let partitions = self.bus.partition_count(&topic, true).await?;
        let label = self.group.clone().unwrap_or_else(|| "replay".to_owned());
        let mut config = (*self.bus.config).clone();
        // A broker answers a fetch of empty partitions after this wait:
        // Go's FetchMaxWait and Python's consumer use the same 100 ms, so
        // a record on a partition whose fetch starts later is not held
        // behind librdkafka's default 500 ms.
        config
            .set("statistics.interval.ms", STATS_INTERVAL_MS)
            .set("enable.partition.eof", "false")
            .set("fetch.wait.max.ms", FETCH_WAIT_MAX_MS);
        match &self.group {
            Some(group) => config
                .set("group.id", group)
                .set("enable.auto.commit", "true")
                .set("enable.auto.offset.store", "false")
                .set("auto.commit.interval.ms", "1000")
                .set("auto.offset.reset", if self.start == Start::Latest { "latest" } else { "earliest" }),
            // Never joins or commits: the id only satisfies the client.
            None => config
                .set("group.id", format!("ampy-replay-{}", crate::headers::MessageId::new_v7()))
                .set("enable.auto.commit", "false")
                .set("enable.auto.offset.store", "false"),
        };
        let context = LagContext {
            observer: Arc::clone(&self.bus.observer),
            topic_id: T::ID,
            kafka_topic: topic.clone(),
            label: label.clone(),
            commits: self.group.is_some(),
        };
        let consumer: StreamConsumer<LagContext> = config
            .create_with_context(context)
            .map_err(|e| Error::with_source(ErrorKind::Config, "cannot create the Kafka consumer", e))?;
        let consumer = Arc::new(consumer);
        let window = match self.window {
            None => {
                consumer
                    .subscribe(&[&topic])
                    .map_err(|e| Error::with_source(ErrorKind::Consume, format!("cannot subscribe to `{topic}`"), e))?;
                None
            }
            Some((start, end)) => {
                let (c, t) = (Arc::clone(&consumer), topic.clone());
                Some(blocking(move || replay::assign(&c, &t, partitions, start, end)).await??)
            }
        };
        if let Some(hash) = <T::Payload as Schema>::SCHEMA_HASH {
            self.bus.observer.schema(T::ID, <T::Payload as Schema>::FQDN, hash);
        }
        Ok(Consumer {
            max_deliveries: self.max_deliveries.unwrap_or(tier.max_deliveries.max(1)),
            nak_backoff: self
                .nak_backoff
                .unwrap_or_else(|| tier.nak_backoff_ms.iter().map(|ms| Duration::from_millis(*ms)).collect()),
            bus: self.bus,
            consumer,
            label,
            topic,
            filter,
            dlq_topic,
            dlq_subtopic,
            window,
            _topic: PhantomData,
        })
    }
}

/// A consumer-group member (or a replay) of topic `T`.
pub struct Consumer<T> {
    bus: Bus,
    consumer: Arc<StreamConsumer<LagContext>>,
    label: String,
    topic: String,
    /// The topic's subtopic pattern (`trade.*`): records of sibling topics
    /// in the same Kafka topic do not match.
    filter: String,
    max_deliveries: u32,
    nak_backoff: Vec<Duration>,
    dlq_topic: String,
    dlq_subtopic: String,
    window: Option<Window>,
    _topic: PhantomData<fn() -> T>,
}

impl<T: Topic> Consumer<T>
where
    T::Payload: Schema + prost::Message + Default,
{
    /// Handles every record until an error stops the consumer (or a
    /// replay window ends).
    pub async fn run<H>(&mut self, handler: H) -> Result<RunStats, Error>
    where
        H: AsyncFnMut(Delivery<T::Payload>) -> Result<(), HandlerError>,
    {
        self.run_loop(handler, std::future::pending(), None).await
    }

    /// [`Consumer::run`] that also ends when `stop` completes, after the
    /// record in hand is finished.
    pub async fn run_until<H, F>(&mut self, handler: H, stop: F) -> Result<RunStats, Error>
    where
        H: AsyncFnMut(Delivery<T::Payload>) -> Result<(), HandlerError>,
        F: Future<Output = ()>,
    {
        self.run_loop(handler, stop, None).await
    }

    /// [`Consumer::run`] that also ends once no record came for `idle`:
    /// for batch jobs and tests.
    ///
    /// `idle` counts only while the consumer holds partitions. Joining
    /// the group takes a round of the group protocol (longer on a fresh
    /// broker, which first creates its offsets topic), and a record
    /// produced before the join would otherwise be missed by a short
    /// `idle`; a member the group hands no partition waits [`JOIN_WAIT`]
    /// and ends. Go's `Drain` and Python's `drain` follow the same rule.
    pub async fn drain<H>(&mut self, handler: H, idle: Duration) -> Result<RunStats, Error>
    where
        H: AsyncFnMut(Delivery<T::Payload>) -> Result<(), HandlerError>,
    {
        self.run_loop(handler, std::future::pending(), Some(idle)).await
    }

    /// The one loop behind `run`, `run_until` and `drain`; whatever ends
    /// it, the finished records are committed before it returns.
    async fn run_loop<H, F>(&mut self, mut handler: H, stop: F, idle: Option<Duration>) -> Result<RunStats, Error>
    where
        H: AsyncFnMut(Delivery<T::Payload>) -> Result<(), HandlerError>,
        F: Future<Output = ()>,
    {
        let mut stats = RunStats::default();
        let mut stop = std::pin::pin!(stop);
        let result = loop {
            let next = tokio::select! {
                biased;
                () = &mut stop => break Ok(()),
                r = self.next(idle) => r,
            };
            match next {
                Ok(Some(r)) => {
                    if let Err(e) = self.handle(r, &mut handler, &mut stats).await {
                        break Err(e);
                    }
                }
                Ok(None) => break Ok(()),
                Err(e) => break Err(e),
            }
        };
        self.commit().await;
        result.map(|()| stats)
    }

    async fn next(&mut self, idle: Option<Duration>) -> Result<Option<Received>, Error> {
        let started = tokio::time::Instant::now();
        loop {
            if self.window.as_ref().is_some_and(Window::is_done) {
                return Ok(None);
            }
            // A replay assigns its partitions itself; a group member holds
            // none until the group protocol hands them over.
            let joining = self.window.is_none()
                && idle.is_some()
                && self.consumer.assignment().map_or(true, |a| a.count() == 0)
                && started.elapsed() < JOIN_WAIT;
            let recv = async { self.consumer.recv().await.map(|m| Received::from(&m)) };
            let item = match idle {
                Some(d) => match tokio::time::timeout(d, recv).await {
                    Ok(item) => item,
                    Err(_) if joining => continue,
                    Err(_) => return Ok(None),
                },
                None => recv.await,
            };
            match item {
                Ok(r) => return Ok(Some(r)),
                // Broker connection changes and the like: the client
                // recovers by itself.
                Err(KafkaError::MessageConsumption(_)) => tokio::time::sleep(Duration::from_millis(50)).await,
                Err(e) => {
                    return Err(Error::with_source(ErrorKind::Consume, format!("consuming `{}` failed", self.topic), e))
                }
            }
        }
    }

    async fn handle<H>(&mut self, r: Received, handler: &mut H, stats: &mut RunStats) -> Result<(), Error>
    where
        H: AsyncFnMut(Delivery<T::Payload>) -> Result<(), HandlerError>,
    {
        if let Some(w) = &mut self.window {
            if w.admit(r.partition, r.offset, r.timestamp_ms) == Admit::Skip {
                return Ok(());
            }
        }
        let ours = r.subtopic().is_none_or(|s| subtopic_matches(&self.filter, s));
        if !ours {
            stats.skipped += 1;
            return self.finish(&r);
        }
        stats.received += 1;
        let raw = Arc::new(r);
        let decode_raw =
            |raw: &Received| envelope_pairs(&raw.headers).and_then(|p| decode::<T::Payload, _>(p, &raw.value));
        let (headers, body) = match decode_raw(&raw) {
            Ok(v) => v,
            Err(e) => {
                // A poison pill: no retry can fix its bytes.
                stats.decode_failures += 1;
                self.bus.observer.decode_failed(T::ID, e.kind());
                return self.give_up(&raw, &e.dlq_reason(), stats).await;
            }
        };
        if let Some(ms) = latency_ms(&headers) {
            self.bus.observer.delivery_latency(T::ID, ms);
        }
        let mut decoded = Some((headers, body));
        let mut attempt = 1u32;
        loop {
            // Decoding is deterministic: a retry decodes the same bytes
            // again rather than keeping a copy of every payload.
            let (headers, body) = match decoded.take() {
                Some(v) => v,
                None => decode_raw(&raw).map_err(|e: EnvelopeError| Error::from(e))?,
            };
            let subject = format!("{}.{}", raw.topic, raw.subtopic().unwrap_or_default());
            let info = DeliveryInfo {
                topic: raw.topic.clone(),
                subject,
                partition: raw.partition,
                offset: raw.offset,
                timestamp_ms: raw.timestamp_ms,
                attempt,
                retry_count: attempt - 1,
            };
            match handler(Delivery { headers, body, info, raw: Arc::clone(&raw) }).await {
                Ok(()) => {
                    self.finish(&raw)?;
                    stats.consumed += 1;
                    self.bus.observer.consumed(T::ID, &self.label);
                    return Ok(());
                }
                Err(e) if e.is_permanent() || attempt >= self.max_deliveries => {
                    return self.give_up(&raw, &e.dlq_reason(attempt >= self.max_deliveries), stats).await;
                }
                Err(e) => {
                    stats.retried += 1;
                    self.bus.observer.retried(T::ID, e.kind());
                    let i = (attempt as usize - 1).min(self.nak_backoff.len().saturating_sub(1));
                    tokio::time::sleep(self.nak_backoff.get(i).copied().unwrap_or_default()).await;
                    attempt += 1;
                }
            }
        }
    }

    /// A record this consumer cannot handle: dead-lettered (a group) and
    /// then finished, or counted as failed (a replay).
    async fn give_up(&self, raw: &Received, reason: &str, stats: &mut RunStats) -> Result<(), Error> {
        if self.window.is_some() {
            stats.failed += 1;
            return Ok(());
        }
        let key = format!("{} {}", self.dlq_subtopic, raw.header(names::PARTITION_KEY).unwrap_or(""));
        let headers = dead_letter(&raw.headers, reason);
        match self.bus.produce(&self.dlq_topic, key.as_bytes(), &raw.value, Some(headers), raw.timestamp_ms).await {
            Ok(_) => {
                stats.dead_lettered += 1;
                self.bus.observer.dead_lettered(T::ID, reason_label(reason));
                self.finish(raw)
            }
            Err(e) => Err(Error::with_source(
                ErrorKind::Dlq,
                format!(
                    "the dead letter of `{}` partition {} offset {} could not be stored in `{}`; its offset is not \
                     committed, so it comes back after a restart",
                    raw.topic, raw.partition, raw.offset, self.dlq_topic
                ),
                e,
            )),
        }
    }

    /// Marks a record finished: its offset + 1 is stored, and committed
    /// within a second (or on revocation and close). Replays store nothing.
    fn finish(&self, r: &Received) -> Result<(), Error> {
        if self.window.is_some() {
            return Ok(());
        }
        let mut tpl = TopicPartitionList::new();
        tpl.add_partition_offset(&r.topic, r.partition, Offset::Offset(r.offset + 1))
            .and_then(|()| self.consumer.store_offsets(&tpl))
            .map_err(|e| Error::with_source(ErrorKind::Consume, "cannot store the consumed offset", e))
    }
}

impl<T> Consumer<T> {
    /// Commits the finished records now (a group; nothing stored is not an
    /// error).
    async fn commit(&self) {
        if self.window.is_some() {
            return;
        }
        let c = Arc::clone(&self.consumer);
        let _ = blocking(move || c.commit_consumer_state(CommitMode::Sync)).await;
    }

    /// The Kafka topic consumed.
    pub fn topic(&self) -> &str {
        &self.topic
    }

    /// The Kafka topic dead letters go to (empty for a replay).
    pub fn dlq_topic(&self) -> &str {
        &self.dlq_topic
    }

    /// The underlying client, e.g. to read committed offsets.
    pub fn client(&self) -> &StreamConsumer<impl rdkafka::consumer::ConsumerContext> {
        &*self.consumer
    }
}

/// Whether `subtopic` matches `pattern` by NATS wildcard rules (`*` one
/// token, `>` one or more trailing tokens).
fn subtopic_matches(pattern: &str, subtopic: &str) -> bool {
    let mut p = pattern.split('.');
    let mut s = subtopic.split('.');
    loop {
        match (p.next(), s.next()) {
            (Some(">"), Some(_)) => return true,
            (Some("*"), Some(_)) => {}
            (Some(a), Some(b)) if a == b => {}
            (None, None) => return true,
            _ => return false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::subtopic_matches;

    #[test]
    fn subtopics_match_their_topic_pattern_only() {
        assert!(subtopic_matches("trade.*", "trade.MSFT"));
        assert!(!subtopic_matches("trade.*", "quote.MSFT"));
        assert!(!subtopic_matches("trade.*", "trade.MSFT.X"));
        assert!(subtopic_matches("*.*", "XNAS.AAPL"));
        assert!(subtopic_matches("requests", "requests"));
        assert!(subtopic_matches(">", "a.b"));
        assert!(!subtopic_matches("requests", "requests2"));
    }
}
