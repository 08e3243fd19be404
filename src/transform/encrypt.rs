//! The `encrypt` transform: reversible tokens, randomized (AES-256-GCM) or
//! deterministic (AES-SIV), in the token formats of docs/FORMAT.md
//! ("Randomized tokens", "Deterministic tokens").
//!
//! ```text
//! randomized:    base64url_nopad(0x01 ‖ key_id u32 BE ‖ nonce[12] ‖ ciphertext ‖ tag[16])
//! deterministic: base64url_nopad(0x01 ‖ key_id u32 BE ‖ siv[16] ‖ ciphertext)
//! ```
//!
//! Keys are `subkey("aead", ctx, 32)` and `subkey("siv", ctx, 64)`; the
//! context bytes are the associated data, so a token moved to another column
//! (another context) does not open. The key id travels in the clear so a
//! keyset can hold old keys after rotation; it is not secret.
//!
//! Randomized tokens hide equality (two encryptions of one value differ);
//! deterministic tokens keep it (joins and group-bys still work, and so does
//! frequency analysis: choose per column).
//!
//! # Example
//! ```
//! use deid::transform::encrypt::{DeterministicCipher, token_key_id};
//! use deid::MasterKey;
//!
//! let key = MasterKey::from_bytes(3, [9u8; 32]);
//! let siv = DeterministicCipher::new(&key, "email").unwrap();
//! let mut token = [0u8; 128];
//! let t = siv.encrypt(b"ada@example.com", &mut token).unwrap().to_owned();
//! assert_eq!(token_key_id(t.as_bytes()).unwrap(), 3);
//! let mut plain = [0u8; 128];
//! assert_eq!(siv.decrypt(t.as_bytes(), &mut plain).unwrap(), b"ada@example.com");
//! ```

use aes::{Aes128, Aes256};

use zeroize::Zeroizing;

use super::siv::Siv;

use crate::backend::{Backend, GcmKey};
use crate::encoding::{
    Encoding, ascii_text, base64url_decode, base64url_decoded_len, base64url_encode_tail,
};
use crate::error::{CryptoError, Error};
use crate::key::{MasterKey, Purpose};

/// First byte of every token: the format version.
pub const TOKEN_VERSION: u8 = 0x01;
/// Version byte and key id.
const HEADER_LEN: usize = 5;
const NONCE_LEN: usize = 12;
const TAG_LEN: usize = 16;
/// Longest context accepted (it is stored inline: no allocator needed).
pub const MAX_CONTEXT_LEN: usize = 255;

/// A context kept inline for use as associated data.
struct Context {
    bytes: [u8; MAX_CONTEXT_LEN],
    len: u8,
}

impl Context {
    fn new(context: &str) -> Result<Self, Error> {
        let src = context.as_bytes();
        let len =
            u8::try_from(src.len()).map_err(|_| Error::Config("context longer than 255 bytes"))?;
        let mut bytes = [0u8; MAX_CONTEXT_LEN];
        bytes[..src.len()].copy_from_slice(src);
        Ok(Context { bytes, len })
    }

    fn as_bytes(&self) -> &[u8] {
        &self.bytes[..usize::from(self.len)]
    }
}

/// The key id written in a token, to pick the key from a keyset.
///
/// # Errors
/// [`Error::Crypto`] if the text is not a deid token (opaque on purpose).
pub fn token_key_id(token: &[u8]) -> Result<u32, Error> {
    // Decoding 8 characters gives the 6 bytes that hold version and key id.
    let prefix = token.get(..8).ok_or(CryptoError)?;
    let mut raw = [0u8; 6];
    let raw = base64url_decode(prefix, &mut raw).map_err(|_| CryptoError)?;
    if raw[0] != TOKEN_VERSION {
        return Err(CryptoError.into());
    }
    Ok(u32::from_be_bytes([raw[1], raw[2], raw[3], raw[4]]))
}

fn write_header(raw: &mut [u8], key_id: u32) {
    raw[0] = TOKEN_VERSION;
    raw[1..HEADER_LEN].copy_from_slice(&key_id.to_be_bytes());
}

/// Decodes a token into `out` and checks version and key id; returns the raw bytes.
fn decode_token<'a>(
    token: &[u8],
    key_id: u32,
    min_len: usize,
    out: &'a mut [u8],
) -> Result<&'a mut [u8], Error> {
    let len = base64url_decoded_len(token.len()).map_err(|_| CryptoError)?;
    if len < min_len {
        return Err(CryptoError.into());
    }
    let n = base64url_decode(token, out)
        .map_err(|e| {
            if let Error::BufferTooSmall(n) = e {
                Error::BufferTooSmall(n)
            } else {
                CryptoError.into()
            }
        })?
        .len();
    let raw = &mut out[..n];
    if raw[0] != TOKEN_VERSION {
        return Err(CryptoError.into());
    }
    let id = u32::from_be_bytes([raw[1], raw[2], raw[3], raw[4]]);
    if id != key_id {
        return Err(Error::UnknownKeyId(id));
    }
    Ok(raw)
}

