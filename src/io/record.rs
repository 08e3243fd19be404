//! CSV records as `csv_core` parses them: the one CSV grammar of deid.
//!
//! Every reader (the pipeline's workers, the chunker that finds record
//! boundaries, [`TableReader`](super::table::TableReader) behind `scan` and
//! the audits, the parallel class counter) parses CSV with a
//! [`CsvParser`], so what `scan` sees is what `apply` transforms. The
//! configuration is the `csv` crate's default: `"` quotes, `""` escapes,
//! CR, LF and CRLF end records, blank lines are skipped.
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
