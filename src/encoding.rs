//! Text encodings of pseudonyms and tokens into caller buffers: lowercase hex,
//! RFC 4648 base32 (lowercase, no padding), base64url (no padding).
//!
//! # Example
//! ```
//! use deid::encoding::Encoding;
//! let mut buf = [0u8; 16];
//! assert_eq!(Encoding::Hex.encode(&[0xde, 0xad], &mut buf).unwrap(), "dead");
//! assert_eq!(Encoding::Base32.encode(b"f", &mut buf).unwrap(), "my");
//! assert_eq!(Encoding::Base64Url.encode(&[0xfb, 0xff], &mut buf).unwrap(), "-_8");
//! ```

use core::fmt;
use core::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::error::Error;

/// How a pseudonym's bytes are written as text.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Encoding {
    /// Lowercase hexadecimal (the default).
    #[default]
    Hex,
    /// RFC 4648 base32, lowercase, no padding.
    Base32,
    /// RFC 4648 base64url, no padding.
    #[serde(rename = "base64url")]
    Base64Url,
}

impl Encoding {
    /// Length of the text for `n` input bytes.
    pub const fn encoded_len(self, n: usize) -> usize {
        match self {
            Encoding::Hex => 2 * n,
            Encoding::Base32 => (8 * n).div_ceil(5),
            Encoding::Base64Url => (4 * n).div_ceil(3),
        }
    }

    /// The name used in policies.
    pub const fn as_str(self) -> &'static str {
        match self {
            Encoding::Hex => "hex",
            Encoding::Base32 => "base32",
            Encoding::Base64Url => "base64url",
        }
    }

    /// Encodes `input` into the front of `out` and returns it as text.
    ///
    /// # Errors
    /// [`Error::BufferTooSmall`] if `out` is shorter than
    /// [`Encoding::encoded_len`].
    pub fn encode<'a>(self, input: &[u8], out: &'a mut [u8]) -> Result<&'a str, Error> {
        self.encode_bytes(input, out).and_then(ascii_text)
    }

    /// [`Encoding::encode`] as bytes (ASCII by construction), not checked
    /// as text: for a caller that writes them out (the pseudonymizer's
    /// `Transform::apply`).
    pub(crate) fn encode_bytes<'a>(
        self,
        input: &[u8],
        out: &'a mut [u8],
    ) -> Result<&'a [u8], Error> {
        let len = self.encoded_len(input.len());
        let out = out.get_mut(..len).ok_or(Error::BufferTooSmall(len))?;
        self.encode_exact(input, out);
        Ok(out)
    }

    /// [`Encoding::encode`] into `out` of exactly
    /// [`Encoding::encoded_len`] bytes (a caller that checked the length and
    /// needs no `&str`: the pseudonymizer's batch path). The text is ASCII.
    ///
    /// The usual pseudonym, 16 bytes in hex, is written here, inlined into
    /// the caller's loop; every other case goes through
    /// [`Encoding::encode_any`], whose call cost as much as the encoding.
    #[inline]
    pub(crate) fn encode_exact(self, input: &[u8], out: &mut [u8]) {
        #[cfg(target_arch = "x86_64")]
        if self == Encoding::Hex && input.len() == 16 && out.len() == 32 {
            // SAFETY: SSE2, the one feature hex16 enables, is part of
            // x86-64 itself: every x86-64 CPU has it.
            #[allow(unsafe_code)]
            unsafe {
                hex16(input, out);
            }
            return;
        }
        self.encode_any(input, out);
    }

    /// [`Encoding::encode_exact`] for any length and encoding.
    fn encode_any(self, input: &[u8], out: &mut [u8]) {
        match self {
            Encoding::Hex => {
                const HEX: &[u8; 16] = b"0123456789abcdef";
                // Sixteen bytes a step in SSE2 registers on x86-64 (where
                // SSE2 is always present); pseudonyms are 16 bytes by
                // default, so this is the whole of the usual case.
                #[cfg(target_arch = "x86_64")]
                let (input, out) = {
                    let whole = input.len() / 16 * 16;
                    for (src, dst) in input[..whole]
                        .chunks_exact(16)
                        .zip(out.chunks_exact_mut(32))
                    {
                        // SAFETY: SSE2, the one feature hex16 enables, is
                        // part of x86-64 itself: every x86-64 CPU has it.
                        #[allow(unsafe_code)]
                        unsafe {
                            hex16(src, dst);
                        }
                    }
                    (&input[whole..], &mut out[whole * 2..])
                };
                // Four bytes a step in one 64-bit word where words are 64
                // bits; on 32-bit cores (the firmware targets) the table
                // loop alone is both faster and smaller.
                #[cfg(target_pointer_width = "64")]
                let (input, out) = {
                    let whole = input.len() / 4 * 4;
                    for (src, dst) in input[..whole].chunks_exact(4).zip(out.chunks_exact_mut(8)) {
                        let mut four = [0u8; 4];
                        four.copy_from_slice(src);
                        dst.copy_from_slice(&hex4(u32::from_le_bytes(four)).to_le_bytes());
                    }
                    (&input[whole..], &mut out[whole * 2..])
                };
                for (pair, &b) in out.chunks_exact_mut(2).zip(input) {
                    pair[0] = HEX[usize::from(b >> 4)];
                    pair[1] = HEX[usize::from(b & 15)];
                }
            }
            Encoding::Base32 => pack_bits::<5>(input, out, b"abcdefghijklmnopqrstuvwxyz234567"),
            Encoding::Base64Url => {
                // Whole groups of three bytes as four characters each, with
                // no carried state (a pseudonym's 16 bytes are five groups
                // and one byte); what is left, bit by bit.
                let whole = input.len() / 3;
                for (src, dst) in input.chunks_exact(3).zip(out.chunks_exact_mut(4)) {
                    let n = u32::from(src[0]) << 16 | u32::from(src[1]) << 8 | u32::from(src[2]);
                    dst.copy_from_slice(&base64url_quad(n));
                }
                pack_bits::<6>(&input[whole * 3..], &mut out[whole * 4..], BASE64URL);
            }
        }
    }
}

