//! The verdicts: every test run on the input through
//! [`engine`](crate::audit::engine), then each claim judged on what they found.

use std::path::Path;
use std::string::{String, ToString};
use std::vec::Vec;

use super::claims::{Claims, UniqueClaim};
use super::{ClaimResult, Linkable, Report, ReportError, Status};
use crate::audit::engine::{self, Classes, Digests};
use crate::audit::hashes::{self, AuditOptions, ColumnReport};
use crate::audit::link::link;
use crate::audit::risk::RiskOptions;
use crate::io::table::{TableOptions, TableReader};
use crate::scan::{self, Kind};

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

    // Free text: the claimed columns and every one scan finds identifiers in.
    let mut text_cols: Vec<String> = claims.no_identifiers_in_text.clone();
    for s in &scans {
        if !s.identifiers_in_text.is_empty() && !text_cols.contains(&s.column) {
            text_cols.push(s.column.clone());
        }
    }
    let mut free_text = crate::audit::text::TextIdentifiers::new(&text_cols);

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
        engine::run(&mut table, &mut [&mut digests, &mut free_text])?;
    } else {
        engine::run(
            &mut table,
            &mut [&mut digests, &mut classes, &mut free_text],
        )?;
    }
    let free_text = free_text.finish();
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
    for col in &claims.no_identifiers_in_text {
        if let Some(f) = free_text.iter().find(|f| &f.column == col) {
            results.push(ClaimResult {
                claim: format!("free-text column {col} holds no identifier"),
                status: if f.identifiers > 0 {
                    Status::Refuted
                } else {
                    Status::Supported
                },
                evidence: text_evidence(f),
            });
        }
    }
    for f in free_text.iter().filter(|f| f.identifiers > 0) {
        reasons.push(format!(
            "free-text column {} still holds {} identifiers in clear",
            f.column, f.identifiers
        ));
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
        free_text,
    })
}

/// Counts per type, never the text.
fn text_evidence(f: &crate::audit::text::TextFinding) -> String {
    if f.identifiers == 0 {
        return format!(
            "the free-text detectors found no identifier in {} rows",
            f.rows
        );
    }
    let per: Vec<String> = f.per_type.iter().map(|(k, n)| format!("{k} {n}")).collect();
    format!(
        "{} identifiers in {} of {} rows ({})",
        f.identifiers,
        f.rows_with_identifiers,
        f.rows,
        per.join(", ")
    )
}

/// deid's own tokens (`AQAAAA…`) and pseudonyms are protected values, not digests to reverse.
fn looks_like_token(s: &scan::ColumnScan) -> bool {
    s.masked_example.starts_with("AQ")
}
