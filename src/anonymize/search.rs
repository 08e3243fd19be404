//! The exact search of the generalization lattice (docs/ANONYMIZE.md).
//!
//! A node gives each quasi-identifier a level of its hierarchy. A node's
//! classes are rolled up from the classes of a node under it (kept while a
//! memory budget allows) or from the counted combinations, never from the
//! rows. Nodes are visited one layer (sum of levels) at a time, the nodes
//! of a layer in parallel, in one of two walks:
//!
//! - **Bottom-up**, for every model: a node is rolled up from a
//!   predecessor kept from the layer before. Pruning uses only what is
//!   provable for every model and suppression limit: each metric has a
//!   lower bound that cannot decrease from a node to its successors (the
//!   loss of the generalization alone, a suppressed record costing at least
//!   as much as any label; for discernibility, the sum of squared class
//!   sizes, which merging classes only grows). A node whose bound exceeds
//!   the loss of the N-th best transformation found so far is skipped, and
//!   so are all its successors. With suppression, entropy l-diversity,
//!   t-closeness and average risk are not monotone (merging a class that
//!   holds with one that does not can fail, suppressing more), so every
//!   node that could still be optimal is evaluated.
//! - **Top-down**, when the models are monotone ([`Models`]): a node with a
//!   successor that fails cannot hold and is skipped (predictive tagging);
//!   the others are rolled up from hubs (nodes below them, counted once)
//!   unless a bound prunes them.

use std::string::String;
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::vec::Vec;

use rayon::prelude::*;
use rustc_hash::FxHashMap;
use serde::Serialize;

use super::{AnonymizeError, Counted};
use crate::audit::risk::ClassDiversity;

/// The privacy models a transformation must satisfy (all that are set).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Models {
    /// k-anonymity: every released class has at least k records.
    pub k: Option<u64>,
    /// Distinct l-diversity on the sensitive column.
    pub l_distinct: Option<u64>,
    /// Entropy l-diversity on the sensitive column: exp(entropy) ≥ l.
    pub l_entropy: Option<f64>,
    /// t-closeness, equal ground distance.
    pub t_equal: Option<f64>,
    /// t-closeness, ordered ground distance.
    pub t_ordered: Option<f64>,
    /// Average prosecutor risk (released classes / released records) at most this.
    pub max_risk: Option<f64>,
}

impl Models {
    fn needs_sensitive(&self) -> bool {
        self.l_distinct.is_some()
            || self.l_entropy.is_some()
            || self.t_equal.is_some()
            || self.t_ordered.is_some()
    }

    /// Whether "holds" can only go from false to true as levels rise: with
    /// suppression for k-anonymity and distinct l-diversity (merging classes
    /// never shrinks a class or its distinct values, so the records to
    /// suppress only decrease); without suppression for every model (merged
    /// entropy is at least the smaller, the distance of a mixture at most
    /// the larger, and classes / records only falls).
    fn monotone(&self, suppress: f64) -> bool {
        suppress == 0.0
            || (self.l_entropy.is_none()
                && self.t_equal.is_none()
                && self.t_ordered.is_none()
                && self.max_risk.is_none())
    }

    fn is_empty(&self) -> bool {
        !self.needs_sensitive() && self.k.is_none() && self.max_risk.is_none()
    }

    /// Whether a class that fails the models fails in every piece it splits
    /// into: true when only k-anonymity and distinct l-diversity judge a
    /// class (a piece has no more records and no more distinct values),
    /// false when entropy l-diversity or t-closeness do (a piece of a
    /// failing class may hold).
    fn pieces_of_failing_fail(&self) -> bool {
        self.l_entropy.is_none() && self.t_equal.is_none() && self.t_ordered.is_none()
    }
}

/// Information loss (docs/ANONYMIZE.md).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
#[non_exhaustive]
pub enum Metric {
    /// Sweeney's precision: mean over records and quasi-identifiers of
    /// level / max level, suppressed records counting 1.
    #[default]
    Precision,
    /// Sum over released classes of size², plus suppressed records × records.
    Discernibility,
    /// ARX's Loss: mean over records and quasi-identifiers of
    /// (domain values under the label − 1) / (domain values − 1),
    /// suppressed records counting 1.
    Loss,
    /// Non-uniform entropy: sum over records and quasi-identifiers of
    /// log2(records with the label / records with the value), suppressed
    /// records labelled `*` (in bits).
    Entropy,
}

impl std::str::FromStr for Metric {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "precision" | "prec" => Ok(Metric::Precision),
            "discernibility" | "dm" => Ok(Metric::Discernibility),
            "loss" => Ok(Metric::Loss),
            "entropy" | "non-uniform-entropy" => Ok(Metric::Entropy),
            _ => Err("expected precision, discernibility, loss or entropy".into()),
        }
    }
}

/// What to search for.
#[derive(Clone, Debug)]
pub struct Config {
    /// The privacy models.
    pub models: Models,
    /// Largest share of records that may be suppressed (0 to 1).
    pub suppress: f64,
    /// The loss to minimize.
    pub metric: Metric,
    /// How many of the best transformations to return.
    pub top: usize,
    /// Worker threads (0: every core).
    pub threads: usize,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            models: Models::default(),
            suppress: 0.0,
            metric: Metric::Precision,
            top: 1,
            threads: 0,
        }
    }
}

/// One transformation, evaluated.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct NodeResult {
    /// The level of each quasi-identifier.
    pub levels: Vec<usize>,
    /// Whether every model holds within the suppression limit.
    pub anonymous: bool,
    /// The information loss.
    pub loss: f64,
    /// Records suppressed (in classes that break a model).
    pub suppressed: u64,
    /// Released classes.
    pub classes: u64,
    /// Smallest released class (0 if none).
    pub k: u64,
    /// Fewest distinct sensitive values in a released class.
    pub distinct_l: Option<u64>,
    /// Smallest exp(entropy) of a released class.
    pub entropy_l: Option<f64>,
    /// Largest equal-distance EMD of a released class.
    pub t_equal: Option<f64>,
    /// Largest ordered-distance EMD of a released class.
    pub t_ordered: Option<f64>,
    /// Released classes / released records (0 if none).
    pub average_risk: f64,
}

