//! deid on three small cores: the published test vectors and the
//! docs/FORMAT.md token formats, then, for each operation, the instructions
//! it takes and the peak stack it uses.
//!
//! One suite for every board; `arch/` holds the per-target glue (reset,
//! semihosting trap, counter, stack pointer):
//!
//! | target | QEMU board | core | counter |
//! |---|---|---|---|
//! | `thumbv7em-none-eabihf` | `mps2-an386` | Cortex-M4 | SysTick |
//! | `thumbv6m-none-eabi` | `microbit` | Cortex-M0 | SysTick |
//! | `riscv32imac-unknown-none-elf` | `virt` | RV32IMAC | `minstret` |
//!
//! scripts/firmware.sh builds and runs each. Output goes through
//! semihosting, one PASS/FAIL line per suite; the semihosting exit status is
//! 0 only if every suite passed (a panic or a fault also exits non-zero).
//! Nothing here uses `core::fmt` (see `out.rs`).
//!
//! How instructions are counted: QEMU models no cycle counter on these Arm
//! cores (no DWT), but with `-icount shift=0` it advances its virtual clock
//! by exactly 1 ns per executed instruction, and SysTick, clocked from the
//! core clock, counts that virtual time. On RISC-V, `minstret` counts the
//! instructions themselves. Either way the firmware does not assume the
//! ratio: it times a loop of known length (2 instructions per iteration,
//! 400,000 in all) to get instructions per tick. Each operation then runs
//! once to warm up and `REPS` times between two counter reads; the loop's
//! own overhead (an empty operation timed the same way) is subtracted and
//! the rest divided by `REPS`. They are instruction counts, not cycles on
//! real silicon: flash wait states, taken branches and multi-cycle loads
//! add to them on a real part.
//!
//! How the stack is measured: painting. The region between the end of
//! `.bss` and the current stack pointer is filled with a pattern, the
//! operation runs once, and the lowest word no longer holding the pattern
//! marks its deepest reach; the figure counts from the measuring function's
//! stack pointer, so it includes the call into the operation.

#![no_std]
#![no_main]

use core::hint::black_box;

#[cfg(target_arch = "arm")]
#[path = "arch/arm.rs"]
mod arch;
#[cfg(target_arch = "riscv32")]
#[path = "arch/riscv.rs"]
mod arch;
mod out;
mod suite;

use deid::MasterKey;
use deid::encoding::Encoding;
#[cfg(not(feature = "pseudonymize-only"))]
use deid::transform::encrypt::{DeterministicCipher, RandomizedCipher};
#[cfg(not(feature = "pseudonymize-only"))]
use deid::transform::fpe::Ff1Digits;
use deid::transform::pseudonym::Pseudonymizer;
use suite::report;

/// Repetitions of each timed operation.
const REPS: u32 = 50;
/// Iterations of the 2-instruction calibration loop.
const CAL_ITERS: u32 = 200_000;
/// At most this many bytes below the stack pointer are painted.
const PAINT_WINDOW: usize = 12 * 1024;
/// The paint: a word no operation is likely to leave on the stack.
const PAINT: u32 = 0x5AA5_C33C;

/// Semihosting SYS_EXIT.
const SYS_EXIT: usize = 0x18;
/// SYS_EXIT reasons: QEMU exits 0 for the first, 1 for any other.
const ADP_STOPPED_APPLICATION_EXIT: usize = 0x2_0026;
const ADP_STOPPED_RUN_TIME_ERROR: usize = 0x2_0023;

/// Ends the QEMU run with exit status 0 (`ok`) or 1.
fn semihost_exit(ok: bool) -> ! {
    let reason = if ok {
        ADP_STOPPED_APPLICATION_EXIT
    } else {
        ADP_STOPPED_RUN_TIME_ERROR
    };
    arch::semihost(SYS_EXIT, reason);
    #[allow(clippy::empty_loop)]
    loop {}
}

