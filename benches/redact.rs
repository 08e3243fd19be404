//! `redact` throughput on the generated memo corpus, one thread, no I/O in
//! the timed loops: the detectors alone, then the whole transform with
//! pseudonyms (HMAC-SHA256 of each normalized identifier).
//!
//! `cargo bench --bench redact` generates 100,000 notes (`deid gen --memo`,
//! seed 1). With `REDACT_MEMO=FILE.csv` it reads the notes from the last
//! column of that file instead, and with `REDACT_DETECTIONS=FILE` it writes
//! what it found, one JSON line per row (`[["phone:KR",start,end],...]`,
//! byte offsets), for benches/redact_vs_presidio.sh to score against the
//! ground truth. Prints one JSON line of figures.

use std::hint::black_box;
use std::io::Write;
use std::time::Instant;

use deid::detect::Detectors;
use deid::transform::redact::{Redactor, Replace};
use deid::{Encoding, MasterKey};

fn main() {
    let memos: Vec<String> = match std::env::var("REDACT_MEMO") {
        Ok(path) => {
            let mut rdr = csv::Reader::from_path(path).expect("memo CSV");
            rdr.records()
                .map(|r| {
                    r.expect("CSV record")
                        .iter()
                        .next_back()
                        .unwrap_or("")
                        .to_string()
                })
                .collect()
        }
        Err(_) => {
            let g = deid::synth::Generator::new(1).memo(true);
            (0..100_000).map(|i| g.memo_of(i).text).collect()
        }
    };
    let bytes: usize = memos.iter().map(String::len).sum();
    let detectors = Detectors::all();

    // Detection only (best of 3).
    let mut detect_s = f64::MAX;
    let mut found = 0u64;
    for _ in 0..3 {
        let t = Instant::now();
        found = 0;
        for m in &memos {
            detectors.scan(m, |d| {
                black_box(d);
                found += 1;
            });
        }
        detect_s = detect_s.min(t.elapsed().as_secs_f64());
    }

    // The whole transform, pseudonyms (best of 3).
    let key = MasterKey::from_bytes(1, [7u8; 32]);
    let r = Redactor::new(
        &key,
        "memo",
        detectors,
        Replace::Pseudonym,
        16,
        Encoding::Hex,
    )
    .expect("redactor");
    let mut out = Vec::with_capacity(4096);
    let mut redact_s = f64::MAX;
    for _ in 0..3 {
        let t = Instant::now();
        for m in &memos {
            out.clear();
            r.redact(m.as_bytes(), &mut out).expect("redact");
            black_box(&out);
        }
        redact_s = redact_s.min(t.elapsed().as_secs_f64());
    }

    if let Ok(path) = std::env::var("REDACT_DETECTIONS") {
        let mut f = std::io::BufWriter::new(std::fs::File::create(path).expect("detections file"));
        for m in &memos {
            let mut row = Vec::new();
            detectors.scan(m, |d| row.push((d.kind.name(), d.start, d.end)));
            serde_json::to_writer(&mut f, &row).expect("write");
            f.write_all(b"\n").expect("write");
        }
    }
    let n = memos.len() as f64;
    println!(
        "{}",
        serde_json::json!({
            "values": memos.len(),
            "bytes": bytes,
            "identifiers": found,
            "detect_seconds": detect_s,
            "detect_values_per_s": n / detect_s,
            "detect_mb_per_s": bytes as f64 / 1e6 / detect_s,
            "redact_seconds": redact_s,
            "redact_values_per_s": n / redact_s,
            "redact_mb_per_s": bytes as f64 / 1e6 / redact_s,
        })
    );
}
