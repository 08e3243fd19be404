//! Quasi-identifier risk, with ARX's definitions: equivalence classes,
//! prosecutor / journalist / marketer risk, population uniqueness (Pitman,
//! Zayatz, SNB, Dankar et al.'s rule), l-diversity and t-closeness, and a
//! search for the column combinations that single people out.
//!
//! Classes are counted in one streaming pass: values are interned per
//! column and each record becomes a key of small integers, so memory grows
//! with the number of distinct values and classes, not rows.
//!
//! # Example
//! ```
//! use deid::audit::risk::{ClassCounter, RiskOptions};
//! let mut c = ClassCounter::new(2, false);
//! for (zip, sex) in [("04524", "F"), ("04524", "F"), ("04524", "M"), ("48058", "F")] {
//!     c.add(&[zip.as_bytes(), sex.as_bytes()], None);
//! }
//! let r = c.report(&["zip".into(), "sex".into()], &RiskOptions::default());
//! assert_eq!(r.k, 1);
//! assert_eq!(r.classes, 3);
//! assert_eq!(r.prosecutor.average_risk, 0.75); // 3 classes / 4 records
//! assert_eq!(r.records_in_small_classes.size_1, 2);
//! ```

pub mod population;
pub mod stats;

use std::boxed::Box;
use std::collections::{BTreeMap, HashMap};
use std::string::String;
use std::vec::Vec;

use rustc_hash::FxHashMap;
use serde::Serialize;

pub use population::{Model, PopulationUniqueness};

/// What to compute besides the sample-based measures.
#[derive(Clone, Debug, Default)]
pub struct RiskOptions {
    /// Sampling fraction π (0 < π ≤ 1) for population uniqueness.
    pub sampling_fraction: Option<f64>,
    /// Population size N (π = n / N).
    pub population: Option<u64>,
}

/// Counts equivalence classes over quasi-identifier values.
pub struct ClassCounter {
    interners: Vec<FxHashMap<Box<[u8]>, u32>>,
    classes: FxHashMap<Box<[u32]>, Class>,
    sensitive_interner: FxHashMap<Box<[u8]>, u32>,
    with_sensitive: bool,
    key: Vec<u32>,
    rows: u64,
}

impl std::fmt::Debug for ClassCounter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The interners hold quasi-identifier and sensitive values: sizes only.
        let distinct: Vec<usize> = self.interners.iter().map(|m| m.len()).collect();
        f.debug_struct("ClassCounter")
            .field("rows", &self.rows)
            .field("classes", &self.classes.len())
            .field("distinct_values", &distinct)
            .field("with_sensitive", &self.with_sensitive)
            .field("distinct_sensitive", &self.sensitive_interner.len())
            .finish_non_exhaustive()
    }
}

#[derive(Debug, Default, Clone)]
struct Class {
    count: u64,
    sensitive: Option<FxHashMap<u32, u64>>,
}

impl ClassCounter {
    /// A counter for `qis` quasi-identifiers (and a sensitive attribute if `sensitive`).
    pub fn new(qis: usize, sensitive: bool) -> Self {
        ClassCounter {
            interners: (0..qis).map(|_| FxHashMap::default()).collect(),
            classes: FxHashMap::default(),
            sensitive_interner: FxHashMap::default(),
            with_sensitive: sensitive,
            key: Vec::with_capacity(qis),
            rows: 0,
        }
    }

    fn intern(map: &mut FxHashMap<Box<[u8]>, u32>, v: &[u8]) -> u32 {
        if let Some(&id) = map.get(v) {
            return id;
        }
        let id = map.len() as u32;
        map.insert(v.into(), id);
        id
    }

    /// Adds one record.
    pub fn add(&mut self, qi: &[&[u8]], sensitive: Option<&[u8]>) {
        self.key.clear();
        for (m, v) in self.interners.iter_mut().zip(qi) {
            self.key.push(Self::intern(m, v));
        }
        self.rows += 1;
        let s = sensitive
            .filter(|_| self.with_sensitive)
            .map(|v| Self::intern(&mut self.sensitive_interner, v));
        let class = match self.classes.get_mut(&self.key[..]) {
            Some(c) => c,
            None => self
                .classes
                .entry(self.key.clone().into_boxed_slice())
                .or_default(),
        };
        class.count += 1;
        if let Some(s) = s {
            *class
                .sensitive
                .get_or_insert_with(FxHashMap::default)
                .entry(s)
                .or_default() += 1;
        }
    }

