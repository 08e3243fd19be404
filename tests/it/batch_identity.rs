//! The batched paths compute `pseudonymize` fields a group of values at a
//! time (src/field.rs `PseudonymBatch`, used by the CSV pipeline in
//! src/io/process.rs and the Arrow path in src/arrow/mod.rs). Their output
//! must be byte-identical to transforming each value on its own with
//! `FieldProcessor::transform`, which these properties check on random
//! input: empty, non-UTF-8, quoted and multi-line CSV fields, values that
//! fail a normalizer (left out under `on_error = "drop-record"`), Arrow
//! nulls and lists.
#![cfg(feature = "std")]

use deid::field::{FieldProcessor, Scratch};
use deid::io::pipeline::{PipelineOptions, run};
use deid::transform::FieldSpec;
use deid::{Keyset, MasterKey, Policy};
use proptest::prelude::*;

fn keys() -> Keyset {
    Keyset::from_keys(vec![MasterKey::from_bytes(1, [7u8; 32])]).unwrap()
}

/// `a` pseudonymized as is; `b` lowercased first (fails on non-UTF-8);
/// `d` encrypted deterministically and `e` masked (one at a time, between
/// the batched ones; a mask keeps the quotes, delimiters and line breaks at
/// its ends, which the writer must then quote); `id` kept.
const FIELDS: &[(&str, &str)] = &[
    ("a", r#"{"transform": "pseudonymize"}"#),
    (
        "b",
        r#"{"transform": "pseudonymize", "normalize": ["lowercase"], "bytes": 8, "encoding": "base64url"}"#,
    ),
    ("d", r#"{"transform": "encrypt", "mode": "deterministic"}"#),
    (
        "e",
        r#"{"transform": "mask", "keep_first": 2, "keep_last": 1}"#,
    ),
];

fn policy(on_error: &str) -> Policy {
    Policy::from_toml(&format!(
        "version = 1\non_error = \"{on_error}\"\n\
         [fields.a]\ntransform = \"pseudonymize\"\n\
         [fields.b]\ntransform = \"pseudonymize\"\nnormalize = [\"lowercase\"]\nbytes = 8\nencoding = \"base64url\"\n\
         [fields.d]\ntransform = \"encrypt\"\nmode = \"deterministic\"\n\
         [fields.e]\ntransform = \"mask\"\nkeep_first = 2\nkeep_last = 1\n"
    ))
    .unwrap()
}

fn processors() -> Vec<FieldProcessor> {
    FIELDS
        .iter()
        .map(|(c, s)| {
            let spec: FieldSpec = serde_json::from_str(s).unwrap();
            FieldProcessor::new(c, &spec, &keys()).unwrap()
        })
        .collect()
}

/// One value on its own.
fn one(p: &FieldProcessor, v: &[u8]) -> Result<Vec<u8>, deid::Error> {
    let mut out = Vec::new();
    p.transform(
        v,
        None,
        &mut deid::io::rng::OsRng,
        &mut Scratch::default(),
        &mut out,
    )?;
    Ok(out)
}

/// A field value: short or long, with the bytes CSV must quote, with
/// non-UTF-8 bytes, or empty.
fn value() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        4 => "[a-zA-Z0-9@. -]{0,20}".prop_map(String::into_bytes),
        1 => "[A-Z,\"\r\n ]{0,12}".prop_map(String::into_bytes),
        1 => proptest::collection::vec(any::<u8>(), 0..70),
        1 => Just(Vec::new()),
    ]
}

