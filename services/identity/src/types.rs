//! Value types of the identity data, each checked when it is made.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// Why a value was refused, in words a person understands; the UI translates by `code`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct Invalid {
    /// A stable identifier (`enterprise-number-checksum`…) that the UI maps to a translation.
    pub code: &'static str,
    pub message: String,
}

fn invalid(code: &'static str, message: impl Into<String>) -> Invalid {
    Invalid {
        code,
        message: message.into(),
    }
}

/// A Belgian enterprise number (ondernemingsnummer / numéro d'entreprise): ten digits, the first
/// 0 or 1, the last two equal to 97 minus the first eight modulo 97. Stored as ten digits,
/// shown as `0123.456.749`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct EnterpriseNumber(String);

impl EnterpriseNumber {
    pub fn digits(&self) -> &str {
        &self.0
    }
}

impl FromStr for EnterpriseNumber {
    type Err = Invalid;

    fn from_str(raw: &str) -> Result<Self, Invalid> {
        let cleaned: String = raw
            .trim()
            .trim_start_matches(|c: char| {
                c.eq_ignore_ascii_case(&'b') || c.eq_ignore_ascii_case(&'e')
            })
            .chars()
            .filter(|c| !matches!(c, ' ' | '.' | '-'))
            .collect();
        let digits = if cleaned.len() == 9 {
            format!("0{cleaned}") // numbers issued before 2005 are often written without the 0
        } else {
            cleaned
        };
        if digits.len() != 10 || !digits.chars().all(|c| c.is_ascii_digit()) {
            return Err(invalid(
                "enterprise-number-format",
                "an enterprise number has 10 digits, e.g. 0123.456.749",
            ));
        }
        if !digits.starts_with('0') && !digits.starts_with('1') {
            return Err(invalid(
                "enterprise-number-format",
                "an enterprise number starts with 0 or 1",
            ));
        }
        let body: u64 = digits[..8]
            .parse()
            .map_err(|_| invalid("enterprise-number-format", "not a number"))?;
        let check: u64 = digits[8..]
            .parse()
            .map_err(|_| invalid("enterprise-number-format", "not a number"))?;
        if 97 - body % 97 != check {
            return Err(invalid(
                "enterprise-number-checksum",
                "this enterprise number does not exist (its check digits are wrong)",
            ));
        }
        Ok(EnterpriseNumber(digits))
    }
}

impl TryFrom<String> for EnterpriseNumber {
    type Error = Invalid;
    fn try_from(s: String) -> Result<Self, Invalid> {
        s.parse()
    }
}

impl From<EnterpriseNumber> for String {
    fn from(n: EnterpriseNumber) -> String {
        n.0
    }
}

impl fmt::Display for EnterpriseNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let d = &self.0;
        write!(f, "{}.{}.{}", &d[..4], &d[4..7], &d[7..])
    }
}

/// A VAT number: a two-letter EU country code and the national part. Belgian numbers are checked
/// as enterprise numbers; others by their general shape (2–12 letters and digits).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct VatNumber(String);

const EU_VAT_PREFIXES: &[&str] = &[
    "AT", "BE", "BG", "CY", "CZ", "DE", "DK", "EE", "EL", "ES", "FI", "FR", "HR", "HU", "IE", "IT",
    "LT", "LU", "LV", "MT", "NL", "PL", "PT", "RO", "SE", "SI", "SK", "XI",
];

impl FromStr for VatNumber {
    type Err = Invalid;

