//! Four SHA-256 compressions at once with the x86 SHA extensions.
//!
//! Each `sha256rnds2` depends on the one before it, so a single message
//! leaves the SHA unit idle for most of the instruction's latency.
//! Interleaving independent blocks fills those gaps. Measured on this
//! project's 2-core AMD EPYC (Zen 4) build machine, one core, single blocks:
//! 22.5 M/s one at a time (RustCrypto's `compress256`), 29 M/s two at a time,
//! 42 M/s three, 50 M/s four, 46 M/s five, 43 M/s eight (register spills).
//! The schedule is Intel's reference (as in RustCrypto's `sha2`), written
//! once for N lanes.
//!
//! Two users share the kernel: the hash audit's search loop
//! (src/audit/hashes/algo.rs, `ShaNi::key4`: the first 16 digest bytes)
//! and HMAC-SHA256 of four short messages for the pseudonymizer's batch path
//! (src/backend/rustcrypto.rs, [`ShaNi::hmac4`]: the inner blocks, then the
//! outer ones, each built in registers). [`ShaNi::compress4`] gives whole states (the
//! floor `deid bench` measures the batch path against).
//!
//! `unsafe` is confined to this module: the intrinsics need the `sha`,
//! `ssse3` and `sse4.1` target features. [`ShaNi::detect`] checks them once
//! and returns a token; only a token's methods enter code compiled for
//! them, so the hot loops do not check again.
#![allow(unsafe_code)]

use super::SHA256_K as K;
use core::arch::x86_64::{
    __m128i, _mm_add_epi32, _mm_alignr_epi8, _mm_extract_epi32, _mm_loadu_si128, _mm_set_epi32,
    _mm_set_epi64x, _mm_setzero_si128, _mm_sha256msg1_epu32, _mm_sha256msg2_epu32,
    _mm_sha256rnds2_epu32, _mm_shuffle_epi8, _mm_shuffle_epi32, _mm_storeu_si128,
    _mm_unpackhi_epi64, _mm_unpacklo_epi64,
};

/// Asks the CPU to bring the cache line holding `word` closer. A hint:
/// it never faults and does not hold up the instructions after it, unlike
/// a load that misses.
#[inline]
pub(crate) fn prefetch(word: &u64) {
    use core::arch::x86_64::{_MM_HINT_T0, _mm_prefetch};
    // SAFETY: prefetching reads nothing architecturally; the pointer comes
    // from a reference anyway. SSE is part of the x86-64 baseline.
    unsafe { _mm_prefetch::<_MM_HINT_T0>(core::ptr::from_ref(word).cast()) }
}

/// Proof that this CPU has the SHA extensions (and SSSE3, SSE4.1): only
/// [`ShaNi::detect`] makes one.
///
/// # Example
/// ```
/// use deid::backend::shani::ShaNi;
/// // FIPS 180-2 appendix B.1: SHA-256("abc"), one padded block.
/// let mut block = [0u8; 64];
/// block[..3].copy_from_slice(b"abc");
/// block[3] = 0x80;
/// block[63] = 24;
/// if let Some(ni) = ShaNi::detect() {
///     let st = ni.compress4(&ShaNi::SHA256_IV, [&block; 4]);
///     assert!(st.iter().all(|s| s[0] == 0xba78_16bf && s[7] == 0xf200_15ad));
/// }
/// ```
#[derive(Clone, Copy, Debug)]
pub struct ShaNi(());

impl ShaNi {
    /// SHA-256 initial hash value (FIPS 180-4, 5.3.3).
    pub const SHA256_IV: [u32; 8] = super::rustcrypto::SHA256_IV;

    /// A token if the CPU can run the four-way kernel.
    pub fn detect() -> Option<Self> {
        (std::is_x86_feature_detected!("sha")
            && std::is_x86_feature_detected!("ssse3")
            && std::is_x86_feature_detected!("sse4.1"))
        .then_some(ShaNi(()))
    }

    /// The first 16 bytes (big-endian) of the SHA-256 (or SHA-224, by
    /// `iv`) state after compressing each of four single blocks from `iv`.
    #[inline]
    pub(crate) fn key4(self, iv: &[u32; 8], blocks: [&[u8; 64]; 4]) -> [u128; 4] {
        // SAFETY: a `ShaNi` exists only once `detect` has found every
        // target feature `key_n` is compiled for.
        unsafe { key_n(iv, blocks) }
    }

    /// What every block of a run shares, computed once from `block` (any
    /// block of the run) and `iv` (SHA-256's or SHA-224's), given `shared`,
    /// whose bit `i` says every block of the run has the same byte `i`
    /// (bytes 0 to 7 must be shared): the state after rounds 0 and 1, which
    /// read the first 8 bytes only, the message words plus round constants
    /// of each later 16-byte group the blocks share, and which message
    /// words differ. [`ShaNi::key4_run`] and [`ShaNiAvx512::key20`] then
    /// skip that work for each block.
    #[inline]
    pub(crate) fn shared_run(self, iv: &[u32; 8], block: &[u8; 64], shared: u64) -> SharedRun {
        // SAFETY: a `ShaNi` exists only once `detect` has found every
        // target feature `shared_run` is compiled for.
        unsafe { shared_run(iv, block, shared) }
    }

    /// [`ShaNi::key4`] of four blocks of the run `run` was made for: each
    /// has the same first 8 bytes as the block `run` was computed from, and
    /// the same bytes in every 16-byte group marked constant. Rounds 0 and 1
    /// (one `sha256rnds2` of the 32 a block) and the loading of the
    /// constant groups are not repeated. Blocks outside the run get wrong
    /// keys (the caller knows which bytes its blocks share).
    #[inline]
    pub(crate) fn key4_run(
        self,
        iv: &[u32; 8],
        run: &SharedRun,
        blocks: [&[u8; 64]; 4],
    ) -> [u128; 4] {
        // SAFETY: a `ShaNi` exists only once `detect` has found every
        // target feature `key_run_n` is compiled for.
        unsafe { key_run_n(iv, run, blocks) }
    }

    /// HMAC-SHA256 of four short messages (at most 55 bytes each, one
    /// inner block) from the chaining values after the inner and outer pad
    /// blocks (`inner`, `outer`): two interleaved rounds of four
    /// compressions, both messages built in registers. Returns the four
    /// 32-byte MACs, or `None` when a message is longer than 55 bytes.
    #[inline]
    pub fn hmac4(
        self,
        inner: &[u32; 8],
        outer: &[u32; 8],
        data: [&[u8]; 4],
    ) -> Option<[[u8; 32]; 4]> {
        if data.iter().any(|d| d.len() > MAX_SHORT) {
            return None;
        }
        // SAFETY: a `ShaNi` exists only once `detect` has found every
        // target feature `hmac_n` is compiled for.
        Some(unsafe { hmac_n(inner, outer, data) })
    }

    /// The SHA-256 chaining values after compressing each of four blocks
    /// from the same state `iv`, interleaved: what `compress256` gives one
    /// block at a time.
    #[inline]
    pub fn compress4(self, iv: &[u32; 8], blocks: [&[u8; 64]; 4]) -> [[u32; 8]; 4] {
        // SAFETY: a `ShaNi` exists only once `detect` has found every
        // target feature `state_n` is compiled for.
        unsafe { state_n(iv, blocks) }
    }
}

/// Proof that this CPU has the SHA extensions and AVX-512F and BW, and that this
/// compiler could build the kernels that use both (the AVX-512 intrinsics
/// are stable from Rust 1.89): only [`ShaNiAvx512::detect`] makes one.
///
/// The SHA unit and the vector units are separate: while `sha256rnds2`
/// works through four blocks, sixteen more go through SHA-256 written in
/// AVX-512 lanes (one `vprord` per rotation, one `vpternlogd` per Σ, Ch and
/// Maj), the two interleaved four rounds at a time. On this project's AMD
/// EPYC (Zen 4) build machine, one core, single blocks: 50 M/s four-way
/// SHA-NI, 64 M/s sixteen AVX-512 lanes alone, 80 M/s both interleaved
/// (one after the other: 55 M/s).
///
/// Where switching between SSE and AVX-512 instructions stalls
/// (`avx512::switching_stalls`), the two run one after the other instead:
/// on the Intel Xeon virtual machine where that was seen, the lanes alone
/// took 34 ns a block against 50–68 ns four-way on the SHA unit, and
/// interleaved, 3,900 ns.
///
/// Having the features is not enough for the lanes to pay: on a slower
/// EPYC host (2.6 GHz, also Zen 4) the SHA unit alone hashed faster than
/// the twenty-way kernel (hash reversal 21.9 against 24.6 ns a candidate,
/// pseudonyms 48 against 57 ns a value). [`ShaNiAvx512::preferred`], which
/// every dispatch asks, times the two once per process;
/// [`ShaNiAvx512::detect`] only says the kernels can run (the tests ask it,
/// so the kernels are checked on every CPU that has them).
#[derive(Clone, Copy, Debug)]
pub(crate) struct ShaNiAvx512 {
    ni: ShaNi,
    interleave: bool,
}

