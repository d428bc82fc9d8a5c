//! Typed publishing: subject, key, schema headers and dedupe id from the
//! generated bindings, one NATS header mapping, `Nats-Msg-Id` = message_id,
//! the size pre-check, and ack-awaiting retries.

use std::marker::PhantomData;

use std::future::IntoFuture;

use async_nats::jetstream::context::PublishErrorKind;
use async_nats::jetstream::message::PublishMessage;
use async_nats::HeaderMap;
use bytes::Bytes;

use super::headers::{to_nats, wire_len, MAX_HEADER_BYTES};
use super::{Bus, Error, ErrorKind, RetryPolicy};
use crate::envelope::{BlobPointer, Envelope, Record};
use crate::headers::MessageId;
use crate::key::PartitionKey;
use crate::schema::Schema;
use crate::topic::{Subject, Topic};

/// What the server acknowledged.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Published {
    pub subject: Subject,
    pub message_id: MessageId,
    pub stream: String,
    /// The record's stream sequence.
    pub sequence: u64,
    /// The stream already held this message_id (a retried or repeated
    /// publish inside the duplicate window); `sequence` is the original's.
    pub duplicate: bool,
    /// Sends it took, 1 when the first ack came back.
    pub attempts: u32,
}

/// Configures a [`Publisher`]; from [`Bus::publisher`].
#[must_use]
pub struct PublisherBuilder<T> {
    bus: Bus,
    identity: crate::runtime::Identity,
    retry: RetryPolicy,
    _topic: PhantomData<fn() -> T>,
}

impl<T: Topic> PublisherBuilder<T> {
    pub(super) fn new(bus: Bus) -> Self {
        PublisherBuilder { bus, identity: Default::default(), retry: RetryPolicy::default(), _topic: PhantomData }
    }

    crate::runtime::identity_setters!();

    pub fn retry(mut self, retry: RetryPolicy) -> Self {
        self.retry = retry;
        self
    }

    /// Checks the topic has a stream in this env.
    pub fn build(self) -> Result<Publisher<T>, Error> {
        let (stream, _) = self.bus.route::<T>()?;
        let id = self.identity.resolve()?;
        if let Some(hash) = <T::Payload as Schema>::SCHEMA_HASH {
            self.bus.observer.schema(T::ID, <T::Payload as Schema>::FQDN, hash);
        }
        let mut retry = self.retry;
        retry.attempts = retry.attempts.max(1);
        Ok(Publisher {
            bus: self.bus,
            stream: stream.name,
            source: id.source,
            run_id: id.run_id,
            producer: id.producer,
            retry,
            _topic: PhantomData,
        })
    }
}

/// Publishes records of topic `T` to JetStream and awaits their acks.
pub struct Publisher<T> {
    bus: Bus,
    stream: &'static str,
    producer: String,
    source: String,
    run_id: String,
    retry: RetryPolicy,
    _topic: PhantomData<fn() -> T>,
}

impl<T: Topic> Publisher<T>
where
    T::Payload: Schema + PartitionKey + prost::Message,
{
    /// Builds the envelope (fresh message_id, produced_at, trace) and
    /// publishes it.
    pub async fn publish(&self, payload: T::Payload) -> Result<Published, Error> {
        let mut envelope =
            Envelope::builder(payload).producer(&self.producer).source(&self.source).run_id(&self.run_id).build()?;
        envelope.headers.partition_key = T::partition_key(&envelope.payload)?;
        self.publish_envelope(&envelope).await
    }
}

