//! The audit report: every test deid has, run against an export and a set of
//! testable claims, ending in a verdict a regulator can read. Markdown,
//! JSON, or one self-contained HTML file with inline SVG charts.
//!
//! Claims (TOML):
//!
//! ```toml
//! irreversible = ["phone_sha256", "email_sha256"]     # hashed columns cannot be reversed
//! k_anonymity = { qi = ["birth_date", "sex", "postal_code"], k = 5 }
//! max_unique_share = 0.01                              # on the k_anonymity QIs (or { qi = [...], share = 0.01 })
//! not_linkable = { auxiliary = "voters.csv", on = ["birth_date", "sex", "postal_code"], truth = "customer_id" }
//! sampling_fraction = 0.01                             # optional: population uniqueness too
//! hash_spaces = ["kr-mobile"]                          # optional: spaces for the hash audit
//! ```
//!
//! Each claim is SUPPORTED, REFUTED or NOT TESTED with its evidence. The
//! headline answers "individuals cannot be identified": REFUTED when any
//! test re-identifies someone, otherwise NOT REFUTED by the tests run, which
//! is never presented as proof of anonymity.

use std::path::{Path, PathBuf};
use std::string::{String, ToString};
use std::vec::Vec;

use serde::{Deserialize, Serialize};

use super::engine::{self, Classes, Digests};
use super::hashes::{self, AuditOptions, ColumnReport};
use super::link::{LinkReport, link};
use super::risk::{RiskOptions, RiskReport};
use crate::io::table::{TableOptions, TableReader};
use crate::scan::{self, Kind};

/// A k-anonymity claim.
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct KClaim {
    /// Quasi-identifiers.
    pub qi: Vec<String>,
    /// Claimed k.
    pub k: u64,
}

/// A maximum share of unique records.
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(untagged)]
pub enum UniqueClaim {
    /// A share, on the k-anonymity (or declared) quasi-identifiers.
    Share(f64),
    /// A share on given quasi-identifiers.
    WithQi {
        /// Quasi-identifiers.
        qi: Vec<String>,
        /// Largest share of records unique on them.
        share: f64,
    },
}

/// A claim that the export cannot be linked to an auxiliary file.
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct LinkClaim {
    /// The auxiliary file (relative to the claims file).
    pub auxiliary: PathBuf,
    /// Shared columns.
    pub on: Vec<String>,
    /// Ground-truth column present in both files.
    pub truth: Option<String>,
}

/// Testable claims about an export.
#[derive(Clone, Debug, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Claims {
    /// Hashed columns claimed irreversible.
    #[serde(default)]
    pub irreversible: Vec<String>,
    /// k-anonymity on quasi-identifiers.
    pub k_anonymity: Option<KClaim>,
    /// Largest share of unique records.
    pub max_unique_share: Option<UniqueClaim>,
    /// Not linkable to an auxiliary file.
    pub not_linkable: Option<LinkClaim>,
    /// Quasi-identifiers to measure when no claim names them.
    pub quasi_identifiers: Option<Vec<String>>,
    /// Sampling fraction, for population uniqueness.
    pub sampling_fraction: Option<f64>,
    /// Candidate spaces for the hash audit (e.g. `["kr-mobile"]` or a mask);
    /// by default the spaces that fit each column's name.
    pub hash_spaces: Option<Vec<String>>,
}

/// A claim's outcome.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Status {
    /// The tests support it.
    Supported,
    /// The tests refute it.
    Refuted,
    /// It could not be tested.
    NotTested,
}

impl Status {
    /// As printed.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Supported => "SUPPORTED",
            Status::Refuted => "REFUTED",
            Status::NotTested => "NOT TESTED",
        }
    }
}

/// One claim and its evidence.
#[derive(Clone, Debug, Serialize)]
pub struct ClaimResult {
    /// The claim, in words.
    pub claim: String,
    /// The outcome.
    pub status: Status,
    /// What was measured.
    pub evidence: String,
}

