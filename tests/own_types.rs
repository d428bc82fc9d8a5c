//! The user's own payload types (`targets.go.types_module`,
//! `targets.python.types`) through the real binary: the bindings import
//! the user's packages and modules and contain no payload types, go.mod
//! requires (and may replace) the user's module, and every way the user's
//! layout cannot be used is a diagnostic at its file:line:col with exit 2
//! and nothing written. The builds against real protoc output are
//! tests/byo/run.sh.

mod common;

use std::path::Path;

use common::{ampygen, default_layout, scratch, snapshot_tree};

/// The default registry in a scratch layout with its `targets:` block
/// replaced by `targets`.
fn with_targets(targets: &str) -> tempfile::TempDir {
    let dir = default_layout();
    let path = dir.path().join("registry/ampy.yaml");
    let text = std::fs::read_to_string(&path).expect("read registry");
    let start = text.find("\ntargets:\n").expect("targets block") + 1;
    let end = start + text[start..].find("\n\n").expect("end of targets block") + 1;
    std::fs::write(&path, format!("{}{targets}{}", &text[..start], &text[end..])).expect("write registry");
    dir
}

const GO_TARGETS: &str = "\
targets:
  go:
    module: example.com/acme/bus
    types: example.com/acmeprotos/gen/go
    types_module: example.com/acmeprotos v1.4.0
    types_replace: ../acmeprotos
    types_packages:
      ampy/bars/v1/bars.proto: example.com/acmeprotos/bars;barspb
";

#[test]
fn go_bindings_import_the_users_packages_and_need_no_plugin() {
    let dir = with_targets(GO_TARGETS);
    // No protoc-gen-go anywhere: the payload types are not generated.
    let out = ampygen(dir.path())
        .env("AMPYGEN_PROTOC_GEN_GO", dir.path().join("no-such-plugin"))
        .env("PATH", "")
        .args(["generate", "--lang", "go", "--out", "bus"])
        .output()
        .expect("run");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let files = snapshot_tree(&dir.path().join("bus"));
    assert!(files.keys().all(|p| p.parent() == Some(Path::new(""))), "only the bus package: {:?}", files.keys());
    let text = |name: &str| String::from_utf8(files[Path::new(name)].clone()).expect("utf-8");
    let go_mod = text("go.mod");
    assert!(
        go_mod.ends_with(
            "module example.com/acme/bus\n\ngo 1.23\n\nrequire (\n\texample.com/acmeprotos v1.4.0\n\t\
         google.golang.org/protobuf v1.36.12\n)\n\nreplace example.com/acmeprotos => ../acmeprotos\n"
        ),
        "{go_mod}"
    );
    let registry = text("registry.go");
    // types_packages first, then the prefix with the file's directory.
    assert!(registry.contains("\tbarsv1 \"example.com/acmeprotos/bars\"\n"), "{registry}");
    assert!(registry.contains("\tticksv1 \"example.com/acmeprotos/gen/go/ampy/ticks/v1\"\n"), "{registry}");
    assert!(!registry.contains("example.com/acme/bus/pb"), "{registry}");
    assert!(text("doc.go").contains("module example.com/acmeprotos"));
}

#[test]
fn a_go_package_option_places_its_file_and_is_validated_in_the_proto() {
    let dir = with_targets(
        "targets:\n  go:\n    module: example.com/acme/bus\n    types: example.com/acmeprotos/gen\n    \
         types_module: example.com/acmeprotos v0.0.0\n",
    );
    let proto = dir.path().join("proto/ampy/bars/v1/bars.proto");
    let text = std::fs::read_to_string(&proto).expect("read");
    let with_option = |value: &str| {
        text.replacen(
            "package ampy.bars.v1;\n",
            &format!("package ampy.bars.v1;\noption go_package = \"{value}\";\n"),
            1,
        )
    };
    std::fs::write(&proto, with_option("example.com/acmeprotos/flat/bars;barspb")).expect("write");
    ampygen(dir.path()).args(["generate", "--lang", "go", "--out", "bus"]).assert().success();
    let registry = std::fs::read_to_string(dir.path().join("bus/registry.go")).expect("read");
    assert!(registry.contains("\tbarsv1 \"example.com/acmeprotos/flat/bars\"\n"), "{registry}");
    assert!(registry.contains("\tordersv1 \"example.com/acmeprotos/gen/ampy/orders/v1\"\n"), "{registry}");

    // A go_package that is not an import path, or lies outside the module.
    for (value, want) in [
        ("example.com/acme protos", "proto/ampy/bars/v1/bars.proto:5:1: error[generate::go_types]"),
        ("example.org/elsewhere/bars", "registry/ampy.yaml:"),
    ] {
        std::fs::write(&proto, with_option(value)).expect("write");
        let out_dir = scratch();
        let before = snapshot_tree(out_dir.path());
        let out = ampygen(dir.path())
            .args(["--diagnostics", "short", "generate", "--lang", "go", "--out"])
            .arg(out_dir.path())
            .output()
            .expect("run");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{stderr}");
        assert!(stderr.contains(want) && stderr.contains("help: "), "{value}: {stderr}");
        assert_eq!(snapshot_tree(out_dir.path()), before, "nothing written");
        let check = ampygen(dir.path()).args(["--diagnostics", "short", "check"]).output().expect("run");
        assert_eq!(check.status.code(), Some(2), "check refuses what generate refuses");
    }
}

