//! Query strings, checked against the parameters the OpenAPI document publishes for the
//! operation (`IntoParams`), the way `ApiJson` checks bodies: every unknown, repeated, mistyped
//! or out-of-range parameter is named in one 422, so the bounds the document states (`limit`,
//! `offset` maxima) are the ones the server enforces, and nothing is silently clamped or ignored.

use std::borrow::Cow;

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use serde::de::DeserializeOwned;
use serde_json::Value;
use utoipa::IntoParams;
use utoipa::openapi::path::{Parameter, ParameterIn};
use utoipa::openapi::schema::{KnownFormat, Schema, SchemaFormat, SchemaType, Type};
use utoipa::openapi::{RefOr, Required};

use super::error::{ApiError, FieldError};

/// How the message for a parameter the operation does not take begins.
pub const UNKNOWN_PARAMETER: &str = "is not a parameter of this request";

/// `Query<T>` with per-parameter errors; `T`'s parameters are the ones the document publishes.
pub struct ApiQuery<T>(pub T);

impl<S, T> FromRequestParts<S> for ApiQuery<T>
where
    S: Send + Sync,
    T: DeserializeOwned + IntoParams,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, ApiError> {
        let raw = parts.uri.query().unwrap_or_default().as_bytes();
        let params = T::into_params(|| Some(ParameterIn::Query));
        let pairs: Vec<(Cow<'_, str>, Cow<'_, str>)> = url::form_urlencoded::parse(raw).collect();
        let problems = check(&params, &pairs);
        if !problems.is_empty() {
            return Err(ApiError::Fields(problems));
        }
        // Whatever the schema cannot say still names its parameter.
        let de = serde_urlencoded::Deserializer::new(url::form_urlencoded::parse(raw));
        serde_path_to_error::deserialize(de)
            .map(ApiQuery)
            .map_err(|e| {
                let field = e.path().to_string();
                ApiError::Fields(vec![FieldError {
                    field: if field == "." { String::new() } else { field },
                    message: e.into_inner().to_string(),
                }])
            })
    }
}

/// Every unknown, repeated, missing, mistyped or out-of-range parameter.
fn check(params: &[Parameter], pairs: &[(Cow<'_, str>, Cow<'_, str>)]) -> Vec<FieldError> {
    let mut problems: Vec<FieldError> = Vec::new();
    let mut seen: Vec<&str> = Vec::new();
    let mut problem = |field: &str, message: String| {
        if !problems.iter().any(|p| p.field == field) {
            problems.push(FieldError {
                field: field.to_owned(),
                message,
            });
        }
    };
    for (name, value) in pairs {
        let Some(param) = params.iter().find(|p| p.name == *name) else {
            problem(name, UNKNOWN_PARAMETER.into());
            continue;
        };
        if seen.contains(&name.as_ref()) {
            problem(name, "appears more than once".into());
            continue;
        }
        seen.push(name);
        if let Some(RefOr::T(Schema::Object(schema))) = &param.schema
            && let Some(message) = outside(schema, value)
        {
            problem(name, message);
        }
    }
    for p in params {
        if matches!(p.required, Required::True) && !seen.contains(&p.name.as_str()) {
            problem(&p.name, "is required".into());
        }
    }
    problems
}

/// Why `value` is not one the schema allows, if it is not.
fn outside(schema: &utoipa::openapi::schema::Object, value: &str) -> Option<String> {
    if let Some(allowed) = &schema.enum_values {
        if allowed.iter().any(|a| a.as_str() == Some(value)) {
            return None;
        }
        let names: Vec<&str> = allowed.iter().filter_map(Value::as_str).collect();
        return Some(format!("must be one of: {}", names.join(", ")));
    }
    let ty = match &schema.schema_type {
        SchemaType::Type(t) => Some(t.clone()),
        SchemaType::Array(ts) => ts.iter().find(|t| **t != Type::Null).cloned(),
        SchemaType::AnyValue => None,
    };
    match ty {
        Some(Type::Integer) => integer(schema, value),
        Some(Type::Boolean) => {
            (value != "true" && value != "false").then(|| "must be true or false".to_owned())
        }
        Some(Type::String) if format(schema) == Some(KnownFormat::Uuid) => value
            .parse::<uuid::Uuid>()
            .is_err()
            .then(|| "must be a UUID".to_owned()),
        Some(Type::String) => {
            let n = value.chars().count();
            let too_short = schema.min_length.is_some_and(|min| n < min);
            let too_long = schema.max_length.is_some_and(|max| n > max);
            (too_short || too_long).then(|| match (schema.min_length, schema.max_length) {
                (Some(min), Some(max)) => format!("must be {min} to {max} characters long"),
                (Some(min), None) => format!("must be at least {min} characters long"),
                (_, max) => format!("must be at most {} characters long", max.unwrap_or(0)),
            })
        }
        _ => None,
    }
}

