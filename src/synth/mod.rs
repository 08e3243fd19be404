//! Deterministic synthetic exports (`deid gen`) for demos, tests and benchmarks.
//!
//! The `kr-customers` profile imitates a Korean customer export: names drawn
//! from the surname frequencies of the 2015 census, `010` mobile numbers,
//! emails at Korean and global providers, resident registration numbers with
//! the pre-2020 structure (birth date, sex/century digit, valid check
//! digit), birth dates and sex consistent with them, postal codes consistent
//! with the city (weighted by population), signup dates and balances.
//! Every row is a pure function of `(seed, row index)`, so output is the same
//! for a seed whatever the thread count, and any row can be regenerated alone.
//!
//! # Example
//! ```
//! use deid::synth::Generator;
//! let g = Generator::new(42);
//! let a = g.customer(7);
//! assert_eq!(a, g.customer(7));
//! assert!(a.phone.starts_with("010-"));
//! assert!(deid::checks::rrn_valid(a.rrn.as_bytes()));
//! let mut csv = Vec::new();
//! g.write(3, deid::io::table::Format::Csv, &mut csv, 1).unwrap();
//! assert_eq!(String::from_utf8(csv).unwrap().lines().count(), 4);
//! ```

use std::fmt::Write as _;
use std::io::{self, Write};
use std::string::String;
use std::vec::Vec;

use sha2::{Digest, Sha256};

use crate::date::Date;
use crate::io::table::Format;

pub mod memo;
pub use memo::Memo;
#[cfg(feature = "parquet")]
mod parquet;

/// The columns of the `kr-customers` profile, in order.
pub const COLUMNS: [&str; 11] = [
    "customer_id",
    "name",
    "phone",
    "email",
    "rrn",
    "birth_date",
    "sex",
    "postal_code",
    "city",
    "signup_date",
    "balance",
];
/// Extra columns with `--naive-hash`.
pub const NAIVE_HASH_COLUMNS: [&str; 2] = ["phone_sha256", "email_sha256"];
/// The extra column with `--memo` (last): a customer-service note ([`memo`]).
pub const MEMO_COLUMN: &str = "memo";

/// Surnames with their share per mille of the population (2015 census), and romanization.
const SURNAMES: &[(&str, &str, u32)] = &[
    ("김", "kim", 215),
    ("이", "lee", 147),
    ("박", "park", 84),
    ("최", "choi", 47),
    ("정", "jung", 43),
    ("강", "kang", 24),
    ("조", "cho", 21),
    ("윤", "yoon", 21),
    ("장", "jang", 20),
    ("임", "lim", 17),
    ("한", "han", 15),
    ("오", "oh", 15),
    ("서", "seo", 15),
    ("신", "shin", 15),
    ("권", "kwon", 14),
    ("황", "hwang", 14),
    ("안", "ahn", 14),
    ("송", "song", 13),
    ("류", "ryu", 12),
    ("전", "jeon", 11),
    ("홍", "hong", 11),
    ("고", "ko", 9),
    ("문", "moon", 9),
    ("양", "yang", 9),
    ("손", "son", 9),
    ("배", "bae", 8),
    ("백", "baek", 8),
    ("허", "heo", 7),
    ("유", "yoo", 6),
    ("남", "nam", 6),
];

const SYLLABLES: &[(&str, &str)] = &[
    ("민", "min"),
    ("서", "seo"),
    ("지", "ji"),
    ("현", "hyun"),
    ("준", "jun"),
    ("우", "woo"),
    ("도", "do"),
    ("하", "ha"),
    ("윤", "yoon"),
    ("은", "eun"),
    ("예", "ye"),
    ("수", "su"),
    ("영", "young"),
    ("진", "jin"),
    ("유", "yu"),
    ("연", "yeon"),
    ("성", "sung"),
    ("재", "jae"),
    ("원", "won"),
    ("호", "ho"),
    ("혜", "hye"),
    ("동", "dong"),
    ("승", "seung"),
    ("시", "si"),
    ("아", "a"),
    ("주", "ju"),
    ("태", "tae"),
    ("경", "kyung"),
    ("희", "hee"),
    ("훈", "hoon"),
];

