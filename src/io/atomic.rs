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
//!
//! A process killed by a signal runs no destructor. Every temporary file is
//! therefore listed in a process-wide registry from its creation to its
//! commit or drop, and a signal handler (the binary installs one) calls
//! [`discard_uncommitted`] to remove them before exiting.
//!
//! The commit waits for the file to reach the disk (`fsync`). On Linux the
//! kernel is asked to start writing each 8 MiB as soon as it is written
//! (`sync_file_range`), so the disk works while the file is still being
//! produced and the final `fsync` waits only for the tail. Without it, a
//! 1 GB output spent 0.5 s of `deid apply`'s 2.7 s in that `fsync`
//! (benches/parquet.sh).

use std::fs::{self, File};
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, MutexGuard};
use std::vec::Vec;

use tempfile::NamedTempFile;

/// Temporary files not yet committed or dropped, by registration number.
static LIVE: Mutex<Vec<(u64, PathBuf)>> = Mutex::new(Vec::new());
/// The next registration number.
static NEXT: AtomicU64 = AtomicU64::new(0);

fn live() -> MutexGuard<'static, Vec<(u64, PathBuf)>> {
    // A panic while the lock was held leaves a usable list.
    LIVE.lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// Removes every temporary file not yet committed, then runs `then` with
/// their number while still holding the registry, so that no output can be
/// committed (or new one started) in between: for a signal handler, `then`
/// exits the process.
///
/// # Example
/// ```no_run
/// deid::io::atomic::discard_uncommitted(|_removed| std::process::exit(130));
/// ```
pub fn discard_uncommitted<R>(then: impl FnOnce(usize) -> R) -> R {
    let mut list = live();
    let mut removed = 0;
    for (_, path) in list.drain(..) {
        if fs::remove_file(&path).is_ok() {
            removed += 1;
        }
    }
    then(removed)
}

/// A temporary file's place in the registry, left on drop.
#[derive(Debug)]
struct Registered(u64);

impl Registered {
    /// Lists `path`; the caller holds the registry (`list`).
    fn new(list: &mut Vec<(u64, PathBuf)>, path: &Path) -> Self {
        let id = NEXT.fetch_add(1, Ordering::Relaxed);
        list.push((id, path.to_path_buf()));
        Registered(id)
    }
}

impl Drop for Registered {
    fn drop(&mut self) {
        live().retain(|(id, _)| *id != self.0);
    }
}

/// A file being written that replaces `path` only on [`AtomicFile::commit`].
#[derive(Debug)]
pub struct AtomicFile {
    // Declared first so it is dropped after `inner` has removed the file.
    inner: Inner,
    registered: Option<Registered>,
}

