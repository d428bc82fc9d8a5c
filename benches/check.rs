//! `cargo bench --bench check`: the cost of `ampygen check` on the default
//! registry, in process (by stage) and as a whole process next to
//! `protoc -o` on the same protos. Prints figures; asserts nothing.
//!
//! Goals (issue 2): ≤ 3 ms in process (release), and the whole process at
//! most 1.5× `protoc -o`.

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

/// Median and minimum: the median is the figure we report, the minimum
/// shows how much of it is scheduling noise on a shared machine.
fn stats(mut samples: Vec<Duration>) -> (Duration, Duration) {
    samples.sort();
    (samples[samples.len() / 2], samples[0])
}

fn ms((median, min): (Duration, Duration)) -> String {
    format!("{:.3} ms (min {:.3})", median.as_secs_f64() * 1e3, min.as_secs_f64() * 1e3)
}

/// Runs `f` `n` times after a warm-up.
fn time<T>(n: usize, mut f: impl FnMut() -> T) -> (Duration, Duration) {
    for _ in 0..3 {
        std::hint::black_box(f());
    }
    stats(
        (0..n)
            .map(|_| {
                let start = Instant::now();
                std::hint::black_box(f());
                start.elapsed()
            })
            .collect(),
    )
}

fn main() {
    let registry_path = Path::new("registry/ampy.yaml");
    let text = std::fs::read_to_string(registry_path).expect("run from the repository root");
    let n = 500;

    let parse = time(n, || {
        let source = ampygen::diag::Source::new("registry/ampy.yaml", text.as_str());
        ampygen::registry::parse(&source).0.expect("valid registry")
    });
    let source = ampygen::diag::Source::new("registry/ampy.yaml", text.as_str());
    let mut registry = ampygen::registry::parse(&source).0.expect("valid registry");
    let compile = time(n, || {
        ampygen::protos::compile(&mut registry, Path::new("registry"), ampygen::protos::SourceInfo::OnDemand)
            .expect("protos compile")
    });
    let project = ampygen::load(registry_path).expect("default registry loads");
    let hash =
        time(n, || project.resolved.values().map(|r| ampygen::canonical::schema_hash(&r.message)).collect::<Vec<_>>());
    let load = time(n, || ampygen::load_to_check(registry_path).expect("loads"));
    let check = time(n, || assert!(!ampygen::check::check(&project).has_errors()));
    let validate = time(n, || assert!(!ampygen::check::validate(&project).has_errors()));
    let per_lang: Vec<_> = ampygen::generate::Lang::ALL
        .iter()
        .map(|l| (l, time(n, || assert!(!ampygen::generate::validate(&project, *l).has_errors()))))
        .collect();
    let gate = time(n, || {
        let baseline = ampygen::compat::Baseline::from_lock_file(&project).expect("lock").expect("a lock");
        ampygen::compat::evaluate(&baseline, &project)
    });
    let end_to_end = time(n, || {
        let project = ampygen::load(registry_path).expect("loads");
        assert!(!ampygen::check::validate(&project).has_errors());
        let findings = ampygen::check::check(&project);
        assert!(!findings.has_errors());
        let baseline = ampygen::compat::Baseline::from_lock_file(&project).expect("lock").expect("a lock");
        assert!(ampygen::compat::evaluate(&baseline, &project).is_empty());
    });

    println!(
        "ampygen check, default registry ({} topics, {} proto files read), median of {n} runs:",
        project.registry.topics().count(),
        project.compiled.files.len()
    );
    println!("  in process  parse registry       {}", ms(parse));
    println!("  in process  compile protos       {}", ms(compile));
    println!("  in process  hash payloads        {}", ms(hash));
    println!("  in process  load (read+parse+compile+resolve) {}", ms(load));
    println!("  in process  check (hash+lock file) {}", ms(check));
    println!("  in process  validate (what generate refuses, 3 languages side by side) {}", ms(validate));
    for (lang, t) in &per_lang {
        println!("  in process    validate {lang:<6}     {}", ms(*t));
    }
    println!("  in process  classify against the lock {}", ms(gate));
    println!("  in process  load + validate + check + classify (all)   {}   (goal <= 3 ms)", ms(end_to_end));

    let runs = 40;
    let bin = env!("CARGO_BIN_EXE_ampygen");
    let ours = time(runs, || {
        let status = Command::new(bin).arg("check").output().expect("run ampygen");
        assert!(status.status.success());
    });
    println!("  whole process  ampygen check     {}", ms(ours));

    let files: Vec<String> = registry.protos.files.iter().map(|f| f.value.clone()).collect();
    let out = std::env::temp_dir().join(format!("ampygen-bench-{}.pb", std::process::id()));
    let protoc = || {
        Command::new("protoc")
            .arg("-Iproto")
            .arg("--include_imports")
            .arg(format!("-o{}", out.display()))
            .args(&files)
            .output()
    };
    match protoc() {
        Ok(o) if o.status.success() => {
            let theirs = time(runs, || assert!(protoc().expect("protoc").status.success()));
            println!("  whole process  protoc -o         {}", ms(theirs));
            println!(
                "  ratio ampygen check / protoc -o  {:.2}x   (goal <= 1.5x)",
                ours.0.as_secs_f64() / theirs.0.as_secs_f64()
            );
        }
        _ => println!("  whole process  protoc -o         (protoc not found: install Debian's protobuf-compiler)"),
    }
    let _ = std::fs::remove_file(out);
}
