//! The target filter: distinct digests as their first 16 bytes (sorted),
//! behind two blocked Bloom filters and a bucket index, so almost every
//! candidate is rejected by one word of a filter that fits in cache.

use std::fmt;
use std::vec::Vec;

/// Distinct target digests, by their first 16 bytes. Its `Debug` shows
/// the number of digests only.
#[derive(Clone)]
pub struct TargetSet {
    /// Sorted, distinct.
    keys: Vec<u128>,
    /// A small filter that stays in the core's cache, then a larger one.
    near: Filter<true>,
    far: Filter<false>,
    /// `keys[starts[b]..starts[b + 1]]` are the keys whose top bits are `b`.
    starts: Vec<u32>,
    bucket_shift: u32,
    /// The digest bits compared: all of the 16-byte key, or the leading
    /// bytes of a truncated digest (the rest of a candidate's key is
    /// cleared before the lookup).
    mask: u128,
}

impl fmt::Debug for TargetSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TargetSet")
            .field("digests", &self.keys.len())
            .finish_non_exhaustive()
    }
}

/// A blocked Bloom filter: one 64-bit word chosen by the top bits of one
/// half of a key, two bits in it chosen by the low bits of the other half,
/// so a test is one memory access and a few 64-bit shifts. `HIGH` says
/// which half picks the word (the other picks the bits), so two filters
/// can look at disjoint bits; it is a type parameter because the probe
/// loops are the search's hottest code after the hashing, and a run-time
/// choice between the halves costs a select in each probe.
#[derive(Debug, Clone)]
struct Filter<const HIGH: bool> {
    words: Vec<u64>,
    shift: u32,
}

impl<const HIGH: bool> Filter<HIGH> {
    fn new(keys: &[u128], bits_per_key: usize) -> Self {
        let bits = (keys.len().max(1) * bits_per_key)
            .next_power_of_two()
            .clamp(1 << 16, 1 << 34);
        let words = bits / 64;
        let mut f = Filter {
            words: vec![0; words],
            shift: 64 - words.trailing_zeros(),
        };
        for &k in keys {
            let (i, m) = f.slot(k);
            f.words[i] |= m;
        }
        f
    }

    /// The word index and the two-bit mask of `key`.
    #[inline]
    fn slot(&self, key: u128) -> (usize, u64) {
        let (hi, lo) = ((key >> 64) as u64, key as u64);
        let (pick, bits) = if HIGH { (hi, lo) } else { (lo, hi) };
        (
            (pick >> self.shift) as usize,
            (1 << (bits & 63)) | (1 << ((bits >> 6) & 63)),
        )
    }
}

impl TargetSet {
    /// How many keys [`TargetSet::for_each_hit`] tests a stage at a time,
    /// and so the fewest a caller should hand it at once.
    pub const BATCH: usize = 512;

    /// Builds the set (duplicates removed). Memory: 16 bytes a target, two
    /// filters of 8 and 32 bits a target (8 and 16 past 4 M targets) and a
    /// bucket index of 2 to 4 bytes a target.
    pub fn new(keys: Vec<u128>) -> Self {
        Self::with_prefix(keys, 16)
    }

    /// A set of digest prefixes of `bytes` bytes (1 to 16): candidates
    /// match on their first `bytes` bytes only. `new` is `bytes = 16`,
    /// where the mask keeps every bit and costs one AND a lookup.
    pub fn with_prefix(mut keys: Vec<u128>, bytes: usize) -> Self {
        let mask = match bytes.clamp(1, 16) {
            16 => u128::MAX,
            b => !(u128::MAX >> (8 * b)),
        };
        for k in &mut keys {
            *k &= mask;
        }
        keys.sort_unstable();
        keys.dedup();
        keys.truncate(u32::MAX as usize - 1);
        // Almost every candidate is rejected by the near filter (about 1 in
        // 20 passes), which is small enough to stay in a core's cache for a
        // million targets; the far one then lets about 1 in 250 of those
        // through to the bucket lookup. Memory latency, not hashing, is what
        // a lookup costs, so the common case touches only cached memory.
        let near = Filter::new(&keys, 8);
        let far = Filter::new(&keys, if keys.len() <= 1 << 22 { 32 } else { 16 });
        // One to two keys a bucket: a lookup reads one or two cache lines,
        // where a binary search over millions of keys misses ~20 times.
        let buckets = (keys.len() / 2).max(2).next_power_of_two();
        let bucket_shift = 128 - buckets.trailing_zeros();
        let mut starts = vec![0u32; buckets + 1];
        for k in &keys {
            starts[(k >> bucket_shift) as usize + 1] += 1;
        }
        for b in 1..starts.len() {
            starts[b] += starts[b - 1];
        }
        TargetSet {
            keys,
            near,
            far,
            starts,
            bucket_shift,
            mask,
        }
    }

    /// The bits of a candidate's key that are compared; a hit is recorded
    /// under `key & mask()`.
    pub fn mask(&self) -> u128 {
        self.mask
    }

