//! `deid anonymize --policy-out` handed to `deid apply`: the written policy
//! gives exactly the classes and the suppressed records the search
//! predicted. The expected output is computed here, independently of the
//! library: hierarchy labels from the files (or the built-ins' definitions
//! in docs/ANONYMIZE.md), classes grouped in a hash map, classes under k
//! removed. Also: hierarchy rules in hand-written policies, their errors,
//! and a suppression limit that fails closed.
#![cfg(feature = "cli")]

use crate::common;

use std::collections::HashMap;
use std::path::Path;

use common::{Workdir, repo_file, run, text};

/// ARX's example data (org.deidentifier.arx.test.DataProvider), 7 records.
const DATA: &str = "age,gender,zipcode\n34,male,81667\n45,female,81675\n66,male,81925\n70,female,81931\n34,female,81931\n70,male,81931\n45,male,81931\n";
const AGE: &str = "34;<50;*\n45;<50;*\n66;>=50;*\n70;>=50;*\n";
const GENDER: &str = "male;*\nfemale;*\n";
const ZIP: &str = "81667;816**;*\n81675;816**;*\n81925;819**;*\n81931;819**;*\n";

fn rows(csv: &str) -> (Vec<String>, Vec<Vec<String>>) {
    let mut lines = csv.lines();
    let header = lines
        .next()
        .unwrap_or_default()
        .split(',')
        .map(String::from)
        .collect();
    let body = lines
        .filter(|l| !l.is_empty())
        .map(|l| l.split(',').map(String::from).collect())
        .collect();
    (header, body)
}

/// An ARX hierarchy file as a map value -> labels (level 0 first).
fn table(body: &str) -> HashMap<String, Vec<String>> {
    body.lines()
        .filter(|l| !l.is_empty())
        .map(|l| {
            let f: Vec<String> = l.split(';').map(String::from).collect();
            (f[0].clone(), f)
        })
        .collect()
}

/// What the input becomes: each quasi-identifier column replaced by
/// `label(column index, value)`, then the records of classes (over those
/// columns) smaller than `k` removed. Returns the sorted rows and the
/// number removed.
fn expected(
    csv: &str,
    qi: &[&str],
    k: usize,
    label: impl Fn(usize, &str) -> String,
) -> (Vec<Vec<String>>, u64) {
    let (header, body) = rows(csv);
    let idx: Vec<usize> = qi
        .iter()
        .map(|q| header.iter().position(|h| h == q).unwrap())
        .collect();
    let out: Vec<Vec<String>> = body
        .into_iter()
        .map(|mut r| {
            for (c, &i) in idx.iter().enumerate() {
                r[i] = label(c, &r[i]);
            }
            r
        })
        .collect();
    let key = |r: &Vec<String>| idx.iter().map(|&i| r[i].clone()).collect::<Vec<_>>();
    let mut sizes: HashMap<Vec<String>, usize> = HashMap::new();
    for r in &out {
        *sizes.entry(key(r)).or_default() += 1;
    }
    let mut kept: Vec<Vec<String>> = out
        .iter()
        .filter(|r| sizes[&key(r)] >= k)
        .cloned()
        .collect();
    let removed = (out.len() - kept.len()) as u64;
    kept.sort();
    (kept, removed)
}

fn sorted_output(path: &str) -> (Vec<String>, Vec<Vec<String>>) {
    let (header, mut body) = rows(&std::fs::read_to_string(path).unwrap());
    body.sort();
    (header, body)
}

/// Runs `deid apply` with `policy` on `data`, returning the summary (JSON).
fn apply(dir: &Workdir, policy: &str, data: &str, out: &str) -> serde_json::Value {
    let keys = dir.keygen("keys.json");
    let o = run(&[
        "apply",
        "-p",
        policy,
        "-k",
        &keys,
        "-o",
        out,
        "--json-summary",
        data,
    ]);
    assert!(o.status.success(), "{}", text(&o.stderr));
    let line = text(&o.stderr);
    serde_json::from_str(line.lines().last().unwrap_or_default()).unwrap()
}

/// The levels and predicted suppressed records of the best node in
/// `deid anonymize --json` output (the run must have succeeded).
fn best_node(o: &std::process::Output) -> (Vec<usize>, u64) {
    assert!(o.status.success(), "{}", text(&o.stderr));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let node = &v["nodes"][0];
    let levels = node["levels"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l.as_u64().unwrap() as usize)
        .collect();
    (levels, node["suppressed"].as_u64().unwrap())
}