impl ShaNiAvx512 {
    /// A token if the CPU can run the twenty-way kernels.
    pub(crate) fn detect() -> Option<Self> {
        Self::detect_impl()
    }

    /// The token if this CPU can run the twenty-way kernels and they hash
    /// faster here than the SHA unit alone: what the search's kernel
    /// (`Kernel::for_algo` in src/audit/hashes/algo.rs) and the
    /// pseudonymizer dispatch on.
    pub(crate) fn preferred() -> Option<Self> {
        Self::detect().filter(|x| x.lanes_pay())
    }

    /// Whether the kernel this token runs (twenty blocks interleaved, or
    /// the sixteen lanes alone where switching stalls) hashes a block in at
    /// most nine tenths of the time [`ShaNi::key4`] takes, timed once per
    /// process. The margin covers what the lanes add outside the
    /// compression (the pseudonymizer transposes its blocks and tags) and
    /// keeps a near tie on the simpler path. Each side hashes the same 80
    /// blocks eight times a run, the two alternating, and the best of nine
    /// runs each counts, so a preempted run does not decide; the whole
    /// probe takes about a quarter of a millisecond.
    fn lanes_pay(self) -> bool {
        static PAYS: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
        *PAYS.get_or_init(|| {
            use core::hint::black_box;
            use std::time::{Duration, Instant};
            let iv = &ShaNi::SHA256_IV;
            let blocks: [[u8; 64]; 80] =
                core::array::from_fn(|b| core::array::from_fn(|i| (b * 64 + i) as u8));
            let lanes = || {
                let mut acc = 0u128;
                if self.interleave {
                    for g in blocks.chunks_exact(20) {
                        let g: [&[u8; 64]; 20] = core::array::from_fn(|l| &g[l]);
                        acc ^= self.key20(iv, None, black_box(g))[19];
                    }
                } else {
                    for g in blocks.chunks_exact(16) {
                        let g: [&[u8; 64]; 16] = core::array::from_fn(|l| &g[l]);
                        acc ^= self.key16(iv, None, black_box(g))[15];
                    }
                }
                acc
            };
            let unit = || {
                let mut acc = 0u128;
                for g in blocks.chunks_exact(4) {
                    acc ^= self.ni.key4(iv, black_box([&g[0], &g[1], &g[2], &g[3]]))[3];
                }
                acc
            };
            let (mut best_lanes, mut best_unit) = (Duration::MAX, Duration::MAX);
            let time = |f: &dyn Fn() -> u128, best: &mut Duration| {
                let t = Instant::now();
                for _ in 0..8 {
                    black_box(f());
                }
                *best = (*best).min(t.elapsed());
            };
            for _ in 0..9 {
                time(&lanes, &mut best_lanes);
                time(&unit, &mut best_unit);
            }
            best_lanes * 10 <= best_unit * 9
        })
    }

    /// Whether the SHA unit's blocks and the lanes' are interleaved (else
    /// one after the other, where switching between them stalls).
    pub(crate) fn interleaved(self) -> bool {
        self.interleave
    }

    #[rustversion::since(1.89)]
    fn detect_impl() -> Option<Self> {
        let ni = ShaNi::detect()?;
        (std::is_x86_feature_detected!("avx512f") && std::is_x86_feature_detected!("avx512bw"))
            .then(|| ShaNiAvx512 {
                ni,
                interleave: !avx512::switching_stalls(),
            })
    }

    #[rustversion::before(1.89)]
    fn detect_impl() -> Option<Self> {
        None
    }

    /// [`ShaNi::key4`] of twenty blocks: the first four on the SHA unit,
    /// the other sixteen in AVX-512 lanes. With `run` (made by
    /// [`ShaNi::shared_run`] for these blocks), rounds 0 and 1 are not
    /// repeated and the lanes load only the message words that differ.
    #[inline]
    pub(crate) fn key20(
        self,
        iv: &[u32; 8],
        run: Option<&SharedRun>,
        blocks: [&[u8; 64]; 20],
    ) -> [u128; 20] {
        if self.interleave {
            // SAFETY: a `ShaNiAvx512` exists only once `detect` has found
            // every target feature `key20` is compiled for.
            return unsafe { avx512::key20(iv, run, blocks) };
        }
        let unit = [blocks[0], blocks[1], blocks[2], blocks[3]];
        let unit = match run {
            Some(run) => self.ni.key4_run(iv, run, unit),
            None => self.ni.key4(iv, unit),
        };
        let lanes: [&[u8; 64]; 16] = core::array::from_fn(|l| blocks[4 + l]);
        // SAFETY: as above, for `key16`.
        let lanes = unsafe { avx512::key16(iv, run, lanes) };
        core::array::from_fn(|l| if l < 4 { unit[l] } else { lanes[l - 4] })
    }

    /// [`ShaNi::key4`] of sixteen blocks, all in AVX-512 lanes: where
    /// switching stalls, the SHA unit's four-way rate is below the lanes'
    /// and a group of twenty costs more a block than the lanes alone.
    #[inline]
    pub(crate) fn key16(
        self,
        iv: &[u32; 8],
        run: Option<&SharedRun>,
        blocks: [&[u8; 64]; 16],
    ) -> [u128; 16] {
        // SAFETY: a `ShaNiAvx512` exists only once `detect` has found
        // every target feature `key16` is compiled for.
        unsafe { avx512::key16(iv, run, blocks) }
    }

    /// [`ShaNi::hmac4`] of twenty short messages (at most 55 bytes each):
    /// the inner compressions of all twenty, four on the SHA unit and
    /// sixteen in AVX-512 lanes, interleaved, then the outer ones. `None`
    /// when a message is longer than 55 bytes.
    #[inline]
    pub(crate) fn hmac20(
        self,
        inner: &[u32; 8],
        outer: &[u32; 8],
        data: [&[u8]; 20],
    ) -> Option<[[u8; 32]; 20]> {
        if data.iter().any(|d| d.len() > MAX_SHORT) {
            return None;
        }
        if self.interleave {
            // SAFETY: a `ShaNiAvx512` exists only once `detect` has found
            // every target feature `hmac20` is compiled for.
            return Some(unsafe { avx512::hmac20(inner, outer, data) });
        }
        let unit = self
            .ni
            .hmac4(inner, outer, [data[0], data[1], data[2], data[3]])?;
        let lanes: [&[u8]; 16] = core::array::from_fn(|l| data[4 + l]);
        // SAFETY: as above, for `hmac16`.
        let lanes = unsafe { avx512::hmac16(inner, outer, lanes) };
        Some(core::array::from_fn(|l| {
            if l < 4 { unit[l] } else { lanes[l - 4] }
        }))
    }
}

/// Before Rust 1.89 no `ShaNiAvx512` is ever made, so these are never
/// called.
#[rustversion::before(1.89)]
mod avx512 {
    use super::SharedRun;

    pub(super) unsafe fn key20(
        _: &[u32; 8],
        _: Option<&SharedRun>,
        _: [&[u8; 64]; 20],
    ) -> [u128; 20] {
        unreachable!("no ShaNiAvx512 token before Rust 1.89")
    }

    pub(super) unsafe fn hmac20(_: &[u32; 8], _: &[u32; 8], _: [&[u8]; 20]) -> [[u8; 32]; 20] {
        unreachable!("no ShaNiAvx512 token before Rust 1.89")
    }

    pub(super) unsafe fn key16(
        _: &[u32; 8],
        _: Option<&SharedRun>,
        _: [&[u8; 64]; 16],
    ) -> [u128; 16] {
        unreachable!("no ShaNiAvx512 token before Rust 1.89")
    }

