//! The free-text detectors (src/detect.rs) on their vectors: every writing
//! of every identifier, the decoys that must not fire, pieces of longer
//! numbers, adjacent identifiers, text edges and multibyte neighbours.

use deid::detect::{DetectorId, Detectors, Kind};
use deid::normalize::Country;

fn found(text: &str) -> Vec<(Kind, &str)> {
    let mut v = Vec::new();
    Detectors::all().scan(text, |m| v.push((m.kind, &text[m.start..m.end])));
    v
}

fn normalized(text: &str) -> Vec<(Kind, String)> {
    let mut v = Vec::new();
    Detectors::all().scan(text, |m| {
        let mut out = vec![0u8; m.max_normalized_len()];
        let n = m.normalize(text, &mut out).unwrap();
        v.push((m.kind, String::from_utf8(n.to_vec()).unwrap()));
    });
    v
}

/// `text` holds exactly one identifier, `want`, of `kind`.
fn one(kind: Kind, text: &str, want: &str) {
    assert_eq!(found(text), [(kind, want)], "{text:?}");
}

fn none(text: &str) {
    assert_eq!(found(text), [], "{text:?} should hold no identifier");
}

#[test]
fn korean_phones_in_every_writing() {
    for (text, span) in [
        ("고객 010-1234-5678 연락 요망", "010-1234-5678"),
        ("010.1234.5678", "010.1234.5678"),
        ("번호 010 1234 5678 입니다", "010 1234 5678"),
        ("01012345678로 연락", "01012345678"),
        ("연락처:010-1234-5678입니다", "010-1234-5678"),
        ("+82 10-1234-5678", "+82 10-1234-5678"),
        ("+82-10-1234-5678", "+82-10-1234-5678"),
        ("+821012345678", "+821012345678"),
        ("+82 (0)10-1234-5678", "+82 (0)10-1234-5678"),
        ("tel 02-123-4567", "02-123-4567"),
        ("02-1234-5678", "02-1234-5678"),
        ("031-123-4567", "031-123-4567"),
        ("(02) 1234-5678", "(02) 1234-5678"),
        ("전화(02)1234-5678", "(02)1234-5678"),
        ("070-1234-5678", "070-1234-5678"),
        ("011-123-4567", "011-123-4567"),
        ("010 - 1234 - 5678", "010 - 1234 - 5678"),
        (
            "번호는０１０－１２３４－５６７８요",
            "０１０－１２３４－５６７８",
        ),
        (
            "＋８２ １０ １２３４ ５６７８",
            "＋８２ １０ １２３４ ５６７８",
        ),
        ("010‐1234‐5678", "010‐1234‐5678"),
    ] {
        one(Kind::Phone, text, span);
    }
    // Every writing normalizes to the same E.164 number (the phone:KR normalizer).
    for text in [
        "010-1234-5678",
        "010.1234.5678",
        "010 1234 5678",
        "01012345678",
        "+82 10-1234-5678",
        "+82 (0)10-1234-5678",
        "０１０－１２３４－５６７８",
        "＋８２ １０ １２３４ ５６７８",
    ] {
        assert_eq!(
            normalized(text),
            [(Kind::Phone, "+821012345678".to_string())],
            "{text:?}"
        );
    }
    assert_eq!(
        normalized("(02) 1234-5678"),
        [(Kind::Phone, "+82212345678".into())]
    );
}

#[test]
fn international_numbers() {
    for (text, want) in [
        ("call +1 415 555 2671 now", "+14155552671"),
        ("+44 20 7946 0958", "+442079460958"),
        ("+81 90-1234-5678", "+819012345678"),
        ("+86 138 1234 5678", "+8613812345678"),
        ("+49 30 123456", "+4930123456"),
        ("+33 6 12 34 56 78", "+33612345678"),
        ("+34 612 345 678", "+34612345678"),
        ("+31 6 12345678", "+31612345678"),
        ("+61 412 345 678", "+61412345678"),
        ("+91 98765 43210", "+919876543210"),
        ("+65 9123 4567", "+6591234567"),
        ("+852 9123 4567", "+85291234567"),
        ("+886 912 345 678", "+886912345678"),
    ] {
        assert_eq!(normalized(text), [(Kind::E164, want.to_string())], "{text}");
    }
    // A calling code outside the list, or a bad length, is not a number we know.
    none("+39 06 1234 5678");
    none("+1 015 555 2671");
    // Only the listed countries when the policy names them.
    let us: DetectorId = "e164:US".parse().unwrap();
    let d = Detectors::from_ids(&[us]);
    let mut n = 0;
    d.scan("+1 415 555 2671 +44 20 7946 0958 010-1234-5678", |_| n += 1);
    assert_eq!(n, 1);
    // The NANP countries share +1: a set of Canada alone finds +1 numbers
    // as Canada's, a set of both as the first listed (the United States).
    let ca: DetectorId = "e164:CA".parse().unwrap();
    for (ids, want) in [
        (&[ca][..], Country::CA),
        (&[us, ca][..], Country::US),
        (&[ca, us][..], Country::US),
    ] {
        let mut found = Vec::new();
        Detectors::from_ids(ids).scan("+1 416 555 0123 +33 6 12 34 56 78", |m| {
            found.push((m.kind, m.country))
        });
        assert_eq!(found, [(Kind::E164, Some(want))]);
    }
}

