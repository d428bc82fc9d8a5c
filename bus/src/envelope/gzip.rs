//! Gzip as the bus uses it: deterministic on the way out; on the way in
//! exactly one RFC 1952 member whose header is parsed here, by the same
//! rules as in the Go and Python runtimes (docs/envelope.md, "Gzip"), not
//! by whichever gzip library a runtime links, and inflated into one buffer
//! of the size the member claims, so that a bomb costs no memory.

use std::io::Write;

use flate2::{Compression, Crc, Decompress, FlushDecompress, GzBuilder, Status};

use super::EnvelopeError;

/// Level 1 ("fast"). On bar-batch-like payloads the pure-Rust deflate at
/// level 6 is about 7× slower for about 11% smaller output (measured with
/// `benches/envelope.rs`: ~18 ms vs ~2.7 ms for 256 KiB), and a 1 MiB
/// batch at level 6 would eat half of the bars p99 budget of 150 ms.
/// Fixed, because the level changes the bytes and records are meant to be
/// reproducible.
const LEVEL: u32 = 1;

const FHCRC: u8 = 0x02;
const FEXTRA: u8 = 0x04;
const FNAME: u8 = 0x08;
const FCOMMENT: u8 = 0x10;
/// RFC 1952: a reader "must give an error indication if any reserved bit
/// is non-zero".
const RESERVED: u8 = 0xe0;
/// The longest FNAME or FCOMMENT accepted, in bytes before its zero.
pub const MAX_GZIP_STRING: usize = 511;
/// Deflate cannot make more than about 1032 bytes of one input byte.
const MAX_DEFLATE_RATIO: usize = 1032;
const TRUNCATED: &str = "the gzip stream is truncated";

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

fn crc32(data: &[u8]) -> u32 {
    let mut crc = Crc::new();
    crc.update(data);
    crc.sum()
}

/// The length of the member header at the start of `data`, or why the
/// bus does not accept it.
fn header(data: &[u8]) -> Result<usize, String> {
    if data.len() < 2 || data[..2] != [0x1f, 0x8b] {
        return Err("the payload is not a gzip stream".into());
    }
    if data.len() < 10 {
        return Err(TRUNCATED.into());
    }
    if data[2] != 8 {
        return Err(format!("the gzip compression method is {}, not 8 (deflate)", data[2]));
    }
    let flg = data[3];
    if flg & RESERVED != 0 {
        return Err(format!("the gzip header sets reserved flag bits (FLG 0x{flg:02x})"));
    }
    let mut pos = 10;
    if flg & FEXTRA != 0 {
        let xlen = data.get(pos..pos + 2).ok_or(TRUNCATED)?;
        let n = usize::from(u16::from_le_bytes([xlen[0], xlen[1]]));
        pos += 2;
        if data.len() - pos < n {
            return Err(TRUNCATED.into());
        }
        pos += n;
    }
    for (flag, what) in [(FNAME, "file name"), (FCOMMENT, "comment")] {
        if flg & flag == 0 {
            continue;
        }
        let window = &data[pos..data.len().min(pos + MAX_GZIP_STRING + 1)];
        match window.iter().position(|&b| b == 0) {
            Some(end) => pos += end + 1,
            None if window.len() > MAX_GZIP_STRING => {
                return Err(format!("the gzip {what} is longer than {MAX_GZIP_STRING} bytes"))
            }
            None => return Err(TRUNCATED.into()),
        }
    }
    if flg & FHCRC != 0 {
        let crc = data.get(pos..pos + 2).ok_or(TRUNCATED)?;
        if u16::from_le_bytes([crc[0], crc[1]]) != crc32(&data[..pos]) as u16 {
            return Err("the gzip header CRC does not match the header".into());
        }
        pos += 2;
    }
    Ok(pos)
}

/// How many inflated bytes to keep: the member's size trailer when it is
/// within `limit` and deflate could make that much of these bytes. An
/// honest member always passes (the trailer is checked afterwards), so it
/// inflates into one buffer of its exact size; any other member fails
/// anyway, and is only counted, not kept.
fn claimed_size(member: &[u8], limit: usize) -> usize {
    let Some(tail) = member.len().checked_sub(4).map(|at| &member[at..]) else { return 0 };
    let claimed = u32::from_le_bytes([tail[0], tail[1], tail[2], tail[3]]) as usize;
    if claimed > limit || claimed > member.len().saturating_mul(MAX_DEFLATE_RATIO) {
        return 0;
    }
    claimed
}

