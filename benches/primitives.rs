//! Criterion benchmarks of the core primitives: ns per value for each
//! transform, both backends where there are two, 16- and 64-byte inputs.
//!
//! `cargo bench --bench primitives` (add `-- --quick` for a short run).

use std::hint::black_box;

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use deid::MasterKey;
use deid::backend::Backend;
use deid::date::Date;
use deid::encoding::Encoding;
use deid::normalize::Normalizer;
use deid::transform::Transform;
use deid::transform::dateshift::DateShifter;
use deid::transform::encrypt::{DeterministicCipher, RandomizedCipher};
use deid::transform::fpe::Ff1Digits;
use deid::transform::generalize::Generalization;
use deid::transform::mask::Mask;
use deid::transform::pseudonym::Pseudonymizer;

fn key() -> MasterKey {
    MasterKey::from_bytes(1, [7; 32])
}

/// A fast deterministic RNG so nonce generation does not dominate (the CLI
/// uses a buffered OS source, benchmarked as `gcm/os-rng`).
struct BenchRng(u64);
impl rand_core::TryRng for BenchRng {
    type Error = core::convert::Infallible;
    fn try_next_u32(&mut self) -> Result<u32, Self::Error> {
        Ok(self.try_next_u64()? as u32)
    }
    fn try_next_u64(&mut self) -> Result<u64, Self::Error> {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        Ok(self.0)
    }
    fn try_fill_bytes(&mut self, d: &mut [u8]) -> Result<(), Self::Error> {
        for c in d.chunks_mut(8) {
            let v = self.try_next_u64()?.to_le_bytes();
            c.copy_from_slice(&v[..c.len()]);
        }
        Ok(())
    }
}
impl rand_core::TryCryptoRng for BenchRng {}

fn pseudonymize(c: &mut Criterion) {
    let mut g = c.benchmark_group("pseudonymize");
    for size in [16usize, 64] {
        let value = vec![b'7'; size];
        g.throughput(Throughput::Bytes(size as u64));
        for backend in Backend::available() {
            for enc in [Encoding::Hex, Encoding::Base32, Encoding::Base64Url] {
                let p = Pseudonymizer::with_backend(*backend, &key(), "customer-phone", 16, enc)
                    .unwrap();
                let mut out = [0u8; 64];
                g.bench_with_input(
                    BenchmarkId::new(format!("{backend}/{enc}"), size),
                    &value,
                    |b, v| b.iter(|| p.pseudonymize(black_box(v), &mut out).map(str::len)),
                );
            }
        }
    }
    g.finish();
}

fn encrypt(c: &mut Criterion) {
    let mut g = c.benchmark_group("encrypt");
    for size in [16usize, 32, 64] {
        let value = vec![b'a'; size];
        g.throughput(Throughput::Bytes(size as u64));
        let mut out = [0u8; 256];
        let siv = DeterministicCipher::new(&key(), "email").unwrap();
        g.bench_with_input(
            BenchmarkId::new("deterministic/aes-siv", size),
            &value,
            // As the pipelines call it: the token as bytes.
            |b, v| b.iter(|| siv.apply(black_box(v), &mut out).map(<[u8]>::len)),
        );
        let token = siv.encrypt(&value, &mut [0u8; 256]).unwrap().to_owned();
        g.bench_with_input(
            BenchmarkId::new("deterministic/decrypt", size),
            &token,
            |b, t| {
                b.iter(|| {
                    siv.decrypt(black_box(t.as_bytes()), &mut out)
                        .map(<[u8]>::len)
                })
            },
        );
        for backend in Backend::available() {
            let gcm = RandomizedCipher::with_backend(*backend, &key(), "email").unwrap();
            let mut rng = BenchRng(1);
            g.bench_with_input(
                BenchmarkId::new(format!("randomized/{backend}"), size),
                &value,
                |b, v| b.iter(|| gcm.encrypt(&mut rng, black_box(v), &mut out).map(str::len)),
            );
            let token = gcm
                .encrypt(&mut rng, &value, &mut [0u8; 256])
                .unwrap()
                .to_owned();
            g.bench_with_input(
                BenchmarkId::new(format!("randomized-decrypt/{backend}"), size),
                &token,
                |b, t| {
                    b.iter(|| {
                        gcm.decrypt(black_box(t.as_bytes()), &mut out)
                            .map(<[u8]>::len)
                    })
                },
            );
        }
        let gcm = RandomizedCipher::new(&key(), "email").unwrap();
        let mut os = deid::io::rng::BufferedOsRng::default();
        g.bench_with_input(
            BenchmarkId::new("randomized/os-rng", size),
            &value,
            |b, v| b.iter(|| gcm.encrypt(&mut os, black_box(v), &mut out).map(str::len)),
        );
    }
    g.finish();
}

