//! The ring backend (std targets): HMAC-SHA256 and AES-256-GCM in assembly.

use ring::aead::{AES_256_GCM, Aad, LessSafeKey, Nonce, Tag, UnboundKey};
use ring::hmac;

use crate::CryptoError;

/// Keyed HMAC-SHA256 (ring precomputes the padded key states).
pub struct HmacSha256(hmac::Key);

impl HmacSha256 {
    /// Keys the MAC.
    pub fn new(key: &[u8]) -> Self {
        HmacSha256(hmac::Key::new(hmac::HMAC_SHA256, key))
    }

    /// HMAC-SHA256 of `data`.
    #[inline]
    pub fn mac(&self, data: &[u8]) -> [u8; 32] {
        let tag = hmac::sign(&self.0, data);
        let mut out = [0u8; 32];
        out.copy_from_slice(tag.as_ref());
        out
    }

    /// Constant-time check of a full 32-byte tag.
    ///
    /// # Errors
    /// [`CryptoError`] when the tag does not match.
    pub fn verify(&self, data: &[u8], tag: &[u8]) -> Result<(), CryptoError> {
        hmac::verify(&self.0, data, tag).map_err(|_| CryptoError)
    }
}

/// An expanded AES-256-GCM key.
pub struct Gcm(LessSafeKey);

impl Gcm {
    /// Expands the key.
    ///
    /// # Errors
    /// Never in practice: a 32-byte key is the length AES-256-GCM takes.
    pub fn new(key: &[u8; 32]) -> Result<Self, CryptoError> {
        UnboundKey::new(&AES_256_GCM, key)
            .map(|k| Gcm(LessSafeKey::new(k)))
            .map_err(|_| CryptoError)
    }

    /// Encrypts `buf` in place, returns the tag.
    ///
    /// # Errors
    /// Only for messages over GCM's length limit.
    pub fn seal(
        &self,
        nonce: &[u8; 12],
        aad: &[u8],
        buf: &mut [u8],
    ) -> Result<[u8; 16], CryptoError> {
        let tag = self
            .0
            .seal_in_place_separate_tag(Nonce::assume_unique_for_key(*nonce), Aad::from(aad), buf)
            .map_err(|_| CryptoError)?;
        let mut out = [0u8; 16];
        out.copy_from_slice(tag.as_ref());
        Ok(out)
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
        let tag = Tag::from(*tag);
        self.0
            .open_in_place_separate_tag(
                Nonce::assume_unique_for_key(*nonce),
                Aad::from(aad),
                tag,
                buf,
                0..,
            )
            .map(|_| ())
            .map_err(|_| CryptoError)
    }
}
