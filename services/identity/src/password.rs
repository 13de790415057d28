//! Passwords: argon2id hashes, and a strength check by a real estimator (zxcvbn), not a length
//! rule, with the reason a password was refused.

use argon2::password_hash::phc::PasswordHash;
use argon2::password_hash::{PasswordHasher, PasswordVerifier};
use argon2::{Algorithm, Argon2, Params, Version};

/// OWASP's recommended argon2id parameters (19 MiB, 2 passes, 1 lane).
fn hasher() -> Argon2<'static> {
    let params = Params::new(19 * 1024, 2, 1, None).unwrap_or_default();
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

#[derive(Debug, thiserror::Error)]
#[error("password hashing failed: {0}")]
pub struct HashError(String);

/// A PHC string (`$argon2id$v=19$m=19456,t=2,p=1$…`) for storage.
pub fn hash(password: &str) -> Result<String, HashError> {
    // argon2 0.6 draws a fresh random salt itself.
    hasher()
        .hash_password(password.as_bytes())
        .map(|h| h.to_string())
        .map_err(|e| HashError(e.to_string()))
}

/// Whether `password` matches the stored hash. A malformed hash never matches.
pub fn verify(password: &str, stored: &str) -> bool {
    match PasswordHash::new(stored) {
        Ok(parsed) => hasher()
            .verify_password(password.as_bytes(), &parsed)
            .is_ok(),
        Err(_) => false,
    }
}

/// A hash of nothing anyone knows, verified when an account does not exist, so that a login for
/// an unknown address takes as long as one for a known address.
pub fn verify_dummy(password: &str) {
    static DUMMY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    let stored = DUMMY.get_or_init(|| hash("no account has this password").unwrap_or_default());
    let _ = verify(password, stored);
}

/// Why a new password was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Weakness {
    TooShort {
        min: usize,
    },
    TooLong {
        max: usize,
    },
    /// zxcvbn's score is below 3 of 4; `warning` is its explanation, when it has one.
    Guessable {
        warning: Option<String>,
    },
}

pub const MIN_LENGTH: usize = 10;
pub const MAX_LENGTH: usize = 256;

/// Accepts a password that would take an offline attacker long to guess. Words that belong to
/// the person (name, e-mail) count as guessable.
pub fn check_strength(password: &str, personal: &[&str]) -> Result<(), Weakness> {
    let len = password.chars().count();
    if len < MIN_LENGTH {
        return Err(Weakness::TooShort { min: MIN_LENGTH });
    }
    if len > MAX_LENGTH {
        return Err(Weakness::TooLong { max: MAX_LENGTH });
    }
    let estimate = zxcvbn::zxcvbn(password, personal);
    if u8::from(estimate.score()) < 3 {
        let warning = estimate
            .feedback()
            .and_then(|f| f.warning())
            .map(|w| w.to_string());
        return Err(Weakness::Guessable { warning });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_verify_and_are_salted() {
        let a = hash("correct horse battery staple").unwrap_or_default();
        let b = hash("correct horse battery staple").unwrap_or_default();
        assert!(a.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{a}");
        assert_ne!(a, b);
        assert!(verify("correct horse battery staple", &a));
        assert!(!verify("correct horse battery stapler", &a));
        assert!(!verify("anything", "not a hash"));
    }

    #[test]
    fn strength_uses_an_estimator() {
        assert_eq!(
            check_strength("short", &[]),
            Err(Weakness::TooShort { min: MIN_LENGTH })
        );
        assert!(matches!(
            check_strength("password123", &[]),
            Err(Weakness::Guessable { .. })
        ));
        assert!(matches!(
            check_strength("aaaaaaaaaaaaaaaa", &[]),
            Err(Weakness::Guessable { .. })
        ));
        assert!(matches!(
            check_strength("Peeters.Jan", &["jan", "peeters"]),
            Err(Weakness::Guessable { .. })
        ));
        assert_eq!(check_strength("vlaai-tram-Kortrijk-42-brug", &[]), Ok(()));
    }
}
