//! Two SHA-256 compressions at once with the ARMv8 SHA2 instructions.
//!
//! `sha256h` and `sha256h2` each take the result of the one before, so one
//! message at a time leaves the SHA unit waiting for most of each
//! instruction's latency; a second, independent block fills those gaps.
//! Two lanes, not four as on x86 (src/backend/shani.rs): each lane holds
//! eight 128-bit registers of state and message words, and the ARM cores
//! that have these instructions issue one SHA2 operation a cycle with a
//! latency of two to four, so two lanes cover it without spilling.
//!
//! The same two users as the x86 kernel: the hash audit's search loop
//! (src/audit/hashes/algo.rs, [`Sha2Arm::key2`]) and HMAC-SHA256 of short
//! messages for the pseudonymizer's batch path (src/backend/rustcrypto.rs,
//! [`Sha2Arm::hmac2`]). [`Sha2Arm::compress2`] gives whole states, for
//! `deid bench`'s floor and the tests. The round structure is Arm's
//! (ARMv8-A Cryptographic Extension, as in RustCrypto's `sha2`), written
//! once for N lanes.
//!
//! `unsafe` is confined to this module: the intrinsics need the `sha2`
//! target feature, and loads and stores take raw pointers.
//! [`Sha2Arm::detect`] checks the feature once and returns a token; only a
//! token's methods enter code compiled for it.
#![allow(unsafe_code)]

use super::SHA256_K as K;
use core::arch::aarch64::{
    uint32x4_t, vaddq_u32, vgetq_lane_u32, vld1q_u32, vreinterpretq_u8_u32, vrev32q_u8,
    vsha256h2q_u32, vsha256hq_u32, vsha256su0q_u32, vsha256su1q_u32, vst1q_u8,
};

/// The longest message whose SHA-256 padding fits in its one block
/// (64 bytes less the 0x80 byte and the 8-byte length).
const MAX_SHORT: usize = 55;

/// Proof that this CPU has the ARMv8 SHA2 instructions: only
/// [`Sha2Arm::detect`] makes one.
///
/// # Example
/// ```
/// # #[cfg(target_arch = "aarch64")] {
/// use deid::backend::armsha2::Sha2Arm;
/// // FIPS 180-2 appendix B.1: SHA-256("abc"), one padded block.
/// let mut block = [0u8; 64];
/// block[..3].copy_from_slice(b"abc");
/// block[3] = 0x80;
/// block[63] = 24;
/// if let Some(arm) = Sha2Arm::detect() {
///     let st = arm.compress2(&Sha2Arm::SHA256_IV, [&block; 2]);
///     assert!(st.iter().all(|s| s[0] == 0xba78_16bf && s[7] == 0xf200_15ad));
/// }
/// # }
/// ```
#[derive(Clone, Copy, Debug)]
pub struct Sha2Arm(());

impl Sha2Arm {
    /// SHA-256 initial hash value (FIPS 180-4, 5.3.3).
    pub const SHA256_IV: [u32; 8] = super::rustcrypto::SHA256_IV;

    /// A token if the CPU has the SHA2 instructions.
    pub fn detect() -> Option<Self> {
        std::arch::is_aarch64_feature_detected!("sha2").then_some(Sha2Arm(()))
    }

    /// The first 16 bytes (big-endian) of the SHA-256 (or SHA-224, by
    /// `iv`) state after compressing each of two single blocks from `iv`.
    #[inline]
    pub(crate) fn key2(self, iv: &[u32; 8], blocks: [&[u8; 64]; 2]) -> [u128; 2] {
        // SAFETY: a `Sha2Arm` exists only once `detect` has found the
        // target feature `compress_n` is compiled for.
        let lanes = unsafe { compress_n(iv, blocks.map(load_block)) };
        lanes.map(|st| {
            (u128::from(st[0]) << 96)
                | (u128::from(st[1]) << 64)
                | (u128::from(st[2]) << 32)
                | u128::from(st[3])
        })
    }

    /// HMAC-SHA256 of two short messages (at most 55 bytes each, one inner
    /// block) from the chaining values after the inner and outer pad blocks
    /// (`inner`, `outer`): the two inner compressions interleaved, then the
    /// two outer ones. Returns the two 32-byte MACs, or `None` when a
    /// message is longer than 55 bytes.
    #[inline]
    pub fn hmac2(
        self,
        inner: &[u32; 8],
        outer: &[u32; 8],
        data: [&[u8]; 2],
    ) -> Option<[[u8; 32]; 2]> {
        if data.iter().any(|d| d.len() > MAX_SHORT) {
            return None;
        }
        // SAFETY: a `Sha2Arm` exists only once `detect` has found the
        // target feature `hmac_n` is compiled for.
        Some(unsafe { hmac_n(inner, outer, data) })
    }

    /// The SHA-256 chaining values after compressing each of two blocks
    /// from the same state `iv`, interleaved: what `compress256` gives one
    /// block at a time.
    #[inline]
    pub fn compress2(self, iv: &[u32; 8], blocks: [&[u8; 64]; 2]) -> [[u32; 8]; 2] {
        // SAFETY: a `Sha2Arm` exists only once `detect` has found the
        // target feature `compress_n` is compiled for.
        unsafe { compress_n(iv, blocks.map(load_block)) }
    }
}

/// A block's sixteen big-endian message words, as numbers.
#[inline]
fn load_block(block: &[u8; 64]) -> [u32; 16] {
    core::array::from_fn(|i| {
        u32::from_be_bytes([
            block[4 * i],
            block[4 * i + 1],
            block[4 * i + 2],
            block[4 * i + 3],
        ])
    })
}