    pub(super) unsafe fn hmac16(_: &[u32; 8], _: &[u32; 8], _: [&[u8]; 16]) -> [[u8; 32]; 16] {
        unreachable!("no ShaNiAvx512 token before Rust 1.89")
    }
}

/// SHA-256 in the sixteen 32-bit lanes of AVX-512 registers, interleaved
/// with the SHA unit's four blocks. Its lane helpers (`add`, `splat`,
/// `xor3`, `choose`) also serve the MD5 lanes (src/audit/hashes/md5x.rs).
#[rustversion::since(1.89)]
pub(crate) mod avx512 {
    use super::{
        K, SharedRun, bswap32, finish, load, outer_blocks, plus_k, schedule, short_blocks, tags,
    };
    use core::arch::x86_64::{
        __m128i, __m512i, _mm_add_epi32, _mm_cvtsi128_si32, _mm_set_epi32, _mm_sha256rnds2_epu32,
        _mm_shuffle_epi32, _mm512_add_epi32, _mm512_broadcast_i32x4, _mm512_castsi512_si128,
        _mm512_i32gather_epi32, _mm512_i32scatter_epi32, _mm512_loadu_si512, _mm512_mask_set1_epi8,
        _mm512_mask_set1_epi64, _mm512_maskz_loadu_epi8, _mm512_ror_epi32, _mm512_set1_epi32,
        _mm512_setr_epi32, _mm512_setzero_si512, _mm512_shuffle_epi8, _mm512_srli_epi32,
        _mm512_storeu_si512, _mm512_ternarylogic_epi32, _mm512_unpackhi_epi32,
        _mm512_unpackhi_epi64, _mm512_unpacklo_epi32, _mm512_unpacklo_epi64,
    };

    /// Whether this CPU stalls when SSE and AVX-512 instructions alternate,
    /// measured once per process.
    ///
    /// The SHA extensions exist only in the legacy SSE encoding, so the
    /// interleaved kernels run an SSE instruction after an AVX-512 one
    /// thousands of times a block, while the AVX-512 registers' upper
    /// halves are in use. Most CPUs merge the two at the cost of a
    /// dependency. Some save and restore the upper halves at each switch
    /// instead, as older cores did for AVX: on one Intel Xeon virtual
    /// machine a switch cost about 130 ns, and the interleaved kernels ran
    /// 40 times slower than the SHA unit alone (there the two run in turn,
    /// see [`super::ShaNiAvx512`]). The probe times a chain of
    /// `sha256rnds2`, each fed by an AVX-512 addition, against the same
    /// chain fed by an SSE one: a few nanoseconds a step either way where
    /// switching is cheap, a hundred times that where it stalls. The best
    /// of five runs of each keeps a preempted run from deciding.
    pub(super) fn switching_stalls() -> bool {
        static STALLS: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
        *STALLS.get_or_init(|| {
            let time = |chain: &dyn Fn(u32) -> u32| {
                (0..5)
                    .map(|_| {
                        let t = std::time::Instant::now();
                        core::hint::black_box(chain(core::hint::black_box(256)));
                        t.elapsed()
                    })
                    .min()
                    .unwrap_or_default()
            };
            // SAFETY: only called once `ShaNiAvx512::features` has found
            // the SHA extensions and AVX-512F, the chains' target features.
            let mixed = time(&|n| unsafe { mixed_chain(n) });
            // SAFETY: as above (SHA and SSE2).
            let sse = time(&|n| unsafe { sse_chain(n) });
            mixed > sse * 4 + std::time::Duration::from_micros(2)
        })
    }

    /// `n` steps of `sha256rnds2`, each fed by an AVX-512 addition that
    /// depends on the step before (so neither can be hoisted or merged).
    #[target_feature(enable = "avx512f,sha")]
    fn mixed_chain(n: u32) -> u32 {
        let k = _mm_set_epi32(1, 2, 3, 4);
        let mut x = _mm_set_epi32(5, 6, 7, 8);
        let mut z = splat(9);
        for _ in 0..n {
            z = add(z, _mm512_broadcast_i32x4(x));
            x = _mm_sha256rnds2_epu32(x, _mm512_castsi512_si128(z), k);
        }
        _mm_cvtsi128_si32(x) as u32
    }

    /// [`mixed_chain`] with an SSE addition in place of the AVX-512 one.
    #[target_feature(enable = "sha")]
    fn sse_chain(n: u32) -> u32 {
        let k = _mm_set_epi32(1, 2, 3, 4);
        let mut x = _mm_set_epi32(5, 6, 7, 8);
        let mut y = _mm_set_epi32(9, 9, 9, 9);
        for _ in 0..n {
            y = _mm_add_epi32(y, x);
            x = _mm_sha256rnds2_epu32(x, y, k);
        }
        _mm_cvtsi128_si32(x) as u32
    }

    /// Lane-wise 32-bit addition.
    #[target_feature(enable = "avx512f")]
    #[inline]
    pub(crate) fn add(x: __m512i, y: __m512i) -> __m512i {
        _mm512_add_epi32(x, y)
    }

    /// `x` in every lane.
    #[target_feature(enable = "avx512f")]
    #[inline]
    pub(crate) fn splat(x: u32) -> __m512i {
        _mm512_set1_epi32(x as i32)
    }

    // `vpternlogd` computes any function of three bits: bit `4x + 2y + z`
    // of the immediate is its value at x, y, z.

    /// `x ^ y ^ z` in one instruction (SHA-256's Σ, MD5's H).
    #[target_feature(enable = "avx512f")]
    #[inline]
    pub(crate) fn xor3(x: __m512i, y: __m512i, z: __m512i) -> __m512i {
        _mm512_ternarylogic_epi32::<0x96>(x, y, z)
    }

    /// `(x & y) | (!x & z)`: bits of `y` where `x` is set, else of `z`
    /// (SHA-256's Ch, MD5's F).
    #[target_feature(enable = "avx512f")]
    #[inline]
    pub(crate) fn choose(x: __m512i, y: __m512i, z: __m512i) -> __m512i {
        _mm512_ternarylogic_epi32::<0xCA>(x, y, z)
    }

    /// One round on every lane: `s` is a..h, `wk` the round's message word
    /// plus its constant (FIPS 180-4, 6.2.2 step 3).
    #[target_feature(enable = "avx512f")]
    #[inline]
    fn round(s: &mut [__m512i; 8], wk: __m512i) {
        let [a, b, c, d, e, f, g, h] = *s;
        let sigma1 = xor3(
            _mm512_ror_epi32::<6>(e),
            _mm512_ror_epi32::<11>(e),
            _mm512_ror_epi32::<25>(e),
        );
        let ch = choose(e, f, g);
        let t1 = add(add(h, sigma1), add(ch, wk));
        let sigma0 = xor3(
            _mm512_ror_epi32::<2>(a),
            _mm512_ror_epi32::<13>(a),
            _mm512_ror_epi32::<22>(a),
        );
        let maj = _mm512_ternarylogic_epi32::<0xE8>(a, b, c);
        *s = [add(t1, add(sigma0, maj)), a, b, c, add(d, t1), e, f, g];
    }

    /// Rounds `r` and `r + 1`, scheduling their message words first from
    /// `w`, the ring of the last sixteen.
    #[target_feature(enable = "avx512f")]
    #[inline]
    fn rounds2(s: &mut [__m512i; 8], w: &mut [__m512i; 16], r: usize) {
        for r in r..r + 2 {
            if r >= 16 {
                let (w2, w15) = (w[(r - 2) % 16], w[(r - 15) % 16]);
                let s1 = xor3(
                    _mm512_ror_epi32::<17>(w2),
                    _mm512_ror_epi32::<19>(w2),
                    _mm512_srli_epi32::<10>(w2),
                );
                let s0 = xor3(
                    _mm512_ror_epi32::<7>(w15),
                    _mm512_ror_epi32::<18>(w15),
                    _mm512_srli_epi32::<3>(w15),
                );
                w[r % 16] = add(add(s1, w[(r - 7) % 16]), add(s0, w[r % 16]));
            }
            round(s, add(w[r % 16], splat(K[r])));
        }
    }

