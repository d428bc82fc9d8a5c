//! Envelopes (being written).
pub struct Envelope;
pub struct EnvelopeBuilder;
pub struct EnvelopeError;
pub struct Record;
