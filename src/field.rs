//! A field's normalizers and transform compiled against a keyset: keyed
//! states (HMAC pads, AES key schedules) are set up once per field and reused
//! for every value; per-thread scratch buffers make the hot path
//! allocation-free once warm.
//!
//! # Example
//! ```
//! use deid::field::{FieldProcessor, Scratch};
//! use deid::transform::FieldSpec;
//! use deid::{Keyset, MasterKey};
//!
//! let keys = Keyset::from_keys(vec![MasterKey::from_bytes(1, [7u8; 32])]).unwrap();
//! let spec: FieldSpec = serde_json::from_str(r#"{"transform": "encrypt", "normalize": ["email"]}"#).unwrap();
//! let field = FieldProcessor::new("email", &spec, &keys).unwrap();
//! let (mut scratch, mut token, mut back) = (Scratch::default(), Vec::new(), Vec::new());
//! let mut rng = deid::io::rng::OsRng;
//! field.transform(b" Ada@Example.com", None, &mut rng, &mut scratch, &mut token).unwrap();
//! field.reverse(&token, &mut scratch, &mut back).unwrap();
//! assert_eq!(back, b"ada@example.com"); // the normalized value comes back
//! ```

use alloc::string::{String, ToString};
use alloc::vec::Vec;
use core::fmt;

use crate::backend::Backend;
use crate::detect::{Detectors, Kind};
use crate::error::Error;
use crate::key::Keyset;
use crate::normalize::{Normalizer, apply_chain};
use crate::transform::dateshift::DateShifter;
use crate::transform::encrypt::{DeterministicCipher, RandomizedCipher, token_key_id};
use crate::transform::fpe::Ff1Digits;
use crate::transform::generalize::Generalization;
use crate::transform::mask::Mask;
use crate::transform::pseudonym::Pseudonymizer;
use crate::transform::redact::Redactor;
use crate::transform::{
    EmptyRule, EncryptMode, FieldSpec, Transform, TransformKind, TransformSpec,
};

/// Reusable buffers for one worker thread.
#[derive(Default)]
pub struct Scratch {
    a: Vec<u8>,
    b: Vec<u8>,
    tmp: Vec<u8>,
}

impl fmt::Debug for Scratch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Scratch holds field values: never print them.
        f.write_str("Scratch { .. }")
    }
}

enum Op {
    Pseudonym(Pseudonymizer),
    Randomized(Vec<RandomizedCipher>),
    Deterministic(Vec<DeterministicCipher>),
    Fpe(alloc::boxed::Box<Ff1Digits>),
    Generalize(Generalization),
    Mask(Mask),
    DateShift(DateShifter, String),
    Redact(alloc::boxed::Box<Redactor>),
    #[cfg(feature = "std")]
    Hierarchy(std::sync::Arc<dyn crate::transform::hierarchy::LevelLookup>),
    Drop,
    Keep,
}

/// One column's compiled transform.
pub struct FieldProcessor {
    column: String,
    kind: TransformKind,
    reversible: bool,
    normalize: Vec<Normalizer>,
    empty: EmptyRule,
    op: Op,
}

impl fmt::Debug for FieldProcessor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FieldProcessor")
            .field("column", &self.column)
            .field("transform", &self.kind)
            .finish_non_exhaustive()
    }
}

impl FieldProcessor {
    /// Compiles `spec` for `column` with the default backend. New tokens use
    /// the key `spec.key` pins, else the keyset's primary key;
    /// [`FieldProcessor::reverse`] opens tokens of any key in the set (found
    /// by the id in the token) and FF1 values with the key new ones use.
    ///
    /// # Errors
    /// [`Error::Config`] for options the primitives refuse (e.g. a context
    /// over 255 bytes); [`Error::UnknownKeyId`] for a pinned key the keyset
    /// does not hold.
    pub fn new(column: &str, spec: &FieldSpec, keys: &Keyset) -> Result<Self, Error> {
        Self::with_backend(Backend::default(), column, spec, keys)
    }

