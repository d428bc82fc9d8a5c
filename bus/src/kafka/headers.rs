//! Envelope headers ↔ Kafka record headers, by the one mapping of
//! docs/kafka.md: each envelope header is one record header under its
//! envelope name verbatim (`message_id`, `schema_fqdn`, …), the value its
//! UTF-8 bytes, in the envelope's own order. Names match exactly.

use rdkafka::message::{BorrowedMessage, Header, OwnedHeaders};

use crate::envelope::{sanitize_reason, EnvelopeError};
use crate::headers::{names, HeaderError};

/// One received record header: name and value bytes as sent; `None` is
/// Kafka's null value.
pub type RawHeader = (String, Option<Vec<u8>>);

/// Envelope pairs → record headers, in the given order.
pub fn to_kafka<'a, I>(pairs: I) -> OwnedHeaders
where
    I: IntoIterator<Item = (&'a str, &'a str)>,
{
    let pairs = pairs.into_iter();
    let mut out = OwnedHeaders::new_with_capacity(pairs.size_hint().0);
    for (k, v) in pairs {
        out = out.insert(Header { key: k, value: Some(v.as_bytes()) });
    }
    out
}

/// The received headers of `msg`, in received order, null values kept.
///
/// Read through librdkafka's C API rather than rdkafka's `Headers`
/// accessor, which panics on a header name that is not UTF-8: a hostile
/// or broken producer must make a poison pill, not abort the consumer. A
/// name that is not UTF-8 is kept with U+FFFD replacements (it can never
/// be a contract name, so decoding ignores it and the dead letter keeps
/// it readable).
pub fn received(msg: &BorrowedMessage<'_>) -> Vec<RawHeader> {
    use rdkafka::bindings as rd;
    let mut out = Vec::new();
    let mut hdrs: *mut rd::rd_kafka_headers_t = std::ptr::null_mut();
    // SAFETY: `msg.ptr()` is the live message `msg` borrows; the headers
    // it returns belong to that message and outlive this call. Every
    // pointer read below comes from librdkafka for an index below the
    // count, and is copied before `msg` can be dropped.
    unsafe {
        if rd::rd_kafka_message_headers(msg.ptr(), &mut hdrs) != rd::rd_kafka_resp_err_t::RD_KAFKA_RESP_ERR_NO_ERROR
            || hdrs.is_null()
        {
            return out;
        }
        let count = rd::rd_kafka_header_cnt(hdrs);
        out.reserve(count);
        for i in 0..count {
            let mut name: *const std::os::raw::c_char = std::ptr::null();
            let mut value: *const std::os::raw::c_void = std::ptr::null();
            let mut size: usize = 0;
            if rd::rd_kafka_header_get_all(hdrs, i, &mut name, &mut value, &mut size)
                != rd::rd_kafka_resp_err_t::RD_KAFKA_RESP_ERR_NO_ERROR
                || name.is_null()
            {
                continue;
            }
            let name = String::from_utf8_lossy(std::ffi::CStr::from_ptr(name).to_bytes()).into_owned();
            let value = if value.is_null() {
                None
            } else {
                Some(std::slice::from_raw_parts(value.cast::<u8>(), size).to_vec())
            };
            out.push((name, value));
        }
    }
    out
}

/// The received headers as envelope pairs, for decoding: unknown names
/// are skipped; a contract header with a null value counts as missing and
/// one that is not UTF-8 is malformed (both poison pills).
pub fn envelope_pairs(raw: &[RawHeader]) -> Result<Vec<(&str, &str)>, EnvelopeError> {
    let mut out = Vec::with_capacity(raw.len());
    for (k, v) in raw {
        let Some(name) = names::ALL.iter().find(|n| **n == k.as_str()) else { continue };
        let Some(v) = v else { return Err(HeaderError::Missing { name }.into()) };
        let v = std::str::from_utf8(v).map_err(|_| HeaderError::Invalid {
            name,
            value: String::from_utf8_lossy(v).into_owned(),
            reason: "is not UTF-8",
        })?;
        out.push((k.as_str(), v));
    }
    Ok(out)
}

