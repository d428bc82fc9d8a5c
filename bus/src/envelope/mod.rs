//! Envelopes: a typed payload with its headers, and the two directions
//! between it and a transport record (header pairs plus payload bytes).
//!
//! Size rules of the contract, applied by [`Envelope::encode`]:
//! - an encoded payload of more than [`GZIP_THRESHOLD`] bytes (128 KiB; a
//!   payload of exactly 128 KiB stays plain) is gzipped and marked
//!   `content_encoding: gzip`;
//! - a payload still over [`MAX_PAYLOAD`] bytes (1 MiB) is refused with
//!   [`EnvelopeError::TooLarge`]: it belongs in object storage, published
//!   with [`Envelope::encode_pointer`].

use std::borrow::Cow;
use std::time::{SystemTime, UNIX_EPOCH};

mod blob;
mod dlq;
mod error;
mod gzip;

pub use blob::{sha256, BlobPointer};
pub use dlq::{sanitize_reason, DeadLetter, Dlq, DEFAULT_NAMESPACE, MAX_REASON_LEN};
pub use error::EnvelopeError;
pub use gzip::MAX_GZIP_STRING;

use crate::headers::{fill_random, ContentEncoding, Headers, MessageId, TraceParent, CONTENT_TYPE};
use crate::key::{write_timestamp, PartitionKey};
use crate::schema::Schema;

/// Payloads strictly larger than this many bytes are gzipped.
pub const GZIP_THRESHOLD: usize = 128 * 1024;
/// Payloads strictly larger than this many bytes (after gzip) are refused.
pub const MAX_PAYLOAD: usize = 1024 * 1024;
/// Consumers refuse gzip payloads that inflate past this: 64× the bus
/// limit leaves room for very compressible batches and none for a bomb.
pub const MAX_INFLATED: usize = 64 * 1024 * 1024;

/// A payload with its headers.
#[derive(Clone, Debug, PartialEq)]
pub struct Envelope<T> {
    pub headers: Headers,
    pub payload: T,
}

/// What a transport sends: header pairs in [`Headers::to_pairs`] order and
/// the payload bytes. NATS and Kafka headers convert to and from it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Record {
    pub headers: Vec<(&'static str, String)>,
    pub payload: Vec<u8>,
}

impl Record {
    /// The value of a header, if present.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(k, _)| *k == name).map(|(_, v)| v.as_str())
    }
}

impl<T: Schema + PartitionKey + prost::Message> Envelope<T> {
    /// Starts an envelope for a payload; see [`EnvelopeBuilder`].
    pub fn builder(payload: T) -> EnvelopeBuilder<T> {
        EnvelopeBuilder {
            payload,
            producer: None,
            source: None,
            run_id: None,
            traceparent: None,
            dedupe_key: None,
            retry_count: None,
        }
    }
}

impl<T: Schema + prost::Message> Envelope<T> {
    /// Encodes the payload into a record, gzipping past [`GZIP_THRESHOLD`].
    ///
    /// Headers are validated and checked against `T` first, since the
    /// fields are public and may have been edited. The record's
    /// `content_encoding` and blob headers are decided here, not copied
    /// from [`Headers`]: they describe these bytes.
    pub fn encode(&self) -> Result<Record, EnvelopeError> {
        let (payload, encoding) = self.encode_payload()?;
        let mut headers = Vec::with_capacity(crate::headers::names::ALL.len());
        self.headers.write_pairs(&mut headers, encoding, None);
        Ok(Record { headers, payload })
    }

    /// [`Envelope::encode`] up to the headers: the checks, the payload
    /// bytes and their `content_encoding`. The headers are then
    /// `self.headers.visit_pairs(encoding, None, …)`.
    pub(crate) fn encode_payload(&self) -> Result<(Vec<u8>, Option<ContentEncoding>), EnvelopeError> {
        self.headers.validate()?;
        T::verify(&self.headers)?;
        let raw = self.payload.encode_to_vec();
        let (payload, encoding) =
            if raw.len() > GZIP_THRESHOLD { (gzip::compress(&raw), Some(ContentEncoding::Gzip)) } else { (raw, None) };
        if payload.len() > MAX_PAYLOAD {
            return Err(EnvelopeError::TooLarge { size: payload.len(), limit: MAX_PAYLOAD });
        }
        Ok((payload, encoding))
    }