/// A column holding stable tokens or pseudonyms.
#[derive(Clone, Debug, Serialize)]
pub struct Linkable {
    /// Column.
    pub column: String,
    /// What it looks like.
    pub kind: Kind,
    /// Values sampled.
    pub values: u64,
    /// Distinct values sampled.
    pub distinct: u64,
    /// The finding.
    pub finding: String,
}

/// The whole report.
#[derive(Clone, Debug, Serialize)]
pub struct Report {
    /// Input file.
    pub input: String,
    /// Headline verdict on "individuals cannot be identified".
    pub verdict: Status,
    /// The headline in words.
    pub headline: String,
    /// Claims and outcomes.
    pub claims: Vec<ClaimResult>,
    /// Hash reversal per hashed column.
    pub hashes: Vec<ColumnReport>,
    /// Quasi-identifier risk.
    pub risk: Option<RiskReport>,
    /// Linkage attack.
    pub link: Option<LinkReport>,
    /// Columns of stable pseudonyms or deterministic tokens.
    pub linkable: Vec<Linkable>,
}

/// Errors building a report (the audits' one error type).
pub use super::engine::AuditError as ReportError;

impl Claims {
    /// Parses claims TOML.
    ///
    /// # Errors
    /// [`ReportError::Claims`] with the parser's line and column.
    ///
    /// Claims that cannot be tested as written are refused: `k` below 1,
    /// shares and sampling fractions outside [0, 1] (sampling fractions of 0),
    /// empty column lists and empty column names.
    pub fn from_toml(text: &str) -> Result<Self, ReportError> {
        let claims: Claims =
            toml::from_str(text).map_err(|e| ReportError::Request(e.to_string()))?;
        claims.validate()?;
        Ok(claims)
    }

    /// Checks that every claim can be tested as written (see
    /// [`from_toml`](Self::from_toml)); the columns it names are checked
    /// against the input by [`build`].
    ///
    /// # Errors
    /// [`ReportError::Claims`] naming the claim and what is wrong with it.
    pub fn validate(&self) -> Result<(), ReportError> {
        let bad = |m: String| Err(ReportError::Request(m));
        let columns = |what: &str, cols: &[String]| -> Result<(), ReportError> {
            if cols.is_empty() {
                return bad(format!("{what} names no column"));
            }
            if cols.iter().any(|c| c.trim().is_empty()) {
                return bad(format!("{what} has an empty column name"));
            }
            Ok(())
        };
        let share_ok = |s: f64| (0.0..=1.0).contains(&s);
        if self.irreversible.iter().any(|c| c.trim().is_empty()) {
            return bad("irreversible has an empty column name".into());
        }
        if let Some(k) = &self.k_anonymity {
            columns("k_anonymity.qi", &k.qi)?;
            if k.k < 1 {
                return bad(format!(
                    "k_anonymity.k = {} is not a k-anonymity claim: k counts records per class, at least 1",
                    k.k
                ));
            }
        }
        match &self.max_unique_share {
            Some(UniqueClaim::Share(s)) if !share_ok(*s) => {
                return bad(format!(
                    "max_unique_share = {s} is not a share of records: give a fraction from 0 to 1 (0.01 for 1%)"
                ));
            }
            Some(UniqueClaim::WithQi { qi, share }) => {
                columns("max_unique_share.qi", qi)?;
                if !share_ok(*share) {
                    return bad(format!(
                        "max_unique_share.share = {share} is not a share of records: give a fraction from 0 to 1 (0.01 for 1%)"
                    ));
                }
            }
            _ => {}
        }
        if let Some(l) = &self.not_linkable {
            columns("not_linkable.on", &l.on)?;
            if l.auxiliary.as_os_str().is_empty() {
                return bad("not_linkable.auxiliary names no file".into());
            }
            if l.truth.as_ref().is_some_and(|t| t.trim().is_empty()) {
                return bad("not_linkable.truth is an empty column name".into());
            }
        }
        if let Some(q) = &self.quasi_identifiers {
            columns("quasi_identifiers", q)?;
        }
        if let Some(f) = self.sampling_fraction {
            if !(f > 0.0 && f <= 1.0) {
                return bad(format!(
                    "sampling_fraction = {f} is not a fraction of the population: give F with 0 < F <= 1"
                ));
            }
        }
        Ok(())
    }

