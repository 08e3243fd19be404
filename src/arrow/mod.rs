//! Arrow record batches through a policy: the batch API behind the Parquet
//! path of `deid apply` / `deid decrypt` and the Python package.
//!
//! A [`BatchTransformer`] binds a [`Policy`], a [`Keyset`] and a
//! [`Direction`] to an Arrow schema once, through [`Policy::bind_paths`] (the
//! one binding every format uses), and then turns each [`RecordBatch`] of
//! that schema into a new one. Every value goes through the same
//! [`FieldProcessor`] the CSV and JSON Lines workers call, so a value gives
//! the same token in every format.
//!
//! # Columns and paths
//! Columns are named by their Arrow field names; fields of a struct column by
//! dotted paths (`customer.address.zip`), and a list of structs is
//! transparent (`items.sku` reaches the `sku` of every element), the same
//! rule as JSON Lines (`src/io/json_path.rs`). A policy path that names a
//! struct covers every field below it. Two leaves with the same dotted path
//! (a top-level `a.b` and a struct `a` with a field `b`) are refused.
//!
//! # Schema of the output
//! - Kept columns keep their Arrow type, metadata and nullability; dropped
//!   columns vanish (a struct whose fields are all dropped vanishes too).
//! - Transformed columns become `Utf8` (`LargeUtf8` when the input column is
//!   `LargeUtf8` or `LargeBinary`), with the input's nullability and
//!   metadata. A list of scalars stays a list, of `Utf8`, transformed
//!   element by element.
//! - A dictionary-encoded column under a deterministic transform
//!   (pseudonymize, deterministic encrypt, fpe, generalize, mask, keep, and
//!   every reversal) is transformed once per distinct dictionary value and
//!   stays dictionary-encoded with the same keys; randomized encryption and
//!   dateshift run per row and give plain `Utf8`.
//! - Nulls stay null and are never transformed (an error only under
//!   `empty = "error"`); an empty string is an empty value, as in CSV.
//!
//! # Typed values as text
//! A transform reads a value as text. Strings and binary values are taken as
//! they are; every other type is rendered by Arrow's cast to `Utf8`
//! (`arrow-cast`): integers in decimal, floats in their shortest round-trip
//! form, booleans as `true` / `false`, decimals plain (`1234.50`, scale
//! kept), dates as ISO 8601 (`2024-01-10`; `Date32` columns are written
//! directly, to the same text, and a `Date64` by its days), timestamps as
//! ISO 8601 with a `T` and fractional seconds when non-zero
//! (`2024-01-10T08:30:00`; a column with a time zone, named such as
//! `Asia/Seoul` or an offset, in local time followed by the offset,
//! `+09:00`, or `Z` when it is zero), times as `08:30:00`. So
//! `generalize to = "year"` on a `Date32` column gives `"2024"`.
//!
//! # Failing closed
//! A value that cannot be transformed fails the batch with its row (counted
//! from `first_row`), column and rule, never the value; under
//! `on_error = "drop-record"` (applying) its row is left out instead. Values
//! hidden under a null struct or list slot are never copied: they come out
//! null (or empty where the field cannot be null).
//!
//! # Record suppression
//! A policy's `[suppress]` needs its classes counted over the whole input
//! first (`deid::anonymize::suppression`); given them,
//! [`BatchTransformer::with_suppression`] leaves out the rows whose output
//! values in the class columns form a suppressed class, keyed as the CSV
//! and JSON Lines pipeline keys a record (`src/io/suppress.rs`).
//! [`BatchTransformer::new`] refuses such a policy.
//!
//! # Example
//! ```
//! use std::sync::Arc;
//! use arrow_array::{Array, ArrayRef, RecordBatch, StringArray};
//! use deid::arrow::BatchTransformer;
//! use deid::policy::Direction;
//! use deid::{Keyset, MasterKey, Policy};
//!
//! let keys = Keyset::from_keys(vec![MasterKey::from_bytes(1, [7u8; 32])])?;
//! let policy = Policy::from_toml(
//!     "version = 1\n[fields.phone]\nnormalize = [\"phone:KR\"]\ntransform = \"pseudonymize\"\ncontext = \"customer-phone\"\n",
//! )?;
//! let phone: ArrayRef = Arc::new(StringArray::from(vec![Some("010-1234-5678"), None]));
//! let batch = RecordBatch::try_from_iter([("phone", phone)])?;
//! let t = BatchTransformer::new(&policy, &keys, batch.schema(), Direction::Apply)?;
//! let out = t.transform(&batch, 0)?;
//! assert_eq!(out.schema(), t.output_schema());
//! let col = out.column(0).as_any().downcast_ref::<StringArray>().unwrap();
//! assert_eq!(col.value(0), "410fd2904e78b0ee5841242f57ee8474");
//! assert!(col.is_null(1));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::borrow::ToOwned;
use std::string::{String, ToString};
use std::sync::Arc;
use std::vec::Vec;

use arrow_array::cast::AsArray;
use arrow_array::{
    Array, ArrayRef, BinaryArray, BinaryViewArray, BooleanArray, FixedSizeBinaryArray,
    FixedSizeListArray, GenericListArray, LargeBinaryArray, LargeStringArray, OffsetSizeTrait,
    RecordBatch, RecordBatchOptions, StringArray, StringViewArray, StructArray,
};
use arrow_buffer::{BooleanBuffer, NullBuffer, OffsetBuffer, ScalarBuffer};
use arrow_schema::{DataType, Field, FieldRef, Fields, Schema, SchemaRef};

use crate::error::Error;
use crate::field::{FieldProcessor, PseudonymBatch, Scratch};
use crate::io::error::{InputError, InputErrorKind, check_unique_columns};
use crate::io::pipeline::ColumnCount;
use crate::io::rng::BufferedOsRng;
use crate::io::suppress::SuppressClasses;
use crate::key::Keyset;
use crate::policy::{ColumnAction, Direction, OnError, Policy, PolicyError};
use crate::transform::{EmptyRule, EncryptMode, TransformSpec};

mod text;
pub use text::{missing_text_column, text_column_names, text_columns, text_leaves};

/// One bound policy field, compiled.
struct Bound {
    processor: FieldProcessor,
    empty_error: bool,
    /// Applying randomized encryption or dateshift: a dictionary value does
    /// not map to one output, so dictionaries are expanded.
    per_row: bool,
    /// The leaf whose value names the `dateshift` subject.
    subject: Option<usize>,
    /// `transform = "keep"`: its values are checked and counted as text
    /// like any field's, and the column is written as it came, of its own
    /// type (as a column the policy does not name).
    keeps: bool,
}

/// One leaf of the schema: a scalar, a list of scalars or a dictionary,
/// reached through structs (and lists of structs).
struct Leaf {
    path: String,
    /// Child indices from the batch's columns down to the leaf.
    indices: Vec<usize>,
    /// Whether a list lies on the way (then it cannot be a subject).
    in_list: bool,
}

/// A policy, a keyset and a direction bound to one Arrow schema.
///
/// `Send + Sync`: one transformer serves every thread; each call to
/// [`BatchTransformer::transform`] uses its own scratch buffers and nonce
/// source.
pub struct BatchTransformer {
    source: String,
    input: SchemaRef,
    output: SchemaRef,
    leaves: Vec<Leaf>,
    actions: Vec<ColumnAction>,
    fields: Vec<Bound>,
    dropped: Vec<String>,
    on_error: OnError,
    direction: Direction,
    /// `[suppress]`: the classes to leave out and, per class column, the
    /// leaf holding its output.
    suppress: Option<(Arc<SuppressClasses>, Vec<usize>)>,
}

impl core::fmt::Debug for BatchTransformer {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("BatchTransformer")
            .field("source", &self.source)
            .field("direction", &self.direction)
            .field("fields", &self.fields.len())
            .finish_non_exhaustive()
    }
}

/// What one call of [`BatchTransformer::transform_counted`] did.
#[derive(Debug)]
pub struct BatchOutput {
    /// The transformed batch, of [`BatchTransformer::output_schema`].
    pub batch: RecordBatch,
    /// Rows left out under `on_error = "drop-record"`.
    pub rows_dropped: u64,
    /// Rows left out by the policy's `[suppress]` (see
    /// [`BatchTransformer::with_suppression`]).
    pub rows_suppressed: u64,
    /// Non-null, non-empty values processed per field, aligned with
    /// [`BatchTransformer::counted_columns`].
    pub values: Vec<u64>,
}

/// Where a transform failed, first in row order then policy order.
struct Failures {
    first: Option<(u64, usize, Error)>,
    drop_rows: Option<Vec<bool>>,
}

impl Failures {
    fn record(&mut self, row: usize, k: usize, e: Error) {
        if let Some(rows) = &mut self.drop_rows {
            if let Some(r) = rows.get_mut(row) {
                *r = true;
            }
            return;
        }
        let better = match &self.first {
            None => true,
            Some((r, f, _)) => (row as u64, k) < (*r, *f),
        };
        if better {
            self.first = Some((row as u64, k, e));
        }
    }

    /// In fail mode, whether a failure before `row` is already known (the
    /// rest of the column cannot change which error is reported). A failure
    /// in `row` itself does not settle it: another column of the row may be
    /// earlier in policy order.
    fn settled(&self, row: usize) -> bool {
        matches!(&self.first, Some((r, _, _)) if *r < row as u64)
    }
}

/// Per-call state.
#[derive(Default)]
struct State {
    rng: BufferedOsRng,
    scratch: Scratch,
    buf: Vec<u8>,
    /// A `pseudonymize` column's values, computed together: copied into
    /// the batch when normalized, or where they lie in the column (their
    /// indices here) when the field [borrows](PseudonymBatch::borrows).
    batch: PseudonymBatch,
    indices: Vec<usize>,
    slots: Vec<Slot>,
}

/// What one slot of a batched `pseudonymize` column becomes.
#[derive(Clone, Copy)]
enum Slot {
    /// Nothing (under a null parent, after a failure, or failed itself).
    Hidden,
    Null,
    /// An empty value kept empty.
    Empty,
    /// The pseudonym of the queued value with this index.
    Value(usize),
}

