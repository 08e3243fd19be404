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

mod classes;
mod parallel;
pub mod population;
mod qi_search;
pub mod stats;

use std::string::String;
use std::vec::Vec;

use serde::Serialize;

pub use classes::{ClassCounter, ClassDiversity, SensitiveDistribution, report_from_sizes};
pub use parallel::csv_class_sizes;
pub use population::{Model, PopulationUniqueness};
pub use qi_search::{find_qi, find_qi_counting};

/// What to compute besides the sample-based measures.
#[derive(Clone, Debug, Default)]
pub struct RiskOptions {
    /// Sampling fraction π (0 < π ≤ 1) for population uniqueness.
    pub sampling_fraction: Option<f64>,
    /// Population size N (π = n / N).
    pub population: Option<u64>,
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
    /// delta-presence (ARX; Nergiz, Atzori and Clifton): over the classes
    /// of the sample, its count over the population's count for the same
    /// quasi-identifier values.
    pub delta_presence: DeltaPresence,
    /// k-map (Google Sensitive Data Protection): the smallest population
    /// count of a sample class; every record of the sample matches at
    /// least this many people of the population.
    pub k_map: u64,
    /// Records of the sample whose class matches fewer than 5 people of
    /// the population.
    pub k_map_records_below_5: u64,
    /// Sample classes the population file does not hold as often as the
    /// sample does (counted with the sample's count, as if the file had
    /// them): a sign the file does not cover the sample.
    pub classes_short_in_population: u64,
}

/// delta-presence bounds.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct DeltaPresence {
    /// Smallest sample count / population count over the sample's classes.
    pub delta_presence_min: f64,
    /// Largest: the highest probability that a person of the population
    /// with these values is in the sample.
    pub delta_presence_max: f64,
    /// Population classes with no record in the sample (delta 0).
    pub population_classes_absent_from_sample: u64,
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