/// AES-256-GCM tokens with a random 96-bit nonce per value.
///
/// Nonces are random, so one key should encrypt well under 2^32 values
/// (NIST SP 800-38D, 8.3); rotate the keyset before that.
pub struct RandomizedCipher {
    key_id: u32,
    gcm: GcmKey,
    context: Context,
}

impl RandomizedCipher {
    /// A cipher for `context` under `key`, with the default backend.
    ///
    /// # Errors
    /// [`Error::Config`] for a context over 255 bytes.
    pub fn new(key: &MasterKey, context: &str) -> Result<Self, Error> {
        Self::with_backend(Backend::default(), key, context)
    }

    /// A cipher computing AES-256-GCM with `backend`.
    ///
    /// # Errors
    /// As [`RandomizedCipher::new`].
    pub fn with_backend(backend: Backend, key: &MasterKey, context: &str) -> Result<Self, Error> {
        let sub: Zeroizing<[u8; 32]> = key.subkey(Purpose::Aead, context)?;
        Ok(RandomizedCipher {
            key_id: key.id(),
            gcm: GcmKey::new(backend, &sub)?,
            context: Context::new(context)?,
        })
    }

    /// The key id written into tokens.
    pub fn key_id(&self) -> u32 {
        self.key_id
    }

    /// Length of the token for a plaintext of `n` bytes.
    pub const fn token_len(n: usize) -> usize {
        Encoding::Base64Url.encoded_len(HEADER_LEN + NONCE_LEN + n + TAG_LEN)
    }

    /// The most bytes [`Self::encrypt`] writes for a plaintext of
    /// `input_len` bytes: [`Self::token_len`], every token's exact length.
    pub const fn max_output_len(&self, input_len: usize) -> usize {
        Self::token_len(input_len)
    }

    /// Encrypts `plaintext` with a fresh nonce from `rng` into the front of `out`.
    ///
    /// # Errors
    /// [`Error::BufferTooSmall`] if `out` is shorter than [`Self::token_len`].
    pub fn encrypt<'a, R: rand_core::CryptoRng + ?Sized>(
        &self,
        rng: &mut R,
        plaintext: &[u8],
        out: &'a mut [u8],
    ) -> Result<&'a str, Error> {
        ascii_text(self.token_bytes(rng, plaintext, out)?)
    }

    /// [`Self::encrypt`], the token as bytes (a value being written out,
    /// which need not check it as UTF-8).
    pub(crate) fn token_bytes<'a, R: rand_core::CryptoRng + ?Sized>(
        &self,
        rng: &mut R,
        plaintext: &[u8],
        out: &'a mut [u8],
    ) -> Result<&'a [u8], Error> {
        let mut nonce = [0u8; NONCE_LEN];
        rng.fill_bytes(&mut nonce);
        self.sealed(&nonce, plaintext, out)
    }

    /// Encrypts with a caller-chosen nonce. Reusing a nonce under one key
    /// destroys GCM's security: use [`Self::encrypt`] unless reproducing a
    /// test vector.
    ///
    /// # Errors
    /// As [`Self::encrypt`].
    pub fn encrypt_with_nonce<'a>(
        &self,
        nonce: &[u8; NONCE_LEN],
        plaintext: &[u8],
        out: &'a mut [u8],
    ) -> Result<&'a str, Error> {
        ascii_text(self.sealed(nonce, plaintext, out)?)
    }

    /// The token of `plaintext` under `nonce`, as bytes.
    fn sealed<'a>(
        &self,
        nonce: &[u8; NONCE_LEN],
        plaintext: &[u8],
        out: &'a mut [u8],
    ) -> Result<&'a [u8], Error> {
        let raw_len = HEADER_LEN + NONCE_LEN + plaintext.len() + TAG_LEN;
        let text_len = Self::token_len(plaintext.len());
        if out.len() < text_len {
            return Err(Error::BufferTooSmall(text_len));
        }
        let raw = &mut out[text_len - raw_len..text_len];
        write_header(raw, self.key_id);
        raw[HEADER_LEN..HEADER_LEN + NONCE_LEN].copy_from_slice(nonce);
        let (body, tag) = raw[HEADER_LEN + NONCE_LEN..].split_at_mut(plaintext.len());
        body.copy_from_slice(plaintext);
        tag.copy_from_slice(&self.gcm.seal(nonce, self.context.as_bytes(), body)?);
        base64url_encode_tail(out, raw_len)
    }

    /// Opens a token made under this key and context; the plaintext is a
    /// sub-slice of `out`.
    ///
    /// # Errors
    /// [`Error::UnknownKeyId`] if the token names another key;
    /// [`Error::Crypto`] for anything else (tampering, wrong context, not a token).
    pub fn decrypt<'a>(&self, token: &[u8], out: &'a mut [u8]) -> Result<&'a [u8], Error> {
        let raw = decode_token(token, self.key_id, HEADER_LEN + NONCE_LEN + TAG_LEN, out)?;
        let (head, rest) = raw.split_at_mut(HEADER_LEN + NONCE_LEN);
        let mut nonce = [0u8; NONCE_LEN];
        nonce.copy_from_slice(&head[HEADER_LEN..]);
        let (body, tag) = rest.split_at_mut(rest.len() - TAG_LEN);
        let mut t = [0u8; TAG_LEN];
        t.copy_from_slice(tag);
        self.gcm.open(&nonce, self.context.as_bytes(), body, &t)?;
        Ok(body)
    }
}

