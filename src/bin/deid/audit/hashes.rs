//! `deid audit hashes`.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::atomic::{AtomicU64, Ordering};

use anyhow::{Context, bail};
use deid::audit::engine::{self, Digests};
use deid::audit::hashes::{self, Algorithm, AuditOptions, ColumnReport, Construction, Space};
use deid::io::atomic::AtomicFile;
use deid::io::table::{Format, TableOptions, TableReader};
use deid::normalize::Normalizer;
use zeroize::Zeroizing;

use crate::paths::refuse_output_over_inputs;
use crate::ui::usage;

/// Arguments of `deid audit hashes`.
#[derive(clap::Args)]
#[command(after_help = "\
Examples:
  deid audit hashes export.csv --column phone_sha256 --column email_sha256
  deid audit hashes export.csv -c phone_hash --space kr-mobile --algo sha256 --json
  deid audit hashes export.csv -c email_sha256 --dict emails.txt --dict-normalize email
  deid audit hashes export.csv -c rrn_hash --space kr-rrn --born 1960..1990
  deid audit hashes export.csv -c id_hash --space '010?d?d?d?d?d?d?d?d' --salt s3cret --salt-at suffix
  deid audit hashes export.csv -c id_hash --space kr-mobile --salt-file known_peppers.txt
  deid audit hashes export.csv -c email_sha256 --dict-from customers.csv:email
  deid audit hashes export.csv -c email_sha256 --dict-from customers.csv:email --hash-of md5

Spaces: kr-mobile (010 + 8 digits in 4 formats), e164:<KR|JP|GB|US>, us-ssn, ipv4, kr-rrn (pre-2020
structure, --born narrows it), card:<BIN> (Luhn-valid), hashcat masks (?d ?l ?u ?h ?a and literals).
Without --space, the spaces that fit the column name are tried, cheapest first.

Recovered identifiers are never printed: only masked samples. --reveal FILE writes the
digest-to-identifier map (mode 0600) for an authorized auditor; it may not be one of the inputs.
Truncated digests: hex values of a length no algorithm has (16 to 126 hex characters, e.g. the
first 16 or 32 hex characters of a SHA-256, or 20 of a SHA-1) are read as the leading bytes of every
longer digest and matched on those bytes. 32 hex characters are MD5 unless --truncated says they
may be a cut SHA-1/SHA-2 (likewise 40 for SHA-1); the JSON gives the expected number of chance
matches. Prefixes shorter than 16 hex characters (64 bits) are not searched: a match would not
show the input.
An --algo whose digest length no column has (nor is longer than, for a prefix) is refused. A CSV file whose first row looks like data
is refused: pass --no-header and name columns by number (-c 3).
Exit status: 0 nothing reversed, 3 some column reversed, 1 bad input, 2 usage.")]
pub struct Args {
    /// Input file (CSV, JSON Lines or Parquet); standard input when `-`.
    input: PathBuf,
    /// Column holding digests (repeat for several; dotted paths for JSON Lines).
    #[arg(short, long = "column", value_name = "COL", required = true)]
    columns: Vec<String>,
    /// Only these algorithms (md5, sha1, sha224, sha256, sha384, sha512, sha3-256) [default: those the digest length allows].
    #[arg(long = "algo", value_name = "ALGO", value_parser = parse_algorithm)]
    algorithms: Vec<Algorithm>,
    /// Candidate spaces to try (repeatable) [default: from the column name].
    #[arg(long = "space", value_name = "SPACE")]
    spaces: Vec<String>,
    /// Dictionary of candidates, one per line (tried first).
    #[arg(long, value_name = "FILE")]
    dict: Option<PathBuf>,
    /// Candidates from a column of an auxiliary file (the recipient's own customer list), each
    /// value in every normalization tried: as written, trimmed, lowercased, emails without +tag
    /// and Gmail dots, phones in E.164 with and without +, digits only.
    #[arg(long, value_name = "FILE:COLUMN", conflicts_with = "dict")]
    dict_from: Option<String>,
    /// Normalizers applied to dictionary lines before hashing (e.g. email, trim, lowercase, phone:KR).
    #[arg(long, value_name = "RULE")]
    dict_normalize: Vec<Normalizer>,
    /// A known salt.
    #[arg(long, value_name = "SALT")]
    salt: Option<String>,
    /// Where the salt goes.
    #[arg(long, value_enum, default_value = "prefix", requires = "salt")]
    salt_at: SaltAt,
    /// A file of known global salts or peppers, one a line: each is tried before and after the
    /// identifier.
    #[arg(long, value_name = "FILE", conflicts_with_all = ["salt", "hmac_key_file"])]
    salt_file: Option<PathBuf>,
    /// The digests are hashes of a hash: H(hex(INNER(identifier))), e.g. --hash-of md5 for
    /// sha256(md5_hex(email)).
    #[arg(long, value_name = "INNER", value_parser = parse_algorithm, conflicts_with_all = ["salt", "salt_file", "hmac_key_file"])]
    hash_of: Option<Algorithm>,
    /// With --hash-of: the inner digest is written in upper-case hex.
    #[arg(long, requires = "hash_of")]
    hash_of_upper: bool,
    /// File holding a leaked HMAC key (raw bytes, or hex with --hmac-key-hex); tries HMAC-H(key, value).
    #[arg(long, value_name = "FILE", conflicts_with = "salt")]
    hmac_key_file: Option<PathBuf>,
    /// The --hmac-key-file holds hex text.
    #[arg(long, requires = "hmac_key_file")]
    hmac_key_hex: bool,
    /// The digests may be truncated: also try 32- and 40-hex-character values (and any full
    /// length) as the leading bytes of longer digests (e.g. the first 32 hex of a SHA-256).
    #[arg(long)]
    truncated: bool,
    /// Birth years for kr-rrn, e.g. 1950..2005.
    #[arg(long, value_name = "FROM..TO", default_value = "1950..2005", value_parser = parse_born)]
    born: (i32, i32),
    /// Write the digest-to-identifier map here (CSV, mode 0600).
    #[arg(long, value_name = "FILE")]
    reveal: Option<PathBuf>,
    /// Print one JSON document instead of the table.
    #[arg(long)]
    json: bool,
    /// Threads, 1 to 256 [default: all cores].
    #[arg(long, value_name = "N", value_parser = crate::ui::parse_threads)]
    threads: Option<usize>,
    /// Input format [default: from the extension].
    #[arg(long, value_name = "csv|jsonl|parquet")]
    format: Option<Format>,
    /// The CSV has no header row: name columns by number (1, 2, ...).
    #[arg(long)]
    no_header: bool,
}