    /// Message word `j` of each block, one block a lane.
    #[target_feature(enable = "avx512f")]
    #[inline]
    fn column(blocks: &[&[u8; 64]; 16], j: usize) -> __m512i {
        let words: [u32; 16] = core::array::from_fn(|l| {
            let b = blocks[l];
            u32::from_be_bytes([b[4 * j], b[4 * j + 1], b[4 * j + 2], b[4 * j + 3]])
        });
        // SAFETY: `words` is 64 readable bytes; loadu has no alignment need.
        unsafe { _mm512_loadu_si512(words.as_ptr().cast()) }
    }

    /// Each lane's a, b, c, d as a key (a in the top bits): interleaved so
    /// that every 128 bits hold one lane's key in memory order.
    #[target_feature(enable = "avx512f")]
    #[inline]
    fn keys16(s: &[__m512i; 8]) -> [u128; 16] {
        let [a, b, c, d, ..] = *s;
        // A little-endian u128 key holds (d, c, b, a) from its low word up.
        // The unpacks work within 128-bit quarters: quarter q of `keys[m]`
        // becomes lane 4q + m.
        let (dc_lo, dc_hi) = (_mm512_unpacklo_epi32(d, c), _mm512_unpackhi_epi32(d, c));
        let (ba_lo, ba_hi) = (_mm512_unpacklo_epi32(b, a), _mm512_unpackhi_epi32(b, a));
        let keys = [
            _mm512_unpacklo_epi64(dc_lo, ba_lo),
            _mm512_unpackhi_epi64(dc_lo, ba_lo),
            _mm512_unpacklo_epi64(dc_hi, ba_hi),
            _mm512_unpackhi_epi64(dc_hi, ba_hi),
        ];
        let mut quarters = [[0u128; 4]; 4];
        for (q, k) in quarters.iter_mut().zip(keys) {
            // SAFETY: `q` is 64 writable bytes; storeu has no alignment need.
            unsafe { _mm512_storeu_si512(q.as_mut_ptr().cast(), k) }
        }
        core::array::from_fn(|lane| quarters[lane % 4][lane / 4])
    }

    /// See [`super::ShaNiAvx512::key20`].
    #[target_feature(enable = "sha,sse2,ssse3,sse4.1,avx512f")]
    pub(super) fn key20(
        iv: &[u32; 8],
        run: Option<&SharedRun>,
        blocks: [&[u8; 64]; 20],
    ) -> [u128; 20] {
        // The SHA unit's blocks: groups of four message words.
        let w: [[__m128i; 4]; 4] = core::array::from_fn(|j| {
            core::array::from_fn(|l| match run {
                Some(run) if run.constant[j] => run.w[j],
                _ => load(blocks[l], j),
            })
        });
        let lanes: [&[u8; 64]; 16] = core::array::from_fn(|l| blocks[4 + l]);
        let (ni, s) = compress20::<4, false>(iv, run, w, columns(run, &lanes));
        let vector = keys16(&s);
        core::array::from_fn(|l| match l.checked_sub(4) {
            None => finish(ni[l].0, ni[l].1),
            Some(lane) => vector[lane],
        })
    }

    /// The keys of sixteen blocks in the lanes alone, as
    /// [`key20`] gives its last sixteen (for a CPU where interleaving
    /// them with the SHA unit stalls).
    ///
    /// Blocks of a run of short messages (at most 15 bytes: message words
    /// 4 to 14 zero in all of them, as in every kr-mobile format) take a
    /// copy of the kernel compiled with those words known to be zero,
    /// which drops their terms from the first sixteen words of the
    /// schedule (about 90 of some 1,600 instructions a block).
    #[target_feature(enable = "sha,sse2,ssse3,sse4.1,avx512f")]
    pub(super) fn key16(
        iv: &[u32; 8],
        run: Option<&SharedRun>,
        blocks: [&[u8; 64]; 16],
    ) -> [u128; 16] {
        let v = columns(run, &blocks);
        let (_, s) = if run.is_some_and(SharedRun::short) {
            compress20::<0, true>(iv, run, [[]; 4], v)
        } else {
            compress20::<0, false>(iv, run, [[]; 4], v)
        };
        keys16(&s)
    }

    /// The lanes' message: one word of every block a register, the words
    /// `run` holds for every block splatted.
    #[target_feature(enable = "avx512f")]
    #[inline]
    fn columns(run: Option<&SharedRun>, blocks: &[&[u8; 64]; 16]) -> [__m512i; 16] {
        let varying = run.map_or(u16::MAX, |r| r.varying);
        core::array::from_fn(|j| match run {
            Some(run) if varying & (1 << j) == 0 => splat(run.words[j]),
            _ => column(blocks, j),
        })
    }

    /// See [`super::ShaNiAvx512::hmac20`].
    #[target_feature(enable = "sha,sse2,ssse3,sse4.1,avx512f,avx512bw")]
    pub(super) fn hmac20(inner: &[u32; 8], outer: &[u32; 8], data: [&[u8]; 20]) -> [[u8; 32]; 20] {
        let unit = [data[0], data[1], data[2], data[3]];
        let (unit, lanes) = hmac_lanes(inner, outer, unit, core::array::from_fn(|l| data[4 + l]));
        core::array::from_fn(|l| if l < 4 { unit[l] } else { lanes[l - 4] })
    }

    /// HMACs of sixteen short messages in the lanes alone, as [`hmac20`]
    /// gives its last sixteen.
    #[target_feature(enable = "sha,sse2,ssse3,sse4.1,avx512f,avx512bw")]
    pub(super) fn hmac16(inner: &[u32; 8], outer: &[u32; 8], data: [&[u8]; 16]) -> [[u8; 32]; 16] {
        hmac_lanes::<0>(inner, outer, [], data).1
    }

    /// HMACs of `N` short messages on the SHA unit and sixteen in the
    /// lanes, the two interleaved.
    #[target_feature(enable = "sha,sse2,ssse3,sse4.1,avx512f,avx512bw")]
    #[inline]
    fn hmac_lanes<const N: usize>(
        inner: &[u32; 8],
        outer: &[u32; 8],
        unit: [&[u8]; N],
        data: [&[u8]; 16],
    ) -> ([[u8; 32]; N], [[u8; 32]; 16]) {
        let w = short_blocks(unit);
        // The lanes' inner blocks: each padded in a register (the masked
        // load reads the message's bytes only), byte-swapped into words,
        // then gathered word by word into columns.
        let bswap512 = _mm512_broadcast_i32x4(bswap32());
        let mut rows = [[0u32; 16]; 16];
        for (row, d) in rows.iter_mut().zip(&data) {
            let len = d.len(); // at most 55: checked by the caller
            // SAFETY: the mask selects the first `len` bytes, all inside
            // `d`; masked-off bytes are not read and cannot fault.
            let x = unsafe { _mm512_maskz_loadu_epi8((1u64 << len) - 1, d.as_ptr().cast()) };
            let x = _mm512_mask_set1_epi8(x, 1u64 << len, 0x80_u8 as i8);
            let bits = ((64 + len as u64) * 8).swap_bytes();
            let x = _mm512_mask_set1_epi64(x, 0x80, bits as i64);
            // SAFETY: `row` is 64 writable bytes; storeu has no alignment need.
            unsafe {
                _mm512_storeu_si512(row.as_mut_ptr().cast(), _mm512_shuffle_epi8(x, bswap512))
            };
        }
        let across = _mm512_setr_epi32(
            0, 16, 32, 48, 64, 80, 96, 112, 128, 144, 160, 176, 192, 208, 224, 240,
        );
        let v: [__m512i; 16] = core::array::from_fn(|j| {
            // SAFETY: offsets `16 l + j` (l, j < 16) index the 256 words
            // of `rows`.
            unsafe {
                _mm512_i32gather_epi32::<4>(
                    _mm512_add_epi32(across, splat(j as u32)),
                    rows.as_ptr().cast(),
                )
            }
        });
        let (ni, s) = compress20::<N, false>(inner, None, w, v);
        // The outer blocks: the inner digest, 0x80, zeros, and the length
        // of pad block plus digest in bits, (64 + 32) * 8. In the lanes the
        // inner state registers are the first eight message words as they
        // stand.
        let w = outer_blocks(&ni);
        let v: [__m512i; 16] = core::array::from_fn(|j| match j {
            0..8 => s[j],
            8 => splat(0x8000_0000),
            15 => splat((64 + 32) * 8),
            _ => splat(0),
        });
        let (ni, s) = compress20::<N, false>(outer, None, w, v);
        let mut out = [[0u8; 32]; 16];
        // Lane `l`'s word `i` goes to bytes 32 l + 4 i of the lanes' tags.
        let lanes = out.as_mut_ptr().cast::<u8>();
        let down = _mm512_setr_epi32(
            0, 8, 16, 24, 32, 40, 48, 56, 64, 72, 80, 88, 96, 104, 112, 120,
        );
        for (i, x) in s.iter().enumerate() {
            // SAFETY: offsets `8 l + i` (l < 16, i < 8) index the 128 words
            // of `out`, sixteen 32-byte tags back to back.
            unsafe {
                _mm512_i32scatter_epi32::<4>(
                    lanes.cast(),
                    _mm512_add_epi32(down, splat(i as u32)),
                    _mm512_shuffle_epi8(*x, bswap512),
                )
            }
        }
        (tags(&ni), out)
    }

