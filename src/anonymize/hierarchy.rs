//! Generalization hierarchies: what each value of a quasi-identifier becomes
//! at each level, from ARX's CSV hierarchy files or from built-in rules.
//!
//! | spec | levels (0 is the value as written) |
//! |---|---|
//! | a file path (or `file:PATH`) | ARX's format: one row per value, `value;level1;...;levelN` |
//! | `date` | day (the value), `YYYY-MM`, `YYYY`, 5 years `1990-1994`, 10 years `1990-1999`, `*` |
//! | `interval:W1,W2,...` | the value, then integer intervals `lo-hi` of each width (each a multiple of the one before; decimals floored), `*` |
//! | `prefix` | the value, then one trailing character dropped per level (`04524`, `0452`, `045`, ...), `*` |
//! | `mask` | the value, then one more trailing character replaced by `*` per level (`Kim`, `Ki*`, `K**`), `*` |
//!
//! The last level of a built-in is `*` for every value. For `prefix` and
//! `mask` the number of levels is the length of the longest value plus one;
//! a value shorter than a level becomes `*` there.
//!
//! A hierarchy file is checked as it is read: every row has the same number
//! of fields, no field is empty, no value has two rows, and a label at one
//! level always has the same label at the next (otherwise the levels would
//! not nest and generalizing further could split a class). Errors name the
//! file, the row and the rule, never a value.
//!
//! # Example
//! ```
//! use deid::anonymize::hierarchy::HierarchySpec;
//! let h = "interval:5,10".parse::<HierarchySpec>().unwrap().load().unwrap();
//! let levels = h.levels("age", &[b"23".as_slice(), b"37".as_slice()], &[1, 2]).unwrap();
//! assert_eq!(levels.height(), 4); // 23, 20-24, 20-29, *
//! assert_eq!(levels.label(1, levels.generalize(1, 0)), b"20-24");
//! assert_eq!(levels.label(3, levels.generalize(3, 1)), b"*");
//! ```

use std::boxed::Box;
use std::fmt;
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::string::{String, ToString};
use std::vec::Vec;

use rustc_hash::FxHashMap;

use crate::io::chunk::ChunkReader;
use crate::io::error::InputErrorKind;
use crate::io::record::{CsvParser, CsvRecord};
use crate::io::table::Format;

use super::AnonymizeError;
use crate::date::Date;
use crate::transform::generalize::Generalization;

/// How a column is generalized, as written after `COL=` in `--hierarchy`.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub enum HierarchySpec {
    /// An ARX hierarchy file.
    File {
        /// The file.
        path: PathBuf,
        /// Field separator (`;` by default, as ARX writes them).
        delimiter: u8,
    },
    /// Day, month, year, 5 years, 10 years, `*`.
    Date,
    /// Integer intervals of these widths, then `*`.
    Interval(Vec<u64>),
    /// One trailing character dropped per level, then `*`.
    Prefix,
    /// One more trailing character replaced by `*` per level, then `*`.
    Mask,
}

impl FromStr for HierarchySpec {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        let file = |p: &str| HierarchySpec::File {
            path: PathBuf::from(p),
            delimiter: b';',
        };
        Ok(match s {
            "date" => HierarchySpec::Date,
            "prefix" => HierarchySpec::Prefix,
            "mask" => HierarchySpec::Mask,
            _ => {
                if let Some(w) = s.strip_prefix("interval:") {
                    let widths = w
                        .split(',')
                        .map(|x| x.trim().parse::<u64>().ok().filter(|v| *v > 0))
                        .collect::<Option<Vec<u64>>>()
                        .ok_or_else(|| {
                            "interval widths must be positive integers, e.g. interval:5,10,20"
                                .to_string()
                        })?;
                    for pair in widths.windows(2) {
                        if pair[1] % pair[0] != 0 {
                            return Err(format!(
                                "interval widths must nest: {} is not a multiple of {}",
                                pair[1], pair[0]
                            ));
                        }
                    }
                    HierarchySpec::Interval(widths)
                } else if let Some(p) = s.strip_prefix("file:") {
                    file(p)
                } else if s.is_empty() || s == "interval" {
                    return Err(
                        "expected a hierarchy file, date, interval:W1,W2,..., prefix or mask"
                            .to_string(),
                    );
                } else {
                    file(s)
                }
            }
        })
    }
}