/// A leaf's values as bytes, typed values rendered to text once per batch.
enum Bytes<'a> {
    S(&'a StringArray),
    Ls(&'a LargeStringArray),
    Sv(&'a StringViewArray),
    B(&'a BinaryArray),
    Lb(&'a LargeBinaryArray),
    Bv(&'a BinaryViewArray),
    F(&'a FixedSizeBinaryArray),
}

impl Bytes<'_> {
    fn of(a: &dyn Array) -> Option<Bytes<'_>> {
        Some(match a.data_type() {
            DataType::Utf8 => Bytes::S(a.as_string_opt::<i32>()?),
            DataType::LargeUtf8 => Bytes::Ls(a.as_string_opt::<i64>()?),
            DataType::Utf8View => Bytes::Sv(a.as_string_view_opt()?),
            DataType::Binary => Bytes::B(a.as_binary_opt::<i32>()?),
            DataType::LargeBinary => Bytes::Lb(a.as_binary_opt::<i64>()?),
            DataType::BinaryView => Bytes::Bv(a.as_binary_view_opt()?),
            DataType::FixedSizeBinary(_) => Bytes::F(a.as_fixed_size_binary_opt()?),
            _ => return None,
        })
    }

    /// The bytes of all values together (views: an estimate), to size
    /// buffers once.
    fn total_len(&self) -> usize {
        fn span<O: arrow_array::OffsetSizeTrait>(o: &[O]) -> usize {
            match (o.first(), o.last()) {
                (Some(a), Some(b)) => (*b - *a).as_usize(),
                _ => 0,
            }
        }
        match self {
            Bytes::S(a) => span(a.value_offsets()),
            Bytes::Ls(a) => span(a.value_offsets()),
            Bytes::B(a) => span(a.value_offsets()),
            Bytes::Lb(a) => span(a.value_offsets()),
            Bytes::Sv(a) => a.len() * 16,
            Bytes::Bv(a) => a.len() * 16,
            Bytes::F(a) => a.len() * a.value_length().max(0) as usize,
        }
    }

    fn get(&self, i: usize) -> &[u8] {
        match self {
            Bytes::S(a) => a.value(i).as_bytes(),
            Bytes::Ls(a) => a.value(i).as_bytes(),
            Bytes::Sv(a) => a.value(i).as_bytes(),
            Bytes::B(a) => a.value(i),
            Bytes::Lb(a) => a.value(i),
            Bytes::Bv(a) => a.value(i),
            Bytes::F(a) => a.value(i),
        }
    }
}

/// Whether values of this type can be read as text (directly or by cast).
fn is_scalar(t: &DataType) -> bool {
    t.is_primitive()
        || matches!(
            t,
            DataType::Boolean
                | DataType::Utf8
                | DataType::LargeUtf8
                | DataType::Utf8View
                | DataType::Binary
                | DataType::LargeBinary
                | DataType::BinaryView
                | DataType::FixedSizeBinary(_)
        )
}

/// Text (or bytes) of a scalar array: itself, or its cast to `Utf8`. The
/// one rule by which a typed value becomes text (the module's "Typed values
/// as text"), for transforms and for writing Parquet as CSV alike.
pub(crate) fn as_text(a: &ArrayRef) -> Result<ArrayRef, InputErrorKind> {
    if Bytes::of(a.as_ref()).is_some() {
        return Ok(Arc::clone(a));
    }
    if let Some(text) = date32_text(a) {
        return Ok(text);
    }
    // A date is a date: Arrow's cast writes a `Date64` as a date and time
    // (`2024-01-10T00:00:00`); its days are written as a `Date32`'s.
    if a.data_type() == &DataType::Date64 {
        if let Ok(days) = cast_exact(a, &DataType::Date32) {
            return as_text(&days);
        }
    }
    cast_exact(a, &DataType::Utf8).map_err(|_| {
        InputErrorKind::Arrow(std::format!(
            "values of type {} cannot be rendered as text",
            a.data_type()
        ))
    })
}

/// Arrow's cast of `a` to `t`, failing where a value does not convert
/// (bytes that are not UTF-8, a timestamp outside the calendar) instead of
/// making it null, as the default cast does: a value is never lost.
pub(crate) fn cast_exact(a: &ArrayRef, t: &DataType) -> Result<ArrayRef, arrow_schema::ArrowError> {
    let options = arrow_cast::CastOptions {
        safe: false,
        ..Default::default()
    };
    arrow_cast::cast_with_options(a.as_ref(), t, &options)
}

/// A scalar array's text as `Utf8`, by the module's "Typed values as
/// text" rule: typed values as the transforms read them, strings and binary (which must be UTF-8 here) as
/// they are. What the audits, `scan` and Parquet written as CSV read.
///
/// # Errors
/// A type with no text form, binary that is not UTF-8, or text too large
/// for `Utf8`; the message names the type, never a value.
pub fn utf8_text(a: &ArrayRef) -> Result<ArrayRef, InputErrorKind> {
    let text = as_text(a)?;
    match text.data_type() {
        DataType::Utf8 => Ok(text),
        t => cast_exact(&text, &DataType::Utf8).map_err(|_| {
            InputErrorKind::Arrow(match t {
                // Text already: only its size can fail (over 2 GiB a batch).
                DataType::LargeUtf8 | DataType::Utf8View => {
                    std::format!("values of type {t} are too large to write as text")
                }
                _ => std::format!("values of type {t} are not UTF-8"),
            })
        }),
    }
}

/// A `Date32` column whose dates (nulls aside) all fall in years 0 to 9999,
/// the years whose ISO form [`crate::date::Date`] writes and Arrow's cast
/// writes alike; `None` for any other column.
fn iso_dates(a: &ArrayRef) -> Option<&arrow_array::Date32Array> {
    /// 0000-01-01 and 9999-12-31, in days from 1970-01-01.
    const YEAR_0: i32 = -719_528;
    const YEAR_9999: i32 = 2_932_896;
    let dates = a.as_primitive_opt::<arrow_array::types::Date32Type>()?;
    dates
        .values()
        .iter()
        .enumerate()
        .all(|(i, d)| dates.is_null(i) || (YEAR_0..=YEAR_9999).contains(d))
        .then_some(dates)
}

/// A `Date32` column as the `YYYY-MM-DD` text Arrow's cast gives it, written
/// by [`crate::date::Date`] (the cast formats every date through
/// `core::fmt`, which was about a twelfth of `apply`'s time on
/// benches/parquet.sh). `None` for any other type, or when a date falls
/// outside [`iso_dates`]' years, where the cast's own form (a sign and five
/// digits) is left to the cast.
fn date32_text(a: &ArrayRef) -> Option<ArrayRef> {
    use crate::date::{Date, Layout};
    let dates = iso_dates(a)?;
    let n = dates.len();
    let mut values = Vec::with_capacity(n * 10);
    let mut offsets = Vec::with_capacity(n + 1);
    offsets.push(0i32);
    for (i, &days) in dates.values().iter().enumerate() {
        if !dates.is_null(i) {
            let at = values.len();
            values.resize(at + 10, 0);
            Date::from_days(i64::from(days))
                .write(Layout::ISO, &[], &mut values[at..])
                .ok()?;
        }
        offsets.push(i32::try_from(values.len()).ok()?);
    }
    let text = arrow_array::StringArray::try_new(
        OffsetBuffer::new(ScalarBuffer::from(offsets)),
        values.into(),
        dates.nulls().cloned(),
    )
    .ok()?;
    Some(Arc::new(text))
}

/// What [`BatchTransformer::scalar_leaf`] reads a leaf's values from.
enum Values<'a> {
    /// The text form of each value.
    Text(Bytes<'a>),
    /// A `Date32` column's days (all in [`iso_dates`]' years), under a
    /// date rule.
    Days(&'a [i32], &'a crate::transform::generalize::Generalization),
}

/// The struct fields below a type, through any lists (lists of structs are
/// transparent), with whether a list was crossed.
fn struct_fields(t: &DataType) -> Option<(&Fields, bool)> {
    match t {
        DataType::Struct(f) if !f.is_empty() => Some((f, false)),
        DataType::List(e) | DataType::LargeList(e) | DataType::FixedSizeList(e, _) => {
            struct_fields(e.data_type()).map(|(f, _)| (f, true))
        }
        _ => None,
    }
}

fn collect_leaves(
    fields: &Fields,
    prefix: &str,
    indices: &[usize],
    in_list: bool,
    out: &mut Vec<Leaf>,
) {
    for (i, f) in fields.iter().enumerate() {
        let path = if prefix.is_empty() {
            f.name().clone()
        } else {
            std::format!("{prefix}.{}", f.name())
        };
        let mut idx = indices.to_vec();
        idx.push(i);
        match struct_fields(f.data_type()) {
            Some((children, list)) => collect_leaves(children, &path, &idx, in_list || list, out),
            None => out.push(Leaf {
                path,
                indices: idx,
                in_list,
            }),
        }
    }
}

/// The leaf paths of a schema, as the policy binds them: top-level columns by
/// name, struct fields by dotted path (through lists of structs).
///
/// # Example
/// ```
/// use arrow_schema::{DataType, Field, Fields, Schema};
/// let address = Fields::from(vec![Field::new("zip", DataType::Utf8, true)]);
/// let schema = Schema::new(vec![
///     Field::new("id", DataType::Int64, false),
///     Field::new("address", DataType::Struct(address), true),
/// ]);
/// assert_eq!(deid::arrow::leaf_paths(&schema), ["id", "address.zip"]);
/// ```
pub fn leaf_paths(schema: &Schema) -> Vec<String> {
    let mut leaves = Vec::new();
    collect_leaves(schema.fields(), "", &[], false, &mut leaves);
    leaves.into_iter().map(|l| l.path).collect()
}

/// The output type of a transformed leaf of type `t`.
/// An array of `f`'s type and `n` rows standing for a column whose values
/// are not read: nulls, or zeroed values where `f` cannot be null (for a
/// dictionary: every key 0 into one zeroed value). `None` for types where
/// zeroes are not a valid array (nested types, run-end encoding).
pub(crate) fn placeholder(f: &Field, n: usize) -> Option<ArrayRef> {
    fn zeroed(t: &DataType, n: usize) -> Option<ArrayRef> {
        if t.is_nested() || matches!(t, DataType::RunEndEncoded(..) | DataType::Dictionary(..)) {
            return None;
        }
        let data = arrow_array::new_null_array(t, n)
            .into_data()
            .into_builder()
            .nulls(None)
            .build()
            .ok()?;
        Some(arrow_array::make_array(data))
    }
    if f.is_nullable() {
        if f.data_type().is_nested() || matches!(f.data_type(), DataType::RunEndEncoded(..)) {
            return None;
        }
        return Some(arrow_array::new_null_array(f.data_type(), n));
    }
    match f.data_type() {
        DataType::Dictionary(k, v) => {
            let keys = zeroed(k, n)?.into_data();
            let data = keys
                .into_builder()
                .data_type(f.data_type().clone())
                .child_data(std::vec![zeroed(v, 1)?.into_data()])
                .build()
                .ok()?;
            Some(arrow_array::make_array(data))
        }
        t => zeroed(t, n),
    }
}

/// How many leaves field `f` has, as `collect_leaves` counts them.
fn count_leaves(f: &Field) -> usize {
    match struct_fields(f.data_type()) {
        Some((children, _)) => children.iter().map(|c| count_leaves(c)).sum(),
        None => 1,
    }
}

fn transformed_type(t: &DataType, per_row: bool) -> Option<DataType> {
    Some(match t {
        DataType::LargeUtf8 | DataType::LargeBinary => DataType::LargeUtf8,
        DataType::Dictionary(k, v) if is_scalar(v) => {
            let v = transformed_type(v, false)?;
            if per_row {
                v
            } else {
                DataType::Dictionary(k.clone(), std::boxed::Box::new(v))
            }
        }
        DataType::List(e) => DataType::List(transformed_field(e, per_row)?),
        DataType::LargeList(e) => DataType::LargeList(transformed_field(e, per_row)?),
        DataType::FixedSizeList(e, n) => {
            DataType::FixedSizeList(transformed_field(e, per_row)?, *n)
        }
        t if is_scalar(t) => DataType::Utf8,
        _ => return None,
    })
}

fn transformed_field(f: &FieldRef, per_row: bool) -> Option<FieldRef> {
    Some(Arc::new(
        f.as_ref()
            .clone()
            .with_data_type(transformed_type(f.data_type(), per_row)?),
    ))
}

impl BatchTransformer {
    /// Binds `policy` to `schema` in `direction` and compiles each field's
    /// transform with `keys`.
    ///
    /// # Errors
    /// [`InputErrorKind::Policy`] when the policy does not fit the schema
    /// (a missing column, an unlisted one under `unlisted = "error"`),
    /// [`InputErrorKind::DuplicateColumn`] for two leaves with one path,
    /// [`InputErrorKind::Arrow`] for a transformed column of a type that has
    /// no text form (a map, a union) or a `dateshift` subject inside a list,
    /// [`InputErrorKind::Value`] for options the primitives refuse.
    pub fn new(
        policy: &Policy,
        keys: &Keyset,
        schema: SchemaRef,
        direction: Direction,
    ) -> Result<Self, InputError> {
        Self::with_source(policy, keys, schema, direction, "<arrow>")
    }

    /// As [`BatchTransformer::new`], naming the input `source` in errors (a
    /// file name).
    ///
    /// # Errors
    /// As [`BatchTransformer::new`].
    pub fn with_source(
        policy: &Policy,
        keys: &Keyset,
        schema: SchemaRef,
        direction: Direction,
        source: &str,
    ) -> Result<Self, InputError> {
        Self::with_suppression(policy, keys, schema, direction, source, None)
    }

    /// As [`BatchTransformer::with_source`], leaving out (and counting in
    /// [`BatchOutput::rows_suppressed`]) the rows whose output values in
    /// the columns of `classes` form one of its classes: a policy's
    /// `[suppress]`, its classes counted in a first pass over the whole
    /// input by `deid::anonymize::suppression`. A row is keyed exactly as
    /// the CSV and JSON Lines pipeline keys a record
    /// (`src/io/suppress.rs`), so every format leaves out the same records.
    /// Without `classes`, a policy with `[suppress]` is refused when
    /// applying (a batch at a time cannot count the classes).
    ///
    /// # Errors
    /// As [`BatchTransformer::new`], and a class column that is not one
    /// transformed leaf outside any list; [`transform`](Self::transform)
    /// fails a row whose class column is null.
    pub fn with_suppression(
        policy: &Policy,
        keys: &Keyset,
        schema: SchemaRef,
        direction: Direction,
        source: &str,
        classes: Option<Arc<SuppressClasses>>,
    ) -> Result<Self, InputError> {
        let err = |column: Option<&str>, kind| InputError::new(source, None, column, kind);
        let mut leaves = Vec::new();
        collect_leaves(schema.fields(), "", &[], false, &mut leaves);
        let paths: Vec<String> = leaves.iter().map(|l| l.path.clone()).collect();
        check_unique_columns(&paths).map_err(|k| err(None, k))?;
        let classes = classes.filter(|_| direction == Direction::Apply);
        if direction == Direction::Apply && policy.suppress.is_some() && classes.is_none() {
            // Suppression needs every record's class before the first is
            // written; a batch at a time cannot honour it, so it refuses
            // rather than write records the policy leaves out.
            return Err(err(
                None,
                InputErrorKind::Policy(PolicyError::Suppress(
                    "record suppression needs a first pass over the whole input, which a batch at a time cannot make (use deid apply on the file)".into(),
                )),
            ));
        }
        let binding = policy
            .bind_paths(&paths, direction)
            .map_err(|e| err(None, InputErrorKind::Policy(e)))?;
        let processors = binding
            .processors(keys)
            .map_err(|e| err(None, InputErrorKind::Policy(e)))?;
        let mut fields = Vec::with_capacity(binding.fields.len());
        for (f, processor) in binding.fields.iter().zip(processors) {
            let per_row = direction == Direction::Apply
                && matches!(
                    f.spec.transform,
                    TransformSpec::Encrypt {
                        mode: EncryptMode::Randomized
                    } | TransformSpec::Dateshift { .. }
                );
            if let Some(s) = f.subject {
                if leaves[s].in_list {
                    return Err(err(
                        Some(f.name),
                        InputErrorKind::Arrow(
                            "the dateshift subject column is inside a list; it must be one value per row"
                                .to_owned(),
                        ),
                    ));
                }
            }
            fields.push(Bound {
                processor,
                empty_error: f.spec.empty == EmptyRule::Error,
                per_row,
                subject: f.subject,
                keeps: matches!(f.spec.transform, TransformSpec::Keep),
            });
        }
        let mut t = BatchTransformer {
            source: source.to_owned(),
            output: Arc::clone(&schema),
            input: schema,
            leaves,
            actions: binding.columns.clone(),
            fields,
            dropped: binding.dropped.clone(),
            on_error: binding.on_error,
            direction,
            suppress: None,
        };
        if let Some(classes) = classes {
            let mut qi = Vec::with_capacity(classes.columns().len());
            for c in classes.columns() {
                let k = binding
                    .fields
                    .iter()
                    .position(|f| f.name == c.as_str())
                    .filter(|&k| !t.fields[k].processor.drops_column());
                let mut at = t.actions.iter().enumerate().filter(
                    |(_, a)| matches!((**a, k), (ColumnAction::Field(x), Some(k)) if x == k),
                );
                let leaf = match (at.next(), at.next()) {
                    (Some((i, _)), None) if !t.leaves[i].in_list && t.one_per_row(i) => i,
                    _ => {
                        return Err(err(
                            Some(c),
                            InputErrorKind::Policy(PolicyError::Suppress(std::format!(
                                "quasi-identifier {c} must be one column the policy generalizes, outside any list"
                            ))),
                        ));
                    }
                };
                qi.push(leaf);
            }
            t.suppress = Some((classes, qi));
        }
        let mut leaf = 0;
        let mut out = Vec::new();
        for f in t.input.fields() {
            if let Some(f) = t
                .output_field(f, &mut leaf)
                .map_err(|(c, k)| err(Some(&c), k))?
            {
                out.push(f);
            }
        }
        t.output = Arc::new(Schema::new_with_metadata(out, t.input.metadata().clone()));
        Ok(t)
    }

    /// Whether leaf `i` holds one value per slot (not a list of values).
    fn one_per_row(&self, i: usize) -> bool {
        let mut fields = self.input.fields();
        let mut leaf = None;
        for &j in &self.leaves[i].indices {
            let Some(f) = fields.get(j) else {
                return false;
            };
            leaf = Some(f);
            if let Some((children, _)) = struct_fields(f.data_type()) {
                fields = children;
            }
        }
        leaf.is_some_and(|f| {
            !matches!(
                f.data_type(),
                DataType::List(_)
                    | DataType::LargeList(_)
                    | DataType::FixedSizeList(..)
                    | DataType::ListView(_)
                    | DataType::LargeListView(_)
                    | DataType::Map(..)
            )
        })
    }

    /// The schema the transformer was bound to.
    pub fn input_schema(&self) -> SchemaRef {
        Arc::clone(&self.input)
    }

    /// The schema of every batch it returns.
    pub fn output_schema(&self) -> SchemaRef {
        Arc::clone(&self.output)
    }

    /// Leaf paths removed from the output.
    pub fn dropped_columns(&self) -> &[String] {
        &self.dropped
    }

    /// Apply or decrypt.
    pub fn direction(&self) -> Direction {
        self.direction
    }

    /// The fields that write values (not `drop`), in policy order, with
    /// their value counts at zero (and the detections so far): the slots of
    /// [`BatchOutput::values`].
    pub fn counted_columns(&self) -> Vec<ColumnCount> {
        self.fields
            .iter()
            .filter(|b| !b.processor.drops_column())
            .map(|b| ColumnCount {
                column: b.processor.column().to_owned(),
                transform: b.processor.kind(),
                values: 0,
                detections: b.processor.detection_counts(),
            })
            .collect()
    }

    /// For each slot of [`BatchTransformer::counted_columns`], the `redact`
    /// detections per type over every batch transformed so far (non-zero
    /// only; empty for other transforms): read it after the last batch.
    pub fn detections(&self) -> Vec<std::collections::BTreeMap<String, u64>> {
        self.fields
            .iter()
            .filter(|b| !b.processor.drops_column())
            .map(|b| b.processor.detection_counts())
            .collect()
    }

    /// The output field for input field `f`, whose first leaf is `*leaf`;
    /// `None` when it is dropped.
    fn output_field(
        &self,
        f: &FieldRef,
        leaf: &mut usize,
    ) -> Result<Option<FieldRef>, (String, InputErrorKind)> {
        if let Some((children, _)) = struct_fields(f.data_type()) {
            let mut kept = Vec::new();
            for c in children {
                if let Some(c) = self.output_field(c, leaf)? {
                    kept.push(c);
                }
            }
            if kept.is_empty() {
                return Ok(None);
            }
            let inner = DataType::Struct(Fields::from(kept));
            return Ok(Some(Arc::new(
                f.as_ref()
                    .clone()
                    .with_data_type(rewrap(f.data_type(), inner)),
            )));
        }
        let i = *leaf;
        *leaf += 1;
        Ok(match self.actions[i] {
            ColumnAction::Keep => Some(Arc::clone(f)),
            ColumnAction::Drop => None,
            ColumnAction::Field(k) => {
                let t =
                    transformed_type(f.data_type(), self.fields[k].per_row).ok_or_else(|| {
                        (
                            self.leaves[i].path.clone(),
                            InputErrorKind::Arrow(std::format!(
                                "a column of type {} cannot be transformed (no text form)",
                                f.data_type()
                            )),
                        )
                    })?;
                if self.fields[k].keeps {
                    Some(Arc::clone(f))
                } else {
                    Some(Arc::new(f.as_ref().clone().with_data_type(t)))
                }
            }
        })
    }

    /// Transforms one batch; `first_row` is the number of rows before it in
    /// the input (0 for the first batch), so errors name input rows.
    ///
    /// # Errors
    /// A batch whose schema is not the bound one, or the first value (in
    /// row order, then policy order) that cannot be transformed, unless
    /// `on_error = "drop-record"` leaves its row out.
    pub fn transform(
        &self,
        batch: &RecordBatch,
        first_row: u64,
    ) -> Result<RecordBatch, InputError> {
        self.transform_counted(batch, first_row).map(|o| o.batch)
    }

    /// As [`BatchTransformer::transform`], with the counts a summary needs.
    ///
    /// # Errors
    /// As [`BatchTransformer::transform`].
    pub fn transform_counted(
        &self,
        batch: &RecordBatch,
        first_row: u64,
    ) -> Result<BatchOutput, InputError> {
        self.transform_skipping(batch, first_row, &[])
    }

    /// As [`BatchTransformer::transform_counted`], leaving alone the
    /// top-level columns marked in `skip` (missing marks: false): they are
    /// not read, their fields count nothing, and their output columns are
    /// [`placeholder`]s that the caller does not use (src/io/parquet.rs
    /// writes those columns from their Parquet dictionary pages through
    /// [`BatchTransformer::transform_values`]).
    ///
    /// Those placeholders are made from the output schema alone, never from
    /// the input's columns, so a caller that wrongly writes a skipped column
    /// writes zeroes or nulls, not the input's values. (Keeping them from
    /// batch to batch saved no time on benches/parquet.sh and raised its
    /// peak RSS by a fifth; they are made anew each time.)
    pub(crate) fn transform_skipping(
        &self,
        batch: &RecordBatch,
        first_row: u64,
        skip: &[bool],
    ) -> Result<BatchOutput, InputError> {
        if batch.schema().fields() != self.input.fields() {
            return Err(InputError::new(
                &self.source,
                Some(first_row + 1),
                None,
                InputErrorKind::Arrow(
                    "the batch's schema differs from the schema the policy was bound to".to_owned(),
                ),
            ));
        }
        let n = batch.num_rows();
        let mut fails = Failures {
            first: None,
            drop_rows: (self.on_error == OnError::DropRecord && self.direction == Direction::Apply)
                .then(|| std::vec![false; n]),
        };
        let mut st = State::default();
        let mut counts = std::vec![0u64; self.fields.len()];
        // Subjects are read from the input before anything changes.
        let subjects: Vec<Option<ArrayRef>> = self
            .fields
            .iter()
            .map(|b| b.subject.map(|s| self.leaf_array(batch, s)).transpose())
            .collect::<Result<_, _>>()
            .map_err(|k| InputError::new(&self.source, Some(first_row + 1), None, k))?;
        let mut ctx = Ctx {
            st: &mut st,
            fails: &mut fails,
            counts: &mut counts,
            subjects: &subjects,
            qi: std::vec![None; self.suppress.as_ref().map_or(0, |(_, q)| q.len())],
        };
        let mut columns = Vec::with_capacity(self.output.fields().len());
        let mut leaf = 0;
        for (i, (f, a)) in self.input.fields().iter().zip(batch.columns()).enumerate() {
            if skip.get(i).copied().unwrap_or(false) {
                let first = leaf;
                leaf += count_leaves(f);
                if let Ok(j) = self.output.index_of(f.name()) {
                    let out = self.output.field(j);
                    columns.push(placeholder(out, n).ok_or_else(|| {
                        InputError::new(
                            &self.source,
                            Some(first_row + 1),
                            Some(&self.leaves[first].path),
                            InputErrorKind::Arrow("no placeholder for this type".to_owned()),
                        )
                    })?);
                }
                continue;
            }
            match self.rewrite(f, a, &mut leaf, Place::default(), &mut ctx) {
                Ok(Some(a)) => columns.push(a),
                Ok(None) => {}
                Err(Fatal(column, kind)) => {
                    return Err(InputError::new(
                        &self.source,
                        Some(first_row + 1),
                        Some(&column),
                        kind,
                    ));
                }
            }
        }
        let qi = core::mem::take(&mut ctx.qi);
        if let Some((row, k, e)) = fails.first.take() {
            let p = &self.fields[k].processor;
            return Err(InputError::new(
                &self.source,
                Some(first_row + row + 1),
                Some(p.column()),
                InputErrorKind::Value(p.kind(), e),
            ));
        }
        let arrow_err = |e: arrow_schema::ArrowError| {
            InputError::new(
                &self.source,
                Some(first_row + 1),
                None,
                InputErrorKind::Arrow(arrow_message(&e)),
            )
        };
        let out = RecordBatch::try_new_with_options(
            self.output_schema(),
            columns,
            &RecordBatchOptions::new().with_row_count(Some(n)),
        )
        .map_err(arrow_err)?;
        let mut drop = fails.drop_rows.take();
        let rows_dropped = drop
            .as_ref()
            .map_or(0, |rows| rows.iter().filter(|&&d| d).count() as u64);
        let mut rows_suppressed = 0;
        if let Some((classes, leaves)) = &self.suppress {
            let rows = drop.get_or_insert_with(|| std::vec![false; n]);
            rows_suppressed = self.suppressed_rows(classes, leaves, &qi, rows, first_row)?;
        }
        let out = match drop {
            Some(rows) if rows.iter().any(|&d| d) => {
                let keep = BooleanArray::from(rows.iter().map(|&d| !d).collect::<Vec<bool>>());
                arrow_select::filter::filter_record_batch(&out, &keep).map_err(arrow_err)?
            }
            _ => out,
        };
        let values = counts
            .iter()
            .zip(&self.fields)
            .filter(|(_, b)| !b.processor.drops_column())
            .map(|(c, _)| *c)
            .collect();
        Ok(BatchOutput {
            batch: out,
            rows_dropped,
            rows_suppressed,
            values,
        })
    }

    /// Marks in `rows` the rows (not already left out) whose output values
    /// in the class columns (`qi`, the output leaves `leaves` with the
    /// slots hidden under a null parent) form a class of `classes`, keyed
    /// by [`SuppressClasses::contains`] as in CSV; returns how many.
    fn suppressed_rows(
        &self,
        classes: &SuppressClasses,
        leaves: &[usize],
        qi: &[Option<(ArrayRef, Option<BooleanBuffer>)>],
        rows: &mut [bool],
        first_row: u64,
    ) -> Result<u64, InputError> {
        let fail = |row: Option<u64>, leaf: usize, kind| {
            InputError::new(&self.source, row, Some(&self.leaves[leaf].path), kind)
        };
        let mut texts = Vec::with_capacity(leaves.len());
        for (j, &leaf) in leaves.iter().enumerate() {
            let Some((a, hidden)) = &qi[j] else {
                return Err(fail(
                    Some(first_row + 1),
                    leaf,
                    InputErrorKind::Arrow("the class column was not transformed".to_owned()),
                ));
            };
            let text = as_text(a).map_err(|k| fail(Some(first_row + 1), leaf, k))?;
            let nulls = text.logical_nulls();
            texts.push((text, nulls, hidden.clone()));
        }
        let bytes: Vec<Bytes<'_>> = texts
            .iter()
            .zip(leaves)
            .map(|((t, _, _), &leaf)| {
                Bytes::of(t.as_ref()).ok_or_else(|| {
                    fail(
                        Some(first_row + 1),
                        leaf,
                        InputErrorKind::Arrow("no text form".to_owned()),
                    )
                })
            })
            .collect::<Result<_, _>>()?;
        let mut key = Vec::new();
        let mut n = 0;
        for (r, left_out) in rows.iter_mut().enumerate() {
            if *left_out {
                continue;
            }
            for ((_, nulls, hidden), &leaf) in texts.iter().zip(leaves) {
                if hidden.as_ref().is_some_and(|h| h.value(r))
                    || nulls.as_ref().is_some_and(|nb| nb.is_null(r))
                {
                    return Err(fail(
                        Some(first_row + r as u64 + 1),
                        leaf,
                        crate::io::suppress::no_single_value(),
                    ));
                }
            }
            if classes.contains(bytes.iter().map(|b| b.get(r)), &mut key) {
                *left_out = true;
                n += 1;
            }
        }
        Ok(n)
    }

    /// The array of leaf `i` at row granularity (not inside a list).
    fn leaf_array(&self, batch: &RecordBatch, i: usize) -> Result<ArrayRef, InputErrorKind> {
        let idx = &self.leaves[i].indices;
        let mut a = Arc::clone(batch.column(idx[0]));
        for &c in &idx[1..] {
            let s = a
                .as_struct_opt()
                .ok_or_else(|| InputErrorKind::Arrow("subject path is not a struct".to_owned()))?;
            a = Arc::clone(s.column(c));
        }
        as_text(&a)
    }

    /// The rewritten array of field `f` (first leaf `*leaf`), `None` when
    /// dropped. `place` says which slots a null parent hides and, inside
    /// lists, which batch row each slot belongs to.
    fn rewrite(
        &self,
        f: &FieldRef,
        a: &ArrayRef,
        leaf: &mut usize,
        place: Place<'_>,
        ctx: &mut Ctx<'_>,
    ) -> Result<Option<ArrayRef>, Fatal> {
        if struct_fields(f.data_type()).is_some() {
            return self.rewrite_nested(f, a, leaf, place, ctx);
        }
        let i = *leaf;
        *leaf += 1;
        match self.actions[i] {
            ColumnAction::Keep => Ok(Some(Arc::clone(a))),
            ColumnAction::Drop => Ok(None),
            ColumnAction::Field(k) => {
                let out_field = transformed_field(f, self.fields[k].per_row).ok_or_else(|| {
                    Fatal(
                        self.leaves[i].path.clone(),
                        InputErrorKind::Arrow("no text form".to_owned()),
                    )
                })?;
                let out = self.transform_leaf(k, &out_field, a, place, ctx)?;
                if let Some((_, leaves)) = &self.suppress {
                    if let Some(j) = leaves.iter().position(|&l| l == i) {
                        ctx.qi[j] = Some((Arc::clone(&out), place.hidden.cloned()));
                    }
                }
                // A kept column's text served its empty rule and its
                // count; the column itself goes out as it came.
                Ok(Some(if self.fields[k].keeps {
                    Arc::clone(a)
                } else {
                    out
                }))
            }
        }
    }

    /// A struct, or a list of structs, whose fields are rewritten one by one.
    fn rewrite_nested(
        &self,
        f: &FieldRef,
        a: &ArrayRef,
        leaf: &mut usize,
        place: Place<'_>,
        ctx: &mut Ctx<'_>,
    ) -> Result<Option<ArrayRef>, Fatal> {
        let fatal = |e: arrow_schema::ArrowError| {
            Fatal(f.name().clone(), InputErrorKind::Arrow(arrow_message(&e)))
        };
        match f.data_type() {
            DataType::Struct(children) => {
                let s = a.as_struct();
                let hide = hide_nulls(place.hidden, s.nulls());
                let mut out_fields = Vec::new();
                let mut out_arrays = Vec::new();
                for (c, ca) in children.iter().zip(s.columns()) {
                    match self.rewrite(
                        c,
                        ca,
                        leaf,
                        Place {
                            hidden: hide.as_ref(),
                            ..place
                        },
                        ctx,
                    ) {
                        Ok(Some(na)) => {
                            out_fields.push(Arc::new(
                                c.as_ref().clone().with_data_type(na.data_type().clone()),
                            ));
                            out_arrays.push(na);
                        }
                        Ok(None) => {}
                        Err(e) => return Err(e),
                    }
                }
                if out_fields.is_empty() {
                    return Ok(None);
                }
                let out =
                    StructArray::try_new(Fields::from(out_fields), out_arrays, s.nulls().cloned())
                        .map_err(fatal)?;
                Ok(Some(Arc::new(out)))
            }
            DataType::List(e) => self.rewrite_list::<i32>(e, a, leaf, place, ctx, fatal),
            DataType::LargeList(e) => self.rewrite_list::<i64>(e, a, leaf, place, ctx, fatal),
            DataType::FixedSizeList(e, n) => {
                let (l, vh, vr) = fixed_list_parts(a, place);
                let Some(v) = self.rewrite(e, l.values(), leaf, Place::inside(&vh, &vr), ctx)?
                else {
                    return Ok(None);
                };
                let ef = Arc::new(e.as_ref().clone().with_data_type(v.data_type().clone()));
                Ok(Some(Arc::new(
                    FixedSizeListArray::try_new(ef, *n, v, l.nulls().cloned()).map_err(fatal)?,
                )))
            }
            _ => Ok(Some(Arc::clone(a))),
        }
    }

    /// A `List` or `LargeList` (of structs) whose values are rewritten by
    /// element field `e`; `None` when they are dropped.
    fn rewrite_list<O: OffsetSizeTrait>(
        &self,
        e: &FieldRef,
        a: &ArrayRef,
        leaf: &mut usize,
        place: Place<'_>,
        ctx: &mut Ctx<'_>,
        fatal: impl Fn(arrow_schema::ArrowError) -> Fatal,
    ) -> Result<Option<ArrayRef>, Fatal> {
        let (l, vh, vr) = list_parts::<O>(a, place);
        let Some(v) = self.rewrite(e, l.values(), leaf, Place::inside(&vh, &vr), ctx)? else {
            return Ok(None);
        };
        let ef = Arc::new(e.as_ref().clone().with_data_type(v.data_type().clone()));
        Ok(Some(Arc::new(
            GenericListArray::<O>::try_new(ef, l.offsets().clone(), v, l.nulls().cloned())
                .map_err(fatal)?,
        )))
    }

    /// A `List` or `LargeList` of scalars transformed by field `k` into a
    /// list of `e`.
    fn transform_list<O: OffsetSizeTrait>(
        &self,
        k: usize,
        e: &FieldRef,
        a: &ArrayRef,
        place: Place<'_>,
        ctx: &mut Ctx<'_>,
        fatal: impl Fn(arrow_schema::ArrowError) -> Fatal,
    ) -> Result<ArrayRef, Fatal> {
        let (l, vh, vr) = list_parts::<O>(a, place);
        let v = self.transform_leaf(k, e, l.values(), Place::inside(&vh, &vr), ctx)?;
        Ok(Arc::new(
            GenericListArray::<O>::try_new(
                Arc::clone(e),
                l.offsets().clone(),
                v,
                l.nulls().cloned(),
            )
            .map_err(fatal)?,
        ))
    }

    /// Transforms one leaf array (scalar, list of scalars or dictionary)
    /// with field `k` into an array of `out`'s type.
    fn transform_leaf(
        &self,
        k: usize,
        out: &FieldRef,
        a: &ArrayRef,
        place: Place<'_>,
        ctx: &mut Ctx<'_>,
    ) -> Result<ArrayRef, Fatal> {
        let fatal = |e: arrow_schema::ArrowError| {
            Fatal(
                self.fields[k].processor.column().to_owned(),
                InputErrorKind::Arrow(arrow_message(&e)),
            )
        };
        match (a.data_type(), out.data_type()) {
            (DataType::List(_), DataType::List(e)) => {
                self.transform_list::<i32>(k, e, a, place, ctx, fatal)
            }
            (DataType::LargeList(_), DataType::LargeList(e)) => {
                self.transform_list::<i64>(k, e, a, place, ctx, fatal)
            }
            (DataType::FixedSizeList(_, n), DataType::FixedSizeList(e, _)) => {
                let (l, vh, vr) = fixed_list_parts(a, place);
                let v = self.transform_leaf(k, e, l.values(), Place::inside(&vh, &vr), ctx)?;
                Ok(Arc::new(
                    FixedSizeListArray::try_new(Arc::clone(e), *n, v, l.nulls().cloned())
                        .map_err(fatal)?,
                ))
            }
            (DataType::Dictionary(..), DataType::Dictionary(_, vt)) => {
                let d = a.as_any_dictionary();
                let vfield = Arc::new(Field::new("values", vt.as_ref().clone(), true));
                // Every distinct value once; failures are charged to the
                // rows that use them.
                let mut per_value: Vec<Result<bool, Error>> = std::vec![];
                let values = self.scalar_leaf(
                    k,
                    &vfield,
                    d.values(),
                    Place::default(),
                    ctx,
                    Some(&mut per_value),
                )?;
                // No values: every key is null (arrow's `normalized_keys`
                // asserts there is a value to point at).
                let keys = if d.values().is_empty() {
                    std::vec![0; d.len()]
                } else {
                    d.normalized_keys()
                };
                let slots = Slots::of(a, place);
                self.walk(k, &slots, ctx.fails, ctx.counts, None, |mark| match mark {
                    Mark::Value { i, .. } => per_value.get(keys[i]).copied().unwrap_or(Ok(false)),
                    Mark::Hidden | Mark::Null => Ok(false),
                });
                Ok(d.with_values(values))
            }
            _ => self.scalar_leaf(k, out, a, place, ctx, None),
        }
    }

    /// Transforms scalar values one by one. With `per_value` (dictionary
    /// values), each value's outcome (whether it was non-empty, or its
    /// error) is returned instead of being charged to a row.
    fn scalar_leaf(
        &self,
        k: usize,
        out: &FieldRef,
        a: &ArrayRef,
        place: Place<'_>,
        ctx: &mut Ctx<'_>,
        per_value: Option<&mut Vec<Result<bool, Error>>>,
    ) -> Result<ArrayRef, Fatal> {
        let b = &self.fields[k];
        if self.direction == Direction::Apply && b.processor.batches() {
            return self.pseudonym_leaf(k, out, a, place, ctx, per_value);
        }
        let column = || b.processor.column().to_owned();
        // A `Date32` column under a date rule is generalized from its days:
        // the output its text would give (the ISO form, parsed back),
        // without writing and parsing that text. Either way the values keep
        // the input's nulls and length.
        let rule = match self.direction {
            Direction::Apply => b.processor.date_rule(),
            Direction::Decrypt => None,
        };
        let text;
        let values = match rule.zip(iso_dates(a)) {
            Some((g, dates)) => Values::Days(dates.values(), g),
            None => {
                text = as_text(a).map_err(|kind| Fatal(column(), kind))?;
                Values::Text(Bytes::of(text.as_ref()).ok_or_else(|| {
                    Fatal(column(), InputErrorKind::Arrow("no text form".to_owned()))
                })?)
            }
        };
        let subject_text = ctx.subjects[k].clone();
        let subject = subject_text.as_ref().and_then(|s| Bytes::of(s.as_ref()));
        let subject_nulls = subject_text.as_ref().and_then(|s| s.logical_nulls());
        let slots = Slots::of(a, place);
        let mut w = TextBuilder::with_capacity(slots.len, slots.len * 24, out.is_nullable());
        let st = &mut *ctx.st;
        self.walk(k, &slots, ctx.fails, ctx.counts, per_value, |mark| {
            let (i, row) = match mark {
                Mark::Hidden => {
                    w.hidden();
                    return Ok(false);
                }
                Mark::Null => {
                    w.null();
                    return Ok(false);
                }
                Mark::Value { i, row } => (i, row),
            };
            let (r, non_empty) = match values {
                Values::Days(days, g) => {
                    let date = crate::date::Date::from_days(i64::from(days[i]));
                    st.buf.clear();
                    st.buf.resize(g.max_output_len(10), 0);
                    let r = g.apply_date(date, &mut st.buf).map(<[u8]>::len);
                    (r.map(|len| st.buf.truncate(len)), true)
                }
                Values::Text(ref bytes) => {
                    let v = bytes.get(i);
                    let subj = match &subject {
                        Some(s) if !subject_nulls.as_ref().is_some_and(|nb| nb.is_null(row)) => {
                            Some(s.get(row))
                        }
                        _ => None,
                    };
                    st.buf.clear();
                    let r = match self.direction {
                        Direction::Apply => b.processor.transform(
                            v,
                            subj,
                            &mut st.rng,
                            &mut st.scratch,
                            &mut st.buf,
                        ),
                        Direction::Decrypt => b.processor.reverse(v, &mut st.scratch, &mut st.buf),
                    };
                    (r, !v.is_empty())
                }
            };
            let s = r.and_then(|()| {
                core::str::from_utf8(&st.buf).map_err(|_| Error::Invalid("UTF-8 output"))
            })?;
            w.value(s);
            Ok(non_empty)
        });
        w.finish(out.data_type())
            .map_err(|kind| Fatal(column(), kind))
    }
}

impl BatchTransformer {
    /// [`Self::scalar_leaf`] for a `pseudonymize` field being applied, a
    /// column at a time: every value is checked and normalized in row
    /// order (so failures are charged exactly as one at a time), then all
    /// pseudonyms are computed together (twenty or four at a time where the CPU
    /// allows, src/field.rs), then the column is built from them.
    fn pseudonym_leaf(
        &self,
        k: usize,
        out: &FieldRef,
        a: &ArrayRef,
        place: Place<'_>,
        ctx: &mut Ctx<'_>,
        per_value: Option<&mut Vec<Result<bool, Error>>>,
    ) -> Result<ArrayRef, Fatal> {
        let b = &self.fields[k];
        let column = || b.processor.column().to_owned();
        let text = as_text(a).map_err(|kind| Fatal(column(), kind))?;
        let bytes = Bytes::of(text.as_ref())
            .ok_or_else(|| Fatal(column(), InputErrorKind::Arrow("no text form".to_owned())))?;
        let slots = Slots::of(text.as_ref(), place);
        let n = slots.len;
        let st = &mut *ctx.st;
        let borrows = PseudonymBatch::borrows(&b.processor);
        st.batch.clear();
        st.indices.clear();
        st.slots.clear();
        // Sized once: grown value by value, the buffers were copied as
        // they doubled.
        st.slots.reserve(n);
        if borrows {
            st.indices.reserve(n);
        } else {
            st.batch.reserve(n, bytes.total_len() + 4 * n);
        }
        self.walk(k, &slots, ctx.fails, ctx.counts, per_value, |mark| {
            let i = match mark {
                Mark::Hidden => {
                    st.slots.push(Slot::Hidden);
                    return Ok(false);
                }
                Mark::Null => {
                    st.slots.push(Slot::Null);
                    return Ok(false);
                }
                Mark::Value { i, .. } => i,
            };
            let v = bytes.get(i);
            let queued = if borrows {
                PseudonymBatch::check(&b.processor, v)?.then(|| {
                    st.indices.push(i);
                    st.indices.len() - 1
                })
            } else {
                st.batch.push(&b.processor, v, &mut st.scratch)?
            };
            st.slots.push(queued.map_or(Slot::Empty, Slot::Value));
            Ok(!v.is_empty())
        });
        let value_error = |e| Fatal(column(), InputErrorKind::Value(b.processor.kind(), e));
        let width = PseudonymBatch::output_len(&b.processor).map_err(value_error)?;
        let (batch, indices) = (&st.batch, &st.indices);
        let queued = if borrows { indices.len() } else { batch.len() };
        let compute = |out: &mut [u8]| {
            if borrows {
                let values = indices.iter().map(|&i| bytes.get(i));
                PseudonymBatch::compute_each(&b.processor, queued, values, out)
            } else {
                batch.compute_into(&b.processor, out)
            }
        };
        if queued == n {
            // Every slot is a value, in queue order: the pseudonyms, back to
            // back, are the column's bytes.
            let mut values = arrow_buffer::MutableBuffer::from_len_zeroed(n * width);
            compute(values.as_slice_mut()).map_err(value_error)?;
            return fixed_width_text(values.into(), n, width, out.data_type())
                .map_err(|kind| Fatal(column(), kind));
        }
        let mut pseudonyms = core::mem::take(&mut st.buf);
        pseudonyms.clear();
        pseudonyms.resize(queued * width, 0);
        compute(&mut pseudonyms).map_err(value_error)?;
        let mut w = TextBuilder::with_capacity(n, n * width, out.is_nullable());
        for slot in &st.slots {
            match *slot {
                Slot::Hidden => w.hidden(),
                Slot::Null => w.null(),
                Slot::Empty => w.bytes(b""),
                Slot::Value(j) => w.bytes(&pseudonyms[j * width..(j + 1) * width]),
            }
        }
        st.buf = pseudonyms;
        w.finish(out.data_type())
            .map_err(|kind| Fatal(column(), kind))
    }
}

impl BatchTransformer {
    /// The walk over a leaf's slots that every scalar path shares (the
    /// values of a column, and the rows of a dictionary column). `emit`
    /// writes each slot:
    /// - [`Mark::Hidden`] for a slot hidden by its parent, or whose row
    ///   already failed (when a failure stops the run), or whose transform
    ///   failed;
    /// - [`Mark::Null`] for a null (a failure too under `empty = "error"`);
    /// - [`Mark::Value`] for every other slot: `emit` transforms it and
    ///   says whether it was non-empty, or why it failed.
    ///
    /// A value's outcome goes to `per_value` when given (the distinct values
    /// of a dictionary, charged to rows later), else to the count of field
    /// `k` or to the row's failure. `emit`'s result for the other marks is
    /// not read.
    fn walk(
        &self,
        k: usize,
        slots: &Slots<'_>,
        fails: &mut Failures,
        counts: &mut [u64],
        mut per_value: Option<&mut Vec<Result<bool, Error>>>,
        mut emit: impl FnMut(Mark) -> Result<bool, Error>,
    ) {
        let empty_error = self.fields[k].empty_error;
        if let Some(v) = per_value.as_deref_mut() {
            v.clear();
            v.resize_with(slots.len, || Ok(false));
        }
        for i in 0..slots.len {
            if slots.place.hidden.is_some_and(|h| h.value(i)) {
                let _ = emit(Mark::Hidden);
                continue;
            }
            let row = slots.place.rows.map_or(i, |m| m[i] as usize);
            if slots.nulls.as_ref().is_some_and(|nb| nb.is_null(i)) {
                if empty_error && per_value.is_none() {
                    fails.record(row, k, Error::Invalid("non-empty value"));
                }
                let _ = emit(Mark::Null);
                continue;
            }
            if per_value.is_none() && fails.drop_rows.is_none() && fails.settled(row) {
                let _ = emit(Mark::Hidden);
                continue;
            }
            match (emit(Mark::Value { i, row }), per_value.as_deref_mut()) {
                (Ok(non_empty), Some(pv)) => pv[i] = Ok(non_empty),
                (Ok(non_empty), None) => counts[k] += u64::from(non_empty),
                (Err(e), pv) => {
                    match pv {
                        Some(pv) => pv[i] = Err(e),
                        None => fails.record(row, k, e),
                    }
                    let _ = emit(Mark::Hidden);
                }
            }
        }
    }
}

/// A leaf's slots, as [`BatchTransformer::walk`] visits them.
struct Slots<'a> {
    len: usize,
    place: Place<'a>,
    nulls: Option<NullBuffer>,
}

impl<'a> Slots<'a> {
    fn of(a: &dyn Array, place: Place<'a>) -> Self {
        Slots {
            len: a.len(),
            place,
            nulls: a.logical_nulls(),
        }
    }
}

/// Where a leaf's slots sit in the batch. Both `None` for a column of the
/// batch, whose slot `i` is row `i` and none hidden.
#[derive(Clone, Copy, Default)]
struct Place<'a> {
    /// Slots hidden by a parent (a null struct or list slot).
    hidden: Option<&'a BooleanBuffer>,
    /// The batch row of each slot (the values of a list).
    rows: Option<&'a [u32]>,
}

impl<'a> Place<'a> {
    /// The values of a list, from [`list_slots`].
    fn inside(hidden: &'a BooleanBuffer, rows: &'a [u32]) -> Self {
        Place {
            hidden: Some(hidden),
            rows: Some(rows),
        }
    }
}

/// One slot of a leaf, for [`BatchTransformer::walk`]'s `emit` to write.
#[derive(Clone, Copy)]
enum Mark {
    /// Nothing: null where the column allows it, else empty.
    Hidden,
    /// A null input, written null.
    Null,
    /// Slot `i`, of batch row `row`, to transform and write.
    Value { i: usize, row: usize },
}

/// A structural problem in a batch (not a value): the column and why.
struct Fatal(String, InputErrorKind);

struct Ctx<'a> {
    st: &'a mut State,
    fails: &'a mut Failures,
    counts: &'a mut [u64],
    subjects: &'a [Option<ArrayRef>],
    /// `[suppress]`: each class column's output leaf, with the slots
    /// hidden under a null parent.
    qi: Vec<Option<(ArrayRef, Option<BooleanBuffer>)>>,
}

/// Slots hidden below a parent: hidden by the parent, or null in it.
fn hide_nulls(hidden: Option<&BooleanBuffer>, nulls: Option<&NullBuffer>) -> Option<BooleanBuffer> {
    match (hidden, nulls) {
        (None, None) => None,
        (Some(h), None) => Some(h.clone()),
        (None, Some(n)) => Some(!n.inner()),
        (Some(h), Some(n)) => Some(h | &!n.inner()),
    }
}

/// For the values of a list: which are hidden (under a hidden or null list
/// slot, or outside every slot) and which batch row each belongs to.
fn list_slots(
    offsets: &[usize],
    len: usize,
    place: Place<'_>,
    nulls: Option<&NullBuffer>,
) -> (BooleanBuffer, Vec<u32>) {
    let Place { hidden, rows } = place;
    let mut hide = std::vec![true; len];
    let mut row_of = std::vec![0u32; len];
    for (slot, w) in offsets.windows(2).enumerate() {
        let visible =
            !hidden.is_some_and(|h| h.value(slot)) && !nulls.is_some_and(|n| n.is_null(slot));
        let row = rows.map_or(slot as u32, |m| m[slot]);
        let (start, end) = (w[0].min(len), w[1].min(len));
        for j in start..end {
            hide[j] = !visible;
            row_of[j] = row;
        }
    }
    (BooleanBuffer::from(hide), row_of)
}

/// A list array with, for its values, which are hidden and which batch row
/// each belongs to (see [`list_slots`]).
fn list_parts<'a, O: OffsetSizeTrait>(
    a: &'a ArrayRef,
    place: Place<'_>,
) -> (&'a GenericListArray<O>, BooleanBuffer, Vec<u32>) {
    let l = a.as_list::<O>();
    let offsets: Vec<usize> = l.offsets().iter().map(|o| o.as_usize()).collect();
    let (vh, vr) = list_slots(&offsets, l.values().len(), place, l.nulls());
    (l, vh, vr)
}

