//! Rights requests (issue 17): filing one's own, reading one's own, the coordinator's queue and
//! steps, filing without an account (confirmed by a mailed link), and checking a receipt.
//! Decisions and audit records are `extranet_rights`'.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use extranet_rights::filing::{LinkRefused, NewRequest, PublicRequest};
use extranet_rights::workflow::{Detail, Filter, Step};
use extranet_rights::{RightsError, Who};
use serde::Deserialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::ApiState;
use super::auth::Authenticated;
use super::directory::{MaskedRecord, Peer, id, ip, many, masked, writer};
use super::error::ApiError;
use super::json::ApiJson;
use super::openapi::Problem;
use super::query::ApiQuery;

/// The operations of this module and the permission each needs (see `directory::PERMISSIONS`).
pub const PERMISSIONS: &[(&str, &str, &str)] = &[
    ("get", "/api/v1/rights-requests", "rights_request.list"),
    ("post", "/api/v1/rights-requests", "rights_request.create"),
    (
        "get",
        "/api/v1/rights-requests/queue",
        "rights_request.list",
    ),
    ("get", "/api/v1/rights-requests/{id}", "rights_request.read"),
    (
        "get",
        "/api/v1/rights-requests/{id}/receipt",
        "rights_request.read",
    ),
    (
        "post",
        "/api/v1/rights-requests/{id}/steps",
        "rights_request.update",
    ),
    ("post", "/api/v1/public/rights-requests", "public"),
    ("post", "/api/v1/public/rights-requests/confirm", "public"),
    ("post", "/api/v1/public/rights-receipts/verify", "public"),
];

pub fn routes() -> OpenApiRouter<ApiState> {
    OpenApiRouter::new()
        .routes(routes!(list_mine, file))
        .routes(routes!(queue))
        .routes(routes!(get_request))
        .routes(routes!(get_receipt))
        .routes(routes!(post_step))
        .routes(routes!(file_public))
        .routes(routes!(confirm))
        .routes(routes!(verify))
}

impl From<RightsError> for ApiError {
    fn from(e: RightsError) -> Self {
        match e {
            RightsError::NotFound => ApiError::NotFound,
            RightsError::Forbidden(_) => ApiError::Forbidden,
            RightsError::Invalid { field, message, .. } => ApiError::Invalid { field, message },
            RightsError::Conflict { message, .. } => ApiError::Conflict(message),
            RightsError::TooMany(detail) => ApiError::Limited {
                retry_after: std::time::Duration::from_secs(3600),
                code: "rights-requests",
                detail,
            },
            RightsError::Internal(m) => ApiError::Internal(m),
        }
    }
}

/// The caller as the rights service sees them: the person, their grants, the client address.
fn who_of<'a>(caller: &'a extranet_directory::Caller, peer: &Peer) -> Who<'a> {
    Who {
        person: caller.person,
        grants: &caller.grants,
        ip: ip(peer),
    }
}

fn detail_body(d: &Detail) -> Response {
    Json(serde_json::json!({ "request": d.request, "events": d.events })).into_response()
}

/// A request to exercise one's rights, about one's own data.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FileBody {
    /// access, rectification, erasure, restriction, portability, objection, withdrawal
    rights: Vec<String>,
    /// What the request is about, in the requester's words.
    #[serde(default)]
    details: String,
    /// Refused unless it is the caller's own address.
    #[serde(default)]
    #[schema(format = Email)]
    email: Option<String>,
    /// With rectification: the values proposed, field → value (first_name, surname, function,
    /// phone, mobile, fax).
    #[serde(default)]
    proposals: Option<std::collections::BTreeMap<String, String>>,
}

/// File a request about one's own data: received at once, with its number, due date and
/// signed receipt (mailed).
#[utoipa::path(post, path = "/api/v1/rights-requests", tag = "rights", security(("bearer" = [])),
    request_body = FileBody,
    responses((status = 201, body = MaskedRecord), (status = 403, body = Problem, content_type = "application/problem+json")))]
