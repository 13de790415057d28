//! Secrets sealed at rest under a key-encryption key (KEK).
//!
//! A KEK is 32 random bytes given by the operator (base64, from configuration, the environment
//! or a file such as a systemd credential or a Kubernetes secret); it never enters the database.
//! A secret is sealed with AES-256-GCM under the current KEK, a random 96-bit nonce and
//! *associated data* naming what the secret is (e.g. `signing_key:<kid>`), so a sealed value
//! copied into another row does not open there. The sealed text names the KEK by its id:
//!
//! ```text
//! sealed-v1:<kek id>:<base64 of nonce ‖ ciphertext ‖ tag>
//! ```
//!
//! The id is the first 8 bytes of SHA-256 over a fixed label and the key (hex), so operators
//! never have to name ids themselves. A [`Sealer`] holds the current KEK and optionally the
//! previous one: values sealed under either open, new values are sealed under the current one,
//! and [`Sealer::needs_rewrap`] tells which stored values a rotation must seal again.

use std::fmt;
use std::sync::Arc;

use aws_lc_rs::aead::{AES_256_GCM, Aad, NONCE_LEN, Nonce, RandomizedNonceKey};
use base64::Engine;
use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD};
use zeroize::Zeroizing;

const PREFIX: &str = "sealed-v1:";
const KEY_LEN: usize = 32;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SealError {
    /// The configured key is not 32 bytes of base64.
    #[error(
        "a key-encryption key is 32 random bytes in base64 (`extranet keys new-encryption-key` \
         or `openssl rand -base64 32` makes one): {0}"
    )]
    BadKey(&'static str),
    /// The value is not sealed text (or is damaged beyond parsing).
    #[error("not a sealed value")]
    Malformed,
    /// Sealed under a KEK that is not configured.
    #[error("sealed with key-encryption key {0}, which is not configured")]
    UnknownKek(String),
    /// The KEK is right but the value does not open: altered, or sealed for something else.
    #[error("a sealed value does not open: altered, or moved from where it was sealed")]
    Invalid,
}

/// One key-encryption key. Its bytes stay inside the AEAD key; only its id is ever shown.
pub struct Kek {
    id: String,
    key: RandomizedNonceKey,
    /// For [`Sealer::pseudonym`]: a key of its own, derived from the KEK's bytes.
    mac: aws_lc_rs::hmac::Key,
}

impl fmt::Debug for Kek {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Kek({})", self.id)
    }
}

impl Kek {
    /// Reads a KEK from its base64 text (surrounding whitespace, as files end, is ignored).
    pub fn parse(text: &str) -> Result<Kek, SealError> {
        let text = text.trim();
        if text.is_empty() {
            return Err(SealError::BadKey("the value is empty"));
        }
        let bytes = Zeroizing::new(
            STANDARD
                .decode(text)
                .or_else(|_| STANDARD_NO_PAD.decode(text))
                .map_err(|_| SealError::BadKey("the value is not base64"))?,
        );
        if bytes.len() != KEY_LEN {
            return Err(SealError::BadKey("the value does not decode to 32 bytes"));
        }
        Kek::from_bytes(&bytes)
    }

    fn from_bytes(bytes: &[u8]) -> Result<Kek, SealError> {
        let key = RandomizedNonceKey::new(&AES_256_GCM, bytes)
            .map_err(|_| SealError::BadKey("the key is not usable"))?;
        let mut ctx = aws_lc_rs::digest::Context::new(&aws_lc_rs::digest::SHA256);
        ctx.update(b"extranet key-encryption key id\0");
        ctx.update(bytes);
        let digest = ctx.finish();
        let id = digest.as_ref()[..8]
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        let mut ctx = aws_lc_rs::digest::Context::new(&aws_lc_rs::digest::SHA256);
        ctx.update(b"extranet pseudonym key\0");
        ctx.update(bytes);
        let mac = aws_lc_rs::hmac::Key::new(aws_lc_rs::hmac::HMAC_SHA256, ctx.finish().as_ref());
        Ok(Kek { id, key, mac })
    }

    /// A new random KEK and its base64 text (to be kept by the operator, or in a 0600 file).
    pub fn generate() -> Result<(Kek, Zeroizing<String>), SealError> {
        let mut bytes = Zeroizing::new([0u8; KEY_LEN]);
        aws_lc_rs::rand::fill(&mut bytes[..])
            .map_err(|_| SealError::BadKey("no randomness available"))?;
        let text = Zeroizing::new(STANDARD.encode(&bytes[..]));
        Ok((Kek::from_bytes(&bytes[..])?, text))
    }

