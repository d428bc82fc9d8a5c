/// What went wrong, as a stable name shared with the Go and Python
/// runtimes ([`Error::kind`]); docs/kafka.md lists them. The names are
/// the NATS transport's where the meaning is the same.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorKind {
    /// The brokers cannot be reached or the client cannot be created.
    Connect,
    /// The record cannot be built or encoded ([`Error::envelope`] has why).
    Envelope,
    /// The record is over `max.message.bytes`: send a blob pointer.
    TooLarge,
    /// The topic does not exist: provision the env first.
    NoTopic,
    /// No delivery report within the delivery timeout; republishing is
    /// safe (consumers are idempotent on message_id).
    Timeout,
    /// The broker refused the record.
    Publish,
    /// Subscribing, fetching or committing failed.
    Consume,
    /// Creating or altering topics failed.
    Provision,
    /// A setting that cannot work: an env or topic the layout lacks, no
    /// dlq domain, a bad client setting.
    Config,
    /// A dead letter could not be stored; the record stays unfinished and
    /// comes back after a restart.
    Dlq,
}

impl ErrorKind {
    pub const fn as_str(self) -> &'static str {
        match self {
            ErrorKind::Connect => "connect",
            ErrorKind::Envelope => "envelope",
            ErrorKind::TooLarge => "too_large",
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

/// An error of the Kafka transport: a kind, a message saying what to do,
/// and the client library's error when there is one.
pub type Error = crate::transport_error::TransportError<ErrorKind>;

impl crate::transport_error::Kind for ErrorKind {
    const ENVELOPE: ErrorKind = ErrorKind::Envelope;
}