/// The search's answer.
#[derive(Clone, Debug, Serialize)]
pub struct SearchResult {
    /// The best transformations, best first (fewer than asked if fewer hold).
    pub nodes: Vec<NodeResult>,
    /// Nodes in the lattice.
    pub lattice: u64,
    /// Nodes evaluated (classes rolled up and tested).
    pub evaluated: u64,
    /// Nodes skipped by the bound.
    pub pruned: u64,
    /// Levels of each quasi-identifier's hierarchy.
    pub heights: Vec<usize>,
}

/// A node's classes: packed label ids, sizes, sensitive counts.
#[derive(Default)]
struct Classes {
    keys: Vec<u128>,
    counts: Vec<u64>,
    sens: Vec<Vec<(u32, u64)>>,
}

impl Classes {
    /// Adds class `i` of `src` to the class at `slot` (a new class, keyed
    /// `key`, when the slot is `u32::MAX`); returns how many classes there
    /// are. Inlined: a roll-up calls it once per source class.
    #[inline(always)]
    fn add(&mut self, slot: &mut u32, key: u128, src: &Classes, i: usize) -> usize {
        let with_sens = !src.sens.is_empty();
        if *slot == u32::MAX {
            *slot = self.keys.len() as u32;
            self.keys.push(key);
            self.counts.push(0);
            if with_sens {
                self.sens.push(Vec::new());
            }
        }
        let s = *slot as usize;
        self.counts[s] += src.counts[i];
        if with_sens {
            self.sens[s].extend_from_slice(&src.sens[i]);
        }
        self.keys.len()
    }
}

/// A node's classes, kept for bounding the nodes one level below it
/// (Prepared::split_bound). When only k-anonymity and distinct l-diversity
/// decide which classes are suppressed, a class suppressed here is
/// suppressed in every piece it splits into below: such classes are kept
/// only as the records they suppress.
struct Upper {
    /// Records of the classes suppressed here and in every piece below.
    suppressed: u64,
    /// The other classes: packed label ids and sizes.
    keys: Vec<u128>,
    counts: Vec<u64>,
}

/// Everything precomputed from the counted combinations.
struct Prepared<'a> {
    counted: &'a Counted,
    config: &'a Config,
    heights: Vec<usize>,
    offsets: Vec<u32>,
    masks: Vec<u128>,
    /// `cost[c][level][label]`: a released record's loss in column c.
    cost: Vec<Vec<Vec<f64>>>,
    /// `bound[c][level]`: sum over all records of `cost`.
    bound: Vec<Vec<f64>>,
    /// Loss of a suppressed record (all columns).
    suppressed_cost: f64,
    /// Entropy: the constant term.
    constant: f64,
    max_suppressed: u64,
    n: f64,
    /// `fan[c][level][label]`: the labels one level lower in column c
    /// that some record has and that generalize to `label` (empty at
    /// level 0): the most pieces a class can split into when that column
    /// goes one level down.
    fan: Vec<Vec<Vec<u32>>>,
}

const UNIT: f64 = 1.0;

impl<'a> Prepared<'a> {
    fn new(counted: &'a Counted, config: &'a Config) -> Result<Self, AnonymizeError> {
        if counted.names.is_empty() {
            return Err(AnonymizeError::Request(
                "no quasi-identifier: name them with --qi".into(),
            ));
        }
        if config.models.is_empty() {
            return Err(AnonymizeError::Request(
                "no privacy model: give --model k=K (or l=, t=, --max-risk)".into(),
            ));
        }
        if config.models.needs_sensitive() && counted.distribution.is_none() {
            return Err(AnonymizeError::Request(
                "l-diversity and t-closeness need a sensitive column with values".into(),
            ));
        }
        if !(0.0..=1.0).contains(&config.suppress) {
            return Err(AnonymizeError::Request(
                "the suppression limit is a fraction from 0 to 1".into(),
            ));
        }
        let m = counted.names.len();
        let heights: Vec<usize> = counted.columns.iter().map(|c| c.height()).collect();
        let mut offsets = Vec::with_capacity(m);
        let mut masks = Vec::with_capacity(m);
        let mut off = 0u32;
        for c in &counted.columns {
            let n = c.labels_at(0).max(2) as u32;
            let bits = u32::BITS - (n - 1).leading_zeros();
            offsets.push(off);
            masks.push(((1u128 << bits) - 1) << off);
            off += bits;
            if off > 128 {
                return Err(AnonymizeError::Request(
                    "too many distinct quasi-identifier values to pack a class key in 128 bits; use fewer or coarser quasi-identifiers".into(),
                ));
            }
        }
        // Marginal counts of each label.
        let mut freq: Vec<Vec<Vec<u64>>> = counted
            .columns
            .iter()
            .map(|c| {
                (0..c.height())
                    .map(|l| vec![0u64; c.labels_at(l)])
                    .collect()
            })
            .collect();
        counted.for_each_class(|k, n| {
            for (c, &v) in k.iter().enumerate() {
                let col = &counted.columns[c];
                for (l, f) in freq[c].iter_mut().enumerate() {
                    f[col.generalize(l, v) as usize] += n;
                }
            }
        });
        let n = counted.rows as f64;
        let mut cost = Vec::with_capacity(m);
        let mut constant = 0.0;
        for (c, col) in counted.columns.iter().enumerate() {
            let max = col.height().saturating_sub(1);
            let mut per_level = Vec::with_capacity(col.height());
            for (l, fl) in freq[c].iter().enumerate() {
                let labels = col.labels_at(l);
                let v: Vec<f64> = match config.metric {
                    Metric::Precision | Metric::Discernibility => {
                        let p = if max == 0 { 0.0 } else { l as f64 / max as f64 };
                        vec![p; labels]
                    }
                    Metric::Loss => (0..labels as u32)
                        .map(|id| {
                            if col.domain() <= 1 {
                                0.0
                            } else {
                                (col.cover(l, id).saturating_sub(1)) as f64
                                    / (col.domain() - 1) as f64
                            }
                        })
                        .collect(),
                    Metric::Entropy => fl
                        .iter()
                        .map(|&f| if f == 0 { 0.0 } else { (f as f64).log2() })
                        .collect(),
                };
                per_level.push(v);
            }
            if config.metric == Metric::Entropy {
                constant -= freq[c][0]
                    .iter()
                    .map(|&f| {
                        if f == 0 {
                            0.0
                        } else {
                            f as f64 * (f as f64).log2()
                        }
                    })
                    .sum::<f64>();
            }
            cost.push(per_level);
        }
        let bound: Vec<Vec<f64>> = cost
            .iter()
            .zip(&freq)
            .map(|(levels, f)| {
                levels
                    .iter()
                    .zip(f)
                    .map(|(cs, fs)| cs.iter().zip(fs).map(|(a, b)| a * *b as f64).sum())
                    .collect()
            })
            .collect();
        let fan = counted
            .columns
            .iter()
            .zip(&freq)
            .map(|(col, f)| {
                (0..col.height())
                    .map(|l| {
                        let mut v = vec![0u32; if l == 0 { 0 } else { col.labels_at(l) }];
                        if l > 0 {
                            for (id, &count) in f[l - 1].iter().enumerate() {
                                if count > 0 {
                                    v[col.up(l - 1, id as u32) as usize] += 1;
                                }
                            }
                        }
                        v
                    })
                    .collect()
            })
            .collect();
        let suppressed_cost = match config.metric {
            Metric::Precision | Metric::Loss => m as f64 * UNIT,
            Metric::Entropy => m as f64 * n.max(1.0).log2(),
            Metric::Discernibility => n,
        };
        Ok(Prepared {
            counted,
            config,
            heights,
            offsets,
            masks,
            cost,
            bound,
            suppressed_cost,
            constant,
            max_suppressed: (config.suppress * n + 1e-9).floor() as u64,
            n,
            fan,
        })
    }

