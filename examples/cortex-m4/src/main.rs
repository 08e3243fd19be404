//! deid on a Cortex-M4: the published test vectors and the docs/FORMAT.md token
//! formats, then instructions per operation.
//!
//! Runs under `qemu-system-arm -machine mps2-an386 -cpu cortex-m4
//! -icount shift=0` (see scripts/cortex-m4.sh). Output goes through
//! semihosting, one PASS/FAIL line per suite; the semihosting exit status is
//! 0 only if every suite passed (a panic or a HardFault also exits non-zero).
//!
//! How instructions are counted: QEMU 7.2 models no DWT (DEMCR, DWT_CTRL and
//! CYCCNT read as zero and ignore writes; the firmware probes this and says
//! so), so there is no cycle counter. With `-icount shift=0` QEMU advances
//! its virtual clock by exactly 1 ns per executed instruction, and SysTick,
//! clocked from the board's 25 MHz core clock, counts that virtual time:
//! one tick is 40 instructions. The firmware does not assume the 40: it times
//! a loop of known length (2 instructions per iteration, 400,000 in all) to
//! get instructions per tick. Each operation then runs once to warm up and
//! `REPS` times between two SysTick reads; the loop's own overhead (an empty
//! operation timed the same way) is subtracted and the rest divided by
//! `REPS`. The tick granularity (40 instructions) over `REPS` runs makes the
//! figures exact to about one instruction. They are instruction counts, not
//! cycles on real silicon: a real M4 adds flash wait states, taken-branch
//! refills and multi-cycle loads.

#![no_std]
#![no_main]

use core::hint::black_box;

use cortex_m::peripheral::syst::SystClkSource;
use cortex_m::peripheral::{DCB, DWT, SYST};
use cortex_m_rt::{ExceptionFrame, entry, exception};
use cortex_m_semihosting::{debug, hprintln};
use deid::backend::Backend;
use deid::encoding::Encoding;
use deid::transform::encrypt::{DeterministicCipher, RandomizedCipher, raw};
use deid::transform::fpe::Ff1Digits;
use deid::transform::pseudonym::Pseudonymizer;
use deid::{MasterKey, Purpose};
use panic_semihosting as _;

/// Repetitions of each timed operation.
const REPS: u32 = 50;
/// Iterations of the 2-instruction calibration loop.
const CAL_ITERS: u32 = 200_000;

fn unhex<const N: usize>(s: &str) -> [u8; N] {
    fn nibble(c: u8) -> u8 {
        match c {
            b'0'..=b'9' => c - b'0',
            b'a'..=b'f' => c - b'a' + 10,
            _ => panic!("bad hex digit"),
        }
    }
    let b = s.as_bytes();
    assert_eq!(b.len(), 2 * N, "hex length");
    let mut out = [0u8; N];
    for (i, o) in out.iter_mut().enumerate() {
        *o = (nibble(b[2 * i]) << 4) | nibble(b[2 * i + 1]);
    }
    out
}

/// TEST ONLY: a fixed-seed SplitMix64 generator standing in for a hardware
/// RNG so the randomized round trip is reproducible. Its output is entirely
/// predictable; real tokens need the device's TRNG.
struct TestRng(u64);

impl rand_core::TryRng for TestRng {
    type Error = core::convert::Infallible;
    fn try_next_u32(&mut self) -> Result<u32, Self::Error> {
        Ok(self.try_next_u64()? as u32)
    }
    fn try_next_u64(&mut self) -> Result<u64, Self::Error> {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        Ok(z ^ (z >> 31))
    }
    fn try_fill_bytes(&mut self, dst: &mut [u8]) -> Result<(), Self::Error> {
        for chunk in dst.chunks_mut(8) {
            let v = self.try_next_u64()?.to_le_bytes();
            chunk.copy_from_slice(&v[..chunk.len()]);
        }
        Ok(())
    }
}
impl rand_core::TryCryptoRng for TestRng {}

fn report(name: &str, ok: bool) -> bool {
    hprintln!("{} {}", if ok { "PASS" } else { "FAIL" }, name);
    ok
}

/// RFC 4231 test cases 1 and 2 (HMAC-SHA256).
fn hmac_rfc4231() -> bool {
    use deid::backend::rustcrypto::HmacSha256;
    let m1 = HmacSha256::new(&[0x0b; 20]).mac(b"Hi There");
    let m2 = HmacSha256::new(b"Jefe").mac(b"what do ya want for nothing?");
    m1 == unhex("b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7")
        && m2 == unhex("5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843")
}

