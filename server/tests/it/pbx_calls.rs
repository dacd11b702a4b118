//! Calls through the PBX (issue 16): click to call goes to the PBX sandbox's `call/dial`, the
//! sandbox rings the agent's phone first and then the callee, and its own events, pushed to
//! this app's Yeastar webhook with the vendor's `X-Signature`, make the call in the log and its
//! ticket; a call the PBX cannot place reaches the agent in its words; the agent's Hang up is
//! `call/hangup` on the agent's own channel.

use app::engine::calls::now_ms;
use app::engine::yeastar::push_signature;
use app::model::PhoneStatus;
use serde_json::{json, Value};
use server::sandbox::pbx::push::DEMO_PBX_WEBHOOK_SECRET;

use crate::support::app::*;
use crate::support::flows::*;
use crate::support::live::Live;

/// Connects the app to the PBX sandbox as the admin does on the page: **Use the PBX sandbox**,
/// Save, Test connection.
async fn connect_pbx(app: &TestApp) {
    let (_, v) = app.call("pbx/connection", &[]).await;
    assert_eq!(v["webhook_secret_set"], false, "{v}");
    save_pbx_sandbox(app, "Webhook").await;
    let (s, v) = app.call("pbx/connection/test", &[]).await;
    assert_eq!((s, v["status"].as_str()), (200, Some("Connected")), "{v}");
    assert_eq!(v["webhook_secret_set"], true, "{v}");
    assert_eq!(
        v["webhook_url"],
        format!("{}/api/pbx/yeastar-events", app.base),
        "the URL to enter on the PBX"
    );
}

