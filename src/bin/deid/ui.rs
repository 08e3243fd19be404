//! What the commands share: opening inputs and outputs, loading keysets,
//! the progress bar and the summary.

use std::fs::File;
use std::io::{self, BufWriter, IsTerminal, Read, Write};
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context, Result};
use deid::Keyset;
use deid::io::atomic::AtomicFile;
use deid::io::pipeline::{self, Direction, PipelineOptions, Progress, Summary};
use deid::io::table::Format;
use deid::policy::Policy;
use indicatif::{ProgressBar, ProgressStyle};

use crate::paths::refuse_output_over_inputs;

/// Arguments shared by `apply` and `decrypt`.
#[derive(clap::Args)]
pub struct PipelineArgs {
    /// Input file, CSV, JSON Lines or Parquet (by extension or --format); standard input when omitted or `-`.
    pub input: Option<PathBuf>,
    /// Policy file (TOML): which columns get which transform.
    #[arg(short, long, value_name = "FILE")]
    pub policy: PathBuf,
    /// Keyset file from `deid keygen`.
    #[arg(short, long, value_name = "FILE")]
    pub keys: PathBuf,
    /// Output file, written to a temporary file and renamed into place only on success; standard output when omitted.
    #[arg(short, long, value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Input format; guessed from the input's extension (.csv, .jsonl, .parquet), CSV for standard input.
    #[arg(long, value_name = "csv|jsonl|parquet")]
    pub format: Option<Format>,
    /// Output format [default: from the -o extension, else the input's]. CSV and Parquet convert both ways.
    #[arg(long, value_name = "csv|jsonl|parquet")]
    pub output_format: Option<Format>,
    /// Parquet output compression [default: the input's codec; zstd from gzip, LZ4 or Brotli; snappy from CSV]. Kept columns are copied as bytes under the input's codec, page by page under another one.
    #[arg(long, value_name = "zstd|snappy|none")]
    pub compression: Option<deid::io::parquet::Codec>,
    /// CSV field delimiter (one byte, e.g. ';' or '\t' written as "tab").
    #[arg(long, default_value = ",", value_name = "CHAR", value_parser = parse_delimiter)]
    pub delimiter: u8,
    /// The CSV has no header row: the policy names columns by number (1, 2, ...).
    #[arg(long)]
    pub no_header: bool,
    /// Worker threads, 1 to 256 [default: all cores].
    #[arg(long, value_name = "N", value_parser = parse_threads)]
    pub threads: Option<usize>,
    /// Print the summary as one JSON document on standard error.
    #[arg(long)]
    pub json_summary: bool,
    /// No progress bar and no summary.
    #[arg(short, long)]
    pub quiet: bool,
}

fn parse_delimiter(s: &str) -> Result<u8, String> {
    match s {
        "tab" | "\\t" | "\t" => Ok(b'\t'),
        _ if s.len() == 1 && s.is_ascii() => Ok(s.as_bytes()[0]),
        _ => Err("the delimiter must be one ASCII character (or \"tab\")".into()),
    }
}

/// The most worker threads any command accepts: enough for the largest
/// servers, few enough that the chunks in flight (4 MB a thread) fit in memory.
pub const MAX_THREADS: usize = 256;

/// `--threads`: 1 to [`MAX_THREADS`], a usage error otherwise.
pub fn parse_threads(s: &str) -> Result<usize, String> {
    match s.trim().parse::<usize>() {
        Ok(n) if (1..=MAX_THREADS).contains(&n) => Ok(n),
        _ => Err(format!("expected a whole number from 1 to {MAX_THREADS}")),
    }
}

/// A mistake in the command line that clap cannot see (two options that
/// contradict each other or the files they name): exit status 2, like
/// clap's own usage errors.
#[derive(Debug)]
pub struct UsageError(pub String);

impl std::fmt::Display for UsageError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for UsageError {}

/// A [`UsageError`] as an `anyhow::Error`.
pub fn usage(message: impl Into<String>) -> anyhow::Error {
    UsageError(message.into()).into()
}

