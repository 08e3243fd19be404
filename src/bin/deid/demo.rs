//! `deid demo`: the main job end to end on built-in data.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

use anyhow::Context;
use deid::Keyset;
use deid::io::pipeline::{self, Direction, PipelineOptions};
use deid::io::table::{Format, Row, TableOptions, TableReader};
use deid::policy::Policy;
use deid::synth::Generator;
use deid::transform::encrypt::OsRng;
use deid::transform::mask::Mask;

use deid::audit::hashes::AuditOptions;
use deid::audit::report::{self, Claims};

use crate::ui::{now_rfc3339, print_summary};

mod story;

/// The sample policy the demo applies (also printed, to copy from).
pub const SAMPLE_POLICY: &str = r#"version = 1
unlisted = "keep"
on_error = "fail"

[fields.name]
transform = "drop"

[fields.phone]
normalize = ["phone:KR"]
transform = "pseudonymize"
context = "customer-phone"

[fields.email]
normalize = ["email"]
transform = "encrypt"
mode = "deterministic"

[fields.rrn]
transform = "drop"

[fields.birth_date]
transform = "generalize"
to = "year"

[fields.postal_code]
transform = "generalize"
to = "prefix"
keep = 3

[fields.balance]
transform = "generalize"
to = "bucket"
width = 1000000
"#;

/// The naive export: identifiers dropped, their unsalted SHA-256 shipped instead.
const NAIVE_POLICY: &str = r#"version = 1
unlisted = "keep"
[fields.name]
transform = "drop"
[fields.phone]
transform = "drop"
[fields.email]
transform = "drop"
[fields.rrn]
transform = "drop"
"#;

/// The claims tested on the naive export. The recipient's own customer
/// list (`customers.csv`) is their email dictionary.
const NAIVE_CLAIMS: &str = r#"# "individuals cannot be identified" is the report's headline
irreversible = ["phone_sha256", "email_sha256"]
k_anonymity = { qi = ["birth_date", "sex", "postal_code"], k = 5 }
dictionaries = { email_sha256 = "customers.csv:email" }
"#;

/// The claims tested on the deid export: the true phone numbers, in every
/// normalization the search knows, are the dictionary (stronger than
/// enumerating all numbers, and seconds instead of minutes for MD5-length
/// pseudonyms).
const DEID_CLAIMS: &str = r#"irreversible = ["phone"]
k_anonymity = { qi = ["birth_date", "sex", "postal_code"], k = 5 }
dictionaries = { phone = "customers.csv:phone" }
hash_spaces = []
"#;

/// Arguments of `deid demo`.
#[derive(clap::Args)]
#[command(after_help = "\
Generates synthetic Korean customers and writes two exports of them: the naive one, shipped the
way it often is (names and RRNs dropped, phone and email replaced by their unsalted SHA-256), and
the deid one (sample policy: keyed pseudonyms, tokens, generalized quasi-identifiers). Then it
audits both against the same short claims (\"individuals cannot be identified\", the hashed
columns cannot be reversed, 5-anonymous on birth_date, sex, postal_code) and prints side by side
what each gives a recipient. With --dir the files, the claims and both HTML reports are kept there;
otherwise everything stays in a temporary folder removed at the end.")]
pub struct Args {
    /// Customers to generate.
    #[arg(long, default_value_t = 100_000)]
    rows: u64,
    /// Write the files here and keep them, instead of a temporary folder.
    #[arg(long, value_name = "DIR")]
    dir: Option<PathBuf>,
    /// The space the naive export's phone digests are searched in: every
    /// Korean mobile number in four formats by default; a mask
    /// (`010-12?d?d-?d?d?d?d`) for a quicker, partial run.
    #[arg(long, value_name = "SPACE", default_value = "kr-mobile")]
    phone_space: String,
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let tmp = tempfile::tempdir()?;
    let dir = match &args.dir {
        Some(d) => {
            std::fs::create_dir_all(d)?;
            d.clone()
        }
        None => tmp.path().to_path_buf(),
    };
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    let mut out = std::io::stdout().lock();
    writeln!(
        out,
        "deid demo: {} synthetic customers in {}\n",
        args.rows,
        dir.display()
    )?;

