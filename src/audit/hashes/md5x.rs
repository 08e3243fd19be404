//! Multi-buffer MD5: eight single blocks at once on AVX2, sixteen on
//! AVX-512, one message per 32-bit lane.
//!
//! MD5's 64 steps form one dependency chain, so a scalar core spends most
//! of a step waiting for the previous one; lanes of a vector register
//! are independent messages that share every instruction. On AVX-512 the
//! round functions are one `vpternlogd` each and the rotation one
//! `vprold`; AVX2 builds the rotation from two shifts and an `or`.
//!
//! `unsafe` is confined to this module: the intrinsics need the `avx2`
//! (or `avx512f`) target feature. [`Md5x8::detect`] and [`Md5x16::detect`]
//! check it once and return a token; only a token's methods enter code
//! compiled for it. The AVX-512 intrinsics are stable from Rust 1.89: an
//! older compiler (the MSRV is 1.87) builds the AVX2 kernel only.
#![allow(unsafe_code)]

// The kernels below exist on x86-64 only; elsewhere MD5 stays scalar.
#[cfg(target_arch = "x86_64")]
use super::algo::MD5_IV;

/// Per-step additive constants `T[i] = floor(2^32 * abs(sin(i + 1)))`
/// (RFC 1321, 3.4).
#[cfg(target_arch = "x86_64")]
const T: [u32; 64] = [
    0xd76a_a478,
    0xe8c7_b756,
    0x2420_70db,
    0xc1bd_ceee,
    0xf57c_0faf,
    0x4787_c62a,
    0xa830_4613,
    0xfd46_9501,
    0x6980_98d8,
    0x8b44_f7af,
    0xffff_5bb1,
    0x895c_d7be,
    0x6b90_1122,
    0xfd98_7193,
    0xa679_438e,
    0x49b4_0821,
    0xf61e_2562,
    0xc040_b340,
    0x265e_5a51,
    0xe9b6_c7aa,
    0xd62f_105d,
    0x0244_1453,
    0xd8a1_e681,
    0xe7d3_fbc8,
    0x21e1_cde6,
    0xc337_07d6,
    0xf4d5_0d87,
    0x455a_14ed,
    0xa9e3_e905,
    0xfcef_a3f8,
    0x676f_02d9,
    0x8d2a_4c8a,
    0xfffa_3942,
    0x8771_f681,
    0x6d9d_6122,
    0xfde5_380c,
    0xa4be_ea44,
    0x4bde_cfa9,
    0xf6bb_4b60,
    0xbebf_bc70,
    0x289b_7ec6,
    0xeaa1_27fa,
    0xd4ef_3085,
    0x0488_1d05,
    0xd9d4_d039,
    0xe6db_99e5,
    0x1fa2_7cf8,
    0xc4ac_5665,
    0xf429_2244,
    0x432a_ff97,
    0xab94_23a7,
    0xfc93_a039,
    0x655b_59c3,
    0x8f0c_cc92,
    0xffef_f47d,
    0x8584_5dd1,
    0x6fa8_7e4f,
    0xfe2c_e6e0,
    0xa301_4314,
    0x4e08_11a1,
    0xf753_7e82,
    0xbd3a_f235,
    0x2ad7_d2bb,
    0xeb86_d391,
];

/// Rotation amounts by round and step within a group of four.
#[cfg(target_arch = "x86_64")]
const S: [[u32; 4]; 4] = [
    [7, 12, 17, 22],
    [5, 9, 14, 20],
    [4, 11, 16, 23],
    [6, 10, 15, 21],
];

/// The message word step `i` adds (RFC 1321, 3.4).
#[cfg(target_arch = "x86_64")]
const fn word(i: usize) -> usize {
    match i / 16 {
        0 => i,
        1 => (5 * i + 1) % 16,
        2 => (3 * i + 5) % 16,
        _ => (7 * i) % 16,
    }
}

/// The 16 message words of each lane's block, word-major: `w[j][lane]`
/// is little-endian word `j` of block `lane`. A plain transposition:
/// the search changes only a few bytes of each block between calls, so
/// the loads hit the cache.
#[inline]
fn transpose<const N: usize>(blocks: &[&[u8; 64]; N]) -> [[u32; N]; 16] {
    let mut w = [[0u32; N]; 16];
    for (l, b) in blocks.iter().enumerate() {
        for (j, row) in w.iter_mut().enumerate() {
            let bytes: [u8; 4] = [b[4 * j], b[4 * j + 1], b[4 * j + 2], b[4 * j + 3]];
            row[l] = u32::from_le_bytes(bytes);
        }
    }
    w
}