#[derive(Debug)]
enum Inner {
    /// A temporary file beside the target, renamed onto it on commit.
    Temp {
        tmp: BufWriter<WriteBehind>,
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
                    registered: None,
                });
            }
        }
        let dir = match path.parent() {
            Some(d) if !d.as_os_str().is_empty() => d,
            _ => Path::new("."),
        };
        // Created and listed under the registry's lock: a signal handler sees
        // either no file or a listed one.
        let mut list = live();
        let tmp = tempfile::Builder::new()
            .prefix(".deid-")
            .suffix(".tmp")
            .tempfile_in(dir)?;
        let registered = Registered::new(&mut list, tmp.path());
        drop(list);
        #[cfg(unix)]
        if let Some(mode) = mode {
            use std::os::unix::fs::PermissionsExt;
            fs::set_permissions(tmp.path(), fs::Permissions::from_mode(mode))?;
        }
        #[cfg(not(unix))]
        let _ = mode;
        Ok(AtomicFile {
            inner: Inner::Temp {
                tmp: BufWriter::with_capacity(1 << 20, WriteBehind::new(tmp)),
                path,
            },
            registered: Some(registered),
        })
    }

    /// Flushes, syncs and renames the file into place (a special file is
    /// only flushed).
    ///
    /// # Errors
    /// Flushing or renaming failed; the target is then untouched.
    pub fn commit(self) -> io::Result<()> {
        let AtomicFile { inner, registered } = self;
        match inner {
            Inner::Temp { tmp, path } => {
                let tmp = tmp
                    .into_inner()
                    .map_err(io::IntoInnerError::into_error)?
                    .file;
                tmp.as_file().sync_all()?;
                // Renamed under the registry's lock: a signal handler removes
                // the temporary file either before (no output) or not at all.
                let list = live();
                tmp.persist(&path).map_err(|e| e.error)?;
                drop(list);
                drop(registered);
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

/// A temporary file whose written bytes the kernel is asked to start
/// writing to disk every [`WriteBehind::WINDOW`] bytes.
#[derive(Debug)]
struct WriteBehind {
    file: NamedTempFile,
    /// Bytes written so far.
    written: u64,
    /// Bytes already handed to the kernel for writing.
    started: u64,
}

impl WriteBehind {
    /// How much is written before writeback of it starts: large enough that
    /// the call is rare, small enough that the disk starts early (2 to
    /// 32 MiB measure the same on benches/parquet.sh).
    const WINDOW: u64 = 8 << 20;

    fn new(file: NamedTempFile) -> Self {
        WriteBehind {
            file,
            written: 0,
            started: 0,
        }
    }

    /// Starts writeback of the bytes written since the last call. Only a
    /// hint: its errors are those the `fsync` of the commit reports.
    #[cfg(target_os = "linux")]
    fn start_writeback(&mut self) {
        use std::os::fd::AsRawFd;
        // `off64_t` (glibc) and `off_t` (musl) are both 64 bits.
        let (Ok(offset), Ok(len)) = (
            i64::try_from(self.started),
            i64::try_from(self.written - self.started),
        ) else {
            return;
        };
        // SAFETY: `sync_file_range` reads no memory of the caller; it takes
        // a descriptor this struct owns (open for its whole life) and a byte
        // range, and only schedules that range of the file for writeback.
        #[allow(unsafe_code)]
        let _ = unsafe {
            libc::sync_file_range(
                self.file.as_file().as_raw_fd(),
                offset,
                len,
                libc::SYNC_FILE_RANGE_WRITE,
            )
        };
        self.started = self.written;
    }

    #[cfg(not(target_os = "linux"))]
    fn start_writeback(&mut self) {}
}

impl Write for WriteBehind {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.file.write(buf)?;
        self.written += n as u64;
        if self.written - self.started >= Self::WINDOW {
            self.start_writeback();
        }
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.file.flush()
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

    #[test]
    fn writeback_is_started_window_by_window_and_keeps_every_byte() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("out.bin");
        let window = usize::try_from(WriteBehind::WINDOW).unwrap();
        // Two and a half windows in pieces that straddle the boundaries.
        let data: Vec<u8> = (0..window * 5 / 2).map(|i| (i % 251) as u8).collect();
        let mut f = AtomicFile::create(&target, None).unwrap();
        for piece in data.chunks(3 << 20 | 17) {
            f.write_all(piece).unwrap();
        }
        let Inner::Temp { tmp, .. } = &mut f.inner else {
            panic!("a new file is written through a temporary file");
        };
        tmp.flush().unwrap();
        let behind = tmp.get_ref();
        assert_eq!(behind.written, data.len() as u64);
        if cfg!(target_os = "linux") {
            // Started at each window crossed, not for the unfinished tail.
            assert!(behind.started >= 2 * WriteBehind::WINDOW);
            assert!(behind.started <= behind.written);
            assert!(behind.written - behind.started < WriteBehind::WINDOW);
        }
        f.commit().unwrap();
        assert!(fs::read(&target).unwrap() == data, "content changed");
    }

    #[test]
    fn temporary_files_are_registered_until_commit_or_drop() {
        let dir = tempfile::tempdir().unwrap();
        let listed = || -> usize {
            live()
                .iter()
                .filter(|(_, p)| p.starts_with(dir.path()))
                .count()
        };
        let dropped = AtomicFile::create(&dir.path().join("a.csv"), None).unwrap();
        let committed = AtomicFile::create(&dir.path().join("b.csv"), None).unwrap();
        assert_eq!(listed(), 2);
        drop(dropped);
        assert_eq!(listed(), 1);
        committed.commit().unwrap();
        assert_eq!(listed(), 0);
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
