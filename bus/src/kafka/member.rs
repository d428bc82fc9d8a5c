//! One consumer client and the routes it feeds: the processing every
//! typed consumer shares. A single-topic [`Consumer`](super::Consumer) is a
//! member with one route; a [`Group`](super::Group) a member with several.
//! Keeping one loop means retries, dead letters, offset storing and the
//! join rule of `drain` cannot drift apart between the two.

use std::future::Future;
use std::ptr::NonNull;
use std::sync::{Arc, OnceLock};
use std::task::Poll;
use std::time::{Duration, SystemTime};

use rdkafka::consumer::{CommitMode, Consumer as _, StreamConsumer};
use rdkafka::error::{IsError as _, KafkaError};
use rdkafka::message::BorrowedMessage;
use rdkafka::{Message as _, Offset, TopicPartitionList};

use super::consume::{Delivery, DeliveryInfo, RunStats, Start, JOIN_WAIT};
use super::headers::{dead_letter, received, with_envelope_pairs, RawHeaders};
use super::metrics::{LagContext, STATS_INTERVAL_MS};
use super::replay::{self, Admit, Window};
use super::{blocking, Bus, Error, ErrorKind, RouteOptions};
use crate::envelope::EnvelopeError;
use crate::handler::{decode, latency_ms, reason_label, HandlerError};
use crate::headers::names;
use crate::schema::Schema;
use crate::topic::Topic;

const FETCH_WAIT_MAX_MS: &str = "100";

/// A record copied out of the client, so that no librdkafka handle is
/// held across the handler's awaits.
#[derive(Debug)]
pub struct Received {
    /// The Kafka topic, shared with every record of it.
    pub(super) topic: Arc<str>,
    /// Its position in the member's Kafka topics, if it is one of them.
    slot: Option<usize>,
    pub(super) partition: i32,
    pub(super) offset: i64,
    key: Option<Vec<u8>>,
    value: Vec<u8>,
    pub(super) headers: RawHeaders,
    pub(super) timestamp_ms: Option<i64>,
}

impl Received {
    fn from(m: &BorrowedMessage<'_>, topics: &[TopicSlot]) -> Received {
        let name = m.topic();
        let slot = topics.iter().position(|t| &*t.name == name);
        Received {
            topic: slot.and_then(|i| topics.get(i)).map_or_else(|| Arc::from(name), |t| Arc::clone(&t.name)),
            slot,
            partition: m.partition(),
            offset: m.offset(),
            key: m.key().map(<[u8]>::to_vec),
            value: m.payload().map(<[u8]>::to_vec).unwrap_or_default(),
            headers: received(m),
            timestamp_ms: m.timestamp().to_millis(),
        }
    }

    /// The record key bytes.
    pub(super) fn key(&self) -> Option<&[u8]> {
        self.key.as_deref()
    }

    /// The record value bytes (empty for a null value).
    pub(super) fn value(&self) -> &[u8] {
        &self.value
    }

    /// The subtopic part of the key (`{subtopic} {partition_key}`).
    fn subtopic(&self) -> Option<&str> {
        ampy_canonical::kafka::key_subtopic(self.key())
    }

    fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name)
    }
}

/// What one registry topic of a member needs to process its records,
/// resolved from the registry layout before the client exists.
#[derive(Debug)]
pub(super) struct RouteCore {
    /// The topic id, the metric label: `ticks.v1.trade`.
    pub id: &'static str,
    pub kafka_topic: String,
    /// The topic's subtopic pattern (`trade.*`): records of sibling topics
    /// in the same Kafka topic do not match.
    filter: String,
    max_deliveries: u32,
    nak_backoff: Vec<Duration>,
    pub dlq_topic: String,
    dlq_subtopic: String,
    schema: Option<(&'static str, &'static str)>,
}

impl RouteCore {
    /// Resolves topic `T`: the tier's retry defaults unless overridden,
    /// and its DLQ route unless `dead_letters` is off (a replay).
    pub fn of<T: Topic>(bus: &Bus, options: RouteOptions, dead_letters: bool) -> Result<RouteCore, Error> {
        let (_, tier) = bus.route::<T>()?;
        let env = bus.env_of::<T>()?;
        let kafka_topic = bus.kafka_topic::<T>();
        let pattern = T::pattern(env)?;
        let filter = pattern.strip_prefix(&format!("{kafka_topic}.")).unwrap_or(">").to_owned();
        let (dlq_topic, dlq_subtopic) = match dead_letters {
            true => bus.dlq_route(T::DOMAIN)?,
            false => (String::new(), String::new()),
        };
        Ok(RouteCore {
            id: T::ID,
            kafka_topic,
            filter,
            max_deliveries: options.max_deliveries.unwrap_or(tier.max_deliveries).max(1),
            nak_backoff: options
                .nak_backoff
                .unwrap_or_else(|| tier.nak_backoff_ms.iter().map(|ms| Duration::from_millis(*ms)).collect()),
            dlq_topic,
            dlq_subtopic,
            schema: <T::Payload as Schema>::SCHEMA_HASH.map(|h| (<T::Payload as Schema>::FQDN, h)),
        })
    }

