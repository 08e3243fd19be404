//! Error types of the core.
//!
//! Two kinds, on purpose: cryptographic failures are opaque ([`CryptoError`]
//! says "authentication failed" and nothing more, so a failure cannot tell an
//! attacker which part of a forged token was wrong), while data errors say
//! which rule was broken, so a user can fix the input. Neither ever carries a
//! field's value: error messages end up in logs and terminals that the data
//! must not reach.

use core::fmt;

/// A token failed to open: wrong key, wrong context, tampering or a malformed
/// token. Deliberately says nothing more, so it cannot act as an oracle.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CryptoError;

impl fmt::Display for CryptoError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("authentication failed")
    }
}

#[cfg(feature = "std")]
impl std::error::Error for CryptoError {}

/// Why a value could not be transformed. Names the rule, never the value.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Error {
    /// A token did not authenticate or decode (opaque on purpose).
    Crypto(CryptoError),
    /// A token, or a field's pinned `key`, names a key id that the keyset
    /// does not hold.
    UnknownKeyId(u32),
    /// The caller's output buffer is too small; the payload is the length needed.
    BufferTooSmall(usize),
    /// The value is not valid for the rule (the payload names the rule, e.g.
    /// `"phone:KR"`, `"date"`, `"email"`), never the value itself.
    Invalid(&'static str),
    /// A format-preserving domain is below the 10^6 floor of NIST SP 800-38G
    /// (rev. 1): too few digits to encrypt safely.
    DomainTooSmall,
    /// An option is out of its range (names the option).
    Config(&'static str),
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Crypto(e) => e.fmt(f),
            Error::UnknownKeyId(id) => {
                write!(f, "key id {id} is not in the keyset")
            }
            Error::BufferTooSmall(n) => write!(f, "output buffer too small ({n} bytes needed)"),
            Error::Invalid(rule) => write!(f, "value is not a valid {rule}"),
            Error::DomainTooSmall => {
                f.write_str("fewer than 6 digits: format-preserving domain under 10^6 is refused")
            }
            Error::Config(opt) => write!(f, "invalid option: {opt}"),
        }
    }
}

impl From<CryptoError> for Error {
    fn from(e: CryptoError) -> Self {
        Error::Crypto(e)
    }
}

#[cfg(feature = "std")]
impl std::error::Error for Error {}
