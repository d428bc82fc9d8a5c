//! Inputs that used to crash or crawl: each is a located diagnostic and
//! exit 2 from every command that reads it (docs/registry.md, "Limits"),
//! or, for large but valid input, a normal answer. Sizes, not timings:
//! the benchmarks print how long the big cases take.

mod common;

use std::path::Path;

use ampygen::limits::{MAX_IMPORT_DEPTH, MAX_NESTING, MAX_TYPE_DEPTH};
use common::{ampygen, default_layout};

const FX: &str = "proto/ampy/fx/v1/fx.proto";
const REGISTRY: &str = "registry/ampy.yaml";

/// Runs `args` with short diagnostics; returns (exit code, stderr).
fn run(dir: &Path, args: &[&str]) -> (Option<i32>, String) {
    let out = ampygen(dir).arg("--diagnostics").arg("short").args(args).output().expect("run");
    (out.status.code(), String::from_utf8_lossy(&out.stderr).into_owned())
}

/// Every command that loads the registry and its protos.
const COMMANDS: &[&[&str]] =
    &[&["check"], &["lock"], &["generate", "--lang", "rust", "--out", "out"], &["hash", "ampy.fx.v1.FxRate"]];

/// Asserts every command exits 2 with `located` (`file:line:col:
/// error[code]`) in its diagnostics and writes nothing.
fn all_commands_reject(dir: &Path, located: &str) {
    let before = common::snapshot_tree(dir);
    for args in COMMANDS {
        let (code, stderr) = run(dir, args);
        assert_eq!(code, Some(2), "{args:?}: {stderr}");
        assert!(stderr.contains(located), "{args:?}: expected `{located}` in:\n{stderr}");
        assert!(!stderr.contains("overflow") && !stderr.contains("panicked"), "{args:?}: {stderr}");
    }
    assert_eq!(common::snapshot_tree(dir), before, "a rejected input writes nothing");
}

/// Appends `extra` to fx.proto; returns its first line number.
fn append_to_fx(dir: &Path, extra: &str) -> usize {
    let path = dir.join(FX);
    let mut text = std::fs::read_to_string(&path).unwrap();
    let line = text.lines().count() + 1;
    text.push_str(extra);
    std::fs::write(&path, text).unwrap();
    line
}

#[test]
fn aggregate_options_nested_4500_deep_are_a_located_error() {
    let dir = default_layout();
    let depth = 4500;
    let value = format!("{}{}", "{a: ".repeat(depth), "}".repeat(depth));
    let line = append_to_fx(
        dir.path(),
        &format!(
            "import \"google/protobuf/descriptor.proto\";\nmessage Deep {{ Deep a = 1; }}\n\
             extend google.protobuf.FileOptions {{ Deep deep = 50001; }}\noption (deep) = {value};\n"
        ),
    );
    // The bracket that opens level MAX_NESTING + 1 of the option value.
    let col = "option (deep) = ".len() + "{a: ".len() * MAX_NESTING + 1;
    all_commands_reject(dir.path(), &format!("{FX}:{}:{col}: error[proto::too_deep]", line + 3));
}

#[test]
fn messages_nested_4500_deep_are_a_located_error() {
    let dir = default_layout();
    let depth = 4500;
    let nested: String = (0..depth).map(|i| format!("message M{i} {{ ")).collect::<String>() + &"}".repeat(depth);
    let line = append_to_fx(dir.path(), &format!("{nested}\n"));
    // The bracket that opens level MAX_NESTING + 1.
    let col = nested.match_indices('{').nth(MAX_NESTING).expect("deep enough").0 + 1;
    all_commands_reject(dir.path(), &format!("{FX}:{line}:{col}: error[proto::too_deep]"));
}

