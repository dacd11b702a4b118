//! Black-box tests of the call-event intake: authentication, validation, size limit,
//! durability and idempotency, both wire formats, the facts derived, the simulator going
//! through the same door, and the integration log's server functions.

use crate::support::app::*;
use app::engine::calls::{now_ms, sign};
use serde_json::{json, Value};

async fn post(app: &TestApp, path: &str, body: &[u8], headers: &[(&str, String)]) -> (u16, Value) {
    let mut req = app
        .http
        .post(format!("{}{path}", app.base))
        .header("Content-Type", "application/json")
        .body(body.to_vec());
    for (k, v) in headers {
        req = req.header(*k, v);
    }
    let r = req.send().await.unwrap();
    let s = r.status().as_u16();
    let text = r.text().await.unwrap();
    (
        s,
        serde_json::from_str(&text).unwrap_or(Value::String(text)),
    )
}

fn event(id: &str, call: &str, kind: &str, ext: &str, at: &str) -> Value {
    json!({"event_id": id, "call_id": call, "kind": kind, "at": at, "direction": "inbound",
           "external_number": "+86 138 0013 8000", "extension": ext})
}

#[tokio::test]
async fn native_events_are_authenticated_validated_stored_once() {
    let app = TestApp::spawn().await;
    let e1 = event("e1", "c1", "ringing", "2005", "2026-11-28T09:15:02Z");

    // No credential, a wrong one, or a signature of another body: 401, nothing stored.
    let bytes = serde_json::to_vec(&e1).unwrap();
    let (s, body) = post(&app, "/api/pbx/call-events", &bytes, &[]).await;
    assert_eq!(s, 401, "{body}");
    let (s, _) = post(
        &app,
        "/api/pbx/call-events",
        &bytes,
        &[("X-Helpdesk-Signature", sign("wrong-secret-0000", &bytes))],
    )
    .await;
    assert_eq!(s, 401);
    let (s, _) = post(
        &app,
        "/api/pbx/call-events",
        &bytes,
        &[("Authorization", "Bearer nope".into())],
    )
    .await;
    assert_eq!(s, 401);
    assert!(app.engine.store.call("c1").await.unwrap().is_none());

    // Signed: stored. Again: a redelivery, 200 and nothing changes.
    let (s, body) = app.post_signed(&e1).await;
    assert_eq!(
        (s, body.clone()),
        (200, json!({"stored": 1, "duplicates": 0}))
    );
    let (s, body) = app.post_signed(&e1).await;
    assert_eq!((s, body), (200, json!({"stored": 0, "duplicates": 1})));
    assert_eq!(app.engine.store.call_events("c1").await.unwrap().len(), 1);
    let facts = app.engine.store.call_facts("c1").await.unwrap();
    assert_eq!(facts.len(), 1);
    assert_eq!(facts[0].skip.as_deref(), Some("not_connected"));

    // A bearer secret works too; a batch is all or nothing.
    let batch = json!([
        event("e2", "c1", "answered", "2005", "2026-11-28T09:15:10Z"),
        {"event_id": "e3", "call_id": "c1", "kind": "ended", "at": "2026-11-28T09:16:10Z", "direction": "inbound"},
    ]);
    let bytes = serde_json::to_vec(&batch).unwrap();
    let bearer = format!("Bearer {}", app.webhook_secret());
    let (s, body) = post(
        &app,
        "/api/pbx/call-events",
        &bytes,
        &[("Authorization", bearer.clone())],
    )
    .await;
    assert_eq!(s, 400);
    assert_eq!(body["field"], "[1].external_number", "{body}");
    assert_eq!(
        app.engine.store.call_events("c1").await.unwrap().len(),
        1,
        "nothing of the batch stored"
    );

    // Too large: 413 before anything else.
    let big = vec![b' '; 300 * 1024];
    let (s, body) = post(
        &app,
        "/api/pbx/call-events",
        &big,
        &[("Authorization", bearer)],
    )
    .await;
    assert_eq!(s, 413, "{body}");
    assert!(body["error"].as_str().unwrap().contains("256 KiB"));

    // Malformed fields are named.
    let (s, body) = app
        .post_signed(&json!({"event_id": "x", "call_id": "c9", "kind": "rang"}))
        .await;
    assert_eq!((s, body["field"].clone()), (400, json!("kind")));

    // The call ends: one Ended fact, Inbound Answered on 2005.
    let (s, _) = app.post_signed(&json!([
        event("e2", "c1", "answered", "2005", "2026-11-28T09:15:10Z"),
        {"event_id": "e3", "call_id": "c1", "kind": "ended", "at": "2026-11-28T09:16:10Z", "direction": "inbound",
         "external_number": "+86 138 0013 8000", "extension": "2005", "result": "answered"},
    ])).await;
    assert_eq!(s, 200);
    let call = app.engine.store.call("c1").await.unwrap().unwrap();
    assert_eq!(call.call_type.as_deref(), Some("Inbound Answered"));
    assert!(!call.is_open);

    // The metrics count every request by outcome, and the events.
    let text = app
        .http
        .get(format!("{}/metrics", app.base))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    for line in [
        "helpdesk_intake_requests_total{format=\"native\",outcome=\"unauthorized\"} 3",
        "helpdesk_intake_requests_total{format=\"native\",outcome=\"too_large\"} 1",
        "helpdesk_intake_requests_total{format=\"native\",outcome=\"invalid\"} 2",
        "helpdesk_call_events_total{result=\"duplicate\"} 1",
        "helpdesk_call_events_total{result=\"stored\"} 3",
        "helpdesk_calls_open 0",
    ] {
        assert!(text.contains(line), "{line} in\n{text}");
    }

    // An oversized body with no credential at all: refused for its size before the credential
    // is looked at (a stranger's oversized body is never read in full).
    let big = vec![b' '; 300 * 1024];
    let (s, body) = post(&app, "/api/pbx/call-events", &big, &[]).await;
    assert_eq!(s, 413, "{body}");

    // One caller whatever the format: the log finds the call by any form of the number.
    app.sign_in().await;
    for form in [
        "0086-138-0013-8000",
        "13800138000",
        "+8613800138000",
        "0013 8000",
    ] {
        let (s, log) = app
            .call(
                "calls/log",
                &[
                    ("filter[number]", form),
                    ("filter[extension]", ""),
                    ("filter[outcome]", ""),
                ],
            )
            .await;
        assert_eq!(s, 200, "{log}");
        assert_eq!(log.as_array().unwrap().len(), 1, "{form}: {log}");
    }
    let (_, log) = app
        .call(
            "calls/log",
            &[
                ("filter[number]", "13800138001"),
                ("filter[extension]", ""),
                ("filter[outcome]", ""),
            ],
        )
        .await;
    assert_eq!(log, json!([]));
}