    /// The loss from a raw total (normalized for the mean metrics).
    fn finish(&self, total: f64) -> f64 {
        let m = self.counted.names.len() as f64;
        match self.config.metric {
            Metric::Precision | Metric::Loss => {
                if self.n == 0.0 {
                    0.0
                } else {
                    total / (self.n * m)
                }
            }
            Metric::Entropy => total + self.constant,
            Metric::Discernibility => total,
        }
    }

    /// A lower bound of the loss of `levels` and all its successors,
    /// without looking at classes.
    fn cheap_bound(&self, levels: &[usize]) -> f64 {
        if self.config.metric == Metric::Discernibility {
            // Sum of squares of c sizes adding up to n is at least n^2 / c
            // (Cauchy-Schwarz), c is at most the label combinations and the
            // counted combinations, and a suppressed class costs s n >= s^2.
            let combos = levels
                .iter()
                .enumerate()
                .map(|(c, &l)| self.counted.columns[c].labels_at(l).max(1) as f64)
                .product::<f64>()
                .min(self.counted.counts.len().max(1) as f64);
            return self.n * self.n / combos;
        }
        let total: f64 = levels
            .iter()
            .enumerate()
            .map(|(c, &l)| self.bound[c][l])
            .sum();
        self.finish(total)
    }

    /// A lower bound of the discernibility of the node one level below
    /// `upper` in column `c`, from `upper`'s classes (see [`Upper`]): a
    /// class of S records splits into at most f pieces (the labels under
    /// its own in column c that occur), whose squares add up to at least
    /// S^2 / min(f, S), and a record suppressed in every piece costs n.
    fn split_bound(&self, upper: &Upper, levels: &[usize], c: usize) -> f64 {
        let fan = &self.fan[c][levels[c]];
        let mut total = upper.suppressed as f64 * self.suppressed_cost;
        for (&key, &size) in upper.keys.iter().zip(&upper.counts) {
            let s = size as f64;
            let id = ((key & self.masks[c]) >> self.offsets[c]) as usize;
            let f = fan.get(id).copied().unwrap_or(u32::MAX).max(1);
            total += s * s / (f as f64).min(s);
        }
        total
    }

    /// `classes` as the layer below bounds itself from them.
    fn upper(&self, classes: Classes) -> Upper {
        if !self.config.models.pieces_of_failing_fail() {
            return Upper {
                suppressed: 0,
                keys: classes.keys,
                counts: classes.counts,
            };
        }
        let mut upper = Upper {
            suppressed: 0,
            keys: Vec::new(),
            counts: Vec::new(),
        };
        for (i, (&key, &size)) in classes.keys.iter().zip(&classes.counts).enumerate() {
            if self.class_holds(&classes, i).0 {
                upper.keys.push(key);
                upper.counts.push(size);
            } else {
                upper.suppressed += size;
            }
        }
        upper
    }

    fn base(&self) -> Classes {
        let m = self.counted.names.len();
        let mut keys = Vec::with_capacity(self.counted.counts.len());
        for k in self.counted.keys.chunks(m) {
            let mut key = 0u128;
            for (c, &v) in k.iter().enumerate() {
                key |= u128::from(v) << self.offsets[c];
            }
            keys.push(key);
        }
        Classes {
            keys,
            counts: self.counted.counts.clone(),
            sens: self.counted.sensitive.clone(),
        }
    }

    /// Classes of `to`, rolled up from classes of `from` (≤ `to` in every column).
    fn roll_up(&self, src: &Classes, from: &[usize], to: &[usize]) -> Classes {
        self.roll_up_within(src, from, to, usize::MAX)
            .unwrap_or_default()
    }

    /// The most classes a node can have and still hold: every released
    /// class has at least k records (and at least l, for distinct
    /// l-diversity), so at most records / k of them are released, and each
    /// other class suppresses at least one record. A node with more classes
    /// than this suppresses more than the limit, whatever its class sizes.
    fn class_cap(&self) -> usize {
        let models = &self.config.models;
        let k = models
            .k
            .unwrap_or(1)
            .max(models.l_distinct.unwrap_or(1))
            .max(1);
        if k == 1 {
            return usize::MAX;
        }
        let released = self.counted.rows / k;
        usize::try_from(released.saturating_add(self.max_suppressed)).unwrap_or(usize::MAX)
    }