#[test]
fn a_registry_nested_4500_deep_is_a_located_error() {
    let dir = default_layout();
    let path = dir.path().join(REGISTRY);
    let mut text = std::fs::read_to_string(&path).unwrap();
    let line = text.lines().count() + 1;
    text.push_str(&format!("x: {}{}\n", "[".repeat(4500), "]".repeat(4500)));
    std::fs::write(&path, text).unwrap();
    let before = common::snapshot_tree(dir.path());
    for args in COMMANDS {
        let (code, stderr) = run(dir.path(), args);
        assert_eq!(code, Some(2), "{args:?}: {stderr}");
        assert!(stderr.contains(&format!("{REGISTRY}:{line}:")), "{args:?}: {stderr}");
    }
    assert_eq!(common::snapshot_tree(dir.path()), before);
}

#[test]
fn an_import_chain_longer_than_the_limit_is_a_located_error() {
    let dir = default_layout();
    let n = MAX_IMPORT_DEPTH + 50;
    let chain = dir.path().join("proto/chain");
    std::fs::create_dir_all(&chain).unwrap();
    for i in 0..n {
        let import = if i + 1 < n { format!("import \"chain/c{}.proto\";\n", i + 1) } else { String::new() };
        std::fs::write(
            chain.join(format!("c{i}.proto")),
            format!("syntax = \"proto3\";\npackage chain;\n{import}message C{i} {{}}\n"),
        )
        .unwrap();
    }
    let fx = dir.path().join(FX);
    let text = std::fs::read_to_string(&fx).unwrap().replacen("import ", "import \"chain/c0.proto\";\nimport ", 1);
    std::fs::write(&fx, text).unwrap();
    // fx.proto is link 1, c0 link 2, …: the file one past the limit is
    // imported by c{MAX_IMPORT_DEPTH - 2}, on its line 3 column 8.
    let parent = format!("c{}.proto", MAX_IMPORT_DEPTH - 2);
    let (code, stderr) = run(dir.path(), &["check"]);
    assert_eq!(code, Some(2), "{stderr}");
    assert!(stderr.contains(&format!("{parent}:3:8: error[proto::imports_too_deep]")), "{stderr}");
}

#[test]
fn a_type_chain_longer_than_the_limit_is_a_located_error_for_rust() {
    let dir = default_layout();
    let n = MAX_TYPE_DEPTH + 20;
    let mut extra = String::new();
    for i in 0..n {
        let field = if i + 1 < n { format!("T{} next = 1; ", i + 1) } else { String::new() };
        extra.push_str(&format!("message T{i} {{ {field}}}\n"));
    }
    append_to_fx(dir.path(), &extra);
    let fx = dir.path().join(FX);
    let text = std::fs::read_to_string(&fx).unwrap().replacen(
        "  ampy.common.v1.Meta meta = 9;\n",
        "  ampy.common.v1.Meta meta = 9;\n  T0 chain = 10;\n",
        1,
    );
    std::fs::write(&fx, text).unwrap();
    let (code, stderr) = run(dir.path(), &["generate", "--lang", "rust", "--out", "out"]);
    assert_eq!(code, Some(2), "{stderr}");
    // FxRate.chain (line 30) starts the longest chain: FxRate, T0, T1, ….
    assert!(stderr.contains(&format!("{FX}:30:3: error[generate::types_too_deep]")), "{stderr}");
    assert!(!dir.path().join("out").exists());
}

/// Writes the default registry with `envs` as a block list; returns the
/// line of the first entry.
fn envs_registry(dir: &Path, envs: &[String]) -> usize {
    let path = dir.join(REGISTRY);
    let text = std::fs::read_to_string(REGISTRY).unwrap();
    let list: String = envs.iter().map(|e| format!("  - {e}\n")).collect();
    let text = text.replacen("envs: [dev, paper, prod]\n", &format!("envs:\n{list}"), 1);
    let first = text[..text.find("  - ").unwrap()].lines().count() + 1;
    std::fs::write(&path, text).unwrap();
    first
}

