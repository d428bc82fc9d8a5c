//! Typed durable pull consumers: decode with the envelope rules, ack after
//! the handler succeeds, nak with backoff on failure, dead-letter after the
//! bound or at once for poison pills, and never drop a record silently.

use std::future::Future;
use std::marker::PhantomData;
use std::sync::{Arc, OnceLock};
use std::time::{Duration, SystemTime};

use async_nats::jetstream::consumer::pull::{Config as PullConfig, Stream as Messages};
use async_nats::jetstream::consumer::{AckPolicy, DeliverPolicy, PullConsumer};
use async_nats::jetstream::AckKind;
use async_nats::HeaderMap;
use bytes::Bytes;
use futures_util::StreamExt;

use super::headers::{for_dead_letter, from_nats, sorted_pairs, to_nats};
use super::publish::publish_checked;
use super::{Bus, Error, ErrorKind, RetryPolicy};
use crate::envelope::Dlq;
use crate::handler::{Body, HandlerError};
use crate::headers::Headers;
use crate::schema::Schema;
use crate::topic::Topic;

/// Where a new consumer starts. An existing durable resumes where it was.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Start {
    /// From the first record the stream holds (the default).
    All,
    /// Only records stored after the consumer is created.
    New,
    /// From this stream sequence.
    Sequence(u64),
    /// From the first record the server stored at or after this time (the
    /// stream's own time index).
    Time(SystemTime),
}

/// Where a delivery sits in the stream and how often it came.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DeliveryInfo {
    pub subject: String,
    pub stream_sequence: u64,
    pub consumer_sequence: u64,
    /// Deliveries of this record to this consumer, this one included.
    pub delivered: u64,
    /// `delivered - 1`: how many times the handler was given this record
    /// before. JetStream counts it, so it survives consumer restarts.
    pub retry_count: u32,
    /// When the server stored the record.
    pub published: SystemTime,
    /// Records after this one still pending for the consumer.
    pub pending: u64,
}

/// One record handed to a handler.
#[derive(Clone, Debug)]
pub struct Delivery<P> {
    /// The validated envelope headers.
    pub headers: Headers,
    pub body: Body<P>,
    pub info: DeliveryInfo,
    raw: Arc<Raw>,
}

/// The received record. The owned header pairs are made on first use (a
/// dead letter, [`Delivery::raw_headers`]): decoding reads borrowed ones.
#[derive(Debug)]
struct Raw {
    map: Option<HeaderMap>,
    headers: OnceLock<Vec<(String, String)>>,
    payload: Bytes,
}

impl Raw {
    fn headers(&self) -> &[(String, String)] {
        self.headers.get_or_init(|| from_nats(self.map.as_ref()))
    }
}

impl<P> Delivery<P> {
    /// The received headers under their envelope names (other NATS headers
    /// under their own), contract order first.
    pub fn raw_headers(&self) -> &[(String, String)] {
        self.raw.headers()
    }

    /// The received body bytes, untouched (still gzipped if they were).
    pub fn raw_payload(&self) -> &Bytes {
        &self.raw.payload
    }

    /// Shorthand for `info.retry_count`.
    pub fn retry_count(&self) -> u32 {
        self.info.retry_count
    }
}

/// What a run did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct RunStats {
    /// Records received, redeliveries included.
    pub received: u64,
    pub acked: u64,
    pub naked: u64,
    pub dead_lettered: u64,
    pub decode_failures: u64,
    /// DLQ publishes that failed; those records were nak'ed, not acked.
    pub dlq_failures: u64,
}

/// Configures a [`Consumer`]; from [`Bus::consumer`] or [`Bus::replay`].
/// Defaults come from the topic's QoS tier in the registry.
#[must_use]
pub struct ConsumerBuilder<T> {
    bus: Bus,
    durable: Option<String>,
    filter: Option<String>,
    start: Start,
    until: Option<SystemTime>,
    max_deliveries: Option<u32>,
    ack_wait: Option<Duration>,
    nak_backoff: Option<Vec<Duration>>,
    batch: usize,
    dlq_retry: RetryPolicy,
    _topic: PhantomData<fn() -> T>,
}

