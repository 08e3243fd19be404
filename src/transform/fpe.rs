//! The `fpe` transform.
