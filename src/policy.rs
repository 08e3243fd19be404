//! The policy model (docs/FORMAT.md, "Policy file"): which columns get which
//! transform, what happens to unlisted columns and to values that fail.
//!
//! ```toml
//! version = 1
//! unlisted = "keep"            # keep | drop | error
//! on_error = "fail"            # fail | drop-record
//!
//! [fields.phone]
//! normalize = ["phone:KR"]
//! transform = "pseudonymize"
//! context = "customer-phone"
//!
//! [fields.email]
//! normalize = ["email"]
//! transform = "encrypt"
//! mode = "deterministic"
//! ```
//!
//! # Example
//! ```
//! # #[cfg(feature = "std")] {
//! use deid::policy::{OnError, Policy};
//! let p = Policy::from_toml("version = 1\n[fields.name]\ntransform = \"drop\"\n").unwrap();
//! assert_eq!(p.on_error, OnError::Fail);
//! assert!(p.check_columns(&["name".into(), "city".into()]).is_ok());
//! assert!(p.check_columns(&["city".into()]).is_err());
//! # }
//! ```

use alloc::collections::BTreeMap;
use alloc::string::String;
use alloc::vec::Vec;
use core::fmt;

use serde::{Deserialize, Serialize};

use crate::transform::{FieldSpec, TransformSpec};

/// Whether values are protected or recovered.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Direction {
    /// Apply the policy's transforms (`deid apply`).
    Apply,
    /// Reverse `encrypt` and `fpe` fields (`deid decrypt`); other columns pass through.
    Decrypt,
}

/// What happens to one input column under a [`Binding`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ColumnAction {
    /// Copied unchanged.
    Keep,
    /// Removed from the output.
    Drop,
    /// Processed by the binding's field of this index.
    Field(usize),
}

/// A policy field bound to an input column.
#[derive(Clone, Copy, Debug)]
pub struct BoundField<'p> {
    /// The column name or dotted path.
    pub name: &'p str,
    /// Its transform.
    pub spec: &'p FieldSpec,
    /// Its index among the input's columns.
    pub column: usize,
    /// The index of its `dateshift` subject column, applying.
    pub subject: Option<usize>,
}

/// A policy bound to one input's columns in one direction: made by
/// [`Policy::bind`] after every check has passed.
#[derive(Clone, Debug)]
pub struct Binding<'p> {
    /// The fields processed, in policy order (only reversible ones when
    /// decrypting).
    pub fields: Vec<BoundField<'p>>,
    /// For each input column, in input order, what happens to it.
    pub columns: Vec<ColumnAction>,
    /// Names of the input columns removed from the output.
    pub dropped: Vec<String>,
    /// What happens to columns the policy does not name (always `Keep`
    /// when decrypting).
    pub unlisted: Unlisted,
    /// What happens to a record whose value cannot be transformed.
    pub on_error: OnError,
    /// Apply or decrypt.
    pub direction: Direction,
}

impl Binding<'_> {
    /// Compiles each bound field's transform with `keys`, in
    /// [`Binding::fields`] order: the one place a binding becomes
    /// [`FieldProcessor`](crate::field::FieldProcessor)s, for every format
    /// and both directions.
    ///
    /// # Errors
    /// [`PolicyError::UnknownKey`] for a field pinning a key `keys` does not
    /// hold; [`PolicyError::Field`] for options its primitive refuses. Both
    /// name the field, before any record is read.
    pub fn processors(
        &self,
        keys: &crate::key::Keyset,
    ) -> Result<Vec<crate::field::FieldProcessor>, PolicyError> {
        self.fields
            .iter()
            .map(|f| {
                crate::field::FieldProcessor::new(f.name, f.spec, keys).map_err(|e| match e {
                    crate::error::Error::UnknownKeyId(key) => PolicyError::UnknownKey {
                        field: f.name.into(),
                        key,
                    },
                    error => PolicyError::Field {
                        field: f.name.into(),
                        error,
                    },
                })
            })
            .collect()
    }
}

/// What happens to columns the policy does not name.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Unlisted {
    /// Copied unchanged (the default).
    #[default]
    Keep,
    /// Removed from the output.
    Drop,
    /// Refused: every column must be named (the safest choice for exports
    /// whose schema may grow).
    Error,
}

/// What happens to a record with a value that cannot be transformed.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum OnError {
    /// Stop, write nothing, exit non-zero (the default).
    #[default]
    Fail,
    /// Leave the record out and count it in the summary.
    DropRecord,
}