/// RFC 5869 test case 3 (HKDF-SHA256, no salt, no info), and deid's subkey
/// derivation: `derive(Siv, "customer-email")` is HKDF-SHA256 with no salt
/// and info "deid/v1/siv/customer-email". The 64 expected bytes were computed
/// on the host, both by `hkdf::Hkdf::<Sha256>` and by Python's
/// `cryptography` HKDF.
fn hkdf_subkeys() -> bool {
    let hk = hkdf::Hkdf::<sha2::Sha256>::new(None, &[0x0b; 22]);
    let mut okm = [0u8; 42];
    let case3 = hk.expand(&[], &mut okm).is_ok()
        && okm
            == unhex::<42>(
                "8da4e775a563c18f715f802a063c5a31b8a11f5c5ee1879ec3454e5f3c738d2d9d201395faa4b61a96c8",
            );
    let expected = unhex::<64>(
        "cbd071fbf5e8fa8f7ff97b67c6babb7875c6c8e6c5cc2f48696aa5e8b6fbcb2bdc62d519bdf73829fbd2a6c52524897d88e4e719492c817f1c075eecb2688337",
    );
    let mut sub = [0u8; 64];
    let derived = MasterKey::from_bytes(1, [0x42; 32])
        .derive(Purpose::Siv, "customer-email", &mut sub)
        .is_ok()
        && sub == expected;
    // The same bytes straight from the hkdf crate on the device.
    let mut direct = [0u8; 64];
    let direct_ok = hkdf::Hkdf::<sha2::Sha256>::new(None, &[0x42; 32])
        .expand(b"deid/v1/siv/customer-email", &mut direct)
        .is_ok()
        && direct == expected;
    case3 && derived && direct_ok
}

/// NIST CAVP gcmEncryptExtIV256.rsp (tests/data/aes256_gcm_encrypt.rsp),
/// [PTlen = 128][AADlen = 128] Count = 0; a flipped tag bit must not open.
fn aes_gcm_nist() -> bool {
    let key = unhex::<32>("92e11dcdaa866f5ce790fd24501f92509aacf4cb8b1339d50c9c1240935dd08b");
    let iv = unhex::<12>("ac93a1a6145299bde902f21a");
    let aad = unhex::<16>("1e0889016f67601c8ebea4943bc23ad6");
    let mut buf = unhex::<16>("2d71bcfa914e4ac045b2aa60955fad24");
    let tag = raw::gcm_seal(Backend::RustCrypto, &key, &iv, &aad, &mut buf);
    let sealed = tag == Ok(unhex("eca5aa77d51d4a0a14d9c51e1da474ab"))
        && buf == unhex::<16>("8995ae2e6df3dbf96fac7b7137bae67f");
    let mut bad = unhex::<16>("eca5aa77d51d4a0a14d9c51e1da474ab");
    bad[0] ^= 1;
    let mut ct = buf;
    sealed && raw::gcm_open(Backend::RustCrypto, &key, &iv, &aad, &mut ct, &bad).is_err()
}

/// AES-SIV with a 512-bit key: tests/data/aes_siv.txt COUNT = 3.
fn aes_siv() -> bool {
    let key = unhex::<64>(
        "fffefdfcfbfaf9f8f7f6f5f4f3f2f1f0f0f1f2f3f4f5f6f7f8f9fafbfcfdfefff0f1f2f3f4f5f6f7f8f9fafbfcfdfefffffefdfcfbfaf9f8f7f6f5f4f3f2f1f0",
    );
    let aad = unhex::<24>("101112131415161718191a1b1c1d1e1f2021222324252627");
    let mut buf = unhex::<14>("112233445566778899aabbccddee");
    let tag = raw::siv_seal(&key, &[&aad], &mut buf);
    tag == Ok(unhex("724dfb2eaf94dbb19b0ba3a299a0801e"))
        && buf == unhex::<14>("f3b05a55498ec2552690b89810e4")
}

/// NIST SP 800-38G FF1-AES256 samples 7 and 8
/// (tests/data/ff1_nist_sp800_38g.txt).
fn ff1_nist() -> bool {
    let key = unhex::<32>("2b7e151628aed2a6abf7158809cf4f3cef4359d8d580aa4f7f036d6f04fc6a94");
    let mut out = [0u8; 10];
    let s7 = Ff1Digits::from_raw_key(&key, b"").map(|f| {
        f.encrypt(b"0123456789", &mut out)
            .map(|s| s == "6657667009")
    });
    let s8 = Ff1Digits::from_raw_key(&key, b"9876543210").map(|f| {
        f.encrypt(b"0123456789", &mut out)
            .map(|s| s == "1001623463")
    });
    s7 == Ok(Ok(true)) && s8 == Ok(Ok(true))
}

