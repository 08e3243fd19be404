//! The `deid` binary on fixture files: outputs compared byte for byte, every
//! edge case of failing closed, and that no protected value ever reaches
//! stderr or a partial output.
#![cfg(feature = "cli")]

use std::process::Stdio;

use crate::common::{Ran, Workdir, assert_no_plant, deid, fixture, run, run_stdin, text};

/// A temp dir with the fixture keyset (mode 0600) and a policy.
fn setup(policy: &str) -> (Workdir, String, String) {
    let dir = Workdir::with_fixtures(&["keys.json"]);
    let pol = dir.write("policy.toml", policy);
    let keys = dir.file("keys.json");
    (dir, pol, keys)
}

const PHONE_POLICY: &str = "version = 1\n[fields.phone]\nnormalize = [\"phone:KR\"]\ntransform = \"pseudonymize\"\n[fields.email]\nnormalize = [\"email\"]\ntransform = \"encrypt\"\n";

#[test]
fn apply_matches_the_expected_fixture_on_one_and_two_threads() {
    let expected = std::fs::read(fixture("expected.csv")).unwrap();
    for threads in ["1", "2"] {
        let dir = Workdir::new();
        let out = dir.file("out.csv");
        let o = run(&[
            "apply",
            "-p",
            fixture("policy.toml").to_str().unwrap(),
            "-k",
            fixture("keys.json").to_str().unwrap(),
            "--threads",
            threads,
            "-o",
            &out,
            fixture("customers.csv").to_str().unwrap(),
        ]);
        o.assert_success();
        assert_eq!(
            std::fs::read(&out).unwrap(),
            expected,
            "threads = {threads}"
        );
        let err = text(&o.stderr);
        assert!(err.contains("12 rows in, 12 out, 0 dropped"), "{err}");
    }
}

#[test]
fn decrypt_round_trips_encrypt_and_fpe_fields() {
    let dir = Workdir::new();
    let back = dir.file("back.csv");
    let o = run(&[
        "decrypt",
        "-q",
        "-p",
        fixture("policy.toml").to_str().unwrap(),
        "-k",
        fixture("keys.json").to_str().unwrap(),
        "-o",
        &back,
        fixture("expected.csv").to_str().unwrap(),
    ]);
    o.assert_success();
    let back = std::fs::read_to_string(back).unwrap();
    let orig = std::fs::read_to_string(fixture("customers.csv")).unwrap();
    let col = |t: &str, name: &str| -> Vec<String> {
        let mut lines = t.lines();
        let header: Vec<&str> = lines.next().unwrap().split(',').collect();
        let i = header.iter().position(|h| *h == name).unwrap();
        lines
            .map(|l| l.split(',').nth(i).unwrap().to_owned())
            .collect()
    };
    assert_eq!(
        col(&back, "email"),
        col(&orig, "email"),
        "emails come back (already lowercase)"
    );
    assert_eq!(col(&back, "rrn"), col(&orig, "rrn"), "FF1 reverses");
}

#[test]
fn a_bad_value_fails_closed_naming_row_and_column_never_the_value() {
    let (dir, pol, keys) = setup(PHONE_POLICY);
    let input = dir.write("in.csv", "id,phone,email\n1,010-1234-5678,a@b.kr\n2,SECRET-PHONE-99,c@d.kr\n3,010-9999-0000,e@f.kr\n");
    let out = dir.join("out.csv");
    let o = run(&[
        "apply",
        "-p",
        &pol,
        "-k",
        &keys,
        "-o",
        out.to_str().unwrap(),
        &input,
    ]);
    assert_eq!(o.status.code(), Some(1));
    let err = text(&o.stderr);
    assert!(err.contains("in.csv: row 2, column 'phone'"), "{err}");
    assert!(err.contains("phone number"), "names the rule: {err}");
    assert!(!err.contains("SECRET"), "{err}");
    assert!(!out.exists(), "no output on failure");
    assert_eq!(
        std::fs::read_dir(dir.path()).unwrap().count(),
        3,
        "no temporary file left behind"
    );
}

