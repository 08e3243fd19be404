//! Field transforms (docs/FORMAT.md, "Field transforms") as `no_std`
//! primitives on caller buffers, and (with `alloc`) the serde types that
//! configure them per field.
//!
//! | module | transform |
//! |---|---|
//! | [`pseudonym`] | `pseudonymize`: keyed HMAC-SHA256 pseudonyms |
//! | [`encrypt`] | `encrypt`: AES-256-GCM (randomized) or AES-SIV (deterministic) tokens |
//! | [`fpe`] | `fpe`: FF1 format-preserving encryption of digits |
//! | [`generalize`] | `generalize`: year, year-month, age band, bucket, prefix, top/bottom coding |
//! | [`mask`] | `mask`: keep first/last characters |
//! | [`dateshift`] | `dateshift`: per-subject date offsets |

pub mod dateshift;
pub mod encrypt;
pub mod fpe;
pub mod generalize;
pub mod mask;
pub mod pseudonym;
mod siv;

#[cfg(feature = "alloc")]
mod spec;
#[cfg(feature = "alloc")]
pub use spec::{EmptyRule, EncryptMode, FieldSpec, TransformKind, TransformSpec};
