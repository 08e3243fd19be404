//! AES-SIV (RFC 5297) keyed once per field.
//!
//! A deterministic token is AES-CMAC-SIV over one associated-data item, the
//! field's context. Everything that depends only on the key and the context
//! is computed once here: both AES key schedules, the CMAC subkeys, and
//! S2V's running value after the zero block and the associated data. Per
//! value that leaves one CMAC over the value and AES-CTR over it: for a
//! typical 20-byte email, 4 AES blocks instead of 7 plus two key
//! expansions when a general-purpose SIV object is built for each value.
//!
//! CMAC (RFC 4493) and CTR are written out over RustCrypto's keyed AES
//! (and `dbl`) rather than taken from the `cmac` and `ctr` crates: their
//! types own a copy of the key schedule and are consumed by use, so every
//! value would copy a schedule twice, which measured as the largest single
//! cost of a token. The RFC 5297 vectors (AES-128 and AES-256) and a
//! property test against the `aes-siv` crate keep this code honest.

use aes::cipher::consts::U16;
use aes::cipher::{BlockCipherEncrypt, BlockSizeUser, KeyInit};
use dbl::Dbl;
use subtle::ConstantTimeEq;
use zeroize::Zeroize;

use crate::error::{CryptoError, Error};

/// Length of the synthetic IV (the tag).
pub(crate) const SIV_LEN: usize = 16;

type Block = aes::cipher::Array<u8, U16>;

/// S2V takes at most 126 associated-data items (RFC 5297 section 7).
const MAX_AD_ITEMS: usize = 126;

/// An AES-SIV key (K1 for CMAC, K2 for CTR) with S2V's state after the
/// associated data.
pub(crate) struct Siv<C>
where
    C: BlockCipherEncrypt + BlockSizeUser<BlockSize = U16> + KeyInit,
{
    /// K1, for CMAC, and CMAC's subkeys derived from it.
    mac: C,
    k1: Block,
    k2: Block,
    /// K2, for CTR.
    ctr: C,
    /// S2V's `D` once the zero block and every associated-data item are in.
    d: Block,
}