async fn file(
    State(s): State<ApiState>,
    peer: Peer,
    who: Authenticated,
    ApiJson(b): ApiJson<FileBody>,
) -> Result<Response, ApiError> {
    let caller = writer(&s.directory, &who, &peer).await?;
    let w = who_of(&caller, &peer);
    let req = NewRequest {
        rights: b.rights,
        details: b.details,
        email: b.email,
        proposals: b.proposals.unwrap_or_default(),
    };
    let m = s.rights.file(&w, &req).await?;
    Ok((StatusCode::CREATED, masked(&m)).into_response())
}

/// The caller's own requests, newest first.
#[utoipa::path(get, path = "/api/v1/rights-requests", tag = "rights", security(("bearer" = [])),
    responses((status = 200, body = MaskedRecord), (status = 403, body = Problem, content_type = "application/problem+json")))]
async fn list_mine(
    State(s): State<ApiState>,
    peer: Peer,
    who: Authenticated,
) -> Result<Response, ApiError> {
    let caller = writer(&s.directory, &who, &peer).await?;
    let w = who_of(&caller, &peer);
    Ok(many(&s.rights.mine(&w).await?))
}

/// What the queue shows.
#[derive(Deserialize, ToSchema, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct QueueQuery {
    /// A state, `open` (the default: every state not closed) or `all`.
    state: Option<String>,
    /// Only requests past their due date.
    overdue: Option<bool>,
    /// Only requests assigned to this person.
    assignee: Option<uuid::Uuid>,
}

/// The privacy coordinator's queue, soonest due first.
#[utoipa::path(get, path = "/api/v1/rights-requests/queue", tag = "rights", security(("bearer" = [])),
    params(QueueQuery),
    responses((status = 200, body = MaskedRecord), (status = 403, body = Problem, content_type = "application/problem+json")))]
async fn queue(
    State(s): State<ApiState>,
    peer: Peer,
    who: Authenticated,
    ApiQuery(q): ApiQuery<QueueQuery>,
) -> Result<Response, ApiError> {
    let caller = writer(&s.directory, &who, &peer).await?;
    let w = who_of(&caller, &peer);
    let filter = Filter {
        state: q.state,
        overdue: q.overdue.unwrap_or(false),
        assignee: q.assignee,
    };
    Ok(many(&s.rights.queue(&w, &filter).await?))
}

/// One request and its history (internal notes only for the coordinator).
#[utoipa::path(get, path = "/api/v1/rights-requests/{id}", tag = "rights", security(("bearer" = [])),
    params(("id" = String, Path)),
    responses((status = 200, body = MaskedRecord), (status = 403, body = Problem, content_type = "application/problem+json")))]
async fn get_request(
    State(s): State<ApiState>,
    peer: Peer,
    who: Authenticated,
    Path(raw): Path<String>,
) -> Result<Response, ApiError> {
    let caller = writer(&s.directory, &who, &peer).await?;
    let w = who_of(&caller, &peer);
    Ok(detail_body(&s.rights.detail(&w, id(&raw)?).await?))
}

/// The signed receipt (a compact JWS, `application/jose`), as a file.
#[utoipa::path(get, path = "/api/v1/rights-requests/{id}/receipt", tag = "rights", security(("bearer" = [])),
    params(("id" = String, Path)),
    responses((status = 200, content_type = "application/jose", body = String), (status = 403, body = Problem, content_type = "application/problem+json")))]
async fn get_receipt(
    State(s): State<ApiState>,
    peer: Peer,
    who: Authenticated,
    Path(raw): Path<String>,
) -> Result<Response, ApiError> {
    let caller = writer(&s.directory, &who, &peer).await?;
    let w = who_of(&caller, &peer);
    let (number, jws) = s.rights.receipt(&w, id(&raw)?).await?;
    Ok((
        [
            (header::CONTENT_TYPE, "application/jose".to_owned()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"receipt-{number}.jws\""),
            ),
        ],
        jws,
    )
        .into_response())
}

