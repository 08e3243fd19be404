//! The audit report's claims file parser.
//!
//! Oracles: no panic; accepted claims written back as TOML read back to the
//! same claims.
#![no_main]

use deid::audit::report::Claims;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(claims) = Claims::from_toml(text) else {
        return;
    };
    let Ok(written) = toml::to_string(&claims) else {
        return;
    };
    let again = Claims::from_toml(&written).expect("written claims read back");
    // NaN compares unequal: compare the JSON forms, where NaN is null.
    assert_eq!(
        serde_json::to_string(&again).unwrap(),
        serde_json::to_string(&claims).unwrap(),
        "claims changed in a round trip"
    );
});
