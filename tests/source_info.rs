//! ampygen keeps each proto file's source info beside the descriptor pool
//! rather than in it (codegen/src/protos.rs, `ProtoFile::source_info`).
//! What it hands the plugins (prost-build, protoc-gen-go) and the Python
//! stubs must still be, location for location and in order, what protox
//! itself produces with source info: compared here on every file of the
//! default and the hostile registry, custom options included, both when
//! the info is kept (`load`, for generating) and when it is parsed again
//! on demand (`load_to_check`, for the commands that only check).

mod common;

use std::path::Path;

use prost_reflect::prost_types::FileDescriptorProto;

/// Compares every file; returns how many source-info locations of
/// options (paths through an `options` field, which the pool rewrites)
/// were compared.
fn assert_restitched(registry: &Path, include: &Path) -> usize {
    // `load` keeps the detached info; `load_to_check` parses it again from
    // the file's text when first asked: both must restitch the same.
    let kept = assert_restitched_by(ampygen::load(registry).expect("loads"), include);
    let on_demand = assert_restitched_by(ampygen::load_to_check(registry).expect("loads"), include);
    assert_eq!(kept, on_demand);
    kept
}

fn assert_restitched_by(project: ampygen::Project, include: &Path) -> usize {
    let registry = project.registry_path.clone();
    let files: Vec<&str> = project.registry.protos.files.iter().map(|f| f.value.as_str()).collect();
    let reference = protox::compile(&files, [include]).expect("protox compiles");
    let mut with_info = 0;
    let mut options = 0;
    for file in project.compiled.pool.files() {
        let ours = project.compiled.file_descriptor_proto(&file);
        let theirs: &FileDescriptorProto =
            reference.file.iter().find(|f| f.name() == file.name()).expect("protox has the file");
        assert_eq!(&ours, theirs, "{}: restitched descriptor differs from protox's", file.name());
        let Some(info) = &ours.source_code_info else { continue };
        with_info += 1;
        // File (8), message (7), field (8 inside a field) options.
        options +=
            info.location.iter().filter(|l| l.path.windows(2).any(|w| matches!(w, [7 | 8, n] if *n > 0))).count();
    }
    assert!(with_info >= files.len(), "{}: {with_info} files with source info", registry.display());
    options
}

#[test]
fn the_default_registry_restitches_to_protox_output() {
    assert_restitched(Path::new("registry/ampy.yaml"), Path::new("proto"));
}

#[test]
fn options_keep_their_rewritten_locations() {
    let dir = common::default_layout();
    // The include boundary is the repository holding the registry.
    std::fs::create_dir(dir.path().join(".git")).expect("mkdir");
    let bars = dir.path().join("proto/ampy/bars/v1/bars.proto");
    let text = std::fs::read_to_string(&bars).expect("proto");
    let head = "package ampy.bars.v1;\n";
    let options = concat!(
        "package ampy.bars.v1;\n",
        "import \"google/protobuf/descriptor.proto\";\n",
        "// A custom option.\n",
        "extend google.protobuf.FieldOptions { string units = 50001; }\n",
        "option java_package = \"com.example.bars\";\n",
        "option optimize_for = SPEED;\n",
        "// Not in any payload.\n",
        "message Extra {\n",
        "  option deprecated = true;\n",
        "  int32 a = 1 [deprecated = true, (units) = \"ms\", json_name = \"aa\"];\n",
        "}\n",
    );
    assert!(text.contains(head));
    std::fs::write(&bars, text.replacen(head, options, 1)).expect("edit");
    let count = assert_restitched(&dir.path().join("registry/ampy.yaml"), &dir.path().join("proto"));
    assert!(count >= 5, "only {count} option locations compared");
}

#[test]
fn the_hostile_registry_restitches_to_protox_output() {
    assert_restitched(Path::new("tests/hostile/hostile.yaml"), Path::new("tests/hostile/proto"));
}
