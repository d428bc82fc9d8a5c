//! Metrics: an [`Observer`] the publisher and consumer report to, and
//! [`Metrics`], a built-in observer with a Prometheus text exposition.
//! Shared by the NATS and Kafka transports, so a service on either sees
//! the same names and labels (docs/nats.md §7, docs/kafka.md).
//!
//! Labels are the topic id, the producer or consumer name, and error
//! *kinds*: never free text, never payload bytes, so cardinality stays
//! bounded and nothing sensitive reaches a dashboard.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::{Arc, Mutex};

use crate::transport::LATENCY_BUCKETS_MS;

/// Receives the bus's measurements. Every method defaults to nothing, so
/// an adapter to another metrics facade implements only what it exports.
pub trait Observer: Send + Sync {
    /// A record was stored (publish ack received).
    fn produced(&self, _topic: &str, _producer: &str) {}
    /// A handler succeeded and the record was acked.
    fn consumed(&self, _topic: &str, _consumer: &str) {}
    /// Publish → first delivery, in milliseconds (`produced_at` to receipt).
    fn delivery_latency(&self, _topic: &str, _ms: f64) {}
    /// A record went to the DLQ; `reason` is the `dlq_reason` label.
    fn dead_lettered(&self, _topic: &str, _reason: &str) {}
    /// A record was nak'ed for redelivery; `reason` is the handler error kind.
    fn retried(&self, _topic: &str, _reason: &str) {}
    /// A record failed to decode; `reason` is the envelope error kind.
    fn decode_failed(&self, _topic: &str, _reason: &str) {}
    /// The schema a publisher or consumer was built for.
    fn schema(&self, _topic: &str, _fqdn: &str, _hash: &str) {}
    /// Kafka only: records of `partition` not yet handed to the consumer
    /// (high watermark − next offset to consume), at least once a second.
    fn consumer_lag(&self, _topic: &str, _consumer: &str, _partition: i32, _lag: i64) {}
}

/// The consumer lag gauge; not in the registry's metric table because
/// only the Kafka transport has partitions to measure it on.
pub const CONSUMER_LAG: &str = "bus_consumer_lag";

/// Reports nothing.
#[derive(Clone, Copy, Debug, Default)]
pub struct NoObserver;

impl Observer for NoObserver {}

/// One counter's series: its two label names and the values by topic,
/// then by the second label. Nested maps so that counting a series seen
/// before looks it up by `&str` and allocates nothing: the label strings
/// are owned once per series, not built on every increment.
struct Counter {
    labels: [&'static str; 2],
    series: BTreeMap<String, BTreeMap<String, u64>>,
}

#[derive(Default)]
struct State {
    /// By metric name.
    counters: BTreeMap<&'static str, Counter>,
    /// (bucket counts, sum, count) per topic.
    latency: BTreeMap<String, (Vec<u64>, f64, u64)>,
    info: BTreeMap<(String, String, String), ()>,
    /// (topic, consumer, partition) → lag.
    lag: BTreeMap<(String, String, i32), i64>,
}

/// In-process counters and the latency histogram, rendered in the
/// Prometheus text format by [`Metrics::render`] (and served by
/// [`Metrics::serve`]).
#[derive(Default)]
pub struct Metrics {
    state: Mutex<State>,
}

impl Metrics {
    pub fn new() -> Arc<Metrics> {
        Arc::new(Metrics::default())
    }

    fn inc(&self, name: &'static str, labels: [&'static str; 2], topic: &str, other: &str) {
        let Ok(mut s) = self.state.lock() else { return };
        let counter = s.counters.entry(name).or_insert_with(|| Counter { labels, series: BTreeMap::new() });
        if !counter.series.contains_key(topic) {
            counter.series.insert(topic.to_owned(), BTreeMap::new());
        }
        let Some(by_other) = counter.series.get_mut(topic) else { return };
        match by_other.get_mut(other) {
            Some(v) => *v += 1,
            None => {
                by_other.insert(other.to_owned(), 1);
            }
        }
    }

