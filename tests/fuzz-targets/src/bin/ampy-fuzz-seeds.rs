//! Writes the seed corpus of every fuzz target to `DIR/<target>/` (default
//! `fuzz/corpus`), one file per seed, for `cargo fuzz run`. Existing files
//! are kept: the corpus libFuzzer grew stays, the seeds are (re)added.

use std::path::PathBuf;
use std::process::ExitCode;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let dir = match args.as_slice() {
        [] => ampy_fuzz_targets::repo_root().join("fuzz/corpus"),
        [d] if !d.starts_with('-') => PathBuf::from(d),
        _ => {
            eprintln!("usage: ampy-fuzz-seeds [DIR]   (default: fuzz/corpus)");
            return ExitCode::from(2);
        }
    };
    let seeds = ampy_fuzz_targets::seeds::all();
    for t in ampy_fuzz_targets::TARGETS {
        let sub = dir.join(t.name);
        if let Err(e) = std::fs::create_dir_all(&sub) {
            eprintln!("error: cannot create {}: {e}", sub.display());
            return ExitCode::from(2);
        }
        let mine: Vec<_> = seeds.iter().filter(|s| s.target == t.name).collect();
        for s in &mine {
            let path = sub.join(format!("seed-{}", s.name));
            if let Err(e) = std::fs::write(&path, &s.data) {
                eprintln!("error: cannot write {}: {e}", path.display());
                return ExitCode::from(2);
            }
        }
        println!("{}: {} seeds in {}", t.name, mine.len(), sub.display());
    }
    ExitCode::SUCCESS
}
