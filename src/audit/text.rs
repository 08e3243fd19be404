//! Identifiers left inside free text: an [`Analyser`] for the audit engine
//! that runs the free-text detectors (src/detect.rs) over columns of notes
//! and counts what it finds per type, with a few masked examples.
//!
//! `audit report` runs it on the columns a `no_identifiers_in_text` claim
//! names and on every column `scan` finds identifiers in; a finding refutes
//! the claim (src/audit/report/verdict.rs).
//!
//! # Example
//! ```
//! use deid::audit::engine;
//! use deid::audit::text::TextIdentifiers;
//! use deid::io::table::{Format, TableOptions, TableReader};
//! let csv = "id,memo\n1,\"고객 010-1234-5678 연락, 메일 kim@naver.com\"\n2,배송 지연\n";
//! let mut t = TableReader::from_reader(Box::new(csv.as_bytes()), "t.csv", Format::Csv, &TableOptions::new()).unwrap();
//! let mut text = TextIdentifiers::new(&["memo".into()]);
//! engine::run(&mut t, &mut [&mut text]).unwrap();
//! let f = &text.finish()[0];
//! assert_eq!((f.rows, f.rows_with_identifiers, f.identifiers), (2, 1, 2));
//! assert_eq!(f.per_type["phone:KR"], 1);
//! assert_eq!(f.masked_examples["phone:KR"], ["01*********78"]);
//! ```

use std::collections::BTreeMap;
use std::string::String;
use std::vec::Vec;

use serde::Serialize;

use super::engine::Analyser;
use crate::detect::Detectors;
use crate::io::InputError;
use crate::io::table::{Row, TableReader};
use crate::transform::mask::Mask;

/// Masked examples kept per type.
const EXAMPLES: usize = 3;

/// Identifiers found in one free-text column. Counts and masked examples
/// only.
#[derive(Clone, Serialize)]
pub struct TextFinding {
    /// Column.
    pub column: String,
    /// Rows read.
    pub rows: u64,
    /// Rows whose value holds at least one identifier.
    pub rows_with_identifiers: u64,
    /// Identifiers found.
    pub identifiers: u64,
    /// Identifiers per detector type (`phone:KR`, `email`, ...).
    pub per_type: BTreeMap<&'static str, u64>,
    /// Up to three per type, all but two characters at each end masked.
    pub masked_examples: BTreeMap<&'static str, Vec<String>>,
}

impl std::fmt::Debug for TextFinding {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TextFinding")
            .field("column", &self.column)
            .field("rows", &self.rows)
            .field("identifiers", &self.identifiers)
            .field("per_type", &self.per_type)
            .finish_non_exhaustive()
    }
}

/// The analyser: free-text detectors over the named columns.
#[derive(Debug)]
pub struct TextIdentifiers {
    idx: Vec<usize>,
    findings: Vec<TextFinding>,
}

impl TextIdentifiers {
    /// Looks inside these columns.
    pub fn new(columns: &[String]) -> Self {
        TextIdentifiers {
            idx: Vec::new(),
            findings: columns
                .iter()
                .map(|c| TextFinding {
                    column: c.clone(),
                    rows: 0,
                    rows_with_identifiers: 0,
                    identifiers: 0,
                    per_type: BTreeMap::new(),
                    masked_examples: BTreeMap::new(),
                })
                .collect(),
        }
    }

    /// What each column holds, in the order given.
    pub fn finish(self) -> Vec<TextFinding> {
        self.findings
    }
}

fn masked(v: &str) -> String {
    let m = Mask {
        keep_first: 2,
        keep_last: 2,
        mask_char: '*',
    };
    let mut buf = vec![0u8; 4 * v.len() + 4];
    m.apply(v.as_bytes(), &mut buf)
        .map(|b| String::from_utf8_lossy(b).into_owned())
        .unwrap_or_default()
}

impl Analyser for TextIdentifiers {
    fn bind(&mut self, table: &mut TableReader) -> Result<(), InputError> {
        self.idx = self
            .findings
            .iter()
            .map(|f| table.column_index(&f.column))
            .collect::<Result<_, _>>()?;
        Ok(())
    }

    fn row(&mut self, row: &Row) {
        for (f, &i) in self.findings.iter_mut().zip(&self.idx) {
            f.rows += 1;
            let raw = row.get(i).unwrap_or_default();
            // Text that is not UTF-8 is read as far as it is: identifiers in
            // it are still identifiers.
            let text = String::from_utf8_lossy(raw);
            let before = f.identifiers;
            Detectors::all().scan(&text, |m| {
                f.identifiers += 1;
                *f.per_type.entry(m.kind.name()).or_default() += 1;
                let ex = f.masked_examples.entry(m.kind.name()).or_default();
                if ex.len() < EXAMPLES {
                    ex.push(masked(&text[m.start..m.end]));
                }
            });
            if f.identifiers > before {
                f.rows_with_identifiers += 1;
            }
        }
    }
}
