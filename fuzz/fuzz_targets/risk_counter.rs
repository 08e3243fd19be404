//! The audit risk parallel CSV class counter against the row-by-row one.
//!
//! Oracles: the chunked, hashed, partitioned counter (`csv_class_sizes`)
//! succeeds exactly when deid's row-by-row reader (`TableReader`, the same
//! grammar every command reads with) counts the file, and then finds the
//! same class sizes and record count on one and two threads; and whenever
//! it succeeds, the `csv` crate reads the same number of records.
#![no_main]

use deid::audit::risk::{ClassCounter, csv_class_sizes};
use deid::io::InputErrorKind;
use deid::io::table::{Format, Row, TableOptions, TableReader};
use libfuzzer_sys::fuzz_target;

/// Class sizes and rows as the row-by-row reader counts them; `None` when
/// it refuses the input.
fn row_by_row(input: &[u8], qi: &[usize]) -> Option<(Vec<u64>, u64)> {
    let mut t = match TableReader::from_reader(
        Box::new(std::io::Cursor::new(input.to_vec())),
        "fuzz",
        Format::Csv,
        &TableOptions::new(),
    ) {
        Ok(t) => t,
        Err(e) if matches!(e.kind(), InputErrorKind::Empty) => return Some((Vec::new(), 0)),
        Err(_) => return None,
    };
    if qi.iter().any(|&i| i >= t.columns().len()) {
        return None;
    }
    let mut counter = ClassCounter::new(qi.len(), false);
    let mut row = Row::new();
    loop {
        match t.read_row(&mut row) {
            Ok(true) => {
                let values: Vec<&[u8]> =
                    qi.iter().map(|&i| row.get(i).unwrap_or_default()).collect();
                counter.add(&values, None);
            }
            Ok(false) => break,
            Err(_) => return None,
        }
    }
    let mut sizes = counter.class_sizes();
    sizes.sort_unstable();
    Some((sizes, counter.rows()))
}

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
    let want = row_by_row(input, &qi);
    for threads in [1, 2] {
        let got = csv_class_sizes(&mut &input[..], b',', true, &qi, threads)
            .ok()
            .map(|(mut sizes, rows)| {
                sizes.sort_unstable();
                (sizes, rows)
            });
        assert_eq!(got, want, "parallel vs row by row ({threads} threads)");
        if let Some((_, rows)) = &got {
            let csv_rows = csv::ReaderBuilder::new()
                .has_headers(true)
                .flexible(true)
                .from_reader(input)
                .byte_records()
                .count() as u64;
            assert_eq!(*rows, csv_rows, "records, as the csv crate counts them");
        }
    }
});
