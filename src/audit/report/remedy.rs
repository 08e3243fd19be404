//! What would fix a refuted claim, checked on the file itself: for
//! quasi-identifiers, the built-in generalizations tried column by column
//! (dates to year-month or year, numbers to buckets, codes to shorter
//! prefixes, a column dropped), each combination's k and the share of
//! records that would have to be suppressed to reach the claimed k.
//!
//! Generalizations are functions of a value, so the trial needs only the
//! distinct values of each column and the distinct combinations (the
//! classes) with their sizes: [`Trial`] collects them in the engine's one
//! pass and every combination is then counted from the classes, not the rows.

use std::collections::HashMap;
use std::string::{String, ToString};
use std::vec::Vec;

use serde::Serialize;

use crate::audit::engine::Analyser;
use crate::io::InputError;
use crate::io::table::{Row, TableReader};
use crate::scan::Kind;
use crate::transform::generalize::Generalization;

/// Share of records a remedy may suppress and still count as reaching k.
pub const MAX_SUPPRESSION: f64 = 0.05;

/// One step of a column's ladder.
#[derive(Clone, Debug)]
enum Step {
    Keep,
    Generalize(Generalization),
    Drop,
}

impl Step {
    fn label(&self) -> String {
        match self {
            Step::Keep => "kept".into(),
            Step::Drop => "dropped".into(),
            Step::Generalize(g) => match g {
                Generalization::Year => "to year".into(),
                Generalization::YearMonth => "to year-month".into(),
                Generalization::Bucket { width } => format!("to buckets of {width}"),
                Generalization::Prefix { keep } => format!("to its first {keep} characters"),
                _ => "generalized".into(),
            },
        }
    }

    /// The policy lines that apply this step to `column`.
    fn policy(&self, column: &str) -> Option<String> {
        let head = format!("[fields.{}]\n", toml_key(column));
        match self {
            Step::Keep => None,
            Step::Drop => Some(format!("{head}transform = \"drop\"\n")),
            Step::Generalize(g) => Some(match g {
                Generalization::Year => {
                    format!("{head}transform = \"generalize\"\nto = \"year\"\n")
                }
                Generalization::YearMonth => {
                    format!("{head}transform = \"generalize\"\nto = \"year-month\"\n")
                }
                Generalization::Bucket { width } => {
                    format!("{head}transform = \"generalize\"\nto = \"bucket\"\nwidth = {width}\n")
                }
                Generalization::Prefix { keep } => {
                    format!("{head}transform = \"generalize\"\nto = \"prefix\"\nkeep = {keep}\n")
                }
                _ => return None,
            }),
        }
    }
}

fn toml_key(c: &str) -> String {
    if !c.is_empty()
        && c.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
    {
        c.to_string()
    } else {
        format!("\"{}\"", c.replace('\\', "\\\\").replace('"', "\\\""))
    }
}

/// The ladder of built-in generalizations tried for a column of this kind,
/// least general first (always starting with the column kept and ending
/// with it dropped).
fn ladder(kind: Kind) -> Vec<Step> {
    let mut l = vec![Step::Keep];
    match kind {
        Kind::Date => {
            l.push(Step::Generalize(Generalization::YearMonth));
            l.push(Step::Generalize(Generalization::Year));
        }
        Kind::Number => {
            for width in [5, 10, 20] {
                l.push(Step::Generalize(Generalization::Bucket { width }));
            }
        }
        Kind::PostalCode => {
            for keep in [4, 3, 2, 1] {
                l.push(Step::Generalize(Generalization::Prefix { keep }));
            }
        }
        Kind::Text => {
            for keep in [3, 2, 1] {
                l.push(Step::Generalize(Generalization::Prefix { keep }));
            }
        }
        _ => {}
    }
    l.push(Step::Drop);
    l
}

/// Collects, in the engine's pass, the distinct values of each
/// quasi-identifier and the classes over them.
pub struct Trial {
    qi: Vec<String>,
    idx: Vec<usize>,
    values: Vec<HashMap<Vec<u8>, u32>>,
    classes: HashMap<Vec<u32>, u64>,
    key: Vec<u32>,
    rows: u64,
}

impl std::fmt::Debug for Trial {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Trial")
            .field("qi", &self.qi)
            .finish_non_exhaustive()
    }
}

impl Trial {
    /// A trial over these quasi-identifiers.
    pub fn new(qi: &[String]) -> Self {
        Trial {
            qi: qi.to_vec(),
            idx: Vec::new(),
            values: vec![HashMap::new(); qi.len()],
            classes: HashMap::new(),
            key: Vec::with_capacity(qi.len()),
            rows: 0,
        }
    }