    fn from_str(raw: &str) -> Result<Self, Invalid> {
        let cleaned: String = raw
            .chars()
            .filter(|c| !matches!(c, ' ' | '.' | '-'))
            .collect::<String>()
            .to_ascii_uppercase();
        if cleaned.len() < 4 || !cleaned.is_char_boundary(2) {
            return Err(invalid(
                "vat-format",
                "a VAT number starts with a country code, e.g. BE0123456749",
            ));
        }
        let (country, national) = cleaned.split_at(2);
        if !EU_VAT_PREFIXES.contains(&country) {
            return Err(invalid(
                "vat-country",
                "a VAT number starts with an EU country code, e.g. BE",
            ));
        }
        if country == "BE" {
            let n: EnterpriseNumber = national.parse().map_err(|e: Invalid| Invalid {
                code: if e.code == "enterprise-number-checksum" {
                    "vat-checksum"
                } else {
                    "vat-format"
                },
                message: e.message,
            })?;
            return Ok(VatNumber(format!("BE{}", n.digits())));
        }
        if !(2..=12).contains(&national.len())
            || !national.chars().all(|c| c.is_ascii_alphanumeric())
        {
            return Err(invalid(
                "vat-format",
                "the national part of a VAT number is 2 to 12 letters and digits",
            ));
        }
        Ok(VatNumber(cleaned))
    }
}

impl TryFrom<String> for VatNumber {
    type Error = Invalid;
    fn try_from(s: String) -> Result<Self, Invalid> {
        s.parse()
    }
}

impl From<VatNumber> for String {
    fn from(n: VatNumber) -> String {
        n.0
    }
}

impl fmt::Display for VatNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// An e-mail address (RFC 5322 addr-spec, checked by `email_address`), kept as given but compared
/// case-insensitively through [`EmailAddress::normalized`].
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct EmailAddress(String);

impl EmailAddress {
    /// The form used to look people up: trimmed and lower-cased.
    pub fn normalized(&self) -> String {
        self.0.to_lowercase()
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl FromStr for EmailAddress {
    type Err = Invalid;

    fn from_str(raw: &str) -> Result<Self, Invalid> {
        let s = raw.trim();
        if s.len() > 254 {
            return Err(invalid(
                "email-format",
                "an e-mail address has at most 254 characters",
            ));
        }
        let parsed = email_address::EmailAddress::parse_with_options(
            s,
            email_address::Options::default()
                .without_display_text()
                .without_domain_literal(),
        )
        .map_err(|_| invalid("email-format", "this is not an e-mail address"))?;
        if !parsed.domain().contains('.') {
            return Err(invalid(
                "email-format",
                "the domain of this e-mail address is incomplete",
            ));
        }
        Ok(EmailAddress(s.to_owned()))
    }
}

impl TryFrom<String> for EmailAddress {
    type Error = Invalid;
    fn try_from(s: String) -> Result<Self, Invalid> {
        s.parse()
    }
}

impl From<EmailAddress> for String {
    fn from(e: EmailAddress) -> String {
        e.0
    }
}

impl fmt::Display for EmailAddress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A person's language: the UI and e-mails speak it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum Language {
    #[default]
    Nl,
    Fr,
    En,
}

impl FromStr for Language {
    type Err = Invalid;
    fn from_str(s: &str) -> Result<Self, Invalid> {
        match s.trim().to_ascii_lowercase().as_str() {
            "nl" => Ok(Language::Nl),
            "fr" => Ok(Language::Fr),
            "en" => Ok(Language::En),
            _ => Err(invalid("language", "the language is nl, fr or en")),
        }
    }
}

impl Language {
    pub fn code(self) -> &'static str {
        match self {
            Language::Nl => "nl",
            Language::Fr => "fr",
            Language::En => "en",
        }
    }
}

/// How a person is addressed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum Gender {
    Mr,
    Ms,
    #[default]
    Unspecified,
}

impl FromStr for Gender {
    type Err = Invalid;
    fn from_str(s: &str) -> Result<Self, Invalid> {
        match s.trim().to_ascii_lowercase().as_str() {
            "mr" => Ok(Gender::Mr),
            "ms" => Ok(Gender::Ms),
            "" | "unspecified" => Ok(Gender::Unspecified),
            _ => Err(invalid(
                "gender",
                "the form of address is mr, ms or unspecified",
            )),
        }
    }
}

/// A vehicle licence plate as registered: trimmed, upper-cased, 1 to 15 characters, each a
/// letter, a digit, `-` or a space.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct LicencePlate(String);

/// At most this many vehicles per person.
pub const MAX_VEHICLES: usize = 10;

