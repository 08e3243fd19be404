//! Reversal of hashed identifier columns, the way a recipient would do it:
//! detect how digests are written, pick the algorithms their length allows,
//! enumerate the values the column could hold in each common format, and
//! hash them all.
//!
//! An unsalted hash of a phone number is not anonymization: a Korean mobile
//! number has 10^8 values, and this module hashes all of them in each of four
//! formats in seconds on a laptop. What it reports is evidence an auditor
//! can defend: how many rows and distinct identifiers were recovered, with
//! which algorithm, space and format, how long it took here, and how long
//! the whole space takes on one consumer GPU.
//!
//! # Example
//! ```
//! use deid::audit::hashes::{audit_values, AuditOptions, Space};
//! use sha2::{Digest, Sha256};
//! let digests: Vec<String> = ["010-1234-5678", "010-1234-0000"]
//!     .iter()
//!     .map(|p| Sha256::digest(p.as_bytes()).iter().map(|b| format!("{b:02x}")).collect())
//!     .collect();
//! let mut opts = AuditOptions::default();
//! // A small mask instead of the full 10^8 `kr-mobile` space, for the example.
//! opts.spaces = vec![Space::parse("010-1234-?d?d?d?d", (1950, 2005)).unwrap()];
//! let report = audit_values("phone_sha256", digests.iter().map(|d| d.as_bytes()), &opts);
//! assert_eq!(report.reversed_rows, 2);
//! assert!(report.verdict.starts_with("REVERSED"));
//! ```

pub mod algo;
pub mod dict;
mod digests;
mod md5x;
pub mod search;
#[cfg(target_arch = "x86_64")]
mod sha1ni;
#[cfg(target_arch = "x86_64")]
mod shani;
pub mod space;
mod targets;

use rustc_hash::FxHashMap;
use std::string::{String, ToString};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Instant;
use std::vec::Vec;

use serde::Serialize;

pub use algo::{Algorithm, Construction};
pub use digests::{ColumnTargets, DigestEncoding};
pub use search::{Attempt, Hit, TargetSet};
pub use space::Space;

use crate::transform::mask::Mask;

/// What to try.
#[derive(Clone)]
pub struct AuditOptions {
    /// Algorithms to try; empty means those the digest length allows.
    pub algorithms: Vec<Algorithm>,
    /// Spaces to try; empty means those that fit the column's name.
    pub spaces: Vec<Space>,
    /// Extra dictionary space, tried first.
    pub dictionary: Option<Space>,
    /// Plain, salted or HMAC.
    pub construction: Construction,
    /// Worker threads.
    pub threads: usize,
    /// Birth years for `kr-rrn`.
    pub born: (i32, i32),
    /// Also read full-length digests as prefixes of longer ones (`--truncated`):
    /// 32 hex characters as MD5 and as the first 16 bytes of SHA-1, SHA-224,
    /// SHA-256, …; 40 as SHA-1 and as the first 20 bytes of SHA-224, SHA-256, ….
    /// Lengths no algorithm has are read as prefixes whatever this says.
    pub truncated: bool,
}

impl Default for AuditOptions {
    fn default() -> Self {
        AuditOptions {
            algorithms: Vec::new(),
            spaces: Vec::new(),
            dictionary: None,
            construction: Construction::Plain,
            threads: std::thread::available_parallelism().map_or(1, |n| n.get()),
            born: (1950, 2005),
            truncated: false,
        }
    }
}

impl std::fmt::Debug for AuditOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // A dictionary space holds the recipient's own identifiers: spaces
        // by name and size only.
        let spaces: Vec<(&str, u128)> = self.spaces.iter().map(|s| (&*s.name, s.size())).collect();
        let dictionary = self.dictionary.as_ref().map(|s| (&*s.name, s.size()));
        f.debug_struct("AuditOptions")
            .field("algorithms", &self.algorithms)
            .field("spaces", &spaces)
            .field("dictionary", &dictionary)
            .field("construction", &self.construction)
            .field("threads", &self.threads)
            .field("born", &self.born)
            .field("truncated", &self.truncated)
            .finish()
    }
}

