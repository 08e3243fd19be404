//! The audit's whole story: `deid demo` auditing both exports, and the
//! report's criteria, adversary model, remedies, dictionaries from an
//! auxiliary column and parameters, on files with known answers.
#![cfg(feature = "cli")]

use crate::common;

use common::{Ran, Workdir, run};
use deid::audit::hashes::{Algorithm, Construction};
use serde_json::Value;

fn hex_digest(algo: Algorithm, c: &Construction, id: &str) -> String {
    let mut out = [0u8; 64];
    let n = c.digest(algo, id.as_bytes(), &mut out);
    out[..n].iter().map(|b| format!("{b:02x}")).collect()
}

#[test]
fn demo_audits_both_exports_side_by_side_and_writes_both_html_reports() {
    let dir = Workdir::new();
    let out = dir.file("demo");
    // A narrow phone space keeps the (debug-built) search short; the emails
    // are all reversed from the customer list.
    let o = run(&[
        "demo",
        "--rows",
        "1500",
        "--dir",
        &out,
        "--phone-space",
        "010-12?d?d-?d?d?d?d",
    ]);
    o.assert_success();
    let text = String::from_utf8_lossy(&o.stdout);
    assert!(text.contains("NAIVE EXPORT (unsalted SHA-256)"), "{text}");
    assert!(text.contains("DEID EXPORT"), "{text}");
    assert!(!text.contains("Try: deid audit hashes"), "{text}");
    // Naive: REFUTED, emails reversed from the customer list; deid: no hash
    // reversed, its pseudonyms named as linkable.
    let naive = dir.join("demo/naive_report.html");
    let safe = dir.join("demo/deid_report.html");
    let naive_html = std::fs::read_to_string(&naive).unwrap();
    let safe_html = std::fs::read_to_string(&safe).unwrap();
    assert!(naive_html.contains("REFUTED"));
    assert!(text.contains("100.0% of rows REVERSED"), "{text}");
    assert!(text.contains("none reversed"), "{text}");
    assert!(text.contains("phone, email (stable per person"), "{text}");
    assert!(safe_html.contains("Stable pseudonyms"));
    assert!(safe_html.contains("Whose perspective"));
    // The same claims were tested on both, and the reports name the criteria.
    for h in [&naive_html, &safe_html] {
        assert!(h.contains("Criteria"));
        assert!(h.contains("ISO/IEC 27559"));
    }
    assert!(naive_html.contains("AEPD-EDPS"));
}

fn report_json(dir: &Workdir, input: &str, claims: &str) -> (std::process::Output, Value) {
    let c = dir.write("claims.toml", claims);
    let o = run(&["audit", "report", input, "--claims", &c, "--format", "json"]);
    let v = serde_json::from_slice(&o.stdout).unwrap_or(Value::Null);
    (o, v)
}

fn cited(v: &Value, subject_part: &str) -> Vec<String> {
    v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["subject"].as_str().unwrap().contains(subject_part))
        .flat_map(|f| f["criteria"].as_array().unwrap().clone())
        .map(|c| c["id"].as_str().unwrap().to_string())
        .collect()
}

/// 40 records: unsalted SHA-256 of phones in a small space, HMAC pseudonyms,
/// and quasi-identifiers unique as given, 5-anonymous once birth dates are
/// cut to the year and postal codes to 3 digits.
fn export(dir: &Workdir) -> String {
    let key = Construction::Hmac {
        key: zeroize::Zeroizing::new(b"a secret key".to_vec()),
    };
    let mut csv = String::from("id,phone_sha256,phone_hmac,birth_date,sex,postal_code\n");
    for i in 0..40 {
        let phone = format!("010-1234-{:04}", 100 + i);
        // Class c of 5 records: the year and the first two postal digits.
        let c = i % 8;
        csv.push_str(&format!(
            "{i},{},{},{}-{:02}-{:02},F,{}5{:03}\n",
            hex_digest(Algorithm::Sha256, &Construction::Plain, &phone),
            hex_digest(Algorithm::Sha256, &key, &phone),
            1970 + 10 * (c % 2),
            1 + i % 12,
            1 + i % 28,
            1 + c / 2,
            i
        ));
    }
    dir.write("export.csv", csv)
}