#[tokio::test]
async fn yeastar_webhooks_with_a_token_and_captured_bodies() {
    let app = TestApp::spawn().await;
    let token = app.webhook_secret();
    let path = format!("/api/pbx/yeastar-events?token={token}");
    let ring = json!({"type": 30011, "sn": "3631B4444099", "msg": json!({
        "call_id": "1725446451.243",
        "members": [
            {"inbound": {"from": "13800138000", "to": "5503300", "trunk_name": "SIP1", "channel_id": "a", "member_status": "ALERT", "call_path": ""}},
            {"extension": {"number": "2005", "channel_id": "b", "member_status": "RING", "call_path": ""}}
        ]}).to_string()});
    let (s, body) = post(&app, &path, ring.to_string().as_bytes(), &[]).await;
    assert_eq!((s, body), (200, json!({"stored": 1, "duplicates": 0})));
    let (s, _) = post(
        &app,
        "/api/pbx/yeastar-events?token=wrong",
        ring.to_string().as_bytes(),
        &[],
    )
    .await;
    assert_eq!(s, 401);

    let cdr = r#"{"type":30012,"sn":"3631B4444099","msg":"{\"call_id\":\"1725446451.243\",\"time_start\":\"2024-09-04 10:40:51\",\"call_from\":\"13800138000\",\"call_to\":\"2005\",\"call_duration\":42,\"talk_duration\":0,\"src_trunk_name\":\"SIP1\",\"dst_trunk_name\":\"\",\"pin_code\":\"\",\"status\":\"NO ANSWER\",\"type\":\"Inbound\",\"recording\":\"\",\"did_number\":\"5503300\",\"agent_ring_time\":42}"}"#;
    let (s, _) = post(&app, &path, cdr.as_bytes(), &[]).await;
    assert_eq!(s, 200);
    let call = app
        .engine
        .store
        .call("1725446451.243")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(call.call_type.as_deref(), Some("Inbound Missed"));

    // 30008: the extension's phone, kept for the extensions page.
    let phone = br#"{"type":30008,"sn":"X","msg":"{\"extension\":\"2005\",\"status\":\"Busy\"}"}"#;
    let (s, body) = post(&app, &path, phone, &[]).await;
    assert_eq!((s, body), (200, json!({"phone": "2005"})));
    assert_eq!(
        app.engine.pbx_connection.phones().get("2005"),
        Some(&app::model::PhoneStatus::Busy)
    );
    // No PBX connection set up, yet the PBX reports its phones: the page shows them.
    app.sign_in().await;
    let (s, phones) = app.call("pbx/extensions/phones", &[]).await;
    assert_eq!((s, phones), (200, json!({"2005": "Busy"})));
    let other = br#"{"type":30009,"sn":"X","msg":"{}"}"#;
    let (s, body) = post(&app, &path, other, &[]).await;
    assert_eq!((s, body), (200, json!({"ignored": 30009})));
    let (s, body) = post(&app, &path, br#"{"type":30011,"msg":"{}"}"#, &[]).await;
    assert_eq!((s, body["field"].clone()), (400, json!("msg.call_id")));
}

/// A 30011 Call State Changed body: `trunk` is `("inbound"|"outbound", from, to, status)`,
/// then the extension members with their status.
fn state_changed(call_id: &str, trunk: (&str, &str, &str, &str), exts: &[(&str, &str)]) -> Vec<u8> {
    let (side, from, to, status) = trunk;
    let mut members = vec![json!({ side: {
        "from": from, "to": to, "trunk_name": "SIP1", "channel_id": "PJSIP/SIP1-01",
        "member_status": status, "call_path": ""
    }})];
    for (n, st) in exts {
        members.push(json!({"extension": {
            "number": n, "channel_id": format!("PJSIP/{n}-02"), "member_status": st, "call_path": ""
        }}));
    }
    let msg = json!({"call_id": call_id, "members": members}).to_string();
    json!({"type": 30011, "sn": "3631B4444099", "msg": msg})
        .to_string()
        .into_bytes()
}

/// A 30012 New CDR body, as the PBX sends it (`msg` a JSON string), for a call that started
/// `secs_ago` seconds ago on a PBX clock in UTC.
fn cdr(
    call_id: &str,
    ty: &str,
    from: &str,
    to: &str,
    status: &str,
    durations: (i64, i64),
    secs_ago: i64,
) -> Vec<u8> {
    let fmt = time::macros::format_description!("[year]-[month]-[day] [hour]:[minute]:[second]");
    let start = time::OffsetDateTime::from_unix_timestamp(now_ms() / 1000 - secs_ago)
        .unwrap()
        .format(&fmt)
        .unwrap();
    let msg = json!({
        "call_id": call_id, "time_start": start, "call_from": from, "call_to": to,
        "call_duration": durations.0, "talk_duration": durations.1,
        "src_trunk_name": "SIP1", "dst_trunk_name": "", "pin_code": "", "status": status,
        "type": ty, "recording": "", "did_number": "5503300", "agent_ring_time": durations.0 - durations.1
    })
    .to_string();
    json!({"type": 30012, "sn": "3631B4444099", "msg": msg})
        .to_string()
        .into_bytes()
}

/// The outcome stored when the call ended.
async fn outcome(app: &TestApp, call_id: &str) -> app::engine::calls::machine::Outcome {
    let facts = app.engine.store.call_facts(call_id).await.unwrap();
    facts
        .into_iter()
        .find_map(|f| match f.fact {
            app::engine::calls::machine::Fact::Ended(o) => Some(o),
            _ => None,
        })
        .unwrap_or_else(|| panic!("{call_id} has ended"))
}

#[tokio::test]
async fn yeastar_answered_calls_in_and_out_take_the_cdrs_talk_time() {
    let app = TestApp::spawn().await;
    let path = format!("/api/pbx/yeastar-events?token={}", app.webhook_secret());
    let ok = json!({"stored": 1, "duplicates": 0});

    // No token at all: 401, nothing stored.
    let ring = state_changed(
        "1764.1",
        ("inbound", "+1 (415) 555-0134", "5503300", "ALERT"),
        &[("2005", "RING")],
    );
    let (s, body) = post(&app, "/api/pbx/yeastar-events", &ring, &[]).await;
    assert_eq!(s, 401, "{body}");
    assert!(
        body["error"]
            .as_str()
            .unwrap()
            .starts_with("missing or wrong credential"),
        "{body}"
    );
    assert!(app.engine.store.call("1764.1").await.unwrap().is_none());

    // Inbound: the extension rings, then answers (ANSWER); the CDR says 80 s of talk.
    assert_eq!(post(&app, &path, &ring, &[]).await, (200, ok.clone()));
    let answer = state_changed(
        "1764.1",
        ("inbound", "+1 (415) 555-0134", "5503300", "ANSWERED"),
        &[("2005", "ANSWER")],
    );
    assert_eq!(post(&app, &path, &answer, &[]).await, (200, ok.clone()));
    let events = app.engine.store.call_events("1764.1").await.unwrap();
    assert_eq!(
        events.iter().map(|e| e.kind.as_str()).collect::<Vec<_>>(),
        ["ringing", "answered"]
    );
    let end = cdr(
        "1764.1",
        "Inbound",
        "+1 (415) 555-0134",
        "2005",
        "ANSWERED",
        (95, 80),
        95,
    );
    assert_eq!(post(&app, &path, &end, &[]).await, (200, ok.clone()));
    let call = app.engine.store.call("1764.1").await.unwrap().unwrap();
    assert_eq!(call.call_type.as_deref(), Some("Inbound Answered"));
    let o = outcome(&app, "1764.1").await;
    assert_eq!((o.extension.as_deref(), o.talk_secs), (Some("2005"), 80));

    // Outbound: the agent's phone hears ringback (ALERT), the callee answers (ANSWERED).
    let out = ("outbound", "2006", "0086-138-0013-8000", "RING");
    let dialing = state_changed("1764.2", out, &[("2006", "ALERT")]);
    assert_eq!(post(&app, &path, &dialing, &[]).await, (200, ok.clone()));
    let answered = state_changed(
        "1764.2",
        ("outbound", "2006", "0086-138-0013-8000", "ANSWER"),
        &[("2006", "ANSWERED")],
    );
    assert_eq!(post(&app, &path, &answered, &[]).await, (200, ok.clone()));
    let end = cdr(
        "1764.2",
        "Outbound",
        "2006",
        "0086-138-0013-8000",
        "ANSWERED",
        (42, 30),
        42,
    );
    assert_eq!(post(&app, &path, &end, &[]).await, (200, ok.clone()));
    let call = app.engine.store.call("1764.2").await.unwrap().unwrap();
    assert_eq!(call.call_type.as_deref(), Some("Outbound Answered"));
    let o = outcome(&app, "1764.2").await;
    assert_eq!(
        (o.extension.as_deref(), o.talk_secs, o.ring_secs),
        (Some("2006"), 30, 12)
    );
    assert_eq!(
        o.ended_ms - o.started_ms,
        42_000,
        "from the CDR's time_start"
    );

    // Only the CDR reached us (30011 not subscribed): still an answered call with its talk.
    let end = cdr(
        "1764.3",
        "Inbound",
        "13800138000",
        "2005",
        "ANSWERED",
        (61, 45),
        61,
    );
    assert_eq!(post(&app, &path, &end, &[]).await, (200, ok));
    let o = outcome(&app, "1764.3").await;
    assert_eq!((o.talk_secs, o.ring_secs), (45, 16));
    assert_eq!(
        app.engine
            .store
            .call("1764.3")
            .await
            .unwrap()
            .unwrap()
            .call_type
            .as_deref(),
        Some("Inbound Answered")
    );
}

#[tokio::test]
async fn the_simulator_goes_through_the_intake_and_the_log_shows_facts() {
    let app = TestApp::spawn().await;
    app.connect().await;
    app.call("helpdesk/users/refresh", &[]).await;
    app.call("helpdesk/users/auto_bind", &[]).await;
    assert!(app.engine.directory.bound_agent("2005").is_some());
    let zoho = |op: &'static str| {
        app.engine
            .metrics
            .get("helpdesk_zoho_requests_total", &[("operation", op)])
    };
    assert_eq!(zoho("GET /agents"), 1, "8 agents: one page");
    assert_eq!(zoho("GET /agents/count"), 1);
    assert_eq!(zoho("POST /oauth/v2/token authorization_code"), 1);

    // A ring group: 2005 (bound) and 2009 (not bound); 2005 answers, then hangs up.
    let (s, call_id) = app
        .call(
            "calls/simulate",
            &[
                ("action[Place][inbound]", "true"),
                ("action[Place][external_number]", "+8613800138000"),
                ("action[Place][extensions]", "2005, 2009"),
            ],
        )
        .await;
    assert_eq!(s, 200, "{call_id}");
    let call_id = call_id.as_str().unwrap().to_string();
    let (s, log) = app
        .call(
            "calls/log",
            &[
                ("filter[number]", "13800138000"),
                ("filter[extension]", ""),
                ("filter[outcome]", "open"),
            ],
        )
        .await;
    assert_eq!(s, 200, "{log}");
    assert_eq!(log.as_array().unwrap().len(), 1, "{log}");
    let (s, _) = app
        .call(
            "calls/simulate",
            &[
                ("action[Answer][call_id]", &call_id),
                ("action[Answer][extension]", "2005"),
            ],
        )
        .await;
    assert_eq!(s, 200);
    let (s, _) = app
        .call("calls/simulate", &[("action[HangUp][call_id]", &call_id)])
        .await;
    assert_eq!(s, 200);

    let (_, detail) = app.call("calls/detail", &[("call_id", &call_id)]).await;
    assert_eq!(
        detail["summary"]["call_type"], "Inbound Answered",
        "{detail}"
    );
    assert_eq!(detail["summary"]["agent"], "Kristin Hale");
    assert_eq!(
        detail["events"].as_array().unwrap().len(),
        4,
        "2 ringing, answered, ended"
    );
    let facts = detail["facts"].as_array().unwrap();
    assert_eq!(facts.len(), 3, "{detail}");
    let on = |ext: &str| {
        facts
            .iter()
            .find(|f| f["kind"] == "ringing" && f["extension"] == ext)
            .unwrap()
            .clone()
    };
    assert!(on("2005")["agent_id"].is_string());
    assert_eq!(on("2005")["skip"], Value::Null, "bound: for Zoho");
    assert_eq!(on("2009")["skip"], "unbound", "unbound: nothing for Zoho");

    // Switched off: calls are still recorded, their facts mean no Zoho work; on again resumes.
    let missed = [
        ("action[Scenario][name]", "missed"),
        ("action[Scenario][extension]", "2005"),
    ];
    let (s, _) = app.call("helpdesk/enable", &[("on", "false")]).await;
    assert_eq!(s, 200);
    let (_, conn) = app.call("helpdesk/connection", &[]).await;
    assert_eq!(conn["status"], "Disabled");
    let (s, off_call) = app.call("calls/simulate", &missed).await;
    assert_eq!(s, 200);
    let (_, d) = app
        .call("calls/detail", &[("call_id", off_call.as_str().unwrap())])
        .await;
    let all = |d: &Value, want: Value| {
        d["facts"]
            .as_array()
            .unwrap()
            .iter()
            .all(|f| f["skip"] == want)
    };
    assert!(all(&d, json!("disabled")), "{d}");
    app.call("helpdesk/enable", &[("on", "true")]).await;
    let (_, conn) = app.call("helpdesk/connection", &[]).await;
    assert_eq!(conn["status"], "Connected");
    let (_, on_call) = app.call("calls/simulate", &missed).await;
    let (_, d) = app
        .call("calls/detail", &[("call_id", on_call.as_str().unwrap())])
        .await;
    assert!(all(&d, Value::Null), "{d}");

    // Refusals name the field; a finished call cannot be answered.
    let (_, body) = app
        .call(
            "calls/simulate",
            &[
                ("action[Place][inbound]", "true"),
                ("action[Place][external_number]", "call me"),
                ("action[Place][extensions]", "2005"),
            ],
        )
        .await;
    assert_eq!(
        body,
        json!({"Invalid": [{"field": "external_number", "problem": "NotPhoneNumber"}]})
    );
    let (_, body) = app
        .call(
            "calls/simulate",
            &[
                ("action[Place][inbound]", "true"),
                ("action[Place][external_number]", "5503301"),
                ("action[Place][extensions]", "4999"),
            ],
        )
        .await;
    assert_eq!(
        body,
        json!({"Invalid": [{"field": "extensions", "problem": "NoSuchExtension"}]})
    );
    let (_, body) = app
        .call("calls/simulate", &[("action[HangUp][call_id]", &call_id)])
        .await;
    assert_eq!(
        body,
        json!({"Invalid": [{"field": "call", "problem": "CallEnded"}]})
    );

    // The two missed calls above, found by extension and outcome.
    let (_, log) = app
        .call(
            "calls/log",
            &[
                ("filter[number]", ""),
                ("filter[extension]", "2005"),
                ("filter[outcome]", "Inbound Missed"),
            ],
        )
        .await;
    assert_eq!(log.as_array().unwrap().len(), 2, "{log}");

    // Every call server function refuses anonymous callers.
    let anon = TestApp::browser();
    let calls: &[(&str, &[(&str, &str)])] = &[
        (
            "calls/log",
            &[
                ("filter[number]", ""),
                ("filter[extension]", ""),
                ("filter[outcome]", ""),
            ],
        ),
        ("calls/detail", &[("call_id", &call_id)]),
        ("calls/version", &[]),
        ("calls/simulate", &[("action[HangUp][call_id]", &call_id)]),
        ("calls/webhook", &[]),
        ("calls/webhook/secret", &[]),
        ("helpdesk/enable", &[("on", "false")]),
    ];
    for (f, form) in calls {
        let (s, body) = app.call_with(&anon, f, form).await;
        assert_eq!((s, body), (401, json!("Unauthorized")), "{f}");
    }
}

