//! The ring backend (std targets): HMAC-SHA256 and AES-256-GCM in assembly.
//!
//! # Key material is not zeroized
//! ring keeps its expanded keys private and does not wipe them on drop
//! (briansmith/ring#15: ring leaves zeroization to the allocator). The
//! [`HmacSha256`] of this module holds a `ring::hmac::Key` (the hashed
//! inner and outer pads, enough to compute the field's MACs) and [`Gcm`] a
//! `ring::aead::LessSafeKey` (the AES-256 key schedule and GHASH key, enough
//! to open the field's tokens); both stay in freed memory after drop until
//! it is reused, and deid has no way to reach them. What deid holds itself
//! is wiped: the subkeys it derives and hands to ring live in
//! `Zeroizing` buffers, dropped (and zeroed) as soon as ring has expanded
//! them. Where memory disclosure after use matters (core dumps, swap,
//! shared hosts), use [`Backend::RustCrypto`](super::Backend::RustCrypto),
//! whose key states zeroize on drop.

use ring::aead::{AES_256_GCM, Aad, LessSafeKey, Nonce, Tag, UnboundKey};
use ring::hmac;

use crate::CryptoError;

/// Keyed HMAC-SHA256 (ring precomputes the padded key states). Not
/// zeroized on drop: see the [module docs](self).
pub struct HmacSha256(hmac::Key);

impl HmacSha256 {
    /// Keys the MAC (infallible: HMAC takes keys of any length).
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

/// An expanded AES-256-GCM key. Not zeroized on drop: see the
/// [module docs](self).
pub struct Gcm(LessSafeKey);

impl Gcm {
    /// Expands the key.
    ///
    /// # Errors
    /// Never in practice: a 32-byte key is the length AES-256-GCM takes.
    /// ring's key constructor is fallible (it checks the length at run
    /// time), and turning its error into a panic would put a panic in
    /// library code, so this one stays a `Result` where RustCrypto's
    /// `Gcm::new` is not.
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
