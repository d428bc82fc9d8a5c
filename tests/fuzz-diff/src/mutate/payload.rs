//! Payload mutations: wire-aware ones that change one field of one
//! (possibly nested) message and fix up the enclosing lengths, and raw byte
//! edits that know nothing.

use crate::rng::Rng;
use crate::wire::{self, Field, EGROUP, I32, I64, LEN, SGROUP, VARINT};

/// Field numbers no payload of the registry declares (the registry stays
/// below 100), the reserved implementation range, and the largest one.
const UNKNOWN_NUMBERS: [u64; 6] = [99, 1000, 4095, 19_000, 19_999, (1 << 29) - 1];

/// One wire-aware mutation somewhere in `payload`; returns its name.
pub fn wire_mutation(payload: &mut Vec<u8>, rng: &mut Rng) -> String {
    let mut name = String::from("wire.");
    *payload = message(payload, 0, rng, &mut name);
    name
}

/// Mutates the message `b` at nesting `level`, or one nested in it.
fn message(b: &[u8], level: usize, rng: &mut Rng, name: &mut String) -> Vec<u8> {
    let Some(fields) = wire::parse(b) else {
        // Not a message (already damaged): add a field at the end.
        let mut out = b.to_vec();
        out.extend(unknown_field(rng));
        name.push_str("unknown");
        return out;
    };
    let nested: Vec<(Field, (usize, usize))> = fields
        .iter()
        .filter_map(|f| f.len_body(b).map(|body| (*f, body)))
        .filter(|(_, (s, e))| wire::parse(&b[*s..*e]).is_some_and(|inner| !inner.is_empty()))
        .collect();
    if !nested.is_empty() && rng.chance(55, 100) {
        let (f, (s, e)) = *rng.pick(&nested);
        let inner = message(&b[s..e], level + 1, rng, name);
        let mut out = b[..f.value].to_vec();
        out.extend(wire::varint(inner.len() as u64));
        out.extend(inner);
        out.extend_from_slice(&b[f.end..]);
        return out;
    }
    local(b, &fields, level, rng, name)
}

