//! The remedy of a refuted k-anonymity or risk claim: the least
//! generalization that makes it hold, found by the exact lattice search of
//! [`anonymize::search`] on the classes the report already counted.
//!
//! Each quasi-identifier gets a built-in hierarchy chosen from its type as
//! the scan saw it: dates `date` (day, month, year, 5 and 10 years, `*`),
//! numbers `interval` (widths 5, 10, 20, 40 for values up to 150, such as
//! ages; otherwise 1, 10 and 100 units of a hundredth of the largest power
//! of ten), postal codes `prefix` (one trailing digit dropped per level),
//! anything else `mask` (one more trailing character masked per level). A
//! column whose values a hierarchy cannot take (a date column with one
//! non-date) falls back to `mask`, which takes every value. The suppression
//! limit is the claims' `max_suppression` ([`super::MAX_SUPPRESSION`] by
//! default)
//! and the metric [`REMEDY_METRIC`].

use std::string::{String, ToString};
use std::vec::Vec;

use serde::Serialize;

use super::remedy::GeneralizationOption;
use crate::anonymize::hierarchy::HierarchySpec;
use crate::anonymize::{self, AnonymizeError, Config, Counted, Metric, Models, NodeResult};
use crate::audit::progress::Progress;
use crate::audit::risk::ClassCounter;
use crate::scan::Kind;

/// The information loss the remedy search minimizes (Sweeney's precision,
/// docs/ANONYMIZE.md).
pub const REMEDY_METRIC: Metric = Metric::Precision;

/// The file the remedy's `deid anonymize` command writes its policy to.
pub const FIX_POLICY: &str = "fix-policy.toml";

/// How many of the best transformations a remedy lists.
const LISTED: usize = 3;

/// One quasi-identifier at the optimal node.
#[derive(Clone, Debug, Serialize)]
pub struct OptimumColumn {
    /// The column.
    pub column: String,
    /// Its hierarchy, as `deid anonymize --hierarchy COL=SPEC` takes it.
    pub hierarchy: String,
    /// The level chosen (0: kept as written).
    pub level: usize,
    /// The hierarchy's top level (`*`).
    pub top: usize,
    /// What the level means, in words.
    pub generalization: String,
}

/// The least generalization that makes a claim hold, and its cost.
#[derive(Clone, Debug, Serialize)]
pub struct Optimum {
    /// Each quasi-identifier's level.
    pub columns: Vec<OptimumColumn>,
    /// The metric minimized.
    pub metric: Metric,
    /// Its value at the optimum.
    pub loss: f64,
    /// Records suppressed (in classes that still break the claim).
    pub suppressed: u64,
    /// The same as a share of the records.
    pub suppressed_share: f64,
    /// Largest share that could be suppressed.
    pub suppression_limit: f64,
    /// Smallest class released.
    pub k: u64,
    /// Classes released.
    pub classes: u64,
    /// Released classes / released records.
    pub average_risk: f64,
    /// Nodes the search evaluated, of the lattice's.
    pub nodes_evaluated: u64,
    /// Nodes in the lattice.
    pub lattice_nodes: u64,
    /// The `deid anonymize` command that finds the same optimum and writes
    /// the policy that applies it (`fix-policy.toml`).
    pub command: String,
}

impl Optimum {
    /// One line on the optimum's cost and result, as the Markdown and HTML
    /// reports print it above the table of levels.
    pub fn summary(&self) -> String {
        std::format!(
            "Optimal generalization ({:?} loss {:.4}; {} records, {:.2}%, suppressed of at most {:.2}%; smallest class {}, {} classes, average risk {:.4}; {} of {} nodes evaluated)",
            self.metric,
            self.loss,
            self.suppressed,
            100.0 * self.suppressed_share,
            100.0 * self.suppression_limit,
            self.k,
            self.classes,
            self.average_risk,
            self.nodes_evaluated,
            self.lattice_nodes
        )
    }
}

/// What a remedy search looks for.
#[derive(Clone, Debug)]
pub(super) struct Target {
    /// Smallest class (k claims, and 1 / highest risk).
    pub k: Option<u64>,
    /// Highest average risk.
    pub average_risk: Option<f64>,
}

/// The result of a remedy search: the optimum (none if no node holds) and
/// the best nodes as options, or why the search could not run.
pub(super) struct Found {
    pub optimum: Option<Optimum>,
    pub options: Vec<GeneralizationOption>,
    pub policy: Option<String>,
}

/// Per column: the hierarchy and, for `prefix`, the length every value has
/// (a prefix policy keeps a fixed number of characters).
struct Choice {
    spec: HierarchySpec,
    uniform_len: Option<usize>,
}

