//! Cryptographic backends: RustCrypto (pure Rust, `no_std`, the default) and
//! ring (assembly, `std` targets). Both give byte-identical output; the
//! choice is about speed and audit preferences, never about format.
//!
//! # Example
//! ```
//! use deid::backend::Backend;
//! assert!(Backend::available().contains(&Backend::RustCrypto));
//! ```

use core::fmt;

#[cfg(all(feature = "std", target_arch = "aarch64"))]
pub mod armsha2;
#[cfg(feature = "ring")]
pub mod ring;
pub mod rustcrypto;
#[cfg(all(feature = "std", target_arch = "x86_64"))]
pub mod shani;

/// SHA-256 round constants (FIPS 180-4, 4.2.2), for the interleaved
/// kernels ([`shani`] on x86-64, `armsha2` on AArch64).
#[cfg(all(feature = "std", any(target_arch = "x86_64", target_arch = "aarch64")))]
static SHA256_K: [u32; 64] = [
    0x428a_2f98,
    0x7137_4491,
    0xb5c0_fbcf,
    0xe9b5_dba5,
    0x3956_c25b,
    0x59f1_11f1,
    0x923f_82a4,
    0xab1c_5ed5,
    0xd807_aa98,
    0x1283_5b01,
    0x2431_85be,
    0x550c_7dc3,
    0x72be_5d74,
    0x80de_b1fe,
    0x9bdc_06a7,
    0xc19b_f174,
    0xe49b_69c1,
    0xefbe_4786,
    0x0fc1_9dc6,
    0x240c_a1cc,
    0x2de9_2c6f,
    0x4a74_84aa,
    0x5cb0_a9dc,
    0x76f9_88da,
    0x983e_5152,
    0xa831_c66d,
    0xb003_27c8,
    0xbf59_7fc7,
    0xc6e0_0bf3,
    0xd5a7_9147,
    0x06ca_6351,
    0x1429_2967,
    0x27b7_0a85,
    0x2e1b_2138,
    0x4d2c_6dfc,
    0x5338_0d13,
    0x650a_7354,
    0x766a_0abb,
    0x81c2_c92e,
    0x9272_2c85,
    0xa2bf_e8a1,
    0xa81a_664b,
    0xc24b_8b70,
    0xc76c_51a3,
    0xd192_e819,
    0xd699_0624,
    0xf40e_3585,
    0x106a_a070,
    0x19a4_c116,
    0x1e37_6c08,
    0x2748_774c,
    0x34b0_bcb5,
    0x391c_0cb3,
    0x4ed8_aa4a,
    0x5b9c_ca4f,
    0x682e_6ff3,
    0x748f_82ee,
    0x78a5_636f,
    0x84c8_7814,
    0x8cc7_0208,
    0x90be_fffa,
    0xa450_6ceb,
    0xbef9_a3f7,
    0xc671_78f2,
];

/// What the tests of every interleaved SHA-256 kernel check, for any
/// number of lanes: the digest crates' answers at every single-block
/// length, and RustCrypto's `compress256` from any state.
#[cfg(all(
    test,
    feature = "std",
    any(target_arch = "x86_64", target_arch = "aarch64")
))]
pub(crate) mod kernel_checks {
    use crate::audit::hashes::algo::{SHA224_IV, SHA256_IV};
    use sha2::{Digest, Sha224, Sha256};

    /// A message of at most 55 bytes as its one padded SHA-256 block.
    pub(crate) fn padded(msg: &[u8]) -> [u8; 64] {
        crate::audit::hashes::algo::BlockKernel::padded(
            crate::audit::hashes::Algorithm::Sha256,
            msg,
        )
    }

    /// The first 16 bytes of a digest, as the kernels' keys give them.
    pub(crate) fn prefix(digest: &[u8]) -> u128 {
        u128::from_be_bytes(digest[..16].try_into().unwrap())
    }

