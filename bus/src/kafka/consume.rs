//! Typed consumer groups: decode with the envelope rules, retry in
//! process (Kafka has no nak), dead-letter after the bound or at once for
//! poison pills, and store a record's offset only once it is finished,
//! so a consumer killed before its commit redelivers (at-least-once).

use std::future::Future;
use std::marker::PhantomData;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use rdkafka::consumer::StreamConsumer;

use super::headers::RawHeaders;
use super::member::{Member, Received, RouteCore, Routes};
use super::{Bus, Error, RouteOptions};
use crate::handler::{Body, HandlerError};
use crate::headers::Headers;
use crate::schema::Schema;
use crate::topic::Topic;

/// How long [`Consumer::drain`] waits for the group to hand the consumer
/// its partitions before its `idle` starts counting anyway.
pub const JOIN_WAIT: Duration = Duration::from_secs(30);

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
    pub(super) fn new(headers: Headers, body: Body<P>, info: DeliveryInfo, raw: Arc<Received>) -> Self {
        Delivery { headers, body, info, raw }
    }

    /// The received record headers, in received order (null values as
    /// `None`).
    pub fn raw_headers(&self) -> &RawHeaders {
        &self.raw.headers
    }

    /// The received value bytes, untouched (still gzipped if they were).
    pub fn raw_payload(&self) -> &[u8] {
        self.raw.value()
    }

    /// The record key bytes.
    pub fn key(&self) -> Option<&[u8]> {
        self.raw.key()
    }

    /// Shorthand for `info.retry_count`.
    pub fn retry_count(&self) -> u32 {
        self.info.retry_count
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
    options: RouteOptions,
    _topic: PhantomData<fn() -> T>,
}

impl<T: Topic> ConsumerBuilder<T> {
    pub(super) fn new(bus: Bus, group: Option<String>) -> Self {
        ConsumerBuilder {
            bus,
            group,
            start: Start::Earliest,
            window: None,
            options: RouteOptions::default(),
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
        self.options = self.options.max_deliveries(n);
        self
    }

    /// Delays between attempts, the last repeating (default: the tier's
    /// nak backoff).
    pub fn nak_backoff(mut self, delays: Vec<Duration>) -> Self {
        self.options = self.options.nak_backoff(delays);
        self
    }

    /// Creates the client and subscribes (a group) or assigns the window's
    /// partitions (a replay). The topic must exist: `no_topic` otherwise.
    pub async fn build(self) -> Result<Consumer<T>, Error> {
        let core = RouteCore::of::<T>(&self.bus, self.options, self.window.is_none())?;
        let member = Member::connect(self.bus, self.group, self.start, vec![core], self.window).await?;
        Ok(Consumer { member, _topic: PhantomData })
    }
}

/// A consumer-group member (or a replay) of topic `T`: a member with one
/// route, whose handler is given to each run.
pub struct Consumer<T> {
    member: Member,
    _topic: PhantomData<fn() -> T>,
}

/// The one route of a [`Consumer`], for the duration of a run.
struct One<T, H> {
    handler: H,
    _topic: PhantomData<fn() -> T>,
}

impl<T: Topic, H> Routes for One<T, H>
where
    T::Payload: Schema + prost::Message + Default,
    H: AsyncFnMut(Delivery<T::Payload>) -> Result<(), HandlerError>,
{
    const LEN: usize = 1;

    fn dispatch(
        &mut self,
        member: &Member,
        route: usize,
        r: Received,
        stats: &mut RunStats,
    ) -> impl Future<Output = Result<(), Error>> {
        member.process::<T::Payload, H>(route, r, &mut self.handler, stats)
    }
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

    async fn run_loop<H, F>(&mut self, handler: H, stop: F, idle: Option<Duration>) -> Result<RunStats, Error>
    where
        H: AsyncFnMut(Delivery<T::Payload>) -> Result<(), HandlerError>,
        F: Future<Output = ()>,
    {
        let mut one = One::<T, H> { handler, _topic: PhantomData };
        self.member.run(&mut one, stop, idle).await
    }
}

impl<T> Consumer<T> {
    /// The Kafka topic consumed.
    pub fn topic(&self) -> &str {
        self.member.kafka_topics.first().map_or("", String::as_str)
    }

    /// The Kafka topic dead letters go to (empty for a replay).
    pub fn dlq_topic(&self) -> &str {
        self.member.routes.first().map_or("", |r| r.dlq_topic.as_str())
    }

    /// The underlying client, e.g. to read committed offsets.
    pub fn client(&self) -> &StreamConsumer<impl rdkafka::consumer::ConsumerContext> {
        self.member.client()
    }
}
