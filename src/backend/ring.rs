//! The ring backend (std targets): HMAC-SHA256 and AES-256-GCM in assembly.
