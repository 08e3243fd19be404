//! Equivalence classes and the risk measured on them: prosecutor,
//! journalist and marketer risk, l-diversity and t-closeness.

use std::boxed::Box;
use std::collections::{BTreeMap, HashMap};
use std::string::String;
use std::vec::Vec;

use rustc_hash::FxHashMap;

use super::population;
use super::{
    ClassBin, DeltaPresence, Diversity, JournalistRisk, Risk, RiskOptions, RiskReport, SmallClasses,
};

/// Counts equivalence classes over quasi-identifier values.
pub struct ClassCounter {
    interners: Vec<FxHashMap<Box<[u8]>, u32>>,
    classes: FxHashMap<Box<[u32]>, Class>,
    sensitive_interner: FxHashMap<Box<[u8]>, u32>,
    with_sensitive: bool,
    key: Vec<u32>,
    rows: u64,
    /// Per quasi-identifier, the 1-based row each value id was first seen at.
    first_rows: Vec<Vec<u64>>,
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
            first_rows: vec![Vec::new(); qis],
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
        self.rows += 1;
        for ((m, v), first) in self.interners.iter_mut().zip(qi).zip(&mut self.first_rows) {
            let id = Self::intern(m, v);
            if id as usize == first.len() {
                first.push(self.rows);
            }
            self.key.push(id);
        }
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
        let (mut dmin, mut dmax, mut short, mut below_5) = (f64::INFINITY, 0.0f64, 0u64, 0u64);
        for (key, f) in &sample {
            let held = population.get(key).copied().unwrap_or(0);
            short += u64::from(held < *f);
            let big_f = held.max(*f);
            min_f = min_f.min(big_f);
            sum += *f as f64 / big_f as f64;
            sizes.push((*f, big_f));
            let delta = *f as f64 / big_f as f64;
            dmin = dmin.min(delta);
            dmax = dmax.max(delta);
            if big_f < 5 {
                below_5 += f;
            }
        }
        let absent = population
            .keys()
            .filter(|k| !sample.contains_key(*k))
            .count() as u64;
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
            delta_presence: DeltaPresence {
                delta_presence_min: if dmin.is_finite() { dmin } else { 0.0 },
                delta_presence_max: dmax,
                population_classes_absent_from_sample: absent,
            },
            k_map: if min_f == u64::MAX { 0 } else { min_f },
            k_map_records_below_5: below_5,
            classes_short_in_population: short,
        });
    }

    fn diversity(&self) -> Option<Diversity> {
        let dist = self.sensitive_distribution()?;
        let (mut distinct_l, mut entropy_l, mut recursive_c, mut t_eq, mut t_ord) =
            (u64::MAX, f64::INFINITY, 0.0f64, 0.0f64, 0.0f64);
        let mut counts = Vec::new();
        for c in self.classes.values() {
            let Some(s) = &c.sensitive else { continue };
            counts.clear();
            counts.extend(s.iter().map(|(v, n)| (*v, *n)));
            let d = dist.class(&counts);
            distinct_l = distinct_l.min(d.distinct);
            entropy_l = entropy_l.min(d.entropy_l);
            recursive_c = recursive_c.max(d.recursive_c);
            t_eq = t_eq.max(d.t_equal);
            t_ord = t_ord.max(d.t_ordered);
        }
        Some(Diversity {
            distinct_l,
            entropy_l,
            recursive_c_for_l2: recursive_c,
            t_closeness_equal_distance: t_eq,
            t_closeness_ordered_distance: t_ord,
            distinct_values: dist.len() as u64,
        })
    }

    /// The overall distribution of the sensitive attribute (`None` without
    /// one or without records).
    pub fn sensitive_distribution(&self) -> Option<SensitiveDistribution> {
        let mut overall = vec![0u64; self.sensitive_interner.len()];
        for c in self.classes.values() {
            for (v, n) in c.sensitive.iter().flatten() {
                overall[*v as usize] += n;
            }
        }
        let names = self.sensitive_values();
        SensitiveDistribution::new(&names, &overall)
    }

    /// The sensitive values, indexed by their id in [`Self::for_each_class`].
    pub fn sensitive_values(&self) -> Vec<&[u8]> {
        let mut v = vec![&[][..]; self.sensitive_interner.len()];
        for (k, &id) in &self.sensitive_interner {
            v[id as usize] = k;
        }
        v
    }

    /// The values of quasi-identifier `col`, indexed by their id in the
    /// class keys of [`Self::for_each_class`].
    pub fn values(&self, col: usize) -> Vec<&[u8]> {
        let Some(m) = self.interners.get(col) else {
            return Vec::new();
        };
        let mut v = vec![&[][..]; m.len()];
        for (k, &id) in m {
            v[id as usize] = k;
        }
        v
    }

    /// The 1-based row where each value of quasi-identifier `col` was first
    /// seen, indexed like [`Self::values`].
    pub fn first_rows(&self, col: usize) -> &[u64] {
        self.first_rows.get(col).map_or(&[], |v| &v[..])
    }

    /// Calls `f` with each class: its key (one value id per
    /// quasi-identifier), its size, and the counts of its sensitive values
    /// (`(id, count)`, empty without a sensitive attribute).
    pub fn for_each_class(&self, mut f: impl FnMut(&[u32], u64, &[(u32, u64)])) {
        let mut counts = Vec::new();
        for (k, c) in &self.classes {
            counts.clear();
            counts.extend(c.sensitive.iter().flatten().map(|(v, n)| (*v, *n)));
            counts.sort_unstable();
            f(k, c.count, &counts);
        }
    }
}

