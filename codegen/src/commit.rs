//! `lock` writes two files, the registry (its `schema_hash` values) and
//! the lock file next to it, and a later `check` must see both old or both
//! new, whenever the writer was killed. Two renames are not atomic
//! together, so the pair goes through a redo journal:
//!
//! 1. The journal `.REGISTRY.ampygen-journal` is written next to the
//!    registry, holding for each file its name, the SHA-256 of its current
//!    content (or "absent") and its full new content, closed by a checksum
//!    of the whole journal. It is staged as a temporary, fsynced, and
//!    renamed into place: that rename is the commit point.
//! 2. Each file is staged, fsynced and renamed over its target.
//! 3. The journal is removed.
//!
//! A kill before the commit point leaves the old pair (plus temporaries);
//! after it, the new pair is decided. Readers ([`read`]: the registry
//! loader and the lock reader, so `check`, `hash` and `route`) read
//! through a committed journal and see the new pair even before step 2 has
//! finished; they never write. The next `lock` or `generate` rolls the
//! journal forward ([`recover`]) and removes leftover temporaries.
//!
//! A journal only applies while every file it names still holds either
//! the content it was written against or the new content. If someone has
//! edited the registry since, the journal is stale: readers ignore it and
//! [`recover`] discards it, so an old journal can never hide a hand edit.

use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

#[cfg(feature = "gate")]
use crate::output::{self, FileWrite};

/// First line of a journal, naming its format.
const MAGIC: &[u8] = b"ampygen-journal 1\n";
const SUFFIX: &str = ".ampygen-journal";

/// The journal of the registry at `registry`: a hidden sibling.
pub fn journal_path(registry: &Path) -> PathBuf {
    let name = registry.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    registry.with_file_name(format!(".{name}{SUFFIX}"))
}

/// One file of a journal.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Entry {
    /// File name in the journal's directory.
    name: String,
    /// SHA-256 (hex) of the content the new one replaces; `None` when the
    /// file did not exist.
    before: Option<String>,
    after: Vec<u8>,
}

/// SHA-256 of `bytes` as 64 lower-case hex digits (journals, the
/// ownership manifest's `sha256:` hashes, proto fingerprints).
pub(crate) fn sha256(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(64);
    for b in Sha256::digest(bytes).iter() {
        out.push(char::from_digit(u32::from(b >> 4), 16).unwrap_or('0'));
        out.push(char::from_digit(u32::from(b & 15), 16).unwrap_or('0'));
    }
    out
}

#[cfg(feature = "gate")]
/// `MAGIC`, then per entry a line `file BEFORE LEN NAME` and LEN bytes
/// and a newline, then `end SHA256-OF-ALL-THE-ABOVE`.
fn encode(entries: &[Entry]) -> Vec<u8> {
    let mut out = MAGIC.to_vec();
    for e in entries {
        let before = e.before.as_deref().unwrap_or("absent");
        out.extend_from_slice(format!("file {before} {} {}\n", e.after.len(), e.name).as_bytes());
        out.extend_from_slice(&e.after);
        out.push(b'\n');
    }
    let sum = sha256(&out);
    out.extend_from_slice(format!("end {sum}\n").as_bytes());
    out
}

/// The entries of a complete, intact journal; `None` for anything else.
fn decode(bytes: &[u8]) -> Option<Vec<Entry>> {
    let body_len = bytes.len().checked_sub(4 + 64 + 1)?;
    let (body, trailer) = bytes.split_at(body_len);
    let sum = trailer.strip_prefix(b"end ")?.strip_suffix(b"\n")?;
    if sum != sha256(body).as_bytes() {
        return None;
    }
    let mut rest = body.strip_prefix(MAGIC)?;
    let mut entries = Vec::new();
    while !rest.is_empty() {
        let nl = rest.iter().position(|b| *b == b'\n')?;
        let line = std::str::from_utf8(&rest[..nl]).ok()?;
        let mut parts = line.splitn(4, ' ');
        let (Some("file"), Some(before), Some(len), Some(name)) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return None;
        };
        let len: usize = len.parse().ok()?;
        let data = rest.get(nl + 1..nl + 1 + len)?;
        if rest.get(nl + 1 + len) != Some(&b'\n') || !plain_name(name) {
            return None;
        }
        let before = (before != "absent").then(|| before.to_owned());
        entries.push(Entry { name: name.to_owned(), before, after: data.to_vec() });
        rest = &rest[nl + 2 + len..];
    }
    Some(entries)
}

