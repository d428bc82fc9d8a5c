//! Message ids (UUIDv7) and W3C trace context, as fixed-size values.
//!
//! Both travel as text but are compared, logged and deduplicated by every
//! runtime, so each has exactly one accepted spelling: lowercase hex. A
//! header that another runtime would spell differently is rejected rather
//! than normalised, because consumers in other languages dedupe on the
//! string and would see two different ids.

use std::fmt;
use std::str::FromStr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

/// A UUIDv7 message id, the dedupe anchor of the bus.
///
/// Only version 7 ids with the RFC 9562 variant exist as values, so a
/// `MessageId` in hand always sorts by creation time. Text is the canonical
/// lowercase hyphenated form both ways: uppercase input is rejected (see the
/// module docs for why).
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct MessageId([u8; 16]);

/// The last (ms << 12 | counter) handed out in this process; ids are
/// strictly increasing even when the clock stalls or steps back.
static LAST_V7: AtomicU64 = AtomicU64::new(0);

impl MessageId {
    /// A fresh id for now.
    pub fn new_v7() -> MessageId {
        let mut rand = [0u8; 10];
        crate::headers::ids::fill_random(&mut rand);
        MessageId::v7_from(unix_ms(), &rand)
    }

    /// Builds a v7 id from a clock reading and 10 random bytes.
    ///
    /// The 12 `rand_a` bits are a counter (RFC 9562 §6.2, method 1): a new
    /// millisecond starts it at a random value below 2048, and ids in the
    /// same millisecond increment it, carrying into the timestamp when it
    /// overflows. That keeps ids from one process strictly ordered, while
    /// the 62 random `rand_b` bits keep processes apart.
    pub(crate) fn v7_from(now_ms: u64, rand: &[u8; 10]) -> MessageId {
        let now = (now_ms & 0xFFFF_FFFF_FFFF) << 12;
        let seed = u64::from(u16::from_be_bytes([rand[0], rand[1]]) & 0x07FF);
        let mut last = LAST_V7.load(Ordering::Relaxed);
        let next = loop {
            let next = if now > last { now | seed } else { last + 1 };
            match LAST_V7.compare_exchange_weak(last, next, Ordering::Relaxed, Ordering::Relaxed) {
                Ok(_) => break next,
                Err(seen) => last = seen,
            }
        };
        let ms = (next >> 12) & 0xFFFF_FFFF_FFFF;
        let counter = (next & 0x0FFF) as u16;
        let mut b = [0u8; 16];
        b[..6].copy_from_slice(&ms.to_be_bytes()[2..]);
        b[6] = 0x70 | (counter >> 8) as u8;
        b[7] = counter as u8;
        b[8] = 0x80 | (rand[2] & 0x3F);
        b[9..].copy_from_slice(&rand[3..]);
        MessageId(b)
    }

    /// Accepts 16 bytes that form a UUIDv7 with the RFC 9562 variant.
    pub fn from_bytes(bytes: [u8; 16]) -> Result<MessageId, &'static str> {
        if bytes[6] >> 4 != 7 {
            return Err("is not a version 7 UUID (the 13th hex digit must be `7`)");
        }
        if bytes[8] >> 6 != 0b10 {
            return Err("does not have the RFC 9562 variant (the 17th hex digit must be 8, 9, a or b)");
        }
        Ok(MessageId(bytes))
    }

    pub fn as_bytes(&self) -> &[u8; 16] {
        &self.0
    }

    /// Milliseconds since the Unix epoch when the id was made.
    pub fn timestamp_ms(&self) -> u64 {
        let mut ms = [0u8; 8];
        ms[2..].copy_from_slice(&self.0[..6]);
        u64::from_be_bytes(ms)
    }
}

impl MessageId {
    /// The canonical text into `out`, without allocating: a producer
    /// writes one per record.
    pub(crate) fn encode<'b>(&self, out: &'b mut [u8; 36]) -> &'b str {
        // Groups of 4, 2, 2, 2 and 6 bytes, joined by hyphens.
        let (mut from, mut at) = (0, 0);
        for to in [4, 6, 8, 10, 16] {
            if from > 0 {
                out[at] = b'-';
                at += 1;
            }
            let len = 2 * (to - from);
            hex_into(&self.0[from..to], &mut out[at..at + len]);
            (from, at) = (to, at + len);
        }
        ascii(out)
    }
}

impl fmt::Display for MessageId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.encode(&mut [0u8; 36]))
    }
}

impl fmt::Debug for MessageId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "MessageId({self})")
    }
}

impl FromStr for MessageId {
    type Err = &'static str;

    fn from_str(s: &str) -> Result<MessageId, &'static str> {
        let s = s.as_bytes();
        if s.len() != 36 {
            return Err("is not a 36-character hyphenated UUID");
        }
        let mut bytes = [0u8; 16];
        let mut j = 0;
        let mut i = 0;
        while i < 36 {
            if matches!(i, 8 | 13 | 18 | 23) {
                if s[i] != b'-' {
                    return Err("is not a hyphenated UUID (8-4-4-4-12 hex digits)");
                }
                i += 1;
                continue;
            }
            bytes[j] = (lower_hex(s[i])? << 4) | lower_hex(s[i + 1])?;
            j += 1;
            i += 2;
        }
        MessageId::from_bytes(bytes)
    }
}