/// A parsed, validated policy. Serialized (e.g. with `toml`), it reads back
/// equal through [`Policy::from_toml`].
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Policy {
    /// Format version; only 1 exists.
    pub version: u32,
    /// Columns the policy does not name.
    #[serde(default)]
    pub unlisted: Unlisted,
    /// Values that cannot be transformed.
    #[serde(default)]
    pub on_error: OnError,
    /// Column name (CSV header, column number without a header, or dotted
    /// JSON path) to its transform.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub fields: BTreeMap<String, FieldSpec>,
    /// Record suppression (`[suppress]`): the records of classes that break
    /// a privacy model are left out, up to a limit.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub suppress: Option<SuppressSpec>,
}

/// A policy's `[suppress]` table: the quasi-identifiers (each a
/// `generalize` field with a `hierarchy`), the privacy models every
/// released class must satisfy, and the largest share of records that may
/// be left out. It names columns and thresholds, never a value.
/// docs/FORMAT.md ("Record suppression") and docs/ANONYMIZE.md define them.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SuppressSpec {
    /// The quasi-identifier columns whose generalized values form the classes.
    pub quasi_identifiers: Vec<String>,
    /// k-anonymity: classes of fewer records are suppressed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub k: Option<u64>,
    /// Distinct l-diversity of `sensitive`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub l: Option<u64>,
    /// Entropy l-diversity of `sensitive`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub entropy_l: Option<f64>,
    /// t-closeness of `sensitive`, equal ground distance.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub t: Option<f64>,
    /// t-closeness of `sensitive`, ordered ground distance.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ordered_t: Option<f64>,
    /// The sensitive column of l and t.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sensitive: Option<String>,
    /// Largest average prosecutor risk of the released records.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_risk: Option<f64>,
    /// Largest share of the records that may be suppressed (0 to 1); more
    /// and the run fails with nothing written.
    #[serde(default)]
    pub limit: f64,
}

/// Why a policy is unusable (names columns and options, never values).
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum PolicyError {
    /// The TOML is malformed or an option is wrong; the message carries the
    /// line and column from the parser.
    Parse(String),
    /// `version` is not 1.
    Version(u32),
    /// Policy columns absent from the input.
    MissingColumns(Vec<String>),
    /// Input columns absent from a policy with `unlisted = "error"`.
    UnlistedColumns(Vec<String>),
    /// The `[suppress]` table cannot be used as written (names the rule).
    Suppress(String),
    /// A field pins a key (`key = <id>`) that the keyset does not hold.
    UnknownKey {
        /// The field.
        field: String,
        /// The key id it pins.
        key: u32,
    },
    /// A field's options are refused by its transform's primitive (e.g. a
    /// `context` over 255 bytes).
    Field {
        /// The field.
        field: String,
        /// What the primitive refused.
        error: crate::error::Error,
    },
    /// A `dateshift` subject column absent from the input.
    MissingSubject {
        /// The dateshift field.
        field: String,
        /// The subject column it names.
        subject: String,
    },
}

impl fmt::Display for PolicyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PolicyError::Parse(m) => f.write_str(m),
            PolicyError::Version(v) => write!(
                f,
                "policy version {v} is not supported (expected version = 1)"
            ),
            PolicyError::MissingColumns(c) => write!(
                f,
                "the policy names columns the input does not have: {}",
                c.join(", ")
            ),
            PolicyError::UnlistedColumns(c) => {
                write!(
                    f,
                    "unlisted = \"error\" and the policy does not name these input columns: {}",
                    c.join(", ")
                )
            }
            PolicyError::Suppress(m) => write!(f, "[suppress]: {m}"),
            PolicyError::MissingSubject { field, subject } => {
                write!(
                    f,
                    "field '{field}' shifts dates by subject column '{subject}', which the input does not have"
                )
            }
            PolicyError::UnknownKey { field, key } => write!(
                f,
                "field '{field}' pins `key = {key}`, which the keyset does not hold"
            ),
            PolicyError::Field { field, error } => write!(f, "field '{field}': {error}"),
        }
    }
}

#[cfg(feature = "std")]
impl std::error::Error for PolicyError {}

impl Policy {
    /// Parses a TOML policy. Errors point at the line and column.
    ///
    /// # Errors
    /// [`PolicyError::Parse`] or [`PolicyError::Version`].
    #[cfg(feature = "std")]
    pub fn from_toml(text: &str) -> Result<Self, PolicyError> {
        let policy: Policy = toml::from_str(text)
            .map_err(|e| PolicyError::Parse(alloc::string::ToString::to_string(&e)))?;
        if policy.version != 1 {
            return Err(PolicyError::Version(policy.version));
        }
        Ok(policy)
    }

    /// Checks the policy against an input's columns before anything is
    /// written (applying). Same as [`Policy::bind`] without the result.
    ///
    /// # Errors
    /// As [`Policy::bind`].
    pub fn check_columns(&self, columns: &[String]) -> Result<(), PolicyError> {
        self.bind(columns, Direction::Apply).map(|_| ())
    }

