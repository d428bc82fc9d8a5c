//! The default registry through the real `ampygen` binary: check, lock,
//! hash and route, with the contract's worked examples as the oracle.

mod common;

use std::path::Path;

use common::{ampygen, default_layout, snapshot_tree};
use predicates::prelude::*;

/// The binary in the repository root, against the default registry.
fn cli() -> assert_cmd::Command {
    ampygen(Path::new("."))
}

#[test]
fn check_passes_on_the_default_registry() {
    cli().arg("check").assert().success().stdout(predicate::str::starts_with("ok: 17 topics, 15 payload schemas"));
}

/// One row of the oracle table in tests/payloads/README.md.
struct Row {
    file: String,
    topic: String,
    env: String,
    subject: String,
    key: String,
    error: String,
}

fn oracle() -> Vec<Row> {
    let readme = std::fs::read_to_string("tests/payloads/README.md").expect("payload README");
    let block = readme.split("```tsv\n").nth(1).and_then(|b| b.split("```").next()).expect("tsv block");
    block
        .lines()
        .map(|l| {
            let c: Vec<&str> = l.split('\t').collect();
            assert_eq!(c.len(), 7, "bad oracle row {l:?}");
            Row {
                file: c[0].into(),
                topic: c[1].into(),
                env: c[3].into(),
                subject: c[4].into(),
                key: c[5].into(),
                error: c[6].into(),
            }
        })
        .collect()
}

#[test]
fn route_gives_the_contract_subjects_and_keys_byte_for_byte() {
    let rows = oracle();
    assert!(rows.len() >= 20);
    // The contract's worked examples must all be in the oracle.
    for key in [
        "XNAS.AAPL",
        "MSFT.XNAS",
        "USD.JPY",
        "co_20250905_001",
        "ALPACA-LIVE-01|co_20250905_001",
        "ALPACA-LIVE-01|AAPL.XNAS",
        "hyper@2025-09-05|NVDA.XNAS",
        "ampy-oms|oms.order_rejects",
        "marketbeat:2025-09-05:amzn-headline-8b12c6",
    ] {
        assert!(rows.iter().any(|r| r.key == key), "no sample gives {key}");
    }
    for row in rows {
        let payload = format!("tests/payloads/{}", row.file);
        let out = cli()
            .args(["route", &row.topic, "--env", &row.env, "--payload", &payload, "--format", "json"])
            .output()
            .expect("run");
        let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
            panic!("{}: stdout is not JSON ({e}): {}", row.file, String::from_utf8_lossy(&out.stderr))
        });
        if row.error == "-" {
            assert_eq!(out.status.code(), Some(0), "{}: {}", row.file, String::from_utf8_lossy(&out.stderr));
            assert_eq!(json["subject"], row.subject.as_str(), "{}", row.file);
            assert_eq!(json["partition_key"], row.key.as_str(), "{}", row.file);
            let kafka = row.subject.splitn(5, '.').take(4).collect::<Vec<_>>().join(".");
            assert_eq!(json["kafka_topic"], kafka.as_str(), "{}", row.file);
        } else {
            assert_eq!(out.status.code(), Some(1), "{}: a payload that breaks the contract fails the check", row.file);
            assert_eq!(json["error"]["kind"], row.error.as_str(), "{}: {json}", row.file);
        }
    }
}

#[test]
fn route_errors_say_what_is_wrong() {
    cli()
        .args(["route", "bars.v1", "--env", "prod", "--payload", "tests/payloads/errors/bars-mixed.json"])
        .assert()
        .code(1)
        .stderr(predicate::str::contains("error[route::mixed_keys]"))
        .stderr(predicate::str::contains("element 0 has `AAPL`, element 1 has `MSFT`"));
    cli()
        .args(["route", "orders.v1", "--env", "paper", "--payload", "tests/payloads/errors/orders-empty-id.json"])
        .assert()
        .code(1)
        .stderr(predicate::str::contains("key field `client_order_id` (client_order_id) is empty or unset"));
    cli()
        .args(["route", "signals.v1", "--env", "prod", "--payload", "tests/payloads/errors/signals-illegal-token.json"])
        .assert()
        .code(1)
        .stderr(predicate::str::contains("value `hyper.v2` cannot be a subject token: it contains `.`"));
}