// Key ids only: the expanded keys (and, for SIV, state derived from the
// context) stay out of debug output.
impl core::fmt::Debug for RandomizedCipher {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("RandomizedCipher")
            .field("key_id", &self.key_id)
            .finish_non_exhaustive()
    }
}

/// AES-SIV (RFC 5297, AES-CMAC-SIV with a 512-bit key) tokens: the same value
/// gives the same token under one key and context.
pub struct DeterministicCipher {
    key_id: u32,
    /// Keyed once, with the context already through S2V.
    siv: Siv<Aes256>,
}

impl DeterministicCipher {
    /// A cipher for `context` under `key`.
    ///
    /// # Errors
    /// [`Error::Config`] for a context over 255 bytes.
    pub fn new(key: &MasterKey, context: &str) -> Result<Self, Error> {
        let subkey = key.subkey::<64>(Purpose::Siv, context)?;
        Ok(DeterministicCipher {
            key_id: key.id(),
            siv: Siv::new(subkey.as_slice(), &[Context::new(context)?.as_bytes()])?,
        })
    }

    /// The key id written into tokens.
    pub fn key_id(&self) -> u32 {
        self.key_id
    }

    /// Length of the token for a plaintext of `n` bytes.
    pub const fn token_len(n: usize) -> usize {
        Encoding::Base64Url.encoded_len(HEADER_LEN + TAG_LEN + n)
    }

    /// The most bytes [`Self::encrypt`] writes for a plaintext of
    /// `input_len` bytes: [`Self::token_len`], every token's exact length.
    pub const fn max_output_len(&self, input_len: usize) -> usize {
        Self::token_len(input_len)
    }

    /// Encrypts `plaintext` into the front of `out`.
    ///
    /// # Errors
    /// [`Error::BufferTooSmall`] if `out` is shorter than [`Self::token_len`].
    pub fn encrypt<'a>(&self, plaintext: &[u8], out: &'a mut [u8]) -> Result<&'a str, Error> {
        ascii_text(self.token_bytes(plaintext, out)?)
    }

    /// [`Self::encrypt`], the token as bytes ([`Transform::apply`] of a
    /// value being written out, which need not check it as UTF-8).
    ///
    /// [`Transform::apply`]: super::Transform::apply
    fn token_bytes<'a>(&self, plaintext: &[u8], out: &'a mut [u8]) -> Result<&'a [u8], Error> {
        let raw_len = HEADER_LEN + TAG_LEN + plaintext.len();
        let text_len = Self::token_len(plaintext.len());
        if out.len() < text_len {
            return Err(Error::BufferTooSmall(text_len));
        }
        let raw = &mut out[text_len - raw_len..text_len];
        write_header(raw, self.key_id);
        let (siv_slot, body) = raw[HEADER_LEN..].split_at_mut(TAG_LEN);
        body.copy_from_slice(plaintext);
        siv_slot.copy_from_slice(&self.siv.seal(body));
        base64url_encode_tail(out, raw_len)
    }

    /// Opens a token made under this key and context.
    ///
    /// # Errors
    /// [`Error::UnknownKeyId`] if the token names another key;
    /// [`Error::Crypto`] for anything else.
    pub fn decrypt<'a>(&self, token: &[u8], out: &'a mut [u8]) -> Result<&'a [u8], Error> {
        let raw = decode_token(token, self.key_id, HEADER_LEN + TAG_LEN, out)?;
        let (head, body) = raw.split_at_mut(HEADER_LEN + TAG_LEN);
        let mut tag = [0u8; TAG_LEN];
        tag.copy_from_slice(&head[HEADER_LEN..]);
        self.siv.open(body, &tag)?;
        Ok(body)
    }
}

