//! Header mutations: values next to each syntax rule, numbers past every
//! limit (including Python's 4,300-digit `int()` limit), dropped,
//! duplicated and renamed headers, schema identity edits.

use crate::rng::Rng;

pub type Pairs = Vec<(String, String)>;

const TEXT: [&str; 6] = ["producer", "source", "run_id", "partition_key", "dedupe_key", "dlq_reason"];
const FQDNS: [&str; 4] =
    ["ampy.bars.v1.BarBatch", "ampy.ticks.v1.TradeBatch", "ampy.news.v1.NewsItem", "ampy.fx.v1.FxRate"];

fn get<'a>(h: &'a Pairs, name: &str) -> Option<&'a str> {
    h.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
}

/// Sets the first `name` (or appends it).
pub fn set(h: &mut Pairs, name: &str, value: String) {
    match h.iter_mut().find(|(k, _)| k == name) {
        Some(p) => p.1 = value,
        None => h.push((name.to_owned(), value)),
    }
}

fn remove(h: &mut Pairs, name: &str) {
    h.retain(|(k, _)| k != name);
}

/// A number for `retry_count` or `blob_size`: the limits of u32 and u64,
/// every spelling the rule refuses, and digit strings around 4,300.
fn number(rng: &mut Rng) -> String {
    const FIXED: [&str; 20] = [
        "0",
        "1",
        "4294967295",
        "4294967296",
        "18446744073709551615",
        "18446744073709551616",
        "01",
        "00",
        "+1",
        "-1",
        " 1",
        "1 ",
        "\u{661}",
        "\u{ff11}",
        "1_0",
        "0x1",
        "1e3",
        "",
        "\u{b9}",
        "99999999999999999999999999999999",
    ];
    if rng.chance(1, 3) {
        let n = *rng.pick(&[20, 4299, 4300, 4301, 5000, 20_000]);
        let first = if rng.chance(1, 6) { '0' } else { char::from(b'1' + rng.below(9) as u8) };
        let mut s = String::with_capacity(n);
        s.push(first);
        for _ in 1..n {
            s.push(char::from(b'0' + rng.below(10) as u8));
        }
        return s;
    }
    rng.pick(&FIXED).to_string()
}

fn edit_char(s: &str, rng: &mut Rng) -> String {
    let mut chars: Vec<char> = s.chars().collect();
    if chars.is_empty() {
        return "x".into();
    }
    let i = rng.below(chars.len());
    match rng.below(4) {
        0 => chars[i] = chars[i].to_ascii_uppercase(),
        1 => chars[i] = *rng.pick(&['0', 'f', 'g', '-', 'Z', ' ']),
        2 => {
            chars.remove(i);
        }
        _ => chars.insert(i, *rng.pick(&['0', '-', 'a'])),
    }
    chars.into_iter().collect()
}

