//! The OpenAPI 3.1 document of `/api/v1`, generated from the handlers' annotations so that it
//! cannot drift from the routes.

use std::sync::Arc;

use axum::Router;
use axum::routing::get;
use serde::Serialize;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi, ToSchema};
use utoipa_axum::router::OpenApiRouter;

use super::ApiState;

/// An RFC 9457 problem document: every API error has this shape.
#[derive(Serialize, ToSchema)]
pub struct Problem {
    /// `about:blank`
    r#type: String,
    title: String,
    status: u16,
    detail: Option<String>,
    /// With 422: each field to correct, by name.
    errors: Option<Vec<ProblemField>>,
}

/// One field a client must correct.
#[derive(Serialize, ToSchema)]
pub struct ProblemField {
    /// The field's name; empty for the body as a whole.
    field: String,
    message: String,
}

#[derive(OpenApi)]
#[openapi(
    info(title = "Extranet API", description = "The secured client extranet for certification bodies."),
    modifiers(&BearerScheme),
    components(schemas(Problem, ProblemField)),
    tags((name = "auth", description = "Signing in and out"), (name = "me", description = "The caller"),
        (name = "directory", description = "Organisations and people, as far as the caller's role reaches; masked fields are named under `masked`"),
        (name = "dossiers", description = "Certification dossiers and inspector assignments"),
        (name = "documents", description = "Certification documents: streamed uploads checked by their bytes, versions, ranged downloads, deletion and legal holds, the access log"))
)]
struct ApiDoc;

struct BearerScheme;

impl Modify for BearerScheme {
    fn modify(&self, doc: &mut utoipa::openapi::OpenApi) {
        let components = doc.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("JWT")
                    .description(Some("An access token from /api/v1/auth/login or /refresh"))
                    .build(),
            ),
        );
    }
}

/// Marks every operation with the permission it needs (`x-permission`), from the one table in
/// `api::directory`; an operation missing from the table gets none, which the end-to-end
/// role × route test reports.
fn mark_permissions(doc: &mut utoipa::openapi::OpenApi) {
    for (path, item) in doc.paths.paths.iter_mut() {
        let ops = [
            ("get", item.get.as_mut()),
            ("post", item.post.as_mut()),
            ("put", item.put.as_mut()),
            ("patch", item.patch.as_mut()),
            ("delete", item.delete.as_mut()),
        ];
        for (method, op) in ops {
            let Some(op) = op else { continue };
            let found = super::directory::PERMISSIONS
                .iter()
                .chain(super::documents::PERMISSIONS)
                .chain(super::backoffice::PERMISSIONS)
                .chain(super::second_factor::PERMISSIONS)
                .chain(super::subprocessors::PERMISSIONS)
                .chain(super::consents::PERMISSIONS)
                .chain(super::rights::PERMISSIONS)
                .chain(super::restriction::PERMISSIONS)
                .chain(super::subject::PERMISSIONS)
                .find(|(m, p, _)| *m == method && p == path);
            if let Some((_, _, permission)) = found {
                let ext: utoipa::openapi::extensions::Extensions =
                    [("x-permission", serde_json::json!(permission))]
                        .into_iter()
                        .collect();
                op.extensions
                    .get_or_insert_with(Default::default)
                    .merge(ext);
            }
        }
    }
}

/// Answers that follow from what an operation takes rather than from what it does, each a
/// problem document: (status, name in `components.responses`, description).
const COMMON_ANSWERS: [(&str, &str, &str); 6] = [
    (
        "400",
        "BadRequest",
        "The body is not JSON, or could not be read",
    ),
    ("401", "Unauthorized", "No valid access token"),
    (
        "404",
        "NotFound",
        "No such record, or none the caller may see",
    ),
    ("413", "PayloadTooLarge", "The body is over the limit"),
    (
        "415",
        "UnsupportedMediaType",
        "The body is not of the declared type",
    ),
    (
        "422",
        "UnprocessableEntity",
        "Missing, mistyped, repeated, unknown or out-of-range fields or parameters, each named in `errors`",
    ),
];

