//! Cryptographic backends: RustCrypto (pure Rust, `no_std`, the default) and
//! ring (assembly, `std` targets). Both give byte-identical output.

#[cfg(feature = "ring")]
pub mod ring;
pub mod rustcrypto;
