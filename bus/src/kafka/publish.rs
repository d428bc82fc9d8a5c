//! Typed publishing: Kafka topic, record key and schema headers from the
//! generated bindings, the one header mapping, the size pre-check, the
//! partition by Java's murmur2 rule, and awaited delivery reports.

use std::marker::PhantomData;

use rdkafka::message::{Header, OwnedHeaders};

use super::headers::{record_size, to_kafka};
use super::{settle, Bus, Error, ErrorKind, Outgoing};
use crate::envelope::{BlobPointer, Envelope, Record};
use crate::headers::{names, MessageId};
use crate::key::PartitionKey;
use crate::schema::Schema;
use crate::topic::{Subject, Topic};

/// Kafka's broker default `max.message.bytes` (1 MiB + 12 bytes of batch
/// overhead): the bound records are checked against before sending.
pub const DEFAULT_MAX_MESSAGE_BYTES: usize = 1_048_588;

/// The record timestamp of a `produced_at` value, in milliseconds.
fn timestamp_ms(produced_at: &str) -> Option<i64> {
    crate::headers::parse_produced_at(produced_at).map(|(s, n)| s * 1000 + i64::from(n / 1_000_000))
}

/// What the broker acknowledged.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Published {
    /// The NATS-form subject; its Kafka topic and key are what was sent.
    pub subject: Subject,
    pub message_id: MessageId,
    /// The Kafka topic, `ampy.dev.bars.v1`.
    pub topic: String,
    pub partition: i32,
    pub offset: i64,
}

/// Configures a [`Publisher`]; from [`Bus::publisher`].
#[must_use]
pub struct PublisherBuilder<T> {
    bus: Bus,
    identity: crate::runtime::Identity,
    max_message_bytes: usize,
    _topic: PhantomData<fn() -> T>,
}

impl<T: Topic> PublisherBuilder<T> {
    pub(super) fn new(bus: Bus) -> Self {
        PublisherBuilder {
            bus,
            identity: Default::default(),
            max_message_bytes: DEFAULT_MAX_MESSAGE_BYTES,
            _topic: PhantomData,
        }
    }

    crate::runtime::identity_setters!();

    /// The topic's `max.message.bytes` if it is not the broker default.
    pub fn max_message_bytes(mut self, n: usize) -> Self {
        self.max_message_bytes = n;
        self
    }

    /// Checks the topic is in this env's layout.
    pub fn build(self) -> Result<Publisher<T>, Error> {
        self.bus.route::<T>()?;
        self.bus.env_of::<T>()?;
        let id = self.identity.resolve()?;
        if let Some(hash) = <T::Payload as Schema>::SCHEMA_HASH {
            self.bus.observer.schema(T::ID, <T::Payload as Schema>::FQDN, hash);
        }
        Ok(Publisher {
            topic: self.bus.kafka_topic::<T>(),
            bus: self.bus,
            source: id.source,
            run_id: id.run_id,
            producer: id.producer,
            max_message_bytes: self.max_message_bytes,
            _topic: PhantomData,
        })
    }
}

/// Publishes records of topic `T` to its Kafka topic and awaits their
/// delivery reports.
pub struct Publisher<T> {
    bus: Bus,
    topic: String,
    producer: String,
    source: String,
    run_id: String,
    max_message_bytes: usize,
    _topic: PhantomData<fn() -> T>,
}

/// A record ready for the producer: key, value, headers in the client's
/// form, time. The envelope's header strings are dropped once converted,
/// so a batch holds one copy of each record's headers, not two.
struct Prepared {
    subject: Subject,
    message_id: MessageId,
    key: String,
    payload: Vec<u8>,
    /// Taken by the first send, as the payload is dropped after it in a
    /// batch: a resend of a batch's record prepares it again from its
    /// envelope.
    headers: Option<OwnedHeaders>,
    timestamp_ms: Option<i64>,
}

