//! What a person types as a second factor: a 6-digit TOTP code, or one of their one-time
//! recovery codes (16 characters of Crockford's base32, 80 random bits, shown as
//! `xxxx-xxxx-xxxx-xxxx`, stored only as a SHA-256 hash: at 80 bits a plain hash cannot be
//! searched backwards).

use rand::Rng;
use sha2::{Digest, Sha256};

/// How many recovery codes a person gets at a time.
pub const RECOVERY_CODES: usize = 10;
const LEN: usize = 16;
/// Crockford's base32: no i, l, o or u, so nothing is read as something else.
const ALPHABET: &[u8; 32] = b"0123456789abcdefghjkmnpqrstvwxyz";

/// A code as typed, once spaces and hyphens are taken out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Presented {
    Totp(String),
    Recovery(String),
    Malformed,
}

pub fn classify(raw: &str) -> Presented {
    let compact: String = raw
        .chars()
        .filter(|c| !c.is_whitespace() && *c != '-')
        .collect();
    if compact.len() == super::totp::DIGITS && compact.bytes().all(|b| b.is_ascii_digit()) {
        return Presented::Totp(compact);
    }
    match normalise_recovery(&compact) {
        Some(code) => Presented::Recovery(code),
        None => Presented::Malformed,
    }
}

/// Lower case, with the letters Crockford reads as digits mapped (i, l → 1; o → 0).
fn normalise_recovery(compact: &str) -> Option<String> {
    if compact.chars().count() != LEN {
        return None;
    }
    compact
        .chars()
        .map(|c| match c.to_ascii_lowercase() {
            'i' | 'l' => Some('1'),
            'o' => Some('0'),
            c if c.is_ascii() && ALPHABET.contains(&(c as u8)) => Some(c),
            _ => None,
        })
        .collect()
}

/// A fresh set of recovery codes, formatted for reading.
pub fn generate() -> Vec<String> {
    let mut rng = rand::rng();
    (0..RECOVERY_CODES)
        .map(|_| {
            let chars: Vec<char> = (0..LEN)
                .map(|_| char::from(ALPHABET[rng.random_range(0..ALPHABET.len())]))
                .collect();
            chars
                .chunks(4)
                .map(|c| c.iter().collect::<String>())
                .collect::<Vec<_>>()
                .join("-")
        })
        .collect()
}

/// What is stored of a recovery code (given in any accepted spelling).
pub fn hash(code: &str) -> Option<String> {
    let compact: String = code
        .chars()
        .filter(|c| !c.is_whitespace() && *c != '-')
        .collect();
    let normal = normalise_recovery(&compact)?;
    Some(hex::encode(Sha256::digest(normal.as_bytes())))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_recognised_in_the_spellings_people_type() {
        assert_eq!(classify(" 123 456 "), Presented::Totp("123456".into()));
        assert_eq!(classify("12345"), Presented::Malformed);
        assert_eq!(classify(""), Presented::Malformed);
        let code = &generate()[0];
        assert_eq!(code.len(), 19);
        let upper = code.to_uppercase().replace('-', " ");
        let Presented::Recovery(a) = classify(code) else {
            panic!("{code} not a recovery code");
        };
        let Presented::Recovery(b) = classify(&upper) else {
            panic!("{upper} not a recovery code");
        };
        assert_eq!(a, b);
        assert_eq!(hash(code), hash(&upper));
        assert_eq!(classify("abcd-efgh-jkmn-pqr!"), Presented::Malformed);
        assert_eq!(hash("0000-0000-0000-000o"), hash("0000000000000000"));
    }

    #[test]
    fn a_set_has_distinct_codes() {
        let set = generate();
        assert_eq!(set.len(), RECOVERY_CODES);
        let distinct: std::collections::BTreeSet<_> = set.iter().collect();
        assert_eq!(distinct.len(), RECOVERY_CODES);
    }
}