    /// As [`Prepared::roll_up`], but gives up (`None`) as soon as `to` has
    /// more than `cap` classes: the search's failure test for the nodes with
    /// almost as many classes as records, which then cost a fraction of a
    /// pass over their source instead of a whole one.
    fn roll_up_within(
        &self,
        src: &Classes,
        from: &[usize],
        to: &[usize],
        cap: usize,
    ) -> Option<Classes> {
        let changed: Vec<usize> = (0..to.len()).filter(|&c| from[c] != to[c]).collect();
        // Room for every class up front (no copies as it grows; pages never
        // written are never faulted in).
        let room = src.keys.len().min(cap.saturating_add(1));
        let mut out = Classes {
            keys: Vec::with_capacity(room),
            counts: Vec::with_capacity(room),
            sens: Vec::new(),
        };
        let with_sens = !src.sens.is_empty();
        // Per changed column, the label at `to` of each label at `from`.
        let composed: Vec<Vec<u32>> = changed
            .iter()
            .filter(|&&c| from[c] != 0)
            .map(|&c| {
                let col = &self.counted.columns[c];
                (0..col.labels_at(from[c]) as u32)
                    .map(|id| col.lift(from[c], to[c], id))
                    .collect()
            })
            .collect();
        let mut composed_iter = composed.iter();
        let maps: Vec<(usize, &[u32])> = changed
            .iter()
            .map(|&c| {
                let table: &[u32] = if from[c] == 0 {
                    self.counted.columns[c].generalize_all(to[c])
                } else {
                    composed_iter.next().map_or(&[], |v| &v[..])
                };
                (c, table)
            })
            .collect();
        let lift = |key: u128| {
            let mut k = key;
            for &(c, table) in &maps {
                let id = ((k & self.masks[c]) >> self.offsets[c]) as usize;
                let up = table.get(id).copied().unwrap_or(0);
                k = (k & !self.masks[c]) | (u128::from(up) << self.offsets[c]);
            }
            k
        };
        // Keys of at most 64 bits (the usual case) take the cheaper shifts.
        let narrow = self.masks.last().is_none_or(|&m| m >> 64 == 0);
        // Few possible labels combinations: a direct table instead of hashing.
        let space = to
            .iter()
            .enumerate()
            .try_fold(1usize, |a, (c, &l)| {
                a.checked_mul(self.counted.columns[c].labels_at(l).max(1))
            })
            .filter(|&p| p <= (4 * src.keys.len()).max(1 << 16) && u32::try_from(p).is_ok());
        if let Some(space) = space {
            // Per column: where its label sits in a key, and for each of its
            // labels at `from` that label's part of the dense index (its
            // label at `to` times the column's stride, a mixed radix over
            // the label counts at `to`, so every index is below `space`).
            let mut parts: Vec<(u32, u128, Vec<u32>)> = Vec::with_capacity(to.len());
            let mut stride = 1u32;
            for (c, &l) in to.iter().enumerate().rev() {
                let lifted = maps.iter().find(|&&(mc, _)| mc == c).map(|&(_, t)| t);
                let labels = self.counted.columns[c].labels_at(from[c]) as u32;
                let part = (0..labels)
                    .map(|id| match lifted {
                        Some(t) => t.get(id as usize).copied().unwrap_or(0) * stride,
                        None => id * stride,
                    })
                    .collect();
                parts.push((self.offsets[c], self.masks[c] >> self.offsets[c], part));
                // `space` fits in u32 and bounds the product: no overflow.
                stride *= self.counted.columns[c].labels_at(l).max(1) as u32;
            }
            let mut table = vec![u32::MAX; space];
            for (i, &key) in src.keys.iter().enumerate() {
                let idx = if narrow {
                    let key = key as u64;
                    parts.iter().fold(0u32, |idx, (offset, mask, part)| {
                        let id = ((key >> offset) & *mask as u64) as usize;
                        idx + part.get(id).copied().unwrap_or(0)
                    })
                } else {
                    parts.iter().fold(0u32, |idx, (offset, mask, part)| {
                        let id = ((key >> offset) & mask) as usize;
                        idx + part.get(id).copied().unwrap_or(0)
                    })
                };
                let slot = &mut table[idx as usize];
                // The lifted key is only needed for a new class.
                let k = if *slot == u32::MAX { lift(key) } else { 0 };
                if out.add(slot, k, src, i) > cap {
                    return None;
                }
            }
        } else if narrow {
            // Keys of at most 64 bits hash as u64 (one multiply, not two).
            let lifts: Vec<(u32, u64, &[u32])> = maps
                .iter()
                .map(|&(c, table)| (self.offsets[c], self.masks[c] as u64, table))
                .collect();
            let mut index: FxHashMap<u64, u32> = FxHashMap::default();
            index.reserve((src.keys.len() / 2).min(cap));
            for (i, &key) in src.keys.iter().enumerate() {
                let k = lifts.iter().fold(key as u64, |k, &(offset, mask, table)| {
                    let id = ((k & mask) >> offset) as usize;
                    let up = table.get(id).copied().unwrap_or(0);
                    (k & !mask) | (u64::from(up) << offset)
                });
                if out.add(index.entry(k).or_insert(u32::MAX), k.into(), src, i) > cap {
                    return None;
                }
            }
        } else {
            let mut index: FxHashMap<u128, u32> = FxHashMap::default();
            index.reserve((src.keys.len() / 2).min(cap));
            for (i, &key) in src.keys.iter().enumerate() {
                let k = lift(key);
                if out.add(index.entry(k).or_insert(u32::MAX), k, src, i) > cap {
                    return None;
                }
            }
        }
        if with_sens && out.keys.len() < src.keys.len() {
            for s in &mut out.sens {
                s.sort_unstable_by_key(|e| e.0);
                let mut w = 0;
                for r in 0..s.len() {
                    if w > 0 && s[w - 1].0 == s[r].0 {
                        s[w - 1].1 += s[r].1;
                    } else {
                        s[w] = s[r];
                        w += 1;
                    }
                }
                s.truncate(w);
            }
        }
        Some(out)
    }

    /// Whether class `i` satisfies every per-class model (k, l, t), with its
    /// diversity when a model needs it: the one test of which classes are
    /// suppressed, for the search and for `deid apply` ([`suppressed`]).
    fn class_holds(&self, classes: &Classes, i: usize) -> (bool, Option<ClassDiversity>) {
        let models = &self.config.models;
        let size = classes.counts[i];
        let mut ok = models.k.is_none_or(|k| size >= k);
        let d = match (models.needs_sensitive(), self.counted.distribution.as_ref()) {
            (true, Some(dist)) => Some(dist.class(&classes.sens[i])),
            _ => None,
        };
        if let Some(d) = &d {
            ok &= models.l_distinct.is_none_or(|l| d.distinct >= l);
            ok &= models.l_entropy.is_none_or(|l| d.entropy_l + 1e-9 >= l);
            ok &= models.t_equal.is_none_or(|t| d.t_equal <= t + 1e-12);
            ok &= models.t_ordered.is_none_or(|t| d.t_ordered <= t + 1e-12);
        }
        (ok, d)
    }

