//! The org's agents: list (filtered, paged), count, one by id.

use axum::extract::{Path, RawQuery};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde_json::json;

use super::super::model::Agent;
use super::super::views;
use super::super::SharedSandbox;
use super::error::ApiError;
use super::gate::{operations, Feature, Gated, OrgNeed, SETTINGS_READ};
use super::query::{matches, paging, query, Params};
use super::records::{get_one, list};

operations! {
    ListAgents: "GET /agents", SETTINGS_READ, OrgNeed::Required, Feature::Any;
    CountAgents: "GET /agents/count", SETTINGS_READ, OrgNeed::Required, Feature::Any;
    GetAgent: "GET /agents/{id}", SETTINGS_READ, OrgNeed::Required, Feature::Any;
}

pub(super) fn router() -> Router<SharedSandbox> {
    Router::new()
        .route("/agents", get(list_agents))
        .route("/agents/count", get(count_agents))
        .route("/agents/{id}", get(get_agent))
}

/// The `status` parameter: `ACTIVE` or `DISABLED`, as whether the agents counted are active.
fn wanted_status(q: &Params) -> Result<Option<bool>, ApiError> {
    match q.get("status").map(String::as_str) {
        None => Ok(None),
        Some("ACTIVE") => Ok(Some(true)),
        Some("DISABLED") => Ok(Some(false)),
        Some(_) => Err(ApiError::invalid_field(
            "status",
            "invalid",
            "status must be ACTIVE or DISABLED",
        )),
    }
}

fn has_status(ag: &Agent, active: Option<bool>) -> bool {
    active.is_none_or(|a| ag.active == a)
}

async fn list_agents(a: Gated<ListAgents>, RawQuery(q): RawQuery) -> Result<Response, ApiError> {
    let q = query(
        q,
        &[
            "include",
            "roleIds",
            "searchStr",
            "limit",
            "rolePermissionType",
            "profileIds",
            "from",
            "isConfirmed",
            "departmentIds",
            "status",
            "fieldName",
            "sortOrder",
            "isLightAgent",
        ],
    )?;
    let page = paging(&q, 200)?;
    let active = wanted_status(&q)?;
    let st = a.lock();
    let items = a
        .org(&st)
        .agents
        .iter()
        .filter(|ag| has_status(ag, active))
        .filter(|ag| {
            q.get("searchStr")
                .is_none_or(|s| matches(s, Some(&ag.name())) || matches(s, Some(&ag.email)))
        })
        .filter(|ag| {
            q.get("departmentIds").is_none_or(|ids| {
                ids.split(',')
                    .filter_map(|i| i.trim().parse::<u64>().ok())
                    .any(|d| ag.department_ids.contains(&d))
            })
        })
        .map(|ag| views::AGENT_LIST.pick(ag.to_json()))
        .collect();
    Ok(list(page.of(items)))
}

/// `GET /agents/count`: `{"count": n}` (the response schema lives in a Zoho file we do not
/// have; the shape is the one Zoho's other count endpoints answer).
async fn count_agents(a: Gated<CountAgents>, RawQuery(q): RawQuery) -> Result<Response, ApiError> {
    let q = query(q, &["isConfirmed", "includeLightAgent", "status"])?;
    let active = wanted_status(&q)?;
    let st = a.lock();
    let n = a
        .org(&st)
        .agents
        .iter()
        .filter(|ag| has_status(ag, active))
        .count();
    Ok(Json(json!({ "count": n })).into_response())
}

async fn get_agent(
    Path(id): Path<String>,
    a: Gated<GetAgent>,
    RawQuery(q): RawQuery,
) -> Result<Response, ApiError> {
    get_one(&a, q, &["include"], &id, "agentId", |st, id| {
        let ag = a.org(st).agent(id)?;
        Some(views::AGENT_GET.pick(ag.to_json()))
    })
}