/// Four consecutive words as a vector, lane 0 first.
#[target_feature(enable = "sha2")]
#[inline]
fn vec4(words: &[u32; 4]) -> uint32x4_t {
    // SAFETY: `words` is 16 readable bytes; ld1 needs 4-byte alignment,
    // which a `u32` array has.
    unsafe { vld1q_u32(words.as_ptr()) }
}

/// Four words of `words` from index `4 * i`.
#[target_feature(enable = "sha2")]
#[inline]
fn group<const M: usize>(words: &[u32; M], i: usize) -> uint32x4_t {
    let g: &[u32; 4] = words[4 * i..][..4].try_into().unwrap_or(&[0; 4]);
    vec4(g)
}

/// Compresses one block per lane (given as its message words) from `iv`;
/// returns each lane's state after the final addition.
// Lanes are indexed in lockstep across several arrays: index loops read
// more plainly here than zipped iterators.
#[allow(clippy::needless_range_loop)]
#[target_feature(enable = "sha2")]
#[inline]
fn compress_n<const N: usize>(iv: &[u32; 8], words: [[u32; 16]; N]) -> [[u32; 8]; N] {
    let abcd0 = group(iv, 0);
    let efgh0 = group(iv, 1);
    let mut w = [[abcd0; N]; 4];
    for j in 0..4 {
        for l in 0..N {
            w[j][l] = group(&words[l], j);
        }
    }
    let mut abcd = [abcd0; N];
    let mut efgh = [efgh0; N];
    for i in 0..16 {
        for l in 0..N {
            if i >= 4 {
                // Words 4i..4i+4 from the sixteen before them; the ring
                // slot `i % 4` held words 4i-16..4i-12.
                let s0 = vsha256su0q_u32(w[i % 4][l], w[(i + 1) % 4][l]);
                w[i % 4][l] = vsha256su1q_u32(s0, w[(i + 2) % 4][l], w[(i + 3) % 4][l]);
            }
            let wk = vaddq_u32(w[i % 4][l], group(&K, i));
            let prev = abcd[l];
            abcd[l] = vsha256hq_u32(prev, efgh[l], wk);
            efgh[l] = vsha256h2q_u32(efgh[l], prev, wk);
        }
    }
    let mut out = [[0u32; 8]; N];
    for l in 0..N {
        let (a, e) = (vaddq_u32(abcd[l], abcd0), vaddq_u32(efgh[l], efgh0));
        out[l] = [
            vgetq_lane_u32::<0>(a),
            vgetq_lane_u32::<1>(a),
            vgetq_lane_u32::<2>(a),
            vgetq_lane_u32::<3>(a),
            vgetq_lane_u32::<0>(e),
            vgetq_lane_u32::<1>(e),
            vgetq_lane_u32::<2>(e),
            vgetq_lane_u32::<3>(e),
        ];
    }
    out
}

/// The one padded inner block of an HMAC message of at most [`MAX_SHORT`]
/// bytes, as message words. The length counts the 64-byte pad block
/// already absorbed: the same block as the scalar path's `inner_block`
/// (src/backend/rustcrypto.rs), which `mac4` is tested equal to at every
/// length.
#[inline]
fn short_words(data: &[u8]) -> [u32; 16] {
    let mut block = [0u8; 64];
    block[..data.len()].copy_from_slice(data);
    block[data.len()] = 0x80;
    block[56..].copy_from_slice(&((64 + data.len() as u64) * 8).to_be_bytes());
    load_block(&block)
}

/// HMAC-SHA256 of one message of at most [`MAX_SHORT`] bytes per lane,
/// from the chaining values after the pad blocks: the inner compressions
/// interleaved, then the outer ones over the inner digests.
#[target_feature(enable = "sha2")]
#[inline]
fn hmac_n<const N: usize>(inner: &[u32; 8], outer: &[u32; 8], data: [&[u8]; N]) -> [[u8; 32]; N] {
    let st = compress_n(inner, data.map(short_words));
    // The outer block: the 32-byte inner digest, 0x80, zeros, and the
    // length of pad block plus digest in bits, (64 + 32) * 8.
    let outer_words = st.map(|d| {
        let mut w = [0u32; 16];
        w[..8].copy_from_slice(&d);
        w[8] = 0x8000_0000;
        w[15] = (64 + 32) * 8;
        w
    });
    let st = compress_n(outer, outer_words);
    let mut out = [[0u8; 32]; N];
    for (o, d) in out.iter_mut().zip(&st) {
        for (half, words) in o.chunks_exact_mut(16).zip(d.chunks_exact(4)) {
            let words: &[u32; 4] = words.try_into().unwrap_or(&[0; 4]);
            let bytes = vrev32q_u8(vreinterpretq_u8_u32(vec4(words)));
            // SAFETY: `half` is 16 writable bytes; st1 of bytes has no
            // alignment need.
            unsafe { vst1q_u8(half.as_mut_ptr(), bytes) }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::backend::kernel_checks::{keys_equal_digests, states_equal_compress256};

    #[test]
    fn key2_equals_sha256_and_sha224_on_every_single_block_length() {
        let Some(arm) = Sha2Arm::detect() else {
            return; // the kernel is never used on this CPU
        };
        keys_equal_digests(|iv, b| arm.key2(iv, b));
    }

    #[test]
    fn compress2_equals_compress256_from_any_state() {
        let Some(arm) = Sha2Arm::detect() else {
            return;
        };
        states_equal_compress256(|iv, b| arm.compress2(iv, b));
    }
}
