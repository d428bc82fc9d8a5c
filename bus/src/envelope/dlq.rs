//! Dead letters: records a consumer gives up on, republished with their
//! original headers and bytes so that nothing is lost and the failure can
//! be replayed once fixed.
//!
//! A dead letter works on the raw received pairs, not on [`crate::Headers`]:
//! the record may be on the DLQ precisely because its headers do not parse,
//! and unknown headers from a newer producer must survive too.

use crate::headers::names;
use crate::key::RouteError;
use crate::topic::{checked_name, token_problem, EnvName, Subject, SubjectBuf};

/// The namespace of the contract's subjects.
pub const DEFAULT_NAMESPACE: &str = "ampy";

/// Longest `dlq_reason` written, in bytes. Reasons embed error messages,
/// which can quote header values; the cap keeps one bad record from
/// producing an oversized header.
pub const MAX_REASON_LEN: usize = 1024;

/// Where dead letters of one env go: `{namespace}.{env}.dlq.v1.{source_domain}`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Dlq {
    namespace: String,
    env: String,
}

/// A record ready to publish on the DLQ.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DeadLetter {
    pub subject: Subject,
    /// The received headers in received order, unknown ones included,
    /// with `dlq_reason` set (replaced in place if the record had one).
    pub headers: Vec<(String, String)>,
    /// The received payload bytes, untouched (still gzipped if they were).
    pub payload: Vec<u8>,
}

impl Dlq {
    /// The DLQ of `env` in the `ampy` namespace.
    pub fn new<E: EnvName>(env: E) -> Result<Dlq, RouteError> {
        Dlq::with_namespace(DEFAULT_NAMESPACE, env)
    }

    /// The DLQ of `env` in `namespace`; `env` must be one of its set's
    /// names ([`RouteError::UnknownEnv`] otherwise), like every subject's.
    pub fn with_namespace<E: EnvName>(namespace: &str, env: E) -> Result<Dlq, RouteError> {
        if let Some(problem) = token_problem(namespace) {
            return Err(RouteError::IllegalToken { field: "namespace", value: namespace.to_owned(), problem });
        }
        let env = checked_name(&env)?;
        Ok(Dlq { namespace: namespace.to_owned(), env: env.to_owned() })
    }

    /// `ampy.prod.dlq.v1.bars` for `source_domain` `bars`.
    pub fn subject(&self, source_domain: &str) -> Result<Subject, RouteError> {
        let mut s = SubjectBuf::new(&self.namespace, &self.env, "dlq", "v1", source_domain.len() + 1)?;
        s.param("source_domain", &source_domain)?;
        Ok(s.finish())
    }

    /// Turns a received record into a dead letter.
    ///
    /// `reason` is usually [`crate::EnvelopeError::dlq_reason`]; it is made
    /// single-line and capped at [`MAX_REASON_LEN`]. `retry_count` is left
    /// as received: it counts republishes to the source topic, and the DLQ
    /// is not one.
    pub fn dead_letter<I, K, V>(
        &self,
        source_domain: &str,
        headers: I,
        payload: impl Into<Vec<u8>>,
        reason: &str,
    ) -> Result<DeadLetter, RouteError>
    where
        I: IntoIterator<Item = (K, V)>,
        K: AsRef<str>,
        V: AsRef<str>,
    {
        let subject = self.subject(source_domain)?;
        let reason = sanitize_reason(reason);
        let mut out: Vec<(String, String)> = Vec::new();
        let mut placed = false;
        for (k, v) in headers {
            let k = k.as_ref();
            if k == names::DLQ_REASON {
                // Keep the position, drop extra copies: one reason, the latest.
                if !placed {
                    out.push((k.to_owned(), reason.clone()));
                    placed = true;
                }
                continue;
            }
            out.push((k.to_owned(), v.as_ref().to_owned()));
        }
        if !placed {
            out.push((names::DLQ_REASON.to_owned(), reason));
        }
        Ok(DeadLetter { subject, headers: out, payload: payload.into() })
    }
}

/// One line, at most [`MAX_REASON_LEN`] bytes, never empty.
pub fn sanitize_reason(reason: &str) -> String {
    let mut out = String::with_capacity(reason.len().min(MAX_REASON_LEN));
    for c in reason.trim().chars() {
        let c = if c.is_control() { ' ' } else { c };
        if out.len() + c.len_utf8() > MAX_REASON_LEN {
            break;
        }
        out.push(c);
    }
    if out.is_empty() {
        out.push_str("unspecified");
    }
    out
}
