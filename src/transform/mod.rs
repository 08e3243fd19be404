//! Field transforms (docs/FORMAT.md, "Field transforms") as `no_std`
//! primitives on caller buffers, and (with `alloc`) the serde types that
//! configure them per field.
//!
//! | module | transform |
//! |---|---|
//! | [`pseudonym`] | `pseudonymize`: keyed HMAC-SHA256 pseudonyms |
//! | [`encrypt`] | `encrypt`: AES-256-GCM (randomized) or AES-SIV (deterministic) tokens |
//! | [`fpe`] | `fpe`: FF1 format-preserving encryption of digits |
//! | [`generalize`] | `generalize`: year, year-month, age band, bucket, prefix, top/bottom coding |
//! | [`mask`] | `mask`: keep first/last characters |
//! | [`dateshift`] | `dateshift`: per-subject date offsets |
//! | [`hierarchy`] (with `alloc`) | `generalize` by an ARX hierarchy or a built-in one, at a level |
//! | `redact` (with `alloc`) | `redact`: identifiers inside free text replaced by pseudonyms, tokens or tags |
//!
//! # One contract
//! Every transform writes into a caller's buffer and publishes, before it
//! runs, the most room it can need: `max_output_len(n)` for a value of `n`
//! bytes (an inherent `const fn` on each type, and the [`Transform`] trait).
//! A buffer of that length never gives [`Error::BufferTooSmall`].
//!
//! | type | `max_output_len(n)` |
//! |---|---|
//! | [`pseudonym::Pseudonymizer`] | the encoded length of `bytes` (independent of `n`) |
//! | [`encrypt::RandomizedCipher`] | `base64url(5 + 12 + n + 16)` |
//! | [`encrypt::DeterministicCipher`] | `base64url(5 + 16 + n)` |
//! | [`fpe::Ff1Digits`] | `n` (same length and layout) |
//! | [`generalize::Generalization`] | 4, 7, two 64-bit labels and a dash, `n`, or `max(n, 22)` by target |
//! | [`mask::Mask`] | `n` times the UTF-8 length of the mask character |
//! | [`dateshift::DateShifter`] | `n` (same layout, time part copied) |

use crate::error::Error;

pub mod dateshift;
pub mod encrypt;
pub mod fpe;
pub mod generalize;
pub mod mask;
pub mod pseudonym;
mod siv;

#[cfg(feature = "alloc")]
pub mod hierarchy;
#[cfg(feature = "alloc")]
pub mod redact;
#[cfg(feature = "alloc")]
mod spec;
#[cfg(feature = "alloc")]
pub use spec::{EmptyRule, EncryptMode, FieldSpec, TransformKind, TransformSpec};

/// A field transform as a value-to-bytes function on caller buffers.
///
/// [`Transform::apply`] writes the output for `value` into the front of
/// `out` and returns it. It never needs more than
/// [`Transform::max_output_len`]`(value.len())` bytes: sized to that, `out`
/// is never too small, so callers size once from the published length
/// instead of guessing.
///
/// Implemented by [`pseudonym::Pseudonymizer`], [`encrypt::DeterministicCipher`],
/// [`fpe::Ff1Digits`], [`generalize::Generalization`], [`mask::Mask`] and,
/// bound to a subject, [`dateshift::SubjectShift`]. [`encrypt::RandomizedCipher`]
/// publishes the same `max_output_len` but is not a `Transform`: every value
/// needs a fresh nonce from a `&mut` RNG, which a `&self` method cannot draw
/// without interior mutability, and an adapter holding a drawn nonce could be
/// applied twice, which is GCM's one fatal misuse.
///
/// # Example
/// ```
/// use deid::transform::Transform;
/// use deid::transform::mask::Mask;
///
/// fn run(t: &dyn Transform, value: &[u8]) -> Vec<u8> {
///     let mut out = vec![0u8; t.max_output_len(value.len())];
///     let n = t.apply(value, &mut out).unwrap().len();
///     out.truncate(n);
///     out
/// }
/// let m = Mask { keep_first: 1, keep_last: 0, mask_char: '○' };
/// assert_eq!(run(&m, "abc".as_bytes()), "a○○".as_bytes());
/// ```
pub trait Transform {
    /// The most bytes [`Transform::apply`] writes for a value of
    /// `input_len` bytes.
    fn max_output_len(&self, input_len: usize) -> usize;

    /// Transforms `value` into the front of `out`.
    ///
    /// # Errors
    /// [`Error::Invalid`] naming the rule a value breaks (never the value),
    /// [`Error::DomainTooSmall`] for FF1 under 6 digits, and
    /// [`Error::BufferTooSmall`] only if `out` is shorter than
    /// [`Transform::max_output_len`].
    fn apply<'a>(&self, value: &[u8], out: &'a mut [u8]) -> Result<&'a [u8], Error>;
}

/// Formats `args` into the front of `out`, as `write!` into a `String`
/// would, without an allocator; the written bytes.
///
/// # Errors
/// [`Error::BufferTooSmall`] when the text does not fit `out`.
pub(crate) fn format_into<'a>(
    out: &'a mut [u8],
    args: core::fmt::Arguments<'_>,
) -> Result<&'a [u8], Error> {
    /// `core::fmt::Write` into a byte slice.
    struct SliceWriter<'b> {
        buf: &'b mut [u8],
        len: usize,
    }
    impl core::fmt::Write for SliceWriter<'_> {
        fn write_str(&mut self, s: &str) -> core::fmt::Result {
            let end = self.len.checked_add(s.len()).ok_or(core::fmt::Error)?;
            self.buf
                .get_mut(self.len..end)
                .ok_or(core::fmt::Error)?
                .copy_from_slice(s.as_bytes());
            self.len = end;
            Ok(())
        }
    }
    let mut w = SliceWriter { buf: out, len: 0 };
    let res = core::fmt::write(&mut w, args);
    let len = w.len;
    res.map_err(|_| Error::BufferTooSmall(len.saturating_add(1)))?;
    Ok(&out[..len])
}