/// A W3C trace context (`traceparent` version `00`).
///
/// Fields are public so that a service can forward the context it received;
/// [`crate::Headers::validate`] rejects the all-zero ids the spec forbids.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct TraceParent {
    pub trace_id: [u8; 16],
    pub span_id: [u8; 8],
    /// Trace flags; bit 0 is "sampled".
    pub flags: u8,
}

impl TraceParent {
    pub const SAMPLED: u8 = 0x01;

    /// A new root context, sampled: producers that were handed no context
    /// still start a trace, so their records can be followed downstream.
    pub fn random() -> TraceParent {
        let mut r = [0u8; 24];
        fill_random(&mut r);
        TraceParent::from_random(&r)
    }

    pub(crate) fn from_random(r: &[u8; 24]) -> TraceParent {
        let mut trace_id = [0u8; 16];
        let mut span_id = [0u8; 8];
        trace_id.copy_from_slice(&r[..16]);
        span_id.copy_from_slice(&r[16..]);
        // All-zero ids are invalid; 2^-64 odds, but never emit one.
        if trace_id == [0; 16] {
            trace_id[15] = 1;
        }
        if span_id == [0; 8] {
            span_id[7] = 1;
        }
        TraceParent { trace_id, span_id, flags: TraceParent::SAMPLED }
    }

    /// A child span in the same trace, for a service that republishes.
    pub fn child(&self) -> TraceParent {
        let mut r = [0u8; 24];
        fill_random(&mut r);
        TraceParent { trace_id: self.trace_id, ..TraceParent::from_random(&r) }.with_flags(self.flags)
    }

    fn with_flags(mut self, flags: u8) -> TraceParent {
        self.flags = flags;
        self
    }

    pub fn trace_id_hex(&self) -> String {
        hex(&self.trace_id)
    }

    pub fn span_id_hex(&self) -> String {
        hex(&self.span_id)
    }

    pub fn sampled(&self) -> bool {
        self.flags & TraceParent::SAMPLED != 0
    }

    /// Why the context cannot be sent, or `None`.
    pub fn problem(&self) -> Option<&'static str> {
        if self.trace_id == [0; 16] {
            Some("has an all-zero trace-id")
        } else if self.span_id == [0; 8] {
            Some("has an all-zero parent-id")
        } else {
            None
        }
    }
}

impl TraceParent {
    /// `00-{trace-id}-{parent-id}-{flags}` into `out`, without allocating.
    pub(crate) fn encode<'b>(&self, out: &'b mut [u8; 55]) -> &'b str {
        out[..3].copy_from_slice(b"00-");
        hex_into(&self.trace_id, &mut out[3..35]);
        out[35] = b'-';
        hex_into(&self.span_id, &mut out[36..52]);
        out[52] = b'-';
        hex_into(&[self.flags], &mut out[53..]);
        ascii(out)
    }
}

impl fmt::Display for TraceParent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.encode(&mut [0u8; 55]))
    }
}

impl fmt::Debug for TraceParent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "TraceParent({self})")
    }
}

impl FromStr for TraceParent {
    type Err = &'static str;

    /// Strict version `00`: exactly `00-<32 hex>-<16 hex>-<2 hex>`, all
    /// lowercase. Later versions are rejected rather than truncated, since
    /// this runtime re-emits `00` and would silently drop their fields.
    fn from_str(s: &str) -> Result<TraceParent, &'static str> {
        let b = s.as_bytes();
        if b.len() >= 2 && &b[..2] == b"ff" {
            return Err("has version `ff`, which W3C trace context forbids");
        }
        if b.len() != 55 {
            return Err("is not 55 characters long (`00-<32 hex trace-id>-<16 hex parent-id>-<2 hex flags>`)");
        }
        if b[2] != b'-' || b[35] != b'-' || b[52] != b'-' {
            return Err("is not `00-<32 hex trace-id>-<16 hex parent-id>-<2 hex flags>`");
        }
        let version = parse_hex::<1>(&b[..2]).map_err(|_| LOWER_HEX)?;
        if version != [0] {
            return Err("has a version other than `00`, the only one this runtime reads");
        }
        let trace_id = parse_hex::<16>(&b[3..35]).map_err(|_| LOWER_HEX)?;
        let span_id = parse_hex::<8>(&b[36..52]).map_err(|_| LOWER_HEX)?;
        let flags = parse_hex::<1>(&b[53..55]).map_err(|_| LOWER_HEX)?[0];
        let tp = TraceParent { trace_id, span_id, flags };
        match tp.problem() {
            Some(p) => Err(p),
            None => Ok(tp),
        }
    }
}

const LOWER_HEX: &str = "has a character that is not a lowercase hex digit";

/// The only content encoding of the contract.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ContentEncoding {
    Gzip,
}