    /// Whether a record of this route's Kafka topic with `subtopic` (none:
    /// no readable key) is this route's.
    fn takes(&self, topic: &str, subtopic: Option<&str>) -> bool {
        self.kafka_topic == topic && subtopic.is_none_or(|s| subtopic_matches(&self.filter, s))
    }
}

/// Hands a record to the typed handler of route `route`. Implemented by
/// the route list a [`GroupBuilder`](super::GroupBuilder) builds (and by
/// the single-topic consumer's one handler); it cannot be implemented
/// outside this crate, because its arguments cannot be named there.
pub trait Routes {
    /// How many routes the list holds.
    #[doc(hidden)]
    const LEN: usize;

    #[doc(hidden)]
    fn dispatch(
        &mut self,
        member: &Member,
        route: usize,
        r: Received,
        stats: &mut RunStats,
    ) -> impl Future<Output = Result<(), Error>>;
}

/// One Kafka topic of a member: its name, shared by its records, and the
/// client's handle of it, made when its first record is finished.
struct TopicSlot {
    name: Arc<str>,
    handle: OnceLock<Option<TopicHandle>>,
}

/// A librdkafka topic handle of the member's client: stores a record's
/// offset with one call, where a partition list per record takes several
/// allocations and the client's write lock.
struct TopicHandle(NonNull<rdkafka::bindings::rd_kafka_topic_t>);

// SAFETY: librdkafka's topic handles are thread safe (its documentation;
// rdkafka's own NativeTopic is Send and Sync).
unsafe impl Send for TopicHandle {}
unsafe impl Sync for TopicHandle {}

impl TopicHandle {
    fn new(client: &StreamConsumer<LagContext>, topic: &str) -> Option<TopicHandle> {
        let name = std::ffi::CString::new(topic).ok()?;
        // SAFETY: the client is live; a null topic configuration takes the
        // client's defaults. The handle is destroyed before the client
        // (Member's field order).
        let ptr = unsafe {
            rdkafka::bindings::rd_kafka_topic_new(client.client().native_ptr(), name.as_ptr(), std::ptr::null_mut())
        };
        NonNull::new(ptr).map(TopicHandle)
    }
}

impl Drop for TopicHandle {
    fn drop(&mut self) {
        // SAFETY: the handle came from rd_kafka_topic_new and is dropped once.
        unsafe { rdkafka::bindings::rd_kafka_topic_destroy(self.0.as_ptr()) }
    }
}

/// A consumer client (a group member, or a replay's assignment) and its
/// routes, in the order they were added.
pub struct Member {
    /// Declared before `consumer`: its handles are destroyed before the
    /// client is.
    topics: Vec<TopicSlot>,
    bus: Bus,
    consumer: Arc<StreamConsumer<LagContext>>,
    label: String,
    pub(super) routes: Vec<RouteCore>,
    /// The distinct Kafka topics of the routes, in route order.
    pub(super) kafka_topics: Vec<String>,
    window: Option<Window>,
}

