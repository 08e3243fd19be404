//! The `mask` transform.