    /// Tests the models and measures the loss; also returns the sum of
    /// squared class sizes (discernibility's bound).
    fn evaluate(&self, classes: &Classes, levels: &[usize]) -> (NodeResult, f64) {
        let models = &self.config.models;
        let diversity = models.needs_sensitive();
        let mut r = NodeResult {
            levels: levels.to_vec(),
            anonymous: false,
            loss: 0.0,
            suppressed: 0,
            classes: 0,
            k: u64::MAX,
            distinct_l: diversity.then_some(u64::MAX),
            entropy_l: diversity.then_some(f64::INFINITY),
            t_equal: diversity.then_some(0.0),
            t_ordered: diversity.then_some(0.0),
            average_risk: 0.0,
        };
        let mut total = 0.0;
        let mut squares = 0.0;
        let mut kept = 0u64;
        for (i, (&key, &size)) in classes.keys.iter().zip(&classes.counts).enumerate() {
            squares += (size as f64) * (size as f64);
            let (ok, d) = self.class_holds(classes, i);
            if !ok {
                r.suppressed += size;
                continue;
            }
            kept += size;
            r.classes += 1;
            r.k = r.k.min(size);
            if let Some(d) = d {
                r.distinct_l = r.distinct_l.map(|x| x.min(d.distinct));
                r.entropy_l = r.entropy_l.map(|x| x.min(d.entropy_l));
                r.t_equal = r.t_equal.map(|x| x.max(d.t_equal));
                r.t_ordered = r.t_ordered.map(|x| x.max(d.t_ordered));
            }
            total += match self.config.metric {
                Metric::Discernibility => (size as f64) * (size as f64),
                Metric::Precision => {
                    let per: f64 = levels
                        .iter()
                        .enumerate()
                        .map(|(c, &l)| self.cost[c][l][0])
                        .sum();
                    size as f64 * per
                }
                Metric::Loss | Metric::Entropy => {
                    let mut per = 0.0;
                    for (c, &l) in levels.iter().enumerate() {
                        let id = ((key & self.masks[c]) >> self.offsets[c]) as usize;
                        per += self.cost[c][l][id];
                    }
                    size as f64 * per
                }
            };
        }
        total += r.suppressed as f64 * self.suppressed_cost;
        if r.classes == 0 {
            r.k = 0;
            r.distinct_l = r.distinct_l.map(|_| 0);
            r.entropy_l = r.entropy_l.map(|_| 0.0);
        }
        r.average_risk = if kept == 0 {
            0.0
        } else {
            r.classes as f64 / kept as f64
        };
        r.loss = self.finish(total);
        r.anonymous = r.suppressed <= self.max_suppressed
            && models.max_risk.is_none_or(|m| r.average_risk <= m + 1e-12);
        (r, squares)
    }
}

/// Ranks transformations: lower loss, then fewer levels, then levels in order.
fn better(a: &NodeResult, b: &NodeResult) -> std::cmp::Ordering {
    let tol = 1e-9 * a.loss.abs().max(b.loss.abs()).max(1e-300);
    if (a.loss - b.loss).abs() > tol {
        return a.loss.total_cmp(&b.loss);
    }
    let (sa, sb) = (
        a.levels.iter().sum::<usize>(),
        b.levels.iter().sum::<usize>(),
    );
    sa.cmp(&sb).then_with(|| a.levels.cmp(&b.levels))
}

fn insert_top(top: &mut Vec<NodeResult>, r: NodeResult, n: usize) {
    let pos = top
        .iter()
        .position(|x| better(&r, x) == std::cmp::Ordering::Less)
        .unwrap_or(top.len());
    if pos < n {
        top.insert(pos, r);
        top.truncate(n);
    }
}

fn above(bound: f64, threshold: f64) -> bool {
    bound > threshold + 1e-9 * threshold.abs().max(1e-300)
}

fn pool(threads: usize) -> Result<rayon::ThreadPool, AnonymizeError> {
    rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .map_err(|e| AnonymizeError::Request(format!("cannot start worker threads: {e}")))
}

fn lattice_size(heights: &[usize]) -> Result<usize, AnonymizeError> {
    heights
        .iter()
        .try_fold(1usize, |a, &h| a.checked_mul(h.max(1)))
        .filter(|&n| n <= 1 << 26)
        .ok_or_else(|| {
            AnonymizeError::Request(
                "the lattice has more than 67 million nodes: use fewer quasi-identifiers or hierarchies with fewer levels".into(),
            )
        })
}

fn decode(mut idx: usize, heights: &[usize], out: &mut [usize]) {
    for (c, &h) in heights.iter().enumerate().rev() {
        out[c] = idx % h;
        idx /= h;
    }
}

/// Evaluates one transformation (levels per quasi-identifier), rolled up
/// from the counted combinations.
///
/// # Errors
/// A request that cannot be answered (no model, a level above a hierarchy's
/// top, l or t without a sensitive column).
pub fn evaluate(
    counted: &Counted,
    config: &Config,
    levels: &[usize],
) -> Result<NodeResult, AnonymizeError> {
    let (p, classes) = node_classes(counted, config, levels)?;
    Ok(p.evaluate(&classes, levels).0)
}

/// The prepared request and the classes of the node at `levels`, rolled up
/// from the counted combinations: what [`evaluate`] and [`suppressed`]
/// both start from.
fn node_classes<'a>(
    counted: &'a Counted,
    config: &'a Config,
    levels: &[usize],
) -> Result<(Prepared<'a>, Classes), AnonymizeError> {
    let p = Prepared::new(counted, config)?;
    if levels.len() != p.heights.len() || levels.iter().zip(&p.heights).any(|(l, h)| l >= h) {
        return Err(AnonymizeError::Request(
            "a level per quasi-identifier, each below its hierarchy's height".into(),
        ));
    }
    let zero = vec![0; levels.len()];
    let classes = p.roll_up(&p.base(), &zero, levels);
    Ok((p, classes))
}

/// Evaluates one transformation as [`evaluate`] does and calls `f` with the
/// labels (one per quasi-identifier, at `levels`) of each class it
/// suppresses: the classes that break a per-class model, exactly those the
/// search counts in [`NodeResult::suppressed`]. `deid apply` drops the
/// records of these classes.
///
/// # Errors
/// As [`evaluate`].
pub fn suppressed(
    counted: &Counted,
    config: &Config,
    levels: &[usize],
    mut f: impl FnMut(&[&[u8]]),
) -> Result<NodeResult, AnonymizeError> {
    let (p, classes) = node_classes(counted, config, levels)?;
    let mut labels: Vec<&[u8]> = Vec::with_capacity(levels.len());
    for (i, &key) in classes.keys.iter().enumerate() {
        if p.class_holds(&classes, i).0 {
            continue;
        }
        labels.clear();
        for (c, &l) in levels.iter().enumerate() {
            let id = ((key & p.masks[c]) >> p.offsets[c]) as u32;
            labels.push(counted.columns[c].label(l, id));
        }
        f(&labels);
    }
    Ok(p.evaluate(&classes, levels).0)
}

