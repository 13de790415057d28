//! Access tokens: short-lived JWTs signed with Ed25519 (EdDSA), `kid` in the header, every
//! claim required at verification, the algorithm pinned. Keys live in the database so that every
//! instance signs and verifies with the same ones and a restart loses nothing; their private
//! halves are sealed there under the operator's key-encryption key
//! ([`extranet_platform::sealed`]), so a copy of the database alone cannot sign tokens.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use extranet_audit::{NewEntry, Outcome};
use extranet_platform::sealed::{self, SealError, Sealer};
use extranet_platform::{Clock, Db, on_pool, write_tx};
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
    /// Seals and opens the private signing keys kept in the database.
    pub sealer: Sealer,
}

#[derive(FromRow)]
struct KeyRow {
    kid: String,
    /// `access` (access tokens) or `receipt` (rights-request receipts): never interchangeable.
    purpose: String,
    /// Sealed (`sealed-v1:…`); plain PEM only in rows written before sealing existed, until
    /// the next [`KeyRing::load`] seals them.
    private_key: String,
    public_pem: String,
    retired_at: Option<OffsetDateTime>,
}

struct VerifyingKey {
    key: DecodingKey,
    jwk: serde_json::Value,
}

/// What a signing key is for. A key signs one kind of thing only, so a receipt can never pass
/// for an access token whatever it says.
pub const ACCESS_KEY: &str = "access";
pub const RECEIPT_KEY: &str = "receipt";

/// The JWS `typ` of a receipt.
pub const RECEIPT_TYPE: &str = "receipt+jwt";

/// The `typ` of a signed audit-log checkpoint (the log's head, signed with the receipt key).
pub const CHECKPOINT_TYPE: &str = "audit-checkpoint+jwt";

