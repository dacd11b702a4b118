//! Contacts: list (sorted, paged), one by id, search, create.

use axum::extract::{Path, RawQuery};
use axum::response::Response;
use axum::routing::get;
use axum::Router;
use serde_json::Value;
use time::OffsetDateTime;

use super::super::model::{Contact, RenderCtx};
use super::super::state::OrgData;
use super::super::views;
use super::super::SharedSandbox;
use super::body::Posted;
use super::error::ApiError;
use super::gate::{
    operations, Feature, Gated, OrgNeed, CONTACTS_CREATE, CONTACTS_READ, CONTACTS_SEARCH,
};
use super::query::{paging, query, search_hit, Params};
use super::records::{
    account_ref, agent, get_record, list_records, search_records, store, time_key, Record,
};

operations! {
    ListContacts: "GET /contacts", CONTACTS_READ, OrgNeed::Required, Feature::Any;
    GetContact: "GET /contacts/{id}", CONTACTS_READ, OrgNeed::Required, Feature::Any;
    SearchContacts: "GET /contacts/search", CONTACTS_SEARCH, OrgNeed::Required, Feature::Any;
    CreateContact: "POST /contacts", CONTACTS_CREATE, OrgNeed::Required, Feature::Any;
}

pub(super) fn router() -> Router<SharedSandbox> {
    Router::new()
        .route("/contacts", get(list_contacts).post(create_contact))
        .route("/contacts/search", get(search_contacts))
        .route("/contacts/{id}", get(get_contact))
}

impl Record for Contact {
    fn created_at(&self) -> OffsetDateTime {
        self.created()
    }

    fn sort_key(&self, field: &str) -> Option<String> {
        match field {
            "firstName" => self.first_name.clone(),
            "lastName" => Some(self.last_name.clone()),
            "phone" => self.phone.clone(),
            "email" => self.email.clone(),
            _ => time_key(field, self.created, self.modified),
        }
    }

    fn full_json(&self, ctx: &RenderCtx, o: &OrgData) -> Value {
        let mut v = self.to_json(ctx, agent(o, self.owner_id));
        v["account"] = account_ref(o, self.account_id);
        v["zohoCRMContact"] = Value::Null;
        v
    }
}

/// The fields `GET /contacts` sorts by (`sortBy`, with `-` for descending).
const SORT_FIELDS: &[&str] = &[
    "firstName",
    "lastName",
    "phone",
    "email",
    "account",
    "createdTime",
    "modifiedTime",
];

async fn list_contacts(
    a: Gated<ListContacts>,
    RawQuery(q): RawQuery,
) -> Result<Response, ApiError> {
    let q = query(
        q,
        &["include", "viewId", "limit", "from", "sortBy", "fields"],
    )?;
    let page = paging(&q, 99)?;
    if let Some(s) = q.get("sortBy") {
        if !SORT_FIELDS.contains(&s.trim_start_matches('-')) {
            return Err(ApiError::invalid_field(
                "sortBy",
                "invalid",
                "unsupported sortBy value",
            ));
        }
    }
    Ok(list_records::<Contact>(&a, &q, page, views::CONTACT_LIST))
}

async fn get_contact(
    Path(id): Path<String>,
    a: Gated<GetContact>,
    RawQuery(q): RawQuery,
) -> Result<Response, ApiError> {
    get_record::<Contact>(&a, q, &id, views::CONTACT_GET)
}

/// Whether a contact passes a search: its fields, its account's name, and `_all` over its
/// name, addresses, numbers, description and account.
fn contact_hit(q: &Params, o: &OrgData, c: &Contact) -> bool {
    let account_name = c
        .account_id
        .and_then(|id| o.accounts.get(&id))
        .map(|acc| acc.account_name.as_str());
    let full = c.full_name();
    let (email, phone, mobile) = (c.email.as_deref(), c.phone.as_deref(), c.mobile.as_deref());
    search_hit(
        q,
        c.id,
        &[
            ("firstName", c.first_name.as_deref()),
            ("lastName", Some(c.last_name.as_str())),
            ("fullName", Some(full.as_str())),
            ("email", email),
            ("phone", phone),
            ("mobile", mobile),
            ("accountName", account_name),
        ],
        &[
            Some(full.as_str()),
            email,
            phone,
            mobile,
            c.description.as_deref(),
            account_name,
        ],
    )
}

/// The parameters `GET /contacts/search` accepts.
const SEARCH_PARAMS: &[&str] = &[
    "lastName",
    "firstName",
    "accountName",
    "createdTimeRange",
    "limit",
    "fullName",
    "from",
    "sortBy",
    "modifiedTimeRange",
    "id",
    "_all",
    "email",
    "phone",
    "mobile",
];

async fn search_contacts(
    a: Gated<SearchContacts>,
    RawQuery(q): RawQuery,
) -> Result<Response, ApiError> {
    search_records::<Contact>(&a, q, SEARCH_PARAMS, views::CONTACT_SEARCH, contact_hit)
}

/// Body keys `POST /contacts` accepts.
const BODY_KEYS: &[&str] = &[
    "lastName",
    "firstName",
    "email",
    "secondaryEmail",
    "phone",
    "mobile",
    "accountId",
    "ownerId",
    "type",
    "title",
    "description",
    "street",
    "city",
    "state",
    "country",
    "zip",
    "twitter",
    "facebook",
    "cf",
    "customFields",
    "photoURL",
];

async fn create_contact(a: Gated<CreateContact>, post: Posted) -> Result<Response, ApiError> {
    let mut b = post.body(BODY_KEYS)?;
    let last_name = b.req_str("lastName", 200);
    let [first_name, email, secondary_email, phone, mobile] = b.opt_strs([
        ("firstName", 40),
        ("email", 255),
        ("secondaryEmail", 255),
        ("phone", 50),
        ("mobile", 50),
    ]);
    b.check_phone("phone", &phone);
    b.check_phone("mobile", &mobile);
    b.check_email("email", &email);
    b.check_email("secondaryEmail", &secondary_email);
    let account_id = b.opt_id("accountId");
    let owner_id = b.opt_id("ownerId");
    let [kind, title] = b.opt_strs([("type", 120), ("title", 100)]);
    let [description, street, city, state, country, zip] = b.address("zip");
    let mut st = a.lock();
    let o = a.org(&st);
    b.check_ref(
        "accountId",
        account_id,
        |id| o.accounts.contains_key(&id),
        "an account",
    );
    b.check_agent(o, "ownerId", owner_id, None);
    b.finish()?;
    let now = st.now();
    let c = Contact {
        id: st.new_id(),
        first_name,
        last_name: last_name.unwrap_or_default(),
        email,
        secondary_email,
        phone,
        mobile,
        account_id,
        owner_id: owner_id.or(Some(st.admin_agent_id)),
        kind,
        title,
        description,
        street,
        city,
        state,
        country,
        zip,
        created: Some(now),
        modified: Some(now),
    };
    Ok(store(&a, &mut st, c, views::CONTACT_GET))
}
