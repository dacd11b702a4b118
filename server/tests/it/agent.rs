//! Black-box tests of the agent web client's sign-in (issue 7): an extension and its
//! web-client password, a session of its own, throttling, and no admin rights.

use crate::support::app::*;

#[tokio::test]
async fn agents_sign_in_with_their_extension_and_get_no_admin_rights() {
    let app = TestApp::spawn().await;
    app.connect().await;
    app.call("helpdesk/users/refresh", &[]).await;
    app.call("helpdesk/users/auto_bind", &[]).await;
    let id = app.extension_id("2005").await;
    let (s, _) = app
        .call(
            "pbx/extensions/password",
            &[("id", &id), ("password", "kristin-web-1")],
        )
        .await;
    assert_eq!(s, 200);

    let agent = TestApp::browser();
    // Nobody signed in yet.
    let (s, me) = app.call_with(&agent, "agent/me", &[]).await;
    assert_eq!((s, me.clone()), (200, serde_json::Value::Null), "{me}");
    // A wrong password, an extension without one, an unknown one: 401, the same answer.
    for (ext, pw) in [
        ("2005", "wrong-password"),
        ("2006", "kristin-web-1"),
        ("9999", "x"),
    ] {
        let (s, body) = app
            .call_with(
                &agent,
                "agent/sign_in",
                &[("extension", ext), ("password", pw)],
            )
            .await;
        assert_eq!(s, 401, "{ext}: {body}");
        assert!(body.to_string().contains("BadCredentials"), "{body}");
    }
    let (s, me) = app
        .call_with(
            &agent,
            "agent/sign_in",
            &[("extension", " 2005 "), ("password", "kristin-web-1")],
        )
        .await;
    assert_eq!(s, 200, "{me}");
    assert_eq!(me["extension"], "2005");
    assert_eq!(me["agent_name"], "Kristin Hale");
    let (_, me) = app.call_with(&agent, "agent/me", &[]).await;
    assert_eq!(me["extension"], "2005");

    // An agent's session is not an admin's.
    let (s, _) = app.call_with(&agent, "pbx/extensions", &[]).await;
    assert_eq!(s, 401);
    let (s, _) = app
        .call_with(
            &agent,
            "calls/log",
            &[
                ("filter[number]", ""),
                ("filter[extension]", ""),
                ("filter[outcome]", ""),
            ],
        )
        .await;
    assert_eq!(s, 401);

    // Removing the password ends what the session can do.
    let (s, _) = app
        .call("pbx/extensions/password", &[("id", &id), ("password", "")])
        .await;
    assert_eq!(s, 200);
    let (_, me) = app.call_with(&agent, "agent/me", &[]).await;
    assert_eq!(me, serde_json::Value::Null);

    // Sign-out.
    let (s, _) = app
        .call(
            "pbx/extensions/password",
            &[("id", &id), ("password", "kristin-web-2")],
        )
        .await;
    assert_eq!(s, 200);
    let (s, _) = app
        .call_with(
            &agent,
            "agent/sign_in",
            &[("extension", "2005"), ("password", "kristin-web-2")],
        )
        .await;
    assert_eq!(s, 200);
    let (s, _) = app.call_with(&agent, "agent/sign_out", &[]).await;
    assert_eq!(s, 200);
    let (_, me) = app.call_with(&agent, "agent/me", &[]).await;
    assert_eq!(me, serde_json::Value::Null);

    // Guessing is throttled per extension (and per address).
    let guesser = TestApp::browser();
    let mut last = 0;
    for _ in 0..7 {
        let (s, _) = app
            .call_with(
                &guesser,
                "agent/sign_in",
                &[("extension", "2005"), ("password", "guess-guess")],
            )
            .await;
        last = s;
    }
    assert_eq!(last, 429);
}

// --- the live connection, the screen pop and click to call -------------------------------------

use app::engine::calls::now_ms;
use serde_json::{json, Value};

use crate::support::flows::ring;
use crate::support::live::Live;

