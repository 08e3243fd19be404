//! Cutting an input into runs of whole records, for every reader.
//!
//! [`ChunkReader`] is the only place where deid decides where a record ends:
//! for CSV it asks [`CsvParser`](super::record::CsvParser), the same
//! `csv_core` grammar that parses the records afterwards; for JSON Lines a
//! record is a line (JSON text cannot hold a raw newline). It also owns the
//! two rules that must hold once per file, not once per chunk: a UTF-8 BOM is
//! removed only from the file's first bytes, and a quoted field still open at
//! the end of the input is an error, never a silently swallowed tail.

use std::io::Read;
use std::vec::Vec;

use super::error::InputErrorKind;
use super::record::CsvParser;
use super::table::Format;

/// Largest single record accepted by default (a guard against unbounded
/// memory on a file with a quote that is never closed).
pub const MAX_RECORD_BYTES: usize = 64 << 20;

/// Cuts a byte stream into chunks that end at record boundaries.
pub(crate) struct ChunkReader<R> {
    input: R,
    format: Format,
    parser: CsvParser,
    target: usize,
    max_record: usize,
    buf: Vec<u8>,
    eof: bool,
    started: bool,
    bytes: u64,
}

impl<R: Read> ChunkReader<R> {
    /// Chunks of about `target` bytes; `delimiter` is CSV's.
    pub(crate) fn new(input: R, format: Format, delimiter: u8, target: usize) -> Self {
        ChunkReader {
            input,
            format,
            parser: CsvParser::new(delimiter),
            target: target.max(1),
            max_record: MAX_RECORD_BYTES,
            buf: Vec::new(),
            eof: false,
            started: false,
            bytes: 0,
        }
    }

    /// Sets the longest record accepted.
    pub(crate) fn max_record(mut self, bytes: usize) -> Self {
        self.max_record = bytes.max(1);
        self
    }

    /// Bytes read from the input so far (the BOM included).
    pub(crate) fn bytes_read(&self) -> u64 {
        self.bytes
    }

    fn fill(&mut self, want: usize) -> Result<(), InputErrorKind> {
        // Room for all of `want` at once, read straight into it: no copy
        // through a stack buffer, and no copies as the buffer doubles.
        self.buf.reserve(want.saturating_sub(self.buf.len()));
        // One pass fills to `want` or the end of input; a second follows
        // only when the first removed a byte order mark.
        while self.buf.len() < want && !self.eof {
            let room = want - self.buf.len();
            // `read_to_end` on `take(room)` reads until `room` bytes are in
            // or the input ends (it retries interrupted reads itself).
            match (&mut self.input)
                .take(room as u64)
                .read_to_end(&mut self.buf)
            {
                Ok(n) => {
                    self.bytes += n as u64;
                    self.eof = n < room;
                }
                Err(e) => return Err(InputErrorKind::Io(e)),
            }
            if !self.started && (self.buf.len() >= 3 || self.eof) {
                // Only the file's first bytes may be a byte order mark.
                if self.buf.starts_with(b"\xEF\xBB\xBF") {
                    self.buf.drain(..3);
                }
                self.started = true;
            }
        }
        Ok(())
    }

    /// End of the last complete record in `buf`, or of the first one.
    fn boundary(&mut self, first: bool) -> Option<usize> {
        match self.format {
            Format::Jsonl | Format::Parquet => {
                let nl = if first {
                    memchr::memchr(b'\n', &self.buf)
                } else {
                    memchr::memrchr(b'\n', &self.buf)
                };
                nl.map(|i| i + 1)
            }
            Format::Csv => {
                let b = self.parser.boundary(&self.buf, first);
                if first { b.first } else { b.last }
            }
        }
    }

    fn too_long(&self) -> InputErrorKind {
        InputErrorKind::RecordTooLong {
            limit: self.max_record,
        }
    }

    /// Takes the first record (CSV) or line (JSON Lines) off the stream:
    /// `None` on an empty input.
    ///
    /// # Errors
    /// I/O, a record over the limit, or a quote open at the end of input.
    pub(crate) fn first_record(&mut self) -> Result<Option<Vec<u8>>, InputErrorKind> {
        let mut want = self.target.min(64 * 1024);
        loop {
            self.fill(want)?;
            if let Some(end) = self.boundary(true) {
                return Ok(Some(self.buf.drain(..end).collect()));
            }
            if self.eof {
                return self.take_last();
            }
            if self.buf.len() > self.max_record {
                return Err(self.too_long());
            }
            want = self.buf.len() * 2;
        }
    }

    /// Puts a record back at the front of the stream.
    pub(crate) fn unread(&mut self, record: Vec<u8>) {
        let mut v = record;
        v.extend_from_slice(&self.buf);
        self.buf = v;
    }

    /// The next run of whole records, about `target` bytes long; `None` at
    /// the end of input.
    ///
    /// # Errors
    /// I/O, a record over the limit, or a quote open at the end of input.
    pub(crate) fn next_chunk(&mut self) -> Result<Option<Vec<u8>>, InputErrorKind> {
        let mut want = self.target;
        loop {
            self.fill(want)?;
            if self.eof {
                return self.take_last();
            }
            if let Some(end) = self.boundary(false) {
                let rest = self.buf.split_off(end);
                return Ok(Some(core::mem::replace(&mut self.buf, rest)));
            }
            if self.buf.len() > self.max_record {
                return Err(self.too_long());
            }
            want = self.buf.len() * 2;
        }
    }