    /// A counter's value, for tests and health checks.
    pub fn counter(&self, name: &str, labels: &[(&str, &str)]) -> u64 {
        let Ok(s) = self.state.lock() else { return 0 };
        let (Some(c), [(k0, topic), (k1, other)]) = (s.counters.get(name), labels) else { return 0 };
        if c.labels != [*k0, *k1] {
            return 0;
        }
        c.series.get(*topic).and_then(|m| m.get(*other)).copied().unwrap_or(0)
    }

    /// The last consumer lag reported for a partition, for tests and
    /// health checks.
    pub fn lag(&self, topic: &str, consumer: &str, partition: i32) -> Option<i64> {
        let s = self.state.lock().ok()?;
        s.lag.get(&(topic.to_owned(), consumer.to_owned(), partition)).copied()
    }

    /// The Prometheus text exposition (format 0.0.4).
    pub fn render(&self) -> String {
        let Ok(s) = self.state.lock() else { return String::new() };
        let mut out = String::new();
        for (name, kind, labels) in crate::transport::METRICS {
            let _ = writeln!(out, "# TYPE {name} {kind}");
            match kind {
                "histogram" => {
                    for (topic, (buckets, sum, count)) in &s.latency {
                        let t = escape(topic);
                        for (i, le) in LATENCY_BUCKETS_MS.iter().enumerate() {
                            let _ = writeln!(out, "{name}_bucket{{topic=\"{t}\",le=\"{le}\"}} {}", buckets[i]);
                        }
                        let _ = writeln!(out, "{name}_bucket{{topic=\"{t}\",le=\"+Inf\"}} {count}");
                        let _ = writeln!(out, "{name}_sum{{topic=\"{t}\"}} {sum}");
                        let _ = writeln!(out, "{name}_count{{topic=\"{t}\"}} {count}");
                    }
                }
                "gauge" => {
                    for (topic, fqdn, hash) in s.info.keys() {
                        let _ = writeln!(
                            out,
                            "{name}{{{}=\"{}\",{}=\"{}\",{}=\"{}\"}} 1",
                            labels[0],
                            escape(topic),
                            labels[1],
                            escape(fqdn),
                            labels[2],
                            escape(hash)
                        );
                    }
                }
                _ => {
                    let Some(c) = s.counters.get(name) else { continue };
                    let [k0, k1] = c.labels;
                    for (topic, by_other) in &c.series {
                        let t = escape(topic);
                        for (other, v) in by_other {
                            let _ = writeln!(out, "{name}{{{k0}=\"{t}\",{k1}=\"{}\"}} {v}", escape(other));
                        }
                    }
                }
            }
        }
        if !s.lag.is_empty() {
            let _ = writeln!(out, "# TYPE {CONSUMER_LAG} gauge");
            for ((topic, consumer, partition), lag) in &s.lag {
                let (t, c) = (escape(topic), escape(consumer));
                let _ =
                    writeln!(out, "{CONSUMER_LAG}{{topic=\"{t}\",consumer=\"{c}\",partition=\"{partition}\"}} {lag}");
            }
        }
        out
    }

    /// Serves [`Metrics::render`] over HTTP on `listener` (any path) until
    /// the task is dropped: a scrape target without a web framework.
    pub async fn serve(self: Arc<Self>, listener: tokio::net::TcpListener) -> std::io::Result<()> {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        loop {
            let (mut sock, _) = listener.accept().await?;
            let metrics = Arc::clone(&self);
            tokio::spawn(async move {
                let mut buf = [0u8; 4096];
                // The request itself does not matter; read until its end.
                let mut seen = Vec::new();
                while !seen.windows(4).any(|w| w == b"\r\n\r\n") {
                    match sock.read(&mut buf).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => seen.extend_from_slice(&buf[..n]),
                    }
                    if seen.len() > 64 * 1024 {
                        return;
                    }
                }
                let body = metrics.render();
                let head = format!(
                    "HTTP/1.1 200 OK\r\nContent-Type: text/plain; version=0.0.4\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                    body.len()
                );
                let _ = sock.write_all(head.as_bytes()).await;
                let _ = sock.write_all(body.as_bytes()).await;
                let _ = sock.shutdown().await;
            });
        }
    }
}