#[test]
fn policy_out_on_arx_example_gives_the_predicted_classes() {
    let dir = Workdir::new();
    let data = dir.write("data.csv", DATA);
    let age = dir.write("age.csv", AGE);
    let gender = dir.write("gender.csv", GENDER);
    let zip = dir.write("zip.csv", ZIP);
    let policy = dir.file("out/policy.toml");
    std::fs::create_dir_all(dir.join("out")).unwrap();
    let o = run(&[
        "anonymize",
        &data,
        "--qi",
        "age,gender,zipcode",
        "--hierarchy",
        &format!("age={age}"),
        "--hierarchy",
        &format!("gender={gender}"),
        "--hierarchy",
        &format!("zipcode={zip}"),
        "--model",
        "k=2",
        "--suppress",
        "0.15",
        "--policy-out",
        &policy,
        "--json",
        "-q",
    ]);
    assert!(o.status.success(), "{}", text(&o.stderr));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["nodes"][0]["levels"], serde_json::json!([1, 0, 2]));
    assert_eq!(v["nodes"][0]["suppressed"], 1);
    assert_eq!(v["policy"], serde_json::json!(policy));
    let written = std::fs::read_to_string(&policy).unwrap();
    // Header comment: node, loss, models, predicted count; hierarchy files
    // outside the policy's folder named by their absolute path.
    assert!(
        written.contains("# node: age=1 gender=0 zipcode=2"),
        "{written}"
    );
    assert!(
        written.contains("# predicted: 1 records suppressed"),
        "{written}"
    );
    let age_path = std::fs::canonicalize(&age).unwrap();
    assert!(
        written.contains(&format!("hierarchy = \"{}\"", age_path.display())),
        "{written}"
    );
    assert!(written.contains("unlisted = \"error\""), "{written}");

    let out = dir.file("safe.csv");
    let summary = apply(&dir, &policy, &data, &out);
    assert_eq!(summary["rows_suppressed"], 1);
    assert_eq!(summary["rows_out"], 6);
    let tables = [table(AGE), table(GENDER), table(ZIP)];
    let levels = [1, 0, 2];
    let (want, removed) = expected(DATA, &["age", "gender", "zipcode"], 2, |c, v| {
        tables[c][v][levels[c]].clone()
    });
    assert_eq!(removed, 1);
    let (header, got) = sorted_output(&out);
    assert_eq!(header, ["age", "gender", "zipcode"]);
    assert_eq!(got, want);
}

/// Built-in hierarchies as docs/ANONYMIZE.md defines them, written out
/// here: integer intervals of each width then `*`; one trailing character
/// dropped per level, `*` from the value's length on (the top level is the
/// longest value's length).
fn interval(widths: &[i64], level: usize, v: &str) -> String {
    if level == 0 {
        return v.to_string();
    }
    match widths.get(level - 1) {
        Some(w) => {
            let x: i64 = v.parse().unwrap();
            let lo = x.div_euclid(*w) * w;
            format!("{lo}-{}", lo + w - 1)
        }
        None => "*".to_string(),
    }
}

fn prefix(level: usize, v: &str) -> String {
    if level >= v.chars().count() {
        "*".to_string()
    } else {
        v.chars().take(v.chars().count() - level).collect()
    }
}

const SMALL: &str = "id,age,zip,diagnosis\n1,21,04524,flu\n2,22,04525,cold\n3,27,04531,flu\n4,28,04532,hiv\n5,35,04533,flu\n6,36,04533,cold\n7,61,13000,cold\n8,44,04524,flu\n";

#[test]
fn policy_out_with_builtins_keeps_every_other_column() {
    let dir = Workdir::new();
    let data = dir.write("small.csv", SMALL);
    let policy = dir.file("policy.toml");
    let o = run(&[
        "anonymize",
        &data,
        "--qi",
        "age,zip",
        "--hierarchy",
        "age=interval:5,10,20",
        "--hierarchy",
        "zip=prefix",
        "--model",
        "k=2",
        "--suppress",
        "0.25",
        "--metric",
        "loss",
        "--policy-out",
        &policy,
        "--json",
        "-q",
    ]);
    let (levels, predicted) = best_node(&o);
    let written = std::fs::read_to_string(&policy).unwrap();
    assert!(
        written.contains("hierarchy = \"interval:5,10,20\""),
        "{written}"
    );
    assert!(written.contains("[fields.diagnosis]"), "{written}");

    let out = dir.file("safe.csv");
    let summary = apply(&dir, &policy, &data, &out);
    let (want, removed) = expected(SMALL, &["age", "zip"], 2, |c, v| match c {
        0 => interval(&[5, 10, 20], levels[0], v),
        _ => prefix(levels[1], v),
    });
    assert_eq!(removed, predicted, "levels {levels:?}");
    assert_eq!(summary["rows_suppressed"], predicted);
    let (header, got) = sorted_output(&out);
    assert_eq!(header, ["id", "age", "zip", "diagnosis"]);
    assert_eq!(got, want, "levels {levels:?}");
    // Something was generalized and something suppressed: the test bites.
    assert!(levels.iter().any(|&l| l > 0) && predicted > 0, "{levels:?}");
}