/// Lowercase hex of the sixteen bytes of `b` into the 32 of `out`, with
/// SSE2 (part of x86-64 itself, so no run-time detection): the high and
/// low nibbles of each byte are split, interleaved high first, and turned
/// into `'0' + n`, plus 39 more (`'a' - '0' - 10`) where `n > 9`. The bytes
/// go in and out as 64-bit words, so the function needs no pointer and no
/// `unsafe` inside; `out` is written in place, where a returned array
/// would be copied and its reads stall on the stores that made it.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "sse2")]
fn hex16(b: &[u8], out: &mut [u8]) {
    use core::arch::x86_64::{
        __m128i, _mm_add_epi8, _mm_and_si128, _mm_cmpgt_epi8, _mm_cvtsi128_si64, _mm_set_epi64x,
        _mm_set1_epi8, _mm_srli_epi16, _mm_unpackhi_epi8, _mm_unpackhi_epi64, _mm_unpacklo_epi8,
    };
    let word = |i: usize| {
        let mut w = [0u8; 8];
        w.copy_from_slice(&b[i..i + 8]);
        i64::from_le_bytes(w)
    };
    let x = _mm_set_epi64x(word(8), word(0));
    let low4 = _mm_set1_epi8(0x0f);
    let high = _mm_and_si128(_mm_srli_epi16::<4>(x), low4);
    let low = _mm_and_si128(x, low4);
    let ascii = |n: __m128i| {
        let letter = _mm_and_si128(_mm_cmpgt_epi8(n, _mm_set1_epi8(9)), _mm_set1_epi8(39));
        _mm_add_epi8(_mm_add_epi8(n, _mm_set1_epi8(b'0' as i8)), letter)
    };
    let (first, second) = (
        ascii(_mm_unpacklo_epi8(high, low)),
        ascii(_mm_unpackhi_epi8(high, low)),
    );
    let words = [
        _mm_cvtsi128_si64(first),
        _mm_cvtsi128_si64(_mm_unpackhi_epi64(first, first)),
        _mm_cvtsi128_si64(second),
        _mm_cvtsi128_si64(_mm_unpackhi_epi64(second, second)),
    ];
    for (dst, w) in out[..32].chunks_exact_mut(8).zip(words) {
        dst.copy_from_slice(&w.to_le_bytes());
    }
}

/// Lowercase hex of four bytes (`b0` lowest) as eight ASCII bytes (the
/// first character lowest), computed in one 64-bit word: each byte spread to
/// its own 16 bits, its two nibbles split into bytes, then `'0' + n`, plus
/// 39 more (`'a' - '0' - 10`) where `n > 9`. No byte ever carries into the
/// next, so the word arithmetic is eight byte-wise sums.
#[cfg(target_pointer_width = "64")]
#[inline]
fn hex4(b: u32) -> u64 {
    let mut x = u64::from(b);
    x = (x | (x << 16)) & 0x0000_ffff_0000_ffff;
    x = (x | (x << 8)) & 0x00ff_00ff_00ff_00ff;
    // Byte 2k: the high nibble of input byte k; byte 2k + 1: its low nibble.
    let n = ((x >> 4) & 0x000f_000f_000f_000f) | ((x & 0x000f_000f_000f_000f) << 8);
    let letter = ((n + 0x7676_7676_7676_7676) >> 7) & 0x0101_0101_0101_0101;
    n + 0x3030_3030_3030_3030 + letter * 39
}

