//! Envelope headers ↔ Kafka record headers, by the one mapping of
//! docs/kafka.md: each envelope header is one record header under its
//! envelope name verbatim (`message_id`, `schema_fqdn`, …), the value its
//! UTF-8 bytes, in the envelope's own order. Names match exactly.

use rdkafka::message::{BorrowedMessage, Header, OwnedHeaders};

use crate::envelope::{sanitize_reason, EnvelopeError};
use crate::headers::{names, HeaderError};

/// The received record headers, in received order: names and value bytes
/// as sent (`None` is Kafka's null value).
///
/// Copied out of librdkafka into one buffer (two allocations per record
/// rather than two per header), because a record's headers are read on
/// every delivery and the consumer holds no client handle across the
/// handler's awaits.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RawHeaders {
    bytes: Vec<u8>,
    /// Per header: the end of its name in `bytes`, and the end of its value
    /// (which starts at the name's end), `None` for a null value.
    ends: Vec<(usize, Option<usize>)>,
}

impl RawHeaders {
    pub fn new() -> RawHeaders {
        RawHeaders::default()
    }

    /// Appends one header.
    pub fn push(&mut self, name: &str, value: Option<&[u8]>) {
        self.bytes.extend_from_slice(name.as_bytes());
        let name_end = self.bytes.len();
        let value_end = value.map(|v| {
            self.bytes.extend_from_slice(v);
            self.bytes.len()
        });
        self.ends.push((name_end, value_end));
    }

    pub fn len(&self) -> usize {
        self.ends.len()
    }

    pub fn is_empty(&self) -> bool {
        self.ends.is_empty()
    }

    /// `(name, value)` pairs in received order.
    pub fn iter(&self) -> impl ExactSizeIterator<Item = (&str, Option<&[u8]>)> + '_ {
        let mut start = 0;
        self.ends.iter().map(move |&(name_end, value_end)| {
            // SAFETY: `push` is the only writer of `bytes`, and writes each
            // name from a `&str` between `start` and `name_end`: UTF-8, and
            // not validated again on every read of every record.
            let name = unsafe { std::str::from_utf8_unchecked(&self.bytes[start..name_end]) };
            let value = value_end.map(|end| &self.bytes[name_end..end]);
            start = value_end.unwrap_or(name_end);
            (name, value)
        })
    }

    /// The first value of `name` if it is present, not null and UTF-8.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.iter().find(|(k, _)| *k == name).and_then(|(_, v)| std::str::from_utf8(v?).ok())
    }
}

impl<'a> FromIterator<(&'a str, Option<&'a [u8]>)> for RawHeaders {
    fn from_iter<I: IntoIterator<Item = (&'a str, Option<&'a [u8]>)>>(pairs: I) -> RawHeaders {
        let mut out = RawHeaders::new();
        for (k, v) in pairs {
            out.push(k, v);
        }
        out
    }
}

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
pub fn received(msg: &BorrowedMessage<'_>) -> RawHeaders {
    use rdkafka::bindings as rd;
    let mut out = RawHeaders::new();
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
        // Every header's name and value located first (on the stack for the
        // usual count), so the buffer is allocated once at its size rather
        // than grown header by header.
        let mut found: StackVec<(&[u8], Option<&[u8]>)> = StackVec::new();
        let mut size = 0;
        for i in 0..count {
            let mut name: *const std::os::raw::c_char = std::ptr::null();
            let mut value: *const std::os::raw::c_void = std::ptr::null();
            let mut len: usize = 0;
            if rd::rd_kafka_header_get_all(hdrs, i, &mut name, &mut value, &mut len)
                != rd::rd_kafka_resp_err_t::RD_KAFKA_RESP_ERR_NO_ERROR
                || name.is_null()
            {
                continue;
            }
            let name = std::ffi::CStr::from_ptr(name).to_bytes();
            let value = if value.is_null() { None } else { Some(std::slice::from_raw_parts(value.cast::<u8>(), len)) };
            size += name.len() + value.map_or(0, <[u8]>::len);
            found.push((name, value));
        }
        out.bytes.reserve_exact(size);
        out.ends.reserve_exact(found.as_slice().len());
        for &(name, value) in found.as_slice() {
            match std::str::from_utf8(name) {
                Ok(name) => out.push(name, value),
                Err(_) => out.push(&String::from_utf8_lossy(name), value),
            }
        }
    }
    out
}

/// The received headers as envelope pairs, for decoding: unknown names
/// are skipped; a contract header with a null value counts as missing and
/// one that is not UTF-8 is malformed (both poison pills).
pub fn envelope_pairs(raw: &RawHeaders) -> Result<Vec<(&str, &str)>, EnvelopeError> {
    with_envelope_pairs(raw, <[_]>::to_vec)
}

