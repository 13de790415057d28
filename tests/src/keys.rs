//! Key-encryption keys for test servers, and an opener for sealed values written from the
//! documented format (`sealed-v1:<kek id>:<base64 nonce ‖ ciphertext ‖ tag>`, AES-256-GCM, the
//! value's context as associated data), independent of the server's own code.

use anyhow::{Context, bail};
use aws_lc_rs::aead::{AES_256_GCM, Aad, LessSafeKey, NONCE_LEN, Nonce, UnboundKey};
use base64::Engine;
use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD};

/// A new random key-encryption key, base64.
pub fn new_kek() -> anyhow::Result<String> {
    let mut bytes = [0u8; 32];
    aws_lc_rs::rand::fill(&mut bytes).map_err(|_| anyhow::anyhow!("no randomness"))?;
    Ok(STANDARD.encode(bytes))
}

/// Opens a sealed value with the KEK (base64) it was sealed under.
pub fn open_sealed(kek: &str, sealed: &str, context: &str) -> anyhow::Result<Vec<u8>> {
    let rest = sealed
        .strip_prefix("sealed-v1:")
        .context("not a sealed value")?;
    let (_kek_id, body) = rest.split_once(':').context("no KEK id")?;
    let blob = STANDARD_NO_PAD.decode(body)?;
    if blob.len() < NONCE_LEN {
        bail!("too short");
    }
    let (nonce, ct) = blob.split_at(NONCE_LEN);
    let key = LessSafeKey::new(
        UnboundKey::new(&AES_256_GCM, &STANDARD.decode(kek.trim())?)
            .map_err(|_| anyhow::anyhow!("bad KEK"))?,
    );
    let mut in_out = ct.to_vec();
    let plain = key
        .open_in_place(
            Nonce::try_assume_unique_for_key(nonce).map_err(|_| anyhow::anyhow!("nonce"))?,
            Aad::from(context.as_bytes()),
            &mut in_out,
        )
        .map_err(|_| anyhow::anyhow!("does not open"))?;
    Ok(plain.to_vec())
}
