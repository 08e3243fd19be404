//! The `generalize` transform: coarser values that still carry information.
//!
//! | `to` | input | output |
//! |---|---|---|
//! | `year` | a date | `1990` |
//! | `year-month` | a date | `1990-07` |
//! | `age-band` | a birth date | `30-39` (age at `as_of`, bands of `width` years) |
//! | `bucket` | a number | `12000-12999` (`width`; decimals are floored first) |
//! | `prefix` | text | the first `keep` characters (`04524` → `045`) |
//! | `top-bottom` | a number | `>=90` above `top`, `<=18` below `bottom`, else unchanged |
//!
//! # Example
//! ```
//! use deid::date::Date;
//! use deid::transform::generalize::Generalization;
//! let mut out = [0u8; 32];
//! assert_eq!(Generalization::Year.apply(b"1990-07-15", &mut out).unwrap(), b"1990");
//! let band = Generalization::AgeBand { width: 10, as_of: Date::new(2025, 1, 1).unwrap() };
//! assert_eq!(band.apply(b"1990-07-15", &mut out).unwrap(), b"30-39");
//! assert_eq!(Generalization::Prefix { keep: 3 }.apply(b"04524", &mut out).unwrap(), b"045");
//! ```

use crate::date::{Date, Layout};
use crate::error::Error;
use crate::transform::format_into;

/// One generalization rule.
#[derive(Clone, Copy, Debug, PartialEq)]
#[non_exhaustive]
pub enum Generalization {
    /// The year of a date.
    Year,
    /// Year and month of a date, `YYYY-MM`.
    YearMonth,
    /// Age at `as_of` in bands of `width` years, from a birth date.
    AgeBand {
        /// Band width in years (≥ 1).
        width: u32,
        /// The reference date ages are computed at (fixed, so runs repeat).
        as_of: Date,
    },
    /// Numeric buckets of `width`, labelled `lo-hi` (inclusive, integers).
    Bucket {
        /// Bucket width (≥ 1).
        width: u64,
    },
    /// The first `keep` characters.
    Prefix {
        /// Characters kept (not bytes).
        keep: usize,
    },
    /// Values at or above `top` become `>=top`; at or below `bottom`, `<=bottom`.
    TopBottom {
        /// Top-coding threshold.
        top: Option<i64>,
        /// Bottom-coding threshold.
        bottom: Option<i64>,
    },
}

/// The longest 64-bit integer label, `-9223372036854775808`.
const I64_TEXT: usize = 20;

impl Generalization {
    /// The most bytes [`Self::apply`] writes for a value of `input_len`
    /// bytes: 4 for a year, 7 for a year and month, two 64-bit integers and
    /// a dash for an age band or a bucket, `input_len` for a prefix, and for
    /// top/bottom coding the larger of `>=`/`<=` with a 64-bit integer and
    /// the (trimmed) value itself.
    pub const fn max_output_len(&self, input_len: usize) -> usize {
        match self {
            Generalization::Year => 4,
            Generalization::YearMonth => 7,
            Generalization::AgeBand { .. } | Generalization::Bucket { .. } => 2 * I64_TEXT + 1,
            Generalization::Prefix { .. } => input_len,
            Generalization::TopBottom { .. } => {
                if input_len > 2 + I64_TEXT {
                    input_len
                } else {
                    2 + I64_TEXT
                }
            }
        }
    }

