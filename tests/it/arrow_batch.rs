//! The Arrow batch API (src/arrow/mod.rs): schema rules, nulls, dictionaries,
//! structs, lists, typed values as text, failing closed.
#![cfg(feature = "arrow")]

use std::sync::Arc;

use arrow_array::builder::{ListBuilder, StringBuilder, StringDictionaryBuilder};
use arrow_array::cast::AsArray;
use arrow_array::types::Int32Type;
use arrow_array::{
    Array, ArrayRef, Date32Array, Int64Array, RecordBatch, StringArray, StructArray,
};
use arrow_schema::{DataType, Field};
use deid::arrow::BatchTransformer;
use deid::field::{FieldProcessor, Scratch};
use deid::policy::Direction;
use deid::{Keyset, MasterKey, Policy};

fn keys() -> Keyset {
    Keyset::from_keys(vec![MasterKey::from_bytes(1, [7u8; 32])]).unwrap()
}

fn policy(toml: &str) -> Policy {
    Policy::from_toml(&format!("version = 1\n{toml}")).unwrap()
}

/// The token the CSV path makes for `value` in `column`.
fn token(column: &str, spec_json: &str, value: &str) -> String {
    let spec = serde_json::from_str(spec_json).unwrap();
    let f = FieldProcessor::new(column, &spec, &keys()).unwrap();
    let mut out = Vec::new();
    f.transform(
        value.as_bytes(),
        None,
        &mut deid::io::rng::OsRng,
        &mut Scratch::default(),
        &mut out,
    )
    .unwrap();
    String::from_utf8(out).unwrap()
}

fn strings(a: &ArrayRef) -> Vec<Option<String>> {
    let a = arrow_cast::cast(a, &DataType::Utf8).unwrap();
    a.as_string::<i32>()
        .iter()
        .map(|v| v.map(str::to_owned))
        .collect()
}

