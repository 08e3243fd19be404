//! `deid anonymize`: the optimum and its loss on data small enough to check
//! every node by hand, hierarchy errors, and on UCI Adult with ARX's
//! hierarchies an exact match with an independent exhaustive oracle.
#![cfg(feature = "cli")]

use std::collections::HashMap;

use crate::common::{Workdir, repo_file, run, text};
use deid::anonymize::hierarchy::{Hierarchy, HierarchySpec};
use deid::anonymize::{self, Config, Counted, Metric, Models};
use deid::io::table::{Format, TableOptions, TableReader};

/// ARX's example data (org.deidentifier.arx.test.DataProvider), 7 records.
const DATA: &str = "age,gender,zipcode\n34,male,81667\n45,female,81675\n66,male,81925\n70,female,81931\n34,female,81931\n70,male,81931\n45,male,81931\n";
const AGE: &str = "34;<50;*\n45;<50;*\n66;>=50;*\n70;>=50;*\n";
const GENDER: &str = "male;*\nfemale;*\n";
const ZIP: &str = "81667;816**;*\n81675;816**;*\n81925;819**;*\n81931;819**;*\n";

fn file_hierarchy(dir: &Workdir, name: &str, body: &str) -> Hierarchy {
    let path = dir.write(name, body);
    format!("file:{path}")
        .parse::<HierarchySpec>()
        .unwrap()
        .load()
        .unwrap()
}

fn counted(dir: &Workdir, data: &str, qi: &[&str], h: &[Hierarchy], s: Option<&str>) -> Counted {
    let mut t = TableReader::from_reader(
        Box::new(std::io::Cursor::new(data.as_bytes().to_vec())),
        "t.csv",
        Format::Csv,
        &TableOptions::new(),
    )
    .unwrap();
    let _ = dir;
    let qi: Vec<String> = qi.iter().map(|s| s.to_string()).collect();
    Counted::read(&mut t, &qi, h, s).unwrap()
}

fn example(dir: &Workdir) -> Counted {
    let h = [
        file_hierarchy(dir, "age.csv", AGE),
        file_hierarchy(dir, "gender.csv", GENDER),
        file_hierarchy(dir, "zip.csv", ZIP),
    ];
    counted(dir, DATA, &["age", "gender", "zipcode"], &h, None)
}

fn config(k: u64, suppress: f64, metric: Metric) -> Config {
    Config {
        models: Models {
            k: Some(k),
            ..Models::default()
        },
        suppress,
        metric,
        top: 1,
        threads: 2,
    }
}

/// A seeded xorshift: `next(n)` is below `n`.
fn xorshift(mut x: u64) -> impl FnMut(u64) -> u64 {
    move |n| {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x % n
    }
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1e-12 * b.abs().max(1.0)
}