/// A step of the coordinator: `assign` (`assignee`), `comment` (`note`, `internal`),
/// `identity_check` (`note`), `start`, `extend` (`months` 1 or 2, `reason`), `close`
/// (`outcome`, `note`, `ground`).
#[utoipa::path(post, path = "/api/v1/rights-requests/{id}/steps", tag = "rights", security(("bearer" = [])),
    params(("id" = String, Path)), request_body = StepBody,
    responses((status = 200, body = MaskedRecord), (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 409, body = Problem, content_type = "application/problem+json")))]
async fn post_step(
    State(s): State<ApiState>,
    peer: Peer,
    who: Authenticated,
    Path(raw): Path<String>,
    ApiJson(body): ApiJson<StepBody>,
) -> Result<Response, ApiError> {
    let caller = writer(&s.directory, &who, &peer).await?;
    if let StepWord::CarryOut = body.step {
        let what = extranet_rights::CarryOut {
            right: needs(body.right, "right")?,
            accept: body.accept.unwrap_or_default(),
        };
        return Ok(detail_body(
            &s.rights.carry_out(&caller, id(&raw)?, &what).await?,
        ));
    }
    let step = body.into_step()?;
    let w = who_of(&caller, &peer);
    Ok(detail_body(&s.rights.step(&w, id(&raw)?, &step).await?))
}

/// The coordinator's steps.
#[derive(Deserialize, ToSchema, Clone, Copy)]
#[serde(rename_all = "snake_case")]
pub enum StepWord {
    Assign,
    Comment,
    IdentityCheck,
    Start,
    Extend,
    Close,
    CarryOut,
}

/// A step of the coordinator, named by `step`, with what it needs: `assign` an `assignee`;
/// `comment` a `note` (`internal` for the staff only); `identity_check` a `note` saying what
/// the requester must provide; `start` an optional `note`; `extend` `months` (1 or 2) and a
/// `reason`; `close` an `outcome`, a `note` and, unless fulfilled, a `ground`; `carry_out` a
/// `right` of the request (the system carries it out: the report, the erasure, the
/// restriction…) and, for a rectification, the proposed fields it `accept`s. A field a step
/// needs and lacks is a 422 naming it.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StepBody {
    step: StepWord,
    #[serde(default)]
    assignee: Option<uuid::Uuid>,
    #[serde(default)]
    #[schema(max_length = 4000)]
    note: Option<String>,
    #[serde(default)]
    internal: Option<bool>,
    #[serde(default)]
    #[schema(minimum = 1, maximum = 2)]
    months: Option<u8>,
    #[serde(default)]
    #[schema(max_length = 4000)]
    reason: Option<String>,
    /// fulfilled, partly_fulfilled, refused
    #[serde(default)]
    outcome: Option<String>,
    /// manifestly_unfounded, identity_not_established, legal_obligation, legal_claims,
    /// rights_of_others, compelling_grounds, not_provided_by_subject, accurate,
    /// contact_required, restricted
    #[serde(default)]
    ground: Option<String>,
    /// carry_out: access, rectification, erasure, restriction, portability, objection,
    /// withdrawal
    #[serde(default)]
    right: Option<String>,
    /// carry_out of a rectification: the proposed fields accepted (the others are refused).
    #[serde(default)]
    accept: Option<Vec<String>>,
}

fn needs<T>(v: Option<T>, field: &'static str) -> Result<T, ApiError> {
    v.ok_or_else(|| ApiError::Invalid {
        field,
        message: "this step needs it".into(),
    })
}

