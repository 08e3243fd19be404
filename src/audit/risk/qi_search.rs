//! The search for the column combinations that single people out.

use std::string::String;
use std::vec::Vec;

use rustc_hash::FxHashMap;

use super::QiCombination;

/// Ranks the combinations of up to `max` of `columns` (given as per-row
/// value ids) by the records they make unique.
pub fn find_qi(names: &[String], columns: &[Vec<u32>], max: usize) -> Vec<QiCombination> {
    find_qi_counting(names, columns, max, &core::sync::atomic::AtomicU64::new(0))
}

/// [`find_qi`], adding one to `done` per combination ranked (for progress).
pub fn find_qi_counting(
    names: &[String],
    columns: &[Vec<u32>],
    max: usize,
    done: &core::sync::atomic::AtomicU64,
) -> Vec<QiCombination> {
    let rows = columns.first().map_or(0, Vec::len);
    let mut out = Vec::new();
    let n = names.len();
    let mut combos: Vec<Vec<usize>> = (0..n).map(|i| vec![i]).collect();
    let mut frontier = combos.clone();
    for _ in 1..max.min(n) {
        let mut next = Vec::new();
        for c in &frontier {
            for j in c.last().map_or(0, |l| l + 1)..n {
                let mut d = c.clone();
                d.push(j);
                next.push(d);
            }
        }
        combos.extend(next.iter().cloned());
        frontier = next;
    }
    for combo in combos {
        done.fetch_add(1, core::sync::atomic::Ordering::Relaxed);
        let mut counts: FxHashMap<Vec<u32>, u32> = FxHashMap::default();
        #[allow(clippy::needless_range_loop)] // one row across several columns
        for r in 0..rows {
            *counts
                .entry(combo.iter().map(|&c| columns[c][r]).collect())
                .or_default() += 1;
        }
        let unique = counts.values().filter(|&&c| c == 1).count() as u64;
        out.push(QiCombination {
            columns: combo.iter().map(|&c| names[c].clone()).collect(),
            unique_records: unique,
            unique_share: if rows == 0 {
                0.0
            } else {
                unique as f64 / rows as f64
            },
            classes: counts.len() as u64,
        });
    }
    out.sort_by(|a, b| {
        b.unique_records
            .cmp(&a.unique_records)
            .then(a.columns.len().cmp(&b.columns.len()))
    });
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::string::String;
    use std::vec::Vec;

    #[test]
    fn find_qi_ranks_by_uniques() {
        let names: Vec<String> = ["id", "sex", "zip"].map(String::from).to_vec();
        let cols = vec![vec![0, 1, 2, 3], vec![0, 0, 1, 1], vec![0, 1, 0, 0]];
        let r = find_qi(&names, &cols, 2);
        assert_eq!(r[0].columns, ["id"]);
        assert_eq!(r[0].unique_records, 4);
        let sz = r.iter().find(|c| c.columns == ["sex", "zip"]).unwrap();
        assert_eq!(sz.unique_records, 2); // (0,0) (0,1) unique; (1,0)×2
    }
}