impl fmt::Display for HierarchySpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            HierarchySpec::File { path, .. } => write!(f, "{}", path.display()),
            HierarchySpec::Date => f.write_str("date"),
            HierarchySpec::Interval(w) => {
                f.write_str("interval:")?;
                for (i, x) in w.iter().enumerate() {
                    if i > 0 {
                        f.write_str(",")?;
                    }
                    write!(f, "{x}")?;
                }
                Ok(())
            }
            HierarchySpec::Prefix => f.write_str("prefix"),
            HierarchySpec::Mask => f.write_str("mask"),
        }
    }
}

impl HierarchySpec {
    /// Reads the file of a file hierarchy (built-ins need nothing).
    ///
    /// # Errors
    /// An unreadable file, or one that breaks a rule of the format (the
    /// error names the file, the row and the rule).
    pub fn load(&self) -> Result<Hierarchy, AnonymizeError> {
        match self {
            HierarchySpec::File { path, delimiter } => {
                let bytes = std::fs::read(path).map_err(|e| {
                    AnonymizeError::hierarchy(path, None, format!("cannot read it: {e}"))
                })?;
                Ok(Hierarchy::File(HierarchyFile::parse(
                    path, &bytes, *delimiter,
                )?))
            }
            other => Ok(Hierarchy::Builtin(other.clone())),
        }
    }
}

/// A loaded hierarchy.
#[derive(Clone)]
#[non_exhaustive]
pub enum Hierarchy {
    /// From an ARX file.
    File(HierarchyFile),
    /// A built-in rule ([`HierarchySpec::Date`], `Interval`, `Prefix`, `Mask`).
    Builtin(HierarchySpec),
}

impl fmt::Debug for Hierarchy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Hierarchy::File(h) => h.fmt(f),
            Hierarchy::Builtin(s) => write!(f, "Hierarchy({s})"),
        }
    }
}

/// An ARX hierarchy file, checked.
#[derive(Clone)]
pub struct HierarchyFile {
    path: PathBuf,
    rows: Vec<Vec<Box<[u8]>>>,
    index: FxHashMap<Box<[u8]>, usize>,
}

impl fmt::Debug for HierarchyFile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Labels are data: sizes only.
        f.debug_struct("HierarchyFile")
            .field("path", &self.path)
            .field("rows", &self.rows.len())
            .field("height", &self.height())
            .finish()
    }
}

