//! The `ampygen` command line: a thin shell over the `ampygen` library.
//!
//! Exit codes are part of the interface: 0 ok, 1 a check failed (the
//! registry, protos or a payload break the contract), 2 bad input or usage.

use std::io::{IsTerminal, Read};
use std::path::PathBuf;
use std::process::ExitCode;

use ampygen::compat::{self, Baseline, Finding};
use ampygen::{Diagnostic, Diagnostics, Project};
use clap::{Parser, Subcommand, ValueEnum};
use miette::{GraphicalReportHandler, GraphicalTheme};

mod cache;
mod provision;

const CHECK_FAILED: u8 = 1;
const BAD_INPUT: u8 = 2;

#[derive(Parser)]
#[command(name = "ampygen", version, about = "Schema registry and code generator for the AmpyFin bus")]
struct Cli {
    /// The registry file.
    #[arg(long, global = true, default_value = "registry/ampy.yaml")]
    registry: PathBuf,

    /// How diagnostics are printed: `human` with source snippets, or
    /// `short` as one `file:line:col: error[code]: message` line each.
    #[arg(long, global = true, value_enum, default_value_t = Style::Human)]
    diagnostics: Style,

    #[command(subcommand)]
    command: Command,
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Style {
    Human,
    Short,
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Format {
    Text,
    Json,
}

/// Output of `check`.
#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum CheckFormat {
    /// miette reports with source snippets (or `--diagnostics short` lines) on stderr.
    Human,
    /// One JSON document on stdout; the schema is in docs/ci.md.
    Json,
    /// GitHub Actions `::error file=…,line=…::` annotations on stdout.
    Github,
}

#[derive(Subcommand)]
enum Command {
    /// Validate the registry, compile the protos, verify every locked hash and
    /// classify every change against the lock (or a git revision).
    Check {
        /// Classify changes against the registry and protos at this git
        /// revision (read through git, no checkout) instead of the lock file.
        #[arg(long, value_name = "GIT_REF")]
        against: Option<String>,
        /// Fail if committed generated code in DIR differs from what this
        /// registry generates now. Repeatable, e.g. `--generated rust=gen/rust`.
        #[arg(long, value_name = "LANG=DIR")]
        generated: Vec<String>,
        #[arg(long, value_enum, default_value_t = CheckFormat::Human)]
        format: CheckFormat,
    },
    /// Generate client code into a directory: `--lang all` writes `rust/`,
    /// `go/` and `python/` side by side. Nothing is written unless every
    /// language generates; unchanged files are left untouched.
    Generate {
        /// rust, go, python or all.
        #[arg(long, value_name = "LANG")]
        lang: String,
        /// Output directory. ampygen replaces and deletes only files it
        /// wrote there itself (listed in `.ampygen-manifest`); see docs/ci.md.
        #[arg(long, value_name = "DIR")]
        out: PathBuf,
        /// Replace hand-written files that are in the way of generated ones
        /// instead of failing (symbolic links and directories still stop it).
        #[arg(long)]
        force: bool,
    },
    /// Write computed schema hashes into the registry (in place) and the lock file.
    Lock {
        /// Show what would change without writing anything.
        #[arg(long)]
        dry_run: bool,
    },
    /// Print the canonical schema hash of a message.
    Hash {
        /// Fully qualified message name, e.g. `ampy.bars.v1.BarBatch`.
        fqdn: String,
        /// Print the canonical form that is hashed instead of the hash.
        #[arg(long)]
        canonical: bool,
    },
    /// Print the subject, partition key, Kafka topic, record key and
    /// partition of a proto-JSON payload.
    Route {
        /// Topic id: `domain.version` or `domain.version.topic`, e.g. `ticks.v1.trade`.
        topic: String,
        /// Environment, e.g. `prod`.
        #[arg(long)]
        env: String,
        /// Proto3 JSON payload file, or `-` for standard input.
        #[arg(long)]
        payload: PathBuf,
        /// Also print where the record goes if it is dead-lettered.
        #[arg(long)]
        dlq: bool,
        /// The Kafka topic's partition count (default: the registry's, what
        /// `provision kafka` creates), for a topic that has more.
        #[arg(long, value_parser = clap::value_parser!(u32).range(1..=1_000_000))]
        partitions: Option<u32>,
        #[arg(long, value_enum, default_value_t = Format::Text)]
        format: Format,
    },
    /// Create or update the broker streams the registry implies for one env
    /// (docs/nats.md, docs/kafka.md). Exit 1 when a change is refused.
    Provision {
        #[command(subcommand)]
        broker: Broker,
    },
}

#[derive(Subcommand)]
enum Broker {
    /// NATS JetStream: one stream per env, domain and major version.
    Nats {
        /// Server URL, e.g. `nats://127.0.0.1:4222`.
        #[arg(long)]
        server: String,
        /// Environment, e.g. `prod`.
        #[arg(long)]
        env: String,
        /// Print what would change; change nothing.
        #[arg(long)]
        dry_run: bool,
        /// Also apply changes that drop stored records (shorter retention,
        /// smaller limits, fewer subjects, another storage type).
        #[arg(long)]
        allow_data_loss: bool,
    },
    /// Kafka: one topic per env, domain and major version, the dlq
    /// domain's included (docs/kafka.md). Exit 1 when a topic's partitions
    /// would shrink (Kafka cannot) or a change would lose stored records.
    Kafka {
        /// A bootstrap broker, `HOST:PORT` (or a comma-separated list).
        #[arg(long)]
        bootstrap: String,
        /// Environment, e.g. `prod`.
        #[arg(long)]
        env: String,
        /// Print what would change; change nothing.
        #[arg(long)]
        dry_run: bool,
        /// Also apply shorter retention (`retention.ms`, `retention.bytes`).
        /// Fewer partitions are never applied.
        #[arg(long)]
        allow_data_loss: bool,
        /// A librdkafka client property, `KEY=VALUE`, repeatable: TLS and
        /// SASL settings, e.g. `-X security.protocol=SASL_SSL`.
        #[arg(short = 'X', long = "client-config", value_name = "KEY=VALUE")]
        client_config: Vec<String>,
    },
}

/// The stack of the thread that runs a command. ampygen bounds every
/// recursion its input can drive (docs/registry.md, "Limits"); running on
/// a known stack makes the margin independent of `ulimit -s`.
const STACK_BYTES: usize = 64 << 20;

/// See the `mimalloc` feature in Cargo.toml: compiling protos is
/// allocation-bound.
#[cfg(feature = "mimalloc")]
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Turns transparent huge pages off for this short-lived process. mimalloc
/// asks for them on its arenas, and each thread's first allocation then
/// faults in a 2 MiB page the kernel must zero: on 100 proto files that
/// was half of `check`'s CPU time (benches/scale), for memory never used.
#[cfg(target_os = "linux")]
fn no_huge_pages() {
    // SAFETY: prctl with PR_SET_THP_DISABLE takes integer arguments only
    // and changes a flag of this process; failure (an old kernel) is
    // harmless and ignored.
    unsafe {
        libc::prctl(libc::PR_SET_THP_DISABLE, 1, 0, 0, 0);
    }
}

#[cfg(not(target_os = "linux"))]
fn no_huge_pages() {}

fn main() -> ExitCode {
    no_huge_pages();
    let cli = Cli::parse();
    let worker = std::thread::Builder::new().name("ampygen".into()).stack_size(STACK_BYTES).spawn(move || run(cli));
    match worker.map(|w| w.join()) {
        Ok(Ok(code)) => code,
        _ => {
            eprintln!("error: ampygen stopped unexpectedly; this is a bug in ampygen, please report it");
            ExitCode::from(BAD_INPUT)
        }
    }
}

fn run(cli: Cli) -> ExitCode {
    let printer = Printer::new(cli.diagnostics);
    if let Command::Check { against, generated, format } = &cli.command {
        return check(&cli, &printer, against.as_deref(), generated, *format);
    }
    // The commands that write first finish (or discard) what a killed
    // `lock` left behind; the others only read through it.
    if matches!(cli.command, Command::Lock { dry_run: false } | Command::Generate { .. }) {
        if let Err(code) = recover(&cli.registry, &printer) {
            return code;
        }
    }
    // Only generating reads every file's comments and positions.
    let loaded = if matches!(cli.command, Command::Generate { .. }) {
        ampygen::load(&cli.registry)
    } else {
        ampygen::load_to_check(&cli.registry)
    };
    let project = match loaded {
        Ok(p) => p,
        Err(diags) => {
            printer.print_all(&diags);
            return ExitCode::from(BAD_INPUT);
        }
    };
    printer.print_all(&project.warnings);
    let code = match cli.command {
        Command::Check { .. } => ExitCode::from(BAD_INPUT),
        Command::Generate { lang, out, force } => generate(&project, &printer, &lang, &out, force),
        Command::Lock { dry_run } => lock(&project, &printer, dry_run),
        Command::Hash { fqdn, canonical } => hash(&project, &fqdn, canonical),
        Command::Route { topic, env, payload, dlq, partitions, format } => {
            route(&project, &topic, &env, &payload, RouteOptions { dlq, partitions, format })
        }
        Command::Provision { broker: Broker::Nats { server, env, dry_run, allow_data_loss } } => {
            provision::nats(&project, &server, &env, ampy_bus::nats::ProvisionOptions { dry_run, allow_data_loss })
        }
        Command::Provision { broker: Broker::Kafka { bootstrap, env, dry_run, allow_data_loss, client_config } } => {
            provision::kafka(&project, &bootstrap, &env, &client_config, dry_run, allow_data_loss)
        }
    };
    exit_without_freeing(project);
    code
}

/// The CI gate: lock consistency, classification against the lock or a
/// git revision, and stale generated code. Exit 0 ok, 1 failed, 2 bad input.
fn check(cli: &Cli, printer: &Printer, against: Option<&str>, generated: &[String], format: CheckFormat) -> ExitCode {
    let out = Output { printer, format, against, registry: cli.registry.display().to_string() };
    // Only the plain lock check is cached: `--against` reads git and
    // `--generated` output directories, which the cache does not track.
    let cache = if against.is_none() && generated.is_empty() {
        let name = match format {
            CheckFormat::Human => "human",
            CheckFormat::Json => "json",
            CheckFormat::Github => "github",
        };
        cache::Key::new(&cli.registry, name)
    } else {
        None
    };
    if let Some(stdout) = cache.as_ref().and_then(cache::Key::lookup) {
        print!("{stdout}");
        return ExitCode::SUCCESS;
    }
    // `--generated` renders every file in memory, which reads every
    // file's positions and comments: kept, rather than parsed twice.
    let loaded =
        if generated.is_empty() { ampygen::load_to_check(&cli.registry) } else { ampygen::load(&cli.registry) };
    let project = match loaded {
        Ok(p) => p,
        Err(diags) => return out.finish(diags.into_iter().map(Finding::plain).collect(), BAD_INPUT, None),
    };
    let mut findings: Vec<Finding> = project.warnings.iter().cloned().map(Finding::plain).collect();
    // What `generate` would refuse is bad input here too (exit 2).
    let invalid = ampygen::check::validate(&project);
    if invalid.has_errors() {
        findings.extend(invalid.into_iter().map(Finding::plain));
        return out.finish(findings, BAD_INPUT, None);
    }
    // The lock file is read and parsed once, and the lock the protos give
    // (every schema's canonical form and hash) computed once, for both the
    // lock check and the gate.
    let computed = ampygen::lock::Lockfile::compute(&project);
    let read = ampygen::lock::Lockfile::read_with_source(&ampygen::lock::lock_path(&project.registry_path));
    let locked = read.as_ref().map(|r| r.as_ref().map(|(lock, _)| lock)).map_err(Clone::clone);
    let lock_text = read.as_ref().ok().map(|r| r.as_ref().map(|(_, source)| source.text().to_owned()));
    findings.extend(ampygen::check::check_with(&project, locked, &computed).into_iter().map(Finding::plain));
    let baseline = match against {
        Some(rev) => match compat::git::load_at(rev, &cli.registry) {
            Ok(Some(old)) => Some(Baseline::from_project(&old)),
            Ok(None) => Some(Baseline::default()),
            Err(diags) => {
                findings.extend(diags.into_iter().map(Finding::plain));
                return out.finish(findings, BAD_INPUT, None);
            }
        },
        // A missing or unreadable lock is already reported by the lock check.
        None => read.ok().flatten().map(|(lock, source)| Baseline::from_lock_beside(lock, &source, Some(&computed))),
    };
    if let Some(baseline) = &baseline {
        findings.extend(compat::evaluate_with(baseline, &project, &computed));
    }
    drop((baseline, computed));
    for spec in generated {
        let parsed = spec.split_once('=').and_then(|(l, d)| Some((l, l.parse::<ampygen::generate::Lang>().ok()?, d)));
        let Some((name, lang, dir)) = parsed.filter(|(_, _, d)| !d.is_empty()) else {
            let d = Diagnostic::error("usage::generated", format!("`--generated {spec}` is not LANG=DIR"))
                .help("write e.g. `--generated rust=gen/rust`; LANG is rust, go or python");
            findings.push(Finding::plain(d));
            return out.finish(findings, BAD_INPUT, None);
        };
        match ampygen::generate::generate(&project, lang) {
            Ok(files) => findings.extend(compat::generated::compare(name, &files, std::path::Path::new(dir))),
            Err(diags) => {
                findings.extend(diags.into_iter().map(Finding::plain));
                return out.finish(findings, BAD_INPUT, None);
            }
        }
    }
    let failed = findings.iter().any(|f| f.diagnostic.is_error());
    // A run without any finding prints only its success line (or an empty
    // report): that is what the cache records.
    if let (Some(cache), true, Some(Some(lock))) = (&cache, findings.is_empty(), lock_text.as_ref()) {
        cache.store(&project, lock, &out.success(&project));
    }
    let code = out.finish(findings, if failed { CHECK_FAILED } else { 0 }, Some(&project));
    exit_without_freeing(project);
    code
}

/// Leaks `project` instead of dropping it: the process exits right after,
/// and freeing the compiled descriptor pool and every source (hundreds of
/// thousands of small allocations at 5,000 protos) is measurable work the
/// OS does for free when the process ends. Only the command line does
/// this; the library never leaks.
fn exit_without_freeing(project: Project) {
    std::mem::forget(project);
}

/// Renders the findings of `check` in the chosen format.
struct Output<'a> {
    printer: &'a Printer,
    format: CheckFormat,
    against: Option<&'a str>,
    registry: String,
}