impl<C> Siv<C>
where
    C: BlockCipherEncrypt + BlockSizeUser<BlockSize = U16> + KeyInit,
{
    /// Keys SIV with `key` (K1 ‖ K2, twice the cipher's key length) and
    /// runs S2V over the associated data.
    pub(crate) fn new(key: &[u8], associated_data: &[&[u8]]) -> Result<Self, Error> {
        let half = key.len() / 2;
        if !key.len().is_multiple_of(2) || associated_data.len() > MAX_AD_ITEMS {
            return Err(CryptoError.into());
        }
        let mac = C::new_from_slice(&key[..half]).map_err(|_| CryptoError)?;
        let ctr = C::new_from_slice(&key[half..]).map_err(|_| CryptoError)?;
        // RFC 4493 2.3: L = E(0), K1 = dbl(L), K2 = dbl(K1).
        let mut l = Block::default();
        mac.encrypt_block(&mut l);
        let k1 = l.dbl();
        let k2 = k1.dbl();
        l.zeroize();
        let mut siv = Siv {
            mac,
            k1,
            k2,
            ctr,
            d: Block::default(),
        };
        let mut d = siv.cmac(&[&[0u8; SIV_LEN]]);
        for item in associated_data {
            d = d.dbl();
            xor(&mut d, &siv.cmac(&[item]));
        }
        siv.d = d;
        Ok(siv)
    }

    /// CMAC (RFC 4493) of the concatenation of `parts`.
    fn cmac(&self, parts: &[&[u8]]) -> Block {
        let total: usize = parts.iter().map(|p| p.len()).sum();
        // Every block but the last is chained as it fills; the last one
        // (complete, or padded) gets K1 or K2 first.
        let (mut x, mut buf, mut filled, mut seen) = (Block::default(), Block::default(), 0, 0);
        for mut part in parts.iter().copied() {
            while !part.is_empty() {
                let take = (SIV_LEN - filled).min(part.len());
                buf[filled..filled + take].copy_from_slice(&part[..take]);
                part = &part[take..];
                filled += take;
                seen += take;
                if filled == SIV_LEN && seen < total {
                    xor(&mut x, &buf);
                    self.mac.encrypt_block(&mut x);
                    filled = 0;
                }
            }
        }
        if filled == SIV_LEN {
            xor(&mut x, &self.k1);
        } else {
            buf[filled] = 0x80;
            buf[filled + 1..].fill(0);
            xor(&mut x, &self.k2);
        }
        xor(&mut x, &buf);
        self.mac.encrypt_block(&mut x);
        buf.zeroize();
        x
    }

    /// S2V's last step over `message`: the synthetic IV.
    fn s2v(&self, message: &[u8]) -> Block {
        let mut t = self.d;
        let v = match message.len().checked_sub(SIV_LEN) {
            // T = message xorend D
            Some(n) => {
                xor(&mut t, &message[n..]);
                self.cmac(&[&message[..n], &t])
            }
            // T = dbl(D) xor pad(message)
            None => {
                t = t.dbl();
                xor(&mut t, message);
                t[message.len()] ^= 0x80;
                self.cmac(&[&t])
            }
        };
        t.zeroize();
        v
    }

    /// XORs `buf` with AES-CTR from the SIV (top bits of its last two words
    /// cleared, as RFC 5297 section 2.5 says).
    fn keystream(&self, siv: &Block, buf: &mut [u8]) {
        let mut iv = *siv;
        iv[8] &= 0x7f;
        iv[12] &= 0x7f;
        let mut counter = u128::from_be_bytes(iv.into());
        // Eight counter blocks at a time: AES-NI pipelines independent blocks.
        let mut ks = [Block::default(); 8];
        for run in buf.chunks_mut(8 * SIV_LEN) {
            let blocks = run.len().div_ceil(SIV_LEN);
            for k in &mut ks[..blocks] {
                *k = Block::from(counter.to_be_bytes());
                counter = counter.wrapping_add(1);
            }
            self.ctr.encrypt_blocks(&mut ks[..blocks]);
            for (chunk, k) in run.chunks_mut(SIV_LEN).zip(&ks) {
                xor(chunk, k);
            }
        }
        for k in &mut ks {
            k.zeroize();
        }
    }

    /// Encrypts `buf` in place; returns the SIV.
    pub(crate) fn seal(&self, buf: &mut [u8]) -> [u8; SIV_LEN] {
        let v = self.s2v(buf);
        self.keystream(&v, buf);
        v.into()
    }

    /// Decrypts `buf` in place if `siv` verifies (in constant time);
    /// otherwise `buf` is left as it was given and the error is opaque.
    pub(crate) fn open(&self, buf: &mut [u8], siv: &[u8; SIV_LEN]) -> Result<(), Error> {
        let siv = Block::from(*siv);
        self.keystream(&siv, buf);
        let v = self.s2v(buf);
        if bool::from(v.as_slice().ct_eq(siv.as_slice())) {
            Ok(())
        } else {
            // Re-encrypt: no unauthenticated plaintext is left behind.
            self.keystream(&siv, buf);
            Err(CryptoError.into())
        }
    }
}

impl<C> Drop for Siv<C>
where
    C: BlockCipherEncrypt + BlockSizeUser<BlockSize = U16> + KeyInit,
{
    fn drop(&mut self) {
        // The key schedules zeroize themselves (`aes`'s `zeroize` feature);
        // the CMAC subkeys and D are derived from the key too.
        self.k1.zeroize();
        self.k2.zeroize();
        self.d.zeroize();
    }
}

/// XORs `src` into the front of `dst` (both as long as the shorter).
fn xor(dst: &mut [u8], src: &[u8]) {
    for (a, b) in dst.iter_mut().zip(src) {
        *a ^= b;
    }
}
