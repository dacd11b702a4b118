//! Tickets: create (with an existing contact or a `contact` object), one by id, lists (all, a
//! contact's), search.

use axum::extract::{Path, RawQuery};
use axum::response::Response;
use axum::routing::get;
use axum::Router;
use serde_json::{json, Value};
use time::OffsetDateTime;

use super::super::model::{Contact, RenderCtx, Ticket};
use super::super::state::OrgData;
use super::super::views::{self, View};
use super::super::{Sandbox, SharedSandbox};
use super::body::Posted;
use super::error::ApiError;
use super::gate::{
    operations, Feature, Gated, OrgNeed, TICKETS_CREATE, TICKETS_READ, TICKETS_SEARCH,
};
use super::query::{is_id, paging, parse_id, query, search_hit, Params};
use super::records::{
    account_ref, activity_json, existing, get_record, list_page, search_records, store, Record,
};

operations! {
    CreateTicket: "POST /tickets", TICKETS_CREATE, OrgNeed::Required, Feature::Any;
    GetTicket: "GET /tickets/{id}", TICKETS_READ, OrgNeed::Required, Feature::Any;
    ListTickets: "GET /tickets", TICKETS_READ, OrgNeed::Required, Feature::Any;
    ContactTickets: "GET /contacts/{id}/tickets", TICKETS_READ, OrgNeed::Required, Feature::Any;
    SearchTickets: "GET /tickets/search", TICKETS_SEARCH, OrgNeed::Required, Feature::Any;
}

pub(super) fn router() -> Router<SharedSandbox> {
    Router::new()
        .route("/contacts/{id}/tickets", get(contact_tickets))
        .route("/tickets", get(list_tickets).post(create_ticket))
        .route("/tickets/search", get(search_tickets))
        .route("/tickets/{id}", get(get_ticket))
}

impl Record for Ticket {
    fn created_at(&self) -> OffsetDateTime {
        self.created
    }

    /// With `assignee`, `department`, `contact` (with its type and account), and no product or
    /// team.
    fn full_json(&self, ctx: &RenderCtx, o: &OrgData) -> Value {
        let links = (self.assignee_id, self.department_id, self.contact_id);
        let mut v = activity_json(
            self.to_json(ctx),
            o,
            links,
            |c| json!({"type": c.kind, "account": account_ref(o, c.account_id)}),
        );
        v["product"] = Value::Null;
        v["team"] = Value::Null;
        v
    }
}

/// Body keys `POST /tickets` accepts.
const BODY_KEYS: &[&str] = &[
    "subject",
    "departmentId",
    "contactId",
    "contact",
    "productId",
    "uploads",
    "email",
    "phone",
    "description",
    "status",
    "assigneeId",
    "category",
    "subCategory",
    "resolution",
    "dueDate",
    "priority",
    "language",
    "channel",
    "classification",
    "teamId",
    "cf",
    "customFields",
    "secondaryContacts",
    "accountId",
];

const STATUSES: &[&str] = &["Open", "On Hold", "Escalated", "Closed"];

