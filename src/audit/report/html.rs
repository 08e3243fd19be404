//! The report as one self-contained HTML page with inline SVG charts.

use std::string::{String, ToString};
use std::vec::Vec;

use super::{Report, Status};

fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// A horizontal bar chart as inline SVG; values are shares in [0, 1].
fn bars(title: &str, items: &[(String, f64, String)]) -> String {
    let h = 24 * items.len() + 30;
    let mut s = format!(
        r#"<figure><figcaption>{}</figcaption><svg xmlns="http://www.w3.org/2000/svg" width="640" height="{h}" role="img" aria-label="{}">"#,
        esc(title),
        esc(title)
    );
    for (i, (label, v, text)) in items.iter().enumerate() {
        let y = 10 + 24 * i;
        let w = (v.clamp(0.0, 1.0) * 360.0).round();
        s.push_str(&format!(
            r##"<text x="0" y="{}" font-size="12">{}</text><rect x="170" y="{}" width="{w}" height="16" fill="#b3261e"/><rect x="170" y="{}" width="360" height="16" fill="none" stroke="#999"/><text x="538" y="{}" font-size="12">{}</text>"##,
            y + 12,
            esc(label),
            y,
            y,
            y + 12,
            esc(text)
        ));
    }
    s.push_str("</svg></figure>");
    s
}