fn parse_algorithm(s: &str) -> Result<Algorithm, String> {
    Algorithm::parse(s).ok_or_else(|| {
        "unknown algorithm (md5, sha1, sha224, sha256, sha384, sha512, sha3-256)".to_string()
    })
}

#[derive(Clone, Copy, clap::ValueEnum)]
enum SaltAt {
    Prefix,
    Suffix,
}

fn parse_born(s: &str) -> Result<(i32, i32), String> {
    let (a, b) = s
        .split_once("..")
        .ok_or("expected FROM..TO, e.g. 1950..2005")?;
    let a: i32 = a.trim().parse().map_err(|_| "FROM is not a year")?;
    let b: i32 = b.trim().parse().map_err(|_| "TO is not a year")?;
    if a > b {
        return Err("FROM is after TO".into());
    }
    Ok((a, b))
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    refuse_output_over_inputs(
        "--reveal",
        args.reveal.as_deref(),
        &[
            ("input", Some(&args.input)),
            ("dictionary", args.dict.as_deref()),
            ("salt file", args.salt_file.as_deref()),
            ("HMAC key file", args.hmac_key_file.as_deref()),
        ],
    )?;
    let mut opts = AuditOptions::default();
    if let Some(t) = args.threads {
        opts.threads = t;
    }
    opts.born = args.born;
    opts.truncated = args.truncated;
    opts.algorithms.clone_from(&args.algorithms);
    for s in &args.spaces {
        opts.spaces.push(Space::parse(s, args.born).map_err(|e| {
            match Space::too_large(s, args.born) {
                // Parsed, but too large to search: bad input (exit 1).
                Some(size) => anyhow::anyhow!("--space {s}: {size}; narrow it"),
                None => usage(format!("--space {s}: {e}")),
            }
        })?);
    }
    if let Some(salt) = &args.salt {
        opts.construction = Construction::Salted {
            salt: salt.as_bytes().to_vec(),
            prefix: matches!(args.salt_at, SaltAt::Prefix),
        };
    }
    if let Some(path) = &args.hmac_key_file {
        let raw = Zeroizing::new(
            std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?,
        );
        let key = if args.hmac_key_hex {
            let text = String::from_utf8_lossy(&raw).trim().to_string();
            data_encoding::HEXLOWER_PERMISSIVE
                .decode(text.as_bytes())
                .map_err(|_| anyhow::anyhow!("{}: not hex", path.display()))?
        } else {
            raw.to_vec()
        };
        opts.construction = Construction::Hmac {
            key: Zeroizing::new(key),
        };
    }
    if let Some(inner) = args.hash_of {
        opts.construction = Construction::Nested {
            inner,
            upper: args.hash_of_upper,
        };
    }
    // Each known salt, before and after the identifier.
    let mut constructions = vec![opts.construction.clone()];
    if let Some(path) = &args.salt_file {
        let text =
            std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
        let salts: Vec<Vec<u8>> = text
            .split(|&c| c == b'\n')
            .map(|l| l.strip_suffix(b"\r").unwrap_or(l))
            .filter(|l| !l.is_empty())
            .map(<[u8]>::to_vec)
            .collect();
        constructions = hashes::salted_constructions(&salts);
        if constructions.is_empty() {
            return Err(anyhow::anyhow!("{}: no salt in the file", path.display()));
        }
    }
    if let Some(src) = &args.dict_from {
        let (file, column) = src
            .rsplit_once(':')
            .filter(|(f, c)| !f.is_empty() && !c.is_empty())
            .ok_or_else(|| usage(format!("--dict-from {src}: expected FILE:COLUMN")))?;
        opts.dictionary = Some(deid::audit::hashes::dict::from_column(
            std::path::Path::new(file),
            column,
        )?);
    }
    if let Some(path) = &args.dict {
        let text =
            std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
        let mut lines = Vec::new();
        let (mut a, mut b) = (vec![0u8; 4096], vec![0u8; 4096]);
        for line in text.split(|&c| c == b'\n') {
            let line = line.strip_suffix(b"\r").unwrap_or(line);
            if line.is_empty() || line.len() > 1000 {
                continue;
            }
            if let Ok(v) = deid::normalize::apply_chain(&args.dict_normalize, line, &mut a, &mut b)
            {
                lines.push(v.to_vec());
            }
        }
        lines.sort();
        lines.dedup();
        opts.dictionary = Some(Space::dictionary(
            &format!("dict:{}", path.display()),
            lines,
        ));
    }

    // One pass over the input collects the digests of every column.
    let mut table = TableReader::open(
        Some(&args.input),
        &TableOptions::new()
            .format_opt(args.format)
            .has_header(!args.no_header)
            .refuse_data_header(!args.no_header),
    )?;
    let mut digests = Digests::new(&args.columns);
    engine::run(&mut table, &mut [&mut digests])?;
    let targets = digests.finish();
    if !opts.algorithms.is_empty() {
        for (t, column) in targets.iter().zip(&args.columns) {
            let Some(len) = t.digest_bytes() else {
                continue;
            };
            let fits_len = Algorithm::for_prefix(len, opts.truncated);
            if !opts.algorithms.iter().any(|a| fits_len.contains(a)) {
                let forced: Vec<&str> = opts.algorithms.iter().map(|a| a.name()).collect();
                let fits: Vec<&str> = fits_len.iter().map(|a| a.name()).collect();
                return Err(usage(format!(
                    "column {column} holds {len}-byte digests, which --algo {} cannot produce; {len}-byte digests are {}",
                    forced.join(", "),
                    fits.join(" or ")
                )));
            }
        }
    }
    let progress = AtomicU64::new(0);
    let bar = crate::ui::progress_bar(None, args.json);
    let mut reports: Vec<ColumnReport> = Vec::new();
    let mut used: Vec<usize> = Vec::new();
    let done = std::sync::atomic::AtomicBool::new(false);
    std::thread::scope(|s| {
        if let Some(b) = &bar {
            let (b, progress, done) = (b.clone(), &progress, &done);
            s.spawn(move || {
                while !done.load(Ordering::Relaxed) {
                    b.set_message(format!(
                        "{:.2e} candidates hashed",
                        progress.load(Ordering::Relaxed) as f64
                    ));
                    std::thread::sleep(std::time::Duration::from_millis(200));
                }
            });
        }
        for t in targets {
            let (r, i) = hashes::audit_constructions(&t, &opts, &constructions, &progress);
            reports.push(r);
            used.push(i);
        }
        done.store(true, Ordering::Relaxed);
    });
    if let Some(b) = bar {
        b.finish_and_clear();
    }

    if let Some(path) = &args.reveal {
        let mut f = AtomicFile::create(path, Some(0o600))
            .with_context(|| format!("cannot write {}", path.display()))?;
        let mut w = csv::Writer::from_writer(&mut f);
        w.write_record(["column", "digest", "identifier", "algorithm", "format"])?;
        for (r, &ci) in reports.iter().zip(&used) {
            let construction = &constructions[ci];
            let enc = r.encoding.unwrap_or(hashes::DigestEncoding::HexLower);
            let column = &r.column;
            for hit in &r.hits {
                let mut d = [0u8; 64];
                let n = construction.digest(hit.algorithm, &hit.identifier, &mut d);
                w.write_record([
                    column.as_bytes(),
                    enc.encode(&d[..n]).as_bytes(),
                    &hit.identifier,
                    hit.algorithm.name().as_bytes(),
                    hit.format.as_bytes(),
                ])?;
            }
        }
        w.flush()?;
        drop(w);
        f.commit()?;
    }

    let reversed = reports.iter().any(|r| r.reversed_distinct > 0);
    let mut out = std::io::stdout().lock();
    if args.json {
        let doc = super::versioned(
            serde_json::json!({
                "input": args.input.display().to_string(),
                "reversed_any": reversed,
                "columns": reports,
            }),
            // Names and sizes only: never a salt or key, nor dictionary lines.
            serde_json::json!({
                "columns": args.columns,
                "algorithms": opts.algorithms,
                "spaces": opts.spaces.iter().map(|s| serde_json::json!({"name": s.name, "candidates": s.size() as f64})).collect::<Vec<_>>(),
                "dictionary": opts.dictionary.as_ref().map(|s| serde_json::json!({"name": s.name, "candidates": s.size() as f64})),
                "constructions": constructions.iter().map(Construction::label).collect::<Vec<_>>(),
                "salt_file": args.salt_file.as_ref().map(|p| p.display().to_string()),
                "born": opts.born,
                "truncated": opts.truncated,
                "threads": opts.threads,
            }),
        )?;
        serde_json::to_writer_pretty(&mut out, &doc)?;
        writeln!(out)?;
    } else {
        for r in &reports {
            print_report(&mut out, r)?;
        }
    }
    if reports.iter().all(|r| r.values == 0) {
        bail!("{}: the columns hold no values", args.input.display());
    }
    Ok(if reversed {
        ExitCode::from(3)
    } else {
        ExitCode::SUCCESS
    })
}

