//! The four-way SHA-NI kernel, shared with the pseudonymizer's batch path,
//! and its twenty-way form with AVX-512: they live in src/backend/shani.rs.

pub(crate) use crate::backend::shani::{ShaNi, ShaNiAvx512, prefetch};
