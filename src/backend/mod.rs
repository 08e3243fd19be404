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

#[cfg(feature = "ring")]
pub mod ring;
pub mod rustcrypto;
#[cfg(all(feature = "std", target_arch = "x86_64"))]
pub mod shani;

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

    /// The code path of [`HmacKey::mac4`] on this machine.
    pub(crate) fn mac4_path(&self) -> &'static str {
        match self {
            HmacKey::RustCrypto(k) => k.mac4_path(),
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
