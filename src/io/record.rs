//! CSV records as `csv_core` parses them: the one CSV grammar of deid.
//!
//! Every reader (the pipeline's workers, the chunker that finds record
//! boundaries, [`TableReader`](super::table::TableReader) behind `scan` and
//! the audits, the parallel class counter) parses CSV with a
//! [`CsvParser`], so what `scan` sees is what `apply` transforms. The
//! configuration is the `csv` crate's default: `"` quotes, `""` escapes,
//! CR, LF and CRLF end records, blank lines are skipped.
//!
//! Records are written back with the same configuration: [`CsvWriter`]
//! gives, field for field, the bytes of the `csv` crate's writer with its
//! defaults (quotes only where needed, `\n` after each record), tested
//! equal to it on arbitrary fields.
//!
//! A UTF-8 byte order mark is only meaningful as the very first bytes of a
//! file; the chunker (`io/chunk.rs`) removes it there, and a
//! parser never strips one again (csv_core would, on each reader's first
//! read, so a row that starts a chunk would lose a U+FEFF that the same row
//! elsewhere keeps).

use std::fmt;
use std::vec;
use std::vec::Vec;

use csv_core::ReadRecordResult;

/// One CSV record: its unescaped fields, stored contiguously.
///
/// Reused across reads to amortize allocations. Its `Debug` shows the number
/// of fields, never their contents.
#[derive(Clone, Default)]
pub struct CsvRecord {
    data: Vec<u8>,
    ends: Vec<usize>,
    fields: usize,
}

impl fmt::Debug for CsvRecord {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CsvRecord")
            .field("fields", &self.fields)
            .finish_non_exhaustive()
    }
}

impl CsvRecord {
    /// An empty record.
    pub fn new() -> Self {
        Self::default()
    }

    /// Number of fields.
    pub fn len(&self) -> usize {
        self.fields
    }

    /// Whether the record has no fields.
    pub fn is_empty(&self) -> bool {
        self.fields == 0
    }

    /// Field `i`, unescaped.
    pub fn get(&self, i: usize) -> Option<&[u8]> {
        if i >= self.fields {
            return None;
        }
        let start = if i == 0 { 0 } else { self.ends[i - 1] };
        self.data.get(start..self.ends[i])
    }

    /// The fields in order.
    pub fn iter(&self) -> impl Iterator<Item = &[u8]> {
        (0..self.fields).filter_map(|i| self.get(i))
    }
}

/// A record whose quoting csv_core accepts only leniently: text between a
/// closing quote and the next delimiter. See [`CsvParser::read`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MalformedQuote;

/// A `csv_core` reader configured as the `csv` crate's default, for one
/// delimiter.
pub struct CsvParser {
    core: csv_core::Reader,
    /// A second reader of the same grammar, for [`CsvParser::read`]'s
    /// quoting check on a record already delimited by `core`.
    check: csv_core::Reader,
    delimiter: u8,
    scratch: Vec<u8>,
    scratch_ends: Vec<usize>,
}

impl fmt::Debug for CsvParser {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CsvParser").finish_non_exhaustive()
    }
}

/// Where [`CsvParser::boundary`] found the end of the records in a buffer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Boundary {
    /// End (exclusive) of the last complete record, if any.
    pub last: Option<usize>,
    /// End of the first complete record, if any.
    pub first: Option<usize>,
}

impl CsvParser {
    /// A parser for `delimiter`.
    pub fn new(delimiter: u8) -> Self {
        let mut p = CsvParser {
            core: csv_core::ReaderBuilder::new().delimiter(delimiter).build(),
            check: csv_core::ReaderBuilder::new().delimiter(delimiter).build(),
            delimiter,
            scratch: vec![0; 4096],
            scratch_ends: vec![0; 64],
        };
        p.restart();
        p
    }

    /// The field delimiter.
    pub fn delimiter(&self) -> u8 {
        self.delimiter
    }

