//! Helpers shared by the fuzz targets: the fixture keyset, a pipeline run at
//! a given chunking, and the `csv` crate as the grammar oracle.

use std::io::{Cursor, Read};

use deid::io::InputError;
use deid::io::pipeline::{PipelineOptions, Summary, run};
use deid::io::table::Format;
use deid::key::Keyset;
use deid::policy::Policy;

/// The test fixture keyset (a known key).
pub const KEYS: &str = include_str!("../../tests/fixtures/keys.json");

/// The known keyset.
pub fn keys() -> Keyset {
    Keyset::from_json(KEYS).expect("the fixture keyset parses")
}

/// Hands out at most `step` bytes a read.
struct Trickle(Cursor<Vec<u8>>, usize);

impl Read for Trickle {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = buf.len().min(self.1);
        self.0.read(&mut buf[..n])
    }
}

/// Runs the pipeline with the smallest chunks the options allow (`small`)
/// or the default ones, on `threads` workers.
pub fn apply(
    policy: &Policy,
    format: Format,
    input: &[u8],
    small: bool,
    threads: usize,
) -> Result<(Vec<u8>, Summary), InputError> {
    let mut opts = PipelineOptions::new().format(format).threads(threads);
    if small {
        opts = opts.chunk_bytes(0);
    }
    let mut out = Vec::new();
    let summary = run(
        policy,
        &keys(),
        Box::new(Trickle(Cursor::new(input.to_vec()), 997)),
        "fuzz",
        &mut out,
        &opts,
        &mut |_| {},
    )?;
    Ok((out, summary))
}

/// Runs at (smallest chunks, 1 thread), (smallest, 2), (default, 1) and
/// asserts the runs agree: all fail, or all write the same bytes.
pub fn apply_everywhere(
    policy: &Policy,
    format: Format,
    input: &[u8],
) -> Option<(Vec<u8>, Summary)> {
    let runs = [(true, 1), (true, 2), (false, 1)];
    let mut first: Option<Result<(Vec<u8>, Summary), InputError>> = None;
    for (small, threads) in runs {
        let got = apply(policy, format, input, small, threads);
        match &first {
            None => first = Some(got),
            Some(Ok((a, _))) => match &got {
                Ok((b, _)) => assert!(a == b, "output depends on chunking ({small}, {threads})"),
                Err(e) => panic!("fails only at ({small}, {threads}): {e}"),
            },
            Some(Err(e)) => {
                assert!(
                    got.is_err(),
                    "succeeds only at ({small}, {threads}); first run: {e}"
                )
            }
        }
    }
    first.and_then(Result::ok)
}

/// `v` is what `pseudonymize` writes by default: 32 lowercase hex digits.
pub fn is_hex_pseudonym(v: &[u8]) -> bool {
    v.len() == 32
        && v.iter()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(b))
}

/// The header and records the `csv` crate reads (its default, strict
/// settings), or its error.
pub fn csv_read(input: &[u8]) -> Result<(csv::ByteRecord, Vec<csv::ByteRecord>), csv::Error> {
    let mut rdr = csv::ReaderBuilder::new()
        .has_headers(true)
        .from_reader(input);
    let header = rdr.byte_headers()?.clone();
    let records = rdr.byte_records().collect::<Result<Vec<_>, _>>()?;
    Ok((header, records))
}

/// Whether the input ends inside a quoted field, as `csv_core` reads it: a
/// sentinel record appended after a newline stays a record of its own only
/// if no quote is open.
pub fn ends_in_open_quote(input: &[u8]) -> bool {
    const SENTINEL: &[u8] = b"\x01sentinel";
    let mut data = input.to_vec();
    data.push(b'\n');
    data.extend_from_slice(SENTINEL);
    let mut rdr = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(&data[..]);
    let mut last = None;
    for r in rdr.byte_records() {
        match r {
            Ok(r) => last = Some(r),
            Err(_) => return false,
        }
    }
    match last {
        Some(r) => !(r.len() == 1 && &r[0] == SENTINEL),
        None => true,
    }
}

/// Whether a header names a column twice.
pub fn has_duplicates(header: &csv::ByteRecord) -> bool {
    let mut seen: Vec<&[u8]> = header.iter().collect();
    seen.sort_unstable();
    seen.windows(2).any(|w| w[0] == w[1])
}