/// The first 16 digest bytes as a big-endian key from a final state.
#[inline]
fn key(st: [u32; 4]) -> u128 {
    (u128::from(st[0].swap_bytes()) << 96)
        | (u128::from(st[1].swap_bytes()) << 64)
        | (u128::from(st[2].swap_bytes()) << 32)
        | u128::from(st[3].swap_bytes())
}

/// `s = step::<i>(s, w)` for each listed `i`.
#[cfg(target_arch = "x86_64")]
macro_rules! unroll {
    ($s:ident, $w:ident; $($i:literal)*) => { $( $s = step::<$i>($s, $w); )* };
}

/// `s = step::<i>(s, w)` and `t = step::<i>(t, x)` for each listed `i`:
/// two chains of steps side by side.
#[cfg(target_arch = "x86_64")]
macro_rules! unroll2 {
    ($s:ident, $w:ident, $t:ident, $x:ident; $($i:literal)*) => {
        $( $s = step::<$i>($s, $w); $t = step::<$i>($t, $x); )*
    };
}

/// The 64 steps, written once over a vector type: expects `splat`, `add`,
/// `rotl` and the round functions `ff`, `gg`, `hh`, `ii` in scope, and
/// defines `compress` and `compress2`, fully unrolled (every constant an
/// immediate).
#[cfg(target_arch = "x86_64")]
macro_rules! md5_compress {
    ($feature:literal, $v:ty) => {
        #[target_feature(enable = $feature)]
        #[inline]
        fn step<const I: usize>(s: [$v; 4], w: &[$v; 16]) -> [$v; 4] {
            let [a, b, c, d] = s;
            let f = match I / 16 {
                0 => ff(b, c, d),
                1 => gg(b, c, d),
                2 => hh(b, c, d),
                _ => ii(b, c, d),
            };
            let sum = add(add(a, f), add(splat(T[I]), w[word(I)]));
            [d, add(b, rotl(sum, S[I / 16][I % 4])), b, c]
        }

        /// One MD5 compression per lane from the IV.
        #[target_feature(enable = $feature)]
        #[inline]
        fn compress(w: &[$v; 16]) -> [$v; 4] {
            let iv = [
                splat(MD5_IV[0]),
                splat(MD5_IV[1]),
                splat(MD5_IV[2]),
                splat(MD5_IV[3]),
            ];
            let mut s = iv;
            unroll!(s, w;
                0 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15
                16 17 18 19 20 21 22 23 24 25 26 27 28 29 30 31
                32 33 34 35 36 37 38 39 40 41 42 43 44 45 46 47
                48 49 50 51 52 53 54 55 56 57 58 59 60 61 62 63);
            [add(s[0], iv[0]), add(s[1], iv[1]), add(s[2], iv[2]), add(s[3], iv[3])]
        }

        /// Two sets of lanes at once, their steps alternating. Each step
        /// waits on the one before it (about five instructions in a
        /// chain), so one set leaves most of the vector units idle; the
        /// other set's step fills them.
        #[allow(dead_code)] // the AVX2 kernel runs one set
        #[target_feature(enable = $feature)]
        #[inline]
        fn compress2(w: &[$v; 16], x: &[$v; 16]) -> ([$v; 4], [$v; 4]) {
            let iv = [
                splat(MD5_IV[0]),
                splat(MD5_IV[1]),
                splat(MD5_IV[2]),
                splat(MD5_IV[3]),
            ];
            let (mut s, mut t) = (iv, iv);
            unroll2!(s, w, t, x;
                0 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15
                16 17 18 19 20 21 22 23 24 25 26 27 28 29 30 31
                32 33 34 35 36 37 38 39 40 41 42 43 44 45 46 47
                48 49 50 51 52 53 54 55 56 57 58 59 60 61 62 63);
            let fin = |s: [$v; 4]| {
                [add(s[0], iv[0]), add(s[1], iv[1]), add(s[2], iv[2]), add(s[3], iv[3])]
            };
            (fin(s), fin(t))
        }
    };
}

#[cfg(target_arch = "x86_64")]
mod avx2 {
    use super::{MD5_IV, S, T, word};
    md5_compress!("avx2", __m256i);
    use core::arch::x86_64::{
        __m256i, _mm_cvtsi32_si128, _mm256_add_epi32, _mm256_and_si256, _mm256_andnot_si256,
        _mm256_loadu_si256, _mm256_or_si256, _mm256_set1_epi32, _mm256_sll_epi32, _mm256_srl_epi32,
        _mm256_storeu_si256, _mm256_xor_si256,
    };

