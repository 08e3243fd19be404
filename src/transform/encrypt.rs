//! The `encrypt` transform.