#[test]
fn files_the_registry_cannot_place_are_errors_at_the_registry() {
    let dir = default_layout();
    let text = std::fs::read_to_string("tests/registries/own-types/layout.yaml").expect("read case");
    std::fs::write(dir.path().join("registry/ampy.yaml"), &text).expect("write");
    let mut want: Vec<&str> = text.lines().filter_map(|l| l.strip_prefix("# expect: ")).collect();
    want.sort_unstable();
    for args in [&["check"][..], &["generate", "--lang", "go", "--out", "bus"]] {
        let out = ampygen(dir.path()).args(["--diagnostics", "short"]).args(args).output().expect("run");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{stderr}");
        let mut got: Vec<String> = stderr
            .lines()
            .filter(|l| l.contains(": error["))
            .map(|l| {
                let (at, rest) = l.split_once(": error[").expect("short diagnostic");
                format!("{} {at}", rest.split(']').next().unwrap_or_default())
            })
            .collect();
        got.sort_unstable();
        got.dedup();
        assert_eq!(got, want, "{args:?}:\n{stderr}");
        assert!(!dir.path().join("bus").exists(), "nothing written");
    }
}

#[test]
fn python_bindings_import_the_users_modules() {
    for (types, import) in [
        ("acme_protos", "from acme_protos.ampy.bars.v1 import bars_pb2 as _bars_pb2\n"),
        ("\"\"", "from ampy.bars.v1 import bars_pb2 as _bars_pb2\n"),
    ] {
        let dir = with_targets(&format!("targets:\n  python:\n    package: acmebus\n    types: {types}\n"));
        ampygen(dir.path()).args(["generate", "--lang", "python", "--out", "py"]).assert().success();
        let files = snapshot_tree(&dir.path().join("py"));
        assert!(!files.keys().any(|p| p.starts_with("acmebus/pb") || p.to_string_lossy().contains("_pb2")));
        let topics = String::from_utf8(files[Path::new("acmebus/topics.py")].clone()).expect("utf-8");
        assert!(topics.contains(import), "{types}: {topics}");
        assert!(!topics.contains("from .pb."), "{topics}");
    }
}

#[test]
fn the_users_modules_cannot_share_the_packages_top_level_name() {
    // protoc's top-level layout puts the modules under `ampy`; a generated
    // package `ampy.bus` would hide them.
    let dir = with_targets("targets:\n  python:\n    package: ampy.bus\n    types: \"\"\n");
    let out = ampygen(dir.path())
        .args(["--diagnostics", "short", "generate", "--lang", "python", "--out", "py"])
        .output()
        .expect("run");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("registry/ampy.yaml:33:12: error[generate::python_name]"), "{stderr}");
    assert!(!dir.path().join("py").exists());
}

#[test]
fn without_the_settings_nothing_changes() {
    // The default registry (no types_module, no python types) still
    // generates its own payload types; gen/ is that output (checked fresh
    // by scripts/test), so only the layout is asserted here.
    let dir = default_layout();
    ampygen(dir.path()).args(["generate", "--lang", "python", "--out", "py"]).assert().success();
    assert!(dir.path().join("py/ampybus/pb/ampy/bars/v1/bars_pb2.py").is_file());
}