/// The spaces worth trying for a column, cheapest first, from its name.
pub fn default_spaces(column: &str, born: (i32, i32)) -> Vec<Space> {
    let c = column.to_ascii_lowercase();
    let has = |words: &[&str]| words.iter().any(|w| c.contains(w));
    let names: &[&str] = if has(&["rrn", "jumin", "resident", "주민"]) {
        &["kr-rrn"]
    } else if has(&["ssn", "social"]) {
        &["us-ssn"]
    } else if has(&["ip"]) && !has(&["zip", "ship"]) {
        &["ipv4"]
    } else if has(&["email", "mail"]) {
        &[]
    } else {
        // Phones and anything else: the cheapest identifier space first.
        &["kr-mobile"]
    };
    names
        .iter()
        .filter_map(|n| Space::parse(n, born).ok())
        .collect()
}

/// The code path the search's main loop (masks and phone numbers
/// enumerated in place, up to 55 bytes with the salt) hashes `algo` with on
/// this CPU: the name of the kernel the search itself takes (one choice,
/// `Kernel::for_algo` in src/audit/hashes/algo.rs), so it names the path
/// really taken, not what the CPU could do. Spaces with a check digit
/// (RRNs) and IPv4 go one block at a time; HMAC and longer candidates go
/// through the full hasher.
///
/// # Example
/// ```
/// use deid::audit::hashes::{Algorithm, kernel};
/// let sha256 = kernel(Algorithm::Sha256);
/// assert!([
///     "SHA-NI 4 blocks + AVX-512 16 lanes, interleaved",
///     "AVX-512, 16 lanes (switching to SHA-NI stalls here)",
///     "SHA-NI, 4 blocks interleaved",
///     "SHA-NI, 4 blocks interleaved (AVX-512 lanes measured slower here)",
///     "ARMv8 SHA2, 2 blocks interleaved",
///     "rustcrypto, one block at a time",
/// ]
/// .contains(&sha256));
/// let md5 = kernel(Algorithm::Md5);
/// assert!([
///     "AVX-512, 2 x 16 blocks in lanes, interleaved",
///     "AVX2, 8 blocks in lanes",
///     "rustcrypto, one block at a time",
/// ]
/// .contains(&md5));
/// assert_eq!(kernel(Algorithm::Sha512), "rustcrypto hasher, one value at a time");
/// ```
pub fn kernel(algo: Algorithm) -> &'static str {
    algo::Kernel::for_algo(algo).name()
}

/// Rows and distinct digests recovered by one (algorithm, space, format).
#[derive(Clone, Debug, Serialize)]
pub struct Match {
    /// Algorithm.
    pub algorithm: Algorithm,
    /// Construction.
    pub construction: &'static str,
    /// Space.
    pub space: String,
    /// Written format.
    pub format: String,
    /// Distinct digests.
    pub distinct: u64,
    /// Rows.
    pub rows: u64,
}

/// Time to run a whole space on one RTX 4090 with hashcat.
#[derive(Clone, Debug, Serialize)]
pub struct GpuEstimate {
    /// Space.
    pub space: String,
    /// Algorithm.
    pub algorithm: Algorithm,
    /// Candidates in the space (all formats).
    pub candidates: f64,
    /// Seconds at the published hashcat rate.
    pub seconds: f64,
}

