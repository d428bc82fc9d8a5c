//! Driving protoc-gen-go as a protoc plugin, without protoc: the request
//! is built from protox's descriptors, written to the plugin's stdin, and
//! the response's files become part of the output tree.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use prost_reflect::prost::Message as _;
use prost_reflect::prost_types::compiler::{CodeGeneratorRequest, CodeGeneratorResponse};
use prost_reflect::{prost_types, FileDescriptor};

use crate::diag::Diagnostic;
use crate::generate::Files;
use crate::Project;

/// The protoc-gen-go release the generated package is built and tested
/// with; go.mod requires the matching google.golang.org/protobuf.
pub const PLUGIN_VERSION: &str = "v1.36.12";

/// The generated module's go.sum: exactly what `go mod tidy` records for
/// google.golang.org/protobuf at [`PLUGIN_VERSION`] (its go.mod pulls in
/// go-cmp), so the module builds, vets and tidies on its own. go.sum admits
/// no comments, so unlike every other file it carries no ampygen header.
/// `tests/go/run.sh` proves it with `go mod tidy -diff` and a
/// `-mod=readonly` build of every generated module.
pub const GO_SUM: &str = "\
github.com/google/go-cmp v0.7.0 h1:wk8382ETsv4JYUZwIsn6YpYiWiBsYLSJiTsyBybVuN8=
github.com/google/go-cmp v0.7.0/go.mod h1:pXiqmnSA92OHEEa9HXL2W4E7lf9JzCmGVUdgjX3N/iU=
google.golang.org/protobuf v1.36.12 h1:pJOKDDOyeXErUroCihFAd5LQuwXBSpVnKGrj5o/fwxc=
google.golang.org/protobuf v1.36.12/go.mod h1:HTf+CrKn2C3g5S8VImy6tdcUvCska2kB7j23XfzDpco=
";

/// Environment variable naming the plugin binary explicitly.
pub const PLUGIN_ENV: &str = "AMPYGEN_PROTOC_GEN_GO";

fn install_help() -> String {
    format!(
        "install it with `go install google.golang.org/protobuf/cmd/protoc-gen-go@{PLUGIN_VERSION}` \
         (it lands in `$(go env GOPATH)/bin`), run this repository's `scripts/install-protoc-gen-go` \
         (it puts it in `target/tools`, where ampygen looks first), or point {PLUGIN_ENV} at the binary"
    )
}

/// Finds the plugin: `$AMPYGEN_PROTOC_GEN_GO`, then the project's pinned
/// copy ([`project_pinned`]), then `PATH`, then `$GOBIN`, `$GOPATH/bin` and
/// `~/go/bin` (where `go install` puts it), and only then asks `go env` (a
/// subprocess) for GOBIN and GOPATH.
pub fn find() -> Result<PathBuf, Diagnostic> {
    if let Some(p) = std::env::var_os(PLUGIN_ENV).filter(|p| !p.is_empty()) {
        let p = PathBuf::from(p);
        if p.is_file() {
            return Ok(p);
        }
        return Err(Diagnostic::error(
            "generate::go_plugin",
            format!("{PLUGIN_ENV} is set to `{}`, which is not a file", p.display()),
        )
        .help(install_help()));
    }
    let exe = if cfg!(windows) { "protoc-gen-go.exe" } else { "protoc-gen-go" };
    if let Some(p) = std::env::current_dir().ok().and_then(|cwd| project_pinned(&cwd, exe)) {
        return Ok(p);
    }
    let found = |dirs: Vec<PathBuf>| dirs.into_iter().map(|d| d.join(exe)).find(|p| p.is_file());
    let mut dirs: Vec<PathBuf> =
        std::env::var_os("PATH").map(|p| std::env::split_paths(&p).collect()).unwrap_or_default();
    dirs.extend(std::env::var_os("GOBIN").filter(|p| !p.is_empty()).map(PathBuf::from));
    dirs.extend(std::env::var_os("GOPATH").filter(|p| !p.is_empty()).map(|p| PathBuf::from(p).join("bin")));
    dirs.extend(std::env::var_os("HOME").map(|h| PathBuf::from(h).join("go").join("bin")));
    found(dirs)
        .or_else(|| found(go_env("GOBIN").into_iter().chain(go_env("GOPATH").map(|p| p.join("bin"))).collect()))
        .ok_or_else(|| {
            Diagnostic::error("generate::go_plugin", "protoc-gen-go was not found (needed for the Go payload types)")
                .help(install_help())
        })
}

/// `target/tools/protoc-gen-go` in `start` or the nearest ancestor that
/// has one, stopping at the repository root (the first directory with a
/// `.git`): where `scripts/install-protoc-gen-go` puts the pinned release,
/// so `ampygen generate` run by hand finds what the scripts installed.
/// Looking no higher than the repository keeps an unrelated checkout's
/// plugin out.
fn project_pinned(start: &Path, exe: &str) -> Option<PathBuf> {
    for dir in start.ancestors() {
        let candidate = dir.join("target").join("tools").join(exe);
        if candidate.is_file() {
            return Some(candidate);
        }
        if dir.join(".git").exists() {
            break;
        }
    }
    None
}

fn go_env(var: &str) -> Option<PathBuf> {
    let out = Command::new("go").args(["env", var]).stderr(Stdio::null()).output().ok()?;
    let s = String::from_utf8(out.stdout).ok()?;
    let first = s.lines().next()?.trim().to_owned();
    (!first.is_empty()).then(|| PathBuf::from(first))
}

