//! The pseudonymizer's batch path against its floor, side by side in one
//! process, robust to a busy machine.
//!
//! `cargo bench --bench batch_floor`
//!
//! Five loops, each timed in short slices (about 1 ms) taken in turn, 400
//! rounds: so a neighbour's load falls on all five alike, and the fastest
//! slice of each is its uncontended cost. Printed per value, with the
//! median slice next to it:
//!
//! - `floor`: two SHA-256 compressions per value at the four-way rate
//!   (`ShaNi::compress4` twice per four values and nothing else; eight
//!   `compress256` calls without the SHA extensions);
//! - `batch`: `Pseudonymizer::pseudonymize_batch`, four 16-byte values a
//!   call, 16-byte MAC in hex (the four-way kernel);
//! - `batch of 20`: the same, twenty values a call (the `deid bench` case
//!   `pseudonymize-batch/hex`): one call of the SHA-NI + AVX-512 kernel
//!   where the CPU has it, else five of the four-way one;
//! - `one at a time`: `Pseudonymizer::pseudonymize` on the same values;
//! - `two blocks, one at a time`: `compress256` twice per value.
//!
//! The target is `batch` within 25% of `floor`.

use std::hint::black_box;
use std::time::Instant;

use deid::MasterKey;
use deid::encoding::Encoding;
use deid::transform::pseudonym::Pseudonymizer;

const IV: [u32; 8] = [
    0x6a09_e667,
    0xbb67_ae85,
    0x3c6e_f372,
    0xa54f_f53a,
    0x510e_527f,
    0x9b05_688c,
    0x1f83_d9ab,
    0x5be0_cd19,
];

fn again(st: &[u32; 8]) -> [u8; 64] {
    let mut b = [0u8; 64];
    for (c, w) in b.chunks_exact_mut(4).zip(st) {
        c.copy_from_slice(&w.to_be_bytes());
    }
    b[32] = 0x80;
    b
}

fn one(iv: &[u32; 8], b: &[u8; 64]) -> [u32; 8] {
    let mut st = *iv;
    sha2::block_api::compress256(&mut st, core::slice::from_ref(b));
    st
}

/// Eight one-block compressions, four at a time where the CPU allows.
fn floor4(block: &[u8; 64]) -> [[u32; 8]; 4] {
    #[cfg(target_arch = "x86_64")]
    if let Some(ni) = deid::backend::shani::ShaNi::detect() {
        // Two independent four-way compressions: the kernel's own rate,
        // nothing between them.
        let st = ni.compress4(&IV, [block; 4]);
        let st2 = ni.compress4(&IV, [block; 4]);
        return core::array::from_fn(|i| core::array::from_fn(|j| st[i][j] ^ st2[i][j]));
    }
    [0; 4].map(|_| one(&IV, &again(&one(&IV, block))))
}

/// A named loop: values per call, and the call.
type Loop<'a> = (&'static str, u32, Box<dyn FnMut() + 'a>);

/// Nanoseconds per value of `f` (which handles `per_call` values) over a
/// slice of `calls` calls.
fn slice(calls: u32, per_call: u32, f: &mut dyn FnMut()) -> f64 {
    let t = Instant::now();
    for _ in 0..calls {
        f();
    }
    t.elapsed().as_nanos() as f64 / f64::from(calls * per_call)
}

fn main() {
    let key = MasterKey::from_bytes(1, [7; 32]);
    let p = Pseudonymizer::new(&key, "bench", 16, Encoding::Hex).expect("valid parameters");
    let v: [&[u8]; 4] = [
        b"abcdefghijklmnop",
        b"bcdefghijklmnopq",
        b"cdefghijklmnopqr",
        b"defghijklmnopqrs",
    ];
    let text: Vec<u8> = (b'a'..=b'z').cycle().take(36).collect();
    let v20: [&[u8]; 20] = core::array::from_fn(|i| &text[i..i + 16]);
    let mut out20 = [0u8; 20 * 32];
    let mut block = [0u8; 64];
    block[..16].copy_from_slice(v[0]);
    block[16] = 0x80;
    let mut out = [0u8; 4 * 32];
    let mut one_out = [0u8; 32];

    let mut loops: Vec<Loop<'_>> = vec![
        (
            "floor: 2 SHA-256 blocks at the four-way rate",
            4,
            Box::new(|| {
                black_box(floor4(black_box(&block)));
            }),
        ),
        (
            "batch: pseudonymize_batch, 4 x 16 B, hex",
            4,
            Box::new(|| {
                let r = p.pseudonymize_batch(black_box(&v), &mut out);
                black_box((r.is_ok(), &out));
            }),
        ),
        (
            "batch of 20: pseudonymize_batch, 20 x 16 B, hex",
            20,
            Box::new(|| {
                let r = p.pseudonymize_batch(black_box(&v20), &mut out20);
                black_box((r.is_ok(), &out20));
            }),
        ),
        (
            "one at a time: pseudonymize, 16 B, hex",
            1,
            Box::new(|| {
                let r = p.pseudonymize(black_box(v[1]), &mut one_out);
                black_box(r.map(str::len).ok());
            }),
        ),
        (
            "two blocks, one at a time (compress256 x 2)",
            1,
            Box::new(|| {
                black_box(one(&IV, &again(&one(&IV, black_box(&block)))));
            }),
        ),
    ];
    // Size each slice to about 1 ms from a first timing.
    let calls: Vec<u32> = loops
        .iter_mut()
        .map(|(_, per, f)| {
            let ns = slice(2000, *per, f.as_mut()).max(1.0);
            ((1e6 / (ns * f64::from(*per))) as u32).max(1)
        })
        .collect();
    let mut samples: Vec<Vec<f64>> = vec![Vec::new(); loops.len()];
    for _ in 0..400 {
        for (i, (_, per, f)) in loops.iter_mut().enumerate() {
            samples[i].push(slice(calls[i], *per, f.as_mut()));
        }
    }
    let path = p.batch_path();
    println!("batch path: {path}");
    println!(
        "{:<50} {:>9} {:>9} {:>8}",
        "ns per value", "best", "median", "/floor"
    );
    let mut best = Vec::new();
    for ((name, _, _), s) in loops.iter().zip(&mut samples) {
        s.sort_by(f64::total_cmp);
        best.push(s[0]);
        println!(
            "{name:<50} {:>9.1} {:>9.1} {:>7.2}x",
            s[0],
            s[s.len() / 2],
            s[0] / best[0]
        );
    }
    println!(
        "batch / floor: {:.2} (target <= 1.25); batch of 20 / floor: {:.2}; batch / one at a time: {:.2}",
        best[1] / best[0],
        best[2] / best[0],
        best[1] / best[3]
    );
}
