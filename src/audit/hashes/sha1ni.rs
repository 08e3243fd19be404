//! Four SHA-1 compressions at once with the x86 SHA extensions.
//!
//! As for SHA-256 (src/backend/shani.rs), each `sha1rnds4` waits for the
//! one before it; four independent blocks interleaved keep the SHA unit
//! busy. The schedule is Intel's reference sequence (`sha1msg1`, `xor`,
//! `sha1msg2`; `sha1nexte` for the fifth state word), written once for N
//! lanes.
//!
//! `unsafe` is confined to this module: the intrinsics need the `sha`,
//! `ssse3` and `sse4.1` target features. [`Sha1Ni::detect`] checks them
//! once and returns a token; only a token's methods enter code compiled for
//! them.
#![allow(unsafe_code)]

use core::arch::x86_64::{
    __m128i, _mm_add_epi32, _mm_extract_epi64, _mm_loadu_si128, _mm_set_epi32, _mm_set_epi64x,
    _mm_sha1msg1_epu32, _mm_sha1msg2_epu32, _mm_sha1nexte_epu32, _mm_sha1rnds4_epu32,
    _mm_shuffle_epi8, _mm_xor_si128,
};

/// SHA-1 initial hash value (FIPS 180-4, 5.3.1).
pub(crate) const SHA1_IV: [u32; 5] = [
    0x6745_2301,
    0xEFCD_AB89,
    0x98BA_DCFE,
    0x1032_5476,
    0xC3D2_E1F0,
];

/// Proof that this CPU has the SHA extensions (and SSSE3, SSE4.1): only
/// [`Sha1Ni::detect`] makes one.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Sha1Ni(());

impl Sha1Ni {
    /// A token if the CPU can run the four-way kernel.
    pub(crate) fn detect() -> Option<Self> {
        (std::is_x86_feature_detected!("sha")
            && std::is_x86_feature_detected!("ssse3")
            && std::is_x86_feature_detected!("sse4.1"))
        .then_some(Sha1Ni(()))
    }

    /// The first 16 digest bytes (big-endian) of each of four single
    /// blocks compressed from the SHA-1 IV.
    #[inline]
    pub(crate) fn keys4(self, blocks: [&[u8; 64]; 4]) -> [u128; 4] {
        // SAFETY: a `Sha1Ni` exists only once `detect` has found every
        // target feature `compress_n` is compiled for.
        let st = unsafe { compress_n(&SHA1_IV, blocks) };
        st.map(|(abcd, _)| key(abcd))
    }

    /// The whole state (a, b, c, d, e) after compressing each of four
    /// blocks from `iv`.
    #[cfg(test)]
    fn states4(self, iv: &[u32; 5], blocks: [&[u8; 64]; 4]) -> [[u32; 5]; 4] {
        // SAFETY: as in `keys4`.
        let st = unsafe { compress_n(iv, blocks) };
        st.map(|(abcd, e)| {
            let k = key(abcd);
            [
                (k >> 96) as u32,
                (k >> 64) as u32,
                (k >> 32) as u32,
                k as u32,
                e,
            ]
        })
    }
}

/// The register holding (d, c, b, a) from lane 0 up, read as the big-endian
/// key `a ‖ b ‖ c ‖ d`.
#[inline]
fn key(abcd: [u64; 2]) -> u128 {
    (u128::from(abcd[1]) << 64) | u128::from(abcd[0])
}

/// A 16-byte group of big-endian message words, the first in lane 3.
#[target_feature(enable = "sha,sse2,ssse3,sse4.1")]
#[inline]
fn load(block: &[u8; 64], g: usize) -> __m128i {
    let reverse = _mm_set_epi64x(0x0001_0203_0405_0607, 0x0809_0a0b_0c0d_0e0f);
    let group: &[u8; 16] = block[16 * (g % 4)..][..16].try_into().unwrap_or(&[0; 16]);
    // SAFETY: `group` is 16 readable bytes; loadu has no alignment need.
    _mm_shuffle_epi8(unsafe { _mm_loadu_si128(group.as_ptr().cast()) }, reverse)
}

/// Four rounds with the round function of group `g` (0..20).
#[target_feature(enable = "sha,sse2,ssse3,sse4.1")]
#[inline]
fn rnds4(abcd: __m128i, e: __m128i, g: usize) -> __m128i {
    match g / 5 {
        0 => _mm_sha1rnds4_epu32::<0>(abcd, e),
        1 => _mm_sha1rnds4_epu32::<1>(abcd, e),
        2 => _mm_sha1rnds4_epu32::<2>(abcd, e),
        _ => _mm_sha1rnds4_epu32::<3>(abcd, e),
    }
}

