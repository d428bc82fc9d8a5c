//! The envelope headers of the bus contract, typed.
//!
//! Headers travel as string pairs (NATS headers, Kafka record headers) and
//! are read by the Go and Python runtimes too, so parsing is strict: every
//! value has one accepted spelling, and a header another runtime would read
//! differently is an error here rather than a silent normalisation. Unknown
//! header names are skipped, so that a later contract can add headers
//! without breaking consumers built against this one.

use std::borrow::Cow;
use std::fmt;

mod check;
mod ids;

pub use ids::{ContentEncoding, MessageId, TraceParent};

pub(crate) use ids::{fill_random, hex};

use crate::envelope::BlobPointer;

/// The only `content_type` of the contract.
pub const CONTENT_TYPE: &str = "application/x-protobuf";

/// [`CONTENT_TYPE`] under a name that `use names::*` cannot shadow.
const PROTOBUF: &str = CONTENT_TYPE;

/// Header names as they appear on the wire (lowercase, matched exactly).
pub mod names {
    pub const MESSAGE_ID: &str = "message_id";
    pub const SCHEMA_FQDN: &str = "schema_fqdn";
    pub const SCHEMA_VERSION: &str = "schema_version";
    pub const CONTENT_TYPE: &str = "content_type";
    pub const PRODUCED_AT: &str = "produced_at";
    pub const PRODUCER: &str = "producer";
    pub const SOURCE: &str = "source";
    pub const RUN_ID: &str = "run_id";
    pub const TRACEPARENT: &str = "traceparent";
    pub const PARTITION_KEY: &str = "partition_key";
    pub const CONTENT_ENCODING: &str = "content_encoding";
    pub const DEDUPE_KEY: &str = "dedupe_key";
    pub const RETRY_COUNT: &str = "retry_count";
    pub const DLQ_REASON: &str = "dlq_reason";
    pub const SCHEMA_HASH: &str = "schema_hash";
    pub const BLOB_REF: &str = "blob_ref";
    pub const BLOB_HASH: &str = "blob_hash";
    pub const BLOB_SIZE: &str = "blob_size";

    /// Every record carries these, in this order on the wire.
    pub const REQUIRED: [&str; 10] = [
        MESSAGE_ID,
        SCHEMA_FQDN,
        SCHEMA_VERSION,
        CONTENT_TYPE,
        PRODUCED_AT,
        PRODUCER,
        SOURCE,
        RUN_ID,
        TRACEPARENT,
        PARTITION_KEY,
    ];

    /// Written after the required ones, in this order, when present.
    pub const OPTIONAL: [&str; 8] =
        [CONTENT_ENCODING, DEDUPE_KEY, RETRY_COUNT, DLQ_REASON, SCHEMA_HASH, BLOB_REF, BLOB_HASH, BLOB_SIZE];

    /// [`REQUIRED`] then [`OPTIONAL`]: the order of [`crate::Headers::to_pairs`].
    pub const ALL: [&str; REQUIRED.len() + OPTIONAL.len()] = {
        let mut all = [""; REQUIRED.len() + OPTIONAL.len()];
        let mut i = 0;
        while i < all.len() {
            all[i] = if i < REQUIRED.len() { REQUIRED[i] } else { OPTIONAL[i - REQUIRED.len()] };
            i += 1;
        }
        all
    };

    /// The position of a known name in [`ALL`]: one `match` (by length,
    /// then bytes) rather than a comparison with each name in turn, as it
    /// runs for every header of every record received.
    pub(crate) fn index(name: &str) -> Option<usize> {
        Some(match name {
            MESSAGE_ID => at::MESSAGE_ID,
            SCHEMA_FQDN => at::SCHEMA_FQDN,
            SCHEMA_VERSION => at::SCHEMA_VERSION,
            CONTENT_TYPE => at::CONTENT_TYPE,
            PRODUCED_AT => at::PRODUCED_AT,
            PRODUCER => at::PRODUCER,
            SOURCE => at::SOURCE,
            RUN_ID => at::RUN_ID,
            TRACEPARENT => at::TRACEPARENT,
            PARTITION_KEY => at::PARTITION_KEY,
            CONTENT_ENCODING => at::CONTENT_ENCODING,
            DEDUPE_KEY => at::DEDUPE_KEY,
            RETRY_COUNT => at::RETRY_COUNT,
            DLQ_REASON => at::DLQ_REASON,
            SCHEMA_HASH => at::SCHEMA_HASH,
            BLOB_REF => at::BLOB_REF,
            BLOB_HASH => at::BLOB_HASH,
            BLOB_SIZE => at::BLOB_SIZE,
            _ => return None,
        })
    }

