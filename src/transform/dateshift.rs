//! The `dateshift` transform: every date of one subject moves by the same
//! secret offset, so intervals between a person's events survive while the
//! dates themselves do not.
//!
//! The offset for a subject (e.g. the customer id) is
//!
//! ```text
//! mac    = HMAC-SHA256(subkey("dateshift", ctx, 32), subject)
//! offset = (u64::from_be_bytes(mac[0..8]) mod (2 * max_days + 1)) - max_days
//! ```
//!
//! in days, in `[-max_days, +max_days]` (the modulo bias is below 2^-40 for
//! any practical `max_days`). In Python:
//! `int.from_bytes(mac[:8], "big") % (2 * max_days + 1) - max_days`.
//!
//! # Example
//! ```
//! use deid::transform::dateshift::DateShifter;
//! use deid::MasterKey;
//! let key = MasterKey::from_bytes(1, [4u8; 32]);
//! let shift = DateShifter::new(&key, "visit_date", 30).unwrap();
//! let mut out = [0u8; 32];
//! let a = shift.shift(b"2024-03-01", b"customer-17", &mut out).unwrap().to_vec();
//! assert_eq!(a.len(), 10);
//! assert!(shift.offset(b"customer-17").abs() <= 30);
//! ```

use zeroize::Zeroizing;

use crate::backend::{Backend, HmacKey};
use crate::date::Date;
use crate::error::Error;
use crate::key::{MasterKey, Purpose};
use crate::transform::Transform;

/// Largest `max_days` accepted (about 27 years).
pub const MAX_DAYS: u32 = 10_000;

/// Per-subject date shifting for one field.
pub struct DateShifter {
    mac: HmacKey,
    max_days: u32,
}

impl DateShifter {
    /// A shifter for `context` with offsets in `[-max_days, +max_days]`.
    ///
    /// # Errors
    /// [`Error::Config`] if `max_days` is 0 or over [`MAX_DAYS`].
    pub fn new(key: &MasterKey, context: &str, max_days: u32) -> Result<Self, Error> {
        if max_days == 0 || max_days > MAX_DAYS {
            return Err(Error::Config("max_days (1 to 10000)"));
        }
        let sub: Zeroizing<[u8; 32]> = key.subkey(Purpose::DateShift, context)?;
        Ok(DateShifter {
            mac: HmacKey::new(Backend::default(), &*sub),
            max_days,
        })
    }

    /// The offset in days for `subject`.
    pub fn offset(&self, subject: &[u8]) -> i64 {
        let mac = self.mac.mac(subject);
        let mut head = [0u8; 8];
        head.copy_from_slice(&mac[..8]);
        let span = 2 * u64::from(self.max_days) + 1;
        (u64::from_be_bytes(head) % span) as i64 - i64::from(self.max_days)
    }

    /// The most bytes [`Self::shift`] writes for a value of `input_len`
    /// bytes: `input_len`, as the date keeps its layout (a year is always
    /// four digits) and the time part is copied.
    pub const fn max_output_len(&self, input_len: usize) -> usize {
        input_len
    }

    /// Moves the date in `value` by `subject`'s offset, keeping its layout
    /// and any time part.
    ///
    /// # Errors
    /// [`Error::Invalid`]`("date")`, [`Error::BufferTooSmall`].
    pub fn shift<'a>(
        &self,
        value: &[u8],
        subject: &[u8],
        out: &'a mut [u8],
    ) -> Result<&'a [u8], Error> {
        self.for_subject(subject).apply(value, out)
    }

    /// This shifter bound to one subject: a [`Transform`] of the date alone,
    /// the call shape of every other transform. The offset is computed here,
    /// once.
    pub fn for_subject(&self, subject: &[u8]) -> SubjectShift {
        SubjectShift {
            offset: self.offset(subject),
        }
    }
}

/// A [`DateShifter`] bound to one subject's offset (see
/// [`DateShifter::for_subject`]).
pub struct SubjectShift {
    offset: i64,
}

impl Transform for SubjectShift {
    fn max_output_len(&self, input_len: usize) -> usize {
        input_len
    }

    /// Moves the date in `value` by the subject's offset, keeping its layout
    /// and any time part.
    ///
    /// # Errors
    /// [`Error::Invalid`]`("date")`, [`Error::BufferTooSmall`].
    fn apply<'a>(&self, value: &[u8], out: &'a mut [u8]) -> Result<&'a [u8], Error> {
        let (date, layout) = Date::parse(value)?;
        date.add_days(self.offset).write(layout, value, out)
    }
}

impl core::fmt::Debug for SubjectShift {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        // The offset is the secret that dateshift hides.
        f.write_str("SubjectShift { .. }")
    }
}

impl core::fmt::Debug for DateShifter {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("DateShifter")
            .field("max_days", &self.max_days)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn offsets_are_stable_bounded_and_spread() {
        let key = MasterKey::from_bytes(1, [9; 32]);
        let s = DateShifter::new(&key, "d", 7).unwrap();
        let mut seen = [false; 15];
        for i in 0..400u32 {
            let o = s.offset(&i.to_be_bytes());
            assert!((-7..=7).contains(&o));
            assert_eq!(o, s.offset(&i.to_be_bytes()));
            seen[(o + 7) as usize] = true;
        }
        assert!(seen.iter().all(|&x| x), "every offset in range occurs");
        assert!(DateShifter::new(&key, "d", 0).is_err());
    }

    #[test]
    fn same_subject_keeps_intervals() {
        let key = MasterKey::from_bytes(1, [9; 32]);
        let s = DateShifter::new(&key, "d", 365).unwrap();
        let mut a = [0u8; 32];
        let mut b = [0u8; 32];
        let x = Date::parse(s.shift(b"2024-01-01", b"p1", &mut a).unwrap())
            .unwrap()
            .0;
        let y = Date::parse(s.shift(b"2024-03-01T09:00", b"p1", &mut b).unwrap())
            .unwrap()
            .0;
        assert_eq!(y.to_days() - x.to_days(), 60);
        assert!(b.starts_with(b"20") && b[10..16] == *b"T09:00");
    }
}
