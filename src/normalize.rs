//! Normalizers run before a transform so the same person gets the same
//! pseudonym whatever the formatting: `trim`, `lowercase`, `digits`, `email`,
//! `phone:<ISO country>` (to E.164).
