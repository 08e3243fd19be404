//! What a pipeline worker does with one chunk of records: parse, transform
//! or reverse each bound field, serialize. CSV records come from
//! [`CsvParser`]; JSON values are reached through [`json_path`], the same
//! rules `scan` and the audits use.

use std::borrow::ToOwned;
use std::string::String;
use std::vec;
use std::vec::Vec;

use serde_json::Value;

use super::error::InputErrorKind;
use super::json_path::{self, PathError};
use super::pipeline::ColumnCount;
use super::record::{CsvParser, CsvRecord, CsvWriter};
use super::rng::BufferedOsRng;
use super::suppress::SuppressClasses;
use super::table::Format;
use crate::error::Error;
use crate::field::{FieldProcessor, PseudonymBatch, Scratch};
use crate::key::Keyset;
use crate::policy::{
    Binding, BoundField, ColumnAction, Direction, OnError, Policy, PolicyError, Unlisted,
};
use std::sync::Arc;

/// A policy bound to one input, with each field's transform compiled.
pub(crate) struct Plan<'p> {
    pub binding: Binding<'p>,
    processors: Vec<FieldProcessor>,
    /// Classes to suppress and the processors of their columns.
    suppress: Option<(Arc<SuppressClasses>, Vec<usize>)>,
}

impl<'p> Plan<'p> {
    pub(crate) fn new(
        policy: &'p Policy,
        keys: &Keyset,
        columns: &[String],
        format: Format,
        direction: Direction,
    ) -> Result<Self, InputErrorKind> {
        let binding = match format {
            Format::Csv => policy.bind(columns, direction),
            Format::Jsonl | Format::Parquet => policy.bind_paths(columns, direction),
        }
        .map_err(|e| InputErrorKind::Policy(redact_unlisted(e, columns)))?;
        let processors = binding.processors(keys).map_err(InputErrorKind::Policy)?;
        Ok(Plan {
            binding,
            processors,
            suppress: None,
        })
    }

    /// Suppresses the records of `classes` (CSV or JSON Lines, applying):
    /// each of its columns must be a field the policy transforms.
    pub(crate) fn with_suppression(
        mut self,
        classes: Option<Arc<SuppressClasses>>,
        format: Format,
    ) -> Result<Self, InputErrorKind> {
        let Some(classes) = classes else {
            return Ok(self);
        };
        let refuse = |m: String| InputErrorKind::Policy(PolicyError::Suppress(m));
        if self.binding.direction != Direction::Apply {
            return Ok(self);
        }
        if format == Format::Parquet {
            return Err(refuse(
                "Parquet goes through deid::io::parquet::run, which suppresses by batch".into(),
            ));
        }
        let mut idx = Vec::with_capacity(classes.columns().len());
        for c in classes.columns() {
            let i = self
                .binding
                .fields
                .iter()
                .position(|f| f.name == c.as_str())
                .filter(|&i| !self.processors[i].drops_column())
                .ok_or_else(|| {
                    refuse(std::format!(
                        "quasi-identifier {c} must be a field the policy generalizes"
                    ))
                })?;
            idx.push(i);
        }
        self.suppress = Some((classes, idx));
        Ok(self)
    }

    /// Summary slots for the fields that write values (not `drop`).
    pub(crate) fn counted_columns(&self) -> Vec<ColumnCount> {
        self.counted_indices()
            .into_iter()
            .map(|i| ColumnCount {
                column: self.processors[i].column().to_owned(),
                transform: self.processors[i].kind(),
                values: 0,
                detections: std::collections::BTreeMap::new(),
            })
            .collect()
    }

    /// For a `redact` field: detections per type over the run (non-zero only).
    pub(crate) fn detections(&self, i: usize) -> std::collections::BTreeMap<String, u64> {
        self.processors[i].detection_counts()
    }

    pub(crate) fn counted_indices(&self) -> Vec<usize> {
        (0..self.processors.len())
            .filter(|&i| !self.processors[i].drops_column())
            .collect()
    }