    /// Records added.
    pub fn rows(&self) -> u64 {
        self.rows
    }

    /// Class sizes keyed by the records' QI values (for journalist risk and linkage).
    pub fn sizes_by_key(&self) -> HashMap<Vec<Vec<u8>>, u64> {
        let names: Vec<Vec<&[u8]>> = self
            .interners
            .iter()
            .map(|m| {
                let mut v = vec![&[][..]; m.len()];
                for (k, &id) in m {
                    v[id as usize] = k;
                }
                v
            })
            .collect();
        self.classes
            .iter()
            .map(|(k, c)| {
                (
                    k.iter()
                        .enumerate()
                        .map(|(i, &id)| names[i][id as usize].to_vec())
                        .collect(),
                    c.count,
                )
            })
            .collect()
    }

    /// The sizes of all classes.
    pub fn class_sizes(&self) -> Vec<u64> {
        self.classes.values().map(|c| c.count).collect()
    }

    /// Computes the report. `qi` names the columns.
    pub fn report(&self, qi: &[String], opts: &RiskOptions) -> RiskReport {
        let mut report = report_from_sizes(&self.class_sizes(), qi, opts);
        report.diversity = self.with_sensitive.then(|| self.diversity()).flatten();
        report
    }

    /// Journalist and marketer risk against an identification file: each
    /// sample class is sized by its matching class in `population` (at least
    /// its own size, since the sample is part of the population).
    pub fn journalist(&self, report: &mut RiskReport, population: &HashMap<Vec<Vec<u8>>, u64>) {
        let n = self.rows as f64;
        let mut min_f = u64::MAX;
        let mut sum = 0.0;
        let sample = self.sizes_by_key();
        let mut sizes = Vec::with_capacity(sample.len());
        for (key, f) in &sample {
            let big_f = population.get(key).copied().unwrap_or(0).max(*f);
            min_f = min_f.min(big_f);
            sum += *f as f64 / big_f as f64;
            sizes.push((*f, big_f));
        }
        let at = sizes
            .iter()
            .filter(|(_, big)| *big == min_f)
            .map(|(f, _)| *f)
            .sum::<u64>();
        let j = Risk {
            highest_risk: if min_f == u64::MAX {
                0.0
            } else {
                1.0 / min_f as f64
            },
            records_at_highest_risk: at as f64 / n,
            average_risk: sum / n,
        };
        report.marketer_risk = j.average_risk;
        report.journalist = Some(JournalistRisk {
            risk: j,
            population_rows: population.values().sum(),
        });
    }

    fn diversity(&self) -> Option<Diversity> {
        // The overall distribution of the sensitive attribute.
        let mut overall: FxHashMap<u32, u64> = FxHashMap::default();
        for c in self.classes.values() {
            for (v, n) in c.sensitive.iter().flatten() {
                *overall.entry(*v).or_default() += n;
            }
        }
        if overall.is_empty() {
            return None;
        }
        // Ordered distance: values in numeric order when all parse, else text order.
        let mut names: Vec<(u32, &[u8])> = self
            .sensitive_interner
            .iter()
            .map(|(k, v)| (*v, &k[..]))
            .collect();
        let numeric: Option<Vec<f64>> = names
            .iter()
            .map(|(_, n)| {
                std::str::from_utf8(n)
                    .ok()
                    .and_then(|s| s.trim().parse::<f64>().ok())
            })
            .collect();
        match numeric {
            Some(nums) => {
                let mut z: Vec<((u32, &[u8]), f64)> = names.into_iter().zip(nums).collect();
                z.sort_by(|a, b| a.1.total_cmp(&b.1));
                names = z.into_iter().map(|(n, _)| n).collect();
            }
            None => names.sort_by(|a, b| a.1.cmp(b.1)),
        }
        let order: Vec<u32> = names.iter().map(|(id, _)| *id).collect();
        let total: u64 = overall.values().sum();
        let q: Vec<f64> = order
            .iter()
            .map(|v| overall.get(v).copied().unwrap_or(0) as f64 / total as f64)
            .collect();
        let m = order.len();
        let (mut distinct_l, mut entropy_l, mut recursive_c, mut t_eq, mut t_ord) =
            (u64::MAX, f64::INFINITY, 0.0f64, 0.0f64, 0.0f64);
        for c in self.classes.values() {
            let Some(s) = &c.sensitive else { continue };
            let size = c.count as f64;
            distinct_l = distinct_l.min(s.len() as u64);
            let h: f64 = s
                .values()
                .map(|&k| {
                    let p = k as f64 / size;
                    -p * p.ln()
                })
                .sum();
            entropy_l = entropy_l.min(h.exp());
            let mut counts: Vec<u64> = s.values().copied().collect();
            counts.sort_unstable_by(|a, b| b.cmp(a));
            // Recursive (c,2)-diversity: r1 < c (r2 + ... + rm).
            let tail: u64 = counts.iter().skip(1).sum();
            recursive_c = recursive_c.max(if tail == 0 {
                f64::INFINITY
            } else {
                counts[0] as f64 / tail as f64
            });
            let p: Vec<f64> = order
                .iter()
                .map(|v| s.get(v).copied().unwrap_or(0) as f64 / size)
                .collect();
            let eq: f64 = 0.5 * p.iter().zip(&q).map(|(a, b)| (a - b).abs()).sum::<f64>();
            t_eq = t_eq.max(eq);
            if m > 1 {
                let mut acc = 0.0;
                let mut ord = 0.0;
                for (a, b) in p.iter().zip(&q) {
                    acc += a - b;
                    ord += acc.abs();
                }
                t_ord = t_ord.max(ord / (m - 1) as f64);
            }
        }
        Some(Diversity {
            distinct_l,
            entropy_l,
            recursive_c_for_l2: recursive_c,
            t_closeness_equal_distance: t_eq,
            t_closeness_ordered_distance: t_ord,
            distinct_values: m as u64,
        })
    }
}