impl Member {
    /// Creates the client and subscribes to every Kafka topic of `routes`
    /// (a group), or assigns the window's partitions of the first route's
    /// (a replay, `group` None). Every Kafka topic must exist: `no_topic`.
    pub(super) async fn connect(
        bus: Bus,
        group: Option<String>,
        start: Start,
        routes: Vec<RouteCore>,
        window: Option<(SystemTime, SystemTime)>,
    ) -> Result<Member, Error> {
        let mut kafka_topics: Vec<String> = Vec::new();
        for r in &routes {
            if !kafka_topics.contains(&r.kafka_topic) {
                kafka_topics.push(r.kafka_topic.clone());
            }
        }
        let mut partitions = Vec::with_capacity(kafka_topics.len());
        for t in &kafka_topics {
            partitions.push(bus.partition_count(t, true).await?);
        }
        let label = group.clone().unwrap_or_else(|| "replay".to_owned());
        let mut config = (*bus.config).clone();
        // A broker answers a fetch of empty partitions after this wait:
        // Go's FetchMaxWait and Python's consumer use the same 100 ms, so
        // a record on a partition whose fetch starts later is not held
        // behind librdkafka's default 500 ms.
        config
            .set("statistics.interval.ms", STATS_INTERVAL_MS)
            .set("enable.partition.eof", "false")
            .set("fetch.wait.max.ms", FETCH_WAIT_MAX_MS);
        match &group {
            Some(group) => config
                .set("group.id", group)
                .set("enable.auto.commit", "true")
                .set("enable.auto.offset.store", "false")
                .set("auto.commit.interval.ms", "1000")
                .set("auto.offset.reset", if start == Start::Latest { "latest" } else { "earliest" }),
            // Never joins or commits: the id only satisfies the client.
            None => config
                .set("group.id", format!("ampy-replay-{}", crate::headers::MessageId::new_v7()))
                .set("enable.auto.commit", "false")
                .set("enable.auto.offset.store", "false"),
        };
        let context = LagContext {
            observer: Arc::clone(&bus.observer),
            lags: routes.iter().map(|r| (r.id, r.kafka_topic.clone())).collect(),
            label: label.clone(),
            commits: group.is_some(),
        };
        let consumer: StreamConsumer<LagContext> = config
            .create_with_context(context)
            .map_err(|e| Error::with_source(ErrorKind::Config, "cannot create the Kafka consumer", e))?;
        let consumer = Arc::new(consumer);
        let window = match (window, kafka_topics.first(), partitions.first()) {
            (None, _, _) => {
                let names: Vec<&str> = kafka_topics.iter().map(String::as_str).collect();
                consumer.subscribe(&names).map_err(|e| {
                    Error::with_source(ErrorKind::Consume, format!("cannot subscribe to `{}`", names.join("`, `")), e)
                })?;
                None
            }
            (Some((start, end)), Some(topic), Some(&n)) => {
                let (c, t) = (Arc::clone(&consumer), topic.clone());
                Some(blocking(move || replay::assign(&c, &t, n, start, end)).await??)
            }
            (Some(_), _, _) => return Err(Error::new(ErrorKind::Config, "a replay needs a topic")),
        };
        for r in &routes {
            if let Some((fqdn, hash)) = r.schema {
                bus.observer.schema(r.id, fqdn, hash);
            }
        }
        let topics =
            kafka_topics.iter().map(|t| TopicSlot { name: Arc::from(t.as_str()), handle: OnceLock::new() }).collect();
        Ok(Member { topics, bus, consumer, label, routes, kafka_topics, window })
    }