impl Observer for Metrics {
    fn produced(&self, topic: &str, producer: &str) {
        self.inc("bus_produced_total", ["topic", "producer"], topic, producer);
    }
    fn consumed(&self, topic: &str, consumer: &str) {
        self.inc("bus_consumed_total", ["topic", "consumer"], topic, consumer);
    }
    fn delivery_latency(&self, topic: &str, ms: f64) {
        if let Ok(mut s) = self.state.lock() {
            // Looked up by `&str` first: the topic is owned once, not per record.
            if !s.latency.contains_key(topic) {
                s.latency.insert(topic.to_owned(), (vec![0; LATENCY_BUCKETS_MS.len()], 0.0, 0));
            }
            let Some(e) = s.latency.get_mut(topic) else { return };
            for (i, le) in LATENCY_BUCKETS_MS.iter().enumerate() {
                if ms <= *le {
                    e.0[i] += 1;
                }
            }
            e.1 += ms;
            e.2 += 1;
        }
    }
    fn dead_lettered(&self, topic: &str, reason: &str) {
        self.inc("bus_dlq_total", ["topic", "reason"], topic, reason);
    }
    fn retried(&self, topic: &str, reason: &str) {
        self.inc("bus_retry_total", ["topic", "reason"], topic, reason);
    }
    fn decode_failed(&self, topic: &str, reason: &str) {
        self.inc("bus_decode_fail_total", ["topic", "reason"], topic, reason);
    }
    fn schema(&self, topic: &str, fqdn: &str, hash: &str) {
        if let Ok(mut s) = self.state.lock() {
            s.info.insert((topic.to_owned(), fqdn.to_owned(), hash.to_owned()), ());
        }
    }
    fn consumer_lag(&self, topic: &str, consumer: &str, partition: i32, lag: i64) {
        if let Ok(mut s) = self.state.lock() {
            s.lag.insert((topic.to_owned(), consumer.to_owned(), partition), lag);
        }
    }
}

/// A label value in the exposition format: `\`, `"` and line feeds escaped.
fn escape(v: &str) -> String {
    v.replace('\\', "\\\\").replace('"', "\\\"").replace('\n', "\\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counters_render_by_label_values_and_count_per_series() {
        let m = Metrics::default();
        for (topic, reason) in [("b.v1", "z"), ("a.v1", "y\"q"), ("b.v1", "a"), ("b.v1", "z")] {
            m.dead_lettered(topic, reason);
        }
        m.consumed("a.v1", "g");
        assert_eq!(m.counter("bus_dlq_total", &[("topic", "b.v1"), ("reason", "z")]), 2);
        assert_eq!(m.counter("bus_dlq_total", &[("topic", "b.v1"), ("consumer", "z")]), 0, "label names must match");
        assert_eq!(m.counter("bus_dlq_total", &[("topic", "b.v1")]), 0);
        assert_eq!(m.counter("bus_consumed_total", &[("topic", "a.v1"), ("consumer", "g")]), 1);
        let text = m.render();
        let dlq: Vec<&str> = text.lines().filter(|l| l.starts_with("bus_dlq_total{")).collect();
        assert_eq!(
            dlq,
            [
                "bus_dlq_total{topic=\"a.v1\",reason=\"y\\\"q\"} 1",
                "bus_dlq_total{topic=\"b.v1\",reason=\"a\"} 1",
                "bus_dlq_total{topic=\"b.v1\",reason=\"z\"} 2",
            ]
        );
        assert!(text.contains("bus_consumed_total{topic=\"a.v1\",consumer=\"g\"} 1\n"));
    }
}
