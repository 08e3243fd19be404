//! Ctrl-C, SIGTERM and SIGHUP: remove the temporary files of outputs not
//! yet committed, then exit with 128 + the signal number (130, 143, 129).
//! Without this, an interrupted run leaves a `.deid-*.tmp` file (mode 0600,
//! holding part of the export) beside its output.

use std::io::Write;

use signal_hook::consts::{SIGHUP, SIGINT, SIGTERM};
use signal_hook::iterator::Signals;

/// Starts the thread that waits for the signals. If they cannot be
/// registered they keep their default action; a process that cannot start
/// this thread cannot start the pipeline's workers either.
pub fn install() {
    let Ok(mut signals) = Signals::new([SIGINT, SIGTERM, SIGHUP]) else {
        return;
    };
    let spawned = std::thread::Builder::new()
        .name("deid-signals".into())
        .spawn(move || {
            if let Some(signal) = signals.forever().next() {
                // Holds the registry of temporary files until the process
                // has exited, so no output is committed after the removal.
                deid::io::atomic::discard_uncommitted(|removed| {
                    let _ = writeln!(
                        std::io::stderr(),
                        "deid: interrupted by signal {signal}; {removed} unfinished output file(s) removed"
                    );
                    std::process::exit(128 + signal)
                })
            }
        });
    let _ = spawned;
}