    /// Generalizes `value` into the front of `out`.
    ///
    /// # Errors
    /// [`Error::Invalid`] naming what was expected (`date`, `number`, UTF-8);
    /// [`Error::BufferTooSmall`].
    pub fn apply<'a>(&self, value: &[u8], out: &'a mut [u8]) -> Result<&'a [u8], Error> {
        match *self {
            Generalization::Year | Generalization::YearMonth | Generalization::AgeBand { .. } => {
                let (d, _) = Date::parse(value)?;
                self.apply_date(d, out)
            }
            Generalization::Bucket { width } => {
                let (lo, hi) = bucket(number(value)?, width)?;
                format_into(out, format_args!("{lo}-{hi}"))
            }
            Generalization::Prefix { keep } => {
                let s = core::str::from_utf8(value).map_err(|_| Error::Invalid("UTF-8"))?;
                let end = s.char_indices().nth(keep).map_or(s.len(), |(i, _)| i);
                format_into(out, format_args!("{}", &s[..end]))
            }
            Generalization::TopBottom { top, bottom } => {
                let v = number(value)?;
                match (top, bottom) {
                    (Some(t), _) if v >= t => format_into(out, format_args!(">={t}")),
                    (_, Some(b)) if v <= b => format_into(out, format_args!("<={b}")),
                    _ => {
                        let s = core::str::from_utf8(value)
                            .map_err(|_| Error::Invalid("number"))?
                            .trim();
                        format_into(out, format_args!("{s}"))
                    }
                }
            }
        }
    }

    /// Whether the rule reads a date (`year`, `year-month`, `age-band`):
    /// then [`Self::apply_date`] takes the date itself, as a typed date
    /// column holds it.
    pub const fn reads_date(&self) -> bool {
        matches!(
            self,
            Generalization::Year | Generalization::YearMonth | Generalization::AgeBand { .. }
        )
    }

    /// A date rule on a date: what [`Self::apply`] gives for the date's
    /// text, without the text.
    ///
    /// # Errors
    /// [`Error::Invalid`] for a year outside 0 to 9999 (`year`,
    /// `year-month`), a birth date after `as_of`, or a rule that does not
    /// read a date; [`Error::BufferTooSmall`].
    pub fn apply_date<'a>(&self, d: Date, out: &'a mut [u8]) -> Result<&'a [u8], Error> {
        match *self {
            Generalization::Year => iso_prefix(d, 4, out),
            Generalization::YearMonth => iso_prefix(d, 7, out),
            Generalization::AgeBand { width, as_of } => {
                let age = d.age_at(as_of);
                if age < 0 {
                    return Err(Error::Invalid("birth date (after the as_of date)"));
                }
                // In i64: a u32 width does not fit an i32, and the band's
                // end (lo + width - 1) always fits an i64.
                let w0 = i64::from(width.max(1));
                let lo = i64::from(age) / w0 * w0;
                let hi = lo
                    .checked_add(w0 - 1)
                    .ok_or(Error::Invalid("age band (width too large)"))?;
                format_into(out, format_args!("{lo}-{hi}"))
            }
            _ => Err(Error::Invalid(
                "value for this rule (it does not read a date)",
            )),
        }
    }
}

impl super::Transform for Generalization {
    fn max_output_len(&self, input_len: usize) -> usize {
        Generalization::max_output_len(self, input_len)
    }

    fn apply<'a>(&self, value: &[u8], out: &'a mut [u8]) -> Result<&'a [u8], Error> {
        Generalization::apply(self, value, out)
    }
}

/// The bucket of `width` (0 taken as 1) holding `v`, as inclusive bounds.
/// Computed in i128, where neither step can overflow (|v| < 2^63 and
/// width < 2^64), then narrowed: a bucket whose bounds do not both fit an
/// i64, the type of the values, is refused rather than mislabelled.
fn bucket(v: i64, width: u64) -> Result<(i64, i64), Error> {
    const UNREPRESENTABLE: Error =
        Error::Invalid("number for this bucket width (bucket bounds beyond the 64-bit range)");
    let width = i128::from(width.max(1));
    let lo = i128::from(v)
        .div_euclid(width)
        .checked_mul(width)
        .ok_or(UNREPRESENTABLE)?;
    let hi = lo.checked_add(width - 1).ok_or(UNREPRESENTABLE)?;
    let narrow = |x: i128| i64::try_from(x).map_err(|_| UNREPRESENTABLE);
    Ok((narrow(lo)?, narrow(hi)?))
}

/// An integer, or a decimal floored to one (`12345.67` → 12345, `-0.5` → -1).
fn number(value: &[u8]) -> Result<i64, Error> {
    let s = core::str::from_utf8(value)
        .map_err(|_| Error::Invalid("number"))?
        .trim();
    if let Ok(v) = s.parse::<i64>() {
        return Ok(v);
    }
    let f: f64 = s.parse().map_err(|_| Error::Invalid("number"))?;
    if !f.is_finite() || f.abs() > 9.0e18 {
        return Err(Error::Invalid("number"));
    }
    let t = f as i64; // truncates toward zero; |f| <= 9e18 fits
    if (t as f64) > f {
        t.checked_sub(1).ok_or(Error::Invalid("number"))
    } else {
        Ok(t)
    }
}