#[test]
fn adult_policy_out_reproduces_the_search() {
    let Some(adult) = std::env::var_os("DEID_ARX_ADULT") else {
        assert!(
            std::env::var_os("CI").is_none(),
            "DEID_ARX_ADULT is not set: run scripts/test.sh, which derives the data"
        );
        eprintln!("SKIPPED: DEID_ARX_ADULT not set (scripts/test.sh sets it)");
        return;
    };
    let adult = adult.to_string_lossy().to_string();
    let qi = ["sex", "age", "race", "marital-status", "education"];
    let dir = Workdir::new();
    let policy = dir.file("adult.toml");
    let mut args: Vec<String> = vec![
        "anonymize".into(),
        adult.clone(),
        "--qi".into(),
        qi.join(","),
    ];
    let files: Vec<std::path::PathBuf> = qi
        .iter()
        .map(|q| repo_file(&format!("tests/data/arx-adult/adult_hierarchy_{q}.csv")))
        .collect();
    for (q, f) in qi.iter().zip(&files) {
        args.push("--hierarchy".into());
        args.push(format!("{q}={}", f.display()));
    }
    for a in [
        "--model",
        "k=5",
        "--suppress",
        "0.02",
        "--metric",
        "loss",
        "--policy-out",
        &policy,
        "--json",
        "-q",
    ] {
        args.push(a.into());
    }
    let argv: Vec<&str> = args.iter().map(String::as_str).collect();
    let o = run(&argv);
    let (levels, predicted) = best_node(&o);
    eprintln!("Adult, 5 QIs, k=5, 2%, loss: {levels:?}, {predicted} suppressed");

    let out = dir.file("adult-safe.csv");
    let summary = apply(&dir, &policy, &adult, &out);
    let data = std::fs::read_to_string(&adult).unwrap();
    let tables: Vec<HashMap<String, Vec<String>>> = files
        .iter()
        .map(|f| table(&std::fs::read_to_string(f).unwrap()))
        .collect();
    let (want, removed) = expected(&data, &qi, 5, |c, v| tables[c][v][levels[c]].clone());
    assert_eq!(removed, predicted);
    assert_eq!(summary["rows_suppressed"], predicted);
    assert_eq!(summary["rows_out"], 30162 - predicted);
    let (_, got) = sorted_output(&out);
    assert!(
        got == want,
        "apply's output differs from the predicted classes"
    );
}

fn keys(dir: &Workdir) -> String {
    dir.keygen("k.json")
}

#[test]
fn hierarchy_rule_errors_name_file_row_column_and_write_nothing() {
    let dir = Workdir::new();
    let data = dir.write("data.csv", DATA);
    let keys = keys(&dir);
    // 70 (first at row 4) has no row in this file.
    dir.write("age.csv", "34;<50;*\n45;<50;*\n66;>=50;*\n");
    let out = dir.file("out.csv");
    let policy = dir.write(
        "p.toml",
        "version = 1\n[fields.age]\ntransform = \"generalize\"\nhierarchy = \"age.csv\"\nlevel = 1\n",
    );
    let o = run(&["apply", "-p", &policy, "-k", &keys, "-o", &out, &data]);
    assert_eq!(o.status.code(), Some(1));
    let err = text(&o.stderr);
    assert!(
        err.contains("age.csv") && err.contains("row 4") && err.contains("age"),
        "{err}"
    );
    assert!(err.contains("no row"), "{err}");
    let shown = err.replace(&dir.path().display().to_string(), "");
    assert!(!shown.contains("70"), "{err}");
    assert!(!Path::new(&out).exists());

    // A level above the file's top.
    dir.write("age.csv", AGE);
    let policy = dir.write(
        "p.toml",
        "version = 1\n[fields.age]\ntransform = \"generalize\"\nhierarchy = \"age.csv\"\nlevel = 3\n",
    );
    let o = run(&["apply", "-p", &policy, "-k", &keys, "-o", &out, &data]);
    assert_eq!(o.status.code(), Some(1));
    let err = text(&o.stderr);
    assert!(
        err.contains("level 3") && err.contains("levels 0 to 2") && err.contains("age"),
        "{err}"
    );
    assert!(!Path::new(&out).exists());

    // A malformed file: its row and rule.
    dir.write("age.csv", "34;<50;*\n45;<50\n");
    let policy = dir.write(
        "p.toml",
        "version = 1\n[fields.age]\ntransform = \"generalize\"\nhierarchy = \"age.csv\"\nlevel = 1\n",
    );
    let o = run(&["apply", "-p", &policy, "-k", &keys, "-o", &out, &data]);
    assert_eq!(o.status.code(), Some(1));
    let err = text(&o.stderr);
    assert!(err.contains("age.csv") && err.contains("row 2"), "{err}");
    assert!(!Path::new(&out).exists());

    // A built-in that cannot take the value: the row and column, not the value.
    let policy = dir.write(
        "p.toml",
        "version = 1\n[fields.gender]\ntransform = \"generalize\"\nhierarchy = \"date\"\nlevel = 2\n",
    );
    let o = run(&["apply", "-p", &policy, "-k", &keys, "-o", &out, &data]);
    assert_eq!(o.status.code(), Some(1));
    let err = text(&o.stderr);
    assert!(
        err.contains("row 1") && err.contains("gender") && err.contains("date"),
        "{err}"
    );
    let shown = err.replace(&dir.path().display().to_string(), "");
    assert!(!shown.contains("male"), "{err}");
    assert!(!Path::new(&out).exists());
}