async fn create_ticket(a: Gated<CreateTicket>, post: Posted) -> Result<Response, ApiError> {
    let mut b = post.body(BODY_KEYS)?;
    let subject = b.req_str("subject", 255);
    let department_id = b.req_id("departmentId");
    let contact_id = b.opt_id("contactId");
    let contact_obj = match b.get("contact") {
        None | Some(Value::Null) => None,
        Some(Value::Object(c)) => Some(c.clone()),
        Some(_) => {
            b.error("contact", "invalid", "contact must be an object");
            None
        }
    };
    if contact_id.is_none() && contact_obj.is_none() && !b.has_error("contactId") {
        b.error("contactId", "missing", "contactId or contact is required");
    }
    let description = b.opt_str("description", 65535);
    let email = b.opt_str("email", 150);
    b.check_email("email", &email);
    let [phone, priority, category] =
        b.opt_strs([("phone", 120), ("priority", 120), ("category", 120)]);
    let status = b.opt_str("status", 120).unwrap_or_else(|| "Open".into());
    let channel = b.opt_str("channel", 120);
    let assignee_id = b.opt_id("assigneeId");

    let mut st = a.lock();
    {
        let o = a.org(&st);
        b.check_department(o, department_id);
        b.check_contact(o, contact_id);
        b.check_agent(o, "assigneeId", assignee_id, Some(department_id));
        b.check_in(
            "channel",
            channel.as_deref(),
            &o.channels,
            "channel is not one of the portal's channels",
        );
        b.check_in(
            "status",
            Some(status.as_str()),
            STATUSES,
            "status is not one of the portal's statuses",
        );
        if let Some(c) = &contact_obj {
            let has = |k: &str| {
                c.get(k)
                    .and_then(Value::as_str)
                    .is_some_and(|s| !s.trim().is_empty())
            };
            if !has("lastName") && !has("email") {
                b.error(
                    "contact/lastName",
                    "missing",
                    "contact needs lastName or email",
                );
            }
        }
    }
    b.finish()?;
    let now = st.now();
    // A `contact` object reuses the contact with the same e-mail, or creates one.
    let contact_id = match (contact_id, contact_obj) {
        (Some(id), _) => id,
        (None, Some(c)) => {
            let s = |k: &str| c.get(k).and_then(Value::as_str).map(str::to_string);
            let email = s("email");
            let existing = email.as_ref().and_then(|e| {
                a.org(&st)
                    .contacts
                    .values()
                    .find(|x| {
                        x.email
                            .as_deref()
                            .is_some_and(|xe| xe.eq_ignore_ascii_case(e))
                    })
                    .map(|x| x.id)
            });
            match existing {
                Some(id) => id,
                None => {
                    let id = st.new_id();
                    let owner = Some(st.admin_agent_id);
                    let contact = Contact {
                        id,
                        first_name: s("firstName"),
                        last_name: s("lastName").or_else(|| email.clone()).unwrap_or_default(),
                        email,
                        phone: s("phone"),
                        mobile: s("mobile"),
                        owner_id: owner,
                        created: Some(now),
                        modified: Some(now),
                        ..Default::default()
                    };
                    st.org_mut(a.org_id)
                        .expect("org")
                        .contacts
                        .insert(id, contact);
                    id
                }
            }
        }
        (None, None) => unreachable!("validated above"),
    };
    let id = st.new_id();
    let creator = st.admin_agent_id;
    let o = st.org_mut(a.org_id).expect("gate checked the org");
    let number = o.next_ticket_number;
    o.next_ticket_number += 1;
    let t = Ticket {
        id,
        number,
        subject: subject.unwrap_or_default(),
        description,
        department_id: department_id.expect("validated"),
        contact_id,
        assignee_id,
        channel: channel.unwrap_or_else(|| "Phone".into()),
        status,
        priority,
        email,
        phone,
        category,
        created: now,
        creator_id: creator,
    };
    Ok(store(&a, &mut st, t, views::TICKET_CREATE))
}

async fn get_ticket(
    Path(id): Path<String>,
    a: Gated<GetTicket>,
    RawQuery(q): RawQuery,
) -> Result<Response, ApiError> {
    get_record::<Ticket>(&a, q, &id, views::TICKET_GET)
}

/// Whether a parameter, when given, lists the value (comma-separated).
fn listed(q: &Params, key: &str, value: &str) -> bool {
    q.get(key)
        .is_none_or(|s| s.split(',').any(|x| x.trim() == value))
}

