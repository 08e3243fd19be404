//! The `fpe` transform: FF1 format-preserving encryption (NIST SP 800-38G)
//! over the decimal digits of a value, every other character kept in place.
//!
//! `010-1234-5678` becomes another `010`-shaped… no: *all* eleven digits are
//! encrypted as one numeral string, and the dashes stay where they were, so
//! the result has the same length and layout (`483-9027-1165`, say). The key
//! is `subkey("fpe", ctx, 32)` (FF1-AES256) and the tweak is the context bytes.
//!
//! Domains under 10^6 (fewer than 6 digits) are refused, as SP 800-38G
//! Rev. 1 requires: small domains can be enumerated from a few pairs.
//!
//! This is a `no_std`, allocation-free FF1 for radix 10 with fixed-width
//! integers (halves of up to 36 digits, so values of up to 72 digits). It is
//! checked against the NIST samples and, in property tests, against the
//! `fpe` crate (which needs an allocator and big integers).
//!
//! # Example
//! ```
//! use deid::transform::fpe::Ff1Digits;
//! use deid::MasterKey;
//!
//! let key = MasterKey::from_bytes(1, [3u8; 32]);
//! let ff1 = Ff1Digits::new(&key, "phone").unwrap();
//! let mut out = [0u8; 32];
//! let token = ff1.encrypt(b"010-1234-5678", &mut out).unwrap().to_owned();
//! assert_eq!(token.len(), 13);
//! assert_eq!(token.as_bytes()[3], b'-');
//! let mut back = [0u8; 32];
//! assert_eq!(ff1.decrypt(token.as_bytes(), &mut back).unwrap(), "010-1234-5678");
//! ```

use aes::Aes256;
use aes::cipher::{BlockCipherEncrypt, KeyInit};
use zeroize::Zeroizing;

use crate::error::Error;
use crate::key::{MasterKey, Purpose};

/// Fewest digits accepted: 10^6 is the smallest domain SP 800-38G allows.
pub const MIN_DIGITS: usize = 6;
/// Most digits accepted by this fixed-width implementation.
pub const MAX_DIGITS: usize = 72;
/// Longest tweak (context) accepted.
pub const MAX_TWEAK_LEN: usize = 255;

const BLOCK: usize = 16;
/// P (16) + tweak (255) + padding (15) + round byte (1) + NUM(B) (16), rounded up.
const MAX_PQ: usize = 16 + MAX_TWEAK_LEN + 15 + 1 + 16 + 1;

/// FF1-AES256 over the decimal digits of a value.
pub struct Ff1Digits {
    aes: Aes256,
    tweak: [u8; MAX_TWEAK_LEN],
    tweak_len: usize,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Direction {
    Encrypt,
    Decrypt,
}

impl Ff1Digits {
    /// FF1 for `context` under `key`: key `subkey("fpe", ctx, 32)`, tweak = ctx.
    ///
    /// # Errors
    /// [`Error::Config`] for a context over 255 bytes.
    pub fn new(key: &MasterKey, context: &str) -> Result<Self, Error> {
        let sub: Zeroizing<[u8; 32]> = key.subkey(Purpose::Fpe, context)?;
        Self::from_raw_key(&sub, context.as_bytes())
    }

    /// FF1 with a raw AES-256 key and tweak, for published test vectors and
    /// interoperability checks. Use [`Ff1Digits::new`] for data.
    ///
    /// # Errors
    /// [`Error::Config`] for a tweak over 255 bytes.
    pub fn from_raw_key(key: &[u8; 32], tweak: &[u8]) -> Result<Self, Error> {
        if tweak.len() > MAX_TWEAK_LEN {
            return Err(Error::Config("context longer than 255 bytes"));
        }
        let mut t = [0u8; MAX_TWEAK_LEN];
        t[..tweak.len()].copy_from_slice(tweak);
        Ok(Ff1Digits {
            aes: Aes256::new(key.into()),
            tweak: t,
            tweak_len: tweak.len(),
        })
    }

    /// The most bytes [`Self::encrypt`] and [`Self::decrypt`] write for a
    /// value of `input_len` bytes: `input_len`, as FF1 keeps the layout.
    pub const fn max_output_len(&self, input_len: usize) -> usize {
        input_len
    }