    /// Puts the parser at the start of a record, as at the start of a chunk.
    pub fn restart(&mut self) {
        self.core.reset();
        // csv_core strips a BOM on a reader's first read; a blank line is a
        // no-op read at a record start that marks the reader as started.
        let _ = self
            .core
            .read_record(b"\n", &mut self.scratch, &mut self.scratch_ends);
    }

    /// Reads the record starting at `input[*pos..]` into `rec`, advancing
    /// `pos`. `input` must hold whole records (a chunk, or the rest of a
    /// file): its end is the end of the last record. Returns false when no
    /// record is left; call [`restart`](Self::restart) before the next input.
    ///
    /// # Errors
    /// [`MalformedQuote`] for a record with text between a closing quote and
    /// the next delimiter (`"ok,"010-1234-5678`): csv_core keeps such text in
    /// the quoted field, which moves a value into the column before it, so
    /// deid refuses the record instead (RFC 4180 forbids it too).
    ///
    /// # Example
    /// ```
    /// use deid::io::record::{CsvParser, CsvRecord};
    /// let mut p = CsvParser::new(b',');
    /// let mut rec = CsvRecord::new();
    /// let input = b"a,\"b,c\"\n\"x\"y,z\n";
    /// let mut pos = 0;
    /// assert!(p.read(input, &mut pos, &mut rec).unwrap());
    /// assert_eq!(rec.get(1), Some(&b"b,c"[..]));
    /// assert!(p.read(input, &mut pos, &mut rec).is_err());
    /// ```
    pub fn read(
        &mut self,
        input: &[u8],
        pos: &mut usize,
        rec: &mut CsvRecord,
    ) -> Result<bool, MalformedQuote> {
        let start = *pos;
        let found = self.read_lenient(input, pos, rec);
        if found {
            let raw = input.get(start..*pos).unwrap_or_default();
            if memchr::memchr(b'"', raw).is_some() && !self.quoting_ok(raw) {
                return Err(MalformedQuote);
            }
        }
        Ok(found)
    }

    /// Whether every quoted field of one record's raw bytes closes right
    /// before a delimiter or the record's end. csv_core's own field reader
    /// splits the record; a quoted field is well formed exactly when its raw
    /// text is the opening quote, its content with each `"` doubled, and the
    /// closing quote, so its length is the content's plus two plus the
    /// content's quotes, and it ends with a quote.
    fn quoting_ok(&mut self, raw: &[u8]) -> bool {
        // csv_core skips blank lines before a record; so does the check.
        let skip = raw
            .iter()
            .position(|&b| b != b'\n' && b != b'\r')
            .unwrap_or(raw.len());
        let raw = &raw[skip..];
        self.check.reset();
        let mut pos = 0;
        loop {
            let start = pos;
            let (mut out, mut quotes) = (0usize, 0usize);
            loop {
                let (res, nin, nout) = self.check.read_field(&raw[pos..], &mut self.scratch);
                pos += nin;
                out += nout;
                quotes += memchr::memchr_iter(b'"', &self.scratch[..nout]).count();
                match res {
                    csv_core::ReadFieldResult::InputEmpty
                    | csv_core::ReadFieldResult::OutputFull => {}
                    csv_core::ReadFieldResult::End => return true,
                    csv_core::ReadFieldResult::Field { record_end } => {
                        let mut field = &raw[start..pos];
                        if record_end {
                            while let [rest @ .., b'\n' | b'\r'] = field {
                                field = rest;
                            }
                        } else if let [rest @ .., last] = field {
                            if *last == self.delimiter {
                                field = rest;
                            }
                        }
                        if field.first() == Some(&b'"')
                            && (field.len() < 2
                                || field.last() != Some(&b'"')
                                || field.len() != out + 2 + quotes)
                        {
                            return false;
                        }
                        if record_end {
                            return true;
                        }
                        break;
                    }
                }
            }
        }
    }

