//! `generalize` by a hierarchy: a policy rule `hierarchy = "..."` with
//! `level = N` (docs/FORMAT.md, "Policy file"). The rule names the hierarchy
//! (an ARX CSV file, relative to the policy, or a built-in: `date`,
//! `interval:W1,W2,...`, `prefix`, `mask`) and the level; the labels come
//! from the one hierarchy definition the anonymization search uses
//! (src/anonymize/hierarchy.rs), attached to the rule as a [`LevelLookup`]
//! once the policy's file is known (`deid::anonymize::load_hierarchies`).

use alloc::string::String;
use alloc::vec::Vec;
use core::fmt;

use crate::error::Error;

/// A hierarchy at one level: what each value becomes.
pub trait LevelLookup: Send + Sync {
    /// Appends the label of `value` to `out` (left as it was on an error).
    ///
    /// # Errors
    /// [`Error::Invalid`] naming the rule (the hierarchy file has no row for
    /// the value, or a built-in cannot take it); never the value.
    fn generalize(&self, value: &[u8], out: &mut Vec<u8>) -> Result<(), Error>;
}

/// A `generalize` rule by hierarchy and level.
#[derive(Clone)]
pub struct HierarchyRule {
    /// The hierarchy as written: a file path (relative to the policy file;
    /// `file:PATH` for a file named like a built-in) or a built-in.
    pub hierarchy: String,
    /// The level (0 is the value as written).
    pub level: usize,
    /// Field separator of a hierarchy file (`;` by default, as ARX writes).
    pub delimiter: u8,
    #[cfg(feature = "std")]
    lookup: Option<std::sync::Arc<dyn LevelLookup>>,
}

impl HierarchyRule {
    /// A rule not yet attached to its hierarchy.
    pub fn new(hierarchy: String, level: usize, delimiter: u8) -> Self {
        HierarchyRule {
            hierarchy,
            level,
            delimiter,
            #[cfg(feature = "std")]
            lookup: None,
        }
    }

    /// Attaches the loaded hierarchy.
    #[cfg(feature = "std")]
    pub fn set_lookup(&mut self, lookup: std::sync::Arc<dyn LevelLookup>) {
        self.lookup = Some(lookup);
    }

    /// The loaded hierarchy, if attached.
    #[cfg(feature = "std")]
    pub fn lookup(&self) -> Option<&std::sync::Arc<dyn LevelLookup>> {
        self.lookup.as_ref()
    }
}

impl PartialEq for HierarchyRule {
    fn eq(&self, other: &Self) -> bool {
        // The rule is what the policy says; the loaded table follows from it.
        self.hierarchy == other.hierarchy
            && self.level == other.level
            && self.delimiter == other.delimiter
    }
}

impl fmt::Debug for HierarchyRule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The labels are data: the rule only.
        f.debug_struct("HierarchyRule")
            .field("hierarchy", &self.hierarchy)
            .field("level", &self.level)
            .field("delimiter", &(self.delimiter as char))
            .finish_non_exhaustive()
    }
}
