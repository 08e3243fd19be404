//! `deid anonymize`: the least generalization that makes a privacy model hold.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use anyhow::Context;
use deid::anonymize::hierarchy::{Hierarchy, HierarchySpec};
use deid::anonymize::{self, Config, Counted, Metric, Models, SearchResult};
use deid::io::table::{Format, TableOptions, TableReader};

use crate::ui::{progress_bar, usage};

/// Arguments of `deid anonymize`.
#[derive(clap::Args)]
#[command(after_help = "\
Examples:
  deid anonymize adult.csv --qi age,education,sex \\
      --hierarchy age=interval:5,10,20 --hierarchy education=education.csv --hierarchy sex=mask \\
      --model k=5 --suppress 0.02
  deid anonymize export.csv --qi birth_date,postal_code,sex \\
      --hierarchy birth_date=date --hierarchy postal_code=prefix --hierarchy sex=mask \\
      --model k=10 --model l=3:diagnosis --metric loss --top 5 --json

Hierarchies (--hierarchy COL=SPEC, one per quasi-identifier):
  FILE or file:FILE   ARX's CSV format, one row per value: value;level1;...;*  (';' unless
                      --hierarchy-delimiter). Rows must all have the same number of levels, no
                      empty field, one row per value, and levels that nest.
  date                day, month (YYYY-MM), year, 5 years, 10 years, *
  interval:W1,W2,...  integer intervals lo-hi of each width (each a multiple of the previous), *
  prefix              one trailing character dropped per level (postal codes), *
  mask                one more trailing character replaced by * per level, *

Models (--model, repeatable; all must hold):
  k=K                 k-anonymity
  l=L:COL             distinct l-diversity of COL
  entropy-l=L:COL     entropy l-diversity of COL (exp(entropy) >= L)
  t=T:COL             t-closeness of COL, equal ground distance
  ordered-t=T:COL     t-closeness of COL, ordered ground distance (numeric or text order)
  --max-risk R        average prosecutor risk (released classes / released records) <= R
l and t use the definitions of `deid audit risk`, against the distribution of the whole input.

Records in classes that break a model are suppressed, at most --suppress of them (a fraction of
the records); a transformation needing more does not hold. The search is exact: every
transformation that could beat the best one found is evaluated (docs/ANONYMIZE.md).