/// Prosecutor-style risk figures.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct Risk {
    /// 1 / size of the smallest class.
    pub highest_risk: f64,
    /// Share of records in classes at that highest risk.
    pub records_at_highest_risk: f64,
    /// Mean of 1 / class size over records.
    pub average_risk: f64,
}

/// Journalist risk against an identification file.
#[derive(Clone, Debug, Serialize)]
pub struct JournalistRisk {
    /// The figures.
    #[serde(flatten)]
    pub risk: Risk,
    /// Rows of the identification file.
    pub population_rows: u64,
}

/// One bar of the class-size histogram.
#[derive(Clone, Debug, Serialize)]
pub struct ClassBin {
    /// Class size.
    pub size: u64,
    /// Classes of that size.
    pub classes: u64,
    /// Records in them.
    pub records: u64,
}

/// Records in small classes.
#[derive(Clone, Debug, Serialize)]
pub struct SmallClasses {
    /// Records alone in their class (sample uniques).
    pub size_1: u64,
    /// Records in classes of size 2.
    pub size_2: u64,
    /// Records in classes smaller than 5.
    pub below_5: u64,
    /// Records in classes smaller than 10.
    pub below_10: u64,
    /// `size_1 / rows`.
    pub share_size_1: f64,
    /// `below_5 / rows`.
    pub share_below_5: f64,
    /// `below_10 / rows`.
    pub share_below_10: f64,
}

/// Diversity of a sensitive attribute within classes.
#[derive(Clone, Debug, Serialize)]
pub struct Diversity {
    /// Distinct l-diversity: fewest distinct sensitive values in a class.
    pub distinct_l: u64,
    /// Entropy l-diversity: smallest exp(entropy) of a class.
    pub entropy_l: f64,
    /// Smallest c for which recursive (c,2)-diversity holds (r1 < c·(r2+…)).
    pub recursive_c_for_l2: f64,
    /// t-closeness, equal ground distance (largest EMD of a class).
    pub t_closeness_equal_distance: f64,
    /// t-closeness, ordered distance (values in numeric or text order).
    pub t_closeness_ordered_distance: f64,
    /// Distinct sensitive values overall.
    pub distinct_values: u64,
}

/// A combination of columns and how many records it makes unique.
#[derive(Clone, Debug, Serialize)]
pub struct QiCombination {
    /// The columns.
    pub columns: Vec<String>,
    /// Records unique on them.
    pub unique_records: u64,
    /// `unique_records / rows`.
    pub unique_share: f64,
    /// Equivalence classes.
    pub classes: u64,
}