fn local(b: &[u8], fields: &[Field], level: usize, rng: &mut Rng, name: &mut String) -> Vec<u8> {
    let any = |rng: &mut Rng| fields.get(rng.below(fields.len().max(1))).copied();
    let of_type = |wt: u8, rng: &mut Rng| {
        let xs: Vec<Field> = fields.iter().filter(|f| f.wt == wt).copied().collect();
        (!xs.is_empty()).then(|| *rng.pick(&xs))
    };
    let replace = |f: &Field, with: &[u8]| {
        let mut out = b[..f.start].to_vec();
        out.extend_from_slice(with);
        out.extend_from_slice(&b[f.end..]);
        out
    };
    let insert = |at: usize, with: &[u8]| {
        let mut out = b[..at].to_vec();
        out.extend_from_slice(with);
        out.extend_from_slice(&b[at..]);
        out
    };
    let boundary = |rng: &mut Rng| {
        let mut points: Vec<usize> = fields.iter().map(|f| f.start).collect();
        points.push(b.len());
        *rng.pick(&points)
    };
    let op = rng.weighted(&[14, 6, 6, 5, 8, 8, 10, 8, 6, 6, 4, 3, 3, 4, 3, 3, 4]);
    let (label, out) = match op {
        0 => match any(rng) {
            Some(f) => {
                let wt = *rng.pick(&[VARINT, I64, LEN, SGROUP, I32]);
                let wt = if wt == f.wt { (wt + 1) % 6 } else { wt };
                let wt = if wt == EGROUP { I32 } else { wt };
                let new = value_of(f.number, wt, rng);
                let out = if rng.chance(1, 2) { replace(&f, &new) } else { insert(f.end, &new) };
                ("wrong_type", out)
            }
            None => ("wrong_type", insert(0, &value_of(1, I32, rng))),
        },
        1 => match any(rng) {
            Some(f) => {
                let (key, _) = wire::read_varint(b, f.start).unwrap_or((0, 0));
                let total = *rng.pick(&[2, 5, 6, 9, 10, 10, 11]);
                let mut new = wire::overlong(key, total);
                new.extend_from_slice(&b[f.value..f.end]);
                ("overlong_tag", replace(&f, &new))
            }
            None => ("overlong_tag", b.to_vec()),
        },
        2 => match of_type(LEN, rng) {
            Some(f) => {
                let (n, at) = wire::read_varint(b, f.value).unwrap_or((0, f.value));
                let mut new = b[f.start..f.value].to_vec();
                new.extend(wire::overlong(n, *rng.pick(&[2, 5, 6, 10, 11])));
                new.extend_from_slice(&b[at..f.end]);
                ("overlong_len", replace(&f, &new))
            }
            None => ("overlong_len", b.to_vec()),
        },
        3 => match of_type(VARINT, rng) {
            Some(f) => {
                let (v, _) = wire::read_varint(b, f.value).unwrap_or((0, 0));
                let mut new = b[f.start..f.value].to_vec();
                new.extend(wire::overlong(v, *rng.pick(&[6, 10, 11])));
                ("overlong_value", replace(&f, &new))
            }
            None => ("overlong_value", b.to_vec()),
        },
        4 => {
            let last = *rng.pick(&[2u8, 3, 0x40, 0x7f]);
            let bad = wire::overflowing(rng.next_u64(), last);
            match of_type(VARINT, rng) {
                Some(f) => {
                    let mut new = b[f.start..f.value].to_vec();
                    new.extend(bad);
                    ("overflow", replace(&f, &new))
                }
                None => {
                    let mut new = wire::tag(*rng.pick(&UNKNOWN_NUMBERS), VARINT);
                    new.extend(bad);
                    ("overflow", insert(boundary(rng), &new))
                }
            }
        }
        5 => ("unknown", insert(boundary(rng), &unknown_field(rng))),
        6 => {
            // Around the depth limit of the whole payload, counting the
            // messages this one is nested in.
            let near = 100usize.saturating_sub(level);
            let depth = if rng.chance(3, 4) {
                near.saturating_sub(2) + rng.below(5)
            } else {
                *rng.pick(&[1, 2, 50, 150, 1000])
            };
            let inner: Vec<u8> = match rng.below(4) {
                0 => Vec::new(),
                1 => [wire::tag(5, VARINT), wire::varint(1)].concat(),
                2 => wire::len_field(6, b"x"),
                _ => [wire::tag(7, I32), vec![0; 4]].concat(),
            };
            let number = *rng.pick(&[UNKNOWN_NUMBERS[0], UNKNOWN_NUMBERS[1], 1]);
            ("group_depth", insert(boundary(rng), &wire::groups(number.max(1), depth.max(1), &inner)))
        }
        7 => {
            let bad: Vec<u8> = match rng.below(7) {
                0 => [wire::tag(3, 6), vec![1]].concat(),
                1 => [wire::tag(3, 7), vec![1]].concat(),
                2 => vec![rng.below(8) as u8, 1],
                3 => wire::tag(9, EGROUP),
                4 => [wire::tag(9, SGROUP), wire::tag(10, EGROUP)].concat(),
                5 => [wire::varint((1u64 << 32) | u64::from(VARINT)), vec![1]].concat(),
                _ => [wire::tag(9, SGROUP), vec![0x08, 0x01]].concat(),
            };
            ("bad_tag", insert(boundary(rng), &bad))
        }
        8 => match of_type(LEN, rng) {
            Some(f) => {
                let (n, at) = wire::read_varint(b, f.value).unwrap_or((0, f.value));
                let delta = *rng.pick(&[1i64, -1, 2, -2, 1000, -1000]);
                let m = (n as i64 + delta).max(0) as u64;
                let mut new = b[f.start..f.value].to_vec();
                new.extend(wire::varint(m));
                new.extend_from_slice(&b[at..f.end]);
                ("len_delta", replace(&f, &new))
            }
            None => ("len_delta", b.to_vec()),
        },
        9 => {
            let texts: Vec<(Field, (usize, usize))> = fields
                .iter()
                .filter_map(|f| f.len_body(b).map(|body| (*f, body)))
                .filter(|(_, (s, e))| wire::looks_like_text(&b[*s..*e]))
                .collect();
            if texts.is_empty() {
                ("bad_utf8", b.to_vec())
            } else {
                let (f, (s, e)) = *rng.pick(&texts);
                let mut body = b[s..e].to_vec();
                let at = rng.below(body.len() + 1);
                const BAD: [&[u8]; 5] =
                    [&[0xff], &[0xc0, 0x80], &[0xed, 0xa0, 0x80], &[0xf4, 0x90, 0x80, 0x80], &[0x80]];
                let bad = BAD[rng.below(BAD.len())];
                if rng.chance(1, 2) && at < body.len() {
                    body.splice(at..at + 1, bad.iter().copied());
                } else {
                    body.splice(at..at, bad.iter().copied());
                }
                let mut new = b[f.start..f.value].to_vec();
                new.extend(wire::varint(body.len() as u64));
                new.extend(body);
                ("bad_utf8", replace(&f, &new))
            }
        }
        10 => match any(rng) {
            Some(f) => ("dup", insert(if rng.chance(1, 2) { f.end } else { b.len() }, &b[f.start..f.end])),
            None => ("dup", b.to_vec()),
        },
        11 => match any(rng) {
            Some(f) => ("drop", replace(&f, &[])),
            None => ("drop", b.to_vec()),
        },
        12 if fields.len() >= 2 => {
            let (i, j) = (rng.below(fields.len()), rng.below(fields.len()));
            let (i, j) = (i.min(j), i.max(j));
            let mut out = Vec::with_capacity(b.len());
            for (k, f) in fields.iter().enumerate() {
                let g = if k == i {
                    &fields[j]
                } else if k == j {
                    &fields[i]
                } else {
                    f
                };
                out.extend_from_slice(&b[g.start..g.end]);
            }
            ("reorder", out)
        }
        13 => ("packed", packed_toggle(b, fields, rng)),
        14 => match of_type(VARINT, rng).or_else(|| of_type(I64, rng)) {
            Some(f) => {
                let zero = if f.wt == VARINT { vec![0] } else { vec![0; 8] };
                let new = [wire::tag(f.number, f.wt), zero].concat();
                ("explicit_default", insert(f.start, &new))
            }
            None => ("explicit_default", b.to_vec()),
        },
        15 => match of_type(I64, rng).or_else(|| of_type(I32, rng)) {
            Some(f) => {
                let bits: Vec<u8> = if f.wt == I64 {
                    rng.pick(&[0x8000_0000_0000_0000u64, 0x7ff8_0000_0000_0001, 0x7ff0_0000_0000_0000])
                        .to_le_bytes()
                        .to_vec()
                } else {
                    rng.pick(&[0x8000_0000u32, 0x7fc0_0001, 0xff80_0000]).to_le_bytes().to_vec()
                };
                ("float_bits", replace(&f, &[wire::tag(f.number, f.wt), bits].concat()))
            }
            None => ("float_bits", b.to_vec()),
        },
        _ => match of_type(VARINT, rng) {
            Some(f) => {
                let v = *rng.pick(&[1u64 << 31, 1 << 32, (1 << 32) + 1, 1 << 63, u64::MAX, 2]);
                ("big_value", replace(&f, &[wire::tag(f.number, VARINT), wire::varint(v)].concat()))
            }
            None => ("big_value", b.to_vec()),
        },
    };
    name.push_str(label);
    out
}

