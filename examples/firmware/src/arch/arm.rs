//! Glue for the Arm boards: QEMU `mps2-an386` (Cortex-M4) and `microbit`
//! (nRF51822, Cortex-M0). Reset and exceptions come from cortex-m-rt; the
//! counter is SysTick clocked from the core clock.

use cortex_m::peripheral::SYST;
use cortex_m::peripheral::syst::SystClkSource;
use cortex_m_rt::{ExceptionFrame, entry, exception};

use crate::out;

/// The core and target, for the banner.
#[cfg(board = "mps2-an386")]
pub const CORE: &str = "Cortex-M4 (thumbv7em-none-eabihf, QEMU mps2-an386)";
/// The core and target, for the banner.
#[cfg(board = "microbit")]
pub const CORE: &str = "Cortex-M0 (thumbv6m-none-eabi, QEMU microbit)";

/// What [`Counter`] counts.
pub const COUNTER: &str =
    "SysTick on the core clock (QEMU -icount shift=0: 1 instruction = 1 ns of virtual time)";

/// Issues semihosting call `op` with argument `arg`.
pub fn semihost(op: usize, arg: usize) -> usize {
    let r;
    // SAFETY: `bkpt 0xAB` is the Arm semihosting trap; QEMU (started with
    // -semihosting) serves it and returns in r0. `arg` points to memory that
    // is valid for the call, as each operation requires.
    unsafe {
        core::arch::asm!("bkpt 0xAB", inout("r0") op => r, in("r1") arg, options(nostack));
    }
    r
}

/// The current stack pointer.
#[inline(always)]
pub fn stack_pointer() -> usize {
    let sp: usize;
    // SAFETY: reads the stack pointer into a register; no memory access.
    unsafe { core::arch::asm!("mov {}, sp", out(reg) sp, options(nomem, nostack)) };
    sp
}

/// The lowest address the stack may grow down to: the end of `.bss`.
pub fn stack_floor() -> usize {
    unsafe extern "C" {
        static __ebss: u8;
    }
    // Only the address of the linker symbol is taken, never its value.
    core::ptr::addr_of!(__ebss) as usize
}

/// `n` iterations of a 2-instruction loop (`subs`, `bne`).
#[inline(never)]
pub fn spin(n: u32) {
    // SAFETY: a register-only countdown loop with no memory access.
    unsafe {
        core::arch::asm!(
            "1:",
            "subs {0}, {0}, #1",
            "bne 1b",
            inout(reg) n => _,
            options(nomem, nostack)
        );
    }
}

/// SysTick, free-running over its full 24 bits.
pub struct Counter;

impl Counter {
    /// Starts the counter; `None` if the peripherals were already taken.
    pub fn start() -> Option<Self> {
        let mut cp = cortex_m::Peripherals::take()?;
        #[cfg(board = "mps2-an386")]
        {
            // QEMU models no DWT: probe and say so rather than assume.
            cp.DCB.enable_trace();
            cp.DWT.enable_cycle_counter();
            let before = cortex_m::peripheral::DWT::cycle_count();
            spin(1000);
            if cortex_m::peripheral::DWT::cycle_count() == before {
                out::str(
                    "DWT CYCCNT does not count here (QEMU models no DWT): timing with SysTick\n",
                );
            } else {
                out::str(
                    "DWT CYCCNT counts on this core (not used: figures below are SysTick-based)\n",
                );
            }
        }
        cp.SYST.set_clock_source(SystClkSource::Core);
        cp.SYST.set_reload(0x00FF_FFFF);
        cp.SYST.clear_current();
        cp.SYST.enable_counter();
        Some(Counter)
    }

    /// Counter ticks taken by `f`. SysTick counts down and wraps every 2^24
    /// ticks; every timed block is far shorter.
    pub fn ticks(&self, f: impl FnOnce()) -> u32 {
        let start = SYST::get_current();
        f();
        start.wrapping_sub(SYST::get_current()) & 0x00FF_FFFF
    }
}

/// Ends the QEMU run with exit status 0 (`ok`) or 1.
pub fn exit(ok: bool) -> ! {
    crate::semihost_exit(ok)
}

#[entry]
fn main() -> ! {
    exit(crate::run())
}

/// A fault (e.g. a bad memory map) ends the run with a failure instead of
/// spinning until the script's timeout.
#[exception]
unsafe fn HardFault(ef: &ExceptionFrame) -> ! {
    out::str("FAIL HardFault at pc ");
    out::hex(ef.pc());
    out::str("\n");
    exit(false)
}
