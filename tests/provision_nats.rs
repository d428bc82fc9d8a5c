//! `ampygen provision nats` against a real server: on an empty server, a
//! second time (no change), after a registry edit (the change shown, data
//! loss refused until allowed), and `--dry-run`.

#[path = "../examples/rust-app/tests/support/nats_server.rs"]
mod nats_server;

use std::path::Path;

use assert_cmd::Command;
use nats_server::Server;

/// The default registry and protos, copied so the test can edit them.
fn workspace() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    for sub in ["registry", "proto"] {
        copy_dir(&root.join(sub), &dir.path().join(sub));
    }
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

fn provision(dir: &Path, url: &str, env: &str, extra: &[&str]) -> (i32, String) {
    let out = Command::cargo_bin("ampygen")
        .unwrap()
        .current_dir(dir)
        .args(["provision", "nats", "--server", url, "--env", env])
        .args(extra)
        .output()
        .unwrap();
    let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    (out.status.code().unwrap_or(-1), text)
}

/// What the report says about one stream: the text after its name.
fn verb<'a>(out: &'a str, stream: &str) -> &'a str {
    out.lines().find_map(|l| l.strip_prefix(stream).filter(|rest| rest.starts_with(' '))).map_or("", str::trim)
}

#[test]
fn provision_creates_then_changes_nothing_then_shows_and_guards_edits() {
    let Some(server) = Server::start("provision_nats") else { return };
    let ws = workspace();
    let dir = ws.path();
    let url = server.url();

    // --dry-run on an empty server: what would be created, nothing created.
    let (code, out) = provision(dir, &url, "prod", &["--dry-run"]);
    assert_eq!(code, 0, "{out}");
    assert_eq!(verb(&out, "AMPY_PROD_BARS_V1"), "would create", "{out}");
    assert!(out.contains("14 streams: 14 would change, 0 unchanged"), "{out}");
    let (_, again) = provision(dir, &url, "prod", &["--dry-run"]);
    assert!(again.contains("14 would change"), "the dry run created nothing:\n{again}");

    // Empty server: every stream of the env, the DLQ stream included.
    let (code, out) = provision(dir, &url, "prod", &[]);
    assert_eq!(code, 0, "{out}");
    assert!(
        out.contains("AMPY_PROD_DLQ_V1") && out.contains("14 streams: 14 created, 0 updated, 0 unchanged"),
        "{out}"
    );

    // A second time: nothing to change, and it says so.
    let (code, out) = provision(dir, &url, "prod", &[]);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("14 streams: 0 created, 0 updated, 14 unchanged; nothing to change"), "{out}");

    // A registry edit that keeps data (a longer duplicate window for the
    // critical tier): shown and applied.
    let registry = dir.join("registry/ampy.yaml");
    let text = std::fs::read_to_string(&registry).unwrap();
    let text = text.replace("    max_age_hours: 720", "    max_age_hours: 720\n    duplicate_window_ms: 300000");
    std::fs::write(&registry, &text).unwrap();
    let (code, out) = provision(dir, &url, "prod", &["--dry-run"]);
    assert_eq!(code, 0, "{out}");
    assert_eq!(verb(&out, "AMPY_PROD_ORDERS_V1"), "would update", "{out}");
    assert!(out.contains("duplicate_window: 2m -> 5m"), "{out}");
    let (code, out) = provision(dir, &url, "prod", &[]);
    assert_eq!(code, 0, "{out}");
    assert!(verb(&out, "AMPY_PROD_ORDERS_V1") == "updated" && out.contains("4 updated"), "{out}");

    // Shorter retention would drop records: refused (exit 1) until allowed.
    let text = text.replace("    max_age_hours: 72\n", "    max_age_hours: 24\n");
    std::fs::write(&registry, &text).unwrap();
    let (code, out) = provision(dir, &url, "prod", &[]);
    assert_eq!(code, 1, "{out}");
    assert_eq!(verb(&out, "AMPY_PROD_BARS_V1"), "REFUSED", "{out}");
    assert!(out.contains("max_age: 72h -> 24h  (loses stored records)"), "{out}");
    assert!(out.contains("pass --allow-data-loss"), "{out}");
    let (code, out) = provision(dir, &url, "prod", &["--allow-data-loss"]);
    assert_eq!(code, 0, "{out}");
    let (_, out) = provision(dir, &url, "prod", &[]);
    assert!(out.contains("nothing to change"), "{out}");

    // Bad input and an unreachable server are exit 2.
    let (code, out) = provision(dir, &url, "staging", &[]);
    assert_eq!(code, 2, "{out}");
    let dead = format!(
        "nats://127.0.0.1:{}",
        std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
    );
    let (code, out) = provision(dir, &dead, "prod", &[]);
    assert_eq!(code, 2, "{out}");
}
