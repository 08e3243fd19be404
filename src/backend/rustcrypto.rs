//! The RustCrypto backend: pure Rust, `no_std`, runtime-detected SHA-NI /
//! AES-NI / PCLMULQDQ on x86 and the ARMv8 crypto extensions on AArch64.

use aes_gcm::Aes256Gcm;
use aes_gcm::aead::{AeadInOut, KeyInit};
use hmac::{Hmac, Mac};
use sha2::Sha256;

use crate::CryptoError;

/// SHA-256 initial hash value (FIPS 180-4, 5.3.3).
pub(crate) const SHA256_IV: [u32; 8] = [
    0x6a09_e667,
    0xbb67_ae85,
    0x3c6e_f372,
    0xa54f_f53a,
    0x510e_527f,
    0x9b05_688c,
    0x1f83_d9ab,
    0x5be0_cd19,
];

/// Keyed HMAC-SHA256. The chaining values after the inner and outer pad
/// blocks are computed once, so a message of up to 55 bytes (one block with
/// its padding) costs exactly two SHA-256 compressions, the floor. Longer
/// messages go through the `hmac` crate.
#[derive(Clone)]
pub struct HmacSha256 {
    mac: Hmac<Sha256>,
    inner: [u32; 8],
    outer: [u32; 8],
    /// The four-way kernel of [`HmacSha256::mac4`], if this CPU has it.
    #[cfg(all(feature = "std", target_arch = "x86_64"))]
    ni: Option<super::shani::ShaNi>,
    /// The twenty-way kernel of [`HmacSha256::mac20`], if this CPU has it.
    #[cfg(all(feature = "std", target_arch = "x86_64"))]
    ni512: Option<super::shani::ShaNiAvx512>,
    /// The two-way kernel [`HmacSha256::mac4`] runs twice, if this CPU
    /// has it.
    #[cfg(all(feature = "std", target_arch = "aarch64"))]
    arm: Option<super::armsha2::Sha2Arm>,
}

impl Drop for HmacSha256 {
    fn drop(&mut self) {
        zeroize::Zeroize::zeroize(&mut self.inner);
        zeroize::Zeroize::zeroize(&mut self.outer);
    }
}

impl HmacSha256 {
    /// Absorbs the key's inner and outer pads (infallible: HMAC takes keys of
    /// any length).
    pub fn new(key: &[u8]) -> Self {
        // RFC 2104: a key longer than the block is hashed first, a shorter
        // one zero-padded; HMAC under this 64-byte K0 is HMAC under `key`.
        let mut k0 = zeroize::Zeroizing::new([0u8; 64]);
        if key.len() > 64 {
            use sha2::Digest;
            k0[..32].copy_from_slice(&Sha256::digest(key));
        } else {
            k0[..key.len()].copy_from_slice(key);
        }
        let mac = <Hmac<Sha256> as hmac::KeyInit>::new(&(*k0).into());
        let mut pad = zeroize::Zeroizing::new([[0u8; 64]]);
        let (mut inner, mut outer) = (SHA256_IV, SHA256_IV);
        for (p, k) in pad[0].iter_mut().zip(k0.iter()) {
            *p = k ^ 0x36;
        }
        sha2::block_api::compress256(&mut inner, &*pad);
        for (p, k) in pad[0].iter_mut().zip(k0.iter()) {
            *p = k ^ 0x5c;
        }
        sha2::block_api::compress256(&mut outer, &*pad);
        HmacSha256 {
            mac,
            inner,
            outer,
            #[cfg(all(feature = "std", target_arch = "x86_64"))]
            ni: super::shani::ShaNi::detect(),
            #[cfg(all(feature = "std", target_arch = "x86_64"))]
            ni512: super::shani::ShaNiAvx512::preferred(),
            #[cfg(all(feature = "std", target_arch = "aarch64"))]
            arm: super::armsha2::Sha2Arm::detect(),
        }
    }

    /// This key with the twenty-way kernel wherever the CPU can run it,
    /// even where it was timed slower than the SHA unit alone, so the
    /// tests check that path on every CPU that has it.
    #[cfg(test)]
    // Only x86-64 has a kernel to swap in.
    #[cfg_attr(not(all(feature = "std", target_arch = "x86_64")), allow(unused_mut))]
    pub(crate) fn with_every_kernel(mut self) -> Self {
        #[cfg(all(feature = "std", target_arch = "x86_64"))]
        {
            self.ni512 = super::shani::ShaNiAvx512::detect();
        }
        self
    }

    /// HMAC-SHA256 of `data`.
    #[inline]
    pub fn mac(&self, data: &[u8]) -> [u8; 32] {
        if data.len() <= 55 {
            return hmac_short(&self.inner, &self.outer, data);
        }
        let mut m = self.mac.clone();
        m.update(data);
        m.finalize().into_bytes().into()
    }

