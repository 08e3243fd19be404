//! Record suppression in `apply`: the classes, by their output values in
//! the policy's `[suppress]` quasi-identifier columns, whose records are
//! left out. Which classes they are is decided before the run, by one
//! pass over the input (`deid::anonymize::suppression`); the second pass
//! only drops and counts: the CSV and JSON Lines pipeline
//! (`src/io/process.rs`) and the Arrow batches of the Parquet path
//! (`src/arrow/mod.rs`) key a record the same way, by
//! `SuppressClasses::contains` on its output values, so every format
//! leaves out the same records.

use std::string::String;
use std::vec::Vec;

use rustc_hash::FxHashSet;

/// Classes to suppress: each a tuple of output values of [`Self::columns`].
pub struct SuppressClasses {
    columns: Vec<String>,
    keys: FxHashSet<Vec<u8>>,
}

impl std::fmt::Debug for SuppressClasses {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The keys are generalized values: the count only.
        f.debug_struct("SuppressClasses")
            .field("columns", &self.columns)
            .field("classes", &self.keys.len())
            .finish()
    }
}

impl SuppressClasses {
    /// No class yet, over these policy fields (each must be transformed by
    /// the policy, so its output is what the class is made of).
    pub fn new(columns: Vec<String>) -> Self {
        SuppressClasses {
            columns,
            keys: FxHashSet::default(),
        }
    }

    /// Adds a class: one output value per column, in order.
    pub fn insert(&mut self, values: &[&[u8]]) {
        let mut key = Vec::new();
        encode(values.iter().copied(), &mut key);
        self.keys.insert(key);
    }

    /// The quasi-identifier columns.
    pub fn columns(&self) -> &[String] {
        &self.columns
    }

    /// Classes to suppress.
    pub fn len(&self) -> usize {
        self.keys.len()
    }

    /// Whether no class is suppressed.
    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    /// Whether the record with these output values is suppressed (`buf` is
    /// scratch, reused across records).
    pub(crate) fn contains<'a>(
        &self,
        values: impl Iterator<Item = &'a [u8]>,
        buf: &mut Vec<u8>,
    ) -> bool {
        if self.keys.is_empty() {
            return false;
        }
        buf.clear();
        encode(values, buf);
        self.keys.contains(&buf[..])
    }
}

/// The error of a record whose quasi-identifier has no single output value
/// (JSON Lines: missing, null or an array; Parquet: null): the first pass
/// counted it under another class (an absent value reads as empty there),
/// so the run stops rather than release or drop it on a guess.
pub(crate) fn no_single_value() -> crate::io::error::InputErrorKind {
    crate::io::error::InputErrorKind::Policy(crate::policy::PolicyError::Suppress(
        "a quasi-identifier of this record has no single value (missing, null or a list); record suppression needs one value per quasi-identifier in every record".into(),
    ))
}

/// Length-prefixed values, so no two tuples share a key.
fn encode<'a>(values: impl Iterator<Item = &'a [u8]>, out: &mut Vec<u8>) {
    for v in values {
        out.extend_from_slice(&(v.len() as u64).to_le_bytes());
        out.extend_from_slice(v);
    }
}
