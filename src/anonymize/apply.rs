//! The search's result run by `deid apply`: `generalize` rules by hierarchy
//! and level ([`load_hierarchies`]) and record suppression
//! ([`suppression`]), with the hierarchies and the model test of the
//! search itself, so a policy written by `deid anonymize --policy-out`
//! gives exactly the classes and the suppressed records it predicted.

use std::boxed::Box;
use std::collections::HashSet;
use std::path::Path;
use std::string::{String, ToString};
use std::sync::{Arc, Mutex, OnceLock};
use std::vec::Vec;

use super::hierarchy::{Hierarchy, HierarchySpec};
use super::{AnonymizeError, Config, Counted, Models, NodeResult};
use crate::error::Error;
use crate::io::suppress::SuppressClasses;
use crate::io::table::{TableOptions, TableReader};
use crate::policy::{Policy, SuppressSpec};
use crate::transform::TransformSpec;
use crate::transform::hierarchy::LevelLookup;

/// One hierarchy at one level, as a policy field's transform.
struct LevelOf {
    hierarchy: Hierarchy,
    level: usize,
    /// The rule a value breaks, naming the hierarchy (file).
    rule: &'static str,
}

impl LevelLookup for LevelOf {
    fn generalize(&self, value: &[u8], out: &mut Vec<u8>) -> Result<(), Error> {
        self.hierarchy
            .label(value, self.level, out)
            .map_err(|_| Error::Invalid(self.rule))
    }
}

/// A rule text that lives as long as the program: each distinct text is
/// kept once (a policy names a few hierarchies).
fn static_rule(text: String) -> &'static str {
    static RULES: OnceLock<Mutex<HashSet<&'static str>>> = OnceLock::new();
    let rules = RULES.get_or_init(|| Mutex::new(HashSet::new()));
    let Ok(mut set) = rules.lock() else {
        return "value of its hierarchy";
    };
    if let Some(s) = set.get(text.as_str()) {
        return s;
    }
    let s: &'static str = Box::leak(text.into_boxed_str());
    set.insert(s);
    s
}

/// The hierarchy a rule names, a relative file path taken from `base` (the
/// policy's folder).
fn spec_of(hierarchy: &str, delimiter: u8, base: &Path) -> Result<HierarchySpec, String> {
    let mut spec: HierarchySpec = hierarchy.parse()?;
    if let HierarchySpec::File { path, delimiter: d } = &mut spec {
        if path.is_relative() {
            *path = base.join(&*path);
        }
        *d = delimiter;
    }
    Ok(spec)
}

/// Loads the hierarchy of every `generalize` rule with `hierarchy` in
/// `policy`, files relative to `base` (the policy file's folder), and
/// checks its level; until then such a field cannot be compiled.
///
/// # Errors
/// An unknown built-in, an unreadable or malformed hierarchy file (naming
/// the file, row and rule), or a level above the hierarchy's top (naming
/// the field).
pub fn load_hierarchies(policy: &mut Policy, base: &Path) -> Result<(), AnonymizeError> {
    for (name, field) in policy.fields.iter_mut() {
        let TransformSpec::GeneralizeHierarchy(rule) = &mut field.transform else {
            continue;
        };
        let spec = spec_of(&rule.hierarchy, rule.delimiter, base)
            .map_err(|e| AnonymizeError::Request(format!("field {name}: hierarchy: {e}")))?;
        let hierarchy = spec.load()?;
        if let Some(max) = hierarchy.max_level() {
            if rule.level > max {
                return Err(AnonymizeError::Request(format!(
                    "field {name}: level {} is above the top of hierarchy {spec} (levels 0 to {max})",
                    rule.level
                )));
            }
        }
        let what = match &spec {
            HierarchySpec::File { path, .. } => format!(
                "entry of hierarchy file {} (the file has no row for it; rule of field {name})",
                path.display()
            ),
            HierarchySpec::Date => format!("date (hierarchy date of field {name})"),
            HierarchySpec::Interval(_) => format!("integer (hierarchy {spec} of field {name})"),
            _ => format!("UTF-8 text (hierarchy {spec} of field {name})"),
        };
        rule.set_lookup(Arc::new(LevelOf {
            hierarchy,
            level: rule.level,
            rule: static_rule(what),
        }));
    }
    Ok(())
}