/// [`envelope_pairs`] handed to `f` as a slice, kept on the stack for the
/// usual number of headers: the consumer's decode, once per record.
pub(crate) fn with_envelope_pairs<'a, R>(
    raw: &'a RawHeaders,
    f: impl FnOnce(&[(&'a str, &'a str)]) -> R,
) -> Result<R, EnvelopeError> {
    let mut pairs: StackVec<(&str, &str)> = StackVec::new();
    for (k, v) in raw.iter() {
        let Some(i) = names::index(k) else { continue };
        let name = names::ALL[i];
        let Some(v) = v else { return Err(HeaderError::Missing { name }.into()) };
        let v = std::str::from_utf8(v).map_err(|_| HeaderError::Invalid {
            name,
            value: String::from_utf8_lossy(v).into_owned(),
            reason: "is not UTF-8",
        })?;
        pairs.push((k, v));
    }
    Ok(f(pairs.as_slice()))
}

/// Up to 24 items on the stack, more moved to the heap: the headers of one
/// record, collected without an allocation for the usual count (the
/// contract has 18 names).
struct StackVec<T> {
    inline: [T; 24],
    len: usize,
    heap: Vec<T>,
}

impl<T: Copy + Default> StackVec<T> {
    fn new() -> Self {
        StackVec { inline: [T::default(); 24], len: 0, heap: Vec::new() }
    }

    fn push(&mut self, item: T) {
        if self.heap.is_empty() {
            if let Some(slot) = self.inline.get_mut(self.len) {
                *slot = item;
                self.len += 1;
                return;
            }
            self.heap.extend_from_slice(&self.inline);
        }
        self.heap.push(item);
    }

    fn as_slice(&self) -> &[T] {
        if self.heap.is_empty() {
            &self.inline[..self.len]
        } else {
            &self.heap
        }
    }
}

/// A dead letter's headers: every received header in received order,
/// unknown and null ones included, with `dlq_reason` set once (replaced
/// in place if the record had one, else appended), sanitized as on NATS.
pub fn dead_letter(raw: &RawHeaders, reason: &str) -> OwnedHeaders {
    let reason = sanitize_reason(reason);
    let mut out = OwnedHeaders::new_with_capacity(raw.len() + 1);
    let mut placed = false;
    for (k, v) in raw.iter() {
        if k == names::DLQ_REASON {
            if !placed {
                out = out.insert(Header { key: k, value: Some(reason.as_bytes()) });
                placed = true;
            }
            continue;
        }
        out = out.insert(Header { key: k, value: v });
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
        let null: RawHeaders = [("producer", None)].into_iter().collect();
        assert_eq!(envelope_pairs(&null).unwrap_err().kind(), "missing_header");
        let bad: RawHeaders = [("source", Some(&[0xff, 0xfe][..]))].into_iter().collect();
        assert_eq!(envelope_pairs(&bad).unwrap_err().kind(), "malformed_header");
        let unknown: RawHeaders = [("X-Other", None), ("Producer", Some(&[0xff][..]))].into_iter().collect();
        assert_eq!(envelope_pairs(&unknown).unwrap(), Vec::<(&str, &str)>::new(), "other names are ignored");
        let many: Vec<(String, Option<Vec<u8>>)> = (0..60)
            .map(|i| (if i % 2 == 0 { "producer" } else { "x" }.to_owned(), Some(format!("p{i}").into_bytes())))
            .collect();
        let many: RawHeaders = many.iter().map(|(k, v)| (k.as_str(), v.as_deref())).collect();
        let pairs = envelope_pairs(&many).unwrap();
        assert_eq!(pairs.len(), 30, "past the inline buffer, every known pair is kept");
        assert_eq!(pairs.last(), Some(&("producer", "p58")));
    }

    #[test]
    fn dead_letters_replace_the_reason_in_place_and_keep_everything_else() {
        let raw: RawHeaders = [
            ("message_id", Some(&b"m"[..])),
            ("dlq_reason", Some(&b"old"[..])),
            ("x-null", None),
            ("dlq_reason", Some(&b"older"[..])),
        ]
        .into_iter()
        .collect();
        let h = dead_letter(&raw, "why:\nnot");
        let got: Vec<(&str, Option<&[u8]>)> = h.iter().map(|h| (h.key, h.value)).collect();
        assert_eq!(got, [("message_id", Some(&b"m"[..])), ("dlq_reason", Some(&b"why: not"[..])), ("x-null", None)]);
        let first: RawHeaders = raw.iter().take(1).collect();
        let appended = dead_letter(&first, "r");
        assert_eq!(appended.iter().map(|h| h.key).collect::<Vec<_>>(), ["message_id", "dlq_reason"]);
    }

    #[test]
    fn raw_headers_keep_order_empty_and_null_values() {
        let pairs = [("a", Some(&b"1"[..])), ("", Some(&b""[..])), ("n", None), ("é", Some(&[0xff][..])), ("a", None)];
        let raw: RawHeaders = pairs.into_iter().collect();
        assert_eq!(raw.len(), 5);
        assert_eq!(raw.iter().collect::<Vec<_>>(), pairs);
        assert_eq!(raw.get("a"), Some("1"));
        assert_eq!(raw.get("n"), None);
        assert_eq!(raw.get("é"), None, "not UTF-8");
        assert!(RawHeaders::new().is_empty());
    }

    #[test]
    fn record_size_counts_the_batch_record_and_headers() {
        assert_eq!(record_size(b"", b"", []), 82);
        assert_eq!(record_size(b"ab", b"xyz", [("k", 2), ("kk", 0)]), 82 + 5 + 13 + 12);
    }
}
