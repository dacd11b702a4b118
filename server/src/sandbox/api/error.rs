//! Zoho's error answers: a status, `{"errorCode","message",…}` and, for the rate limits, a
//! `Retry-After` header (docs/zoho-desk-api.md §5).

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::{json, Value};

/// A Zoho-shaped error answer: status, `{"errorCode","message",…}` and optional `Retry-After`.
#[derive(Debug)]
pub struct ApiError {
    status: StatusCode,
    body: Value,
    retry_after: Option<u64>,
}

impl ApiError {
    pub(super) fn new(status: StatusCode, code: &str, message: &str) -> Self {
        ApiError {
            status,
            body: json!({ "errorCode": code, "message": message }),
            retry_after: None,
        }
    }

    fn retry_after(mut self, secs: u64) -> Self {
        self.retry_after = Some(secs);
        self
    }

    pub(super) fn unauthorized() -> Self {
        Self::new(
            StatusCode::UNAUTHORIZED,
            "UNAUTHORIZED",
            "You are not authenticated to perform this operation.",
        )
    }

    pub(super) fn invalid_oauth() -> Self {
        Self::new(
            StatusCode::UNAUTHORIZED,
            "INVALID_OAUTH",
            "The OAuth Token you provided is invalid.",
        )
    }

    pub(super) fn org_mismatch() -> Self {
        Self::new(
            StatusCode::FORBIDDEN,
            "OAUTH_ORG_MISMATCH",
            "The OAuthToken is not valid for specified organization",
        )
    }

    pub(super) fn scope_mismatch() -> Self {
        Self::new(
            StatusCode::FORBIDDEN,
            "SCOPE_MISMATCH",
            "The OAuth scope of the token does not permit this operation.",
        )
    }

    /// 403 for call activities on an edition without them.
    pub(super) fn license_limited(edition: &str) -> Self {
        ApiError {
            status: StatusCode::FORBIDDEN,
            body: json!({
                "errorCode": "LICENSE_ACCESS_LIMITED",
                "message": "Your current edition does not support this feature. Please upgrade.",
                "feature": "Activities",
                "editionType": edition,
            }),
            retry_after: None,
        }
    }

    pub(super) fn not_found() -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            "URL_NOT_FOUND",
            "The URL you requested could not be found on the server.",
        )
    }

    pub(super) fn unprocessable(message: String) -> Self {
        Self::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "UNPROCESSABLE_ENTITY",
            &message,
        )
    }

    /// 422 `INVALID_DATA` listing each offending field.
    pub(super) fn invalid(errors: Vec<FieldError>) -> Self {
        ApiError {
            status: StatusCode::UNPROCESSABLE_ENTITY,
            body: json!({
                "errorCode": "INVALID_DATA",
                "message": "The data is invalid due to validation restrictions",
                "errors": errors.into_iter().map(|e| json!({
                    "fieldName": e.field,
                    "errorType": e.kind,
                    "errorMessage": e.message,
                })).collect::<Vec<_>>(),
            }),
            retry_after: None,
        }
    }

    /// 422 `INVALID_DATA` for one query parameter or header.
    pub(super) fn invalid_field(
        field: &str,
        kind: &'static str,
        message: impl Into<String>,
    ) -> Self {
        Self::invalid(vec![field_err(field, kind, message)])
    }

    pub(super) fn too_many(retry_after: u64) -> Self {
        Self::new(
            StatusCode::TOO_MANY_REQUESTS,
            "TOO_MANY_REQUESTS",
            "Too many requests. Please try again after some time.",
        )
        .retry_after(retry_after)
    }

    /// 429 when the org's daily credits are spent, until `wait` seconds from now.
    pub(super) fn threshold_exceeded(wait: u64) -> Self {
        Self::new(
            StatusCode::TOO_MANY_REQUESTS,
            "THRESHOLD_EXCEEDED",
            "The API credit limit of your organization for the day has been exceeded.",
        )
        .retry_after(wait)
    }

    pub(super) fn internal() -> Self {
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "INTERNAL_SERVER_ERROR",
            "An internal server error occurred while performing this operation.",
        )
    }

    pub(super) fn service_unavailable() -> Self {
        Self::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "SERVICE_UNAVAILABLE",
            "The service is temporarily unavailable.",
        )
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut r = (self.status, Json(self.body)).into_response();
        if let Some(secs) = self.retry_after {
            r.headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(secs));
        }
        r
    }
}

/// One entry of `INVALID_DATA`'s `errors[]`.
pub struct FieldError {
    /// The query parameter or header, or a JSON pointer into the body (`/lastName`).
    pub(super) field: String,
    kind: &'static str,
    message: String,
}

pub(super) fn field_err(field: &str, kind: &'static str, message: impl Into<String>) -> FieldError {
    FieldError {
        field: field.to_string(),
        kind,
        message: message.into(),
    }
}
