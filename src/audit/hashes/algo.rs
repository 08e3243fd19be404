//! Hash algorithms a recipient would try, and the constructions around them
//! (plain, salted with a known salt, HMAC with a leaked key).
//!
//! Candidates of up to 55 bytes fit one padded block, so for MD5, SHA-1,
//! SHA-224 and SHA-256 the search calls the compression function once per
//! candidate on a block whose padding and length were written once: no
//! hasher state, no buffering. The crates pick SHA-NI / ARMv8 SHA2 at
//! runtime.

use std::vec::Vec;

use hmac::digest::Digest;
use serde::Serialize;
use zeroize::Zeroizing;

/// The shortest digest prefix searched, in bytes (16 hex characters). A
/// `b`-byte prefix matches a wrong candidate with probability `2^-8b`, so
/// searching `S` candidates against `T` targets expects `S·T/2^(8b)` chance
/// matches: about 5·10^-7 for the 10^8 Korean mobile numbers against 10^5
/// targets at 8 bytes, but 2,300 at 4 bytes (8 hex characters), where a
/// match no longer shows the input. Shorter prefixes are not searched.
pub const MIN_PREFIX_BYTES: usize = 8;

/// A digest algorithm.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
#[non_exhaustive]
pub enum Algorithm {
    /// MD5 (16 bytes).
    Md5,
    /// SHA-1 (20 bytes).
    Sha1,
    /// SHA-224 (28 bytes).
    Sha224,
    /// SHA-256 (32 bytes).
    Sha256,
    /// SHA-384 (48 bytes).
    Sha384,
    /// SHA-512 (64 bytes).
    Sha512,
    /// SHA3-256 (32 bytes).
    #[serde(rename = "sha3-256")]
    Sha3_256,
}

impl Algorithm {
    /// Every supported algorithm, cheapest first.
    pub const ALL: [Algorithm; 7] = [
        Algorithm::Md5,
        Algorithm::Sha1,
        Algorithm::Sha256,
        Algorithm::Sha224,
        Algorithm::Sha512,
        Algorithm::Sha384,
        Algorithm::Sha3_256,
    ];

