//! Black-box tests of issue 14 against the stricter sandbox: numbers as people type them into
//! Zoho, names with one part, feature codes, calls during an expired authorization, and orgs
//! the consent did not grant.

use std::collections::BTreeMap;

use crate::support::app::*;
use crate::support::flows::*;
use app::engine::calls::now_ms;
use serde_json::{json, Value};

/// `app/src/engine/numbers_table.txt`: (country, stored in Zoho, caller, same number?).
fn table() -> Vec<(String, String, String, bool)> {
    app::engine::numbers::number_table()
}

/// Inserts a contact as a person typed it into Zoho, and lets the search index catch up.
async fn typed_contact(app: &TestApp, body: Value) -> String {
    let r = app
        .http
        .post(format!("{}/sandbox/control/contacts", app.base))
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let id = r.json::<Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    app.sandbox_control("/advance-clock", json!({"secs": 3}))
        .await;
    id
}

fn searches(app: &TestApp) -> u64 {
    app.engine.metrics.get(
        "helpdesk_zoho_requests_total",
        &[("operation", "GET /contacts/search")],
    )
}

#[tokio::test]
async fn every_row_of_the_number_table_finds_its_contact_or_not() {
    let mut by_country: BTreeMap<String, Vec<(String, String, bool)>> = BTreeMap::new();
    for (country, stored, caller, same) in table() {
        by_country
            .entry(country)
            .or_default()
            .push((stored, caller, same));
    }
    let mut wrong = Vec::new();
    for (country, rows) in by_country {
        let app = connected_with(&[("HELPDESK_DEFAULT_COUNTRY", country.as_str())]).await;
        for (stored, caller, same) in rows {
            // A fresh org each row (the seed has numbers of its own), the contact as typed.
            app.sandbox_control("/reset", json!({})).await;
            app.engine.forget_lookups();
            let id = typed_contact(
                &app,
                json!({"firstName": "Typed", "lastName": "Person", "phone": stored}),
            )
            .await;
            let found = app.engine.lookup_number(&caller).await.unwrap();
            let hit = found.as_ref().is_some_and(|r| r.id == id);
            if hit != same {
                wrong.push(format!(
                    "{country:2} {stored:?} vs caller {caller:?}: expected {same}, found {:?}",
                    found.map(|r| (r.name, r.phone))
                ));
            }
        }
    }
    assert!(wrong.is_empty(), "\n{}", wrong.join("\n"));
}

/// Zoho requests of one operation so far.
fn requests(app: &TestApp, operation: &str) -> u64 {
    app.engine
        .metrics
        .get("helpdesk_zoho_requests_total", &[("operation", operation)])
}