    fn transform(
        &self,
        i: usize,
        value: &[u8],
        subject: Option<&[u8]>,
        w: &mut Worker,
        out: &mut Vec<u8>,
    ) -> Result<(), Error> {
        let p = &self.processors[i];
        match self.binding.direction {
            Direction::Apply => p.transform(value, subject, &mut w.rng, &mut w.scratch, out),
            Direction::Decrypt => p.reverse(value, &mut w.scratch, out),
        }
    }

    fn value_error(&self, i: usize, e: Error) -> (String, InputErrorKind) {
        let p = &self.processors[i];
        (p.column().to_owned(), InputErrorKind::Value(p.kind(), e))
    }

    /// Whether a record that failed this way is left out rather than
    /// stopping the run.
    fn skips(&self, kind: &InputErrorKind) -> bool {
        self.binding.on_error == OnError::DropRecord
            && self.binding.direction == Direction::Apply
            && matches!(kind, InputErrorKind::Value(..))
    }
}

/// Input column names in a policy error are shown only when they look like
/// names: a file read with a header it does not have would otherwise print
/// its first record (`unlisted = "error"` lists the columns it refuses).
fn redact_unlisted(e: PolicyError, columns: &[String]) -> PolicyError {
    match e {
        PolicyError::UnlistedColumns(names) => PolicyError::UnlistedColumns(
            names
                .into_iter()
                .map(|n| {
                    if super::header::is_plausible_column_name(&n) {
                        n
                    } else {
                        let pos = columns.iter().position(|c| *c == n).map_or(0, |i| i + 1);
                        std::format!("column {pos} (its name looks like data and is not shown)")
                    }
                })
                .collect(),
        ),
        other => other,
    }
}

/// A worker's reusable state.
pub(crate) struct Worker {
    rng: BufferedOsRng,
    scratch: Scratch,
    parser: CsvParser,
    /// CSV: the records held until their `pseudonymize` fields are computed.
    group: Group,
    /// JSON: a value's text and its transform.
    text: Vec<u8>,
    out: Vec<u8>,
}

impl Worker {
    pub(crate) fn new(delimiter: u8) -> Self {
        Worker {
            rng: BufferedOsRng::default(),
            scratch: Scratch::default(),
            parser: CsvParser::new(delimiter),
            group: Group::default(),
            text: Vec::new(),
            out: Vec::new(),
        }
    }
}

/// One processed chunk.
pub(crate) struct ChunkOut {
    pub bytes: Vec<u8>,
    pub rows: u64,
    pub dropped: u64,
    /// Records left out by `[suppress]`.
    pub suppressed: u64,
    pub counts: Vec<u64>,
    pub bytes_in: u64,
}

/// An error inside a chunk, before the chunk's first row number is known.
pub(crate) struct ChunkError {
    pub local_row: u64,
    pub column: Option<String>,
    pub kind: InputErrorKind,
}

/// Processes one chunk of whole records.
pub(crate) fn process_chunk(
    plan: &Plan<'_>,
    format: Format,
    chunk: &[u8],
    w: &mut Worker,
) -> Result<ChunkOut, ChunkError> {
    match format {
        Format::Csv => csv_chunk(plan, chunk, w),
        Format::Jsonl | Format::Parquet => jsonl_chunk(plan, chunk, w),
    }
}

/// The header line for the kept columns (empty when none is kept).
pub(crate) fn csv_header(plan: &Plan<'_>, names: &[String], delimiter: u8) -> Vec<u8> {
    let mut out = Vec::new();
    let kept: Vec<&String> = names
        .iter()
        .zip(&plan.binding.columns)
        .filter(|(_, a)| **a != ColumnAction::Drop)
        .map(|(c, _)| c)
        .collect();
    if !kept.is_empty() {
        CsvWriter::new(delimiter).record(&mut out, kept);
    }
    out
}

/// CSV records parsed before their fields are transformed, a field at a
/// time: one call of the batch kernels for the `pseudonymize` fields
/// (src/field.rs).
const GROUP: usize = PseudonymBatch::GROUP;