/// The overall distribution of a sensitive attribute, the reference of
/// t-closeness, with the order of ordered distance: numeric when every
/// value parses as a number, else text order.
///
/// One definition of l-diversity and t-closeness per class, used by
/// `audit risk` ([`ClassCounter`]) and by the anonymization search.
#[derive(Clone, Debug)]
pub struct SensitiveDistribution {
    /// Position of each value id in the order.
    position: Vec<usize>,
    /// Overall share of each value, by position.
    q: Vec<f64>,
}

/// l-diversity and t-closeness of one class.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ClassDiversity {
    /// Distinct sensitive values.
    pub distinct: u64,
    /// exp(entropy) of the class's sensitive values (entropy l-diversity).
    pub entropy_l: f64,
    /// r1 / (r2 + … + rm) (∞ with one value): recursive (c,2)-diversity holds for c above it.
    pub recursive_c: f64,
    /// Earth mover's distance to the overall distribution, equal ground distance.
    pub t_equal: f64,
    /// Earth mover's distance to the overall distribution, ordered ground distance.
    pub t_ordered: f64,
}

impl SensitiveDistribution {
    /// From the values (by id) and their overall counts (by id); `None` if
    /// there is no record.
    pub fn new(names: &[&[u8]], overall: &[u64]) -> Option<Self> {
        let total: u64 = overall.iter().sum();
        if total == 0 {
            return None;
        }
        let mut order: Vec<usize> = (0..names.len()).collect();
        let numeric: Option<Vec<f64>> = names
            .iter()
            .map(|n| {
                std::str::from_utf8(n)
                    .ok()
                    .and_then(|s| s.trim().parse::<f64>().ok())
            })
            .collect();
        match numeric {
            Some(nums) => order.sort_by(|a, b| nums[*a].total_cmp(&nums[*b])),
            None => order.sort_by(|a, b| names[*a].cmp(names[*b])),
        }
        let mut position = vec![0; names.len()];
        for (pos, &id) in order.iter().enumerate() {
            position[id] = pos;
        }
        let q = order
            .iter()
            .map(|&id| overall.get(id).copied().unwrap_or(0) as f64 / total as f64)
            .collect();
        Some(SensitiveDistribution { position, q })
    }

    /// Distinct sensitive values overall.
    pub fn len(&self) -> usize {
        self.q.len()
    }

    /// Whether there is no value.
    pub fn is_empty(&self) -> bool {
        self.q.is_empty()
    }

