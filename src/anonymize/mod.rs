//! The least generalization that makes a privacy model hold, as ARX finds
//! it: hierarchies ([`hierarchy`]), the distinct quasi-identifier
//! combinations counted once ([`Counted`]), and an exact search of the
//! generalization lattice ([`search()`]).
//!
//! The records are read once, through [`TableReader`] and the audit
//! engine's [`Classes`] analyser; from then on the search works on the
//! counted classes only, so its memory does not grow with the rows. The
//! privacy models reuse the audit's definitions: class sizes for k and the
//! average prosecutor risk (classes / records), and
//! [`SensitiveDistribution::class`] for l-diversity and t-closeness.
//! docs/ANONYMIZE.md defines the models, the suppression and the metrics.
//!
//! # Example
//! ```
//! use deid::anonymize::{self, Config, Counted, Metric, Models, hierarchy::HierarchySpec};
//! use deid::io::table::{Format, TableOptions, TableReader};
//! let csv = "age,zip\n21,04524\n22,04525\n27,04531\n28,04532\n";
//! let mut t = TableReader::from_reader(Box::new(csv.as_bytes()), "t.csv", Format::Csv, &TableOptions::new()).unwrap();
//! let h = [
//!     "interval:10".parse::<HierarchySpec>().unwrap().load().unwrap(),
//!     "prefix".parse::<HierarchySpec>().unwrap().load().unwrap(),
//! ];
//! let counted = Counted::read(&mut t, &["age".into(), "zip".into()], &h, None).unwrap();
//! let config = Config { models: Models { k: Some(2), ..Models::default() }, ..Config::default() };
//! let result = anonymize::search(&counted, &config, None).unwrap();
//! // Ages 20-29 (level 1 of 2), zips 0452 / 0453 (level 1 of 5): two classes of 2.
//! assert_eq!(result.nodes[0].levels, [1, 1]);
//! assert!((result.nodes[0].loss - (1.0 / 2.0 + 1.0 / 5.0) / 2.0).abs() < 1e-12);
//! ```

mod apply;
pub mod hierarchy;
mod search;

use std::fmt;
use std::path::Path;
use std::string::{String, ToString};
use std::vec::Vec;

use crate::audit::engine::{self, Classes};
use crate::audit::risk::{ClassCounter, SensitiveDistribution};
use crate::io::InputError;
use crate::io::table::TableReader;
use hierarchy::{ColumnLevels, Hierarchy};

pub use apply::{Suppression, load_hierarchies, models_of, result_policy, suppression};
pub use search::{
    Config, Metric, Models, NodeResult, SearchResult, brute_force, evaluate, search, suppressed,
};

/// Why an anonymization could not be computed. Never holds a value.
#[derive(Debug)]
#[non_exhaustive]
pub enum AnonymizeError {
    /// The input could not be read.
    Input(InputError),
    /// A hierarchy file breaks a rule of the format.
    Hierarchy {
        /// The file.
        file: String,
        /// 1-based row, when one is to blame.
        row: Option<u64>,
        /// The rule.
        rule: String,
    },
    /// A value of the data does not fit its column's hierarchy.
    Value {
        /// The column.
        column: String,
        /// The first row holding the value.
        row: Option<u64>,
        /// The rule.
        rule: String,
    },
    /// The request cannot be answered as asked.
    Request(String),
}

impl AnonymizeError {
    pub(crate) fn hierarchy(file: &Path, row: Option<u64>, rule: String) -> Self {
        AnonymizeError::Hierarchy {
            file: file.display().to_string(),
            row,
            rule,
        }
    }
}

impl fmt::Display for AnonymizeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AnonymizeError::Input(e) => write!(f, "{e}"),
            AnonymizeError::Hierarchy { file, row, rule } => match row {
                Some(r) => write!(f, "hierarchy {file}, row {r}: {rule}"),
                None => write!(f, "hierarchy {file}: {rule}"),
            },
            AnonymizeError::Value { column, row, rule } => match row {
                Some(r) => write!(f, "row {r}, column {column}: {rule}"),
                None => write!(f, "column {column}: {rule}"),
            },
            AnonymizeError::Request(m) => f.write_str(m),
        }
    }
}