/// Rings 2005 for `call_id` now (signed, native format); returns the event's time.
async fn ring_now(app: &TestApp, event_id: &str, call_id: &str) -> i64 {
    let t = now_ms();
    let at = time::OffsetDateTime::from_unix_timestamp(t / 1000)
        .unwrap()
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap();
    let (s, _) = app
        .post_signed(&event(event_id, call_id, "ringing", "2005", &at))
        .await;
    assert_eq!(s, 200);
    t
}

#[tokio::test]
async fn a_call_that_never_ends_is_closed_by_the_timeout() {
    let app = TestApp::spawn().await;
    let t = ring_now(&app, "s1", "stale").await;
    let hour = 3_600_000;
    assert_eq!(
        app.engine
            .close_stale_calls(t + hour, 2 * hour)
            .await
            .unwrap(),
        0
    );
    assert_eq!(
        app.engine
            .close_stale_calls(t + 3 * hour, 2 * hour)
            .await
            .unwrap(),
        1
    );
    let call = app.engine.store.call("stale").await.unwrap().unwrap();
    assert!(!call.is_open);
    assert_eq!(call.call_type.as_deref(), Some("Inbound Missed"));
    assert_eq!(
        app.engine
            .close_stale_calls(t + 9 * hour, 2 * hour)
            .await
            .unwrap(),
        0,
        "once"
    );
}

