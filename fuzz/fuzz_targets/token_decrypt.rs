//! Token decoding and decryption with a known keyset.
//!
//! Oracles: decrypting arbitrary text is an error or a value, never a panic;
//! apply then decrypt gives the value back for deterministic and randomized
//! encryption and for FF1 (when the value is in its domain); deterministic
//! outputs repeat; a token with one byte changed does not open to the value.
#![no_main]

use deid::field::{FieldProcessor, Scratch};
use deid::transform::encrypt::{OsRng, token_key_id};
use deid::transform::{EmptyRule, EncryptMode, FieldSpec, TransformSpec};
use deid_fuzz::keys;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&mode, value)) = data.split_first() else {
        return;
    };
    let keys = keys();
    let transform = match mode % 3 {
        0 => TransformSpec::Encrypt {
            mode: EncryptMode::Deterministic,
        },
        1 => TransformSpec::Encrypt {
            mode: EncryptMode::Randomized,
        },
        _ => TransformSpec::Fpe,
    };
    let mut spec = FieldSpec::new(transform);
    if mode & 0x80 != 0 {
        spec.empty = EmptyRule::Transform;
    }
    if mode & 0x40 != 0 {
        spec.context = Some("fuzz-context".into());
    }
    let p = FieldProcessor::new("col", &spec, &keys).expect("the field compiles");
    let mut scratch = Scratch::default();
    let (mut out, mut back) = (Vec::new(), Vec::new());

    // Arbitrary bytes as a token.
    let _ = token_key_id(value);
    let _ = p.reverse(value, &mut scratch, &mut back);

    // Round trip.
    if p.transform(value, None, &mut OsRng, &mut scratch, &mut out)
        .is_err()
    {
        return;
    }
    let token = out.clone();
    back.clear();
    p.reverse(&token, &mut scratch, &mut back)
        .expect("a token this field wrote opens");
    assert!(back == value, "decrypt(apply(v)) != v");
    if mode % 3 != 1 {
        let mut again = Vec::new();
        p.transform(value, None, &mut OsRng, &mut scratch, &mut again)
            .expect("the same value transforms again");
        assert!(
            again == token,
            "a deterministic transform changed its output"
        );
    }
    if mode % 3 != 2 && !token.is_empty() {
        // Authenticated tokens: a changed character is refused, unless it
        // only touched unused base64 bits (then the same value opens).
        let i = usize::from(mode) % token.len();
        let mut bad = token.clone();
        bad[i] = if bad[i] == b'A' { b'B' } else { b'A' };
        if p.reverse(&bad, &mut scratch, &mut back).is_ok() {
            assert!(back == value, "a tampered token opened to another value");
        }
    }
});
