//! What a consumer hands its handler and what the handler answers, the
//! same on every transport: a decoded payload or a blob pointer, and a
//! typed failure that is retried or dead-lettered. The decoding step is
//! shared too, so a record is a poison pill for the same reasons on NATS
//! and on Kafka.

use std::time::{SystemTime, UNIX_EPOCH};

use crate::envelope::{BlobPointer, Envelope, EnvelopeError};
use crate::headers::Headers;
use crate::schema::Schema;

/// The record of a delivery: a decoded payload, or the pointer of one kept
/// in object storage (fetch it and call `Envelope::decode_blob`).
#[derive(Clone, Debug, PartialEq)]
pub enum Body<P> {
    Payload(P),
    Pointer(BlobPointer),
}

/// A handler's failure. `kind` is a stable label (the `retry_total` and
/// `dlq_total` reason); the message goes into `dlq_reason` only.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HandlerError {
    kind: &'static str,
    message: String,
    permanent: bool,
}

impl HandlerError {
    /// Retry later, up to the consumer's `max_deliveries`.
    pub fn retry(kind: &'static str, message: impl std::fmt::Display) -> HandlerError {
        HandlerError { kind, message: message.to_string(), permanent: false }
    }

    /// Retrying cannot help: straight to the DLQ.
    pub fn permanent(kind: &'static str, message: impl std::fmt::Display) -> HandlerError {
        HandlerError { kind, message: message.to_string(), permanent: true }
    }

    pub fn kind(&self) -> &'static str {
        self.kind
    }

    pub fn message(&self) -> &str {
        &self.message
    }

    pub fn is_permanent(&self) -> bool {
        self.permanent
    }

    /// The `dlq_reason` of a record this error gives up on: `<kind>:
    /// <message>`, prefixed `max_deliveries: ` when the bound ran out.
    pub(crate) fn dlq_reason(&self, bound_reached: bool) -> String {
        if bound_reached && !self.permanent {
            format!("max_deliveries: {}: {}", self.kind, self.message)
        } else {
            format!("{}: {}", self.kind, self.message)
        }
    }
}

/// Decodes a received record with the envelope rules; a pointer record
/// becomes [`Body::Pointer`] after its headers are checked.
pub(crate) fn decode<'a, T, I>(pairs: I, payload: &[u8]) -> Result<(Headers, Body<T>), EnvelopeError>
where
    T: Schema + prost::Message + Default,
    I: IntoIterator<Item = (&'a str, &'a str)> + Clone,
{
    match Envelope::<T>::decode(pairs.clone(), payload) {
        Ok(e) => Ok((e.headers, Body::Payload(e.payload))),
        Err(EnvelopeError::PointerRecord { .. }) => Envelope::<T>::decode_headers(pairs).map(|h| {
            let blob = h.blob.clone().unwrap_or(BlobPointer {
                blob_ref: String::new(),
                blob_hash: String::new(),
                blob_size: 0,
            });
            (h, Body::Pointer(blob))
        }),
        Err(e) => Err(e),
    }
}

/// `produced_at` to now, in milliseconds (never negative): the
/// `bus_delivery_latency_ms` observation of a first delivery.
pub(crate) fn latency_ms(headers: &Headers) -> Option<f64> {
    let (s, n) = headers.produced_at_unix()?;
    let produced = s as f64 * 1e3 + f64::from(n) / 1e6;
    let now = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0.0, |d| d.as_secs_f64() * 1e3);
    Some((now - produced).max(0.0))
}

/// The label of a `dlq_reason`: the text before the first `:`.
pub(crate) fn reason_label(reason: &str) -> &str {
    reason.split(':').next().unwrap_or(reason)
}