/// Evaluates every node of the lattice from the counted combinations, with
/// no pruning and no reuse: the oracle the search is tested against.
///
/// # Errors
/// As [`search`].
pub fn brute_force(counted: &Counted, config: &Config) -> Result<SearchResult, AnonymizeError> {
    let p = Prepared::new(counted, config)?;
    let total = lattice_size(&p.heights)?;
    let base = p.base();
    let zero = vec![0; p.heights.len()];
    let all: Vec<NodeResult> = pool(config.threads)?.install(|| {
        (0..total)
            .into_par_iter()
            .map(|idx| {
                let mut levels = vec![0; p.heights.len()];
                decode(idx, &p.heights, &mut levels);
                let classes = p.roll_up(&base, &zero, &levels);
                p.evaluate(&classes, &levels).0
            })
            .filter(|r| r.anonymous)
            .collect()
    });
    let mut nodes = Vec::new();
    for r in all {
        insert_top(&mut nodes, r, config.top.max(1));
    }
    Ok(SearchResult {
        nodes,
        lattice: total as u64,
        evaluated: total as u64,
        pruned: 0,
        heights: p.heights.clone(),
    })
}

/// What the top-down walk learned about a node.
struct Visit {
    idx: usize,
    /// Its result, when it was evaluated and its classes counted.
    result: Option<NodeResult>,
    /// It cannot hold, nor can any node under it.
    fails: bool,
    /// It was evaluated (rather than skipped by a bound or a tag).
    evaluated: bool,
    /// Its classes, kept for the layer below.
    classes: Option<Upper>,
}

impl Visit {
    fn skipped(idx: usize, fails: bool) -> Self {
        Visit {
            idx,
            result: None,
            fails,
            evaluated: false,
            classes: None,
        }
    }
}

/// What happened to a node.
enum Outcome {
    Pruned,
    Evaluated(NodeResult, f64, Option<Arc<Classes>>),
}

/// Finds the `config.top` transformations with the least loss that satisfy
/// the models within the suppression limit. `progress` is called with
/// (nodes done, nodes in the lattice) after each layer.
///
/// # Errors
/// No quasi-identifier or model, l/t without a sensitive column, a
/// suppression limit outside [0, 1], a lattice too large to enumerate, or
/// too many distinct values to pack.
pub fn search(
    counted: &Counted,
    config: &Config,
    progress: Option<&(dyn Fn(u64, u64) + Sync)>,
) -> Result<SearchResult, AnonymizeError> {
    let p = Prepared::new(counted, config)?;
    let m = p.heights.len();
    let total = lattice_size(&p.heights)?;
    let mut strides = vec![1usize; m];
    for c in (0..m.saturating_sub(1)).rev() {
        strides[c] = strides[c + 1] * p.heights[c + 1];
    }
    let top_n = config.top.max(1);
    // Layers by sum of levels.
    let max_sum: usize = p.heights.iter().map(|h| h - 1).sum();
    let mut layers: Vec<Vec<usize>> = vec![Vec::new(); max_sum + 1];
    let mut levels = vec![0; m];
    for idx in 0..total {
        decode(idx, &p.heights, &mut levels);
        layers[levels.iter().sum::<usize>()].push(idx);
    }
    let workers = pool(config.threads)?;
    let (top, evaluated, skipped) = if config.models.monotone(config.suppress) {
        top_down(&p, &layers, &strides, total, top_n, &workers, progress)
    } else {
        bottom_up(&p, &layers, &strides, total, top_n, &workers, progress)
    };
    Ok(SearchResult {
        nodes: top,
        lattice: total as u64,
        evaluated,
        pruned: skipped,
        heights: p.heights.clone(),
    })
}

type Found = (Vec<NodeResult>, u64, u64);

/// Bottom-up, rolling classes up from predecessors, pruning by the bound.
fn bottom_up(
    p: &Prepared<'_>,
    layers: &[Vec<usize>],
    strides: &[usize],
    total: usize,
    top_n: usize,
    workers: &rayon::ThreadPool,
    progress: Option<&(dyn Fn(u64, u64) + Sync)>,
) -> Found {
    let m = p.heights.len();
    let mut pruned = vec![false; total];
    let base = Arc::new(p.base());
    // Rolled-up classes kept from one layer to the next, within a budget of
    // entries (four times the counted combinations, at least 8 million).
    let budget_entries = (4 * base.keys.len()).max(1 << 23) as i64;
    let mut cache: FxHashMap<usize, Arc<Classes>> = FxHashMap::default();
    let mut top: Vec<NodeResult> = Vec::new();
    let (mut evaluated, mut skipped, mut done) = (0u64, 0u64, 0u64);
    for layer in layers {
        let threshold = if top.len() == top_n {
            top.last().map_or(f64::INFINITY, |r| r.loss)
        } else {
            f64::INFINITY
        };
        let budget = AtomicI64::new(budget_entries);
        let outcomes: Vec<(usize, Outcome)> = workers.install(|| {
            layer
                .par_iter()
                .map(|&idx| {
                    let mut levels = vec![0; m];
                    decode(idx, &p.heights, &mut levels);
                    let preds = (0..m).filter(|&c| levels[c] > 0).map(|c| idx - strides[c]);
                    if preds.clone().any(|q| pruned[q]) || above(p.cheap_bound(&levels), threshold)
                    {
                        return (idx, Outcome::Pruned);
                    }
                    let src = preds
                        .filter_map(|q| cache.get(&q).map(|c| (q, c)))
                        .min_by_key(|(_, c)| c.keys.len());
                    let classes = match src {
                        Some((q, c)) => {
                            let mut from = vec![0; m];
                            decode(q, &p.heights, &mut from);
                            p.roll_up(c, &from, &levels)
                        }
                        None => p.roll_up(&base, &vec![0; m], &levels),
                    };
                    let (r, squares) = p.evaluate(&classes, &levels);
                    let len = classes.keys.len() as i64;
                    let keep = budget.fetch_sub(len, Ordering::Relaxed) >= len;
                    (
                        idx,
                        Outcome::Evaluated(r, squares, keep.then(|| Arc::new(classes))),
                    )
                })
                .collect()
        });
        cache.clear();
        for (idx, outcome) in outcomes {
            match outcome {
                Outcome::Pruned => {
                    pruned[idx] = true;
                    skipped += 1;
                }
                Outcome::Evaluated(r, squares, classes) => {
                    evaluated += 1;
                    if p.config.metric == Metric::Discernibility && above(squares, threshold) {
                        pruned[idx] = true;
                    }
                    if let Some(c) = classes {
                        cache.insert(idx, c);
                    }
                    if r.anonymous {
                        insert_top(&mut top, r, top_n);
                    }
                }
            }
        }
        done += layer.len() as u64;
        if let Some(f) = progress {
            f(done, total as u64);
        }
    }
    (top, evaluated, skipped)
}