impl HierarchyFile {
    /// Parses and checks a hierarchy file's bytes.
    ///
    /// # Errors
    /// Ragged rows, empty fields, a value with two rows, a label whose next
    /// level differs between rows, malformed CSV, or no row.
    pub fn parse(path: &Path, bytes: &[u8], delimiter: u8) -> Result<Self, AnonymizeError> {
        // The input layer's CSV grammar (src/io/chunk.rs, src/io/record.rs),
        // as for every CSV deid reads: a BOM removed, a quote left open at
        // the end or closed before the field's end refused.
        let mut chunks = ChunkReader::new(bytes, Format::Csv, delimiter, bytes.len());
        let mut parser = CsvParser::new(delimiter);
        let mut rec = CsvRecord::new();
        let mut rows: Vec<Vec<Box<[u8]>>> = Vec::new();
        let mut index: FxHashMap<Box<[u8]>, usize> = FxHashMap::default();
        let mut line = 0u64;
        // Every refusal names the file and the row, never a value.
        let at = |row: u64, rule: String| AnonymizeError::hierarchy(path, Some(row), rule);
        loop {
            let chunk = match chunks.next_chunk() {
                Ok(Some(c)) => c,
                Ok(None) => break,
                Err(InputErrorKind::UnterminatedQuote) => {
                    return Err(at(
                        line + 1,
                        "malformed CSV: a quote is never closed".into(),
                    ));
                }
                Err(_) => {
                    return Err(at(
                        line + 1,
                        "malformed CSV: a record too long to read".into(),
                    ));
                }
            };
            parser.restart();
            let mut pos = 0;
            loop {
                let found = parser.read(&chunk, &mut pos, &mut rec).map_err(|_| {
                    at(
                        line + 1,
                        "malformed CSV: text between a closing quote and the delimiter".into(),
                    )
                })?;
                if !found {
                    break;
                }
                line += 1;
                // A record of one empty field (a line of just `""`): no value.
                if rec.len() == 1 && rec.get(0).is_some_and(<[u8]>::is_empty) {
                    continue;
                }
                if let Some(first) = rows.first() {
                    if rec.len() != first.len() {
                        return Err(at(
                            line,
                            format!(
                                "ragged row: {} levels where row 1 has {} (every value needs every level)",
                                rec.len(),
                                first.len()
                            ),
                        ));
                    }
                }
                if let Some(gap) = rec.iter().position(<[u8]>::is_empty) {
                    return Err(at(line, format!("gap: level {gap} is empty")));
                }
                let row: Vec<Box<[u8]>> = rec.iter().map(Into::into).collect();
                if let Some(&other) = index.get(&row[0]) {
                    return Err(at(
                        line,
                        format!("the value has a row already (row {})", other + 1),
                    ));
                }
                index.insert(row[0].clone(), rows.len());
                rows.push(row);
            }
        }
        if rows.is_empty() {
            return Err(AnonymizeError::hierarchy(path, None, "no row".to_string()));
        }
        // Each label at level i must have one parent at level i + 1.
        let height = rows[0].len();
        for level in 1..height.saturating_sub(1) {
            let mut parent: FxHashMap<&[u8], usize> = FxHashMap::default();
            for (r, row) in rows.iter().enumerate() {
                match parent.get(&row[level][..]) {
                    Some(&first) if rows[first][level + 1] != row[level + 1] => {
                        return Err(at(
                            r as u64 + 1,
                            format!(
                                "inconsistent levels: its level-{level} label is also in row {} with a different level-{} label (levels must nest)",
                                first + 1,
                                level + 1
                            ),
                        ));
                    }
                    Some(_) => {}
                    None => {
                        parent.insert(&row[level], r);
                    }
                }
            }
        }
        Ok(HierarchyFile {
            path: path.to_path_buf(),
            rows,
            index,
        })
    }

    /// Levels, the value's own included.
    pub fn height(&self) -> usize {
        self.rows.first().map_or(0, Vec::len)
    }

    /// Values (rows).
    pub fn len(&self) -> usize {
        self.rows.len()
    }

    /// Whether the file has no row (never, once parsed).
    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }
}

/// One column's hierarchy resolved on the values of the data: for each
/// level, the label id of each value, the labels, the label one level up,
/// and how many values of the domain each label covers (ARX's Loss metric).
#[derive(Clone)]
pub struct ColumnLevels {
    /// `generalize[level][value id]`: the label id at that level.
    generalize: Vec<Vec<u32>>,
    /// `labels[level][label id]`.
    labels: Vec<Vec<Box<[u8]>>>,
    /// `up[level][label id]`: its label id at `level + 1`.
    up: Vec<Vec<u32>>,
    /// `cover[level][label id]`: domain values under it.
    cover: Vec<Vec<u64>>,
    /// Values in the domain (hierarchy rows, or distinct values of the data).
    domain: u64,
}

impl fmt::Debug for ColumnLevels {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let sizes: Vec<usize> = self.labels.iter().map(Vec::len).collect();
        f.debug_struct("ColumnLevels")
            .field("labels_per_level", &sizes)
            .field("domain", &self.domain)
            .finish()
    }
}

impl ColumnLevels {
    /// Levels, the value's own (0) included.
    pub fn height(&self) -> usize {
        self.labels.len()
    }

