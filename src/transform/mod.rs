//! Field transforms of DESIGN.md as `no_std` primitives on caller buffers,
//! and the serde types that configure them per field.

pub mod dateshift;
pub mod encrypt;
pub mod fpe;
pub mod generalize;
pub mod mask;
pub mod pseudonym;