impl StepBody {
    fn into_step(self) -> Result<Step, ApiError> {
        Ok(match self.step {
            StepWord::Assign => Step::Assign {
                assignee: needs(self.assignee, "assignee")?,
            },
            StepWord::Comment => Step::Comment {
                note: needs(self.note, "note")?,
                internal: self.internal.unwrap_or(false),
            },
            StepWord::IdentityCheck => Step::IdentityCheck {
                note: needs(self.note, "note")?,
            },
            StepWord::Start => Step::Start {
                note: self.note.unwrap_or_default(),
            },
            StepWord::Extend => Step::Extend {
                months: needs(self.months, "months")?,
                reason: needs(self.reason, "reason")?,
            },
            StepWord::Close => Step::Close {
                outcome: needs(self.outcome, "outcome")?,
                note: needs(self.note, "note")?,
                ground: self.ground,
            },
            StepWord::CarryOut => {
                return Err(ApiError::Invalid {
                    field: "step",
                    message: "carried out by the rights service".into(),
                });
            }
        })
    }
}

/// A request filed without an account.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PublicBody {
    #[schema(format = Email)]
    email: String,
    #[schema(min_length = 1, max_length = 200)]
    name: String,
    /// nl, fr or en: the language of the mails.
    #[serde(default)]
    language: String,
    rights: Vec<String>,
    #[serde(default)]
    details: String,
}

/// File a request without an account: a confirmation link is mailed to the address; the answer
/// is the same whether or not the address is known.
#[utoipa::path(post, path = "/api/v1/public/rights-requests", tag = "rights",
    request_body = PublicBody,
    responses((status = 202, body = Object), (status = 429, body = Problem, content_type = "application/problem+json")))]
async fn file_public(
    State(s): State<ApiState>,
    peer: Peer,
    ApiJson(b): ApiJson<PublicBody>,
) -> Result<Response, ApiError> {
    let req = PublicRequest {
        email: b.email,
        name: b.name,
        language: b.language,
        rights: b.rights,
        details: b.details,
    };
    s.rights.file_public(&req, ip(&peer)).await?;
    Ok((
        StatusCode::ACCEPTED,
        Json(serde_json::json!({ "status": "check your mailbox: the request is registered once you open the link we sent" })),
    )
        .into_response())
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ConfirmBody {
    token: String,
}

/// Confirm a request filed without an account (the mailed link's token): it is received, and
/// its number, due date and receipt are returned (and mailed).
#[utoipa::path(post, path = "/api/v1/public/rights-requests/confirm", tag = "rights",
    request_body = ConfirmBody,
    responses((status = 200, body = Object), (status = 409, body = Problem, content_type = "application/problem+json")))]
async fn confirm(
    State(s): State<ApiState>,
    peer: Peer,
    ApiJson(b): ApiJson<ConfirmBody>,
) -> Result<Response, ApiError> {
    match s.rights.confirm(&b.token, ip(&peer)).await? {
        Ok(row) => Ok(Json(serde_json::json!({
            "number": row.number,
            "received_at": row.received_at,
            "due_on": row.due_on,
            "rights": row.rights(),
            "receipt": row.receipt,
        }))
        .into_response()),
        Err(LinkRefused::Expired) => Err(ApiError::Conflict(
            "this link has expired: file the request again".into(),
        )),
        Err(LinkRefused::Invalid) => Err(ApiError::Conflict(
            "this link is not valid or was used already".into(),
        )),
    }
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct VerifyBody {
    receipt: String,
}

/// Check a receipt: whether we signed it, and what it says.
#[utoipa::path(post, path = "/api/v1/public/rights-receipts/verify", tag = "rights",
    request_body = VerifyBody, responses((status = 200, body = Object)))]
async fn verify(
    State(s): State<ApiState>,
    ApiJson(b): ApiJson<VerifyBody>,
) -> Result<Response, ApiError> {
    Ok(match s.rights.verify_receipt(&b.receipt).await {
        Ok(claims) => Json(serde_json::json!({ "valid": true, "claims": claims })),
        Err(extranet_rights::receipt::Refused::Invalid(why)) => {
            Json(serde_json::json!({ "valid": false, "reason": why }))
        }
    }
    .into_response())
}
