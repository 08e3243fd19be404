//! `Keyset::from_json` on arbitrary text.
//!
//! Oracles: no panic; an accepted keyset has its primary key among its
//! keys, and writing it and reading it back gives the same ids, the same
//! primary and the same derived subkeys.
#![no_main]

use deid::Purpose;
use deid::key::Keyset;
use libfuzzer_sys::fuzz_target;

fn fingerprint(k: &Keyset) -> Vec<(u32, [u8; 32])> {
    k.ids()
        .map(|id| {
            let mut out = [0u8; 32];
            k.get(id)
                .expect("a listed id resolves")
                .derive(Purpose::Pseudonym, "fuzz", &mut out)
                .expect("32-byte subkeys derive");
            (id, out)
        })
        .collect()
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(keys) = Keyset::from_json(text) else {
        return;
    };
    let primary = keys.primary().id();
    assert!(
        keys.get(primary).is_some(),
        "the primary key is in the keyset"
    );
    let json = keys.to_json();
    let again = Keyset::from_json(&json).expect("a written keyset reads back");
    assert_eq!(again.primary().id(), primary);
    assert_eq!(
        fingerprint(&again),
        fingerprint(&keys),
        "same keys after a round trip"
    );
});