    /// Name as on the command line.
    pub fn name(self) -> &'static str {
        match self {
            Algorithm::Md5 => "md5",
            Algorithm::Sha1 => "sha1",
            Algorithm::Sha224 => "sha224",
            Algorithm::Sha256 => "sha256",
            Algorithm::Sha384 => "sha384",
            Algorithm::Sha512 => "sha512",
            Algorithm::Sha3_256 => "sha3-256",
        }
    }

    /// Parses a name (`sha256`, `sha-256`, `SHA256`, …).
    pub fn parse(s: &str) -> Option<Algorithm> {
        let s = s.to_ascii_lowercase().replace(['-', '_'], "");
        Algorithm::ALL
            .into_iter()
            .find(|a| a.name().replace('-', "") == s)
    }

    /// Digest length in bytes.
    pub fn digest_len(self) -> usize {
        match self {
            Algorithm::Md5 => 16,
            Algorithm::Sha1 => 20,
            Algorithm::Sha224 => 28,
            Algorithm::Sha256 | Algorithm::Sha3_256 => 32,
            Algorithm::Sha384 => 48,
            Algorithm::Sha512 => 64,
        }
    }

    /// The algorithms whose digests have `len` bytes.
    pub fn for_len(len: usize) -> Vec<Algorithm> {
        Algorithm::ALL
            .into_iter()
            .filter(|a| a.digest_len() == len)
            .collect()
    }

    /// The algorithms a column of `len`-byte digests is tried with. A length
    /// no algorithm has (a hex prefix of at least [`MIN_PREFIX_BYTES`]) is a
    /// truncated digest: every longer algorithm. A full length is that
    /// algorithm's digest, and with `truncated` also the prefix of every
    /// longer one (32 hex characters are MD5, or with `truncated` the first
    /// half of a SHA-256 too).
    pub fn for_prefix(len: usize, truncated: bool) -> Vec<Algorithm> {
        let exact = Algorithm::for_len(len);
        if !exact.is_empty() && !truncated {
            return exact;
        }
        if len < MIN_PREFIX_BYTES {
            return exact;
        }
        Algorithm::ALL
            .into_iter()
            .filter(|a| a.digest_len() >= len)
            .collect()
    }

    /// Hashes `data` into `out`, returning the digest length.
    pub fn hash(self, data: &[u8], out: &mut [u8; 64]) -> usize {
        fn put(out: &mut [u8; 64], d: &[u8]) -> usize {
            out[..d.len()].copy_from_slice(d);
            d.len()
        }
        match self {
            Algorithm::Md5 => put(out, &md5::Md5::digest(data)),
            Algorithm::Sha1 => put(out, &sha1::Sha1::digest(data)),
            Algorithm::Sha224 => put(out, &sha2::Sha224::digest(data)),
            Algorithm::Sha256 => put(out, &sha2::Sha256::digest(data)),
            Algorithm::Sha384 => put(out, &sha2::Sha384::digest(data)),
            Algorithm::Sha512 => put(out, &sha2::Sha512::digest(data)),
            Algorithm::Sha3_256 => put(out, &sha3::Sha3_256::digest(data)),
        }
    }

    /// HMAC with this hash as the PRF.
    pub fn hmac(self, key: &[u8], data: &[u8], out: &mut [u8; 64]) -> usize {
        use hmac::{Mac, SimpleHmac};
        fn run<D: Digest + hmac::digest::block_api::BlockSizeUser + Clone>(
            key: &[u8],
            data: &[u8],
            out: &mut [u8; 64],
        ) -> usize {
            match <SimpleHmac<D> as hmac::KeyInit>::new_from_slice(key) {
                Ok(mut m) => {
                    m.update(data);
                    let d = m.finalize().into_bytes();
                    out[..d.len()].copy_from_slice(&d);
                    d.len()
                }
                Err(_) => 0,
            }
        }
        match self {
            Algorithm::Md5 => run::<md5::Md5>(key, data, out),
            Algorithm::Sha1 => run::<sha1::Sha1>(key, data, out),
            Algorithm::Sha224 => run::<sha2::Sha224>(key, data, out),
            Algorithm::Sha256 => run::<sha2::Sha256>(key, data, out),
            Algorithm::Sha384 => run::<sha2::Sha384>(key, data, out),
            Algorithm::Sha512 => run::<sha2::Sha512>(key, data, out),
            Algorithm::Sha3_256 => run::<sha3::Sha3_256>(key, data, out),
        }
    }

    /// Hashes per second of hashcat 6.2.6 on one NVIDIA GeForce RTX 4090,
    /// from Chick3nman's published benchmark of that card (Oct 2022, the
    /// figures most cited for it): MD5 (mode 0) 164.1 GH/s, SHA1 (100)
    /// 50.64 GH/s, SHA2-256 (1400) 21.98 GH/s, SHA2-512 (1700) 7.48 GH/s.
    /// SHA-224 and SHA-384 are taken at the rate of SHA-256 and SHA-512
    /// (same compression function); SHA3-256, absent from that set, at the
    /// SHA2-512 rate as a conservative stand-in.
    pub fn rtx4090_rate(self) -> f64 {
        match self {
            Algorithm::Md5 => 164.1e9,
            Algorithm::Sha1 => 50.64e9,
            Algorithm::Sha224 | Algorithm::Sha256 => 21.98e9,
            Algorithm::Sha384 | Algorithm::Sha512 | Algorithm::Sha3_256 => 7.48e9,
        }
    }

    /// Whether a padded single block can be hashed by the compression
    /// function directly.
    pub(crate) fn has_block_kernel(self) -> bool {
        matches!(
            self,
            Algorithm::Md5 | Algorithm::Sha1 | Algorithm::Sha224 | Algorithm::Sha256
        )
    }
}