/// What the first pass of a `[suppress]` policy found.
#[derive(Debug)]
pub struct Suppression {
    /// The classes to leave out, for the pipeline.
    pub classes: SuppressClasses,
    /// The transformation evaluated as the search evaluates it: records
    /// suppressed, released classes, k, l, t, average risk.
    pub node: NodeResult,
    /// Records read.
    pub rows: u64,
    /// Largest number of records the limit allows.
    pub max_suppressed: u64,
}

/// The search's models from a `[suppress]` table.
///
/// # Errors
/// No model, a threshold out of range, l or t without `sensitive`.
pub fn models_of(s: &SuppressSpec) -> Result<(Models, Option<String>), AnonymizeError> {
    let bad = |m: &str| AnonymizeError::Request(format!("[suppress]: {m}"));
    if !(0.0..=1.0).contains(&s.limit) {
        return Err(bad("limit is a share of the records, 0 to 1"));
    }
    if s.quasi_identifiers.is_empty() {
        return Err(bad("quasi_identifiers names no column"));
    }
    let models = Models {
        k: s.k,
        l_distinct: s.l,
        l_entropy: s.entropy_l,
        t_equal: s.t,
        t_ordered: s.ordered_t,
        max_risk: s.max_risk,
    };
    if models.k == Some(0) || models.l_distinct == Some(0) {
        return Err(bad("k and l are at least 1"));
    }
    let finite = [s.entropy_l, s.t, s.ordered_t, s.max_risk];
    if finite.iter().flatten().any(|v| !v.is_finite() || *v < 0.0) {
        return Err(bad(
            "entropy_l, t, ordered_t and max_risk are non-negative numbers",
        ));
    }
    let diversity =
        s.l.is_some() || s.entropy_l.is_some() || s.t.is_some() || s.ordered_t.is_some();
    if diversity && s.sensitive.is_none() {
        return Err(bad("l and t need `sensitive`, the column they measure"));
    }
    if models == Models::default() {
        return Err(bad(
            "no model: give k (or l, entropy_l, t, ordered_t, max_risk)",
        ));
    }
    Ok((models, s.sensitive.clone().filter(|_| diversity)))
}

