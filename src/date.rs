//! Civil dates (proleptic Gregorian) without `std`: parsing `YYYY-MM-DD`,
//! `YYYYMMDD` and `YYYY/MM/DD` (a time part after the date is kept as is),
//! day arithmetic for date shifting, and ages for age bands.
//!
//! # Example
//! ```
//! use deid::date::Date;
//! let (d, layout) = Date::parse(b"1990-07-15T08:30:00").unwrap();
//! assert_eq!((d.year(), d.month(), d.day()), (1990, 7, 15));
//! assert_eq!(d.add_days(20).to_days() - d.to_days(), 20);
//! assert_eq!(d.age_at(Date::new(2024, 7, 14).unwrap()), 33);
//! # let _ = layout;
//! ```

use crate::error::Error;

/// A calendar date.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Date {
    year: i32,
    month: u8,
    day: u8,
}

/// How a date was written, so a transformed date is written the same way.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Layout {
    separator: Option<u8>,
    /// Bytes after the date (a time part), kept verbatim.
    tail_start: usize,
}

impl Layout {
    /// `YYYY-MM-DD` with nothing after it.
    pub const ISO: Layout = Layout {
        separator: Some(b'-'),
        tail_start: 0,
    };
}

impl Date {
    /// A valid date.
    ///
    /// # Errors
    /// [`Error::Invalid`]`("date")` for a month or day out of range.
    pub fn new(year: i32, month: u8, day: u8) -> Result<Self, Error> {
        if !(1..=12).contains(&month)
            || day == 0
            || day > days_in_month(year, month)
            || !(0..=9999).contains(&year)
        {
            return Err(Error::Invalid("date"));
        }
        Ok(Date { year, month, day })
    }

    /// Year.
    pub fn year(self) -> i32 {
        self.year
    }

    /// Month, 1-12.
    pub fn month(self) -> u8 {
        self.month
    }

    /// Day of the month, 1-31.
    pub fn day(self) -> u8 {
        self.day
    }

    /// Parses the date at the start of `s`: `YYYY-MM-DD`, `YYYY/MM/DD`,
    /// `YYYY.MM.DD` or `YYYYMMDD`, optionally followed by a time part
    /// (`T…` or ` …`).
    ///
    /// # Errors
    /// [`Error::Invalid`]`("date")`.
    pub fn parse(s: &[u8]) -> Result<(Date, Layout), Error> {
        let bad = Error::Invalid("date");
        let num = |b: &[u8]| -> Result<u32, Error> {
            if b.is_empty() || !b.iter().all(u8::is_ascii_digit) {
                return Err(bad);
            }
            Ok(b.iter().fold(0u32, |acc, d| acc * 10 + u32::from(d - b'0')))
        };
        let (y, m, d, sep, end) = match s.get(4) {
            Some(&sep @ (b'-' | b'/' | b'.')) => {
                if s.get(7) != Some(&sep) {
                    return Err(bad);
                }
                (
                    num(&s[..4])?,
                    num(s.get(5..7).ok_or(bad)?)?,
                    num(s.get(8..10).ok_or(bad)?)?,
                    Some(sep),
                    10,
                )
            }
            Some(_) => (
                num(&s[..4])?,
                num(s.get(4..6).ok_or(bad)?)?,
                num(s.get(6..8).ok_or(bad)?)?,
                None,
                8,
            ),
            None => return Err(bad),
        };
        if let Some(&c) = s.get(end) {
            if c != b'T' && c != b' ' {
                return Err(bad);
            }
        }
        let date = Date::new(y as i32, m as u8, d as u8)?;
        Ok((
            date,
            Layout {
                separator: sep,
                tail_start: end,
            },
        ))
    }

    /// Days since 1970-01-01 (negative before).
    pub fn to_days(self) -> i64 {
        // Howard Hinnant's days_from_civil.
        let y = i64::from(self.year) - i64::from(self.month <= 2);
        let era = y.div_euclid(400);
        let yoe = y - era * 400;
        let m = i64::from(self.month);
        let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(self.day) - 1;
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
        era * 146_097 + doe - 719_468
    }