/// The report as one self-contained HTML page with inline SVG charts.
pub fn to_html(r: &Report) -> String {
    let mut body = String::new();
    let color = if r.verdict == Status::Refuted {
        "#b3261e"
    } else {
        "#555"
    };
    body.push_str(&format!(r#"<h1>Re-identification audit</h1><p class="file">{}</p><div class="verdict" style="border-color:{color}">{}</div>"#, esc(&r.input), esc(&r.headline)));
    {
        let a = &r.adversary;
        body.push_str(&format!(
            "<h2>Whose perspective</h2><ul><li><b>Adversary:</b> {}</li>",
            esc(&a.holds)
        ));
        for g in &a.given {
            body.push_str(&format!("<li><b>Given:</b> {}</li>", esc(g)));
        }
        for n in &a.not_tested {
            body.push_str(&format!("<li><b>Not tested:</b> {}</li>", esc(n)));
        }
        body.push_str("</ul>");
    }
    if !r.claims.is_empty() {
        body.push_str(
            "<h2>Claims</h2><table><tr><th>Claim</th><th>Result</th><th>Evidence</th></tr>",
        );
        for c in &r.claims {
            let cls = match c.status {
                Status::Supported => "ok",
                Status::Refuted => "bad",
                Status::NotTested => "na",
            };
            body.push_str(&format!(
                r#"<tr><td>{}</td><td class="{cls}">{}</td><td>{}</td></tr>"#,
                esc(&c.claim),
                c.status.as_str(),
                esc(&c.evidence)
            ));
        }
        body.push_str("</table>");
    }
    if !r.findings.is_empty() {
        body.push_str("<h2>Criteria</h2><table><tr><th>Finding</th><th>Result</th><th>Criteria it bears on</th></tr>");
        for f in &r.findings {
            let cites: String = f
                .criteria
                .iter()
                .map(|c| {
                    format!(
                        r#"<li><b title="{}">{}</b>: {}</li>"#,
                        esc(&c.reference),
                        esc(&c.title),
                        esc(&c.reason)
                    )
                })
                .collect();
            body.push_str(&format!(
                "<tr><td>{}</td><td>{}</td><td><ul>{cites}</ul></td></tr>",
                esc(&f.subject),
                f.status.as_str()
            ));
        }
        body.push_str("</table><h3>References</h3><ul>");
        let mut seen: Vec<&str> = Vec::new();
        for c in r.findings.iter().flat_map(|f| &f.criteria) {
            if !seen.contains(&c.id.as_str()) {
                seen.push(&c.id);
                body.push_str(&format!(
                    "<li><b>{}</b>: {}</li>",
                    esc(&c.title),
                    esc(&c.reference)
                ));
            }
        }
        body.push_str("</ul>");
    }
    if !r.remedies.is_empty() {
        body.push_str("<h2>Remedies</h2>");
        for m in &r.remedies {
            body.push_str(&format!(
                "<p><b>{}</b>: {}</p>",
                esc(&m.claim),
                esc(&m.remedy)
            ));
            if let Some(x) = &m.optimum {
                body.push_str(&format!(
                    "<p>{}:</p><table><tr><th>Quasi-identifier</th><th>Hierarchy</th><th>Level</th><th>Generalization</th></tr>",
                    esc(&x.summary())
                ));
                for c in &x.columns {
                    body.push_str(&format!(
                        "<tr><td>{}</td><td>{}</td><td>{} of {}</td><td>{}</td></tr>",
                        esc(&c.column),
                        esc(&c.hierarchy),
                        c.level,
                        c.top,
                        esc(&c.generalization)
                    ));
                }
                body.push_str(&format!("</table><pre>{}</pre>", esc(&x.command)));
            }
            if !m.options.is_empty() {
                body.push_str("<table><tr><th>Best generalizations</th><th>Smallest class</th><th>Classes</th><th>Suppressed</th><th>Loss</th></tr>");
                for x in &m.options {
                    body.push_str(&format!(
                        "<tr><td>{}</td><td>{}</td><td>{}</td><td>{:.2}%</td><td>{:.4}</td></tr>",
                        esc(&x.steps.join("; ")),
                        x.k,
                        x.classes,
                        100.0 * x.suppressed_share,
                        x.loss
                    ));
                }
                body.push_str("</table>");
            }
            if let Some(p) = &m.policy {
                body.push_str(&format!("<pre>{}</pre>", esc(p)));
            }
        }
    }
    if !r.hashes.is_empty() {
        body.push_str("<h2>Hashed columns</h2>");
        let items: Vec<(String, f64, String)> = r
            .hashes
            .iter()
            .map(|h| {
                (
                    h.column.clone(),
                    h.reversed_share,
                    format!("{:.1}% reversed", 100.0 * h.reversed_share),
                )
            })
            .collect();
        body.push_str(&bars(
            "Share of rows whose digest was reversed to the identifier",
            &items,
        ));
        for h in &r.hashes {
            body.push_str(&format!(
                "<p><b>{}</b>: {}</p>",
                esc(&h.column),
                esc(&h.verdict)
            ));
        }
    }
    if let Some(k) = &r.risk {
        body.push_str(&format!(
            "<h2>Quasi-identifiers</h2><p>{}: {} records in {} classes; k = {}.</p>",
            esc(&k.quasi_identifiers.join(", ")),
            k.rows,
            k.classes,
            k.k
        ));
        let n = k.rows.max(1) as f64;
        let bucket = |lo: u64, hi: u64| {
            k.histogram
                .iter()
                .filter(|b| b.size >= lo && b.size <= hi)
                .map(|b| b.records)
                .sum::<u64>() as f64
                / n
        };
        let items = vec![
            (
                "class of 1 (unique)".to_string(),
                bucket(1, 1),
                format!("{:.1}%", 100.0 * bucket(1, 1)),
            ),
            (
                "class of 2".to_string(),
                bucket(2, 2),
                format!("{:.1}%", 100.0 * bucket(2, 2)),
            ),
            (
                "class of 3-4".to_string(),
                bucket(3, 4),
                format!("{:.1}%", 100.0 * bucket(3, 4)),
            ),
            (
                "class of 5-9".to_string(),
                bucket(5, 9),
                format!("{:.1}%", 100.0 * bucket(5, 9)),
            ),
            (
                "class of 10+".to_string(),
                bucket(10, u64::MAX),
                format!("{:.1}%", 100.0 * bucket(10, u64::MAX)),
            ),
        ];
        body.push_str(&bars("Records by equivalence-class size", &items));
        let risk_items = vec![
            (
                "risk 100%".to_string(),
                bucket(1, 1),
                format!("{:.1}%", 100.0 * bucket(1, 1)),
            ),
            (
                "risk 50%".to_string(),
                bucket(2, 2),
                format!("{:.1}%", 100.0 * bucket(2, 2)),
            ),
            (
                "risk 20-33%".to_string(),
                bucket(3, 5),
                format!("{:.1}%", 100.0 * bucket(3, 5)),
            ),
            (
                "risk 10-17%".to_string(),
                bucket(6, 10),
                format!("{:.1}%", 100.0 * bucket(6, 10)),
            ),
            (
                "risk below 10%".to_string(),
                bucket(11, u64::MAX),
                format!("{:.1}%", 100.0 * bucket(11, u64::MAX)),
            ),
        ];
        body.push_str(&bars(
            "Records by re-identification probability (prosecutor)",
            &risk_items,
        ));
        body.push_str(&format!(
            "<p>Prosecutor risk: highest {:.4}, average {:.4}. Marketer risk {:.4}.</p>",
            k.prosecutor.highest_risk, k.prosecutor.average_risk, k.marketer_risk
        ));
    }
    if let Some(j) = r.risk.as_ref().and_then(|k| k.journalist.as_ref()) {
        body.push_str(&format!(
            "<p>Against the population ({} rows): journalist risk highest {:.4}, average {:.4}; delta-presence {:.4} to {:.4}; k-map {}.</p>",
            j.population_rows,
            j.risk.highest_risk,
            j.risk.average_risk,
            j.delta_presence.delta_presence_min,
            j.delta_presence.delta_presence_max,
            j.k_map
        ));
    }
    if let Some(l) = &r.link {
        body.push_str(&format!("<h2>Linkage</h2><p>On {}: {} of {} records matched exactly one record of the auxiliary file ({:.2}%).</p>", esc(&l.on.join(", ")), l.unique_matches, l.released_rows, 100.0 * l.unique_match_share));
    }
    if !r.linkable.is_empty() {
        body.push_str("<h2>Stable pseudonyms</h2><ul>");
        for l in &r.linkable {
            body.push_str(&format!(
                "<li><b>{}</b>: {}</li>",
                esc(&l.column),
                esc(&l.finding)
            ));
        }
        body.push_str("</ul>");
    }
    let version = esc(r.deid_version);
    format!(
        r#"<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>Re-identification audit</title><style>
body{{font-family:system-ui,sans-serif;max-width:960px;margin:2em auto;padding:0 1em;color:#222}}
.verdict{{border-left:6px solid;padding:.8em 1em;background:#faf7f5;font-size:1.1em}}
table{{border-collapse:collapse;width:100%}}td,th{{border:1px solid #ccc;padding:.4em;text-align:left;vertical-align:top}}
.ok{{color:#1b5e20;font-weight:bold}}.bad{{color:#b3261e;font-weight:bold}}.na{{color:#666;font-weight:bold}}
.file{{color:#666}}figure{{margin:1em 0}}figcaption{{font-weight:bold;margin-bottom:.3em}}
pre{{background:#f4f4f4;padding:.5em}}
</style></head><body>{body}<p class="file">Figures are counts and shares computed on the file itself; no identifier is shown. Generated by deid {version}.</p></body></html>
"#
    )
}
