//! The record types the API serves (contacts, accounts, tickets, calls) and the answers built
//! from them: one record by id, a page of a list, a page of search hits with their total, and a
//! record just created.

use std::collections::BTreeMap;

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::{json, Value};
use time::OffsetDateTime;

use super::super::model::{Account, Agent, Call, Contact, RenderCtx, Ticket};
use super::super::state::{OrgData, State as SbState};
use super::super::views::View;
use super::super::Sandbox;
use super::error::ApiError;
use super::gate::Admitted;
use super::query::{paging, parse_id, query, Page, Params};

/// Where an org keeps a record type, by id.
pub(super) trait Kept: Sized {
    /// Its id's name in paths and errors (`contactId`).
    const ID_NAME: &'static str;

    fn id(&self) -> u64;

    fn all(o: &OrgData) -> &BTreeMap<u64, Self>;

    fn all_mut(o: &mut OrgData) -> &mut BTreeMap<u64, Self>;
}

/// Implements [`Kept`], one record type a line: `Type: map of OrgData, "idName";`.
macro_rules! kept {
    ($($record:ty: $map:ident, $id_name:literal;)*) => {$(
        impl Kept for $record {
            const ID_NAME: &'static str = $id_name;

            fn id(&self) -> u64 {
                self.id
            }

            fn all(o: &OrgData) -> &BTreeMap<u64, Self> {
                &o.$map
            }

            fn all_mut(o: &mut OrgData) -> &mut BTreeMap<u64, Self> {
                &mut o.$map
            }
        }
    )*};
}

kept! {
    Contact: contacts, "contactId";
    Account: accounts, "accountId";
    Ticket: tickets, "ticketId";
    Call: calls, "callId";
}

/// A record type the API answers with; each resource's module says how it sorts and renders.
pub(super) trait Record: Kept {
    /// When it was created: searches find it `indexing_delay_secs` later.
    fn created_at(&self) -> OffsetDateTime;

    /// What `sortBy=<field>` sorts by; `None` for the fields it does not sort by, which leave
    /// records in their order by id.
    fn sort_key(&self, _field: &str) -> Option<String> {
        None
    }

    /// The whole record with its related objects, before a view cuts it.
    fn full_json(&self, ctx: &RenderCtx, o: &OrgData) -> Value;

    /// The record as `view` shows it.
    fn render(&self, sb: &Sandbox, o: &OrgData, view: View) -> Value {
        let desk = sb.record_base();
        let ctx = RenderCtx {
            desk_base: &desk,
            portal: &o.org.portal_name,
        };
        view.pick(self.full_json(&ctx, o))
    }
}

/// `createdTime` and `modifiedTime` as sort keys, for records that keep both.
pub(super) fn time_key(
    field: &str,
    created: Option<OffsetDateTime>,
    modified: Option<OffsetDateTime>,
) -> Option<String> {
    let t = match field {
        "createdTime" => created,
        "modifiedTime" => modified.or(created),
        _ => None,
    };
    t.map(|t| t.unix_timestamp().to_string())
}

/// The agent an owner or assignee id names, if any.
pub(super) fn agent(o: &OrgData, id: Option<u64>) -> Option<&Agent> {
    id.and_then(|id| o.agent(id))
}

pub(super) fn account_ref(o: &OrgData, id: Option<u64>) -> Value {
    id.and_then(|id| o.accounts.get(&id))
        .map(|a| json!({"id": a.id.to_string(), "accountName": a.account_name, "website": a.website}))
        .unwrap_or(Value::Null)
}

/// A ticket's or a call's related objects, from the ids it links to (agent, department,
/// contact): `assignee` (the 6-field agent object), `department` (id and name) and `contact`
/// (its names, e-mail and numbers, with the fields `extra` adds).
pub(super) fn activity_json(
    mut v: Value,
    o: &OrgData,
    (assignee, department, contact): (Option<u64>, u64, u64),
    extra: impl Fn(&Contact) -> Value,
) -> Value {
    v["assignee"] = agent(o, assignee)
        .map(Agent::owner_json)
        .unwrap_or(Value::Null);
    v["department"] = o
        .department(department)
        .map(|d| json!({"id": d.id.to_string(), "name": d.name}))
        .unwrap_or(Value::Null);
    v["contact"] = o
        .contacts
        .get(&contact)
        .map(|c| {
            let mut summary = json!({
                "id": c.id.to_string(), "firstName": c.first_name, "lastName": c.last_name,
                "email": c.email, "phone": c.phone, "mobile": c.mobile,
            });
            if let (Value::Object(summary), Value::Object(extra)) = (&mut summary, extra(c)) {
                summary.extend(extra);
            }
            summary
        })
        .unwrap_or(Value::Null);
    v
}

/// Whether a record created at `created` is in the search index yet.
pub(super) fn indexed(st: &SbState, created: OffsetDateTime) -> bool {
    created + time::Duration::seconds(st.settings.indexing_delay_secs as i64) <= st.now()
}

