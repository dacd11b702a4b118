//! Accounts (the companies contacts belong to): list (sorted, paged), one by id, search,
//! create.

use axum::extract::{Path, RawQuery};
use axum::response::Response;
use axum::routing::get;
use axum::Router;
use serde_json::Value;
use time::OffsetDateTime;

use super::super::model::{Account, RenderCtx};
use super::super::state::OrgData;
use super::super::views;
use super::super::SharedSandbox;
use super::body::Posted;
use super::error::ApiError;
use super::gate::{
    operations, Feature, Gated, OrgNeed, CONTACTS_CREATE, CONTACTS_READ, CONTACTS_SEARCH,
};
use super::query::{paging_from_one, query, search_hit, Params};
use super::records::{agent, get_record, list_records, search_records, store, time_key, Record};

operations! {
    ListAccounts: "GET /accounts", CONTACTS_READ, OrgNeed::Required, Feature::Any;
    GetAccount: "GET /accounts/{id}", CONTACTS_READ, OrgNeed::Required, Feature::Any;
    SearchAccounts: "GET /accounts/search", CONTACTS_SEARCH, OrgNeed::Required, Feature::Any;
    CreateAccount: "POST /accounts", CONTACTS_CREATE, OrgNeed::Required, Feature::Any;
}

pub(super) fn router() -> Router<SharedSandbox> {
    Router::new()
        .route("/accounts", get(list_accounts).post(create_account))
        .route("/accounts/search", get(search_accounts))
        .route("/accounts/{id}", get(get_account))
}

impl Record for Account {
    fn created_at(&self) -> OffsetDateTime {
        self.created()
    }

    fn sort_key(&self, field: &str) -> Option<String> {
        match field {
            "accountName" => Some(self.account_name.clone()),
            _ => time_key(field, self.created, self.modified),
        }
    }

    fn full_json(&self, ctx: &RenderCtx, o: &OrgData) -> Value {
        self.to_json(ctx, agent(o, self.owner_id))
    }
}

async fn list_accounts(
    a: Gated<ListAccounts>,
    RawQuery(q): RawQuery,
) -> Result<Response, ApiError> {
    let q = query(
        q,
        &["limit", "from", "sortBy", "viewId", "include", "fields"],
    )?;
    let page = paging_from_one(&q, 99)?;
    Ok(list_records::<Account>(&a, &q, page, views::ACCOUNT_LIST))
}

async fn get_account(
    Path(id): Path<String>,
    a: Gated<GetAccount>,
    RawQuery(q): RawQuery,
) -> Result<Response, ApiError> {
    get_record::<Account>(&a, q, &id, views::ACCOUNT_GET)
}

/// The parameters `GET /accounts/search` accepts.
const SEARCH_PARAMS: &[&str] = &[
    "accountName",
    "createdTimeRange",
    "limit",
    "from",
    "modifiedTimeRange",
    "sortBy",
    "id",
    "_all",
];

async fn search_accounts(
    a: Gated<SearchAccounts>,
    RawQuery(q): RawQuery,
) -> Result<Response, ApiError> {
    search_records::<Account>(&a, q, SEARCH_PARAMS, views::ACCOUNT_SEARCH, account_hit)
}

/// Whether an account passes a search: its name, and `_all` over its name, numbers, addresses
/// and description.
fn account_hit(q: &Params, _: &OrgData, acc: &Account) -> bool {
    let name = Some(acc.account_name.as_str());
    search_hit(
        q,
        acc.id,
        &[("accountName", name)],
        &[
            name,
            acc.phone.as_deref(),
            acc.email.as_deref(),
            acc.website.as_deref(),
            acc.description.as_deref(),
        ],
    )
}

/// Body keys `POST /accounts` accepts.
const BODY_KEYS: &[&str] = &[
    "accountName",
    "email",
    "website",
    "fax",
    "ownerId",
    "associatedSLAIds",
    "industry",
    "city",
    "country",
    "state",
    "street",
    "code",
    "description",
    "phone",
    "annualrevenue",
    "cf",
    "customFields",
];

async fn create_account(a: Gated<CreateAccount>, post: Posted) -> Result<Response, ApiError> {
    let mut b = post.body(BODY_KEYS)?;
    let account_name = b.req_str("accountName", 200);
    let email = b.opt_str("email", 150);
    b.check_email("email", &email);
    let phone = b.opt_str("phone", 30);
    b.check_phone("phone", &phone);
    let owner_id = b.opt_id("ownerId");
    let [website, fax, industry] = b.opt_strs([("website", 120), ("fax", 50), ("industry", 120)]);
    let [description, street, city, state, country, code] = b.address("code");
    let mut st = a.lock();
    b.check_agent(a.org(&st), "ownerId", owner_id, None);
    b.finish()?;
    let now = st.now();
    let acc = Account {
        id: st.new_id(),
        account_name: account_name.unwrap_or_default(),
        phone,
        email,
        website,
        fax,
        industry,
        description,
        street,
        city,
        state,
        country,
        code,
        owner_id: owner_id.or(Some(st.admin_agent_id)),
        created: Some(now),
        modified: Some(now),
    };
    Ok(store(&a, &mut st, acc, views::ACCOUNT_GET))
}
