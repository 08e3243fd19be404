//! The device benchmark behind `deid bench`: throughput of every transform
//! and of the hash-reversal loop on this CPU, with the code path each took.
//!
//! Each case runs a closure over a fixed input for a fixed wall-clock budget
//! (`quick`: 30 ms a case, `full`: 300 ms), on one thread and then on all
//! threads (each thread with its own buffers; the keys are shared). Figures
//! are values per second, nanoseconds per value (per thread) and input bytes
//! per second. Nothing here reads a real data value: inputs are constants.
//!
//! # Example
//! ```
//! let cfg = deid::bench::Config { budget_ms: 1, threads: 1, filter: Some("mask".into()) };
//! let report = deid::bench::run(&cfg, &mut |_, _| {}).unwrap();
//! assert!(report.results.iter().all(|r| r.ops_per_s > 0.0));
//! assert!(deid::bench::render_table(&report).contains("mask"));
//! ```

use std::boxed::Box;
use std::format;
use std::string::{String, ToString};
use std::time::{Duration, Instant};
use std::vec;
use std::vec::Vec;

use serde::{Deserialize, Serialize};

use crate::MasterKey;
use crate::audit::hashes::algo::Algorithm;
use crate::audit::hashes::search::{TargetSet, scan_pattern};
use crate::audit::hashes::space::{Source, Space};
use crate::backend::Backend;
use crate::date::Date;
use crate::encoding::Encoding;
use crate::error::Error;
use crate::normalize::Normalizer;
use crate::transform::dateshift::DateShifter;
use crate::transform::encrypt::{DeterministicCipher, RandomizedCipher};
use crate::transform::fpe::Ff1Digits;
use crate::transform::generalize::Generalization;
use crate::transform::mask::Mask;
use crate::transform::pseudonym::Pseudonymizer;

/// Value sizes (bytes) of the size-generic cases.
pub const SIZES: [usize; 4] = [8, 16, 64, 256];

/// What to run.
#[derive(Clone, Debug)]
pub struct Config {
    /// Wall-clock budget per case and thread count, in milliseconds.
    pub budget_ms: u64,
    /// Threads of the parallel run (1 runs the single-thread pass only).
    pub threads: usize,
    /// Only cases whose name contains this.
    pub filter: Option<String>,
}

/// One measured case.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct CaseResult {
    /// Case name, e.g. `pseudonymize/hex`.
    pub name: String,
    /// Backend (`rustcrypto`, `ring`) or `-`.
    pub backend: String,
    /// Input bytes per value.
    pub size: usize,
    /// Threads used.
    pub threads: usize,
    /// Values per second, all threads together.
    pub ops_per_s: f64,
    /// Nanoseconds per value on one thread.
    pub ns_per_op: f64,
    /// Input megabytes (10^6) per second, all threads together.
    pub mb_per_s: f64,
}

/// Where the benchmark ran.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Machine {
    /// Target architecture of this build (`x86_64`, `aarch64`, ...).
    pub arch: String,
    /// CPU model from /proc/cpuinfo, or `unknown`.
    pub cpu: String,
    /// Logical cores available to this process.
    pub cores: usize,
    /// CPU features relevant to the primitives, detected at run time.
    pub features: Vec<String>,
    /// The code path each primitive takes with these features.
    pub paths: Vec<(String, String)>,
    /// Whether the binary appears to run under emulation (qemu-user).
    pub emulated: bool,
    /// deid version.
    pub version: String,
}

/// A whole run: the machine and every case.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Report {
    /// Where it ran.
    pub machine: Machine,
    /// Budget per case, milliseconds.
    pub budget_ms: u64,
    /// Results in run order.
    pub results: Vec<CaseResult>,
}

type Worker = Box<dyn FnMut(&[u8]) -> usize + Send>;
type Factory = Box<dyn Fn() -> Worker + Sync>;
type SimpleFn = fn(&[u8], &mut [u8]) -> usize;

struct Case {
    name: String,
    backend: &'static str,
    input: Vec<u8>,
    /// Values each call of the worker processes (hash reversal scans a
    /// run of candidates per call).
    per_call: u64,
    make: Factory,
}

fn bench_key() -> MasterKey {
    MasterKey::from_bytes(1, [7; 32])
}

