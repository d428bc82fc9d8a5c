//! Envelope headers ↔ NATS headers, by the one mapping of docs/nats.md
//! (`ampy_canonical::transport::NATS_HEADERS`).

use async_nats::HeaderMap;

use super::{Error, ErrorKind};
use crate::transport::nats_header;
use ampy_canonical::transport::{is_publish_directive, NATS_HEADERS};

/// JetStream refuses a header block longer than this many bytes.
pub const MAX_HEADER_BYTES: usize = 65_535;

/// Contract pairs → a NATS header map. Names outside the contract (what a
/// dead letter keeps from a newer producer) are written as received.
pub fn to_nats<'a, I>(pairs: I) -> Result<HeaderMap, Error>
where
    I: IntoIterator<Item = (&'a str, &'a str)>,
{
    let mut map = HeaderMap::new();
    for (name, value) in pairs {
        let nats = nats_header(name).unwrap_or(name);
        let bad = |what: &str| {
            Error::new(ErrorKind::Envelope, format!("header `{name}` cannot travel as a NATS header: {what}"))
        };
        let key: async_nats::header::HeaderName = nats.parse().map_err(|_| bad("invalid name"))?;
        let value: async_nats::HeaderValue = value.parse().map_err(|_| bad("the value contains a line break"))?;
        map.append(key, value);
    }
    Ok(map)
}

/// A NATS header map → pairs under contract names, in the contract's
/// order then other names in byte order (async-nats keeps headers in a hash
/// map, so wire order is not observable; sorting makes the result stable).
/// A name sent twice yields two pairs, which header parsing rejects.
pub fn from_nats(map: Option<&HeaderMap>) -> Vec<(String, String)> {
    sorted_pairs(map).into_iter().map(|(_, k, v)| (k.to_owned(), v.to_owned())).collect()
}

/// [`from_nats`] borrowed, with each pair's rank (its position in the
/// contract order; other names after): what the consumer decodes from
/// without copying every header.
pub(crate) fn sorted_pairs(map: Option<&HeaderMap>) -> Vec<(usize, &str, &str)> {
    let Some(map) = map else { return Vec::new() };
    let mut out: Vec<(usize, &str, &str)> = Vec::with_capacity(map.len());
    for (name, values) in map.iter() {
        let n: &str = name.as_ref();
        // NATS_HEADERS is in the contract's order: one scan gives both the
        // contract name and its rank.
        let (rank, key) = match NATS_HEADERS.iter().position(|(_, nats)| *nats == n) {
            Some(i) => (i, NATS_HEADERS[i].0),
            None => (usize::MAX, n),
        };
        for v in values {
            out.push((rank, key, v.as_str()));
        }
    }
    out.sort_unstable();
    out
}

/// The received headers a dead letter keeps: all of them, minus NATS
/// publish directives (`Nats-Expected-*`, …) the server would apply to the
/// DLQ publish.
pub fn for_dead_letter(pairs: &[(String, String)]) -> impl Iterator<Item = (&str, &str)> {
    pairs.iter().filter(|(k, _)| !is_publish_directive(k)).map(|(k, v)| (k.as_str(), v.as_str()))
}

/// Bytes of the header block on the wire: `NATS/1.0\r\n`, each
/// `Name: value\r\n`, then `\r\n`; the part of an `HPUB` that counts toward
/// `max_payload` besides the body.
pub fn wire_len(map: &HeaderMap) -> usize {
    let mut len = 12;
    for (k, vs) in map.iter() {
        let k: &str = k.as_ref();
        for v in vs {
            len += k.len() + 2 + v.as_str().len() + 2;
        }
    }
    len
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `sorted_pairs` takes a header's rank from its position in
    /// `NATS_HEADERS`, so that table must be in the contract's order.
    #[test]
    fn nats_headers_are_in_contract_order() {
        let contract: Vec<&str> = NATS_HEADERS.iter().map(|(c, _)| *c).collect();
        assert_eq!(contract, crate::headers::names::ALL);
    }

    #[test]
    fn pairs_come_in_contract_order_then_other_names_by_bytes() {
        let mut map = HeaderMap::new();
        for (k, v) in [("X-B", "2"), ("Ampy-Producer", "p"), ("X-A", "1"), ("Nats-Msg-Id", "m"), ("X-A", "0")] {
            map.append(k, v);
        }
        let got = from_nats(Some(&map));
        let want = [("message_id", "m"), ("producer", "p"), ("X-A", "0"), ("X-A", "1"), ("X-B", "2")];
        assert_eq!(got, want.map(|(k, v)| (k.to_owned(), v.to_owned())));
    }
}