/// [`list_parts`] for a `FixedSizeList`, whose slot `i` holds values
/// `i * n .. (i + 1) * n`.
fn fixed_list_parts<'a>(
    a: &'a ArrayRef,
    place: Place<'_>,
) -> (&'a FixedSizeListArray, BooleanBuffer, Vec<u32>) {
    let l = a.as_fixed_size_list();
    let w = l.value_length().max(0) as usize;
    let offsets: Vec<usize> = (0..=l.len()).map(|i| i * w).collect();
    let (vh, vr) = list_slots(&offsets, l.values().len(), place, l.nulls());
    (l, vh, vr)
}

/// A `Utf8` (or `LargeUtf8`) column of `n` values of `width` bytes each,
/// laid back to back in `bytes`, none null.
fn fixed_width_text(
    bytes: arrow_buffer::Buffer,
    n: usize,
    width: usize,
    t: &DataType,
) -> Result<ArrayRef, InputErrorKind> {
    let offsets = (0..=n).map(|i| (i * width) as i64).collect();
    text_array(t, offsets, bytes, None)
}

/// A `LargeUtf8` column when `t` is `LargeUtf8`, else a `Utf8` one, from
/// offsets that never decrease; the values are checked to be UTF-8.
fn text_array(
    t: &DataType,
    offsets: Vec<i64>,
    values: arrow_buffer::Buffer,
    nulls: Option<NullBuffer>,
) -> Result<ArrayRef, InputErrorKind> {
    let bad = |e: arrow_schema::ArrowError| InputErrorKind::Arrow(arrow_message(&e));
    if *t == DataType::LargeUtf8 {
        return Ok(Arc::new(
            LargeStringArray::try_new(
                OffsetBuffer::new(ScalarBuffer::from(offsets)),
                values,
                nulls,
            )
            .map_err(bad)?,
        ));
    }
    // Offsets never decrease: when the last fits, all do.
    if offsets.last().is_some_and(|&o| i32::try_from(o).is_err()) {
        return Err(InputErrorKind::Arrow(
            "a transformed column holds over 2 GiB of text in one batch; use smaller batches"
                .to_owned(),
        ));
    }
    let offsets: Vec<i32> = offsets.iter().map(|&o| o as i32).collect();
    Ok(Arc::new(
        StringArray::try_new(
            OffsetBuffer::new(ScalarBuffer::from(offsets)),
            values,
            nulls,
        )
        .map_err(bad)?,
    ))
}