impl LicencePlate {
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl FromStr for LicencePlate {
    type Err = Invalid;
    fn from_str(raw: &str) -> Result<Self, Invalid> {
        let s = raw.trim().to_ascii_uppercase();
        if !(1..=15).contains(&s.chars().count())
            || !s
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == ' ')
        {
            return Err(invalid(
                "licence-plate",
                "a licence plate has 1 to 15 letters, digits, hyphens or spaces, e.g. 1-ABC-123",
            ));
        }
        Ok(LicencePlate(s))
    }
}

impl TryFrom<String> for LicencePlate {
    type Error = Invalid;
    fn try_from(s: String) -> Result<Self, Invalid> {
        s.parse()
    }
}

impl From<LicencePlate> for String {
    fn from(p: LicencePlate) -> String {
        p.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn enterprise_numbers_are_checked_by_modulo_97() {
        // 0123456749: 01234567 mod 97 = 48, 97 - 48 = 49.
        let n: EnterpriseNumber = "0123.456.749".parse().unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(n.digits(), "0123456749");
        assert_eq!(n.to_string(), "0123.456.749");
        assert_eq!(
            "BE 0123 456 749".parse::<EnterpriseNumber>().ok(),
            Some(n.clone())
        );
        assert_eq!("123456749".parse::<EnterpriseNumber>().ok(), Some(n));
        let wrong = "0123.456.748".parse::<EnterpriseNumber>();
        assert_eq!(
            wrong.err().map(|e| e.code),
            Some("enterprise-number-checksum")
        );
        for bad in ["", "abc", "0123.456.7490", "2123.456.749", "01234567x9"] {
            assert!(bad.parse::<EnterpriseNumber>().is_err(), "{bad}");
        }
    }

    #[test]
    fn vat_numbers() {
        assert_eq!(
            "be 0123.456.749"
                .parse::<VatNumber>()
                .map(|v| v.to_string())
                .ok(),
            Some("BE0123456749".into())
        );
        assert_eq!(
            "BE0123456748".parse::<VatNumber>().err().map(|e| e.code),
            Some("vat-checksum")
        );
        assert!("NL123456789B01".parse::<VatNumber>().is_ok());
        assert_eq!(
            "US123456".parse::<VatNumber>().err().map(|e| e.code),
            Some("vat-country")
        );
        assert!("FR".parse::<VatNumber>().is_err());
    }

    #[test]
    fn email_addresses() {
        assert!("Jan.Peeters@bouw.example".parse::<EmailAddress>().is_ok());
        let e: Result<EmailAddress, _> = " A@B.example ".parse();
        assert_eq!(e.map(|e| e.normalized()).ok(), Some("a@b.example".into()));
        for bad in [
            "",
            "no-at",
            "a@b",
            "a@@b.example",
            "Jan <jan@b.example>",
            "a@[127.0.0.1]",
        ] {
            assert!(bad.parse::<EmailAddress>().is_err(), "{bad}");
        }
    }

    #[test]
    fn languages_genders_plates() {
        assert_eq!("FR".parse::<Language>().ok(), Some(Language::Fr));
        assert!("de".parse::<Language>().is_err());
        assert_eq!("".parse::<Gender>().ok(), Some(Gender::Unspecified));
        assert!("x".parse::<Gender>().is_err());
        assert!("1-abc-123".parse::<LicencePlate>().is_ok());
        assert_eq!(
            " 1-abc-123 ".parse::<LicencePlate>().map(String::from).ok(),
            Some("1-ABC-123".into())
        );
        assert!("<script>".parse::<LicencePlate>().is_err());
        assert!("".parse::<LicencePlate>().is_err());
        assert!("   ".parse::<LicencePlate>().is_err());
        assert!("A".parse::<LicencePlate>().is_ok());
        assert!("1234567890ABCDE".parse::<LicencePlate>().is_ok());
        assert!("1234567890ABCDEF".parse::<LicencePlate>().is_err());
        assert!("1.ABC.123".parse::<LicencePlate>().is_err());
    }
}