/// Top-down, for monotone models: a node with a successor that does not
/// hold cannot hold (predictive tagging) and is not evaluated; the others
/// are evaluated from the counted combinations unless the bound prunes them.
fn top_down(
    p: &Prepared<'_>,
    layers: &[Vec<usize>],
    strides: &[usize],
    total: usize,
    top_n: usize,
    workers: &rayon::ThreadPool,
    progress: Option<&(dyn Fn(u64, u64) + Sync)>,
) -> Found {
    let m = p.heights.len();
    let base = Arc::new(p.base());
    let zero = vec![0; m];
    let mut fails = vec![false; total];
    // Hubs: classes of nodes below the evaluated ones (two levels lower in
    // every column, then one), kept within a budget of entries, so that a
    // node is rolled up from a hub under it instead of from every counted
    // combination. A roll-up costs a pass over its source.
    let budget = (2 * base.keys.len()).max(1 << 22);
    let mut hubs: Vec<(Vec<usize>, Arc<Classes>)> = Vec::new();
    let mut futile: Vec<Vec<usize>> = Vec::new();
    // The classes of the layer above, for Prepared::split_bound.
    let mut upper: FxHashMap<usize, Upper> = FxHashMap::default();
    let cap = p.class_cap();
    let mut hub_entries = 0usize;
    let mut top: Vec<NodeResult> = Vec::new();
    let (mut evaluated, mut skipped, mut done) = (0u64, 0u64, 0u64);
    for layer in layers.iter().rev() {
        let threshold = if top.len() == top_n {
            top.last().map_or(f64::INFINITY, |r| r.loss)
        } else {
            f64::INFINITY
        };
        // The nodes to evaluate, and hubs for those with no small source.
        let mut todo: Vec<usize> = Vec::new();
        let mut visits: Vec<Visit> = Vec::new();
        for &idx in layer {
            let mut levels = vec![0; m];
            decode(idx, &p.heights, &mut levels);
            let successors = (0..m)
                .filter(|&c| levels[c] + 1 < p.heights[c])
                .map(|c| idx + strides[c]);
            if successors.clone().any(|s| fails[s]) {
                visits.push(Visit::skipped(idx, true));
            } else if above(p.cheap_bound(&levels), threshold) {
                visits.push(Visit::skipped(idx, false));
            } else {
                todo.push(idx);
            }
        }
        // Two rounds. First, hubs two levels down in every column for the
        // nodes high in the lattice that no hub covers. Then hubs one level
        // down for the nodes with no hub that close, rolled up from the
        // first round's: on UCI Adult they halve the time of the search.
        // A hub with more than half its source's classes (nearly every row
        // its own combination, as on generated data) would save the nodes
        // under it less than it costs: its count stops there, and it and
        // every hub under it are futile.
        for depth in [2, 1] {
            if hub_entries >= budget {
                break;
            }
            let mut new_hubs: Vec<Vec<usize>> = Vec::new();
            for &idx in &todo {
                let mut levels = vec![0; m];
                decode(idx, &p.heights, &mut levels);
                let hub: Vec<usize> = levels.iter().map(|l| l.saturating_sub(depth)).collect();
                let wanted = if depth == 2 {
                    levels.iter().sum::<usize>() >= 2 * m
                        && !hubs.iter().any(|(h, _)| within(h, &levels))
                } else {
                    // A hub of every column at level 0 is the counted
                    // combinations.
                    hub.iter().any(|&l| l > 0)
                        && !hubs
                            .iter()
                            .any(|(h, _)| within(h, &levels) && within(&hub, h))
                        && !futile.iter().any(|f| within(&hub, f))
                };
                if wanted && !new_hubs.contains(&hub) {
                    new_hubs.push(hub);
                }
            }
            // A hub costs about a pass over its source and saves each node
            // it serves less than that: one level down from a large
            // source, only for a layer with many nodes to evaluate per hub
            // added.
            if depth == 1 && todo.len() < 8 * new_hubs.len() {
                new_hubs
                    .retain(|h| source(&hubs, h).map_or(&*base, |(_, c)| c).keys.len() <= 1 << 16);
            }
            let made: Vec<(Vec<usize>, Option<Classes>)> = workers.install(|| {
                new_hubs
                    .into_par_iter()
                    .map(|h| {
                        let (from, src) = source(&hubs, &h).unwrap_or((&zero, &base));
                        let cap = if depth == 1 {
                            src.keys.len() / 2
                        } else {
                            usize::MAX
                        };
                        let c = p.roll_up_within(src, from, &h, cap);
                        (h, c)
                    })
                    .collect()
            });
            for (h, c) in made {
                match c {
                    None => futile.push(h),
                    Some(c) if hub_entries < budget => {
                        hub_entries += c.keys.len();
                        hubs.push((h, Arc::new(c)));
                    }
                    Some(_) => {}
                }
            }
        }
        // Discernibility: a node whose bound from a successor's classes
        // (Prepared::split_bound) exceeds the N-th best loss is skipped.
        let split = p.config.metric == Metric::Discernibility && threshold.is_finite();
        let left = AtomicI64::new(budget as i64);
        visits.extend(workers.install(|| {
            todo.par_iter()
                .map(|&idx| {
                    let mut levels = vec![0; m];
                    decode(idx, &p.heights, &mut levels);
                    if split {
                        for c in (0..m).filter(|&c| levels[c] + 1 < p.heights[c]) {
                            if let Some(u) = upper.get(&(idx + strides[c])) {
                                let mut ul = levels.clone();
                                ul[c] += 1;
                                if above(p.split_bound(u, &ul, c), threshold) {
                                    return Visit::skipped(idx, false);
                                }
                            }
                        }
                    }
                    let (from, src) = source(&hubs, &levels).unwrap_or((&zero, &base));
                    // Too many classes: fails, as an evaluation would say.
                    let Some(classes) = p.roll_up_within(src, from, &levels, cap) else {
                        return Visit {
                            evaluated: true,
                            ..Visit::skipped(idx, true)
                        };
                    };
                    let (r, _) = p.evaluate(&classes, &levels);
                    let len = classes.keys.len() as i64;
                    // A node that fails tags every node under it: no
                    // bound is needed from it.
                    let keep = p.config.metric == Metric::Discernibility
                        && r.anonymous
                        && left.fetch_sub(len, Ordering::Relaxed) >= len;
                    Visit {
                        idx,
                        fails: !r.anonymous,
                        result: Some(r),
                        evaluated: true,
                        classes: keep.then(|| p.upper(classes)),
                    }
                })
                .collect::<Vec<_>>()
        }));
        upper.clear();
        for v in visits {
            fails[v.idx] = v.fails;
            if let Some(c) = v.classes {
                upper.insert(v.idx, c);
            }
            if v.evaluated {
                evaluated += 1;
            } else {
                skipped += 1;
            }
            if let Some(r) = v.result.filter(|r| r.anonymous) {
                insert_top(&mut top, r, top_n);
            }
        }
        done += layer.len() as u64;
        if let Some(f) = progress {
            f(done, total as u64);
        }
    }
    (top, evaluated, skipped)
}

