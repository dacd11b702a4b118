//! Black-box tests of the Zoho Desk users and their bindings: paging over a large org, Auto
//! Bind by e-mail, manual bindings and their conflicts, agents that vanish from Zoho.

use crate::support::app::*;
use serde_json::{json, Value};

fn user<'a>(view: &'a Value, name: &str) -> &'a Value {
    view["users"]
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["name"] == name)
        .unwrap_or_else(|| panic!("no user {name}"))
}

fn ext_id(view: &Value, number: &str) -> String {
    view["extensions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["number"] == number)
        .unwrap()["id"]
        .to_string()
}

#[tokio::test]
async fn a_large_org_is_fetched_bound_by_email_and_by_hand() {
    let app = TestApp::spawn().await;
    app.connect().await;
    app.sandbox_control("/agents", json!({"count": 450})).await;

    let (s, report) = app.call("helpdesk/users/refresh", &[]).await;
    assert_eq!(s, 200, "{report}");
    assert_eq!(report, json!({"fetched": 458, "vanished": []}));
    let stats = app.sandbox_control("", json!({})).await;
    assert_eq!(
        stats["stats"]["by_operation"]["GET /agents"], 3,
        "three pages of 200"
    );

    let (_, report) = app.call("helpdesk/users/auto_bind", &[]).await;
    assert_eq!(report["bound"], 5, "{report}");
    let unmatched = report["unmatched"].as_array().unwrap();
    assert_eq!(
        unmatched.len(),
        2 + 405,
        "Emma, Mia and the active generated agents"
    );
    assert!(unmatched.contains(&json!("Emma Wang")));

    let (_, view) = app.call("helpdesk/users", &[]).await;
    assert_eq!(view["users"].as_array().unwrap().len(), 458);
    // Case and spaces do not matter; disabled agents are never bound.
    assert_eq!(
        user(&view, "Sofia Rossi")["extension_id"].to_string(),
        ext_id(&view, "2007")
    );
    assert_eq!(
        user(&view, "Kristin Hale")["extension_id"].to_string(),
        ext_id(&view, "2005")
    );
    assert_eq!(user(&view, "Lucas Meyer")["extension_id"], Value::Null);
    assert_eq!(user(&view, "Kristin Hale")["manual"], false);

    // By hand: Emma gets the Reception extension.
    let emma = user(&view, "Emma Wang")["agent_id"]
        .as_str()
        .unwrap()
        .to_string();
    let reception = ext_id(&view, "2009");
    let (s, body) = app
        .call(
            "helpdesk/users/save",
            &[
                ("changes[0][agent_id]", &emma),
                ("changes[0][extension_id]", &reception),
            ],
        )
        .await;
    assert_eq!(s, 200, "{body}");
    // The engine's in-memory lookup follows at once.
    let at = |n: &str| {
        app.engine
            .directory
            .bound_agent(n)
            .map(|b| b.agent_name.clone())
    };
    assert_eq!(at("2009").as_deref(), Some("Emma Wang"));
    assert_eq!(at("2005").as_deref(), Some("Kristin Hale"));
    assert_eq!(at("2010"), None, "a disabled agent is never bound");

    // One extension, one agent: the conflict names the other side.
    let mia = user(&view, "Mia Tanaka")["agent_id"]
        .as_str()
        .unwrap()
        .to_string();
    let (_, body) = app
        .call(
            "helpdesk/users/save",
            &[
                ("changes[0][agent_id]", &mia),
                ("changes[0][extension_id]", &ext_id(&view, "2005")),
            ],
        )
        .await;
    assert_eq!(
        body,
        json!({"Binding": {"ExtensionTaken": {"extension": "2005", "other_agent": "Kristin Hale"}}})
    );
    let lucas = user(&view, "Lucas Meyer")["agent_id"]
        .as_str()
        .unwrap()
        .to_string();
    let (_, body) = app
        .call(
            "helpdesk/users/save",
            &[
                ("changes[0][agent_id]", &lucas),
                ("changes[0][extension_id]", &ext_id(&view, "2010")),
            ],
        )
        .await;
    assert_eq!(
        body,
        json!({"Binding": {"AgentDisabled": {"agent": "Lucas Meyer"}}})
    );

    // Auto Bind again changes nothing made by hand.
    let (_, report) = app.call("helpdesk/users/auto_bind", &[]).await;
    assert_eq!(report["bound"], 0);
    let (_, view) = app.call("helpdesk/users", &[]).await;
    assert_eq!(
        user(&view, "Emma Wang")["extension_id"].to_string(),
        reception
    );
    assert_eq!(user(&view, "Emma Wang")["manual"], true);

    // Kristin leaves the Zoho org: her binding goes, and the page says so.
    let kristin = user(&view, "Kristin Hale")["agent_id"]
        .as_str()
        .unwrap()
        .to_string();
    app.http
        .delete(format!("{}/sandbox/control/agents/{kristin}", app.base))
        .send()
        .await
        .unwrap();
    let (_, report) = app.call("helpdesk/users/refresh", &[]).await;
    assert_eq!(
        report,
        json!({"fetched": 457, "vanished": ["Kristin Hale"]})
    );
    let (_, view) = app.call("helpdesk/users", &[]).await;
    assert_eq!(view["vanished"], json!([["Kristin Hale", "2005"]]));
    assert_eq!(at("2005"), None, "a vanished agent's extension is free");
    assert_eq!(at("2009").as_deref(), Some("Emma Wang"));
    assert!(view["users"]
        .as_array()
        .unwrap()
        .iter()
        .all(|u| u["name"] != "Kristin Hale"));
}

#[tokio::test]
async fn a_refresh_reports_its_progress_while_it_runs() {
    let app = TestApp::spawn().await;
    app.connect().await;
    app.sandbox_control("/agents", json!({"count": 450})).await;
    let (_, idle) = app.call("helpdesk/users/progress", &[]).await;
    assert_eq!(idle, Value::Null, "nothing runs");

    // Each Zoho answer takes a while, so the refresh can be watched between pages.
    app.sandbox_control("", json!({"latency_ms": 150})).await;
    let running = {
        let base = app.base.clone();
        let http = app.http.clone();
        tokio::spawn(async move {
            http.post(format!("{base}/api/helpdesk/users/refresh"))
                .header("Origin", &base)
                .header("Accept", "application/json")
                .send()
                .await
                .unwrap()
                .json::<Value>()
                .await
                .unwrap()
        })
    };
    let mut seen = Vec::new();
    while !running.is_finished() {
        let (_, p) = app.call("helpdesk/users/progress", &[]).await;
        if !p.is_null() && seen.last() != Some(&p) {
            seen.push(p);
        }
    }
    let report = running.await.unwrap();
    assert_eq!(report["fetched"], 458);
    assert!(
        seen.contains(&json!({"fetched": 200, "total": 458})),
        "the running count after the first page, with the total: {seen:?}"
    );
    for p in &seen {
        assert!(p["fetched"].as_u64().unwrap() <= 458);
    }
    let (_, idle) = app.call("helpdesk/users/progress", &[]).await;
    assert_eq!(idle, Value::Null, "cleared at the end");

    // Anonymous callers learn nothing.
    let (s, _) = app
        .call_with(&TestApp::browser(), "helpdesk/users/progress", &[])
        .await;
    assert_eq!(s, 401);
}

#[tokio::test]
async fn refreshing_users_needs_a_connection() {
    let app = TestApp::spawn().await;
    app.sign_in().await;
    let (_, body) = app.call("helpdesk/users/refresh", &[]).await;
    assert_eq!(body, json!("NotConfigured"));
}

/// The users' forms answer with the page: Refresh goes on in the background (its answer comes
/// once it has begun; the directory then keeps what it did), Auto Bind closes its dialog, and
/// the bindings form changes only the rows that differ, all of them or none.
#[tokio::test]
async fn the_users_forms_answer_with_the_page() {
    let app = TestApp::spawn().await;
    app.connect().await;
    const PAGE: &str = "/integrations/helpdesk";
    let (_, last) = app.call("helpdesk/users/refresh/last", &[]).await;
    assert_eq!(last, Value::Null, "none yet");

    // Behind a slow Zoho, the form's answer comes once the refresh has begun.
    app.sandbox_control("", json!({"latency_ms": 100})).await;
    let mut steps = app.engine.directory.watch_users_refresh();
    let (s, to) = app.submit(PAGE, "helpdesk/users/refresh", &[]).await;
    assert_eq!((s, to.as_str()), (302, PAGE));
    let dir = &app.engine.directory;
    assert!(dir.users_refresh_progress().is_some() || dir.last_users_refresh().is_some());
    while dir.last_users_refresh().is_none() {
        steps.changed().await.unwrap();
    }
    app.sandbox_control("", json!({"latency_ms": 0})).await;
    let (_, last) = app.call("helpdesk/users/refresh/last", &[]).await;
    assert_eq!(last, json!({"Ok": {"fetched": 8, "vanished": []}}));

    // Auto Bind from its dialog: the dialog's view closes.
    let from = format!("{PAGE}?auto_bind=1");
    let (s, to) = app.submit(&from, "helpdesk/users/auto_bind", &[]).await;
    assert_eq!((s, to.as_str()), (302, PAGE));
    let (_, view) = app.call("helpdesk/users", &[]).await;
    let kristin = user(&view, "Kristin Hale").clone();
    assert_eq!(kristin["extension_id"].to_string(), ext_id(&view, "2005"));

    // By hand: Emma at Reception; Kristin's row sent as it is, an unknown agent ignored.
    let id = |u: &str| user(&view, u)["agent_id"].as_str().unwrap().to_string();
    let (emma, mia, kristin_id) = (id("Emma Wang"), id("Mia Tanaka"), id("Kristin Hale"));
    let reception = ext_id(&view, "2009");
    let kristins = ext_id(&view, "2005");
    let rows = |list: &[(&str, &str)]| -> Vec<(String, String)> {
        list.iter()
            .enumerate()
            .flat_map(|(i, (agent, ext))| {
                [
                    (format!("rows[{i}][agent_id]"), agent.to_string()),
                    (format!("rows[{i}][extension_id]"), ext.to_string()),
                ]
            })
            .collect()
    };
    let form = rows(&[
        (&kristin_id, &kristins),
        (&emma, &reception),
        ("no-such-agent", "1"),
    ]);
    let fields: Vec<(&str, &str)> = form.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let (s, to) = app.submit(PAGE, "helpdesk/users/save/form", &fields).await;
    assert_eq!((s, to.as_str()), (302, PAGE));
    let (_, view) = app.call("helpdesk/users", &[]).await;
    assert_eq!(
        user(&view, "Emma Wang")["extension_id"].to_string(),
        reception
    );
    assert_eq!(user(&view, "Emma Wang")["manual"], true);
    assert_eq!(user(&view, "Kristin Hale")["manual"], false, "unchanged");

    // Mia on Kristin's extension is refused, and Emma's row sent with it changes nothing.
    let form = rows(&[(&mia, &kristins), (&emma, "")]);
    let fields: Vec<(&str, &str)> = form.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let (s, _) = app.submit(PAGE, "helpdesk/users/save/form", &fields).await;
    assert_eq!(s, 302);
    let (_, view) = app.call("helpdesk/users", &[]).await;
    assert_eq!(user(&view, "Mia Tanaka")["extension_id"], Value::Null);
    assert_eq!(
        user(&view, "Emma Wang")["extension_id"].to_string(),
        reception
    );
    // The same refusal, to a script: the conflict named.
    let (s, body) = app.call("helpdesk/users/save/form", &fields[..2]).await;
    assert_eq!(s, 409, "{body}");
    assert_eq!(
        body,
        json!({"Binding": {"ExtensionTaken": {"extension": "2005", "other_agent": "Kristin Hale"}}})
    );
}
