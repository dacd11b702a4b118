//! The sandbox's own pages under `/sandbox/desk/…`: what a person trying the product looks at to
//! see what the integration did, and what a screen pop opens. A record's `webUrl` has Zoho's
//! classic shape (`…/support/<portal>/ShowHomePage.do#Contacts/dv/<hash>`); the home page reads
//! the fragment and opens the record's page.

use std::collections::HashMap;

use axum::extract::{Path, Query, State};
use axum::http::{header, StatusCode};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::get;
use axum::Router;

use super::model::{web_hash, Contact};
use super::state::{OrgData, State as SbState};
use super::{esc, SharedSandbox};

pub fn router() -> Router<SharedSandbox> {
    // Full paths (merged, not nested) so that `/desk/api/v1` keeps its own 404 answer.
    Router::new()
        .route("/desk", get(home))
        .route("/desk/", get(home))
        .route("/desk/contacts", get(contacts))
        .route("/desk/contacts/{id}", get(contact))
        .route("/desk/accounts", get(accounts))
        .route("/desk/accounts/{id}", get(account))
        .route("/desk/tickets", get(tickets))
        .route("/desk/calls", get(calls))
        .route(
            "/desk/support/{portal}/ShowHomePage.do",
            get(show_home_page),
        )
        .route("/desk/open/{module}/dv/{hash}", get(open_record))
}

type Q = Query<HashMap<String, String>>;

/// The org a page shows: `?org=<id>`, else the first (seeded) one.
fn pick_org<'a>(st: &'a SbState, q: &HashMap<String, String>) -> &'a OrgData {
    q.get("org")
        .and_then(|id| id.parse::<u64>().ok())
        .and_then(|id| st.org(id))
        .unwrap_or(&st.orgs[0])
}

fn layout(title: &str, org: &OrgData, body: &str) -> Html<String> {
    Html(format!(
        r#"<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title} · Zoho Desk (sandbox)</title><style>{css}</style></head><body>
<header class="top"><a class="brand" href="/sandbox/desk/">Zoho Desk <span class="tag">SANDBOX</span></a>
<nav><a href="/sandbox/desk/contacts">Contacts</a><a href="/sandbox/desk/accounts">Accounts</a><a href="/sandbox/desk/tickets">Tickets</a><a href="/sandbox/desk/calls">Calls</a></nav>
<span class="org">{org} · {edition}</span></header>
<main>{body}</main></body></html>"#,
        title = esc(title),
        css = CSS,
        org = esc(&org.org.company_name),
        edition = esc(&org.org.edition),
    ))
}