    /// The one loop behind every `run`, `run_until` and `drain`; whatever
    /// ends it, the finished records are committed before it returns.
    pub(super) async fn run<R: Routes, F: Future<Output = ()>>(
        &mut self,
        routes: &mut R,
        stop: F,
        idle: Option<Duration>,
    ) -> Result<RunStats, Error> {
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
                    if let Err(e) = self.handle(r, routes, &mut stats).await {
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

    /// Whether an idle wait that began at `started` is still waiting for
    /// the group to hand this member its partitions: a replay assigns its
    /// partitions itself, and a group member holds none until the group
    /// protocol hands them over. Asked only when the wait times out, never
    /// per record: librdkafka answers `assignment()` from its own thread.
    fn joining(&self, started: tokio::time::Instant) -> bool {
        self.window.is_none()
            && started.elapsed() < JOIN_WAIT
            && self.consumer.assignment().map_or(true, |a| a.count() == 0)
    }

    async fn next(&self, idle: Option<Duration>) -> Result<Option<Received>, Error> {
        // When the first wait began: read only once a poll finds no record
        // (a record already waiting needs neither the clock nor a timer).
        let mut started = None;
        loop {
            if self.window.as_ref().is_some_and(Window::is_done) {
                return Ok(None);
            }
            let mut recv =
                std::pin::pin!(async { self.consumer.recv().await.map(|m| Received::from(&m, &self.topics)) });
            let item = match idle {
                Some(d) => match std::future::poll_fn(|cx| Poll::Ready(recv.as_mut().poll(cx))).await {
                    Poll::Ready(item) => item,
                    Poll::Pending => {
                        let now = tokio::time::Instant::now();
                        let started = *started.get_or_insert(now);
                        match tokio::time::timeout_at(deadline(now, d), recv).await {
                            Ok(item) => item,
                            Err(_) if self.joining(started) => continue,
                            Err(_) => return Ok(None),
                        }
                    }
                },
                None => recv.await,
            };
            match item {
                Ok(r) => return Ok(Some(r)),
                // Broker connection changes and the like: the client
                // recovers by itself.
                Err(KafkaError::MessageConsumption(_)) => tokio::time::sleep(Duration::from_millis(50)).await,
                Err(e) => {
                    let topics = self.kafka_topics.join("`, `");
                    return Err(Error::with_source(ErrorKind::Consume, format!("consuming `{topics}` failed"), e));
                }
            }
        }
    }

    /// Routes a record: to the first route of its Kafka topic whose
    /// subtopic pattern matches its key's subtopic (the first route of the
    /// Kafka topic when the key has none); a record no route takes belongs
    /// to a sibling topic nobody here asked for and is finished unhandled.
    async fn handle<R: Routes>(&mut self, r: Received, routes: &mut R, stats: &mut RunStats) -> Result<(), Error> {
        if let Some(w) = &mut self.window {
            if w.admit(r.partition, r.offset, r.timestamp_ms) == Admit::Skip {
                return Ok(());
            }
        }
        let Some(route) = route_of(&self.routes, &r.topic, r.subtopic()) else {
            stats.skipped += 1;
            return self.finish(&r);
        };
        stats.received += 1;
        routes.dispatch(self, route, r, stats).await
    }

    /// Decodes a record of route `route` as `P` and runs `handler` on it
    /// with the route's retries; a poison pill or a record out of
    /// attempts is given up (dead-lettered, or counted by a replay).
    pub(super) async fn process<P, H>(
        &self,
        route: usize,
        r: Received,
        handler: &mut H,
        stats: &mut RunStats,
    ) -> Result<(), Error>
    where
        P: Schema + prost::Message + Default,
        H: AsyncFnMut(Delivery<P>) -> Result<(), HandlerError>,
    {
        let Some(core) = self.routes.get(route) else {
            return Err(Error::new(ErrorKind::Consume, format!("no route {route} in this consumer")));
        };
        let raw = Arc::new(r);
        let decode_raw = |raw: &Received| {
            with_envelope_pairs(&raw.headers, |p| decode::<P, _>(p.iter().copied(), raw.value())).and_then(|r| r)
        };
        let (mut headers, mut body) = match decode_raw(&raw) {
            Ok(v) => v,
            Err(e) => {
                // A poison pill: no retry can fix its bytes.
                stats.decode_failures += 1;
                self.bus.observer.decode_failed(core.id, e.kind());
                return self.give_up(core, &raw, &e.dlq_reason(), stats).await;
            }
        };
        if let Some(ms) = latency_ms(&headers) {
            self.bus.observer.delivery_latency(core.id, ms);
        }
        let mut attempt = 1u32;
        loop {
            let subtopic = raw.subtopic().unwrap_or_default();
            let mut subject = String::with_capacity(raw.topic.len() + 1 + subtopic.len());
            subject.push_str(&raw.topic);
            subject.push('.');
            subject.push_str(subtopic);
            let info = DeliveryInfo {
                topic: raw.topic.to_string(),
                subject,
                partition: raw.partition,
                offset: raw.offset,
                timestamp_ms: raw.timestamp_ms,
                attempt,
                retry_count: attempt - 1,
            };
            match handler(Delivery::new(headers, body, info, Arc::clone(&raw))).await {
                Ok(()) => {
                    self.finish(&raw)?;
                    stats.consumed += 1;
                    self.bus.observer.consumed(core.id, &self.label);
                    return Ok(());
                }
                Err(e) if e.is_permanent() || attempt >= core.max_deliveries => {
                    return self.give_up(core, &raw, &e.dlq_reason(attempt >= core.max_deliveries), stats).await;
                }
                Err(e) => {
                    stats.retried += 1;
                    self.bus.observer.retried(core.id, e.kind());
                    let i = (attempt as usize - 1).min(core.nak_backoff.len().saturating_sub(1));
                    tokio::time::sleep(core.nak_backoff.get(i).copied().unwrap_or_default()).await;
                    attempt += 1;
                    // Decoding is deterministic: a retry decodes the same
                    // bytes again rather than keeping a copy of every
                    // payload.
                    (headers, body) = decode_raw(&raw).map_err(|e: EnvelopeError| Error::from(e))?;
                }
            }
        }
    }

    /// A record a route cannot handle: dead-lettered to the route's DLQ
    /// (a group) and then finished, or counted as failed (a replay).
    async fn give_up(&self, core: &RouteCore, raw: &Received, reason: &str, stats: &mut RunStats) -> Result<(), Error> {
        if self.window.is_some() {
            stats.failed += 1;
            return Ok(());
        }
        let key = format!("{} {}", core.dlq_subtopic, raw.header(names::PARTITION_KEY).unwrap_or(""));
        let headers = dead_letter(&raw.headers, reason);
        match self.bus.produce(&core.dlq_topic, key.as_bytes(), raw.value(), Some(headers), raw.timestamp_ms).await {
            Ok(_) => {
                stats.dead_lettered += 1;
                self.bus.observer.dead_lettered(core.id, reason_label(reason));
                self.finish(raw)
            }
            Err(e) => Err(Error::with_source(
                ErrorKind::Dlq,
                format!(
                    "the dead letter of `{}` partition {} offset {} could not be stored in `{}`; its offset is not \
                     committed, so it comes back after a restart",
                    raw.topic, raw.partition, raw.offset, core.dlq_topic
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
        let handle = r
            .slot
            .and_then(|i| self.topics.get(i))
            .and_then(|t| t.handle.get_or_init(|| TopicHandle::new(&self.consumer, &t.name)).as_ref());
        let stored = match handle {
            Some(h) => {
                // SAFETY: a live handle of this client. librdkafka stores
                // `offset + 1`, the next record to read, as the partition
                // list below does.
                let err = unsafe { rdkafka::bindings::rd_kafka_offset_store(h.0.as_ptr(), r.partition, r.offset) };
                if err.is_error() {
                    Err(KafkaError::StoreOffset(err.into()))
                } else {
                    Ok(())
                }
            }
            None => {
                let mut tpl = TopicPartitionList::new();
                tpl.add_partition_offset(&r.topic, r.partition, Offset::Offset(r.offset + 1))
                    .and_then(|()| self.consumer.store_offsets(&tpl))
            }
        };
        stored.map_err(|e| Error::with_source(ErrorKind::Consume, "cannot store the consumed offset", e))
    }

    /// Commits the finished records now (a group; nothing stored is not an
    /// error).
    async fn commit(&self) {
        if self.window.is_some() {
            return;
        }
        let c = Arc::clone(&self.consumer);
        let _ = blocking(move || c.commit_consumer_state(CommitMode::Sync)).await;
    }

    /// The underlying client.
    pub(super) fn client(&self) -> &StreamConsumer<LagContext> {
        &self.consumer
    }
}

/// `d` after `from`, or (as `tokio::time::timeout`) some 30 years when
/// that is past the clock's range.
fn deadline(from: tokio::time::Instant, d: Duration) -> tokio::time::Instant {
    from.checked_add(d).unwrap_or_else(|| from + Duration::from_secs(86400 * 365 * 30))
}

/// The first route of Kafka topic `topic` that takes a record with
/// `subtopic`, in the order the routes were added.
fn route_of(routes: &[RouteCore], topic: &str, subtopic: Option<&str>) -> Option<usize> {
    routes.iter().position(|c| c.takes(topic, subtopic))
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
    use super::{route_of, subtopic_matches, RouteCore};

    fn core(id: &'static str, kafka_topic: &str, filter: &str) -> RouteCore {
        RouteCore {
            id,
            kafka_topic: kafka_topic.to_owned(),
            filter: filter.to_owned(),
            max_deliveries: 1,
            nak_backoff: Vec::new(),
            dlq_topic: String::new(),
            dlq_subtopic: String::new(),
            schema: None,
        }
    }

    #[test]
    fn a_record_goes_to_the_first_route_of_its_kafka_topic_that_matches_its_subtopic() {
        let (ticks, bars) = ("ampy.dev.ticks.v1", "ampy.dev.bars.v1");
        let routes = [
            core("bars.v1.bars", bars, "*.*"),
            core("ticks.v1.trade", ticks, "trade.*"),
            core("ticks.v1.quote", ticks, "quote.*"),
            core("ticks.v1.any", ticks, "*.*"),
        ];
        assert_eq!(route_of(&routes, ticks, Some("quote.AAPL")), Some(2));
        assert_eq!(route_of(&routes, ticks, Some("trade.AAPL")), Some(1), "the first match, not the later `*.*`");
        assert_eq!(route_of(&routes, ticks, Some("other.AAPL")), Some(3));
        assert_eq!(route_of(&routes, ticks, None), Some(1), "no subtopic: the first route of the Kafka topic");
        assert_eq!(route_of(&routes, bars, Some("XNAS.AAPL")), Some(0));
        assert_eq!(route_of(&routes[..3], ticks, Some("other.AAPL")), None, "no route takes it: skipped");
        assert_eq!(route_of(&routes, "ampy.dev.fx.v1", None), None);
    }

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
