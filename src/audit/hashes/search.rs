//! The search loop: every candidate of a space, hashed and looked up in the
//! target set, in parallel.
//!
//! Targets are kept as the first 16 bytes of each distinct digest (sorted),
//! behind two blocked Bloom filters and a bucket index ([`TargetSet`]):
//! almost every candidate is rejected by one word of a filter that fits in
//! cache. A 128-bit match is taken as a
//! match: the chance that any of 10^9 candidates matches one of 5·10^7
//! targets by accident on 128 bits is below 10^-21.

use std::fmt;
use std::string::String;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;
use std::vec::Vec;

use rayon::prelude::*;

use super::algo::{Algorithm, BlockKernel, Construction, Kernel, block_keys, digest_key};
use super::space::{Pattern, Source, Space};

pub use super::targets::TargetSet;

/// Merges one unit's hits `new` (digest key, identifier) into `found`,
/// which is sorted by key and stays so; returns how many keys are new.
///
/// A truncated digest is found under its prefix: keys are masked with
/// `mask` first. Where several candidates give one key (a prefix that two
/// identifiers share), the smallest identifier is kept, so a run's answer
/// does not depend on which thread found what first; a key already in
/// `found` keeps its earlier hit. Sorting and merging costs a million hits
/// far less than a million table inserts, on one core after the search.
fn merge_hits(
    found: &mut Vec<Hit>,
    mut new: Vec<(u128, Vec<u8>)>,
    mask: u128,
    hit: impl Fn(u128, Vec<u8>) -> Hit,
) -> u64 {
    for (key, _) in &mut new {
        *key &= mask;
    }
    new.sort_unstable();
    new.dedup_by_key(|(key, _)| *key);
    let old = std::mem::take(found);
    found.reserve(old.len() + new.len());
    let mut old = old.into_iter().peekable();
    let mut reversed = 0;
    for (key, identifier) in new {
        while let Some(h) = old.next_if(|h| h.key < key) {
            found.push(h);
        }
        if let Some(h) = old.next_if(|h| h.key == key) {
            found.push(h);
            continue;
        }
        found.push(hit(key, identifier));
        reversed += 1;
    }
    found.extend(old);
    reversed
}

/// A reversed digest. Its `Debug` shows the algorithm and format, never
/// the identifier or the digest.
#[derive(Clone)]
pub struct Hit {
    /// First 16 bytes of the digest.
    pub key: u128,
    /// The identifier that hashes to it (as hashed, e.g. `010-1234-5678`).
    pub identifier: Vec<u8>,
    /// The algorithm.
    pub algorithm: Algorithm,
    /// The space it came from (shared by every hit of a run).
    pub space: Arc<str>,
    /// The written format within the space.
    pub format: Arc<str>,
}

