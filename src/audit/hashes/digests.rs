//! What a hashed column holds: how its digests are written (hex or
//! base64, either case) and the distinct digests to search for, collected
//! value by value by [`ColumnTargets`].

use std::collections::HashMap;
use std::string::{String, ToString};
use std::vec::Vec;

use serde::Serialize;

/// How digests are written in the column.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum DigestEncoding {
    /// Lowercase hexadecimal.
    HexLower,
    /// Uppercase hexadecimal.
    HexUpper,
    /// Hexadecimal in mixed case.
    HexMixed,
    /// Standard base64 (`+/`, padded or not).
    Base64,
    /// URL-safe base64 (`-_`, padded or not).
    Base64Url,
}

impl DigestEncoding {
    /// Guesses the encoding of one value.
    fn guess(v: &[u8]) -> Option<DigestEncoding> {
        if v.is_empty() {
            return None;
        }
        if v.len().is_multiple_of(2) && v.iter().all(u8::is_ascii_hexdigit) {
            let lower = v.iter().any(|c| c.is_ascii_lowercase());
            let upper = v.iter().any(|c| c.is_ascii_uppercase());
            return Some(match (lower, upper) {
                (true, true) => DigestEncoding::HexMixed,
                (false, true) => DigestEncoding::HexUpper,
                _ => DigestEncoding::HexLower,
            });
        }
        let body = v
            .strip_suffix(b"==")
            .or_else(|| v.strip_suffix(b"="))
            .unwrap_or(v);
        if body
            .iter()
            .all(|c| c.is_ascii_alphanumeric() || *c == b'+' || *c == b'/')
        {
            return Some(DigestEncoding::Base64);
        }
        if body
            .iter()
            .all(|c| c.is_ascii_alphanumeric() || *c == b'-' || *c == b'_')
        {
            return Some(DigestEncoding::Base64Url);
        }
        None
    }

    /// Decodes a value; `None` if it is not in this encoding.
    fn decode(self, v: &[u8]) -> Option<Vec<u8>> {
        let body = v
            .strip_suffix(b"==")
            .or_else(|| v.strip_suffix(b"="))
            .unwrap_or(v);
        match self {
            DigestEncoding::HexLower | DigestEncoding::HexUpper | DigestEncoding::HexMixed => {
                data_encoding::HEXLOWER_PERMISSIVE.decode(v).ok()
            }
            DigestEncoding::Base64 => data_encoding::BASE64_NOPAD.decode(body).ok(),
            DigestEncoding::Base64Url => data_encoding::BASE64URL_NOPAD.decode(body).ok(),
        }
    }

    /// Decodes a value into `out` without allocating; the decoded length,
    /// or `None` if it is not in this encoding or longer than 64 bytes
    /// (no digest is). Agrees with [`DigestEncoding::decode`] on every
    /// value of at most 64 decoded bytes.
    fn decode_into(self, v: &[u8], out: &mut [u8; 64]) -> Option<usize> {
        let body = v
            .strip_suffix(b"==")
            .or_else(|| v.strip_suffix(b"="))
            .unwrap_or(v);
        let (enc, input) = match self {
            DigestEncoding::HexLower | DigestEncoding::HexUpper | DigestEncoding::HexMixed => {
                (&data_encoding::HEXLOWER_PERMISSIVE, v)
            }
            DigestEncoding::Base64 => (&data_encoding::BASE64_NOPAD, body),
            DigestEncoding::Base64Url => (&data_encoding::BASE64URL_NOPAD, body),
        };
        let len = enc.decode_len(input.len()).ok()?;
        enc.decode_mut(input, out.get_mut(..len)?).ok()
    }

    /// Writes a digest the way the column does.
    pub fn encode(self, d: &[u8]) -> String {
        match self {
            DigestEncoding::HexLower | DigestEncoding::HexMixed => {
                data_encoding::HEXLOWER.encode(d)
            }
            DigestEncoding::HexUpper => data_encoding::HEXUPPER.encode(d),
            DigestEncoding::Base64 => data_encoding::BASE64.encode(d),
            DigestEncoding::Base64Url => data_encoding::BASE64URL_NOPAD.encode(d),
        }
    }
}

