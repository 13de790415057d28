//! Access tokens already verified, remembered until they expire.
//!
//! An EdDSA verification costs tens of microseconds; a browser or API client sends the same
//! token with every request for up to five minutes. Only a token that passed full verification
//! is remembered, keyed by its exact text, so a token that differs in one byte is a miss and is
//! verified from scratch. A hit is still checked against the clock: a remembered token is never
//! accepted past its `exp` (plus leeway).

use std::sync::Arc;

use quick_cache::sync::Cache;

use crate::tokens::Claims;

/// Tokens are a few hundred bytes; 10,000 of them with their claims stay under ~10 MiB.
pub const DEFAULT_CAPACITY: usize = 10_000;

pub struct VerifiedTokens {
    cache: Cache<Box<str>, Arc<Claims>>,
}

impl std::fmt::Debug for VerifiedTokens {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never the tokens themselves.
        f.debug_struct("VerifiedTokens")
            .field("len", &self.cache.len())
            .finish()
    }
}

impl VerifiedTokens {
    pub fn new(capacity: usize) -> VerifiedTokens {
        VerifiedTokens {
            cache: Cache::new(capacity.max(1)),
        }
    }

    /// The claims of `token` if it was verified before and is still within its lifetime at
    /// `now` (seconds since the epoch, `leeway` seconds of grace as at verification).
    pub fn get(&self, token: &str, now: i64, leeway: i64) -> Option<Arc<Claims>> {
        let claims = self.cache.get(token)?;
        if now > claims.exp.saturating_add(leeway) {
            self.cache.remove(token);
            return None;
        }
        Some(claims)
    }

    /// Remembers a token that has just passed full verification.
    pub fn insert(&self, token: &str, claims: Arc<Claims>) {
        self.cache.insert(token.into(), claims);
    }

    pub fn len(&self) -> usize {
        self.cache.len()
    }

    pub fn is_empty(&self) -> bool {
        self.cache.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use uuid::Uuid;

    use super::*;

    fn claims(exp: i64) -> Arc<Claims> {
        Arc::new(Claims {
            iss: "i".into(),
            aud: "a".into(),
            sub: Uuid::nil(),
            org: Uuid::nil(),
            roles: vec![],
            sid: Uuid::nil(),
            jti: Uuid::nil(),
            iat: 0,
            nbf: 0,
            exp,
            typ: "access".into(),
        })
    }

    #[test]
    fn a_remembered_token_expires_with_its_claims() {
        let cache = VerifiedTokens::new(10);
        cache.insert("tok", claims(100));
        assert!(cache.get("tok", 100, 5).is_some());
        assert!(cache.get("tok", 105, 5).is_some());
        assert!(cache.get("tok", 106, 5).is_none(), "past exp + leeway");
        assert!(cache.is_empty(), "an expired entry is dropped");
    }

    #[test]
    fn only_the_exact_text_hits() {
        let cache = VerifiedTokens::new(10);
        cache.insert("abc.def.ghi", claims(100));
        assert!(cache.get("abc.def.ghj", 0, 0).is_none());
        assert!(cache.get("abc.def.gh", 0, 0).is_none());
        assert!(cache.get("abc.def.ghi", 0, 0).is_some());
    }

    #[test]
    fn capacity_is_bounded() {
        let cache = VerifiedTokens::new(100);
        for i in 0..1000 {
            cache.insert(&format!("t{i}"), claims(100));
        }
        assert!(cache.len() <= 200, "{} entries", cache.len());
    }
}