fn fpe(c: &mut Criterion) {
    let mut g = c.benchmark_group("fpe");
    let f = Ff1Digits::new(&key(), "phone").unwrap();
    let mut out = [0u8; 64];
    for v in ["010-1234-5678", "4111-1111-1111-1111"] {
        g.throughput(Throughput::Bytes(v.len() as u64));
        g.bench_with_input(BenchmarkId::new("ff1", v.len()), v, |b, v| {
            b.iter(|| f.encrypt(black_box(v.as_bytes()), &mut out).map(str::len))
        });
    }
    g.finish();
}

fn others(c: &mut Criterion) {
    let mut g = c.benchmark_group("other");
    let mut out = [0u8; 128];
    let phone: Normalizer = "phone:KR".parse().unwrap();
    g.bench_function("normalize/phone:KR", |b| {
        b.iter(|| {
            phone
                .apply(black_box(b"010-1234-5678"), &mut out)
                .map(<[u8]>::len)
        })
    });
    // An address as most come (16 to 32 bytes, nothing to trim), and one
    // with spaces around it, which takes the general path.
    g.bench_function("normalize/email", |b| {
        b.iter(|| {
            Normalizer::Email
                .apply(black_box(b"Ada.Lovelace@Example.com"), &mut out)
                .map(<[u8]>::len)
        })
    });
    g.bench_function("normalize/email (trimmed)", |b| {
        b.iter(|| {
            Normalizer::Email
                .apply(black_box(b" Ada.Lovelace@Example.com "), &mut out)
                .map(<[u8]>::len)
        })
    });
    g.bench_function("generalize/year", |b| {
        b.iter(|| {
            Generalization::Year
                .apply(black_box(b"1990-07-15"), &mut out)
                .map(<[u8]>::len)
        })
    });
    let band = Generalization::AgeBand {
        width: 10,
        as_of: Date::new(2025, 1, 1).unwrap(),
    };
    g.bench_function("generalize/age-band", |b| {
        b.iter(|| {
            band.apply(black_box(b"1990-07-15"), &mut out)
                .map(<[u8]>::len)
        })
    });
    g.bench_function("generalize/prefix", |b| {
        b.iter(|| {
            Generalization::Prefix { keep: 3 }
                .apply(black_box(b"04524"), &mut out)
                .map(<[u8]>::len)
        })
    });
    g.bench_function("mask", |b| {
        b.iter(|| {
            Mask::default()
                .apply(black_box(b"4111111111111111"), &mut out)
                .map(<[u8]>::len)
        })
    });
    let shift = DateShifter::new(&key(), "signup_date", 30).unwrap();
    g.bench_function("dateshift", |b| {
        b.iter(|| {
            shift
                .shift(black_box(b"2024-03-01"), black_box(b"C000000001"), &mut out)
                .map(<[u8]>::len)
        })
    });
    g.bench_function("setup/pseudonymizer", |b| {
        b.iter(|| {
            Pseudonymizer::new(&key(), black_box("customer-phone"), 16, Encoding::Hex)
                .map(|p| p.output_len())
        })
    });
    g.finish();
}

/// Free text: the detectors alone and `redact` with pseudonyms, on one
/// generated customer-service note (src/synth/memo.rs) holding identifiers.
fn redact(c: &mut Criterion) {
    use deid::detect::Detectors;
    use deid::transform::redact::{Redactor, Replace};
    let g = deid::synth::Generator::new(1).memo(true);
    let note = (0..)
        .map(|i| g.memo_of(i))
        .find(|m| m.spans.len() >= 2)
        .map(|m| m.text)
        .unwrap_or_default();
    let mut group = c.benchmark_group("redact");
    group.throughput(Throughput::Bytes(note.len() as u64));
    group.bench_function("detect", |b| {
        b.iter(|| {
            let mut n = 0;
            Detectors::all().scan(black_box(&note), |_| n += 1);
            n
        })
    });
    let r = Redactor::new(
        &key(),
        "memo",
        Detectors::all(),
        Replace::Pseudonym,
        16,
        Encoding::Hex,
    )
    .unwrap();
    let mut out = Vec::with_capacity(1024);
    group.bench_function("pseudonym", |b| {
        b.iter(|| {
            out.clear();
            r.redact(black_box(note.as_bytes()), &mut out).map(|c| c[0])
        })
    });
    group.finish();
}

criterion_group!(benches, pseudonymize, encrypt, fpe, others, redact);
criterion_main!(benches);