    let started = Instant::now();
    // 1. The source data, and the export as often shipped: identifiers
    // dropped, their unsalted SHA-256 in their place.
    let t = Instant::now();
    let raw = dir.join("customers.csv");
    let naive = dir.join("naive_export.csv");
    let generated = dir.join("generated_with_hashes.csv");
    write_gen(&raw, args.rows, false, threads)?;
    write_gen(&generated, args.rows, true, threads)?;
    let naive_policy = Policy::from_toml(NAIVE_POLICY).map_err(|e| anyhow::anyhow!("{e}"))?;
    let none = Keyset::generate(&mut OsRng, &now_rfc3339());
    apply_policy(&naive_policy, &none, &generated, &naive, threads)?;
    std::fs::remove_file(&generated)?;
    writeln!(
        out,
        "1. generated {} (the source) and {} (identifiers replaced by unsalted SHA-256) in {:.2} s",
        name(&raw),
        name(&naive),
        t.elapsed().as_secs_f64()
    )?;

    // 2. A keyset and the sample policy.
    let keys = Keyset::generate(&mut OsRng, &now_rfc3339());
    let keys_path = dir.join("keys.json");
    let mut kf = deid::io::atomic::AtomicFile::create(&keys_path, Some(0o600))?;
    kf.write_all(keys.to_json().as_bytes())?;
    kf.commit()?;
    let policy_path = dir.join("policy.toml");
    std::fs::write(&policy_path, SAMPLE_POLICY)?;
    let policy = Policy::from_toml(SAMPLE_POLICY).map_err(|e| anyhow::anyhow!("{e}"))?;
    writeln!(
        out,
        "2. wrote a keyset ({}, mode 0600) and the sample policy ({})",
        name(&keys_path),
        name(&policy_path)
    )?;

    // 3. deid apply.
    let safe = dir.join("deid_export.csv");
    let summary = apply_policy(&policy, &keys, &raw, &safe, threads)?;
    writeln!(
        out,
        "3. deid apply -> {}: {} rows, {:.1} MB in {:.2} s ({:.0} MB/s on {} threads)\n",
        name(&safe),
        summary.rows_out,
        summary.bytes_in as f64 / 1e6,
        summary.seconds,
        summary.mb_per_s(),
        threads
    )?;

    // 4. Before and after, identifiers masked on screen.
    writeln!(out, "The naive export:")?;
    show(
        &mut out,
        &naive,
        &[
            "phone_sha256",
            "email_sha256",
            "birth_date",
            "sex",
            "postal_code",
        ],
        false,
    )?;
    writeln!(
        out,
        "\nThe deid export (phone: keyed HMAC pseudonym, email: AES-SIV token, name and RRN dropped, quasi-identifiers generalized):"
    )?;
    show(
        &mut out,
        &safe,
        &["phone", "email", "birth_date", "postal_code", "balance"],
        false,
    )?;

    // 4. The audit of both, against the same claims.
    writeln!(
        out,
        "\n4. auditing both exports as their recipient would (claims in naive_claims.toml and deid_claims.toml) ..."
    )?;
    out.flush()?;
    let naive_claims = dir.join("naive_claims.toml");
    let deid_claims = dir.join("deid_claims.toml");
    // A narrower phone space applies to both hashed columns; the email
    // digests are all found in the dictionary first, which ends their search.
    let naive_claims_text = if args.phone_space == "kr-mobile" {
        NAIVE_CLAIMS.to_string()
    } else {
        format!(
            "{NAIVE_CLAIMS}hash_spaces = [{}]\n",
            toml_string(&args.phone_space)
        )
    };
    std::fs::write(&naive_claims, &naive_claims_text)?;
    std::fs::write(&deid_claims, DEID_CLAIMS)?;
    let audit = AuditOptions {
        threads,
        ..AuditOptions::default()
    };
    let table = TableOptions::new().refuse_data_header(true);
    let t = Instant::now();
    let naive_report = report::build(
        &naive,
        &table,
        &Claims::from_toml(&naive_claims_text)?,
        &dir,
        &audit,
    )?;
    let naive_secs = t.elapsed().as_secs_f64();
    let t = Instant::now();
    let deid_report = report::build(
        &safe,
        &table,
        &Claims::from_toml(DEID_CLAIMS)?,
        &dir,
        &audit,
    )?;
    let deid_secs = t.elapsed().as_secs_f64();
    story::side_by_side(
        &mut out,
        (&naive_report, naive_secs),
        (&deid_report, deid_secs),
    )?;
    if args.dir.is_some() {
        for (r, file) in [
            (&naive_report, "naive_report.html"),
            (&deid_report, "deid_report.html"),
        ] {
            let path = dir.join(file);
            let mut f = deid::io::atomic::AtomicFile::create(&path, None)?;
            f.write_all(report::to_html(r).as_bytes())?;
            f.commit()?;
        }
        writeln!(
            out,
            "\nHTML reports: {} and {} (open offline; criteria, adversary model and remedies inside).",
            dir.join("naive_report.html").display(),
            dir.join("deid_report.html").display()
        )?;
        writeln!(
            out,
            "Run one yourself: deid audit report {} --claims {} --format html -o report.html",
            naive.display(),
            naive_claims.display()
        )?;
    }
    writeln!(
        out,
        "\nWhole demo: {:.1} s on {threads} threads.",
        started.elapsed().as_secs_f64()
    )?;
    writeln!(out, "\nPolicy used (copy it as a start):\n{SAMPLE_POLICY}")?;
    drop(out);
    print_summary(&summary, false, Direction::Apply)?;
    if args.dir.is_none() {
        tmp.close().context("cannot remove the temporary folder")?;
    }
    Ok(ExitCode::SUCCESS)
}

