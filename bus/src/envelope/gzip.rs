//! Gzip as the bus uses it: deterministic on the way out, strict and
//! bounded on the way in.

use std::io::{Read, Write};

use flate2::{Compression, GzBuilder};

use super::EnvelopeError;

/// Level 1 ("fast"). On bar-batch-like payloads the pure-Rust deflate at
/// level 6 is about 7× slower for about 11% smaller output (measured with
/// `benches/envelope.rs`: ~18 ms vs ~2.7 ms for 256 KiB), and a 1 MiB
/// batch at level 6 would eat half of the bars p99 budget of 150 ms.
/// Fixed, because the level changes the bytes and records are meant to be
/// reproducible.
const LEVEL: u32 = 1;

/// Gzip with a fixed header: no file name, no comment, mtime 0, OS byte
/// 255 ("unknown"). Same input, same bytes, on every machine running this
/// build (the pure-Rust deflate backend is pinned in Cargo.toml), so
/// retries and replays produce identical records.
pub(crate) fn compress(data: &[u8]) -> Vec<u8> {
    let out = Vec::with_capacity(data.len() / 2 + 64);
    let mut enc = GzBuilder::new().mtime(0).operating_system(255).write(out, Compression::new(LEVEL));
    // The sink is a Vec, which never returns an I/O error, and deflate
    // accepts any input: this cannot fail whatever the payload.
    enc.write_all(data).and_then(|()| enc.finish()).expect("gzip into a Vec is infallible")
}

/// Gunzips exactly one gzip member of at most `limit` decompressed bytes.
///
/// Rejects, as `CorruptPayload`: a bad header, a damaged deflate stream, a
/// truncated stream, a CRC-32 or ISIZE trailer that does not match, and
/// any byte after the member (a second member included: producers write
/// one, and trailing bytes mean the record was spliced or damaged). The
/// limit stops a small record from inflating into gigabytes.
pub(crate) fn decompress(data: &[u8], limit: usize) -> Result<Vec<u8>, EnvelopeError> {
    let corrupt = |reason: String| EnvelopeError::CorruptPayload { reason };
    let mut dec = flate2::bufread::GzDecoder::new(data);
    let mut out = Vec::with_capacity(data.len().saturating_mul(4).min(limit).min(8 << 20));
    // One byte past the limit tells "exactly at the limit" from "over".
    let read = (&mut dec).take(limit as u64 + 1).read_to_end(&mut out);
    match read {
        Ok(n) if n > limit => return Err(EnvelopeError::InflatedTooLarge { limit }),
        Ok(_) => {}
        Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => {
            return Err(corrupt("the gzip stream is truncated".to_owned()))
        }
        Err(e) => return Err(corrupt(format!("the gzip stream is damaged ({e})"))),
    }
    if dec.header().is_none() {
        return Err(corrupt("the payload is not a gzip stream".to_owned()));
    }
    let rest = dec.into_inner();
    if !rest.is_empty() {
        return Err(corrupt(format!("{} bytes follow the gzip stream", rest.len())));
    }
    Ok(out)
}
