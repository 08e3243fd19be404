//! deid on a Cortex-M4: the published test vectors and the DESIGN.md token
//! formats, then instructions per operation.
//!
//! Runs under `qemu-system-arm -machine mps2-an386 -icount shift=0` (see
//! scripts/cortex-m4.sh). Output goes through semihosting; the exit status
//! is 0 only if every suite passed.
//!
//! Timing: QEMU implements no DWT cycle counter, but with `-icount shift=0`
//! every instruction advances the virtual clock by exactly 1 ns, and SysTick
//! (on the 25 MHz core clock of the board) counts that virtual time. A
//! calibration loop of a known instruction count measures instructions per
//! SysTick tick; each operation is then repeated `REPS` times and its ticks
//! converted to instructions. Figures are instruction counts, not cycles of
//! real silicon (a real M4 adds wait states and pipeline stalls).

#![no_std]
#![no_main]

use core::fmt::Write as _;

use cortex_m::peripheral::syst::SystClkSource;
use cortex_m_rt::entry;
use cortex_m_semihosting::{debug, hprintln};
use deid::backend::Backend;
use deid::encoding::Encoding;
use deid::transform::encrypt::{DeterministicCipher, RandomizedCipher, raw};
use deid::transform::fpe::Ff1Digits;
use deid::transform::pseudonym::Pseudonymizer;
use deid::{MasterKey, Purpose};
use panic_semihosting as _;

const REPS: u32 = 50;

fn unhex<const N: usize>(s: &str) -> [u8; N] {
    let mut out = [0u8; N];
    let b = s.as_bytes();
    for (i, o) in out.iter_mut().enumerate() {
        let h = |c: u8| match c {
            b'0'..=b'9' => c - b'0',
            b'a'..=b'f' => c - b'a' + 10,
            _ => 0,
        };
        *o = h(b[2 * i]) << 4 | h(b[2 * i + 1]);
    }
    out
}

/// Test-only RNG (a counter): the firmware has no entropy source. Never
/// use a predictable RNG for real tokens.
struct CounterRng(u8);

impl rand_core::TryRng for CounterRng {
    type Error = core::convert::Infallible;
    fn try_next_u32(&mut self) -> Result<u32, Self::Error> {
        Ok(0)
    }
    fn try_next_u64(&mut self) -> Result<u64, Self::Error> {
        Ok(0)
    }
    fn try_fill_bytes(&mut self, dst: &mut [u8]) -> Result<(), Self::Error> {
        for b in dst {
            self.0 = self.0.wrapping_add(1);
            *b = self.0;
        }
        Ok(())
    }
}
impl rand_core::TryCryptoRng for CounterRng {}

fn report(name: &str, ok: bool) -> bool {
    hprintln!("{} {}", if ok { "PASS" } else { "FAIL" }, name);
    ok
}

/// RFC 4231 test cases 1 and 2 (HMAC-SHA256).
fn hmac_rfc4231() -> bool {
    let k1 = [0x0bu8; 20];
    let m1 = deid::backend::rustcrypto::HmacSha256::new(&k1).map(|h| h.mac(b"Hi There"));
    let m2 = deid::backend::rustcrypto::HmacSha256::new(b"Jefe")
        .map(|h| h.mac(b"what do ya want for nothing?"));
    m1 == Ok(unhex(
        "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7",
    )) && m2
        == Ok(unhex(
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843",
        ))
}

/// RFC 5869 test case 3 (HKDF-SHA256, no salt, no info) and deid's subkey
/// layout (expected value from Python's `cryptography` HKDF).
fn hkdf_rfc5869() -> bool {
    let hk = hkdf::Hkdf::<sha2::Sha256>::new(None, &[0x0b; 22]);
    let mut okm = [0u8; 42];
    let case3 = hk.expand(&[], &mut okm).is_ok()
        && okm
            == unhex::<42>(
                "8da4e775a563c18f715f802a063c5a31b8a11f5c5ee1879ec3454e5f3c738d2d9d201395faa4b61a96c8",
            );
    let mut sub = [0u8; 64];
    let layout = MasterKey::from_bytes(1, [0x42; 32])
        .derive(Purpose::Siv, "customer-email", &mut sub)
        .is_ok()
        && sub
            == unhex::<64>(
                "cbd071fbf5e8fa8f7ff97b67c6babb7875c6c8e6c5cc2f48696aa5e8b6fbcb2bdc62d519bdf73829fbd2a6c52524897d88e4e719492c817f1c075eecb2688337",
            );
    case3 && layout
}

/// NIST CAVP gcmEncryptExtIV256.rsp, [PTlen = 128][AADlen = 128] Count 0.
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

/// AES-SIV with a 512-bit key (OpenSSL evptests, via tests/data/aes_siv.txt COUNT 3).
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

/// NIST SP 800-38G FF1-AES256 samples 7 and 8.
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

/// DESIGN.md formats: the same bytes as the host (tests/golden/golden.json,
/// computed independently in Python).
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

/// A randomized token made here opens here; a flipped character does not.
fn gcm_round_trip() -> bool {
    let key = MasterKey::from_bytes(1, [7; 32]);
    let Ok(c) = RandomizedCipher::new(&key, "email") else {
        return false;
    };
    let mut token = [0u8; 96];
    let mut rng = CounterRng(0);
    let Ok(t) = c.encrypt(&mut rng, b"ada@example.com", &mut token) else {
        return false;
    };
    let len = t.len();
    let mut plain = [0u8; 96];
    let ok = c
        .decrypt(&token[..len], &mut plain)
        .map(|p| p == b"ada@example.com")
        == Ok(true);
    token[len - 4] = if token[len - 4] == b'A' { b'B' } else { b'A' };
    ok && c.decrypt(&token[..len], &mut plain).is_err()
}