/// A dead letter's headers: every received header in received order,
/// unknown and null ones included, with `dlq_reason` set once (replaced
/// in place if the record had one, else appended), sanitized as on NATS.
pub fn dead_letter(raw: &[RawHeader], reason: &str) -> OwnedHeaders {
    let reason = sanitize_reason(reason);
    let mut out = OwnedHeaders::new_with_capacity(raw.len() + 1);
    let mut placed = false;
    for (k, v) in raw {
        if k == names::DLQ_REASON {
            if !placed {
                out = out.insert(Header { key: k, value: Some(reason.as_bytes()) });
                placed = true;
            }
            continue;
        }
        out = out.insert(Header { key: k, value: v.as_deref() });
    }
    if !placed {
        out = out.insert(Header { key: names::DLQ_REASON, value: Some(reason.as_bytes()) });
    }
    out
}

/// Kafka's size of a record in a v2 batch of one, the bound the broker
/// checks against `max.message.bytes`: 61 bytes of batch header, 21 of
/// record overhead (a fixed upper bound of its varints), the key and
/// value, and 10 + name + value per header (docs/kafka.md).
pub fn record_size<'a>(key: &[u8], value: &[u8], headers: impl IntoIterator<Item = (&'a str, usize)>) -> usize {
    61 + 21 + key.len() + value.len() + headers.into_iter().map(|(k, v)| 10 + k.len() + v).sum::<usize>()
}

#[cfg(test)]
mod tests {
    use super::*;
    use rdkafka::message::Headers as _;

    #[test]
    fn headers_keep_names_values_and_order() {
        let h = to_kafka([("message_id", "m"), ("producer", "p"), ("x-other", "v")]);
        let got: Vec<(&str, Option<&[u8]>)> = h.iter().map(|h| (h.key, h.value)).collect();
        assert_eq!(got, [("message_id", Some(&b"m"[..])), ("producer", Some(&b"p"[..])), ("x-other", Some(&b"v"[..]))]);
    }

    #[test]
    fn null_and_non_utf8_contract_values_are_header_errors() {
        let null: Vec<RawHeader> = vec![("producer".into(), None)];
        assert_eq!(envelope_pairs(&null).unwrap_err().kind(), "missing_header");
        let bad: Vec<RawHeader> = vec![("source".into(), Some(vec![0xff, 0xfe]))];
        assert_eq!(envelope_pairs(&bad).unwrap_err().kind(), "malformed_header");
        let unknown: Vec<RawHeader> = vec![("X-Other".into(), None), ("Producer".into(), Some(vec![0xff]))];
        assert_eq!(envelope_pairs(&unknown).unwrap(), Vec::<(&str, &str)>::new(), "other names are ignored");
    }

    #[test]
    fn dead_letters_replace_the_reason_in_place_and_keep_everything_else() {
        let raw: Vec<RawHeader> = vec![
            ("message_id".into(), Some(b"m".to_vec())),
            ("dlq_reason".into(), Some(b"old".to_vec())),
            ("x-null".into(), None),
            ("dlq_reason".into(), Some(b"older".to_vec())),
        ];
        let h = dead_letter(&raw, "why:\nnot");
        let got: Vec<(&str, Option<&[u8]>)> = h.iter().map(|h| (h.key, h.value)).collect();
        assert_eq!(got, [("message_id", Some(&b"m"[..])), ("dlq_reason", Some(&b"why: not"[..])), ("x-null", None)]);
        let appended = dead_letter(&raw[..1], "r");
        assert_eq!(appended.iter().map(|h| h.key).collect::<Vec<_>>(), ["message_id", "dlq_reason"]);
    }

    #[test]
    fn record_size_counts_the_batch_record_and_headers() {
        assert_eq!(record_size(b"", b"", []), 82);
        assert_eq!(record_size(b"ab", b"xyz", [("k", 2), ("kk", 0)]), 82 + 5 + 13 + 12);
    }
}
