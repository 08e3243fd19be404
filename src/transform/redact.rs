//! `redact`: identifiers found inside free text ([`crate::detect`]) replaced
//! by the keyed pseudonym or the deterministic token of their normalized
//! form, or by a tag (docs/FORMAT.md, "Free text").
//!
//! The replacement of an identifier is the output the column transforms give
//! its normalized form under the same context: a phone number in a note,
//! redacted with context `customer-phone`, becomes the pseudonym that
//! `pseudonymize` with `normalize = ["phone:KR"]` and the same context gives
//! the phone column, so notes still join to the customer table. The same
//! identifier gets the same replacement everywhere.
//!
//! Text that is not UTF-8 or is longer than [`MAX_TEXT_BYTES`] is refused
//! (the field's `on_error` decides), never copied through.
//!
//! # Example
//! ```
//! use deid::detect::Detectors;
//! use deid::transform::redact::{Redactor, Replace};
//! use deid::{Encoding, MasterKey, Pseudonymizer};
//!
//! let key = MasterKey::from_bytes(1, [7u8; 32]);
//! let r = Redactor::new(&key, "customer-phone", Detectors::all(), Replace::Pseudonym, 16, Encoding::Hex).unwrap();
//! let mut out = Vec::new();
//! r.redact("고객 010-1234-5678 연락 요망".as_bytes(), &mut out).unwrap();
//!
//! // The phone column's pseudonym, under the same context.
//! let p = Pseudonymizer::new(&key, "customer-phone", 16, Encoding::Hex).unwrap();
//! let mut buf = [0u8; 64];
//! let want = format!("고객 {} 연락 요망", p.pseudonymize(b"+821012345678", &mut buf).unwrap());
//! assert_eq!(String::from_utf8(out).unwrap(), want);
//!
//! let tags = Redactor::tags(Detectors::all());
//! let mut out = Vec::new();
//! tags.redact("메일 kim@naver.com".as_bytes(), &mut out).unwrap();
//! assert_eq!(out, "메일 [EMAIL]".as_bytes());
//! ```

use alloc::vec::Vec;
use core::fmt;

use serde::{Deserialize, Serialize};

use super::encrypt::{DeterministicCipher, token_key_id};
use super::pseudonym::Pseudonymizer;
use crate::backend::Backend;
use crate::detect::{Detectors, Kind, Match};
use crate::encoding::Encoding;
use crate::error::Error;
use crate::key::MasterKey;

/// The longest text `redact` reads (1 MiB): longer values fail closed.
pub const MAX_TEXT_BYTES: usize = 1 << 20;

/// What a detected identifier is replaced with (`replace = ...`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
#[non_exhaustive]
pub enum Replace {
    /// The keyed pseudonym of the normalized identifier (the default).
    #[default]
    Pseudonym,
    /// The deterministic (AES-SIV) token of the normalized identifier;
    /// `deid decrypt` puts the normalized identifier back.
    Token,
    /// The type's tag, `[PHONE]`, `[EMAIL]`, ... ([`Kind::tag`]).
    Tag,
}

enum Replacer {
    Pseudonym(alloc::boxed::Box<Pseudonymizer>),
    /// Primary key first; the others only open old tokens.
    Token(Vec<DeterministicCipher>),
    Tag,
}

/// Detections per [`Kind`] (indexed by [`Kind::index`]).
pub type Counts = [u64; Kind::ALL.len()];

/// A compiled `redact` transform for one field.
pub struct Redactor {
    detectors: Detectors,
    replacer: Replacer,
    #[cfg(target_has_atomic = "64")]
    counts: [core::sync::atomic::AtomicU64; Kind::ALL.len()],
}

impl fmt::Debug for Redactor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Redactor { .. }")
    }
}

