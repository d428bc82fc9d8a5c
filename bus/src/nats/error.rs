use std::fmt;

use crate::envelope::EnvelopeError;

/// What went wrong, as a stable name shared with the Go and Python
/// runtimes ([`Error::kind`]); docs/nats.md lists them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorKind {
    /// The server cannot be reached or the connection failed.
    Connect,
    /// The record cannot be built or encoded ([`Error::envelope`] has why).
    Envelope,
    /// Headers plus payload exceed the server's `max_payload`.
    TooLarge,
    /// The NATS header block exceeds JetStream's 64 KiB.
    HeadersTooLarge,
    /// No stream stores the subject: provision the env first.
    NoStream,
    /// No publish ack within the timeout, after every retry.
    Timeout,
    /// The server refused the publish.
    Publish,
    /// Creating or reading a consumer, fetching or acking failed.
    Consume,
    /// Reading or writing a stream's configuration failed.
    Provision,
    /// A setting that cannot work: an env or topic the layout lacks, a
    /// filter outside the topic, no dlq domain.
    Config,
    /// A dead letter could not be stored; the record was nak'ed instead.
    Dlq,
}

impl ErrorKind {
    pub const fn as_str(self) -> &'static str {
        match self {
            ErrorKind::Connect => "connect",
            ErrorKind::Envelope => "envelope",
            ErrorKind::TooLarge => "too_large",
            ErrorKind::HeadersTooLarge => "headers_too_large",
            ErrorKind::NoStream => "no_stream",
            ErrorKind::Timeout => "timeout",
            ErrorKind::Publish => "publish",
            ErrorKind::Consume => "consume",
            ErrorKind::Provision => "provision",
            ErrorKind::Config => "config",
            ErrorKind::Dlq => "dlq",
        }
    }
}

/// An error of the NATS transport: a kind, a message saying what to do,
/// and the client library's error when there is one.
#[derive(Debug)]
pub struct Error {
    kind: ErrorKind,
    message: String,
    envelope: Option<Box<EnvelopeError>>,
    source: Option<Box<dyn std::error::Error + Send + Sync>>,
}

impl Error {
    pub(crate) fn new(kind: ErrorKind, message: impl Into<String>) -> Error {
        Error { kind, message: message.into(), envelope: None, source: None }
    }

    pub(crate) fn with_source(
        kind: ErrorKind,
        message: impl Into<String>,
        source: impl Into<Box<dyn std::error::Error + Send + Sync>>,
    ) -> Error {
        Error { kind, message: message.into(), envelope: None, source: Some(source.into()) }
    }

    pub fn kind(&self) -> ErrorKind {
        self.kind
    }

    /// The envelope error behind an [`ErrorKind::Envelope`].
    pub fn envelope(&self) -> Option<&EnvelopeError> {
        self.envelope.as_deref()
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)?;
        if let Some(s) = &self.source {
            write!(f, " ({s})")?;
        }
        Ok(())
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match (&self.envelope, &self.source) {
            (Some(e), _) => Some(e.as_ref()),
            (None, Some(s)) => Some(s.as_ref()),
            _ => None,
        }
    }
}

impl From<EnvelopeError> for Error {
    fn from(e: EnvelopeError) -> Error {
        Error { kind: ErrorKind::Envelope, message: e.to_string(), envelope: Some(Box::new(e)), source: None }
    }
}

impl From<crate::RouteError> for Error {
    fn from(e: crate::RouteError) -> Error {
        EnvelopeError::Route(e).into()
    }
}
