//! Project Wycheproof vectors (`tests/data/wycheproof/`, source and commit in
//! its README) through deid's own code: every case the API can express is
//! run, valid cases must match, invalid ones must be refused, `acceptable`
//! ones are counted apart (either outcome allowed, but an accepted one must
//! give the listed output). Each valid case is also checked with one byte
//! flipped. Counts are asserted so that a suite skipped by mistake fails.
#![cfg(feature = "alloc")]

use deid::backend::Backend;
use deid::transform::encrypt::raw;
use serde_json::Value;

/// One Wycheproof file: its groups, each with its tests.
fn groups(file: &str) -> Vec<Value> {
    let path = format!(
        "{}/tests/data/wycheproof/{file}",
        env!("CARGO_MANIFEST_DIR")
    );
    let text = std::fs::read_to_string(&path).unwrap();
    let v: Value = serde_json::from_str(&text).unwrap();
    let groups = v["testGroups"].as_array().unwrap().clone();
    let listed = v["numberOfTests"].as_u64().unwrap();
    let found: usize = groups
        .iter()
        .map(|g| g["tests"].as_array().unwrap().len())
        .sum();
    assert_eq!(found as u64, listed, "{file}: numberOfTests");
    groups
}

fn hex(t: &Value, name: &str) -> Vec<u8> {
    let s = t[name]
        .as_str()
        .unwrap_or_else(|| panic!("no {name} in {t}"));
    data_encoding::HEXLOWER_PERMISSIVE
        .decode(s.as_bytes())
        .unwrap()
}

fn num(g: &Value, name: &str) -> u64 {
    g[name].as_u64().unwrap_or_else(|| panic!("no {name}"))
}

/// Wycheproof's verdict on a case.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Expect {
    Valid,
    Invalid,
    Acceptable,
}

fn expect(t: &Value) -> Expect {
    match t["result"].as_str().unwrap() {
        "valid" => Expect::Valid,
        "invalid" => Expect::Invalid,
        "acceptable" => Expect::Acceptable,
        other => panic!("unknown result {other}"),
    }
}

/// Cases run, by verdict.
#[derive(Debug, Default, PartialEq, Eq)]
struct Ran {
    valid: usize,
    invalid: usize,
    acceptable: usize,
}

impl Ran {
    fn count(&mut self, e: Expect) {
        match e {
            Expect::Valid => self.valid += 1,
            Expect::Invalid => self.invalid += 1,
            Expect::Acceptable => self.acceptable += 1,
        }
    }
}

fn flip(bytes: &mut [u8]) {
    let i = bytes.len() / 2;
    bytes[i] ^= 0x01;
}

/// Checks an outcome against the verdict: `produced` is what deid computed
/// (`None` when it refused), `wanted` what the vector lists.
fn judge<T: PartialEq + std::fmt::Debug>(what: &str, t: &Value, produced: Option<T>, wanted: T) {
    let id = &t["tcId"];
    match (expect(t), produced) {
        (Expect::Valid, Some(p)) => assert_eq!(p, wanted, "{what} tcId {id}: wrong output"),
        (Expect::Valid, None) => panic!("{what} tcId {id}: valid case refused"),
        (Expect::Invalid, Some(p)) => {
            assert_ne!(p, wanted, "{what} tcId {id}: invalid case accepted")
        }
        (Expect::Invalid, None) => {}
        // Either outcome is allowed, but an accepted case gives the listed output.
        (Expect::Acceptable, Some(p)) => assert_eq!(p, wanted, "{what} tcId {id}"),
        (Expect::Acceptable, None) => {}
    }
}