fn choose(kind: Kind, values: &[&[u8]]) -> Choice {
    let uniform_len = {
        let mut lens = values
            .iter()
            .map(|v| std::str::from_utf8(v).map_or(usize::MAX, |s| s.chars().count()));
        let first = lens.next();
        first.filter(|&f| f != usize::MAX && lens.all(|l| l == f))
    };
    let spec = match kind {
        Kind::Date => HierarchySpec::Date,
        Kind::PostalCode => HierarchySpec::Prefix,
        Kind::Number => {
            let max = values
                .iter()
                .filter_map(|v| std::str::from_utf8(v).ok()?.trim().parse::<f64>().ok())
                .map(f64::abs)
                .fold(0.0f64, f64::max);
            if max <= 150.0 {
                HierarchySpec::Interval(vec![5, 10, 20, 40])
            } else {
                let unit = 10f64.powi((max.log10().floor() as i32 - 2).max(0)) as u64;
                HierarchySpec::Interval(vec![unit, 10 * unit, 100 * unit])
            }
        }
        _ => HierarchySpec::Mask,
    };
    Choice { spec, uniform_len }
}

fn describe(spec: &HierarchySpec, level: usize, top: usize) -> String {
    if level == 0 {
        return "kept as written".into();
    }
    if level == top {
        return "fully generalized (*)".into();
    }
    let s = |n: usize| if n == 1 { "" } else { "s" };
    match spec {
        HierarchySpec::Date => ["", "to month", "to year", "to 5 years", "to 10 years"]
            .get(level)
            .map_or_else(|| "generalized".into(), |x| (*x).to_string()),
        HierarchySpec::Interval(w) => w
            .get(level - 1)
            .map_or_else(|| "generalized".into(), |w| format!("to intervals of {w}")),
        HierarchySpec::Prefix => format!("last {level} character{} dropped", s(level)),
        HierarchySpec::Mask => format!("last {level} character{} masked", s(level)),
        _ => format!("to level {level}"),
    }
}

/// The `deid apply` lines of one column at `level`, if a built-in rule makes
/// exactly that level (the top level, `*`, is the column dropped: the same
/// classes).
fn policy_lines(column: &str, c: &Choice, level: usize, top: usize) -> Option<Option<String>> {
    if level == 0 {
        return Some(None);
    }
    let head = format!("[fields.{}]\n", toml_key(column));
    if level == top {
        return Some(Some(format!("{head}transform = \"drop\"\n")));
    }
    let body = match (&c.spec, level) {
        (HierarchySpec::Date, 1) => "to = \"year-month\"\n".to_string(),
        (HierarchySpec::Date, 2) => "to = \"year\"\n".to_string(),
        (HierarchySpec::Interval(w), l) => format!("to = \"bucket\"\nwidth = {}\n", w.get(l - 1)?),
        (HierarchySpec::Prefix, l) => {
            let keep = c.uniform_len?.checked_sub(l).filter(|&k| k > 0)?;
            format!("to = \"prefix\"\nkeep = {keep}\n")
        }
        _ => return None,
    };
    Some(Some(format!("{head}transform = \"generalize\"\n{body}")))
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

/// Quotes a word for a POSIX shell when it needs it.
fn shell(w: &str) -> String {
    if !w.is_empty()
        && w.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"_-./,=:+@".contains(&b))
    {
        w.to_string()
    } else {
        format!("'{}'", w.replace('\'', "'\\''"))
    }
}