    /// Encrypts the digits of `value` into the front of `out` (same length).
    ///
    /// # Errors
    /// [`Error::DomainTooSmall`] under 6 digits, [`Error::Invalid`] over 72
    /// digits or for non-UTF-8 input, [`Error::BufferTooSmall`].
    pub fn encrypt<'a>(&self, value: &[u8], out: &'a mut [u8]) -> Result<&'a str, Error> {
        self.run(value, out, Direction::Encrypt)
    }

    /// Decrypts a value made by [`Ff1Digits::encrypt`].
    ///
    /// FF1 has no integrity check: any digit string decrypts to *some*
    /// digit string. Use `encrypt` (AES-SIV / GCM) where tampering matters.
    ///
    /// # Errors
    /// As [`Ff1Digits::encrypt`].
    pub fn decrypt<'a>(&self, value: &[u8], out: &'a mut [u8]) -> Result<&'a str, Error> {
        self.run(value, out, Direction::Decrypt)
    }

    fn run<'a>(&self, value: &[u8], out: &'a mut [u8], dir: Direction) -> Result<&'a str, Error> {
        let out = out
            .get_mut(..value.len())
            .ok_or(Error::BufferTooSmall(value.len()))?;
        if core::str::from_utf8(value).is_err() {
            return Err(Error::Invalid("UTF-8"));
        }
        let mut digits = [0u8; MAX_DIGITS];
        let mut n = 0;
        for &c in value {
            if c.is_ascii_digit() {
                *digits
                    .get_mut(n)
                    .ok_or(Error::Invalid("fpe value (more than 72 digits)"))? = c - b'0';
                n += 1;
            }
        }
        if n < MIN_DIGITS {
            return Err(Error::DomainTooSmall);
        }
        self.ff1(&mut digits[..n], dir);
        let mut next = digits[..n].iter();
        for (o, &c) in out.iter_mut().zip(value) {
            *o = if c.is_ascii_digit() {
                next.next().map_or(c, |d| b'0' + d)
            } else {
                c
            };
        }
        // Digits and the kept characters of valid UTF-8 are valid UTF-8.
        core::str::from_utf8(out).map_err(|_| Error::Invalid("UTF-8"))
    }

    /// FF1 (SP 800-38G, algorithms 7 and 8) on a numeral string, radix 10.
    fn ff1(&self, x: &mut [u8], dir: Direction) {
        let n = x.len();
        let u = n / 2;
        let v = n - u;
        // b = ceil(ceil(v log2 10) / 8); ceil(v log2 10) is the bit length of 10^v.
        let bits = 128 - pow10(v).leading_zeros() as usize;
        let b = bits.div_ceil(8);
        let d = 4 * b.div_ceil(4) + 4;
        let t = self.tweak_len;

        // P || Q with Q = T || 0^((-t-b-1) mod 16) || [i] || [NUM(B)]^b.
        let pad = (16 - (t + b + 1) % 16) % 16;
        let total = BLOCK + t + pad + 1 + b;
        let mut pq = [0u8; MAX_PQ];
        pq[..8].copy_from_slice(&[1, 2, 1, 0, 0, 10, 10, (u % 256) as u8]);
        pq[8..12].copy_from_slice(&(n as u32).to_be_bytes());
        pq[12..16].copy_from_slice(&(t as u32).to_be_bytes());
        pq[BLOCK..BLOCK + t].copy_from_slice(&self.tweak[..t]);
        let var = total - b - 1; // index of the round byte
        // CBC-MAC over the blocks that do not change between rounds, once.
        let fixed_blocks = var / BLOCK;
        let mut prefix = [0u8; BLOCK];
        for blk in pq[..fixed_blocks * BLOCK].chunks_exact(BLOCK) {
            xor_in(&mut prefix, blk);
            self.encrypt_block(&mut prefix);
        }

        let (mut a, mut bb) = x.split_at_mut(u);
        let mut buf_a = [0u8; MAX_DIGITS / 2];
        let mut buf_b = [0u8; MAX_DIGITS / 2];
        buf_a[..u].copy_from_slice(a);
        buf_b[..v].copy_from_slice(bb);
        // Work on A (length u) and B (length v) as integers in radix 10.
        let mut num_a = num(&buf_a[..u]);
        let mut num_b = num(&buf_b[..v]);
        let (mut len_a, mut len_b) = (u, v);
        for step in 0..10u8 {
            let i = if dir == Direction::Encrypt {
                step
            } else {
                9 - step
            };
            // The half fed to the round function: B when encrypting, A when decrypting.
            let fed = if dir == Direction::Encrypt {
                num_b
            } else {
                num_a
            };
            pq[var] = i;
            let be = fed.to_be_bytes();
            pq[var + 1..var + 1 + b].copy_from_slice(&be[16 - b..]);
            let mut r = prefix;
            for blk in pq[fixed_blocks * BLOCK..total].chunks_exact(BLOCK) {
                xor_in(&mut r, blk);
                self.encrypt_block(&mut r);
            }
            // S = R || CIPH(R xor [1]^16) || ...; only its first d bytes count.
            let mut s = [0u8; 2 * BLOCK];
            s[..BLOCK].copy_from_slice(&r);
            if d > BLOCK {
                let mut r1 = r;
                r1[BLOCK - 1] ^= 1;
                self.encrypt_block(&mut r1);
                s[BLOCK..].copy_from_slice(&r1);
            }
            let m = if i % 2 == 0 { u } else { v };
            let modulus = pow10(m);
            let y = num_bytes_mod(&s[..d], modulus);
            if dir == Direction::Encrypt {
                let c = (num_a % modulus + y) % modulus;
                num_a = num_b;
                len_a = len_b;
                num_b = c;
                len_b = m;
            } else {
                let c = (num_b % modulus + modulus - y) % modulus;
                num_b = num_a;
                len_b = len_a;
                num_a = c;
                len_a = m;
            }
        }
        debug_assert_eq!((len_a, len_b), (u, v));
        str_m(num_a, &mut a);
        str_m(num_b, &mut bb);
    }

    #[inline]
    fn encrypt_block(&self, block: &mut [u8; BLOCK]) {
        self.aes.encrypt_block(block.into());
    }
}

