//! The `deid` binary on fixture files: outputs compared byte for byte, every
//! edge case of failing closed, and that no protected value ever reaches
//! stderr or a partial output.
#![cfg(feature = "cli")]

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

const BIN: &str = env!("CARGO_BIN_EXE_deid");

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

fn deid(args: &[&str], stdin: Option<&[u8]>) -> Output {
    let mut cmd = Command::new(BIN);
    cmd.args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = cmd.spawn().unwrap();
    let mut sin = child.stdin.take().unwrap();
    if let Some(data) = stdin {
        // deid may stop before reading all of its input (a policy error):
        // a closed pipe here is its choice, not a test failure.
        if let Err(e) = sin.write_all(data) {
            assert_eq!(e.kind(), std::io::ErrorKind::BrokenPipe, "{e}");
        }
    }
    drop(sin);
    child.wait_with_output().unwrap()
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// A temp dir with the fixture keyset (mode 0600) and a policy.
fn setup(policy: &str) -> (tempfile::TempDir, String, String) {
    let dir = tempfile::tempdir().unwrap();
    let keys = dir.path().join("keys.json");
    std::fs::copy(fixture("keys.json"), &keys).unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&keys, std::fs::Permissions::from_mode(0o600)).unwrap();
    }
    let pol = dir.path().join("policy.toml");
    std::fs::write(&pol, policy).unwrap();
    (dir, pol.display().to_string(), keys.display().to_string())
}

const PHONE_POLICY: &str = "version = 1\n[fields.phone]\nnormalize = [\"phone:KR\"]\ntransform = \"pseudonymize\"\n[fields.email]\nnormalize = [\"email\"]\ntransform = \"encrypt\"\n";

#[test]
fn apply_matches_the_expected_fixture_on_one_and_two_threads() {
    let expected = std::fs::read(fixture("expected.csv")).unwrap();
    for threads in ["1", "2"] {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("out.csv");
        let o = deid(
            &[
                "apply",
                "-p",
                fixture("policy.toml").to_str().unwrap(),
                "-k",
                fixture("keys.json").to_str().unwrap(),
                "--threads",
                threads,
                "-o",
                out.to_str().unwrap(),
                fixture("customers.csv").to_str().unwrap(),
            ],
            None,
        );
        assert!(o.status.success(), "{}", text(&o.stderr));
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
    let dir = tempfile::tempdir().unwrap();
    let back = dir.path().join("back.csv");
    let o = deid(
        &[
            "decrypt",
            "-q",
            "-p",
            fixture("policy.toml").to_str().unwrap(),
            "-k",
            fixture("keys.json").to_str().unwrap(),
            "-o",
            back.to_str().unwrap(),
            fixture("expected.csv").to_str().unwrap(),
        ],
        None,
    );
    assert!(o.status.success(), "{}", text(&o.stderr));
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
    let input = dir.path().join("in.csv");
    std::fs::write(&input, "id,phone,email\n1,010-1234-5678,a@b.kr\n2,SECRET-PHONE-99,c@d.kr\n3,010-9999-0000,e@f.kr\n").unwrap();
    let out = dir.path().join("out.csv");
    let o = deid(
        &[
            "apply",
            "-p",
            &pol,
            "-k",
            &keys,
            "-o",
            out.to_str().unwrap(),
            input.to_str().unwrap(),
        ],
        None,
    );
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
    let o = deid(
        &["apply", "-p", &pol, "-k", &keys, "--json-summary"],
        Some(b"phone,email\n010-1234-5678,a@b.kr\nnot-a-phone,x@y.kr\n"),
    );
    assert!(o.status.success(), "{}", text(&o.stderr));
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
    let o = deid(&["apply", "-q", "-p", &pol, "-k", &keys], Some(input));
    assert!(o.status.success(), "{}", text(&o.stderr));
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
    let o = deid(
        &["apply", "-p", &pol, "-k", &keys],
        Some(b"phone,email\n010-1234-5678,a@b.kr\n010-1234-5678\n"),
    );
    assert_eq!(o.status.code(), Some(1));
    assert!(
        text(&o.stderr).contains("<stdin>: row 2: row has 1 fields, the header has 2"),
        "{}",
        text(&o.stderr)
    );

    let o = deid(&["apply", "-p", &pol, "-k", &keys], Some(b""));
    assert_eq!(o.status.code(), Some(1));
    assert!(text(&o.stderr).contains("empty"), "{}", text(&o.stderr));

    let o = deid(
        &["apply", "-p", &pol, "-k", &keys],
        Some(b"phone,mail\n010-1234-5678,a@b.kr\n"),
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
    let o = deid(
        &["apply", "-q", "-p", &pol, "-k", &keys],
        Some(b"phone,email\n"),
    );
    assert!(o.status.success());
    assert_eq!(text(&o.stdout), "phone,email\n");
}

#[test]
fn invalid_utf8_in_a_normalized_field_names_row_and_column() {
    let (_dir, pol, keys) = setup(PHONE_POLICY);
    let o = deid(
        &["apply", "-p", &pol, "-k", &keys],
        Some(b"phone,email\n010-1234-5678,a\xff@b.kr\n"),
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
    let o = deid(&["apply", "-q", "-p", &pol, "-k", &keys], Some(&input));
    assert!(o.status.success(), "{}", text(&o.stderr));
    let out = text(&o.stdout);
    assert_eq!(out.lines().count(), 3);
    assert!(out.len() < 200);
}

#[test]
fn wrong_keyset_and_tampered_tokens_fail_closed() {
    let (dir, pol, keys) = setup(PHONE_POLICY);
    let o = deid(
        &["apply", "-q", "-p", &pol, "-k", &keys],
        Some(b"phone,email\n010-1234-5678,ada@example.com\n"),
    );
    assert!(o.status.success());
    let safe = text(&o.stdout);
    // Another keyset.
    let other = dir.path().join("other.json");
    let g = deid(&["keygen", "-o", other.to_str().unwrap()], None);
    assert!(g.status.success());
    let out = dir.path().join("back.csv");
    let o = deid(
        &[
            "decrypt",
            "-p",
            &pol,
            "-k",
            other.to_str().unwrap(),
            "-o",
            out.to_str().unwrap(),
        ],
        Some(safe.as_bytes()),
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
    let o = deid(
        &["decrypt", "-p", &pol, "-k", &keys],
        Some(tampered.as_bytes()),
    );
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
    let o = deid(
        &["apply", "-q", "-p", &pol, "-k", &keys, "--format", "jsonl"],
        Some(input),
    );
    assert!(o.status.success(), "{}", text(&o.stderr));
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
    let o = deid(
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
        Some(b"a;1990-02-03\nb;2001-12-31\n"),
    );
    assert!(o.status.success(), "{}", text(&o.stderr));
    assert_eq!(text(&o.stdout), "a;1990\nb;2001\n");
}

#[test]
fn unlisted_error_refuses_unnamed_columns() {
    let (_dir, pol, keys) =
        setup("version = 1\nunlisted = \"error\"\n[fields.a]\ntransform = \"keep\"\n");
    let o = deid(
        &["apply", "-p", &pol, "-k", &keys],
        Some(b"a,secret_col\n1,2\n"),
    );
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
    let o = deid(&["apply", "-p", &pol, "-k", &keys], Some(b"phone\n1\n"));
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
    let data = dir.path().join("d.csv");
    assert!(
        deid(
            &["gen", "--rows", "30000", "-o", data.to_str().unwrap()],
            None
        )
        .status
        .success()
    );
    let o = deid(
        &[
            "apply",
            "-q",
            "-p",
            &pol,
            "-k",
            &keys,
            "--threads",
            "2",
            data.to_str().unwrap(),
        ],
        None,
    );
    assert!(o.status.success());
    assert_eq!(o.stdout, std::fs::read(&data).unwrap());
}

#[test]
fn keygen_writes_0600_never_prints_the_secret_and_rotates() {
    let dir = tempfile::tempdir().unwrap();
    let k = dir.path().join("k.json");
    let o = deid(&["keygen", "-o", k.to_str().unwrap()], None);
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
    let again = deid(&["keygen", "-o", k.to_str().unwrap()], None);
    assert_eq!(again.status.code(), Some(1), "refuses to overwrite");
    let rot = deid(&["keygen", "-o", k.to_str().unwrap(), "--rotate"], None);
    assert!(rot.status.success(), "{}", text(&rot.stderr));
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&k).unwrap()).unwrap();
    assert_eq!(json["primary"], 2);
    assert_eq!(json["keys"][0]["secret"], secret.as_str(), "old key kept");
}

#[test]
fn readable_keyset_draws_a_warning() {
    let (dir, pol, _keys) = setup(PHONE_POLICY);
    let loose = dir.path().join("loose.json");
    std::fs::copy(fixture("keys.json"), &loose).unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&loose, std::fs::Permissions::from_mode(0o644)).unwrap();
        let o = deid(
            &["apply", "-q", "-p", &pol, "-k", loose.to_str().unwrap()],
            Some(b"phone,email\n"),
        );
        assert!(
            text(&o.stderr).contains("readable by group or others"),
            "{}",
            text(&o.stderr)
        );
    }
}

