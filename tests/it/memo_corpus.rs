//! The generated memo corpus (src/synth/memo.rs) against the detectors
//! (src/detect.rs): recall 1.0 on the planted structured identifiers and
//! precision at least 0.99, span for span and type for type; and the corpus
//! itself: planted at the documented rate, decoys present.
#![cfg(feature = "std")]

use std::collections::BTreeMap;

use deid::detect::Detectors;
use deid::synth::Generator;

#[test]
fn detectors_find_every_planted_identifier_and_little_else() {
    let g = Generator::new(20_240_601).memo(true);
    let (mut tp, mut fp, mut fn_) = (0u64, 0u64, 0u64);
    let mut per_type: BTreeMap<&str, (u64, u64, u64)> = BTreeMap::new();
    let mut misses = Vec::new();
    for i in 0..20_000 {
        let m = g.memo_of(i);
        let mut found = Vec::new();
        Detectors::all().scan(&m.text, |d| found.push((d.kind.name(), d.start, d.end)));
        for s in &m.spans {
            let hit = found.contains(&(s.kind, s.start, s.end));
            let e = per_type.entry(s.kind).or_default();
            if hit {
                tp += 1;
                e.0 += 1;
            } else {
                fn_ += 1;
                e.2 += 1;
                misses.push(format!("missed {} in {:?}", s.kind, m.text));
            }
        }
        for f in &found {
            if !m.spans.iter().any(|s| (s.kind, s.start, s.end) == *f) {
                fp += 1;
                per_type.entry(f.0).or_default().1 += 1;
                misses.push(format!(
                    "false {} {:?} in {:?}",
                    f.0,
                    &m.text[f.1..f.2],
                    m.text
                ));
            }
        }
    }
    let precision = tp as f64 / (tp + fp) as f64;
    let recall = tp as f64 / (tp + fn_) as f64;
    eprintln!("tp {tp} fp {fp} fn {fn_} precision {precision:.4} recall {recall:.4}");
    eprintln!("per type (tp, fp, fn): {per_type:?}");
    for m in misses.iter().take(20) {
        eprintln!("{m}");
    }
    assert!(tp > 10_000, "the corpus plants identifiers");
    assert_eq!(fn_, 0, "recall 1.0");
    assert!(precision >= 0.99, "precision {precision}");
    // Every detector type is planted.
    assert!(per_type.len() >= 11, "{per_type:?}");
}

#[test]
fn the_corpus_is_shaped_as_documented() {
    let g = Generator::new(5).memo(true);
    let (mut sentences_with, mut notes) = (0u64, 0u64);
    let mut decoys = 0;
    for i in 0..5000 {
        let m = g.memo_of(i);
        notes += 1;
        sentences_with += m.spans.len() as u64;
        assert!(!m.text.contains('"') && !m.text.contains('\n'));
        for s in &m.spans {
            assert!(m.text.is_char_boundary(s.start) && m.text.is_char_boundary(s.end));
        }
        if m.text.contains("주문번호") || m.text.contains("운송장") || m.text.contains("접수번호")
        {
            decoys += 1;
        }
        assert_eq!(m, g.memo_of(i), "a pure function of seed and index");
    }
    let per_note = sentences_with as f64 / notes as f64;
    assert!((1.0..2.0).contains(&per_note), "{per_note}");
    assert!(decoys > 500);
    // The other columns do not change with --memo.
    let plain = Generator::new(5);
    let mut a = Vec::new();
    let mut b = Vec::new();
    plain
        .write(50, deid::io::table::Format::Csv, &mut a, 1)
        .unwrap();
    g.write(50, deid::io::table::Format::Csv, &mut b, 2)
        .unwrap();
    let (a, b) = (String::from_utf8(a).unwrap(), String::from_utf8(b).unwrap());
    for (x, y) in a.lines().zip(b.lines()) {
        assert!(y.starts_with(x), "{x} / {y}");
    }
    let mut rdr = csv::Reader::from_reader(b.as_bytes());
    assert_eq!(rdr.headers().unwrap().iter().next_back(), Some("memo"));
    for (i, rec) in rdr.records().enumerate() {
        assert_eq!(
            rec.unwrap().iter().next_back().unwrap(),
            g.memo_of(i as u64).text
        );
    }
    let mut truth = Vec::new();
    g.write_memo_truth(3, &mut truth).unwrap();
    let truth = String::from_utf8(truth).unwrap();
    assert_eq!(truth.lines().count(), 3);
    let first: serde_json::Value = serde_json::from_str(truth.lines().next().unwrap()).unwrap();
    assert_eq!(first["row"], 1);
    assert_eq!(
        first["spans"].as_array().unwrap().len(),
        g.memo_of(0).spans.len()
    );
}
