//! `ampygen provision kafka` against a real broker (AMPY_KAFKA_BOOTSTRAP,
//! started by scripts/test): on an empty broker, a second time (no change),
//! after registry edits (more partitions, longer and shorter retention),
//! `--dry-run` (changes nothing), and the refusal to shrink partitions.
//! Every claim the report makes is checked against the broker itself with
//! rdkafka's admin client.
//!
//! Each run adds its own env to a copy of the default registry, so its
//! topics (`ampy.{env}.{domain}.{version}`) are new on a shared broker.

#![cfg(feature = "kafka")]

use std::path::Path;
use std::time::Duration;

use ampy_bus::kafka::rdkafka::admin::{AdminClient, AdminOptions, ResourceSpecifier};
use ampy_bus::kafka::rdkafka::client::DefaultClientContext;
use ampy_bus::kafka::rdkafka::config::ClientConfig;
use assert_cmd::Command;

/// The broker's address, or `None` (with the reason printed) to skip.
fn bootstrap() -> Option<String> {
    match std::env::var("AMPY_KAFKA_BOOTSTRAP") {
        Ok(b) if !b.is_empty() => Some(b),
        _ => {
            assert!(
                std::env::var("AMPY_TEST_REQUIRE_KAFKA").as_deref() != Ok("1"),
                "AMPY_TEST_REQUIRE_KAFKA=1 but AMPY_KAFKA_BOOTSTRAP is not set"
            );
            // Past the test harness's capture: the skip shows in a plain `cargo test`.
            let _ = std::io::Write::write_all(
                &mut std::io::stderr(),
                b"skipped: AMPY_KAFKA_BOOTSTRAP is not set (scripts/test starts a broker and sets it)\n",
            );
            None
        }
    }
}

/// The default registry and protos with one more env, copied so the test
/// can edit them.
fn workspace(env: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    for sub in ["registry", "proto"] {
        copy_dir(&root.join(sub), &dir.path().join(sub));
    }
    let registry = dir.path().join("registry/ampy.yaml");
    let text = std::fs::read_to_string(&registry).unwrap();
    assert!(text.contains("envs: [dev, paper, prod]"));
    std::fs::write(&registry, text.replace("envs: [dev, paper, prod]", &format!("envs: [dev, paper, prod, {env}]")))
        .unwrap();
    dir
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        let target = to.join(e.file_name());
        if e.file_type().unwrap().is_dir() {
            copy_dir(&e.path(), &target);
        } else {
            std::fs::copy(e.path(), target).unwrap();
        }
    }
}

fn provision(dir: &Path, bootstrap: &str, env: &str, extra: &[&str]) -> (i32, String) {
    let out = Command::cargo_bin("ampygen")
        .unwrap()
        .current_dir(dir)
        .args(["provision", "kafka", "--bootstrap", bootstrap, "--env", env])
        .args(extra)
        .output()
        .unwrap();
    let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    (out.status.code().unwrap_or(-1), text)
}

/// What the report says about one topic: the text after its name.
fn verb<'a>(out: &'a str, topic: &str) -> &'a str {
    out.lines().find_map(|l| l.strip_prefix(topic).filter(|rest| rest.starts_with(' '))).map_or("", str::trim)
}

/// The broker's view, independent of ampygen.
struct Broker {
    admin: AdminClient<DefaultClientContext>,
    runtime: tokio::runtime::Runtime,
}

impl Broker {
    fn new(bootstrap: &str) -> Broker {
        let admin = ClientConfig::new().set("bootstrap.servers", bootstrap).create().unwrap();
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        Broker { admin, runtime }
    }

    /// The partition count of `topic`, `None` when it does not exist.
    fn partitions(&self, topic: &str) -> Option<usize> {
        let md = self.admin.inner().fetch_metadata(Some(topic), Duration::from_secs(10)).unwrap();
        md.topics().iter().find(|t| t.name() == topic && t.error().is_none()).map(|t| t.partitions().len())
    }

    /// The topics whose names start with `prefix`.
    fn topics(&self, prefix: &str) -> Vec<String> {
        let md = self.admin.inner().fetch_metadata(None, Duration::from_secs(10)).unwrap();
        let mut names: Vec<String> =
            md.topics().iter().map(|t| t.name().to_owned()).filter(|n| n.starts_with(prefix)).collect();
        names.sort();
        names
    }