/// A panic ends the run with a failure: its place, never its message
/// (which would need `core::fmt`).
#[panic_handler]
fn panic(info: &core::panic::PanicInfo) -> ! {
    out::str("FAIL panic");
    if let Some(l) = info.location() {
        out::str(" at ");
        out::str(l.file());
        out::str(":");
        out::num(l.line(), 0);
    }
    out::str("\n");
    arch::exit(false)
}

/// Instructions per operation, from the board's counter.
struct Timer {
    counter: arch::Counter,
    /// Instructions per 1024 ticks, from the calibration loop.
    insns_per_1024_ticks: u32,
    /// Ticks of `REPS` empty operations (loop and call overhead).
    overhead: u32,
}

impl Timer {
    fn reps(counter: &arch::Counter, op: &mut dyn FnMut()) -> u32 {
        op(); // warm-up, not timed
        counter.ticks(|| {
            for _ in 0..REPS {
                op();
            }
        })
    }

    fn calibrate(counter: arch::Counter) -> Self {
        // The difference of a long and a one-iteration loop: 2 (CAL_ITERS - 1)
        // instructions, without the call and the counter reads.
        let long = counter.ticks(|| arch::spin(black_box(CAL_ITERS)));
        let short = counter.ticks(|| arch::spin(black_box(1)));
        let cal = long.saturating_sub(short).max(1);
        let insns_per_1024_ticks = (2 * (CAL_ITERS - 1) * 1024 + cal / 2) / cal;
        let overhead = Self::reps(&counter, &mut || black_box(()));
        Timer {
            counter,
            insns_per_1024_ticks,
            overhead,
        }
    }

    /// Instructions per run of `op`, loop overhead subtracted.
    /// (u32 division only: a 64-bit one would pull a large routine into
    /// the Cortex-M0 image.)
    fn per_op(&self, op: &mut dyn FnMut()) -> u32 {
        let ticks = Self::reps(&self.counter, op).saturating_sub(self.overhead);
        let insns = ((u64::from(ticks) * u64::from(self.insns_per_1024_ticks)) >> 10) as u32;
        (insns + REPS / 2) / REPS
    }
}

/// Peak stack of one run of `op`, in bytes, by painting; `true` with it if
/// the whole painted window was used (the figure is then a lower bound).
#[inline(never)]
fn peak_stack(op: &mut dyn FnMut()) -> (usize, bool) {
    let sp = arch::stack_pointer() & !3;
    let floor = (arch::stack_floor().max(sp.saturating_sub(PAINT_WINDOW)) + 3) & !3;
    let mut a = floor;
    while a < sp {
        // SAFETY: [floor, sp) lies between the end of .bss and the stack
        // pointer: RAM that nothing live occupies (no interrupts are enabled,
        // and this function's own frame is above sp).
        unsafe { core::ptr::write_volatile(a as *mut u32, PAINT) };
        a += 4;
    }
    op();
    let mut low = floor;
    // SAFETY: reads the same words, word-aligned, within RAM.
    while low < sp && unsafe { core::ptr::read_volatile(low as *const u32) } == PAINT {
        low += 4;
    }
    (sp - low, low == floor)
}

/// One line: the operation, its instructions (if timed) and its peak stack.
fn measure(timer: Option<&Timer>, name: &str, op: &mut dyn FnMut()) {
    let (stack, exhausted) = peak_stack(op);
    out::left(name, 46);
    match timer {
        Some(t) => out::num(t.per_op(op), 9),
        None => out::str("        ?"),
    }
    out::str(" instructions ");
    out::str(if exhausted { ">=" } else { "  " });
    out::num(stack as u32, 5);
    out::str(" bytes of stack\n");
}