/// Whether node `lower` is at or under node `upper` (every column at most).
fn within(lower: &[usize], upper: &[usize]) -> bool {
    lower.iter().zip(upper).all(|(a, b)| a <= b)
}

/// The hub with the fewest classes under `levels`, if any.
fn source<'h>(
    hubs: &'h [(Vec<usize>, Arc<Classes>)],
    levels: &[usize],
) -> Option<(&'h [usize], &'h Classes)> {
    hubs.iter()
        .filter(|(h, _)| within(h, levels))
        .min_by_key(|(_, c)| c.keys.len())
        .map(|(h, c)| (&h[..], &**c))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::anonymize::hierarchy::HierarchySpec;
    use crate::io::table::{Format, TableOptions, TableReader};
    use std::collections::BTreeMap;
    use std::string::ToString;
    use std::vec;

    /// `m` integer columns of `rows` rows, values below `values`, each with
    /// the hierarchy value / interval of 10 / `*`.
    fn counted(m: usize, rows: usize, values: u64) -> Counted {
        let mut rng = crate::xorshift(0x2545_f491_4f6c_dd1d);
        let mut next = |n: u64| rng() % n;
        let names: Vec<String> = (0..m).map(|i| std::format!("q{i}")).collect();
        let mut data = names.join(",") + "\n";
        for _ in 0..rows {
            let row: Vec<String> = (0..m)
                .map(|_| {
                    // Many rows share a few values: classes merge.
                    let v = if next(3) == 0 { next(values) } else { next(4) };
                    v.to_string()
                })
                .collect();
            data.push_str(&(row.join(",") + "\n"));
        }
        let mut table = TableReader::from_reader(
            std::boxed::Box::new(std::io::Cursor::new(data.into_bytes())),
            "t.csv",
            Format::Csv,
            &TableOptions::new(),
        )
        .unwrap();
        let hierarchies: Vec<_> = (0..m)
            .map(|_| {
                "interval:10"
                    .parse::<HierarchySpec>()
                    .unwrap()
                    .load()
                    .unwrap()
            })
            .collect();
        Counted::read(&mut table, &names, &hierarchies, None).unwrap()
    }

    /// The classes of `levels` counted directly: each combination's labels.
    fn direct(c: &Counted, levels: &[usize]) -> BTreeMap<Vec<u32>, u64> {
        let m = c.names.len();
        let mut out = BTreeMap::new();
        for (ids, &n) in c.keys.chunks(m).zip(&c.counts) {
            let labels = ids
                .iter()
                .enumerate()
                .map(|(col, &id)| c.columns[col].generalize_all(levels[col])[id as usize])
                .collect();
            *out.entry(labels).or_default() += n;
        }
        out
    }

    /// Rolled-up classes as label tuples.
    fn labels(p: &Prepared<'_>, classes: &Classes) -> BTreeMap<Vec<u32>, u64> {
        let mut out = BTreeMap::new();
        for (&key, &n) in classes.keys.iter().zip(&classes.counts) {
            let labels = (0..p.masks.len())
                .map(|col| ((key & p.masks[col]) >> p.offsets[col]) as u32)
                .collect();
            assert!(out.insert(labels, n).is_none(), "a class twice");
        }
        out
    }

    /// Every roll-up path (narrow keys of at most 64 bits and wide ones,
    /// dense table and hash, from the counted combinations and from a node
    /// under) gives the classes a direct count gives.
    #[test]
    fn roll_ups_equal_a_direct_count() {
        // 4 columns of 40 values: 24-bit keys. 12 columns: 72 bits.
        for (m, values) in [(4, 40), (12, 40)] {
            let c = counted(m, 600, values);
            let config = Config {
                models: Models {
                    k: Some(2),
                    ..Models::default()
                },
                suppress: 0.0,
                metric: Metric::Precision,
                top: 1,
                threads: 1,
            };
            let p = Prepared::new(&c, &config).unwrap();
            assert_eq!(p.masks.last().unwrap() >> 64 != 0, m == 12);
            let base = p.base();
            let zero = vec![0; m];
            let total = lattice_size(&p.heights).unwrap();
            let mut levels = vec![0; m];
            for idx in (0..total).step_by(total / 400 + 1).chain([total - 1]) {
                decode(idx, &p.heights, &mut levels);
                let expected = direct(&c, &levels);
                let from_base = p.roll_up(&base, &zero, &levels);
                assert_eq!(labels(&p, &from_base), expected, "{levels:?}");
                let under: Vec<usize> = levels.iter().map(|l| l / 2).collect();
                let mid = p.roll_up(&base, &zero, &under);
                let from_mid = p.roll_up(&mid, &under, &levels);
                assert_eq!(labels(&p, &from_mid), expected, "{levels:?}");
                // Capped below its class count, a roll-up gives up.
                let n = expected.len();
                assert!(p.roll_up_within(&mid, &under, &levels, n - 1).is_none());
                assert!(p.roll_up_within(&mid, &under, &levels, n).is_some());
            }
        }
    }
}
