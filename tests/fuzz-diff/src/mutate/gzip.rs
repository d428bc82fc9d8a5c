//! Gzip mutations: header fields and flags (RFC 1952), trailer, framing,
//! damage to the deflate stream, bombs around the 64 MiB cap.

use std::collections::BTreeMap;

use crate::gz::{self, Member, FTEXT};
use crate::rng::Rng;

/// The consumer cap of the contract (docs/envelope.md).
pub const MAX_INFLATED: u64 = 64 << 20;

/// How the body of a gzip record is made: a member around the payload,
/// then edits of the finished bytes in order.
#[derive(Clone, Debug, Default)]
pub struct Plan {
    pub member: Member,
    pub post: Vec<Post>,
}

#[derive(Clone, Debug)]
pub enum Post {
    /// Keep this many bytes.
    Truncate(usize),
    /// Flip a bit at this fraction (per mille) of the deflate data.
    FlipDeflate(u32, u8),
    Trailing(Vec<u8>),
    /// The same member once more.
    Repeat,
    /// An empty member after this one.
    EmptyMember,
    /// A bomb instead: a member inflating to this many zero bytes.
    Bomb(u64),
}

/// Bombs are slow to make; each size is made once per run.
#[derive(Default)]
pub struct Bombs(BTreeMap<u64, Vec<u8>>);

impl Bombs {
    pub fn get(&mut self, size: u64) -> &[u8] {
        self.0.entry(size).or_insert_with(|| gz::zeros(size))
    }
}

impl Plan {
    pub fn body(&self, payload: &[u8], bombs: &mut Bombs) -> Vec<u8> {
        let mut out = self.member.encode(payload);
        let header_len = self.member.header().len();
        for p in &self.post {
            match p {
                Post::Truncate(n) => out.truncate(*n),
                Post::FlipDeflate(per_mille, bit) => {
                    let deflate_len = out.len().saturating_sub(header_len + 8);
                    if deflate_len > 0 {
                        let i = header_len + (deflate_len * *per_mille as usize / 1000).min(deflate_len - 1);
                        out[i] ^= 1 << (bit % 8);
                    }
                }
                Post::Trailing(bytes) => out.extend_from_slice(bytes),
                Post::Repeat => {
                    let copy = out.clone();
                    out.extend(copy);
                }
                Post::EmptyMember => out.extend(Member::default().encode(&[])),
                Post::Bomb(size) => out = bombs.get(*size).to_vec(),
            }
        }
        out
    }
}

/// A Latin-1 string without NUL of `n` bytes.
fn latin1(n: usize, rng: &mut Rng) -> Vec<u8> {
    (0..n).map(|_| 1 + (rng.next_u64() % 255) as u8).collect()
}

/// Lengths around the 511-byte FNAME/FCOMMENT limit, and far past it.
fn string_len(rng: &mut Rng) -> usize {
    const LENS: [usize; 13] = [0, 1, 40, 510, 511, 511, 512, 512, 513, 1024, 65_535, 65_536, 70_000];
    let upto = if rng.chance(1, 8) { LENS.len() } else { 10 };
    *rng.pick(&LENS[..upto])
}

/// A bomb around the cap: exactly 64 MiB (inflates, then fails to parse),
/// one byte more, and twice the cap.
pub fn bomb(plan: &mut Plan, rng: &mut Rng) -> String {
    let size = *rng.pick(&[MAX_INFLATED, MAX_INFLATED + 1, 2 * MAX_INFLATED]);
    plan.post.push(Post::Bomb(size));
    format!("gzip.bomb_{size}")
}

/// One gzip mutation of `plan` (made if absent); returns its name.
pub fn gzip_mutation(plan: &mut Plan, payload_len: usize, rng: &mut Rng) -> String {
    let m = &mut plan.member;
    let label = match rng.weighted(&[10, 9, 9, 9, 8, 8, 4, 7, 8, 7, 7, 5, 5]) {
        0 => {
            m.extra_flags |= if rng.chance(1, 2) { FTEXT } else { 0 };
            m.mtime = rng.next_u64() as u32;
            m.xfl = *rng.pick(&[0, 2, 4, 0xff]);
            m.os = rng.next_u64() as u8;
            m.level = *rng.pick(&[0, 1, 6, 9]);
            "valid_options"
        }
        1 => {
            m.extra_flags |= *rng.pick(&[0x20, 0x40, 0x80, 0xe0]);
            "reserved_flag"
        }
        2 => {
            let n = string_len(rng);
            m.name = Some(latin1(n, rng));
            "fname"
        }
        3 => {
            let n = string_len(rng);
            m.comment = Some(latin1(n, rng));
            "fcomment"
        }
        4 => {
            let n = *rng.pick(&[0, 1, 4, 100, 65_535]);
            m.extra = Some(rng.bytes(n));
            if rng.chance(1, 3) {
                m.xlen_override = Some(*rng.pick(&[(n as u16).wrapping_add(1), (n as u16).wrapping_sub(1), 0xffff]));
            }
            "fextra"
        }
        5 => {
            m.hcrc = true;
            if rng.chance(1, 2) {
                m.hcrc_override = Some(rng.next_u64() as u16);
            }
            "fhcrc"
        }
        6 => {
            m.cm = *rng.pick(&[0, 7, 9, 15]);
            "cm"
        }
        7 => {
            if rng.chance(1, 2) {
                m.crc_override = Some(rng.next_u64() as u32);
                "crc"
            } else {
                m.isize_override = Some(*rng.pick(&[payload_len as u32 + 1, payload_len.wrapping_sub(1) as u32, 0]));
                "isize"
            }
        }
        8 => {
            let total = m.header().len() + payload_len / 2 + 8;
            plan.post.push(Post::Truncate(rng.below(total + 1)));
            "truncate"
        }
        9 => {
            plan.post.push(Post::FlipDeflate(rng.below(1000) as u32, rng.below(8) as u8));
            "deflate_bitflip"
        }
        10 => {
            let bytes = match rng.below(4) {
                0 => vec![0],
                1 => vec![0; 8],
                2 => b"\n".to_vec(),
                _ => {
                    let n = 1 + rng.below(16);
                    rng.bytes(n)
                }
            };
            plan.post.push(Post::Trailing(bytes));
            "trailing"
        }
        11 => {
            plan.post.push(if rng.chance(1, 2) { Post::Repeat } else { Post::EmptyMember });
            "multi_member"
        }
        _ => {
            // Several valid header fields at once, within the limits.
            m.name = Some(latin1(rng.below(512), rng));
            m.comment = Some(latin1(rng.below(512), rng));
            let n = rng.below(64);
            m.extra = Some(rng.bytes(n));
            m.hcrc = true;
            "all_fields"
        }
    };
    format!("gzip.{label}")
}