impl Output<'_> {
    fn finish(&self, findings: Vec<Finding>, code: u8, project: Option<&Project>) -> ExitCode {
        if let CheckFormat::Human = self.format {
            for f in &findings {
                self.printer.print(&f.diagnostic);
            }
        }
        print!("{}", self.stdout(&findings, code, project));
        if code == CHECK_FAILED {
            let errors = findings.iter().filter(|f| f.diagnostic.is_error()).count();
            eprintln!("check failed: {errors} error(s) in {}", self.registry);
        }
        ExitCode::from(code)
    }

    /// What `finish` prints on stdout.
    fn stdout(&self, findings: &[Finding], code: u8, project: Option<&Project>) -> String {
        let mut out = match self.format {
            CheckFormat::Json => compat::report::json(findings, self.against, &self.registry),
            CheckFormat::Github => compat::report::github(findings),
            CheckFormat::Human => String::new(),
        };
        if let (false, Some(project), CheckFormat::Human) = (code == CHECK_FAILED, project, self.format) {
            let schemas: std::collections::BTreeSet<&str> =
                project.resolved.values().map(|r| r.message.full_name()).collect();
            let against = self.against.map(|r| format!("; no breaking change against `{r}`")).unwrap_or_default();
            out.push_str(&format!(
                "ok: {} topics, {} payload schemas match their locked hashes ({}){against}\n",
                project.registry.topics().count(),
                schemas.len(),
                project.registry_path.display()
            ));
        }
        out
    }

    /// The stdout of a passing run without findings (what the cache keeps).
    fn success(&self, project: &Project) -> String {
        self.stdout(&[], 0, Some(project))
    }
}