/// A group of CSV records on its way into the chunk's output, and what the
/// fields computed before writing made of them.
#[derive(Default)]
struct Group {
    /// The records, the first `len` of them in use.
    recs: Vec<CsvRecord>,
    /// Per field a suppressed class reads: its outputs, back to back, and
    /// where each record's ends.
    outputs: Vec<Vec<u8>>,
    output_ends: Vec<Vec<usize>>,
    /// Per field computed together: its values in this group, and each
    /// record's index into them (`None`: an empty value that stays empty).
    batches: Vec<PseudonymBatch>,
    queued: Vec<Vec<Option<usize>>>,
    /// Per record: the first field (in policy order) computed before
    /// writing that failed, and why.
    failed: Vec<Option<(usize, Error)>>,
}

impl Group {
    /// The output of field `i` (computed before writing) for record `r`.
    fn early_output(&self, i: usize, r: usize) -> &[u8] {
        let ends = &self.output_ends[i];
        let from = r.checked_sub(1).map_or(0, |p| ends[p]);
        &self.outputs[i][from..ends[r]]
    }
}

/// What `field` reads from `rec`: its value (empty when missing) and the
/// value of its `dateshift` subject.
fn inputs<'r>(rec: &'r CsvRecord, field: &BoundField<'_>) -> (&'r [u8], Option<&'r [u8]>) {
    let value = rec.get(field.column).unwrap_or_default();
    (value, field.subject.and_then(|s| rec.get(s)))
}

/// When a field's values are transformed.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Stage {
    /// Not written (`drop`).
    Dropped,
    /// For the whole group before it is written: pseudonyms being applied,
    /// computed together.
    Batched,
    /// For the whole group before it is written: a field a suppressed
    /// class reads, which decides whether a record is written.
    Early,
    /// While its record is written, straight into the output.
    Written,
}