fn value(size: usize) -> Vec<u8> {
    (0..size).map(|i| b'a' + (i % 26) as u8).collect()
}

fn ok_len<T: AsRef<[u8]> + ?Sized>(r: Result<&T, Error>) -> usize {
    r.map_or(0, |v| v.as_ref().len())
}

fn cases() -> Result<Vec<Case>, Error> {
    let key = bench_key();
    let mut v = Vec::new();
    for &size in &SIZES {
        for &backend in Backend::available() {
            for enc in [Encoding::Hex, Encoding::Base32, Encoding::Base64Url] {
                let p = std::sync::Arc::new(Pseudonymizer::with_backend(
                    backend, &key, "bench", 16, enc,
                )?);
                v.push(Case {
                    name: format!("pseudonymize/{enc}"),
                    backend: backend.as_str(),
                    input: value(size),
                    per_call: 1,
                    make: Box::new(move || {
                        let p = p.clone();
                        let mut out = [0u8; 64];
                        Box::new(move |x| p.pseudonymize(x, &mut out).map_or(0, str::len))
                    }),
                });
            }
            let c = std::sync::Arc::new(RandomizedCipher::with_backend(backend, &key, "bench")?);
            v.push(Case {
                name: "encrypt/randomized".into(),
                backend: backend.as_str(),
                input: value(size),
                per_call: 1,
                make: Box::new(move || {
                    let c = c.clone();
                    let mut out = vec![0u8; 512];
                    let mut n: u64 = 0;
                    Box::new(move |x| {
                        // Counter nonces: the figure excludes OS randomness.
                        n = n.wrapping_add(1);
                        let mut nonce = [0u8; 12];
                        nonce[..8].copy_from_slice(&n.to_le_bytes());
                        c.encrypt_with_nonce(&nonce, x, &mut out)
                            .map_or(0, str::len)
                    })
                }),
            });
        }
        let d = std::sync::Arc::new(DeterministicCipher::new(&key, "bench")?);
        v.push(Case {
            name: "encrypt/deterministic".into(),
            backend: "rustcrypto",
            input: value(size),
            per_call: 1,
            make: Box::new(move || {
                let d = d.clone();
                let mut out = vec![0u8; 512];
                Box::new(move |x| d.encrypt(x, &mut out).map_or(0, str::len))
            }),
        });
    }
    for algo in [Algorithm::Sha256, Algorithm::Sha1, Algorithm::Md5] {
        v.push(hash_case(algo)?);
    }
    let ff1 = std::sync::Arc::new(Ff1Digits::new(&key, "bench")?);
    for input in ["010-1234-5678", "4111-1111-1111-1111"] {
        let f = ff1.clone();
        v.push(Case {
            name: "fpe/ff1-digits".into(),
            backend: "rustcrypto",
            input: input.as_bytes().to_vec(),
            per_call: 1,
            make: Box::new(move || {
                let f = f.clone();
                let mut out = [0u8; 64];
                Box::new(move |x| f.encrypt(x, &mut out).map_or(0, str::len))
            }),
        });
    }
    let shift = std::sync::Arc::new(DateShifter::new(&key, "bench", 30)?);
    v.push(Case {
        name: "dateshift".into(),
        backend: "rustcrypto",
        input: b"2024-03-01".to_vec(),
        per_call: 1,
        make: Box::new(move || {
            let s = shift.clone();
            let mut out = [0u8; 64];
            Box::new(move |x| ok_len(s.shift(x, b"C000000001", &mut out)))
        }),
    });
    if let Ok(phone) = "phone:KR".parse::<Normalizer>() {
        v.push(Case {
            name: "normalize/phone:KR".into(),
            backend: "-",
            input: b"010-1234-5678".to_vec(),
            per_call: 1,
            make: Box::new(move || {
                let mut out = [0u8; 64];
                Box::new(move |x| ok_len(phone.apply(x, &mut out)))
            }),
        });
    }
    let simple: Vec<(&str, &[u8], SimpleFn)> = vec![
        ("normalize/email", b" Ada.Lovelace@Example.com", |x, o| {
            ok_len(Normalizer::Email.apply(x, o))
        }),
        ("generalize/year", b"1990-07-15", |x, o| {
            ok_len(Generalization::Year.apply(x, o))
        }),
        ("generalize/age-band", b"1990-07-15", |x, o| {
            Date::new(2025, 1, 1).map_or(0, |as_of| {
                ok_len(Generalization::AgeBand { width: 10, as_of }.apply(x, o))
            })
        }),
        ("generalize/prefix", b"04524", |x, o| {
            ok_len(Generalization::Prefix { keep: 3 }.apply(x, o))
        }),
        ("mask", b"4111111111111111", |x, o| {
            ok_len(Mask::default().apply(x, o))
        }),
    ];
    for (name, input, f) in simple {
        v.push(Case {
            name: name.into(),
            backend: "-",
            input: input.to_vec(),
            per_call: 1,
            make: Box::new(move || {
                let mut out = [0u8; 128];
                Box::new(move |x| f(x, &mut out))
            }),
        });
    }
    Ok(v)
}

