//! `deid anonymize`: the least generalization that makes a privacy model hold.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

use anyhow::Context;
use deid::anonymize::hierarchy::{Hierarchy, HierarchySpec};
use deid::anonymize::{self, Config, Counted, Metric, Models, NodeResult, SearchResult};
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
  deid anonymize adult.csv --qi age,sex --hierarchy age=age.csv --hierarchy sex=mask \\
      --model k=5 --suppress 0.02 --policy-out k5.toml
  deid apply -p k5.toml -k keys.json -o adult-k5.csv adult.csv    # exactly the optimum

--policy-out writes the optimum as a policy: each quasi-identifier a generalize rule by its
hierarchy (files relative to the policy) and level, every other column kept (unlisted = \"error\"),
and a [suppress] table with the models and the limit, so apply drops the records the search
suppressed and fails, writing nothing, if the data changed so that more would go.

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
    /// Input file (CSV, JSON Lines or Parquet).
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
    /// Write a policy that `deid apply` runs to produce the optimum: the
    /// quasi-identifiers generalized at its levels, its suppressed records
    /// left out (a [suppress] table), every other column kept.
    #[arg(long, value_name = "FILE")]
    policy_out: Option<PathBuf>,
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
    #[arg(long, value_name = "csv|jsonl|parquet")]
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
    let mut policy_written = None;
    if let (Some(path), Some(node)) = (&args.policy_out, result.nodes.first()) {
        write_policy(
            path,
            &args,
            table.columns(),
            &config,
            sensitive.as_deref(),
            node,
            counted.rows(),
        )?;
        policy_written = Some(path.display().to_string());
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
            "policy": policy_written,
        });
        serde_json::to_writer_pretty(&mut out, &doc)?;
        writeln!(out)?;
    } else {
        print(&mut out, &args, &counted, &result, elapsed.as_secs_f64())?;
        match (&policy_written, &args.policy_out) {
            (Some(p), _) => writeln!(out, "policy: {p} (run it with deid apply -p {p})")?,
            (None, Some(_)) => writeln!(out, "no policy written: nothing holds")?,
            _ => {}
        }
    }
    if result.nodes.is_empty() {
        return Ok(ExitCode::from(1));
    }
    Ok(ExitCode::SUCCESS)
}

/// The hierarchy as the written policy names it: built-ins by name, files
/// relative to the policy's folder when they are inside it, else absolute.
fn rule_text(spec: &str, policy: &Path) -> anyhow::Result<String> {
    let parsed: HierarchySpec = spec
        .parse()
        .map_err(|e: String| usage(format!("--hierarchy {spec}: {e}")))?;
    let path = match parsed {
        HierarchySpec::File { path, .. } => path,
        other => return Ok(other.to_string()),
    };
    let file = std::fs::canonicalize(&path)
        .with_context(|| format!("cannot resolve hierarchy {}", path.display()))?;
    let dir = policy
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let dir = std::fs::canonicalize(dir)
        .with_context(|| format!("cannot resolve the folder of {}", policy.display()))?;
    let shown = file.strip_prefix(&dir).unwrap_or(&file);
    let text = shown
        .to_str()
        .with_context(|| format!("hierarchy path {} is not UTF-8", shown.display()))?
        .to_string();
    // A file named like a built-in needs the `file:` prefix.
    Ok(match text.parse::<HierarchySpec>() {
        Ok(HierarchySpec::File { .. }) => text,
        _ => format!("file:{text}"),
    })
}

fn write_policy(
    path: &Path,
    args: &Args,
    columns: &[String],
    config: &Config,
    sensitive: Option<&str>,
    node: &NodeResult,
    rows: u64,
) -> anyhow::Result<()> {
    let delimiter = args.hierarchy_delimiter as u8;
    let mut rules = Vec::with_capacity(args.qi.len());
    for q in &args.qi {
        let spec = args
            .hierarchies
            .iter()
            .filter_map(|h| h.split_once('='))
            .find(|(c, _)| c == q)
            .map(|(_, s)| s)
            .with_context(|| format!("{q} has no hierarchy"))?;
        rules.push((rule_text(spec, path)?, delimiter));
    }
    let policy = anonymize::result_policy(
        columns,
        &args.qi,
        &rules,
        &node.levels,
        &config.models,
        sensitive,
        config.suppress,
    );
    let levels: Vec<String> = args
        .qi
        .iter()
        .zip(&node.levels)
        .map(|(q, l)| format!("{q}={l}"))
        .collect();
    let models: Vec<String> = args
        .models
        .iter()
        .cloned()
        .chain(args.max_risk.map(|r| format!("max-risk={r}")))
        .collect();
    let metric = serde_json::to_string(&config.metric).unwrap_or_default();
    let mut text = String::new();
    text.push_str(
        "# Written by `deid anonymize --policy-out`: run it with `deid apply -p THIS_FILE`.\n",
    );
    let input = args.input.display().to_string().replace(['\r', '\n'], " ");
    text.push_str(&format!("# input: {input} ({rows} records)\n"));
    text.push_str(&format!("# node: {}\n", levels.join(" ")));
    text.push_str(&format!(
        "# loss ({}): {}\n",
        metric.trim_matches('"'),
        node.loss
    ));
    text.push_str(&format!(
        "# models: {}; suppression limit {}\n",
        models.join(", "),
        config.suppress
    ));
    text.push_str(&format!(
        "# predicted: {} records suppressed, {} classes released, k = {}, average risk {}\n",
        node.suppressed, node.classes, node.k, node.average_risk
    ));
    text.push_str(&toml::to_string(&policy).context("cannot write the policy as TOML")?);
    // The policy must read back as written.
    deid::policy::Policy::from_toml(&text)
        .map_err(|e| anyhow::anyhow!("the written policy does not read back: {e}"))?;
    let mut file = deid::io::atomic::AtomicFile::create(path, None)
        .with_context(|| format!("cannot write {}", path.display()))?;
    file.write_all(text.as_bytes())
        .and_then(|()| file.commit())
        .with_context(|| format!("cannot write {}", path.display()))?;
    Ok(())
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