#[test]
fn drop_record_counts_instead_of_failing() {
    let policy = PHONE_POLICY.replace("version = 1\n", "version = 1\non_error = \"drop-record\"\n");
    let (_dir, pol, keys) = setup(&policy);
    let o = run_stdin(
        &["apply", "-p", &pol, "-k", &keys, "--json-summary"],
        b"phone,email\n010-1234-5678,a@b.kr\nnot-a-phone,x@y.kr\n",
    );
    o.assert_success();
    let out = text(&o.stdout);
    assert_eq!(out.lines().count(), 2, "header and one row: {out}");
    assert!(!out.contains("not-a-phone") && !out.contains("x@y.kr"));
    let summary: serde_json::Value = serde_json::from_str(text(&o.stderr).trim()).unwrap();
    assert_eq!(summary["rows_dropped"], 1);
    assert_eq!(summary["rows_out"], 1);
}

#[test]
fn bom_crlf_quoted_newlines_and_empty_values() {
    let (_dir, pol, keys) = setup(PHONE_POLICY);
    let input = b"\xEF\xBB\xBFphone,email,note\r\n010-1234-5678,,\"two\r\nlines, and a comma\"\r\n,b@c.kr,x\r\n";
    let o = run_stdin(&["apply", "-q", "-p", &pol, "-k", &keys], input);
    o.assert_success();
    let out = text(&o.stdout);
    let mut rdr = csv::Reader::from_reader(out.as_bytes());
    assert_eq!(rdr.headers().unwrap(), vec!["phone", "email", "note"]);
    let rows: Vec<csv::StringRecord> = rdr.records().map(Result::unwrap).collect();
    assert_eq!(rows.len(), 2);
    assert_eq!(rows[0][0].len(), 32);
    assert_eq!(&rows[0][1], "", "empty value kept empty");
    assert_eq!(&rows[0][2], "two\r\nlines, and a comma");
    assert_eq!(&rows[1][0], "");
    assert!(rows[1][1].starts_with("AQAAAA"), "version 1, key id 1");
}

#[test]
fn ragged_rows_empty_input_and_missing_columns_are_clear_errors() {
    let (_dir, pol, keys) = setup(PHONE_POLICY);
    let o = run_stdin(
        &["apply", "-p", &pol, "-k", &keys],
        b"phone,email\n010-1234-5678,a@b.kr\n010-1234-5678\n",
    );
    assert_eq!(o.status.code(), Some(1));
    assert!(
        text(&o.stderr).contains("<stdin>: row 2: row has 1 fields, the header has 2"),
        "{}",
        text(&o.stderr)
    );

    let o = run_stdin(&["apply", "-p", &pol, "-k", &keys], b"");
    assert_eq!(o.status.code(), Some(1));
    assert!(text(&o.stderr).contains("empty"), "{}", text(&o.stderr));

    let o = run_stdin(
        &["apply", "-p", &pol, "-k", &keys],
        b"phone,mail\n010-1234-5678,a@b.kr\n",
    );
    assert_eq!(o.status.code(), Some(1));
    assert!(
        text(&o.stderr).contains("columns the input does not have: email"),
        "{}",
        text(&o.stderr)
    );
    assert!(
        o.stdout.is_empty(),
        "nothing written before the policy check"
    );

    // A header alone is a valid, empty export.
    let o = run_stdin(&["apply", "-q", "-p", &pol, "-k", &keys], b"phone,email\n");
    assert!(o.status.success());
    assert_eq!(text(&o.stdout), "phone,email\n");
}

#[test]
fn invalid_utf8_in_a_normalized_field_names_row_and_column() {
    let (_dir, pol, keys) = setup(PHONE_POLICY);
    let o = run_stdin(
        &["apply", "-p", &pol, "-k", &keys],
        b"phone,email\n010-1234-5678,a\xff@b.kr\n",
    );
    assert_eq!(o.status.code(), Some(1));
    let err = text(&o.stderr);
    assert!(err.contains("row 1, column 'email'"), "{err}");
}

#[test]
fn a_huge_field_streams_through() {
    let (_dir, pol, keys) = setup("version = 1\n[fields.blob]\ntransform = \"pseudonymize\"\n");
    let mut input = b"id,blob\n1,".to_vec();
    input.extend(std::iter::repeat_n(b'x', 5 << 20));
    input.extend_from_slice(b"\n2,y\n");
    let o = run_stdin(&["apply", "-q", "-p", &pol, "-k", &keys], &input);
    o.assert_success();
    let out = text(&o.stdout);
    assert_eq!(out.lines().count(), 3);
    assert!(out.len() < 200);
}

