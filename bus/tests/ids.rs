//! UUIDv7 message ids sort by creation time.

use std::time::{SystemTime, UNIX_EPOCH};

use ampy_bus::MessageId;

fn now_ms() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_millis() as u64
}

#[test]
fn later_ids_sort_after_earlier_ones() {
    let before = now_ms();
    let ids: Vec<MessageId> = (0..20_000).map(|_| MessageId::new_v7()).collect();
    let after = now_ms();
    for w in ids.windows(2) {
        assert!(w[1] > w[0], "{} then {}", w[0], w[1]);
        // The text form sorts the same way, which is what other runtimes compare.
        assert!(w[1].to_string() > w[0].to_string());
    }
    // The counter may run a few ms ahead of the clock under a burst, never behind.
    assert!(ids[0].timestamp_ms() >= before);
    assert!(ids[ids.len() - 1].timestamp_ms() <= after + 10, "{} vs {after}", ids[ids.len() - 1].timestamp_ms());
}

#[test]
fn ids_across_threads_are_unique_and_ordered_per_thread() {
    let handles: Vec<_> =
        (0..4).map(|_| std::thread::spawn(|| (0..5_000).map(|_| MessageId::new_v7()).collect::<Vec<_>>())).collect();
    let mut all = Vec::new();
    for h in handles {
        let ids = h.join().unwrap();
        assert!(ids.windows(2).all(|w| w[1] > w[0]));
        all.extend(ids);
    }
    let n = all.len();
    all.sort();
    all.dedup();
    assert_eq!(all.len(), n);
}

#[test]
fn an_id_made_a_millisecond_later_sorts_after() {
    let a = MessageId::new_v7();
    std::thread::sleep(std::time::Duration::from_millis(3));
    let b = MessageId::new_v7();
    assert!(b > a && b.timestamp_ms() > a.timestamp_ms());
}