/// Builds a `Utf8` or `LargeUtf8` column.
struct TextBuilder {
    values: Vec<u8>,
    offsets: Vec<i64>,
    valid: Vec<bool>,
    any_null: bool,
    nullable: bool,
}

impl TextBuilder {
    /// Room for `n` values of `bytes` bytes in all.
    fn with_capacity(n: usize, bytes: usize, nullable: bool) -> Self {
        let mut offsets = Vec::with_capacity(n + 1);
        offsets.push(0);
        TextBuilder {
            values: Vec::with_capacity(bytes),
            offsets,
            valid: Vec::with_capacity(n),
            any_null: false,
            nullable,
        }
    }

    fn value(&mut self, s: &str) {
        self.bytes(s.as_bytes());
    }

    /// A value given as bytes: [`TextBuilder::finish`] checks that the
    /// column is UTF-8.
    fn bytes(&mut self, s: &[u8]) {
        self.values.extend_from_slice(s);
        self.offsets.push(self.values.len() as i64);
        self.valid.push(true);
    }

    fn null(&mut self) {
        self.offsets.push(self.values.len() as i64);
        self.valid.push(false);
        self.any_null = true;
    }

    /// A slot that must hold nothing: null where allowed, else empty.
    fn hidden(&mut self) {
        if self.nullable {
            self.null();
        } else {
            self.value("");
        }
    }