/// Digests of one column, ready to search.
#[derive(Clone, Default)]
pub struct ColumnTargets {
    pub(super) column: String,
    pub(super) values: u64,
    pub(super) empty: u64,
    pub(super) malformed: u64,
    pub(super) encoding: Option<DigestEncoding>,
    pub(super) digest_bytes: Option<usize>,
    /// Rows per distinct digest (by its first 16 bytes), in key order.
    /// Complete once [`finish`](Self::finish)ed.
    pub(super) counts: Vec<(u128, u64)>,
    /// Keys of rows not yet in `counts`: counted by sorting a batch and
    /// merging it in, as hashing a million random keys into a table one
    /// by one cost a third of reading them, and the search wants them in
    /// order anyway.
    fresh: Vec<u128>,
    /// Keys not yet in `counts` that came with a row count
    /// ([`push_count`](Self::push_count)), merged in with `fresh`.
    weighted: Vec<(u128, u64)>,
    /// The values seen before the encoding is settled, each with its rows.
    pending: Vec<(Vec<u8>, u64)>,
}

impl std::fmt::Debug for ColumnTargets {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The digests are what an attacker reverses, and `pending` holds raw
        // values before the encoding is known: counts only.
        f.debug_struct("ColumnTargets")
            .field("column", &self.column)
            .field("values", &self.values)
            .field("empty", &self.empty)
            .field("malformed", &self.malformed)
            .field("encoding", &self.encoding)
            .field("digest_bytes", &self.digest_bytes)
            .field("counted", &self.counts.len())
            .field(
                "pending",
                &(self.pending.len() + self.fresh.len() + self.weighted.len()),
            )
            .finish()
    }
}

impl ColumnTargets {
    /// Starts collecting the digests of `column`.
    pub fn new(column: &str) -> Self {
        ColumnTargets {
            column: column.to_string(),
            ..Default::default()
        }
    }

    /// Adds one value. The first 1,000 values fix the encoding and length.
    pub fn push(&mut self, raw: &[u8]) {
        self.push_count(raw, 1);
    }

    /// Adds a value that `rows` rows hold (a distinct value and its count,
    /// as an engine's `groupBy(column).count()` gives them): the same
    /// counts as `rows` calls of [`push`](Self::push), in time and memory
    /// for one. The encoding and length are settled by the first 1,000
    /// calls, so given distinct values, by the first 1,000 distinct values
    /// whatever their counts. A value of no rows is not counted.
    pub fn push_count(&mut self, raw: &[u8], rows: u64) {
        if rows == 0 {
            return;
        }
        let v = raw.trim_ascii();
        if v.is_empty() {
            self.empty += rows;
            return;
        }
        self.values += rows;
        if self.encoding.is_none() {
            self.pending.push((v.to_vec(), rows));
            if self.pending.len() >= 1000 {
                self.settle();
            }
            return;
        }
        self.add(v, rows);
    }