    /// As [`FieldProcessor::new`], computing HMAC and GCM with `backend`.
    ///
    /// # Errors
    /// As [`FieldProcessor::new`].
    pub fn with_backend(
        backend: Backend,
        column: &str,
        spec: &FieldSpec,
        keys: &Keyset,
    ) -> Result<Self, Error> {
        let ctx = spec.context.as_deref().unwrap_or(column);
        // The field's own key when the policy pins one, else the keyset's.
        let primary = match spec.key {
            Some(id) => keys.get(id).ok_or(Error::UnknownKeyId(id))?,
            None => keys.primary(),
        };
        // Primary first: it makes new tokens; the rest only open old ones.
        let ordered = || {
            core::iter::once(primary).chain(
                keys.ids()
                    .filter(|&id| id != primary.id())
                    .filter_map(|id| keys.get(id)),
            )
        };
        let op = match &spec.transform {
            TransformSpec::Pseudonymize { bytes, encoding } => Op::Pseudonym(
                Pseudonymizer::with_backend(backend, primary, ctx, *bytes, *encoding)?,
            ),
            TransformSpec::Encrypt {
                mode: EncryptMode::Randomized,
            } => Op::Randomized(
                ordered()
                    .map(|k| RandomizedCipher::with_backend(backend, k, ctx))
                    .collect::<Result<_, _>>()?,
            ),
            TransformSpec::Encrypt {
                mode: EncryptMode::Deterministic,
            } => Op::Deterministic(
                ordered()
                    .map(|k| DeterministicCipher::new(k, ctx))
                    .collect::<Result<_, _>>()?,
            ),
            TransformSpec::Fpe => Op::Fpe(alloc::boxed::Box::new(Ff1Digits::new(primary, ctx)?)),
            TransformSpec::Generalize(g) => Op::Generalize(*g),
            TransformSpec::Mask(m) => Op::Mask(*m),
            TransformSpec::Dateshift { max_days, subject } => {
                Op::DateShift(DateShifter::new(primary, ctx, *max_days)?, subject.clone())
            }
            TransformSpec::Drop => Op::Drop,
            TransformSpec::Keep => Op::Keep,
            #[cfg(feature = "std")]
            TransformSpec::GeneralizeHierarchy(rule) => match rule.lookup() {
                Some(l) => Op::Hierarchy(l.clone()),
                None => {
                    return Err(Error::Config(
                        "hierarchy not loaded (deid::anonymize::load_hierarchies)",
                    ));
                }
            },
            #[cfg(not(feature = "std"))]
            TransformSpec::GeneralizeHierarchy(_) => {
                return Err(Error::Config("hierarchy rules need the std feature"));
            }
            TransformSpec::Redact {
                detect,
                replace,
                bytes,
                encoding,
            } => Op::Redact(alloc::boxed::Box::new(Redactor::with_keys(
                backend,
                ordered(),
                ctx,
                Detectors::from_ids(detect),
                *replace,
                *bytes,
                *encoding,
            )?)),
        };
        Ok(FieldProcessor {
            column: column.to_string(),
            kind: spec.transform.kind(),
            reversible: spec.transform.is_reversible(),
            normalize: spec.normalize.clone(),
            empty: spec.empty,
            op,
        })
    }

    /// The column (or dotted path) this processor is for.
    pub fn column(&self) -> &str {
        &self.column
    }

    /// The transform.
    pub fn kind(&self) -> TransformKind {
        self.kind
    }

    /// Whether the column is removed from the output.
    pub fn drops_column(&self) -> bool {
        matches!(self.op, Op::Drop)
    }

    /// Whether [`FieldProcessor::reverse`] can recover values.
    pub fn is_reversible(&self) -> bool {
        self.reversible
    }

    /// For `redact`: detections so far per kind, in [`Kind::ALL`] order.
    pub fn detections(&self) -> Option<impl Iterator<Item = (Kind, u64)>> {
        match &self.op {
            Op::Redact(r) => Some(Kind::ALL.into_iter().zip(r.counts())),
            _ => None,
        }
    }

    /// For `dateshift`: the column whose (original) value names the subject.
    pub fn subject_column(&self) -> Option<&str> {
        match &self.op {
            Op::DateShift(_, s) => Some(s),
            _ => None,
        }
    }

