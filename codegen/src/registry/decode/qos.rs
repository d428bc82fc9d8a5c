//! Decoding the broker settings of a QoS tier (docs/registry.md, "QoS
//! tiers"): stream retention and the consumer's delivery bounds. Each is
//! optional; `crate::transport::defaults` holds the defaults, and limits the
//! broker would reject are reported here, at their spot in the registry.

use super::*;

/// Bounds of the integer settings: (key, min, max, what it is).
const BOUNDS: &[(&str, u64, u64, &str)] = &[
    ("max_deliveries", 1, 1000, "deliveries"),
    ("ack_wait_ms", 100, 86_400_000, "milliseconds"),
    ("duplicate_window_ms", 100, 604_800_000, "milliseconds"),
    ("max_age_hours", 0, 87_600, "hours"),
    ("max_bytes", 1024, i64::MAX as u64, "bytes"),
    // JetStream clusters replicate to at most 5 servers.
    ("replicas", 1, 5, "servers"),
    // Kafka: more partitions than this per topic is a design error, not a
    // scale-out (each costs broker memory and file handles).
    ("partitions", 1, MAX_PARTITIONS, "partitions"),
    // Kafka: at least room for the envelope headers; at most what a broker
    // can replicate without raising its fetch sizes.
    ("max_message_bytes", 1024, 104_857_600, "bytes"),
    ("min_insync_replicas", 1, 5, "replicas"),
];

/// The most partitions a Kafka topic may have (tier or domain setting).
pub const MAX_PARTITIONS: u64 = 1000;

/// Longest nak backoff list, and the largest delay in it.
const MAX_BACKOFF_STEPS: usize = 32;
const MAX_BACKOFF_MS: u64 = 86_400_000;

impl Decoder<'_> {
    pub(super) fn tier_transport(&mut self, obj: &Obj<'_>, what: &str) -> TierTransport {
        let bounded = |d: &mut Self, key: &str| -> Option<Spanned<u64>> {
            let (_, min, max, unit) = BOUNDS.iter().find(|(k, ..)| *k == key)?;
            let v = obj.get(key).and_then(|n| d.uint(n, &format!("`{key}`")))?;
            if v.value < *min || v.value > *max {
                d.error(
                    "registry::bad_qos",
                    v.span.clone(),
                    format!("`{key}` of {what} is {}, outside {min}..={max} {unit}", v.value),
                    format!("write a value from {min} to {max}; docs/registry.md gives the default"),
                );
                return None;
            }
            Some(v)
        };
        let max_deliveries = bounded(self, "max_deliveries");
        let ack_wait_ms = bounded(self, "ack_wait_ms");
        let duplicate_window_ms = bounded(self, "duplicate_window_ms");
        let max_age_hours = bounded(self, "max_age_hours");
        let max_bytes = bounded(self, "max_bytes");
        let replicas = bounded(self, "replicas");
        let partitions = bounded(self, "partitions");
        let max_message_bytes = bounded(self, "max_message_bytes");
        let min_insync_replicas = bounded(self, "min_insync_replicas");
        // Kafka refuses every acks=all write while fewer replicas than
        // `min.insync.replicas` exist.
        if let Some(min) = &min_insync_replicas {
            let replicas_value = replicas.as_ref().map_or(crate::transport::defaults::REPLICAS, |r| r.value);
            if min.value > replicas_value {
                let mut diag = Diagnostic::error(
                    "registry::bad_qos",
                    format!(
                        "`min_insync_replicas` of {what} is {}, but its topics have {replicas_value} replica(s) (`replicas`)",
                        min.value
                    ),
                )
                .at(self.source, min.span.clone())
                .help("Kafka would refuse every acks=all write: lower `min_insync_replicas` or raise `replicas`");
                if let Some(r) = &replicas {
                    diag = diag.with_label(Label::new(self.source, r.span.clone()).with_message("replicas"));
                }
                self.diags.push(diag);
            }
        }
        let nak_backoff_ms = obj.get("nak_backoff_ms").and_then(|n| self.backoff(n, what));
        let storage = obj.get("storage").and_then(|n| self.string(n, "`storage`")).and_then(|s| {
            let v = match s.value.as_str() {
                "file" => Storage::File,
                "memory" => Storage::Memory,
                _ => {
                    self.error(
                        "registry::bad_qos",
                        s.span.clone(),
                        format!("unknown storage `{}` in {what}", s.value),
                        format!("use one of: {}", Storage::NAMES.join(", ")),
                    );
                    return None;
                }
            };
            Some(Spanned::new(v, s.span))
        });
        // JetStream refuses a duplicate window longer than the retention.
        if let (Some(window), Some(age)) = (&duplicate_window_ms, &max_age_hours) {
            if age.value > 0 && window.value > age.value * 3_600_000 {
                let diag = Diagnostic::error(
                    "registry::bad_qos",
                    format!(
                        "the duplicate window of {what} ({} ms) is longer than its retention ({} h)",
                        window.value, age.value
                    ),
                )
                .at(self.source, window.span.clone())
                .with_label(Label::new(self.source, age.span.clone()).with_message("retention"))
                .help("JetStream keeps message ids only while it keeps the records: shorten the window or keep records longer");
                self.diags.push(diag);
            }
        }
        TierTransport {
            max_deliveries,
            ack_wait_ms,
            nak_backoff_ms,
            duplicate_window_ms,
            max_age_hours,
            max_bytes,
            storage,
            replicas,
            partitions,
            max_message_bytes,
            min_insync_replicas,
        }
    }

    /// A domain's `partitions`: the Kafka partitions of its topics.
    pub(super) fn partitions(&mut self, node: &Node, what: &str) -> Option<Spanned<u64>> {
        let v = self.uint(node, "`partitions`")?;
        if v.value == 0 || v.value > MAX_PARTITIONS {
            self.error(
                "registry::bad_partitions",
                v.span.clone(),
                format!("`partitions` of {what} is {}, outside 1..={MAX_PARTITIONS}", v.value),
                format!("write a partition count from 1 to {MAX_PARTITIONS}; docs/registry.md gives the default"),
            );
            return None;
        }
        Some(v)
    }

    fn backoff(&mut self, node: &Node, what: &str) -> Option<Spanned<Vec<u64>>> {
        let Kind::Seq(items) = &node.kind else {
            self.error(
                "registry::wrong_type",
                node.span.clone(),
                format!("`nak_backoff_ms` of {what} must be a list, found {}", node.kind_name()),
                "write the delays in milliseconds, e.g. `[1000, 5000, 30000]`",
            );
            return None;
        };
        if items.is_empty() || items.len() > MAX_BACKOFF_STEPS {
            self.error(
                "registry::bad_qos",
                node.span.clone(),
                format!("`nak_backoff_ms` of {what} has {} entries", items.len()),
                format!("list 1 to {MAX_BACKOFF_STEPS} delays; the last one repeats for later retries"),
            );
            return None;
        }
        let mut out = Vec::with_capacity(items.len());
        for item in items {
            let v = self.uint(item, "each entry of `nak_backoff_ms`")?;
            if v.value > MAX_BACKOFF_MS {
                self.error(
                    "registry::bad_qos",
                    v.span.clone(),
                    format!("a nak delay of {} ms is over a day", v.value),
                    format!("write at most {MAX_BACKOFF_MS}"),
                );
                return None;
            }
            out.push(v.value);
        }
        Some(Spanned::new(out, node.span.clone()))
    }
}