    /// One block on the SHA unit per entry of `w` (`w[j][l]`: words
    /// `4j..4j + 4` of block `l`) and one in every lane of `v` (`v[j]`:
    /// word `j`), from `iv`, the two interleaved four rounds at a time.
    /// With `run`, rounds 0 and 1 are taken from it (the blocks share
    /// their first 8 bytes with the block it was made from). Returns the
    /// chaining values after the final addition: (ABEF, CDGH) per block,
    /// and a..h across the lanes. `SHORT`: the lanes' words 4 to 14 are
    /// zero (the caller has checked), and this copy is compiled for that.
    // Lanes are indexed in lockstep across several arrays.
    #[allow(clippy::needless_range_loop)]
    #[target_feature(enable = "sha,sse2,ssse3,sse4.1,avx512f")]
    #[inline]
    fn compress20<const N: usize, const SHORT: bool>(
        iv: &[u32; 8],
        run: Option<&SharedRun>,
        mut w: [[__m128i; N]; 4],
        mut v: [__m512i; 16],
    ) -> ([(__m128i, __m128i); N], [__m512i; 8]) {
        if SHORT {
            // The caller knows words 4 to 14 are zero: with that a
            // constant, their terms fold out of the schedule.
            for x in &mut v[4..15] {
                *x = _mm512_setzero_si512();
            }
        }
        let abef0 = _mm_set_epi32(iv[0] as i32, iv[1] as i32, iv[4] as i32, iv[5] as i32);
        let cdgh0 = _mm_set_epi32(iv[2] as i32, iv[3] as i32, iv[6] as i32, iv[7] as i32);
        let mut abef = [abef0; N];
        let mut cdgh = [cdgh0; N];
        let lane_iv: [__m512i; 8] = core::array::from_fn(|i| splat(iv[i]));
        let mut s = lane_iv;
        // Four rounds of every block: the SHA unit's two `sha256rnds2`
        // interleaved with the lanes'.
        macro_rules! group {
            ($i:expr) => {{
                let i: usize = $i;
                let mut wk = [abef0; N];
                for l in 0..N {
                    if i >= 4 {
                        w[i % 4][l] = schedule(
                            w[i % 4][l],
                            w[(i + 1) % 4][l],
                            w[(i + 2) % 4][l],
                            w[(i + 3) % 4][l],
                        );
                    }
                    wk[l] = plus_k(w[i % 4][l], i);
                }
                match run {
                    // Rounds 0 and 1 are the run's: start at round 2.
                    Some(run) if i == 0 => {
                        s = core::array::from_fn(|i| splat(run.after2[i]));
                        cdgh = [run.mid; N];
                        for l in 0..N {
                            abef[l] = _mm_sha256rnds2_epu32(abef0, run.mid, hi(wk[l]));
                        }
                        rounds2(&mut s, &mut v, 2);
                    }
                    _ => {
                        for l in 0..N {
                            cdgh[l] = _mm_sha256rnds2_epu32(cdgh[l], abef[l], wk[l]);
                        }
                        rounds2(&mut s, &mut v, 4 * i);
                        for l in 0..N {
                            abef[l] = _mm_sha256rnds2_epu32(abef[l], cdgh[l], hi(wk[l]));
                        }
                        rounds2(&mut s, &mut v, 4 * i + 2);
                    }
                }
            }};
        }
        if N == 0 {
            // The lanes alone: unrolled by hand (LLVM does not unroll a
            // loop this large), so with each group's index a constant the
            // sixteen message words stay in registers instead of a ring in
            // memory addressed round by round.
            macro_rules! unrolled {
                ($($i:literal)*) => {$(group!($i);)*};
            }
            unrolled!(0 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15);
        } else {
            // With the SHA unit's blocks too, the unrolled copy runs out of
            // registers (the SHA unit's xmm registers are the low halves of
            // the lanes' zmm ones) and spills: measured slower on AMD EPYC.
            for i in 0..16 {
                group!(i);
            }
        }
        for (x, i) in s.iter_mut().zip(lane_iv) {
            *x = add(*x, i);
        }
        let ni = core::array::from_fn(|l| {
            (_mm_add_epi32(abef[l], abef0), _mm_add_epi32(cdgh[l], cdgh0))
        });
        (ni, s)
    }

    /// The upper two words plus constants moved down, for the second
    /// `sha256rnds2` of four rounds.
    #[target_feature(enable = "sha,sse2,ssse3,sse4.1")]
    #[inline]
    fn hi(wk: __m128i) -> __m128i {
        _mm_shuffle_epi32(wk, 0x0E)
    }
}

/// The `pshufb` mask that reverses the bytes of each 32-bit lane: between
/// SHA-256's big-endian words and the CPU's little-endian lanes.
#[target_feature(enable = "sha,sse2,ssse3,sse4.1")]
#[inline]
fn bswap32() -> __m128i {
    _mm_set_epi64x(0x0c0d_0e0f_0809_0a0b, 0x0405_0607_0001_0203)
}

/// A 16-byte group of big-endian message words, byte-swapped to lanes.
#[target_feature(enable = "sha,sse2,ssse3,sse4.1")]
#[inline]
fn load(block: &[u8; 64], i: usize) -> __m128i {
    let group: &[u8; 16] = block[16 * (i % 4)..][..16].try_into().unwrap_or(&[0; 16]);
    // SAFETY: `group` is 16 readable bytes; loadu has no alignment need.
    _mm_shuffle_epi8(unsafe { _mm_loadu_si128(group.as_ptr().cast()) }, bswap32())
}

/// The message words `w[4i..4i+4]` plus their round constants.
#[target_feature(enable = "sha,sse2,ssse3,sse4.1")]
#[inline]
fn plus_k(w: __m128i, i: usize) -> __m128i {
    let k: &[u32; 4] = K[4 * (i % 16)..][..4].try_into().unwrap_or(&[0; 4]);
    // SAFETY: `k` is 16 readable bytes; loadu has no alignment need.
    _mm_add_epi32(w, unsafe { _mm_loadu_si128(k.as_ptr().cast()) })
}

/// Four rounds on both lanes.
#[target_feature(enable = "sha,sse2,ssse3,sse4.1")]
#[inline]
fn rounds4<const N: usize>(abef: &mut [__m128i; N], cdgh: &mut [__m128i; N], wk: [__m128i; N]) {
    for l in 0..N {
        cdgh[l] = _mm_sha256rnds2_epu32(cdgh[l], abef[l], wk[l]);
    }
    for l in 0..N {
        abef[l] = _mm_sha256rnds2_epu32(abef[l], cdgh[l], _mm_shuffle_epi32(wk[l], 0x0E));
    }
}

/// The next four message words from the previous sixteen.
#[target_feature(enable = "sha,sse2,ssse3,sse4.1")]
#[inline]
fn schedule(w0: __m128i, w1: __m128i, w2: __m128i, w3: __m128i) -> __m128i {
    let t = _mm_add_epi32(_mm_sha256msg1_epu32(w0, w1), _mm_alignr_epi8(w3, w2, 4));
    _mm_sha256msg2_epu32(t, w3)
}

/// The state words a, b, c, d after the final addition, as a key.
#[target_feature(enable = "sha,sse2,ssse3,sse4.1")]
#[inline]
fn finish(abef: __m128i, cdgh: __m128i) -> u128 {
    (u128::from(_mm_extract_epi32(abef, 3) as u32) << 96)
        | (u128::from(_mm_extract_epi32(abef, 2) as u32) << 64)
        | (u128::from(_mm_extract_epi32(cdgh, 3) as u32) << 32)
        | u128::from(_mm_extract_epi32(cdgh, 2) as u32)
}

