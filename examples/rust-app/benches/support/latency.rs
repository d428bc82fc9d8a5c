//! Produce → first delivery latency for the transport benches: send times
//! by message id, first deliveries looked up as they arrive, percentiles
//! printed against the contract's SLOs.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Instant;

/// Send times by message id, shared by the producing and consuming side.
#[derive(Clone, Default)]
pub struct Clock(Arc<Mutex<HashMap<String, Instant>>>);

impl Clock {
    pub fn sent(&self, id: &ampy_bus::MessageId) {
        self.0.lock().unwrap().insert(id.to_string(), Instant::now());
    }

    /// Milliseconds since `id` was sent, if this clock sent it.
    pub fn since_sent(&self, id: &ampy_bus::MessageId) -> Option<f64> {
        let at = Instant::now();
        self.0.lock().unwrap().get(&id.to_string()).map(|t0| at.duration_since(*t0).as_secs_f64() * 1e3)
    }
}

/// Prints p50, p99 and max of `lat` (ms).
pub fn report(what: &str, rate: f64, secs: f64, mut lat: Vec<f64>) {
    lat.sort_by(|a, b| a.partial_cmp(b).unwrap());
    let pct = |p: f64| lat[((lat.len() as f64 * p) as usize).min(lat.len() - 1)];
    println!(
        "{what} -> first delivery at {rate} msg/s for {secs} s ({} records): p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms  \
         (SLO p99: 50 ms critical, 150 ms market data)",
        lat.len(),
        pct(0.50),
        pct(0.99),
        lat[lat.len() - 1]
    );
}
