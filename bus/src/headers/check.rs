//! The syntax rules of individual header values. Each returns why a value
//! is wrong, phrased to follow "header `x` value `…` …".

/// RFC 3339 in UTC as the contract writes it: `YYYY-MM-DDTHH:MM:SS`, an
/// optional fraction of 1 to 9 digits, and `Z`. Uppercase `T` and `Z` only,
/// no offsets (not even `+00:00`), no leap second, years 0001 to 9999 (the
/// range of `google.protobuf.Timestamp`). Returns (unix seconds, nanos).
pub(crate) fn rfc3339_utc(s: &str) -> Result<(i64, u32), &'static str> {
    let b = s.as_bytes();
    if b.last() != Some(&b'Z') {
        return Err("does not end in `Z`: times on the bus are UTC, written with `Z`");
    }
    if b.len() < 20 {
        return Err("is not RFC 3339 UTC (`2025-09-05T19:31:01Z`)");
    }
    let sep = |i: usize, c: u8| b[i] == c;
    if !(sep(4, b'-') && sep(7, b'-') && sep(10, b'T') && sep(13, b':') && sep(16, b':')) {
        return Err("is not RFC 3339 UTC (`2025-09-05T19:31:01Z`, uppercase `T` and `Z`)");
    }
    let num = |r: std::ops::Range<usize>| -> Result<i64, &'static str> {
        b[r].iter().try_fold(0i64, |acc, &c| {
            if c.is_ascii_digit() {
                Ok(acc * 10 + i64::from(c - b'0'))
            } else {
                Err("has a non-digit where RFC 3339 expects one")
            }
        })
    };
    let (year, month, day) = (num(0..4)?, num(5..7)?, num(8..10)?);
    let (hour, minute, second) = (num(11..13)?, num(14..16)?, num(17..19)?);
    if year == 0 {
        return Err("has year 0000; the bus carries years 0001 to 9999");
    }
    if !(1..=12).contains(&month) {
        return Err("has a month outside 01..12");
    }
    if day < 1 || day > days_in_month(year, month) {
        return Err("has a day that does not exist in its month");
    }
    if hour > 23 || minute > 59 || second > 59 {
        return Err("has a time of day outside 00:00:00..23:59:59 (leap seconds are not written)");
    }
    let frac = &b[19..b.len() - 1];
    let mut nanos = 0u32;
    if !frac.is_empty() {
        let digits = &frac[1..];
        if frac[0] != b'.' || digits.is_empty() || digits.len() > 9 || !digits.iter().all(u8::is_ascii_digit) {
            return Err("has a fraction that is not `.` and 1 to 9 digits before `Z` (offsets are not allowed)");
        }
        for i in 0..9 {
            nanos = nanos * 10 + digits.get(i).map_or(0, |d| u32::from(d - b'0'));
        }
    }
    let days = days_from_civil(year, month, day);
    Ok((days * 86_400 + hour * 3600 + minute * 60 + second, nanos))
}

fn days_in_month(y: i64, m: i64) -> i64 {
    match m {
        2 if (y % 4 == 0 && y % 100 != 0) || y % 400 == 0 => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Proleptic Gregorian date to days since 1970-01-01 (H. Hinnant), the
/// inverse of `ampy_canonical::text::civil_from_days`.
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = if m > 2 { m - 3 } else { m + 9 };
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// Semver 2.0.0, as the registry validates `schema_version`.
pub(crate) fn semver(s: &str) -> Result<(), &'static str> {
    const BAD: &str = "is not a semantic version (`1.0.0`, no `v` prefix, no leading zeros)";
    let (rest, build) = match s.split_once('+') {
        Some((r, b)) => (r, Some(b)),
        None => (s, None),
    };
    let (core, pre) = match rest.split_once('-') {
        Some((c, p)) => (c, Some(p)),
        None => (rest, None),
    };
    let numeric = |t: &str| !t.is_empty() && t.bytes().all(|c| c.is_ascii_digit()) && (t == "0" || !t.starts_with('0'));
    let mut parts = 0;
    for part in core.split('.') {
        parts += 1;
        if !numeric(part) {
            return Err(BAD);
        }
    }
    if parts != 3 {
        return Err(BAD);
    }
    let ident = |t: &str| !t.is_empty() && t.bytes().all(|c| c.is_ascii_alphanumeric() || c == b'-');
    if let Some(pre) = pre {
        for t in pre.split('.') {
            let all_digits = t.bytes().all(|c| c.is_ascii_digit());
            if !ident(t) || (all_digits && !numeric(t)) {
                return Err(BAD);
            }
        }
    }
    if let Some(build) = build {
        if !build.split('.').all(ident) {
            return Err(BAD);
        }
    }
    Ok(())
}

/// A protobuf full name: identifiers joined by `.`, no leading dot.
pub(crate) fn fqdn(s: &str) -> Result<(), &'static str> {
    // Byte slices rather than `str::split`: the same pieces, without a
    // char searcher, as this runs on every record received.
    let ok = s.as_bytes().split(|c| *c == b'.').all(|id| match id.split_first() {
        Some((c, rest)) => {
            (c.is_ascii_alphabetic() || *c == b'_') && rest.iter().all(|c| c.is_ascii_alphanumeric() || *c == b'_')
        }
        None => false,
    });
    if ok {
        Ok(())
    } else {
        Err("is not a fully qualified protobuf message name (`ampy.bars.v1.BarBatch`)")
    }
}

