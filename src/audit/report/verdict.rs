//! The verdicts: every test run on the input through
//! [`engine`](crate::audit::engine), then each claim judged on what they found.

use std::path::Path;
use std::string::{String, ToString};
use std::vec::Vec;

use super::claims::{Claims, UniqueClaim};
use super::criteria::{FindingKind, criteria_for};
use super::optimum::{self, Target};
use super::remedy::{MAX_SUPPRESSION, Remedy};
use super::{Adversary, ClaimResult, Finding, Linkable, Parameters, Report, ReportError, Status};
use crate::audit::engine::{self, Classes, Digests};
use crate::audit::hashes::{self, AuditOptions, ColumnReport};
use crate::audit::link::link;
use crate::audit::progress::{Progress, RowCounter};
use crate::audit::risk::RiskOptions;

/// A hash search longer than this (at the estimate rate) is announced first.
const LONG_SEARCH_SECONDS: f64 = 180.0;
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
    build_with_progress(input, opts, claims, base, audit, &Progress::new())
}

/// [`build`], its stages (rows read, candidates hashed per column) counted
/// in `progress`, and a hash search that would take more than a few
/// minutes announced there with its estimate before it starts.
///
/// # Errors
/// As [`build`].
pub fn build_with_progress(
    input: &Path,
    opts: &TableOptions,
    claims: &Claims,
    base: &Path,
    audit: &AuditOptions,
    progress: &Progress,
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
    for (col, _, _) in claims.dictionary_sources() {
        if !hash_cols.iter().any(|c| c == col) {
            hash_cols.push(col.to_string());
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
    progress.stage(format!("reading {}", input.display()), "rows", None);
    let mut rows = RowCounter(progress);
    if qi.is_empty() {
        engine::run(&mut table, &mut [&mut digests, &mut free_text, &mut rows])?;
    } else {
        engine::run(
            &mut table,
            &mut [&mut digests, &mut classes, &mut free_text, &mut rows],
        )?;
    }
    let free_text = free_text.finish();
    let targets = digests.finish();
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
    // Dictionaries from auxiliary columns, per hashed column.
    let mut dictionaries = Vec::new();
    for (col, file, column) in claims.dictionary_sources() {
        let path = resolve(base, Path::new(file));
        dictionaries.push((col.to_string(), hashes::dict::from_column(&path, column)?));
    }
    // Plain hashes first, then hashes of hashes, then each known salt.
    let mut constructions = vec![audit.construction.clone()];
    constructions.extend(
        claims
            .hash_constructions
            .iter()
            .flatten()
            .filter_map(|c| hashes::parse_nested(c)),
    );
    if let Some(f) = &claims.salts {
        let path = resolve(base, f);
        let text = std::fs::read(&path).map_err(|e| {
            ReportError::Request(format!("salts: cannot read {}: {e}", path.display()))
        })?;
        let salts: Vec<Vec<u8>> = text
            .split(|&c| c == b'\n')
            .map(|l| l.strip_suffix(b"\r").unwrap_or(l))
            .filter(|l| !l.is_empty())
            .map(<[u8]>::to_vec)
            .collect();
        constructions.extend(hashes::salted_constructions(&salts));
    }
    // `hash_spaces = []`: dictionaries only, no enumerated space.
    let dictionaries_only = claims.hash_spaces.as_ref().is_some_and(Vec::is_empty);
    let hashes: Vec<ColumnReport> = targets
        .into_iter()
        .map(|t| {
            let mut opts = audit.clone();
            let dict = dictionaries
                .iter()
                .find(|(c, _)| c == t.column())
                .map(|(_, d)| d.clone());
            if dictionaries_only {
                opts.dictionary = None;
                opts.spaces =
                    vec![dict.unwrap_or_else(|| hashes::Space::dictionary("none", Vec::new()))];
            } else if dict.is_some() {
                opts.dictionary = dict;
            }
            // The candidates this column may take, announced when long.
            let algos = if opts.algorithms.is_empty() {
                t.digest_bytes()
                    .map(|l| hashes::Algorithm::for_prefix(l, opts.truncated))
                    .unwrap_or_default()
            } else {
                opts.algorithms.clone()
            };
            let spaces: Vec<hashes::Space> = if opts.spaces.is_empty() {
                hashes::default_spaces(t.column(), opts.born)
            } else {
                opts.spaces.clone()
            };
            let total: u128 = spaces
                .iter()
                .chain(opts.dictionary.iter())
                .map(|s| {
                    s.size()
                        .saturating_mul(algos.len() as u128)
                        .saturating_mul(constructions.len() as u128)
                })
                .fold(0u128, u128::saturating_add);
            let rate = algos
                .first()
                .map_or(hashes::space::ESTIMATE_RATE, |&a| measured_rate(a, opts.threads));
            let seconds = total as f64 / rate;
            if seconds > LONG_SEARCH_SECONDS {
                progress.notice(format!(
                    "column {}: {:.2e} candidates to hash ({} over {}), about {} on this machine ({:.1e} candidates/s measured); narrow it with hash_spaces",
                    t.column(),
                    total as f64,
                    algos.iter().map(|a| a.name()).collect::<Vec<_>>().join(", "),
                    spaces.iter().map(|s| s.name.as_str()).collect::<Vec<_>>().join(", "),
                    crate::audit::progress::duration(seconds),
                    rate
                ));
            }
            progress.stage(
                format!("hash search on {}", t.column()),
                "candidates",
                Some(u64::try_from(total).unwrap_or(u64::MAX)),
            );
            hashes::audit_constructions(&t, &opts, &constructions, progress.counter()).0
        })
        .collect();
    let mut risk = (!qi.is_empty()).then(|| {
        classes.report(&RiskOptions {
            sampling_fraction: claims.sampling_fraction,
            population: None,
        })
    });
    // Journalist risk, delta-presence and k-map against a population file.
    if let (Some(pf), Some(r)) = (&claims.population, &mut risk) {
        let path = resolve(base, pf);
        let mut pt = TableReader::open(Some(&path), &TableOptions::new())?;
        let mut population = Classes::new(&qi, None);
        engine::run(&mut pt, &mut [&mut population])?;
        classes
            .counter()
            .journalist(r, &population.counter().sizes_by_key());
    }
    let link_report = match &claims.not_linkable {
        Some(l) => {
            let aux_path = resolve(base, &l.auxiliary);
            let mut rel = TableReader::open(Some(input), opts)?;
            let mut aux = TableReader::open(Some(&aux_path), &TableOptions::new())?;
            Some(link(&mut rel, &mut aux, &l.on, l.truth.as_deref())?)
        }
        None => None,
    };
    let linkable: Vec<Linkable> = scans
        .iter()
        .filter(|s| (matches!(s.kind, Kind::HexDigest | Kind::Base64Digest) || (looks_like_token(s) && 2 * s.distinct > s.values)) && !hashes.iter().any(|h| h.column == s.column && h.reversed_rows > 0))
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
    let mut kinds: Vec<FindingKind> = Vec::new();
    // Claims whose remedy is a lattice search: (index in results, target).
    let mut searches: Vec<(usize, Target)> = Vec::new();
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
            Some(h) if h.digest_bytes.is_none() || h.attempts.is_empty() || h.candidates == 0 => {
                ClaimResult {
                    claim: format!("column {col} cannot be reversed"),
                    status: Status::NotTested,
                    evidence: h.verdict.clone(),
                }
            }
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
        kinds.push(match results.last().map(|r| r.status) {
            Some(Status::Refuted) => FindingKind::HashReversed,
            Some(Status::Supported) => FindingKind::HashNotReversed,
            _ => FindingKind::HashNotTested,
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
        kinds.push(FindingKind::KAnonymity);
        searches.push((
            results.len() - 1,
            Target {
                k: Some(kc.k),
                average_risk: None,
            },
        ));
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
        kinds.push(FindingKind::UniqueShare);
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
        kinds.push(FindingKind::Linkage);
    }
    let journalist = risk.as_ref().and_then(|r| r.journalist.as_ref());
    if let Some(d) = &claims.delta_presence {
        results.push(match journalist {
            Some(j) => {
                let p = &j.delta_presence;
                ClaimResult {
                    claim: format!("delta-presence within [{}, {}] against the population", d.min, d.max),
                    status: if p.delta_presence_min >= d.min && p.delta_presence_max <= d.max {
                        Status::Supported
                    } else {
                        Status::Refuted
                    },
                    evidence: format!(
                        "sample count / population count over the sample's classes: min {:.4}, max {:.4} (population of {} rows)",
                        p.delta_presence_min, p.delta_presence_max, j.population_rows
                    ),
                }
            }
            None => ClaimResult {
                claim: format!("delta-presence within [{}, {}] against the population", d.min, d.max),
                status: Status::NotTested,
                evidence: "no quasi-identifier to measure".into(),
            },
        });
        kinds.push(FindingKind::Population);
    }
    if let Some(km) = &claims.k_map {
        results.push(match journalist {
            Some(j) => ClaimResult {
                claim: format!("{}-map against the population", km.k),
                status: if j.k_map >= km.k {
                    Status::Supported
                } else {
                    Status::Refuted
                },
                evidence: format!(
                    "the smallest population class of a sample class holds {} people; {} sample records match fewer than 5",
                    j.k_map, j.k_map_records_below_5
                ),
            },
            None => ClaimResult {
                claim: format!("{}-map against the population", km.k),
                status: Status::NotTested,
                evidence: "no quasi-identifier to measure".into(),
            },
        });
        kinds.push(FindingKind::Population);
    }
    let max_risk = claims.max_risk();
    let max_risk_result = risk.as_ref().map(|r| ClaimResult {
        claim: format!(
            "highest re-identification probability at most {max_risk} on {}",
            r.quasi_identifiers.join(", ")
        ),
        status: if r.prosecutor.highest_risk <= max_risk {
            Status::Supported
        } else {
            Status::Refuted
        },
        evidence: format!(
            "highest {:.4} (1 / {}), {:.2}% of records at it; average {:.4}",
            r.prosecutor.highest_risk,
            r.k,
            100.0 * r.prosecutor.records_at_highest_risk,
            r.prosecutor.average_risk
        ),
    });
    // Stated in the claims file: judged as a claim. Otherwise a finding
    // against the default threshold only.
    if claims.max_risk.is_some() {
        if let Some(m) = &max_risk_result {
            results.push(m.clone());
            kinds.push(FindingKind::MaxRisk);
            // Highest risk 1 / smallest class at most R: classes of 1 / R.
            searches.push((
                results.len() - 1,
                Target {
                    k: Some(((1.0 / max_risk) - 1e-9).ceil().max(1.0) as u64),
                    average_risk: None,
                },
            ));
        }
    }
    if let (Some(a), Some(r)) = (claims.max_average_risk, &risk) {
        results.push(ClaimResult {
            claim: format!(
                "average re-identification probability at most {a} on {}",
                r.quasi_identifiers.join(", ")
            ),
            status: if r.prosecutor.average_risk <= a + 1e-12 {
                Status::Supported
            } else {
                Status::Refuted
            },
            evidence: format!(
                "average {:.4} ({} classes over {} records)",
                r.prosecutor.average_risk, r.classes, r.rows
            ),
        });
        kinds.push(FindingKind::MaxRisk);
        searches.push((
            results.len() - 1,
            Target {
                k: None,
                average_risk: Some(a),
            },
        ));
    }

    // Findings and the criteria they bear on.
    let mut findings: Vec<Finding> = results
        .iter()
        .zip(&kinds)
        .map(|(c, &kind)| Finding {
            subject: c.claim.clone(),
            kind,
            status: c.status,
            criteria: criteria_for(kind),
        })
        .collect();
    for h in &hashes {
        if claims.irreversible.contains(&h.column) {
            continue;
        }
        if h.reversed_rows > 0 {
            findings.push(Finding {
                subject: format!("column {} reversed", h.column),
                kind: FindingKind::HashReversed,
                status: Status::Refuted,
                criteria: criteria_for(FindingKind::HashReversed),
            });
        }
    }
    if claims.max_risk.is_none() {
        if let Some(m) = &max_risk_result {
            findings.push(Finding {
                subject: format!("{} (default threshold)", m.claim),
                kind: FindingKind::MaxRisk,
                status: m.status,
                criteria: criteria_for(FindingKind::MaxRisk),
            });
        }
    }
    for l in &linkable {
        findings.push(Finding {
            subject: format!("column {} holds stable pseudonyms", l.column),
            kind: FindingKind::StablePseudonym,
            status: Status::NotTested,
            criteria: criteria_for(FindingKind::StablePseudonym),
        });
    }
    for f in &free_text {
        if f.identifiers == 0 && !claims.no_identifiers_in_text.contains(&f.column) {
            continue;
        }
        findings.push(Finding {
            subject: format!("free-text column {} holds no identifier", f.column),
            kind: FindingKind::FreeText,
            status: if f.identifiers > 0 {
                Status::Refuted
            } else {
                Status::Supported
            },
            criteria: criteria_for(FindingKind::FreeText),
        });
    }

    // Remedies for the refuted claims.
    let mut remedies = Vec::new();
    let suppression = claims.max_suppression.unwrap_or(MAX_SUPPRESSION);
    for (i, (c, kind)) in results.iter().zip(&kinds).enumerate() {
        if c.status != Status::Refuted {
            continue;
        }
        match kind {
            FindingKind::HashReversed => {
                let col = claims
                    .irreversible
                    .iter()
                    .find(|col| c.claim == format!("column {col} cannot be reversed"))
                    .cloned()
                    .unwrap_or_default();
                let source = col
                    .strip_suffix("_sha256")
                    .or_else(|| col.strip_suffix("_md5"))
                    .or_else(|| col.strip_suffix("_hash"))
                    .unwrap_or(&col)
                    .to_string();
                let normalize = if source.contains("phone") {
                    "normalize = [\"phone:KR\"]\n"
                } else if source.contains("mail") {
                    "normalize = [\"email\"]\n"
                } else {
                    ""
                };
                remedies.push(Remedy {
                    claim: c.claim.clone(),
                    remedy: format!(
                        "replace the unkeyed hash by a keyed pseudonym (HMAC-SHA256 with a key from `deid keygen`, kept apart from the data): pseudonymize column {source} from the source data instead of shipping {col}"
                    ),
                    policy: Some(format!(
                        "[fields.{source}]\n{normalize}transform = \"pseudonymize\"\ncontext = \"{source}\"\n"
                    )),
                    options: Vec::new(),
                    optimum: None,
                });
            }
            FindingKind::KAnonymity | FindingKind::MaxRisk => {
                let Some((_, target)) = searches.iter().find(|(j, _)| *j == i) else {
                    continue;
                };
                let kinds_of: Vec<Kind> = qi
                    .iter()
                    .map(|q| {
                        let n = q.to_ascii_lowercase();
                        // Postal codes read as numbers are still cut by prefix.
                        if ["postal", "zip", "postcode"].iter().any(|w| n.contains(w)) {
                            Kind::PostalCode
                        } else {
                            kind_of(q).unwrap_or(Kind::Text)
                        }
                    })
                    .collect();
                let input_name = input.display().to_string();
                let found = optimum::search(
                    classes.counter(),
                    &qi,
                    &kinds_of,
                    target,
                    suppression,
                    audit.threads,
                    &input_name,
                    progress,
                );
                remedies.push(match found {
                    Ok(f) => Remedy {
                        claim: c.claim.clone(),
                        remedy: match &f.optimum {
                            Some(o) => optimum::sentence(o, target),
                            None => format!(
                                "no generalization of the built-in hierarchies makes it hold with at most {:.2}% of records suppressed on this file (the whole lattice searched): allow more suppression (max_suppression), or drop a quasi-identifier",
                                100.0 * suppression
                            ),
                        },
                        policy: f.policy,
                        options: f.options,
                        optimum: f.optimum,
                    },
                    Err(e) => Remedy {
                        claim: c.claim.clone(),
                        remedy: format!("the generalization lattice could not be searched: {e}"),
                        policy: None,
                        options: Vec::new(),
                        optimum: None,
                    },
                });
            }
            _ => {}
        }
    }

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
    let adversary = adversary(
        claims,
        &hashes,
        &dictionaries,
        risk.is_some(),
        link_report.is_some(),
    );
    let parameters = Parameters {
        claims: claims.clone(),
        hashed_columns: hashes.iter().map(|h| h.column.clone()).collect(),
        quasi_identifiers: qi.clone(),
        max_risk,
        max_suppression: suppression,
        threads: audit.threads,
        born: audit.born,
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
        deid_version: env!("CARGO_PKG_VERSION"),
        parameters,
        adversary,
        findings,
        remedies,
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

fn resolve(base: &Path, p: &Path) -> std::path::PathBuf {
    if p.is_absolute() {
        p.to_path_buf()
    } else {
        base.join(p)
    }
}

/// The adversary the figures assume: what they hold, what the audit gave
/// them, and what it did not try.
fn adversary(
    claims: &Claims,
    hashes: &[ColumnReport],
    dictionaries: &[(String, hashes::Space)],
    qi: bool,
    linked: bool,
) -> Adversary {
    let mut given = Vec::new();
    let mut not_tested = Vec::new();
    for (col, d) in dictionaries {
        given.push(format!(
            "a list of identifiers of their own ({}, {} normalized candidates) to match column {col}",
            d.name,
            d.size()
        ));
    }
    if let Some(l) = &claims.not_linkable {
        given.push(format!(
            "an auxiliary file {} sharing {}",
            l.auxiliary.display(),
            l.on.join(", ")
        ));
    } else {
        not_tested.push(
            "linkage to an auxiliary or identification file (none given: add not_linkable)".into(),
        );
    }
    if let Some(p) = &claims.population {
        given.push(format!(
            "a population file {} over the quasi-identifiers (journalist risk, delta-presence, k-map)",
            p.display()
        ));
    }
    if let Some(f) = claims.sampling_fraction {
        given.push(format!(
            "the sampling fraction {f} of this file in its population"
        ));
    } else if qi {
        not_tested.push("population uniqueness: the file is treated as the whole population (give sampling_fraction)".into());
    }
    if claims.salts.is_some() {
        given.push(
            "a list of known global salts or peppers, each tried before and after the identifier"
                .into(),
        );
    }
    if !hashes.is_empty() {
        given.push("public knowledge of the identifier formats (phone numbers, RRNs, emails) and of the common hash algorithms, enumerated on this machine".into());
        not_tested.push(if claims.salts.is_some() {
            "leaked keys: a keyed hash (HMAC) whose key leaks is as weak as an unkeyed one".into()
        } else {
            "leaked or guessed salts and keys: a keyed hash whose key leaks is as weak as an unkeyed one (give salts = FILE for known ones)".into()
        });
    }
    if !qi {
        not_tested.push("quasi-identifier risk: no quasi-identifier found or named".into());
    }
    if !linked {
        not_tested.push("attribute inference from sensitive columns (l-diversity, t-closeness: see deid audit risk --sensitive)".into());
    }
    not_tested
        .push("free-text columns, and background knowledge beyond the files named here".into());
    Adversary {
        holds: "the recipient of this file, holding all of it, who wants to find the people in it (prosecutor model: they know the target is in the file)".into(),
        given,
        not_tested,
    }
}

/// Candidates per second `algo` hashes here, measured for a few
/// milliseconds on one thread and scaled to `threads` (the search's block
/// kernels are faster still, so the estimate errs long).
fn measured_rate(algo: hashes::Algorithm, threads: usize) -> f64 {
    let start = std::time::Instant::now();
    let mut out = [0u8; 64];
    let mut cand = *b"010-0000-0000";
    let mut n = 0u64;
    while start.elapsed().as_millis() < 20 {
        for _ in 0..256 {
            cand[12] = b'0' + (n % 10) as u8;
            let _ = algo.hash(&cand, &mut out);
            n += 1;
        }
    }
    let secs = start.elapsed().as_secs_f64().max(1e-6);
    n as f64 / secs * threads.max(1) as f64
}
