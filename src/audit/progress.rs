//! Where a long audit is: its stage, how much of it is done and, when the
//! amount is known, of how much. The audits update it; the CLI reads it on a
//! timer to show stage, rate and ETA on a terminal. Notices (a hash space
//! that will take minutes) are queued for the CLI to print before the work
//! starts.

use std::string::String;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;
use std::vec::Vec;

use crate::io::InputError;
use crate::io::table::{Row, TableReader};

/// Shared progress of one audit.
#[derive(Debug)]
pub struct Progress {
    stage: Mutex<(String, &'static str, Option<u64>, Instant)>,
    done: AtomicU64,
    notices: Mutex<Vec<String>>,
}

impl Default for Progress {
    fn default() -> Self {
        Progress {
            stage: Mutex::new((String::new(), "", None, Instant::now())),
            done: AtomicU64::new(0),
            notices: Mutex::new(Vec::new()),
        }
    }
}

/// A reading of [`Progress`].
#[derive(Clone, Debug, PartialEq)]
pub struct Snapshot {
    /// The stage, in words.
    pub stage: String,
    /// What is counted (`rows`, `candidates`, `combinations`).
    pub unit: &'static str,
    /// Done in this stage.
    pub done: u64,
    /// Of how much, when known.
    pub total: Option<u64>,
    /// Per second since the stage began.
    pub rate: f64,
    /// Seconds left at that rate, when the total is known.
    pub eta_seconds: Option<f64>,
}

impl Progress {
    /// A fresh progress.
    pub fn new() -> Self {
        Self::default()
    }

    /// Starts a stage counting `unit`s, of `total` when known.
    pub fn stage(&self, name: impl Into<String>, unit: &'static str, total: Option<u64>) {
        if let Ok(mut s) = self.stage.lock() {
            *s = (name.into(), unit, total, Instant::now());
        }
        self.done.store(0, Ordering::Relaxed);
    }

    /// The stage's counter, for the loops to add to.
    pub fn counter(&self) -> &AtomicU64 {
        &self.done
    }

    /// Queues a notice for the user (printed before the work it announces).
    pub fn notice(&self, text: impl Into<String>) {
        if let Ok(mut n) = self.notices.lock() {
            n.push(text.into());
        }
    }

    /// Takes the queued notices.
    pub fn take_notices(&self) -> Vec<String> {
        self.notices
            .lock()
            .map(|mut n| core::mem::take(&mut *n))
            .unwrap_or_default()
    }

    /// Where the audit is now.
    pub fn snapshot(&self) -> Snapshot {
        let (stage, unit, total, since) = self
            .stage
            .lock()
            .map(|s| (s.0.clone(), s.1, s.2, s.3))
            .unwrap_or_else(|_| (String::new(), "", None, Instant::now()));
        let done = self.done.load(Ordering::Relaxed);
        let secs = since.elapsed().as_secs_f64();
        let rate = if secs > 0.0 { done as f64 / secs } else { 0.0 };
        let eta_seconds = total
            .filter(|_| rate > 0.0)
            .map(|t| t.saturating_sub(done) as f64 / rate);
        Snapshot {
            stage,
            unit,
            done,
            total,
            rate,
            eta_seconds,
        }
    }
}

impl core::fmt::Display for Snapshot {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "{}: {}", self.stage, human(self.done as f64))?;
        if let Some(t) = self.total {
            write!(f, " of {}", human(t as f64))?;
        }
        write!(f, " {} ({}/s)", self.unit, human(self.rate))?;
        if let Some(e) = self.eta_seconds {
            write!(f, ", about {} left", duration(e))?;
        }
        Ok(())
    }
}

fn human(v: f64) -> String {
    if v >= 1e9 {
        format!("{:.2}G", v / 1e9)
    } else if v >= 1e6 {
        format!("{:.2}M", v / 1e6)
    } else if v >= 1e4 {
        format!("{:.1}k", v / 1e3)
    } else {
        format!("{v:.0}")
    }
}

/// A duration in words: `42 s`, `3.5 min`, `2.1 h`, `4.0 days`.
pub fn duration(seconds: f64) -> String {
    if seconds < 90.0 {
        format!("{seconds:.0} s")
    } else if seconds < 5400.0 {
        format!("{:.1} min", seconds / 60.0)
    } else if seconds < 172_800.0 {
        format!("{:.1} h", seconds / 3600.0)
    } else {
        format!("{:.1} days", seconds / 86400.0)
    }
}

/// Counts the rows of the engine's pass into a [`Progress`].
#[derive(Debug)]
pub struct RowCounter<'a>(pub &'a Progress);

impl crate::audit::engine::Analyser for RowCounter<'_> {
    fn bind(&mut self, _: &mut TableReader) -> Result<(), InputError> {
        Ok(())
    }

    fn row(&mut self, _: &Row) {
        self.0.counter().fetch_add(1, Ordering::Relaxed);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::string::ToString;

    #[test]
    fn snapshot_counts_and_estimates() {
        let p = Progress::new();
        p.stage("hash search", "candidates", Some(1000));
        p.counter().fetch_add(250, Ordering::Relaxed);
        std::thread::sleep(std::time::Duration::from_millis(20));
        let s = p.snapshot();
        assert_eq!((s.done, s.total, s.unit), (250, Some(1000), "candidates"));
        assert!(s.rate > 0.0 && s.eta_seconds.unwrap() > 0.0);
        assert!(
            s.to_string()
                .starts_with("hash search: 250 of 1000 candidates")
        );
        p.notice("big");
        assert_eq!(p.take_notices(), ["big".to_string()]);
        assert!(p.take_notices().is_empty());
        assert_eq!(duration(30.0), "30 s");
        assert_eq!(duration(600.0), "10.0 min");
    }
}
