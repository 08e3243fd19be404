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

use crate::ui::{now_rfc3339, print_summary};

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

/// Arguments of `deid demo`.
#[derive(clap::Args)]
#[command(after_help = "\
Generates synthetic Korean customers, writes the export the way it is often shipped (unsalted
SHA-256 of phone and email), then the deid export with a sample policy, and shows both. Nothing
leaves the temporary folder, which is removed at the end unless --dir is given.")]
pub struct Args {
    /// Customers to generate.
    #[arg(long, default_value_t = 100_000)]
    rows: u64,
    /// Write the files here and keep them, instead of a temporary folder.
    #[arg(long, value_name = "DIR")]
    dir: Option<PathBuf>,
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

    // 1. The export as often shipped: identifiers in clear plus unsalted SHA-256.
    let t = Instant::now();
    let raw = dir.join("customers.csv");
    let naive = dir.join("naive_export.csv");
    write_gen(&raw, args.rows, false, threads)?;
    write_gen(&naive, args.rows, true, threads)?;
    writeln!(
        out,
        "1. generated {} and {} in {:.2} s",
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
    let mut file = deid::io::atomic::AtomicFile::create(&safe, None)?;
    let input = Box::new(File::open(&raw)?);
    let opts = PipelineOptions::new()
        .format(Format::Csv)
        .threads(threads)
        .direction(Direction::Apply);
    let summary = pipeline::run(
        &policy,
        &keys,
        input,
        &raw.display().to_string(),
        &mut file,
        &opts,
        &mut |_| {},
    )?;
    file.commit()?;
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
    writeln!(
        out,
        "The naive export (identifiers masked here; the file has them in clear, next to their SHA-256):"
    )?;
    show(
        &mut out,
        &naive,
        &[
            "name",
            "phone",
            "email",
            "birth_date",
            "postal_code",
            "phone_sha256",
        ],
        true,
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

    writeln!(
        out,
        "\nWhy it matters: an unsalted SHA-256 of a 010 number is reversed by hashing all 10^8 numbers;"
    )?;
    writeln!(
        out,
        "the keyed pseudonym cannot be recomputed without the keyset, yet stays joinable across files"
    )?;
    writeln!(
        out,
        "made with the same key and context. Try: deid audit hashes {} --column phone_sha256",
        name(&naive)
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
