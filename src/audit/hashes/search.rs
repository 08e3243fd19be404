//! The search loop: every candidate of a space, hashed and looked up in the
//! target set, in parallel.
//!
//! Targets are kept as the first 16 bytes of each distinct digest (sorted),
//! behind a bitmap of their top bits: almost every candidate is rejected by
//! one bit test in a table that fits in cache. A 128-bit match is taken as a
//! match: the chance that any of 10^9 candidates matches one of 5·10^7
//! targets by accident on 128 bits is below 10^-21.

use std::string::String;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Instant;
use std::vec::Vec;

use rayon::prelude::*;

use super::algo::{Algorithm, BlockKernel, Construction, digest_key};
use super::space::{Pattern, Source, Space};

/// Distinct target digests, by their first 16 bytes.
#[derive(Debug, Clone)]
pub struct TargetSet {
    keys: Vec<u128>,
    bitmap: Vec<u64>,
    shift: u32,
}

impl TargetSet {
    /// Builds the set (duplicates removed). Memory: 16 bytes a target plus a
    /// bitmap of about 16 bits a target.
    pub fn new(mut keys: Vec<u128>) -> Self {
        keys.sort_unstable();
        keys.dedup();
        let bits = (keys.len().max(1) * 16)
            .next_power_of_two()
            .clamp(1 << 16, 1 << 32);
        let log = bits.trailing_zeros();
        let shift = 128 - log;
        let mut bitmap = vec![0u64; bits / 64];
        for k in &keys {
            let i = (k >> shift) as usize;
            bitmap[i / 64] |= 1 << (i % 64);
        }
        TargetSet {
            keys,
            bitmap,
            shift,
        }
    }