impl Redactor {
    /// A redactor replacing with pseudonyms (`bytes`, `encoding` as
    /// `pseudonymize`) or tokens made with `key` under `context`, or tags.
    ///
    /// # Errors
    /// [`Error::Config`] as [`Pseudonymizer::new`] and
    /// [`DeterministicCipher::new`].
    pub fn new(
        key: &MasterKey,
        context: &str,
        detectors: Detectors,
        replace: Replace,
        bytes: usize,
        encoding: Encoding,
    ) -> Result<Self, Error> {
        Self::with_keys(
            Backend::default(),
            core::iter::once(key),
            context,
            detectors,
            replace,
            bytes,
            encoding,
        )
    }

    /// As [`Redactor::new`], with `keys` (primary first: it makes new
    /// tokens and pseudonyms, the rest open old tokens) and `backend`.
    ///
    /// # Errors
    /// As [`Redactor::new`]; [`Error::Config`] for an empty key list.
    pub fn with_keys<'k>(
        backend: Backend,
        keys: impl Iterator<Item = &'k MasterKey>,
        context: &str,
        detectors: Detectors,
        replace: Replace,
        bytes: usize,
        encoding: Encoding,
    ) -> Result<Self, Error> {
        let mut keys = keys.peekable();
        let primary = *keys.peek().ok_or(Error::Config("keyset"))?;
        let replacer = match replace {
            Replace::Pseudonym => Replacer::Pseudonym(alloc::boxed::Box::new(
                Pseudonymizer::with_backend(backend, primary, context, bytes, encoding)?,
            )),
            Replace::Token => Replacer::Token(
                keys.map(|k| DeterministicCipher::new(k, context))
                    .collect::<Result<_, _>>()?,
            ),
            Replace::Tag => Replacer::Tag,
        };
        Ok(Self::build(detectors, replacer))
    }

    /// A redactor writing tags: needs no key.
    pub fn tags(detectors: Detectors) -> Self {
        Self::build(detectors, Replacer::Tag)
    }

    fn build(detectors: Detectors, replacer: Replacer) -> Self {
        Redactor {
            detectors,
            replacer,
            #[cfg(target_has_atomic = "64")]
            counts: Default::default(),
        }
    }

    /// Whether [`Redactor::restore`] can give identifiers back (`token`).
    pub fn is_reversible(&self) -> bool {
        matches!(self.replacer, Replacer::Token(_))
    }

    /// Appends `text` to `out` with every identifier replaced; returns the
    /// detections per kind in this text.
    ///
    /// # Errors
    /// [`Error::Invalid`] for text that is not UTF-8 or is over
    /// [`MAX_TEXT_BYTES`]; errors of the replacement (none in practice: every
    /// detected identifier normalizes).
    pub fn redact(&self, text: &[u8], out: &mut Vec<u8>) -> Result<Counts, Error> {
        let text = checked_text(text)?;
        let b = text.as_bytes();
        let mut counts: Counts = [0; Kind::ALL.len()];
        let mut last = 0;
        let mut failed = None;
        let mut norm = [0u8; 384];
        let mut rep = [0u8; 512];
        self.detectors.scan(text, |m: Match| {
            if failed.is_some() {
                return;
            }
            out.extend_from_slice(&b[last..m.start]);
            last = m.end;
            counts[m.kind.index()] += 1;
            if let Err(e) = self.replace(text, &m, &mut norm, &mut rep, out) {
                failed = Some(e);
            }
        });
        if let Some(e) = failed {
            out.clear();
            return Err(e);
        }
        out.extend_from_slice(&b[last..]);
        #[cfg(target_has_atomic = "64")]
        for (c, n) in self.counts.iter().zip(counts) {
            if n > 0 {
                c.fetch_add(n, core::sync::atomic::Ordering::Relaxed);
            }
        }
        Ok(counts)
    }

    fn replace(
        &self,
        text: &str,
        m: &Match,
        norm: &mut [u8],
        rep: &mut [u8],
        out: &mut Vec<u8>,
    ) -> Result<(), Error> {
        if let Replacer::Tag = self.replacer {
            out.extend_from_slice(m.kind.tag().as_bytes());
            return Ok(());
        }
        let need = m.max_normalized_len();
        let mut big;
        let norm: &mut [u8] = if norm.len() >= need {
            norm
        } else {
            big = alloc::vec![0u8; need];
            &mut big
        };
        let v = m.normalize(text, norm)?;
        match &self.replacer {
            Replacer::Pseudonym(p) => out.extend_from_slice(p.pseudonymize(v, rep)?.as_bytes()),
            Replacer::Token(ciphers) => {
                let c = ciphers.first().ok_or(Error::Config("keyset"))?;
                let need = c.max_output_len(v.len());
                if rep.len() >= need {
                    out.extend_from_slice(c.encrypt(v, rep)?.as_bytes());
                } else {
                    let mut big = alloc::vec![0u8; need];
                    out.extend_from_slice(c.encrypt(v, &mut big)?.as_bytes());
                }
            }
            Replacer::Tag => {}
        }
        Ok(())
    }

    /// Appends `text` to `out` with every token this redactor's keys open
    /// replaced by the identifier (normalized) it hides; everything else,
    /// pseudonyms and tags included, is copied unchanged (they are one-way).
    ///
    /// A token is a maximal run of base64url characters (`A-Z a-z 0-9 - _`)
    /// that authenticates under the field's context; a run that does not is
    /// left as it is, so text that merely looks like a token is safe.
    ///
    /// # Errors
    /// [`Error::Invalid`] as [`Redactor::redact`]; [`Error::Config`] unless
    /// the field replaces with tokens.
    pub fn restore(&self, text: &[u8], out: &mut Vec<u8>) -> Result<(), Error> {
        let Replacer::Token(ciphers) = &self.replacer else {
            return Err(Error::Config(
                "redact is one-way unless replace = \"token\"",
            ));
        };
        let b = checked_text(text)?.as_bytes();
        let is_b64 = |c: u8| c.is_ascii_alphanumeric() || c == b'-' || c == b'_';
        let min = DeterministicCipher::token_len(1);
        let mut plain = Vec::new();
        let mut i = 0;
        while i < b.len() {
            if !is_b64(b[i]) {
                let next = b[i..]
                    .iter()
                    .position(|&c| is_b64(c))
                    .map_or(b.len(), |p| i + p);
                out.extend_from_slice(&b[i..next]);
                i = next;
                continue;
            }
            let end = b[i..]
                .iter()
                .position(|&c| !is_b64(c))
                .map_or(b.len(), |p| i + p);
            let word = &b[i..end];
            let cipher = (word.len() >= min)
                .then(|| token_key_id(word).ok())
                .flatten()
                .and_then(|id| ciphers.iter().find(|c| c.key_id() == id));
            plain.resize(word.len(), 0);
            match cipher.and_then(|c| c.decrypt(word, &mut plain).ok()) {
                Some(value) => out.extend_from_slice(value),
                None => out.extend_from_slice(word),
            }
            i = end;
        }
        Ok(())
    }

    /// Detections so far per kind, over every call of [`Redactor::redact`]
    /// (zero on targets without 64-bit atomics).
    pub fn counts(&self) -> Counts {
        #[cfg(target_has_atomic = "64")]
        {
            core::array::from_fn(|i| self.counts[i].load(core::sync::atomic::Ordering::Relaxed))
        }
        #[cfg(not(target_has_atomic = "64"))]
        {
            [0; Kind::ALL.len()]
        }
    }
}

fn checked_text(text: &[u8]) -> Result<&str, Error> {
    if text.len() > MAX_TEXT_BYTES {
        return Err(Error::Invalid("text for redact (at most 1 MiB)"));
    }
    core::str::from_utf8(text).map_err(|_| Error::Invalid("UTF-8 text for redact"))
}