const CSS: &str = "body{margin:0;font:14px/1.5 system-ui,-apple-system,'Segoe UI',Roboto,'PingFang SC','Microsoft YaHei','Noto Sans CJK SC',sans-serif;background:#f4f6f9;color:#1f2933}
.top{display:flex;align-items:center;gap:24px;background:#1d2b3a;color:#fff;padding:10px 24px}.top a{color:#dfe7f0;text-decoration:none}.top nav{display:flex;gap:16px}
.brand{font-weight:600;color:#fff!important}.tag{font-size:11px;background:#f5b400;color:#1d2b3a;border-radius:8px;padding:1px 6px;margin-left:4px}.org{margin-left:auto;color:#b8c4d1;font-size:13px}
main{max-width:1100px;margin:24px auto;padding:0 24px}h1{font-size:22px;margin:0 0 4px}h2{font-size:16px;margin:24px 0 8px}
.card{background:#fff;border:1px solid #dde3ea;border-radius:8px;padding:20px 24px;margin-bottom:16px}
table{width:100%;border-collapse:collapse;background:#fff;border:1px solid #dde3ea;border-radius:8px}th,td{text-align:left;padding:8px 12px;border-bottom:1px solid #edf0f4;vertical-align:top}
th{background:#f8fafc;font-weight:600;color:#52606d;font-size:12px;text-transform:uppercase;letter-spacing:.03em}
dl{display:grid;grid-template-columns:160px 1fr;gap:6px 16px;margin:0}dt{color:#52606d}dd{margin:0}
.muted{color:#7b8794}.empty{padding:16px;color:#7b8794;background:#fff;border:1px dashed #c5cdd6;border-radius:8px}
a{color:#1a5fb4}pre{white-space:pre-wrap;margin:0;font:inherit}";

/// A time as people read it on these pages: `2026-11-28 09:15:02 UTC`.
fn shown(t: time::OffsetDateTime) -> String {
    let t = t.to_offset(time::UtcOffset::UTC);
    format!(
        "{:04}-{:02}-{:02} {:02}:{:02}:{:02} UTC",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second()
    )
}

fn or_dash(v: Option<&str>) -> String {
    match v {
        Some(s) if !s.is_empty() => esc(s),
        _ => "<span class=\"muted\">—</span>".into(),
    }
}

fn contact_name(c: &Contact) -> String {
    let n = c.full_name();
    if n.is_empty() {
        "(no name)".into()
    } else {
        n
    }
}

async fn home(State(sb): State<SharedSandbox>, Query(q): Q) -> Html<String> {
    let st = sb.lock();
    let o = pick_org(&st, &q);
    let body = format!(
        r#"<section class="card"><h1>{company}</h1>
<p>A local stand-in for Zoho Desk that the integration talks to when the sandbox is on. Everything here lives in memory.</p>
<dl><dt>Org id</dt><dd>{id}</dd><dt>Portal</dt><dd>{portal}</dd><dt>Edition</dt><dd>{edition}</dd>
<dt>Contacts</dt><dd><a href="/sandbox/desk/contacts">{nc}</a></dd><dt>Accounts</dt><dd><a href="/sandbox/desk/accounts">{na}</a></dd>
<dt>Tickets</dt><dd><a href="/sandbox/desk/tickets">{nt}</a></dd><dt>Calls</dt><dd><a href="/sandbox/desk/calls">{ncall}</a></dd>
<dt>Agents</dt><dd>{nag}</dd></dl></section>"#,
        company = esc(&o.org.company_name),
        id = o.org.id,
        portal = esc(&o.org.portal_name),
        edition = esc(&o.org.edition),
        nc = o.contacts.len(),
        na = o.accounts.len(),
        nt = o.tickets.len(),
        ncall = o.calls.len(),
        nag = o.agents.len(),
    );
    layout("Home", o, &body)
}

fn contacts_table(o: &OrgData, items: &[&Contact]) -> String {
    if items.is_empty() {
        return "<p class=\"empty\">No contacts.</p>".into();
    }
    let rows: String = items
        .iter()
        .map(|c| {
            let account = c
                .account_id
                .and_then(|id| o.accounts.get(&id))
                .map(|a| format!("<a href=\"/sandbox/desk/accounts/{}\">{}</a>", a.id, esc(&a.account_name)))
                .unwrap_or_else(|| or_dash(None));
            format!(
                "<tr><td><a href=\"/sandbox/desk/contacts/{id}\">{name}</a></td><td>{phone}</td><td>{mobile}</td><td>{email}</td><td>{account}</td><td>{created}</td></tr>",
                id = c.id,
                name = esc(&contact_name(c)),
                phone = or_dash(c.phone.as_deref()),
                mobile = or_dash(c.mobile.as_deref()),
                email = or_dash(c.email.as_deref()),
                created = c.created.map(shown).unwrap_or_default(),
            )
        })
        .collect();
    format!("<table><thead><tr><th>Name</th><th>Phone</th><th>Mobile</th><th>E-mail</th><th>Account</th><th>Created</th></tr></thead><tbody>{rows}</tbody></table>")
}

async fn contacts(State(sb): State<SharedSandbox>, Query(q): Q) -> Html<String> {
    let st = sb.lock();
    let o = pick_org(&st, &q);
    let items: Vec<&Contact> = o.contacts.values().collect();
    let body = format!(
        "<h1>Contacts</h1><p class=\"muted\">{} contacts</p>{}",
        items.len(),
        contacts_table(o, &items)
    );
    layout("Contacts", o, &body)
}

fn tickets_table(o: &OrgData, items: &[&super::model::Ticket]) -> String {
    if items.is_empty() {
        return "<p class=\"empty\">No tickets.</p>".into();
    }
    let rows: String = items
        .iter()
        .map(|t| {
            let contact = o
                .contacts
                .get(&t.contact_id)
                .map(|c| format!("<a href=\"/sandbox/desk/contacts/{}\">{}</a>", c.id, esc(&contact_name(c))))
                .unwrap_or_else(|| or_dash(None));
            let assignee = t.assignee_id.and_then(|a| o.agent(a)).map(|a| a.name());
            let dept = o.department(t.department_id).map(|d| d.name.clone());
            format!(
                "<tr><td>#{num}</td><td>{subject}<pre class=\"muted\">{desc}</pre></td><td>{contact}</td><td>{assignee}</td><td>{dept}</td><td>{channel}</td><td>{status}</td><td>{created}</td></tr>",
                num = t.number,
                subject = esc(&t.subject),
                desc = esc(t.description.as_deref().unwrap_or("")),
                assignee = or_dash(assignee.as_deref()),
                dept = or_dash(dept.as_deref()),
                channel = esc(&t.channel),
                status = esc(&t.status),
                created = shown(t.created),
            )
        })
        .collect();
    format!("<table><thead><tr><th>No.</th><th>Subject</th><th>Contact</th><th>Assignee</th><th>Department</th><th>Channel</th><th>Status</th><th>Created</th></tr></thead><tbody>{rows}</tbody></table>")
}

fn calls_table(o: &OrgData, items: &[&super::model::Call]) -> String {
    if items.is_empty() {
        return "<p class=\"empty\">No calls.</p>".into();
    }
    let rows: String = items
        .iter()
        .map(|c| {
            let contact = o
                .contacts
                .get(&c.contact_id)
                .map(|x| format!("<a href=\"/sandbox/desk/contacts/{}\">{}</a>", x.id, esc(&contact_name(x))))
                .unwrap_or_else(|| or_dash(None));
            let owner = c.owner_id.and_then(|a| o.agent(a)).map(|a| a.name());
            format!(
                "<tr><td>{subject}</td><td>{contact}</td><td>{direction}</td><td>{start}</td><td>{duration} s</td><td>{status}</td><td>{owner}</td></tr>",
                subject = esc(&c.subject),
                direction = esc(&c.direction),
                start = shown(c.start),
                duration = c.duration,
                status = esc(&c.status),
                owner = or_dash(owner.as_deref()),
            )
        })
        .collect();
    format!("<table><thead><tr><th>Subject</th><th>Contact</th><th>Direction</th><th>Start</th><th>Duration</th><th>Status</th><th>Owner</th></tr></thead><tbody>{rows}</tbody></table>")
}

async fn contact(State(sb): State<SharedSandbox>, Path(id): Path<String>, Query(q): Q) -> Response {
    let st = sb.lock();
    let o = pick_org(&st, &q);
    let Some(c) = id.parse::<u64>().ok().and_then(|id| o.contacts.get(&id)) else {
        return (
            StatusCode::NOT_FOUND,
            layout("Not found", o, "<p class=\"empty\">No such contact.</p>"),
        )
            .into_response();
    };
    let account = c.account_id.and_then(|id| o.accounts.get(&id));
    let owner = c.owner_id.and_then(|id| o.agent(id)).map(|a| a.name());
    let tickets: Vec<_> = o
        .tickets
        .values()
        .filter(|t| t.contact_id == c.id)
        .collect();
    let calls: Vec<_> = o.calls.values().filter(|x| x.contact_id == c.id).collect();
    let body = format!(
        r#"<section class="card" data-contact-id="{id}"><h1 id="record-name">{name}</h1><p class="muted">Contact</p>
<dl><dt>Phone</dt><dd id="record-phone">{phone}</dd><dt>Mobile</dt><dd>{mobile}</dd><dt>E-mail</dt><dd>{email}</dd>
<dt>Account</dt><dd>{account}</dd><dt>Owner</dt><dd>{owner}</dd><dt>Description</dt><dd>{desc}</dd><dt>Created</dt><dd>{created}</dd></dl></section>
<h2>Tickets ({nt})</h2>{tickets}<h2>Activities › Calls ({ncalls})</h2>{calls}"#,
        id = c.id,
        name = esc(&contact_name(c)),
        phone = or_dash(c.phone.as_deref()),
        mobile = or_dash(c.mobile.as_deref()),
        email = or_dash(c.email.as_deref()),
        account = account
            .map(|a| format!(
                "<a href=\"/sandbox/desk/accounts/{}\">{}</a>",
                a.id,
                esc(&a.account_name)
            ))
            .unwrap_or_else(|| or_dash(None)),
        owner = or_dash(owner.as_deref()),
        desc = or_dash(c.description.as_deref()),
        created = c.created.map(shown).unwrap_or_default(),
        nt = tickets.len(),
        tickets = tickets_table(o, &tickets),
        ncalls = calls.len(),
        calls = calls_table(o, &calls),
    );
    layout(&contact_name(c), o, &body).into_response()
}

async fn accounts(State(sb): State<SharedSandbox>, Query(q): Q) -> Html<String> {
    let st = sb.lock();
    let o = pick_org(&st, &q);
    let rows: String = o
        .accounts
        .values()
        .map(|a| {
            format!(
                "<tr><td><a href=\"/sandbox/desk/accounts/{id}\">{name}</a></td><td>{phone}</td><td>{email}</td><td>{industry}</td><td>{created}</td></tr>",
                id = a.id,
                name = esc(&a.account_name),
                phone = or_dash(a.phone.as_deref()),
                email = or_dash(a.email.as_deref()),
                industry = or_dash(a.industry.as_deref()),
                created = a.created.map(shown).unwrap_or_default(),
            )
        })
        .collect();
    let table = if o.accounts.is_empty() {
        "<p class=\"empty\">No accounts.</p>".to_string()
    } else {
        format!("<table><thead><tr><th>Account name</th><th>Phone</th><th>E-mail</th><th>Industry</th><th>Created</th></tr></thead><tbody>{rows}</tbody></table>")
    };
    layout(
        "Accounts",
        o,
        &format!(
            "<h1>Accounts</h1><p class=\"muted\">{} accounts</p>{table}",
            o.accounts.len()
        ),
    )
}

async fn account(State(sb): State<SharedSandbox>, Path(id): Path<String>, Query(q): Q) -> Response {
    let st = sb.lock();
    let o = pick_org(&st, &q);
    let Some(a) = id.parse::<u64>().ok().and_then(|id| o.accounts.get(&id)) else {
        return (
            StatusCode::NOT_FOUND,
            layout("Not found", o, "<p class=\"empty\">No such account.</p>"),
        )
            .into_response();
    };
    let members: Vec<&Contact> = o
        .contacts
        .values()
        .filter(|c| c.account_id == Some(a.id))
        .collect();
    let body = format!(
        r#"<section class="card" data-account-id="{id}"><h1 id="record-name">{name}</h1><p class="muted">Account</p>
<dl><dt>Phone</dt><dd id="record-phone">{phone}</dd><dt>E-mail</dt><dd>{email}</dd><dt>Website</dt><dd>{web}</dd>
<dt>Industry</dt><dd>{industry}</dd><dt>City</dt><dd>{city}</dd><dt>Created</dt><dd>{created}</dd></dl></section>
<h2>Contacts ({n})</h2>{contacts}"#,
        id = a.id,
        name = esc(&a.account_name),
        phone = or_dash(a.phone.as_deref()),
        email = or_dash(a.email.as_deref()),
        web = or_dash(a.website.as_deref()),
        industry = or_dash(a.industry.as_deref()),
        city = or_dash(a.city.as_deref()),
        created = a.created.map(shown).unwrap_or_default(),
        n = members.len(),
        contacts = contacts_table(o, &members),
    );
    layout(&a.account_name, o, &body).into_response()
}

async fn tickets(State(sb): State<SharedSandbox>, Query(q): Q) -> Html<String> {
    let st = sb.lock();
    let o = pick_org(&st, &q);
    let mut items: Vec<_> = o.tickets.values().collect();
    items.reverse();
    let body = format!(
        "<h1>Tickets</h1><p class=\"muted\">{} tickets, newest first</p>{}",
        items.len(),
        tickets_table(o, &items)
    );
    layout("Tickets", o, &body)
}

async fn calls(State(sb): State<SharedSandbox>, Query(q): Q) -> Html<String> {
    let st = sb.lock();
    let o = pick_org(&st, &q);
    let mut items: Vec<_> = o.calls.values().collect();
    items.reverse();
    let body = format!(
        "<h1>Calls</h1><p class=\"muted\">{} call activities, newest first</p>{}",
        items.len(),
        calls_table(o, &items)
    );
    layout("Calls", o, &body)
}

/// The classic Zoho Desk entry page. Browsers never send the `#Module/dv/<hash>` fragment, so
/// a one-line script forwards it to `/sandbox/desk/open/…`, which redirects to the record.
async fn show_home_page(State(sb): State<SharedSandbox>, Path(portal): Path<String>) -> Response {
    let st = sb.lock();
    let Some(o) = st.orgs.iter().find(|o| o.org.portal_name == portal) else {
        return (StatusCode::NOT_FOUND, "No such portal").into_response();
    };
    let body = "<section class=\"card\"><h1>Opening the record…</h1><p class=\"muted\">If nothing happens, open the <a href=\"/sandbox/desk/\">sandbox home</a>.</p></section>\
<script>(function(){var h=location.hash.slice(1);if(h){location.replace('/sandbox/desk/open/'+h+'?org=' + encodeURIComponent(document.body.dataset.org));}else{location.replace('/sandbox/desk/');}})();</script>";
    let html = layout("Zoho Desk", o, body)
        .0
        .replace("<body>", &format!("<body data-org=\"{}\">", o.org.id));
    ([(header::CACHE_CONTROL, "no-store")], Html(html)).into_response()
}

/// Finds the record behind a `webUrl` hash and redirects to its page.
async fn open_record(
    State(sb): State<SharedSandbox>,
    Path((module, hash)): Path<(String, String)>,
    Query(q): Q,
) -> Response {
    let st = sb.lock();
    let o = pick_org(&st, &q);
    let org_q = format!("?org={}", o.org.id);
    let target = match module.as_str() {
        "Contacts" => o
            .contacts
            .keys()
            .find(|id| web_hash("Contacts", **id) == hash)
            .map(|id| format!("/sandbox/desk/contacts/{id}{org_q}")),
        "Accounts" => o
            .accounts
            .keys()
            .find(|id| web_hash("Accounts", **id) == hash)
            .map(|id| format!("/sandbox/desk/accounts/{id}{org_q}")),
        "Cases" => o
            .tickets
            .keys()
            .any(|id| web_hash("Cases", *id) == hash)
            .then(|| format!("/sandbox/desk/tickets{org_q}")),
        "Calls" => o
            .calls
            .keys()
            .any(|id| web_hash("Calls", *id) == hash)
            .then(|| format!("/sandbox/desk/calls{org_q}")),
        _ => None,
    };
    match target {
        Some(t) => Redirect::to(&t).into_response(),
        None => (
            StatusCode::NOT_FOUND,
            layout(
                "Not found",
                o,
                "<p class=\"empty\">No record behind this link.</p>",
            ),
        )
            .into_response(),
    }
}