    /// The bytes to store for the blob pointer pattern (the plain protobuf
    /// encoding) and the pointer describing them.
    pub fn to_blob(&self, blob_ref: impl Into<String>) -> (BlobPointer, Vec<u8>) {
        let bytes = self.payload.encode_to_vec();
        (BlobPointer::for_bytes(blob_ref, &bytes), bytes)
    }

    /// A pointer record: the headers plus `blob_ref`/`blob_hash`/
    /// `blob_size`, and an empty payload. Store the blob before publishing
    /// the pointer, or consumers may fetch nothing.
    pub fn encode_pointer(&self, blob: &BlobPointer) -> Result<Record, EnvelopeError> {
        let mut headers = self.headers.clone();
        headers.blob = Some(blob.clone());
        headers.validate()?;
        T::verify(&headers)?;
        let mut pairs = Vec::with_capacity(crate::headers::names::ALL.len());
        headers.write_pairs(&mut pairs, None, Some(blob));
        Ok(Record { headers: pairs, payload: Vec::new() })
    }
}

impl<T: Schema + prost::Message + Default> Envelope<T> {
    /// Decodes a received record.
    ///
    /// In order: headers parse and validate, `T::verify` (schema fqdn and
    /// hash, before any payload byte is trusted), pointer records are
    /// turned away, gzip is undone within [`MAX_INFLATED`], and the bytes
    /// are decoded as `T`. Every failure is an [`EnvelopeError`] whose
    /// [`EnvelopeError::dlq_reason`] is ready for the DLQ.
    pub fn decode<I, K, V>(headers: I, payload: &[u8]) -> Result<Envelope<T>, EnvelopeError>
    where
        I: IntoIterator<Item = (K, V)>,
        K: AsRef<str>,
        V: AsRef<str>,
    {
        let headers = Self::decode_headers(headers)?;
        if let Some(blob) = &headers.blob {
            return Err(EnvelopeError::PointerRecord { blob_ref: blob.blob_ref.clone() });
        }
        let payload = decode_payload::<T>(&headers, payload)?;
        Ok(Envelope { headers, payload })
    }

    /// [`Envelope::decode`] for a [`Record`].
    pub fn decode_record(record: &Record) -> Result<Envelope<T>, EnvelopeError> {
        Self::decode(record.headers.iter().map(|(k, v)| (*k, v.as_str())), &record.payload)
    }

    /// Parses headers and checks them against `T`, without the payload:
    /// what a consumer needs to see that a record is a blob pointer.
    pub fn decode_headers<I, K, V>(headers: I) -> Result<Headers, EnvelopeError>
    where
        I: IntoIterator<Item = (K, V)>,
        K: AsRef<str>,
        V: AsRef<str>,
    {
        // Values equal to the schema's constants (every record of the
        // right schema) are shared rather than copied.
        let shared = [T::FQDN, T::SCHEMA_VERSION, T::SCHEMA_HASH.unwrap_or(T::FQDN)];
        let headers = Headers::from_pairs_sharing(headers, &shared)?;
        T::verify(&headers)?;
        Ok(headers)
    }

    /// Decodes the blob fetched for a pointer record: checks it against
    /// `blob_size` and `blob_hash`, then decodes it like a payload (a
    /// `content_encoding: gzip` header applies to the blob).
    pub fn decode_blob(headers: Headers, blob: &[u8]) -> Result<Envelope<T>, EnvelopeError> {
        headers.validate()?;
        T::verify(&headers)?;
        let Some(pointer) = &headers.blob else {
            return Err(crate::HeaderError::Missing { name: crate::headers::names::BLOB_REF }.into());
        };
        pointer.verify(blob)?;
        let payload = decode_payload::<T>(&headers, blob)?;
        Ok(Envelope { headers, payload })
    }
}