/// A page of the org's tickets that `filter` keeps, narrowed by `departmentId`, `status` and
/// `channel`, newest first (oldest first with `sortBy=createdTime`).
fn ticket_list(
    sb: &Sandbox,
    o: &OrgData,
    q: &Params,
    view: View,
    filter: impl Fn(&Ticket) -> bool,
) -> Result<Response, ApiError> {
    let page = paging(q, 100)?;
    let dept = match q.get("departmentId") {
        Some(d) if d != "allDepartment" => Some(parse_id(d, "departmentId")?),
        _ => None,
    };
    let mut items: Vec<&Ticket> = o
        .tickets
        .values()
        .filter(|t| dept.is_none_or(|d| t.department_id == d))
        .filter(|t| listed(q, "status", &t.status))
        .filter(|t| listed(q, "channel", &t.channel))
        .filter(|t| filter(t))
        .collect();
    // Zoho lists newest first unless told otherwise.
    items.sort_by(|a, b| b.created.cmp(&a.created).then(b.id.cmp(&a.id)));
    if q.get("sortBy").is_some_and(|s| s == "createdTime") {
        items.reverse();
    }
    Ok(list_page(sb, o, items, page, view))
}

const LIST_PARAMS: &[&str] = &[
    "include",
    "departmentId",
    "dueDate",
    "limit",
    "channel",
    "from",
    "sortBy",
    "assignee",
    "teamIds",
    "receivedInDays",
    "closedTime",
    "status",
    "viewId",
    "fields",
];

async fn list_tickets(a: Gated<ListTickets>, RawQuery(q): RawQuery) -> Result<Response, ApiError> {
    let q = query(q, LIST_PARAMS)?;
    let st = a.lock();
    ticket_list(a.sandbox(), a.org(&st), &q, views::TICKET_LIST, |_| true)
}

async fn contact_tickets(
    Path(id): Path<String>,
    a: Gated<ContactTickets>,
    RawQuery(q): RawQuery,
) -> Result<Response, ApiError> {
    let q = query(
        q,
        &[
            "include",
            "departmentId",
            "dueDate",
            "limit",
            "from",
            "sortBy",
            "isSpam",
        ],
    )?;
    let st = a.lock();
    let id = existing::<Contact>(&a, &st, &id)?;
    ticket_list(a.sandbox(), a.org(&st), &q, views::TICKET_BY_CONTACT, |t| {
        t.contact_id == id
    })
}

/// Whether a ticket passes a search: its fields, its contact's name, its contact, department
/// and assignee, and `_all` over its subject, description and number.
fn ticket_hit(q: &Params, o: &OrgData, t: &Ticket) -> bool {
    let num = t.number.to_string();
    let contact_name = o.contacts.get(&t.contact_id).map(Contact::full_name);
    search_hit(
        q,
        t.id,
        &[
            ("ticketNumber", Some(num.as_str())),
            ("subject", Some(t.subject.as_str())),
            ("description", t.description.as_deref()),
            ("channel", Some(t.channel.as_str())),
            ("status", Some(t.status.as_str())),
            ("priority", t.priority.as_deref()),
            ("category", t.category.as_deref()),
            ("contactName", contact_name.as_deref()),
        ],
        &[
            Some(t.subject.as_str()),
            t.description.as_deref(),
            Some(num.as_str()),
        ],
    ) && is_id(q, "contactId", Some(t.contact_id))
        && is_id(q, "departmentId", Some(t.department_id))
        && is_id(q, "assigneeId", t.assignee_id)
}

/// The parameters `GET /tickets/search` accepts.
const SEARCH_PARAMS: &[&str] = &[
    "ticketNumber",
    "accountName",
    "subject",
    "departmentId",
    "channel",
    "customerResponseTimeRange",
    "description",
    "productName",
    "_all",
    "limit",
    "from",
    "dueDateRange",
    "sortBy",
    "id",
    "tag",
    "productId",
    "contactId",
    "contactName",
    "createdTimeRange",
    "priority",
    "assigneeId",
    "accountId",
    "modifiedTimeRange",
    "category",
    "status",
];

async fn search_tickets(
    a: Gated<SearchTickets>,
    RawQuery(q): RawQuery,
) -> Result<Response, ApiError> {
    search_records::<Ticket>(&a, q, SEARCH_PARAMS, views::TICKET_SEARCH, ticket_hit)
}