    /// HMAC-SHA256 of four messages, equal to four calls of
    /// [`HmacSha256::mac`]. When all four are short (at most 55 bytes) and
    /// the CPU has the SHA extensions, the four inner compressions run
    /// interleaved, then the four outer ones (src/backend/shani.rs): the
    /// SHA unit's latency is filled by the other lanes. On AArch64 with the
    /// SHA2 instructions, two pairs run interleaved (src/backend/armsha2.rs).
    /// Otherwise (no such instructions, `no_std`, another architecture, a
    /// long message) each goes through [`HmacSha256::mac`].
    #[inline]
    pub fn mac4(&self, data: [&[u8]; 4]) -> [[u8; 32]; 4] {
        #[cfg(all(feature = "std", target_arch = "x86_64"))]
        if let Some(ni) = self.ni {
            if let Some(tags) = ni.hmac4(&self.inner, &self.outer, data) {
                return tags;
            }
        }
        #[cfg(all(feature = "std", target_arch = "aarch64"))]
        // Only when all four fit one block: a long value in the second
        // pair would otherwise waste the first pair's work.
        if let Some(arm) = self.arm.filter(|_| data.iter().all(|d| d.len() <= 55)) {
            let [a, b, c, d] = data;
            if let (Some([ta, tb]), Some([tc, td])) = (
                arm.hmac2(&self.inner, &self.outer, [a, b]),
                arm.hmac2(&self.inner, &self.outer, [c, d]),
            ) {
                return [ta, tb, tc, td];
            }
        }
        data.map(|d| self.mac(d))
    }

    /// HMAC-SHA256 of twenty short messages (at most 55 bytes each) at
    /// once, equal to twenty calls of [`HmacSha256::mac`], when the CPU has
    /// both the SHA extensions and AVX-512 and the lanes were timed faster
    /// than the SHA unit alone: four inner compressions on the SHA unit and
    /// sixteen in AVX-512 lanes run interleaved, then the outer ones
    /// (src/backend/shani.rs). `None` without that kernel or when a
    /// message is longer: then use [`HmacSha256::mac4`].
    #[inline]
    pub fn mac20(&self, data: [&[u8]; 20]) -> Option<[[u8; 32]; 20]> {
        #[cfg(all(feature = "std", target_arch = "x86_64"))]
        if let Some(x) = self.ni512 {
            return x.hmac20(&self.inner, &self.outer, data);
        }
        let _ = data;
        None
    }

    /// The code path [`HmacSha256::mac20`] and [`HmacSha256::mac4`] take
    /// for short messages here.
    pub fn batch_path(&self) -> &'static str {
        #[cfg(all(feature = "std", target_arch = "x86_64"))]
        match self.ni512.map(|x| x.interleaved()) {
            Some(true) => return "SHA-NI 4 + AVX-512 16 values, interleaved",
            Some(false) => return "SHA-NI 4 + AVX-512 16 values, in turn (switching stalls here)",
            None => {}
        }
        #[cfg(all(feature = "std", target_arch = "x86_64"))]
        if self.ni.is_some() {
            if super::shani::ShaNiAvx512::detect().is_some() {
                return "SHA-NI, 4 values interleaved (AVX-512 lanes measured slower here)";
            }
            return "SHA-NI, 4 values interleaved";
        }
        #[cfg(all(feature = "std", target_arch = "aarch64"))]
        if self.arm.is_some() {
            return "ARMv8 SHA2, 2 values interleaved";
        }
        "rustcrypto, one value at a time"
    }

    /// Constant-time check of a full 32-byte tag.
    ///
    /// # Errors
    /// [`CryptoError`] when the tag does not match.
    pub fn verify(&self, data: &[u8], tag: &[u8]) -> Result<(), CryptoError> {
        use subtle::ConstantTimeEq;
        if tag.len() == 32 && bool::from(self.mac(data).ct_eq(tag)) {
            Ok(())
        } else {
            Err(CryptoError)
        }
    }
}

/// The inner hash's one block: a message of at most 55 bytes and its
/// padding; the length counts the 64-byte pad block already absorbed.
#[inline]
fn inner_block(data: &[u8]) -> [u8; 64] {
    let mut block = [0u8; 64];
    // Eight bytes at a time: short values are the common case, and a
    // variable-length copy is otherwise a call to memcpy.
    let mut words = data.chunks_exact(8);
    for (dst, src) in block.chunks_exact_mut(8).zip(&mut words) {
        dst.copy_from_slice(src);
    }
    let done = data.len() - words.remainder().len();
    for (dst, &src) in block[done..].iter_mut().zip(words.remainder()) {
        *dst = src;
    }
    block[data.len()] = 0x80;
    block[56..].copy_from_slice(&((64 + data.len() as u64) * 8).to_be_bytes());
    block
}

/// The outer hash's one block: the 32-byte inner digest and its padding.
#[inline]
fn outer_block(inner: &[u32; 8]) -> [u8; 64] {
    let mut block = [0u8; 64];
    for (chunk, word) in block[..32].chunks_exact_mut(4).zip(inner) {
        chunk.copy_from_slice(&word.to_be_bytes());
    }
    block[32] = 0x80;
    block[56..].copy_from_slice(&((64u64 + 32) * 8).to_be_bytes());
    block
}