/// RFC 4648 without padding: `input` read as a bit string, `BITS` bits per
/// character of `alphabet`, the last group filled with zero bits. `out` is
/// exactly [`Encoding::encoded_len`] long.
///
/// Written out here rather than through data_encoding's generic encoder:
/// pseudonyms are short, and the generic one (one copy per bit width, with
/// its tables) is most of a pseudonymize-only firmware image's size
/// (examples/firmware/README.md).
fn pack_bits<const BITS: u32>(input: &[u8], out: &mut [u8], alphabet: &[u8]) {
    let mask = (1u32 << BITS) - 1;
    let (mut acc, mut held, mut w) = (0u32, 0u32, 0usize);
    for &b in input {
        acc = (acc << 8) | u32::from(b);
        held += 8;
        while held >= BITS {
            held -= BITS;
            out[w] = alphabet[((acc >> held) & mask) as usize];
            w += 1;
        }
    }
    if held > 0 {
        out[w] = alphabet[((acc << (BITS - held)) & mask) as usize];
    }
}

impl FromStr for Encoding {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "hex" => Ok(Encoding::Hex),
            "base32" => Ok(Encoding::Base32),
            "base64url" => Ok(Encoding::Base64Url),
            _ => Err(Error::Config("encoding (hex, base32 or base64url)")),
        }
    }
}

impl fmt::Display for Encoding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Length of the bytes a base64url (no padding) text of `n` characters decodes to.
///
/// # Errors
/// [`Error::Invalid`] for a length no base64url text can have.
pub fn base64url_decoded_len(n: usize) -> Result<usize, Error> {
    data_encoding::BASE64URL_NOPAD
        .decode_len(n)
        .map_err(|_| Error::Invalid("base64url"))
}

/// Decodes base64url (no padding) into the front of `out`, returning the
/// decoded bytes.
///
/// # Errors
/// [`Error::Invalid`] for text that is not base64url, [`Error::BufferTooSmall`]
/// if `out` is too short.
pub fn base64url_decode<'a>(text: &[u8], out: &'a mut [u8]) -> Result<&'a [u8], Error> {
    let len = base64url_decoded_len(text.len())?;
    let out = out.get_mut(..len).ok_or(Error::BufferTooSmall(len))?;
    let n = data_encoding::BASE64URL_NOPAD
        .decode_mut(text, out)
        .map_err(|_| Error::Invalid("base64url"))?;
    Ok(&out[..n])
}

#[cfg(test)]
mod tests {
    use super::*;

    // RFC 4648 section 10 test vectors, lowercased for base32.
    const RFC4648: &[(&str, &str, &str, &str)] = &[
        ("", "", "", ""),
        ("f", "66", "my", "Zg"),
        ("fo", "666f", "mzxq", "Zm8"),
        ("foo", "666f6f", "mzxw6", "Zm9v"),
        ("foob", "666f6f62", "mzxw6yq", "Zm9vYg"),
        ("fooba", "666f6f6261", "mzxw6ytb", "Zm9vYmE"),
        ("foobar", "666f6f626172", "mzxw6ytboi", "Zm9vYmFy"),
    ];

    #[test]
    fn rfc4648_vectors() {
        let mut buf = [0u8; 16];
        for (input, hex, b32, b64) in RFC4648 {
            assert_eq!(
                Encoding::Hex.encode(input.as_bytes(), &mut buf).unwrap(),
                *hex
            );
            assert_eq!(
                Encoding::Base32.encode(input.as_bytes(), &mut buf).unwrap(),
                *b32
            );
            assert_eq!(
                Encoding::Base64Url
                    .encode(input.as_bytes(), &mut buf)
                    .unwrap(),
                *b64
            );
            let mut dec = [0u8; 16];
            assert_eq!(
                base64url_decode(b64.as_bytes(), &mut dec).unwrap(),
                input.as_bytes()
            );
        }
    }

