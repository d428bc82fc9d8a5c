//! What a payload type promises about its schema, and the check a consumer
//! runs before trusting a record's bytes.

use std::fmt;

use crate::headers::Headers;

/// Delivery semantics of a QoS tier.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Delivery {
    AtLeastOnce,
    AtMostOnce,
}

impl Delivery {
    pub const fn as_str(self) -> &'static str {
        match self {
            Delivery::AtLeastOnce => "at_least_once",
            Delivery::AtMostOnce => "at_most_once",
        }
    }
}

/// A QoS tier from the registry's `qos:` section.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Qos {
    /// The tier's name, e.g. `critical`.
    pub tier: &'static str,
    pub delivery: Delivery,
    /// Publish → first delivery target, p99, when the registry sets one.
    pub p99_ms: Option<u32>,
}

/// A payload type with a registered schema.
///
/// Implemented by ampygen's generated code for every payload in the registry
/// and by `#[derive(Payload)]`; the constants are copied from the registry
/// at build time, so a binary always knows which contract it was built for.
pub trait Schema {
    /// Fully qualified protobuf message name, the `schema_fqdn` header.
    const FQDN: &'static str;
    /// Semver of the schema, the `schema_version` header.
    const SCHEMA_VERSION: &'static str;
    /// Canonical schema hash (`sha256:…`) as locked in the registry, the
    /// `schema_hash` header. `None` for explicit derives that name no hash.
    const SCHEMA_HASH: Option<&'static str>;

    /// Checks that a record's headers announce this schema.
    ///
    /// The FQDN must match exactly. The hash is compared when both sides
    /// have one: a producer built against other protos under the same name
    /// is caught here, before its bytes are decoded into the wrong shape.
    fn verify(headers: &Headers) -> Result<(), SchemaError> {
        verify_schema(Self::FQDN, Self::SCHEMA_HASH, headers)
    }
}

/// The check behind [`Schema::verify`], usable without a type.
#[inline]
pub fn verify_schema(fqdn: &'static str, hash: Option<&'static str>, headers: &Headers) -> Result<(), SchemaError> {
    if headers.schema_fqdn != fqdn {
        return Err(SchemaError::WrongSchema { expected: fqdn, got: headers.schema_fqdn.to_string() });
    }
    match (hash, headers.schema_hash.as_deref()) {
        (Some(expected), Some(got)) if expected != got => {
            Err(SchemaError::SchemaHashMismatch { expected, got: got.to_owned() })
        }
        _ => Ok(()),
    }
}

/// Why a record's headers do not match the schema a consumer expects.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SchemaError {
    /// `schema_fqdn` names another message type.
    WrongSchema { expected: &'static str, got: String },
    /// Same message name, different schema: the producer was built against
    /// other protos. Route the record to the DLQ with `schema_hash_mismatch`.
    SchemaHashMismatch { expected: &'static str, got: String },
}

impl SchemaError {
    /// Stable kind name shared with the Go and Python runtimes.
    pub fn kind(&self) -> &'static str {
        match self {
            SchemaError::WrongSchema { .. } => "unknown_fqdn",
            SchemaError::SchemaHashMismatch { .. } => "hash_mismatch",
        }
    }
}

impl fmt::Display for SchemaError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SchemaError::WrongSchema { expected, got } => {
                write!(f, "schema_fqdn is `{got}`, expected `{expected}`")
            }
            SchemaError::SchemaHashMismatch { expected, got } => {
                write!(f, "schema_hash is `{got}`, expected `{expected}`: the producer was built against other protos")
            }
        }
    }
}

impl std::error::Error for SchemaError {}