/// Candidates each call of the hash-reversal worker scans.
const HASH_RUN: u128 = 10_000;

/// The hash-reversal inner loop of `deid audit hashes`, exactly: the
/// `kr-mobile` space's `01012345678` format enumerated in place, hashed
/// (four blocks at a time where the CPU allows) and looked up among
/// 110,000 target digests, in runs of 10,000 candidates a call. One
/// candidate of every run is a target, so each call finds exactly one.
fn hash_case(algo: Algorithm) -> Result<Case, Error> {
    let runs = 100_000_000 / HASH_RUN as u64;
    let mut keys = Vec::with_capacity(100_000 + runs as usize);
    let mut s: u64 = 0x9E37_79B9_7F4A_7C15;
    for _ in 0..100_000 {
        s = s.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
        keys.push((u128::from(s) << 64) | u128::from(s.rotate_left(17)));
    }
    let mut d = [0u8; 64];
    for run in 0..runs {
        let phone = format!("010{:08}", run * HASH_RUN as u64 + 1234);
        let n = algo.hash(phone.as_bytes(), &mut d);
        keys.push(crate::audit::hashes::algo::digest_key(&d[..n]));
    }
    let targets = std::sync::Arc::new(TargetSet::new(keys));
    let space = Space::parse("010?d?d?d?d?d?d?d?d", (1950, 2005))?;
    let pattern = match &space.source {
        Source::Formats(formats) => formats.first().and_then(|f| f.patterns.first()),
        _ => None,
    }
    .ok_or(Error::Config("the hash-reversal mask is not a pattern"))?;
    let pattern = std::sync::Arc::new(pattern.clone());
    Ok(Case {
        name: format!("hash-reversal/{}", algo.name()),
        backend: "rustcrypto",
        input: pattern.template.clone(),
        per_call: HASH_RUN as u64,
        make: Box::new(move || {
            let (t, p) = (targets.clone(), pattern.clone());
            let mut start: u128 = 0;
            Box::new(move |_| {
                let hits = scan_pattern(&p, start, start + HASH_RUN, &t, algo);
                start = (start + HASH_RUN) % p.size();
                hits as usize
            })
        }),
    })
}

/// Runs `w` for `budget`, returning (values, elapsed).
fn measure(w: &mut Worker, input: &[u8], budget: Duration) -> (u64, Duration) {
    let mut sink = 0usize;
    // Warm-up.
    for _ in 0..64 {
        sink = sink.wrapping_add(w(std::hint::black_box(input)));
    }
    let start = Instant::now();
    let mut n: u64 = 0;
    let mut batch: u64 = 16;
    loop {
        for _ in 0..batch {
            sink = sink.wrapping_add(w(std::hint::black_box(input)));
        }
        n += batch;
        let el = start.elapsed();
        if el >= budget {
            std::hint::black_box(sink);
            return (n, el);
        }
        if el < budget / 8 {
            batch = batch.saturating_mul(2);
        }
    }
}

