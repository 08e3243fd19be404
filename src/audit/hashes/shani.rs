//! The four-way SHA-NI kernel, shared with the pseudonymizer's batch path:
//! it lives in src/backend/shani.rs.

pub(crate) use crate::backend::shani::{ShaNi, prefetch};