    fn read_lenient(&mut self, input: &[u8], pos: &mut usize, rec: &mut CsvRecord) -> bool {
        if rec.data.is_empty() {
            rec.data.resize(256, 0);
        }
        if rec.ends.is_empty() {
            rec.ends.resize(16, 0);
        }
        rec.fields = 0;
        let (mut outlen, mut endlen) = (0, 0);
        loop {
            let rest = input.get(*pos..).unwrap_or_default();
            let (res, nin, nout, nend) =
                self.core
                    .read_record(rest, &mut rec.data[outlen..], &mut rec.ends[endlen..]);
            *pos += nin;
            outlen += nout;
            endlen += nend;
            match res {
                // An empty slice tells csv_core the input has ended; it then
                // finishes the last record or says End.
                ReadRecordResult::InputEmpty => {}
                ReadRecordResult::OutputFull => {
                    let n = rec.data.len() * 2;
                    rec.data.resize(n, 0);
                }
                ReadRecordResult::OutputEndsFull => {
                    let n = rec.ends.len() * 2;
                    rec.ends.resize(n, 0);
                }
                ReadRecordResult::Record => {
                    rec.fields = endlen;
                    return true;
                }
                ReadRecordResult::End => return false,
            }
        }
    }

    /// Finds record ends in `buf`, which starts at a record start. With
    /// `at_eof`, the end of `buf` is the end of the input, and a quoted field
    /// still open there is reported as `Err(())`.
    ///
    /// Without a quote byte every CR or LF ends a record (or is a blank
    /// line), so the common case is a backward search; otherwise csv_core
    /// runs up to the last quote, after which the same holds.
    pub(crate) fn boundary(&mut self, buf: &[u8], want_first: bool) -> Boundary {
        let term = |b: &[u8]| memchr::memrchr2(b'\n', b'\r', b).map(|i| i + 1);
        let last_quote = memchr::memrchr(b'"', buf);
        if last_quote.is_none() && !want_first {
            return Boundary {
                last: term(buf),
                first: None,
            };
        }
        let scan_to = last_quote.map_or(0, |q| q + 1);
        self.restart();
        let (mut pos, mut first, mut last) = (0usize, None, None);
        while pos < buf.len() && (last.unwrap_or(0) < scan_to || (want_first && first.is_none())) {
            let (res, nin, _, _) =
                self.core
                    .read_record(&buf[pos..], &mut self.scratch, &mut self.scratch_ends);
            pos += nin;
            match res {
                ReadRecordResult::Record => {
                    first.get_or_insert(pos);
                    last = Some(pos);
                }
                ReadRecordResult::OutputFull | ReadRecordResult::OutputEndsFull => {}
                ReadRecordResult::InputEmpty | ReadRecordResult::End => break,
            }
        }
        if let Some(end) = last.filter(|&e| e >= scan_to) {
            // Past the last quote: the last terminator ends the last record.
            last = Some(term(&buf[end..]).map_or(end, |i| end + i));
        }
        self.restart();
        Boundary { last, first }
    }

    /// Whether `buf` (whole records up to the end of the input, starting at
    /// a record start) ends inside a quoted field.
    pub(crate) fn ends_in_quote(&mut self, buf: &[u8]) -> bool {
        if memchr::memchr(b'"', buf).is_none() {
            return false;
        }
        self.restart();
        let (mut pos, mut last) = (0usize, 0usize);
        while pos < buf.len() {
            let (res, nin, _, _) =
                self.core
                    .read_record(&buf[pos..], &mut self.scratch, &mut self.scratch_ends);
            pos += nin;
            match res {
                ReadRecordResult::Record => last = pos,
                ReadRecordResult::OutputFull | ReadRecordResult::OutputEndsFull => {}
                ReadRecordResult::InputEmpty | ReadRecordResult::End => break,
            }
        }
        let open = if buf[last..].iter().all(|&b| b == b'\n' || b == b'\r') {
            false // nothing after the last record but blank lines
        } else {
            // A record is in progress. A newline ends it unless a quoted
            // field is open, where it becomes part of the field.
            let (res, ..) = self
                .core
                .read_record(b"\n", &mut self.scratch, &mut self.scratch_ends);
            res != ReadRecordResult::Record
        };
        self.restart();
        open
    }
}

