//! The sandbox's Desk API driven over HTTP: every endpoint, checked against Zoho's own OpenAPI
//! schemas (server/tests/data/zoho-desk-oas; unknown extra fields fail), and every error path.

use crate::support::oas::assert_matches;
use crate::support::sandbox::*;
use reqwest::Method;
use serde_json::{json, Value};
use server::sandbox::seed::SEED_ORG_ID;

fn check(file: &str, path: &str, method: &str, status: u16, body: &Value) {
    assert_matches(oas(), file, path, method, status, body);
}

fn ids(body: &Value) -> Vec<String> {
    body["data"]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|x| x["id"].as_str().unwrap().to_string())
                .collect()
        })
        .unwrap_or_default()
}

async fn department_id(t: &TestSandbox, tok: &str) -> String {
    let (_, d) = t.get("/departments", tok).await;
    d["data"][0]["id"].as_str().unwrap().to_string()
}

#[tokio::test]
async fn organizations_match_zoho_schemas() {
    let t = TestSandbox::start().await;
    let tok = t.access_token().await;
    // /organizations needs no orgId header.
    let r = t
        .http
        .get(t.api("/organizations"))
        .header("Authorization", format!("Zoho-oauthtoken {tok}"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let body: Value = r.json().await.unwrap();
    check("Organization", "/api/v1/organizations", "get", 200, &body);
    assert_eq!(body["data"][0]["id"], SEED_ORG_ID.to_string());
    assert_eq!(body["data"][0]["edition"], "STANDARD");

    let (s, body) = t.get("/accessibleOrganizations", &tok).await;
    assert_eq!(s, 200);
    check(
        "Organization",
        "/api/v1/accessibleOrganizations",
        "get",
        200,
        &body,
    );

    let (s, body) = t.get(&format!("/organizations/{SEED_ORG_ID}"), &tok).await;
    assert_eq!(s, 200);
    check(
        "Organization",
        "/api/v1/organizations/{organizationId}",
        "get",
        200,
        &body,
    );
    assert_eq!(t.get("/organizations/999", &tok).await.0, 404);
}

#[tokio::test]
async fn agents_page_through_a_large_org() {
    let t = TestSandbox::start().await;
    let tok = t.access_token().await;
    let r = t.control_post("/agents", json!({"count": 450})).await;
    assert_eq!(r.json::<Value>().await.unwrap()["agents"], 458);

    let mut seen = Vec::new();
    let mut from = 0;
    loop {
        let (s, body) = t.get(&format!("/agents?from={from}&limit=200"), &tok).await;
        if s == 204 {
            break;
        }
        assert_eq!(s, 200);
        check("Agent", "/api/v1/agents", "get", 200, &body);
        let page = ids(&body);
        assert!(page.len() <= 200);
        from += page.len();
        seen.extend(page);
    }
    assert_eq!(seen.len(), 458);
    let mut dedup = seen.clone();
    dedup.sort();
    dedup.dedup();
    assert_eq!(dedup.len(), 458, "pages do not overlap");

    // limit above 200 is refused with the field named.
    let (s, body) = t.get("/agents?limit=201", &tok).await;
    assert_eq!(s, 422);
    assert_eq!(body["errorCode"], "INVALID_DATA");
    assert_eq!(body["errors"][0]["fieldName"], "limit");

    // Status filter: one seeded agent and every tenth generated one are disabled.
    let (_, body) = t.get("/agents?status=DISABLED&limit=200", &tok).await;
    assert_eq!(body["data"].as_array().unwrap().len(), 1 + 45);

    // The count agrees with the pages, with and without the status filter.
    let (s, body) = t.get("/agents/count", &tok).await;
    assert_eq!(s, 200);
    assert_eq!(body, json!({"count": 458}));
    let (_, body) = t.get("/agents/count?status=DISABLED", &tok).await;
    assert_eq!(body["count"], 46);
    let (s, _) = t.get("/agents/count?status=GONE", &tok).await;
    assert_eq!(s, 422);

    let first = seen[0].clone();
    let (s, body) = t.get(&format!("/agents/{first}"), &tok).await;
    assert_eq!(s, 200);
    check("Agent", "/api/v1/agents/{agentId}", "get", 200, &body);
    let (s, body) = t.get("/myinfo", &tok).await;
    assert_eq!(s, 200);
    check("Agent", "/api/v1/myinfo", "get", 200, &body);
    assert_eq!(body["rolePermissionType"], "Admin");

    // An agent leaves the org.
    let r = t
        .http
        .delete(format!("{}/sandbox/control/agents/{first}", t.base))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 204);
    assert_eq!(t.get(&format!("/agents/{first}"), &tok).await.0, 404);
}

#[tokio::test]
async fn departments_list_and_get() {
    let t = TestSandbox::start().await;
    let tok = t.access_token().await;
    let (s, body) = t.get("/departments", &tok).await;
    assert_eq!(s, 200);
    assert_eq!(body["data"].as_array().unwrap().len(), 2);
    assert_eq!(body["data"][0]["isDefault"], true);
    let id = body["data"][0]["id"].as_str().unwrap();
    let (s, one) = t.get(&format!("/departments/{id}"), &tok).await;
    assert_eq!(s, 200);
    assert_eq!(one["name"], "Support");
}

#[tokio::test]
async fn contacts_list_get_create_and_search_by_phone() {
    let t = TestSandbox::start().await;
    let tok = t.access_token().await;

    let (s, body) = t.get("/contacts?limit=99", &tok).await;
    assert_eq!(s, 200);
    check("Contact", "/api/v1/contacts", "get", 200, &body);
    assert_eq!(ids(&body).len(), 9);
    assert_eq!(t.get("/contacts?limit=100", &tok).await.0, 422);
    assert_eq!(t.get("/contacts?from=100", &tok).await.0, 204);

    let id = ids(&body)[0].clone();
    let (s, one) = t.get(&format!("/contacts/{id}"), &tok).await;
    assert_eq!(s, 200);
    check("Contact", "/api/v1/contacts/{contactId}", "get", 200, &one);
    assert!(one["webUrl"]
        .as_str()
        .unwrap()
        .contains("/ShowHomePage.do#Contacts/dv/"));
    assert_eq!(t.get("/contacts/1", &tok).await.0, 404);
    let (s, body) = t.get("/contacts/abc", &tok).await;
    assert_eq!((s, body["errorCode"].as_str()), (422, Some("INVALID_DATA")));

    // Exact phone search: no normalisation, like Zoho.
    let (s, body) = t.get("/contacts/search?phone=%2B8613800138000", &tok).await;
    assert_eq!(s, 200);
    check("Search", "/api/v1/contacts/search", "get", 200, &body);
    assert_eq!(body["count"], 1);
    assert_eq!(body["data"][0]["lastName"], "Lawrence");
    assert_eq!(
        t.get("/contacts/search?phone=13800138000", &tok).await.0,
        204
    );
    // Suffix wildcard finds it; two contacts share 5503302.
    let (_, body) = t.get("/contacts/search?phone=*13800138000", &tok).await;
    assert_eq!(body["count"], 1);
    let (_, body) = t.get("/contacts/search?phone=5503302", &tok).await;
    assert_eq!(body["count"], 2);
    let (_, body) = t.get("/contacts/search?mobile=*2000", &tok).await;
    assert_eq!(body["data"][0]["lastName"], "Na");
    // Formats with spaces and dashes are stored as typed.
    assert_eq!(
        t.get("/contacts/search?phone=010-6552-9988", &tok).await.0,
        200
    );
    assert_eq!(
        t.get("/contacts/search?phone=01065529988", &tok).await.0,
        204
    );
    // The phone-less contact is only found through _all (its notes mention the number).
    let (_, body) = t.get("/contacts/search?_all=5503306", &tok).await;
    assert_eq!(body["data"][0]["lastName"], "Hopper");
    assert!(body["data"][0]["phone"].is_null());
    // Undocumented parameters are refused the way Zoho does.
    let (s, body) = t.get("/contacts/search?phoneNumber=1", &tok).await;
    assert_eq!(s, 422);
    assert_eq!(body["errorCode"], "UNPROCESSABLE_ENTITY");
    assert!(body["message"].as_str().unwrap().contains("phoneNumber"));

    // Create: only lastName is required; the answer is the full record.
    let (s, created) = t
        .post(
            "/contacts",
            &tok,
            &json!({"lastName": "Automatic New Contact 5503309", "phone": "5503309"}),
        )
        .await;
    assert_eq!(s, 200, "{created}");
    check("Contact", "/api/v1/contacts", "post", 200, &created);
    // Found by id at once, by a search once indexed.
    let (s, _) = t
        .get(
            &format!("/contacts/{}", created["id"].as_str().unwrap()),
            &tok,
        )
        .await;
    assert_eq!(s, 200);
    assert_eq!(t.get("/contacts/search?phone=5503309", &tok).await.0, 204);
    t.control_post("/advance-clock", json!({"secs": 3})).await;
    let (_, found) = t.get("/contacts/search?phone=5503309", &tok).await;
    assert_eq!(found["data"][0]["id"], created["id"]);

    // 422 INVALID_DATA names every bad field.
    let (s, body) = t
        .post(
            "/contacts",
            &tok,
            &json!({"firstName": "x", "email": "not-an-email", "phone": "<>", "accountId": "1"}),
        )
        .await;
    assert_eq!(s, 422);
    assert_eq!(body["errorCode"], "INVALID_DATA");
    let fields: Vec<&str> = body["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["fieldName"].as_str().unwrap())
        .collect();
    for f in ["/lastName", "/email", "/phone", "/accountId"] {
        assert!(fields.contains(&f), "{f} in {fields:?}");
    }
    let (s, body) = t
        .post(
            "/contacts",
            &tok,
            &json!({"lastName": "x", "nickname": "y"}),
        )
        .await;
    assert_eq!(
        (s, body["errorCode"].as_str()),
        (422, Some("UNPROCESSABLE_ENTITY"))
    );
}

#[tokio::test]
async fn accounts_list_get_create_and_search() {
    let t = TestSandbox::start().await;
    let tok = t.access_token().await;
    let (s, body) = t.get("/accounts", &tok).await;
    assert_eq!(s, 200);
    check("Account", "/api/v1/accounts", "get", 200, &body);
    let id = ids(&body)[0].clone();
    // The list counts `from` from 1 (Zoho's OpenAPI file: minimum 1, default 1).
    let (s, first) = t.get("/accounts?from=1&limit=1", &tok).await;
    assert_eq!((s, ids(&first)), (200, vec![id.clone()]));
    assert_eq!(t.get("/accounts?from=0", &tok).await.0, 422);
    let (s, one) = t.get(&format!("/accounts/{id}"), &tok).await;
    assert_eq!(s, 200);
    check("Account", "/api/v1/accounts/{accountId}", "get", 200, &one);

    // Accounts have no phone search parameter; _all finds the account's phone.
    assert_eq!(t.get("/accounts/search?phone=5503310", &tok).await.0, 422);
    let (s, body) = t.get("/accounts/search?_all=5503310", &tok).await;
    assert_eq!(s, 200);
    check("Search", "/api/v1/accounts/search", "get", 200, &body);
    assert_eq!(body["data"][0]["accountName"], "Acme Logistics");
    let (_, body) = t.get("/accounts/search?accountName=Glob*", &tok).await;
    assert_eq!(body["count"], 1);

    let (s, created) = t
        .post(
            "/accounts",
            &tok,
            &json!({"accountName": "Automatic New Account 5503320", "phone": "5503320"}),
        )
        .await;
    assert_eq!(s, 200, "{created}");
    check("Account", "/api/v1/accounts", "post", 200, &created);
    let (s, body) = t.post("/accounts", &tok, &json!({"phone": "1"})).await;
    assert_eq!(s, 422);
    assert_eq!(body["errors"][0]["fieldName"], "/accountName");
    assert_eq!(body["errors"][0]["errorType"], "missing");
}

#[tokio::test]
async fn cross_module_search_counts_per_module() {
    let t = TestSandbox::start().await;
    let tok = t.access_token().await;
    let (s, body) = t.get("/search?searchStr=5503310", &tok).await;
    assert_eq!(s, 200);
    assert_eq!(body["count"]["accounts"], 1);
    assert_eq!(body["data"][0]["module"], "accounts");
    let (_, body) = t
        .get("/search?searchStr=5503302&module=contacts", &tok)
        .await;
    assert_eq!(body["count"]["contacts"], 2);
    assert_eq!(t.get("/search?searchStr=0000000000", &tok).await.0, 204);
    assert_eq!(t.get("/search", &tok).await.0, 422);
}

#[tokio::test]
async fn tickets_create_get_list_per_contact_and_search() {
    let t = TestSandbox::start().await;
    let tok = t.access_token().await;
    let dept = department_id(&t, &tok).await;
    let (_, c) = t.get("/contacts/search?phone=5503301", &tok).await;
    let contact = c["data"][0]["id"].as_str().unwrap().to_string();
    let (_, agents) = t.get("/agents?limit=200", &tok).await;
    let kristin = agents["data"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["lastName"] == "Hale")
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();

    let body = json!({
        "subject": "Inbound Answered - from Paul Young<5503301> to Kristin Hale<2005>",
        "departmentId": dept,
        "contactId": contact,
        "channel": "Phone",
        "assigneeId": kristin,
        "description": "PBX call 1702285525.16"
    });
    let (s, ticket) = t.post("/tickets", &tok, &body).await;
    assert_eq!(s, 200, "{ticket}");
    check("Ticket", "/api/v1/tickets", "post", 200, &ticket);
    assert_eq!(ticket["channel"], "Phone");
    assert_eq!(ticket["assigneeId"], kristin.as_str());
    let id = ticket["id"].as_str().unwrap();

    let (s, one) = t.get(&format!("/tickets/{id}"), &tok).await;
    assert_eq!(s, 200);
    check("Ticket", "/api/v1/tickets/{ticketId}", "get", 200, &one);
    let (s, list) = t.get("/tickets", &tok).await;
    assert_eq!(s, 200);
    check("Ticket", "/api/v1/tickets", "get", 200, &list);
    let (s, mine) = t.get(&format!("/contacts/{contact}/tickets"), &tok).await;
    assert_eq!(s, 200);
    check(
        "Ticket",
        "/api/v1/contacts/{contactId}/tickets",
        "get",
        200,
        &mine,
    );
    assert_eq!(ids(&mine), vec![id.to_string()]);

    // The search index lags new records (lists and reads by id do not)…
    assert_eq!(
        t.get("/tickets/search?_all=1702285525.16", &tok).await.0,
        204
    );
    t.control_post("/advance-clock", json!({"secs": 3})).await;
    // …then the call marker in the description finds the ticket.
    let (s, found) = t.get("/tickets/search?_all=1702285525.16", &tok).await;
    assert_eq!(s, 200);
    check("Search", "/api/v1/tickets/search", "get", 200, &found);
    assert_eq!(found["count"], 1);
    assert_eq!(
        t.get("/tickets/search?_all=9999999999.99", &tok).await.0,
        204
    );

    // Zoho's required fields.
    let (s, err) = t.post("/tickets", &tok, &json!({"subject": "x"})).await;
    assert_eq!(s, 422);
    let fields: Vec<&str> = err["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["fieldName"].as_str().unwrap())
        .collect();
    assert!(
        fields.contains(&"/departmentId") && fields.contains(&"/contactId"),
        "{fields:?}"
    );
    let (s, err) = t
        .post("/tickets", &tok, &json!({"subject": "x", "departmentId": dept, "contactId": contact, "channel": "Pigeon"}))
        .await;
    assert_eq!(
        (s, err["errors"][0]["fieldName"].as_str()),
        (422, Some("/channel"))
    );
    // A contact object creates the contact with the ticket.
    let (s, t2) = t
        .post("/tickets", &tok, &json!({"subject": "y", "departmentId": dept, "contact": {"lastName": "New Person", "phone": "123"}}))
        .await;
    assert_eq!(s, 200, "{t2}");
    t.control_post("/advance-clock", json!({"secs": 3})).await;
    let (_, found) = t.get("/contacts/search?lastName=New%20Person", &tok).await;
    assert_eq!(found["data"][0]["id"], t2["contactId"]);
}

#[tokio::test]
async fn calls_create_get_list_and_search() {
    let t = TestSandbox::start().await;
    let tok = t.access_token().await;
    let dept = department_id(&t, &tok).await;
    let (_, c) = t.get("/contacts/search?phone=5503301", &tok).await;
    let contact = c["data"][0]["id"].as_str().unwrap().to_string();
    assert_eq!(t.get("/calls", &tok).await.0, 204, "empty list is 204");

    let body = json!({
        "subject": "Inbound call from 5503301",
        "departmentId": dept,
        "contactId": contact,
        "direction": "inbound",
        "startTime": "2026-11-28T09:15:02.000Z",
        "duration": 125,
        "status": "Completed"
    });
    let (s, call) = t.post("/calls", &tok, &body).await;
    assert_eq!(s, 200, "{call}");
    check("Call", "/api/v1/calls", "post", 200, &call);
    assert_eq!(call["duration"], "125");
    assert_eq!(call["statusType"], "Closed");
    let id = call["id"].as_str().unwrap();
    let (s, one) = t.get(&format!("/calls/{id}"), &tok).await;
    assert_eq!(s, 200);
    check("Call", "/api/v1/calls/{callId}", "get", 200, &one);
    let (s, list) = t.get("/calls", &tok).await;
    assert_eq!(s, 200);
    check("Call", "/api/v1/calls", "get", 200, &list);
    let (s, mine) = t.get(&format!("/contacts/{contact}/calls"), &tok).await;
    assert_eq!(s, 200);
    assert_eq!(ids(&mine), vec![id.to_string()]);
    let range = "/calls/search?startDateRange=2026-11-28T09:15:02.000Z,2026-11-28T09:15:02.000Z";
    assert_eq!(t.get(range, &tok).await.0, 204, "not indexed yet");
    t.control_post("/advance-clock", json!({"secs": 3})).await;
    let (s, found) = t.get(range, &tok).await;
    assert_eq!(s, 200);
    check("Search", "/api/v1/calls/search", "get", 200, &found);
    assert_eq!(found["count"], 1);

    // Required fields, enums and formats.
    let (s, err) = t
        .post("/calls", &tok, &json!({"subject": "x", "direction": "sideways", "startTime": "yesterday", "status": "Done", "duration": -1}))
        .await;
    assert_eq!(s, 422);
    let fields: Vec<&str> = err["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["fieldName"].as_str().unwrap())
        .collect();
    for f in [
        "/departmentId",
        "/contactId",
        "/direction",
        "/startTime",
        "/status",
        "/duration",
    ] {
        assert!(fields.contains(&f), "{f} in {fields:?}");
    }
}

#[tokio::test]
async fn free_edition_has_no_call_activities() {
    let t = TestSandbox::start().await;
    let tok = t.access_token().await;
    t.control(json!({"edition": "FREE"})).await;
    let (s, body) = t.get("/calls", &tok).await;
    assert_eq!(s, 403);
    assert_eq!(body["errorCode"], "LICENSE_ACCESS_LIMITED");
    assert_eq!(body["editionType"], "FREE");
    let (s, _) = t.post("/calls", &tok, &json!({})).await;
    assert_eq!(s, 403);
    // Everything else still works.
    assert_eq!(t.get("/contacts", &tok).await.0, 200);
}

#[tokio::test]
async fn authentication_org_and_scope_errors_use_zohos_codes() {
    let t = TestSandbox::start().await;
    let tok = t.access_token().await;

    let r = t
        .http
        .get(t.api("/contacts"))
        .header("orgId", SEED_ORG_ID.to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    assert_eq!(
        r.json::<Value>().await.unwrap()["errorCode"],
        "UNAUTHORIZED"
    );

    let (s, body) = t.get("/contacts", "1000.fake.token").await;
    assert_eq!(
        (s, body["errorCode"].as_str()),
        (401, Some("INVALID_OAUTH"))
    );
    let r = t
        .http
        .get(t.api("/contacts"))
        .header("Authorization", format!("Bearer {tok}"))
        .header("orgId", SEED_ORG_ID.to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401, "Zoho wants Zoho-oauthtoken, not Bearer");

    let r = t
        .http
        .get(t.api("/contacts"))
        .header("Authorization", format!("Zoho-oauthtoken {tok}"))
        .header("orgId", "12345")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    assert_eq!(
        r.json::<Value>().await.unwrap()["errorCode"],
        "OAUTH_ORG_MISMATCH"
    );
    let r = t
        .http
        .get(t.api("/contacts"))
        .header("Authorization", format!("Zoho-oauthtoken {tok}"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 422, "orgId is required");

    // Only the scopes granted at consent.
    let (narrow, _) = t.tokens("Desk.contacts.READ").await;
    assert_eq!(t.get("/contacts", &narrow).await.0, 200);
    let (s, body) = t.get("/contacts/search?phone=1", &narrow).await;
    assert_eq!(
        (s, body["errorCode"].as_str()),
        (403, Some("SCOPE_MISMATCH"))
    );
    let (s, body) = t
        .post("/contacts", &narrow, &json!({"lastName": "x"}))
        .await;
    assert_eq!(
        (s, body["errorCode"].as_str()),
        (403, Some("SCOPE_MISMATCH"))
    );
    let (s, _) = t.get("/tickets", &narrow).await;
    assert_eq!(s, 403);
    // ALL covers each operation of its module.
    let (all, _) = t.tokens("Desk.contacts.ALL").await;
    assert_eq!(
        t.post("/contacts", &all, &json!({"lastName": "x"})).await.0,
        200
    );

    // Unknown paths.
    let (s, body) = t.get("/nothing/here", &tok).await;
    assert_eq!(
        (s, body["errorCode"].as_str()),
        (404, Some("URL_NOT_FOUND"))
    );
}

#[tokio::test]
async fn a_token_reaches_only_the_orgs_granted_at_consent() {
    let t = TestSandbox::start().await;
    let tok = t.access_token().await;
    let r = t
        .control_post(
            "/orgs",
            json!({"companyName": "Second Co", "portalName": "second"}),
        )
        .await;
    let id = r.json::<Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    // The token reaches the organizations granted at its consent: not the new one.
    let (_, body) = t.get("/accessibleOrganizations", &tok).await;
    assert_eq!(body["data"].as_array().unwrap().len(), 1);
    let (_, all) = t.get("/organizations", &tok).await;
    assert_eq!(
        all["data"].as_array().unwrap().len(),
        2,
        "the user's organizations"
    );
    let in_new_org = |tok: String| {
        let r = t
            .http
            .get(t.api("/contacts"))
            .header("Authorization", format!("Zoho-oauthtoken {tok}"))
            .header("orgId", &id);
        async move { r.send().await.unwrap() }
    };
    let r = in_new_org(tok.clone()).await;
    assert_eq!(r.status(), 403);
    assert_eq!(
        r.json::<Value>().await.unwrap()["errorCode"],
        "OAUTH_ORG_MISMATCH"
    );
    // A new consent with both ticked reaches both.
    let tok = t.access_token().await;
    let (_, body) = t.get("/accessibleOrganizations", &tok).await;
    assert_eq!(body["data"].as_array().unwrap().len(), 2);
    assert_eq!(
        in_new_org(tok).await.status(),
        204,
        "the new org has no contacts"
    );
}

#[tokio::test]
async fn rate_limits_credits_faults_and_outage() {
    let t = TestSandbox::start().await;
    let tok = t.access_token().await;

    // A burst of 429 TOO_MANY_REQUESTS with Retry-After, then normal service.
    t.control(json!({"throttle_next": 2, "retry_after_secs": 7}))
        .await;
    for _ in 0..2 {
        let r = t.desk(Method::GET, "/contacts", &tok).send().await.unwrap();
        assert_eq!(r.status(), 429);
        assert_eq!(r.headers()["retry-after"], "7");
        assert_eq!(
            r.json::<Value>().await.unwrap()["errorCode"],
            "TOO_MANY_REQUESTS"
        );
    }
    assert_eq!(t.get("/contacts", &tok).await.0, 200);

    // 5xx on demand.
    t.control(json!({"fail_next": 1})).await;
    let (s, body) = t.get("/contacts", &tok).await;
    assert_eq!(
        (s, body["errorCode"].as_str()),
        (500, Some("INTERNAL_SERVER_ERROR"))
    );
    assert_eq!(t.get("/contacts", &tok).await.0, 200);
    t.control(json!({"error_rate": 1.0})).await;
    assert_eq!(t.get("/contacts", &tok).await.0, 500);
    t.control(json!({"error_rate": 0.0})).await;

    // Daily credits: once spent, THRESHOLD_EXCEEDED until the day turns.
    let used = t.control(json!({})).await["credits_used"].as_u64().unwrap();
    t.control(json!({"daily_credits": used + 1})).await;
    assert_eq!(t.get("/contacts", &tok).await.0, 200);
    let r = t.desk(Method::GET, "/contacts", &tok).send().await.unwrap();
    assert_eq!(r.status(), 429);
    assert!(r.headers().contains_key("retry-after"));
    assert_eq!(
        r.json::<Value>().await.unwrap()["errorCode"],
        "THRESHOLD_EXCEEDED"
    );
    t.control_post("/advance-clock", json!({"secs": 86_400}))
        .await;
    // A day later the token has expired too; refresh-free check: a new token works.
    let tok2 = t.access_token().await;
    assert_eq!(t.get("/contacts", &tok2).await.0, 200);
    t.control(json!({"daily_credits": null})).await;

    // Outage.
    t.control(json!({"outage": true})).await;
    assert_eq!(t.get("/contacts", &tok2).await.0, 503);
    t.control(json!({"outage": false})).await;
    assert_eq!(t.get("/contacts", &tok2).await.0, 200);

    // Bad control input is refused with a reason.
    let r = t
        .http
        .patch(format!("{}/sandbox/control", t.base))
        .json(&json!({"bogus": 1}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    assert!(r.text().await.unwrap().contains("bogus"));
}

#[tokio::test]
async fn concurrency_limit_answers_too_many_requests() {
    let t = TestSandbox::start().await;
    let tok = t.access_token().await;
    t.control(json!({"concurrency_limit": 1, "latency_ms": 200}))
        .await;
    let a = t.desk(Method::GET, "/contacts", &tok).send();
    let b = t.desk(Method::GET, "/contacts", &tok).send();
    let (a, b) = tokio::join!(a, b);
    let mut statuses = [a.unwrap().status().as_u16(), b.unwrap().status().as_u16()];
    statuses.sort();
    assert_eq!(statuses, [200, 429]);
}

#[tokio::test]
async fn concurrent_creates_are_all_kept_with_distinct_ids() {
    let t = TestSandbox::start().await;
    let tok = t.access_token().await;
    let mut tasks = Vec::new();
    for i in 0..50 {
        let req = t
            .desk(Method::POST, "/contacts", &tok)
            .json(&json!({"lastName": format!("C{i}")}));
        tasks.push(tokio::spawn(async move {
            req.send().await.unwrap().json::<Value>().await.unwrap()
        }));
    }
    let mut ids = Vec::new();
    for task in tasks {
        ids.push(task.await.unwrap()["id"].as_str().unwrap().to_string());
    }
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), 50);
    let v = t.control(json!({})).await;
    assert_eq!(v["orgs"][0]["contacts"], 59);
}

#[tokio::test]
async fn reset_restores_the_seed() {
    let t = TestSandbox::start().await;
    let tok = t.access_token().await;
    t.post("/contacts", &tok, &json!({"lastName": "Temp"}))
        .await;
    t.control(json!({"edition": "FREE", "latency_ms": 5})).await;
    let v = t
        .control_post("/reset", json!({}))
        .await
        .json::<Value>()
        .await
        .unwrap();
    assert_eq!(v["orgs"][0]["contacts"], 9);
    assert_eq!(v["orgs"][0]["edition"], "STANDARD");
    assert_eq!(v["settings"]["latency_ms"], 0);
    // Tokens survive a reset.
    assert_eq!(t.get("/contacts", &tok).await.0, 200);
}

#[tokio::test]
async fn pages_show_records_and_web_urls_open_them() {
    let t = TestSandbox::start().await;
    let tok = t.access_token().await;
    let (_, c) = t.get("/contacts/search?phone=%2B8613800138000", &tok).await;
    let contact = &c["data"][0];
    let id = contact["id"].as_str().unwrap();
    let page = t
        .http
        .get(format!("{}/sandbox/desk/contacts/{id}", t.base))
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 200);
    let html = page.text().await.unwrap();
    assert!(html.contains("Jennifer Lawrence") && html.contains("+8613800138000"));

    // webUrl → the fragment is forwarded by the home page's script to /open/…, which redirects.
    let web_url = contact["webUrl"].as_str().unwrap();
    let (_, fragment) = web_url.split_once('#').unwrap();
    let r = t
        .http
        .get(format!("{}/sandbox/desk/open/{fragment}", t.base))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    assert!(r.headers()["location"]
        .to_str()
        .unwrap()
        .starts_with(&format!("/sandbox/desk/contacts/{id}")));
    let home = t
        .http
        .get(web_url.split('#').next().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(home.status(), 200);

    // A name with markup is shown as text.
    t.control_post(
        "/contacts",
        json!({"lastName": "<script>alert(1)</script>", "phone": "1"}),
    )
    .await;
    let html = t
        .http
        .get(format!("{}/sandbox/desk/contacts", t.base))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        html.contains("&lt;script&gt;alert(1)&lt;/script&gt;")
            && !html.contains("<script>alert(1)")
    );
    for p in [
        "/sandbox/desk/",
        "/sandbox/desk/accounts",
        "/sandbox/desk/tickets",
        "/sandbox/desk/calls",
    ] {
        assert_eq!(
            t.http
                .get(format!("{}{p}", t.base))
                .send()
                .await
                .unwrap()
                .status(),
            200,
            "{p}"
        );
    }
}
