//! A field's normalizers and transform compiled against a keyset: keyed
//! states are set up once per field and reused for every value.