/// docs/FORMAT.md formats with `MasterKey::from_bytes(1, [7; 32])`: the strings
/// the x86-64 host build of deid produces (and tests/golden/golden.json,
/// from an independent Python implementation), plus a GCM token made in
/// Python with a fixed nonce opening here.
fn design_formats() -> bool {
    let key = MasterKey::from_bytes(1, [7; 32]);
    let mut out = [0u8; 96];
    let p = Pseudonymizer::new(&key, "customer-phone", 16, Encoding::Hex).map(|p| {
        p.pseudonymize(b"+821012345678", &mut out)
            .map(|s| s == "410fd2904e78b0ee5841242f57ee8474")
    });
    let siv = DeterministicCipher::new(&key, "email").map(|c| {
        c.encrypt(b"ada@example.com", &mut out)
            .map(|s| s == "AQAAAAFLEEmuouMOTJwbGTMK-UNYIM-sS9ky4w4pOSxFkMiS")
    });
    let ff1 = Ff1Digits::new(&key, "phone").map(|f| {
        f.encrypt(b"010-1234-5678", &mut out)
            .map(|s| s == "529-6761-4496")
    });
    let mut plain = [0u8; 96];
    let gcm = RandomizedCipher::new(&key, "email").map(|c| {
        c.decrypt(
            b"AQAAAAEAAQIDBAUGBwgJCgvsInS8Zhy-khZAbQeCobCez3BY87bdl6T0_FJR6X_q",
            &mut plain,
        )
        .map(|p| p == b"ada@example.com")
    });
    p == Ok(Ok(true)) && siv == Ok(Ok(true)) && ff1 == Ok(Ok(true)) && gcm == Ok(Ok(true))
}

/// A randomized (AES-256-GCM) token made here opens here, two encryptions
/// of the same value differ, and a changed character does not open.
fn gcm_round_trip() -> bool {
    let key = MasterKey::from_bytes(1, [7; 32]);
    let Ok(c) = RandomizedCipher::new(&key, "email") else {
        return false;
    };
    let mut rng = TestRng(0x6465_6964_2d6d_3421); // fixed seed, test only
    let mut token = [0u8; 96];
    let mut other = [0u8; 96];
    let (Ok(t), Ok(t2)) = (
        c.encrypt(&mut rng, b"ada@example.com", &mut token),
        c.encrypt(&mut rng, b"ada@example.com", &mut other),
    ) else {
        return false;
    };
    let differ = t != t2;
    let len = t.len();
    let mut plain = [0u8; 96];
    let opens = c
        .decrypt(&token[..len], &mut plain)
        .map(|p| p == b"ada@example.com")
        == Ok(true);
    token[len - 4] = if token[len - 4] == b'A' { b'B' } else { b'A' };
    opens && differ && c.decrypt(&token[..len], &mut plain).is_err()
}

/// Enables the DWT cycle counter and reports whether it advances.
fn cyccnt_counts(dcb: &mut DCB, dwt: &mut DWT) -> bool {
    dcb.enable_trace();
    dwt.enable_cycle_counter();
    let before = DWT::cycle_count();
    spin(1000);
    DWT::cycle_count() != before
}