/// AES-SIV-CMAC (RFC 5297) through `raw::siv_*`, the code of deterministic
/// tokens. deid takes 32-byte (AES-128) and 64-byte (AES-256) SIV keys;
/// the 48-byte (AES-192) groups must be refused.
#[test]
fn aes_siv_cmac() {
    let (mut k256, mut k512, mut refused_192) = (Ran::default(), Ran::default(), 0);
    for g in groups("aes_siv_cmac_test.json") {
        let key_bits = num(&g, "keySize");
        for t in g["tests"].as_array().unwrap() {
            let (key, aad, msg, ct) = (hex(t, "key"), hex(t, "aad"), hex(t, "msg"), hex(t, "ct"));
            assert_eq!(key.len() as u64 * 8, key_bits);
            let ad: [&[u8]; 1] = [&aad];
            if key_bits == 384 {
                let mut buf = msg.clone();
                assert!(raw::siv_seal(&key, &ad, &mut buf).is_err(), "AES-192-SIV");
                refused_192 += 1;
                continue;
            }
            // Every case's ct is SIV ‖ ciphertext, at least 16 bytes.
            let (siv, body) = ct.split_at(16);
            let siv: [u8; 16] = siv.try_into().unwrap();
            // Open: the direction where invalid cases matter.
            let mut buf = body.to_vec();
            let opened = match raw::siv_open(&key, &ad, &mut buf, &siv) {
                Ok(()) => Some(buf),
                Err(_) => {
                    assert_eq!(buf, body, "a failed open leaves the ciphertext");
                    None
                }
            };
            judge("AES-SIV open", t, opened, msg.clone());
            // Seal must give the listed ct for valid cases, and can never
            // give an invalid case's ct (SIV is deterministic).
            let mut buf = msg.clone();
            let tag = raw::siv_seal(&key, &ad, &mut buf).unwrap();
            let sealed = [&tag[..], &buf[..]].concat();
            judge("AES-SIV seal", t, Some(sealed), ct.clone());
            if expect(t) == Expect::Valid {
                let mut bad = body.to_vec();
                if !bad.is_empty() {
                    flip(&mut bad);
                    assert!(raw::siv_open(&key, &ad, &mut bad, &siv).is_err());
                }
                let mut bad_siv = siv;
                flip(&mut bad_siv);
                let mut c = body.to_vec();
                assert!(raw::siv_open(&key, &ad, &mut c, &bad_siv).is_err());
                let mut bad_ad = aad.clone();
                bad_ad.push(0);
                let mut c = body.to_vec();
                assert!(raw::siv_open(&key, &[&bad_ad], &mut c, &siv).is_err());
            }
            match key_bits {
                256 => k256.count(expect(t)),
                512 => k512.count(expect(t)),
                other => panic!("unexpected AES-SIV key size {other}"),
            }
        }
    }
    println!(
        "AES-SIV-CMAC 256-bit key: {k256:?}; 512-bit key: {k512:?}; AES-192-SIV refused: {refused_192}"
    );
    assert_eq!(
        k256,
        Ran {
            valid: 40,
            invalid: 108,
            acceptable: 0
        }
    );
    assert_eq!(
        k512,
        Ran {
            valid: 39,
            invalid: 108,
            acceptable: 0
        }
    );
    assert_eq!(refused_192, 147);
}

/// AES-256-GCM with 96-bit nonces and 128-bit tags (the only GCM deid
/// uses) through `raw::gcm_*`, the code of randomized tokens, on every
/// backend compiled in. Other key and nonce sizes do not fit its types.
#[test]
fn aes_256_gcm() {
    let gs = groups("aes_gcm_test.json");
    assert_eq!(
        Backend::available().len(),
        1 + usize::from(cfg!(feature = "ring"))
    );
    for backend in Backend::available() {
        let (mut ran, mut skipped) = (Ran::default(), 0);
        for g in &gs {
            let fits =
                num(g, "keySize") == 256 && num(g, "ivSize") == 96 && num(g, "tagSize") == 128;
            for t in g["tests"].as_array().unwrap() {
                if !fits {
                    skipped += 1;
                    continue;
                }
                let key: [u8; 32] = hex(t, "key").try_into().unwrap();
                let iv: [u8; 12] = hex(t, "iv").try_into().unwrap();
                let tag: [u8; 16] = hex(t, "tag").try_into().unwrap();
                let (aad, msg, ct) = (hex(t, "aad"), hex(t, "msg"), hex(t, "ct"));
                let what = format!("AES-256-GCM {backend}");
                let mut buf = ct.clone();
                let opened = raw::gcm_open(*backend, &key, &iv, &aad, &mut buf, &tag)
                    .ok()
                    .map(|()| buf);
                judge(&format!("{what} open"), t, opened, msg.clone());
                let mut buf = msg.clone();
                let sealed = raw::gcm_seal(*backend, &key, &iv, &aad, &mut buf)
                    .ok()
                    .map(|tag| (buf, tag));
                judge(&format!("{what} seal"), t, sealed, (ct.clone(), tag));
                if expect(t) == Expect::Valid {
                    let mut bad_tag = tag;
                    flip(&mut bad_tag);
                    let mut c = ct.clone();
                    assert!(raw::gcm_open(*backend, &key, &iv, &aad, &mut c, &bad_tag).is_err());
                    if !ct.is_empty() {
                        let mut c = ct.clone();
                        flip(&mut c);
                        assert!(raw::gcm_open(*backend, &key, &iv, &aad, &mut c, &tag).is_err());
                    }
                    let mut bad_iv = iv;
                    flip(&mut bad_iv);
                    let mut c = ct.clone();
                    assert!(raw::gcm_open(*backend, &key, &bad_iv, &aad, &mut c, &tag).is_err());
                }
                ran.count(expect(t));
            }
        }
        println!("AES-256-GCM {backend}: {ran:?}; other sizes not expressible: {skipped}");
        assert_eq!(
            ran,
            Ran {
                valid: 39,
                invalid: 27,
                acceptable: 0
            },
            "{backend}"
        );
    }
}

