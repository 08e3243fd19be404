//! Master secrets, keysets and HKDF-SHA256 subkeys.
//!
//! Every field key is derived, never the master secret itself
//! (docs/FORMAT.md, "Subkeys"):
//!
//! ```text
//! subkey(purpose, context, len) = HKDF-SHA256(salt = none, IKM = secret,
//!     info = "deid/v1/" || purpose || "/" || context, L = len)
//! ```
//!
//! # Example
//! ```
//! use deid::{MasterKey, Purpose};
//! let key = MasterKey::from_bytes(1, [7u8; 32]);
//! let mut sub = [0u8; 32];
//! key.derive(Purpose::Pseudonym, "customer-phone", &mut sub).unwrap();
//! assert_ne!(sub, [7u8; 32]);
//! // The secret never shows in debug output.
//! assert_eq!(format!("{key:?}"), "MasterKey { id: 1, .. }");
//! ```

use core::fmt;

use hkdf::Hkdf;
use sha2::Sha256;
use zeroize::{Zeroize, ZeroizeOnDrop, Zeroizing};

use crate::error::Error;

/// Length in bytes of a master secret.
pub const SECRET_LEN: usize = 32;

/// What a subkey is for; part of the HKDF `info`, so keys for different
/// purposes are independent even under the same context.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Purpose {
    /// HMAC-SHA256 keyed pseudonyms.
    Pseudonym,
    /// AES-256-GCM randomized tokens.
    Aead,
    /// AES-SIV deterministic tokens.
    Siv,
    /// FF1 format-preserving encryption.
    Fpe,
    /// Per-subject date offsets.
    DateShift,
}

impl Purpose {
    /// The label used in the HKDF `info` string.
    pub const fn as_str(self) -> &'static str {
        match self {
            Purpose::Pseudonym => "pseudonym",
            Purpose::Aead => "aead",
            Purpose::Siv => "siv",
            Purpose::Fpe => "fpe",
            Purpose::DateShift => "dateshift",
        }
    }
}

/// A 32-byte master secret with its key id.
///
/// Not `Clone`, never printed, zeroized on drop.
#[derive(Zeroize, ZeroizeOnDrop)]
pub struct MasterKey {
    #[zeroize(skip)]
    id: u32,
    secret: [u8; SECRET_LEN],
}

impl MasterKey {
    /// Wraps a secret. The caller's copy should be zeroized by the caller.
    pub fn from_bytes(id: u32, secret: [u8; SECRET_LEN]) -> Self {
        MasterKey { id, secret }
    }

    /// Draws a fresh secret from `rng`.
    pub fn generate<R: rand_core::CryptoRng + ?Sized>(id: u32, rng: &mut R) -> Self {
        let mut secret = [0u8; SECRET_LEN];
        rng.fill_bytes(&mut secret);
        MasterKey { id, secret }
    }

    /// The key id written into tokens.
    pub fn id(&self) -> u32 {
        self.id
    }

    /// Fills `out` with `subkey(purpose, context, out.len())`.
    ///
    /// # Errors
    /// [`Error::Config`] if `out` is longer than HKDF-SHA256 can expand
    /// (255 × 32 bytes).
    pub fn derive(&self, purpose: Purpose, context: &str, out: &mut [u8]) -> Result<(), Error> {
        let hk = Hkdf::<Sha256>::new(None, &self.secret);
        hk.expand_multi_info(
            &[
                b"deid/v1/",
                purpose.as_str().as_bytes(),
                b"/",
                context.as_bytes(),
            ],
            out,
        )
        .map_err(|_| Error::Config("subkey length"))
    }

    /// Derives a fixed-size subkey that zeroizes itself on drop.
    ///
    /// # Errors
    /// As [`MasterKey::derive`].
    pub fn subkey<const N: usize>(
        &self,
        purpose: Purpose,
        context: &str,
    ) -> Result<Zeroizing<[u8; N]>, Error> {
        let mut k = Zeroizing::new([0u8; N]);
        self.derive(purpose, context, &mut *k)?;
        Ok(k)
    }

    /// The raw secret, for serialization into a keyset file only.
    #[cfg(feature = "alloc")]
    pub(crate) fn secret_bytes(&self) -> &[u8; SECRET_LEN] {
        &self.secret
    }
}

