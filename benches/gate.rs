//! `cargo bench --bench gate`: the CI gate as a whole process. Runs the
//! release `ampygen check` (registry + protos + lock + classification
//! against the lock) on the default registry N times, next to
//! `protoc -o /dev/null` on the same proto files, and prints the medians
//! and their ratio. Asserts nothing about timing.
//!
//! Goal (issue 5): `check` at most 2x `protoc -o`.

mod common;

use std::process::Command;

use common::{ms, time};

fn main() {
    let n: usize = std::env::var("GATE_BENCH_RUNS").ok().and_then(|s| s.parse().ok()).unwrap_or(60);
    let bin = env!("CARGO_BIN_EXE_ampygen");
    let project = ampygen::load(std::path::Path::new("registry/ampy.yaml")).expect("run from the repository root");
    let files: Vec<String> = project.registry.protos.files.iter().map(|f| f.value.clone()).collect();
    println!(
        "gate benchmark: default registry ({} topics, {} proto files), whole process, median of {n} runs",
        project.registry.topics().count(),
        files.len()
    );
    let check = time(n, || Command::new(bin).arg("check").output().expect("run ampygen"));
    println!("  ampygen check (lock baseline)        {}", ms(check));
    let json = time(n, || Command::new(bin).args(["check", "--format", "json"]).output().expect("run ampygen"));
    println!("  ampygen check --format json          {}", ms(json));
    let in_git = Command::new("git").args(["rev-parse", "--verify", "--quiet", "HEAD"]).output();
    if in_git.is_ok_and(|o| o.status.success()) {
        let against = time(n, || Command::new(bin).args(["check", "--against", "HEAD"]).output().expect("run ampygen"));
        println!("  ampygen check --against HEAD         {}", ms(against));
    }
    let protoc = || Command::new("protoc").args(["-Iproto", "--include_imports", "-o/dev/null"]).args(&files).output();
    match protoc() {
        Ok(o) if o.status.success() => {
            let theirs = time(n, || protoc().expect("protoc"));
            println!("  protoc -o /dev/null                  {}", ms(theirs));
            println!(
                "  ratio check / protoc                 {:.2}x   (goal <= 2x)",
                check.0.as_secs_f64() / theirs.0.as_secs_f64()
            );
        }
        _ => println!(
            "  protoc -o /dev/null                  skipped: protoc not found (install Debian's protobuf-compiler)"
        ),
    }
}