const DOMAINS: &[(&str, u32)] = &[
    ("naver.com", 40),
    ("gmail.com", 30),
    ("daum.net", 12),
    ("kakao.com", 8),
    ("hanmail.net", 6),
    ("nate.com", 4),
];

/// Province-level areas, population share per mille, and their postal-code
/// ranges (first two digits of the 5-digit code).
const CITIES: &[(&str, u32, u32, u32)] = &[
    ("경기", 262, 10, 20),
    ("서울", 185, 1, 9),
    ("부산", 64, 46, 49),
    ("경남", 63, 50, 53),
    ("인천", 58, 21, 23),
    ("경북", 50, 36, 40),
    ("대구", 46, 41, 43),
    ("충남", 42, 31, 33),
    ("전남", 35, 57, 59),
    ("전북", 34, 54, 56),
    ("충북", 31, 27, 29),
    ("강원", 30, 24, 26),
    ("대전", 28, 34, 35),
    ("광주", 28, 61, 62),
    ("울산", 21, 44, 45),
    ("제주", 13, 63, 63),
    ("세종", 8, 30, 30),
];

/// One synthetic customer.
#[derive(Clone, PartialEq, Eq)]
pub struct Customer {
    /// `C` and 9 digits, sequential.
    pub customer_id: String,
    /// Korean name (surname + two syllables).
    pub name: String,
    /// `010-XXXX-XXXX`.
    pub phone: String,
    /// Email address.
    pub email: String,
    /// Resident registration number `YYMMDD-SXXXXXX` (pre-2020 structure, valid check digit).
    pub rrn: String,
    /// `YYYY-MM-DD`, consistent with the RRN.
    pub birth_date: String,
    /// `M` or `F`, consistent with the RRN.
    pub sex: char,
    /// 5-digit postal code in the city's range.
    pub postal_code: String,
    /// Province-level area.
    pub city: &'static str,
    /// `YYYY-MM-DD` between 2015 and 2025.
    pub signup_date: String,
    /// Balance in won.
    pub balance: u64,
}

impl std::fmt::Debug for Customer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Synthetic, but shaped like real identifiers and handled by the same
        // code: printed like any record, without its values.
        f.write_str("Customer { .. }")
    }
}

/// Generates the `kr-customers` profile.
#[derive(Clone, Debug)]
pub struct Generator {
    seed: u64,
    naive_hash: bool,
    memo: bool,
}

/// SplitMix64: small, fast, good enough for synthetic data (not for keys).
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: u64) -> u64 {
        ((u128::from(self.next()) * u128::from(n)) >> 64) as u64
    }
    fn range(&mut self, lo: u64, hi: u64) -> u64 {
        lo + self.below(hi - lo + 1)
    }
    fn weighted<T: Copy>(&mut self, items: &[T], weight: impl Fn(&T) -> u32) -> T {
        let total: u64 = items.iter().map(|i| u64::from(weight(i))).sum();
        let mut x = self.below(total);
        for item in items {
            let w = u64::from(weight(item));
            if x < w {
                return *item;
            }
            x -= w;
        }
        items[items.len() - 1]
    }
    /// Standard normal (Box-Muller).
    fn normal(&mut self) -> f64 {
        let u1 = (self.next() >> 11) as f64 / (1u64 << 53) as f64;
        let u2 = (self.next() >> 11) as f64 / (1u64 << 53) as f64;
        (-2.0 * (u1.max(1e-300)).ln()).sqrt() * (2.0 * std::f64::consts::PI * u2).cos()
    }
}

impl Generator {
    /// A generator for `seed`.
    pub fn new(seed: u64) -> Self {
        Generator {
            seed,
            naive_hash: false,
            memo: false,
        }
    }

    /// Adds `phone_sha256` and `email_sha256`: lowercase hex of unsalted
    /// SHA-256 of the value as written, the way such exports are often
    /// "encrypted".
    pub fn naive_hash(mut self, yes: bool) -> Self {
        self.naive_hash = yes;
        self
    }

