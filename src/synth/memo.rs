//! The `memo` column of `deid gen --memo`: Korean customer-service notes
//! with identifiers planted at known places, and decoys that look like them
//! but are not (order and tracking numbers, amounts, dates, times, numbers
//! that fail their check digit, the call-centre number).
//!
//! A note is one to three sentences. Each sentence plants an identifier with
//! probability [`PLANT_RATE`] (the customer's own phone and email, in the
//! writings people use, most often; then RRNs, cards, accounts, business
//! numbers, IPs, passports, driver's licences, foreign numbers, FRNs) and
//! holds decoys otherwise. [`Memo::spans`] is the ground truth: the byte
//! span and detector name (src/detect.rs, [`Kind::name`]) of every planted
//! identifier, and nothing else.

use std::format;
use std::string::String;
use std::vec::Vec;

use super::{Customer, Rng};
use crate::detect::Kind;

/// The probability that a sentence plants an identifier.
pub const PLANT_RATE: f64 = 0.6;

/// One planted identifier.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Span {
    /// Its detector name (`phone:KR`, `email`, ...).
    #[serde(rename = "type")]
    pub kind: &'static str,
    /// Byte offset of its first byte in the note.
    pub start: usize,
    /// Byte offset past its last byte.
    pub end: usize,
}

/// A generated note and its ground truth.
#[derive(Clone, PartialEq, Eq)]
pub struct Memo {
    /// The note (no newline, no double quote).
    pub text: String,
    /// Every planted identifier, in order.
    pub spans: Vec<Span>,
}

impl std::fmt::Debug for Memo {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Memo")
            .field("spans", &self.spans)
            .finish_non_exhaustive()
    }
}

struct Writer {
    text: String,
    spans: Vec<Span>,
}

impl Writer {
    fn say(&mut self, s: &str) {
        self.text.push_str(s);
    }
    fn plant(&mut self, kind: Kind, s: &str) {
        let start = self.text.len();
        self.text.push_str(s);
        self.spans.push(Span {
            kind: kind.name(),
            start,
            end: self.text.len(),
        });
    }
}

fn digits(r: &mut Rng, n: usize) -> String {
    (0..n)
        .map(|_| char::from(b'0' + r.below(10) as u8))
        .collect()
}

fn pick<'a>(r: &mut Rng, items: &[&'a str]) -> &'a str {
    items[r.below(items.len() as u64) as usize]
}

/// Full-width digits and hyphens (U+FF10.., U+FF0D).
fn full_width(s: &str) -> String {
    s.chars()
        .map(|c| match c {
            '0'..='9' => char::from_u32(0xFF10 + (c as u32 - '0' as u32)).unwrap_or(c),
            '-' => '－',
            c => c,
        })
        .collect()
}

/// The customer's phone (`010-XXXX-XXXX`) in one of the usual writings.
fn phone_writing(r: &mut Rng, phone: &str) -> String {
    let d: String = phone.chars().filter(char::is_ascii_digit).collect();
    let (a, b, c) = (&d[..3], &d[3..7], &d[7..]);
    match r.below(10) {
        0..=3 => format!("{a}-{b}-{c}"),
        4 => format!("{a}.{b}.{c}"),
        5 => format!("{a} {b} {c}"),
        6 => d.clone(),
        7 => format!("+82 10-{b}-{c}"),
        8 => format!("+82-10-{b}-{c}"),
        _ => full_width(&format!("{a}-{b}-{c}")),
    }
}

fn landline(r: &mut Rng) -> String {
    match r.below(3) {
        0 => format!("02-{}-{}", r.range(200, 999), digits(r, 4)),
        1 => format!("031-{}-{}", r.range(200, 999), digits(r, 4)),
        _ => format!("(051) {}-{}", r.range(200, 999), digits(r, 4)),
    }
}

fn luhn_number(r: &mut Rng, prefix: &str, len: usize) -> String {
    let mut s = String::from(prefix);
    s.push_str(&digits(r, len - prefix.len() - 1));
    s.push(char::from(crate::checks::luhn_check_digit(s.as_bytes())));
    s
}

fn grouped4(s: &str, sep: &str) -> String {
    let parts: Vec<&str> = (0..s.len())
        .step_by(4)
        .map(|i| &s[i..(i + 4).min(s.len())])
        .collect();
    parts.join(sep)
}

fn card(r: &mut Rng) -> String {
    let prefix = pick(r, &["4", "5", "4", "5", "37", "6"]);
    let n = luhn_number(r, prefix, 16);
    let n = if n.starts_with("37") {
        luhn_number(r, "37", 15)
    } else {
        n
    };
    if n.len() == 15 {
        return format!("{}-{}-{}", &n[..4], &n[4..10], &n[10..]);
    }
    match r.below(3) {
        0 => grouped4(&n, "-"),
        1 => grouped4(&n, " "),
        _ => n,
    }
}