    fn finish(self, t: &DataType) -> Result<ArrayRef, InputErrorKind> {
        let nulls = self
            .any_null
            .then(|| NullBuffer::from(BooleanBuffer::from(self.valid)));
        text_array(t, self.offsets, self.values.into(), nulls)
    }
}

/// Rebuilds a struct-or-list-of-struct type around a new struct type.
fn rewrap(t: &DataType, inner: DataType) -> DataType {
    match t {
        DataType::List(e) => DataType::List(Arc::new(
            e.as_ref()
                .clone()
                .with_data_type(rewrap(e.data_type(), inner)),
        )),
        DataType::LargeList(e) => DataType::LargeList(Arc::new(
            e.as_ref()
                .clone()
                .with_data_type(rewrap(e.data_type(), inner)),
        )),
        DataType::FixedSizeList(e, n) => DataType::FixedSizeList(
            Arc::new(
                e.as_ref()
                    .clone()
                    .with_data_type(rewrap(e.data_type(), inner)),
            ),
            *n,
        ),
        _ => inner,
    }
}

/// An Arrow error as a message that holds no value: Arrow's messages name
/// types, lengths and positions, but a cast error can quote the value it
/// could not cast, so those are reduced to their category. A Parquet
/// decoder's error describes the file's structure (levels, pages, lengths)
/// and is shown as src/io/parquet.rs shows the footer's.
pub(crate) fn arrow_message(e: &arrow_schema::ArrowError) -> String {
    use arrow_schema::ArrowError as E;
    match e {
        E::CastError(_) => "a value could not be converted".to_owned(),
        E::ParseError(_) => "a value could not be parsed".to_owned(),
        E::InvalidArgumentError(m) | E::SchemaError(m) | E::ComputeError(m) => m.to_string(),
        E::IoError(m, _) => std::format!("I/O: {m}"),
        E::ParquetError(m) => std::format!("not a valid Parquet file: {m}"),
        _ => "invalid Arrow data".to_owned(),
    }
}

