//! `ampy-bus`: the runtime that ampygen-generated code and
//! `#[derive(Payload)]` target.
//!
//! Every service on the AmpyFin bus links this crate, so it carries only what
//! a producer or consumer needs at run time: the contract's headers
//! ([`Headers`]), envelopes with gzip and blob pointers ([`Envelope`]),
//! subjects and subscription patterns ([`topic`]), partition keys ([`key`])
//! and schema checks ([`Schema`]). Compiling protos, reading the registry
//! and rendering code live in the `ampygen` crate, a build dependency.
//!
//! The traits are the seam between the two: generated code and the derive
//! implement them with constants taken from the registry, and the runtime
//! only ever calls through them, so hand-written and generated payloads
//! behave identically.

pub mod envelope;
#[cfg(any(feature = "nats", feature = "kafka"))]
mod handler;
pub mod headers;
#[cfg(feature = "kafka")]
pub mod kafka;
pub mod key;
#[cfg(feature = "reflect")]
pub mod linked;
#[cfg(feature = "reflect")]
pub use linked::{LinkError, Linked};
#[cfg(any(feature = "nats", feature = "kafka"))]
mod metrics;
#[cfg(feature = "nats")]
pub mod nats;
#[cfg(any(feature = "nats", feature = "kafka"))]
mod runtime;
pub mod schema;
pub mod topic;
pub mod transport;

pub mod wire;

pub use envelope::{BlobPointer, DeadLetter, Dlq, Envelope, EnvelopeBuilder, EnvelopeError, Record};
pub use headers::{ContentEncoding, HeaderError, Headers, MessageId, TraceParent};
pub use key::{PartitionKey, RouteError};
pub use schema::{Delivery, Qos, Schema, SchemaError};
pub use topic::{Env, EnvName, Subject, Topic};
pub use wire::WireShape;

#[cfg(feature = "derive")]
pub use ampygen_macros::{Payload, WireShape};

/// Re-exported so generated code and derives name one `prost`, the one
/// this runtime was built against.
pub use prost;
pub use prost_types;

/// Includes the module tree that `ampygen::configure().compile()` wrote to
/// `OUT_DIR`: one line instead of an `include!` per proto package.
///
/// ```ignore
/// mod contract {
///     ampy_bus::include_generated!();
/// }
/// use contract::ampy::bars::v1::BarBatch;
/// ```
#[macro_export]
macro_rules! include_generated {
    () => {
        include!(concat!(env!("OUT_DIR"), "/ampygen.rs"));
    };
    ($file:literal) => {
        include!(concat!(env!("OUT_DIR"), "/", $file));
    };
}