impl<T: Topic> ConsumerBuilder<T> {
    pub(super) fn new(bus: Bus, durable: Option<String>) -> Self {
        ConsumerBuilder {
            bus,
            durable,
            filter: None,
            start: Start::All,
            until: None,
            max_deliveries: None,
            ack_wait: None,
            nak_backoff: None,
            batch: 256,
            dlq_retry: RetryPolicy::default(),
            _topic: PhantomData,
        }
    }

    /// A subscription pattern within the topic (e.g. from the generated
    /// `pattern_with`); the default is every subject of the topic.
    pub fn filter(mut self, pattern: impl Into<String>) -> Self {
        self.filter = Some(pattern.into());
        self
    }

    pub fn start(mut self, start: Start) -> Self {
        self.start = start;
        self
    }

    /// Stops at the first record the server stored at or after `end`
    /// (exclusive end of a `[start, end)` window), or when the consumer has
    /// nothing pending.
    pub fn until(mut self, end: SystemTime) -> Self {
        self.until = Some(end);
        self
    }

    /// Handler deliveries before the DLQ (default: the tier's).
    pub fn max_deliveries(mut self, n: u32) -> Self {
        self.max_deliveries = Some(n.max(1));
        self
    }

    pub fn ack_wait(mut self, d: Duration) -> Self {
        self.ack_wait = Some(d);
        self
    }

    /// Nak delays by retry, the last repeating (default: the tier's).
    pub fn nak_backoff(mut self, delays: Vec<Duration>) -> Self {
        self.nak_backoff = Some(delays);
        self
    }

    /// Records per pull request.
    pub fn batch(mut self, n: usize) -> Self {
        self.batch = n.max(1);
        self
    }

    /// Retries of the DLQ publish.
    pub fn dlq_retry(mut self, retry: RetryPolicy) -> Self {
        self.dlq_retry = retry;
        self
    }