/// Runs `apply` or `decrypt`.
pub fn run_pipeline(args: &PipelineArgs, direction: Direction) -> Result<Summary> {
    refuse_output_over_inputs(
        "-o",
        args.output.as_deref(),
        &[
            ("input", args.input.as_deref()),
            ("keyset", Some(&args.keys)),
            ("policy", Some(&args.policy)),
        ],
    )?;
    let policy_text = std::fs::read_to_string(&args.policy)
        .with_context(|| format!("cannot read policy {}", args.policy.display()))?;
    let mut policy = Policy::from_toml(&policy_text)
        .map_err(|e| anyhow::anyhow!("{}: {e}", args.policy.display()))?;
    // Hierarchy files are named relative to the policy file.
    let policy_dir = args.policy.parent().unwrap_or(Path::new("")).to_path_buf();
    if direction == Direction::Apply {
        deid::anonymize::load_hierarchies(&mut policy, &policy_dir)
            .map_err(|e| anyhow::anyhow!("{}: {e}", args.policy.display()))?;
    }
    let keys = load_keyset(&args.keys)?;
    let (input, source, size) = open_input(args.input.as_deref())?;
    let format = match args.format {
        Some(f) => f,
        None => match args.input.as_deref().filter(|p| p.as_os_str() != "-") {
            Some(p) => Format::from_path(p).with_context(|| format!("{}: cannot tell the format from the extension; pass --format csv, jsonl or parquet", p.display()))?,
            None => Format::Csv,
        },
    };
    let output_format = args
        .output_format
        .or_else(|| {
            args.output
                .as_deref()
                .filter(|p| p.as_os_str() != "-")
                .and_then(Format::from_path)
                .filter(|f| *f == Format::Parquet || format == Format::Parquet)
        })
        .unwrap_or(format);
    let suppression = if direction == Direction::Apply && policy.suppress.is_some() {
        Some(first_pass(args, &policy, &policy_dir, format)?)
    } else {
        None
    };
    let mut opts = PipelineOptions::new()
        .format(format)
        .delimiter(args.delimiter)
        .has_header(!args.no_header)
        .direction(direction);
    if let Some(t) = args.threads {
        opts = opts.threads(t);
    }
    let mut predicted = None;
    if let Some(s) = suppression {
        predicted = Some((s.rows, s.node.suppressed));
        opts = opts.suppress(std::sync::Arc::new(s.classes));
    }
    if format == Format::Parquet || output_format == Format::Parquet {
        return run_parquet(
            args,
            opts,
            direction,
            &policy,
            &keys,
            (format, output_format),
            predicted,
        );
    }
    if output_format != format {
        return Err(usage(format!(
            "cannot write {output_format} from {format} input (conversions are CSV <-> Parquet)"
        )));
    }
    run_to_output(
        args,
        direction,
        size,
        &source,
        predicted,
        |output, progress| {
            Ok(pipeline::run(
                &policy, &keys, input, &source, output, &opts, progress,
            )?)
        },
    )
}

/// What every `apply` / `decrypt` does around its engine: the progress bar,
/// the output written atomically (committed only once the engine and the
/// `[suppress]` check succeed), and the summary.
fn run_to_output(
    args: &PipelineArgs,
    direction: Direction,
    size: Option<u64>,
    source: &str,
    predicted: Option<(u64, u64)>,
    engine: impl FnOnce(&mut Output, &mut dyn FnMut(Progress)) -> Result<Summary>,
) -> Result<Summary> {
    let bar = progress_bar(size, args.quiet);
    let mut on_progress = |p: Progress| {
        if let Some(b) = &bar {
            b.set_position(p.bytes);
            b.set_message(format!("{} rows", p.rows));
        }
    };
    let mut output = Output::open(args.output.as_deref())?;
    let summary = engine(&mut output, &mut on_progress)?;
    check_passes(source, predicted, &summary)?;
    output.commit()?;
    if let Some(b) = bar {
        b.finish_and_clear();
    }
    if !args.quiet {
        print_summary(&summary, args.json_summary, direction)?;
    }
    Ok(summary)
}