    /// The label id of value `value` at `level`.
    pub fn generalize(&self, level: usize, value: u32) -> u32 {
        self.generalize[level][value as usize]
    }

    /// The label id at `level` of every value, indexed by value id.
    pub fn generalize_all(&self, level: usize) -> &[u32] {
        &self.generalize[level]
    }

    /// The label id at `level + 1` of label `id` at `level`.
    pub fn up(&self, level: usize, id: u32) -> u32 {
        self.up[level][id as usize]
    }

    /// The text of label `id` at `level`.
    pub fn label(&self, level: usize, id: u32) -> &[u8] {
        &self.labels[level][id as usize]
    }

    /// Labels at `level`.
    pub fn labels_at(&self, level: usize) -> usize {
        self.labels[level].len()
    }

    /// Domain values label `id` at `level` covers.
    pub fn cover(&self, level: usize, id: u32) -> u64 {
        self.cover[level][id as usize]
    }

    /// Values in the domain.
    pub fn domain(&self) -> u64 {
        self.domain
    }

    /// The label id at `level` of a label id at level `from` (≤ `level`).
    pub fn lift(&self, from: usize, level: usize, mut id: u32) -> u32 {
        for l in from..level {
            id = self.up[l][id as usize];
        }
        id
    }
}

impl Hierarchy {
    /// The highest level a rule may name: the file's last column, 5 for
    /// `date`, one past the widths for `interval`; `None` for `prefix` and
    /// `mask`, whose height follows the longest value of the data (a level
    /// at or past a value's length gives `*`).
    pub fn max_level(&self) -> Option<usize> {
        match self {
            Hierarchy::File(h) => Some(h.height().saturating_sub(1)),
            Hierarchy::Builtin(spec) => match spec {
                HierarchySpec::Prefix | HierarchySpec::Mask => None,
                other => Some(Self::builtin_height(other, 1) - 1),
            },
        }
    }