#[test]
fn emails() {
    one(Kind::Email, "이메일 kim@naver.com", "kim@naver.com");
    one(Kind::Email, "kim@naver.com으로 보내주세요", "kim@naver.com");
    one(
        Kind::Email,
        "(Kim.Lee+cs@Example.co.kr)",
        "Kim.Lee+cs@Example.co.kr",
    );
    one(Kind::Email, "메일:a_b-c@d-e.io.", "a_b-c@d-e.io");
    assert_eq!(
        normalized("Kim.Lee@Example.COM"),
        [(Kind::Email, "kim.lee@example.com".into())]
    );
    none("kim@localhost");
    none("@naver.com");
    none("kim@naver.c0m");
    none("user@@naver.com");
}

#[test]
fn registration_numbers() {
    // 940219-2499846: a valid pre-2020 check digit (src/checks.rs).
    one(Kind::Rrn, "주민 940219-2499846", "940219-2499846");
    one(Kind::Rrn, "9402192499846", "9402192499846");
    assert_eq!(
        normalized("940219-2499846"),
        [(Kind::Rrn, "9402192499846".into())]
    );
    // A wrong check digit: not without context, yes with the context word.
    none("참고 940219-2499845");
    one(Kind::Rrn, "주민등록번호 940219-2499845", "940219-2499845");
    one(Kind::Rrn, "주민번호: 9402192499845", "9402192499845");
    // Born from October 2020: no check digit to verify.
    one(Kind::Rrn, "201015-3123456", "201015-3123456");
    // Not a date, or a sex digit out of range.
    none("941319-2499846");
    none("940230-2499846");
    // FRN (sex digit 5 to 8; check digit in src/checks.rs).
    one(Kind::Frn, "900101-5700017", "900101-5700017");
    none("900101-5700014");
    one(Kind::Frn, "외국인등록번호 900101-5700014", "900101-5700014");
}

#[test]
fn business_numbers() {
    one(Kind::Brn, "사업자 116-82-00276", "116-82-00276");
    one(Kind::Brn, "134-86-72683 법인", "134-86-72683");
    none("116-82-00277");
    // Plain ten digits only after the context word.
    one(Kind::Brn, "사업자등록번호 1168200276", "1168200276");
    none("번호 1168200276");
}

#[test]
fn cards() {
    for text in [
        "4111 1111 1111 1111",
        "4111-1111-1111-1111",
        "5555555555554444",
        "3782-822463-10005",
    ] {
        one(Kind::Card, &format!("카드 {text} 결제"), text);
    }
    one(Kind::Card, "4111111111111111", "4111111111111111");
    assert_eq!(
        normalized("4111 1111 1111 1111"),
        [(Kind::Card, "4111111111111111".into())]
    );
    // Fails Luhn.
    none("4111 1111 1111 1112");
    none("카드 4111-1111-1111-1112");
    // Mixed separators, or a piece of a longer number.
    none("4111-1111 1111.1111");
    none("94111-1111-1111-1111");
}

