//! The audit risk parallel CSV class counter against the row-by-row one.
//!
//! Oracles: the chunked, hashed, partitioned counter (`csv_class_sizes`)
//! finds the same class sizes and record count on one and two threads as a
//! `ClassCounter` fed the records the `csv` crate reads; it fails only on
//! input the row-by-row reading also cannot count (a short row).
#![no_main]

use deid::audit::risk::{ClassCounter, csv_class_sizes};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&sel, input)) = data.split_first() else {
        return;
    };
    let qi: Vec<usize> = match sel % 4 {
        0 => vec![0],
        1 => vec![1],
        2 => vec![0, 1],
        _ => vec![1, 0, 2],
    };
    // Row by row, as the csv crate reads the file.
    let mut rdr = csv::ReaderBuilder::new()
        .has_headers(true)
        .flexible(true)
        .from_reader(input);
    let mut expected = ClassCounter::new(qi.len(), false);
    let mut short = false;
    for rec in rdr.byte_records() {
        let Ok(rec) = rec else {
            return;
        };
        let Some(values) = qi
            .iter()
            .map(|&i| rec.get(i))
            .collect::<Option<Vec<&[u8]>>>()
        else {
            short = true;
            break;
        };
        expected.add(&values, None);
    }
    let mut want = expected.class_sizes();
    want.sort_unstable();
    for threads in [1, 2] {
        match csv_class_sizes(&mut &input[..], b',', true, &qi, threads) {
            Ok((mut sizes, rows)) => {
                assert!(
                    !short,
                    "counted a file with a row too short for the quasi-identifiers"
                );
                sizes.sort_unstable();
                assert_eq!(rows, expected.rows(), "records counted ({threads} threads)");
                assert_eq!(sizes, want, "class sizes ({threads} threads)");
            }
            Err(_) => assert!(
                short,
                "failed on a file the csv crate reads ({threads} threads)"
            ),
        }
    }
});
