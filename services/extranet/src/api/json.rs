//! JSON request bodies, checked field by field against the body's own OpenAPI schema so that a
//! client learns of every missing or mistyped field at once, each by name (422), and of a body
//! that is not JSON at all as such (400) — never a serde message about line and column alone.
//! A key repeated in any object of the body is refused (422, naming it), not resolved.

use axum::body::Bytes;
use axum::extract::{FromRequest, Request};
use axum::http::{HeaderMap, StatusCode, header};
use serde::de::DeserializeOwned;
use serde_json::Value;
use utoipa::PartialSchema;
use utoipa::openapi::RefOr;
use utoipa::openapi::schema::{Schema, SchemaType, Type};

use super::duplicates::{self, BodyError};
use super::error::{ApiError, FieldError};

/// How the message for a field the body may not carry begins (a role, an organisation…
/// smuggled into a request): handlers recognise it to record the attempt.
pub const UNKNOWN_FIELD: &str = "is not a field of this request";

/// The message for a key that a body's object names twice.
pub const DUPLICATE_KEY: &str = "appears more than once";

/// `Json<T>` with per-field errors; `T`'s schema is the one the OpenAPI document publishes.
pub struct ApiJson<T>(pub T);

impl<S, T> FromRequest<S> for ApiJson<T>
where
    S: Send + Sync,
    T: DeserializeOwned + PartialSchema,
{
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        if !is_json(req.headers()) {
            return Err(ApiError::UnsupportedMediaType);
        }
        let bytes = Bytes::from_request(req, state).await.map_err(|e| {
            if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
                ApiError::PayloadTooLarge
            } else {
                ApiError::BadRequest("the request body could not be read".into())
            }
        })?;
        let value: Value = duplicates::parse(&bytes).map_err(|e| match e {
            // Which of two values was meant cannot be known: refused, never "last one wins".
            BodyError::Duplicate(field) => ApiError::Fields(vec![FieldError {
                field,
                message: DUPLICATE_KEY.into(),
            }]),
            BodyError::Syntax(e) => ApiError::BadRequest(format!(
                "the body is not valid JSON (line {}, column {})",
                e.line(),
                e.column()
            )),
        })?;
        let problems = check(&T::schema(), &value);
        if !problems.is_empty() {
            return Err(ApiError::Fields(problems));
        }
        // Whatever the schema cannot say (formats, enumerations) still names its field.
        serde_path_to_error::deserialize(value)
            .map(ApiJson)
            .map_err(|e| {
                let field = e.path().to_string();
                let message = e.into_inner().to_string();
                ApiError::Fields(vec![FieldError {
                    field: if field == "." { String::new() } else { field },
                    message,
                }])
            })
    }
}

fn is_json(headers: &HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .map(|m| m.trim().to_ascii_lowercase())
        .is_some_and(|m| m == "application/json" || m.ends_with("+json"))
}

/// Every required field that is missing and every present field whose JSON type is not the
/// schema's. Only the top-level object is checked: our request bodies are flat.
fn check(schema: &RefOr<Schema>, value: &Value) -> Vec<FieldError> {
    let RefOr::T(Schema::Object(object)) = schema else {
        return Vec::new();
    };
    let Some(fields) = value.as_object() else {
        return vec![FieldError {
            field: String::new(),
            message: "the body must be a JSON object".into(),
        }];
    };
    let mut problems = Vec::new();
    for name in &object.required {
        if fields.get(name).is_none_or(Value::is_null) {
            problems.push(FieldError {
                field: name.clone(),
                message: "is required".into(),
            });
        }
    }
    for (name, given) in fields {
        // Deny by default: a field the schema does not name is refused, never ignored.
        if !object.properties.contains_key(name) {
            problems.push(FieldError {
                field: name.clone(),
                message: UNKNOWN_FIELD.into(),
            });
            continue;
        }
        let Some(RefOr::T(Schema::Object(property))) = object.properties.get(name) else {
            continue;
        };
        if given.is_null() && !object.required.contains(name) {
            continue;
        }
        if let Some(expected) = mismatch(&property.schema_type, given) {
            problems.push(FieldError {
                field: name.clone(),
                message: format!("must be {expected}"),
            });
        }
    }
    problems
}

/// The expected kind of value, when `given` is not of it.
fn mismatch(schema_type: &SchemaType, given: &Value) -> Option<&'static str> {
    let types: Vec<Type> = match schema_type {
        SchemaType::Type(t) => vec![t.clone()],
        SchemaType::Array(ts) => ts.clone(),
        SchemaType::AnyValue => return None,
    };
    let fits = |t: &Type| match t {
        Type::String => given.is_string(),
        Type::Integer => given.is_i64() || given.is_u64(),
        Type::Number => given.is_number(),
        Type::Boolean => given.is_boolean(),
        Type::Array => given.is_array(),
        Type::Object => given.is_object(),
        Type::Null => given.is_null(),
    };
    if types.iter().any(fits) {
        return None;
    }
    types.iter().find(|t| **t != Type::Null).map(|t| match t {
        Type::String => "a string",
        Type::Integer => "an integer",
        Type::Number => "a number",
        Type::Boolean => "true or false",
        Type::Array => "a list",
        Type::Object => "an object",
        Type::Null => "null",
    })
}

#[cfg(test)]
mod tests {
    use serde::Deserialize;
    use serde_json::json;
    use utoipa::ToSchema;

    use super::*;

    #[derive(Deserialize, ToSchema)]
    #[allow(dead_code)]
    struct Body {
        email: String,
        password: String,
        remember: Option<bool>,
        count: u32,
    }

    fn fields(v: Value) -> Vec<(String, String)> {
        check(&Body::schema(), &v)
            .into_iter()
            .map(|p| (p.field, p.message))
            .collect()
    }

    #[test]
    fn every_missing_and_mistyped_field_is_named() {
        let got = fields(json!({ "password": 5, "remember": "yes" }));
        assert!(
            got.contains(&("email".into(), "is required".into())),
            "{got:?}"
        );
        assert!(
            got.contains(&("count".into(), "is required".into())),
            "{got:?}"
        );
        assert!(
            got.contains(&("password".into(), "must be a string".into())),
            "{got:?}"
        );
        assert!(
            got.contains(&("remember".into(), "must be true or false".into())),
            "{got:?}"
        );
        assert_eq!(got.len(), 4, "{got:?}");
    }

    #[test]
    fn a_well_formed_body_passes_and_optional_null_is_fine() {
        let ok = json!({ "email": "a@b.example", "password": "x", "remember": null, "count": 3 });
        assert!(fields(ok).is_empty());
    }

    #[test]
    fn a_field_the_schema_does_not_name_is_refused() {
        let body =
            json!({ "email": "a@b.example", "password": "x", "count": 3, "roles": ["admin"] });
        assert_eq!(fields(body), vec![("roles".into(), UNKNOWN_FIELD.into())]);
    }

    #[test]
    fn not_an_object() {
        let got = fields(json!([1, 2]));
        assert_eq!(
            got,
            vec![(String::new(), "the body must be a JSON object".into())]
        );
    }
}
