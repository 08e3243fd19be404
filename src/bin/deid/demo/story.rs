//! The demo's closing table: what each export gives its recipient, side by
//! side, from the two audit reports.

use std::io::Write;

use deid::audit::report::{Report, Status};

const LABEL: usize = 24;
const CELL: usize = 40;

/// Prints the two reports side by side.
pub fn side_by_side(
    out: &mut dyn Write,
    naive: (&Report, f64),
    safe: (&Report, f64),
) -> anyhow::Result<()> {
    let (n, ns) = naive;
    let (d, ds) = safe;
    writeln!(out)?;
    row(
        out,
        "",
        "NAIVE EXPORT (unsalted SHA-256)",
        "DEID EXPORT (sample policy)",
    )?;
    row(out, "", &"-".repeat(CELL - 1), &"-".repeat(CELL - 1))?;
    row(
        out,
        "individuals cannot be identified",
        &verdict(n),
        &verdict(d),
    )?;
    for (label, nc, dc) in [
        ("phone", "phone_sha256", "phone"),
        ("email", "email_sha256", "email"),
    ] {
        row(out, label, &hashed(n, nc), &hashed(d, dc))?;
    }
    for (label, f) in [
        ("claims", claims as fn(&Report) -> String),
        ("unique on QIs", unique),
        ("highest / average risk", risk),
        ("linkable columns", linkable),
        ("fix (checked on file)", remedy),
    ] {
        row(out, label, &f(n), &f(d))?;
    }
    row(
        out,
        "audit time",
        &format!("{ns:.1} s"),
        &format!("{ds:.1} s"),
    )?;
    writeln!(
        out,
        "\nQIs: birth_date, sex, postal_code. The recipient holds the file (and, for the email and the deid\nphone, its own customer list); the reports say what else was and was not tested."
    )?;
    Ok(())
}

fn verdict(r: &Report) -> String {
    match r.verdict {
        Status::Refuted => format!("REFUTED: {}", reasons(r)),
        _ => "NOT REFUTED by the tests run (not proof of anonymity)".into(),
    }
}

fn reasons(r: &Report) -> String {
    let mut v = Vec::new();
    let reversed: Vec<&str> = r
        .hashes
        .iter()
        .filter(|h| h.reversed_rows > 0)
        .map(|h| h.column.as_str())
        .collect();
    if !reversed.is_empty() {
        v.push(format!("{} reversed", reversed.join(", ")));
    }
    if let Some(k) = &r.risk {
        if k.records_in_small_classes.size_1 > 0 {
            v.push(format!(
                "{:.1}% of records unique on the QIs",
                100.0 * k.sample_uniqueness
            ));
        }
    }
    if v.is_empty() {
        "a stated claim is refuted".into()
    } else {
        v.join("; ")
    }
}

fn hashed(r: &Report, column: &str) -> String {
    if let Some(h) = r.hashes.iter().find(|h| h.column == column) {
        if h.reversed_rows > 0 {
            let how = h.matches.first().map_or(String::new(), |m| {
                if m.space.starts_with("dict:") {
                    format!(" ({} of the recipient's customer list)", m.algorithm.name())
                } else {
                    format!(
                        " ({} of {}, written {})",
                        m.algorithm.name(),
                        m.space,
                        m.format
                    )
                }
            });
            return format!(
                "{:.1}% of rows REVERSED in {:.1} s on this machine{how}",
                100.0 * h.reversed_share,
                h.seconds
            );
        }
        return format!(
            "none reversed ({} candidates tried, the true values in every normalization); a keyed pseudonym: stable, linkable",
            h.candidates
        );
    }
    if r.linkable.iter().any(|l| l.column == column) {
        return "deterministic AES-SIV token: not a hash, opens only with the key; stable, linkable".into();
    }
    "-".into()
}

fn claims(r: &Report) -> String {
    r.claims
        .iter()
        .map(|c| format!("{} {}", short(&c.claim), c.status.as_str()))
        .collect::<Vec<_>>()
        .join("; ")
}

fn short(claim: &str) -> String {
    if let Some(c) = claim
        .strip_prefix("column ")
        .and_then(|c| c.strip_suffix(" cannot be reversed"))
    {
        format!("{c} irreversible:")
    } else if let Some((k, _)) = claim.split_once(" on ") {
        format!("{k}:")
    } else {
        format!("{claim}:")
    }
}

fn unique(r: &Report) -> String {
    r.risk.as_ref().map_or("-".into(), |k| {
        format!(
            "{:.2}% of {} records; k = {}",
            100.0 * k.sample_uniqueness,
            k.rows,
            k.k
        )
    })
}

fn risk(r: &Report) -> String {
    r.risk.as_ref().map_or("-".into(), |k| {
        format!(
            "{:.2} / {:.2} (threshold {})",
            k.prosecutor.highest_risk, k.prosecutor.average_risk, r.parameters.max_risk
        )
    })
}

fn linkable(r: &Report) -> String {
    if r.linkable.is_empty() {
        return "none besides the reversed identifiers".into();
    }
    r.linkable
        .iter()
        .map(|l| l.column.as_str())
        .collect::<Vec<_>>()
        .join(", ")
        + " (stable per person: join across releases)"
}

fn remedy(r: &Report) -> String {
    if r.remedies.is_empty() {
        return "-".into();
    }
    r.remedies
        .iter()
        .map(|m| match m.options.iter().find(|o| o.reaches_k) {
            Some(o) => format!(
                "{} ({:.1}% suppressed)",
                o.steps
                    .iter()
                    .filter(|s| !s.ends_with(" kept"))
                    .cloned()
                    .collect::<Vec<_>>()
                    .join(", "),
                100.0 * o.suppressed_share
            ),
            None if m.policy.is_some() => "keyed pseudonym instead of the hash".into(),
            None => "generalize further (see report)".into(),
        })
        .fold(Vec::<String>::new(), |mut v, s| {
            if !v.contains(&s) {
                v.push(s);
            }
            v
        })
        .join("; ")
}

fn wrap(text: &str, width: usize) -> Vec<String> {
    let mut lines = Vec::new();
    let mut line = String::new();
    for word in text.split_whitespace() {
        if !line.is_empty() && line.chars().count() + 1 + word.chars().count() > width {
            lines.push(std::mem::take(&mut line));
        }
        if !line.is_empty() {
            line.push(' ');
        }
        line.push_str(word);
    }
    if !line.is_empty() || lines.is_empty() {
        lines.push(line);
    }
    lines
}

fn row(out: &mut dyn Write, label: &str, a: &str, b: &str) -> anyhow::Result<()> {
    let (l, a, b) = (wrap(label, LABEL - 1), wrap(a, CELL - 1), wrap(b, CELL - 1));
    for i in 0..l.len().max(a.len()).max(b.len()) {
        let get = |v: &Vec<String>| v.get(i).cloned().unwrap_or_default();
        writeln!(out, "{:<LABEL$}{:<CELL$}{}", get(&l), get(&a), get(&b))?;
    }
    Ok(())
}