/// What a caller that holds columns still encoded (src/io/parquet.rs) may
/// skip: the columns no transform reads.
impl BatchTransformer {
    /// For each top-level input column, in input order: true when the
    /// output never depends on its values through a transform, because
    /// every leaf below it is kept or every leaf is dropped, and none is a
    /// `dateshift` subject. Such a column may be given to
    /// [`transform`](Self::transform) as any array of its type (nulls
    /// included): a kept one comes out as given, a dropped one not at all.
    pub fn untouched_columns(&self) -> Vec<bool> {
        let mut out = std::vec![true; self.input.fields().len()];
        let mut all_kept = std::vec![true; out.len()];
        let mut all_dropped = std::vec![true; out.len()];
        for (leaf, action) in self.leaves.iter().zip(&self.actions) {
            let root = leaf.indices[0];
            all_kept[root] &= matches!(action, ColumnAction::Keep);
            all_dropped[root] &= matches!(action, ColumnAction::Drop);
        }
        for (i, slot) in out.iter_mut().enumerate() {
            *slot = all_kept[i] || all_dropped[i];
        }
        for b in &self.fields {
            if let Some(s) = b.subject {
                out[self.leaves[s].indices[0]] = false;
            }
        }
        out
    }

    /// The output leaves, outside lists, that a transform fills with
    /// values as distinct as its input's: `pseudonymize`, `encrypt` and
    /// `fpe` when applying, except on a dictionary column whose output stays
    /// a dictionary. Each is given by its field names from the root (the
    /// leaf's Parquet column path). A dictionary encoder would only try and
    /// give up on such a column: src/io/parquet.rs writes them plain.
    pub fn distinct_leaves(&self) -> Vec<Vec<String>> {
        use crate::transform::TransformKind;
        let mut out = Vec::new();
        if self.direction != Direction::Apply {
            return out;
        }
        for (leaf, action) in self.leaves.iter().zip(&self.actions) {
            let ColumnAction::Field(k) = *action else {
                continue;
            };
            let b = &self.fields[k];
            if leaf.in_list
                || !matches!(
                    b.processor.kind(),
                    TransformKind::Pseudonymize | TransformKind::Encrypt | TransformKind::Fpe
                )
            {
                continue;
            }
            let mut names = Vec::with_capacity(leaf.indices.len());
            let mut fields = self.input.fields();
            let mut dictionary = false;
            for &i in &leaf.indices {
                let Some(f) = fields.get(i) else { break };
                names.push(f.name().clone());
                match f.data_type() {
                    DataType::Struct(c) => fields = c,
                    DataType::Dictionary(..) => dictionary = true,
                    _ => {}
                }
            }
            if names.len() == leaf.indices.len() && (!dictionary || b.per_row) {
                out.push(names);
            }
        }
        out
    }