/// Identifiers written one after another, only spaces between them, make
/// one long run of digit groups; the run is read in pieces of at most 12
/// groups, and no identifier may be lost where a piece ends.
#[test]
fn identifiers_in_a_row_past_the_longest_run() {
    const CARD: (Kind, &str) = (Kind::Card, "4000 0000 0000 0002");
    const PHONE: (Kind, &str) = (Kind::Phone, "010-0000-0000");
    // Cards of 4 groups and phones of 3: every way of crossing group 12.
    for items in [
        &[CARD, CARD, PHONE, CARD][..],
        &[CARD, PHONE, CARD, CARD],
        &[PHONE, PHONE, PHONE, CARD, CARD],
        &[PHONE; 7],
        &[CARD; 7],
        &[PHONE, CARD, PHONE, CARD, PHONE, CARD, PHONE, CARD],
    ] {
        for sep in [" ", "  "] {
            let texts: Vec<&str> = items.iter().map(|&(_, t)| t).collect();
            let text = format!("{sep}{}{sep}", texts.join(sep));
            assert_eq!(found(&text), items, "{text:?}");
        }
    }
}

#[test]
fn identifiers_after_a_segment_that_ends_past_the_longest_run() {
    const PHONE: (Kind, &str) = (Kind::Phone, "010-1234-5678");
    const CARD: (Kind, &str) = (Kind::Card, "4000 0000 0000 0002");
    // Dash-joined groups (never an identifier) whose segment reaches or
    // crosses group 12, then identifiers after a space: the long segment is
    // skipped, what follows it is still read.
    for groups in 1..=16 {
        let long: Vec<String> = (1..=groups).map(|g| g.to_string()).collect();
        let long = long.join("-");
        for items in [&[PHONE][..], &[CARD], &[PHONE, CARD], &[CARD, PHONE, PHONE]] {
            for lead in ["", "7 ", "7 8 9 "] {
                let texts: Vec<&str> = items.iter().map(|&(_, t)| t).collect();
                let text = format!("{lead}{long} {}", texts.join(" "));
                let got = found(&text);
                assert!(got.ends_with(items), "{text:?}: {got:?}");
            }
        }
    }
}

#[test]
fn ip_addresses() {
    one(Kind::Ipv4, "접속 IP 192.168.0.1 에서", "192.168.0.1");
    one(Kind::Ipv4, "ip=10.0.0.255.", "10.0.0.255");
    none("버전 2024.01.15");
    none("256.1.1.1");
    none("1.2.3.4.5");
    one(Kind::Ipv6, "2001:db8::1 접속", "2001:db8::1");
    one(
        Kind::Ipv6,
        "fe80::1ff:fe23:4567:890a",
        "fe80::1ff:fe23:4567:890a",
    );
    one(Kind::Ipv6, "주소 ::1", "::1");
    assert_eq!(
        normalized("2001:0DB8:0000::0001"),
        [(Kind::Ipv6, "2001:db8::1".into())]
    );
    none("12:30:45에 통화");
    none("dead::beef");
}

#[test]
fn passports_and_licences() {
    one(Kind::Passport, "여권 M12345678 확인", "M12345678");
    one(Kind::Passport, "M123A4567", "M123A4567");
    none("상품 A12345678");
    one(Kind::Passport, "여권번호 A12345678", "A12345678");
    none("M1234567");
    none("XM12345678");
    one(Kind::Driver, "면허 11-12-345678-90", "11-12-345678-90");
    one(Kind::Driver, "서울 12-345678-90", "서울 12-345678-90");
    assert_eq!(
        normalized("서울 12-345678-90"),
        [(Kind::Driver, "111234567890".into())]
    );
    none("99-12-345678-90");
    one(Kind::Driver, "운전면허 111234567890", "111234567890");
}

#[test]
fn accounts_after_a_bank_keyword() {
    one(
        Kind::Account,
        "국민은행 123456-01-234567",
        "123456-01-234567",
    );
    one(
        Kind::Account,
        "환불 계좌: 신한 110-123-456789",
        "110-123-456789",
    );
    one(Kind::Account, "카카오뱅크 3333012345678", "3333012345678");
    none("번호 110-123-456789");
}

#[test]
fn decoys() {
    for text in [
        "주문번호 2024-0101-5678 배송",
        "금액 150,000원 결제",
        "2024-01-15 방문",
        "2024.01.15 접수",
        "주문 20240115-000123",
        "고객번호 C000000001",
        "ORD-20240115-1234",
        "상품코드 SKU-1234-5678",
        "수량 3개, 12:30 도착",
        "1588-1234 고객센터",
        "10,000원 환불",
    ] {
        none(text);
    }
}