/// Records are parsed a group ([`GROUP`]) at a time. The values of each
/// `pseudonymize` field being applied are computed together for the group
/// (and those of the fields a suppressed class reads, which must be known
/// before a record is written); then the records are written in order,
/// every other field transformed straight into its record. A record with a
/// failing field is never written: the error reported is the group's first
/// failing record's first failing field in policy order, as the JSON Lines
/// and Arrow paths report it, and an unparsable record after it in the
/// group is reported only when no record before it failed. The bytes are
/// those of transforming each value on its own.
fn csv_chunk(plan: &Plan<'_>, chunk: &[u8], w: &mut Worker) -> Result<ChunkOut, ChunkError> {
    let mut out = Vec::with_capacity(chunk.len() + chunk.len() / 2);
    let delimiter = w.parser.delimiter();
    let mut wtr = CsvWriter::new(delimiter);
    let n = plan.processors.len();
    let mut counts = vec![0u64; n];
    let (mut rows, mut dropped, mut suppressed) = (0u64, 0u64, 0u64);
    let mut key = Vec::new();
    let columns = &plan.binding.columns;
    let fields = &plan.binding.fields;
    let any_output = columns.iter().any(|a| *a != ColumnAction::Drop);
    let suppress = plan.suppress.as_ref();
    // Pseudonyms and encryption tokens (ASCII letters, digits, `-` and
    // `_`) never need quotes under a delimiter outside those.
    let token_safe = !(delimiter.is_ascii_alphanumeric() || matches!(delimiter, b'-' | b'_'));
    let stages: Vec<Stage> = (0..n)
        .map(|i| {
            let read_by_suppression = suppress.is_some_and(|(_, idx)| idx.contains(&i));
            if columns[fields[i].column] == ColumnAction::Drop {
                Stage::Dropped
            } else if read_by_suppression {
                Stage::Early
            } else if plan.binding.direction == Direction::Apply && plan.processors[i].batches() {
                Stage::Batched
            } else {
                Stage::Written
            }
        })
        .collect();
    // The fields whose outputs are such tokens (applying; a reversed value
    // is any text).
    let unquoted: Vec<bool> = (0..n)
        .map(|i| {
            token_safe
                && plan.binding.direction == Direction::Apply
                && plan.processors[i].writes_tokens()
        })
        .collect();
    let mut g = core::mem::take(&mut w.group);
    g.recs.resize_with(GROUP, CsvRecord::default);
    g.outputs.resize_with(n, Vec::new);
    g.output_ends.resize_with(n, Vec::new);
    g.batches.resize_with(n, PseudonymBatch::default);
    g.queued.resize_with(n, Vec::new);
    let mut buf = core::mem::take(&mut w.out);
    let mut pos = 0;
    w.parser.restart();
    let result = (|| {
        loop {
            // Parse: up to GROUP whole records, or up to the first that
            // cannot be read (its error waits for the records before it).
            let first_row = rows;
            let mut len = 0;
            let mut unreadable = None;
            while len < GROUP {
                match w.parser.read(chunk, &mut pos, &mut g.recs[len]) {
                    Ok(true) => {}
                    Ok(false) => break,
                    Err(_) => {
                        unreadable = Some((len, None, InputErrorKind::MalformedQuote));
                        break;
                    }
                }
                let found = g.recs[len].len();
                if found != columns.len() {
                    let ragged = InputErrorKind::Ragged {
                        expected: columns.len() as u64,
                        found: found as u64,
                    };
                    unreadable = Some((len, None, ragged));
                    break;
                }
                len += 1;
            }
            let recs = &g.recs[..len];
            // The fields computed before writing, in policy order.
            g.failed.clear();
            g.failed.resize_with(len, || None);
            for (i, f) in fields.iter().enumerate() {
                let p = &plan.processors[i];
                match stages[i] {
                    Stage::Dropped | Stage::Written => {}
                    Stage::Batched => {
                        let (batch, queued) = (&mut g.batches[i], &mut g.queued[i]);
                        batch.clear();
                        queued.clear();
                        for (rec, failed) in recs.iter().zip(&mut g.failed) {
                            let value = rec.get(f.column).unwrap_or_default();
                            let q = match failed {
                                Some(_) => None,
                                None => batch.push(p, value, &mut w.scratch).unwrap_or_else(|e| {
                                    *failed = Some((i, e));
                                    None
                                }),
                            };
                            counts[i] += u64::from(failed.is_none() && !value.is_empty());
                            queued.push(q);
                        }
                        if !batch.is_empty() {
                            batch.compute(p).map_err(|e| ChunkError {
                                local_row: first_row + 1,
                                column: None,
                                kind: plan.value_error(i, e).1,
                            })?;
                        }
                    }
                    Stage::Early => {
                        let (output, ends) = (&mut g.outputs[i], &mut g.output_ends[i]);
                        output.clear();
                        ends.clear();
                        for (rec, failed) in recs.iter().zip(&mut g.failed) {
                            if failed.is_none() {
                                let (value, subject) = inputs(rec, f);
                                match plan.transform(i, value, subject, w, output) {
                                    Ok(()) => counts[i] += u64::from(!value.is_empty()),
                                    Err(e) => *failed = Some((i, e)),
                                }
                            }
                            ends.push(output.len());
                        }
                    }
                }
            }
            // Write: the records in order, or the first failure.
            for (r, rec) in recs.iter().enumerate() {
                let row = first_row + r as u64 + 1;
                let start = out.len();
                // The failure, and the column up to which the record was
                // written before it.
                let mut failure = g.failed[r].take().map(|f| (f, 0));
                if failure.is_none() {
                    for (col, action) in columns.iter().enumerate() {
                        match *action {
                            ColumnAction::Keep => {
                                wtr.field(&mut out, rec.get(col).unwrap_or_default());
                            }
                            ColumnAction::Drop => {}
                            ColumnAction::Field(i) => match stages[i] {
                                Stage::Batched => match g.queued[i][r] {
                                    Some(q) if token_safe => {
                                        wtr.field_unquoted(&mut out, g.batches[i].get(q));
                                    }
                                    Some(q) => wtr.field(&mut out, g.batches[i].get(q)),
                                    None => wtr.field(&mut out, b""),
                                },
                                Stage::Early => wtr.field(&mut out, g.early_output(i, r)),
                                Stage::Written | Stage::Dropped => {
                                    let (value, subject) = inputs(rec, &fields[i]);
                                    match wtr.field_with(&mut out, unquoted[i], |o| {
                                        plan.transform(i, value, subject, w, o)
                                    }) {
                                        Ok(()) => counts[i] += u64::from(!value.is_empty()),
                                        Err(e) => {
                                            failure = Some(((i, e), col));
                                            break;
                                        }
                                    }
                                }
                            },
                        }
                    }
                }
                if let Some(((i, e), written)) = failure {
                    out.truncate(start);
                    wtr.discard_record();
                    // Fields earlier in policy order that this record has
                    // not been through may fail first.
                    let (i, e) = (0..i)
                        .filter(|&j| stages[j] == Stage::Written && fields[j].column >= written)
                        .find_map(|j| {
                            let (value, subject) = inputs(rec, &fields[j]);
                            buf.clear();
                            plan.transform(j, value, subject, w, &mut buf)
                                .err()
                                .map(|e| (j, e))
                        })
                        .unwrap_or((i, e));
                    let (column, kind) = plan.value_error(i, e);
                    if plan.skips(&kind) {
                        dropped += 1;
                        continue;
                    }
                    return Err(ChunkError {
                        local_row: row,
                        column: Some(column),
                        kind,
                    });
                }
                if let Some((classes, idx)) = suppress {
                    if classes.contains(idx.iter().map(|&i| g.early_output(i, r)), &mut key) {
                        out.truncate(start);
                        wtr.discard_record();
                        suppressed += 1;
                        continue;
                    }
                }
                if any_output {
                    wtr.end_record(&mut out);
                }
            }
            rows += len as u64;
            if let Some((r, column, kind)) = unreadable {
                return Err(ChunkError {
                    local_row: first_row + r as u64 + 1,
                    column,
                    kind,
                });
            }
            if len < GROUP {
                return Ok(());
            }
        }
    })();
    w.group = g;
    w.out = buf;
    result?;
    Ok(ChunkOut {
        bytes: out,
        rows,
        dropped,
        suppressed,
        counts,
        bytes_in: chunk.len() as u64,
    })
}

