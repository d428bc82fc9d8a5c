//! Writing files: the thin, impure layer under the in-memory core.
//!
//! Every file ampygen replaces is staged as a temporary next to its
//! target (`.NAME.ampygen-PID.tmp`) and renamed over it, so a reader or a
//! kill never sees a half-written file (a new directory is staged whole
//! the same way, see [`crate::ownership::apply`]); unchanged files are not touched
//! at all, which keeps mtimes (and cargo rebuilds) quiet. The two commands
//! that write build on these primitives: [`crate::commit`] makes `lock`'s
//! registry and lock file one unit, [`crate::ownership`] decides which
//! files `generate` may replace or delete.
//!
//! Durability policy: a kill (SIGKILL, a crash, Ctrl-C) at any moment
//! leaves every file either old or new, because renames are atomic and the
//! page cache outlives the process. Power loss is a different matter: the
//! registry is a hand-written source, so `lock` fsyncs its staged files,
//! its journal and the directory before and after the commit point;
//! generated code can be regenerated, so `generate` syncs once per run (the
//! manifest, the last file it writes) instead of once per file.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::OnceLock;

/// A file to be written.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FileWrite {
    pub path: PathBuf,
    pub contents: Vec<u8>,
}

/// The environment variable of the crash-test hook; see [`step`].
pub const KILL_AT_STEP_ENV: &str = "AMPYGEN_TEST_KILL_AT_STEP";

/// Marks a step boundary before a file system change (create, write,
/// sync, rename, remove). With `AMPYGEN_TEST_KILL_AT_STEP=K` in the
/// environment the process SIGKILLs itself at the K-th boundary (1-based),
/// so a test can stop `lock` or `generate` deterministically between any
/// two changes and check what a reader sees. Without the variable this is
/// one relaxed load.
pub fn step() {
    static STEPS: AtomicU64 = AtomicU64::new(0);
    let Some(k) = kill_at() else { return };
    if STEPS.fetch_add(1, Ordering::SeqCst) + 1 == k {
        kill_self();
    }
}

/// The step [`step`] stops at, when a crash test set one.
fn kill_at() -> Option<u64> {
    static KILL_AT: OnceLock<Option<u64>> = OnceLock::new();
    *KILL_AT.get_or_init(|| std::env::var(KILL_AT_STEP_ENV).ok().and_then(|v| v.parse().ok()))
}

#[cfg(unix)]
fn kill_self() -> ! {
    // SAFETY: kill(2) on our own pid with a constant signal number has no
    // memory-safety preconditions.
    unsafe {
        libc::kill(libc::getpid(), libc::SIGKILL);
    }
    std::process::abort()
}

#[cfg(not(unix))]
fn kill_self() -> ! {
    std::process::abort()
}

/// The temporary a target is staged in: a hidden sibling named after the
/// target and this process, so a leftover of a killed run is recognisable
/// by [`is_temp_name`] and never collides with another file.
pub fn temp_path(target: &Path) -> PathBuf {
    let name = target.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    static PID: OnceLock<u32> = OnceLock::new();
    target.with_file_name(format!(".{name}.ampygen-{}.tmp", PID.get_or_init(std::process::id)))
}

/// Whether `name` is exactly the name of an ampygen temporary:
/// `.` + a non-empty target name + `.ampygen-` + decimal pid + `.tmp`.
/// With `target` set, only temporaries of that target name match.
pub fn is_temp_name(name: &str, target: Option<&str>) -> bool {
    let Some(rest) = name.strip_prefix('.').and_then(|r| r.strip_suffix(".tmp")) else { return false };
    let Some((stem, pid)) = rest.rsplit_once(".ampygen-") else { return false };
    !stem.is_empty()
        && !pid.is_empty()
        && pid.len() <= 10
        && pid.bytes().all(|b| b.is_ascii_digit())
        && target.is_none_or(|t| t == stem)
}

/// Removes the ampygen temporaries left in `dir` by killed runs: regular
/// files (never links or directories) whose name is exactly a temporary's
/// name ([`is_temp_name`]), of one of `targets` when given. Returns how
/// many were removed; a missing directory has none.
pub fn remove_temps(dir: &Path, targets: Option<&[String]>) -> usize {
    remove_temporaries(dir, targets, &[])
}

