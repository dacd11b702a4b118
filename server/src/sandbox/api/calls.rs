//! Call activities: create, one by id, lists (all, a contact's, a ticket's), search. Not on the
//! FREE and EXPRESS editions (403 `LICENSE_ACCESS_LIMITED`, from the gate).

use axum::extract::{Path, RawQuery};
use axum::response::Response;
use axum::routing::get;
use axum::Router;
use serde_json::{json, Value};
use time::OffsetDateTime;

use super::super::model::{parse_zoho_time, Call, Contact, RenderCtx, Ticket};
use super::super::state::OrgData;
use super::super::views;
use super::super::{Sandbox, SharedSandbox};
use super::body::Posted;
use super::error::ApiError;
use super::gate::{operations, Feature, Gated, OrgNeed, CALLS_CREATE, CALLS_READ, CALLS_SEARCH};
use super::query::{is_id, paging, parse_id, query, search_hit, Params};
use super::records::{activity_json, existing, get_record, list_page, search_hits, store, Record};

operations! {
    CreateCall: "POST /calls", CALLS_CREATE, OrgNeed::Required, Feature::Calls;
    ListCalls: "GET /calls", CALLS_READ, OrgNeed::Required, Feature::Calls;
    ContactCalls: "GET /contacts/{id}/calls", CALLS_READ, OrgNeed::Required, Feature::Calls;
    TicketCalls: "GET /tickets/{id}/calls", CALLS_READ, OrgNeed::Required, Feature::Calls;
    GetCall: "GET /calls/{id}", CALLS_READ, OrgNeed::Required, Feature::Calls;
    SearchCalls: "GET /calls/search", CALLS_SEARCH, OrgNeed::Required, Feature::Calls;
}

pub(super) fn router() -> Router<SharedSandbox> {
    Router::new()
        .route("/contacts/{id}/calls", get(contact_calls))
        .route("/tickets/{id}/calls", get(ticket_calls))
        .route("/calls", get(list_calls).post(create_call))
        .route("/calls/search", get(search_calls))
        .route("/calls/{id}", get(get_call))
}

impl Record for Call {
    fn created_at(&self) -> OffsetDateTime {
        self.created
    }

    /// With the owner as `assignee`, `department`, `contact` (with its account's id), and no
    /// ticket.
    fn full_json(&self, ctx: &RenderCtx, o: &OrgData) -> Value {
        let links = (self.owner_id, self.department_id, self.contact_id);
        let mut v = activity_json(
            self.to_json(ctx),
            o,
            links,
            |c| json!({"isSpam": false, "accountId": c.account_id.map(|a| a.to_string()), "secId": null}),
        );
        v["ticket"] = Value::Null;
        v
    }
}

/// Body keys `POST /calls` accepts.
const BODY_KEYS: &[&str] = &[
    "subject",
    "departmentId",
    "contactId",
    "ticketId",
    "direction",
    "startTime",
    "duration",
    "status",
    "ownerId",
    "priority",
    "description",
    "reminder",
    "cf",
    "customFields",
    "layoutId",
];

const STATUSES: &[&str] = &[
    "Completed",
    "Scheduled",
    "Missed",
    "Canceled",
    "In Progress",
];

async fn create_call(a: Gated<CreateCall>, post: Posted) -> Result<Response, ApiError> {
    let mut b = post.body(BODY_KEYS)?;
    let subject = b.req_str("subject", 300);
    let department_id = b.req_id("departmentId");
    let contact_id = b.req_id("contactId");
    let ticket_id = b.opt_id("ticketId");
    let owner_id = b.opt_id("ownerId");
    let direction = b.req_str("direction", 20);
    b.check_in(
        "direction",
        direction.as_deref(),
        &["inbound", "outbound"],
        "direction must be inbound or outbound",
    );
    let start = b.req_str("startTime", 100).and_then(|s| {
        parse_zoho_time(&s).or_else(|| {
            b.error(
                "startTime",
                "invalid",
                "startTime must be yyyy-MM-ddThh:mm:ss.SSSZ",
            );
            None
        })
    });
    let duration = match b.get("duration") {
        None | Some(Value::Null) => {
            b.error("duration", "missing", "duration is required");
            None
        }
        Some(v) => {
            let secs = match v {
                Value::Number(n) => n.as_u64(),
                Value::String(s) => s.parse::<u64>().ok(),
                _ => None,
            };
            if secs.is_none() {
                b.error(
                    "duration",
                    "invalid",
                    "duration must be a whole number of seconds",
                );
            }
            secs
        }
    };
    let status = b.req_str("status", 100);
    b.check_in(
        "status",
        status.as_deref(),
        STATUSES,
        "status must be one of Completed, Scheduled, Missed, Canceled, In Progress",
    );
    let priority = b.opt_str("priority", 120);
    let description = b.opt_str("description", 65535);
    let mut st = a.lock();
    {
        let o = a.org(&st);
        b.check_department(o, department_id);
        b.check_contact(o, contact_id);
        b.check_ref(
            "ticketId",
            ticket_id,
            |t| o.tickets.contains_key(&t),
            "a ticket",
        );
        // Like a ticket's assignee, a call's owner must be an active agent of its department.
        b.check_agent(o, "ownerId", owner_id, Some(department_id));
    }
    b.finish()?;
    let now = st.now();
    let c = Call {
        id: st.new_id(),
        subject: subject.expect("validated"),
        department_id: department_id.expect("validated"),
        contact_id: contact_id.expect("validated"),
        ticket_id,
        owner_id,
        direction: direction.expect("validated"),
        start: start.expect("validated"),
        duration: duration.expect("validated"),
        status: status.expect("validated"),
        priority,
        description,
        created: now,
        creator_id: st.admin_agent_id,
    };
    Ok(store(&a, &mut st, c, views::CALL_GET))
}

