//! Replay of a time window `[start, end)`: every partition assigned (no
//! group, no commits), each sought to the broker's offsets-for-times
//! answer for `start`, read up to the high watermark taken when the replay
//! began, and closed at the first record whose timestamp is ≥ `end`.

use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use rdkafka::consumer::{Consumer as _, StreamConsumer};
use rdkafka::{Offset, TopicPartitionList};

use super::metrics::LagContext;
use super::{Error, ErrorKind};

const OFFSETS_TIMEOUT: Duration = Duration::from_secs(10);

/// The partitions still open in a replay and where each stops.
#[derive(Debug, Default)]
pub(super) struct Window {
    /// Partition → high watermark when the replay began.
    high: BTreeMap<i32, i64>,
    open: BTreeSet<i32>,
    end_ms: i64,
}

/// What to do with a record of a replay.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum Admit {
    /// Outside the window: not handled.
    Skip,
    /// Handle it; `last` when it closes its partition.
    Take,
}

pub(super) fn millis(t: SystemTime) -> i64 {
    t.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_millis() as i64)
}

impl Window {
    pub fn is_done(&self) -> bool {
        self.open.is_empty()
    }

    /// Decides on a record, closing its partition at the window's end or
    /// at the watermark.
    pub fn admit(&mut self, partition: i32, offset: i64, timestamp_ms: Option<i64>) -> Admit {
        if !self.open.contains(&partition) {
            return Admit::Skip;
        }
        let high = self.high.get(&partition).copied().unwrap_or(0);
        if offset >= high || timestamp_ms.is_some_and(|t| t >= self.end_ms) {
            self.open.remove(&partition);
            return Admit::Skip;
        }
        if offset + 1 >= high {
            self.open.remove(&partition);
        }
        Admit::Take
    }
}

/// Assigns `consumer` every partition of `topic` from `start`, and returns
/// the window to read. Blocking: run it off the async threads.
pub(super) fn assign(
    consumer: &StreamConsumer<LagContext>,
    topic: &str,
    partitions: i32,
    start: SystemTime,
    end: SystemTime,
) -> Result<Window, Error> {
    let fail = |what: &str, e: rdkafka::error::KafkaError| {
        Error::with_source(ErrorKind::Consume, format!("replay of `{topic}`: cannot {what}"), e)
    };
    let mut window = Window { end_ms: millis(end), ..Window::default() };
    let mut times = TopicPartitionList::new();
    for p in 0..partitions {
        let (_, high) = consumer.fetch_watermarks(topic, p, OFFSETS_TIMEOUT).map_err(|e| fail("read watermarks", e))?;
        window.high.insert(p, high);
        times.add_partition_offset(topic, p, Offset::Offset(millis(start))).map_err(|e| fail("ask offsets", e))?;
    }
    let found = consumer.offsets_for_times(times, OFFSETS_TIMEOUT).map_err(|e| fail("look up offsets for times", e))?;
    let mut assignment = TopicPartitionList::new();
    for el in found.elements_for_topic(topic) {
        let p = el.partition();
        let high = window.high.get(&p).copied().unwrap_or(0);
        // No record at or after `start`: the end of the partition.
        let from = match el.offset() {
            Offset::Offset(o) if o >= 0 => o,
            _ => high,
        };
        if from < high && window.end_ms > millis(start) {
            window.open.insert(p);
            assignment.add_partition_offset(topic, p, Offset::Offset(from)).map_err(|e| fail("assign", e))?;
        }
    }
    consumer.assign(&assignment).map_err(|e| fail("assign the partitions", e))?;
    Ok(window)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_partition_closes_at_the_end_time_or_the_watermark() {
        let mut w = Window { end_ms: 100, ..Window::default() };
        w.high.insert(0, 3);
        w.high.insert(1, 10);
        w.open.extend([0, 1]);
        assert_eq!(w.admit(0, 0, Some(10)), Admit::Take);
        assert_eq!(w.admit(1, 5, Some(100)), Admit::Skip, "at the end time: closed");
        assert_eq!(w.admit(1, 6, Some(50)), Admit::Skip, "closed stays closed");
        assert!(!w.is_done());
        assert_eq!(w.admit(0, 2, Some(20)), Admit::Take, "the last before the watermark");
        assert!(w.is_done());
    }
}
