//! The build.rs API: what it writes, what it leaves alone, what it watches.

use std::path::{Path, PathBuf};
use std::time::SystemTime;

const REGISTRY: &str = "../registry/ampy.yaml";

fn mtimes(dir: &Path) -> Vec<(PathBuf, SystemTime)> {
    let mut v: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| {
            let e = e.unwrap();
            (e.path(), e.metadata().unwrap().modified().unwrap())
        })
        .collect();
    v.sort();
    v
}

#[test]
fn compile_writes_every_file_then_only_what_changed() {
    let out = tempfile::tempdir().unwrap();
    let config = ampygen::configure().registry(REGISTRY).out_dir(out.path()).emit_rerun_if_changed(false);
    config.clone().compile().unwrap();
    let first = mtimes(out.path());
    assert!(first.iter().any(|(p, _)| p.ends_with("ampygen.rs")));
    assert!(first.iter().any(|(p, _)| p.ends_with("ampy.bars.v1.rs")));
    assert!(
        !first.iter().any(|(p, _)| p.to_string_lossy().contains("google")),
        "well-known types come from prost-types"
    );
    std::thread::sleep(std::time::Duration::from_millis(20));
    config.compile().unwrap();
    assert_eq!(mtimes(out.path()), first, "an unchanged registry must not touch any file");
}

#[test]
fn a_bad_registry_writes_nothing_and_names_the_spot() {
    let dir = tempfile::tempdir().unwrap();
    let registry = dir.path().join("bad.yaml");
    std::fs::write(&registry, "format: 1\nnamespace: ampy\nenvs: [dev]\nbogus: 1\n").unwrap();
    let out = dir.path().join("out");
    let err =
        ampygen::configure().registry(&registry).out_dir(&out).emit_rerun_if_changed(false).compile().unwrap_err();
    let text = err.to_string();
    assert!(text.contains("bad.yaml:4:1"), "{text}");
    assert!(err.diagnostics().iter().any(|d| d.code == "registry::unknown_key"), "{text}");
    // Debug renders the same report, for `fn main() -> Result<(), Box<dyn Error>>`.
    assert_eq!(format!("{err:?}"), text);
    assert!(!out.exists());
}

/// A build script has no command line: its hints name `configure()`'s
/// methods, never CLI flags.
#[test]
fn a_missing_registry_is_named_the_build_script_way() {
    let dir = tempfile::tempdir().unwrap();
    let err = ampygen::configure()
        .registry(dir.path().join("missing.yaml"))
        .out_dir(dir.path().join("out"))
        .emit_rerun_if_changed(false)
        .compile()
        .unwrap_err();
    let text = err.to_string();
    assert!(text.contains("cannot read registry"), "{text}");
    assert!(text.contains("ampygen::configure().registry("), "{text}");
    assert!(!text.contains("--registry"), "CLI advice in a build-script error: {text}");
    // The command line keeps its own hint.
    let cli = ampygen::load(&dir.path().join("missing.yaml")).unwrap_err().render_plain();
    assert!(cli.contains("--registry PATH") && !cli.contains("configure()"), "{cli}");
}

#[test]
fn domains_limit_the_payloads_and_the_proto_files() {
    let (_, files) = ampygen::configure().registry(REGISTRY).domains(["bars", "fills"]).generate().unwrap();
    let names: Vec<&str> = files.keys().map(String::as_str).collect();
    // fills import orders (Side) and common; nothing else is generated.
    assert_eq!(names, ["ampy.bars.v1.rs", "ampy.common.v1.rs", "ampy.fills.v1.rs", "ampy.orders.v1.rs", "ampygen.rs"]);
    let tree = &files["ampygen.rs"];
    assert!(tree.contains("pub mod fills") && !tree.contains("pub mod positions"));
    let err = ampygen::configure().registry(REGISTRY).domains(["bras"]).generate().unwrap_err();
    assert!(err.to_string().contains("no domain `bras`"), "{err}");
}

#[test]
fn extern_paths_are_used_by_prost_and_the_bindings() {
    let (_, files) = ampygen::configure()
        .registry(REGISTRY)
        .domains(["bars"])
        .extern_path(".ampy.common.v1", "::ampy_common::v1")
        .generate()
        .unwrap();
    assert!(!files.contains_key("ampy.common.v1.rs"));
    assert!(files["ampy.bars.v1.rs"].contains("::ampy_common::v1::SecurityId"));
}

