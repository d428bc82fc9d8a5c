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
//!
//! When one proto file changed in its top-level declarations,
//! [`ampygen::protos::edits::prove`] decides whether the full run
//! would print the same thing: nothing else (no other file, the registry,
//! the lock) may spell a name the added, changed or removed declarations
//! hold, and the file must compile with its imports alone. It reads the
//! last run's outline of every file and the tree's package-scope names
//! from a second file beside the entry (`names-*.json`), which is only
//! read then. Any other change (a file's imports or options, several
//! files, the registry, the lock) runs the check in full.
//!
//! Correctness comes first: an entry is only used when its checksum, its
//! version and every input match; anything else (a corrupt, truncated or
//! foreign file, a changed or new input, a pending `lock` journal) is
//! ignored and the check runs in full. Failing runs are never cached, so
//! diagnostics always come from a real run. The directory holds nothing
//! else and is safe to delete at any time; never commit it.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::{Path, PathBuf};

use ampygen::ownership::file_hash;
use ampygen::protos::edits::{self, Decl, Outline};
use ampygen::Project;
use serde_json::{json, Value};

/// The environment variable naming the cache directory.
pub const CACHE_DIR_ENV: &str = "AMPYGEN_CACHE_DIR";

/// Entry format; an entry of another format is ignored.
const FORMAT: &str = "ampygen-check-cache 3";

