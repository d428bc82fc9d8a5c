//! Writing files: the thin, impure layer under the in-memory core.
//!
//! All files of one command are staged as temporaries next to their
//! targets and renamed only once every temporary is written, so a failure
//! leaves the old tree untouched; unchanged files are not touched at all,
//! which keeps mtimes (and cargo rebuilds) quiet.

use std::io::Write;
use std::path::{Path, PathBuf};

/// A file to be written.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FileWrite {
    pub path: PathBuf,
    pub contents: Vec<u8>,
}

/// Writes the files whose contents differ from disk and returns their
/// paths, in input order.
pub fn write_changed(files: &[FileWrite]) -> std::io::Result<Vec<PathBuf>> {
    let changed: Vec<&FileWrite> =
        files.iter().filter(|f| std::fs::read(&f.path).map_or(true, |old| old != f.contents)).collect();
    let mut staged: Vec<(PathBuf, &Path)> = Vec::new();
    let result = (|| {
        for f in &changed {
            if let Some(dir) = f.path.parent().filter(|d| !d.as_os_str().is_empty()) {
                std::fs::create_dir_all(dir)?;
            }
            let tmp = temp_path(&f.path);
            let mut file = std::fs::File::create(&tmp)?;
            staged.push((tmp, &f.path));
            file.write_all(&f.contents)?;
            file.sync_all()?;
        }
        for (tmp, target) in &staged {
            std::fs::rename(tmp, target)?;
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

fn temp_path(target: &Path) -> PathBuf {
    let name = target.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    target.with_file_name(format!(".{name}.ampygen-{}.tmp", std::process::id()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_only_changed_files_and_leaves_no_temporaries() {
        let dir = std::env::temp_dir().join(format!("ampygen-output-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let a = FileWrite { path: dir.join("a.txt"), contents: b"one".to_vec() };
        let b = FileWrite { path: dir.join("sub/b.txt"), contents: b"two".to_vec() };
        assert_eq!(write_changed(&[a.clone(), b.clone()]).unwrap(), vec![a.path.clone(), b.path.clone()]);
        let b2 = FileWrite { contents: b"three".to_vec(), ..b.clone() };
        assert_eq!(write_changed(&[a.clone(), b2]).unwrap(), vec![b.path.clone()]);
        let mut names: Vec<String> =
            std::fs::read_dir(&dir).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
        names.sort();
        assert_eq!(names, ["a.txt", "sub"]);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
