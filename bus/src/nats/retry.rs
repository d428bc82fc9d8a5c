//! Publish retries: exponential backoff with full jitter.

use std::time::Duration;

/// How a publish whose ack does not come is retried: up to `attempts`
/// sends in all, the n-th retry after a random delay in
/// `[0, min(max_delay, base_delay · 2^(n-1))]` ("full jitter"), every
/// send with the same `Nats-Msg-Id`, so the stream stores the record once.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Sends in all, the first included (at least 1).
    pub attempts: u32,
    /// How long each send waits for its ack.
    pub ack_timeout: Duration,
    pub base_delay: Duration,
    pub max_delay: Duration,
}

impl Default for RetryPolicy {
    /// 5 sends, 5 s ack timeout, 100 ms base, 2 s cap.
    fn default() -> RetryPolicy {
        RetryPolicy {
            attempts: 5,
            ack_timeout: Duration::from_secs(5),
            base_delay: Duration::from_millis(100),
            max_delay: Duration::from_secs(2),
        }
    }
}

impl RetryPolicy {
    /// The delay before retry `n` (1-based), full jitter.
    pub fn delay(&self, n: u32) -> Duration {
        let exp = self.base_delay.saturating_mul(1u32.checked_shl(n.saturating_sub(1)).unwrap_or(u32::MAX));
        let cap = exp.min(self.max_delay);
        let mut b = [0u8; 8];
        crate::headers::fill_random(&mut b);
        let r = u64::from_le_bytes(b) as f64 / u64::MAX as f64;
        cap.mul_f64(r)
    }
}
