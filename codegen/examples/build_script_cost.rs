//! What a build.rs pays for ampygen, next to protox + prost-build alone.
//!
//! Build scripts run unoptimised (build dependencies use the dev profile),
//! so run this the same way: `cargo run -p ampygen --example
//! build_script_cost` from the workspace root. It prints medians; it
//! asserts nothing about time.

use std::path::Path;
use std::time::{Duration, Instant};

/// Median and minimum of `n` timed runs, after one warm-up run. The
/// minimum is the figure least disturbed by a busy machine.
fn time(n: usize, mut f: impl FnMut()) -> (Duration, Duration) {
    f(); // warm the page cache and allocator
    let mut v: Vec<Duration> = (0..n)
        .map(|_| {
            let t = Instant::now();
            f();
            t.elapsed()
        })
        .collect();
    v.sort();
    (v[v.len() / 2], v[0])
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
    let ms = |d: Duration| d.as_secs_f64() * 1e3;
    println!("build.rs cost on the default registry ({profile} build, {n} runs)");
    println!("                                    median       min");
    println!("  protox + prost-build alone     {:>8.2} ms {:>8.2} ms", ms(baseline.0), ms(baseline.1));
    println!("  ampygen::configure().compile() {:>8.2} ms {:>8.2} ms", ms(full.0), ms(full.1));
    println!(
        "  ratio                          {:>8.2}x   {:>8.2}x   (goal <= 1.3x)",
        ms(full.0) / ms(baseline.0),
        ms(full.1) / ms(baseline.1)
    );
}