#[tokio::test]
async fn a_known_caller_costs_one_search_and_calls_at_once_share_it() {
    let app = connected_with(&[("HELPDESK_DEFAULT_COUNTRY", "US")]).await;
    let contacts = |app: &TestApp| requests(app, "GET /contacts/search");
    let accounts = |app: &TestApp| requests(app, "GET /accounts/search");
    let by_phone = typed_contact(
        &app,
        json!({"firstName": "Ana", "lastName": "Ruiz", "phone": "+1 (415) 555-0177"}),
    )
    .await;
    // The same number as someone else's mobile, changed more recently: a business number
    // is searched first, and its owner wins.
    typed_contact(
        &app,
        json!({"firstName": "Ben", "lastName": "Ruiz", "mobile": "415-555-0177"}),
    )
    .await;
    let by_mobile = typed_contact(
        &app,
        json!({"lastName": "Okafor", "mobile": "646.555.0199"}),
    )
    .await;

    // Three calls from one number at once, as the PBX and people write it: one search.
    let before = (contacts(&app), accounts(&app));
    let (a, b, c) = tokio::join!(
        app.engine.lookup_number("4155550177"),
        app.engine.lookup_number("+14155550177"),
        app.engine.lookup_number("+1 (415) 555-0177"),
    );
    for found in [a, b, c] {
        let found = found.unwrap().expect("Ana Ruiz");
        assert_eq!((found.id.as_str(), found.others), (by_phone.as_str(), 0));
    }
    assert_eq!(
        (contacts(&app) - before.0, accounts(&app) - before.1),
        (1, 0),
        "one search of the business numbers, shared by the three lookups"
    );

    // Known by a mobile only: the business numbers, then the mobiles.
    let before = (contacts(&app), accounts(&app));
    let found = app.engine.lookup_number("+1 646 555 0199").await.unwrap();
    assert_eq!(found.map(|r| r.id), Some(by_mobile));
    assert_eq!(
        (contacts(&app) - before.0, accounts(&app) - before.1),
        (2, 0)
    );

    // Unknown: both contact searches, and the org's accounts read once (one page of the
    // list: it has fewer than 99), not searched.
    let lists = |app: &TestApp| requests(app, "GET /accounts");
    let before = (contacts(&app), accounts(&app), lists(&app));
    let found = app.engine.lookup_number("+1 (212) 555-0101").await.unwrap();
    assert_eq!(found, None);
    assert_eq!(
        (
            contacts(&app) - before.0,
            accounts(&app) - before.1,
            lists(&app) - before.2
        ),
        (2, 0, 1)
    );
    // …and the miss is remembered for a minute.
    assert_eq!(app.engine.lookup_number("2125550101").await.unwrap(), None);
    assert_eq!(
        (
            contacts(&app) - before.0,
            accounts(&app) - before.1,
            lists(&app) - before.2
        ),
        (2, 0, 1)
    );
    // Another unknown number: the two requests, the accounts answered from memory.
    let before = (contacts(&app), accounts(&app), lists(&app));
    assert_eq!(
        app.engine.lookup_number("+1 212 555 0102").await.unwrap(),
        None
    );
    assert_eq!(
        (
            contacts(&app) - before.0,
            accounts(&app) - before.1,
            lists(&app) - before.2
        ),
        (2, 0, 0)
    );
}

/// Makes an account through Zoho's own API, as an agent would in Zoho Desk.
async fn typed_account(app: &TestApp, name: &str, phone: &str) -> String {
    let (s, body) = desk_post(
        app,
        "/accounts",
        &json!({"accountName": name, "phone": phone}),
    )
    .await;
    assert_eq!(s, 200, "{phone:?}: {body}");
    body["id"].as_str().unwrap().to_string()
}

#[tokio::test]
async fn accounts_are_matched_from_memory_however_their_number_was_typed() {
    let app = connected_with(&[("HELPDESK_DEFAULT_COUNTRY", "US")]).await;
    let lists = |app: &TestApp| requests(app, "GET /accounts");
    let reads = |app: &TestApp| requests(app, "GET /accounts/{id}");
    let searches = |app: &TestApp| requests(app, "GET /accounts/search");
    // More accounts than one page of the list holds, as people typed their numbers.
    let mut made = Vec::new();
    for i in 0..120 {
        let phone = match i % 3 {
            0 => format!("+1 (415) 555-{:04}", 1000 + i),
            1 => format!("415.555.{:04}", 1000 + i),
            _ => format!("1-415-555-{:04}", 1000 + i),
        };
        made.push(typed_account(&app, &format!("Company {i}"), &phone).await);
    }
    // …and one made two minutes later (so the check for new ones below reads one page).
    app.sandbox_control("/advance-clock", json!({"secs": 120}))
        .await;
    typed_account(&app, "Anchor", "+1 415 555 2000").await;
    let found = app.engine.lookup_number("+14155551119").await.unwrap();
    let found = found.expect("the 120th account");
    assert_eq!(
        (
            found.module.as_str(),
            found.id.as_str(),
            found.name.as_str()
        ),
        ("accounts", made[119].as_str(), "Company 119")
    );
    assert!(found.modified.is_some(), "read again before use: {found:?}");
    let total = app.engine.lookup.accounts.held().unwrap();
    assert!(total >= 121, "every account with a number is held: {total}");
    assert_eq!(
        (lists(&app), reads(&app), searches(&app)),
        (2, 1, 0),
        "two pages of the list, the match read again, no search"
    );
    // Same last four digits, another number: nobody.
    assert_eq!(
        app.engine.lookup_number("+1 212 555 1119").await.unwrap(),
        None
    );
    assert_eq!((lists(&app), reads(&app)), (2, 1));

    // An account made since, by someone else: found once the newest ones are checked (as
    // when another instance made it, or a minute after the last check), with one page (it
    // reads back to a minute before the newest one held: the Anchor, then older ones).
    app.sandbox_control("/advance-clock", json!({"secs": 5}))
        .await;
    let late = typed_account(&app, "Latecomer", "(650) 555-0199").await;
    app.engine.lookup.accounts.recheck();
    let found = app.engine.lookup_number("6505550199").await.unwrap();
    assert_eq!(found.map(|r| r.id), Some(late));
    assert_eq!((lists(&app), reads(&app)), (3, 2));
}

