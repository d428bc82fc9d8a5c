//! The envelope headers of the bus contract, typed.
//! (Being completed: validation and string-map conversion.)

use std::borrow::Cow;

/// Every header of the contract. Required headers are plain fields,
/// optional ones are `Option`s.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Headers {
    pub message_id: String,
    pub schema_fqdn: Cow<'static, str>,
    pub schema_version: Cow<'static, str>,
    pub content_type: Cow<'static, str>,
    pub produced_at: String,
    pub producer: String,
    pub source: String,
    pub run_id: String,
    pub traceparent: String,
    pub partition_key: String,
    pub content_encoding: Option<String>,
    pub dedupe_key: Option<String>,
    pub retry_count: Option<u32>,
    pub dlq_reason: Option<String>,
    pub schema_hash: Option<Cow<'static, str>>,
    pub blob_ref: Option<String>,
    pub blob_hash: Option<String>,
    pub blob_size: Option<u64>,
}

/// Why headers are invalid.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HeaderError;
