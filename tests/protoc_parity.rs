//! Parity of the canonical schema hash between descriptors produced by
//! `protoc` (what Go and Python runtimes link, via their generated code) and
//! by protox (what ampygen compiles in-process).
//!
//! If these ever disagree, a Go service and a Rust service built from the
//! same `.proto` files would stamp different schema hashes. scripts/test
//! installs `protoc` and sets `AMPYGEN_TEST_REQUIRE_PROTOC=1`, so there a
//! missing `protoc` fails loudly; a plain `cargo test` on a machine
//! without it (ampygen itself never runs protoc) skips with one line.

use std::collections::BTreeSet;
use std::env;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use ampygen::canonical::{canonical_form, schema_hash};
use prost_reflect::DescriptorPool;

const INSTALL_HINT: &str = "`protoc` was not found on PATH. The protoc parity test needs it: \
     install Debian's protobuf-compiler (and libprotobuf-dev for the well-known types), \
     e.g. `apt-get install protobuf-compiler libprotobuf-dev`. CI installs it.";

fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn parity_root() -> PathBuf {
    repo_root().join("tests/fixtures/parity")
}

const PARITY_FILES: [&str; 2] = ["ampy/parity/v1/legacy.proto", "ampy/parity/v1/modern.proto"];

/// `protoc` on PATH, or `None` after one line on stderr (a failure
/// under `AMPYGEN_TEST_REQUIRE_PROTOC=1`).
fn find_protoc(test: &str) -> Option<PathBuf> {
    let path = env::var_os("PATH").unwrap_or_default();
    let found = env::split_paths(&path).map(|dir| dir.join("protoc")).find(|candidate| candidate.is_file());
    if found.is_none() {
        assert!(env::var_os("AMPYGEN_TEST_REQUIRE_PROTOC").is_none(), "{INSTALL_HINT}");
        // Past the test harness's capture: the skip shows in a plain `cargo test`.
        let _ =
            std::io::Write::write_all(&mut std::io::stderr(), format!("skipping {test}: {INSTALL_HINT}\n").as_bytes());
    }
    found
}

/// Compiles `files` (names relative to `root`) with `protoc` into a pool.
fn protoc_pool(protoc: &Path, root: &Path, files: &[String]) -> DescriptorPool {
    let out = tempfile::tempdir().expect("tempdir");
    let set = out.path().join("set.pb");
    let mut cmd = Command::new(protoc);
    cmd.current_dir(root)
        .arg("--include_imports")
        .arg(format!("--descriptor_set_out={}", set.display()))
        .arg("-I")
        .arg(root);
    // Debian ships the well-known types with libprotobuf-dev.
    let system = Path::new("/usr/include");
    if system.join("google/protobuf/timestamp.proto").is_file() {
        cmd.arg("-I").arg(system);
    }
    cmd.args(files);
    let output = cmd.output().unwrap_or_else(|e| panic!("failed to run {}: {e}. {INSTALL_HINT}", protoc.display()));
    assert!(
        output.status.success(),
        "protoc failed on {files:?} in {}:\n{}",
        root.display(),
        String::from_utf8_lossy(&output.stderr)
    );
    let bytes = fs::read(&set).expect("read descriptor set");
    DescriptorPool::decode(bytes.as_slice()).expect("decode protoc descriptor set")
}

/// Compiles the same files with protox.
fn protox_pool(root: &Path, files: &[String]) -> DescriptorPool {
    let mut compiler = protox::Compiler::new([root]).expect("protox compiler");
    compiler.include_imports(true);
    if let Err(e) = compiler.open_files(files) {
        panic!("protox failed on {files:?} in {}: {e:?}", root.display());
    }
    compiler.descriptor_pool()
}

fn is_google(package: &str) -> bool {
    package == "google" || package.starts_with("google.")
}

/// Names of all non-map-entry messages outside google packages.
fn checked_messages(pool: &DescriptorPool) -> BTreeSet<String> {
    pool.all_messages()
        .filter(|m| !m.is_map_entry() && !is_google(m.parent_file().package_name()))
        .map(|m| m.full_name().to_owned())
        .collect()
}