    /// Appends the label of one value at `level` to `out` (left as it was
    /// on an error): the label [`Hierarchy::levels`] gives it, from the
    /// same definitions.
    ///
    /// # Errors
    /// The rule the value breaks (no row in the file, not a date, not a
    /// number, not UTF-8, or a level above [`Hierarchy::max_level`]); never
    /// the value.
    pub fn label(&self, value: &[u8], level: usize, out: &mut Vec<u8>) -> Result<(), &'static str> {
        match self {
            Hierarchy::File(h) => {
                let r = *h.index.get(value).ok_or("no row in the hierarchy file")?;
                out.extend_from_slice(h.rows[r].get(level).ok_or("level above the hierarchy")?);
            }
            Hierarchy::Builtin(spec) => {
                let chars = std::str::from_utf8(value).map_or(value.len(), |s| s.chars().count());
                let height = Self::builtin_height(spec, chars.max(level));
                let labels = Self::builtin_labels(spec, value, height)?;
                out.extend_from_slice(labels.get(level).ok_or("level above the hierarchy")?);
            }
        }
        Ok(())
    }

    /// Levels of the hierarchy, given the longest value (for `prefix`, `mask`).
    fn builtin_height(spec: &HierarchySpec, longest: usize) -> usize {
        match spec {
            HierarchySpec::Date => 6,
            HierarchySpec::Interval(w) => w.len() + 2,
            HierarchySpec::Prefix | HierarchySpec::Mask => longest.max(1) + 1,
            HierarchySpec::File { .. } => 1,
        }
    }

    /// The labels of `value` at every level, for a built-in.
    fn builtin_labels(
        spec: &HierarchySpec,
        value: &[u8],
        height: usize,
    ) -> Result<Vec<Vec<u8>>, &'static str> {
        let mut out = Vec::with_capacity(height);
        out.push(value.to_vec());
        let mut buf = [0u8; 64];
        match spec {
            HierarchySpec::Date => {
                let (d, _) = Date::parse(value).map_err(|_| "not a date")?;
                let y = d.year();
                out.push(format!("{:04}-{:02}", y, d.month()).into_bytes());
                out.push(format!("{y:04}").into_bytes());
                for w in [5, 10] {
                    let lo = i64::from(y).div_euclid(w) * w;
                    out.push(format!("{lo}-{}", lo + w - 1).into_bytes());
                }
            }
            HierarchySpec::Interval(widths) => {
                for &width in widths {
                    let label = Generalization::Bucket { width }
                        .apply(value, &mut buf)
                        .map_err(|_| "not a number (or beyond the 64-bit range)")?;
                    out.push(label.to_vec());
                }
            }
            HierarchySpec::Prefix | HierarchySpec::Mask => {
                let s = std::str::from_utf8(value).map_err(|_| "not UTF-8")?;
                let chars: Vec<char> = s.chars().collect();
                for level in 1..height - 1 {
                    if level >= chars.len() {
                        out.push(b"*".to_vec());
                        continue;
                    }
                    let keep = chars.len() - level;
                    let mut t: String = chars[..keep].iter().collect();
                    if matches!(spec, HierarchySpec::Mask) {
                        t.extend(std::iter::repeat_n('*', level));
                    }
                    out.push(t.into_bytes());
                }
            }
            HierarchySpec::File { .. } => {}
        }
        out.push(b"*".to_vec());
        Ok(out)
    }

    /// Resolves the hierarchy on the distinct `values` of column `column`
    /// (ids are positions in `values`; `first_rows` the 1-based row each was
    /// first seen at, for errors).
    ///
    /// # Errors
    /// A value the hierarchy file has no row for, or one a built-in cannot
    /// take (not a date, not a number): the error names the column and the
    /// first row holding it, never the value.
    pub fn levels(
        &self,
        column: &str,
        values: &[&[u8]],
        first_rows: &[u64],
    ) -> Result<ColumnLevels, AnonymizeError> {
        let row_of = |i: usize| first_rows.get(i).copied();
        // Labels of each value at each level, then interned per level.
        let (height, per_value, domain_cover): (usize, Vec<Vec<Vec<u8>>>, Option<&HierarchyFile>) =
            match self {
                Hierarchy::File(h) => {
                    let mut per = Vec::with_capacity(values.len());
                    for (i, v) in values.iter().enumerate() {
                        let Some(&r) = h.index.get(*v) else {
                            return Err(AnonymizeError::Value {
                                column: column.to_string(),
                                row: row_of(i),
                                rule: format!(
                                    "the value has no row in hierarchy {}",
                                    h.path.display()
                                ),
                            });
                        };
                        per.push(h.rows[r].iter().map(|x| x.to_vec()).collect());
                    }
                    (h.height(), per, Some(h))
                }
                Hierarchy::Builtin(spec) => {
                    let longest = values
                        .iter()
                        .map(|v| std::str::from_utf8(v).map_or(v.len(), |s| s.chars().count()))
                        .max()
                        .unwrap_or(1);
                    let height = Self::builtin_height(spec, longest);
                    let mut per = Vec::with_capacity(values.len());
                    for (i, v) in values.iter().enumerate() {
                        per.push(Self::builtin_labels(spec, v, height).map_err(|why| {
                            AnonymizeError::Value {
                                column: column.to_string(),
                                row: row_of(i),
                                rule: format!("hierarchy {spec}: {why}"),
                            }
                        })?);
                    }
                    (height, per, None)
                }
            };
        let mut generalize = vec![Vec::with_capacity(values.len()); height];
        let mut labels: Vec<Vec<Box<[u8]>>> = vec![Vec::new(); height];
        let mut ids: Vec<FxHashMap<Vec<u8>, u32>> = vec![FxHashMap::default(); height];
        for labs in per_value {
            for (level, lab) in labs.into_iter().enumerate() {
                let n = labels[level].len() as u32;
                let id = *ids[level].entry(lab).or_insert_with_key(|k| {
                    labels[level].push(k.clone().into_boxed_slice());
                    n
                });
                generalize[level].push(id);
            }
        }
        let mut up: Vec<Vec<u32>> = (0..height.saturating_sub(1))
            .map(|l| vec![u32::MAX; labels[l].len()])
            .collect();
        for (l, pair) in generalize.windows(2).enumerate() {
            for (v, (&a, &b)) in pair[0].iter().zip(&pair[1]).enumerate() {
                let slot = &mut up[l][a as usize];
                if *slot != u32::MAX && *slot != b {
                    return Err(AnonymizeError::Value {
                        column: column.to_string(),
                        row: row_of(v),
                        rule: format!("the hierarchy's level {l} does not nest in level {}", l + 1),
                    });
                }
                *slot = b;
            }
        }
        // Cover: domain values under each label (the whole file's rows, or
        // the data's distinct values for a built-in).
        let mut cover: Vec<Vec<u64>> = labels.iter().map(|l| vec![0; l.len()]).collect();
        let domain = match domain_cover {
            Some(h) => {
                for row in &h.rows {
                    for (level, lab) in row.iter().enumerate() {
                        if let Some(&id) = ids[level].get(&lab[..]) {
                            cover[level][id as usize] += 1;
                        }
                    }
                }
                h.rows.len() as u64
            }
            None => {
                for (level, g) in generalize.iter().enumerate() {
                    for &id in g {
                        cover[level][id as usize] += 1;
                    }
                }
                values.len() as u64
            }
        };
        Ok(ColumnLevels {
            generalize,
            labels,
            up,
            cover,
            domain,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<HierarchyFile, String> {
        HierarchyFile::parse(Path::new("h.csv"), text.as_bytes(), b';').map_err(|e| e.to_string())
    }

    #[test]
    fn specs_parse() {
        assert_eq!("date".parse(), Ok(HierarchySpec::Date));
        assert_eq!(
            "interval:5,10,20".parse(),
            Ok(HierarchySpec::Interval(vec![5, 10, 20]))
        );
        assert!("interval:5,12".parse::<HierarchySpec>().is_err());
        assert!("interval:0".parse::<HierarchySpec>().is_err());
        assert_eq!(
            "file:date".parse(),
            Ok(HierarchySpec::File {
                path: "date".into(),
                delimiter: b';'
            })
        );
    }

    #[test]
    fn file_errors_name_row_and_rule() {
        let e = parse("a;x;*\nb;x\n").unwrap_err();
        assert!(e.contains("row 2") && e.contains("ragged"), "{e}");
        let e = parse("a;x;*\nb;;*\n").unwrap_err();
        assert!(e.contains("row 2") && e.contains("gap: level 1"), "{e}");
        let e = parse("a;x;*\nb;x;y\n").unwrap_err();
        assert!(
            e.contains("row 2") && e.contains("inconsistent") && e.contains("row 1"),
            "{e}"
        );
        let e = parse("a;x;*\na;y;*\n").unwrap_err();
        assert!(e.contains("row 2") && e.contains("row already"), "{e}");
        assert!(parse("").unwrap_err().contains("no row"));
        // Values never appear in errors.
        let e = parse("secret1;x;*\nsecret2;x;other\n").unwrap_err();
        assert!(!e.contains("secret") && !e.contains("other"), "{e}");
    }

    /// Hierarchy files are read with the same CSV grammar as every input
    /// (src/io/chunk.rs): what it refuses there, it refuses here, with the
    /// row; what it accepts (a BOM, quoted delimiters, CRLF, no final line
    /// end) reads the same.
    #[test]
    fn files_use_the_input_layers_csv_grammar() {
        let e = parse("a;x;*\n\"b\"c;x;*\n").unwrap_err();
        assert!(e.contains("row 2") && e.contains("closing quote"), "{e}");
        assert!(!e.contains("\"b\""), "the value is not echoed: {e}");
        let e = parse("a;x;*\nb;\"x;*\n").unwrap_err();
        assert!(e.contains("row 2") && e.contains("never closed"), "{e}");
        let h = parse("\u{feff}\"a;1\";x;*\r\n\"b\"\"\";x;*").unwrap();
        let values: Vec<&[u8]> = h.rows.iter().map(|r| &r[0][..]).collect();
        assert_eq!(values, [&b"a;1"[..], &b"b\""[..]]);
        assert_eq!(h.height(), 3);
    }

    #[test]
    fn file_levels_and_missing_values() {
        let h = Hierarchy::File(parse("a;x;*\nb;x;*\nc;y;*\n").unwrap());
        let l = h
            .levels("col", &[b"c".as_slice(), b"a".as_slice()], &[1, 2])
            .unwrap();
        assert_eq!(l.height(), 3);
        assert_eq!(l.label(1, l.generalize(1, 1)), b"x");
        assert_eq!(l.cover(1, l.generalize(1, 1)), 2); // a, b
        assert_eq!(l.domain(), 3);
        let e = h
            .levels("col", &[b"a".as_slice(), b"zz".as_slice()], &[1, 7])
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("row 7") && e.contains("col") && !e.contains("zz"),
            "{e}"
        );
    }

    fn labels(spec: &str, v: &str, all: &[&str]) -> Vec<String> {
        let h = spec.parse::<HierarchySpec>().unwrap().load().unwrap();
        let vals: Vec<&[u8]> = all.iter().map(|s| s.as_bytes()).collect();
        let l = h.levels("c", &vals, &[]).unwrap();
        let i = all.iter().position(|x| *x == v).unwrap() as u32;
        (0..l.height())
            .map(|lv| String::from_utf8(l.label(lv, l.generalize(lv, i)).to_vec()).unwrap())
            .collect()
    }

    /// `deid apply`'s per-value label is the search's label, level by level.
    #[test]
    fn label_equals_the_searchs_levels() {
        let file = Hierarchy::File(parse("a;x;*\nbb;x;*\nc;y;*\n").unwrap());
        let cases: [(Hierarchy, &[&str]); 5] = [
            (
                HierarchySpec::Date.load().unwrap(),
                &["1987-03-14", "2001-12-31"],
            ),
            (
                "interval:5,10,20"
                    .parse::<HierarchySpec>()
                    .unwrap()
                    .load()
                    .unwrap(),
                &["37", "-3", "0"],
            ),
            (
                HierarchySpec::Prefix.load().unwrap(),
                &["04524", "123", "", "김민준"],
            ),
            (HierarchySpec::Mask.load().unwrap(), &["Kim", "K", "Park"]),
            (file, &["a", "bb", "c"]),
        ];
        let mut out = Vec::new();
        for (h, values) in cases {
            let vals: Vec<&[u8]> = values.iter().map(|v| v.as_bytes()).collect();
            let l = h.levels("c", &vals, &[]).unwrap();
            for (i, v) in vals.iter().enumerate() {
                for level in 0..l.height() {
                    out.clear();
                    h.label(v, level, &mut out).unwrap();
                    assert_eq!(
                        out,
                        l.label(level, l.generalize(level, i as u32)),
                        "{h:?} {level}"
                    );
                }
            }
        }
    }

    #[test]
    fn builtins() {
        assert_eq!(
            labels("date", "1987-03-14", &["1987-03-14"]),
            [
                "1987-03-14",
                "1987-03",
                "1987",
                "1985-1989",
                "1980-1989",
                "*"
            ]
        );
        assert_eq!(
            labels("interval:5,10,20", "37", &["37"]),
            ["37", "35-39", "30-39", "20-39", "*"]
        );
        assert_eq!(
            labels("prefix", "04524", &["04524", "123"]),
            ["04524", "0452", "045", "04", "0", "*"]
        );
        assert_eq!(
            labels("prefix", "123", &["04524", "123"]),
            ["123", "12", "1", "*", "*", "*"]
        );
        assert_eq!(
            labels("mask", "김민준", &["김민준"]),
            ["김민준", "김민*", "김**", "*"]
        );
        let h = HierarchySpec::Date.load().unwrap();
        let e = h.levels("birth", &[b"x".as_slice()], &[4]).unwrap_err();
        assert!(e.to_string().contains("row 4") && e.to_string().contains("not a date"));
    }
}
