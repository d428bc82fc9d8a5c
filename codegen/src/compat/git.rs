//! `check --against GIT_REF`: the registry and protos as they were at a git
//! revision, read through git (`git show`, `git ls-tree`, `git cat-file`)
//! and compiled in memory. Nothing is checked out and the working tree is
//! never touched, so it works in any CI checkout that has the revision.
//!
//! Shallow clones (`--depth 1`, the CI default) lack `HEAD~1`; that is
//! reported as such, with the fetch that fixes it.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use prost_reflect::DescriptorPool;
use protox::file::{ChainFileResolver, File, FileResolver, GoogleFileResolver};

use crate::diag::{Diagnostic, Diagnostics, Source};
use crate::project::Project;
use crate::protos::{self, normalize, Compiled, ProtoFile};
use crate::registry::{self, resolve};

/// Runs git in `dir`; `Err` carries git's stderr.
fn git(dir: &Path, args: &[&str], stdin: Option<&[u8]>) -> Result<Vec<u8>, String> {
    let mut cmd = Command::new("git");
    cmd.arg("-C").arg(dir).args(args).stdout(Stdio::piped()).stderr(Stdio::piped());
    cmd.stdin(if stdin.is_some() { Stdio::piped() } else { Stdio::null() });
    let mut child = cmd.spawn().map_err(|e| format!("cannot run git: {e}"))?;
    if let (Some(input), Some(mut pipe)) = (stdin, child.stdin.take()) {
        pipe.write_all(input).map_err(|e| format!("cannot talk to git: {e}"))?;
    }
    let out = child.wait_with_output().map_err(|e| format!("git failed: {e}"))?;
    if out.status.success() {
        Ok(out.stdout)
    } else {
        Err(String::from_utf8_lossy(&out.stderr).trim().to_owned())
    }
}

fn text(bytes: Vec<u8>) -> String {
    String::from_utf8_lossy(&bytes).trim_end().to_owned()
}

fn git_error(message: String, help: &str) -> Diagnostics {
    Diagnostic::error("git::error", message).help(help.to_owned()).into()
}

/// Loads the project at `rev`. `Ok(None)` when the registry file did not
/// exist at that revision (everything is new).
pub fn load_at(rev: &str, registry_path: &Path) -> Result<Option<Project>, Diagnostics> {
    let dir = registry_path.parent().filter(|d| !d.as_os_str().is_empty()).unwrap_or(Path::new("."));
    let top = git(dir, &["rev-parse", "--show-toplevel"], None).map(text).map_err(|e| {
        git_error(
            format!("`--against {rev}` needs a git repository, but `{}` is not in one: {e}", dir.display()),
            "run it inside the repository's working tree",
        )
    })?;
    let top = PathBuf::from(top);
    let commit = match git(&top, &["rev-parse", "--verify", "--quiet", &format!("{rev}^{{commit}}")], None) {
        Ok(c) => text(c),
        Err(_) => return Err(missing_revision(&top, rev).into()),
    };
    let rel = relative_to(&top, registry_path).ok_or_else(|| {
        git_error(
            format!("registry `{}` is not inside the repository at `{}`", registry_path.display(), top.display()),
            "pass a registry inside the repository with `--registry`",
        )
    })?;
    let registry_text = match git(&top, &["show", &format!("{commit}:{rel}")], None) {
        Ok(t) => String::from_utf8_lossy(&t).into_owned(),
        Err(_) => return Ok(None),
    };
    let source = Source::new(format!("{rev}:{rel}"), registry_text);
    let (registry, mut diags) = registry::parse(&source);
    let Some(registry) = registry.filter(|_| !diags.has_errors()) else {
        diags.sort();
        return Err(diags);
    };
    let rel_dir = Path::new(&rel).parent().unwrap_or(Path::new("")).to_path_buf();
    let roots: Vec<String> = registry
        .protos
        .include
        .iter()
        .map(|i| slash(&normalize(&rel_dir.join(&i.value))))
        .filter(|r| !r.starts_with(".."))
        .collect();
    let files = read_protos(&top, &commit, rev, &roots)?;
    let mut registry = registry;
    if registry.protos.files.iter().any(|f| protos::is_pattern(&f.value)) {
        // Patterns match the `.proto` files of the roots at `rev`.
        let names = files.keys().cloned().collect();
        let searched = roots.iter().map(|r| format!("`{rev}:{r}`")).collect::<Vec<_>>().join(", ");
        registry.protos.files = protos::expand(&registry, &names, &searched)?;
    }
    let compiled = compile(&registry, &files, rev)?;
    let resolved = resolve::resolve(&registry, &compiled.pool)?;
    let transport = crate::transport::model(&registry)?;
    Ok(Some(Project {
        registry_path: registry_path.to_path_buf(),
        registry,
        compiled,
        resolved,
        transport,
        warnings: diags,
    }))
}

