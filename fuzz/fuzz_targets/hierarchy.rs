//! The hierarchies of `deid anonymize` and of `generalize` rules with
//! `hierarchy` / `level`: ARX CSV hierarchy files and built-in rule
//! strings, both from arbitrary bytes, then arbitrary values labelled at
//! arbitrary levels.
//!
//! Oracles: no panic; a file that parses labels each of its own values at
//! every level below its height with that row's cell, and refuses the level
//! at its height.
#![no_main]

use std::path::Path;

use deid::anonymize::hierarchy::{Hierarchy, HierarchyFile, HierarchySpec};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    let mut out = Vec::new();
    if mode & 1 == 0 {
        // A built-in rule string, then a value and a level.
        let (spec, value) = match rest.iter().position(|&b| b == 0) {
            Some(i) => (&rest[..i], &rest[i + 1..]),
            None => (rest, &[][..]),
        };
        let Ok(spec) = String::from_utf8_lossy(spec).parse::<HierarchySpec>() else {
            return;
        };
        if matches!(spec, HierarchySpec::File { .. }) {
            return;
        }
        let h = Hierarchy::Builtin(spec);
        let _ = h.label(value, usize::from(mode >> 1) % 12, &mut out);
    } else {
        // An ARX hierarchy file (`;`-separated), then each of its values.
        let Ok(file) = HierarchyFile::parse(Path::new("fuzz.csv"), rest, b';') else {
            return;
        };
        let height = file.height();
        let h = Hierarchy::File(file.clone());
        for line in rest.split(|&b| b == b'\n').take(64) {
            let line = line.strip_suffix(b"\r").unwrap_or(line);
            let value = line.split(|&b| b == b';').next().unwrap_or_default();
            if h.label(value, 0, &mut out).is_err() {
                continue;
            }
            for level in 0..height {
                assert!(h.label(value, level, &mut out).is_ok());
            }
            assert!(h.label(value, height, &mut out).is_err());
        }
    }
});