    #[target_feature(enable = "avx2")]
    #[inline]
    fn splat(x: u32) -> __m256i {
        _mm256_set1_epi32(x as i32)
    }
    #[target_feature(enable = "avx2")]
    #[inline]
    fn add(x: __m256i, y: __m256i) -> __m256i {
        _mm256_add_epi32(x, y)
    }
    #[target_feature(enable = "avx2")]
    #[inline]
    fn rotl(x: __m256i, s: u32) -> __m256i {
        let (l, r) = (
            _mm_cvtsi32_si128(s as i32),
            _mm_cvtsi32_si128(32 - s as i32),
        );
        _mm256_or_si256(_mm256_sll_epi32(x, l), _mm256_srl_epi32(x, r))
    }
    /// `(x & y) | (!x & z)`, as `z ^ (x & (y ^ z))`.
    #[target_feature(enable = "avx2")]
    #[inline]
    fn ff(x: __m256i, y: __m256i, z: __m256i) -> __m256i {
        _mm256_xor_si256(z, _mm256_and_si256(x, _mm256_xor_si256(y, z)))
    }
    /// `(x & z) | (y & !z)`.
    #[target_feature(enable = "avx2")]
    #[inline]
    fn gg(x: __m256i, y: __m256i, z: __m256i) -> __m256i {
        _mm256_or_si256(_mm256_and_si256(x, z), _mm256_andnot_si256(z, y))
    }
    #[target_feature(enable = "avx2")]
    #[inline]
    fn hh(x: __m256i, y: __m256i, z: __m256i) -> __m256i {
        _mm256_xor_si256(_mm256_xor_si256(x, y), z)
    }
    /// `y ^ (x | !z)`.
    #[target_feature(enable = "avx2")]
    #[inline]
    fn ii(x: __m256i, y: __m256i, z: __m256i) -> __m256i {
        let ones = _mm256_set1_epi32(-1);
        _mm256_xor_si256(y, _mm256_or_si256(x, _mm256_xor_si256(z, ones)))
    }

    /// Eight final states, lane-major.
    #[target_feature(enable = "avx2")]
    pub(super) fn states(w: &[[u32; 8]; 16]) -> [[u32; 4]; 8] {
        let mut v = [_mm256_set1_epi32(0); 16];
        for (v, row) in v.iter_mut().zip(w) {
            // SAFETY: `row` is 32 readable bytes; loadu has no alignment need.
            *v = unsafe { _mm256_loadu_si256(row.as_ptr().cast()) };
        }
        let [a, b, c, d] = compress(&v);
        let mut out = [[0u32; 8]; 4];
        for (o, x) in out.iter_mut().zip([a, b, c, d]) {
            // SAFETY: `o` is 32 writable bytes; storeu has no alignment need.
            unsafe { _mm256_storeu_si256(o.as_mut_ptr().cast(), x) };
        }
        core::array::from_fn(|l| [out[0][l], out[1][l], out[2][l], out[3][l]])
    }
}

#[rustversion::since(1.89)]
#[cfg(target_arch = "x86_64")]
mod avx512 {
    use super::{MD5_IV, S, T, word};
    // F is SHA-256's Ch and H its three-way xor: the SHA-256 lanes' helpers.
    use crate::backend::shani::avx512::{add, choose as ff, splat, xor3 as hh};
    use core::arch::x86_64::{
        __m512i, _mm512_loadu_si512, _mm512_rolv_epi32, _mm512_set1_epi32, _mm512_storeu_si512,
        _mm512_ternarylogic_epi32,
    };
    md5_compress!("avx512f", __m512i);

    /// A rotation by a per-lane count (all equal): `vprolvd`, one uop like
    /// `vprold`, whose count must be a constant.
    #[target_feature(enable = "avx512f")]
    #[inline]
    fn rotl(x: __m512i, s: u32) -> __m512i {
        _mm512_rolv_epi32(x, _mm512_set1_epi32(s as i32))
    }
    // G and I as `vpternlogd` truth tables (bit `4x + 2y + z` of the
    // immediate is the function's value at x, y, z).
    #[target_feature(enable = "avx512f")]
    #[inline]
    fn gg(x: __m512i, y: __m512i, z: __m512i) -> __m512i {
        _mm512_ternarylogic_epi32::<0xE4>(x, y, z)
    }
    #[target_feature(enable = "avx512f")]
    #[inline]
    fn ii(x: __m512i, y: __m512i, z: __m512i) -> __m512i {
        _mm512_ternarylogic_epi32::<0x39>(x, y, z)
    }