/// The whole state a..h after the final addition.
#[target_feature(enable = "sha,sse2,ssse3,sse4.1")]
#[inline]
fn finish_state(abef: __m128i, cdgh: __m128i) -> [u32; 8] {
    [
        _mm_extract_epi32(abef, 3) as u32,
        _mm_extract_epi32(abef, 2) as u32,
        _mm_extract_epi32(cdgh, 3) as u32,
        _mm_extract_epi32(cdgh, 2) as u32,
        _mm_extract_epi32(abef, 1) as u32,
        _mm_extract_epi32(abef, 0) as u32,
        _mm_extract_epi32(cdgh, 1) as u32,
        _mm_extract_epi32(cdgh, 0) as u32,
    ]
}

/// [`compress_n`] reduced to each lane's first 16 digest bytes.
#[target_feature(enable = "sha,sse2,ssse3,sse4.1")]
#[inline]
fn key_n<const N: usize>(iv: &[u32; 8], blocks: [&[u8; 64]; N]) -> [u128; N] {
    let lanes = compress_n(iv, blocks);
    let mut out = [0u128; N];
    for (o, (abef, cdgh)) in out.iter_mut().zip(lanes) {
        *o = finish(abef, cdgh);
    }
    out
}

/// What the blocks of a run share, for [`ShaNi::key4_run`]; made by
/// [`ShaNi::shared_run`]. The lanes' fields (`words`, `varying`,
/// `after2`) are read by the AVX-512 kernel only, which needs Rust 1.89.
#[derive(Clone, Copy, Debug)]
#[rustversion::attr(before(1.89), allow(dead_code))]
pub(crate) struct SharedRun {
    /// The A, B, E, F register after rounds 0 and 1.
    mid: __m128i,
    /// Per 16-byte group: whether every block has the same bytes there.
    constant: [bool; 4],
    /// The group's message words, byte-swapped into lanes.
    w: [__m128i; 4],
    /// The group's words plus round constants: for its first two rounds,
    /// and moved down for the next two.
    wk: [(__m128i, __m128i); 4],
    /// The message words of the block the run was made from.
    words: [u32; 16],
    /// Bit `j` set: message word `j` differs between blocks of the run.
    varying: u16,
    /// The state a..h after rounds 0 and 1.
    after2: [u32; 8],
}

#[rustversion::attr(before(1.89), allow(dead_code))]
impl SharedRun {
    /// Whether message words 4 to 14 are zero in every block of the run
    /// (messages of at most 15 bytes, with their words 0 to 3 the only
    /// ones that may differ).
    fn short(&self) -> bool {
        self.varying & 0x7FF0 == 0 && self.words[4..15].iter().all(|&w| w == 0)
    }
}

#[target_feature(enable = "sha,sse2,ssse3,sse4.1")]
#[inline]
fn shared_run(iv: &[u32; 8], block: &[u8; 64], shared: u64) -> SharedRun {
    let abef0 = _mm_set_epi32(iv[0] as i32, iv[1] as i32, iv[4] as i32, iv[5] as i32);
    let cdgh0 = _mm_set_epi32(iv[2] as i32, iv[3] as i32, iv[6] as i32, iv[7] as i32);
    let w: [__m128i; 4] = core::array::from_fn(|j| load(block, j));
    let wk = core::array::from_fn(|j| {
        let x = plus_k(w[j], j);
        (x, _mm_shuffle_epi32(x, 0x0E))
    });
    // Only the low two words (W0 + K0, W1 + K1) are read by the instruction.
    let mid = _mm_sha256rnds2_epu32(cdgh0, abef0, wk[0].0);
    // Bytes `from..from + n` are the same in every block of the run.
    let all = |from: usize, n: usize| {
        let bytes = (u64::MAX >> (64 - n)) << from;
        shared & bytes == bytes
    };
    let words = core::array::from_fn(|j| {
        u32::from_be_bytes([
            block[4 * j],
            block[4 * j + 1],
            block[4 * j + 2],
            block[4 * j + 3],
        ])
    });
    let varying = (0..16)
        .filter(|&j| !all(4 * j, 4))
        .fold(0, |m, j| m | 1 << j);
    // `mid` holds (f, e, b, a) from lane 0 up; c, d, g, h are the IV's a, b, e, f.
    let after2 = [
        _mm_extract_epi32(mid, 3) as u32,
        _mm_extract_epi32(mid, 2) as u32,
        iv[0],
        iv[1],
        _mm_extract_epi32(mid, 1) as u32,
        _mm_extract_epi32(mid, 0) as u32,
        iv[4],
        iv[5],
    ];
    SharedRun {
        mid,
        constant: [false, all(16, 16), all(32, 16), all(48, 16)],
        w,
        wk,
        words,
        varying,
        after2,
    }
}

/// [`key_n`] of the blocks of a run (see [`SharedRun`]).
// Lanes are indexed in lockstep across several arrays, as in compress_words.
#[allow(clippy::needless_range_loop)]
#[target_feature(enable = "sha,sse2,ssse3,sse4.1")]
#[inline]
fn key_run_n<const N: usize>(iv: &[u32; 8], run: &SharedRun, blocks: [&[u8; 64]; N]) -> [u128; N] {
    let abef0 = _mm_set_epi32(iv[0] as i32, iv[1] as i32, iv[4] as i32, iv[5] as i32);
    let cdgh0 = _mm_set_epi32(iv[2] as i32, iv[3] as i32, iv[6] as i32, iv[7] as i32);
    let mut w = [[abef0; N]; 4];
    for j in 0..4 {
        for l in 0..N {
            w[j][l] = if run.constant[j] {
                run.w[j]
            } else {
                load(blocks[l], j)
            };
        }
    }
    // Rounds 2 and 3 from the shared state after rounds 0 and 1.
    let mut cdgh = [run.mid; N];
    let mut abef = [abef0; N];
    for l in 0..N {
        abef[l] =
            _mm_sha256rnds2_epu32(abef0, run.mid, _mm_shuffle_epi32(plus_k(w[0][l], 0), 0x0E));
    }
    for j in 1..4 {
        if run.constant[j] {
            let (lo, hi) = run.wk[j];
            for l in 0..N {
                cdgh[l] = _mm_sha256rnds2_epu32(cdgh[l], abef[l], lo);
            }
            for l in 0..N {
                abef[l] = _mm_sha256rnds2_epu32(abef[l], cdgh[l], hi);
            }
        } else {
            let mut wk = [abef0; N];
            for l in 0..N {
                wk[l] = plus_k(w[j][l], j);
            }
            rounds4(&mut abef, &mut cdgh, wk);
        }
    }
    rounds16_to_63(&mut abef, &mut cdgh, w);
    let mut out = [0u128; N];
    for l in 0..N {
        out[l] = finish(_mm_add_epi32(abef[l], abef0), _mm_add_epi32(cdgh[l], cdgh0));
    }
    out
}

/// [`compress_n`] as each lane's whole state.
#[target_feature(enable = "sha,sse2,ssse3,sse4.1")]
#[inline]
fn state_n<const N: usize>(iv: &[u32; 8], blocks: [&[u8; 64]; N]) -> [[u32; 8]; N] {
    let lanes = compress_n(iv, blocks);
    let mut out = [[0u32; 8]; N];
    for (o, (abef, cdgh)) in out.iter_mut().zip(lanes) {
        *o = finish_state(abef, cdgh);
    }
    out
}

/// Compresses one block per lane from `iv`; returns each lane's (ABEF, CDGH)
/// after the final addition.
#[target_feature(enable = "sha,sse2,ssse3,sse4.1")]
#[inline]
fn compress_n<const N: usize>(iv: &[u32; 8], blocks: [&[u8; 64]; N]) -> [(__m128i, __m128i); N] {
    let mut first = [[_mm_setzero_si128(); N]; 4];
    for (j, group) in first.iter_mut().enumerate() {
        for (w, block) in group.iter_mut().zip(blocks) {
            *w = load(block, j);
        }
    }
    compress_words(iv, first)
}