    fn settle(&mut self) {
        let mut votes: HashMap<DigestEncoding, usize> = HashMap::new();
        for (v, _) in &self.pending {
            if let Some(e) = DigestEncoding::guess(v) {
                *votes.entry(e).or_default() += 1;
            }
        }
        // Hex case variants are one family.
        let hex = votes
            .iter()
            .filter(|(e, _)| {
                matches!(
                    e,
                    DigestEncoding::HexLower | DigestEncoding::HexUpper | DigestEncoding::HexMixed
                )
            })
            .map(|(_, n)| *n)
            .sum::<usize>();
        // Text of letters and digits only is both base64 flavours: one '-'
        // or '_' anywhere (and no '+' or '/') makes it base64url.
        let url_chars = self
            .pending
            .iter()
            .any(|(v, _)| v.contains(&b'-') || v.contains(&b'_'));
        let std_chars = self
            .pending
            .iter()
            .any(|(v, _)| v.contains(&b'+') || v.contains(&b'/'));
        if url_chars && !std_chars {
            let b64 = votes.remove(&DigestEncoding::Base64).unwrap_or(0);
            *votes.entry(DigestEncoding::Base64Url).or_default() += b64;
        }
        let enc = if hex * 2 >= self.pending.len() && hex > 0 {
            [
                DigestEncoding::HexLower,
                DigestEncoding::HexUpper,
                DigestEncoding::HexMixed,
            ]
            .into_iter()
            .max_by_key(|e| votes.get(e).copied().unwrap_or(0))
        } else {
            votes.iter().max_by_key(|(_, n)| **n).map(|(e, _)| *e)
        };
        let Some(enc) = enc else {
            self.malformed += self.pending.iter().map(|(_, n)| n).sum::<u64>();
            self.pending.clear();
            self.encoding = Some(DigestEncoding::HexLower);
            return;
        };
        self.encoding = Some(enc);
        let mut lens: HashMap<usize, usize> = HashMap::new();
        for (v, _) in &self.pending {
            if let Some(d) = enc.decode(v) {
                *lens.entry(d.len()).or_default() += 1;
            }
        }
        // Full digest lengths, and for hex also the prefixes of longer
        // digests real exports cut them to (16 or 32 hex characters of a
        // SHA-256, 20 of a SHA-1), down to `MIN_PREFIX_BYTES`.
        let hex = matches!(
            enc,
            DigestEncoding::HexLower | DigestEncoding::HexUpper | DigestEncoding::HexMixed
        );
        self.digest_bytes = lens
            .into_iter()
            .filter(|(l, _)| {
                [16, 20, 28, 32, 48, 64].contains(l)
                    || (hex && (super::algo::MIN_PREFIX_BYTES..64).contains(l))
            })
            .max_by_key(|(l, n)| (*n, *l))
            .map(|(l, _)| l);
        for (v, rows) in std::mem::take(&mut self.pending) {
            self.add(&v, rows);
        }
    }

    fn add(&mut self, v: &[u8], rows: u64) {
        // One value a row: decoded on the stack, as allocating a vector for
        // each cost a fifth of reading a million digests.
        let mut buf = [0u8; 64];
        let decoded = self
            .encoding
            .and_then(|e| e.decode_into(v, &mut buf))
            .filter(|&n| Some(n) == self.digest_bytes);
        match decoded {
            Some(n) => {
                let key = super::algo::digest_key(&buf[..n]);
                if rows == 1 {
                    self.fresh.push(key);
                } else {
                    self.weighted.push((key, rows));
                }
                // Memory stays within twice the distinct digests (plus a
                // batch), however many rows repeat them.
                if self.fresh.len() + self.weighted.len() >= self.counts.len().max(1 << 20) {
                    self.count_fresh();
                }
            }
            None => self.malformed += rows,
        }
    }

    /// Moves `fresh` and `weighted` into `counts`: sorted, run-length
    /// counted, merged.
    fn count_fresh(&mut self) {
        if self.fresh.is_empty() && self.weighted.is_empty() {
            return;
        }
        self.fresh.sort_unstable();
        let mut runs: Vec<(u128, u64)> = Vec::new();
        for &k in &self.fresh {
            match runs.last_mut() {
                Some((last, n)) if *last == k => *n += 1,
                _ => runs.push((k, 1)),
            }
        }
        self.fresh.clear();
        if !self.weighted.is_empty() {
            runs.append(&mut self.weighted);
            runs.sort_unstable_by_key(|&(k, _)| k);
            runs.dedup_by(|next, kept| {
                let same = next.0 == kept.0;
                if same {
                    kept.1 += next.1;
                }
                same
            });
        }
        if self.counts.is_empty() {
            self.counts = runs;
            return;
        }
        let old = std::mem::take(&mut self.counts);
        let mut merged = Vec::with_capacity(old.len() + runs.len());
        let (mut a, mut b) = (old.into_iter().peekable(), runs.into_iter().peekable());
        loop {
            let next = match (a.peek(), b.peek()) {
                (Some(&(ka, na)), Some(&(kb, nb))) => match ka.cmp(&kb) {
                    std::cmp::Ordering::Less => a.next(),
                    std::cmp::Ordering::Greater => b.next(),
                    std::cmp::Ordering::Equal => {
                        a.next();
                        b.next();
                        Some((ka, na + nb))
                    }
                },
                (Some(_), None) => a.next(),
                (None, Some(_)) => b.next(),
                (None, None) => break,
            };
            merged.extend(next);
        }
        self.counts = merged;
    }