    fn config(&self, topic: &str, key: &str) -> String {
        let spec = [ResourceSpecifier::Topic(topic)];
        let res = self.runtime.block_on(self.admin.describe_configs(&spec, &AdminOptions::new())).unwrap();
        let resource = res.into_iter().next().unwrap().unwrap();
        resource.get(key).and_then(|e| e.value.clone()).unwrap_or_default()
    }
}

#[test]
fn provision_creates_then_changes_nothing_then_grows_and_refuses_to_shrink() {
    let Some(bootstrap) = bootstrap() else { return };
    let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos();
    let env = format!("pk{}x{}", std::process::id(), nanos % 1_000_000_000);
    let ws = workspace(&env);
    let dir = ws.path();
    let broker = Broker::new(&bootstrap);
    let prefix = format!("ampy.{env}.");
    let orders = format!("ampy.{env}.orders.v1");
    let bars = format!("ampy.{env}.bars.v1");
    let dlq = format!("ampy.{env}.dlq.v1");

    // --dry-run on an empty broker: what would be created; nothing is.
    let (code, out) = provision(dir, &bootstrap, &env, &["--dry-run"]);
    assert_eq!(code, 0, "{out}");
    assert_eq!(verb(&out, &orders), "would create", "{out}");
    assert!(out.contains("14 topics: 14 would change, 0 unchanged"), "{out}");
    assert!(broker.topics(&prefix).is_empty(), "the dry run created {:?}", broker.topics(&prefix));

    // Empty broker: every topic of the env, the DLQ topic included, with
    // the registry's settings.
    let (code, out) = provision(dir, &bootstrap, &env, &[]);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("14 topics: 14 created, 0 updated, 0 unchanged"), "{out}");
    assert_eq!(broker.topics(&prefix).len(), 14, "{:?}", broker.topics(&prefix));
    assert_eq!((broker.partitions(&orders), broker.partitions(&dlq)), (Some(6), Some(6)));
    // critical: max_age_hours 720; realtime: 72.
    assert_eq!(broker.config(&orders, "retention.ms"), (720u64 * 3_600_000).to_string());
    assert_eq!(broker.config(&bars, "retention.ms"), (72u64 * 3_600_000).to_string());
    assert_eq!(broker.config(&orders, "cleanup.policy"), "delete");
    assert_eq!(broker.config(&orders, "max.message.bytes"), "1048588");
    assert_eq!(broker.config(&orders, "min.insync.replicas"), "1");
    assert_eq!(broker.config(&orders, "retention.bytes"), "-1");

    // A second time: nothing to change, and it says so (with a client
    // property passed through, as TLS or SASL settings would be).
    let (code, out) = provision(dir, &bootstrap, &env, &["-X", "socket.timeout.ms=20000"]);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("14 topics: 0 created, 0 updated, 14 unchanged; nothing to change"), "{out}");

    // A registry edit: more partitions for orders and longer retention for
    // the critical tier. Dry run first: shown, not applied.
    let registry = dir.join("registry/ampy.yaml");
    let text = std::fs::read_to_string(&registry).unwrap();
    let grown = text
        .replace(
            "    qos: critical\n    versions:\n      v1:\n        topics:\n          requests:",
            "    qos: critical\n    partitions: 12\n    versions:\n      v1:\n        topics:\n          requests:",
        )
        .replace("    max_age_hours: 720 ", "    max_age_hours: 1440 ");
    assert_ne!(grown, text);
    std::fs::write(&registry, &grown).unwrap();
    let (code, out) = provision(dir, &bootstrap, &env, &["--dry-run"]);
    assert_eq!(code, 0, "{out}");
    assert_eq!(verb(&out, &orders), "would update", "{out}");
    assert!(out.contains("partitions: 6 -> 12  (moves keys to other partitions"), "{out}");
    assert!(out.contains("retention.ms: 2592000000 -> 5184000000\n"), "{out}");
    assert!(out.contains("14 topics: 4 would change, 10 unchanged"), "{out}");
    assert_eq!(broker.partitions(&orders), Some(6), "the dry run changed nothing");
    assert_eq!(broker.config(&orders, "retention.ms"), (720u64 * 3_600_000).to_string());
    let (code, out) = provision(dir, &bootstrap, &env, &[]);
    assert_eq!(code, 0, "{out}");
    assert_eq!(verb(&out, &orders), "updated", "{out}");
    assert!(out.contains("14 topics: 0 created, 4 updated, 10 unchanged"), "{out}");
    assert_eq!(broker.partitions(&orders), Some(12));
    assert_eq!(broker.partitions(&format!("ampy.{env}.fills.v1")), Some(6), "other topics keep theirs");
    assert_eq!(broker.config(&orders, "retention.ms"), (1440u64 * 3_600_000).to_string());
    let (code, out) = provision(dir, &bootstrap, &env, &[]);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("nothing to change"), "{out}");

    // A size bound where there was none may drop records: refused (exit 1,
    // also in a dry run) until allowed, and nothing of a refused topic is
    // applied. retention.bytes is per partition: 12 GB over 12 or 6.
    let bounded = grown.replace("    max_age_hours: 1440 ", "    max_bytes: 12000000000\n    max_age_hours: 1440 ");
    std::fs::write(&registry, &bounded).unwrap();
    for extra in [&["--dry-run"][..], &[][..]] {
        let (code, out) = provision(dir, &bootstrap, &env, extra);
        assert_eq!(code, 1, "{out}");
        assert_eq!(verb(&out, &orders), "REFUSED", "{out}");
        assert!(out.contains("retention.bytes: -1 -> 1000000000  (loses stored records)"), "{out}");
        assert!(out.contains("retention.bytes: -1 -> 2000000000  (loses stored records)"), "{out}");
        assert!(out.contains("4 refused (they would lose stored records; pass --allow-data-loss to apply)"), "{out}");
        assert_eq!(broker.config(&orders, "retention.bytes"), "-1");
    }
    let (code, out) = provision(dir, &bootstrap, &env, &["--allow-data-loss"]);
    assert_eq!(code, 0, "{out}");
    assert_eq!(verb(&out, &orders), "updated", "{out}");
    assert_eq!(broker.config(&orders, "retention.bytes"), "1000000000");
    assert_eq!(broker.config(&orders, "retention.ms"), (1440u64 * 3_600_000).to_string());
    assert_eq!(broker.config(&orders, "cleanup.policy"), "delete");
    let (code, out) = provision(dir, &bootstrap, &env, &[]);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("nothing to change"), "{out}");

    // Fewer partitions: Kafka cannot remove them. Refused with exit 1 and a
    // clear message, even with --allow-data-loss; the topic keeps 12.
    std::fs::write(&registry, bounded.replace("    partitions: 12\n", "    partitions: 3\n")).unwrap();
    for extra in [&[][..], &["--allow-data-loss"][..]] {
        let (code, out) = provision(dir, &bootstrap, &env, extra);
        assert_eq!(code, 1, "{out}");
        assert_eq!(verb(&out, &orders), "REFUSED", "{out}");
        assert!(out.contains("partitions: 12 -> 3  (Kafka cannot remove partitions"), "{out}");
        assert!(out.contains("1 refused (Kafka cannot apply them)"), "{out}");
        assert_eq!(broker.partitions(&orders), Some(12));
    }

    // Bad input and an unreachable broker are exit 2.
    let (code, out) = provision(dir, &bootstrap, "staging", &[]);
    assert_eq!(code, 2, "{out}");
    assert!(out.contains("env `staging` is not in the registry"), "{out}");
    let (code, out) = provision(dir, "no-port", &env, &[]);
    assert_eq!(code, 2, "{out}");
    let (code, out) = provision(dir, &bootstrap, &env, &["-X", "no.such.property=1"]);
    assert_eq!(code, 2, "{out}");
    assert!(out.contains("no.such.property"), "{out}");
    let (code, out) = provision(dir, &bootstrap, &env, &["-X", "novalue"]);
    assert_eq!(code, 2, "{out}");
    assert!(out.contains("is not KEY=VALUE"), "{out}");
    let dead =
        format!("127.0.0.1:{}", std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port());
    let (code, out) = provision(dir, &dead, &env, &[]);
    assert_eq!(code, 2, "{out}");
    assert!(out.contains("is a Kafka broker listening"), "{out}");
}
