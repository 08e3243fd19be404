//! `deid audit risk`.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, bail};
use deid::audit::risk::{
    ClassCounter, RiskOptions, RiskReport, csv_class_sizes, find_qi, report_from_sizes,
};
use deid::io::table::{Format, Row, TableOptions, TableReader};

use crate::ui::{refuse_data_as_header, usage};

/// Arguments of `deid audit risk`.
#[derive(clap::Args)]
#[command(after_help = "\
Examples:
  deid audit risk export.csv --qi birth_date,sex,postal_code
  deid audit risk export.csv --qi age,zip,sex --sensitive diagnosis --sampling-fraction 0.01
  deid audit risk sample.csv --qi age,zip,sex --population-file census.csv
  deid audit risk export.csv --find-qi --max-qi 3

Definitions follow ARX: prosecutor risk (highest = 1/k, records at highest risk, average = classes /
records), journalist risk against an identification file, marketer risk, population uniqueness from
a sample (Pitman, Zayatz, SNB and Dankar et al.'s decision rule), l-diversity (distinct, entropy,
recursive (c,2)) and t-closeness (equal and ordered distance).

--population-file must cover the sample: one with fewer rows than the input is refused. A CSV file
whose first row looks like data is refused: pass --no-header and name columns by number (--qi 2,5).
Exit status: 0 done, 1 bad input, 2 usage.")]
pub struct Args {
    /// Input file (CSV or JSON Lines).
    input: PathBuf,
    /// Quasi-identifier columns, comma separated (required unless --find-qi).
    #[arg(
        long,
        value_delimiter = ',',
        value_name = "COLS",
        required_unless_present = "find_qi"
    )]
    qi: Vec<String>,
    /// A sensitive attribute, for l-diversity and t-closeness.
    #[arg(long, value_name = "COL")]
    sensitive: Option<String>,
    /// The export is this fraction of the population (0 < F <= 1): estimates population uniqueness.
    #[arg(long, value_name = "F", conflicts_with = "population", value_parser = parse_fraction)]
    sampling_fraction: Option<f64>,
    /// The population has N people (sampling fraction = rows / N).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..))]
    population: Option<u64>,
    /// An identification file (the population an attacker can match against): journalist risk.
    #[arg(long, value_name = "FILE")]
    population_file: Option<PathBuf>,
    /// Rank combinations of columns (--qi, or all columns) by the records they make unique.
    #[arg(long)]
    find_qi: bool,
    /// Largest combination for --find-qi.
    #[arg(long, default_value_t = 3, value_name = "N")]
    max_qi: usize,
    /// Print one JSON document.
    #[arg(long)]
    json: bool,
    /// Input format [default: from the extension].
    #[arg(long, value_name = "csv|jsonl")]
    format: Option<Format>,
    /// The CSV files have no header row: name columns by number (1, 2, ...).
    #[arg(long)]
    no_header: bool,
}

fn parse_fraction(s: &str) -> Result<f64, String> {
    match s.trim().parse::<f64>() {
        Ok(f) if f > 0.0 && f <= 1.0 => Ok(f),
        _ => Err("expected a fraction F with 0 < F <= 1, e.g. 0.01".to_string()),
    }
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let report = measure(
        &args.input,
        &TableOptions::new()
            .format_opt(args.format)
            .has_header(!args.no_header),
        args.no_header,
        &args.qi,
        args.sensitive.as_deref(),
        &RiskOptions {
            sampling_fraction: args.sampling_fraction,
            population: args.population,
        },
        args.population_file.as_deref(),
        args.find_qi.then_some(args.max_qi),
    )?;
    let mut out = std::io::stdout().lock();
    if args.json {
        serde_json::to_writer_pretty(&mut out, &report)?;
        writeln!(out)?;
    } else {
        print(&mut out, &report)?;
    }
    Ok(ExitCode::SUCCESS)
}

