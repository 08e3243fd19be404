//! Record suppression in `apply`: the classes, by their output values in
//! the policy's `[suppress]` quasi-identifier columns, whose records are
//! left out. Which classes they are is decided before the run, by one
//! pass over the input (`deid::anonymize::suppression`); the pipeline only
//! drops and counts.

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

/// Length-prefixed values, so no two tuples share a key.
fn encode<'a>(values: impl Iterator<Item = &'a [u8]>, out: &mut Vec<u8>) {
    for v in values {
        out.extend_from_slice(&(v.len() as u64).to_le_bytes());
        out.extend_from_slice(v);
    }
}