/// The first pass of a policy with `[suppress]`: reads the input at `path`
/// once, counts the classes of its quasi-identifiers at the policy's
/// levels exactly as the search does (the same hierarchies, files relative
/// to `base`, and the same test of each class), and returns the classes
/// whose records are left out. `None` for a policy without `[suppress]`.
///
/// # Errors
/// A quasi-identifier that is not a `generalize` field with a `hierarchy`,
/// an unreadable input or hierarchy, a value a hierarchy does not cover
/// (naming row and column), or a policy whose models cannot hold within its
/// limit: more records to suppress than it allows, or an average risk above
/// the bound after suppression.
pub fn suppression(
    policy: &Policy,
    base: &Path,
    path: &Path,
    options: &TableOptions,
) -> Result<Option<Suppression>, AnonymizeError> {
    let Some(spec) = &policy.suppress else {
        return Ok(None);
    };
    let (models, sensitive) = models_of(spec)?;
    let mut hierarchies = Vec::with_capacity(spec.quasi_identifiers.len());
    let mut levels = Vec::with_capacity(spec.quasi_identifiers.len());
    for q in &spec.quasi_identifiers {
        let Some(TransformSpec::GeneralizeHierarchy(rule)) =
            policy.fields.get(q).map(|f| &f.transform)
        else {
            return Err(AnonymizeError::Request(format!(
                "[suppress]: quasi-identifier {q} must be a field with transform = \"generalize\" and a hierarchy"
            )));
        };
        let h = spec_of(&rule.hierarchy, rule.delimiter, base)
            .map_err(|e| AnonymizeError::Request(format!("field {q}: hierarchy: {e}")))?;
        hierarchies.push(h.load()?);
        levels.push(rule.level);
    }
    let mut table = TableReader::open(Some(path), options)?;
    let counted = Counted::read(
        &mut table,
        &spec.quasi_identifiers,
        &hierarchies,
        sensitive.as_deref(),
    )?;
    // Prefix and mask grow with the longest value: a level past the top of
    // the data's hierarchy gives `*` for every value, as the top does.
    for (l, c) in levels.iter_mut().zip(counted.columns()) {
        *l = (*l).min(c.height().saturating_sub(1));
    }
    let config = Config {
        models,
        suppress: spec.limit,
        threads: 1,
        ..Config::default()
    };
    let mut classes = SuppressClasses::new(spec.quasi_identifiers.clone());
    let node =
        super::search::suppressed(&counted, &config, &levels, |labels| classes.insert(labels))?;
    let rows = counted.rows();
    let max_suppressed = (spec.limit * rows as f64 + 1e-9).floor() as u64;
    if node.suppressed > max_suppressed {
        return Err(AnonymizeError::Request(format!(
            "[suppress]: {} of {} records are in classes that break the models, more than the limit {} allows ({} records); nothing was written",
            node.suppressed, rows, spec.limit, max_suppressed
        )));
    }
    if !node.anonymous {
        return Err(AnonymizeError::Request(format!(
            "[suppress]: after suppressing {} records the average risk is {:.6}, above max_risk; nothing was written",
            node.suppressed, node.average_risk
        )));
    }
    Ok(Some(Suppression {
        classes,
        node,
        rows,
        max_suppressed,
    }))
}

/// What `deid anonymize --policy-out` writes: a policy that `deid apply`
/// runs to produce a transformation of the search. Each quasi-identifier
/// (`qi[i]`) is generalized by `hierarchies[i]` (the rule text, a file path
/// relative to the policy or a built-in, and a file's field separator) at
/// `levels[i]`; every other input column is listed with `keep` and
/// `unlisted = "error"`, so a column the export gains later stops the run
/// instead of passing unreviewed; `[suppress]` holds the models and the
/// limit, so the records the search suppressed are left out and a policy
/// that no longer holds on changed data fails with nothing written.
pub fn result_policy(
    columns: &[String],
    qi: &[String],
    hierarchies: &[(String, u8)],
    levels: &[usize],
    models: &Models,
    sensitive: Option<&str>,
    limit: f64,
) -> Policy {
    use crate::policy::{OnError, Unlisted};
    use crate::transform::FieldSpec;
    use crate::transform::hierarchy::HierarchyRule;
    let mut policy = Policy {
        unlisted: Unlisted::Error,
        on_error: OnError::Fail,
        ..Policy::keep_all()
    };
    for c in columns {
        policy
            .fields
            .insert(c.clone(), FieldSpec::new(TransformSpec::Keep));
    }
    for ((q, (h, d)), &l) in qi.iter().zip(hierarchies).zip(levels) {
        let mut spec = FieldSpec::new(TransformSpec::GeneralizeHierarchy(HierarchyRule::new(
            h.clone(),
            l,
            *d,
        )));
        spec.empty = crate::transform::EmptyRule::Transform;
        policy.fields.insert(q.clone(), spec);
    }
    policy.suppress = Some(SuppressSpec {
        quasi_identifiers: qi.to_vec(),
        k: models.k,
        l: models.l_distinct,
        entropy_l: models.l_entropy,
        t: models.t_equal,
        ordered_t: models.t_ordered,
        sensitive: sensitive.map(ToString::to_string),
        max_risk: models.max_risk,
        limit,
    });
    policy
}