/// One run's identity: where its entry lives.
pub struct Key {
    path: PathBuf,
    /// The entry's second file: outlines and package-scope names.
    names: PathBuf,
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
        let id = &hash["sha256:".len()..][..32];
        let dir = PathBuf::from(dir);
        Some(Key {
            path: dir.join(format!("check-{id}.json")),
            names: dir.join(format!("names-{id}.json")),
            registry: registry.to_path_buf(),
        })
    }

    /// The recorded output, when the entry is intact and every input is
    /// unchanged, or changed only in what no passing run can show.
    pub fn lookup(&self) -> Option<String> {
        if ampygen::commit::journal_path(&self.registry).exists() {
            return None;
        }
        let mut entry = read_sealed(&self.path)?;
        // Files whose bytes changed: (index in `files`, hash of the new
        // bytes); every file's bytes are kept for an edit's proof.
        let mut changed = Vec::new();
        let mut texts = Vec::new();
        for (i, file) in entry.get("files")?.as_array()?.iter().enumerate() {
            let (path, hash) = (file.get(0)?.as_str()?, file.get(1)?.as_str()?);
            let bytes = std::fs::read(path).ok()?;
            let now = file_hash(&bytes);
            if now != hash {
                changed.push((i, now));
            }
            texts.push(bytes);
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
            let mut added = None;
            let sole = changed.len() == 1;
            for (i, hash) in changed {
                // Only a proto file carries a name and fingerprint; a changed
                // registry or lock is always a miss.
                let file = entry.get("files")?.get(i)?.as_array()?;
                let (name, fingerprint) = (file.get(2)?.as_str()?.to_owned(), file.get(3)?.as_str()?);
                // Parsed once, for the fingerprint and for the proof (which
                // reads every file's text but this one's).
                let parsed = edits::parse(&name, std::mem::take(&mut texts[i]))?;
                let now = parsed.outline.fingerprint();
                let fingerprint = if now == fingerprint {
                    now
                } else if sole && i >= 2 {
                    // The only changed file: the texts are not needed after.
                    let proven = self.prove_edit(&entry, std::mem::take(&mut texts), i, &parsed)?;
                    let fingerprint = proven.outline.fingerprint();
                    added = Some((name.clone(), proven));
                    fingerprint
                } else {
                    return None;
                };
                let file = entry.get_mut("files")?.as_array_mut()?.get_mut(i)?.as_array_mut()?;
                file[1] = json!(hash);
                file[3] = json!(fingerprint);
            }
            if let Some((name, proven)) = added {
                let mut names = self.read_names(&entry)?;
                names.outlines.insert(name, proven.outline);
                names.scope.extend(proven.added);
                entry["names"] = json!(self.write_names(&names)?);
            }
            self.write(&entry);
        }
        entry.get("stdout")?.as_str().map(str::to_owned)
    }

    /// Proves that file `i` of the entry, now `parsed`, changed only in
    /// declarations a full run would not notice. `texts` holds every input
    /// of the entry as read now: the registry and the lock first, then the
    /// proto files.
    fn prove_edit(
        &self,
        entry: &Value,
        texts: Vec<Vec<u8>>,
        i: usize,
        parsed: &edits::Parsed,
    ) -> Option<edits::Proven> {
        let names = self.read_names(entry)?;
        let outline = names.outlines.get(&parsed.name)?;
        let mut texts = texts.into_iter().map(String::from_utf8);
        let registry = texts.next()?.ok()?;
        let lock = texts.next()?.ok()?;
        let mut by_name = HashMap::new();
        for (j, (file, text)) in entry.get("files")?.as_array()?.iter().skip(2).zip(texts).enumerate() {
            if j + 2 != i {
                by_name.insert(file.get(2)?.as_str()?.to_owned(), text.ok()?);
            }
        }
        let before = edits::Before { outline, scope: &names.scope };
        edits::prove(parsed, &before, by_name, &[&registry, &lock], &names.bundled)
    }

    /// The entry's outlines and names, when intact and the entry's own
    /// (the entry records the file's hash).
    fn read_names(&self, entry: &Value) -> Option<Names> {
        let bytes = std::fs::read(&self.names).ok()?;
        if entry.get("names")?.as_str()? != file_hash(&bytes) {
            return None;
        }
        let inner: Value = serde_json::from_slice(&bytes).ok()?;
        if inner.get("format")?.as_str()? != FORMAT {
            return None;
        }
        let outlines = inner
            .get("outlines")?
            .as_object()?
            .iter()
            .map(|(name, o)| {
                let decls = o
                    .get(1)?
                    .as_array()?
                    .iter()
                    .map(|d| {
                        Some(Decl { digest: d.get(0)?.as_str()?.to_owned(), name: d.get(1)?.as_str()?.to_owned() })
                    })
                    .collect::<Option<_>>()?;
                Some((name.clone(), Outline { frame: o.get(0)?.as_str()?.to_owned(), decls }))
            })
            .collect::<Option<_>>()?;
        let strings = |key: &str| -> Option<Vec<String>> {
            inner.get(key)?.as_array()?.iter().map(|s| s.as_str().map(str::to_owned)).collect()
        };
        let scope = strings("scope")?.into_iter().collect();
        Some(Names { outlines, scope, bundled: strings("bundled")? })
    }

    /// Writes `names` (stage and rename); returns its hash, which the
    /// entry records to pair the two files.
    fn write_names(&self, names: &Names) -> Option<String> {
        let text = names_text(
            names.outlines.iter().map(|(n, o)| (n.as_str(), o)),
            |each: Visit<'_>| names.scope.iter().for_each(|n| each(n)),
            names.bundled.iter().map(String::as_str),
        );
        write_atomic(&self.names, text.as_bytes()).then(|| file_hash(text.as_bytes()))
    }

    /// Records a passing run's output and inputs. Failing to write only
    /// loses the cache, never the run's result.
    /// `lock` is the lock file's text as the run read it.
    pub fn store(&self, project: &Project, lock: &str, stdout: &str) {
        if ampygen::commit::journal_path(&self.registry).exists() {
            return;
        }
        let Some(mut entry) = entry(project, lock, stdout) else { return };
        let compiled = &project.compiled;
        let names = names_text(
            compiled.files.iter().filter_map(|(n, f)| Some((n.as_str(), f.outline.as_ref()?))),
            |each: Visit<'_>| edits::package_scope_names(compiled.pool.files(), each),
            compiled.files.iter().filter(|(_, f)| f.path.is_none()).map(|(n, _)| n.as_str()),
        );
        if !write_atomic(&self.names, names.as_bytes()) {
            return;
        }
        entry["names"] = json!(file_hash(names.as_bytes()));
        self.write(&entry);
    }

    /// Writes `entry` atomically (stage and rename), with its checksum.
    fn write(&self, entry: &Value) {
        seal_and_write(&self.path, entry);
    }
}

/// What an edit's proof needs from the last passing run, kept apart
/// from the entry so that a plain hit does not read it.
struct Names {
    /// Each proto file's outline, by import name.
    outlines: BTreeMap<String, Outline>,
    /// [`edits::package_scope_names`] of the whole tree.
    scope: BTreeSet<String>,
    /// The well-known types the tree read from protox's bundled copies.
    bundled: Vec<String>,
}

/// What [`names_text`]'s `scope` hands each name to.
type Visit<'a> = &'a mut dyn FnMut(&str);