    /// Number of distinct targets.
    pub fn len(&self) -> usize {
        self.keys.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    /// Whether `key` is a target.
    #[inline]
    pub fn contains(&self, key: u128) -> bool {
        let i = (key >> self.shift) as usize;
        if self.bitmap[i / 64] & (1 << (i % 64)) == 0 {
            return false;
        }
        self.keys.binary_search(&key).is_ok()
    }
}

/// A reversed digest.
#[derive(Clone, Debug)]
pub struct Hit {
    /// First 16 bytes of the digest.
    pub key: u128,
    /// The identifier that hashes to it (as hashed, e.g. `010-1234-5678`).
    pub identifier: Vec<u8>,
    /// The algorithm.
    pub algorithm: Algorithm,
    /// The space it came from.
    pub space: String,
    /// The written format within the space.
    pub format: String,
}

/// One (space, format, algorithm) run.
#[derive(Clone, Debug, serde::Serialize)]
pub struct Attempt {
    /// Space name.
    pub space: String,
    /// Format name.
    pub format: String,
    /// Algorithm.
    pub algorithm: Algorithm,
    /// Construction (`plain`, `salt-prefix`, `salt-suffix`, `hmac`).
    pub construction: &'static str,
    /// Candidates hashed.
    pub candidates: u64,
    /// Wall time.
    pub seconds: f64,
    /// Distinct digests this run reversed.
    pub reversed: u64,
}

impl Attempt {
    /// Candidates per second.
    pub fn rate(&self) -> f64 {
        if self.seconds > 0.0 {
            self.candidates as f64 / self.seconds
        } else {
            0.0
        }
    }
}

/// Runs every candidate of `space` under each algorithm, adding what it
/// reverses to `found` (first match of a digest wins). `progress` counts
/// candidates done; the search stops as soon as every target is reversed,
/// or when `stop` is set.
#[allow(clippy::too_many_arguments)]
pub fn search(
    targets: &TargetSet,
    space: &Space,
    algorithms: &[Algorithm],
    construction: &Construction,
    threads: usize,
    progress: &AtomicU64,
    stop: &AtomicBool,
    found: &mut std::collections::HashMap<u128, Hit>,
) -> Vec<Attempt> {
    let pool = match rayon::ThreadPoolBuilder::new()
        .num_threads(threads.max(1))
        .build()
    {
        Ok(p) => p,
        Err(_) => return Vec::new(),
    };
    let mut attempts = Vec::new();
    for &algo in algorithms {
        let units: Vec<(String, Unit<'_>)> = match &space.source {
            Source::Formats(formats) => formats
                .iter()
                .map(|f| (f.name.clone(), Unit::Patterns(&f.patterns)))
                .collect(),
            Source::Ipv4 => vec![("1.2.3.4".into(), Unit::Ipv4)],
            Source::Dict(lines) => vec![("dictionary".into(), Unit::Dict(lines))],
        };
        for (format, unit) in units {
            if stop.load(Ordering::Relaxed) {
                break;
            }
            let new = Mutex::new(Vec::new());
            let t = Instant::now();
            let remaining = targets.len().saturating_sub(found.len());
            let n = pool
                .install(|| unit.run(targets, algo, construction, progress, stop, &new, remaining));
            let mut reversed = 0;
            for (key, identifier) in new.into_inner().unwrap_or_default() {
                if let std::collections::hash_map::Entry::Vacant(e) = found.entry(key) {
                    e.insert(Hit {
                        key,
                        identifier,
                        algorithm: algo,
                        space: space.name.clone(),
                        format: format.clone(),
                    });
                    reversed += 1;
                }
            }
            attempts.push(Attempt {
                space: space.name.clone(),
                format,
                algorithm: algo,
                construction: construction.label(),
                candidates: n,
                seconds: t.elapsed().as_secs_f64(),
                reversed,
            });
            if found.len() >= targets.len() {
                stop.store(true, Ordering::Relaxed);
            }
        }
    }
    attempts
}

enum Unit<'a> {
    Patterns(&'a [Pattern]),
    Ipv4,
    Dict(&'a [Vec<u8>]),
}

/// Candidates per work item: large enough to amortize scheduling, small
/// enough to balance two cores and report progress.
const CHUNK: u128 = 2_000_000; // a multiple of 10 and 100: work items start on a last-digit boundary

impl Unit<'_> {
    #[allow(clippy::too_many_arguments)]
    fn run(
        &self,
        targets: &TargetSet,
        algo: Algorithm,
        c: &Construction,
        progress: &AtomicU64,
        stop: &AtomicBool,
        found: &Mutex<Vec<(u128, Vec<u8>)>>,
        remaining: usize,
    ) -> u64 {
        // A digest matches at most once per unit (one format, one
        // algorithm), so the number of records says when nothing is left.
        let record = |key: u128, id: &[u8]| {
            if let Ok(mut f) = found.lock() {
                f.push((key, id.to_vec()));
                if f.len() >= remaining {
                    stop.store(true, Ordering::Relaxed);
                }
            }
        };
        match self {
            Unit::Patterns(patterns) => {
                let items: Vec<(usize, u128, u128)> = patterns
                    .iter()
                    .enumerate()
                    .flat_map(|(i, p)| {
                        let size = p.size();
                        (0..size.div_ceil(CHUNK))
                            .map(move |k| (i, k * CHUNK, ((k + 1) * CHUNK).min(size)))
                    })
                    .collect();
                items
                    .par_iter()
                    .map(|&(i, start, end)| {
                        if stop.load(Ordering::Relaxed) {
                            return 0;
                        }
                        let n = run_pattern(&patterns[i], start, end, targets, algo, c, &record);
                        progress.fetch_add(n, Ordering::Relaxed);
                        n
                    })
                    .sum()
            }
            Unit::Ipv4 => (0u64..256)
                .into_par_iter()
                .map(|hi| {
                    if stop.load(Ordering::Relaxed) {
                        return 0;
                    }
                    let mut text = [0u8; 15];
                    let mut digest = [0u8; 64];
                    // One kernel per dotted-quad length (7 to 15 bytes).
                    let mut kernels: Vec<Option<BlockKernel>> = (0..16)
                        .map(|len| {
                            if matches!(c, Construction::Plain) {
                                BlockKernel::new(algo, len)
                            } else {
                                None
                            }
                        })
                        .collect();
                    for lo in 0u32..1 << 24 {
                        let ip = ((hi as u32) << 24) | lo;
                        let len = format_ipv4(ip, &mut text);
                        let key = match kernels.get_mut(len).and_then(Option::as_mut) {
                            Some(k) => {
                                k.block[0][..len].copy_from_slice(&text[..len]);
                                k.key()
                            }
                            None => {
                                let n = c.digest(algo, &text[..len], &mut digest);
                                digest_key(&digest[..n])
                            }
                        };
                        if targets.contains(key) {
                            record(key, &text[..len]);
                        }
                    }
                    progress.fetch_add(1 << 24, Ordering::Relaxed);
                    1u64 << 24
                })
                .sum(),
            Unit::Dict(lines) => lines
                .par_chunks(4096)
                .map(|chunk| {
                    let mut digest = [0u8; 64];
                    for line in chunk {
                        let n = c.digest(algo, line, &mut digest);
                        let key = digest_key(&digest[..n]);
                        if targets.contains(key) {
                            record(key, line);
                        }
                    }
                    progress.fetch_add(chunk.len() as u64, Ordering::Relaxed);
                    chunk.len() as u64
                })
                .sum(),
        }
    }
}

/// Candidates `start..end` of one pattern.
fn run_pattern(
    p: &Pattern,
    start: u128,
    end: u128,
    targets: &TargetSet,
    algo: Algorithm,
    c: &Construction,
    record: &dyn Fn(u128, &[u8]),
) -> u64 {
    let len = p.template.len();
    let mut odo = vec![0u8; p.vars.len()];
    let count = (end - start) as u64;
    let (pre, post): (&[u8], &[u8]) = match c {
        Construction::Salted { salt, prefix: true } => (salt, &[]),
        Construction::Salted {
            salt,
            prefix: false,
        } => (&[], salt),
        _ => (&[], &[]),
    };
    let fast = if matches!(c, Construction::Hmac { .. }) {
        None
    } else {
        BlockKernel::new(algo, pre.len() + len + post.len())
    };
    if let Some(mut k) = fast {
        // The candidate lives inside the block; salt around it is written once.
        let off = pre.len();
        k.block[0][..off].copy_from_slice(pre);
        k.block[0][off..off + len].copy_from_slice(&p.template);
        k.block[0][off + len..off + len + post.len()].copy_from_slice(post);
        let last = p.vars.last().copied();
        match last {
            // The common case: the last position is a free digit. Keep one
            // block per value of it and only rewrite the (rarely changing)
            // other positions, so no candidate is hashed right after a store
            // into its own block (store-to-load forwarding stalls otherwise
            // cost as much as the lookup).
            Some((pos, cs))
                if p.check == super::space::Check::None
                    && start % cs.len() as u128 == 0
                    && (end - start) % cs.len() as u128 == 0 =>
            {
                let head = Pattern {
                    template: p.template.clone(),
                    vars: p.vars[..p.vars.len() - 1].to_vec(),
                    check: p.check,
                };
                let mut odo_head = vec![0u8; head.vars.len()];
                let mut cand = p.template.clone();
                head.seek(start / cs.len() as u128, &mut cand, &mut odo_head);
                let mut blocks: Vec<BlockKernel> = cs
                    .iter()
                    .map(|&c| {
                        let mut b = k.clone();
                        b.block[0][off..off + len].copy_from_slice(&cand);
                        b.block[0][off + pos] = c;
                        b
                    })
                    .collect();
                for _ in 0..count / cs.len() as u64 {
                    for b in &blocks {
                        let key = b.key();
                        if targets.contains(key) {
                            record(key, &b.block[0][off..off + len]);
                        }
                    }
                    let mut before = [0u8; 56];
                    before[..len].copy_from_slice(&cand);
                    head.next(&mut cand, &mut odo_head);
                    for (i, (&new, &old)) in cand.iter().zip(&before[..len]).enumerate() {
                        if new != old && i != pos {
                            for b in &mut blocks {
                                b.block[0][off + i] = new;
                            }
                        }
                    }
                }
            }
            _ => {
                p.seek(start, &mut k.block[0][off..off + len], &mut odo);
                for _ in 0..count {
                    let key = k.key();
                    if targets.contains(key) {
                        record(key, &k.block[0][off..off + len]);
                    }
                    p.next(&mut k.block[0][off..off + len], &mut odo);
                }
            }
        }
    } else {
        let mut cand = p.template.clone();
        let mut digest = [0u8; 64];
        p.seek(start, &mut cand, &mut odo);
        for _ in 0..count {
            let n = c.digest(algo, &cand, &mut digest);
            let key = digest_key(&digest[..n]);
            if targets.contains(key) {
                record(key, &cand);
            }
            p.next(&mut cand, &mut odo);
        }
    }
    count
}

/// Writes `ip` as a dotted quad; returns its length.
fn format_ipv4(ip: u32, out: &mut [u8; 15]) -> usize {
    let mut n = 0;
    for (i, octet) in ip.to_be_bytes().into_iter().enumerate() {
        if i > 0 {
            out[n] = b'.';
            n += 1;
        }
        if octet >= 100 {
            out[n] = b'0' + octet / 100;
            n += 1;
        }
        if octet >= 10 {
            out[n] = b'0' + octet / 10 % 10;
            n += 1;
        }
        out[n] = b'0' + octet % 10;
        n += 1;
    }
    n
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn target_set_membership() {
        let keys: Vec<u128> = (0..1000u128)
            .map(|i| i.wrapping_mul(0x9E37_79B9_7F4A_7C15_F39C_C060_5CED_C835))
            .collect();
        let t = TargetSet::new(keys.clone());
        assert_eq!(t.len(), 1000);
        assert!(keys.iter().all(|k| t.contains(*k)));
        assert!(!t.contains(12345));
        assert!(TargetSet::new(vec![]).is_empty());
    }

    #[test]
    fn dotted_quads() {
        let mut b = [0u8; 15];
        let n = format_ipv4(0xC0A8_0001, &mut b);
        assert_eq!(&b[..n], b"192.168.0.1");
        let n = format_ipv4(0, &mut b);
        assert_eq!(&b[..n], b"0.0.0.0");
        let n = format_ipv4(u32::MAX, &mut b);
        assert_eq!(&b[..n], b"255.255.255.255");
    }
}
