//! The `generalize` transform.
