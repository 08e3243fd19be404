//! Output that appears only on success: a temporary file in the target's
//! directory, renamed into place by [`AtomicFile::commit`]. Dropped without
//! a commit (an error, a panic), the temporary file is removed and the
//! target is untouched.

use std::fs;
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};

use tempfile::NamedTempFile;

/// A file being written that replaces `path` only on [`AtomicFile::commit`].
#[derive(Debug)]
pub struct AtomicFile {
    tmp: BufWriter<NamedTempFile>,
    path: PathBuf,
}

impl AtomicFile {
    /// Starts writing a replacement for `path`, created with `mode` (Unix
    /// permission bits, e.g. `0o600` for secrets) where the platform has them.
    ///
    /// # Errors
    /// The directory is not writable.
    pub fn create(path: &Path, mode: Option<u32>) -> io::Result<Self> {
        let dir = match path.parent() {
            Some(d) if !d.as_os_str().is_empty() => d,
            _ => Path::new("."),
        };
        let tmp = tempfile::Builder::new()
            .prefix(".deid-")
            .suffix(".tmp")
            .tempfile_in(dir)?;
        #[cfg(unix)]
        if let Some(mode) = mode {
            use std::os::unix::fs::PermissionsExt;
            fs::set_permissions(tmp.path(), fs::Permissions::from_mode(mode))?;
        }
        #[cfg(not(unix))]
        let _ = mode;
        Ok(AtomicFile {
            tmp: BufWriter::with_capacity(1 << 20, tmp),
            path: path.to_path_buf(),
        })
    }

    /// Flushes, syncs and renames the file into place.
    ///
    /// # Errors
    /// Flushing or renaming failed; the target is then untouched.
    pub fn commit(self) -> io::Result<()> {
        let tmp = self
            .tmp
            .into_inner()
            .map_err(io::IntoInnerError::into_error)?;
        tmp.as_file().sync_all()?;
        tmp.persist(&self.path).map_err(|e| e.error)?;
        Ok(())
    }
}

impl Write for AtomicFile {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.tmp.write(buf)
    }

    fn write_all(&mut self, buf: &[u8]) -> io::Result<()> {
        self.tmp.write_all(buf)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.tmp.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_committed_files_appear() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("out.csv");
        {
            let mut f = AtomicFile::create(&target, None).unwrap();
            f.write_all(b"partial").unwrap();
            // dropped without commit
        }
        assert!(!target.exists());
        assert_eq!(
            fs::read_dir(dir.path()).unwrap().count(),
            0,
            "temporary file removed"
        );
        let mut f = AtomicFile::create(&target, Some(0o600)).unwrap();
        f.write_all(b"done").unwrap();
        f.commit().unwrap();
        assert_eq!(fs::read(&target).unwrap(), b"done");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            assert_eq!(
                fs::metadata(&target).unwrap().permissions().mode() & 0o777,
                0o600
            );
        }
    }
}