impl fmt::Debug for MasterKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MasterKey")
            .field("id", &self.id)
            .finish_non_exhaustive()
    }
}

#[cfg(feature = "alloc")]
pub use keyset::{Keyset, KeysetError, MAX_KEYS, MAX_KEYSET_BYTES};

#[cfg(feature = "alloc")]
mod keyset {
    use alloc::string::String;
    use alloc::vec::Vec;
    use core::fmt;

    use serde::{Deserialize, Serialize};
    use zeroize::Zeroizing;

    use super::{MasterKey, SECRET_LEN};

    /// The largest keyset file read: 1 MiB. A key takes about 130 bytes of
    /// JSON, so this holds [`MAX_KEYS`] keys many times over; the bound is
    /// there so that `-k /dev/zero` or a mistaken path fails at once instead
    /// of reading until memory runs out.
    pub const MAX_KEYSET_BYTES: usize = 1 << 20;

    /// The most keys a keyset holds: 1,000, enough for a rotation a day for
    /// almost three years. Tokens name their key, so lookups are by id; the
    /// bound keeps loading and checking a keyset instant.
    pub const MAX_KEYS: usize = 1000;

    /// A set of master keys with one primary (docs/FORMAT.md, "Keyset file").
    ///
    /// New tokens use the primary key; opening a token looks the key up by the
    /// id written in the token, so keys can be rotated without losing old data.
    pub struct Keyset {
        primary: u32,
        keys: Vec<(MasterKey, String)>,
    }

    /// A keyset file could not be read. Never contains secret material.
    #[derive(Debug, Clone, PartialEq, Eq)]
    #[non_exhaustive]
    pub enum KeysetError {
        /// Not valid keyset JSON (the message names the field, not its value).
        Malformed(String),
        /// A `version` other than 1.
        UnsupportedVersion(u32),
        /// A secret that is not base64 of exactly 32 bytes (names the key id).
        BadSecret(u32),
        /// Two keys share an id.
        DuplicateId(u32),
        /// `primary` names no key of the set.
        MissingPrimary(u32),
        /// The set has no key.
        Empty,
        /// The file is longer than [`MAX_KEYSET_BYTES`].
        TooLarge,
        /// The set holds more than [`MAX_KEYS`] keys (or a rotation would
        /// make it so).
        TooManyKeys,
        /// The keyset could not be read (the I/O error's description).
        Read(String),
    }