    /// Sixteen final states, lane-major.
    #[target_feature(enable = "avx512f")]
    pub(super) fn states(w: &[[u32; 16]; 16]) -> [[u32; 4]; 16] {
        lane_major(compress(&load(w)))
    }

    /// Thirty-two final states, lane-major: `w`'s sixteen, then `x`'s.
    #[target_feature(enable = "avx512f")]
    pub(super) fn states2(w: &[[u32; 16]; 16], x: &[[u32; 16]; 16]) -> [[u32; 4]; 32] {
        let (s, t) = compress2(&load(w), &load(x));
        let (s, t) = (lane_major(s), lane_major(t));
        core::array::from_fn(|l| if l < 16 { s[l] } else { t[l - 16] })
    }

    /// Word-major rows into registers.
    #[target_feature(enable = "avx512f")]
    #[inline]
    fn load(w: &[[u32; 16]; 16]) -> [__m512i; 16] {
        let mut v = [_mm512_set1_epi32(0); 16];
        for (v, row) in v.iter_mut().zip(w) {
            // SAFETY: `row` is 64 readable bytes; loadu has no alignment need.
            *v = unsafe { _mm512_loadu_si512(row.as_ptr().cast()) };
        }
        v
    }

    /// Final states a, b, c, d across the lanes as one state a lane.
    #[target_feature(enable = "avx512f")]
    #[inline]
    fn lane_major(st: [__m512i; 4]) -> [[u32; 4]; 16] {
        let mut out = [[0u32; 16]; 4];
        for (o, x) in out.iter_mut().zip(st) {
            // SAFETY: `o` is 64 writable bytes; storeu has no alignment need.
            unsafe { _mm512_storeu_si512(o.as_mut_ptr().cast(), x) };
        }
        core::array::from_fn(|l| [out[0][l], out[1][l], out[2][l], out[3][l]])
    }
}

/// Proof that this CPU has AVX2: only [`Md5x8::detect`] makes one.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Md5x8(());

impl Md5x8 {
    /// A token if the CPU can run the eight-lane kernel.
    pub(crate) fn detect() -> Option<Self> {
        #[cfg(target_arch = "x86_64")]
        if std::is_x86_feature_detected!("avx2") {
            return Some(Md5x8(()));
        }
        None
    }

    /// The first 16 digest bytes (big-endian) of each of eight padded
    /// single blocks.
    #[inline]
    pub(crate) fn keys(self, blocks: [&[u8; 64]; 8]) -> [u128; 8] {
        self.states(blocks).map(key)
    }

    /// The MD5 state after compressing each of eight blocks from the IV.
    #[inline]
    pub(crate) fn states(self, blocks: [&[u8; 64]; 8]) -> [[u32; 4]; 8] {
        let w = transpose(&blocks);
        #[cfg(target_arch = "x86_64")]
        {
            // SAFETY: a `Md5x8` exists only once `detect` has found AVX2,
            // the target feature `states` is compiled for.
            unsafe { avx2::states(&w) }
        }
        #[cfg(not(target_arch = "x86_64"))]
        {
            let _ = w;
            unreachable!("no Md5x8 token off x86-64")
        }
    }
}

/// Proof that this CPU has AVX-512F: only [`Md5x16::detect`] makes one.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Md5x16(());

impl Md5x16 {
    /// A token if the CPU can run the sixteen-lane kernel (and this
    /// compiler can build it).
    pub(crate) fn detect() -> Option<Self> {
        Self::detect_impl()
    }

    #[rustversion::since(1.89)]
    fn detect_impl() -> Option<Self> {
        #[cfg(target_arch = "x86_64")]
        if std::is_x86_feature_detected!("avx512f") {
            return Some(Md5x16(()));
        }
        None
    }

    #[rustversion::before(1.89)]
    fn detect_impl() -> Option<Self> {
        None
    }

    /// The first 16 digest bytes (big-endian) of each of sixteen padded
    /// single blocks.
    #[inline]
    pub(crate) fn keys(self, blocks: [&[u8; 64]; 16]) -> [u128; 16] {
        self.states(blocks).map(key)
    }