/// [`remove_temps`], and also the temporary directories of `dirs` (see
/// [`crate::ownership`]: a new directory is built under a temporary name),
/// with everything in them; a link is never one.
pub fn remove_temporaries(dir: &Path, files: Option<&[String]>, dirs: &[String]) -> usize {
    let Ok(entries) = std::fs::read_dir(dir) else { return 0 };
    let matches = |name: &str, targets: &[String]| targets.iter().any(|t| is_temp_name(name, Some(t)));
    let mut found: Vec<(PathBuf, bool)> = entries
        .flatten()
        .filter_map(|e| {
            let kind = e.file_type().ok()?;
            let name = e.file_name().into_string().ok()?;
            let file = kind.is_file()
                && match files {
                    None => is_temp_name(&name, None),
                    Some(ts) => matches(&name, ts),
                };
            let folder = kind.is_dir() && matches(&name, dirs);
            (file || folder).then(|| (e.path(), folder))
        })
        .collect();
    found.sort();
    let mut removed = 0;
    for (path, folder) in found {
        step();
        let gone = if folder { std::fs::remove_dir_all(&path) } else { std::fs::remove_file(&path) };
        if gone.is_ok() {
            removed += 1;
        }
    }
    removed
}

/// Creates `path` and writes `contents` to it, for a file no reader can
/// see yet (a temporary, or a file inside a temporary directory). Under a
/// crash test the write is split in two halves with a [`step`] between
/// them, so the tests also stop ampygen with a half-written file;
/// otherwise it is one write (one system call per file saved, thousands
/// per `generate` of a large registry).
pub(crate) fn write_new(path: &Path, contents: &[u8]) -> std::io::Result<std::fs::File> {
    step();
    let mut file = std::fs::File::create(path)?;
    let half = if kill_at().is_some() { contents.len() / 2 } else { 0 };
    step();
    file.write_all(&contents[..half])?;
    step();
    file.write_all(&contents[half..])?;
    Ok(file)
}

/// Writes `contents` to the temporary of `target` ([`write_new`]), synced
/// when `sync`, and returns its path; a failure removes it.
pub(crate) fn stage(target: &Path, contents: &[u8], sync: bool) -> std::io::Result<PathBuf> {
    let tmp = temp_path(target);
    let synced = write_new(&tmp, contents).and_then(|file| {
        if sync {
            step();
            file.sync_all()
        } else {
            Ok(())
        }
    });
    if let Err(e) = synced {
        let _ = std::fs::remove_file(&tmp);
        return Err(e);
    }
    Ok(tmp)
}

/// Renames a staged temporary over its target (one atomic step).
pub(crate) fn install(tmp: &Path, target: &Path) -> std::io::Result<()> {
    step();
    std::fs::rename(tmp, target).inspect_err(|_| {
        let _ = std::fs::remove_file(tmp);
    })
}

/// Makes the renames and removals in `dir` durable. A no-op where
/// directories cannot be opened (Windows). Only `lock` and `generate`
/// sync; the build.rs path writes into `OUT_DIR`, which can be rebuilt.
#[cfg(feature = "gate")]
pub(crate) fn sync_dir(dir: &Path) {
    let dir = if dir.as_os_str().is_empty() { Path::new(".") } else { dir };
    if let Ok(d) = std::fs::File::open(dir) {
        step();
        let _ = d.sync_all();
    }
}