/// Sorts by a Zoho `sortBy` value (`field` or `-field`), given a key function per field.
fn sort_by<T>(items: &mut [&T], sort: Option<&String>, key: impl Fn(&T, &str) -> Option<String>) {
    if let Some(s) = sort {
        let (desc, field) = match s.strip_prefix('-') {
            Some(f) => (true, f),
            None => (false, s.as_str()),
        };
        if field == "relevance" {
            return;
        }
        items.sort_by(|a, b| {
            let o = key(a, field).cmp(&key(b, field));
            if desc {
                o.reverse()
            } else {
                o
            }
        });
    }
}

/// The org's records that `keep` accepts, sorted by the `sortBy` parameter.
fn sorted<'o, R: Record>(o: &'o OrgData, q: &Params, keep: impl Fn(&R) -> bool) -> Vec<&'o R> {
    let mut items: Vec<&R> = R::all(o).values().filter(|r| keep(r)).collect();
    sort_by(&mut items, q.get("sortBy"), R::sort_key);
    items
}

fn rendered<R: Record>(sb: &Sandbox, o: &OrgData, items: Vec<&R>, view: View) -> Vec<Value> {
    items.into_iter().map(|r| r.render(sb, o, view)).collect()
}

/// `GET /…/{id}`: checks the query against `allowed`, reads the id, and answers what `find`
/// makes of it, or 404.
pub(super) fn get_one(
    a: &Admitted,
    q: Option<String>,
    allowed: &[&str],
    raw_id: &str,
    id_name: &str,
    find: impl FnOnce(&SbState, u64) -> Option<Value>,
) -> Result<Response, ApiError> {
    query(q, allowed)?;
    let id = parse_id(raw_id, id_name)?;
    let v = find(&a.lock(), id).ok_or_else(ApiError::not_found)?;
    Ok(Json(v).into_response())
}

/// `GET /<records>/{id}` (`?include=` allowed): the org's record in `view`, or 404.
pub(super) fn get_record<R: Record>(
    a: &Admitted,
    q: Option<String>,
    raw_id: &str,
    view: View,
) -> Result<Response, ApiError> {
    get_one(a, q, &["include"], raw_id, R::ID_NAME, |st, id| {
        let o = a.org(st);
        R::all(o).get(&id).map(|r| r.render(a.sandbox(), o, view))
    })
}

/// `/<records>/{id}/…`: the id of one of the org's records (404 when there is none), whose
/// related records are listed.
pub(super) fn existing<R: Record>(
    a: &Admitted,
    st: &SbState,
    raw_id: &str,
) -> Result<u64, ApiError> {
    let id = parse_id(raw_id, R::ID_NAME)?;
    if R::all(a.org(st)).contains_key(&id) {
        Ok(id)
    } else {
        Err(ApiError::not_found())
    }
}

/// A list answer: `{"data":[…]}`, or 204 with no body when empty (Zoho's behaviour).
pub(super) fn list(items: Vec<Value>) -> Response {
    if items.is_empty() {
        StatusCode::NO_CONTENT.into_response()
    } else {
        Json(json!({ "data": items })).into_response()
    }
}

/// A list answer of one page of records, each in `view`.
pub(super) fn list_page<R: Record>(
    sb: &Sandbox,
    o: &OrgData,
    items: Vec<&R>,
    page: Page,
    view: View,
) -> Response {
    list(rendered(sb, o, page.of(items), view))
}

/// A list of every record of the org, sorted by `sortBy`.
pub(super) fn list_records<R: Record>(
    a: &Admitted,
    q: &Params,
    page: Page,
    view: View,
) -> Response {
    let st = a.lock();
    let o = a.org(&st);
    list_page(a.sandbox(), o, sorted(o, q, |_: &R| true), page, view)
}

/// A search answer: the org's records in the search index that `hit` accepts, sorted by
/// `sortBy`; one page of them in `view` with their total, `{"data":[…],"count":n}`, or 204.
pub(super) fn search_hits<R: Record>(
    a: &Admitted,
    q: &Params,
    page: Page,
    view: View,
    hit: impl Fn(&Params, &OrgData, &R) -> bool,
) -> Response {
    let st = a.lock();
    let o = a.org(&st);
    let hits = sorted(o, q, |r: &R| indexed(&st, r.created_at()) && hit(q, o, r));
    let total = hits.len();
    let items = rendered(a.sandbox(), o, page.of(hits), view);
    if items.is_empty() {
        StatusCode::NO_CONTENT.into_response()
    } else {
        Json(json!({ "data": items, "count": total })).into_response()
    }
}

/// `GET /<records>/search` with the parameters `allowed` (at most 100 hits a page).
pub(super) fn search_records<R: Record>(
    a: &Admitted,
    q: Option<String>,
    allowed: &[&str],
    view: View,
    hit: impl Fn(&Params, &OrgData, &R) -> bool,
) -> Result<Response, ApiError> {
    let q = query(q, allowed)?;
    let page = paging(&q, 100)?;
    Ok(search_hits(a, &q, page, view, hit))
}

/// A `POST`'s answer: the new record kept in the org and returned in `view`.
pub(super) fn store<R: Record>(a: &Admitted, st: &mut SbState, record: R, view: View) -> Response {
    let id = record.id();
    R::all_mut(st.org_mut(a.org_id).expect("gate checked the org")).insert(id, record);
    let o = a.org(st);
    Json(R::all(o)[&id].render(a.sandbox(), o, view)).into_response()
}
