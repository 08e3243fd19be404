//! Property tests: round trips of every reversible transform, the two
//! backends agreeing byte for byte, and the no_std FF1 agreeing with the
//! `fpe` crate.
#![cfg(feature = "std")]

use deid::MasterKey;
use deid::backend::Backend;
use deid::encoding::Encoding;
use deid::error::Error;
use deid::transform::encrypt::{DeterministicCipher, RandomizedCipher};
use deid::transform::fpe::{Ff1Digits, MAX_DIGITS, MIN_DIGITS};
use deid::transform::generalize::Generalization;
use deid::transform::pseudonym::Pseudonymizer;
use proptest::prelude::*;

fn key(seed: u8) -> MasterKey {
    MasterKey::from_bytes(u32::from(seed), [seed; 32])
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// deid composes AES-SIV from CMAC and CTR to key it once per field; it
    /// must agree with the `aes-siv` crate on any key, associated data and
    /// message (empty, short, block-sized and multi-block).
    #[test]
    fn siv_agrees_with_the_aes_siv_crate(
        key in proptest::collection::vec(any::<u8>(), 64),
        ad in proptest::collection::vec(proptest::collection::vec(any::<u8>(), 0..40), 0..4),
        msg in proptest::collection::vec(any::<u8>(), 0..100),
    ) {
        use aes_siv::aead::KeyInit;
        use deid::transform::encrypt::raw;
        let ad: Vec<&[u8]> = ad.iter().map(Vec::as_slice).collect();
        for key in [&key[..], &key[..32]] {
            let mut ours = msg.clone();
            let tag = raw::siv_seal(key, &ad, &mut ours).unwrap();
            let mut theirs = msg.clone();
            let want = if key.len() == 64 {
                aes_siv::siv::Aes256Siv::new(key.try_into().unwrap())
                    .encrypt_inout_detached(&ad, theirs.as_mut_slice().into())
            } else {
                aes_siv::siv::Aes128Siv::new(key.try_into().unwrap())
                    .encrypt_inout_detached(&ad, theirs.as_mut_slice().into())
            }
            .unwrap();
            prop_assert_eq!(&tag[..], want.as_slice());
            prop_assert_eq!(&ours, &theirs);
            raw::siv_open(key, &ad, &mut ours, &tag).unwrap();
            prop_assert_eq!(&ours, &msg);
        }
    }

    #[test]
    fn backends_give_identical_pseudonyms(seed: u8, ctx in "[a-z._-]{1,24}", value in proptest::collection::vec(any::<u8>(), 0..300), bytes in 8usize..=32) {
        let mut a = [0u8; 64];
        let mut b = [0u8; 64];
        let rc = Pseudonymizer::with_backend(Backend::RustCrypto, &key(seed), &ctx, bytes, Encoding::Hex).unwrap();
        for backend in Backend::available() {
            let other = Pseudonymizer::with_backend(*backend, &key(seed), &ctx, bytes, Encoding::Hex).unwrap();
            prop_assert_eq!(rc.pseudonymize(&value, &mut a).unwrap(), other.pseudonymize(&value, &mut b).unwrap());
        }
    }

    #[test]
    fn gcm_tokens_cross_open_between_backends(seed: u8, value in proptest::collection::vec(any::<u8>(), 0..200), nonce: [u8; 12]) {
        let mut t = vec![0u8; RandomizedCipher::token_len(value.len())];
        let mut out = vec![0u8; t.len()];
        for made_by in Backend::available() {
            let maker = RandomizedCipher::with_backend(*made_by, &key(seed), "ctx").unwrap();
            let token = maker.encrypt_with_nonce(&nonce, &value, &mut t).unwrap().to_owned();
            for opened_by in Backend::available() {
                let opener = RandomizedCipher::with_backend(*opened_by, &key(seed), "ctx").unwrap();
                prop_assert_eq!(opener.decrypt(token.as_bytes(), &mut out).unwrap(), &value[..]);
            }
        }
    }

    #[test]
    fn siv_round_trips_and_rejects_any_flipped_byte(seed: u8, value in proptest::collection::vec(any::<u8>(), 0..200), flip in any::<prop::sample::Index>()) {
        let c = DeterministicCipher::new(&key(seed), "email").unwrap();
        let mut t = vec![0u8; DeterministicCipher::token_len(value.len())];
        let token = c.encrypt(&value, &mut t).unwrap().to_owned();
        let mut out = vec![0u8; token.len()];
        prop_assert_eq!(c.decrypt(token.as_bytes(), &mut out).unwrap(), &value[..]);
        // Flip one bit of the raw token (past the version and key id) and re-encode.
        let mut raw = data_encoding::BASE64URL_NOPAD.decode(token.as_bytes()).unwrap();
        let i = 5 + flip.index(raw.len() - 5);
        raw[i] ^= 0x20;
        let bad = data_encoding::BASE64URL_NOPAD.encode(&raw);
        prop_assert!(c.decrypt(bad.as_bytes(), &mut out).is_err());
    }

    /// Every supported length, 6 to 72 digits, against the `fpe` crate: the
    /// prefixes of one random 72-digit string, so each case covers lengths
    /// where the halves fit one AES block of round output (d <= 16, up to 56
    /// digits) and those that need a second block (57 digits and more).
    #[test]
    fn ff1_matches_the_fpe_crate(
        k: [u8; 32],
        tweak in proptest::collection::vec(any::<u8>(), 0..40),
        all_digits in proptest::collection::vec(0u16..10, MAX_DIGITS),
    ) {
        use fpe::ff1::{FlexibleNumeralString, FF1};
        let theirs = FF1::<aes::Aes256>::new(&k, 10).unwrap();
        let ours = Ff1Digits::from_raw_key(&k, &tweak).unwrap();
        for n in MIN_DIGITS..=MAX_DIGITS {
            let digits = &all_digits[..n];
            let expected: Vec<u16> = theirs.encrypt(&tweak, &FlexibleNumeralString::from(digits.to_vec())).unwrap().into();
            let text: String = digits.iter().map(|d| char::from(b'0' + *d as u8)).collect();
            let mut out = vec![0u8; text.len()];
            let got = ours.encrypt(text.as_bytes(), &mut out).unwrap().to_owned();
            let want: String = expected.iter().map(|d| char::from(b'0' + *d as u8)).collect();
            prop_assert_eq!(&got, &want, "{} digits", n);
            let mut back = vec![0u8; text.len()];
            prop_assert_eq!(ours.decrypt(got.as_bytes(), &mut back).unwrap(), text.as_str(), "{} digits", n);
        }
        // One past the maximum is refused, not truncated.
        let text: String = std::iter::repeat_n('7', MAX_DIGITS + 1).collect();
        let mut out = vec![0u8; text.len()];
        prop_assert!(ours.encrypt(text.as_bytes(), &mut out).is_err());
    }

    /// Any i64 and any width: an error naming the rule, or the label
    /// `lo-hi` of a bucket that holds the value and is `width` wide.
    #[test]
    fn generalize_bucket_is_a_correct_label_or_an_error(
        // 64 with a width past 2^63 is refused with a message that says "64-bit".
        v in prop_oneof![any::<i64>(), Just(i64::MAX), Just(i64::MIN), -1000i64..1000, Just(64i64)],
        width in prop_oneof![any::<u64>(), 1u64..100, Just(0u64), Just(1u64 << 63), Just((1u64 << 63) + 1), Just(u64::MAX)],
    ) {
        let g = Generalization::Bucket { width };
        let text = v.to_string();
        let mut out = [0u8; 64];
        match g.apply(text.as_bytes(), &mut out) {
            Ok(label) => {
                let label = std::str::from_utf8(label).unwrap();
                // The separator is the first '-' that is not a leading sign.
                let cut = label[1..].find('-').unwrap() + 1;
                let lo: i64 = label[..cut].parse().unwrap();
                let hi: i64 = label[cut + 1..].parse().unwrap();
                prop_assert!(lo <= v && v <= hi, "{label} for {v}");
                prop_assert_eq!(i128::from(hi) - i128::from(lo) + 1, i128::from(width.max(1)));
                prop_assert_eq!(i128::from(lo).rem_euclid(i128::from(width.max(1))), 0);
            }
            Err(e) => {
                prop_assert!(matches!(e, Error::Invalid(_) | Error::Config(_)), "{e:?}");
                // The value never appears in the message as a number of
                // its own (the fixed text says "64-bit", which a plain
                // substring test would take for the value 64).
                let msg = e.to_string();
                let mut numbers = msg.split(|c: char| !(c.is_ascii_digit() || c == '-'));
                prop_assert!(!numbers.any(|n| n == text), "{e}");
                // Only a bucket whose bounds leave the i64 range is refused.
                let w = i128::from(width.max(1));
                let lo = i128::from(v).div_euclid(w) * w;
                prop_assert!(lo < i128::from(i64::MIN) || lo + w - 1 > i128::from(i64::MAX));
            }
        }
    }

    /// Top and bottom coding compare, never compute: any i64 and any
    /// thresholds give `>=t`, `<=b` or the value itself.
    #[test]
    fn generalize_top_bottom_never_fails_on_an_i64(v: i64, top: Option<i64>, bottom: Option<i64>) {
        let g = Generalization::TopBottom { top, bottom };
        let mut out = [0u8; 64];
        let got = std::str::from_utf8(g.apply(v.to_string().as_bytes(), &mut out).unwrap()).unwrap().to_owned();
        let want = match (top, bottom) {
            (Some(t), _) if v >= t => format!(">={t}"),
            (_, Some(b)) if v <= b => format!("<={b}"),
            _ => v.to_string(),
        };
        prop_assert_eq!(got, want);
    }

    #[test]
    fn fpe_keeps_layout_for_any_separators(seed: u8, value in "[0-9]{3}[- .]?[0-9]{4}[- .]?[0-9]{4}") {
        let f = Ff1Digits::new(&key(seed), "phone").unwrap();
        let mut out = vec![0u8; value.len()];
        let enc = f.encrypt(value.as_bytes(), &mut out).unwrap().to_owned();
        prop_assert_eq!(enc.len(), value.len());
        for (a, b) in enc.bytes().zip(value.bytes()) {
            prop_assert_eq!(a.is_ascii_digit(), b.is_ascii_digit());
        }
        let mut back = vec![0u8; value.len()];
        prop_assert_eq!(f.decrypt(enc.as_bytes(), &mut back).unwrap(), value.as_str());
    }
}