/// The members of the sandbox's call in progress as (kind, number, status).
fn members(call: &Value) -> Vec<(String, String, String)> {
    call["members"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| {
            let (kind, f) = m.as_object().unwrap().iter().next().unwrap();
            let number = f
                .get("number")
                .or_else(|| f.get("to"))
                .and_then(Value::as_str)
                .unwrap();
            (
                kind.clone(),
                number.to_string(),
                f["member_status"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

fn m(kind: &str, number: &str, status: &str) -> (String, String, String) {
    (kind.into(), number.into(), status.into())
}

/// Kristin (2005) has picked up and hears ringback while `number` rings.
fn agent_waits_and_number_rings(number: &str) -> Vec<(String, String, String)> {
    vec![
        m("extension", "2005", "ALERT"),
        m("outbound", number, "RING"),
    ]
}

#[tokio::test]
async fn a_dial_rings_the_agents_phone_then_the_callee_and_the_pbxs_events_make_one_call() {
    let app = connected().await;
    let (s, b) = save_rules(
        &app,
        &[
            ("create_tickets", "true"),
            ("ticket_outbound_answered", "true"),
            ("log_calls", "true"),
        ],
    )
    .await;
    assert_eq!(s, 200, "{b}");
    connect_pbx(&app).await;
    let pbx = &app.sandbox.pbx;
    let kristin = app.agent("2005", "web-client-2005").await;
    let mut live = Live::open(&app, &kristin).await.unwrap();
    let before = tickets(&app).await.len();

    // Typed as people type it; the PBX gets it as dialled.
    let number = "+1 (415) 555-0134";
    let (s, id) = app
        .call_with(&kristin, "agent/dial", &[("number", number)])
        .await;
    assert_eq!(s, 200, "{id}");
    let id = id.as_str().unwrap().to_string();
    assert_eq!(pbx.stats().dials, 1);

    // Kristin's own phone rings first, alone: no call between two parties yet, none logged.
    let calls = pbx.calls_in_progress();
    assert_eq!(calls.len(), 1);
    assert_eq!(calls[0]["call_id"], id.as_str(), "the PBX's call_id");
    assert_eq!(members(&calls[0]), vec![m("extension", "2005", "RING")]);
    pbx.flushed().await;
    assert!(app.engine.store.call(&id).await.unwrap().is_none());
    // Her phone's own status (30008) reached the app.
    let phone = || app.engine.pbx_connection.phones().get("2005").copied();
    assert_eq!(phone(), Some(PhoneStatus::Ringing));
    let (s, phones) = app.call("pbx/extensions/phones", &[]).await;
    assert_eq!(
        (s, phones),
        (200, json!({"2005": "Ringing"})),
        "for the page"
    );

    // She picks up: she hears ringback while the PBX dials the number.
    pbx.answer_extension("2005").unwrap();
    assert_eq!(
        members(&pbx.calls_in_progress()[0]),
        agent_waits_and_number_rings(number)
    );
    pbx.flushed().await;
    assert_eq!(phone(), Some(PhoneStatus::Busy), "she is on the line");
    let e = live.expect_call(&id, "Ringing").await;
    assert_eq!(
        (e["direction"].as_str(), e["number"].as_str()),
        (Some("outbound"), Some(number))
    );

    // The callee answers.
    pbx.pick_up(&id, number).unwrap();
    pbx.flushed().await;
    live.expect_call(&id, "Talking").await;

    // Nothing rings in on this call: there is nothing to answer.
    let (s, b) = app
        .call_with(
            &kristin,
            "agent/call",
            &[("call_id", &id), ("answer", "true")],
        )
        .await;
    assert_eq!(s, 400, "{b}");

    // Kristin hangs up from the agent client: call/hangup on her own channel.
    let (s, b) = app
        .call_with(
            &kristin,
            "agent/call",
            &[("call_id", &id), ("answer", "false")],
        )
        .await;
    assert_eq!(s, 200, "{b}");
    assert_eq!(pbx.stats().hangups, 1);
    assert!(pbx.calls_in_progress().is_empty());
    pbx.flushed().await;
    live.expect_call(&id, "Ended").await;
    let push = pbx.pusher.stats();
    assert_eq!(
        (push.delivered, push.given_up),
        (8, 0),
        "RING, ALERT, ANSWER, BYE, the CDR and 2005's phone ringing, busy and idle (30008), \
         each taken on the first try: {push:?}"
    );
    assert_eq!(phone(), Some(PhoneStatus::Idle));

    // One call in the log, from the PBX's own events, outbound on 2005, answered.
    let call = app.engine.store.call(&id).await.unwrap().unwrap();
    assert_eq!(call.call_type.as_deref(), Some("Outbound Answered"));
    let (_, d) = app.call("calls/detail", &[("call_id", &id)]).await;
    assert_eq!(d["summary"]["extensions"], json!(["2005"]), "{d}");
    let events = d["events"].as_array().unwrap();
    assert!(
        events.iter().all(|e| e["source"] == "yeastar"),
        "all through the webhook: {d}"
    );

    // Its Zoho work: one ticket and one call activity for this call.
    drain(&app, now_ms()).await;
    let jobs = jobs_of(&app, &id).await;
    assert_eq!(job(&jobs, "ticket")["state"], "done", "{jobs:?}");
    assert_eq!(job(&jobs, "call_log")["state"], "done", "{jobs:?}");
    let after = tickets(&app).await;
    assert_eq!(after.len(), before + 1, "exactly one ticket");
    assert!(
        after
            .iter()
            .any(|t| t["subject"].as_str().unwrap_or("").contains(number)),
        "{after:?}"
    );
}

#[tokio::test]
async fn with_auto_answer_the_agents_phone_picks_up_by_itself_and_the_number_rings_at_once() {
    let app = connected().await;
    connect_pbx(&app).await;
    let pbx = &app.sandbox.pbx;
    // The admin ticks auto answer; nothing else changes (no new test needed).
    let (_, v) = app.call("pbx/connection", &[]).await;
    let (base, id) = (
        v["base_url"].as_str().unwrap().to_string(),
        v["client_id"].as_str().unwrap().to_string(),
    );
    let (s, b) = app
        .call(
            "pbx/connection/save",
            &[
                ("input[base_url]", &base),
                ("input[client_id]", &id),
                ("input[events_via]", "Webhook"),
                ("input[auto_answer]", "true"),
            ],
        )
        .await;
    assert_eq!(s, 200, "{b}");
    let (_, v) = app.call("pbx/connection", &[]).await;
    assert_eq!(
        (v["auto_answer"].as_bool(), v["status"].as_str()),
        (Some(true), Some("Connected")),
        "{v}"
    );

    let kristin = app.agent("2005", "web-client-2005").await;
    let number = "0086-138-0013-8000";
    let (s, call) = app
        .call_with(&kristin, "agent/dial", &[("number", number)])
        .await;
    assert_eq!(s, 200, "{call}");
    // No one picked up 2005 by hand: the phone did, and the number rings already.
    assert_eq!(
        members(&pbx.calls_in_progress()[0]),
        agent_waits_and_number_rings(number)
    );
    pbx.flushed().await;
    let stored = app
        .engine
        .store
        .call(call.as_str().unwrap())
        .await
        .unwrap()
        .expect("a call between two parties, logged");
    assert!(stored.is_open);
    pbx.hang_up_call(call.as_str().unwrap()).unwrap();

    // Unticked: the phone rings first again.
    let (s, _) = app
        .call(
            "pbx/connection/save",
            &[
                ("input[base_url]", &base),
                ("input[client_id]", &id),
                ("input[events_via]", "Webhook"),
            ],
        )
        .await;
    assert_eq!(s, 200);
    let (s, _) = app
        .call_with(&kristin, "agent/dial", &[("number", number)])
        .await;
    assert_eq!(s, 200);
    assert_eq!(
        members(&pbx.calls_in_progress()[0]),
        vec![m("extension", "2005", "RING")]
    );
}

#[tokio::test]
async fn a_dial_the_pbx_cannot_place_reaches_the_agent_in_the_pbxs_words() {
    let app = connected().await;
    connect_pbx(&app).await;
    let pbx = &app.sandbox.pbx;
    let kristin = app.agent("2005", "web-client-2005").await;
    let liam = app.agent("2006", "web-client-2006").await;
    let mut live = Live::open(&app, &kristin).await.unwrap();
    let mut other = Live::open(&app, &liam).await.unwrap();

    pbx.fail_dials(Some("NO Dial Permission"));
    let (s, id) = app
        .call_with(&kristin, "agent/dial", &[("number", "0086-138-0013-8000")])
        .await;
    assert_eq!(s, 200, "the PBX takes the request: {id}");
    pbx.flushed().await;
    let e = live.next().await.unwrap();
    assert_eq!(
        e,
        json!({"type": "dial_failed", "call_id": id, "reason": "NO Dial Permission"})
    );
    assert!(pbx.calls_in_progress().is_empty());
    assert!(app
        .engine
        .store
        .call(id.as_str().unwrap())
        .await
        .unwrap()
        .is_none());

    // Liam's first event is his own call, not Kristin's failure.
    pbx.fail_dials(None);
    let (_, id2) = app
        .call_with(&liam, "agent/dial", &[("number", "5550100")])
        .await;
    pbx.answer_extension("2006").unwrap();
    pbx.flushed().await;
    let e = other.next().await.unwrap();
    assert_eq!((&e["type"], &e["call_id"]), (&json!("call"), &id2), "{e}");
}

#[tokio::test]
async fn the_yeastar_webhook_takes_the_pbxs_signature_once_its_secret_is_saved() {
    let app = connected().await;
    let url = format!("{}/api/pbx/yeastar-events", app.base);
    let ring = |call_id: &str| {
        let msg = json!({"call_id": call_id, "members": [
            {"inbound": {"from": "+4915112345", "to": "6500", "trunk_name": "sip-main",
                         "channel_id": "PJSIP/sip-main-1", "member_status": "ALERT", "call_path": ""}},
            {"extension": {"number": "2005", "channel_id": "PJSIP/2005-2",
                           "member_status": "RING", "call_path": ""}}]});
        serde_json::to_vec(&json!({"type": 30011, "sn": "X", "msg": msg.to_string()})).unwrap()
    };
    let post = |body: Vec<u8>, signature: String| {
        let (http, url) = (app.http.clone(), url.clone());
        async move {
            let r = http
                .post(url)
                .header("Content-Type", "application/json")
                .header("X-Signature", signature)
                .body(body)
                .send()
                .await
                .unwrap();
            r.status().as_u16()
        }
    };
    let body = ring("1801.1");
    let signed = push_signature(DEMO_PBX_WEBHOOK_SECRET, &body);

    // No webhook secret saved yet: the signature proves nothing, 401, nothing stored.
    assert_eq!(post(body.clone(), signed.clone()).await, 401);
    assert!(app.engine.store.call("1801.1").await.unwrap().is_none());

    connect_pbx(&app).await;
    // A signature under another secret, or of another body: 401.
    assert_eq!(
        post(body.clone(), push_signature("another-secret", &body)).await,
        401
    );
    assert_eq!(
        post(body.clone(), push_signature(DEMO_PBX_WEBHOOK_SECRET, b"{}")).await,
        401
    );
    assert!(app.engine.store.call("1801.1").await.unwrap().is_none());
    // The PBX's own signature: stored.
    assert_eq!(post(body, signed).await, 200);
    assert!(app.engine.store.call("1801.1").await.unwrap().is_some());

    // The native intake never takes the vendor's signature.
    let native = serde_json::to_vec(
        &json!([{"event_id": "n1", "call_id": "n1", "kind": "ringing",
        "at": "2026-12-03T10:00:00Z", "direction": "inbound", "external_number": "5550100",
        "extension": "2005"}]),
    )
    .unwrap();
    let r = app
        .http
        .post(format!("{}/api/pbx/call-events", app.base))
        .header("Content-Type", "application/json")
        .header(
            "X-Signature",
            push_signature(DEMO_PBX_WEBHOOK_SECRET, &native),
        )
        .body(native)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);

    // Disconnecting forgets the webhook secret too.
    let (s, _) = app.call("pbx/connection/disconnect", &[]).await;
    assert_eq!(s, 200);
    let body = ring("1801.2");
    let signed = push_signature(DEMO_PBX_WEBHOOK_SECRET, &body);
    assert_eq!(post(body, signed).await, 401);
}

#[tokio::test]
async fn the_clients_call_operations_meet_the_sandboxs_rules() {
    use app::engine::secrets::Sensitive;
    use app::engine::yeastar::{PbxApi, PbxError};
    use server::sandbox::pbx::{DEMO_PBX_CLIENT_ID, DEMO_PBX_CLIENT_SECRET};
    let app = TestApp::spawn().await;
    let pbx = PbxApi::new(
        reqwest::Client::new(),
        &format!("{}/sandbox/pbx", app.base),
        DEMO_PBX_CLIENT_ID,
        Sensitive::new(DEMO_PBX_CLIENT_SECRET),
    );
    // No call: the PBX answers 60001, the client an empty list.
    assert_eq!(pbx.calls_of_extension("2005").await, Ok(vec![]));
    let id = pbx.dial("2005", "5550100").await.unwrap();
    let (secs, seq) = id.split_once('.').expect("<unix>.<seq>");
    assert!(
        secs.parse::<i64>().is_ok() && seq.parse::<u64>().is_ok(),
        "{id}"
    );
    let calls = pbx.calls_of_extension("2005").await.unwrap();
    assert_eq!(calls.len(), 1);
    assert_eq!(calls[0].call_id, id);
    let own = &calls[0].members[0];
    assert_eq!(
        (own.extension.as_deref(), own.status.as_str()),
        (Some("2005"), "RING")
    );
    assert!(own.channel_id.starts_with("PJSIP/2005-"), "{own:?}");
    // An unknown channel: the PBX's 60001, in its words.
    assert_eq!(
        pbx.hangup("PJSIP/2005-ffffffff").await,
        Err(PbxError::Api {
            errcode: 60001,
            errmsg: "DATA NOT FOUND".into()
        })
    );
    pbx.hangup(&own.channel_id).await.unwrap();
    assert_eq!(pbx.calls_of_extension("2005").await, Ok(vec![]));
    // An external caller is taken and places nothing (as real PBXs do).
    pbx.dial("+4915112345", "2005").await.unwrap();
    assert!(app.sandbox.pbx.calls_in_progress().is_empty());
}

#[tokio::test]
async fn a_stopping_server_gives_the_pbx_its_token_back() {
    let app = connected().await;
    connect_pbx(&app).await;
    let pbx = &app.sandbox.pbx;
    assert_eq!(pbx.live_access_tokens(), 1);
    // What `server` does once it has stopped serving.
    app.engine.pbx_connection.release().await;
    assert_eq!((pbx.live_access_tokens(), pbx.stats().revoked), (0, 1));
    // Started again, it logs in again.
    let (s, v) = app.call("pbx/connection/test", &[]).await;
    assert_eq!((s, v["status"].as_str()), (200, Some("Connected")), "{v}");
    assert_eq!(pbx.live_access_tokens(), 1);
}

#[tokio::test]
async fn with_the_pbx_sandbox_connected_the_simulator_is_its_console() {
    let app = connected().await;
    let pbx = &app.sandbox.pbx;
    let (_, v) = app.call("calls/console", &[]).await;
    assert_eq!(v, Value::Null, "no PBX connected: no console");
    connect_pbx(&app).await;
    let (_, v) = app.call("calls/console", &[]).await;
    assert_eq!(v, json!([]));

    // An inbound call to a ring group, placed on the PBX: its events come back by webhook.
    let (s, id) = app
        .call(
            "calls/simulate",
            &[
                ("action[Place][inbound]", "true"),
                ("action[Place][external_number]", "0086-138-0013-8000"),
                ("action[Place][extensions]", "2005, 2006"),
            ],
        )
        .await;
    assert_eq!(s, 200, "{id}");
    let id = id.as_str().unwrap().to_string();
    let (_, v) = app.call("calls/console", &[]).await;
    assert_eq!(
        v,
        json!([{"call_id": id, "members": [
            {"kind": "inbound", "number": "0086-138-0013-8000", "status": "ALERT"},
            {"kind": "extension", "number": "2005", "status": "RING"},
            {"kind": "extension", "number": "2006", "status": "RING"},
        ]}])
    );
    pbx.flushed().await;
    let (_, d) = app.call("calls/detail", &[("call_id", &id)]).await;
    assert_eq!(d["summary"]["extensions"], json!(["2005", "2006"]), "{d}");
    assert!(d["events"]
        .as_array()
        .unwrap()
        .iter()
        .all(|e| e["source"] == "yeastar"));

    // Liam picks up; then the caller hangs up.
    let (s, b) = app
        .call(
            "calls/simulate",
            &[
                ("action[Answer][call_id]", &id),
                ("action[Answer][extension]", "2006"),
            ],
        )
        .await;
    assert_eq!(s, 200, "{b}");
    let (s, b) = app
        .call("calls/simulate", &[("action[HangUp][call_id]", &id)])
        .await;
    assert_eq!(s, 200, "{b}");
    pbx.flushed().await;
    let call = app.engine.store.call(&id).await.unwrap().unwrap();
    assert!(!call.is_open);
    assert_eq!(call.call_type.as_deref(), Some("Inbound Answered"));
    assert_eq!(
        call.state.answered.as_ref().map(|a| a.0.as_str()),
        Some("2006")
    );

    // An outbound call from the console: the extension is off the hook, the number rings.
    let (s, id) = app
        .call(
            "calls/simulate",
            &[
                ("action[Place][inbound]", "false"),
                ("action[Place][external_number]", "+1 (415) 555-0134"),
                ("action[Place][extensions]", "2005"),
            ],
        )
        .await;
    assert_eq!(s, 200, "{id}");
    let id = id.as_str().unwrap().to_string();
    let (_, v) = app.call("calls/console", &[]).await;
    assert_eq!(
        v[0]["members"],
        json!([
            {"kind": "extension", "number": "2005", "status": "ALERT"},
            {"kind": "outbound", "number": "+1 (415) 555-0134", "status": "RING"},
        ])
    );
    // "Answer" on the agent's outbound call: the callee answers.
    let (s, b) = app
        .call(
            "calls/simulate",
            &[
                ("action[Answer][call_id]", &id),
                ("action[Answer][extension]", "2005"),
            ],
        )
        .await;
    assert_eq!(s, 200, "{b}");
    let (_, v) = app.call("calls/console", &[]).await;
    assert_eq!(v[0]["members"][1]["status"], "ANSWER");

    // A scenario runs on the PBX too, and a hand on a call that is gone says so.
    let (s, b) = app
        .call(
            "calls/simulate",
            &[
                ("action[Scenario][name]", "missed"),
                ("action[Scenario][extension]", "2005"),
            ],
        )
        .await;
    assert_eq!(s, 200, "{b}");
    pbx.flushed().await;
    let missed = app
        .engine
        .store
        .call(b.as_str().unwrap())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(missed.call_type.as_deref(), Some("Inbound Missed"));
    let (s, b) = app
        .call("calls/simulate", &[("action[HangUp][call_id]", "1.1")])
        .await;
    assert_eq!((s, b), (404, json!("NotFound")));
}

#[tokio::test]
async fn a_recording_link_opens_for_the_calls_agent_and_the_admin_and_no_one_else() {
    let app = connected().await;
    let (s, b) = save_rules(
        &app,
        &[
            ("create_tickets", "true"),
            ("ticket_inbound_answered", "true"),
            ("log_calls", "true"),
        ],
    )
    .await;
    assert_eq!(s, 200, "{b}");
    connect_pbx(&app).await;
    let pbx = &app.sandbox.pbx;
    let kristin = app.agent("2005", "web-client-2005").await;
    let liam = app.agent("2006", "web-client-2006").await;

    // Paul Young calls Kristin; she answers; the PBX records it.
    let id = pbx.ring_in("5503301", "6500", &["2005".into()]).unwrap();
    pbx.answer_extension("2005").unwrap();
    pbx.hang_up_call(&id).unwrap();
    pbx.flushed().await;
    drain(&app, now_ms()).await;
    let link = format!("{}/recordings/{id}", app.base);

    // The ticket and the call activity link to this app, not to the PBX's short-lived URL.
    let mut described = 0;
    for t in tickets(&app).await {
        let full = desk(&app, &format!("/tickets/{}", t["id"].as_str().unwrap())).await;
        if full["description"].as_str().unwrap_or("").contains(&link) {
            described += 1;
        }
    }
    assert_eq!(described, 1, "one ticket carries the link");
    let (_, d) = app.call("calls/detail", &[("call_id", &id)]).await;
    assert_eq!(d["recording"], format!("/recordings/{id}"), "{d}");

    let fetch = |c: reqwest::Client| {
        let link = link.clone();
        async move {
            let r = c.get(link).send().await.unwrap();
            let kind = r
                .headers()
                .get("content-type")
                .map(|v| v.to_str().unwrap().to_string());
            (r.status().as_u16(), kind, r.bytes().await.unwrap())
        }
    };
    // The admin and the call's agent hear it, streamed from the PBX.
    for who in [app.http.clone(), kristin] {
        let (status, kind, body) = fetch(who).await;
        assert_eq!((status, kind.as_deref()), (200, Some("audio/wav")));
        assert_eq!(&body[..4], b"RIFF");
    }
    assert_eq!(pbx.stats().recordings_served, 2);
    // Another agent, and a visitor with no sign-in: refused, nothing fetched from the PBX.
    assert_eq!(fetch(liam).await.0, 403);
    assert_eq!(fetch(TestApp::browser()).await.0, 401);
    assert_eq!(pbx.stats().recordings_served, 2);

    // A call nobody answered has no recording; an unknown call is not found.
    let missed = pbx.ring_in("5503301", "6500", &["2005".into()]).unwrap();
    pbx.hang_up_call(&missed).unwrap();
    pbx.flushed().await;
    let r = app
        .http
        .get(format!("{}/recordings/{missed}", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
    let (_, d) = app.call("calls/detail", &[("call_id", &missed)]).await;
    assert_eq!(d["recording"], Value::Null);
    let r = app
        .http
        .get(format!("{}/recordings/no-such-call", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
}

#[tokio::test]
async fn a_first_start_with_the_sandbox_connects_the_pbx_sandbox_and_the_simulator_rings_on_it() {
    use app::model::{PbxEventsVia, PbxStatus};
    let app = TestApp::spawn().await;
    let pbx = &app.sandbox.pbx;
    let v = app
        .engine
        .pbx_connection
        .connect_sandbox()
        .await
        .unwrap()
        .expect("no PBX was set up");
    assert_eq!(
        (
            v.status,
            v.extension_count,
            v.webhook_secret_set,
            v.events_via
        ),
        (PbxStatus::Connected, Some(7), true, PbxEventsVia::Webhook)
    );
    // Set up already: left as it is.
    assert!(app
        .engine
        .pbx_connection
        .connect_sandbox()
        .await
        .unwrap()
        .is_none());

    // The simulator's calls ring on the PBX sandbox and come back by its signed webhook.
    app.sign_in().await;
    let (s, id) = app
        .call(
            "calls/simulate",
            &[
                ("action[Place][inbound]", "true"),
                ("action[Place][external_number]", "+1 (415) 555-0134"),
                ("action[Place][extensions]", "2005"),
            ],
        )
        .await;
    assert_eq!(s, 200, "{id}");
    assert_eq!(pbx.calls_in_progress()[0]["call_id"], id);
    pbx.flushed().await;
    let (_, d) = app
        .call("calls/detail", &[("call_id", id.as_str().unwrap())])
        .await;
    assert_eq!(d["events"][0]["source"], "yeastar", "{d}");
}

#[tokio::test]
async fn the_pbxs_errcodes_on_a_dial_reach_the_agent_and_an_expired_token_is_renewed_once() {
    let app = connected().await;
    connect_pbx(&app).await;
    let pbx = &app.sandbox.pbx;
    let kristin = app.agent("2005", "web-client-2005").await;
    let dial = || app.call_with(&kristin, "agent/dial", &[("number", "5550100")]);

    // The API application may not place calls: the PBX's words, a 502, no call.
    pbx.inject("call/dial", 10005, 1);
    let (s, b) = dial().await;
    assert_eq!(
        (s, b),
        (
            502,
            json!({"Pbx": "the PBX's API application has no permission for this (errcode 10005)"})
        )
    );
    assert!(pbx.calls_in_progress().is_empty());

    // The PBX says the token expired: the client renews it once and dials again.
    let before = pbx.stats();
    pbx.inject("call/dial", 10004, 1);
    let (s, id) = dial().await;
    assert_eq!(s, 200, "{id}");
    let after = pbx.stats();
    assert_eq!(
        (after.refreshes + after.logins) - (before.refreshes + before.logins),
        1,
        "one renewal"
    );
    assert_eq!(pbx.calls_in_progress()[0]["call_id"], id);

    // Twice in a row: reported, not retried in a loop.
    pbx.hang_up_call(id.as_str().unwrap()).unwrap();
    pbx.inject("call/dial", 10004, 2);
    let (s, b) = dial().await;
    assert_eq!(
        (s, b),
        (
            502,
            json!({"Pbx": "the PBX answered errcode 10004 (TOKEN EXPIRED)"})
        )
    );
    assert!(pbx.calls_in_progress().is_empty());
}

#[tokio::test]
async fn answer_is_offered_without_a_pbx_and_with_the_pbx_sandbox_but_not_on_a_real_pbx() {
    let app = connected().await;
    let pbx = &app.sandbox.pbx;
    let kristin = app.agent("2005", "web-client-2005").await;
    let can_answer = || async {
        let (s, me) = app.call_with(&kristin, "agent/me", &[]).await;
        assert_eq!(s, 200, "{me}");
        me["can_answer"].clone()
    };
    assert_eq!(can_answer().await, true, "no PBX: the simulator answers");

    // The PBX sandbox picks up the agent's phone when the agent answers in the client.
    connect_pbx(&app).await;
    assert_eq!(can_answer().await, true);
    let id = pbx.ring_in("5503301", "6500", &["2005".into()]).unwrap();
    pbx.flushed().await;
    let (s, b) = app
        .call_with(
            &kristin,
            "agent/call",
            &[("call_id", &id), ("answer", "true")],
        )
        .await;
    assert_eq!(s, 200, "{b}");
    let (_, calls) = app.call("calls/console", &[]).await;
    assert_eq!(calls[0]["members"][1]["status"], "ANSWER", "{calls}");
    pbx.hang_up_call(&id).unwrap();
    pbx.flushed().await;

    // A PBX that is not this process's sandbox (the same one by another name, standing in
    // for a real PBX): its phones answer their own calls, the client does not offer to.
    let real = app.base.replace("127.0.0.1", "localhost");
    let (s, b) = app
        .call(
            "pbx/connection/save",
            &[
                ("input[base_url]", &format!("{real}/sandbox/pbx")),
                ("input[client_id]", server::sandbox::pbx::DEMO_PBX_CLIENT_ID),
                (
                    "input[client_secret]",
                    server::sandbox::pbx::DEMO_PBX_CLIENT_SECRET,
                ),
            ],
        )
        .await;
    assert_eq!(s, 200, "{b}");
    let (_, v) = app.call("pbx/connection/test", &[]).await;
    assert_eq!(v["status"], "Connected", "{v}");
    assert_eq!(can_answer().await, false);
    let id = pbx.ring_in("5503301", "6500", &["2005".into()]).unwrap();
    pbx.flushed().await;
    let (s, b) = app
        .call_with(
            &kristin,
            "agent/call",
            &[("call_id", &id), ("answer", "true")],
        )
        .await;
    assert_eq!(
        (s, b),
        (
            400,
            json!({"Invalid": [{"field": "call", "problem": "AnswerOnPhone"}]})
        )
    );
}