    /// The MD5 state after compressing each of sixteen blocks from the IV.
    #[rustversion::since(1.89)]
    #[inline]
    pub(crate) fn states(self, blocks: [&[u8; 64]; 16]) -> [[u32; 4]; 16] {
        let w = transpose(&blocks);
        #[cfg(target_arch = "x86_64")]
        {
            // SAFETY: a `Md5x16` exists only once `detect` has found
            // AVX-512F, the target feature `states` is compiled for.
            unsafe { avx512::states(&w) }
        }
        #[cfg(not(target_arch = "x86_64"))]
        {
            let _ = w;
            unreachable!("no Md5x16 token off x86-64")
        }
    }

    /// Never called: no token exists on a compiler without AVX-512.
    #[rustversion::before(1.89)]
    #[inline]
    pub(crate) fn states(self, blocks: [&[u8; 64]; 16]) -> [[u32; 4]; 16] {
        let _ = (self, blocks);
        [[0; 4]; 16]
    }

    /// The first 16 digest bytes of each of thirty-two padded single
    /// blocks: two sets of sixteen lanes, interleaved.
    #[inline]
    pub(crate) fn keys32(self, blocks: [&[u8; 64]; 32]) -> [u128; 32] {
        self.states32(blocks).map(key)
    }

    /// The MD5 state after compressing each of thirty-two blocks.
    #[rustversion::since(1.89)]
    #[inline]
    pub(crate) fn states32(self, blocks: [&[u8; 64]; 32]) -> [[u32; 4]; 32] {
        let half = |h: usize| -> [&[u8; 64]; 16] { core::array::from_fn(|l| blocks[16 * h + l]) };
        let (w, x) = (transpose(&half(0)), transpose(&half(1)));
        #[cfg(target_arch = "x86_64")]
        {
            // SAFETY: a `Md5x16` exists only once `detect` has found
            // AVX-512F, the target feature `states2` is compiled for.
            unsafe { avx512::states2(&w, &x) }
        }
        #[cfg(not(target_arch = "x86_64"))]
        {
            let _ = (w, x);
            unreachable!("no Md5x16 token off x86-64")
        }
    }

    /// Never called: no token exists on a compiler without AVX-512.
    #[rustversion::before(1.89)]
    #[inline]
    pub(crate) fn states32(self, blocks: [&[u8; 64]; 32]) -> [[u32; 4]; 32] {
        let _ = (self, blocks);
        [[0; 4]; 32]
    }

