//! The transport forms every runtime must spell identically: the NATS
//! header names of the envelope headers, JetStream stream names, and the
//! metric names and histogram buckets. The generator renders them into
//! every language's generated code and the Rust runtime links them here,
//! so there is one table. Normative text: `docs/nats.md`.

/// Envelope header → NATS header, in the contract's wire order
/// (`ampy_bus::headers::names::ALL`).
///
/// The rule: `message_id` is `Nats-Msg-Id`, so JetStream deduplicates on
/// it; every other header is `Ampy-` followed by its `_`-separated words,
/// each with its first letter upper-cased and joined by `-`
/// (`schema_fqdn` → `Ampy-Schema-Fqdn`). Every name is already in the
/// canonical MIME form that nats.go's `Header.Set`/`Get` (Go's
/// `textproto.CanonicalMIMEHeaderKey`) produce, so a client that
/// canonicalizes and one that preserves case write the same bytes, and
/// consumers can match exactly.
pub const NATS_HEADERS: [(&str, &str); 18] = [
    ("message_id", "Nats-Msg-Id"),
    ("schema_fqdn", "Ampy-Schema-Fqdn"),
    ("schema_version", "Ampy-Schema-Version"),
    ("content_type", "Ampy-Content-Type"),
    ("produced_at", "Ampy-Produced-At"),
    ("producer", "Ampy-Producer"),
    ("source", "Ampy-Source"),
    ("run_id", "Ampy-Run-Id"),
    ("traceparent", "Ampy-Traceparent"),
    ("partition_key", "Ampy-Partition-Key"),
    ("content_encoding", "Ampy-Content-Encoding"),
    ("dedupe_key", "Ampy-Dedupe-Key"),
    ("retry_count", "Ampy-Retry-Count"),
    ("dlq_reason", "Ampy-Dlq-Reason"),
    ("schema_hash", "Ampy-Schema-Hash"),
    ("blob_ref", "Ampy-Blob-Ref"),
    ("blob_hash", "Ampy-Blob-Hash"),
    ("blob_size", "Ampy-Blob-Size"),
];

/// The NATS header of an envelope header (exact match), if it has one.
pub fn nats_header(contract: &str) -> Option<&'static str> {
    NATS_HEADERS.iter().find(|(c, _)| *c == contract).map(|(_, n)| *n)
}

/// The envelope header a NATS header carries (exact match), if any.
pub fn contract_header(nats: &str) -> Option<&'static str> {
    NATS_HEADERS.iter().find(|(_, n)| *n == nats).map(|(c, _)| *c)
}

/// The NATS name of an envelope header by the rule, for headers a later
/// contract adds: what [`NATS_HEADERS`] holds for the current ones.
pub fn nats_header_by_rule(contract: &str) -> String {
    if contract == "message_id" {
        return "Nats-Msg-Id".to_owned();
    }
    let mut out = String::with_capacity(contract.len() + 5);
    out.push_str("Ampy");
    for word in contract.split('_') {
        out.push('-');
        let mut chars = word.chars();
        if let Some(c) = chars.next() {
            out.extend(c.to_uppercase());
            out.extend(chars.flat_map(char::to_lowercase));
        }
    }
    out
}

/// `Nats-` headers that describe one publish to the server (expected
/// stream, last sequence, rollup, TTL, …) rather than the record. A dead
/// letter must not carry them, or the server would apply them to the DLQ
/// publish; `Nats-Msg-Id` is the one kept (it is `message_id`).
pub fn is_publish_directive(nats: &str) -> bool {
    nats.len() > 5 && nats[..5].eq_ignore_ascii_case("nats-") && nats != "Nats-Msg-Id"
}

