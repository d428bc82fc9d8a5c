//! `cargo bench --bench generate`: code generation as a whole process.
//! Runs the release `ampygen generate --lang all` (Rust, Go and Python from
//! the default registry, including the protoc-gen-go subprocess) and each
//! language alone, next to `protoc --go_out` with the same protoc-gen-go on
//! the same protos, and prints medians and the ratio. Asserts nothing
//! about timing.
//!
//! Goal (issue 4): all three languages at most 2x `protoc --go_out`.
//! protoc-gen-go comes from `AMPYGEN_PROTOC_GEN_GO` or target/tools
//! (`scripts/install-protoc-gen-go`).

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::{ms, time};

fn main() {
    let n: usize = std::env::var("GENERATE_BENCH_RUNS").ok().and_then(|s| s.parse().ok()).unwrap_or(30);
    let bin = env!("CARGO_BIN_EXE_ampygen");
    let plugin = std::env::var_os("AMPYGEN_PROTOC_GEN_GO")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new("target/tools/protoc-gen-go").to_path_buf());
    if !plugin.exists() {
        println!("generate benchmark skipped: no protoc-gen-go (run scripts/install-protoc-gen-go)");
        return;
    }
    let plugin = std::fs::canonicalize(&plugin).expect("plugin path");
    let project = ampygen::load(Path::new("registry/ampy.yaml")).expect("run from the repository root");
    let files: Vec<String> = project.registry.protos.files.iter().map(|f| f.value.clone()).collect();
    let out = tempfile::tempdir().expect("temp dir");
    println!(
        "generate benchmark: default registry ({} topics, {} proto files), whole process, median of {n} runs",
        project.registry.topics().count(),
        files.len()
    );
    let gen = |lang: &str| {
        let dir = out.path().join(format!("ampygen-{lang}"));
        Command::new(bin)
            .env("AMPYGEN_PROTOC_GEN_GO", &plugin)
            .args(["generate", "--lang", lang, "--out"])
            .arg(dir)
            .output()
            .expect("run ampygen")
    };
    let all = time(n, || gen("all"));
    println!("  ampygen generate --lang all          {}", ms(all));
    for lang in ["rust", "go", "python"] {
        println!("  ampygen generate --lang {lang:<12} {}", ms(time(n, || gen(lang))));
    }
    let go_out = out.path().join("protoc-go");
    std::fs::create_dir_all(&go_out).expect("mkdir");
    // The same import-path mapping ampygen gives the plugin, since the
    // protos carry no go_package option.
    let mapping: Vec<String> = files
        .iter()
        .map(|f| {
            let dir = Path::new(f).parent().map(|p| p.to_string_lossy().into_owned()).unwrap_or_default();
            format!("M{f}=ampyfin.dev/ampybus/pb/{dir}")
        })
        .collect();
    let protoc = || {
        Command::new("protoc")
            .arg(format!("--plugin=protoc-gen-go={}", plugin.display()))
            .arg(format!("--go_out={}", go_out.display()))
            .arg(format!("--go_opt=paths=import,{}", mapping.join(",")))
            .arg("-Iproto")
            .args(&files)
            .output()
    };
    match protoc() {
        Ok(o) if o.status.success() => {
            let theirs = time(n, || protoc().expect("protoc"));
            println!("  protoc --go_out (protoc-gen-go)      {}", ms(theirs));
            println!(
                "  ratio all / protoc --go_out          {:.2}x   (goal <= 2x)",
                all.0.as_secs_f64() / theirs.0.as_secs_f64()
            );
        }
        Ok(o) => println!("  protoc --go_out failed: {}", String::from_utf8_lossy(&o.stderr)),
        Err(_) => println!("  protoc --go_out skipped: protoc not found (install Debian's protobuf-compiler)"),
    }
}