/// The audit of one column. Never contains an identifier in clear, except
/// in `hits`, which neither its JSON nor its `Debug` shows.
#[derive(Clone, Serialize)]
pub struct ColumnReport {
    /// Column name.
    pub column: String,
    /// Non-empty values.
    pub values: u64,
    /// Empty values.
    pub empty: u64,
    /// Distinct well-formed digests.
    pub distinct: u64,
    /// Values that are not digests of the detected encoding and length.
    pub malformed: u64,
    /// Detected encoding.
    pub encoding: Option<DigestEncoding>,
    /// Digest length in bytes.
    pub digest_bytes: Option<usize>,
    /// When the digests are read as the leading bytes of longer ones: their
    /// length in bytes (a length no algorithm has, or any with `--truncated`).
    pub truncated_to_bytes: Option<usize>,
    /// Matches expected by chance for a truncated digest: candidates hashed
    /// × distinct targets / 2^(8 × prefix bytes). Near 0 means each match
    /// shows the input; `None` for full-length digests.
    pub expected_chance_matches: Option<f64>,
    /// Algorithms tried.
    pub algorithms: Vec<Algorithm>,
    /// Every run: space, format, algorithm, candidates, time, rate.
    pub attempts: Vec<Attempt>,
    /// Candidates hashed in all.
    pub candidates: u64,
    /// Seconds in all.
    pub seconds: f64,
    /// Candidates per second over the whole search.
    pub candidates_per_second: f64,
    /// Rows whose digest was reversed.
    pub reversed_rows: u64,
    /// Distinct digests reversed.
    pub reversed_distinct: u64,
    /// `reversed_rows / values`.
    pub reversed_share: f64,
    /// `reversed_distinct / distinct`.
    pub reversed_distinct_share: f64,
    /// What matched.
    pub matches: Vec<Match>,
    /// A few recovered identifiers, masked.
    pub masked_samples: Vec<String>,
    /// Whole-space times on one consumer GPU.
    pub gpu_estimates: Vec<GpuEstimate>,
    /// The finding in one sentence.
    pub verdict: String,
    /// Reversed digests by digest prefix (for `--reveal`); not serialized.
    #[serde(skip)]
    pub hits: Vec<Hit>,
}

impl std::fmt::Debug for ColumnReport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Counts and names only: `hits` holds the reversed identifiers, and
        // the masked samples still show part of one.
        f.debug_struct("ColumnReport")
            .field("column", &self.column)
            .field("values", &self.values)
            .field("empty", &self.empty)
            .field("distinct", &self.distinct)
            .field("malformed", &self.malformed)
            .field("encoding", &self.encoding)
            .field("digest_bytes", &self.digest_bytes)
            .field("algorithms", &self.algorithms)
            .field("attempts", &self.attempts.len())
            .field("candidates", &self.candidates)
            .field("reversed_rows", &self.reversed_rows)
            .field("reversed_distinct", &self.reversed_distinct)
            .field("matches", &self.matches)
            .field("masked_samples", &self.masked_samples.len())
            .field("hits", &self.hits.len())
            .finish_non_exhaustive()
    }
}

/// The verdict when nothing matched: honest about what it does and does not show.
pub const NO_MATCH_VERDICT: &str = "no candidate matched in the spaces tried: consistent with a keyed hash (HMAC), a secret salt or high-entropy inputs; still a stable pseudonym, linkable across releases";

/// Audits a column given as an iterator of raw values.
pub fn audit_values<'a>(
    column: &str,
    values: impl IntoIterator<Item = &'a [u8]>,
    opts: &AuditOptions,
) -> ColumnReport {
    let mut t = ColumnTargets::new(column);
    for v in values {
        t.push(v);
    }
    audit(t.finish(), opts, &AtomicU64::new(0))
}