fn missing_revision(top: &Path, rev: &str) -> Diagnostic {
    let shallow = git(top, &["rev-parse", "--is-shallow-repository"], None).map(text).is_ok_and(|s| s == "true");
    let mut d = Diagnostic::error("git::missing_revision", format!("revision `{rev}` is not in this repository"));
    if shallow {
        d = d
            .note(format!("this clone is shallow (made with `--depth`), so it lacks the history `{rev}` needs"))
            .help(format!(
                "fetch it first: `git fetch --deepen=1` (for `HEAD~1`) or `git fetch origin <branch>`; in GitHub Actions use `actions/checkout` with `fetch-depth: 0`. Then rerun `ampygen check --against {rev}`"
            ));
    } else {
        d = d
            .help("check the spelling (`git rev-parse {rev}`), or fetch the branch or tag first".replace("{rev}", rev));
    }
    d
}

fn slash(p: &Path) -> String {
    p.components().map(|c| c.as_os_str().to_string_lossy().into_owned()).collect::<Vec<_>>().join("/")
}

fn relative_to(top: &Path, path: &Path) -> Option<String> {
    let top = std::fs::canonicalize(top).ok()?;
    let abs = match std::fs::canonicalize(path) {
        Ok(p) => p,
        Err(_) => std::fs::canonicalize(path.parent()?).ok()?.join(path.file_name()?),
    };
    Some(slash(abs.strip_prefix(&top).ok()?))
}

/// Every `.proto` under the include roots at `commit`, by import name
/// (the first root that has a name wins, as with `-I`).
fn read_protos(
    top: &Path,
    commit: &str,
    rev: &str,
    roots: &[String],
) -> Result<BTreeMap<String, (String, String)>, Diagnostics> {
    let mut args = vec!["ls-tree", "-r", "-z", "--name-only", commit, "--"];
    args.extend(roots.iter().map(String::as_str));
    let listing = git(top, &args, None)
        .map_err(|e| git_error(format!("cannot list files at `{rev}`: {e}"), "check the revision"))?;
    let paths: Vec<String> = listing
        .split(|b| *b == 0)
        .filter(|p| p.ends_with(b".proto"))
        .map(|p| String::from_utf8_lossy(p).into_owned())
        .collect();
    let request: String = paths.iter().map(|p| format!("{commit}:{p}\n")).collect();
    let blob = git(top, &["cat-file", "--batch"], Some(request.as_bytes()))
        .map_err(|e| git_error(format!("cannot read files at `{rev}`: {e}"), "check the revision"))?;
    let mut contents = Vec::new();
    let mut rest: &[u8] = &blob;
    for _ in &paths {
        let Some(nl) = rest.iter().position(|b| *b == b'\n') else { break };
        let header = String::from_utf8_lossy(&rest[..nl]).into_owned();
        rest = &rest[nl + 1..];
        let size: Option<usize> = header.split(' ').nth(2).and_then(|s| s.parse().ok());
        match size {
            Some(size) if rest.len() > size => {
                contents.push(String::from_utf8_lossy(&rest[..size]).into_owned());
                rest = &rest[size + 1..];
            }
            _ => contents.push(String::new()),
        }
    }
    let mut files = BTreeMap::new();
    for root in roots {
        let prefix = if root == "." || root.is_empty() { String::new() } else { format!("{root}/") };
        for (path, content) in paths.iter().zip(&contents) {
            if let Some(name) = path.strip_prefix(&prefix) {
                files.entry(name.to_owned()).or_insert_with(|| (format!("{rev}:{path}"), content.clone()));
            }
        }
    }
    Ok(files)
}

/// Proto files held in memory, by import name.
struct Memory(BTreeMap<String, (String, String)>);

impl FileResolver for Memory {
    fn open_file(&self, name: &str) -> Result<File, protox::Error> {
        match self.0.get(name) {
            Some((_, text)) => File::from_source(name, text),
            None => Err(protox::Error::file_not_found(name)),
        }
    }
}

fn compile(
    registry: &registry::Registry,
    files: &BTreeMap<String, (String, String)>,
    rev: &str,
) -> Result<Compiled, Diagnostics> {
    let mut chain = ChainFileResolver::new();
    chain.add(Memory(files.clone()));
    chain.add(GoogleFileResolver::new());
    let mut compiler = protox::Compiler::with_file_resolver(chain);
    compiler.include_source_info(true).include_imports(true);
    for f in &registry.protos.files {
        if let Err(e) = compiler.open_file(&f.value) {
            return Err(Diagnostic::error("proto::compile", format!("the protos at `{rev}` do not compile: {e}"))
                .at(&registry.source, f.span.clone())
                .help(format!("`--against` needs a revision whose protos compile; pick another than `{rev}`"))
                .into());
        }
    }
    let pool: DescriptorPool = compiler.descriptor_pool();
    let mut seen = BTreeMap::new();
    for file in pool.files() {
        if let Some((display, text)) = files.get(file.name()) {
            seen.insert(
                file.name().to_owned(),
                ProtoFile { source: Source::new(display.clone(), text.clone()), path: None, outline: None, source_info: Default::default() },
            );
        }
    }
    Ok(Compiled { pool, files: seen, watched: Vec::new() })
}
