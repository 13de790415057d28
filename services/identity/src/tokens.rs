//! Access tokens: short-lived JWTs signed with Ed25519 (EdDSA), `kid` in the header, every
//! claim required at verification, the algorithm pinned. Keys live in the database so that every
//! instance signs and verifies with the same ones and a restart loses nothing.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use extranet_platform::{Clock, Db, on_pool};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};
use sqlx::FromRow;
use time::OffsetDateTime;
use uuid::Uuid;

use crate::error::{IdentityError, Result};

/// What an access token says. `typ` tells an access token from anything else we might sign.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Claims {
    pub iss: String,
    pub aud: String,
    pub sub: Uuid,
    pub org: Uuid,
    pub roles: Vec<String>,
    pub sid: Uuid,
    pub jti: Uuid,
    pub iat: i64,
    pub nbf: i64,
    pub exp: i64,
    pub typ: String,
}

pub const ACCESS_TYPE: &str = "access";

#[derive(Debug, Clone)]
pub struct TokenSettings {
    pub issuer: String,
    pub audience: String,
    /// At most five minutes: a deactivated account's token stops working within this bound.
    pub access_lifetime: Duration,
    pub leeway: Duration,
}

#[derive(FromRow)]
struct KeyRow {
    kid: String,
    private_pem: String,
    public_pem: String,
    retired_at: Option<OffsetDateTime>,
}

struct VerifyingKey {
    key: DecodingKey,
    jwk: serde_json::Value,
}

/// The keys in use: one that signs, all that still verify.
pub struct KeyRing {
    signing_kid: String,
    signing: EncodingKey,
    verifying: HashMap<String, VerifyingKey>,
}

impl std::fmt::Debug for KeyRing {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KeyRing")
            .field("signing_kid", &self.signing_kid)
            .field("verifying", &self.verifying.keys().collect::<Vec<_>>())
            .finish()
    }
}

fn internal(e: impl std::fmt::Display) -> IdentityError {
    IdentityError::Internal(e.to_string())
}

/// A new Ed25519 key pair as (private PKCS#8 PEM, public SPKI PEM).
fn generate() -> Result<(String, String)> {
    let pair = rcgen::KeyPair::generate_for(&rcgen::PKCS_ED25519).map_err(internal)?;
    Ok((pair.serialize_pem(), pair.public_key_pem()))
}

/// The raw 32-byte public key inside an Ed25519 SPKI PEM (its last 32 bytes), for the JWK.
fn raw_public(public_pem: &str) -> Result<Vec<u8>> {
    let body: String = public_pem
        .lines()
        .filter(|l| !l.starts_with("-----"))
        .collect();
    let der = base64::engine::general_purpose::STANDARD
        .decode(body)
        .map_err(internal)?;
    if der.len() < 32 {
        return Err(internal("public key too short"));
    }
    Ok(der[der.len() - 32..].to_vec())
}

async fn insert_key(db: &Db, clock: &dyn Clock) -> Result<String> {
    let (private_pem, public_pem) = generate()?;
    let kid = Uuid::now_v7().simple().to_string();
    let now = clock.now();
    on_pool!(db, write, |pool| {
        sqlx::query(
            "INSERT INTO signing_key (kid, algorithm, private_pem, public_pem, created_at) \
             VALUES ($1, 'EdDSA', $2, $3, $4)",
        )
        .bind(&kid)
        .bind(&private_pem)
        .bind(&public_pem)
        .bind(now)
        .execute(pool)
        .await
        .map(|_| ())
    })?;
    Ok(kid)
}

/// Adds a signing key and retires the others; public keys of retired keys stay published for
/// one access lifetime plus leeway, then are dropped. Returns the new key id.
pub async fn rotate(db: &Db, clock: &dyn Clock, settings: &TokenSettings) -> Result<String> {
    let kid = insert_key(db, clock).await?;
    let now = clock.now();
    let keep = now - (settings.access_lifetime + settings.leeway + Duration::from_secs(60));
    on_pool!(db, write, |pool| {
        async {
            sqlx::query(
                "UPDATE signing_key SET retired_at = $1 WHERE kid <> $2 AND retired_at IS NULL",
            )
            .bind(now)
            .bind(&kid)
            .execute(pool)
            .await?;
            sqlx::query("DELETE FROM signing_key WHERE retired_at IS NOT NULL AND retired_at < $1")
                .bind(keep)
                .execute(pool)
                .await
                .map(|_| ())
        }
        .await
    })?;
    Ok(kid)
}

impl KeyRing {
    /// Loads the keys, creating the first one on a new installation.
    pub async fn load(db: &Db, clock: &dyn Clock) -> Result<KeyRing> {
        let mut rows = fetch(db).await?;
        if rows.iter().all(|r| r.retired_at.is_some()) {
            insert_key(db, clock).await?;
            rows = fetch(db).await?;
        }
        let mut verifying = HashMap::new();
        let mut signing = None;
        for row in &rows {
            let key = DecodingKey::from_ed_pem(row.public_pem.as_bytes()).map_err(internal)?;
            let x = URL_SAFE_NO_PAD.encode(raw_public(&row.public_pem)?);
            let jwk = serde_json::json!({
                "kty": "OKP", "crv": "Ed25519", "alg": "EdDSA", "use": "sig",
                "kid": row.kid, "x": x,
            });
            verifying.insert(row.kid.clone(), VerifyingKey { key, jwk });
            // The newest unretired key signs.
            if row.retired_at.is_none() {
                signing = Some(row);
            }
        }
        let row = signing.ok_or_else(|| internal("no signing key"))?;
        Ok(KeyRing {
            signing_kid: row.kid.clone(),
            signing: EncodingKey::from_ed_pem(row.private_pem.as_bytes()).map_err(internal)?,
            verifying,
        })
    }