/// Writes the files whose contents differ from disk and returns their
/// paths, in input order. Every temporary is written before the first
/// rename, so a failure leaves the old files untouched. Used by the
/// build.rs API, which writes into cargo's `OUT_DIR`.
pub fn write_changed(files: &[FileWrite]) -> std::io::Result<Vec<PathBuf>> {
    let changed: Vec<&FileWrite> =
        files.iter().filter(|f| std::fs::read(&f.path).map_or(true, |old| old != f.contents)).collect();
    let mut staged: Vec<(PathBuf, &Path)> = Vec::new();
    let result = (|| {
        for f in &changed {
            if let Some(dir) = f.path.parent().filter(|d| !d.as_os_str().is_empty()) {
                std::fs::create_dir_all(dir)?;
            }
            staged.push((stage(&f.path, &f.contents, false)?, &f.path));
        }
        for (tmp, target) in &staged {
            install(tmp, target)?;
        }
        Ok(())
    })();
    if let Err(e) = result {
        for (tmp, _) in &staged {
            let _ = std::fs::remove_file(tmp);
        }
        return Err(e);
    }
    Ok(changed.iter().map(|f| f.path.clone()).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_only_changed_files_and_leaves_no_temporaries() {
        let dir = tempfile::tempdir().unwrap();
        let dir = dir.path();
        let a = FileWrite { path: dir.join("a.txt"), contents: b"one".to_vec() };
        let b = FileWrite { path: dir.join("sub/b.txt"), contents: b"two".to_vec() };
        assert_eq!(write_changed(&[a.clone(), b.clone()]).unwrap(), vec![a.path.clone(), b.path.clone()]);
        let b2 = FileWrite { contents: b"three".to_vec(), ..b.clone() };
        assert_eq!(write_changed(&[a.clone(), b2]).unwrap(), vec![b.path.clone()]);
        let mut names: Vec<String> =
            std::fs::read_dir(dir).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
        names.sort();
        assert_eq!(names, ["a.txt", "sub"]);
    }

    #[test]
    fn temp_names_are_recognised_exactly() {
        let tmp = temp_path(Path::new("dir/ampy.yaml"));
        let name = tmp.file_name().unwrap().to_str().unwrap();
        assert!(is_temp_name(name, None) && is_temp_name(name, Some("ampy.yaml")));
        assert!(!is_temp_name(name, Some("ampy.lock.json")));
        for other in [
            "ampy.yaml.ampygen-1.tmp",
            "..ampygen-1.tmp",
            ".a.ampygen-.tmp",
            ".a.ampygen-12x.tmp",
            ".a.ampygen-1.tmp~",
            ".a.ampygen-12345678901.tmp",
            ".a.tmp",
        ] {
            assert!(!is_temp_name(other, None), "{other}");
        }
    }

    #[test]
    fn remove_temps_takes_only_exact_temporaries_that_are_files() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        for name in [".a.ampygen-1.tmp", ".b.ampygen-22.tmp", "a.ampygen-1.tmp", ".a.ampygen-1.tmp.bak", "keep"] {
            std::fs::write(d.join(name), "x").unwrap();
        }
        std::fs::create_dir(d.join(".c.ampygen-3.tmp")).unwrap();
        assert_eq!(remove_temps(d, Some(&["b".to_owned()])), 1);
        assert_eq!(remove_temps(d, None), 1);
        let mut left: Vec<String> =
            std::fs::read_dir(d).unwrap().map(|e| e.unwrap().file_name().into_string().unwrap()).collect();
        left.sort();
        assert_eq!(left, [".a.ampygen-1.tmp.bak", ".c.ampygen-3.tmp", "a.ampygen-1.tmp", "keep"]);
    }

    #[cfg(unix)]
    #[test]
    fn remove_temporaries_takes_temporary_directories_of_named_targets_only() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        for name in [".pb.ampygen-7.tmp/x/y", ".other.ampygen-7.tmp/z", "pb/keep", "elsewhere/inside"] {
            std::fs::create_dir_all(d.join(name).parent().unwrap()).unwrap();
            std::fs::write(d.join(name), "x").unwrap();
        }
        // A link named like a temporary is neither followed nor removed.
        std::os::unix::fs::symlink(d.join("elsewhere"), d.join(".pb.ampygen-8.tmp")).unwrap();
        assert_eq!(remove_temporaries(d, Some(&[]), &["pb".to_owned()]), 1);
        let mut left: Vec<String> =
            std::fs::read_dir(d).unwrap().map(|e| e.unwrap().file_name().into_string().unwrap()).collect();
        left.sort();
        assert_eq!(left, [".other.ampygen-7.tmp", ".pb.ampygen-8.tmp", "elsewhere", "pb"]);
        assert!(d.join("elsewhere/inside").exists() && d.join("pb/keep").exists());
    }
}