/// The lattice is 3 x 2 x 3 = 18 nodes (age 34 / <50 / *, gender value / *,
/// zip 81667 / 816** / *). Without suppression the cheapest 2-anonymous
/// node is (1,1,1): classes (<50,*,816**) = 2, (>=50,*,819**) = 3,
/// (<50,*,819**) = 2; precision (1/2 + 1 + 1/2) / 3 = 2/3 (tied with (2,0,2),
/// which has more levels). Every node with fewer levels has a unique
/// record. With one record suppressible (1/7), (1,0,2) holds: classes
/// (<50,male) = 2, (<50,female) = 2, (>=50,male) = 2, (>=50,female) = 1,
/// suppressed; precision (6 x (1/2 + 0 + 1)/3 + 1) / 7 = 4/7.
#[test]
fn hand_checked_optimum_and_loss() {
    let dir = Workdir::new();
    let c = example(&dir);
    let best = |k, s, m| anonymize::search(&c, &config(k, s, m), None).unwrap().nodes[0].clone();

    let r = best(2, 0.0, Metric::Precision);
    assert_eq!(
        (r.levels.as_slice(), r.suppressed, r.k),
        (&[1, 1, 1][..], 0, 2)
    );
    assert!(close(r.loss, 2.0 / 3.0), "{}", r.loss);
    assert!(close(r.average_risk, 3.0 / 7.0));

    let r = best(2, 0.15, Metric::Precision);
    assert_eq!(
        (r.levels.as_slice(), r.suppressed, r.classes),
        (&[1, 0, 2][..], 1, 3)
    );
    assert!(close(r.loss, 4.0 / 7.0), "{}", r.loss);

    // Discernibility: (1,1,1) 4 + 9 + 4 = 17 beats (1,0,2) 4 + 4 + 4 + 1 x 7 = 19.
    for s in [0.0, 0.15] {
        let r = best(2, s, Metric::Discernibility);
        assert_eq!(r.levels, [1, 1, 1]);
        assert!(close(r.loss, 17.0));
    }
    // ARX's Loss: <50 covers 2 of 4 ages (1/3), * all (1), 816** 2 of 4
    // zips (1/3). (1,0,2): (6 x (1/3 + 0 + 1) + 1 x 3) / 21 = 11/21;
    // (1,1,1): 7 x (1/3 + 1 + 1/3) / 21 = 5/9.
    let r = best(2, 0.15, Metric::Loss);
    assert_eq!(r.levels, [1, 0, 2]);
    assert!(close(r.loss, 11.0 / 21.0), "{}", r.loss);
    let r = best(2, 0.0, Metric::Loss);
    assert_eq!(r.levels, [1, 1, 1]);
    assert!(close(r.loss, 5.0 / 9.0), "{}", r.loss);
    // Non-uniform entropy of (1,1,1): per column, sum over records of
    // log2(records with the label / records with the value).
    let e = anonymize::evaluate(&c, &config(2, 0.0, Metric::Entropy), &[1, 1, 1]).unwrap();
    let l = f64::log2;
    let want = (4.0 + l(3.0) + 2.0 * l(1.5))
        + (4.0 * l(7.0 / 4.0) + 3.0 * l(7.0 / 3.0))
        + (2.0 + l(5.0) + 4.0 * l(5.0 / 4.0));
    assert!(close(e.loss, want), "{} {want}", e.loss);
    // k = 8 cannot hold on 7 records.
    let none = anonymize::search(&c, &config(8, 0.0, Metric::Precision), None).unwrap();
    assert!(none.nodes.is_empty());
}

/// Every node, evaluated alone, against hand-computed k and suppression.
#[test]
fn every_node_by_hand() {
    let dir = Workdir::new();
    let c = example(&dir);
    // (levels, smallest class, records in classes smaller than 2)
    let want: [([usize; 3], u64, u64); 18] = [
        ([0, 0, 0], 1, 7),
        ([0, 0, 1], 1, 7),
        ([0, 0, 2], 1, 7),
        ([0, 1, 0], 1, 5),
        ([0, 1, 1], 1, 5),
        ([0, 1, 2], 1, 1),
        ([1, 0, 0], 1, 7),
        ([1, 0, 1], 1, 5),
        ([1, 0, 2], 1, 1),
        ([1, 1, 0], 1, 3),
        ([1, 1, 1], 2, 0),
        ([1, 1, 2], 3, 0),
        ([2, 0, 0], 1, 3),
        ([2, 0, 1], 1, 2),
        ([2, 0, 2], 3, 0),
        ([2, 1, 0], 1, 3),
        ([2, 1, 1], 2, 0),
        ([2, 1, 2], 7, 0),
    ];
    for (levels, k, small) in want {
        // Suppress everything allowed: k is then the smallest kept class.
        let all = anonymize::evaluate(&c, &config(1, 0.0, Metric::Precision), &levels).unwrap();
        assert_eq!(all.k, k, "{levels:?}");
        let r = anonymize::evaluate(&c, &config(2, 1.0, Metric::Precision), &levels).unwrap();
        assert_eq!(r.suppressed, small, "{levels:?}");
        assert!(r.anonymous);
    }
    let all = anonymize::brute_force(
        &c,
        &Config {
            top: 18,
            ..config(2, 0.0, Metric::Precision)
        },
    )
    .unwrap();
    let holding: Vec<Vec<usize>> = all.nodes.iter().map(|n| n.levels.clone()).collect();
    assert_eq!(
        holding,
        [
            vec![1, 1, 1],
            vec![2, 0, 2],
            vec![1, 1, 2],
            vec![2, 1, 1],
            vec![2, 1, 2]
        ]
    );
}

