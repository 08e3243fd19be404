//! Every Arrow value as text: the form `scan`, the audits and CSV output
//! read a Parquet file or an Arrow table in, from the CLI and from the
//! Python package alike.
//!
//! A batch is read as its *text columns*: a scalar column as itself, each
//! field of a struct as its own column named by its dotted path
//! (`address.zip`; a value under a null struct reads as null), and a list
//! or map as one column holding each row's JSON text, the value a JSON Lines
//! record would hold. Scalars are rendered by [`utf8_text`], the rule the
//! transforms read typed values by (src/arrow/mod.rs, "Typed values as
//! text").
//!
//! # Example
//! ```
//! use std::sync::Arc;
//! use arrow_array::cast::AsArray;
//! use arrow_array::{ArrayRef, Int64Array, RecordBatch, StringArray, StructArray};
//! use arrow_schema::{DataType, Field};
//!
//! let zip: ArrayRef = Arc::new(StringArray::from(vec!["04524", "06236"]));
//! let address: ArrayRef = Arc::new(StructArray::from(vec![(
//!     Arc::new(Field::new("zip", DataType::Utf8, true)),
//!     zip,
//! )]));
//! let id: ArrayRef = Arc::new(Int64Array::from(vec![7, 8]));
//! let batch = RecordBatch::try_from_iter([("id", id), ("address", address)])?;
//! assert_eq!(deid::arrow::text_column_names(batch.schema_ref()), ["id", "address.zip"]);
//! let cols = deid::arrow::text_columns(&batch, &["address.zip".into(), "id".into()])
//!     .expect("both are text columns");
//! assert_eq!(cols[0].as_string::<i32>().value(1), "06236");
//! assert_eq!(cols[1].as_string::<i32>().value(0), "7");
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::borrow::ToOwned;
use std::string::{String, ToString};
use std::sync::Arc;
use std::vec::Vec;

use arrow_array::cast::AsArray;
use arrow_array::{Array, ArrayRef, OffsetSizeTrait, RecordBatch, StringArray};
use arrow_schema::{DataType, Field, Schema};

use super::{arrow_message, utf8_text};
use crate::io::error::{InputErrorKind, check_unique_columns};

/// The text column names of a schema: struct fields by dotted path, a list
/// or map one column.
pub fn text_column_names(schema: &Schema) -> Vec<String> {
    fn walk(f: &Field, prefix: &str, out: &mut Vec<String>) {
        let path = dotted(prefix, f.name());
        match f.data_type() {
            DataType::Struct(children) if !children.is_empty() => {
                for c in children {
                    walk(c, &path, out);
                }
            }
            _ => out.push(path),
        }
    }
    let mut out = Vec::new();
    for f in schema.fields() {
        walk(f, "", &mut out);
    }
    out
}

/// Every text column of a batch, in [`text_column_names`] order.
///
/// # Errors
/// [`InputErrorKind::Arrow`] naming the column for a type without a text
/// form.
pub fn text_leaves(batch: &RecordBatch) -> Result<Vec<ArrayRef>, InputErrorKind> {
    let mut out = Vec::new();
    leaves_where(batch, &mut |_| Some(()), &mut out)?;
    Ok(out.into_iter().map(|(_, a)| a).collect())
}

/// The text columns `names` of a batch, in that order (a name may come
/// twice); only these are rendered, so reading two columns of a wide table
/// costs two columns.
///
/// # Errors
/// As [`missing_text_column`] for a name that is no text column;
/// [`InputErrorKind::DuplicateColumn`] when two text columns have the same
/// name (a top-level `a.b` beside a struct `a` with a field `b`);
/// [`InputErrorKind::Arrow`] as [`text_leaves`].
pub fn text_columns(
    batch: &RecordBatch,
    names: &[String],
) -> Result<Vec<ArrayRef>, InputErrorKind> {
    let all = text_column_names(batch.schema_ref());
    check_unique_columns(&all)?;
    if let Some((_, kind)) = missing(&all, names) {
        return Err(kind);
    }
    let mut found = Vec::with_capacity(names.len());
    leaves_where(
        batch,
        &mut |path| names.iter().any(|n| n == path).then(|| path.to_owned()),
        &mut found,
    )?;
    names
        .iter()
        .map(|n| {
            found
                .iter()
                .find(|(path, _)| path == n)
                .map(|(_, a)| Arc::clone(a))
                .ok_or_else(|| InputErrorKind::Arrow(std::format!("column '{n}' was not rendered")))
        })
        .collect()
}