#[tokio::test]
async fn a_last_name_alone_is_synced_and_a_feature_code_matches_nobody() {
    let app = connected_with(&[("HELPDESK_DEFAULT_COUNTRY", "GB")]).await;
    let (s, body) = save_rules_with_group(
        &app,
        &[("sync_contacts", "true"), ("sync_module", "contacts")],
        Some("Zoho Desk callers"),
    )
    .await;
    assert_eq!(s, 200, "{body}");
    typed_contact(
        &app,
        json!({"lastName": "Lovelace", "phone": "020 7946 0958"}),
    )
    .await;
    let id = call(&app, true, "+44 20 7946 0958", "2005", true).await;
    drain(&app, now_ms()).await;
    let contact = job(&jobs_of(&app, &id).await, "contact").clone();
    assert!(
        contact["summary"]
            .as_str()
            .unwrap()
            .contains("is the contact Lovelace; added to the company contacts"),
        "{contact}"
    );
    let groups = app.engine.phonebook.phonebook_groups().await.unwrap();
    assert_eq!(groups.iter().find(|g| g.helpdesk).unwrap().contacts, 1);

    // A caller ID with `*` (a feature code) is nobody in Zoho, and Zoho is not asked.
    // (The simulator refuses such a number; a PBX sends it as the caller ID.)
    let before = searches(&app);
    let id = "feature-code-call";
    let at = |s: u32| format!("2026-12-02T09:00:{s:02}Z");
    let events: Vec<Value> = [("ringing", 0), ("answered", 5), ("ended", 30)]
        .iter()
        .map(|(kind, s)| {
            let mut e = json!({"event_id": format!("fc-{kind}"), "call_id": id, "kind": kind,
                   "at": at(*s), "direction": "inbound", "external_number": "*4455",
                   "extension": "2005"});
            if *kind == "ended" {
                e["result"] = json!("answered");
            }
            e
        })
        .collect();
    let (s, body) = app.post_signed(&Value::Array(events)).await;
    assert_eq!(s, 200, "{body}");
    drain(&app, now_ms()).await;
    let contact = job(&jobs_of(&app, id).await, "contact").clone();
    assert_eq!(contact["note"]["note"], "no_match", "{contact}");
    assert_eq!(searches(&app), before, "no search for a feature code");
}