/// Completes an interrupted `lock` (see `ampygen::commit`) and removes
/// the temporaries killed runs left next to the registry.
fn recover(registry: &std::path::Path, printer: &Printer) -> Result<(), ExitCode> {
    match ampygen::commit::recover(registry) {
        Ok(done) => {
            for j in &done.completed {
                eprintln!("note: completed an interrupted `ampygen lock` (journal `{}`)", j.display());
            }
            for j in &done.discarded {
                eprintln!(
                    "warning: discarded the journal of an interrupted `ampygen lock` (`{}`): the files it names were changed since",
                    j.display()
                );
            }
            Ok(())
        }
        Err(e) => {
            printer.print(
                &Diagnostic::error(
                    "io::write",
                    format!("cannot complete an interrupted `ampygen lock` next to `{}`: {e}", registry.display()),
                )
                .help("check that the registry's directory is writable, then rerun"),
            );
            Err(ExitCode::from(BAD_INPUT))
        }
    }
}

/// `generate`: every requested language in memory first, then the
/// ownership checks of every output directory, then one write.
fn generate(project: &Project, printer: &Printer, lang: &str, out: &std::path::Path, force: bool) -> ExitCode {
    use ampygen::generate::Lang;
    let langs: Vec<(Lang, PathBuf)> = if lang == "all" {
        Lang::ALL.iter().map(|l| (*l, out.join(l.as_str()))).collect()
    } else {
        match lang.parse::<Lang>() {
            Ok(l) => vec![(l, out.to_path_buf())],
            Err(e) => {
                printer.print(&Diagnostic::error("usage::lang", e).help("pass `--lang rust`, `go`, `python` or `all`"));
                return ExitCode::from(BAD_INPUT);
            }
        }
    };
    let mut targets = Vec::new();
    let mut diags = Diagnostics::new();
    // Languages are independent; generating them side by side overlaps the
    // protoc-gen-go subprocess with the Rust and Python renderers. One
    // language runs on this thread: a thread of its own would only move
    // the output between two allocator heaps.
    let results: Vec<_> = if let [(l, _)] = langs.as_slice() {
        vec![Ok(ampygen::generate::generate(project, *l))]
    } else {
        std::thread::scope(|scope| {
            let handles: Vec<_> = langs
                .iter()
                .map(|(l, _)| {
                    std::thread::Builder::new()
                        .stack_size(STACK_BYTES)
                        .spawn_scoped(scope, move || ampygen::generate::generate(project, *l))
                })
                .collect();
            handles.into_iter().map(|h| h.map_err(|_| ()).and_then(|h| h.join().map_err(|_| ()))).collect()
        })
    };
    for ((_, dir), result) in langs.iter().zip(results) {
        let Ok(result) = result else {
            diags
                .push(Diagnostic::error("generate::internal", "a generator thread panicked; this is a bug in ampygen"));
            continue;
        };
        match result {
            Ok(files) => targets.push(ampygen::ownership::Target { dir: dir.clone(), files }),
            Err(d) => diags.extend(d),
        }
    }
    let plans = if diags.has_errors() { Err(diags) } else { ampygen::ownership::plan(targets, force) };
    let plans = match plans {
        Ok(p) => p,
        Err(diags) => {
            printer.print_all(&diags);
            eprintln!("generate failed: nothing was written to {}", out.display());
            return ExitCode::from(BAD_INPUT);
        }
    };
    let (mut changed, mut removed, mut files) = (0, 0, 0);
    for plan in &plans {
        files += plan.writes.len() + plan.unchanged;
        match ampygen::ownership::apply(plan) {
            Ok(done) => {
                changed += done.written;
                removed += done.removed;
            }
            Err(e) => {
                printer.print(
                    &Diagnostic::error("io::write", format!("cannot write into `{}`: {e}", plan.dir.display())).help(
                        "check that the directory is writable; every file is either its old or its new version, and rerunning finishes the job",
                    ),
                );
                return ExitCode::from(BAD_INPUT);
            }
        }
        for (rel, why) in &plan.kept {
            eprintln!(
                "note: kept `{}`: ampygen generated it before but no longer does, and {why}; delete it yourself if it is not needed",
                ampygen::ownership::join(&plan.dir, rel).display()
            );
        }
    }
    let removed = if removed > 0 { format!(", {removed} stale removed") } else { String::new() };
    println!(
        "generated {files} files for {} into {} ({changed} changed{removed})",
        langs.iter().map(|(l, _)| l.as_str()).collect::<Vec<_>>().join(", "),
        out.display(),
    );
    ExitCode::SUCCESS
}