    /// Transforms one value, appending the result to `out` (a CSV writer
    /// appends it to the record it is writing, src/io/process.rs). On an
    /// error `out` is left as it was.
    ///
    /// # Errors
    /// [`Error::Invalid`] naming the rule when the value cannot be
    /// normalized or transformed; never contains the value.
    pub fn transform<R: rand_core::CryptoRng + ?Sized>(
        &self,
        value: &[u8],
        subject: Option<&[u8]>,
        rng: &mut R,
        scratch: &mut Scratch,
        out: &mut Vec<u8>,
    ) -> Result<(), Error> {
        let Some(v) = self.normalized(value, &mut scratch.a, &mut scratch.b)? else {
            return Ok(());
        };
        match &self.op {
            Op::Pseudonym(p) => run(p, v, out),
            Op::Randomized(ciphers) => {
                // Not a `Transform`: each value takes a fresh nonce from `rng`.
                let c = ciphers.first().ok_or(Error::Config("keyset"))?;
                fill(out, c.max_output_len(v.len()), |o| {
                    Ok(c.token_bytes(rng, v, o)?.len())
                })
            }
            Op::Deterministic(ciphers) => {
                run(ciphers.first().ok_or(Error::Config("keyset"))?, v, out)
            }
            Op::Fpe(f) => run(&**f, v, out),
            Op::Generalize(g) => run(g, v, out),
            Op::Mask(m) => run(m, v, out),
            Op::DateShift(s, _) => {
                let subject = subject
                    .filter(|s| !s.is_empty())
                    .ok_or(Error::Invalid("dateshift subject (empty or missing)"))?;
                run(&s.for_subject(subject), v, out)
            }
            Op::Keep => {
                out.extend_from_slice(v);
                Ok(())
            }
            Op::Redact(r) => {
                let start = out.len();
                r.redact(v, out)
                    .map(|_| ())
                    .inspect_err(|_| out.truncate(start))
            }
            #[cfg(feature = "std")]
            Op::Hierarchy(h) => h.generalize(v, out),
            Op::Drop => Ok(()),
        }
    }

    /// `value` after the empty rule and the normalizers: `None` when an empty
    /// value stays empty (`empty = "keep"`).
    fn normalized<'a>(
        &self,
        value: &'a [u8],
        a: &'a mut Vec<u8>,
        b: &'a mut Vec<u8>,
    ) -> Result<Option<&'a [u8]>, Error> {
        if self.empty_kept(value)? {
            return Ok(None);
        }
        if self.normalize.is_empty() {
            return Ok(Some(value));
        }
        let cap = self
            .normalize
            .iter()
            .fold(value.len(), |n, norm| norm.max_output_len(n));
        // Grown, never shrunk: a normalizer writes into the front of its
        // buffer and returns what it wrote. `b` is written only from the
        // second normalizer on (one normalizer, the usual case, needs `a`).
        let used = if self.normalize.len() > 1 { 2 } else { 1 };
        for buf in [&mut *a, &mut *b].into_iter().take(used) {
            if buf.len() < cap {
                buf.resize(cap, 0);
            }
        }
        apply_chain(&self.normalize, value, a, b).map(Some)
    }

    /// Whether `value` is empty and stays empty, by the field's empty rule.
    ///
    /// # Errors
    /// [`Error::Invalid`] for an empty value under `empty = "error"`.
    fn empty_kept(&self, value: &[u8]) -> Result<bool, Error> {
        match (value.is_empty(), self.empty) {
            (false, _) | (true, EmptyRule::Transform) => Ok(false),
            (true, EmptyRule::Keep) => Ok(true),
            (true, EmptyRule::Error) => Err(Error::Invalid("non-empty value")),
        }
    }

    /// The `generalize` rule, when it reads a date (`year`, `year-month`,
    /// `age-band`) and no normalizer runs before it: src/arrow/mod.rs then
    /// generalizes a `Date32` column from its days, not its text.
    pub fn date_rule(&self) -> Option<&Generalization> {
        match &self.op {
            Op::Generalize(g) if g.reads_date() && self.normalize.is_empty() => Some(g),
            _ => None,
        }
    }

    /// Whether every output is a token of ASCII letters, digits, `-` and
    /// `_` (or empty): `pseudonymize` and `encrypt`. A CSV writer whose
    /// delimiter is none of those never needs to quote them.
    pub fn writes_tokens(&self) -> bool {
        matches!(
            self.op,
            Op::Pseudonym(_) | Op::Randomized(_) | Op::Deterministic(_)
        )
    }

    /// Whether this field's values can go through a [`PseudonymBatch`]
    /// (`pseudonymize` fields; other transforms run one value at a time).
    pub fn batches(&self) -> bool {
        matches!(self.op, Op::Pseudonym(_))
    }

    /// For `redact`: the detections so far per type name, non-zero only
    /// (empty for other transforms). The summaries of the CSV, JSON Lines
    /// and Arrow paths all read this.
    pub fn detection_counts(&self) -> alloc::collections::BTreeMap<String, u64> {
        self.detections()
            .into_iter()
            .flatten()
            .filter(|&(_, n)| n > 0)
            .map(|(k, n)| (k.name().to_string(), n))
            .collect()
    }

    /// Recovers the (normalized) value of an `encrypt` or `fpe` field,
    /// appending it to `out` (left as it was on an error). Tokens of any
    /// key of the keyset open; FF1 output carries no key id, so `fpe`
    /// fields reverse with the primary key.
    ///
    /// # Errors
    /// [`Error::Crypto`] for a tampered or foreign token, [`Error::UnknownKeyId`]
    /// for a key the keyset lacks, [`Error::Config`] for a transform that is
    /// not reversible.
    pub fn reverse(
        &self,
        token: &[u8],
        scratch: &mut Scratch,
        out: &mut Vec<u8>,
    ) -> Result<(), Error> {
        if token.is_empty() && self.empty != EmptyRule::Transform {
            return Ok(());
        }
        scratch.tmp.resize(token.len(), 0);
        match &self.op {
            Op::Randomized(ciphers) => {
                let id = token_key_id(token)?;
                let c = ciphers
                    .iter()
                    .find(|c| c.key_id() == id)
                    .ok_or(Error::UnknownKeyId(id))?;
                out.extend_from_slice(c.decrypt(token, &mut scratch.tmp)?);
            }
            Op::Deterministic(ciphers) => {
                let id = token_key_id(token)?;
                let c = ciphers
                    .iter()
                    .find(|c| c.key_id() == id)
                    .ok_or(Error::UnknownKeyId(id))?;
                out.extend_from_slice(c.decrypt(token, &mut scratch.tmp)?);
            }
            Op::Fpe(f) => out.extend_from_slice(f.decrypt(token, &mut scratch.tmp)?.as_bytes()),
            Op::Redact(r) => r.restore(token, out)?,
            _ => return Err(Error::Config("transform is not reversible")),
        }
        Ok(())
    }
}