    /// The column's name.
    pub fn column(&self) -> &str {
        &self.column
    }

    /// The digest length in bytes the values settled on, once
    /// [`finish`](Self::finish)ed; `None` when no value decodes to a digest.
    pub fn digest_bytes(&self) -> Option<usize> {
        self.digest_bytes
    }

    /// Finishes collection.
    pub fn finish(mut self) -> Self {
        if self.encoding.is_none() && !self.pending.is_empty() {
            self.settle();
        }
        self.count_fresh();
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The allocation-free decoder of the row loop agrees with the one that
    /// settles the encoding, on digests of every length, padded and not,
    /// and on values that are not digests at all.
    #[test]
    fn decode_into_agrees_with_decode() {
        let encs = [
            DigestEncoding::HexLower,
            DigestEncoding::HexUpper,
            DigestEncoding::HexMixed,
            DigestEncoding::Base64,
            DigestEncoding::Base64Url,
        ];
        let mut values: Vec<Vec<u8>> = Vec::new();
        for len in 0..=70usize {
            let d: Vec<u8> = (0..len).map(|i| (i * 37 + len * 11) as u8).collect();
            for e in encs {
                let s = e.encode(&d).into_bytes();
                values.push(s.clone());
                let mut bad = s.clone();
                bad.push(b'!');
                values.push(bad);
                values.push(s.iter().map(u8::to_ascii_uppercase).collect());
                values.push(s[..s.len() / 2].to_vec());
            }
        }
        values.extend([b"zz".to_vec(), b"=".to_vec(), b"==".to_vec(), vec![]]);
        for v in &values {
            for e in encs {
                let mut buf = [0u8; 64];
                let got = e.decode_into(v, &mut buf).map(|n| buf[..n].to_vec());
                let want = e.decode(v).filter(|d| d.len() <= 64);
                assert_eq!(got, want, "{e:?} {}", String::from_utf8_lossy(v));
            }
        }
    }

    /// Counting by sorted batches gives the rows of each digest a table
    /// would, whatever the batches: repeats inside one batch, across
    /// batches, and digests seen only in an earlier batch.
    #[test]
    fn batched_counts_equal_a_table() {
        let mut next = crate::xorshift(0x1234_5678_9abc_def1);
        let mut t = ColumnTargets::new("h");
        let mut want: std::collections::BTreeMap<u128, u64> = Default::default();
        for batch in [0usize, 1, 7, 1000, 3, 5000] {
            for _ in 0..batch {
                // A small key range, so digests repeat within and across batches.
                let k = u128::from(next() % 2000) << 64 | 5;
                t.fresh.push(k);
                *want.entry(k).or_default() += 1;
            }
            t.count_fresh();
            assert!(t.fresh.is_empty());
            let want: Vec<(u128, u64)> = want.iter().map(|(&k, &n)| (k, n)).collect();
            assert_eq!(t.counts, want);
        }
    }

    /// Values pushed one by one, with duplicates, end up counted in key
    /// order after `finish`, malformed values apart.
    #[test]
    fn pushed_digests_are_counted_in_key_order() {
        let mut t = ColumnTargets::new("h");
        let digests: Vec<String> = (0..3000u32)
            .map(|i| {
                DigestEncoding::HexLower.encode(&[
                    (i % 700) as u8 ^ 0x5a,
                    (i % 700 / 256) as u8,
                    0,
                    1,
                    2,
                    3,
                    4,
                    5,
                    6,
                    7,
                    8,
                    9,
                    10,
                    11,
                    12,
                    13,
                ])
            })
            .collect();
        for d in &digests {
            t.push(d.as_bytes());
        }
        t.push(b"not a digest");
        let t = t.finish();
        assert_eq!(t.malformed, 1);
        assert_eq!(t.counts.len(), 700);
        assert!(t.counts.windows(2).all(|w| w[0].0 < w[1].0));
        assert_eq!(t.counts.iter().map(|&(_, n)| n).sum::<u64>(), 3000);
    }

    /// The fields every count of a column is read from.
    fn tally(t: &ColumnTargets) -> (u64, u64, u64, Option<DigestEncoding>, Option<usize>) {
        (t.values, t.empty, t.malformed, t.encoding, t.digest_bytes)
    }

    /// A value given with its row count is counted as that many rows
    /// pushed one by one: digests repeated across calls, malformed and
    /// empty values, counts of zero, before and after the encoding settles
    /// and across the batches counting merges.
    #[test]
    fn push_count_equals_repeated_push() {
        let mut next = crate::xorshift(0x0bad_cafe_f00d_d00d);
        let mut one = ColumnTargets::new("h");
        let mut counted = ColumnTargets::new("h");
        for i in 0..4000u64 {
            let r = next();
            let v = match r % 10 {
                0 => b"not a digest".to_vec(),
                1 => b"  ".to_vec(),
                _ => {
                    let k = (r >> 8) % 600;
                    DigestEncoding::HexLower
                        .encode(&[k.to_le_bytes(), [0; 8]].concat())
                        .into_bytes()
                }
            };
            let rows = (r >> 40) % 5;
            for _ in 0..rows {
                one.push(&v);
            }
            counted.push_count(&v, rows);
            if i == 2500 {
                counted.count_fresh();
            }
        }
        let (one, counted) = (one.finish(), counted.finish());
        assert_eq!(tally(&counted), tally(&one));
        assert_eq!(counted.encoding, Some(DigestEncoding::HexLower));
        assert_eq!(counted.digest_bytes, Some(16));
        assert!(counted.malformed > 0 && counted.empty > 0);
        assert_eq!(counted.counts, one.counts);
        assert!(counted.weighted.is_empty() && counted.fresh.is_empty());
    }

    /// Given distinct values with their counts, the encoding is settled by
    /// the first 1,000 distinct values, not by the rows of the first few: a
    /// base64 value on 5,000 rows ahead of 1,200 hex digests leaves the
    /// column hex, its rows malformed; pushed row by row, the same rows
    /// settle it as base64.
    #[test]
    fn counted_values_settle_the_encoding_by_distinct_values() {
        let b64 = DigestEncoding::Base64.encode(&[0xfb; 32]);
        let hex: Vec<String> = (0..1200u32)
            .map(|i| DigestEncoding::HexLower.encode(&[i.to_le_bytes(); 8].concat()))
            .collect();
        let mut counted = ColumnTargets::new("h");
        let mut rows = ColumnTargets::new("h");
        counted.push_count(b64.as_bytes(), 5000);
        for _ in 0..5000 {
            rows.push(b64.as_bytes());
        }
        for h in &hex {
            counted.push_count(h.as_bytes(), 1);
            rows.push(h.as_bytes());
        }
        let (counted, rows) = (counted.finish(), rows.finish());
        assert_eq!(counted.encoding, Some(DigestEncoding::HexLower));
        assert_eq!(counted.digest_bytes, Some(32));
        assert_eq!((counted.values, counted.malformed), (6200, 5000));
        assert_eq!(counted.counts.len(), 1200);
        assert_eq!(rows.encoding, Some(DigestEncoding::Base64));
    }
}
