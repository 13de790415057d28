//! TOTP (RFC 6238) through totp-rs, with what every authenticator app understands: HMAC-SHA-1,
//! 6 digits, 30-second steps, and one step of clock skew either way.

use rand::RngCore;
use totp_rs::{Algorithm, Builder, Secret, Totp};

use crate::error::{IdentityError, Result};

/// 160 bits, the length RFC 4226 recommends.
pub const SECRET_BYTES: usize = 20;
pub const STEP_SECS: u64 = 30;
pub const DIGITS: usize = 6;

/// A new shared secret from the operating system's generator (through `rand`).
pub fn new_secret() -> Vec<u8> {
    let mut bytes = vec![0u8; SECRET_BYTES];
    rand::rng().fill_bytes(&mut bytes);
    bytes
}

fn totp(secret: &[u8], issuer: &str, account: &str) -> Result<Totp> {
    Builder::new()
        .with_algorithm(Algorithm::SHA1)
        .with_digits(6)
        .with_skew(1)
        .with_step_duration(STEP_SECS)
        .with_secret(Secret::from(secret.to_vec()))
        .with_issuer(Some(label_part(issuer)))
        .with_account_name(label_part(account))
        .build()
        .map_err(|e| IdentityError::Internal(format!("TOTP parameters: {e}")))
}

/// The label of an otpauth URI may not hold a colon (it separates issuer and account).
fn label_part(s: &str) -> String {
    let cleaned: String = s
        .chars()
        .map(|c| if c == ':' || c.is_control() { ' ' } else { c })
        .collect();
    let trimmed = cleaned.trim();
    if trimmed.is_empty() {
        "Extranet".to_owned()
    } else {
        trimmed.to_owned()
    }
}

/// The secret as people type it into an app: RFC 4648 base32 without padding.
pub fn base32(secret: &[u8]) -> String {
    Secret::from(secret.to_vec()).to_base32()
}

/// `otpauth://totp/Issuer:account?secret=…&issuer=…`: what the QR code carries.
pub fn otpauth_uri(secret: &[u8], issuer: &str, account: &str) -> Result<String> {
    totp(secret, issuer, account)?
        .to_url()
        .map_err(|e| IdentityError::Internal(format!("otpauth URI: {e}")))
}

/// The 30-second step whose code `code` is at `unix_secs` (the step before and after count
/// too, for clocks that drift), if any. The comparison is constant-time (totp-rs `Token`).
pub fn matching_step(secret: &[u8], code: &str, unix_secs: i64) -> Option<u64> {
    let now = u64::try_from(unix_secs).ok()?;
    if code.len() != DIGITS || !code.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    totp(secret, "x", "x").ok()?.check(code, now)
}

/// The code of `secret` at `unix_secs` (tests and the demo's printed hints use it).
pub fn code_at(secret: &[u8], unix_secs: u64) -> Option<String> {
    Some(totp(secret, "x", "x").ok()?.generate(unix_secs).to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc_6238_sha1_vectors() {
        // Appendix B of RFC 6238, truncated to the 6 digits apps show.
        let secret = b"12345678901234567890";
        for (t, code) in [
            (59u64, "287082"),
            (1_111_111_109, "081804"),
            (1_234_567_890, "005924"),
            (2_000_000_000, "279037"),
        ] {
            assert_eq!(code_at(secret, t).as_deref(), Some(code), "t = {t}");
        }
    }

    #[test]
    fn a_code_matches_its_step_and_the_neighbours_only() {
        let secret = new_secret();
        let t = 1_800_000_000u64;
        let code = code_at(&secret, t).unwrap_or_default();
        let step = t / STEP_SECS;
        assert_eq!(matching_step(&secret, &code, t as i64), Some(step));
        assert_eq!(matching_step(&secret, &code, (t + 30) as i64), Some(step));
        assert_eq!(matching_step(&secret, &code, (t - 30) as i64), Some(step));
        assert_eq!(matching_step(&secret, &code, (t + 90) as i64), None);
        assert_eq!(matching_step(&secret, "12345", t as i64), None);
        assert_eq!(matching_step(&secret, "+12345", t as i64), None);
    }

    #[test]
    fn the_uri_names_issuer_and_account_without_colons() {
        let uri =
            otpauth_uri(&[7u8; SECRET_BYTES], "Cert: Body", "jan@x.example").unwrap_or_default();
        assert!(
            uri.starts_with("otpauth://totp/Cert%20%20Body:jan%40x.example?"),
            "{uri}"
        );
        assert!(
            uri.contains(&format!("secret={}", base32(&[7u8; SECRET_BYTES]))),
            "{uri}"
        );
    }
}
