//! The forms the AmpyFin bus contract fixes byte for byte, shared by the
//! generator (`ampygen`) and the runtime (`ampy-bus`) so they cannot drift:
//!
//! - the canonical schema form and hash ([`canonical_form`],
//!   [`schema_hash`]; feature `schema`, on by default), normative spec in
//!   `docs/schema-hash.md`;
//! - the text of subject tokens and key timestamps ([`text`]), per
//!   docs/registry.md, with no dependencies at all, so the runtime links it
//!   even without the `schema` feature;
//! - the NATS header names, stream names and metric names ([`transport`]),
//!   per docs/nats.md;
//! - the Kafka partitioning rule, Java's murmur2 ([`kafka`]), per
//!   docs/kafka.md.

pub mod kafka;
#[cfg(feature = "schema")]
mod schema;
pub mod text;
pub mod transport;

#[cfg(feature = "schema")]
pub use schema::*;