    /// The date `days` after 1970-01-01.
    pub fn from_days(days: i64) -> Date {
        let z = days + 719_468;
        let era = z.div_euclid(146_097);
        let doe = z - era * 146_097;
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
        let mp = (5 * doy + 2) / 153;
        let day = (doy - (153 * mp + 2) / 5 + 1) as u8;
        let month = if mp < 10 { mp + 3 } else { mp - 9 } as u8;
        let year = (yoe + era * 400 + i64::from(month <= 2)) as i32;
        Date { year, month, day }
    }

    /// This date moved by `days`.
    pub fn add_days(self, days: i64) -> Date {
        Date::from_days(self.to_days() + days)
    }

    /// Completed years from this date (a birth date) to `reference`.
    pub fn age_at(self, reference: Date) -> i32 {
        let mut age = reference.year - self.year;
        if (reference.month, reference.day) < (self.month, self.day) {
            age -= 1;
        }
        age
    }

    /// Writes the date in `layout` (the one it was parsed with), then the
    /// original tail taken from `original`.
    ///
    /// # Errors
    /// [`Error::BufferTooSmall`], or [`Error::Invalid`] if the year does not
    /// fit four digits.
    pub fn write<'a>(
        self,
        layout: Layout,
        original: &[u8],
        out: &'a mut [u8],
    ) -> Result<&'a [u8], Error> {
        if !(0..=9999).contains(&self.year) {
            return Err(Error::Invalid("date"));
        }
        let tail = original.get(layout.tail_start..).unwrap_or(&[]);
        let len = if layout.separator.is_some() { 10 } else { 8 } + tail.len();
        let buf = out.get_mut(..len).ok_or(Error::BufferTooSmall(len))?;
        fn put(b: &mut [u8], v: u32) {
            let mut v = v;
            for slot in b.iter_mut().rev() {
                *slot = b'0' + (v % 10) as u8;
                v /= 10;
            }
        }
        put(&mut buf[..4], self.year as u32);
        let i = match layout.separator {
            Some(sep) => {
                buf[4] = sep;
                put(&mut buf[5..7], u32::from(self.month));
                buf[7] = sep;
                put(&mut buf[8..10], u32::from(self.day));
                10
            }
            None => {
                put(&mut buf[4..6], u32::from(self.month));
                put(&mut buf[6..8], u32::from(self.day));
                8
            }
        };
        buf[i..].copy_from_slice(tail);
        Ok(buf)
    }
}

/// Days in `month` of `year`.
pub const fn days_in_month(year: i32, month: u8) -> u8 {
    match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 => 29,
        2 => 28,
        _ => 0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_days_over_centuries() {
        for days in (-700_000..2_900_000).step_by(997) {
            let d = Date::from_days(days);
            assert_eq!(d.to_days(), days);
            assert!(Date::new(d.year, d.month, d.day).is_ok());
        }
        assert_eq!(Date::new(1970, 1, 1).unwrap().to_days(), 0);
        assert_eq!(Date::new(2000, 3, 1).unwrap().to_days(), 11_017);
    }

    #[test]
    fn parses_and_writes_each_layout() {
        for s in [
            "2024-02-29",
            "2024/02/29",
            "20240229",
            "2024.02.29",
            "2024-02-29T10:11:12Z",
            "2024-02-29 10:11",
        ] {
            let (d, layout) = Date::parse(s.as_bytes()).unwrap();
            assert_eq!((d.year, d.month, d.day), (2024, 2, 29), "{s}");
            let mut out = [0u8; 32];
            assert_eq!(
                d.write(layout, s.as_bytes(), &mut out).unwrap(),
                s.as_bytes()
            );
        }
        for s in [
            "2023-02-29",
            "2024-13-01",
            "2024-1-01",
            "24-01-01",
            "2024-01-01x",
            "",
            "abcdefgh",
            "2024-00-10",
        ] {
            assert!(Date::parse(s.as_bytes()).is_err(), "{s}");
        }
    }

    #[test]
    fn ages() {
        let birth = Date::new(2000, 2, 29).unwrap();
        assert_eq!(birth.age_at(Date::new(2018, 2, 28).unwrap()), 17);
        assert_eq!(birth.age_at(Date::new(2018, 3, 1).unwrap()), 18);
    }
}