/// A single normal file name: no separators or line breaks, not `.` or
/// `..`.
fn plain_name(name: &str) -> bool {
    !name.is_empty() && name != "." && name != ".." && !name.contains(['/', '\\', '\n', '\r'])
}

/// The hash of a file's current content; `None` when it does not exist.
fn current(path: &Path) -> std::io::Result<Option<String>> {
    match std::fs::read(path) {
        Ok(bytes) => Ok(Some(sha256(&bytes))),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(e),
    }
}

/// A journal on disk and whether it still applies.
struct Pending {
    #[cfg_attr(not(feature = "gate"), allow(dead_code))] // read by `recover`
    path: PathBuf,
    entries: Vec<Entry>,
    applies: bool,
}

/// Every journal in `dir`, decoded. A journal that does not decode is
/// reported with `entries` empty and `applies` false.
fn pending(dir: &Path) -> Vec<Pending> {
    let dir = if dir.as_os_str().is_empty() { Path::new(".") } else { dir };
    let Ok(listing) = std::fs::read_dir(dir) else { return Vec::new() };
    let mut paths: Vec<PathBuf> = listing
        .flatten()
        .filter(|e| e.file_type().is_ok_and(|t| t.is_file()))
        .filter(|e| e.file_name().to_str().is_some_and(|n| n.starts_with('.') && n.ends_with(SUFFIX)))
        .map(|e| e.path())
        .collect();
    paths.sort();
    paths
        .into_iter()
        .map(|path| {
            let entries = std::fs::read(&path).ok().and_then(|b| decode(&b)).unwrap_or_default();
            let applies = !entries.is_empty()
                && entries.iter().all(|e| {
                    let now = current(&dir.join(&e.name)).ok().flatten();
                    now == e.before || now.as_deref() == Some(sha256(&e.after).as_str())
                });
            Pending { path, entries, applies }
        })
        .collect()
}

/// Reads `path` as ampygen's readers must: through a committed journal in
/// its directory that names it (see the module docs), else from disk.
pub fn read(path: &Path) -> std::io::Result<Vec<u8>> {
    let name = path.file_name().and_then(|n| n.to_str());
    if let (Some(name), Some(dir)) = (name, path.parent()) {
        for p in pending(dir).into_iter().filter(|p| p.applies) {
            if let Some(e) = p.entries.into_iter().find(|e| e.name == name) {
                return Ok(e.after);
            }
        }
    }
    std::fs::read(path)
}

#[cfg(feature = "gate")]
/// What [`recover`] did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Recovery {
    /// Journals rolled forward: an interrupted `lock` completed.
    pub completed: Vec<PathBuf>,
    /// Journals removed without effect: damaged, or stale because a file
    /// they name was edited after the interrupted run.
    pub discarded: Vec<PathBuf>,
    /// Leftover temporaries removed.
    pub temporaries: usize,
}

#[cfg(feature = "gate")]
/// Completes or discards every journal next to `registry`, then removes
/// the temporaries of the registry, its lock file and its journal that
/// killed runs left behind. Run by the commands that write.
pub fn recover(registry: &Path) -> std::io::Result<Recovery> {
    let dir = registry.parent().unwrap_or(Path::new(""));
    let mut done = Recovery::default();
    for p in pending(dir) {
        if p.applies {
            apply(dir, &p.entries)?;
            output::step();
            std::fs::remove_file(&p.path)?;
            done.completed.push(p.path);
        } else {
            output::step();
            std::fs::remove_file(&p.path)?;
            done.discarded.push(p.path);
        }
    }
    if !done.completed.is_empty() || !done.discarded.is_empty() {
        output::sync_dir(dir);
    }
    let names: Vec<String> = [registry.to_path_buf(), crate::lock::lock_path(registry), journal_path(registry)]
        .iter()
        .filter_map(|p| p.file_name().map(|n| n.to_string_lossy().into_owned()))
        .collect();
    let dir = if dir.as_os_str().is_empty() { Path::new(".") } else { dir };
    done.temporaries = output::remove_temps(dir, Some(&names));
    Ok(done)
}

#[cfg(feature = "gate")]
/// Step 2: every entry staged, synced and renamed into place.
fn apply(dir: &Path, entries: &[Entry]) -> std::io::Result<()> {
    for e in entries {
        let target = dir.join(&e.name);
        let tmp = output::stage(&target, &e.after, true)?;
        output::install(&tmp, &target)?;
    }
    output::sync_dir(dir);
    Ok(())
}