#[tokio::test]
async fn the_housekeeping_closes_a_call_silent_for_four_hours() {
    let app = TestApp::spawn().await;
    let t = ring_now(&app, "h1", "silent").await;
    let four_hours = 4 * 3_600_000;
    // The sweep the server runs every minute, at a clock the test chooses.
    server::housekeeping(&app.engine, &app.sessions, t + four_hours - 60_000).await;
    let call = app.engine.store.call("silent").await.unwrap().unwrap();
    assert!(call.is_open, "a minute short of four hours: still ringing");
    server::housekeeping(&app.engine, &app.sessions, t + four_hours + 1_000).await;
    let call = app.engine.store.call("silent").await.unwrap().unwrap();
    assert!(
        !call.is_open,
        "closed once four hours passed without an event"
    );
    assert_eq!(call.call_type.as_deref(), Some("Inbound Missed"));
}

#[tokio::test]
async fn storage_that_fails_answers_503_stores_nothing_and_the_same_delivery_succeeds_later() {
    let app = TestApp::spawn().await;
    app.sign_in().await;
    let e = event("down1", "c-down", "ringing", "2005", "2026-12-02T08:00:00Z");
    // The events table goes away (a full disk, a broken file: storage refuses the write).
    sqlx::query("ALTER TABLE call_event RENAME TO call_event_away")
        .execute(app.engine.store.pool())
        .await
        .unwrap();
    let (s, body) = app.post_signed(&e).await;
    assert_eq!(
        (s, body),
        (
            503,
            json!({"error": "the events could not be stored; send them again"})
        )
    );
    sqlx::query("ALTER TABLE call_event_away RENAME TO call_event")
        .execute(app.engine.store.pool())
        .await
        .unwrap();
    let (s, _) = app.call("calls/detail", &[("call_id", "c-down")]).await;
    assert_eq!(s, 404, "nothing of the refused delivery was stored");
    // The PBX sends the same delivery again: stored once.
    let (s, body) = app.post_signed(&e).await;
    assert_eq!((s, body), (200, json!({"stored": 1, "duplicates": 0})));
}

