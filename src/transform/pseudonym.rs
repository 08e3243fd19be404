//! The `pseudonym` transform.
