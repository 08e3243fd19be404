//! Linkage attacks: records of a release matched to exactly one record of an
//! auxiliary file on shared quasi-identifiers.