#[test]
fn diversity_models_use_the_audit_definitions() {
    let dir = Workdir::new();
    let data = "age,zip,disease\n34,81667,flu\n45,81675,flu\n66,81925,hiv\n70,81931,flu\n34,81931,cold\n70,81931,hiv\n45,81931,cold\n";
    let h = [
        file_hierarchy(&dir, "age.csv", AGE),
        file_hierarchy(&dir, "zip.csv", ZIP),
    ];
    let c = counted(&dir, data, &["age", "zip"], &h, Some("disease"));
    let cfg = |models| Config {
        models,
        ..config(1, 0.0, Metric::Precision)
    };
    // (1,1): (<50,816**) = flu,flu; (>=50,819**) = hiv,flu,hiv; (<50,819**) = cold,cold.
    let r = anonymize::evaluate(
        &c,
        &cfg(Models {
            l_distinct: Some(1),
            ..Models::default()
        }),
        &[1, 1],
    )
    .unwrap();
    assert_eq!(r.distinct_l, Some(1));
    // Overall flu 3/7, hiv 2/7, cold 2/7; the largest distance is the class cold,cold:
    // (|1 - 2/7| + 3/7 + 2/7) / 2 = 5/7.
    let t = r.t_equal.unwrap();
    assert!(close(t, 5.0 / 7.0), "{t}");
    // Distinct 2-diversity: only (1,2) (<50: flu,flu,cold,cold; >=50: hiv,flu,hiv) and the top hold.
    let best = anonymize::search(
        &c,
        &cfg(Models {
            l_distinct: Some(2),
            ..Models::default()
        }),
        None,
    )
    .unwrap();
    assert_eq!(best.nodes[0].levels, [1, 2]);
    assert_eq!(best.nodes[0].distinct_l, Some(2));
}

fn cli_example(dir: &Workdir) -> Vec<String> {
    let data = dir.write("data.csv", DATA);
    let age = dir.write("age.csv", AGE);
    let gender = dir.write("gender.csv", GENDER);
    let zip = dir.write("zip.csv", ZIP);
    [
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
        "-q",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect()
}

#[test]
fn cli_prints_the_optimum_and_json() {
    let dir = Workdir::new();
    let mut args = cli_example(&dir);
    let argv: Vec<&str> = args.iter().map(String::as_str).collect();
    let o = run(&argv);
    assert!(o.status.success(), "{}", text(&o.stderr));
    let out = text(&o.stdout);
    assert!(
        out.contains("optimum: age=1/2 gender=1/1 zipcode=1/2"),
        "{out}"
    );
    args.extend(["--json", "--suppress", "0.15", "--top", "2"].map(String::from));
    let argv: Vec<&str> = args.iter().map(String::as_str).collect();
    let o = run(&argv);
    assert!(o.status.success(), "{}", text(&o.stderr));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["nodes"][0]["levels"], serde_json::json!([1, 0, 2]));
    assert_eq!(v["nodes"][0]["suppressed"], 1);
    assert_eq!(v["nodes"].as_array().unwrap().len(), 2);
    assert_eq!(v["lattice_nodes"], 18);
}