    /// The position in [`ALL`] of one of its names, found at compile time
    /// when `name` is a constant (0 for a name not in it).
    #[inline]
    pub(crate) const fn position(name: &str) -> usize {
        let mut i = 0;
        while i < ALL.len() {
            if crate::wire::__derive::str_eq(ALL[i], name) {
                return i;
            }
            i += 1;
        }
        0
    }

    /// Each name's position in [`ALL`], for matching on it.
    pub(crate) mod at {
        pub(crate) const MESSAGE_ID: usize = super::position(super::MESSAGE_ID);
        pub(crate) const SCHEMA_FQDN: usize = super::position(super::SCHEMA_FQDN);
        pub(crate) const SCHEMA_VERSION: usize = super::position(super::SCHEMA_VERSION);
        pub(crate) const CONTENT_TYPE: usize = super::position(super::CONTENT_TYPE);
        pub(crate) const PRODUCED_AT: usize = super::position(super::PRODUCED_AT);
        pub(crate) const PRODUCER: usize = super::position(super::PRODUCER);
        pub(crate) const SOURCE: usize = super::position(super::SOURCE);
        pub(crate) const RUN_ID: usize = super::position(super::RUN_ID);
        pub(crate) const TRACEPARENT: usize = super::position(super::TRACEPARENT);
        pub(crate) const PARTITION_KEY: usize = super::position(super::PARTITION_KEY);
        pub(crate) const CONTENT_ENCODING: usize = super::position(super::CONTENT_ENCODING);
        pub(crate) const DEDUPE_KEY: usize = super::position(super::DEDUPE_KEY);
        pub(crate) const RETRY_COUNT: usize = super::position(super::RETRY_COUNT);
        pub(crate) const DLQ_REASON: usize = super::position(super::DLQ_REASON);
        pub(crate) const SCHEMA_HASH: usize = super::position(super::SCHEMA_HASH);
        pub(crate) const BLOB_REF: usize = super::position(super::BLOB_REF);
        pub(crate) const BLOB_HASH: usize = super::position(super::BLOB_HASH);
        pub(crate) const BLOB_SIZE: usize = super::position(super::BLOB_SIZE);
    }
}

/// Every header of the contract. Required headers are plain fields,
/// optional ones are `Option`s; the three blob headers are one
/// [`BlobPointer`] because they only make sense together.
///
/// Producers get these from [`crate::Envelope::builder`]; building one by
/// hand is for relays and tests, and [`Headers::validate`] is the check.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Headers {
    pub message_id: MessageId,
    pub schema_fqdn: Cow<'static, str>,
    pub schema_version: Cow<'static, str>,
    /// Always [`CONTENT_TYPE`]; a field so the header round-trips as sent.
    pub content_type: Cow<'static, str>,
    /// RFC 3339 UTC with `Z`. Kept as text so a relayed header is re-sent
    /// byte for byte, whatever fraction length its producer chose.
    pub produced_at: String,
    pub producer: String,
    pub source: String,
    pub run_id: String,
    pub traceparent: TraceParent,
    pub partition_key: String,
    pub content_encoding: Option<ContentEncoding>,
    pub dedupe_key: Option<String>,
    pub retry_count: Option<u32>,
    pub dlq_reason: Option<String>,
    pub schema_hash: Option<Cow<'static, str>>,
    /// `blob_ref`, `blob_hash` and `blob_size`.
    pub blob: Option<BlobPointer>,
}