/// `n` iterations of a 2-instruction loop (`subs`, `bne`).
#[inline(never)]
fn spin(n: u32) {
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

/// SysTick, free-running from the core clock over its full 24 bits.
struct Timer {
    /// Instructions per 1024 ticks, from the calibration loop.
    insns_per_1024_ticks: u64,
    /// Ticks of `REPS` empty operations (loop and call overhead).
    overhead: u32,
}

impl Timer {
    fn start(syst: &mut SYST) {
        syst.set_clock_source(SystClkSource::Core);
        syst.set_reload(0x00FF_FFFF);
        syst.clear_current();
        syst.enable_counter();
    }

    /// Ticks taken by `f`. SysTick counts down and wraps every 2^24 ticks
    /// (671 million instructions here); every timed block is far shorter.
    fn ticks(f: impl FnOnce()) -> u32 {
        let start = SYST::get_current();
        f();
        start.wrapping_sub(SYST::get_current()) & 0x00FF_FFFF
    }

    fn reps(op: &mut impl FnMut()) -> u32 {
        op(); // warm-up, not timed
        Self::ticks(|| {
            for _ in 0..REPS {
                op();
            }
        })
    }

    fn calibrate() -> Self {
        let cal = Self::ticks(|| spin(black_box(CAL_ITERS))).max(1);
        let insns_per_1024_ticks = (2 * u64::from(CAL_ITERS) * 1024) / u64::from(cal);
        let overhead = Self::reps(&mut || black_box(()));
        Timer {
            insns_per_1024_ticks,
            overhead,
        }
    }

    /// Instructions per run of `op`, loop overhead subtracted.
    fn per_op(&self, mut op: impl FnMut()) -> u64 {
        let ticks = Self::reps(&mut op).saturating_sub(self.overhead);
        let insns = u64::from(ticks) * self.insns_per_1024_ticks / 1024;
        (insns + u64::from(REPS) / 2) / u64::from(REPS)
    }
}

fn benchmarks() {
    let Some(mut cp) = cortex_m::Peripherals::take() else {
        hprintln!("timing skipped: core peripherals already taken");
        return;
    };
    if cyccnt_counts(&mut cp.DCB, &mut cp.DWT) {
        hprintln!("DWT CYCCNT counts on this core (not used: figures below are SysTick-based)");
    } else {
        hprintln!("DWT CYCCNT does not count here (QEMU models no DWT): timing with SysTick");
    }
    Timer::start(&mut cp.SYST);
    let timer = Timer::calibrate();
    hprintln!(
        "SysTick calibration: {}.{:03} instructions per tick; loop overhead {} ticks per {} runs (subtracted)",
        timer.insns_per_1024_ticks / 1024,
        (timer.insns_per_1024_ticks % 1024) * 1000 / 1024,
        timer.overhead,
        REPS
    );

    let key = MasterKey::from_bytes(1, [7; 32]);
    let (Ok(p), Ok(g), Ok(s), Ok(f)) = (
        Pseudonymizer::new(&key, "customer-phone", 16, Encoding::Hex),
        RandomizedCipher::new(&key, "email"),
        DeterministicCipher::new(&key, "email"),
        Ff1Digits::new(&key, "phone"),
    ) else {
        hprintln!("timing skipped: could not set up the transforms");
        return;
    };
    let mut out = [0u8; 128];
    let mut rng = TestRng(1);
    let v32 = [0x61u8; 32];
    let show = |name: &str, insns: u64| hprintln!("{:<46} {:>8} instructions", name, insns);

    show(
        "pseudonymize a 13-byte phone number (HMAC)",
        timer.per_op(|| {
            let r = p.pseudonymize(black_box(b"+821012345678"), &mut out);
            black_box(r.map(str::len).ok());
        }),
    );
    show(
        "encrypt 32 bytes, randomized (AES-256-GCM)",
        timer.per_op(|| {
            let r = g.encrypt(&mut rng, black_box(&v32), &mut out);
            black_box(r.map(str::len).ok());
        }),
    );
    show(
        "encrypt 32 bytes, deterministic (AES-SIV)",
        timer.per_op(|| {
            let r = s.encrypt(black_box(&v32), &mut out);
            black_box(r.map(str::len).ok());
        }),
    );
    show(
        "FF1 on 11 digits",
        timer.per_op(|| {
            let r = f.encrypt(black_box(b"01012345678"), &mut out);
            black_box(r.map(str::len).ok());
        }),
    );
    show(
        "set up a pseudonymizer (HKDF + HMAC pads)",
        timer.per_op(|| {
            let r = Pseudonymizer::new(black_box(&key), "customer-phone", 16, Encoding::Hex);
            black_box(r.is_ok());
        }),
    );
    black_box(&out);
}

#[entry]
fn main() -> ! {
    hprintln!("deid on Cortex-M4 (no_std, no allocator)");
    let mut ok = true;
    ok &= report("HMAC-SHA256 (RFC 4231 cases 1, 2)", hmac_rfc4231());
    ok &= report(
        "HKDF-SHA256 (RFC 5869 case 3) and deid's subkey derivation",
        hkdf_subkeys(),
    );
    ok &= report(
        "AES-256-GCM (NIST CAVP, tampered tag rejected)",
        aes_gcm_nist(),
    );
    ok &= report("AES-SIV 512-bit key (COUNT 3)", aes_siv());
    ok &= report("FF1-AES256 (NIST SP 800-38G samples 7, 8)", ff1_nist());
    ok &= report(
        "docs/FORMAT.md formats equal the host's (pseudonym, SIV, FF1, GCM)",
        design_formats(),
    );
    ok &= report(
        "randomized token round trip, tampering rejected",
        gcm_round_trip(),
    );

    benchmarks();

    hprintln!("{}", if ok { "ALL PASS" } else { "SOME SUITES FAILED" });
    debug::exit(if ok {
        debug::EXIT_SUCCESS
    } else {
        debug::EXIT_FAILURE
    });
    #[allow(clippy::empty_loop)]
    loop {}
}

/// A fault (e.g. a bad memory map) ends the run with a failure instead of
/// spinning until the script's timeout.
#[exception]
unsafe fn HardFault(ef: &ExceptionFrame) -> ! {
    hprintln!("FAIL HardFault at pc {:#010x}", ef.pc());
    debug::exit(debug::EXIT_FAILURE);
    #[allow(clippy::empty_loop)]
    loop {}
}