/// A line without its line ending.
pub(crate) fn trim_line(line: &[u8]) -> &[u8] {
    let line = line.strip_suffix(b"\n").unwrap_or(line);
    line.strip_suffix(b"\r").unwrap_or(line)
}

/// Parses one JSON Lines record; errors carry the category and position,
/// never the text (serde_json's messages can quote the offending token).
pub(crate) fn parse_json_object(line: &[u8]) -> Result<Value, InputErrorKind> {
    match serde_json::from_slice::<Value>(line) {
        Ok(v @ Value::Object(_)) => Ok(v),
        Ok(_) => Err(InputErrorKind::Json(
            "the line is JSON but not an object".into(),
        )),
        Err(_) if std::str::from_utf8(line).is_err() => Err(InputErrorKind::Utf8),
        Err(e) => Err(InputErrorKind::Json(
            std::format!("{:?} error at character {}", e.classify(), e.column()).to_lowercase(),
        )),
    }
}

fn shape(path: &str, e: PathError) -> (String, InputErrorKind) {
    (path.to_owned(), InputErrorKind::Shape(e.describe()))
}

fn jsonl_chunk(plan: &Plan<'_>, chunk: &[u8], w: &mut Worker) -> Result<ChunkOut, ChunkError> {
    let mut out = Vec::with_capacity(chunk.len() + chunk.len() / 2);
    let mut counts = vec![0u64; plan.processors.len()];
    let (mut rows, mut dropped, mut suppressed) = (0u64, 0u64, 0u64);
    for line in chunk.split(|&b| b == b'\n') {
        let line = trim_line(line);
        if line.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        rows += 1;
        let fail = |column, kind| ChunkError {
            local_row: rows,
            column,
            kind,
        };
        let mut value = parse_json_object(line).map_err(|k| fail(None, k))?;
        match transform_json(plan, &mut value, w, &mut counts) {
            Ok(()) => {}
            Err((_, kind)) if plan.skips(&kind) => {
                dropped += 1;
                continue;
            }
            Err((path, kind)) => return Err(fail(Some(path), kind)),
        }
        if let Some((classes, idx)) = &plan.suppress {
            if json_suppressed(plan, classes, idx, &value, &mut w.text)
                .map_err(|(path, kind)| fail(Some(path), kind))?
            {
                suppressed += 1;
                continue;
            }
        }
        serde_json::to_writer(&mut out, &value)
            .map_err(|e| fail(None, InputErrorKind::Io(e.into())))?;
        out.push(b'\n');
    }
    Ok(ChunkOut {
        bytes: out,
        rows,
        dropped,
        suppressed,
        counts,
        bytes_in: chunk.len() as u64,
    })
}

