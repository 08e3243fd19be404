//! What a bug in deid looks like from outside.
//!
//! A panic is never expected: every bad input has its own error. Should one
//! happen anyway, the standard message would quote the panic's payload, and
//! a payload can hold what the failing code was working on (an `expect` on
//! a parse result, an assertion in a dependency). deid prints where the
//! panic happened instead, never what it carried, and the run ends with
//! exit status 70 and, as on any failure, no `-o` file: the temporary file
//! is removed while the stack unwinds.

use std::backtrace::{Backtrace, BacktraceStatus};
use std::io::{self, Write};
use std::panic::{self, AssertUnwindSafe, PanicHookInfo};

/// The exit status of a run that a bug stopped (`EX_SOFTWARE` of
/// sysexits.h).
pub const EXIT_INTERNAL: u8 = 70;

/// Replaces the standard panic message with [`report`], for every thread.
pub fn install() {
    panic::set_hook(Box::new(|info| {
        let _ = report(&mut io::stderr().lock(), info);
    }));
}

/// Writes which thread stopped and where, and, when `RUST_BACKTRACE` (or
/// `RUST_LIB_BACKTRACE`) asks for one, a backtrace: function names and
/// source lines, no values. The payload is not written.
pub fn report(w: &mut dyn Write, info: &PanicHookInfo<'_>) -> io::Result<()> {
    let thread = std::thread::current();
    let name = thread.name().unwrap_or("unnamed");
    let at = info.location().map_or_else(
        || "an unknown place".to_owned(),
        |l| format!("{}:{}:{}", l.file(), l.line(), l.column()),
    );
    writeln!(
        w,
        "deid: internal error: thread '{name}' stopped at {at}. This is a bug in deid; \
         please report it with the output of `deid --version` and the command line \
         (never the data)."
    )?;
    let trace = Backtrace::capture();
    if trace.status() == BacktraceStatus::Captured {
        writeln!(w, "{trace}")?;
    }
    Ok(())
}

/// Runs `f`, or returns `None` if it panicked (the hook has reported it).
///
/// Unwind safety: nothing `f` touched is used again; the process exits.
pub fn guard<T>(f: impl FnOnce() -> T) -> Option<T> {
    panic::catch_unwind(AssertUnwindSafe(f)).ok()
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::panic)]
mod tests {
    use super::*;
    use std::sync::{Arc, Mutex};

    #[test]
    fn a_panic_is_reported_by_place_not_by_payload() {
        let seen = Arc::new(Mutex::new(Vec::new()));
        let sink = Arc::clone(&seen);
        let previous = panic::take_hook();
        panic::set_hook(Box::new(move |info| {
            let _ = report(&mut *sink.lock().unwrap(), info);
        }));
        let line = line!() + 1;
        let r = guard(|| -> u8 { panic!("while holding 010-1234-5678") });
        panic::set_hook(previous);
        assert_eq!(r, None);
        let text = String::from_utf8(seen.lock().unwrap().clone()).unwrap();
        assert!(text.starts_with("deid: internal error: thread '"), "{text}");
        assert!(text.contains(&format!("{}:{line}:", file!())), "{text}");
        assert!(!text.contains("010-1234-5678"), "{text}");
        assert!(!text.contains("while holding"), "{text}");
    }

    #[test]
    fn a_run_that_does_not_panic_gives_its_result() {
        assert_eq!(guard(|| 7), Some(7));
    }
}