/// Gunzips exactly one gzip member of at most `limit` decompressed bytes.
///
/// Rejects, as `CorruptPayload`: a header the bus does not accept, a
/// damaged deflate stream, a truncated stream, a CRC-32 or ISIZE trailer
/// that does not match, and any byte after the member (a second member
/// included: producers write one, and trailing bytes mean the record was
/// spliced or damaged). More than `limit` inflated bytes is
/// `InflatedTooLarge` as soon as byte `limit` + 1 appears, whatever
/// follows. Memory: the claimed size, once; a bomb costs a scratch buffer.
pub(crate) fn decompress(data: &[u8], limit: usize) -> Result<Vec<u8>, EnvelopeError> {
    let corrupt = |reason: String| EnvelopeError::CorruptPayload { reason };
    let start = header(data).map_err(corrupt)?;
    let input = &data[start..];
    let mut out: Vec<u8> = Vec::with_capacity(claimed_size(input, limit) + 1);
    let mut scratch = Vec::new();
    let mut inflate = Decompress::new(false);
    let position = |n: u64| usize::try_from(n).unwrap_or(usize::MAX).min(input.len());
    loop {
        let (read, wrote) = (inflate.total_in(), inflate.total_out());
        let rest = &input[position(read)..];
        let status = if out.len() < out.capacity() {
            inflate.decompress_vec(rest, &mut out, FlushDecompress::None)
        } else {
            // Past the claimed size: the member fails either way; count
            // what it inflates to, to tell a bomb from a lie.
            scratch.resize(32 << 10, 0);
            inflate.decompress(rest, &mut scratch, FlushDecompress::None)
        }
        .map_err(|e| corrupt(format!("the gzip stream is damaged ({e})")))?;
        if inflate.total_out() > limit as u64 {
            return Err(EnvelopeError::InflatedTooLarge { limit });
        }
        match status {
            Status::StreamEnd => break,
            _ if inflate.total_in() == read && inflate.total_out() == wrote => {
                return Err(corrupt(TRUNCATED.to_owned()));
            }
            _ => {}
        }
    }
    let trailer = &input[position(inflate.total_in())..];
    let Some(fields) = trailer.get(..8) else {
        return Err(corrupt(TRUNCATED.to_owned()));
    };
    let word = |at: usize| u32::from_le_bytes([fields[at], fields[at + 1], fields[at + 2], fields[at + 3]]);
    if trailer.len() > 8 {
        return Err(corrupt(format!("{} bytes follow the gzip stream", trailer.len() - 8)));
    }
    if inflate.total_out() != out.len() as u64 || word(4) != out.len() as u32 {
        return Err(corrupt("the gzip size trailer does not match the inflated bytes".to_owned()));
    }
    if word(0) != crc32(&out) {
        return Err(corrupt("the gzip CRC-32 does not match the inflated bytes".to_owned()));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A member with a chosen FLG and header fields around `payload`.
    fn member(flg: u8, fields: &[u8], payload: &[u8]) -> Vec<u8> {
        let mut out = vec![0x1f, 0x8b, 8, flg, 0, 0, 0, 0, 0, 255];
        out.extend_from_slice(fields);
        let mut enc = flate2::write::DeflateEncoder::new(Vec::new(), Compression::fast());
        enc.write_all(payload).expect("in memory");
        out.extend(enc.finish().expect("in memory"));
        out.extend(crc32(payload).to_le_bytes());
        out.extend((payload.len() as u32).to_le_bytes());
        out
    }

    fn kind(r: Result<Vec<u8>, EnvelopeError>) -> &'static str {
        r.map_or_else(|e| e.kind(), |_| "ok")
    }

    #[test]
    fn round_trips_and_checks_the_trailer() {
        let data = b"the bus".repeat(100);
        assert_eq!(decompress(&compress(&data), 1 << 20).as_deref(), Ok(&data[..]));
        let mut bad = compress(&data);
        let n = bad.len();
        bad[n - 5] ^= 1; // CRC-32
        assert_eq!(kind(decompress(&bad, 1 << 20)), "corrupt_gzip");
        let mut trailing = compress(&data);
        trailing.push(0);
        assert_eq!(kind(decompress(&trailing, 1 << 20)), "corrupt_gzip");
        let cut = compress(&data);
        for at in [0, 1, 9, 12, cut.len() - 9, cut.len() - 1] {
            assert_eq!(kind(decompress(&cut[..at], 1 << 20)), "corrupt_gzip", "cut at {at}");
        }
    }

    #[test]
    fn header_fields_follow_the_contract() {
        let p = b"x";
        assert_eq!(kind(decompress(&member(0x01, &[], p), 64)), "ok", "FTEXT");
        for reserved in [0x20, 0x40, 0x80] {
            assert_eq!(kind(decompress(&member(reserved, &[], p), 64)), "corrupt_gzip", "FLG {reserved:#x}");
        }
        let extra = [3, 0, b'a', b'b', b'c'];
        assert_eq!(kind(decompress(&member(FEXTRA, &extra, p), 64)), "ok");
        let name = |n: usize| [vec![b'n'; n], vec![0]].concat();
        assert_eq!(kind(decompress(&member(FNAME, &name(511), p), 64)), "ok", "511-byte name");
        assert_eq!(kind(decompress(&member(FNAME, &name(512), p), 64)), "corrupt_gzip", "512-byte name");
        assert_eq!(kind(decompress(&member(FCOMMENT, &name(511), p), 64)), "ok", "511-byte comment");
        assert_eq!(kind(decompress(&member(FCOMMENT, &name(512), p), 64)), "corrupt_gzip");
        let head = [0x1f, 0x8b, 8, FHCRC, 0, 0, 0, 0, 0, 255];
        let good = (crc32(&head) as u16).to_le_bytes();
        assert_eq!(kind(decompress(&member(FHCRC, &good, p), 64)), "ok", "FHCRC");
        let wrong = (crc32(&head) as u16 ^ 1).to_le_bytes();
        assert_eq!(kind(decompress(&member(FHCRC, &wrong, p), 64)), "corrupt_gzip");
        let mut cm = member(0, &[], p);
        cm[2] = 7;
        assert_eq!(kind(decompress(&cm, 64)), "corrupt_gzip", "CM 7");
    }

    #[test]
    fn the_cap_is_exact() {
        let at_cap = compress(&vec![0; 4096]);
        assert_eq!(decompress(&at_cap, 4096).map(|v| v.len()), Ok(4096));
        assert_eq!(kind(decompress(&at_cap, 4095)), "too_large");
        // Past the cap wins over damage that comes after it.
        let mut damaged = at_cap.clone();
        let n = damaged.len();
        damaged[n - 1] ^= 0xff;
        assert_eq!(kind(decompress(&damaged, 4095)), "too_large");
        assert_eq!(kind(decompress(&damaged, 4096)), "corrupt_gzip");
    }
}