fn lock(project: &Project, printer: &Printer, dry_run: bool) -> ExitCode {
    // Computed once and read once, shared by the plan and the gate.
    let computed = ampygen::lock::Lockfile::compute(project);
    let read = ampygen::lock::Lockfile::read_with_source(&ampygen::lock::lock_path(&project.registry_path));
    let current = read.as_ref().ok().and_then(|r| r.as_ref().map(|(lock, _)| lock));
    let plan = match ampygen::lock::plan_with(project, &computed, current) {
        Ok(p) => p,
        Err(diags) => {
            printer.print_all(&diags);
            return ExitCode::from(BAD_INPUT);
        }
    };
    // The lock is the baseline later checks classify against, so it only
    // moves through the gate: a breaking change needs a new topic version
    // or an acceptance, and every schema change needs its version bump.
    // A lock file that cannot be read is bad input, not a missing one:
    // rewriting it would skip the gate and lose what it recorded.
    let baseline = match read {
        Ok(b) => b.map(|(lock, source)| Baseline::from_lock(lock, &source)),
        Err(d) => {
            printer.print(&d);
            eprintln!("lock refused: the lock file cannot be read; nothing was written (fix it, or delete it to lock from scratch without a baseline)");
            return ExitCode::from(BAD_INPUT);
        }
    };
    if let Some(baseline) = baseline {
        let findings = compat::evaluate_with(&baseline, project, &computed);
        for f in &findings {
            printer.print(&f.diagnostic);
        }
        let errors = findings.iter().filter(|f| f.diagnostic.is_error()).count();
        if errors > 0 {
            eprintln!("lock refused: {errors} error(s) against the current lock; nothing was written");
            return ExitCode::from(CHECK_FAILED);
        }
    }
    for (topic, old, new) in &plan.updated {
        match old {
            Some(old) => println!("{topic}: {old} -> {new}"),
            None => println!("{topic}: locked {new}"),
        }
    }
    if plan.writes.is_empty() {
        println!("already locked: nothing to write");
        return ExitCode::SUCCESS;
    }
    if dry_run {
        for w in &plan.writes {
            println!("would write {}", w.path.display());
        }
        return ExitCode::SUCCESS;
    }
    // The registry and the lock file change together or not at all.
    match ampygen::commit::commit(&project.registry_path, &plan.writes) {
        Ok(()) => {
            for w in &plan.writes {
                println!("wrote {}", w.path.display());
            }
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("error: could not write the lock: {e} (the registry and lock file are both old or both new; rerun `ampygen lock`)");
            ExitCode::from(BAD_INPUT)
        }
    }
}