fn run_case(c: &Case, threads: usize, budget: Duration) -> CaseResult {
    let (ops, ns) = if threads <= 1 {
        let mut w = (c.make)();
        let (n, el) = measure(&mut w, &c.input, budget);
        let n = n * c.per_call;
        let secs = el.as_secs_f64().max(1e-9);
        (n as f64 / secs, secs * 1e9 / n.max(1) as f64)
    } else {
        let per: Vec<(u64, Duration)> = std::thread::scope(|s| {
            let hs: Vec<_> = (0..threads)
                .map(|_| {
                    s.spawn(|| {
                        let mut w = (c.make)();
                        let (n, el) = measure(&mut w, &c.input, budget);
                        (n * c.per_call, el)
                    })
                })
                .collect();
            hs.into_iter().filter_map(|h| h.join().ok()).collect()
        });
        let ops: f64 = per
            .iter()
            .map(|(n, el)| *n as f64 / el.as_secs_f64().max(1e-9))
            .sum();
        let ns = if ops > 0.0 {
            1e9 * per.len() as f64 / ops
        } else {
            0.0
        };
        (ops, ns)
    };
    CaseResult {
        name: c.name.clone(),
        backend: c.backend.to_string(),
        size: c.input.len(),
        threads,
        ops_per_s: ops,
        ns_per_op: ns,
        mb_per_s: ops * c.input.len() as f64 / 1e6,
    }
}

/// Runs every case matching `cfg.filter` on 1 thread and, if
/// `cfg.threads > 1`, on `cfg.threads`. `progress(done, total)` is called
/// after each measurement.
///
/// # Errors
/// [`Error`] if a primitive cannot be keyed (does not happen with the fixed
/// benchmark key).
pub fn run(cfg: &Config, progress: &mut dyn FnMut(usize, usize)) -> Result<Report, Error> {
    let all = cases()?;
    let selected: Vec<&Case> = all
        .iter()
        .filter(|c| cfg.filter.as_deref().is_none_or(|f| c.name.contains(f)))
        .collect();
    let mut counts = vec![1usize];
    if cfg.threads > 1 {
        counts.push(cfg.threads);
    }
    let total = selected.len() * counts.len();
    let budget = Duration::from_millis(cfg.budget_ms.max(1));
    let mut results = Vec::with_capacity(total);
    for &t in &counts {
        for c in &selected {
            results.push(run_case(c, t, budget));
            progress(results.len(), total);
        }
    }
    Ok(Report {
        machine: machine(),
        budget_ms: cfg.budget_ms,
        results,
    })
}

fn cpuinfo() -> String {
    std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default()
}

fn cpu_model(info: &str) -> String {
    for key in ["model name", "Model", "Hardware", "cpu model"] {
        if let Some(v) = info
            .lines()
            .find(|l| l.split(':').next().is_some_and(|k| k.trim() == key))
            .and_then(|l| l.split_once(':'))
        {
            return v.1.trim().to_string();
        }
    }
    if info.contains("CPU implementer") {
        let part = info
            .lines()
            .find(|l| l.starts_with("CPU part"))
            .and_then(|l| l.split_once(':'))
            .map_or("", |p| p.1.trim());
        return format!("ARM CPU part {part}");
    }
    "unknown".into()
}

/// Whether this process looks emulated: `DEID_EMULATED=1` says so; an
/// aarch64 build reading an x86 /proc/cpuinfo (qemu-user passes the host's
/// through) or the reverse does too.
pub fn emulated(info: &str) -> bool {
    if std::env::var("DEID_EMULATED").is_ok_and(|v| v == "1") {
        return true;
    }
    let x86_host = info.contains("GenuineIntel") || info.contains("AuthenticAMD");
    let arm_host = info.contains("CPU implementer");
    (cfg!(target_arch = "aarch64") && x86_host) || (cfg!(target_arch = "x86_64") && arm_host)
}