fn brn(r: &mut Rng, valid: bool) -> String {
    let body = format!("{}{}{}", r.range(101, 899), digits(r, 2), digits(r, 4));
    let mut c = crate::checks::brn_check_digit(body.as_bytes()).unwrap_or(b'0');
    if !valid {
        c = b'0' + (c - b'0' + 1 + r.below(9) as u8) % 10;
    }
    format!(
        "{}-{}-{}{}",
        &body[..3],
        &body[3..5],
        &body[5..],
        char::from(c)
    )
}

/// A registration number body (`YYMMDD` and the sex digit) born 1950-1999.
fn registration_body(r: &mut Rng, sex_digits: &[u8; 2]) -> String {
    let y = r.range(50, 99);
    let m = r.range(1, 12);
    let d = r.range(1, 28);
    let s = sex_digits[r.below(2) as usize] as char;
    format!("{y:02}{m:02}{d:02}{s}{}", digits(r, 5))
}

fn frn(r: &mut Rng) -> String {
    let body = registration_body(r, b"56");
    let c = crate::checks::frn_check_digit(body.as_bytes()).unwrap_or(b'0');
    format!("{}-{}{}", &body[..6], &body[6..], char::from(c))
}

/// An RRN-shaped number with a wrong check digit (a decoy without context).
fn bad_rrn(r: &mut Rng) -> String {
    let body = registration_body(r, b"12");
    let c = crate::checks::rrn_check_digit(body.as_bytes()).unwrap_or(b'0');
    let wrong = b'0' + (c - b'0' + 1 + r.below(9) as u8) % 10;
    format!("{}-{}{}", &body[..6], &body[6..], char::from(wrong))
}

fn bad_card(r: &mut Rng) -> String {
    let n = luhn_number(r, "4", 16);
    let last = n.as_bytes()[15] - b'0';
    let wrong = char::from(b'0' + (last + 1 + r.below(9) as u8) % 10);
    grouped4(&format!("{}{wrong}", &n[..15]), "-")
}

const GREETINGS: &[&str] = &[
    "고객 문의 접수.",
    "고객님 전화 문의.",
    "채팅 상담 내용:",
    "CS 메모 -",
    "재문의 건.",
    "",
];

const CLOSINGS: &[&str] = &[
    " 처리 완료.",
    " 확인 후 회신 예정.",
    " 담당자 배정함.",
    " 다음 주 재연락.",
    "",
];

/// A decoy sentence: nothing in it is an identifier.
fn decoy(r: &mut Rng, w: &mut Writer) {
    let s = match r.below(12) {
        0 => format!(
            " 주문번호 {}{:02}{:02}-{} 배송 지연 문의.",
            r.range(2022, 2025),
            r.range(1, 12),
            r.range(1, 28),
            digits(r, 5)
        ),
        1 => format!(" 환불 금액 {},{}원 안내함.", r.range(1, 999), digits(r, 3)),
        2 => format!(
            " {}-{:02}-{:02} {}:{:02} 방문 예약.",
            r.range(2023, 2025),
            r.range(1, 12),
            r.range(1, 28),
            r.range(9, 18),
            r.range(0, 59)
        ),
        3 => format!(
            " 운송장 {}-{}-{} 조회 요청.",
            digits(r, 4),
            digits(r, 4),
            digits(r, 4)
        ),
        4 => format!(" 접수번호 {} 확인 필요.", bad_rrn(r)),
        5 => format!(" 결제 오류 코드 {} 발생.", bad_card(r)),
        6 => format!(" 거래처 번호 {} 조회 안 됨.", brn(r, false)),
        7 => format!(
            " 고객번호 C{:09} 상품 {}개 교환.",
            r.range(1, 999_999),
            r.range(2, 9)
        ),
        8 => String::from(" 고객센터 1588-1234 안내."),
        9 => format!(" 상품코드 SKU-{}-{} 재고 없음.", digits(r, 4), digits(r, 3)),
        10 => format!(
            " {}.{:02}.{:02} 결제분 {}회 분할.",
            r.range(2023, 2025),
            r.range(1, 12),
            r.range(1, 28),
            r.range(2, 12)
        ),
        _ => format!(
            " 포인트 {}점 적립, 쿠폰 {}장.",
            r.range(100, 9999),
            r.range(1, 5)
        ),
    };
    w.say(&s);
}

