//! The `pseudonymize` transform: keyed, one-way, stable pseudonyms.
//!
//! `encode(HMAC-SHA256(subkey("pseudonym", ctx, 32), value)[..bytes])`.
//! The same key and context give the same pseudonym in every file, so
//! pseudonymized exports stay joinable; a different context makes them
//! unlinkable. Without the key, a pseudonym cannot be recomputed from a
//! guessed value, which is what separates it from a plain hash.
//!
//! # Example
//! ```
//! use deid::encoding::Encoding;
//! use deid::transform::pseudonym::Pseudonymizer;
//! use deid::MasterKey;
//!
//! let key = MasterKey::from_bytes(1, [7u8; 32]);
//! let p = Pseudonymizer::new(&key, "customer-phone", 16, Encoding::Hex).unwrap();
//! let mut out = [0u8; 64];
//! let a = p.pseudonymize(b"+821012345678", &mut out).unwrap().to_owned();
//! assert_eq!(a.len(), 32);
//! assert_eq!(p.pseudonymize(b"+821012345678", &mut out).unwrap(), a);
//! ```

use zeroize::Zeroizing;

use crate::backend::{Backend, HmacKey};
use crate::encoding::Encoding;
use crate::error::Error;
use crate::key::{MasterKey, Purpose};

/// Bytes of MAC kept by default (128 bits).
pub const DEFAULT_BYTES: usize = 16;
/// Fewest bytes allowed: below 8 bytes (64 bits) collisions between distinct
/// people become likely in large exports.
pub const MIN_BYTES: usize = 8;
/// Most bytes: the whole HMAC-SHA256 output.
pub const MAX_BYTES: usize = 32;

/// A pseudonymizer for one field: the keyed HMAC state is set up once here and
/// reused for every value.
pub struct Pseudonymizer {
    mac: HmacKey,
    bytes: usize,
    encoding: Encoding,
}

impl Pseudonymizer {
    /// A pseudonymizer with the default backend.
    ///
    /// # Errors
    /// [`Error::Config`] if `bytes` is outside `8..=32`.
    pub fn new(
        key: &MasterKey,
        context: &str,
        bytes: usize,
        encoding: Encoding,
    ) -> Result<Self, Error> {
        Self::with_backend(Backend::default(), key, context, bytes, encoding)
    }

    /// A pseudonymizer computing HMAC-SHA256 with `backend`.
    ///
    /// # Errors
    /// As [`Pseudonymizer::new`].
    pub fn with_backend(
        backend: Backend,
        key: &MasterKey,
        context: &str,
        bytes: usize,
        encoding: Encoding,
    ) -> Result<Self, Error> {
        if !(MIN_BYTES..=MAX_BYTES).contains(&bytes) {
            return Err(Error::Config("bytes (8 to 32)"));
        }
        let sub: Zeroizing<[u8; 32]> = key.subkey(Purpose::Pseudonym, context)?;
        let mac = HmacKey::new(backend, &*sub);
        Ok(Pseudonymizer {
            mac,
            bytes,
            encoding,
        })
    }

    /// Length of every pseudonym this instance writes.
    pub const fn output_len(&self) -> usize {
        self.encoding.encoded_len(self.bytes)
    }

    /// The most bytes [`Self::pseudonymize`] writes for a value of
    /// `input_len` bytes: [`Self::output_len`], whatever the input.
    pub const fn max_output_len(&self, _input_len: usize) -> usize {
        self.output_len()
    }

    /// Writes the pseudonym of `value` into the front of `out`.
    ///
    /// # Errors
    /// [`Error::BufferTooSmall`] if `out` is shorter than [`Self::output_len`].
    #[inline]
    pub fn pseudonymize<'a>(&self, value: &[u8], out: &'a mut [u8]) -> Result<&'a str, Error> {
        let tag = self.mac.mac(value);
        self.encoding.encode(&tag[..self.bytes], out)
    }

    /// The raw truncated MAC of `value` (for callers that encode themselves).
    #[inline]
    pub fn mac(&self, value: &[u8]) -> [u8; 32] {
        self.mac.mac(value)
    }
}

impl super::Transform for Pseudonymizer {
    fn max_output_len(&self, input_len: usize) -> usize {
        Pseudonymizer::max_output_len(self, input_len)
    }

    fn apply<'a>(&self, value: &[u8], out: &'a mut [u8]) -> Result<&'a [u8], Error> {
        self.pseudonymize(value, out).map(str::as_bytes)
    }
}

impl core::fmt::Debug for Pseudonymizer {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Pseudonymizer")
            .field("bytes", &self.bytes)
            .field("encoding", &self.encoding)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn context_and_key_separate_pseudonyms() {
        let k1 = MasterKey::from_bytes(1, [1; 32]);
        let k2 = MasterKey::from_bytes(2, [2; 32]);
        let mut a = [0u8; 64];
        let mut b = [0u8; 64];
        let p = |k, c| Pseudonymizer::new(k, c, 16, Encoding::Hex).unwrap();
        let base = p(&k1, "phone").pseudonymize(b"x", &mut a).unwrap();
        assert_ne!(base, p(&k1, "email").pseudonymize(b"x", &mut b).unwrap());
        assert_ne!(base, p(&k2, "phone").pseudonymize(b"x", &mut b).unwrap());
        assert_ne!(base, p(&k1, "phone").pseudonymize(b"y", &mut b).unwrap());
    }

    #[test]
    fn lengths_and_limits() {
        let k = MasterKey::from_bytes(1, [1; 32]);
        for (bytes, enc, len) in [
            (16, Encoding::Hex, 32),
            (32, Encoding::Base32, 52),
            (8, Encoding::Base64Url, 11),
        ] {
            let p = Pseudonymizer::new(&k, "c", bytes, enc).unwrap();
            assert_eq!(p.output_len(), len);
            let mut out = [0u8; 64];
            assert_eq!(p.pseudonymize(b"v", &mut out).unwrap().len(), len);
            assert_eq!(
                p.pseudonymize(b"v", &mut out[..len - 1]),
                Err(Error::BufferTooSmall(len))
            );
        }
        assert!(Pseudonymizer::new(&k, "c", 7, Encoding::Hex).is_err());
        assert!(Pseudonymizer::new(&k, "c", 33, Encoding::Hex).is_err());
    }
}