impl super::Transform for DeterministicCipher {
    fn max_output_len(&self, input_len: usize) -> usize {
        DeterministicCipher::max_output_len(self, input_len)
    }

    fn apply<'a>(&self, value: &[u8], out: &'a mut [u8]) -> Result<&'a [u8], Error> {
        self.token_bytes(value, out)
    }
}

impl core::fmt::Debug for DeterministicCipher {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("DeterministicCipher")
            .field("key_id", &self.key_id)
            .finish_non_exhaustive()
    }
}

/// The AEAD building blocks under the token formats, exposed so published
/// test vectors (NIST GCM, RFC 5297) run through exactly the code that makes
/// tokens. Use [`RandomizedCipher`] and [`DeterministicCipher`] for data.
pub mod raw {
    use super::*;

    /// AES-SIV (AES-CMAC-SIV) of `buf` in place; returns the SIV. `key` is
    /// 64 bytes (AES-256, the mode of deterministic tokens) or 32 bytes
    /// (AES-128, RFC 5297's own examples).
    ///
    /// # Errors
    /// [`Error::Crypto`] for another key length or more associated-data
    /// items than S2V allows (126).
    pub fn siv_seal(
        key: &[u8],
        associated_data: &[&[u8]],
        buf: &mut [u8],
    ) -> Result<[u8; TAG_LEN], Error> {
        match key.len() {
            64 => Ok(Siv::<Aes256>::new(key, associated_data)?.seal(buf)),
            32 => Ok(Siv::<Aes128>::new(key, associated_data)?.seal(buf)),
            _ => Err(CryptoError.into()),
        }
    }

    /// Checks the SIV in constant time and decrypts `buf` in place.
    ///
    /// # Errors
    /// [`Error::Crypto`] when the SIV does not verify (`buf` then holds no
    /// plaintext) or the key length is not 32 or 64 bytes.
    pub fn siv_open(
        key: &[u8],
        associated_data: &[&[u8]],
        buf: &mut [u8],
        tag: &[u8; TAG_LEN],
    ) -> Result<(), Error> {
        match key.len() {
            64 => Siv::<Aes256>::new(key, associated_data)?.open(buf, tag),
            32 => Siv::<Aes128>::new(key, associated_data)?.open(buf, tag),
            _ => Err(CryptoError.into()),
        }
    }

    /// AES-256-GCM of `buf` in place with `backend`; returns the tag.
    ///
    /// # Errors
    /// [`Error::Crypto`] only past GCM's message length limit.
    pub fn gcm_seal(
        backend: Backend,
        key: &[u8; 32],
        nonce: &[u8; NONCE_LEN],
        aad: &[u8],
        buf: &mut [u8],
    ) -> Result<[u8; TAG_LEN], Error> {
        Ok(GcmKey::new(backend, key)?.seal(nonce, aad, buf)?)
    }

    /// Verifies the tag and decrypts `buf` in place with `backend`.
    ///
    /// # Errors
    /// [`Error::Crypto`] when the tag does not verify.
    pub fn gcm_open(
        backend: Backend,
        key: &[u8; 32],
        nonce: &[u8; NONCE_LEN],
        aad: &[u8],
        buf: &mut [u8],
        tag: &[u8; TAG_LEN],
    ) -> Result<(), Error> {
        Ok(GcmKey::new(backend, key)?.open(nonce, aad, buf, tag)?)
    }
}

/// The operating system's random source, owned by [`crate::io::rng`] and
/// re-exported here for callers that found it next to the cipher.
#[cfg(feature = "std")]
pub use crate::io::rng::OsRng;

#[cfg(test)]
mod tests {
    use super::*;

    struct Counter(u8);
    impl rand_core::TryRng for Counter {
        type Error = core::convert::Infallible;
        fn try_next_u32(&mut self) -> Result<u32, Self::Error> {
            Ok(0)
        }
        fn try_next_u64(&mut self) -> Result<u64, Self::Error> {
            Ok(0)
        }
        fn try_fill_bytes(&mut self, dst: &mut [u8]) -> Result<(), Self::Error> {
            self.0 = self.0.wrapping_add(1);
            dst.fill(self.0);
            Ok(())
        }
    }
    impl rand_core::TryCryptoRng for Counter {}

