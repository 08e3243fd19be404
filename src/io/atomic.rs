//! Output that appears only on success: a temporary file in the target's
//! directory, renamed into place by [`AtomicFile::commit`]. Dropped without
//! a commit (an error, a panic), the temporary file is removed and the
//! target is untouched.
//!
//! A target that exists and is not a regular file (`/dev/null`, a FIFO, a
//! terminal) cannot be replaced by a rename, and must not be: renaming a
//! file over `/dev/null` as root would replace the device. Such targets are
//! written directly, like standard output. A symbolic link is followed, so
//! the file it points to is replaced and the link stays.

use std::fs::{self, File};
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};

use tempfile::NamedTempFile;

/// A file being written that replaces `path` only on [`AtomicFile::commit`].
#[derive(Debug)]
pub struct AtomicFile {
    inner: Inner,
}

#[derive(Debug)]
enum Inner {
    /// A temporary file beside the target, renamed onto it on commit.
    Temp {
        tmp: BufWriter<NamedTempFile>,
        path: PathBuf,
    },
    /// An existing device, FIFO or socket, written in place.
    Direct(BufWriter<File>),
}

impl AtomicFile {
    /// Starts writing a replacement for `path`, created with `mode` (Unix
    /// permission bits, e.g. `0o600` for secrets) where the platform has them.
    ///
    /// # Errors
    /// The directory is not writable, or an existing special file cannot be
    /// opened for writing.
    pub fn create(path: &Path, mode: Option<u32>) -> io::Result<Self> {
        // Follow symbolic links: the rename replaces the file they point to.
        let path = match fs::canonicalize(path) {
            Ok(real) => real,
            Err(e) if e.kind() == io::ErrorKind::NotFound => path.to_path_buf(),
            Err(e) => return Err(e),
        };
        if let Ok(meta) = fs::metadata(&path) {
            if !meta.is_file() && !meta.is_dir() {
                let file = fs::OpenOptions::new().write(true).open(&path)?;
                return Ok(AtomicFile {
                    inner: Inner::Direct(BufWriter::with_capacity(1 << 20, file)),
                });
            }
        }
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
            inner: Inner::Temp {
                tmp: BufWriter::with_capacity(1 << 20, tmp),
                path,
            },
        })
    }

    /// Flushes, syncs and renames the file into place (a special file is
    /// only flushed).
    ///
    /// # Errors
    /// Flushing or renaming failed; the target is then untouched.
    pub fn commit(self) -> io::Result<()> {
        match self.inner {
            Inner::Temp { tmp, path } => {
                let tmp = tmp.into_inner().map_err(io::IntoInnerError::into_error)?;
                tmp.as_file().sync_all()?;
                tmp.persist(&path).map_err(|e| e.error)?;
            }
            Inner::Direct(mut file) => file.flush()?,
        }
        Ok(())
    }

    fn writer(&mut self) -> &mut dyn Write {
        match &mut self.inner {
            Inner::Temp { tmp, .. } => tmp,
            Inner::Direct(file) => file,
        }
    }
}

impl Write for AtomicFile {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.writer().write(buf)
    }

    fn write_all(&mut self, buf: &[u8]) -> io::Result<()> {
        self.writer().write_all(buf)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.writer().flush()
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

    #[cfg(unix)]
    #[test]
    fn special_files_are_written_in_place_not_replaced() {
        use std::io::Read;
        use std::os::unix::fs::FileTypeExt;
        let dir = tempfile::tempdir().unwrap();
        let fifo = dir.path().join("pipe");
        let made = std::process::Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .unwrap();
        assert!(made.success());
        let reader = {
            let fifo = fifo.clone();
            std::thread::spawn(move || {
                let mut got = std::vec::Vec::new();
                fs::File::open(fifo).unwrap().read_to_end(&mut got).unwrap();
                got
            })
        };
        let mut f = AtomicFile::create(&fifo, Some(0o600)).unwrap();
        f.write_all(b"through the pipe").unwrap();
        f.commit().unwrap();
        assert_eq!(reader.join().unwrap(), b"through the pipe");
        let kind = fs::symlink_metadata(&fifo).unwrap().file_type();
        assert!(kind.is_fifo(), "the FIFO was replaced by a regular file");
        assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 1);
    }

    #[cfg(unix)]
    #[test]
    fn a_symlink_keeps_pointing_at_the_replaced_file() {
        let dir = tempfile::tempdir().unwrap();
        let real = dir.path().join("real.csv");
        let link = dir.path().join("link.csv");
        fs::write(&real, b"old").unwrap();
        std::os::unix::fs::symlink(&real, &link).unwrap();
        let mut f = AtomicFile::create(&link, None).unwrap();
        f.write_all(b"new").unwrap();
        f.commit().unwrap();
        assert!(
            fs::symlink_metadata(&link)
                .unwrap()
                .file_type()
                .is_symlink()
        );
        assert_eq!(fs::read(&real).unwrap(), b"new");
    }
}