/// A page of the org's calls that `filter` keeps, narrowed by `departmentId` and
/// `isCompleted`, by start time (by creation with `sortBy=createdTime`).
fn call_list(
    sb: &Sandbox,
    o: &OrgData,
    q: &Params,
    filter: impl Fn(&Call) -> bool,
) -> Result<Response, ApiError> {
    let page = paging(q, 99)?;
    let dept = q
        .get("departmentId")
        .map(|d| parse_id(d, "departmentId"))
        .transpose()?;
    let mut items: Vec<&Call> = o
        .calls
        .values()
        .filter(|c| dept.is_none_or(|d| c.department_id == d))
        .filter(|c| {
            q.get("isCompleted")
                .is_none_or(|v| (v == "true") == c.is_closed())
        })
        .filter(|c| filter(c))
        .collect();
    match q.get("sortBy").map(String::as_str) {
        Some("createdTime") => items.sort_by_key(|c| (c.created, c.id)),
        _ => items.sort_by_key(|c| (c.start, c.id)),
    }
    Ok(list_page(sb, o, items, page, views::CALL_LIST))
}

async fn list_calls(a: Gated<ListCalls>, RawQuery(q): RawQuery) -> Result<Response, ApiError> {
    let q = query(
        q,
        &[
            "include",
            "departmentId",
            "limit",
            "from",
            "sortBy",
            "startTime",
            "departmentIds",
            "isCompleted",
        ],
    )?;
    let st = a.lock();
    call_list(a.sandbox(), a.org(&st), &q, |_| true)
}

async fn contact_calls(
    Path(id): Path<String>,
    a: Gated<ContactCalls>,
    RawQuery(q): RawQuery,
) -> Result<Response, ApiError> {
    let q = query(q, &["include", "limit", "from", "sortBy", "isCompleted"])?;
    let st = a.lock();
    let id = existing::<Contact>(&a, &st, &id)?;
    call_list(a.sandbox(), a.org(&st), &q, |c| c.contact_id == id)
}

async fn ticket_calls(
    Path(id): Path<String>,
    a: Gated<TicketCalls>,
    RawQuery(q): RawQuery,
) -> Result<Response, ApiError> {
    let q = query(
        q,
        &[
            "include",
            "limit",
            "from",
            "sortBy",
            "isSpam",
            "isCompleted",
        ],
    )?;
    let st = a.lock();
    let id = existing::<Ticket>(&a, &st, &id)?;
    call_list(a.sandbox(), a.org(&st), &q, |c| c.ticket_id == Some(id))
}

async fn get_call(
    Path(id): Path<String>,
    a: Gated<GetCall>,
    RawQuery(q): RawQuery,
) -> Result<Response, ApiError> {
    get_record::<Call>(&a, q, &id, views::CALL_GET)
}

async fn search_calls(a: Gated<SearchCalls>, RawQuery(q): RawQuery) -> Result<Response, ApiError> {
    let q = query(
        q,
        &[
            "ticketNumber",
            "startDateRange",
            "subject",
            "departmentId",
            "createdTimeRange",
            "priority",
            "_all",
            "limit",
            "from",
            "modifiedTimeRange",
            "sortBy",
            "id",
            "status",
        ],
    )?;
    let page = paging(&q, 100)?;
    let range = match q.get("startDateRange") {
        None => None,
        Some(r) => Some(
            r.split_once(',')
                .and_then(|(a, b)| Some((parse_zoho_time(a.trim())?, parse_zoho_time(b.trim())?)))
                .ok_or_else(|| {
                    ApiError::invalid_field(
                        "startDateRange",
                        "invalid",
                        "startDateRange must be two ISO times separated by a comma",
                    )
                })?,
        ),
    };
    Ok(search_hits(&a, &q, page, views::CALL_SEARCH, |q, _, c| {
        call_hit(q, range, c)
    }))
}

/// Whether a call passes a search: its fields, its department, its start within `range`, and
/// `_all` over its subject and description.
fn call_hit(q: &Params, range: Option<(OffsetDateTime, OffsetDateTime)>, c: &Call) -> bool {
    let subject = Some(c.subject.as_str());
    search_hit(
        q,
        c.id,
        &[
            ("subject", subject),
            ("status", Some(c.status.as_str())),
            ("priority", c.priority.as_deref()),
        ],
        &[subject, c.description.as_deref()],
    ) && is_id(q, "departmentId", Some(c.department_id))
        && range.is_none_or(|(from, to)| c.start >= from && c.start <= to)
}