/// How identifiers were turned into digests.
#[derive(Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Construction {
    /// `H(identifier)`.
    Plain,
    /// `H(salt || identifier)` or `H(identifier || salt)` with a known salt.
    Salted {
        /// The salt.
        salt: Vec<u8>,
        /// Salt before (true) or after the identifier.
        prefix: bool,
    },
    /// `HMAC-H(key, identifier)` with a leaked key.
    Hmac {
        /// The key (zeroized on drop).
        key: Zeroizing<Vec<u8>>,
    },
    /// A hash of a hash: `H(hex(inner(identifier)))`, the hex in upper
    /// case when `upper` (`sha256(md5_hex(email))`, as some exports double-hash).
    Nested {
        /// The inner algorithm.
        inner: Algorithm,
        /// The inner digest written in upper-case hex.
        upper: bool,
    },
}

impl core::fmt::Debug for Construction {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        // The salt is not secret but the HMAC key is: show neither.
        f.write_str(self.label())
    }
}

impl Construction {
    /// Short label for reports.
    pub fn label(&self) -> &'static str {
        match self {
            Construction::Plain => "plain",
            Construction::Salted { prefix: true, .. } => "salt-prefix",
            Construction::Salted { prefix: false, .. } => "salt-suffix",
            Construction::Hmac { .. } => "hmac",
            Construction::Nested { inner, upper } => match (inner, upper) {
                (Algorithm::Md5, false) => "hash-of-md5-hex",
                (Algorithm::Md5, true) => "hash-of-md5-HEX",
                (Algorithm::Sha1, false) => "hash-of-sha1-hex",
                (Algorithm::Sha1, true) => "hash-of-sha1-HEX",
                (Algorithm::Sha256, false) => "hash-of-sha256-hex",
                (Algorithm::Sha256, true) => "hash-of-sha256-HEX",
                (_, false) => "hash-of-hex",
                (_, true) => "hash-of-HEX",
            },
        }
    }

    /// Digest of `identifier` under this construction.
    pub fn digest(&self, algo: Algorithm, identifier: &[u8], out: &mut [u8; 64]) -> usize {
        match self {
            Construction::Plain => algo.hash(identifier, out),
            Construction::Salted { salt, prefix } => {
                let mut m = Vec::with_capacity(salt.len() + identifier.len());
                if *prefix {
                    m.extend_from_slice(salt);
                    m.extend_from_slice(identifier);
                } else {
                    m.extend_from_slice(identifier);
                    m.extend_from_slice(salt);
                }
                algo.hash(&m, out)
            }
            Construction::Hmac { key } => algo.hmac(key, identifier, out),
            Construction::Nested { inner, upper } => {
                let n = inner.hash(identifier, out);
                let mut hex = [0u8; 128];
                let digits: &[u8; 16] = if *upper {
                    b"0123456789ABCDEF"
                } else {
                    b"0123456789abcdef"
                };
                for (i, b) in out[..n].iter().enumerate() {
                    hex[2 * i] = digits[usize::from(b >> 4)];
                    hex[2 * i + 1] = digits[usize::from(b & 15)];
                }
                algo.hash(&hex[..2 * n], out)
            }
        }
    }
}

/// A padded single block for one algorithm and message length: the search
/// writes candidate bytes into it and calls the compression function.
#[derive(Clone)]
pub(crate) struct BlockKernel {
    algo: Algorithm,
    pub(crate) block: [[u8; 64]; 1],
}

/// SHA-256's initial state (FIPS 180-4, 5.3.3), the one the HMAC backend uses.
pub(crate) const SHA256_IV: [u32; 8] = crate::backend::rustcrypto::SHA256_IV;
/// SHA-224's initial state (FIPS 180-4, 5.3.2).
pub(crate) const SHA224_IV: [u32; 8] = [
    0xc105_9ed8,
    0x367c_d507,
    0x3070_dd17,
    0xf70e_5939,
    0xffc0_0b31,
    0x6858_1511,
    0x64f9_8fa7,
    0xbefa_4fa4,
];
const SHA1_IV: [u32; 5] = [
    0x6745_2301,
    0xEFCD_AB89,
    0x98BA_DCFE,
    0x1032_5476,
    0xC3D2_E1F0,
];
/// MD5 initial state (RFC 1321, 3.3).
pub(crate) const MD5_IV: [u32; 4] = [0x6745_2301, 0xefcd_ab89, 0x98ba_dcfe, 0x1032_5476];