/// Everything `deid audit risk` measures. Counts and shares only.
#[derive(Clone, Debug, Serialize)]
pub struct RiskReport {
    /// The quasi-identifiers.
    pub quasi_identifiers: Vec<String>,
    /// Records.
    pub rows: u64,
    /// Equivalence classes.
    pub classes: u64,
    /// k: size of the smallest class.
    pub k: u64,
    /// Size of the largest class.
    pub largest_class: u64,
    /// Class-size histogram.
    pub histogram: Vec<ClassBin>,
    /// Records in classes of size 1, 2, < 5, < 10.
    pub records_in_small_classes: SmallClasses,
    /// Prosecutor risk (ARX's sample-based re-identification risk).
    pub prosecutor: Risk,
    /// Journalist risk, with an identification file.
    pub journalist: Option<JournalistRisk>,
    /// Marketer risk: expected share of records re-identified.
    pub marketer_risk: f64,
    /// Share of records unique in the sample.
    pub sample_uniqueness: f64,
    /// Population uniqueness models, with a sampling fraction or population size.
    pub population_uniqueness: Option<PopulationUniqueness>,
    /// l-diversity and t-closeness, with a sensitive attribute.
    pub diversity: Option<Diversity>,
    /// Column combinations ranked by records made unique (`--find-qi`).
    pub qi_search: Vec<QiCombination>,
}

/// Ranks the combinations of up to `max` of `columns` (given as per-row
/// value ids) by the records they make unique.
pub fn find_qi(names: &[String], columns: &[Vec<u32>], max: usize) -> Vec<QiCombination> {
    let rows = columns.first().map_or(0, Vec::len);
    let mut out = Vec::new();
    let n = names.len();
    let mut combos: Vec<Vec<usize>> = (0..n).map(|i| vec![i]).collect();
    let mut frontier = combos.clone();
    for _ in 1..max.min(n) {
        let mut next = Vec::new();
        for c in &frontier {
            for j in c.last().map_or(0, |l| l + 1)..n {
                let mut d = c.clone();
                d.push(j);
                next.push(d);
            }
        }
        combos.extend(next.iter().cloned());
        frontier = next;
    }
    for combo in combos {
        let mut counts: FxHashMap<Vec<u32>, u32> = FxHashMap::default();
        #[allow(clippy::needless_range_loop)] // one row across several columns
        for r in 0..rows {
            *counts
                .entry(combo.iter().map(|&c| columns[c][r]).collect())
                .or_default() += 1;
        }
        let unique = counts.values().filter(|&&c| c == 1).count() as u64;
        out.push(QiCombination {
            columns: combo.iter().map(|&c| names[c].clone()).collect(),
            unique_records: unique,
            unique_share: if rows == 0 {
                0.0
            } else {
                unique as f64 / rows as f64
            },
            classes: counts.len() as u64,
        });
    }
    out.sort_by(|a, b| {
        b.unique_records
            .cmp(&a.unique_records)
            .then(a.columns.len().cmp(&b.columns.len()))
    });
    out
}

/// The sample-based measures and population models from class sizes alone
/// (from [`csv_class_sizes`] or [`ClassCounter::class_sizes`]): everything
/// but diversity and journalist risk, which need the records' values.
pub fn report_from_sizes(sizes: &[u64], qi: &[String], opts: &RiskOptions) -> RiskReport {
    let n: u64 = sizes.iter().sum();
    let mut hist: BTreeMap<u64, u64> = BTreeMap::new();
    for &s in sizes {
        *hist.entry(s).or_default() += 1;
    }
    let k = hist.keys().next().copied().unwrap_or(0);
    let share = |a: u64| if n == 0 { 0.0 } else { a as f64 / n as f64 };
    let records_below = |limit: u64| {
        hist.iter()
            .filter(|(s, _)| **s < limit)
            .map(|(s, c)| s * c)
            .sum::<u64>()
    };
    let classes = sizes.len() as u64;
    let at_k = hist.get(&k).map_or(0, |c| c * k);
    let prosecutor = Risk {
        highest_risk: if k == 0 { 0.0 } else { 1.0 / k as f64 },
        records_at_highest_risk: share(at_k),
        average_risk: share(classes),
    };
    let pi = opts
        .sampling_fraction
        .or_else(|| opts.population.map(|p| n as f64 / p as f64))
        .filter(|p| *p > 0.0 && *p <= 1.0);
    let population = pi
        .filter(|_| n > 0)
        .map(|pi| population::estimate(&hist, n, pi));
    RiskReport {
        quasi_identifiers: qi.to_vec(),
        rows: n,
        classes,
        k,
        largest_class: hist.keys().next_back().copied().unwrap_or(0),
        histogram: hist
            .iter()
            .map(|(s, c)| ClassBin {
                size: *s,
                classes: *c,
                records: s * c,
            })
            .collect(),
        records_in_small_classes: SmallClasses {
            size_1: records_below(2),
            size_2: hist.get(&2).map_or(0, |c| 2 * c),
            below_5: records_below(5),
            below_10: records_below(10),
            share_size_1: share(records_below(2)),
            share_below_5: share(records_below(5)),
            share_below_10: share(records_below(10)),
        },
        prosecutor: prosecutor.clone(),
        journalist: None,
        marketer_risk: prosecutor.average_risk,
        sample_uniqueness: share(records_below(2)),
        population_uniqueness: population,
        diversity: None,
        qi_search: Vec::new(),
    }
}

