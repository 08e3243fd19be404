//! Streaming CSV and JSON Lines, the ordered parallel pipeline and atomic
//! output (temporary file renamed into place on success).

pub mod atomic;
pub mod header;
pub mod pipeline;
pub mod rng;
pub mod table;
