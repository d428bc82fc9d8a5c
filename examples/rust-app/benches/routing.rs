//! Subject, partition key and schema verification costs of the generated
//! bindings: ns/op and heap allocations per op. Prints numbers; asserts
//! nothing about time. `cargo bench -p ampy-example --bench routing`.

use std::alloc::{GlobalAlloc, Layout, System};
use std::hint::black_box;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use ampy_bus::{PartitionKey, Schema};
use ampy_example::contract::ampy::common::v1::SecurityId;
use ampy_example::contract::ampy::{bars, fills};
use ampy_example::contract::{topics, Env};

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
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        ALLOCS.fetch_add(1, Ordering::Relaxed);
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

/// Median ns/op over `rounds` rounds of `iters` calls, and allocations/op.
fn bench<R>(name: &str, mut f: impl FnMut() -> R) {
    let (rounds, iters) = (31, 20_000u32);
    for _ in 0..iters {
        black_box(f());
    }
    let mut per_op = Vec::with_capacity(rounds);
    let before = ALLOCS.load(Ordering::Relaxed);
    for _ in 0..rounds {
        let t = Instant::now();
        for _ in 0..iters {
            black_box(f());
        }
        per_op.push(t.elapsed().as_nanos() as f64 / f64::from(iters));
    }
    let allocs = (ALLOCS.load(Ordering::Relaxed) - before) as f64 / (rounds as f64 * f64::from(iters));
    per_op.sort_by(f64::total_cmp);
    println!("{name:<48} {:>8.1} ns/op {:>6.2} allocs/op", per_op[rounds / 2], allocs);
}

fn main() {
    let sec = || Some(SecurityId { symbol: "AAPL".into(), mic: "XNAS".into(), ..Default::default() });
    let one = bars::v1::BarBatch {
        bars: vec![bars::v1::Bar { security: sec(), ..Default::default() }],
        ..Default::default()
    };
    let batch = bars::v1::BarBatch {
        bars: (0..64).map(|_| bars::v1::Bar { security: sec(), ..Default::default() }).collect(),
        ..Default::default()
    };
    let fill = fills::v1::Fill {
        account_id: "ALPACA-LIVE-01".into(),
        client_order_id: "co_20250905_001".into(),
        ..Default::default()
    };
    println!(
        "generated bindings, release build (goals: subject and key <= 100 ns with <= 1 allocation; verify <= 20 ns)"
    );
    bench("subject: topics::bars::v1::bars::subject", || topics::bars::v1::bars::subject(Env::Prod, "XNAS", "AAPL"));
    bench("subject: BarBatch::topic_for (1 bar)", || one.topic_for(Env::Prod));
    bench("subject: BarBatch::topic_for (64 bars, [*] agree)", || batch.topic_for(Env::Prod));
    bench("key: BarBatch::partition_key (1 bar)", || one.partition_key());
    bench("key: BarBatch::partition_key (64 bars)", || batch.partition_key());
    bench("key: Fill::partition_key", || fill.partition_key());
    bench("subject: Fill::topic_for", || fill.topic_for(Env::Prod));
    let headers = ampy_bus::Envelope::builder(one.clone())
        .producer("bench@1")
        .source("bench")
        .run_id("r1")
        .build()
        .expect("envelope")
        .headers;
    bench("verify: BarBatch::verify(&Headers)", || bars::v1::BarBatch::verify(black_box(&headers)));
}