/// Writes CSV records straight into a byte buffer: the bytes of
/// `csv::Writer` with its defaults and this delimiter (`QuoteStyle::Necessary`,
/// `"` doubled inside quotes, `\n` after each record, and `""` for a record
/// with no bytes), without the writer's own buffer and copy.
///
/// A field is quoted when it holds the delimiter, `"`, CR or LF, as the
/// `csv` crate decides; the check reads eight bytes at a time, which
/// matters for the long tokens a policy writes.
///
/// # Example
/// ```
/// use deid::io::record::CsvWriter;
/// let mut out = Vec::new();
/// let mut w = CsvWriter::new(b',');
/// w.field(&mut out, b"a,b");
/// w.field(&mut out, b"5'11\"");
/// w.end_record(&mut out);
/// assert_eq!(out, b"\"a,b\",\"5'11\"\"\"\n");
/// ```
#[derive(Clone, Debug)]
pub struct CsvWriter {
    delimiter: u8,
    /// Fields written in the current record.
    fields: usize,
    /// Whether the current record has written any byte yet.
    wrote: bool,
}

impl CsvWriter {
    /// A writer for fields separated by `delimiter`.
    pub fn new(delimiter: u8) -> Self {
        CsvWriter {
            delimiter,
            fields: 0,
            wrote: false,
        }
    }

    /// Appends one field of the current record to `out`.
    #[inline]
    pub fn field(&mut self, out: &mut Vec<u8>, value: &[u8]) {
        if self.fields > 0 {
            out.push(self.delimiter);
        }
        self.fields += 1;
        self.wrote |= self.fields > 1 || !value.is_empty();
        if needs_quotes(value, self.delimiter) {
            quoted(out, value);
        } else {
            out.extend_from_slice(value);
        }
    }

    /// Appends one field whose bytes `write` appends to `out` (a transform
    /// writing straight into the record), quoted afterwards if they need
    /// it: the bytes [`CsvWriter::field`] writes for them. `unquoted`: the
    /// caller knows they never hold the delimiter, `"`, CR or LF (tokens
    /// under a delimiter outside their alphabet), and they are not looked
    /// at. On an error the record is unfinished: the caller truncates `out`
    /// to where the record began and calls [`CsvWriter::discard_record`].
    ///
    /// # Errors
    /// The error of `write`.
    #[inline]
    pub fn field_with<E>(
        &mut self,
        out: &mut Vec<u8>,
        unquoted: bool,
        write: impl FnOnce(&mut Vec<u8>) -> Result<(), E>,
    ) -> Result<(), E> {
        if self.fields > 0 {
            out.push(self.delimiter);
        }
        let start = out.len();
        write(out)?;
        self.fields += 1;
        self.wrote |= self.fields > 1 || out.len() > start;
        debug_assert!(!unquoted || !needs_quotes(&out[start..], self.delimiter));
        if !unquoted && needs_quotes(&out[start..], self.delimiter) {
            let value = out.split_off(start);
            quoted(out, &value);
        }
        Ok(())
    }

    /// Forgets the fields of the current record, for a caller that has
    /// truncated its output to where the record began.
    #[inline]
    pub fn discard_record(&mut self) {
        self.fields = 0;
        self.wrote = false;
    }

    /// Appends one field the caller knows needs no quotes: non-empty, and
    /// holding no delimiter, `"`, CR or LF (a pseudonym or token when the
    /// delimiter is outside its alphabet). What [`CsvWriter::field`] would
    /// write, without looking at the bytes.
    #[inline]
    pub fn field_unquoted(&mut self, out: &mut Vec<u8>, value: &[u8]) {
        debug_assert!(!value.is_empty() && !needs_quotes(value, self.delimiter));
        if self.fields > 0 {
            out.push(self.delimiter);
        }
        self.fields += 1;
        self.wrote = true;
        out.extend_from_slice(value);
    }

