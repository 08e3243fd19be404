//! The report as Markdown.

use std::string::{String, ToString};
use std::vec::Vec;

use super::Report;

/// The report as Markdown.
pub fn to_markdown(r: &Report) -> String {
    let mut o = String::new();
    o.push_str(&format!("# Re-identification audit of `{}`\n\n", r.input));
    o.push_str(&format!("**Verdict:** {}\n\n", r.headline));
    adversary(&mut o, r);
    if !r.claims.is_empty() {
        o.push_str("## Claims\n\n| claim | result | evidence |\n|---|---|---|\n");
        for c in &r.claims {
            o.push_str(&format!(
                "| {} | **{}** | {} |\n",
                c.claim,
                c.status.as_str(),
                c.evidence
            ));
        }
        o.push('\n');
    }
    criteria(&mut o, r);
    remedies(&mut o, r);
    if !r.hashes.is_empty() {
        o.push_str("## Hashed columns\n\n| column | rows | reversed | share | how | verdict |\n|---|---|---|---|---|---|\n");
        for h in &r.hashes {
            let how = h.matches.first().map_or("-".to_string(), |m| {
                format!("{} of {} ({})", m.algorithm.name(), m.space, m.format)
            });
            o.push_str(&format!(
                "| {} | {} | {} | {:.2}% | {} | {} |\n",
                h.column,
                h.values,
                h.reversed_rows,
                100.0 * h.reversed_share,
                how,
                h.verdict
            ));
        }
        o.push('\n');
    }
    if let Some(k) = &r.risk {
        o.push_str(&format!(
            "## Quasi-identifiers: {}\n\n",
            k.quasi_identifiers.join(", ")
        ));
        o.push_str(&format!(
            "- records {}, classes {}, k = {}\n",
            k.rows, k.classes, k.k
        ));
        o.push_str(&format!(
            "- unique records: {} ({:.2}%); in classes below 5: {:.2}%\n",
            k.records_in_small_classes.size_1,
            100.0 * k.sample_uniqueness,
            100.0 * k.records_in_small_classes.share_below_5
        ));
        o.push_str(&format!(
            "- prosecutor risk: highest {:.4}, average {:.4}; marketer risk {:.4}\n",
            k.prosecutor.highest_risk, k.prosecutor.average_risk, k.marketer_risk
        ));
        if let Some(j) = &k.journalist {
            o.push_str(&format!(
                "- against the population ({} rows): journalist risk highest {:.4}, average {:.4}; delta-presence {:.4} to {:.4}; k-map {}\n",
                j.population_rows,
                j.risk.highest_risk,
                j.risk.average_risk,
                j.delta_presence.delta_presence_min,
                j.delta_presence.delta_presence_max,
                j.k_map
            ));
        }
        if let Some(u) = &k.population_uniqueness {
            o.push_str(&format!(
                "- population uniqueness (sampling fraction {}): {:.4} ({:?})\n",
                u.sampling_fraction, u.dankar, u.dankar_model
            ));
        }
        o.push('\n');
    }
    if let Some(l) = &r.link {
        o.push_str(&format!("## Linkage on {}\n\n- {} of {} records matched exactly one auxiliary record ({:.2}%)\n", l.on.join(", "), l.unique_matches, l.released_rows, 100.0 * l.unique_match_share));
        if let (Some(c), Some(s)) = (l.correct, l.correct_share) {
            o.push_str(&format!(
                "- correct by ground truth: {c} ({:.2}%)\n",
                100.0 * s
            ));
        }
        o.push('\n');
    }
    if !r.linkable.is_empty() {
        o.push_str("## Stable pseudonyms\n\n");
        for l in &r.linkable {
            o.push_str(&format!(
                "- `{}`: {} distinct of {} sampled values; {}\n",
                l.column, l.distinct, l.values, l.finding
            ));
        }
        o.push('\n');
    }
    if !r.free_text.is_empty() {
        o.push_str("## Identifiers in free text\n\n");
        for f in &r.free_text {
            let per: std::vec::Vec<String> =
                f.per_type.iter().map(|(k, n)| format!("{k} {n}")).collect();
            o.push_str(&format!(
                "- `{}`: {} identifiers in {} of {} rows{}\n",
                f.column,
                f.identifiers,
                f.rows_with_identifiers,
                f.rows,
                if per.is_empty() {
                    String::new()
                } else {
                    format!(" ({})", per.join(", "))
                }
            ));
        }
        o.push('\n');
    }
    o.push_str(
        "Figures are counts and shares computed on the file itself; no identifier is shown.\n",
    );
    o.push_str(&format!(
        "Computed by deid {}; the parameters are in the JSON report.\n",
        r.deid_version
    ));
    o
}

fn adversary(o: &mut String, r: &Report) {
    let a = &r.adversary;
    o.push_str("## Whose perspective\n\n");
    o.push_str(&format!("- **Adversary:** {}\n", a.holds));
    for g in &a.given {
        o.push_str(&format!("- **Given:** {g}\n"));
    }
    for n in &a.not_tested {
        o.push_str(&format!("- **Not tested:** {n}\n"));
    }
    o.push('\n');
}

fn criteria(o: &mut String, r: &Report) {
    if r.findings.is_empty() {
        return;
    }
    o.push_str("## Criteria\n\n");
    for f in &r.findings {
        o.push_str(&format!("- **{}** ({})\n", f.subject, f.status.as_str()));
        for c in &f.criteria {
            o.push_str(&format!("  - *{}*: {}\n", c.title, c.reason));
        }
    }
    o.push_str("\nReferences:\n\n");
    let mut seen: Vec<&str> = Vec::new();
    for c in r.findings.iter().flat_map(|f| &f.criteria) {
        if !seen.contains(&c.id.as_str()) {
            seen.push(&c.id);
            o.push_str(&format!("- {}: {}\n", c.title, c.reference));
        }
    }
    o.push('\n');
}

fn remedies(o: &mut String, r: &Report) {
    if r.remedies.is_empty() {
        return;
    }
    o.push_str("## Remedies\n\n");
    for m in &r.remedies {
        o.push_str(&format!("- **{}**: {}\n", m.claim, m.remedy));
        if let Some(x) = &m.optimum {
            o.push_str(&format!(
                "\n  {}:\n\n  | quasi-identifier | hierarchy | level | generalization |\n  |---|---|---|---|\n",
                x.summary()
            ));
            for c in &x.columns {
                o.push_str(&format!(
                    "  | {} | {} | {} of {} | {} |\n",
                    c.column, c.hierarchy, c.level, c.top, c.generalization
                ));
            }
            o.push_str(&format!("\n  ```sh\n  {}\n  ```\n", x.command));
        }
        if !m.options.is_empty() {
            o.push_str("\n  | best generalizations | smallest class | classes | suppressed | loss |\n  |---|---|---|---|---|\n");
            for x in &m.options {
                o.push_str(&format!(
                    "  | {} | {} | {} | {:.2}% | {:.4} |\n",
                    x.steps.join("; "),
                    x.k,
                    x.classes,
                    100.0 * x.suppressed_share,
                    x.loss
                ));
            }
        }
        if let Some(p) = &m.policy {
            o.push_str(&format!("\n  ```toml\n{}  ```\n", indent(p)));
        }
        o.push('\n');
    }
}

fn indent(p: &str) -> String {
    p.lines().map(|l| format!("  {l}\n")).collect()
}
