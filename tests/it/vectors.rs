//! Published test vectors for every primitive, read from `tests/data/` (each
//! file names its source). Every valid case is also checked with one byte
//! flipped, which must fail verification.

use deid::backend::Backend;
use deid::transform::encrypt::raw;
use deid::transform::fpe::Ff1Digits;

/// One record of a vector file: `Name = value` lines (names may repeat, a
/// bare word such as `FAIL` is a flag with an empty value).
#[derive(Debug, Default)]
struct Record(Vec<(String, String)>);

impl Record {
    fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
    /// Values of `name`, `name2`, `name3`, … in file order (repeated items).
    fn all(&self, name: &str) -> Vec<&str> {
        self.0
            .iter()
            .filter(|(k, _)| {
                k.len() >= name.len()
                    && k[..name.len()].eq_ignore_ascii_case(name)
                    && k[name.len()..].chars().all(|c| c.is_ascii_digit())
            })
            .map(|(_, v)| v.as_str())
            .collect()
    }
    fn hex(&self, name: &str) -> Vec<u8> {
        unhex(
            self.get(name)
                .unwrap_or_else(|| panic!("no {name} in {self:?}")),
        )
    }
    fn has(&self, name: &str) -> bool {
        self.get(name).is_some()
    }
}

/// Hex to bytes (by hand: the suite also runs without deid's `alloc`).
fn unhex(s: &str) -> Vec<u8> {
    let s = s.trim().as_bytes();
    assert!(s.len().is_multiple_of(2), "odd hex length");
    s.chunks(2)
        .map(|p| u8::from_str_radix(std::str::from_utf8(p).unwrap(), 16).unwrap())
        .collect()
}

/// A record starts at a `Count`, `Len` or `Sample` line; `#` lines, blank
/// lines and `[section]` lines are skipped.
fn records(file: &str) -> Vec<Record> {
    let path = format!("{}/tests/data/{file}", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&path).unwrap();
    let mut out = vec![];
    let mut cur = Record::default();
    for line in text.lines().map(str::trim) {
        if line.is_empty() || line.starts_with('#') || line.starts_with('[') {
            continue;
        }
        let key = line
            .split('=')
            .next()
            .unwrap_or("")
            .trim()
            .to_ascii_lowercase();
        if matches!(key.as_str(), "count" | "len" | "sample") && !cur.0.is_empty() {
            out.push(std::mem::take(&mut cur));
        }
        match line.split_once('=') {
            Some((k, v)) => cur.0.push((k.trim().to_owned(), v.trim().to_owned())),
            None => cur.0.push((line.to_owned(), String::new())),
        }
    }
    if !cur.0.is_empty() {
        out.push(cur);
    }
    assert!(!out.is_empty(), "{file} has no vectors");
    out
}

fn flip(bytes: &mut [u8]) {
    let i = bytes.len() / 2;
    bytes[i] ^= 0x01;
}

#[test]
fn hmac_sha256_rfc4231() {
    let mut n = 0;
    for r in records("hmac_sha256_rfc4231.txt") {
        let (key, msg, md) = (r.hex("Key"), r.hex("Msg"), r.hex("MD"));
        let trunc = r.get("Trunc").map_or(32, |t| t.parse().unwrap());
        let rc = deid::backend::rustcrypto::HmacSha256::new(&key);
        assert_eq!(&rc.mac(&msg)[..trunc], &md[..], "rustcrypto, {r:?}");
        #[cfg(feature = "ring")]
        {
            let ring = deid::backend::ring::HmacSha256::new(&key);
            assert_eq!(&ring.mac(&msg)[..trunc], &md[..], "ring, {r:?}");
        }
        if trunc == 32 {
            rc.verify(&msg, &md).unwrap();
            let mut bad = md.clone();
            flip(&mut bad);
            assert!(rc.verify(&msg, &bad).is_err());
            #[cfg(feature = "ring")]
            assert!(
                deid::backend::ring::HmacSha256::new(&key)
                    .verify(&msg, &bad)
                    .is_err()
            );
        }
        n += 1;
    }
    assert_eq!(n, 7, "RFC 4231 has 7 HMAC-SHA256 cases");
}

#[test]
fn hkdf_sha256_rfc5869() {
    let mut n = 0;
    for r in records("hkdf_sha256_rfc5869.txt") {
        let (ikm, salt, info, okm) = (r.hex("IKM"), r.hex("salt"), r.hex("info"), r.hex("OKM"));
        let len: usize = r.get("L").unwrap().parse().unwrap();
        let salt = if salt.is_empty() {
            None
        } else {
            Some(&salt[..])
        };
        let (prk, hk) = hkdf::Hkdf::<sha2::Sha256>::extract(salt, &ikm);
        assert_eq!(prk.as_slice(), &r.hex("PRK")[..]);
        let mut out = vec![0u8; len];
        hk.expand(&info, &mut out).unwrap();
        assert_eq!(out, okm);
        let mut bad = okm.clone();
        flip(&mut bad);
        assert_ne!(out, bad);
        n += 1;
    }
    assert_eq!(n, 3);
}