    /// Ends the current record.
    #[inline]
    pub fn end_record(&mut self, out: &mut Vec<u8>) {
        // An empty line would read back as no record at all (readers skip
        // blank lines): the csv crate writes a record of no bytes, no
        // field or one empty one, as "".
        if !self.wrote {
            out.extend_from_slice(b"\"\"");
        }
        out.push(b'\n');
        self.fields = 0;
        self.wrote = false;
    }

    /// Appends a whole record of `fields` to `out`.
    pub fn record<I>(&mut self, out: &mut Vec<u8>, fields: I)
    where
        I: IntoIterator,
        I::Item: AsRef<[u8]>,
    {
        for value in fields {
            self.field(out, value.as_ref());
        }
        self.end_record(out);
    }
}

/// Appends `value` in quotes, its quotes doubled.
fn quoted(out: &mut Vec<u8>, value: &[u8]) {
    out.reserve(value.len() + 2);
    out.push(b'"');
    for piece in value.split_inclusive(|&b| b == b'"') {
        out.extend_from_slice(piece);
        if piece.last() == Some(&b'"') {
            out.push(b'"');
        }
    }
    out.push(b'"');
}

/// Whether `value` holds `delimiter`, `"`, CR or LF: the bytes after which
/// the `csv` crate's writer quotes a field. Whole 64-bit words are tested
/// for the four bytes at once (a word has a zero byte exactly when
/// `(w - 0x01..01) & !w & 0x80..80` is not zero), the last word overlapping
/// the one before it; a per-call `memchr` costs more than this on the
/// short fields most columns hold.
#[inline]
fn needs_quotes(value: &[u8], delimiter: u8) -> bool {
    const LO: u64 = 0x0101_0101_0101_0101;
    const HI: u64 = 0x8080_8080_8080_8080;
    let has = |w: u64| {
        let zero = |v: u64| v.wrapping_sub(LO) & !v & HI;
        zero(w ^ (LO * u64::from(delimiter)))
            | zero(w ^ (LO * u64::from(b'"')))
            | zero(w ^ (LO * u64::from(b'\n')))
            | zero(w ^ (LO * u64::from(b'\r')))
            != 0
    };
    let word = |b: &[u8]| {
        let mut w = [0u8; 8];
        w.copy_from_slice(&b[..8]);
        u64::from_le_bytes(w)
    };
    let n = value.len();
    if n >= 8 {
        let mut words = value.chunks_exact(8);
        words.any(|c| has(word(c))) || (!words.remainder().is_empty() && has(word(&value[n - 8..])))
    } else if n >= 4 {
        let half = |b: &[u8]| {
            let mut w = [0u8; 4];
            w.copy_from_slice(&b[..4]);
            u64::from(u32::from_le_bytes(w))
        };
        // Two overlapping halves: every byte is in one of them.
        has(half(value) | half(&value[n - 4..]) << 32)
    } else {
        value
            .iter()
            .any(|&b| b == delimiter || b == b'"' || b == b'\n' || b == b'\r')
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::string::String;

    fn records(input: &[u8]) -> Vec<Vec<String>> {
        let mut p = CsvParser::new(b',');
        let mut rec = CsvRecord::new();
        let mut pos = 0;
        let mut out = Vec::new();
        while p.read(input, &mut pos, &mut rec).unwrap() {
            out.push(
                rec.iter()
                    .map(|f| String::from_utf8_lossy(f).into_owned())
                    .collect(),
            );
        }
        out
    }

    fn csv_crate(input: &[u8]) -> Vec<Vec<String>> {
        let mut r = csv::ReaderBuilder::new()
            .has_headers(false)
            .flexible(true)
            .from_reader(input);
        r.byte_records()
            .map(|r| {
                r.unwrap()
                    .iter()
                    .map(|f| String::from_utf8_lossy(f).into_owned())
                    .collect()
            })
            .collect()
    }

    #[test]
    fn same_records_as_the_csv_crate() {
        for input in [
            &b"a,b\n1,\"x\ny\"\r\n2,z"[..],
            b"a,b\r1,2\r3,4\r",
            b"\n\na,b\n\n1,2\n",
            b"h\n5'11\",x\n\"q\"\"q\",y\n",
            b"",
            b"\"\"\n",
        ] {
            assert_eq!(records(input), csv_crate(input), "{input:?}");
        }
    }

    #[test]
    fn text_after_a_closing_quote_is_refused() {
        let mut p = CsvParser::new(b',');
        let mut rec = CsvRecord::new();
        for bad in [
            &b"a,\"b\"c,d\n"[..],
            b"\"ok,\"PLANT, Jr.\",y\n",
            b"\"x\"\"",
            b"\n\n\"a\" ,b\r\n",
        ] {
            p.restart();
            assert_eq!(
                p.read(bad, &mut 0, &mut rec),
                Err(MalformedQuote),
                "{bad:?}"
            );
        }
        for good in [
            &b"\"a\",\"b\"\"c\",\"\"\r\n"[..],
            b"\n\"multi\nline\"\r",
            b"5'11\",x",
            b"\"\"\"\"",
            b"a, \"b\" ",
        ] {
            p.restart();
            assert_eq!(p.read(good, &mut 0, &mut rec), Ok(true), "{good:?}");
        }
    }

    fn csv_writer_bytes(delimiter: u8, records: &[Vec<Vec<u8>>]) -> Vec<u8> {
        let mut w = csv::WriterBuilder::new()
            .delimiter(delimiter)
            .flexible(true)
            .from_writer(Vec::new());
        for r in records {
            for f in r {
                w.write_field(f).unwrap();
            }
            w.write_record(None::<&[u8]>).unwrap();
        }
        w.into_inner().unwrap()
    }

    fn ours(delimiter: u8, records: &[Vec<Vec<u8>>]) -> Vec<u8> {
        let mut out = Vec::new();
        let mut w = CsvWriter::new(delimiter);
        for r in records {
            w.record(&mut out, r);
        }
        out
    }

    /// The records `CsvParser` reads from `input`.
    fn read_back(delimiter: u8, input: &[u8]) -> Vec<Vec<Vec<u8>>> {
        let mut p = CsvParser::new(delimiter);
        let mut rec = CsvRecord::new();
        let mut pos = 0;
        let mut out = Vec::new();
        while p.read(input, &mut pos, &mut rec).unwrap() {
            out.push(rec.iter().map(<[u8]>::to_vec).collect());
        }
        out
    }

    #[test]
    fn writes_what_the_csv_crate_writes_in_the_corners() {
        let f = |s: &str| s.as_bytes().to_vec();
        let records = vec![
            vec![f("")],
            vec![],
            vec![f(""), f("")],
            vec![f("a,b"), f("\"q\""), f("x\ny"), f("cr\r"), f(" sp ")],
            vec![f("tab\there"), f("semi;colon"), f("\u{feff}bom")],
            vec![f("")],
        ];
        for d in [b',', b';', b'\t', b'|'] {
            assert_eq!(ours(d, &records), csv_writer_bytes(d, &records), "{d}");
        }
    }

    /// Each byte that needs quotes, at every position of every length up
    /// to 40, is found; no other byte value is, wherever it stands.
    /// A field written by appending its bytes is written as `field` writes
    /// it, and a discarded record leaves no trace in the next one.
    #[test]
    fn field_with_writes_what_field_writes() {
        proptest::proptest!(|(
            fields in proptest::collection::vec(proptest::collection::vec(
                proptest::sample::select(b"ab,;\"\r\n \t".to_vec()), 0..12), 0..5),
            delimiter in proptest::sample::select(b",;\t".to_vec()),
        )| {
            let (mut want, mut got) = (Vec::new(), b"x".to_vec());
            let mut w = CsvWriter::new(delimiter);
            w.record(&mut want, &fields);
            let mut g = CsvWriter::new(delimiter);
            // A record abandoned halfway, then the real one.
            g.field(&mut got, b"gone");
            g.field_with(&mut got, false, |o| -> Result<(), ()> { o.extend_from_slice(b"half"); Err(()) })
                .unwrap_err();
            got.truncate(1);
            g.discard_record();
            for f in &fields {
                g.field_with(&mut got, false, |o| -> Result<(), ()> {
                    o.extend_from_slice(f);
                    Ok(())
                })
                .unwrap();
            }
            g.end_record(&mut got);
            proptest::prop_assert_eq!(&got[1..], &want[..]);
        });
    }

    #[test]
    fn needs_quotes_finds_exactly_the_four_bytes() {
        for d in [b',', b';', b'\t', b'|'] {
            for len in 1..=40 {
                for at in 0..len {
                    for b in 0..=255u8 {
                        let mut v = vec![b'a'; len];
                        v[at] = b;
                        let want = b == d || b == b'"' || b == b'\n' || b == b'\r';
                        assert_eq!(needs_quotes(&v, d), want, "byte {b} at {at} of {len}");
                    }
                }
            }
            assert!(!needs_quotes(b"", d));
        }
    }

    proptest::proptest! {
        /// Any fields, with the bytes that need quotes over-represented,
        /// under every delimiter deid accepts: the same bytes as the csv
        /// crate's writer, and they read back as the same fields.
        #[test]
        fn writes_what_the_csv_crate_writes(
            records in proptest::collection::vec(
                proptest::collection::vec(
                    proptest::collection::vec(
                        proptest::prop_oneof![
                            proptest::sample::select(vec![b',', b'"', b'\n', b'\r', b';', b'\t', b'|', b' ', b'a']),
                            proptest::num::u8::ANY,
                        ],
                        0..40,
                    ),
                    0..5,
                ),
                0..6,
            ),
            d in proptest::sample::select(vec![b',', b';', b'\t', b'|']),
        ) {
            let written = ours(d, &records);
            proptest::prop_assert_eq!(&written, &csv_writer_bytes(d, &records));
            // A record of no fields is written as one empty field.
            let want: Vec<Vec<Vec<u8>>> = records
                .iter()
                .map(|r| if r.is_empty() { vec![Vec::new()] } else { r.clone() })
                .collect();
            proptest::prop_assert_eq!(read_back(d, &written), want);
        }
    }

    #[test]
    fn a_bom_is_kept_inside_the_input() {
        // The chunker strips the file's BOM; a parser never strips one.
        let r = records("\u{feff}x,y\n".as_bytes());
        assert_eq!(r[0][0], "\u{feff}x");
    }

    #[test]
    fn boundaries_follow_the_grammar() {
        let mut p = CsvParser::new(b',');
        // A bare quote inside an unquoted field is literal: the newline after it ends the record.
        let b = p.boundary(b"a,5'11\"\nb,c\nd", false);
        assert_eq!(b.last, Some(12));
        // A quoted newline does not end a record.
        let b = p.boundary(b"a,\"x\ny\"\nb", false);
        assert_eq!(b.last, Some(8));
        // Open quote: no boundary after it.
        let b = p.boundary(b"a,b\n\"open\nmore\n", false);
        assert_eq!(b.last, Some(4));
        // CR-only endings.
        let b = p.boundary(b"a,b\r1,2\r3", true);
        assert_eq!((b.first, b.last), (Some(4), Some(8)));
    }

    #[test]
    fn open_quote_at_end_of_input() {
        let mut p = CsvParser::new(b',');
        assert!(p.ends_in_quote(b"a,b\n1,\"open\n2,3\n"));
        assert!(p.ends_in_quote(b"a,\"x\"\"\n"));
        assert!(!p.ends_in_quote(b"a,\"x\"\n"));
        assert!(!p.ends_in_quote(b"a,\"x\""));
        assert!(!p.ends_in_quote(b"a,\"x\"\n\n\r\n"));
        assert!(!p.ends_in_quote(b"a,5\"\n"));
    }
}