#[test]
fn usage_errors_exit_2_and_help_teaches() {
    assert_eq!(deid(&["apply"], None).status.code(), Some(2));
    assert_eq!(deid(&["no-such-command"], None).status.code(), Some(2));
    let help = deid(&["apply", "--help"], None);
    assert_eq!(help.status.code(), Some(0));
    let h = text(&help.stdout);
    assert!(h.contains("Examples:") && h.contains("on_error"), "{h}");
}

#[test]
fn a_closed_pipe_is_not_an_error() {
    let mut child = Command::new(BIN)
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
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("d.csv");
    assert!(
        deid(
            &[
                "gen",
                "--rows",
                "300",
                "--naive-hash",
                "-o",
                data.to_str().unwrap()
            ],
            None
        )
        .status
        .success()
    );
    let pol = dir.path().join("suggested.toml");
    let o = deid(
        &[
            "scan",
            data.to_str().unwrap(),
            "--json",
            "--policy-out",
            pol.to_str().unwrap(),
        ],
        None,
    );
    assert!(o.status.success(), "{}", text(&o.stderr));
    let doc: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
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
    for v in first.split(',').filter(|v| v.len() > 2) {
        assert!(!text(&o.stdout).contains(v), "{v} shown in clear");
    }
    // The suggested policy applies, and what it protects is gone.
    let o = deid(
        &[
            "apply",
            "-q",
            "-p",
            pol.to_str().unwrap(),
            "-k",
            fixture("keys.json").to_str().unwrap(),
            data.to_str().unwrap(),
        ],
        None,
    );
    assert!(o.status.success(), "{}", text(&o.stderr));
    let out = text(&o.stdout);
    let fields: Vec<&str> = first.split(',').collect();
    for v in [fields[1], fields[2], fields[3], fields[4], fields[11]] {
        assert!(!out.contains(v), "protected value {v} in the output");
    }
}
