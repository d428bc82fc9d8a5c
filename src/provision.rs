//! `ampygen provision nats` and `provision kafka`: the streams or topics
//! the registry implies, created or updated on a broker. The plans come
//! from the transport model (`ampygen::transport`), the same one the
//! generated `LAYOUT` constants print, and the work is
//! `ampy_bus::nats::provision` or `ampy_bus::kafka::provision`, the library
//! calls a service or test makes.

use std::process::ExitCode;
use std::time::Duration;

use ampy_bus::nats::{provision, ProvisionOptions, StreamPlan};
use ampy_bus::transport::Storage;
use ampygen::transport::Model;
use ampygen::Project;

const REFUSED: u8 = 1;
const BAD_INPUT: u8 = 2;

pub fn nats(project: &Project, server: &str, env: &str, options: ProvisionOptions) -> ExitCode {
    let model = &project.transport;
    if !model.envs.iter().any(|e| e == env) {
        eprintln!("error: env `{env}` is not in the registry; its envs are: {}", model.envs.join(", "));
        return ExitCode::from(BAD_INPUT);
    }
    let plans = plans(model, env);
    let runtime = match tokio::runtime::Builder::new_current_thread().enable_all().build() {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::from(BAD_INPUT);
        }
    };
    runtime.block_on(async {
        let connect = ampy_bus::nats::async_nats::ConnectOptions::new()
            .connection_timeout(Duration::from_secs(5))
            .connect(server);
        let client = match tokio::time::timeout(Duration::from_secs(10), connect).await {
            Ok(Ok(c)) => c,
            Ok(Err(e)) => {
                eprintln!("error: cannot reach NATS at `{server}`: {e}");
                return ExitCode::from(BAD_INPUT);
            }
            Err(_) => {
                eprintln!("error: no answer from NATS at `{server}` within 10 s");
                return ExitCode::from(BAD_INPUT);
            }
        };
        let js = ampy_bus::nats::async_nats::jetstream::new(client);
        let mode = if options.dry_run { " (dry run: nothing is changed)" } else { "" };
        println!("env `{env}` on {server}: {} streams{mode}", plans.len());
        match provision(&js, &plans, options).await {
            Ok(report) => {
                print!("{report}");
                if report.refused() {
                    ExitCode::from(REFUSED)
                } else {
                    ExitCode::SUCCESS
                }
            }
            Err(e) => {
                eprintln!("error: {e}");
                ExitCode::from(BAD_INPUT)
            }
        }
    })
}

/// The model's streams of `env` as provisioning plans.
fn plans(model: &Model, env: &str) -> Vec<StreamPlan> {
    model
        .streams_for(env)
        .filter_map(|s| {
            let t = model.tier(&s.tier)?;
            let what = if s.dead_letters { "dead letters" } else { "records" };
            Some(StreamPlan {
                name: s.name.clone(),
                subjects: s.subjects.clone(),
                max_age: Duration::from_millis(t.max_age_ms),
                max_bytes: t.max_bytes,
                storage: match t.storage {
                    ampygen::registry::Storage::File => Storage::File,
                    ampygen::registry::Storage::Memory => Storage::Memory,
                },
                replicas: u32::try_from(t.replicas).unwrap_or(1),
                duplicate_window: Duration::from_millis(t.duplicate_window_ms),
                description: format!(
                    "ampygen: {what} of {}.{} in env {} (qos {}); managed by `ampygen provision nats`",
                    s.domain, s.version, s.env, t.name
                ),
            })
        })
        .collect()
}

/// `ampygen provision kafka`: the env's Kafka topics (docs/kafka.md §4).
#[cfg(feature = "kafka")]
pub fn kafka(
    project: &Project,
    bootstrap: &str,
    env: &str,
    client_config: &[String],
    dry_run: bool,
    allow_data_loss: bool,
) -> ExitCode {
    use ampy_bus::kafka::rdkafka::admin::AdminClient;
    use ampy_bus::kafka::rdkafka::client::DefaultClientContext;
    use ampy_bus::kafka::rdkafka::config::ClientConfig;
    use ampy_bus::kafka::{provision, ProvisionOptions};

    let model = &project.transport;
    if !model.envs.iter().any(|e| e == env) {
        eprintln!("error: env `{env}` is not in the registry; its envs are: {}", model.envs.join(", "));
        return ExitCode::from(BAD_INPUT);
    }
    if bootstrap.trim().is_empty() || bootstrap.split(',').any(|b| !b.trim().contains(':')) {
        eprintln!("error: `--bootstrap {bootstrap}` is not HOST:PORT (a comma-separated list of them is fine)");
        return ExitCode::from(BAD_INPUT);
    }
    let mut config = ClientConfig::new();
    config
        .set("bootstrap.servers", bootstrap)
        .set("client.id", "ampygen-provision")
        // librdkafka logs each failed connection attempt to stderr; the
        // error below says what happened once.
        .set("log_level", "0");
    for kv in client_config {
        let Some((k, v)) = kv.split_once('=').filter(|(k, _)| !k.trim().is_empty()) else {
            eprintln!("error: `-X {kv}` is not KEY=VALUE (a librdkafka client property)");
            return ExitCode::from(BAD_INPUT);
        };
        if k.trim() == "bootstrap.servers" {
            eprintln!("error: give the brokers with --bootstrap, not `-X bootstrap.servers`");
            return ExitCode::from(BAD_INPUT);
        }
        config.set(k.trim(), v);
    }
    let plans = kafka_plans(model, env);
    let runtime = match tokio::runtime::Builder::new_current_thread().enable_all().build() {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::from(BAD_INPUT);
        }
    };
    runtime.block_on(async {
        let admin: AdminClient<DefaultClientContext> = match config.create() {
            Ok(a) => a,
            Err(e) => {
                eprintln!("error: cannot configure a Kafka client for `{bootstrap}`: {e}");
                return ExitCode::from(BAD_INPUT);
            }
        };
        let mode = if dry_run { " (dry run: nothing is changed)" } else { "" };
        let options = ProvisionOptions { dry_run, allow_data_loss, timeout: Duration::from_secs(10) };
        match provision(&admin, &plans, options).await {
            Ok(report) => {
                println!("env `{env}` on {bootstrap}: {} topics{mode}", plans.len());
                print!("{report}");
                if report.refused() {
                    ExitCode::from(REFUSED)
                } else {
                    ExitCode::SUCCESS
                }
            }
            Err(e) => {
                eprintln!("error: {e} (is a Kafka broker listening on `{bootstrap}`?)");
                ExitCode::from(BAD_INPUT)
            }
        }
    })
}

#[cfg(not(feature = "kafka"))]
pub fn kafka(_: &Project, _: &str, _: &str, _: &[String], _: bool, _: bool) -> ExitCode {
    eprintln!("error: this ampygen was built without its `kafka` feature; rebuild it with default features");
    ExitCode::from(BAD_INPUT)
}

/// The model's Kafka topics of `env` as provisioning plans.
#[cfg(feature = "kafka")]
fn kafka_plans(model: &Model, env: &str) -> Vec<ampy_bus::kafka::TopicPlan> {
    model
        .kafka_topics_for(env)
        .map(|t| ampy_bus::kafka::TopicPlan {
            name: t.name.clone(),
            partitions: u32::try_from(t.partitions).unwrap_or(u32::MAX),
            replication_factor: u16::try_from(t.replication_factor).unwrap_or(u16::MAX),
            configs: t.configs().into_iter().map(|(k, v)| (k.to_owned(), v)).collect(),
        })
        .collect()
}
