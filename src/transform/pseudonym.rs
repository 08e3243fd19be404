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
use crate::encoding::{Encoding, ascii_text};
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
        self.pseudonym_bytes(value, out).and_then(ascii_text)
    }

    /// [`Self::pseudonymize`] as bytes (ASCII by construction), without
    /// checking them as text: what the pipelines write.
    fn pseudonym_bytes<'a>(&self, value: &[u8], out: &'a mut [u8]) -> Result<&'a [u8], Error> {
        let tag = self.mac.mac(value);
        self.encoding.encode_bytes(&tag[..self.bytes], out)
    }

    /// The raw truncated MAC of `value` (for callers that encode themselves).
    #[inline]
    pub fn mac(&self, value: &[u8]) -> [u8; 32] {
        self.mac.mac(value)
    }

    /// The raw MACs of four values at once, equal to four calls of
    /// [`Self::mac`]. With the RustCrypto backend on an x86-64 CPU with the
    /// SHA extensions, four values of at most 55 bytes have their inner and
    /// then their outer compressions run interleaved (src/backend/shani.rs);
    /// elsewhere, and in `no_std`, they run one after the other.
    #[inline]
    pub fn mac4(&self, values: [&[u8]; 4]) -> [[u8; 32]; 4] {
        self.mac.mac4(values)
    }

    /// Writes the pseudonyms of `values` back to back into `out`: the
    /// pseudonym of `values[i]` is `out[i * L..(i + 1) * L]`, with `L` =
    /// [`Self::output_len`] (every pseudonym has that length). Byte-identical
    /// to [`Self::pseudonymize`] on each value; groups of twenty go through
    /// one interleaved kernel where the CPU has SHA-NI and AVX-512 and
    /// that kernel was timed faster than the SHA unit alone
    /// (src/backend/shani.rs), groups of four through [`Self::mac4`].
    ///
    /// # Errors
    /// [`Error::BufferTooSmall`] if `out` is shorter than `values.len() * L`
    /// (then nothing is written).
    ///
    /// # Example
    /// ```
    /// use deid::encoding::Encoding;
    /// use deid::transform::pseudonym::Pseudonymizer;
    /// use deid::MasterKey;
    ///
    /// let p = Pseudonymizer::new(&MasterKey::from_bytes(1, [7; 32]), "c", 8, Encoding::Hex).unwrap();
    /// let values: [&[u8]; 5] = [b"a", b"b", b"c", b"d", b"e"];
    /// let mut out = [0u8; 5 * 16];
    /// p.pseudonymize_batch(&values, &mut out).unwrap();
    /// let mut one = [0u8; 16];
    /// assert_eq!(&out[32..48], p.pseudonymize(b"c", &mut one).unwrap().as_bytes());
    /// ```
    pub fn pseudonymize_batch(&self, values: &[&[u8]], out: &mut [u8]) -> Result<(), Error> {
        let len = self.output_len();
        let need = values.len().saturating_mul(len);
        let out = out.get_mut(..need).ok_or(Error::BufferTooSmall(need))?;
        let mut slots = out.chunks_exact_mut(len);
        // Each slot is exactly `output_len` bytes: the encoding of
        // `self.bytes` bytes of a tag.
        let mut encode = |tags: &[[u8; 32]]| {
            for (tag, slot) in tags.iter().zip(&mut slots) {
                self.encoding.encode_exact(&tag[..self.bytes], slot);
            }
        };
        // Twenty at a time where the CPU runs them together, then fours.
        // A group of twenty that the wide kernel declines (a value past one
        // block, or no such kernel here) goes four at a time.
        let mut rest = values;
        while let Some((group, after)) = rest.split_first_chunk::<20>() {
            match self.mac.mac20(*group) {
                Some(tags) => encode(&tags),
                None => {
                    for g in group.chunks_exact(4) {
                        encode(&self.mac.mac4([g[0], g[1], g[2], g[3]]));
                    }
                }
            }
            rest = after;
        }
        let mut groups = rest.chunks_exact(4);
        for group in &mut groups {
            encode(&self.mac.mac4([group[0], group[1], group[2], group[3]]));
        }
        for (value, slot) in groups.remainder().iter().zip(slots) {
            self.pseudonymize(value, slot)?;
        }
        Ok(())
    }

    /// The code path [`Self::mac4`] and [`Self::pseudonymize_batch`] take
    /// for short values on this machine, e.g. `SHA-NI, 4 values interleaved`.
    pub fn batch_path(&self) -> &'static str {
        self.mac.batch_path()
    }
}