/// The CSV file for `rows` (header `id,a,b,d,e`, fields separated by
/// `delimiter`), the output expected from transforming each value on its
/// own (rows with a failing value left out) and whether any row failed.
fn csv_case(rows: &[[Vec<u8>; 4]], delimiter: u8) -> (Vec<u8>, Vec<u8>, bool) {
    let ps = processors();
    let writer = || {
        csv::WriterBuilder::new()
            .delimiter(delimiter)
            .from_writer(Vec::new())
    };
    let mut input = writer();
    let mut expected = writer();
    input.write_record(["id", "a", "b", "d", "e"]).unwrap();
    expected.write_record(["id", "a", "b", "d", "e"]).unwrap();
    let mut any_failed = false;
    for (i, r) in rows.iter().enumerate() {
        let id = i.to_string().into_bytes();
        input
            .write_record([&id[..], &r[0][..], &r[1][..], &r[2][..], &r[3][..]])
            .unwrap();
        let out: Result<Vec<Vec<u8>>, _> = ps.iter().zip(r).map(|(p, v)| one(p, v)).collect();
        match out {
            Ok(out) => expected
                .write_record([&id[..], &out[0][..], &out[1][..], &out[2][..], &out[3][..]])
                .unwrap(),
            Err(_) => any_failed = true,
        }
    }
    (
        input.into_inner().unwrap(),
        expected.into_inner().unwrap(),
        any_failed,
    )
}

fn pipeline(
    policy: &Policy,
    input: Vec<u8>,
    opts: &PipelineOptions,
) -> Result<Vec<u8>, deid::io::error::InputError> {
    let mut out = Vec::new();
    run(
        policy,
        &keys(),
        Box::new(std::io::Cursor::new(input)),
        "input.csv",
        &mut out,
        opts,
        &mut |_| {},
    )?;
    Ok(out)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    /// Delimiters include bytes of the token alphabets (`a`, `0`, `-`, `_`),
    /// after which a pseudonym must be quoted.
    #[test]
    fn csv_batched_equals_one_at_a_time(
        rows in proptest::collection::vec([value(), value(), value(), value()], 0..300),
        threads in 1usize..3,
        delimiter in prop_oneof![
            4 => Just(b','), 1 => Just(b';'), 1 => Just(b'\t'), 1 => Just(b'a'),
            1 => Just(b'0'), 1 => Just(b'-'), 1 => Just(b'_'),
        ],
    ) {
        let (input, expected, any_failed) = csv_case(&rows, delimiter);
        // Small chunks: groups end inside chunks and chunks inside groups.
        let opts = PipelineOptions::new()
            .threads(threads)
            .chunk_bytes(4096)
            .delimiter(delimiter);
        let got = pipeline(&policy("drop-record"), input.clone(), &opts).unwrap();
        prop_assert_eq!(got, expected);
        // Failing mode: an error exactly when some row fails.
        let failed = pipeline(&policy("fail"), input, &opts).is_err();
        prop_assert_eq!(failed, any_failed);
    }
}

/// Records are parsed a group at a time before they are transformed: a
/// record that cannot be read is reported only when no record before it
/// failed, and a failing record only when no record before it was
/// unreadable, as reading and transforming record by record would.
#[test]
fn the_first_bad_record_is_reported_whichever_way_it_is_bad() {
    let fine: &[u8] = b"1,x,y,z,wxyz\n";
    let bad_value: &[u8] = b"2,x,\xff,z,wxyz\n"; // `b` is lowercased: not UTF-8
    let ragged: &[u8] = b"3,x,y\n";
    for (lines, row, column) in [
        (vec![fine, bad_value, fine, ragged], 2, Some("b")),
        (vec![fine, ragged, bad_value], 2, None),
        (vec![fine, fine, ragged, bad_value], 3, None),
    ] {
        let mut input = b"id,a,b,d,e\n".to_vec();
        for l in &lines {
            input.extend_from_slice(l);
        }
        let err = pipeline(&policy("fail"), input, &PipelineOptions::new()).unwrap_err();
        assert_eq!((err.row(), err.column()), (Some(row), column), "{lines:?}");
    }
}

#[cfg(feature = "arrow")]
mod arrow {
    use std::sync::Arc;

    use arrow_array::builder::{ListBuilder, StringBuilder};
    use arrow_array::cast::AsArray;
    use arrow_array::{Array, ArrayRef, BinaryArray, RecordBatch, StringArray};
    use deid::arrow::BatchTransformer;
    use deid::policy::Direction;

