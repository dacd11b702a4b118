//! The steps the rules' tests share: a connected app with bound agents, reading the sandbox
//! with the app's token, saving rules, placing calls through the simulator, draining the queue.

use serde_json::{json, Value};

use super::app::*;

pub const ORG: u64 = server::sandbox::seed::SEED_ORG_ID;

/// A connected app with the sandbox's agents fetched and auto-bound (2005 = Kristin Hale).
pub async fn connected() -> TestApp {
    connected_with(&[]).await
}

/// The same, with more environment variables (the PBX's country, say).
pub async fn connected_with(extra: &[(&str, &str)]) -> TestApp {
    let app = TestApp::spawn_with_env(extra, None).await;
    app.connect().await;
    app.call("helpdesk/users/refresh", &[]).await;
    app.call("helpdesk/users/auto_bind", &[]).await;
    assert!(app.engine.directory.bound_agent("2005").is_some());
    app
}

/// A request to the sandbox's Desk API with the app's own token.
async fn desk_request(
    app: &TestApp,
    method: reqwest::Method,
    path: &str,
) -> reqwest::RequestBuilder {
    let token = app.engine.zoho.access_token(false).await.unwrap();
    app.http
        .request(method, format!("{}/sandbox/desk/api/v1{path}", app.base))
        .header(
            "Authorization",
            format!("Zoho-oauthtoken {}", token.expose()),
        )
        .header("orgId", ORG.to_string())
}

/// Reads the sandbox's Desk API with the app's own token.
pub async fn desk(app: &TestApp, path: &str) -> Value {
    let r = desk_request(app, reqwest::Method::GET, path)
        .await
        .send()
        .await
        .unwrap();
    if r.status().as_u16() == 204 {
        return json!({"data": []});
    }
    r.json().await.unwrap()
}

/// Writes to the sandbox's Desk API with the app's own token, as an agent would in Zoho Desk:
/// Zoho's status and answer.
pub async fn desk_post(app: &TestApp, path: &str, body: &Value) -> (u16, Value) {
    let r = desk_request(app, reqwest::Method::POST, path)
        .await
        .json(body)
        .send()
        .await
        .unwrap();
    (r.status().as_u16(), r.json().await.unwrap())
}

pub async fn tickets(app: &TestApp) -> Vec<Value> {
    desk(app, "/tickets?limit=100").await["data"]
        .as_array()
        .cloned()
        .unwrap_or_default()
}

pub async fn calls(app: &TestApp) -> Vec<Value> {
    desk(app, "/calls?limit=99").await["data"]
        .as_array()
        .cloned()
        .unwrap_or_default()
}

/// The contacts with this last name, from the list (the search index lags new records).
pub async fn contacts_named(app: &TestApp, last_name: &str) -> Vec<Value> {
    contacts_where(app, "lastName", last_name).await
}

/// The contacts whose `field` is `value`, from the list (the search index lags new records).
pub async fn contacts_where(app: &TestApp, field: &str, value: &str) -> Vec<Value> {
    desk(app, "/contacts?limit=99").await["data"]
        .as_array()
        .cloned()
        .unwrap_or_default()
        .into_iter()
        .filter(|c| c[field] == value)
        .collect()
}

/// Saves the rules through the page's server function (form encoding of `RulesInput`).
pub async fn save_rules(app: &TestApp, fields: &[(&str, &str)]) -> (u16, Value) {
    save_rules_with_group(app, fields, None).await
}

/// The same, syncing to a group created in place (`new_group_name`).
pub async fn save_rules_with_group(
    app: &TestApp,
    fields: &[(&str, &str)],
    new_group: Option<&str>,
) -> (u16, Value) {
    let mut form: Vec<(String, String)> = fields
        .iter()
        .map(|(k, v)| (format!("input[settings][{k}]"), v.to_string()))
        .collect();
    for (k, default) in [
        ("sync_contacts", "false"),
        ("sync_module", "contacts"),
        ("create_contacts", "false"),
        ("create_inbound", "false"),
        ("create_outbound", "false"),
        ("create_as", "contacts"),
        ("create_tickets", "false"),
        ("ticket_when", "after_call_ends"),
        ("ticket_inbound_answered", "false"),
        ("ticket_inbound_missed", "false"),
        ("ticket_outbound_answered", "false"),
        ("ticket_outbound_unanswered", "false"),
        ("log_calls", "false"),
    ] {
        if !fields.iter().any(|(f, _)| *f == k) {
            form.push((format!("input[settings][{k}]"), default.into()));
        }
    }
    if let Some(name) = new_group {
        form.push(("input[new_group_name]".into(), name.into()));
    }
    let f: Vec<(&str, &str)> = form.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    app.call("helpdesk/rules/save", &f).await
}