/// Compresses one block per lane from `iv`; returns each lane's (a, b,
/// c, d) register as two 64-bit halves (low first) and its e.
// Lanes are indexed in lockstep across several arrays.
#[allow(clippy::needless_range_loop)]
#[target_feature(enable = "sha,sse2,ssse3,sse4.1")]
#[inline]
fn compress_n<const N: usize>(iv: &[u32; 5], blocks: [&[u8; 64]; N]) -> [([u64; 2], u32); N] {
    let abcd0 = _mm_set_epi32(iv[0] as i32, iv[1] as i32, iv[2] as i32, iv[3] as i32);
    let e0 = _mm_set_epi32(iv[4] as i32, 0, 0, 0);
    // m[g % 4][lane]: a ring of the last four message groups.
    let mut m = [[abcd0; N]; 4];
    for (g, ring) in m.iter_mut().enumerate() {
        for (w, b) in ring.iter_mut().zip(blocks) {
            *w = load(b, g);
        }
    }
    let mut abcd = [abcd0; N];
    // The state before the previous group's rounds, for `sha1nexte`.
    let mut prev = [abcd0; N];
    for g in 0..20 {
        for l in 0..N {
            if g >= 4 {
                // M_g = msg2(msg1(M_{g-4}, M_{g-3}) ^ M_{g-2}, M_{g-1}).
                let t = _mm_sha1msg1_epu32(m[g % 4][l], m[(g + 1) % 4][l]);
                let t = _mm_xor_si128(t, m[(g + 2) % 4][l]);
                m[g % 4][l] = _mm_sha1msg2_epu32(t, m[(g + 3) % 4][l]);
            }
            let e = if g == 0 {
                _mm_add_epi32(e0, m[0][l])
            } else {
                _mm_sha1nexte_epu32(prev[l], m[g % 4][l])
            };
            prev[l] = abcd[l];
            abcd[l] = rnds4(abcd[l], e, g);
        }
    }
    let mut out = [([0u64; 2], 0u32); N];
    for l in 0..N {
        let a = _mm_add_epi32(abcd[l], abcd0);
        let e = _mm_sha1nexte_epu32(prev[l], e0);
        out[l] = (
            [
                _mm_extract_epi64(a, 0) as u64,
                _mm_extract_epi64(a, 1) as u64,
            ],
            (_mm_extract_epi64(e, 1) >> 32) as u32,
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use hmac::digest::Digest;

    fn padded(msg: &[u8]) -> [u8; 64] {
        crate::audit::hashes::algo::BlockKernel::padded(crate::audit::hashes::Algorithm::Sha1, msg)
    }

    #[test]
    fn equals_sha1_at_every_single_block_length_and_from_any_state() {
        let Some(ni) = Sha1Ni::detect() else {
            return; // the kernel is never used on this CPU
        };
        let mut next = crate::xorshift(0x9e37_79b9_7f4a_7c15);
        for len in 0..=55usize {
            let raw: [[u8; 64]; 4] =
                core::array::from_fn(|_| core::array::from_fn(|_| next() as u8));
            let msgs: [&[u8]; 4] = core::array::from_fn(|l| &raw[l][..(len + 13 * l) % 56]);
            let blocks = msgs.map(padded);
            let got = ni.keys4(core::array::from_fn(|l| &blocks[l]));
            for (g, msg) in got.iter().zip(msgs) {
                let d = sha1::Sha1::digest(msg);
                assert_eq!(
                    *g,
                    u128::from_be_bytes(d[..16].try_into().unwrap()),
                    "len {}",
                    msg.len()
                );
            }
        }
        for _ in 0..64 {
            let iv: [u32; 5] = core::array::from_fn(|_| next() as u32);
            let blocks: [[u8; 64]; 4] =
                core::array::from_fn(|_| core::array::from_fn(|_| next() as u8));
            let got = ni.states4(&iv, core::array::from_fn(|l| &blocks[l]));
            for (g, b) in got.iter().zip(&blocks) {
                let mut st = iv;
                sha1::block_api::compress(&mut st, core::slice::from_ref(b));
                assert_eq!(*g, st);
            }
        }
    }

    #[test]
    fn fips_180_vectors() {
        let Some(ni) = Sha1Ni::detect() else {
            return;
        };
        // FIPS 180-2 appendix A.1 ("abc") and the empty message (NIST CAVS
        // SHA1ShortMsg, Len = 0).
        let (abc, empty) = (padded(b"abc"), padded(b""));
        let got = ni.keys4([&abc, &empty, &abc, &empty]);
        let abc_key = 0xa999_3e36_4706_816a_ba3e_2571_7850_c26c;
        let empty_key = 0xda39_a3ee_5e6b_4b0d_3255_bfef_9560_1890;
        assert_eq!(got, [abc_key, empty_key, abc_key, empty_key]);
        let st = ni.states4(&SHA1_IV, [&abc; 4]);
        assert_eq!(st[0][4], 0x9cd0_d89d);
    }
}