/// Checks that the plugin is the pinned release: another release writes
/// other bytes, and the committed output would never be fresh.
fn check_version(plugin: &Path) -> Result<(), Diagnostic> {
    let out = Command::new(plugin).arg("--version").output().map_err(|e| {
        Diagnostic::error("generate::go_plugin", format!("cannot run `{}`: {e}", plugin.display())).help(install_help())
    })?;
    let text = String::from_utf8_lossy(&out.stdout);
    let version = text.split_whitespace().last().unwrap_or_default();
    if version != PLUGIN_VERSION {
        return Err(Diagnostic::error(
            "generate::go_plugin",
            format!("`{}` is protoc-gen-go {version}, but ampygen's Go target pins {PLUGIN_VERSION}", plugin.display()),
        )
        .help(format!("the generated go.mod requires google.golang.org/protobuf {PLUGIN_VERSION}, and output must not depend on the machine; {}", install_help())));
    }
    Ok(())
}

/// Every file of the pool in dependency order (each after its imports),
/// as protoc orders `proto_file`.
fn ordered_files(project: &Project) -> Vec<FileDescriptor> {
    fn visit(f: FileDescriptor, seen: &mut Vec<String>, out: &mut Vec<FileDescriptor>) {
        if seen.iter().any(|s| s == f.name()) {
            return;
        }
        seen.push(f.name().to_owned());
        for dep in f.dependencies() {
            visit(dep, seen, out);
        }
        out.push(f);
    }
    let mut seen = Vec::new();
    let mut out = Vec::new();
    for f in project.compiled.pool.files() {
        visit(f, &mut seen, &mut out);
    }
    out
}

/// Whether protoc-gen-go already knows the file's Go package (the
/// well-known types, which live in google.golang.org/protobuf).
pub fn is_builtin(file: &str) -> bool {
    file.starts_with("google/protobuf/")
}

/// Runs the plugin over every non-builtin file. `mappings` is
/// `(file, import path, package name)`; `module` strips the module prefix
/// from output paths.
pub fn run(project: &Project, module: &str, mappings: &[(String, String, String)]) -> Result<Files, Diagnostic> {
    let plugin = find()?;
    check_version(&plugin)?;
    let mut parameter = format!("module={module}");
    for (file, path, name) in mappings {
        parameter.push_str(&format!(",M{file}={path};{name}"));
    }
    let files = ordered_files(project);
    let request = CodeGeneratorRequest {
        file_to_generate: files.iter().map(|f| f.name().to_owned()).filter(|n| !is_builtin(n)).collect(),
        parameter: Some(parameter),
        proto_file: files
            .iter()
            .map(|f| project.compiled.file_descriptor_proto(f))
            .collect::<Vec<prost_types::FileDescriptorProto>>(),
        // Absent, so headers say `protoc (unknown)` instead of a version
        // of a protoc that never ran.
        compiler_version: None,
    };
    let bytes = request.encode_to_vec();
    let fail = |what: String| {
        Diagnostic::error("generate::go_plugin", format!("running `{}`: {what}", plugin.display())).help(install_help())
    };
    let mut child = Command::new(&plugin)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| fail(e.to_string()))?;
    let mut stdin = child.stdin.take().ok_or_else(|| fail("no stdin".into()))?;
    // Write from a thread while the output is read: the plugin may fill its
    // stdout pipe before it has read all of stdin. wait_with_output reads
    // stdout and stderr together, so neither pipe can block the other.
    let writer = std::thread::spawn(move || stdin.write_all(&bytes));
    let output = child.wait_with_output().map_err(|e| fail(e.to_string()))?;
    let _ = writer.join();
    if !output.status.success() {
        return Err(fail(format!(
            "it exited with {}: {}",
            output.status,
            String::from_utf8_lossy(&output.stderr).trim()
        )));
    }
    let stdout = output.stdout;
    let response = CodeGeneratorResponse::decode(stdout.as_slice())
        .map_err(|e| fail(format!("its response does not decode ({e})")))?;
    if let Some(error) = response.error {
        return Err(Diagnostic::error("generate::go_plugin", format!("protoc-gen-go rejected the protos: {error}"))
            .help(
                "the mapping of proto packages to Go packages comes from `targets.go` in the registry (docs/go.md)",
            ));
    }
    let mut out = Files::new();
    for f in response.file {
        let (Some(name), Some(content)) = (f.name, f.content) else { continue };
        if f.insertion_point.is_some_and(|p| !p.is_empty())
            || name.starts_with('/')
            || name.split('/').any(|s| s == "..")
        {
            return Err(fail(format!("it returned an unexpected file `{name}`")));
        }
        out.insert(name, content);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::project_pinned;

    #[test]
    fn the_pinned_plugin_is_found_up_to_the_repository_root_and_no_higher() {
        let tmp = tempfile::tempdir().unwrap();
        let outer = tmp.path();
        let repo = outer.join("repo");
        let deep = repo.join("a").join("b");
        std::fs::create_dir_all(&deep).unwrap();
        std::fs::create_dir_all(repo.join(".git")).unwrap();
        // A plugin above the repository is not ours.
        std::fs::create_dir_all(outer.join("target/tools")).unwrap();
        std::fs::write(outer.join("target/tools/protoc-gen-go"), b"").unwrap();
        assert_eq!(project_pinned(&deep, "protoc-gen-go"), None);
        std::fs::create_dir_all(repo.join("target/tools")).unwrap();
        std::fs::write(repo.join("target/tools/protoc-gen-go"), b"").unwrap();
        assert_eq!(project_pinned(&deep, "protoc-gen-go"), Some(repo.join("target/tools/protoc-gen-go")));
        assert_eq!(project_pinned(&repo, "protoc-gen-go"), Some(repo.join("target/tools/protoc-gen-go")));
    }
}