    fn key() -> MasterKey {
        MasterKey::from_bytes(0x0102_0304, [5; 32])
    }

    #[test]
    fn randomized_round_trip_layout_and_failures() {
        let c = RandomizedCipher::new(&key(), "email").unwrap();
        let mut rng = Counter(0);
        let mut t1 = [0u8; 256];
        let mut t2 = [0u8; 256];
        let a = c.encrypt(&mut rng, b"secret", &mut t1).unwrap();
        let b = c.encrypt(&mut rng, b"secret", &mut t2).unwrap();
        assert_ne!(a, b, "fresh nonce per value");
        assert_eq!(a.len(), RandomizedCipher::token_len(6));
        let mut raw = [0u8; 64];
        let raw = base64url_decode(a.as_bytes(), &mut raw).unwrap();
        assert_eq!(&raw[..5], &[1, 1, 2, 3, 4]);
        assert_eq!(&raw[5..17], &[1; 12]);
        assert_eq!(token_key_id(a.as_bytes()).unwrap(), 0x0102_0304);
        let mut out = [0u8; 256];
        assert_eq!(c.decrypt(a.as_bytes(), &mut out).unwrap(), b"secret");
        let other = RandomizedCipher::new(&key(), "phone").unwrap();
        assert_eq!(
            other.decrypt(a.as_bytes(), &mut out),
            Err(Error::Crypto(CryptoError))
        );
        let other_key = RandomizedCipher::new(&MasterKey::from_bytes(9, [5; 32]), "email").unwrap();
        assert_eq!(
            other_key.decrypt(a.as_bytes(), &mut out),
            Err(Error::UnknownKeyId(0x0102_0304))
        );
        assert_eq!(
            c.decrypt(b"not a token", &mut out),
            Err(Error::Crypto(CryptoError))
        );
        assert_eq!(c.decrypt(b"", &mut out), Err(Error::Crypto(CryptoError)));
        // The pipeline's bytes are `encrypt`'s text, nonce for nonce, and a
        // short buffer is refused the same way.
        let (mut r1, mut r2) = (Counter(7), Counter(7));
        let mut b1 = [0u8; 256];
        let text = c.encrypt(&mut r1, b"secret", &mut t1).unwrap();
        let bytes = c.token_bytes(&mut r2, b"secret", &mut b1).unwrap();
        assert_eq!(bytes, text.as_bytes());
        let short = RandomizedCipher::token_len(6) - 1;
        assert_eq!(
            c.token_bytes(&mut r2, b"secret", &mut b1[..short]),
            Err(Error::BufferTooSmall(short + 1))
        );
    }

    #[test]
    fn deterministic_is_deterministic_and_context_bound() {
        let c = DeterministicCipher::new(&key(), "email").unwrap();
        let mut t1 = [0u8; 256];
        let mut t2 = [0u8; 256];
        let a = c.encrypt(b"ada@example.com", &mut t1).unwrap();
        assert_eq!(a, c.encrypt(b"ada@example.com", &mut t2).unwrap());
        assert_eq!(a.len(), DeterministicCipher::token_len(15));
        let mut out = [0u8; 256];
        assert_eq!(
            c.decrypt(a.as_bytes(), &mut out).unwrap(),
            b"ada@example.com"
        );
        let other = DeterministicCipher::new(&key(), "email2").unwrap();
        assert_eq!(
            other.decrypt(a.as_bytes(), &mut out),
            Err(Error::Crypto(CryptoError))
        );
        // Empty plaintext is a valid token too.
        let e = c.encrypt(b"", &mut t1).unwrap();
        assert_eq!(c.decrypt(e.as_bytes(), &mut out).unwrap(), b"");
        // The pipelines' `Transform::apply` writes the same token as bytes.
        for len in 0..40 {
            let v = &b"ada.lovelace.byron@analytical-engine.org"[..len];
            let text = c.encrypt(v, &mut t1).unwrap().as_bytes();
            assert_eq!(
                super::super::Transform::apply(&c, v, &mut t2).unwrap(),
                text
            );
        }
    }

    #[test]
    fn buffers_too_small_are_reported() {
        let c = DeterministicCipher::new(&key(), "x").unwrap();
        let mut small = [0u8; 10];
        assert_eq!(
            c.encrypt(b"abc", &mut small),
            Err(Error::BufferTooSmall(DeterministicCipher::token_len(3)))
        );
    }
}
