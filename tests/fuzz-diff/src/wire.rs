//! The protobuf wire format without a schema: enough to find fields in a
//! payload and to write the odd encodings the mutator needs (overlong and
//! overflowing varints, any wire type, nested groups).

pub const VARINT: u8 = 0;
pub const I64: u8 = 1;
pub const LEN: u8 = 2;
pub const SGROUP: u8 = 3;
pub const EGROUP: u8 = 4;
pub const I32: u8 = 5;

/// One field of a message: `bytes[start..end]`, its value from `value`.
#[derive(Clone, Copy, Debug)]
pub struct Field {
    pub start: usize,
    pub value: usize,
    pub end: usize,
    pub number: u64,
    pub wt: u8,
}

impl Field {
    /// The bytes of a length-delimited value (after the length).
    pub fn len_body(&self, b: &[u8]) -> Option<(usize, usize)> {
        if self.wt != LEN {
            return None;
        }
        let (_, at) = read_varint(b, self.value)?;
        Some((at, self.end))
    }
}

/// A varint of at most 10 bytes at `pos`: its value (the bits that fit in
/// 64) and where it ends.
pub fn read_varint(b: &[u8], pos: usize) -> Option<(u64, usize)> {
    let mut v = 0u64;
    for i in 0..10 {
        let byte = *b.get(pos + i)?;
        v |= u64::from(byte & 0x7f) << (7 * i);
        if byte < 0x80 {
            return Some((v, pos + i + 1));
        }
    }
    None
}

pub fn varint(mut v: u64) -> Vec<u8> {
    let mut out = Vec::with_capacity(10);
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
    out
}

/// `v` padded with continuation bytes to `total` bytes (at least its
/// minimal length). More than 10 bytes is not a valid varint anywhere.
pub fn overlong(v: u64, total: usize) -> Vec<u8> {
    let mut out = varint(v);
    while out.len() < total {
        let last = out.len() - 1;
        out[last] |= 0x80;
        out.push(0);
    }
    out
}

/// A 10-byte varint whose last byte carries bits past 64 (`last` >= 2).
pub fn overflowing(low: u64, last: u8) -> Vec<u8> {
    let mut out = overlong(low & ((1 << 63) - 1), 10);
    out[9] = last & 0x7f;
    out
}

pub fn tag(number: u64, wt: u8) -> Vec<u8> {
    varint((number << 3) | u64::from(wt))
}

pub fn len_field(number: u64, body: &[u8]) -> Vec<u8> {
    let mut out = tag(number, LEN);
    out.extend(varint(body.len() as u64));
    out.extend_from_slice(body);
    out
}

/// `depth` groups of field `number` nested in each other around `inner`.
pub fn groups(number: u64, depth: usize, inner: &[u8]) -> Vec<u8> {
    let open = tag(number, SGROUP);
    let close = tag(number, EGROUP);
    let mut out = Vec::with_capacity(depth * (open.len() + close.len()) + inner.len());
    for _ in 0..depth {
        out.extend_from_slice(&open);
    }
    out.extend_from_slice(inner);
    for _ in 0..depth {
        out.extend_from_slice(&close);
    }
    out
}

/// The fields of a well-formed message (every tag valid, lengths in range,
/// groups closed), or `None`. Used to find mutation points, so it is the
/// lenient common ground of the decoders, not any decoder's rules.
pub fn parse(b: &[u8]) -> Option<Vec<Field>> {
    let mut fields = Vec::new();
    let mut pos = 0;
    while pos < b.len() {
        let f = field_at(b, pos, 0)?;
        if f.wt == EGROUP {
            return None;
        }
        pos = f.end;
        fields.push(f);
    }
    Some(fields)
}

fn field_at(b: &[u8], start: usize, depth: usize) -> Option<Field> {
    let (key, value) = read_varint(b, start)?;
    let (number, wt) = (key >> 3, (key & 7) as u8);
    if number == 0 || key > u64::from(u32::MAX) || depth > 200 {
        return None;
    }
    let end = match wt {
        VARINT => read_varint(b, value)?.1,
        I64 => value + 8,
        I32 => value + 4,
        LEN => {
            let (n, at) = read_varint(b, value)?;
            at.checked_add(usize::try_from(n).ok()?)?
        }
        SGROUP => {
            let mut pos = value;
            loop {
                let f = field_at(b, pos, depth + 1)?;
                pos = f.end;
                if f.wt == EGROUP {
                    if f.number != number {
                        return None;
                    }
                    break pos;
                }
            }
        }
        EGROUP => value,
        _ => return None,
    };
    (end <= b.len()).then_some(Field { start, value, end, number, wt })
}

/// True when the bytes look like text a string field would hold: valid
/// UTF-8 without control characters other than whitespace.
pub fn looks_like_text(b: &[u8]) -> bool {
    !b.is_empty() && std::str::from_utf8(b).is_ok_and(|s| s.chars().all(|c| !c.is_control() || c.is_ascii_whitespace()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn varints_round_trip() {
        for v in [0u64, 1, 127, 128, 300, u64::from(u32::MAX), u64::MAX] {
            let b = varint(v);
            assert_eq!(read_varint(&b, 0), Some((v, b.len())));
            let long = overlong(v, 10);
            assert_eq!(long.len(), 10);
            assert_eq!(read_varint(&long, 0), Some((v, 10)));
        }
        assert_eq!(overflowing(5, 2).len(), 10);
        assert_eq!(overflowing(5, 2)[9], 2);
    }

    #[test]
    fn parses_nested_groups() {
        let mut m = tag(1, VARINT);
        m.extend(varint(5));
        m.extend(groups(7, 3, &[0x08, 0x01]));
        m.extend(len_field(2, b"abc"));
        let f = parse(&m).expect("well formed");
        assert_eq!(f.iter().map(|f| (f.number, f.wt)).collect::<Vec<_>>(), [(1, 0), (7, 3), (2, 2)]);
        assert!(parse(&[0x0b, 0x14]).is_none(), "group 1 closed by 2");
        assert!(parse(&[0x0a, 0x05, 0x01]).is_none(), "length past the end");
    }
}
