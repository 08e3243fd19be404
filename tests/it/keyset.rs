//! Keysets: the JSON format of docs/FORMAT.md ("Keyset file"), rotation, and
//! that no error or debug output ever shows a secret.
#![cfg(feature = "alloc")]

use crate::common;

use common::TestRng;
use deid::key::{Keyset, KeysetError, MAX_KEYS, MAX_KEYSET_BYTES, MasterKey, Purpose};

const SECRET_B64: &str = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="; // bytes 0..32

fn keyset_json(primary: u32, keys: &[(u32, &str)]) -> String {
    let keys: Vec<String> = keys
        .iter()
        .map(|(id, secret)| {
            format!(r#"{{"id": {id}, "created": "2026-01-01T00:00:00Z", "secret": "{secret}"}}"#)
        })
        .collect();
    format!(
        r#"{{"version": 1, "primary": {primary}, "keys": [{}]}}"#,
        keys.join(",")
    )
}

#[test]
fn parses_the_design_format_and_derives_like_the_raw_key() {
    let ks = Keyset::from_json(&keyset_json(7, &[(7, SECRET_B64)])).unwrap();
    assert_eq!(ks.primary().id(), 7);
    let raw: [u8; 32] = core::array::from_fn(|i| i as u8);
    let direct = MasterKey::from_bytes(7, raw);
    let (mut a, mut b) = ([0u8; 32], [0u8; 32]);
    ks.primary().derive(Purpose::Aead, "email", &mut a).unwrap();
    direct.derive(Purpose::Aead, "email", &mut b).unwrap();
    assert_eq!(a, b);
}

#[test]
fn json_round_trip_keeps_ids_primary_and_secrets() {
    let mut rng = TestRng(1);
    let mut ks = Keyset::generate(&mut rng, "2026-11-24T00:00:00Z");
    let new_id = ks.rotate(&mut rng, "2026-11-25T00:00:00Z").unwrap();
    assert_eq!(new_id, 2);
    assert_eq!(ks.primary().id(), 2);
    let json = ks.to_json();
    let back = Keyset::from_json(&json).unwrap();
    assert_eq!(back.ids().collect::<Vec<_>>(), [1, 2]);
    assert_eq!(back.primary().id(), 2);
    for id in [1, 2] {
        let (mut a, mut b) = ([0u8; 32], [0u8; 32]);
        ks.get(id)
            .unwrap()
            .derive(Purpose::Pseudonym, "c", &mut a)
            .unwrap();
        back.get(id)
            .unwrap()
            .derive(Purpose::Pseudonym, "c", &mut b)
            .unwrap();
        assert_eq!(a, b, "key {id}");
    }
}

#[test]
fn subkeys_differ_by_purpose_context_and_key() {
    let k1 = MasterKey::from_bytes(1, [1; 32]);
    let k2 = MasterKey::from_bytes(2, [2; 32]);
    let d = |k: &MasterKey, p, c| {
        let mut out = [0u8; 32];
        k.derive(p, c, &mut out).unwrap();
        out
    };
    let base = d(&k1, Purpose::Pseudonym, "phone");
    assert_ne!(base, d(&k1, Purpose::Pseudonym, "email"));
    assert_ne!(base, d(&k1, Purpose::Siv, "phone"));
    assert_ne!(base, d(&k2, Purpose::Pseudonym, "phone"));
    assert_eq!(base, d(&k1, Purpose::Pseudonym, "phone"));
}

#[test]
fn subkey_matches_hkdf_info_layout() {
    // info = "deid/v1/" || purpose || "/" || context, salt none: the same as
    // hkdf with the info string spelled out.
    let key = MasterKey::from_bytes(1, [0x42; 32]);
    let mut ours = [0u8; 64];
    key.derive(Purpose::Siv, "customer-email", &mut ours)
        .unwrap();
    let hk = hkdf::Hkdf::<sha2::Sha256>::new(None, &[0x42; 32]);
    let mut theirs = [0u8; 64];
    hk.expand(b"deid/v1/siv/customer-email", &mut theirs)
        .unwrap();
    assert_eq!(ours, theirs);
}

#[test]
fn too_long_subkey_is_an_error_not_a_panic() {
    let key = MasterKey::from_bytes(1, [0; 32]);
    let mut out = vec![0u8; 255 * 32 + 1];
    assert!(key.derive(Purpose::Fpe, "x", &mut out).is_err());
}

#[test]
fn rejects_bad_keysets_without_echoing_secrets() {
    let short = "c2VjcmV0LXNob3J0"; // "secret-short"
    type Check = fn(&KeysetError) -> bool;
    let cases: Vec<(String, Check)> = vec![
        (keyset_json(1, &[(1, short)]), |e| {
            matches!(e, KeysetError::BadSecret(1))
        }),
        (keyset_json(1, &[(1, "not base64 at all!")]), |e| {
            matches!(e, KeysetError::BadSecret(1))
        }),
        (keyset_json(1, &[(1, SECRET_B64), (1, SECRET_B64)]), |e| {
            matches!(e, KeysetError::DuplicateId(1))
        }),
        (keyset_json(9, &[(1, SECRET_B64)]), |e| {
            matches!(e, KeysetError::MissingPrimary(9))
        }),
        (keyset_json(1, &[]), |e| matches!(e, KeysetError::Empty)),
        (
            keyset_json(1, &[(1, SECRET_B64)]).replace("\"version\": 1", "\"version\": 2"),
            |e| matches!(e, KeysetError::UnsupportedVersion(2)),
        ),
        // A secret where a number belongs: serde_json would quote it.
        (
            format!(r#"{{"version": 1, "primary": "{SECRET_B64}", "keys": []}}"#),
            |e| matches!(e, KeysetError::Malformed(_)),
        ),
    ];
    for (json, expected) in cases {
        let err = Keyset::from_json(&json).unwrap_err();
        assert!(expected(&err), "unexpected error {err:?} for {json}");
        let shown = format!("{err} {err:?}");
        for secret in [SECRET_B64, short] {
            assert!(
                !shown.contains(secret),
                "error shows secret material: {shown}"
            );
        }
    }
}

#[test]
fn debug_never_shows_secrets() {
    let ks = Keyset::from_json(&keyset_json(3, &[(3, SECRET_B64)])).unwrap();
    let shown = format!("{ks:?} {:?}", ks.primary());
    assert!(shown.contains('3'));
    assert!(!shown.contains(SECRET_B64));
    assert!(!shown.contains("[0, 1, 2"), "{shown}");
}

#[test]
fn from_keys_rejects_duplicates_and_empty() {
    assert!(matches!(Keyset::from_keys(vec![]), Err(KeysetError::Empty)));
    let dup = vec![
        MasterKey::from_bytes(4, [0; 32]),
        MasterKey::from_bytes(4, [1; 32]),
    ];
    assert!(matches!(
        Keyset::from_keys(dup),
        Err(KeysetError::DuplicateId(4))
    ));
    let ok = Keyset::from_keys(vec![
        MasterKey::from_bytes(5, [0; 32]),
        MasterKey::from_bytes(6, [1; 32]),
    ])
    .unwrap();
    assert_eq!(ok.primary().id(), 5);
    assert!(ok.get(6).is_some() && ok.get(7).is_none());
}

fn many_keys(n: u32) -> String {
    let ids: Vec<(u32, &str)> = (1..=n).map(|id| (id, SECRET_B64)).collect();
    keyset_json(1, &ids)
}

#[test]
fn key_count_is_bounded() {
    let n = u32::try_from(MAX_KEYS).unwrap();
    assert_eq!(
        Keyset::from_json(&many_keys(n)).unwrap().ids().count(),
        MAX_KEYS
    );
    let json = many_keys(n + 1);
    assert!(
        json.len() < MAX_KEYSET_BYTES,
        "the count, not the size, is tested"
    );
    let err = Keyset::from_json(&json).unwrap_err();
    assert_eq!(err, KeysetError::TooManyKeys);
    assert!(err.to_string().contains("1000 keys"), "{err}");
    // 10^5 keys used to take 24 s (a quadratic duplicate check): now refused
    // by the byte bound before parsing.
    let started = std::time::Instant::now();
    assert_eq!(
        Keyset::from_json(&many_keys(100_000)).unwrap_err(),
        KeysetError::TooLarge
    );
    assert!(started.elapsed().as_secs() < 5);
    let keys: Vec<MasterKey> = (0..=n)
        .map(|id| MasterKey::from_bytes(id, [0; 32]))
        .collect();
    assert!(matches!(
        Keyset::from_keys(keys),
        Err(KeysetError::TooManyKeys)
    ));
}

#[cfg(feature = "std")]
#[test]
fn oversized_keyset_text_and_files_are_refused() {
    // Valid JSON, padded past the bound with whitespace.
    let mut json = keyset_json(1, &[(1, SECRET_B64)]);
    let fits = MAX_KEYSET_BYTES - json.len();
    json.push_str(&" ".repeat(fits));
    assert!(Keyset::from_json(&json).is_ok());
    assert!(Keyset::from_reader(json.as_bytes()).is_ok());
    json.push(' ');
    let err = Keyset::from_json(&json).unwrap_err();
    assert_eq!(err, KeysetError::TooLarge);
    assert!(err.to_string().contains("1 MiB"), "{err}");
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("big.json");
    std::fs::write(&path, &json).unwrap();
    assert_eq!(
        Keyset::from_reader(std::fs::File::open(&path).unwrap()).unwrap_err(),
        KeysetError::TooLarge
    );
}

#[cfg(feature = "std")]
#[test]
fn an_endless_reader_stops_at_the_bound() {
    /// Counts what is read from an endless stream of zeros.
    struct Endless(u64);
    impl std::io::Read for Endless {
        fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
            buf.fill(0);
            self.0 += buf.len() as u64;
            Ok(buf.len())
        }
    }
    let mut r = Endless(0);
    assert_eq!(
        Keyset::from_reader(&mut r).unwrap_err(),
        KeysetError::TooLarge
    );
    assert_eq!(r.0, MAX_KEYSET_BYTES as u64 + 1);
    #[cfg(unix)]
    assert_eq!(
        Keyset::from_reader(std::fs::File::open("/dev/zero").unwrap()).unwrap_err(),
        KeysetError::TooLarge
    );
}

#[cfg(feature = "std")]
#[test]
fn a_read_error_names_its_kind_only() {
    struct Failing;
    impl std::io::Read for Failing {
        fn read(&mut self, _: &mut [u8]) -> std::io::Result<usize> {
            Err(std::io::Error::other(SECRET_B64))
        }
    }
    let err = Keyset::from_reader(Failing).unwrap_err();
    assert!(matches!(err, KeysetError::Read(_)));
    assert!(!format!("{err} {err:?}").contains(SECRET_B64));
}

#[test]
fn rotation_past_the_largest_id_takes_the_smallest_free_one() {
    let mut rng = TestRng(2);
    for (held, want) in [
        (vec![u32::MAX], 1),
        (vec![1, 2, 4, u32::MAX], 3),
        (vec![0, 1, 2, u32::MAX], 3),
        (vec![5, u32::MAX], 1),
        (vec![7], 8),
    ] {
        let keys = held
            .iter()
            .map(|&id| MasterKey::from_bytes(id, [9; 32]))
            .collect();
        let mut ks = Keyset::from_keys(keys).unwrap();
        let id = ks.rotate(&mut rng, "2026-11-25T00:00:00Z").unwrap();
        assert_eq!(id, want, "{held:?}");
        assert_eq!(ks.primary().id(), want);
        // The saved keyset loads again, with every key.
        let back = Keyset::from_json(&ks.to_json()).unwrap();
        assert_eq!(back.ids().count(), held.len() + 1);
        assert_eq!(back.primary().id(), want);
    }
}

#[test]
fn rotation_stops_at_the_key_bound() {
    let mut rng = TestRng(3);
    let n = u32::try_from(MAX_KEYS).unwrap();
    let keys = (1..n)
        .map(|id| MasterKey::from_bytes(id, [1; 32]))
        .collect();
    let mut ks = Keyset::from_keys(keys).unwrap();
    assert_eq!(ks.rotate(&mut rng, "t").unwrap(), n);
    assert_eq!(ks.rotate(&mut rng, "t"), Err(KeysetError::TooManyKeys));
    assert_eq!(ks.ids().count(), MAX_KEYS);
    assert_eq!(ks.primary().id(), n);
    assert!(Keyset::from_json(&ks.to_json()).is_ok());
}

#[test]
fn rotation_that_would_outgrow_the_file_bound_is_refused() {
    let mut rng = TestRng(4);
    let mut ks = Keyset::generate(&mut rng, "t");
    let created = "x".repeat(MAX_KEYSET_BYTES);
    assert_eq!(ks.rotate(&mut rng, &created), Err(KeysetError::TooLarge));
    assert_eq!(ks.ids().collect::<Vec<_>>(), [1]);
    assert_eq!(ks.primary().id(), 1);
}

/// `deid -k /dev/zero` used to read until memory ran out.
#[cfg(all(feature = "cli", unix))]
#[test]
fn the_cli_refuses_an_endless_keyset_file() {
    use common::Ran;
    let o = common::run(&["keygen", "--rotate", "-o", "/dev/zero"]);
    assert_eq!(o.code(), Some(1));
    let err = o.stderr_text();
    assert!(err.contains("larger than 1048576 bytes"), "{err}");
}