/// The first of `names` that is no text column of `schema`, and its error:
/// [`InputErrorKind::MissingColumn`], listing the text columns whose names
/// look like names.
pub fn missing_text_column<'a>(
    schema: &Schema,
    names: &'a [String],
) -> Option<(&'a str, InputErrorKind)> {
    missing(&text_column_names(schema), names)
}

fn missing<'a>(all: &[String], names: &'a [String]) -> Option<(&'a str, InputErrorKind)> {
    let name = names.iter().find(|n| !all.contains(n))?;
    let available = all
        .iter()
        .filter(|c| crate::io::header::is_plausible_column_name(c))
        .cloned()
        .collect();
    Some((name, InputErrorKind::MissingColumn { available }))
}

/// Renders the text columns whose path `want` maps to a tag, into `out`
/// with their tags. An error names the top-level column.
fn leaves_where<T>(
    batch: &RecordBatch,
    want: &mut dyn FnMut(&str) -> Option<T>,
    out: &mut Vec<(T, ArrayRef)>,
) -> Result<(), InputErrorKind> {
    for (c, f) in batch.columns().iter().zip(batch.schema_ref().fields()) {
        leaves_of(c, f.name(), None, want, out).map_err(|kind| match kind {
            InputErrorKind::Arrow(m) => {
                InputErrorKind::Arrow(std::format!("column '{}': {m}", f.name()))
            }
            kind => kind,
        })?;
    }
    Ok(())
}

/// [`leaves_where`] of one array at `path`, below a parent's nulls.
fn leaves_of<T>(
    a: &ArrayRef,
    path: &str,
    parent: Option<&arrow_buffer::NullBuffer>,
    want: &mut dyn FnMut(&str) -> Option<T>,
    out: &mut Vec<(T, ArrayRef)>,
) -> Result<(), InputErrorKind> {
    if let DataType::Struct(fields) = a.data_type() {
        if !fields.is_empty() {
            let s = a.as_struct();
            let nulls = arrow_buffer::NullBuffer::union(parent, s.nulls());
            for (c, f) in s.columns().iter().zip(fields) {
                leaves_of(c, &dotted(path, f.name()), nulls.as_ref(), want, out)?;
            }
            return Ok(());
        }
    }
    let Some(tag) = want(path) else {
        return Ok(());
    };
    let text = match a.data_type() {
        DataType::List(_)
        | DataType::LargeList(_)
        | DataType::FixedSizeList(..)
        | DataType::Map(..) => {
            // One JSON value per row, as JSON Lines would hold it.
            let json = json_values(a)?;
            let text: StringArray = (0..a.len())
                .map(|i| a.is_valid(i).then(|| json[i].as_str()))
                .collect();
            Arc::new(text) as ArrayRef
        }
        _ => utf8_text(a)?,
    };
    out.push((tag, with_nulls(text, parent)?));
    Ok(())
}

fn dotted(prefix: &str, name: &str) -> String {
    if prefix.is_empty() {
        name.to_owned()
    } else {
        std::format!("{prefix}.{name}")
    }
}

fn with_nulls(
    a: ArrayRef,
    parent: Option<&arrow_buffer::NullBuffer>,
) -> Result<ArrayRef, InputErrorKind> {
    let Some(p) = parent else { return Ok(a) };
    let s = a.as_string::<i32>();
    let nulls = arrow_buffer::NullBuffer::union(Some(p), s.nulls());
    StringArray::try_new(s.offsets().clone(), s.values().clone(), nulls)
        .map(|a| Arc::new(a) as ArrayRef)
        .map_err(|e| InputErrorKind::Arrow(arrow_message(&e)))
}