#[test]
fn criteria_adversary_remedies_and_parameters_in_the_json_report() {
    let dir = Workdir::new();
    let input = export(&dir);
    let (o, v) = report_json(
        &dir,
        &input,
        r#"irreversible = ["phone_sha256", "phone_hmac"]
k_anonymity = { qi = ["birth_date", "sex", "postal_code"], k = 5 }
hash_spaces = ["010-1234-?d?d?d?d"]
"#,
    );
    assert_eq!(
        o.status.code(),
        Some(4),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    // deid_version and the parameters used.
    assert_eq!(v["deid_version"], env!("CARGO_PKG_VERSION"));
    assert_eq!(v["parameters"]["max_risk"], 0.09);
    assert_eq!(v["parameters"]["claims"]["k_anonymity"]["k"], 5);
    assert_eq!(
        v["parameters"]["quasi_identifiers"],
        serde_json::json!(["birth_date", "sex", "postal_code"])
    );
    // A refuted hash claim cites the hash criteria, not ISO/IEC 27559.
    let hash = cited(&v, "column phone_sha256 cannot be reversed");
    for id in [
        "edpb-2025",
        "aepd-edps-hash",
        "enisa-2019",
        "pipc-guideline",
    ] {
        assert!(hash.contains(&id.to_string()), "{hash:?}");
    }
    assert!(!hash.contains(&"iso-27559".to_string()));
    // The keyed column is not reversed (no false positive) and is cited as
    // needing its key kept separately.
    let keyed = cited(&v, "column phone_hmac cannot be reversed");
    assert!(keyed.contains(&"pipa-separate".to_string()), "{keyed:?}");
    let claims = v["claims"].as_array().unwrap();
    assert_eq!(claims[0]["status"], "REFUTED");
    assert_eq!(claims[1]["status"], "SUPPORTED");
    // A k claim cites ISO/IEC 27559 and 20889; the default max-risk
    // threshold is a finding with the EMA / Health Canada criterion.
    let k = cited(&v, "5-anonymous");
    assert!(k.contains(&"iso-27559".to_string()) && k.contains(&"iso-20889".to_string()));
    assert!(cited(&v, "(default threshold)").contains(&"ema-hc-threshold".to_string()));
    // Nothing untested is cited: no population file, no linkage.
    let all: Vec<String> = cited(&v, "");
    assert!(!all.contains(&"arx-gsdp-population".to_string()));
    assert!(
        v["findings"]
            .as_array()
            .unwrap()
            .iter()
            .all(|f| f["kind"] != "linkage" && f["kind"] != "population")
    );
    // The adversary model names what was not tested.
    let not_tested = v["adversary"]["not_tested"].to_string();
    assert!(not_tested.contains("linkage"), "{not_tested}");
    assert!(not_tested.contains("salts and keys"), "{not_tested}");
    // Remedies: the keyed pseudonym for the hash; for k, the optimal
    // generalization (the lattice search) with its exact figures.
    let remedies = v["remedies"].as_array().unwrap();
    let hash_fix = remedies
        .iter()
        .find(|r| r["claim"] == "column phone_sha256 cannot be reversed")
        .unwrap();
    assert!(
        hash_fix["policy"]
            .as_str()
            .unwrap()
            .contains("[fields.phone]\nnormalize = [\"phone:KR\"]\ntransform = \"pseudonymize\"")
    );
    let k_fix = remedies
        .iter()
        .find(|r| r["claim"].as_str().unwrap().starts_with("5-anonymous"))
        .unwrap();
    let options = k_fix["options"].as_array().unwrap();
    let best = &options[0];
    assert_eq!(best["reaches_k"], true);
    // The least loss reaching 5: birth dates to the year, postal codes to
    // 3 digits (the third is always 0 here): 8 classes of exactly 5.
    let opt = &k_fix["optimum"];
    let levels: Vec<u64> = opt["columns"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["level"].as_u64().unwrap())
        .collect();
    assert_eq!(levels, [2, 0, 2]);
    assert_eq!(
        (opt["k"].as_u64(), opt["suppressed"].as_u64()),
        (Some(5), Some(0))
    );
    // Precision: (2/5 + 0/1 + 2/5) / 3.
    assert!((opt["loss"].as_f64().unwrap() - 0.8 / 3.0).abs() < 1e-12);
    assert_eq!(
        best["steps"],
        serde_json::json!([
            "birth_date to year",
            "sex kept as written",
            "postal_code last 2 characters dropped"
        ])
    );
    assert_eq!(
        (best["k"].as_u64(), best["classes"].as_u64()),
        (Some(5), Some(8))
    );
    assert_eq!(best["suppressed_share"], 0.0);
    assert!(
        best["policy"]
            .as_str()
            .unwrap()
            .contains("transform = \"generalize\"")
    );
}

#[test]
fn a_dictionary_from_an_auxiliary_column_reverses_normalized_emails_only() {
    let dir = Workdir::new();
    let customers = [
        " Jane.Doe+news@GMail.com",
        "KIM@naver.com ",
        "lee.s@daum.net",
    ];
    let mut aux = String::from("customer_id,email\n");
    for (i, e) in customers.iter().enumerate() {
        aux.push_str(&format!("{i},\"{e}\"\n"));
    }
    dir.write("customers.csv", aux);
    // What matching programs hash: trimmed, lowercased, Gmail dots and tag gone.
    let shipped = ["janedoe@gmail.com", "kim@naver.com", "lee.s@daum.net"];
    let key = Construction::Hmac {
        key: zeroize::Zeroizing::new(b"k".to_vec()),
    };
    let mut csv = String::from("id,email_sha256,email_hmac\n");
    for (i, e) in shipped.iter().enumerate() {
        csv.push_str(&format!(
            "{i},{},{}\n",
            hex_digest(Algorithm::Sha256, &Construction::Plain, e),
            hex_digest(Algorithm::Sha256, &key, e)
        ));
    }
    let input = dir.write("export.csv", csv);
    let (o, v) = report_json(
        &dir,
        &input,
        r#"irreversible = ["email_sha256", "email_hmac"]
dictionaries = { email_sha256 = "customers.csv:email", email_hmac = "customers.csv:email" }
"#,
    );
    assert_eq!(o.status.code(), Some(4));
    let h = v["hashes"].as_array().unwrap();
    assert_eq!(h[0]["column"], "email_sha256");
    assert_eq!(h[0]["reversed_rows"], 3);
    assert_eq!(h[1]["column"], "email_hmac");
    assert_eq!(h[1]["reversed_rows"], 0);
    assert!(h[1]["candidates"].as_u64().unwrap() > 0);
    assert_eq!(v["claims"][1]["status"], "SUPPORTED");
    assert!(
        v["adversary"]["given"]
            .to_string()
            .contains("customers.csv:email")
    );
    // No recovered identifier leaks into the report.
    let text = String::from_utf8_lossy(&o.stdout);
    for e in shipped {
        assert!(!text.contains(e));
    }
}

#[test]
fn a_bad_dictionary_or_threshold_is_refused_before_reading() {
    let dir = Workdir::new();
    let input = export(&dir);
    for bad in [
        "dictionaries = { phone_sha256 = \"customers.csv\" }\n",
        "max_risk = 0\n",
        "max_risk = 1.5\n",
        "dictionaries = { nope = \"c.csv:email\" }\n",
    ] {
        let (o, _) = report_json(&dir, &input, bad);
        assert_eq!(o.status.code(), Some(1), "{bad}");
    }
}

/// Population of 12 on (age, sex): (30,F) 6, (30,M) 3, (40,F) 2, (40,M) 1;
/// sample of 5: (30,F) 3, (30,M) 1, (40,F) 1.
fn population_files(dir: &Workdir) -> (String, String) {
    let mut pop = String::from("age,sex\n");
    for (a, s, n) in [
        ("30", "F", 6),
        ("30", "M", 3),
        ("40", "F", 2),
        ("40", "M", 1),
    ] {
        for _ in 0..n {
            pop.push_str(&format!("{a},{s}\n"));
        }
    }
    let sample = "age,sex\n30,F\n30,F\n30,F\n30,M\n40,F\n";
    (
        dir.write("population.csv", pop),
        dir.write("sample.csv", sample),
    )
}

#[test]
fn delta_presence_and_k_map_against_a_population_by_hand() {
    let dir = Workdir::new();
    let (pop, sample) = population_files(&dir);
    let o = run(&[
        "audit",
        "risk",
        &sample,
        "--qi",
        "age,sex",
        "--population-file",
        &pop,
        "--json",
    ]);
    o.assert_success();
    let v: Value = serde_json::from_slice(&o.stdout).unwrap();
    let j = &v["journalist"];
    // delta = 3/6, 1/3, 1/2; k-map = 2 (the (40,F) class).
    assert_eq!(j["delta_presence"]["delta_presence_min"], 1.0 / 3.0);
    assert_eq!(j["delta_presence"]["delta_presence_max"], 0.5);
    assert_eq!(
        j["delta_presence"]["population_classes_absent_from_sample"],
        1
    );
    assert_eq!(j["k_map"], 2);
    assert_eq!(j["k_map_records_below_5"], 2);
    assert_eq!(v["deid_version"], env!("CARGO_PKG_VERSION"));
    assert_eq!(v["parameters"]["population_file"], pop.as_str());

    // As claims: delta-presence at most 0.5 holds, 2-map holds, 3-map does not.
    let (o, v) = report_json(
        &dir,
        &sample,
        "quasi_identifiers = [\"age\", \"sex\"]\npopulation = \"population.csv\"\ndelta_presence = { max = 0.5 }\nk_map = { k = 2 }\n",
    );
    assert!(o.status.code() == Some(4) || o.status.success());
    let claims = v["claims"].as_array().unwrap();
    assert_eq!(claims[0]["status"], "SUPPORTED", "{claims:?}");
    assert_eq!(claims[1]["status"], "SUPPORTED", "{claims:?}");
    assert!(cited(&v, "-map against").contains(&"arx-gsdp-population".to_string()));
    let (_, v) = report_json(
        &dir,
        &sample,
        "quasi_identifiers = [\"age\", \"sex\"]\npopulation = \"population.csv\"\ndelta_presence = { max = 0.4 }\nk_map = { k = 3 }\n",
    );
    let claims = v["claims"].as_array().unwrap();
    assert_eq!(claims[0]["status"], "REFUTED");
    assert_eq!(claims[1]["status"], "REFUTED");
    // Without a population, the claims are refused.
    let (o, _) = report_json(&dir, &sample, "k_map = { k = 3 }\n");
    assert_eq!(o.status.code(), Some(1));
}

fn hashes_json(args: &[&str]) -> (std::process::Output, Value) {
    let mut all = vec!["audit", "hashes", "--json"];
    all.extend_from_slice(args);
    let o = run(&all);
    let v = serde_json::from_slice(&o.stdout).unwrap_or(Value::Null);
    (o, v)
}

/// Each construction planted in generated data is reversed exactly, and a
/// keyed column with the same inputs never is.
#[test]
fn hash_constructions_real_exports_use_are_reversed_exactly() {
    let dir = Workdir::new();
    let emails = ["Kim.Min+promo@gmail.com", " lee@naver.com", "PARK@daum.net"];
    let phones = ["010-1234-0007", "010-1234-0420", "010-1234-9999"];
    let mut aux = String::from("email,phone\n");
    for (e, p) in emails.iter().zip(phones) {
        aux.push_str(&format!("\"{e}\",{p}\n"));
    }
    let customers = dir.write("customers.csv", aux);
    let normalized = ["kimmin@gmail.com", "lee@naver.com", "park@daum.net"];
    let e164 = ["821012340007", "821012340420", "821012349999"];
    let nested = |inner: Algorithm, upper: bool, v: &str| {
        hex_digest(Algorithm::Sha256, &Construction::Nested { inner, upper }, v)
    };
    let key = Construction::Hmac {
        key: zeroize::Zeroizing::new(b"secret".to_vec()),
    };
    let pepper = Construction::Salted {
        salt: b"pepper2019".to_vec(),
        prefix: false,
    };
    let mut csv = String::from(
        "email_sha256,email_md5_sha256,email_MD5_sha256,phone_e164_sha256,phone_peppered,phone_hmac\n",
    );
    for i in 0..3 {
        csv.push_str(&format!(
            "{},{},{},{},{},{}\n",
            hex_digest(Algorithm::Sha256, &Construction::Plain, normalized[i]).to_uppercase(),
            nested(Algorithm::Md5, false, normalized[i]),
            nested(Algorithm::Md5, true, normalized[i]),
            hex_digest(Algorithm::Sha256, &Construction::Plain, e164[i]),
            hex_digest(Algorithm::Sha256, &pepper, phones[i]),
            hex_digest(Algorithm::Sha256, &key, phones[i]),
        ));
    }
    let input = dir.write("export.csv", csv);
    let dict_email = format!("{customers}:email");
    let dict_phone = format!("{customers}:phone");
    let reversed = |v: &Value| v["columns"][0]["reversed_rows"].as_u64().unwrap();
    // Normalized emails (Gmail dots and +tag gone), upper-case hex digests.
    let (o, v) = hashes_json(&[&input, "-c", "email_sha256", "--dict-from", &dict_email]);
    assert_eq!(o.status.code(), Some(3));
    assert_eq!(reversed(&v), 3);
    assert_eq!(v["columns"][0]["encoding"], "hex-upper");
    // sha256 of md5 hex, lower and upper case.
    let (_, v) = hashes_json(&[
        &input,
        "-c",
        "email_md5_sha256",
        "--dict-from",
        &dict_email,
        "--hash-of",
        "md5",
    ]);
    assert_eq!(reversed(&v), 3);
    let (_, v) = hashes_json(&[
        &input,
        "-c",
        "email_MD5_sha256",
        "--dict-from",
        &dict_email,
        "--hash-of",
        "md5",
    ]);
    assert_eq!(reversed(&v), 0, "lower-case inner hex does not match upper");
    let (_, v) = hashes_json(&[
        &input,
        "-c",
        "email_MD5_sha256",
        "--dict-from",
        &dict_email,
        "--hash-of",
        "md5",
        "--hash-of-upper",
    ]);
    assert_eq!(reversed(&v), 3);
    // Phones in E.164 without the +, from the customer list.
    let (_, v) = hashes_json(&[
        &input,
        "-c",
        "phone_e164_sha256",
        "--dict-from",
        &dict_phone,
    ]);
    assert_eq!(reversed(&v), 3);
    // A known pepper from a salt file, after the phone.
    let salts = dir.write("salts.txt", "changeme\npepper2019\n");
    let (o, v) = hashes_json(&[
        &input,
        "-c",
        "phone_peppered",
        "--space",
        "010-1234-?d?d?d?d",
        "--salt-file",
        &salts,
    ]);
    assert_eq!(reversed(&v), 3);
    assert_eq!(v["columns"][0]["matches"][0]["construction"], "salt-suffix");
    assert!(!String::from_utf8_lossy(&o.stdout).contains("pepper2019"));
    // The keyed column: every construction and dictionary, nothing reversed.
    for extra in [
        vec!["--dict-from", dict_phone.as_str()],
        vec!["--salt-file", salts.as_str()],
        vec!["--dict-from", dict_phone.as_str(), "--hash-of", "md5"],
    ] {
        // A small space besides, so that the full 10^8 is not enumerated.
        let mut args = vec![
            input.as_str(),
            "-c",
            "phone_hmac",
            "--space",
            "010-1234-?d?d?d?d",
        ];
        args.extend(extra);
        let (o, v) = hashes_json(&args);
        assert_eq!(o.status.code(), Some(0));
        assert_eq!(reversed(&v), 0);
    }
}

/// A hash search of minutes is announced, with its estimate, before it
/// starts (the run is stopped once the notice is read).
#[test]
fn a_long_hash_search_is_announced_with_its_estimate_first() {
    use std::io::{BufRead, BufReader};
    use std::process::Stdio;
    let dir = Workdir::new();
    let mut csv = String::from("id,rrn_sha256\n");
    for i in 0..5 {
        csv.push_str(&format!(
            "{i},{}\n",
            hex_digest(
                Algorithm::Sha256,
                &Construction::Plain,
                &format!("not an rrn {i}")
            )
        ));
    }
    let input = dir.write("export.csv", csv);
    let claims = dir.write("claims.toml", "irreversible = [\"rrn_sha256\"]\n");
    let mut child = common::deid()
        .args(["audit", "report", &input, "--claims", &claims])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stderr = child.stderr.take().unwrap();
    let mut note = String::new();
    for line in BufReader::new(stderr).lines() {
        let line = line.unwrap();
        if line.starts_with("note:") {
            note = line;
            break;
        }
    }
    let _ = child.kill();
    let _ = child.wait();
    assert!(note.contains("column rrn_sha256"), "{note}");
    assert!(
        note.contains("candidates to hash (sha256") && note.contains("over kr-rrn)"),
        "{note}"
    );
    assert!(note.contains("on this machine"), "{note}");
}

/// The report tries the same constructions from its claims: hashes of
/// hashes and known salts, with dictionaries; keyed columns stay unreversed.
#[test]
fn the_report_tries_hash_constructions_and_known_salts_from_its_claims() {
    let dir = Workdir::new();
    let emails = ["a.b+x@gmail.com", "c@naver.com"];
    let phones = ["010-1234-0001", "010-1234-0002"];
    let mut aux = String::from("email\n");
    for e in emails {
        aux.push_str(&format!("{e}\n"));
    }
    dir.write("customers.csv", aux);
    dir.write("salts.txt", "pepper\n");
    let key = Construction::Hmac {
        key: zeroize::Zeroizing::new(b"k".to_vec()),
    };
    let pepper = Construction::Salted {
        salt: b"pepper".to_vec(),
        prefix: true,
    };
    let nested = Construction::Nested {
        inner: Algorithm::Md5,
        upper: true,
    };
    let mut csv = String::from("email_sha256,phone_peppered,phone_hmac\n");
    for (e, p) in ["ab@gmail.com", "c@naver.com"].iter().zip(phones) {
        csv.push_str(&format!(
            "{},{},{}\n",
            hex_digest(Algorithm::Sha256, &nested, e),
            hex_digest(Algorithm::Sha256, &pepper, p),
            hex_digest(Algorithm::Sha256, &key, p)
        ));
    }
    let input = dir.write("export.csv", csv);
    let (o, v) = report_json(
        &dir,
        &input,
        r#"irreversible = ["email_sha256", "phone_peppered", "phone_hmac"]
dictionaries = { email_sha256 = "customers.csv:email" }
hash_constructions = ["MD5-HEX"]
salts = "salts.txt"
hash_spaces = ["010-1234-?d?d?d?d"]
"#,
    );
    assert_eq!(
        o.status.code(),
        Some(4),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let h = v["hashes"].as_array().unwrap();
    assert_eq!(h[0]["reversed_rows"], 2, "{:?}", h[0]["verdict"]);
    assert_eq!(h[0]["matches"][0]["construction"], "hash-of-md5-HEX");
    assert_eq!(h[1]["reversed_rows"], 2);
    assert_eq!(h[1]["matches"][0]["construction"], "salt-prefix");
    assert_eq!(h[2]["reversed_rows"], 0);
    assert_eq!(v["claims"][2]["status"], "SUPPORTED");
    assert!(!String::from_utf8_lossy(&o.stdout).contains("\"pepper\""));
    // An unknown construction is refused.
    let (o, _) = report_json(&dir, &input, "hash_constructions = [\"md5\"]\n");
    assert_eq!(o.status.code(), Some(1));
}

/// Generalizes `v` as the report's built-in hierarchy `spec` does at `level`
/// (of `top`), written again here to check the report's optimum.
fn generalize(spec: &str, v: &str, level: usize, top: usize) -> String {
    if level == 0 {
        return v.to_string();
    }
    if level == top {
        return "*".into();
    }
    match spec {
        "date" => {
            let y: i64 = v[..4].parse().unwrap();
            match level {
                1 => v[..7].to_string(),
                2 => v[..4].to_string(),
                3 => format!("{}", y.div_euclid(5)),
                _ => format!("{}", y.div_euclid(10)),
            }
        }
        "prefix" => v[..v.len().saturating_sub(level)].to_string(),
        "mask" => format!(
            "{}{}",
            &v[..v.len().saturating_sub(level)],
            "*".repeat(level)
        ),
        other => panic!("hierarchy {other} not expected here"),
    }
}

#[test]
fn a_refuted_k_claim_names_an_optimum_that_really_reaches_k_with_its_suppression() {
    let dir = Workdir::new();
    // 60 records in 6 groups of 10 on (birth year, 3 postal digits, sex),
    // each record unique as written, plus 2 outliers no generalization below
    // the top levels can merge: the optimum suppresses exactly those 2.
    let mut csv = String::from("id,birth_date,sex,postal_code\n");
    let mut rows: Vec<(String, String, String)> = Vec::new();
    for i in 0..60 {
        let g = i % 6;
        rows.push((
            format!(
                "{}-{:02}-{:02}",
                1960 + 10 * (g % 3),
                1 + i % 12,
                1 + i % 28
            ),
            if g < 3 { "F" } else { "M" }.to_string(),
            format!("{}{:02}", 100 + g, i),
        ));
    }
    rows.push(("1901-05-05".into(), "F".into(), "90011".into()));
    rows.push(("1999-07-07".into(), "M".into(), "80022".into()));
    for (i, (d, s, z)) in rows.iter().enumerate() {
        csv.push_str(&format!("{i},{d},{s},{z}\n"));
    }
    let input = dir.write("export.csv", csv);
    let (o, v) = report_json(
        &dir,
        &input,
        "k_anonymity = { qi = [\"birth_date\", \"sex\", \"postal_code\"], k = 10 }\nmax_suppression = 0.05\n",
    );
    assert_eq!(
        o.status.code(),
        Some(4),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert_eq!(v["parameters"]["max_suppression"], 0.05);
    let fix = v["remedies"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["claim"].as_str().unwrap().starts_with("10-anonymous"))
        .unwrap();
    let opt = &fix["optimum"];
    let cols = opt["columns"].as_array().unwrap();
    let spec: Vec<(String, usize, usize)> = cols
        .iter()
        .map(|c| {
            (
                c["hierarchy"].as_str().unwrap().to_string(),
                c["level"].as_u64().unwrap() as usize,
                c["top"].as_u64().unwrap() as usize,
            )
        })
        .collect();
    assert_eq!(spec[0].0, "date");
    assert_eq!(spec[2].0, "prefix");
    // Re-count the classes of the optimum on the rows themselves.
    let mut classes: std::collections::HashMap<Vec<String>, u64> = Default::default();
    for (d, s, z) in &rows {
        let key = [d, s, z]
            .iter()
            .zip(&spec)
            .map(|(v, (h, l, t))| generalize(h, v, *l, *t))
            .collect::<Vec<_>>();
        *classes.entry(key).or_default() += 1;
    }
    let suppressed: u64 = classes.values().filter(|&&n| n < 10).sum();
    let smallest_kept = classes.values().filter(|&&n| n >= 10).min().copied();
    assert_eq!(opt["suppressed"].as_u64(), Some(suppressed));
    assert_eq!(suppressed, 2, "{opt}");
    assert_eq!(opt["k"].as_u64(), smallest_kept);
    assert!(smallest_kept.unwrap() >= 10);
    // Year, sex kept, 3 postal digits: the cheapest grouping of the 6 groups.
    assert_eq!(
        spec.iter().map(|s| s.1).collect::<Vec<_>>(),
        [2, 0, 2],
        "{opt}"
    );
    // The command line reproduces it; Markdown and HTML state it too.
    let cmd = opt["command"].as_str().unwrap();
    for part in [
        "deid anonymize",
        "--qi birth_date,sex,postal_code",
        "--hierarchy birth_date=date",
        "--hierarchy postal_code=prefix",
        "--model k=10",
        "--suppress 0.05",
        "--metric precision",
        "--policy-out fix-policy.toml",
    ] {
        assert!(cmd.contains(part), "{cmd}");
    }
    // Run as printed (no argument here needs quoting), it writes the policy
    // that `deid apply` turns into exactly that optimum, suppression included.
    let fix_policy = dir.path().join("fix-policy.toml").display().to_string();
    let args: Vec<&str> = cmd
        .split(' ')
        .skip(1)
        .map(|a| {
            if a == "fix-policy.toml" {
                &fix_policy
            } else {
                a
            }
        })
        .collect();
    run(&args).assert_success();
    let keys = dir.keygen("keys.json");
    let out = dir.path().join("fixed.csv").display().to_string();
    let o = run(&[
        "apply",
        "-p",
        &fix_policy,
        "-k",
        &keys,
        "-o",
        &out,
        "--json-summary",
        &input,
    ]);
    o.assert_success();
    let stderr = String::from_utf8_lossy(&o.stderr);
    let summary: Value = serde_json::from_str(stderr.lines().last().unwrap_or_default()).unwrap();
    assert_eq!(summary["rows_suppressed"], 2, "{summary}");
    assert_eq!(summary["rows_out"].as_u64(), Some(rows.len() as u64 - 2));
    let c = dir.write(
        "claims.toml",
        "k_anonymity = { qi = [\"birth_date\", \"sex\", \"postal_code\"], k = 10 }\n",
    );
    let md = run(&["audit", "report", &input, "--claims", &c]);
    let md = String::from_utf8_lossy(&md.stdout);
    assert!(md.contains("Optimal generalization"), "{md}");
    assert!(
        md.contains("| birth_date | date | 2 of 5 | to year |"),
        "{md}"
    );
    let html = run(&[
        "audit", "report", &input, "--claims", &c, "--format", "html",
    ]);
    let html = String::from_utf8_lossy(&html.stdout);
    assert!(html.contains("Optimal generalization") && html.contains("deid anonymize"));
}

#[test]
fn refuted_risk_claims_get_the_search_remedy_too() {
    let dir = Workdir::new();
    let input = export(&dir);
    let (_, v) = report_json(
        &dir,
        &input,
        "k_anonymity = { qi = [\"birth_date\", \"sex\", \"postal_code\"], k = 2 }\nmax_risk = 0.2\nmax_average_risk = 0.2\nmax_suppression = 0\nhash_spaces = [\"010-1234-?d?d?d?d\"]\n",
    );
    let remedies = v["remedies"].as_array().unwrap();
    let highest = remedies
        .iter()
        .find(|r| {
            r["claim"]
                .as_str()
                .unwrap()
                .starts_with("highest re-identification")
        })
        .unwrap();
    // Highest risk 0.2 is classes of 5: the same optimum as k = 5.
    assert_eq!(highest["optimum"]["k"].as_u64(), Some(5));
    assert!(
        highest["optimum"]["command"]
            .as_str()
            .unwrap()
            .contains("--model k=5")
    );
    let average = remedies
        .iter()
        .find(|r| {
            r["claim"]
                .as_str()
                .unwrap()
                .starts_with("average re-identification")
        })
        .unwrap();
    let a = &average["optimum"];
    assert!(a["average_risk"].as_f64().unwrap() <= 0.2 + 1e-12, "{a}");
    assert_eq!(a["suppressed"].as_u64(), Some(0));
    assert!(a["command"].as_str().unwrap().contains("--max-risk 0.2"));
}
