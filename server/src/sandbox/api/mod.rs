//! The sandbox's Desk API v1 (`/sandbox/desk/api/v1`), in Zoho's shapes and with Zoho's errors
//! (docs/zoho-desk-api.md §3–§5):
//! - `Authorization: Zoho-oauthtoken …` → 401 `UNAUTHORIZED` when missing, `INVALID_OAUTH` when
//!   unknown, expired or revoked; `orgId` header → 403 `OAUTH_ORG_MISMATCH` for an org the token
//!   cannot reach; scopes granted at consent → 403 `SCOPE_MISMATCH`;
//! - 422 `INVALID_DATA` with `errors[]` (JSON-pointer `fieldName`, `errorType`), 422
//!   `UNPROCESSABLE_ENTITY` for undocumented query parameters and body keys;
//! - 404 `URL_NOT_FOUND`, 204 on empty lists and searches, 429 `TOO_MANY_REQUESTS` (bursts,
//!   concurrency) and `THRESHOLD_EXCEEDED` (daily credits), 403 `LICENSE_ACCESS_LIMITED` for call
//!   activities on the FREE edition, and the fault switches of `/sandbox/control`.
//!
//! One module per resource, each with its routes. Every handler names its operation in its
//! signature (`Gated<ListContacts>`): the [`gate`] runs before the handler, counting the request
//! and checking faults, token, org, scopes, edition and credits. The shared parts: [`error`]
//! (Zoho's error bodies), [`query`] (query strings, paging, search matching), [`records`] (the
//! record types and the answers built from them: one record, lists, searches, a created record)
//! and [`body`] (reading and validating `POST` bodies).

mod accounts;
mod agents;
mod body;
mod calls;
mod contacts;
mod departments;
mod error;
mod gate;
mod orgs;
mod query;
mod records;
mod search;
mod tickets;

use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::any;
use axum::Router;

use super::SharedSandbox;
use error::ApiError;

pub fn router() -> Router<SharedSandbox> {
    Router::new()
        .merge(orgs::router())
        .merge(agents::router())
        .merge(departments::router())
        .merge(contacts::router())
        .merge(accounts::router())
        .merge(search::router())
        .merge(tickets::router())
        .merge(calls::router())
        // Zoho's 404 body for any other path under the API root.
        .route("/{*rest}", any(not_found))
        .method_not_allowed_fallback(method_not_allowed)
}

async fn method_not_allowed(State(sb): State<SharedSandbox>) -> ApiError {
    sb.lock().stats.total += 1;
    ApiError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        "METHOD_NOT_ALLOWED",
        "The HTTP method is not allowed for the requested URL.",
    )
}

async fn not_found(State(sb): State<SharedSandbox>) -> ApiError {
    sb.lock().stats.total += 1;
    ApiError::not_found()
}