/// The second pass of a `[suppress]` policy must have read the records of
/// the first (`predicted`: records read, records to suppress): a file that
/// changed in between fails the run before anything is committed.
fn check_passes(source: &str, predicted: Option<(u64, u64)>, summary: &Summary) -> Result<()> {
    if let Some((rows, suppressed)) = predicted {
        if summary.rows_in != rows
            || summary.rows_suppressed > suppressed
            || summary.rows_suppressed + summary.rows_dropped < suppressed
        {
            anyhow::bail!(
                "{source}: the input changed between the two passes of [suppress] ({rows} records, then {}); nothing was written",
                summary.rows_in
            );
        }
    }
    Ok(())
}

/// The first pass of a policy with `[suppress]`: which classes to leave
/// out. Needs the input as a file (it is read twice), in any format
/// `apply` reads.
fn first_pass(
    args: &PipelineArgs,
    policy: &Policy,
    policy_dir: &Path,
    format: Format,
) -> Result<deid::anonymize::Suppression> {
    let Some(path) = args.input.as_deref().filter(|p| p.as_os_str() != "-") else {
        return Err(usage(
            "the policy has [suppress]: its classes are counted in a first pass over the input, so give the input as a file, not standard input",
        ));
    };
    let topts = deid::io::table::TableOptions::new()
        .format_opt(Some(format))
        .delimiter(args.delimiter)
        .has_header(!args.no_header)
        .refuse_data_header(!args.no_header);
    deid::anonymize::suppression(policy, policy_dir, path, &topts)
        .map_err(|e| anyhow::anyhow!("{}: {e}", args.policy.display()))?
        .context("the policy has no [suppress]")
}

/// `apply` / `decrypt` with Parquet on at least one side; `predicted` is
/// what the first pass of a `[suppress]` policy found (records read,
/// records to suppress).
fn run_parquet(
    args: &PipelineArgs,
    pipeline: PipelineOptions,
    direction: Direction,
    policy: &Policy,
    keys: &Keyset,
    (format, output_format): (Format, Format),
    predicted: Option<(u64, u64)>,
) -> Result<Summary> {
    use deid::io::parquet::{self, ParquetInput, ParquetOptions};
    let pair_ok = matches!(
        (format, output_format),
        (Format::Parquet, Format::Parquet | Format::Csv) | (Format::Csv, Format::Parquet)
    );
    if !pair_ok {
        return Err(usage(format!(
            "cannot write {output_format} from {format} input (Parquet converts to and from CSV only)"
        )));
    }
    if output_format == Format::Parquet && args.output.is_none() && io::stdout().is_terminal() {
        return Err(usage(
            "refusing to write Parquet to a terminal; pass -o FILE.parquet or redirect",
        ));
    }
    let (reader, source, size) = open_input(args.input.as_deref())?;
    let input = if format == Format::Parquet {
        let file = match args.input.as_deref().filter(|p| p.as_os_str() != "-") {
            Some(p) => File::open(p).with_context(|| format!("cannot open {}", p.display()))?,
            None => parquet::spool(reader).context("cannot read standard input")?,
        };
        ParquetInput::File(file)
    } else {
        ParquetInput::Csv(reader)
    };
    let opts = ParquetOptions::from(pipeline)
        .output_format(output_format)
        .compression(args.compression);
    run_to_output(
        args,
        direction,
        size,
        &source,
        predicted,
        |output, progress| {
            Ok(parquet::run(
                policy, keys, input, &source, output, &opts, progress,
            )?)
        },
    )
}

/// Reads a keyset, warning when others can read it.
pub fn load_keyset(path: &Path) -> Result<Keyset> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        if let Ok(meta) = std::fs::metadata(path) {
            let mode = meta.permissions().mode();
            if mode & 0o077 != 0 {
                eprintln!(
                    "deid: warning: keyset {} is readable by group or others (mode {:o}); run: chmod 600 {}",
                    path.display(),
                    mode & 0o777,
                    path.display()
                );
            }
        }
    }
    // Bounded read (1 MiB): `-k /dev/zero` fails at once.
    let file = std::fs::File::open(path)
        .with_context(|| format!("cannot read keyset {}", path.display()))?;
    Keyset::from_reader(file).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))
}

