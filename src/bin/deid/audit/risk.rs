//! `deid audit risk`.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use deid::audit::engine::{RiskRequest, measure_risk_with_progress};
use deid::audit::risk::{RiskOptions, RiskReport};
use deid::io::table::{Format, TableOptions};

use crate::ui::usage;

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
    /// Input file (CSV, JSON Lines or Parquet).
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
    #[arg(long, value_name = "csv|jsonl|parquet")]
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
    let table_opts = TableOptions::new()
        .format_opt(args.format)
        .has_header(!args.no_header)
        .refuse_data_header(!args.no_header);
    if args.qi.is_empty() && !args.find_qi {
        return Err(usage(
            "give the quasi-identifiers with --qi (or --find-qi to search for them)",
        ));
    }
    let parameters = serde_json::json!({
        "input": args.input.display().to_string(),
        "qi": args.qi,
        "sensitive": args.sensitive,
        "sampling_fraction": args.sampling_fraction,
        "population": args.population,
        "population_file": args.population_file.as_ref().map(|p| p.display().to_string()),
        "find_qi": args.find_qi.then_some(args.max_qi),
    });
    let request = RiskRequest {
        qi: args.qi,
        sensitive: args.sensitive,
        options: RiskOptions {
            sampling_fraction: args.sampling_fraction,
            population: args.population,
        },
        population_file: args.population_file,
        find_qi: args.find_qi.then_some(args.max_qi),
        threads: std::thread::available_parallelism().map_or(1, |n| n.get()),
    };
    let report = super::with_progress(false, |p| {
        measure_risk_with_progress(&args.input, &table_opts, &request, p)
    })?;
    let mut out = std::io::stdout().lock();
    if args.json {
        serde_json::to_writer_pretty(&mut out, &super::versioned(&report, parameters)?)?;
        writeln!(out)?;
    } else {
        print(&mut out, &report)?;
    }
    Ok(ExitCode::SUCCESS)
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
        writeln!(
            out,
            "delta-presence: {:.6} to {:.6} ({} population classes absent from the sample); k-map: {} ({} records match fewer than 5 people)",
            j.delta_presence.delta_presence_min,
            j.delta_presence.delta_presence_max,
            j.delta_presence.population_classes_absent_from_sample,
            j.k_map,
            j.k_map_records_below_5
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