/// A SHA-256 state as its 32-byte digest.
#[inline]
fn be_bytes(st: &[u32; 8]) -> [u8; 32] {
    let mut out = [0u8; 32];
    for (chunk, word) in out.chunks_exact_mut(4).zip(st) {
        chunk.copy_from_slice(&word.to_be_bytes());
    }
    out
}

/// HMAC-SHA256 of a message of at most 55 bytes from the chaining values
/// after the pad blocks: two compressions and the padding, nothing else.
fn hmac_short(inner: &[u32; 8], outer: &[u32; 8], data: &[u8]) -> [u8; 32] {
    let mut st = *inner;
    sha2::block_api::compress256(&mut st, &[inner_block(data)]);
    let block = outer_block(&st);
    let mut st = *outer;
    sha2::block_api::compress256(&mut st, &[block]);
    be_bytes(&st)
}

/// An expanded AES-256-GCM key.
pub struct Gcm(Aes256Gcm);

impl Gcm {
    /// Expands the key (infallible: the type fixes the key length).
    pub fn new(key: &[u8; 32]) -> Self {
        Gcm(Aes256Gcm::new(key.into()))
    }

    /// Encrypts `buf` in place, returns the tag.
    ///
    /// # Errors
    /// Only for messages over GCM's length limit (64 GiB).
    pub fn seal(
        &self,
        nonce: &[u8; 12],
        aad: &[u8],
        buf: &mut [u8],
    ) -> Result<[u8; 16], CryptoError> {
        let tag = self
            .0
            .encrypt_inout_detached(nonce.into(), aad, buf.into())
            .map_err(|_| CryptoError)?;
        Ok(tag.into())
    }

    /// Verifies and decrypts `buf` in place.
    ///
    /// # Errors
    /// [`CryptoError`] when the tag does not verify.
    pub fn open(
        &self,
        nonce: &[u8; 12],
        aad: &[u8],
        buf: &mut [u8],
        tag: &[u8; 16],
    ) -> Result<(), CryptoError> {
        self.0
            .decrypt_inout_detached(nonce.into(), aad, buf.into(), tag.into())
            .map_err(|_| CryptoError)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fast_path_equals_the_hmac_crate_at_every_length_and_key_size() {
        for key_len in [0usize, 1, 32, 64, 65, 200] {
            let key: [u8; 200] = core::array::from_fn(|i| (i * 7 + key_len) as u8);
            let h = HmacSha256::new(&key[..key_len]);
            for len in 0..=130usize {
                let msg: [u8; 130] = core::array::from_fn(|i| (i * 13 + len) as u8);
                let mut m = Hmac::<Sha256>::new_from_slice(&key[..key_len]).unwrap();
                m.update(&msg[..len]);
                let want: [u8; 32] = m.finalize().into_bytes().into();
                assert_eq!(h.mac(&msg[..len]), want, "key {key_len} msg {len}");
                assert!(h.verify(&msg[..len], &want).is_ok());
            }
        }
    }

    /// `mac20`, where this CPU has its kernel (whether or not it is the
    /// one dispatched to here), equals `mac` lane by lane at every length
    /// 0..=55 in every lane (lanes of different lengths side by side),
    /// several keys; a message past 55 bytes in any lane gives `None`.
    #[test]
    fn mac20_equals_mac_at_every_length() {
        for key_len in [0usize, 32, 65] {
            let key: [u8; 65] = core::array::from_fn(|i| (i * 11 + key_len) as u8);
            let h = HmacSha256::new(&key[..key_len]).with_every_kernel();
            let msg: [u8; 300] = core::array::from_fn(|i| (i * 29 + 3) as u8);
            for len in 0..=55usize {
                let data: [&[u8]; 20] = core::array::from_fn(|l| {
                    let n = (len + l * 7) % 56;
                    &msg[l * 11..l * 11 + n]
                });
                let Some(tags) = h.mac20(data) else {
                    return; // no twenty-way kernel on this CPU
                };
                assert_eq!(tags, data.map(|d| h.mac(d)), "key {key_len} len {len}");
                let mut long = data;
                long[len % 20] = &msg[..56 + len];
                assert_eq!(h.mac20(long), None);
            }
        }
    }

    /// `mac4` equals `mac` lane by lane: every length 0..=70 in every lane
    /// (short and long messages mixed, so both the interleaved and the
    /// fallback path run), several keys.
    #[test]
    fn mac4_equals_mac_at_every_length() {
        for key_len in [0usize, 32, 65] {
            let key: [u8; 65] = core::array::from_fn(|i| (i * 11 + key_len) as u8);
            let h = HmacSha256::new(&key[..key_len]);
            let msg: [u8; 300] = core::array::from_fn(|i| (i * 29 + 3) as u8);
            for len in 0..=70usize {
                let lens = [len, (len * 7) % 56, 55 - len.min(55), (len * 3) % 71];
                let data = [
                    &msg[..lens[0]],
                    &msg[100..100 + lens[1]],
                    &msg[180..180 + lens[2]],
                    &msg[229..229 + lens[3]],
                ];
                assert_eq!(
                    h.mac4(data),
                    data.map(|d| h.mac(d)),
                    "key {key_len} lens {lens:?}"
                );
            }
        }
    }
}