#[test]
fn rerun_if_changed_lists_the_registry_and_each_proto_read() {
    let project = ampygen::load(Path::new(REGISTRY)).unwrap();
    let paths = ampygen::rerun_if_changed(&project);
    assert_eq!(paths[0], Path::new(REGISTRY));
    let protos: Vec<String> = paths[1..].iter().map(|p| p.to_string_lossy().replace('\\', "/")).collect();
    assert_eq!(protos.len(), 14, "{protos:?}");
    assert!(protos.iter().all(|p| p.starts_with("../proto/ampy/") && p.ends_with(".proto")), "{protos:?}");
}

#[test]
fn rerun_if_changed_watches_the_roots_a_pattern_searched() {
    let dir = tempfile::tempdir().unwrap();
    let registry = dir.path().join("registry/ampy.yaml");
    std::fs::create_dir_all(dir.path().join("registry")).unwrap();
    let text = std::fs::read_to_string(REGISTRY).unwrap();
    let explicit = text.find("    - ampy/common/v1/common.proto").unwrap();
    let end = text[explicit..].find("\n\n").unwrap() + explicit;
    let patterned = format!("{}    - ampy/**/*.proto{}", &text[..explicit], &text[end..]);
    let root = std::fs::canonicalize("../proto").unwrap();
    // The real protos, from a registry outside the repository: an opted-in outside root.
    let include = format!("include:\n    - {{path: {}, outside: true}}", root.display());
    std::fs::write(&registry, patterned.replace("include: [../proto]", &include)).unwrap();
    let project = ampygen::load(&registry).unwrap();
    let paths = ampygen::rerun_if_changed(&project);
    assert_eq!(paths.len(), 1 + 14 + 1, "{paths:?}");
    assert_eq!(paths.last().unwrap(), &root, "the searched root, last: {paths:?}");
}

/// prost-build pastes attributes in as text and panics when the result
/// does not parse; through ampygen a bad one is a diagnostic naming the
/// option, and nothing is written.
#[test]
fn a_broken_attribute_is_an_error_not_a_panic() {
    let out = tempfile::tempdir().unwrap();
    let err = ampygen::configure()
        .registry(REGISTRY)
        .domains(["bars"])
        .out_dir(out.path())
        .emit_rerun_if_changed(false)
        .type_attribute(".ampy.bars.v1.Bar", "#[derive(Clone)]")
        .field_attribute(".ampy.bars.v1.Bar.open", "serde(skip)")
        .compile()
        .unwrap_err();
    let codes: Vec<&str> = err.diagnostics().iter().map(|d| d.code).collect();
    assert_eq!(codes, ["generate::bad_attribute"]);
    let text = err.to_string();
    assert!(text.contains(r#".field_attribute(".ampy.bars.v1.Bar.open", "serde(skip)")"#), "{text}");
    assert_eq!(std::fs::read_dir(out.path()).unwrap().count(), 0, "nothing written");
}

/// The options reach prost-build: each changes the generated payload code
/// (tests/rust-passthrough compiles and exercises such output).
#[test]
fn prost_options_change_the_payload_code() {
    let plain = ampygen::configure().registry(REGISTRY).domains(["metrics"]).generate().unwrap().1;
    let (_, files) = ampygen::configure()
        .registry(REGISTRY)
        .domains(["metrics"])
        .type_attribute(".ampy.metrics.v1.Metric", "#[derive(PartialOrd)]")
        .message_attribute(".ampy.metrics.v1", "#[doc(alias = \"msg\")]")
        .enum_attribute(".ampy.metrics.v1", "#[doc(alias = \"en\")]")
        .field_attribute(".ampy.metrics.v1.Metric.name", "#[doc(alias = \"metric_name\")]")
        .btree_map(["."])
        .generate()
        .unwrap();
    let before = &plain["ampy.metrics.v1.rs"];
    let code = &files["ampy.metrics.v1.rs"];
    for added in [
        "#[derive(PartialOrd)]",
        "#[doc(alias = \"msg\")]",
        "#[doc(alias = \"en\")]",
        "#[doc(alias = \"metric_name\")]",
    ] {
        assert!(code.contains(added) && !before.contains(added), "{added} missing:\n{code}");
    }
    assert!(before.contains("::std::collections::HashMap<") && !code.contains("HashMap<"), "{code}");
    assert!(code.contains("::alloc::collections::BTreeMap<"), "{code}");
    // A later `bytes`/`btree_map` call replaces the list, as in prost-build.
    let replaced = ampygen::configure()
        .registry(REGISTRY)
        .domains(["metrics"])
        .btree_map(["."])
        .btree_map([".nothing.Matches"])
        .generate()
        .unwrap()
        .1;
    assert_eq!(replaced["ampy.metrics.v1.rs"], *before);
}