    #[cfg(feature = "parquet")]
    /// For each top-level input column, in input order: `Some(slot)` when
    /// it is one leaf, outside structs and lists, that one field transforms
    /// value by value: a value's output never depends on its row (not
    /// randomized encryption, not `dateshift`, not `redact`, which counts
    /// detections per row), `empty = "error"` is not set, no transform reads
    /// it as a subject, and no row can be left out. Such a column's
    /// distinct values may be transformed once each by
    /// [`transform_values`](Self::transform_values) and its rows left out
    /// of [`transform_skipping`](Self::transform_skipping); `slot` is its
    /// field's place in [`BatchOutput::values`].
    pub(crate) fn per_value_columns(&self) -> Vec<Option<usize>> {
        self.single_leaf_columns(is_scalar, |b| {
            !b.per_row && !b.keeps && b.processor.detections().is_none()
        })
    }

    /// Field `k`'s place in [`BatchOutput::values`] (the fields that do not
    /// drop their column, in policy order).
    #[cfg(feature = "parquet")]
    fn count_slot(&self, k: usize) -> usize {
        self.fields[..k]
            .iter()
            .filter(|o| !o.processor.drops_column())
            .count()
    }

    #[cfg(feature = "parquet")]
    /// For each top-level input column, in input order: `Some(slot)` when
    /// it is one leaf, outside structs and lists, that a `keep` field names,
    /// with `empty = "error"` not set, of a type whose text is the value
    /// itself or never empty (numbers, dates, times, booleans, text and
    /// dictionaries of text; not bytes, whose keep checks UTF-8), that no
    /// transform reads as a subject, no row can be left out, and the policy
    /// is being applied. Its output is then its input, as for a column the
    /// policy does not name; only its count (`slot` in
    /// [`BatchOutput::values`]: its values that are not null and not empty)
    /// needs its values, and src/io/parquet.rs takes that from a chunk's
    /// metadata where the metadata says it exactly.
    pub(crate) fn kept_columns(&self) -> Vec<Option<usize>> {
        if self.direction != Direction::Apply {
            return std::vec![None; self.input.fields().len()];
        }
        let plain = |t: &DataType| {
            t.is_primitive()
                || matches!(t, DataType::Boolean | DataType::Utf8 | DataType::LargeUtf8)
        };
        self.single_leaf_columns(plain, |b| b.keeps)
    }

    #[cfg(feature = "parquet")]
    /// What [`per_value_columns`](Self::per_value_columns) and
    /// [`kept_columns`](Self::kept_columns) share: for each top-level input
    /// column, `Some(slot)` when no row can be left out and the column is
    /// one leaf, outside structs and lists, of a type (a dictionary's: of
    /// values) that `typed` takes, whose field passes `field`, has no
    /// `empty = "error"` and no subject, and is no other field's subject.
    fn single_leaf_columns(
        &self,
        typed: impl Fn(&DataType) -> bool,
        field: impl Fn(&Bound) -> bool,
    ) -> Vec<Option<usize>> {
        let mut out = std::vec![None; self.input.fields().len()];
        if self.may_drop_rows() {
            return out;
        }
        for (l, (leaf, action)) in self.leaves.iter().zip(&self.actions).enumerate() {
            let ColumnAction::Field(k) = *action else {
                continue;
            };
            let b = &self.fields[k];
            let of_type =
                self.input
                    .fields()
                    .get(leaf.indices[0])
                    .is_some_and(|f| match f.data_type() {
                        DataType::Dictionary(_, v) => typed(v),
                        t => typed(t),
                    });
            if leaf.indices.len() != 1
                || !of_type
                || !field(b)
                || b.empty_error
                || b.subject.is_some()
                || self.fields.iter().any(|o| o.subject == Some(l))
            {
                continue;
            }
            out[leaf.indices[0]] = Some(self.count_slot(k));
        }
        out
    }

    #[cfg(feature = "parquet")]
    /// The output of each of `values` (the distinct values of a column of
    /// [`per_value_columns`](Self::per_value_columns), of its type or, for
    /// a dictionary column, of its value type; no nulls), in order, as
    /// text. `None` when a value fails or is empty: its rows then go
    /// through [`transform`](Self::transform), which reports the failure
    /// at the first row that holds the value, or counts the empty ones.
    pub(crate) fn transform_values(&self, root: usize, values: &ArrayRef) -> Option<ArrayRef> {
        let i = self.leaves.iter().position(|l| l.indices == [root])?;
        let ColumnAction::Field(k) = self.actions[i] else {
            return None;
        };
        if values.null_count() > 0 {
            return None;
        }
        let out = Arc::new(Field::new(
            "values",
            transformed_type(values.data_type(), false)?,
            true,
        ));
        let mut fails = Failures {
            first: None,
            drop_rows: None,
        };
        let mut st = State::default();
        let mut counts = std::vec![0u64; self.fields.len()];
        let subjects = std::vec![None; self.fields.len()];
        let mut ctx = Ctx {
            st: &mut st,
            fails: &mut fails,
            counts: &mut counts,
            subjects: &subjects,
            qi: Vec::new(),
        };
        let mut per_value = Vec::new();
        let a = self
            .scalar_leaf(
                k,
                &out,
                values,
                Place::default(),
                &mut ctx,
                Some(&mut per_value),
            )
            .ok()?;
        (per_value.len() == values.len()
            && per_value.iter().all(|r| matches!(r, Ok(true)))
            && a.null_count() == 0)
            .then_some(a)
    }

    #[cfg(feature = "parquet")]
    /// The field of input column `root`, one of
    /// [`per_value_columns`](Self::per_value_columns), when it pseudonymizes
    /// values as they are (being applied, without normalization): such a
    /// column's output is the pseudonym of each value that is not empty,
    /// which src/io/parquet/pseudonyms.rs computes from the column's pages
    /// with [`PseudonymBatch::check`] and [`PseudonymBatch::compute_each`],
    /// as [`transform`](Self::transform) would.
    pub(crate) fn pseudonym_field(&self, root: usize) -> Option<&FieldProcessor> {
        let i = self.leaves.iter().position(|l| l.indices == [root])?;
        let ColumnAction::Field(k) = self.actions[i] else {
            return None;
        };
        let p = &self.fields[k].processor;
        (self.direction == Direction::Apply && PseudonymBatch::borrows(p)).then_some(p)
    }