#[test]
fn a_registry_with_100000_envs_validates() {
    let dir = default_layout();
    // The locked envs stay and 99,997 are added (a compatible change), so
    // `lock` records them and `check` then passes: both are linear.
    let envs: Vec<String> =
        ["dev", "paper", "prod"].into_iter().map(String::from).chain((3..100_000).map(|i| format!("env{i}"))).collect();
    envs_registry(dir.path(), &envs);
    let (code, stderr) = run(dir.path(), &["lock"]);
    assert_eq!(code, Some(0), "{stderr}");
    let (code, stderr) = run(dir.path(), &["check"]);
    assert_eq!(code, Some(0), "{stderr}");

    // One duplicate at the very end is found and located.
    let mut dup = envs;
    dup.push("env3".into());
    let first = envs_registry(dir.path(), &dup);
    let (code, stderr) = run(dir.path(), &["check"]);
    assert_eq!(code, Some(2), "{stderr}");
    let line = first + 100_000;
    assert!(stderr.contains(&format!("{REGISTRY}:{line}:5: error[registry::duplicate_key]")), "{stderr}");
}

#[test]
fn an_invalid_utf8_registry_is_located_with_a_hint() {
    let dir = default_layout();
    let path = dir.path().join(REGISTRY);
    let mut bytes = std::fs::read(&path).unwrap();
    // Line 9 is `envs: [dev, paper, prod]`: break the `a` of `paper`.
    let line_start = bytes.split(|b| *b == b'\n').take(8).map(|l| l.len() + 1).sum::<usize>();
    assert!(bytes[line_start..].starts_with(b"envs: [dev, paper"));
    bytes[line_start + 13] = 0xff;
    std::fs::write(&path, bytes).unwrap();
    for args in COMMANDS {
        let (code, stderr) = run(dir.path(), args);
        assert_eq!(code, Some(2), "{args:?}: {stderr}");
        assert!(stderr.contains(&format!("{REGISTRY}:9:14: error[io::not_utf8]")), "{args:?}: {stderr}");
        assert!(stderr.contains("byte 0xff") && stderr.contains("re-save the file as UTF-8"), "{stderr}");
    }
}

#[test]
fn an_invalid_utf8_proto_is_located_with_a_hint() {
    let dir = default_layout();
    let path = dir.path().join(FX);
    let mut bytes = std::fs::read(&path).unwrap();
    // Line 3 is `// Foreign-exchange rates.`; a Latin-1 `é` in column 4.
    let at = bytes.iter().position(|b| *b == b'F').unwrap();
    bytes.insert(at, 0xe9);
    std::fs::write(&path, bytes).unwrap();
    let (code, stderr) = run(dir.path(), &["check"]);
    assert_eq!(code, Some(2), "{stderr}");
    assert!(stderr.contains(&format!("{FX}:3:4: error[io::not_utf8]")), "{stderr}");
    assert!(stderr.contains("proto file is not valid UTF-8 (byte 0xe9"), "{stderr}");

    // The lock file too, as `check` reads it.
    let dir = default_layout();
    let lock = dir.path().join("registry/ampy.lock.json");
    let mut bytes = std::fs::read(&lock).unwrap();
    bytes.splice(1..1, [b'\n', 0xc3]);
    std::fs::write(&lock, bytes).unwrap();
    // `check` reports lock-file problems as a failed check (exit 1).
    let (code, stderr) = run(dir.path(), &["check"]);
    assert_eq!(code, Some(1), "{stderr}");
    assert!(stderr.contains("ampy.lock.json:2:1: error[io::not_utf8]"), "{stderr}");
    // `lock` refuses it (exit 2) instead of overwriting it unseen.
    let before = common::snapshot_tree(dir.path());
    let (code, stderr) = run(dir.path(), &["lock"]);
    assert_eq!(code, Some(2), "{stderr}");
    assert!(stderr.contains("ampy.lock.json:2:1: error[io::not_utf8]"), "{stderr}");
    assert_eq!(common::snapshot_tree(dir.path()), before, "nothing written");
}