/// Every slot of `a` as JSON text, the form a JSON Lines record would give
/// it: a scalar as the string of its text ([`utf8_text`]), a list as an
/// array, a struct as an object of its fields, a map as an object from
/// each key's text to its value (keys in order, repeats kept), a null as
/// `null`. Each child array is rendered once, whatever its nesting.
fn json_values(a: &ArrayRef) -> Result<Vec<String>, InputErrorKind> {
    let n = a.len();
    // A list's items, `bounds` (start, end) into its values, one per slot.
    let list = |bounds: Vec<(usize, usize)>, values: &ArrayRef| {
        let items = json_values(values)?;
        let mut out = Vec::with_capacity(n);
        for (i, (start, end)) in bounds.into_iter().enumerate() {
            if a.is_null(i) {
                out.push("null".to_owned());
                continue;
            }
            let end = end.min(items.len());
            out.push(std::format!("[{}]", items[start.min(end)..end].join(",")));
        }
        Ok(out)
    };
    let mut out = Vec::with_capacity(n);
    match a.data_type() {
        DataType::List(_) => {
            let l = a.as_list::<i32>();
            return list(spans(l.value_offsets()), l.values());
        }
        DataType::LargeList(_) => {
            let l = a.as_list::<i64>();
            return list(spans(l.value_offsets()), l.values());
        }
        DataType::FixedSizeList(..) => {
            let l = a.as_fixed_size_list();
            let w = l.value_length().max(0) as usize;
            let bounds = (0..n)
                .map(|i| {
                    let start = l.value_offset(i).max(0) as usize;
                    (start, start + w)
                })
                .collect();
            return list(bounds, l.values());
        }
        DataType::Map(..) => {
            let m = a.as_map();
            let keys = utf8_text(m.keys())?;
            let keys = keys.as_string::<i32>();
            let values = json_values(m.values())?;
            for (i, (start, end)) in spans(m.value_offsets()).into_iter().enumerate() {
                if m.is_null(i) {
                    out.push("null".to_owned());
                    continue;
                }
                let entries: Vec<String> = (start..end.min(values.len()))
                    // Arrow refuses a map with a null key.
                    .map(|j| std::format!("{}:{}", json_string(keys.value(j)), values[j]))
                    .collect();
                out.push(std::format!("{{{}}}", entries.join(",")));
            }
        }
        DataType::Struct(fields) => {
            let st = a.as_struct();
            let children = st
                .columns()
                .iter()
                .map(json_values)
                .collect::<Result<Vec<_>, _>>()?;
            for i in 0..n {
                if st.is_null(i) {
                    out.push("null".to_owned());
                    continue;
                }
                let members: Vec<String> = fields
                    .iter()
                    .zip(&children)
                    .map(|(f, c)| std::format!("{}:{}", json_string(f.name()), c[i]))
                    .collect();
                out.push(std::format!("{{{}}}", members.join(",")));
            }
        }
        _ => {
            let text = utf8_text(a)?;
            let text = text.as_string::<i32>();
            for i in 0..n {
                if text.is_null(i) {
                    out.push("null".to_owned());
                } else {
                    out.push(json_string(text.value(i)));
                }
            }
        }
    }
    Ok(out)
}

/// Where each slot of a list or map lies in its values: (start, end).
/// Offsets that do not fit (negative, past the values) are clamped by the
/// caller, so a malformed array renders short instead of panicking.
fn spans<O: OffsetSizeTrait>(offsets: &[O]) -> Vec<(usize, usize)> {
    offsets
        .windows(2)
        .map(|w| (w[0].as_usize(), w[1].as_usize()))
        .collect()
}

