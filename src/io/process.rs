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
use crate::policy::{Binding, ColumnAction, Direction, OnError, Policy, PolicyError, Unlisted};
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

/// CSV records written before their `pseudonymize` fields are computed
/// together: one call of the batch kernels (src/field.rs).
const GROUP: usize = PseudonymBatch::GROUP;

/// A group of CSV records on its way into the chunk's output: the values of
/// the fields computed together, and where their pseudonyms go.
#[derive(Default)]
struct Group {
    rec: CsvRecord,
    /// Per field: its values in this group (fields computed together only).
    batches: Vec<PseudonymBatch>,
    /// Where each queued pseudonym goes in the output.
    holes: Vec<Hole>,
    /// The suppressed classes' columns of the current record, back to back.
    qi: Vec<u8>,
    qi_ends: Vec<usize>,
}

/// What a pseudonym's place holds until its batch is computed: a letter of
/// every token alphabet, as long as the longest pseudonym (32 bytes as hex).
const PLACEHOLDER: [u8; 64] = [b'a'; 64];

/// A pseudonym's place in the chunk's output, filled once its batch is
/// computed.
struct Hole {
    at: usize,
    field: usize,
    index: usize,
}

/// Every record is parsed and written straight into the chunk's output,
/// column by column, as its fields are transformed (no record is held). A
/// `pseudonymize` field's value is queued and its place held (a pseudonym
/// has a fixed length); every [`GROUP`] records the queued values are
/// computed together and copied into their places. A record that fails
/// leaves nothing behind. The bytes are those of transforming each value
/// on its own.
fn csv_chunk(plan: &Plan<'_>, chunk: &[u8], w: &mut Worker) -> Result<ChunkOut, ChunkError> {
    let mut out = Vec::with_capacity(chunk.len() + chunk.len() / 2);
    let delimiter = w.parser.delimiter();
    let mut wtr = CsvWriter::new(delimiter);
    let n = plan.processors.len();
    let mut counts = vec![0u64; n];
    let (mut rows, mut dropped, mut suppressed) = (0u64, 0u64, 0u64);
    let mut key = Vec::new();
    let columns = &plan.binding.columns;
    let any_output = columns.iter().any(|a| *a != ColumnAction::Drop);
    let suppress = plan.suppress.as_ref();
    // The pseudonym length of each field computed together: pseudonyms
    // being applied and written, whose text (ASCII letters, digits, `-` and
    // `_`) never needs quotes under this delimiter, and that no suppressed
    // class reads.
    let token_safe = !(delimiter.is_ascii_alphanumeric() || matches!(delimiter, b'-' | b'_'));
    let batched: Vec<Option<usize>> = plan
        .binding
        .fields
        .iter()
        .zip(&plan.processors)
        .enumerate()
        .map(|(i, (f, p))| {
            let batch = plan.binding.direction == Direction::Apply
                && p.batches()
                && token_safe
                && columns[f.column] != ColumnAction::Drop
                && !suppress.is_some_and(|(_, idx)| idx.contains(&i));
            batch
                .then(|| PseudonymBatch::output_len(p).ok())
                .flatten()
                .filter(|&len| len <= PLACEHOLDER.len())
        })
        .collect();
    // Per field: its place among the suppressed classes' columns.
    let qi_slot: Vec<Option<usize>> = (0..n)
        .map(|i| suppress.and_then(|(_, idx)| idx.iter().position(|&j| j == i)))
        .collect();
    let qi_columns = suppress.map_or(0, |(_, idx)| idx.len());
    let mut g = core::mem::take(&mut w.group);
    g.batches.resize_with(n, PseudonymBatch::default);
    let mut buf = core::mem::take(&mut w.out);
    let mut pos = 0;
    w.parser.restart();
    let result = (|| {
        let mut more = true;
        while more {
            g.batches.iter_mut().for_each(PseudonymBatch::clear);
            g.holes.clear();
            let mut len = 0;
            while len < GROUP {
                more = w
                    .parser
                    .read(chunk, &mut pos, &mut g.rec)
                    .map_err(|_| ChunkError {
                        local_row: rows + 1,
                        column: None,
                        kind: InputErrorKind::MalformedQuote,
                    })?;
                if !more {
                    break;
                }
                rows += 1;
                let fail = |column, kind| ChunkError {
                    local_row: rows,
                    column,
                    kind,
                };
                let rec = &g.rec;
                if rec.len() != columns.len() {
                    return Err(fail(
                        None,
                        InputErrorKind::Ragged {
                            expected: columns.len() as u64,
                            found: rec.len() as u64,
                        },
                    ));
                }
                let record_start = out.len();
                let holes_before = g.holes.len();
                g.qi.clear();
                g.qi_ends.clear();
                g.qi_ends.resize(qi_columns, 0);
                let mut failed = None;
                for (col, action) in columns.iter().enumerate() {
                    let value = rec.get(col).unwrap_or_default();
                    let i = match *action {
                        ColumnAction::Keep => {
                            wtr.field(&mut out, value);
                            continue;
                        }
                        ColumnAction::Drop => continue,
                        ColumnAction::Field(i) => i,
                    };
                    let r = if let Some(len) = batched[i] {
                        g.batches[i]
                            .push(&plan.processors[i], value, &mut w.scratch)
                            .map(|q| match q {
                                Some(index) => {
                                    wtr.field(&mut out, &PLACEHOLDER[..len]);
                                    g.holes.push(Hole {
                                        at: out.len() - len,
                                        field: i,
                                        index,
                                    });
                                }
                                None => wtr.field(&mut out, b""),
                            })
                    } else {
                        let subject = plan.binding.fields[i].subject.and_then(|s| rec.get(s));
                        plan.transform(i, value, subject, w, &mut buf).map(|()| {
                            if let Some(k) = qi_slot[i] {
                                g.qi.extend_from_slice(&buf);
                                g.qi_ends[k] = g.qi.len();
                            }
                            wtr.field(&mut out, &buf);
                        })
                    };
                    if let Err(e) = r {
                        failed = Some((i, e));
                        break;
                    }
                    counts[i] += u64::from(!value.is_empty());
                }
                if let Some((i, e)) = failed {
                    out.truncate(record_start);
                    g.holes.truncate(holes_before);
                    wtr = CsvWriter::new(delimiter);
                    let (column, kind) = first_failure(plan, rec, i, e, w, &mut buf);
                    if plan.skips(&kind) {
                        dropped += 1;
                        continue;
                    }
                    return Err(fail(Some(column), kind));
                }
                if let Some((classes, _)) = suppress {
                    let qi = g.qi_ends.iter().scan(0, |start, &end| {
                        let v = g.qi.get(*start..end);
                        *start = end;
                        v
                    });
                    if classes.contains(qi, &mut key) {
                        out.truncate(record_start);
                        wtr = CsvWriter::new(delimiter);
                        suppressed += 1;
                        continue;
                    }
                }
                if any_output {
                    wtr.end_record(&mut out);
                }
                len += 1;
            }
            let fail = |column, kind| ChunkError {
                local_row: rows,
                column,
                kind,
            };
            for (i, b) in g.batches.iter_mut().enumerate() {
                if batched[i].is_some() && !b.is_empty() {
                    b.compute(&plan.processors[i])
                        .map_err(|e| fail(None, plan.value_error(i, e).1))?;
                }
            }
            for h in &g.holes {
                let token = g.batches[h.field].get(h.index);
                if let Some(place) = out.get_mut(h.at..h.at + token.len()) {
                    place.copy_from_slice(token);
                }
            }
        }
        Ok(())
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

/// The error of a record whose field `i` (by column order) failed with
/// `e`: its first failing field in policy order, as the JSON Lines and
/// Arrow paths report it. The fields before `i` in policy order are
/// transformed again on their own; only failures pay for this.
fn first_failure(
    plan: &Plan<'_>,
    rec: &CsvRecord,
    i: usize,
    e: Error,
    w: &mut Worker,
    buf: &mut Vec<u8>,
) -> (String, InputErrorKind) {
    for (j, f) in plan.binding.fields.iter().enumerate().take(i) {
        if plan.binding.columns[f.column] == ColumnAction::Drop {
            continue;
        }
        let value = rec.get(f.column).unwrap_or_default();
        let subject = f.subject.and_then(|s| rec.get(s));
        if let Err(e) = plan.transform(j, value, subject, w, buf) {
            return plan.value_error(j, e);
        }
    }
    plan.value_error(i, e)
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