/// The first `n` characters (4: year, 7: year and month) of the ISO form
/// of `d`, written by the date's own digit writer: no `fmt` in this hot
/// path.
fn iso_prefix(d: Date, n: usize, out: &mut [u8]) -> Result<&[u8], Error> {
    let mut iso = [0u8; 10];
    d.write(Layout::ISO, &[], &mut iso)?;
    let dst = out.get_mut(..n).ok_or(Error::BufferTooSmall(n))?;
    dst.copy_from_slice(&iso[..n]);
    Ok(dst)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(g: Generalization, v: &str) -> Result<[u8; 64], Error> {
        let mut out = [0u8; 64];
        g.apply(v.as_bytes(), &mut out)?;
        Ok(out)
    }

    #[test]
    fn date_rules_take_the_date_or_its_text_alike() {
        let as_of = Date::new(2025, 1, 1).unwrap();
        let d = Date::new(1990, 7, 15).unwrap();
        for g in [
            Generalization::Year,
            Generalization::YearMonth,
            Generalization::AgeBand { width: 10, as_of },
        ] {
            assert!(g.reads_date());
            let mut a = [0u8; 64];
            let mut b = [0u8; 64];
            assert_eq!(
                g.apply_date(d, &mut a).unwrap(),
                g.apply(b"1990-07-15", &mut b).unwrap()
            );
        }
        let after = Generalization::AgeBand { width: 10, as_of };
        let late = Date::new(2030, 1, 1).unwrap();
        assert!(after.apply_date(late, &mut [0u8; 64]).is_err());
        for g in [
            Generalization::Bucket { width: 10 },
            Generalization::Prefix { keep: 2 },
        ] {
            assert!(!g.reads_date());
            assert!(g.apply_date(d, &mut [0u8; 64]).is_err());
        }
    }

    fn ok(g: Generalization, v: &str, want: &str) {
        let out = run(g, v).unwrap();
        assert_eq!(
            core::str::from_utf8(&out).unwrap().trim_end_matches('\0'),
            want,
            "{g:?} {v}"
        );
    }

    #[test]
    fn dates() {
        ok(Generalization::Year, "1990-07-15", "1990");
        ok(Generalization::Year, "19900715", "1990");
        ok(Generalization::YearMonth, "1990/07/15", "1990-07");
        let as_of = Date::new(2025, 7, 15).unwrap();
        ok(
            Generalization::AgeBand { width: 10, as_of },
            "1990-07-15",
            "30-39",
        );
        ok(
            Generalization::AgeBand { width: 10, as_of },
            "1990-07-16",
            "30-39",
        );
        ok(
            Generalization::AgeBand { width: 5, as_of },
            "2000-07-16",
            "20-24",
        );
        ok(
            Generalization::AgeBand { width: 5, as_of },
            "2000-07-15",
            "25-29",
        );
        assert_eq!(
            run(Generalization::Year, "15/07/1990"),
            Err(Error::Invalid("date"))
        );
        assert!(run(Generalization::AgeBand { width: 10, as_of }, "2030-01-01").is_err());
    }

    #[test]
    fn year_and_month_at_every_width_of_year() {
        // Every day of years 0 to 9999 that a few strides reach, in all
        // three layouts, with and without a time part.
        let (first, last) = (
            Date::new(0, 1, 1).unwrap().to_days(),
            Date::new(9999, 12, 31).unwrap().to_days(),
        );
        // Text written into a stack buffer: the core has no allocator.
        fn text<'a>(buf: &'a mut [u8; 32], args: core::fmt::Arguments<'_>) -> &'a str {
            core::str::from_utf8(format_into(buf, args).unwrap()).unwrap()
        }
        let (mut a, mut b, mut c) = ([0u8; 32], [0u8; 32], [0u8; 32]);
        for days in (first..=last).step_by(997).chain([first, last]) {
            let d = Date::from_days(days);
            let (y, m, day) = (d.year(), d.month(), d.day());
            let year = text(&mut b, format_args!("{y:04}"));
            let year_month = text(&mut c, format_args!("{y:04}-{m:02}"));
            for layout in 0..3 {
                let value = match layout {
                    0 => text(&mut a, format_args!("{y:04}-{m:02}-{day:02}")),
                    1 => text(&mut a, format_args!("{y:04}{m:02}{day:02}")),
                    _ => text(&mut a, format_args!("{y:04}/{m:02}/{day:02}T12:00:00")),
                };
                ok(Generalization::Year, value, year);
                ok(Generalization::YearMonth, value, year_month);
            }
        }
        let mut small = [0u8; 6];
        assert_eq!(
            Generalization::YearMonth.apply(b"1990-07-15", &mut small),
            Err(Error::BufferTooSmall(7))
        );
        assert_eq!(
            Generalization::Year.apply(b"1990-07-15", &mut small[..4]),
            Ok(&b"1990"[..])
        );
    }

    #[test]
    fn numbers() {
        ok(
            Generalization::Bucket { width: 1000 },
            "12345",
            "12000-12999",
        );
        ok(
            Generalization::Bucket { width: 1000 },
            "12345.67",
            "12000-12999",
        );
        ok(Generalization::Bucket { width: 10 }, "-5", "-10--1");
        ok(Generalization::Bucket { width: 10 }, "-0.5", "-10--1");
        let tb = Generalization::TopBottom {
            top: Some(90),
            bottom: Some(18),
        };
        ok(tb, "95", ">=90");
        ok(tb, "90", ">=90");
        ok(tb, "17", "<=18");
        ok(tb, "42", "42");
        assert_eq!(run(tb, "forty"), Err(Error::Invalid("number")));
        assert_eq!(
            run(Generalization::Bucket { width: 10 }, "NaN"),
            Err(Error::Invalid("number"))
        );
    }

    #[test]
    fn buckets_at_the_ends_of_the_range_are_exact_or_refused() {
        const MAX: &str = "9223372036854775807";
        const MIN: &str = "-9223372036854775808";
        let refused = |width: u64, v: &str| {
            matches!(
                run(Generalization::Bucket { width }, v),
                Err(Error::Invalid(_))
            )
        };
        // Used to be written as 9223372036854775800--9223372036854775807 in
        // release builds (lo + width - 1 wrapped) and to panic in debug ones.
        assert!(refused(10, MAX));
        assert!(refused(10, MIN));
        assert!(refused(u64::MAX, "5"));
        assert!(refused(u64::MAX, "-5"));
        assert!(refused((1 << 63) + 1, "0"));
        // The last representable buckets.
        ok(
            Generalization::Bucket { width: 8 },
            MAX,
            "9223372036854775800-9223372036854775807",
        );
        ok(
            Generalization::Bucket { width: 8 },
            MIN,
            "-9223372036854775808--9223372036854775801",
        );
        ok(
            Generalization::Bucket { width: 1 << 63 },
            "0",
            "0-9223372036854775807",
        );
        ok(
            Generalization::Bucket { width: 1 << 63 },
            "-1",
            "-9223372036854775808--1",
        );
        ok(
            Generalization::Bucket { width: 1 },
            MIN,
            "-9223372036854775808--9223372036854775808",
        );
        // The error names the rule, not the value.
        let Err(Error::Invalid(rule)) = run(Generalization::Bucket { width: 10 }, MAX) else {
            panic!("not refused")
        };
        assert!(!rule.contains("922337"), "{rule}");
    }

    #[test]
    fn age_bands_of_any_width() {
        let as_of = Date::new(2025, 7, 15).unwrap();
        for (width, want) in [
            (u32::MAX, "0-4294967294"),
            (1 << 31, "0-2147483647"),
            ((1 << 31) - 1, "0-2147483646"),
        ] {
            ok(Generalization::AgeBand { width, as_of }, "1990-07-15", want);
        }
    }

    #[test]
    fn prefixes_count_characters() {
        ok(Generalization::Prefix { keep: 3 }, "04524", "045");
        ok(Generalization::Prefix { keep: 2 }, "서울특별시", "서울");
        ok(Generalization::Prefix { keep: 9 }, "short", "short");
    }
}