    /// Binds the policy to an input's columns (CSV header names or the JSON
    /// leaf paths of the first record): the one place that decides what
    /// happens to each column, for every format and both directions.
    ///
    /// Applying, every policy field must be a column, a `dateshift` subject
    /// must be a column, and under `unlisted = "error"` every column must be
    /// named. Decrypting, the reversible fields must be columns and every
    /// other column passes through.
    ///
    /// # Errors
    /// [`PolicyError::MissingColumns`], [`PolicyError::UnlistedColumns`] or
    /// [`PolicyError::MissingSubject`].
    ///
    /// # Example
    /// ```
    /// # #[cfg(feature = "std")] {
    /// use deid::policy::{ColumnAction, Direction, Policy};
    /// let p = Policy::from_toml("version = 1\n[fields.name]\ntransform = \"drop\"\n[fields.phone]\ntransform = \"pseudonymize\"\n").unwrap();
    /// let cols = ["phone".into(), "name".into(), "city".into()];
    /// let b = p.bind(&cols, Direction::Apply).unwrap();
    /// assert_eq!(b.columns, [ColumnAction::Field(1), ColumnAction::Drop, ColumnAction::Keep]);
    /// assert_eq!(b.dropped, ["name"]);
    /// # }
    /// ```
    pub fn bind<'p>(
        &'p self,
        columns: &[String],
        direction: Direction,
    ) -> Result<Binding<'p>, PolicyError> {
        self.bind_with(columns, direction, false)
    }

    /// As [`Policy::bind`] for nested records (JSON Lines), whose columns are
    /// leaf paths: a policy path also covers every leaf below it (`customer`
    /// covers `customer.phone`), as the transform covers every value inside
    /// what the path reaches.
    ///
    /// # Errors
    /// As [`Policy::bind`].
    pub fn bind_paths<'p>(
        &'p self,
        leaves: &[String],
        direction: Direction,
    ) -> Result<Binding<'p>, PolicyError> {
        self.bind_with(leaves, direction, true)
    }

    /// Whether the policy path `field` covers the input column `column`.
    pub fn covers(field: &str, column: &str, nested: bool) -> bool {
        column == field
            || (nested
                && column.len() > field.len()
                && column.starts_with(field)
                && column.as_bytes()[field.len()] == b'.')
    }

    fn bind_with<'p>(
        &'p self,
        columns: &[String],
        direction: Direction,
        nested: bool,
    ) -> Result<Binding<'p>, PolicyError> {
        let position = |name: &str| columns.iter().position(|c| Self::covers(name, c, nested));
        let fields: Vec<(&String, &FieldSpec)> = match direction {
            Direction::Apply => self.fields.iter().collect(),
            Direction::Decrypt => self.reversible_fields().collect(),
        };
        let missing: Vec<String> = fields
            .iter()
            .filter(|(k, _)| position(k).is_none())
            .map(|(k, _)| (*k).clone())
            .collect();
        if !missing.is_empty() {
            return Err(PolicyError::MissingColumns(missing));
        }
        let unlisted = match direction {
            Direction::Apply => self.unlisted,
            Direction::Decrypt => Unlisted::Keep,
        };
        if unlisted == Unlisted::Error {
            let unlisted: Vec<String> = columns
                .iter()
                .filter(|c| !self.fields.keys().any(|f| Self::covers(f, c, nested)))
                .cloned()
                .collect();
            if !unlisted.is_empty() {
                return Err(PolicyError::UnlistedColumns(unlisted));
            }
        }
        let mut bound = Vec::with_capacity(fields.len());
        for (name, spec) in fields {
            let subject = match (&spec.transform, direction) {
                (TransformSpec::Dateshift { subject, .. }, Direction::Apply) => Some(
                    position(subject).ok_or_else(|| PolicyError::MissingSubject {
                        field: name.clone(),
                        subject: subject.clone(),
                    })?,
                ),
                _ => None,
            };
            bound.push(BoundField {
                name,
                spec,
                column: position(name).unwrap_or_default(),
                subject,
            });
        }
        let mut actions = alloc::vec![
            if unlisted == Unlisted::Drop {
                ColumnAction::Drop
            } else {
                ColumnAction::Keep
            };
            columns.len()
        ];
        for (i, f) in bound.iter().enumerate() {
            let action = if f.spec.transform.kind() == crate::transform::TransformKind::Drop {
                ColumnAction::Drop
            } else {
                ColumnAction::Field(i)
            };
            actions[f.column] = action;
            // Nested inputs: a path covers every leaf below it (`customer`
            // covers `customer.phone`), and each such leaf is the field's.
            if nested {
                for (a, c) in actions.iter_mut().zip(columns) {
                    if Self::covers(f.name, c, true) {
                        *a = action;
                    }
                }
            }
        }
        let dropped = columns
            .iter()
            .zip(&actions)
            .filter(|(_, a)| **a == ColumnAction::Drop)
            .map(|(c, _)| c.clone())
            .collect();
        Ok(Binding {
            fields: bound,
            columns: actions,
            dropped,
            unlisted,
            on_error: self.on_error,
            direction,
        })
    }

    /// A policy that keeps every column: the floor for benchmarks.
    pub fn keep_all() -> Self {
        Policy {
            version: 1,
            unlisted: Unlisted::Keep,
            on_error: OnError::Fail,
            fields: BTreeMap::new(),
            suppress: None,
        }
    }

    /// The fields whose transform is reversible (`encrypt`, `fpe`, `redact`
    /// with `replace = "token"`).
    pub fn reversible_fields(&self) -> impl Iterator<Item = (&String, &FieldSpec)> {
        self.fields
            .iter()
            .filter(|(_, s)| s.transform.is_reversible())
    }
}