/// Class sizes of a CSV file over the columns `qi` (indices), counted on
/// `threads` cores. A reader cuts the file at record boundaries; parsers
/// hash each record's QI values (xxh3, 128 bits) and hand every hash to the
/// counter that owns its partition (by the hash's top bits), so each class
/// is counted in exactly one map and nothing is merged at the end. Exact
/// but for 128-bit hash collisions (below 10^-20 for 10^9 classes). Memory
/// follows the number of classes (about 32 bytes a class) plus the chunks
/// in flight. Returns the class sizes and the number of records.
///
/// # Errors
/// Reading failed, or a record is malformed or has fewer fields than a QI
/// index (the caller can rerun a row-by-row reader to name the row).
pub fn csv_class_sizes(
    input: &mut dyn std::io::Read,
    delimiter: u8,
    has_header: bool,
    qi: &[usize],
    threads: usize,
) -> std::io::Result<(Vec<u64>, u64)> {
    class_sizes_in_chunks(input, delimiter, has_header, qi, threads, 8 << 20)
}

fn class_sizes_in_chunks(
    input: &mut dyn std::io::Read,
    delimiter: u8,
    has_header: bool,
    qi: &[usize],
    threads: usize,
    chunk_bytes: usize,
) -> std::io::Result<(Vec<u64>, u64)> {
    use std::io::{Error, ErrorKind};
    let threads = threads.max(1);
    // Partition of a hash: its top bits, over a power of two >= threads.
    let parts = threads.next_power_of_two();
    let part_of = |h: u128| (h >> (128 - parts.trailing_zeros().max(1))) as usize % parts;
    let (tx, rx) = crossbeam_channel::bounded::<Vec<u8>>(threads * 2);
    let counters: Vec<_> = (0..parts)
        .map(|_| crossbeam_channel::bounded::<Vec<u128>>(threads * 4))
        .collect();
    let mut parsed: Vec<std::io::Result<u64>> = Vec::new();
    let mut counted: Vec<Vec<u64>> = Vec::new();
    let mut read_result: std::io::Result<()> = Ok(());
    // Fields per record: the header's (or the first record's), set by the
    // reader before any chunk is sent.
    let width = std::sync::atomic::AtomicUsize::new(0);
    std::thread::scope(|s| {
        let count_handles: Vec<_> = counters
            .iter()
            .map(|(_, crx)| {
                let crx = crx.clone();
                s.spawn(move || {
                    let mut counts: FxHashMap<u128, u32> = FxHashMap::default();
                    while let Ok(batch) = crx.recv() {
                        for h in batch {
                            *counts.entry(h).or_default() += 1;
                        }
                    }
                    counts.into_values().map(u64::from).collect::<Vec<u64>>()
                })
            })
            .collect();
        let senders: Vec<_> = counters.iter().map(|(ctx, _)| ctx.clone()).collect();
        drop(counters);
        let parse_handles: Vec<_> = (0..threads)
            .map(|_| {
                let rx = rx.clone();
                let senders = senders.clone();
                let width = &width;
                s.spawn(move || -> std::io::Result<u64> {
                    let mut rows = 0u64;
                    let mut parser = crate::io::record::CsvParser::new(delimiter);
                    let mut rec = crate::io::record::CsvRecord::new();
                    let mut key = Vec::with_capacity(256);
                    while let Ok(chunk) = rx.recv() {
                        let mut out: Vec<Vec<u128>> = (0..parts)
                            .map(|_| Vec::with_capacity(chunk.len() / 64 / parts))
                            .collect();
                        parser.restart();
                        let mut pos = 0;
                        while parser.read(&chunk, &mut pos, &mut rec) {
                            if rec.len() != width.load(std::sync::atomic::Ordering::Acquire) {
                                return Err(Error::new(
                                    ErrorKind::InvalidData,
                                    "a row has a different number of fields than the header",
                                ));
                            }
                            key.clear();
                            for &i in qi {
                                key.extend_from_slice(rec.get(i).unwrap_or_default());
                                key.push(0x1f);
                            }
                            let h = xxhash_rust::xxh3::xxh3_128(&key);
                            out[part_of(h)].push(h);
                            rows += 1;
                        }
                        for (p, batch) in out.into_iter().enumerate() {
                            if !batch.is_empty() && senders[p].send(batch).is_err() {
                                return Err(Error::other("a counting thread stopped"));
                            }
                        }
                    }
                    Ok(rows)
                })
            })
            .collect();
        drop(senders);
        drop(rx);
        read_result = read_chunks(input, delimiter, has_header, chunk_bytes, qi, &width, &tx);
        drop(tx);
        parsed = parse_handles
            .into_iter()
            .map(|h| {
                h.join()
                    .unwrap_or_else(|_| Err(Error::other("a parsing thread failed")))
            })
            .collect();
        counted = count_handles
            .into_iter()
            .map(|h| h.join().unwrap_or_default())
            .collect();
    });
    read_result?;
    let mut rows = 0;
    for r in parsed {
        rows += r?;
    }
    let sizes: Vec<u64> = counted.into_iter().flatten().collect();
    if sizes.iter().sum::<u64>() != rows {
        return Err(Error::other("a counting thread failed"));
    }
    Ok((sizes, rows))
}

