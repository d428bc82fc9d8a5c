//! Whole-process timing shared by the `gate` and `generate` benches.

use std::process::Output;
use std::time::{Duration, Instant};

/// Runs `run` `n` times after three warm-ups, asserting each run succeeds,
/// and returns the median and the minimum: the median is the figure we
/// report, the minimum shows how much of it is scheduling noise.
pub fn time(n: usize, mut run: impl FnMut() -> Output) -> (Duration, Duration) {
    for _ in 0..3 {
        let out = run();
        assert!(out.status.success(), "warm-up run failed: {}", String::from_utf8_lossy(&out.stderr));
    }
    let mut samples: Vec<Duration> = (0..n)
        .map(|_| {
            let start = Instant::now();
            let out = run();
            let elapsed = start.elapsed();
            assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
            elapsed
        })
        .collect();
    samples.sort();
    (samples[samples.len() / 2], samples[0])
}

pub fn ms((median, min): (Duration, Duration)) -> String {
    format!("{:7.2} ms (min {:.2})", median.as_secs_f64() * 1e3, min.as_secs_f64() * 1e3)
}