    /// Adds the `memo` column (last): a Korean customer-service note with
    /// identifiers planted at known places ([`memo`]).
    pub fn memo(mut self, yes: bool) -> Self {
        self.memo = yes;
        self
    }

    /// Column names, in order.
    pub fn columns(&self) -> Vec<&'static str> {
        let mut c = COLUMNS.to_vec();
        if self.naive_hash {
            c.extend(NAIVE_HASH_COLUMNS);
        }
        if self.memo {
            c.push(MEMO_COLUMN);
        }
        c
    }

    /// The note of the customer at `index` and its ground truth (a pure
    /// function of seed and index; the other columns do not depend on it).
    pub fn memo_of(&self, index: u64) -> Memo {
        let c = self.customer(index);
        let mut r = Rng(self.seed ^ index.wrapping_mul(0x9FB2_1C65_1E98_DF25) ^ 0x6D65_6D6F);
        r.next();
        memo::memo(&mut r, &c)
    }

    /// Writes the ground truth of the `memo` column of `rows` rows as JSON
    /// Lines, one line per row in order:
    /// `{"row":1,"spans":[{"type":"phone:KR","start":12,"end":25}]}`, with
    /// `row` counted from 1 (data rows) and byte offsets into the note.
    ///
    /// # Errors
    /// Writing failed.
    pub fn write_memo_truth(&self, rows: u64, out: &mut dyn Write) -> io::Result<()> {
        let mut line = String::new();
        for i in 0..rows {
            let m = self.memo_of(i);
            line.clear();
            let spans = serde_json::to_string(&m.spans).map_err(io::Error::other)?;
            let _ = writeln!(line, r#"{{"row":{},"spans":{spans}}}"#, i + 1);
            out.write_all(line.as_bytes())?;
        }
        Ok(())
    }

    /// The customer at `index` (a pure function of seed and index).
    pub fn customer(&self, index: u64) -> Customer {
        let mut r = Rng(self.seed ^ index.wrapping_mul(0xD605_BBB5_8C8A_BBFD));
        r.next();
        let (surname, surname_rom, _) = r.weighted(SURNAMES, |s| s.2);
        let (g1, g1r) = SYLLABLES[r.below(SYLLABLES.len() as u64) as usize];
        let (g2, g2r) = SYLLABLES[r.below(SYLLABLES.len() as u64) as usize];
        let name = format!("{surname}{g1}{g2}");
        let phone = format!("010-{:04}-{:04}", r.below(10_000), r.below(10_000));
        let domain = r.weighted(DOMAINS, |d| d.1).0;
        let email = match r.below(3) {
            0 => format!("{g1r}{g2r}.{surname_rom}{}@{domain}", r.below(100)),
            1 => format!("{surname_rom}{g1r}{g2r}{}@{domain}", r.range(70, 2006)),
            _ => format!("{g1r}{g2r}{}@{domain}", r.below(10_000)),
        };
        // Ages 18-85 in 2025, more weight on working ages.
        let age = (18.0 + (r.normal() * 14.0 + 27.0).abs()).min(85.0) as i32;
        let year = 2025 - age;
        let birth =
            Date::from_days(Date::new(year, 1, 1).map_or(0, Date::to_days) + r.below(365) as i64);
        let male = r.below(2) == 0;
        let sex_digit = match (birth.year() >= 2000, male) {
            (false, true) => 1,
            (false, false) => 2,
            (true, true) => 3,
            (true, false) => 4,
        };
        let mut d: Vec<u32> = Vec::with_capacity(12);
        for v in [
            (birth.year() % 100) as u32 / 10,
            (birth.year() % 10) as u32,
            u32::from(birth.month()) / 10,
            u32::from(birth.month()) % 10,
            u32::from(birth.day()) / 10,
            u32::from(birth.day()) % 10,
            sex_digit,
        ] {
            d.push(v);
        }
        for _ in 0..5 {
            d.push(r.below(10) as u32);
        }
        let mut rrn = String::with_capacity(14);
        for (i, v) in d.iter().enumerate() {
            if i == 6 {
                rrn.push('-');
            }
            rrn.push(char::from(b'0' + *v as u8));
        }
        // Twelve digits are written, so the check digit always exists.
        if let Some(c) = crate::checks::rrn_check_digit(rrn.as_bytes()) {
            rrn.push(char::from(c));
        }
        let (city, _, lo, hi) = r.weighted(CITIES, |c| c.1);
        let postal_code = format!(
            "{:02}{:03}",
            r.range(u64::from(lo), u64::from(hi)),
            r.below(1000)
        );
        let signup =
            Date::from_days(Date::new(2015, 1, 1).map_or(0, Date::to_days) + r.below(4018) as i64);
        let balance = ((r.normal() * 1.6 + 13.0).exp().min(5e9) as u64) / 10 * 10;
        Customer {
            customer_id: format!("C{:09}", index + 1),
            name,
            phone,
            email,
            rrn,
            birth_date: format!(
                "{:04}-{:02}-{:02}",
                birth.year(),
                birth.month(),
                birth.day()
            ),
            sex: if male { 'M' } else { 'F' },
            postal_code,
            city,
            signup_date: format!(
                "{:04}-{:02}-{:02}",
                signup.year(),
                signup.month(),
                signup.day()
            ),
            balance,
        }
    }

    fn row(&self, index: u64, format: Format, out: &mut String) {
        let c = self.customer(index);
        let hashes = self
            .naive_hash
            .then(|| (hex_sha256(&c.phone), hex_sha256(&c.email)));
        match format {
            Format::Csv => {
                // No field needs quoting: no commas, quotes or newlines are generated.
                let _ = write!(
                    out,
                    "{},{},{},{},{},{},{},{},{},{},{}",
                    c.customer_id,
                    c.name,
                    c.phone,
                    c.email,
                    c.rrn,
                    c.birth_date,
                    c.sex,
                    c.postal_code,
                    c.city,
                    c.signup_date,
                    c.balance
                );
                if let Some((p, e)) = hashes {
                    let _ = write!(out, ",{p},{e}");
                }
                if self.memo {
                    // Notes hold commas but never a double quote or a newline.
                    let _ = write!(out, ",\"{}\"", self.memo_of(index).text);
                }
                out.push('\n');
            }
            Format::Jsonl | Format::Parquet => {
                let _ = write!(
                    out,
                    r#"{{"customer_id":"{}","name":"{}","phone":"{}","email":"{}","rrn":"{}","birth_date":"{}","sex":"{}","postal_code":"{}","city":"{}","signup_date":"{}","balance":{}"#,
                    c.customer_id,
                    c.name,
                    c.phone,
                    c.email,
                    c.rrn,
                    c.birth_date,
                    c.sex,
                    c.postal_code,
                    c.city,
                    c.signup_date,
                    c.balance
                );
                if let Some((p, e)) = hashes {
                    let _ = write!(out, r#","phone_sha256":"{p}","email_sha256":"{e}""#);
                }
                if self.memo {
                    let text = serde_json::to_string(&self.memo_of(index).text).unwrap_or_default();
                    let _ = write!(out, r#","memo":{text}"#);
                }
                out.push_str("}\n");
            }
        }
    }

    /// Writes `rows` rows (with a header for CSV) using `threads` threads;
    /// the bytes are the same for any thread count. `progress` gets the rows
    /// written so far.
    ///
    /// # Errors
    /// Writing failed.
    pub fn write_with_progress(
        &self,
        rows: u64,
        format: Format,
        out: &mut dyn Write,
        threads: usize,
        progress: &mut dyn FnMut(u64),
    ) -> io::Result<()> {
        if format == Format::Csv {
            out.write_all(self.columns().join(",").as_bytes())?;
            out.write_all(b"\n")?;
        }
        const BLOCK: u64 = 8192;
        let threads = threads.max(1) as u64;
        let mut start = 0;
        while start < rows {
            // One batch: `threads` blocks generated in parallel, written in order.
            let blocks: Vec<(u64, u64)> = (0..threads)
                .map(|t| start + t * BLOCK)
                .filter(|&b| b < rows)
                .map(|b| (b, (b + BLOCK).min(rows)))
                .collect();
            let texts: Vec<String> = std::thread::scope(|s| {
                let handles: Vec<_> = blocks
                    .iter()
                    .map(|&(a, b)| {
                        s.spawn(move || {
                            let mut text = String::with_capacity(((b - a) * 200) as usize);
                            for i in a..b {
                                self.row(i, format, &mut text);
                            }
                            text
                        })
                    })
                    .collect();
                handles
                    .into_iter()
                    .map(|h| h.join().unwrap_or_default())
                    .collect()
            });
            for t in &texts {
                out.write_all(t.as_bytes())?;
            }
            start = blocks.last().map_or(rows, |b| b.1);
            progress(start);
        }
        Ok(())
    }

    /// [`Generator::write_with_progress`] without progress.
    ///
    /// # Errors
    /// Writing failed.
    pub fn write(
        &self,
        rows: u64,
        format: Format,
        out: &mut dyn Write,
        threads: usize,
    ) -> io::Result<()> {
        self.write_with_progress(rows, format, out, threads, &mut |_| {})
    }
}

fn hex_sha256(s: &str) -> String {
    let d = Sha256::digest(s.as_bytes());
    let mut out = String::with_capacity(64);
    for b in d.iter() {
        let _ = write!(out, "{b:02x}");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deterministic_for_a_seed_and_any_thread_count() {
        let g = Generator::new(7).naive_hash(true);
        let (mut a, mut b, mut c) = (Vec::new(), Vec::new(), Vec::new());
        g.write(20_000, Format::Csv, &mut a, 1).unwrap();
        g.write(20_000, Format::Csv, &mut b, 3).unwrap();
        Generator::new(8)
            .naive_hash(true)
            .write(20_000, Format::Csv, &mut c, 2)
            .unwrap();
        assert_eq!(a, b);
        assert_ne!(a, c);
        assert_eq!(a.iter().filter(|&&x| x == b'\n').count(), 20_001);
    }

    #[test]
    fn rows_are_internally_consistent() {
        let g = Generator::new(1);
        for i in 0..2000 {
            let c = g.customer(i);
            assert!(crate::checks::rrn_valid(c.rrn.as_bytes()), "{}", c.rrn);
            let yymmdd = &c.rrn[..6];
            assert_eq!(
                yymmdd,
                format!(
                    "{}{}{}",
                    &c.birth_date[2..4],
                    &c.birth_date[5..7],
                    &c.birth_date[8..10]
                )
            );
            let s = c.rrn.as_bytes()[7];
            assert_eq!(c.sex == 'M', s == b'1' || s == b'3');
            assert_eq!(c.phone.len(), 13);
            assert_eq!(c.email.matches('@').count(), 1);
            let (_, _, lo, hi) = CITIES.iter().find(|x| x.0 == c.city).copied().unwrap();
            let prefix: u32 = c.postal_code[..2].parse().unwrap();
            assert!((lo..=hi).contains(&prefix));
            assert_eq!(c.name.chars().count(), 3);
        }
    }

    #[test]
    fn naive_hash_is_sha256_of_the_value_as_written() {
        let g = Generator::new(3).naive_hash(true);
        let mut out = Vec::new();
        g.write(1, Format::Csv, &mut out, 1).unwrap();
        let text = String::from_utf8(out).unwrap();
        let row: Vec<&str> = text.lines().nth(1).unwrap().split(',').collect();
        assert_eq!(row[11], hex_sha256(row[2]));
        assert_eq!(row[12], hex_sha256(row[3]));
        // Known answer: SHA-256 of "abc".
        assert_eq!(
            hex_sha256("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }

    #[test]
    fn surnames_follow_their_weights() {
        let g = Generator::new(11);
        let kims = (0..20_000)
            .filter(|&i| g.customer(i).name.starts_with('김'))
            .count();
        assert!(
            (4_700..5_300).contains(&kims),
            "{kims} Kims in 20000 (expected 215/859 = 25%)"
        );
    }
}