fn hash(project: &Project, fqdn: &str, canonical: bool) -> ExitCode {
    let Some(message) = project.compiled.pool.get_message_by_name(fqdn) else {
        let hint = ampygen::registry::resolve::suggest_message(&project.compiled.pool, fqdn)
            .map(|s| format!("; did you mean `{s}`?"))
            .unwrap_or_default();
        eprintln!("error: no message `{fqdn}` in the compiled protos{hint}");
        return ExitCode::from(BAD_INPUT);
    };
    if canonical {
        print!("{}", ampygen::canonical::canonical_form(&message));
    } else {
        println!("{}", ampygen::canonical::schema_hash(&message));
    }
    ExitCode::SUCCESS
}

/// `route`'s switches.
struct RouteOptions {
    dlq: bool,
    partitions: Option<u32>,
    format: Format,
}

/// Where a routed record lands on Kafka: its record key (the subtopic, a
/// space, the partition key: docs/kafka.md) and the partition Java's
/// murmur2 rule gives it among `partitions`.
struct Placement {
    key: String,
    partition: i32,
    partitions: u32,
}

fn placement(project: &Project, r: &ampygen::route::Routed, partitions: Option<u32>) -> Placement {
    let subtopic = r.subject.strip_prefix(&r.kafka_topic).and_then(|s| s.strip_prefix('.')).unwrap_or_default();
    let key = format!("{subtopic} {}", r.partition_key);
    let partitions = partitions.unwrap_or_else(|| {
        let registry = project.transport.kafka_topics.iter().find(|t| t.name == r.kafka_topic).map(|t| t.partitions);
        registry.map_or(1, |n| u32::try_from(n).unwrap_or(u32::MAX))
    });
    let partition = ampy_canonical::kafka::partition_for(key.as_bytes(), i32::try_from(partitions).unwrap_or(i32::MAX));
    Placement { key, partition, partitions }
}

