//! Keyed pseudonyms, reversible tokens and generalization for data exports,
//! and audits of anonymization claims.
//!
//! deid protects identifier columns before data leaves its owner: a column is
//! replaced by a keyed pseudonym (HMAC-SHA256), a reversible token (AES-SIV
//! or AES-256-GCM), a format-preserving encryption of its digits (FF1), a
//! coarser value, a mask or a shifted date. Every key is derived from a
//! master secret and the column's context with HKDF, so the same key and
//! context give the same output in every file and anyone holding the keyset
//! can recompute it (in a few lines of Python, too). With `std` it also
//! streams CSV and JSON Lines through a policy in parallel (Parquet and
//! Arrow record batches too, with the `parquet` and `arrow` features), and
//! audits exports: reversing unsalted hashes, measuring re-identification
//! risk.
//!
//! This page is for library users. The `deid` command-line tool is
//! documented in the README; the exact byte layout of keysets, pseudonyms
//! and tokens, the policy file and the input rules are in `docs/FORMAT.md`
//! in the repository.
//!
//! # The core
//!
//! The core is `#![no_std]`, needs no allocator and writes into
//! caller-provided buffers. Each type is set up once per field (HMAC pads
//! and AES key schedules computed once) and then used for every value.
//!
//! | type | transform |
//! |---|---|
//! | [`MasterKey`], [`Purpose`] | a 32-byte master secret and its HKDF-SHA256 subkeys |
//! | [`Pseudonymizer`] | keyed HMAC-SHA256 pseudonyms (`hex`, `base32`, `base64url`: [`Encoding`]) |
//! | [`DeterministicCipher`] | AES-SIV tokens: equal values give equal tokens |
//! | [`RandomizedCipher`] | AES-256-GCM tokens with a random nonce |
//! | [`Ff1Digits`] | FF1 format-preserving encryption of the digits of a value |
//! | [`Generalization`], [`Mask`], [`DateShifter`] | coarser values, masking, per-subject date offsets |
//! | [`Normalizer`] | `trim`, `lowercase`, `digits`, `email`, `phone:<country>` before a transform |
//! | [`Backend`] | RustCrypto (default) or ring for HMAC and GCM; byte-identical output |
//! | [`checks`] | Luhn, RRN, FRN and business registration check digits |
//! | [`detect`] | identifiers inside free text (Korean phones, E.164, emails, RRN, FRN, BRN, cards, IPs, passports, driver's licences, accounts) |
//!
//! Secrets are not `Clone`, never appear in `Debug` output (only the key id)
//! and are zeroized on drop. A token that fails to open reports
//! [`CryptoError`] and nothing more; no error ever contains a field's value.
//!
//! ```
//! use deid::{DeterministicCipher, Encoding, Ff1Digits, MasterKey, Pseudonymizer};
//!
//! // In firmware the secret comes from secure storage.
//! let key = MasterKey::from_bytes(1, [7u8; 32]);
//!
//! // Pseudonyms: set up once per column, then one call per value.
//! let phone = Pseudonymizer::new(&key, "customer-phone", 16, Encoding::Hex)?;
//! let mut buf = [0u8; 64];
//! let p = phone.pseudonymize(b"+821012345678", &mut buf)?;
//! assert_eq!(p, "410fd2904e78b0ee5841242f57ee8474");
//!
//! // Deterministic tokens open again with the key.
//! let email = DeterministicCipher::new(&key, "email")?;
//! let mut token = [0u8; 128];
//! let t = email.encrypt(b"ada@example.com", &mut token)?;
//! assert_eq!(t, "AQAAAAFLEEmuouMOTJwbGTMK-UNYIM-sS9ky4w4pOSxFkMiS");
//! let mut plain = [0u8; 128];
//! assert_eq!(email.decrypt(t.as_bytes(), &mut plain)?, b"ada@example.com");
//!
//! // FF1 keeps length and layout.
//! let ff1 = Ff1Digits::new(&key, "phone")?;
//! let mut out = [0u8; 32];
//! assert_eq!(ff1.encrypt(b"010-1234-5678", &mut out)?, "529-6761-4496");
//! # Ok::<(), deid::Error>(())
//! ```
//!
//! # Policies and streams
//!
//! With `alloc`, a [`Keyset`] holds several keys (rotation) and a [`Policy`]
//! says which column gets which transform; [`field::FieldProcessor`] applies
//! one field's normalizers and transform. With `std`,
//! [`io::pipeline::run`] streams CSV or JSON Lines through a policy on every
//! core, keeping the input order, and fails closed: a value that cannot be
//! transformed stops the run (or drops its record) and is never written in
//! clear.
//!
//! ```
//! # #[cfg(feature = "std")] {
//! use deid::io::pipeline::{self, PipelineOptions};
//! use deid::{Keyset, MasterKey, Policy};
//!
//! let keys = Keyset::from_keys(vec![MasterKey::from_bytes(1, [7u8; 32])])?;
//! let policy = Policy::from_toml(
//!     r#"
//!     version = 1
//!     [fields.phone]
//!     normalize = ["phone:KR"]
//!     transform = "pseudonymize"
//!     context = "customer-phone"
//!     [fields.name]
//!     transform = "drop"
//!     "#,
//! )?;
//! let input = &b"name,phone,city\nAda,010-1234-5678,Seoul\n"[..];
//! let mut output = Vec::new();
//! let summary = pipeline::run(
//!     &policy,
//!     &keys,
//!     Box::new(input),
//!     "customers.csv", // names the input in errors
//!     &mut output,
//!     &PipelineOptions::new().threads(1),
//!     &mut |_progress| {},
//! )?;
//! assert_eq!(summary.rows_out, 1);
//! assert_eq!(
//!     String::from_utf8(output)?,
//!     "phone,city\n410fd2904e78b0ee5841242f57ee8474,Seoul\n"
//! );
//! # }
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # Features
//!
//! | feature | adds | default |
//! |---|---|---|
//! | (none) | the core above: keys, subkeys, every transform on caller buffers, check digits, the RustCrypto backend | |
//! | `alloc` | [`Keyset`] (JSON), [`FieldSpec`] and [`Policy`] (serde), [`field::FieldProcessor`] | |
//! | `std` | `alloc`, OS randomness, TOML policies, streaming CSV / JSON Lines ([`io`]), [`scan`], the audits, synthetic data | yes |
//! | `ring` | `std` and ring as a second backend for HMAC-SHA256 and AES-256-GCM | yes |
//! | `arrow` | `std` and the batch API: one Arrow `RecordBatch` through a policy ([`arrow::BatchTransformer`]) | |
//! | `parquet` | `arrow` and Parquet files in and out of every command ([`io::parquet`]) | |
//! | `cli` | `std`, `ring`, `parquet` and the `deid` binary (with its device benchmark) and its dependencies | yes |
//!
//! A library that does not need the binary avoids its dependencies with
//! `deid = { version = "0.1", default-features = false, features = ["std"] }`;
//! firmware uses `default-features = false`, with `"alloc"` where a heap
//! exists.
//!
//! # MSRV
//!
//! Rust 1.87, as `rust-version` in Cargo.toml says, and CI checks with that
//! toolchain: the interleaved SHA-256 kernels (SHA-NI on x86-64, the ARMv8
//! SHA2 instructions on AArch64) use safe `#[target_feature]` functions
//! (1.86) that call `std::arch` intrinsics without `unsafe` blocks (1.87). The `no_std` core alone builds with the
//! same toolchain.
#![no_std]
// No panics in library code: errors are values (tests may unwrap).
#![cfg_attr(
    not(test),
    warn(clippy::unwrap_used, clippy::expect_used, clippy::panic)
)]
#![cfg_attr(docsrs, feature(doc_cfg))]

