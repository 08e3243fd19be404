//! `deid bench`: throughput of every transform and of the hash-reversal
//! loop on this CPU, with the code path each took.
//!
//! Each case runs for a fixed wall-clock budget (`--quick`: 30 ms a case,
//! `--full`: 300 ms), on one thread and then on all threads. Figures are
//! values per second, nanoseconds per value (per thread) and input bytes
//! per second. [`cases`] says what is measured, [`probe`] where, and
//! [`render`] prints it.

mod cases;
mod probe;
mod render;

use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use indicatif::{ProgressBar, ProgressStyle};
use serde::{Deserialize, Serialize};

use cases::{CaseResult, Config};
use probe::Machine;

/// A whole run: the machine and every case.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Report {
    /// Where it ran.
    pub machine: Machine,
    /// Budget per case, milliseconds.
    pub budget_ms: u64,
    /// Results in run order.
    pub results: Vec<CaseResult>,
}

/// Arguments of `deid bench`.
#[derive(clap::Args)]
#[command(after_help = "\
Examples:
  deid bench                        # a few seconds: every transform, 1 and all cores
  deid bench --json > board.json    # one JSON document to collect across devices
  deid bench --compare laptop.json board.json
  deid bench --filter pseudonymize --full
  deid bench --filter encrypt --sizes 22   # at a column's mean length

Under emulation (qemu-user, or DEID_EMULATED=1) the output says the timings are not performance figures.")]
pub struct Args {
    /// Short run (30 ms a case; the default).
    #[arg(long, conflicts_with = "full")]
    quick: bool,
    /// Longer run (300 ms a case) for steadier figures.
    #[arg(long)]
    full: bool,
    /// Print one JSON document instead of the table.
    #[arg(long)]
    json: bool,
    /// Compare two JSON reports side by side (B/A ratios) instead of running.
    #[arg(long, num_args = 2, value_names = ["A.json", "B.json"])]
    compare: Option<Vec<PathBuf>>,
    /// Threads of the parallel pass, 1 to 256 [default: all cores].
    #[arg(long, value_name = "N", value_parser = crate::ui::parse_threads)]
    threads: Option<usize>,
    /// Only cases whose name contains this (e.g. `encrypt`, `hash-reversal`).
    #[arg(long, value_name = "TEXT")]
    filter: Option<String>,
    /// Value lengths in bytes of the cases that take any length (pseudonymize,
    /// encrypt), e.g. a column's mean length [default: 8,16,64,256].
    #[arg(long, value_name = "N,...", value_delimiter = ',', value_parser = clap::value_parser!(u16).range(1..=4096))]
    sizes: Vec<u16>,
}

fn load(path: &PathBuf) -> anyhow::Result<Report> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    serde_json::from_str(&text)
        .with_context(|| format!("{} is not a `deid bench --json` report", path.display()))
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let mut stdout = std::io::stdout().lock();
    if let Some(files) = &args.compare {
        let [a, b] = files.as_slice() else {
            anyhow::bail!("--compare takes two files");
        };
        write!(stdout, "{}", render::compare(&load(a)?, &load(b)?))?;
        return Ok(ExitCode::SUCCESS);
    }
    let cfg = Config {
        budget_ms: if args.full { 300 } else { 30 },
        threads: args
            .threads
            .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()))
            .max(1),
        filter: args.filter,
        sizes: if args.sizes.is_empty() {
            cases::SIZES.to_vec()
        } else {
            args.sizes.iter().map(|&n| usize::from(n)).collect()
        },
    };
    let bar = std::io::stderr().is_terminal().then(|| {
        let b = ProgressBar::new(0);
        b.set_style(
            ProgressStyle::with_template(
                "{spinner} [{elapsed_precise}] {bar:30} {pos}/{len} cases",
            )
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
        );
        b
    });
    let results = cases::run(&cfg, &mut |done, total| {
        if let Some(b) = &bar {
            b.set_length(total as u64);
            b.set_position(done as u64);
        }
    })
    .context("benchmark setup failed")?;
    if let Some(b) = bar {
        b.finish_and_clear();
    }
    let report = Report {
        machine: probe::machine(),
        budget_ms: cfg.budget_ms,
        results,
    };
    if report.results.is_empty() {
        anyhow::bail!("no benchmark case matches the filter");
    }
    if args.json {
        serde_json::to_writer_pretty(&mut stdout, &report)?;
        writeln!(stdout)?;
    } else {
        write!(stdout, "{}", render::table(&report))?;
    }
    Ok(ExitCode::SUCCESS)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn json_round_trip_and_compare() {
        let cfg = Config {
            budget_ms: 1,
            threads: 2,
            filter: Some("generalize/year".into()),
            sizes: cases::SIZES.to_vec(),
        };
        let r = Report {
            machine: probe::machine(),
            budget_ms: cfg.budget_ms,
            results: cases::run(&cfg, &mut |_, _| {}).unwrap(),
        };
        let j = serde_json::to_string(&r).unwrap();
        let back: Report = serde_json::from_str(&j).unwrap();
        let cmp = render::compare(&r, &back);
        assert!(cmp.contains("1.00x"), "{cmp}");
        assert!(render::table(&back).contains("generalize/year"));
    }
}