/// [`compress_n`] on message words already in registers: `first[j][lane]`
/// holds words `4j..4j+4` of the lane's block.
// Lanes are indexed in lockstep across several arrays: index loops read
// more plainly here than zipped iterators.
#[allow(clippy::needless_range_loop)]
#[target_feature(enable = "sha,sse2,ssse3,sse4.1")]
#[inline]
fn compress_words<const N: usize>(
    iv: &[u32; 8],
    first: [[__m128i; N]; 4],
) -> [(__m128i, __m128i); N] {
    let abef0 = _mm_set_epi32(iv[0] as i32, iv[1] as i32, iv[4] as i32, iv[5] as i32);
    let cdgh0 = _mm_set_epi32(iv[2] as i32, iv[3] as i32, iv[6] as i32, iv[7] as i32);
    let mut abef = [abef0; N];
    let mut cdgh = [cdgh0; N];
    // w[j][lane]: a ring of the last four groups of message words.
    let w = first;
    for j in 0..4 {
        let mut wk = [abef0; N];
        for l in 0..N {
            wk[l] = plus_k(w[j][l], j);
        }
        rounds4(&mut abef, &mut cdgh, wk);
    }
    rounds16_to_63(&mut abef, &mut cdgh, w);
    let mut out = [(abef0, cdgh0); N];
    for l in 0..N {
        out[l] = (_mm_add_epi32(abef[l], abef0), _mm_add_epi32(cdgh[l], cdgh0));
    }
    out
}

/// Rounds 16 to 63 of each lane, given the ring `w` of its message words
/// 0..16 (`w[j][lane]`: words `4j..4j+4`) and its state after round 15.
#[allow(clippy::needless_range_loop)]
#[target_feature(enable = "sha,sse2,ssse3,sse4.1")]
#[inline]
fn rounds16_to_63<const N: usize>(
    abef: &mut [__m128i; N],
    cdgh: &mut [__m128i; N],
    mut w: [[__m128i; N]; 4],
) {
    for i in 4..16 {
        let mut wk = [_mm_setzero_si128(); N];
        for l in 0..N {
            let next = schedule(
                w[i % 4][l],
                w[(i + 1) % 4][l],
                w[(i + 2) % 4][l],
                w[(i + 3) % 4][l],
            );
            w[i % 4][l] = next;
            wk[l] = plus_k(next, i);
        }
        rounds4(abef, cdgh, wk);
    }
}

/// A lane's state as message words in order: (a, b, c, d), (e, f, g, h).
#[target_feature(enable = "sha,sse2,ssse3,sse4.1")]
#[inline]
fn state_words(abef: __m128i, cdgh: __m128i) -> (__m128i, __m128i) {
    // abef holds (f, e, b, a) from lane 0 up, cdgh (h, g, d, c).
    (
        _mm_shuffle_epi32(_mm_unpackhi_epi64(abef, cdgh), 0xB1),
        _mm_shuffle_epi32(_mm_unpacklo_epi64(abef, cdgh), 0xB1),
    )
}

/// The longest message whose SHA-256 padding fits in its one block
/// (64 bytes less the 0x80 byte and the 8-byte length).
const MAX_SHORT: usize = 55;

/// The one padded inner block of an HMAC message of at most
/// [`MAX_SHORT`] bytes, as the four groups of message words
/// [`compress_words`] takes. The length counts the 64-byte pad block
/// already absorbed. The same block as the scalar path's `inner_block`
/// (src/backend/rustcrypto.rs), which writes it to memory for
/// `compress256`; `mac4` is tested equal to `mac` at every length.
///
/// Built in registers from 64-bit reads of the message: a block written to
/// memory a piece at a time and read back as vectors stalls each read until
/// the pieces leave the store buffer, which cost as much as a third of the
/// batch path's time.
#[target_feature(enable = "sha,sse2,ssse3,sse4.1")]
#[inline]
fn short_block(data: &[u8]) -> [__m128i; 4] {
    let len = data.len();
    let (whole, rest) = (len / 8, len % 8);
    let tail = tail_word(data, rest);
    // Word `k` (bytes 8k..8k + 8): the message's bytes, the 0x80 after
    // them, and in the last word the length in bits, big-endian. No word is
    // indexed by a run-time value, so none goes through memory.
    let word = |k: usize| {
        let bytes = if k < whole {
            let mut w = [0u8; 8];
            w.copy_from_slice(&data[8 * k..8 * k + 8]);
            u64::from_le_bytes(w)
        } else if k == whole {
            tail | 0x80 << (8 * rest)
        } else {
            0
        };
        let bits = if k == 7 {
            ((64 + len as u64) * 8).swap_bytes()
        } else {
            0
        };
        (bytes | bits) as i64
    };
    let bswap = bswap32();
    [
        _mm_shuffle_epi8(_mm_set_epi64x(word(1), word(0)), bswap),
        _mm_shuffle_epi8(_mm_set_epi64x(word(3), word(2)), bswap),
        _mm_shuffle_epi8(_mm_set_epi64x(word(5), word(4)), bswap),
        _mm_shuffle_epi8(_mm_set_epi64x(word(7), word(6)), bswap),
    ]
}

/// The last `rest` (0 to 7) bytes of `d` as a little-endian word, read as
/// whole words: the last eight bytes, shifted, or for a message shorter
/// than a word, two overlapping 4-byte reads (or the bytes one by one).
#[inline]
fn tail_word(d: &[u8], rest: usize) -> u64 {
    let n = d.len();
    if rest == 0 {
        return 0;
    }
    if n >= 8 {
        let mut w = [0u8; 8];
        w.copy_from_slice(&d[n - 8..]);
        return u64::from_le_bytes(w) >> (8 * (8 - rest));
    }
    // The whole message is shorter than a word (`rest` is its length).
    if n >= 4 {
        let four = |b: &[u8]| {
            let mut w = [0u8; 4];
            w.copy_from_slice(b);
            u64::from(u32::from_le_bytes(w))
        };
        return four(&d[..4]) | (four(&d[n - 4..]) >> (8 * (8 - n))) << 32;
    }
    d.iter().rev().fold(0, |w, &b| (w << 8) | u64::from(b))
}

/// HMAC-SHA256 of one message of at most [`MAX_SHORT`] bytes per lane,
/// from the chaining values after the pad blocks: the inner compressions
/// interleaved, then the outer ones, whose message (the inner digest and
/// its padding) is built in registers.
// Lanes are indexed in lockstep across several arrays.
#[allow(clippy::needless_range_loop)]
#[target_feature(enable = "sha,sse2,ssse3,sse4.1")]
#[inline]
fn hmac_n<const N: usize>(inner: &[u32; 8], outer: &[u32; 8], data: [&[u8]; N]) -> [[u8; 32]; N] {
    let st = compress_words(inner, short_blocks(data));
    let st = compress_words(outer, outer_blocks(&st));
    tags(&st)
}

/// The inner blocks of `N` short HMAC messages ([`short_block`]) as
/// [`compress_words`] takes them: `[j][l]` is words `4j..4j + 4` of
/// message `l`.
#[allow(clippy::needless_range_loop)]
#[target_feature(enable = "sha,sse2,ssse3,sse4.1")]
#[inline]
fn short_blocks<const N: usize>(data: [&[u8]; N]) -> [[__m128i; N]; 4] {
    let mut blocks = [[_mm_setzero_si128(); N]; 4];
    for l in 0..N {
        let block = short_block(data[l]);
        for j in 0..4 {
            blocks[j][l] = block[j];
        }
    }
    blocks
}

/// The outer HMAC blocks after the inner compressions that left `st`:
/// the 32-byte inner digest, then 0x80, zeros and the length of pad block
/// plus digest in bits, (64 + 32) * 8.
#[target_feature(enable = "sha,sse2,ssse3,sse4.1")]
#[inline]
fn outer_blocks<const N: usize>(st: &[(__m128i, __m128i); N]) -> [[__m128i; N]; 4] {
    let pad_lo = _mm_set_epi32(0, 0, 0, 0x8000_0000_u32 as i32);
    let pad_hi = _mm_set_epi32((64 + 32) * 8, 0, 0, 0);
    let mut blocks = [[pad_lo; N]; 4];
    for (l, &(abef, cdgh)) in st.iter().enumerate() {
        (blocks[0][l], blocks[1][l]) = state_words(abef, cdgh);
        blocks[3][l] = pad_hi;
    }
    blocks
}