impl std::error::Error for AnonymizeError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            AnonymizeError::Input(e) => Some(e),
            _ => None,
        }
    }
}

impl From<InputError> for AnonymizeError {
    fn from(e: InputError) -> Self {
        AnonymizeError::Input(e)
    }
}

/// The distinct quasi-identifier combinations of a table with their
/// counts (and sensitive-value counts), each column's hierarchy resolved on
/// its values: everything the search needs, independent of the rows.
pub struct Counted {
    names: Vec<String>,
    columns: Vec<ColumnLevels>,
    /// Class keys, `names.len()` value ids per class.
    keys: Vec<u32>,
    counts: Vec<u64>,
    /// Per class, `(sensitive value id, count)` (empty without one).
    sensitive: Vec<Vec<(u32, u64)>>,
    distribution: Option<SensitiveDistribution>,
    rows: u64,
}

impl fmt::Debug for Counted {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Counted")
            .field("columns", &self.names)
            .field("classes", &self.counts.len())
            .field("rows", &self.rows)
            .finish_non_exhaustive()
    }
}

impl Counted {
    /// Reads `table` once, counting the classes over `qi` (with the
    /// sensitive column's values if given), and resolves `hierarchies` (one
    /// per quasi-identifier, in order) on the values found.
    ///
    /// # Errors
    /// Unreadable input, a missing column, a value its hierarchy does not
    /// cover (naming the row and column).
    pub fn read(
        table: &mut TableReader,
        qi: &[String],
        hierarchies: &[Hierarchy],
        sensitive: Option<&str>,
    ) -> Result<Self, AnonymizeError> {
        let mut classes = Classes::new(qi, sensitive);
        engine::run(table, &mut [&mut classes])?;
        Counted::from_counter(classes.counter(), qi, hierarchies)
    }

    /// From classes already counted (by the audit engine's
    /// [`Classes`] analyser, [`Classes::counter`]).
    ///
    /// # Errors
    /// A value its hierarchy does not cover, or not one hierarchy per column.
    pub fn from_counter(
        counter: &ClassCounter,
        qi: &[String],
        hierarchies: &[Hierarchy],
    ) -> Result<Self, AnonymizeError> {
        if hierarchies.len() != qi.len() {
            return Err(AnonymizeError::Request(format!(
                "{} quasi-identifiers but {} hierarchies: every quasi-identifier needs one",
                qi.len(),
                hierarchies.len()
            )));
        }
        let mut columns = Vec::with_capacity(qi.len());
        for (i, (name, h)) in qi.iter().zip(hierarchies).enumerate() {
            columns.push(h.levels(name, &counter.values(i), counter.first_rows(i))?);
        }
        let (mut keys, mut counts, mut sensitive) = (Vec::new(), Vec::new(), Vec::new());
        let mut any_sensitive = false;
        counter.for_each_class(|k, n, s| {
            keys.extend_from_slice(k);
            counts.push(n);
            any_sensitive |= !s.is_empty();
            sensitive.push(s.to_vec());
        });
        Ok(Counted {
            names: qi.to_vec(),
            columns,
            keys,
            counts,
            sensitive: if any_sensitive { sensitive } else { Vec::new() },
            distribution: counter.sensitive_distribution(),
            rows: counter.rows(),
        })
    }

    /// The quasi-identifiers.
    pub fn names(&self) -> &[String] {
        &self.names
    }

    /// Each quasi-identifier's hierarchy on its values.
    pub fn columns(&self) -> &[ColumnLevels] {
        &self.columns
    }

    /// Records.
    pub fn rows(&self) -> u64 {
        self.rows
    }

    /// Distinct combinations of the quasi-identifiers.
    pub fn classes(&self) -> usize {
        self.counts.len()
    }

    /// Calls `f` with each distinct combination (a value id per
    /// quasi-identifier, the ids of [`ColumnLevels::generalize`]) and its
    /// count.
    pub fn for_each_class(&self, mut f: impl FnMut(&[u32], u64)) {
        let m = self.names.len().max(1);
        for (k, &n) in self.keys.chunks(m).zip(&self.counts) {
            f(k, n);
        }
    }
}