/// The integration log is plain HTML: its filters and a call's detail are its address (a
/// button keeps the filters), the calls' table is its live region, and the webhook secret is
/// shown by a form, once.
#[tokio::test]
async fn the_log_page_is_plain_html_with_its_filters_and_detail_in_its_address() {
    let app = TestApp::spawn().await;
    app.sign_in().await;
    crate::support::flows::ring(&app, "5503301", "2005").await;
    let typed = crate::support::flows::ring(&app, "+1 (415) 555-0134", "2006").await;

    const LOG: &str = "/integrations/helpdesk/log";
    let html = app.get_text(LOG).await;
    assert!(
        !html.contains("_bg.wasm") && !html.contains(".js\""),
        "{html}"
    );
    assert!(html.contains(r#"id="calls" data-live="2000""#), "{html}");
    assert!(html.contains("5503301") && html.contains("+1 (415) 555-0134"));

    // Filtered by the extension: its call only, and the filter stays in the field.
    let html = app
        .get_text(&format!("{LOG}?number=&extension=2006&outcome="))
        .await;
    assert!(
        html.contains("+1 (415) 555-0134") && !html.contains("5503301"),
        "{html}"
    );
    assert!(html.contains(r#"id="f-extension" name="extension" type="search" value="2006""#));
    // A call's button opens its detail and keeps the filter.
    assert!(
        html.contains(&format!(r#"name="call" value="{typed}""#)),
        "{html}"
    );
    assert!(
        html.contains(r#"type="hidden" name="extension" value="2006""#),
        "{html}"
    );
    let html = app
        .get_text(&format!("{LOG}?extension=2006&call={typed}"))
        .await;
    assert!(html.contains("Ringing on 2006"), "{html}");
    assert!(html.contains(r#"aria-expanded="true""#), "{html}");
    // Open calls only.
    let html = app.get_text(&format!("{LOG}?outcome=Inbound+Missed")).await;
    assert!(!html.contains("555-0134"), "{html}");

    // The webhook secret: shown once, after its form.
    let secret = app.webhook_secret();
    assert!(!app.get_text(LOG).await.contains(&secret));
    let (s, to) = app.submit(LOG, "calls/webhook/secret", &[]).await;
    assert_eq!((s, to.as_str()), (302, LOG));
    let html = app.get_text(&to).await;
    assert!(html.contains(&format!(r#"value="{secret}""#)), "{html}");
    assert!(!app.get_text(LOG).await.contains(&secret), "shown once");
}

/// The simulator is plain HTML: its form and each call's buttons are forms, and the calls
/// placed from it are the server's (kept in the admin's session, with their state from the
/// intake), joined by the calls in progress placed elsewhere; a refusal keeps what was typed.
#[tokio::test]
async fn the_simulator_page_is_plain_html_and_its_calls_are_the_servers() {
    let app = TestApp::spawn().await;
    app.sign_in().await;
    const SIM: &str = "/pbx/simulator";
    let html = app.get_text(SIM).await;
    assert!(
        !html.contains("_bg.wasm") && !html.contains(".js\""),
        "{html}"
    );
    assert!(html.contains(r#"id="sim-calls""#) && html.contains(r#"data-live="1000""#));
    assert!(html.contains("No call yet."), "{html}");
    // The demo's caller on 2005, Inbound picked.
    assert!(html.contains(r#"value="+8613800138000""#), "{html}");
    assert!(html.contains(r#"value="inbound" checked"#), "{html}");

    // Refused: an outbound call from two extensions. Said beside the field, with what was typed.
    let typed = "0086-138-0013-8000";
    let place = |exts: &'static str| {
        [
            ("direction", "outbound"),
            ("external_number", typed),
            ("extensions", exts),
        ]
    };
    let (s, to) = app
        .submit(SIM, "calls/simulate/form", &place("2005, 2006"))
        .await;
    assert_eq!((s, to.as_str()), (302, SIM));
    let html = app.get_text(&to).await;
    assert!(
        html.contains("An outbound call is placed from one extension."),
        "{html}"
    );
    assert!(html.contains(&format!(r#"value="{typed}""#)), "{html}");
    assert!(html.contains(r#"value="outbound" checked"#), "{html}");
    assert!(html.contains(r#"value="2005, 2006""#), "{html}");
    assert!(
        !app.get_text(SIM).await.contains("one extension"),
        "said once"
    );

    // Placed: the call is listed as typed, ringing; the form keeps its values in the address.
    let (s, to) = app.submit(SIM, "calls/simulate/form", &place("2005")).await;
    assert_eq!(s, 302);
    assert_eq!(
        to,
        "/pbx/simulator?direction=outbound&external_number=0086-138-0013-8000&extensions=2005"
    );
    let html = app.get_text(&to).await;
    assert!(html.contains(&format!("Outbound · {typed}")), "{html}");
    assert!(html.contains("Ringing on 2005"), "{html}");
    assert!(html.contains(r#"value="outbound" checked"#), "{html}");
    let (_, calls) = app.call("calls/simulator", &[]).await;
    let placed = calls[0]["call_id"].as_str().unwrap().to_string();
    assert_eq!(calls.as_array().unwrap().len(), 1, "{calls}");

    // A call ringing that was placed elsewhere joins the list while it is in progress.
    ring_now(&app, "elsewhere-1", "elsewhere").await;
    let (_, calls) = app.call("calls/simulator", &[]).await;
    assert_eq!(calls[0]["call_id"], "elsewhere", "{calls}");
    assert_eq!(calls[1]["call_id"], placed.as_str(), "{calls}");

    // Answered and hung up on the page: the buttons post the call's actions, and the page
    // comes back with the form's values still in its address.
    let answer = [
        ("action[Answer][call_id]", placed.as_str()),
        ("action[Answer][extension]", "2005"),
    ];
    let (s, back) = app.submit(&to, "calls/simulate", &answer).await;
    assert_eq!((s, back.as_str()), (302, to.as_str()));
    assert!(app.get_text(&back).await.contains("Talking on 2005"));
    let hang_up = [("action[HangUp][call_id]", placed.as_str())];
    app.submit(&to, "calls/simulate", &hang_up).await;
    let html = app.get_text(&to).await;
    assert!(
        html.contains("Ended") && !html.contains("Talking on"),
        "{html}"
    );
    // Once more: the call has ended, said above the calls.
    app.submit(&to, "calls/simulate", &hang_up).await;
    assert!(app
        .get_text(&to)
        .await
        .contains("This call has already ended."));

    // Ended elsewhere, the other call leaves the list; the one placed here stays, ended.
    let at = time::OffsetDateTime::now_utc()
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap();
    let mut end = event("elsewhere-2", "elsewhere", "ended", "2005", &at);
    end["result"] = "no_answer".into();
    assert_eq!(app.post_signed(&end).await.0, 200);
    let (_, calls) = app.call("calls/simulator", &[]).await;
    assert_eq!(calls.as_array().unwrap().len(), 1, "{calls}");
    assert_eq!(calls[0]["ended"], true, "{calls}");

    // A scenario runs on the extensions typed, and says which call it sent.
    let (s, to) = app
        .submit(
            SIM,
            "calls/simulate/form",
            &[
                ("direction", "inbound"),
                ("external_number", "5503301"),
                ("extensions", "2006"),
                ("scenario", "missed"),
            ],
        )
        .await;
    assert_eq!(s, 302, "{to}");
    let html = app.get_text(&to).await;
    assert!(html.contains(r#"class="note ok""#), "{html}");
    let (_, log) = app
        .call(
            "calls/log",
            &[
                ("filter[number]", ""),
                ("filter[extension]", "2006"),
                ("filter[outcome]", "Inbound Missed"),
            ],
        )
        .await;
    let sent = log[0]["call_id"].as_str().unwrap();
    assert!(html.contains(&format!("Call {sent} sent.")), "{html}");
}
