//! Differential fuzzing of the envelope decoders of the three runtimes.
//!
//! ```text
//! ampy-fuzz-diff run --records N --seed S --go CMD --python CMD [--vectors DIR] [--out DIR]
//! ampy-fuzz-diff gen --records N --seed S [--from I] [--vectors DIR]    records as JSON lines
//! ampy-fuzz-diff decode                                                 the Rust driver on stdin
//! ampy-fuzz-diff replay FILE --go CMD --python CMD                      decisions for saved records
//! ```
//!
//! `run` derives N records from the conformance vectors with the seeded
//! mutator, has the Rust runtime (in process) and the Go and Python
//! drivers decide each, and fails (exit 1) on any record where they differ
//! in accept/reject, error kind or decoded payload. Disagreements are
//! grouped by who said what, and one example of each group is shrunk and
//! printed; `--out DIR` also saves every disagreeing record with the
//! decisions (`disagreements.jsonl`) and the shrunk examples
//! (`shrunk.jsonl`), both JSON lines that `replay` reads.
//! `scripts/fuzz-diff` builds the drivers and runs it.

mod compare;
mod driver;
mod drivers;
mod gz;
mod mutate;
mod record;
mod rng;
mod wire;

use std::collections::BTreeMap;
use std::io::{BufRead, Write};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use compare::{minimize, show, signature, Group};
use drivers::{InProcess, Process, Runtime};
use mutate::{Bombs, Seeds};
use record::Record;

struct Args {
    records: u64,
    seed: u64,
    from: u64,
    vectors: PathBuf,
    go: Option<String>,
    python: Option<String>,
    out: Option<PathBuf>,
    file: Option<PathBuf>,
}

fn parse(args: &[String]) -> Result<Args, String> {
    let mut a = Args {
        records: 20_000,
        seed: 1,
        from: 0,
        vectors: PathBuf::from("tests/vectors"),
        go: None,
        python: None,
        out: None,
        file: None,
    };
    let mut it = args.iter();
    while let Some(flag) = it.next() {
        let mut value = || it.next().cloned().ok_or_else(|| format!("{flag} needs a value"));
        let number = |s: String| s.replace('_', "").parse::<u64>().map_err(|e| format!("{flag} {s}: {e}"));
        match flag.as_str() {
            "--records" => a.records = number(value()?)?,
            "--seed" => a.seed = number(value()?)?,
            "--from" => a.from = number(value()?)?,
            "--vectors" => a.vectors = value()?.into(),
            "--go" => a.go = Some(value()?),
            "--python" => a.python = Some(value()?),
            "--out" => a.out = Some(value()?.into()),
            f if !f.starts_with('-') && a.file.is_none() => a.file = Some(f.into()),
            f => return Err(format!("unknown argument `{f}`")),
        }
    }
    Ok(a)
}

fn runtimes(a: &Args) -> Result<Vec<Box<dyn Runtime>>, String> {
    let mut out: Vec<Box<dyn Runtime>> = vec![Box::new(InProcess)];
    out.push(Box::new(Process::spawn("go", a.go.as_deref().ok_or("--go CMD is required")?)?));
    out.push(Box::new(Process::spawn("python", a.python.as_deref().ok_or("--python CMD is required")?)?));
    Ok(out)
}

/// Tallies of one run.
#[derive(Default)]
struct Tally {
    records: u64,
    /// Per runtime, how often it said what.
    verdicts: BTreeMap<String, BTreeMap<String, u64>>,
    groups: BTreeMap<String, Group>,
}

/// Where `run --out` writes every disagreeing record with the decisions.
type Sink = Option<std::io::BufWriter<std::fs::File>>;

fn judge(rts: &mut [Box<dyn Runtime>], chunk: &[Record], tally: &mut Tally, sink: &mut Sink) -> Result<(), String> {
    let names: Vec<String> = rts.iter().map(|r| r.name().to_owned()).collect();
    // The Go and Python drivers work on the chunk while Rust does.
    let mut answers: Vec<Vec<driver::Decision>> = Vec::new();
    std::thread::scope(|s| -> Result<(), String> {
        let handles: Vec<_> = rts.iter_mut().map(|rt| s.spawn(move || rt.decide(chunk))).collect();
        for h in handles {
            answers.push(h.join().map_err(|_| "a driver thread panicked")??);
        }
        Ok(())
    })?;
    for (i, r) in chunk.iter().enumerate() {
        let decisions: Vec<driver::Decision> = answers.iter().map(|a| a[i].clone()).collect();
        for (n, d) in names.iter().zip(&decisions) {
            *tally.verdicts.entry(n.clone()).or_default().entry(d.verdict()).or_default() += 1;
        }
        if let Some(sig) = signature(&names, &decisions) {
            if let Some(w) = sink {
                let said: serde_json::Map<String, serde_json::Value> =
                    names.iter().zip(&decisions).map(|(n, d)| (n.clone(), d.to_string().into())).collect();
                writeln!(
                    w,
                    "{{\"signature\":{},\"decisions\":{},\"record\":{}}}",
                    serde_json::json!(sig),
                    serde_json::Value::Object(said),
                    r.to_line()
                )
                .map_err(|e| format!("--out: {e}"))?;
            }
            tally.groups.entry(sig).or_default().add(r);
        }
        tally.records += 1;
    }
    Ok(())
}