/// The values of one `pseudonymize` field gathered to be computed together:
/// each is checked and normalized as [`FieldProcessor::transform`] does,
/// then [`PseudonymBatch::compute`] runs
/// [`Pseudonymizer::pseudonymize_batch`] over all of them (twenty or four at a time
/// where the CPU allows). The results are byte-identical to
/// [`FieldProcessor::transform`] on each value.
///
/// # Example
/// ```
/// use deid::field::{FieldProcessor, PseudonymBatch, Scratch};
/// use deid::transform::FieldSpec;
/// use deid::{Keyset, MasterKey};
///
/// let keys = Keyset::from_keys(vec![MasterKey::from_bytes(1, [7u8; 32])]).unwrap();
/// let spec: FieldSpec = serde_json::from_str(r#"{"transform": "pseudonymize", "normalize": ["lowercase"]}"#).unwrap();
/// let field = FieldProcessor::new("user", &spec, &keys).unwrap();
/// let (mut scratch, mut batch) = (Scratch::default(), PseudonymBatch::default());
/// let a = batch.push(&field, b"Ada", &mut scratch).unwrap().unwrap();
/// assert_eq!(batch.push(&field, b"", &mut scratch).unwrap(), None); // stays empty
/// batch.compute(&field).unwrap();
/// let mut one = Vec::new();
/// field.transform(b"ada", None, &mut deid::io::rng::OsRng, &mut scratch, &mut one).unwrap();
/// assert_eq!(batch.get(a), &one[..]);
/// ```
#[derive(Default)]
pub struct PseudonymBatch {
    /// The normalized values back to back, and where each ends.
    arena: Vec<u8>,
    ends: Vec<usize>,
    /// The pseudonyms back to back, `len` bytes each.
    out: Vec<u8>,
    len: usize,
}

impl fmt::Debug for PseudonymBatch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The arena holds field values: never print them.
        f.debug_struct("PseudonymBatch")
            .field("values", &self.ends.len())
            .finish_non_exhaustive()
    }
}

impl PseudonymBatch {
    /// Values gathered per call of [`Pseudonymizer::pseudonymize_batch`]
    /// (their slices live on the stack): whole groups of its twenty-way
    /// and four-way kernels. The CSV pipeline queues this many records
    /// before computing their pseudonyms (src/io/process.rs).
    pub(crate) const GROUP: usize = 80;

    /// Forgets every value (buffers are kept for reuse).
    pub fn clear(&mut self) {
        self.arena.clear();
        self.ends.clear();
        self.out.clear();
    }

    /// Makes room for `values` more values of `bytes` bytes in all (after
    /// normalization), so that queueing them does not reallocate.
    pub fn reserve(&mut self, values: usize, bytes: usize) {
        self.ends.reserve(values);
        self.arena.reserve(bytes);
    }

    /// Values queued since the last [`PseudonymBatch::clear`].
    pub fn len(&self) -> usize {
        self.ends.len()
    }

    /// Whether no value is queued.
    pub fn is_empty(&self) -> bool {
        self.ends.is_empty()
    }