/// One header mutation; returns its name.
pub fn header_mutation(h: &mut Pairs, rng: &mut Rng) -> String {
    let label = match rng.weighted(&[8, 6, 12, 5, 6, 4, 4, 3, 7, 6, 5, 5, 5, 3, 3, 4]) {
        0 if !h.is_empty() => {
            let i = rng.below(h.len());
            h.remove(i);
            "drop"
        }
        1 if !h.is_empty() => {
            let i = rng.below(h.len());
            let (k, v) = h[i].clone();
            let v = if rng.chance(1, 2) { v } else { edit_char(&v, rng) };
            if rng.chance(1, 2) {
                h.push((k, v));
            } else {
                h.insert(i + 1, (k, v));
            }
            "duplicate"
        }
        2 => {
            let value = number(rng);
            if rng.chance(1, 2) {
                set(h, "retry_count", value);
                "retry_count"
            } else {
                if get(h, "blob_ref").is_none() || rng.chance(1, 4) {
                    set(h, "blob_ref", "s3://ampy-blobs/fuzz/1".into());
                    set(h, "blob_hash", format!("sha256:{}", "ab".repeat(32)));
                }
                set(h, "blob_size", value);
                "blob_size"
            }
        }
        3 => {
            let v = match rng.below(5) {
                0 => rng.pick(&FQDNS).to_string(),
                1 => get(h, "schema_fqdn").unwrap_or("").to_lowercase(),
                2 => format!("{}.", get(h, "schema_fqdn").unwrap_or("")),
                3 => String::new(),
                _ => format!(".{}", get(h, "schema_fqdn").unwrap_or("")),
            };
            set(h, "schema_fqdn", v);
            "schema_fqdn"
        }
        4 => {
            let old = get(h, "schema_hash").unwrap_or("sha256:").to_owned();
            match rng.below(4) {
                0 => remove(h, "schema_hash"),
                1 => set(h, "schema_hash", old.to_uppercase()),
                2 => set(h, "schema_hash", old.trim_start_matches("sha256:").to_owned()),
                _ => set(h, "schema_hash", edit_char(&old, rng)),
            }
            "schema_hash"
        }
        5 => {
            let v = *rng.pick(&["1.0", "v1.0.0", "01.0.0", "1.0.0-rc.1", "2.0.0", "", "1.0.0+b.1", "1.0.0-"]);
            set(h, "schema_version", v.into());
            "schema_version"
        }
        6 if !h.is_empty() => {
            let i = rng.below(h.len());
            h[i].0 = match rng.below(3) {
                0 => h[i].0.to_uppercase(),
                1 => format!("{} ", h[i].0),
                _ => h[i].0.replace('_', "-"),
            };
            "name"
        }
        7 => {
            h.push((rng.pick(&["x-custom", "Message_Id", "nats-msg-id", "ampy_extra"]).to_string(), "v".into()));
            "unknown_header"
        }
        8 => {
            let name = *rng.pick(&TEXT);
            let mut v = get(h, name).unwrap_or("value").to_owned();
            let c = *rng.pick(&['\n', '\r', '\u{0}', '\u{7f}', '\u{85}', '\u{a0}', ' ', '\u{2028}', '\t']);
            let at = rng.below(v.chars().count() + 1);
            let byte_at = v.char_indices().nth(at).map_or(v.len(), |(i, _)| i);
            v.insert(byte_at, c);
            set(h, name, v);
            "control_char"
        }
        9 => {
            match rng.below(7) {
                0 => remove(h, "content_encoding"),
                i => set(h, "content_encoding", ["gzip", "GZIP", "identity", "", " gzip", "deflate"][i - 1].into()),
            }
            "content_encoding"
        }
        10 => {
            let old = get(h, "traceparent").unwrap_or("").to_owned();
            let v = match rng.below(4) {
                0 => format!("ff{}", old.get(2..).unwrap_or("")),
                1 => old.to_uppercase(),
                2 => "00-00000000000000000000000000000000-0000000000000001-01".into(),
                _ => edit_char(&old, rng),
            };
            set(h, "traceparent", v);
            "traceparent"
        }
        11 => {
            let old = get(h, "message_id").unwrap_or("").to_owned();
            let v = match rng.below(4) {
                0 => old.to_uppercase(),
                1 => old.replace('-', ""),
                2 => format!("{{{old}}}"),
                _ => edit_char(&old, rng),
            };
            set(h, "message_id", v);
            "message_id"
        }
        12 => {
            let v = *rng.pick(&[
                "2025-09-05T19:31:01+00:00",
                "2025-09-05T19:31:01",
                "2025-09-05T19:31:01.1234567890Z",
                "2025-09-05T19:31:60Z",
                "2025-09-05t19:31:01z",
                "0000-01-01T00:00:00Z",
                "9999-12-31T23:59:59.999999999Z",
                "2024-02-29T00:00:00Z",
            ]);
            set(h, "produced_at", v.into());
            "produced_at"
        }
        13 => {
            let v = *rng.pick(&["application/protobuf", "", "APPLICATION/X-PROTOBUF", "application/x-protobuf "]);
            set(h, "content_type", v.into());
            "content_type"
        }
        14 => {
            set(h, "blob_ref", "s3://ampy-blobs/fuzz/2".into());
            "blob_ref_alone"
        }
        _ => {
            let name = *rng.pick(&["producer", "source", "run_id", "partition_key", "schema_fqdn", "message_id"]);
            set(h, name, String::new());
            "empty_value"
        }
    };
    format!("hdr.{label}")
}