/// Runs the search for one column. `progress` counts candidates hashed.
pub fn audit(t: ColumnTargets, opts: &AuditOptions, progress: &AtomicU64) -> ColumnReport {
    let algorithms = if !opts.algorithms.is_empty() {
        opts.algorithms.clone()
    } else {
        t.digest_bytes
            .map(|l| Algorithm::for_prefix(l, opts.truncated))
            .unwrap_or_default()
    };
    let mut spaces: Vec<Space> = opts.dictionary.iter().cloned().collect();
    spaces.extend(if opts.spaces.is_empty() {
        default_spaces(&t.column, opts.born)
    } else {
        opts.spaces.clone()
    });
    spaces.sort_by_key(|s| s.size()); // cheapest first
    // Digests shorter than an algorithm's are its leading bytes: compare
    // that many (keys hold the first 16 bytes, so longer prefixes need no mask).
    let prefix = match t.digest_bytes {
        Some(l) if algorithms.iter().any(|a| a.digest_len() > l) => Some(l),
        _ => None,
    };
    let targets = TargetSet::with_prefix(
        t.counts.iter().map(|&(k, _)| k).collect(),
        prefix.map_or(16, |l| l.min(16)),
    );
    let stop = AtomicBool::new(targets.is_empty());
    let start = Instant::now();
    let mut attempts = Vec::new();
    let mut hits: Vec<Hit> = Vec::new();
    for space in &spaces {
        if stop.load(Ordering::Relaxed) {
            break;
        }
        attempts.extend(search::search(
            &targets,
            space,
            &algorithms,
            &opts.construction,
            opts.threads,
            progress,
            &stop,
            &mut hits,
        ));
    }
    let seconds = start.elapsed().as_secs_f64();
    let candidates: u64 = attempts.iter().map(|a| a.candidates).sum();

    // Rows per reversed digest: both sides in key order and walked
    // together, as a million lookups at random (tens of MB) would cost
    // most of what follows the search.
    let sample_hits = hits;
    let mut counted = t.counts.iter().copied().peekable();
    // Keyed by names of the spaces tried, looked up once a reversed digest.
    let mut by_match: FxHashMap<(Algorithm, &str, &str), (u64, u64)> = FxHashMap::default();
    let mut reversed_rows = 0;
    for hit in &sample_hits {
        while counted.next_if(|&(k, _)| k < hit.key).is_some() {}
        let rows = counted
            .next_if(|&(k, _)| k == hit.key)
            .map_or(0, |(_, n)| n);
        reversed_rows += rows;
        let e = by_match
            .entry((hit.algorithm, &hit.space, &hit.format))
            .or_default();
        e.0 += 1;
        e.1 += rows;
    }
    let mut matches: Vec<Match> = by_match
        .into_iter()
        .map(|((algorithm, space, format), (distinct, rows))| Match {
            algorithm,
            construction: opts.construction.label(),
            space: space.into(),
            format: format.into(),
            distinct,
            rows,
        })
        .collect();
    matches.sort_by(|a, b| b.rows.cmp(&a.rows).then_with(|| a.format.cmp(&b.format)));
    let mask = Mask {
        keep_first: 3,
        keep_last: 2,
        mask_char: '*',
    };
    let masked_samples = sample_hits
        .iter()
        .take(3)
        .map(|h| {
            let mut buf = vec![0u8; 4 * h.identifier.len() + 4];
            mask.apply(&h.identifier, &mut buf)
                .map(|b| String::from_utf8_lossy(b).into_owned())
                .unwrap_or_else(|_| "***".into())
        })
        .collect();
    let mut gpu_estimates = Vec::new();
    for space in &spaces {
        for &algorithm in &algorithms {
            let n = space.size() as f64;
            gpu_estimates.push(GpuEstimate {
                space: space.name.clone(),
                algorithm,
                candidates: n,
                seconds: n / algorithm.rtx4090_rate(),
            });
        }
    }
    let distinct = t.counts.len() as u64;
    let share = |a: u64, b: u64| if b == 0 { 0.0 } else { a as f64 / b as f64 };
    let verdict = if !sample_hits.is_empty() {
        let m = &matches[0];
        let digests = match prefix {
            Some(l) => format!("{l}-byte prefixes of {} digests", m.algorithm.name()),
            None => format!("{} digests", m.algorithm.name()),
        };
        format!(
            "REVERSED: {} of {} rows ({} distinct identifiers) recovered from {} of {} values written as {} in {:.1} s on this machine. A recipient can do the same: these digests are the identifiers, not pseudonyms.",
            reversed_rows,
            t.values,
            sample_hits.len(),
            digests,
            m.space,
            m.format,
            seconds
        )
    } else if t.digest_bytes.is_none() {
        "not tested: the column does not hold digests of a known length (16, 20, 28, 32, 48 or 64 bytes) or hex prefixes of at least 16 characters".to_string()
    } else if spaces.is_empty() {
        "not tested: no candidate space fits this column; give --space, a mask or --dict"
            .to_string()
    } else {
        NO_MATCH_VERDICT.to_string()
    };
    let hits = sample_hits;
    ColumnReport {
        column: t.column,
        values: t.values,
        empty: t.empty,
        distinct,
        malformed: t.malformed,
        encoding: t.encoding.filter(|_| t.digest_bytes.is_some()),
        digest_bytes: t.digest_bytes,
        truncated_to_bytes: prefix,
        expected_chance_matches: prefix
            .map(|l| candidates as f64 * distinct as f64 / 2f64.powi(8 * l.min(16) as i32)),
        algorithms,
        attempts,
        candidates,
        seconds,
        candidates_per_second: if seconds > 0.0 {
            candidates as f64 / seconds
        } else {
            0.0
        },
        reversed_rows,
        reversed_distinct: hits_len(&matches),
        reversed_share: share(reversed_rows, t.values),
        reversed_distinct_share: share(hits_len(&matches), distinct),
        matches,
        masked_samples,
        gpu_estimates,
        verdict,
        hits,
    }
}