struct Timer {
    syst: cortex_m::peripheral::SYST,
}

impl Timer {
    fn now(&self) -> u32 {
        cortex_m::peripheral::SYST::get_current()
    }
    /// Ticks elapsed since `start` (SysTick counts down, 24 bits).
    fn since(&self, start: u32) -> u32 {
        start.wrapping_sub(self.now()) & 0x00FF_FFFF
    }
}

/// `n` iterations of a 2-instruction loop (`subs`, `bne`).
#[inline(never)]
fn spin(n: u32) {
    // SAFETY: a register-only countdown loop with no memory access.
    unsafe {
        core::arch::asm!("1:", "subs {0}, {0}, #1", "bne 1b", inout(reg) n => _, options(nomem, nostack));
    }
}

fn measure(timer: &Timer, per_tick: f32, name: &str, mut op: impl FnMut()) {
    op(); // warm
    let start = timer.now();
    for _ in 0..REPS {
        op();
    }
    let ticks = timer.since(start);
    let insns = ticks as f32 * per_tick / REPS as f32;
    let mut line: heapless_line::Line = heapless_line::Line::new();
    let _ = write!(line, "{name:<44} {:>9.0} instructions", insns);
    hprintln!("{}", line.as_str());
}

/// A tiny stack string for formatting floats without an allocator.
mod heapless_line {
    pub struct Line {
        buf: [u8; 96],
        len: usize,
    }
    impl Line {
        pub fn new() -> Self {
            Line {
                buf: [0; 96],
                len: 0,
            }
        }
        pub fn as_str(&self) -> &str {
            core::str::from_utf8(&self.buf[..self.len]).unwrap_or("")
        }
    }
    impl core::fmt::Write for Line {
        fn write_str(&mut self, s: &str) -> core::fmt::Result {
            let end = (self.len + s.len()).min(self.buf.len());
            self.buf[self.len..end].copy_from_slice(&s.as_bytes()[..end - self.len]);
            self.len = end;
            Ok(())
        }
    }
}

#[entry]
fn main() -> ! {
    hprintln!("deid on Cortex-M4 (no_std, no allocator)");
    let mut ok = true;
    ok &= report("HMAC-SHA256 (RFC 4231 cases 1, 2)", hmac_rfc4231());
    ok &= report(
        "HKDF-SHA256 (RFC 5869 case 3) and the deid subkey layout",
        hkdf_rfc5869(),
    );
    ok &= report(
        "AES-256-GCM (NIST CAVP, tampered tag rejected)",
        aes_gcm_nist(),
    );
    ok &= report("AES-SIV 512-bit key (OpenSSL evptests)", aes_siv());
    ok &= report("FF1-AES256 (NIST SP 800-38G samples 7, 8)", ff1_nist());
    ok &= report(
        "DESIGN.md formats equal the host's (pseudonym, SIV, FF1, GCM)",
        design_formats(),
    );
    ok &= report(
        "randomized token round trip, tampering rejected",
        gcm_round_trip(),
    );

    if let Some(cp) = cortex_m::Peripherals::take() {
        let mut syst = cp.SYST;
        syst.set_clock_source(SystClkSource::Core);
        syst.set_reload(0x00FF_FFFF);
        syst.clear_current();
        syst.enable_counter();
        let timer = Timer { syst };
        // Calibration: 2 instructions per iteration.
        let n = 200_000u32;
        let start = timer.now();
        spin(n);
        let ticks = timer.since(start).max(1);
        let per_tick = (2 * n) as f32 / ticks as f32;
        let mut line = heapless_line::Line::new();
        let _ = write!(
            line,
            "calibration: {:.1} instructions per SysTick tick",
            per_tick
        );
        hprintln!("{}", line.as_str());

        let key = MasterKey::from_bytes(1, [7; 32]);
        let mut out = [0u8; 128];
        let mut rng = CounterRng(0);
        if let (Ok(p), Ok(g), Ok(s), Ok(f)) = (
            Pseudonymizer::new(&key, "customer-phone", 16, Encoding::Hex),
            RandomizedCipher::new(&key, "email"),
            DeterministicCipher::new(&key, "email"),
            Ff1Digits::new(&key, "phone"),
        ) {
            let v32 = [0x61u8; 32];
            measure(
                &timer,
                per_tick,
                "pseudonymize a 13-byte phone number",
                || {
                    let _ = p.pseudonymize(b"+821012345678", &mut out);
                },
            );
            measure(
                &timer,
                per_tick,
                "encrypt 32 bytes, randomized (AES-256-GCM)",
                || {
                    let _ = g.encrypt(&mut rng, &v32, &mut out);
                },
            );
            measure(
                &timer,
                per_tick,
                "encrypt 32 bytes, deterministic (AES-SIV)",
                || {
                    let _ = s.encrypt(&v32, &mut out);
                },
            );
            measure(&timer, per_tick, "FF1 on 11 digits", || {
                let _ = f.encrypt(b"01012345678", &mut out);
            });
            measure(
                &timer,
                per_tick,
                "set up a pseudonymizer (HKDF + HMAC pads)",
                || {
                    let _ = Pseudonymizer::new(&key, "customer-phone", 16, Encoding::Hex);
                },
            );
        }
        drop(timer.syst);
    }
    hprintln!("{}", if ok { "ALL PASS" } else { "SOME SUITES FAILED" });
    debug::exit(if ok {
        debug::EXIT_SUCCESS
    } else {
        debug::EXIT_FAILURE
    });
    #[allow(clippy::empty_loop)]
    loop {}
}
