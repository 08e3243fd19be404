//! The operating system's random source: the one place deid calls
//! `getrandom`. [`OsRng`] makes keys (`deid keygen`); [`BufferedOsRng`], a
//! per-thread buffer over it, makes nonces, so each costs a memcpy rather
//! than a system call.
//!
//! The core takes any `rand_core::CryptoRng` from its caller and never
//! reaches for the OS itself, so it stays `no_std`.

/// The operating system's random source as a `rand_core` RNG (`getrandom`).
///
/// # Panics
/// If the OS random source fails: without randomness no safe key or nonce
/// can be made, so it stops rather than continue with predictable bytes.
#[derive(Clone, Copy, Debug, Default)]
pub struct OsRng;

impl rand_core::TryRng for OsRng {
    type Error = core::convert::Infallible;

    fn try_next_u32(&mut self) -> Result<u32, Self::Error> {
        rand_core::utils::next_word_via_fill(self)
    }

    fn try_next_u64(&mut self) -> Result<u64, Self::Error> {
        rand_core::utils::next_word_via_fill(self)
    }

    #[allow(clippy::panic)]
    fn try_fill_bytes(&mut self, dst: &mut [u8]) -> Result<(), Self::Error> {
        if let Err(e) = getrandom::fill(dst) {
            // Without randomness no safe nonce or key can be made: stop
            // rather than continue with predictable bytes.
            std::panic!("the OS random source failed: {e}");
        }
        Ok(())
    }
}

impl rand_core::TryCryptoRng for OsRng {}

/// Reads 4 KiB from the OS at a time and hands it out.
pub struct BufferedOsRng {
    buf: [u8; 4096],
    pos: usize,
}

impl Default for BufferedOsRng {
    fn default() -> Self {
        BufferedOsRng {
            buf: [0; 4096],
            pos: 4096,
        }
    }
}

impl std::fmt::Debug for BufferedOsRng {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("BufferedOsRng { .. }")
    }
}

impl Drop for BufferedOsRng {
    fn drop(&mut self) {
        zeroize::Zeroize::zeroize(&mut self.buf[..]);
    }
}

impl rand_core::TryRng for BufferedOsRng {
    type Error = core::convert::Infallible;

    fn try_next_u32(&mut self) -> Result<u32, Self::Error> {
        rand_core::utils::next_word_via_fill(self)
    }

    fn try_next_u64(&mut self) -> Result<u64, Self::Error> {
        rand_core::utils::next_word_via_fill(self)
    }

    fn try_fill_bytes(&mut self, dst: &mut [u8]) -> Result<(), Self::Error> {
        let mut done = 0;
        while done < dst.len() {
            if self.pos == self.buf.len() {
                rand_core::TryRng::try_fill_bytes(&mut OsRng, &mut self.buf)?;
                self.pos = 0;
            }
            let n = (dst.len() - done).min(self.buf.len() - self.pos);
            dst[done..done + n].copy_from_slice(&self.buf[self.pos..self.pos + n]);
            // Bytes handed out are erased from the buffer.
            self.buf[self.pos..self.pos + n].fill(0);
            self.pos += n;
            done += n;
        }
        Ok(())
    }
}

impl rand_core::TryCryptoRng for BufferedOsRng {}
