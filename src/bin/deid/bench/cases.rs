//! What `deid bench` measures: one case per transform, backend and value
//! size, and the hash-reversal loop of `deid audit hashes`, each timed for
//! a fixed wall-clock budget on one thread and then on all threads (each
//! thread with its own buffers; the keys are shared). Nothing here reads a
//! real data value: inputs are constants.

use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;
use serde::{Deserialize, Serialize};

use deid::audit::hashes::algo::{Algorithm, digest_key};
use deid::audit::hashes::search::{TargetSet, scan_pattern};
use deid::audit::hashes::space::{Source, Space};
use deid::transform::Transform;
use deid::{
    Backend, Date, DateShifter, DeterministicCipher, Encoding, Ff1Digits, Generalization, Mask,
    MasterKey, Normalizer, Pseudonymizer, RandomizedCipher,
};

/// Value sizes (bytes) of the size-generic cases, unless `--sizes` says
/// otherwise.
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
    /// Value sizes (bytes) of the size-generic cases.
    pub sizes: Vec<usize>,
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

fn ok_len<T: AsRef<[u8]> + ?Sized>(r: Result<&T, deid::Error>) -> usize {
    r.map_or(0, |v| v.as_ref().len())
}

fn cases(sizes: &[usize]) -> anyhow::Result<Vec<Case>> {
    let key = bench_key();
    let mut v = Vec::new();
    for &size in sizes {
        for &backend in Backend::available() {
            for enc in [Encoding::Hex, Encoding::Base32, Encoding::Base64Url] {
                let p = Arc::new(Pseudonymizer::with_backend(
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
            let c = Arc::new(RandomizedCipher::with_backend(backend, &key, "bench")?);
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
        let d = Arc::new(DeterministicCipher::new(&key, "bench")?);
        v.push(Case {
            name: "encrypt/deterministic".into(),
            backend: "rustcrypto",
            input: value(size),
            per_call: 1,
            make: Box::new(move || {
                let d = d.clone();
                let mut out = vec![0u8; 512];
                // As the pipelines call it: the token as bytes.
                Box::new(move |x| Transform::apply(&*d, x, &mut out).map_or(0, <[u8]>::len))
            }),
        });
    }
    batch_cases(&key, &mut v)?;
    for algo in [Algorithm::Sha256, Algorithm::Sha1, Algorithm::Md5] {
        v.push(hash_case(algo)?);
    }
    let ff1 = Arc::new(Ff1Digits::new(&key, "bench")?);
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
    let shift = Arc::new(DateShifter::new(&key, "bench", 30)?);
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
        // An address as most come: 16 to 32 bytes, nothing to trim.
        ("normalize/email", b"Ada.Lovelace@Example.com", |x, o| {
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

/// The pseudonymizer's batch path (`pseudonymize_batch`, twenty values a
/// call: one group of the SHA-NI + AVX-512 kernel, or five of the four-way
/// one) next to its floor: two SHA-256 compressions per value at the rate
/// of the four-way kernel (`pseudonymize-batch/floor-2-sha256-blocks`: two
/// four-way compressions a call and nothing else; eight one-block
/// `compress256` calls where the CPU has no SHA extensions). Both are per
/// value, so the ratio of the two lines is the batch path's distance from
/// the floor (below 1 where the AVX-512 lanes add to the SHA unit); the
/// header names the path.
///
/// Sizes 8 and 16 only: values of up to 55 bytes take the interleaved path,
/// longer ones go one at a time through `pseudonymize` (the
/// `pseudonymize/*` lines).
fn batch_cases(key: &MasterKey, v: &mut Vec<Case>) -> anyhow::Result<()> {
    for size in [8, 16] {
        for enc in [Encoding::Hex, Encoding::Base64Url] {
            let p = Arc::new(Pseudonymizer::new(key, "bench", 16, enc)?);
            v.push(Case {
                name: format!("pseudonymize-batch/{enc}"),
                backend: "rustcrypto",
                input: value(size),
                per_call: 20,
                make: Box::new(move || {
                    let p = p.clone();
                    let mut out = [0u8; 20 * 32];
                    Box::new(move |x| {
                        p.pseudonymize_batch(&[x; 20], &mut out)
                            .map_or(0, |()| out.len())
                    })
                }),
            });
        }
    }
    v.push(Case {
        name: "pseudonymize-batch/floor-2-sha256-blocks".into(),
        backend: "rustcrypto",
        input: value(16),
        per_call: 4,
        make: Box::new(|| {
            Box::new(|x| {
                let mut block = [0u8; 64];
                let n = x.len().min(55);
                block[..n].copy_from_slice(&x[..n]);
                block[n] = 0x80;
                let st = two_blocks_four_way(&block);
                st.iter().map(|s| s[0] as usize & 1).sum::<usize>() + 1
            })
        }),
    });
    Ok(())
}

/// Eight one-block compressions: two four-way kernel calls where the CPU has
/// the x86 SHA extensions, four two-way ones on AArch64 with SHA2, else
/// eight `compress256` calls (HMAC's inner and outer hash of four values,
/// each outer block made from an inner state).
fn two_blocks_four_way(block: &[u8; 64]) -> [[u32; 8]; 4] {
    let iv = [
        0x6a09_e667,
        0xbb67_ae85,
        0x3c6e_f372,
        0xa54f_f53a,
        0x510e_527f,
        0x9b05_688c,
        0x1f83_d9ab,
        0x5be0_cd19,
    ];
    let again = |st: &[u32; 8]| {
        let mut b = [0u8; 64];
        for (c, w) in b.chunks_exact_mut(4).zip(st) {
            c.copy_from_slice(&w.to_be_bytes());
        }
        b[32] = 0x80;
        b
    };
    #[cfg(target_arch = "x86_64")]
    if let Some(ni) = deid::backend::shani::ShaNi::detect() {
        // Two independent four-way compressions: the kernel's own rate,
        // nothing between them.
        let st = ni.compress4(&iv, [block; 4]);
        let st2 = ni.compress4(&iv, [block; 4]);
        return core::array::from_fn(|i| core::array::from_fn(|j| st[i][j] ^ st2[i][j]));
    }
    #[cfg(target_arch = "aarch64")]
    if let Some(arm) = deid::backend::armsha2::Sha2Arm::detect() {
        // Four two-way compressions, as `mac4` runs two pairs of HMACs.
        let [a, b] = arm.compress2(&iv, [block; 2]);
        let [c, d] = arm.compress2(&iv, [block; 2]);
        let [e, f] = arm.compress2(&iv, [&again(&a), &again(&b)]);
        let [g, h] = arm.compress2(&iv, [&again(&c), &again(&d)]);
        return [e, f, g, h];
    }
    let one = |b: &[u8; 64]| {
        let mut st = iv;
        sha2::block_api::compress256(&mut st, core::slice::from_ref(b));
        st
    };
    let st = [one(block), one(block), one(block), one(block)];
    st.map(|s| one(&again(&s)))
}

/// Candidates each call of the hash-reversal worker scans.
const HASH_RUN: u128 = 10_000;

/// The hash-reversal inner loop of `deid audit hashes`, exactly: the
/// `kr-mobile` space's `01012345678` format enumerated in place, hashed
/// (four blocks at a time where the CPU allows) and looked up among
/// 110,000 target digests, in runs of 10,000 candidates a call. One
/// candidate of every run is a target, so each call finds exactly one.
fn hash_case(algo: Algorithm) -> anyhow::Result<Case> {
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
        keys.push(digest_key(&d[..n]));
    }
    let targets = Arc::new(TargetSet::new(keys));
    let space = Space::parse("010?d?d?d?d?d?d?d?d", (1950, 2005))?;
    let pattern = match &space.source {
        Source::Formats(formats) => formats.first().and_then(|f| f.patterns.first()),
        _ => None,
    }
    .context("the hash-reversal mask is not a pattern")?;
    let pattern = Arc::new(pattern.clone());
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
/// `cfg.threads > 1`, on `cfg.threads`, in that order. `progress(done,
/// total)` is called after each measurement.
pub fn run(
    cfg: &Config,
    progress: &mut dyn FnMut(usize, usize),
) -> anyhow::Result<Vec<CaseResult>> {
    let all = cases(&cfg.sizes)?;
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
    Ok(results)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn every_case_produces_output() {
        for c in cases(&SIZES).unwrap() {
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
        let names: Vec<String> = cases(&SIZES).unwrap().into_iter().map(|c| c.name).collect();
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
            "pseudonymize-batch/hex",
            "pseudonymize-batch/floor-2-sha256-blocks",
        ] {
            assert!(names.iter().any(|x| x == n), "missing {n}");
        }
        let c = cases(&SIZES).unwrap();
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
    fn filter_and_thread_passes() {
        let cfg = Config {
            budget_ms: 1,
            threads: 2,
            filter: Some("generalize/year".into()),
            sizes: SIZES.to_vec(),
        };
        let r = run(&cfg, &mut |_, _| {}).unwrap();
        assert_eq!(r.len(), 2);
        assert_eq!((r[0].threads, r[1].threads), (1, 2));
        assert!(
            r.iter()
                .all(|c| c.ops_per_s > 0.0 && c.name == "generalize/year")
        );
    }
}
