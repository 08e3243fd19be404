//! The RustCrypto backend: pure Rust, `no_std`, runtime-detected SHA-NI /
//! AES-NI / PCLMULQDQ on x86 and the ARMv8 crypto extensions on AArch64.

use aes_gcm::Aes256Gcm;
use aes_gcm::aead::{AeadInOut, KeyInit};
use hmac::{Hmac, Mac};
use sha2::Sha256;

use crate::CryptoError;

/// Keyed HMAC-SHA256 (pads absorbed once, cloned per message).
#[derive(Clone)]
pub struct HmacSha256(Hmac<Sha256>);

impl HmacSha256 {
    /// Absorbs the key's inner and outer pads.
    ///
    /// # Errors
    /// Never in practice: HMAC takes keys of any length.
    pub fn new(key: &[u8]) -> Result<Self, CryptoError> {
        Hmac::<Sha256>::new_from_slice(key)
            .map(HmacSha256)
            .map_err(|_| CryptoError)
    }

    /// HMAC-SHA256 of `data`.
    #[inline]
    pub fn mac(&self, data: &[u8]) -> [u8; 32] {
        let mut m = self.0.clone();
        m.update(data);
        m.finalize().into_bytes().into()
    }

    /// Constant-time check of a full 32-byte tag.
    ///
    /// # Errors
    /// [`CryptoError`] when the tag does not match.
    pub fn verify(&self, data: &[u8], tag: &[u8]) -> Result<(), CryptoError> {
        let mut m = self.0.clone();
        m.update(data);
        m.verify_slice(tag).map_err(|_| CryptoError)
    }
}

/// An expanded AES-256-GCM key.
pub struct Gcm(Aes256Gcm);

impl Gcm {
    /// Expands the key.
    pub fn new(key: &[u8; 32]) -> Self {
        Gcm(Aes256Gcm::new(key.into()))
    }

    /// Encrypts `buf` in place, returns the tag.
    ///
    /// # Errors
    /// Only for messages over GCM's length limit (64 GiB).
    pub fn seal(
        &self,
        nonce: &[u8; 12],
        aad: &[u8],
        buf: &mut [u8],
    ) -> Result<[u8; 16], CryptoError> {
        let tag = self
            .0
            .encrypt_inout_detached(nonce.into(), aad, buf.into())
            .map_err(|_| CryptoError)?;
        Ok(tag.into())
    }

    /// Verifies and decrypts `buf` in place.
    ///
    /// # Errors
    /// [`CryptoError`] when the tag does not verify.
    pub fn open(
        &self,
        nonce: &[u8; 12],
        aad: &[u8],
        buf: &mut [u8],
        tag: &[u8; 16],
    ) -> Result<(), CryptoError> {
        self.0
            .decrypt_inout_detached(nonce.into(), aad, buf.into(), tag.into())
            .map_err(|_| CryptoError)
    }
}
