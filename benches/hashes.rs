//! Criterion benchmark of the hash-reversal loop: 1 million SHA-256 digests
//! of random 010 numbers (a quarter in each of the four kr-mobile formats)
//! as targets, and a 10^6-candidate slice of each format searched against
//! them, one thread and all threads. MD5 and SHA-1 likewise.
//!
//! `cargo bench --bench hashes`

use std::sync::atomic::{AtomicBool, AtomicU64};

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use deid::audit::hashes::search::{TargetSet, search};
use deid::audit::hashes::{Algorithm, Construction, Space, algo::digest_key};

const FORMATS: [(&str, &str); 4] = [
    ("01012345678", "01012?d?d?d?d?d?d"),
    ("010-1234-5678", "010-12?d?d-?d?d?d?d"),
    ("+821012345678", "+821012?d?d?d?d?d?d"),
    ("821012345678", "821012?d?d?d?d?d?d"),
];

fn targets(algo: Algorithm) -> TargetSet {
    let mut x = 0x1234_5678_9abc_def0u64;
    let mut keys = Vec::with_capacity(1_000_000);
    let mut out = [0u8; 64];
    for i in 0..1_000_000u64 {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        let n = x % 100_000_000;
        let s = match i % 4 {
            0 => format!("010{n:08}"),
            1 => format!("010-{:04}-{:04}", n / 10_000, n % 10_000),
            2 => format!("+8210{n:08}"),
            _ => format!("8210{n:08}"),
        };
        let len = algo.hash(s.as_bytes(), &mut out);
        keys.push(digest_key(&out[..len]));
    }
    TargetSet::new(keys)
}

fn reversal(c: &mut Criterion) {
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    for algo in [Algorithm::Sha256, Algorithm::Md5, Algorithm::Sha1] {
        let t = targets(algo);
        let mut g = c.benchmark_group(format!("reverse/{}", algo.name()));
        g.throughput(Throughput::Elements(1_000_000));
        g.sample_size(10);
        for (name, mask) in FORMATS {
            let space = Space::parse(mask, (1950, 2005)).unwrap();
            for th in [1, threads] {
                g.bench_with_input(
                    BenchmarkId::new(name, format!("{th}-threads")),
                    &space,
                    |b, space| {
                        b.iter(|| {
                            let mut found = Default::default();
                            search(
                                &t,
                                space,
                                &[algo],
                                &Construction::Plain,
                                th,
                                &AtomicU64::new(0),
                                &AtomicBool::new(false),
                                &mut found,
                            )
                            .len()
                        })
                    },
                );
            }
            if algo != Algorithm::Sha256 {
                break; // one format is enough for MD5 and SHA-1
            }
        }
        g.finish();
    }
}

criterion_group!(benches, reversal);
criterion_main!(benches);
