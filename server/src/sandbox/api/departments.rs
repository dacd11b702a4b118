//! The org's departments: list (by name, paged) and one by id.

use axum::extract::{Path, RawQuery};
use axum::response::Response;
use axum::routing::get;
use axum::Router;

use super::super::model::Department;
use super::super::SharedSandbox;
use super::error::ApiError;
use super::gate::{operations, Feature, Gated, OrgNeed, SETTINGS_READ};
use super::query::{matches, paging, query};
use super::records::{get_one, list};

operations! {
    ListDepartments: "GET /departments", SETTINGS_READ, OrgNeed::Required, Feature::Any;
    GetDepartment: "GET /departments/{id}", SETTINGS_READ, OrgNeed::Required, Feature::Any;
}

pub(super) fn router() -> Router<SharedSandbox> {
    Router::new()
        .route("/departments", get(list_departments))
        .route("/departments/{id}", get(get_department))
}

async fn list_departments(
    a: Gated<ListDepartments>,
    RawQuery(q): RawQuery,
) -> Result<Response, ApiError> {
    let q = query(
        q,
        &["isEnabled", "from", "limit", "searchStr", "chatStatus"],
    )?;
    let page = paging(&q, 200)?;
    let st = a.lock();
    let items = a
        .org(&st)
        .departments
        .iter()
        .filter(|d| q.get("searchStr").is_none_or(|s| matches(s, Some(&d.name))))
        .map(Department::to_json)
        .collect();
    Ok(list(page.of(items)))
}

async fn get_department(
    Path(id): Path<String>,
    a: Gated<GetDepartment>,
    RawQuery(q): RawQuery,
) -> Result<Response, ApiError> {
    get_one(&a, q, &[], &id, "departmentId", |st, id| {
        a.org(st).department(id).map(Department::to_json)
    })
}