impl fmt::Debug for Hit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Hit")
            .field("algorithm", &self.algorithm)
            .field("space", &self.space)
            .field("format", &self.format)
            .finish_non_exhaustive()
    }
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
/// reverses to `found`, which is kept in key order with one hit a digest
/// (the first match of a digest wins). `progress` counts
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
    found: &mut Vec<Hit>,
) -> Vec<Attempt> {
    let pool = match rayon::ThreadPoolBuilder::new()
        .num_threads(threads.max(1))
        .build()
    {
        Ok(p) => p,
        Err(_) => return Vec::new(),
    };
    let mut attempts = Vec::new();
    // `Space::parse` refuses these; one built by hand is skipped rather
    // than started on a search that would not end.
    if !space.searchable() {
        return attempts;
    }
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
            let (space_name, format_name): (Arc<str>, Arc<str>) =
                (space.name.as_str().into(), format.as_str().into());
            let hit = |key, identifier| Hit {
                key,
                identifier,
                algorithm: algo,
                space: Arc::clone(&space_name),
                format: Arc::clone(&format_name),
            };
            let reversed = merge_hits(
                found,
                new.into_inner().unwrap_or_default(),
                targets.mask(),
                hit,
            );
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
                // Work items are numbered, not listed: a list would grow
                // with the space. `ends[i]` is the number of items in
                // patterns `0..=i`, so memory follows the pattern count.
                let mut ends: Vec<u64> = Vec::with_capacity(patterns.len());
                let mut total = 0u64;
                for p in patterns.iter() {
                    let items = p
                        .checked_size()
                        .and_then(|size| u64::try_from(size.div_ceil(CHUNK)).ok())
                        .and_then(|n| total.checked_add(n));
                    match items {
                        Some(t) => total = t,
                        None => return 0,
                    }
                    ends.push(total);
                }
                (0..total)
                    .into_par_iter()
                    .map(|item| {
                        if stop.load(Ordering::Relaxed) {
                            return 0;
                        }
                        let Some((p, start)) = locate(&ends, item)
                            .and_then(|(i, start)| Some((patterns.get(i)?, start)))
                        else {
                            return 0;
                        };
                        let end = start.saturating_add(CHUNK).min(p.size());
                        let n = run_pattern(p, start, end, targets, algo, c, &record);
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

/// Work item `item` as (pattern index, first candidate), given `ends[i]`,
/// the number of items in patterns `0..=i`.
fn locate(ends: &[u64], item: u64) -> Option<(usize, u128)> {
    let i = ends.partition_point(|&e| e <= item);
    if i >= ends.len() {
        return None;
    }
    let first = i.checked_sub(1).and_then(|j| ends.get(j)).copied();
    Some((i, u128::from(item - first.unwrap_or(0)) * CHUNK))
}

/// Hashes candidates `start..end` of one pattern (plain construction) on
/// the calling thread and returns how many are targets: the inner loop of
/// [`search`], for benchmarks. Runs that start and end on multiples of 100
/// (better, of 1,000) take the fast path.
pub fn scan_pattern(
    p: &Pattern,
    start: u128,
    end: u128,
    targets: &TargetSet,
    algo: Algorithm,
) -> u64 {
    let hits = std::cell::Cell::new(0u64);
    run_pattern(
        p,
        start,
        end,
        targets,
        algo,
        &Construction::Plain,
        &|_, _| {
            hits.set(hits.get() + 1);
        },
    );
    hits.get()
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
    let count = u64::try_from(end.saturating_sub(start)).unwrap_or(u64::MAX);
    let (pre, post): (&[u8], &[u8]) = match c {
        Construction::Salted { salt, prefix: true } => (salt, &[]),
        Construction::Salted {
            salt,
            prefix: false,
        } => (&[], salt),
        _ => (&[], &[]),
    };
    let fast = if matches!(c, Construction::Hmac { .. } | Construction::Nested { .. }) {
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
        let kernel = Kernel::for_algo(algo);
        match tail_len(p, start, end, off, kernel.blocks_per_call()) {
            // The common case: the last positions are free characters (the
            // last two or three digits of a phone number). Keep one block per value
            // of them and only rewrite the (rarely changing) other positions,
            // so no candidate is hashed right after a store into its own
            // block (store-to-load forwarding stalls otherwise cost as much
            // as the lookup), and the blocks can be hashed four at a time.
            Some(m) => {
                let split = p.vars.len() - m;
                let head = Pattern {
                    template: p.template.clone(),
                    vars: p.vars[..split].to_vec(),
                    check: p.check,
                };
                let tail = Pattern {
                    template: p.template.clone(),
                    vars: p.vars[split..].to_vec(),
                    check: p.check,
                };
                let per_head = tail.size();
                let mut odo_head = vec![0u8; head.vars.len()];
                let mut cand = p.template.clone();
                head.seek(start / per_head, &mut cand, &mut odo_head);
                let mut odo_tail = vec![0u8; m];
                let mut blocks: Vec<BlockKernel> = (0..per_head)
                    .map(|t| {
                        let mut c = cand.clone();
                        tail.seek(t, &mut c, &mut odo_tail);
                        let mut b = k.clone();
                        b.block[0][off..off + len].copy_from_slice(&c);
                        b
                    })
                    .collect();
                let tail_pos: Vec<usize> = tail.vars.iter().map(|&(pos, _)| pos).collect();
                // Every block has the same bytes but at the tail positions
                // (the head's are rewritten in all of them at once).
                let shared = tail_pos
                    .iter()
                    .fold(u64::MAX, |m, &pos| m & !(1u64 << (off + pos)));
                // The keys of several runs go through the filters at once,
                // so that enough of their far-filter misses are in flight:
                // as many whole runs as fill one of the filters' batches
                // (five runs of 100 blocks, not six, which left a second
                // batch of 88 keys). A hit's candidate is its run's head
                // with its block's tail.
                let run_len = blocks.len();
                let per_pass = (TargetSet::BATCH / run_len).max(1);
                let mut keys = vec![0u128; run_len * per_pass];
                let mut heads = vec![0u8; len * per_pass];
                let mut found = p.template.clone();
                let runs = count / per_head as u64;
                let mut done = 0u64;
                while done < runs {
                    let n = usize::try_from(runs - done).map_or(per_pass, |r| r.min(per_pass));
                    let passes = keys.chunks_mut(run_len).zip(heads.chunks_mut(len));
                    for (run_keys, run_head) in passes.take(n) {
                        block_keys(kernel, &blocks, shared, run_keys, |k| targets.prefetch(k));
                        run_head.copy_from_slice(&cand);
                        head.next(&mut cand, &mut odo_head);
                        for (i, (&new, &old)) in cand.iter().zip(&*run_head).enumerate() {
                            if new != old && !tail_pos.contains(&i) {
                                for b in &mut blocks {
                                    b.block[0][off + i] = new;
                                }
                            }
                        }
                    }
                    targets.for_each_hit(&keys[..n * run_len], |i| {
                        let (run, t) = (i / run_len, i % run_len);
                        found.copy_from_slice(&heads[run * len..(run + 1) * len]);
                        for &pos in &tail_pos {
                            found[pos] = blocks[t].block[0][off + pos];
                        }
                        record(keys[i], &found);
                    });
                    done += n as u64;
                }
            }
            None => {
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

/// How many trailing positions of `p` get a block each in the fast loop
/// (the candidate at byte `off` of the block, hashed `width` blocks a
/// kernel call): two or three, whichever leaves fewer of the kernel's
/// lanes empty (two on a tie), among those whose alphabets together make
/// a multiple of four blocks of at most 4,096, lying past the block's
/// first 8 bytes (which a run hashes once); else one; `None` when the
/// pattern has a check digit or `start..end` does not cover whole runs of
/// those positions.
///
/// Sixteen lanes hash 112 blocks for the 100 of two digits but 1,008 for
/// the 1,000 of three; twenty lanes hash 100 for 100, and the smaller run
/// stays in the first-level cache (1,000 blocks are 65 KB).
fn tail_len(p: &Pattern, start: u128, end: u128, off: usize, width: usize) -> Option<usize> {
    if p.check != super::space::Check::None || p.vars.is_empty() {
        return None;
    }
    let n = p.vars.len();
    let aligned = |m: usize| {
        let size: u128 = p.vars[n - m..]
            .iter()
            .map(|(_, cs)| cs.len() as u128)
            .product();
        let whole = |x: u128| x.checked_rem(size) == Some(0);
        (whole(start) && whole(end.saturating_sub(start))).then_some(size)
    };
    // Blocks hashed per candidate, as a fraction hashed / size.
    let width = width.max(1) as u128;
    let cost = |size: u128| (size.div_ceil(width) * width, size);
    let mut best: Option<(usize, (u128, u128))> = None;
    for m in 2..=n.min(3) {
        let past_shared = m == 2 || p.vars[n - m].0 + off >= 8;
        let Some(size) = aligned(m) else { continue };
        if size % 4 != 0 || size > 4096 || !past_shared {
            continue;
        }
        let (hashed, size) = cost(size);
        // hashed / size < best_hashed / best_size, without division.
        if best.is_none_or(|(_, (h, s))| hashed * s < h * size) {
            best = Some((m, (hashed, size)));
        }
    }
    best.map(|(m, _)| m).or_else(|| aligned(1).map(|_| 1))
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
    fn work_items_are_numbered_across_patterns() {
        // Patterns of 2, 0 and 3 items.
        let ends = [2u64, 2, 5];
        let got: Vec<_> = (0..6).map(|i| locate(&ends, i)).collect();
        assert_eq!(
            got,
            [
                Some((0, 0)),
                Some((0, CHUNK)),
                Some((2, 0)),
                Some((2, CHUNK)),
                Some((2, 2 * CHUNK)),
                None
            ]
        );
        assert_eq!(locate(&[], 0), None);
    }

    #[test]
    fn a_search_spans_chunks_and_patterns() {
        use super::super::space::Format;
        let b = (1950, 2005);
        let pat = |m: &str| super::super::space::mask(m).unwrap();
        // 10^3 candidates, then 3·10^6: two work items, the second partial.
        let space = Space {
            name: "t".into(),
            source: Source::Formats(vec![Format {
                name: "f".into(),
                patterns: vec![pat("?d?d?d"), pat("3?d?d?d?d?d?d")],
            }]),
        };
        assert!(Space::parse("?d?d?d", b).is_ok());
        let key = |id: &[u8]| {
            let mut d = [0u8; 64];
            let n = Construction::Plain.digest(Algorithm::Md5, id, &mut d);
            digest_key(&d[..n])
        };
        let ids: [&[u8]; 3] = [b"042", b"3000001", b"3999999"];
        let targets = TargetSet::new(ids.iter().map(|id| key(id)).collect());
        let mut found = Vec::new();
        let attempts = search(
            &targets,
            &space,
            &[Algorithm::Md5],
            &Construction::Plain,
            2,
            &AtomicU64::new(0),
            &AtomicBool::new(false),
            &mut found,
        );
        assert_eq!(attempts.len(), 1);
        assert!(found.is_sorted_by_key(|h| h.key));
        for id in ids {
            let i = found.binary_search_by_key(&key(id), |h| h.key);
            assert_eq!(i.map(|i| found[i].identifier.as_slice()), Ok(id));
        }
    }

    /// Hits merge into `found` in key order; a prefix that two candidates
    /// share keeps the smaller identifier, whatever order they came in; a
    /// key found before keeps its hit.
    #[test]
    fn merged_hits_are_sorted_and_their_choice_repeatable() {
        let hit = |key, identifier| Hit {
            key,
            identifier,
            algorithm: Algorithm::Sha256,
            space: "s".into(),
            format: "f".into(),
        };
        let mask = !0u128 << 64;
        let mut found = vec![hit(5 << 64, b"old".to_vec())];
        let new = vec![
            ((9 << 64) | 1, b"b".to_vec()),
            ((5 << 64) | 3, b"new".to_vec()),
            ((9 << 64) | 2, b"a".to_vec()),
            (2 << 64, b"c".to_vec()),
        ];
        assert_eq!(merge_hits(&mut found, new, mask, hit), 2);
        let got: Vec<(u128, &[u8])> = found
            .iter()
            .map(|h| (h.key >> 64, h.identifier.as_slice()))
            .collect();
        assert_eq!(got, [(2, &b"c"[..]), (5, &b"old"[..]), (9, &b"a"[..])]);
    }

    /// Every block kernel (MD5 in vector lanes, SHA-256 four-way, SHA-1
    /// and the rest one at a time) reverses exactly the identifiers whose
    /// digest, computed by the digest crates one value at a time, is a
    /// target: none missed, none extra.
    /// Searches pattern `p` with `algo` for the digests of every `step`-th
    /// candidate and of the last one, mixed with `noise` keys that match
    /// nothing, and asserts that exactly those candidates are reversed.
    /// Returns the targets and the number of distinct candidates wanted.
    fn assert_reverses_sampled(
        p: &super::super::space::Pattern,
        algo: Algorithm,
        step: usize,
        noise: u128,
        threads: usize,
    ) -> (TargetSet, usize) {
        use super::super::space::Format;
        let all: Vec<Vec<u8>> = (0..p.size())
            .map(|i| {
                let mut c = p.template.clone();
                p.seek(i, &mut c, &mut vec![0u8; p.vars.len()]);
                c
            })
            .collect();
        let key = |id: &[u8]| {
            let mut d = [0u8; 64];
            let n = algo.hash(id, &mut d);
            digest_key(&d[..n])
        };
        let mut want: Vec<&[u8]> = all.iter().step_by(step).map(Vec::as_slice).collect();
        want.push(&all[all.len() - 1]);
        let mut keys: Vec<u128> = want.iter().map(|id| key(id)).collect();
        keys.extend((1..noise).map(|i| i.wrapping_mul(0x9E37_79B9_7F4A_7C15)));
        let targets = TargetSet::new(keys);
        let space = Space {
            name: "t".into(),
            source: Source::Formats(vec![Format {
                name: "f".into(),
                patterns: vec![p.clone()],
            }]),
        };
        let mut found = Vec::new();
        search(
            &targets,
            &space,
            &[algo],
            &Construction::Plain,
            threads,
            &AtomicU64::new(0),
            &AtomicBool::new(false),
            &mut found,
        );
        let mut got: Vec<&[u8]> = found.iter().map(|h| h.identifier.as_slice()).collect();
        got.sort_unstable();
        want.sort_unstable();
        want.dedup();
        assert_eq!(
            got,
            want,
            "{} {}",
            algo.name(),
            String::from_utf8_lossy(&p.template)
        );
        (targets, want.len())
    }

    #[test]
    fn the_kernels_reverse_exactly_what_the_scalar_hash_does() {
        let p = super::super::space::mask("01?d?d-?d?d?d").unwrap();
        for algo in [Algorithm::Md5, Algorithm::Sha1, Algorithm::Sha256] {
            // Every 37th candidate, the first and the last, and keys that
            // match nothing.
            let (targets, wanted) = assert_reverses_sampled(&p, algo, 37, 1000, 2);
            assert_eq!(scan_pattern(&p, 0, p.size(), &targets, algo), wanted as u64);
        }
    }

    /// The four-way SHA-256/SHA-224 path that hashes what a run of
    /// candidates shares once (rounds 0 and 1, constant 16-byte groups)
    /// reverses exactly what the digest crates do one value at a time: the
    /// four kr-mobile formats, the other named spaces' lengths, and every
    /// length from 9 to 55 bytes with the varying digits in each 16-byte
    /// group of the block.
    #[test]
    fn the_shared_run_path_reverses_exactly_what_the_scalar_hash_does() {
        let mut masks: Vec<String> = [
            "0101234?d?d?d?d",
            "010-1234-?d?d?d?d",
            "+82101234?d?d?d?d",
            "82101234?d?d?d?d",
            "+1415555?d?d?d?d",
            "123-45-?d?d?d?d",
            "12345?d?d?d?d",
            "411111111111?d?d?d?d",
        ]
        .map(String::from)
        .to_vec();
        for len in 9..=55usize {
            // Varying digits at the end, and (for longer ones) in the middle.
            masks.push(format!("{}?d?d?d", "k".repeat(len - 3)));
            if len >= 24 {
                masks.push(format!("{}?d?d{}", "m".repeat(len - 12), "n".repeat(10)));
            }
        }
        for algo in [Algorithm::Sha256, Algorithm::Sha224] {
            for m in &masks {
                let p = super::super::space::mask(m).unwrap();
                assert_reverses_sampled(&p, algo, 7, 200, 1);
            }
        }
    }

    /// Three digits a run where they fill the kernel's lanes better than
    /// two, lie past the shared first 8 bytes and the range covers whole
    /// runs of 1,000; else two, else one.
    #[test]
    fn runs_take_three_digits_where_they_fill_the_lanes() {
        let mask = |m: &str| super::super::space::mask(m).unwrap();
        let phone = mask("010?d?d?d?d?d?d?d?d");
        // Sixteen lanes (and MD5's): 1,008 blocks for 1,000, not 112 for 100.
        for width in [16, 32] {
            assert_eq!(tail_len(&phone, 0, phone.size(), 0, width), Some(3));
            assert_eq!(tail_len(&phone, 2_000_000, 4_000_000, 0, width), Some(3));
        }
        // Twenty lanes, four, one: two digits fill them, in fewer blocks.
        for width in [20, 4, 1] {
            assert_eq!(tail_len(&phone, 0, phone.size(), 0, width), Some(2));
        }
        assert_eq!(tail_len(&phone, 100, 1_100, 0, 16), Some(2));
        assert_eq!(tail_len(&phone, 0, 150, 0, 16), Some(1));
        // The third digit from the end at byte 7: it would vary a byte the
        // run hashes once.
        let short = mask("0101234?d?d?d");
        assert_eq!(tail_len(&short, 0, short.size(), 0, 16), Some(2));
        assert_eq!(tail_len(&short, 0, short.size(), 1, 16), Some(3));
        let ipv4ish = mask("10.0.?d?d");
        assert_eq!(tail_len(&ipv4ish, 0, ipv4ish.size(), 0, 16), Some(2));
    }

    #[test]
    fn a_space_too_large_to_search_is_not_started() {
        use super::super::space::Format;
        let mut p = super::super::space::mask("?d").unwrap();
        p.vars = vec![(0, b"0123456789".as_slice()); 40];
        let space = Space {
            name: "huge".into(),
            source: Source::Formats(vec![Format {
                name: "f".into(),
                patterns: vec![p],
            }]),
        };
        let targets = TargetSet::new(vec![1]);
        let attempts = search(
            &targets,
            &space,
            &[Algorithm::Md5],
            &Construction::Plain,
            1,
            &AtomicU64::new(0),
            &AtomicBool::new(false),
            &mut Vec::new(),
        );
        assert!(attempts.is_empty());
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
