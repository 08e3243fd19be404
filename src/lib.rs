#![doc = include_str!("../README.md")]
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
pub mod audit;
#[cfg(feature = "std")]
pub mod bench;
#[cfg(feature = "std")]
pub mod io;
#[cfg(feature = "std")]
pub mod scan;
#[cfg(feature = "std")]
pub mod synth;

pub use error::{CryptoError, Error};
#[cfg(feature = "alloc")]
pub use key::Keyset;
pub use key::{MasterKey, Purpose};