/// Searches the lattice of `qi` (classes already counted in `counter`,
/// `kinds` as scanned) for `target` with at most `suppress` of the records
/// suppressed. `input` is named in the command line only.
#[allow(clippy::too_many_arguments)]
pub(super) fn search(
    counter: &ClassCounter,
    qi: &[String],
    kinds: &[Kind],
    target: &Target,
    suppress: f64,
    threads: usize,
    input: &str,
    progress: &Progress,
) -> Result<Found, AnonymizeError> {
    let mut choices: Vec<Choice> = kinds
        .iter()
        .enumerate()
        .map(|(i, &k)| choose(k, &counter.values(i)))
        .collect();
    // A column its hierarchy cannot take falls back to masking (once).
    let counted = loop {
        let hierarchies = choices
            .iter()
            .map(|c| c.spec.load())
            .collect::<Result<Vec<_>, _>>()?;
        match Counted::from_counter(counter, qi, &hierarchies) {
            Ok(c) => break c,
            Err(AnonymizeError::Value { column, .. }) => {
                let Some(i) = qi.iter().position(|q| *q == column) else {
                    return Err(AnonymizeError::Request(format!(
                        "column {column}: no built-in hierarchy fits"
                    )));
                };
                if choices[i].spec == HierarchySpec::Mask {
                    return Err(AnonymizeError::Request(format!(
                        "column {column}: no built-in hierarchy fits"
                    )));
                }
                choices[i].spec = HierarchySpec::Mask;
            }
            Err(e) => return Err(e),
        }
    };
    let config = Config {
        models: Models {
            k: target.k,
            max_risk: target.average_risk,
            ..Models::default()
        },
        suppress,
        metric: REMEDY_METRIC,
        top: LISTED,
        threads,
    };
    let lattice: u64 = counted
        .columns()
        .iter()
        .map(|c| c.height() as u64)
        .product();
    progress.stage(
        format!("searching the generalization lattice of {}", qi.join(", ")),
        "nodes",
        Some(lattice),
    );
    let report = |done: u64, _total: u64| {
        progress
            .counter()
            .store(done, std::sync::atomic::Ordering::Relaxed);
    };
    let result = anonymize::search(&counted, &config, Some(&report))?;
    let rows = counted.rows();
    let share = |n: u64| {
        if rows == 0 {
            0.0
        } else {
            n as f64 / rows as f64
        }
    };
    let tops: Vec<usize> = result.heights.iter().map(|h| h - 1).collect();
    let columns_of = |n: &NodeResult| -> Vec<OptimumColumn> {
        qi.iter()
            .zip(&choices)
            .zip(n.levels.iter().zip(&tops))
            .map(|((q, c), (&l, &t))| OptimumColumn {
                column: q.clone(),
                hierarchy: c.spec.to_string(),
                level: l,
                top: t,
                generalization: describe(&c.spec, l, t),
            })
            .collect()
    };
    let policy_of = |n: &NodeResult| -> Option<String> {
        let mut out = Vec::new();
        for ((q, c), (&l, &t)) in qi.iter().zip(&choices).zip(n.levels.iter().zip(&tops)) {
            if let Some(p) = policy_lines(q, c, l, t)? {
                out.push(p);
            }
        }
        Some(out.join("\n"))
    };
    let mut command = vec![
        "deid".to_string(),
        "anonymize".into(),
        shell(input),
        "--qi".into(),
        shell(&qi.join(",")),
    ];
    for (q, c) in qi.iter().zip(&choices) {
        command.push("--hierarchy".into());
        command.push(shell(&format!("{q}={}", c.spec)));
    }
    if let Some(k) = target.k {
        command.push("--model".into());
        command.push(format!("k={k}"));
    }
    if let Some(r) = target.average_risk {
        command.push("--max-risk".into());
        command.push(format!("{r}"));
    }
    command.push("--suppress".into());
    command.push(format!("{suppress}"));
    command.push("--metric".into());
    command.push("precision".into());
    // The policy `deid apply` runs to produce exactly this optimum,
    // suppression included (docs/ANONYMIZE.md).
    command.push("--policy-out".into());
    command.push(FIX_POLICY.into());
    let options = result
        .nodes
        .iter()
        .map(|n| GeneralizationOption {
            steps: columns_of(n)
                .iter()
                .map(|c| format!("{} {}", c.column, c.generalization))
                .collect(),
            policy: policy_of(n).unwrap_or_default(),
            k: n.k,
            classes: n.classes,
            suppressed_share: share(n.suppressed),
            reaches_k: n.anonymous,
            loss: n.loss,
        })
        .collect();
    let best = result.nodes.first();
    Ok(Found {
        policy: best.and_then(policy_of),
        optimum: best.map(|n| Optimum {
            columns: columns_of(n),
            metric: REMEDY_METRIC,
            loss: n.loss,
            suppressed: n.suppressed,
            suppressed_share: share(n.suppressed),
            suppression_limit: suppress,
            k: n.k,
            classes: n.classes,
            average_risk: n.average_risk,
            nodes_evaluated: result.evaluated,
            lattice_nodes: result.lattice,
            command: command.join(" "),
        }),
        options,
    })
}

/// The remedy's sentence for an optimum.
pub(super) fn sentence(o: &Optimum, target: &Target) -> String {
    let goal = match (target.k, target.average_risk) {
        (Some(k), Some(r)) => format!("k = {k} and average risk at most {r}"),
        (Some(k), None) => format!("k = {k}"),
        (None, Some(r)) => format!("an average risk at most {r}"),
        (None, None) => "the claim".into(),
    };
    format!(
        "the least generalization reaching {goal} with at most {:.2}% of records suppressed (exact search of {} nodes, {} evaluated; precision loss {:.4}): {}; {} records ({:.2}%) suppressed; smallest class {}, average risk {:.4}. Reproduce it with: {}",
        100.0 * o.suppression_limit,
        o.lattice_nodes,
        o.nodes_evaluated,
        o.loss,
        o.columns
            .iter()
            .map(|c| format!(
                "{} {} (level {} of {})",
                c.column, c.generalization, c.level, c.top
            ))
            .collect::<Vec<_>>()
            .join(", "),
        o.suppressed,
        100.0 * o.suppressed_share,
        o.k,
        o.average_risk,
        o.command
    )
}