/// A sentence with one planted identifier.
fn plant(r: &mut Rng, c: &Customer, w: &mut Writer) {
    match r.below(20) {
        0..=4 => {
            let p = phone_writing(r, &c.phone);
            w.say(pick(r, &[" 연락처 ", " 고객 ", " 휴대폰 ", " 전화 ", " "]));
            w.plant(Kind::Phone, &p);
            w.say(pick(
                r,
                &[
                    "로 연락 요망.",
                    " 번호 변경 요청.",
                    "(본인) 통화 완료.",
                    " 부재중.",
                ],
            ));
        }
        5..=7 => {
            let e = if r.below(4) == 0 {
                c.email.to_uppercase()
            } else {
                c.email.clone()
            };
            w.say(pick(r, &[" 이메일 ", " 메일 주소 ", " 영수증 발송 "]));
            w.plant(Kind::Email, &e);
            w.say(pick(r, &["으로 회신.", " 확인됨.", " (수신 거부 요청)."]));
        }
        8 => {
            let rrn = if r.below(3) == 0 {
                c.rrn.replace('-', "")
            } else {
                c.rrn.clone()
            };
            w.say(pick(
                r,
                &[" 본인확인 주민번호 ", " 주민등록번호 ", " 실명 확인 "],
            ));
            w.plant(Kind::Rrn, &rrn);
            w.say(" 확인함.");
        }
        9..=10 => {
            w.say(pick(
                r,
                &[" 카드 ", " 결제카드 ", " 승인 취소 요청 카드번호 "],
            ));
            w.plant(Kind::Card, &card(r));
            w.say(" 결제 취소.");
        }
        11..=12 => {
            let (bank, acct) = match r.below(3) {
                0 => (
                    "국민은행",
                    format!("{}-{}-{}", digits(r, 6), digits(r, 2), digits(r, 6)),
                ),
                1 => ("신한", format!("110-{}-{}", digits(r, 3), digits(r, 6))),
                _ => (
                    "카카오뱅크",
                    format!("3333-{}-{}", digits(r, 2), digits(r, 7)),
                ),
            };
            w.say(&format!(" 환불 계좌 {bank} "));
            w.plant(Kind::Account, &acct);
            w.say(" 로 입금 예정.");
        }
        13 => {
            w.say(" 사업자등록번호 ");
            w.plant(Kind::Brn, &brn(r, true));
            w.say(" 세금계산서 발행.");
        }
        14 => {
            w.say(" 접속 IP ");
            let ip = if r.below(5) == 0 {
                format!("2001:db8:{:x}::{:x}", r.below(65536), r.below(65536))
            } else {
                format!(
                    "{}.{}.{}.{}",
                    r.range(1, 223),
                    r.range(0, 255),
                    r.range(0, 255),
                    r.range(1, 254)
                )
            };
            let kind = if ip.contains(':') {
                Kind::Ipv6
            } else {
                Kind::Ipv4
            };
            w.plant(kind, &ip);
            w.say(" 에서 로그인 시도.");
        }
        15 => {
            let p = if r.below(2) == 0 {
                format!("M{}", digits(r, 8))
            } else {
                format!(
                    "M{}{}{}",
                    digits(r, 3),
                    pick(r, &["A", "B", "C"]),
                    digits(r, 4)
                )
            };
            w.say(" 여권번호 ");
            w.plant(Kind::Passport, &p);
            w.say(" 로 해외 배송 통관.");
        }
        16 => {
            let d = if r.below(2) == 0 {
                format!(
                    "{}-{:02}-{}-{}",
                    r.range(11, 26),
                    r.range(0, 99),
                    digits(r, 6),
                    digits(r, 2)
                )
            } else {
                format!(
                    "서울 {:02}-{}-{}",
                    r.range(0, 99),
                    digits(r, 6),
                    digits(r, 2)
                )
            };
            w.say(" 운전면허 ");
            w.plant(Kind::Driver, &d);
            w.say(" 로 본인 인증.");
        }
        17 => {
            let (n, kind) = match r.below(3) {
                0 => (
                    format!("+1 {} 555 {}", r.range(201, 989), digits(r, 4)),
                    Kind::E164,
                ),
                1 => (
                    format!("+81 90-{}-{}", digits(r, 4), digits(r, 4)),
                    Kind::E164,
                ),
                _ => (landline(r), Kind::Phone),
            };
            w.say(pick(r, &[" 해외 연락처 ", " 회사 전화 "]));
            w.plant(kind, &n);
            w.say(".");
        }
        18 => {
            w.say(" 외국인등록번호 ");
            w.plant(Kind::Frn, &frn(r));
            w.say(" 확인.");
        }
        _ => {
            // Two identifiers side by side.
            let p = phone_writing(r, &c.phone);
            w.say(" 연락처 ");
            w.plant(Kind::Phone, &p);
            w.say(", ");
            w.plant(Kind::Email, &c.email);
        }
    }
}

/// The note of customer `c` from its own random stream `r`.
pub(super) fn memo(r: &mut Rng, c: &Customer) -> Memo {
    let mut w = Writer {
        text: String::new(),
        spans: Vec::new(),
    };
    // Sometimes the note starts with the phone number itself.
    if r.below(10) == 0 {
        let p = phone_writing(r, &c.phone);
        w.plant(Kind::Phone, &p);
        w.say(" 고객 요청:");
    } else {
        w.say(pick(r, GREETINGS));
    }
    let sentences = r.range(1, 3);
    for _ in 0..sentences {
        if (r.below(1000) as f64) < PLANT_RATE * 1000.0 {
            plant(r, c, &mut w);
        } else {
            decoy(r, &mut w);
        }
    }
    w.say(pick(r, CLOSINGS));
    // Sometimes it ends with an email, no full stop.
    if r.below(12) == 0 {
        w.say(" 회신 ");
        w.plant(Kind::Email, &c.email);
    }
    Memo {
        text: w.text,
        spans: w.spans,
    }
}