/// An agent signed in to the web client on `ext` (its password set by the admin first).
async fn agent(app: &TestApp, ext: &str) -> reqwest::Client {
    app.agent(ext, &format!("web-client-{ext}")).await
}

async fn hang_up(app: &TestApp, call_id: &str) {
    let (s, b) = app
        .call("calls/simulate", &[("action[HangUp][call_id]", call_id)])
        .await;
    assert_eq!(s, 200, "{b}");
}

async fn claim(app: &TestApp, c: &reqwest::Client, call_id: &str) -> Value {
    let (s, b) = app.call_with(c, "agent/pop", &[("call_id", call_id)]).await;
    assert_eq!(s, 200, "{b}");
    b
}

#[tokio::test]
async fn screen_pops_reach_only_their_agent_once_and_only_for_known_callers() {
    let app = TestApp::spawn().await;
    app.connect().await;
    app.call("helpdesk/users/refresh", &[]).await;
    app.call("helpdesk/users/auto_bind", &[]).await;
    assert!(app.engine.directory.bound_agent("2005").is_some());
    assert!(
        app.engine.directory.bound_agent("2009").is_none(),
        "Reception has no e-mail"
    );

    let kristin = agent(&app, "2005").await;
    let liam = agent(&app, "2006").await;
    let reception = agent(&app, "2009").await;
    let mut tab1 = Live::open(&app, &kristin).await.unwrap();
    let mut tab2 = Live::open(&app, &kristin).await.unwrap();
    let mut other = Live::open(&app, &liam).await.unwrap();

    // Signed out, or never signed in: no connection at all.
    assert_eq!(Live::open(&app, &TestApp::browser()).await.err(), Some(401));
    assert_eq!(
        Live::open(&app, &app.http).await.err(),
        Some(401),
        "the admin is no agent"
    );

    // Paul Young (a sandbox contact) calls Kristin; every rule is off. The first ring is a
    // cache miss: the call shows, and the pop follows the lookup.
    let c1 = ring(&app, "5503301", "2005").await;
    let e = tab1.expect_call(&c1, "Ringing").await;
    assert_eq!(
        (e["direction"].as_str(), e["number"].as_str()),
        (Some("inbound"), Some("5503301"))
    );
    assert_eq!(e["caller"], Value::Null);
    tab2.expect_call(&c1, "Ringing").await;
    assert_eq!(
        app.engine.run_due_jobs(now_ms()).await.unwrap(),
        1,
        "the pop's lookup"
    );
    let pop = tab1.next_not_call().await.unwrap();
    assert_eq!(pop["type"], "pop", "{pop}");
    assert_eq!(pop["call_id"], c1.as_str());
    assert_eq!(pop["name"], "Paul Young");
    let url = pop["url"].as_str().unwrap().to_string();
    assert!(
        url.contains("/sandbox/desk/support/") && url.contains("#Contacts/dv/"),
        "{url}"
    );
    assert_eq!(
        tab2.next_not_call().await.unwrap(),
        pop,
        "every tab hears it"
    );

    // A reconnecting tab gets the unclaimed pop again, first thing.
    let mut tab3 = Live::open(&app, &kristin).await.unwrap();
    assert_eq!(tab3.next().await.unwrap(), pop);
    // One tab opens it; the others are refused.
    assert_eq!(claim(&app, &kristin, &c1).await, Value::Bool(true));
    assert_eq!(claim(&app, &kristin, &c1).await, Value::Bool(false));
    // Another agent cannot claim it either.
    assert_eq!(claim(&app, &liam, &c1).await, Value::Bool(false));
    drop(tab3);
    let mut tab3 = Live::open(&app, &kristin).await.unwrap();
    hang_up(&app, &c1).await;
    // Claimed: no pop again on reconnect, just the call's end.
    tab3.expect_call(&c1, "Ended").await;
    tab1.expect_call(&c1, "Ended").await;
    tab2.expect_call(&c1, "Ended").await;

    // Nothing of Kristin's reached Liam: his first event is his own call.
    let c2 = ring(&app, "+8613800138000", "2006").await;
    let e = other.next().await.unwrap();
    assert_eq!(
        (e["type"].as_str(), e["call_id"].as_str()),
        (Some("call"), Some(c2.as_str())),
        "{e}"
    );
    hang_up(&app, &c2).await;
    other.expect_call(&c2, "Ended").await;
    app.engine.run_due_jobs(now_ms()).await.unwrap();

    // The repeat caller is in the cache: the pop comes with the ring, no job run.
    let c3 = ring(&app, "5503301", "2005").await;
    // …and nothing of Liam's reached Kristin: after her last call, the next thing every
    // tab of hers hears is this one.
    let e = tab1.next().await.unwrap();
    assert_eq!(
        (e["call_id"].as_str(), e["state"].as_str()),
        (Some(c3.as_str()), Some("Ringing")),
        "{e}"
    );
    for tab in [&mut tab2, &mut tab3] {
        let e2 = tab.next().await.unwrap();
        assert_eq!(e2["call_id"].as_str(), Some(c3.as_str()), "{e2}");
    }
    assert_eq!(e["caller"]["name"], "Paul Young");
    let pop3 = tab1.next().await.unwrap();
    assert_eq!(
        (pop3["type"].as_str(), pop3["call_id"].as_str()),
        (Some("pop"), Some(c3.as_str()))
    );
    // Answered: over for the other tabs' pops too, ended for everyone at hang-up.
    hang_up(&app, &c3).await;
    tab1.expect_call(&c3, "Ended").await;

    // An unknown number: looked up, found nowhere, nothing pops.
    let c4 = ring(&app, "+1 555 0199 0000", "2005").await;
    tab1.expect_call(&c4, "Ringing").await;
    app.engine.run_due_jobs(now_ms()).await.unwrap();
    hang_up(&app, &c4).await;
    // The next event after the ringing is the end: no pop in between.
    let e = tab1.next().await.unwrap();
    assert_eq!(
        (
            e["type"].as_str(),
            e["call_id"].as_str(),
            e["state"].as_str()
        ),
        (Some("call"), Some(c4.as_str()), Some("Ended")),
        "{e}"
    );

    // …unless a contact is created for the call: then it pops once created.
    let (s, b) = app
        .call(
            "helpdesk/rules/save",
            &[
                ("input[settings][sync_contacts]", "false"),
                ("input[settings][sync_module]", "contacts"),
                ("input[settings][create_contacts]", "true"),
                ("input[settings][create_inbound]", "true"),
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
        )
        .await;
    assert_eq!(s, 200, "{b}");
    let c5 = ring(&app, "+1 555 0199 0001", "2005").await;
    tab1.expect_call(&c5, "Ringing").await;
    // The lookup hands over to the creation, which the lookup then waits for.
    for _ in 0..3 {
        app.engine
            .run_due_jobs(now_ms() + 10 * 60_000)
            .await
            .unwrap();
    }
    let pop5 = tab1.next_not_call().await.unwrap();
    assert_eq!(
        (pop5["type"].as_str(), pop5["call_id"].as_str()),
        (Some("pop"), Some(c5.as_str())),
        "{pop5}"
    );
    assert_eq!(pop5["name"], "Automatic New Contact +1 555 0199 0001");
    hang_up(&app, &c5).await;
    tab1.expect_call(&c5, "Ended").await;
    // Three pops offered (c1, c3, c5); at least the four open tabs connected.
    let metrics = app.get_text("/metrics").await;
    assert!(
        metrics.contains("\nhelpdesk_screen_pops_total 3\n"),
        "{metrics}"
    );
    let conns: i64 = metrics
        .lines()
        .find_map(|l| l.strip_prefix("helpdesk_agent_connections "))
        .unwrap()
        .parse()
        .unwrap();
    assert!(conns >= 4, "{metrics}");

    // An unbound extension sees its calls, with no pop (and no caller from Zoho).
    let mut rec = Live::open(&app, &reception).await.unwrap();
    let c6 = ring(&app, "5503301", "2009").await;
    let e = rec.expect_call(&c6, "Ringing").await;
    assert_eq!(e["caller"], Value::Null);
    hang_up(&app, &c6).await;
    let e = rec.next().await.unwrap();
    assert_eq!(
        (e["type"].as_str(), e["state"].as_str()),
        (Some("call"), Some("Ended")),
        "{e}"
    );

    // An internal call (2006 calls 2005): shown, never popped.
    let at = time::OffsetDateTime::now_utc()
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap();
    let internal = |kind: &str| {
        serde_json::json!({"event_id": format!("int-1-{kind}"), "call_id": "int-1", "kind": kind,
            "at": at, "direction": "internal", "extension": "2005",
            "result": if kind == "ended" { Some("answered") } else { None }})
    };
    for kind in ["ringing", "ended"] {
        let (s, b) = app.post_signed(&internal(kind)).await;
        assert_eq!(s, 200, "{b}");
    }
    let e = tab1.next().await.unwrap();
    assert_eq!(
        (
            e["type"].as_str(),
            e["call_id"].as_str(),
            e["direction"].as_str(),
            e["state"].as_str()
        ),
        (
            Some("call"),
            Some("int-1"),
            Some("internal"),
            Some("Ringing")
        ),
        "{e}"
    );
    let e = tab1.next().await.unwrap();
    assert_eq!(
        (
            e["type"].as_str(),
            e["call_id"].as_str(),
            e["state"].as_str()
        ),
        (Some("call"), Some("int-1"), Some("Ended")),
        "{e}"
    );

    // Disabled: the cached caller rings, nothing pops.
    let (s, b) = app.call("helpdesk/enable", &[("on", "false")]).await;
    assert_eq!(s, 200, "{b}");
    let c7 = ring(&app, "5503301", "2005").await;
    let e = tab1.expect_call(&c7, "Ringing").await;
    assert_eq!(e["caller"], Value::Null);
    hang_up(&app, &c7).await;
    let e = tab1.next().await.unwrap();
    assert_eq!(
        (
            e["type"].as_str(),
            e["call_id"].as_str(),
            e["state"].as_str()
        ),
        (Some("call"), Some(c7.as_str()), Some("Ended")),
        "{e}"
    );

    // The agent's calls: the latest ended ones, newest first, none of Liam's.
    let (s, calls) = app.call_with(&kristin, "agent/calls", &[]).await;
    assert_eq!(s, 200, "{calls}");
    assert!(calls["active"].as_array().unwrap().is_empty());
    let recent: Vec<&str> = calls["recent"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["call_id"].as_str().unwrap())
        .collect();
    assert_eq!(recent, vec![c7.as_str(), "int-1", &c5, &c4, &c3, &c1]);

    // Changing the password signs the agent out: the live connection says so and ends.
    let id = app.extension_id("2005").await;
    let (s, _) = app
        .call(
            "pbx/extensions/password",
            &[("id", &id), ("password", "a-new-password")],
        )
        .await;
    assert_eq!(s, 200);
    assert_eq!(tab1.next().await.unwrap()["type"], "signed_out");
    assert_eq!(tab1.next().await, None, "the stream ends");
    assert_eq!(Live::open(&app, &kristin).await.err(), Some(401));
    let (s, _) = app.call_with(&kristin, "agent/calls", &[]).await;
    assert_eq!(s, 401);
}

#[tokio::test]
async fn dialling_cleans_the_number_and_calls_from_the_agents_extension() {
    let app = TestApp::spawn().await;
    app.connect().await;
    let kristin = agent(&app, "2005").await;

    // Without an agent's session (anonymous, or an admin) dialling is refused: authz.rs.

    // A bad number is refused with the field named.
    let (s, b) = app
        .call_with(&kristin, "agent/dial", &[("number", "tel:call-me")])
        .await;
    assert_eq!(
        (s, b),
        (
            400,
            json!({"Invalid": [{"field": "external_number", "problem": "NotPhoneNumber"}]})
        )
    );

    // A tel: link's number, as the browser hands it over: placed from 2005, outbound.
    let mut live = Live::open(&app, &kristin).await.unwrap();
    let (s, id) = app
        .call_with(
            &kristin,
            "agent/dial",
            &[("number", "tel%3A%2B1-555-010-2030")],
        )
        .await;
    assert_eq!(s, 200, "{id}");
    let id = id.as_str().unwrap().to_string();
    let e = live.expect_call(&id, "Ringing").await;
    assert_eq!(
        (e["direction"].as_str(), e["number"].as_str()),
        (Some("outbound"), Some("+1-555-010-2030"))
    );
    let (_, d) = app.call("calls/detail", &[("call_id", &id)]).await;
    assert_eq!(d["summary"]["direction"], "outbound", "{d}");
    assert_eq!(
        d["summary"]["extensions"],
        serde_json::json!(["2005"]),
        "{d}"
    );
    assert_eq!(
        d["events"][0]["source"], "native",
        "through the public intake: {d}"
    );
}

#[tokio::test]
async fn an_agent_answers_and_hangs_up_its_own_calls_only() {
    let app = TestApp::spawn().await;
    app.connect().await;
    let kristin = agent(&app, "2005").await;
    let liam = agent(&app, "2006").await;
    let mut live = Live::open(&app, &kristin).await.unwrap();
    let control = |c: &reqwest::Client, id: &str, answer: bool| {
        let (c, id) = (c.clone(), id.to_string());
        let app = &app;
        async move {
            app.call_with(
                &c,
                "agent/call",
                &[
                    ("call_id", id.as_str()),
                    ("answer", if answer { "true" } else { "false" }),
                ],
            )
            .await
        }
    };

    let c1 = ring(&app, "5503301", "2005").await;
    live.expect_call(&c1, "Ringing").await;
    // Not Liam's call, nor anybody's without a session; hanging up a ringing inbound call is
    // not the agent's to do (it rings on).
    let (s, b) = control(&liam, &c1, true).await;
    assert_eq!((s, b), (404, json!("NotFound")), "another agent's call");
    let (s, _) = control(&TestApp::browser(), &c1, true).await;
    assert_eq!(s, 401);
    let (s, b) = control(&kristin, &c1, false).await;
    assert_eq!(
        (s, b),
        (
            400,
            json!({"Invalid": [{"field": "call", "problem": "NotRinging"}]})
        ),
        "hanging up a ringing inbound call"
    );
    // Answer, then hang up: the PBX's events come back through the intake.
    let (s, b) = control(&kristin, &c1, true).await;
    assert_eq!(s, 200, "{b}");
    live.expect_call(&c1, "Talking").await;
    let (s, b) = control(&kristin, &c1, false).await;
    assert_eq!(s, 200, "{b}");
    let e = live.expect_call(&c1, "Ended").await;
    assert_eq!(e["call_type"], "Inbound Answered");
    // Over: nothing more to do with it.
    let (s, b) = control(&kristin, &c1, false).await;
    assert_eq!(
        (s, b),
        (
            400,
            json!({"Invalid": [{"field": "call", "problem": "CallEnded"}]})
        )
    );

    // The agent's own outbound call can be cancelled while it rings.
    let (s, id) = app
        .call_with(&kristin, "agent/dial", &[("number", "5503301")])
        .await;
    assert_eq!(s, 200, "{id}");
    let id = id.as_str().unwrap().to_string();
    live.expect_call(&id, "Ringing").await;
    let (s, b) = control(&kristin, &id, false).await;
    assert_eq!(s, 200, "{b}");
    let e = live.expect_call(&id, "Ended").await;
    assert_eq!(e["call_type"], "Outbound Unanswered");
}

/// Connected, the sandbox's users bound, and an agent signed in on 2005 in `extra`'s settings.
async fn bound_app(extra: &[(&str, &str)]) -> TestApp {
    let app = TestApp::spawn_with_env(extra, None).await;
    app.connect().await;
    app.call("helpdesk/users/refresh", &[]).await;
    app.call("helpdesk/users/auto_bind", &[]).await;
    app
}

#[tokio::test]
async fn signing_out_ends_the_live_connection_before_any_further_call() {
    let app = bound_app(&[]).await;
    let c = agent(&app, "2005").await;
    let mut live = Live::open(&app, &c).await.unwrap();
    let (s, _) = app.call_with(&c, "agent/sign_out", &[]).await;
    assert_eq!(s, 200);
    let id = ring(&app, "5503301", "2005").await;
    assert_eq!(live.next().await.unwrap()["type"], "signed_out");
    assert!(live.next().await.is_none(), "the stream ends");
    hang_up(&app, &id).await;
    // The cookie opens no new stream.
    assert_eq!(Live::open(&app, &c).await.err(), Some(401));

    // The admin's sign-out in the same browser signs its agent out too.
    let both = agent(&app, "2005").await;
    let (s, _) = app
        .call_with(
            &both,
            "sign_in",
            &[("username", "admin"), ("password", ADMIN_PASSWORD)],
        )
        .await;
    assert!(s < 400);
    let mut live = Live::open(&app, &both).await.unwrap();
    let (s, _) = app.call_with(&both, "sign_out", &[]).await;
    assert!(s < 400);
    assert_eq!(live.next().await.unwrap()["type"], "signed_out");
    assert!(live.next().await.is_none());
}

#[tokio::test]
async fn the_live_connection_ends_when_the_session_expires() {
    let app = bound_app(&[("HELPDESK_SESSION_IDLE_SECS", "2")]).await;
    let c = agent(&app, "2005").await;
    let mut live = Live::open(&app, &c).await.unwrap();
    // Nothing happens; the session's two seconds run out, and the stream says so.
    assert_eq!(live.next().await.unwrap()["type"], "signed_out");
    assert!(live.next().await.is_none());
}

#[tokio::test]
async fn live_connections_are_capped_per_extension() {
    let app = bound_app(&[]).await;
    let c = agent(&app, "2005").await;
    let mut open = Vec::new();
    for _ in 0..server::agent::MAX_PER_EXTENSION {
        open.push(Live::open(&app, &c).await.unwrap());
    }
    assert_eq!(Live::open(&app, &c).await.err(), Some(429));
    // Another extension is not affected.
    let other = agent(&app, "2006").await;
    assert!(Live::open(&app, &other).await.is_ok());
    drop(open);
}

#[tokio::test]
async fn a_record_link_off_the_connected_desk_never_pops_and_is_no_link() {
    let app = bound_app(&[]).await;
    // Zoho (here the sandbox) hands out links to another host.
    app.sandbox_control(
        "",
        serde_json::json!({"web_url_base": "https://evil.example/desk"}),
    )
    .await;
    let c = agent(&app, "2005").await;
    let mut live = Live::open(&app, &c).await.unwrap();
    let id = ring(&app, "5503301", "2005").await;
    live.expect_call(&id, "Ringing").await;
    app.engine.run_due_jobs(now_ms()).await.unwrap();
    // The caller is known, shown by name, without a link; and nothing pops.
    let (_, calls) = app.call_with(&c, "agent/calls", &[]).await;
    let caller = &calls["active"][0]["caller"];
    assert_eq!(caller["name"], "Paul Young", "{calls}");
    assert_eq!(caller["url"], Value::Null, "{calls}");
    hang_up(&app, &id).await;
    // Only call updates until the end: a pop in between fails here.
    live.expect_call(&id, "Ended").await;
    // The log shows the lookup's result without the foreign link.
    let (_, call) = app.call("calls/detail", &[("call_id", id.as_str())]).await;
    let jobs = call["jobs"].as_array().unwrap();
    assert!(!jobs.is_empty(), "{call}");
    assert!(jobs.iter().all(|j| j["link"].is_null()), "{call}");

    // Back to the sandbox's own pages: another caller (not in the lookup cache) pops with its
    // link.
    app.sandbox_control("", serde_json::json!({"web_url_base": null}))
        .await;
    let id = ring(&app, "+8613800138000", "2005").await;
    live.expect_call(&id, "Ringing").await;
    app.engine.run_due_jobs(now_ms()).await.unwrap();
    let pop = live.next_not_call().await.unwrap();
    assert_eq!(pop["type"], "pop", "{pop}");
    assert!(pop["url"].as_str().unwrap().starts_with(&app.base));
}