/// Sends `input` on `tx` in chunks of whole records (the input layer's
/// chunker: the same grammar, BOM rule and limits as every reader), without
/// the header; stores the number of fields per record in `width`.
fn read_chunks(
    input: &mut dyn std::io::Read,
    delimiter: u8,
    has_header: bool,
    chunk: usize,
    qi: &[usize],
    width: &std::sync::atomic::AtomicUsize,
    tx: &crossbeam_channel::Sender<Vec<u8>>,
) -> std::io::Result<()> {
    use crate::io::chunk::ChunkReader;
    use crate::io::table::Format;
    let io_error = |e: crate::io::InputErrorKind| match e {
        crate::io::InputErrorKind::Io(e) => e,
        _ => std::io::Error::new(std::io::ErrorKind::InvalidData, "malformed CSV"),
    };
    let mut reader = ChunkReader::new(input, Format::Csv, delimiter, chunk);
    let Some(first) = reader.first_record().map_err(io_error)? else {
        return Ok(());
    };
    let mut rec = crate::io::record::CsvRecord::new();
    crate::io::record::CsvParser::new(delimiter).read(&first, &mut 0, &mut rec);
    if qi.iter().any(|&i| i >= rec.len()) {
        return Err(std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            "a quasi-identifier index is past the last column",
        ));
    }
    width.store(rec.len(), std::sync::atomic::Ordering::Release);
    if !has_header {
        reader.unread(first);
    }
    while let Some(records) = reader.next_chunk().map_err(io_error)? {
        if tx.send(records).is_err() {
            break;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::format;
    use std::string::{String, ToString};
    use std::vec::Vec;

    fn counter(rows: &[(&str, &str, &str)]) -> ClassCounter {
        let mut c = ClassCounter::new(2, true);
        for (a, b, s) in rows {
            c.add(&[a.as_bytes(), b.as_bytes()], Some(s.as_bytes()));
        }
        c
    }

    #[test]
    fn hand_computed_classes_and_risks() {
        // Classes: (a,x)×3, (a,y)×2, (b,x)×1  → sizes 3, 2, 1; n = 6.
        let c = counter(&[
            ("a", "x", "flu"),
            ("a", "x", "flu"),
            ("a", "x", "hiv"),
            ("a", "y", "flu"),
            ("a", "y", "cold"),
            ("b", "x", "flu"),
        ]);
        let r = c.report(&["q1".into(), "q2".into()], &RiskOptions::default());
        assert_eq!((r.rows, r.classes, r.k, r.largest_class), (6, 3, 1, 3));
        assert_eq!(r.prosecutor.highest_risk, 1.0);
        assert_eq!(r.prosecutor.records_at_highest_risk, 1.0 / 6.0);
        assert_eq!(r.prosecutor.average_risk, 0.5); // 3 classes / 6 records
        assert_eq!(r.records_in_small_classes.size_1, 1);
        assert_eq!(r.records_in_small_classes.size_2, 2);
        assert_eq!(r.records_in_small_classes.below_5, 6);
        assert_eq!(r.sample_uniqueness, 1.0 / 6.0);
        let d = r.diversity.unwrap();
        assert_eq!(d.distinct_l, 1); // the (b,x) class has one value
        assert!((d.entropy_l - 1.0).abs() < 1e-12);
        // Overall: flu 4/6, hiv 1/6, cold 1/6 (text order: cold, flu, hiv).
        // Class (b,x) = flu only: equal-distance EMD = ½(|0−1/6| + |1−4/6| + |0−1/6|) = 1/3.
        assert!((d.t_closeness_equal_distance - 1.0 / 3.0).abs() < 1e-12);
        // Ordered: cumulative differences −1/6, +1/6, 0 → (1/6 + 1/6) / 2 = 1/6 for (b,x);
        // (a,y) = flu, cold: p = (1/2, 1/2, 0) → cum 1/3, 1/6, 0 → (1/2)/2 = 1/4.
        assert!(
            (d.t_closeness_ordered_distance - 0.25).abs() < 1e-12,
            "{}",
            d.t_closeness_ordered_distance
        );
        // Recursive (c,2): class (a,x) r = (2,1) → c = 2; (a,y) (1,1) → 1; (b,x) → ∞.
        assert!(d.recursive_c_for_l2.is_infinite());
    }

    #[test]
    fn journalist_uses_the_population_class_sizes() {
        let sample = counter(&[("a", "x", "-"), ("a", "x", "-"), ("b", "y", "-")]);
        let mut pop = HashMap::new();
        pop.insert(vec![b"a".to_vec(), b"x".to_vec()], 10);
        pop.insert(vec![b"b".to_vec(), b"y".to_vec()], 4);
        let mut r = sample.report(&["q1".into(), "q2".into()], &RiskOptions::default());
        sample.journalist(&mut r, &pop);
        let j = r.journalist.unwrap();
        assert_eq!(j.risk.highest_risk, 0.25);
        assert_eq!(j.risk.records_at_highest_risk, 1.0 / 3.0);
        assert!((j.risk.average_risk - (2.0 / 10.0 + 1.0 / 4.0) / 3.0).abs() < 1e-15);
        assert_eq!(r.marketer_risk, j.risk.average_risk);
    }

    #[test]
    fn generalizing_or_dropping_a_column_never_raises_risk() {
        // Property: merging values of a QI (generalization) can only merge classes.
        let g = crate::synth::Generator::new(4);
        let (mut fine, mut coarse, mut fewer) = (
            ClassCounter::new(3, false),
            ClassCounter::new(3, false),
            ClassCounter::new(2, false),
        );
        for i in 0..3000 {
            let c = g.customer(i);
            let (bd, pc) = (c.birth_date.as_bytes(), c.postal_code.as_bytes());
            fine.add(&[bd, pc, c.city.as_bytes()], None);
            coarse.add(&[&bd[..4], &pc[..3], c.city.as_bytes()], None);
            fewer.add(&[bd, pc], None);
        }
        let o = RiskOptions::default();
        let (rf, rc) = (fine.report(&[], &o), coarse.report(&[], &o));
        assert!(rc.prosecutor.average_risk <= rf.prosecutor.average_risk);
        assert!(rc.records_in_small_classes.size_1 <= rf.records_in_small_classes.size_1);
        assert!(rc.k >= rf.k);
        assert!(fewer.report(&[], &o).prosecutor.average_risk <= rf.prosecutor.average_risk);
    }

    #[test]
    fn find_qi_ranks_by_uniques() {
        let names: Vec<String> = ["id", "sex", "zip"].map(String::from).to_vec();
        let cols = vec![vec![0, 1, 2, 3], vec![0, 0, 1, 1], vec![0, 1, 0, 0]];
        let r = find_qi(&names, &cols, 2);
        assert_eq!(r[0].columns, ["id"]);
        assert_eq!(r[0].unique_records, 4);
        let sz = r.iter().find(|c| c.columns == ["sex", "zip"]).unwrap();
        assert_eq!(sz.unique_records, 2); // (0,0) (0,1) unique; (1,0)×2
    }

    #[test]
    fn parallel_sizes_equal_the_streaming_counter_across_chunk_cuts() {
        // Quoted delimiters, quoted newlines, CRLF, a header with a quote,
        // and chunks cut every few dozen bytes.
        let mut text = String::from("\"id\",zip,\"note\"\r\n");
        let mut rows: Vec<[String; 3]> = Vec::new();
        for i in 0..500u32 {
            let zip = format!("{}", 100 + (i * 7) % 13);
            let note = match i % 4 {
                0 => "plain".to_string(),
                1 => "\"with, comma\"".to_string(),
                2 => "\"two\nlines\"".to_string(),
                _ => "\"say \"\"hi\"\"\"".to_string(),
            };
            text.push_str(&format!("{i},{zip},{note}\r\n"));
            let plain = note.trim_matches('"').replace("\"\"", "\"");
            rows.push([i.to_string(), zip, plain]);
        }
        let mut c = ClassCounter::new(2, false);
        for r in &rows {
            c.add(&[r[1].as_bytes(), r[2].as_bytes()], None);
        }
        let mut want = c.class_sizes();
        want.sort_unstable();
        /// Hands out at most 7 bytes a read, so chunks end mid-record and
        /// mid-quote and must be cut back to a record boundary.
        struct Trickle<'a>(&'a [u8]);
        impl std::io::Read for Trickle<'_> {
            fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
                let n = buf.len().min(7).min(self.0.len());
                buf[..n].copy_from_slice(&self.0[..n]);
                self.0 = &self.0[n..];
                Ok(n)
            }
        }
        for (threads, chunk) in [(1, 1 << 20), (2, 37), (3, 64), (4, 200)] {
            let mut input = Trickle(text.as_bytes());
            let (mut got, n) =
                class_sizes_in_chunks(&mut input, b',', true, &[1, 2], threads, chunk).unwrap();
            got.sort_unstable();
            assert_eq!(n, 500, "threads {threads}, chunk {chunk}");
            assert_eq!(got, want, "threads {threads}, chunk {chunk}");
        }
        // A short row is an error (the CLI then names it with the slow reader).
        let bad = "a,b\n1,2\n3\n";
        assert!(class_sizes_in_chunks(&mut bad.as_bytes(), b',', true, &[1], 2, 4).is_err());
    }

    /// The parallel counter reads with the same grammar as the row-by-row
    /// reader: CR-only line endings, a leading blank line, a bare quote in an
    /// unquoted field and a semicolon delimiter give the same rows and classes.
    #[test]
    fn parallel_counter_and_table_reader_agree_on_odd_csv() {
        use crate::io::table::{Format, Row, TableOptions, TableReader};
        for (text, delimiter) in [
            ("a,b\rx,1\ry,1\rx,1\r", b','),
            ("\na,b\nx,1\ny,1\nx,1\n", b','),
            ("a,b\n5'11\",1\nx,\"q\nq\"\n5'11\",1\n", b','),
            ("a;b\r\nx;1\r\ny;2\r\n", b';'),
        ] {
            let opts = TableOptions::new().delimiter(delimiter);
            let mut t = TableReader::from_reader(
                std::boxed::Box::new(std::io::Cursor::new(text.as_bytes().to_vec())),
                "t",
                Format::Csv,
                &opts,
            )
            .unwrap();
            let mut c = ClassCounter::new(2, false);
            let mut row = Row::new();
            while t.read_row(&mut row).unwrap() {
                c.add(&[row.get(0).unwrap(), row.get(1).unwrap()], None);
            }
            let mut want = c.class_sizes();
            want.sort_unstable();
            let (mut got, n) =
                class_sizes_in_chunks(&mut text.as_bytes(), delimiter, true, &[0, 1], 2, 5)
                    .unwrap();
            got.sort_unstable();
            assert_eq!(n, t.row_number(), "{text:?}");
            assert_eq!(got, want, "{text:?}");
        }
        // A quote never closed is an error for both.
        let open = "a,b\nx,\"1\ny,2\n";
        assert!(class_sizes_in_chunks(&mut open.as_bytes(), b',', true, &[0, 1], 2, 5).is_err());
    }
}
