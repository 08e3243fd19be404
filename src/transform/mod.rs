//! Field transforms of DESIGN.md as `no_std` primitives on caller buffers,
//! and the serde types that configure them per field.
