//! The `dateshift` transform.
