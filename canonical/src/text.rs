//! Subject tokens and RFC 3339 timestamps, as docs/registry.md fixes them.

use std::fmt::Write as _;

/// What is wrong with a subject token, or `None` when it is legal: not
/// empty, and no `.`, `*`, `>` (the NATS separator and wildcards),
/// whitespace or control characters.
pub fn token_problem(value: &str) -> Option<&'static str> {
    if value.is_empty() {
        return Some("is empty");
    }
    if value.bytes().all(|b| b.is_ascii_graphic() && !matches!(b, b'.' | b'*' | b'>')) {
        return None;
    }
    for c in value.chars() {
        match c {
            '.' => return Some("contains `.` (the subject separator)"),
            '*' => return Some("contains `*` (a NATS wildcard)"),
            '>' => return Some("contains `>` (a NATS wildcard)"),
            c if c.is_whitespace() => return Some("contains whitespace"),
            c if c.is_control() => return Some("contains a control character"),
            _ => {}
        }
    }
    None
}

const MIN_SECONDS: i64 = -62_135_596_800; // 0001-01-01T00:00:00Z
const MAX_SECONDS: i64 = 253_402_300_799; // 9999-12-31T23:59:59Z

/// Whether a Timestamp can be written as RFC 3339 (years 1 to 9999, nanos
/// in range).
pub fn timestamp_in_range(seconds: i64, nanos: i32) -> bool {
    (MIN_SECONDS..=MAX_SECONDS).contains(&seconds) && (0..=999_999_999).contains(&nanos)
}

/// Appends RFC 3339 UTC with `Z` and 0, 3, 6 or 9 fractional digits: none
/// when nanos is 0, else the fewest of 3/6/9 that are exact (the proto3
/// JSON form, which every language's protobuf runtime already writes). The
/// caller checks [`timestamp_in_range`] first.
pub fn write_timestamp(out: &mut String, seconds: i64, nanos: i32) {
    let days = seconds.div_euclid(86_400);
    let secs = seconds.rem_euclid(86_400);
    let (y, m, d) = civil_from_days(days);
    let _ = write!(out, "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}", secs / 3600, secs / 60 % 60, secs % 60);
    if nanos != 0 {
        let _ = if nanos % 1_000_000 == 0 {
            write!(out, ".{:03}", nanos / 1_000_000)
        } else if nanos % 1_000 == 0 {
            write!(out, ".{:06}", nanos / 1_000)
        } else {
            write!(out, ".{nanos:09}")
        };
    }
    out.push('Z');
}

/// [`write_timestamp`] into a new string, or `None` when out of range.
pub fn format_timestamp(seconds: i64, nanos: i32) -> Option<String> {
    timestamp_in_range(seconds, nanos).then(|| {
        let mut s = String::with_capacity(30);
        write_timestamp(&mut s, seconds, nanos);
        s
    })
}

/// Days since 1970-01-01 to a proleptic Gregorian date (H. Hinnant).
pub fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_follow_proto_json() {
        let f = format_timestamp;
        assert_eq!(f(0, 0).as_deref(), Some("1970-01-01T00:00:00Z"));
        assert_eq!(f(1_757_100_661, 0).as_deref(), Some("2025-09-05T19:31:01Z"));
        assert_eq!(f(1_757_100_661, 5_000_000).as_deref(), Some("2025-09-05T19:31:01.005Z"));
        assert_eq!(f(1_757_100_661, 5_000).as_deref(), Some("2025-09-05T19:31:01.000005Z"));
        assert_eq!(f(1_757_100_661, 5).as_deref(), Some("2025-09-05T19:31:01.000000005Z"));
        assert_eq!(f(-1, 0).as_deref(), Some("1969-12-31T23:59:59Z"));
        assert_eq!(f(-62_135_596_800, 0).as_deref(), Some("0001-01-01T00:00:00Z"));
        assert_eq!(f(253_402_300_799, 999_999_999).as_deref(), Some("9999-12-31T23:59:59.999999999Z"));
        assert_eq!(f(951_782_400, 0).as_deref(), Some("2000-02-29T00:00:00Z"));
        assert_eq!(f(253_402_300_800, 0), None);
        assert_eq!(f(0, -1), None);
        assert_eq!(f(0, 1_000_000_000), None);
    }

    #[test]
    fn tokens() {
        assert_eq!(token_problem("XNAS"), None);
        assert_eq!(token_problem("hyper@2025-09-05"), None);
        assert_eq!(token_problem("ü"), None);
        for bad in ["", "a.b", "*", "a>", "a b", "a\u{a0}b", "a\u{85}b", "a\u{7}"] {
            assert!(token_problem(bad).is_some(), "{bad:?}");
        }
    }
}