/// Reads the input once and computes the report (shared with `audit report`).
#[allow(clippy::too_many_arguments)]
pub fn measure(
    input: &std::path::Path,
    table_opts: &TableOptions,
    no_header: bool,
    qi: &[String],
    sensitive: Option<&str>,
    opts: &RiskOptions,
    population_file: Option<&std::path::Path>,
    find: Option<usize>,
) -> anyhow::Result<RiskReport> {
    let mut table = TableReader::open(Some(input), table_opts)?;
    refuse_data_as_header(&table, no_header)?;
    let qi: Vec<String> = if qi.is_empty() && find.is_some() {
        table.columns().to_vec()
    } else {
        qi.to_vec()
    };
    if qi.is_empty() {
        return Err(usage(
            "give the quasi-identifiers with --qi (or --find-qi to search for them)",
        ));
    }
    let idx: Vec<usize> = qi
        .iter()
        .map(|c| table.column_index(c))
        .collect::<Result<_, _>>()?;
    let sidx = sensitive.map(|s| table.column_index(s)).transpose()?;
    // Class sizes alone (no sensitive attribute, identification file or QI
    // search) of a CSV file: counted on every core from hashed records. On
    // any error the streaming pass below runs instead and names the row.
    let sizes_only = sidx.is_none() && population_file.is_none() && find.is_none();
    if sizes_only && table.format() == Format::Csv && input != std::path::Path::new("-") {
        let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
        if let Ok((sizes, _)) = std::fs::File::open(input)
            .and_then(|mut f| csv_class_sizes(&mut f, b',', !no_header, &idx, threads))
        {
            return Ok(report_from_sizes(&sizes, &qi, opts));
        }
    }
    let mut counter = ClassCounter::new(qi.len(), sidx.is_some());
    let mut columns: Vec<Vec<u32>> = vec![Vec::new(); if find.is_some() { qi.len() } else { 0 }];
    let mut interners: Vec<std::collections::HashMap<Vec<u8>, u32>> =
        vec![Default::default(); columns.len()];
    let mut row = Row::new();
    while table.read_row(&mut row)? {
        let vals: Vec<&[u8]> = idx
            .iter()
            .map(|&i| row.get(i).unwrap_or_default())
            .collect();
        counter.add(&vals, sidx.map(|s| row.get(s).unwrap_or_default()));
        for ((col, m), v) in columns.iter_mut().zip(interners.iter_mut()).zip(&vals) {
            let n = m.len() as u32;
            col.push(*m.entry(v.to_vec()).or_insert(n));
        }
    }
    let mut report = counter.report(&qi, opts);
    if let Some(pf) = population_file {
        let mut pt = TableReader::open(Some(pf), table_opts)
            .with_context(|| format!("cannot read {}", pf.display()))?;
        refuse_data_as_header(&pt, no_header)?;
        let pidx: Vec<usize> = qi
            .iter()
            .map(|c| pt.column_index(c))
            .collect::<Result<_, _>>()?;
        let mut pc = ClassCounter::new(qi.len(), false);
        while pt.read_row(&mut row)? {
            let vals: Vec<&[u8]> = pidx
                .iter()
                .map(|&i| row.get(i).unwrap_or_default())
                .collect();
            pc.add(&vals, None);
        }
        if pt.row_number() < report.rows {
            bail!(
                "{}: the population file has {} rows, fewer than the {} of the sample {}; journalist risk needs the population the sample was drawn from (or an identification file covering it), not a subset",
                pf.display(),
                pt.row_number(),
                report.rows,
                input.display()
            );
        }
        counter.journalist(&mut report, &pc.sizes_by_key());
    }
    if let Some(max) = find {
        report.qi_search = find_qi(&qi, &columns, max);
        report.qi_search.truncate(20);
    }
    Ok(report)
}

fn print(out: &mut dyn Write, r: &RiskReport) -> std::io::Result<()> {
    writeln!(out, "quasi-identifiers: {}", r.quasi_identifiers.join(", "))?;
    writeln!(
        out,
        "records {}, equivalence classes {}, k = {} (largest class {})",
        r.rows, r.classes, r.k, r.largest_class
    )?;
    let s = &r.records_in_small_classes;
    writeln!(
        out,
        "records in classes of size 1: {} ({:.4}), size 2: {}, below 5: {} ({:.4}), below 10: {} ({:.4})",
        s.size_1,
        s.share_size_1,
        s.size_2,
        s.below_5,
        s.share_below_5,
        s.below_10,
        s.share_below_10
    )?;
    let p = &r.prosecutor;
    writeln!(
        out,
        "prosecutor risk: highest {:.6}, records at highest risk {:.6}, average {:.6}",
        p.highest_risk, p.records_at_highest_risk, p.average_risk
    )?;
    if let Some(j) = &r.journalist {
        writeln!(
            out,
            "journalist risk (against {} rows): highest {:.6}, records at highest risk {:.6}, average {:.6}",
            j.population_rows,
            j.risk.highest_risk,
            j.risk.records_at_highest_risk,
            j.risk.average_risk
        )?;
    }
    writeln!(out, "marketer risk: {:.6}", r.marketer_risk)?;
    writeln!(out, "sample uniqueness: {:.6}", r.sample_uniqueness)?;
    if let Some(u) = &r.population_uniqueness {
        let f = |v: Option<f64>| v.map_or("n/a".to_string(), |v| format!("{v:.6}"));
        writeln!(
            out,
            "population uniqueness (sampling fraction {}, population {:.0}): Zayatz {}, Pitman {}, SNB {}; Dankar et al.: {:.6} ({:?})",
            u.sampling_fraction,
            u.population,
            f(u.zayatz),
            f(u.pitman),
            f(u.snb),
            u.dankar,
            u.dankar_model
        )?;
    }
    if let Some(d) = &r.diversity {
        writeln!(
            out,
            "l-diversity: distinct {}, entropy {:.4}, recursive (c,2) needs c > {:.4}; t-closeness: equal distance {:.4}, ordered distance {:.4}",
            d.distinct_l,
            d.entropy_l,
            d.recursive_c_for_l2,
            d.t_closeness_equal_distance,
            d.t_closeness_ordered_distance
        )?;
    }
    writeln!(
        out,
        "class sizes (size: classes): {}",
        r.histogram
            .iter()
            .take(12)
            .map(|b| format!("{}: {}", b.size, b.classes))
            .collect::<Vec<_>>()
            .join(", ")
    )?;
    if !r.qi_search.is_empty() {
        writeln!(
            out,
            "\ncolumns that single people out (records unique on them):"
        )?;
        for c in &r.qi_search {
            writeln!(
                out,
                "  {:<50} {:>10} ({:.4})",
                c.columns.join(" + "),
                c.unique_records,
                c.unique_share
            )?;
        }
    }
    Ok(())
}