impl BlockKernel {
    /// A kernel for messages of exactly `len` bytes (≤ 55), or `None` if
    /// the algorithm has no block kernel or the message does not fit.
    pub(crate) fn new(algo: Algorithm, len: usize) -> Option<Self> {
        if !algo.has_block_kernel() || len > 55 {
            return None;
        }
        let block = [Self::padded(algo, &[0u8; 55][..len])];
        Some(BlockKernel { algo, block })
    }

    /// `msg` (at most 55 bytes) as the one block `algo` compresses: the
    /// message, 0x80, zeros, and the length in bits (little-endian for MD5,
    /// big-endian for the SHA family).
    pub(crate) fn padded(algo: Algorithm, msg: &[u8]) -> [u8; 64] {
        let mut block = [0u8; 64];
        block[..msg.len()].copy_from_slice(msg);
        block[msg.len()] = 0x80;
        let bits = (msg.len() as u64) * 8;
        if algo == Algorithm::Md5 {
            block[56..].copy_from_slice(&bits.to_le_bytes());
        } else {
            block[56..].copy_from_slice(&bits.to_be_bytes());
        }
        block
    }

    /// The first 16 bytes of the digest of the current block, big-endian.
    #[inline]
    pub(crate) fn key(&self) -> u128 {
        match self.algo {
            Algorithm::Sha256 | Algorithm::Sha224 => {
                let mut st = *sha256_iv(self.algo).unwrap_or(&SHA256_IV);
                sha2::block_api::compress256(&mut st, &self.block);
                (u128::from(st[0]) << 96)
                    | (u128::from(st[1]) << 64)
                    | (u128::from(st[2]) << 32)
                    | u128::from(st[3])
            }
            Algorithm::Sha1 => {
                let mut st = SHA1_IV;
                sha1::block_api::compress(&mut st, &self.block);
                (u128::from(st[0]) << 96)
                    | (u128::from(st[1]) << 64)
                    | (u128::from(st[2]) << 32)
                    | u128::from(st[3])
            }
            _ => {
                let mut st = MD5_IV;
                md5::block_api::compress(&mut st, &self.block);
                (u128::from(st[0].swap_bytes()) << 96)
                    | (u128::from(st[1].swap_bytes()) << 64)
                    | (u128::from(st[2].swap_bytes()) << 32)
                    | u128::from(st[3].swap_bytes())
            }
        }
    }
}

/// The initial state of SHA-256 or SHA-224, the two algorithms that share
/// SHA-256's compression function.
fn sha256_iv(algo: Algorithm) -> Option<&'static [u32; 8]> {
    match algo {
        Algorithm::Sha256 => Some(&SHA256_IV),
        Algorithm::Sha224 => Some(&SHA224_IV),
        _ => None,
    }
}