    /// Keys of `blocks` (padded single MD5 blocks) into `out`, `computed`
    /// called with each: thirty-two at a time, then what is left by
    /// sixteens (a last group of four costs one set of lanes, not two),
    /// the remainder as one padded group.
    #[inline]
    pub(crate) fn keys_into<'a>(
        self,
        mut blocks: impl ExactSizeIterator<Item = &'a [u8; 64]>,
        out: &mut [u128],
        computed: &impl Fn(u128),
    ) {
        let pairs = blocks.len() / 32 * 32;
        let (head, tail) = out.split_at_mut(pairs.min(out.len()));
        super::algo::in_lanes((&mut blocks).take(pairs), head, computed, |g| {
            self.keys32(g)
        });
        super::algo::in_lanes(blocks, tail, computed, |g| self.keys(g));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::audit::hashes::algo::MD5_IV;
    use hmac::digest::Digest;

    fn padded(msg: &[u8]) -> [u8; 64] {
        crate::audit::hashes::algo::BlockKernel::padded(crate::audit::hashes::Algorithm::Md5, msg)
    }

    fn scalar(block: &[u8; 64]) -> [u32; 4] {
        let mut st = MD5_IV;
        md5::block_api::compress(&mut st, core::slice::from_ref(block));
        st
    }

    fn random_blocks<const N: usize>(x: &mut u64) -> [[u8; 64]; N] {
        core::array::from_fn(|_| {
            core::array::from_fn(|_| {
                *x ^= *x << 13;
                *x ^= *x >> 7;
                *x ^= *x << 17;
                *x as u8
            })
        })
    }

    /// Messages of every single-block length (0..=55), a different one in
    /// each lane, against the `md5` crate; then random full blocks (any
    /// bytes, not only valid padding) against its compression function.
    fn check<const N: usize>(states: impl Fn([&[u8; 64]; N]) -> [[u32; 4]; N]) {
        let mut x = 0x9e37_79b9_7f4a_7c15u64;
        for len in 0..=55usize {
            let raw: [[u8; 64]; N] = random_blocks(&mut x);
            let msgs: [&[u8]; N] = core::array::from_fn(|l| &raw[l][..(len + l) % 56]);
            let blocks = msgs.map(padded);
            let got = states(core::array::from_fn(|l| &blocks[l]));
            for (l, msg) in msgs.iter().enumerate() {
                let d = md5::Md5::digest(msg);
                let want: [u32; 4] = core::array::from_fn(|j| {
                    u32::from_le_bytes(d[4 * j..4 * j + 4].try_into().unwrap())
                });
                assert_eq!(got[l], want, "len {} lane {l}", msg.len());
            }
        }
        for _ in 0..64 {
            let blocks: [[u8; 64]; N] = random_blocks(&mut x);
            let got = states(core::array::from_fn(|l| &blocks[l]));
            for (g, b) in got.iter().zip(&blocks) {
                assert_eq!(*g, scalar(b));
            }
        }
    }

    /// RFC 1321, appendix A.5: the single-block messages of the test suite.
    const RFC1321: [(&str, u128); 6] = [
        ("", 0xd41d8cd98f00b204e9800998ecf8427e),
        ("a", 0x0cc175b9c0f1b6a831c399e269772661),
        ("abc", 0x900150983cd24fb0d6963f7d28e17f72),
        ("message digest", 0xf96b697d7cb7938d525a2f31aaf161d0),
        (
            "abcdefghijklmnopqrstuvwxyz",
            0xc3fcd3d76192e4007dfb496cca67e13b,
        ),
        (
            "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789",
            0xd174ab98d277d9f5a5611c2c9f419d9f,
        ),
    ];

    fn vectors<const N: usize>(keys: impl Fn([&[u8; 64]; N]) -> [u128; N]) {
        // The 62-byte message needs two blocks: the search never sends it
        // to a single-block kernel.
        let singles = &RFC1321[..5];
        let blocks: std::vec::Vec<[u8; 64]> =
            singles.iter().map(|(m, _)| padded(m.as_bytes())).collect();
        let got = keys(core::array::from_fn(|l| &blocks[l % blocks.len()]));
        for (l, k) in got.iter().enumerate() {
            assert_eq!(*k, singles[l % singles.len()].1, "lane {l}");
        }
        assert_eq!(
            format!("{:032x}", digest_of(RFC1321[5].0)),
            format!("{:032x}", RFC1321[5].1)
        );
    }

    fn digest_of(m: &str) -> u128 {
        u128::from_be_bytes(md5::Md5::digest(m.as_bytes()).into())
    }

    #[test]
    fn avx2_equals_scalar_at_every_length_and_rfc1321() {
        let Some(x) = Md5x8::detect() else {
            return; // the kernel is never used on this CPU
        };
        check(|b| x.states(b));
        vectors(|b| x.keys(b));
    }

    #[test]
    fn avx512_equals_scalar_at_every_length_and_rfc1321() {
        let Some(x) = Md5x16::detect() else {
            return;
        };
        check(|b| x.states(b));
        vectors(|b| x.keys(b));
    }

    /// The two interleaved sets of lanes: every lane of both against the
    /// `md5` crate, so a step of one set reading the other's words fails.
    #[test]
    fn avx512_pair_equals_scalar_at_every_length_and_rfc1321() {
        let Some(x) = Md5x16::detect() else {
            return;
        };
        check(|b| x.states32(b));
        vectors(|b| x.keys32(b));
    }

    /// Any count of blocks (whole pairs of sixteen, a set of sixteen, a
    /// padded rest) gives every key, in order, each reported once.
    #[test]
    fn keys_into_covers_every_count_of_blocks() {
        let Some(lanes) = Md5x16::detect() else {
            return; // the kernel is never used on this CPU
        };
        let mut x = 7u64;
        let blocks: [[u8; 64]; 101] = random_blocks(&mut x);
        for n in (0..=70).chain([95, 96, 97, 100, 101]) {
            let mut out = [0u128; 101];
            let seen = std::cell::Cell::new(0);
            lanes.keys_into(blocks[..n].iter(), &mut out[..n], &|_| {
                seen.set(seen.get() + 1)
            });
            assert_eq!(seen.get(), n);
            for (i, (o, b)) in out[..n].iter().zip(&blocks).enumerate() {
                assert_eq!(*o, key(scalar(b)), "block {i} of {n}");
            }
        }
    }
}