/// Declares, on every operation, the answers its extractors give, so that the document says
/// what the server does without each handler repeating it: a Bearer token (`Authenticated`: 401),
/// a request body (`ApiJson`, multipart: 400, 413, 415, 422), query parameters (`ApiQuery`: 422),
/// an id in the path (an id that is no id names no visible record: 404). What an operation
/// adds of its own (403, 409, 429…) stays in its annotation.
fn declare_common_answers(doc: &mut utoipa::openapi::OpenApi) {
    use utoipa::openapi::path::ParameterIn;
    use utoipa::openapi::{ContentBuilder, Ref, RefOr, ResponseBuilder};

    let components = doc.components.get_or_insert_with(Default::default);
    for (_, name, description) in COMMON_ANSWERS {
        let problem = ContentBuilder::new()
            .schema(Some(Ref::from_schema_name("Problem")))
            .build();
        components.responses.insert(
            name.to_owned(),
            RefOr::T(
                ResponseBuilder::new()
                    .description(description)
                    .content("application/problem+json", problem)
                    .build(),
            ),
        );
    }
    for item in doc.paths.paths.values_mut() {
        let ops = [
            item.get.as_mut(),
            item.post.as_mut(),
            item.put.as_mut(),
            item.patch.as_mut(),
            item.delete.as_mut(),
        ];
        for op in ops.into_iter().flatten() {
            let params = op.parameters.as_deref().unwrap_or_default();
            let has_in = |place: ParameterIn| {
                params
                    .iter()
                    .any(|p| matches!(p, RefOr::T(p) if p.parameter_in == place))
            };
            let mut answers: Vec<&str> = Vec::new();
            if op.security.as_ref().is_some_and(|s| !s.is_empty()) {
                answers.push("401");
            }
            if op.request_body.is_some() {
                answers.extend(["400", "413", "415", "422"]);
            }
            if has_in(ParameterIn::Query) {
                answers.push("422");
            }
            if has_in(ParameterIn::Path) {
                answers.push("404");
            }
            for status in answers {
                let Some((_, name, _)) = COMMON_ANSWERS.iter().find(|(s, _, _)| *s == status)
                else {
                    continue;
                };
                op.responses
                    .responses
                    .entry(status.to_owned())
                    .or_insert_with(|| RefOr::Ref(Ref::from_response_name(*name)));
            }
        }
    }
}

/// The API routes and, at `/api/v1/openapi.json`, their description; and apart, the streaming
/// routes (uploads, downloads), which must not sit under the standard timeout and body limit.
pub fn router(state: ApiState) -> (Router, Router) {
    let (router, mut doc) = OpenApiRouter::with_openapi(ApiDoc::openapi())
        .merge(super::auth::routes())
        .merge(super::directory::routes())
        .merge(super::backoffice::routes())
        .merge(super::documents::routes())
        .merge(super::second_factor::routes())
        .merge(super::subprocessors::routes())
        .merge(super::consents::routes())
        .merge(super::rights::routes())
        .merge(super::restriction::routes())
        .merge(super::subject::routes())
        .split_for_parts();
    let (bulk, bulk_doc) = OpenApiRouter::new()
        .merge(super::documents::bulk_routes())
        .split_for_parts();
    doc.merge(bulk_doc);
    mark_permissions(&mut doc);
    declare_common_answers(&mut doc);
    super::documents::describe_forms(&mut doc, &state.documents.settings().types);
    super::consents::describe_purposes(&mut doc, &state.consents);
    let bulk = bulk.with_state(state.clone());
    let json = Arc::new(doc.to_pretty_json().unwrap_or_else(|_| "{}".to_owned()));
    let router = router.with_state(state).route(
        "/api/v1/openapi.json",
        get(move || {
            let json = json.clone();
            async move {
                (
                    [(axum::http::header::CONTENT_TYPE, "application/json")],
                    (*json).clone(),
                )
            }
        }),
    );
    (router, bulk)
}