/// The keys in use: one that signs access tokens and all that still verify them; one that signs
/// receipts and every receipt key ever used (receipts are kept for years and must still verify
/// after a rotation).
pub struct KeyRing {
    signing_kid: String,
    signing: EncodingKey,
    verifying: HashMap<String, VerifyingKey>,
    receipt_kid: String,
    receipt_signing: EncodingKey,
    receipts: HashMap<String, VerifyingKey>,
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

/// What a signing key's sealed private half is bound to: its own row.
fn context(kid: &str) -> String {
    format!("signing_key:{kid}")
}

fn seal_error(kid: &str, e: SealError) -> IdentityError {
    match e {
        SealError::UnknownKek(id) => IdentityError::Internal(format!(
            "signing key {kid} is sealed with key-encryption key {id}, which is not configured: \
             set keys.encryption_key (or keys.encryption_key_file) to that key, or \
             keys.previous_encryption_key while rotating to a new one"
        )),
        other => IdentityError::Internal(format!("signing key {kid}: {other}")),
    }
}

async fn insert_key(db: &Db, clock: &dyn Clock, sealer: &Sealer) -> Result<String> {
    insert_key_for(db, clock, sealer, ACCESS_KEY).await
}

async fn insert_key_for(
    db: &Db,
    clock: &dyn Clock,
    sealer: &Sealer,
    purpose: &str,
) -> Result<String> {
    let (private_pem, public_pem) = generate()?;
    let private_pem = zeroize::Zeroizing::new(private_pem);
    let kid = Uuid::now_v7().simple().to_string();
    let sealed = sealer
        .seal(private_pem.as_bytes(), &context(&kid))
        .map_err(|e| seal_error(&kid, e))?;
    let now = clock.now();
    on_pool!(db, write, |pool| {
        sqlx::query(
            "INSERT INTO signing_key (kid, algorithm, private_key, public_pem, created_at, purpose) \
             VALUES ($1, 'EdDSA', $2, $3, $4, $5)",
        )
        .bind(&kid)
        .bind(&sealed)
        .bind(&public_pem)
        .bind(now)
        .bind(purpose)
        .execute(pool)
        .await
        .map(|_| ())
    })?;
    Ok(kid)
}

/// Seals again, under the current key-encryption key, every private key that is plain or
/// sealed under another one (the previous KEK must be configured to open those), and every
/// second factor's secret sealed under another one, in one transaction with its audit record.
/// Returns how many signing keys this call sealed.
pub async fn reseal(db: &Db, clock: &dyn Clock, sealer: &Sealer) -> Result<usize> {
    let rows = fetch(db).await?;
    let mut changes = Vec::new();
    for row in rows.iter().filter(|r| sealer.needs_rewrap(&r.private_key)) {
        let ctx = context(&row.kid);
        let sealed = match sealed::sealed_with(&row.private_key) {
            None => sealer.seal(row.private_key.as_bytes(), &ctx),
            Some(_) => sealer
                .open(&row.private_key, &ctx)
                .and_then(|plain| sealer.seal(&plain, &ctx)),
        }
        .map_err(|e| seal_error(&row.kid, e))?;
        changes.push((row.kid.clone(), row.private_key.clone(), sealed));
    }
    // Second factors' secrets are sealed under the same key-encryption key: moved with it.
    let factors: Vec<(Uuid, String)> = on_pool!(db, read, |pool| {
        sqlx::query_as("SELECT id, secret FROM second_factor WHERE secret IS NOT NULL")
            .fetch_all(pool)
            .await
    })?;
    let mut factor_changes = Vec::new();
    for (id, stored) in factors.iter().filter(|(_, s)| sealer.needs_rewrap(s)) {
        let ctx = crate::factor::store::context(*id);
        let resealed = sealer
            .open(stored, &ctx)
            .and_then(|plain| sealer.seal(&plain, &ctx))
            .map_err(|e| IdentityError::Internal(format!("second factor {id}: {e}")))?;
        factor_changes.push((*id, stored.clone(), resealed));
    }
    if changes.is_empty() && factor_changes.is_empty() {
        return Ok(0);
    }
    let now = clock.now();
    let kek = sealer.current_id().to_owned();
    let res: Result<usize> = write_tx!(db, |tx| async {
        let mut factors_sealed = 0u64;
        for (id, before, after) in &factor_changes {
            factors_sealed +=
                sqlx::query("UPDATE second_factor SET secret = $1 WHERE id = $2 AND secret = $3")
                    .bind(after)
                    .bind(id)
                    .bind(before)
                    .execute(&mut *tx)
                    .await?
                    .rows_affected();
        }
        let mut sealed = Vec::new();
        for (kid, before, after) in &changes {
            // Conditional: a row another instance sealed meanwhile is left as it is.
            let n = sqlx::query(
                "UPDATE signing_key SET private_key = $1 WHERE kid = $2 AND private_key = $3",
            )
            .bind(after)
            .bind(kid)
            .bind(before)
            .execute(&mut *tx)
            .await?
            .rows_affected();
            if n == 1 {
                sealed.push(kid.as_str());
            }
        }
        if !sealed.is_empty() || factors_sealed > 0 {
            let entry =
                NewEntry::new(now, "keys.seal", Outcome::Success).detail(serde_json::json!({
                    "signing_keys": sealed,
                    "second_factors": factors_sealed,
                    "key_encryption_key": kek,
                }));
            extranet_audit::append_in(&mut *tx, &entry).await?;
        }
        Ok::<_, IdentityError>(sealed.len())
    }
    .await)
    .await;
    res
}

/// Adds a signing key and retires the others; public keys of retired keys stay published for
/// one access lifetime plus leeway, then are dropped. Returns the new key id.
pub async fn rotate(db: &Db, clock: &dyn Clock, settings: &TokenSettings) -> Result<String> {
    let kid = insert_key(db, clock, &settings.sealer).await?;
    let now = clock.now();
    let keep = now - (settings.access_lifetime + settings.leeway + Duration::from_secs(60));
    on_pool!(db, write, |pool| {
        async {
            sqlx::query(
                "UPDATE signing_key SET retired_at = $1 \
                 WHERE kid <> $2 AND retired_at IS NULL AND purpose = 'access'",
            )
            .bind(now)
            .bind(&kid)
            .execute(pool)
            .await?;
            sqlx::query(
                "DELETE FROM signing_key \
                 WHERE retired_at IS NOT NULL AND retired_at < $1 AND purpose = 'access'",
            )
            .bind(keep)
            .execute(pool)
            .await
            .map(|_| ())
        }
        .await
    })?;
    Ok(kid)
}

/// Adds a receipt-signing key and retires the others, which stay published (never deleted):
/// every receipt ever issued still verifies. Returns the new key id.
pub async fn rotate_receipt_key(db: &Db, clock: &dyn Clock, sealer: &Sealer) -> Result<String> {
    let kid = insert_key_for(db, clock, sealer, RECEIPT_KEY).await?;
    let now = clock.now();
    on_pool!(db, write, |pool| {
        sqlx::query(
            "UPDATE signing_key SET retired_at = $1 \
             WHERE kid <> $2 AND retired_at IS NULL AND purpose = 'receipt'",
        )
        .bind(now)
        .bind(&kid)
        .execute(pool)
        .await
        .map(|_| ())
    })?;
    Ok(kid)
}

fn published(row: &KeyRow) -> Result<VerifyingKey> {
    let key = DecodingKey::from_ed_pem(row.public_pem.as_bytes()).map_err(internal)?;
    let x = URL_SAFE_NO_PAD.encode(raw_public(&row.public_pem)?);
    let jwk = serde_json::json!({
        "kty": "OKP", "crv": "Ed25519", "alg": "EdDSA", "use": "sig",
        "kid": row.kid, "x": x,
    });
    Ok(VerifyingKey { key, jwk })
}

impl KeyRing {
    /// Loads the keys, creating the first one on a new installation and sealing any that
    /// were stored plain (written before sealing existed).
    pub async fn load(db: &Db, clock: &dyn Clock, sealer: &Sealer) -> Result<KeyRing> {
        let mut rows = fetch(db).await?;
        if rows
            .iter()
            .any(|r| sealed::sealed_with(&r.private_key).is_none())
        {
            let n = reseal(db, clock, sealer).await?;
            tracing::info!(
                keys = n,
                kek = sealer.current_id(),
                "plain signing keys sealed"
            );
            rows = fetch(db).await?;
        }
        let mut created = false;
        for purpose in [ACCESS_KEY, RECEIPT_KEY] {
            if rows
                .iter()
                .all(|r| r.purpose != purpose || r.retired_at.is_some())
            {
                insert_key_for(db, clock, sealer, purpose).await?;
                created = true;
            }
        }
        if created {
            rows = fetch(db).await?;
        }
        let mut verifying = HashMap::new();
        let mut receipts = HashMap::new();
        let mut signing = None;
        let mut receipt_signing = None;
        for row in &rows {
            // The newest unretired key of each purpose signs.
            if row.purpose == RECEIPT_KEY {
                receipts.insert(row.kid.clone(), published(row)?);
                if row.retired_at.is_none() {
                    receipt_signing = Some(row);
                }
            } else {
                verifying.insert(row.kid.clone(), published(row)?);
                if row.retired_at.is_none() {
                    signing = Some(row);
                }
            }
        }
        let open = |row: &KeyRow| -> Result<EncodingKey> {
            let pem = sealer
                .open(&row.private_key, &context(&row.kid))
                .map_err(|e| seal_error(&row.kid, e))?;
            EncodingKey::from_ed_pem(&pem).map_err(internal)
        };
        let row = signing.ok_or_else(|| internal("no signing key"))?;
        let receipt = receipt_signing.ok_or_else(|| internal("no receipt key"))?;
        Ok(KeyRing {
            signing_kid: row.kid.clone(),
            signing: open(row)?,
            verifying,
            receipt_kid: receipt.kid.clone(),
            receipt_signing: open(receipt)?,
            receipts,
        })
    }