#[test]
fn scalars_nulls_types_and_schema() {
    let id: ArrayRef = Arc::new(Int64Array::from(vec![7, 8, 9]));
    let phone: ArrayRef = Arc::new(StringArray::from(vec![
        Some("010-1234-5678"),
        None,
        Some(""),
    ]));
    let born: ArrayRef = Arc::new(Date32Array::from(vec![Some(19732), Some(0), None]));
    let name: ArrayRef = Arc::new(StringArray::from(vec!["Ada", "Lin", "Kim"]));
    let batch =
        RecordBatch::try_from_iter([("id", id), ("phone", phone), ("born", born), ("name", name)])
            .unwrap();
    let p = policy(
        "[fields.phone]\ntransform = \"pseudonymize\"\n[fields.born]\ntransform = \"generalize\"\nto = \"year\"\n[fields.name]\ntransform = \"drop\"\n[fields.id]\ntransform = \"pseudonymize\"\n",
    );
    let t = BatchTransformer::new(&p, &keys(), batch.schema(), Direction::Apply).unwrap();
    let s = t.output_schema();
    let names: Vec<&str> = s.fields().iter().map(|f| f.name().as_str()).collect();
    assert_eq!(names, ["id", "phone", "born"]);
    assert!(s.fields().iter().all(|f| f.data_type() == &DataType::Utf8));
    let out = t.transform(&batch, 0).unwrap();
    assert_eq!(out.schema(), s);
    let phone = strings(out.column(1));
    assert_eq!(
        phone[0].as_deref(),
        Some(token("phone", r#"{"transform":"pseudonymize"}"#, "010-1234-5678").as_str())
    );
    assert_eq!(phone[1], None, "null stays null");
    assert_eq!(phone[2].as_deref(), Some(""), "empty kept empty by default");
    // Integers are rendered in decimal before the transform.
    assert_eq!(
        strings(out.column(0))[0].as_deref(),
        Some(token("id", r#"{"transform":"pseudonymize"}"#, "7").as_str())
    );
    // Date32 generalized to its year; 1970-01-01 is day 0.
    assert_eq!(
        strings(out.column(2)),
        [Some("2024".into()), Some("1970".into()), None]
    );
}

#[test]
fn dictionary_stays_dictionary_and_matches_plain() {
    let mut b = StringDictionaryBuilder::<Int32Type>::new();
    for v in ["Seoul", "Busan", "Seoul", "Seoul"] {
        b.append_value(v);
    }
    b.append_null();
    let city: ArrayRef = Arc::new(b.finish());
    let batch = RecordBatch::try_from_iter([("city", city)]).unwrap();
    let p = policy("[fields.city]\ntransform = \"pseudonymize\"\n");
    let t = BatchTransformer::new(&p, &keys(), batch.schema(), Direction::Apply).unwrap();
    let out = t.transform_counted(&batch, 0).unwrap();
    let col = out.batch.column(0);
    assert!(matches!(col.data_type(), DataType::Dictionary(_, v) if **v == DataType::Utf8));
    assert_eq!(
        col.as_any_dictionary().values().len(),
        2,
        "once per distinct value"
    );
    let seoul = token("city", r#"{"transform":"pseudonymize"}"#, "Seoul");
    let got = strings(col);
    assert_eq!(got[0].as_deref(), Some(seoul.as_str()));
    assert_eq!(got[2], got[0]);
    assert_eq!(got[4], None);
    assert_eq!(out.values, [4], "four non-null values counted");

    // Randomized encryption runs per row: plain Utf8, distinct tokens.
    let p = policy("[fields.city]\ntransform = \"encrypt\"\nmode = \"randomized\"\n");
    let t = BatchTransformer::new(&p, &keys(), batch.schema(), Direction::Apply).unwrap();
    let out = t.transform(&batch, 0).unwrap();
    assert_eq!(out.column(0).data_type(), &DataType::Utf8);
    let got = strings(out.column(0));
    assert_ne!(got[0], got[2]);
    // And it decrypts back to the value.
    let d = BatchTransformer::new(&p, &keys(), out.schema(), Direction::Decrypt).unwrap();
    let back = d.transform(&out, 0).unwrap();
    assert_eq!(
        strings(back.column(0)),
        [
            Some("Seoul".into()),
            Some("Busan".into()),
            Some("Seoul".into()),
            Some("Seoul".into()),
            None
        ]
    );
}

#[test]
fn struct_paths_and_lists() {
    let zip: ArrayRef = Arc::new(StringArray::from(vec![Some("04524"), Some("48058")]));
    let street: ArrayRef = Arc::new(StringArray::from(vec![Some("Main"), Some("Side")]));
    let address = StructArray::from(vec![
        (Arc::new(Field::new("zip", DataType::Utf8, true)), zip),
        (Arc::new(Field::new("street", DataType::Utf8, true)), street),
    ]);
    let mut lb = ListBuilder::new(StringBuilder::new());
    lb.values().append_value("a@x.io");
    lb.values().append_value("b@x.io");
    lb.append(true);
    lb.append(false);
    let emails: ArrayRef = Arc::new(lb.finish());
    let batch = RecordBatch::try_from_iter([
        ("address", Arc::new(address) as ArrayRef),
        ("emails", emails),
    ])
    .unwrap();
    let p = policy(
        "[fields.\"address.zip\"]\ntransform = \"generalize\"\nto = \"prefix\"\nkeep = 3\n[fields.\"address.street\"]\ntransform = \"drop\"\n[fields.emails]\ntransform = \"pseudonymize\"\n",
    );
    let t = BatchTransformer::new(&p, &keys(), batch.schema(), Direction::Apply).unwrap();
    let out = t.transform(&batch, 0).unwrap();
    let address = out.column(0).as_struct();
    assert_eq!(address.num_columns(), 1, "street dropped");
    assert_eq!(
        strings(address.column(0)),
        [Some("045".into()), Some("480".into())]
    );
    let emails = out.column(1).as_list::<i32>();
    assert!(emails.is_null(1));
    let first = strings(&emails.value(0));
    assert_eq!(
        first[1].as_deref(),
        Some(token("emails", r#"{"transform":"pseudonymize"}"#, "b@x.io").as_str())
    );
}

/// A record with several failing fields is reported at its first failing
/// field in policy order (policy fields are sorted by name), whatever the
/// column order, by the CSV pipeline and by the Arrow path alike. The
/// columns here run against policy order, and mix the ways the CSV pipeline
/// transforms: `b_phone` before its record is written (pseudonyms are
/// computed a group at a time), `a_card` and `c_mail` while it is written.
#[test]
fn csv_and_arrow_name_the_same_first_failure() {
    let p = policy(
        "[fields.b_phone]\nnormalize = [\"phone:KR\"]\ntransform = \"pseudonymize\"\n\
         [fields.a_card]\ntransform = \"fpe\"\n\
         [fields.c_mail]\nnormalize = [\"email\"]\ntransform = \"encrypt\"\n",
    );
    let (mail, phone, card) = ("ada@example.com", "010-1234-5678", "4111-1111-1111");
    // Failing values: not an address, not a phone number, too few digits
    // for FF1.
    let (no_mail, no_phone, no_card) = ("ada", "not-a-phone", "12");
    for (row2, column) in [
        ([no_mail, phone, card], "c_mail"),
        ([mail, no_phone, card], "b_phone"),
        ([no_mail, no_phone, card], "b_phone"),
        ([no_mail, phone, no_card], "a_card"),
        ([mail, no_phone, no_card], "a_card"),
        ([no_mail, no_phone, no_card], "a_card"),
    ] {
        let rows = [[mail, phone, card], row2];
        let col = |k: usize| Arc::new(StringArray::from(rows.map(|r| r[k]).to_vec())) as ArrayRef;
        let batch = RecordBatch::try_from_iter([
            ("c_mail", col(0)),
            ("b_phone", col(1)),
            ("a_card", col(2)),
        ])
        .unwrap();
        let t = BatchTransformer::new(&p, &keys(), batch.schema(), Direction::Apply).unwrap();
        let arrow = t.transform(&batch, 0).unwrap_err();
        let mut csv = String::from("c_mail,b_phone,a_card\n");
        for r in rows {
            csv.push_str(&format!("{}\n", r.join(",")));
        }
        let csv = deid::io::pipeline::run(
            &p,
            &keys(),
            Box::new(std::io::Cursor::new(csv.into_bytes())),
            "in.csv",
            &mut Vec::new(),
            &deid::io::pipeline::PipelineOptions::new(),
            &mut |_| {},
        )
        .unwrap_err();
        assert_eq!(
            (arrow.row(), arrow.column()),
            (Some(2), Some(column)),
            "{row2:?}"
        );
        assert_eq!(
            (csv.row(), csv.column()),
            (Some(2), Some(column)),
            "{row2:?}"
        );
    }
}

#[test]
fn failures_name_row_and_column_never_the_value() {
    let phone: ArrayRef = Arc::new(StringArray::from(vec![
        "010-1234-5678",
        "secret-not-a-phone",
    ]));
    let batch = RecordBatch::try_from_iter([("phone", phone)]).unwrap();
    let p = policy("[fields.phone]\nnormalize = [\"phone:KR\"]\ntransform = \"pseudonymize\"\n");
    let t = BatchTransformer::new(&p, &keys(), batch.schema(), Direction::Apply).unwrap();
    let err = t.transform(&batch, 100).unwrap_err();
    assert_eq!(err.row(), Some(102));
    assert_eq!(err.column(), Some("phone"));
    assert!(!err.to_string().contains("secret"), "{err}");

    let p = policy(
        "on_error = \"drop-record\"\n[fields.phone]\nnormalize = [\"phone:KR\"]\ntransform = \"pseudonymize\"\n",
    );
    let t = BatchTransformer::new(&p, &keys(), batch.schema(), Direction::Apply).unwrap();
    let out = t.transform_counted(&batch, 0).unwrap();
    assert_eq!(out.batch.num_rows(), 1);
    assert_eq!(out.rows_dropped, 1);

    // Nulls are an error only under empty = "error".
    let phone: ArrayRef = Arc::new(StringArray::from(vec![Some("x"), None]));
    let batch = RecordBatch::try_from_iter([("phone", phone)]).unwrap();
    let p = policy("[fields.phone]\ntransform = \"pseudonymize\"\nempty = \"error\"\n");
    let t = BatchTransformer::new(&p, &keys(), batch.schema(), Direction::Apply).unwrap();
    assert_eq!(t.transform(&batch, 0).unwrap_err().row(), Some(2));

    // A policy column the schema lacks.
    let p = policy("[fields.email]\ntransform = \"pseudonymize\"\n");
    assert!(BatchTransformer::new(&p, &keys(), batch.schema(), Direction::Apply).is_err());
}

proptest::proptest! {
    /// A transformed column never holds its input in clear, whatever the
    /// value, its place in a dictionary or a list.
    #[test]
    fn transformed_values_never_pass_in_clear(values in proptest::collection::vec("[a-zA-Z0-9@._-]{1,24}", 1..40)) {
        let plain: ArrayRef = Arc::new(StringArray::from(values.clone()));
        let mut db = StringDictionaryBuilder::<Int32Type>::new();
        let mut lb = ListBuilder::new(StringBuilder::new());
        for v in &values {
            db.append_value(v);
            lb.values().append_value(v);
            lb.append(true);
        }
        let batch = RecordBatch::try_from_iter([
            ("a", plain),
            ("b", Arc::new(db.finish()) as ArrayRef),
            ("c", Arc::new(lb.finish()) as ArrayRef),
        ])
        .unwrap();
        for t in ["transform = \"pseudonymize\"", "transform = \"encrypt\"", "transform = \"encrypt\"\nmode = \"randomized\""] {
            let p = policy(&format!("[fields.a]\n{t}\n[fields.b]\n{t}\n[fields.c]\n{t}\n"));
            let bt = BatchTransformer::new(&p, &keys(), batch.schema(), Direction::Apply).unwrap();
            let out = bt.transform(&batch, 0).unwrap();
            let mut seen = strings(out.column(0));
            seen.extend(strings(out.column(1)));
            seen.extend(strings(&out.column(2).as_list::<i32>().values().clone()));
            for v in &values {
                // Short values occur inside tokens by chance: those must only
                // never be a whole output value.
                proptest::prop_assert!(!seen.iter().flatten().any(|s| s == v || (v.len() >= 8 && s.contains(v.as_str()))));
            }
        }
    }
}

#[test]
fn redact_detections_are_counted_like_the_csv_path() {
    let p = policy(
        "[fields.memo]\ntransform = \"redact\"\nreplace = \"tag\"\ndetect = [\"email\", \"rrn\", \"card\"]\n",
    );
    let memo: ArrayRef = Arc::new(StringArray::from(vec![
        Some("kim@naver.com, 940219-2499846, 4111-1111-1111-1111"),
        None,
        Some("lee@daum.net"),
    ]));
    let batch = RecordBatch::try_from_iter([("memo", memo)]).unwrap();
    let t = BatchTransformer::new(&p, &keys(), batch.schema(), Direction::Apply).unwrap();
    assert!(
        t.detections()[0].is_empty(),
        "nothing counted before a batch"
    );
    let out = t.transform(&batch, 0).unwrap();
    assert_eq!(strings(out.column(0))[2].as_deref(), Some("[EMAIL]"));
    // Two batches: the counts are over the run.
    t.transform(&batch, 3).unwrap();
    let d = &t.detections()[0];
    assert_eq!(
        d.iter().map(|(k, n)| (k.as_str(), *n)).collect::<Vec<_>>(),
        [("card", 2), ("email", 4), ("rrn", 2)]
    );
    assert_eq!(t.counted_columns()[0].detections, *d);
}

/// A `Date32` column under `year`, `year-month` or `age-band` is generalized
/// from its days (src/arrow/mod.rs); the output is what the same rule gives
/// for the dates' text, checked on every day from 0000-01-01 to 9999-12-31,
/// and on batches holding a date outside those years (left to the text,
/// which fails them) with nulls.
#[test]
fn date_rules_on_date32_equal_the_rules_on_its_text() {
    const YEAR_0: i32 = -719_528;
    const YEAR_9999: i32 = 2_932_896;
    let rules = [
        "to = \"year\"",
        "to = \"year-month\"",
        "to = \"age-band\"\nwidth = 10\nas_of = \"2025-01-01\"",
    ];
    let run = |a: ArrayRef, rule: &str| {
        let p = policy(&format!("[fields.v]\ntransform = \"generalize\"\n{rule}\n"));
        let batch = RecordBatch::try_from_iter([("v", a)]).unwrap();
        let t = BatchTransformer::new(&p, &keys(), batch.schema(), Direction::Apply).unwrap();
        t.transform(&batch, 0)
            .map(|out| strings(out.column(0)))
            .map_err(|e| (e.row(), e.to_string()))
    };
    // One column `v` as dates, then as their text: the same rule, the same
    // result (values, or the failing row and message).
    let both = |days: Vec<Option<i32>>, rule: &str| {
        let dates: ArrayRef = Arc::new(Date32Array::from(days));
        let text = arrow_cast::cast(&dates, &DataType::Utf8).unwrap();
        (run(dates, rule), run(text, rule))
    };
    for rule in rules {
        let mut first = YEAR_0;
        while first <= YEAR_9999 {
            let last = (first + (1 << 16) - 1).min(YEAR_9999);
            let days: Vec<Option<i32>> = (first..=last).map(Some).collect();
            let (d, t) = both(days, rule);
            if rule.contains("age-band") && last > 20_089 {
                // Birth dates after as_of fail either way, at the same row.
                assert_eq!(d.unwrap_err(), t.unwrap_err(), "{rule} from day {first}");
            } else {
                let d = d.unwrap();
                assert_eq!(d, t.unwrap(), "{rule} from day {first}");
                assert!(d.iter().all(Option::is_some));
            }
            first = last + 1;
        }
        for outside in [YEAR_0 - 1, YEAR_9999 + 1] {
            let (d, t) = both(vec![Some(0), None, Some(outside), Some(19_732)], rule);
            assert_eq!(d, t, "{rule} with day {outside}");
            assert!(d.is_err(), "{rule}: day {outside} has no ISO text");
        }
        // Days Arrow has no text for at all: an error, not a panic.
        for far in [i32::MIN, i32::MAX] {
            let dates: ArrayRef = Arc::new(Date32Array::from(vec![Some(0), Some(far)]));
            assert!(run(dates, rule).is_err(), "{rule} with day {far}");
        }
        let (d, t) = both(vec![Some(19_732), None, Some(0)], rule);
        assert_eq!(d, t);
        assert_eq!(d.unwrap()[1], None, "null stays null");
    }
}
