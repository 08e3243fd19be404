//! `deid keygen`.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, bail};
use deid::Keyset;
use deid::io::atomic::AtomicFile;
use deid::transform::encrypt::OsRng;

use crate::ui::{load_keyset, now_rfc3339};

/// Arguments of `deid keygen`.
#[derive(clap::Args)]
#[command(after_help = "\
Examples:
  deid keygen -o keys.json            # a new keyset with one 32-byte key from the OS random source
  deid keygen -o keys.json --rotate   # add a key and make it primary; old tokens still decrypt

The keyset is written with mode 0600. Keep it out of the export: whoever holds it can recompute
pseudonyms and open tokens. Only the key id is printed, never the secret.")]
pub struct Args {
    /// Keyset file to write.
    #[arg(short, long, default_value = "keys.json", value_name = "FILE")]
    output: PathBuf,
    /// Add a new primary key to an existing keyset instead of creating one.
    #[arg(long)]
    rotate: bool,
    /// Replace an existing keyset (its keys are lost: tokens made with them can no longer be opened).
    #[arg(long, conflicts_with = "rotate")]
    force: bool,
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let created = now_rfc3339();
    let (keys, id) = if args.rotate {
        let mut keys = load_keyset(&args.output)?;
        let id = keys
            .rotate(&mut OsRng, &created)
            .map_err(|e| anyhow::anyhow!("{}: {e}", args.output.display()))?;
        (keys, id)
    } else {
        if args.output.exists() && !args.force {
            bail!(
                "{} exists; use --rotate to add a key to it, or --force to replace it",
                args.output.display()
            );
        }
        (Keyset::generate(&mut OsRng, &created), 1)
    };
    let mut file = AtomicFile::create(&args.output, Some(0o600))
        .with_context(|| format!("cannot write {}", args.output.display()))?;
    file.write_all(keys.to_json().as_bytes())?;
    file.write_all(b"\n")?;
    file.commit()?;
    let ids: Vec<String> = keys.ids().map(|i| i.to_string()).collect();
    eprintln!(
        "deid: wrote {} (mode 0600): primary key id {id}, key ids {}",
        args.output.display(),
        ids.join(", ")
    );
    Ok(ExitCode::SUCCESS)
}