#[cfg(feature = "alloc")]
extern crate alloc;
// std modules use its macros (format!, vec!) as a std crate would.
#[cfg(feature = "std")]
#[macro_use]
extern crate std;

pub mod backend;
pub mod checks;
pub mod date;
pub mod detect;
pub mod encoding;
pub mod error;
pub mod key;
pub mod normalize;
pub mod transform;

#[cfg(feature = "alloc")]
pub mod field;
#[cfg(feature = "alloc")]
pub mod policy;

#[cfg(feature = "std")]
pub mod anonymize;
#[cfg(feature = "arrow")]
pub mod arrow;
#[cfg(feature = "std")]
pub mod audit;
#[cfg(feature = "std")]
pub mod crash;
#[cfg(feature = "std")]
pub mod io;
#[cfg(feature = "std")]
pub mod scan;
#[cfg(feature = "std")]
pub mod synth;

/// A seeded xorshift64 generator for the unit tests' random inputs: the
/// same values on every run, with no dependency.
#[cfg(all(test, feature = "std"))]
pub(crate) fn xorshift(seed: u64) -> impl FnMut() -> u64 {
    let mut x = seed;
    move || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x
    }
}

pub use backend::Backend;
pub use date::Date;
pub use encoding::Encoding;
pub use error::{CryptoError, Error};
#[cfg(feature = "alloc")]
pub use key::Keyset;
pub use key::{MasterKey, Purpose};
pub use normalize::Normalizer;
#[cfg(feature = "alloc")]
pub use policy::Policy;
pub use transform::dateshift::DateShifter;
pub use transform::encrypt::{DeterministicCipher, RandomizedCipher};
pub use transform::fpe::Ff1Digits;
pub use transform::generalize::Generalization;
pub use transform::mask::Mask;
pub use transform::pseudonym::Pseudonymizer;
#[cfg(feature = "alloc")]
pub use transform::{FieldSpec, TransformKind, TransformSpec};