impl Default for Policy {
    fn default() -> Self {
        Self::keep_all()
    }
}

#[cfg(all(test, feature = "std"))]
mod tests {
    use super::*;
    use alloc::string::ToString;

    #[test]
    fn processors_name_the_field_they_refuse() {
        use crate::key::{Keyset, MasterKey};
        let keys = Keyset::from_keys(alloc::vec![MasterKey::from_bytes(1, [1; 32])]).unwrap();
        let columns = ["acct".to_string(), "note".to_string()];
        let compile = |text: &str| {
            let policy = Policy::from_toml(text).unwrap();
            let binding = policy.bind(&columns, Direction::Apply).unwrap();
            binding.processors(&keys).map(|p| p.len())
        };
        let base = "version = 1\n[fields.note]\ntransform = \"keep\"\n[fields.acct]\ntransform = \"fpe\"\n";
        assert_eq!(compile(base), Ok(2));
        assert_eq!(compile(&(base.to_string() + "key = 1\n")), Ok(2));
        assert_eq!(
            compile(&(base.to_string() + "key = 9\n")),
            Err(PolicyError::UnknownKey {
                field: "acct".into(),
                key: 9
            })
        );
        // A hierarchy rule whose file was not loaded
        // (`deid::anonymize::load_hierarchies`) has nothing to look up.
        let unloaded = "version = 1\n[fields.acct]\ntransform = \"generalize\"\nhierarchy = \"h.csv\"\nlevel = 1\n";
        match compile(unloaded) {
            Err(PolicyError::Field { field, error }) => {
                assert_eq!(field, "acct");
                assert!(matches!(error, crate::error::Error::Config(_)), "{error:?}");
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn design_md_example_parses() {
        let text = r#"
version = 1
unlisted = "keep"
on_error = "fail"

[fields.phone]
normalize = ["phone:KR"]
transform = "pseudonymize"
context = "customer-phone"

[fields.email]
normalize = ["email"]
transform = "encrypt"
mode = "deterministic"

[fields.birth_date]
transform = "generalize"
to = "year"

[fields.name]
transform = "drop"

[fields."customer.address.zip"]
transform = "generalize"
to = "prefix"
keep = 3
"#;
        let p = Policy::from_toml(text).unwrap();
        assert_eq!(p.fields.len(), 5);
        assert!(p.fields.contains_key("customer.address.zip"));
        assert_eq!(p.reversible_fields().count(), 1);
    }

    #[test]
    fn errors_point_at_the_line() {
        let text = "version = 1\n\n[fields.phone]\ntransform = \"pseudonymize\"\nbytse = 16\n";
        let err = Policy::from_toml(text).unwrap_err().to_string();
        assert!(err.contains("line 3") || err.contains("line 5"), "{err}");
        assert!(err.contains("bytse"), "{err}");
        let err = Policy::from_toml("version = 2\n").unwrap_err();
        assert_eq!(err, PolicyError::Version(2));
        assert!(Policy::from_toml("version = 1\nunlisted = \"maybe\"\n").is_err());
        assert!(Policy::from_toml("version = 1\ncolour = 1\n").is_err());
    }

    #[test]
    fn column_checks() {
        let p = Policy::from_toml("version = 1\nunlisted = \"error\"\n[fields.a]\ntransform = \"keep\"\n[fields.d]\ntransform = \"dateshift\"\nsubject = \"id\"\n").unwrap();
        let cols = |c: &[&str]| c.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert_eq!(
            p.check_columns(&cols(&["a"])),
            Err(PolicyError::MissingColumns(alloc::vec!["d".into()]))
        );
        assert_eq!(
            p.check_columns(&cols(&["a", "d", "b"])),
            Err(PolicyError::UnlistedColumns(alloc::vec!["b".into()]))
        );
        assert!(matches!(
            p.check_columns(&cols(&["a", "d"])),
            Err(PolicyError::MissingSubject { .. })
        ));
    }
}