/// The kernel this CPU hashes an algorithm's single blocks with: chosen
/// once ([`Kernel::for_algo`]), then used to hash ([`block_keys`]), to
/// size the search's runs ([`Kernel::blocks_per_call`]) and to name the
/// path in `deid bench` ([`Kernel::name`]), so the three cannot disagree.
///
/// SHA-224/256 on a CPU with the x86 SHA extensions compress four blocks at
/// once, interleaved, which more than doubles the rate of one core (SHA-1
/// likewise, src/audit/hashes/sha1ni.rs); with AVX-512 as well, sixteen
/// more go through the vector lanes while the SHA unit works on four, or
/// the lanes take every block where switching between the two stalls
/// (src/backend/shani.rs). AArch64 with the SHA2 instructions compresses
/// two at once (src/backend/armsha2.rs); MD5 runs thirty-two blocks at
/// once on AVX-512 and eight on AVX2 (src/audit/hashes/md5x.rs); otherwise
/// the blocks are compressed one after the other.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Kernel {
    /// SHA-224/256: four blocks on the SHA unit and sixteen in the
    /// AVX-512 lanes, interleaved.
    #[cfg(target_arch = "x86_64")]
    Sha256Twenty(super::shani::ShaNi, super::shani::ShaNiAvx512),
    /// SHA-224/256: sixteen blocks in the AVX-512 lanes alone (switching
    /// to the SHA unit stalls on this CPU).
    #[cfg(target_arch = "x86_64")]
    Sha256Sixteen(super::shani::ShaNi, super::shani::ShaNiAvx512),
    /// SHA-224/256: four blocks interleaved on the SHA unit. `lanes_slower`:
    /// the CPU has the AVX-512 lanes, but they were timed slower than the
    /// SHA unit alone (`ShaNiAvx512::preferred`).
    #[cfg(target_arch = "x86_64")]
    Sha256Four {
        /// The SHA unit.
        ni: super::shani::ShaNi,
        /// Whether lanes exist but do not pay.
        lanes_slower: bool,
    },
    /// SHA-224/256: two blocks interleaved on ARMv8's SHA2 instructions.
    #[cfg(target_arch = "aarch64")]
    Sha256Two(crate::backend::armsha2::Sha2Arm),
    /// SHA-1: four blocks interleaved on the SHA unit.
    #[cfg(target_arch = "x86_64")]
    Sha1Four(super::sha1ni::Sha1Ni),
    /// MD5: two sets of sixteen AVX-512 lanes, interleaved.
    Md5ThirtyTwo(super::md5x::Md5x16),
    /// MD5: eight AVX2 lanes.
    Md5Eight(super::md5x::Md5x8),
    /// One block at a time, rustcrypto's compression function.
    OneAtATime,
    /// No single-block kernel for the algorithm: the full hasher.
    Hasher,
}

impl Kernel {
    /// The fastest kernel this CPU has for `algo`.
    pub(crate) fn for_algo(algo: Algorithm) -> Kernel {
        if !algo.has_block_kernel() {
            return Kernel::Hasher;
        }
        #[cfg(target_arch = "x86_64")]
        if sha256_iv(algo).is_some() {
            if let Some(ni) = super::shani::ShaNi::detect() {
                // Having AVX-512 does not decide: `preferred` keeps the
                // lanes only where they were timed faster than the SHA
                // unit alone.
                return match super::shani::ShaNiAvx512::preferred() {
                    Some(x) if x.interleaved() => Kernel::Sha256Twenty(ni, x),
                    Some(x) => Kernel::Sha256Sixteen(ni, x),
                    None => Kernel::Sha256Four {
                        ni,
                        lanes_slower: super::shani::ShaNiAvx512::detect().is_some(),
                    },
                };
            }
        }
        #[cfg(target_arch = "aarch64")]
        if sha256_iv(algo).is_some() {
            if let Some(arm) = crate::backend::armsha2::Sha2Arm::detect() {
                return Kernel::Sha256Two(arm);
            }
        }
        #[cfg(target_arch = "x86_64")]
        if algo == Algorithm::Sha1 {
            if let Some(ni) = super::sha1ni::Sha1Ni::detect() {
                return Kernel::Sha1Four(ni);
            }
        }
        if algo == Algorithm::Md5 {
            if let Some(x) = super::md5x::Md5x16::detect() {
                return Kernel::Md5ThirtyTwo(x);
            }
            if let Some(x) = super::md5x::Md5x8::detect() {
                return Kernel::Md5Eight(x);
            }
        }
        Kernel::OneAtATime
    }