    /// `keys(iv, blocks)` equals the first 16 bytes of SHA-256 and SHA-224
    /// in every lane at every single-block length (lanes of different
    /// lengths side by side), and the FIPS 180-2 appendix B.1 answers for
    /// "abc" and the empty message.
    pub(crate) fn keys_equal_digests<const N: usize>(
        keys: impl Fn(&[u32; 8], [&[u8; 64]; N]) -> [u128; N],
    ) {
        let mut next = crate::xorshift(0x9e37_79b9_7f4a_7c15);
        for len in 0..=55 {
            let m: [[u8; 55]; N] = core::array::from_fn(|_| core::array::from_fn(|_| next() as u8));
            // Even lanes hold `len` bytes, odd ones the last `len - len / 2`.
            let msgs: [&[u8]; N] = core::array::from_fn(|l| {
                if l % 2 == 0 {
                    &m[l][..len]
                } else {
                    &m[l][len / 2..len]
                }
            });
            let blocks = msgs.map(padded);
            let lanes: [&[u8; 64]; N] = core::array::from_fn(|l| &blocks[l]);
            for (g, msg) in keys(&SHA256_IV, lanes).iter().zip(msgs) {
                assert_eq!(*g, prefix(&Sha256::digest(msg)), "SHA-256, len {len}");
            }
            for (g, msg) in keys(&SHA224_IV, lanes).iter().zip(msgs) {
                assert_eq!(*g, prefix(&Sha224::digest(msg)), "SHA-224, len {len}");
            }
        }
        let (abc, empty) = (padded(b"abc"), padded(b""));
        let lanes: [&[u8; 64]; N] =
            core::array::from_fn(|l| if l % 3 == 0 { &abc } else { &empty });
        for (l, got) in keys(&SHA256_IV, lanes).into_iter().enumerate() {
            let want = if l % 3 == 0 {
                0xba78_16bf_8f01_cfea_4141_40de_5dae_2223
            } else {
                0xe3b0_c442_98fc_1c14_9afb_f4c8_996f_b924
            };
            assert_eq!(got, want, "lane {l}");
        }
    }

    /// `compress(iv, blocks)` equals `compress256` of each block from 64
    /// random states.
    pub(crate) fn states_equal_compress256<const N: usize>(
        compress: impl Fn(&[u32; 8], [&[u8; 64]; N]) -> [[u32; 8]; N],
    ) {
        let mut next = crate::xorshift(0x0123_4567_89ab_cdef);
        for _ in 0..64 {
            let iv: [u32; 8] = core::array::from_fn(|_| next() as u32);
            let blocks: [[u8; 64]; N] =
                core::array::from_fn(|_| core::array::from_fn(|_| next() as u8));
            let got = compress(&iv, core::array::from_fn(|l| &blocks[l]));
            for (g, b) in got.iter().zip(&blocks) {
                let mut st = iv;
                sha2::block_api::compress256(&mut st, core::slice::from_ref(b));
                assert_eq!(*g, st);
            }
        }
    }
}

/// Which implementation computes HMAC-SHA256 and AES-256-GCM.
///
/// AES-SIV, FF1 and HKDF always use RustCrypto (ring has none of them).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Backend {
    /// RustCrypto's `hmac`, `sha2`, `aes-gcm`: pure Rust, `no_std`, with
    /// runtime detection of SHA-NI / AES-NI / PCLMULQDQ and ARMv8 crypto.
    #[default]
    RustCrypto,
    /// ring's assembly (BoringSSL lineage); `std` targets only.
    ///
    /// ring's expanded HMAC and AES-GCM keys are **not zeroized on drop**:
    /// ring does not expose their bytes and does not wipe them, so they
    /// remain in freed memory until it is reused. The subkeys deid derives
    /// for ring are zeroized as usual. Use [`Backend::RustCrypto`] where
    /// that residue matters (see [`ring`]).
    #[cfg(feature = "ring")]
    Ring,
}

impl Backend {
    /// The backends compiled into this build.
    pub const fn available() -> &'static [Backend] {
        #[cfg(feature = "ring")]
        {
            &[Backend::RustCrypto, Backend::Ring]
        }
        #[cfg(not(feature = "ring"))]
        {
            &[Backend::RustCrypto]
        }
    }

    /// Short name for tables and JSON (`rustcrypto`, `ring`).
    pub const fn as_str(self) -> &'static str {
        match self {
            Backend::RustCrypto => "rustcrypto",
            #[cfg(feature = "ring")]
            Backend::Ring => "ring",
        }
    }
}

impl fmt::Display for Backend {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A keyed HMAC-SHA256 state: the inner and outer pads are hashed once at
/// construction, so each value costs only its own compressions.
pub(crate) enum HmacKey {
    RustCrypto(rustcrypto::HmacSha256),
    #[cfg(feature = "ring")]
    Ring(ring::HmacSha256),
}

impl HmacKey {
    /// Keys HMAC-SHA256 (infallible in both backends: any key length).
    pub(crate) fn new(backend: Backend, key: &[u8]) -> Self {
        match backend {
            Backend::RustCrypto => HmacKey::RustCrypto(rustcrypto::HmacSha256::new(key)),
            #[cfg(feature = "ring")]
            Backend::Ring => HmacKey::Ring(ring::HmacSha256::new(key)),
        }
    }