    /// Every column the claims name in the export under test, with the
    /// claim that names it.
    fn named_columns(&self) -> Vec<(&'static str, &str)> {
        let mut named: Vec<(&'static str, &str)> = Vec::new();
        named.extend(
            self.irreversible
                .iter()
                .map(|c| ("irreversible", c.as_str())),
        );
        if let Some(k) = &self.k_anonymity {
            named.extend(k.qi.iter().map(|c| ("k_anonymity.qi", c.as_str())));
        }
        if let Some(UniqueClaim::WithQi { qi, .. }) = &self.max_unique_share {
            named.extend(qi.iter().map(|c| ("max_unique_share.qi", c.as_str())));
        }
        if let Some(l) = &self.not_linkable {
            named.extend(l.on.iter().map(|c| ("not_linkable.on", c.as_str())));
            named.extend(l.truth.iter().map(|c| ("not_linkable.truth", c.as_str())));
        }
        if let Some(q) = &self.quasi_identifiers {
            named.extend(q.iter().map(|c| ("quasi_identifiers", c.as_str())));
        }
        named
    }
}

/// Runs every test on `input` and judges `claims`. `base` resolves relative
/// auxiliary paths (the claims file's folder).
///
/// # Errors
/// Unreadable input, claims that cannot be tested ([`Claims::validate`]) or
/// that name a column the input does not have.
pub fn build(
    input: &Path,
    opts: &TableOptions,
    claims: &Claims,
    base: &Path,
    audit: &AuditOptions,
) -> Result<Report, ReportError> {
    claims.validate()?;
    let mut table = TableReader::open(Some(input), opts)?;
    // Only the claims' own names are printed: the input's header may be data.
    for (claim, column) in claims.named_columns() {
        if table.column_index(column).is_err() {
            return Err(ReportError::Request(format!(
                "{claim} names column {column}, which {} does not have",
                table.source()
            )));
        }
    }
    let scans = scan::scan(&mut table, 10_000)?;
    let kind_of = |c: &str| scans.iter().find(|s| s.column == c).map(|s| s.kind);

    // Columns to attack: the claimed ones and every digest-looking one.
    let mut hash_cols: Vec<String> = claims.irreversible.clone();
    for s in &scans {
        if matches!(s.kind, Kind::HexDigest | Kind::Base64Digest)
            && !hash_cols.contains(&s.column)
            && !looks_like_token(s)
        {
            hash_cols.push(s.column.clone());
        }
    }
    let qi: Vec<String> = claims
        .k_anonymity
        .as_ref()
        .map(|k| k.qi.clone())
        .or_else(|| match &claims.max_unique_share {
            Some(UniqueClaim::WithQi { qi, .. }) => Some(qi.clone()),
            _ => None,
        })
        .or_else(|| claims.quasi_identifiers.clone())
        .unwrap_or_else(|| {
            scans
                .iter()
                .filter(|s| matches!(s.kind, Kind::Date | Kind::PostalCode | Kind::Category))
                .map(|s| s.column.clone())
                .collect()
        });

    // One pass: digests of the hashed columns and classes over the QIs.
    let mut table = TableReader::open(Some(input), opts)?;
    let present: Vec<String> = hash_cols
        .iter()
        .filter(|c| table.columns().contains(c))
        .cloned()
        .collect();
    let mut digests = Digests::new(&present);
    let mut classes = Classes::new(&qi, None);
    if qi.is_empty() {
        engine::run(&mut table, &mut [&mut digests])?;
    } else {
        engine::run(&mut table, &mut [&mut digests, &mut classes])?;
    }
    let targets = digests.finish();
    let progress = std::sync::atomic::AtomicU64::new(0);
    let mut audit = audit.clone();
    if let Some(spaces) = &claims.hash_spaces {
        audit.spaces = spaces
            .iter()
            .map(|s| {
                hashes::Space::parse(s, audit.born)
                    .map_err(|e| ReportError::Request(format!("hash_spaces: {s}: {e}")))
            })
            .collect::<Result<_, _>>()?;
    }
    let hashes: Vec<ColumnReport> = targets
        .into_iter()
        .map(|t| hashes::audit(t, &audit, &progress))
        .collect();
    let risk = (!qi.is_empty()).then(|| {
        classes.report(&RiskOptions {
            sampling_fraction: claims.sampling_fraction,
            population: None,
        })
    });
    let link_report = match &claims.not_linkable {
        Some(l) => {
            let aux_path = if l.auxiliary.is_absolute() {
                l.auxiliary.clone()
            } else {
                base.join(&l.auxiliary)
            };
            let mut rel = TableReader::open(Some(input), opts)?;
            let mut aux = TableReader::open(Some(&aux_path), &TableOptions::new())?;
            Some(link(&mut rel, &mut aux, &l.on, l.truth.as_deref())?)
        }
        None => None,
    };
    let linkable: Vec<Linkable> = scans
        .iter()
        .filter(|s| matches!(s.kind, Kind::HexDigest | Kind::Base64Digest) && !hashes.iter().any(|h| h.column == s.column && h.reversed_rows > 0))
        .map(|s| Linkable {
            column: s.column.clone(),
            kind: s.kind,
            values: s.values,
            distinct: s.distinct,
            finding: "a stable value per person (a pseudonym, a deterministic token or a hash not reversed here): records carrying it link across releases and to any dataset with the same value".to_string(),
        })
        .collect();

    // Claims.
    let mut results = Vec::new();
    for col in &claims.irreversible {
        let r = hashes.iter().find(|h| &h.column == col);
        results.push(match r {
            None => ClaimResult {
                claim: format!("column {col} cannot be reversed"),
                status: Status::NotTested,
                evidence: "the input has no such column".into(),
            },
            Some(h) if h.reversed_distinct > 0 => ClaimResult {
                claim: format!("column {col} cannot be reversed"),
                status: Status::Refuted,
                evidence: format!(
                    "{} of {} rows ({:.2}%) reversed: {}",
                    h.reversed_rows,
                    h.values,
                    100.0 * h.reversed_share,
                    h.verdict
                ),
            },
            Some(h) if h.digest_bytes.is_none() || h.attempts.is_empty() => ClaimResult {
                claim: format!("column {col} cannot be reversed"),
                status: Status::NotTested,
                evidence: h.verdict.clone(),
            },
            Some(h) => ClaimResult {
                claim: format!("column {col} cannot be reversed"),
                status: Status::Supported,
                evidence: format!(
                    "{} candidates tried in {} run(s); {}",
                    h.candidates,
                    h.attempts.len(),
                    h.verdict
                ),
            },
        });
    }
    if let (Some(kc), Some(r)) = (&claims.k_anonymity, &risk) {
        let below: u64 = r
            .histogram
            .iter()
            .filter(|b| b.size < kc.k)
            .map(|b| b.records)
            .sum();
        results.push(ClaimResult {
            claim: format!("{}-anonymous on {}", kc.k, kc.qi.join(", ")),
            status: if r.k >= kc.k {
                Status::Supported
            } else {
                Status::Refuted
            },
            evidence: format!(
                "smallest class has {} record(s); {} of {} records are in classes smaller than {}",
                r.k, below, r.rows, kc.k
            ),
        });
    }
    if let (Some(u), Some(r)) = (&claims.max_unique_share, &risk) {
        let share = match u {
            UniqueClaim::Share(s) | UniqueClaim::WithQi { share: s, .. } => *s,
        };
        results.push(ClaimResult {
            claim: format!(
                "at most {:.2}% of records unique on {}",
                share * 100.0,
                r.quasi_identifiers.join(", ")
            ),
            status: if r.sample_uniqueness <= share {
                Status::Supported
            } else {
                Status::Refuted
            },
            evidence: format!(
                "{} of {} records ({:.2}%) are unique",
                r.records_in_small_classes.size_1,
                r.rows,
                100.0 * r.sample_uniqueness
            ),
        });
    }
    if let (Some(l), Some(lr)) = (&claims.not_linkable, &link_report) {
        let hit = lr.correct.unwrap_or(lr.unique_matches);
        results.push(ClaimResult {
            claim: format!("not linkable to {} on {}", l.auxiliary.display(), l.on.join(", ")),
            status: if hit > 0 { Status::Refuted } else { Status::Supported },
            evidence: match lr.correct {
                Some(c) => format!("{} of {} records matched exactly one auxiliary record; {} of them correctly ({:.2}% of the release)", lr.unique_matches, lr.released_rows, c, 100.0 * lr.correct_share.unwrap_or(0.0)),
                None => format!("{} of {} records matched exactly one auxiliary record ({:.2}%)", lr.unique_matches, lr.released_rows, 100.0 * lr.unique_match_share),
            },
        });
    }
    let _ = kind_of;

    // Headline.
    let mut reasons = Vec::new();
    for h in hashes.iter().filter(|h| h.reversed_rows > 0) {
        reasons.push(format!(
            "{} of {} rows of column {} were reversed to the identifier",
            h.reversed_rows, h.values, h.column
        ));
    }
    if let Some(r) = &risk {
        if r.records_in_small_classes.size_1 > 0 {
            reasons.push(format!(
                "{} records ({:.2}%) are unique on {}",
                r.records_in_small_classes.size_1,
                100.0 * r.sample_uniqueness,
                r.quasi_identifiers.join(", ")
            ));
        }
    }
    if let Some(l) = &link_report {
        let hit = l.correct.unwrap_or(l.unique_matches);
        if hit > 0 {
            reasons.push(format!(
                "{hit} records were linked to exactly one person of {}",
                l.on.join(", ")
            ));
        }
    }
    let refuted_claim = results.iter().any(|c| c.status == Status::Refuted);
    let (verdict, headline) = if !reasons.is_empty() || refuted_claim {
        (
            Status::Refuted,
            format!(
                "The claim that individuals cannot be identified is REFUTED: {}.",
                if reasons.is_empty() {
                    "a stated claim is refuted".to_string()
                } else {
                    reasons.join("; ")
                }
            ),
        )
    } else {
        (
            Status::NotTested,
            "No test run here re-identified anyone. This is NOT proof of anonymity: it holds only for the attacks, spaces and quasi-identifiers tested; stable pseudonyms still link records across releases.".to_string(),
        )
    };
    Ok(Report {
        input: input.display().to_string(),
        verdict,
        headline,
        claims: results,
        hashes,
        risk,
        link: link_report,
        linkable,
    })
}

/// deid's own tokens (`AQAAAA…`) and pseudonyms are protected values, not digests to reverse.
fn looks_like_token(s: &scan::ColumnScan) -> bool {
    s.masked_example.starts_with("AQ")
}

/// The report as Markdown.
pub fn to_markdown(r: &Report) -> String {
    let mut o = String::new();
    o.push_str(&format!("# Re-identification audit of `{}`\n\n", r.input));
    o.push_str(&format!("**Verdict:** {}\n\n", r.headline));
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
    o.push_str(
        "Figures are counts and shares computed on the file itself; no identifier is shown.\n",
    );
    o
}

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
    format!(
        r#"<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>Re-identification audit</title><style>
body{{font-family:system-ui,sans-serif;max-width:960px;margin:2em auto;padding:0 1em;color:#222}}
.verdict{{border-left:6px solid;padding:.8em 1em;background:#faf7f5;font-size:1.1em}}
table{{border-collapse:collapse;width:100%}}td,th{{border:1px solid #ccc;padding:.4em;text-align:left;vertical-align:top}}
.ok{{color:#1b5e20;font-weight:bold}}.bad{{color:#b3261e;font-weight:bold}}.na{{color:#666;font-weight:bold}}
.file{{color:#666}}figure{{margin:1em 0}}figcaption{{font-weight:bold;margin-bottom:.3em}}
</style></head><body>{body}<p class="file">Figures are counts and shares computed on the file itself; no identifier is shown. Generated by deid.</p></body></html>
"#
    )
}