    /// Creates the consumer on the server, or binds to the durable of that
    /// name if it exists.
    pub async fn build(self) -> Result<Consumer<T>, Error>
where {
        let (stream, tier) = self.bus.route::<T>()?;
        let prefix = format!("{}.{}.{}.{}.", T::NAMESPACE, self.bus.env(), T::DOMAIN, T::VERSION);
        let filter = match self.filter {
            Some(f) if f.starts_with(&prefix) && f.len() > prefix.len() => f,
            Some(f) => {
                return Err(Error::new(
                    ErrorKind::Config,
                    format!("filter `{f}` is not within topic `{}` (subjects `{prefix}…`)", T::ID),
                ))
            }
            None => T::pattern(self.bus.env_of::<T>()?)?,
        };
        let dlq_subject = self.bus.dlq_subject(T::DOMAIN)?;
        let dlq = self.bus.dlq().clone();
        let max_deliveries = self.max_deliveries.unwrap_or(tier.max_deliveries.max(1));
        let ack_wait = self.ack_wait.unwrap_or(Duration::from_millis(tier.ack_wait_ms));
        let nak_backoff = self
            .nak_backoff
            .unwrap_or_else(|| tier.nak_backoff_ms.iter().map(|ms| Duration::from_millis(*ms)).collect());
        let deliver_policy = match self.start {
            Start::All => DeliverPolicy::All,
            Start::New => DeliverPolicy::New,
            Start::Sequence(s) => DeliverPolicy::ByStartSequence { start_sequence: s.max(1) },
            Start::Time(t) => DeliverPolicy::ByStartTime { start_time: t.into() },
        };
        let config = PullConfig {
            durable_name: self.durable.clone(),
            deliver_policy,
            ack_policy: AckPolicy::Explicit,
            ack_wait,
            // Unbounded on the server: the client counts deliveries and
            // dead-letters, so a record is never dropped at a server-side
            // bound (e.g. when a DLQ publish failed and it was nak'ed).
            max_deliver: -1,
            filter_subject: filter.clone(),
            max_ack_pending: (self.batch as i64 * 4).max(1000),
            inactive_threshold: if self.durable.is_some() { Duration::ZERO } else { Duration::from_secs(300) },
            ..Default::default()
        };
        let js_stream = self.bus.js.get_stream(stream.name).await.map_err(|e| {
            Error::with_source(
                ErrorKind::NoStream,
                format!(
                    "stream `{}` does not exist: run `ampygen provision nats` for env `{}`",
                    stream.name,
                    self.bus.env()
                ),
                e,
            )
        })?;
        let consumer: PullConsumer = match &self.durable {
            Some(name) => js_stream.get_or_create_consumer(name, config).await,
            None => js_stream.create_consumer(config).await,
        }
        .map_err(|e| Error::with_source(ErrorKind::Consume, format!("cannot create the consumer of `{}`", T::ID), e))?;
        // get_or_create binds an existing durable whatever its filter. One
        // bound to another topic of the stream (trades vs quotes) would
        // silently read the wrong records, so refuse it as Go and Python do.
        if let Some(name) = &self.durable {
            let bound = &consumer.cached_info().config.filter_subject;
            if *bound != filter {
                return Err(Error::new(
                    ErrorKind::Config,
                    format!(
                        "durable `{name}` of stream `{}` already exists with filter `{bound}`, not `{filter}`: \
                         a durable serves one filter, so give each topic (and pattern) its own durable name",
                        stream.name
                    ),
                ));
            }
        }
        if let Some(hash) = <T::Payload as Schema>::SCHEMA_HASH {
            self.bus.observer.schema(T::ID, <T::Payload as Schema>::FQDN, hash);
        }
        let label = self.durable.clone().unwrap_or_else(|| "replay".to_owned());
        Ok(Consumer {
            bus: self.bus,
            consumer,
            messages: None,
            label,
            max_deliveries,
            nak_backoff,
            until: self.until,
            batch: self.batch,
            dlq,
            dlq_subject,
            dlq_retry: self.dlq_retry,
            done: false,
            _topic: PhantomData,
        })
    }
}

/// A durable (or replay) pull consumer of topic `T`.
pub struct Consumer<T> {
    bus: Bus,
    consumer: PullConsumer,
    messages: Option<Messages>,
    label: String,
    max_deliveries: u32,
    nak_backoff: Vec<Duration>,
    until: Option<SystemTime>,
    batch: usize,
    dlq: Dlq,
    dlq_subject: String,
    dlq_retry: RetryPolicy,
    done: bool,
    _topic: PhantomData<fn() -> T>,
}

enum Step {
    Handled,
    Idle,
    WindowEnd,
}