    /// Signs a receipt (any claims) with the receipt key: a compact JWS, `typ` `receipt+jwt`.
    pub fn sign_receipt<T: Serialize>(&self, claims: &T) -> Result<String> {
        self.sign_published(claims, RECEIPT_TYPE)
    }

    /// Signs `claims` with the receipt key (kept published forever) as a JWS of type `typ`
    /// ([`RECEIPT_TYPE`], [`CHECKPOINT_TYPE`]): one type is never taken for the other.
    pub fn sign_published<T: Serialize>(&self, claims: &T, typ: &str) -> Result<String> {
        let mut header = Header::new(Algorithm::EdDSA);
        header.kid = Some(self.receipt_kid.clone());
        header.typ = Some(typ.into());
        jsonwebtoken::encode(&header, claims, &self.receipt_signing).map_err(internal)
    }

    /// Whether this ring knows the receipt key a receipt names (else it may be newer than the
    /// ring: reload and ask again).
    pub fn knows_receipt_key(&self, token: &str) -> bool {
        jsonwebtoken::decode_header(token)
            .ok()
            .and_then(|h| h.kid)
            .is_some_and(|kid| self.receipts.contains_key(&kid))
    }

    /// The claims of a receipt signed by one of our receipt keys, or why not. Receipts do not
    /// expire; the signature, the algorithm, the key's purpose and the type are checked.
    pub fn verify_receipt(
        &self,
        token: &str,
    ) -> std::result::Result<serde_json::Value, VerifyError> {
        self.verify_published(token, RECEIPT_TYPE)
    }

