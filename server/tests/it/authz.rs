//! Every server function authorizes itself (they are public endpoints; security.md): each one
//! the app registers is classified here as public, admin or agent, so that a new one cannot be
//! added without saying who may call it; each admin function refuses anonymous callers and
//! agents, and each agent function refuses anonymous callers and admins, with arguments that
//! would otherwise be valid (so the refusal is the authorization's, not the arguments').

use crate::support::app::*;
use serde_json::json;

/// Every server function that needs an admin, with arguments that would otherwise be valid.
const ADMIN_FUNCTIONS: &[(&str, &[(&str, &str)])] = &[
    ("helpdesk/connection", &[]),
    ("helpdesk/attention", &[]),
    (
        "helpdesk/save",
        &[
            ("input[accounts_url]", "https://accounts.zoho.com"),
            ("input[desk_url]", "https://desk.zoho.com"),
            ("input[client_id]", "1000.X"),
            ("input[client_secret]", "s"),
            ("input[use_sandbox_secret]", "false"),
        ],
    ),
    (
        "helpdesk/complete",
        &[("params[code]", "1000.x"), ("params[state]", "x")],
    ),
    ("helpdesk/outcome", &[("attempt", "x")]),
    ("helpdesk/choose_org", &[("org_id", "1")]),
    ("helpdesk/organizations", &[]),
    ("helpdesk/users", &[]),
    ("helpdesk/users/refresh", &[]),
    ("helpdesk/users/auto_bind", &[]),
    (
        "helpdesk/users/save",
        &[
            ("changes[0][agent_id]", "1"),
            ("changes[0][extension_id]", "1"),
        ],
    ),
    ("pbx/extensions", &[]),
    (
        "pbx/extensions/create",
        &[("input[number]", "3001"), ("input[name]", "X")],
    ),
    (
        "pbx/extensions/update",
        &[("id", "1"), ("input[number]", "3001"), ("input[name]", "X")],
    ),
    ("pbx/extensions/delete", &[("id", "1")]),
    ("pbx/extensions/import", &[("json", "[]")]),
    (
        "pbx/extensions/password",
        &[("id", "1"), ("password", "a-long-password")],
    ),
    ("helpdesk/enable", &[("on", "true")]),
    ("helpdesk/users/progress", &[]),
    ("helpdesk/rules", &[]),
    (
        "helpdesk/rules/save",
        &[
            ("input[settings][sync_contacts]", "false"),
            ("input[settings][sync_module]", "contacts"),
            ("input[settings][create_contacts]", "false"),
            ("input[settings][create_inbound]", "false"),
            ("input[settings][create_outbound]", "false"),
            ("input[settings][create_as]", "contacts"),
            ("input[settings][create_tickets]", "false"),
            ("input[settings][ticket_when]", "after_call_ends"),
            ("input[settings][ticket_inbound_answered]", "false"),
            ("input[settings][ticket_inbound_missed]", "false"),
            ("input[settings][ticket_outbound_answered]", "false"),
            ("input[settings][ticket_outbound_unanswered]", "false"),
            ("input[settings][log_calls]", "false"),
        ],
    ),
    ("helpdesk/rules/form", &[("rules[log_calls]", "true")]),
    ("helpdesk/attempt", &[("attempt", "00ff")]),
    ("helpdesk/users/refresh/last", &[]),
    (
        "helpdesk/users/save/form",
        &[("rows[0][agent_id]", "1"), ("rows[0][extension_id]", "")],
    ),
    ("helpdesk/disconnect", &[]),
    (
        "calls/log",
        &[
            ("filter[number]", ""),
            ("filter[extension]", ""),
            ("filter[outcome]", ""),
        ],
    ),
    ("calls/detail", &[("call_id", "c1")]),
    ("calls/jobs/retry", &[("job_id", "1")]),
    ("calls/version", &[]),
    ("calls/simulate", &[("action[HangUp][call_id]", "c1")]),
    (
        "calls/simulate/form",
        &[
            ("direction", "inbound"),
            ("external_number", "5503301"),
            ("extensions", "2005"),
        ],
    ),
    ("calls/simulator", &[]),
    ("calls/console", &[]),
    ("calls/webhook", &[]),
    ("calls/webhook/secret", &[]),
    ("pbx/contacts/groups", &[]),
    ("pbx/contacts/groups/create", &[("name", "Sales")]),
    (
        "pbx/contacts/groups/rename",
        &[("id", "1"), ("name", "Sales")],
    ),
    ("pbx/contacts/groups/delete", &[("id", "1")]),
    ("pbx/contacts", &[("group_id", "1")]),
    (
        "pbx/contacts/create",
        &[
            ("group_id", "1"),
            ("input[last_name]", "Young"),
            ("input[mobile_phone]", "5503301"),
        ],
    ),
    (
        "pbx/contacts/update",
        &[
            ("id", "1"),
            ("input[last_name]", "Young"),
            ("input[mobile_phone]", "5503301"),
        ],
    ),
    ("pbx/contacts/delete", &[("id", "1")]),
    ("pbx/connection", &[]),
    (
        "pbx/connection/save",
        &[
            ("input[base_url]", "https://pbx.example:8088"),
            ("input[client_id]", "id"),
            ("input[client_secret]", "secret"),
        ],
    ),
    ("pbx/connection/test", &[]),
    ("pbx/connection/disconnect", &[]),
    ("pbx/connection/sync", &[]),
    ("pbx/connection/sync/progress", &[]),
    ("pbx/connection/sync/last", &[]),
    ("pbx/extensions/phones", &[]),
];