#[test]
fn hand_written_policy_with_builtin_levels() {
    let dir = Workdir::new();
    let data = dir.write("small.csv", SMALL);
    let keys = keys(&dir);
    let out = dir.file("out.csv");
    let policy = dir.write(
        "p.toml",
        "version = 1\n[fields.age]\ntransform = \"generalize\"\nhierarchy = \"interval:5,10\"\nlevel = 2\n[fields.zip]\ntransform = \"generalize\"\nhierarchy = \"prefix\"\nlevel = 3\n",
    );
    let o = run(&["apply", "-p", &policy, "-k", &keys, "-o", &out, &data]);
    assert!(o.status.success(), "{}", text(&o.stderr));
    let (want, _) = expected(SMALL, &["age", "zip"], 1, |c, v| match c {
        0 => interval(&[5, 10], 2, v),
        _ => prefix(3, v),
    });
    assert_eq!(sorted_output(&out).1, want);
}

const SUPPRESS_POLICY: &str = "version = 1
[fields.age]
transform = \"generalize\"
hierarchy = \"age.csv\"
level = 1
[fields.zipcode]
transform = \"generalize\"
hierarchy = \"zip.csv\"
level = 1
[suppress]
quasi_identifiers = [\"age\", \"zipcode\"]
k = 2
";

#[test]
fn suppression_over_its_limit_fails_closed() {
    let dir = Workdir::new();
    let data = dir.write("data.csv", DATA);
    dir.write("age.csv", AGE);
    dir.write("zip.csv", ZIP);
    let keys = keys(&dir);
    let out = dir.file("out.csv");
    // At (1, 1): classes (<50,816**) 2, (>=50,819**) 3, (<50,819**) 2: k = 2
    // suppresses nothing, k = 3 suppresses 4 of 7 (more than 0.5 allows).
    let policy = dir.write("p.toml", format!("{SUPPRESS_POLICY}limit = 0.5\n"));
    let o = run(&["apply", "-p", &policy, "-k", &keys, "-o", &out, &data]);
    assert!(o.status.success(), "{}", text(&o.stderr));
    let strict = SUPPRESS_POLICY.replace("k = 2", "k = 3");
    let policy = dir.write("p.toml", format!("{strict}limit = 0.5\n"));
    std::fs::remove_file(&out).unwrap();
    let o = run(&["apply", "-p", &policy, "-k", &keys, "-o", &out, &data]);
    assert_eq!(o.status.code(), Some(1));
    let err = text(&o.stderr);
    assert!(
        err.contains("4 of 7") && err.contains("more than the limit"),
        "{err}"
    );
    assert!(!Path::new(&out).exists());
    // Within the limit, the four records go and are counted.
    let policy = dir.write("p.toml", format!("{strict}limit = 0.6\n"));
    let summary = apply(&dir, &policy, &data, &out);
    assert_eq!(summary["rows_suppressed"], 4);
    assert_eq!(summary["rows_out"], 3);
    // Standard input cannot be read twice: refused before anything runs.
    let o = common::run_stdin(
        &["apply", "-p", &policy, "-k", &keys, "-o", &out],
        DATA.as_bytes(),
    );
    assert_eq!(o.status.code(), Some(2));
    assert!(text(&o.stderr).contains("not standard input"));
}