fn benchmarks() {
    let timer = arch::Counter::start().map(Timer::calibrate);
    out::str("counter: ");
    out::str(arch::COUNTER);
    out::str("\n");
    match &timer {
        Some(t) => {
            out::str("calibration: ");
            out::num(t.insns_per_1024_ticks / 1024, 0);
            out::str(".");
            let frac = (t.insns_per_1024_ticks % 1024) * 1000 / 1024;
            out::str(if frac < 100 { "0" } else { "" });
            out::str(if frac < 10 { "0" } else { "" });
            out::num(frac, 0);
            out::str(" instructions per tick; loop overhead ");
            out::num(t.overhead, 0);
            out::str(" ticks per ");
            out::num(REPS, 0);
            out::str(" runs (subtracted)\n");
        }
        None => out::str("timing skipped: the counter could not be started\n"),
    }
    let timer = timer.as_ref();

    let key = MasterKey::from_bytes(1, [7; 32]);
    let Ok(p) = Pseudonymizer::new(&key, "customer-phone", 16, Encoding::Hex) else {
        out::str("FAIL timing: could not set up the pseudonymizer\n");
        return;
    };
    let mut buf = [0u8; 128];
    measure(
        timer,
        "pseudonymize a 13-byte phone number (HMAC)",
        &mut || {
            let r = p.pseudonymize(black_box(b"+821012345678"), &mut buf);
            black_box(r.map(str::len).ok());
        },
    );
    measure(
        timer,
        "set up a pseudonymizer (HKDF + HMAC pads)",
        &mut || {
            let r = Pseudonymizer::new(black_box(&key), "customer-phone", 16, Encoding::Hex);
            black_box(r.is_ok());
        },
    );

    #[cfg(not(feature = "pseudonymize-only"))]
    {
        let (Ok(g), Ok(s), Ok(f)) = (
            RandomizedCipher::new(&key, "email"),
            DeterministicCipher::new(&key, "email"),
            Ff1Digits::new(&key, "phone"),
        ) else {
            out::str("FAIL timing: could not set up the ciphers\n");
            return;
        };
        let mut rng = suite::TestRng(1);
        let v32 = [0x61u8; 32];
        measure(
            timer,
            "encrypt 32 bytes, randomized (AES-256-GCM)",
            &mut || {
                let r = g.encrypt(&mut rng, black_box(&v32), &mut buf);
                black_box(r.map(str::len).ok());
            },
        );
        measure(
            timer,
            "encrypt 32 bytes, deterministic (AES-SIV)",
            &mut || {
                let r = s.encrypt(black_box(&v32), &mut buf);
                black_box(r.map(str::len).ok());
            },
        );
        measure(timer, "FF1 on 11 digits", &mut || {
            let r = f.encrypt(black_box(b"01012345678"), &mut buf);
            black_box(r.map(str::len).ok());
        });
    }
    black_box(&buf);
}

/// Runs every suite and the measurements; true if every suite passed.
fn run() -> bool {
    out::str("deid on ");
    out::str(arch::CORE);
    out::str(" (no_std, no allocator");
    #[cfg(feature = "pseudonymize-only")]
    out::str(", pseudonymize-only image");
    out::str(")\n");
    let mut ok = true;
    ok &= report("HMAC-SHA256 (RFC 4231 cases 1, 2)", suite::hmac_rfc4231());
    ok &= report(
        "docs/FORMAT.md pseudonym equals the host's",
        suite::pseudonym_format(),
    );
    #[cfg(not(feature = "pseudonymize-only"))]
    {
        ok &= report(
            "HKDF-SHA256 (RFC 5869 case 3) and deid's subkey derivation",
            suite::hkdf_subkeys(),
        );
        ok &= report(
            "AES-256-GCM (NIST CAVP, tampered tag rejected)",
            suite::aes_gcm_nist(),
        );
        ok &= report("AES-SIV 512-bit key (COUNT 3)", suite::aes_siv());
        ok &= report(
            "FF1-AES256 (NIST SP 800-38G samples 7, 8)",
            suite::ff1_nist(),
        );
        ok &= report(
            "docs/FORMAT.md formats equal the host's (pseudonym, SIV, FF1, GCM)",
            suite::design_formats(),
        );
        ok &= report(
            "randomized token round trip, tampering rejected",
            suite::gcm_round_trip(),
        );
    }

    benchmarks();

    out::str(if ok {
        "ALL PASS\n"
    } else {
        "SOME SUITES FAILED\n"
    });
    ok
}