/// The 32-byte digests (big-endian words a..h) of final chaining values.
#[target_feature(enable = "sha,sse2,ssse3,sse4.1")]
#[inline]
fn tags<const N: usize>(st: &[(__m128i, __m128i); N]) -> [[u8; 32]; N] {
    let bswap = bswap32();
    let mut out = [[0u8; 32]; N];
    for (o, &(abef, cdgh)) in out.iter_mut().zip(st) {
        let (abcd, efgh) = state_words(abef, cdgh);
        let (lo, hi) = o.split_at_mut(16);
        // SAFETY: `lo` and `hi` are 16 writable bytes each; storeu has no
        // alignment need.
        unsafe {
            _mm_storeu_si128(lo.as_mut_ptr().cast(), _mm_shuffle_epi8(abcd, bswap));
            _mm_storeu_si128(hi.as_mut_ptr().cast(), _mm_shuffle_epi8(efgh, bswap));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::audit::hashes::algo::{SHA224_IV, SHA256_IV};
    use crate::backend::kernel_checks::{padded, prefix};
    use sha2::{Digest, Sha224, Sha256};

    #[test]
    fn equals_sha256_and_sha224_on_every_single_block_length() {
        let Some(ni) = ShaNi::detect() else {
            return; // the kernel is never used on this CPU
        };
        crate::backend::kernel_checks::keys_equal_digests(|iv, b| ni.key4(iv, b));
    }

    /// Starting from what a run shares gives the same keys as the whole
    /// compression, at every single-block length, for SHA-256 and SHA-224,
    /// with every combination of 16-byte groups marked constant.
    #[test]
    fn key4_run_equals_sha256_and_sha224_at_every_length() {
        let Some(ni) = ShaNi::detect() else {
            return;
        };
        let mut rng = crate::xorshift(0x5851_f42d_4c95_7f2d);
        let mut next = || rng() as u8;
        for len in 0..=55usize {
            for flags in 0..8u8 {
                let constant = [false, flags & 1 != 0, flags & 2 != 0, flags & 4 != 0];
                // Lane 0 at random; the others share its first 8 bytes and
                // the groups marked constant, and differ elsewhere.
                let mut msgs = [[0u8; 55]; 4];
                for m in msgs.iter_mut() {
                    m.iter_mut().for_each(|b| *b = next());
                }
                for i in 0..55 {
                    if i < 8 || constant[i / 16] {
                        let b = msgs[0][i];
                        msgs.iter_mut().for_each(|m| m[i] = b);
                    }
                }
                let blocks = msgs.map(|m| padded(&m[..len]));
                let lanes = [&blocks[0], &blocks[1], &blocks[2], &blocks[3]];
                for (iv, digest) in [
                    (
                        &SHA256_IV,
                        (|m: &[u8]| prefix(&Sha256::digest(m))) as fn(&[u8]) -> u128,
                    ),
                    (&SHA224_IV, |m: &[u8]| prefix(&Sha224::digest(m))),
                ] {
                    // Made from any block of the run: the last one here.
                    let run = ni.shared_run(iv, &blocks[3], shared_bytes(constant));
                    let got = ni.key4_run(iv, &run, lanes);
                    for (g, m) in got.iter().zip(&msgs) {
                        assert_eq!(*g, digest(&m[..len]), "len {len} flags {flags}");
                    }
                    assert_eq!(got, ni.key4(iv, lanes));
                }
            }
        }
    }

    /// The byte mask `shared_run` takes: the first 8 bytes, and the bytes
    /// of each 16-byte group marked constant (padding included).
    fn shared_bytes(constant: [bool; 4]) -> u64 {
        (0..64)
            .filter(|&i| i < 8 || constant[i / 16])
            .fold(0, |m, i| m | 1 << i)
    }

    /// The twenty-way token both ways, interleaved and in turn, whichever
    /// this CPU's probe chose (none where the CPU lacks the features).
    fn both_ways() -> std::vec::Vec<ShaNiAvx512> {
        ShaNiAvx512::detect()
            .map(|x| {
                [true, false]
                    .map(|interleave| ShaNiAvx512 { interleave, ..x })
                    .to_vec()
            })
            .unwrap_or_default()
    }

    #[test]
    fn key20_equals_sha256_and_sha224_on_every_single_block_length() {
        for x in both_ways() {
            crate::backend::kernel_checks::keys_equal_digests(|iv, b| x.key20(iv, None, b));
            crate::backend::kernel_checks::keys_equal_digests(|iv, b| x.key16(iv, None, b));
        }
    }

    /// `hmac20` both ways equals `hmac4` on each four at every length up
    /// to 55 bytes, and declines a longer message.
    #[test]
    fn hmac20_equals_hmac4_both_ways_at_every_length() {
        let msg: [u8; 320] = core::array::from_fn(|i| (i * 31 + 7) as u8);
        let (inner, outer) = ([3u32; 8], [0x9e37_79b9u32; 8]);
        for x in both_ways() {
            for len in 0..=55usize {
                let data: [&[u8]; 20] = core::array::from_fn(|l| {
                    let n = (len + l * 7) % 56;
                    &msg[l * 13..l * 13 + n]
                });
                let got = x.hmac20(&inner, &outer, data).unwrap();
                for (i, four) in data.chunks_exact(4).enumerate() {
                    let want =
                        x.ni.hmac4(&inner, &outer, [four[0], four[1], four[2], four[3]])
                            .unwrap();
                    assert_eq!(got[4 * i..4 * i + 4], want, "len {len} group {i}");
                }
                let mut long = data;
                long[len % 20] = &msg[..56 + len];
                assert_eq!(x.hmac20(&inner, &outer, long), None);
            }
        }
    }

    /// Twenty blocks of a run, as the search builds them: the same but for
    /// a few bytes, which differ in every lane. At every length, with the
    /// differing bytes at every position past the first 8 (alone, and with
    /// one more further on), `key20` with the run equals the digests, and
    /// so does `key16` on the first sixteen.
    #[test]
    fn key20_of_a_run_equals_sha256_at_every_length_and_position() {
        for x in both_ways() {
            key20_of_a_run(x);
        }
    }

    fn key20_of_a_run(x: ShaNiAvx512) {
        let ni = x.ni;
        let mut rng = crate::xorshift(0x2545_f491_4f6c_dd1d);
        let mut next = || rng() as u8;
        for len in 9..=55usize {
            for first in 8..len {
                for second in [None, Some((first + 5) % len).filter(|&s| s > first)] {
                    let base: [u8; 55] = core::array::from_fn(|_| next());
                    let msgs: [[u8; 55]; 20] = core::array::from_fn(|_| {
                        let mut m = base;
                        m[first] = next();
                        if let Some(s) = second {
                            m[s] = next();
                        }
                        m
                    });
                    let blocks = msgs.map(|m| padded(&m[..len]));
                    let lanes: [&[u8; 64]; 20] = core::array::from_fn(|l| &blocks[l]);
                    let shared = !(1u64 << first) & !second.map_or(0, |s| 1u64 << s);
                    for (iv, digest) in [
                        (
                            &SHA256_IV,
                            (|m: &[u8]| prefix(&Sha256::digest(m))) as fn(&[u8]) -> u128,
                        ),
                        (&SHA224_IV, |m: &[u8]| prefix(&Sha224::digest(m))),
                    ] {
                        let run = ni.shared_run(iv, &blocks[7], shared);
                        let got = x.key20(iv, Some(&run), lanes);
                        for (l, (g, m)) in got.iter().zip(&msgs).enumerate() {
                            assert_eq!(*g, digest(&m[..len]), "len {len} at {first} lane {l}");
                        }
                        let sixteen: [&[u8; 64]; 16] = core::array::from_fn(|l| lanes[l]);
                        let got = x.key16(iv, Some(&run), sixteen);
                        for (l, (g, m)) in got.iter().zip(&msgs).enumerate() {
                            assert_eq!(
                                *g,
                                digest(&m[..len]),
                                "key16 len {len} at {first} lane {l}"
                            );
                        }
                    }
                }
            }
        }
    }

    #[test]
    fn compress4_equals_compress256_from_any_state() {
        let Some(ni) = ShaNi::detect() else {
            return;
        };
        crate::backend::kernel_checks::states_equal_compress256(|iv, b| ni.compress4(iv, b));
    }
}
