use std::fmt;

use super::{MAX_INFLATED, MAX_PAYLOAD};
use crate::headers::HeaderError;
use crate::key::RouteError;
use crate::schema::SchemaError;

/// Why an envelope cannot be built, encoded or decoded.
///
/// [`EnvelopeError::kind`] names are shared with the Go and Python runtimes
/// and the cross-language vectors; they are also the `reason` label of
/// `bus.decode_fail_total`. Display says what to do about it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum EnvelopeError {
    Header(HeaderError),
    Schema(SchemaError),
    /// The payload has no partition key.
    Route(RouteError),
    /// The encoded (and, past 128 KiB, gzipped) payload is over 1 MiB.
    TooLarge {
        size: usize,
        limit: usize,
    },
    /// The gzip payload inflates past the consumer's cap.
    InflatedTooLarge {
        limit: usize,
    },
    /// `content_encoding: gzip` but the bytes are not one intact gzip member.
    CorruptPayload {
        reason: String,
    },
    /// The payload bytes are not a valid protobuf encoding of the type.
    Decode(prost::DecodeError),
    /// A blob pointer record was given to [`super::Envelope::decode`].
    PointerRecord {
        blob_ref: String,
    },
    BlobSizeMismatch {
        blob_ref: String,
        expected: u64,
        got: u64,
    },
    BlobHashMismatch {
        blob_ref: String,
        expected: String,
        got: String,
    },
}

impl EnvelopeError {
    pub fn kind(&self) -> &'static str {
        match self {
            EnvelopeError::Header(e) => e.kind(),
            EnvelopeError::Schema(e) => e.kind(),
            EnvelopeError::Route(e) => e.kind(),
            EnvelopeError::TooLarge { .. } | EnvelopeError::InflatedTooLarge { .. } => "too_large",
            EnvelopeError::CorruptPayload { .. } => "corrupt_gzip",
            EnvelopeError::Decode(_) => "decode_error",
            EnvelopeError::PointerRecord { .. } => "blob_pointer",
            EnvelopeError::BlobSizeMismatch { .. } => "blob_size_mismatch",
            EnvelopeError::BlobHashMismatch { .. } => "blob_hash_mismatch",
        }
    }

    /// The `dlq_reason` header for a record that failed with this error.
    ///
    /// The contract's forms: `schema_hash_mismatch` alone (the hash pair is
    /// in the preserved headers already), `decode_error: …` for every
    /// payload that cannot be turned into the type (corrupt gzip, a gzip
    /// bomb, bad protobuf), and `{kind}: {message}` for the rest, so the
    /// prefix up to `:` is always a stable label.
    pub fn dlq_reason(&self) -> String {
        match self {
            EnvelopeError::Schema(SchemaError::SchemaHashMismatch { .. }) => "schema_hash_mismatch".to_owned(),
            EnvelopeError::Schema(SchemaError::WrongSchema { got, .. }) => format!("unknown_fqdn: {got}"),
            EnvelopeError::CorruptPayload { reason } => format!("decode_error: corrupt gzip: {reason}"),
            EnvelopeError::InflatedTooLarge { limit } => {
                format!("decode_error: the gzip payload inflates past {limit} bytes")
            }
            EnvelopeError::Decode(e) => format!("decode_error: {e}"),
            other => format!("{}: {other}", other.kind()),
        }
    }
}

impl fmt::Display for EnvelopeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            EnvelopeError::Header(e) => e.fmt(f),
            EnvelopeError::Schema(e) => e.fmt(f),
            EnvelopeError::Route(e) => write!(f, "cannot compute the partition key: {e}"),
            EnvelopeError::TooLarge { size, limit } => write!(
                f,
                "the encoded payload is {size} bytes, over the bus limit of {limit} bytes even after gzip: \
                 use the blob pointer pattern: store the bytes in object storage and publish a pointer \
                 (Envelope::to_blob, Envelope::encode_pointer)"
            ),
            EnvelopeError::InflatedTooLarge { limit } => write!(
                f,
                "the gzip payload inflates past {limit} bytes (the consumer's cap): \
                 the producer should have used the blob pointer pattern"
            ),
            EnvelopeError::CorruptPayload { reason } => {
                write!(f, "corrupt gzip payload: {reason}; send the record to the DLQ")
            }
            EnvelopeError::Decode(e) => {
                write!(
                    f,
                    "the payload is not a valid protobuf of the announced schema ({e}); send the record to the DLQ"
                )
            }
            EnvelopeError::PointerRecord { blob_ref } => {
                write!(f, "the record is a blob pointer to `{blob_ref}`: fetch the blob and call Envelope::decode_blob")
            }
            EnvelopeError::BlobSizeMismatch { blob_ref, expected, got } => write!(
                f,
                "the blob at `{blob_ref}` is {got} bytes, blob_size says {expected}: \
                 the object changed or is not the one published; do not use it"
            ),
            EnvelopeError::BlobHashMismatch { blob_ref, expected, got } => write!(
                f,
                "the blob at `{blob_ref}` hashes to {got}, blob_hash says {expected}: \
                 the object changed or is not the one published; do not use it"
            ),
        }
    }
}

impl std::error::Error for EnvelopeError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            EnvelopeError::Header(e) => Some(e),
            EnvelopeError::Schema(e) => Some(e),
            EnvelopeError::Route(e) => Some(e),
            EnvelopeError::Decode(e) => Some(e),
            _ => None,
        }
    }
}

impl From<HeaderError> for EnvelopeError {
    fn from(e: HeaderError) -> Self {
        EnvelopeError::Header(e)
    }
}

impl From<SchemaError> for EnvelopeError {
    fn from(e: SchemaError) -> Self {
        EnvelopeError::Schema(e)
    }
}

impl From<RouteError> for EnvelopeError {
    fn from(e: RouteError) -> Self {
        EnvelopeError::Route(e)
    }
}

impl From<prost::DecodeError> for EnvelopeError {
    fn from(e: prost::DecodeError) -> Self {
        EnvelopeError::Decode(e)
    }
}

// Keep the documented limits and the constants in one place.
const _: () = assert!(MAX_PAYLOAD == 1 << 20 && MAX_INFLATED == 64 << 20);