    /// Whether a batch can come out with fewer rows than it went in
    /// (`on_error = "drop-record"` or `[suppress]` when applying).
    pub fn may_drop_rows(&self) -> bool {
        (self.on_error == OnError::DropRecord || self.suppress.is_some())
            && self.direction == Direction::Apply
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use arrow_array::{Array, Date32Array, StringArray};

    fn cast_text(a: &ArrayRef) -> StringArray {
        arrow_cast::cast(a.as_ref(), &DataType::Utf8)
            .unwrap()
            .as_string::<i32>()
            .clone()
    }

    /// A dictionary column with no values (every key null, as a reader
    /// gives an all-null chunk) is transformed to nulls, not a panic in
    /// arrow's `normalized_keys` (found by fuzz/parquet_pipeline).
    #[test]
    fn an_empty_dictionary_transforms_to_nulls() {
        use arrow_array::DictionaryArray;
        use arrow_array::types::Int32Type;
        let keys = arrow_array::Int32Array::from(std::vec![None, None, None]);
        let d = DictionaryArray::<Int32Type>::try_new(
            keys,
            Arc::new(StringArray::from(Vec::<&str>::new())),
        )
        .unwrap();
        let schema = Arc::new(Schema::new(std::vec![Field::new(
            "city",
            d.data_type().clone(),
            true
        )]));
        let batch =
            RecordBatch::try_new(Arc::clone(&schema), std::vec![Arc::new(d) as ArrayRef]).unwrap();
        let policy = Policy::from_toml(
            "version = 1\n[fields.city]\ntransform = \"mask\"\nkeep_first = 1\nkeep_last = 0\n",
        )
        .unwrap();
        let keys =
            Keyset::from_keys(std::vec![crate::key::MasterKey::from_bytes(1, [7u8; 32])]).unwrap();
        let t = BatchTransformer::new(&policy, &keys, schema, Direction::Apply).unwrap();
        let out = t.transform(&batch, 0).unwrap();
        assert_eq!(out.column(0).logical_null_count(), 3);
    }

    /// A `pseudonymize` column gives, slot for slot, what the field gives
    /// one value at a time: whether its values are pseudonymized where they
    /// lie (no normalizer) or normalized into a queue first, with every
    /// slot a value or with nulls and kept empty values among them, and
    /// across the groups the pseudonyms are computed in.
    #[test]
    fn pseudonym_columns_equal_one_value_at_a_time() {
        let schema = Arc::new(Schema::new(std::vec![
            Field::new("plain", DataType::Utf8, true),
            Field::new("trimmed", DataType::Utf8, true),
        ]));
        let policy = Policy::from_toml(
            "version = 1\n[fields.plain]\ntransform = \"pseudonymize\"\n\
             [fields.trimmed]\ntransform = \"pseudonymize\"\nnormalize = [\"trim\"]\n",
        )
        .unwrap();
        let keys =
            Keyset::from_keys(std::vec![crate::key::MasterKey::from_bytes(1, [7u8; 32])]).unwrap();
        let t =
            BatchTransformer::new(&policy, &keys, Arc::clone(&schema), Direction::Apply).unwrap();
        assert!(PseudonymBatch::borrows(&t.fields[0].processor));
        assert!(!PseudonymBatch::borrows(&t.fields[1].processor));
        for (n, gaps) in [(203usize, true), (203, false), (80, false), (1, true)] {
            let values: Vec<Option<String>> = (0..n)
                .map(|i| match i % 7 {
                    3 if gaps => None,
                    5 if gaps => Some(String::new()),
                    _ => Some(std::format!(" value {i} ")),
                })
                .collect();
            let column = || Arc::new(StringArray::from(values.clone())) as ArrayRef;
            let batch =
                RecordBatch::try_new(Arc::clone(&schema), std::vec![column(), column()]).unwrap();
            let out = t.transform(&batch, 0).unwrap();
            for (k, name) in ["plain", "trimmed"].into_iter().enumerate() {
                let field = &t.fields[k].processor;
                let got = out.column_by_name(name).unwrap().as_string::<i32>();
                for (i, v) in values.iter().enumerate() {
                    let Some(v) = v else {
                        assert!(got.is_null(i), "{name} row {i} of {n}");
                        continue;
                    };
                    let mut one = Vec::new();
                    field
                        .transform(
                            v.as_bytes(),
                            None,
                            &mut crate::io::rng::OsRng,
                            &mut Scratch::default(),
                            &mut one,
                        )
                        .unwrap();
                    assert_eq!(got.value(i).as_bytes(), &one[..], "{name} row {i} of {n}");
                    assert_eq!(v.is_empty(), one.is_empty());
                }
            }
        }
    }

    /// A skipped column's output is a placeholder made from the output
    /// schema: a caller that decoded the column anyway and wrote the
    /// output would write empty values, never the input's.
    #[test]
    fn a_skipped_column_never_carries_the_inputs_values() {
        let schema = Arc::new(Schema::new(std::vec![
            Field::new("email", DataType::Utf8, false),
            Field::new("id", DataType::Utf8, false),
        ]));
        let policy = Policy::from_toml(
            "version = 1\nunlisted = \"keep\"\n[fields.email]\ntransform = \"pseudonymize\"\n",
        )
        .unwrap();
        let keys =
            Keyset::from_keys(std::vec![crate::key::MasterKey::from_bytes(1, [7u8; 32])]).unwrap();
        let t =
            BatchTransformer::new(&policy, &keys, Arc::clone(&schema), Direction::Apply).unwrap();
        for n in [3usize, 1] {
            let emails: std::vec::Vec<String> = (0..n)
                .map(|i| std::format!("user{i}@example.com"))
                .collect();
            let ids: std::vec::Vec<String> = (0..n).map(|i| i.to_string()).collect();
            let batch = RecordBatch::try_new(
                Arc::clone(&schema),
                std::vec![
                    Arc::new(StringArray::from(emails.clone())) as ArrayRef,
                    Arc::new(StringArray::from(ids)) as ArrayRef,
                ],
            )
            .unwrap();
            let out = t.transform_skipping(&batch, 0, &[true, false]).unwrap();
            assert_eq!(out.batch.num_rows(), n);
            let email = out.batch.column_by_name("email").unwrap();
            assert_eq!(email.len(), n);
            let text = email.as_string::<i32>();
            for (i, e) in emails.iter().enumerate() {
                assert_ne!(text.value(i), e.as_str(), "row {i} of {n}");
                assert!(text.value(i).is_empty(), "row {i} of {n}");
            }
            assert_eq!(
                out.values.iter().sum::<u64>(),
                0,
                "a skipped column counts nothing"
            );
        }
    }

    /// `transform = "keep"` writes a column as it came, of its own type,
    /// as a column the policy does not name: integers, dates, a
    /// dictionary, a list and a struct's field, nulls included. Its values
    /// are still counted, and `empty = "error"` still refuses a null.
    #[test]
    fn an_explicit_keep_keeps_the_type_and_the_values() {
        use arrow_array::builder::{Int64Builder, ListBuilder};
        use arrow_array::types::Int32Type;
        use arrow_array::{DictionaryArray, Int64Array, StructArray};
        let mut list = ListBuilder::new(Int64Builder::new());
        list.append_value([Some(1), None, Some(3)]);
        list.append_null();
        list.append_value([Some(4)]);
        let list = list.finish();
        let inner = Arc::new(Field::new("zip", DataType::Int64, true));
        let nested = StructArray::from(std::vec![(
            Arc::clone(&inner),
            Arc::new(Int64Array::from(std::vec![Some(100), Some(200), None])) as ArrayRef,
        )]);
        let columns: std::vec::Vec<ArrayRef> = std::vec![
            Arc::new(Int64Array::from(std::vec![Some(7), None, Some(-9)])),
            Arc::new(Date32Array::from(std::vec![Some(18_000), Some(-1), None])),
            Arc::new(
                std::vec![Some("a"), None, Some("a")]
                    .into_iter()
                    .collect::<DictionaryArray<Int32Type>>(),
            ),
            Arc::new(list),
            Arc::new(nested),
            Arc::new(StringArray::from(std::vec!["x@example.com"; 3])),
        ];
        let names = ["id", "day", "city", "scores", "addr", "email"];
        let schema = Arc::new(Schema::new(
            names
                .iter()
                .zip(&columns)
                .map(|(n, c)| Field::new(*n, c.data_type().clone(), true))
                .collect::<std::vec::Vec<_>>(),
        ));
        let batch = RecordBatch::try_new(Arc::clone(&schema), columns).unwrap();
        let keys =
            Keyset::from_keys(std::vec![crate::key::MasterKey::from_bytes(1, [7u8; 32])]).unwrap();
        let mut toml = std::string::String::from("version = 1\n");
        for n in ["id", "day", "city", "scores", "addr.zip"] {
            toml.push_str(&std::format!("[fields.\"{n}\"]\ntransform = \"keep\"\n"));
        }
        toml.push_str("[fields.email]\ntransform = \"pseudonymize\"\n");
        let policy = Policy::from_toml(&toml).unwrap();
        let t =
            BatchTransformer::new(&policy, &keys, Arc::clone(&schema), Direction::Apply).unwrap();
        let out = t.transform_counted(&batch, 0).unwrap();
        for n in &names[..5] {
            let (i, f) = schema.column_with_name(n).unwrap();
            assert_eq!(out.batch.schema().field(i), f, "{n}");
            assert_eq!(
                out.batch.column(i).to_data(),
                batch.column(i).to_data(),
                "{n}"
            );
        }
        assert_eq!(
            out.batch.schema().field(5).data_type(),
            &DataType::Utf8,
            "a transformed column is text"
        );
        // Non-null values of id, day, city, the lists' elements, addr.zip
        // and email.
        assert_eq!(out.values, std::vec![2, 2, 2, 3, 2, 3]);

        let refuses = Policy::from_toml(
            "version = 1\n[fields.id]\ntransform = \"keep\"\nempty = \"error\"\n",
        )
        .unwrap();
        let t = BatchTransformer::new(&refuses, &keys, schema, Direction::Apply).unwrap();
        assert!(
            t.transform(&batch, 0).is_err(),
            "a null under empty = error"
        );
    }

    /// Every day of years 0 to 9999 renders as Arrow's cast renders it.
    #[test]
    fn date32_text_equals_the_cast_on_every_day_it_takes() {
        let first = -719_528; // 0000-01-01
        let last = 2_932_896; // 9999-12-31
        let days: ArrayRef = Arc::new(Date32Array::from_iter_values(first..=last));
        let fast = date32_text(&days).expect("every day is in range");
        let fast = fast.as_string::<i32>();
        let cast = cast_text(&days);
        assert_eq!(fast.value(0), "0000-01-01");
        assert_eq!(fast.value(fast.len() - 1), "9999-12-31");
        for i in 0..fast.len() {
            assert_eq!(fast.value(i), cast.value(i), "day {}", first + i as i32);
        }
    }

    /// A value with no text (a timestamp outside the calendar, bytes that
    /// are not UTF-8) is an error, not a null: Arrow's default cast would
    /// make it null and the value would be lost without a word.
    #[test]
    fn a_value_without_text_is_an_error_not_a_null() {
        use arrow_array::{BinaryArray, TimestampSecondArray};
        let far: ArrayRef = Arc::new(TimestampSecondArray::from(std::vec![0, i64::MAX]));
        assert!(as_text(&far).is_err());
        // Arrow's cast of a Date64 to days makes an overflowing one null.
        let far: ArrayRef = Arc::new(arrow_array::Date64Array::from(std::vec![0, i64::MAX]));
        assert!(as_text(&far).is_err());
        let bytes: ArrayRef = Arc::new(BinaryArray::from(std::vec![&[0xffu8, 0xfe][..]]));
        assert!(utf8_text(&bytes).is_err());
        let ok: ArrayRef = Arc::new(TimestampSecondArray::from(std::vec![0]));
        assert_eq!(
            as_text(&ok).unwrap().as_string::<i32>().value(0),
            "1970-01-01T00:00:00"
        );
    }

    /// The text of each typed value, as docs/FORMAT.md ("Parquet") states
    /// it: pseudonyms of typed columns depend on these exact forms.
    #[test]
    fn typed_values_render_as_documented() {
        use arrow_array::types::TimestampMicrosecondType;
        use arrow_array::{
            BooleanArray, Date64Array, Decimal128Array, Float64Array, Int64Array, PrimitiveArray,
            Time32SecondArray,
        };
        fn text(a: ArrayRef) -> std::vec::Vec<String> {
            let t = as_text(&a).unwrap();
            let t = t.as_string::<i32>();
            (0..t.len()).map(|i| t.value(i).to_owned()).collect()
        }
        // 2024-01-10T08:30:00 UTC, and the same with 250 ms.
        let at = 1_704_875_400_000_000_i64;
        let stamps = |tz: Option<&str>| -> ArrayRef {
            let a = PrimitiveArray::<TimestampMicrosecondType>::from(vec![at, at + 250_000]);
            Arc::new(match tz {
                Some(tz) => a.with_timezone(tz),
                None => a,
            })
        };
        assert_eq!(
            text(stamps(None)),
            ["2024-01-10T08:30:00", "2024-01-10T08:30:00.250"]
        );
        assert_eq!(
            text(stamps(Some("+09:00"))),
            ["2024-01-10T17:30:00+09:00", "2024-01-10T17:30:00.250+09:00"]
        );
        // Named zones (as pandas, pyarrow and Spark write them) at their
        // offset for the instant; a zero offset is `Z`.
        assert_eq!(
            text(stamps(Some("Asia/Seoul")))[0],
            "2024-01-10T17:30:00+09:00"
        );
        assert_eq!(
            text(stamps(Some("America/New_York")))[0],
            "2024-01-10T03:30:00-05:00"
        );
        assert_eq!(text(stamps(Some("UTC")))[0], "2024-01-10T08:30:00Z");
        assert_eq!(text(stamps(Some("+00:00")))[0], "2024-01-10T08:30:00Z");
        assert_eq!(text(Arc::new(Int64Array::from(vec![-42]))), ["-42"]);
        assert_eq!(
            text(Arc::new(Float64Array::from(vec![1.5, 0.1]))),
            ["1.5", "0.1"]
        );
        assert_eq!(
            text(Arc::new(BooleanArray::from(vec![true, false]))),
            ["true", "false"]
        );
        let dec = Decimal128Array::from(vec![123_450]).with_precision_and_scale(10, 2);
        assert_eq!(text(Arc::new(dec.unwrap())), ["1234.50"]);
        assert_eq!(
            text(Arc::new(Date64Array::from(vec![1_704_844_800_000]))),
            ["2024-01-10"]
        );
        assert_eq!(
            text(Arc::new(Time32SecondArray::from(vec![30_600]))),
            ["08:30:00"]
        );
    }

    #[test]
    fn date32_text_keeps_nulls_and_leaves_far_dates_to_the_cast() {
        let days: ArrayRef = Arc::new(Date32Array::from(vec![Some(19_732), None, Some(-1)]));
        let fast = date32_text(&days).unwrap();
        assert_eq!(fast.as_ref(), &cast_text(&days) as &dyn Array);
        assert!(fast.is_null(1));
        for far in [-719_529, 2_932_897, i32::MIN, i32::MAX] {
            let days: ArrayRef = Arc::new(Date32Array::from(vec![Some(0), Some(far)]));
            assert!(date32_text(&days).is_none(), "day {far}");
        }
        let near: ArrayRef = Arc::new(Date32Array::from(vec![-719_529, 2_932_897]));
        let text = as_text(&near).unwrap();
        assert_eq!(text.as_ref(), &cast_text(&near) as &dyn Array);
        let ints: ArrayRef = Arc::new(arrow_array::Int32Array::from(vec![1]));
        assert!(date32_text(&ints).is_none());
    }
}