    /// Checks and normalizes `value` for `field` and queues it: its index
    /// for [`PseudonymBatch::get`], or `None` when an empty value stays
    /// empty (nothing is queued).
    ///
    /// # Errors
    /// As [`FieldProcessor::transform`] (the empty rule, the normalizers);
    /// [`Error::Config`] when `field` is not a `pseudonymize` field.
    pub fn push(
        &mut self,
        field: &FieldProcessor,
        value: &[u8],
        scratch: &mut Scratch,
    ) -> Result<Option<usize>, Error> {
        if !field.batches() {
            return Err(Error::Config("not a pseudonymize field"));
        }
        if let [norm] = field.normalize.as_slice() {
            // One normalizer (the usual case) writes straight into the
            // arena; a failure leaves the arena as it was.
            if field.empty_kept(value)? {
                return Ok(None);
            }
            let start = self.arena.len();
            self.arena
                .resize(start + norm.max_output_len(value.len()), 0);
            match norm.apply(value, &mut self.arena[start..]) {
                Ok(v) => {
                    let end = start + v.len();
                    self.arena.truncate(end);
                }
                Err(e) => {
                    self.arena.truncate(start);
                    return Err(e);
                }
            }
        } else {
            let Some(v) = field.normalized(value, &mut scratch.a, &mut scratch.b)? else {
                return Ok(None);
            };
            self.arena.extend_from_slice(v);
        }
        self.ends.push(self.arena.len());
        Ok(Some(self.ends.len() - 1))
    }

    /// Computes the pseudonym of every queued value with `field` (the
    /// field the values were pushed for).
    ///
    /// # Errors
    /// [`Error::Config`] when `field` is not a `pseudonymize` field.
    pub fn compute(&mut self, field: &FieldProcessor) -> Result<(), Error> {
        self.len = Self::output_len(field)?;
        let mut out = core::mem::take(&mut self.out);
        out.resize(self.ends.len() * self.len, 0);
        let r = self.compute_into(field, &mut out);
        self.out = out;
        r
    }

    /// The length of every pseudonym `field` gives.
    ///
    /// # Errors
    /// [`Error::Config`] when `field` is not a `pseudonymize` field.
    pub fn output_len(field: &FieldProcessor) -> Result<usize, Error> {
        match &field.op {
            Op::Pseudonym(p) => Ok(p.output_len()),
            _ => Err(Error::Config("not a pseudonymize field")),
        }
    }

    /// Writes the pseudonym of every queued value with `field` into `out`,
    /// back to back in queue order, [`PseudonymBatch::output_len`] bytes
    /// each (for a caller that owns the output column's buffer; the
    /// batch's own [`PseudonymBatch::get`] is left as it was).
    ///
    /// # Errors
    /// [`Error::Config`] when `field` is not a `pseudonymize` field;
    /// [`Error::BufferTooSmall`] when `out` cannot hold every pseudonym.
    pub fn compute_into(&self, field: &FieldProcessor, out: &mut [u8]) -> Result<(), Error> {
        let mut start = 0;
        let values = self.ends.iter().map(|&end| {
            let v = &self.arena[start..end];
            start = end;
            v
        });
        Self::compute_each(field, self.ends.len(), values, out)
    }

    /// Whether `field` pseudonymizes its values as they are (it has no
    /// normalizer): a caller that holds them can then skip the queue and
    /// give them to [`PseudonymBatch::compute_each`] where they lie.
    pub fn borrows(field: &FieldProcessor) -> bool {
        field.batches() && field.normalize.is_empty()
    }

    /// Checks `value` for a field that [borrows](Self::borrows), as
    /// [`PseudonymBatch::push`] would: whether it is pseudonymized (`false`
    /// for an empty value that stays empty).
    ///
    /// # Errors
    /// The field's empty rule.
    pub fn check(field: &FieldProcessor, value: &[u8]) -> Result<bool, Error> {
        Ok(!field.empty_kept(value)?)
    }

