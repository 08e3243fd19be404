//! The `deid` binary refusing what would destroy or leak: an output over one
//! of its inputs, a header row of personal data, absurd thread counts and
//! claims; exit codes that follow the verdict; no temporary file left by a
//! signal.
#![cfg(feature = "cli")]

use std::io::Write;
use std::path::Path;
use std::process::{Command, ExitStatus, Output, Stdio};
use std::time::{Duration, Instant};

use crate::common::{Ran, Workdir, assert_no_plant, deid, run_in, text, wait_or_kill};

/// A folder with the fixture keyset (0600), policy and customers.
fn workdir() -> Workdir {
    Workdir::with_fixtures(&["keys.json", "policy.toml", "customers.csv"])
}

/// Asserts a usage refusal (exit 2) that names `paths`, and that `file`
/// still holds `before`.
fn assert_refused(o: &Output, paths: &[&str], file: &Path, before: &[u8]) {
    let err = text(&o.stderr);
    assert_eq!(o.code(), Some(2), "stderr: {err}");
    for p in paths {
        assert!(err.contains(p), "{p} not named in: {err}");
    }
    assert_eq!(
        std::fs::read(file).unwrap(),
        before,
        "{} changed",
        file.display()
    );
}

#[test]
fn an_output_that_is_one_of_the_inputs_is_refused() {
    let dir = workdir();
    let d = dir.path();
    let keys = std::fs::read(d.join("keys.json")).unwrap();
    let policy = std::fs::read(d.join("policy.toml")).unwrap();
    let input = std::fs::read(d.join("customers.csv")).unwrap();
    #[cfg(unix)]
    std::os::unix::fs::symlink(d.join("keys.json"), d.join("keys-link.json")).unwrap();

    let pipeline = |cmd: &str, out: &str| {
        run_in(
            d,
            &[
                cmd,
                "-q",
                "-p",
                "policy.toml",
                "-k",
                "keys.json",
                "-o",
                out,
                "customers.csv",
            ],
        )
    };
    for cmd in ["apply", "decrypt"] {
        for (out, file, before) in [
            ("keys.json", "keys.json", &keys),
            ("./keys.json", "keys.json", &keys),
            ("policy.toml", "policy.toml", &policy),
            ("customers.csv", "customers.csv", &input),
            ("./customers.csv", "customers.csv", &input),
        ] {
            let o = pipeline(cmd, out);
            assert_refused(&o, &[out, file], &d.join(file), before);
        }
        #[cfg(unix)]
        {
            let o = pipeline(cmd, "keys-link.json");
            assert_refused(
                &o,
                &["keys-link.json", "keys.json"],
                &d.join("keys.json"),
                &keys,
            );
        }
    }
    // The same file through another folder's name.
    std::fs::create_dir(d.join("sub")).unwrap();
    let o = pipeline("apply", "sub/../keys.json");
    assert_refused(
        &o,
        &["sub/../keys.json", "keys.json"],
        &d.join("keys.json"),
        &keys,
    );

    let o = run_in(
        d,
        &["scan", "customers.csv", "--policy-out", "./customers.csv"],
    );
    assert_refused(
        &o,
        &["./customers.csv", "customers.csv"],
        &d.join("customers.csv"),
        &input,
    );

    dir.gen_csv("naive.csv", 20, &["--naive-hash"]);
    let naive = std::fs::read(d.join("naive.csv")).unwrap();
    let o = run_in(
        d,
        &[
            "audit",
            "hashes",
            "naive.csv",
            "-c",
            "phone_sha256",
            "--space",
            "010?d?d",
            "--reveal",
            "naive.csv",
        ],
    );
    assert_refused(&o, &["naive.csv"], &d.join("naive.csv"), &naive);

    dir.write(
        "claims.toml",
        "k_anonymity = { qi = [\"sex\"], k = 1 }\nnot_linkable = { auxiliary = \"aux.csv\", on = [\"sex\"] }\n",
    );
    std::fs::copy(d.join("naive.csv"), d.join("aux.csv")).unwrap();
    let claims = std::fs::read(d.join("claims.toml")).unwrap();
    for (out, file, before) in [
        ("claims.toml", "claims.toml", &claims),
        ("naive.csv", "naive.csv", &naive),
        ("./aux.csv", "aux.csv", &naive),
    ] {
        let o = run_in(
            d,
            &[
                "audit",
                "report",
                "naive.csv",
                "--claims",
                "claims.toml",
                "-o",
                out,
            ],
        );
        assert_refused(&o, &[out, file], &d.join(file), before);
    }

    // Writing elsewhere still works.
    let o = pipeline("apply", "safe.csv");
    o.assert_success();
}