/// Asserts identical canonical forms and hashes for every checked message;
/// returns how many messages were compared.
fn assert_parity(expected: &DescriptorPool, actual: &DescriptorPool, what: &str) -> usize {
    let names = checked_messages(expected);
    assert_eq!(names, checked_messages(actual), "{what}: both compilers must define the same messages");
    for name in &names {
        let (Some(a), Some(b)) = (expected.get_message_by_name(name), actual.get_message_by_name(name)) else {
            unreachable!("checked above");
        };
        let (fa, fb) = (canonical_form(&a), canonical_form(&b));
        assert_eq!(fa, fb, "{what}: canonical form of {name} differs");
        assert_eq!(schema_hash(&a), schema_hash(&b), "{what}: hash of {name} differs");
    }
    names.len()
}

fn parity_files() -> Vec<String> {
    PARITY_FILES.iter().map(|f| (*f).to_owned()).collect()
}

#[test]
fn protoc_answers_its_version() {
    // A separate, obvious failure instead of a confusing one deeper down.
    let Some(protoc) = find_protoc("protoc_answers_its_version") else { return };
    let output = Command::new(&protoc)
        .arg("--version")
        .output()
        .unwrap_or_else(|e| panic!("failed to run {}: {e}. {INSTALL_HINT}", protoc.display()));
    assert!(output.status.success(), "{INSTALL_HINT}");
}

#[test]
fn parity_fixture_protoc_vs_protox() {
    let Some(protoc) = find_protoc("parity_fixture_protoc_vs_protox") else { return };
    let root = parity_root();
    let files = parity_files();
    let from_protoc = protoc_pool(&protoc, &root, &files);
    let from_protox = protox_pool(&root, &files);
    let n = assert_parity(&from_protoc, &from_protox, "parity fixture");
    // Legacy, Legacy.Fill, Legacy.Repeat, Aux, Wrapper, Wrapper.Item, Modern,
    // Modern.Inner, UsesLevel.
    assert_eq!(n, 9, "fixture message count changed; update this test");

    // The fixture really exercises the risky tokens (guards against the
    // fixture silently losing coverage).
    let legacy = from_protoc.get_message_by_name("ampy.parity.v1.Legacy").expect("Legacy");
    let form = canonical_form(&legacy);
    for needle in [
        " group(ampy.parity.v1.Legacy.Fill) ",
        " required explicit string ",
        " packed",
        " default=0x7ff0000000000000", // float inf
        " default=0xfff0000000000000", // float -inf
        " default=0x7ff8000000000000", // nan
        " default=0x8000000000000000", // -0.0
        " default=MODE_B",
        " default=-9223372036854775808",
        r#" default="\x00\xffab\"\\\x7f""#,
        r#" default="q\"uote\\back\x0anl\x09tab \xc3\xa9 A\x01 'single' ?""#,
        r#" json="custom_JSON""#,
        " map(string,message(ampy.parity.v1.Aux)) ",
        " oneof=choice",
        "message ampy.parity.v1.Aux proto2",
        "enum ampy.parity.v1.Mode proto2",
    ] {
        assert!(form.contains(needle), "missing {needle:?} in:\n{form}");
    }
    assert!(!form.contains("aux_ext"), "extensions must not be followed");

    let modern = from_protoc.get_message_by_name("ampy.parity.v1.Modern").expect("Modern");
    let form = canonical_form(&modern);
    for needle in [
        "  field 1 maybe optional explicit int32 json=\"maybe\"\n",
        "  field 9 unpacked repeated implicit uint32 json=\"unpacked\"\n",
        "  field 8 samples repeated implicit double json=\"samples\" packed\n",
        " map(int64,enum(ampy.parity.v1.Modern.Inner.Color)) ",
        "message google.protobuf.Timestamp proto3\n",
        "message google.protobuf.Duration proto3\n",
        "message ampy.parity.v1.Legacy proto2\n",
        " json=\"fieldWithUPPERAnd2Digits\"",
    ] {
        assert!(form.contains(needle), "missing {needle:?} in:\n{form}");
    }
}

