//! What a build.rs pays for ampygen, next to protox + prost-build alone.
//!
//! Build scripts run unoptimised (build dependencies use the dev profile),
//! so run this the same way: `cargo run -p ampygen --example
//! build_script_cost` from the workspace root. It prints medians; it
//! asserts nothing about time.

use std::path::Path;
use std::time::{Duration, Instant};

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn time(n: usize, mut f: impl FnMut()) -> Duration {
    f(); // warm the page cache and allocator
    median(
        (0..n)
            .map(|_| {
                let t = Instant::now();
                f();
                t.elapsed()
            })
            .collect(),
    )
}

fn main() {
    let registry = Path::new("registry/ampy.yaml");
    if !registry.exists() {
        eprintln!("run from the workspace root (registry/ampy.yaml not found)");
        std::process::exit(2);
    }
    let n: usize = std::env::args().nth(1).and_then(|a| a.parse().ok()).unwrap_or(15);
    let profile = if cfg!(debug_assertions) { "debug" } else { "release" };
    let out = std::env::temp_dir().join(format!("ampygen-build-cost-{}", std::process::id()));
    let base = out.join("prost");
    let ours = out.join("ampygen");
    std::fs::create_dir_all(&base).unwrap();
    std::fs::create_dir_all(&ours).unwrap();

    let files: Vec<String> = ampygen::load(registry)
        .unwrap_or_else(|d| panic!("{}", d.render_plain()))
        .registry
        .protos
        .files
        .iter()
        .map(|f| f.value.clone())
        .collect();
    let baseline = time(n, || {
        // What a build.rs without ampygen does: protox, then prost-build.
        let fds = protox::compile(&files, ["proto"]).unwrap();
        prost_build::Config::new().out_dir(&base).compile_fds(fds).unwrap();
    });
    let full = time(n, || {
        ampygen::configure().registry(registry).out_dir(&ours).emit_rerun_if_changed(false).compile().unwrap();
    });
    let _ = std::fs::remove_dir_all(&out);
    println!("build.rs cost on the default registry ({profile} build, median of {n})");
    println!("  protox + prost-build alone : {:>8.2} ms", baseline.as_secs_f64() * 1e3);
    println!("  ampygen::configure().compile(): {:>8.2} ms", full.as_secs_f64() * 1e3);
    println!("  ratio                      : {:>8.2}x (goal <= 1.3x)", full.as_secs_f64() / baseline.as_secs_f64());
}