    /// Every kernel this CPU can run for `algo`, whether or not it is the
    /// one chosen: the tests hold each to the one-at-a-time path.
    #[cfg(test)]
    pub(crate) fn all(algo: Algorithm) -> Vec<Kernel> {
        let mut all = vec![Kernel::for_algo(algo), Kernel::OneAtATime];
        #[cfg(target_arch = "x86_64")]
        if sha256_iv(algo).is_some() {
            if let Some(ni) = super::shani::ShaNi::detect() {
                all.push(Kernel::Sha256Four {
                    ni,
                    lanes_slower: false,
                });
                if let Some(x) = super::shani::ShaNiAvx512::detect() {
                    all.extend([Kernel::Sha256Twenty(ni, x), Kernel::Sha256Sixteen(ni, x)]);
                }
            }
        }
        if algo == Algorithm::Md5 {
            all.extend(super::md5x::Md5x16::detect().map(Kernel::Md5ThirtyTwo));
            all.extend(super::md5x::Md5x8::detect().map(Kernel::Md5Eight));
        }
        all
    }

    /// How many blocks one call of the kernel hashes: a run of blocks that
    /// is a multiple of it leaves no lane empty.
    pub(crate) fn blocks_per_call(self) -> usize {
        match self {
            #[cfg(target_arch = "x86_64")]
            Kernel::Sha256Twenty(..) => 20,
            #[cfg(target_arch = "x86_64")]
            Kernel::Sha256Sixteen(..) => 16,
            #[cfg(target_arch = "x86_64")]
            Kernel::Sha256Four { .. } | Kernel::Sha1Four(_) => 4,
            #[cfg(target_arch = "aarch64")]
            Kernel::Sha256Two(_) => 2,
            // Thirty-two at a time, but what is left over goes by sixteens.
            Kernel::Md5ThirtyTwo(_) => 16,
            Kernel::Md5Eight(_) => 8,
            Kernel::OneAtATime | Kernel::Hasher => 1,
        }
    }

    /// The code path, as `deid bench` names it.
    pub(crate) fn name(self) -> &'static str {
        match self {
            #[cfg(target_arch = "x86_64")]
            Kernel::Sha256Twenty(..) => "SHA-NI 4 blocks + AVX-512 16 lanes, interleaved",
            #[cfg(target_arch = "x86_64")]
            Kernel::Sha256Sixteen(..) => "AVX-512, 16 lanes (switching to SHA-NI stalls here)",
            #[cfg(target_arch = "x86_64")]
            Kernel::Sha256Four {
                lanes_slower: true, ..
            } => "SHA-NI, 4 blocks interleaved (AVX-512 lanes measured slower here)",
            #[cfg(target_arch = "x86_64")]
            Kernel::Sha256Four { .. } | Kernel::Sha1Four(_) => "SHA-NI, 4 blocks interleaved",
            #[cfg(target_arch = "aarch64")]
            Kernel::Sha256Two(_) => "ARMv8 SHA2, 2 blocks interleaved",
            Kernel::Md5ThirtyTwo(_) => "AVX-512, 2 x 16 blocks in lanes, interleaved",
            Kernel::Md5Eight(_) => "AVX2, 8 blocks in lanes",
            Kernel::OneAtATime => "rustcrypto, one block at a time",
            Kernel::Hasher => "rustcrypto hasher, one value at a time",
        }
    }
}