    /// Names this KEK in sealed values, logs and messages (never the key itself).
    pub fn id(&self) -> &str {
        &self.id
    }
}

/// The KEK new values are sealed under, and the previous one, still accepted for opening
/// until a rotation has sealed everything again. Cheap to clone.
#[derive(Clone)]
pub struct Sealer {
    current: Arc<Kek>,
    previous: Option<Arc<Kek>>,
}

impl fmt::Debug for Sealer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Sealer")
            .field("current", &self.current.id)
            .field("previous", &self.previous.as_ref().map(|k| k.id.as_str()))
            .finish()
    }
}

impl Sealer {
    pub fn new(current: Kek, previous: Option<Kek>) -> Sealer {
        // The same key configured twice is simply the current one.
        let previous = previous.filter(|p| p.id != current.id).map(Arc::new);
        Sealer {
            current: Arc::new(current),
            previous,
        }
    }

    pub fn current_id(&self) -> &str {
        &self.current.id
    }

    /// A keyed hash of `value` for `context` under the current KEK (HMAC-SHA-256, hex): the
    /// same value gives the same pseudonym, so it can be counted and compared, but without the
    /// key nobody can tell which value it was — unlike a plain hash of a client address, which
    /// anyone can reverse by trying the 2³² IPv4 addresses. A KEK rotation changes every
    /// pseudonym: use it only where that is harmless (rate limits over hours).
    pub fn pseudonym(&self, value: &str, context: &str) -> String {
        let mut ctx = aws_lc_rs::hmac::Context::with_key(&self.current.mac);
        ctx.update(context.as_bytes());
        ctx.update(b"\0");
        ctx.update(value.as_bytes());
        ctx.sign()
            .as_ref()
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect()
    }

    /// Seals `secret` for `context` (what the value is and where it is kept, e.g.
    /// `signing_key:<kid>`), under the current KEK.
    pub fn seal(&self, secret: &[u8], context: &str) -> Result<String, SealError> {
        let mut in_out = Zeroizing::new(secret.to_vec());
        let nonce = self
            .current
            .key
            .seal_in_place_append_tag(Aad::from(context.as_bytes()), &mut *in_out)
            .map_err(|_| SealError::Invalid)?;
        let mut blob = Vec::with_capacity(NONCE_LEN + in_out.len());
        blob.extend_from_slice(nonce.as_ref());
        blob.extend_from_slice(&in_out);
        Ok(format!(
            "{PREFIX}{}:{}",
            self.current.id,
            STANDARD_NO_PAD.encode(blob)
        ))
    }

    /// Opens a value sealed for `context` under the current or the previous KEK.
    pub fn open(&self, sealed: &str, context: &str) -> Result<Zeroizing<Vec<u8>>, SealError> {
        let (kek_id, body) = split(sealed).ok_or(SealError::Malformed)?;
        let kek = if kek_id == self.current.id {
            &self.current
        } else {
            self.previous
                .as_ref()
                .filter(|p| p.id == kek_id)
                .ok_or_else(|| SealError::UnknownKek(kek_id.to_owned()))?
        };
        let blob = STANDARD_NO_PAD
            .decode(body)
            .map_err(|_| SealError::Malformed)?;
        if blob.len() < NONCE_LEN {
            return Err(SealError::Malformed);
        }
        let (nonce, ciphertext) = blob.split_at(NONCE_LEN);
        let nonce = Nonce::try_assume_unique_for_key(nonce).map_err(|_| SealError::Malformed)?;
        let mut in_out = Zeroizing::new(ciphertext.to_vec());
        let len = kek
            .key
            .open_in_place(nonce, Aad::from(context.as_bytes()), &mut in_out[..])
            .map_err(|_| SealError::Invalid)?
            .len();
        in_out.truncate(len);
        Ok(in_out)
    }

    /// Whether a stored value must be sealed (again) under the current KEK: it is plain, or
    /// sealed under another KEK.
    pub fn needs_rewrap(&self, stored: &str) -> bool {
        sealed_with(stored) != Some(self.current.id.as_str())
    }
}

/// The id of the KEK a stored value is sealed under; `None` for a value that is not sealed.
pub fn sealed_with(stored: &str) -> Option<&str> {
    split(stored).map(|(id, _)| id)
}