fn format(schema: &utoipa::openapi::schema::Object) -> Option<KnownFormat> {
    match &schema.format {
        Some(SchemaFormat::KnownFormat(f)) => Some(f.clone()),
        _ => None,
    }
}

/// An integer within the schema's bounds: `minimum`/`maximum` when given, else the range its
/// format (`int32`, `int64`) states.
fn integer(schema: &utoipa::openapi::schema::Object, value: &str) -> Option<String> {
    let (lo, hi) = match format(schema) {
        Some(KnownFormat::Int32) => (i128::from(i32::MIN), i128::from(i32::MAX)),
        _ => (i128::from(i64::MIN), i128::from(i64::MAX)),
    };
    let bound = |n: &Option<utoipa::Number>| match n {
        Some(utoipa::Number::Int(i)) => i128::try_from(*i).ok(),
        Some(utoipa::Number::UInt(u)) => i128::try_from(*u).ok(),
        // A fractional bound on an integer: its integer part, toward the inside of the range.
        Some(utoipa::Number::Float(f)) => Some(*f as i128),
        None => None,
    };
    let lo = bound(&schema.minimum).map_or(lo, |m| m.max(lo));
    let hi = bound(&schema.maximum).map_or(hi, |m| m.min(hi));
    match value.parse::<i128>() {
        Ok(n) if (lo..=hi).contains(&n) => None,
        _ => Some(format!("must be an integer from {lo} to {hi}")),
    }
}

#[cfg(test)]
mod tests {
    use serde::Deserialize;

    use super::*;

    #[derive(Deserialize, IntoParams, Debug)]
    #[into_params(parameter_in = Query)]
    #[allow(dead_code)]
    struct Params {
        #[param(minimum = 1, maximum = 1000)]
        limit: Option<u32>,
        offset: Option<u32>,
        organisation_id: Option<uuid::Uuid>,
        inline: Option<bool>,
    }

    fn problems(query: &str) -> Vec<(String, String)> {
        let params = Params::into_params(|| Some(ParameterIn::Query));
        let pairs: Vec<_> = url::form_urlencoded::parse(query.as_bytes()).collect();
        check(&params, &pairs)
            .into_iter()
            .map(|p| (p.field, p.message))
            .collect()
    }

    #[test]
    fn bounds_come_from_the_published_schema() {
        assert!(problems("limit=1&offset=0&inline=true").is_empty());
        assert!(problems("limit=1000&offset=2147483647").is_empty());
        assert_eq!(
            problems("limit=0"),
            vec![("limit".into(), "must be an integer from 1 to 1000".into())]
        );
        assert_eq!(
            problems("limit=1001")[0].1,
            "must be an integer from 1 to 1000"
        );
        // u32 is published as int32 from 0: what the document says, the server holds to.
        assert_eq!(
            problems("offset=2147483648"),
            vec![(
                "offset".into(),
                "must be an integer from 0 to 2147483647".into()
            )]
        );
        assert_eq!(problems("offset=-1")[0].0, "offset");
        assert_eq!(problems("offset=x")[0].0, "offset");
    }

    #[test]
    fn unknown_repeated_and_mistyped_parameters_are_each_named() {
        let got = problems("limit=5&limit=6&colour=red&organisation_id=nope&inline=yes");
        assert_eq!(
            got,
            vec![
                ("limit".into(), "appears more than once".into()),
                ("colour".into(), UNKNOWN_PARAMETER.into()),
                ("organisation_id".into(), "must be a UUID".into()),
                ("inline".into(), "must be true or false".into()),
            ]
        );
    }
}
