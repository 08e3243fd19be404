//! The hash audit's candidate spaces and digest column detection.
//!
//! Oracles: no panic; a mask's candidates enumerated one by one (`next`)
//! are the candidates reached directly (`seek`), all distinct, and as many
//! as `size` says; a parsed space has a size; digest detection counts every
//! value once (empty, malformed or a digest) and names an encoding only
//! with a digest length.
#![no_main]

use std::sync::atomic::AtomicU64;

use deid::audit::hashes::space::{Space, mask};
use deid::audit::hashes::{AuditOptions, ColumnTargets, audit};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&sel, rest)) = data.split_first() else {
        return;
    };
    let text = String::from_utf8_lossy(rest);
    if sel & 1 == 0 {
        let line = text.lines().next().unwrap_or("");
        let born = (1900 + i32::from(sel >> 1), 1900 + i32::from(sel));
        if let Ok(space) = Space::parse(line, born) {
            let _ = space.size();
        }
        if let Ok(p) = mask(line) {
            let size = p.size();
            if size <= 2000 {
                let mut out = p.template.clone();
                let mut odo = vec![0u8; p.vars.len()];
                p.seek(0, &mut out, &mut odo);
                let mut seen = std::collections::HashSet::new();
                let mut i = 0u128;
                loop {
                    let mut direct = p.template.clone();
                    let mut odo2 = vec![0u8; p.vars.len()];
                    p.seek(i, &mut direct, &mut odo2);
                    assert_eq!(direct, out, "seek({i}) != {i} x next()");
                    assert!(seen.insert(out.clone()), "candidate {i} repeats");
                    i += 1;
                    if !p.next(&mut out, &mut odo) {
                        break;
                    }
                }
                assert_eq!(i, size, "enumerated count != size()");
            }
        }
    } else {
        let mut t = ColumnTargets::new("phone_sha256");
        let mut n = 0u64;
        for line in rest.split(|&b| b == b'\n') {
            t.push(line);
            n += 1;
        }
        let opts = AuditOptions {
            spaces: vec![Space::parse("?d?d", (1950, 2005)).unwrap()],
            threads: 1,
            ..AuditOptions::default()
        };
        let r = audit(t.finish(), &opts, &AtomicU64::new(0));
        assert_eq!(r.values + r.empty, n, "every value counted once");
        assert!(r.malformed <= r.values);
        assert!(r.reversed_rows <= r.values);
        if r.encoding.is_some() {
            assert!(
                r.digest_bytes.is_some(),
                "an encoding without a digest length"
            );
        }
    }
});