/// Places a call with the simulator (through the signed public intake): answered or not.
pub async fn call(app: &TestApp, inbound: bool, number: &str, ext: &str, answer: bool) -> String {
    let (s, id) = app
        .call(
            "calls/simulate",
            &[
                (
                    "action[Place][inbound]",
                    if inbound { "true" } else { "false" },
                ),
                ("action[Place][external_number]", number),
                ("action[Place][extensions]", ext),
            ],
        )
        .await;
    assert_eq!(s, 200, "{id}");
    let id = id.as_str().unwrap().to_string();
    if answer {
        let (s, b) = app
            .call(
                "calls/simulate",
                &[
                    ("action[Answer][call_id]", &id),
                    ("action[Answer][extension]", ext),
                ],
            )
            .await;
        assert_eq!(s, 200, "{b}");
        let (s, b) = app
            .call("calls/simulate", &[("action[HangUp][call_id]", &id)])
            .await;
        assert_eq!(s, 200, "{b}");
    } else {
        let (s, b) = app
            .call("calls/simulate", &[("action[RingOut][call_id]", &id)])
            .await;
        assert_eq!(s, 200, "{b}");
    }
    id
}

/// What a restart of the server does to the jobs it left running, and the time from which
/// they are due again: on SQLite (one process's) at once; on PostgreSQL, where another
/// instance may be running them, when their lease runs out.
pub async fn restart(app: &TestApp) -> i64 {
    use sqlx::Row;
    app.engine.jobs.recover_jobs().await.unwrap();
    let lease: Option<i64> =
        sqlx::query("SELECT MAX(lease_until_ms) FROM job WHERE state = 'running'")
            .fetch_one(app.engine.store.pool())
            .await
            .unwrap()
            .get(0);
    match lease {
        Some(until) => {
            assert!(
                crate::support::db::postgres().is_some(),
                "SQLite: a restart puts every running job back"
            );
            until + 1
        }
        None => app::engine::calls::now_ms(),
    }
}

pub async fn drain(app: &TestApp, at_ms: i64) -> usize {
    app.engine.run_due_jobs(at_ms).await.unwrap()
}

pub async fn jobs_of(app: &TestApp, call_id: &str) -> Vec<Value> {
    let (s, d) = app.call("calls/detail", &[("call_id", call_id)]).await;
    assert_eq!(s, 200, "{d}");
    d["jobs"].as_array().cloned().unwrap()
}

pub fn job<'a>(jobs: &'a [Value], kind: &str) -> &'a Value {
    jobs.iter()
        .find(|j| j["kind"] == kind)
        .unwrap_or_else(|| panic!("no {kind} job in {jobs:?}"))
}

/// Saves the PBX sandbox as the PBX (what **Use the PBX sandbox** fills in), with its events
/// by `via` (`Webhook` or `WebSocket`); not tested yet.
pub async fn save_pbx_sandbox(app: &TestApp, via: &str) {
    let (_, v) = app.call("pbx/connection", &[]).await;
    let (base, id) = (
        v["sandbox"]["base_url"].as_str().unwrap().to_string(),
        v["sandbox"]["client_id"].as_str().unwrap().to_string(),
    );
    let (s, b) = app
        .call(
            "pbx/connection/save",
            &[
                ("input[base_url]", &base),
                ("input[client_id]", &id),
                ("input[use_sandbox_secret]", "true"),
                ("input[events_via]", via),
            ],
        )
        .await;
    assert_eq!(s, 200, "{b}");
}

/// Rings `ext` from `number` (inbound), through the simulator and the public intake.
pub async fn ring(app: &TestApp, number: &str, ext: &str) -> String {
    let (s, id) = app
        .call(
            "calls/simulate",
            &[
                ("action[Place][inbound]", "true"),
                ("action[Place][external_number]", number),
                ("action[Place][extensions]", ext),
            ],
        )
        .await;
    assert_eq!(s, 200, "{id}");
    id.as_str().unwrap().to_string()
}