    /// The rest of the input, once it is all read.
    fn take_last(&mut self) -> Result<Option<Vec<u8>>, InputErrorKind> {
        if self.buf.is_empty() {
            return Ok(None);
        }
        if self.format == Format::Csv && self.parser.ends_in_quote(&self.buf) {
            return Err(InputErrorKind::UnterminatedQuote);
        }
        if self.buf.len() > self.max_record && self.boundary(false).is_none() {
            return Err(self.too_long());
        }
        Ok(Some(core::mem::take(&mut self.buf)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::string::String;

    fn chunks(input: &[u8], target: usize) -> Result<Vec<String>, InputErrorKind> {
        let mut r = ChunkReader::new(input, Format::Csv, b',', target);
        let mut out = Vec::new();
        while let Some(c) = r.next_chunk()? {
            out.push(String::from_utf8(c).unwrap());
        }
        Ok(out)
    }

    #[test]
    fn chunks_end_at_records_and_rejoin_to_the_input() {
        let mut input = String::new();
        for i in 0..2000 {
            input.push_str(&std::format!("{i},5'11\",\"multi\nline {i}\"\r\n"));
        }
        let c = chunks(input.as_bytes(), 4096).unwrap();
        assert!(c.len() > 10);
        assert!(c.concat() == input);
        // Each chunk parsed on its own gives the records the csv crate reads
        // from the whole input (a cut between CR and LF leaves a blank line).
        let mut parser = CsvParser::new(b',');
        let mut rec = crate::io::record::CsvRecord::new();
        let mut ours = Vec::new();
        for chunk in &c {
            parser.restart();
            let mut pos = 0;
            while parser.read(chunk.as_bytes(), &mut pos, &mut rec).unwrap() {
                ours.push(rec.iter().map(<[u8]>::to_vec).collect::<Vec<_>>());
            }
        }
        let theirs: Vec<Vec<Vec<u8>>> = csv::ReaderBuilder::new()
            .has_headers(false)
            .from_reader(input.as_bytes())
            .byte_records()
            .map(|r| r.unwrap().iter().map(<[u8]>::to_vec).collect())
            .collect();
        assert_eq!(ours.len(), 2000);
        assert!(ours == theirs);
    }

    #[test]
    fn open_quote_at_the_end_is_an_error() {
        let err = chunks(b"a,b\n1,\"never closed\n2,3\n", 4096).unwrap_err();
        assert!(matches!(err, InputErrorKind::UnterminatedQuote));
    }

    #[test]
    fn long_record_is_refused() {
        let mut input = b"a\n\"".to_vec();
        input.resize(10_000, b'x');
        let mut r = ChunkReader::new(&input[..], Format::Csv, b',', 4096).max_record(5000);
        r.first_record().unwrap();
        assert!(matches!(
            r.next_chunk(),
            Err(InputErrorKind::RecordTooLong { limit: 5000 })
        ));
    }

    /// Gives at most 7 bytes a read and fails every third read with
    /// `Interrupted` (as a pipe or a signal would), or with `Other` once
    /// `fail_at` bytes are out.
    struct Trickle<'a> {
        data: &'a [u8],
        calls: usize,
        fail_at: Option<usize>,
        out: usize,
    }

    impl Read for Trickle<'_> {
        fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
            self.calls += 1;
            if self.calls.is_multiple_of(3) {
                return Err(std::io::ErrorKind::Interrupted.into());
            }
            if self.fail_at.is_some_and(|f| self.out >= f) {
                return Err(std::io::Error::other("disk gone"));
            }
            let n = buf.len().min(7).min(self.data.len());
            buf[..n].copy_from_slice(&self.data[..n]);
            self.data = &self.data[n..];
            self.out += n;
            Ok(n)
        }
    }

    #[test]
    fn short_and_interrupted_reads_lose_nothing() {
        let mut input = String::from("\u{feff}h,v\n");
        for i in 0..3000 {
            input.push_str(&std::format!("{i},\"x\ny {i}\"\n"));
        }
        let trickle = Trickle {
            data: input.as_bytes(),
            calls: 0,
            fail_at: None,
            out: 0,
        };
        let mut r = ChunkReader::new(trickle, Format::Csv, b',', 1000);
        let mut got = r.first_record().unwrap().unwrap();
        let mut n = 0;
        while let Some(c) = r.next_chunk().unwrap() {
            got.extend_from_slice(&c);
            n += 1;
        }
        assert!(n > 10);
        assert_eq!(got, input.as_bytes()[3..], "the BOM goes, nothing else");
        assert_eq!(r.bytes_read(), input.len() as u64);

        let failing = Trickle {
            data: input.as_bytes(),
            calls: 0,
            fail_at: Some(5000),
            out: 0,
        };
        let mut r = ChunkReader::new(failing, Format::Csv, b',', 1000);
        r.first_record().unwrap();
        let err = loop {
            match r.next_chunk() {
                Ok(Some(_)) => {}
                Ok(None) => panic!("a read error must not look like the end of input"),
                Err(e) => break e,
            }
        };
        assert!(matches!(err, InputErrorKind::Io(_)));
    }

    #[test]
    fn only_the_first_bytes_are_a_bom() {
        let mut r = ChunkReader::new("\u{feff}h\n\u{feff}x\n".as_bytes(), Format::Csv, b',', 4096);
        assert_eq!(r.first_record().unwrap().unwrap(), b"h\n");
        assert_eq!(
            r.next_chunk().unwrap().unwrap(),
            "\u{feff}x\n".as_bytes().to_vec()
        );
    }
}