/// Keys of many blocks of one kernel shape (same algorithm) into `out` by
/// `kernel` (made by [`Kernel::for_algo`] for that algorithm; another
/// algorithm's kernel falls back to one block at a time), calling
/// `computed` with each as soon as it is known (to prefetch what its
/// lookup will need while the next ones are hashed).
///
/// The blocks have the same byte at each position `i` whose bit `1 << i` is
/// set in `shared` (the caller knows: the positions its candidates do not
/// vary at; 0 claims nothing). SHA-224/256 with SHA-NI then hash what every
/// block shares once (src/backend/shani.rs, `ShaNi::key4_run`); a wrong
/// claim gives wrong keys, which debug builds check.
#[inline]
pub(crate) fn block_keys(
    kernel: Kernel,
    blocks: &[BlockKernel],
    shared: u64,
    out: &mut [u128],
    computed: impl Fn(u128),
) {
    let Some(first) = blocks.first() else {
        return;
    };
    #[cfg(not(target_arch = "x86_64"))]
    let _ = shared;
    match (kernel, sha256_iv(first.algo)) {
        #[cfg(target_arch = "x86_64")]
        (
            Kernel::Sha256Twenty(ni, _)
            | Kernel::Sha256Sixteen(ni, _)
            | Kernel::Sha256Four { ni, .. },
            Some(iv),
        ) => {
            // What every block shares is hashed once for the whole call:
            // rounds 0 and 1 (they read the first 8 bytes only) and the
            // 16-byte groups past the candidate. The search's runs differ
            // in their last digits, past byte 8 in every named space.
            let run = (blocks.len() >= 8 && shared & 0xff == 0xff)
                .then(|| ni.shared_run(iv, &first.block[0], shared));
            #[cfg(debug_assertions)]
            for b in blocks {
                for i in (0..64).filter(|i| shared & (1 << i) != 0) {
                    debug_assert_eq!(b.block[0][i], first.block[0][i], "byte {i} is not shared");
                }
            }
            let run = run.as_ref();
            match kernel {
                Kernel::Sha256Twenty(_, x) => {
                    in_lanes(first_blocks(blocks), out, &computed, |g| {
                        x.key20(iv, run, g)
                    });
                }
                Kernel::Sha256Sixteen(_, x) => {
                    in_lanes(first_blocks(blocks), out, &computed, |g| {
                        x.key16(iv, run, g)
                    });
                }
                _ => in_lanes(first_blocks(blocks), out, &computed, |g| match run {
                    Some(run) => ni.key4_run(iv, run, g),
                    None => ni.key4(iv, g),
                }),
            }
        }
        #[cfg(target_arch = "aarch64")]
        (Kernel::Sha256Two(arm), Some(iv)) => {
            in_lanes(first_blocks(blocks), out, &computed, |pair| {
                arm.key2(iv, pair)
            });
        }
        #[cfg(target_arch = "x86_64")]
        (Kernel::Sha1Four(ni), _) if first.algo == Algorithm::Sha1 => {
            in_lanes(first_blocks(blocks), out, &computed, |g| ni.keys4(g));
        }
        (Kernel::Md5ThirtyTwo(x), _) if first.algo == Algorithm::Md5 => {
            x.keys_into(first_blocks(blocks), out, &computed);
        }
        (Kernel::Md5Eight(x), _) if first.algo == Algorithm::Md5 => {
            in_lanes(first_blocks(blocks), out, &computed, |g| x.keys(g));
        }
        _ => {
            for (b, o) in blocks.iter().zip(out) {
                *o = b.key();
                computed(*o);
            }
        }
    }
}

/// The first block of each kernel (the only one of a single-block kernel).
fn first_blocks(blocks: &[BlockKernel]) -> impl ExactSizeIterator<Item = &[u8; 64]> {
    blocks.iter().map(|b| &b.block[0])
}