impl<T: Topic> Publisher<T>
where
    T::Payload: Schema + PartitionKey + prost::Message,
{
    /// Builds the envelope (fresh message_id, produced_at, trace) and
    /// publishes it.
    pub async fn publish(&self, payload: T::Payload) -> Result<Published, Error> {
        let envelope = self.envelope(payload)?;
        self.publish_envelope(&envelope).await
    }

    /// Publishes every payload: all are handed to the producer first, then
    /// every delivery report is awaited. Order per partition is kept (the
    /// idempotent producer). The first failure is returned; records before
    /// it may be stored, and republishing them is safe.
    pub async fn publish_all(&self, payloads: impl IntoIterator<Item = T::Payload>) -> Result<Vec<Published>, Error> {
        let envelopes = payloads.into_iter().map(|p| self.envelope(p)).collect::<Result<Vec<_>, _>>()?;
        self.publish_envelopes(&envelopes).await
    }

    fn envelope(&self, payload: T::Payload) -> Result<Envelope<T::Payload>, Error> {
        let mut envelope =
            Envelope::builder(payload).producer(&self.producer).source(&self.source).run_id(&self.run_id).build()?;
        envelope.headers.partition_key = T::partition_key(&envelope.payload)?;
        Ok(envelope)
    }
}

impl<T: Topic> Publisher<T>
where
    T::Payload: Schema + prost::Message,
{
    /// [`Publisher::publish_all`] for built envelopes.
    pub async fn publish_envelopes(&self, envelopes: &[Envelope<T::Payload>]) -> Result<Vec<Published>, Error> {
        let mut prepared = Vec::with_capacity(envelopes.len());
        for envelope in envelopes {
            let subject = T::topic_for(&envelope.payload, self.bus.env_of::<T>()?)?;
            prepared.push(self.prepare_envelope(subject, envelope)?);
        }
        let n = self.bus.partition_count(&self.topic, false).await?;
        let mut queued = Vec::with_capacity(prepared.len());
        for p in &mut prepared {
            queued.push(self.bus.enqueue(self.outgoing(p, n)).await);
            // The producer copied it. Freed now, its memory serves the
            // next record's copy; freed after the batch, the payloads
            // coalesce into one free block per record, and glibc's
            // allocator walks its caches at each.
            p.payload = Vec::new();
        }
        let mut out = Vec::with_capacity(prepared.len());
        for ((p, q), envelope) in prepared.into_iter().zip(queued).zip(envelopes) {
            let (partition, offset) = match settle(&self.topic, q).await {
                Ok(r) => r,
                // A stale partition count: this one through the
                // refreshing path, the rest as they were.
                Err((_, true)) => {
                    let mut again = self.prepare_envelope(p.subject.clone(), envelope)?;
                    self.send_one(&mut again).await?
                }
                Err((e, false)) => return Err(e),
            };
            out.push(self.published(p, partition, offset));
        }
        Ok(out)
    }

    /// Publishes a built envelope under the Kafka topic and key its
    /// payload routes to.
    pub async fn publish_envelope(&self, envelope: &Envelope<T::Payload>) -> Result<Published, Error> {
        let subject = T::topic_for(&envelope.payload, self.bus.env_of::<T>()?)?;
        self.send(self.prepare_envelope(subject, envelope)?).await
    }

    /// The record of an envelope, prepared: [`Envelope::encode`] with its
    /// headers written straight into the client's form, so no `String` is
    /// made per header value.
    fn prepare_envelope(&self, subject: Subject, envelope: &Envelope<T::Payload>) -> Result<Prepared, Error> {
        let (payload, encoding) = envelope.encode_payload()?;
        let h = &envelope.headers;
        let key = subject.kafka_key(&h.partition_key);
        let mut headers = Some(OwnedHeaders::new_with_capacity(names::ALL.len()));
        let mut sizes = [("", 0); names::ALL.len()];
        let mut count = 0;
        h.visit_pairs(encoding, None, |k, v| {
            headers = headers.take().map(|o| o.insert(Header { key: k, value: Some(v.as_bytes()) }));
            sizes[count] = (k, v.len());
            count += 1;
        });
        let size = record_size(key.as_bytes(), &payload, sizes[..count].iter().copied());
        self.check_size(size)?;
        let timestamp_ms = timestamp_ms(&h.produced_at);
        Ok(Prepared { subject, message_id: h.message_id, key, payload, headers, timestamp_ms })
    }

    /// Publishes the pointer record of a payload stored in object storage
    /// (`Envelope::encode_pointer`); store the blob first.
    pub async fn publish_pointer(
        &self,
        envelope: &Envelope<T::Payload>,
        blob: &BlobPointer,
    ) -> Result<Published, Error> {
        let subject = T::topic_for(&envelope.payload, self.bus.env_of::<T>()?)?;
        let record = envelope.encode_pointer(blob)?;
        self.send(self.prepare(subject, envelope.headers.message_id, record)?).await
    }

    /// Publishes an encoded record under `subject` as is: for relays and
    /// tests that need exact bytes. The subject must be one of this topic's.
    pub async fn publish_record(&self, subject: Subject, record: &Record) -> Result<Published, Error> {
        if subject.kafka_topic() != self.topic {
            return Err(Error::new(
                ErrorKind::Config,
                format!("subject `{subject}` is not a subject of topic `{}` in env `{}`", T::ID, self.bus.env()),
            ));
        }
        let id = record
            .header(names::MESSAGE_ID)
            .and_then(|v| v.parse::<MessageId>().ok())
            .ok_or_else(|| Error::new(ErrorKind::Envelope, "the record has no valid message_id header"))?;
        self.send(self.prepare(subject, id, record.clone())?).await
    }

    async fn send(&self, mut p: Prepared) -> Result<Published, Error> {
        let (partition, offset) = self.send_one(&mut p).await?;
        Ok(self.published(p, partition, offset))
    }
}

