//! Envelope headers ↔ NATS headers, by the one mapping of docs/nats.md
//! (`ampy_canonical::transport::NATS_HEADERS`).

use async_nats::HeaderMap;

use super::{Error, ErrorKind};
use crate::transport::{contract_header, nats_header};
use ampy_canonical::transport::is_publish_directive;

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
    let Some(map) = map else { return Vec::new() };
    let mut out: Vec<(usize, String, String)> = Vec::with_capacity(map.len());
    for (name, values) in map.iter() {
        let n: &str = name.as_ref();
        let (rank, key) = match contract_header(n) {
            Some(c) => (crate::headers::names::ALL.iter().position(|x| *x == c).unwrap_or(usize::MAX), c.to_owned()),
            None => (usize::MAX, n.to_owned()),
        };
        for v in values {
            out.push((rank, key.clone(), v.as_str().to_owned()));
        }
    }
    out.sort();
    out.into_iter().map(|(_, k, v)| (k, v)).collect()
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