fn gcm_case(backend: Backend, r: &Record) {
    let key: [u8; 32] = r.hex("Key").try_into().unwrap();
    let iv: [u8; 12] = r.hex("IV").try_into().unwrap();
    let (aad, ct) = (r.hex("AAD"), r.hex("CT"));
    let tag: [u8; 16] = r.hex("Tag").try_into().unwrap();
    if r.has("FAIL") {
        let mut buf = ct.clone();
        assert!(
            raw::gcm_open(backend, &key, &iv, &aad, &mut buf, &tag).is_err(),
            "{backend}: FAIL case opened: {r:?}"
        );
        return;
    }
    let pt = r.hex("PT");
    let mut buf = pt.clone();
    assert_eq!(
        raw::gcm_seal(backend, &key, &iv, &aad, &mut buf).unwrap(),
        tag,
        "{backend} tag, {r:?}"
    );
    assert_eq!(buf, ct, "{backend} ciphertext");
    raw::gcm_open(backend, &key, &iv, &aad, &mut buf, &tag).unwrap();
    assert_eq!(buf, pt);
    let mut bad_tag = tag;
    flip(&mut bad_tag);
    let mut buf = ct.clone();
    assert!(raw::gcm_open(backend, &key, &iv, &aad, &mut buf, &bad_tag).is_err());
    if !ct.is_empty() {
        let mut buf = ct.clone();
        flip(&mut buf);
        assert!(raw::gcm_open(backend, &key, &iv, &aad, &mut buf, &tag).is_err());
    }
}

#[test]
fn aes256_gcm_nist_cavp() {
    let enc = records("aes256_gcm_encrypt.rsp");
    let dec = records("aes256_gcm_decrypt.rsp");
    assert!(dec.iter().any(|r| r.has("FAIL")) && dec.iter().any(|r| !r.has("FAIL")));
    for backend in Backend::available() {
        for r in enc.iter().chain(&dec) {
            gcm_case(*backend, r);
        }
    }
}

#[test]
fn aes_siv_rfc5297_and_512_bit_key() {
    let (mut cmac256, mut cmac512) = (0, 0);
    for r in records("aes_siv.txt") {
        let key = r.hex("Key");
        let ad: Vec<Vec<u8>> = r.all("AAD").into_iter().map(unhex).collect();
        let ad_refs: Vec<&[u8]> = ad.iter().map(Vec::as_slice).collect();
        let (pt, ct) = (r.hex("Plaintext"), r.hex("Ciphertext"));
        let tag: [u8; 16] = r.hex("Tag").try_into().unwrap();
        let mut buf = pt.clone();
        match key.len() {
            // 64: the mode deid's deterministic tokens use; 32: RFC 5297 A.1
            // and A.2 (AES-128). Both through deid's own SIV code.
            64 | 32 => {
                assert_eq!(raw::siv_seal(&key, &ad_refs, &mut buf).unwrap(), tag);
                assert_eq!(buf, ct);
                raw::siv_open(&key, &ad_refs, &mut buf, &tag).unwrap();
                assert_eq!(buf, pt);
                let mut bad = ct.clone();
                flip(&mut bad);
                assert!(raw::siv_open(&key, &ad_refs, &mut bad, &tag).is_err());
                assert_eq!(
                    bad[..],
                    {
                        let mut c = ct.clone();
                        flip(&mut c);
                        c
                    }[..],
                    "a failed open leaves the ciphertext, not plaintext"
                );
                let mut bad_tag = tag;
                flip(&mut bad_tag);
                let mut c = ct.clone();
                assert!(raw::siv_open(&key, &ad_refs, &mut c, &bad_tag).is_err());
                if key.len() == 64 {
                    cmac512 += 1;
                } else {
                    cmac256 += 1;
                }
            }
            _ => {} // AES-192-SIV: not a mode deid offers.
        }
    }
    assert_eq!((cmac256, cmac512), (2, 1));
}

#[test]
fn ff1_nist_sp800_38g_samples() {
    let mut n = 0;
    for r in records("ff1_nist_sp800_38g.txt") {
        let key: [u8; 32] = r.hex("Key").try_into().unwrap();
        let tweak = r.hex("Tweak");
        let (pt, ct) = (r.get("PT").unwrap(), r.get("CT").unwrap());
        let ff1 = Ff1Digits::from_raw_key(&key, &tweak).unwrap();
        let mut out = [0u8; 64];
        assert_eq!(ff1.encrypt(pt.as_bytes(), &mut out).unwrap(), ct);
        assert_eq!(ff1.decrypt(ct.as_bytes(), &mut out).unwrap(), pt);
        // FF1 has no tag: a flipped digit must decrypt to something else.
        let mut bad = ct.as_bytes().to_vec();
        bad[4] = if bad[4] == b'9' { b'0' } else { bad[4] + 1 };
        assert_ne!(ff1.decrypt(&bad, &mut out).unwrap(), pt);
        n += 1;
    }
    assert_eq!(n, 2);
}