impl<T: Topic> Publisher<T> {
    /// The key, the timestamp and the size pre-check.
    fn prepare(&self, subject: Subject, message_id: MessageId, record: Record) -> Result<Prepared, Error> {
        let key = subject.kafka_key(record.header(names::PARTITION_KEY).unwrap_or(""));
        let size = record_size(key.as_bytes(), &record.payload, record.headers.iter().map(|(k, v)| (*k, v.len())));
        self.check_size(size)?;
        let timestamp_ms = record.header(names::PRODUCED_AT).and_then(timestamp_ms);
        let headers = Some(to_kafka(record.headers.iter().map(|(k, v)| (*k, v.as_str()))));
        Ok(Prepared { subject, message_id, key, payload: record.payload, headers, timestamp_ms })
    }

    /// The size pre-check: a record over the topic's bound is never sent.
    fn check_size(&self, size: usize) -> Result<(), Error> {
        if size > self.max_message_bytes {
            return Err(Error::new(
                ErrorKind::TooLarge,
                format!(
                    "the record is {size} bytes as Kafka counts it, over max.message.bytes of {} for `{}`: nothing \
                     was sent; store the payload in object storage and publish a blob pointer (Envelope::to_blob, \
                     Publisher::publish_pointer)",
                    self.max_message_bytes, self.topic
                ),
            ));
        }
        Ok(())
    }

    fn outgoing<'a>(&'a self, p: &'a mut Prepared, partitions: i32) -> Outgoing<'a> {
        Outgoing {
            topic: &self.topic,
            key: p.key.as_bytes(),
            value: &p.payload,
            headers: p.headers.take(),
            timestamp_ms: p.timestamp_ms,
            partition: super::partition_for(p.key.as_bytes(), partitions),
        }
    }

    async fn send_one(&self, p: &mut Prepared) -> Result<(i32, i64), Error> {
        self.bus.produce(&self.topic, p.key.as_bytes(), &p.payload, p.headers.take(), p.timestamp_ms).await
    }

    fn published(&self, p: Prepared, partition: i32, offset: i64) -> Published {
        self.bus.observer.produced(T::ID, &self.producer);
        Published { subject: p.subject, message_id: p.message_id, topic: self.topic.clone(), partition, offset }
    }

    /// The Kafka topic this publisher's records go to.
    pub fn topic(&self) -> &str {
        &self.topic
    }
}