impl<T: Topic> Publisher<T>
where
    T::Payload: Schema + prost::Message,
{
    /// Publishes a built envelope on the subject its payload routes to.
    pub async fn publish_envelope(&self, envelope: &Envelope<T::Payload>) -> Result<Published, Error> {
        let subject = T::topic_for(&envelope.payload, self.bus.env_of::<T>()?)?;
        let record = envelope.encode()?;
        self.send(subject, envelope.headers.message_id, &record).await
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
        self.send(subject, envelope.headers.message_id, &record).await
    }

    /// Publishes an encoded record on `subject` as is: for relays and tests
    /// that need exact bytes. The subject must be one of this topic's.
    pub async fn publish_record(&self, subject: Subject, record: &Record) -> Result<Published, Error> {
        let prefix = format!("{}.{}.{}.{}.", T::NAMESPACE, self.bus.env(), T::DOMAIN, T::VERSION);
        if !subject.as_str().starts_with(&prefix) {
            return Err(Error::new(
                ErrorKind::Config,
                format!("subject `{subject}` is not a subject of topic `{}` in env `{}`", T::ID, self.bus.env()),
            ));
        }
        let id = record
            .header(crate::headers::names::MESSAGE_ID)
            .and_then(|v| v.parse::<MessageId>().ok())
            .ok_or_else(|| Error::new(ErrorKind::Envelope, "the record has no valid message_id header"))?;
        self.send(subject, id, record).await
    }

    async fn send(&self, subject: Subject, message_id: MessageId, record: &Record) -> Result<Published, Error> {
        let headers = to_nats(record.headers.iter().map(|(k, v)| (*k, v.as_str())))?;
        let ack =
            publish_checked(&self.bus, subject.as_str(), headers, Bytes::copy_from_slice(&record.payload), &self.retry)
                .await?;
        self.bus.observer.produced(T::ID, &self.producer);
        debug_assert_eq!(ack.0.stream, self.stream);
        Ok(Published {
            subject,
            message_id,
            stream: ack.0.stream,
            sequence: ack.0.sequence,
            duplicate: ack.0.duplicate,
            attempts: ack.1,
        })
    }
}

/// The size pre-check, then sends until an ack comes or the policy runs
/// out. Used for records and dead letters alike.
pub(super) async fn publish_checked(
    bus: &Bus,
    subject: &str,
    headers: HeaderMap,
    payload: Bytes,
    retry: &RetryPolicy,
) -> Result<(async_nats::jetstream::publish::PublishAck, u32), Error> {
    let header_len = wire_len(&headers);
    if header_len > MAX_HEADER_BYTES {
        return Err(Error::new(
            ErrorKind::HeadersTooLarge,
            format!(
                "the record's NATS headers are {header_len} bytes; JetStream stores at most {MAX_HEADER_BYTES}: \
                 shorten the header values"
            ),
        ));
    }
    let limit = bus.client.server_info().max_payload;
    let size = header_len + payload.len();
    if limit > 0 && size > limit {
        return Err(Error::new(
            ErrorKind::TooLarge,
            format!(
                "the record is {size} bytes with its headers ({header_len} of headers), over the server's max_payload \
                 of {limit}: nothing was sent; store the payload in object storage and publish a blob pointer \
                 (Envelope::to_blob, Publisher::publish_pointer)"
            ),
        ));
    }
    let mut attempt = 0;
    loop {
        attempt += 1;
        let publish = PublishMessage::build().payload(payload.clone()).headers(headers.clone());
        let result = match bus.js.send_publish(subject.to_owned(), publish).await {
            Ok(ack) => match tokio::time::timeout(retry.ack_timeout, ack.into_future()).await {
                Ok(r) => r,
                Err(_) => Err(PublishErrorKind::TimedOut.into()),
            },
            Err(e) => Err(e),
        };
        let err = match result {
            Ok(ack) => return Ok((ack, attempt)),
            Err(e) => e,
        };
        let retryable = matches!(
            err.kind(),
            PublishErrorKind::TimedOut
                | PublishErrorKind::StreamNotFound
                | PublishErrorKind::BrokenPipe
                | PublishErrorKind::MaxAckPending
        );
        if !retryable || attempt >= retry.attempts {
            return Err(match err.kind() {
                PublishErrorKind::TimedOut | PublishErrorKind::BrokenPipe => Error::with_source(
                    ErrorKind::Timeout,
                    format!("no publish ack for `{subject}` after {attempt} sends; the record may or may not be stored, and a later send with the same message_id is stored at most once"),
                    err,
                ),
                PublishErrorKind::StreamNotFound => Error::with_source(
                    ErrorKind::NoStream,
                    format!("no stream stores `{subject}`: run `ampygen provision nats` for this env"),
                    err,
                ),
                PublishErrorKind::MaxPayloadExceeded => Error::with_source(
                    ErrorKind::TooLarge,
                    "the server's max_payload is smaller than the record: publish a blob pointer",
                    err,
                ),
                _ => Error::with_source(ErrorKind::Publish, format!("the server refused the publish to `{subject}`"), err),
            });
        }
        tokio::time::sleep(retry.delay(attempt)).await;
    }
}

impl<T> Publisher<T> {
    /// The stream this publisher's records go to.
    pub fn stream(&self) -> &'static str {
        self.stream
    }

    /// The configured retry policy.
    pub fn retry_policy(&self) -> RetryPolicy {
        self.retry
    }
}