/// Runs [`audit`] under each construction in turn (known salts before and
/// after, hashes of hashes) until one reverses something; the figures add
/// up over all tried. Returns the report and the index of the construction
/// it describes (`--reveal` recomputes digests with it).
pub fn audit_constructions(
    t: &ColumnTargets,
    opts: &AuditOptions,
    constructions: &[Construction],
    progress: &AtomicU64,
) -> (ColumnReport, usize) {
    let mut best: Option<(ColumnReport, usize)> = None;
    let (mut candidates, mut seconds, mut attempts) = (0, 0.0, Vec::new());
    let one = [opts.construction.clone()];
    let list = if constructions.is_empty() {
        &one[..]
    } else {
        constructions
    };
    for (i, c) in list.iter().enumerate() {
        let mut o = opts.clone();
        o.construction = c.clone();
        let r = audit(t.clone(), &o, progress);
        candidates += r.candidates;
        seconds += r.seconds;
        attempts.extend(r.attempts.iter().cloned());
        let found = r.reversed_rows > 0;
        if best.is_none() || found {
            best = Some((r, i));
        }
        if found {
            break;
        }
    }
    let (mut r, i) = best.unwrap_or_else(|| (audit(t.clone(), opts, progress), 0));
    if list.len() > 1 {
        r.candidates = candidates;
        r.seconds = seconds;
        r.attempts = attempts;
        r.candidates_per_second = if seconds > 0.0 {
            candidates as f64 / seconds
        } else {
            0.0
        };
    }
    (r, i)
}

/// The constructions a list of known salts gives: each salt before, then
/// after, the identifier.
pub fn salted_constructions(salts: &[Vec<u8>]) -> Vec<Construction> {
    salts
        .iter()
        .flat_map(|salt| {
            [true, false].map(|prefix| Construction::Salted {
                salt: salt.clone(),
                prefix,
            })
        })
        .collect()
}

/// Parses a hash-of-a-hash name: `md5-hex`, `MD5-HEX`, `sha1-hex`,
/// `sha256-hex`, `SHA256-HEX` (upper case: the inner digest's hex is upper
/// case) into [`Construction::Nested`].
pub fn parse_nested(name: &str) -> Option<Construction> {
    let (alg, hex) = name.rsplit_once('-')?;
    let upper = match hex {
        "hex" => false,
        "HEX" => true,
        _ => return None,
    };
    Some(Construction::Nested {
        inner: Algorithm::parse(&alg.to_ascii_lowercase())?,
        upper,
    })
}

fn hits_len(m: &[Match]) -> u64 {
    m.iter().map(|m| m.distinct).sum()
}