#[test]
fn wrong_keyset_and_tampered_tokens_fail_closed() {
    let (dir, pol, keys) = setup(PHONE_POLICY);
    let o = run_stdin(
        &["apply", "-q", "-p", &pol, "-k", &keys],
        b"phone,email\n010-1234-5678,ada@example.com\n",
    );
    assert!(o.status.success());
    let safe = text(&o.stdout);
    // Another keyset.
    let other = dir.keygen("other.json");
    let out = dir.join("back.csv");
    let o = run_stdin(
        &[
            "decrypt",
            "-p",
            &pol,
            "-k",
            &other,
            "-o",
            out.to_str().unwrap(),
        ],
        safe.as_bytes(),
    );
    assert_eq!(o.status.code(), Some(1));
    let err = text(&o.stderr);
    assert!(err.contains("row 1, column 'email'"), "{err}");
    assert!(!out.exists());
    // A flipped character in the token.
    let token = safe
        .lines()
        .nth(1)
        .unwrap()
        .split(',')
        .nth(1)
        .unwrap()
        .to_owned();
    let mut bad = token.clone().into_bytes();
    let i = bad.len() - 3;
    bad[i] = if bad[i] == b'A' { b'B' } else { b'A' };
    let tampered = safe.replace(&token, std::str::from_utf8(&bad).unwrap());
    let o = run_stdin(&["decrypt", "-p", &pol, "-k", &keys], tampered.as_bytes());
    assert_eq!(o.status.code(), Some(1));
    let err = text(&o.stderr);
    assert!(
        err.contains("authentication failed") && err.contains("column 'email'"),
        "{err}"
    );
    assert!(!text(&o.stdout).contains("ada@example.com"));
}

#[test]
fn jsonl_dotted_paths_arrays_and_unlisted_drop() {
    let policy = "version = 1\nunlisted = \"drop\"\n[fields.id]\ntransform = \"keep\"\n[fields.\"customer.phone\"]\nnormalize = [\"phone:KR\"]\ntransform = \"pseudonymize\"\n[fields.\"customer.address.zip\"]\ntransform = \"generalize\"\nto = \"prefix\"\nkeep = 3\n[fields.emails]\nnormalize = [\"email\"]\ntransform = \"pseudonymize\"\n";
    let (_dir, pol, keys) = setup(policy);
    let input = br#"{"id":1,"customer":{"phone":"010-1234-5678","name":"Kim","address":{"zip":"04524","city":"Seoul"}},"emails":["A@b.kr","c@d.kr"],"note":"x"}
{"id":2,"customer":{"phone":"+82 10 1234 5678","address":{"zip":"48058"}},"emails":[]}
"#;
    let o = run_stdin(
        &["apply", "-q", "-p", &pol, "-k", &keys, "--format", "jsonl"],
        input,
    );
    o.assert_success();
    let lines: Vec<serde_json::Value> = text(&o.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 2);
    assert_eq!(lines[0]["customer"]["address"]["zip"], "045");
    assert_eq!(
        lines[0]["customer"]["phone"], lines[1]["customer"]["phone"],
        "same person, same pseudonym"
    );
    assert!(
        lines[0]["customer"].get("name").is_none() && lines[0].get("note").is_none(),
        "unlisted dropped"
    );
    assert!(lines[0]["customer"]["address"].get("city").is_none());
    assert_eq!(lines[0]["emails"].as_array().unwrap().len(), 2);
    assert_eq!(lines[0]["emails"][0].as_str().unwrap().len(), 32);
    let keys_order: Vec<&String> = lines[0].as_object().unwrap().keys().collect();
    assert_eq!(
        keys_order,
        ["id", "customer", "emails"],
        "key order preserved"
    );
}

#[test]
fn no_header_uses_column_numbers() {
    let (_dir, pol, keys) =
        setup("version = 1\n[fields.2]\ntransform = \"generalize\"\nto = \"year\"\n");
    let o = run_stdin(
        &[
            "apply",
            "-q",
            "-p",
            &pol,
            "-k",
            &keys,
            "--no-header",
            "--delimiter",
            ";",
        ],
        b"a;1990-02-03\nb;2001-12-31\n",
    );
    o.assert_success();
    assert_eq!(text(&o.stdout), "a;1990\nb;2001\n");
}