fn decode_payload<T: prost::Message + Default>(headers: &Headers, bytes: &[u8]) -> Result<T, EnvelopeError> {
    match headers.content_encoding {
        Some(ContentEncoding::Gzip) => Ok(T::decode(gzip::decompress(bytes, MAX_INFLATED)?.as_slice())?),
        None => Ok(T::decode(bytes)?),
    }
}

/// Collects what only the producer knows; the rest comes from the payload
/// type and the clock. `producer`, `source` and `run_id` are required.
#[must_use]
pub struct EnvelopeBuilder<T> {
    payload: T,
    producer: Option<String>,
    source: Option<String>,
    run_id: Option<String>,
    traceparent: Option<TraceParent>,
    dedupe_key: Option<String>,
    retry_count: Option<u32>,
}

impl<T: Schema + PartitionKey + prost::Message> EnvelopeBuilder<T> {
    /// The service instance, e.g. `yfinance-go@ingest-1`.
    pub fn producer(mut self, producer: impl Into<String>) -> Self {
        self.producer = Some(producer.into());
        self
    }

    /// The upstream system, e.g. `yfinance-go`.
    pub fn source(mut self, source: impl Into<String>) -> Self {
        self.source = Some(source.into());
        self
    }

    /// The pipeline run or session this record belongs to.
    pub fn run_id(mut self, run_id: impl Into<String>) -> Self {
        self.run_id = Some(run_id.into());
        self
    }

    /// Continues a received trace; without it the envelope starts a new,
    /// sampled one.
    pub fn traceparent(mut self, traceparent: TraceParent) -> Self {
        self.traceparent = Some(traceparent);
        self
    }

    /// Overrides the dedupe key the payload type derives.
    pub fn dedupe_key(mut self, dedupe_key: impl Into<String>) -> Self {
        self.dedupe_key = Some(dedupe_key.into());
        self
    }

    /// For republishing: how many times this record was sent before.
    pub fn retry_count(mut self, retry_count: u32) -> Self {
        self.retry_count = Some(retry_count);
        self
    }

    /// Fills the remaining headers and validates the result.
    ///
    /// `message_id` is a fresh UUIDv7 and `produced_at` is its timestamp
    /// (milliseconds, UTC), so the two never disagree. One OS random read
    /// covers the id and, when none was given, the trace context.
    pub fn build(self) -> Result<Envelope<T>, EnvelopeError> {
        use crate::headers::names;
        let required = |v: Option<String>, name| v.ok_or(crate::HeaderError::Missing { name });
        let producer = required(self.producer, names::PRODUCER)?;
        let source = required(self.source, names::SOURCE)?;
        let run_id = required(self.run_id, names::RUN_ID)?;
        let partition_key = self.payload.partition_key()?;
        let dedupe_key = self.dedupe_key.or_else(|| self.payload.dedupe_key());

        let mut rand = [0u8; 34];
        fill_random(&mut rand);
        let now_ms = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_millis() as u64);
        let id_rand: &[u8; 10] = rand[..10].try_into().unwrap_or(&[0; 10]);
        let message_id = MessageId::v7_from(now_ms, id_rand);
        let traceparent = match self.traceparent {
            Some(tp) => tp,
            None => TraceParent::from_random(rand[10..].try_into().unwrap_or(&[1; 24])),
        };
        let ms = message_id.timestamp_ms() as i64;
        let mut produced_at = String::with_capacity(24);
        write_timestamp(&mut produced_at, ms.div_euclid(1000), (ms.rem_euclid(1000) * 1_000_000) as i32);

        let headers = Headers {
            message_id,
            schema_fqdn: Cow::Borrowed(T::FQDN),
            schema_version: Cow::Borrowed(T::SCHEMA_VERSION),
            content_type: Cow::Borrowed(CONTENT_TYPE),
            produced_at,
            producer,
            source,
            run_id,
            traceparent,
            partition_key,
            content_encoding: None,
            dedupe_key,
            retry_count: self.retry_count,
            dlq_reason: None,
            schema_hash: T::SCHEMA_HASH.map(Cow::Borrowed),
            blob: None,
        };
        headers.validate()?;
        Ok(Envelope { headers, payload: self.payload })
    }
}
