//! The caller's own consents (issue 16, item 5): each purpose whose basis is consent with the
//! text in force and where the caller stands, the history of what they agreed to, and giving or
//! withdrawing one. Decisions and audit records are `extranet_privacy::consent`'s.

use axum::Json;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use extranet_privacy::consent::{Acting, ConsentRecord, PurposeState, Via};
use extranet_privacy::{Consents, PrivacyError};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use super::ApiState;
use super::auth::Authenticated;
use super::directory::{Peer, ip, writer};
use super::error::ApiError;
use super::json::ApiJson;
use super::openapi::Problem;

/// The operations of this module and the permission each needs (see `directory::PERMISSIONS`).
pub const PERMISSIONS: &[(&str, &str, &str)] = &[
    ("get", "/api/v1/consents", "consent.read"),
    ("put", "/api/v1/consents/{purpose}", "consent.update"),
];

pub fn routes() -> OpenApiRouter<ApiState> {
    OpenApiRouter::new()
        .routes(routes!(get_consents))
        .routes(routes!(put_consent))
}

impl From<PrivacyError> for ApiError {
    fn from(e: PrivacyError) -> Self {
        match e {
            PrivacyError::NotFound => ApiError::NotFound,
            PrivacyError::Forbidden(_) => ApiError::Forbidden,
            PrivacyError::Invalid { field, message } => ApiError::Invalid { field, message },
            PrivacyError::Conflict(m) => ApiError::Conflict(m),
            other => ApiError::Internal(other.to_string()),
        }
    }
}

/// Names the purposes of the register in force at start-up (those whose basis is consent) as
/// the only values of the `purpose` path parameter, like `documents::describe_forms` does for
/// document types: any other value is refused with 422.
pub(crate) fn describe_purposes(doc: &mut utoipa::openapi::OpenApi, consents: &Consents) {
    use utoipa::openapi::RefOr;
    use utoipa::openapi::schema::Schema;
    let purposes: Vec<serde_json::Value> = consents
        .privacy()
        .register()
        .consent_purposes()
        .map(|(a, _)| serde_json::json!(a.id))
        .collect();
    let Some(item) = doc.paths.paths.get_mut("/api/v1/consents/{purpose}") else {
        return;
    };
    for op in [item.put.as_mut(), item.get.as_mut()].into_iter().flatten() {
        for p in op.parameters.iter_mut().flatten() {
            if let RefOr::T(p) = p
                && p.name == "purpose"
                && let Some(RefOr::T(Schema::Object(s))) = p.schema.as_mut()
            {
                s.enum_values = Some(purposes.clone());
            }
        }
    }
}

/// A text in the three languages.
#[derive(Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TextsBody {
    en: String,
    nl: String,
    fr: String,
}

/// One consent as recorded: the exact text agreed to, when and how it was given and withdrawn
/// (Unix seconds).
#[derive(Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ConsentRecordBody {
    id: Uuid,
    purpose: String,
    text_version: i64,
    /// nl, fr or en: the language the text was shown in.
    language: String,
    text: String,
    given_at: i64,
    /// account, api
    given_via: String,
    withdrawn_at: Option<i64>,
    /// account, api, mail_link, one_click, superseded
    withdrawn_via: Option<String>,
}

impl From<ConsentRecord> for ConsentRecordBody {
    fn from(r: ConsentRecord) -> Self {
        ConsentRecordBody {
            id: r.id,
            purpose: r.purpose,
            text_version: r.text_version,
            language: r.language,
            text: r.text,
            given_at: r.given_at,
            given_via: r.given_via,
            withdrawn_at: r.withdrawn_at,
            withdrawn_via: r.withdrawn_via,
        }
    }
}

/// A purpose whose basis is consent, with the text in force and where the caller stands.
#[derive(Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PurposeBody {
    purpose: String,
    description: TextsBody,
    /// The text version in force: only a consent to it counts.
    version: u32,
    text: TextsBody,
    /// given (to the version in force), outdated (to an earlier version: does not count),
    /// withdrawn, never
    status: String,
    latest: Option<ConsentRecordBody>,
}

impl From<PurposeState> for PurposeBody {
    fn from(p: PurposeState) -> Self {
        let texts = |t: extranet_privacy::register::Texts| TextsBody {
            en: t.en,
            nl: t.nl,
            fr: t.fr,
        };
        PurposeBody {
            purpose: p.purpose,
            description: texts(p.description),
            version: p.version,
            text: texts(p.text),
            status: p.status.as_str().to_owned(),
            latest: p.latest.map(Into::into),
        }
    }
}

/// The caller's consents: every purpose and the history, newest first.
#[derive(Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ConsentsBody {
    purposes: Vec<PurposeBody>,
    history: Vec<ConsentRecordBody>,
}

/// Give (`true`) or withdraw (`false`) the caller's consent for a purpose.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ConsentChange {
    given: bool,
    /// The language the text was shown in (nl, fr, en); the profile's if left out or null.
    #[serde(default)]
    language: Option<Language>,
}

#[derive(Deserialize, ToSchema, Clone, Copy)]
#[serde(rename_all = "lowercase")]
pub enum Language {
    Nl,
    Fr,
    En,
}

impl Language {
    fn code(self) -> &'static str {
        match self {
            Language::Nl => "nl",
            Language::Fr => "fr",
            Language::En => "en",
        }
    }
}

async fn body_of(s: &ApiState, who: &Acting<'_>) -> Result<ConsentsBody, ApiError> {
    let purposes = s.consents.overview(who).await?;
    let history = s.consents.history(who).await?;
    Ok(ConsentsBody {
        purposes: purposes.into_iter().map(Into::into).collect(),
        history: history.into_iter().map(Into::into).collect(),
    })
}

/// The caller's consents: each purpose whose basis is consent, and what they agreed to when.
#[utoipa::path(get, path = "/api/v1/consents", tag = "me", security(("bearer" = [])),
    responses((status = 200, body = ConsentsBody), (status = 403, body = Problem, content_type = "application/problem+json")))]
async fn get_consents(
    State(s): State<ApiState>,
    peer: Peer,
    who: Authenticated,
) -> Result<Response, ApiError> {
    let caller = writer(&s.directory, &who, &peer).await?;
    let acting = Acting {
        person: caller.person,
        ip: ip(&peer),
        grants: &caller.grants,
    };
    Ok(Json(body_of(&s, &acting).await?).into_response())
}

/// Give or withdraw the caller's consent for one purpose (a purpose whose basis is not consent,
/// or that the register does not have, is a 422). Giving it again to the text in force changes
/// nothing; giving it after a new text version records a new consent.
#[utoipa::path(put, path = "/api/v1/consents/{purpose}", tag = "me", security(("bearer" = [])),
    params(("purpose" = String, Path)), request_body = ConsentChange,
    responses((status = 200, body = ConsentsBody), (status = 403, body = Problem, content_type = "application/problem+json")))]
async fn put_consent(
    State(s): State<ApiState>,
    peer: Peer,
    who: Authenticated,
    Path(purpose): Path<String>,
    ApiJson(b): ApiJson<ConsentChange>,
) -> Result<Response, ApiError> {
    let caller = writer(&s.directory, &who, &peer).await?;
    let acting = Acting {
        person: caller.person,
        ip: ip(&peer),
        grants: &caller.grants,
    };
    if b.given {
        s.consents
            .give(&acting, &purpose, b.language.map(Language::code), Via::Api)
            .await?;
    } else {
        s.consents.withdraw(&acting, &purpose, Via::Api).await?;
    }
    Ok(Json(body_of(&s, &acting).await?).into_response())
}