    pub fn signing_kid(&self) -> &str {
        &self.signing_kid
    }

    pub fn knows(&self, kid: &str) -> bool {
        self.verifying.contains_key(kid)
    }

    /// The JSON Web Key Set published at `/.well-known/jwks.json`.
    pub fn jwks(&self) -> serde_json::Value {
        let mut keys: Vec<&serde_json::Value> = self.verifying.values().map(|k| &k.jwk).collect();
        keys.sort_by_key(|k| k["kid"].as_str().unwrap_or_default().to_owned());
        serde_json::json!({ "keys": keys })
    }

    pub fn sign(&self, claims: &Claims) -> Result<String> {
        let mut header = Header::new(Algorithm::EdDSA);
        header.kid = Some(self.signing_kid.clone());
        header.typ = Some("at+jwt".into());
        jsonwebtoken::encode(&header, claims, &self.signing).map_err(internal)
    }

    /// Verifies signature, algorithm, issuer, audience, times and type. Any failure is simply
    /// "not authenticated": the reason is for logs, not for the caller.
    pub fn verify(
        &self,
        token: &str,
        settings: &TokenSettings,
    ) -> std::result::Result<Claims, VerifyError> {
        let header = jsonwebtoken::decode_header(token).map_err(|_| VerifyError::Malformed)?;
        if header.alg != Algorithm::EdDSA {
            return Err(VerifyError::Algorithm);
        }
        let kid = header.kid.ok_or(VerifyError::UnknownKey)?;
        let key = self.verifying.get(&kid).ok_or(VerifyError::UnknownKey)?;
        let mut validation = Validation::new(Algorithm::EdDSA);
        validation.set_issuer(&[&settings.issuer]);
        validation.set_audience(&[&settings.audience]);
        validation.set_required_spec_claims(&["exp", "nbf", "iat", "iss", "aud", "sub"]);
        validation.validate_nbf = true;
        validation.validate_exp = true;
        validation.leeway = settings.leeway.as_secs();
        let data = jsonwebtoken::decode::<Claims>(token, &key.key, &validation)
            .map_err(|e| VerifyError::Rejected(e.to_string()))?;
        if data.claims.typ != ACCESS_TYPE {
            return Err(VerifyError::Rejected("not an access token".into()));
        }
        Ok(data.claims)
    }
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum VerifyError {
    #[error("malformed token")]
    Malformed,
    #[error("algorithm not allowed")]
    Algorithm,
    #[error("unknown signing key")]
    UnknownKey,
    #[error("token rejected: {0}")]
    Rejected(String),
    #[error("session ended or roles changed since the token was issued")]
    Revoked,
}

/// The key id that should sign now (the newest unretired key), to notice a rotation made by
/// another instance or the CLI before signing with a retired key.
pub async fn current_signing_kid(db: &Db) -> Result<Option<String>> {
    Ok(on_pool!(db, read, |pool| {
        sqlx::query_scalar(
            "SELECT kid FROM signing_key WHERE retired_at IS NULL ORDER BY created_at DESC, kid DESC LIMIT 1",
        )
        .fetch_optional(pool)
        .await
    })?)
}

async fn fetch(db: &Db) -> Result<Vec<KeyRow>> {
    Ok(on_pool!(db, read, |pool| {
        sqlx::query_as(
            "SELECT kid, private_pem, public_pem, retired_at FROM signing_key ORDER BY created_at, kid",
        )
        .fetch_all(pool)
        .await
    })?)
}

/// Claims for a new access token.
pub fn access_claims(
    settings: &TokenSettings,
    now: OffsetDateTime,
    person: Uuid,
    organisation: Uuid,
    roles: Vec<String>,
    session: Uuid,
) -> Claims {
    let iat = now.unix_timestamp();
    // The jti's UUIDv7 instant is when the token was issued, to the millisecond: what session
    // revocations compare with (`revocation.rs`).
    let nanos = u32::try_from(now.unix_timestamp_nanos().rem_euclid(1_000_000_000)).unwrap_or(0);
    let jti = Uuid::new_v7(uuid::Timestamp::from_unix(
        uuid::NoContext,
        u64::try_from(iat).unwrap_or(0),
        nanos,
    ));
    let lifetime = i64::try_from(settings.access_lifetime.as_secs()).unwrap_or(300);
    Claims {
        iss: settings.issuer.clone(),
        aud: settings.audience.clone(),
        sub: person,
        org: organisation,
        roles,
        sid: session,
        jti,
        iat,
        nbf: iat,
        exp: iat + lifetime,
        typ: ACCESS_TYPE.into(),
    }
}

/// A key ring that can be swapped when keys rotate elsewhere (another instance, the CLI).
pub type SharedKeyRing = Arc<arc_swap::ArcSwap<KeyRing>>;
