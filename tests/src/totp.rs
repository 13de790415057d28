//! Authenticator-app codes for tests, computed with the same crate the server checks them with.

use anyhow::{Context, anyhow};
use totp_rs::{Algorithm, Builder, Secret};

/// The code an app shows for `secret` (base32, spaces allowed) `steps_ahead` 30-second steps
/// from now. The server accepts the step before and after its own, so `steps_ahead = 1` gives a
/// second code it has not seen yet without waiting.
pub fn code(secret: &str, steps_ahead: u64) -> anyhow::Result<String> {
    let compact: String = secret.chars().filter(|c| !c.is_whitespace()).collect();
    let secret = Secret::try_from_base32(&compact).map_err(|e| anyhow!("secret: {e:?}"))?;
    let totp = Builder::new()
        .with_algorithm(Algorithm::SHA1)
        .with_digits(6)
        .with_step_duration(30)
        .with_secret(secret)
        .build()
        .map_err(|e| anyhow!("totp: {e}"))?;
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .context("clock")?
        .as_secs();
    Ok(totp.generate(now + 30 * steps_ahead).to_string())
}

/// The `secret=` parameter of an `otpauth://` URI.
pub fn secret_of_uri(uri: &str) -> Option<String> {
    url::Url::parse(uri)
        .ok()?
        .query_pairs()
        .find(|(k, _)| k == "secret")
        .map(|(_, v)| v.into_owned())
}