fn print_report(out: &mut dyn Write, r: &ColumnReport) -> std::io::Result<()> {
    writeln!(out, "column {}", r.column)?;
    let enc = r
        .encoding
        .map_or("unknown".to_string(), |e| format!("{e:?}").to_lowercase());
    let len = match (r.digest_bytes, r.truncated_to_bytes) {
        (_, Some(n)) => format!(
            "{n}-byte prefix of longer digests ({:.1e} chance matches expected)",
            r.expected_chance_matches.unwrap_or(0.0)
        ),
        (Some(n), None) => format!("{n} bytes"),
        (None, None) => "unknown".to_string(),
    };
    writeln!(
        out,
        "  values {} ({} distinct, {} empty, {} malformed); encoding {enc}; digest {len}",
        r.values, r.distinct, r.empty, r.malformed
    )?;
    let algos: Vec<&str> = r.algorithms.iter().map(|a| a.name()).collect();
    writeln!(
        out,
        "  algorithms tried: {}",
        if algos.is_empty() {
            "none".to_string()
        } else {
            algos.join(", ")
        }
    )?;
    writeln!(
        out,
        "  {:<16} {:<22} {:<9} {:>14} {:>9} {:>12} {:>10}",
        "space", "format", "algorithm", "candidates", "seconds", "per second", "reversed"
    )?;
    for a in &r.attempts {
        writeln!(
            out,
            "  {:<16} {:<22} {:<9} {:>14} {:>9.2} {:>12.3e} {:>10}",
            a.space,
            a.format,
            a.algorithm.name(),
            a.candidates,
            a.seconds,
            a.rate(),
            a.reversed
        )?;
    }
    writeln!(
        out,
        "  reversed: {} of {} rows ({:.4}), {} of {} distinct ({:.4})",
        r.reversed_rows,
        r.values,
        r.reversed_share,
        r.reversed_distinct,
        r.distinct,
        r.reversed_distinct_share
    )?;
    for m in &r.matches {
        writeln!(
            out,
            "    {} ({}) over {} written as {}: {} distinct, {} rows",
            m.algorithm.name(),
            m.construction,
            m.space,
            m.format,
            m.distinct,
            m.rows
        )?;
    }
    if !r.masked_samples.is_empty() {
        writeln!(out, "  samples (masked): {}", r.masked_samples.join(", "))?;
    }
    for g in r.gpu_estimates.iter().filter(|g| g.seconds > 0.0) {
        writeln!(
            out,
            "  whole {} space with {} on one RTX 4090 (hashcat): {}",
            g.space,
            g.algorithm.name(),
            human_seconds(g.seconds)
        )?;
    }
    writeln!(out, "  verdict: {}\n", r.verdict)
}

fn human_seconds(s: f64) -> String {
    if s < 1.0 {
        format!("{:.0} ms", s * 1000.0)
    } else if s < 120.0 {
        format!("{s:.1} s")
    } else if s < 7200.0 {
        format!("{:.1} min", s / 60.0)
    } else if s < 86400.0 * 3.0 {
        format!("{:.1} h", s / 3600.0)
    } else {
        format!("{:.1} days", s / 86400.0)
    }
}
