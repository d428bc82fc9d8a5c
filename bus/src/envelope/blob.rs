//! The blob pointer pattern: payloads too large for the bus travel through
//! object storage, and the record carries where they are and what they
//! must hash to.

use sha2::{Digest, Sha256};

use super::EnvelopeError;
use crate::headers::hex;

/// `blob_ref`, `blob_hash` and `blob_size`: where the payload is stored
/// and how a consumer recognises the right bytes.
///
/// The hash is the consumer's only protection against a stale or
/// overwritten object (an `s3://` key can be rewritten after publishing),
/// so [`BlobPointer::verify`] is not optional.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct BlobPointer {
    /// Where the bytes are, e.g. `s3://bucket/key?versionId=…`.
    pub blob_ref: String,
    /// `sha256:` and 64 lowercase hex digits of the stored bytes.
    pub blob_hash: String,
    /// Length of the stored bytes.
    pub blob_size: u64,
}

impl BlobPointer {
    /// Describes `bytes`, stored (or about to be stored) at `blob_ref`.
    pub fn for_bytes(blob_ref: impl Into<String>, bytes: &[u8]) -> BlobPointer {
        BlobPointer { blob_ref: blob_ref.into(), blob_hash: sha256(bytes), blob_size: bytes.len() as u64 }
    }

    /// Checks fetched bytes against the pointer: size first (free), then
    /// the SHA-256.
    pub fn verify(&self, bytes: &[u8]) -> Result<(), EnvelopeError> {
        if bytes.len() as u64 != self.blob_size {
            return Err(EnvelopeError::BlobSizeMismatch {
                blob_ref: self.blob_ref.clone(),
                expected: self.blob_size,
                got: bytes.len() as u64,
            });
        }
        let got = sha256(bytes);
        if got != self.blob_hash {
            return Err(EnvelopeError::BlobHashMismatch {
                blob_ref: self.blob_ref.clone(),
                expected: self.blob_hash.clone(),
                got,
            });
        }
        Ok(())
    }
}

/// `sha256:<hex>` of `bytes`.
pub fn sha256(bytes: &[u8]) -> String {
    let mut s = String::with_capacity(71);
    s.push_str("sha256:");
    s.push_str(&hex(&Sha256::digest(bytes)));
    s
}