impl super::Transform for Pseudonymizer {
    fn max_output_len(&self, input_len: usize) -> usize {
        Pseudonymizer::max_output_len(self, input_len)
    }

    fn apply<'a>(&self, value: &[u8], out: &'a mut [u8]) -> Result<&'a [u8], Error> {
        self.pseudonym_bytes(value, out)
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
            // The pipelines' path writes the same bytes and refuses the
            // same buffer.
            use crate::transform::Transform;
            let mut text = [0u8; 64];
            let want = p.pseudonymize(b"v", &mut text).unwrap();
            assert_eq!(p.apply(b"v", &mut out).unwrap(), want.as_bytes());
            assert_eq!(
                p.apply(b"v", &mut out[..len - 1]),
                Err(Error::BufferTooSmall(len))
            );
        }
        assert!(Pseudonymizer::new(&k, "c", 7, Encoding::Hex).is_err());
        assert!(Pseudonymizer::new(&k, "c", 33, Encoding::Hex).is_err());
    }

    /// The batch path is byte-identical to one value at a time: every value
    /// length 0..=80 (both sides of the 55-byte one-block limit), batch
    /// sizes 0..=9 and around groups of twenty (whole groups of four and
    /// twenty, and remainders), with lengths mixed and with every value
    /// short (so groups of twenty take their kernel where the CPU has it),
    /// every backend, encoding and a short and a full MAC; and a batch whose
    /// first group alone holds a long value.
    #[test]
    fn batch_equals_one_at_a_time_at_every_length() {
        let k = MasterKey::from_bytes(3, [9; 32]);
        let data: [u8; 200] = core::array::from_fn(|i| (i as u8).wrapping_mul(73) ^ 0xa5);
        for &backend in Backend::available() {
            for (bytes, enc) in [
                (16, Encoding::Hex),
                (32, Encoding::Base32),
                (8, Encoding::Base64Url),
            ] {
                let p = Pseudonymizer::with_backend(backend, &k, "batch", bytes, enc).unwrap();
                // The twenty-way kernel wherever the CPU can run it, also
                // where it was timed slower than the SHA unit alone.
                let p = Pseudonymizer {
                    mac: p.mac.with_every_kernel(),
                    ..p
                };
                let l = p.output_len();
                for (len, short) in (0..=80usize).flat_map(|l| [(l, false), (l, true)]) {
                    for n in (0..=9usize).chain([19, 20, 21, 24, 40, 43]) {
                        let values: [&[u8]; 43] = core::array::from_fn(|i| {
                            let vlen = (len + i * 17) % if short { 56 } else { 81 };
                            &data[i * 2..i * 2 + vlen]
                        });
                        let values = &values[..n];
                        let mut out = [0u8; 43 * 52];
                        p.pseudonymize_batch(values, &mut out).unwrap();
                        let mut one = [0u8; 64];
                        for (i, v) in values.iter().enumerate() {
                            let want = p.pseudonymize(v, &mut one).unwrap();
                            assert_eq!(
                                &out[i * l..(i + 1) * l],
                                want.as_bytes(),
                                "len {len} n {n} lane {i}"
                            );
                        }
                        if n == 4 {
                            let four = [values[0], values[1], values[2], values[3]];
                            assert_eq!(p.mac4(four), four.map(|v| p.mac(v)));
                        }
                    }
                }
                // One long value declines the first group of twenty only.
                let values: [&[u8]; 43] =
                    core::array::from_fn(|i| &data[i..i + if i == 3 { 70 } else { i % 40 }]);
                let mut out = [0u8; 43 * 52];
                p.pseudonymize_batch(&values, &mut out).unwrap();
                let mut one = [0u8; 64];
                for (i, v) in values.iter().enumerate() {
                    let want = p.pseudonymize(v, &mut one).unwrap();
                    assert_eq!(&out[i * l..(i + 1) * l], want.as_bytes(), "lane {i}");
                }
                let values: [&[u8]; 3] = [b"a", b"b", b"c"];
                let mut small = [0u8; 3 * 52];
                assert_eq!(
                    p.pseudonymize_batch(&values, &mut small[..3 * l - 1]),
                    Err(Error::BufferTooSmall(3 * l))
                );
            }
        }
    }
}