#[cfg(feature = "gate")]
/// Writes `files` as one unit through the journal of `registry` (see the
/// module docs). Every file must sit in the registry's directory; a single
/// file needs no journal and is just staged and renamed.
pub fn commit(registry: &Path, files: &[FileWrite]) -> std::io::Result<()> {
    let dir = registry.parent().unwrap_or(Path::new(""));
    let mut entries = Vec::new();
    for f in files {
        let name = f.path.file_name().and_then(|n| n.to_str()).filter(|n| plain_name(n));
        let (Some(name), true) = (name, f.path.parent() == Some(dir)) else {
            return Err(std::io::Error::other(format!(
                "`{}` is not next to the registry; cannot commit it with the registry",
                f.path.display()
            )));
        };
        entries.push(Entry { name: name.to_owned(), before: current(&f.path)?, after: f.contents.clone() });
    }
    if entries.len() > 1 {
        let journal = journal_path(registry);
        let tmp = output::stage(&journal, &encode(&entries), true)?;
        output::install(&tmp, &journal)?; // the commit point
        output::sync_dir(dir);
        apply(dir, &entries)?;
        output::step();
        std::fs::remove_file(&journal)?;
    } else {
        apply(dir, &entries)?;
    }
    Ok(())
}

#[cfg(all(test, feature = "gate"))]
mod tests {
    use super::*;

    fn entry(name: &str, before: Option<&str>, after: &[u8]) -> Entry {
        Entry { name: name.into(), before: before.map(|b| sha256(b.as_bytes())), after: after.to_vec() }
    }

    #[test]
    fn journals_round_trip_and_damage_is_detected() {
        let entries = vec![entry("ampy.yaml", Some("old"), b"new\r\nyaml\n"), entry("ampy.lock.json", None, b"")];
        let bytes = encode(&entries);
        assert_eq!(decode(&bytes), Some(entries));
        for cut in 0..bytes.len() {
            assert_eq!(decode(&bytes[..cut]), None, "truncated at {cut}");
        }
        let mut flipped = bytes.clone();
        flipped[MAGIC.len() + 7] ^= 1;
        assert_eq!(decode(&flipped), None);
    }

    #[test]
    fn commit_writes_the_pair_and_readers_see_a_pending_journal() {
        let dir = tempfile::tempdir().unwrap();
        let reg = dir.path().join("r.yaml");
        let lock = dir.path().join("r.lock.json");
        std::fs::write(&reg, "old registry").unwrap();
        let files = [
            FileWrite { path: reg.clone(), contents: b"new registry".to_vec() },
            FileWrite { path: lock.clone(), contents: b"new lock".to_vec() },
        ];
        commit(&reg, &files).unwrap();
        assert_eq!(std::fs::read(&reg).unwrap(), b"new registry");
        assert_eq!(std::fs::read(&lock).unwrap(), b"new lock");
        assert!(!journal_path(&reg).exists());

        // A committed journal whose renames did not happen yet.
        let entries = [
            Entry { name: "r.yaml".into(), before: Some(sha256(b"new registry")), after: b"newer".to_vec() },
            Entry { name: "r.lock.json".into(), before: Some(sha256(b"new lock")), after: b"newer lock".to_vec() },
        ];
        std::fs::write(journal_path(&reg), encode(&entries)).unwrap();
        assert_eq!(read(&reg).unwrap(), b"newer");
        assert_eq!(read(&lock).unwrap(), b"newer lock");
        let done = recover(&reg).unwrap();
        assert_eq!(done.completed.len(), 1);
        assert_eq!(std::fs::read(&reg).unwrap(), b"newer");
        assert_eq!(std::fs::read(&lock).unwrap(), b"newer lock");
        assert!(!journal_path(&reg).exists());
    }

    #[test]
    fn a_journal_is_stale_once_a_named_file_was_edited() {
        let dir = tempfile::tempdir().unwrap();
        let reg = dir.path().join("r.yaml");
        let lock = dir.path().join("r.lock.json");
        std::fs::write(&reg, "old").unwrap();
        let entries = [entry("r.yaml", Some("old"), b"new"), entry("r.lock.json", None, b"lock")];
        std::fs::write(journal_path(&reg), encode(&entries)).unwrap();
        assert_eq!(read(&reg).unwrap(), b"new");
        std::fs::write(&reg, "edited by hand").unwrap();
        assert_eq!(read(&reg).unwrap(), b"edited by hand");
        assert!(read(&lock).is_err(), "the stale journal's lock is not visible either");
        let done = recover(&reg).unwrap();
        assert_eq!((done.completed.len(), done.discarded.len()), (0, 1));
        assert_eq!(std::fs::read(&reg).unwrap(), b"edited by hand");
        assert!(!lock.exists());
    }
}