    /// The measures of a class from its `(value id, count)` pairs (each id once).
    pub fn class(&self, counts: &[(u32, u64)]) -> ClassDiversity {
        let size: u64 = counts.iter().map(|c| c.1).sum();
        let sizef = size as f64;
        let h: f64 = counts
            .iter()
            .map(|&(_, k)| {
                let p = k as f64 / sizef;
                -p * p.ln()
            })
            .sum();
        let mut sorted: Vec<u64> = counts.iter().map(|c| c.1).collect();
        sorted.sort_unstable_by(|a, b| b.cmp(a));
        // Recursive (c,2)-diversity: r1 < c (r2 + ... + rm).
        let tail: u64 = sorted.iter().skip(1).sum();
        let recursive_c = if tail == 0 {
            f64::INFINITY
        } else {
            sorted.first().copied().unwrap_or(0) as f64 / tail as f64
        };
        let m = self.q.len();
        let mut p = vec![0.0; m];
        for &(v, k) in counts {
            if let Some(&pos) = self.position.get(v as usize) {
                p[pos] = k as f64 / sizef;
            }
        }
        let t_equal: f64 = 0.5
            * p.iter()
                .zip(&self.q)
                .map(|(a, b)| (a - b).abs())
                .sum::<f64>();
        let mut t_ordered = 0.0;
        if m > 1 {
            let mut acc = 0.0;
            let mut ord = 0.0;
            for (a, b) in p.iter().zip(&self.q) {
                acc += a - b;
                ord += f64::abs(acc);
            }
            t_ordered = ord / (m - 1) as f64;
        }
        ClassDiversity {
            distinct: counts.len() as u64,
            entropy_l: h.exp(),
            recursive_c,
            t_equal,
            t_ordered,
        }
    }
}

/// The sample-based measures and population models from class sizes alone
/// (from [`csv_class_sizes`](super::csv_class_sizes) or [`ClassCounter::class_sizes`]): everything
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

#[cfg(test)]
mod tests {
    use super::*;

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
        // Hand-computed: classes (a,x) 2 of 10 and (b,y) 1 of 4.
        assert_eq!(j.delta_presence.delta_presence_min, 0.2);
        assert_eq!(j.delta_presence.delta_presence_max, 0.25);
        assert_eq!(j.k_map, 4);
        assert_eq!(j.k_map_records_below_5, 1);
        assert_eq!(j.classes_short_in_population, 0);
        assert_eq!(j.delta_presence.population_classes_absent_from_sample, 0);
    }

    #[test]
    fn delta_presence_and_k_map_on_a_small_population_by_hand() {
        // Population of 12 on (age band, sex): (30,F) 6, (30,M) 3, (40,F) 2,
        // (40,M) 1. Sample of 5: (30,F) 3, (30,M) 1, (40,F) 1.
        let sample = counter(&[
            ("30", "F", "-"),
            ("30", "F", "-"),
            ("30", "F", "-"),
            ("30", "M", "-"),
            ("40", "F", "-"),
        ]);
        let mut pop = HashMap::new();
        for (a, s, n) in [
            ("30", "F", 6),
            ("30", "M", 3),
            ("40", "F", 2),
            ("40", "M", 1),
        ] {
            pop.insert(vec![a.as_bytes().to_vec(), s.as_bytes().to_vec()], n);
        }
        let mut r = sample.report(&["age".into(), "sex".into()], &RiskOptions::default());
        sample.journalist(&mut r, &pop);
        let j = r.journalist.unwrap();
        // delta: 3/6 = 0.5, 1/3, 1/2 = 0.5 -> min 1/3, max 0.5.
        assert_eq!(j.delta_presence.delta_presence_min, 1.0 / 3.0);
        assert_eq!(j.delta_presence.delta_presence_max, 0.5);
        assert_eq!(j.delta_presence.population_classes_absent_from_sample, 1);
        // k-map: smallest population count of a sample class, (40,F) = 2.
        assert_eq!(j.k_map, 2);
        assert_eq!(j.k_map_records_below_5, 2); // (30,M) of 3 and (40,F) of 2
        assert_eq!(j.population_rows, 12);
        // A population file missing a sample class counts it as short.
        pop.remove(&vec![b"40".to_vec(), b"F".to_vec()]);
        let mut r = sample.report(&["age".into(), "sex".into()], &RiskOptions::default());
        sample.journalist(&mut r, &pop);
        let j = r.journalist.unwrap();
        assert_eq!(j.classes_short_in_population, 1);
        assert_eq!(j.k_map, 1);
        assert_eq!(j.delta_presence.delta_presence_max, 1.0);
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
}