#[test]
fn route_reports_bad_usage_and_bad_json_with_exit_2() {
    cli()
        .args(["route", "bars.v1", "--env", "staging", "--payload", "tests/payloads/bars.json"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("unknown env `staging`; the registry has: dev, paper, prod"));
    cli()
        .args(["route", "bars.v9", "--env", "prod", "--payload", "tests/payloads/bars.json"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("no topic `bars.v9`"));
    cli()
        .args(["route", "ticks.v1", "--env", "prod", "--payload", "tests/payloads/bars.json"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("pick one of: ticks.v1.trade, ticks.v1.quote"));
    cli()
        .args(["route", "dlq.v1", "--env", "prod", "--payload", "tests/payloads/bars.json"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("is a dlq topic"));
    // A field of another message: proto JSON rejects unknown fields.
    cli()
        .args(["route", "orders.v1", "--env", "prod", "--payload", "tests/payloads/bars.json"])
        .assert()
        .code(2)
        .stderr(
            predicate::str::contains("tests/payloads/bars.json:")
                .and(predicate::str::contains("not valid proto3 JSON for `ampy.orders.v1.OrderRequest`")),
        );
    cli()
        .args(["route", "orders.v1", "--env", "prod", "--payload", "-"])
        .write_stdin("{\"clientOrderId\": \"co_1\",\n \"accountId\": 7}")
        .assert()
        .code(2)
        .stderr(predicate::str::contains("-:2:"));
}

#[test]
fn route_reads_stdin_and_names_the_dead_letter_subject() {
    let payload = std::fs::read_to_string("tests/payloads/fills.json").expect("sample");
    cli()
        .args(["route", "fills.v1", "--env", "prod", "--payload", "-", "--dlq"])
        .write_stdin(payload)
        .assert()
        .success()
        .stdout(predicate::str::contains("subject          ampy.prod.fills.v1.events\n"))
        .stdout(predicate::str::contains("partition_key    ALPACA-LIVE-01|co_20250905_001\n"))
        .stdout(predicate::str::contains("kafka_key        events ALPACA-LIVE-01|co_20250905_001\n"))
        .stdout(predicate::str::contains("dlq_subject      ampy.prod.dlq.v1.fills\n"));
}

/// Java's own partition (tests/vectors/kafka/partition-keys.tsv, written
/// by kafka-clients' `Utils.murmur2`) of the record key `route` prints, for
/// every partition count the vectors hold, and the registry's count when
/// `--partitions` is not given.
#[test]
fn route_places_the_record_on_javas_partition() {
    let tsv = std::fs::read_to_string("tests/vectors/kafka/partition-keys.tsv").expect("vectors");
    let routed = |partitions: Option<&str>| -> serde_json::Value {
        let mut cmd = cli();
        cmd.args(["route", "bars.v1", "--env", "prod", "--payload", "tests/payloads/bars.json", "--format", "json"]);
        if let Some(n) = partitions {
            cmd.args(["--partitions", n]);
        }
        let out = cmd.assert().success().get_output().stdout.clone();
        serde_json::from_slice(&out).expect("json")
    };
    let default = routed(None);
    let key = default["kafka_key"].as_str().expect("kafka_key").to_owned();
    assert_eq!(key, "XNAS.AAPL XNAS.AAPL");
    // The registry gives bars 6 partitions (the realtime tier's default).
    assert_eq!(default["kafka_partitions"], 6);
    let row: Vec<&str> = tsv
        .lines()
        .map(|l| l.split('\t').collect::<Vec<_>>())
        .find(|cols| cols[0] == format!("k:{}", b64(key.as_bytes())))
        .expect("the key is among the Java vectors");
    for (column, n) in [(2, "1"), (3, "3"), (4, "6"), (5, "12"), (6, "100")] {
        let got = routed(Some(n));
        assert_eq!(got["kafka_partition"].to_string(), row[column], "{n} partitions");
        assert_eq!(got["kafka_partitions"].to_string(), n);
    }
    assert_eq!(default["kafka_partition"].to_string(), row[4]);
    cli()
        .args(["route", "bars.v1", "--env", "prod", "--payload", "tests/payloads/bars.json", "--partitions", "0"])
        .assert()
        .code(2);
}

/// Standard base64 with padding, as the vectors spell keys.
fn b64(bytes: &[u8]) -> String {
    const A: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let n = chunk.iter().enumerate().fold(0u32, |n, (i, b)| n | u32::from(*b) << (16 - 8 * i));
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(A[(n >> (18 - 6 * i)) as usize & 63] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

#[test]
fn hash_prints_the_locked_hash_and_the_canonical_form() {
    let registry = std::fs::read_to_string("registry/ampy.yaml").expect("registry");
    let out = cli().args(["hash", "ampy.bars.v1.BarBatch"]).output().expect("run");
    assert!(out.status.success());
    let hash = String::from_utf8(out.stdout).expect("utf8");
    assert!(hash.starts_with("sha256:") && hash.len() == 7 + 64 + 1, "{hash:?}");
    assert!(registry.contains(&format!("schema_hash: \"{}\"", hash.trim())), "the registry locks the printed hash");
    cli()
        .args(["hash", "ampy.bars.v1.BarBatch", "--canonical"])
        .assert()
        .success()
        .stdout(predicate::str::starts_with("ampy-canonical-schema v1\nroot ampy.bars.v1.BarBatch\n"))
        .stdout(predicate::str::contains("message google.protobuf.Timestamp proto3\n"));
    cli()
        .args(["hash", "ampy.bars.v1.BarBach"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("did you mean `ampy.bars.v1.BarBatch`?"));
}

#[test]
fn lock_on_a_locked_registry_writes_nothing() {
    let dir = default_layout();
    let before = snapshot_tree(dir.path());
    let out = ampygen(dir.path()).arg("lock").output().expect("run");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(String::from_utf8_lossy(&out.stdout), "already locked: nothing to write\n");
    assert_eq!(snapshot_tree(dir.path()), before);
}

#[test]
fn lock_rewrites_only_the_hash_bytes_and_keeps_quoting() {
    let dir = default_layout();
    let path = dir.path().join("registry/ampy.yaml");
    let original = std::fs::read_to_string(&path).expect("read");
    let zeros = format!("sha256:{}", "0".repeat(64));
    let ones = format!("sha256:{}", "1".repeat(64));
    // Three hashes, three quoting styles, all wrong; one hash removed.
    let mut hashes = original.match_indices("schema_hash: \"").map(|(i, _)| i);
    let (a, b, c, d) = (hashes.next().unwrap(), hashes.next().unwrap(), hashes.next().unwrap(), hashes.next().unwrap());
    let line_end = |i: usize| original[i..].find('\n').unwrap() + i;
    let mut edited = original.clone();
    let mut edits = vec![
        (a, line_end(a), format!("schema_hash: {zeros}  # plain")),
        (b, line_end(b), format!("schema_hash: '{zeros}'")),
        (c, line_end(c), format!("schema_hash: \"{ones}\"")),
        (d, line_end(d) + 1, String::new()),
    ];
    edits.sort_by_key(|e| std::cmp::Reverse(e.0));
    let indent_d = original[..d].rsplit('\n').next().unwrap().len();
    for (start, end, text) in &edits {
        let start = if text.is_empty() { start - indent_d } else { *start };
        edited.replace_range(start..*end, text);
    }
    std::fs::write(&path, &edited).expect("write");
    ampygen(dir.path()).arg("check").assert().code(1);

    let out = ampygen(dir.path()).arg("lock").output().expect("run");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let relocked = std::fs::read_to_string(&path).expect("read");
    // Quoting styles and the trailing comment survive; only hash bytes and
    // the re-inserted line differ from the original.
    let expected = {
        let mut e = original.clone();
        let mut fix = edits.clone();
        fix.sort_by_key(|e| std::cmp::Reverse(e.0));
        for (start, end, text) in fix {
            if text.is_empty() {
                continue;
            }
            let hash = &original[start + "schema_hash: \"".len()..start + "schema_hash: \"".len() + 71];
            let restyled = text.replace(&zeros, hash).replace(&ones, hash);
            e.replace_range(start..end, &restyled);
        }
        e
    };
    assert_eq!(relocked, expected);
    ampygen(dir.path()).arg("check").assert().success();
}

#[test]
fn check_names_the_changed_field_and_points_into_the_proto() {
    let dir = default_layout();
    let proto = dir.path().join("proto/ampy/bars/v1/bars.proto");
    let text = std::fs::read_to_string(&proto).expect("read");
    assert!(text.contains("  int64 volume = 10;"));
    std::fs::write(&proto, text.replace("  int64 volume = 10;", "  double volume = 10;")).expect("write");
    let before = snapshot_tree(dir.path());
    let out = ampygen(dir.path()).args(["--diagnostics", "short", "check"]).output().expect("run");
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    let registry = std::fs::read_to_string(dir.path().join("registry/ampy.yaml")).expect("read");
    let locked_line = registry.lines().position(|l| l.contains("schema_hash")).expect("hash line") + 1;
    assert!(stderr.contains(&format!("registry/ampy.yaml:{locked_line}:")), "{stderr}");
    assert!(
        stderr.contains("error[check::hash_mismatch]: schema of `ampy.bars.v1.BarBatch` (topic `bars.v1.bars`)"),
        "{stderr}"
    );
    assert!(stderr.contains("locked:   sha256:") && stderr.contains("computed: sha256:"), "{stderr}");
    assert!(stderr.contains("ampy.bars.v1.Bar") && stderr.contains("volume"), "{stderr}");
    assert!(stderr.contains("int64") && stderr.contains("double"), "{stderr}");
    let field_line = text.lines().position(|l| l.contains("int64 volume = 10;")).expect("line") + 1;
    assert!(
        stderr.contains(&format!("--> proto/ampy/bars/v1/bars.proto:{field_line}:3: field `volume` changed")),
        "{stderr}"
    );
    // Only BarBatch reaches Bar; every other topic still checks. Besides
    // the hash mismatch, the gate classifies the change (see tests/mutations.rs).
    assert_eq!(stderr.matches("error[").count(), 2, "{stderr}");
    assert_eq!(stderr.matches("error[check::hash_mismatch]").count(), 1, "{stderr}");
    assert!(
        stderr.contains(&format!(
            "proto/ampy/bars/v1/bars.proto:{field_line}:3: error[compat::breaking_wire]: breaking change (wire): field `volume`"
        )),
        "{stderr}"
    );
    assert_eq!(snapshot_tree(dir.path()), before, "check writes nothing");
}

#[test]
fn check_fails_when_the_lock_file_is_missing_or_stale() {
    let dir = default_layout();
    let lock = dir.path().join("registry/ampy.lock.json");
    let text = std::fs::read_to_string(&lock).expect("read");
    std::fs::remove_file(&lock).expect("rm");
    let out = ampygen(dir.path()).args(["--diagnostics", "short", "check"]).output().expect("run");
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr)
        .contains("error[check::lock_stale]: lock file `registry/ampy.lock.json` is missing"));
    // A hand edit of a canonical block line (one item of `blocks`).
    let tampered = text.replacen(" optional implicit ", " optional explicit ", 1);
    assert_ne!(tampered, text);
    std::fs::write(&lock, tampered).expect("write");
    let out = ampygen(dir.path()).args(["--diagnostics", "short", "check"]).output().expect("run");
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("is out of date"));
    ampygen(dir.path()).arg("lock").assert().success();
    assert_eq!(std::fs::read_to_string(&lock).expect("read"), text);
}

#[test]
fn usage_errors_exit_2() {
    cli().arg("frobnicate").assert().code(2);
    cli().args(["route", "bars.v1"]).assert().code(2);
    cli()
        .args(["--registry", "nope/missing.yaml", "check"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("cannot read registry `nope/missing.yaml`"));
}

#[test]
fn output_is_deterministic_and_machine_independent() {
    let a = cli().args(["hash", "ampy.metrics.v1.Metric", "--canonical"]).output().expect("run").stdout;
    let b = cli().args(["hash", "ampy.metrics.v1.Metric", "--canonical"]).output().expect("run").stdout;
    assert_eq!(a, b);
    let lock = std::fs::read_to_string("registry/ampy.lock.json").expect("lock");
    let cwd = std::env::current_dir().expect("cwd");
    assert!(!lock.contains(&*cwd.to_string_lossy()), "no absolute paths in output");
    assert!(lock.contains(&format!("\"generator\": \"ampygen {}\"", env!("CARGO_PKG_VERSION"))));
    assert!(Path::new("registry/ampy.lock.json").exists());
}
