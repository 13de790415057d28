//! The receipt of a request: what was received, when, and when the answer is due, signed (a
//! compact JWS, EdDSA) with the installation's receipt key, whose public half is published at
//! `/.well-known/jwks.json` beside the access-token keys. Anyone holding the receipt can check it
//! with any JOSE library; the key is kept published after a rotation, so it verifies for as long
//! as it matters.

use serde::{Deserialize, Serialize};

use crate::due;
use crate::error::Result;
use crate::service::Rights;
use crate::store::{RequestRow, rfc3339};

/// What a receipt says. `typ` tells a receipt from anything else we sign.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReceiptClaims {
    /// The extranet that received it (its public address).
    pub iss: String,
    /// The certification body.
    pub controller: String,
    pub typ: String,
    /// The request's number.
    pub number: String,
    pub request_id: String,
    /// RFC 3339.
    pub received_at: String,
    /// Unix seconds, for JOSE tools.
    pub iat: i64,
    pub rights: Vec<String>,
    /// YYYY-MM-DD in the installation's calendar.
    pub due_on: String,
    /// The requester's address (the receipt is theirs).
    pub email: String,
}

pub const RECEIPT_CLAIM_TYPE: &str = "rights-request-receipt";

/// Why a receipt does not verify.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refused {
    /// Not a JWS at all, or not one of ours: altered, cut, signed with another key.
    Invalid(String),
}

impl Rights {
    /// The receipt of a received request (number, receipt instant and due day set).
    pub(crate) fn sign_receipt(
        &self,
        row: &RequestRow,
        number: &str,
        received_at: i64,
        due_on: time::Date,
    ) -> Result<String> {
        let claims = ReceiptClaims {
            iss: self.settings.base_url.clone(),
            controller: self.settings.site_name.clone(),
            typ: RECEIPT_CLAIM_TYPE.to_owned(),
            number: number.to_owned(),
            request_id: row.id.to_string(),
            received_at: rfc3339(received_at),
            iat: received_at,
            rights: row.rights(),
            due_on: due::iso(due_on),
            email: row.email.clone(),
        };
        Ok(self.auth.sign_receipt(&claims)?)
    }

    /// Checks a receipt against our receipt keys (reloading them for a key id we do not know):
    /// its claims when it is genuine.
    pub async fn verify_receipt(&self, token: &str) -> std::result::Result<ReceiptClaims, Refused> {
        let value = self
            .auth
            .verify_receipt(token.trim())
            .await
            .map_err(|e| Refused::Invalid(e.to_string()))?;
        let claims: ReceiptClaims =
            serde_json::from_value(value).map_err(|e| Refused::Invalid(e.to_string()))?;
        if claims.typ != RECEIPT_CLAIM_TYPE {
            return Err(Refused::Invalid("not a rights-request receipt".into()));
        }
        Ok(claims)
    }
}