/// The JetStream stream that stores `{namespace}.{env}.{domain}.{version}.>`:
/// the four tokens upper-cased and joined by `_`, e.g. `AMPY_PROD_BARS_V1`.
///
/// Registry names are lower-case letters, digits, `_` and `-`, all legal
/// in stream names (which exclude `.`, `*`, `>`, whitespace and path
/// separators); `_` inside a name makes two registries' names able to
/// collide, which the generator rejects (`transport::stream_collision`).
pub fn stream_name(namespace: &str, env: &str, domain: &str, version: &str) -> String {
    let mut out = String::with_capacity(namespace.len() + env.len() + domain.len() + version.len() + 3);
    for (i, part) in [namespace, env, domain, version].into_iter().enumerate() {
        if i > 0 {
            out.push('_');
        }
        out.extend(part.chars().map(|c| c.to_ascii_uppercase()));
    }
    out
}

/// Why `name` cannot be a JetStream stream or consumer name, if it cannot.
pub fn stream_name_problem(name: &str) -> Option<&'static str> {
    if name.is_empty() {
        return Some("is empty");
    }
    if name.len() > 255 {
        return Some("is longer than 255 bytes");
    }
    if let Some(c) =
        name.chars().find(|c| matches!(c, '.' | '*' | '>' | '/' | '\\') || c.is_whitespace() || c.is_control())
    {
        return Some(match c {
            '.' => "contains `.`",
            '*' => "contains `*`",
            '>' => "contains `>`",
            '/' | '\\' => "contains a path separator",
            _ => "contains whitespace or a control character",
        });
    }
    None
}

/// The metrics every runtime exposes, as `(name, type, labels)`; Prometheus
/// names, the contract's `bus.x` written `bus_x`.
pub const METRICS: [(&str, &str, &[&str]); 7] = [
    ("bus_produced_total", "counter", &["topic", "producer"]),
    ("bus_consumed_total", "counter", &["topic", "consumer"]),
    ("bus_delivery_latency_ms", "histogram", &["topic"]),
    ("bus_dlq_total", "counter", &["topic", "reason"]),
    ("bus_retry_total", "counter", &["topic", "reason"]),
    ("bus_decode_fail_total", "counter", &["topic", "reason"]),
    ("bus_schema_info", "gauge", &["topic", "schema_fqdn", "schema_hash"]),
];

/// Upper bounds (ms, inclusive) of `bus_delivery_latency_ms`'s buckets,
/// then `+Inf`. Dense around the contract's 50 and 150 ms targets.
pub const LATENCY_BUCKETS_MS: [f64; 14] =
    [1.0, 2.0, 5.0, 10.0, 20.0, 50.0, 75.0, 100.0, 150.0, 250.0, 500.0, 1000.0, 2500.0, 10000.0];

#[cfg(test)]
mod tests {
    use super::*;

    /// Go's `textproto.CanonicalMIMEHeaderKey` for the ASCII token names
    /// used here: upper-case the first letter and each letter after `-`.
    fn canonical_mime(name: &str) -> String {
        let mut upper = true;
        name.chars()
            .map(|c| {
                let out = if upper { c.to_ascii_uppercase() } else { c.to_ascii_lowercase() };
                upper = c == '-';
                out
            })
            .collect()
    }

    #[test]
    fn every_name_follows_the_rule_and_is_canonical_mime() {
        for (contract, nats) in NATS_HEADERS {
            assert_eq!(nats_header_by_rule(contract), nats);
            assert_eq!(canonical_mime(nats), nats, "{nats} changes under MIME canonicalization");
            assert_eq!(contract_header(nats), Some(contract));
            assert_eq!(nats_header(contract), Some(nats));
        }
        assert_eq!(contract_header("ampy-schema-fqdn"), None, "matching is exact");
    }

    #[test]
    fn stream_names() {
        assert_eq!(stream_name("ampy", "prod", "bars", "v1"), "AMPY_PROD_BARS_V1");
        assert_eq!(stream_name("ampy", "us-east", "corporate_actions", "v2"), "AMPY_US-EAST_CORPORATE_ACTIONS_V2");
        assert_eq!(stream_name_problem("AMPY_PROD_BARS_V1"), None);
        assert!(stream_name_problem("A.B").is_some());
        assert!(is_publish_directive("Nats-Expected-Stream"));
        assert!(!is_publish_directive("Nats-Msg-Id"));
        assert!(!is_publish_directive("Ampy-Producer"));
    }
}
