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
pub type Error = crate::transport_error::TransportError<ErrorKind>;

impl crate::transport_error::Kind for ErrorKind {
    const ENVELOPE: ErrorKind = ErrorKind::Envelope;
}
