//! Console output over semihosting without `core::fmt`: strings, decimal and
//! hexadecimal numbers, padding. Keeping the formatting machinery out keeps
//! the pseudonymize-only image small (see the README's footprint table).

use crate::arch;

/// Semihosting SYS_WRITE0: writes a NUL-terminated string to the host console.
const SYS_WRITE0: usize = 0x04;

/// Writes `s` to the host console.
pub fn str(s: &str) {
    bytes(s.as_bytes());
}

/// Writes ASCII `s` to the host console.
fn bytes(s: &[u8]) {
    let mut buf = [0u8; 33];
    for chunk in s.chunks(32) {
        buf[..chunk.len()].copy_from_slice(chunk);
        buf[chunk.len()] = 0;
        // Interior NULs would cut the chunk short; the firmware prints none.
        arch::semihost(SYS_WRITE0, buf.as_ptr() as usize);
    }
}

/// `n` in decimal, right-aligned in `width` columns.
pub fn num(n: u32, width: usize) {
    let mut digits = [b' '; 10];
    let mut i = digits.len();
    let mut v = n;
    loop {
        i -= 1;
        digits[i] = b'0' + (v % 10) as u8;
        v /= 10;
        if v == 0 {
            break;
        }
    }
    pad(width.saturating_sub(digits.len() - i));
    bytes(&digits[i..]);
}

/// `n` as `0x` and eight hexadecimal digits.
pub fn hex(n: u32) {
    let mut s = *b"0x00000000";
    for (k, c) in s[2..].iter_mut().enumerate() {
        let nib = (n >> (28 - 4 * k)) & 0xf;
        *c = b"0123456789abcdef"[nib as usize];
    }
    bytes(&s);
}

/// `s` left-aligned in `width` columns.
pub fn left(s: &str, width: usize) {
    str(s);
    pad(width.saturating_sub(s.len()));
}

fn pad(n: usize) {
    for _ in 0..n {
        str(" ");
    }
}