/// A field of `number` with a valid value of wire type `wt`.
fn value_of(number: u64, wt: u8, rng: &mut Rng) -> Vec<u8> {
    match wt {
        VARINT => [wire::tag(number, VARINT), wire::varint(rng.below(300) as u64)].concat(),
        I64 => [wire::tag(number, I64), rng.bytes(8)].concat(),
        I32 => [wire::tag(number, I32), rng.bytes(4)].concat(),
        LEN => {
            let n = rng.below(6);
            wire::len_field(number, &rng.bytes(n))
        }
        _ => wire::groups(number, 1, &[]),
    }
}

fn unknown_field(rng: &mut Rng) -> Vec<u8> {
    let number = *rng.pick(&UNKNOWN_NUMBERS);
    let wt = *rng.pick(&[VARINT, I64, LEN, SGROUP, I32]);
    if wt == SGROUP && rng.chance(1, 2) {
        let inner = [value_of(1, VARINT, rng), value_of(2, LEN, rng)].concat();
        return wire::groups(number, 1 + rng.below(3), &inner);
    }
    value_of(number, wt, rng)
}

/// Packed repeated varints become unpacked fields, or two varint fields
/// of one number become one packed field.
fn packed_toggle(b: &[u8], fields: &[Field], rng: &mut Rng) -> Vec<u8> {
    let packed: Vec<(Field, (usize, usize))> = fields
        .iter()
        .filter_map(|f| f.len_body(b).map(|body| (*f, body)))
        .filter(|(_, (s, e))| all_varints(&b[*s..*e]).is_some())
        .collect();
    if !packed.is_empty() && rng.chance(1, 2) {
        let (f, (s, e)) = *rng.pick(&packed);
        let mut out = b[..f.start].to_vec();
        for v in all_varints(&b[s..e]).unwrap_or_default() {
            out.extend(wire::tag(f.number, VARINT));
            out.extend(wire::varint(v));
        }
        out.extend_from_slice(&b[f.end..]);
        return out;
    }
    let Some(f) = fields.iter().find(|f| f.wt == VARINT) else { return b.to_vec() };
    let same: Vec<&Field> = fields.iter().filter(|g| g.wt == VARINT && g.number == f.number).collect();
    let mut body = Vec::new();
    for g in &same {
        body.extend_from_slice(&b[g.value..g.end]);
    }
    let mut out = Vec::with_capacity(b.len());
    for g in fields {
        if g.wt == VARINT && g.number == f.number {
            if g.start == f.start {
                out.extend(wire::len_field(f.number, &body));
            }
            continue;
        }
        out.extend_from_slice(&b[g.start..g.end]);
    }
    out
}