    /// The hand-written encoders equal data_encoding's at every length up
    /// to 70 bytes, for every byte value.
    #[test]
    fn equals_data_encoding_at_every_length() {
        let data: [u8; 256] = core::array::from_fn(|i| (i as u8).wrapping_mul(167) ^ 0x5c);
        let mut buf = [0u8; 512];
        let mut want = [0u8; 512];
        for start in [0usize, 3, 100, 186] {
            for len in 0..=70 {
                let input = &data[start..start + len];
                for (enc, reference) in [
                    (Encoding::Hex, &data_encoding::HEXLOWER),
                    (Encoding::Base32, &data_encoding::BASE32_NOPAD),
                    (Encoding::Base64Url, &data_encoding::BASE64URL_NOPAD),
                ] {
                    let n = reference.encode_len(len);
                    reference.encode_mut(input, &mut want[..n]);
                    want[..n].make_ascii_lowercase();
                    let got = enc.encode(input, &mut buf).unwrap();
                    if enc == Encoding::Base64Url {
                        let mut w = [0u8; 512];
                        reference.encode_mut(input, &mut w[..n]);
                        assert_eq!(got.as_bytes(), &w[..n], "{enc} len {len}");
                    } else {
                        assert_eq!(got.as_bytes(), &want[..n], "{enc} len {len}");
                    }
                }
            }
        }
    }

    #[test]
    fn url_alphabet_and_errors() {
        let mut buf = [0u8; 8];
        assert_eq!(
            Encoding::Base64Url
                .encode(&[0xfb, 0xff, 0xfe], &mut buf)
                .unwrap(),
            "-__-"
        );
        assert_eq!(
            Encoding::Hex.encode(&[0; 8], &mut buf[..4]),
            Err(Error::BufferTooSmall(16))
        );
        assert_eq!(
            base64url_decode(b"Zm9v+", &mut buf),
            Err(Error::Invalid("base64url"))
        );
        assert!(base64url_decode(b"Zm9v=", &mut buf).is_err());
    }
}

/// RFC 4648 section 5 alphabet (base64url).
const BASE64URL: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/// The four base64url characters of the 24 bits `v` (three bytes, the
/// first in bits 16 to 23). Written out rather than calling a crate per
/// group: tokens are short and the per-call overhead was most of their cost.
#[inline]
fn base64url_quad(v: u32) -> [u8; 4] {
    [18, 12, 6, 0].map(|shift| BASE64URL[((v >> shift) & 63) as usize])
}

/// Base64url-encodes (no padding) `raw_len` bytes that sit at the *end* of
/// the encoded length's span of `buf`, writing the text from the front.
///
/// With `t = ceil(4 r / 3)` the text length, group `i` (3 bytes read from
/// `t - r + 3i`) is written at `4i`; since `t - r = ceil(r / 3)`, no write
/// reaches bytes not yet read. This lets token encoders need no second
/// buffer in `no_std`. The text is returned as bytes (every one from the
/// base64url alphabet): a caller that writes them out need not check
/// them as UTF-8, and [`ascii_text`] gives the `&str`.
pub(crate) fn base64url_encode_tail(buf: &mut [u8], raw_len: usize) -> Result<&[u8], Error> {
    let text_len = Encoding::Base64Url.encoded_len(raw_len);
    let buf = buf
        .get_mut(..text_len)
        .ok_or(Error::BufferTooSmall(text_len))?;
    let off = text_len - raw_len;
    let (mut read, mut write) = (0, 0);
    while read + 3 <= raw_len {
        let i = off + read;
        let v = u32::from(buf[i]) << 16 | u32::from(buf[i + 1]) << 8 | u32::from(buf[i + 2]);
        buf[write..write + 4].copy_from_slice(&base64url_quad(v));
        read += 3;
        write += 4;
    }
    match raw_len - read {
        1 => {
            let v = u32::from(buf[off + read]) << 16;
            buf[write..write + 2].copy_from_slice(&base64url_quad(v)[..2]);
        }
        2 => {
            let i = off + read;
            let v = u32::from(buf[i]) << 16 | u32::from(buf[i + 1]) << 8;
            buf[write..write + 3].copy_from_slice(&base64url_quad(v)[..3]);
        }
        _ => {}
    }
    Ok(buf)
}

/// Encoder output as text (it is ASCII by construction; the check is
/// kept for the `&str` APIs, off the paths that write bytes).
pub(crate) fn ascii_text(b: &[u8]) -> Result<&str, Error> {
    core::str::from_utf8(b).map_err(|_| Error::Invalid("encoding"))
}

#[cfg(test)]
mod tail_tests {
    use super::*;

    #[test]
    fn tail_encoding_matches_plain_encoding_for_all_small_lengths() {
        for r in 0..100usize {
            let raw: [u8; 100] = core::array::from_fn(|i| (i * 37 + r) as u8);
            let mut expected = [0u8; 200];
            let want = Encoding::Base64Url
                .encode(&raw[..r], &mut expected)
                .unwrap();
            let t = Encoding::Base64Url.encoded_len(r);
            let mut buf = [0u8; 200];
            buf[t - r..t].copy_from_slice(&raw[..r]);
            assert_eq!(
                ascii_text(base64url_encode_tail(&mut buf, r).unwrap()).unwrap(),
                want,
                "r = {r}"
            );
        }
    }
}
