//! One pass over an input feeding the analysers: the engine behind every
//! audit.
//!
//! The audits do not read files themselves. [`run`] reads a
//! [`TableReader`] once and hands every row to each [`Analyser`] (the shape
//! of ripgrep's searcher driving a sink): [`Digests`] collects the digests of
//! hashed columns for the reversal search, [`Classes`] counts equivalence
//! classes over quasi-identifiers (with a sensitive attribute and the
//! quasi-identifier search when asked). `audit hashes`, `audit risk` and
//! `audit report` are thin calls to it, so they agree by construction.
//!
//! [`measure_risk`] is the whole of `audit risk`: it chooses the parallel
//! class-size counter ([`crate::audit::risk::csv_class_sizes`])
//! when class sizes are all that is needed from a CSV file, and the
//! row-by-row pass otherwise (also whenever the fast path fails, so the error
//! names the row).
//!
//! # Example
//! ```
//! use deid::audit::engine::{self, Classes, Digests};
//! use deid::audit::risk::RiskOptions;
//! use deid::io::table::{Format, TableOptions, TableReader};
//! let csv = "zip,sex,h\n04524,F,5e884898da28047151d0e56f8dc6292773603d0d6aabbdd62a11ef721d1542d8\n04524,F,x\n";
//! let mut table =
//!     TableReader::from_reader(Box::new(csv.as_bytes()), "t.csv", Format::Csv, &TableOptions::new())
//!         .unwrap();
//! let mut classes = Classes::new(&["zip".into(), "sex".into()], None);
//! let mut digests = Digests::new(&["h".into()]);
//! let rows = engine::run(&mut table, &mut [&mut classes, &mut digests]).unwrap();
//! assert_eq!(rows, 2);
//! assert_eq!(classes.report(&RiskOptions::default()).k, 2);
//! assert_eq!(digests.finish()[0].digest_bytes(), Some(32));
//! ```

use std::collections::HashMap;
use std::fmt;
use std::path::{Path, PathBuf};
use std::string::{String, ToString};
use std::vec::Vec;

use super::hashes::ColumnTargets;
use super::progress::{Progress, RowCounter};
use super::risk::{
    ClassCounter, RiskOptions, RiskReport, csv_class_sizes, find_qi_counting, report_from_sizes,
};
use crate::io::InputError;
use crate::io::table::{Format, Row, TableOptions, TableReader};

/// Why an audit could not run: its input, or a request that cannot be
/// answered as asked. Never holds a field's value.
#[derive(Debug)]
#[non_exhaustive]
pub enum AuditError {
    /// An input could not be read.
    Input(InputError),
    /// The request cannot be answered as asked (a claim that cannot be
    /// tested, a population smaller than the sample, …).
    Request(String),
}

impl fmt::Display for AuditError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AuditError::Input(e) => write!(f, "{e}"),
            AuditError::Request(m) => f.write_str(m),
        }
    }
}

impl std::error::Error for AuditError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            AuditError::Input(e) => Some(e),
            AuditError::Request(_) => None,
        }
    }
}

impl From<InputError> for AuditError {
    fn from(e: InputError) -> Self {
        AuditError::Input(e)
    }
}

/// What the engine feeds: one analyser of rows.
pub trait Analyser {
    /// Resolves the columns the analyser reads, once, before the pass.
    ///
    /// # Errors
    /// A column the input does not have.
    fn bind(&mut self, table: &mut TableReader) -> Result<(), InputError>;

    /// Takes one row.
    fn row(&mut self, row: &Row);
}

/// Reads `table` to the end once, handing every row to each analyser.
/// Returns the number of rows.
///
/// # Errors
/// A column an analyser needs is missing, or the input is malformed (the
/// error names the row).
pub fn run(
    table: &mut TableReader,
    analysers: &mut [&mut dyn Analyser],
) -> Result<u64, InputError> {
    for a in analysers.iter_mut() {
        a.bind(table)?;
    }
    let mut row = Row::new();
    while table.read_row(&mut row)? {
        for a in analysers.iter_mut() {
            a.row(&row);
        }
    }
    Ok(table.row_number())
}

fn indices(table: &mut TableReader, names: &[String]) -> Result<Vec<usize>, InputError> {
    names.iter().map(|c| table.column_index(c)).collect()
}

/// Collects the digests of hashed columns, for
/// [`hashes::audit`](super::hashes::audit).
#[derive(Debug)]
pub struct Digests {
    columns: Vec<String>,
    idx: Vec<usize>,
    targets: Vec<ColumnTargets>,
}