#[tokio::test]
async fn calls_during_an_expired_authorization_wait_and_are_delivered_once() {
    let app = connected().await;
    let (s, body) = save_rules(
        &app,
        &[
            ("create_tickets", "true"),
            ("ticket_inbound_answered", "true"),
            ("log_calls", "true"),
        ],
    )
    .await;
    assert_eq!(s, 200, "{body}");
    let subject = "Inbound Completed - from <5503301> to Kristin Hale<2005>";
    let ours = |list: Vec<Value>| list.iter().filter(|x| x["subject"] == subject).count();
    let (tickets_before, calls_before) = (ours(tickets(&app).await), ours(calls(&app).await));

    // Zoho revokes the authorization; the next Zoho request finds out.
    app.sandbox_control("/revoke-all", json!({})).await;
    let (_, body) = app.call("helpdesk/organizations", &[]).await;
    assert_eq!(body, json!("AuthExpired"));
    let zoho_before = app.sandbox.request_count();

    for _ in 0..20 {
        call(&app, true, "5503301", "2005", true).await;
    }
    assert_eq!(drain(&app, now_ms()).await, 0, "the work waits");
    assert_eq!(
        app.sandbox.request_count(),
        zoho_before,
        "no request reached Zoho"
    );
    let (_, attention) = app.call("helpdesk/attention", &[]).await;
    assert_eq!(
        attention,
        json!({"auth_expired": true, "waiting_calls": 20})
    );
    let metrics = app.get_text("/metrics").await;
    assert!(
        metrics.contains("helpdesk_zoho_authorization_expired 1")
            && metrics.contains("helpdesk_calls_waiting_for_zoho 20"),
        "{metrics}"
    );

    // Re-authorize through the consent page: the org is kept, the work is delivered once.
    let (url, _) = app.save_sandbox_settings().await;
    let q = app.consent(&url, "accept").await;
    assert_eq!(
        app.complete(&q).await.1,
        json!({"Succeeded": {"choose_org": false}})
    );
    assert_eq!(app.connection().await["status"], "Connected");
    drain(&app, now_ms()).await;
    assert_eq!(ours(tickets(&app).await), tickets_before + 20);
    assert_eq!(ours(calls(&app).await), calls_before + 20);
    // Nothing waits any more, and nothing runs twice.
    let (_, attention) = app.call("helpdesk/attention", &[]).await;
    assert_eq!(attention["auth_expired"], false);
    assert_eq!(drain(&app, now_ms() + 3_600_000).await, 0);
    assert_eq!(ours(tickets(&app).await), tickets_before + 20);
}

