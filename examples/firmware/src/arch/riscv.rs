//! Glue for QEMU's RISC-V `virt` board (RV32IMAC). Reset and traps come from
//! riscv-rt; the counter is the `minstret` CSR, which QEMU drives from its
//! exact instruction count under `-icount`.

use crate::out;

/// The core and target, for the banner.
pub const CORE: &str = "RISC-V RV32IMAC (riscv32imac-unknown-none-elf, QEMU virt)";

/// What [`Counter`] counts.
pub const COUNTER: &str = "minstret (instructions retired; exact under QEMU -icount)";

/// Issues semihosting call `op` with argument `arg`.
///
/// Not inlined: the aligned trap below is then in the image once, not
/// padded into every caller.
#[inline(never)]
pub fn semihost(op: usize, arg: usize) -> usize {
    let r;
    // The uncompressed `slli x0; ebreak; srai x0` sequence is the RISC-V
    // semihosting trap. QEMU serves it only if all three instructions lie
    // in one page (it will not fetch across a page boundary to look for the
    // markers); otherwise the `ebreak` is a plain breakpoint (mcause 3).
    // 4-byte alignment lets the sequence start 4 or 8 bytes before a page
    // boundary, so it is aligned to 16: its 12 bytes then never cross a
    // 16-byte boundary, and so never a page boundary.
    //
    // SAFETY: QEMU (started with -semihosting) serves the trap and returns
    // in a0. `arg` points to memory that is valid for the call, as each
    // operation requires.
    unsafe {
        core::arch::asm!(
            ".option push",
            ".option norvc",
            ".balign 16",
            "slli x0, x0, 0x1f",
            "ebreak",
            "srai x0, x0, 7",
            ".option pop",
            inout("a0") op => r,
            in("a1") arg,
            options(nostack)
        );
    }
    r
}

/// The current stack pointer.
#[inline(always)]
pub fn stack_pointer() -> usize {
    let sp: usize;
    // SAFETY: reads the stack pointer into a register; no memory access.
    unsafe { core::arch::asm!("mv {}, sp", out(reg) sp, options(nomem, nostack)) };
    sp
}

/// The lowest address the stack may grow down to: the end of the (empty)
/// heap, above `.bss`.
pub fn stack_floor() -> usize {
    unsafe extern "C" {
        static _eheap: u8;
    }
    // Only the address of the linker symbol is taken, never its value.
    core::ptr::addr_of!(_eheap) as usize
}

/// `n` iterations of a 2-instruction loop (`addi`, `bnez`).
#[inline(never)]
pub fn spin(n: u32) {
    // SAFETY: a register-only countdown loop with no memory access.
    unsafe {
        core::arch::asm!(
            "1:",
            "addi {0}, {0}, -1",
            "bnez {0}, 1b",
            inout(reg) n => _,
            options(nomem, nostack)
        );
    }
}

/// The `minstret` CSR (low 32 bits).
pub struct Counter;

impl Counter {
    /// Starts the counter (it runs from reset).
    pub fn start() -> Option<Self> {
        Some(Counter)
    }

    fn read() -> u32 {
        let n: u32;
        // SAFETY: reads a machine-mode counter CSR; the firmware runs in M-mode.
        unsafe { core::arch::asm!("csrr {}, minstret", out(reg) n, options(nomem, nostack)) };
        n
    }

    /// Counter ticks taken by `f` (wraps every 2^32 instructions; every timed
    /// block is far shorter).
    pub fn ticks(&self, f: impl FnOnce()) -> u32 {
        let start = Self::read();
        f();
        Self::read().wrapping_sub(start)
    }
}

/// Ends the QEMU run with exit status 0 (`ok`) or 1.
pub fn exit(ok: bool) -> ! {
    crate::semihost_exit(ok)
}

#[riscv_rt::entry]
fn main() -> ! {
    exit(crate::run())
}

/// Any exception ends the run with a failure instead of spinning until the
/// script's timeout.
#[unsafe(export_name = "ExceptionHandler")]
fn exception_handler(_frame: &riscv_rt::TrapFrame) -> ! {
    let (cause, pc): (u32, u32);
    // SAFETY: reads two machine-mode CSRs; the firmware runs in M-mode.
    unsafe {
        core::arch::asm!("csrr {}, mcause", out(reg) cause, options(nomem, nostack));
        core::arch::asm!("csrr {}, mepc", out(reg) pc, options(nomem, nostack));
    }
    out::str("FAIL exception, mcause ");
    out::hex(cause);
    out::str(" at pc ");
    out::hex(pc);
    out::str("\n");
    exit(false)
}