fn split(stored: &str) -> Option<(&str, &str)> {
    stored.strip_prefix(PREFIX)?.split_once(':')
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kek() -> Kek {
        match Kek::generate() {
            Ok((k, _)) => k,
            Err(e) => panic!("{e}"),
        }
    }

    #[test]
    fn a_pseudonym_is_stable_per_key_and_context_and_hides_the_value() {
        let a = Sealer::new(kek(), None);
        let b = Sealer::new(kek(), None);
        let p = a.pseudonym("192.0.2.7", "client_ip");
        assert_eq!(p, a.pseudonym("192.0.2.7", "client_ip"));
        assert_ne!(p, a.pseudonym("192.0.2.8", "client_ip"));
        assert_ne!(p, a.pseudonym("192.0.2.7", "other"));
        assert_ne!(p, b.pseudonym("192.0.2.7", "client_ip"));
        assert_eq!(p.len(), 64);
        assert!(!p.contains("192"));
    }

    #[test]
    fn a_sealed_value_opens_only_for_its_context_and_hides_the_secret() {
        let sealer = Sealer::new(kek(), None);
        let secret = b"-----BEGIN PRIVATE KEY-----\nMC4CAQAwBQYDK2VwBCIEI\n";
        let sealed = sealer.seal(secret, "signing_key:a").unwrap();
        assert!(sealed.starts_with(&format!("sealed-v1:{}:", sealer.current_id())));
        assert!(!sealed.contains("PRIVATE"));
        assert_eq!(&*sealer.open(&sealed, "signing_key:a").unwrap(), secret);
        assert_eq!(
            sealer.open(&sealed, "signing_key:b").unwrap_err(),
            SealError::Invalid
        );
        // Two seals of the same secret differ (random nonces).
        assert_ne!(sealed, sealer.seal(secret, "signing_key:a").unwrap());
    }

    #[test]
    fn an_altered_value_does_not_open() {
        let sealer = Sealer::new(kek(), None);
        let sealed = sealer.seal(b"secret", "x").unwrap();
        let (head, body) = sealed.rsplit_once(':').unwrap();
        let mut bytes = STANDARD_NO_PAD.decode(body).unwrap();
        let last = bytes.len() - 1;
        bytes[last] ^= 1;
        let altered = format!("{head}:{}", STANDARD_NO_PAD.encode(bytes));
        assert_eq!(sealer.open(&altered, "x").unwrap_err(), SealError::Invalid);
        assert_eq!(
            sealer.open("-----BEGIN", "x").unwrap_err(),
            SealError::Malformed
        );
    }

    #[test]
    fn the_previous_kek_opens_until_everything_is_sealed_again() {
        let (old, old_text) = Kek::generate().unwrap();
        let sealed_old = Sealer::new(old, None).seal(b"k", "c").unwrap();
        let new = kek();
        let new_id = new.id().to_owned();
        let rotating = Sealer::new(new, Some(Kek::parse(&old_text).unwrap()));
        assert_eq!(&*rotating.open(&sealed_old, "c").unwrap(), b"k");
        assert!(rotating.needs_rewrap(&sealed_old));
        assert!(rotating.needs_rewrap("-----BEGIN PRIVATE KEY-----"));
        let resealed = rotating.seal(b"k", "c").unwrap();
        assert!(!rotating.needs_rewrap(&resealed));
        assert_eq!(sealed_with(&resealed), Some(new_id.as_str()));
        // Without the old KEK, the old value names the key it needs.
        let only_new = Sealer::new(Kek::parse(&Kek::generate().unwrap().1).unwrap(), None);
        assert!(matches!(
            only_new.open(&sealed_old, "c"),
            Err(SealError::UnknownKek(_))
        ));
    }

    #[test]
    fn keys_are_32_bytes_of_base64_and_never_printed() {
        let (k, text) = Kek::generate().unwrap();
        let again = Kek::parse(&format!("  {}\n", &*text)).unwrap();
        assert_eq!(k.id(), again.id());
        assert_eq!(k.id().len(), 16);
        for bad in ["", "not base64!", "c2hvcnQ="] {
            assert!(
                matches!(Kek::parse(bad), Err(SealError::BadKey(_))),
                "{bad}"
            );
        }
        let debug = format!("{:?}", Sealer::new(k, None));
        assert!(!debug.contains(&*text), "{debug}");
    }
}
