//! The policy model (DESIGN.md, "Policy file"): which columns get which
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

use serde::Deserialize;

use crate::transform::FieldSpec;

/// What happens to columns the policy does not name.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize)]
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
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum OnError {
    /// Stop, write nothing, exit non-zero (the default).
    #[default]
    Fail,
    /// Leave the record out and count it in the summary.
    DropRecord,
}

/// A parsed, validated policy.
#[derive(Clone, Debug, PartialEq, Deserialize)]
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
    #[serde(default)]
    pub fields: BTreeMap<String, FieldSpec>,
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
            PolicyError::MissingSubject { field, subject } => {
                write!(
                    f,
                    "field '{field}' shifts dates by subject column '{subject}', which the input does not have"
                )
            }
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

    /// Checks the policy against an input's columns before anything is written.
    ///
    /// # Errors
    /// Missing policy columns, unlisted columns under `unlisted = "error"`,
    /// or a missing `dateshift` subject column.
    pub fn check_columns(&self, columns: &[String]) -> Result<(), PolicyError> {
        let missing: Vec<String> = self
            .fields
            .keys()
            .filter(|k| !columns.contains(k))
            .cloned()
            .collect();
        if !missing.is_empty() {
            return Err(PolicyError::MissingColumns(missing));
        }
        if self.unlisted == Unlisted::Error {
            let unlisted: Vec<String> = columns
                .iter()
                .filter(|c| !self.fields.contains_key(*c))
                .cloned()
                .collect();
            if !unlisted.is_empty() {
                return Err(PolicyError::UnlistedColumns(unlisted));
            }
        }
        for (field, spec) in &self.fields {
            if let crate::transform::TransformSpec::Dateshift { subject, .. } = &spec.transform {
                if !columns.contains(subject) {
                    return Err(PolicyError::MissingSubject {
                        field: field.clone(),
                        subject: subject.clone(),
                    });
                }
            }
        }
        Ok(())
    }

    /// A policy that keeps every column: the floor for benchmarks.
    pub fn keep_all() -> Self {
        Policy {
            version: 1,
            unlisted: Unlisted::Keep,
            on_error: OnError::Fail,
            fields: BTreeMap::new(),
        }
    }

    /// The fields whose transform is reversible (`encrypt`, `fpe`).
    pub fn reversible_fields(&self) -> impl Iterator<Item = (&String, &FieldSpec)> {
        self.fields
            .iter()
            .filter(|(_, s)| s.transform.kind().is_reversible())
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