    /// Tries every combination of the columns' ladders (`kinds` as scanned,
    /// one per quasi-identifier) for a claimed `k`: the options that reach
    /// it with at most [`MAX_SUPPRESSION`] suppressed, least loss first,
    /// then the best of those that do not.
    pub fn options(&self, kinds: &[Kind], k: u64) -> Vec<GeneralizationOption> {
        let out = self.all_options(kinds, k);
        // The cheapest few that reach k, then the closest that do not.
        let reach: Vec<_> = out
            .iter()
            .filter(|o| o.reaches_k)
            .take(3)
            .cloned()
            .collect();
        let mut miss: Vec<_> = out.into_iter().filter(|o| !o.reaches_k).collect();
        miss.sort_by(|a, b| a.suppressed_share.total_cmp(&b.suppressed_share));
        reach.into_iter().chain(miss.into_iter().take(3)).collect()
    }

    /// Every combination tried, those reaching k first, least loss first.
    fn all_options(&self, kinds: &[Kind], k: u64) -> Vec<GeneralizationOption> {
        // Per column, per step: value id -> generalized id (None: the step
        // fails on some value, so a policy with it would fail the export).
        let ladders: Vec<Vec<Step>> = kinds.iter().map(|&k| ladder(k)).collect();
        let mut maps: Vec<Vec<Option<Vec<u32>>>> = Vec::new();
        for (c, steps) in ladders.iter().enumerate() {
            let mut by_id: Vec<&[u8]> = vec![&[]; self.values[c].len()];
            for (v, &id) in &self.values[c] {
                by_id[id as usize] = v;
            }
            let mut col = Vec::new();
            for step in steps {
                col.push(map_step(step, &by_id));
            }
            maps.push(col);
        }
        let mut combos: Vec<Vec<usize>> = vec![Vec::new()];
        for steps in &ladders {
            let mut next = Vec::new();
            for c in &combos {
                for s in 0..steps.len() {
                    let mut c = c.clone();
                    c.push(s);
                    next.push(c);
                }
            }
            combos = next;
            if combos.len() > 4096 {
                break;
            }
        }
        let mut out = Vec::new();
        for combo in combos
            .iter()
            .filter(|c| c.len() == ladders.len() && c.iter().any(|&s| s > 0))
        {
            let Some(col_maps) = combo
                .iter()
                .enumerate()
                .map(|(c, &s)| maps[c][s].as_ref())
                .collect::<Option<Vec<_>>>()
            else {
                continue;
            };
            let mut counts: HashMap<Vec<u32>, u64> = HashMap::new();
            for (key, &n) in &self.classes {
                let g: Vec<u32> = key
                    .iter()
                    .zip(&col_maps)
                    .map(|(&id, m)| m[id as usize])
                    .collect();
                *counts.entry(g).or_default() += n;
            }
            let min = counts.values().copied().min().unwrap_or(0);
            let below: u64 = counts.values().filter(|&&n| n < k).sum();
            let loss: f64 = combo
                .iter()
                .zip(&ladders)
                .map(|(&s, l)| s as f64 / (l.len() - 1) as f64)
                .sum::<f64>()
                / combo.len() as f64;
            let suppressed = if self.rows == 0 {
                0.0
            } else {
                below as f64 / self.rows as f64
            };
            out.push(GeneralizationOption {
                steps: combo
                    .iter()
                    .zip(&ladders)
                    .zip(&self.qi)
                    .map(|((&s, l), c)| format!("{c} {}", l[s].label()))
                    .collect(),
                policy: combo
                    .iter()
                    .zip(&ladders)
                    .zip(&self.qi)
                    .filter_map(|((&s, l), c)| l[s].policy(c))
                    .collect::<Vec<_>>()
                    .join("\n"),
                k: min,
                classes: counts.len() as u64,
                suppressed_share: suppressed,
                reaches_k: suppressed <= MAX_SUPPRESSION,
                loss,
            });
        }
        out.sort_by(|a, b| {
            b.reaches_k
                .cmp(&a.reaches_k)
                .then(a.loss.total_cmp(&b.loss))
                .then(a.suppressed_share.total_cmp(&b.suppressed_share))
        });
        out
    }
}

fn map_step(step: &Step, values: &[&[u8]]) -> Option<Vec<u32>> {
    let mut ids: HashMap<Vec<u8>, u32> = HashMap::new();
    let mut out = Vec::with_capacity(values.len());
    let mut buf = vec![0u8; 64];
    for v in values {
        let g: Vec<u8> = match step {
            Step::Keep => v.to_vec(),
            Step::Drop => Vec::new(),
            Step::Generalize(g) => {
                let need = g.max_output_len(v.len());
                if buf.len() < need {
                    buf.resize(need, 0);
                }
                g.apply(v, &mut buf).ok()?.to_vec()
            }
        };
        let n = ids.len() as u32;
        out.push(*ids.entry(g).or_insert(n));
    }
    Some(out)
}