fn report(rts: &mut [Box<dyn Runtime>], tally: &Tally, out: Option<&PathBuf>) -> Result<usize, String> {
    println!("records: {}", tally.records);
    for (name, verdicts) in &tally.verdicts {
        let v: Vec<String> = verdicts.iter().map(|(k, n)| format!("{k} {n}")).collect();
        println!("  {name:<7} {}", v.join(", "));
    }
    let total: usize = tally.groups.values().map(|g| g.count).sum();
    println!("disagreements: {total}");
    let mut saved = Vec::new();
    for (sig, g) in &tally.groups {
        println!("\n  {} × {sig}", g.count);
        let mut top: Vec<(&String, &usize)> = g.mutations.iter().collect();
        top.sort_by(|a, b| b.1.cmp(a.1).then(a.0.cmp(b.0)));
        let top: Vec<String> = top.iter().take(6).map(|(m, n)| format!("{m} {n}")).collect();
        println!("    mutations: {}", top.join(", "));
        if let Some(example) = &g.example {
            let small = minimize(rts, example, sig, 400)?;
            println!("    smallest, shrunk: {}", show(&small));
            saved.push(small);
        }
    }
    if let Some(dir) = out {
        let path = dir.join("shrunk.jsonl");
        let lines: String = saved.iter().map(|r| r.to_line() + "\n").collect();
        std::fs::write(&path, lines).map_err(|e| format!("{}: {e}", path.display()))?;
        println!("\nsaved {} shrunk examples to {}", saved.len(), path.display());
    }
    Ok(total)
}

fn run(a: &Args) -> Result<usize, String> {
    let seeds = Seeds::load(&a.vectors)?;
    let mut rts = runtimes(a)?;
    let mut bombs = Bombs::default();
    let mut tally = Tally::default();
    let mut sink: Sink = match &a.out {
        Some(dir) => {
            std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
            let path = dir.join("disagreements.jsonl");
            Some(std::io::BufWriter::new(std::fs::File::create(&path).map_err(|e| format!("{}: {e}", path.display()))?))
        }
        None => None,
    };
    let started = Instant::now();
    println!("seed {}, records {}..{}, {} seed vectors", a.seed, a.from, a.from + a.records, seeds.len());
    const CHUNK: u64 = 2_000;
    let mut next = a.from;
    while next < a.from + a.records {
        let end = (next + CHUNK).min(a.from + a.records);
        let chunk: Vec<Record> = (next..end).map(|i| mutate::record(&seeds, a.seed, i, &mut bombs)).collect();
        judge(&mut rts, &chunk, &mut tally, &mut sink)?;
        next = end;
    }
    if let Some(w) = &mut sink {
        w.flush().map_err(|e| format!("--out: {e}"))?;
    }
    let total = report(&mut rts, &tally, a.out.as_ref())?;
    println!("\n{} records in {:.1} s", tally.records, started.elapsed().as_secs_f64());
    Ok(total)
}

fn replay(a: &Args) -> Result<usize, String> {
    let file = a.file.as_ref().ok_or("replay needs a FILE of JSON-line records")?;
    let text = std::fs::read_to_string(file).map_err(|e| format!("{}: {e}", file.display()))?;
    let records: Vec<Record> =
        text.lines().filter(|l| !l.trim().is_empty()).map(Record::from_line).collect::<Result<_, _>>()?;
    let mut rts = runtimes(a)?;
    let names: Vec<String> = rts.iter().map(|r| r.name().to_owned()).collect();
    let mut differ = 0;
    for r in &records {
        let mut decisions = Vec::new();
        for rt in rts.iter_mut() {
            decisions.push(rt.decide(std::slice::from_ref(r))?.remove(0));
        }
        let said: Vec<String> = names.iter().zip(&decisions).map(|(n, d)| format!("{n}: {d}")).collect();
        let sig = signature(&names, &decisions);
        differ += usize::from(sig.is_some());
        println!("{}\n    {}{}", show(r), said.join("\n    "), if sig.is_some() { "\n    DISAGREE" } else { "" });
    }
    Ok(differ)
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Some(cmd) = args.first() else {
        eprintln!("usage: ampy-fuzz-diff run|gen|decode|replay [options] (see the crate documentation)");
        return ExitCode::from(2);
    };
    let a = match parse(&args[1..]) {
        Ok(a) => a,
        Err(e) => {
            eprintln!("ampy-fuzz-diff: {e}");
            return ExitCode::from(2);
        }
    };
    let result = match cmd.as_str() {
        "run" => run(&a),
        "replay" => replay(&a),
        "gen" => Seeds::load(&a.vectors).map(|seeds| {
            let mut bombs = Bombs::default();
            let stdout = std::io::stdout();
            let mut w = std::io::BufWriter::new(stdout.lock());
            for i in a.from..a.from + a.records {
                let _ = writeln!(w, "{}", mutate::record(&seeds, a.seed, i, &mut bombs).to_line());
            }
            0
        }),
        "decode" => {
            let stdin = std::io::stdin();
            let mut out = std::io::stdout();
            for line in stdin.lock().lines() {
                let Ok(line) = line else { break };
                let answer = match Record::from_line(&line) {
                    Ok(r) => format!("{} {}", r.id, driver::decide_record(&r)),
                    Err(e) => format!("? crash {e}"),
                };
                if writeln!(out, "{answer}").and_then(|()| out.flush()).is_err() {
                    break;
                }
            }
            Ok(0)
        }
        other => Err(format!("unknown command `{other}`")),
    };
    match result {
        Ok(0) => ExitCode::SUCCESS,
        Ok(_) => ExitCode::from(1),
        Err(e) => {
            eprintln!("ampy-fuzz-diff: {e}");
            ExitCode::from(2)
        }
    }
}