/// Opens a file or standard input; returns the reader, its name for errors, and its size if known.
pub fn open_input(path: Option<&Path>) -> Result<(Box<dyn Read + Send>, String, Option<u64>)> {
    match path.filter(|p| p.as_os_str() != "-") {
        Some(p) => {
            let f = File::open(p).with_context(|| format!("cannot open {}", p.display()))?;
            let size = f.metadata().ok().map(|m| m.len());
            Ok((Box::new(f), p.display().to_string(), size))
        }
        None => Ok((Box::new(io::stdin()), "<stdin>".to_string(), None)),
    }
}

/// A file that appears only on commit, or standard output.
pub enum Output {
    File(AtomicFile, PathBuf),
    Stdout(BufWriter<io::Stdout>),
}

impl Output {
    pub fn open(path: Option<&Path>) -> Result<Self> {
        Ok(match path.filter(|p| p.as_os_str() != "-") {
            Some(p) => Output::File(
                AtomicFile::create(p, None)
                    .with_context(|| format!("cannot write {}", p.display()))?,
                p.to_path_buf(),
            ),
            None => Output::Stdout(BufWriter::with_capacity(1 << 20, io::stdout())),
        })
    }

    pub fn commit(self) -> Result<()> {
        match self {
            Output::File(f, p) => f
                .commit()
                .with_context(|| format!("cannot write {}", p.display()))?,
            Output::Stdout(mut s) => s.flush()?,
        }
        Ok(())
    }
}

impl Write for Output {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self {
            Output::File(f, _) => f.write(buf),
            Output::Stdout(s) => s.write(buf),
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        match self {
            Output::File(f, _) => f.flush(),
            Output::Stdout(s) => s.flush(),
        }
    }
}

/// A byte progress bar on a terminal; nothing otherwise.
pub fn progress_bar(total: Option<u64>, quiet: bool) -> Option<ProgressBar> {
    if quiet || !io::stderr().is_terminal() {
        return None;
    }
    let bar = match total {
        Some(t) => ProgressBar::new(t),
        None => ProgressBar::new_spinner(),
    };
    let style = ProgressStyle::with_template(
        "{spinner} [{elapsed_precise}] {bar:30} {bytes}/{total_bytes} {bytes_per_sec} {msg}",
    )
    .unwrap_or_else(|_| ProgressStyle::default_bar());
    bar.set_style(style);
    bar.enable_steady_tick(Duration::from_millis(200));
    Some(bar)
}

/// The end-of-run summary on standard error. Counts only, never values.
pub fn print_summary(s: &Summary, json: bool, direction: Direction) -> Result<()> {
    let mut err = io::stderr().lock();
    if json {
        serde_json::to_writer(&mut err, s)?;
        writeln!(err)?;
        return Ok(());
    }
    let verb = if direction == Direction::Apply {
        "transformed"
    } else {
        "decrypted"
    };
    writeln!(
        err,
        "deid: {} rows in, {} out, {} dropped{}; {:.1} MB in {:.2} s ({:.0} MB/s, {} threads)",
        s.rows_in,
        s.rows_out,
        s.rows_dropped,
        if s.rows_suppressed > 0 {
            format!(", {} suppressed", s.rows_suppressed)
        } else {
            String::new()
        },
        s.bytes_in as f64 / 1e6,
        s.seconds,
        s.mb_per_s(),
        s.threads
    )?;
    for c in &s.columns {
        writeln!(
            err,
            "  {:<24} {:<13} {} values {verb}",
            c.column,
            c.transform.as_str(),
            c.values
        )?;
        if !c.detections.is_empty() {
            let found: Vec<String> = c
                .detections
                .iter()
                .map(|(kind, n)| format!("{kind} {n}"))
                .collect();
            writeln!(
                err,
                "  {:<24} identifiers replaced: {}",
                "",
                found.join(", ")
            )?;
        }
    }
    if !s.dropped_columns.is_empty() {
        writeln!(err, "  dropped columns: {}", s.dropped_columns.join(", "))?;
    }
    Ok(())
}

/// Now as an RFC 3339 UTC timestamp (no clock crate needed).
pub fn now_rfc3339() -> String {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs()) as i64;
    let d = deid::date::Date::from_days(secs.div_euclid(86_400));
    let t = secs.rem_euclid(86_400);
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z",
        d.year(),
        d.month(),
        d.day(),
        t / 3600,
        t / 60 % 60,
        t % 60
    )
}