    /// The claims of a JWS of type `typ` signed by one of our receipt keys, or why not.
    pub fn verify_published(
        &self,
        token: &str,
        typ: &str,
    ) -> std::result::Result<serde_json::Value, VerifyError> {
        let header = jsonwebtoken::decode_header(token).map_err(|_| VerifyError::Malformed)?;
        if header.alg != Algorithm::EdDSA {
            return Err(VerifyError::Algorithm);
        }
        if header.typ.as_deref() != Some(typ) {
            return Err(VerifyError::Rejected(format!("not a {typ}")));
        }
        let kid = header.kid.ok_or(VerifyError::UnknownKey)?;
        let key = self.receipts.get(&kid).ok_or(VerifyError::UnknownKey)?;
        let mut validation = Validation::new(Algorithm::EdDSA);
        validation.set_required_spec_claims::<&str>(&[]);
        validation.validate_exp = false;
        validation.validate_nbf = false;
        validation.validate_aud = false;
        let data = jsonwebtoken::decode::<serde_json::Value>(token, &key.key, &validation)
            .map_err(|e| VerifyError::Rejected(e.to_string()))?;
        Ok(data.claims)
    }

    pub fn signing_kid(&self) -> &str {
        &self.signing_kid
    }

    pub fn knows(&self, kid: &str) -> bool {
        self.verifying.contains_key(kid)
    }

    /// The JSON Web Key Set published at `/.well-known/jwks.json`.
    pub fn jwks(&self) -> serde_json::Value {
        let mut keys: Vec<&serde_json::Value> = self
            .verifying
            .values()
            .chain(self.receipts.values())
            .map(|k| &k.jwk)
            .collect();
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
            "SELECT kid FROM signing_key WHERE retired_at IS NULL AND purpose = 'access' \
             ORDER BY created_at DESC, kid DESC LIMIT 1",
        )
        .fetch_optional(pool)
        .await
    })?)
}

async fn fetch(db: &Db) -> Result<Vec<KeyRow>> {
    Ok(on_pool!(db, read, |pool| {
        sqlx::query_as(
            "SELECT kid, purpose, private_key, public_pem, retired_at FROM signing_key \
             ORDER BY created_at, kid",
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