#[test]
fn pieces_of_longer_numbers() {
    none("1010-1234-5678");
    none("2024-010-1234-5678");
    none("ID01012345678");
    none("010-1234-56789");
    none("12/010-1234-5678");
    none("010-1234-5678-1");
    none("0101234567890123456789");
    none("x010-1234-5678");
}

#[test]
fn adjacent_and_edges() {
    assert_eq!(
        found("010-1234-5678,010-9876-5432"),
        [
            (Kind::Phone, "010-1234-5678"),
            (Kind::Phone, "010-9876-5432")
        ]
    );
    assert_eq!(
        found("010-1234-5678 010-9876-5432"),
        [
            (Kind::Phone, "010-1234-5678"),
            (Kind::Phone, "010-9876-5432")
        ]
    );
    assert_eq!(found("3건 010 1234 5678"), [(Kind::Phone, "010 1234 5678")]);
    assert_eq!(
        found("kim@naver.com/010-1234-5678"),
        [
            (Kind::Email, "kim@naver.com"),
            (Kind::Phone, "010-1234-5678")
        ]
    );
    assert_eq!(
        found("010-1234-5678. 010-9876-5432."),
        [
            (Kind::Phone, "010-1234-5678"),
            (Kind::Phone, "010-9876-5432")
        ]
    );
    one(Kind::Phone, "010-1234-5678", "010-1234-5678");
    one(Kind::Email, "a@b.kr", "a@b.kr");
    assert_eq!(
        found("연락처010-1234-5678이메일kim@naver.com주민번호9402192499846끝"),
        [
            (Kind::Phone, "010-1234-5678"),
            (Kind::Email, "kim@naver.com"),
            (Kind::Rrn, "9402192499846")
        ]
    );
    none("");
    none("가나다라");
}

#[test]
fn ids_parse_and_print() {
    for id in [
        "phone:KR",
        "e164:US",
        "email",
        "rrn",
        "frn",
        "brn",
        "card",
        "ipv4",
        "ipv6",
        "passport:KR",
        "driver:KR",
        "account:KR",
    ] {
        let d: DetectorId = id.parse().unwrap();
        assert_eq!(d.to_string(), id);
    }
    assert!("e164".parse::<DetectorId>().is_err());
    assert!("e164:IT".parse::<DetectorId>().is_err());
    assert!("phone".parse::<DetectorId>().is_err());
    // A set without a kind does not find it.
    let only_email = Detectors::from_ids(&["email".parse().unwrap()]);
    let mut n = 0;
    only_email.scan("010-1234-5678 kim@naver.com", |m| {
        assert_eq!(m.kind, Kind::Email);
        n += 1;
    });
    assert_eq!(n, 1);
}

#[test]
fn never_panics_and_spans_are_char_boundaries() {
    // A small deterministic fuzz over the alphabet the rules care about.
    let alphabet = [
        "0",
        "1",
        "9",
        "-",
        ".",
        " ",
        "+",
        "(",
        ")",
        ":",
        "@",
        "a",
        "M",
        "가",
        "０",
        "－",
        "＋",
        "82",
        "010",
        "서울",
        "주민번호",
        "계좌",
        "\u{a0}",
        "‐",
        "/",
        "f",
        "::",
    ];
    let mut x = 0x2545F4914F6CDD1Du64;
    for _ in 0..20_000 {
        let mut s = String::new();
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        let len = (x % 40) as usize;
        for _ in 0..len {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            s.push_str(alphabet[(x % alphabet.len() as u64) as usize]);
        }
        let mut last = 0;
        Detectors::all().scan(&s, |m| {
            assert!(m.start >= last && m.end > m.start);
            assert!(s.is_char_boundary(m.start) && s.is_char_boundary(m.end));
            last = m.end;
            let mut out = vec![0u8; m.max_normalized_len()];
            m.normalize(&s, &mut out).unwrap();
        });
    }
}

#[test]
fn parentheses_around_and_after_numbers() {
    assert_eq!(
        found("연락처(010-1234-5678) 2회 통화"),
        [(Kind::Phone, "010-1234-5678")]
    );
    assert_eq!(
        found("주문 1234 (010-1234-5678)"),
        [(Kind::Phone, "010-1234-5678")]
    );
    assert_eq!(
        found("4000 0000 0000 0002 ( 010-0000-0000 "),
        [
            (Kind::Card, "4000 0000 0000 0002"),
            (Kind::Phone, "010-0000-0000")
        ]
    );
}
