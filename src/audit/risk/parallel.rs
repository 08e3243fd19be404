//! Class sizes of a CSV file counted on several cores: the reading side of
//! the risk audit (the maths on the sizes is in `classes`).

use rustc_hash::FxHashMap;
use std::vec::Vec;

/// Class sizes of a CSV file over the columns `qi` (indices), counted on
/// `threads` cores. A reader cuts the file at record boundaries; parsers
/// hash each record's QI values (xxh3, 128 bits) and hand every hash to the
/// counter that owns its partition (by the hash's top bits), so each class
/// is counted in exactly one map and nothing is merged at the end. Exact
/// but for 128-bit hash collisions (below 10^-20 for 10^9 classes). Memory
/// follows the number of classes (about 32 bytes a class) plus the chunks
/// in flight. Returns the class sizes and the number of records.
///
/// # Errors
/// Reading failed, or a record is malformed or has fewer fields than a QI
/// index (the caller can rerun a row-by-row reader to name the row).
pub fn csv_class_sizes(
    input: &mut dyn std::io::Read,
    delimiter: u8,
    has_header: bool,
    qi: &[usize],
    threads: usize,
) -> std::io::Result<(Vec<u64>, u64)> {
    class_sizes_in_chunks(input, delimiter, has_header, qi, threads, 8 << 20)
}

fn class_sizes_in_chunks(
    input: &mut dyn std::io::Read,
    delimiter: u8,
    has_header: bool,
    qi: &[usize],
    threads: usize,
    chunk_bytes: usize,
) -> std::io::Result<(Vec<u64>, u64)> {
    use std::io::{Error, ErrorKind};
    let threads = threads.max(1);
    // Partition of a hash: its top bits, over a power of two >= threads.
    let parts = threads.next_power_of_two();
    let part_of = |h: u128| (h >> (128 - parts.trailing_zeros().max(1))) as usize % parts;
    let (tx, rx) = crossbeam_channel::bounded::<Vec<u8>>(threads * 2);
    let counters: Vec<_> = (0..parts)
        .map(|_| crossbeam_channel::bounded::<Vec<u128>>(threads * 4))
        .collect();
    let mut parsed: Vec<std::io::Result<u64>> = Vec::new();
    let mut counted: Vec<Vec<u64>> = Vec::new();
    let mut read_result: std::io::Result<()> = Ok(());
    // Fields per record: the header's (or the first record's), set by the
    // reader before any chunk is sent.
    let width = std::sync::atomic::AtomicUsize::new(0);
    std::thread::scope(|s| {
        let count_handles: Vec<_> = counters
            .iter()
            .map(|(_, crx)| {
                let crx = crx.clone();
                s.spawn(move || {
                    let mut counts: FxHashMap<u128, u32> = FxHashMap::default();
                    while let Ok(batch) = crx.recv() {
                        for h in batch {
                            *counts.entry(h).or_default() += 1;
                        }
                    }
                    counts.into_values().map(u64::from).collect::<Vec<u64>>()
                })
            })
            .collect();
        let senders: Vec<_> = counters.iter().map(|(ctx, _)| ctx.clone()).collect();
        drop(counters);
        let parse_handles: Vec<_> = (0..threads)
            .map(|_| {
                let rx = rx.clone();
                let senders = senders.clone();
                let width = &width;
                s.spawn(move || -> std::io::Result<u64> {
                    let mut rows = 0u64;
                    let mut parser = crate::io::record::CsvParser::new(delimiter);
                    let mut rec = crate::io::record::CsvRecord::new();
                    let mut key = Vec::with_capacity(256);
                    while let Ok(chunk) = rx.recv() {
                        let mut out: Vec<Vec<u128>> = (0..parts)
                            .map(|_| Vec::with_capacity(chunk.len() / 64 / parts))
                            .collect();
                        parser.restart();
                        let mut pos = 0;
                        while parser
                            .read(&chunk, &mut pos, &mut rec)
                            .map_err(|_| Error::new(ErrorKind::InvalidData, "malformed quoting"))?
                        {
                            if rec.len() != width.load(std::sync::atomic::Ordering::Acquire) {
                                return Err(Error::new(
                                    ErrorKind::InvalidData,
                                    "a row has a different number of fields than the header",
                                ));
                            }
                            key.clear();
                            for &i in qi {
                                key.extend_from_slice(rec.get(i).unwrap_or_default());
                                key.push(0x1f);
                            }
                            let h = xxhash_rust::xxh3::xxh3_128(&key);
                            out[part_of(h)].push(h);
                            rows += 1;
                        }
                        for (p, batch) in out.into_iter().enumerate() {
                            if !batch.is_empty() && senders[p].send(batch).is_err() {
                                return Err(Error::other("a counting thread stopped"));
                            }
                        }
                    }
                    Ok(rows)
                })
            })
            .collect();
        drop(senders);
        drop(rx);
        read_result = read_chunks(input, delimiter, has_header, chunk_bytes, qi, &width, &tx);
        drop(tx);
        parsed = parse_handles
            .into_iter()
            .map(|h| {
                h.join()
                    .unwrap_or_else(|_| Err(Error::other("a parsing thread failed")))
            })
            .collect();
        counted = count_handles
            .into_iter()
            .map(|h| h.join().unwrap_or_default())
            .collect();
    });
    read_result?;
    let mut rows = 0;
    for r in parsed {
        rows += r?;
    }
    let sizes: Vec<u64> = counted.into_iter().flatten().collect();
    if sizes.iter().sum::<u64>() != rows {
        return Err(Error::other("a counting thread failed"));
    }
    Ok((sizes, rows))
}