fn route(project: &Project, topic: &str, env: &str, payload: &PathBuf, options: RouteOptions) -> ExitCode {
    let RouteOptions { dlq, partitions, format } = options;
    let t = match project.registry.find_topic(topic) {
        Ok(t) => t,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(BAD_INPUT);
        }
    };
    let Some(resolved) = project.resolved.get(&t.id()) else {
        eprintln!("error: `{}` is a dlq topic; route the original record's topic with `--dlq` instead", t.id());
        return ExitCode::from(BAD_INPUT);
    };
    let text = if payload.as_os_str() == "-" {
        let mut s = String::new();
        std::io::stdin().read_to_string(&mut s).map(|_| s)
    } else {
        std::fs::read_to_string(payload)
    };
    let text = match text {
        Ok(t) => t,
        Err(e) => {
            eprintln!("error: cannot read payload `{}`: {e}", payload.display());
            return ExitCode::from(BAD_INPUT);
        }
    };
    let message = match ampygen::route::decode_json(&resolved.message, &text) {
        Ok(m) => m,
        Err(e) => {
            eprintln!(
                "error: {}:{}:{}: not valid proto3 JSON for `{}`: {}",
                payload.display(),
                e.line,
                e.column,
                resolved.message.full_name(),
                e.message
            );
            return ExitCode::from(BAD_INPUT);
        }
    };
    let routed = ampygen::route::route(&project.registry, t, resolved, env, &message).and_then(|r| {
        let dlq_subject = match dlq {
            true => Some(ampygen::route::dlq_subject(&project.registry, env, &t.domain.name.value)?),
            false => None,
        };
        Ok((dlq_subject, r))
    });
    match (routed, format) {
        (Ok((dlq_subject, r)), Format::Text) => {
            let p = placement(project, &r, partitions);
            println!("subject          {}", r.subject);
            println!("partition_key    {}", r.partition_key);
            println!("kafka_topic      {}", r.kafka_topic);
            println!("kafka_key        {}", p.key);
            println!("kafka_partition  {} of {}", p.partition, p.partitions);
            if let Some(d) = dlq_subject {
                println!("dlq_subject      {d}");
            }
            ExitCode::SUCCESS
        }
        (Ok((dlq_subject, r)), Format::Json) => {
            let p = placement(project, &r, partitions);
            let mut obj = serde_json::json!({
                "topic": t.id(),
                "subject": r.subject,
                "partition_key": r.partition_key,
                "kafka_topic": r.kafka_topic,
                "kafka_key": p.key,
                "kafka_partition": p.partition,
                "kafka_partitions": p.partitions,
            });
            if let Some(d) = dlq_subject {
                obj["dlq_subject"] = d.into();
            }
            println!("{obj}");
            ExitCode::SUCCESS
        }
        (Err(e), format) => {
            if format == Format::Json {
                println!(
                    "{}",
                    serde_json::json!({ "topic": t.id(), "error": { "kind": e.kind(), "message": e.to_string() } })
                );
            }
            eprintln!("error[route::{}]: {e}", e.kind());
            ExitCode::from(if e.is_usage() { BAD_INPUT } else { CHECK_FAILED })
        }
    }
}

/// Renders diagnostics to stderr, with colour only on a terminal.
struct Printer {
    style: Style,
    handler: GraphicalReportHandler,
}

impl Printer {
    fn new(style: Style) -> Self {
        let color = std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none();
        let theme = if color { GraphicalTheme::unicode() } else { GraphicalTheme::unicode_nocolor() };
        Self { style, handler: GraphicalReportHandler::new_themed(theme).with_width(110) }
    }

    fn print(&self, d: &Diagnostic) {
        match self.style {
            Style::Short => eprintln!("{}", d.render_plain()),
            Style::Human => {
                let mut out = String::new();
                if self.handler.render_report(&mut out, d).is_err() {
                    out = d.render_plain();
                }
                eprintln!("{out}");
            }
        }
    }

    fn print_all(&self, diags: &Diagnostics) {
        for d in diags {
            self.print(d);
        }
    }
}