    impl fmt::Display for KeysetError {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            match self {
                KeysetError::Malformed(m) => write!(f, "malformed keyset: {m}"),
                KeysetError::UnsupportedVersion(v) => {
                    write!(f, "unsupported keyset version {v} (expected 1)")
                }
                KeysetError::BadSecret(id) => {
                    write!(f, "key {id}: secret is not base64 of 32 bytes")
                }
                KeysetError::DuplicateId(id) => write!(f, "key id {id} appears twice"),
                KeysetError::MissingPrimary(id) => {
                    write!(f, "primary key {id} is not in the keyset")
                }
                KeysetError::Empty => f.write_str("keyset holds no key"),
                KeysetError::TooLarge => write!(
                    f,
                    "keyset is larger than {} bytes (1 MiB), the most deid reads",
                    MAX_KEYSET_BYTES
                ),
                KeysetError::TooManyKeys => {
                    write!(
                        f,
                        "keyset would hold more than {MAX_KEYS} keys, the most deid accepts"
                    )
                }
                KeysetError::Read(e) => write!(f, "cannot read keyset: {e}"),
            }
        }
    }

    #[cfg(feature = "std")]
    impl std::error::Error for KeysetError {}

    #[derive(Serialize, Deserialize)]
    #[serde(deny_unknown_fields)]
    struct KeysetFile {
        version: u32,
        primary: u32,
        keys: Vec<KeyEntry>,
    }

    #[derive(Serialize, Deserialize)]
    #[serde(deny_unknown_fields)]
    struct KeyEntry {
        id: u32,
        created: String,
        secret: String,
    }

    impl Drop for KeyEntry {
        fn drop(&mut self) {
            zeroize::Zeroize::zeroize(&mut self.secret);
        }
    }

    impl Keyset {
        /// A new keyset with one key (id 1), drawn from `rng`; `created` is an
        /// RFC 3339 timestamp supplied by the caller (no clock in `no_std`).
        pub fn generate<R: rand_core::CryptoRng + ?Sized>(rng: &mut R, created: &str) -> Self {
            Keyset {
                primary: 1,
                keys: alloc::vec![(MasterKey::generate(1, rng), String::from(created))],
            }
        }

        /// Builds a keyset from keys already in memory; the first is primary.
        ///
        /// # Errors
        /// [`KeysetError::Empty`], [`KeysetError::TooManyKeys`] or
        /// [`KeysetError::DuplicateId`].
        pub fn from_keys(keys: Vec<MasterKey>) -> Result<Self, KeysetError> {
            let primary = keys.first().ok_or(KeysetError::Empty)?.id();
            if keys.len() > MAX_KEYS {
                return Err(KeysetError::TooManyKeys);
            }
            let keys: Vec<_> = keys.into_iter().map(|k| (k, String::new())).collect();
            check_unique(&keys)?;
            Ok(Keyset { primary, keys })
        }

        /// Adds a fresh key and makes it primary. Returns the new id: one
        /// more than the largest id, or, when that is `u32::MAX`, the
        /// smallest id from 1 up that the set does not hold (one always
        /// exists: a set holds at most [`MAX_KEYS`] keys). Ids never wrap
        /// onto a held one, so the saved keyset loads again.
        ///
        /// # Errors
        /// [`KeysetError::TooManyKeys`] if the set already holds
        /// [`MAX_KEYS`] keys, [`KeysetError::TooLarge`] if the saved keyset
        /// would pass [`MAX_KEYSET_BYTES`]; the set is left unchanged.
        pub fn rotate<R: rand_core::CryptoRng + ?Sized>(
            &mut self,
            rng: &mut R,
            created: &str,
        ) -> Result<u32, KeysetError> {
            if self.keys.len() >= MAX_KEYS {
                return Err(KeysetError::TooManyKeys);
            }
            let max = self.ids().max().unwrap_or(0);
            let id = match max.checked_add(1) {
                Some(id) => id,
                None => {
                    let mut held: Vec<u32> = self.ids().collect();
                    held.sort_unstable();
                    // The first gap in 1, 2, 3, ...: at most `held.len()` steps.
                    let mut next = 1u32;
                    for id in held {
                        if id == next {
                            next = next.checked_add(1).ok_or(KeysetError::TooManyKeys)?;
                        } else if id > next {
                            break;
                        }
                    }
                    next
                }
            };
            self.keys
                .push((MasterKey::generate(id, rng), String::from(created)));
            if self.to_json().len() > MAX_KEYSET_BYTES {
                self.keys.pop();
                return Err(KeysetError::TooLarge);
            }
            self.primary = id;
            Ok(id)
        }

        /// The key new tokens are made with.
        pub fn primary(&self) -> &MasterKey {
            // Invariant kept by every constructor: the primary id is present.
            self.get(self.primary).unwrap_or(&self.keys[0].0)
        }

        /// The key with this id, if the set holds it.
        pub fn get(&self, id: u32) -> Option<&MasterKey> {
            self.keys.iter().map(|(k, _)| k).find(|k| k.id() == id)
        }

        /// All key ids, in file order.
        pub fn ids(&self) -> impl Iterator<Item = u32> + '_ {
            self.keys.iter().map(|(k, _)| k.id())
        }

        /// Reads a keyset file from `reader`: at most [`MAX_KEYSET_BYTES`]
        /// bytes are read, so an endless or huge input fails quickly.
        ///
        /// # Errors
        /// [`KeysetError::TooLarge`] past the byte bound,
        /// [`KeysetError::Read`] on an I/O error, else as
        /// [`Keyset::from_json`].
        #[cfg(feature = "std")]
        pub fn from_reader<R: std::io::Read>(reader: R) -> Result<Self, KeysetError> {
            // One allocation of the whole bound up front: a growing buffer
            // would leave unzeroized copies of the secrets behind.
            let mut buf = Zeroizing::new(Vec::with_capacity(MAX_KEYSET_BYTES + 1));
            let limit = (MAX_KEYSET_BYTES + 1) as u64;
            std::io::Read::read_to_end(&mut reader.take(limit), &mut buf)
                .map_err(|e| KeysetError::Read(alloc::format!("{}", e.kind())))?;
            if buf.len() > MAX_KEYSET_BYTES {
                return Err(KeysetError::TooLarge);
            }
            let text = core::str::from_utf8(&buf)
                .map_err(|_| KeysetError::Malformed(String::from("not UTF-8")))?;
            Self::from_json(text)
        }

        /// Parses the JSON keyset format of docs/FORMAT.md.
        ///
        /// # Errors
        /// A [`KeysetError`] naming what is wrong, never a secret;
        /// [`KeysetError::TooLarge`] for text over [`MAX_KEYSET_BYTES`] and
        /// [`KeysetError::TooManyKeys`] for more than [`MAX_KEYS`] keys.
        pub fn from_json(json: &str) -> Result<Self, KeysetError> {
            if json.len() > MAX_KEYSET_BYTES {
                return Err(KeysetError::TooLarge);
            }
            let file: KeysetFile = serde_json::from_str(json).map_err(|e| {
                // serde_json errors quote unexpected *tokens*, which could be a
                // secret; keep only the category and position.
                KeysetError::Malformed(alloc::format!(
                    "{:?} error at line {} column {}",
                    e.classify(),
                    e.line(),
                    e.column()
                ))
            })?;
            if file.version != 1 {
                return Err(KeysetError::UnsupportedVersion(file.version));
            }
            if file.keys.len() > MAX_KEYS {
                return Err(KeysetError::TooManyKeys);
            }
            let mut keys = Vec::with_capacity(file.keys.len());
            for entry in file.keys {
                let mut secret = Zeroizing::new([0u8; SECRET_LEN]);
                let b64 = data_encoding::BASE64;
                let len = b64
                    .decode_len(entry.secret.len())
                    .map_err(|_| KeysetError::BadSecret(entry.id))?;
                let mut buf = Zeroizing::new(alloc::vec![0u8; len]);
                let n = b64
                    .decode_mut(entry.secret.as_bytes(), &mut buf)
                    .map_err(|_| KeysetError::BadSecret(entry.id))?;
                if n != SECRET_LEN {
                    return Err(KeysetError::BadSecret(entry.id));
                }
                secret.copy_from_slice(&buf[..n]);
                keys.push((
                    MasterKey::from_bytes(entry.id, *secret),
                    entry.created.clone(),
                ));
            }
            if keys.is_empty() {
                return Err(KeysetError::Empty);
            }
            check_unique(&keys)?;
            if !keys.iter().any(|(k, _)| k.id() == file.primary) {
                return Err(KeysetError::MissingPrimary(file.primary));
            }
            Ok(Keyset {
                primary: file.primary,
                keys,
            })
        }

        /// Serializes to the JSON keyset format (pretty-printed). The string
        /// holds secrets and zeroizes itself on drop.
        pub fn to_json(&self) -> Zeroizing<String> {
            let file = KeysetFile {
                version: 1,
                primary: self.primary,
                keys: self
                    .keys
                    .iter()
                    .map(|(k, created)| KeyEntry {
                        id: k.id(),
                        created: created.clone(),
                        secret: data_encoding::BASE64.encode(k.secret_bytes()),
                    })
                    .collect(),
            };
            // Serializing plain strings and integers cannot fail.
            Zeroizing::new(serde_json::to_string_pretty(&file).unwrap_or_default())
        }
    }

    fn check_unique(keys: &[(MasterKey, String)]) -> Result<(), KeysetError> {
        let mut ids: Vec<u32> = keys.iter().map(|(k, _)| k.id()).collect();
        ids.sort_unstable();
        match ids.windows(2).find(|w| w[0] == w[1]) {
            Some(w) => Err(KeysetError::DuplicateId(w[0])),
            None => Ok(()),
        }
    }

    impl fmt::Debug for Keyset {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.debug_struct("Keyset")
                .field("primary", &self.primary)
                .field("ids", &self.ids().collect::<Vec<_>>())
                .finish()
        }
    }
}
