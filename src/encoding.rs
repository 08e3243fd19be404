//! Text encodings of pseudonyms and tokens into caller buffers: lowercase hex,
//! RFC 4648 base32 (lowercase, no padding), base64url (no padding).