#[test]
fn unlisted_error_refuses_unnamed_columns() {
    let (_dir, pol, keys) =
        setup("version = 1\nunlisted = \"error\"\n[fields.a]\ntransform = \"keep\"\n");
    let o = run_stdin(&["apply", "-p", &pol, "-k", &keys], b"a,secret_col\n1,2\n");
    assert_eq!(o.status.code(), Some(1));
    assert!(
        text(&o.stderr).contains("does not name these input columns: secret_col"),
        "{}",
        text(&o.stderr)
    );
}

#[test]
fn policy_errors_point_at_the_toml_line() {
    let (_dir, pol, keys) =
        setup("version = 1\n\n[fields.phone]\ntransform = \"pseudonymize\"\nbytse = 16\n");
    let o = run_stdin(&["apply", "-p", &pol, "-k", &keys], b"phone\n1\n");
    assert_eq!(o.status.code(), Some(1));
    let err = text(&o.stderr);
    assert!(
        err.contains("policy.toml") && err.contains("line") && err.contains("bytse"),
        "{err}"
    );
}

#[test]
fn order_is_kept_across_threads_and_keep_all_is_the_identity() {
    let (dir, pol, keys) = setup("version = 1\n");
    let data = dir.gen_csv("d.csv", 30000, &[]);
    let o = run(&[
        "apply",
        "-q",
        "-p",
        &pol,
        "-k",
        &keys,
        "--threads",
        "2",
        &data,
    ]);
    assert!(o.status.success());
    assert_eq!(o.stdout, std::fs::read(&data).unwrap());
}

#[test]
fn keygen_writes_0600_never_prints_the_secret_and_rotates() {
    let dir = Workdir::new();
    let k = dir.file("k.json");
    let o = run(&["keygen", "-o", &k]);
    assert!(o.status.success());
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&k).unwrap()).unwrap();
    let secret = json["keys"][0]["secret"].as_str().unwrap().to_owned();
    assert!(!text(&o.stdout).contains(&secret) && !text(&o.stderr).contains(&secret));
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(
            std::fs::metadata(&k).unwrap().permissions().mode() & 0o777,
            0o600
        );
    }
    let again = run(&["keygen", "-o", &k]);
    assert_eq!(again.status.code(), Some(1), "refuses to overwrite");
    let rot = run(&["keygen", "-o", &k, "--rotate"]);
    rot.assert_success();
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&k).unwrap()).unwrap();
    assert_eq!(json["primary"], 2);
    assert_eq!(json["keys"][0]["secret"], secret.as_str(), "old key kept");
}

/// A field pins a key with `key = <id>` (docs/FORMAT.md, "Keys per
/// field"): after `keygen --rotate`, FF1 values made with the old primary
/// decrypt only with the old key pinned, a pinned pseudonym stays the one
/// the old key made, and a pin the keyset lacks or on a keyless transform
/// is refused with nothing written.
#[test]
fn a_field_pins_a_key_across_rotation() {
    let dir = Workdir::new();
    let k = dir.file("k.json");
    run(&["keygen", "-o", &k]).assert_success();
    let data = dir.write(
        "in.csv",
        "acct,phone\n1234567890,010-1234-5678\n9876543210,010-9999-0000\n",
    );
    let policy = |pin: &str| {
        dir.write(
            "p.toml",
            format!(
                "version = 1\n[fields.acct]\ntransform = \"fpe\"\n{pin}\n[fields.phone]\nnormalize = [\"phone:KR\"]\ntransform = \"pseudonymize\"\n{pin}\n"
            ),
        )
    };
    let apply = |pol: &str, out: &str| run(&["apply", "-q", "-p", pol, "-k", &k, "-o", out, &data]);
    let decrypt = |pol: &str, input: &str, out: &str| {
        run(&["decrypt", "-q", "-p", pol, "-k", &k, "-o", out, input])
    };
    let read = |f: &str| std::fs::read_to_string(f).unwrap();
    let before = dir.file("before.csv");
    apply(&policy(""), &before).assert_success();
    assert!(!read(&before).contains("1234567890"), "{}", read(&before));

    run(&["keygen", "-o", &k, "--rotate"]).assert_success();
    // The new primary opens the old FF1 values as other digits.
    let wrong = dir.file("wrong.csv");
    decrypt(&policy(""), &before, &wrong).assert_success();
    assert!(!read(&wrong).contains("1234567890"), "{}", read(&wrong));
    // Pinned to key 1, they come back, and the same policy makes the same
    // values and pseudonyms as before the rotation.
    let pinned = policy("key = 1");
    let back = dir.file("back.csv");
    decrypt(&pinned, &before, &back).assert_success();
    assert!(
        read(&back).contains("1234567890") && read(&back).contains("9876543210"),
        "{}",
        read(&back)
    );
    let again = dir.file("again.csv");
    apply(&pinned, &again).assert_success();
    assert_eq!(read(&again), read(&before));
    // The unpinned policy now uses key 2: other values.
    let rotated = dir.file("rotated.csv");
    apply(&policy(""), &rotated).assert_success();
    assert_ne!(read(&rotated), read(&before));

    // Refused, with nothing written: a key the keyset does not have, and a
    // key on a transform that has none.
    let none = dir.file("none.csv");
    let refused = |pol: &str, why: &str| {
        let o = apply(pol, &none);
        assert_eq!(o.status.code(), Some(1), "{}", text(&o.stderr));
        assert!(text(&o.stderr).contains(why), "{}", text(&o.stderr));
        assert!(!std::path::Path::new(&none).exists());
    };
    refused(&policy("key = 9"), "field 'acct' pins `key = 9`");
    let keep = dir.write(
        "keep.toml",
        "version = 1\n[fields.acct]\ntransform = \"keep\"\nkey = 1\n",
    );
    refused(&keep, "option `key` does not apply to `keep`");
}