/// Detected features and the code path each primitive takes.
fn features() -> (Vec<String>, Vec<(String, String)>) {
    let mut f = Vec::new();
    let mut paths = Vec::new();
    #[cfg(target_arch = "x86_64")]
    {
        let sha = std::is_x86_feature_detected!("sha")
            && std::is_x86_feature_detected!("sse4.1")
            && std::is_x86_feature_detected!("ssse3");
        let aes = std::is_x86_feature_detected!("aes");
        let clmul = std::is_x86_feature_detected!("pclmulqdq");
        let avx2 = std::is_x86_feature_detected!("avx2");
        for (on, n) in [
            (sha, "SHA-NI"),
            (aes, "AES-NI"),
            (clmul, "PCLMULQDQ"),
            (avx2, "AVX2"),
        ] {
            if on {
                f.push(n.to_string());
            }
        }
        let pick = |on: bool, hw: &str, sw: &str| if on { hw } else { sw }.to_string();
        paths.push((
            "sha256 (rustcrypto)".into(),
            pick(sha, "SHA-NI", "software (SSE2/AVX2 message schedule)"),
        ));
        paths.push((
            "sha256 hash reversal (deid)".into(),
            pick(
                sha,
                "SHA-NI, 4 blocks interleaved",
                "rustcrypto, one block at a time",
            ),
        ));
        paths.push(("sha1 (rustcrypto)".into(), pick(sha, "SHA-NI", "software")));
        paths.push((
            "aes (rustcrypto)".into(),
            pick(aes, "AES-NI", "software (fixsliced)"),
        ));
        paths.push((
            "ghash (rustcrypto)".into(),
            pick(clmul, "PCLMULQDQ", "software (soft64)"),
        ));
    }
    #[cfg(target_arch = "aarch64")]
    {
        let aes = std::arch::is_aarch64_feature_detected!("aes");
        let sha2 = std::arch::is_aarch64_feature_detected!("sha2");
        let pmull = aes; // PMULL is part of the AES extension.
        let neon = std::arch::is_aarch64_feature_detected!("neon");
        for (on, n) in [
            (aes, "AES"),
            (sha2, "SHA2"),
            (pmull, "PMULL"),
            (neon, "NEON"),
        ] {
            if on {
                f.push(n.to_string());
            }
        }
        let pick = |on: bool, hw: &str, sw: &str| if on { hw } else { sw }.to_string();
        paths.push((
            "sha256 (rustcrypto)".into(),
            pick(sha2, "ARMv8 SHA2", "software"),
        ));
        paths.push((
            "sha256 hash reversal (deid)".into(),
            "rustcrypto, one block at a time".into(),
        ));
        paths.push((
            "sha1 (rustcrypto)".into(),
            pick(sha2, "ARMv8 SHA1", "software"),
        ));
        paths.push((
            "aes (rustcrypto)".into(),
            pick(aes, "ARMv8 AES", "software (fixsliced)"),
        ));
        paths.push((
            "ghash (rustcrypto)".into(),
            pick(pmull, "PMULL", "software (soft64)"),
        ));
    }
    paths.push(("md5".into(), "software".into()));
    #[cfg(feature = "ring")]
    paths.push((
        "hmac-sha256, aes-gcm (ring)".into(),
        "ring assembly, dispatched on the same CPU features".into(),
    ));
    (f, paths)
}

fn machine() -> Machine {
    let info = cpuinfo();
    let (features, paths) = features();
    Machine {
        arch: std::env::consts::ARCH.to_string(),
        cpu: cpu_model(&info),
        cores: std::thread::available_parallelism().map_or(1, |n| n.get()),
        features,
        paths,
        emulated: emulated(&info),
        version: env!("CARGO_PKG_VERSION").to_string(),
    }
}

fn human(x: f64) -> String {
    if x >= 1e9 {
        format!("{:.2}G", x / 1e9)
    } else if x >= 1e6 {
        format!("{:.2}M", x / 1e6)
    } else if x >= 1e3 {
        format!("{:.1}k", x / 1e3)
    } else {
        format!("{x:.0}")
    }
}

/// The machine header of a report, one fact a line.
pub fn render_machine(m: &Machine) -> String {
    let mut s = format!(
        "deid {} on {} ({}), {} cores\nCPU features: {}\n",
        m.version,
        m.cpu,
        m.arch,
        m.cores,
        if m.features.is_empty() {
            "none detected".to_string()
        } else {
            m.features.join(", ")
        }
    );
    for (p, path) in &m.paths {
        s.push_str(&format!("  {p:<30} {path}\n"));
    }
    if m.emulated {
        s.push_str(
            "NOTE: running under emulation (qemu-user): these timings are NOT performance figures.\n",
        );
    }
    s
}

/// The report as a text table (machine header, then one line per case).
pub fn render_table(r: &Report) -> String {
    let mut s = render_machine(&r.machine);
    s.push_str(&format!(
        "\n{:<28} {:<10} {:>5} {:>7} {:>10} {:>10} {:>10}\n",
        "case", "backend", "bytes", "threads", "ops/s", "ns/op", "MB/s"
    ));
    for c in &r.results {
        s.push_str(&format!(
            "{:<28} {:<10} {:>5} {:>7} {:>10} {:>10.1} {:>10.1}\n",
            c.name,
            c.backend,
            c.size,
            c.threads,
            human(c.ops_per_s),
            c.ns_per_op,
            c.mb_per_s
        ));
    }
    s
}

