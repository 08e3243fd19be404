//! The `mask` transform: keep the first and last characters, mask the rest.
//!
//! A value no longer than `keep_first + keep_last` is masked entirely, so a
//! short value is never shown whole.
//!
//! # Example
//! ```
//! use deid::transform::mask::Mask;
//! let m = Mask { keep_first: 3, keep_last: 4, mask_char: '*' };
//! let mut out = [0u8; 32];
//! assert_eq!(m.apply(b"010-1234-5678", &mut out).unwrap(), b"010******5678");
//! assert_eq!(m.apply(b"short", &mut out).unwrap(), b"*****");
//! ```

use crate::error::Error;

/// Which characters survive masking.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Mask {
    /// Characters kept at the start.
    pub keep_first: usize,
    /// Characters kept at the end.
    pub keep_last: usize,
    /// The character written in place of each masked one.
    pub mask_char: char,
}

impl Default for Mask {
    fn default() -> Self {
        Mask {
            keep_first: 0,
            keep_last: 4,
            mask_char: '*',
        }
    }
}

impl Mask {
    /// The most bytes [`Self::apply`] writes for a value of `input_len`
    /// bytes: `input_len` times the UTF-8 length of `mask_char`. Each
    /// character of `l` bytes becomes itself or the mask character of `m`
    /// bytes, at most `max(l, m) <= l * m` bytes, and the `l` sum to
    /// `input_len`.
    pub const fn max_output_len(&self, input_len: usize) -> usize {
        input_len.saturating_mul(self.mask_char.len_utf8())
    }

    /// Masks `value` (UTF-8, counted in characters) into the front of `out`.
    ///
    /// # Errors
    /// [`Error::Invalid`] for non-UTF-8 input, [`Error::BufferTooSmall`] if
    /// `out` is shorter than the output (at most [`Self::max_output_len`]).
    pub fn apply<'a>(&self, value: &[u8], out: &'a mut [u8]) -> Result<&'a [u8], Error> {
        let s = core::str::from_utf8(value).map_err(|_| Error::Invalid("UTF-8"))?;
        let n = s.chars().count();
        let show_all_masked = n <= self.keep_first + self.keep_last;
        let mut len = 0;
        let mut utf8 = [0u8; 4];
        for (i, c) in s.chars().enumerate() {
            let keep = !show_all_masked && (i < self.keep_first || i >= n - self.keep_last);
            let c = if keep { c } else { self.mask_char };
            let enc = c.encode_utf8(&mut utf8).as_bytes();
            let needed = len + enc.len();
            out.get_mut(len..needed)
                .ok_or(Error::BufferTooSmall(self.max_output_len(value.len())))?
                .copy_from_slice(enc);
            len = needed;
        }
        Ok(&out[..len])
    }
}

impl super::Transform for Mask {
    fn max_output_len(&self, input_len: usize) -> usize {
        Mask::max_output_len(self, input_len)
    }

    fn apply<'a>(&self, value: &[u8], out: &'a mut [u8]) -> Result<&'a [u8], Error> {
        Mask::apply(self, value, out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masks_by_character() {
        let mut out = [0u8; 64];
        let m = Mask {
            keep_first: 1,
            keep_last: 0,
            mask_char: '○',
        };
        assert_eq!(
            core::str::from_utf8(m.apply("김민준".as_bytes(), &mut out).unwrap()).unwrap(),
            "김○○"
        );
        let m = Mask {
            keep_first: 0,
            keep_last: 0,
            mask_char: '#',
        };
        assert_eq!(m.apply(b"abc", &mut out).unwrap(), b"###");
        assert_eq!(
            Mask::default()
                .apply(b"4111111111111111", &mut out)
                .unwrap(),
            b"************1111"
        );
        assert_eq!(Mask::default().apply(b"", &mut out).unwrap(), b"");
        assert!(Mask::default().apply(&[0xff], &mut out).is_err());
    }
}