/// Whether a transformed JSON record is in a suppressed class: its output
/// value at each quasi-identifier path, keyed as the CSV path keys a
/// record ([`SuppressClasses::contains`]). A path with no value (missing or
/// null) or several (an array) fails the record: its class would not be
/// the one the first pass counted.
fn json_suppressed(
    plan: &Plan<'_>,
    classes: &SuppressClasses,
    idx: &[usize],
    value: &Value,
    key: &mut Vec<u8>,
) -> Result<bool, (String, InputErrorKind)> {
    let mut texts: Vec<&str> = Vec::with_capacity(idx.len());
    let mut found = Vec::new();
    for &i in idx {
        let path = plan.binding.fields[i].name;
        found.clear();
        json_path::values(value, path, &mut found).map_err(|e| shape(path, e))?;
        match found[..] {
            [Value::String(s)] => texts.push(s.as_str()),
            _ => return Err((path.to_owned(), super::suppress::no_single_value())),
        }
    }
    Ok(classes.contains(texts.iter().map(|s| s.as_bytes()), key))
}

fn transform_json(
    plan: &Plan<'_>,
    value: &mut Value,
    w: &mut Worker,
    counts: &mut [u64],
) -> Result<(), (String, InputErrorKind)> {
    // Subjects are read before anything changes: a subject column may itself
    // be transformed earlier in policy order.
    let mut subjects: Vec<Option<Vec<u8>>> = Vec::new();
    for p in &plan.processors {
        subjects.push(match p.subject_column() {
            Some(s) => {
                let mut found = Vec::new();
                json_path::scalars(value, s, &mut found).map_err(|e| shape(s, e))?;
                found.into_iter().next()
            }
            None => None,
        });
    }
    let mut buf = core::mem::take(&mut w.out);
    let mut text = core::mem::take(&mut w.text);
    let mut result = Ok(());
    for (i, f) in plan.binding.fields.iter().enumerate() {
        let r = if plan.processors[i].drops_column() {
            json_path::remove(value, f.name).map_err(|e| shape(f.name, e))
        } else {
            json_path::for_each_scalar(value, f.name, &mut |v| {
                text.clear();
                json_path::scalar_text(v, &mut text);
                buf.clear();
                plan.transform(i, &text, subjects[i].as_deref(), w, &mut buf)?;
                counts[i] += u64::from(!text.is_empty());
                let s = core::str::from_utf8(&buf).map_err(|_| Error::Invalid("UTF-8 output"))?;
                *v = Value::String(s.to_owned());
                Ok(())
            })
            .map_err(|e| match e {
                Ok(e) => plan.value_error(i, e),
                Err(p) => shape(f.name, p),
            })
        };
        if r.is_err() {
            result = r;
            break;
        }
    }
    w.text = text;
    w.out = buf;
    result?;
    let names: Vec<&str> = plan.binding.fields.iter().map(|f| f.name).collect();
    match plan.binding.unlisted {
        Unlisted::Keep => {}
        Unlisted::Drop => json_path::retain(value, &names),
        Unlisted::Error => {
            if let Some(l) = json_path::leaf_paths(value)
                .into_iter()
                .find(|l| !names.iter().any(|f| Policy::covers(f, l, true)))
            {
                let shown = if super::header::is_plausible_column_name(&l) {
                    l
                } else {
                    "a path whose keys look like data".into()
                };
                return Err((
                    shown.clone(),
                    InputErrorKind::Policy(PolicyError::UnlistedColumns(vec![shown])),
                ));
            }
        }
    }
    Ok(())
}