fn name(p: &Path) -> String {
    p.file_name().map_or_else(
        || p.display().to_string(),
        |n| n.to_string_lossy().into_owned(),
    )
}

fn toml_string(s: &str) -> String {
    format!("\"{}\"", s.replace('\\', "\\\\").replace('"', "\\\""))
}

fn apply_policy(
    policy: &Policy,
    keys: &Keyset,
    input: &Path,
    output: &Path,
    threads: usize,
) -> anyhow::Result<pipeline::Summary> {
    let mut file = deid::io::atomic::AtomicFile::create(output, None)?;
    let opts = PipelineOptions::new()
        .format(Format::Csv)
        .threads(threads)
        .direction(Direction::Apply);
    let summary = pipeline::run(
        policy,
        keys,
        Box::new(File::open(input)?),
        &input.display().to_string(),
        &mut file,
        &opts,
        &mut |_| {},
    )?;
    file.commit()?;
    Ok(summary)
}

fn write_gen(path: &Path, rows: u64, naive: bool, threads: usize) -> anyhow::Result<()> {
    let mut w = BufWriter::new(File::create(path)?);
    Generator::new(2024)
        .naive_hash(naive)
        .write(rows, Format::Csv, &mut w, threads)?;
    w.flush()?;
    Ok(())
}

/// Prints the first rows of `columns`, masking raw identifiers.
fn show(
    out: &mut dyn Write,
    path: &Path,
    columns: &[&str],
    mask_identifiers: bool,
) -> anyhow::Result<()> {
    let mut t = TableReader::open(Some(path), &TableOptions::new())?;
    let idx: Vec<usize> = columns
        .iter()
        .map(|c| t.column_index(c))
        .collect::<Result<_, _>>()?;
    let widths: Vec<usize> = columns
        .iter()
        .map(|c| {
            if c.ends_with("sha256") || *c == "email" {
                30
            } else {
                16
            }
        })
        .collect();
    let line: Vec<String> = columns
        .iter()
        .zip(&widths)
        .map(|(c, w)| format!("{c:<w$}"))
        .collect();
    writeln!(out, "  {}", line.join(" "))?;
    let mut row = Row::new();
    let mask = Mask {
        keep_first: 3,
        keep_last: 2,
        mask_char: '*',
    };
    for _ in 0..3 {
        if !t.read_row(&mut row)? {
            break;
        }
        let cells: Vec<String> = idx
            .iter()
            .zip(columns)
            .zip(&widths)
            .map(|((&i, c), w)| {
                let v = String::from_utf8_lossy(row.get(i).unwrap_or_default()).into_owned();
                let v = if mask_identifiers && matches!(*c, "name" | "phone" | "email") {
                    let mut buf = vec![0u8; 4 * v.len() + 4];
                    let m = if *c == "name" {
                        Mask {
                            keep_first: 1,
                            keep_last: 0,
                            mask_char: '*',
                        }
                    } else {
                        mask
                    };
                    m.apply(v.as_bytes(), &mut buf)
                        .map(|b| String::from_utf8_lossy(b).into_owned())
                        .unwrap_or_default()
                } else {
                    v
                };
                let v = if v.chars().count() > *w {
                    format!("{}…", v.chars().take(w - 1).collect::<String>())
                } else {
                    v
                };
                format!("{v:<w$}")
            })
            .collect();
        writeln!(out, "  {}", cells.join(" "))?;
    }
    Ok(())
}