impl Digests {
    /// Digests of these columns.
    pub fn new(columns: &[String]) -> Self {
        Digests {
            columns: columns.to_vec(),
            idx: Vec::new(),
            targets: columns.iter().map(|c| ColumnTargets::new(c)).collect(),
        }
    }

    /// Takes one record's values of the columns, in the order
    /// [`new`](Self::new) named them. What the engine does with each row of
    /// a table, for a caller that holds the values itself (the Python
    /// package's Arrow tables).
    pub fn add(&mut self, values: &[&[u8]]) {
        for (t, v) in self.targets.iter_mut().zip(values) {
            t.push(v);
        }
    }

    /// The targets of each column, in the order given, ready to search.
    pub fn finish(self) -> Vec<ColumnTargets> {
        self.targets
            .into_iter()
            .map(ColumnTargets::finish)
            .collect()
    }
}

impl Analyser for Digests {
    fn bind(&mut self, table: &mut TableReader) -> Result<(), InputError> {
        self.idx = indices(table, &self.columns)?;
        Ok(())
    }

    fn row(&mut self, row: &Row) {
        for (t, &i) in self.targets.iter_mut().zip(&self.idx) {
            t.push(row.get(i).unwrap_or_default());
        }
    }
}

/// Equivalence classes over quasi-identifiers, with an optional sensitive
/// attribute (l-diversity, t-closeness) and the quasi-identifier search.
pub struct Classes {
    qi: Vec<String>,
    sensitive: Option<String>,
    idx: Vec<usize>,
    sidx: Option<usize>,
    counter: ClassCounter,
    search: Option<QiSearch>,
}

/// For the quasi-identifier search: each QI column's values interned, row
/// by row, and the largest combination to rank.
struct QiSearch {
    max: usize,
    columns: Vec<Vec<u32>>,
    interners: Vec<HashMap<Vec<u8>, u32>>,
}

impl fmt::Debug for Classes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Classes")
            .field("qi", &self.qi)
            .field("sensitive", &self.sensitive)
            .finish_non_exhaustive()
    }
}

impl Classes {
    /// Classes over `qi`, with `sensitive` for diversity measures.
    pub fn new(qi: &[String], sensitive: Option<&str>) -> Self {
        Classes {
            qi: qi.to_vec(),
            sensitive: sensitive.map(ToString::to_string),
            idx: Vec::new(),
            sidx: None,
            counter: ClassCounter::new(qi.len(), sensitive.is_some()),
            search: None,
        }
    }

    /// Also ranks combinations of up to `max` of the quasi-identifiers by
    /// the records they make unique.
    pub fn with_qi_search(mut self, max: usize) -> Self {
        let n = self.qi.len();
        self.search = Some(QiSearch {
            max,
            columns: vec![Vec::new(); n],
            interners: vec![HashMap::new(); n],
        });
        self
    }

    /// Takes one record given as values: its quasi-identifiers in the
    /// order [`new`](Self::new) named them, and its sensitive attribute
    /// when there is one. What the engine does with each row of a table,
    /// for a caller that holds the values itself (the Python package's
    /// Arrow tables).
    pub fn add(&mut self, qi: &[&[u8]], sensitive: Option<&[u8]>) {
        self.counter.add(qi, sensitive);
        if let Some(s) = &mut self.search {
            for ((col, m), v) in s.columns.iter_mut().zip(s.interners.iter_mut()).zip(qi) {
                let n = m.len() as u32;
                col.push(*m.entry(v.to_vec()).or_insert(n));
            }
        }
    }

    /// The counter, for journalist risk against another counter.
    pub fn counter(&self) -> &ClassCounter {
        &self.counter
    }

    /// The risk report (with the QI search, if asked).
    pub fn report(&self, opts: &RiskOptions) -> RiskReport {
        self.report_with_progress(opts, &Progress::new())
    }

    /// [`report`](Self::report), the quasi-identifier search counted in
    /// `progress` (one per combination, of a known total).
    pub fn report_with_progress(&self, opts: &RiskOptions, progress: &Progress) -> RiskReport {
        let mut r = self.counter.report(&self.qi, opts);
        if let Some(s) = &self.search {
            let n = self.qi.len() as u64;
            // Combinations of 1 to max of the n columns.
            let mut total = 0u64;
            let mut c = 1u64;
            for k in 1..=(s.max as u64).min(n) {
                c = c.saturating_mul(n - k + 1) / k;
                total = total.saturating_add(c);
            }
            progress.stage(
                format!("ranking combinations of {} columns", n),
                "combinations",
                Some(total),
            );
            r.qi_search = find_qi_counting(&self.qi, &s.columns, s.max, progress.counter());
            r.qi_search.truncate(20);
        }
        r
    }
}