/// [`Names`] as JSON, written directly: storing them is on the path of
/// every cold check, and a `Value` tree of some 30,000 strings at 1,000
/// protos costs a few percent of the run. `scope` hands each name to its
/// argument.
fn names_text<'a>(
    outlines: impl Iterator<Item = (&'a str, &'a Outline)>,
    scope: impl FnOnce(Visit<'_>),
    bundled: impl Iterator<Item = &'a str>,
) -> String {
    fn string(out: &mut String, s: &str) {
        if s.bytes().all(|b| b >= 0x20 && b != b'"' && b != b'\\') {
            out.push('"');
            out.push_str(s);
            out.push('"');
        } else {
            // serde_json escapes; writing to a String cannot fail.
            out.push_str(&serde_json::to_string(s).unwrap_or_default());
        }
    }
    fn list<'s>(out: &mut String, items: impl Iterator<Item = &'s str>) {
        out.push('[');
        for (i, item) in items.enumerate() {
            if i > 0 {
                out.push(',');
            }
            string(out, item);
        }
        out.push(']');
    }
    let mut out = String::with_capacity(64 * 1024);
    out.push_str("{\"format\":");
    string(&mut out, FORMAT);
    out.push_str(",\"outlines\":{");
    for (i, (name, outline)) in outlines.enumerate() {
        if i > 0 {
            out.push(',');
        }
        string(&mut out, name);
        out.push_str(":[");
        string(&mut out, &outline.frame);
        out.push_str(",[");
        for (j, d) in outline.decls.iter().enumerate() {
            if j > 0 {
                out.push(',');
            }
            list(&mut out, [d.digest.as_str(), d.name.as_str()].into_iter());
        }
        out.push_str("]]");
    }
    out.push_str("},\"scope\":[");
    let mut first = true;
    scope(&mut |name| {
        if !std::mem::take(&mut first) {
            out.push(',');
        }
        string(&mut out, name);
    });
    out.push_str("],\"bundled\":");
    list(&mut out, bundled);
    out.push('}');
    out
}

/// The inner value of a sealed file (`{"sum", "entry"}`), when its
/// checksum and format match.
fn read_sealed(path: &Path) -> Option<Value> {
    read_sealed_text(&std::fs::read_to_string(path).ok()?)
}

fn read_sealed_text(text: &str) -> Option<Value> {
    let outer: Value = serde_json::from_str(text).ok()?;
    let inner = outer.get("entry")?.as_str()?;
    if outer.get("sum")?.as_str()? != file_hash(inner.as_bytes()) {
        return None;
    }
    let value: Value = serde_json::from_str(inner).ok()?;
    (value.get("format")?.as_str()? == FORMAT).then_some(value)
}

/// Writes `value` to `path` atomically with its checksum. Failing to
/// write only loses the cache.
fn seal_and_write(path: &Path, value: &Value) {
    let inner = value.to_string();
    let outer = json!({ "sum": file_hash(inner.as_bytes()), "entry": inner });
    write_atomic(path, outer.to_string().as_bytes());
}

/// Writes `bytes` to `path` (stage and rename), in a directory marked as
/// a cache; whether it was written.
fn write_atomic(path: &Path, bytes: &[u8]) -> bool {
    let Some(dir) = path.parent() else { return false };
    if std::fs::create_dir_all(dir).is_err() {
        return false;
    }
    let _ = std::fs::write(
        dir.join("CACHEDIR.TAG"),
        "Signature: 8a477f597d28d172789f06886806bc55\n# ampygen's check cache; safe to delete.\n",
    );
    let tmp = dir.join(format!(".{}.{}.tmp", std::process::id(), path.display().to_string().len()));
    if std::fs::write(&tmp, bytes).is_ok() && std::fs::rename(&tmp, path).is_ok() {
        return true;
    }
    let _ = std::fs::remove_file(&tmp);
    false
}

/// The entry of a passing run: its inputs by content, the paths that must
/// stay absent, and its output.
fn entry(project: &Project, lock: &str, stdout: &str) -> Option<Value> {
    let registry = &project.registry_path;
    let base = registry.parent().unwrap_or(Path::new(""));
    // Normalized as compilation normalizes them, so that the root a file
    // was read from gives the very path it was recorded under.
    let roots: Vec<PathBuf> =
        project.registry.protos.include.iter().map(|r| ampygen::protos::normalize(&base.join(&r.value))).collect();
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
            if found.is_some_and(|f| *f == candidate || same_file(f, &candidate)) {
                break;
            }
            if candidate.exists() {
                return None;
            }
            absent.push(json!(candidate.display().to_string()));
        }
        if let Some(path) = found {
            let hash = file_hash(file.source.text().as_bytes());
            files.push(json!([path.display().to_string(), hash, name, file.outline.as_ref()?.fingerprint()]));
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