    /// Writes the pseudonyms of the first `count` of `values` with `field`
    /// into `out`, back to back, [`PseudonymBatch::output_len`] bytes each.
    /// The values are taken as they are: normalized already, or of a field
    /// that [borrows](Self::borrows) and [checked](Self::check).
    ///
    /// # Errors
    /// [`Error::Config`] when `field` is not a `pseudonymize` field or
    /// `values` has fewer than `count`; [`Error::BufferTooSmall`] when
    /// `out` cannot hold `count` pseudonyms.
    pub fn compute_each<'v>(
        field: &FieldProcessor,
        count: usize,
        mut values: impl Iterator<Item = &'v [u8]>,
        out: &mut [u8],
    ) -> Result<(), Error> {
        let Op::Pseudonym(p) = &field.op else {
            return Err(Error::Config("not a pseudonymize field"));
        };
        let len = p.output_len();
        let need = count.saturating_mul(len);
        let mut out = out.get_mut(..need).ok_or(Error::BufferTooSmall(need))?;
        let mut group: [&[u8]; Self::GROUP] = [&[]; Self::GROUP];
        let mut left = count;
        while left > 0 {
            let n = Self::GROUP.min(left);
            for slot in &mut group[..n] {
                *slot = values
                    .next()
                    .ok_or(Error::Config("fewer values than counted"))?;
            }
            let (these, rest) = core::mem::take(&mut out).split_at_mut(n * len);
            p.pseudonymize_batch(&group[..n], these)?;
            out = rest;
            left -= n;
        }
        Ok(())
    }

    /// The pseudonym of queued value `i`, after [`PseudonymBatch::compute`]
    /// (empty for an index out of range).
    pub fn get(&self, i: usize) -> &[u8] {
        self.out
            .get(i * self.len..(i + 1) * self.len)
            .unwrap_or_default()
    }
}

/// Runs `t` on `v` into `out`, sized by the length `t` publishes.
fn run<T: Transform + ?Sized>(t: &T, v: &[u8], out: &mut Vec<u8>) -> Result<(), Error> {
    fill(out, t.max_output_len(v.len()), |o| Ok(t.apply(v, o)?.len()))
}