/// Keys of `blocks` into `out` by a kernel of `N` interleaved lanes,
/// `computed` called with each in order. A last partial group is padded
/// with its own first block, and only its real keys are kept: one call of
/// the kernel costs less than the blocks it leaves over hashed one at a
/// time.
#[inline]
pub(crate) fn in_lanes<'a, const N: usize>(
    mut blocks: impl Iterator<Item = &'a [u8; 64]>,
    out: &mut [u128],
    computed: &impl Fn(u128),
    kernel: impl Fn([&'a [u8; 64]; N]) -> [u128; N],
) {
    let mut outs = out.iter_mut();
    while let Some(first) = blocks.next() {
        let mut group = [first; N];
        let mut n = 1;
        for (slot, b) in group.iter_mut().skip(1).zip(&mut blocks) {
            *slot = b;
            n += 1;
        }
        // The keys lead the zip: it must not take an output slot it has no
        // key for.
        for (&k, o) in kernel(group)[..n].iter().zip(&mut outs) {
            *o = k;
            computed(k);
        }
    }
}

/// The first 16 bytes of a digest as a big-endian key.
pub fn digest_key(digest: &[u8]) -> u128 {
    let mut b = [0u8; 16];
    let n = digest.len().min(16);
    b[..n].copy_from_slice(&digest[..n]);
    u128::from_be_bytes(b)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::string::String;

    #[test]
    fn block_kernels_equal_the_digest_crates_at_every_length() {
        for algo in [
            Algorithm::Md5,
            Algorithm::Sha1,
            Algorithm::Sha224,
            Algorithm::Sha256,
        ] {
            for len in 0..=55usize {
                let msg: Vec<u8> = (0..len).map(|i| (i * 31 + len) as u8).collect();
                let mut k = BlockKernel::new(algo, len).unwrap();
                k.block[0][..len].copy_from_slice(&msg);
                let mut out = [0u8; 64];
                let n = algo.hash(&msg, &mut out);
                assert_eq!(k.key(), digest_key(&out[..n]), "{} len {len}", algo.name());
            }
            assert!(BlockKernel::new(algo, 56).is_none());
        }
        assert!(BlockKernel::new(Algorithm::Sha512, 10).is_none());
    }

    /// Every kernel this CPU can run (twenty-way, sixteen lanes, four-way,
    /// two-way, thirty-two or eight MD5 lanes, one at a time), chosen or
    /// not, gives each block its own key,
    /// for every number of blocks up to three groups of twenty and a few
    /// (partial last groups), with blocks that share nothing and blocks
    /// that share all but their last two message bytes (the search's runs).
    #[test]
    fn block_keys_equal_one_block_at_a_time_for_any_count() {
        let mut next = crate::xorshift(0x9e37_79b9_7f4a_7c15);
        for algo in [
            Algorithm::Md5,
            Algorithm::Sha1,
            Algorithm::Sha224,
            Algorithm::Sha256,
        ] {
            for n in 1..=65usize {
                for run in [false, true] {
                    let len = 11;
                    let base: Vec<u8> = (0..len).map(|_| next() as u8).collect();
                    let blocks: Vec<BlockKernel> = (0..n)
                        .map(|_| {
                            let mut k = BlockKernel::new(algo, len).unwrap();
                            k.block[0][..len].copy_from_slice(&base);
                            let from = if run { len - 2 } else { 0 };
                            for b in &mut k.block[0][from..len] {
                                *b = next() as u8;
                            }
                            k
                        })
                        .collect();
                    let shared = if run { !(0b11 << (len - 2)) } else { 0 };
                    for kernel in Kernel::all(algo) {
                        let mut out = vec![0u128; n];
                        let seen = std::cell::Cell::new(0);
                        block_keys(kernel, &blocks, shared, &mut out, |_| {
                            seen.set(seen.get() + 1)
                        });
                        let at = format!("{} {kernel:?} n {n} run {run}", algo.name());
                        assert_eq!(seen.get(), n, "{at}");
                        for (b, k) in blocks.iter().zip(&out) {
                            assert_eq!(*k, b.key(), "{at}");
                        }
                    }
                }
            }
        }
    }

    #[test]
    fn known_answers() {
        let mut out = [0u8; 64];
        let hex = |out: &[u8]| out.iter().map(|b| format!("{b:02x}")).collect::<String>();
        let n = Algorithm::Md5.hash(b"abc", &mut out);
        assert_eq!(hex(&out[..n]), "900150983cd24fb0d6963f7d28e17f72");
        let n = Algorithm::Sha1.hash(b"abc", &mut out);
        assert_eq!(hex(&out[..n]), "a9993e364706816aba3e25717850c26c9cd0d89d");
        let n = Algorithm::Sha3_256.hash(b"abc", &mut out);
        assert_eq!(
            hex(&out[..n]),
            "3a985da74fe225b2045c172d6bd390bd855f086e3e9d525b46bfe24511431532"
        );
        assert_eq!(Algorithm::parse("SHA-256"), Some(Algorithm::Sha256));
        assert_eq!(Algorithm::parse("sha3_256"), Some(Algorithm::Sha3_256));
        assert_eq!(
            Algorithm::for_len(32),
            vec![Algorithm::Sha256, Algorithm::Sha3_256]
        );
    }
}