impl ContentEncoding {
    pub const fn as_str(self) -> &'static str {
        match self {
            ContentEncoding::Gzip => "gzip",
        }
    }
}

impl fmt::Display for ContentEncoding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for ContentEncoding {
    type Err = &'static str;
    fn from_str(s: &str) -> Result<ContentEncoding, &'static str> {
        match s {
            "gzip" => Ok(ContentEncoding::Gzip),
            _ => Err("is not `gzip`, the only content encoding of the contract (omit the header for none)"),
        }
    }
}

const HEX: &[u8; 16] = b"0123456789abcdef";

/// Lowercase hex of `bytes` into `out` (twice as long).
fn hex_into(bytes: &[u8], out: &mut [u8]) {
    for (b, pair) in bytes.iter().zip(out.chunks_exact_mut(2)) {
        pair[0] = HEX[usize::from(b >> 4)];
        pair[1] = HEX[usize::from(b & 0xF)];
    }
}

/// Text written by this module: ASCII hex digits and punctuation only.
fn ascii(out: &[u8]) -> &str {
    std::str::from_utf8(out).unwrap_or_default()
}

pub(crate) fn hex(bytes: &[u8]) -> String {
    let mut out = vec![0; bytes.len() * 2];
    hex_into(bytes, &mut out);
    ascii(&out).to_owned()
}

fn lower_hex(c: u8) -> Result<u8, &'static str> {
    match LOWER_HEX_VALUE[usize::from(c)] {
        NOT_HEX => Err("has a character that is not a lowercase hex digit (ids are written in lowercase)"),
        v => Ok(v),
    }
}

/// The value of each lowercase hex digit, [`NOT_HEX`] for every other byte.
/// A lookup, not two range tests: random ids mix digits and letters, which
/// the tests' branches mispredict about every other character.
pub(crate) const LOWER_HEX_VALUE: [u8; 256] = {
    let mut t = [NOT_HEX; 256];
    let mut i = 0;
    while i < 16 {
        t[HEX[i] as usize] = i as u8;
        i += 1;
    }
    t
};
pub(crate) const NOT_HEX: u8 = 0xFF;

fn parse_hex<const N: usize>(s: &[u8]) -> Result<[u8; N], &'static str> {
    let mut out = [0u8; N];
    for (o, pair) in out.iter_mut().zip(s.chunks_exact(2)) {
        *o = (lower_hex(pair[0])? << 4) | lower_hex(pair[1])?;
    }
    Ok(out)
}

fn unix_ms() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_millis() as u64)
}

/// Fills `out` from the OS, one syscall per call.
///
/// No user-space pool: a pool copied into a forked child would hand the
/// same "random" bits to two processes, and ids are the dedupe anchor. If
/// the OS source fails (no known Linux case), the bits come from std's
/// per-process SipHash keys mixed with the clock and a counter, which still
/// differ between processes.
pub(crate) fn fill_random(out: &mut [u8]) {
    if getrandom::fill(out).is_ok() {
        return;
    }
    use std::hash::{BuildHasher, Hasher};
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let state = std::collections::hash_map::RandomState::new();
    for chunk in out.chunks_mut(8) {
        let mut h = state.build_hasher();
        h.write_u64(COUNTER.fetch_add(1, Ordering::Relaxed));
        h.write_u128(SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_nanos()));
        h.write_u32(std::process::id());
        let v = h.finish().to_le_bytes();
        chunk.copy_from_slice(&v[..chunk.len()]);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn v7_counter_carries_into_the_timestamp() {
        let a = MessageId::v7_from(1_000, &[0xFF; 10]);
        let b = MessageId::v7_from(1_000, &[0x00; 10]);
        assert!(b > a, "{a} then {b}");
        // A clock that steps back still yields increasing ids.
        let c = MessageId::v7_from(10, &[0x00; 10]);
        assert!(c > b);
        for id in [a, b, c] {
            assert_eq!(id.to_string().parse::<MessageId>(), Ok(id));
        }
    }

    #[test]
    fn display_is_canonical() {
        let id: MessageId = "0190f5a4-7b1c-7d2e-8f00-0123456789ab".parse().unwrap();
        assert_eq!(id.to_string(), "0190f5a4-7b1c-7d2e-8f00-0123456789ab");
        assert_eq!(id.timestamp_ms(), 0x0190_f5a4_7b1c);
    }

    #[test]
    fn traceparent_text_is_the_w3c_form_and_parses_back() {
        let mut r = [0u8; 24];
        for seed in 0..64u8 {
            for (i, b) in r.iter_mut().enumerate() {
                *b = seed.wrapping_mul(37).wrapping_add(i as u8 * 11);
            }
            let t = TraceParent { flags: seed, ..TraceParent::from_random(&r) };
            let text = t.to_string();
            let spelled = format!("00-{}-{}-{:02x}", hex(&t.trace_id), hex(&t.span_id), t.flags);
            assert_eq!(text, spelled);
            assert_eq!(text.parse::<TraceParent>(), Ok(t));
        }
    }
}
