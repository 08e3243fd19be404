//! Where the time of an Arrow `apply` goes (the path `deid.apply` in
//! Python and `deid apply` on Parquet take): one `pseudonymize` column of
//! 1,000,000 Korean mobile numbers (`010-XXXX-XXXX`, as `deid gen` writes
//! them), in 32,768-row slices as the Python package cuts a table.
//!
//! `cargo bench --bench arrow_apply`
//!
//! Prints, per row: the `phone:KR` normalizer alone; the pseudonyms of
//! already-normalized values (`PseudonymBatch`, no Arrow); and
//! `BatchTransformer::transform` with and without the normalizer, on one
//! thread and on every core (rayon over the slices). Each figure is the
//! best of several runs, as the machine is shared.
//!
//! Without `--bench` (as `cargo test --all-targets` runs it) it is a smoke
//! test: 20,000 rows, one run each, figures not meant to be read.

use std::hint::black_box;
use std::sync::Arc;
use std::time::Instant;

use arrow_array::{ArrayRef, RecordBatch, StringArray};
use deid::arrow::BatchTransformer;
use deid::field::{FieldProcessor, PseudonymBatch, Scratch};
use deid::normalize::Normalizer;
use deid::policy::Direction;
use deid::transform::FieldSpec;
use deid::{Keyset, MasterKey, Policy};
use rayon::prelude::*;

const SLICE: usize = 32 * 1024;

fn phones(rows: usize) -> Vec<String> {
    let mut s: u64 = 5;
    let mut next = || {
        s = s
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        (s >> 33) % 10_000
    };
    (0..rows)
        .map(|_| format!("010-{:04}-{:04}", next(), next()))
        .collect()
}

/// Best of `runs` timings of `f` over `rows` rows, in ns per row.
fn best(runs: usize, rows: usize, mut f: impl FnMut()) -> f64 {
    (0..runs)
        .map(|_| {
            let t = Instant::now();
            f();
            t.elapsed().as_nanos() as f64 / rows as f64
        })
        .fold(f64::INFINITY, f64::min)
}

fn slices(values: &[String]) -> Vec<RecordBatch> {
    let col: ArrayRef = Arc::new(StringArray::from_iter_values(values));
    let batch = RecordBatch::try_from_iter([("phone", col)]).expect("one column");
    let rows = values.len();
    (0..rows)
        .step_by(SLICE)
        .map(|o| batch.slice(o, SLICE.min(rows - o)))
        .collect()
}

fn main() {
    // `cargo bench` passes `--bench`; `cargo test` runs a smoke test.
    let (rows, runs) = if std::env::args().any(|a| a == "--bench") {
        (1_000_000, 5)
    } else {
        (20_000, 1)
    };
    let keys = Keyset::from_keys(vec![MasterKey::from_bytes(1, [7; 32])]).expect("one key");
    let with = "version = 1\n[fields.phone]\nnormalize = [\"phone:KR\"]\ntransform = \"pseudonymize\"\ncontext = \"customer-phone\"\n";
    let without = with.replace("normalize = [\"phone:KR\"]\n", "");
    let raw = phones(rows);
    let e164: Vec<String> = raw
        .iter()
        .map(|p| format!("+82{}", p[1..].replace('-', "")))
        .collect();

    let kr: Normalizer = "phone:KR".parse().expect("a normalizer");
    let mut out = [0u8; 64];
    let t_norm = best(runs, rows, || {
        for v in &raw {
            black_box(
                kr.apply(black_box(v.as_bytes()), &mut out)
                    .map(<[u8]>::len)
                    .ok(),
            );
        }
    });

    let spec: FieldSpec =
        serde_json::from_str(r#"{"transform": "pseudonymize", "context": "customer-phone"}"#)
            .expect("a spec");
    let field = FieldProcessor::new("phone", &spec, &keys).expect("a field");
    let (mut scratch, mut pb) = (Scratch::default(), PseudonymBatch::default());
    let t_mac = best(runs, rows, || {
        for chunk in e164.chunks(SLICE) {
            pb.clear();
            for v in chunk {
                let _ = pb.push(&field, v.as_bytes(), &mut scratch);
            }
            pb.compute(&field).expect("pseudonymize");
            black_box(pb.get(0));
        }
    });

    let mut lines = vec![
        ("phone:KR normalizer alone".to_owned(), t_norm),
        (
            "PseudonymBatch push + compute (E.164 input)".to_owned(),
            t_mac,
        ),
    ];
    for (name, text, data) in [
        ("phone:KR + pseudonymize", with, &raw),
        ("pseudonymize (E.164 input)", without.as_str(), &e164),
    ] {
        let policy = Policy::from_toml(text).expect("a policy");
        let batches = slices(data);
        let t = BatchTransformer::new(&policy, &keys, batches[0].schema(), Direction::Apply)
            .expect("binds");
        let one = best(runs, rows, || {
            for (i, b) in batches.iter().enumerate() {
                black_box(t.transform(b, (i * SLICE) as u64).expect("transforms"));
            }
        });
        let all = best(runs, rows, || {
            let out: Vec<_> = batches
                .par_iter()
                .enumerate()
                .map(|(i, b)| t.transform(b, (i * SLICE) as u64).expect("transforms"))
                .collect();
            black_box(out);
        });
        lines.push((format!("BatchTransformer, {name}, 1 thread"), one));
        lines.push((
            format!(
                "BatchTransformer, {name}, {} threads",
                rayon::current_num_threads()
            ),
            all,
        ));
    }
    println!("{rows} rows, slices of {SLICE}");
    println!("{:<60} {:>8} {:>12}", "case", "ns/row", "M rows/s");
    for (name, ns) in lines {
        println!("{name:<60} {ns:>8.1} {:>12.2}", 1e3 / ns);
    }
}