/// Adds buf-managed-mode style file options right after the package line.
fn with_managed_options(source: &str, file: &str) -> String {
    let stem = Path::new(file).file_stem().and_then(|s| s.to_str()).unwrap_or("file");
    let options = format!(
        "\noption go_package = \"example.invalid/gen/go/ampy/parity/v1;parityv1\";\n\
         option java_package = \"com.example.ampy.parity.v1\";\n\
         option java_multiple_files = true;\n\
         option java_outer_classname = \"{stem}Proto\";\n\
         option csharp_namespace = \"Ampy.Parity.V1\";\n\
         option objc_class_prefix = \"APX\";\n\
         option php_namespace = \"Ampy\\\\Parity\\\\V1\";\n\
         option ruby_package = \"Ampy::Parity::V1\";\n\
         option swift_prefix = \"APX\";\n\
         option optimize_for = CODE_SIZE;\n\
         option cc_enable_arenas = true;\n"
    );
    let anchor = "package ampy.parity.v1;\n";
    assert!(source.contains(anchor), "{file} lacks {anchor:?}");
    source.replacen(anchor, &format!("{anchor}{options}"), 1)
}

#[test]
fn managed_options_under_protoc_hash_like_plain_under_protox() {
    let Some(protoc) = find_protoc("managed_options_under_protoc_hash_like_plain_under_protox") else { return };
    let plain_root = parity_root();
    let files = parity_files();
    let managed = tempfile::tempdir().expect("tempdir");
    for file in &files {
        let source = fs::read_to_string(plain_root.join(file)).expect("read fixture");
        let target = managed.path().join(file);
        fs::create_dir_all(target.parent().expect("parent")).expect("mkdir");
        fs::write(&target, with_managed_options(&source, file)).expect("write");
    }
    let managed_protoc = protoc_pool(&protoc, managed.path(), &files);
    // Sanity: the options really are in the protoc output.
    let legacy = managed_protoc.get_message_by_name("ampy.parity.v1.Legacy").expect("Legacy");
    let opts = legacy.parent_file().file_descriptor_proto().options.clone();
    assert_eq!(opts.and_then(|o| o.csharp_namespace), Some("Ampy.Parity.V1".to_owned()));
    let plain_protox = protox_pool(&plain_root, &files);
    let n = assert_parity(&managed_protoc, &plain_protox, "managed vs plain");
    assert_eq!(n, 9);
}

fn collect_protos(dir: &Path, root: &Path, out: &mut Vec<String>) {
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    let mut paths: Vec<PathBuf> = entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
    paths.sort();
    for path in paths {
        if path.is_dir() {
            collect_protos(&path, root, out);
        } else if path.extension().is_some_and(|e| e == "proto") {
            if let Ok(rel) = path.strip_prefix(root) {
                // protoc and protox both want '/'-separated names.
                let name: Vec<String> =
                    rel.components().map(|c| c.as_os_str().to_string_lossy().into_owned()).collect();
                out.push(name.join("/"));
            }
        }
    }
}

#[test]
fn repo_protos_protoc_vs_protox() {
    let Some(protoc) = find_protoc("repo_protos_protoc_vs_protox") else { return };
    let root = repo_root().join("proto");
    if !root.is_dir() {
        // No schema tree in this checkout: nothing to compare.
        return;
    }
    let mut files = Vec::new();
    collect_protos(&root, &root, &mut files);
    assert!(!files.is_empty(), "{} exists but contains no .proto files", root.display());
    let from_protoc = protoc_pool(&protoc, &root, &files);
    let from_protox = protox_pool(&root, &files);
    let n = assert_parity(&from_protoc, &from_protox, "proto/");
    assert!(n > 0, "no messages found under {}", root.display());
}