#[tokio::test]
async fn the_consent_grants_orgs_and_the_chooser_offers_only_those() {
    let app = TestApp::spawn().await;
    let second = app
        .sandbox_control(
            "/orgs",
            json!({"companyName": "Second Co", "portalName": "second", "admin": false}),
        )
        .await["id"]
        .as_str()
        .unwrap()
        .to_string();
    app.sign_in().await;

    // Both granted: the admin chooses among both.
    let (url, _) = app.save_sandbox_settings().await;
    let q = app.consent(&url, "accept").await;
    assert_eq!(
        app.complete(&q).await.1,
        json!({"Succeeded": {"choose_org": true}})
    );
    let names: Vec<Value> = app.connection().await["orgs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["name"].clone())
        .collect();
    assert_eq!(names, vec![json!("PBX Sandbox Co."), json!("Second Co")]);
    // The first org, which the user administers: no warning.
    let (s, _) = app
        .call("helpdesk/choose_org", &[("org_id", &ORG.to_string())])
        .await;
    assert_eq!(s, 200);
    let c = app.connection().await;
    assert_eq!(
        (c["org_name"].clone(), c["org_not_admin"].clone()),
        (json!("PBX Sandbox Co."), json!(false))
    );

    // Only the second granted: nothing to choose, connected to it.
    let (url, _) = app.save_sandbox_settings().await;
    let q = app.consent_for(&url, "accept", &[second]).await;
    assert_eq!(
        app.complete(&q).await.1,
        json!({"Succeeded": {"choose_org": false}})
    );
    let c = app.connection().await;
    assert_eq!(
        (c["status"].clone(), c["org_name"].clone()),
        (json!("Connected"), json!("Second Co"))
    );
    assert_eq!(c["orgs"].as_array().unwrap().len(), 1, "{c}");
    // Zoho says the user does not administer it: the page warns.
    assert_eq!(c["org_not_admin"], json!(true), "{c}");
    let page = app.get_text("/integrations/helpdesk").await;
    assert!(page.contains("id=\"org-not-admin\""), "{page}");
}

#[tokio::test]
async fn a_missed_ring_group_call_is_ticketed_for_the_first_bound_extension_that_rang() {
    let app = connected().await;
    let (s, body) = save_rules(
        &app,
        &[
            ("create_tickets", "true"),
            ("ticket_inbound_missed", "true"),
        ],
    )
    .await;
    assert_eq!(s, 200, "{body}");
    assert!(
        app.engine.directory.bound_agent("2009").is_none(),
        "Reception is unbound"
    );
    // The group rings Reception (2009, unbound) first, then Kristin Hale (2005); nobody answers.
    let id = "ring-group-call";
    let events = json!([
        {"event_id": "rg-1", "call_id": id, "kind": "ringing", "at": "2026-12-02T09:00:00Z",
         "direction": "inbound", "external_number": "5503301", "extension": "2009"},
        {"event_id": "rg-2", "call_id": id, "kind": "ringing", "at": "2026-12-02T09:00:04Z",
         "direction": "inbound", "external_number": "5503301", "extension": "2005"},
        {"event_id": "rg-3", "call_id": id, "kind": "ended", "at": "2026-12-02T09:00:30Z",
         "direction": "inbound", "external_number": "5503301", "result": "no_answer"},
    ]);
    let (s, body) = app.post_signed(&events).await;
    assert_eq!(s, 200, "{body}");
    drain(&app, now_ms()).await;
    let ticket = job(&jobs_of(&app, id).await, "ticket").clone();
    assert_eq!(
        ticket["note"]["subject"], "Inbound Missed - from <5503301> to Kristin Hale<2005>",
        "{ticket}"
    );
}

/// Asserts that every job of the call is done.
async fn all_done(app: &TestApp, call: String) {
    let jobs = jobs_of(app, &call).await;
    assert!(jobs.iter().all(|j| j["state"] == "done"), "{jobs:#?}");
}

/// The tickets and the call activities on this contact.
async fn on_contact(app: &TestApp, contact: &str) -> (usize, usize) {
    let n = |list: Vec<Value>| list.iter().filter(|r| r["contactId"] == contact).count();
    (n(tickets(app).await), n(calls(app).await))
}

/// An agent deletes the contact in Zoho Desk (and empties the trash).
async fn delete_contact(app: &TestApp, id: &str) {
    let r = app
        .http
        .delete(format!("{}/sandbox/control/contacts/{id}", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 204);
}

#[tokio::test]
async fn a_caller_whose_created_contact_was_deleted_is_created_again_once() {
    let app = connected().await;
    let (s, body) = save_rules(
        &app,
        &[
            ("create_contacts", "true"),
            ("create_inbound", "true"),
            ("create_tickets", "true"),
            ("ticket_inbound_answered", "true"),
        ],
    )
    .await;
    assert_eq!(s, 200, "{body}");
    // As a person typed it on the PBX; Zoho gets it in E.164.
    let (number, stored) = ("+1 (415) 555-0199", "+14155550199");

    // Unknown: created once.
    let first = call(&app, true, number, "2005", true).await;
    drain(&app, now_ms()).await;
    let made = contacts_where(&app, "phone", stored).await;
    assert_eq!(made.len(), 1, "{made:#?}");
    let gone = made[0]["id"].as_str().unwrap().to_string();
    all_done(&app, first).await;
    assert_eq!(on_contact(&app, &gone).await.0, 1);

    // An agent deletes it in Zoho Desk; the next calls (two at once) make one new contact and
    // ticket on it, not on the deleted one.
    delete_contact(&app, &gone).await;
    app.engine.forget_lookups();
    let second = call(&app, true, number, "2005", true).await;
    let third = call(&app, true, number, "2005", true).await;
    drain(&app, now_ms()).await;
    let made = contacts_where(&app, "phone", stored).await;
    assert_eq!(made.len(), 1, "one new contact: {made:#?}");
    let again = made[0]["id"].as_str().unwrap().to_string();
    assert_ne!(again, gone);
    all_done(&app, second).await;
    all_done(&app, third).await;
    assert_eq!(
        on_contact(&app, &again).await.0,
        2,
        "both calls ticketed on the new contact"
    );
    assert_eq!(on_contact(&app, &gone).await.0, 1);

    // The search has not caught up with it yet: the next call still finds it, through its
    // creation, and makes nothing.
    app.engine.forget_lookups();
    let fourth = call(&app, true, number, "2005", true).await;
    drain(&app, now_ms()).await;
    assert_eq!(contacts_where(&app, "phone", stored).await.len(), 1);
    all_done(&app, fourth).await;
    assert_eq!(on_contact(&app, &again).await.0, 3);
}

/// A repeat caller whose contact an agent deleted a moment ago, while the lookup's cache still
/// holds it: the ticket and the call activity go to whoever has the number now (another
/// contact, or, once nobody has it, the caller created again), never to the deleted one and
/// never failing on it.
#[tokio::test]
async fn a_repeat_caller_whose_contact_was_just_deleted_is_ticketed_on_who_has_the_number_now() {
    // A call centre in the US: its people type numbers the US way.
    let app = connected_with(&[("HELPDESK_DEFAULT_COUNTRY", "US")]).await;
    let (s, body) = save_rules(
        &app,
        &[
            ("create_contacts", "true"),
            ("create_inbound", "true"),
            ("create_tickets", "true"),
            ("ticket_inbound_answered", "true"),
            ("log_calls", "true"),
        ],
    )
    .await;
    assert_eq!(s, 200, "{body}");
    // A company's switchboard: two people with the same number, typed two ways.
    let ana = typed_contact(
        &app,
        json!({"firstName": "Ana", "lastName": "Lima", "phone": "+1 (415) 555-0167"}),
    )
    .await;
    let bruno = typed_contact(
        &app,
        json!({"lastName": "Lima-Souza", "mobile": "415-555-0167"}),
    )
    .await;
    let number = "+1 415 555 0167";

    let first = call(&app, true, number, "2005", true).await;
    drain(&app, now_ms()).await;
    all_done(&app, first).await;
    let (chosen, other) = if on_contact(&app, &ana).await == (1, 1) {
        (ana.clone(), bruno.clone())
    } else {
        (bruno.clone(), ana.clone())
    };
    assert_eq!(on_contact(&app, &chosen).await, (1, 1));

    // An agent deletes the chosen contact; the lookup's cache still holds it (no forgetting
    // here): the next call goes to the other person with the number, nothing is created.
    delete_contact(&app, &chosen).await;
    let second = call(&app, true, number, "2005", true).await;
    drain(&app, now_ms()).await;
    all_done(&app, second.clone()).await;
    let jobs = jobs_of(&app, &second).await;
    for kind in ["ticket", "call_log"] {
        let summary = job(&jobs, kind)["summary"].as_str().unwrap().to_string();
        assert!(
            summary.contains(" — the caller's contact was gone from Zoho Desk: on "),
            "{summary}"
        );
    }
    assert_eq!(
        on_contact(&app, &other).await,
        (1, 1),
        "ticket and call on the other contact"
    );
    assert_eq!(contacts_where(&app, "phone", "+14155550167").await.len(), 0);

    // And that one is deleted too: nobody has the number, so the caller is created, once,
    // for two calls at once, and both are ticketed and logged on it.
    delete_contact(&app, &other).await;
    let third = call(&app, true, number, "2005", true).await;
    let fourth = call(&app, true, number, "2005", true).await;
    drain(&app, now_ms()).await;
    all_done(&app, third).await;
    all_done(&app, fourth).await;
    let made = contacts_where(&app, "phone", "+14155550167").await;
    assert_eq!(made.len(), 1, "one contact made: {made:#?}");
    let made = made[0]["id"].as_str().unwrap().to_string();
    assert_eq!(on_contact(&app, &made).await, (2, 2));
    assert_eq!(on_contact(&app, &chosen).await, (1, 1));
    assert_eq!(on_contact(&app, &other).await, (1, 1));
}
