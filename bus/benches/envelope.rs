//! Envelope costs: encode and decode at 1 KiB and 256 KiB, the schema
//! check, and heap allocations per operation.
//!
//! `cargo bench -p ampy-bus --bench envelope`. Prints a table; nothing is
//! asserted about timings, which depend on the machine.

use std::alloc::{GlobalAlloc, Layout, System};
use std::hint::black_box;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use ampy_bus::{Envelope, PartitionKey, Record, RouteError, Schema};

/// Counts allocations (not frees): the number a hot path pays per call.
struct Counting;

static ALLOCS: AtomicU64 = AtomicU64::new(0);

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCS.fetch_add(1, Ordering::Relaxed);
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        ALLOCS.fetch_add(1, Ordering::Relaxed);
        unsafe { System.alloc_zeroed(layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        ALLOCS.fetch_add(1, Ordering::Relaxed);
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

#[derive(Clone, PartialEq, prost::Message)]
struct Bar {
    #[prost(string, tag = "1")]
    symbol: String,
    #[prost(string, tag = "2")]
    mic: String,
    #[prost(bytes = "vec", tag = "3")]
    data: Vec<u8>,
}

impl Schema for Bar {
    const FQDN: &'static str = "ampy.bars.v1.BarBatch";
    const SCHEMA_VERSION: &'static str = "1.0.0";
    const SCHEMA_HASH: Option<&'static str> =
        Some("sha256:3b1f0f5c9d2e4a7b8c6d5e4f3a2b1c0d9e8f7a6b5c4d3e2f1a0b9c8d7e6f5a4b");
}

impl PartitionKey for Bar {
    fn partition_key(&self) -> Result<String, RouteError> {
        Ok(format!("{}.{}", self.symbol, self.mic))
    }
}

/// Bar-batch-like bytes: short CSV rows with varying prices, which
/// compress about as well as real protobuf batches of bars.
fn batch_bytes(len: usize) -> Vec<u8> {
    let mut x = 0x2545_F491_4F6C_DD1Du64;
    let mut out = Vec::with_capacity(len + 64);
    while out.len() < len {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        let row = format!("AAPL,XNAS,{}.{:02},{},{};", 180 + x % 20, x % 100, x % 100_000, (x >> 20) % 1_000_000);
        out.extend_from_slice(row.as_bytes());
    }
    out.truncate(len);
    out
}

struct Stats {
    ns_per_op: f64,
    allocs_per_op: f64,
}

/// Runs `f` in batches for about `budget`, returning the median batch's
/// time per op and the allocations per op.
fn measure(budget: Duration, mut f: impl FnMut()) -> Stats {
    for _ in 0..3 {
        f();
    }
    let probe = Instant::now();
    f();
    let one = probe.elapsed().max(Duration::from_nanos(20));
    let per_batch = ((budget.as_nanos() / 15) / one.as_nanos()).clamp(1, 1_000_000) as u64;
    let mut samples = Vec::new();
    let a0 = ALLOCS.load(Ordering::Relaxed);
    let mut ops = 0u64;
    let start = Instant::now();
    while samples.len() < 5 || start.elapsed() < budget {
        let t = Instant::now();
        for _ in 0..per_batch {
            f();
        }
        samples.push(t.elapsed().as_nanos() as f64 / per_batch as f64);
        ops += per_batch;
    }
    let allocs = ALLOCS.load(Ordering::Relaxed) - a0;
    samples.sort_by(|a, b| a.total_cmp(b));
    Stats { ns_per_op: samples[samples.len() / 2], allocs_per_op: allocs as f64 / ops as f64 }
}

fn row(name: &str, bytes: Option<usize>, s: &Stats) {
    let time = if s.ns_per_op >= 10_000.0 {
        format!("{:>10.1} µs/op", s.ns_per_op / 1000.0)
    } else {
        format!("{:>10.1} ns/op", s.ns_per_op)
    };
    let rate = bytes.map_or(String::new(), |b| format!("{:>9.1} MB/s", b as f64 / s.ns_per_op * 1000.0));
    println!("{name:<34} {time} {rate:>14} {:>8.1} allocs/op", s.allocs_per_op);
}

fn main() {
    let budget = Duration::from_millis(if std::env::args().any(|a| a == "--quick") { 200 } else { 1500 });
    println!("{:<34} {:>16} {:>14} {:>18}", "operation", "time", "payload rate", "allocations");
    for size in [1024usize, 256 * 1024] {
        let payload = Bar { symbol: "AAPL".into(), mic: "XNAS".into(), data: batch_bytes(size) };
        let env = Envelope::builder(payload)
            .producer("yfinance-go@ingest-1")
            .source("yfinance-go")
            .run_id("run-1")
            .build()
            .expect("builds");
        let record: Record = env.encode().expect("encodes");
        let raw = size;
        let label = if size >= 1024 * 1024 { format!("{}MiB", size >> 20) } else { format!("{}KiB", size >> 10) };
        let wire = format!(
            "{} bytes on the wire{}",
            record.payload.len(),
            if record.header("content_encoding").is_some() { ", gzip" } else { "" }
        );

        let s = measure(budget, || {
            black_box(black_box(&env).encode().expect("encodes"));
        });
        row(&format!("encode {label}"), Some(raw), &s);
        let pairs: Vec<(String, String)> = record.headers.iter().map(|(k, v)| (k.to_string(), v.clone())).collect();
        let s = measure(budget, || {
            let e = Envelope::<Bar>::decode(black_box(&pairs).iter().map(|(k, v)| (k, v)), &record.payload);
            black_box(e.expect("decodes"));
        });
        row(&format!("decode {label}"), Some(raw), &s);
        println!("  ({label}: {wire})");
    }

    let env = Envelope::builder(Bar { symbol: "AAPL".into(), mic: "XNAS".into(), data: vec![1; 16] })
        .producer("p")
        .source("s")
        .run_id("r")
        .build()
        .expect("builds");
    let s = measure(budget, || {
        black_box(Bar::verify(black_box(&env.headers))).expect("verifies");
    });
    row("Schema::verify", None, &s);
    let s = measure(budget, || {
        black_box(black_box(&env.headers).validate()).expect("valid");
    });
    row("Headers::validate", None, &s);
    let pairs = env.headers.to_pairs();
    let s = measure(budget, || {
        black_box(ampy_bus::Headers::from_pairs(black_box(&pairs).iter().map(|(k, v)| (*k, v))).expect("parses"));
    });
    row("Headers::from_pairs", None, &s);
    let payload = env.payload.clone();
    let s = measure(budget, || {
        let e = Envelope::builder(black_box(payload.clone())).producer("p").source("s").run_id("r").build();
        black_box(e.expect("builds"));
    });
    row("Envelope::builder..build (16 B)", None, &s);
}