#[test]
fn readable_keyset_draws_a_warning() {
    let (dir, pol, _keys) = setup(PHONE_POLICY);
    let loose = dir.copy_fixture("keys.json", "loose.json");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&loose, std::fs::Permissions::from_mode(0o644)).unwrap();
        let o = run_stdin(&["apply", "-q", "-p", &pol, "-k", &loose], b"phone,email\n");
        assert!(
            text(&o.stderr).contains("readable by group or others"),
            "{}",
            text(&o.stderr)
        );
    }
}

#[test]
fn usage_errors_exit_2_and_help_teaches() {
    assert_eq!(run(&["apply"]).status.code(), Some(2));
    assert_eq!(run(&["no-such-command"]).status.code(), Some(2));
    let help = run(&["apply", "--help"]);
    assert_eq!(help.status.code(), Some(0));
    let h = text(&help.stdout);
    assert!(h.contains("Examples:") && h.contains("on_error"), "{h}");
}

#[test]
fn a_closed_pipe_is_not_an_error() {
    let mut child = deid()
        .args(["gen", "--rows", "2000000"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut out = child.stdout.take().unwrap();
    let mut first = [0u8; 64];
    std::io::Read::read_exact(&mut out, &mut first).unwrap();
    drop(out);
    let o = child.wait_with_output().unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    assert!(o.stderr.is_empty(), "{}", text(&o.stderr));
}

#[test]
fn scan_classifies_masks_and_suggests_a_usable_policy() {
    let dir = Workdir::new();
    let data = dir.gen_csv("d.csv", 300, &["--naive-hash"]);
    let pol = dir.file("suggested.toml");
    let o = run(&["scan", &data, "--json", "--policy-out", &pol]);
    o.assert_success();
    let doc = o.stdout_json();
    let kind = |c: &str| {
        doc["columns"]
            .as_array()
            .unwrap()
            .iter()
            .find(|x| x["column"] == c)
            .unwrap()["kind"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    assert_eq!(kind("phone"), "kr-mobile");
    assert_eq!(kind("email"), "email");
    assert_eq!(kind("rrn"), "kr-rrn");
    assert_eq!(kind("phone_sha256"), "hex-digest");
    assert_eq!(kind("sex"), "category");
    // No sampled value appears in clear.
    let first = std::fs::read_to_string(&data)
        .unwrap()
        .lines()
        .nth(1)
        .unwrap()
        .to_owned();
    assert_no_plant(
        "scan --json",
        &o.stdout,
        first.split(',').filter(|v| v.len() > 2),
    );
    // The suggested policy applies, and what it protects is gone.
    let o = run(&[
        "apply",
        "-q",
        "-p",
        &pol,
        "-k",
        fixture("keys.json").to_str().unwrap(),
        &data,
    ]);
    o.assert_success();
    let fields: Vec<&str> = first.split(',').collect();
    assert_no_plant(
        "apply with the suggested policy",
        &o.stdout,
        [fields[1], fields[2], fields[3], fields[4], fields[11]],
    );
}
