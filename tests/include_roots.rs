//! The include-root rule (docs/registry.md, "Include roots"): roots, files
//! and imports stay inside the repository that holds the registry unless
//! a root opts out with `outside: true`; the well-known types are built in.

mod common;

use std::path::{Path, PathBuf};

use common::{ampygen, copy_dir, scratch};

const REGISTRY: &str = "registry/ampy.yaml";
const INCLUDE: &str = "  include: [../proto]          # relative to this file\n";

/// `parent/repo` (a repository: `.git`, `registry/`, `proto/`) and
/// `parent/ext/proto`, a copy of the protos outside it.
fn layout() -> (tempfile::TempDir, PathBuf) {
    let parent = scratch();
    let repo = parent.path().join("repo");
    copy_dir(Path::new("registry"), &repo.join("registry"));
    copy_dir(Path::new("proto"), &repo.join("proto"));
    std::fs::create_dir_all(repo.join(".git")).unwrap();
    copy_dir(Path::new("proto"), &parent.path().join("ext/proto"));
    (parent, repo)
}

fn set_include(repo: &Path, line: &str) {
    let path = repo.join(REGISTRY);
    let text = std::fs::read_to_string(&path).unwrap();
    assert!(text.contains(INCLUDE));
    std::fs::write(&path, text.replace(INCLUDE, line)).unwrap();
}

fn check(repo: &Path) -> (Option<i32>, String) {
    let out = ampygen(repo).args(["--diagnostics", "short", "check"]).output().expect("run");
    (out.status.code(), String::from_utf8_lossy(&out.stderr).into_owned())
}

#[test]
fn the_default_layout_is_inside_and_well_known_types_resolve() {
    let (_parent, repo) = layout();
    let fx = std::fs::read_to_string(repo.join("proto/ampy/fx/v1/fx.proto")).unwrap();
    assert!(fx.contains("import \"google/protobuf/timestamp.proto\";"), "the fixture imports a well-known type");
    let (code, stderr) = check(&repo);
    assert_eq!(code, Some(0), "{stderr}");
    // From a subdirectory of the repository too: the boundary is the
    // repository, not the working directory.
    let out = ampygen(&repo.join("proto")).args(["check", "--registry", "../registry/ampy.yaml"]).output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
}

#[test]
fn roots_outside_the_repository_are_refused_at_the_entry() {
    let (parent, repo) = layout();
    let ext = parent.path().join("ext/proto");
    #[cfg(unix)]
    std::os::unix::fs::symlink(&ext, repo.join("linked")).unwrap();
    let mut cases = vec![format!("{}", ext.display()), "../../ext/proto".to_owned()];
    if cfg!(unix) {
        cases.push("../linked".to_owned());
    }
    for root in cases {
        set_include(&repo, &format!("  include: [{root}]\n"));
        let (code, stderr) = check(&repo);
        assert_eq!(code, Some(2), "{root}: {stderr}");
        assert!(stderr.contains(&format!("{REGISTRY}:12:13: error[proto::include_outside]")), "{root}: {stderr}");
        assert!(stderr.contains("outside: true"), "the hint names the opt-in: {stderr}");
        // Back to the default for the next case.
        let text = std::fs::read_to_string(repo.join(REGISTRY)).unwrap();
        std::fs::write(repo.join(REGISTRY), text.replace(&format!("  include: [{root}]\n"), INCLUDE)).unwrap();
    }
}

#[test]
fn outside_roots_need_the_explicit_opt_in() {
    let (parent, repo) = layout();
    std::fs::remove_dir_all(repo.join("proto")).unwrap();
    let ext = parent.path().join("ext/proto");
    for root in [ext.display().to_string(), "../../ext/proto".to_owned()] {
        set_include(&repo, &format!("  include:\n    - {{path: {root}, outside: true}}\n"));
        let (code, stderr) = check(&repo);
        assert_eq!(code, Some(0), "{root}: {stderr}");
        let text = std::fs::read_to_string(repo.join(REGISTRY)).unwrap();
        std::fs::write(
            repo.join(REGISTRY),
            text.replace(&format!("  include:\n    - {{path: {root}, outside: true}}\n"), INCLUDE),
        )
        .unwrap();
    }
    // Only a plain boolean opts in.
    set_include(&repo, "  include:\n    - {path: ../../ext/proto, outside: yes}\n");
    let (code, stderr) = check(&repo);
    assert_eq!(code, Some(2), "{stderr}");
    assert!(stderr.contains(&format!("{REGISTRY}:13:40: error[registry::wrong_type]")), "{stderr}");
}

#[cfg(unix)]
#[test]
fn a_proto_file_linked_from_outside_is_refused() {
    let (parent, repo) = layout();
    let fx = repo.join("proto/ampy/fx/v1/fx.proto");
    std::fs::remove_file(&fx).unwrap();
    std::os::unix::fs::symlink(parent.path().join("ext/proto/ampy/fx/v1/fx.proto"), &fx).unwrap();
    let (code, stderr) = check(&repo);
    assert_eq!(code, Some(2), "{stderr}");
    assert!(stderr.contains("error[proto::outside]") && stderr.contains("fx.proto"), "{stderr}");
    assert!(stderr.contains("outside: true"), "{stderr}");
}

#[test]
fn file_entries_with_dot_dot_or_absolute_paths_are_refused() {
    let (_parent, repo) = layout();
    let path = repo.join(REGISTRY);
    let text = std::fs::read_to_string(&path).unwrap();
    for bad in ["../../ext/proto/ampy/fx/v1/fx.proto", "/etc/hostname"] {
        std::fs::write(&path, text.replace("    - ampy/fx/v1/fx.proto\n", &format!("    - {bad}\n"))).unwrap();
        let (code, stderr) = check(&repo);
        assert_eq!(code, Some(2), "{bad}: {stderr}");
        assert!(
            stderr.contains(&format!("{REGISTRY}:18:7: error[proto::file_not_found]: `{bad}` is not an import name")),
            "{bad}: {stderr}"
        );
    }
}