#[test]
fn an_output_that_is_a_directory_is_named() {
    let dir = workdir();
    let d = dir.path();
    std::fs::create_dir(d.join("outdir")).unwrap();
    for args in [
        &[
            "apply",
            "-q",
            "-p",
            "policy.toml",
            "-k",
            "keys.json",
            "-o",
            "outdir",
            "customers.csv",
        ][..],
        &["gen", "--rows", "3", "-o", "outdir"][..],
        &["scan", "customers.csv", "--policy-out", "outdir"][..],
    ] {
        let o = run_in(d, args);
        let err = text(&o.stderr);
        assert_eq!(o.code(), Some(2), "{args:?}: {err}");
        assert!(err.contains("outdir"), "{args:?}: {err}");
    }
}

#[test]
fn a_refuted_headline_fails_the_report_without_a_claims_file() {
    let dir = Workdir::new();
    let d = dir.path();
    dir.gen_csv("export.csv", 300, &[]);
    let o = run_in(d, &["audit", "report", "export.csv"]);
    let out = text(&o.stdout);
    assert!(out.contains("REFUTED"), "{out}");
    assert_eq!(o.code(), Some(4), "{}", text(&o.stderr));
    let o = run_in(
        d,
        &[
            "audit",
            "report",
            "export.csv",
            "--format",
            "json",
            "-o",
            "r.json",
        ],
    );
    assert_eq!(o.code(), Some(4), "{}", text(&o.stderr));
    assert!(text(&std::fs::read(d.join("r.json")).unwrap()).contains("\"verdict\": \"REFUTED\""));
}

#[test]
fn thread_counts_are_bounded_usage_errors() {
    let dir = workdir();
    let d = dir.path();
    dir.gen_csv("naive.csv", 20, &["--naive-hash"]);
    for n in ["4294967295", "0", "257"] {
        for args in [
            &[
                "apply",
                "-q",
                "-p",
                "policy.toml",
                "-k",
                "keys.json",
                "-o",
                "out.csv",
                "--threads",
                n,
                "customers.csv",
            ][..],
            &[
                "decrypt",
                "-q",
                "-p",
                "policy.toml",
                "-k",
                "keys.json",
                "-o",
                "out.csv",
                "--threads",
                n,
                "customers.csv",
            ][..],
            &["bench", "--filter", "mask", "--threads", n][..],
            &["gen", "--rows", "3", "--threads", n][..],
            &[
                "audit",
                "hashes",
                "naive.csv",
                "-c",
                "phone_sha256",
                "--space",
                "010?d",
                "--threads",
                n,
            ][..],
            &["audit", "report", "naive.csv", "--threads", n][..],
        ] {
            let o = run_in(d, args);
            let err = text(&o.stderr);
            assert_eq!(o.code(), Some(2), "{args:?}: {err}");
            assert!(err.contains("256"), "{args:?}: {err}");
        }
    }
    let names: Vec<String> = std::fs::read_dir(d)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert!(
        !names.iter().any(|n| n.ends_with(".tmp") || n == "out.csv"),
        "{names:?}"
    );
    let o = run_in(
        d,
        &[
            "apply",
            "-q",
            "-p",
            "policy.toml",
            "-k",
            "keys.json",
            "-o",
            "out.csv",
            "--threads",
            "256",
            "customers.csv",
        ],
    );
    o.assert_success();
}

fn temp_files(dir: &Path) -> Vec<String> {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with(".deid-") && n.ends_with(".tmp"))
        .collect()
}