fn xor_in(acc: &mut [u8; BLOCK], blk: &[u8]) {
    for (a, b) in acc.iter_mut().zip(blk) {
        *a ^= b;
    }
}

/// 10^k for k ≤ 38.
fn pow10(k: usize) -> u128 {
    (0..k).fold(1u128, |acc, _| acc * 10)
}

/// NUM_10(X): the digits as an integer (at most 36 digits here).
fn num(digits: &[u8]) -> u128 {
    digits
        .iter()
        .fold(0u128, |acc, &d| acc * 10 + u128::from(d))
}

/// NUM(S) mod `modulus`, big-endian bytes, with `modulus` < 2^120.
fn num_bytes_mod(bytes: &[u8], modulus: u128) -> u128 {
    bytes.iter().fold(0u128, |acc, &byte| {
        ((acc << 8) | u128::from(byte)) % modulus
    })
}

/// STR^m_10(x) into `out` (its length is m).
fn str_m(mut x: u128, out: &mut &mut [u8]) {
    for slot in out.iter_mut().rev() {
        *slot = (x % 10) as u8;
        x /= 10;
    }
}

impl super::Transform for Ff1Digits {
    fn max_output_len(&self, input_len: usize) -> usize {
        Ff1Digits::max_output_len(self, input_len)
    }

    fn apply<'a>(&self, value: &[u8], out: &'a mut [u8]) -> Result<&'a [u8], Error> {
        self.encrypt(value, out).map(str::as_bytes)
    }
}

impl core::fmt::Debug for Ff1Digits {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Ff1Digits").finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn k(hex: &str) -> [u8; 32] {
        let mut out = [0u8; 32];
        data_encoding::HEXUPPER
            .decode_mut(hex.as_bytes(), &mut out)
            .unwrap();
        out
    }

    #[test]
    fn layout_is_kept_and_round_trips() {
        let f = Ff1Digits::from_raw_key(&[7; 32], b"ctx").unwrap();
        let mut out = [0u8; 64];
        let mut back = [0u8; 64];
        for v in [
            "010-1234-5678",
            "123456",
            "4111 1111 1111 1111",
            "+82 10 9999 0000",
            "ab12cd34ef56",
            "000000",
        ] {
            let e = f.encrypt(v.as_bytes(), &mut out).unwrap();
            assert_eq!(e.len(), v.len());
            for (a, b) in e.bytes().zip(v.bytes()) {
                assert_eq!(a.is_ascii_digit(), b.is_ascii_digit());
                if !b.is_ascii_digit() {
                    assert_eq!(a, b);
                }
            }
            assert_ne!(e, v);
            let mut copy = [0u8; 64];
            copy[..e.len()].copy_from_slice(e.as_bytes());
            assert_eq!(f.decrypt(&copy[..v.len()], &mut back).unwrap(), v);
        }
    }

    #[test]
    fn small_and_huge_domains_are_refused() {
        let f = Ff1Digits::from_raw_key(&[7; 32], b"").unwrap();
        let mut out = [0u8; 128];
        assert_eq!(f.encrypt(b"12345", &mut out), Err(Error::DomainTooSmall));
        assert_eq!(f.encrypt(b"12-34-5", &mut out), Err(Error::DomainTooSmall));
        assert!(f.encrypt(&[b'1'; 73], &mut out).is_err());
        assert!(f.encrypt(&[b'1'; 72], &mut out).is_ok());
        assert_eq!(
            f.encrypt(b"1234567", &mut out[..3]),
            Err(Error::BufferTooSmall(7))
        );
    }

    #[test]
    fn nist_sp800_38g_ff1_aes256_samples() {
        let key = k("2B7E151628AED2A6ABF7158809CF4F3CEF4359D8D580AA4F7F036D6F04FC6A94");
        let mut out = [0u8; 16];
        let f = Ff1Digits::from_raw_key(&key, b"").unwrap();
        assert_eq!(f.encrypt(b"0123456789", &mut out).unwrap(), "6657667009");
        let f = Ff1Digits::from_raw_key(
            &key,
            &[0x39, 0x38, 0x37, 0x36, 0x35, 0x34, 0x33, 0x32, 0x31, 0x30],
        )
        .unwrap();
        assert_eq!(f.encrypt(b"0123456789", &mut out).unwrap(), "1001623463");
    }
}