/// `sha256:` and 64 lowercase hex digits, the form of schema and blob hashes.
pub(crate) fn sha256_ref(s: &str) -> Result<(), &'static str> {
    match s.strip_prefix("sha256:") {
        Some(h)
            if h.len() == 64
                && h.bytes().all(|c| super::ids::LOWER_HEX_VALUE[usize::from(c)] != super::ids::NOT_HEX) =>
        {
            Ok(())
        }
        _ => Err("is not `sha256:` followed by 64 lowercase hex digits"),
    }
}

/// Plain decimal, as both NATS and Kafka carry numbers: no sign, no
/// leading zeros, no spaces.
pub(crate) fn decimal<N: std::str::FromStr>(s: &str) -> Result<N, &'static str> {
    const BAD: &str = "is not a decimal number without sign or leading zeros";
    if s.is_empty() || !s.bytes().all(|c| c.is_ascii_digit()) || (s.len() > 1 && s.starts_with('0')) {
        return Err(BAD);
    }
    s.parse().map_err(|_| "is too large")
}

/// Header values are single-line text: a control character would split a
/// NATS header line or smuggle another header in.
pub(crate) fn text(s: &str) -> Result<(), &'static str> {
    if s.is_empty() {
        Err("is empty")
    } else if has_control(s) {
        Err("contains a control character (header values are single-line text)")
    } else {
        Ok(())
    }
}

/// Whether `s` holds a control character (Unicode `Cc`): by bytes for
/// ASCII text, the usual header value, by chars otherwise.
fn has_control(s: &str) -> bool {
    if s.is_ascii() {
        s.bytes().any(|c| c.is_ascii_control())
    } else {
        s.chars().any(char::is_control)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc3339_accepts_the_contract_form_only() {
        assert_eq!(rfc3339_utc("1970-01-01T00:00:00Z"), Ok((0, 0)));
        assert_eq!(rfc3339_utc("2025-09-05T19:31:01Z"), Ok((1_757_100_661, 0)));
        assert_eq!(rfc3339_utc("2025-09-05T19:31:01.5Z"), Ok((1_757_100_661, 500_000_000)));
        assert_eq!(rfc3339_utc("2024-02-29T00:00:00.123456789Z").map(|t| t.1), Ok(123_456_789));
        for bad in [
            "2025-09-05T19:31:01",
            "2025-09-05T19:31:01+00:00",
            "2025-09-05t19:31:01z",
            "2025-09-05 19:31:01Z",
            "2025-13-05T19:31:01Z",
            "2025-02-29T19:31:01Z",
            "2025-09-31T19:31:01Z",
            "2025-09-05T24:00:00Z",
            "2025-09-05T19:60:00Z",
            "2025-09-05T19:31:60Z",
            "2025-09-05T19:31:01.Z",
            "2025-09-05T19:31:01.1234567890Z",
            "0000-01-01T00:00:00Z",
            "2025-9-05T19:31:01Z",
            "２025-09-05T19:31:01Z",
        ] {
            assert!(rfc3339_utc(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn semver_is_strict() {
        for ok in ["1.0.0", "0.1.0", "10.20.30", "1.0.0-rc.1", "1.0.0+build.5", "1.0.0-alpha-1"] {
            assert_eq!(semver(ok), Ok(()), "{ok}");
        }
        for bad in ["1.0", "v1.0.0", "01.0.0", "1.0.0-", "1.0.0-01", "1.0.0+", "1..0", ""] {
            assert!(semver(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn names_hashes_and_numbers() {
        assert!(fqdn("ampy.bars.v1.BarBatch").is_ok());
        assert!(fqdn(".ampy.Bar").is_err());
        assert!(fqdn("ampy..Bar").is_err());
        assert!(fqdn("ampy.1Bar").is_err());
        assert!(sha256_ref(&format!("sha256:{}", "a".repeat(64))).is_ok());
        assert!(sha256_ref(&format!("sha256:{}", "A".repeat(64))).is_err());
        assert_eq!(decimal::<u32>("0"), Ok(0));
        assert!(decimal::<u32>("01").is_err());
        assert!(decimal::<u32>("+1").is_err());
        assert!(decimal::<u32>("4294967296").is_err());
        assert!(fqdn("_a.b_2.C").is_ok());
        assert!(fqdn("").is_err());
        assert!(fqdn("ampy.").is_err());
        assert!(fqdn("ampy.bärs").is_err());
    }

    #[test]
    fn text_refuses_every_control_character_ascii_or_not() {
        assert_eq!(text("plain text"), Ok(()));
        assert_eq!(text("é ü"), Ok(()));
        for bad in ["a\nb", "\t", "x\u{7f}", "x\u{85}y", "é\u{9f}", "\u{0}"] {
            assert!(text(bad).is_err(), "{bad:?}");
        }
        assert!(text("").is_err());
    }
}