impl Headers {
    /// Checks every rule that the field types do not already enforce.
    ///
    /// Parsing runs this too, so a `Headers` from [`Headers::from_pairs`]
    /// is always valid; call it after editing fields by hand.
    pub fn validate(&self) -> Result<(), HeaderError> {
        use names::*;
        let invalid =
            |name: &'static str, value: &str, reason| HeaderError::Invalid { name, value: value.to_owned(), reason };
        let text = |name: &'static str, value: &str| {
            check::text(value).map_err(|reason| {
                if value.is_empty() {
                    HeaderError::Missing { name }
                } else {
                    invalid(name, value, reason)
                }
            })
        };
        text(SCHEMA_FQDN, &self.schema_fqdn)?;
        check::fqdn(&self.schema_fqdn).map_err(|r| invalid(SCHEMA_FQDN, &self.schema_fqdn, r))?;
        text(SCHEMA_VERSION, &self.schema_version)?;
        check::semver(&self.schema_version).map_err(|r| invalid(SCHEMA_VERSION, &self.schema_version, r))?;
        if self.content_type != PROTOBUF {
            return Err(invalid(CONTENT_TYPE, &self.content_type, "is not `application/x-protobuf`"));
        }
        text(PRODUCED_AT, &self.produced_at)?;
        check::rfc3339_utc(&self.produced_at).map_err(|r| invalid(PRODUCED_AT, &self.produced_at, r))?;
        text(PRODUCER, &self.producer)?;
        text(SOURCE, &self.source)?;
        text(RUN_ID, &self.run_id)?;
        if let Some(reason) = self.traceparent.problem() {
            return Err(invalid(TRACEPARENT, &self.traceparent.to_string(), reason));
        }
        text(PARTITION_KEY, &self.partition_key)?;
        let optional = |name: &'static str, value: Option<&str>| match value {
            Some(v) => check::text(v).map_err(|r| invalid(name, v, r)),
            None => Ok(()),
        };
        optional(DEDUPE_KEY, self.dedupe_key.as_deref())?;
        optional(DLQ_REASON, self.dlq_reason.as_deref())?;
        if let Some(hash) = &self.schema_hash {
            check::sha256_ref(hash).map_err(|r| invalid(SCHEMA_HASH, hash, r))?;
        }
        if let Some(blob) = &self.blob {
            check::text(&blob.blob_ref).map_err(|r| invalid(BLOB_REF, &blob.blob_ref, r))?;
            check::sha256_ref(&blob.blob_hash).map_err(|r| invalid(BLOB_HASH, &blob.blob_hash, r))?;
        }
        Ok(())
    }

    /// The headers as wire pairs: the required ones in [`names::REQUIRED`]
    /// order, then the optional ones that are set, in [`names::OPTIONAL`]
    /// order. A fixed order makes records byte-comparable across runs and
    /// runtimes.
    pub fn to_pairs(&self) -> Vec<(&'static str, String)> {
        let mut out = Vec::with_capacity(names::ALL.len());
        self.write_pairs(&mut out, self.content_encoding, self.blob.as_ref());
        out
    }

    /// [`Headers::to_pairs`] with the encoding and blob headers decided by
    /// the caller (the encoder knows them, the fields may be stale).
    pub(crate) fn write_pairs(
        &self,
        out: &mut Vec<(&'static str, String)>,
        encoding: Option<ContentEncoding>,
        blob: Option<&BlobPointer>,
    ) {
        self.visit_pairs(encoding, blob, |k, v| out.push((k, v.to_owned())));
    }

    /// [`Headers::write_pairs`] handing each pair to `f` instead, the
    /// per-record values formatted on the stack: a Kafka producer copies
    /// them into the client's headers and keeps no `String`.
    pub(crate) fn visit_pairs(
        &self,
        encoding: Option<ContentEncoding>,
        blob: Option<&BlobPointer>,
        mut f: impl FnMut(&'static str, &str),
    ) {
        use names::*;
        f(MESSAGE_ID, self.message_id.encode(&mut [0; 36]));
        f(SCHEMA_FQDN, &self.schema_fqdn);
        f(SCHEMA_VERSION, &self.schema_version);
        f(names::CONTENT_TYPE, &self.content_type);
        f(PRODUCED_AT, &self.produced_at);
        f(PRODUCER, &self.producer);
        f(SOURCE, &self.source);
        f(RUN_ID, &self.run_id);
        f(TRACEPARENT, self.traceparent.encode(&mut [0; 55]));
        f(PARTITION_KEY, &self.partition_key);
        if let Some(e) = encoding {
            f(CONTENT_ENCODING, e.as_str());
        }
        if let Some(v) = &self.dedupe_key {
            f(DEDUPE_KEY, v);
        }
        if let Some(v) = self.retry_count {
            f(RETRY_COUNT, &v.to_string());
        }
        if let Some(v) = &self.dlq_reason {
            f(DLQ_REASON, v);
        }
        if let Some(v) = &self.schema_hash {
            f(names::SCHEMA_HASH, v);
        }
        if let Some(b) = blob {
            f(BLOB_REF, &b.blob_ref);
            f(BLOB_HASH, &b.blob_hash);
            f(BLOB_SIZE, &b.blob_size.to_string());
        }
    }

    /// Parses and validates wire pairs.
    ///
    /// Names match exactly (the contract's lowercase names); unknown names
    /// are skipped and not kept. A known name twice is an error, since the
    /// two transports disagree on which copy wins. Errors come in input
    /// order for malformed values, then missing required headers in
    /// [`names::REQUIRED`] order.
    pub fn from_pairs<I, K, V>(pairs: I) -> Result<Headers, HeaderError>
    where
        I: IntoIterator<Item = (K, V)>,
        K: AsRef<str>,
        V: AsRef<str>,
    {
        Headers::from_pairs_sharing(pairs, &[])
    }

    /// [`Headers::from_pairs`] that shares a `schema_fqdn`,
    /// `schema_version` or `schema_hash` value equal to one of `shared`
    /// (the consumer's schema constants) instead of copying it: the same
    /// headers, fewer allocations per record.
    pub(crate) fn from_pairs_sharing<I, K, V>(pairs: I, shared: &[&'static str]) -> Result<Headers, HeaderError>
    where
        I: IntoIterator<Item = (K, V)>,
        K: AsRef<str>,
        V: AsRef<str>,
    {
        use names::at;
        let share = |v: &str| match shared.iter().find(|c| **c == v) {
            Some(c) => Cow::Borrowed(*c),
            None => Cow::Owned(v.to_owned()),
        };
        let mut seen = 0u32;
        let mut message_id = None;
        let mut traceparent = None;
        let mut strings: [Option<Cow<'static, str>>; 18] = Default::default();
        let mut content_type = None;
        let mut content_encoding = None;
        let mut retry_count = None;
        let mut blob_size = None;
        for (k, v) in pairs {
            let (k, v) = (k.as_ref(), v.as_ref());
            let Some(i) = names::index(k) else { continue };
            let name = names::ALL[i];
            if seen & (1 << i) != 0 {
                return Err(HeaderError::Duplicate { name });
            }
            seen |= 1 << i;
            let invalid = |reason| HeaderError::Invalid { name, value: v.to_owned(), reason };
            match i {
                at::MESSAGE_ID => message_id = Some(v.parse::<MessageId>().map_err(invalid)?),
                at::TRACEPARENT => traceparent = Some(v.parse::<TraceParent>().map_err(invalid)?),
                at::CONTENT_ENCODING => content_encoding = Some(v.parse::<ContentEncoding>().map_err(invalid)?),
                at::RETRY_COUNT => retry_count = Some(check::decimal::<u32>(v).map_err(invalid)?),
                at::BLOB_SIZE => blob_size = Some(check::decimal::<u64>(v).map_err(invalid)?),
                // The one value every record shares: no copy.
                at::CONTENT_TYPE if v == PROTOBUF => content_type = Some(Cow::Borrowed(PROTOBUF)),
                at::CONTENT_TYPE => content_type = Some(Cow::Owned(v.to_owned())),
                at::SCHEMA_FQDN | at::SCHEMA_VERSION | at::SCHEMA_HASH => strings[i] = Some(share(v)),
                _ => strings[i] = Some(Cow::Owned(v.to_owned())),
            }
        }
        use names::*;
        let mut take = |i: usize| strings[i].take();
        let missing = |name| HeaderError::Missing { name };
        let message_id = message_id.ok_or(missing(MESSAGE_ID))?;
        let schema_fqdn = take(at::SCHEMA_FQDN).ok_or(missing(SCHEMA_FQDN))?;
        let schema_version = take(at::SCHEMA_VERSION).ok_or(missing(SCHEMA_VERSION))?;
        let content_type = content_type.ok_or(missing(names::CONTENT_TYPE))?;
        let produced_at = take(at::PRODUCED_AT).ok_or(missing(PRODUCED_AT))?.into_owned();
        let producer = take(at::PRODUCER).ok_or(missing(PRODUCER))?.into_owned();
        let source = take(at::SOURCE).ok_or(missing(SOURCE))?.into_owned();
        let run_id = take(at::RUN_ID).ok_or(missing(RUN_ID))?.into_owned();
        let traceparent = traceparent.ok_or(missing(TRACEPARENT))?;
        let partition_key = take(at::PARTITION_KEY).ok_or(missing(PARTITION_KEY))?.into_owned();
        let blob = match (take(at::BLOB_REF), take(at::BLOB_HASH), blob_size) {
            (None, None, None) => None,
            (Some(blob_ref), Some(blob_hash), Some(blob_size)) => {
                Some(BlobPointer { blob_ref: blob_ref.into_owned(), blob_hash: blob_hash.into_owned(), blob_size })
            }
            (r, h, _) => {
                let first_missing = if r.is_none() {
                    BLOB_REF
                } else if h.is_none() {
                    BLOB_HASH
                } else {
                    BLOB_SIZE
                };
                return Err(missing(first_missing));
            }
        };
        let headers = Headers {
            message_id,
            schema_fqdn,
            schema_version,
            content_type,
            produced_at,
            producer,
            source,
            run_id,
            traceparent,
            partition_key,
            content_encoding,
            dedupe_key: take(at::DEDUPE_KEY).map(Cow::into_owned),
            retry_count,
            dlq_reason: take(at::DLQ_REASON).map(Cow::into_owned),
            schema_hash: take(at::SCHEMA_HASH),
            blob,
        };
        headers.validate()?;
        Ok(headers)
    }

    /// `produced_at` as (Unix seconds, nanos).
    pub fn produced_at_unix(&self) -> Option<(i64, u32)> {
        check::rfc3339_utc(&self.produced_at).ok()
    }
}

/// A `produced_at` value as (Unix seconds, nanos), if it is one.
#[cfg(feature = "kafka")]
pub(crate) fn parse_produced_at(v: &str) -> Option<(i64, u32)> {
    check::rfc3339_utc(v).ok()
}

/// Why headers are invalid. [`HeaderError::kind`] names are shared with the
/// Go and Python runtimes and the cross-language vectors.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum HeaderError {
    /// A required header is absent or empty, or one of the three blob
    /// headers is set without the others.
    Missing { name: &'static str },
    /// A header's value breaks its syntax rule; `reason` completes the
    /// sentence "header `name` value `value` …".
    Invalid { name: &'static str, value: String, reason: &'static str },
    /// A known header appears twice.
    Duplicate { name: &'static str },
}

impl HeaderError {
    pub fn kind(&self) -> &'static str {
        match self {
            HeaderError::Missing { .. } => "missing_header",
            HeaderError::Invalid { name: names::TRACEPARENT, .. } => "malformed_traceparent",
            HeaderError::Invalid { name: names::MESSAGE_ID, .. } => "malformed_message_id",
            HeaderError::Invalid { .. } => "malformed_header",
            HeaderError::Duplicate { .. } => "duplicate_header",
        }
    }

    /// The header the error is about.
    pub fn name(&self) -> &'static str {
        match self {
            HeaderError::Missing { name } | HeaderError::Invalid { name, .. } | HeaderError::Duplicate { name } => name,
        }
    }
}

impl fmt::Display for HeaderError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            HeaderError::Missing { name: name @ (names::BLOB_REF | names::BLOB_HASH | names::BLOB_SIZE) } => write!(
                f,
                "header `{name}` is missing: blob_ref, blob_hash and blob_size are set together (the blob pointer pattern)"
            ),
            HeaderError::Missing { name: name @ (names::PRODUCER | names::SOURCE | names::RUN_ID) } => write!(
                f,
                "required header `{name}` is missing or empty: set it with `.{name}(…)` on the envelope builder"
            ),
            HeaderError::Missing { name } => write!(
                f,
                "required header `{name}` is missing or empty: every record carries it (Envelope::builder fills it)"
            ),
            HeaderError::Invalid { name, value, reason } => {
                let shown: String = value.chars().take(80).collect();
                let more = if shown.len() < value.len() { "…" } else { "" };
                write!(f, "header `{name}` value `{}{more}` {reason}", shown.escape_debug())
            }
            HeaderError::Duplicate { name } => {
                write!(f, "header `{name}` appears more than once: send each contract header exactly once")
            }
        }
    }
}

impl std::error::Error for HeaderError {}

#[cfg(test)]
mod tests {
    use super::names;

    #[test]
    fn every_name_has_its_place_in_all_and_others_none() {
        for (i, name) in names::ALL.iter().enumerate() {
            assert_eq!(names::index(name), Some(i), "{name}");
            assert_eq!(names::position(name), i, "{name}");
        }
        assert_eq!(names::ALL.len(), 18);
        for other in ["", "Message_id", "message_id ", "x-other", "blob", "schema_fqdn2"] {
            assert_eq!(names::index(other), None, "{other}");
        }
    }
}
