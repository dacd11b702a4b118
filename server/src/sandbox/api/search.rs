//! `GET /search`: full-text search across contacts, accounts and tickets, with a count per
//! module. A module is searched only when the token may read it.

use axum::extract::RawQuery;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde_json::{json, Map, Value};

use super::super::model::{Account, Contact, Ticket};
use super::super::state::{OrgData, State as SbState};
use super::super::views::{self, View};
use super::super::{Sandbox, SharedSandbox};
use super::error::ApiError;
use super::gate::{operations, Feature, Gated, OrgNeed, CONTACTS_READ, SEARCH_READ, TICKETS_READ};
use super::query::{has_words, paging, query};
use super::records::{indexed, Record};

operations! {
    SearchAll: "GET /search", SEARCH_READ, OrgNeed::Required, Feature::Any;
}

pub(super) fn router() -> Router<SharedSandbox> {
    Router::new().route("/search", get(search_all))
}

/// The hits of a search so far, module by module.
struct Hits<'a> {
    sb: &'a Sandbox,
    st: &'a SbState,
    o: &'a OrgData,
    data: Vec<Value>,
    counts: Map<String, Value>,
}

impl Hits<'_> {
    /// Adds a module's records in the search index that `hit` accepts, in `view` and tagged
    /// with the module, and their count when there are any.
    fn add<R: Record>(&mut self, module: &str, view: View, hit: impl Fn(&R) -> bool) {
        let found: Vec<Value> = R::all(self.o)
            .values()
            .filter(|r| indexed(self.st, r.created_at()))
            .filter(|r| hit(r))
            .map(|r| {
                let mut v = r.render(self.sb, self.o, view);
                v["module"] = json!(module);
                v
            })
            .collect();
        if !found.is_empty() {
            self.counts.insert(module.into(), json!(found.len()));
        }
        self.data.extend(found);
    }
}

async fn search_all(a: Gated<SearchAll>, RawQuery(q): RawQuery) -> Result<Response, ApiError> {
    let q = query(
        q,
        &[
            "searchStr",
            "module",
            "departmentId",
            "limit",
            "from",
            "sortBy",
        ],
    )?;
    let page = paging(&q, 100)?;
    let needle = match q
        .get("searchStr")
        .map(|s| s.trim().trim_matches('*').to_lowercase())
    {
        Some(s) if !s.is_empty() && s.chars().count() <= 100 => s,
        _ => {
            return Err(ApiError::invalid_field(
                "searchStr",
                "missing",
                "searchStr is required (at most 100 characters)",
            ))
        }
    };
    let module = q.get("module").map(String::as_str);
    if let Some(m) = module {
        if !["tickets", "contacts", "accounts", "tasks"].contains(&m) {
            return Err(ApiError::invalid_field(
                "module",
                "invalid",
                "unknown module",
            ));
        }
    }
    let want = |m: &str| module.is_none_or(|x| x == m);
    let has = |v: &[Option<&str>]| v.iter().flatten().any(|s| has_words(s, &needle));
    let st = a.lock();
    let mut hits = Hits {
        sb: a.sandbox(),
        st: &st,
        o: a.org(&st),
        data: Vec::new(),
        counts: Map::new(),
    };
    if want("contacts") && a.can(CONTACTS_READ) {
        hits.add("contacts", views::CONTACT_SEARCH, |c: &Contact| {
            has(&[
                Some(&c.full_name()),
                c.email.as_deref(),
                c.phone.as_deref(),
                c.mobile.as_deref(),
            ])
        });
    }
    if want("accounts") && a.can(CONTACTS_READ) {
        hits.add("accounts", views::ACCOUNT_SEARCH, |acc: &Account| {
            has(&[
                Some(&acc.account_name),
                acc.phone.as_deref(),
                acc.email.as_deref(),
            ])
        });
    }
    if want("tickets") && a.can(TICKETS_READ) {
        hits.add("tickets", views::TICKET_SEARCH, |t: &Ticket| {
            has(&[
                Some(&t.subject),
                t.description.as_deref(),
                Some(&t.number.to_string()),
            ])
        });
    }
    if hits.data.is_empty() {
        return Ok(StatusCode::NO_CONTENT.into_response());
    }
    let out = page.of(hits.data);
    Ok(Json(json!({ "data": out, "count": hits.counts })).into_response())
}