/// Grows `out` by `max_len` bytes, lets `write` fill the front of them and
/// keeps what it wrote (nothing on an error).
fn fill(
    out: &mut Vec<u8>,
    max_len: usize,
    write: impl FnOnce(&mut [u8]) -> Result<usize, Error>,
) -> Result<(), Error> {
    let start = out.len();
    out.resize(start + max_len, 0);
    match write(&mut out[start..]) {
        Ok(n) => {
            out.truncate(start + n);
            Ok(())
        }
        Err(e) => {
            out.truncate(start);
            Err(e)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::key::MasterKey;

    fn spec(json: &str) -> FieldSpec {
        serde_json::from_str(json).unwrap()
    }

    fn keys() -> Keyset {
        Keyset::from_keys(alloc::vec![
            MasterKey::from_bytes(1, [1; 32]),
            MasterKey::from_bytes(2, [2; 32])
        ])
        .unwrap()
    }

    struct Rng(u8);
    impl rand_core::TryRng for Rng {
        type Error = core::convert::Infallible;
        fn try_next_u32(&mut self) -> Result<u32, Self::Error> {
            Ok(7)
        }
        fn try_next_u64(&mut self) -> Result<u64, Self::Error> {
            Ok(7)
        }
        fn try_fill_bytes(&mut self, d: &mut [u8]) -> Result<(), Self::Error> {
            self.0 = self.0.wrapping_add(1);
            d.fill(self.0);
            Ok(())
        }
    }
    impl rand_core::TryCryptoRng for Rng {}

    fn run(f: &FieldProcessor, v: &str, subject: Option<&str>) -> Result<String, Error> {
        let mut out = Vec::new();
        f.transform(
            v.as_bytes(),
            subject.map(str::as_bytes),
            &mut Rng(0),
            &mut Scratch::default(),
            &mut out,
        )?;
        Ok(String::from_utf8(out).unwrap())
    }

    #[test]
    fn normalizing_makes_formats_agree() {
        let f = FieldProcessor::new(
            "phone",
            &spec(r#"{"transform": "pseudonymize", "normalize": ["phone:KR"]}"#),
            &keys(),
        )
        .unwrap();
        let a = run(&f, "010-1234-5678", None).unwrap();
        assert_eq!(a, run(&f, "+82 10 1234 5678", None).unwrap());
        assert_eq!(a.len(), 32);
        assert_eq!(
            run(&f, "not a phone", None),
            Err(Error::Invalid("phone number"))
        );
        assert_eq!(
            run(&f, "", None).unwrap(),
            "",
            "empty kept empty by default"
        );
    }

    #[test]
    fn borrowed_values_give_the_queues_pseudonyms() {
        let f = FieldProcessor::new("email", &spec(r#"{"transform": "pseudonymize"}"#), &keys())
            .unwrap();
        assert!(PseudonymBatch::borrows(&f));
        let values: Vec<alloc::string::String> = (0..170)
            .map(|i| alloc::format!("u{i}@example.com"))
            .collect();
        let mut queue = PseudonymBatch::default();
        for v in &values {
            queue
                .push(&f, v.as_bytes(), &mut Scratch::default())
                .unwrap();
        }
        let width = PseudonymBatch::output_len(&f).unwrap();
        let mut queued = alloc::vec![0; values.len() * width];
        queue.compute_into(&f, &mut queued).unwrap();
        let mut borrowed = alloc::vec![0; values.len() * width];
        let each = values.iter().map(|v| v.as_bytes());
        PseudonymBatch::compute_each(&f, values.len(), each, &mut borrowed).unwrap();
        assert_eq!(queued, borrowed);
        assert_eq!(
            &borrowed[..width],
            run(&f, &values[0], None).unwrap().as_bytes()
        );
        // Fewer values than counted, or too little room: an error, no panic.
        let each = values.iter().map(|v| v.as_bytes());
        assert_eq!(
            PseudonymBatch::compute_each(&f, 171, each, &mut alloc::vec![0; 171 * width]),
            Err(Error::Config("fewer values than counted"))
        );
        let each = values.iter().map(|v| v.as_bytes());
        assert_eq!(
            PseudonymBatch::compute_each(&f, 2, each, &mut [0; 10]),
            Err(Error::BufferTooSmall(2 * width))
        );
        // The empty rule, as push applies it.
        assert_eq!(PseudonymBatch::check(&f, b""), Ok(false));
        let strict = FieldProcessor::new(
            "email",
            &spec(r#"{"transform": "pseudonymize", "empty": "error"}"#),
            &keys(),
        )
        .unwrap();
        assert!(PseudonymBatch::check(&strict, b"").is_err());
        assert_eq!(PseudonymBatch::check(&strict, b"x"), Ok(true));
    }

    #[test]
    fn context_defaults_to_column_and_can_be_shared() {
        let k = keys();
        let a =
            FieldProcessor::new("phone", &spec(r#"{"transform": "pseudonymize"}"#), &k).unwrap();
        let b =
            FieldProcessor::new("mobile", &spec(r#"{"transform": "pseudonymize"}"#), &k).unwrap();
        let c = FieldProcessor::new(
            "mobile",
            &spec(r#"{"transform": "pseudonymize", "context": "phone"}"#),
            &k,
        )
        .unwrap();
        assert_ne!(run(&a, "x", None), run(&b, "x", None));
        assert_eq!(run(&a, "x", None), run(&c, "x", None));
    }

    #[test]
    fn tokens_reverse_with_any_key_of_the_set() {
        let old = Keyset::from_keys(alloc::vec![MasterKey::from_bytes(1, [1; 32])]).unwrap();
        for mode in ["deterministic", "randomized"] {
            let s = spec(&alloc::format!(
                r#"{{"transform": "encrypt", "mode": "{mode}"}}"#
            ));
            let made_with_old = FieldProcessor::new("email", &s, &old).unwrap();
            let token = run(&made_with_old, "ada@example.com", None).unwrap();
            // A rotated keyset (primary 2) still opens tokens of key 1.
            let rotated = Keyset::from_keys(alloc::vec![
                MasterKey::from_bytes(2, [2; 32]),
                MasterKey::from_bytes(1, [1; 32])
            ])
            .unwrap();
            let f = FieldProcessor::new("email", &s, &rotated).unwrap();
            let mut out = Vec::new();
            f.reverse(token.as_bytes(), &mut Scratch::default(), &mut out)
                .unwrap();
            assert_eq!(out, b"ada@example.com");
            // A keyset without key 1 names the missing id.
            let other = Keyset::from_keys(alloc::vec![MasterKey::from_bytes(3, [3; 32])]).unwrap();
            let f = FieldProcessor::new("email", &s, &other).unwrap();
            assert_eq!(
                f.reverse(token.as_bytes(), &mut Scratch::default(), &mut out),
                Err(Error::UnknownKeyId(1))
            );
            // Another column's context does not open it.
            let f = FieldProcessor::new("email2", &s, &old).unwrap();
            assert_eq!(
                f.reverse(token.as_bytes(), &mut Scratch::default(), &mut out),
                Err(Error::Crypto(crate::CryptoError))
            );
        }
    }

    /// `transform` and `reverse` append to what `out` holds and leave it as
    /// it was on an error, for every transform.
    #[test]
    fn outputs_are_appended_and_errors_leave_out_as_it_was() {
        let k = keys();
        // A spec, a value it transforms and one it refuses (when it has one).
        type Case = (&'static str, &'static [u8], Option<&'static [u8]>);
        let cases: [Case; 11] = [
            (r#"{"transform": "pseudonymize"}"#, b"ada", None),
            (
                r#"{"transform": "pseudonymize", "normalize": ["email"]}"#,
                b"Ada@x.io",
                Some(b"ada"),
            ),
            (r#"{"transform": "encrypt"}"#, b"ada", None),
            (
                r#"{"transform": "encrypt", "mode": "deterministic", "empty": "error"}"#,
                b"ada",
                Some(b""),
            ),
            (r#"{"transform": "fpe"}"#, b"4111-1111-1111", Some(b"12")),
            (
                r#"{"transform": "generalize", "to": "year"}"#,
                b"1990-07-15",
                Some(b"1990-13-01"),
            ),
            (r#"{"transform": "mask"}"#, b"secret", Some(b"\xff")),
            (
                r#"{"transform": "dateshift", "subject": "id"}"#,
                b"2024-01-10",
                Some(b"2024-02-30"),
            ),
            (r#"{"transform": "keep"}"#, b"x", None),
            (
                r#"{"transform": "redact", "replace": "token"}"#,
                b"call 010-1234-5678",
                Some(b"\xff"),
            ),
            (r#"{"transform": "drop"}"#, b"x", None),
        ];
        for (json, good, bad) in cases {
            let f = FieldProcessor::new("c", &spec(json), &k).unwrap();
            let mut scratch = Scratch::default();
            let mut alone = Vec::new();
            f.transform(good, Some(b"id1"), &mut Rng(0), &mut scratch, &mut alone)
                .unwrap();
            let mut out = b"before|".to_vec();
            f.transform(good, Some(b"id1"), &mut Rng(0), &mut scratch, &mut out)
                .unwrap();
            assert_eq!(out[..7], b"before|"[..], "{json}");
            assert_eq!(out[7..], alone[..], "{json}");
            if let Some(bad) = bad {
                let mut out = b"before|".to_vec();
                let r = f.transform(bad, Some(b"id1"), &mut Rng(0), &mut scratch, &mut out);
                assert!(r.is_err(), "{json}");
                assert_eq!(out, b"before|", "{json}");
            }
            if f.is_reversible() {
                let mut back = b"before|".to_vec();
                f.reverse(&alone, &mut scratch, &mut back).unwrap();
                assert_eq!(back[..7], b"before|"[..], "{json}");
                assert!(back.len() > 7, "{json}");
                if f.kind() != TransformKind::Redact {
                    // Redact restores text around tokens: any text reads.
                    let mut back = b"before|".to_vec();
                    assert!(
                        f.reverse(b"AAAAAAAAAAAAAAAAAAAAAAAAAAAA", &mut scratch, &mut back)
                            .is_err()
                    );
                    assert_eq!(back, b"before|", "{json}");
                }
            }
        }
    }

    #[test]
    fn every_transform_runs() {
        let k = keys();
        let fpe = FieldProcessor::new("card", &spec(r#"{"transform": "fpe"}"#), &k).unwrap();
        let t = run(&fpe, "4111-1111-1111-1111", None).unwrap();
        assert_eq!(t.len(), 19);
        let mut back = Vec::new();
        fpe.reverse(t.as_bytes(), &mut Scratch::default(), &mut back)
            .unwrap();
        assert_eq!(back, b"4111-1111-1111-1111");
        let g = FieldProcessor::new(
            "zip",
            &spec(r#"{"transform": "generalize", "to": "prefix", "keep": 3}"#),
            &k,
        )
        .unwrap();
        assert_eq!(run(&g, "04524", None).unwrap(), "045");
        let m = FieldProcessor::new(
            "name",
            &spec(r#"{"transform": "mask", "keep_first": 1, "keep_last": 0}"#),
            &k,
        )
        .unwrap();
        assert_eq!(run(&m, "김민준", None).unwrap(), "김**");
        let d = FieldProcessor::new(
            "visit",
            &spec(r#"{"transform": "dateshift", "subject": "id", "max_days": 5}"#),
            &k,
        )
        .unwrap();
        assert_eq!(d.subject_column(), Some("id"));
        assert_eq!(run(&d, "2024-01-10", Some("c1")).unwrap().len(), 10);
        assert!(run(&d, "2024-01-10", None).is_err());
        let e = FieldProcessor::new(
            "x",
            &spec(r#"{"transform": "pseudonymize", "empty": "error"}"#),
            &k,
        )
        .unwrap();
        assert!(run(&e, "", None).is_err());
        assert!(
            FieldProcessor::new("x", &spec(r#"{"transform": "drop"}"#), &k)
                .unwrap()
                .drops_column()
        );
        assert!(!g.is_reversible() && fpe.is_reversible());
        assert!(
            g.reverse(b"045", &mut Scratch::default(), &mut back)
                .is_err()
        );
    }
}
