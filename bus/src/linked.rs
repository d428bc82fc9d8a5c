//! The schema hash, recomputed from the types this binary actually links.
//!
//! `Schema::SCHEMA_HASH` is copied from the registry's lock file when code
//! is generated. If the generated Rust types and the lock drift apart (a
//! stale `OUT_DIR`, a proto edited without re-locking, a vendored copy of
//! generated code), a producer would stamp records with a hash that does
//! not describe their bytes. [`Linked::verify_linked`] recomputes the hash
//! from the descriptors embedded next to the types and compares, so a
//! service can refuse to start instead of publishing mislabelled records.
//!
//! Behind the `reflect` feature: it links `prost-reflect` and the canonical
//! form, which most services only need in a startup check or a test.
//!
//! Errors instead of panics: a generated `descriptor()` returns
//! `Result<_, LinkError>`, and a descriptor set that fails to decode is an
//! error on every call (it is not cached, so nothing half-built is kept).

use std::fmt;
use std::sync::OnceLock;

pub use prost_reflect;
use prost_reflect::{DescriptorPool, MessageDescriptor};

use crate::schema::{Schema, SchemaError};

/// The canonical schema hash of a message, `sha256:<64 hex>`: the same
/// function the generator used to write the lock file.
pub fn canonical_hash(desc: &MessageDescriptor) -> String {
    ampy_canonical::schema_hash(desc)
}

/// A payload type that can produce its own descriptor.
pub trait Linked: Schema {
    /// The descriptor of `Self::FQDN`, from the file descriptor set the
    /// generated code embeds (see [`pool`] and [`message`]).
    fn descriptor() -> Result<MessageDescriptor, LinkError>;

    /// Compares the locked `SCHEMA_HASH` with the hash of the linked
    /// descriptor. A type without a locked hash has nothing to compare and
    /// passes.
    fn verify_linked() -> Result<(), LinkError> {
        let Some(locked) = Self::SCHEMA_HASH else { return Ok(()) };
        let got = canonical_hash(&Self::descriptor()?);
        if got != locked {
            return Err(SchemaError::SchemaHashMismatch { expected: locked, got }.into());
        }
        Ok(())
    }
}

/// Decodes an embedded `FileDescriptorSet` once per process.
///
/// Generated code keeps one `static` cell per file set and calls this from
/// `descriptor()`. Success is cached; a failure is returned (never cached,
/// never a panic), which in practice means the embedded bytes do not match
/// the `prost-reflect` this binary links.
pub fn pool(cell: &'static OnceLock<DescriptorPool>, fds: &'static [u8]) -> Result<&'static DescriptorPool, LinkError> {
    if let Some(p) = cell.get() {
        return Ok(p);
    }
    let decoded = DescriptorPool::decode(fds).map_err(|e| LinkError::BadDescriptorSet { reason: e.to_string() })?;
    // Another thread may have won the race; either pool is the same.
    Ok(cell.get_or_init(|| decoded))
}

/// [`pool`], then the message named `fqdn` in it.
pub fn message(
    cell: &'static OnceLock<DescriptorPool>,
    fds: &'static [u8],
    fqdn: &'static str,
) -> Result<MessageDescriptor, LinkError> {
    pool(cell, fds)?.get_message_by_name(fqdn).ok_or(LinkError::MissingMessage { fqdn })
}

/// Why the linked check could not pass.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LinkError {
    /// The embedded descriptor set does not decode.
    BadDescriptorSet { reason: String },
    /// The descriptor set has no message with the type's FQDN.
    MissingMessage { fqdn: &'static str },
    /// The linked schema is not the locked one
    /// ([`SchemaError::SchemaHashMismatch`], `expected` = locked, `got` =
    /// recomputed).
    Schema(SchemaError),
}

impl LinkError {
    pub fn kind(&self) -> &'static str {
        match self {
            LinkError::BadDescriptorSet { .. } => "bad_descriptor_set",
            LinkError::MissingMessage { .. } => "unknown_fqdn",
            LinkError::Schema(e) => e.kind(),
        }
    }
}

impl From<SchemaError> for LinkError {
    fn from(e: SchemaError) -> Self {
        LinkError::Schema(e)
    }
}

impl fmt::Display for LinkError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LinkError::BadDescriptorSet { reason } => write!(
                f,
                "the embedded file descriptor set does not decode ({reason}): regenerate the code with this ampy-bus"
            ),
            LinkError::MissingMessage { fqdn } => {
                write!(f, "the embedded file descriptor set has no message `{fqdn}`: regenerate the code")
            }
            LinkError::Schema(SchemaError::SchemaHashMismatch { expected, got }) => write!(
                f,
                "the linked schema hashes to {got} but the registry locked {expected}: \
                 the generated types and the lock file disagree; regenerate, or re-lock if the proto change is intended"
            ),
            LinkError::Schema(e) => e.fmt(f),
        }
    }
}

impl std::error::Error for LinkError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            LinkError::Schema(e) => Some(e),
            _ => None,
        }
    }
}
