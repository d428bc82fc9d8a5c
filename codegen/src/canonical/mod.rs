//! Canonical schema form and hash (see docs/schema-hash.md).