/// HMAC-SHA256 through the keyed states behind `Pseudonymizer` (one per
/// backend); the pseudonym API itself only takes derived keys. Full-length
/// tags go through the constant-time `verify`; truncated ones are compared
/// on the prefix, as pseudonyms are.
#[test]
fn hmac_sha256() {
    let gs = groups("hmac_sha256_test.json");
    assert_eq!(
        Backend::available().len(),
        1 + usize::from(cfg!(feature = "ring"))
    );
    for backend in Backend::available() {
        let (mut full, mut truncated) = (Ran::default(), Ran::default());
        for g in &gs {
            let tag_len = usize::try_from(num(g, "tagSize") / 8).unwrap();
            for t in g["tests"].as_array().unwrap() {
                let (key, msg, tag) = (hex(t, "key"), hex(t, "msg"), hex(t, "tag"));
                assert_eq!(tag.len(), tag_len);
                let (mac, verified) = mac_and_verify(*backend, &key, &msg, &tag);
                let what = format!("HMAC-SHA256 {backend}");
                judge(&what, t, Some(mac[..tag_len].to_vec()), tag.clone());
                if tag_len == 32 {
                    judge(&format!("{what} verify"), t, verified.then_some(()), ());
                    full.count(expect(t));
                } else {
                    truncated.count(expect(t));
                }
                if expect(t) == Expect::Valid && tag_len == 32 {
                    let mut bad = tag.clone();
                    flip(&mut bad);
                    assert!(!mac_and_verify(*backend, &key, &msg, &bad).1);
                }
            }
        }
        println!("HMAC-SHA256 {backend}: 256-bit tags {full:?}; 128-bit tags {truncated:?}");
        assert_eq!(
            (full, truncated),
            (
                Ran {
                    valid: 33,
                    invalid: 54,
                    acceptable: 0
                },
                Ran {
                    valid: 33,
                    invalid: 54,
                    acceptable: 0
                }
            ),
            "{backend}"
        );
    }
}

/// The MAC of `msg` and whether the backend's `verify` accepts `tag`.
fn mac_and_verify(backend: Backend, key: &[u8], msg: &[u8], tag: &[u8]) -> ([u8; 32], bool) {
    match backend {
        Backend::RustCrypto => {
            let k = deid::backend::rustcrypto::HmacSha256::new(key);
            (k.mac(msg), k.verify(msg, tag).is_ok())
        }
        #[cfg(feature = "ring")]
        Backend::Ring => {
            let k = deid::backend::ring::HmacSha256::new(key);
            (k.mac(msg), k.verify(msg, tag).is_ok())
        }
        other => panic!("no HMAC case for backend {other}"),
    }
}

/// HKDF-SHA256. deid's `MasterKey::derive` fixes salt (none), the IKM
/// length (32) and the info prefix (`deid/v1/...`), so no Wycheproof case
/// fits it: the cases run through the `hkdf` crate with the calls
/// `MasterKey::derive` makes (`Hkdf::new`, `expand_multi_info`), and the
/// over-long outputs are also asked of `MasterKey::derive`, which must refuse.
#[test]
fn hkdf_sha256() {
    let (mut ran, mut refused_by_master_key) = (Ran::default(), 0);
    for g in groups("hkdf_sha256_test.json") {
        for t in g["tests"].as_array().unwrap() {
            let (ikm, salt, info, okm) =
                (hex(t, "ikm"), hex(t, "salt"), hex(t, "info"), hex(t, "okm"));
            let size = usize::try_from(num(t, "size")).unwrap();
            let salt = (!salt.is_empty()).then_some(&salt[..]);
            let hk = hkdf::Hkdf::<sha2::Sha256>::new(salt, &ikm);
            // Split info in two, as deid's prefix and context are.
            let (a, b) = info.split_at(info.len() / 2);
            let mut out = vec![0u8; size];
            let derived = hk.expand_multi_info(&[a, b], &mut out).ok().map(|()| out);
            if expect(t) == Expect::Valid {
                let mut bad = okm.clone();
                if !bad.is_empty() {
                    flip(&mut bad);
                    assert_ne!(derived.as_ref(), Some(&bad));
                }
            }
            judge("HKDF-SHA256", t, derived, okm);
            if expect(t) == Expect::Invalid {
                let key = deid::MasterKey::from_bytes(1, [0x42; 32]);
                let mut out = vec![0u8; size];
                assert!(
                    key.derive(deid::Purpose::Pseudonym, "ctx", &mut out)
                        .is_err()
                );
                refused_by_master_key += 1;
            }
            ran.count(expect(t));
        }
    }
    println!(
        "HKDF-SHA256: {ran:?}; over-long also refused by MasterKey::derive: {refused_by_master_key}"
    );
    assert_eq!(
        ran,
        Ran {
            valid: 83,
            invalid: 3,
            acceptable: 0
        }
    );
    assert_eq!(refused_by_master_key, 3);
}
