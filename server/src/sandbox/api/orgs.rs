//! The user's organizations (`/organizations`, `/accessibleOrganizations`, no `orgId` header)
//! and the signed-in agent in one org (`/myinfo`).

use axum::extract::{Path, RawQuery};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde_json::Value;

use super::super::state::{OrgData, State as SbState};
use super::super::views;
use super::super::SharedSandbox;
use super::error::ApiError;
use super::gate::{operations, Admitted, Feature, Gated, OrgNeed, SETTINGS_READ};
use super::query::query;
use super::records::{get_one, list};

operations! {
    ListOrgs: "GET /organizations", SETTINGS_READ, OrgNeed::None, Feature::Any;
    GetOrg: "GET /organizations/{id}", SETTINGS_READ, OrgNeed::None, Feature::Any;
    AccessibleOrgs: "GET /accessibleOrganizations", SETTINGS_READ, OrgNeed::None, Feature::Any;
    MyInfo: "GET /myinfo", SETTINGS_READ, OrgNeed::Required, Feature::Any;
}

pub(super) fn router() -> Router<SharedSandbox> {
    Router::new()
        .route("/organizations", get(list_orgs))
        .route("/organizations/{id}", get(get_org))
        .route("/accessibleOrganizations", get(accessible_orgs))
        .route("/myinfo", get(my_info))
}

/// An org as the consenting user sees it: `isAdminInOrg` from that user's agent in the org.
fn org_json(st: &SbState, o: &OrgData, desk: &str) -> Value {
    let email = &st.admin_agent().email;
    let admin = o.agents.iter().any(|x| &x.email == email && x.admin);
    o.org.to_json(desk, admin)
}

/// The user's organizations that `keep` accepts (by id).
fn org_list(
    a: &Admitted,
    q: Option<String>,
    keep: impl Fn(u64) -> bool,
) -> Result<Response, ApiError> {
    query(q, &[])?;
    let st = a.lock();
    let desk = a.sandbox().config().desk_url();
    Ok(list(
        st.orgs
            .iter()
            .filter(|o| keep(o.org.id))
            .map(|o| org_json(&st, o, &desk))
            .collect(),
    ))
}

async fn list_orgs(a: Gated<ListOrgs>, RawQuery(q): RawQuery) -> Result<Response, ApiError> {
    org_list(&a, q, |_| true)
}

/// The organizations this token reaches (those chosen at consent); `/organizations` lists
/// every organization of the user.
async fn accessible_orgs(
    a: Gated<AccessibleOrgs>,
    RawQuery(q): RawQuery,
) -> Result<Response, ApiError> {
    org_list(&a, q, |id| a.orgs.contains(&id))
}

async fn get_org(
    Path(id): Path<String>,
    a: Gated<GetOrg>,
    RawQuery(q): RawQuery,
) -> Result<Response, ApiError> {
    let desk = a.sandbox().config().desk_url();
    get_one(&a, q, &[], &id, "organizationId", |st, id| {
        st.org(id).map(|o| org_json(st, o, &desk))
    })
}

async fn my_info(a: Gated<MyInfo>, RawQuery(q): RawQuery) -> Result<Response, ApiError> {
    query(q, &["include"])?;
    let st = a.lock();
    let admin = st.admin_agent().clone();
    let me = a
        .org(&st)
        .agents
        .iter()
        .find(|x| x.email == admin.email)
        .unwrap_or(&admin);
    Ok(Json(views::AGENT_LIST.pick(me.to_json())).into_response())
}