/// Two reports side by side: cases present in both (matched by name,
/// backend, size and whether they ran on one thread), with `b / a` ratios
/// of ops/s.
pub fn render_compare(a: &Report, b: &Report) -> String {
    let mut s = String::from("A: ");
    s.push_str(&render_machine(&a.machine));
    s.push_str("B: ");
    s.push_str(&render_machine(&b.machine));
    s.push_str(&format!(
        "\n{:<28} {:<10} {:>5} {:>7} {:>10} {:>10} {:>8}\n",
        "case", "backend", "bytes", "threads", "A ops/s", "B ops/s", "B/A"
    ));
    for x in &a.results {
        let single = x.threads == 1;
        if let Some(y) = b.results.iter().find(|y| {
            y.name == x.name
                && y.backend == x.backend
                && y.size == x.size
                && (y.threads == 1) == single
        }) {
            let ratio = if x.ops_per_s > 0.0 {
                y.ops_per_s / x.ops_per_s
            } else {
                0.0
            };
            let threads = if single {
                "1".to_string()
            } else {
                "all".to_string()
            };
            s.push_str(&format!(
                "{:<28} {:<10} {:>5} {:>7} {:>10} {:>10} {:>7.2}x\n",
                x.name,
                x.backend,
                x.size,
                threads,
                human(x.ops_per_s),
                human(y.ops_per_s),
                ratio
            ));
        }
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_case_produces_output() {
        for c in cases().unwrap() {
            let mut w = (c.make)();
            assert!(w(&c.input) > 0, "{} produced nothing", c.name);
            if c.name.starts_with("hash-reversal/") {
                // One target in each run of candidates, found every call.
                assert_eq!(w(&c.input), 1, "{}", c.name);
            }
        }
    }

    #[test]
    fn covers_the_transforms_sizes_and_backends() {
        let names: Vec<String> = cases().unwrap().into_iter().map(|c| c.name).collect();
        for n in [
            "pseudonymize/hex",
            "pseudonymize/base32",
            "encrypt/randomized",
            "encrypt/deterministic",
            "fpe/ff1-digits",
            "generalize/year",
            "mask",
            "dateshift",
            "normalize/phone:KR",
            "hash-reversal/sha256",
            "hash-reversal/sha1",
            "hash-reversal/md5",
        ] {
            assert!(names.iter().any(|x| x == n), "missing {n}");
        }
        let c = cases().unwrap();
        for s in SIZES {
            assert!(
                c.iter()
                    .any(|x| x.name == "pseudonymize/hex" && x.input.len() == s)
            );
        }
        assert_eq!(
            c.iter()
                .filter(|x| x.name == "encrypt/randomized" && x.input.len() == 16)
                .count(),
            Backend::available().len()
        );
    }

    #[test]
    fn emulation_detection() {
        let intel = "vendor_id\t: GenuineIntel\nmodel name\t: Intel Xeon\n";
        let arm = "processor\t: 0\nCPU implementer\t: 0x41\nCPU part\t: 0xd08\n";
        assert_eq!(emulated(intel), cfg!(target_arch = "aarch64"));
        assert_eq!(emulated(arm), cfg!(target_arch = "x86_64"));
        assert_eq!(cpu_model(intel), "Intel Xeon");
        assert_eq!(cpu_model(arm), "ARM CPU part 0xd08");
    }

    #[test]
    fn json_round_trip_and_compare() {
        let cfg = Config {
            budget_ms: 1,
            threads: 2,
            filter: Some("generalize/year".into()),
        };
        let r = run(&cfg, &mut |_, _| {}).unwrap();
        assert_eq!(r.results.len(), 2);
        assert_eq!(r.results[1].threads, 2);
        let j = serde_json::to_string(&r).unwrap();
        let back: Report = serde_json::from_str(&j).unwrap();
        let cmp = render_compare(&r, &back);
        assert!(cmp.contains("1.00x"), "{cmp}");
    }
}