#[test]
fn hierarchy_errors_name_file_row_and_rule() {
    let dir = Workdir::new();
    let data = dir.write("data.csv", DATA);
    let cases = [
        ("34;<50;*\n45;<50\n", "row 2", "ragged"),
        ("34;<50;*\n45;;*\n", "row 2", "gap"),
        ("34;<50;*\n45;<50;all\n", "row 2", "inconsistent levels"),
        (
            "34;<50;*\n45;<50;*\n66;>=50;*\n",
            "row 4",
            "no row in hierarchy",
        ),
    ];
    for (body, row, rule) in cases {
        let h = dir.write("bad.csv", body);
        let o = run(&[
            "anonymize",
            &data,
            "--qi",
            "age",
            "--hierarchy",
            &format!("age={h}"),
            "--model",
            "k=2",
        ]);
        assert_eq!(o.status.code(), Some(1), "{body}");
        let err = text(&o.stderr);
        assert!(err.contains(row) && err.contains(rule), "{body}: {err}");
        // The missing value (70, row 4) is not echoed.
        assert!(!err.contains("70"), "{err}");
    }
    // A quasi-identifier without a hierarchy is a usage error.
    let o = run(&["anonymize", &data, "--qi", "age", "--model", "k=2"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(text(&o.stderr).contains("has no hierarchy"));
}

const ADULT_QI: [&str; 9] = [
    "sex",
    "age",
    "race",
    "marital-status",
    "education",
    "native-country",
    "workclass",
    "occupation",
    "salary-class",
];

/// An oracle sharing nothing with the search but the counted combinations
/// and the hierarchy tables: every node's classes grouped by label ids in a
/// hash map, k-anonymity with suppression and each metric computed from its
/// definition. Returns the optimum (levels, loss) of each metric in `METRICS` order.
#[allow(clippy::needless_range_loop)] // indices over parallel per-column tables read best
fn oracle<const M: usize>(c: &Counted, k: u64, suppress: f64) -> Vec<(Vec<usize>, f64)> {
    let cols = c.columns();
    assert_eq!(cols.len(), M);
    let heights: Vec<usize> = cols.iter().map(|h| h.height()).collect();
    let n = c.rows() as f64;
    let m = M as f64;
    let limit = (suppress * n + 1e-9).floor() as u64;
    let mut base: Vec<([u32; M], u64)> = Vec::new();
    c.for_each_class(|key, n| base.push((key.try_into().unwrap(), n)));
    // Marginal counts per column and level.
    let mut freq: Vec<Vec<HashMap<u32, u64>>> = cols
        .iter()
        .map(|h| (0..h.height()).map(|_| HashMap::new()).collect())
        .collect();
    for (key, cnt) in &base {
        for (i, h) in cols.iter().enumerate() {
            for l in 0..h.height() {
                *freq[i][l].entry(h.generalize(l, key[i])).or_default() += cnt;
            }
        }
    }
    let total: usize = heights.iter().product();
    let mut best: Vec<Option<(f64, usize, Vec<usize>)>> = vec![None; METRICS.len()];
    let mut classes: rustc_hash::FxHashMap<[u32; M], u64> = Default::default();
    let mut labels: Vec<[u32; M]> = Vec::with_capacity(base.len());
    for idx in 0..total {
        let mut levels = vec![0; M];
        let mut x = idx;
        for i in (0..M).rev() {
            levels[i] = x % heights[i];
            x /= heights[i];
        }
        classes.clear();
        labels.clear();
        for (key, cnt) in &base {
            let mut g = [0u32; M];
            for i in 0..M {
                g[i] = cols[i].generalize(levels[i], key[i]);
            }
            *classes.entry(g).or_default() += cnt;
            labels.push(g);
        }
        let suppressed: u64 = classes.values().filter(|&&s| s < k).sum();
        if suppressed > limit {
            continue;
        }
        let (mut dm, mut prec, mut lm, mut ent) = (0.0, 0.0, 0.0, 0.0);
        for (g, &size) in &classes {
            if size < k {
                continue;
            }
            let size = size as f64;
            dm += size * size;
            for i in 0..M {
                prec += size * levels[i] as f64 / (heights[i] - 1).max(1) as f64;
                let d = cols[i].domain() as f64;
                lm += size * (cols[i].cover(levels[i], g[i]) as f64 - 1.0) / (d - 1.0);
            }
        }
        for ((key, cnt), g) in base.iter().zip(&labels) {
            let kept = classes[g] >= k;
            for i in 0..M {
                let fo = freq[i][0][&key[i]] as f64;
                let fg = if kept {
                    freq[i][levels[i]][&g[i]] as f64
                } else {
                    n
                };
                ent += *cnt as f64 * (fg / fo).log2();
            }
        }
        let s = suppressed as f64;
        let losses = [
            (prec + s * m) / (n * m),
            dm + s * n,
            (lm + s * m) / (n * m),
            ent,
        ];
        let sum: usize = levels.iter().sum();
        for (b, loss) in best.iter_mut().zip(losses) {
            let better = match b {
                None => true,
                Some((bl, bs, bv)) => {
                    let tol = 1e-9 * bl.abs().max(1e-300);
                    if (loss - *bl).abs() > tol {
                        loss < *bl
                    } else {
                        (sum, &levels) < (*bs, &*bv)
                    }
                }
            };
            if better {
                *b = Some((loss, sum, levels.clone()));
            }
        }
    }
    best.into_iter()
        .map(|b| {
            let (loss, _, levels) = b.expect("some node holds");
            (levels, loss)
        })
        .collect()
}

const METRICS: [Metric; 4] = [
    Metric::Precision,
    Metric::Discernibility,
    Metric::Loss,
    Metric::Entropy,
];

/// UCI Adult (ARX's `data/adult.csv`) with ARX's hierarchies, k = 5 and 2%
/// suppression: for every metric the search's optimum is the oracle's.
/// The oracle evaluates all 12,960 nodes on 19,502 combinations: too slow
/// unoptimized, so `scripts/test.sh` runs it optimized with `--ignored`.
#[test]
#[ignore = "exhaustive oracle: run optimized (scripts/test.sh does)"]
fn adult_optimum_equals_an_exhaustive_oracle() {
    let Some(adult) = std::env::var_os("DEID_ARX_ADULT") else {
        assert!(
            std::env::var_os("CI").is_none(),
            "DEID_ARX_ADULT is not set: run scripts/test.sh, which derives the data"
        );
        eprintln!("SKIPPED: DEID_ARX_ADULT not set (scripts/test.sh sets it)");
        return;
    };
    let hierarchies: Vec<Hierarchy> = ADULT_QI
        .iter()
        .map(|q| {
            let p = repo_file(&format!("tests/data/arx-adult/adult_hierarchy_{q}.csv"));
            HierarchySpec::File {
                path: p,
                delimiter: b';',
            }
            .load()
            .unwrap()
        })
        .collect();
    let mut t =
        TableReader::open(Some(std::path::Path::new(&adult)), &TableOptions::new()).unwrap();
    let qi: Vec<String> = ADULT_QI.iter().map(|s| s.to_string()).collect();
    let c = Counted::read(&mut t, &qi, &hierarchies, None).unwrap();
    assert_eq!(c.rows(), 30162);
    let expected = oracle::<9>(&c, 5, 0.02);
    for (metric, (levels, loss)) in METRICS.into_iter().zip(expected) {
        let found = anonymize::search(&c, &config(5, 0.02, metric), None).unwrap();
        eprintln!(
            "{metric:?}: optimum {:?}, loss {}, suppressed {}, {} of {} nodes evaluated",
            found.nodes[0].levels,
            found.nodes[0].loss,
            found.nodes[0].suppressed,
            found.evaluated,
            found.lattice
        );
        let best = &found.nodes[0];
        assert_eq!(best.levels, levels, "{metric:?}");
        assert!(
            (best.loss - loss).abs() <= 1e-9 * loss.abs(),
            "{metric:?}: {} vs {loss}",
            best.loss
        );
        assert!(best.suppressed <= 603 && best.k >= 5);
        assert!(found.pruned > 0, "{metric:?}: the bound pruned nothing");
    }
}

/// Twelve quasi-identifiers of 40 values each need 72 bits per class key,
/// past the 64 the search's narrow paths take: the wide ones (dense table
/// and hash) must give the independent oracle's optimum too.
#[test]
fn wide_class_keys_give_the_oracles_optimum() {
    const M: usize = 12;
    let dir = Workdir::new();
    let mut next = xorshift(0x9e37_79b9_7f4a_7c15u64);
    let names: Vec<String> = (0..M).map(|i| format!("q{i}")).collect();
    let mut data = names.join(",") + "\n";
    let mut seen: Vec<std::collections::HashSet<u64>> = vec![Default::default(); M];
    for _ in 0..400 {
        let row: Vec<String> = (0..M)
            .map(|i| {
                // Mostly a few common values, so that some nodes hold.
                let v = if next(4) == 0 { next(40) } else { next(3) };
                seen[i].insert(v);
                format!("v{v}")
            })
            .collect();
        data.push_str(&(row.join(",") + "\n"));
    }
    // Every column needs 6 bits: 12 x 6 = 72.
    assert!(
        seen.iter().all(|s| s.len() > 32),
        "too few values to be wide"
    );
    let h: Vec<Hierarchy> = (0..M)
        .map(|i| {
            let body: String = (0..40)
                .map(|v| {
                    if i < 2 {
                        format!("v{v};g{};*\n", v / 10)
                    } else {
                        format!("v{v};*\n")
                    }
                })
                .collect();
            file_hierarchy(&dir, &format!("h{i}.csv"), &body)
        })
        .collect();
    let qi: Vec<&str> = names.iter().map(String::as_str).collect();
    let c = counted(&dir, &data, &qi, &h, None);
    let expected = oracle::<M>(&c, 3, 0.1);
    for (metric, (levels, loss)) in METRICS.into_iter().zip(expected) {
        // The exhaustive evaluation rolls every node up from the counted
        // combinations, most of them through the wide hash path.
        let cfg = config(3, 0.1, metric);
        let found = anonymize::search(&c, &cfg, None).unwrap();
        let all = anonymize::brute_force(&c, &cfg).unwrap();
        for best in [&found.nodes[0], &all.nodes[0]] {
            assert_eq!(best.levels, levels, "{metric:?}");
            assert!(
                (best.loss - loss).abs() <= 1e-9 * loss.abs().max(1e-300),
                "{metric:?}: {} vs {loss}",
                best.loss
            );
        }
    }
}

/// With suppression, entropy l-diversity and t-closeness are not monotone:
/// the search goes bottom-up without tagging and must still equal the
/// exhaustive evaluation, for every metric and the five best nodes.
#[test]
fn non_monotone_models_match_the_exhaustive_search() {
    let dir = Workdir::new();
    let data = "age,gender,zip,disease\n34,male,81667,flu\n45,female,81675,flu\n66,male,81925,hiv\n70,female,81931,flu\n34,female,81931,cold\n70,male,81931,hiv\n45,male,81931,cold\n34,male,81675,hiv\n66,female,81667,cold\n";
    let h = [
        file_hierarchy(&dir, "age.csv", AGE),
        file_hierarchy(&dir, "gender.csv", GENDER),
        file_hierarchy(&dir, "zip.csv", ZIP),
    ];
    let c = counted(&dir, data, &["age", "gender", "zip"], &h, Some("disease"));
    for metric in METRICS {
        for models in [
            Models {
                l_entropy: Some(1.8),
                ..Models::default()
            },
            Models {
                t_equal: Some(0.4),
                k: Some(2),
                ..Models::default()
            },
            Models {
                max_risk: Some(0.4),
                ..Models::default()
            },
        ] {
            let cfg = Config {
                models,
                suppress: 0.34,
                metric,
                top: 5,
                threads: 2,
            };
            search_equals_brute_force(&c, &cfg);
        }
    }
}

/// Monotone models (k-anonymity, distinct l-diversity) with suppression:
/// the top-down walk, with its predictive tagging and the discernibility
/// bound from the classes of the layer above, equals the exhaustive
/// evaluation on skewed generated data, for every metric and the five
/// best nodes.
#[test]
fn monotone_models_match_the_exhaustive_search_on_generated_data() {
    let dir = Workdir::new();
    let mut next = xorshift(0x2545_f491_4f6c_dd1du64);
    let mut data = String::from("age,zip,sex,job,diagnosis\n");
    for _ in 0..1500 {
        // Skewed: a few values are common, most are rare.
        let mut skewed = |n: u64| {
            let m = 1 + next(n);
            next(m)
        };
        let age = 18 + skewed(72);
        let zip = 10000 + 1111 * skewed(8) + skewed(40);
        let job = ["clerk", "nurse", "teacher", "driver", "cook", "pilot"][skewed(6) as usize];
        let sex = ["f", "m"][next(2) as usize];
        let diagnosis = ["flu", "cold", "hiv", "asthma"][next(4) as usize];
        data.push_str(&format!("{age},{zip},{sex},{job},{diagnosis}\n"));
    }
    let h: Vec<Hierarchy> = ["interval:5,10,20", "prefix", "mask", "mask"]
        .iter()
        .map(|s| s.parse::<HierarchySpec>().unwrap().load().unwrap())
        .collect();
    let c = counted(
        &dir,
        &data,
        &["age", "zip", "sex", "job"],
        &h,
        Some("diagnosis"),
    );
    for metric in METRICS {
        for (models, suppress) in [
            (
                Models {
                    k: Some(5),
                    ..Models::default()
                },
                0.04,
            ),
            (
                Models {
                    k: Some(3),
                    l_distinct: Some(2),
                    ..Models::default()
                },
                0.1,
            ),
            (
                Models {
                    k: Some(10),
                    ..Models::default()
                },
                0.0,
            ),
        ] {
            let cfg = Config {
                models,
                suppress,
                metric,
                top: 5,
                threads: 2,
            };
            let (fast, slow) = search_equals_brute_force(&c, &cfg);
            assert!(
                fast.evaluated < slow.evaluated,
                "{metric:?} {:?}: nothing pruned",
                cfg.models
            );
        }
    }
}

/// Asserts that the search's best nodes (`config.top`) are the exhaustive
/// evaluation's, in order, and that some node holds; returns both results.
fn search_equals_brute_force(
    counted: &Counted,
    config: &Config,
) -> (anonymize::SearchResult, anonymize::SearchResult) {
    let fast = anonymize::search(counted, config, None).unwrap();
    let slow = anonymize::brute_force(counted, config).unwrap();
    assert!(!slow.nodes.is_empty(), "{:?}", config.models);
    let levels = |r: &anonymize::SearchResult| -> Vec<Vec<usize>> {
        r.nodes.iter().map(|n| n.levels.clone()).collect()
    };
    assert_eq!(
        levels(&fast),
        levels(&slow),
        "{:?} {:?}",
        config.metric,
        config.models
    );
    (fast, slow)
}