fn all_varints(b: &[u8]) -> Option<Vec<u64>> {
    let mut out = Vec::new();
    let mut pos = 0;
    while pos < b.len() {
        let (v, next) = wire::read_varint(b, pos)?;
        out.push(v);
        pos = next;
    }
    (!out.is_empty()).then_some(out)
}

/// One raw edit; returns its name. `other` is another seed's payload for
/// splicing.
pub fn raw_mutation(p: &mut Vec<u8>, other: &[u8], rng: &mut Rng) -> String {
    let len = p.len();
    let label = match rng.weighted(&[25, 12, 15, 15, 12, 12, 9]) {
        0 => {
            for _ in 0..rng.range(1, 4) {
                if len > 0 {
                    let i = rng.below(len);
                    p[i] ^= 1 << rng.below(8);
                }
            }
            "bitflip"
        }
        1 => {
            if len > 0 {
                let i = rng.below(len);
                p[i] = *rng.pick(&[0x00, 0x01, 0x7f, 0x80, 0xff, 0x08, 0x0a]);
            }
            "byte_set"
        }
        2 => {
            let at = rng.below(len + 1);
            let n = rng.range(1, 8);
            let bytes = rng.bytes(n);
            p.splice(at..at, bytes);
            "insert"
        }
        3 => {
            if len > 0 {
                let at = rng.below(len);
                let n = rng.range(1, 16).min(len - at);
                p.drain(at..at + n);
            }
            "delete"
        }
        4 => {
            p.truncate(rng.below(len + 1));
            "truncate"
        }
        5 => {
            let cut = rng.below(len + 1);
            let from = rng.below(other.len() + 1);
            p.truncate(cut);
            p.extend_from_slice(&other[from..]);
            "splice"
        }
        _ => {
            if len > 0 {
                let at = rng.below(len);
                let n = rng.range(1, 32).min(len - at);
                let copy = p[at..at + n].to_vec();
                p.splice(at..at, copy);
            }
            "dup_range"
        }
    };
    format!("raw.{label}")
}
