//! Is the first row of a CSV file a header? Exports often come without one,
//! and then the "column names" are a person's phone number, email and RRN:
//! they must not be printed, in an error or a suggested policy, as if they
//! were names.

use crate::scan::{Kind, classify};

/// Longer than this, a cell is text, not a column name.
const MAX_NAME_BYTES: usize = 64;

/// Whether `cell` could be a column name rather than a value: false for a
/// cell that looks like data (a phone number, email, RRN, card number, IP
/// address, date, digest or number, as [`crate::scan::classify`]
/// recognizes them), a cell that is mostly digits, longer than 64 bytes, or
/// that holds control characters. An empty cell is a (poor) name, not data.
///
/// Names such as `phone`, `customer_id`, `birth_date` or `이름` pass; the
/// check cannot tell a personal name from a column name, so it errs towards
/// names.
///
/// # Example
/// ```
/// use deid::io::header::is_plausible_column_name;
/// assert!(is_plausible_column_name("phone"));
/// assert!(!is_plausible_column_name("010-1234-5678"));
/// ```
pub fn is_plausible_column_name(cell: &str) -> bool {
    if cell.len() > MAX_NAME_BYTES || cell.chars().any(char::is_control) {
        return false;
    }
    let visible = cell.chars().filter(|c| !c.is_whitespace()).count();
    let digits = cell.chars().filter(char::is_ascii_digit).count();
    if digits * 2 > visible {
        return false;
    }
    !matches!(
        classify(cell).0,
        Kind::KrMobile
            | Kind::Phone
            | Kind::Email
            | Kind::KrRrn
            | Kind::CardNumber
            | Kind::Ipv4
            | Kind::Ipv6
            | Kind::Date
            | Kind::HexDigest
            | Kind::Base64Digest
            | Kind::PostalCode
            | Kind::Number
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn real_column_names_pass() {
        for name in [
            "phone",
            "customer_id",
            "birth_date",
            "이름",
            "전화번호",
            "email",
            "rrn",
            "postal_code",
            "phone_sha256",
            "customer.address.zip",
            "Signup Date",
            "ip",
            "x1",
            "",
        ] {
            assert!(is_plausible_column_name(name), "{name:?}");
        }
    }

    #[test]
    fn values_are_not_names() {
        for value in [
            "010-1234-5678",
            "01012345678",
            "+821012345678",
            "+44 20 7946 0958",
            "kim.minsu@example.com",
            "900101-1234567",
            "4111 1111 1111 1111",
            "192.168.0.1",
            "2001:db8::1",
            "1990-01-01",
            "2024-03-05T10:00:00Z",
            "06236",
            "12345.67",
            "2024",
            "d41d8cd98f00b204e9800998ecf8427e",
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9c b410ff61f20015ad",
            "id\u{0}x",
            "line\nbreak",
            "A12345678",
        ] {
            assert!(!is_plausible_column_name(value), "{value:?}");
        }
        let long = "a".repeat(65);
        assert!(!is_plausible_column_name(&long));
    }
}