#[cfg(unix)]
#[test]
fn a_signal_removes_the_unfinished_output() {
    let dir = workdir();
    let d = dir.path();
    for (signal, status) in [("TERM", 143), ("INT", 130), ("HUP", 129)] {
        // Standard input stays open: apply has created its temporary output
        // and waits for more rows when the signal comes.
        let mut child = deid()
            .args([
                "apply",
                "-q",
                "-p",
                "policy.toml",
                "-k",
                "keys.json",
                "-o",
                "out.csv",
            ])
            .current_dir(d)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut stdin = child.stdin.take().unwrap();
        stdin
            .write_all(&std::fs::read(d.join("customers.csv")).unwrap())
            .unwrap();
        stdin.flush().unwrap();
        let start = Instant::now();
        while temp_files(d).is_empty() {
            assert!(
                start.elapsed() < Duration::from_secs(60),
                "no temporary file appeared"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        // Let the rows sent reach the temporary file's writer.
        std::thread::sleep(Duration::from_millis(300));
        let killed = Command::new("kill")
            .args([&format!("-{signal}"), &child.id().to_string()])
            .status()
            .unwrap();
        assert!(killed.success());
        let o = wait_or_kill(child, Duration::from_secs(30));
        drop(stdin);
        let st: ExitStatus = o.status;
        assert_eq!(
            st.code(),
            Some(status),
            "SIG{signal}: {st:?} {}",
            text(&o.stderr)
        );
        assert_eq!(temp_files(d), Vec::<String>::new(), "SIG{signal}");
        assert!(!d.join("out.csv").exists(), "SIG{signal}: output created");
    }
}

#[test]
fn usage_mistakes_exit_2() {
    let dir = Workdir::new();
    let d = dir.path();
    dir.gen_csv("naive.csv", 30, &["--naive-hash"]);
    for args in [
        &["audit", "risk", "naive.csv"][..],
        &[
            "audit",
            "risk",
            "naive.csv",
            "--qi",
            "sex",
            "--sampling-fraction",
            "1.5",
        ][..],
        &[
            "audit",
            "risk",
            "naive.csv",
            "--qi",
            "sex",
            "--sampling-fraction",
            "0",
        ][..],
        &[
            "audit",
            "risk",
            "naive.csv",
            "--qi",
            "sex",
            "--sampling-fraction",
            "NaN",
        ][..],
        &[
            "audit",
            "risk",
            "naive.csv",
            "--qi",
            "sex",
            "--population",
            "0",
        ][..],
        &[
            "audit",
            "hashes",
            "naive.csv",
            "-c",
            "phone_sha256",
            "--space",
            "no-such-space",
        ][..],
        &[
            "audit",
            "hashes",
            "naive.csv",
            "-c",
            "phone_sha256",
            "--algo",
            "md4",
        ][..],
    ] {
        let o = run_in(d, args);
        assert_eq!(o.code(), Some(2), "{args:?}: {}", text(&o.stderr));
    }
    // 32-byte digests cannot be MD5: refused before any search.
    let o = run_in(
        d,
        &[
            "audit",
            "hashes",
            "naive.csv",
            "-c",
            "phone_sha256",
            "--algo",
            "md5",
            "--space",
            "010?d?d",
        ],
    );
    let err = text(&o.stderr);
    assert_eq!(o.code(), Some(2), "{err}");
    assert!(
        err.contains("phone_sha256") && err.contains("32-byte") && err.contains("md5"),
        "{err}"
    );
    // A forced algorithm that fits still runs.
    let o = run_in(
        d,
        &[
            "audit",
            "hashes",
            "naive.csv",
            "-c",
            "phone_sha256",
            "--algo",
            "sha256",
            "--space",
            "010?d?d",
        ],
    );
    assert_eq!(o.code(), Some(0), "{}", text(&o.stderr));
}

#[test]
fn a_population_file_smaller_than_the_sample_is_an_error() {
    let dir = Workdir::new();
    let d = dir.path();
    dir.gen_csv("sample.csv", 50, &[]);
    dir.gen_csv("small.csv", 10, &[]);
    let o = run_in(
        d,
        &[
            "audit",
            "risk",
            "sample.csv",
            "--qi",
            "sex,city",
            "--population-file",
            "small.csv",
        ],
    );
    let err = text(&o.stderr);
    assert_eq!(o.code(), Some(1), "{err}");
    assert!(err.contains("small.csv") && err.contains("fewer"), "{err}");
    let o = run_in(
        d,
        &[
            "audit",
            "risk",
            "small.csv",
            "--qi",
            "sex,city",
            "--population-file",
            "sample.csv",
        ],
    );
    o.assert_success();
}

#[test]
fn claims_that_cannot_be_tested_are_refused() {
    let dir = Workdir::new();
    let d = dir.path();
    dir.gen_csv("export.csv", 40, &[]);
    for (claims, expect) in [
        ("k_anonymity = { qi = [\"sex\"], k = 0 }\n", "k_anonymity.k"),
        (
            "max_unique_share = 7.5\nquasi_identifiers = [\"sex\"]\n",
            "max_unique_share",
        ),
        (
            "max_unique_share = { qi = [\"sex\"], share = -0.1 }\n",
            "max_unique_share",
        ),
        ("k_anonymity = { qi = [], k = 2 }\n", "k_anonymity.qi"),
        (
            "sampling_fraction = 0.0\nquasi_identifiers = [\"sex\"]\n",
            "sampling_fraction",
        ),
        (
            "k_anonymity = { qi = [\"sex\", \"no_such_col\"], k = 2 }\n",
            "no_such_col",
        ),
        ("irreversible = [\"phone_hash\"]\n", "phone_hash"),
    ] {
        dir.write("claims.toml", claims);
        let o = run_in(
            d,
            &["audit", "report", "export.csv", "--claims", "claims.toml"],
        );
        let err = text(&o.stderr);
        assert_eq!(o.code(), Some(1), "{claims}: {err}");
        assert!(err.contains(expect), "{claims}: {err}");
        assert!(o.stdout.is_empty(), "{claims}: a report was printed");
    }
}

/// Rows of personal data with no header row.
const HEADERLESS: &str = "\
홍길동,010-1234-5678,hong.gildong@example.com,900101-1234568,M,06236
김영희,010-9876-5432,kim.younghee@example.com,850505-2345671,F,06236
";
const PERSONAL: [&str; 5] = [
    "홍길동",
    "010-1234-5678",
    "hong.gildong@example.com",
    "900101-1234568",
    "06236",
];

#[track_caller]
fn assert_no_personal_data(what: &str, o: &Output) {
    assert_no_plant(what, &[&o.stdout[..], &o.stderr[..]].concat(), PERSONAL);
}

#[test]
fn a_header_row_of_data_is_refused_and_never_printed() {
    let dir = Workdir::new();
    let d = dir.path();
    dir.write("raw.csv", HEADERLESS);
    dir.write("raw2.csv", HEADERLESS);
    for args in [
        &["scan", "raw.csv"][..],
        &["scan", "raw.csv", "--json"][..],
        &["audit", "hashes", "raw.csv", "-c", "phone"][..],
        &["audit", "risk", "raw.csv", "--qi", "sex"][..],
        &["audit", "risk", "raw.csv", "--find-qi"][..],
        &[
            "audit",
            "link",
            "--released",
            "raw.csv",
            "--auxiliary",
            "raw2.csv",
            "--on",
            "sex",
        ][..],
        &["audit", "report", "raw.csv"][..],
    ] {
        let o = run_in(d, args);
        let err = text(&o.stderr);
        assert!(matches!(o.code(), Some(1 | 2)), "{args:?}: {err}");
        assert!(err.contains("looks like data"), "{args:?}: {err}");
        assert!(err.contains("columns 2, 3, 4, 6"), "{args:?}: {err}");
        assert_no_personal_data(&format!("{args:?}"), &o);
    }
    assert!(!d.join("policy.toml").exists());

    // With --no-header, columns are numbers and the values stay unprinted.
    let o = run_in(d, &["scan", "raw.csv", "--no-header"]);
    o.assert_success();
    assert!(text(&o.stdout).contains("[fields.2]") || text(&o.stdout).contains("[fields.\"2\"]"));
    assert_no_personal_data("scan --no-header", &o);
    for args in [
        &[
            "audit",
            "hashes",
            "raw.csv",
            "--no-header",
            "-c",
            "2",
            "--space",
            "010?d",
        ][..],
        &["audit", "risk", "raw.csv", "--no-header", "--qi", "5,6"][..],
        &[
            "audit",
            "risk",
            "raw.csv",
            "--no-header",
            "--find-qi",
            "--max-qi",
            "2",
        ][..],
        &[
            "audit",
            "link",
            "--no-header",
            "--released",
            "raw.csv",
            "--auxiliary",
            "raw2.csv",
            "--on",
            "5,6",
        ][..],
    ] {
        let o = run_in(d, args);
        assert!(
            matches!(o.code(), Some(0 | 1)),
            "{args:?}: {}",
            text(&o.stderr)
        );
        assert_no_personal_data(&format!("{args:?}"), &o);
    }
    let o = run_in(
        d,
        &["audit", "risk", "raw.csv", "--no-header", "--qi", "5,6"],
    );
    o.assert_success();
}