impl<T: Topic> Consumer<T>
where
    T::Payload: Schema + prost::Message + Default,
{
    /// Runs the handler on every record, forever (until an error that
    /// stops the consumer, such as its deletion).
    pub async fn run<H>(&mut self, handler: H) -> Result<RunStats, Error>
    where
        H: AsyncFnMut(Delivery<T::Payload>) -> Result<(), HandlerError>,
    {
        self.run_until(handler, std::future::pending()).await
    }

    /// Runs until `stop` completes (finishing the record in hand), or a
    /// replay window ends.
    pub async fn run_until<H, F>(&mut self, mut handler: H, stop: F) -> Result<RunStats, Error>
    where
        H: AsyncFnMut(Delivery<T::Payload>) -> Result<(), HandlerError>,
        F: Future<Output = ()>,
    {
        let mut stats = RunStats::default();
        let mut stop = std::pin::pin!(stop);
        loop {
            let msg = tokio::select! {
                biased;
                () = &mut stop => return Ok(stats),
                m = self.next(None) => m?,
            };
            if let Some(m) = msg {
                if let Step::WindowEnd = self.handle(m, &mut handler, &mut stats).await? {
                    return Ok(stats);
                }
            }
        }
    }

    /// Runs until no record arrives for `idle`, or a replay window ends:
    /// for batch jobs, replays and tests.
    pub async fn drain<H>(&mut self, mut handler: H, idle: Duration) -> Result<RunStats, Error>
    where
        H: AsyncFnMut(Delivery<T::Payload>) -> Result<(), HandlerError>,
    {
        let mut stats = RunStats::default();
        loop {
            let step = match self.next(Some(idle)).await? {
                None => Step::Idle,
                Some(m) => self.handle(m, &mut handler, &mut stats).await?,
            };
            match step {
                Step::Handled => {}
                Step::Idle | Step::WindowEnd => return Ok(stats),
            }
        }
    }

    async fn next(&mut self, idle: Option<Duration>) -> Result<Option<async_nats::jetstream::Message>, Error> {
        if self.done {
            return Ok(None);
        }
        loop {
            if self.messages.is_none() {
                let m = self
                    .consumer
                    .stream()
                    .max_messages_per_batch(self.batch)
                    .heartbeat(Duration::from_secs(5))
                    .expires(Duration::from_secs(30))
                    .messages()
                    .await
                    .map_err(|e| Error::with_source(ErrorKind::Consume, "cannot start pulling", e))?;
                self.messages = Some(m);
            }
            let Some(messages) = self.messages.as_mut() else { continue };
            let item = match idle {
                Some(d) => match tokio::time::timeout(d, messages.next()).await {
                    Ok(item) => item,
                    Err(_) => return Ok(None),
                },
                None => messages.next().await,
            };
            match item {
                Some(Ok(m)) => return Ok(Some(m)),
                Some(Err(e)) => {
                    use async_nats::jetstream::consumer::pull::MessagesErrorKind as K;
                    if matches!(e.kind(), K::ConsumerDeleted | K::PushBasedConsumer) {
                        return Err(Error::with_source(ErrorKind::Consume, "the consumer is gone", e));
                    }
                    // Heartbeats missed across a reconnect, pull errors:
                    // the stream recovers by itself.
                }
                None => self.messages = None,
            }
        }
    }

    async fn handle<H>(
        &mut self,
        mut msg: async_nats::jetstream::Message,
        handler: &mut H,
        stats: &mut RunStats,
    ) -> Result<Step, Error>
    where
        H: AsyncFnMut(Delivery<T::Payload>) -> Result<(), HandlerError>,
    {
        let info = {
            let i = msg.info().map_err(|e| Error::new(ErrorKind::Consume, format!("not a JetStream delivery: {e}")))?;
            DeliveryInfo {
                subject: msg.subject.to_string(),
                stream_sequence: i.stream_sequence,
                consumer_sequence: i.consumer_sequence,
                delivered: i.delivered.max(1) as u64,
                retry_count: u32::try_from(i.delivered.max(1) - 1).unwrap_or(u32::MAX),
                published: SystemTime::from(i.published),
                pending: i.pending,
            }
        };
        if self.until.is_some_and(|end| info.published >= end) {
            self.done = true;
            return Ok(Step::WindowEnd);
        }
        stats.received += 1;
        let last_in_window = self.until.is_some() && info.pending == 0;
        let raw = Arc::new(Raw {
            map: msg.message.headers.take(),
            headers: OnceLock::new(),
            payload: std::mem::take(&mut msg.message.payload),
        });
        // The same pairs, in the same order, as `from_nats`, borrowed.
        let sorted = sorted_pairs(raw.map.as_ref());
        let pairs = sorted.iter().map(|(_, k, v)| (*k, *v));
        let decoded = crate::handler::decode::<T::Payload, _>(pairs, &raw.payload);
        let (headers, body) = match decoded {
            Ok(v) => v,
            Err(e) => {
                // A poison pill: no retry can fix its bytes.
                stats.decode_failures += 1;
                self.bus.observer.decode_failed(T::ID, e.kind());
                self.dead_letter(&msg, &raw, &e.dlq_reason(), stats).await?;
                return Ok(self.after(last_in_window));
            }
        };
        if info.delivered == 1 {
            if let Some(ms) = crate::handler::latency_ms(&headers) {
                self.bus.observer.delivery_latency(T::ID, ms);
            }
        }
        if info.delivered > u64::from(self.max_deliveries) {
            // Already past the bound: an earlier DLQ publish failed, or the
            // process died mid-handler. Do not run the handler again.
            let reason =
                format!("max_deliveries: delivered {} times, the bound is {}", info.delivered, self.max_deliveries);
            self.dead_letter(&msg, &raw, &reason, stats).await?;
            return Ok(self.after(last_in_window));
        }
        let delivered = info.delivered;
        let retry_count = info.retry_count;
        let delivery = Delivery { headers, body, info, raw: Arc::clone(&raw) };
        match handler(delivery).await {
            Ok(()) => {
                msg.ack().await.map_err(|e| Error::new(ErrorKind::Consume, format!("ack failed: {e}")))?;
                stats.acked += 1;
                self.bus.observer.consumed(T::ID, &self.label);
            }
            Err(e) if e.is_permanent() || delivered >= u64::from(self.max_deliveries) => {
                let reason = e.dlq_reason(true);
                self.dead_letter(&msg, &raw, &reason, stats).await?;
            }
            Err(e) => {
                self.bus.observer.retried(T::ID, e.kind());
                self.nak(&msg, retry_count).await?;
                stats.naked += 1;
            }
        }
        Ok(self.after(last_in_window))
    }

    fn after(&mut self, last_in_window: bool) -> Step {
        if last_in_window {
            self.done = true;
            Step::WindowEnd
        } else {
            Step::Handled
        }
    }

    async fn nak(&self, msg: &async_nats::jetstream::Message, retry_count: u32) -> Result<(), Error> {
        let i = (retry_count as usize).min(self.nak_backoff.len().saturating_sub(1));
        let delay = self.nak_backoff.get(i).copied();
        msg.ack_with(AckKind::Nak(delay)).await.map_err(|e| Error::new(ErrorKind::Consume, format!("nak failed: {e}")))
    }

    /// Publishes the record with its received headers plus `dlq_reason`
    /// to the DLQ, awaits the ack, then terminates it. If the DLQ publish
    /// fails, the record is nak'ed and comes back: never acked unstored.
    async fn dead_letter(
        &self,
        msg: &async_nats::jetstream::Message,
        raw: &Raw,
        reason: &str,
        stats: &mut RunStats,
    ) -> Result<(), Error> {
        let letter = self.dlq.dead_letter(T::DOMAIN, for_dead_letter(raw.headers()), Vec::new(), reason)?;
        let headers = to_nats(letter.headers.iter().map(|(k, v)| (k.as_str(), v.as_str())))?;
        match publish_checked(&self.bus, &self.dlq_subject, headers, raw.payload.clone(), &self.dlq_retry).await {
            Ok(_) => {
                msg.ack_with(AckKind::Term)
                    .await
                    .map_err(|e| Error::new(ErrorKind::Consume, format!("term failed: {e}")))?;
                stats.dead_lettered += 1;
                self.bus.observer.dead_lettered(T::ID, crate::handler::reason_label(reason));
                Ok(())
            }
            Err(_) => {
                stats.dlq_failures += 1;
                let delay = self.nak_backoff.last().copied();
                msg.ack_with(AckKind::Nak(delay))
                    .await
                    .map_err(|e| Error::new(ErrorKind::Dlq, format!("the DLQ publish failed and so did the nak: {e}")))
            }
        }
    }
}

impl<T> Consumer<T> {
    /// The consumer's name on the server.
    pub fn name(&self) -> &str {
        &self.consumer.cached_info().name
    }

    /// The subject dead letters of this consumer go to.
    pub fn dlq_subject(&self) -> &str {
        &self.dlq_subject
    }
}