Metrics (--metric): precision (mean of level / max level, suppressed records count 1),
discernibility (sum of class size squared + suppressed x records), loss (ARX's Loss), entropy
(non-uniform entropy, bits). Exit status: 0 a transformation holds, 1 bad input or none holds,
2 usage.")]
pub struct Args {
    /// Input file (CSV or JSON Lines).
    input: PathBuf,
    /// Quasi-identifier columns, comma separated.
    #[arg(long, value_delimiter = ',', value_name = "COLS", required = true)]
    qi: Vec<String>,
    /// The hierarchy of a quasi-identifier: COL=FILE, COL=date, COL=interval:5,10, COL=prefix, COL=mask.
    #[arg(long = "hierarchy", value_name = "COL=SPEC")]
    hierarchies: Vec<String>,
    /// Field separator of hierarchy files.
    #[arg(long, default_value_t = ';', value_name = "CHAR")]
    hierarchy_delimiter: char,
    /// A privacy model: k=K, l=L:COL, entropy-l=L:COL, t=T:COL, ordered-t=T:COL.
    #[arg(long = "model", value_name = "MODEL")]
    models: Vec<String>,
    /// Largest average prosecutor risk (0 < R <= 1).
    #[arg(long, value_name = "R")]
    max_risk: Option<f64>,
    /// Largest fraction of records that may be suppressed (0 to 1).
    #[arg(long, default_value_t = 0.0, value_name = "F")]
    suppress: f64,
    /// Information loss to minimize: precision, discernibility, loss, entropy.
    #[arg(long, default_value = "precision", value_name = "METRIC")]
    metric: Metric,
    /// List the N best transformations.
    #[arg(long, default_value_t = 1, value_name = "N")]
    top: usize,
    /// Print one JSON document.
    #[arg(long)]
    json: bool,
    /// Worker threads [default: every core].
    #[arg(long, value_name = "N", value_parser = crate::ui::parse_threads)]
    threads: Option<usize>,
    /// No progress bar.
    #[arg(long, short)]
    quiet: bool,
    /// Input format [default: from the extension].
    #[arg(long, value_name = "csv|jsonl")]
    format: Option<Format>,
    /// The CSV file has no header row: name columns by number (1, 2, ...).
    #[arg(long)]
    no_header: bool,
}

fn parse_models(args: &Args) -> anyhow::Result<(Models, Option<String>)> {
    let mut models = Models {
        max_risk: args.max_risk,
        ..Models::default()
    };
    if let Some(r) = args.max_risk {
        if !(r > 0.0 && r <= 1.0) {
            return Err(usage("--max-risk is a probability, 0 < R <= 1"));
        }
    }
    let mut sensitive: Option<String> = None;
    for m in &args.models {
        let (name, rest) = m
            .split_once('=')
            .ok_or_else(|| usage(format!("--model {m}: expected NAME=VALUE, e.g. k=5")))?;
        let (value, column) = match rest.split_once(':') {
            Some((v, c)) => (v, Some(c)),
            None => (rest, None),
        };
        let bad = || usage(format!("--model {m}: the value is not a positive number"));
        let int = || {
            value
                .parse::<u64>()
                .ok()
                .filter(|v| *v >= 1)
                .ok_or_else(bad)
        };
        let float = || {
            value
                .parse::<f64>()
                .ok()
                .filter(|v| v.is_finite() && *v >= 0.0)
                .ok_or_else(bad)
        };
        match name {
            "k" => models.k = Some(int()?),
            "l" => models.l_distinct = Some(int()?),
            "entropy-l" => models.l_entropy = Some(float()?),
            "t" => models.t_equal = Some(float()?),
            "ordered-t" => models.t_ordered = Some(float()?),
            _ => {
                return Err(usage(format!(
                    "--model {m}: unknown model (k, l, entropy-l, t, ordered-t)"
                )));
            }
        }
        if name != "k" {
            let col = column.filter(|c| !c.is_empty()).ok_or_else(|| {
                usage(format!(
                    "--model {m}: name the sensitive column, e.g. {name}={value}:diagnosis"
                ))
            })?;
            match &sensitive {
                Some(s) if s != col => {
                    return Err(usage(
                        "l-diversity and t-closeness models must name the same sensitive column",
                    ));
                }
                _ => sensitive = Some(col.to_string()),
            }
        } else if column.is_some() {
            return Err(usage(format!("--model {m}: k takes no column")));
        }
    }
    Ok((models, sensitive))
}

fn hierarchies(args: &Args) -> anyhow::Result<Vec<Hierarchy>> {
    let delimiter = u8::try_from(args.hierarchy_delimiter)
        .map_err(|_| usage("--hierarchy-delimiter must be one ASCII character"))?;
    let mut specs: Vec<Option<HierarchySpec>> = vec![None; args.qi.len()];
    for h in &args.hierarchies {
        let (col, spec) = h
            .split_once('=')
            .ok_or_else(|| usage(format!("--hierarchy {h}: expected COL=SPEC")))?;
        let i = args.qi.iter().position(|q| q == col).ok_or_else(|| {
            usage(format!(
                "--hierarchy {h}: {col} is not one of the quasi-identifiers (--qi)"
            ))
        })?;
        let mut spec: HierarchySpec = spec
            .parse()
            .map_err(|e: String| usage(format!("--hierarchy {h}: {e}")))?;
        if let HierarchySpec::File { delimiter: d, .. } = &mut spec {
            *d = delimiter;
        }
        specs[i] = Some(spec);
    }
    args.qi
        .iter()
        .zip(specs)
        .map(|(q, s)| {
            let s = s.ok_or_else(|| {
                usage(format!(
                    "{q} has no hierarchy: add --hierarchy {q}=FILE (or date, interval:W,..., prefix, mask)"
                ))
            })?;
            Ok(s.load()?)
        })
        .collect()
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let (models, sensitive) = parse_models(&args)?;
    if !(0.0..=1.0).contains(&args.suppress) {
        return Err(usage("--suppress is a fraction of the records, 0 to 1"));
    }
    if args.top == 0 {
        return Err(usage("--top must be at least 1"));
    }
    let hierarchies = hierarchies(&args)?;
    let table_opts = TableOptions::new()
        .format_opt(args.format)
        .has_header(!args.no_header)
        .refuse_data_header(!args.no_header);
    let started = Instant::now();
    let mut table = TableReader::open(Some(&args.input), &table_opts)?;
    let counted = Counted::read(&mut table, &args.qi, &hierarchies, sensitive.as_deref())
        .with_context(|| format!("reading {}", args.input.display()))?;
    let counted_in = started.elapsed();
    let config = Config {
        models,
        suppress: args.suppress,
        metric: args.metric,
        top: args.top,
        threads: args.threads.unwrap_or(0),
    };
    let bar = progress_bar(None, args.quiet);
    if let Some(b) = &bar {
        b.set_style(
            indicatif::ProgressStyle::with_template(
                "{spinner} [{elapsed_precise}] {bar:30} {pos}/{len} lattice nodes {msg}",
            )
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
        );
    }
    let tick = |done: u64, total: u64| {
        if let Some(b) = &bar {
            b.set_length(total);
            b.set_position(done);
        }
    };
    let result = anonymize::search(&counted, &config, Some(&tick))?;
    if let Some(b) = &bar {
        b.finish_and_clear();
    }
    let elapsed = started.elapsed();
    let mut out = std::io::stdout().lock();
    if args.json {
        let doc = serde_json::json!({
            "deid_version": env!("CARGO_PKG_VERSION"),
            "input": args.input.display().to_string(),
            "quasi_identifiers": args.qi,
            "hierarchies": args.hierarchies,
            "models": args.models,
            "max_risk": args.max_risk,
            "suppression_limit": args.suppress,
            "metric": args.metric,
            "rows": counted.rows(),
            "distinct_combinations": counted.classes(),
            "lattice_nodes": result.lattice,
            "evaluated_nodes": result.evaluated,
            "pruned_nodes": result.pruned,
            "heights": result.heights,
            "seconds": elapsed.as_secs_f64(),
            "counting_seconds": counted_in.as_secs_f64(),
            "nodes": result.nodes,
        });
        serde_json::to_writer_pretty(&mut out, &doc)?;
        writeln!(out)?;
    } else {
        print(&mut out, &args, &counted, &result, elapsed.as_secs_f64())?;
    }
    if result.nodes.is_empty() {
        return Ok(ExitCode::from(1));
    }
    Ok(ExitCode::SUCCESS)
}

fn print(
    out: &mut dyn Write,
    args: &Args,
    counted: &Counted,
    r: &SearchResult,
    seconds: f64,
) -> std::io::Result<()> {
    writeln!(
        out,
        "{} records, {} distinct combinations of {}; lattice of {} nodes: {} evaluated, {} pruned, {:.3} s",
        counted.rows(),
        counted.classes(),
        args.qi.join(", "),
        r.lattice,
        r.evaluated,
        r.pruned,
        seconds
    )?;
    if r.nodes.is_empty() {
        writeln!(
            out,
            "no transformation satisfies the models within the suppression limit ({}); allow more suppression or coarser hierarchies",
            args.suppress
        )?;
        return Ok(());
    }
    let n = counted.rows().max(1) as f64;
    for (rank, node) in r.nodes.iter().enumerate() {
        let title = if rank == 0 {
            "optimum".to_string()
        } else {
            format!("#{}", rank + 1)
        };
        let levels: Vec<String> = args
            .qi
            .iter()
            .zip(&node.levels)
            .zip(&r.heights)
            .map(|((q, l), h)| format!("{q}={l}/{}", h - 1))
            .collect();
        writeln!(out, "{title}: {}", levels.join(" "))?;
        writeln!(
            out,
            "  loss ({}): {}",
            serde_json::to_string(&args.metric)
                .unwrap_or_default()
                .trim_matches('"'),
            node.loss
        )?;
        writeln!(
            out,
            "  suppressed: {} records ({:.4}); released: {} classes, k = {}, average risk {:.6}",
            node.suppressed,
            node.suppressed as f64 / n,
            node.classes,
            node.k,
            node.average_risk
        )?;
        if let (Some(dl), Some(el), Some(te), Some(to)) = (
            node.distinct_l,
            node.entropy_l,
            node.t_equal,
            node.t_ordered,
        ) {
            writeln!(
                out,
                "  l-diversity: distinct {dl}, entropy {el:.4}; t-closeness: equal {te:.4}, ordered {to:.4}"
            )?;
        }
    }
    Ok(())
}