    /// Number of distinct targets.
    pub fn len(&self) -> usize {
        self.keys.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    /// Calls `hit(i)` for each `keys[i]` that is a target. Each stage
    /// loads the words of a whole batch before testing any, so cache misses
    /// overlap instead of queueing one by one behind branches. A batch is
    /// 512 keys: about 1 in 20 passes the near filter, and the far filter
    /// (4 MB for a million targets) mostly misses the cache, so a batch of
    /// 64 had about three of those misses in flight at a time, and 512 has
    /// about 25 (the full kr-mobile search, Intel Xeon: 5.24-5.37 s with
    /// 64, 4.79-4.92 s with 512, no gain with 1,024).
    #[inline]
    pub fn for_each_hit(&self, keys: &[u128], mut hit: impl FnMut(usize)) {
        for (c, batch) in keys.chunks(Self::BATCH).enumerate() {
            let mut words = [0u64; Self::BATCH];
            for (w, &k) in words.iter_mut().zip(batch) {
                *w = self.near.words[self.near.slot(k & self.mask).0];
            }
            let mut passed = [0u16; Self::BATCH];
            let mut n = 0;
            for (j, (&w, &k)) in words.iter().zip(batch).enumerate() {
                let mask = self.near.slot(k & self.mask).1;
                passed[n] = j as u16;
                n += usize::from(w & mask == mask);
            }
            let passed = &passed[..n];
            for (w, &j) in words.iter_mut().zip(passed) {
                *w = self.far.words[self.far.slot(batch[usize::from(j)] & self.mask).0];
            }
            for (&w, &j) in words.iter().zip(passed) {
                let k = batch[usize::from(j)] & self.mask;
                let mask = self.far.slot(k).1;
                if w & mask == mask && self.in_bucket(k) {
                    hit(c * Self::BATCH + usize::from(j));
                }
            }
        }
    }

    #[inline]
    fn in_bucket(&self, key: u128) -> bool {
        let b = (key >> self.bucket_shift) as usize;
        let (lo, hi) = (self.starts[b] as usize, self.starts[b + 1] as usize);
        self.keys[lo..hi].contains(&key)
    }

    /// The far filter and the bucket, for a key that passed the near filter.
    #[inline]
    fn past_near(&self, key: u128) -> bool {
        let (i, mask) = self.far.slot(key);
        self.far.words[i] & mask == mask && self.in_bucket(key)
    }

    /// Starts loading the near filter's word for `key`, so that a later
    /// [`TargetSet::for_each_hit`] finds it in cache. The far filter's word
    /// is not asked for: only about 1 key in 20 gets past the near filter
    /// to need it, and loading it for all 20 filled the core's queue of
    /// outstanding misses (the full kr-mobile search, Intel Xeon: 5.35-5.45
    /// s with it, 5.12-5.32 s without).
    #[inline]
    pub fn prefetch(&self, key: u128) {
        #[cfg(target_arch = "x86_64")]
        {
            let key = key & self.mask;
            crate::audit::hashes::shani::prefetch(&self.near.words[self.near.slot(key).0]);
        }
        #[cfg(not(target_arch = "x86_64"))]
        let _ = key;
    }

    /// Whether `key` is a target.
    #[inline]
    pub fn contains(&self, key: u128) -> bool {
        let key = key & self.mask;
        let (i, mask) = self.near.slot(key);
        self.near.words[i] & mask == mask && self.past_near(key)
    }
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
        assert!(!TargetSet::new(vec![]).contains(0));
    }

    #[test]
    fn target_set_agrees_with_a_binary_search() {
        let mut next = crate::xorshift(0x2545_f491_4f6c_dd1d);
        for n in [1usize, 2, 3, 100, 65_537] {
            let mut keys: Vec<u128> = (0..n)
                .map(|_| (u128::from(next()) << 64) | u128::from(next()))
                .collect();
            keys.push(keys[0]); // a duplicate
            let t = TargetSet::new(keys.clone());
            keys.sort_unstable();
            keys.dedup();
            assert_eq!(t.len(), keys.len());
            for &k in &keys {
                assert!(t.contains(k));
                // A neighbouring key: lands in the same bucket, must not match.
                assert!(!t.contains(k ^ 1) || keys.binary_search(&(k ^ 1)).is_ok());
            }
            for _ in 0..100_000 {
                let probe = (u128::from(next()) << 64) | u128::from(next());
                assert_eq!(t.contains(probe), keys.binary_search(&probe).is_ok());
            }
        }
    }

    #[test]
    fn a_prefix_set_matches_on_the_leading_bytes_only() {
        let mut next = crate::xorshift(0x9e37_79b9_7f4a_7c15);
        for bytes in [8usize, 10, 15, 16] {
            let full: Vec<u128> = (0..5000)
                .map(|_| (u128::from(next()) << 64) | u128::from(next()))
                .collect();
            let t = TargetSet::with_prefix(full.clone(), bytes);
            let mask = t.mask();
            assert_eq!(mask.count_ones() as usize, 8 * bytes);
            let mut prefixes: Vec<u128> = full.iter().map(|k| k & mask).collect();
            prefixes.sort_unstable();
            for &k in &full {
                // A candidate agreeing on the prefix matches whatever follows.
                assert!(t.contains(k | !mask) && t.contains(k & mask));
                // One bit off inside the prefix does not (unless that is a target too).
                let off = k ^ (1u128 << (128 - 8 * bytes));
                assert_eq!(
                    t.contains(off),
                    prefixes.binary_search(&(off & mask)).is_ok()
                );
            }
            let probes: Vec<u128> = (0..20_000)
                .map(|_| (u128::from(next()) << 64) | u128::from(next()))
                .chain(full.iter().map(|k| k ^ 1))
                .collect();
            let mut hits = Vec::new();
            t.for_each_hit(&probes, |i| hits.push(i));
            let want: Vec<usize> = (0..probes.len())
                .filter(|&i| prefixes.binary_search(&(probes[i] & mask)).is_ok())
                .collect();
            assert_eq!(hits, want, "{bytes} bytes");
        }
    }
}
