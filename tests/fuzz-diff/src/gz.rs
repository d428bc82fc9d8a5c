//! Gzip members with every header field of RFC 1952 under the caller's
//! control, including the wrong ones.

use std::io::Write;

use flate2::write::DeflateEncoder;
use flate2::{Compression, Crc};

pub const FTEXT: u8 = 0x01;
pub const FHCRC: u8 = 0x02;
pub const FEXTRA: u8 = 0x04;
pub const FNAME: u8 = 0x08;
pub const FCOMMENT: u8 = 0x10;

/// What to write. `None` fields are left out (their flag unset); the
/// `*_override` fields replace a computed value with a wrong one.
#[derive(Clone, Debug)]
pub struct Member {
    pub cm: u8,
    /// Bits OR-ed into FLG besides the ones the fields below set
    /// (FTEXT, or the reserved 0x20, 0x40, 0x80).
    pub extra_flags: u8,
    pub mtime: u32,
    pub xfl: u8,
    pub os: u8,
    pub extra: Option<Vec<u8>>,
    pub xlen_override: Option<u16>,
    /// Without the terminating zero, which is always written.
    pub name: Option<Vec<u8>>,
    pub comment: Option<Vec<u8>>,
    pub hcrc: bool,
    pub hcrc_override: Option<u16>,
    pub level: u32,
    pub crc_override: Option<u32>,
    pub isize_override: Option<u32>,
}

impl Default for Member {
    fn default() -> Member {
        Member {
            cm: 8,
            extra_flags: 0,
            mtime: 0,
            xfl: 0,
            os: 255,
            extra: None,
            xlen_override: None,
            name: None,
            comment: None,
            hcrc: false,
            hcrc_override: None,
            level: 1,
            crc_override: None,
            isize_override: None,
        }
    }
}

pub fn deflate(data: &[u8], level: u32) -> Vec<u8> {
    let mut enc = DeflateEncoder::new(Vec::with_capacity(data.len() / 2 + 64), Compression::new(level.min(9)));
    enc.write_all(data).and_then(|()| enc.finish()).expect("deflate into a Vec cannot fail")
}

pub fn crc32(data: &[u8]) -> u32 {
    let mut c = Crc::new();
    c.update(data);
    c.sum()
}

impl Member {
    pub fn header(&self) -> Vec<u8> {
        let mut flg = self.extra_flags;
        if self.extra.is_some() {
            flg |= FEXTRA;
        }
        if self.name.is_some() {
            flg |= FNAME;
        }
        if self.comment.is_some() {
            flg |= FCOMMENT;
        }
        if self.hcrc {
            flg |= FHCRC;
        }
        let mut h = vec![0x1f, 0x8b, self.cm, flg];
        h.extend(self.mtime.to_le_bytes());
        h.extend([self.xfl, self.os]);
        if let Some(extra) = &self.extra {
            let xlen = self.xlen_override.unwrap_or(extra.len() as u16);
            h.extend(xlen.to_le_bytes());
            h.extend_from_slice(extra);
        }
        for s in [&self.name, &self.comment].into_iter().flatten() {
            h.extend_from_slice(s);
            h.push(0);
        }
        if self.hcrc {
            let crc = self.hcrc_override.unwrap_or(crc32(&h) as u16);
            h.extend(crc.to_le_bytes());
        }
        h
    }

    /// The whole member around `data`.
    pub fn encode(&self, data: &[u8]) -> Vec<u8> {
        let mut out = self.header();
        out.extend(deflate(data, self.level));
        out.extend(self.crc_override.unwrap_or_else(|| crc32(data)).to_le_bytes());
        out.extend(self.isize_override.unwrap_or(data.len() as u32).to_le_bytes());
        out
    }
}

/// A member that inflates to `size` zero bytes, written block by block so
/// that a bomb of gigabytes costs kilobytes of memory to make.
pub fn zeros(size: u64) -> Vec<u8> {
    let chunk = vec![0u8; 1 << 20];
    let mut enc = DeflateEncoder::new(Vec::new(), Compression::best());
    let mut crc = Crc::new();
    let mut left = size;
    while left > 0 {
        let n = left.min(chunk.len() as u64) as usize;
        enc.write_all(&chunk[..n]).expect("deflate into a Vec cannot fail");
        crc.update(&chunk[..n]);
        left -= n as u64;
    }
    let body = enc.finish().expect("deflate into a Vec cannot fail");
    let mut out = Member::default().header();
    out.extend(body);
    out.extend(crc.sum().to_le_bytes());
    out.extend((size as u32).to_le_bytes());
    out
}
