//! The consumer's client context: consumer lag from librdkafka's
//! statistics (every second), and a synchronous commit of finished
//! records when partitions are revoked. The metric names and the
//! [`Observer`] are the NATS transport's (crate::metrics).

use std::sync::Arc;

use rdkafka::consumer::{BaseConsumer, CommitMode, Consumer as _, ConsumerContext, Rebalance};
use rdkafka::{ClientContext, Statistics};

use super::Observer;

/// How often librdkafka reports statistics, so lag is at most this old.
pub(super) const STATS_INTERVAL_MS: &str = "1000";

pub(super) struct LagContext {
    pub observer: Arc<dyn Observer>,
    /// (topic id, its Kafka topic) per route: each route reports the lag
    /// of its Kafka topic under its own id, as a single-topic consumer of
    /// it would (siblings in one Kafka topic report the same partitions).
    pub lags: Vec<(&'static str, String)>,
    /// The group id, or `replay`.
    pub label: String,
    /// Whether offsets are committed (a group, not a replay).
    pub commits: bool,
}

impl ClientContext for LagContext {
    fn stats(&self, statistics: Statistics) {
        for (topic_id, kafka_topic) in &self.lags {
            let Some(topic) = statistics.topics.get(kafka_topic) else { continue };
            let mut partitions: Vec<_> = topic.partitions.values().filter(|p| p.partition >= 0 && p.desired).collect();
            partitions.sort_by_key(|p| p.partition);
            for p in partitions {
                if let Some(lag) = lag(p.hi_offset, p.app_offset, p.committed_offset) {
                    self.observer.consumer_lag(topic_id, &self.label, p.partition, lag);
                }
            }
        }
    }
}

/// High watermark − the next offset to consume: the position handed to
/// the application, else the committed offset; unknown before either.
fn lag(high: i64, app: i64, committed: i64) -> Option<i64> {
    let next = if app >= 0 { app } else { committed };
    (high >= 0 && next >= 0).then(|| (high - next).max(0))
}

impl ConsumerContext for LagContext {
    fn pre_rebalance(&self, consumer: &BaseConsumer<Self>, rebalance: &Rebalance<'_>) {
        if self.commits && matches!(rebalance, Rebalance::Revoke(_)) {
            // Finished records of partitions about to move: committed now,
            // so the next owner does not handle them again. Nothing stored
            // is not an error.
            let _ = consumer.commit_consumer_state(CommitMode::Sync);
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn lag_is_high_watermark_minus_next_offset() {
        assert_eq!(super::lag(10, 4, -1001), Some(6));
        assert_eq!(super::lag(10, -1001, 7), Some(3));
        assert_eq!(super::lag(10, -1001, -1001), None);
        assert_eq!(super::lag(-1, 3, 3), None);
        assert_eq!(super::lag(5, 6, 6), Some(0));
    }
}
