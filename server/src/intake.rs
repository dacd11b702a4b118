//! The call-event intake (`docs/call-events.md`): `POST /api/pbx/call-events` (native)
//! and `POST /api/pbx/yeastar-events` (the vendor's OpenAPI webhook: `?token=<webhook
//! secret>`, or the PBX's own `X-Signature` once its webhook secret is saved on the PBX page). Order of checks: size
//! (413), credential (401), parse (400, naming the field), store (503 if the database cannot
//! take it, so that the PBX retries); 200 only once the events are stored.

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{DefaultBodyLimit, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::json;

use app::engine::calls::event::ParseError;
use app::engine::calls::{Accepted, IntakeCredential, IntakeFormat, Refusal};
use app::engine::SharedEngine;

/// Bodies above this are refused before they are read in full.
pub const MAX_BODY: usize = 256 * 1024;

pub const NATIVE_PATH: &str = "/api/pbx/call-events";
pub const YEASTAR_PATH: &str = app::engine::pbx_connection::YEASTAR_EVENTS_PATH;

pub fn is_intake(path: &str) -> bool {
    path == NATIVE_PATH || path == YEASTAR_PATH
}

pub fn router<S: Clone + Send + Sync + 'static>(engine: SharedEngine) -> Router<S> {
    Router::new()
        .route(NATIVE_PATH, post(native))
        .route(YEASTAR_PATH, post(yeastar))
        .layer(DefaultBodyLimit::max(MAX_BODY))
        .with_state(engine)
}

fn refuse(status: StatusCode, error: &str, field: Option<&str>) -> Response {
    let mut body = json!({ "error": error });
    if let Some(f) = field {
        body["field"] = f.into();
    }
    (status, Json(body)).into_response()
}

fn bad_request(e: ParseError) -> Response {
    refuse(
        StatusCode::BAD_REQUEST,
        &format!("{}: {}", e.field, e.problem),
        Some(&e.field),
    )
}

fn unreadable(r: BytesRejection) -> Response {
    if r.status() == StatusCode::PAYLOAD_TOO_LARGE {
        refuse(
            StatusCode::PAYLOAD_TOO_LARGE,
            &format!("the body is larger than {} KiB", MAX_BODY / 1024),
            None,
        )
    } else {
        refuse(StatusCode::BAD_REQUEST, "the body could not be read", None)
    }
}

fn credential<'a>(headers: &'a HeaderMap, token: Option<&'a str>) -> IntakeCredential<'a> {
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    if let Some(sig) = header("x-helpdesk-signature") {
        IntakeCredential::Signature(sig)
    } else if let Some(b) = header("authorization").and_then(|a| a.strip_prefix("Bearer ")) {
        IntakeCredential::Bearer(b)
    } else if let Some(t) = token {
        IntakeCredential::Token(t)
    } else if let Some(sig) = header("x-signature") {
        IntakeCredential::PbxSignature(sig)
    } else {
        IntakeCredential::None
    }
}

fn unauthorized(format: IntakeFormat) -> Response {
    refuse(
        StatusCode::UNAUTHORIZED,
        match format {
            IntakeFormat::Native => "missing or wrong credential: sign the body (X-Helpdesk-Signature: sha256=<hex HMAC-SHA256>) or send Authorization: Bearer <webhook secret>",
            IntakeFormat::Yeastar => "missing or wrong credential: add ?token=<webhook secret> to the webhook's URL, or save the PBX's webhook secret on the PBX connection page so that its X-Signature is checked",
        },
        None,
    )
}

/// The answer to an intake request: the engine's verdict in HTTP words.
async fn answer(
    engine: &SharedEngine,
    format: IntakeFormat,
    credential: IntakeCredential<'_>,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    let body = match body {
        Ok(b) => b,
        Err(r) => return unreadable(r),
    };
    match engine
        .intake
        .accept(engine, format, credential, &body)
        .await
    {
        Ok(Accepted::Stored(r)) => (
            StatusCode::OK,
            Json(json!({ "stored": r.stored, "duplicates": r.duplicates })),
        )
            .into_response(),
        Ok(Accepted::Ignored { event_type }) => {
            (StatusCode::OK, Json(json!({ "ignored": event_type }))).into_response()
        }
        Ok(Accepted::Failed { call_id }) => {
            (StatusCode::OK, Json(json!({ "failed": call_id }))).into_response()
        }
        Ok(Accepted::Phone { extension }) => {
            (StatusCode::OK, Json(json!({ "phone": extension }))).into_response()
        }
        Err(Refusal::Unauthorized) => unauthorized(format),
        Err(Refusal::Invalid(e)) => bad_request(e),
        Err(Refusal::Unavailable(e)) => {
            tracing::error!(error = %e, "call events could not be stored");
            refuse(
                StatusCode::SERVICE_UNAVAILABLE,
                "the events could not be stored; send them again",
                None,
            )
        }
    }
}

/// Counts a request by format and outcome for `/metrics`.
fn counted(engine: &SharedEngine, format: IntakeFormat, resp: Response) -> Response {
    let outcome = match resp.status() {
        StatusCode::OK => "accepted",
        StatusCode::UNAUTHORIZED => "unauthorized",
        StatusCode::PAYLOAD_TOO_LARGE => "too_large",
        StatusCode::SERVICE_UNAVAILABLE => "unavailable",
        _ => "invalid",
    };
    engine.metrics.inc(
        "helpdesk_intake_requests_total",
        &[("format", format.as_str()), ("outcome", outcome)],
    );
    resp
}

async fn native(
    State(engine): State<SharedEngine>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    let format = IntakeFormat::Native;
    let resp = answer(&engine, format, credential(&headers, None), body).await;
    counted(&engine, format, resp)
}

#[derive(Deserialize)]
struct TokenQuery {
    token: Option<String>,
}

async fn yeastar(
    State(engine): State<SharedEngine>,
    headers: HeaderMap,
    Query(q): Query<TokenQuery>,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    let format = IntakeFormat::Yeastar;
    let resp = answer(
        &engine,
        format,
        credential(&headers, q.token.as_deref()),
        body,
    )
    .await;
    counted(&engine, format, resp)
}
