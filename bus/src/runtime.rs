//! What the NATS and Kafka transports share besides metrics and handler
//! types: one error type with stable kinds (shared with the Go and Python
//! runtimes, docs/nats.md and docs/kafka.md list them), and the typed env
//! a bus is built with.

use std::fmt;
use std::sync::Arc;

use crate::envelope::EnvelopeError;
use crate::topic::Topic;

/// What went wrong, as a stable name shared with the Go and Python
/// runtimes ([`Error::kind`]). Each transport uses the kinds that apply.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorKind {
    /// The server or cluster cannot be reached, or the client cannot start.
    Connect,
    /// The record cannot be built or encoded ([`Error::envelope`] has why).
    Envelope,
    /// The record is over the server's `max_payload` (NATS, headers
    /// counted) or the topic's `max.message.bytes` (Kafka): nothing was
    /// sent; publish a blob pointer.
    TooLarge,
    /// NATS: the header block exceeds JetStream's 64 KiB.
    HeadersTooLarge,
    /// NATS: no stream stores the subject; provision the env first.
    NoStream,
    /// Kafka: the topic does not exist; provision the env first.
    NoTopic,
    /// No ack (NATS, after every retry) or delivery report (Kafka, within
    /// the delivery timeout); republishing the same envelope is safe.
    Timeout,
    /// The server refused the record.
    Publish,
    /// Creating, reading or running a consumer failed.
    Consume,
    /// Reading or writing streams or topics failed.
    Provision,
    /// A setting that cannot work: an env or topic the layout lacks, a
    /// filter outside the topic, no dlq domain, a bad client setting.
    Config,
    /// A dead letter could not be stored; the record was not finished
    /// (NATS: nak'ed; Kafka: its offset not stored) and comes back.
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
            ErrorKind::NoTopic => "no_topic",
            ErrorKind::Timeout => "timeout",
            ErrorKind::Publish => "publish",
            ErrorKind::Consume => "consume",
            ErrorKind::Provision => "provision",
            ErrorKind::Config => "config",
            ErrorKind::Dlq => "dlq",
        }
    }
}

/// An error of a transport: a kind, a message saying what to do, and the
/// envelope or client library error behind it.
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

/// The typed env a bus was built with: subjects and topics are formed
/// from it (as the topic's own env type), never from its name.
#[derive(Clone)]
pub(crate) struct TypedEnv(Arc<dyn std::any::Any + Send + Sync>);

impl TypedEnv {
    pub fn new<E: Send + Sync + 'static>(env: E) -> TypedEnv {
        TypedEnv(Arc::new(env))
    }

    /// The env as topic `T`'s env type. A topic of another registry
    /// (another env type) is a `config` error, not a subject built from a
    /// string.
    pub fn of<T: Topic>(&self) -> Result<T::Env, Error> {
        self.0.downcast_ref::<T::Env>().cloned().ok_or_else(|| {
            Error::new(
                ErrorKind::Config,
                format!(
                    "topic `{}` takes envs of type `{}`, but the bus was built with another env type: build the bus \
                     with the `Env` of the registry that generated the topic",
                    T::ID,
                    std::any::type_name::<T::Env>()
                ),
            )
        })
    }
}

/// A publisher's identity headers: `producer` (required, also the metric
/// label), `source` (default: the producer) and `run_id` (default: one
/// fresh id per publisher).
#[derive(Clone, Debug, Default)]
pub(crate) struct Identity {
    pub producer: Option<String>,
    pub source: Option<String>,
    pub run_id: Option<String>,
}

/// The identity a built publisher uses, defaults applied.
pub(crate) struct Resolved {
    pub producer: String,
    pub source: String,
    pub run_id: String,
}

impl Identity {
    pub fn resolve(self) -> Result<Resolved, Error> {
        let producer = self.producer.ok_or_else(|| {
            Error::new(ErrorKind::Config, "a publisher needs `.producer(…)`: the producer header and metric label")
        })?;
        Ok(Resolved {
            source: self.source.unwrap_or_else(|| producer.clone()),
            run_id: self.run_id.unwrap_or_else(|| crate::headers::MessageId::new_v7().to_string()),
            producer,
        })
    }
}

/// The `.producer()`, `.source()` and `.run_id()` setters of a publisher
/// builder with an `identity: Identity` field.
macro_rules! identity_setters {
    () => {
        /// The `producer` header and metric label, e.g. `yfinance-go@ingest-1`.
        pub fn producer(mut self, v: impl Into<String>) -> Self {
            self.identity.producer = Some(v.into());
            self
        }

        /// The `source` header, e.g. `yfinance-go` (default: the producer).
        pub fn source(mut self, v: impl Into<String>) -> Self {
            self.identity.source = Some(v.into());
            self
        }

        /// The `run_id` header (default: one fresh id per publisher).
        pub fn run_id(mut self, v: impl Into<String>) -> Self {
            self.identity.run_id = Some(v.into());
            self
        }
    };
}
pub(crate) use identity_setters;