/// `v` as a JSON string, quoted and escaped.
fn json_string(v: &str) -> String {
    serde_json::Value::from(v).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use arrow_array::{Int32Array, ListArray, StructArray};
    use arrow_buffer::NullBuffer;
    use arrow_schema::Fields;

    /// `id`, a struct `a` {`x`: int, `y`: text} that is null in row 1, and a
    /// list `l`.
    fn batch() -> RecordBatch {
        let fields = Fields::from(vec![
            Field::new("x", DataType::Int32, true),
            Field::new("y", DataType::Utf8, true),
        ]);
        let a = StructArray::new(
            fields,
            vec![
                Arc::new(Int32Array::from(vec![1, 2, 3])) as ArrayRef,
                Arc::new(StringArray::from(vec![Some("p"), Some("q"), None])),
            ],
            Some(NullBuffer::from(vec![true, false, true])),
        );
        let l = ListArray::from_iter_primitive::<arrow_array::types::Int32Type, _, _>(vec![
            Some(vec![Some(1), Some(2)]),
            None,
            Some(vec![]),
        ]);
        RecordBatch::try_from_iter([
            (
                "id",
                Arc::new(StringArray::from(vec!["r1", "r2", "r3"])) as ArrayRef,
            ),
            ("a", Arc::new(a)),
            ("l", Arc::new(l)),
        ])
        .unwrap()
    }

    fn texts(a: &ArrayRef) -> Vec<Option<String>> {
        let s = a.as_string::<i32>();
        (0..s.len())
            .map(|i| s.is_valid(i).then(|| s.value(i).to_owned()))
            .collect()
    }

    #[test]
    fn named_columns_are_those_of_every_leaf_in_the_order_asked() {
        let b = batch();
        let names = text_column_names(b.schema_ref());
        assert_eq!(names, ["id", "a.x", "a.y", "l"]);
        let all: Vec<_> = text_leaves(&b).unwrap().iter().map(texts).collect();
        assert_eq!(all[1], [Some("1".into()), None, Some("3".into())]);
        assert_eq!(all[2], [Some("p".into()), None, None]);
        // A list's items as JSON strings of their text, as JSON Lines holds them.
        assert_eq!(
            all[3],
            [Some(r#"["1","2"]"#.into()), None, Some("[]".into())]
        );
        for pick in [vec![3, 0], vec![2], vec![1, 2, 3, 0], vec![2, 1, 2]] {
            let asked: Vec<String> = pick.iter().map(|&i| names[i].clone()).collect();
            let got: Vec<_> = text_columns(&b, &asked)
                .unwrap()
                .iter()
                .map(texts)
                .collect();
            let want: Vec<_> = pick.iter().map(|&i| all[i].clone()).collect();
            assert_eq!(got, want, "{asked:?}");
        }
    }

    #[test]
    fn a_name_that_is_no_text_column_is_refused_with_the_columns() {
        let b = batch();
        for name in ["a", "a.z", "nope", "l.x"] {
            match text_columns(&b, &[name.to_owned()]) {
                Err(InputErrorKind::MissingColumn { available }) => {
                    assert_eq!(available, ["id", "a.x", "a.y", "l"]);
                }
                other => panic!("{name}: {:?}", other.map(|c| c.len())),
            }
        }
    }

    #[test]
    fn two_columns_with_one_dotted_name_are_refused() {
        let inner = Fields::from(vec![Field::new("b", DataType::Utf8, true)]);
        let a = StructArray::new(
            inner,
            vec![Arc::new(StringArray::from(vec!["s"])) as ArrayRef],
            None,
        );
        let b = RecordBatch::try_from_iter([
            ("a.b", Arc::new(StringArray::from(vec!["t"])) as ArrayRef),
            ("a", Arc::new(a)),
        ])
        .unwrap();
        assert!(matches!(
            text_columns(&b, &["a.b".to_owned()]),
            Err(InputErrorKind::DuplicateColumn {
                first: 1,
                second: 2
            })
        ));
    }
}
