//! The result cache of `ampygen check` (opt-in: `AMPYGEN_CACHE_DIR`).
//!
//! A passing `check` (exit 0, no finding at all) is recorded under a key of
//! everything that names the run (ampygen's version and executable, the
//! working directory, the registry argument, the output format) together
//! with every input it read: the registry, the lock file and each proto
//! file by content hash, every include-root path that an import could
//! have resolved to instead and that did not exist, and, when the
//! registry lists protos by pattern, every `.proto` path under the roots
//! the patterns searched. The next identical run re-hashes those inputs
//! and, when every one is unchanged, prints the recorded output without
//! compiling anything.
//!
//! A proto file whose bytes changed is parsed alone: when it still
//! declares exactly what it did ([`ampygen::protos::fingerprint`]: the
//! same package, imports, types and options; only comments, layout or
//! positions differ), the whole tree compiles to the same descriptors, and
//! a passing run prints nothing that depends on positions, so the recorded
//! output is still the answer. The entry is then updated to the new bytes.
//! Any other change (a declaration, the registry, the lock) runs the check
//! in full.
//!
//! Correctness comes first: an entry is only used when its checksum, its
//! version and every input match; anything else (a corrupt, truncated or
//! foreign file, a changed or new input, a pending `lock` journal) is
//! ignored and the check runs in full. Failing runs are never cached, so
//! diagnostics always come from a real run. The directory holds nothing
//! else and is safe to delete at any time; never commit it.

use std::path::{Path, PathBuf};

use ampygen::ownership::file_hash;
use ampygen::Project;
use serde_json::{json, Value};

/// The environment variable naming the cache directory.
pub const CACHE_DIR_ENV: &str = "AMPYGEN_CACHE_DIR";

/// Entry format; an entry of another format is ignored.
const FORMAT: &str = "ampygen-check-cache 2";

/// One run's identity: where its entry lives.
pub struct Key {
    path: PathBuf,
    registry: PathBuf,
}

impl Key {
    /// The key of `check` on `registry` printed as `format`; `None` when
    /// caching is off (`AMPYGEN_CACHE_DIR` unset or empty) or the run
    /// cannot be named (no working directory, no executable).
    pub fn new(registry: &Path, format: &str) -> Option<Key> {
        let dir = std::env::var_os(CACHE_DIR_ENV).filter(|d| !d.is_empty())?;
        let exe = std::env::current_exe().ok()?;
        let meta = std::fs::metadata(&exe).ok()?;
        let modified = meta.modified().ok()?.duration_since(std::time::UNIX_EPOCH).ok()?;
        let cwd = std::env::current_dir().ok()?;
        // A rebuilt binary has another size or mtime, so entries written by
        // another build are never read.
        let name = json!([
            FORMAT,
            env!("CARGO_PKG_VERSION"),
            exe.display().to_string(),
            meta.len(),
            modified.as_nanos().to_string(),
            cwd.display().to_string(),
            registry.display().to_string(),
            format,
        ]);
        let hash = file_hash(name.to_string().as_bytes());
        let file = format!("check-{}.json", &hash["sha256:".len()..][..32]);
        Some(Key { path: PathBuf::from(dir).join(file), registry: registry.to_path_buf() })
    }

    /// The recorded output, when the entry is intact and every input is
    /// unchanged, or changed only in what no passing run can show.
    pub fn lookup(&self) -> Option<String> {
        if ampygen::commit::journal_path(&self.registry).exists() {
            return None;
        }
        let text = std::fs::read_to_string(&self.path).ok()?;
        let outer: Value = serde_json::from_str(&text).ok()?;
        let inner = outer.get("entry")?.as_str()?;
        if outer.get("sum")?.as_str()? != file_hash(inner.as_bytes()) {
            return None;
        }
        let mut entry: Value = serde_json::from_str(inner).ok()?;
        if entry.get("format")?.as_str()? != FORMAT {
            return None;
        }
        // Files whose bytes changed: (index in `files`, new bytes).
        let mut changed = Vec::new();
        for (i, file) in entry.get("files")?.as_array()?.iter().enumerate() {
            let (path, hash) = (file.get(0)?.as_str()?, file.get(1)?.as_str()?);
            let bytes = std::fs::read(path).ok()?;
            if file_hash(&bytes) != hash {
                changed.push((i, bytes));
            }
        }
        for path in entry.get("absent")?.as_array()? {
            if Path::new(path.as_str()?).exists() {
                return None;
            }
        }
        let roots = entry
            .get("watched")?
            .as_array()?
            .iter()
            .map(|r| r.as_str().map(PathBuf::from))
            .collect::<Option<Vec<_>>>()?;
        if listing(&roots)? != *entry.get("listing")? {
            return None;
        }
        if !changed.is_empty() {
            let files = entry.get_mut("files")?.as_array_mut()?;
            for (i, bytes) in changed {
                // Only a proto file carries a name and fingerprint; a changed
                // registry or lock is always a miss.
                let file = files.get_mut(i)?.as_array_mut()?;
                let (name, fingerprint) = (file.get(2)?.as_str()?, file.get(3)?.as_str()?);
                let hash = file_hash(&bytes);
                if ampygen::protos::fingerprint_source(name, bytes)?.as_str() != fingerprint {
                    return None;
                }
                file[1] = json!(hash);
            }
            self.write(&entry);
        }
        entry.get("stdout")?.as_str().map(str::to_owned)
    }

