//! What a bug in deid looks like from outside.
//!
//! A panic is never expected: every bad input has its own error. Should one
//! happen anyway, the standard message would quote the panic's payload, and
//! a payload can hold what the failing code was working on (an `expect` on
//! a parse result, an assertion in a dependency). [`install`] makes every
//! panic report where it happened instead, never what it carried; the
//! front ends run their work under [`guard`] and fail without the payload:
//! the `deid` command with exit status 70 and, as on any failure, no `-o`
//! file (the temporary file is removed while the stack unwinds), the
//! Python package with a `DeidError` (python/src/lib.rs).
//!
//! The hook is process-wide for the Rust code it is compiled into: in the
//! Python extension module that is deid's own code and its dependencies,
//! not other extensions, which carry their own copy of the standard
//! library.

use std::backtrace::{Backtrace, BacktraceStatus};
use std::borrow::ToOwned;
use std::boxed::Box;
use std::io::{self, Write};
use std::panic::{self, AssertUnwindSafe, PanicHookInfo};

/// Replaces the standard panic message with [`report`], for every thread.
pub fn install() {
    panic::set_hook(Box::new(|info| {
        let _ = report(&mut io::stderr().lock(), info);
    }));
}

/// Writes which thread stopped and where, and, when `RUST_BACKTRACE` (or
/// `RUST_LIB_BACKTRACE`) asks for one, a backtrace: function names and
/// source lines, no values. The payload is not written.
///
/// # Errors
/// Those of writing to `w`.
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
         please report it with deid's version and what was run (the command line or \
         the call), never the data."
    )?;
    let trace = Backtrace::capture();
    if trace.status() == BacktraceStatus::Captured {
        writeln!(w, "{trace}")?;
    }
    Ok(())
}

/// Runs `f`, or returns `None` if it panicked (the hook has reported it).
///
/// Unwind safety: the caller uses nothing `f` touched again (the command
/// exits; a Python call raises and drops what it made).
pub fn guard<T>(f: impl FnOnce() -> T) -> Option<T> {
    panic::catch_unwind(AssertUnwindSafe(f)).ok()
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::panic)]
mod tests {
    use super::*;
    use std::string::String;
    use std::sync::{Arc, Mutex};
    use std::vec::Vec;

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