/// Every server function that needs an agent signed in to the web client.
const AGENT_FUNCTIONS: &[(&str, &[(&str, &str)])] = &[
    ("agent/calls", &[]),
    ("agent/pop", &[("call_id", "c1")]),
    ("agent/dial", &[("number", "5503301")]),
    ("agent/call", &[("call_id", "c1"), ("answer", "true")]),
];

/// Open to anyone: signing in and out, and asking who is signed in.
const PUBLIC_FUNCTIONS: &[&str] = &[
    "sign_in",
    "sign_out",
    "whoami",
    "agent/sign_in",
    "agent/me",
    "agent/sign_out",
];

#[tokio::test]
async fn every_server_function_is_classified() {
    let _app = TestApp::spawn().await;
    let mut registered: Vec<String> = leptos::server_fn::axum::server_fn_paths()
        .map(|(p, _)| p.trim_start_matches("/api/").to_string())
        .collect();
    registered.sort();
    let mut known: Vec<String> = ADMIN_FUNCTIONS
        .iter()
        .chain(AGENT_FUNCTIONS)
        .map(|(e, _)| e.to_string())
        .chain(PUBLIC_FUNCTIONS.iter().map(|e| e.to_string()))
        .collect();
    known.sort();
    assert_eq!(registered, known, "classify every server function here");
}

#[tokio::test]
async fn admin_functions_refuse_anonymous_callers_and_agents() {
    let app = TestApp::spawn().await;
    // An agent, signed in to the web client (an admin set its password first).
    app.sign_in().await;
    let (_, list) = app.call("pbx/extensions", &[]).await;
    let number = list[0]["number"].as_str().unwrap().to_string();
    let agent = app.agent(&number, "agent-pass-1").await;
    let (s, _) = app.call("sign_out", &[]).await;
    assert!(s < 400);

    for (endpoint, args) in ADMIN_FUNCTIONS {
        for (who, client) in [("anonymous", &app.http), ("agent", &agent)] {
            let (status, body) = app.call_with(client, endpoint, args).await;
            assert_eq!(status, 401, "{endpoint} as {who}: {body}");
            assert_eq!(body, json!("Unauthorized"), "{endpoint} as {who}");
        }
    }
    // Nothing was saved by the refused save.
    app.sign_in().await;
    assert_eq!(app.connection().await["client_id"], "");
}

#[tokio::test]
async fn agent_functions_refuse_anonymous_callers_and_admins() {
    let app = TestApp::spawn().await;
    for (endpoint, args) in AGENT_FUNCTIONS {
        let (status, body) = app.call_with(&TestApp::browser(), endpoint, args).await;
        assert_eq!(status, 401, "{endpoint} anonymous: {body}");
        assert_eq!(body, json!("Unauthorized"), "{endpoint}");
    }
    app.sign_in().await;
    for (endpoint, args) in AGENT_FUNCTIONS {
        let (status, body) = app.call(endpoint, args).await;
        assert_eq!(status, 401, "{endpoint} as the admin: {body}");
    }
    let (_, log) = app
        .call(
            "calls/log",
            &[
                ("filter[number]", ""),
                ("filter[extension]", ""),
                ("filter[outcome]", ""),
            ],
        )
        .await;
    assert!(
        log.as_array().unwrap().is_empty(),
        "no call was placed: {log}"
    );
}
