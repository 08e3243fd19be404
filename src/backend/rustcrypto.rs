//! The RustCrypto backend: pure Rust, `no_std`, runtime-detected SHA-NI / AES-NI / ARMv8 crypto.