impl Analyser for Classes {
    fn bind(&mut self, table: &mut TableReader) -> Result<(), InputError> {
        self.idx = indices(table, &self.qi)?;
        self.sidx = self
            .sensitive
            .as_deref()
            .map(|s| table.column_index(s))
            .transpose()?;
        Ok(())
    }

    fn row(&mut self, row: &Row) {
        let vals: Vec<&[u8]> = self
            .idx
            .iter()
            .map(|&i| row.get(i).unwrap_or_default())
            .collect();
        self.add(&vals, self.sidx.map(|s| row.get(s).unwrap_or_default()));
    }
}

/// What `audit risk` measures.
#[derive(Clone, Debug, Default)]
pub struct RiskRequest {
    /// Quasi-identifiers (all columns when empty and `find_qi` is set).
    pub qi: Vec<String>,
    /// Sensitive attribute for l-diversity and t-closeness.
    pub sensitive: Option<String>,
    /// Sampling fraction or population size.
    pub options: RiskOptions,
    /// An identification file: journalist risk against its classes.
    pub population_file: Option<PathBuf>,
    /// Rank QI combinations up to this size.
    pub find_qi: Option<usize>,
    /// Threads for the parallel class counter.
    pub threads: usize,
}

/// Measures quasi-identifier risk on `input` (`-` for standard input).
///
/// # Errors
/// Unreadable or malformed input, a missing column, no quasi-identifier,
/// or a population file with fewer rows than the sample.
pub fn measure_risk(
    input: &Path,
    table_opts: &TableOptions,
    req: &RiskRequest,
) -> Result<RiskReport, AuditError> {
    measure_risk_with_progress(input, table_opts, req, &Progress::new())
}

/// [`measure_risk`], its stages (rows read, combinations ranked) counted in
/// `progress`.
///
/// # Errors
/// As [`measure_risk`].
pub fn measure_risk_with_progress(
    input: &Path,
    table_opts: &TableOptions,
    req: &RiskRequest,
    progress: &Progress,
) -> Result<RiskReport, AuditError> {
    let mut table = TableReader::open(Some(input), table_opts)?;
    let qi: Vec<String> = if req.qi.is_empty() && req.find_qi.is_some() {
        table.columns().to_vec()
    } else {
        req.qi.clone()
    };
    if qi.is_empty() {
        return Err(AuditError::Request(
            "no quasi-identifier to measure: name them (--qi) or search for them (--find-qi)"
                .into(),
        ));
    }
    let mut classes = Classes::new(&qi, req.sensitive.as_deref());
    if let Some(max) = req.find_qi {
        classes = classes.with_qi_search(max);
    }
    // Class sizes alone of a CSV file: counted on every core from hashed
    // records, by the engine's own choice.
    let sizes_only =
        req.sensitive.is_none() && req.population_file.is_none() && req.find_qi.is_none();
    if sizes_only && table.format() == Format::Csv && input != Path::new("-") {
        classes.bind(&mut table)?;
        if let Ok((sizes, _)) = std::fs::File::open(input).and_then(|mut f| {
            csv_class_sizes(
                &mut f,
                table_opts.get_delimiter(),
                table_opts.get_has_header(),
                &classes.idx,
                req.threads,
            )
        }) {
            return Ok(report_from_sizes(&sizes, &qi, &req.options));
        }
    }
    progress.stage(format!("reading {}", input.display()), "rows", None);
    let rows = run(&mut table, &mut [&mut classes, &mut RowCounter(progress)])?;
    let mut report = classes.report_with_progress(&req.options, progress);
    if let Some(pf) = &req.population_file {
        let mut pt = TableReader::open(Some(pf), table_opts)?;
        let mut population = Classes::new(&qi, None);
        let prows = run(&mut pt, &mut [&mut population])?;
        if prows < rows {
            return Err(AuditError::Request(std::format!(
                "{}: the population file has {prows} rows, fewer than the {rows} of the sample {}; journalist risk needs the population the sample was drawn from (or an identification file covering it), not a subset",
                pf.display(),
                input.display()
            )));
        }
        classes
            .counter()
            .journalist(&mut report, &population.counter().sizes_by_key());
    }
    Ok(report)
}