    use super::*;

    /// Expected Arrow values: `None` for a null, `Err` for a failure.
    fn expect(p: &FieldProcessor, v: Option<&[u8]>) -> Result<Option<Vec<u8>>, ()> {
        match v {
            None => Ok(None),
            Some(v) => one(p, v).map(Some).map_err(|_| ()),
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(48))]

        #[test]
        fn arrow_batched_equals_one_at_a_time(
            rows in proptest::collection::vec(
                (proptest::option::of(value()), proptest::option::of(value()),
                 proptest::collection::vec(value(), 0..4)),
                0..200,
            ),
        ) {
            let ps = processors();
            // `a`: Utf8 (lossy, so always text) with nulls; `b`: Binary with
            // nulls, any bytes; `l`: a list of Utf8, pseudonymized like `a`.
            let a: StringArray = rows
                .iter()
                .map(|r| r.0.as_ref().map(|v| String::from_utf8_lossy(v).into_owned()))
                .collect();
            let b: BinaryArray = rows.iter().map(|r| r.1.as_deref()).collect();
            let mut lb = ListBuilder::new(StringBuilder::new());
            for r in &rows {
                for v in &r.2 {
                    lb.values().append_value(String::from_utf8_lossy(v));
                }
                lb.append(true);
            }
            let l: ArrayRef = Arc::new(lb.finish());
            let batch = RecordBatch::try_from_iter([
                ("a", Arc::new(a.clone()) as ArrayRef),
                ("b", Arc::new(b.clone()) as ArrayRef),
                ("l", l.clone()),
            ])
            .unwrap();
            let policy = Policy::from_toml(
                "version = 1\non_error = \"drop-record\"\n\
                 [fields.a]\ntransform = \"pseudonymize\"\n\
                 [fields.b]\ntransform = \"pseudonymize\"\nnormalize = [\"lowercase\"]\nbytes = 8\nencoding = \"base64url\"\n\
                 [fields.l]\ntransform = \"pseudonymize\"\ncontext = \"a\"\n",
            )
            .unwrap();
            let t = BatchTransformer::new(&policy, &keys(), batch.schema(), Direction::Apply).unwrap();
            let out = t.transform(&batch, 0).unwrap();
            let (mut ea, mut eb, mut el) = (Vec::new(), Vec::new(), Vec::new());
            let lists = l.as_list::<i32>();
            for i in 0..rows.len() {
                let va = expect(&ps[0], (!a.is_null(i)).then(|| a.value(i).as_bytes()));
                let vb = expect(&ps[1], (!b.is_null(i)).then(|| b.value(i)));
                let items = lists.value(i);
                let vl: Result<Vec<Vec<u8>>, ()> = items
                    .as_string::<i32>()
                    .iter()
                    .map(|v| one(&ps[0], v.unwrap().as_bytes()).map_err(|_| ()))
                    .collect();
                if let (Ok(va), Ok(vb), Ok(vl)) = (va, vb, vl) {
                    ea.push(va);
                    eb.push(vb);
                    el.push(vl);
                }
            }
            let text = |c: &ArrayRef| -> Vec<Option<Vec<u8>>> {
                c.as_string::<i32>()
                    .iter()
                    .map(|v| v.map(|s| s.as_bytes().to_vec()))
                    .collect()
            };
            prop_assert_eq!(text(out.column(0)), ea);
            prop_assert_eq!(text(out.column(1)), eb);
            let got_l: Vec<Vec<Vec<u8>>> = (0..out.num_rows())
                .map(|i| {
                    let v = out.column(2).as_list::<i32>().value(i);
                    v.as_string::<i32>()
                        .iter()
                        .map(|s| s.unwrap().as_bytes().to_vec())
                        .collect()
                })
                .collect();
            prop_assert_eq!(got_l, el);
        }
    }
}