    /// Records a passing run's output and inputs. Failing to write only
    /// loses the cache, never the run's result.
    /// `lock` is the lock file's text as the run read it.
    pub fn store(&self, project: &Project, lock: &str, stdout: &str) {
        if ampygen::commit::journal_path(&self.registry).exists() {
            return;
        }
        if let Some(entry) = entry(project, lock, stdout) {
            self.write(&entry);
        }
    }

    /// Writes `entry` atomically (stage and rename), with its checksum.
    fn write(&self, entry: &Value) {
        let inner = entry.to_string();
        let outer = json!({ "sum": file_hash(inner.as_bytes()), "entry": inner });
        let Some(dir) = self.path.parent() else { return };
        if std::fs::create_dir_all(dir).is_err() {
            return;
        }
        let _ = std::fs::write(
            dir.join("CACHEDIR.TAG"),
            "Signature: 8a477f597d28d172789f06886806bc55\n# ampygen's check cache; safe to delete.\n",
        );
        let tmp = dir.join(format!(".{}.{}.tmp", std::process::id(), self.path.display().to_string().len()));
        if std::fs::write(&tmp, outer.to_string()).is_ok() && std::fs::rename(&tmp, &self.path).is_err() {
            let _ = std::fs::remove_file(&tmp);
        }
    }
}

/// The entry of a passing run: its inputs by content, the paths that must
/// stay absent, and its output.
fn entry(project: &Project, lock: &str, stdout: &str) -> Option<Value> {
    let registry = &project.registry_path;
    let base = registry.parent().unwrap_or(Path::new(""));
    let roots: Vec<PathBuf> = project.registry.protos.include.iter().map(|r| base.join(&r.value)).collect();
    // The texts the run read, not a second read: a file edited meanwhile
    // must not be recorded as checked.
    let mut files = vec![
        json!([registry.display().to_string(), file_hash(project.registry.source.text().as_bytes())]),
        json!([ampygen::lock::lock_path(registry).display().to_string(), file_hash(lock.as_bytes())]),
    ];
    let mut absent = Vec::new();
    for (name, file) in &project.compiled.files {
        // Imports resolve to the first root holding the name (the bundled
        // well-known types when none does): each earlier candidate must
        // stay absent, or the same import would read another file.
        let found = file.path.as_ref();
        for root in &roots {
            let candidate = root.join(name);
            if found.is_some_and(|f| same_file(f, &candidate)) {
                break;
            }
            if candidate.exists() {
                return None;
            }
            absent.push(json!(candidate.display().to_string()));
        }
        if let Some(path) = found {
            let hash = file_hash(file.source.text().as_bytes());
            files.push(json!([path.display().to_string(), hash, name, file.fingerprint.as_deref()?]));
        }
    }
    let watched: Vec<String> = project.compiled.watched.iter().map(|r| r.display().to_string()).collect();
    let listing = listing(&project.compiled.watched)?;
    Some(json!({
        "format": FORMAT,
        "files": files,
        "absent": absent,
        "watched": watched,
        "listing": listing,
        "stdout": stdout,
    }))
}

/// Every `.proto` path under `roots`, sorted: a file added, removed or
/// renamed there can change what a `protos.files` pattern matches. `None`
/// (never cache) when a symbolic link is found, since what a link leads
/// to can change without anything here changing.
fn listing(roots: &[PathBuf]) -> Option<Value> {
    fn walk(dir: &Path, out: &mut Vec<String>) -> Option<()> {
        for entry in std::fs::read_dir(dir).ok()? {
            let entry = entry.ok()?;
            let kind = entry.file_type().ok()?;
            let path = entry.path();
            if kind.is_symlink() {
                return None;
            } else if kind.is_dir() {
                walk(&path, out)?;
            } else if path.extension().is_some_and(|e| e == "proto") {
                out.push(path.display().to_string());
            }
        }
        Some(())
    }
    let mut out = Vec::new();
    for root in roots {
        walk(root, &mut out)?;
    }
    out.sort();
    Some(json!(out))
}

fn same_file(a: &Path, b: &Path) -> bool {
    match (std::fs::canonicalize(a), std::fs::canonicalize(b)) {
        (Ok(a), Ok(b)) => a == b,
        _ => a == b,
    }
}
