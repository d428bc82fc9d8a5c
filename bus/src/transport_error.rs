//! The error type both transports share: a kind (each transport's own
//! `ErrorKind`, stable names shared with the Go and Python runtimes), a
//! message saying what to do, and the envelope or client library error
//! behind it.

use std::fmt;

use crate::envelope::EnvelopeError;

/// A transport's error kinds.
pub trait Kind: Copy + fmt::Debug + Send + Sync + 'static {
    /// The kind of an envelope error (building, encoding).
    const ENVELOPE: Self;
}

/// An error of a transport; `ampy_bus::nats::Error` and
/// `ampy_bus::kafka::Error` name it with their own kinds.
#[derive(Debug)]
pub struct TransportError<K> {
    kind: K,
    message: String,
    envelope: Option<Box<EnvelopeError>>,
    source: Option<Box<dyn std::error::Error + Send + Sync>>,
}

impl<K: Kind> TransportError<K> {
    pub(crate) fn new(kind: K, message: impl Into<String>) -> Self {
        TransportError { kind, message: message.into(), envelope: None, source: None }
    }

    pub(crate) fn with_source(
        kind: K,
        message: impl Into<String>,
        source: impl Into<Box<dyn std::error::Error + Send + Sync>>,
    ) -> Self {
        TransportError { kind, message: message.into(), envelope: None, source: Some(source.into()) }
    }

    pub fn kind(&self) -> K {
        self.kind
    }

    /// The envelope error behind an envelope kind.
    pub fn envelope(&self) -> Option<&EnvelopeError> {
        self.envelope.as_deref()
    }
}

impl<K> fmt::Display for TransportError<K> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)?;
        if let Some(s) = &self.source {
            write!(f, " ({s})")?;
        }
        Ok(())
    }
}

impl<K: fmt::Debug> std::error::Error for TransportError<K> {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match (&self.envelope, &self.source) {
            (Some(e), _) => Some(e.as_ref()),
            (None, Some(s)) => Some(s.as_ref()),
            _ => None,
        }
    }
}

impl<K: Kind> From<EnvelopeError> for TransportError<K> {
    fn from(e: EnvelopeError) -> Self {
        TransportError { kind: K::ENVELOPE, message: e.to_string(), envelope: Some(Box::new(e)), source: None }
    }
}

impl<K: Kind> From<crate::RouteError> for TransportError<K> {
    fn from(e: crate::RouteError) -> Self {
        EnvelopeError::Route(e).into()
    }
}