/// Sends `input` on `tx` in chunks of whole records (the input layer's
/// chunker: the same grammar, BOM rule and limits as every reader), without
/// the header; stores the number of fields per record in `width`.
fn read_chunks(
    input: &mut dyn std::io::Read,
    delimiter: u8,
    has_header: bool,
    chunk: usize,
    qi: &[usize],
    width: &std::sync::atomic::AtomicUsize,
    tx: &crossbeam_channel::Sender<Vec<u8>>,
) -> std::io::Result<()> {
    use crate::io::chunk::ChunkReader;
    use crate::io::table::Format;
    let io_error = |e: crate::io::InputErrorKind| match e {
        crate::io::InputErrorKind::Io(e) => e,
        _ => std::io::Error::new(std::io::ErrorKind::InvalidData, "malformed CSV"),
    };
    let mut reader = ChunkReader::new(input, Format::Csv, delimiter, chunk);
    let Some(first) = reader.first_record().map_err(io_error)? else {
        return Ok(());
    };
    let mut rec = crate::io::record::CsvRecord::new();
    let found = crate::io::record::CsvParser::new(delimiter)
        .read(&first, &mut 0, &mut rec)
        .map_err(|_| std::io::Error::new(std::io::ErrorKind::InvalidData, "malformed quoting"))?;
    if !found {
        return Ok(()); // blank lines only: no records, as for an empty input
    }
    let invalid = |m: &str| std::io::Error::new(std::io::ErrorKind::InvalidData, m);
    if qi.iter().any(|&i| i >= rec.len()) {
        return Err(invalid("a quasi-identifier index is past the last column"));
    }
    if has_header {
        // The header rules of every reader: UTF-8 names, no duplicates.
        let names = rec
            .iter()
            .map(|h| std::str::from_utf8(h).map(std::string::ToString::to_string))
            .collect::<Result<Vec<_>, _>>()
            .map_err(|_| invalid("the header is not valid UTF-8"))?;
        crate::io::error::check_unique_columns(&names)
            .map_err(|_| invalid("two columns have the same name"))?;
    }
    width.store(rec.len(), std::sync::atomic::Ordering::Release);
    if !has_header {
        reader.unread(first);
    }
    while let Some(records) = reader.next_chunk().map_err(io_error)? {
        if tx.send(records).is_err() {
            break;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::audit::risk::ClassCounter;
    use std::format;
    use std::string::{String, ToString};
    use std::vec::Vec;

    #[test]
    fn parallel_sizes_equal_the_streaming_counter_across_chunk_cuts() {
        // Quoted delimiters, quoted newlines, CRLF, a header with a quote,
        // and chunks cut every few dozen bytes.
        let mut text = String::from("\"id\",zip,\"note\"\r\n");
        let mut rows: Vec<[String; 3]> = Vec::new();
        for i in 0..500u32 {
            let zip = format!("{}", 100 + (i * 7) % 13);
            let note = match i % 4 {
                0 => "plain".to_string(),
                1 => "\"with, comma\"".to_string(),
                2 => "\"two\nlines\"".to_string(),
                _ => "\"say \"\"hi\"\"\"".to_string(),
            };
            text.push_str(&format!("{i},{zip},{note}\r\n"));
            let plain = note.trim_matches('"').replace("\"\"", "\"");
            rows.push([i.to_string(), zip, plain]);
        }
        let mut c = ClassCounter::new(2, false);
        for r in &rows {
            c.add(&[r[1].as_bytes(), r[2].as_bytes()], None);
        }
        let mut want = c.class_sizes();
        want.sort_unstable();
        /// Hands out at most 7 bytes a read, so chunks end mid-record and
        /// mid-quote and must be cut back to a record boundary.
        struct Trickle<'a>(&'a [u8]);
        impl std::io::Read for Trickle<'_> {
            fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
                let n = buf.len().min(7).min(self.0.len());
                buf[..n].copy_from_slice(&self.0[..n]);
                self.0 = &self.0[n..];
                Ok(n)
            }
        }
        for (threads, chunk) in [(1, 1 << 20), (2, 37), (3, 64), (4, 200)] {
            let mut input = Trickle(text.as_bytes());
            let (mut got, n) =
                class_sizes_in_chunks(&mut input, b',', true, &[1, 2], threads, chunk).unwrap();
            got.sort_unstable();
            assert_eq!(n, 500, "threads {threads}, chunk {chunk}");
            assert_eq!(got, want, "threads {threads}, chunk {chunk}");
        }
        // A short row is an error (the CLI then names it with the slow reader).
        let bad = "a,b\n1,2\n3\n";
        assert!(class_sizes_in_chunks(&mut bad.as_bytes(), b',', true, &[1], 2, 4).is_err());
    }

    /// The parallel counter reads with the same grammar as the row-by-row
    /// reader: CR-only line endings, a leading blank line, a bare quote in an
    /// unquoted field and a semicolon delimiter give the same rows and classes.
    #[test]
    fn parallel_counter_and_table_reader_agree_on_odd_csv() {
        use crate::io::table::{Format, Row, TableOptions, TableReader};
        for (text, delimiter) in [
            ("a,b\rx,1\ry,1\rx,1\r", b','),
            ("\na,b\nx,1\ny,1\nx,1\n", b','),
            ("a,b\n5'11\",1\nx,\"q\nq\"\n5'11\",1\n", b','),
            ("a;b\r\nx;1\r\ny;2\r\n", b';'),
        ] {
            let opts = TableOptions::new().delimiter(delimiter);
            let mut t = TableReader::from_reader(
                std::boxed::Box::new(std::io::Cursor::new(text.as_bytes().to_vec())),
                "t",
                Format::Csv,
                &opts,
            )
            .unwrap();
            let mut c = ClassCounter::new(2, false);
            let mut row = Row::new();
            while t.read_row(&mut row).unwrap() {
                c.add(&[row.get(0).unwrap(), row.get(1).unwrap()], None);
            }
            let mut want = c.class_sizes();
            want.sort_unstable();
            let (mut got, n) =
                class_sizes_in_chunks(&mut text.as_bytes(), delimiter, true, &[0, 1], 2, 5)
                    .unwrap();
            got.sort_unstable();
            assert_eq!(n, t.row_number(), "{text:?}");
            assert_eq!(got, want, "{text:?}");
        }
        // Blank lines only: no records, as for an empty input.
        assert_eq!(
            class_sizes_in_chunks(&mut &b"\n\r\n"[..], b',', true, &[0], 2, 5).unwrap(),
            (Vec::new(), 0)
        );
        // A quote never closed is an error for both.
        let open = "a,b\nx,\"1\ny,2\n";
        assert!(class_sizes_in_chunks(&mut open.as_bytes(), b',', true, &[0, 1], 2, 5).is_err());
    }
}
