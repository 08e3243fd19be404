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
//! Built from RustCrypto's `aes`, `cmac`, `ctr` and `dbl`, the blocks the
//! `aes-siv` crate itself is made of; the RFC 5297 vectors and a property
//! test against `aes-siv` keep it honest.

use aes::cipher::consts::U16;
use aes::cipher::{BlockCipherEncrypt, BlockSizeUser, InnerIvInit, KeyInit, StreamCipherCore};
use cmac::{Cmac, Mac};
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
    C: BlockCipherEncrypt + BlockSizeUser<BlockSize = U16> + KeyInit + Clone,
{
    mac: Cmac<C>,
    ctr: C,
    /// S2V's `D` once the zero block and every associated-data item are in.
    d: Block,
}

impl<C> Siv<C>
where
    C: BlockCipherEncrypt + BlockSizeUser<BlockSize = U16> + KeyInit + Clone,
    Cmac<C>: Clone,
{
    /// Keys SIV with `key` (K1 ‖ K2, twice the cipher's key length) and
    /// runs S2V over the associated data.
    pub(crate) fn new(key: &[u8], associated_data: &[&[u8]]) -> Result<Self, Error> {
        let half = key.len() / 2;
        if key.len() % 2 != 0 || associated_data.len() > MAX_AD_ITEMS {
            return Err(CryptoError.into());
        }
        let mac = <Cmac<C> as KeyInit>::new_from_slice(&key[..half]).map_err(|_| CryptoError)?;
        let ctr = C::new_from_slice(&key[half..]).map_err(|_| CryptoError)?;
        let mut d = cmac(&mac, &[&[0u8; SIV_LEN]]);
        for item in associated_data {
            d = d.dbl();
            xor(&mut d, &cmac(&mac, &[item]));
        }
        Ok(Siv { mac, ctr, d })
    }

    /// S2V's last step over `message`: the synthetic IV.
    fn s2v(&self, message: &[u8]) -> Block {
        let mut t = self.d;
        let v = match message.len().checked_sub(SIV_LEN) {
            // T = message xorend D
            Some(n) => {
                xor(&mut t, &message[n..]);
                cmac(&self.mac, &[&message[..n], &t])
            }
            // T = dbl(D) xor pad(message)
            None => {
                t = t.dbl();
                xor(&mut t, message);
                t[message.len()] ^= 0x80;
                cmac(&self.mac, &[&t])
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
        ctr::CtrCore::<C, ctr::flavors::Ctr128BE>::inner_iv_init(self.ctr.clone(), &iv)
            .apply_keystream_partial(buf.into());
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
    C: BlockCipherEncrypt + BlockSizeUser<BlockSize = U16> + KeyInit + Clone,
{
    fn drop(&mut self) {
        // The key schedules zeroize themselves (the `zeroize` features of
        // `aes` and `cmac`); D is derived from the key too.
        self.d.zeroize();
    }
}

/// CMAC of the concatenation of `parts`, from a keyed state.
fn cmac<C>(keyed: &Cmac<C>, parts: &[&[u8]]) -> Block
where
    C: BlockCipherEncrypt + BlockSizeUser<BlockSize = U16> + KeyInit + Clone,
    Cmac<C>: Clone,
{
    let mut m = keyed.clone();
    for p in parts {
        m.update(p);
    }
    m.finalize().into_bytes()
}

fn xor(dst: &mut Block, src: &[u8]) {
    for (a, b) in dst.iter_mut().zip(src) {
        *a ^= b;
    }
}
