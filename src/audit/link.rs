//! Linkage attacks: records of a release matched to exactly one record of
//! an auxiliary file (a voter roll, a leaked customer list) on the columns
//! both share. A unique match names the person; with a ground-truth column
//! the share of correct matches is measured, not assumed.
//!
//! # Example
//! ```
//! use deid::audit::link::link;
//! use deid::io::table::{Format, TableOptions, TableReader};
//! let released = "zip,sex,dx\n04524,F,flu\n04524,M,hiv\n";
//! let aux = "name,zip,sex\nKim,04524,F\nLee,04524,M\nPark,04524,M\n";
//! let open = |t: &'static str| TableReader::from_reader(Box::new(t.as_bytes()), "x", Format::Csv, &TableOptions::new()).unwrap();
//! let r = link(&mut open(released), &mut open(aux), &["zip".into(), "sex".into()], None).unwrap();
//! assert_eq!(r.unique_matches, 1); // (04524, F) matches only Kim
//! assert_eq!(r.ambiguous, 1);
//! ```

use std::string::String;
use std::vec::Vec;

use rustc_hash::FxHashMap;
use serde::Serialize;

use crate::io::table::{InputError, Row, TableReader};

/// The outcome of a linkage attack. Counts only.
#[derive(Clone, Debug, Serialize)]
pub struct LinkReport {
    /// Columns matched on.
    pub on: Vec<String>,
    /// Records in the release.
    pub released_rows: u64,
    /// Records in the auxiliary file.
    pub auxiliary_rows: u64,
    /// Released records matching exactly one auxiliary record.
    pub unique_matches: u64,
    /// Released records matching several.
    pub ambiguous: u64,
    /// Released records matching none.
    pub unmatched: u64,
    /// `unique_matches / released_rows`.
    pub unique_match_share: f64,
    /// The ground-truth column, if given.
    pub truth: Option<String>,
    /// Unique matches whose ground truth agrees.
    pub correct: Option<u64>,
    /// `correct / released_rows`: records re-identified.
    pub correct_share: Option<f64>,
    /// `correct / unique_matches`.
    pub precision: Option<f64>,
}

/// Matches `released` against `auxiliary` on `on`; `truth` names a column
/// present in both that identifies the person (to score matches).
///
/// # Errors
/// A column is missing or the input cannot be read.
pub fn link(
    released: &mut TableReader,
    auxiliary: &mut TableReader,
    on: &[String],
    truth: Option<&str>,
) -> Result<LinkReport, InputError> {
    let aux_idx: Vec<usize> = on
        .iter()
        .map(|c| auxiliary.column_index(c))
        .collect::<Result<_, _>>()?;
    let aux_truth = truth.map(|t| auxiliary.column_index(t)).transpose()?;
    let rel_idx: Vec<usize> = on
        .iter()
        .map(|c| released.column_index(c))
        .collect::<Result<_, _>>()?;
    let rel_truth = truth.map(|t| released.column_index(t)).transpose()?;
    // Key → (records, truth of the first).
    let mut index: FxHashMap<Vec<Vec<u8>>, (u64, Vec<u8>)> = FxHashMap::default();
    let mut row = Row::new();
    let mut aux_rows = 0;
    while auxiliary.read_row(&mut row)? {
        aux_rows += 1;
        let key: Vec<Vec<u8>> = aux_idx
            .iter()
            .map(|&i| row.get(i).unwrap_or_default().to_vec())
            .collect();
        let t = aux_truth
            .map(|i| row.get(i).unwrap_or_default().to_vec())
            .unwrap_or_default();
        index.entry(key).or_insert((0, t)).0 += 1;
    }
    let (mut n, mut unique, mut ambiguous, mut unmatched, mut correct) =
        (0u64, 0u64, 0u64, 0u64, 0u64);
    let mut key: Vec<Vec<u8>> = Vec::with_capacity(on.len());
    while released.read_row(&mut row)? {
        n += 1;
        key.clear();
        key.extend(
            rel_idx
                .iter()
                .map(|&i| row.get(i).unwrap_or_default().to_vec()),
        );
        match index.get(&key) {
            Some((1, t)) => {
                unique += 1;
                if let Some(i) = rel_truth {
                    if row.get(i).unwrap_or_default() == &t[..] {
                        correct += 1;
                    }
                }
            }
            Some(_) => ambiguous += 1,
            None => unmatched += 1,
        }
    }
    let share = |a: u64, b: u64| if b == 0 { 0.0 } else { a as f64 / b as f64 };
    Ok(LinkReport {
        on: on.to_vec(),
        released_rows: n,
        auxiliary_rows: aux_rows,
        unique_matches: unique,
        ambiguous,
        unmatched,
        unique_match_share: share(unique, n),
        truth: truth.map(String::from),
        correct: truth.map(|_| correct),
        correct_share: truth.map(|_| share(correct, n)),
        precision: truth.map(|_| share(correct, unique)),
    })
}