impl Analyser for Trial {
    fn bind(&mut self, table: &mut TableReader) -> Result<(), InputError> {
        self.idx = self
            .qi
            .iter()
            .map(|c| table.column_index(c))
            .collect::<Result<_, _>>()?;
        Ok(())
    }

    fn row(&mut self, row: &Row) {
        self.key.clear();
        for (m, &i) in self.values.iter_mut().zip(&self.idx) {
            let v = row.get(i).unwrap_or_default();
            let id = match m.get(v) {
                Some(&id) => id,
                None => {
                    let id = m.len() as u32;
                    m.insert(v.to_vec(), id);
                    id
                }
            };
            self.key.push(id);
        }
        match self.classes.get_mut(&self.key) {
            Some(n) => *n += 1,
            None => {
                self.classes.insert(self.key.clone(), 1);
            }
        }
        self.rows += 1;
    }
}

/// One combination of built-in generalizations and what it gives on this file.
#[derive(Clone, Debug, Serialize)]
pub struct GeneralizationOption {
    /// Each quasi-identifier's step (`birth_date to year`).
    pub steps: Vec<String>,
    /// The policy lines (`deid apply`) that make it.
    pub policy: String,
    /// k without suppression.
    pub k: u64,
    /// Classes.
    pub classes: u64,
    /// Share of records in classes smaller than the claimed k: suppressing
    /// them reaches k.
    pub suppressed_share: f64,
    /// Whether the claimed k is reached with at most [`MAX_SUPPRESSION`]
    /// of the records suppressed.
    pub reaches_k: bool,
    /// Mean generalization level over the quasi-identifiers, 0 (all kept)
    /// to 1 (all dropped).
    pub loss: f64,
}

/// A remedy for one refuted claim.
#[derive(Clone, Debug, Serialize)]
pub struct Remedy {
    /// The claim, as in the claims table.
    pub claim: String,
    /// What to do, in words.
    pub remedy: String,
    /// Policy lines for `deid apply`, when one fixes it.
    pub policy: Option<String>,
    /// Generalizations tried (k claims).
    pub options: Vec<GeneralizationOption>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::audit::engine;
    use crate::io::table::{Format, TableOptions};
    use std::boxed::Box;

    #[test]
    fn a_generalization_reaching_k_is_found_and_its_figures_are_exact() {
        // 8 records unique on (date, zip); year and a 2-digit prefix give
        // classes of 4.
        let mut csv = String::from("birth_date,zip\n");
        for (d, z) in [
            ("1980-01-02", "12345"),
            ("1980-03-04", "12399"),
            ("1980-05-06", "12011"),
            ("1980-07-08", "12876"),
            ("1990-01-02", "55345"),
            ("1990-03-04", "55399"),
            ("1990-05-06", "55011"),
            ("1990-07-08", "55876"),
        ] {
            csv.push_str(&format!("{d},{z}\n"));
        }
        let mut t = TableReader::from_reader(
            Box::new(std::io::Cursor::new(csv.into_bytes())),
            "t.csv",
            Format::Csv,
            &TableOptions::new(),
        )
        .unwrap();
        let mut trial = Trial::new(&["birth_date".into(), "zip".into()]);
        engine::run(&mut t, &mut [&mut trial]).unwrap();
        let all = trial.all_options(&[Kind::Date, Kind::PostalCode], 4);
        let find = |steps: [&str; 2]| all.iter().find(|x| x.steps == steps).unwrap();
        // Year and a 2-digit prefix: two classes of 4, nothing suppressed.
        let x = find(["birth_date to year", "zip to its first 2 characters"]);
        assert_eq!((x.k, x.classes, x.suppressed_share), (4, 2, 0.0));
        assert!(x.reaches_k);
        assert!(
            x.policy
                .contains("[fields.birth_date]\ntransform = \"generalize\"\nto = \"year\"")
        );
        assert!(x.policy.contains("to = \"prefix\"\nkeep = 2"));
        // Year alone: 2 classes of 4 as well, and less loss than dropping.
        let y = find(["birth_date to year", "zip kept"]);
        assert_eq!((y.k, y.suppressed_share), (1, 1.0));
        // Year-month and a 3-digit prefix: all 8 records still unique.
        let z = find(["birth_date to year-month", "zip to its first 3 characters"]);
        assert_eq!((z.k, z.classes), (1, 8));
        // The best option reaches k and is first.
        let best = &trial.options(&[Kind::Date, Kind::PostalCode], 4)[0];
        assert!(best.reaches_k && best.k >= 4);
    }
}