    /// This key with every batch kernel the CPU can run, whether or not it
    /// is the one dispatched to here (for the tests).
    #[cfg(test)]
    pub(crate) fn with_every_kernel(self) -> Self {
        match self {
            HmacKey::RustCrypto(k) => HmacKey::RustCrypto(k.with_every_kernel()),
            #[cfg(feature = "ring")]
            other @ HmacKey::Ring(_) => other,
        }
    }

    /// HMAC-SHA256 of `data`.
    #[inline]
    pub(crate) fn mac(&self, data: &[u8]) -> [u8; 32] {
        match self {
            HmacKey::RustCrypto(k) => k.mac(data),
            #[cfg(feature = "ring")]
            HmacKey::Ring(k) => k.mac(data),
        }
    }

    /// HMAC-SHA256 of four messages: interleaved where the backend and CPU
    /// allow ([`rustcrypto::HmacSha256::mac4`]), else one after the other.
    #[inline]
    pub(crate) fn mac4(&self, data: [&[u8]; 4]) -> [[u8; 32]; 4] {
        match self {
            HmacKey::RustCrypto(k) => k.mac4(data),
            #[cfg(feature = "ring")]
            HmacKey::Ring(k) => data.map(|d| k.mac(d)),
        }
    }

    /// HMAC-SHA256 of twenty short messages at once where the backend and
    /// CPU allow ([`rustcrypto::HmacSha256::mac20`]), else `None`.
    #[inline]
    pub(crate) fn mac20(&self, data: [&[u8]; 20]) -> Option<[[u8; 32]; 20]> {
        match self {
            HmacKey::RustCrypto(k) => k.mac20(data),
            #[cfg(feature = "ring")]
            HmacKey::Ring(_) => None,
        }
    }

    /// The code path of [`HmacKey::mac4`] and [`HmacKey::mac20`] on this
    /// machine.
    pub(crate) fn batch_path(&self) -> &'static str {
        match self {
            HmacKey::RustCrypto(k) => k.batch_path(),
            #[cfg(feature = "ring")]
            HmacKey::Ring(_) => "ring, one value at a time",
        }
    }
}

/// An expanded AES-256-GCM key.
// No allocator in the core to box the larger variant; one per field.
#[allow(clippy::large_enum_variant)]
pub(crate) enum GcmKey {
    RustCrypto(rustcrypto::Gcm),
    #[cfg(feature = "ring")]
    Ring(ring::Gcm),
}

impl GcmKey {
    /// Expands an AES-256-GCM key. Fallible only because ring's constructor
    /// is (see `ring::Gcm::new`); RustCrypto's cannot fail.
    pub(crate) fn new(backend: Backend, key: &[u8; 32]) -> Result<Self, crate::CryptoError> {
        Ok(match backend {
            Backend::RustCrypto => GcmKey::RustCrypto(rustcrypto::Gcm::new(key)),
            #[cfg(feature = "ring")]
            Backend::Ring => GcmKey::Ring(ring::Gcm::new(key)?),
        })
    }

    /// Encrypts `buf` in place and returns the tag.
    pub(crate) fn seal(
        &self,
        nonce: &[u8; 12],
        aad: &[u8],
        buf: &mut [u8],
    ) -> Result<[u8; 16], crate::CryptoError> {
        match self {
            GcmKey::RustCrypto(k) => k.seal(nonce, aad, buf),
            #[cfg(feature = "ring")]
            GcmKey::Ring(k) => k.seal(nonce, aad, buf),
        }
    }

    /// Checks `tag` and decrypts `buf` in place; on failure `buf` holds no plaintext.
    pub(crate) fn open(
        &self,
        nonce: &[u8; 12],
        aad: &[u8],
        buf: &mut [u8],
        tag: &[u8; 16],
    ) -> Result<(), crate::CryptoError> {
        match self {
            GcmKey::RustCrypto(k) => k.open(nonce, aad, buf, tag),
            #[cfg(feature = "ring")]
            GcmKey::Ring(k) => k.open(nonce, aad, buf, tag),
        }
    }
}
