//! The C heap's thresholds, set for the work `deid` does (glibc only).
//!
//! The Parquet writer (src/io/parquet.rs) grows a buffer of a few megabytes
//! for every column chunk, page by page, and frees it once the chunk is
//! written. glibc serves blocks that large with `mmap` and gives the top of
//! a heap back to the kernel when it frees enough, so each chunk's pages
//! were unmapped and then faulted in and zeroed again for the next chunk: a
//! sixth of `apply`'s time on benches/parquet.sh (1 of 5.3 CPU seconds in
//! the kernel). With both thresholds raised the pages are reused; the peak
//! resident size barely moves (63 against 59 MB on that bench).

// The one foreign call of the binary, below.
#![allow(unsafe_code)]

/// Raises glibc's mmap and trim thresholds; nothing elsewhere.
pub fn tune() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        // glibc's ceiling for the mmap threshold on 64-bit targets (it
        // refuses larger values); blocks above it are rare here.
        const MMAP_THRESHOLD: libc::c_int = 32 << 20;
        // Free memory kept at the top of a heap before it is returned.
        const TRIM_THRESHOLD: libc::c_int = 256 << 20;
        // SAFETY: `mallopt` only sets the allocator's parameters, under the
        // allocator's own lock; no memory is read or written by the caller.
        unsafe {
            libc::mallopt(libc::M_MMAP_THRESHOLD, MMAP_THRESHOLD);
            libc::mallopt(libc::M_TRIM_THRESHOLD, TRIM_THRESHOLD);
        }
    }
}
